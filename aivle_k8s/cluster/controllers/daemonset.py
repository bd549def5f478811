"""The DaemonSet controller: one pod per eligible node (``pkg/controller/daemon``, v1.30).

A node is *eligible* when the daemon pod — the template plus the tolerations
the controller adds to every daemon pod — passes three predicates
(``NodeShouldRunDaemonPod``):

- the template's ``nodeName`` (if any) is that node;
- ``nodeSelector`` and the *required* node affinity match the node;
- no ``NoSchedule`` / ``NoExecute`` taint of the node is left untolerated.
  A pod already there keeps running when only ``NoSchedule`` taints are
  untolerated (``shouldContinueRunning``); an untolerated ``NoExecute`` taint
  or a label mismatch removes it.

Added tolerations (``AddOrUpdateDaemonPodTolerations``):
``node.kubernetes.io/not-ready`` and ``unreachable`` (``NoExecute``),
``disk-pressure``, ``memory-pressure``, ``pid-pressure``, ``unschedulable``
(``NoSchedule``) and, for ``hostNetwork`` pods, ``network-unavailable``
(``NoSchedule``) — all with ``operator: Exists``.

Pods are ``<ds>-<5 chars>`` (``generateName``), owned by the DaemonSet, with
labels ``controller-revision-hash`` (the template's hash, also the name suffix
of the DaemonSet's ControllerRevision ``<ds>-<hash>``) and
``pod-template-generation``, and a required node affinity
``matchFields metadata.name In [<node>]`` in place of the template's required
terms: the *scheduler* binds them. A failed daemon pod is deleted (Warning
``FailedDaemonPod`` ``Found failed daemon pod ns/name on node n, will try to kill
it``) under a per-node back-off of 1 s doubling to 15 min; a succeeded one too
(``SucceededDaemonPod``). Events ``SuccessfulCreate`` ``Created pod: x`` and
``SuccessfulDelete`` ``Deleted pod: x``.

Updates: ``RollingUpdate`` (default ``maxUnavailable: 1``, ``maxSurge: 0``)
deletes up to ``maxUnavailable`` old *available* pods (old unavailable ones at
once) and the next sync creates the new pod once the old one is gone;
``OnDelete`` only replaces pods the user deletes.

Not done by this controller, as in Kubernetes: a pod *bound* to a Node that
was deleted is removed by the pod garbage collector (``podgc``), not here;
unbound pods aimed at a missing node are deleted here.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from ..apiserver.errors import AlreadyExistsError, NotFoundError, StatusError
from ..scheduler.plugins.helpers import match_terms, node_selector_matches, tolerates
from .base import (Controller, controller_of, is_pod_ready, label_selector_matches, owner_reference, parse_time,
                   pod_ready_since)
from .deployment import compute_hash

__all__ = ["DaemonSetController", "node_should_run", "daemon_tolerations", "target_node", "Backoff",
           "REVISION_HASH_LABEL", "TEMPLATE_GENERATION_LABEL"]

REVISION_HASH_LABEL = "controller-revision-hash"
TEMPLATE_GENERATION_LABEL = "pod-template-generation"
TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"
BURST_REPLICAS = 250

_DAEMON_TOLERATIONS = (
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
)


class Backoff:
    """``flowcontrol.Backoff`` on the simulated clock: per key, ``initial`` doubling to ``maximum``.

    >>> b = Backoff(1, 900); b.next("k", 0.0); b.in_backoff_since_update("k", 0.5), b.get("k")
    (True, 1)
    >>> b.next("k", 2.0); b.get("k")
    2
    """

    def __init__(self, initial: float, maximum: float):
        self.initial = initial
        self.maximum = maximum
        self._entries: dict[str, tuple[float, float]] = {}  # key -> (backoff, last update)

    def get(self, key: str) -> float:
        return self._entries.get(key, (0, 0))[0]

    def next(self, key: str, now: float) -> None:
        entry = self._entries.get(key)
        if entry is None or now - entry[1] > 2 * self.maximum:
            self._entries[key] = (self.initial, now)
        else:
            self._entries[key] = (min(entry[0] * 2, self.maximum), now)

    def in_backoff_since_update(self, key: str, now: float) -> bool:
        entry = self._entries.get(key)
        return entry is not None and now - entry[1] < entry[0]


def daemon_tolerations(spec: dict) -> list[dict]:
    """The template's tolerations plus those every daemon pod gets (existing equal ones are not repeated)."""
    out = [dict(t) for t in spec.get("tolerations") or []]
    wanted = list(_DAEMON_TOLERATIONS)
    if spec.get("hostNetwork"):
        wanted.append(("node.kubernetes.io/network-unavailable", "NoSchedule"))
    for key, effect in wanted:
        tol = {"key": key, "operator": "Exists", "effect": effect}
        if not any(t.get("key") == key and (t.get("operator") or "Equal") == "Exists" and t.get("effect") == effect
                   and not t.get("value") for t in out):
            out.append(tol)
    return out


