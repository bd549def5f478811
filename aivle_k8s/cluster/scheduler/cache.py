"""The scheduler's cache: what every node has, kept up to date one pod at a time.

Like kube-scheduler's cache (``pkg/scheduler/backend/cache``), it is fed by the
API server watch: ``add_node`` / ``update_node`` / ``remove_node`` and
``add_pod`` / ``remove_pod`` for pods bound to a node; the scheduler itself
*assumes* a pod on the node it picked before the binding is confirmed.

- :class:`PodInfo` reads a Pod (real Kubernetes JSON) once: its requests (the
  init-container rule and the overhead applied), host ports, images,
  tolerations, selectors. Plugins only read PodInfo, never the JSON again.
- :class:`NodeInfo` is one node and the pods on it: requested cpu / memory /
  pods, the non-zero requests used for scoring, used host ports and images.
  ``add_pod`` / ``remove_pod`` are incremental (no copies).
- :class:`Cache` holds the NodeInfos in kube-scheduler's node order (zones
  interleaved, like its ``nodeTree``) and image spread across nodes.

>>> node = {"metadata": {"name": "w1"}, "status": {"allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"}}}
>>> pod = {"metadata": {"name": "web", "namespace": "default", "uid": "u1"},
...        "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}}]}}
>>> ni = NodeInfo(node)
>>> _ = ni.add_pod(pod)
>>> ni.requested_milli_cpu, ni.requested_memory, len(ni.pods)
(250, 67108864, 1)
>>> ni
<NodeInfo w1 pods=1/110 cpu=250m/2 memory=64Mi/4Gi>
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Iterator

from .quantity import cpu_millis, format_bytes, format_cpu, to_int

__all__ = ["PodInfo", "NodeInfo", "Cache", "ImageStateSummary", "pod_key", "zone_key",
           "DEFAULT_MILLI_CPU_REQUEST", "DEFAULT_MEMORY_REQUEST"]

# kube-scheduler's non-zero defaults for containers without a request (used for scoring only).
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024

_NATIVE = ("cpu", "memory", "ephemeral-storage")
_ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
_REGION_LABELS = ("topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region")


def pod_key(pod: dict) -> str:
    """The cache key of a pod: its uid, else ``namespace/name``."""
    meta = pod.get("metadata") or {}
    uid = meta.get("uid")
    if uid:
        return uid
    return f"{meta.get('namespace') or 'default'}/{meta.get('name', '')}"


def zone_key(labels: dict) -> str:
    """kube-scheduler's zone key: ``region + ":\\x00:" + zone``, ``""`` when neither is set."""
    region = next((labels[k] for k in _REGION_LABELS if labels.get(k)), "")
    zone = next((labels[k] for k in _ZONE_LABELS if labels.get(k)), "")
    if not region and not zone:
        return ""
    return f"{region}:\x00:{zone}"


def _resource_list(rl: dict | None) -> tuple[int, int, int, dict]:
    """(milli_cpu, memory, ephemeral, scalars) of a ResourceList."""
    if not rl:
        return 0, 0, 0, {}
    cpu = mem = eph = 0
    scalars: dict = {}
    for name, q in rl.items():
        if name == "cpu":
            cpu = cpu_millis(q)
        elif name == "memory":
            mem = to_int(q)
        elif name == "ephemeral-storage":
            eph = to_int(q)
        elif name != "pods":
            scalars[name] = to_int(q)
    return cpu, mem, eph, scalars


def _container_requests(c: dict) -> dict:
    """A container's requests, with limits standing in for missing requests (API defaulting)."""
    res = c.get("resources") or {}
    req = res.get("requests") or {}
    lim = res.get("limits")
    if lim:
        req = {**lim, **req}
    return req


