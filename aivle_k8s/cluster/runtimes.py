"""CRI endpoints on a machine: containerd, CRI-O and cri-dockerd, found the way kubeadm finds them.

* ``containerd`` (package hook in :mod:`aivle_k8s.engine.daemon`) serves
  ``/run/containerd/containerd.sock`` from ``machine.extensions["containerd"]``;
* ``cri-o`` (hook here) gets its own engine ``machine.extensions["cri-o"]`` and
  the ``crio`` daemon serving ``/var/run/crio/crio.sock``;
* ``cri-dockerd`` (hook here) is a shim in front of dockerd: its daemon serves
  ``/run/cri-dockerd.sock`` and the CRI runs on ``machine.engine``.

:func:`runtime_for` is kubeadm's and the kubelet's way to the runtime: with no
endpoint it looks for the known sockets (containerd, CRI-O, cri-dockerd in that
order) and fails with ``Found multiple CRI endpoints on the host`` when more
than one is there (docker.io pulls in containerd, so Docker + cri-dockerd hosts
need ``--cri-socket``). The :class:`~aivle_k8s.runtime.SimulatedRuntime` of an
endpoint is made once per machine and shared.
"""

from __future__ import annotations

from typing import Any

from ..linux.kernel import register_program
from ..linux.services import Unit
from ..sim.errors import AivleError, FsError, InvalidInput

__all__ = ["KNOWN_CRI_SOCKETS", "DEFAULT_CRI_SOCKET", "runtime_for", "detect_cri_socket", "normalize_endpoint",
           "install_crio", "install_cri_dockerd", "MultipleCRIEndpoints", "PACKAGE_HOOKS"]

#: kubeadm's known CRI sockets, in its detection order.
KNOWN_CRI_SOCKETS = ("unix:///var/run/containerd/containerd.sock", "unix:///var/run/crio/crio.sock",
                     "unix:///var/run/cri-dockerd.sock")
DEFAULT_CRI_SOCKET = KNOWN_CRI_SOCKETS[0]


class MultipleCRIEndpoints(InvalidInput):
    """More than one CRI socket on the host and none chosen."""


def normalize_endpoint(endpoint: str) -> str:
    """``unix://`` prefixed and ``/run`` spelled ``/var/run`` (they are the same directory)."""
    ep = endpoint if "://" in endpoint else f"unix://{endpoint}"
    path = ep[len("unix://"):]
    if path.startswith("/run/"):
        path = "/var" + path
    return "unix://" + path


def _path(endpoint: str) -> str:
    return normalize_endpoint(endpoint)[len("unix://"):]


def _socket_exists(machine: Any, endpoint: str) -> bool:
    path = _path(endpoint)
    fs = machine.fs
    for p in (path, path.replace("/var/run/", "/run/", 1)):
        try:
            if fs.exists(p):
                return True
        except FsError:
            continue
    return False


def detect_cri_socket(machine: Any) -> str:
    """The CRI endpoint kubeadm would use (containerd's when none is found, so preflight reports it).

    Raises:
        MultipleCRIEndpoints: more than one known socket exists.
    """
    found = [ep for ep in KNOWN_CRI_SOCKETS if _socket_exists(machine, ep)]
    if len(found) > 1:
        raise MultipleCRIEndpoints("Found multiple CRI endpoints on the host. Please define which one do you wish to "
                                   "use by setting the 'criSocket' field in the kubeadm configuration file: "
                                   + ", ".join(found))
    return found[0] if found else DEFAULT_CRI_SOCKET


def _engine_for(machine: Any, endpoint: str) -> Any:
    from ..engine.daemon import engine_of

    path = _path(endpoint)
    if path.endswith("/containerd/containerd.sock"):
        return engine_of(machine, "containerd")
    if path.endswith("/crio/crio.sock"):
        return engine_of(machine, "cri-o")
    if path.endswith("/cri-dockerd.sock"):
        shim = machine.extensions.get("cri-dockerd")
        return shim if shim is not None else None
    return None


