"""etcd: the Kubernetes API server's only store.

Two pieces, as in the real etcd:

- :class:`Store` — one member's MVCC key-value store (etcd v3's ``mvcc`` package).
  A global ``revision`` grows by one per write transaction; every key carries
  ``create_revision``, ``mod_revision`` and ``version``; old revisions stay
  readable until :meth:`Store.compact`; watches replay history and then follow
  new events, delivered through the simulated loop. Snapshots are real bytes.
- :class:`EtcdCluster` — members replicating one log with a simplified Raft:
  seeded randomized election timeouts (1000 ms base, 100 ms heartbeat), pre-vote,
  check-quorum, majority commit, catch-up of lagging members (entries or a
  snapshot). One member is what kubeadm's stacked etcd runs.

>>> store = Store()
>>> store.put("/registry/pods/default/web", "{}").header.revision
2
>>> r = store.get("/registry/pods/", prefix=True)
>>> r.count, r.kvs[0].version
(1, 1)
>>> store.txn([Compare.mod_revision("/registry/pods/default/web") == 1],
...           [Put("/registry/pods/default/web", "new")]).succeeded
False

Errors (all :class:`EtcdError`, itself an :class:`~aivle_k8s.sim.errors.AivleError`),
with etcd's own words::

    EtcdError
     ├── Compacted          etcdserver: mvcc: required revision has been compacted
     ├── FutureRevision     etcdserver: mvcc: required revision is a future revision
     ├── NoSpace            etcdserver: mvcc: database space exceeded   (NOSPACE alarm)
     ├── SnapshotCorrupt    snapshot file integrity check failed. ...
     ├── InvalidRequest     (also an InvalidInput)
     │    ├── EmptyKey          etcdserver: key is not provided
     │    ├── DuplicateKey      etcdserver: duplicate key given in txn request
     │    └── RequestTooLarge   etcdserver: request is too large
     └── Unavailable        the cluster cannot serve the request now
          ├── NoLeader          etcdserver: no leader
          ├── RequestTimedOut   etcdserver: request timed out
          └── EndpointDown      dial tcp <ip>:2379: connect: connection refused
"""

from __future__ import annotations

import hashlib
import os
import random
import struct
import zlib
from bisect import bisect_left, bisect_right, insort
from collections import deque, namedtuple
from itertools import islice
from operator import itemgetter
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence

from ..sim.clock import Loop
from ..sim.errors import AivleError, InvalidInput, NotFound

__all__ = [
    # store
    "Store", "KeyValue", "Event", "ResponseHeader", "RangeResponse", "PutResponse",
    "DeleteResponse", "TxnResponse", "CompactResponse", "Watch", "AlarmMember",
    # requests
    "Put", "Get", "Delete", "Compare", "Txn",
    # snapshots
    "SnapshotStatus", "snapshot_status",
    # cluster
    "EtcdCluster", "Member", "MemberInfo", "EndpointStatus", "EndpointHealth", "ClusterWatch",
    # errors
    "EtcdError", "Compacted", "FutureRevision", "NoSpace", "SnapshotCorrupt", "InvalidRequest",
    "EmptyKey", "DuplicateKey", "RequestTooLarge", "Unavailable", "NoLeader", "RequestTimedOut",
    "EndpointDown",
    # defaults
    "DEFAULT_QUOTA_BYTES", "MAX_REQUEST_BYTES", "ETCD_VERSION",
]

#: ``--quota-backend-bytes`` default: 2 GiB.
DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024
#: ``--max-request-bytes`` default: 1.5 MiB.
MAX_REQUEST_BYTES = 1536 * 1024
#: The etcd release kubeadm deploys for Kubernetes 1.30 (``registry.k8s.io/etcd:3.5.12-0``).
ETCD_VERSION = "3.5.12"

_BASE_DB_SIZE = 20 * 1024  # a fresh bbolt file with etcd's buckets
_RECORD_OVERHEAD = 64  # per stored revision: revision key, protobuf framing, page share


# =====================================================================================
# Errors
# =====================================================================================

class EtcdError(AivleError):
    """Root of the errors etcd returns; ``hint`` says what to do about it."""

    hint = ""


class Compacted(EtcdError):
    """The revision asked for is older than the compacted revision (``compact_revision``)."""

    hint = "read or watch from the compacted revision or later (re-list, then watch from its revision)"

    def __init__(self, compact_revision: int = 0, **context):
        super().__init__("etcdserver: mvcc: required revision has been compacted",
                         compact_revision=compact_revision, **context)


class FutureRevision(EtcdError):
    """The revision asked for is newer than the store's current revision."""

    hint = "ask for a revision at most the current one (see header.revision)"

    def __init__(self, **context):
        super().__init__("etcdserver: mvcc: required revision is a future revision", **context)


class NoSpace(EtcdError):
    """The backend quota is exhausted: the NOSPACE alarm is raised and writes are refused."""

    hint = "compact old revisions, defragment every member, then disarm the NOSPACE alarm"

    def __init__(self, *, raise_alarm: bool = False, **context):
        super().__init__("etcdserver: mvcc: database space exceeded", raise_alarm=raise_alarm, **context)


class SnapshotCorrupt(EtcdError):
    """A snapshot file failed its integrity check (sha256 trailer or format)."""

    hint = "take a new snapshot with `etcdctl snapshot save`; a damaged file cannot be restored"

    def __init__(self, detail: str, **context):
        super().__init__(f"snapshot file integrity check failed. 1 errors found.\n{detail}", **context)


class InvalidRequest(EtcdError, InvalidInput):
    """The request itself is malformed."""


class EmptyKey(InvalidRequest):
    hint = "give a non-empty key (a prefix read of everything is get('', prefix=True))"

    def __init__(self, **context):
        super().__init__("etcdserver: key is not provided", **context)


class DuplicateKey(InvalidRequest):
    hint = "write each key at most once per transaction branch"

    def __init__(self, **context):
        super().__init__("etcdserver: duplicate key given in txn request", **context)


class RequestTooLarge(InvalidRequest):
    hint = "keep one request under --max-request-bytes (1.5 MiB by default)"

    def __init__(self, size: int = 0, limit: int = MAX_REQUEST_BYTES, **context):
        super().__init__("etcdserver: request is too large", size=size, limit=limit, **context)


class Unavailable(EtcdError):
    """The cluster cannot serve the request now (no leader, no quorum, member down)."""

    hint = "a majority of members must be running and connected: start the stopped members"


class NoLeader(Unavailable):
    def __init__(self, **context):
        super().__init__("etcdserver: no leader", **context)


class RequestTimedOut(Unavailable):
    """What a client sees when its request cannot be committed by a majority.

    ``timeout`` is the real server-side timeout (5 s + 2 x election timeout); the
    simulation answers at once instead of letting time pass.
    """

    def __init__(self, timeout: float = 7.0, **context):
        super().__init__("etcdserver: request timed out", timeout=timeout, **context)


class EndpointDown(Unavailable):
    def __init__(self, address: str, **context):
        super().__init__(f"dial tcp {address}: connect: connection refused", address=address, **context)


# =====================================================================================
# Values and responses
# =====================================================================================

def _b(value: Any, what: str = "key") -> bytes:
    if type(value) is bytes:
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise InvalidRequest(f"etcd {what}s are bytes or str, got {type(value).__name__}")


def _show(data: bytes, limit: int = 48) -> str:
    text = data.decode("utf-8", "backslashreplace")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _prefix_end(key: bytes) -> bytes:
    """etcd's ``GetPrefixRangeEnd``: the smallest key greater than every key with this prefix."""
    end = bytearray(key)
    for i in range(len(end) - 1, -1, -1):
        if end[i] < 0xFF:
            end[i] += 1
            return bytes(end[: i + 1])
    return b"\0"  # "to the end of the keyspace"


def _range_end(key: bytes, prefix: bool, range_end: Any) -> bytes | None:
    if range_end is not None:
        if prefix:
            raise InvalidRequest("give prefix=True or range_end, not both")
        return _b(range_end, "range end")
    if prefix:
        return _prefix_end(key) if key else b"\0"
    return None


class KeyValue(NamedTuple):
    """One stored revision of a key (``mvccpb.KeyValue``); never mutated.

    A DELETE event's ``kv`` has ``version == 0`` (a tombstone) and an empty value.
    """

    key: bytes
    create_revision: int
    mod_revision: int
    version: int
    value: bytes
    lease: int = 0

    def __repr__(self) -> str:
        return (f"<KeyValue {_show(self.key)} create={self.create_revision} mod={self.mod_revision} "
                f"ver={self.version} {len(self.value)}B>")


_MOD = itemgetter(2)  # KeyValue.mod_revision, for bisect(key=...)
PUT, DELETE = "PUT", "DELETE"


class Event(NamedTuple):
    """A watch event: ``type`` is ``"PUT"`` or ``"DELETE"``; ``prev_kv`` is the key before it."""

    type: str
    kv: KeyValue
    prev_kv: KeyValue | None = None

    @property
    def revision(self) -> int:
        return self.kv.mod_revision

    def __repr__(self) -> str:
        return f"<Event {self.type} {_show(self.kv.key)} rev={self.kv.mod_revision}>"


class ResponseHeader(NamedTuple):
    revision: int
    member_id: str = ""
    raft_term: int = 0

    def __repr__(self) -> str:
        return f"<Header rev={self.revision}>"