class PodInfo:
    """A Pod read once for scheduling.

    Attributes (all plain values): ``key``, ``name``, ``namespace``, ``labels``,
    ``priority``, ``node_name``, ``scheduler_name``, requests ``milli_cpu``,
    ``memory``, ``ephemeral``, ``scalars``, the non-zero requests used for
    scoring ``nz_milli_cpu`` / ``nz_memory``, ``host_ports`` as
    ``(ip, protocol, port)``, ``images``, ``tolerations`` as
    ``(key, operator, value, effect)``, ``node_selector``, ``affinity``,
    ``spread`` (topologySpreadConstraints) and ``signature`` (equal for pods the
    node-local plugins cannot tell apart; ``None`` when the pod has spread
    constraints).

    Pod requests follow ``resourcehelper.PodRequests``: the sum over containers,
    raised to the largest init container (restartable "sidecar" init containers
    add to the sum and to every later init container), plus ``spec.overhead``.

    >>> p = PodInfo({"metadata": {"name": "p"}, "spec": {
    ...     "initContainers": [{"name": "i", "image": "busybox", "resources": {"requests": {"cpu": "2", "memory": "3G"}}}],
    ...     "containers": [{"name": "a", "image": "nginx", "resources": {"requests": {"cpu": "2", "memory": "1G"}}},
    ...                    {"name": "b", "image": "redis", "resources": {"requests": {"cpu": "1", "memory": "1G"}}}]}})
    >>> p.milli_cpu, p.memory
    (3000, 3000000000)
    """

    __slots__ = ("pod", "key", "name", "namespace", "labels", "priority", "node_name", "scheduler_name",
                 "milli_cpu", "memory", "ephemeral", "scalars", "nz_milli_cpu", "nz_memory",
                 "host_ports", "images", "tolerations", "node_selector", "affinity", "spread",
                 "preemption_policy", "nominated_node", "signature")

    def __init__(self, pod: dict):
        meta = pod.get("metadata") or {}
        spec = pod.get("spec") or {}
        self.pod = pod
        self.key = pod_key(pod)
        self.name = meta.get("name", "")
        self.namespace = meta.get("namespace") or "default"
        self.labels = meta.get("labels") or {}
        self.priority = spec.get("priority") or 0
        self.node_name = spec.get("nodeName") or ""
        self.scheduler_name = spec.get("schedulerName") or "default-scheduler"
        self.preemption_policy = spec.get("preemptionPolicy") or "PreemptLowerPriority"
        self.nominated_node = (pod.get("status") or {}).get("nominatedNodeName") or ""
        containers = spec.get("containers") or ()
        inits = spec.get("initContainers") or ()

        # requests: sum(app containers) vs max(init containers), plus overhead
        cpu = mem = eph = nz_cpu = nz_mem = 0
        scalars: dict = {}
        ports: list = []
        for c in containers:
            req = _container_requests(c)
            c_cpu, c_mem, c_eph, c_sc = _resource_list(req)
            cpu += c_cpu
            mem += c_mem
            eph += c_eph
            nz_cpu += c_cpu if "cpu" in req else DEFAULT_MILLI_CPU_REQUEST
            nz_mem += c_mem if "memory" in req else DEFAULT_MEMORY_REQUEST
            for name, v in c_sc.items():
                scalars[name] = scalars.get(name, 0) + v
            _ports(c, ports)
        if inits:
            side_cpu = side_mem = side_eph = side_nzc = side_nzm = 0
            side_sc: dict = {}
            max_cpu = max_mem = max_eph = max_nzc = max_nzm = 0
            max_sc: dict = {}
            for c in inits:
                req = _container_requests(c)
                c_cpu, c_mem, c_eph, c_sc = _resource_list(req)
                c_nzc = c_cpu if "cpu" in req else DEFAULT_MILLI_CPU_REQUEST
                c_nzm = c_mem if "memory" in req else DEFAULT_MEMORY_REQUEST
                if c.get("restartPolicy") == "Always":  # a sidecar keeps running next to the app
                    cpu += c_cpu; mem += c_mem; eph += c_eph; nz_cpu += c_nzc; nz_mem += c_nzm
                    for name, v in c_sc.items():
                        scalars[name] = scalars.get(name, 0) + v
                    side_cpu += c_cpu; side_mem += c_mem; side_eph += c_eph; side_nzc += c_nzc; side_nzm += c_nzm
                    for name, v in c_sc.items():
                        side_sc[name] = side_sc.get(name, 0) + v
                    t_cpu, t_mem, t_eph, t_nzc, t_nzm, t_sc = side_cpu, side_mem, side_eph, side_nzc, side_nzm, dict(side_sc)
                    _ports(c, ports)
                else:
                    t_cpu, t_mem, t_eph = c_cpu + side_cpu, c_mem + side_mem, c_eph + side_eph
                    t_nzc, t_nzm = c_nzc + side_nzc, c_nzm + side_nzm
                    t_sc = {n: v + side_sc.get(n, 0) for n, v in c_sc.items()}
                max_cpu, max_mem, max_eph = max(max_cpu, t_cpu), max(max_mem, t_mem), max(max_eph, t_eph)
                max_nzc, max_nzm = max(max_nzc, t_nzc), max(max_nzm, t_nzm)
                for name, v in t_sc.items():
                    max_sc[name] = max(max_sc.get(name, 0), v)
            cpu, mem, eph = max(cpu, max_cpu), max(mem, max_mem), max(eph, max_eph)
            nz_cpu, nz_mem = max(nz_cpu, max_nzc), max(nz_mem, max_nzm)
            for name, v in max_sc.items():
                scalars[name] = max(scalars.get(name, 0), v)
        overhead = spec.get("overhead")
        if overhead:
            o_cpu, o_mem, o_eph, o_sc = _resource_list(overhead)
            cpu += o_cpu; mem += o_mem; eph += o_eph
            if "cpu" in overhead:
                nz_cpu += o_cpu
            if "memory" in overhead:
                nz_mem += o_mem
            for name, v in o_sc.items():
                scalars[name] = scalars.get(name, 0) + v
        self.milli_cpu, self.memory, self.ephemeral, self.scalars = cpu, mem, eph, scalars
        self.nz_milli_cpu, self.nz_memory = nz_cpu, nz_mem
        self.host_ports = tuple(ports)
        self.images = tuple(c.get("image", "") for c in inits) + tuple(c.get("image", "") for c in containers)
        self.tolerations = tuple(
            (t.get("key") or "", t.get("operator") or "Equal", t.get("value") or "", t.get("effect") or "")
            for t in spec.get("tolerations") or ())
        self.node_selector = spec.get("nodeSelector") or {}
        self.affinity = spec.get("affinity") or {}
        self.spread = tuple(spec.get("topologySpreadConstraints") or ())
        if self.spread:
            self.signature = None
        else:
            self.signature = (
                cpu, mem, eph, tuple(sorted(scalars.items())) if scalars else (), nz_cpu, nz_mem,
                self.node_name, self.host_ports, self.images, self.tolerations,
                tuple(sorted(self.node_selector.items())) if self.node_selector else (),
                json.dumps(self.affinity, sort_keys=True) if self.affinity else "",
            )

    @property
    def best_effort(self) -> bool:
        """No request at all (BalancedAllocation skips such pods)."""
        return not (self.milli_cpu or self.memory or self.ephemeral or any(self.scalars.values()))

    def __repr__(self) -> str:
        return f"<PodInfo {self.namespace}/{self.name} cpu={format_cpu(self.milli_cpu)} memory={format_bytes(self.memory)}>"