def _tolerates(tolerations: list[dict], taint: dict) -> bool:
    tuples = tuple((t.get("key") or "", t.get("operator") or "Equal", t.get("value") or "", t.get("effect") or "")
                   for t in tolerations)
    return tolerates(tuples, taint.get("key") or "", taint.get("value") or "", taint.get("effect") or "")


def node_should_run(node: dict, ds: dict) -> tuple[bool, bool]:
    """``NodeShouldRunDaemonPod``: (should run a daemon pod, should keep a running one).

    >>> ds = {"spec": {"template": {"spec": {"containers": []}}}}
    >>> cp = {"metadata": {"name": "cp"}, "spec": {"taints": [
    ...     {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]}}
    >>> node_should_run(cp, ds)
    (False, True)
    """
    spec = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
    name = node["metadata"]["name"]
    labels = node["metadata"].get("labels") or {}
    if spec.get("nodeName") and spec["nodeName"] != name:
        return False, False
    if spec.get("nodeSelector") and not node_selector_matches(spec["nodeSelector"], labels):
        return False, False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution")
    if required is not None and not match_terms(required.get("nodeSelectorTerms") or (), name, labels):
        return False, False
    tolerations = daemon_tolerations(spec)
    untolerated = [t for t in (node.get("spec") or {}).get("taints") or []
                   if t.get("effect") in ("NoSchedule", "NoExecute") and not _tolerates(tolerations, t)]
    if untolerated:
        return False, not any(t.get("effect") == "NoExecute" for t in untolerated)
    return True, True


