"""The Scheduler façade: a cache, a priority queue and a framework, one cycle per pod.

It does what kube-scheduler's ``scheduleOne`` loop does, minus the API calls:
pop the most important pending pod, run a cycle, *assume* the pod on the chosen
node in the cache, run Reserve and Bind (which builds the ``v1.Binding``) and
hand the result back. Sending the binding, recording the ``Scheduled`` /
``FailedScheduling`` events and feeding cluster changes back
(``add_node``, ``remove_pod``...) are the caller's job, as is timing (back-off).

Pods that fit nowhere wait in :attr:`Scheduler.unschedulable` with their
result (``result.message`` is the FailedScheduling event text); any node
change or pod removal moves them back to the active queue.

>>> nodes = [{"metadata": {"name": "cp", "labels": {"node-role.kubernetes.io/control-plane": ""}},
...           "spec": {"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]},
...           "status": {"allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"}}},
...          {"metadata": {"name": "w1"}, "status": {"allocatable": {"cpu": "1", "memory": "2Gi", "pods": "110"}}}]
>>> sched = Scheduler(nodes, seed=0)
>>> def pod(name, cpu): return {"metadata": {"name": name, "namespace": "default", "uid": name},
...     "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": cpu}}}]}}
>>> [(p["metadata"]["name"], node) for p, node, _ in sched.schedule([pod("a", "600m"), pod("b", "600m")])]
[('a', 'w1'), ('b', None)]
>>> sched.unschedulable["b"].message
'0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.'
"""

from __future__ import annotations

import heapq
import random
from typing import Iterable

from .cache import Cache, NodeInfo, PodInfo, pod_key
from .framework import Code, CycleState, Framework, Profile, ScheduleResult
from .plugins.default_binder import BINDING_KEY

__all__ = ["SchedulingQueue", "Scheduler"]


class SchedulingQueue:
    """activeQ (a heap ordered by the profile's QueueSort: priority, then arrival) and the
    unschedulable pods with their last result."""

    def __init__(self, sort_key=None):
        self._sort_key = sort_key or (lambda pi, seq: (-pi.priority, seq))
        self._heap: list = []
        self._active: dict[str, PodInfo] = {}
        self._seq = 0
        self.unschedulable: dict[str, ScheduleResult] = {}

    def add(self, pod: dict | PodInfo) -> PodInfo:
        """Queue a pending pod (replacing a queued or unschedulable pod with the same key)."""
        pi = pod if isinstance(pod, PodInfo) else PodInfo(pod)
        self.unschedulable.pop(pi.key, None)
        self._seq += 1
        self._active[pi.key] = pi
        heapq.heappush(self._heap, (self._sort_key(pi, self._seq), self._seq, pi.key, pi))
        return pi

    def pop(self) -> PodInfo | None:
        """The next pod to schedule, or None."""
        heap, active = self._heap, self._active
        while heap:
            _, _, key, pi = heapq.heappop(heap)
            if active.get(key) is pi:
                del active[key]
                return pi
        return None

    def delete(self, key: str) -> None:
        self._active.pop(key, None)
        self.unschedulable.pop(key, None)

    def mark_unschedulable(self, result: ScheduleResult) -> None:
        self.unschedulable[result.pod.key] = result

    def move_all_to_active(self) -> int:
        """Give every unschedulable pod another try (a cluster event happened)."""
        waiting = list(self.unschedulable.values())
        self.unschedulable.clear()
        for result in waiting:
            self.add(result.pod)
        return len(waiting)

    def __len__(self) -> int:
        return len(self._active)

    @property
    def pending(self) -> list[PodInfo]:
        """Queued pods in the order they will be tried."""
        return [entry[3] for entry in sorted(self._heap) if self._active.get(entry[2]) is entry[3]]


