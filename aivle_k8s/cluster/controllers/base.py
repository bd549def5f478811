"""What every controller is made of: a work queue, shared informers, an event recorder, a Lease.

The shape is client-go's ``sample-controller``:

- informer event handlers only *enqueue keys* (``namespace/name``);
- one deduplicating :class:`WorkQueue` per controller hands each key to
  ``reconcile(key)``, which compares desired with actual state and converges;
- a failed ``reconcile`` (the API server is gone, a write conflicted) is
  requeued with exponential back-off, 5 ms doubling to 1000 s, like
  ``workqueue.DefaultControllerRateLimiter``, on the simulated clock.

Informers are shared (:class:`SharedInformers`, client-go's
``SharedInformerFactory``): every controller of one manager reads the same
caches. Caches are *write-through* (:meth:`CachingInformer.assume`): what a
controller has just written is visible to its next reconcile even before the
watch event arrives — the job client-go's "expectations" do.

>>> from aivle_k8s.sim import Loop
>>> loop = Loop(); seen = []
>>> q = WorkQueue(loop, seen.append)
>>> q.add("default/web"); q.add("default/web"); q.add("default/db")
>>> loop.advance(0); seen
['default/web', 'default/db']
"""

from __future__ import annotations

import datetime as _dt
import random
from typing import Any, Callable, Iterable

from ..client import Informer, object_key

__all__ = ["WorkQueue", "Controller", "SharedInformers", "CachingInformer", "EventRecorder", "LeaderElector",
           "EPOCH", "rfc3339", "micro_time", "parse_time", "owner_reference", "controller_of", "is_pod_ready",
           "is_pod_active", "pod_ready_since", "label_selector_matches", "split_key", "is_transient"]

#: Simulated second 0 (the same moment as ``World.timestamp(0)``).
EPOCH = _dt.datetime(2025, 3, 3, 9, 0, 0, tzinfo=_dt.timezone.utc)


def rfc3339(seconds: float) -> str:
    """``metav1.Time`` of simulated second ``seconds``."""
    return (EPOCH + _dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_time(seconds: float) -> str:
    """``metav1.MicroTime`` (Leases): ``2025-03-03T09:00:10.000000Z``."""
    return (EPOCH + _dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: Any) -> float | None:
    """Simulated seconds of an RFC 3339 time (``None`` if absent or malformed)."""
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    try:
        t = _dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.timezone.utc)
    return (t - EPOCH).total_seconds()


def split_key(key: str) -> tuple[str | None, str]:
    ns, _, name = key.rpartition("/")
    return (ns or None), name


def is_transient(e: BaseException) -> bool:
    """Errors worth retrying: the server is unreachable, a write conflicted, etcd is unavailable."""
    from ...sim.errors import NetworkError
    from ..apiserver.errors import ConflictError, GoneError, ServerTimeoutError, StorageError

    return isinstance(e, (NetworkError, ConflictError, GoneError, ServerTimeoutError, StorageError))


# ---------------------------------------------------------------------------------------------
# objects
# ---------------------------------------------------------------------------------------------
def owner_reference(owner: dict, *, controller: bool = True, block: bool = True) -> dict:
    """The ``ownerReferences`` entry a controller puts on what it creates."""
    m = owner["metadata"]
    return {"apiVersion": owner.get("apiVersion", "v1"), "kind": owner.get("kind", ""), "name": m["name"],
            "uid": m["uid"], "controller": controller, "blockOwnerDeletion": block}


