"""What the kubelet reports: the Node object and its status, and pod status pieces.

Numbers follow a real v1.30 kubelet on a kubeadm node: capacity from the
machine, allocatable = capacity minus the default hard eviction thresholds
(``memory.available<100Mi``, ``nodefs.available<10%``), 110 pods, the real
condition reasons and messages.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from typing import Any

__all__ = ["node_object", "node_status", "condition", "kubelet_version", "NETWORK_NOT_READY", "OS_IMAGE",
           "RUNTIME_VERSION", "EVICTION_MEMORY"]

OS_IMAGE = "Ubuntu 22.04.4 LTS"
RUNTIME_VERSION = "containerd://1.7.12"
EVICTION_MEMORY = 100 * 1024 * 1024  # evictionHard memory.available: 100Mi
NETWORK_NOT_READY = ("container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
                     "message:Network plugin returns error: cni plugin not initialized")

_PRESSURE = [
    ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
]


def kubelet_version(machine: Any) -> str:
    """``v1.30.2`` from the installed package version (``1.30.2-1.1``); v1.30.2 when not installed by apt."""
    raw = (getattr(machine, "packages", {}) or {}).get("kubelet") or "1.30.2-1.1"
    return "v" + raw.split("-", 1)[0].split(":", 1)[-1]


@functools.lru_cache(maxsize=1024)
def _stable_hex(name: str, what: str) -> str:
    return hashlib.sha256(f"{name}/{what}".encode()).hexdigest()


def _stable_id(machine: Any, what: str) -> str:
    return _stable_hex(machine.name, what)


@functools.lru_cache(maxsize=1024)
def _stable_uuid(name: str, what: str) -> str:
    return str(uuid.UUID(_stable_hex(name, what)[:32]))


def condition(type_: str, status: str, reason: str, message: str, heartbeat: str, transition: str) -> dict:
    return {"type": type_, "status": status, "lastHeartbeatTime": heartbeat, "lastTransitionTime": transition,
            "reason": reason, "message": message}


def node_object(machine: Any, name: str, node_ip: str, labels: dict | None = None,
                taints: list | None = None, annotations: dict | None = None) -> dict:
    """The Node a kubelet registers (``system:node:<name>`` creates it)."""
    meta_labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                   "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
    meta_labels.update(labels or {})
    meta_annotations = {"node.alpha.kubernetes.io/ttl": "0",
                        "volumes.kubernetes.io/controller-managed-attach-detach": "true"}
    meta_annotations.update(annotations or {})
    obj = {"apiVersion": "v1", "kind": "Node",
           "metadata": {"name": name, "labels": meta_labels, "annotations": meta_annotations}, "spec": {}}
    if taints:
        obj["spec"]["taints"] = [dict(t) for t in taints]
    return obj


def _ki(nbytes: int) -> str:
    return f"{nbytes // 1024}Ki"


def node_status(machine: Any, name: str, node_ip: str, *, ready: tuple[bool, str, str], images: list[dict],
                timestamp: str, transitions: dict[str, tuple[str, str]], max_pods: int = 110,
                runtime_version: str = RUNTIME_VERSION) -> dict:
    """``status`` of the Node: capacity, allocatable, conditions, addresses, nodeInfo, images.

    ``ready`` is ``(ok, reason, message)``; ``transitions`` (type -> (status, time)) keeps each
    condition's lastTransitionTime and is updated in place; ``runtime_version`` is the CRI's
    ``<name>://<version>`` (``containerd://1.7.12``, ``cri-o://1.30.0``, ``docker://24.0.7``).
    """
    mem = int(machine.memory)
    disk = int(getattr(machine, "disk", 40 * 1024**3))
    capacity = {"cpu": str(machine.cpus), "ephemeral-storage": _ki(disk), "hugepages-1Gi": "0",
                "hugepages-2Mi": "0", "memory": _ki(mem), "pods": str(max_pods)}
    allocatable = dict(capacity)
    allocatable["memory"] = _ki(mem - EVICTION_MEMORY)
    allocatable["ephemeral-storage"] = str(disk * 9 // 10)
    conditions = []
    rows = [(t, "False", r, m) for t, r, m in _PRESSURE]
    ok, reason, message = ready
    rows.append(("Ready", "True" if ok else "False", reason, message))
    for type_, status, reason, message in rows:
        prev = transitions.get(type_)
        if prev is None or prev[0] != status:
            transitions[type_] = (status, timestamp)
        conditions.append(condition(type_, status, reason, message, timestamp, transitions[type_][1]))
    version = kubelet_version(machine)
    machine_id = _stable_id(machine, "machine-id")[:32]
    return {
        "capacity": capacity,
        "allocatable": allocatable,
        "conditions": conditions,
        "addresses": [{"type": "InternalIP", "address": node_ip}, {"type": "Hostname", "address": name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "machineID": machine_id,
            "systemUUID": _stable_uuid(machine.name, "system-uuid"),
            "bootID": _stable_uuid(machine.name, f"boot-{getattr(machine, 'booted_at', 0)}"),
            "kernelVersion": machine.kernel.release,
            "osImage": OS_IMAGE,
            "containerRuntimeVersion": runtime_version,
            "kubeletVersion": version,
            "kubeProxyVersion": version,
            "operatingSystem": "linux",
            "architecture": "amd64",
        },
        "images": images,
    }
