"""Follow one request through every component of a cluster: who did what, in order, and why.

:func:`follow` performs an action (``kubectl apply`` of a manifest, any ``kubectl``
command line, or a Python callable), lets simulated time pass until the cluster is
quiet again, and returns a :class:`Trace`: the steps each component took, in the
order they happened. Nothing in it is scripted; every step is derived from what
really happened:

* the API server's **audit events** (an in-memory audit backend is attached for
  the duration): each request's verb, REST path, authenticated user, the
  authorizer's decision, the phase that refused it, the etcd revision it wrote.
  The component is named from the request's User-Agent when it sent one
  (``kube-proxy/v1.30.2 (linux/amd64) kubernetes/3968350``), and the node from
  its source address (so the kube-proxies of three nodes are three actors);
  otherwise from its credential (``kubernetes-admin`` -> kubectl,
  ``system:kube-scheduler``, ``system:node:worker-1`` -> that node's kubelet) and
  the controller from what it wrote (a ReplicaSet owned by a Deployment comes
  from the deployment-controller, a Pod owned by a ReplicaSet from the
  replicaset-controller, Endpoints from the endpoint-controller);
* the **scheduler's reasoning**, replayed with the same filter and score
  plugins on the cluster as it was when the Binding arrived
  (:func:`explain_scheduling`);
* the **container runtime's events** on each node (image pulled, sandbox and
  containers created and started);
* **kube-proxy's NAT rules** on each node (``iptables -t nat -L KUBE-SERVICES``).

Only what concerns the traced objects is kept: the objects kubectl touched, the
objects created on their behalf (owner references), their Events, Endpoints
and bindings. A request the API server refuses shows where it stopped and that
etcd's revision did not move.

>>> import aivle_k8s as ak
>>> from aivle_k8s.cluster.bootstrap import build_cluster
>>> world = ak.World(seed=0)
>>> cluster = build_cluster(world)
>>> bad = follow(cluster, "apiVersion: v1\\nkind: Pod\\nmetadata: {name: x}\\nspec: {containers: [{name: c}]}\\n")
>>> bad.rejected, bad.rejection.phase, bad.revision_before == bad.revision_after
(True, 'validation', True)
>>> bad.error.splitlines()[0]
'The Pod "x" is invalid: spec.containers[0].image: Required value'
>>> t = follow(cluster, "apiVersion: v1\\nkind: Pod\\nmetadata: {name: web}\\n"
...                     "spec: {containers: [{name: web, image: nginx:1.25}]}\\n")
>>> t.components()
['kubectl', 'kube-apiserver', 'etcd', 'kube-scheduler', 'kubelet', 'container runtime']
>>> t.scheduled["web"]
'worker-2'
"""

from __future__ import annotations

import copy
import html
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import yaml

from ..sim.errors import AivleError, InvalidInput

__all__ = ["follow", "Trace", "Step", "explain_scheduling", "SchedulingExplanation", "cluster_of", "audit",
           "COMPONENTS", "MASTER_COMPONENTS", "WORKER_COMPONENTS", "etcd_revision", "etcd_get", "load_manifest",
           "WORKLOAD_KINDS", "who", "component_of_user_agent"]

#: Every component a trace can name, master first, in the order a request usually meets them.
MASTER_COMPONENTS = ("kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler")
WORKER_COMPONENTS = ("kubelet", "container runtime", "kube-proxy")
COMPONENTS = ("kubectl",) + MASTER_COMPONENTS + WORKER_COMPONENTS

_ADMIN_USERS = ("kubernetes-admin", "kubernetes-super-admin")
_CONTROL_PLANE = {"kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler"}
_PIPELINE = ("routing", "authentication", "authorization", "decoding", "admission", "validation", "storage")
_PHASE_WORDS = {
    "routing": "routing (which API, which kind)",
    "authorization": "authorization (RBAC)",
    "decoding": "decoding against the schema",
    "admission": "admission",
    "validation": "validation",
    "storage": "storage (etcd)",
    "connection": "connection",
}


# =====================================================================================
# finding the cluster
# =====================================================================================
def cluster_of(cluster_or_world: Any) -> Any:
    """The admin :class:`~aivle_k8s.cluster.cluster.Cluster` of a cluster or of the world holding one.

    In a world, the cluster is the one whose control plane ``kubeadm init`` set up (the machine with
    ``/etc/kubernetes/admin.conf`` and the kube-apiserver static pod manifest).
    """
    from .cluster import Cluster

    if isinstance(cluster_or_world, Cluster):
        return cluster_or_world
    world = cluster_or_world
    machines = getattr(world, "machines", None)
    if machines is None:
        raise InvalidInput(f"expected a Cluster or a World, not {type(cluster_or_world).__name__}")
    for name in sorted(machines):
        m = machines[name]
        try:
            if m.fs.exists("/etc/kubernetes/admin.conf") and \
                    m.fs.exists("/etc/kubernetes/manifests/kube-apiserver.yaml"):
                return Cluster(world, m)
        except AivleError:
            continue
    raise InvalidInput("this world has no Kubernetes cluster yet: build one first "
                       "(cluster = build_cluster(world), or kubeadm init on a machine)")


def _apiserver(cluster: Any) -> Any:
    try:
        return cluster.client.apiserver()
    except AivleError as e:
        raise AivleError(f"The connection to the server {cluster.client.host}:{cluster.client.port} was refused - "
                         f"did you specify the right host or port? ({e})") from None


def etcd_revision(cluster_or_world: Any) -> int:
    """etcd's current revision, as the API server sees it (what ``etcdctl endpoint status -w json``
    reports as ``header.revision``): every write to etcd adds one."""
    return int(_apiserver(cluster_of(cluster_or_world)).storage.revision)


def etcd_get(cluster_or_world: Any, key: str) -> dict | None:
    """One etcd key as ``etcdctl get KEY -w json`` reports it: ``key``, ``create_revision`` (the revision
    that created it), ``mod_revision`` (its last write: the object's ``resourceVersion``), ``version``
    (writes since creation) and ``value`` (the stored JSON, decoded); None when there is no such key."""
    import json

    kv = _apiserver(cluster_of(cluster_or_world)).storage.get_kv(str(key))
    if kv is None:
        return None
    raw = kv.value.decode("utf-8", "replace") if isinstance(kv.value, bytes) else str(kv.value)
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return {"key": str(key), "create_revision": int(kv.create_revision), "mod_revision": int(kv.mod_revision),
            "version": int(kv.version), "value": value}


#: User-Agent programs -> the component a trace names (anything else keeps its own name).
_UA_PROGRAMS = {"kubectl": "kubectl", "kube-apiserver": "kube-apiserver", "kube-scheduler": "kube-scheduler",
                "kube-controller-manager": "kube-controller-manager", "kubelet": "kubelet",
                "kube-proxy": "kube-proxy", "kubeadm": "kubeadm"}


def component_of_user_agent(ua: str) -> tuple[str, str]:
    """``(component, actor)`` from a client-go User-Agent (``program/version (os/arch) kubernetes/commit[/suffix]``):
    the actor is what ``rest.AddUserAgent`` appended (``scheduler``; a controller's service account becomes
    its name). ``("", "")`` when there is no User-Agent.

    >>> component_of_user_agent("kube-proxy/v1.30.2 (linux/amd64) kubernetes/3968350")
    ('kube-proxy', '')
    >>> component_of_user_agent("kube-controller-manager/v1.30.2 (linux/amd64) kubernetes/3968350/"
    ...                         "system:serviceaccount:kube-system:replicaset-controller")
    ('kube-controller-manager', 'replicaset-controller')
    """
    ua = str(ua or "").strip()
    if not ua:
        return "", ""
    program = ua.split("/", 1)[0].split(" ", 1)[0]
    actor = ""
    head, sep, tail = ua.partition(" kubernetes/")
    if sep and "/" in tail:
        actor = tail.split("/", 1)[1]
        if actor.startswith("system:serviceaccount:"):
            actor = actor.rsplit(":", 1)[-1]
    return _UA_PROGRAMS.get(program, program), actor


