"""TLS and credentials of the Kubernetes API face: a serving certificate from the cluster's CA,
an admin client certificate, a bearer token, and the authenticator that maps them to identities.

The serving certificate is for ``127.0.0.1`` / ``localhost`` and signed by the cluster's own CA
(``/etc/kubernetes/pki/ca.crt`` and ``ca.key`` on the control-plane machine, as kubeadm wrote
them), so a kubeconfig carrying that CA verifies it like any kubeadm cluster. The certificates of
the simulated cluster are dated by the *simulated* clock; the ones made here are dated by the wall
clock, because real TLS stacks check them against it. They are made with their own random
generator: serving never draws from the world's seeded RNG.

Authentication follows kube-apiserver's authenticators:

- **x509 client certificates** verified against the CA: the user is the subject CN, the groups the
  O fields (``kubernetes-admin`` / ``kubeadm:cluster-admins``, ``system:node:worker-1`` / ``system:nodes``);
- **bearer tokens**: the face's own token (the cluster admin), a bootstrap token ``<id>.<secret>``
  checked against its Secret in kube-system, or a service-account token a kubelet mounted in a pod;
- nothing: ``system:anonymous`` (which the authorizer then refuses, as a real cluster does).
"""

from __future__ import annotations

import datetime as _dt
import os
import random
import secrets
import ssl
from dataclasses import dataclass
from typing import Any

from ..cluster import kubeconfig as _kubeconfig
from ..cluster import pki
from ..cluster.apiserver.auth import ADMIN, ANONYMOUS, UserInfo, user_info

__all__ = ["Credentials", "make_credentials", "identity_from_peercert", "authenticate"]

_PKI = "/etc/kubernetes/pki"


@dataclass
class Credentials:
    """Everything the face needs for TLS and for writing a kubeconfig."""

    ca_pem: bytes
    server_cert_pem: bytes
    server_key_pem: bytes
    client_cert_pem: bytes
    client_key_pem: bytes
    token: str

    def ssl_context(self, directory: str) -> ssl.SSLContext:
        """A server context (TLS 1.2+) asking for, but not requiring, client certificates from the CA."""
        cert = os.path.join(directory, "apiserver.crt")
        key = os.path.join(directory, "apiserver.key")
        _write_private(cert, self.server_cert_pem)
        _write_private(key, self.server_key_pem)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert, key)
        ctx.load_verify_locations(cadata=self.ca_pem.decode())
        ctx.verify_mode = ssl.CERT_OPTIONAL
        return ctx

    def kubeconfig(self, server: str) -> str:
        """An admin kubeconfig for ``server`` (the shape of kubeadm's ``admin.conf``)."""
        return _kubeconfig.build("kubernetes", server, self.ca_pem, "kubernetes-admin",
                                 client_cert_pem=self.client_cert_pem, client_key_pem=self.client_key_pem)


def _write_private(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _cluster_ca(cluster: Any) -> pki.CertKey | None:
    """The cluster CA (certificate and key) from the control-plane machine, if there is one."""
    machine = getattr(cluster, "machine", None)
    if machine is None:
        return None
    try:
        cert = machine.fs.read_text(f"{_PKI}/ca.crt")
        key = machine.fs.read_text(f"{_PKI}/ca.key")
    except Exception:  # noqa: BLE001 - no kubeadm PKI on this machine
        return None
    return pki.CertKey(pki.load_cert(cert), pki.load_key(key))


def make_credentials(cluster: Any, now: _dt.datetime | None = None) -> Credentials:
    """Serving and admin client certificates signed by the cluster's CA (a fresh CA without one).

    Call with the world's lock held (it reads the master's filesystem).
    """
    now = now or _dt.datetime.now(_dt.timezone.utc)
    rng = random.Random(secrets.randbits(64))  # never the world's RNG
    ca = _cluster_ca(cluster)
    if ca is None or not ca.valid_at(now):
        ca = pki.new_ca(rng, now)
    server = pki.new_cert(ca, rng, now, "kube-apiserver", dns_names=["localhost", "kubernetes",
                                                                     "kubernetes.default",
                                                                     "kubernetes.default.svc"],
                          ips=["127.0.0.1", "::1"], server=True)
    client = pki.new_cert(ca, rng, now, "kubernetes-admin", organizations=["kubeadm:cluster-admins"], client=True)
    return Credentials(ca.cert_pem, server.cert_pem, server.key_pem, client.cert_pem, client.key_pem,
                       secrets.token_urlsafe(32))


def identity_from_peercert(peercert: Any) -> UserInfo | None:
    """The user of a verified client certificate (``ssl.getpeercert()`` form), or None."""
    if not peercert:
        return None
    cn, orgs = "", []
    for rdn in peercert.get("subject") or ():
        for key, value in rdn:
            if key == "commonName":
                cn = value
            elif key == "organizationName":
                orgs.append(value)
    if not cn:
        return None
    return UserInfo(cn, tuple(orgs) + ("system:authenticated",))


class Unauthorized(Exception):
    """The credentials are not valid (401)."""


def authenticate(token_header: str | None, peercert: Any, face_token: str, apiserver: Any, now: Any) -> UserInfo:
    """Who is asking: a bearer token first, then the client certificate, else anonymous.

    Call with the world's lock held (bootstrap tokens are checked against their Secret).

    Raises:
        Unauthorized: a bearer token that matches nothing.
    """
    if token_header:
        scheme, _, token = token_header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized()
        if secrets.compare_digest(token, face_token):
            return ADMIN
        if token.count(".") == 1 and apiserver is not None:
            tid = _kubeconfig.check_bootstrap_token(apiserver, token, now)
            if tid is not None:
                return user_info(f"system:bootstrap:{tid}")
        sa = _service_account(token)
        if sa is not None:
            return user_info(sa)
        raise Unauthorized()
    user = identity_from_peercert(peercert)
    return user if user is not None else ANONYMOUS


def _service_account(token: str) -> str | None:
    """The identity of a token the kubelet mounted in a pod (the kubelet would have made the same token)."""
    import base64
    import json

    from ..cluster.kubelet.kubelet import _sa_token

    parts = token.split(".")
    if len(parts) != 3:
        return None
    body = parts[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        ref = claims["kubernetes.io"]
        namespace, name = ref["namespace"], ref["serviceaccount"]["name"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(namespace, str) or not isinstance(name, str) or _sa_token(namespace, name) != token:
        return None
    return f"system:serviceaccount:{namespace}:{name}"
