"""The pod garbage collector (``podgc``): removes pods bound to nodes that no longer exist.

A pod whose ``spec.nodeName`` names a Node object that is gone can never run and no kubelet
will ever confirm its deletion. After a 40 s quarantine (the real one's, so a node that is
only being re-registered keeps its pods) the collector force-deletes it; its ReplicaSet or
DaemonSet then creates a replacement elsewhere.
"""

from __future__ import annotations

from ..apiserver.errors import NotFoundError
from .base import Controller

__all__ = ["PodGCController", "QUARANTINE_SECONDS"]

#: How long a pod's node must be missing before the pod is deleted.
QUARANTINE_SECONDS = 40.0


class PodGCController(Controller):
    """``podgc`` in ``--controllers``."""

    name = "podgc"
    component = "pod-garbage-collector"

    def setup(self) -> None:
        self.pods = self.informer("pods")
        self.nodes = self.informer("nodes")
        self.pods.add_handler(self._pod, lambda old, new: self._pod(new))
        self.nodes.add_handler(None, None, self._node_deleted)

    def _pod(self, pod: dict) -> None:
        node = (pod.get("spec") or {}).get("nodeName")
        if node and self.nodes.get(node) is None:
            self.enqueue(pod, delay=QUARANTINE_SECONDS)

    def _node_deleted(self, node: dict) -> None:
        name = node["metadata"]["name"]
        for pod in self.pods.list():
            if (pod.get("spec") or {}).get("nodeName") == name:
                self.enqueue(pod, delay=QUARANTINE_SECONDS)

    def resync(self) -> None:
        for pod in self.pods.list():
            self._pod(pod)

    def reconcile(self, key: str) -> None:
        pod = self.pods.get(key)
        if pod is None:
            return
        node = (pod.get("spec") or {}).get("nodeName")
        if not node or self.nodes.get(node) is not None:
            return
        meta = pod["metadata"]
        try:
            self.client.delete("pods", meta["name"], meta.get("namespace"), grace_period_seconds=0,
                               force=True, preconditions={"uid": meta["uid"]})
        except NotFoundError:
            pass
        self.pods.assume_deleted(pod)