def _node_of_ip(world: Any, ip: str) -> str | None:
    if not ip or ip.startswith("127.") or world is None:
        return None
    net = getattr(world, "net", None)
    if net is None:
        return None
    try:
        ns = net.owner(ip)
    except Exception:  # noqa: BLE001 - an address nobody owns any more
        return None
    return getattr(ns, "node", None) if ns is not None else None


def who(event: Any, world: Any = None) -> tuple[str, str | None, str]:
    """``(component, node, actor)`` of an audit event: from its User-Agent and source address when the
    client sent them (a kube-proxy on worker-1 is ``("kube-proxy", "worker-1", "")``), else from its
    credential (``system:node:worker-1`` is the kubelet of worker-1; a service account is its program,
    on an unknown node)."""
    comp, actor = component_of_user_agent(getattr(event, "user_agent", "") or "")
    if not comp:
        comp = event.component
    node = getattr(event, "node", None)
    if node is None:
        for ip in getattr(event, "source_ips", None) or ():
            node = _node_of_ip(world, str(ip))
            if node is not None:
                break
    return comp, node, actor


class audit:
    """Record every request the API server answers while the block runs (an in-memory audit log).

    >>> # with audit(cluster) as log:
    >>> #     world.advance(30)
    >>> # [e for e in log.events if e.user == "system:node:worker-1" and e.resource == "leases"]
    """

    def __init__(self, cluster_or_world: Any, *, verbs: Iterable[str] | None = None, capacity: int = 100000):
        from .apiserver.audit import AuditLog

        self.cluster = cluster_of(cluster_or_world)
        self.log = AuditLog(capacity, verbs=verbs)
        self._api: Any = None

    def __enter__(self) -> Any:
        self._api = _apiserver(self.cluster)
        self._api.add_audit_sink(self.log)
        return self.log

    def __exit__(self, *exc: Any) -> None:
        if self._api is not None:
            self._api.remove_audit_sink(self.log)


# =====================================================================================
# scheduling explanations
# =====================================================================================
#: Kinds whose pod template :func:`explain_scheduling` explains.
WORKLOAD_KINDS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController")


def _pod_from(obj: dict, namespace: str) -> dict:
    """A Pod as the API server would store it: from a Pod, or from a workload's pod template."""
    from .apiserver.admission import default_toleration_seconds
    from .apiserver.defaults import apply_defaults
    from .apiserver.errors import InvalidError
    from .apiserver.validation import quantity_errors, validate_object

    if not isinstance(obj, dict):
        raise InvalidInput("expected a Pod (or a Deployment, ReplicaSet, Job ...) manifest")
    kind = obj.get("kind")
    if kind in WORKLOAD_KINDS or kind == "CronJob":
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        if kind == "CronJob":
            spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
        tpl = spec.get("template") if isinstance(spec.get("template"), dict) else {}
        meta = copy.deepcopy(tpl.get("metadata") or {})
        owner = (obj.get("metadata") or {}).get("name") or "pod"
        meta.setdefault("name", f"{owner}-<new>")
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": copy.deepcopy(tpl.get("spec") or {})}
    elif kind == "Pod" or kind is None:
        pod = copy.deepcopy(obj)
        pod.setdefault("apiVersion", "v1")
        pod["kind"] = "Pod"
    else:
        raise InvalidInput(f"a {kind} has no pods to schedule: give a Pod, or a Deployment/ReplicaSet/Job manifest")
    meta = pod.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise InvalidInput("metadata must be a mapping")
    meta.setdefault("name", "pod")
    meta.setdefault("namespace", namespace)
    if not isinstance(pod.get("spec"), dict) or not pod["spec"].get("containers"):
        raise InvalidError("Pod", "", str(meta.get("name")), [_required("spec.containers")])
    q = quantity_errors(pod)
    if q:
        raise InvalidInput(f'Pod in version "v1" cannot be handled as a Pod: {q}')
    apply_defaults(pod)
    default_toleration_seconds(pod)
    causes = validate_object(pod)
    if causes:
        raise InvalidError("Pod", "", str(meta.get("name")), causes)
    return pod


def _required(path: str) -> Any:
    from .apiserver.errors import FieldError

    return FieldError.required(path)


def load_manifest(manifest: Any) -> dict:
    """One object from YAML text, a dict or a KubeObject (a copy); raises InvalidInput with the parser's words."""
    from .cluster import KubeObject

    if isinstance(manifest, KubeObject):
        return copy.deepcopy(manifest.raw)
    if isinstance(manifest, dict):
        return copy.deepcopy(manifest)
    if isinstance(manifest, (str, bytes)):
        try:
            docs = [d for d in yaml.safe_load_all(manifest) if d is not None]
        except yaml.YAMLError as e:
            raise InvalidInput(f"error converting YAML to JSON: {str(e).splitlines()[0]}") from None
        if len(docs) != 1 or not isinstance(docs[0], dict):
            raise InvalidInput(f"expected one Pod (or workload) manifest, got {len(docs)} documents")
        return docs[0]
    raise InvalidInput(f"expected a pod name, a manifest (YAML or dict), not {type(manifest).__name__}")


@dataclass
class SchedulingExplanation:
    """Where a pod could go and why: the scheduler's filter and score plugins, node by node.

    ``rows`` (node, plugin, stage, result, reason, score, weight), ``totals`` (weighted score of each
    feasible node), ``best`` (nodes with the top score), ``message`` (the FailedScheduling text when
    no node fits), ``feasible``, ``nodes`` (in the scheduler's order), ``pod`` (the pod as scheduled).
    """

    pod: dict
    nodes: list[str]
    rows: list[Any]
    totals: dict[str, int]
    best: list[str]
    message: str
    scheduled_on: str | None = None  # where the pod is (for an existing pod)

    @property
    def name(self) -> str:
        return (self.pod.get("metadata") or {}).get("name", "")

    @property
    def feasible(self) -> list[str]:
        return [n for n in self.nodes if n in self.totals]

    @property
    def fits(self) -> bool:
        return bool(self.totals)

    def verdict(self, node: str) -> tuple[bool, str, str]:
        """``(passed, plugin, reason)``: the node's filter verdict (the first plugin that rejected it)."""
        for r in self.rows:
            if r.node == node and r.stage in ("prefilter", "filter") and r.result == "rejected":
                return False, r.plugin, r.reason
        return True, "", ""

    def scores(self, node: str) -> dict[str, tuple[int, int]]:
        """``{plugin: (score 0..100, weight)}`` of a feasible node."""
        return {r.plugin: (r.score, r.weight) for r in self.rows
                if r.node == node and r.stage == "score" and r.score is not None}

    def plugins(self, stage: str) -> list[str]:
        out: list[str] = []
        for r in self.rows:
            if r.stage == stage and r.plugin not in out:
                out.append(r.plugin)
        return out

    def summary(self) -> str:
        """One line per node: passed/rejected (and why), total score."""
        lines = []
        for n in self.nodes:
            ok, plugin, reason = self.verdict(n)
            if ok:
                best = "  <- best" if n in self.best else ""
                lines.append(f"{n}: fits, score {self.totals.get(n, 0)}{best}")
            else:
                lines.append(f"{n}: filtered out by {plugin}: {reason}")
        if self.message:
            lines.append(self.message)
        return "\n".join(lines)

    def table(self) -> str:
        """The node x plugin table as text (filter verdicts, then weighted scores)."""
        filters = self.plugins("filter")
        scorers = self.plugins("score")
        head = ["NODE", *filters, *(f"{s} (x{self._weight(s)})" for s in scorers), "TOTAL"]
        body = []
        for n in self.nodes:
            row = [n]
            for p in filters:
                row.append(self._cell(n, p, "filter"))
            sc = self.scores(n)
            for p in scorers:
                row.append(str(sc[p][0]) if p in sc else "-")
            row.append(str(self.totals[n]) if n in self.totals else "-")
            body.append(row)
        widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [head, *body]]
        if self.message:
            lines += ["", self.message]
        elif self.best:
            lines += ["", f"best: {', '.join(self.best)}"]
        return "\n".join(lines)

    def _weight(self, plugin: str) -> int:
        for r in self.rows:
            if r.plugin == plugin and r.weight is not None:
                return r.weight
        return 1

    def _cell(self, node: str, plugin: str, stage: str) -> str:
        for r in self.rows:
            if r.node == node and r.plugin == plugin and r.stage == stage:
                return {"passed": "ok", "rejected": "NO", "not run": "·", "skipped": "skip"}.get(r.result, r.result)
        for r in self.rows:  # rejected before filtering (PreFilter)
            if r.node == node and r.stage == "prefilter":
                return "·"
        return ""

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        where = f"fits {self.feasible}, best {self.best}" if self.fits else "fits nowhere"
        return f"<SchedulingExplanation {self.name}: {where}>"


