"""kube-apiserver: the REST verbs over etcd, with authorization, admission, defaulting and validation.

Every request takes the real path: authenticate (the ``user`` argument) ->
authorize (Node, then a small RBAC-like table) -> decode against the real
schema -> default -> admission (NamespaceLifecycle, NodeRestriction, Priority,
DefaultTolerationSeconds ...) -> validate -> one guarded etcd transaction.
A refused request raises an error carrying a real ``Status`` and leaves etcd
untouched (its revision does not move).

>>> from aivle_k8s.cluster.etcd import Store
>>> from aivle_k8s.sim.clock import Loop
>>> import random
>>> loop = Loop()
>>> api = APIServer(Store(loop), now=lambda: "2025-03-03T09:00:00Z", rng=random.Random(0), loop=loop)
>>> pod = api.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
...                   "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}, user="kubernetes-admin")
>>> pod["metadata"]["namespace"], pod["status"]["phase"], pod["spec"]["schedulerName"]
('default', 'Pending', 'default-scheduler')
>>> api.get("pods", "web", user="kubernetes-admin")["metadata"]["resourceVersion"] == pod["metadata"]["resourceVersion"]
True
>>> api.create(pod | {"metadata": {"name": "web"}}, user="kubernetes-admin")
Traceback (most recent call last):
...
aivle_k8s.cluster.apiserver.errors.AlreadyExistsError: pods "web" already exists
"""

from __future__ import annotations

import base64
import datetime as _dt
import functools
import gc
import ipaddress
import json
import random
import uuid
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

from ..etcd import EtcdError
from . import admission as _admission
from .admission import SYSTEM_PRIORITY_CLASSES, Request
from .auth import Attributes, UserInfo, authorize, forbidden_message, user_info
from .defaults import apply_defaults, pod_qos_class
from .errors import (AlreadyExistsError, BadRequestError, ConflictError, ConnectionRefused, FieldError,
                     ForbiddenError, GoneError, InvalidError, MethodNotSupportedError, NotFoundError,
                     ServerTimeoutError, StatusError, StorageError, status_success)
from .patch import json_merge_patch, json_patch, parse_patch, strategic_merge
from .resources import ResourceInfo, resolve, resolve_kind
from .schema import DEFAULT_KUBERNETES_VERSION, Schemas, instance_key
from .selectors import (FieldSelector, LabelSelector, field_matcher, label_selector_from_dict,
                        parse_field_selector, parse_label_selector)
from .storage import Storage, decode, encode
from .validation import (quantity_errors, validate_metadata, validate_object, validate_update)
from .watch import Dispatcher, Watch
from . import audit as _audit

__all__ = ["APIServer", "KubeletHandler", "SYSTEM_USER"]

#: The identity the API server uses for its own writes (bootstrap objects).
SYSTEM_USER = user_info("system:apiserver")

KubeletHandler = Callable[[str, dict, dict], Any]

_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # apimachinery's SimpleNameGenerator
_SERVER_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation",
                "selfLink", "managedFields")
_BUILTIN_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def _json_copy(obj: Any) -> Any:
    try:
        return json.loads(json.dumps(obj))
    except (TypeError, ValueError) as e:
        raise BadRequestError(f"the body of the request was in an unknown format: {e}") from None


