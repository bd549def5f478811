"""The kubelet: the node agent that turns pods bound to its node into containers.

A :class:`Kubelet` runs on one machine, talks to the API server through an
:class:`~aivle_k8s.cluster.client.APIClient` (as ``system:node:<name>``) and
to the container runtime through the CRI (a
:class:`~aivle_k8s.runtime.SimulatedRuntime`). Everything happens on the
world's loop:

* registers its Node (retrying while the API server is not there yet), computes
  its node status every 10 s and posts it when it changed (or every 5 min), and
  renews its Lease in ``kube-node-lease`` every 10 s (the heartbeat);
* follows pods with ``spec.nodeName=<node>`` (an Informer) and static pods from
  ``staticPodPath`` (mirror pods in the API), and syncs each: sandbox (pod IP
  from the CNI), image pulls with ImagePullBackOff, containers with
  CrashLoopBackOff restarts, probes, status, events;
* a PLEG-like relist every second notices containers that exited;
* serves ``pods/log`` and ``pods/exec`` for the API server and listens on 10250.

>>> # see tests/test_kubelet*.py for complete set-ups
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from ...runtime.protocol import (CONTAINER_CREATED, CONTAINER_EXITED, CONTAINER_RUNNING, SANDBOX_READY, ContainerConfig,
                                 DNSConfig, Mount, PodSandboxConfig, PortMapping, Resources)
from ...sim.clock import Event, all_of
from ...sim.errors import AivleError, NetworkError
from .pod_workers import Backoff, ContainerRecord, PodWorker
from .probes import run_probe
from .status import node_object, node_status

__all__ = ["Kubelet", "KubeletError", "KubeletEndpoint", "DEFAULT_CONFIG", "runtime_for", "MIRROR_ANNOTATION"]

MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
CONTAINERD_SOCKET = "unix:///run/containerd/containerd.sock"

#: KubeletConfiguration defaults that matter here (kubeadm writes cgroupDriver systemd, clusterDNS, ...).
DEFAULT_CONFIG: dict[str, Any] = {
    "apiVersion": "kubelet.config.k8s.io/v1beta1",
    "kind": "KubeletConfiguration",
    "cgroupDriver": "systemd",
    "clusterDNS": ["10.96.0.10"],
    "clusterDomain": "cluster.local",
    "staticPodPath": "/etc/kubernetes/manifests",
    "failSwapOn": True,
    "containerRuntimeEndpoint": CONTAINERD_SOCKET,
    "nodeStatusUpdateFrequency": "10s",
    "nodeStatusReportFrequency": "5m0s",
    "maxPods": 110,
    "resolvConf": "/run/systemd/resolve/resolv.conf",
    "fileCheckFrequency": "20s",
    "syncFrequency": "1m0s",
}

_VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)|\$\$")


class KubeletError(AivleError):
    """The kubelet cannot run (the ``"command failed" err=...`` of its log)."""


def _seconds(value: Any, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, (int, float)):
        return float(value)
    total, text = 0.0, str(value)
    for num, unit in re.findall(r"([0-9.]+)(ms|h|m|s)", text):
        total += float(num) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[unit]
    return total or default


def _fmt_duration(seconds: float) -> str:
    """Go's time.Duration String(): ``10s``, ``1m20s``, ``5m0s``."""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m{s}s"
    h, m = divmod(m, 60)
    return f"{h}h{m}m{s}s"


def _fmt_secs(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.3g}s" if seconds < 10 else f"{seconds:.1f}s".replace(".0s", "s")
    return f"{seconds * 1000:.0f}ms"


def runtime_for(machine: Any, endpoint: str = CONTAINERD_SOCKET) -> Any:
    """The CRI runtime listening at ``endpoint`` on ``machine`` (one object per machine and socket,
    shared by kubelets and ``crictl``); containerd's by default, CRI-O's and cri-dockerd's likewise."""
    try:  # the shared per-machine registry (aivle_k8s.cluster.runtimes), when present
        from ..runtimes import runtime_for as shared_runtime_for
    except ImportError:  # pragma: no cover
        shared_runtime_for = None
    if shared_runtime_for is not None:
        return shared_runtime_for(machine, endpoint)
    from ...engine.daemon import engine_of
    from ...runtime import SimulatedRuntime

    endpoint = endpoint if "://" in endpoint else f"unix://{endpoint}"
    runtimes = machine.extensions.setdefault("cri", {})
    rt = runtimes.get(endpoint)
    if rt is None:
        if "cri-dockerd" in endpoint:
            engine = engine_of(machine, "docker")
        elif "crio" in endpoint:
            engine = engine_of(machine, "cri-o")
        else:
            engine = engine_of(machine, "containerd")
        rt = SimulatedRuntime(engine, endpoint)
        runtimes[endpoint] = rt
    return rt


def runtime_cgroup_driver(machine: Any, endpoint: str) -> str:
    """The cgroup driver the runtime uses: containerd's ``SystemdCgroup`` (false in ``containerd config
    default`` 1.7 and without a config file), CRI-O's ``cgroup_manager`` (systemd), dockerd's
    ``native.cgroupdriver`` exec-opt (cgroupfs by default) as the running daemon read it (``docker info``)."""
    fs = machine.fs
    try:
        if "containerd" in endpoint:
            text = fs.read_text("/etc/containerd/config.toml") if fs.exists("/etc/containerd/config.toml") else ""
            return "systemd" if re.search(r"SystemdCgroup\s*=\s*true", text) else "cgroupfs"
        if "crio" in endpoint:
            return "systemd"
        from ...engine.engine import cgroup_driver_of

        docker = getattr(machine, "engine", None)
        if getattr(docker, "running", False) and getattr(docker, "cgroup_driver", None):
            return docker.cgroup_driver  # what the running dockerd read at its start (``docker info``)
        text = fs.read_text("/etc/docker/daemon.json") if fs.exists("/etc/docker/daemon.json") else ""
        try:
            conf = json.loads(text or "{}")
        except ValueError:
            conf = {}
        return cgroup_driver_of(conf)
    except AivleError:
        return "cgroupfs"


class KubeletEndpoint:
    """The kubelet's listener on port 10250 (``.kubelet`` is the Python component)."""

    def __init__(self, kubelet: "Kubelet"):
        self.kubelet = kubelet

    def __call__(self, data: bytes, peer: tuple) -> bytes:
        """HTTPS on 10250: ``GET /metrics/resource`` for callers with credentials (metrics-server's
        service account token); ``401 Unauthorized`` for anonymous ones (kubeadm turns anonymous auth off)."""
        from ...linux.http import Request, Response

        try:
            req = Request.parse(data)
        except AivleError:
            return Response(400, b"Bad Request", {"Content-Type": "text/plain"}).to_bytes()
        auth = req.header("Authorization") or ""
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return Response(401, b"Unauthorized", {"Content-Type": "text/plain"}).to_bytes()
        path = req.path.split("?", 1)[0]
        if req.method == "GET" and path == "/metrics/resource" and self.kubelet.running:
            from ..metrics import resource_metrics

            return Response(200, resource_metrics(self.kubelet).encode(),
                            {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}).to_bytes()
        if req.method == "GET" and path == "/healthz":
            return Response(200, b"ok", {"Content-Type": "text/plain; charset=utf-8"}).to_bytes()
        return Response(404, b"404 page not found\n", {"Content-Type": "text/plain; charset=utf-8"}).to_bytes()

    def __repr__(self) -> str:
        return f"<KubeletEndpoint {self.kubelet.node_name}>"