def _ports(container: dict, out: list) -> None:
    for p in container.get("ports") or ():
        hp = p.get("hostPort") or 0
        if hp > 0:
            out.append((p.get("hostIP") or "0.0.0.0", p.get("protocol") or "TCP", hp))


@dataclass(frozen=True)
class ImageStateSummary:
    """An image on a node: its size and on how many nodes of the cluster it is."""

    size: int
    num_nodes: int


class NodeInfo:
    """One node and the pods assigned to it (assumed or bound).

    Static fields come from the Node JSON (``labels``, ``hard_taints`` =
    NoSchedule/NoExecute, ``soft_taints`` = PreferNoSchedule, ``unschedulable``,
    ``allocatable_*``, ``images`` name -> size); counters (``requested_*``,
    ``nonzero_*``, ``used_ports``) change with every ``add_pod`` /
    ``remove_pod``, and so does ``generation``.
    """

    __slots__ = ("node", "name", "labels", "taints", "hard_taints", "soft_taints", "unschedulable",
                 "allocatable_milli_cpu", "allocatable_memory", "allocatable_ephemeral",
                 "allocatable_pods", "allocatable_scalars", "images",
                 "pods", "requested_milli_cpu", "requested_memory", "requested_ephemeral",
                 "requested_scalars", "nonzero_milli_cpu", "nonzero_memory", "used_ports", "generation",
                 "_memo")

    def __init__(self, node: dict | None = None, pods: Iterable = ()):
        self.pods: dict[str, PodInfo] = {}
        self.requested_milli_cpu = self.requested_memory = self.requested_ephemeral = 0
        self.requested_scalars: dict = {}
        self.nonzero_milli_cpu = self.nonzero_memory = 0
        self.used_ports: dict = {}
        self.generation = 0
        self._memo: dict = {}
        self.set_node(node or {"metadata": {"name": ""}})
        for p in pods:
            self.add_pod(p)

    # -- the node ---------------------------------------------------------
    def set_node(self, node: dict) -> None:
        """(Re)read the Node JSON; assigned pods are kept."""
        meta = node.get("metadata") or {}
        spec = node.get("spec") or {}
        status = node.get("status") or {}
        self.node = node
        self.name = meta.get("name", "")
        self.labels = meta.get("labels") or {}
        self.taints = tuple(spec.get("taints") or ())
        self.hard_taints = tuple((t.get("key") or "", t.get("value") or "", t.get("effect") or "")
                                 for t in self.taints if t.get("effect") in ("NoSchedule", "NoExecute"))
        self.soft_taints = tuple((t.get("key") or "", t.get("value") or "", t.get("effect") or "")
                                 for t in self.taints if t.get("effect") == "PreferNoSchedule")
        self.unschedulable = bool(spec.get("unschedulable"))
        alloc = status.get("allocatable") or status.get("capacity") or {}
        (self.allocatable_milli_cpu, self.allocatable_memory,
         self.allocatable_ephemeral, self.allocatable_scalars) = _resource_list(alloc)
        self.allocatable_pods = to_int(alloc["pods"]) if "pods" in alloc else 0
        self.images: dict[str, int] = {}
        for img in status.get("images") or ():
            for name in img.get("names") or ():
                self.images[name] = img.get("sizeBytes") or 0
        self.generation += 1
        self._memo.clear()

    def static_key(self) -> tuple:
        """What the scheduler reads from the Node object (a change here invalidates cached results)."""
        return (self.name, tuple(sorted(self.labels.items())), self.taints.__repr__(), self.unschedulable,
                self.allocatable_milli_cpu, self.allocatable_memory, self.allocatable_ephemeral,
                self.allocatable_pods, tuple(sorted(self.allocatable_scalars.items())),
                tuple(sorted(self.images.items())))

    # -- pods -------------------------------------------------------------
    def add_pod(self, pod: dict | PodInfo) -> PodInfo:
        """Account for a pod on this node (replaces a pod with the same key)."""
        pi = pod if isinstance(pod, PodInfo) else PodInfo(pod)
        if pi.key in self.pods:
            self.remove_pod(pi.key)
        self.pods[pi.key] = pi
        self._update(pi, 1)
        return pi

    def remove_pod(self, pod: dict | PodInfo | str) -> PodInfo | None:
        """Forget a pod (by JSON, PodInfo or key); returns it, or None if it was not here."""
        key = pod if isinstance(pod, str) else pod.key if isinstance(pod, PodInfo) else pod_key(pod)
        pi = self.pods.pop(key, None)
        if pi is not None:
            self._update(pi, -1)
        return pi

    def _update(self, pi: PodInfo, sign: int) -> None:
        self.requested_milli_cpu += sign * pi.milli_cpu
        self.requested_memory += sign * pi.memory
        self.requested_ephemeral += sign * pi.ephemeral
        self.nonzero_milli_cpu += sign * pi.nz_milli_cpu
        self.nonzero_memory += sign * pi.nz_memory
        if pi.scalars:
            rs = self.requested_scalars
            for name, v in pi.scalars.items():
                rs[name] = rs.get(name, 0) + sign * v
        if pi.host_ports:
            used = self.used_ports
            for ip, proto, port in pi.host_ports:
                ips = used.setdefault((proto, port), {})
                ips[ip] = ips.get(ip, 0) + sign
                if ips[ip] <= 0:
                    del ips[ip]
                    if not ips:
                        del used[(proto, port)]
        self.generation += 1
        if self._memo:
            self._memo.clear()

    def port_conflict(self, ip: str, protocol: str, port: int) -> bool:
        """``HostPortInfo.CheckConflict``: 0.0.0.0 conflicts with every address on the same port."""
        ips = self.used_ports.get((protocol, port))
        if not ips:
            return False
        return ip == "0.0.0.0" or "0.0.0.0" in ips or ip in ips

    def clone(self) -> "NodeInfo":
        """A copy whose pods can be added / removed without touching this one (used by preemption)."""
        c = NodeInfo.__new__(NodeInfo)
        for slot in NodeInfo.__slots__:
            setattr(c, slot, getattr(self, slot))
        c.pods = dict(self.pods)
        c.requested_scalars = dict(self.requested_scalars)
        c.used_ports = {k: dict(v) for k, v in self.used_ports.items()}
        c._memo = {}
        return c

    def image_states(self, cache: "Cache | None" = None) -> dict[str, ImageStateSummary]:
        """``name -> ImageStateSummary(size, num_nodes)`` (num_nodes from ``cache``, else 1)."""
        return {n: ImageStateSummary(s, cache.image_num_nodes(n) if cache else 1) for n, s in self.images.items()}

    @property
    def requested(self) -> dict:
        """What the pods on this node request, as a ResourceList-like dict of strings."""
        out = {"cpu": format_cpu(self.requested_milli_cpu), "memory": format_bytes(self.requested_memory),
               "pods": str(len(self.pods))}
        if self.requested_ephemeral:
            out["ephemeral-storage"] = format_bytes(self.requested_ephemeral)
        out.update({k: str(v) for k, v in self.requested_scalars.items() if v})
        return out

    def __repr__(self) -> str:
        return (f"<NodeInfo {self.name} pods={len(self.pods)}/{self.allocatable_pods} "
                f"cpu={format_cpu(self.requested_milli_cpu)}/{format_cpu(self.allocatable_milli_cpu)} "
                f"memory={format_bytes(self.requested_memory)}/{format_bytes(self.allocatable_memory)}>")