def _snapshot(api: Any, exclude_uid: str = "") -> tuple[list[dict], list[dict]]:
    from .apiserver.server import SYSTEM_USER

    nodes = api.list("nodes", user=SYSTEM_USER).get("items") or []
    pods = [p for p in api.list("pods", None, user=SYSTEM_USER).get("items") or []
            if (p.get("spec") or {}).get("nodeName")
            and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
            and (p.get("metadata") or {}).get("uid") != exclude_uid]
    return nodes, pods


def _explain_with(api: Any, pod: dict, scheduled_on: str | None = None) -> SchedulingExplanation:
    from .scheduler import explain
    from .scheduler.cache import Cache

    nodes, pods = _snapshot(api, (pod.get("metadata") or {}).get("uid", ""))
    cache = Cache(nodes, pods)
    ex = explain(pod, cache)
    order = [ni.name for ni in cache.nodes]
    return SchedulingExplanation(pod, order, list(ex.rows), dict(ex.totals), list(ex.best), ex.message,
                                 scheduled_on)


def explain_scheduling(cluster_or_world: Any, pod: Any, namespace: str = "default") -> SchedulingExplanation:
    """Run the scheduler's filter and score plugins for ``pod`` on the cluster as it is now (nothing changes).

    ``pod`` is the name of a pod in ``namespace`` (pending or not: a bound pod is explained as if it
    were not there yet), a Pod manifest (YAML text or dict), or a workload manifest (its pod
    template). A manifest is defaulted and validated as the API server would; a bad one raises
    the API server's error.
    """
    cluster = cluster_of(cluster_or_world)
    api = _apiserver(cluster)
    if isinstance(pod, str) and "\n" not in pod and ":" not in pod:
        from .apiserver.server import SYSTEM_USER

        obj = api.get("pods", pod.strip(), namespace, user=SYSTEM_USER)
        node = (obj.get("spec") or {}).get("nodeName") or None
        if node:
            obj = copy.deepcopy(obj)
            obj["spec"].pop("nodeName", None)
        return _explain_with(api, obj, node)
    return _explain_with(api, _pod_from(load_manifest(pod), namespace))


# =====================================================================================
# traces
# =====================================================================================
@dataclass
class Step:
    """One thing one component did.

    ``seq`` orders the steps (many share one simulated instant), ``time`` is in simulated seconds,
    ``component`` one of :data:`COMPONENTS`, ``node`` the machine it runs on, ``actor`` the part of it
    that acted (``deployment-controller``, ``containerd``), ``action`` one line, ``details`` more
    lines, ``source`` the evidence (``audit``, ``event``, ``scheduler``, ``runtime``, ``iptables``),
    ``ok`` False for a refusal or a failure, ``audit`` the audit event behind it, ``revision`` the
    etcd revision written.
    """

    seq: int
    time: float
    component: str
    node: str
    action: str
    actor: str = ""
    details: list[str] = field(default_factory=list)
    source: str = "audit"
    ok: bool = True
    audit: Any = None
    revision: int | None = None
    kind: str = ""

    @property
    def role(self) -> str:
        """``master`` (control plane), ``worker`` (node components) or ``client`` (kubectl)."""
        if self.component == "kubectl":
            return "client"
        return "master" if self.component in _CONTROL_PLANE else "worker"

    def line(self, start: float = 0.0) -> str:
        who = self.component + (f" ({self.actor})" if self.actor else "")
        mark = "" if self.ok else "✘ "
        return f"{self.time - start:+8.3f}s  {self.node:<10} {who:<44} {mark}{self.action}"

    def as_dict(self) -> dict:
        return {"seq": self.seq, "time": self.time, "component": self.component, "node": self.node,
                "actor": self.actor, "action": self.action, "details": list(self.details), "source": self.source,
                "ok": self.ok, "revision": self.revision, "kind": self.kind}

    def __repr__(self) -> str:
        return f"<Step {self.seq} {self.component}@{self.node}: {self.action}>"


