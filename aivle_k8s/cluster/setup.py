"""The install guide's steps as Python calls: prepare a machine, install a container runtime,
install Kubernetes, bring up a cluster.

Each call types the official guide's command lines into the machine's terminal (so the
machine ends up exactly as if the student had typed them) and returns the transcript; a
step that fails raises :class:`SetupError` with what the terminal printed. Each step can be
checked afterwards (:func:`status`).

>>> import aivle_k8s as ak
>>> from aivle_k8s.cluster import setup
>>> world = ak.World(seed=0)
>>> m = world.machine("master", cpus=2, memory="4Gi")
>>> setup.status(m)["swap_off"], setup.status(m)["runtime"]
(False, None)
>>> _ = setup.prepare(m); _ = setup.install_runtime(m, "containerd"); _ = setup.install_kubernetes(m, "1.30")
>>> s = setup.status(m); s["swap_off"], s["runtime"], s["kubeadm"][:4]
(True, 'containerd', '1.30')
"""

from __future__ import annotations

from typing import Any

from ..sim.errors import AivleError, InvalidInput
from . import runtimes as _runtimes  # noqa: F401  (registers cri-dockerd / crio and their package hooks)

__all__ = ["SetupError", "RUNTIMES", "KUBERNETES_VERSIONS", "prepare", "install_runtime", "install_kubernetes",
           "status", "guide"]

RUNTIMES = ("containerd", "cri-o", "docker")
KUBERNETES_VERSIONS = ("1.28", "1.29", "1.30", "1.31")


class SetupError(AivleError):
    """An install step failed; ``output`` is what the terminal printed, ``command`` the failing line."""


def _k8s_repo(version: str) -> str:
    return f"https://pkgs.k8s.io/core:/stable:/v{version}/deb/"


def guide(step: str, *, runtime: str = "containerd", version: str = "1.30") -> list[str]:
    """The command lines of one step of the official guides (``prepare``, ``runtime``, ``kubernetes``)."""
    if step == "prepare":
        return [
            "sudo swapoff -a",
            "sudo sed -i '/ swap / s/^\\(.*\\)$/#\\1/g' /etc/fstab",
            "printf 'overlay\\nbr_netfilter\\n' | sudo tee /etc/modules-load.d/k8s.conf",
            "sudo modprobe overlay && sudo modprobe br_netfilter",
            "printf 'net.bridge.bridge-nf-call-iptables  = 1\\nnet.bridge.bridge-nf-call-ip6tables = 1\\n"
            "net.ipv4.ip_forward                 = 1\\n' | sudo tee /etc/sysctl.d/k8s.conf",
            "sudo sysctl --system",
        ]
    if step == "runtime":
        if runtime == "containerd":
            return [
                "sudo apt-get update && sudo apt-get install -y containerd",
                "sudo mkdir -p /etc/containerd && containerd config default | sudo tee /etc/containerd/config.toml"
                " >/dev/null",
                # the kubelet uses the systemd cgroup driver: containerd must too
                "sudo sed -i 's/SystemdCgroup = false/SystemdCgroup = true/' /etc/containerd/config.toml",
                "sudo systemctl restart containerd",
            ]
        if runtime == "cri-o":
            repo = "https://pkgs.k8s.io/addons:/cri-o:/stable:/v1.30/deb/"
            return [
                f"curl -fsSL {repo}Release.key | sudo gpg --dearmor -o /etc/apt/keyrings/cri-o-apt-keyring.gpg",
                f"echo 'deb [signed-by=/etc/apt/keyrings/cri-o-apt-keyring.gpg] {repo} /'"
                " | sudo tee /etc/apt/sources.list.d/cri-o.list",
                "sudo apt-get update && sudo apt-get install -y cri-o",
                "sudo systemctl start crio",
            ]
        if runtime == "docker":
            return [
                "sudo apt-get update && sudo apt-get install -y docker.io",
                # the kubelet uses the systemd cgroup driver (kubeadm's default): Docker must too
                "sudo mkdir -p /etc/docker",
                "printf '{\\n  \"exec-opts\": [\"native.cgroupdriver=systemd\"]\\n}\\n'"
                " | sudo tee /etc/docker/daemon.json",
                "sudo systemctl restart docker",
                "curl -fsSLO https://github.com/Mirantis/cri-dockerd/releases/download/v0.3.14/"
                "cri-dockerd_0.3.14.3-0.ubuntu-jammy_amd64.deb",
                "sudo dpkg -i cri-dockerd_0.3.14.3-0.ubuntu-jammy_amd64.deb",
            ]
        raise InvalidInput(f'unknown container runtime "{runtime}": choose one of {", ".join(RUNTIMES)} '
                           f"(rkt is retired and dockershim was removed in Kubernetes 1.24)")
    if step == "kubernetes":
        if version not in KUBERNETES_VERSIONS:
            raise InvalidInput(f'no Kubernetes package repository for version "{version}": '
                               f"choose one of {', '.join(KUBERNETES_VERSIONS)}")
        repo = _k8s_repo(version)
        return [
            "sudo apt-get update && sudo apt-get install -y apt-transport-https ca-certificates curl gnupg",
            f"curl -fsSL {repo}Release.key | sudo gpg --dearmor -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg",
            f"echo 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] {repo} /'"
            " | sudo tee /etc/apt/sources.list.d/kubernetes.list",
            "sudo apt-get update && sudo apt-get install -y kubelet kubeadm kubectl",
            "sudo apt-mark hold kubelet kubeadm kubectl",
            "sudo systemctl enable --now kubelet",
        ]
    raise InvalidInput(f'unknown step "{step}": use "prepare", "runtime" or "kubernetes"')


