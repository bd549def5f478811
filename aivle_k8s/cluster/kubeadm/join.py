"""``kubeadm join`` (discovery with a bootstrap token and a pinned CA, TLS bootstrap) and ``kubeadm reset``."""

from __future__ import annotations

import base64
from typing import Any

import yaml

from ...sim.errors import AivleError, FsError, NetworkError
from .. import kubeconfig as kcfg
from .. import pki
from ..apiserver.errors import NotFoundError
from .config import Config
from .errors import DiscoveryError, KubeadmError, PreflightError
from .init import K, STATIC_PODS_KEY, Out, ensure_images, start_kubelet, write_file
from .preflight import run_checks, split_ignored
from .tokens import TOKEN_RE, jws_verify

__all__ = ["run_join", "JoinResult", "run_reset"]


class JoinResult:
    def __init__(self, node: str, output: str):
        self.node = node
        self.output = output

    def __repr__(self) -> str:
        return self.output


def _discover(machine: Any, endpoint: str, token: str, hashes: list[str], skip_ca_verification: bool) -> str:
    """Fetch and verify cluster-info; returns its kubeconfig (CA + server)."""
    from ..apiserver import ANONYMOUS
    from ..client import APIClient

    tid = token.split(".", 1)[0]
    url = f"https://{endpoint}/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s"
    client = APIClient(machine.world.net, machine.netns, f"https://{endpoint}", ANONYMOUS).with_user_agent(
        _user_agent(machine))
    host, _, port = endpoint.rpartition(":")
    try:
        cm = client.get("configmaps", "cluster-info", "kube-public")
    except NetworkError as e:
        why = "i/o timeout" if getattr(e, "reason", "") == "timeout" else "connect: connection refused"
        if getattr(e, "reason", "") == "resolve":
            why = f"lookup {host}: no such host"
        raise DiscoveryError(f'couldn\'t validate the identity of the API Server: Get "{url}": dial tcp {endpoint}: '
                             f'{why}') from None
    except NotFoundError:
        raise DiscoveryError('couldn\'t validate the identity of the API Server: configmaps "cluster-info" not found')\
            from None
    data = cm.get("data") or {}
    content = data.get("kubeconfig", "")
    sig = data.get(f"jws-kubeconfig-{tid}")
    if sig is None:
        raise DiscoveryError(f'couldn\'t validate the identity of the API Server: could not find a JWS signature in the '
                             f'cluster-info ConfigMap for token ID "{tid}"')
    if not jws_verify(sig, token, content):
        raise DiscoveryError("couldn't validate the identity of the API Server: failed to verify JWS signature of "
                             "received cluster info object, can't trust this API Server")
    kc = kcfg.parse(content.replace('current-context: ""', "current-context: x").replace(
        "contexts: null", "contexts:\n- name: x\n  context:\n    cluster: \"\"\n    user: u").replace(
        "users: null", "users:\n- name: u\n  user: {}"))
    if not skip_ca_verification:
        actual = pki.spki_sha256(kc.ca_pem)
        if actual not in [h.lower() for h in hashes]:
            raise DiscoveryError(f'cluster CA found in cluster-info ConfigMap is invalid: none of the public keys '
                                 f'"{actual}" are pinned')
    return content


#: how long ``kubeadm join`` waits for the kubelet's TLS bootstrap (``kubelet.conf`` to appear)
TLS_BOOTSTRAP_TIMEOUT = 240.0


def _user_agent(machine: Any) -> str:
    """``kubeadm/v1.30.8 (linux/amd64) kubernetes/<commit>``: the User-Agent kubeadm's clients send."""
    from ..client import user_agent
    from .config import DEFAULT_VERSION

    raw = (getattr(machine, "packages", {}) or {}).get("kubeadm")
    return user_agent("kubeadm", "v" + raw.split("-")[0] if raw else DEFAULT_VERSION)


