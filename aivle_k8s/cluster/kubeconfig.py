"""Kubeconfig files: real YAML with embedded base64 PEM, and the API client they stand for.

A client's identity comes from its credentials, as the API server's x509 and
bootstrap-token authenticators see them: the client certificate's subject CN
is the user and its O fields the groups; a ``token: <id>.<secret>`` is the
bootstrap identity ``system:bootstrap:<id>`` once checked against Secret
``bootstrap-token-<id>`` in kube-system.

>>> text = build("kubernetes", "https://10.0.0.10:6443", b"CA", "kubernetes-admin", token="abcdef.0123456789abcdef")
>>> kc = parse(text)
>>> kc.server, kc.ca_pem, kc.token, kc.current_context
('https://10.0.0.10:6443', b'CA', 'abcdef.0123456789abcdef', 'kubernetes-admin@kubernetes')
"""

from __future__ import annotations

import base64
import datetime as _dt
from dataclasses import dataclass
from typing import Any

import yaml

from ..sim.errors import InvalidInput
from .apiserver.errors import NotFoundError, StatusError

__all__ = ["Kubeconfig", "build", "parse", "identity", "client_for", "UnauthorizedError", "check_bootstrap_token"]


class UnauthorizedError(StatusError):
    """The credentials are not valid (401): kubectl's ``You must be logged in to the server (Unauthorized)``."""

    code, reason = 401, "Unauthorized"

    def __init__(self, message: str = "Unauthorized", **context: Any):
        super().__init__(message, **context)


def _b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def build(cluster_name: str, server: str, ca_pem: bytes | None, user: str, *, client_cert_pem: bytes | None = None,
          client_key_pem: bytes | None = None, token: str | None = None, context: str | None = None) -> str:
    """The kubeconfig YAML kubeadm writes (``admin.conf``, ``kubelet.conf``, ``bootstrap-kubelet.conf`` ...)."""
    ctx = context or f"{user}@{cluster_name}"
    cluster: dict[str, Any] = {}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = _b64(ca_pem)
    cluster["server"] = server
    creds: dict[str, Any] = {}
    if client_cert_pem is not None:
        creds["client-certificate-data"] = _b64(client_cert_pem)
    if client_key_pem is not None:
        creds["client-key-data"] = _b64(client_key_pem)
    if token is not None:
        creds["token"] = token
    doc = {
        "apiVersion": "v1",
        "clusters": [{"cluster": cluster, "name": cluster_name}],
        "contexts": [{"context": {"cluster": cluster_name, "user": user}, "name": ctx}],
        "current-context": ctx,
        "kind": "Config",
        "preferences": {},
        "users": [{"name": user, "user": creds}],
    }
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


@dataclass
class Kubeconfig:
    """The parts of a kubeconfig the current context selects."""

    server: str
    ca_pem: bytes | None
    user_name: str
    cert_pem: bytes | None
    key_pem: bytes | None
    token: str | None
    cluster_name: str
    current_context: str
    doc: dict


def _by_name(items: Any, name: str, what: str) -> dict:
    for item in items or []:
        if isinstance(item, dict) and item.get("name") == name:
            return item
    raise InvalidInput(f'invalid configuration: {what} "{name}" not found')


def _unb64(value: Any) -> bytes | None:
    if value is None:
        return None
    try:
        return base64.b64decode(str(value), validate=False)
    except ValueError:
        raise InvalidInput("error loading config: illegal base64 data in kubeconfig") from None


def _pem_block(data: bytes, kind: str) -> bytes | None:
    """The first PEM block whose type ends with ``kind`` (``CERTIFICATE``, ``PRIVATE KEY``)."""
    import re

    m = re.search(rb"-----BEGIN ([A-Z ]*" + kind.encode() + rb")-----.*?-----END \1-----\n?", data, re.S)
    return m.group(0) if m else None


def _read_ref(fs: Any, path: str, what: str, user: str, kind: str) -> bytes | None:
    """A credential a kubeconfig names by path (``client-certificate: /var/lib/kubelet/pki/...``)."""
    if fs is None:
        return None
    from ..sim.errors import AivleError

    try:
        data = fs.read(path)
    except AivleError:
        raise InvalidInput(f"unable to read {what} {path} for {user} due to open {path}: no such file or "
                           f"directory") from None
    return _pem_block(data, kind) or data


