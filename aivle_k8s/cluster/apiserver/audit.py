"""kube-apiserver's audit log, in memory: one event per request, who asked, what happened, what etcd got.

A real API server writes audit events (``--audit-log-path``, ``audit.k8s.io/v1``
``Event``) for every request: its stage, verb, request URI, the authenticated
user, the authorization decision, the response code and, at the
``RequestResponse`` level, the request and response bodies. Here a *sink* (any
callable taking an :class:`AuditEvent`, or an :class:`AuditLog`) is attached
with :meth:`APIServer.add_audit_sink`; nobody listening costs one attribute test
per request. Each request gives

* a ``RequestReceived`` event (before anything runs: a sink may look at the
  cluster as it is at that moment) and
* a ``ResponseComplete`` event with the outcome: ``code``, for a refusal the
  ``phase`` that refused it (``routing``, ``authorization``, ``decoding``,
  ``admission``, ``validation``, ``storage``) and the message, and for a write
  the etcd ``revision`` it produced (``revision_before`` is etcd's revision
  when the request arrived: a refused request leaves it where it was).

Each event records the client's User-Agent (``userAgent``: client-go's
``kube-proxy/v1.30.8 (linux/amd64) kubernetes/<commit>``, CoreDNS's and flanneld's
``.../v0.0.0 (linux/amd64) kubernetes/$Format``) and source address; :attr:`AuditEvent.component`
names the program from its credential (``kubernetes-admin`` -> kubectl,
``system:node:worker-1`` -> the kubelet of worker-1, ...).

>>> from aivle_k8s.cluster.etcd import Store
>>> from aivle_k8s.cluster.apiserver import APIServer
>>> from aivle_k8s.sim.clock import Loop
>>> import random
>>> loop = Loop()
>>> api = APIServer(Store(loop), now=lambda: "2025-03-03T09:00:00Z", rng=random.Random(0), loop=loop)
>>> log = AuditLog()
>>> api.add_audit_sink(log)
>>> _ = api.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}, user="kubernetes-admin")
>>> e = log.events[-1]
>>> e.verb, e.request_uri, e.code, e.component, e.revision == e.revision_before + 1
('create', '/api/v1/namespaces/default/configmaps', 201, 'kubectl', True)
>>> try:
...     api.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "A"}}, user="kubernetes-admin")
... except Exception:
...     pass
>>> e = log.events[-1]
>>> e.code, e.phase, e.revision, e.revision_before == api.storage.revision
(422, 'validation', None, True)
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["AuditEvent", "AuditLog", "component_of", "node_of", "request_uri", "WRITE_VERBS", "run_audited"]

#: Verbs that may change what etcd holds.
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})

_CODES = {200: "OK", 201: "Created", 202: "Accepted"}


def component_of(user: str) -> str:
    """The program behind a credential, as a cluster built by kubeadm hands them out.

    >>> component_of("system:node:worker-1"), component_of("system:serviceaccount:kube-system:kube-proxy")
    ('kubelet', 'kube-proxy')
    """
    if user in ("kubernetes-admin", "kubernetes-super-admin"):
        return "kubectl"
    if user == "system:kube-scheduler":
        return "kube-scheduler"
    if user == "system:kube-controller-manager" or (
            user.startswith("system:serviceaccount:kube-system:") and
            (user.endswith("-controller") or "-controller-" in user or user.endswith("garbage-collector")
             or user.endswith(":token-cleaner") or user.endswith(":bootstrap-signer"))):
        return "kube-controller-manager"
    if user.startswith("system:node:"):
        return "kubelet"
    if user in ("system:kube-proxy", "system:serviceaccount:kube-system:kube-proxy"):
        return "kube-proxy"
    if user == "system:serviceaccount:kube-flannel:flannel":
        return "flanneld"
    if user == "system:serviceaccount:kube-system:calico-node":
        return "calico-node"
    if user == "system:serviceaccount:kube-system:coredns":
        return "coredns"
    if user.startswith("system:bootstrap:"):
        return "kubeadm"
    if user == "system:apiserver":
        return "kube-apiserver"
    return user


def node_of(user: str) -> str | None:
    """The node a kubelet credential belongs to (``system:node:<name>``), else None."""
    return user[len("system:node:"):] if user.startswith("system:node:") else None


def request_uri(info: Any, namespace: str, name: str, subresource: str = "", query: str = "") -> str:
    """The REST path kubectl would use (``/apis/apps/v1/namespaces/default/deployments/web``)."""
    if info is None:
        return ""
    base = f"/apis/{info.group}/{info.version}" if info.group else f"/api/{info.version}"
    if info.namespaced and namespace:
        base += f"/namespaces/{namespace}"
    base += f"/{info.plural}"
    if name:
        base += f"/{name}"
        if subresource:
            base += f"/{subresource}"
    return base + (f"?{query}" if query else "")


@dataclass
class AuditEvent:
    """One request as the audit log saw it (``audit.k8s.io/v1`` ``Event``, condensed).

    ``time`` is simulated seconds; ``revision`` the etcd revision the request wrote (None: nothing
    written); ``phase`` where a refused request stopped; ``request_object``/``response_object``
    are copies, kept for writes only (the ``RequestResponse`` level).
    """

    audit_id: int
    stage: str
    time: float
    verb: str
    resource: str
    subresource: str
    group: str
    api_version: str
    kind: str
    namespace: str
    name: str
    user: str
    groups: tuple
    request_uri: str
    revision_before: int | None
    code: int | None = None
    reason: str = ""
    message: str = ""
    phase: str = ""
    admission_plugin: str = ""
    decision: str = ""
    authorization_reason: str = ""
    revision: int | None = None
    dry_run: bool = False
    request_object: Any = None
    response_object: Any = None
    annotations: dict = field(default_factory=dict)
    user_agent: str = ""
    source_ips: tuple = ()

    @property
    def component(self) -> str:
        """The program that sent the request (from its credential: see :func:`component_of`)."""
        return component_of(self.user)

    @property
    def node(self) -> str | None:
        return node_of(self.user)

    @property
    def ok(self) -> bool:
        return self.code is not None and 200 <= self.code < 300

    @property
    def wrote(self) -> bool:
        return self.revision is not None

    @property
    def http_method(self) -> str:
        return {"get": "GET", "list": "GET", "watch": "GET", "create": "POST", "update": "PUT", "patch": "PATCH",
                "delete": "DELETE", "deletecollection": "DELETE"}.get(self.verb, self.verb.upper())

    @property
    def status_text(self) -> str:
        """``201 Created`` / ``422 Invalid``."""
        if self.code is None:
            return ""
        return f"{self.code} {self.reason or _CODES.get(self.code, '')}".strip()

    def as_dict(self) -> dict:
        """The event in ``audit.k8s.io/v1`` shape (what ``--audit-log-path`` would hold, one per line)."""
        ref: dict = {"resource": self.resource, "namespace": self.namespace or None, "name": self.name or None,
                     "apiGroup": self.group or None, "apiVersion": self.api_version.split("/")[-1] or None,
                     "subresource": self.subresource or None}
        out: dict = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse"
                     if self.verb in WRITE_VERBS else "Metadata", "auditID": f"{self.audit_id:08d}",
                     "stage": self.stage, "requestURI": self.request_uri, "verb": self.verb,
                     "user": {"username": self.user, "groups": list(self.groups)},
                     "objectRef": {k: v for k, v in ref.items() if v is not None}}
        if self.source_ips:
            out["sourceIPs"] = list(self.source_ips)
        if self.user_agent:
            out["userAgent"] = self.user_agent
        if self.code is not None:
            out["responseStatus"] = {"metadata": {}, "code": self.code}
            if not self.ok:
                out["responseStatus"].update({"status": "Failure", "message": self.message, "reason": self.reason})
        ann = dict(self.annotations)
        if self.decision:
            ann["authorization.k8s.io/decision"] = self.decision
            ann["authorization.k8s.io/reason"] = self.authorization_reason
        if ann:
            out["annotations"] = ann
        return out

    def __repr__(self) -> str:
        where = f" rev {self.revision}" if self.revision is not None else ""
        return (f"<AuditEvent {self.stage} {self.user} {self.http_method} {self.request_uri} "
                f"{self.status_text}{where}>")


class AuditLog:
    """An audit backend that keeps the last ``capacity`` ResponseComplete events in memory.

    ``verbs`` limits what it keeps (None: every verb); ``omit_stages`` as in an audit policy.
    """

    def __init__(self, capacity: int = 10000, *, verbs: Any = None, omit_stages: tuple = ("RequestReceived",)):
        self.capacity = int(capacity)
        self.verbs = frozenset(verbs) if verbs is not None else None
        self.omit_stages = tuple(omit_stages)
        self.events: list[AuditEvent] = []
        self.dropped = 0

    def __call__(self, event: AuditEvent) -> None:
        if event.stage in self.omit_stages or (self.verbs is not None and event.verb not in self.verbs):
            return
        self.events.append(event)
        if len(self.events) > self.capacity:
            drop = len(self.events) - self.capacity
            del self.events[:drop]
            self.dropped += drop

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self):
        return iter(self.events)

    def __repr__(self) -> str:
        return f"<AuditLog {len(self.events)} events>"

    def clear(self) -> None:
        self.events.clear()

    def lines(self) -> str:
        """JSON lines, as the real log file holds them."""
        return "".join(json.dumps(e.as_dict(), sort_keys=True) + "\n" for e in self.events)


# -- what the server's verbs mean as requests ---------------------------------------------------------
_VERB_OF = {"create": "create", "get": "get", "list": "list", "update": "update", "patch": "patch",
            "delete": "delete", "delete_collection": "deletecollection", "bind": "create", "evict": "create",
            "logs": "get", "exec": "create", "watch": "watch"}


def _arg(args: tuple, kwargs: dict, i: int, name: str, default: Any = None) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[i] if len(args) > i else default


def _describe(server: Any, method: str, args: tuple, kwargs: dict) -> dict:
    """Resource, subresource, namespace, name and body of a call to one of the server's verbs."""
    from .resources import resolve, resolve_kind

    d: dict = {"resource": "", "subresource": "", "namespace": "", "name": "", "info": None, "body": None}

    def info_for(resource: Any) -> Any:
        try:
            return resolve(str(resource))
        except Exception:  # noqa: BLE001 - an unknown resource: the request itself will say so
            return None

    if method in ("create", "update"):
        obj = _arg(args, kwargs, 0, "obj")
        d["body"] = obj
        meta = obj.get("metadata") if isinstance(obj, dict) and isinstance(obj.get("metadata"), dict) else {}
        d["name"] = str(meta.get("name") or "")
        d["namespace"] = str(kwargs.get("namespace") or meta.get("namespace") or "")
        info = None
        if method == "update" and kwargs.get("resource"):
            info = info_for(kwargs["resource"])
        elif isinstance(obj, dict):
            kind, api = obj.get("kind"), obj.get("apiVersion")
            if kind == "Binding":
                info, d["subresource"] = resolve("pods"), "binding"
            elif kind == "Eviction":
                info, d["subresource"] = resolve("pods"), "eviction"
            elif kind and api:
                try:
                    info = resolve_kind(str(api), str(kind))
                except Exception:  # noqa: BLE001
                    d["resource"] = str(kind).lower()
                    d["kind"] = str(kind)
        d["info"] = info
        if method == "update":
            d["subresource"] = str(kwargs.get("subresource") or "")
    elif method in ("get", "delete", "patch"):
        d["info"] = info_for(_arg(args, kwargs, 0, "resource"))
        d["name"] = str(_arg(args, kwargs, 1, "name") or "")
        d["namespace"] = str(kwargs.get("namespace") or (args[3] if method == "patch" and len(args) > 3 else
                                                         args[2] if method != "patch" and len(args) > 2 else "")
                             or "")
        d["subresource"] = str(kwargs.get("subresource") or "")
        if method == "patch":
            d["body"] = _arg(args, kwargs, 2, "patch")
    elif method in ("list", "watch", "delete_collection"):
        d["info"] = info_for(_arg(args, kwargs, 0, "resource"))
        d["namespace"] = str(_arg(args, kwargs, 1, "namespace") or "")
    elif method in ("bind", "evict", "logs", "exec"):
        d["info"] = resolve("pods")
        d["name"] = str(_arg(args, kwargs, 0, "name") or "")
        d["namespace"] = str(_arg(args, kwargs, 2 if method == "bind" else 1, "namespace") or "")
        d["subresource"] = {"bind": "binding", "evict": "eviction", "logs": "log", "exec": "exec"}[method]
        if method == "bind":
            d["body"] = {"target": {"kind": "Node", "name": _arg(args, kwargs, 1, "node")}}
    info = d["info"]
    if info is not None:
        d["resource"] = info.plural
        if info.namespaced and not d["namespace"]:
            d["namespace"] = "default"
        if not info.namespaced:
            d["namespace"] = ""
    return d


