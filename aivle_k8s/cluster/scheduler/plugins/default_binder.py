"""DefaultBinder: bind the pod by creating a ``v1.Binding`` for the chosen node.

Here it only builds the Binding object (``state["Binding"]``); sending it to the
API server (``POST /api/v1/namespaces/<ns>/pods/<name>/binding``) is the caller's job.

>>> from aivle_k8s.cluster.scheduler.cache import PodInfo
>>> state = {}
>>> DefaultBinder().bind(state, PodInfo({"metadata": {"name": "web", "namespace": "default", "uid": "u1"}, "spec": {}}), "w1")
>>> state["Binding"]["target"]
{'kind': 'Node', 'name': 'w1'}
"""

from __future__ import annotations

from ..cache import PodInfo
from ..framework import BindPlugin, CycleState, Status

BINDING_KEY = "Binding"


def binding(pod: PodInfo, node_name: str) -> dict:
    meta = {"name": pod.name, "namespace": pod.namespace}
    uid = (pod.pod.get("metadata") or {}).get("uid")
    if uid:
        meta["uid"] = uid
    return {"apiVersion": "v1", "kind": "Binding", "metadata": meta, "target": {"kind": "Node", "name": node_name}}


class DefaultBinder(BindPlugin):
    name = "DefaultBinder"

    def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        state[BINDING_KEY] = binding(pod, node_name)
        return None
