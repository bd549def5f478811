"""kube-scheduler, the running component: informers in, bindings and Events out.

The :class:`~aivle_k8s.cluster.scheduler.Scheduler` framework decides; this
module does what ``pkg/scheduler/eventhandlers.go`` and ``schedule_one.go``
do around it:

- a Node informer feeds ``add_node`` / ``update_node`` / ``remove_node``;
- a Pod informer feeds bound pods into the cache and queues pending pods
  (empty ``spec.nodeName``, ``schedulerName: default-scheduler``, not terminating);
- scheduling cycles run on the simulated loop; a chosen node is bound with a
  ``v1.Binding`` (``pods/binding``) and an Event ``Scheduled``
  (``Successfully assigned default/web-1 to worker-1``); a pod that fits
  nowhere gets a ``FailedScheduling`` Warning with the framework's
  ``0/3 nodes are available: ...`` message and waits until a node or pod
  event (or the 5 minute leftover flush) makes it worth another try;
- optional leader election through the Lease ``kube-system/kube-scheduler``.

>>> from aivle_k8s.cluster.controllers.testing import TestCluster
>>> env = TestCluster(); _ = env.add_node("worker-1")
>>> ks = KubeScheduler(env.sched_client, env.loop); ks.start()
>>> _ = env.client.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1"},
...                        "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
>>> env.advance(1); env.client.get("pods", "web-1")["spec"]["nodeName"]
'worker-1'
"""

from __future__ import annotations

import random
from typing import Any, Callable

from .apiserver.errors import ConflictError, NotFoundError, StatusError
from .controllers.base import EventRecorder, LeaderElector, SharedInformers, is_transient
from .scheduler import Scheduler
from .scheduler.cache import pod_key

__all__ = ["KubeScheduler", "from_flags"]

#: podMaxInUnschedulablePodsDuration: unschedulable pods are retried at least this often.
UNSCHEDULABLE_FLUSH = 300.0
FLUSH_PERIOD = 30.0


