"""The namespace controller: a deleted (Terminating) namespace is emptied, then finalized.

Every namespaced resource in it is deleted (``deletecollection``); while
anything remains (pods terminating gracefully) it looks again after a few
seconds; when nothing is left the ``kubernetes`` finalizer is removed through
``namespaces/<name>/finalize`` and the API server deletes the namespace.
"""

from __future__ import annotations

import copy

from ..apiserver.errors import NotFoundError
from ..apiserver.resources import RESOURCES
from .base import Controller

__all__ = ["NamespaceController"]


class NamespaceController(Controller):
    """``namespace`` in ``--controllers``."""

    name = "namespace"
    component = "namespace-controller"

    def setup(self) -> None:
        self.namespaces = self.informer("namespaces")
        self.namespaces.add_handler(self.enqueue, lambda o, n: self.enqueue(n))

    def resync(self) -> None:
        for n in self.namespaces.list():
            self.enqueue(n)

    def reconcile(self, key: str) -> None:
        ns = self.namespaces.get(key)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        infos = RESOURCES.values() if isinstance(RESOURCES, dict) else RESOURCES
        remaining = 0
        for info in infos:
            if not info.namespaced or info.etcd_dir is None or "deletecollection" not in info.verbs:
                continue
            try:
                left = self.client.list(info.plural, key)["items"]
            except NotFoundError:
                continue
            if not left:
                continue
            self.client.delete_collection(info.plural, key)
            remaining += len(self.client.list(info.plural, key)["items"])
        if remaining:
            self.enqueue(key, delay=5.0)
            return
        fins = [f for f in (ns.get("spec") or {}).get("finalizers") or [] if f != "kubernetes"]
        if fins == ((ns.get("spec") or {}).get("finalizers") or []):
            return
        body = copy.deepcopy(ns)
        body.setdefault("spec", {})["finalizers"] = fins
        try:
            self.namespaces.assume(self.client.update(body, subresource="finalize"))
        except NotFoundError:
            pass
