"""The ReplicaSet controller: keep ``spec.replicas`` pods matching the selector.

Pods are created from the template with ``generateName: <rs>-`` (the API
server picks the 5-character suffix from ``bcdfghjklmnpqrstvwxz2456789``),
owned by the ReplicaSet (``controller: true``, ``blockOwnerDeletion: true``).
Orphans matching the selector are adopted, owned pods that no longer match are
released. Surplus pods are deleted in the real order
(``controller.ActivePodsWithRanks``): unscheduled before scheduled, Pending
before Unknown before Running, not ready before ready, doubled-up on a node
first, ready for less time first, more restarts first, newest first.

Events: ``SuccessfulCreate`` ``Created pod: web-7d4b9c-abcde`` and
``SuccessfulDelete`` ``Deleted pod: web-7d4b9c-abcde``.
"""

from __future__ import annotations

import copy
from typing import Any

from ..apiserver.errors import AlreadyExistsError, NotFoundError, StatusError
from .base import (Controller, controller_of, is_pod_active, is_pod_ready, label_selector_matches, owner_reference,
                   parse_time, pod_ready_since, split_key)

__all__ = ["ReplicaSetController", "pod_from_template", "pods_to_delete", "BURST_REPLICAS"]

#: ``--concurrent-replicaset-syncs``' sibling: at most this many creates/deletes per sync.
BURST_REPLICAS = 500
SLOW_START_INITIAL_BATCH_SIZE = 1


