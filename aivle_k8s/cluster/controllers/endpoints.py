"""Endpoints and EndpointSlices for Services with a selector.

For each Service with ``spec.selector`` the pods of its namespace matching it
and having a ``status.podIP`` become addresses: ``addresses`` when Ready,
``notReadyAddresses`` otherwise (all in ``addresses`` with
``publishNotReadyAddresses``); terminating pods are left out. Ports are the
Service's ports with ``targetPort`` resolved (a named targetPort looks up the
pod's container port of that name). Services without a selector (like
``default/kubernetes``, whose Endpoints the API server manages) are skipped.

The EndpointSlice controller writes ``<svc>-<suffix>`` slices labelled
``kubernetes.io/service-name`` and
``endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io``,
owned by the Service, with per-endpoint ``conditions`` (ready, serving, terminating).
"""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

from ..apiserver.errors import AlreadyExistsError, NotFoundError
from .base import Controller, is_pod_ready, owner_reference

__all__ = ["EndpointsController", "EndpointSliceController", "resolve_ports"]

MANAGED_BY = "endpointslice-controller.k8s.io"


def _selected(svc: dict, pod: dict) -> bool:
    sel = (svc.get("spec") or {}).get("selector") or {}
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return bool(sel) and all(labels.get(k) == v for k, v in sel.items())


def resolve_ports(svc: dict, pod: dict) -> list[dict] | None:
    """The endpoint ports of ``pod`` for ``svc`` (``None`` when a named targetPort is not found)."""
    out = []
    for sp in (svc.get("spec") or {}).get("ports") or []:
        target = sp.get("targetPort", sp.get("port"))
        proto = sp.get("protocol") or "TCP"
        if isinstance(target, str) and not target.isdigit():
            found = None
            for c in (pod.get("spec") or {}).get("containers") or []:
                for cp in c.get("ports") or []:
                    if cp.get("name") == target and (cp.get("protocol") or "TCP") == proto:
                        found = cp.get("containerPort")
            if found is None:
                continue
            target = found
        port = {"port": int(target), "protocol": proto}
        if sp.get("name"):
            port = {"name": sp["name"], **port}
        if sp.get("appProtocol"):
            port["appProtocol"] = sp["appProtocol"]
        out.append(port)
    return out


def _ip_key(ip: str) -> tuple:
    try:
        return (0, int(ipaddress.ip_address(ip)))
    except ValueError:
        return (1, ip)


class _ServiceController(Controller):
    def setup(self) -> None:
        self.services = self.informer("services")
        self.pods = self.informer("pods")
        self.pods.add_index("namespace", lambda p: [p["metadata"].get("namespace", "")])
        self.services.add_index("namespace", lambda s: [s["metadata"].get("namespace", "")])
        self.services.add_handler(self.enqueue, lambda o, n: self.enqueue(n), self.enqueue)
        self.pods.add_handler(self._pod_event, lambda o, n: (self._pod_event(o), self._pod_event(n)),
                              self._pod_event)

    def resync(self) -> None:
        for s in self.services.list():
            self.enqueue(s)

    def _pod_event(self, pod: dict) -> None:
        for svc in self.services.by_index("namespace", pod["metadata"].get("namespace", "")):
            if _selected(svc, pod):
                self.enqueue(svc)

    def _endpoints_of(self, svc: dict) -> list[tuple[dict, list[dict], bool, bool]]:
        """(pod, ports, ready, terminating) for every pod with an IP selected by ``svc``."""
        out = []
        publish = bool((svc.get("spec") or {}).get("publishNotReadyAddresses"))
        for pod in self.pods.by_index("namespace", svc["metadata"].get("namespace", "")):
            if not _selected(svc, pod) or not (pod.get("status") or {}).get("podIP"):
                continue
            if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            terminating = bool(pod["metadata"].get("deletionTimestamp"))
            if terminating and not publish:
                continue
            ports = resolve_ports(svc, pod)
            out.append((pod, ports, publish or is_pod_ready(pod), terminating))
        out.sort(key=lambda e: _ip_key(e[0]["status"]["podIP"]))
        return out


def _address(pod: dict) -> dict:
    m = pod["metadata"]
    a = {"ip": pod["status"]["podIP"]}
    if (pod.get("spec") or {}).get("nodeName"):
        a["nodeName"] = pod["spec"]["nodeName"]
    a["targetRef"] = {"kind": "Pod", "namespace": m.get("namespace"), "name": m["name"], "uid": m.get("uid")}
    return a


