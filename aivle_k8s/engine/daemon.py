"""The daemons: ``dockerd`` and ``containerd`` as programs and systemd units, and the registries they talk to.

Installing the ``docker.io`` package (``sudo apt-get install -y docker.io``)
runs :func:`install_docker`: it creates the machine's :class:`Engine`, the
``docker`` group, and the ``docker`` unit (``ExecStart=/usr/bin/dockerd -H
fd:// --containerd=/run/containerd/containerd.sock``, enabled) and starts it.
While the ``dockerd`` process runs, ``engine.running`` is True; after
``sudo systemctl stop docker`` every client call fails with ``Cannot connect
to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon
running?`` and the containers are stopped (the default, without
``live-restore``); when it starts again, containers whose restart policy says
so (``always``, ``unless-stopped`` unless stopped by hand, ``on-failure``
after a failure) start again.

Registries live on the simulated network:

* Docker Hub (``docker.io``, dialled as ``registry-1.docker.io:443``) is made
  on first use by :func:`docker_hub` and filled with the official images.
* :func:`serve_registry` puts a private HTTPS registry at ``host[:port]``.
* A ``registry:2`` container serves one on port 5000 (see :mod:`.registry_server`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..linux.kernel import register_program
from ..linux.services import Unit
from ..sim.errors import AlreadyExists, FsError, NetworkError
from .engine import Engine
from .registry_server import RegistryEndpoint

if TYPE_CHECKING:  # pragma: no cover
    from ..machines.machine import Machine
    from ..registry.registry import Registry
    from ..world import World

__all__ = ["docker_hub", "serve_registry", "install_docker", "install_containerd", "engine_of", "DOCKER_GID",
           "HUB_NAMES"]

DOCKER_GID = 999
#: The names Docker Hub answers to on the simulated network.
HUB_NAMES = ("registry-1.docker.io", "docker.io", "index.docker.io", "registry.hub.docker.com")
_REGISTRY_NET = "198.51.100"  # TEST-NET-2: the simulated internet's registries


def _registry_ip(world: "World") -> str:
    used = {ip for ns in world.net.namespaces for ip in ns.ips if ip.startswith(_REGISTRY_NET + ".")}
    n = 10
    while f"{_REGISTRY_NET}.{n}" in used:
        n += 1
    return f"{_REGISTRY_NET}.{n}"


# -- registries on the network ------------------------------------------------------------------
def docker_hub(world: "World") -> "Registry":
    """Docker Hub of ``world`` (made on first use, filled with the official images).

    >>> import aivle_k8s as ak
    >>> world = ak.World(seed=0)
    >>> hub = docker_hub(world)
    >>> hub.host, world.net.names["registry-1.docker.io"] == world.net.names["docker.io"]
    ('docker.io', True)
    """
    from ..registry.registry import Registry

    hub = world.registries.get("docker.io")
    if hub is None:
        hub = Registry.docker_hub()
        try:
            from ..registry import catalog
        except ImportError:  # pragma: no cover - the catalogue is optional
            catalog = None
        if catalog is not None:
            catalog.populate(hub)
        world.registries["docker.io"] = hub
    hub.world = world  # its HTTP face (serve()) then shares the world's lock
    if "registry-1.docker.io" not in world.net.names:
        ip = f"{_REGISTRY_NET}.1"
        ns = world.net.namespace("internet:registry-1.docker.io", [ip], node="internet:registry-1.docker.io")
        endpoint = RegistryEndpoint(hub, tls=True)
        ns.listen(443, endpoint)
        ns.listen(80, endpoint)
        for name in HUB_NAMES:
            world.net.names[name] = ip
    return hub


def serve_registry(world: "World", host: str, users: dict[str, str] | None = None, *, tls: bool = True,
                   registry: "Registry | None" = None) -> "Registry":
    """A private registry at ``host[:port]`` on the simulated network (HTTPS by default).

    If ``host`` is a machine of the world, the registry listens on that
    machine's address; otherwise the name gets its own address and DNS entry.

    Args:
        users: username -> password (``docker login`` needed to push; pulls stay anonymous).
        tls: False serves plain HTTP (dockerd then needs the host in ``insecure-registries``).

    Raises:
        AlreadyExists: something already listens on that host and port.

    >>> import aivle_k8s as ak
    >>> world = ak.World(seed=0)
    >>> reg = serve_registry(world, "registry.example.com:5000", users={"alice": "s3cret"})
    >>> world.registries["registry.example.com:5000"] is reg
    True
    """
    from ..registry.registry import Registry

    name, _, port_text = host.rpartition(":") if ":" in host else (host, "", "")
    port = int(port_text) if port_text else 443
    reg = registry or Registry(host, users=users)
    reg.world = world  # its HTTP face (serve()) then shares the world's lock
    machine = world.machines.get(name)
    if machine is not None:
        ns = machine.netns
    else:
        ns = next((n for n in world.net.namespaces if n.name == f"internet:{name}"), None)
        if ns is None:
            ip = world.net.names.get(name) or _registry_ip(world)
            ns = world.net.namespace(f"internet:{name}", [ip], node=f"internet:{name}")
            world.net.names[name] = ip
    try:
        ns.listen(port, RegistryEndpoint(reg, tls=tls))
    except NetworkError:
        raise AlreadyExists(f"something already listens on {host}; pick another host or port") from None
    world.registries[host] = reg
    return reg


# -- which engine a daemon process serves ---------------------------------------------------------
def engine_of(machine: "Machine", name: str = "docker") -> Engine:
    """The machine's docker (``machine.engine``) or containerd (``machine.extensions["containerd"]``) engine."""
    if name == "docker":
        engine = machine.engine
        if not isinstance(engine, Engine):
            engine = machine.extensions.get("docker-data")
            if not isinstance(engine, Engine):
                engine = Engine(machine, running=False, attach=False)
            machine.engine = engine
        return engine
    engine = machine.extensions.get(name)
    if not isinstance(engine, Engine):
        engine = Engine(machine, name=name, root=f"/var/lib/{name}", running=False, attach=False)
        machine.extensions[name] = engine
    return engine