def _phase_of(error: BaseException) -> str:
    from . import errors as E

    phase = getattr(error, "audit_phase", "")
    if phase:
        return phase
    if isinstance(error, (E.NoKindMatchError, E.UnknownResourceError, E.MethodNotSupportedError)):
        return "routing"
    if isinstance(error, E.ForbiddenError):
        return "authorization"
    if isinstance(error, E.BadRequestError):
        return "decoding"
    if isinstance(error, E.InvalidError):
        return "validation"
    if isinstance(error, (E.StatusError,)):
        return "storage"
    return "connection"


def _authorization(server: Any, user: Any, verb: str, info: Any, sub: str, ns: str, name: str) -> tuple[str, str]:
    """The authorizers' decision and, for an allow, which rule allowed it (the audit annotations)."""
    from .auth import NODE_RULES, POLICY, Attributes, _WILDCARD_KEYS, _subjects, authorize, node_name_of
    import fnmatch

    if info is None:
        return "", ""
    a = Attributes(user, verb, info.plural, info.group, sub or "", ns or "", name or "")
    ok, why = authorize(a, server._node_references)
    if not ok:
        return "forbid", why
    if node_name_of(user) is not None and any(r.allows(a) for r in NODE_RULES):
        return "allow", "Node authorizer: allowed by the system:node rules (then NodeRestriction admission)"
    for s in _subjects(user):
        keys = [s] + [k for k in _WILDCARD_KEYS if k != s and fnmatch.fnmatchcase(s, k)]
        for k in keys:
            if any(r.allows(a) for r in POLICY.get(k, ())):
                return "allow", _BINDINGS.get(k, f'RBAC: allowed by the rules bound to {k.replace(":", " ", 1)}')
    return "allow", ""