@contextmanager
def _bulk_decode() -> Iterator[None]:
    """Decoding thousands of JSON objects makes no reference cycles: keep the cyclic GC
    from rescanning the whole heap meanwhile (a 150,000-pod list is 4x faster)."""
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _audited(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A verb the audit sinks see (see :mod:`.audit`); with no sink attached it is one attribute test."""

    @functools.wraps(fn)
    def verb(self: "APIServer", *args: Any, **kwargs: Any) -> Any:
        if not self.audit_sinks or self._audit_depth:
            return fn(self, *args, **kwargs)
        return _audit.run_audited(self, fn.__name__, fn, args, kwargs)

    return verb


def _meta(obj: dict) -> dict:
    m = obj.get("metadata")
    if not isinstance(m, dict):
        m = obj["metadata"] = {}
    return m


def _rfc3339_plus(ts: str, seconds: float) -> str:
    t = _dt.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ") + _dt.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ip_int(ip: str) -> int:
    return int(ipaddress.ip_address(ip))


class _Allocations:
    """ClusterIPs and NodePorts in use (rebuilt from the stored Services)."""

    def __init__(self):
        self.ips: dict[str, str] = {}
        self.ports: dict[int, str] = {}


class APIServer:
    """The Kubernetes API server of one cluster.

    Args:
        etcd: its store, an :class:`~aivle_k8s.cluster.etcd.Store` or an
            :class:`~aivle_k8s.cluster.etcd.EtcdCluster` (the API server is its only writer).
        now: a callable giving the current time as an RFC 3339 string (``world.timestamp``).
        rng: a seeded ``random.Random``; uids, generated names and NodePorts come from it.
        loop: the simulated loop (watch events, compaction).
        address: the advertise address (``kubernetes`` Endpoints, connection errors).
        port: the secure port (6443).
        service_cidr: ``--service-cluster-ip-range`` (``10.96.0.0/12``).
        node_port_range: ``--service-node-port-range`` (30000-32767).
        kubernetes_version: whose schemas validate objects (``"1.30"``).
        field_validation: ``"Strict"`` (kubectl's default: unknown fields are an error),
            ``"Warn"`` or ``"Ignore"`` (unknown fields are dropped).
        compaction_interval: ``--etcd-compaction-interval`` in seconds (0: never compact).
        start: serve at once (``start()`` otherwise).

    All verbs take ``user=``: a user name (``"kubernetes-admin"``,
    ``"system:node:worker-1"``, ``"system:bootstrap:abcdef"``) or a
    :class:`~.auth.UserInfo`.
    """

    def __init__(self, etcd: Any, *, now: Callable[..., str], rng: random.Random, loop: Any,
                 address: str = "10.0.0.10", port: int = 6443, service_cidr: str = "10.96.0.0/12",
                 node_port_range: tuple[int, int] = (30000, 32767),
                 kubernetes_version: str = DEFAULT_KUBERNETES_VERSION, field_validation: str = "Strict",
                 compaction_interval: float = 300.0, start: bool = True):
        self.etcd = etcd
        self.storage = Storage(etcd)
        self.loop = loop
        self._now = now
        self._rng = random.Random(rng.getrandbits(64))
        self.address = address
        self.port = int(port)
        self.service_cidr = ipaddress.ip_network(service_cidr)
        self.node_port_range = (int(node_port_range[0]), int(node_port_range[1]))
        self.schemas = Schemas.shared(kubernetes_version)
        self.kubernetes_version = self.schemas.version
        if field_validation not in ("Strict", "Warn", "Ignore"):
            raise ValueError(f"field_validation must be Strict, Warn or Ignore, not {field_validation!r}")
        self.field_validation = field_validation
        self.compaction_interval = float(compaction_interval)
        #: pods/log, pods/exec, pods/attach, pods/portforward: node name -> handler(subresource, pod, options)
        self.kubelets: dict[str, KubeletHandler] = {}
        #: warnings of the last request (unknown fields under ``field_validation="Warn"``)
        self.warnings: list[str] = []
        self.running = False
        self.bootstrapped = False
        self._dispatchers: dict[str, Dispatcher] = {}
        self._private: set[Dispatcher] = set()
        self._watches: list[Watch] = []
        self._semantic_memo: dict[str, list] = {}
        #: audit backends (callables taking an :class:`~.audit.AuditEvent`): see :meth:`add_audit_sink`
        self.audit_sinks: list[Callable[[Any], Any]] = []
        self._audit_depth = 0
        self._audit_seq = 0
        self._quantities_ok: set[str] = set()
        self._lookup_cache: dict[str, tuple[int, dict]] = {}
        # in-memory indexes derived from etcd (rebuilt if anyone else wrote)
        self._index_rev = -1
        self._pod_node: dict[str, str] = {}
        self._node_pods: dict[str, set] = {}
        self._alloc = _Allocations()
        self._compaction_timer = None
        self._compaction_target = 0
        self._bootstrap_timer = None
        size = self.service_cidr.num_addresses
        self._ip_static_band = min(max(16, size // 16), 256)
        self._next_ip = 0
        if start:
            self.start()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<APIServer {self.endpoint} {state} Kubernetes {self.kubernetes_version}>"

    @property
    def endpoint(self) -> str:
        return f"{self.address}:{self.port}"

    # =================================================================================
    # lifecycle
    # =================================================================================
    def start(self) -> None:
        """Start serving (and create the built-in objects if they are missing)."""
        if self.running:
            return
        self.running = True
        self._index_rev = -1
        self._bootstrap()

    def stop(self) -> None:
        """Stop serving: every call raises the connection error; open watches end."""
        if not self.running:
            return
        self.running = False
        err = ConnectionRefused(self.endpoint)
        for d in list(self._dispatchers.values()) + list(self._private):
            d.close(err)
        self._dispatchers.clear()
        self._private.clear()
        for w in list(self._watches):
            w._close(err)
        self._watches.clear()
        for t in (self._compaction_timer, self._bootstrap_timer):
            if t is not None:
                t.cancel()
        self._compaction_timer = self._bootstrap_timer = None

    # -- audit ---------------------------------------------------------------------------
    def add_audit_sink(self, sink: Callable[[Any], Any]) -> None:
        """Send an :class:`~.audit.AuditEvent` per request to ``sink`` (an :class:`~.audit.AuditLog`, any
        callable): a ``RequestReceived`` event before the request runs, a ``ResponseComplete`` one after."""
        if sink not in self.audit_sinks:
            self.audit_sinks.append(sink)

    def remove_audit_sink(self, sink: Callable[[Any], Any]) -> None:
        if sink in self.audit_sinks:
            self.audit_sinks.remove(sink)

    def healthz(self) -> str:
        """``ok`` when serving with etcd reachable (``/readyz``); raises otherwise."""
        self._check_running()
        self.storage.get_kv("/registry/namespaces/default")
        return "ok"

    def _check_running(self) -> None:
        if not self.running:
            raise ConnectionRefused(self.endpoint)

    def _bootstrap(self) -> None:
        self._bootstrap_timer = None
        try:
            self._create_builtins()
            self.bootstrapped = True
        except StorageError:
            # etcd is not ready (no leader yet, no quorum): retry as the real server does
            self._bootstrap_timer = self.loop.call_later(1.0, self._bootstrap)

    def _create_builtins(self) -> None:
        for ns in _BUILTIN_NAMESPACES:
            if self.storage.get_kv(f"/registry/namespaces/{ns}") is None:
                self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}, user=SYSTEM_USER)
        for name, value in SYSTEM_PRIORITY_CLASSES.items():
            if self.storage.get_kv(f"/registry/priorityclasses/{name}") is None:
                self.create({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name},
                             "value": value, "description": "Used for system critical pods that must not be moved "
                             "from their current node." if name == "system-node-critical" else
                             "Used for system critical pods that must run in the cluster, but can be moved to "
                             "another node if necessary."}, user=SYSTEM_USER)
        first_ip = str(self.service_cidr.network_address + 1)
        if self.storage.get_kv("/registry/services/specs/default/kubernetes") is None:
            self.create({"apiVersion": "v1", "kind": "Service",
                         "metadata": {"name": "kubernetes", "namespace": "default",
                                      "labels": {"component": "apiserver", "provider": "kubernetes"}},
                         "spec": {"clusterIP": first_ip, "ports": [{"name": "https", "port": 443,
                                                                    "protocol": "TCP", "targetPort": self.port}],
                                  "sessionAffinity": "None", "type": "ClusterIP"}}, user=SYSTEM_USER)
        ep_key = "/registry/services/endpoints/default/kubernetes"
        want = [{"addresses": [{"ip": self.address}], "ports": [{"name": "https", "port": self.port, "protocol": "TCP"}]}]
        current = self.storage.get(ep_key)
        body = {"apiVersion": "v1", "kind": "Endpoints",
                "metadata": {"name": "kubernetes", "namespace": "default",
                             "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
                "subsets": want}
        if current is None:
            self.create(body, user=SYSTEM_USER)
        elif current.get("subsets") != want:
            current["subsets"] = want
            self.update(current, user=SYSTEM_USER)

    # =================================================================================
    # helpers
    # =================================================================================
    def now(self, offset: float = 0.0) -> str:
        """The current RFC 3339 time (plus ``offset`` seconds)."""
        ts = self._now()
        return _rfc3339_plus(ts, offset) if offset else ts

    def _uid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _suffix(self) -> str:
        r = self._rng
        return "".join(r.choice(_NAME_ALPHABET) for _ in range(5))

    def _authorize(self, user: UserInfo, verb: str, info: ResourceInfo, sub: str, ns: str | None, name: str) -> None:
        attrs = Attributes(user, verb, info.plural, info.group, sub or "", ns or "", name or "")
        ok, reason = authorize(attrs, self._node_references)
        if not ok:
            why = forbidden_message(attrs) + (f": {reason}" if reason else "")
            raise ForbiddenError(info.plural, name or "", why, info.group)

    def _namespace_for(self, info: ResourceInfo, obj_ns: Any, namespace: str | None) -> str | None:
        if not info.namespaced:
            return None
        if namespace and obj_ns and obj_ns != namespace:
            raise BadRequestError("the namespace of the provided object does not match the namespace sent on the "
                                  "request")
        return namespace or obj_ns or "default"

    def _lookup(self, plural: str, name: str, namespace: str | None) -> dict | None:
        """A stored object for admission to read (decoded once per resourceVersion; never hand it out)."""
        info = resolve(plural)
        if not name or (info.namespaced and not namespace):
            return None
        key = info.etcd_key(name, namespace)
        kv = self.storage.get_kv(key)
        if kv is None:
            return None
        hit = self._lookup_cache.get(key)
        if hit is not None and hit[0] == kv.mod_revision:
            return hit[1]
        obj = decode(kv.value, kv.mod_revision)
        if len(self._lookup_cache) > 1024:
            self._lookup_cache.clear()
        self._lookup_cache[key] = (kv.mod_revision, obj)
        return obj

    def _info_of(self, obj: Any) -> ResourceInfo:
        if not isinstance(obj, dict):
            raise BadRequestError(f"the body of the request was in an unknown format: expected an object, got "
                                  f"{type(obj).__name__}")
        kind, api_version = obj.get("kind"), obj.get("apiVersion")
        if not kind:
            raise BadRequestError(f"Object 'Kind' is missing in '{json.dumps(obj, sort_keys=True)[:200]}'")
        if not api_version:
            raise BadRequestError(f"Object 'apiVersion' is missing in '{json.dumps(obj, sort_keys=True)[:200]}'")
        return resolve_kind(str(api_version), str(kind))

    def _decode_check(self, obj: dict, info: ResourceInfo, key: str | None,
                      field_validation: str | None) -> list[FieldError]:
        """The decoder's verdict: type errors and (strict) unknown fields are a BadRequest.

        Returns the schema's missing required fields (reported with validation)."""
        result = self.schemas.decode(obj, key)
        version = info.version
        if result.type_error:
            raise BadRequestError(f'{info.kind} in version "{version}" cannot be handled as a {info.kind}: '
                                  f'{result.type_error}')
        q = None if key is not None and key in self._quantities_ok else quantity_errors(obj)
        if q is None and key is not None:
            if len(self._quantities_ok) > 4096:
                self._quantities_ok.clear()
            self._quantities_ok.add(key)
        if q:
            raise BadRequestError(f'{info.kind} in version "{version}" cannot be handled as a {info.kind}: {q}')
        if info.kind == "Secret":
            for k, v in (obj.get("data") or {}).items():
                try:
                    base64.b64decode(v or "", validate=True)
                except (ValueError, TypeError):
                    raise BadRequestError(f'{info.kind} in version "{version}" cannot be handled as a {info.kind}: '
                                          f'illegal base64 data at input byte {_bad_b64_at(v)}') from None
        if result.unknown:
            mode = field_validation or self.field_validation
            if mode == "Strict":
                fields = ", ".join(f'unknown field "{u}"' for u in result.unknown)
                raise BadRequestError(f'{info.kind} in version "{version}" cannot be handled as a {info.kind}: '
                                      f'strict decoding error: {fields}')
            for p in result.unknown_paths:
                _prune(obj, p)
            if mode == "Warn":
                self.warnings.extend(f'unknown field "{u}"' for u in result.unknown)
        return [FieldError.required(p) for p in result.required]

    # =================================================================================
    # indexes (pods by node, allocations) derived from etcd
    # =================================================================================
    def _ensure_index(self) -> None:
        rev = self.storage.revision
        if rev == self._index_rev:
            return
        self._pod_node.clear()
        self._node_pods.clear()
        self._alloc = _Allocations()
        self._next_ip = 0
        kvs, _, _, hrev = self.storage.range("/registry/pods/", "/registry/pods0")
        for kv in kvs:
            node = (json.loads(kv.value).get("spec") or {}).get("nodeName") or ""
            key = kv.key.decode()
            self._pod_node[key] = node
            self._node_pods.setdefault(node, set()).add(key)
        kvs, _, _, _ = self.storage.range("/registry/services/specs/", "/registry/services/specs0")
        for kv in kvs:
            self._index_service(kv.key.decode(), json.loads(kv.value), None)
        self._index_rev = hrev

    def _index_pod(self, key: str, new: dict | None) -> None:
        old_node = self._pod_node.pop(key, None)
        if old_node is not None:
            s = self._node_pods.get(old_node)
            if s is not None:
                s.discard(key)
                if not s:
                    del self._node_pods[old_node]
        if new is not None:
            node = (new.get("spec") or {}).get("nodeName") or ""
            self._pod_node[key] = node
            self._node_pods.setdefault(node, set()).add(key)

    def _index_service(self, key: str, new: dict | None, old: dict | None) -> None:
        a = self._alloc
        if old is not None:
            for ip in (old.get("spec") or {}).get("clusterIPs") or []:
                if a.ips.get(ip) == key:
                    del a.ips[ip]
            for p in (old.get("spec") or {}).get("ports") or []:
                np_ = p.get("nodePort") if isinstance(p, dict) else None
                if np_ and a.ports.get(np_) == key:
                    del a.ports[np_]
        if new is not None:
            for ip in (new.get("spec") or {}).get("clusterIPs") or []:
                if ip != "None":
                    a.ips[ip] = key
            for p in (new.get("spec") or {}).get("ports") or []:
                np_ = p.get("nodePort") if isinstance(p, dict) else None
                if np_:
                    a.ports[np_] = key

    def _after_write(self, info: ResourceInfo, key: str, rev: int, new: dict | None, old: dict | None) -> None:
        """Keep the indexes in step with a write this server just made (revision ``rev``)."""
        if self._index_rev == rev - 1:
            if info.plural == "pods":
                self._index_pod(key, new)
            elif info.plural == "services":
                self._index_service(key, new, old)
            self._index_rev = rev
        self._schedule_compaction()

    def _node_references(self, node: str, resource: str, namespace: str, name: str) -> bool:
        """Node authorizer graph: does a pod bound to ``node`` use this secret/configmap/PVC?"""
        self._ensure_index()
        for key in sorted(self._node_pods.get(node, ())):
            if not key.startswith(f"/registry/pods/{namespace}/"):
                continue
            pod = self.storage.get(key)
            if pod is not None and name in _pod_references(pod, resource):
                return True
        return False

    # =================================================================================
    # compaction
    # =================================================================================
    def _schedule_compaction(self) -> None:
        if self.compaction_interval <= 0 or self._compaction_timer is not None:
            return
        self._compaction_target = self.storage.revision
        self._compaction_timer = self.loop.call_later(self.compaction_interval, self._compact)

    def _compact(self) -> None:
        """Compact etcd to the revision seen one interval ago (what the real compactor does)."""
        self._compaction_timer = None
        if not self.running:
            return
        target = self._compaction_target
        try:
            if target > self.storage.compact_revision:
                self.storage.compact(target)
        except (EtcdError, StatusError):
            pass
        if self.storage.revision > target:
            self._schedule_compaction()

    # =================================================================================
    # create
    # =================================================================================
    @_audited
    def create(self, obj: dict, *, user: Any, namespace: str | None = None, dry_run: bool = False,
               field_validation: str | None = None) -> dict:
        """Create an object (``POST``); returns it as stored (uid, resourceVersion, defaults...).

        A ``Binding`` binds a pod to a node (``pods/binding``) and an ``Eviction``
        evicts one (``pods/eviction``); both return a success ``Status``.

        Raises:
            NoKindMatchError, BadRequestError (undecodable, unknown fields),
            ForbiddenError, NotFoundError (namespace), InvalidError, AlreadyExistsError,
            StorageError (etcd unavailable).
        """
        self._check_running()
        self.warnings = []
        u = user_info(user)
        if isinstance(obj, dict) and obj.get("kind") == "Eviction" and str(obj.get("apiVersion", "")).startswith("policy/"):
            return self._evict_object(obj, u, namespace, dry_run)
        info = self._info_of(obj)
        if info.kind == "Binding":
            return self._bind(obj, u, namespace, dry_run)
        if info.etcd_dir is None:
            raise MethodNotSupportedError(info.plural, "create", info.group)
        new = _json_copy(obj)
        meta = _meta(new)
        ns = self._namespace_for(info, meta.get("namespace"), namespace)
        self._authorize(u, "create", info, "", ns, "")
        if meta.get("resourceVersion"):
            raise BadRequestError("resourceVersion should not be set on objects to be created")
        key = instance_key(new) if info.plural == "pods" else None
        required = self._decode_check(new, info, key, field_validation)
        apply_defaults(new)
        # PrepareForCreate: server-owned metadata and status
        for f in _SERVER_META:
            meta.pop(f, None)
        if ns is not None:
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        name = meta.get("name") or ""
        generated = False
        if not name and meta.get("generateName"):
            name = meta["name"] = meta["generateName"] + self._suffix()
            generated = True
        meta["uid"] = self._uid()
        meta["creationTimestamp"] = self.now()
        if info.generation:
            meta["generation"] = 1
        self._prepare_create(info, new, u)
        req = Request("CREATE", info, "", ns or "", name, u, new, None, self._lookup)
        _admission.admit(req)
        causes = required + self._validate_create(info, new, key)
        if info.plural == "services" and not causes:
            causes = self._allocate_service(new, None)
        if causes:
            raise InvalidError(info.kind, info.group, name or meta.get("generateName", ""), causes)
        if dry_run:
            return new
        for _ in range(8):
            ekey = info.etcd_key(meta["name"], ns)
            rev = self.storage.create(ekey, new)
            if rev is not None:
                break
            if not generated:
                raise AlreadyExistsError(info.plural, meta["name"], info.group)
            meta["name"] = meta["generateName"] + self._suffix()
        else:
            raise AlreadyExistsError(info.plural, meta["name"], info.group)
        meta["resourceVersion"] = str(rev)
        self._after_write(info, ekey, rev, new, None)
        return new

    def _prepare_create(self, info: ResourceInfo, obj: dict, user: UserInfo) -> None:
        kind = info.kind
        if kind == "Pod":
            spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
            obj["status"] = {"phase": "Pending", "qosClass": pod_qos_class(spec)}
        elif kind in ("Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "CronJob"):
            # what the real API server serializes for a new object (schema-required counters are 0)
            obj["status"] = {"StatefulSet": {"replicas": 0, "availableReplicas": 0},
                             "ReplicaSet": {"replicas": 0},
                             "DaemonSet": {"currentNumberScheduled": 0, "numberMisscheduled": 0,
                                           "desiredNumberScheduled": 0, "numberReady": 0}}.get(kind, {})
            if kind == "Job":
                self._job_selector(obj)
        elif kind == "Service":
            obj["status"] = {"loadBalancer": {}}
        elif kind == "Namespace":
            obj["status"] = {"phase": "Active"}
        elif kind == "CertificateSigningRequest":
            obj["status"] = {}
            spec = obj.get("spec")
            if isinstance(spec, dict):
                spec["username"] = user.name
                spec["groups"] = list(user.groups)
                if user.uid:
                    spec["uid"] = user.uid

    def _job_selector(self, job: dict) -> None:
        """The Job strategy generates the selector and template labels from the Job's uid."""
        spec = job.get("spec")
        if not isinstance(spec, dict) or spec.get("manualSelector"):
            return
        uid = _meta(job)["uid"]
        name = _meta(job).get("name", "")
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
        tpl = spec.get("template")
        if isinstance(tpl, dict):
            tmeta = tpl.setdefault("metadata", {})
            if isinstance(tmeta, dict):
                labels = tmeta.setdefault("labels", {})
                if isinstance(labels, dict):
                    labels.update({"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name,
                                   "controller-uid": uid, "job-name": name})

    def _validate_create(self, info: ResourceInfo, obj: dict, key: str | None) -> list[FieldError]:
        meta = obj["metadata"]
        causes = validate_metadata(meta, info.plural, info.namespaced, maps=False)
        if key is not None:
            hit = self._semantic_memo.get(key)
            if hit is None:
                hit = validate_object(obj)
                if len(self._semantic_memo) > 4096:
                    self._semantic_memo.clear()
                self._semantic_memo[key] = hit
            return causes + list(hit)
        return causes + validate_object(obj)

    # =================================================================================
    # services: cluster IPs and node ports
    # =================================================================================
    def _allocate_service(self, svc: dict, old: dict | None) -> list[FieldError]:
        """Allocate (or check) ClusterIPs and NodePorts; returns causes if they cannot be had."""
        self._ensure_index()
        spec = svc.setdefault("spec", {})
        stype = spec.get("type", "ClusterIP")
        a = self._alloc
        key = f"/registry/services/specs/{svc['metadata'].get('namespace')}/{svc['metadata'].get('name')}"
        causes: list[FieldError] = []
        ospec = (old or {}).get("spec") or {}
        if stype == "ExternalName":
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        else:
            if not spec.get("clusterIP") and old is not None and ospec.get("clusterIP"):
                spec["clusterIP"] = ospec["clusterIP"]
                spec["clusterIPs"] = list(ospec.get("clusterIPs") or [ospec["clusterIP"]])
            cip = spec.get("clusterIP")
            if cip == "None":
                spec["clusterIPs"] = ["None"]
            elif cip:
                if old is None or cip != ospec.get("clusterIP"):
                    try:
                        addr = ipaddress.ip_address(cip)
                    except ValueError:
                        addr = None
                    if addr is None:
                        pass  # reported by validation
                    elif addr not in self.service_cidr or addr in (self.service_cidr.network_address,
                                                                   self.service_cidr.broadcast_address):
                        causes.append(FieldError.invalid("spec.clusterIPs", [cip],
                                                         f"failed to allocate IP {cip}: the provided IP ({cip}) is not "
                                                         f"in the valid range. The range of valid IPs is "
                                                         f"{self.service_cidr}"))
                    elif a.ips.get(cip) not in (None, key):
                        causes.append(FieldError.invalid("spec.clusterIPs", [cip], f"failed to allocate IP {cip}: "
                                                         f"provided IP is already allocated"))
                spec["clusterIPs"] = [cip]
            else:
                ip = self._next_free_ip()
                if ip is None:
                    causes.append(FieldError.invalid("spec.clusterIPs", [], "failed to allocate a serviceIP: range is "
                                                     "full"))
                else:
                    spec["clusterIP"] = ip
                    spec["clusterIPs"] = [ip]
            if spec.get("clusterIP") and "ipFamilies" not in spec:
                spec["ipFamilies"] = ["IPv4"]
                spec["ipFamilyPolicy"] = "SingleStack"
        old_ports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
                     for p in ospec.get("ports") or [] if isinstance(p, dict)}
        lo, hi = self.node_port_range
        taken_now: set = set()
        for i, p in enumerate(spec.get("ports") or []):
            if not isinstance(p, dict):
                continue
            if stype not in ("NodePort", "LoadBalancer"):
                if old is not None and stype == "ClusterIP":
                    p.pop("nodePort", None)
                continue
            np_ = p.get("nodePort")
            if not np_:
                keep = old_ports.get((p.get("port"), p.get("protocol", "TCP")))
                if keep:
                    p["nodePort"] = keep
                    taken_now.add(keep)
                    continue
                port = self._free_node_port(taken_now)
                if port is None:
                    causes.append(FieldError.invalid(f"spec.ports[{i}].nodePort", 0, "range is full"))
                else:
                    p["nodePort"] = port
                    taken_now.add(port)
                continue
            if not isinstance(np_, int) or isinstance(np_, bool):
                continue
            if not lo <= np_ <= hi:
                causes.append(FieldError.invalid(f"spec.ports[{i}].nodePort", np_, f"provided port is not in the valid "
                                                 f"range. The range of valid ports is {lo}-{hi}"))
            elif (a.ports.get(np_) not in (None, key)) or np_ in taken_now:
                causes.append(FieldError.invalid(f"spec.ports[{i}].nodePort", np_, "provided port is already allocated"))
            taken_now.add(np_)
        return causes

    def _next_free_ip(self) -> str | None:
        net = self.service_cidr
        base = int(net.network_address)
        size = net.num_addresses
        start = self._ip_static_band + 1
        for i in range(size):
            off = start + (self._next_ip + i) % (size - start - 1)
            ip = str(ipaddress.ip_address(base + off))
            if ip not in self._alloc.ips:
                self._next_ip = (self._next_ip + i + 1) % (size - start - 1)
                return ip
        return None

    def _free_node_port(self, taken: set) -> int | None:
        lo, hi = self.node_port_range
        n = hi - lo + 1
        for _ in range(4 * n):
            p = lo + self._rng.randrange(n)
            if p not in self._alloc.ports and p not in taken:
                return p
        for p in range(lo, hi + 1):
            if p not in self._alloc.ports and p not in taken:
                return p
        return None

    # =================================================================================
    # get / list
    # =================================================================================
    @_audited
    def get(self, resource: str, name: str, namespace: str | None = None, *, user: Any,
            subresource: str | None = None) -> Any:
        """Read one object (``kubectl get <resource> <name>``); ``subresource="scale"`` gives a Scale.

        Raises:
            UnknownResourceError, ForbiddenError, NotFoundError, StorageError.
        """
        self._check_running()
        u = user_info(user)
        info = resolve(resource)
        if info.etcd_dir is None:
            raise MethodNotSupportedError(info.plural, "get", info.group)
        ns = (namespace or "default") if info.namespaced else None
        sub = subresource or ""
        if sub in ("log",):
            return self.logs(name, ns, user=u)
        if sub and sub not in info.subresources:
            raise NotFoundError(f"{info.plural}/{sub}", name, info.group,
                                message="the server could not find the requested resource")
        self._authorize(u, "get", info, sub, ns, name)
        obj = self.storage.get(info.etcd_key(name, ns))
        if obj is None:
            raise NotFoundError(info.plural, name, info.group)
        if sub == "scale":
            return self._scale_of(info, obj)
        return obj

    @_audited
    def list(self, resource: str, namespace: str | None = None, *, user: Any, label_selector: Any = None,
             field_selector: Any = None, limit: int | None = None, continue_: str | None = None,
             resource_version: str | None = None, resource_version_match: str | None = None) -> dict:
        """List objects (``kubectl get <resource>``); ``namespace=None`` lists all namespaces.

        Returns a ``<Kind>List`` with ``metadata.resourceVersion`` (start a watch
        there) and, with ``limit``, ``metadata.continue`` for the next page.

        Raises:
            UnknownResourceError, ForbiddenError, BadRequestError (selectors),
            GoneError (continue token or resourceVersion compacted), StorageError.
        """
        self._check_running()
        u = user_info(user)
        info = resolve(resource)
        if info.etcd_dir is None:
            raise MethodNotSupportedError(info.plural, "list", info.group)
        ns = namespace if info.namespaced else None
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(field_selector, info.plural)
        self._authorize(u, "list", info, "", ns, fields.equals("metadata.name") or "")
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise BadRequestError(f"invalid limit: {limit}")
        with _bulk_decode():
            return self._list(info, ns, labels, fields, limit, continue_, resource_version, resource_version_match)

    def _list(self, info: ResourceInfo, ns: str | None, labels: LabelSelector, fields: FieldSelector,
              limit: int | None, continue_: str | None, resource_version: str | None,
              resource_version_match: str | None) -> dict:
        prefix = info.etcd_namespace_prefix(ns)
        end = prefix[:-1] + "0"
        start = prefix
        rev = 0
        if continue_:
            rev, start = self._decode_continue(continue_, prefix)
        elif resource_version not in (None, "", "0"):
            try:
                want = int(resource_version)
            except (TypeError, ValueError):
                raise BadRequestError(f"invalid resource version: {resource_version}") from None
            current = self.storage.revision
            if want > current:
                raise ServerTimeoutError(f"Too large resource version: {want}, current: {current}")
            if resource_version_match == "Exact":
                rev = want
        items: list[dict] = []
        more = False
        next_key = None
        header_rev = 0
        remaining = None
        node = fields.equals("spec.nodeName") if info.plural == "pods" else None
        name_eq = fields.equals("metadata.name")
        if rev == 0 and not continue_ and (node is not None or (name_eq is not None and ns)):
            header_rev = self.storage.revision
            if name_eq is not None and ns:
                keys = [info.etcd_key(name_eq, ns)]
            else:
                self._ensure_index()
                keys = sorted(k for k in self._node_pods.get(node, ()) if k.startswith(prefix))
            for k in keys:
                kv = self.storage.get_kv(k)
                if kv is None:
                    continue
                obj = decode(kv.value, kv.mod_revision)
                if self._selected(obj, labels, fields, info):
                    items.append(obj)
            if limit:
                if len(items) > limit:
                    more = True
                    next_key = (f"/registry/pods/{(items[limit]['metadata'].get('namespace') or '')}/"
                                f"{items[limit]['metadata']['name']}")
                    items = items[:limit]
        else:
            filtering = not labels.empty or not fields.empty
            needles = _label_needles(labels)
            chunk = (limit + 1) if limit else None
            cursor = start
            while True:
                kvs, count, has_more, hrev = self.storage.range(cursor, end, revision=rev or None,
                                                                limit=chunk if not filtering else
                                                                (max(chunk or 0, 512) if chunk else None))
                if not header_rev:
                    header_rev = rev or hrev
                    if not rev:
                        rev = hrev
                stop = False
                for kv in kvs:
                    if limit and len(items) == limit:
                        more = True
                        next_key = kv.key.decode()
                        stop = True
                        break
                    if needles:  # cheap test on the stored bytes before decoding
                        value = kv.value
                        if not all(n in value for n in needles):
                            continue
                    obj = decode(kv.value, kv.mod_revision)
                    if not filtering or self._selected(obj, labels, fields, info):
                        items.append(obj)
                if stop or not has_more or not kvs:
                    if limit and not filtering and more:
                        remaining = count - limit
                    break
                cursor = kvs[-1].key.decode() + "\0"
        meta: dict = {"resourceVersion": str(header_rev)}
        if more and next_key is not None:
            meta["continue"] = self._encode_continue(header_rev, next_key, prefix)
            if remaining is not None and remaining > 0:
                meta["remainingItemCount"] = remaining
        return {"apiVersion": info.api_version, "kind": info.list_kind, "metadata": meta, "items": items}

    def _selected(self, obj: dict, labels: LabelSelector, fields: FieldSelector, info: ResourceInfo) -> bool:
        if not labels.empty and not labels.matches((obj.get("metadata") or {}).get("labels")):
            return False
        if not fields.empty:
            match = field_matcher(fields, info.plural)
            if match is not None and not match(obj):
                return False
        return True

    def _encode_continue(self, rev: int, next_key: str, prefix: str) -> str:
        token = {"v": "meta.k8s.io/v1", "rv": rev, "start": next_key[len(prefix):]}
        return base64.urlsafe_b64encode(json.dumps(token, separators=(",", ":")).encode()).decode().rstrip("=")

    def _decode_continue(self, token: str, prefix: str) -> tuple[int, str]:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            data = json.loads(raw)
            rev, start = int(data["rv"]), str(data["start"])
            if data.get("v") != "meta.k8s.io/v1":
                raise ValueError
        except (ValueError, KeyError, TypeError):
            raise BadRequestError("continue key is not valid: incorrect encoded start resourceVersion (version "
                                  "meta.k8s.io/v1)") from None
        if rev < self.storage.compact_revision:
            raise GoneError("The provided continue parameter is too old to display a consistent list result. You can "
                            "start a new list without the continue parameter, or use the continue token in this "
                            "response to retrieve the remainder of the results. Continuing with the provided token "
                            "results in an inconsistent list - objects that were created, modified, or deleted "
                            "between the time the first chunk was returned and now may show up in the list.")
        return rev, prefix + start

    # =================================================================================
    # update
    # =================================================================================
    @_audited
    def update(self, obj: dict, *, user: Any, subresource: str | None = None, resource: str | None = None,
               namespace: str | None = None, dry_run: bool = False, field_validation: str | None = None) -> dict:
        """Replace an object (``PUT``); ``subresource`` ``"status"``, ``"scale"`` (give ``resource``),
        ``"finalize"`` (namespaces) or ``"approval"`` (CSRs).

        A ``metadata.resourceVersion`` older than the stored one is a Conflict.

        Raises:
            NoKindMatchError, BadRequestError, ForbiddenError, NotFoundError,
            ConflictError, InvalidError, StorageError.
        """
        self._check_running()
        self.warnings = []
        u = user_info(user)
        sub = subresource or ""
        if sub == "scale":
            if not resource:
                raise BadRequestError("the scale subresource needs resource= (e.g. \"deployments\")")
            info = resolve(resource)
            if not isinstance(obj, dict):
                raise BadRequestError("the body of the request was in an unknown format")
        else:
            info = self._info_of(obj)
            if resource and resolve(resource) is not info:
                raise BadRequestError(f'the API version in the data ({obj.get("apiVersion")}) does not match the '
                                      f'expected API version ({resolve(resource).api_version})')
        if info.etcd_dir is None:
            raise MethodNotSupportedError(info.plural, "update", info.group)
        if sub and sub not in info.subresources:
            raise NotFoundError(f"{info.plural}/{sub}", _meta(obj).get("name", ""), info.group,
                                message="the server could not find the requested resource")
        new = _json_copy(obj)
        meta = _meta(new)
        name = meta.get("name")
        if not name:
            raise BadRequestError("resource name may not be empty")
        ns = self._namespace_for(info, meta.get("namespace"), namespace)
        self._authorize(u, "update", info, sub, ns, name)
        return self._update(info, sub, ns, name, new, u, dry_run, field_validation)

    def _update(self, info: ResourceInfo, sub: str, ns: str | None, name: str, new: dict, u: UserInfo,
                dry_run: bool, field_validation: str | None, *, expect_rv: str | None = None) -> dict:
        key = info.etcd_key(name, ns)
        kv = self.storage.get_kv(key)
        meta = _meta(new)
        if kv is None:
            if info.plural == "endpoints" and not sub:  # AllowCreateOnUpdate
                meta.pop("resourceVersion", None)
                return self.create(new, user=u, namespace=ns, dry_run=dry_run)
            raise NotFoundError(info.plural, name, info.group)
        old = decode(kv.value, kv.mod_revision)
        rv = meta.get("resourceVersion") if expect_rv is None else expect_rv
        if rv and str(rv) != str(kv.mod_revision):
            raise ConflictError.modified(info.plural, name, info.group)
        required: list[FieldError] = []
        if sub == "scale":
            final = self._apply_scale(info, old, new)
        else:
            if sub == "status":  # only the status is taken: decode just that part
                self._decode_check({"apiVersion": new.get("apiVersion"), "kind": new.get("kind"),
                                    "status": new.get("status")}, info, None, field_validation)
            else:
                required = self._decode_check(new, info, None, field_validation)
            apply_defaults(new)
            final = self._merge_for_update(info, sub, old, new)
        if ns is not None:
            _meta(final)["namespace"] = ns
        req = Request("UPDATE", info, sub, ns or "", name, u, new if sub == "status" else final, old, self._lookup)
        _admission.admit(req)
        causes = required + validate_update(final, old, subresource=sub or None)
        if not sub or sub == "scale":
            causes = validate_metadata(final["metadata"], info.plural, info.namespaced, check_name=False,
                                       maps=False) + validate_object(final) + causes
        if info.plural == "services" and not causes and not sub:
            causes = self._allocate_service(final, old)
        if causes:
            raise InvalidError(info.kind, info.group, name, causes)
        if info.generation and (final.get("spec") != old.get("spec")):
            _meta(final)["generation"] = int(old["metadata"].get("generation") or 1) + 1
        view = (lambda o: self._scale_of(info, o)) if sub == "scale" else (lambda o: o)
        value = encode(final)
        if value == kv.value:
            return view(old)  # nothing changed: no write, same resourceVersion
        if dry_run:
            _meta(final)["resourceVersion"] = str(kv.mod_revision)
            return view(final)
        if self._should_delete(info, final):
            rev = self.storage.delete(key, kv.mod_revision)
            if rev is None:
                raise ConflictError.modified(info.plural, name, info.group)
            _meta(final)["resourceVersion"] = str(rev)
            self._after_write(info, key, rev, None, old)
            return view(final)
        rev = self.storage.update(key, value, kv.mod_revision)
        if rev is None:
            raise ConflictError.modified(info.plural, name, info.group)
        _meta(final)["resourceVersion"] = str(rev)
        self._after_write(info, key, rev, final, old)
        return view(final)

    def _merge_for_update(self, info: ResourceInfo, sub: str, old: dict, new: dict) -> dict:
        """PrepareForUpdate: which parts of the request a (sub)resource update may change."""
        om = old["metadata"]
        if sub == "status":
            final = json.loads(json.dumps(old))
            final["status"] = new.get("status", {})
            if info.kind == "CertificateSigningRequest":
                final["status"]["conditions"] = (old.get("status") or {}).get("conditions", [])
            return final
        if sub == "finalize":
            final = json.loads(json.dumps(old))
            final.setdefault("spec", {})["finalizers"] = (new.get("spec") or {}).get("finalizers") or []
            return final
        if sub == "approval":
            final = json.loads(json.dumps(old))
            final.setdefault("status", {})["conditions"] = (new.get("status") or {}).get("conditions") or []
            return final
        final = new
        fm = _meta(final)
        for f in _SERVER_META:
            if f in om:
                if f in ("uid", "creationTimestamp") and f in fm and fm[f] != om[f]:
                    continue  # validation reports the attempted change
                fm[f] = om[f]
            else:
                fm.pop(f, None)
        if info.has_status or info.kind == "Namespace":
            if "status" in old:
                final["status"] = old["status"]
            else:
                final.pop("status", None)
        if info.kind == "Namespace":
            final.setdefault("spec", {})["finalizers"] = (old.get("spec") or {}).get("finalizers", [])
            labels = fm.get("labels")
            if not isinstance(labels, dict):
                labels = fm["labels"] = {}
            labels["kubernetes.io/metadata.name"] = fm.get("name", "")
        if info.kind == "Job":
            ospec, nspec = old.get("spec") or {}, final.get("spec")
            if isinstance(nspec, dict) and "selector" not in nspec and "selector" in ospec:
                nspec["selector"] = ospec["selector"]
            if isinstance(nspec, dict) and isinstance(nspec.get("template"), dict):
                otl = ((ospec.get("template") or {}).get("metadata") or {}).get("labels") or {}
                tmeta = nspec["template"].setdefault("metadata", {})
                if isinstance(tmeta, dict):
                    labels = tmeta.setdefault("labels", {})
                    for k in ("batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name",
                              "controller-uid", "job-name"):
                        if k in otl and isinstance(labels, dict):
                            labels.setdefault(k, otl[k])
        if info.kind == "CertificateSigningRequest":
            final["spec"] = old.get("spec")
        if info.kind == "Service":
            _patch_allocated_values(final, old)
        return final

    def _should_delete(self, info: ResourceInfo, obj: dict) -> bool:
        m = obj.get("metadata") or {}
        if not m.get("deletionTimestamp") or m.get("finalizers"):
            return False
        if info.kind == "Namespace":
            return not ((obj.get("spec") or {}).get("finalizers"))
        return not m.get("deletionGracePeriodSeconds")

    # =================================================================================
    # scale
    # =================================================================================
    def _scale_of(self, info: ResourceInfo, obj: dict) -> dict:
        if "scale" not in info.subresources:
            raise NotFoundError(f"{info.plural}/scale", obj["metadata"]["name"], info.group,
                                message="the server could not find the requested resource")
        meta = obj["metadata"]
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        sel = spec.get("selector")
        try:
            selector = str(label_selector_from_dict(sel)) if sel is not None else ""
        except StatusError:
            selector = ""
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                             if k in meta},
                "spec": {"replicas": spec.get("replicas", 0)},
                "status": {"replicas": status.get("replicas", 0), "selector": selector}}

    def _apply_scale(self, info: ResourceInfo, old: dict, scale: dict) -> dict:
        replicas = (scale.get("spec") or {}).get("replicas")
        if replicas is None:
            replicas = 0
        if not isinstance(replicas, int) or isinstance(replicas, bool):
            raise BadRequestError(f'Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal '
                                  f'{type(replicas).__name__} into Go struct field ScaleSpec.spec.replicas of type int32')
        if replicas < 0:
            raise InvalidError("Scale", "autoscaling", old["metadata"]["name"],
                               [FieldError.invalid("spec.replicas", replicas, "must be greater than or equal to 0")])
        final = json.loads(json.dumps(old))
        final.setdefault("spec", {})["replicas"] = replicas
        return final

    # =================================================================================
    # patch
    # =================================================================================
    @_audited
    def patch(self, resource: str, name: str, patch: Any, *, user: Any, namespace: str | None = None,
              patch_type: str = "strategic", subresource: str | None = None, field_manager: str | None = None,
              force: bool = False, dry_run: bool = False, field_validation: str | None = None) -> dict:
        """Patch an object (``kubectl patch`` / ``apply``).

        ``patch_type``: ``"strategic"`` (default), ``"merge"`` (RFC 7386),
        ``"json"`` (RFC 6902) or ``"apply"`` (server-side apply; needs
        ``field_manager``; creates the object if it does not exist).

        Raises:
            UnknownResourceError, BadRequestError (malformed patch), ForbiddenError,
            NotFoundError, ConflictError, InvalidError, StorageError.
        """
        self._check_running()
        self.warnings = []
        u = user_info(user)
        info = resolve(resource)
        if info.etcd_dir is None:
            raise MethodNotSupportedError(info.plural, "patch", info.group)
        sub = subresource or ""
        if sub and sub not in info.subresources:
            raise NotFoundError(f"{info.plural}/{sub}", name, info.group,
                                message="the server could not find the requested resource")
        if patch_type not in ("strategic", "merge", "json", "apply"):
            raise BadRequestError(f'unsupported patch type "{patch_type}": use strategic, merge, json or apply')
        ns = (namespace or "default") if info.namespaced else None
        if patch_type == "apply" and not field_manager:
            raise InvalidError("PatchOptions", "meta.k8s.io", "",
                               [FieldError.required("fieldManager", "is required for apply patch")])
        body = parse_patch(patch, patch_type)
        self._authorize(u, "patch", info, sub, ns, name)
        current = self.storage.get(info.etcd_key(name, ns))
        if current is None:
            if patch_type == "apply" and not sub:
                self._authorize(u, "create", info, "", ns, "")
                obj = _json_copy(body)
                _meta(obj).setdefault("name", name)
                return self.create(obj, user=u, namespace=ns, dry_run=dry_run, field_validation=field_validation)
            raise NotFoundError(info.plural, name, info.group)
        rv = str(current["metadata"]["resourceVersion"])
        view = self._scale_of(info, current) if sub == "scale" else current
        kind = "Scale" if sub == "scale" else info.kind
        if patch_type == "json":
            patched = json_patch(view, body)
        elif patch_type == "merge":
            patched = json_merge_patch(view, body)
        else:
            patched = strategic_merge(view, body, kind, self.schemas)
        if not isinstance(patched, dict):
            raise BadRequestError("the patched object is not an object")
        pmeta = _meta(patched)
        if pmeta.get("name", name) != name:
            raise BadRequestError(f"the name of the object ({pmeta.get('name')}) does not match the name on the URL "
                                  f"({name})")
        pmeta["name"] = name
        # a resourceVersion inside the patch is a precondition; otherwise the patch applies to what was read
        given = (body.get("metadata") or {}).get("resourceVersion") if isinstance(body, dict) else None
        expect = str(given) if given else rv
        pmeta["resourceVersion"] = rv
        if sub != "scale":
            patched.setdefault("apiVersion", info.api_version)
            patched.setdefault("kind", info.kind)
        return self._update(info, sub, ns, name, patched, u, dry_run, field_validation, expect_rv=expect)

    # =================================================================================
    # delete
    # =================================================================================
    @_audited
    def delete(self, resource: str, name: str, namespace: str | None = None, *, user: Any,
               grace_period_seconds: int | None = None, propagation_policy: str | None = None,
               preconditions: dict | None = None, force: bool = False, dry_run: bool = False) -> dict:
        """Delete an object (``kubectl delete``); returns it as last stored.

        Pods bound to a node are deleted gracefully: they get ``deletionTimestamp``
        and ``deletionGracePeriodSeconds`` (default their
        ``terminationGracePeriodSeconds``, 30) and disappear when the kubelet
        confirms with a grace-0 delete (or with ``force=True``). Objects with
        finalizers wait for them. ``propagation_policy`` ``"Foreground"`` /
        ``"Orphan"`` add the ``foregroundDeletion`` / ``orphan`` finalizer for
        the garbage collector.

        Raises:
            UnknownResourceError, ForbiddenError, NotFoundError, ConflictError
            (preconditions), BadRequestError, StorageError.
        """
        self._check_running()
        u = user_info(user)
        info = resolve(resource)
        if info.etcd_dir is None:
            raise MethodNotSupportedError(info.plural, "delete", info.group)
        ns = (namespace or "default") if info.namespaced else None
        self._authorize(u, "delete", info, "", ns, name)
        return self._delete(info, ns, name, u, grace_period_seconds, propagation_policy, preconditions, force, dry_run)

    def _delete(self, info: ResourceInfo, ns: str | None, name: str, u: UserInfo, grace: int | None,
                policy: str | None, preconditions: dict | None, force: bool, dry_run: bool,
                *, check: Callable[[dict], None] | None = None) -> dict:
        if policy not in (None, "Background", "Foreground", "Orphan"):
            raise BadRequestError(f'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: '
                                  f'"{policy}": supported values: "Foreground", "Background", "Orphan", "nil"')
        if grace is not None and (not isinstance(grace, int) or isinstance(grace, bool) or grace < 0):
            raise BadRequestError(f'DeleteOptions.meta.k8s.io "" is invalid: gracePeriodSeconds: Invalid value: '
                                  f'{grace}: must be greater than or equal to 0')
        if force:
            grace = 0
        key = info.etcd_key(name, ns)
        kv = self.storage.get_kv(key)
        if kv is None:
            raise NotFoundError(info.plural, name, info.group)
        old = decode(kv.value, kv.mod_revision)
        om = old["metadata"]
        if preconditions:
            puid, prv = preconditions.get("uid"), preconditions.get("resourceVersion")
            if puid and puid != om.get("uid"):
                raise ConflictError(info.plural, name, f"Precondition failed: UID in precondition: {puid}, UID in "
                                                       f"object meta: {om.get('uid')}", info.group)
            if prv and str(prv) != str(kv.mod_revision):
                raise ConflictError(info.plural, name, f"Precondition failed: ResourceVersion in precondition: {prv}, "
                                                       f"ResourceVersion in object meta: {kv.mod_revision}", info.group)
        if check is not None:
            check(old)
        _admission.admit(Request("DELETE", info, "", ns or "", name, u, None, old, self._lookup))
        final = json.loads(json.dumps(old))
        fm = final["metadata"]
        fins = list(fm.get("finalizers") or [])
        if policy == "Foreground" and "foregroundDeletion" not in fins:
            fins.append("foregroundDeletion")
        elif policy == "Orphan" and "orphan" not in fins:
            fins.append("orphan")
        # how long the object lingers
        pod_grace = None
        if info.kind == "Pod":
            spec, status = old.get("spec") or {}, old.get("status") or {}
            if not spec.get("nodeName") or status.get("phase") in ("Succeeded", "Failed"):
                pod_grace = 0
            elif grace is not None:
                pod_grace = grace
            else:
                pod_grace = int(spec.get("terminationGracePeriodSeconds") if spec.get("terminationGracePeriodSeconds")
                                is not None else 30)
                pod_grace = max(pod_grace, 0)
            if grace == 0:
                pod_grace = 0
        if om.get("deletionTimestamp"):
            # already being deleted: a pod's grace period may only shrink; a policy may add its finalizer
            shorter = info.kind == "Pod" and pod_grace is not None and pod_grace < (om.get("deletionGracePeriodSeconds")
                                                                                   or 0)
            if not shorter and fins == list(om.get("finalizers") or []):
                return old
            if shorter:
                fm["deletionGracePeriodSeconds"] = pod_grace
                fm["deletionTimestamp"] = self.now(pod_grace)
            if fins:
                fm["finalizers"] = fins
            return self._write_deletion(info, key, kv, old, final, dry_run)
        if info.kind == "Namespace":
            fm["deletionTimestamp"] = self.now()
            fm["deletionGracePeriodSeconds"] = 0
            if fins:
                fm["finalizers"] = fins
            final.setdefault("status", {})["phase"] = "Terminating"
            if info.generation:
                fm["generation"] = int(fm.get("generation") or 0) + 1
            return self._write_deletion(info, key, kv, old, final, dry_run)
        graceful = pod_grace is not None and pod_grace > 0
        if graceful or fins:
            g = pod_grace if graceful else 0
            fm["deletionTimestamp"] = self.now(g)
            fm["deletionGracePeriodSeconds"] = g
            if fins:
                fm["finalizers"] = fins
            if fm.get("generation"):
                fm["generation"] = int(fm["generation"]) + 1
            return self._write_deletion(info, key, kv, old, final, dry_run)
        if dry_run:
            return old
        rev = self.storage.delete(key, kv.mod_revision)
        if rev is None:
            raise ConflictError.modified(info.plural, name, info.group)
        self._after_write(info, key, rev, None, old)
        return old

    def _write_deletion(self, info: ResourceInfo, key: str, kv, old: dict, final: dict, dry_run: bool) -> dict:
        if dry_run:
            return final
        name = old["metadata"]["name"]
        if self._should_delete(info, final):
            rev = self.storage.delete(key, kv.mod_revision)
            if rev is None:
                raise ConflictError.modified(info.plural, name, info.group)
            self._after_write(info, key, rev, None, old)
            return final
        rev = self.storage.update(key, final, kv.mod_revision)
        if rev is None:
            raise ConflictError.modified(info.plural, name, info.group)
        final["metadata"]["resourceVersion"] = str(rev)
        self._after_write(info, key, rev, final, old)
        return final

    @_audited
    def delete_collection(self, resource: str, namespace: str | None = None, *, user: Any, label_selector: Any = None,
                          field_selector: Any = None, grace_period_seconds: int | None = None,
                          propagation_policy: str | None = None) -> dict:
        """Delete every matching object (``kubectl delete pods --all`` / ``-l``); returns the List deleted."""
        self._check_running()
        u = user_info(user)
        info = resolve(resource)
        if "deletecollection" not in info.verbs:
            raise MethodNotSupportedError(info.plural, "deletecollection", info.group)
        ns = namespace if info.namespaced else None
        self._authorize(u, "deletecollection", info, "", ns, "")
        listed = self.list(info.plural, ns, user=SYSTEM_USER, label_selector=label_selector,
                           field_selector=field_selector)
        out = []
        for item in listed["items"]:
            m = item["metadata"]
            try:
                out.append(self._delete(info, m.get("namespace"), m["name"], u, grace_period_seconds,
                                        propagation_policy, None, False, False))
            except NotFoundError:
                continue
        return {"apiVersion": info.api_version, "kind": info.list_kind,
                "metadata": {"resourceVersion": str(self.storage.revision)}, "items": out}

    deletecollection = delete_collection

    # =================================================================================
    # pods/binding, pods/eviction
    # =================================================================================
    def _bind(self, binding: dict, u: UserInfo, namespace: str | None, dry_run: bool) -> dict:
        info = resolve("pods")
        b = _json_copy(binding)
        bm = _meta(b)
        ns = self._namespace_for(info, bm.get("namespace"), namespace)
        pod_name = bm.get("name") or ""
        self._authorize(u, "create", info, "binding", ns, pod_name)
        causes = ([FieldError.required("metadata.name")] if not pod_name else []) + \
            validate_object({"kind": "Binding", "target": b.get("target") or {}})
        if causes:
            raise InvalidError("Binding", "", pod_name, causes)
        node = (b.get("target") or {}).get("name")
        key = info.etcd_key(pod_name, ns)
        kv = self.storage.get_kv(key)
        if kv is None:
            raise NotFoundError("pods", pod_name)
        pod = decode(kv.value, kv.mod_revision)
        pm = pod["metadata"]
        if bm.get("uid") and bm["uid"] != pm.get("uid"):
            raise ConflictError("pods/binding", pod_name, f"Precondition failed: UID in precondition: {bm['uid']}, "
                                                          f"UID in object meta: {pm.get('uid')}")
        if pm.get("deletionTimestamp"):
            raise ConflictError("pods/binding", pod_name, f"pod {pod_name} is being deleted, cannot be assigned to a "
                                                          f"host")
        current = (pod.get("spec") or {}).get("nodeName")
        if current:
            raise ConflictError("pods/binding", pod_name, f'pod {pod_name} is already assigned to node "{current}"')
        pod.setdefault("spec", {})["nodeName"] = node
        for k, v in (bm.get("annotations") or {}).items():
            pm.setdefault("annotations", {})[k] = v
        status = pod.setdefault("status", {})
        conds = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        conds.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                      "lastTransitionTime": self.now()})
        status["conditions"] = conds
        if dry_run:
            return status_success(201)
        rev = self.storage.update(key, pod, kv.mod_revision)
        if rev is None:
            raise ConflictError.modified("pods", pod_name)
        old = decode(kv.value, kv.mod_revision)
        self._after_write(info, key, rev, pod, old)
        return status_success(201)

    @_audited
    def bind(self, name: str, node: str, namespace: str | None = None, *, user: Any) -> dict:
        """Bind a pending pod to a node (what the scheduler's DefaultBinder posts)."""
        return self.create({"apiVersion": "v1", "kind": "Binding",
                            "metadata": {"name": name, "namespace": namespace or "default"},
                            "target": {"apiVersion": "v1", "kind": "Node", "name": node}}, user=user)

    def _evict_object(self, ev: dict, u: UserInfo, namespace: str | None, dry_run: bool) -> dict:
        m = ev.get("metadata") or {}
        opts = ev.get("deleteOptions") or {}
        return self.evict(m.get("name", ""), namespace or m.get("namespace"), user=u,
                          grace_period_seconds=opts.get("gracePeriodSeconds"), dry_run=dry_run)

    @_audited
    def evict(self, name: str, namespace: str | None = None, *, user: Any, grace_period_seconds: int | None = None,
              dry_run: bool = False) -> dict:
        """The Eviction API (``kubectl drain``): delete a pod gracefully (no PodDisruptionBudgets here)."""
        self._check_running()
        u = user_info(user)
        info = resolve("pods")
        ns = namespace or "default"
        self._authorize(u, "create", info, "eviction", ns, name)
        kv = self.storage.get_kv(info.etcd_key(name, ns))
        if kv is None:
            raise NotFoundError("pods", name)
        old = decode(kv.value, kv.mod_revision)
        _admission.admit(Request("CREATE", info, "eviction", ns, name, u, None, old, self._lookup))
        self._delete(info, ns, name, SYSTEM_USER, grace_period_seconds, None, None, False, dry_run)
        return status_success(201)

    # =================================================================================
    # pods/log, pods/exec (served by kubelets)
    # =================================================================================
    def register_kubelet(self, node: str, handler: KubeletHandler) -> None:
        """Let the kubelet of ``node`` serve ``pods/log`` and ``pods/exec``:
        ``handler(subresource, pod, options)`` returns the log text / exec result."""
        self.kubelets[node] = handler

    def unregister_kubelet(self, node: str) -> None:
        self.kubelets.pop(node, None)

    def _connect(self, sub: str, verb: str, name: str, namespace: str | None, u: UserInfo, container: str | None,
                 options: dict) -> Any:
        self._check_running()
        info = resolve("pods")
        ns = namespace or "default"
        self._authorize(u, verb, info, sub, ns, name)
        pod = self.storage.get(info.etcd_key(name, ns))
        if pod is None:
            raise NotFoundError("pods", name)
        spec = pod.get("spec") or {}
        names = [c.get("name") for c in spec.get("containers") or []]
        all_names = names + [c.get("name") for c in spec.get("initContainers") or []]
        if container is None:
            if len(names) == 1:
                container = names[0]
            else:
                default = (pod["metadata"].get("annotations") or {}).get("kubectl.kubernetes.io/default-container")
                if default in all_names:
                    container = default
                else:
                    raise BadRequestError(f"a container name must be specified for pod {name}, choose one of: "
                                          f"[{' '.join(names)}]" + (f" or one of the init containers: "
                                                                    f"[{' '.join(all_names[len(names):])}]"
                                                                    if len(all_names) > len(names) else ""))
        elif container not in all_names:
            raise BadRequestError(f"container {container} is not valid for pod {name}")
        node = spec.get("nodeName")
        if not node:
            raise BadRequestError(f"pod {name} does not have a host assigned")
        handler = self.kubelets.get(node)
        if handler is None:
            nobj = self.storage.get(f"/registry/minions/{node}")
            addr = node
            for a in ((nobj or {}).get("status") or {}).get("addresses") or []:
                if a.get("type") == "InternalIP":
                    addr = a.get("address")
                    break
            path = "containerLogs" if sub == "log" else sub
            raise StatusError(f'Get "https://{addr}:10250/{path}/{ns}/{name}/{container}": dial tcp {addr}:10250: '
                               f'connect: connection refused')
        return handler(sub, pod, dict(options, container=container))

    @_audited
    def logs(self, name: str, namespace: str | None = None, *, user: Any, container: str | None = None,
             **options: Any) -> Any:
        """``kubectl logs``: the kubelet of the pod's node answers (``follow``, ``previous``, ``tail_lines``...)."""
        return self._connect("log", "get", name, namespace, user_info(user), container, options)

    @_audited
    def exec(self, name: str, namespace: str | None = None, command: Iterable[str] = (), *, user: Any,
             container: str | None = None, stdin: Any = None, tty: bool = False) -> Any:
        """``kubectl exec``: the kubelet of the pod's node runs ``command`` in the container."""
        return self._connect("exec", "create", name, namespace, user_info(user), container,
                             {"command": list(command), "stdin": stdin, "tty": tty})

    # =================================================================================
    # watch
    # =================================================================================
    @_audited
    def watch(self, resource: str, namespace: str | None = None, *, user: Any, callback: Callable[[dict], Any],
              resource_version: str | None = None, label_selector: Any = None, field_selector: Any = None,
              on_close: Callable[[Exception | None], Any] | None = None) -> Watch:
        """Follow changes (``kubectl get -w``): ``callback({"type": "ADDED"|"MODIFIED"|"DELETED", "object": ...})``
        through the loop, in order.

        Without ``resource_version`` (or with ``"0"``) every existing object
        arrives first as ADDED; with a list's ``resourceVersion`` only what
        happened after it arrives.

        Raises:
            GoneError: ``resource_version`` is older than the last compaction
                (``too old resource version: 5 (10)``): list again, then watch from the list.
            UnknownResourceError, ForbiddenError, BadRequestError, StorageError.
        """
        self._check_running()
        if not callable(callback):
            raise BadRequestError("watch needs a callback(event)")
        u = user_info(user)
        info = resolve(resource)
        if info.etcd_dir is None:
            raise MethodNotSupportedError(info.plural, "watch", info.group)
        ns = namespace if info.namespaced else None
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(field_selector, info.plural)
        self._authorize(u, "watch", info, "", ns, fields.equals("metadata.name") or "")
        current = self.storage.revision
        initial = resource_version in (None, "", "0")
        if not initial:
            try:
                rv = int(resource_version)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise BadRequestError(f"invalid resource version: {resource_version}") from None
            if rv > current:
                raise ServerTimeoutError(f"Too large resource version: {rv}, current: {current}")
            compacted = self.storage.compact_revision
            if rv + 1 < compacted:
                raise GoneError(f"too old resource version: {rv} ({compacted - 1})")
        dispatcher = self._dispatcher(info)
        if initial:
            listed = self.list(info.plural, ns, user=SYSTEM_USER, label_selector=labels, field_selector=fields)
            start = int(listed["metadata"]["resourceVersion"])
            w = Watch(self.loop, info.plural, ns, labels, fields, callback, on_close, start)
            for item in listed["items"]:
                w._push({"type": "ADDED", "object": item})
            dispatcher.add(w)
        else:
            w = Watch(self.loop, info.plural, ns, labels, fields, callback, on_close, rv)
            if rv >= dispatcher.delivered:
                dispatcher.add(w)
            else:  # older than what the shared stream has passed: replay from etcd history
                private = Dispatcher(self.storage, info.etcd_prefix, rv + 1, self._dispatcher_closed, private=True)
                self._private.add(private)
                private.add(w)
        self._watches.append(w)
        if len(self._watches) > 64:
            self._watches = [x for x in self._watches if not x.stopped]
        return w

    def _dispatcher(self, info: ResourceInfo) -> Dispatcher:
        d = self._dispatchers.get(info.plural)
        if d is None or d.closed:
            d = Dispatcher(self.storage, info.etcd_prefix, self.storage.revision + 1, self._dispatcher_closed,
                           index_nodes=info.plural == "pods")
            self._dispatchers[info.plural] = d
        return d

    def _dispatcher_closed(self, d: Dispatcher, err: Exception | None) -> None:
        self._private.discard(d)
        for k, v in list(self._dispatchers.items()):
            if v is d:
                del self._dispatchers[k]