def _log_line(proc, level: str, msg: str, **fields: str) -> None:
    from .containers import rfc3339_nano

    world = getattr(proc.kernel.owner, "world", None)
    stamp = rfc3339_nano(world, proc.now) if world is not None else ""
    extra = "".join(f" {k}={v}" for k, v in fields.items())
    proc.error(f'time="{stamp}" level={level} msg="{msg}"{extra}\n')


def _serve(proc, engine: Engine, sock: str, banner: list[tuple[str, str, dict]]):
    machine = proc.kernel.owner
    if engine.running and engine.daemon_process is not None and engine.daemon_process.alive:
        pidfile = "/var/run/docker.pid" if engine.name == "docker" else "/run/containerd/containerd.pid"
        _log_line(proc, "fatal", f"failed to start daemon: pid file found, ensure {engine.name} is not running or "
                                 f"delete {pidfile}")
        return 1
    for level, msg, fields in banner:
        _log_line(proc, level, msg, **fields)
    fs = machine.fs
    try:
        run = "/run"
        if not fs.exists(run):
            fs.makedirs(run)
        if not fs.lexists("/var/run"):
            fs.symlink("/run", "/var/run")
        sock_dir = sock.rsplit("/", 1)[0]
        if not fs.exists(sock_dir):
            fs.makedirs(sock_dir)
        gid = (group_gid(machine, "docker") or 0) if engine.name == "docker" else 0
        fs.mksocket(sock, mode=0o660, uid=0, gid=gid)
    except FsError:
        pass
    engine.daemon_process = proc
    engine._daemon_start()
    _log_line(proc, "info", f"API listen on {sock}" if engine.name == "docker" else
              f"serving... address={sock}")

    def shutdown(_sig: int) -> None:
        _log_line(proc, "info", "Processing signal 'terminated'")
        engine._daemon_stop()
        proc.exit(0)

    proc.on_signal("TERM", shutdown)
    proc.on_signal("INT", shutdown)
    try:
        yield proc.forever()
    finally:
        engine._daemon_stop()
        if engine.daemon_process is proc:
            engine.daemon_process = None
        try:
            if fs.lexists(sock):
                fs.remove(sock)
        except FsError:
            pass


