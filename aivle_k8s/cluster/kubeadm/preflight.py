"""kubeadm's pre-flight checks, in kubeadm's order, with its words. They only look: nothing changes."""

from __future__ import annotations

from typing import Any

from ...sim.errors import AivleError, FsError
from .config import Config

__all__ = ["run_checks", "split_ignored"]

_MIN_MEM_MB = 1700
_ERROR_TOOLS = ("crictl", "conntrack", "ip", "iptables", "mount", "nsenter")
_WARN_TOOLS = ("ebtables", "ethtool", "socat", "touch")


def _which(machine: Any, name: str) -> bool:
    for d in ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        try:
            if machine.fs.is_file(f"{d}/{name}"):
                return True
        except FsError:
            pass
    return False


def _nonempty_dir(machine: Any, path: str) -> bool:
    try:
        return machine.fs.is_dir(path) and bool(machine.fs.listdir(path))
    except FsError:
        return False


def _exists(machine: Any, path: str) -> bool:
    try:
        return machine.fs.exists(path)
    except FsError:
        return False


def _version_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.lstrip("v").split("-")[0].split("~")[0].split(".")[:3])


def cri_error(machine: Any, endpoint: str) -> str | None:
    """The ``[ERROR CRI]`` message when the runtime at ``endpoint`` does not answer, else None."""
    from ..runtimes import runtime_for

    try:
        runtime_for(machine, endpoint).version()
        return None
    except AivleError:
        pass
    stamp = machine.world.timestamp()
    path = endpoint.removeprefix("unix://")
    return (f'container runtime is not running: output: time="{stamp}" level=fatal msg="validate service connection: '
            f'validate CRI v1 runtime API for endpoint \\"{endpoint}\\": rpc error: code = Unavailable desc = '
            f'connection error: desc = \\"transport: Error while dialing: dial unix {path}: connect: no such file or '
            f'directory\\""\n, error: exit status 1')


