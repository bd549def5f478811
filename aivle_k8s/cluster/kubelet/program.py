"""The ``kubelet`` program (the systemd unit's ExecStart): flags and files -> a running :class:`Kubelet`.

Reads what kubeadm writes:

* ``--config=/var/lib/kubelet/config.yaml`` (KubeletConfiguration YAML);
* ``--kubeconfig=/etc/kubernetes/kubelet.conf`` (the node's credentials; the certificate's CN is
  ``system:node:<name>``), else ``--bootstrap-kubeconfig`` (TLS bootstrap: the kubelet then acts
  as ``system:node:<hostname>``, the CSR being approved at once as kubeadm's auto-approver does);
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

__all__ = ["kubelet_program", "parse_kubeconfig", "klog"]


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


def parse_kubeconfig(text: str) -> tuple[str, str]:
    """``(server, user)`` of a kubeconfig: the user is the client certificate's CN, or the bootstrap
    token's ``system:bootstrap:<id>``."""
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
    elif user.get("client-certificate-data"):
        from cryptography import x509
        from cryptography.x509.oid import NameOID

        pem = base64.b64decode(user["client-certificate-data"])
        cert = x509.load_pem_x509_certificate(pem)
        cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        name = cns[0].value if cns else ""
    return server, name


@register_program("kubelet")
def kubelet_program(proc):
    from ..client import APIClient
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
    server, user = "", ""
    if kubeconfig and fs.exists(kubeconfig):
        server, user = parse_kubeconfig(fs.read_text(kubeconfig))
    elif bootstrap and fs.exists(bootstrap):
        server, _ = parse_kubeconfig(fs.read_text(bootstrap))
        user = f"system:node:{node_name}"
    elif kubeconfig or bootstrap:
        return fail(f"failed to run Kubelet: unable to load bootstrap kubeconfig: stat {bootstrap or kubeconfig}: "
                    f"no such file or directory")
    if user.startswith("system:node:"):
        node_name = user[len("system:node:"):]
    endpoint = config.get("containerRuntimeEndpoint") or DEFAULT_CONFIG["containerRuntimeEndpoint"]
    sock = endpoint.split("://", 1)[-1]
    if not fs.exists(sock):
        return fail(f'failed to run Kubelet: validate service connection: validate CRI v1 runtime API for endpoint '
                    f'\\"{endpoint}\\": rpc error: code = Unavailable desc = connection error: desc = \\"transport: '
                    f'Error while dialing: dial unix {sock}: connect: no such file or directory\\"')
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
                       f"system:node:{node_name}")
    kubelet = Kubelet(machine, client, config=config, runtime=runtime_for(machine, endpoint), node_name=node_name,
                      node_ip=flags.get("node-ip") or None, node_labels=labels, register_with_taints=taints)
    try:
        kubelet.start()
    except KubeletError as e:
        return fail(e.message)
    machine.extensions["kubelet"] = kubelet
    from .status import kubelet_version

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