def _label_needles(labels: LabelSelector) -> list[bytes]:
    """Bytes every stored object matching ``labels`` must contain (``"app":"web"`` for ``app=web``)."""
    from .storage import _dumps

    return [_dumps({r.key: r.values[0]})[1:-1].encode() for r in labels.requirements if r.op == "="]


def _patch_allocated_values(svc: dict, old: dict) -> None:
    """Service PrepareForUpdate: an update that leaves out the allocated ClusterIP / NodePorts keeps them."""
    spec, ospec = svc.get("spec"), old.get("spec") or {}
    if not isinstance(spec, dict):
        return
    stype = spec.get("type", "ClusterIP")
    if stype != "ExternalName" and ospec.get("type", "ClusterIP") != "ExternalName":
        if not spec.get("clusterIP") and ospec.get("clusterIP"):
            spec["clusterIP"] = ospec["clusterIP"]
            spec["clusterIPs"] = list(ospec.get("clusterIPs") or [ospec["clusterIP"]])
        elif spec.get("clusterIP") == ospec.get("clusterIP") and not spec.get("clusterIPs"):
            spec["clusterIPs"] = list(ospec.get("clusterIPs") or [])
        for f in ("ipFamilies", "ipFamilyPolicy"):
            if f not in spec and f in ospec:
                spec[f] = ospec[f]
    if stype in ("NodePort", "LoadBalancer"):
        old_ports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
                     for p in ospec.get("ports") or [] if isinstance(p, dict) and p.get("nodePort")}
        for p in spec.get("ports") or []:
            if isinstance(p, dict) and not p.get("nodePort"):
                np_ = old_ports.get((p.get("port"), p.get("protocol", "TCP")))
                if np_:
                    p["nodePort"] = np_


