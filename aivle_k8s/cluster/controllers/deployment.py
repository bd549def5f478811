"""The Deployment controller: ReplicaSets per pod template, rolling updates, revisions, rollback.

Faithful to ``pkg/controller/deployment`` (v1.30):

- the new ReplicaSet is ``<deployment>-<pod-template-hash>``, the hash being an
  FNV-32a of the template (plus ``status.collisionCount``) written with the
  ``bcdfghjklmnpqrstvwxz2456789`` alphabet (``rand.SafeEncodeString``);
- RollingUpdate scales the new RS up to ``replicas + maxSurge`` pods in total
  and old ones down while ``replicas - maxUnavailable`` stay available
  (``maxSurge`` percentages round up, ``maxUnavailable`` down; both 0 means 1
  unavailable); Recreate scales old ones to 0 first;
- annotations ``deployment.kubernetes.io/revision`` (max + 1 for a new
  template, and for an old template brought back — ``rollout undo``),
  ``revision-history``, ``desired-replicas``, ``max-replicas``;
- old ReplicaSets at 0 beyond ``revisionHistoryLimit`` (10) are deleted;
- status and the conditions Available (``MinimumReplicasAvailable`` /
  ``MinimumReplicasUnavailable``) and Progressing (``NewReplicaSetCreated``,
  ``FoundNewReplicaSet``, ``ReplicaSetUpdated``, ``NewReplicaSetAvailable``,
  ``ProgressDeadlineExceeded``, ``DeploymentPaused``, ``DeploymentResumed``);
- Events ``ScalingReplicaSet`` ``Scaled up replica set web-5d8f7c9b4 from 0 to 3``.

:func:`rollback` is ``kubectl rollout undo``; :func:`restart` is ``kubectl rollout restart``.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

from ..apiserver.errors import AlreadyExistsError, NotFoundError
from .base import Controller, controller_of, label_selector_matches, owner_reference, parse_time, rfc3339

__all__ = ["DeploymentController", "compute_hash", "safe_encode", "resolve_fenceposts", "rollback", "restart",
           "REVISION", "TEMPLATE_HASH_LABEL"]

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
TEMPLATE_HASH_LABEL = "pod-template-hash"
_SKIP_ANNOTATIONS = {"kubectl.kubernetes.io/last-applied-configuration", REVISION, REVISION_HISTORY,
                     DESIRED_REPLICAS, MAX_REPLICAS, "deprecated.deployment.rollback.to"}
_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


def safe_encode(s: str) -> str:
    """``rand.SafeEncodeString``: each byte mapped into the vowel-free alphabet."""
    return "".join(_ALPHANUMS[ord(c) % len(_ALPHANUMS)] for c in s)


def compute_hash(template: dict, collision_count: int | None = None) -> str:
    """``controller.ComputeHash``: the ``pod-template-hash`` of a pod template (up to 10 characters)."""
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += int(collision_count).to_bytes(4, "little")
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return safe_encode(str(h))


def _int_or_percent(value: Any, total: int, round_up: bool) -> int:
    if value is None:
        return 0
    if isinstance(value, str) and value.endswith("%"):
        pct = int(value[:-1])
        raw = pct * total / 100
        return math.ceil(raw) if round_up else math.floor(raw)
    return int(value)


def resolve_fenceposts(surge: Any, unavailable: Any, replicas: int) -> tuple[int, int]:
    """``deploymentutil.ResolveFenceposts``: (maxSurge, maxUnavailable) as pod counts."""
    s = _int_or_percent(surge, replicas, True)
    u = _int_or_percent(unavailable, replicas, False)
    if s == 0 and u == 0:
        u = 1
    return s, u


def _strategy(d: dict) -> tuple[str, int, int]:
    spec = d.get("spec") or {}
    st = spec.get("strategy") or {}
    kind = st.get("type") or "RollingUpdate"
    replicas = _replicas(d)
    if kind != "RollingUpdate":
        return kind, 0, 0
    ru = st.get("rollingUpdate") or {}
    s, u = resolve_fenceposts(ru.get("maxSurge", "25%"), ru.get("maxUnavailable", "25%"), replicas)
    return kind, s, u


def _replicas(obj: dict) -> int:
    r = (obj.get("spec") or {}).get("replicas")
    return 1 if r is None else int(r)


def _status(obj: dict, field: str) -> int:
    return int((obj.get("status") or {}).get(field) or 0)


def _revision(rs: dict) -> int:
    try:
        return int(((rs.get("metadata") or {}).get("annotations") or {}).get(REVISION) or 0)
    except ValueError:
        return 0


def _template_without_hash(template: dict) -> dict:
    t = copy.deepcopy(template or {})
    labels = (t.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(TEMPLATE_HASH_LABEL, None)
    return t


def _equal_ignore_hash(a: dict, b: dict) -> bool:
    return _template_without_hash(a) == _template_without_hash(b)


def _created(rs: dict) -> tuple:
    return (parse_time(rs["metadata"].get("creationTimestamp")) or 0.0, rs["metadata"]["name"])


def _condition(d: dict, kind: str) -> dict | None:
    for c in (d.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return c
    return None


class DeploymentController(Controller):
    """``deployment`` in ``kube-controller-manager --controllers``."""

    name = "deployment"
    component = "deployment-controller"

    def setup(self) -> None:
        self.deployments = self.informer("deployments")
        self.replicasets = self.informer("replicasets")
        self.deployments.add_index("uid", lambda o: [o["metadata"].get("uid", "")])
        self.replicasets.add_index("controller-uid", lambda r: [x["uid"] for x in [controller_of(r)] if x])
        self.deployments.add_handler(self.enqueue, lambda o, n: self.enqueue(n), self.enqueue)
        self.replicasets.add_handler(self._rs_event, lambda o, n: (self._rs_event(o), self._rs_event(n)),
                                     self._rs_event)

    def resync(self) -> None:
        for d in self.deployments.list():
            self.enqueue(d)

    def _rs_event(self, rs: dict) -> None:
        ref = controller_of(rs)
        if ref is not None:
            if ref.get("kind") == "Deployment":
                for d in self.deployments.by_index("uid", ref.get("uid", "")):
                    self.enqueue(d)
            return
        labels = rs["metadata"].get("labels") or {}
        for d in self.deployments.list():
            if d["metadata"].get("namespace") == rs["metadata"].get("namespace") and \
                    label_selector_matches((d.get("spec") or {}).get("selector"), labels):
                self.enqueue(d)

    # -- helpers ---------------------------------------------------------------------
    def _claim_replicasets(self, d: dict) -> list[dict]:
        m = d["metadata"]
        uid, ns = m["uid"], m.get("namespace")
        selector = (d.get("spec") or {}).get("selector")
        out = []
        for rs in self.replicasets.list():
            rm = rs["metadata"]
            if rm.get("namespace") != ns:
                continue
            ref = controller_of(rs)
            if ref is not None:
                if ref.get("uid") == uid:
                    out.append(rs)
                continue
            if m.get("deletionTimestamp") or rm.get("deletionTimestamp"):
                continue
            if label_selector_matches(selector, rm.get("labels") or {}):
                refs = list(rm.get("ownerReferences") or []) + [owner_reference(d)]
                try:
                    rs = self.client.patch("replicasets", rm["name"], {"metadata": {"ownerReferences": refs,
                                                                                     "uid": rm["uid"]}},
                                           namespace=ns, patch_type="merge")
                except NotFoundError:
                    continue
                self.replicasets.assume(rs)
                out.append(rs)
        return out

    def _update_rs(self, rs: dict) -> dict:
        new = self.client.update(rs)
        self.replicasets.assume(new)
        return new

    def _annotations_for(self, d: dict, rs: dict, revision: str | None, desired: int, max_replicas: int) -> bool:
        """``SetNewReplicaSetAnnotations`` + replicas annotations; True if anything changed."""
        ann = rs["metadata"].setdefault("annotations", {})
        before = dict(ann)
        for k, v in ((d["metadata"].get("annotations")) or {}).items():
            if k not in _SKIP_ANNOTATIONS:
                ann[k] = v
        if revision is not None:
            old = ann.get(REVISION)
            if old is None or int(old) < int(revision):
                if old:
                    hist = [h for h in (ann.get(REVISION_HISTORY) or "").split(",") if h]
                    hist.append(old)
                    ann[REVISION_HISTORY] = ",".join(hist)
                ann[REVISION] = str(revision)
        ann[DESIRED_REPLICAS] = str(desired)
        ann[MAX_REPLICAS] = str(max_replicas)
        return ann != before

    def _scale_rs(self, d: dict, rs: dict, new_scale: int) -> tuple[bool, dict]:
        old_scale = _replicas(rs)
        _, surge, _ = _strategy(d)
        rs = copy.deepcopy(rs)
        changed = self._annotations_for(d, rs, None, _replicas(d), _replicas(d) + surge)
        if old_scale == new_scale and not changed:
            return False, rs
        rs["spec"]["replicas"] = new_scale
        rs = self._update_rs(rs)
        if old_scale != new_scale:
            way = "up" if new_scale > old_scale else "down"
            self.recorder.normal(d, "ScalingReplicaSet",
                                 f"Scaled {way} replica set {rs['metadata']['name']} to {new_scale} from {old_scale}")
            return True, rs
        return False, rs

    def _new_rs(self, d: dict, rss: list[dict], old: list[dict], create: bool) -> tuple[dict | None, list[dict]]:
        """``getNewReplicaSet``: the RS whose template is the deployment's (created if asked)."""
        template = (d.get("spec") or {}).get("template") or {}
        matching = sorted([rs for rs in rss if _equal_ignore_hash((rs.get("spec") or {}).get("template") or {},
                                                                  template)], key=_created)
        max_rev = max((_revision(rs) for rs in old), default=0)
        new_revision = str(max_rev + 1)
        _, surge, _ = _strategy(d)
        if matching:
            rs = copy.deepcopy(matching[0])
            changed = self._annotations_for(d, rs, new_revision, _replicas(d), _replicas(d) + surge)
            min_ready = (d.get("spec") or {}).get("minReadySeconds") or 0
            if (rs["spec"].get("minReadySeconds") or 0) != min_ready:
                rs["spec"]["minReadySeconds"] = min_ready
                changed = True
            if changed:
                rs = self._update_rs(rs)
            self._set_revision(d, rs)
            return rs, old
        if not create:
            return None, old
        collision = int((d.get("status") or {}).get("collisionCount") or 0)
        m = d["metadata"]
        ns = m.get("namespace") or "default"
        for _ in range(10):
            h = compute_hash(template, collision)
            tpl = copy.deepcopy(template)
            tpl.setdefault("metadata", {}).setdefault("labels", {})[TEMPLATE_HASH_LABEL] = h
            selector = copy.deepcopy((d.get("spec") or {}).get("selector") or {})
            selector.setdefault("matchLabels", {})[TEMPLATE_HASH_LABEL] = h
            kind, surge, _ = _strategy(d)
            count = self._new_rs_replicas(d, old, None) if kind == "RollingUpdate" else 0
            rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                  "metadata": {"name": f"{m['name']}-{h}", "namespace": ns,
                               "labels": dict(tpl["metadata"]["labels"]),
                               "ownerReferences": [owner_reference(d)]},
                  "spec": {"replicas": count, "minReadySeconds": (d.get("spec") or {}).get("minReadySeconds") or 0,
                           "selector": selector, "template": tpl}}
            self._annotations_for(d, rs, new_revision, _replicas(d), _replicas(d) + surge)
            try:
                created = self.client.create(rs, namespace=ns)
            except AlreadyExistsError:
                try:
                    existing = self.client.get("replicasets", rs["metadata"]["name"], ns)
                except NotFoundError:
                    continue
                ref = controller_of(existing)
                if ref and ref.get("uid") == m["uid"] and _equal_ignore_hash(existing["spec"]["template"], template):
                    self.replicasets.assume(existing)
                    return existing, old
                collision += 1
                st = copy.deepcopy(d.get("status") or {})
                st["collisionCount"] = collision
                body = copy.deepcopy(d)
                body["status"] = st
                self.deployments.assume(self.client.update(body, subresource="status"))
                continue
            self.replicasets.assume(created)
            if count > 0:
                self.recorder.normal(d, "ScalingReplicaSet",
                                     f"Scaled up replica set {created['metadata']['name']} from 0 to {count}")
            self._set_revision(d, created)
            self._pending_condition = ("True", "NewReplicaSetCreated",
                                       f'Created new replica set "{created["metadata"]["name"]}"')
            return created, old
        return None, old

    def _set_revision(self, d: dict, rs: dict) -> None:
        rev = (rs["metadata"].get("annotations") or {}).get(REVISION)
        if rev and (d["metadata"].get("annotations") or {}).get(REVISION) != rev:
            body = copy.deepcopy(self.deployments.get(_key(d)) or d)
            body["metadata"].setdefault("annotations", {})[REVISION] = rev
            self.deployments.assume(self.client.update(body))

    def _new_rs_replicas(self, d: dict, all_rs: list[dict], new_rs: dict | None) -> int:
        """``NewRSNewReplicas`` for RollingUpdate."""
        _, surge, _ = _strategy(d)
        current = sum(_replicas(r) for r in all_rs) + (_replicas(new_rs) if new_rs else 0)
        new_count = _replicas(new_rs) if new_rs else 0
        max_total = _replicas(d) + surge
        if current >= max_total:
            return new_count
        up = min(max_total - current, _replicas(d) - new_count)
        return new_count + max(up, 0)

    # -- reconcile -------------------------------------------------------------------
    def reconcile(self, key: str) -> None:
        d = self.deployments.get(key)
        if d is None:
            return
        self._pending_condition = None
        if d["metadata"].get("deletionTimestamp"):
            return
        spec = d.get("spec") or {}
        if not spec.get("selector") or not (spec.get("selector") or {}).get("matchLabels") and \
                not (spec.get("selector") or {}).get("matchExpressions"):
            self.recorder.warning(d, "SelectingAll", "This deployment is selecting all pods. A non-empty selector "
                                                     "is required.")
            return
        rss = [r for r in self._claim_replicasets(d) if not r["metadata"].get("deletionTimestamp")]
        template = spec.get("template") or {}
        new = next(iter(sorted([r for r in rss if _equal_ignore_hash(r["spec"].get("template") or {}, template)],
                               key=_created)), None)
        old = [r for r in rss if r is not new]
        if spec.get("paused"):
            new, old = self._new_rs(d, rss, old, create=False)
            d = self.deployments.get(key) or d
            self._sync_scale(d, new, old)
            self._cleanup(d, old)
            self._sync_status(key, new, old)
            return
        if new is not None and self._is_scaling_event(d, [new] + old):
            new, old = self._new_rs(d, rss, old, create=False)
            d = self.deployments.get(key) or d
            self._sync_scale(d, new, old)
            if new is not None and _replicas(new) == _replicas(d) and not any(_replicas(o) for o in old):
                self._cleanup(d, old)
            self._sync_status(key, new, old)
            return
        kind, surge, unavailable = _strategy(d)
        new, old = self._new_rs(d, rss, old, create=True)
        d = self.deployments.get(key) or d
        if kind == "Recreate":
            self._rollout_recreate(key, d, new, old)
            return
        # rolloutRolling
        if new is not None and self._reconcile_new(d, new, old):
            self._sync_status(key, self._fresh(new), old)
            return
        if self._reconcile_old(d, new, old, unavailable):
            self._sync_status(key, self._fresh(new), [self._fresh(o) for o in old])
            return
        new = self._fresh(new)
        old = [self._fresh(o) for o in old]
        if self._complete(d, new, old):
            self._cleanup(d, old)
        self._sync_status(key, new, old)

    def _fresh(self, rs: dict | None) -> dict | None:
        if rs is None:
            return None
        return self.replicasets.get(_key(rs)) or rs

    def _is_scaling_event(self, d: dict, rss: list[dict]) -> bool:
        want = str(_replicas(d))
        for rs in rss:
            if _replicas(rs) <= 0:
                continue
            desired = (rs["metadata"].get("annotations") or {}).get(DESIRED_REPLICAS)
            if desired is not None and desired != want:
                return True
        return False

    def _sync_scale(self, d: dict, new: dict | None, old: list[dict]) -> None:
        """``scale``: a replicas change outside of a rollout (proportional scaling)."""
        active = [r for r in ([new] if new else []) + old if _replicas(r) > 0]
        target = _replicas(d)
        if len(active) <= 1:
            rs = active[0] if active else (new or (max(old, key=_created) if old else None))
            if rs is not None:
                self._scale_rs(d, rs, target)
            return
        if new is not None and _replicas(new) == target and _status(new, "availableReplicas") == target:
            for o in old:
                self._scale_rs(d, o, 0)
            return
        kind, surge, _ = _strategy(d)
        allowed = target + surge
        total = sum(_replicas(r) for r in active)
        to_add = allowed - total
        if to_add == 0:
            for r in active:
                self._scale_rs(d, r, _replicas(r))
            return
        order = sorted(active, key=lambda r: (-_replicas(r), -_created(r)[0]) if to_add > 0 else
                       (_replicas(r), _created(r)[0]))
        sizes = {}
        added = 0
        for r in order:
            prev = int(((r["metadata"].get("annotations") or {}).get(MAX_REPLICAS)) or total)
            share = int(_replicas(r) * allowed / max(prev, 1)) - _replicas(r) if prev else 0
            share = max(min(share, to_add - added), to_add - added) if to_add < 0 else min(share, to_add - added)
            sizes[_key(r)] = _replicas(r) + share
            added += share
        first = order[0]
        sizes[_key(first)] += to_add - added
        for r in order:
            self._scale_rs(d, r, max(sizes[_key(r)], 0))

    def _reconcile_new(self, d: dict, new: dict, old: list[dict]) -> bool:
        target = _replicas(d)
        if _replicas(new) == target:
            return False
        if _replicas(new) > target:
            return self._scale_rs(d, new, target)[0]
        count = self._new_rs_replicas(d, old, new)
        return self._scale_rs(d, new, count)[0]

    def _reconcile_old(self, d: dict, new: dict | None, old: list[dict], max_unavailable: int) -> bool:
        old = [self._fresh(o) for o in old]
        old_pods = sum(_replicas(o) for o in old)
        if old_pods == 0:
            return False
        all_rs = old + ([new] if new else [])
        all_pods = sum(_replicas(r) for r in all_rs)
        min_available = _replicas(d) - max_unavailable
        new_unavailable = (_replicas(new) - _status(new, "availableReplicas")) if new else 0
        max_scaled_down = all_pods - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        scaled = False
        # cleanupUnhealthyReplicas
        cleaned = 0
        for o in sorted(old, key=_created):
            if cleaned >= max_scaled_down:
                break
            if _replicas(o) == 0:
                continue
            unhealthy = _replicas(o) - _status(o, "availableReplicas")
            if unhealthy <= 0:
                continue
            down = min(max_scaled_down - cleaned, unhealthy)
            done, _ = self._scale_rs(d, o, _replicas(o) - down)
            scaled = scaled or done
            cleaned += down
        old = [self._fresh(o) for o in old]
        all_rs = old + ([new] if new else [])
        # scaleDownOldReplicaSetsForRollingUpdate
        available = sum(_status(r, "availableReplicas") for r in all_rs)
        if available > min_available:
            total_down = available - min_available
            done_down = 0
            for o in sorted(old, key=_created):
                if done_down >= total_down:
                    break
                if _replicas(o) == 0:
                    continue
                down = min(_replicas(o), total_down - done_down)
                done, _ = self._scale_rs(d, o, _replicas(o) - down)
                scaled = scaled or done
                done_down += down
        return scaled

    def _rollout_recreate(self, key: str, d: dict, new: dict | None, old: list[dict]) -> None:
        scaled = False
        for o in old:
            if _replicas(o) > 0:
                done, _ = self._scale_rs(d, o, 0)
                scaled = scaled or done
        if scaled:
            self._sync_status(key, new, old)
            return
        old = [self._fresh(o) for o in old]
        if any(_status(o, "replicas") > 0 for o in old):
            self._sync_status(key, new, old)
            return
        if new is not None and _replicas(new) != _replicas(d):
            self._scale_rs(d, new, _replicas(d))
        new = self._fresh(new)
        if self._complete(d, new, old):
            self._cleanup(d, old)
        self._sync_status(key, new, old)

    def _complete(self, d: dict, new: dict | None, old: list[dict]) -> bool:
        if new is None:
            return False
        want = _replicas(d)
        return (_status(new, "replicas") == want and _status(new, "availableReplicas") == want and
                sum(_status(o, "replicas") for o in old) == 0)

    def _cleanup(self, d: dict, old: list[dict]) -> None:
        limit = (d.get("spec") or {}).get("revisionHistoryLimit")
        limit = 10 if limit is None else int(limit)
        alive = [o for o in old if not o["metadata"].get("deletionTimestamp")]
        diff = len(alive) - limit
        if diff <= 0:
            return
        for o in sorted(alive, key=lambda r: (_revision(r), _created(r))):
            if diff <= 0:
                break
            if _status(o, "replicas") != 0 or _replicas(o) != 0 or \
                    _status(o, "observedGeneration") < int(o["metadata"].get("generation") or 1):
                continue
            try:
                self.client.delete("replicasets", o["metadata"]["name"], o["metadata"].get("namespace"))
            except NotFoundError:
                pass
            self.replicasets.assume_deleted(o)
            diff -= 1

    # -- status ----------------------------------------------------------------------
    def _sync_status(self, key: str, new: dict | None, old: list[dict]) -> None:
        d = self.deployments.get(key)
        if d is None:
            return
        new = self._fresh(new)
        old = [self._fresh(o) for o in old]
        all_rs = ([new] if new else []) + old
        want = _replicas(d)
        _, _, max_unavailable = _strategy(d)
        prev = d.get("status") or {}
        available = sum(_status(r, "availableReplicas") for r in all_rs)
        total = sum(_replicas(r) for r in all_rs)
        status: dict[str, Any] = {
            "observedGeneration": d["metadata"].get("generation", 1),
            "replicas": sum(_status(r, "replicas") for r in all_rs),
            "updatedReplicas": _status(new, "replicas") if new else 0,
            "readyReplicas": sum(_status(r, "readyReplicas") for r in all_rs),
            "availableReplicas": available,
            "unavailableReplicas": max(total - available, 0),
        }
        if prev.get("collisionCount") is not None:
            status["collisionCount"] = prev["collisionCount"]
        conds = [dict(c) for c in prev.get("conditions") or []]
        now = self.now()

        def set_cond(kind: str, st: str, reason: str, message: str, *, touch: bool = False) -> None:
            cur = next((c for c in conds if c.get("type") == kind), None)
            if cur is not None and cur.get("status") == st and cur.get("reason") == reason and not touch:
                if cur.get("message") != message:
                    cur["message"] = message
                return
            c = {"type": kind, "status": st, "lastUpdateTime": now, "lastTransitionTime": now,
                 "reason": reason, "message": message}
            if cur is not None and cur.get("status") == st:
                c["lastTransitionTime"] = cur.get("lastTransitionTime", now)
            if cur is not None:
                conds[conds.index(cur)] = c
            else:
                conds.append(c)

        if available >= want - max_unavailable:
            set_cond("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        else:
            set_cond("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum "
                                                                            "availability.")
        spec = d.get("spec") or {}
        progressing = next((c for c in conds if c.get("type") == "Progressing"), None)
        requeue = None
        if spec.get("paused"):
            set_cond("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused")
        elif progressing is not None and progressing.get("reason") == "DeploymentPaused":
            set_cond("Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed")
        elif new is not None:
            name = new["metadata"]["name"]
            pending = getattr(self, "_pending_condition", None)
            complete = (status["updatedReplicas"] == want and status["replicas"] == want and
                        available == want and status["observedGeneration"] >= d["metadata"].get("generation", 1))
            old_status = {k: int(prev.get(k) or 0) for k in ("updatedReplicas", "readyReplicas", "availableReplicas",
                                                             "replicas")}
            moving = (status["updatedReplicas"] > old_status["updatedReplicas"] or
                      status["readyReplicas"] > old_status["readyReplicas"] or
                      status["availableReplicas"] > old_status["availableReplicas"] or
                      status["replicas"] - status["updatedReplicas"] < old_status["replicas"] -
                      old_status["updatedReplicas"])
            deadline = spec.get("progressDeadlineSeconds", 600)
            if complete:
                set_cond("Progressing", "True", "NewReplicaSetAvailable",
                         f'ReplicaSet "{name}" has successfully progressed.')
            elif pending is not None:
                set_cond("Progressing", *pending)
            elif moving:
                set_cond("Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.',
                         touch=True)
            elif progressing is None:
                set_cond("Progressing", "True", "FoundNewReplicaSet", f'Found new replica set "{name}"')
            elif deadline is not None and progressing.get("reason") != "ProgressDeadlineExceeded":
                last = parse_time(progressing.get("lastUpdateTime")) or 0.0
                if self.loop.now >= last + deadline:
                    set_cond("Progressing", "False", "ProgressDeadlineExceeded",
                             f'ReplicaSet "{name}" has timed out progressing.')
                else:
                    requeue = last + deadline - self.loop.now + 1
            if not complete and requeue is None and deadline is not None:
                cur = next((c for c in conds if c.get("type") == "Progressing"), None)
                if cur is not None and cur.get("reason") != "ProgressDeadlineExceeded":
                    last = parse_time(cur.get("lastUpdateTime")) or self.loop.now
                    requeue = max(last + deadline - self.loop.now, 0) + 1
        status["conditions"] = conds
        if requeue is not None:
            self.enqueue(d, delay=requeue)
        drop_zero = {k: v for k, v in status.items() if not (v == 0 and k in ("readyReplicas", "availableReplicas",
                                                                              "unavailableReplicas", "updatedReplicas",
                                                                              "replicas"))}
        if drop_zero == prev:
            return
        body = copy.deepcopy(d)
        body["status"] = drop_zero
        self.deployments.assume(self.client.update(body, subresource="status"))


def _key(obj: dict) -> str:
    m = obj["metadata"]
    return f"{m['namespace']}/{m['name']}" if m.get("namespace") else m["name"]


# -------------------------------------------------------------------------------------------------
# kubectl rollout undo / restart
# -------------------------------------------------------------------------------------------------
def rollback(client: Any, name: str, namespace: str = "default", to_revision: int = 0) -> str:
    """``kubectl rollout undo deployment/<name> [--to-revision=N]``: put an older ReplicaSet's template back.

    Returns kubectl's line (``deployment.apps/web rolled back``).

    Raises:
        InvalidInput: no such revision (``unable to find specified revision 7 in history``).
    """
    from ...sim.errors import InvalidInput

    d = client.get("deployments", name, namespace)
    if (d.get("spec") or {}).get("paused"):
        raise InvalidInput(f"you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume "
                           f"deployment/{name}' and try again")
    uid = d["metadata"]["uid"]
    rss = [r for r in client.list("replicasets", namespace)["items"]
           if (controller_of(r) or {}).get("uid") == uid]
    by_rev = {_revision(r): r for r in rss}
    current = int((d["metadata"].get("annotations") or {}).get(REVISION) or max(by_rev, default=0))
    if to_revision == 0:
        older = sorted(r for r in by_rev if r < current)
        if not older:
            raise InvalidInput("no rollout history found for deployment \"%s\"" % name)
        to_revision = older[-1]
    target = by_rev.get(to_revision)
    if target is None:
        raise InvalidInput(f"unable to find specified revision {to_revision} in history")
    template = _template_without_hash(target["spec"]["template"])
    if _equal_ignore_hash(template, d["spec"].get("template") or {}):
        return f"deployment.apps/{name} skipped rollback (current template already matches revision {to_revision})"
    d["spec"]["template"] = template
    ann = d["metadata"].setdefault("annotations", {})
    for k, v in (target["metadata"].get("annotations") or {}).items():
        if k not in _SKIP_ANNOTATIONS:
            ann[k] = v
    client.update(d)
    return f"deployment.apps/{name} rolled back"


def restart(client: Any, name: str, namespace: str = "default", *, now: str | None = None, loop: Any = None) -> str:
    """``kubectl rollout restart deployment/<name>``: stamp ``kubectl.kubernetes.io/restartedAt`` on the template."""
    stamp = now or (rfc3339(loop.now) if loop is not None else rfc3339(0))
    client.patch("deployments", name, {"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": stamp}}}}}, namespace=namespace)
    return f"deployment.apps/{name} restarted"