def group_gid(machine: "Machine", group: str) -> int | None:
    """The gid of ``group`` in the machine's ``/etc/group`` (None when there is no such group)."""
    try:
        text = machine.fs.read_text("/etc/group")
    except FsError:
        return None
    for line in text.splitlines():
        parts = line.split(":")
        if len(parts) >= 3 and parts[0] == group and parts[2].isdigit():
            return int(parts[2])
    return None


def _has_group(machine: "Machine", group: str) -> bool:
    try:
        text = machine.fs.read_text("/etc/group")
    except FsError:
        return False
    return any(line.split(":", 1)[0] == group for line in text.splitlines())


@register_program("dockerd")
def dockerd(proc):
    """``dockerd``: the Docker daemon. ``machine.engine.running`` is True while it runs."""
    machine = proc.kernel.owner
    if proc.uid != 0:
        proc.error("dockerd needs to be started with root privileges. To run dockerd in rootless mode as an "
                   "unprivileged user, see https://docs.docker.com/go/rootless/\n")
        return 1
    if "--version" in proc.argv[1:] or "-v" in proc.argv[1:]:
        engine = engine_of(machine)
        proc.write(f"Docker version {engine._version()}, build {engine._version()}-0ubuntu1~22.04.1\n")
        return 0
    engine = engine_of(machine)
    version = engine._version()
    banner = [("info", "Starting up", {}),
              ("info", "Loading containers: start.", {}),
              ("info", "Default bridge (docker0) is assigned with an IP address 172.17.0.0/16. Daemon option --bip "
                       "can be used to set a preferred IP address", {}),
              ("info", "Loading containers: done.", {}),
              ("info", "Docker daemon", {"commit": f"{version}-0ubuntu1~22.04.1", "graphdriver": "overlay2",
                                         "version": version}),
              ("info", "Daemon has completed initialization", {})]
    code = yield from _serve(proc, engine, "/run/docker.sock", banner)
    return code


@register_program("containerd")
def containerd(proc):
    """``containerd``: the daemon, or ``containerd config default`` (print the default config.toml)."""
    args = proc.argv[1:]
    if args[:2] == ["config", "default"]:
        proc.write(CONTAINERD_DEFAULT_CONFIG)
        return 0
    if args and args[0] in ("--version", "-v"):
        from .engine import CONTAINERD_VERSION

        proc.write(f"containerd github.com/containerd/containerd {CONTAINERD_VERSION}\n")
        return 0
    if args and not args[0].startswith("-"):
        proc.error(f'containerd: No help topic for \'{args[0]}\'\n')
        return 1
    if proc.uid != 0:
        proc.error('containerd: failed to mount /tmp/containerd-mount: operation not permitted\n')
        return 1
    machine = proc.kernel.owner
    engine = engine_of(machine, "containerd")
    from .engine import CONTAINERD_VERSION

    banner = [("info", "starting containerd", {"revision": "", "version": CONTAINERD_VERSION}),
              ("info", "loading plugin \\\"io.containerd.grpc.v1.cri\\\"...", {"type": "io.containerd.grpc.v1"}),
              ("info", "Start cri plugin with config {...}", {})]
    code = yield from _serve(proc, engine, "/run/containerd/containerd.sock", banner)
    return code


CONTAINERD_DEFAULT_CONFIG = """disabled_plugins = []
imports = []
oom_score = 0
plugin_dir = ""
required_plugins = []
root = "/var/lib/containerd"
state = "/run/containerd"
temp = ""
version = 2

[grpc]
  address = "/run/containerd/containerd.sock"

[plugins]

  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.8"

    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"
      snapshotter = "overlayfs"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]

        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
          runtime_type = "io.containerd.runc.v2"

          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
            SystemdCgroup = false

    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/opt/cni/bin"
      conf_dir = "/etc/cni/net.d"
"""


