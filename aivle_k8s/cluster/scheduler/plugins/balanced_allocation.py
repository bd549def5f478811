"""NodeResourcesBalancedAllocation: prefer nodes whose cpu and memory would be used evenly.

Score: ``(1 - std) * 100`` of the requested/allocatable fractions (capped at 1)
of cpu and memory, counting the pod's actual requests. PreScore skips
best-effort pods (no cpu nor memory request), so they do not pile up on one node.

>>> from aivle_k8s.cluster.scheduler.cache import NodeInfo, PodInfo
>>> node = NodeInfo({"metadata": {"name": "w1"}, "status": {"allocatable": {"cpu": "4", "memory": "4Gi", "pods": "110"}}})
>>> pod = PodInfo({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x",
...     "resources": {"requests": {"cpu": "2", "memory": "1Gi"}}}]}})
>>> NodeResourcesBalancedAllocation().score(None, pod, node)
87
"""

from __future__ import annotations

from ..cache import NodeInfo, PodInfo
from ..framework import SKIP, CycleState, PreScorePlugin, ScorePlugin, Status
from .node_resources_fit import _requested
from .resource_allocation import balanced_resource_score


class NodeResourcesBalancedAllocation(PreScorePlugin, ScorePlugin):
    name = "NodeResourcesBalancedAllocation"
    node_local = True

    def __init__(self, resources=("cpu", "memory")):
        self.resources = tuple(resources)

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list) -> Status | None:
        if not any(self._pod_request(pod, r) for r in self.resources):
            return SKIP
        return None

    @staticmethod
    def _pod_request(pod: PodInfo, resource: str) -> int:
        if resource == "cpu":
            return pod.milli_cpu
        if resource == "memory":
            return pod.memory
        if resource == "ephemeral-storage":
            return pod.ephemeral
        return pod.scalars.get(resource, 0)

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        fractions = []
        for r in self.resources:
            if r == "cpu":
                requested, allocatable = node.requested_milli_cpu + pod.milli_cpu, node.allocatable_milli_cpu
            elif r == "memory":
                requested, allocatable = node.requested_memory + pod.memory, node.allocatable_memory
            else:
                requested, allocatable = _requested(node, pod, r)
            if allocatable == 0:
                continue
            f = requested / allocatable
            fractions.append(1.0 if f > 1 else f)
        return balanced_resource_score(fractions)
