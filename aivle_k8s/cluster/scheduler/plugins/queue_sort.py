"""PrioritySort: the scheduling queue's order, higher ``spec.priority`` first, then arrival.

>>> from aivle_k8s.cluster.scheduler.cache import PodInfo
>>> low = PodInfo({"metadata": {"name": "low"}, "spec": {"priority": 0, "containers": []}})
>>> high = PodInfo({"metadata": {"name": "high"}, "spec": {"priority": 1000, "containers": []}})
>>> sorted([(PrioritySort().sort_key(low, 1), "low"), (PrioritySort().sort_key(high, 2), "high")])[0][1]
'high'
"""

from __future__ import annotations

from ..cache import PodInfo
from ..framework import QueueSortPlugin


class PrioritySort(QueueSortPlugin):
    """``Less``: the pod with the higher priority; on a tie, the one queued first."""

    name = "PrioritySort"

    def sort_key(self, pod: PodInfo, seq: int) -> tuple:
        return (-pod.priority, seq)