def run_checks(machine: Any, uid: int, cfg: Config, mode: str = "init") -> tuple[list, list]:
    """``(errors, warnings)``, each a list of ``(check name, message)``."""
    from ...linux.systools import sysctl_get

    errors: list[tuple[str, str]] = []
    warnings: list[tuple[str, str]] = []
    if uid != 0:
        return [("IsPrivilegedUser", "user is not running as root")], []
    k = machine.kernel
    if mode == "init":
        if k.cpus < 2:
            errors.append(("NumCPU", f"the number of available CPUs {k.cpus} is less than the required 2"))
    mem_mb = k.memory_total // (1024 * 1024)
    if mem_mb < _MIN_MEM_MB:
        errors.append(("Mem", f"the system RAM ({mem_mb} MB) is less than the minimum {_MIN_MEM_MB} MB"))
    if mode == "init":
        kv = _version_tuple(cfg.kubernetes_version)
        kubeadm_v = machine.packages.get("kubeadm")
        if kubeadm_v and kv[:2] > _version_tuple(kubeadm_v)[:2]:
            errors.append(("KubernetesVersion", f"Kubernetes version is greater than kubeadm version. Please consider "
                                                f"to upgrade kubeadm. Kubernetes version: {cfg.kubernetes_version}. "
                                                f"Kubeadm version: {'.'.join(kubeadm_v.split('.')[:2])}.x"))
    if machine.services.is_active("firewalld"):
        warnings.append(("Firewalld", "firewalld is active, please ensure ports [6443 10250] are open or your cluster "
                                      "may not function correctly"))
    listeners = machine.netns.listeners
    if mode == "init":
        for port in (cfg.bind_port, 10259, 10257):
            if port in listeners:
                errors.append((f"Port-{port}", f"Port {port} is in use"))
        for f in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"):
            path = f"/etc/kubernetes/manifests/{f}.yaml"
            if _exists(machine, path):
                errors.append((f"FileAvailable--etc-kubernetes-manifests-{f}.yaml", f"{path} already exists"))
    else:
        for f in ("kubelet.conf", "bootstrap-kubelet.conf"):
            pass
        if _nonempty_dir(machine, "/etc/kubernetes/manifests"):
            errors.append(("DirAvailable--etc-kubernetes-manifests", "/etc/kubernetes/manifests is not empty"))
        for name in ("kubelet.conf", "bootstrap-kubelet.conf"):
            path = f"/etc/kubernetes/{name}"
            if _exists(machine, path):
                errors.append((f"FileAvailable--etc-kubernetes-{name}", f"{path} already exists"))
    # common checks
    endpoint = cfg.cri_socket
    msg = cri_error(machine, endpoint)
    if msg:
        errors.append(("CRI", msg))
    if k.swap_on:
        errors.append(("Swap", "running with swap on is not supported. Please disable swap"))
    if sysctl_get(k, "net.bridge.bridge-nf-call-iptables") is None:
        errors.append(("FileContent--proc-sys-net-bridge-bridge-nf-call-iptables",
                       "/proc/sys/net/bridge/bridge-nf-call-iptables does not exist"))
    elif sysctl_get(k, "net.bridge.bridge-nf-call-iptables") != "1":
        errors.append(("FileContent--proc-sys-net-bridge-bridge-nf-call-iptables",
                       "/proc/sys/net/bridge/bridge-nf-call-iptables contents are not set to 1"))
    if sysctl_get(k, "net.ipv4.ip_forward") != "1":
        errors.append(("FileContent--proc-sys-net-ipv4-ip_forward",
                       "/proc/sys/net/ipv4/ip_forward contents are not set to 1"))
    for tool in _ERROR_TOOLS:
        if not _which(machine, tool):
            errors.append((f"FileExisting-{tool}", f"{tool} not found in system path"))
    for tool in _WARN_TOOLS:
        if not _which(machine, tool):
            warnings.append((f"FileExisting-{tool}", f"{tool} not found in system path"))
    kubelet_v = machine.packages.get("kubelet")
    if kubelet_v is None:
        errors.append(("KubeletVersion", "couldn't get kubelet version: cannot execute 'kubelet --version': "
                                         'exec: "kubelet": executable file not found in $PATH'))
    else:
        kv, cp = _version_tuple(kubelet_v), _version_tuple(cfg.kubernetes_version)
        if mode == "init" and kv[:2] > cp[:2]:
            errors.append(("KubeletVersion", f"the kubelet version is higher than the control plane version. This is "
                                             f"not a supported version skew and may lead to a malfunctional cluster. "
                                             f'Kubelet version: "{".".join(map(str, kv))}" Control plane version: '
                                             f'"{".".join(map(str, cp))}"'))
        elif kv[:2] < (cp[0], cp[1] - 3) if mode == "init" else False:
            errors.append(("KubeletVersion", f'Kubelet version "{".".join(map(str, kv))}" is lower than kubeadm can '
                                             f"support. Please upgrade kubelet"))
    unit = machine.services.units.get("kubelet")
    if unit is not None and not unit.enabled:
        warnings.append(("Service-Kubelet", "kubelet service is not enabled, please run 'systemctl enable "
                                            "kubelet.service'"))
    if 10250 in listeners:
        errors.append(("Port-10250", "Port 10250 is in use"))
    if mode == "init":
        for port in (2379, 2380):
            if port in listeners:
                errors.append((f"Port-{port}", f"Port {port} is in use"))
        if _nonempty_dir(machine, "/var/lib/etcd"):
            errors.append(("DirAvailable--var-lib-etcd", "/var/lib/etcd is not empty"))
    return errors, warnings


def split_ignored(errors: list, warnings: list, ignore: set[str]) -> tuple[list, list]:
    """Move the ignored errors (``--ignore-preflight-errors``, case-insensitive, ``all``) to the warnings."""
    ignore = {i.lower() for i in ignore}
    fatal = []
    for name, msg in errors:
        if "all" in ignore or name.lower() in ignore:
            warnings.append((name, msg))
        else:
            fatal.append((name, msg))
    return fatal, warnings