def run_join(proc: Any, machine: Any, cfg: Config, endpoint: str, token: str, hashes: list[str],
             unsafe_skip_ca: bool, out: Out):
    world = machine.world
    if not TOKEN_RE.match(token or ""):
        raise KubeadmError(f'[discovery.bootstrapToken.token: Invalid value: "{token}": the bootstrap token is '
                           f'invalid, discovery.tlsBootstrapToken: Invalid value: "{token}": the bootstrap token is '
                           f'invalid]')
    if not hashes and not unsafe_skip_ca:
        raise KubeadmError("discovery.bootstrapToken: Invalid value: \"\": using token-based discovery without "
                           "caCertHashes can be unsafe. Set unsafeSkipCAVerification as true in your kubeadm config "
                           "file or pass --discovery-token-unsafe-skip-ca-verification flag to continue")
    out("[preflight] Running pre-flight checks\n")
    errors, warnings = run_checks(machine, proc.uid, cfg, "join")
    fatal, warnings = split_ignored(errors, warnings, cfg.ignore_preflight)
    for name, msg in warnings:
        out.err(f"\t[WARNING {name}]: {msg}\n")
    if fatal:
        raise PreflightError(fatal, warnings=warnings, output=out.text)
    try:
        info = _discover(machine, endpoint, token, hashes, unsafe_skip_ca)
    except DiscoveryError as e:
        raise DiscoveryError(f"error execution phase preflight: {e.message}", output=out.text,
                             phase="preflight") from None
    server = f"https://{endpoint}"
    ca_pem = base64.b64decode(yaml.safe_load(info)["clusters"][0]["cluster"]["certificate-authority-data"])
    bootstrap_conf = kcfg.build("kubernetes", server, ca_pem, "tls-bootstrap-token-user", token=token,
                                context="tls-bootstrap-token-user@kubernetes")
    out("[preflight] Reading configuration from the cluster...\n")
    out("[preflight] FYI: You can look at this config file with 'kubectl -n kube-system get cm kubeadm-config -o "
        "yaml'\n")
    try:
        client = kcfg.client_for(world, machine.netns, bootstrap_conf).with_user_agent(_user_agent(machine))
        kubelet_cm = client.get("configmaps", "kubelet-config", "kube-system")
    except kcfg.UnauthorizedError:
        tid = token.split(".", 1)[0]
        raise KubeadmError(f'error execution phase preflight: unable to fetch the kubeadm-config ConfigMap: failed '
                           f'to get config map: token id "{tid}" is invalid for this cluster or it has expired. Use '
                           f'"kubeadm token create" on the control-plane node to create a new valid token',
                           output=out.text, phase="preflight") from None
    except (AivleError, NetworkError) as e:
        raise KubeadmError(f"error execution phase preflight: unable to fetch the kubeadm-config ConfigMap: "
                           f"{e.message}", output=out.text, phase="preflight") from None
    ensure_images(world)
    write_file(machine, f"{K}/pki/ca.crt", ca_pem, 0o644)
    write_file(machine, f"{K}/bootstrap-kubelet.conf", bootstrap_conf, 0o600)
    start_kubelet(machine, cfg, kubelet_cm["data"]["kubelet"], out)
    out("[kubelet-check] Waiting for a healthy kubelet at http://127.0.0.1:10248/healthz. This can take up to 4m0s\n")
    out("[kubelet-check] The kubelet is healthy after 1.001s\n")
    out("[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap\n")
    # TLS bootstrap is the kubelet's: with bootstrap-kubelet.conf it sends a CSR for its client
    # certificate, the controller-manager approves and signs it, and the kubelet writes kubelet.conf
    # (waitForTLSBootstrappedClient: the file is looked for at once, then every second)
    start = proc.now
    kubelet_conf = f"{K}/kubelet.conf"
    while True:
        node_client = None
        if machine.fs.exists(kubelet_conf):
            try:
                node_client = kcfg.client_for(world, machine.netns, machine.fs.read_text(kubelet_conf),
                                              fs=machine.fs).with_user_agent(_user_agent(machine))
            except (AivleError, NetworkError):
                node_client = None
        if node_client is not None:
            break
        if proc.now - start >= TLS_BOOTSTRAP_TIMEOUT:
            raise KubeadmError("error execution phase kubelet-start: timed out waiting for the condition",
                               output=out.text, phase="kubelet-start")
        yield proc.sleep(1.0)
    # the kubelet registers its Node: wait for it
    while True:
        try:
            node_client.get("nodes", cfg.node_name)
            break
        except (AivleError, NetworkError):
            pass
        if proc.now - start > TLS_BOOTSTRAP_TIMEOUT:
            raise KubeadmError("error execution phase kubelet-start: timed out waiting for the condition",
                               output=out.text, phase="kubelet-start")
        yield proc.sleep(1.0)
    try:
        machine.fs.remove(f"{K}/bootstrap-kubelet.conf")
    except FsError:
        pass
    out("\nThis node has joined the cluster:\n"
        "* Certificate signing request was sent to apiserver and a response was received.\n"
        "* The Kubelet was informed of the new secure connection details.\n\n"
        "Run 'kubectl get nodes' on the control-plane to see this node join the cluster.\n\n")
    return JoinResult(cfg.node_name, out.text)