def runtime_for(machine: Any, endpoint: str | None = None) -> Any:
    """The CRI runtime behind ``endpoint`` on ``machine`` (auto-detected when None).

    Raises:
        MultipleCRIEndpoints: no endpoint given and several sockets exist.
        InvalidInput: an endpoint no runtime on this machine can serve.
    """
    from ..runtime import SimulatedRuntime

    ep = normalize_endpoint(endpoint) if endpoint else detect_cri_socket(machine)
    # one runtime object per machine and socket, shared with the kubelet and crictl
    # (``machine.extensions["cri"]``: endpoint -> runtime, whatever spelling of the socket they used)
    shared = machine.extensions.setdefault("cri", {})
    engine = _engine_for(machine, ep)
    for key, rt in shared.items():
        if normalize_endpoint(key) == ep and (engine is None or rt.engine is engine):
            return rt
    if engine is None:
        return SimulatedRuntime(_DeadEngine(machine, ep), endpoint=ep)  # not installed: every call fails
    rt = SimulatedRuntime(engine, endpoint=ep)
    shared[ep] = rt
    return rt


class _DeadEngine:
    """Stands for a runtime that is not installed: every call fails like dialing a missing socket."""

    running = False

    def __init__(self, machine: Any, endpoint: str):
        self.machine = machine
        self.world = machine.world
        self.name = "none"
        self.socket = endpoint

    def _check(self) -> None:
        from ..engine.engine import DaemonNotRunning

        path = _path(self.socket)
        raise DaemonNotRunning(f'failed to dial "{path}": connection error: desc = "transport: error while dialing: '
                               f'dial unix {path}: connect: no such file or directory"', reason="refused")

    def __getattr__(self, name: str) -> Any:
        self._check()


class _CriDockerd:
    """The cri-dockerd shim: an engine-shaped view of dockerd that is up only while both daemons run."""

    def __init__(self, machine: Any):
        self.machine = machine
        self.shim_running = False

    @property
    def _docker(self) -> Any:
        from ..engine.daemon import engine_of

        return engine_of(self.machine, "docker")

    @property
    def running(self) -> bool:
        return self.shim_running and self._docker.running

    @property
    def name(self) -> str:
        return "docker"

    @property
    def socket(self) -> str:
        return "unix:///var/run/cri-dockerd.sock"

    def _check(self) -> None:
        if not self.shim_running:
            from ..engine.engine import DaemonNotRunning

            raise DaemonNotRunning('failed to dial "/var/run/cri-dockerd.sock": connection error: desc = "transport: '
                                   'error while dialing: dial unix /var/run/cri-dockerd.sock: connect: no such file '
                                   'or directory"', reason="refused")
        self._docker._check()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._docker, name)


# -- daemons ------------------------------------------------------------------------------------
def _log(proc: Any, level: str, msg: str) -> None:
    from ..engine.containers import rfc3339_nano

    world = getattr(proc.kernel.owner, "world", None)
    stamp = rfc3339_nano(world, proc.now) if world is not None else ""
    proc.error(f'time="{stamp}" level={level} msg="{msg}"\n')


def _make_socket(machine: Any, path: str, group: str | None = None) -> None:
    """The daemon's UNIX socket (``srw-rw----``, owned by root and ``group`` when it exists)."""
    fs = machine.fs
    d = path.rsplit("/", 1)[0]
    gid = 0
    if group is not None:
        from ..engine.daemon import group_gid

        gid = group_gid(machine, group) or 0
    try:
        if not fs.exists(d):
            fs.makedirs(d)
        fs.mksocket(path, mode=0o660, gid=gid)
    except FsError:
        pass


def _remove_socket(machine: Any, path: str) -> None:
    try:
        if machine.fs.lexists(path):
            machine.fs.remove(path)
    except FsError:
        pass


