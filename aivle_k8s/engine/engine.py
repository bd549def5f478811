"""The Docker Engine of one machine (what ``dockerd`` keeps): images, containers, volumes, networks.

The API follows docker-py (``client.containers.run(...)``, ``client.images.pull(...)``)
and the daemon's own words for errors. Simulated time passes where the real
daemon takes time: pulling and pushing move bytes at the registry's
bandwidth, ``stop`` waits for the container to exit (10 s for a PID 1 that
ignores SIGTERM), ``wait`` and a foreground ``run`` wait for the exit.

>>> import aivle_k8s as ak
>>> from aivle_k8s.engine import Engine
>>> host = ak.World(seed=0).machine("host")
>>> engine = Engine(host)
>>> engine.running, engine.info()["KernelVersion"] == host.kernel.release
(True, True)
"""

from __future__ import annotations

import ipaddress
import json
import posixpath
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ..images.image import Image
from ..images.reference import DEFAULT_DOMAIN, LEGACY_DEFAULT_DOMAIN, Reference, is_image_id, parse_reference
from ..images.store import ImageStore
from ..sim.errors import (AivleError, FsError, ImageNotFound, InvalidInput, NetworkError, RegistryError,
                          Unauthorized)
from .containers import Container, ContainerCollection, _signal_number
from .networks import DockerProxy, NetworkCollection
from .volumes import VolumeCollection

if TYPE_CHECKING:  # pragma: no cover
    from ..machines.machine import Machine, ShellResult
    from ..registry.registry import PullReport, PushReport, Registry

__all__ = ["Engine", "ImageCollection", "DaemonNotRunning", "ENGINE_VERSION", "API_VERSION"]

#: The Docker Engine version Ubuntu 22.04's ``docker.io`` package installs.
ENGINE_VERSION = "24.0.7"
API_VERSION = "1.43"
CONTAINERD_VERSION = "1.7.12"

#: Hosts ``docker login``/``push``/``pull`` treat as Docker Hub.
HUB_ENDPOINT = "registry-1.docker.io"


def cgroup_driver_of(daemon_json: dict) -> str:
    """The cgroup driver ``/etc/docker/daemon.json`` sets through ``exec-opts``
    (``native.cgroupdriver=systemd``); dockerd's default is ``cgroupfs``.

    >>> cgroup_driver_of({"exec-opts": ["native.cgroupdriver=systemd"]}), cgroup_driver_of({})
    ('systemd', 'cgroupfs')
    """
    driver = "cgroupfs"
    opts = daemon_json.get("exec-opts") if isinstance(daemon_json, dict) else None
    for opt in opts if isinstance(opts, list) else []:
        key, _, value = str(opt).partition("=")
        if key.strip() == "native.cgroupdriver" and value.strip() in ("systemd", "cgroupfs"):
            driver = value.strip()
    return driver


class DaemonNotRunning(NetworkError):
    """The daemon is stopped (``systemctl stop docker``): the client cannot connect to its socket."""