@dataclass
class Trace:
    """What :func:`follow` saw: the steps in order and the facts behind them.

    Attributes:
        action: what was done (``kubectl apply -f -`` ...); ``manifest`` the applied text, if any.
        result: kubectl's ShellResult (or the callable's return value).
        steps: every :class:`Step`, in the order it happened.
        requests: the audit events of the related requests (:class:`~.apiserver.audit.AuditEvent`).
        all_requests: every request the API server answered meanwhile (heartbeats, leases included).
        revision_before, revision_after: etcd's revision just before and just after the action
            (equal when nothing was stored); ``revision_end`` when the trace stopped.
        started, finished: simulated seconds.
        scheduled: pod name -> node; explanations: pod name -> :class:`SchedulingExplanation`.
        objects: ``(resource, namespace, name)`` of the objects followed; created: those kubectl created.
    """

    action: str
    manifest: str | None
    started: float
    finished: float = 0.0
    result: Any = None
    steps: list[Step] = field(default_factory=list)
    requests: list[Any] = field(default_factory=list)
    all_requests: list[Any] = field(default_factory=list)
    revision_before: int = 0
    revision_after: int = 0
    revision_end: int = 0
    scheduled: dict[str, str] = field(default_factory=dict)
    explanations: dict[str, SchedulingExplanation] = field(default_factory=dict)
    objects: list[tuple] = field(default_factory=list)
    created: list[tuple] = field(default_factory=list)
    world: Any = None

    # -- outcome -------------------------------------------------------------------------------
    @property
    def rejected(self) -> bool:
        """The action did not get through: kubectl failed, or the API server refused a write."""
        code = getattr(self.result, "exit_code", 0)
        return bool(code) or self.rejection is not None

    @property
    def rejection(self) -> Any:
        """The first refused write of the action (an audit event: ``.phase``, ``.code``, ``.message``), or None."""
        for e in self.requests:
            if e.component == "kubectl" and e.verb in ("create", "update", "patch", "delete") and not e.ok:
                return e
        return None

    @property
    def error(self) -> str:
        """What kubectl printed on stderr (the API server's words), or the refusal's message."""
        err = getattr(self.result, "stderr", "") or ""
        if err:
            return err
        rej = self.rejection
        return rej.message if rej is not None else ""

    @property
    def output(self) -> str:
        return getattr(self.result, "stdout", "") or ""

    @property
    def stored(self) -> list[tuple[str, int]]:
        """``(etcd key, revision)`` of every write the trace followed, in order."""
        return [(s.action.split(" ")[1], s.revision) for s in self.steps
                if s.component == "etcd" and s.revision is not None and s.action.startswith(("PUT", "DELETE"))]

    # -- views -----------------------------------------------------------------------------------
    def components(self) -> list[str]:
        """The components that took part, in the order of :data:`COMPONENTS`."""
        seen = {s.component for s in self.steps}
        return [c for c in COMPONENTS if c in seen]

    def did(self, component: str) -> bool:
        return any(s.component == component for s in self.steps)

    def steps_of(self, component: str, node: str | None = None) -> list[Step]:
        return [s for s in self.steps if s.component == component and (node is None or s.node == node)]

    def by_component(self) -> dict[str, list[Step]]:
        """``{component: [steps]}`` in the order of :data:`COMPONENTS`."""
        return {c: self.steps_of(c) for c in self.components()}

    def by_node(self) -> dict[str, dict[str, list[Step]]]:
        """``{node: {component: [steps]}}``: the master's components, then each worker's."""
        out: dict[str, dict[str, list[Step]]] = {}
        for s in self.steps:
            out.setdefault(s.node, {}).setdefault(s.component, []).append(s)
        order = sorted(out, key=lambda n: (0 if any(c in _CONTROL_PLANE for c in out[n]) else 1, n))
        return {n: {c: out[n][c] for c in COMPONENTS if c in out[n]} for n in order}

    def first(self, component: str) -> Step | None:
        for s in self.steps:
            if s.component == component:
                return s
        return None

    def timestamp(self, t: float) -> str:
        """Wall-clock form of simulated second ``t`` (with milliseconds)."""
        if self.world is None:
            return f"{t:.3f}"
        d = self.world.datetime(t)
        return d.strftime("%H:%M:%S.") + f"{d.microsecond // 1000:03d}"

    def timeline(self, details: bool = False) -> str:
        """The steps as text, one per line (``details``: with their detail lines)."""
        head = f"trace of `{self.action}` from {self.timestamp(self.started)} (simulated), {len(self.steps)} steps"
        lines = [head]
        for s in self.steps:
            lines.append(s.line(self.started))
            if details:
                lines.extend(" " * 12 + d for d in s.details)
        return "\n".join(lines)

    def summary(self) -> str:
        """One line per component: how many steps and its first action."""
        out = []
        for c, steps in self.by_component().items():
            nodes = sorted({s.node for s in steps})
            out.append(f"{c:<24} {len(steps):>3} step{'s' if len(steps) != 1 else ' '} on {', '.join(nodes)}: "
                       f"{steps[0].action}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.timeline()

    def __repr__(self) -> str:
        state = "rejected" if self.rejected else "ok"
        return f"<Trace {self.action!r} {state}: {len(self.steps)} steps, components {self.components()}>"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td><code>{s.time - self.started:+.3f}s</code></td><td>{html.escape(s.node)}</td>"
            f"<td>{html.escape(s.component)}</td><td>{html.escape(s.actor)}</td>"
            f"<td style='text-align:left;{'' if s.ok else 'color:#cf222e'}'>{html.escape(s.action)}</td></tr>"
            for s in self.steps)
        return (f"<div><b>trace of <code>{html.escape(self.action)}</code></b></div>"
                f"<table><tr><th>time</th><th>node</th><th>component</th><th>actor</th><th>what</th></tr>"
                f"{rows}</table>")


# -- the recorder --------------------------------------------------------------------------------
def _norm_image(ref: str) -> str:
    from ..images.reference import parse_reference

    try:
        return str(parse_reference(ref))
    except AivleError:
        return ref


def _engine_of(machine: Any) -> Any:
    kubelet = machine.extensions.get("kubelet") if hasattr(machine, "extensions") else None
    rt = getattr(kubelet, "runtime", None)
    engine = getattr(rt, "engine", None)
    if engine is not None:
        return engine
    ext = getattr(machine, "extensions", {}) or {}
    return ext.get("containerd") or getattr(machine, "engine", None)


def _runtime_name(machine: Any) -> str:
    kubelet = machine.extensions.get("kubelet") if hasattr(machine, "extensions") else None
    ep = str(getattr(getattr(kubelet, "runtime", None), "endpoint", "") or "")
    if "crio" in ep:
        return "cri-o"
    if "dockerd" in ep or "docker" in ep:
        return "cri-dockerd"
    return "containerd"


def _owners(obj: Any) -> list[dict]:
    if not isinstance(obj, dict):
        return []
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return [r for r in refs if isinstance(r, dict)]


def _kind_to_resource(kind: str) -> str:
    from .apiserver.resources import RESOURCES

    for info in RESOURCES:
        if info.kind == kind:
            return info.plural
    return kind.lower() + "s"


def _targets(targets: Iterable) -> str:
    return ", ".join(f"{ip}:{port}" for ip, port in targets) or "(none)"


