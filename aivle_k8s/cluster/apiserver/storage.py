"""The API server's view of etcd: JSON values under the real ``/registry/...`` keys.

Objects are stored as compact JSON bytes without ``metadata.resourceVersion``;
reading one sets ``resourceVersion`` to the key's ``mod_revision`` (as the
real storage layer does). Every write is one etcd transaction guarded by a
compare (``create_revision == 0`` to create, ``mod_revision == rv`` to update
or delete), so a lost race changes nothing. etcd's errors come back as
:class:`~.errors.StorageError` (``etcdserver: request timed out``) or, for a
compacted revision, :class:`~.errors.GoneError`.

Works with one :class:`~aivle_k8s.cluster.etcd.Store` or an
:class:`~aivle_k8s.cluster.etcd.EtcdCluster`.

>>> from aivle_k8s.cluster.etcd import Store
>>> s = Storage(Store())
>>> s.create("/registry/configmaps/default/a", {"kind": "ConfigMap", "metadata": {"name": "a"}})
2
>>> s.get("/registry/configmaps/default/a")["metadata"]["resourceVersion"]
'2'
"""

from __future__ import annotations

import json
from typing import Any, Callable

from ..etcd import Compacted, Compare, Delete, EtcdError, Put
from .errors import GoneError, StorageError

__all__ = ["Storage", "encode", "decode"]

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_loads = json.loads


def encode(obj: dict) -> bytes:
    """The stored bytes of ``obj`` (its ``resourceVersion`` left out)."""
    meta = obj.get("metadata")
    rv = None
    if isinstance(meta, dict) and "resourceVersion" in meta:
        rv = meta.pop("resourceVersion")
    try:
        return _dumps(obj).encode()
    finally:
        if rv is not None:
            meta["resourceVersion"] = rv


def decode(value: bytes, mod_revision: int) -> dict:
    """A fresh object from stored bytes, with ``resourceVersion`` = ``mod_revision``."""
    obj = _loads(value)
    meta = obj.get("metadata")
    if meta is None:
        meta = obj["metadata"] = {}
    meta["resourceVersion"] = str(mod_revision)
    return obj


class Storage:
    """Guarded reads and writes on an etcd :class:`Store` or :class:`EtcdCluster`."""

    def __init__(self, etcd: Any):
        self.etcd = etcd

    def _fail(self, e: EtcdError) -> Exception:
        if isinstance(e, Compacted):
            return GoneError(str(e), cause=e, compact_revision=getattr(e, "compact_revision", 0))
        return StorageError(str(e), cause=e)

    @property
    def revision(self) -> int:
        return self.etcd.revision

    @property
    def compact_revision(self) -> int:
        etcd = self.etcd
        if hasattr(etcd, "compact_revision"):
            return etcd.compact_revision
        return max(m.store.compact_revision for m in etcd.members.values())

    # -- reads ------------------------------------------------------------------------
    def get_kv(self, key: str, revision: int | None = None):
        try:
            r = self.etcd.get(key, revision=revision)
        except EtcdError as e:
            raise self._fail(e) from None
        return r.kvs[0] if r.kvs else None

    def get(self, key: str) -> dict | None:
        kv = self.get_kv(key)
        return decode(kv.value, kv.mod_revision) if kv is not None else None

    def range(self, start: str, end: str, *, revision: int | None = None, limit: int | None = None,
              count_only: bool = False):
        """``(kvs, count, more, header_revision)`` for keys in ``[start, end)``."""
        try:
            r = self.etcd.get(start, range_end=end, revision=revision or None, limit=limit, count_only=count_only)
        except EtcdError as e:
            raise self._fail(e) from None
        return r.kvs, r.count, r.more, r.header.revision

    # -- writes -----------------------------------------------------------------------
    def _txn(self, compare, success, failure=()):
        try:
            return self.etcd.txn(compare, success, failure)
        except EtcdError as e:
            raise self._fail(e) from None

    def create(self, key: str, obj: dict | bytes) -> int | None:
        """Write a new key; returns its revision, or None if the key exists."""
        value = obj if isinstance(obj, bytes) else encode(obj)
        r = self._txn([Compare.create_revision(key) == 0], [Put(key, value)])
        return r.header.revision if r.succeeded else None

    def update(self, key: str, obj: dict | bytes, mod_revision: int) -> int | None:
        """Overwrite ``key`` if it is still at ``mod_revision``; returns the new revision or None."""
        value = obj if isinstance(obj, bytes) else encode(obj)
        r = self._txn([Compare.mod_revision(key) == mod_revision], [Put(key, value)])
        return r.header.revision if r.succeeded else None

    def delete(self, key: str, mod_revision: int) -> int | None:
        """Delete ``key`` if it is still at ``mod_revision``; returns the delete's revision or None."""
        r = self._txn([Compare.mod_revision(key) == mod_revision], [Delete(key)])
        return r.header.revision if r.succeeded else None

    def compact(self, revision: int) -> None:
        try:
            self.etcd.compact(revision)
        except EtcdError:
            pass  # an older or equal compaction already happened, or etcd is down: try next time

    def watch(self, prefix: str, start_revision: int, callback: Callable, on_error: Callable):
        try:
            return self.etcd.watch(prefix, prefix=True, start_revision=start_revision, callback=callback,
                                   on_error=on_error)
        except EtcdError as e:
            raise self._fail(e) from None