class RangeResponse:
    """Result of a read: ``kvs`` (sorted by key), ``count`` (all keys in range), ``more``."""

    __slots__ = ("header", "kvs", "count", "more")

    def __init__(self, header: ResponseHeader | None, kvs: list[KeyValue], count: int, more: bool):
        self.header, self.kvs, self.count, self.more = header, kvs, count, more

    def __repr__(self) -> str:
        return f"<RangeResponse rev={self.header.revision} count={self.count} kvs={len(self.kvs)} more={self.more}>"


class PutResponse:
    __slots__ = ("header", "prev_kv")

    def __init__(self, header: ResponseHeader | None, prev_kv: KeyValue | None = None):
        self.header, self.prev_kv = header, prev_kv

    def __repr__(self) -> str:
        return f"<PutResponse rev={self.header.revision}>"


class DeleteResponse:
    __slots__ = ("header", "deleted", "prev_kvs")

    def __init__(self, header: ResponseHeader | None, deleted: int, prev_kvs: list[KeyValue]):
        self.header, self.deleted, self.prev_kvs = header, deleted, prev_kvs

    def __repr__(self) -> str:
        return f"<DeleteResponse rev={self.header.revision} deleted={self.deleted}>"


class TxnResponse:
    """``succeeded`` says which branch ran; ``responses`` holds one response per op of it."""

    __slots__ = ("header", "succeeded", "responses")

    def __init__(self, header: ResponseHeader, succeeded: bool, responses: list):
        self.header, self.succeeded, self.responses = header, succeeded, responses

    def __repr__(self) -> str:
        return f"<TxnResponse rev={self.header.revision} succeeded={self.succeeded} ops={len(self.responses)}>"


class CompactResponse:
    __slots__ = ("header",)

    def __init__(self, header: ResponseHeader):
        self.header = header

    def __repr__(self) -> str:
        return f"<CompactResponse rev={self.header.revision}>"


class AlarmMember(NamedTuple):
    member_id: str
    alarm: str

    def __str__(self) -> str:  # `etcdctl alarm list`
        return f"memberID:{self.member_id} alarm:{self.alarm}"


# =====================================================================================
# Requests (top level and inside a txn)
# =====================================================================================

_PutT = namedtuple("Put", "key value prev_kv")
_GetT = namedtuple("Get", "key range_end revision limit keys_only count_only")
_DeleteT = namedtuple("Delete", "key range_end prev_kv")
_CompareT = namedtuple("Compare", "key target op operand")
_TxnT = namedtuple("Txn", "compare success failure")
_Compact = namedtuple("Compact", "revision")
_Alarm = namedtuple("Alarm", "action alarm")
_Conf = namedtuple("ConfChange", "member")


class Put(_PutT):
    """Write ``value`` at ``key``: ``Put("k", "v")``."""

    __slots__ = ()

    def __new__(cls, key: Any, value: Any, *, prev_kv: bool = False):
        return _PutT.__new__(cls, _b(key), _b(value, "value"), bool(prev_kv))

    def __repr__(self) -> str:
        return f"Put({_show(self.key)!r}, {len(self.value)}B)"


class Get(_GetT):
    """Read ``key`` (or a prefix / ``[key, range_end)``), optionally at a past ``revision``."""

    __slots__ = ()

    def __new__(cls, key: Any, *, prefix: bool = False, range_end: Any = None, revision: int | None = None,
                limit: int | None = None, keys_only: bool = False, count_only: bool = False):
        key = _b(key)
        revision = int(revision or 0)
        limit = int(limit or 0)
        if revision < 0 or limit < 0:
            raise InvalidRequest(f"revision and limit must not be negative (got {revision}, {limit})")
        return _GetT.__new__(cls, key, _range_end(key, prefix, range_end), revision, limit,
                             bool(keys_only), bool(count_only))

    def __repr__(self) -> str:
        return f"Get({_show(self.key)!r}{', range' if self.range_end is not None else ''})"


class Delete(_DeleteT):
    """Delete ``key`` (or every key with that prefix / in ``[key, range_end)``)."""

    __slots__ = ()

    def __new__(cls, key: Any, *, prefix: bool = False, range_end: Any = None, prev_kv: bool = False):
        key = _b(key)
        return _DeleteT.__new__(cls, key, _range_end(key, prefix, range_end), bool(prev_kv))

    def __repr__(self) -> str:
        return f"Delete({_show(self.key)!r}{', range' if self.range_end is not None else ''})"


_TARGETS = {"version": "version", "ver": "version", "create": "create", "create_revision": "create",
            "mod": "mod", "mod_revision": "mod", "value": "value"}
_OPS = {"=": "=", "==": "=", "!=": "!=", "<": "<", ">": ">"}


class _Target:
    __slots__ = ("key", "target")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, key: Any, target: str):
        self.key, self.target = key, target

    def __eq__(self, other):  # type: ignore[override]
        return Compare(self.key, self.target, "=", other)

    def __ne__(self, other):  # type: ignore[override]
        return Compare(self.key, self.target, "!=", other)

    def __lt__(self, other):
        return Compare(self.key, self.target, "<", other)

    def __gt__(self, other):
        return Compare(self.key, self.target, ">", other)


class Compare(_CompareT):
    """A txn guard, as in ``etcdctl txn``: ``mod("k") = "5"``.

    ``Compare(key, target, op, operand)`` with target ``version`` / ``create`` /
    ``mod`` / ``value`` and op ``=`` ``!=`` ``<`` ``>``, or the builders
    ``Compare.mod_revision("k") == 5``, ``Compare.create_revision("k") == 0``
    (the key does not exist), ``Compare.version("k") > 0``, ``Compare.value("k") == "v"``.
    On a missing key the revisions and version compare as 0 and a value compare fails.
    """

    __slots__ = ()

    def __new__(cls, key: Any, target: str, op: str, operand: Any):
        try:
            target, op = _TARGETS[target], _OPS[op]
        except KeyError:
            raise InvalidRequest(f"bad compare {target!r} {op!r}: targets are version, create, mod, value; "
                                 f"ops are =, !=, <, >") from None
        if target == "value":
            operand = _b(operand, "value")
        elif isinstance(operand, bool) or not isinstance(operand, int):
            raise InvalidRequest(f"compare on {target} needs an integer, got {operand!r}")
        return _CompareT.__new__(cls, _b(key), target, op, operand)

    @staticmethod
    def mod_revision(key: Any) -> _Target:
        return _Target(key, "mod")

    @staticmethod
    def create_revision(key: Any) -> _Target:
        return _Target(key, "create")

    @staticmethod
    def version(key: Any) -> _Target:
        return _Target(key, "version")

    @staticmethod
    def value(key: Any) -> _Target:
        return _Target(key, "value")

    def __repr__(self) -> str:
        operand = _show(self.operand) if self.target == "value" else self.operand
        return f"{self.target}({_show(self.key)!r}) {self.op} {operand!r}"


class Txn(_TxnT):
    """``if all(compare) then success else failure``, as one write revision."""

    __slots__ = ()

    def __new__(cls, compare: Iterable[Compare] = (), success: Iterable = (), failure: Iterable = ()):
        compare, success, failure = tuple(compare), tuple(success), tuple(failure)
        for c in compare:
            if not isinstance(c, Compare):
                raise InvalidRequest(f"txn compares must be Compare objects, got {c!r}")
        for op in success + failure:
            if not isinstance(op, (Put, Get, Delete)):
                raise InvalidRequest(f"txn operations must be Put, Get or Delete, got {op!r}")
        return _TxnT.__new__(cls, compare, success, failure)


# =====================================================================================
# A sorted list of keys with O(log n) insert/remove/position (chunked, like sortedcontainers)
# =====================================================================================

class _SortedKeys:
    __slots__ = ("_lists", "_maxes", "_len")
    _LOAD = 1000

    def __init__(self, keys: Iterable[bytes] = ()):
        keys = sorted(keys)
        load = self._LOAD
        self._lists = [keys[i:i + load] for i in range(0, len(keys), load)]
        self._maxes = [lst[-1] for lst in self._lists]
        self._len = len(keys)

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[bytes]:
        for lst in self._lists:
            yield from lst

    def add(self, key: bytes) -> None:
        lists, maxes = self._lists, self._maxes
        if not maxes:
            lists.append([key])
            maxes.append(key)
        else:
            i = bisect_left(maxes, key)
            if i == len(maxes):
                i -= 1
                lst = lists[i]
                lst.append(key)
                maxes[i] = key
            else:
                lst = lists[i]
                insort(lst, key)
            if len(lst) > 2 * self._LOAD:
                half = lst[self._LOAD:]
                del lst[self._LOAD:]
                maxes[i] = lst[-1]
                lists.insert(i + 1, half)
                maxes.insert(i + 1, half[-1])
        self._len += 1

    def remove(self, key: bytes) -> None:
        lists, maxes = self._lists, self._maxes
        i = bisect_left(maxes, key)
        lst = lists[i]
        j = bisect_left(lst, key)
        del lst[j]
        if not lst:
            del lists[i]
            del maxes[i]
        elif j == len(lst):
            maxes[i] = lst[-1]
        self._len -= 1

    def _pos(self, key: bytes) -> int:
        """How many keys sort before ``key``."""
        i = bisect_left(self._maxes, key)
        if i == len(self._maxes):
            return self._len
        return sum(map(len, self._lists[:i])) + bisect_left(self._lists[i], key)

    def count(self, start: bytes, end: bytes | None) -> int:
        if end is not None and end <= start:
            return 0
        return (self._len if end is None else self._pos(end)) - self._pos(start)

    def irange(self, start: bytes, end: bytes | None = None) -> Iterator[bytes]:
        """Keys ``start <= k < end`` in order (``end=None``: to the last key)."""
        lists = self._lists
        i = bisect_left(self._maxes, start)
        if i == len(lists):
            return
        lst = lists[i]
        j = bisect_left(lst, start)
        while True:
            if end is not None and lst[-1] >= end:
                yield from islice(lst, j, bisect_left(lst, end))
                return
            yield from islice(lst, j, None)
            i += 1
            if i == len(lists):
                return
            lst, j = lists[i], 0


