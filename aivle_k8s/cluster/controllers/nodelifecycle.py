"""The node lifecycle controller and its NoExecute taint eviction.

Every ``node_monitor_period`` (5 s) each node's health is checked: the time
the controller last *saw* its Lease in ``kube-node-lease`` or its Ready
heartbeat change is its probe time; once ``grace_period`` (40 s) has passed
since then, Ready, MemoryPressure, DiskPressure and PIDPressure become
``Unknown`` with reason ``NodeStatusUnknown`` and message
``Kubelet stopped posting node status.``, and the node's pods get Ready=False.

Taints follow the Ready condition: Unknown -> ``node.kubernetes.io/unreachable``
NoSchedule + NoExecute, False -> ``node.kubernetes.io/not-ready`` NoSchedule +
NoExecute, True -> neither (so the ``not-ready:NoSchedule`` taint every new node
starts with goes away once the kubelet reports Ready). ``spec.unschedulable``
adds ``node.kubernetes.io/unschedulable:NoSchedule``; pressure conditions add
their NoSchedule taints.

Taint eviction: a pod on a node with NoExecute taints it does not tolerate is
deleted at once; one that tolerates them for ``tolerationSeconds`` (300 s by
default, added by the DefaultTolerationSeconds admission) is deleted after
that long — through the API, so its ReplicaSet makes a replacement elsewhere.
Events: ``NodeNotReady`` (node-controller), ``TaintManagerEviction``
``Marking for deletion Pod default/web-x`` (taint-eviction-controller).
"""

from __future__ import annotations

import copy
from typing import Any

from ..apiserver.errors import NotFoundError
from .base import Controller, EventRecorder, parse_time, rfc3339

__all__ = ["NodeLifecycleController", "UNREACHABLE", "NOT_READY"]

UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
_PRESSURE = {"MemoryPressure": "node.kubernetes.io/memory-pressure",
             "DiskPressure": "node.kubernetes.io/disk-pressure",
             "PIDPressure": "node.kubernetes.io/pid-pressure",
             "NetworkUnavailable": "node.kubernetes.io/network-unavailable"}
_MANAGED = {UNREACHABLE, NOT_READY, UNSCHEDULABLE, *_PRESSURE.values()}
_UNKNOWN_TYPES = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")


def _cond(obj: dict, kind: str) -> dict | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return c
    return None


def tolerates(toleration: dict, taint: dict) -> bool:
    """``v1.Toleration.ToleratesTaint``."""
    if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
        return False
    op = toleration.get("operator") or "Equal"
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    if op == "Exists":
        return True
    if not key:
        return False
    return (toleration.get("value") or "") == (taint.get("value") or "")


