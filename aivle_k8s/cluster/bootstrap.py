"""A ready cluster in one call, for labs that start from a working cluster (architecture, operations).

The machines go through exactly the steps a student takes in the build-a-cluster lab
(prepare, container runtime, Kubernetes packages, ``kubeadm init``, CNI, ``kubeadm join``),
so the result is indistinguishable from a hand-built cluster.

>>> import aivle_k8s as ak
>>> from aivle_k8s.cluster.bootstrap import build_cluster
>>> world = ak.World(seed=0)
>>> cluster = build_cluster(world)
>>> sorted(cluster.nodes.names(namespace=None))
['master', 'worker-1', 'worker-2']
>>> all(c["status"] == "True" for n in cluster.nodes.list(namespace=None)
...     for c in n.raw["status"]["conditions"] if c["type"] == "Ready")
True
"""

from __future__ import annotations

from typing import Any, Iterable

from ..sim.errors import InvalidInput
from . import kubeadm, setup
from .cluster import Cluster
from .cni import CALICO_URL, FLANNEL_URL

__all__ = ["build_cluster", "CNI_URLS"]

CNI_URLS = {"flannel": FLANNEL_URL, "calico": CALICO_URL}
_POD_CIDR = {"flannel": "10.244.0.0/16", "calico": "192.168.0.0/16"}


def build_cluster(world: Any, *, master: str = "master", workers: Iterable[str] = ("worker-1", "worker-2"),
                  runtime: str = "containerd", version: str = "1.30", cni: str = "flannel",
                  cpus: int = 2, memory: str = "4Gi", settle: float = 60.0) -> Cluster:
    """Create (or reuse) the named machines and bring up a cluster on them; returns the admin's Cluster.

    ``settle`` simulated seconds pass after the last join so every node is Ready and the
    add-ons (CoreDNS, kube-proxy, the CNI DaemonSet) are Running.
    """
    if cni not in CNI_URLS:
        raise InvalidInput(f"unknown CNI plugin {cni!r}: choose one of {', '.join(CNI_URLS)}")
    names = [master, *workers]
    machines = []
    for name in names:
        m = world.machines.get(name) or world.machine(name, cpus=cpus, memory=memory)
        s = setup.status(m)
        if not s.get("swap_off"):
            setup.prepare(m)
        if not s.get("runtime"):
            setup.install_runtime(m, runtime)
        if not s.get("kubeadm"):
            setup.install_kubernetes(m, version)
        machines.append(m)
    # docker.io brings containerd too: with two CRI sockets kubeadm must be told which one (as in the guide)
    cri = {"cri_socket": "unix:///var/run/cri-dockerd.sock"} if runtime == "docker" else {}
    result = kubeadm.init(machines[0], pod_network_cidr=_POD_CIDR[cni], **cri)
    cluster = Cluster(world, machines[0])
    applied = cluster.kubectl(f"apply -f {CNI_URLS[cni]}")
    if applied.exit_code != 0:  # pragma: no cover - a bug, not a user error
        raise RuntimeError(f"installing {cni} failed:\n{applied.output}")
    for m in machines[1:]:
        kubeadm.join(m, result, **cri)
    world.advance(settle)
    return cluster
