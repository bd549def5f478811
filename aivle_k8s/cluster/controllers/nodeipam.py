"""Node IPAM (``--allocate-node-cidrs --cluster-cidr=10.244.0.0/16``): a ``/24`` per node.

Nodes get ``spec.podCIDR`` / ``spec.podCIDRs`` in order: ``10.244.0.0/24``,
``10.244.1.0/24``, ... CIDRs already on nodes are kept and marked used; a
deleted node's CIDR is released. When the range is exhausted the node gets
the Event ``CIDRNotAvailable``.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from .base import Controller, parse_time

__all__ = ["NodeIPAMController"]


class NodeIPAMController(Controller):
    """``nodeipam`` in ``--controllers`` (the range allocator)."""

    name = "nodeipam"
    component = "cidrAllocator"

    def __init__(self, *args: Any, cluster_cidr: str = "10.244.0.0/16", node_cidr_mask: int = 24, **kwargs: Any):
        self.cluster_cidr = ipaddress.ip_network(cluster_cidr)
        self.mask = int(node_cidr_mask)
        self._used: dict[str, str] = {}  # cidr -> node
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        self.nodes = self.informer("nodes")
        self.nodes.add_handler(self._added, lambda o, n: self._added(n), self._deleted)

    def _added(self, node: dict) -> None:
        cidr = (node.get("spec") or {}).get("podCIDR")
        if cidr:
            self._used.setdefault(cidr, node["metadata"]["name"])
        else:
            self.enqueue(node)

    def _deleted(self, node: dict) -> None:
        cidr = (node.get("spec") or {}).get("podCIDR")
        if cidr and self._used.get(cidr) == node["metadata"]["name"]:
            del self._used[cidr]

    def resync(self) -> None:
        nodes = sorted(self.nodes.list(), key=lambda n: (parse_time(n["metadata"].get("creationTimestamp")) or 0,
                                                          int(n["metadata"].get("resourceVersion") or 0)))
        for n in nodes:
            if not (n.get("spec") or {}).get("podCIDR"):
                self.enqueue(n)

    def _next(self) -> str | None:
        for net in self.cluster_cidr.subnets(new_prefix=self.mask):
            if str(net) not in self._used:
                return str(net)
        return None

    def reconcile(self, key: str) -> None:
        node = self.nodes.get(key)
        if node is None or (node.get("spec") or {}).get("podCIDR"):
            return
        cidr = self._next()
        if cidr is None:
            self.recorder.normal(node, "CIDRNotAvailable", f"Node {key} status is now: CIDRNotAvailable")
            return
        self._used[cidr] = key
        try:
            updated = self.client.patch("nodes", key, {"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}},
                                        patch_type="merge")
        except Exception:
            del self._used[cidr]
            raise
        self.nodes.assume(updated)