def controller_of(obj: dict) -> dict | None:
    """The ownerReference with ``controller: true`` (``metav1.GetControllerOf``)."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def _condition(obj: dict, kind: str) -> dict | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return c
    return None


def is_pod_ready(pod: dict) -> bool:
    c = _condition(pod, "Ready")
    return bool(c) and c.get("status") == "True"


def pod_ready_since(pod: dict) -> float | None:
    c = _condition(pod, "Ready")
    if not c or c.get("status") != "True":
        return None
    t = parse_time(c.get("lastTransitionTime"))
    return t if t is not None else float("-inf")


def is_pod_active(pod: dict) -> bool:
    """Not terminating and not finished (``controller.IsPodActive``)."""
    return (not (pod.get("metadata") or {}).get("deletionTimestamp")
            and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"))


def label_selector_matches(selector: dict | None, labels: dict | None) -> bool:
    """``metav1.LabelSelectorAsSelector(selector).Matches(labels)``; an empty selector matches everything,
    a missing one nothing."""
    if selector is None:
        return False
    labels = labels or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# work queue
# ---------------------------------------------------------------------------------------------
class WorkQueue:
    """A deduplicating, rate-limited work queue on the simulated clock (client-go ``workqueue``).

    A key added while queued is not queued twice; a key added while being
    processed is processed again afterwards. ``handler(key)`` raising a
    transient error requeues the key after ``base_delay * 2**failures``
    (capped at ``max_delay``); success forgets the failures.
    """

    def __init__(self, loop: Any, handler: Callable[[str], Any], *, base_delay: float = 0.005,
                 max_delay: float = 1000.0, name: str = ""):
        self.loop = loop
        self.handler = handler
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.name = name
        self._queue: list[str] = []
        self._dirty: set[str] = set()
        self._processing: set[str] = set()
        self._failures: dict[str, int] = {}
        self._later: dict[str, Any] = {}
        self._scheduled = False
        self.shutting_down = False
        self.errors: list[tuple[str, BaseException]] = []

    def __len__(self) -> int:
        return len(self._queue)

    def __repr__(self) -> str:
        return f"<WorkQueue {self.name} {len(self._queue)} queued>"

    def add(self, key: str) -> None:
        if self.shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key not in self._processing:
            self._queue.append(key)
            self._kick()

    def add_after(self, key: str, delay: float) -> None:
        """Queue ``key`` after ``delay`` simulated seconds (the earliest request wins)."""
        if self.shutting_down:
            return
        if delay <= 0:
            self.add(key)
            return
        when = self.loop.now + delay
        timer = self._later.get(key)
        if timer is not None and not timer.cancelled and timer.when <= when:
            return
        if timer is not None:
            timer.cancel()

        def fire() -> None:
            if self._later.get(key) is t:
                del self._later[key]
            self.add(key)

        t = self.loop.call_at(when, fire)
        self._later[key] = t

    def add_rate_limited(self, key: str) -> float:
        n = self._failures.get(key, 0)
        self._failures[key] = n + 1
        delay = min(self.base_delay * (2 ** n), self.max_delay)
        self.add_after(key, delay)
        return delay

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)

    def num_requeues(self, key: str) -> int:
        return self._failures.get(key, 0)

    def shut_down(self) -> None:
        self.shutting_down = True
        for t in self._later.values():
            t.cancel()
        self._later.clear()
        self._queue.clear()
        self._dirty.clear()

    def _kick(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            self.loop.call_soon(self._drain)

    def _drain(self) -> None:
        self._scheduled = False
        batch, self._queue = self._queue, []
        for key in batch:
            if self.shutting_down:
                return
            self.process(key)

    def process(self, key: str) -> None:
        """Run the handler for ``key`` now (what a worker goroutine does)."""
        self._dirty.discard(key)
        self._processing.add(key)
        try:
            self.handler(key)
        except Exception as e:  # noqa: BLE001 - any failure: retry later, like utilruntime.HandleError
            if not is_transient(e):
                self.errors.append((key, e))
                if len(self.errors) > 100:
                    del self.errors[:50]
            self.add_rate_limited(key)
        else:
            self.forget(key)
        finally:
            self._processing.discard(key)
            if key in self._dirty:
                self._queue.append(key)
                self._kick()


# ---------------------------------------------------------------------------------------------
# informers
# ---------------------------------------------------------------------------------------------
def _rv(obj: dict | None) -> int:
    try:
        return int((obj or {}).get("metadata", {}).get("resourceVersion") or 0)
    except (TypeError, ValueError):
        return 0


class CachingInformer(Informer):
    """An :class:`~aivle_k8s.cluster.client.Informer` whose cache a controller may write through.

    ``assume(obj)`` puts what the API server just returned into the cache;
    ``assume_deleted(obj)`` drops it. Watch events older than the cached
    object are ignored, so the cache never goes back in time.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.indexes: dict[str, Callable[[dict], Iterable[str]]] = {}
        self._index_data: dict[str, dict[str, set[str]]] = {}

    def add_index(self, name: str, fn: Callable[[dict], Iterable[str]]) -> None:
        self.indexes[name] = fn
        data: dict[str, set[str]] = {}
        for key, obj in self.store.items():
            for v in fn(obj):
                data.setdefault(v, set()).add(key)
        self._index_data[name] = data

    def by_index(self, name: str, value: str) -> list[dict]:
        keys = self._index_data.get(name, {}).get(value, ())
        return [self.store[k] for k in sorted(keys) if k in self.store]

    def _reindex(self, key: str, old: dict | None, new: dict | None) -> None:
        for name, fn in self.indexes.items():
            data = self._index_data[name]
            if old is not None:
                for v in fn(old):
                    s = data.get(v)
                    if s is not None:
                        s.discard(key)
                        if not s:
                            del data[v]
            if new is not None:
                for v in fn(new):
                    data.setdefault(v, set()).add(key)

    def assume(self, obj: dict) -> None:
        if not isinstance(obj, dict) or "metadata" not in obj or obj.get("kind") == "Status":
            return
        key = object_key(obj)
        prev = self.store.get(key)
        if prev is not None and _rv(prev) >= _rv(obj):
            return
        self.store[key] = obj
        self._reindex(key, prev, obj)
        if prev is None:
            self._fire(0, obj)
        else:
            self._fire(1, prev, obj)

    def assume_deleted(self, obj: dict) -> None:
        key = object_key(obj)
        prev = self.store.pop(key, None)
        if prev is not None:
            self._reindex(key, prev, None)
            self._fire(2, prev)

    def _list_and_watch(self) -> None:
        before = dict(self.store)
        super()._list_and_watch()
        if self.store is not before and self.indexes:
            for name, fn in self.indexes.items():
                data: dict[str, set[str]] = {}
                for key, obj in self.store.items():
                    for v in fn(obj):
                        data.setdefault(v, set()).add(key)
                self._index_data[name] = data

    def _on_event(self, event: dict) -> None:
        kind, obj = event.get("type"), event.get("object") or {}
        if kind in ("ADDED", "MODIFIED") and isinstance(obj, dict) and "metadata" in obj:
            key = object_key(obj)
            prev = self.store.get(key)
            if prev is not None and _rv(prev) > _rv(obj):
                rv = obj.get("metadata", {}).get("resourceVersion")
                if rv:
                    self.resource_version = rv
                return
            self._reindex(key, prev, obj)
        elif kind == "DELETED" and isinstance(obj, dict) and "metadata" in obj:
            key = object_key(obj)
            if key not in self.store:
                rv = obj.get("metadata", {}).get("resourceVersion")
                if rv:
                    self.resource_version = rv
                return
            self._reindex(key, self.store.get(key), None)
        super()._on_event(event)


