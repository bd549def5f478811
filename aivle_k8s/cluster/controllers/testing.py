"""A small in-memory cluster for controller tests: an API server on a Network, an admin client,
and fake "kubelet" steps (register a node, renew its Lease, mark pods Running/Ready).

>>> env = TestCluster()
>>> env.add_node("worker-1")["metadata"]["name"]
'worker-1'
"""

from __future__ import annotations

import random
from typing import Any

from ..apiserver import APIServer
from ..client import APIClient, ServerEndpoint
from ..etcd import Store
from .base import micro_time, rfc3339

__all__ = ["TestCluster"]


class TestCluster:
    """API server at 10.0.0.10:6443 reachable from ``master``; ``client`` is kubernetes-admin."""

    __test__ = False  # not a pytest class

    def __init__(self, seed: int = 0):
        from ...linux.net import Network
        from ...sim import Loop

        self.loop = Loop()
        self.net = Network(random.Random(seed))
        self.master = self.net.namespace("master", ["10.0.0.10"], node="master")
        self.api = APIServer(Store(self.loop), now=lambda: rfc3339(self.loop.now), rng=random.Random(seed),
                             loop=self.loop, address="10.0.0.10")
        self.master.listen(6443, ServerEndpoint(self.api))
        self.client = APIClient(self.net, self.master, "https://10.0.0.10:6443", "kubernetes-admin")
        self.cm_client = self.client.with_user("system:kube-controller-manager")
        self.sched_client = self.client.with_user("system:kube-scheduler")
        self._ip = 0

    def advance(self, seconds: float = 0.0) -> None:
        self.loop.advance(seconds)

    # -- nodes -----------------------------------------------------------------------
    def add_node(self, name: str, *, cpu: str = "2", memory: str = "4Gi", ready: bool = True,
                 labels: dict | None = None, taints: list | None = None, untaint: bool = True) -> dict:
        """Register a node as its kubelet would (Ready, Lease renewed). ``untaint`` removes the
        ``node.kubernetes.io/not-ready:NoSchedule`` taint new nodes get, as the node lifecycle controller does."""
        node = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
                "spec": {"taints": list(taints or [])}}
        node = self.client.create(node)
        self.set_node_ready(name, ready)
        self.renew_lease(name)
        node = self.client.get("nodes", name)
        if untaint and ready:
            node["spec"]["taints"] = [t for t in node["spec"].get("taints") or []
                                      if t.get("key") != "node.kubernetes.io/not-ready"]
            node = self.client.update(node)
        return node

    def set_node_ready(self, name: str, ready: bool = True) -> dict:
        node = self.client.get("nodes", name)
        now = rfc3339(self.loop.now)
        conds = [{"type": t, "status": "False", "reason": f"KubeletHas{r}", "message": "",
                  "lastHeartbeatTime": now, "lastTransitionTime": now}
                 for t, r in (("MemoryPressure", "SufficientMemory"), ("DiskPressure", "NoDiskPressure"),
                              ("PIDPressure", "SufficientPID"))]
        conds.append({"type": "Ready", "status": "True" if ready else "False",
                      "reason": "KubeletReady" if ready else "KubeletNotReady",
                      "message": "kubelet is posting ready status" if ready else "container runtime network not ready",
                      "lastHeartbeatTime": now, "lastTransitionTime": now})
        node["status"] = {"capacity": {"cpu": "2", "memory": "4Gi", "pods": "110"},
                          "allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"},
                          "conditions": conds,
                          "addresses": [{"type": "Hostname", "address": node["metadata"]["name"]}]}
        return self.client.update(node, subresource="status")

    def renew_lease(self, name: str) -> dict:
        spec = {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": micro_time(self.loop.now)}
        try:
            lease = self.client.get("leases", name, "kube-node-lease")
        except Exception:  # noqa: BLE001
            return self.client.create({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                                       "metadata": {"name": name, "namespace": "kube-node-lease"}, "spec": spec})
        lease["spec"] = spec
        return self.client.update(lease)

    # -- pods ------------------------------------------------------------------------
    def pods(self, namespace: str = "default", selector: str | None = None) -> list[dict]:
        return self.client.list("pods", namespace, label_selector=selector)["items"]

    def run_pod(self, name: str, namespace: str = "default", *, ready: bool = True, node: str | None = None) -> dict:
        """What a kubelet reports: Running (and Ready), with a pod IP."""
        pod = self.client.get("pods", name, namespace)
        if node and not pod["spec"].get("nodeName"):
            self.client.bind(name, node, namespace)
            pod = self.client.get("pods", name, namespace)
        self._ip += 1
        now = rfc3339(self.loop.now)
        status = dict(pod.get("status") or {})
        status["phase"] = "Running"
        status.setdefault("podIP", f"10.244.{self._ip // 250}.{self._ip % 250 + 2}")
        status["podIPs"] = [{"ip": status["podIP"]}]
        conds = [c for c in status.get("conditions") or [] if c.get("type") not in ("Ready", "ContainersReady")]
        conds.append({"type": "Ready", "status": "True" if ready else "False", "lastProbeTime": None,
                      "lastTransitionTime": now})
        conds.append({"type": "ContainersReady", "status": "True" if ready else "False", "lastProbeTime": None,
                      "lastTransitionTime": now})
        status["conditions"] = conds
        status["startTime"] = status.get("startTime") or now
        pod["status"] = status
        return self.client.update(pod, subresource="status")

    def run_all(self, namespace: str = "default", node: str | None = None) -> None:
        for p in self.pods(namespace):
            if p["metadata"].get("deletionTimestamp"):
                continue
            if (p.get("status") or {}).get("phase") != "Running" and (p["spec"].get("nodeName") or node):
                self.run_pod(p["metadata"]["name"], namespace, node=node)

    def finish_pod(self, name: str, namespace: str = "default", *, succeeded: bool = True) -> dict:
        pod = self.client.get("pods", name, namespace)
        pod["status"] = dict(pod.get("status") or {}, phase="Succeeded" if succeeded else "Failed")
        pod["status"]["conditions"] = [c for c in pod["status"].get("conditions") or [] if c.get("type") != "Ready"] + [
            {"type": "Ready", "status": "False", "lastProbeTime": None, "lastTransitionTime": rfc3339(self.loop.now)}]
        return self.client.update(pod, subresource="status")

    def reap(self, namespace: str | None = "default") -> None:
        """What kubelets do with terminating pods: remove them for good."""
        for p in self.client.list("pods", namespace)["items"]:
            if p["metadata"].get("deletionTimestamp"):
                try:
                    self.client.delete("pods", p["metadata"]["name"], p["metadata"]["namespace"],
                                       grace_period_seconds=0)
                except Exception:  # noqa: BLE001
                    pass

    def events(self, namespace: str | None = None, reason: str | None = None) -> list[dict]:
        items = self.client.list("events", namespace)["items"]
        return [e for e in items if reason is None or e.get("reason") == reason]
