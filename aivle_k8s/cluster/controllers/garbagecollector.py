"""The garbage collector: dependents follow their owners (``metadata.ownerReferences``).

- Background: an object all of whose owners are gone is deleted.
- Foreground: an owner with ``deletionTimestamp`` and the ``foregroundDeletion``
  finalizer has its dependents deleted (foreground too); once none with
  ``blockOwnerDeletion`` is left, the finalizer is removed and the owner goes.
- Orphan: an owner with the ``orphan`` finalizer has its references removed from
  its dependents, then the finalizer.

Owners are looked up in the caches by uid, and confirmed gone with a live GET
(``NotFound`` or another uid) before anything is deleted.
"""

from __future__ import annotations

from typing import Any

from ..apiserver.errors import NotFoundError
from ..apiserver.resources import resolve_kind
from .base import Controller

__all__ = ["GarbageCollector", "MONITORED"]

#: the resources whose objects carry ownerReferences in a kubeadm cluster
MONITORED = ("pods", "replicasets", "deployments", "daemonsets", "jobs", "endpointslices", "controllerrevisions")


class GarbageCollector(Controller):
    """``garbagecollector`` in ``--controllers``. Keys are ``<resource>|<namespace/name>``."""

    name = "garbagecollector"
    component = "garbage-collector-controller"

    def setup(self) -> None:
        self.caches = {}
        self._by_uid: dict[str, tuple[str, str]] = {}
        self._dependents: dict[str, set[tuple[str, str]]] = {}
        for res in MONITORED:
            inf = self.informer(res)
            self.caches[res] = inf
            inf.add_handler(lambda o, r=res: self._seen(r, o), lambda old, new, r=res: self._seen(r, new, old),
                            lambda o, r=res: self._gone(r, o))

    @staticmethod
    def _key(obj: dict) -> str:
        m = obj["metadata"]
        return f"{m['namespace']}/{m['name']}" if m.get("namespace") else m["name"]

    def _seen(self, res: str, obj: dict, old: dict | None = None) -> None:
        key = self._key(obj)
        m = obj["metadata"]
        self._by_uid[m.get("uid", "")] = (res, key)
        for ref in (old or {}).get("metadata", {}).get("ownerReferences") or []:
            self._dependents.get(ref.get("uid"), set()).discard((res, key))
        for ref in m.get("ownerReferences") or []:
            self._dependents.setdefault(ref.get("uid"), set()).add((res, key))
        if m.get("ownerReferences"):
            self.enqueue(f"{res}|{key}")
        if m.get("deletionTimestamp") and set(m.get("finalizers") or []) & {"foregroundDeletion", "orphan"}:
            self.enqueue(f"{res}|{key}")

    def _gone(self, res: str, obj: dict) -> None:
        uid = obj["metadata"].get("uid", "")
        self._by_uid.pop(uid, None)
        for dep in sorted(self._dependents.get(uid, ())):
            self.enqueue(f"{dep[0]}|{dep[1]}")
        for ref in obj["metadata"].get("ownerReferences") or []:
            owner = self._by_uid.get(ref.get("uid"))
            self._dependents.get(ref.get("uid"), set()).discard((res, self._key(obj)))
            if owner is not None:
                self.enqueue(f"{owner[0]}|{owner[1]}")

    def resync(self) -> None:
        for res, inf in self.caches.items():
            for o in inf.list():
                self._seen(res, o)

    def _owner_exists(self, ns: str | None, ref: dict) -> bool:
        if ref.get("uid") in self._by_uid:
            return True
        try:
            info = resolve_kind(ref.get("apiVersion", "v1"), ref.get("kind", ""))
        except Exception:  # noqa: BLE001 - an unknown kind cannot be an owner that exists
            return False
        try:
            live = self.client.get(info.plural, ref.get("name", ""), ns if info.namespaced else None)
        except NotFoundError:
            return False
        return live["metadata"].get("uid") == ref.get("uid")

    def reconcile(self, key: str) -> None:
        res, _, okey = key.partition("|")
        inf = self.caches.get(res)
        obj = inf.get(okey) if inf else None
        if obj is None:
            return
        m = obj["metadata"]
        ns, name = m.get("namespace"), m["name"]
        fins = list(m.get("finalizers") or [])
        if m.get("deletionTimestamp") and "orphan" in fins:
            self._orphan_dependents(m["uid"])
            self._drop_finalizer(res, obj, "orphan")
            return
        if m.get("deletionTimestamp") and "foregroundDeletion" in fins:
            deps = self._live_dependents(m["uid"])
            for dres, dobj in deps:
                if not dobj["metadata"].get("deletionTimestamp"):
                    try:
                        self.client.delete(dres, dobj["metadata"]["name"], dobj["metadata"].get("namespace"),
                                           propagation_policy="Foreground")
                    except NotFoundError:
                        pass
            blocking = [d for d in deps if any(r.get("uid") == m["uid"] and r.get("blockOwnerDeletion")
                                               for r in d[1]["metadata"].get("ownerReferences") or [])]
            if not blocking:
                self._drop_finalizer(res, obj, "foregroundDeletion")
            return
        refs = m.get("ownerReferences") or []
        if not refs:
            return
        alive = [r for r in refs if self._owner_exists(ns, r)]
        if len(alive) == len(refs):
            return
        if alive:
            self.caches[res].assume(self.client.patch(res, name, {"metadata": {"ownerReferences": alive,
                                                                                "uid": m["uid"]}},
                                                      namespace=ns, patch_type="merge"))
            return
        if m.get("deletionTimestamp"):
            return
        try:
            self.client.delete(res, name, ns, propagation_policy="Background", preconditions={"uid": m["uid"]})
        except NotFoundError:
            pass

    def _live_dependents(self, uid: str) -> list[tuple[str, dict]]:
        out = []
        for dres, dkey in sorted(self._dependents.get(uid, ())):
            d = self.caches[dres].get(dkey)
            if d is not None and any(r.get("uid") == uid for r in d["metadata"].get("ownerReferences") or []):
                out.append((dres, d))
        return out

    def _orphan_dependents(self, uid: str) -> None:
        for dres, d in self._live_dependents(uid):
            refs = [r for r in d["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
            try:
                self.caches[dres].assume(self.client.patch(
                    dres, d["metadata"]["name"], {"metadata": {"ownerReferences": refs or None}},
                    namespace=d["metadata"].get("namespace"), patch_type="merge"))
            except NotFoundError:
                pass

    def _drop_finalizer(self, res: str, obj: dict, finalizer: str) -> None:
        m = obj["metadata"]
        fins = [f for f in m.get("finalizers") or [] if f != finalizer]
        try:
            self.client.patch(res, m["name"], {"metadata": {"finalizers": fins or None, "uid": m["uid"]}},
                              namespace=m.get("namespace"), patch_type="merge")
        except NotFoundError:
            pass