class Kubelet:
    """The kubelet of one machine.

    Args:
        machine: the node's machine (a container runtime installed).
        client: API client as ``system:node:<name>`` (from ``/etc/kubernetes/kubelet.conf``).
        config: KubeletConfiguration (dict, merged over :data:`DEFAULT_CONFIG`).
        runtime: the CRI runtime (default: :func:`runtime_for` the config's endpoint).
        node_name: ``--hostname-override`` (default: the machine's hostname).
        node_ip: ``--node-ip`` (default: the machine's address).
        node_labels: extra labels at registration (``--node-labels``).
        register_with_taints: taints at registration (kubeadm: the control-plane taint).
    """

    def __init__(self, machine: Any, client: Any, *, config: dict | None = None, runtime: Any = None,
                 node_name: str | None = None, node_ip: str | None = None, node_labels: dict | None = None,
                 register_with_taints: list | None = None):
        self.machine = machine
        self.world = machine.world
        self.loop = self.world.loop
        self.client = client
        self.config = {**DEFAULT_CONFIG, **(config or {})}
        self.endpoint = self.config.get("containerRuntimeEndpoint") or CONTAINERD_SOCKET
        self.runtime = runtime if runtime is not None else runtime_for(machine, self.endpoint)
        self.node_name = node_name or machine.hostname
        self.node_ip = node_ip or machine.ip
        self.node_labels = dict(node_labels or {})
        self.register_with_taints = list(register_with_taints or [])
        self.cluster_dns = list(self.config.get("clusterDNS") or [])
        self.cluster_domain = self.config.get("clusterDomain") or "cluster.local"
        self.static_pod_path = self.config.get("staticPodPath") or ""
        self.status_frequency = _seconds(self.config.get("nodeStatusUpdateFrequency"), 10.0)
        self.sync_frequency = _seconds(self.config.get("syncFrequency"), 60.0)
        self.report_frequency = _seconds(self.config.get("nodeStatusReportFrequency"), 300.0)
        self._last_report = float("-inf")
        self._pleg_states: dict | None = None  # the runtime's states at the last relist
        self._lease: dict | None = None  # our Lease as last written
        self.lease_duration = 40
        self.running = False
        self.registered = False
        self.node_uid = ""
        self.pod_cidr = ""
        self.workers: dict[str, PodWorker] = {}
        self.crash_backoff = Backoff(10, 300)
        self.image_backoff = Backoff(10, 300)
        self.events: list[dict] = []  # every event recorded (also sent to the API server when reachable)
        self._event_names: dict[tuple, tuple[str, int]] = {}
        self._transitions: dict[str, tuple[str, str]] = {}
        self._timers: list[Any] = []
        self._informer: Any = None
        self._registered_on: Any = None
        self._static: Any = None
        self.cgroup_mismatch = False
        self.log: list[str] = []
        #: what the runtime held when this kubelet first looked (pod uid -> (sandboxes, containers)):
        #: a previous kubelet's pods, taken over by the workers of the same pods and removed otherwise
        self._inventory: dict[str, tuple[list, list]] | None = None
        self._runtime_version: tuple[str, str] | None = None
        self._housekept = False

    def __repr__(self) -> str:
        return f"<Kubelet {self.node_name} {'running' if self.running else 'stopped'} pods={len(self.workers)}>"

    @property
    def user(self) -> str:
        return f"system:node:{self.node_name}"

    def runtime_info(self) -> tuple[str, str]:
        """``(name, version)`` from the runtime's CRI ``Version`` (``("containerd", "1.7.12")``,
        ``("cri-o", "1.30.0")``, ``("docker", "24.0.7")`` through cri-dockerd), as the node's
        ``containerRuntimeVersion`` and the ``<name>://<id>`` container IDs show it."""
        info = self._runtime_version
        if info is None:
            try:
                v = self.runtime.version()
            except (AivleError, NetworkError, AttributeError):
                return ("containerd", "1.7.12")
            version = str(v.runtime_version)
            info = self._runtime_version = (str(v.runtime_name), version[1:] if version[:1] == "v" else version)
        return info

    @property
    def runtime_scheme(self) -> str:
        return self.runtime_info()[0]

    # =====================================================================================
    # lifecycle
    # =====================================================================================
    def preflight(self) -> None:
        """What makes a real kubelet exit at start-up (swap on with failSwapOn)."""
        kernel = self.machine.kernel
        if self.config.get("failSwapOn", True) and getattr(kernel, "swap_on", False):
            size = int(getattr(kernel, "swap_total", 2 * 1024**3)) // 1024
            raise KubeletError("failed to run Kubelet: running with swap on is not supported, please disable swap! "
                               "or set --fail-swap-on flag to false. /proc/swaps contained: "
                               "[Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority /swap.img                    "
                               f"           file\t\t{size}\t\t0\t\t-2]")

    def start(self) -> "Kubelet":
        """Start syncing (raises :class:`KubeletError` when it would exit)."""
        if self.running:
            return self
        self.preflight()
        kdriver = self.config.get("cgroupDriver", "systemd")
        rdriver = runtime_cgroup_driver(self.machine, self.endpoint)
        self.cgroup_mismatch = kdriver != rdriver
        if self.cgroup_mismatch:
            self._log("W", f'"Cgroup driver mismatch" kubeletCgroupDriver="{kdriver}" runtimeCgroupDriver="{rdriver}"')
        self.running = True
        try:
            self.machine.netns.listen(10250, KubeletEndpoint(self))
        except NetworkError:
            pass
        from .static import StaticPods

        self._static = StaticPods(self)
        self._static.scan()
        freq = _seconds(self.config.get("fileCheckFrequency"), 20.0)
        self._timers.append(self.loop.call_every(freq, self._static.scan))
        self._register()
        self._timers.append(self.loop.call_every(self.status_frequency, self._status_tick))
        self._timers.append(self.loop.call_every(10.0, self._renew_lease))
        self._timers.append(self.loop.call_every(1.0, self._relist))
        self._start_informer()
        return self

    def stop(self) -> None:
        """``systemctl stop kubelet``: stop syncing and reporting; containers keep running."""
        if not self.running:
            return
        self.running = False
        for t in self._timers:
            t.cancel()
        self._timers.clear()
        for w in self.workers.values():
            if w.timer is not None:
                w.timer.cancel()
                w.timer = None
            for rec in w.containers.values():
                self._cancel_probes(rec)
        if self._informer is not None:
            self._informer.stop()
            self._informer = None
        if self.machine.netns.listeners.get(10250).__class__ is KubeletEndpoint:
            self.machine.netns.close(10250)
        if self._registered_on is not None:
            if self._registered_on.kubelets.get(self.node_name) == self._serve:
                self._registered_on.unregister_kubelet(self.node_name)
            self._registered_on = None

    def _log(self, level: str, text: str) -> None:
        self.log.append(f"{level} {self.world.timestamp()} {text}")

    # =====================================================================================
    # node registration, status, lease
    # =====================================================================================
    def _register(self) -> None:
        if not self.running or self.registered:
            return
        from ..apiserver.errors import AlreadyExistsError

        node = node_object(self.machine, self.node_name, self.node_ip, self.node_labels, self.register_with_taints)
        try:
            try:
                created = self.client.create(node)
            except AlreadyExistsError:
                created = self.client.get("nodes", self.node_name)
            self.registered = True
            self.node_uid = created["metadata"]["uid"]
            self.pod_cidr = (created.get("spec") or {}).get("podCIDR", "")
            self._log("I", f'"Successfully registered node" node="{self.node_name}"')
            self._post_status()
            self._renew_lease()
            self._connect_apiserver()
            if self._static is not None:
                self._static.sync_mirrors()
        except (NetworkError, AivleError) as e:
            self._log("E", f'"Unable to register node with API server" err="{e}" node="{self.node_name}"')
            if self.running:
                self.loop.call_later(7.0, self._register)

    def _connect_apiserver(self) -> None:
        try:
            api = self.client.apiserver()
        except NetworkError:
            return
        if api.kubelets.get(self.node_name) != self._serve:
            api.register_kubelet(self.node_name, self._serve)
        self._registered_on = api

    def _images(self) -> list[dict]:
        out = []
        try:
            for img in self.runtime.list_images():
                names = list(img.repo_digests) + list(img.repo_tags)
                if names:
                    out.append({"names": names, "sizeBytes": int(img.size)})
        except AivleError:
            pass
        out.sort(key=lambda i: -i["sizeBytes"])
        return out[:50]

    def network_ready(self) -> tuple[bool, str, str]:
        """``(ready, reason, message)`` of the Ready condition from the runtime's Status."""
        try:
            conds = self.runtime.status()
        except AivleError:
            return False, "KubeletNotReady", "container runtime is down"
        for c in conds:
            if c.type == "RuntimeReady" and not c.status:
                return False, "KubeletNotReady", "container runtime is down"
        for c in conds:
            if c.type == "NetworkReady" and not c.status:
                return False, "KubeletNotReady", (f"container runtime network not ready: NetworkReady=false "
                                                  f"reason:{c.reason} message:{c.message}")
        return True, "KubeletReady", "kubelet is posting ready status"

    def node_status(self) -> dict:
        return node_status(self.machine, self.node_name, self.node_ip, ready=self.network_ready(),
                           images=self._images(), timestamp=self.world.timestamp(), transitions=self._transitions,
                           max_pods=int(self.config.get("maxPods", 110)),
                           runtime_version="://".join(self.runtime_info()))

    def _post_status(self) -> None:
        """``tryUpdateNodeStatus``: compute the status every ``nodeStatusUpdateFrequency`` (10 s) and
        post it when it changed (heartbeat times aside) or ``nodeStatusReportFrequency`` (5 min) has
        passed since the last report -- the Lease is the heartbeat in between."""
        status = self.node_status()
        node = self.client.get("nodes", self.node_name)
        self.pod_cidr = (node.get("spec") or {}).get("podCIDR", "") or self.pod_cidr
        old = node.get("status") or {}
        new = {**old, **status}
        if self.loop.now < self._last_report + self.report_frequency and not _status_changed(old, new):
            return
        node["status"] = new
        self.client.update(node, subresource="status")
        self._last_report = self.loop.now

    def _status_tick(self) -> None:
        if not self.running:
            return
        if not self.registered:
            return
        try:
            self._post_status()
            self._connect_apiserver()
        except (NetworkError, AivleError) as e:
            self._log("E", f'"Error updating node status, will retry" err="{e}"')

    def _renew_lease(self) -> None:
        if not self.running or not self.registered:
            return
        now = self.world.datetime().strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
        latest = self._lease
        self._lease = None
        if latest is not None:
            # the lease controller updates the Lease it wrote last (nobody else writes it);
            # on any failure it falls back to reading it again
            try:
                self._lease = self.client.update({**latest, "spec": {**latest["spec"], "renewTime": now,
                                                                     "holderIdentity": self.node_name}})
                return
            except (NetworkError, AivleError):
                pass
        from ..apiserver.errors import NotFoundError

        try:
            try:
                lease = self.client.get("leases", self.node_name, "kube-node-lease")
                lease["spec"]["renewTime"] = now
                lease["spec"]["holderIdentity"] = self.node_name
                self._lease = self.client.update(lease)
            except NotFoundError:
                self._lease = self.client.create({
                    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": self.node_name, "namespace": "kube-node-lease",
                                 "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": self.node_name,
                                                      "uid": self.node_uid}]},
                    "spec": {"holderIdentity": self.node_name, "leaseDurationSeconds": self.lease_duration,
                             "renewTime": now}})
        except (NetworkError, AivleError) as e:
            self._log("E", f'"Failed to update lease" err="{e}"')

    # =====================================================================================
    # pods from the API server
    # =====================================================================================
    def _start_informer(self) -> None:
        from ..client import Informer

        inf = Informer(self.client, "pods", loop=self.loop, field_selector=f"spec.nodeName={self.node_name}")
        inf.add_handler(self._on_pod, self._on_pod_update, self._on_pod_deleted)
        self._informer = inf
        inf.start()

    @staticmethod
    def _is_mirror(pod: dict) -> bool:
        return MIRROR_ANNOTATION in ((pod.get("metadata") or {}).get("annotations") or {})

    def _on_pod(self, pod: dict) -> None:
        if not self.running:
            return
        if self._is_mirror(pod):
            if self._static is not None:
                self._static.mirror_seen(pod)
            return
        meta = pod["metadata"]
        key = f"{meta.get('namespace', 'default')}/{meta['name']}"
        w = self.workers.get(key)
        if w is not None and w.uid != meta.get("uid"):
            self._kill_worker(w)
            w = None
        if w is None:
            w = self._new_worker(key, pod)
        else:
            w.pod = pod
        if meta.get("deletionTimestamp") and not w.terminating:
            w.terminating = True
        self._sync(w)

    @staticmethod
    def _relevant(pod: dict) -> tuple:
        meta = pod.get("metadata") or {}
        return (meta.get("uid"), json.dumps(pod.get("spec"), sort_keys=True), meta.get("deletionTimestamp"),
                json.dumps(meta.get("labels"), sort_keys=True), json.dumps(meta.get("annotations"), sort_keys=True))

    def _on_pod_update(self, old: dict, new: dict) -> None:
        """Only changes the kubelet did not make itself (spec, deletion, labels) start a sync, as
        the kubelet's config source filters status-only updates."""
        if self._relevant(old) == self._relevant(new):
            meta = new["metadata"]
            w = self.workers.get(f"{meta.get('namespace', 'default')}/{meta['name']}")
            if w is not None and w.uid == meta.get("uid"):
                w.pod = new
            elif self._is_mirror(new) and self._static is not None:
                self._static.mirror_seen(new)
            return
        self._on_pod(new)

    def _on_pod_deleted(self, pod: dict) -> None:
        if self._is_mirror(pod):
            if self._static is not None and self.running:
                self._static.mirror_deleted(pod)
            return
        meta = pod["metadata"]
        key = f"{meta.get('namespace', 'default')}/{meta['name']}"
        w = self.workers.get(key)
        if w is not None and w.uid == meta.get("uid"):
            self._kill_worker(w)

    def _new_worker(self, key: str, pod: dict, static: bool = False) -> PodWorker:
        w = PodWorker(key, pod, static=static)
        spec = pod.get("spec") or {}
        for c in spec.get("initContainers") or []:
            w.containers[c["name"]] = ContainerRecord(c["name"], init=True)
        for c in spec.get("containers") or []:
            w.containers[c["name"]] = ContainerRecord(c["name"])
        w.start_time = self.world.timestamp()
        self.workers[key] = w
        return w

    def _kill_worker(self, w: PodWorker) -> None:
        """The pod is gone from the API (or replaced): kill everything at once and forget it."""
        if w.timer is not None:
            w.timer.cancel()
            w.timer = None
        for rec in w.containers.values():
            self._cancel_probes(rec)
        if w.sandbox_id:
            try:
                self.runtime.stop_pod_sandbox(w.sandbox_id)
                self.runtime.remove_pod_sandbox(w.sandbox_id)
            except AivleError:
                pass
        w.terminated = True
        self.crash_backoff.forget_prefix(f"{w.uid}/")
        self.image_backoff.forget_prefix(f"{w.uid}/")
        if self.workers.get(w.key) is w:
            del self.workers[w.key]

    # =====================================================================================
    # the sync loop
    # =====================================================================================
    def _relist(self) -> None:
        """The PLEG: list the runtime's sandboxes and containers and sync the pods whose state
        changed. A pod that reached a steady state (sandbox ready, every container running or
        done, its status posted) and whose containers are as they were is left alone until the
        next periodic sync (``syncFrequency``, 1 min); a pod still on its way (pulling, backing
        off, waiting for the network, failing to post its status) is synced on every relist."""
        if not self.running:
            return
        if not self._housekept and self._informer is not None and self._informer.synced:
            try:
                self._housekeeping()
            except (AivleError, NetworkError):
                self._housekept = False  # the runtime does not answer yet
        try:
            states = self.runtime.relist()
        except (AttributeError, AivleError, NetworkError):
            states = None
        resync = self.loop.now - self.sync_frequency
        same = states is not None and states == self._pleg_states
        self._pleg_states = states
        for w in list(self.workers.values()):
            if w.terminated:
                continue
            record = w.pleg
            if states is not None and record is not None and w.synced_at > resync:
                if same and w.pleg_checked:
                    continue  # checked against these very states at the last relist
                for i, state in record:
                    if states.get(i) != state:
                        break
                else:
                    w.pleg_checked = True
                    continue
            self._sync(w)

    # -- a kubelet (re)start finds what the runtime already runs --------------------------------
    def _leftovers(self, uid: str | None) -> tuple[list, list] | None:
        """The sandboxes and containers of pod ``uid`` that were in the runtime when this kubelet first
        listed it (``ListPodSandbox`` + ``ListContainers``, grouped by the ``io.kubernetes.pod.uid`` label);
        each pod's share is handed out once. Raises when the runtime does not answer (tried again later)."""
        if self._inventory is None:
            inventory: dict[str, tuple[list, list]] = {}
            try:
                sandboxes = self.runtime.list_pod_sandbox()
                containers = self.runtime.list_containers()
            except AttributeError:  # a runtime without the listing calls: nothing to take over
                sandboxes, containers = [], []
            for sb in sandboxes:
                key = (sb.labels or {}).get("io.kubernetes.pod.uid") or sb.metadata.uid
                inventory.setdefault(key, ([], []))[0].append(sb)
            for c in containers:
                key = (c.labels or {}).get("io.kubernetes.pod.uid", "")
                inventory.setdefault(key, ([], []))[1].append(c)
            self._inventory = inventory
        return self._inventory.pop(uid, None) if uid is not None else None

    def _terminated(self, st: Any, cid: str) -> dict:
        """A ``state.terminated`` from a CRI ContainerStatus."""
        term = {"exitCode": st.exit_code, "reason": st.reason or ("Completed" if st.exit_code == 0 else "Error"),
                "startedAt": self.world.timestamp(st.started_at) if st.started_at is not None else None,
                "finishedAt": self.world.timestamp(st.finished_at if st.finished_at is not None else self.loop.now),
                "containerID": f"{self.runtime_scheme}://{cid}"}
        if st.message:
            term["message"] = st.message
        if term["startedAt"] is None:
            term.pop("startedAt")
        return term

    def _adopt(self, w: PodWorker) -> None:
        """Take over what a previous kubelet left in the runtime for this pod, as a restarted kubelet
        does from the runtime's pod status: the newest sandbox (a dead one is then killed and
        re-created with the next attempt number), each container's newest instance (a running one
        keeps running, an exited one is restarted by the restart policy with the next attempt and
        restart count) and the instance before it (``lastState``, ``logs --previous``)."""
        found = self._leftovers(w.uid)
        w.adopted = True
        if not found:
            return
        rt = self.runtime
        sandboxes, containers = found
        status = w.pod.get("status") or {}
        if status.get("startTime"):
            w.start_time = status["startTime"]
        if sandboxes:
            sandboxes = sorted(sandboxes, key=lambda s: (s.metadata.attempt, s.created_at), reverse=True)
            latest = sandboxes[0]
            for old in sandboxes[1:]:  # the garbage collector's job: only the newest sandbox is kept
                try:
                    rt.stop_pod_sandbox(old.id)
                    rt.remove_pod_sandbox(old.id)
                except AivleError:
                    pass
            w.sandbox_id = latest.id
            w.sandbox_attempt = latest.metadata.attempt
            st = rt.pod_sandbox_status(latest.id)
            if st.state == SANDBOX_READY:
                w.pod_ip = st.ip
        spec = w.pod.get("spec") or {}
        specs = {c["name"]: c for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])}
        for rec in w.containers.values():
            mine = sorted((c for c in containers if c.metadata.name == rec.name),
                          key=lambda c: (c.metadata.attempt, c.created_at), reverse=True)
            if not mine:
                continue
            latest, previous = mine[0], (mine[1] if len(mine) > 1 else None)
            for old in mine[2:]:
                try:
                    rt.remove_container(old.id)
                except AivleError:
                    pass
            st = rt.container_status(latest.id)
            try:
                rec.restart_count = int((st.annotations or {}).get("io.kubernetes.container.restartCount", 0))
            except (TypeError, ValueError):
                rec.restart_count = 0
            rec.attempt = latest.metadata.attempt + 1
            rec.image_ref = specs.get(rec.name, {}).get("image", "")
            if previous is not None:
                pst = rt.container_status(previous.id)
                if pst.state == CONTAINER_EXITED:
                    rec.previous_id = previous.id
                    rec.last_state = {"terminated": self._terminated(pst, previous.id)}
                    rec.finished_at = pst.finished_at if pst.finished_at is not None else self.loop.now
                else:
                    try:
                        rt.remove_container(previous.id)
                    except AivleError:
                        pass
            if st.state == CONTAINER_CREATED:  # never started: made again
                try:
                    rt.remove_container(latest.id)
                except AivleError:
                    pass
                continue
            rec.id = latest.id
            rec.waiting = None
            if st.state == CONTAINER_RUNNING:
                c = specs.get(rec.name, {})
                rec.started_at = st.started_at
                rec.started = "startupProbe" not in c
                rec.ready = rec.started and "readinessProbe" not in c
                if w.pod_ip or spec.get("hostNetwork"):
                    self._start_probes(w, rec, c, latest.id)
        if status.get("phase") in ("Succeeded", "Failed"):  # a finished pod is not started again
            w.finished_phase = status["phase"]
            for rec in w.containers.values():
                if rec.id:
                    try:
                        if rt.container_status(rec.id).state == CONTAINER_EXITED:
                            self._record_exit(w, rec)
                    except AivleError:
                        rec.id = None
                rec.done = True
                rec.waiting = None

    def _housekeeping(self) -> None:
        """Once the pods bound to this node are known (the informer listed them, the manifests were
        read), what a previous kubelet left for pods that are gone is killed and removed."""
        self._housekept = True
        self._leftovers(None)
        inventory, self._inventory = self._inventory or {}, {}
        known = {w.uid for w in self.workers.values()}
        rt = self.runtime
        for uid, (sandboxes, containers) in inventory.items():
            if uid in known:
                continue
            for c in containers:
                try:
                    rt.remove_container(c.id)
                except AivleError:
                    pass
            for sb in sandboxes:
                try:
                    rt.stop_pod_sandbox(sb.id)
                    rt.remove_pod_sandbox(sb.id)
                except AivleError:
                    pass

    @staticmethod
    def _pleg_record(w: PodWorker, states: dict[str, str]) -> tuple:
        ids = [w.sandbox_id] + [r.id for r in w.containers.values() if r.id]
        return tuple((i, states.get(i)) for i in ids if i)

    def _steady(self, w: PodWorker) -> tuple | None:
        """The PLEG record of ``w`` when nothing is left to do for it until its containers change."""
        if w.terminating or w.stop_events or w.timer is not None:
            return None
        if not w.finished_phase:
            if w.sandbox_id is None:
                return None
            for rec in w.containers.values():
                if rec.pulling_until is not None or (not rec.done and rec.id is None):
                    return None
        ids = [i for i in [w.sandbox_id] + [r.id for r in w.containers.values()] if i]
        try:
            states = self.runtime.relist(ids)
        except (AttributeError, AivleError, NetworkError, TypeError):
            return None
        if not w.finished_phase:
            if states.get(w.sandbox_id) != SANDBOX_READY:
                return None
            if any(rec.id and states.get(rec.id) != CONTAINER_RUNNING for rec in w.containers.values()):
                return None
        return self._pleg_record(w, states)

    def _wake(self, w: PodWorker, at: float) -> None:
        """Sync ``w`` again at simulated time ``at`` (the earliest wins)."""
        if w.timer is not None and not w.timer.cancelled and w.timer.when <= at:
            return
        if w.timer is not None:
            w.timer.cancel()

        def fire() -> None:
            w.timer = None
            if self.running and not w.terminated:
                self._sync(w)

        w.timer = self.loop.call_at(at, fire)

    def _sync(self, w: PodWorker) -> None:
        if w.terminated or not self.running:
            return
        w.pleg = None
        w.pleg_checked = False
        ok = True
        try:
            if not w.adopted:
                self._adopt(w)
            if w.terminating:
                self._sync_terminating(w)
            else:
                self._sync_pod(w)
        except (NetworkError, AivleError) as e:  # the runtime is down: try again on the next relist
            ok = False
            self._log("E", f'"Error syncing pod, skipping" err="{e}" pod="{w.key}"')
        if not w.terminated:
            if self._push_status(w) and ok:
                w.pleg = self._steady(w)
                w.synced_at = self.loop.now

    def _sandbox_config(self, w: PodWorker) -> PodSandboxConfig:
        pod = w.pod
        meta, spec = pod["metadata"], pod.get("spec") or {}
        host_net = bool(spec.get("hostNetwork"))
        dns = None
        policy = spec.get("dnsPolicy", "ClusterFirst")
        if policy == "ClusterFirstWithHostNet" or (policy == "ClusterFirst" and not host_net):
            if self.cluster_dns:
                ns = meta.get("namespace", "default")
                d = self.cluster_domain
                dns = DNSConfig(tuple(self.cluster_dns), (f"{ns}.svc.{d}", f"svc.{d}", d), ("ndots:5",))
        elif policy == "None":
            cfg = spec.get("dnsConfig") or {}
            dns = DNSConfig(tuple(cfg.get("nameservers") or ()), tuple(cfg.get("searches") or ()),
                            tuple(f"{o['name']}:{o['value']}" if o.get("value") else o["name"]
                                  for o in cfg.get("options") or []))
        ports = []
        for c in spec.get("containers") or []:
            for p in c.get("ports") or []:
                if p.get("hostPort"):
                    ports.append(PortMapping(int(p["containerPort"]), int(p["hostPort"]), p.get("hostIP", ""),
                                             p.get("protocol", "TCP")))
        hostname = spec.get("hostname") or meta["name"]
        return PodSandboxConfig(meta["name"], meta.get("namespace", "default"), uid=meta.get("uid", ""),
                                attempt=w.sandbox_attempt, hostname=hostname,
                                labels=dict(meta.get("labels") or {}),
                                annotations=dict(meta.get("annotations") or {}), dns=dns, port_mappings=ports,
                                log_directory=f"/var/log/pods/{meta.get('namespace', 'default')}_{meta['name']}_"
                                              f"{meta.get('uid', '')}",
                                host_network=host_net)

    def _ensure_sandbox(self, w: PodWorker) -> bool:
        rt = self.runtime
        spec = w.pod.get("spec") or {}
        host_net = bool(spec.get("hostNetwork"))
        if w.sandbox_id is not None:
            try:
                st = rt.pod_sandbox_status(w.sandbox_id)
                if st.state == SANDBOX_READY:
                    return True
            except AivleError:
                pass
            # the sandbox died (pause killed, cgroup driver trouble): kill it and start over
            self._event(w, "Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")
            for rec in w.containers.values():
                self._cancel_probes(rec)
                if rec.id:
                    self._record_exit(w, rec)
                if rec.init:  # a new sandbox is initialised again (computePodActions starts from the first)
                    rec.done = False
            try:
                rt.stop_pod_sandbox(w.sandbox_id)
            except AivleError:
                pass
            w.sandbox_id = None
            w.sandbox_attempt += 1
            w.pod_ip = ""
        if not host_net:
            ok, _, message = self.network_ready()
            if not ok:
                self._event(w, "Warning", "NetworkNotReady", f"network is not ready: {message}")
                return False
            self._ensure_cni()
            ipam = rt.ip_allocator
            if ipam is not None and hasattr(ipam, "check"):
                try:
                    ipam.check()
                except AivleError as e:
                    self._sandbox_failed(w, e.message)
                    return False
        config = self._sandbox_config(w)
        try:
            sandbox_id = rt.run_pod_sandbox(config)
        except AivleError as e:
            self._sandbox_failed(w, e.message)
            return False
        w.sandbox_id = sandbox_id
        w.pod_ip = rt.pod_sandbox_status(sandbox_id).ip
        if not host_net:
            self._install_resolver(w)
        if self.cgroup_mismatch:
            self._schedule_cgroup_trouble(w, sandbox_id)
        return True

    def _sandbox_failed(self, w: PodWorker, message: str) -> None:
        sid = hashlib.sha256(f"{w.uid}/{w.sandbox_attempt}".encode()).hexdigest()
        self._event(w, "Warning", "FailedCreatePodSandBox",
                    f'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for '
                    f'sandbox "{sid}": {message}')
        self._wake(w, self.loop.now + 10)

    def _ensure_cni(self) -> None:
        """Once a CNI config exists, pod addresses come from the CNI plugin (host-local IPAM)."""
        rt = self.runtime
        if getattr(rt, "ip_allocator", None) is None and hasattr(rt, "ip_allocator"):
            from ..cni import HostLocalIPAM, cni_config

            if cni_config(self.machine.fs) is not None:
                rt.ip_allocator = HostLocalIPAM(self.machine)

    def _schedule_cgroup_trouble(self, w: PodWorker, sandbox_id: str) -> None:
        """kubelet (systemd) and runtime (cgroupfs) disagree: the runtime's and systemd's views of the pod's
        cgroups conflict and the sandbox is torn down every now and then (the containers keep restarting)."""
        delay = 60 + int(hashlib.sha256(sandbox_id.encode()).hexdigest()[:4], 16) % 90

        def trouble() -> None:
            if w.sandbox_id != sandbox_id or w.terminated:
                return
            try:
                pause = self.runtime.engine.containers.get(sandbox_id)
                if pause.running:
                    pause.kill()
            except AivleError:
                pass

        self.loop.call_later(delay, trouble)

    def _install_resolver(self, w: PodWorker) -> None:
        try:
            netns = self.runtime.netns(w.sandbox_id)
        except (AivleError, AttributeError):
            return
        if netns is None or not self.cluster_dns:
            return
        ns = w.namespace
        d = self.cluster_domain
        search = [f"{ns}.svc.{d}", f"svc.{d}", d]
        server = self.cluster_dns[0]
        net = self.world.net

        def resolve(host: str) -> str | None:
            try:
                handler = net.endpoint(netns, server, 53)
            except NetworkError:
                return None
            dns = getattr(handler, "coredns", None)
            if dns is None:
                return None
            return dns.lookup(host, search)

        netns.resolvers.append(resolve)

    def _sync_pod(self, w: PodWorker) -> None:
        if w.finished_phase:
            return
        if not self._ensure_sandbox(w):
            return
        spec = w.pod.get("spec") or {}
        for c in spec.get("initContainers") or []:
            rec = w.containers[c["name"]]
            if not rec.done:
                self._sync_container(w, rec, c)
                if not rec.done:
                    return
                if rec.last_state.get("terminated", {}).get("exitCode", 0) != 0:
                    if spec.get("restartPolicy", "Always") == "Never":
                        self._finish_pod(w, "Failed")  # an init container failed for good
                    return
        for c in spec.get("containers") or []:
            self._sync_container(w, w.containers[c["name"]], c)
        mains = [w.containers[c["name"]] for c in spec.get("containers") or []]
        if mains and all(r.done for r in mains):
            self._finish_pod(w)

    def _finish_pod(self, w: PodWorker, phase: str | None = None) -> None:
        """Every container terminated for good (restartPolicy): the sandbox goes, the IP is released."""
        codes = [r.last_state.get("terminated", {}).get("exitCode", 0) for r in w.containers.values()
                 if not r.init]
        w.finished_phase = phase or ("Succeeded" if all(c == 0 for c in codes) else "Failed")
        if w.sandbox_id:
            try:
                self.runtime.stop_pod_sandbox(w.sandbox_id)
            except AivleError:
                pass

    def _record_exit(self, w: PodWorker, rec: ContainerRecord) -> dict:
        st = self.runtime.container_status(rec.id)
        term = self._terminated(st, rec.id)
        self._cancel_probes(rec)
        if rec.previous_id and rec.previous_id != rec.id:
            try:
                self.runtime.remove_container(rec.previous_id)
            except AivleError:
                pass
        rec.previous_id = rec.id
        rec.id = None
        rec.finished_at = st.finished_at if st.finished_at is not None else self.loop.now
        rec.last_state = {"terminated": term}
        rec.ready = False
        rec.started = False
        rec.killing = False
        return term

    def _sync_container(self, w: PodWorker, rec: ContainerRecord, c: dict) -> None:
        rt = self.runtime
        spec = w.pod.get("spec") or {}
        if rec.id:
            st = rt.container_status(rec.id)
            if st.state != CONTAINER_EXITED:
                return
            term = self._record_exit(w, rec)
            policy = spec.get("restartPolicy", "Always")
            code = term["exitCode"]
            if rec.init:
                restart = code != 0 and policy != "Never"
            else:
                restart = policy == "Always" or (policy == "OnFailure" and code != 0)
            if not restart:
                rec.done = True
                rec.waiting = None
                return
        if rec.done:
            return
        now = self.loop.now
        if rec.last_state.get("terminated"):
            key = f"{w.uid}/{rec.name}"
            if self.crash_backoff.in_backoff_since(key, rec.finished_at, now):
                delay = self.crash_backoff.get(key)
                msg = (f"back-off {_fmt_duration(delay)} restarting failed container={rec.name} "
                       f"pod={w.name}_{w.namespace}({w.uid})")
                if rec.waiting is None or rec.waiting[0] != "CrashLoopBackOff":
                    self._event(w, "Warning", "BackOff", f"Back-off restarting failed container {rec.name} in pod "
                                                         f"{w.name}_{w.namespace}({w.uid})", container=rec.name)
                rec.waiting = ("CrashLoopBackOff", msg)
                self._wake(w, rec.finished_at + delay)
                return
        if not self._ensure_image(w, rec, c):
            return
        if rec.last_state.get("terminated"):
            self.crash_backoff.next(f"{w.uid}/{rec.name}", now)
        self._start_container(w, rec, c)

    # -- images -----------------------------------------------------------------------
    def _pull(self, image: str) -> float:
        """Pull through the CRI; returns the simulated seconds the download takes (waited on the loop
        by the caller instead of blocking it)."""
        done = self.runtime.pull_image(image, wait=False)
        return float(getattr(done, "seconds", 0.0) or 0.0)

    @staticmethod
    def _full_ref(image: str) -> str:
        from ...images.reference import parse_reference

        try:
            return str(parse_reference(image))
        except AivleError:
            return image

    def _pull_error(self, image: str, e: AivleError) -> str:
        from ...sim.errors import ManifestUnknown, Unauthorized

        ref = self._full_ref(image)
        if isinstance(e, ManifestUnknown):
            return (f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": failed to resolve '
                    f'reference "{ref}": {ref}: not found')
        if isinstance(e, Unauthorized):
            return (f'rpc error: code = Unknown desc = failed to pull and unpack image "{ref}": failed to resolve '
                    f'reference "{ref}": pull access denied, repository does not exist or may require '
                    f'authorization: server message: insufficient_scope: authorization failed')
        return (f'rpc error: code = Unknown desc = failed to pull and unpack image "{ref}": failed to resolve '
                f'reference "{ref}": {e.message}')

    def _ensure_image(self, w: PodWorker, rec: ContainerRecord, c: dict) -> bool:
        image = c.get("image", "")
        now = self.loop.now
        if rec.pulling_until is not None:
            if now < rec.pulling_until:
                rec.waiting = ("ContainerCreating", "")
                self._wake(w, rec.pulling_until)
                return False
            took = rec.pulling_until - rec.pull_started
            rec.pulling_until = None
            size = 0
            img = self.runtime.image_status(image)
            if img is not None:
                size = img.size
            self._event(w, "Normal", "Pulled", f'Successfully pulled image "{image}" in {_fmt_secs(took)} '
                                               f'({_fmt_secs(took)} including waiting). Image size: {size} bytes.',
                        container=rec.name)
            return True
        policy = c.get("imagePullPolicy") or ("Always" if image.endswith(":latest") or ":" not in
                                              image.rsplit("/", 1)[-1] else "IfNotPresent")
        present = self.runtime.image_status(image) is not None
        if policy == "Never" and not present:
            msg = f'Container image "{image}" is not present with pull policy of Never'
            rec.waiting = ("ErrImageNeverPull", msg)
            self._event(w, "Warning", "ErrImageNeverPull", msg, container=rec.name)
            return False
        if present and policy != "Always":
            if rec.waiting is None or rec.waiting[0] != "ContainerCreating" or not rec.image_ref:
                self._event(w, "Normal", "Pulled", f'Container image "{image}" already present on machine',
                            container=rec.name)
            rec.image_ref = image
            return True
        key = f"{w.uid}/{image}"
        failed_at = getattr(rec, "pull_failed_at", None)
        if failed_at is not None and self.image_backoff.in_backoff_since(key, failed_at, now):
            if rec.waiting is None or rec.waiting[0] != "ImagePullBackOff":
                self._event(w, "Normal", "BackOff", f'Back-off pulling image "{image}"', container=rec.name)
                self._event(w, "Warning", "Failed", "Error: ImagePullBackOff", container=rec.name)
            rec.waiting = ("ImagePullBackOff", f'Back-off pulling image "{image}"')
            self._wake(w, failed_at + self.image_backoff.get(key))
            return False
        self._event(w, "Normal", "Pulling", f'Pulling image "{image}"', container=rec.name)
        try:
            seconds = self._pull(image)
        except (AivleError, NetworkError) as e:
            msg = self._pull_error(image, e)
            rec.waiting = ("ErrImagePull", msg)
            self._event(w, "Warning", "Failed", f'Failed to pull image "{image}": {msg}', container=rec.name)
            self._event(w, "Warning", "Failed", "Error: ErrImagePull", container=rec.name)
            self.image_backoff.next(key, now)
            rec.pull_failed_at = now  # type: ignore[attr-defined]
            self._wake(w, now + self.image_backoff.get(key))
            return False
        rec.pull_failed_at = None  # type: ignore[attr-defined]
        self.image_backoff.reset(key)
        rec.image_ref = image
        rec.pull_started = now
        rec.pulling_until = now + max(seconds, 0.0)
        rec.waiting = ("ContainerCreating", "")
        if seconds <= 0:
            return self._ensure_image(w, rec, c)
        self._wake(w, rec.pulling_until)
        return False

    # -- containers ----------------------------------------------------------------------
    def _service_env(self, w: PodWorker) -> dict[str, str]:
        """``KUBERNETES_SERVICE_HOST`` & co. (enableServiceLinks: every Service of the namespace)."""
        env: dict[str, str] = {}
        try:
            items = self.client.list("services", "default").get("items", [])
            if (w.pod.get("spec") or {}).get("enableServiceLinks", True) and w.namespace != "default":
                items = items + self.client.list("services", w.namespace).get("items", [])
            elif not (w.pod.get("spec") or {}).get("enableServiceLinks", True):
                items = [s for s in items if s["metadata"]["name"] == "kubernetes"]
        except (NetworkError, AivleError):
            return env
        for svc in items:
            sp = svc.get("spec") or {}
            ip = sp.get("clusterIP")
            if not ip or ip == "None" or not sp.get("ports"):
                continue
            if svc["metadata"]["namespace"] != w.namespace and svc["metadata"]["name"] != "kubernetes":
                continue
            name = svc["metadata"]["name"].upper().replace("-", "_")
            first = sp["ports"][0]
            env[f"{name}_SERVICE_HOST"] = ip
            env[f"{name}_SERVICE_PORT"] = str(first["port"])
            for p in sp["ports"]:
                proto = p.get("protocol", "TCP")
                if p.get("name"):
                    env[f"{name}_SERVICE_PORT_{p['name'].upper().replace('-', '_')}"] = str(p["port"])
                base = f"{name}_PORT_{p['port']}_{proto}"
                env[base] = f"{proto.lower()}://{ip}:{p['port']}"
                env[f"{base}_PROTO"] = proto.lower()
                env[f"{base}_PORT"] = str(p["port"])
                env[f"{base}_ADDR"] = ip
            env[f"{name}_PORT"] = f"{first.get('protocol', 'TCP').lower()}://{ip}:{first['port']}"
        return env

    def _field_ref(self, w: PodWorker, path: str) -> str:
        pod = w.pod
        meta = pod["metadata"]
        table = {"metadata.name": meta["name"], "metadata.namespace": w.namespace, "metadata.uid": w.uid,
                 "spec.nodeName": self.node_name, "spec.serviceAccountName":
                     (pod.get("spec") or {}).get("serviceAccountName", ""),
                 "status.podIP": w.pod_ip, "status.hostIP": self.node_ip, "status.podIPs": w.pod_ip,
                 "status.hostIPs": self.node_ip}
        m = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
        if m:
            return str((meta.get(m.group(1)) or {}).get(m.group(2), ""))
        return str(table.get(path, ""))

    def _env(self, w: PodWorker, c: dict) -> dict[str, str]:
        env = self._service_env(w)
        for src in c.get("envFrom") or []:
            ref = src.get("configMapRef") or src.get("secretRef")
            if not ref:
                continue
            data = self._config_data("configmaps" if "configMapRef" in src else "secrets", w.namespace,
                                     ref.get("name", ""))
            for k, v in (data or {}).items():
                env[src.get("prefix", "") + k] = v
        for e in c.get("env") or []:
            name = e.get("name")
            if "value" in e:
                env[name] = _expand(str(e.get("value", "")), env)
            elif "valueFrom" in e:
                vf = e["valueFrom"]
                if "fieldRef" in vf:
                    env[name] = self._field_ref(w, vf["fieldRef"].get("fieldPath", ""))
                elif "configMapKeyRef" in vf or "secretKeyRef" in vf:
                    ref = vf.get("configMapKeyRef") or vf.get("secretKeyRef")
                    data = self._config_data("configmaps" if "configMapKeyRef" in vf else "secrets", w.namespace,
                                             ref.get("name", ""))
                    env[name] = (data or {}).get(ref.get("key", ""), "")
                elif "resourceFieldRef" in vf:
                    res = (c.get("resources") or {}).get("limits") or {}
                    env[name] = str(res.get(vf["resourceFieldRef"].get("resource", "").split(".")[-1], "0"))
            else:
                env[name] = ""
        return env

    def _config_data(self, resource: str, namespace: str, name: str) -> dict | None:
        try:
            obj = self.client.get(resource, name, namespace)
        except (NetworkError, AivleError):
            return None
        if resource == "secrets":
            import base64

            return {k: base64.b64decode(v).decode(errors="replace") for k, v in (obj.get("data") or {}).items()}
        return dict(obj.get("data") or {})

    def _pod_dir(self, w: PodWorker) -> str:
        return f"/var/lib/kubelet/pods/{w.uid}"

    def _write_tree(self, path: str, files: dict[str, str | bytes]) -> None:
        fs = self.machine.fs
        if not fs.exists(path):
            fs.makedirs(path)
        for k, v in files.items():
            fs.write(f"{path}/{k}", v)

    def _volume_source(self, w: PodWorker, vol: dict) -> str | None:
        """The host path that backs a pod volume (prepared now: configMap/secret files, emptyDir)."""
        fs = self.machine.fs
        name = vol.get("name", "")
        base = self._pod_dir(w) + "/volumes"
        if "hostPath" in vol:
            path = vol["hostPath"].get("path", "/")
            typ = vol["hostPath"].get("type", "")
            if not fs.exists(path) and typ in ("", "DirectoryOrCreate"):
                fs.makedirs(path)
            elif not fs.exists(path) and typ == "FileOrCreate":
                fs.write(path, "")
            return path
        if "emptyDir" in vol:
            path = f"{base}/kubernetes.io~empty-dir/{name}"
            if not fs.exists(path):
                fs.makedirs(path)
            return path
        if "configMap" in vol or "secret" in vol:
            kind = "configMap" if "configMap" in vol else "secret"
            src = vol[kind]
            ref = src.get("name") if kind == "configMap" else src.get("secretName")
            data = self._config_data("configmaps" if kind == "configMap" else "secrets", w.namespace, ref or "")
            if data is None and not src.get("optional"):
                return None
            files = dict(data or {})
            if src.get("items"):
                files = {i["path"]: files.get(i["key"], "") for i in src["items"]}
            path = f"{base}/kubernetes.io~{kind.lower()}/{name}"
            self._write_tree(path, files)
            return path
        if "projected" in vol or "downwardAPI" in vol:
            path = f"{base}/kubernetes.io~projected/{name}"
            files: dict[str, str] = {}
            sources = (vol.get("projected") or {}).get("sources") or []
            for s in sources:
                if "serviceAccountToken" in s:
                    sa = (w.pod.get("spec") or {}).get("serviceAccountName") or "default"
                    files[s["serviceAccountToken"].get("path", "token")] = _sa_token(w.namespace, sa)
                if "configMap" in s:
                    data = self._config_data("configmaps", w.namespace, s["configMap"].get("name", "")) or {}
                    for i in s["configMap"].get("items") or [{"key": k, "path": k} for k in data]:
                        files[i["path"]] = data.get(i["key"], "")
                if "downwardAPI" in s:
                    for i in s["downwardAPI"].get("items") or []:
                        files[i["path"]] = self._field_ref(w, (i.get("fieldRef") or {}).get("fieldPath", ""))
            for i in (vol.get("downwardAPI") or {}).get("items") or []:
                files[i["path"]] = self._field_ref(w, (i.get("fieldRef") or {}).get("fieldPath", ""))
            self._write_tree(path, files)
            return path
        return None

    def _mounts(self, w: PodWorker, c: dict) -> list[Mount] | str:
        volumes = {v.get("name"): v for v in (w.pod.get("spec") or {}).get("volumes") or []}
        mounts = []
        for vm in c.get("volumeMounts") or []:
            vol = volumes.get(vm.get("name"))
            if vol is None:
                continue
            src = self._volume_source(w, vol)
            if src is None:
                ref = (vol.get("configMap") or {}).get("name") or (vol.get("secret") or {}).get("secretName")
                kind = "configmap" if "configMap" in vol else "secret"
                return f'MountVolume.SetUp failed for volume "{vol.get("name")}" : {kind} "{ref}" not found'
            if vm.get("subPath"):
                src = f"{src.rstrip('/')}/{vm['subPath']}"
            mounts.append(Mount(vm.get("mountPath", "/"), src, bool(vm.get("readOnly"))))
        spec = w.pod.get("spec") or {}
        sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount"
        if (spec.get("serviceAccountName") and spec.get("automountServiceAccountToken", True) is not False
                and not any(m.container_path == sa_dir for m in mounts)):
            path = f"{self._pod_dir(w)}/volumes/kubernetes.io~projected/kube-api-access"
            self._write_tree(path, {"token": _sa_token(w.namespace, spec["serviceAccountName"]),
                                    "namespace": w.namespace, "ca.crt": ""})
            mounts.append(Mount(sa_dir, path, True))
        return mounts

    def _start_container(self, w: PodWorker, rec: ContainerRecord, c: dict) -> None:
        from ..scheduler.quantity import cpu_millis, to_int

        rt = self.runtime
        mounts = self._mounts(w, c)
        if isinstance(mounts, str):
            self._event(w, "Warning", "FailedMount", mounts)
            rec.waiting = ("ContainerCreating", "")
            self._wake(w, self.loop.now + 10)
            return
        env = self._env(w, c)
        command = [_expand(a, env) for a in c.get("command") or []]
        args = [_expand(a, env) for a in c.get("args") or []]
        limits = (c.get("resources") or {}).get("limits") or {}
        requests = (c.get("resources") or {}).get("requests") or {}
        resources = Resources(memory_limit=to_int(limits["memory"]) if "memory" in limits else None,
                              cpu_limit=cpu_millis(limits["cpu"]) / 1000 if "cpu" in limits else None,
                              cpu_request=cpu_millis(requests["cpu"]) / 1000 if "cpu" in requests else None,
                              memory_request=to_int(requests["memory"]) if "memory" in requests else None)
        attempt = rec.attempt
        config = ContainerConfig(
            rec.name, c.get("image", ""), command=command, args=args, env=env, working_dir=c.get("workingDir", ""),
            mounts=mounts, resources=resources, labels={}, annotations={
                "io.kubernetes.container.restartCount": str(rec.restart_count)},
            attempt=attempt, stdin=bool(c.get("stdin")), tty=bool(c.get("tty")),
            log_path=f"{rec.name}/{attempt}.log")
        sandbox_config = self._sandbox_config(w)
        if rec.previous_id:  # a restart: the dead instance before the previous one goes
            pass
        try:
            cid = rt.create_container(w.sandbox_id, config, sandbox_config)
        except AivleError as e:
            rec.waiting = ("CreateContainerError", e.message)
            self._event(w, "Warning", "Failed", f"Error: {e.message}", container=rec.name)
            self._wake(w, self.loop.now + 10)
            return
        rec.attempt += 1
        if rec.last_state.get("terminated"):
            rec.restart_count += 1
        self._event(w, "Normal", "Created", f"Created container {rec.name}", container=rec.name)
        rec.id = cid
        rec.waiting = None
        try:
            rt.start_container(cid)
        except AivleError as e:
            self._event(w, "Warning", "Failed", f"Error: failed to create containerd task: failed to create shim "
                                                f"task: OCI runtime create failed: {e.message}", container=rec.name)
            return
        self._event(w, "Normal", "Started", f"Started container {rec.name}", container=rec.name)
        rec.started_at = self.loop.now
        rec.started = "startupProbe" not in c
        rec.ready = rec.started and "readinessProbe" not in c
        rec.liveness_failures = rec.readiness_failures = rec.readiness_successes = rec.startup_failures = 0
        self._start_probes(w, rec, c, cid)

    # -- probes -----------------------------------------------------------------------------
    def _cancel_probes(self, rec: ContainerRecord) -> None:
        for t in rec.probe_timers:
            t.cancel()
        rec.probe_timers.clear()

    def _start_probes(self, w: PodWorker, rec: ContainerRecord, c: dict, cid: str) -> None:
        for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
            probe = c.get(kind)
            if not probe:
                continue
            delay = float(probe.get("initialDelaySeconds", 0) or 0)
            self._schedule_probe(w, rec, c, cid, kind, probe, delay)

    def _schedule_probe(self, w, rec, c, cid, kind, probe, delay) -> None:
        timer_box: list = []

        def tick() -> None:
            if timer_box and timer_box[0] in rec.probe_timers:
                rec.probe_timers.remove(timer_box[0])
            if not self.running or w.terminated or w.terminating or rec.id != cid:
                return
            again = self._probe_once(w, rec, c, cid, kind, probe)
            if not isinstance(again, Event):
                if again and rec.id == cid:
                    self._schedule_probe(w, rec, c, cid, kind, probe, float(probe.get("periodSeconds", 10) or 10))
            else:  # an exec probe still running: decide when it ends (unless the probes are cancelled)
                running = _Pending()
                rec.probe_timers.append(running)

                def finished(ev: Event) -> None:
                    if running in rec.probe_timers:
                        rec.probe_timers.remove(running)
                    if running.cancelled or not self.running or w.terminated or w.terminating or rec.id != cid:
                        return
                    if self._probe_result(w, rec, c, cid, kind, probe, *ev.value) and rec.id == cid:
                        self._schedule_probe(w, rec, c, cid, kind, probe,
                                             float(probe.get("periodSeconds", 10) or 10))

                again.add_callback(finished)

        t = self.loop.call_later(max(delay, 0.0), tick)
        timer_box.append(t)
        rec.probe_timers.append(t)

    def _probe_once(self, w, rec, c, cid, kind, probe) -> bool | Event:
        """Run one probe; whether to probe again (or an Event when an exec probe is still running)."""
        if kind != "startupProbe" and not rec.started:
            return True  # liveness and readiness wait for the startup probe
        if kind == "startupProbe" and rec.started:
            return False
        outcome = run_probe(probe, net=self.world.net, src=self.machine.netns, pod_ip=w.pod_ip, container=c,
                            runtime=self.runtime, container_id=cid)
        if isinstance(outcome, Event):
            return outcome
        return self._probe_result(w, rec, c, cid, kind, probe, *outcome)

    def _probe_result(self, w, rec, c, cid, kind, probe, ok: bool, message: str) -> bool:
        if rec.id != cid:
            return False
        failure_threshold = int(probe.get("failureThreshold", 3) or 3)
        success_threshold = int(probe.get("successThreshold", 1) or 1)
        label = {"startupProbe": "Startup", "livenessProbe": "Liveness", "readinessProbe": "Readiness"}[kind]
        if not ok:
            self._event(w, "Warning", "Unhealthy", f"{label} probe failed: {message}", container=rec.name)
        if kind == "startupProbe":
            if ok:
                rec.started = True
                rec.ready = "readinessProbe" not in c
                self._push_status(w)
                return False
            rec.startup_failures += 1
            if rec.startup_failures >= failure_threshold:
                self._kill_for_probe(w, rec, c, "startup")
                return False
            return True
        if kind == "livenessProbe":
            if ok:
                rec.liveness_failures = 0
                return True
            rec.liveness_failures += 1
            if rec.liveness_failures >= failure_threshold:
                self._kill_for_probe(w, rec, c, "liveness")
                return False
            return True
        # readiness
        before = rec.ready
        if ok:
            rec.readiness_failures = 0
            rec.readiness_successes += 1
            if rec.readiness_successes >= success_threshold:
                rec.ready = True
        else:
            rec.readiness_successes = 0
            rec.readiness_failures += 1
            if rec.readiness_failures >= failure_threshold:
                rec.ready = False
        if rec.ready != before:
            self._push_status(w)
        return True

    def _kill_for_probe(self, w: PodWorker, rec: ContainerRecord, c: dict, which: str) -> None:
        if rec.killing or not rec.id:
            return
        rec.killing = True
        self._event(w, "Normal", "Killing", f"Container {rec.name} failed {which} probe, will be restarted",
                    container=rec.name)
        grace = (c.get("livenessProbe") or {}).get("terminationGracePeriodSeconds")
        if grace is None:
            grace = (w.pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
        self._cancel_probes(rec)
        try:
            done = self.runtime.stop_container(rec.id, timeout=float(grace), wait=False)
        except AivleError:
            return
        if done is not None:
            done.add_callback(lambda ev: self._sync(w) if self.running else None)

    # -- graceful deletion ----------------------------------------------------------------
    def _sync_terminating(self, w: PodWorker) -> None:
        if w.stop_events:
            return
        meta = w.pod["metadata"]
        grace = meta.get("deletionGracePeriodSeconds")
        if grace is None:
            grace = (w.pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
        events = []
        if w.timer is not None:
            w.timer.cancel()
            w.timer = None
        for rec in w.containers.values():
            self._cancel_probes(rec)
            rec.pulling_until = None
            if rec.id:
                try:
                    st = self.runtime.container_status(rec.id)
                except AivleError:
                    continue
                if st.state == CONTAINER_RUNNING:
                    self._event(w, "Normal", "Killing", f"Stopping container {rec.name}", container=rec.name)
                    ev = self.runtime.stop_container(rec.id, timeout=float(grace), wait=False)
                    if ev is not None:
                        events.append(ev)
        done = all_of(self.loop, events)
        w.stop_events = [done]
        done.add_callback(lambda ev: self._finish_termination(w))

    def _finish_termination(self, w: PodWorker) -> None:
        if w.terminated:
            return
        for rec in w.containers.values():
            if rec.id:
                try:
                    self._record_exit(w, rec)
                except AivleError:
                    rec.id = None
            rec.done = True
            rec.waiting = None
        if w.sandbox_id:
            try:
                self.runtime.stop_pod_sandbox(w.sandbox_id)
                self.runtime.remove_pod_sandbox(w.sandbox_id)
            except AivleError:
                pass
            w.sandbox_id = None
        codes = [r.last_state.get("terminated", {}).get("exitCode", 0) for r in w.containers.values() if not r.init]
        w.finished_phase = "Succeeded" if all(c == 0 for c in codes) else "Failed"
        w.pod_ip_released = True  # type: ignore[attr-defined]
        if not self.running:
            return
        self._push_status(w)
        if w.static:
            w.terminated = True
            self.workers.pop(w.key, None)
            return
        try:
            self.client.delete("pods", w.name, w.namespace, grace_period_seconds=0,
                               preconditions={"uid": w.uid})
        except (NetworkError, AivleError) as e:
            self._log("E", f'"Failed to delete pod" pod="{w.key}" err="{e}"')
        w.terminated = True
        if self.workers.get(w.key) is w:
            del self.workers[w.key]

    # =====================================================================================
    # pod status
    # =====================================================================================
    def container_status(self, w: PodWorker, rec: ContainerRecord, c: dict) -> dict:
        out: dict[str, Any] = {"name": rec.name, "image": c.get("image", ""), "imageID": "",
                               "ready": False, "restartCount": rec.restart_count, "started": False}
        if rec.id:
            try:
                st = self.runtime.container_status(rec.id)
            except AivleError:
                st = None
            if st is not None:
                out["containerID"] = f"{self.runtime_scheme}://{rec.id}"
                img = self.runtime.image_status(c.get("image", ""))
                out["imageID"] = (img.repo_digests[0] if img is not None and img.repo_digests else st.image_ref)
                out["image"] = st.image or out["image"]
                if st.state == CONTAINER_RUNNING:
                    out["state"] = {"running": {"startedAt": self.world.timestamp(st.started_at or self.loop.now)}}
                    out["ready"] = bool(rec.ready)
                    out["started"] = bool(rec.started)
                elif st.state == CONTAINER_EXITED:
                    term = {"exitCode": st.exit_code, "reason": st.reason or "Error",
                            "startedAt": self.world.timestamp(st.started_at) if st.started_at else None,
                            "finishedAt": self.world.timestamp(st.finished_at or self.loop.now),
                            "containerID": f"{self.runtime_scheme}://{rec.id}"}
                    if term["startedAt"] is None:
                        term.pop("startedAt")
                    out["state"] = {"terminated": term}
                else:
                    out["state"] = {"waiting": {"reason": "ContainerCreating"}}
        elif rec.done and rec.last_state.get("terminated"):
            out["state"] = dict(rec.last_state)
            out["containerID"] = rec.last_state["terminated"].get("containerID", "")
            out["imageID"] = self._image_id(c)
        else:
            reason, message = rec.waiting or ("ContainerCreating", "")
            out["state"] = {"waiting": {"reason": reason, **({"message": message} if message else {})}}
            if rec.previous_id:
                out["containerID"] = rec.last_state.get("terminated", {}).get("containerID", "")
                out["imageID"] = self._image_id(c)
        if rec.last_state and not (rec.done and not rec.id and out["state"] == rec.last_state) and \
                rec.restart_count + (0 if rec.id else 1) > 0 and rec.previous_id:
            out["lastState"] = dict(rec.last_state)
        else:
            out["lastState"] = {}
        return out

    def _image_id(self, c: dict) -> str:
        img = self.runtime.image_status(c.get("image", ""))
        if img is None:
            return ""
        return img.repo_digests[0] if img.repo_digests else img.id

    def pod_status(self, w: PodWorker) -> dict:
        pod = w.pod
        spec = pod.get("spec") or {}
        now = self.world.timestamp()
        inits = [(w.containers[c["name"]], c) for c in spec.get("initContainers") or []]
        mains = [(w.containers[c["name"]], c) for c in spec.get("containers") or []]
        init_statuses = [self.container_status(w, r, c) for r, c in inits]
        statuses = [self.container_status(w, r, c) for r, c in mains]
        initialized = all(r.done and r.last_state.get("terminated", {}).get("exitCode") == 0 for r, _ in inits)
        all_ready = bool(statuses) and all(s["ready"] for s in statuses)
        if w.finished_phase:
            phase = w.finished_phase
        else:
            phase = self._phase(w, spec, inits, statuses, initialized)
        prev = w.last_status or {}
        prev_conds = {c["type"]: c for c in prev.get("conditions") or []}

        def cond(type_: str, ok: bool, reason: str = "") -> dict:
            status = "True" if ok else "False"
            old = prev_conds.get(type_)
            t = old["lastTransitionTime"] if old is not None and old["status"] == status else now
            c = {"type": type_, "status": status, "lastProbeTime": None, "lastTransitionTime": t}
            if reason and not ok:
                c["reason"] = reason
            return c

        ready_reason = "PodCompleted" if phase in ("Succeeded", "Failed") else "ContainersNotReady"
        init_reason = "PodCompleted" if phase in ("Succeeded", "Failed") else "ContainersNotInitialized"
        conditions = [cond("PodReadyToStartContainers", bool(w.sandbox_id)),
                      cond("Initialized", initialized or phase in ("Succeeded", "Failed"), init_reason),
                      cond("Ready", all_ready, ready_reason),
                      cond("ContainersReady", all_ready, ready_reason),
                      cond("PodScheduled", True)]
        if not all_ready:
            names = " ".join(s["name"] for s in statuses if not s["ready"])
            for c in conditions:
                if c["type"] in ("Ready", "ContainersReady") and phase not in ("Succeeded", "Failed"):
                    c["message"] = f"containers with unready status: [{names}]"
        status: dict[str, Any] = {"phase": phase, "conditions": conditions, "hostIP": self.node_ip,
                                  "hostIPs": [{"ip": self.node_ip}], "startTime": w.start_time}
        if w.pod_ip and not getattr(w, "pod_ip_released", False):
            status["podIP"] = w.pod_ip
            status["podIPs"] = [{"ip": w.pod_ip}]
        elif (pod.get("status") or {}).get("podIP") and phase in ("Succeeded", "Failed"):
            status["podIP"] = pod["status"]["podIP"]
            status["podIPs"] = pod["status"].get("podIPs", [{"ip": pod["status"]["podIP"]}])
        if init_statuses:
            status["initContainerStatuses"] = init_statuses
        status["containerStatuses"] = statuses
        from ..apiserver.defaults import pod_qos_class

        status["qosClass"] = pod_qos_class(spec)
        return status

    @staticmethod
    def _phase(w: PodWorker, spec: dict, inits: list, statuses: list[dict], initialized: bool) -> str:
        """The kubelet's ``getPhase``: a container waiting to be restarted (a last state, such as
        CrashLoopBackOff) counts as stopped, not as not-yet-started; with every container stopped
        the pod stays Running under ``restartPolicy: Always`` (they are being restarted), succeeds
        when every one exited 0, fails under ``Never`` and keeps Running under ``OnFailure``."""
        policy = spec.get("restartPolicy", "Always")
        if policy == "Never" and any(r.done and r.last_state.get("terminated", {}).get("exitCode", 0) != 0
                                     for r, _ in inits):
            return "Failed"
        running = stopped = succeeded = waiting = 0
        for st in statuses:
            state = st["state"]
            if "running" in state:
                running += 1
            elif "terminated" in state:
                stopped += 1
                succeeded += state["terminated"].get("exitCode") == 0
            elif (w.containers[st["name"]].last_state or {}).get("terminated"):
                stopped += 1  # waiting to be restarted
            else:
                waiting += 1
        if not initialized or waiting:
            return "Pending"
        if running:
            return "Running"
        if not stopped:
            return "Pending"
        if policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        return "Failed" if policy == "Never" else "Running"

    def _push_status(self, w: PodWorker) -> bool:
        """Post the pod's status when it changed; returns whether the API server has it."""
        if not self.running:
            return False
        status = self.pod_status(w)
        if status == w.last_status:
            return True
        target = w.name
        if w.static:
            target = self._static.mirror_name(w) if self._static else None
            if target is None:
                w.last_status = None
                w.pleg = None
                return False
        try:
            self.client.patch("pods", target, {"status": status}, namespace=w.namespace, patch_type="merge",
                              subresource="status")
            w.last_status = status
            return True
        except (NetworkError, AivleError) as e:
            self._log("E", f'"Failed to update status for pod" pod="{w.key}" err="{e}"')
            w.pleg = None
            return False

    # =====================================================================================
    # events
    # =====================================================================================
    def _event(self, w: PodWorker, type_: str, reason: str, message: str, container: str | None = None) -> None:
        meta = w.pod["metadata"]
        involved = {"kind": "Pod", "namespace": w.namespace, "name": w.name if not w.static else
                    (self._static.mirror_name(w) or w.name), "uid": w.uid, "apiVersion": "v1"}
        if meta.get("resourceVersion"):
            involved["resourceVersion"] = meta["resourceVersion"]
        if container:
            idx = "spec.initContainers" if w.containers.get(container) and w.containers[container].init \
                else "spec.containers"
            involved["fieldPath"] = f"{idx}{{{container}}}"
        self.record_event(involved, type_, reason, message)

    def record_event(self, involved: dict, type_: str, reason: str, message: str) -> None:
        """Record an event about ``involved`` (sent to the API server, aggregated by reason+message)."""
        now = self.world.timestamp()
        key = (involved.get("uid"), involved.get("fieldPath"), reason, message)
        self.events.append({"type": type_, "reason": reason, "message": message, "object": dict(involved),
                            "time": self.loop.now})
        ns = involved.get("namespace") or "default"
        known = self._event_names.get(key)
        try:
            if known is not None:
                name, count = known
                self.client.patch("events", name, {"count": count + 1, "lastTimestamp": now}, namespace=ns,
                                  patch_type="merge")
                self._event_names[key] = (name, count + 1)
                return
            name = f"{involved.get('name')}.{int(self.world.datetime().timestamp() * 1e9) + len(self.events):x}"
            self.client.create({"apiVersion": "v1", "kind": "Event",
                                "metadata": {"name": name, "namespace": ns},
                                "involvedObject": involved, "reason": reason, "message": message,
                                "source": {"component": "kubelet", "host": self.node_name},
                                "firstTimestamp": now, "lastTimestamp": now, "count": 1, "type": type_,
                                "eventTime": None, "reportingComponent": "kubelet",
                                "reportingInstance": self.node_name})
            self._event_names[key] = (name, 1)
        except (NetworkError, AivleError):
            pass

    # =====================================================================================
    # pods/log and pods/exec (through the API server)
    # =====================================================================================
    def _worker_for(self, pod: dict) -> PodWorker | None:
        meta = pod["metadata"]
        key = f"{meta.get('namespace', 'default')}/{meta['name']}"
        w = self.workers.get(key)
        if w is None and self._is_mirror(pod) and self._static is not None:
            w = self._static.worker_for_mirror(pod)
        return w

    def _serve(self, subresource: str, pod: dict, options: dict) -> Any:
        from ..apiserver.errors import BadRequestError

        w = self._worker_for(pod)
        container = options.get("container")
        name = pod["metadata"]["name"]
        rec = w.containers.get(container) if w is not None else None
        if subresource == "log":
            previous = options.get("previous")
            cid = (rec.previous_id if previous else (rec.id or rec.previous_id)) if rec else None
            if cid is None:
                if previous:
                    raise BadRequestError(f'previous terminated container "{container}" in pod "{name}" not found')
                reason = (rec.waiting or ("ContainerCreating", ""))[0] if rec else "ContainerCreating"
                raise BadRequestError(f'container "{container}" in pod "{name}" is waiting to start: {reason}')
            tail = options.get("tail_lines", options.get("tail"))
            data = self.runtime.container_logs(cid, tail=tail, timestamps=bool(options.get("timestamps")))
            return data.decode(errors="replace") if isinstance(data, bytes) else data
        if subresource == "exec":
            if rec is None or rec.id is None:
                raise BadRequestError(f"container {container} is not valid for pod {name}" if rec is None else
                                      f'unable to upgrade connection: container not found ("{container}")')
            return self.runtime.exec_sync(rec.id, list(options.get("command") or []))
        raise BadRequestError(f"the kubelet does not serve {subresource}")


class _Pending:
    """A probe in flight, cancelled with the container's probe timers."""

    cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


def _status_changed(old: dict, new: dict) -> bool:
    """``nodeStatusHasChanged``: any difference but the conditions' ``lastHeartbeatTime``."""
    def strip(status: dict) -> dict:
        conds = status.get("conditions")
        if not conds:
            return status
        return {**status, "conditions": [{k: v for k, v in c.items() if k != "lastHeartbeatTime"}
                                         for c in conds]}

    return strip(old) != strip(new)


def _expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion in command, args and env values (``$$`` escapes)."""
    def repl(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1)
        return env[name] if name in env else m.group(0)

    return _VAR.sub(repl, text)


def _sa_token(namespace: str, sa: str) -> str:
    """A service account token (JWT-shaped; ``sub`` names the identity in-cluster clients use)."""
    import base64

    def b64(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")

    head = b64({"alg": "RS256", "kid": "aivle"})
    body = b64({"iss": "https://kubernetes.default.svc.cluster.local", "sub": f"system:serviceaccount:{namespace}:{sa}",
                "aud": ["https://kubernetes.default.svc.cluster.local"],
                "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": sa}}})
    return f"{head}.{body}.{hashlib.sha256((head + body).encode()).hexdigest()[:43]}"


def in_cluster_identity(fs: Any) -> str | None:
    """The identity of the token at ``/var/run/secrets/kubernetes.io/serviceaccount/token`` (in a pod)."""
    import base64

    path = "/var/run/secrets/kubernetes.io/serviceaccount/token"
    try:
        token = fs.read_text(path).strip()
        body = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return claims.get("sub")
    except (AivleError, IndexError, ValueError):
        return None