# =====================================================================================
# Watches
# =====================================================================================

class Watch:
    """A watch on one store: events go to ``callback(event)`` through the loop, in order.

    ``last_revision`` is the revision of the last event delivered; ``cancel()`` stops it.
    If the watch cannot continue (its start revision was compacted away under it)
    ``error`` is set, it is cancelled and ``on_error(error)`` runs.
    """

    __slots__ = ("id", "key", "range_end", "start_revision", "callback", "on_error", "cancelled", "error",
                 "last_revision", "_store", "_min_rev", "_pending", "_scheduled")

    def __init__(self, store: "Store", wid: int, key: bytes, range_end: bytes | None, start_revision: int,
                 callback: Callable[[Event], Any], on_error: Callable[[EtcdError], Any] | None):
        self.id = wid
        self.key, self.range_end = key, range_end
        self.start_revision = start_revision
        self.callback, self.on_error = callback, on_error
        self.cancelled = False
        self.error: EtcdError | None = None
        self.last_revision = 0
        self._store = store
        self._min_rev = start_revision if start_revision else store.revision + 1
        self._pending: list[Event] = []
        self._scheduled = False

    @property
    def next_revision(self) -> int:
        """The revision the next event will have at least (where a resumed watch starts)."""
        return max(self._min_rev, self.last_revision + 1)

    def matches(self, key: bytes) -> bool:
        end = self.range_end
        if end is None:
            return key == self.key
        return key >= self.key and (end == b"\0" or key < end)

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            self._pending = []
            self._store._remove_watch(self)

    def _push(self, ev: Event) -> None:
        if ev.kv.mod_revision < self._min_rev:
            return
        self._pending.append(ev)
        if not self._scheduled:
            self._scheduled = True
            self._store.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        pending, self._pending = self._pending, []
        for i, ev in enumerate(pending):
            if self.cancelled:
                return
            self.last_revision = ev.kv.mod_revision
            try:
                self.callback(ev)
            except BaseException:
                # a failing callback loses nothing: the rest is delivered on the next turn
                rest = pending[i + 1:]
                if rest and not self.cancelled:
                    self._pending[:0] = rest
                    if not self._scheduled:
                        self._scheduled = True
                        self._store.loop.call_soon(self._flush)
                raise

    def _fail(self, err: EtcdError) -> None:
        self.error = err
        self.cancel()
        if self.on_error is not None:
            self._store.loop.call_soon(lambda: self.on_error(err))

    def __repr__(self) -> str:
        what = "prefix " if self.range_end is not None else ""
        state = "cancelled" if self.cancelled else f"next={self.next_revision}"
        return f"<Watch {self.id} {what}{_show(self.key)} {state}>"


# =====================================================================================
# The MVCC store
# =====================================================================================

