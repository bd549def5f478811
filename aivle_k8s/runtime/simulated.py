"""The simulated CRI runtime: pod sandboxes and containers over an :class:`~aivle_k8s.engine.Engine`.

What containerd's CRI plugin (and cri-dockerd) do, on the simulated kernel:

* ``run_pod_sandbox`` starts a **pause container** (``registry.k8s.io/pause``,
  whose only job is to exist) that owns the pod's network namespace; the pod
  gets its IP there;
* ``create_container`` puts each of the pod's containers into that network
  namespace (``--network container:<pause>``): every container of a pod has the
  same IP and reaches the others on ``localhost``;
* containers carry the ``io.kubernetes.*`` labels and never restart by
  themselves: restarting (CrashLoopBackOff) is the kubelet's job.

Pod IPs come from the engine's bridge (containerd's ``cni0``, ``10.88.0.x``;
docker's ``docker0``, ``172.17.0.x``; only reachable on the node) until a CNI plugin is in place: pass ``ip_allocator`` (a callable
``(pod_id, config) -> ip`` or an object with ``allocate``/``release``) and pods
get routable addresses instead.

>>> import aivle_k8s as ak
>>> from aivle_k8s.engine import Engine
>>> from aivle_k8s.runtime import SimulatedRuntime, PodSandboxConfig
>>> rt = SimulatedRuntime(Engine(ak.World(seed=0).machine("node-1"), name="containerd", attach=False))
>>> pod = rt.run_pod_sandbox(PodSandboxConfig("web", "default", uid="u1"))
>>> rt.pod_sandbox_status(pod).state, rt.pod_sandbox_status(pod).ip
('SANDBOX_READY', '10.88.0.2')
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ..images.image import Image as EngineImage
from ..images.image import ImageConfig
from ..linux.distro import make_layer
from ..linux.kernel import register_program
from ..linux.net import NatRule
from ..sim.errors import AivleError, Conflict, ContainerError, ImageNotFound, NotFound
from .protocol import (CONTAINER_CREATED, CONTAINER_EXITED, CONTAINER_RUNNING, CONTAINER_UNKNOWN, SANDBOX_NOTREADY,
                       SANDBOX_READY, AuthConfig, Container, ContainerConfig, ContainerFilter,
                       ContainerStats, ContainerStatus, ExecSyncResponse, Image, ImageSpec, PodSandbox,
                       PodSandboxConfig, PodSandboxFilter, PodSandboxStatus, RuntimeCondition, VersionResponse)

if TYPE_CHECKING:  # pragma: no cover
    from ..engine.containers import Container as EngineContainer
    from ..engine.engine import Engine

__all__ = ["SimulatedRuntime", "PAUSE_IMAGE", "pause_image", "in_loop_callback"]

#: The sandbox image kubeadm 1.29/1.30 expects.
PAUSE_IMAGE = "registry.k8s.io/pause:3.9"


@register_program("pause")
def pause(proc):
    """``/pause``: hold the pod's namespaces until told to stop (SIGTERM/SIGINT: exit 0)."""
    proc.on_signal("TERM", lambda s: proc.exit(0))
    proc.on_signal("INT", lambda s: proc.exit(0))
    yield proc.forever()


def pause_image() -> EngineImage:
    """``registry.k8s.io/pause:3.9`` built in memory: one static ``/pause`` binary, user 65535."""
    created = "2022-10-26T17:46:47Z"
    img = EngineImage(ImageConfig(entrypoint=("/pause",), user="65535:65535", working_dir="/",
                                  env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)),
                      created=created)
    return img.add_layer(make_layer({}, programs={"/pause": "pause"}, default_size=311_296),
                         "ARG ARCH\nADD bin/pause-linux-${ARCH} /pause # buildkit", created)


@dataclass
class _Sandbox:
    id: str
    config: PodSandboxConfig
    pause: "EngineContainer"
    created_at: float
    ip: str = ""
    state: str = SANDBOX_READY
    rules: list = field(default_factory=list)
    containers: list[str] = field(default_factory=list)


@dataclass
class _Entry:
    id: str
    pod_id: str
    config: ContainerConfig
    container: "EngineContainer"
    created_at: float
    start_error: str = ""
    image_name: str | None = None  # the config's image, fully qualified (once parsed)