_BINDINGS = {
    "group:kubeadm:cluster-admins": 'RBAC: allowed by ClusterRoleBinding "kubeadm:cluster-admins" of ClusterRole '
                                    '"cluster-admin" to Group "kubeadm:cluster-admins"',
    "group:system:masters": "RBAC: group system:masters may do anything",
    "user:system:kube-controller-manager": 'RBAC: allowed by ClusterRoleBinding "system:kube-controller-manager" of '
                                           'ClusterRole "system:kube-controller-manager" to User '
                                           '"system:kube-controller-manager"',
    "user:system:kube-scheduler": 'RBAC: allowed by ClusterRoleBinding "system:kube-scheduler" of ClusterRole '
                                  '"system:kube-scheduler" to User "system:kube-scheduler"',
    "user:system:serviceaccount:kube-system:kube-proxy": 'RBAC: allowed by ClusterRoleBinding "kubeadm:node-proxier" '
                                                         'of ClusterRole "system:node-proxier" to ServiceAccount '
                                                         '"kube-proxy/kube-system"',
    "user:system:serviceaccount:kube-flannel:flannel": 'RBAC: allowed by ClusterRoleBinding "flannel" of ClusterRole '
                                                       '"flannel" to ServiceAccount "flannel/kube-flannel"',
}