class Store:
    """One etcd member's MVCC key-value store.

    Args:
        loop: the simulated loop watch events are delivered through (a private one if omitted).
        quota_bytes: ``--quota-backend-bytes`` (default 2 GiB).
        max_request_bytes: ``--max-request-bytes`` (default 1.5 MiB).

    Keys and values are ``bytes`` (``str`` is encoded as UTF-8). A fresh store is at
    revision 1; every write transaction that changes something adds one.

    >>> s = Store()
    >>> _ = s.put("a", "1"); _ = s.put("a", "2"); s.revision
    3
    >>> s.get("a").kvs[0].value, s.get("a", revision=2).kvs[0].value
    (b'2', b'1')
    >>> s.compact(3).header.revision
    3
    >>> s.get("a", revision=2)
    Traceback (most recent call last):
    ...
    aivle_k8s.cluster.etcd.Compacted: etcdserver: mvcc: required revision has been compacted
    """

    def __init__(self, loop: Loop | None = None, *, quota_bytes: int = DEFAULT_QUOTA_BYTES,
                 max_request_bytes: int = MAX_REQUEST_BYTES):
        self.loop = loop if loop is not None else Loop()
        self.quota_bytes = int(quota_bytes)
        self.max_request_bytes = int(max_request_bytes)
        self.member_id = ""  # set by EtcdCluster for response headers and alarms
        self.raft_term = 0
        self._key_watches: dict[bytes, list[Watch]] = {}
        self._range_watches: list[Watch] = []
        self._watch_count = 0
        self._next_watch_id = 1
        self._reset()

    def _reset(self) -> None:
        self._index: dict[bytes, list[KeyValue]] = {}  # key -> its stored revisions, oldest first
        self._live = _SortedKeys()  # keys that exist now
        self._all = _SortedKeys()  # keys with any stored revision (for reads in the past)
        self._rev = 1
        self._compact_rev = 0
        # what revision _log_base + i wrote: its KeyValue, or a tuple of them (a txn)
        self._log: list[KeyValue | tuple[KeyValue, ...]] = []
        self._log_base = 2
        self._size_in_use = _BASE_DB_SIZE
        self._size = _BASE_DB_SIZE
        self.alarms: set[str] = set()

    # -- introspection ------------------------------------------------------------------
    @property
    def revision(self) -> int:
        """The current revision (1 for an empty store)."""
        return self._rev

    @property
    def compact_revision(self) -> int:
        """The last compaction's revision (0 if never compacted)."""
        return self._compact_rev

    @property
    def db_size(self) -> int:
        """The backend file's size in bytes (shrinks only with :meth:`defrag`)."""
        return self._size

    @property
    def db_size_in_use(self) -> int:
        return self._size_in_use

    def __len__(self) -> int:
        """The number of keys that exist now."""
        return len(self._live)

    def __repr__(self) -> str:
        return f"<etcd Store rev={self._rev} keys={len(self._live)} compacted={self._compact_rev}>"

    def _header(self) -> ResponseHeader:
        return ResponseHeader(self._rev, self.member_id, self.raft_term)

    # -- the KV API ---------------------------------------------------------------------
    def put(self, key: Any, value: Any, *, prev_kv: bool = False) -> PutResponse:
        """Write ``value`` at ``key`` (a new revision; ``version`` + 1, or 1 for a new key).

        Raises:
            EmptyKey, RequestTooLarge, NoSpace.
        """
        return self._propose(Put(key, value, prev_kv=prev_kv))

    def get(self, key: Any, *, prefix: bool = False, range_end: Any = None, revision: int | None = None,
            limit: int | None = None, keys_only: bool = False, count_only: bool = False) -> RangeResponse:
        """Read a key, a prefix or ``[key, range_end)``, now or at a past ``revision``.

        ``count`` is the number of keys in the range, ``more`` is true when ``limit``
        cut the answer short. Keys come sorted.

        Raises:
            Compacted: ``revision`` is older than the last compaction.
            FutureRevision: ``revision`` is newer than the store.
        """
        return self._range(Get(key, prefix=prefix, range_end=range_end, revision=revision, limit=limit,
                               keys_only=keys_only, count_only=count_only))

    def delete(self, key: Any, *, prefix: bool = False, range_end: Any = None) -> int:
        """Delete a key (or a prefix / range); returns how many keys were deleted."""
        return self._propose(Delete(key, prefix=prefix, range_end=range_end)).deleted

    def txn(self, compare: Iterable[Compare] = (), success: Iterable = (), failure: Iterable = ()) -> TxnResponse:
        """Atomically: if every compare holds run ``success`` else ``failure`` (one revision).

        The API server's optimistic concurrency is
        ``txn([Compare.mod_revision(k) == rv], [Put(k, new)], [Get(k)])``.
        """
        return self._propose(Txn(compare, success, failure))

    def compact(self, revision: int) -> CompactResponse:
        """Forget every revision older than ``revision`` (keeping each key's state at it).

        Raises:
            Compacted: ``revision`` is not newer than the last compaction.
            FutureRevision: ``revision`` is newer than the store.
        """
        return self._propose(_Compact(int(revision)))

    def watch(self, key: Any, *, prefix: bool = False, range_end: Any = None, start_revision: int | None = None,
              callback: Callable[[Event], Any], on_error: Callable[[EtcdError], Any] | None = None) -> Watch:
        """Follow changes of a key or range, calling ``callback(event)`` for each, in order.

        With ``start_revision`` at or before the current revision, history since it is
        replayed first; a later one waits for it. Events are delivered through the loop
        (``loop.call_soon``), never inside the write that made them.

        Raises:
            Compacted: ``start_revision`` is older than the last compaction.
        """
        if not callable(callback):
            raise InvalidInput("watch needs a callback(event)")
        key = _b(key)
        end = _range_end(key, prefix, range_end)
        start = int(start_revision or 0)
        if start < 0:
            raise InvalidRequest(f"start_revision must not be negative, got {start}")
        if start and start < self._compact_rev:
            raise Compacted(self._compact_rev)
        w = Watch(self, self._next_watch_id, key, end, start, callback, on_error)
        self._next_watch_id += 1
        self._add_watch(w)
        if start and start <= self._rev:
            self._replay(w, start)
        return w

    # -- alarms and maintenance ---------------------------------------------------------
    def alarm_list(self) -> list[AlarmMember]:
        return [AlarmMember(self.member_id or "0", a) for a in sorted(self.alarms)]

    def alarm_disarm(self) -> list[AlarmMember]:
        """Clear the alarms (``etcdctl alarm disarm``); returns those that were active."""
        was = self.alarm_list()
        self._execute(_Alarm("deactivate", "NOSPACE"))
        return was

    def defrag(self) -> None:
        """Give the space freed by compaction back to the file system (``etcdctl defrag``)."""
        self._size = self._size_in_use

    # -- proposing and executing --------------------------------------------------------
    def _propose(self, op):
        try:
            self._admit(op)
        except NoSpace as e:
            if e.raise_alarm:
                self._execute(_Alarm("activate", "NOSPACE"))
            raise
        return self._execute(op)

    def _admit(self, op) -> None:
        """Refuse a write that must not be applied; raises, changes nothing."""
        t = type(op)
        if t is Put:
            if not op.key:
                raise EmptyKey()
            size = len(op.key) + len(op.value)
            if size > self.max_request_bytes:
                raise RequestTooLarge(size, self.max_request_bytes)
            self._check_space(size + _RECORD_OVERHEAD)
        elif t is Delete:
            if not op.key and op.range_end is None:
                raise EmptyKey()
        elif t is Txn:
            size = 0
            cost = 0
            for branch in (op.success, op.failure):
                put_keys: set[bytes] = set()
                deletes = []
                branch_cost = 0
                for o in branch:
                    size += len(o.key) + (len(o.value) if type(o) is Put else 0)
                    if not o.key and (type(o) is Put or o.range_end is None):
                        raise EmptyKey()
                    if type(o) is Put:
                        if o.key in put_keys:
                            raise DuplicateKey()
                        put_keys.add(o.key)
                        branch_cost += len(o.key) + len(o.value) + _RECORD_OVERHEAD
                    elif type(o) is Delete:
                        deletes.append(o)
                    elif o.revision > self._rev:  # a Get: refuse before anything is written
                        raise FutureRevision()
                    elif o.revision and o.revision < self._compact_rev:
                        raise Compacted(self._compact_rev)
                for d in deletes:
                    for k in put_keys:
                        if k == d.key or (d.range_end is not None and k >= d.key
                                          and (d.range_end == b"\0" or k < d.range_end)):
                            raise DuplicateKey()
                cost = max(cost, branch_cost)
            for c in op.compare:
                if not c.key:
                    raise EmptyKey()
                size += len(c.key) + (len(c.operand) if c.target == "value" else 0)
            if size > self.max_request_bytes:
                raise RequestTooLarge(size, self.max_request_bytes)
            if cost:
                self._check_space(cost)
        elif t is _Compact:
            if op.revision <= self._compact_rev:
                raise Compacted(self._compact_rev)
            if op.revision > self._rev:
                raise FutureRevision()

    def _check_space(self, cost: int) -> None:
        if "NOSPACE" in self.alarms:
            raise NoSpace()
        if self._size + cost >= self.quota_bytes:
            raise NoSpace(raise_alarm=True)

    def _execute(self, op):
        """Apply an admitted request (the same on every replica) and return its response."""
        t = type(op)
        if t is Put:
            rev = self._rev + 1
            events: list[Event] = []
            prev = self._do_put(op, rev, events)
            self._commit(rev, events)
            return PutResponse(self._header(), prev if op.prev_kv else None)
        if t is Delete:
            rev = self._rev + 1
            events = []
            prevs = self._do_delete(op, rev, events)
            if events:
                self._commit(rev, events)
            return DeleteResponse(self._header(), len(prevs), prevs if op.prev_kv else [])
        if t is Get:
            return self._range(op)
        if t is Txn:
            return self._do_txn(op)
        if t is _Compact:
            self._do_compact(op.revision)
            return CompactResponse(self._header())
        if t is _Alarm:
            if op.action == "activate":
                self.alarms.add(op.alarm)
            else:
                self.alarms.discard(op.alarm)
            return None
        return None  # raft no-op / membership entries change no key

    def _do_put(self, op: Put, rev: int, events: list[Event]) -> KeyValue | None:
        key = op.key
        h = self._index.get(key)
        prev = None
        if h is None:
            h = self._index[key] = []
            self._all.add(key)
        elif h[-1].version:
            prev = h[-1]
        if prev is None:
            kv = KeyValue(key, rev, rev, 1, op.value)
            self._live.add(key)
        else:
            kv = KeyValue(key, prev.create_revision, rev, prev.version + 1, op.value)
        h.append(kv)
        self._grow(len(key) + len(op.value) + _RECORD_OVERHEAD)
        events.append(Event(PUT, kv, prev))
        return prev

    def _do_delete(self, op: Delete, rev: int, events: list[Event]) -> list[KeyValue]:
        if op.range_end is None:
            h = self._index.get(op.key)
            keys = [op.key] if h and h[-1].version else []
        else:
            end = None if op.range_end == b"\0" else op.range_end
            keys = list(self._live.irange(op.key, end))
        prevs = []
        for k in keys:
            h = self._index[k]
            prev = h[-1]
            tomb = KeyValue(k, 0, rev, 0, b"")
            h.append(tomb)
            self._live.remove(k)
            self._grow(len(k) + _RECORD_OVERHEAD)
            events.append(Event(DELETE, tomb, prev))
            prevs.append(prev)
        return prevs

    def _do_txn(self, op: Txn) -> TxnResponse:
        ok = all(self._compare(c) for c in op.compare)
        rev = self._rev + 1
        events: list[Event] = []
        responses: list = []
        for o in (op.success if ok else op.failure):
            t = type(o)
            if t is Get:
                responses.append(self._range(o, header=False))
            elif t is Put:
                prev = self._do_put(o, rev, events)
                responses.append(PutResponse(None, prev if o.prev_kv else None))
            else:
                prevs = self._do_delete(o, rev, events)
                responses.append(DeleteResponse(None, len(prevs), prevs if o.prev_kv else []))
        if events:
            self._commit(rev, events)
        header = self._header()
        for r in responses:
            r.header = header
        return TxnResponse(header, ok, responses)

    def _compare(self, c: Compare) -> bool:
        h = self._index.get(c.key)
        kv = h[-1] if h and h[-1].version else None
        if kv is None:
            if c.target == "value":
                return False
            actual: Any = 0
        elif c.target == "mod":
            actual = kv.mod_revision
        elif c.target == "create":
            actual = kv.create_revision
        elif c.target == "version":
            actual = kv.version
        else:
            actual = kv.value
        op = c.op
        if op == "=":
            return actual == c.operand
        if op == "!=":
            return actual != c.operand
        if op == "<":
            return actual < c.operand
        return actual > c.operand

    def _commit(self, rev: int, events: list[Event]) -> None:
        self._rev = rev
        self._log.append(events[0].kv if len(events) == 1 else tuple(ev.kv for ev in events))
        if self._watch_count:
            self._notify(events)

    def _grow(self, cost: int) -> None:
        self._size_in_use += cost
        if self._size_in_use > self._size:
            self._size = self._size_in_use

    # -- reads ----------------------------------------------------------------------
    def _range(self, op: Get, header: bool = True) -> RangeResponse:
        key, end, rev = op.key, op.range_end, op.revision
        if not key and end is None:
            raise EmptyKey()
        if rev > self._rev:
            raise FutureRevision()
        if rev and rev < self._compact_rev:
            raise Compacted(self._compact_rev)
        limit = op.limit
        index = self._index
        if end is None:  # one key
            h = index.get(key)
            kv = None
            if h:
                if not rev or rev >= self._rev:
                    kv = h[-1]
                else:
                    i = bisect_right(h, rev, key=_MOD) - 1
                    kv = h[i] if i >= 0 else None
                if kv is not None and not kv.version:
                    kv = None
            kvs = [kv] if kv is not None else []
            count = len(kvs)
        else:
            stop = None if end == b"\0" else end
            if not rev or rev >= self._rev:
                count = self._live.count(key, stop)
                if op.count_only:
                    kvs = []
                else:
                    it = self._live.irange(key, stop)
                    keys = list(islice(it, limit)) if limit else list(it)
                    kvs = [index[k][-1] for k in keys]
            else:
                kvs = []
                count = 0
                for k in self._all.irange(key, stop):
                    h = index[k]
                    i = bisect_right(h, rev, key=_MOD) - 1
                    if i >= 0 and h[i].version:
                        count += 1
                        if not op.count_only and (not limit or len(kvs) < limit):
                            kvs.append(h[i])
        if op.count_only:
            kvs = []
        elif op.keys_only:
            kvs = [kv._replace(value=b"") for kv in kvs]
        more = bool(limit) and count > limit and not op.count_only
        return RangeResponse(self._header() if header else None, kvs, count, more)

    # -- compaction -------------------------------------------------------------------
    def _do_compact(self, rev: int) -> None:
        upto = rev - self._log_base  # log index of revision `rev` (kept)
        touched: set[bytes] = set()
        for entry in self._log[: upto + 1]:
            if type(entry) is KeyValue:
                touched.add(entry.key)
            else:
                touched.update(kv.key for kv in entry)
        freed = 0
        index = self._index
        for k in sorted(touched):
            h = index.get(k)
            if h is None:
                continue
            i = bisect_right(h, rev, key=_MOD) - 1
            if i < 0:
                continue
            drop = i + 1 if not h[i].version else i
            if drop:
                for kv in h[:drop]:
                    freed += len(kv.key) + len(kv.value) + _RECORD_OVERHEAD
                del h[:drop]
                if not h:
                    del index[k]
                    self._all.remove(k)
        if upto > 0:
            del self._log[:upto]
            self._log_base = rev
        self._compact_rev = rev
        self._size_in_use -= freed

    # -- watches ------------------------------------------------------------------------
    def _add_watch(self, w: Watch) -> None:
        if w.range_end is None:
            self._key_watches.setdefault(w.key, []).append(w)
        else:
            self._range_watches.append(w)
        self._watch_count += 1

    def _remove_watch(self, w: Watch) -> None:
        if w.range_end is None:
            ws = self._key_watches.get(w.key, [])
            if w in ws:
                ws.remove(w)
                self._watch_count -= 1
                if not ws:
                    del self._key_watches[w.key]
        elif w in self._range_watches:
            self._range_watches.remove(w)
            self._watch_count -= 1

    def _notify(self, events: list[Event]) -> None:
        key_watches, range_watches = self._key_watches, self._range_watches
        for ev in events:
            k = ev.kv.key
            ws = key_watches.get(k)
            if ws:
                for w in ws:
                    w._push(ev)
            for w in range_watches:
                end = w.range_end
                if k >= w.key and (end == b"\0" or k < end):  # type: ignore[operator]
                    w._push(ev)

    def _replay(self, w: Watch, start: int) -> None:
        first = max(start, self._log_base)
        for entry in islice(self._log, first - self._log_base, None):
            for kv in ((entry,) if type(entry) is KeyValue else entry):
                if w.matches(kv.key):
                    w._push(self._event_of(kv))

    def _event_of(self, kv: KeyValue) -> Event:
        """The event that stored ``kv``, with the key's previous revision when still kept."""
        h = self._index.get(kv.key)
        prev = None
        if h:
            i = bisect_left(h, kv.mod_revision, key=_MOD)
            if i > 0 and h[i - 1].version:
                prev = h[i - 1]
        return Event(PUT if kv.version else DELETE, kv, prev)

    @property
    def watches(self) -> list[Watch]:
        """The active watches, oldest first."""
        ws = [w for lst in self._key_watches.values() for w in lst] + self._range_watches
        return sorted(ws, key=lambda w: w.id)

    # -- snapshots ------------------------------------------------------------------------
    def snapshot_bytes(self) -> bytes:
        """The whole store (every stored revision) as a self-checking snapshot."""
        return _encode_snapshot(self)

    def snapshot_save(self, target: Any) -> "SnapshotStatus":
        """Write a snapshot to a path or a binary file object (``etcdctl snapshot save``).

        Returns the snapshot's :class:`SnapshotStatus`.
        """
        data = self.snapshot_bytes()
        if isinstance(target, (str, os.PathLike)):
            with open(target, "wb") as f:
                f.write(data)
        elif hasattr(target, "write"):
            target.write(data)
        else:
            raise InvalidInput(f"snapshot_save needs a path or a binary file object, got {type(target).__name__}")
        return _status_of(data)

    @classmethod
    def snapshot_restore(cls, source: Any, loop: Loop | None = None, **kwargs: Any) -> "Store":
        """A new store holding a snapshot's data (``etcdutl snapshot restore``).

        ``source`` is snapshot bytes, a path or a binary file object.

        Raises:
            SnapshotCorrupt: the file was damaged or is not an etcd snapshot.
        """
        store = cls(loop, **kwargs)
        store._load(_read_source(source))
        return store

    def _load(self, data: bytes) -> None:
        state = _decode_snapshot(data)
        self._reset()
        self._install(*state)

    def _install(self, rev: int, compact_rev: int, log_base: int,
                 index: dict[bytes, list[KeyValue]], log: list) -> None:
        self._index = index
        self._all = _SortedKeys(index)
        self._live = _SortedKeys(k for k, h in index.items() if h[-1].version)
        self._rev, self._compact_rev, self._log_base, self._log = rev, compact_rev, log_base, log
        used = _BASE_DB_SIZE
        for h in index.values():
            for kv in h:
                used += len(kv.key) + len(kv.value) + _RECORD_OVERHEAD
        self._size_in_use = used
        self._size = max(self._size, used)

    def _clone_from(self, other: "Store") -> None:
        """Become a copy of ``other`` (a snapshot sent by the leader); watches resume."""
        index = {k: list(h) for k, h in other._index.items()}
        self._install(other._rev, other._compact_rev, other._log_base, index, list(other._log))
        self.alarms = set(other.alarms)
        for w in self.watches:
            nxt = w.next_revision
            w._pending = []
            if nxt < self._compact_rev:
                w._fail(Compacted(self._compact_rev))
            elif nxt <= self._rev:
                self._replay(w, nxt)