def pod_from_template(template: dict, owner: dict, namespace: str) -> dict:
    """``controller.GetPodFromTemplate``: a Pod for ``owner`` from its pod template."""
    tmeta = template.get("metadata") or {}
    meta: dict[str, Any] = {"generateName": f"{owner['metadata']['name']}-", "namespace": namespace,
                            "ownerReferences": [owner_reference(owner)]}
    if tmeta.get("labels"):
        meta["labels"] = dict(tmeta["labels"])
    if tmeta.get("annotations"):
        meta["annotations"] = dict(tmeta["annotations"])
    if tmeta.get("finalizers"):
        meta["finalizers"] = list(tmeta["finalizers"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": copy.deepcopy(template.get("spec") or {})}


def _phase_rank(pod: dict) -> int:
    return {"Pending": 0, "Unknown": 1, "Running": 2}.get((pod.get("status") or {}).get("phase", ""), 0)


def _restarts(pod: dict) -> int:
    return max((int(c.get("restartCount") or 0) for c in (pod.get("status") or {}).get("containerStatuses") or []),
               default=0)


def _deletion_cost(pod: dict) -> int:
    try:
        return int(((pod.get("metadata") or {}).get("annotations") or {}).get(
            "controller.kubernetes.io/pod-deletion-cost", 0))
    except (TypeError, ValueError):
        return 0


def pods_to_delete(pods: list[dict], related: list[dict], diff: int) -> list[dict]:
    """The ``diff`` pods to delete first (``getPodsToDelete`` with ``ActivePodsWithRanks``)."""
    per_node: dict[str, int] = {}
    for p in related:
        node = (p.get("spec") or {}).get("nodeName")
        if node and is_pod_active(p):
            per_node[node] = per_node.get(node, 0) + 1

    def rank(p: dict) -> tuple:
        node = (p.get("spec") or {}).get("nodeName") or ""
        ready = is_pod_ready(p)
        since = pod_ready_since(p) if ready else None
        created = parse_time((p.get("metadata") or {}).get("creationTimestamp")) or 0.0
        return (1 if node else 0,                 # unassigned first
                _phase_rank(p),                   # Pending < Unknown < Running
                1 if ready else 0,                # not ready first
                _deletion_cost(p),                # lower cost first
                -(per_node.get(node, 0) if node else 0),  # doubled up first
                -(since if since is not None else 0.0),   # ready for less time first
                -_restarts(p),                    # more restarts first
                -created,                         # newer first
                p["metadata"]["name"])

    return sorted(pods, key=rank)[:diff]


class ReplicaSetController(Controller):
    """``replicaset`` in ``kube-controller-manager --controllers``."""

    name = "replicaset"
    component = "replicaset-controller"
    owner_kind = "ReplicaSet"
    owner_api_version = "apps/v1"
    resource = "replicasets"

    def setup(self) -> None:
        self.owners = self.informer(self.resource)
        self.pods = self.informer("pods")
        self.pods.add_index("controller-uid", lambda p: [r["uid"] for r in [controller_of(p)] if r])
        self.pods.add_index("namespace", lambda p: [p["metadata"].get("namespace", "")])
        # pods with no controller, by namespace: the only ones a ReplicaSet may adopt
        self.pods.add_index("orphans", lambda p: [] if controller_of(p) else [p["metadata"].get("namespace", "")])
        self.owners.add_index("uid", lambda o: [o["metadata"].get("uid", "")])
        self.owners.add_handler(self.enqueue, lambda old, new: self.enqueue(new), self.enqueue)
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)

    def resync(self) -> None:
        for o in self.owners.list():
            self.enqueue(o)

    # -- event handlers: enqueue the owners concerned -------------------------------
    def _owners_of(self, pod: dict) -> list[dict]:
        ref = controller_of(pod)
        if ref is not None:
            if ref.get("kind") != self.owner_kind:
                return []
            return [o for o in self.owners.by_index("uid", ref.get("uid", ""))]
        ns = pod["metadata"].get("namespace")
        labels = pod["metadata"].get("labels") or {}
        return [o for o in self.owners.list() if o["metadata"].get("namespace") == ns
                and label_selector_matches((o.get("spec") or {}).get("selector"), labels)]

    def _pod_added(self, pod: dict) -> None:
        for o in self._owners_of(pod):
            self.enqueue(o)

    def _pod_updated(self, old: dict, new: dict) -> None:
        seen = set()
        for o in self._owners_of(old) + self._owners_of(new):
            k = o["metadata"].get("uid")
            if k not in seen:
                seen.add(k)
                self.enqueue(o)
                ms = (o.get("spec") or {}).get("minReadySeconds") or 0
                if ms and not is_pod_ready(old) and is_pod_ready(new):
                    self.enqueue(o, delay=ms + 0.001)

    def _pod_deleted(self, pod: dict) -> None:
        for o in self._owners_of(pod):
            self.enqueue(o)

    # -- reconcile -------------------------------------------------------------------
    def claim_pods(self, owner: dict) -> list[dict]:
        """``PodControllerRefManager.ClaimPods``: adopt matching orphans, release non-matching pods."""
        m = owner["metadata"]
        ns, uid = m.get("namespace"), m["uid"]
        selector = (owner.get("spec") or {}).get("selector")
        mine: list[dict] = []
        # its own pods (by controller uid) and the namespace's orphans: not every pod of the namespace
        candidates = self.pods.by_index("controller-uid", uid) + self.pods.by_index("orphans", ns or "")
        for pod in sorted(candidates, key=lambda p: p["metadata"]["name"]):
            pm = pod["metadata"]
            ref = controller_of(pod)
            labels = pm.get("labels") or {}
            matches = label_selector_matches(selector, labels)
            if ref is not None:
                if ref.get("uid") != uid:
                    continue
                if matches:
                    mine.append(pod)
                elif not pm.get("deletionTimestamp"):
                    self._release(owner, pod)
                continue
            if not matches or pm.get("deletionTimestamp") or m.get("deletionTimestamp"):
                continue
            adopted = self._adopt(owner, pod)
            if adopted is not None:
                mine.append(adopted)
        return mine

    def _adopt(self, owner: dict, pod: dict) -> dict | None:
        refs = list(pod["metadata"].get("ownerReferences") or []) + [owner_reference(owner)]
        try:
            new = self.client.patch("pods", pod["metadata"]["name"],
                                    {"metadata": {"ownerReferences": refs, "uid": pod["metadata"]["uid"]}},
                                    namespace=pod["metadata"].get("namespace"), patch_type="merge")
        except NotFoundError:
            return None
        self.pods.assume(new)
        return new

    def _release(self, owner: dict, pod: dict) -> None:
        refs = [r for r in pod["metadata"].get("ownerReferences") or [] if r.get("uid") != owner["metadata"]["uid"]]
        try:
            new = self.client.patch("pods", pod["metadata"]["name"],
                                    {"metadata": {"ownerReferences": refs or None}},
                                    namespace=pod["metadata"].get("namespace"), patch_type="merge")
        except NotFoundError:
            return
        self.pods.assume(new)

    def reconcile(self, key: str) -> None:
        owner = self.owners.get(key)
        if owner is None:
            return
        pods = self.claim_pods(owner)
        active = [p for p in pods if is_pod_active(p)]
        if not owner["metadata"].get("deletionTimestamp"):
            self.manage_replicas(owner, active, pods)
        owner = self.owners.get(key) or owner
        self.update_status(owner, active, pods)

    def desired(self, owner: dict) -> int:
        r = (owner.get("spec") or {}).get("replicas")
        return 1 if r is None else int(r)

    def manage_replicas(self, owner: dict, active: list[dict], all_pods: list[dict]) -> None:
        diff = len(active) - self.desired(owner)
        m = owner["metadata"]
        ns = m.get("namespace") or "default"
        if diff < 0:
            want = min(-diff, BURST_REPLICAS)
            template = (owner.get("spec") or {}).get("template") or {}
            batch, done = SLOW_START_INITIAL_BATCH_SIZE, 0
            while done < want:
                size = min(batch, want - done)
                for _ in range(size):
                    try:
                        pod = self.client.create(pod_from_template(template, owner, ns), namespace=ns)
                    except StatusError as e:
                        if isinstance(e, AlreadyExistsError):
                            continue
                        self.recorder.warning(owner, "FailedCreate", f"Error creating: {e}")
                        raise
                    self.pods.assume(pod)
                    self.recorder.normal(owner, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}")
                done += size
                batch *= 2
        elif diff > 0:
            for pod in pods_to_delete(active, all_pods, min(diff, BURST_REPLICAS)):
                name = pod["metadata"]["name"]
                try:
                    gone = self.client.delete("pods", name, ns)
                except NotFoundError:
                    self.pods.assume_deleted(pod)
                    continue
                except StatusError as e:
                    self.recorder.warning(owner, "FailedDelete", f"Error deleting: {e}")
                    raise
                if gone.get("metadata", {}).get("deletionTimestamp") and gone.get("kind") == "Pod":
                    self.pods.assume(gone)
                else:
                    self.pods.assume_deleted(pod)
                self.recorder.normal(owner, "SuccessfulDelete", f"Deleted pod: {name}")

    def _available(self, owner: dict, pods: list[dict]) -> tuple[int, int, float | None]:
        """(ready, available, seconds until the next pod becomes available)."""
        min_ready = int((owner.get("spec") or {}).get("minReadySeconds") or 0)
        now = self.loop.now
        ready = available = 0
        wait = None
        for p in pods:
            since = pod_ready_since(p)
            if since is None:
                continue
            ready += 1
            if min_ready == 0 or since + min_ready <= now:
                available += 1
            else:
                left = since + min_ready - now
                wait = left if wait is None else min(wait, left)
        return ready, available, wait

    def update_status(self, owner: dict, active: list[dict], pods: list[dict]) -> None:
        selector_labels = ((owner.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
        fully = sum(1 for p in active if all((p["metadata"].get("labels") or {}).get(k) == v
                                            for k, v in selector_labels.items()))
        ready, available, wait = self._available(owner, active)
        status = dict(owner.get("status") or {})
        new = {"replicas": len(active), "fullyLabeledReplicas": fully, "readyReplicas": ready,
               "availableReplicas": available,
               "observedGeneration": owner["metadata"].get("generation", 1)}
        if wait is not None:
            self.enqueue(owner, delay=wait + 0.001)
        merged = dict(status)
        merged.update(new)
        for k in ("fullyLabeledReplicas", "readyReplicas", "availableReplicas"):
            if merged.get(k) == 0:
                merged.pop(k)  # omitempty
        if merged == status:
            return
        body = dict(owner)
        body["status"] = merged
        updated = self.client.update(body, subresource="status")
        self.owners.assume(updated)


def _namespace_name(key: str) -> tuple[str, str]:
    ns, name = split_key(key)
    return ns or "default", name