class _Recorder:
    """Collects what happens while a trace runs and turns it into steps, in order."""

    def __init__(self, cluster: Any, api: Any, trace: Trace, detail: bool):
        self.cluster = cluster
        self.api = api
        self.trace = trace
        self.detail = detail
        self.world = cluster.world
        self.loop = cluster.loop
        self.seq = 0
        self.keys: set[tuple] = set()
        self.uids: set[str] = set()
        self.parents: set[str] = set()
        self.services: set[str] = set()
        self.pods: dict[str, dict] = {}  # uid -> {name, namespace, node, images}
        self.pending_explain: dict[int, SchedulingExplanation] = {}
        self.synced_pods: set[tuple] = set()
        self.last_seen: dict[tuple, dict] = {}
        self.before: dict[int, dict] = {}
        self.deleting: set[str] = set()  # uids of pods being deleted
        self.last_activity: float | None = None
        self.in_action = True
        self.master = self._master_node()
        self.client_node = getattr(cluster.machine, "name", "client") if cluster.machine is not None else "client"
        self.engines: dict[str, tuple[Any, int]] = {}
        self.rules: dict[tuple, tuple] = {}
        nodes = [n["metadata"]["name"] for n in (api.list("nodes", user=self._system()).get("items") or [])]
        self.nodes = nodes
        machines = getattr(self.world, "machines", {}) or {}
        for n in nodes:
            m = machines.get(n)
            if m is None:
                continue
            eng = _engine_of(m)
            if eng is not None:
                self.engines[n] = (eng, len(eng.events))
        self.runtime_names = {n: _runtime_name(machines[n]) for n in nodes if n in machines}
        net = getattr(self.world, "net", None)
        self.net = net
        self.rules = self._rule_signatures()

    @staticmethod
    def _system() -> Any:
        from .apiserver.server import SYSTEM_USER

        return SYSTEM_USER

    def _master_node(self) -> str:
        from .components import APISERVER_MACHINES

        m = APISERVER_MACHINES.get(id(self.api))
        if m is not None:
            return m.name
        return getattr(self.cluster.machine, "name", "master") if self.cluster.machine is not None else "master"

    # -- emitting ------------------------------------------------------------------------------------
    def emit(self, component: str, node: str, action: str, *, actor: str = "", details: Iterable[str] = (),
             source: str = "audit", ok: bool = True, audit: Any = None, revision: int | None = None,
             kind: str = "", time: float | None = None) -> Step:
        self.seq += 1
        step = Step(self.seq, self.loop.now if time is None else time, component, node, action, actor,
                    list(details), source, ok, audit, revision, kind)
        self.trace.steps.append(step)
        self.last_activity = self.loop.now
        return step

    # -- polling the runtime and the rules -------------------------------------------------------
    def drain(self) -> None:
        for node, (eng, seen) in list(self.engines.items()):
            events = eng.events
            if len(events) > seen:
                for ev in events[seen:]:
                    self._runtime_event(node, ev)
                self.engines[node] = (eng, len(events))
        if self.services:
            now = self._rule_signatures()
            if now != self.rules:
                for key in sorted(set(now) | set(self.rules)):
                    if now.get(key) != self.rules.get(key):
                        self._rules_changed(key, now.get(key))
                self.rules = now

    def _rule_signatures(self) -> dict[tuple, tuple]:
        out: dict[tuple, tuple] = {}
        if self.net is None:
            return out
        for node in self.nodes:
            for r in self.net.rules.get(node, []):
                svc = (r.comment or "").split(" ")[0].split(":")[0]
                if "/" not in svc:
                    continue
                out.setdefault((node, svc), ())
                out[(node, svc)] += ((r.ip, r.port, r.proto, tuple(map(tuple, r.targets)), r.comment),)
        return out

    def _rules_changed(self, key: tuple, rules: tuple | None) -> None:
        node, svc = key
        if svc not in self.services:
            return
        if not rules:
            self.emit("kube-proxy", node, f"removed the NAT rules of Service {svc}", source="iptables",
                      kind="rules")
            return
        details = []
        parts = []
        for ip, port, proto, targets, comment in rules:
            where = f"{ip}:{port}/{proto}" if ip else f"<node>:{port}/{proto} (NodePort)"
            if "has no endpoints" in comment:
                parts.append(f"{where} -> no endpoints (REJECT)")
            else:
                parts.append(f"{where} -> {_targets(targets)}")
            details.append(f"/* {comment} */ {parts[-1]}")
        self.emit("kube-proxy", node, f"KUBE-SERVICES rules for {svc}: " + "; ".join(parts), source="iptables",
                  details=details, kind="rules")

    def _runtime_event(self, node: str, ev: dict) -> None:
        typ, action = ev.get("Type"), ev.get("Action")
        attrs = (ev.get("Actor") or {}).get("Attributes") or {}
        name = str(attrs.get("name", ""))
        rt = self.runtime_names.get(node, "containerd")
        if typ == "image" and action == "pull":
            image = _norm_image(name)
            wanted = [p for p in self.pods.values() if p.get("node") == node and image in p["images"]]
            if wanted:
                short = str((ev.get("Actor") or {}).get("ID", ""))[:19]
                self.emit("container runtime", node, f"pulled image {image}", actor=rt, source="runtime",
                          details=[f"image id {short}…", f"for pod {', '.join(sorted(p['name'] for p in wanted))}"],
                          kind="image")
            return
        if typ != "container" or not name.startswith("k8s_"):
            return
        parts = name.split("_")
        if len(parts) < 6:
            return
        container, pod_name, ns, uid = parts[1], parts[2], parts[3], parts[4]
        if uid not in self.uids and (("pods", ns, pod_name) not in self.keys):
            return
        short = str((ev.get("Actor") or {}).get("ID", ""))[:13]
        deleting = uid in self.deleting
        verbs = {"create": "created", "start": "started", "die": "stopped", "destroy": "removed"}
        if action not in verbs:
            return
        if action in ("create", "die") and (uid, action) not in self.synced_pods and (action == "create" or deleting):
            self.synced_pods.add((uid, action))
            if action == "create":
                self.emit("kubelet", node, f"pod {pod_name} is bound to {node}: the kubelet starts it through the "
                          f"CRI (RunPodSandbox, PullImage, CreateContainer, StartContainer)", source="runtime",
                          kind="sync", details=["it learned of the pod from its watch on pods with "
                                                f"spec.nodeName={node}"])
            else:
                self.emit("kubelet", node, f"pod {pod_name} is being deleted: the kubelet stops its containers "
                          f"through the CRI (StopContainer, StopPodSandbox)", source="runtime", kind="sync")
        if container == "POD":
            what = f"{verbs[action]} the sandbox of pod {pod_name} (pause container {short})"
            kind = "sandbox"
        elif action == "die" and not deleting:
            what = f"container {container} of pod {pod_name} exited ({short}): its process ended"
            kind = "container"
        else:
            image = attrs.get("image", "")
            what = f"{verbs[action]} container {container} of pod {pod_name} ({short}"
            what += f", image {image})" if action == "create" and image else ")"
            kind = "container"
        self.emit("container runtime", node, what, actor=rt, source="runtime", kind=kind)

    # -- the audit sink -------------------------------------------------------------------------------
    def __call__(self, e: Any) -> None:
        self.drain()
        if e.stage == "RequestReceived":
            self._received(e)
            return
        self.trace.all_requests.append(e)
        if e.dry_run:
            return
        if self._who(e)[0] == "kubectl" and e.user in _ADMIN_USERS and self.in_action:
            self._kubectl(e)
            return
        if e.verb not in ("create", "update", "patch", "delete", "deletecollection") or not self._related(e):
            return
        self.trace.requests.append(e)
        self._component_write(e)

    def _received(self, e: Any) -> None:
        """Before a related update: keep the object as it was (to say what changed). Before a Binding or a
        FailedScheduling Event: replay the scheduler's plugins on this moment."""
        if e.dry_run:
            return
        comp = self._who(e)[0]
        if e.verb in ("update", "patch") and comp != "kubectl" and e.resource != "events" \
                and self._related(e):
            try:
                self.before[e.audit_id] = self.api.get(e.resource, e.name, e.namespace or None, user=self._system())
            except AivleError:
                pass
        if comp != "kube-scheduler":
            return
        pod_name, ns = "", e.namespace
        if e.resource == "pods" and e.subresource == "binding":
            pod_name = e.name
        elif e.resource == "events" and isinstance(e.request_object, dict):
            inv = e.request_object.get("involvedObject") or {}
            if e.request_object.get("reason") == "FailedScheduling" and inv.get("kind") == "Pod":
                pod_name, ns = inv.get("name", ""), inv.get("namespace") or ns
        if not pod_name or ("pods", ns, pod_name) not in self.keys:
            return
        from .apiserver.errors import StatusError

        try:
            pod = self.api.get("pods", pod_name, ns, user=self._system())
            self.pending_explain[e.audit_id] = _explain_with(self.api, pod)
        except (StatusError, AivleError):
            pass

    def _who(self, e: Any) -> tuple[str, str | None, str]:
        return who(e, self.world)

    # -- relatedness ----------------------------------------------------------------------------------
    def _related(self, e: Any) -> bool:
        if (e.resource, e.namespace, e.name) in self.keys:
            return True
        obj = e.response_object if isinstance(e.response_object, dict) else e.request_object
        if not isinstance(obj, dict):
            return False
        if e.resource == "events":
            inv = obj.get("involvedObject") or {}
            return inv.get("uid") in self.uids or \
                (_kind_to_resource(str(inv.get("kind", ""))), inv.get("namespace") or "", inv.get("name")) in self.keys
        owners = {r.get("uid") for r in _owners(obj)}
        if owners & self.uids:
            return True
        if e.verb == "create" and owners & self.parents:
            return True
        if e.resource == "endpoints" and f"{e.namespace}/{e.name}" in self.services:
            return True
        if e.resource == "endpointslices":
            svc = ((obj.get("metadata") or {}).get("labels") or {}).get("kubernetes.io/service-name")
            return f"{e.namespace}/{svc}" in self.services
        return False

    def _remember(self, e: Any, *, parents: bool = False) -> None:
        if not e.ok or e.dry_run:
            return
        obj = e.response_object if isinstance(e.response_object, dict) else None
        if e.resource in ("events", "endpointslices", "endpoints") and not parents:
            return
        key = (e.resource, e.namespace, e.name)
        if not e.name:
            return
        self.keys.add(key)
        if key not in self.trace.objects:
            self.trace.objects.append(key)
        stored = obj if obj is not None and obj.get("kind") not in ("Status", "Scale") else None
        if stored is None:
            try:
                stored = self.api.get(e.resource, e.name, e.namespace or None, user=self._system())
            except AivleError:
                stored = None
        if isinstance(stored, dict):
            self.last_seen[key] = stored
            uid = (stored.get("metadata") or {}).get("uid")
            if uid:
                self.uids.add(uid)
            if parents:
                self.parents.update(r.get("uid") for r in _owners(stored) if r.get("uid"))
            if e.resource == "pods":
                self._pod(stored)
                if e.verb in ("delete", "deletecollection") or (stored.get("metadata") or {}).get("deletionTimestamp"):
                    if uid:
                        self.deleting.add(uid)
        if e.resource == "services":
            self.services.add(f"{e.namespace}/{e.name}")

    def _pod(self, pod: dict) -> None:
        meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
        uid = meta.get("uid")
        if not uid:
            return
        rec = self.pods.setdefault(uid, {"name": meta.get("name"), "namespace": meta.get("namespace"),
                                         "node": None, "images": set()})
        rec["node"] = spec.get("nodeName") or rec["node"]
        for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
            if isinstance(c, dict) and c.get("image"):
                rec["images"].add(_norm_image(c["image"]))

    # -- kubectl's requests ----------------------------------------------------------------------------
    def _kubectl(self, e: Any) -> None:
        self.trace.requests.append(e)
        node = self.client_node
        status = e.status_text
        note = ""
        if e.verb == "get" and e.code == 404:
            note = " (not there yet)"
        self.emit("kubectl", node, f"{e.http_method} {e.request_uri} -> {status}{note}", audit=e,
                  ok=e.ok or e.verb == "get", kind="request",
                  details=[f"as {e.user} (client certificate of /etc/kubernetes/admin.conf)"])
        if e.verb not in ("create", "update", "patch", "delete", "deletecollection"):
            return
        self._pipeline(e)
        if e.ok:
            self._remember(e, parents=True)
            key = (e.resource, e.namespace, e.name)
            if e.verb == "create" and e.revision is not None and key not in self.trace.created:
                self.trace.created.append(key)

    def _pipeline(self, e: Any) -> None:
        """The API server's steps for one write: who, may they, is it well formed, admitted, valid, stored."""
        m = self.master
        failed = e.phase if not e.ok else ""
        info_line = f"{e.kind or e.resource} {e.api_version}".strip()

        def stage(name: str, text: str, details: Iterable[str] = ()) -> bool:
            ok = name != failed
            action = text if ok else f"{_PHASE_WORDS.get(name, name)} refused the request: {e.status_text}"
            dets = list(details) if ok else [e.message] + ([f"admission plugin {e.admission_plugin}"]
                                                           if e.admission_plugin else [])
            self.emit("kube-apiserver", m, action, actor=name, audit=e, ok=ok, kind="apiserver", details=dets)
            return ok

        if failed == "connection":
            return
        if not stage("routing", f"routed {e.http_method} {e.request_uri} to the {info_line} handler"
                     if e.api_version else f"routing {e.http_method} {e.request_uri}",
                     [f"etcd keys of {e.resource} live under /registry/"]):
            return self._not_stored(e)
        stage("authentication", f"authenticated user {e.user} (groups {', '.join(e.groups)})",
              ["x509 client certificate: CN is the user, O the groups"])
        if not stage("authorization", f"authorized: {e.verb} {e.resource}"
                     + (f"/{e.subresource}" if e.subresource else "") + " allowed",
                     [e.authorization_reason] if e.authorization_reason else []):
            return self._not_stored(e)
        if e.verb in ("create", "update", "patch"):
            if not stage("decoding", f"decoded the body as {info_line} (schema: known fields, right types)"):
                return self._not_stored(e)
            filled = _defaulted(e.request_object, e.response_object) if e.ok and e.verb == "create" else []
            adm = ("NamespaceLifecycle, ServiceAccount, NodeRestriction, TaintNodesByCondition, Priority, "
                   "DefaultTolerationSeconds")
            text = "defaulting and admission passed" + (f": filled in {len(filled)} fields" if filled else "")
            if not stage("admission", text, [f"admission plugins: {adm}"] + filled[:12]
                         + ([f"... and {len(filled) - 12} more"] if len(filled) > 12 else [])):
                return self._not_stored(e)
            if not stage("validation", f"validated the {e.kind or e.resource}: OK"):
                return self._not_stored(e)
        elif failed == "admission":
            stage("admission", "")
            return self._not_stored(e)
        if not e.ok:
            stage("storage", "")
            return self._not_stored(e)
        self._etcd(e)

    def _not_stored(self, e: Any) -> None:
        rev = e.revision_before
        self.emit("etcd", self.master, f"nothing written: revision stays {rev}", actor="", ok=False,
                  audit=e, kind="etcd", source="audit",
                  details=["a refused request never reaches etcd"])

    def _etcd(self, e: Any) -> None:
        from .apiserver.resources import resolve

        if e.revision is None:
            self.emit("etcd", self.master, "no change: nothing written", audit=e, kind="etcd",
                      details=["the object already looked like this"])
            return
        try:
            info = resolve(e.resource)
            key = info.etcd_key(e.name, e.namespace or None) if info.etcd_dir else ""
        except AivleError:
            key = ""
        deleting = e.verb in ("delete", "deletecollection")
        gone = False
        if deleting and key:
            try:
                gone = self.api.storage.get_kv(key) is None
            except Exception:  # noqa: BLE001 - etcd unreachable: say what the request said
                gone = False
        if deleting and not gone:
            verb, note = "PUT", "marked for deletion (deletionTimestamp set: the grace period runs)"
        elif deleting:
            verb, note = "DELETE", "removed"
        else:
            verb, note = "PUT", "stored"
        self.emit("etcd", self.master, f"{verb} {key} -> revision {e.revision}", audit=e, revision=e.revision,
                  kind="etcd", details=[f"{note}; resourceVersion is now {e.revision}"])

    # -- the other components' writes ------------------------------------------------------------------
    def _component_write(self, e: Any) -> None:
        comp, where, _actor = self._who(e)
        obj = e.response_object if isinstance(e.response_object, dict) else (
            e.request_object if isinstance(e.request_object, dict) else {})
        if e.resource == "events":
            self._event(e, obj)
            self._remember(e)
            return
        status_only = e.subresource == "status" and e.resource != "pods"
        if status_only and not self.detail:
            self._remember(e)
            return
        if comp == "kube-scheduler" and e.subresource == "binding":
            self._binding(e)
        elif comp == "kubelet":
            self._kubelet(e, obj)
        elif comp == "kube-controller-manager":
            self._controller(e, obj)
        else:
            node = where or self.master
            self.emit(comp if comp in COMPONENTS else "kube-apiserver", node,
                      f"{e.verb} {e.resource}/{e.name} ({e.user})", audit=e, ok=e.ok, kind="write")
        if e.ok:
            self._remember(e)
        self._hub(e)

    def _hub(self, e: Any) -> None:
        """Every write goes through the API server to etcd: one line each."""
        sub = f"/{e.subresource}" if e.subresource else ""
        comp, where, _actor = self._who(e)
        source = f"{comp} on {where}" if where and comp not in _CONTROL_PLANE else comp
        if e.ok:
            self.emit("kube-apiserver", self.master,
                      f"{e.verb} {e.resource}{sub} {e.namespace + '/' if e.namespace else ''}{e.name} "
                      f"from {source}: {e.status_text}", actor="", audit=e, kind="apiserver",
                      details=[f"user {e.user}", e.authorization_reason or "authorized",
                               "admitted and validated"])
            self._etcd(e)
        else:
            self.emit("kube-apiserver", self.master,
                      f"{e.verb} {e.resource}{sub} {e.name} from {source} refused: {e.status_text}",
                      audit=e, ok=False, kind="apiserver", details=[e.message])

    def _controller(self, e: Any, obj: dict) -> None:
        ua_actor = self._who(e)[2]
        owners = _owners(obj)
        owner = next((r for r in owners if r.get("controller")), owners[0] if owners else None)
        okind = (owner or {}).get("kind", "")
        kind = e.kind or e.resource
        name = e.name
        actor = {"replicasets": "deployment-controller" if okind == "Deployment" else "replicaset-controller",
                 "pods": {"ReplicaSet": "replicaset-controller", "DaemonSet": "daemonset-controller",
                          "Job": "job-controller", "StatefulSet": "statefulset-controller"}.get(
                     okind, "pod-garbage-collector" if e.verb == "delete" else "kube-controller-manager"),
                 "deployments": "deployment-controller",
                 "endpoints": "endpoint-controller",
                 "endpointslices": "endpointslice-controller",
                 "daemonsets": "daemonset-controller",
                 "jobs": "job-controller"}.get(e.resource, "kube-controller-manager")
        if ua_actor:  # the controller named itself in its User-Agent (its own client, as real ones have)
            actor = ua_actor
        spec = obj.get("spec") or {}
        details: list[str] = []
        if e.resource == "endpoints":
            addrs = []
            for sub in obj.get("subsets") or []:
                ports = [p.get("port") for p in sub.get("ports") or []]
                for a in sub.get("addresses") or []:
                    addrs += [f"{a.get('ip')}:{p}" for p in ports] or [a.get("ip")]
                for a in sub.get("notReadyAddresses") or []:
                    addrs += [f"{a.get('ip')}:{p} (not ready)" for p in ports]
            text = f"Endpoints {e.namespace}/{name}: {', '.join(addrs) if addrs else 'no ready pods yet'}"
        elif e.resource == "endpointslices":
            eps = [((x.get("addresses") or ["?"])[0]) for x in obj.get("endpoints") or []]
            svc = ((obj.get("metadata") or {}).get("labels") or {}).get("kubernetes.io/service-name", "")
            text = f"EndpointSlice {name} for Service {svc}: {', '.join(eps) if eps else 'no endpoints yet'}"
        elif e.verb == "create":
            what = f"created {kind} {name}"
            if owner:
                what += f" (owner {okind} {owner.get('name')})"
            if "replicas" in spec and e.resource == "replicasets":
                what += f", replicas: {spec['replicas']}"
            text = what
        elif e.verb == "delete":
            text = f"deleted {kind} {name}"
        elif e.subresource == "status":
            st = obj.get("status") or {}
            text = f"updated {kind} {name} status: " + ", ".join(
                f"{k} {st.get(k, 0)}" for k in ("replicas", "readyReplicas", "availableReplicas") if k in st or
                k == "replicas")
        else:
            before = self.before.pop(e.audit_id, None) or self.last_seen.get((e.resource, e.namespace, name))
            changed = _changes(before, obj) if isinstance(before, dict) else []
            text = f"updated {kind} {name}" + (f": {'; '.join(changed[:3])}" if changed else "")
            details = changed
        self.emit("kube-controller-manager", self.master, text, actor=actor, audit=e, ok=e.ok, kind="controller",
                  details=details)

    def _binding(self, e: Any) -> None:
        target = (((e.request_object or {}).get("target")) or {}).get("name", "")
        ns, pod = e.namespace, e.name
        ex = self.pending_explain.pop(e.audit_id, None)
        if ex is not None:
            self.trace.explanations[pod] = ex
            details = ex.summary().splitlines()
            rejected = [n for n in ex.nodes if not ex.verdict(n)[0]]
            fits = ex.feasible
            text = (f"pod {pod}: {len(fits)} of {len(ex.nodes)} nodes fit"
                    + (f" ({', '.join(f'{n}: {ex.verdict(n)[1]}' for n in rejected)} filtered out)" if rejected
                       else "")
                    + "; scores " + ", ".join(f"{n} {ex.totals[n]}" for n in fits) + f" -> {target}")
            if len(ex.best) > 1 and target in ex.best:
                details.append(f"{' and '.join(ex.best)} tie: the scheduler picks one of them at random")
            self.emit("kube-scheduler", self.master, text, actor="default-scheduler", source="scheduler",
                      details=details, kind="decision")
        self.emit("kube-scheduler", self.master, f"bound pod {pod} to {target} (POST pods/{pod}/binding)",
                  actor="default-scheduler", audit=e, ok=e.ok, kind="binding")
        if e.ok:
            self.trace.scheduled[pod] = target
            for rec in self.pods.values():
                if rec["name"] == pod and rec["namespace"] == ns:
                    rec["node"] = target

    def _kubelet(self, e: Any, obj: dict) -> None:
        node = self._who(e)[1] or "?"
        if e.resource == "pods" and e.subresource == "status":
            st = obj.get("status") or {}
            conds = {c.get("type"): c.get("status") for c in st.get("conditions") or [] if isinstance(c, dict)}
            states = []
            for cs in st.get("containerStatuses") or []:
                state = cs.get("state") or {}
                word = next(iter(state), "?")
                reason = (state.get(word) or {}).get("reason") if isinstance(state.get(word), dict) else ""
                states.append(f"{cs.get('name')} {word}{' ' + reason if reason else ''}")
            text = (f"reported pod {e.name} status: {st.get('phase', '?')}"
                    + (f", IP {st['podIP']}" if st.get("podIP") else "")
                    + (f", Ready {conds['Ready']}" if "Ready" in conds else ""))
            self.emit("kubelet", node, text, audit=e, ok=e.ok, kind="status", details=states)
        elif e.resource == "pods" and e.verb == "delete":
            self.emit("kubelet", node, f"containers of pod {e.name} stopped: confirmed the deletion (grace 0)",
                      audit=e, ok=e.ok, kind="write")
        else:
            self.emit("kubelet", node, f"{e.verb} {e.resource}/{e.name}", audit=e, ok=e.ok, kind="write")

    def _event(self, e: Any, obj: dict) -> None:
        src = obj.get("source") or {}
        comp = src.get("component") or obj.get("reportingComponent") or ""
        inv = obj.get("involvedObject") or {}
        reason, message, typ = obj.get("reason", ""), obj.get("message", ""), obj.get("type", "Normal")
        if e.verb != "create":
            if not self.detail:
                return
        about = f"{inv.get('kind', '')}/{inv.get('name', '')}"
        if comp == "kubelet":
            node = src.get("host") or self._who(e)[1] or "?"
            self.emit("kubelet", node, f"{message} (Event {reason})", actor="", source="event",
                      ok=typ != "Warning", audit=e, kind="event", details=[f"Event {typ} {reason} on {about}"])
            return
        if comp == "default-scheduler":
            if typ == "Warning":
                ex = self.pending_explain.pop(e.audit_id, None)
                details = [message]
                if ex is not None:
                    self.trace.explanations[inv.get("name", "")] = ex
                    details = ex.summary().splitlines()
                self.emit("kube-scheduler", self.master, f"no node fits pod {inv.get('name')}: {message}",
                          actor="default-scheduler", source="event", ok=False, audit=e, kind="decision",
                          details=details)
            elif self.detail:
                self.emit("kube-scheduler", self.master, f"{message} (Event {reason})", actor=comp, source="event",
                          audit=e, kind="event")
            return
        if typ == "Warning" or self.detail:
            component = "kube-controller-manager" if comp.endswith("controller") or "controller" in comp else comp
            self.emit(component if component in COMPONENTS else "kube-controller-manager", self.master,
                      f"{message} (Event {reason})", actor=comp, source="event", ok=typ != "Warning", audit=e,
                      kind="event", details=[f"Event {typ} {reason} on {about}"])