class EndpointsController(_ServiceController):
    """``endpoint`` in ``--controllers``: core/v1 Endpoints named after the Service."""

    name = "endpoint"
    component = "endpoint-controller"

    def setup(self) -> None:
        super().setup()
        self.endpoints = self.informer("endpoints")
        self.endpoints.add_handler(None, None, lambda e: self.enqueue(e))

    def reconcile(self, key: str) -> None:
        svc = self.services.get(key)
        ns, _, name = key.rpartition("/")
        if svc is None:
            current = self.endpoints.get(key)
            if current is not None and current["metadata"].get("name") != "kubernetes":
                try:
                    self.client.delete("endpoints", name, ns)
                except NotFoundError:
                    pass
                self.endpoints.assume_deleted(current)
            return
        if not (svc.get("spec") or {}).get("selector"):
            return
        subsets: dict[tuple, dict] = {}
        for pod, ports, ready, _ in self._endpoints_of(svc):
            pk = tuple(sorted((p.get("name", ""), p["port"], p["protocol"]) for p in ports))
            sub = subsets.setdefault(pk, {"ports": ports})
            sub.setdefault("addresses" if ready else "notReadyAddresses", []).append(_address(pod))
        wanted = [subsets[k] for k in sorted(subsets)]
        wanted = [{k: s[k] for k in ("addresses", "notReadyAddresses", "ports") if s.get(k)} for s in wanted]
        wanted = [s for s in wanted if s.get("addresses") or s.get("notReadyAddresses")]
        labels = dict(svc["metadata"].get("labels") or {})
        if not (svc.get("spec") or {}).get("clusterIP") or svc["spec"].get("clusterIP") == "None":
            labels["service.kubernetes.io/headless"] = ""
        current = self.endpoints.get(key)
        if current is None:
            try:
                current = self.client.get("endpoints", name, ns)
            except NotFoundError:
                current = None
        if current is not None and (current.get("subsets") or []) == wanted and \
                (current["metadata"].get("labels") or {}) == labels:
            return
        body = copy.deepcopy(current) if current is not None else {
            "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": ns}}
        body["metadata"]["labels"] = labels
        body["subsets"] = wanted
        if current is None:
            try:
                self.endpoints.assume(self.client.create(body, namespace=ns))
            except AlreadyExistsError:
                self.enqueue(key, delay=0.01)
        else:
            self.endpoints.assume(self.client.update(body))


class EndpointSliceController(_ServiceController):
    """``endpointslice`` in ``--controllers``: one discovery.k8s.io/v1 EndpointSlice per Service."""

    name = "endpointslice"
    component = "endpoint-slice-controller"

    def setup(self) -> None:
        super().setup()
        self.slices = self.informer("endpointslices")
        self.slices.add_index("service", lambda s: [f"{s['metadata'].get('namespace')}/" + (
            (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name") or "")] if (
            s["metadata"].get("labels") or {}).get("endpointslice.kubernetes.io/managed-by") == MANAGED_BY else [])
        self.slices.add_handler(None, None, self._slice_deleted)

    def _slice_deleted(self, s: dict) -> None:
        svc = (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name")
        if svc:
            self.enqueue(f"{s['metadata'].get('namespace')}/{svc}")

    def reconcile(self, key: str) -> None:
        svc = self.services.get(key)
        ns, _, name = key.rpartition("/")
        mine = self.slices.by_index("service", key)
        if svc is None or not (svc.get("spec") or {}).get("selector"):
            for s in mine:  # the garbage collector would do it too (ownerReferences)
                try:
                    self.client.delete("endpointslices", s["metadata"]["name"], ns)
                except NotFoundError:
                    pass
                self.slices.assume_deleted(s)
            return
        endpoints, ports = [], None
        for pod, pod_ports, ready, terminating in self._endpoints_of(svc):
            ports = pod_ports if ports is None else ports
            m = pod["metadata"]
            ep = {"addresses": [pod["status"]["podIP"]],
                  "conditions": {"ready": ready and not terminating, "serving": ready, "terminating": terminating},
                  "targetRef": {"kind": "Pod", "namespace": m.get("namespace"), "name": m["name"],
                                "uid": m.get("uid")}}
            if (pod.get("spec") or {}).get("nodeName"):
                ep["nodeName"] = pod["spec"]["nodeName"]
            endpoints.append(ep)
        if ports is None:
            ports = [{k: v for k, v in (("name", p.get("name") or ""), ("port", None),
                                        ("protocol", p.get("protocol") or "TCP")) if v is not None}
                     for p in (svc.get("spec") or {}).get("ports") or []] if not endpoints else []
            ports = [] if not endpoints else ports
        for p in ports:
            p.setdefault("name", "")
        labels = dict(svc["metadata"].get("labels") or {})
        labels.update({"kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": MANAGED_BY})
        want = {"addressType": "IPv4", "endpoints": endpoints, "ports": ports or None}
        current = sorted(mine, key=lambda s: s["metadata"]["name"])
        if current:
            first = current[0]
            for extra in current[1:]:
                try:
                    self.client.delete("endpointslices", extra["metadata"]["name"], ns)
                except NotFoundError:
                    pass
                self.slices.assume_deleted(extra)
            have = {"addressType": first.get("addressType"), "endpoints": first.get("endpoints"),
                    "ports": first.get("ports")}
            if have == want and (first["metadata"].get("labels") or {}) == labels:
                return
            body = copy.deepcopy(first)
            body["metadata"]["labels"] = labels
            body.update({k: v for k, v in want.items()})
            for k in ("ports",):
                if body.get(k) is None:
                    body.pop(k, None)
            self.slices.assume(self.client.update(body))
            return
        body = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"generateName": f"{name}-", "namespace": ns, "labels": labels,
                             "ownerReferences": [owner_reference(svc)]},
                "addressType": "IPv4", "endpoints": endpoints}
        if ports:
            body["ports"] = ports
        self.slices.assume(self.client.create(body, namespace=ns))