class SharedInformers:
    """One informer per resource, shared by the controllers of one process (``SharedInformerFactory``)."""

    def __init__(self, client: Any, loop: Any, *, relist_backoff: float = 1.0):
        self.client = client
        self.loop = loop
        self.relist_backoff = relist_backoff
        self._informers: dict[tuple, CachingInformer] = {}
        self.started = False

    def get(self, resource: str, namespace: str | None = None, field_selector: Any = None) -> CachingInformer:
        key = (resource, namespace, field_selector)
        inf = self._informers.get(key)
        if inf is None:
            inf = CachingInformer(self.client, resource, loop=self.loop, namespace=namespace,
                                  field_selector=field_selector, relist_backoff=self.relist_backoff)
            self._informers[key] = inf
            if self.started:
                inf.start()
        return inf

    def __iter__(self):
        return iter(list(self._informers.values()))

    def start(self) -> None:
        self.started = True
        for inf in list(self._informers.values()):
            inf.start()

    def stop(self) -> None:
        self.started = False
        for inf in self._informers.values():
            inf.stop()

    @property
    def synced(self) -> bool:
        return all(i.synced for i in self._informers.values())


# ---------------------------------------------------------------------------------------------
# events
# ---------------------------------------------------------------------------------------------
class EventRecorder:
    """``record.EventRecorder``: core/v1 Events with the real reasons, deduplicated.

    The same (object, type, reason, message, source) seen again bumps ``count``
    and ``lastTimestamp`` of the existing Event instead of creating a new one.
    Failures to write are dropped (events are best effort).
    """

    def __init__(self, client: Any, loop: Any, component: str, host: str = ""):
        self.client = client
        self.loop = loop
        self.component = component
        self.host = host
        self._seen: dict[tuple, dict] = {}
        self._names: set[str] = set()

    def event(self, obj: dict, type_: str, reason: str, message: str) -> dict | None:
        m = obj.get("metadata") or {}
        ns = m.get("namespace") or "default"
        involved = {"kind": obj.get("kind", ""), "namespace": m.get("namespace", ""), "name": m.get("name", ""),
                    "uid": m.get("uid", ""), "apiVersion": obj.get("apiVersion", ""),
                    "resourceVersion": m.get("resourceVersion", "")}
        involved = {k: v for k, v in involved.items() if v}
        if "fieldPath" in obj:
            involved["fieldPath"] = obj["fieldPath"]
        key = (involved.get("kind"), ns, involved.get("name"), involved.get("uid"), type_, reason, message)
        now = rfc3339(self.loop.now)
        prev = self._seen.get(key)
        try:
            if prev is not None:
                body = {"count": int(prev.get("count") or 1) + 1, "lastTimestamp": now}
                ev = self.client.patch("events", prev["metadata"]["name"], body, namespace=ns, patch_type="merge")
            else:
                ns_time = int(round(self.loop.now * 1e9)) + int(EPOCH.timestamp()) * 10**9
                name = f"{involved.get('name', 'event')}.{ns_time:x}"
                while name in self._names:
                    ns_time += 1
                    name = f"{involved.get('name', 'event')}.{ns_time:x}"
                self._names.add(name)
                source = {"component": self.component}
                if self.host:
                    source["host"] = self.host
                body = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": ns},
                        "involvedObject": involved, "reason": reason, "message": message, "source": source,
                        "firstTimestamp": now, "lastTimestamp": now, "count": 1, "type": type_,
                        "eventTime": None, "reportingComponent": self.component,
                        "reportingInstance": self.host}
                ev = self.client.create(body, namespace=ns)
        except Exception:  # noqa: BLE001 - events are best effort
            if prev is not None:
                self._seen.pop(key, None)
            return None
        self._seen[key] = ev
        if len(self._seen) > 4096:
            for k in list(self._seen)[:1024]:
                del self._seen[k]
        return ev

    def normal(self, obj: dict, reason: str, message: str) -> dict | None:
        return self.event(obj, "Normal", reason, message)

    def warning(self, obj: dict, reason: str, message: str) -> dict | None:
        return self.event(obj, "Warning", reason, message)


