"""Watches: ADDED / MODIFIED / DELETED events for one resource, through the loop, in order.

One etcd watch per resource feeds every client watch of that resource (the
real watch cache's job); pod watches selecting ``spec.nodeName=<node>`` (what
each kubelet opens) are indexed by node so 5,000 kubelets do not each look at
every pod event. A watch resuming from an older ``resourceVersion`` replays
etcd's history on its own etcd watch. Label and field selectors follow the
real rules: an object that stops matching arrives as DELETED, one that starts
matching as ADDED.

A watch that cannot go on (its history was compacted away, or etcd gave up)
receives an ``ERROR`` event whose object is a ``Status`` (``410 Expired``) and
then ``on_close(error)``; when the API server stops, ``on_close`` gets the
connection error.
"""

from __future__ import annotations

from typing import Any, Callable

from ..etcd import Compacted
from .errors import GoneError, StorageError
from .selectors import FieldSelector, LabelSelector, field_matcher
from .storage import decode

__all__ = ["Watch", "Dispatcher"]


class Watch:
    """A client's watch (what ``APIServer.watch`` returns); ``stop()`` ends it.

    ``resource_version`` is the resourceVersion of the last event delivered
    (where a new watch would resume); ``stopped`` tells whether it ended.
    """

    __slots__ = ("resource", "namespace", "label_selector", "field_selector", "callback", "on_close",
                 "resource_version", "stopped", "error", "_loop", "_min_rev", "_queue", "_scheduled",
                 "_dispatcher", "_fields", "_node", "_initial")

    def __init__(self, loop, resource: str, namespace: str | None, label_selector: LabelSelector,
                 field_selector: FieldSelector, callback: Callable[[dict], Any],
                 on_close: Callable[[Exception | None], Any] | None, min_rev: int):
        self._loop = loop
        self.resource = resource
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.callback = callback
        self.on_close = on_close
        self.resource_version = str(min_rev)
        self.stopped = False
        self.error: Exception | None = None
        self._min_rev = min_rev
        self._queue: list[dict] = []
        self._scheduled = False
        self._dispatcher: "Dispatcher | None" = None
        self._fields = field_matcher(field_selector, resource)
        self._node = field_selector.equals("spec.nodeName") if resource == "pods" else None
        self._initial = 0

    def __repr__(self) -> str:
        state = "stopped" if self.stopped else f"rv={self.resource_version}"
        where = f" -n {self.namespace}" if self.namespace else ""
        return f"<Watch {self.resource}{where} {state}>"

    # -- filtering ------------------------------------------------------------------------
    def matches(self, obj: dict | None) -> bool:
        if obj is None:
            return False
        meta = obj.get("metadata") or {}
        if self.namespace and meta.get("namespace") != self.namespace:
            return False
        if not self.label_selector.empty and not self.label_selector.matches(meta.get("labels")):
            return False
        if self._fields is not None and not self._fields(obj):
            return False
        return True

    # -- delivery -------------------------------------------------------------------------
    def _push(self, event: dict) -> None:
        if self.stopped:
            return
        self._queue.append(event)
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._flush)

    def _deliver(self, ev: dict) -> None:
        if ev["type"] != "ERROR":
            rv = (ev["object"].get("metadata") or {}).get("resourceVersion")
            if rv:
                self.resource_version = rv
        self.callback(ev)

    def _flush(self) -> None:
        self._scheduled = False
        queue, self._queue = self._queue, []
        for i, ev in enumerate(queue):
            if self.stopped and ev["type"] != "ERROR":
                return
            try:
                self._deliver(ev)
            except BaseException:
                rest = queue[i + 1:]
                if rest and not self.stopped:  # a failing callback loses nothing
                    self._queue[:0] = rest
                    if not self._scheduled:
                        self._scheduled = True
                        self._loop.call_soon(self._flush)
                raise

    def _decide(self, rev: int, new: "_Lazy | None", old: "_Lazy | None") -> "tuple[str, _Lazy] | None":
        """Which event (if any) one change is for this watch (``new`` None: deleted; ``old`` None: created)."""
        if rev <= self._min_rev or self.stopped:
            return None
        new_ok = new is not None and self.matches(new.peek())
        old_ok = old is not None and self.matches(old.peek())
        if new_ok:
            return ("MODIFIED" if old_ok else "ADDED"), new  # type: ignore[return-value]
        if old_ok:
            return "DELETED", old  # type: ignore[return-value]
        return None

    def _emit(self, etype: str, lazy: "_Lazy", rev: int) -> None:
        """Hand the event over: at once, unless earlier events (the initial list) still wait."""
        obj = lazy.take()
        if etype == "DELETED":
            obj.setdefault("metadata", {})["resourceVersion"] = str(rev)
        ev = {"type": etype, "object": obj}
        if self._queue or self._scheduled:
            self._push(ev)
        else:
            self._deliver(ev)

    def stop(self) -> None:
        """End the watch now; events not yet delivered are dropped."""
        if self.stopped:
            return
        self.stopped = True
        self._queue = []
        if self._dispatcher is not None:
            self._dispatcher.remove(self)
            self._dispatcher = None

    cancel = stop

    def _close(self, error: Exception | None, status: dict | None = None) -> None:
        """The server ends the watch: an ERROR event (if ``status``) then ``on_close(error)``."""
        if self.stopped:
            return
        if status is not None:
            self._push({"type": "ERROR", "object": status})
        self.stopped = True
        self.error = error
        if self._dispatcher is not None:
            self._dispatcher.remove(self)
            self._dispatcher = None
        if self.on_close is not None:
            cb = self.on_close
            self._loop.call_soon(lambda: cb(error))