def _bad_b64_at(v: Any) -> int:
    s = str(v or "")
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    for i, ch in enumerate(s):
        if ch == "=":
            return i if (len(s) % 4 != 0) else len(s.rstrip("="))
        if ch not in alphabet:
            return i
    return len(s) - len(s) % 4 if len(s) % 4 else len(s)


def _prune(obj: Any, path: list) -> None:
    cur = obj
    for p in path[:-1]:
        try:
            cur = cur[p]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(cur, dict):
        cur.pop(path[-1], None)


def _pod_references(pod: dict, resource: str) -> set:
    """Names of secrets / configmaps / PVCs a pod uses (the node authorizer's graph edges)."""
    spec = pod.get("spec") or {}
    out: set = set()
    containers = (spec.get("containers") or []) + (spec.get("initContainers") or [])
    if resource == "secrets":
        out.update(s.get("name") for s in spec.get("imagePullSecrets") or [] if isinstance(s, dict))
    for v in spec.get("volumes") or []:
        if not isinstance(v, dict):
            continue
        if resource == "secrets" and isinstance(v.get("secret"), dict):
            out.add(v["secret"].get("secretName"))
        if resource == "configmaps" and isinstance(v.get("configMap"), dict):
            out.add(v["configMap"].get("name"))
        if resource == "persistentvolumeclaims" and isinstance(v.get("persistentVolumeClaim"), dict):
            out.add(v["persistentVolumeClaim"].get("claimName"))
        for src in ((v.get("projected") or {}).get("sources") or []) if isinstance(v.get("projected"), dict) else []:
            if resource == "secrets" and isinstance(src.get("secret"), dict):
                out.add(src["secret"].get("name"))
            if resource == "configmaps" and isinstance(src.get("configMap"), dict):
                out.add(src["configMap"].get("name"))
    for c in containers:
        if not isinstance(c, dict):
            continue
        for e in c.get("env") or []:
            vf = (e or {}).get("valueFrom") or {}
            if resource == "secrets" and isinstance(vf.get("secretKeyRef"), dict):
                out.add(vf["secretKeyRef"].get("name"))
            if resource == "configmaps" and isinstance(vf.get("configMapKeyRef"), dict):
                out.add(vf["configMapKeyRef"].get("name"))
        for ef in c.get("envFrom") or []:
            if resource == "secrets" and isinstance((ef or {}).get("secretRef"), dict):
                out.add(ef["secretRef"].get("name"))
            if resource == "configmaps" and isinstance((ef or {}).get("configMapRef"), dict):
                out.add(ef["configMapRef"].get("name"))
    out.discard(None)
    return out