def target_node(pod: dict) -> str | None:
    """``util.GetTargetNodeName``: ``spec.nodeName``, else the node named by the daemon affinity term."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return spec["nodeName"]
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution") or {}
    for term in required.get("nodeSelectorTerms") or []:
        for f in term.get("matchFields") or []:
            if f.get("key") == "metadata.name" and f.get("operator") == "In" and len(f.get("values") or []) == 1:
                return f["values"][0]
    return None


def _node_affinity_for(affinity: dict | None, node: str) -> dict:
    """``ReplaceDaemonSetPodNodeNameNodeAffinity``: required terms become ``metadata.name In [node]``."""
    affinity = copy.deepcopy(affinity or {})
    na = affinity.setdefault("nodeAffinity", {})
    na["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}
    return affinity


def _template_generation(ds: dict) -> str:
    ann = (ds["metadata"].get("annotations") or {}).get(TEMPLATE_GENERATION_ANNOTATION)
    return str(ann) if ann else str(ds["metadata"].get("generation") or 1)


def _created(pod: dict) -> tuple:
    return (parse_time(pod["metadata"].get("creationTimestamp")) or 0.0, pod["metadata"]["name"])


def _available(pod: dict, min_ready: int, now: float) -> bool:
    since = pod_ready_since(pod)
    return since is not None and (min_ready == 0 or since + min_ready <= now)


def _max_unavailable(ds: dict, desired: int) -> int:
    ru = ((ds.get("spec") or {}).get("updateStrategy") or {}).get("rollingUpdate") or {}
    v = ru.get("maxUnavailable", 1)
    if isinstance(v, str) and v.endswith("%"):
        n = math.floor(int(v[:-1]) * desired / 100)
    else:
        n = int(v)
    return max(n, 1) if desired else n


class DaemonSetController(Controller):
    """``daemonset`` in ``kube-controller-manager --controllers``."""

    name = "daemonset"
    component = "daemonset-controller"

    def setup(self) -> None:
        self.daemonsets = self.informer("daemonsets")
        self.pods = self.informer("pods")
        self.nodes = self.informer("nodes")
        self.revisions = self.informer("controllerrevisions")
        self.daemonsets.add_index("uid", lambda o: [o["metadata"].get("uid", "")])
        self.pods.add_index("controller-uid", lambda p: [r["uid"] for r in [controller_of(p)] if r])
        self.revisions.add_index("controller-uid", lambda r: [x["uid"] for x in [controller_of(r)] if x])
        self.daemonsets.add_handler(self.enqueue, lambda o, n: self.enqueue(n), self.enqueue)
        self.pods.add_handler(self._pod_event, lambda o, n: (self._pod_event(o), self._pod_event(n)),
                              self._pod_event)
        self.nodes.add_handler(self._node_event, self._node_updated, self._node_event)
        self.failed_pods_backoff = Backoff(1.0, 15 * 60.0)

    def resync(self) -> None:
        for ds in self.daemonsets.list():
            self.enqueue(ds)

    # -- event handlers --------------------------------------------------------------
    def _pod_event(self, pod: dict) -> None:
        ref = controller_of(pod)
        if ref is not None:
            if ref.get("kind") == "DaemonSet":
                for ds in self.daemonsets.by_index("uid", ref.get("uid", "")):
                    self.enqueue(ds)
            return
        labels = pod["metadata"].get("labels") or {}
        for ds in self.daemonsets.list():
            if ds["metadata"].get("namespace") == pod["metadata"].get("namespace") and \
                    label_selector_matches((ds.get("spec") or {}).get("selector"), labels):
                self.enqueue(ds)

    def _node_event(self, node: dict) -> None:
        self.resync()

    def _node_updated(self, old: dict, new: dict) -> None:
        def shape(n: dict) -> tuple:
            return (n["metadata"].get("labels"), (n.get("spec") or {}).get("taints"))
        if shape(old) != shape(new):
            self.resync()

    # -- helpers ---------------------------------------------------------------------
    def _claim_pods(self, ds: dict) -> list[dict]:
        """Owned pods, plus matching orphans adopted (``ClaimPods``)."""
        m = ds["metadata"]
        mine = list(self.pods.by_index("controller-uid", m["uid"]))
        if m.get("deletionTimestamp"):
            return mine
        selector = (ds.get("spec") or {}).get("selector")
        for pod in self.pods.list():
            pm = pod["metadata"]
            if pm.get("namespace") != m.get("namespace") or controller_of(pod) is not None \
                    or pm.get("deletionTimestamp") or not label_selector_matches(selector, pm.get("labels") or {}):
                continue
            refs = list(pm.get("ownerReferences") or []) + [owner_reference(ds)]
            try:
                pod = self.client.patch("pods", pm["name"], {"metadata": {"ownerReferences": refs, "uid": pm["uid"]}},
                                        namespace=pm.get("namespace"), patch_type="merge")
            except NotFoundError:
                continue
            self.pods.assume(pod)
            mine.append(pod)
        return mine

    def _nodes_to_pods(self, pods: list[dict]) -> dict[str, list[dict]]:
        """``getNodesToDaemonPods(includeDeletedTerminal=false)``: pods by target node, oldest first."""
        out: dict[str, list[dict]] = {}
        for p in pods:
            if p["metadata"].get("deletionTimestamp") and (p.get("status") or {}).get("phase") in ("Succeeded",
                                                                                                   "Failed"):
                continue
            node = target_node(p)
            if node:
                out.setdefault(node, []).append(p)
        for v in out.values():
            v.sort(key=_created)
        return out

    def _history(self, ds: dict, hash_: str) -> tuple[dict | None, list[dict]]:
        """``constructHistory``: the current ControllerRevision (created or bumped) and the old ones."""
        m = ds["metadata"]
        owned = self.revisions.by_index("controller-uid", m["uid"])
        name = f"{m['name']}-{hash_}"
        current = [r for r in owned if r["metadata"]["name"] == name]
        old = [r for r in owned if r["metadata"]["name"] != name]
        max_old = max((int(r.get("revision") or 0) for r in old), default=0)
        if current:
            cur = current[0]
            if int(cur.get("revision") or 0) <= max_old:
                cur = dict(cur, revision=max_old + 1)
                cur = self.client.update(cur)
                self.revisions.assume(cur)
            return cur, old
        template = copy.deepcopy((ds.get("spec") or {}).get("template") or {})
        template["$patch"] = "replace"
        labels = dict(((ds["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {})
        labels[REVISION_HASH_LABEL] = hash_
        body = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
                "metadata": {"name": name, "namespace": m.get("namespace"), "labels": labels,
                             "ownerReferences": [owner_reference(ds)]},
                "data": {"spec": {"template": template}}, "revision": max_old + 1}
        if m.get("annotations"):
            body["metadata"]["annotations"] = dict(m["annotations"])
        try:
            cur = self.client.create(body, namespace=m.get("namespace"))
        except AlreadyExistsError:
            return None, old  # a hash collision or a stale cache: try again on the next sync
        self.revisions.assume(cur)
        return cur, old

    def _cleanup_history(self, ds: dict, old: list[dict], pods: list[dict]) -> None:
        limit = int((ds.get("spec") or {}).get("revisionHistoryLimit", 10) or 0)
        live = {(p["metadata"].get("labels") or {}).get(REVISION_HASH_LABEL) for p in pods}
        candidates = sorted((r for r in old if (r["metadata"].get("labels") or {}).get(REVISION_HASH_LABEL)
                             not in live), key=lambda r: int(r.get("revision") or 0))
        for r in candidates[:max(len(candidates) - limit, 0)]:
            try:
                self.client.delete("controllerrevisions", r["metadata"]["name"], r["metadata"].get("namespace"))
            except NotFoundError:
                pass
            self.revisions.assume_deleted(r)

    def _create(self, ds: dict, node: str, hash_: str) -> None:
        template = copy.deepcopy((ds.get("spec") or {}).get("template") or {})
        tmeta = template.get("metadata") or {}
        spec = template.get("spec") or {}
        spec["tolerations"] = daemon_tolerations(spec)
        spec["affinity"] = _node_affinity_for(spec.get("affinity"), node)
        labels = dict(tmeta.get("labels") or {})
        labels[TEMPLATE_GENERATION_LABEL] = _template_generation(ds)
        labels[REVISION_HASH_LABEL] = hash_
        ns = ds["metadata"].get("namespace") or "default"
        meta: dict[str, Any] = {"generateName": f"{ds['metadata']['name']}-", "namespace": ns, "labels": labels,
                                "ownerReferences": [owner_reference(ds)]}
        for k in ("annotations", "finalizers"):
            if tmeta.get(k):
                meta[k] = copy.deepcopy(tmeta[k])
        try:
            pod = self.client.create({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec},
                                     namespace=ns)
        except StatusError as e:
            self.recorder.warning(ds, "FailedCreate", f"Error creating: {e}")
            raise
        self.pods.assume(pod)
        self.recorder.normal(ds, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}")

    def _delete(self, ds: dict, pod: dict) -> None:
        name, ns = pod["metadata"]["name"], pod["metadata"].get("namespace")
        try:
            gone = self.client.delete("pods", name, ns)
        except NotFoundError:
            self.pods.assume_deleted(pod)
            return
        except StatusError as e:
            self.recorder.warning(ds, "FailedDelete", f"Error deleting: {e}")
            raise
        if gone.get("kind") == "Pod" and gone.get("metadata", {}).get("deletionTimestamp"):
            self.pods.assume(gone)
        else:
            self.pods.assume_deleted(pod)
        self.recorder.normal(ds, "SuccessfulDelete", f"Deleted pod: {name}")

    def _is_updated(self, ds: dict, pod: dict, hash_: str) -> bool:
        labels = pod["metadata"].get("labels") or {}
        return labels.get(REVISION_HASH_LABEL) == hash_ or (
            TEMPLATE_GENERATION_ANNOTATION in (ds["metadata"].get("annotations") or {})
            and labels.get(TEMPLATE_GENERATION_LABEL) == _template_generation(ds))

    # -- reconcile -------------------------------------------------------------------
    def reconcile(self, key: str) -> None:
        ds = self.daemonsets.get(key)
        if ds is None:
            return
        spec = ds.get("spec") or {}
        hash_ = compute_hash(spec.get("template") or {}, (ds.get("status") or {}).get("collisionCount"))
        pods = self._claim_pods(ds)
        nodes = sorted(self.nodes.list(), key=lambda n: n["metadata"]["name"])
        if ds["metadata"].get("deletionTimestamp"):
            self._update_status(ds, nodes, pods, hash_)
            return
        cur, old = self._history(ds, hash_)
        if cur is None:
            self.enqueue(ds, delay=1.0)
            return
        self._manage(ds, nodes, pods, hash_)
        pods = self._claim_pods(ds)
        if (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate":
            self._rolling_update(ds, nodes, pods, hash_)
            pods = self._claim_pods(ds)
        self._cleanup_history(ds, old, pods)
        self._update_status(self.daemonsets.get(key) or ds, nodes, pods, hash_)

    def _manage(self, ds: dict, nodes: list[dict], pods: list[dict], hash_: str) -> None:
        by_node = self._nodes_to_pods(pods)
        create: list[str] = []
        delete: list[dict] = []
        now = self.loop.now
        for node in nodes:
            name = node["metadata"]["name"]
            should_run, keep = node_should_run(node, ds)
            daemon = by_node.get(name)
            if should_run and not daemon:
                create.append(name)
            elif keep:
                running = []
                for p in daemon or []:
                    if p["metadata"].get("deletionTimestamp"):
                        continue
                    phase = (p.get("status") or {}).get("phase")
                    where = f"{p['metadata'].get('namespace')}/{p['metadata']['name']} on node {name}"
                    if phase == "Failed":
                        bkey = f"{ds['metadata']['uid']}/{(ds.get('status') or {}).get('observedGeneration', 0)}/{name}"
                        if self.failed_pods_backoff.in_backoff_since_update(bkey, now):
                            self.enqueue(ds, delay=self.failed_pods_backoff.get(bkey))
                            continue
                        self.failed_pods_backoff.next(bkey, now)
                        self.recorder.warning(ds, "FailedDaemonPod",
                                              f"Found failed daemon pod {where}, will try to kill it")
                        delete.append(p)
                    elif phase == "Succeeded":
                        self.recorder.normal(ds, "SucceededDaemonPod",
                                             f"Found succeeded daemon pod {where}, will try to delete it")
                        delete.append(p)
                    else:
                        running.append(p)
                delete.extend(running[1:])  # more than one: keep the oldest
            elif daemon:
                delete.extend(p for p in daemon if not p["metadata"].get("deletionTimestamp"))
        known = {n["metadata"]["name"] for n in nodes}
        for node, daemon in sorted(by_node.items()):
            if node not in known:  # getUnscheduledPodsWithoutNode
                delete.extend(p for p in daemon if not (p.get("spec") or {}).get("nodeName")
                              and not p["metadata"].get("deletionTimestamp"))
        for node in create[:BURST_REPLICAS]:
            self._create(ds, node, hash_)
        for pod in delete[:BURST_REPLICAS]:
            self._delete(ds, pod)

    def _rolling_update(self, ds: dict, nodes: list[dict], pods: list[dict], hash_: str) -> None:
        """maxSurge 0: delete old pods while at most ``maxUnavailable`` nodes lack an available pod."""
        by_node = self._nodes_to_pods(pods)
        desired = sum(1 for n in nodes if node_should_run(n, ds)[0])
        max_unavailable = _max_unavailable(ds, desired)
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        now = self.loop.now
        unavailable = 0
        replace: list[dict] = []
        candidates: list[dict] = []
        for node in sorted(by_node):
            live = [p for p in by_node[node] if not p["metadata"].get("deletionTimestamp")]
            new = [p for p in live if self._is_updated(ds, p, hash_)]
            old = [p for p in live if not self._is_updated(ds, p, hash_)]
            if len(new) > 1 or len(old) > 1 or bool(new) == bool(old):
                unavailable += 1  # none, or both: manage() sorts it out
            elif new:
                if not _available(new[0], min_ready, now):
                    unavailable += 1
            elif not _available(old[0], min_ready, now):
                replace.append(old[0])
            elif unavailable < max_unavailable:
                candidates.append(old[0])
        room = min(max(max_unavailable - unavailable, 0), len(candidates))
        for pod in replace + candidates[:room]:
            self._delete(ds, pod)

    def _update_status(self, ds: dict, nodes: list[dict], pods: list[dict], hash_: str) -> None:
        by_node = self._nodes_to_pods(pods)
        min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
        now = self.loop.now
        desired = current = mis = ready = available = updated = 0
        for node in nodes:
            should_run, _ = node_should_run(node, ds)
            daemon = by_node.get(node["metadata"]["name"])
            if should_run:
                desired += 1
                if not daemon:
                    continue
                current += 1
                pod = daemon[0]
                if is_pod_ready(pod):
                    ready += 1
                    if _available(pod, min_ready, now):
                        available += 1
                if self._is_updated(ds, pod, hash_):
                    updated += 1
            elif daemon:
                mis += 1
        if min_ready and ready != available:
            self.enqueue(ds, delay=min_ready)
        status = dict(ds.get("status") or {})
        merged = dict(status)
        merged.update({"desiredNumberScheduled": desired, "currentNumberScheduled": current,
                       "numberMisscheduled": mis, "numberReady": ready, "updatedNumberScheduled": updated,
                       "numberAvailable": available, "numberUnavailable": desired - available,
                       "observedGeneration": ds["metadata"].get("generation", 1)})
        for k in ("updatedNumberScheduled", "numberAvailable", "numberUnavailable"):
            if merged.get(k) == 0:
                merged.pop(k)  # omitempty
        if merged == status:
            return
        body = dict(ds)
        body["status"] = merged
        try:
            updated_ds = self.client.update(body, subresource="status")
        except NotFoundError:
            return
        self.daemonsets.assume(updated_ds)