def _run(machine: Any, lines: list[str]) -> str:
    transcript = []
    for line in lines:
        r = machine.sh(line)
        transcript.append(f"$ {line}\n{r.output}")
        if r.exit_code != 0:
            raise SetupError(f"`{line}` failed on {machine.name} (exit code {r.exit_code}):\n{r.output}",
                             output="".join(transcript), command=line)
    return "".join(transcript)


def prepare(machine: Any) -> str:
    """Swap off (now and after reboot), load ``overlay`` and ``br_netfilter``, set the sysctls."""
    return _run(machine, guide("prepare"))


def install_runtime(machine: Any, runtime: str = "containerd") -> str:
    """Install a container runtime: ``containerd``, ``cri-o`` or ``docker`` (Docker Engine + cri-dockerd)."""
    return _run(machine, guide("runtime", runtime=runtime))


def install_kubernetes(machine: Any, version: str = "1.30") -> str:
    """Install kubeadm, kubelet and kubectl from pkgs.k8s.io at one minor version, and hold them."""
    return _run(machine, guide("kubernetes", version=version))


def status(machine: Any) -> dict:
    """Where the machine stands in the install guide (each value can be checked by a lab)."""
    kernel = machine.kernel
    runtime = None
    if "cri-o" in machine.packages:
        runtime = "cri-o"
    elif "containerd" in machine.packages or "containerd.io" in machine.packages:
        runtime = "docker" if "cri-dockerd" in machine.packages else "containerd"
    return {
        "swap_off": not kernel.swap_on,
        "modules": sorted(m for m in ("overlay", "br_netfilter") if m in kernel.modules),
        "ip_forward": kernel.sysctls.get("net.ipv4.ip_forward") == "1",
        "runtime": runtime,
        "kubeadm": machine.packages.get("kubeadm"),
        "kubelet": machine.packages.get("kubelet"),
        "kubectl": machine.packages.get("kubectl"),
        "initialized": machine.fs.exists("/etc/kubernetes/admin.conf"),
        "joined": machine.fs.exists("/etc/kubernetes/kubelet.conf"),
    }