def _changes(old: Any, new: Any, path: str = "") -> list[str]:
    """``path: value`` of what an update changed (spec, labels, annotations; not status or bookkeeping)."""
    out: list[str] = []
    if not isinstance(old, dict) or not isinstance(new, dict):
        return out if old == new else [f"{path}: {_short(new)}"]
    for k in sorted(set(old) | set(new)):
        p = f"{path}.{k}" if path else k
        if p in ("status", "metadata.resourceVersion", "metadata.managedFields", "metadata.generation",
                 "apiVersion", "kind"):
            continue
        a, b = old.get(k), new.get(k)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend(_changes(a, b, p))
        elif k not in new:
            out.append(f"{p} removed")
        else:
            out.append(f"{p}: {_short(b)}")
    return out


def _defaulted(request: Any, stored: Any, path: str = "") -> list[str]:
    """Paths (with values) the server filled in: present in the stored object, absent from the request."""
    out: list[str] = []
    if not isinstance(stored, dict):
        return out
    req = request if isinstance(request, dict) else {}
    for k, v in stored.items():
        p = f"{path}.{k}" if path else k
        if p in ("metadata", "status") or p.startswith(("metadata.", "status")):
            if p == "metadata":
                continue
            if not (p.startswith("metadata.") and k in ("uid", "creationTimestamp", "generation")):
                continue
        if k not in req:
            if isinstance(v, (dict, list)) and v:
                out.append(f"{p}: {_short(v)}")
            elif not isinstance(v, (dict, list)):
                out.append(f"{p}: {v}")
            continue
        rv = req[k]
        if isinstance(v, dict) and isinstance(rv, dict):
            out.extend(_defaulted(rv, v, p))
        elif isinstance(v, list) and isinstance(rv, list):
            for i, (a, b) in enumerate(zip(rv, v)):
                if isinstance(b, dict):
                    out.extend(_defaulted(a, b, f"{p}[{i}]"))
    return out


