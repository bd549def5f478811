"""NodeUnschedulable: a cordoned node (``spec.unschedulable``) takes no new pods.

Unless the pod tolerates ``node.kubernetes.io/unschedulable:NoSchedule`` (DaemonSet pods do).

>>> from aivle_k8s.cluster.scheduler.cache import NodeInfo, PodInfo
>>> cordoned = NodeInfo({"metadata": {"name": "w1"}, "spec": {"unschedulable": True}})
>>> NodeUnschedulable().filter(None, PodInfo({"metadata": {"name": "p"}, "spec": {"containers": []}}), cordoned)
<Status UnschedulableAndUnresolvable NodeUnschedulable: node(s) were unschedulable>
"""

from __future__ import annotations

from ..cache import NodeInfo, PodInfo
from ..framework import Code, CycleState, FilterPlugin, Status
from .helpers import tolerates

ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable"
TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"


class NodeUnschedulable(FilterPlugin):
    name = "NodeUnschedulable"
    node_local = True

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if not node.unschedulable:
            return None
        if tolerates(pod.tolerations, TAINT_NODE_UNSCHEDULABLE, "", "NoSchedule"):
            return None
        return Status(Code.UnschedulableAndUnresolvable, ERR_REASON_UNSCHEDULABLE, plugin=self.name)