def _copy(obj: Any) -> Any:
    try:
        return json.loads(json.dumps(obj))
    except (TypeError, ValueError):
        return None


def _revision(server: Any) -> int | None:
    try:
        return int(server.storage.revision)
    except Exception:  # noqa: BLE001 - etcd unreachable: the request will say so
        return None


def run_audited(server: Any, method: str, fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """Run one verb of ``server`` as a request seen by the audit sinks (called by the server's verbs).

    Requests made while it runs (the verb's own inner calls, a sink reading the cluster) are not
    audited again: one request, one pair of events.
    """
    from .auth import user_info
    from .errors import StatusError

    sinks = list(server.audit_sinks)
    server._audit_depth += 1
    try:
        server._audit_seq += 1
        u = user_info(kwargs.get("user"))
        d = _describe(server, method, args, kwargs)
        info = d["info"]
        verb = _VERB_OF.get(method, method)
        query = "watch=true" if verb == "watch" else ""
        name = d["name"] if verb != "create" or d["subresource"] else ""
        event = AuditEvent(audit_id=server._audit_seq, stage="RequestReceived", time=float(server.loop.now),
                           verb=verb, resource=d["resource"], subresource=d["subresource"],
                           group=info.group if info is not None else "",
                           api_version=info.api_version if info is not None else "",
                           kind=info.kind if info is not None else d.get("kind", ""),
                           namespace=d["namespace"], name=d["name"], user=u.name, groups=tuple(u.groups),
                           request_uri=request_uri(info, d["namespace"], name, d["subresource"], query),
                           revision_before=_revision(server), dry_run=bool(kwargs.get("dry_run")),
                           user_agent=getattr(u, "user_agent", "") or "",
                           source_ips=tuple(getattr(u, "source_ips", ()) or ()))
        writes = verb in WRITE_VERBS
        if writes:
            event.request_object = _copy(d["body"])
        for sink in sinks:
            sink(event)
        done = AuditEvent(**{**event.__dict__, "stage": "ResponseComplete", "annotations": {}})
        try:
            result = fn(server, *args, **kwargs)
        except BaseException as e:
            done.code = int(getattr(e, "code", 0) or 0) if isinstance(e, StatusError) else None
            done.reason = str(getattr(e, "reason", "") or type(e).__name__)
            done.message = str(e)
            done.phase = _phase_of(e)
            done.admission_plugin = str(getattr(e, "admission_plugin", "") or "")
            _finish(server, done, u, info)
            for sink in sinks:
                sink(done)
            raise
        done.code = 201 if verb == "create" and method != "exec" else 200
        if isinstance(result, dict) and result.get("kind") == "Status" and result.get("code"):
            done.code = int(result["code"])
        if isinstance(result, dict):
            meta = result.get("metadata") if isinstance(result.get("metadata"), dict) else {}
            if not done.name and meta.get("name") and not done.subresource:
                done.name = str(meta["name"])
            if meta.get("namespace") and not done.namespace:
                done.namespace = str(meta["namespace"])
            if writes:
                done.response_object = _copy(result)
        _finish(server, done, u, info)
        for sink in sinks:
            sink(done)
        return result
    finally:
        server._audit_depth -= 1


def _finish(server: Any, done: AuditEvent, u: Any, info: Any) -> None:
    done.time = float(server.loop.now)
    after = _revision(server)
    if after is not None and done.revision_before is not None and after > done.revision_before:
        done.revision = after
    if done.phase in ("routing", "connection"):
        return
    named = done.verb not in ("list", "watch", "deletecollection") and (done.verb != "create" or done.subresource)
    decision, reason = _authorization(server, u, done.verb, info, done.subresource, done.namespace,
                                      done.name if named else "")
    done.decision, done.authorization_reason = decision, reason


def rfc3339_micro(world_epoch: _dt.datetime, seconds: float) -> str:
    """``2025-03-03T09:00:52.123456Z`` for simulated second ``seconds``."""
    t = world_epoch + _dt.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