# -- package hooks ---------------------------------------------------------------------------------
def _add_group(machine: "Machine", group: str, gid: int, users: list[str]) -> None:
    fs = machine.fs
    try:
        text = fs.read_text("/etc/group")
    except FsError:
        text = ""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        parts = line.split(":")
        if parts and parts[0] == group:
            members = [m for m in (parts[3].split(",") if len(parts) > 3 and parts[3] else [])]
            for u in users:
                if u not in members:
                    members.append(u)
            parts = (parts + ["", "", ""])[:4]
            parts[3] = ",".join(members)
            lines[i] = ":".join(parts)
            break
    else:
        lines.append(f"{group}:x:{gid}:{','.join(users)}")
    fs.write("/etc/group", "\n".join(lines) + "\n")


def install_docker(machine: "Machine") -> None:
    """What installing ``docker.io`` (or ``docker-ce``) does after its files are in place."""
    engine = engine_of(machine, "docker")
    fs = machine.fs
    for d in ("/etc/docker",):
        if not fs.exists(d):
            fs.makedirs(d)
    engine._ensure_root()
    for sub in ("buildkit", "containers", "image", "network", "overlay2", "plugins", "runtimes", "swarm", "tmp",
                "volumes"):
        if not fs.exists(f"{engine.root}/{sub}"):
            fs.mkdir(f"{engine.root}/{sub}", mode=0o701 if sub == "volumes" else 0o710)
    # The real docker.io package only creates the group; the course's lab image also adds the
    # student (as the architecture's examples run `docker ps` without sudo).
    user = machine.user if machine.user != "root" else "student"
    _add_group(machine, "docker", DOCKER_GID, [user])
    if "docker" not in machine.services.units:
        machine.services.add(Unit("docker", ["dockerd", "-H", "fd://",
                                             "--containerd=/run/containerd/containerd.sock"],
                                  description="Docker Application Container Engine", restart="always",
                                  restart_sec=2.0, enabled=True))
    machine.services.units["docker"].enabled = True
    machine.services.start("docker")


def remove_docker(machine: "Machine") -> None:
    """``apt-get remove docker.io``: the service goes, /var/lib/docker (images, containers) stays."""
    if "docker" in machine.services.units:
        machine.services.stop("docker")
        del machine.services.units["docker"]
    if isinstance(machine.engine, Engine):
        machine.extensions["docker-data"] = machine.engine
    machine.engine = None


def install_containerd(machine: "Machine") -> None:
    """What installing ``containerd`` (or ``containerd.io``) does: the engine and the ``containerd`` unit."""
    engine = engine_of(machine, "containerd")
    fs = machine.fs
    for d in ("/etc/containerd",):
        if not fs.exists(d):
            fs.makedirs(d)
    engine._ensure_root()
    if "containerd" not in machine.services.units:
        machine.services.add(Unit("containerd", ["containerd"], description="containerd container runtime",
                                  restart="always", restart_sec=5.0, enabled=True))
    machine.services.units["containerd"].enabled = True
    machine.services.start("containerd")


def remove_containerd(machine: "Machine") -> None:
    if "containerd" in machine.services.units:
        machine.services.stop("containerd")
        del machine.services.units["containerd"]


def _register_hooks() -> None:
    from ..machines.machine import PACKAGE_HOOKS

    for pkg in ("docker.io", "docker-ce"):
        PACKAGE_HOOKS[pkg] = install_docker
        PACKAGE_HOOKS[f"-{pkg}"] = remove_docker
    for pkg in ("containerd", "containerd.io"):
        PACKAGE_HOOKS[pkg] = install_containerd
        PACKAGE_HOOKS[f"-{pkg}"] = remove_containerd


_register_hooks()