@register_program("crio")
def crio(proc):
    """``crio``: CRI-O's daemon (``crio --version`` prints its version)."""
    args = proc.argv[1:]
    machine = proc.kernel.owner
    if args and args[0] in ("--version", "version", "-v"):
        ver = (machine.packages.get("cri-o", "1.30.0") if machine is not None else "1.30.0").split("-")[0]
        proc.write(f"crio version {ver}\n")
        return 0
    if proc.uid != 0:
        proc.error("crio: must be run as root\n")
        return 1
    from ..engine.daemon import engine_of

    engine = engine_of(machine, "cri-o")
    engine.socket = "unix:///var/run/crio/crio.sock"
    engine._ensure_root()
    _log(proc, "info", "Starting CRI-O, version: 1.30.0")
    _make_socket(machine, "/run/crio/crio.sock")
    engine.daemon_process = proc
    engine._daemon_start()

    def stop(_sig: int) -> None:
        proc.exit(0)

    proc.on_signal("TERM", stop)
    proc.on_signal("INT", stop)
    try:
        yield proc.forever()
    finally:
        engine._daemon_stop()
        engine.daemon_process = None
        _remove_socket(machine, "/run/crio/crio.sock")


@register_program("cri-dockerd")
def cri_dockerd(proc):
    """``cri-dockerd``: the Docker CRI shim (needs dockerd running to be useful)."""
    args = proc.argv[1:]
    machine = proc.kernel.owner
    if args and args[0] in ("--version", "version"):
        proc.write("cri-dockerd 0.3.14 (683f70f)\n")
        return 0
    if proc.uid != 0:
        proc.error("cri-dockerd: permission denied\n")
        return 1
    shim = machine.extensions.setdefault("cri-dockerd", _CriDockerd(machine))
    _log(proc, "info", "Connecting to docker on the Endpoint unix:///var/run/docker.sock")
    _log(proc, "info", "Start docker client with request timeout 0s")
    _make_socket(machine, "/run/cri-dockerd.sock", group="docker")  # cri-docker.socket: SocketGroup=docker
    shim.shim_running = True

    def stop(_sig: int) -> None:
        proc.exit(0)

    proc.on_signal("TERM", stop)
    proc.on_signal("INT", stop)
    try:
        yield proc.forever()
    finally:
        shim.shim_running = False
        _remove_socket(machine, "/run/cri-dockerd.sock")


# -- package hooks ----------------------------------------------------------------------------------
def install_crio(machine: Any) -> None:
    """``apt-get install cri-o``: the engine and the ``crio`` unit (not started: ``systemctl start crio``)."""
    from ..engine.daemon import engine_of

    engine = engine_of(machine, "cri-o")
    engine.socket = "unix:///var/run/crio/crio.sock"
    if "crio" not in machine.services.units:
        machine.services.add(Unit("crio", ["crio"], description="Container Runtime Interface for OCI (CRI-O)",
                                  restart="on-failure", restart_sec=5.0))


def remove_crio(machine: Any) -> None:
    if "crio" in machine.services.units:
        machine.services.stop("crio")
        del machine.services.units["crio"]


def install_cri_dockerd(machine: Any) -> None:
    """``dpkg -i cri-dockerd_*.deb``: the shim and its unit, enabled and started."""
    machine.extensions.setdefault("cri-dockerd", _CriDockerd(machine))
    unit = machine.services.units.get("cri-docker")
    if unit is None:
        unit = Unit("cri-docker", ["cri-dockerd", "--container-runtime-endpoint", "fd://"],
                    description="CRI Interface for Docker Application Container Engine", restart="always",
                    restart_sec=2.0)
        machine.services.add(unit)
    unit.enabled = True
    try:
        machine.services.start("cri-docker")
    except AivleError:
        pass


def remove_cri_dockerd(machine: Any) -> None:
    if "cri-docker" in machine.services.units:
        machine.services.stop("cri-docker")
        del machine.services.units["cri-docker"]


PACKAGE_HOOKS = {"cri-o": install_crio, "-cri-o": remove_crio,
                 "cri-dockerd": install_cri_dockerd, "-cri-dockerd": remove_cri_dockerd}


def _register_hooks() -> None:
    from ..machines.machine import PACKAGE_HOOKS as hooks

    for name, fn in PACKAGE_HOOKS.items():
        hooks.setdefault(name, fn)


_register_hooks()