# =====================================================================================
# Snapshot files
# =====================================================================================

_MAGIC = b"aivle-etcd-snapshot/1\n"
_HEAD = struct.Struct(">QQQQQ")  # revision, compact revision, log base, base records, log events
_REC = struct.Struct(">IQQQI")  # key length, create, mod, version, value length


class SnapshotStatus(NamedTuple):
    """What ``etcdctl snapshot status`` prints: hash, revision, total keys, total size."""

    hash: str
    revision: int
    total_keys: int
    total_size: int

    def __str__(self) -> str:
        return f"{self.hash}, {self.revision}, {self.total_keys}, {_human_bytes(self.total_size)}"

    def table(self) -> str:
        """The ``-w table`` rendering."""
        return _table(["HASH", "REVISION", "TOTAL KEYS", "TOTAL SIZE"],
                      [[self.hash, str(self.revision), str(self.total_keys), _human_bytes(self.total_size)]],
                      right=(1, 2))

    def __repr__(self) -> str:
        return f"<SnapshotStatus {self.hash} rev={self.revision} keys={self.total_keys} {_human_bytes(self.total_size)}>"


def _encode_snapshot(store: Store) -> bytes:
    parts = [_MAGIC, b""]
    rec = _REC.pack
    base = 0
    for k in store._all:  # sorted: deterministic
        for kv in store._index[k]:
            if kv.mod_revision >= store._log_base:
                break
            parts.append(rec(len(k), kv.create_revision, kv.mod_revision, kv.version, len(kv.value)))
            parts.append(k)
            parts.append(kv.value)
            base += 1
    events = 0
    for entry in store._log:
        for kv in ((entry,) if type(entry) is KeyValue else entry):
            parts.append(rec(len(kv.key), kv.create_revision, kv.mod_revision, kv.version, len(kv.value)))
            parts.append(kv.key)
            parts.append(kv.value)
            events += 1
    parts[1] = _HEAD.pack(store._rev, store._compact_rev, store._log_base, base, events)
    body = b"".join(parts)
    return body + hashlib.sha256(body).digest()


def _check_snapshot(data: bytes) -> bytes:
    if len(data) < len(_MAGIC) + _HEAD.size + 32 or not data.startswith(_MAGIC):
        raise SnapshotCorrupt("not an etcd snapshot: unknown file header")
    body, trailer = data[:-32], data[-32:]
    actual = hashlib.sha256(body).digest()
    if actual != trailer:
        raise SnapshotCorrupt(f"expected sha256 {trailer.hex()}, got {actual.hex()}")
    return body


def _decode_snapshot(data: bytes):
    body = _check_snapshot(data)
    try:
        pos = len(_MAGIC)
        rev, compact_rev, log_base, nbase, nevents = _HEAD.unpack_from(body, pos)
        pos += _HEAD.size
        index: dict[bytes, list[KeyValue]] = {}
        unpack, size = _REC.unpack_from, _REC.size

        def record() -> KeyValue:
            nonlocal pos
            klen, create, mod, version, vlen = unpack(body, pos)
            pos += size
            key = body[pos:pos + klen]
            pos += klen
            value = body[pos:pos + vlen]
            pos += vlen
            return KeyValue(key, create, mod, version, value)

        for _ in range(nbase):
            kv = record()
            index.setdefault(kv.key, []).append(kv)
        log: list[KeyValue | tuple[KeyValue, ...]] = []
        entry: list[KeyValue] = []

        def close() -> None:
            log.append(entry[0] if len(entry) == 1 else tuple(entry))
            entry.clear()

        for _ in range(nevents):
            kv = record()
            index.setdefault(kv.key, []).append(kv)
            if entry and kv.mod_revision != entry[0].mod_revision:
                close()
            entry.append(kv)
        if entry:
            close()
        if pos != len(body) or log_base + len(log) != rev + 1:
            raise ValueError("inconsistent record counts")
        for k in [k for k, h in index.items() if not h]:
            del index[k]
        return rev, compact_rev, log_base, index, log
    except (struct.error, ValueError) as e:
        raise SnapshotCorrupt(f"malformed snapshot: {e}") from None


def _read_source(source: Any) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb") as f:
                return f.read()
        except FileNotFoundError:
            raise NotFound(f"open {os.fspath(source)}: no such file or directory") from None
    if hasattr(source, "read"):
        return source.read()
    raise InvalidInput(f"a snapshot is bytes, a path or a binary file object, got {type(source).__name__}")


def _status_of(data: bytes) -> SnapshotStatus:
    body = _check_snapshot(data)
    rev, _compact, _base, nbase, nevents = _HEAD.unpack_from(body, len(_MAGIC))
    return SnapshotStatus(format(zlib.crc32(body), "x"), rev, nbase + nevents, len(data))


def snapshot_status(source: Any) -> SnapshotStatus:
    """Check a snapshot and describe it (``etcdutl snapshot status``).

    ``total_keys`` counts stored revisions, as etcd's key bucket does.

    Raises:
        SnapshotCorrupt: the file was damaged or is not an etcd snapshot.
    """
    return _status_of(_read_source(source))