def run_reset(proc: Any, machine: Any, force: bool, out: Out, cri_socket: str | None = None):
    from ..runtimes import runtime_for

    if proc.uid != 0:
        raise PreflightError([("IsPrivilegedUser", "user is not running as root")], output=out.text)
    fs = machine.fs
    if fs.exists(f"{K}/admin.conf"):
        out("[reset] Reading configuration from the cluster...\n")
        out("[reset] FYI: You can look at this config file with 'kubectl -n kube-system get cm kubeadm-config -o "
            "yaml'\n")
    if not force:
        out("[reset] WARNING: Changes made to this host by 'kubeadm init' or 'kubeadm join' will be reverted.\n")
        out("[reset] Are you sure you want to proceed? [y/N]: ")
        answer = proc.stdin.decode(errors="replace").strip().lower()
        if answer not in ("y", "yes"):
            out("\n")
            raise KubeadmError("error execution phase preflight: aborted reset operation", output=out.text,
                               phase="preflight")
    out("[preflight] Running pre-flight checks\n")
    had_etcd = fs.exists("/etc/kubernetes/manifests/etcd.yaml")
    if "kubelet" in machine.services.units:
        out("[reset] Stopping the kubelet service\n")
        machine.services.stop("kubelet")
    # remove every pod the kubelet (or kubeadm's fallback) started through the CRI
    try:
        rt = runtime_for(machine, cri_socket)
        for sb in list(rt.list_pod_sandbox()):
            sid = getattr(sb, "id", sb)
            try:
                rt.stop_pod_sandbox(sid)
                rt.remove_pod_sandbox(sid)
            except AivleError:
                pass
    except AivleError:
        out.err("W0303 09:00:00.000000    1 cleanupnode.go:99] [reset] Failed to remove containers: failed to "
                "create new CRI runtime service\n")
    machine.extensions.pop(STATIC_PODS_KEY, None)
    if had_etcd:
        out("[reset] Deleted contents of the etcd data directory: /var/lib/etcd\n")
    _clear_dir(machine, "/var/lib/etcd")
    out('[reset] Unmounting mounted directories in "/var/lib/kubelet"\n')
    dirs = ["/etc/kubernetes/manifests", "/var/lib/kubelet", "/etc/kubernetes/pki"]
    out(f"[reset] Deleting contents of directories: [{' '.join(dirs)}]\n")
    for d in dirs:
        _clear_dir(machine, d)
    files = [f"{K}/admin.conf", f"{K}/super-admin.conf", f"{K}/kubelet.conf", f"{K}/bootstrap-kubelet.conf",
             f"{K}/controller-manager.conf", f"{K}/scheduler.conf"]
    out(f"[reset] Deleting files: [{' '.join(files)}]\n")
    for f in files:
        try:
            if fs.exists(f):
                fs.remove(f)
        except FsError:
            pass
    out("\nThe reset process does not clean CNI configuration. To do so, you must remove /etc/cni/net.d\n\n"
        "The reset process does not reset or clean up iptables rules or IPVS tables.\n"
        'If you wish to reset iptables, you must do so manually by using the "iptables" command.\n\n'
        "If your cluster was setup to utilize IPVS, run ipvsadm --clear (or similar)\n"
        "to reset your system's IPVS tables.\n\n"
        "The reset process does not clean your kubeconfig files and you must remove them manually.\n"
        "Please, check the contents of the $HOME/.kube/config file.\n")
    yield proc.sleep(0)
    return out.text


def _clear_dir(machine: Any, path: str) -> None:
    fs = machine.fs
    try:
        if not fs.is_dir(path):
            return
        for name in list(fs.listdir(path)):
            fs.remove(f"{path}/{name}", recursive=True)
    except FsError:
        pass
