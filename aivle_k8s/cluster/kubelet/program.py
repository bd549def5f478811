"""The ``kubelet`` program (the systemd unit's ExecStart): flags and files -> a running :class:`Kubelet`.

Reads what kubeadm writes:

* ``--config=/var/lib/kubelet/config.yaml`` (KubeletConfiguration YAML);
* ``--kubeconfig=/etc/kubernetes/kubelet.conf`` (the node's credentials; the certificate's CN is
  ``system:node:<name>``), else ``--bootstrap-kubeconfig`` (TLS bootstrap, see :func:`tls_bootstrap`:
  as the bootstrap token's identity the kubelet sends a CertificateSigningRequest for its client
  certificate, the controller-manager's ``csrapproving`` controller approves it and ``csrsigning``
  signs it with the cluster CA; the kubelet keeps it in ``/var/lib/kubelet/pki`` and writes
  ``kubelet.conf`` pointing at it, which ``kubeadm join`` waits for);
* ``/var/lib/kubelet/kubeadm-flags.env`` (``KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=...
  --node-ip=..."``) and ``/etc/default/kubelet`` (``KUBELET_EXTRA_ARGS``), as the systemd drop-in does.

Without its config file it exits 1 at once, as before ``kubeadm init`` (systemd restarts it every 10 s).
"""

from __future__ import annotations

import base64
import shlex
from typing import Any

import yaml

from ...linux.kernel import register_program
from ...sim.errors import AivleError

__all__ = ["kubelet_program", "parse_kubeconfig", "klog", "tls_bootstrap", "node_csr", "KUBELET_CLIENT_SIGNER",
           "KUBELET_PKI"]

#: the signer of kubelet client certificates (approved by ``csrapproving``, signed by ``csrsigning``)
KUBELET_CLIENT_SIGNER = "kubernetes.io/kube-apiserver-client-kubelet"
#: where the kubelet keeps its rotated client certificates (``kubelet-client-current.pem``)
KUBELET_PKI = "/var/lib/kubelet/pki"


def klog(proc: Any, level: str, where: str, text: str) -> None:
    """One klog line: ``E0303 09:00:00.000000    1234 run.go:74] ...``."""
    world = getattr(proc.kernel.owner, "world", None)
    stamp = world.datetime().strftime("%m%d %H:%M:%S.%f") if world is not None else "0101 00:00:00.000000"
    proc.error(f"{level}{stamp} {proc.pid:>8} {where}] {text}\n")


