"""NodeResourcesFit: does the node have room for the pod's requests? How free would it stay?

Filter (``Unschedulable``, one reason per short resource, so a node can count
twice in the message): ``Too many pods`` (pods + 1 > allocatable pods), then
``Insufficient cpu`` / ``Insufficient memory`` / ``Insufficient ephemeral-storage`` /
``Insufficient <extended resource>`` when request > allocatable - requested.
A pod requesting nothing is only checked for the pod count.

Score (strategy ``LeastAllocated``, the default; ``MostAllocated`` packs): on cpu
and memory with weight 1 each, from the *non-zero* requests (a container
without a request counts 100m CPU / 200Mi memory here, so empty pods still spread).

>>> from aivle_k8s.cluster.scheduler.cache import NodeInfo, PodInfo
>>> node = NodeInfo({"metadata": {"name": "w1"}, "status": {"allocatable": {"cpu": "1", "memory": "1Gi", "pods": "1"}}})
>>> pod = PodInfo({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "x",
...     "resources": {"requests": {"cpu": "500m", "memory": "256Mi"}}}]}})
>>> NodeResourcesFit().filter(None, pod, node) is None, NodeResourcesFit().score(None, pod, node)
(True, 62)
>>> _ = node.add_pod({"metadata": {"name": "q"}, "spec": {"containers": [{"name": "c", "image": "x",
...     "resources": {"requests": {"cpu": "600m"}}}]}})
>>> NodeResourcesFit().filter(None, pod, node)
<Status Unschedulable NodeResourcesFit: Too many pods, Insufficient cpu>
"""

from __future__ import annotations

from ..cache import NodeInfo, PodInfo
from ..framework import Code, CycleState, FilterPlugin, PreFilterPlugin, ScorePlugin, Status
from .resource_allocation import least_requested_score, most_requested_score, weighted

STRATEGIES = {"LeastAllocated": least_requested_score, "MostAllocated": most_requested_score}


def _requested(node: NodeInfo, pod: PodInfo, resource: str) -> tuple[int, int]:
    """(requested with the pod, allocatable) as the scorers see them (non-zero for cpu / memory)."""
    if resource == "cpu":
        return node.nonzero_milli_cpu + pod.nz_milli_cpu, node.allocatable_milli_cpu
    if resource == "memory":
        return node.nonzero_memory + pod.nz_memory, node.allocatable_memory
    if resource == "ephemeral-storage":
        return node.requested_ephemeral + pod.ephemeral, node.allocatable_ephemeral
    return (node.requested_scalars.get(resource, 0) + pod.scalars.get(resource, 0),
            node.allocatable_scalars.get(resource, 0))


def insufficient_resources(pod: PodInfo, node: NodeInfo) -> list[str]:
    """The reasons the pod does not fit (``noderesources.Fits``), empty when it does."""
    reasons = []
    if len(node.pods) + 1 > node.allocatable_pods:
        reasons.append("Too many pods")
    cpu, mem, eph, scalars = pod.milli_cpu, pod.memory, pod.ephemeral, pod.scalars
    if not (cpu or mem or eph or scalars):
        return reasons
    if cpu and cpu > node.allocatable_milli_cpu - node.requested_milli_cpu:
        reasons.append("Insufficient cpu")
    if mem and mem > node.allocatable_memory - node.requested_memory:
        reasons.append("Insufficient memory")
    if eph and eph > node.allocatable_ephemeral - node.requested_ephemeral:
        reasons.append("Insufficient ephemeral-storage")
    for name in sorted(scalars):
        q = scalars[name]
        if q and q > node.allocatable_scalars.get(name, 0) - node.requested_scalars.get(name, 0):
            reasons.append(f"Insufficient {name}")
    return reasons


class NodeResourcesFit(PreFilterPlugin, FilterPlugin, ScorePlugin):
    """Args: ``strategy`` (LeastAllocated | MostAllocated), ``resources`` as ``(name, weight)``."""

    name = "NodeResourcesFit"
    node_local = True

    def __init__(self, strategy: str = "LeastAllocated", resources=(("cpu", 1), ("memory", 1))):
        if strategy not in STRATEGIES:
            raise ValueError(f"scoring strategy {strategy} is not supported")
        self.strategy = strategy
        self.resources = tuple(resources)
        self._scorer = STRATEGIES[strategy]
        self._default = self.resources == (("cpu", 1), ("memory", 1))

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        # the common case first, without building a list
        if (len(node.pods) < node.allocatable_pods and not pod.ephemeral and not pod.scalars
                and pod.milli_cpu <= node.allocatable_milli_cpu - node.requested_milli_cpu
                and pod.memory <= node.allocatable_memory - node.requested_memory):
            return None
        reasons = insufficient_resources(pod, node)
        return Status(Code.Unschedulable, *reasons, plugin=self.name) if reasons else None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        scorer = self._scorer
        if self._default:
            a_cpu, a_mem = node.allocatable_milli_cpu, node.allocatable_memory
            if a_cpu and a_mem:
                return (scorer(node.nonzero_milli_cpu + pod.nz_milli_cpu, a_cpu)
                        + scorer(node.nonzero_memory + pod.nz_memory, a_mem)) // 2
        return weighted(scorer, ((*_requested(node, pod, r), w) for r, w in self.resources))
