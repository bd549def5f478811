"""NodeName: a pod that names its node (``spec.nodeName``) fits only there.

>>> from aivle_k8s.cluster.scheduler.cache import NodeInfo, PodInfo
>>> pod = PodInfo({"metadata": {"name": "p"}, "spec": {"nodeName": "w1", "containers": []}})
>>> NodeName().filter(None, pod, NodeInfo({"metadata": {"name": "w2"}}))
<Status UnschedulableAndUnresolvable NodeName: node(s) didn't match the requested node name>
"""

from __future__ import annotations

from ..cache import NodeInfo, PodInfo
from ..framework import SKIP, Code, CycleState, FilterPlugin, PreFilterPlugin, Status

ERR_REASON = "node(s) didn't match the requested node name"


class NodeName(PreFilterPlugin, FilterPlugin):
    """Filter: ``spec.nodeName`` empty or equal to the node's name.

    (The PreFilter only skips the Filter for pods without ``spec.nodeName``: the
    same verdicts, fewer calls. Note the real kube-scheduler never even sees a
    pod whose ``nodeName`` is set; the kubelet of that node runs it directly.)
    """

    name = "NodeName"
    node_local = True

    def pre_filter(self, state: CycleState, pod: PodInfo):
        return None if pod.node_name else SKIP

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if pod.node_name and pod.node_name != node.name:
            return Status(Code.UnschedulableAndUnresolvable, ERR_REASON, plugin=self.name)
        return None