class NodeLifecycleController(Controller):
    """``nodelifecycle`` (with the ``taint-eviction-controller``) in ``--controllers``."""

    name = "nodelifecycle"
    component = "node-controller"

    def __init__(self, *args: Any, grace_period: float = 40.0, monitor_period: float = 5.0,
                 eviction: bool = True, **kwargs: Any):
        self.grace_period = grace_period
        self.monitor_period = monitor_period
        self.eviction = eviction
        self._probe: dict[str, tuple[tuple, float]] = {}
        super().__init__(*args, **kwargs)
        self.eviction_recorder = EventRecorder(self.client, self.loop, "taint-eviction-controller")

    def setup(self) -> None:
        self.nodes = self.informer("nodes")
        self.leases = self.informer("leases", "kube-node-lease")
        self.pods = self.informer("pods")
        self.pods.add_index("node", lambda p: [n for n in [(p.get("spec") or {}).get("nodeName")] if n])
        self.nodes.add_handler(self.enqueue, lambda o, n: self.enqueue(n), self._node_deleted)
        self.leases.add_handler(lambda l: self.enqueue(l["metadata"]["name"]),
                                lambda o, n: self.enqueue(n["metadata"]["name"]))
        self.pods.add_handler(self._pod_event, lambda o, n: self._pod_event(n))

    def resync(self) -> None:
        for n in self.nodes.list():
            self.enqueue(n)

    def periodic(self) -> list:
        return [(self.monitor_period, self.monitor)]

    def monitor(self) -> None:
        """``monitorNodeHealth``: check every node now."""
        for n in self.nodes.list():
            self.queue.add(n["metadata"]["name"])

    def _node_deleted(self, node: dict) -> None:
        self._probe.pop(node["metadata"]["name"], None)

    def _pod_event(self, pod: dict) -> None:
        node = (pod.get("spec") or {}).get("nodeName")
        if node and self.eviction and not pod["metadata"].get("deletionTimestamp"):
            n = self.nodes.get(node)
            if n is not None and any(t.get("effect") == "NoExecute" for t in (n.get("spec") or {}).get("taints") or []):
                self.enqueue(pod)

    # -- reconcile -------------------------------------------------------------------
    def reconcile(self, key: str) -> None:
        if "/" in key:
            self._reconcile_pod(key)
            return
        node = self.nodes.get(key)
        if node is None:
            return
        node = self._check_health(node)
        self._sync_taints(node)
        node = self.nodes.get(key) or node
        if self.eviction and any(t.get("effect") == "NoExecute" for t in (node.get("spec") or {}).get("taints") or []):
            for pod in self.pods.by_index("node", key):  # only NoExecute taints evict
                if not pod["metadata"].get("deletionTimestamp"):
                    self.queue.add(f"{pod['metadata']['namespace']}/{pod['metadata']['name']}")

    def _check_health(self, node: dict) -> dict:
        name = node["metadata"]["name"]
        now = self.loop.now
        ready = _cond(node, "Ready")
        lease = self.leases.get(f"kube-node-lease/{name}")
        seen = ((ready or {}).get("lastHeartbeatTime"), (lease or {}).get("spec", {}).get("renewTime"))
        prev = self._probe.get(name)
        if prev is None or prev[0] != seen:
            self._probe[name] = (seen, now)
            prev = self._probe[name]
        probe = prev[1]
        if now <= probe + self.grace_period:
            self.enqueue(name, delay=probe + self.grace_period - now + 0.001)
            return node
        # grace period over: the kubelet stopped posting node status
        if ready is not None and ready.get("status") == "Unknown":
            return node
        stamp = rfc3339(now)
        body = copy.deepcopy(node)
        conds = body.setdefault("status", {}).setdefault("conditions", [])
        have = {c.get("type") for c in conds}
        for c in conds:
            if c.get("type") in _UNKNOWN_TYPES:
                c.update({"status": "Unknown", "reason": "NodeStatusUnknown",
                          "message": "Kubelet stopped posting node status.", "lastTransitionTime": stamp})
        for t in _UNKNOWN_TYPES:
            if t not in have:
                conds.append({"type": t, "status": "Unknown", "reason": "NodeStatusNeverUpdated",
                              "message": "Kubelet never posted node status.", "lastHeartbeatTime": stamp,
                              "lastTransitionTime": stamp})
        updated = self.client.update(body, subresource="status")
        self.nodes.assume(updated)
        self.recorder.normal(updated, "NodeNotReady", f"Node {name} status is now: NodeNotReady")
        self._mark_pods_not_ready(name)
        return updated

    def _mark_pods_not_ready(self, node: str) -> None:
        """``MarkPodsNotReady``: the node's pods are no longer Ready."""
        for pod in self.pods.by_index("node", node):
            if pod["metadata"].get("deletionTimestamp"):
                continue
            body = copy.deepcopy(pod)
            conds = body.setdefault("status", {}).setdefault("conditions", [])
            changed = False
            for c in conds:
                if c.get("type") == "Ready" and c.get("status") != "False":
                    c.update({"status": "False", "lastTransitionTime": self.now()})
                    changed = True
            if not changed:
                continue
            try:
                self.pods.assume(self.client.update(body, subresource="status"))
            except NotFoundError:
                continue

    def _desired_taints(self, node: dict) -> list[dict]:
        ready = _cond(node, "Ready")
        status = (ready or {}).get("status", "Unknown")
        want: list[dict] = []
        if status == "Unknown":
            want += [{"key": UNREACHABLE, "effect": "NoSchedule"}, {"key": UNREACHABLE, "effect": "NoExecute"}]
        elif status == "False":
            want += [{"key": NOT_READY, "effect": "NoSchedule"}, {"key": NOT_READY, "effect": "NoExecute"}]
        for kind, key in _PRESSURE.items():
            c = _cond(node, kind)
            if c is not None and c.get("status") == "True":
                want.append({"key": key, "effect": "NoSchedule"})
        if (node.get("spec") or {}).get("unschedulable"):
            want.append({"key": UNSCHEDULABLE, "effect": "NoSchedule"})
        return want

    def _sync_taints(self, node: dict) -> None:
        current = list((node.get("spec") or {}).get("taints") or [])
        want = self._desired_taints(node)
        keep = [t for t in current if t.get("key") not in _MANAGED or
                any(w["key"] == t.get("key") and w["effect"] == t.get("effect") for w in want)]
        for w in want:
            if not any(t.get("key") == w["key"] and t.get("effect") == w["effect"] for t in keep):
                t = dict(w)
                if t["effect"] == "NoExecute":
                    t["timeAdded"] = self.now()
                keep.append(t)
        if keep == current:
            return
        body = copy.deepcopy(node)
        body.setdefault("spec", {})["taints"] = keep
        if not keep:
            body["spec"].pop("taints")
        self.nodes.assume(self.client.update(body))

    # -- taint eviction --------------------------------------------------------------
    def _reconcile_pod(self, key: str) -> None:
        pod = self.pods.get(key)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            return
        node = self.nodes.get((pod.get("spec") or {}).get("nodeName") or "")
        if node is None:
            return
        taints = [t for t in (node.get("spec") or {}).get("taints") or [] if t.get("effect") == "NoExecute"]
        if not taints:
            return
        tolerations = (pod.get("spec") or {}).get("tolerations") or []
        deadline = float("-inf")
        forever = True
        for taint in taints:
            used = [t for t in tolerations if tolerates(t, taint)]
            if not used:
                deadline = self.loop.now
                forever = False
                break
            secs = [t["tolerationSeconds"] for t in used if t.get("tolerationSeconds") is not None]
            if not secs:
                continue
            forever = False
            added = parse_time(taint.get("timeAdded"))
            start = added if added is not None else self.loop.now
            deadline = max(deadline, start + max(min(secs), 0))
        if forever:
            return
        if self.loop.now < deadline:
            self.enqueue(key, delay=deadline - self.loop.now)
            return
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        self.eviction_recorder.normal(pod, "TaintManagerEviction", f"Marking for deletion Pod {ns}/{name}")
        body = copy.deepcopy(pod)
        conds = [c for c in body.setdefault("status", {}).get("conditions") or [] if c.get("type") != "DisruptionTarget"]
        conds.append({"type": "DisruptionTarget", "status": "True", "reason": "DeletionByTaintManager",
                      "message": "Taint manager: deleting due to NoExecute taint", "lastProbeTime": None,
                      "lastTransitionTime": self.now()})
        body["status"]["conditions"] = conds
        try:
            self.client.update(body, subresource="status")
        except Exception:  # noqa: BLE001 - the condition is best effort; the deletion is what counts
            pass
        try:
            gone = self.client.delete("pods", name, ns)
        except NotFoundError:
            return
        if gone.get("kind") == "Pod" and gone["metadata"].get("deletionTimestamp"):
            self.pods.assume(gone)