# ---------------------------------------------------------------------------------------------
# controller
# ---------------------------------------------------------------------------------------------
class Controller:
    """Base of every controller: a work queue whose keys go to :meth:`reconcile`.

    Subclasses set ``name`` (the ``--controllers`` name), ``component`` (the
    Events' ``source.component``), register informer handlers in
    :meth:`setup` (they only call :meth:`enqueue`) and implement :meth:`reconcile`.

    Args:
        client: an :class:`~aivle_k8s.cluster.client.APIClient`.
        loop: the simulated clock.
        rng: a seeded ``random.Random``.
        informers: the manager's :class:`SharedInformers` (a private one if omitted).
    """

    name = "controller"
    component = "controller-manager"

    def __init__(self, client: Any, loop: Any, rng: random.Random | None = None, *,
                 informers: SharedInformers | None = None, recorder: EventRecorder | None = None):
        self.client = client
        self.loop = loop
        self.rng = rng if rng is not None else random.Random(0)
        self.informers = informers if informers is not None else SharedInformers(client, loop)
        self.recorder = recorder if recorder is not None else EventRecorder(client, loop, self.component)
        self.queue = WorkQueue(loop, self._handle, name=self.name)
        self.running = False
        self._timers: list[Any] = []
        self.setup()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {'running' if self.running else 'stopped'} queued={len(self.queue)}>"

    # -- to override -----------------------------------------------------------------
    def setup(self) -> None:
        """Get informers and add handlers that enqueue keys."""

    def reconcile(self, key: str) -> None:
        raise NotImplementedError

    def periodic(self) -> list[tuple[float, Callable[[], Any]]]:
        """``(interval, callback)`` pairs to run while started."""
        return []

    # -- plumbing --------------------------------------------------------------------
    def now(self) -> str:
        return rfc3339(self.loop.now)

    def informer(self, resource: str, namespace: str | None = None, field_selector: Any = None) -> CachingInformer:
        return self.informers.get(resource, namespace, field_selector)

    def enqueue(self, obj: dict | str, delay: float = 0.0) -> None:
        if not self.running:
            return
        key = obj if isinstance(obj, str) else object_key(obj)
        if delay > 0:
            self.queue.add_after(key, delay)
        else:
            self.queue.add(key)

    def _handle(self, key: str) -> None:
        self.reconcile(key)

    def start(self) -> None:
        if self.running:
            return
        self.running = True
        self.queue.shutting_down = False
        self.informers.start()
        self.resync()
        for interval, fn in self.periodic():
            self._timers.append(self.loop.call_every(interval, fn))

    def resync(self) -> None:
        """Enqueue every object the controller follows (after start)."""

    def stop(self) -> None:
        self.running = False
        self.queue.shut_down()
        for t in self._timers:
            t.cancel()
        self._timers.clear()


