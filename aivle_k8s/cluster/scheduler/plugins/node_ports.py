"""NodePorts: a ``hostPort`` can be taken only once per node (per protocol and address).

``0.0.0.0`` (the default ``hostIP``) conflicts with every address on the same port.

>>> from aivle_k8s.cluster.scheduler.cache import NodeInfo, PodInfo
>>> def web(name): return {"metadata": {"name": name}, "spec": {"containers": [
...     {"name": "c", "image": "nginx", "ports": [{"containerPort": 80, "hostPort": 8080}]}]}}
>>> node = NodeInfo({"metadata": {"name": "w1"}}, [web("a")])
>>> NodePorts().filter(None, PodInfo(web("b")), node)
<Status Unschedulable NodePorts: node(s) didn't have free ports for the requested pod ports>
"""

from __future__ import annotations

from ..cache import NodeInfo, PodInfo
from ..framework import SKIP, Code, CycleState, FilterPlugin, PreFilterPlugin, Status

ERR_REASON = "node(s) didn't have free ports for the requested pod ports"


class NodePorts(PreFilterPlugin, FilterPlugin):
    """PreFilter: Skip pods without host ports. Filter: any wanted ``(ip, protocol, port)`` in use."""

    name = "NodePorts"
    node_local = True

    def pre_filter(self, state: CycleState, pod: PodInfo):
        return None if pod.host_ports else SKIP

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if not node.used_ports:
            return None
        for ip, protocol, port in pod.host_ports:
            if node.port_conflict(ip, protocol, port):
                return Status(Code.Unschedulable, ERR_REASON, plugin=self.name)
        return None