class Scheduler:
    """Schedules pending pods onto nodes and returns the bindings.

    Args:
        nodes: Node dicts, NodeInfos, or a ready :class:`Cache`.
        pods: pods already on nodes (``spec.nodeName`` set) to account for.
        profile: the framework profile (default: kube-scheduler's default plugins).
        rng: the seeded ``random.Random`` that breaks ties; or give ``seed``.
        detail: keep per-node, per-plugin scores in every result.
        batching: reuse per-node results between identical pods (same decisions, faster).

    ``schedule(pods)`` returns ``[(pod, node or None, result)]`` in the order
    the pods were tried; ``result.binding`` is the Binding to POST.
    """

    def __init__(self, nodes: Cache | Iterable = (), pods: Iterable = (), *, profile: Profile | None = None,
                 rng: random.Random | None = None, seed: int = 0, detail: bool = True, batching: bool = True):
        self.cache = nodes if isinstance(nodes, Cache) else Cache(nodes)
        self.framework = Framework(profile, rng if rng is not None else random.Random(seed),
                                   detail=detail, batching=batching)
        qs = self.framework.queue_sort
        self.queue = SchedulingQueue(qs.sort_key if qs is not None else None)
        for p in pods:
            self.add_pod(p)

    @property
    def profile(self) -> Profile:
        return self.framework.profile

    @property
    def unschedulable(self) -> dict[str, ScheduleResult]:
        """Pods that fit nowhere, by key, with their last result (``.message``)."""
        return self.queue.unschedulable

    def responsible_for(self, pod: dict | PodInfo) -> bool:
        """Whether ``spec.schedulerName`` names this scheduler's profile."""
        pi = pod if isinstance(pod, PodInfo) else PodInfo(pod)
        return pi.scheduler_name == self.framework.scheduler_name

    # -- cluster events (from the API server watch) --------------------------------
    def add_node(self, node: dict | NodeInfo) -> NodeInfo:
        ni = self.cache.add_node(node)
        self.queue.move_all_to_active()
        return ni

    def update_node(self, node: dict) -> NodeInfo:
        """A node changed; waiting pods are retried only if something the scheduler reads changed."""
        epoch = self.cache.epoch
        ni = self.cache.update_node(node)
        if self.cache.epoch != epoch:
            self.queue.move_all_to_active()
        return ni

    def remove_node(self, name: str) -> NodeInfo | None:
        return self.cache.remove_node(name)

    def add_pod(self, pod: dict | PodInfo) -> PodInfo | None:
        """A pod appeared: bound pods are accounted, pending ones of this profile queued."""
        pi = pod if isinstance(pod, PodInfo) else PodInfo(pod)
        if pi.node_name:
            return self.cache.add_pod(pi)
        if not self.responsible_for(pi):
            return None
        return self.queue.add(pi)

    def remove_pod(self, pod: dict | PodInfo | str) -> None:
        """A pod was deleted: free its node's resources and retry the unschedulable pods."""
        key = pod if isinstance(pod, str) else pod.key if isinstance(pod, PodInfo) else pod_key(pod)
        self.queue.delete(key)
        if self.cache.remove_pod(key) is not None:
            self.queue.move_all_to_active()

    # -- scheduling ----------------------------------------------------------------
    def schedule_one(self) -> tuple[dict, str | None, ScheduleResult] | None:
        """One cycle for the most important pending pod; None when the queue is empty."""
        pi = self.queue.pop()
        if pi is None:
            return None
        fw = self.framework
        result = fw.schedule_one(pi, self.cache)
        node = result.node
        if node is None:
            if result.nominated_node:
                pi.nominated_node = result.nominated_node
            self.queue.mark_unschedulable(result)
            return pi.pod, None, result
        self.cache.assume_pod(pi, node)
        state = CycleState(self.cache)
        if fw.reserve_plugins:
            st = fw.run_reserve(state, pi, node)
            if st is not None:
                self.cache.forget_pod(pi)
                result.node = None
                result.error = st.message
                self.queue.mark_unschedulable(result)
                return pi.pod, None, result
        st = fw.run_bind(state, pi, node)
        if st is not None and st.code != Code.Success:
            fw.run_unreserve(state, pi, node)
            self.cache.forget_pod(pi)
            result.node = None
            result.error = st.message
            self.queue.mark_unschedulable(result)
            return pi.pod, None, result
        result.binding = state.get(BINDING_KEY)
        pi.nominated_node = ""
        return pi.pod, node, result

    def schedule(self, pods: Iterable = ()) -> list[tuple[dict, str | None, ScheduleResult]]:
        """Queue ``pods`` (pending ones of this profile) and schedule until the queue is empty.

        Each pod is tried once; those that fit nowhere stay in :attr:`unschedulable`.
        """
        queue = self.queue
        for p in pods:
            pi = p if isinstance(p, PodInfo) else PodInfo(p)
            if pi.scheduler_name == self.framework.scheduler_name:
                queue.add(pi)
        out = []
        while True:
            item = self.schedule_one()
            if item is None:
                return out
            out.append(item)

    def __repr__(self) -> str:
        return (f"<Scheduler {self.framework.scheduler_name} nodes={len(self.cache)} "
                f"pending={len(self.queue)} unschedulable={len(self.unschedulable)}>")