class KubeScheduler:
    """The kube-scheduler process's main loop.

    Args:
        client: an APIClient as ``system:kube-scheduler``.
        loop: the simulated clock.
        rng: seeded ``random.Random`` for tie-breaking.
        leader_elect: take the Lease ``kube-system/kube-scheduler`` before scheduling.
        identity: the holder identity (``<hostname>_<uid>`` in a real one).
        detail: keep per-node score details in results (``last_results``).
        scheduler_name: the profile's ``schedulerName``.
    """

    def __init__(self, client: Any, loop: Any, rng: random.Random | None = None, *, leader_elect: bool = False,
                 identity: str = "kube-scheduler", detail: bool = False, scheduler_name: str = "default-scheduler",
                 informers: SharedInformers | None = None):
        self.client = client
        self.loop = loop
        self.rng = rng if rng is not None else random.Random(0)
        self.scheduler = Scheduler([], rng=self.rng, detail=detail)
        self.scheduler_name = scheduler_name
        self.informers = informers or SharedInformers(client, loop)
        self.recorder = EventRecorder(client, loop, "default-scheduler")
        self.nodes = self.informers.get("nodes")
        self.pods = self.informers.get("pods")
        self.nodes.add_handler(self._node_added, self._node_updated, self._node_deleted)
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)
        self.running = False
        self.active = False  # leading (or no election)
        self._cycle_scheduled = False
        self._unschedulable_since: dict[str, float] = {}
        self._flush_timer = None
        self.scheduled = 0
        self.failed = 0
        self.last_results: dict[str, Any] = {}
        self.elector = LeaderElector(client, loop, identity, name="kube-scheduler",
                                     on_started_leading=self._start_leading,
                                     on_stopped_leading=self._stop_leading) if leader_elect else None

    def __repr__(self) -> str:
        return (f"<KubeScheduler {'running' if self.running else 'stopped'} scheduled={self.scheduled} "
                f"unschedulable={len(self.scheduler.unschedulable)}>")

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        if self.running:
            return
        self.running = True
        self.informers.start()
        if self.elector is not None:
            self.elector.start()
        else:
            self._start_leading()

    def stop(self) -> None:
        self.running = False
        if self.elector is not None:
            self.elector.stop()
        self._stop_leading()
        self.informers.stop()

    def _start_leading(self) -> None:
        self.active = True
        # rebuild from the caches: everything pending gets a cycle
        for node in self.nodes.list():
            self.scheduler.add_node(node)
        for pod in self.pods.list():
            self._pod_added(pod)
        if self._flush_timer is None:
            self._flush_timer = self.loop.call_every(FLUSH_PERIOD, self._flush_leftover)
        self._kick()

    def _stop_leading(self) -> None:
        self.active = False
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None

    # -- event handlers --------------------------------------------------------------
    def _responsible(self, pod: dict) -> bool:
        return (pod.get("spec") or {}).get("schedulerName", "default-scheduler") == self.scheduler_name

    @staticmethod
    def _pending(pod: dict) -> bool:
        return (not (pod.get("spec") or {}).get("nodeName") and not pod["metadata"].get("deletionTimestamp")
                and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"))

    @staticmethod
    def _terminal(pod: dict) -> bool:
        return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")

    def _node_added(self, node: dict) -> None:
        if not self.active:
            return
        self.scheduler.add_node(node)
        self._kick()

    def _node_updated(self, old: dict, new: dict) -> None:
        if not self.active:
            return
        before = len(self.scheduler.queue)
        self.scheduler.update_node(new)
        if len(self.scheduler.queue) != before:
            self._kick()

    def _node_deleted(self, node: dict) -> None:
        if self.active:
            self.scheduler.remove_node(node["metadata"]["name"])

    def _pod_added(self, pod: dict) -> None:
        if not self.active:
            return
        if self._terminal(pod):
            return
        if (pod.get("spec") or {}).get("nodeName"):
            self.scheduler.add_pod(pod)
            return
        if self._pending(pod) and self._responsible(pod):
            self.scheduler.add_pod(pod)
            self._kick()

    def _pod_updated(self, old: dict, new: dict) -> None:
        if not self.active:
            return
        key = pod_key(new)
        if (new.get("spec") or {}).get("nodeName"):
            if self._terminal(new):
                self.scheduler.remove_pod(key)
                self._kick()
            else:
                self.scheduler.queue.delete(key)
                self.scheduler.add_pod(new)
            self._unschedulable_since.pop(key, None)
            return
        if not self._pending(new):
            self.scheduler.remove_pod(key)
            return
        if self._responsible(new) and (old.get("spec") != new.get("spec") or
                                       old["metadata"].get("labels") != new["metadata"].get("labels")):
            self.scheduler.add_pod(new)
            self._kick()

    def _pod_deleted(self, pod: dict) -> None:
        if not self.active:
            return
        key = pod_key(pod)
        self._unschedulable_since.pop(key, None)
        before = len(self.scheduler.queue)
        self.scheduler.remove_pod(key)
        if len(self.scheduler.queue) != before:
            self._kick()

    # -- scheduling ------------------------------------------------------------------
    def _kick(self) -> None:
        if self.running and self.active and not self._cycle_scheduled:
            self._cycle_scheduled = True
            self.loop.call_soon(self.run_cycles)

    def _flush_leftover(self) -> None:
        now = self.loop.now
        stale = [k for k, t in self._unschedulable_since.items() if now - t >= UNSCHEDULABLE_FLUSH]
        for k in stale:
            result = self.scheduler.unschedulable.pop(k, None)
            self._unschedulable_since.pop(k, None)
            if result is not None:
                self.scheduler.queue.add(result.pod)
        if stale:
            self._kick()

    def run_cycles(self) -> int:
        """Schedule every queued pod once (what ``scheduleOne`` does in a loop); returns pods bound."""
        self._cycle_scheduled = False
        if not self.active:
            return 0
        bound = 0
        while True:
            item = self.scheduler.schedule_one()
            if item is None:
                return bound
            pod, node, result = item
            key = pod_key(pod)
            self.last_results[key] = result
            if len(self.last_results) > 10000:
                self.last_results.clear()
            if node is None:
                self.failed += 1
                self._unschedulable_since.setdefault(key, self.loop.now)
                self.recorder.warning(pod, "FailedScheduling", result.message)
                continue
            self._unschedulable_since.pop(key, None)
            if self._bind(pod, node, result):
                bound += 1

    def _bind(self, pod: dict, node: str, result: Any) -> bool:
        m = pod["metadata"]
        ns = m.get("namespace") or "default"
        binding = result.binding or {"apiVersion": "v1", "kind": "Binding",
                                     "metadata": {"name": m["name"], "namespace": ns, "uid": m.get("uid")},
                                     "target": {"apiVersion": "v1", "kind": "Node", "name": node}}
        try:
            self.client.create(binding, namespace=ns)
        except Exception as e:  # noqa: BLE001
            self.scheduler.cache.forget_pod(pod_key(pod))
            if isinstance(e, NotFoundError) or (isinstance(e, ConflictError) and "being deleted" in str(e)):
                return False
            if isinstance(e, ConflictError) and "already assigned" in str(e):
                return False
            if not (is_transient(e) or isinstance(e, StatusError)):
                raise
            # the API server is away: try again after a back-off
            self.recorder.warning(pod, "FailedScheduling", f"Binding rejected: {e}")
            self.loop.call_later(1.0, lambda p=pod: self._requeue(p))
            return False
        self.scheduled += 1
        self.recorder.normal(pod, "Scheduled", f"Successfully assigned {ns}/{m['name']} to {node}")
        return True

    def _requeue(self, pod: dict) -> None:
        m = pod["metadata"]
        cur = self.pods.get(f"{m.get('namespace') or 'default'}/{m['name']}")
        if cur is not None and self._pending(cur):
            self.scheduler.add_pod(cur)
            self._kick()


def from_flags(proc: Any, client: Any, flags: dict) -> KubeScheduler:
    """Build the scheduler from ``kube-scheduler`` flags (``--leader-elect=true`` as kubeadm writes them)."""
    world = proc.kernel.owner.world
    rng = random.Random(world.rng.getrandbits(64)) if hasattr(world, "rng") else random.Random(0)
    return KubeScheduler(client, world.loop, rng, leader_elect=flags.get("leader-elect", "true") == "true",
                         identity=f"{getattr(proc.kernel.owner, 'hostname', 'master')}_kube-scheduler")