def _short(v: Any) -> str:
    import json

    text = json.dumps(v, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= 60 else text[:57] + "..."


# =====================================================================================
# follow
# =====================================================================================
def _action_of(cluster: Any, action: Any) -> tuple[str, str | None, Callable[[], Any]]:
    if callable(action):
        name = getattr(action, "__name__", "action")
        return f"{name}()", None, action
    if isinstance(action, (list, tuple)) and all(isinstance(a, dict) for a in action):
        text = yaml.safe_dump_all([dict(a) for a in action], sort_keys=False)
    elif isinstance(action, dict):
        text = yaml.safe_dump(dict(action), sort_keys=False)
    elif isinstance(action, str):
        text = action
    else:
        raise InvalidInput(f"follow() takes a manifest (YAML text or dict), a kubectl command line or a "
                           f"callable, not {type(action).__name__}")
    stripped = text.strip()
    if not stripped:
        raise InvalidInput("the manifest is empty: write a Kubernetes object (apiVersion, kind, metadata, spec)")
    if stripped.startswith("kubectl ") and "\n" not in stripped:
        return stripped, None, lambda: cluster.kubectl(stripped)
    return "kubectl apply -f -", text, lambda: cluster.kubectl(["apply", "-f", "-"], stdin=text)


def follow(cluster_or_world: Any, action: Any, *, quiet: float = 3.0, timeout: float = 120.0,
           detail: bool = False) -> Trace:
    """Do ``action`` and follow it through the cluster until it is quiet; returns the :class:`Trace`.

    Args:
        cluster_or_world: the cluster (or the world holding it).
        action: a manifest (YAML text, a dict or a list of dicts: ``kubectl apply -f -`` as the admin),
            a ``kubectl ...`` command line, or a callable doing anything (its requests as the admin are
            the ones followed).
        quiet: stop once nothing concerning the followed objects happened for this many simulated seconds.
        timeout: stop after this many simulated seconds in any case.
        detail: also keep the controllers' status updates and every Event.

    Raises:
        InvalidInput: an empty manifest or something that is not an action. A manifest the API server
        refuses is not an error: the trace shows where it was refused (``trace.rejected``).
    """
    cluster = cluster_of(cluster_or_world)
    text, manifest, run = _action_of(cluster, action)
    api = _apiserver(cluster)
    loop = cluster.loop
    trace = Trace(text, manifest, loop.now, world=cluster.world)
    rec = _Recorder(cluster, api, trace, detail)
    trace.revision_before = int(api.storage.revision)
    api.add_audit_sink(rec)
    try:
        trace.result = run()
        rec.drain()
        trace.revision_after = int(api.storage.revision)
        rec.in_action = False
        if getattr(trace.result, "exit_code", 0) and not trace.requests:
            lines = (getattr(trace.result, "stderr", "") or "").strip().splitlines()
            rec.emit("kubectl", rec.client_node, "stopped before sending the object: "
                     + (lines[0] if lines else f"exit code {trace.result.exit_code}"), ok=False, kind="request",
                     source="kubectl", details=lines[1:])
            rec.emit("kube-apiserver", rec.master, "received no request for it", ok=False, kind="apiserver",
                     source="kubectl")
            rec.emit("etcd", rec.master, f"nothing written: revision stays {trace.revision_before}", ok=False,
                     kind="etcd", source="kubectl")
        wrote = any(s.component == "etcd" and s.revision is not None for s in trace.steps)
        if wrote:
            deadline = loop.now + timeout
            marker: list = [None]

            def arm() -> None:
                due = (rec.last_activity if rec.last_activity is not None else loop.now) + quiet
                if marker[0] is None or marker[0][0] != due:
                    if marker[0] is not None:
                        marker[0][1].cancel()
                    marker[0] = (due, loop.call_at(max(due, loop.now), lambda: None))

            def settled() -> bool:
                rec.drain()
                arm()
                last = rec.last_activity if rec.last_activity is not None else trace.started
                return loop.now >= last + quiet or loop.now >= deadline

            arm()
            loop.run_until(settled, timeout=timeout)
            if marker[0] is not None:
                marker[0][1].cancel()
    finally:
        api.remove_audit_sink(rec)
    trace.finished = loop.now
    trace.revision_end = int(api.storage.revision)
    return trace