# ---------------------------------------------------------------------------------------------
# leader election
# ---------------------------------------------------------------------------------------------
class LeaderElector:
    """``leaderelection.LeaderElector`` over a coordination.k8s.io Lease.

    Tries to acquire ``namespace/name`` every ``retry_period``; the holder renews
    every ``retry_period`` and loses the lease if it cannot renew within
    ``renew_deadline``; a lease not renewed for ``lease_duration`` may be taken over.
    """

    def __init__(self, client: Any, loop: Any, identity: str, *, name: str, namespace: str = "kube-system",
                 lease_duration: float = 15.0, renew_deadline: float = 10.0, retry_period: float = 2.0,
                 on_started_leading: Callable[[], Any] | None = None,
                 on_stopped_leading: Callable[[], Any] | None = None):
        self.client = client
        self.loop = loop
        self.identity = identity
        self.name = name
        self.namespace = namespace
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.on_started_leading = on_started_leading
        self.on_stopped_leading = on_stopped_leading
        self.leading = False
        self._last_renew = None
        self._observed: tuple[str, str] | None = None  # (holder, renewTime) seen
        self._observed_at = 0.0
        self._lease: dict | None = None  # the Lease as last read or written (LeaseLock.lease)
        self._timer = None

    def __repr__(self) -> str:
        return f"<LeaderElector {self.namespace}/{self.name} {self.identity} leading={self.leading}>"

    def start(self) -> None:
        if self._timer is None:
            self._tick()
            self._timer = self.loop.call_every(self.retry_period, self._tick)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.leading:
            self.leading = False
            if self.on_stopped_leading:
                self.on_stopped_leading()

    def _tick(self) -> None:
        ok = False
        try:
            ok = self._try_acquire_or_renew()
        except Exception as e:  # noqa: BLE001
            if not is_transient(e):
                from ..apiserver.errors import StatusError
                if not isinstance(e, StatusError):
                    raise
        now = self.loop.now
        if ok:
            self._last_renew = now
            if not self.leading:
                self.leading = True
                if self.on_started_leading:
                    self.on_started_leading()
        elif self.leading and (self._last_renew is None or now - self._last_renew >= self.renew_deadline):
            self.leading = False
            if self.on_stopped_leading:
                self.on_stopped_leading()

    def _try_acquire_or_renew(self) -> bool:
        now = self.loop.now
        spec = {"holderIdentity": self.identity, "leaseDurationSeconds": int(self.lease_duration),
                "acquireTime": micro_time(now), "renewTime": micro_time(now), "leaseTransitions": 0}
        # 1. the fast path: the leader, its lease still valid, updates the Lease it holds
        #    (resourceVersion included) without reading it first; a conflict falls back to 2.
        lease = self._lease
        if (self.leading and lease is not None and self._observed == (self.identity, (lease.get("spec") or {})
                                                                      .get("renewTime"))
                and now < self._observed_at + self.lease_duration):
            cur = lease.get("spec") or {}
            spec["acquireTime"] = cur.get("acquireTime") or spec["acquireTime"]
            spec["leaseTransitions"] = int(cur.get("leaseTransitions") or 0)
            try:
                self._lease = self.client.update({**lease, "spec": spec})
            except Exception as e:  # noqa: BLE001 - any failure: the slow path decides
                if not is_transient(e):
                    from ..apiserver.errors import StatusError
                    if not isinstance(e, StatusError):
                        raise
                self._lease = None
            else:
                self._observed = (self.identity, spec["renewTime"])
                self._observed_at = now
                return True
        # 2. read (or create) the Lease
        from ..apiserver.errors import NotFoundError

        try:
            lease = self.client.get("leases", self.name, self.namespace)
        except NotFoundError:
            self._lease = self.client.create({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                                              "metadata": {"name": self.name, "namespace": self.namespace},
                                              "spec": spec})
            self._observed = (self.identity, spec["renewTime"])
            self._observed_at = now
            return True
        self._lease = lease
        cur = lease.get("spec") or {}
        holder = cur.get("holderIdentity") or ""
        seen = (holder, cur.get("renewTime") or "")
        if seen != self._observed:
            self._observed = seen
            self._observed_at = now
        if holder and holder != self.identity:
            duration = float(cur.get("leaseDurationSeconds") or self.lease_duration)
            if now < self._observed_at + duration:
                return False
            spec["leaseTransitions"] = int(cur.get("leaseTransitions") or 0) + 1
        elif holder == self.identity:
            spec["acquireTime"] = cur.get("acquireTime") or spec["acquireTime"]
            spec["leaseTransitions"] = int(cur.get("leaseTransitions") or 0)
        else:
            spec["leaseTransitions"] = int(cur.get("leaseTransitions") or 0) + (1 if cur else 0)
        lease = dict(lease)
        lease["spec"] = spec
        self._lease = self.client.update(lease)
        self._observed = (self.identity, spec["renewTime"])
        self._observed_at = now
        return True