def _human_bytes(n: int) -> str:
    """go-humanize ``Bytes``: SI units, as etcdctl prints sizes (``25 kB``, ``2.1 MB``)."""
    if n < 10:
        return f"{n} B"
    e = 0
    while n >= 1000 ** (e + 1) and e < 6:
        e += 1
    val = int(n / 1000 ** e * 10 + 0.5) / 10
    suffix = ["B", "kB", "MB", "GB", "TB", "PB", "EB"][e]
    return f"{val:.0f} {suffix}" if val >= 10 else f"{val:.1f} {suffix}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """A tablewriter table like etcdctl's ``-w table``."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [line, "|" + "|".join(f" {h.center(w)} " for h, w in zip(headers, widths)) + "|", line]
    for r in rows:
        cells = [f" {c.rjust(w) if i in right else c.ljust(w)} " for i, (c, w) in enumerate(zip(r, widths))]
        out.append("|" + "|".join(cells) + "|")
    out.append(line)
    return "\n".join(out)


# =====================================================================================
# The replicated cluster
# =====================================================================================

FOLLOWER, PRE_CANDIDATE, CANDIDATE, LEADER = "follower", "pre-candidate", "candidate", "leader"


class Member:
    """One etcd member: its Raft state and its own :class:`Store` replica."""

    __slots__ = ("name", "id", "ip", "store", "up", "role", "term", "voted_for", "leader", "applied",
                 "elapsed", "timeout_ticks", "recent_active", "journal", "group")

    def __init__(self, name: str, mid: int, ip: str, store: Store):
        self.name, self.id, self.ip, self.store = name, mid, ip, store
        self.up = True
        self.role = FOLLOWER
        self.term = 1
        self.voted_for: str | None = None
        self.leader: str | None = None
        self.applied = 0  # raft index applied to the store (== committed: entries exist only once committed)
        self.elapsed = 0
        self.timeout_ticks = 10
        self.recent_active: set[str] = set()
        self.journal: deque[tuple[float, str]] = deque(maxlen=500)
        self.group = 0

    @property
    def id_hex(self) -> str:
        return format(self.id, "x")

    @property
    def peer_url(self) -> str:
        return f"https://{self.ip}:2380"

    @property
    def client_url(self) -> str:
        return f"https://{self.ip}:2379"

    def __repr__(self) -> str:
        state = self.role if self.up else "stopped"
        return f"<Member {self.name} {state} term={self.term} index={self.applied}>"


class MemberInfo(NamedTuple):
    """One row of ``etcdctl member list``."""

    id: str
    status: str
    name: str
    peer_urls: str
    client_urls: str
    is_learner: bool

    def __str__(self) -> str:
        return f"{self.id}, {self.status}, {self.name}, {self.peer_urls}, {self.client_urls}, {str(self.is_learner).lower()}"


class EndpointStatus(NamedTuple):
    """One row of ``etcdctl endpoint status``; ``error`` is set (and the rest empty) for a dead endpoint."""

    endpoint: str
    id: str = ""
    version: str = ""
    db_size: int = 0
    db_size_in_use: int = 0
    is_leader: bool = False
    is_learner: bool = False
    raft_term: int = 0
    raft_index: int = 0
    raft_applied_index: int = 0
    errors: tuple[str, ...] = ()
    error: str = ""

    def __str__(self) -> str:
        if self.error:
            return f"Failed to get the status of endpoint {self.endpoint} ({self.error})"
        return (f"{self.endpoint}, {self.id}, {self.version}, {_human_bytes(self.db_size)}, "
                f"{str(self.is_leader).lower()}, {str(self.is_learner).lower()}, {self.raft_term}, "
                f"{self.raft_index}, {self.raft_applied_index}, {', '.join(self.errors)}")

    def __repr__(self) -> str:
        if self.error:
            return f"<EndpointStatus {self.endpoint} error={self.error!r}>"
        return (f"<EndpointStatus {self.endpoint} {'leader' if self.is_leader else 'follower'} "
                f"term={self.raft_term} index={self.raft_index}>")


class EndpointHealth(NamedTuple):
    """One line of ``etcdctl endpoint health``."""

    endpoint: str
    health: bool
    took: float = 0.0
    error: str = ""

    def __str__(self) -> str:
        if self.health:
            took = f"{self.took * 1000:.6f}".rstrip("0").rstrip(".")  # Go's Duration.String
            return f"{self.endpoint} is healthy: successfully committed proposal: took = {took}ms"
        return f"{self.endpoint} is unhealthy: failed to commit proposal: {self.error}"


class ClusterWatch:
    """A watch through the cluster: like clientv3, it moves to another member when its
    member stops, resuming after the last revision it delivered (nothing lost, nothing twice)."""

    __slots__ = ("id", "key", "range_end", "callback", "on_error", "cancelled", "error", "last_revision",
                 "member", "_cluster", "_inner", "_next")

    def __init__(self, cluster: "EtcdCluster", wid: int, key: bytes, range_end: bytes | None,
                 callback: Callable[[Event], Any], on_error: Callable[[EtcdError], Any] | None):
        self.id, self.key, self.range_end = wid, key, range_end
        self.callback, self.on_error = callback, on_error
        self.cancelled = False
        self.error: EtcdError | None = None
        self.last_revision = 0
        self.member: str | None = None
        self._cluster = cluster
        self._inner: Watch | None = None
        self._next = 0

    def _deliver(self, ev: Event) -> None:
        self.last_revision = ev.kv.mod_revision
        self._next = self.last_revision + 1
        self.callback(ev)

    def _fail(self, err: EtcdError) -> None:
        if self.cancelled:
            return
        self.error = err
        self.cancel()
        if self.on_error is not None:
            self.on_error(err)

    def _detach(self) -> None:
        if self._inner is not None:
            self._next = self._inner.next_revision
            self._inner.cancel()
            self._inner = None
            self.member = None

    def _attach(self, m: Member) -> None:
        try:
            self._inner = m.store.watch(self.key, range_end=self.range_end, start_revision=self._next,
                                        callback=self._deliver, on_error=self._fail)
        except Compacted as e:
            self._fail(e)
            return
        self.member = m.name

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            self._detach()
            self._cluster._watches.remove(self)

    def __repr__(self) -> str:
        state = "cancelled" if self.cancelled else f"on {self.member or 'no member'}"
        return f"<ClusterWatch {self.id} {_show(self.key)} {state}>"