class Cache:
    """All NodeInfos of a cluster, in kube-scheduler's node order.

    The order interleaves zones (``topology.kubernetes.io/zone``) like the real
    ``nodeTree``: the first node of every zone, then the second of every zone...
    so that sampling a part of the nodes still spreads over zones.

    Args:
        nodes: Node dicts or ready NodeInfos.
        pods: pods already bound (``spec.nodeName`` set) to account for.

    >>> c = Cache([{"metadata": {"name": n, "labels": {"topology.kubernetes.io/zone": z}}}
    ...            for n, z in [("a1", "a"), ("a2", "a"), ("b1", "b"), ("a3", "a")]])
    >>> [ni.name for ni in c.nodes]
    ['a1', 'b1', 'a2', 'a3']
    """

    def __init__(self, nodes: Iterable = (), pods: Iterable = ()):
        self._infos: dict[str, NodeInfo] = {}
        self._zones: dict[str, list[str]] = {}
        self._zone_of: dict[str, str] = {}
        self._order: list[NodeInfo] = []
        self._index: dict[str, int] = {}
        self._order_dirty = False
        self._image_nodes: dict[str, int] = {}
        self._pod_node: dict[str, str] = {}
        self._orphans: dict[str, dict[str, PodInfo]] = {}
        self.epoch = 0
        #: derived per-node tables (the framework's batching); dropped when nodes change
        self.tables: dict = {}
        for n in nodes:
            self.add_node(n)
        for p in pods:
            self.add_pod(p)

    # -- reading ------------------------------------------------------------
    @property
    def nodes(self) -> list[NodeInfo]:
        """NodeInfos in scheduling order (do not mutate the list)."""
        if self._order_dirty:
            self._rebuild_order()
        return self._order

    def index(self, name: str) -> int:
        """Position of node ``name`` in :attr:`nodes`."""
        if self._order_dirty:
            self._rebuild_order()
        return self._index[name]

    def node(self, name: str) -> NodeInfo | None:
        return self._infos.get(name)

    def __len__(self) -> int:
        return len(self._infos)

    def __iter__(self) -> Iterator[NodeInfo]:
        return iter(self.nodes)

    def __contains__(self, name: object) -> bool:
        return name in self._infos

    def image_num_nodes(self, image: str) -> int:
        """On how many nodes the image (by one of its names) is present."""
        return self._image_nodes.get(image, 0)

    def pod_node(self, pod: dict | PodInfo | str) -> str | None:
        """The node a pod is accounted on, or None."""
        key = pod if isinstance(pod, str) else pod.key if isinstance(pod, PodInfo) else pod_key(pod)
        return self._pod_node.get(key)

    # -- nodes ----------------------------------------------------------------
    def add_node(self, node: dict | NodeInfo) -> NodeInfo:
        """Add a node (a Node dict or a NodeInfo); an existing node of that name is updated."""
        name = node.name if isinstance(node, NodeInfo) else (node.get("metadata") or {}).get("name", "")
        if name in self._infos:
            return self.update_node(node.node if isinstance(node, NodeInfo) else node)
        ni = node if isinstance(node, NodeInfo) else NodeInfo(node)
        self._infos[name] = ni
        for key, pi in ni.pods.items():
            self._pod_node[key] = name
        for pi in self._orphans.pop(name, {}).values():
            ni.add_pod(pi)
            self._pod_node[pi.key] = name
        zk = zone_key(ni.labels)
        self._zone_of[name] = zk
        self._zones.setdefault(zk, []).append(name)
        self._count_images(ni, 1)
        self._nodes_changed()
        return ni

    def update_node(self, node: dict) -> NodeInfo:
        """Re-read a Node; cached results are dropped only if a scheduling-relevant field changed."""
        name = (node.get("metadata") or {}).get("name", "")
        ni = self._infos.get(name)
        if ni is None:
            return self.add_node(node)
        before = ni.static_key()
        self._count_images(ni, -1)
        ni.set_node(node)
        self._count_images(ni, 1)
        zk = zone_key(ni.labels)
        if zk != self._zone_of[name]:
            self._zones[self._zone_of[name]].remove(name)
            if not self._zones[self._zone_of[name]]:
                del self._zones[self._zone_of[name]]
            self._zone_of[name] = zk
            self._zones.setdefault(zk, []).append(name)
        if ni.static_key() != before:
            self._nodes_changed()
        return ni

    def remove_node(self, name: str) -> NodeInfo | None:
        """Remove a node; its pods are kept aside until a node of that name comes back."""
        ni = self._infos.pop(name, None)
        if ni is None:
            return None
        zk = self._zone_of.pop(name)
        self._zones[zk].remove(name)
        if not self._zones[zk]:
            del self._zones[zk]
        self._count_images(ni, -1)
        if ni.pods:
            self._orphans[name] = dict(ni.pods)
        self._nodes_changed()
        return ni

    def _count_images(self, ni: NodeInfo, sign: int) -> None:
        counts = self._image_nodes
        for image in ni.images:
            counts[image] = counts.get(image, 0) + sign
            if counts[image] <= 0:
                del counts[image]

    def _nodes_changed(self) -> None:
        self._order_dirty = True
        self.epoch += 1
        self.tables.clear()

    def _rebuild_order(self) -> None:
        lists = list(self._zones.values())
        order: list[NodeInfo] = []
        depth = 0
        remaining = len(self._infos)
        while len(order) < remaining:
            for names in lists:
                if depth < len(names):
                    order.append(self._infos[names[depth]])
            depth += 1
        self._order = order
        self._index = {ni.name: i for i, ni in enumerate(order)}
        self._order_dirty = False

    # -- pods -----------------------------------------------------------------
    def add_pod(self, pod: dict | PodInfo, node_name: str | None = None) -> PodInfo:
        """Account for a pod bound (or assumed) on ``node_name`` (default: its ``spec.nodeName``).

        Adding a pod that is already accounted moves / updates it.
        """
        pi = pod if isinstance(pod, PodInfo) else PodInfo(pod)
        target = node_name or pi.node_name
        if not target:
            raise ValueError(f"pod {pi.namespace}/{pi.name} is not bound to a node")
        old = self._pod_node.get(pi.key)
        if old is not None and old != target:
            self.remove_pod(pi.key)
        ni = self._infos.get(target)
        if ni is None:
            self._orphans.setdefault(target, {})[pi.key] = pi
        else:
            ni.add_pod(pi)
            self._touch(target)
        self._pod_node[pi.key] = target
        return pi

    assume_pod = add_pod

    def remove_pod(self, pod: dict | PodInfo | str) -> PodInfo | None:
        """Forget a pod wherever it is accounted (a deleted pod, a forgotten assumption)."""
        key = pod if isinstance(pod, str) else pod.key if isinstance(pod, PodInfo) else pod_key(pod)
        name = self._pod_node.pop(key, None)
        if name is None:
            return None
        ni = self._infos.get(name)
        if ni is None:
            return self._orphans.get(name, {}).pop(key, None)
        pi = ni.remove_pod(key)
        self._touch(name)
        return pi

    forget_pod = remove_pod

    def _touch(self, name: str) -> None:
        if self.tables:
            i = self.index(name)
            for table in self.tables.values():
                table.dirty.add(i)

    def __repr__(self) -> str:
        return f"<Cache nodes={len(self._infos)} pods={len(self._pod_node)}>"