class Engine:
    """One container engine on a machine: dockerd (``name="docker"``) or containerd.

    Args:
        machine: the machine it runs on (its kernel, filesystem and network).
        name: ``"docker"`` or ``"containerd"``.
        root: its data directory (``/var/lib/docker``).
        running: whether the daemon is up (the ``dockerd`` program sets it while it runs).
        socket: the API endpoint its clients dial.
    """

    def __init__(self, machine: "Machine", *, name: str = "docker", root: str | None = None, running: bool = True,
                 socket: str | None = None, attach: bool = True):
        self.machine = machine
        self.world = machine.world
        self.loop = machine.world.loop
        self.name = name
        self.root = root or ("/var/lib/docker" if name == "docker" else f"/var/lib/{name}")
        self.socket = socket or ("unix:///var/run/docker.sock" if name == "docker"
                                 else "unix:///run/containerd/containerd.sock")
        self.running = running
        self.auths: dict[str, str] = {}
        self.insecure_registries: set[str] = set()
        self.events: list[dict] = []
        self.daemon_process = None
        self.store = ImageStore()
        self.images = ImageCollection(self)
        self.containers = ContainerCollection(self)
        self.volumes = VolumeCollection(self)
        self.networks = NetworkCollection(self)
        self.last_pull: "PullReport | None" = None
        if attach and name == "docker" and getattr(machine, "engine", None) is None:
            machine.engine = self

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Engine {self.name} on {self.machine.name} {state}>"

    # -- plumbing -------------------------------------------------------------------
    def _check(self) -> None:
        if not self.running:
            if self.name == "docker":
                where = self.socket
                raise DaemonNotRunning(f"Cannot connect to the Docker daemon at {where}. Is the docker daemon running?",
                                       reason="refused")
            path = self.socket.removeprefix("unix://")
            raise DaemonNotRunning(f'failed to dial "{path}": connection error: desc = "transport: error while dialing: '
                                   f'dial unix {path}: connect: no such file or directory"', reason="refused")

    def _new_id(self) -> str:
        """64 hex digits from the world's seeded RNG (container, network and volume ids)."""
        return "%064x" % self.world.rng.getrandbits(256)

    def _ensure_root(self) -> None:
        fs = self.machine.fs
        if not fs.exists(self.root):
            parent = posixpath.dirname(self.root)
            if not fs.exists(parent):
                fs.makedirs(parent)
            fs.mkdir(self.root, mode=0o710)

    def _container_dir(self, container: Container, create: bool) -> None:
        """``/var/lib/docker/containers/<id>`` on the host (made on create, removed with the container)."""
        if self.name != "docker":
            return
        fs = self.machine.fs
        path = f"{self.root}/containers/{container.id}"
        try:
            if create:
                self._ensure_root()
                fs.makedirs(path, mode=0o710)
            elif fs.exists(path):
                fs.remove(path, recursive=True)
        except FsError:
            pass

    def _event(self, type_: str, action: str, obj: Any, **extra: str) -> None:
        attrs = {"name": getattr(obj, "name", "")}
        if isinstance(obj, Container):
            attrs["image"] = obj.image_ref
        attrs.update(extra)  # exitCode on die, signal on kill, as docker's events carry them
        self.events.append({"Type": type_, "Action": action, "Actor": {"ID": getattr(obj, "id", ""),
                                                                        "Attributes": attrs},
                            "time": self.loop.now})

    def _wait_for(self, predicate: Callable[[], bool], timeout: float | None = None) -> bool:
        """Let simulated time pass until ``predicate()`` (at most ``timeout`` s; None: until nothing is left to do).

        With a timeout the clock reaches the deadline even when nothing is
        scheduled (time passes while a client waits); without one it stops when
        the loop is idle (at most one simulated day).
        """
        loop = self.loop
        limit = timeout if timeout is not None else 86400.0
        deadline = loop.now + limit
        while not predicate():
            nxt = loop.peek()
            if nxt is None or nxt > deadline:
                if timeout is not None:
                    loop.now = max(loop.now, deadline)
                return predicate()
            loop.step()
        return True

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.loop.advance(seconds)

    # -- registries -------------------------------------------------------------------
    @staticmethod
    def _registry_host(registry: str | None) -> str:
        host = (registry or DEFAULT_DOMAIN).strip()
        for prefix in ("https://", "http://"):
            if host.startswith(prefix):
                host = host[len(prefix):]
        host = host.split("/", 1)[0]
        if host in (LEGACY_DEFAULT_DOMAIN, HUB_ENDPOINT, "registry.hub.docker.com", "hub.docker.com"):
            host = DEFAULT_DOMAIN
        return host

    def _insecure(self, host: str, ip: str) -> bool:
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host
        if name == "localhost" or host in self.insecure_registries or name in self.insecure_registries:
            return True
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        if addr in ipaddress.ip_network("127.0.0.0/8"):
            return True
        for entry in self.insecure_registries:
            try:
                if addr in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
        return False

    def registry_for(self, host: str) -> "Registry":
        """The registry serving ``host[:port]``, found like dockerd finds it: through the network.

        ``docker.io`` is Docker Hub; a private registry is whatever listens at
        ``host:port`` (default 443) as seen from this machine, following a
        published port (``-p 5000:5000``) to the ``registry:2`` container behind it.

        Raises:
            RegistryError: no such host, nothing listening (``connection refused``),
                or a plain-HTTP registry not in ``insecure-registries``.
        """
        from .daemon import docker_hub

        world = self.world
        host = self._registry_host(host)
        if host == DEFAULT_DOMAIN:
            docker_hub(world)
            dial_host, port, shown = HUB_ENDPOINT, 443, HUB_ENDPOINT
        else:
            shown = host
            if host.startswith("["):
                dial_host, _, rest = host[1:].partition("]")
                port = int(rest[1:]) if rest.startswith(":") else 443
            elif ":" in host:
                dial_host, p = host.rsplit(":", 1)
                port = int(p) if p.isdigit() else 443
            else:
                dial_host, port = host, 443
        url = f"https://{shown}/v2/"
        net = world.net
        src = self.machine.netns
        try:
            ip = net.resolve(src, dial_host)
        except NetworkError:
            raise RegistryError(f'Get "{url}": dial tcp: lookup {dial_host} on 127.0.0.53:53: no such host',
                                host=host) from None
        handler = None
        seen = 0
        dst_ip, dst_port = ip, port
        while True:
            try:
                dst, p = net.route(src, dst_ip, dst_port)
            except NetworkError as e:
                why = {"timeout": "i/o timeout"}.get(getattr(e, "reason", ""), "connect: no route to host")
                raise RegistryError(f'Get "{url}": dial tcp {ip}:{port}: {why}', host=host) from None
            handler = dst.listeners.get(p) if dst.up else None
            if isinstance(handler, DockerProxy) and seen < 4:
                seen += 1
                src = handler.engine.machine.netns
                dst_ip, dst_port = handler.target
                continue
            break
        if handler is None:
            raise RegistryError(f'Get "{url}": dial tcp {ip}:{port}: connect: connection refused', host=host)
        registry = getattr(handler, "registry", None)
        tls = bool(getattr(handler, "tls", False))
        if registry is None or (not tls and not self._insecure(host, ip)):
            raise RegistryError(f'Get "{url}": http: server gave HTTP response to HTTPS client', host=host)
        return registry

    def login(self, username: str | None = None, password: str | None = None, registry: str = DEFAULT_DOMAIN,
              email: str | None = None, reauth: bool = False, **_: Any) -> str:
        """``docker login [REGISTRY]``: check the credentials and keep the token.

        Returns:
            ``"Login Succeeded"``.

        Raises:
            Unauthorized: ``Get "https://registry-1.docker.io/v2/": unauthorized: incorrect username or password``.
        """
        self._check()
        host = self._registry_host(registry)
        reg = self.registry_for(host)
        endpoint = HUB_ENDPOINT if host == DEFAULT_DOMAIN else host
        if not username:
            raise InvalidInput("Error: Cannot perform an interactive login from a non TTY device")
        try:
            token = reg.login(username, password or "")
        except Unauthorized:
            raise Unauthorized(f'Get "https://{endpoint}/v2/": unauthorized: incorrect username or password',
                               code="UNAUTHORIZED") from None
        self.auths[host] = token
        return "Login Succeeded"

    def logout(self, registry: str = DEFAULT_DOMAIN) -> str:
        """``docker logout [REGISTRY]``."""
        host = self._registry_host(registry)
        token = self.auths.pop(host, None)
        shown = "https://index.docker.io/v1/" if host == DEFAULT_DOMAIN else host
        if token is None:
            return f"Not logged in to {shown}"
        return f"Removing login credentials for {shown}"

    # -- network from the host -----------------------------------------------------------
    def request(self, url: str, method: str = "GET", body: bytes = b"", headers: dict | None = None):
        """An HTTP request from the host's network namespace (like ``curl URL`` on the machine)."""
        from ..linux.http import request

        return request(self.world.net, self.machine.netns, method, url, body, headers)

    # -- info ---------------------------------------------------------------------------------
    def version(self) -> dict:
        """``docker version`` (server part)."""
        self._check()
        version = self._version()
        return {"Platform": {"Name": ""}, "Version": version, "ApiVersion": API_VERSION, "MinAPIVersion": "1.12",
                "GitCommit": f"{version}-0ubuntu1~22.04.1", "GoVersion": "go1.21.1", "Os": "linux", "Arch": "amd64",
                "KernelVersion": self.machine.kernel.release, "BuildTime": "2025-01-20T12:00:00.000000000+00:00",
                "Components": [
                    {"Name": "Engine", "Version": version},
                    {"Name": "containerd", "Version": CONTAINERD_VERSION},
                    {"Name": "runc", "Version": "1.1.12-0ubuntu2~22.04.1"},
                    {"Name": "docker-init", "Version": "0.19.0"}]}

    def _version(self) -> str:
        packages = getattr(self.machine, "packages", {}) or {}
        raw = packages.get("docker.io") or packages.get("docker-ce") or ENGINE_VERSION
        return str(raw).split(":")[-1].split("-")[0] or ENGINE_VERSION

    def info(self) -> dict:
        """``docker info``."""
        self._check()
        cs = self.containers._all()
        m = self.machine
        os_name = "Ubuntu 22.04.4 LTS"
        try:
            for line in m.fs.read_text("/etc/os-release").splitlines():
                if line.startswith("PRETTY_NAME="):
                    os_name = line.split("=", 1)[1].strip('"')
        except FsError:
            pass
        return {
            "ID": f"{self.machine.name}-{self.name}",
            "Containers": len(cs),
            "ContainersRunning": sum(c.status == "running" for c in cs),
            "ContainersPaused": sum(c.status == "paused" for c in cs),
            "ContainersStopped": sum(c.status not in ("running", "paused") for c in cs),
            "Images": len(self.store),
            "Driver": "overlay2",
            "DockerRootDir": self.root,
            "LoggingDriver": "json-file",
            "CgroupDriver": getattr(self, "cgroup_driver", None) or "cgroupfs",
            "CgroupVersion": "2",
            "KernelVersion": m.kernel.release,
            "OperatingSystem": os_name,
            "OSType": "linux",
            "Architecture": m.kernel.arch,
            "NCPU": m.cpus,
            "MemTotal": m.memory,
            "Name": m.hostname,
            "ServerVersion": self._version(),
            "DefaultRuntime": "runc",
            "Runtimes": {"io.containerd.runc.v2": {}, "runc": {}},
            "LiveRestoreEnabled": False,
            "Swarm": {"LocalNodeState": "inactive"},
            "RegistryConfig": {"InsecureRegistryCIDRs": ["127.0.0.0/8"] + sorted(self.insecure_registries),
                               "IndexConfigs": {DEFAULT_DOMAIN: {"Name": DEFAULT_DOMAIN, "Secure": True,
                                                                  "Official": True}}},
            "IndexServerAddress": "https://index.docker.io/v1/",
            "SwapLimit": True,
            "Warnings": None,
        }

    def df(self) -> dict:
        """``docker system df -v`` data."""
        self._check()
        cs = self.containers._all()
        used_by: dict[str, int] = {}
        for c in cs:
            used_by[c.image_id] = used_by.get(c.image_id, 0) + 1
        images = [{"Id": img.id, "RepoTags": self.store.repo_tags(img.id), "Size": img.size,
                   "SharedSize": -1, "Containers": used_by.get(img.id, 0), "Created": img.created}
                  for img in self.store.images()]
        containers = [{"Id": c.id, "Names": ["/" + c.name], "Image": c.image_ref, "State": c.status,
                       "SizeRw": sum(e.size for e in c.fs.upper.values() if e.is_file)} for c in cs]
        volumes = [{"Name": v.name, "UsageData": {"Size": v.usage, "RefCount": len(v.users())}}
                   for v in self.volumes._volumes.values()]
        return {"LayersSize": self.store.layers_bytes(), "Images": images, "Containers": containers,
                "Volumes": volumes, "BuildCache": []}

    def serve(self, port: int = 0, unix_socket: str | None = None, *, host: str = "127.0.0.1",
              wait_limit: float = 86400.0):
        """Answer the Docker Engine API (1.43) on ``127.0.0.1:port`` (0: a free port) or on ``unix_socket``.

        The ``docker`` SDK then drives this engine unmodified:
        ``docker.DockerClient(base_url=handle.docker_host)``. Requests that wait for the world
        (``wait``, ``logs`` with ``follow``) let simulated time pass, at most ``wait_limit``
        simulated seconds of it. Needs the ``serve`` extra (aiohttp); see :mod:`aivle_k8s.serve.engine`.

        Returns:
            A handle with ``.docker_host`` (``"tcp://127.0.0.1:PORT"`` or ``"unix:///path"``),
            ``.client()`` and ``.stop()``.
        """
        from ..serve.engine import serve_engine

        return serve_engine(self, port, unix_socket, host=host, wait_limit=wait_limit)

    def cli(self, command_line: str) -> "ShellResult":
        """Run ``docker ...`` (or any command line) in the machine's terminal."""
        text = command_line.strip()
        if not (text.startswith("docker") or text.startswith("sudo")):
            text = "docker " + text
        return self.machine.sh(text)

    # -- daemon life (used by the dockerd program) -----------------------------------------
    def _load_daemon_json(self) -> None:
        path = "/etc/docker/daemon.json" if self.name == "docker" else None
        if path is None:
            return
        self.cgroup_driver = "cgroupfs"  # dockerd's default unless daemon.json says otherwise
        if not self.machine.fs.is_file(path):
            return
        try:
            conf = json.loads(self.machine.fs.read_text(path) or "{}")
        except ValueError:
            return
        for entry in conf.get("insecure-registries") or []:
            self.insecure_registries.add(str(entry))
        self.cgroup_driver = cgroup_driver_of(conf)

    def _daemon_start(self) -> None:
        """The daemon came up: restart containers whose policy says so (like dockerd's restore)."""
        self._load_daemon_json()
        self.running = True
        for c in sorted(self.containers._all(), key=lambda c: c.seq):
            if c.status not in ("exited", "created") or c.started_at is None:
                continue
            name = c.restart_policy["Name"]
            maximum = c.restart_policy.get("MaximumRetryCount") or 0
            if name == "always" or (name == "unless-stopped" and not c._has_been_manually_stopped) or \
                    (name == "on-failure" and c.exit_code != 0 and (maximum == 0 or c.restart_count < maximum)):
                try:
                    c._manual_stop = False
                    c._start_process()
                except AivleError as e:
                    c.error = e.message

    def _daemon_stop(self) -> None:
        """The daemon goes down: its containers are stopped (no live-restore, the default)."""
        if not self.running:
            return
        self.running = False
        kernel = self.machine.kernel
        for c in sorted(self.containers._all(), key=lambda c: c.seq):
            if c.status == "restarting":
                c._cancel_restart()
                continue
            if c.status not in ("running", "paused"):
                continue
            c._stopped_by_daemon = True
            proc = c._proc
            if c.status == "paused":
                c._unfreeze(resume=True)
                c.status = "running"
            kernel.signal(proc.pid, _signal_number(c.config.get("StopSignal") or "SIGTERM"))
            if proc.alive:
                kernel.signal(proc.pid, "KILL")