class EtcdCluster:
    """etcd members replicating one Raft log; each member keeps its own :class:`Store`.

    Args:
        loop: the simulated loop (elections and heartbeats are timers on it).
        members: member names (``["etcd-0"]`` for kubeadm's stacked etcd, or 3 or 5),
            or a ``{name: ip}`` mapping for the peer and client URLs.
        rng: a seeded ``random.Random``; member IDs and election timeouts come from it.
        heartbeat_interval: ``--heartbeat-interval`` in seconds (0.1).
        election_timeout: ``--election-timeout`` in seconds (1.0); each member waits a
            random whole number of heartbeats in ``[timeout, 2 x timeout)`` before campaigning.
        snapshot: restore every member from these snapshot bytes / path first.
        quota_bytes, max_request_bytes: per-member store limits.

    Writes are committed when a majority of members has them and are then applied
    in log order on every reachable member, so replicas stay identical; a member that
    was stopped or cut off catches up from the leader's log (or a snapshot when the
    log was compacted past it). Members begin with no leader: the first election
    takes one to two simulated seconds.

    >>> loop = Loop()
    >>> etcd = EtcdCluster(loop, ["etcd-0", "etcd-1", "etcd-2"], random.Random(0))
    >>> loop.run_until(lambda: etcd.leader is not None, timeout=10)
    True
    >>> etcd.put("/registry/ns/default", "{}").header.revision
    2
    >>> etcd.stop(etcd.leader); loop.advance(3)
    >>> etcd.get("/registry/ns/default").count
    1
    """

    def __init__(self, loop: Loop, members: Sequence[str] | dict[str, str] = ("etcd-0",),
                 rng: random.Random | None = None, *, heartbeat_interval: float = 0.1,
                 election_timeout: float = 1.0, snapshot: Any = None,
                 quota_bytes: int = DEFAULT_QUOTA_BYTES, max_request_bytes: int = MAX_REQUEST_BYTES,
                 snapshot_count: int = 10000, catchup_entries: int = 5000):
        if isinstance(members, str):
            members = [members]
        ips = dict(members) if isinstance(members, dict) else {}
        names = list(members)
        if not names:
            raise InvalidInput("an etcd cluster needs at least one member")
        if len(set(names)) != len(names):
            raise InvalidInput(f"member names must be unique, got {names}")
        if heartbeat_interval <= 0 or election_timeout < 5 * heartbeat_interval:
            raise InvalidInput(f"--election-timeout[{election_timeout * 1000:g}ms] should be at least as 5 times "
                               f"as --heartbeat-interval[{heartbeat_interval * 1000:g}ms]")
        self.loop = loop
        self.heartbeat_interval = float(heartbeat_interval)
        self.election_timeout = float(election_timeout)
        self._election_ticks = max(1, round(election_timeout / heartbeat_interval))
        self.snapshot_count, self.catchup_entries = int(snapshot_count), int(catchup_entries)
        self._rng = random.Random((rng if rng is not None else random.Random(0)).getrandbits(64))
        self.cluster_id = format(self._rng.getrandbits(64), "x")
        data = _read_source(snapshot) if snapshot is not None else None
        if data is not None:
            _check_snapshot(data)
        self.members: dict[str, Member] = {}
        for i, name in enumerate(names):
            ip = ips.get(name) or ("127.0.0.1" if len(names) == 1 else f"10.0.0.{10 + i}")
            store = Store(loop, quota_bytes=quota_bytes, max_request_bytes=max_request_bytes)
            if data is not None:
                store._load(data)
            m = Member(name, self._rng.getrandbits(64), ip, store)
            store.member_id = m.id_hex
            store.raft_term = m.term
            self.members[name] = m
        self._order = list(self.members.values())
        # the bootstrap log: one membership entry per member at term 1, applied everywhere
        self._log: list[tuple[int, Any]] = [(1, _Conf(name)) for name in names]
        self._log_offset = 0
        self._term_first = [1]
        self._term_of = [1]
        for m in self._order:
            m.applied = len(names)
            m.timeout_ticks = self._random_timeout()
            self._note(m, f"{m.id_hex} became follower at term {m.term}")
        self._watches: list[ClusterWatch] = []
        self._next_watch_id = 1
        self._tick_timer = None
        self._unsettle()

    # -- membership view ----------------------------------------------------------------
    @property
    def quorum(self) -> int:
        return len(self._order) // 2 + 1

    @property
    def leader(self) -> str | None:
        """The member acting as leader with a reachable majority, or None."""
        best = self._acting_leader(None)
        return best.name if best else None

    def _acting_leader(self, near: Member | None) -> Member | None:
        """The newest-term leader that reaches a majority (and ``near``, if given)."""
        best = None
        for m in self._order:
            if m.up and m.role == LEADER and self._reach_count(m) >= self.quorum \
                    and (near is None or self._reach(m, near)):
                if best is None or m.term > best.term:
                    best = m
        if best is not None and any(v.term > best.term for v in self._order if self._reach(best, v)):
            return None
        return best

    @property
    def term(self) -> int:
        return max(m.term for m in self._order)

    @property
    def revision(self) -> int:
        """The revision of the most up-to-date member."""
        return max(m.store.revision for m in self._order)

    def member(self, name: str) -> Member:
        for m in self._order:
            if name in (m.name, m.ip, m.client_url, f"{m.ip}:2379", m.id_hex):
                return m
        raise NotFound(f'etcd member "{name}" not found (members: {", ".join(self.members)})')

    def __repr__(self) -> str:
        return f"<EtcdCluster {len(self._order)} members leader={self.leader} term={self.term}>"

    def member_list(self) -> list[MemberInfo]:
        """``etcdctl member list``: every member, running or not (status ``started``)."""
        return [MemberInfo(m.id_hex, "started", m.name, m.peer_url, m.client_url, False) for m in self._order]

    def endpoint_status(self) -> list[EndpointStatus]:
        """``etcdctl endpoint status --cluster``: each member's own view."""
        rows = []
        for m in self._order:
            if not m.up:
                rows.append(EndpointStatus(m.client_url, error="context deadline exceeded"))
                continue
            errors = tuple(str(a) for a in m.store.alarm_list())
            rows.append(EndpointStatus(m.client_url, m.id_hex, ETCD_VERSION, m.store.db_size,
                                       m.store.db_size_in_use, m.role == LEADER, False, m.term,
                                       m.applied, m.applied, errors))
        return rows

    def endpoint_health(self) -> list[EndpointHealth]:
        """``etcdctl endpoint health --cluster``: healthy when a linearizable read succeeds
        through the member and no alarm is raised."""
        rows = []
        for m in self._order:
            try:
                self.get("health", endpoint=m.name)
            except Unavailable:
                rows.append(EndpointHealth(m.client_url, False, error="context deadline exceeded"))
                continue
            if m.store.alarms:
                alarms = ", ".join(f"{a}" for a in sorted(m.store.alarms))
                rows.append(EndpointHealth(m.client_url, False, error=f"Active Alarm(s): {alarms}"))
                continue
            rows.append(EndpointHealth(m.client_url, True, took=0.002))
        return rows

    def journal(self, name: str) -> list[str]:
        """What the member logged about Raft (elections, leaders, snapshots), oldest first."""
        return [f"{t:.1f}s {msg}" for t, msg in self.member(name).journal]

    # -- faults -------------------------------------------------------------------------
    def stop(self, name: str) -> None:
        """Stop a member (its data stays on disk; :meth:`start` brings it back)."""
        m = self.member(name)
        if not m.up:
            return
        m.up = False
        m.role, m.leader = FOLLOWER, None
        self._note(m, "stopped")
        for w in list(self._watches):
            if w.member == m.name:
                w._detach()
                self._attach_watch(w)
        self._unsettle()

    def start(self, name: str) -> None:
        """Start a stopped member; it rejoins as a follower and catches up."""
        m = self.member(name)
        if m.up:
            return
        m.up = True
        m.role, m.leader, m.elapsed = FOLLOWER, None, 0
        m.timeout_ticks = self._random_timeout()
        self._note(m, f"{m.id_hex} became follower at term {m.term}")
        for w in list(self._watches):
            if w.member is None and not w.cancelled:
                self._attach_watch(w)
        self._unsettle()

    def partition(self, *groups: str | Sequence[str]) -> None:
        """Cut the network: each group (a name or a list of names) can only talk inside
        itself; members not named stay together. ``partition("etcd-0")`` isolates etcd-0."""
        islands = [[self.member(n) for n in ([g] if isinstance(g, str) else g)] for g in groups]
        for m in self._order:
            m.group = 0
        for i, island in enumerate(islands, start=1):
            for m in island:
                m.group = i
        self._unsettle()

    def heal(self) -> None:
        """Remove every network partition."""
        self.partition()

    def _reach(self, a: Member, b: Member) -> bool:
        return a.up and b.up and a.group == b.group

    def _reach_count(self, m: Member) -> int:
        return sum(1 for v in self._order if self._reach(m, v))

    # -- the client API -----------------------------------------------------------------
    def put(self, key: Any, value: Any, *, prev_kv: bool = False, endpoint: str | None = None,
            require_leader: bool = False) -> PutResponse:
        """Write through ``endpoint`` (default: the first running member), committed by a majority.

        Raises:
            RequestTimedOut: no majority can commit it (``NoLeader`` with ``require_leader``
                when the member knows no leader); nothing changes.
            EndpointDown: the member asked is stopped.
        """
        return self._propose(Put(key, value, prev_kv=prev_kv), endpoint, require_leader)

    def delete(self, key: Any, *, prefix: bool = False, range_end: Any = None, endpoint: str | None = None,
               require_leader: bool = False) -> int:
        return self._propose(Delete(key, prefix=prefix, range_end=range_end), endpoint, require_leader).deleted

    def txn(self, compare: Iterable[Compare] = (), success: Iterable = (), failure: Iterable = (), *,
            endpoint: str | None = None, require_leader: bool = False) -> TxnResponse:
        return self._propose(Txn(compare, success, failure), endpoint, require_leader)

    def compact(self, revision: int, *, endpoint: str | None = None) -> CompactResponse:
        return self._propose(_Compact(int(revision)), endpoint, False)

    def get(self, key: Any, *, prefix: bool = False, range_end: Any = None, revision: int | None = None,
            limit: int | None = None, keys_only: bool = False, count_only: bool = False,
            serializable: bool = False, endpoint: str | None = None, require_leader: bool = False) -> RangeResponse:
        """Read through ``endpoint``. Linearizable by default (needs a leader with a majority);
        ``serializable=True`` answers from the member's own replica, possibly stale."""
        op = Get(key, prefix=prefix, range_end=range_end, revision=revision, limit=limit,
                 keys_only=keys_only, count_only=count_only)
        m = self._endpoint(endpoint)
        if not serializable:
            leader, reach = self._serving_leader(m, require_leader)
            if m.applied < leader.applied:
                self._send_append(leader, m)
        return m.store._range(op)

    def watch(self, key: Any, *, prefix: bool = False, range_end: Any = None, start_revision: int | None = None,
              callback: Callable[[Event], Any], on_error: Callable[[EtcdError], Any] | None = None,
              endpoint: str | None = None) -> ClusterWatch:
        """Watch through a member; if it stops, the watch resumes on another one."""
        if not callable(callback):
            raise InvalidInput("watch needs a callback(event)")
        m = self._endpoint(endpoint)
        key = _b(key)
        end = _range_end(key, prefix, range_end)
        start = int(start_revision or 0)
        if start and start < m.store.compact_revision:
            raise Compacted(m.store.compact_revision)
        w = ClusterWatch(self, self._next_watch_id, key, end, callback, on_error)
        self._next_watch_id += 1
        w._next = start or m.store.revision + 1
        self._watches.append(w)
        w._attach(m)
        return w

    def snapshot_save(self, target: Any, *, endpoint: str | None = None) -> SnapshotStatus:
        """``etcdctl snapshot save``: the snapshot of one member's store."""
        return self._endpoint(endpoint).store.snapshot_save(target)

    def alarm_list(self) -> list[AlarmMember]:
        m = self._endpoint(None)
        return m.store.alarm_list()

    def alarm_disarm(self, *, endpoint: str | None = None) -> list[AlarmMember]:
        was = self.alarm_list()
        self._propose(_Alarm("deactivate", "NOSPACE"), endpoint, False)
        return was

    def defrag(self, *, endpoint: str | None = None, cluster: bool = True) -> None:
        """``etcdctl defrag [--cluster]``: each running member frees its compacted space."""
        targets = [m for m in self._order if m.up] if cluster and endpoint is None else [self._endpoint(endpoint)]
        for m in targets:
            m.store.defrag()

    # -- request path ---------------------------------------------------------------------
    def _endpoint(self, endpoint: str | None) -> Member:
        if endpoint is None:
            for m in self._order:
                if m.up:
                    return m
            raise EndpointDown(f"{self._order[0].ip}:2379")
        m = self.member(endpoint)
        if not m.up:
            raise EndpointDown(f"{m.ip}:2379")
        return m

    def _serving_leader(self, m: Member, require_leader: bool) -> tuple[Member, list[Member]]:
        """The leader ``m`` forwards to, if it can commit (reach a majority); else raise."""
        leader = self.members[m.leader] if m.leader is not None else None
        if leader is None or leader.role != LEADER or not self._reach(m, leader):
            # the request waits for a heartbeat: it goes through if a leader holding a
            # majority reaches this member before the request times out
            leader = self._acting_leader(m)
            if leader is None:
                if require_leader and m.leader is None:
                    raise NoLeader()
                raise RequestTimedOut(self._request_timeout)
            self._send_append(leader, m)
        reach = [v for v in self._order if self._reach(leader, v)]
        newer = max(v.term for v in reach)
        if newer > leader.term:  # a newer leader exists: this one learns it and steps down
            self._become_follower(leader, newer, None)
            self._unsettle()
            raise RequestTimedOut(self._request_timeout)
        if len(reach) < self.quorum:
            raise RequestTimedOut(self._request_timeout)
        return leader, reach

    @property
    def _request_timeout(self) -> float:
        return 5.0 + 2 * self.election_timeout

    def _propose(self, op, endpoint: str | None, require_leader: bool):
        m = self._endpoint(endpoint)
        leader, reach = self._serving_leader(m, require_leader)
        try:
            leader.store._admit(op)
        except NoSpace as e:
            if e.raise_alarm:
                self._replicate(leader, reach, _Alarm("activate", "NOSPACE"))
            raise
        return self._replicate(leader, reach, op)

    def _replicate(self, leader: Member, reach: list[Member], op):
        """Append to the log, apply on the leader, send to the reachable followers (a majority)."""
        if leader.applied < self._last_index:  # cannot happen for an elected leader; stay safe
            self._catch_up(leader, self._last_index, leader)
        self._append(leader.term, op)
        resp = leader.store._execute(op)
        leader.applied = self._last_index
        for f in reach:
            if f is not leader:
                self._send_append(leader, f)
        return resp

    # -- the log ------------------------------------------------------------------------
    @property
    def _last_index(self) -> int:
        return self._log_offset + len(self._log)

    def _term_at(self, index: int) -> int:
        if index <= 0:
            return 0
        return self._term_of[bisect_right(self._term_first, index) - 1]

    def _append(self, term: int, op) -> None:
        index = self._last_index + 1
        if term != self._term_of[-1]:
            self._term_first.append(index)
            self._term_of.append(term)
        self._log.append((term, op))
        if len(self._log) > self.snapshot_count + self.catchup_entries:
            drop = len(self._log) - self.catchup_entries
            del self._log[:drop]
            self._log_offset += drop

    def _apply(self, m: Member, op) -> None:
        if op is None or type(op) is _Conf:
            return
        try:
            m.store._execute(op)
        except EtcdError:  # admitted on the leader, so the same everywhere; keep replicas going
            pass

    def _catch_up(self, f: Member, target: int, leader: Member) -> None:
        if f.applied >= target:
            return
        if f.applied < self._log_offset:  # the entries it needs are gone: send a snapshot
            f.store._clone_from(leader.store)
            f.applied = leader.applied
            self._note(f, f"applied incoming snapshot from {leader.id_hex} at index {f.applied}")
            return
        base = self._log_offset + 1
        for index in range(f.applied + 1, target + 1):
            self._apply(f, self._log[index - base][1])
        f.applied = target

    # -- raft -------------------------------------------------------------------------
    def _random_timeout(self) -> int:
        return self._election_ticks + self._rng.randrange(self._election_ticks)

    def _note(self, m: Member, message: str) -> None:
        m.journal.append((self.loop.now, message))

    def _set_term(self, m: Member, term: int) -> None:
        if term != m.term:
            m.term = term
            m.voted_for = None
            m.store.raft_term = term

    def _become_follower(self, m: Member, term: int, leader: str | None) -> None:
        if term > m.term or m.role != FOLLOWER:
            self._set_term(m, term)
            m.role = FOLLOWER
            self._note(m, f"{m.id_hex} became follower at term {term}")
        if m.leader != leader:
            if leader is not None:
                self._note(m, f"raft.node: {m.id_hex} elected leader {self.members[leader].id_hex} at term {term}")
            elif m.leader is not None:
                self._note(m, f"raft.node: {m.id_hex} lost leader {self.members[m.leader].id_hex} at term {term}")
            m.leader = leader

    def _send_append(self, leader: Member, f: Member) -> None:
        """AppendEntries / heartbeat from ``leader`` to a reachable follower ``f``."""
        if f.term > leader.term:
            return
        if f.term < leader.term or f.role != FOLLOWER or f.leader != leader.name:
            self._become_follower(f, leader.term, leader.name)
        f.elapsed = 0
        leader.recent_active.add(f.name)
        if f.applied < leader.applied:
            self._catch_up(f, leader.applied, leader)

    def _in_lease(self, v: Member) -> bool:
        return v.leader is not None and v.elapsed < self._election_ticks

    def _up_to_date(self, c: Member, v: Member) -> bool:
        return (self._term_at(c.applied), c.applied) >= (self._term_at(v.applied), v.applied)

    def _campaign(self, c: Member) -> None:
        c.elapsed = 0
        c.timeout_ticks = self._random_timeout()
        voters = [v for v in self._order if self._reach(c, v)]
        # pre-vote: would a majority vote for us at term + 1? (does not disturb anyone)
        if c.leader is not None:
            self._note(c, f"raft.node: {c.id_hex} lost leader {self.members[c.leader].id_hex} at term {c.term}")
        c.leader = None
        if c.role != PRE_CANDIDATE:
            self._note(c, f"{c.id_hex} is starting a new election at term {c.term}")
            self._note(c, f"{c.id_hex} became pre-candidate at term {c.term}")
        c.role = PRE_CANDIDATE
        granted = sum(1 for v in voters
                      if v is c or (not self._in_lease(v) and c.term + 1 > v.term and self._up_to_date(c, v)))
        if granted < self.quorum:
            return
        # the real election
        self._set_term(c, c.term + 1)
        c.role = CANDIDATE
        c.voted_for = c.name
        self._note(c, f"{c.id_hex} became candidate at term {c.term}")
        votes = 1
        for v in voters:
            if v is c or self._in_lease(v):
                continue
            if c.term > v.term:
                self._become_follower(v, c.term, None)
            if v.voted_for in (None, c.name) and self._up_to_date(c, v):
                v.voted_for = c.name
                v.elapsed = 0
                votes += 1
        if votes >= self.quorum:
            self._become_leader(c, voters)

    def _become_leader(self, c: Member, voters: list[Member]) -> None:
        c.role = LEADER
        c.leader = c.name
        c.elapsed = 0
        c.recent_active = set()
        self._note(c, f"{c.id_hex} became leader at term {c.term}")
        self._note(c, f"raft.node: {c.id_hex} elected leader {c.id_hex} at term {c.term}")
        self._replicate(c, voters, None)  # the empty entry a new leader commits first

    def _tick(self) -> None:
        for m in self._order:
            if m.up and m.role == LEADER:
                self._leader_tick(m)
        for m in self._order:
            if m.up and m.role != LEADER:
                m.elapsed += 1
                if m.elapsed >= m.timeout_ticks:
                    self._campaign(m)
        if self._settled():
            self._tick_timer.cancel()
            self._tick_timer = None

    def _leader_tick(self, leader: Member) -> None:
        for f in self._order:
            if f is not leader and self._reach(leader, f):
                if f.term > leader.term:
                    self._become_follower(leader, f.term, None)
                    return
                self._send_append(leader, f)
        leader.elapsed += 1
        if leader.elapsed >= self._election_ticks:  # check quorum
            leader.elapsed = 0
            if len(leader.recent_active) + 1 < self.quorum:
                self._note(leader, f"{leader.id_hex} stepped down to follower since quorum is not active")
                self._become_follower(leader, leader.term, None)
            leader.recent_active = set()

    def _settled(self) -> bool:
        """A leader holds a majority and every running member follows it, caught up:
        heartbeats would change nothing, so the tick timer can rest."""
        up = [m for m in self._order if m.up]
        leaders = [m for m in up if m.role == LEADER]
        if len(leaders) != 1 or len(up) < self.quorum:
            return False
        leader = leaders[0]
        return all(m is leader or (self._reach(leader, m) and m.leader == leader.name and m.term == leader.term
                                   and m.role == FOLLOWER and m.applied == leader.applied) for m in up)

    def _unsettle(self) -> None:
        """Something changed (a member stopped, started, a partition): tick again."""
        if self._tick_timer is not None:
            return
        for m in self._order:  # the heartbeats that flowed while resting
            if m.up and m.role == LEADER:
                m.elapsed = 0
                m.recent_active = {f.name for f in self._order if f is not m and f.leader == m.name}
            elif m.up and m.leader is not None:
                m.elapsed = 0
        self._tick_timer = self.loop.call_every(self.heartbeat_interval, self._tick)

    def _attach_watch(self, w: ClusterWatch) -> None:
        for m in self._order:
            if m.up:
                w._attach(m)
                return