class _Lazy:
    """A stored value decoded once for filtering; ``take()`` hands out independent copies."""

    __slots__ = ("value", "rev", "_obj", "_given")

    def __init__(self, value: bytes, rev: int):
        self.value, self.rev = value, rev
        self._obj = None
        self._given = False

    def peek(self) -> dict:
        if self._obj is None:
            self._obj = decode(self.value, self.rev)
        return self._obj

    def take(self) -> dict:
        """The decoded object for one receiver: the first gets the one peeked at, later ones a copy."""
        if not self._given:
            self._given = True
            return self.peek()
        return decode(self.value, self.rev)


class Dispatcher:
    """Fans one etcd watch (a resource's key prefix) out to client watches."""

    def __init__(self, storage, prefix: str, start_revision: int, on_broken: Callable[["Dispatcher", Exception], None],
                 index_nodes: bool = False, private: bool = False):
        self.prefix = prefix
        self.private = private
        self.delivered = start_revision - 1
        self.general: list[Watch] = []
        self.by_node: dict[str, list[Watch]] = {}
        self._index_nodes = index_nodes
        self._on_broken = on_broken
        self.closed = False
        self._etcd_watch = storage.watch(prefix, start_revision, self._on_event, self._on_error)

    def __len__(self) -> int:
        return len(self.general) + sum(len(v) for v in self.by_node.values())

    def add(self, w: Watch) -> None:
        w._dispatcher = self
        if self._index_nodes and w._node is not None:
            self.by_node.setdefault(w._node, []).append(w)
        else:
            self.general.append(w)

    def remove(self, w: Watch) -> None:
        if self._index_nodes and w._node is not None:
            lst = self.by_node.get(w._node)
            if lst and w in lst:
                lst.remove(w)
                if not lst:
                    del self.by_node[w._node]
        elif w in self.general:
            self.general.remove(w)
        if self.private and not self.closed and len(self) == 0:
            self.close()

    def _on_event(self, ev) -> None:
        kv = ev.kv
        rev = kv.mod_revision
        self.delivered = rev
        if self.closed:
            return
        new = _Lazy(kv.value, rev) if ev.type == "PUT" else None
        prev = ev.prev_kv
        old = _Lazy(prev.value, prev.mod_revision) if prev is not None else None
        targets = self.general
        if self.by_node:
            extra: list[Watch] = []
            nodes = set()
            for lz in (new, old):
                if lz is not None:
                    nodes.add((lz.peek().get("spec") or {}).get("nodeName") or "")
            for n in nodes:
                extra.extend(self.by_node.get(n, ()))
            if extra:
                targets = targets + extra
        # decide for every watch first: callbacks may change the objects they are given
        decisions = []
        for w in targets:
            d = w._decide(rev, new, old)
            if d is not None:
                decisions.append((w, d))
        failure = None
        for w, (etype, lazy) in decisions:
            try:
                w._emit(etype, lazy, rev)
            except Exception as e:  # noqa: BLE001 - every watcher still gets the event
                if failure is None:
                    failure = e
        if failure is not None:
            raise failure

    def _on_error(self, err: Exception) -> None:
        if isinstance(err, Compacted):
            api_err: Exception = GoneError("The resourceVersion for the provided watch is too old.", cause=err)
        else:
            api_err = StorageError(str(err), cause=err)
        self.close(api_err, api_err.status)

    def close(self, err: Exception | None = None, status: dict | None = None) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self._etcd_watch.cancel()
        except Exception:  # noqa: BLE001 - already gone with its member
            pass
        watchers = self.general + [w for lst in self.by_node.values() for w in lst]
        self.general, self.by_node = [], {}
        for w in watchers:
            w._dispatcher = None
            w._close(err, status)
        self._on_broken(self, err)