def _flags(argv: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--"):
            if "=" in a:
                k, v = a[2:].split("=", 1)
            elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                k, v = a[2:], argv[i + 1]
                i += 1
            else:
                k, v = a[2:], "true"
            out[k] = v
        i += 1
    return out


def _env_file_args(fs: Any, path: str, var: str) -> list[str]:
    try:
        if not fs.exists(path):
            return []
        for line in fs.read_text(path).splitlines():
            line = line.strip()
            if line.startswith(f"{var}="):
                value = line.split("=", 1)[1]
                return shlex.split(value.strip().strip('"').strip("'"))
    except (AivleError, ValueError):
        return []
    return []


def parse_kubeconfig(text: str, fs: Any = None) -> tuple[str, str]:
    """``(server, user)`` of a kubeconfig: the user is the client certificate's CN (inline, or the
    ``client-certificate`` file read from ``fs``), or the bootstrap token's ``system:bootstrap:<id>``."""
    cfg = yaml.safe_load(text) or {}
    ctx_name = cfg.get("current-context")
    contexts = {c.get("name"): c.get("context") or {} for c in cfg.get("contexts") or []}
    ctx = contexts.get(ctx_name) or (next(iter(contexts.values())) if contexts else {})
    clusters = {c.get("name"): c.get("cluster") or {} for c in cfg.get("clusters") or []}
    users = {u.get("name"): u.get("user") or {} for u in cfg.get("users") or []}
    cluster = clusters.get(ctx.get("cluster")) or (next(iter(clusters.values())) if clusters else {})
    user = users.get(ctx.get("user")) or (next(iter(users.values())) if users else {})
    server = cluster.get("server", "")
    name = ""
    if user.get("token"):
        name = f"system:bootstrap:{str(user['token']).split('.')[0]}"
    elif user.get("client-certificate-data") or (user.get("client-certificate") and fs is not None):
        from cryptography import x509
        from cryptography.x509.oid import NameOID

        if user.get("client-certificate-data"):
            pem = base64.b64decode(user["client-certificate-data"])
        else:
            from ..kubeconfig import _pem_block

            data = fs.read(str(user["client-certificate"]))
            pem = _pem_block(data, "CERTIFICATE") or data
        cert = x509.load_pem_x509_certificate(pem)
        cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        name = cns[0].value if cns else ""
    return server, name


def node_csr(key: Any, node: str) -> bytes:
    """The PEM CSR a kubelet sends for its client certificate (CN ``system:node:<name>``, O ``system:nodes``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:nodes"),
                         x509.NameAttribute(NameOID.COMMON_NAME, f"system:node:{node}")])
    req = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return req.public_bytes(serialization.Encoding.PEM)


def _kubelet_conf(server: str, ca_pem: bytes | None, cert_path: str) -> str:
    """The ``kubelet.conf`` a bootstrapped kubelet writes: its credentials are the rotatable file."""
    cluster: dict = {}
    if ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    cluster["server"] = server
    doc = {"apiVersion": "v1", "clusters": [{"cluster": cluster, "name": "default-cluster"}],
           "contexts": [{"context": {"cluster": "default-cluster", "namespace": "default", "user": "default-auth"},
                         "name": "default-context"}],
           "current-context": "default-context", "kind": "Config", "preferences": {},
           "users": [{"name": "default-auth", "user": {"client-certificate": cert_path, "client-key": cert_path}}]}
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


def tls_bootstrap(proc: Any, bootstrap_path: str, kubeconfig_path: str, node_name: str, user_agent: str = ""):
    """TLS bootstrap (a generator run by the kubelet process; returns an error text, or None when done).

    As the bootstrap token's identity (``system:bootstrap:<id>``, group ``system:bootstrappers``) the
    kubelet sends a CertificateSigningRequest for ``system:node:<name>`` to the signer
    ``kubernetes.io/kube-apiserver-client-kubelet`` and watches it: the controller-manager's
    ``csrapproving`` controller approves it and ``csrsigning`` signs it with the cluster CA. The
    certificate and its key go to ``/var/lib/kubelet/pki/kubelet-client-<time>.pem`` (with the
    ``kubelet-client-current.pem`` link) and ``kubeconfig_path`` is written pointing at them.
    While the API server cannot be reached the kubelet tries again every second.
    """
    from ...sim.clock import any_of
    from ...sim.errors import NetworkError
    from .. import kubeconfig as kcfg
    from .. import pki

    machine = proc.kernel.owner
    world = machine.world
    fs = proc.fs
    loop = world.loop
    text = fs.read_text(bootstrap_path)
    try:
        boot = kcfg.parse(text, fs=fs)
    except AivleError as e:
        return f"failed to run Kubelet: unable to load bootstrap kubeconfig: {e}"
    klog(proc, "I", "bootstrap.go:101", '"Using bootstrap kubeconfig to generate TLS client cert, key and '
                                        'kubeconfig file"')
    key = pki.new_key(world.rng)
    pki._serial(world.rng)  # (kubeadm once signed the certificate itself here: every later draw stays the same)
    request = {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
               "metadata": {"generateName": "csr-"},
               "spec": {"request": base64.b64encode(node_csr(key, node_name)).decode(),
                        "signerName": KUBELET_CLIENT_SIGNER, "usages": ["digital signature", "client auth"]}}
    client = None
    name = None
    watch = None
    changed = loop.event()
    approved_seen = False

    def on_event(event: dict) -> None:
        if not changed.triggered:
            changed.succeed(event)

    try:
        while True:
            csr: dict = {}
            try:
                if client is None:
                    client = kcfg.client_for(world, machine.netns, text, fs=fs)
                    if user_agent:
                        client = client.with_user_agent(user_agent)
                if name is None:
                    name = client.create(request)["metadata"]["name"]
                    watch = client.watch("certificatesigningrequests", callback=on_event,
                                         field_selector=f"metadata.name={name}")
                csr = client.get("certificatesigningrequests", name)
            except kcfg.UnauthorizedError:
                return ("failed to run Kubelet: cannot create certificate signing request: Unauthorized")
            except (AivleError, NetworkError) as e:
                klog(proc, "E", "bootstrap.go:265", f'"Failed while requesting a signed certificate from the control '
                                                    f'plane" err="cannot create certificate signing request: {e}"')
            status = csr.get("status") or {}
            conds = {c.get("type"): c for c in status.get("conditions") or []}
            if "Denied" in conds or "Failed" in conds:
                why = (conds.get("Denied") or conds.get("Failed") or {}).get("message", "")
                return f"failed to run Kubelet: certificate signing request {name} is denied, reason: {why}"
            if "Approved" in conds and not approved_seen and not status.get("certificate"):
                approved_seen = True
                klog(proc, "I", "csr.go:261", f"certificate signing request {name} is approved, waiting to be issued")
            if status.get("certificate"):
                klog(proc, "I", "csr.go:257", f"certificate signing request {name} is issued")
                cert_pem = base64.b64decode(status["certificate"])
                break
            if changed.triggered:
                changed = loop.event()
            yield any_of(loop, [changed, proc.sleep(1.0)])
    finally:
        if watch is not None:
            try:
                watch.stop()
            except Exception:  # noqa: BLE001 - the connection is gone anyway
                pass
    stamp = world.datetime().strftime("%Y-%m-%d-%H-%M-%S")
    path = f"{KUBELET_PKI}/kubelet-client-{stamp}.pem"
    current = f"{KUBELET_PKI}/kubelet-client-current.pem"
    if not fs.exists(KUBELET_PKI):
        fs.makedirs(KUBELET_PKI)
    fs.write(path, cert_pem + pki._pem_key(key), mode=0o600)
    if fs.lexists(current):
        fs.remove(current)
    fs.symlink(path, current)
    fs.write(kubeconfig_path, _kubelet_conf(boot.server, boot.ca_pem, current), mode=0o600)
    return None


@register_program("kubelet")
def kubelet_program(proc):
    from ..client import APIClient, user_agent
    from .kubelet import DEFAULT_CONFIG, Kubelet, KubeletError, runtime_for

    machine = proc.kernel.owner
    fs = proc.fs
    argv = list(proc.argv[1:])
    if "--version" in argv:
        from .status import kubelet_version

        proc.write(f"Kubernetes {kubelet_version(machine)}\n")
        return 0
    argv += _env_file_args(fs, "/var/lib/kubelet/kubeadm-flags.env", "KUBELET_KUBEADM_ARGS")
    argv += _env_file_args(fs, "/etc/default/kubelet", "KUBELET_EXTRA_ARGS")
    flags = _flags(argv)

    def fail(err: str):
        klog(proc, "E", "run.go:74", f'"command failed" err="{err}"')
        return 1

    config_path = flags.get("config", "")
    config: dict = {}
    if config_path:
        if not fs.exists(config_path):
            return fail(f"failed to load kubelet config file, path: {config_path}, error: failed to load Kubelet "
                        f"config file {config_path}, error failed to read kubelet config file \\\"{config_path}\\\", "
                        f"error: open {config_path}: no such file or directory")
        try:
            config = yaml.safe_load(fs.read_text(config_path)) or {}
        except (yaml.YAMLError, AivleError) as e:
            return fail(f"failed to load kubelet config file, path: {config_path}, error: {e}")
    if "container-runtime-endpoint" in flags:
        config["containerRuntimeEndpoint"] = flags["container-runtime-endpoint"]
    if flags.get("fail-swap-on") == "false":
        config["failSwapOn"] = False
    config = {**DEFAULT_CONFIG, **config}
    node_name = flags.get("hostname-override") or machine.hostname
    kubeconfig = flags.get("kubeconfig", "")
    bootstrap = flags.get("bootstrap-kubeconfig", "")
    if (kubeconfig or bootstrap) and not (kubeconfig and fs.exists(kubeconfig)) and \
            not (bootstrap and fs.exists(bootstrap)):
        return fail(f"failed to run Kubelet: unable to load bootstrap kubeconfig: stat {bootstrap or kubeconfig}: "
                    f"no such file or directory")
    endpoint = config.get("containerRuntimeEndpoint") or DEFAULT_CONFIG["containerRuntimeEndpoint"]
    sock = endpoint.split("://", 1)[-1]
    if not fs.exists(sock):
        return fail(f'failed to run Kubelet: validate service connection: validate CRI v1 runtime API for endpoint '
                    f'\\"{endpoint}\\": rpc error: code = Unavailable desc = connection error: desc = \\"transport: '
                    f'Error while dialing: dial unix {sock}: connect: no such file or directory\\"')
    from .status import kubelet_version

    agent = user_agent("kubelet", kubelet_version(machine))
    if bootstrap and fs.exists(bootstrap) and not (kubeconfig and fs.exists(kubeconfig)):
        error = yield from tls_bootstrap(proc, bootstrap, kubeconfig or "/etc/kubernetes/kubelet.conf", node_name,
                                         agent)
        if error:
            return fail(error)
        kubeconfig = kubeconfig or "/etc/kubernetes/kubelet.conf"
    server, user = "", ""
    if kubeconfig and fs.exists(kubeconfig):
        try:
            server, user = parse_kubeconfig(fs.read_text(kubeconfig), fs)
        except (AivleError, ValueError) as e:
            return fail(f"failed to run Kubelet: invalid kubeconfig: {e}")
    if user.startswith("system:node:"):
        node_name = user[len("system:node:"):]
    labels = {}
    for item in filter(None, flags.get("node-labels", "").split(",")):
        k, _, v = item.partition("=")
        labels[k] = v
    taints = []
    for item in filter(None, flags.get("register-with-taints", "").split(",")):
        kv, _, effect = item.partition(":")
        k, _, v = kv.partition("=")
        taints.append({"key": k, **({"value": v} if v else {}), "effect": effect})
    client = APIClient(machine.world.net, machine.netns, server or "https://127.0.0.1:6443", user or
                       f"system:node:{node_name}").with_user_agent(agent)
    kubelet = Kubelet(machine, client, config=config, runtime=runtime_for(machine, endpoint), node_name=node_name,
                      node_ip=flags.get("node-ip") or None, node_labels=labels, register_with_taints=taints)
    try:
        kubelet.start()
    except KubeletError as e:
        return fail(e.message)
    machine.extensions["kubelet"] = kubelet
    klog(proc, "I", "server.go:484", f'"Kubelet version" kubeletVersion="{kubelet_version(machine)}"')

    def shutdown(_sig: int) -> None:
        kubelet.stop()
        proc.exit(0)

    proc.on_signal("TERM", shutdown)
    proc.on_signal("INT", shutdown)
    try:
        yield proc.forever()
    finally:
        kubelet.stop()
        if machine.extensions.get("kubelet") is kubelet:
            del machine.extensions["kubelet"]