def parse(text: str | bytes, fs: Any = None) -> Kubeconfig:
    """Read a kubeconfig; raises InvalidInput with client-go's kind of words when it is unusable.

    Credentials may be inline (``client-certificate-data``) or files (``client-certificate:
    /var/lib/kubelet/pki/kubelet-client-current.pem``, as a bootstrapped kubelet writes its
    ``kubelet.conf``): files are read from ``fs`` when given."""
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise InvalidInput(f"error loading config file: {e}") from None
    if not isinstance(doc, dict):
        raise InvalidInput("error loading config file: couldn't get version/kind; json parse error")
    ctx_name = doc.get("current-context") or ""
    if not ctx_name:
        raise InvalidInput("invalid configuration: no configuration has been provided, try setting "
                           "KUBERNETES_MASTER environment variable")
    ctx = _by_name(doc.get("contexts"), ctx_name, "context").get("context") or {}
    cluster = _by_name(doc.get("clusters"), ctx.get("cluster", ""), "cluster").get("cluster") or {}
    user = _by_name(doc.get("users"), ctx.get("user", ""), "user").get("user") or {}
    user_name = str(ctx.get("user", ""))
    ca_pem = _unb64(cluster.get("certificate-authority-data"))
    if ca_pem is None and cluster.get("certificate-authority"):
        ca_pem = _read_ref(fs, str(cluster["certificate-authority"]), "certificate-authority", user_name,
                           "CERTIFICATE")
    cert_pem = _unb64(user.get("client-certificate-data"))
    if cert_pem is None and user.get("client-certificate"):
        cert_pem = _read_ref(fs, str(user["client-certificate"]), "client-cert", user_name, "CERTIFICATE")
    key_pem = _unb64(user.get("client-key-data"))
    if key_pem is None and user.get("client-key"):
        key_pem = _read_ref(fs, str(user["client-key"]), "client-key", user_name, "PRIVATE KEY")
    return Kubeconfig(server=str(cluster.get("server", "")), ca_pem=ca_pem,
                      user_name=user_name, cert_pem=cert_pem,
                      key_pem=key_pem, token=user.get("token"),
                      cluster_name=str(ctx.get("cluster", "")), current_context=ctx_name, doc=doc)


def check_bootstrap_token(apiserver: Any, token: str, now: _dt.datetime | None = None) -> str | None:
    """The token id if ``token`` matches a live bootstrap-token Secret (usage-bootstrap-authentication), else None."""
    from .apiserver import SYSTEM_USER

    tid, _, secret = token.partition(".")
    try:
        obj = apiserver.get("secrets", f"bootstrap-token-{tid}", "kube-system", user=SYSTEM_USER)
    except NotFoundError:
        return None
    data = {k: base64.b64decode(v).decode() for k, v in (obj.get("data") or {}).items()}
    if obj.get("type") != "bootstrap.kubernetes.io/token" or data.get("token-id") != tid or \
            data.get("token-secret") != secret or data.get("usage-bootstrap-authentication") != "true":
        return None
    exp = data.get("expiration")
    if exp and now is not None:
        when = _dt.datetime.strptime(exp.replace("Z", "+00:00")[:19], "%Y-%m-%dT%H:%M:%S").replace(
            tzinfo=_dt.timezone.utc)
        if now >= when:
            return None
    return tid


def identity(kc: Kubeconfig, apiserver: Any = None, now: _dt.datetime | None = None) -> Any:
    """The :class:`~.apiserver.UserInfo` the API server authenticates these credentials as.

    Raises:
        UnauthorizedError: an unknown or expired bootstrap token, or no credentials at all.
    """
    from .apiserver import UserInfo
    from .pki import CertKey, load_cert

    if kc.cert_pem:
        ck = CertKey(load_cert(kc.cert_pem), None)
        groups = tuple(ck.organizations) + ("system:authenticated",)
        if kc.ca_pem:
            ca = load_cert(kc.ca_pem)
            if not ck.verify_signed_by(ca):
                raise UnauthorizedError()
        return UserInfo(ck.subject_cn, groups)
    if kc.token:
        tid = kc.token.partition(".")[0]
        if apiserver is not None and check_bootstrap_token(apiserver, kc.token, now) is None:
            raise UnauthorizedError()
        return UserInfo(f"system:bootstrap:{tid}", ("system:bootstrappers",
                                                    "system:bootstrappers:kubeadm:default-node-token",
                                                    "system:authenticated"))
    return UserInfo("system:anonymous", ("system:unauthenticated",))


def client_for(world: Any, src_netns: Any, kubeconfig_text: str | bytes, fs: Any = None) -> Any:
    """An :class:`~.client.APIClient` from ``src_netns`` to the kubeconfig's server, as its user.

    A bootstrap token is checked against its Secret through the API server (so the
    server must be reachable); certificates are checked against the kubeconfig's CA.
    Credential files the kubeconfig names are read from ``fs`` (by default the
    filesystem of the machine whose network ``src_netns`` is).
    """
    from .apiserver import SYSTEM_USER
    from .client import APIClient

    if fs is None:
        owner = next((m for m in getattr(world, "machines", {}).values() if getattr(m, "netns", None) is src_netns),
                     None)
        fs = owner.fs if owner is not None else None
    kc = parse(kubeconfig_text, fs=fs)
    if not kc.server:
        raise InvalidInput("invalid configuration: no server found for cluster")
    apiserver = None
    if kc.token and not kc.cert_pem:
        apiserver = APIClient(world.net, src_netns, kc.server, SYSTEM_USER).apiserver()
    user = identity(kc, apiserver, world.datetime() if apiserver is not None else None)
    return APIClient(world.net, src_netns, kc.server, user)