def in_loop_callback(loop: Any) -> bool:
    """Whether the caller runs inside one of ``loop``'s callbacks (a timer, an event, a process resumed
    by the loop): a CRI call made from there must not run the loop itself (it would run other callbacks,
    and let time pass, in the middle of this one), so it answers with an Event instead of waiting."""
    flag = getattr(loop, "in_callback", None)
    if isinstance(flag, bool):
        return flag
    step = getattr(type(loop), "step", None)
    code = getattr(step, "__code__", None)
    if code is None:
        return False
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code is code and frame.f_locals.get("self") is loop:
            return True
        frame = frame.f_back
    return False


def _label_match(labels: dict, selector: dict | None) -> bool:
    return all(labels.get(k) == v for k, v in (selector or {}).items())


class SimulatedRuntime:
    """A CRI runtime (both :class:`~.protocol.RuntimeService` and :class:`~.protocol.ImageService`).

    Args:
        engine: the engine whose kernel, images and networks it uses (containerd's or dockerd's).
        endpoint: the socket kubelets and ``crictl`` dial.
        ip_allocator: gives pod IPs (a CNI plugin); default: the engine's bridge.
        pause_image: the sandbox image.
    """

    def __init__(self, engine: "Engine", endpoint: str = "unix:///run/containerd/containerd.sock", *,
                 ip_allocator: Callable[[str, PodSandboxConfig], str] | Any | None = None,
                 pause_image: str = PAUSE_IMAGE):
        self.engine = engine
        self.endpoint = endpoint
        self.ip_allocator = ip_allocator
        self.pause_image = pause_image
        self._sandboxes: dict[str, _Sandbox] = {}
        self._containers: dict[str, _Entry] = {}
        self._store_view: tuple | None = None

    def __repr__(self) -> str:
        return f"<SimulatedRuntime {self.endpoint} pods={len(self._sandboxes)} containers={len(self._containers)}>"

    # -- runtime ----------------------------------------------------------------------------
    def version(self, version: str = "v1") -> VersionResponse:
        """``Version``: runtime name and version (``crictl version``)."""
        self.engine._check()
        from ..engine.engine import CONTAINERD_VERSION

        name = self.engine.name
        if name == "containerd":
            runtime_version = f"v{CONTAINERD_VERSION}"
        elif name == "cri-o":
            packages = getattr(self.engine.machine, "packages", {}) or {}
            runtime_version = str(packages.get("cri-o") or "1.30.0").split(":")[-1].split("-")[0] or "1.30.0"
        else:
            runtime_version = self.engine._version()
        return VersionResponse("0.1.0", name, runtime_version, "v1")

    @property
    def network_ready(self) -> bool:
        """True while a CNI network config is in ``/etc/cni/net.d`` on the node (containerd's CNI
        plugin reloads the directory: remove the config and the network is not ready again, whatever
        allocator was in use)."""
        fs = self.engine.machine.fs
        try:
            return any(n.endswith((".conf", ".conflist", ".json")) for n in fs.listdir("/etc/cni/net.d"))
        except AivleError:
            return False

    def status(self) -> list[RuntimeCondition]:
        """``Status``: RuntimeReady, and NetworkReady (false until a CNI plugin is installed)."""
        self.engine._check()
        conditions = [RuntimeCondition("RuntimeReady", True)]
        if self.network_ready:
            conditions.append(RuntimeCondition("NetworkReady", True))
        else:
            conditions.append(RuntimeCondition("NetworkReady", False, "NetworkPluginNotReady",
                                               "Network plugin returns error: cni plugin not initialized"))
        return conditions

    # -- sandboxes ------------------------------------------------------------------------------
    def _sandbox(self, pod_id: str) -> _Sandbox:
        sb = self._sandboxes.get(pod_id)
        if sb is None:
            matches = [s for k, s in self._sandboxes.items() if pod_id and k.startswith(pod_id)]
            if len(matches) == 1:
                return matches[0]
            raise NotFound(f'rpc error: code = NotFound desc = an error occurred when try to find sandbox '
                           f'"{pod_id}": not found')
        return sb

    def _ensure_pause_image(self) -> None:
        store = self.engine.store
        if not store.exists(self.pause_image):
            store.add(pause_image(), tags=[self.pause_image])

    def run_pod_sandbox(self, config: PodSandboxConfig, runtime_handler: str = "") -> str:
        """``RunPodSandbox``: start the pause container holding the pod's network; returns the pod id.

        Raises:
            Conflict: a sandbox with the same name, namespace, uid and attempt exists.
        """
        engine = self.engine
        engine._check()
        self._ensure_pause_image()
        name = f"k8s_POD_{config.name}_{config.namespace}_{config.uid or config.name}_{config.attempt}"
        for sb in self._sandboxes.values():
            if sb.pause.name == name:
                raise Conflict(f'failed to reserve sandbox name "{config.name}_{config.namespace}_{config.uid}_'
                               f'{config.attempt}": name is reserved for "{sb.id}"')
        labels = {**config.labels, "io.kubernetes.pod.name": config.name,
                  "io.kubernetes.pod.namespace": config.namespace, "io.kubernetes.pod.uid": config.uid,
                  "io.kubernetes.container.name": "POD", "io.cri-containerd.kind": "sandbox"}
        hostname = (config.hostname or config.name)[:63]
        ports = None
        if config.host_network:
            network = "host"
        elif self.ip_allocator is not None:
            network = "none"
        else:
            network = "bridge"
            ports = {f"{p.container_port}/{p.protocol.lower()}": ((p.host_ip, p.host_port) if p.host_ip
                                                                  else p.host_port)
                     for p in config.port_mappings if p.host_port}
        c = engine.containers.create(self.pause_image, name=name, labels=labels, network=network, ports=ports,
                                     hostname=None if config.host_network else hostname, pull="never")
        if config.dns is not None:
            c.etc_overrides["resolv.conf"] = config.dns.resolv_conf()
        try:
            c.start()
        except AivleError:
            c._remove_now()
            raise
        sb = _Sandbox(c.id, config, c, engine.loop.now)
        if config.host_network:
            sb.ip = engine.machine.ip
        elif self.ip_allocator is not None:
            try:
                sb.ip = self._allocate(c.id, config)
            except BaseException:
                # the CNI ADD failed: the sandbox is torn down again (no pause container is left
                # behind, its name can be used by the next attempt)
                c._remove_now()
                raise
            netns = c._netns
            netns.scope = None  # a CNI address is routable from every node
            engine.world.net.add_ip(netns, sb.ip)
            for p in config.port_mappings:
                if p.host_port:
                    rule = NatRule(p.host_ip or None, p.host_port, [(sb.ip, p.container_port)],
                                   comment=f"CNI-HOSTPORT-DNAT {config.namespace}/{config.name}",
                                   proto=p.protocol.lower())
                    sb.rules.append(engine.world.net.add_rule(engine.machine.name, rule))
        else:
            sb.ip = c.ip
        if not config.host_network:
            c.etc_overrides["hosts"] = self._hosts_file(sb)
            c._write_etc_files()
        self._sandboxes[c.id] = sb
        return c.id

    def _allocate(self, pod_id: str, config: PodSandboxConfig) -> str:
        alloc = self.ip_allocator
        if hasattr(alloc, "allocate"):
            return alloc.allocate(pod_id, config)
        return alloc(pod_id, config)

    def _release(self, sb: _Sandbox) -> None:
        alloc = self.ip_allocator
        if alloc is not None and hasattr(alloc, "release") and sb.ip:
            alloc.release(sb.id, sb.ip)

    @staticmethod
    def _hosts_file(sb: _Sandbox) -> str:
        hostname = (sb.config.hostname or sb.config.name)[:63]
        return ("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
                + (f"{sb.ip}\t{hostname}\n" if sb.ip else ""))

    def stop_pod_sandbox(self, pod_sandbox_id: str) -> None:
        """``StopPodSandbox``: kill the pod's containers and the pause container; release the IP."""
        self.engine._check()
        sb = self._sandbox(pod_sandbox_id)
        for cid in list(sb.containers):
            entry = self._containers.get(cid)
            if entry is not None and entry.container.running:
                entry.container.kill()
        if sb.pause.running:
            sb.pause.kill()
        if sb.state == SANDBOX_READY:
            for rule in sb.rules:
                self.engine.world.net.remove_rule(self.engine.machine.name, rule)
            sb.rules.clear()
            if not sb.config.host_network:  # a host-network pod's IP is the node's own: never taken away
                if self.ip_allocator is not None and sb.pause._netns is not None and sb.ip:
                    self.engine.world.net.remove_ip(sb.pause._netns, sb.ip)
                self._release(sb)
        sb.state = SANDBOX_NOTREADY

    def remove_pod_sandbox(self, pod_sandbox_id: str) -> None:
        """``RemovePodSandbox``: stop it if needed and remove it with its containers (no error if gone)."""
        self.engine._check()
        try:
            sb = self._sandbox(pod_sandbox_id)
        except NotFound:
            return
        if sb.state == SANDBOX_READY:
            self.stop_pod_sandbox(sb.id)
        for cid in list(sb.containers):
            self.remove_container(cid)
        sb.pause._remove_now()
        del self._sandboxes[sb.id]

    def _sandbox_state(self, sb: _Sandbox) -> str:
        if sb.state == SANDBOX_READY and not sb.pause.running:
            return SANDBOX_NOTREADY
        return sb.state

    def pod_sandbox_status(self, pod_sandbox_id: str) -> PodSandboxStatus:
        """``PodSandboxStatus``: READY/NOTREADY and the pod IP."""
        self.engine._check()
        sb = self._sandbox(pod_sandbox_id)
        state = self._sandbox_state(sb)
        return PodSandboxStatus(sb.id, sb.config.metadata, state, sb.created_at,
                                sb.ip if state == SANDBOX_READY else "", dict(sb.config.labels),
                                dict(sb.config.annotations), hostname=(sb.config.hostname or sb.config.name)[:63],
                                host_network=sb.config.host_network)

    def list_pod_sandbox(self, filter: PodSandboxFilter | None = None) -> list[PodSandbox]:
        """``ListPodSandbox`` (``crictl pods``), newest first."""
        self.engine._check()
        out = []
        for sb in sorted(self._sandboxes.values(), key=lambda s: (s.created_at, s.pause.seq), reverse=True):
            state = self._sandbox_state(sb)
            if filter is not None:
                if filter.id and not sb.id.startswith(filter.id):
                    continue
                if filter.state and filter.state != state:
                    continue
                if not _label_match(sb.pause.labels, filter.label_selector):
                    continue
            out.append(PodSandbox(sb.id, sb.config.metadata, state, sb.created_at, dict(sb.pause.labels),
                                  dict(sb.config.annotations), ""))
        return out

    def netns(self, pod_sandbox_id: str):
        """The pod's network namespace (for CNI plugins and cluster DNS to attach to)."""
        return self._sandbox(pod_sandbox_id).pause._netns

    # -- containers --------------------------------------------------------------------------------
    def _entry(self, container_id: str) -> _Entry:
        entry = self._containers.get(container_id)
        if entry is None:
            matches = [e for k, e in self._containers.items() if container_id and k.startswith(container_id)]
            if len(matches) == 1:
                return matches[0]
            raise NotFound(f'rpc error: code = NotFound desc = an error occurred when try to find container '
                           f'"{container_id}": not found')
        return entry

    def create_container(self, pod_sandbox_id: str, config: ContainerConfig,
                         sandbox_config: PodSandboxConfig | None = None) -> str:
        """``CreateContainer`` in the pod's sandbox (its network, hostname and DNS); returns the container id.

        Raises:
            NotFound: no such sandbox.
            Conflict: the sandbox is not ready, or the name is taken.
            ImageNotFound: the image is not on the node (the kubelet pulls first).
        """
        engine = self.engine
        engine._check()
        sb = self._sandbox(pod_sandbox_id)
        if self._sandbox_state(sb) != SANDBOX_READY:
            raise Conflict(f'failed to create containerd container: sandbox container "{sb.id}" is not running')
        pod = sb.config
        name = f"k8s_{config.name}_{pod.name}_{pod.namespace}_{pod.uid or pod.name}_{config.attempt}"
        labels = {**config.labels, "io.kubernetes.container.name": config.name,
                  "io.kubernetes.pod.name": pod.name, "io.kubernetes.pod.namespace": pod.namespace,
                  "io.kubernetes.pod.uid": pod.uid, "io.kubernetes.sandbox.id": sb.id}
        volumes = [f"{m.host_path}:{m.container_path}" + (":ro" if m.readonly else "") for m in config.mounts]
        res = config.resources
        try:
            c = engine.containers.create(
                config.image, command=list(config.args) or None,
                entrypoint=list(config.command) if config.command else None, name=name,
                environment=dict(config.env), working_dir=config.working_dir or None, volumes=volumes or None,
                mem_limit=res.memory_limit, nano_cpus=int(res.cpu_limit * 1e9) if res.cpu_limit else None,
                labels=labels, network_mode="host" if pod.host_network else f"container:{sb.pause.id}",
                pull="never", user=config.user or None, stop_signal=config.stop_signal or None,
                stdin_open=config.stdin, tty=config.tty)
        except ImageNotFound:
            raise ImageNotFound(f'failed to get image "{config.image}": not found: the image is not on node '
                                f'{engine.machine.name} (pull it first)') from None
        except Conflict as e:
            raise Conflict(f'failed to reserve container name "{config.name}_{pod.name}_{pod.namespace}_{pod.uid}_'
                           f'{config.attempt}": {e.message}') from None
        if not pod.host_network:
            c.config["Hostname"] = (pod.hostname or pod.name)[:63]
            c.etc_overrides["hosts"] = self._hosts_file(sb)
            if pod.dns is not None:
                c.etc_overrides["resolv.conf"] = pod.dns.resolv_conf()
        entry = _Entry(c.id, sb.id, config, c, engine.loop.now)
        self._containers[c.id] = entry
        sb.containers.append(c.id)
        return c.id

    def start_container(self, container_id: str) -> None:
        """``StartContainer``.

        Raises:
            ContainerError: the command cannot run (containerd's ``failed to create task`` message).
        """
        self.engine._check()
        entry = self._entry(container_id)
        try:
            entry.container.start()
        except ContainerError as e:
            entry.start_error = e.message
            raise

    def stop_container(self, container_id: str, timeout: float = 0, *, wait: bool | None = None):
        """``StopContainer``: the stop signal, SIGKILL after ``timeout`` seconds (0: at once).

        Waits (simulated time passes) when called from outside the loop; with ``wait=False``, or
        from inside a loop callback, returns an Event that fires when it has stopped instead.
        """
        self.engine._check()
        entry = self._entry(container_id)
        if wait is None:
            wait = not in_loop_callback(self.engine.loop)
        return entry.container.stop(timeout=timeout, wait=wait)

    def remove_container(self, container_id: str) -> None:
        """``RemoveContainer`` (kills it if running; no error if already gone)."""
        self.engine._check()
        try:
            entry = self._entry(container_id)
        except NotFound:
            return
        entry.container._remove_now()
        del self._containers[entry.id]
        sb = self._sandboxes.get(entry.pod_id)
        if sb is not None and entry.id in sb.containers:
            sb.containers.remove(entry.id)

    def _state(self, entry: _Entry) -> str:
        c = entry.container
        if c.status in ("running", "paused"):
            return CONTAINER_RUNNING
        if c.status == "created":
            return CONTAINER_EXITED if entry.start_error else CONTAINER_CREATED
        if c.status in ("exited", "dead"):
            return CONTAINER_EXITED
        return CONTAINER_UNKNOWN

    def _image_name(self, entry: _Entry) -> str:
        tags = self._view()[1].get(entry.container.image_id, ())
        wanted = entry.image_name
        if wanted is None:
            from ..images.reference import parse_reference

            try:
                wanted = str(parse_reference(entry.config.image))
            except AivleError:
                wanted = entry.config.image
            entry.image_name = wanted
        return wanted if wanted in tags or not tags else tags[0]

    def list_containers(self, filter: ContainerFilter | None = None) -> list[Container]:
        """``ListContainers`` (``crictl ps -a``), newest first."""
        self.engine._check()
        out = []
        for entry in sorted(self._containers.values(), key=lambda e: (e.created_at, e.container.seq), reverse=True):
            state = self._state(entry)
            c = entry.container
            if filter is not None:
                if filter.id and not entry.id.startswith(filter.id):
                    continue
                if filter.state and filter.state != state:
                    continue
                if filter.pod_sandbox_id and not entry.pod_id.startswith(filter.pod_sandbox_id):
                    continue
                if not _label_match(c.labels, filter.label_selector):
                    continue
            out.append(Container(entry.id, entry.pod_id, entry.config.metadata, self._image_name(entry),
                                 c.image_id, state, entry.created_at, dict(c.labels),
                                 dict(entry.config.annotations)))
        return out

    def relist(self, ids: Any = None) -> dict[str, str]:
        """Every sandbox's and container's id with its state (what the kubelet's PLEG gets from
        ``ListPodSandbox`` + ``ListContainers`` each second, without the metadata it does not compare);
        with ``ids``, only those (full ids; unknown ones are left out)."""
        self.engine._check()
        sandboxes, containers = self._sandboxes, self._containers
        if ids is not None:
            states = {}
            for i in ids:
                sb = sandboxes.get(i)
                if sb is not None:
                    states[i] = self._sandbox_state(sb)
                elif i in containers:
                    states[i] = self._state(containers[i])
            return states
        states = {sid: self._sandbox_state(sb) for sid, sb in sandboxes.items()}
        for cid, entry in containers.items():
            states[cid] = self._state(entry)
        return states

    def container_status(self, container_id: str) -> ContainerStatus:
        """``ContainerStatus``: state, exit code and reason (``Completed`` / ``Error`` / ``OOMKilled``)."""
        self.engine._check()
        entry = self._entry(container_id)
        c = entry.container
        state = self._state(entry)
        reason, message, exit_code = "", "", c.exit_code
        if state == CONTAINER_EXITED:
            if entry.start_error and c.status == "created":
                reason, message, exit_code = "StartError", entry.start_error, 128
            elif c.oom_killed:
                reason = "OOMKilled"
            elif c.exit_code == 0:
                reason = "Completed"
            else:
                reason = "Error"
        mounts = tuple((m.target, m.source, m.read_only) for m in c.mounts_spec)
        return ContainerStatus(entry.id, entry.config.metadata, state, entry.created_at, c.started_at,
                               c.finished_at if state == CONTAINER_EXITED else None,
                               exit_code if state == CONTAINER_EXITED else 0, self._image_name(entry), c.image_id,
                               reason, message, dict(c.labels), dict(entry.config.annotations), mounts,
                               entry.config.log_path, c.pid)

    def container_stats(self, container_id: str) -> ContainerStats:
        self.engine._check()
        c = self._entry(container_id).container
        if not c.running:
            return ContainerStats(c.id, 0, 0.0, 0)
        s = c.stats()
        return ContainerStats(c.id, s["memory_stats"]["usage"], s["cpu"], s["pids_stats"]["current"])

    def exec_sync(self, container_id: str, cmd: list[str], timeout: float = 0, *, wait: bool | None = None):
        """``ExecSync`` (``crictl exec`` / ``kubectl exec``): run the command to completion.

        From outside the loop simulated time passes until it ends and the ExecSyncResponse is
        returned. With ``wait=False``, or from inside a loop callback (a probe, a process), a command
        that does not end at once gives an Event that fires with the ExecSyncResponse when it does
        (killed after ``timeout`` seconds, 600 by default).

        Raises:
            Conflict: the container is not running.
        """
        self.engine._check()
        entry = self._entry(container_id)
        state = self._state(entry)
        if state != CONTAINER_RUNNING:
            raise Conflict(f"rpc error: code = Unknown desc = failed to exec in container: container is in "
                           f"{state} state")
        limit = timeout or 600.0
        started = entry.container._exec_spawn(list(cmd), demux=True)
        if not isinstance(started, tuple):
            out, err = started.output
            return ExecSyncResponse(out or b"", err or b"", started.exit_code or 0)
        proc, out_s, err_s = started
        kernel = self.engine.machine.kernel

        def response() -> ExecSyncResponse:
            code = proc.exit_code
            return ExecSyncResponse(out_s.getvalue() or b"", err_s.getvalue() or b"", code if code is not None else 0)

        if not proc.alive:
            return response()
        if wait is None:
            wait = not in_loop_callback(self.engine.loop)
        if wait:
            self.engine._wait_for(lambda: not proc.alive, limit)
            if proc.alive:
                kernel.signal(proc.pid, "KILL")
            return response()
        loop = self.engine.loop
        done = loop.event()
        timer = loop.call_later(limit, lambda: kernel.signal(proc.pid, "KILL") if proc.alive else None)

        def finished(_ev: Any) -> None:
            timer.cancel()
            if not done.triggered:
                done.succeed(response())

        proc.exited.add_callback(finished)
        return done

    def container_logs(self, container_id: str, tail: int | None = None, timestamps: bool = False) -> bytes:
        """The container's output (``kubectl logs`` / ``crictl logs``), every attempt of this container id."""
        self.engine._check()
        c = self._entry(container_id).container
        return c._render_logs(timestamps=timestamps, tail="all" if tail is None else tail)

    def read_logs(self, container_id: str) -> list[str]:
        """The CRI log file's lines: ``<RFC3339Nano> <stdout|stderr> F <line>``."""
        self.engine._check()
        from ..engine.containers import rfc3339_nano

        c = self._entry(container_id).container
        lines = []
        for ln in c.log_lines:
            text = ln.data.decode(errors="replace")
            tag = "F" if text.endswith("\n") else "P"
            lines.append(f"{rfc3339_nano(self.engine.world, ln.time)} {ln.stream} {tag} {text.rstrip(chr(10))}")
        return lines

    # -- images ----------------------------------------------------------------------------------------
    @staticmethod
    def _image_text(image: str | ImageSpec) -> str:
        return image.image if isinstance(image, ImageSpec) else str(image)

    def pull_image(self, image: str | ImageSpec, auth: AuthConfig | None = None,
                   sandbox_config: PodSandboxConfig | None = None, *, wait: bool | None = None):
        """``PullImage``: returns the image id (``sha256:...``) once the download's simulated time has
        passed. With ``wait=False``, or from inside a loop callback (kubeadm, a kubelet), returns an
        Event instead that fires with the image id when the download is over (its ``seconds`` say how
        long it takes); the loop is never run from inside one of its callbacks.

        Raises:
            Unauthorized / ManifestUnknown / RegistryError: as the registry answers (at once).
        """
        engine = self.engine
        engine._check()
        text = self._image_text(image)
        if auth is not None and auth.username:
            from ..images.reference import parse_reference

            host = parse_reference(text).domain
            engine.auths[host] = engine.registry_for(host).login(auth.username, auth.password)
        waited: list[float] = []
        before = engine.__dict__.get("_sleep")
        engine._sleep = waited.append  # the download's time, spent below (or by the caller)
        try:
            report = engine.images.pull(text)
        finally:
            if before is None:
                del engine._sleep
            else:
                engine._sleep = before
        seconds = float(sum(waited))
        if wait is None:
            wait = not in_loop_callback(engine.loop)
        if wait:
            engine._sleep(seconds)
            return report.image.id
        done = engine.loop.timeout(seconds, report.image.id)
        done.seconds = seconds  # type: ignore[attr-defined]
        return done

    def _view(self) -> tuple:
        """The image store as the CRI shows it, rebuilt only when its images or references changed:
        ``(key, tags by image id, CRI images by id in store order, lookups by name)``."""
        store = self.engine.store
        key = (tuple(store._images), dict(store._refs))
        view = self._store_view
        if view is not None and view[0] == key:
            return view
        tags: dict[str, tuple[str, ...]] = {}
        for image_id in store._images:
            tags[image_id] = tuple(store.tags_of(image_id))
        digests: dict[str, list[str]] = {}
        for ref, image_id in store.references().items():
            if "@" in ref:
                digests.setdefault(image_id, []).append(ref)
        images = {}
        for img in store.images():
            images[img.id] = Image(img.id, tags[img.id], tuple(digests.get(img.id, ())), img.size)
        view = self._store_view = (key, tags, images, {})
        return view

    def _crimage(self, img: EngineImage) -> Image:
        return self._view()[2][img.id]

    def list_images(self, filter: str | None = None) -> list[Image]:
        """``ListImages`` (``crictl images``)."""
        self.engine._check()
        if filter:
            try:
                wanted = self.engine.store.resolve(filter)
            except AivleError:
                return []
            return [self._crimage(i) for i in self.engine.store.images() if i.id == wanted]
        return list(self._all_images())

    def _all_images(self) -> tuple[Image, ...]:
        """Every image as the CRI shows it (the kubelet asks every 10 s for its node status)."""
        return tuple(self._view()[2].values())

    def image_status(self, image: str | ImageSpec) -> Image | None:
        """``ImageStatus``: the image, or None when it is not on the node."""
        self.engine._check()
        text = self._image_text(image)
        found = self._view()[3]
        if text in found:
            return found[text]
        try:
            img = self._crimage(self.engine.store.get(text))
        except (ImageNotFound, AivleError):
            img = None
        found[text] = img
        return img

    def remove_image(self, image: str | ImageSpec) -> None:
        """``RemoveImage`` (no error when it is not there).

        Raises:
            Conflict: a running container uses it.
        """
        self.engine._check()
        store = self.engine.store
        try:
            image_id = store.resolve(self._image_text(image))
        except AivleError:
            return
        store.remove(image_id, force=True, in_use=self.engine.images._in_use)
