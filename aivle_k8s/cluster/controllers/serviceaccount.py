"""The ServiceAccount controller: a ``default`` ServiceAccount in every active namespace."""

from __future__ import annotations

from ..apiserver.errors import AlreadyExistsError
from .base import Controller

__all__ = ["ServiceAccountController"]


class ServiceAccountController(Controller):
    """``serviceaccount`` in ``--controllers``."""

    name = "serviceaccount"
    component = "serviceaccount-controller"

    def setup(self) -> None:
        self.namespaces = self.informer("namespaces")
        self.accounts = self.informer("serviceaccounts")
        self.namespaces.add_handler(self.enqueue, lambda o, n: self.enqueue(n))
        self.accounts.add_handler(None, None, lambda sa: self.enqueue(sa["metadata"].get("namespace", "")))

    def resync(self) -> None:
        for n in self.namespaces.list():
            self.enqueue(n)

    def reconcile(self, key: str) -> None:
        ns = self.namespaces.get(key)
        if ns is None or ns["metadata"].get("deletionTimestamp") or (ns.get("status") or {}).get("phase") == \
                "Terminating":
            return
        if self.accounts.get(f"{key}/default") is not None:
            return
        try:
            sa = self.client.create({"apiVersion": "v1", "kind": "ServiceAccount",
                                     "metadata": {"name": "default", "namespace": key}}, namespace=key)
        except AlreadyExistsError:
            return
        self.accounts.assume(sa)