class ImageCollection:
    """``docker images / pull / push / build / tag / rmi`` (docker-py's ``client.images``)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @property
    def store(self) -> ImageStore:
        return self.engine.store

    # -- lookups ----------------------------------------------------------------------
    def get(self, name: str) -> Image:
        """By reference or (prefix of) id. Raises ImageNotFound(``No such image: x``)."""
        self.engine._check()
        return self.store.get(name)

    def exists(self, name: str) -> bool:
        return self.store.exists(name)

    def list(self, name: str | None = None, all: bool = False, filters: dict | None = None) -> list[Image]:
        """``docker images [NAME]``: images (newest first)."""
        self.engine._check()
        dangling = None
        if filters and "dangling" in filters:
            v = filters["dangling"]
            v = v[0] if isinstance(v, list) else v
            dangling = str(v).lower() in ("1", "true")
        if name is None and dangling is None:
            return self.store.images()
        ids: list[str] = []
        for row in self.store.list(name, dangling=dangling):
            if row.id not in ids:
                ids.append(row.id)
        return [self.store.by_id(i) for i in ids]

    def rows(self, name: str | None = None, dangling: bool | None = None):
        """The rows of ``docker images`` (:class:`~aivle_k8s.images.store.ImageRow`)."""
        self.engine._check()
        return self.store.list(name, dangling=dangling)

    def tag(self, image: str | Image, repository: str, tag: str | None = None, force: bool = False) -> bool:
        """``docker tag SOURCE TARGET`` (``tag(src, "app:2")`` or ``tag(src, "app", "2")``)."""
        self.engine._check()
        target = repository if tag is None else f"{repository}:{tag}"
        self.store.tag(image, target)
        return True

    def _in_use(self, image_id: str) -> tuple[str, bool] | None:
        users = [c for c in self.engine.containers._all() if c.image_id == image_id]
        if not users:
            return None
        running = [c for c in users if c.status in ("running", "paused", "restarting")]
        c = (running or users)[0]
        return c.id, bool(running)

    def remove(self, image: str | Image, force: bool = False, noprune: bool = False) -> list[str]:
        """``docker rmi``: Docker's ``Untagged: ...`` / ``Deleted: ...`` lines.

        Raises:
            ImageNotFound: no such image.
            Conflict: a container uses it (``conflict: unable to remove repository reference ...``).
        """
        self.engine._check()
        return self.store.remove(image, force=force, in_use=self._in_use)

    def prune(self, filters: dict | None = None, dangling: bool = True) -> dict:
        """``docker image prune [-a]``."""
        self.engine._check()
        if filters and "dangling" in filters:
            v = filters["dangling"]
            v = v[0] if isinstance(v, list) else v
            dangling = str(v).lower() in ("1", "true")
        records, space = self.store.prune(all=not dangling, in_use=self._in_use)
        deleted = []
        for r in records:
            kind, _, value = r.partition(": ")
            deleted.append({kind: value})
        return {"ImagesDeleted": deleted or None, "SpaceReclaimed": space}

    def history(self, image: str | Image) -> list[dict]:
        """``docker history``: one row per build step, newest first (``Id`` ``<missing>`` below the top)."""
        self.engine._check()
        img = self.store.get(image)
        rows = []
        layers = list(img.layers)
        li = 0
        for h in img.history:
            empty = bool(h.get("empty_layer"))
            size = 0
            if not empty and li < len(layers):
                size = layers[li].content_size
                li += 1
            rows.append({"Id": "<missing>", "Created": h.get("created", ""), "CreatedBy": h.get("created_by", ""),
                         "Tags": None, "Size": size, "Comment": h.get("comment", "")})
        rows.reverse()
        if rows:
            rows[0]["Id"] = img.id
            rows[0]["Tags"] = self.store.repo_tags(img.id) or None
        return rows

    # -- pull / push ---------------------------------------------------------------------
    def _on_registry(self, ref: Reference, registry: "Registry") -> Reference:
        return ref if ref.domain == registry.host else replace(ref, domain=registry.host)

    def pull(self, repository: str, tag: str | None = None, all_tags: bool = False, *,
             progress: Callable[[str, str], Any] | None = None, platform: str | None = None) -> "PullReport":
        """``docker pull``: fetch the image (only the layers not here yet) and tag it.

        Simulated time passes for the bytes downloaded.

        Returns:
            The :class:`~aivle_k8s.registry.registry.PullReport` (``.image`` is the stored image).

        Raises:
            Unauthorized: ``pull access denied for x, repository does not exist or may require 'docker login' ...``.
            ManifestUnknown: ``manifest for nginx:9.9 not found: manifest unknown: manifest unknown``.
            RegistryError: the registry cannot be reached.
        """
        from ..registry.registry import pull_image

        self.engine._check()
        text = repository if tag is None else f"{repository}:{tag}"
        ref = parse_reference(text)
        registry = self.engine.registry_for(ref.domain)
        token = self.engine.auths.get(ref.domain)
        report = pull_image(registry, token, self._on_registry(ref, registry), self.store, named=ref)
        report.ref = ref
        tags = [ref] if ref.digest is None else []
        stored = self.store.add(report.image, tags=tags,
                                repo_digests=[Reference(ref.domain, ref.path, None, report.digest)])
        report.image = stored
        if progress is not None:
            for short, status in report.layers:
                progress(short, status)
        self.engine._sleep(report.seconds)
        self.engine.last_pull = report
        self.engine._event("image", "pull", _Named(str(ref), stored.id))
        return report

    def push(self, repository: str, tag: str | None = None, *,
             progress: Callable[[str, str], Any] | None = None) -> "PushReport":
        """``docker push``: upload the blobs the registry lacks, then the manifest.

        Raises:
            ImageNotFound: ``An image does not exist locally with the tag: x``.
            Unauthorized: ``denied: requested access to the resource is denied`` (no login / not your namespace).
            RegistryError: the registry cannot be reached.
        """
        from ..registry.registry import push_image

        self.engine._check()
        text = repository if tag is None else f"{repository}:{tag}"
        ref = parse_reference(text)
        if ref.digest is not None and ref.tag is None:
            raise InvalidInput(f"cannot push a digest reference: {text}")
        try:
            image = self.store.get(ref)
        except ImageNotFound:
            raise ImageNotFound(f"An image does not exist locally with the tag: {ref.familiar}",
                                reference=text) from None
        registry = self.engine.registry_for(ref.domain)
        token = self.engine.auths.get(ref.domain)
        report = push_image(registry, token, self._on_registry(ref, registry), image, progress=progress)
        report.ref = ref
        self.store.add_repo_digest(Reference(ref.domain, ref.path, None, report.digest), image)
        self.engine._sleep(report.seconds)
        self.engine._event("image", "push", _Named(str(ref), image.id))
        return report

    def _for_run(self, image: str | Image, *, pull: str | bool = "missing",
                 on_pull: Callable[[Any], Any] | None = None) -> tuple[Image, Any]:
        """The image ``docker run`` uses, pulled when missing (``pull="missing"|"always"|"never"``).

        ``on_pull`` is called with None just before a pull starts (the CLI prints
        ``Unable to find image 'nginx:latest' locally``) and then with the PullReport.
        """
        if isinstance(image, Image):
            return self.store.get(image), None
        if pull is True:
            pull = "always"
        if pull is False:
            pull = "missing"
        if pull not in ("missing", "always", "never"):
            raise InvalidInput(f'invalid pull option: \'{pull}\': must be one of "always", "missing" or "never"')
        text = str(image)
        found = None
        try:
            found = self.store.get(text)
        except ImageNotFound:
            found = None
        if found is not None and pull != "always":
            return found, None
        if is_image_id(text) or text.startswith("sha256:"):
            if found is not None:
                return found, None
            raise ImageNotFound(f"No such image: {text}")
        ref = parse_reference(text)
        if pull == "never":
            raise ImageNotFound(f"No such image: {ref.familiar_string}")
        if on_pull is not None and found is None:
            on_pull(None)
        report = self.pull(text)
        if on_pull is not None:
            on_pull(report)
        return report.image, report

    # -- build / commit ------------------------------------------------------------------------
    def build(self, path: str | None = None, *, dockerfile: str = "Dockerfile", tag: str | list[str] | None = None,
              buildargs: dict | None = None, nocache: bool = False, target: str | None = None, pull: bool = False,
              dockerfile_text: str | None = None, labels: dict | None = None, rm: bool = True,
              progress: Callable[[str], Any] | None = None, **_: Any):
        """``docker build``: build the Dockerfile in ``path`` (a directory on the machine).

        RUN steps run as processes in throwaway containers on this machine's
        kernel (simulated time passes); base images are pulled when missing.

        Returns:
            ``BuildResult`` (``.image``, ``.log``, ``.steps``).

        Raises:
            BuildError: a step failed (``build_log`` holds the log).
            InvalidInput: no Dockerfile, bad syntax, bad tag.
        """
        from ..images.builder import Builder, kernel_runner

        engine = self.engine
        engine._check()
        machine = engine.machine
        tags = [tag] if isinstance(tag, str) else list(tag or [])
        if path is None and dockerfile_text is None:
            raise InvalidInput("docker build requires exactly 1 argument: the build context (a directory)")
        context = path or "/"
        if path is not None:
            from ..linux.fs import join

            context = join(machine.cwd, path)
            if not machine.fs.is_dir(context):
                raise InvalidInput(f'unable to prepare context: path "{path}" not found')
        # RUN steps get a throwaway network namespace on the default bridge (BuildKit's default network)
        bridge = engine.networks.bridge
        ip = engine.networks._allocate(bridge.pool)
        netns = engine.world.net.namespace(f"{machine.name}/buildkit", [ip], node=machine.name, scope=machine.name)
        runner = kernel_runner(machine.kernel, hostname="buildkitsandbox", net=netns)

        def pull_base(ref: str) -> Image:
            return self.pull(ref).image

        builder = Builder(self.store, runner, pull_base, lambda: engine.world.timestamp())
        try:
            result = builder.build(machine.fs, context, dockerfile, dockerfile_text=dockerfile_text, tags=tags,
                                   build_args=buildargs, target=target, no_cache=nocache)
        finally:
            engine.world.net.remove(netns)
            bridge.pool.release(ip)
        if progress is not None:
            for line in result.log.splitlines():
                progress(line)
        engine._event("image", "build", _Named(",".join(tags), result.image.id))
        return result

    def _commit(self, container: Container, repository: str | None, tag: str | None, message: str | None,
                author: str | None, conf: dict | None) -> Image:
        base = container.image
        entries = {}
        for path, entry in container.fs.diff().items():
            if path in ("/etc/hostname", "/etc/hosts", "/etc/resolv.conf") and entry.is_file and not entry.data:
                continue
            entries[path] = entry
        cfg = container.config
        changes: dict[str, Any] = {
            "env": tuple(cfg.get("Env") or ()), "cmd": cfg.get("Cmd"), "entrypoint": cfg.get("Entrypoint"),
            "working_dir": cfg.get("WorkingDir") or "", "user": cfg.get("User") or "",
            "exposed_ports": tuple((cfg.get("ExposedPorts") or {}).keys()),
            "labels": dict(cfg.get("Labels") or {}),
        }
        for key, value in (conf or {}).items():
            mapped = {"Cmd": "cmd", "Entrypoint": "entrypoint", "Env": "env", "WorkingDir": "working_dir",
                      "User": "user", "Labels": "labels"}.get(key)
            if mapped:
                changes[mapped] = tuple(value) if isinstance(value, list) else value
        img = base.with_config(**changes)
        now = self.engine.world.timestamp()
        created_by = " ".join(container.command)
        img = img.add_layer(entries, created_by, now, comment=message or "")
        tags = []
        if repository:
            tags = [f"{repository}:{tag}" if tag else repository]
        stored = self.store.add(img, tags=tags)
        self.engine._event("container", "commit", container)
        return stored

    # -- OCI layouts --------------------------------------------------------------------------
    def save_oci(self, refs: str | Iterable[str], directory: str) -> str:
        """Write images to an OCI image layout in a real disk directory (``skopeo`` can read it)."""
        from ..images import oci

        self.engine._check()
        if isinstance(refs, str):
            refs = [refs]
        images = [(r, self.store.get(r)) for r in refs]
        return oci.export_oci_layout(images, directory)

    def load_oci(self, directory: str) -> list[Image]:
        """Read images from an OCI image layout directory into this engine's store."""
        from ..images import oci

        self.engine._check()
        loaded = oci.import_oci_layout(directory)
        out = []
        for item in loaded:
            if isinstance(item, tuple):
                ref, img = item
                out.append(self.store.add(img, tags=[ref] if ref else []))
            else:
                out.append(self.store.add(item))
        return out


class _Named:
    def __init__(self, name: str, id: str):
        self.name = name
        self.id = id

