"""Containers: isolated process trees on the machine's one shared kernel.

A container is not a small VM. It is a process (PID 1: the image's
ENTRYPOINT + CMD) started on the host's kernel with its own namespaces:

* **mnt** — a root filesystem made of the image's read-only layers plus one
  writable layer of its own (removing the container loses that layer);
  volumes and bind mounts are seen through it but live elsewhere;
* **uts** — its own hostname (the short container id by default);
* **pid** — its own numbering: the main program is PID 1 inside;
* **net** — its own address on a bridge network;
* a **cgroup** that limits its memory (over the limit: OOM-killed, exit 137).

``uname -r`` inside prints the host's kernel release: there is only one kernel.

States and timings follow dockerd: ``created``, ``running``, ``paused``,
``restarting``, ``exited``, ``dead``; ``stop`` sends the image's STOPSIGNAL
(SIGTERM by default) and SIGKILL after the timeout (10 s), so a PID 1 that
has no handler (``sleep``) takes 10 simulated seconds to stop and exits 137;
restart policies back off 100 ms, 200 ms, 400 ms ... up to 1 minute, and the
delay resets after the container ran for 10 s.
"""

from __future__ import annotations

import datetime as _dt
import builtins
import posixpath
import re
import shlex
from collections import namedtuple
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ..linux.fs import Entry, FileSystem, join, normpath
from ..linux.kernel import (SIGNALS, Cgroup, ExecError, Namespaces, PidNamespace, Process, Stream,
                            register_program)
from ..sim.clock import Event
from ..sim.errors import (AivleError, Conflict, ContainerError, ContainerNotFound, FsError, InvalidInput,
                          NetworkError, NotFound, SimulationError)
from .networks import Endpoint, Network, PortBinding
from .volumes import Volume, check_volume_name, prepopulate

if TYPE_CHECKING:  # pragma: no cover
    from ..images.image import Image
    from .engine import Engine

__all__ = [
    "Container",
    "ContainerCollection",
    "ExecResult",
    "LogLine",
    "Mount",
    "random_name",
    "parse_ports",
    "parse_volumes",
    "parse_memory",
    "DEFAULT_PATH",
]

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#: docker-py's ``Container.exec_run`` result: ``(exit_code, output)``.
ExecResult = namedtuple("ExecResult", ["exit_code", "output"])

# Docker's name generator (moby/pkg/namesgenerator): "adjective_surname".
_ADJECTIVES = [
    "admiring", "adoring", "affectionate", "agitated", "amazing", "angry", "awesome", "beautiful", "blissful",
    "bold", "boring", "brave", "busy", "charming", "clever", "compassionate", "competent", "condescending",
    "confident", "cool", "cranky", "crazy", "dazzling", "determined", "distracted", "dreamy", "eager",
    "ecstatic", "elastic", "elated", "elegant", "eloquent", "epic", "exciting", "fervent", "festive",
    "flamboyant", "focused", "friendly", "frosty", "funny", "gallant", "gifted", "goofy", "gracious", "great",
    "happy", "hardcore", "heuristic", "hopeful", "hungry", "infallible", "inspiring", "intelligent",
    "interesting", "jolly", "jovial", "keen", "kind", "laughing", "loving", "lucid", "magical", "modest",
    "musing", "mystifying", "naughty", "nervous", "nice", "nifty", "nostalgic", "objective", "optimistic",
    "peaceful", "pedantic", "pensive", "practical", "priceless", "quirky", "quizzical", "recursing",
    "relaxed", "reverent", "romantic", "sad", "serene", "sharp", "silly", "sleepy", "stoic", "strange",
    "stupefied", "suspicious", "sweet", "tender", "thirsty", "trusting", "unruffled", "upbeat", "vibrant",
    "vigilant", "vigorous", "wizardly", "wonderful", "xenodochial", "youthful", "zealous", "zen",
]
_SURNAMES = [
    "agnesi", "albattani", "allen", "archimedes", "ardinghelli", "aryabhata", "austin", "babbage", "banach",
    "bardeen", "bartik", "bassi", "bell", "benz", "bhabha", "black", "blackwell", "bohr", "booth", "borg",
    "bose", "brahmagupta", "brattain", "brown", "carson", "cerf", "chandrasekhar", "chaplygin", "chatelet",
    "clarke", "cohen", "curie", "darwin", "davinci", "dijkstra", "easley", "einstein", "elion", "engelbart",
    "euclid", "euler", "faraday", "fermat", "fermi", "feynman", "franklin", "galileo", "gates", "goldberg",
    "goldstine", "goodall", "hamilton", "hawking", "heisenberg", "hertz", "hodgkin", "hofstadter", "hopper",
    "hypatia", "jackson", "jang", "jemison", "jennings", "johnson", "kalam", "kapitsa", "keldysh", "keller",
    "kepler", "khorana", "knuth", "kowalevski", "lamarr", "lamport", "leakey", "leavitt", "lehmann",
    "lovelace", "lumiere", "mayer", "mccarthy", "mcclintock", "meitner", "mendel", "mendeleev", "merkle",
    "mirzakhani", "moore", "morse", "napier", "nash", "neumann", "newton", "nobel", "noether", "panini",
    "pare", "pascal", "pasteur", "payne", "perlman", "pike", "poincare", "ptolemy", "raman", "ramanujan",
    "ride", "ritchie", "rosalind", "sammet", "shamir", "shannon", "shaw", "shockley", "sinoussi", "snyder",
    "stonebraker", "swanson", "tesla", "thompson", "torvalds", "turing", "varahamihira", "visvesvaraya",
    "volhard", "wescoff", "wilbur", "wiles", "williams", "wilson", "wing", "wozniak", "wright", "yalow",
    "yonath",
]

CONTAINER_NAME = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
_RESTART_POLICIES = ("no", "on-failure", "always", "unless-stopped")
#: Docker's restart back-off (moby/restartmanager): first delay, factor, cap; reset after 10 s of running.
BACKOFF_START, BACKOFF_FACTOR, BACKOFF_MAX, BACKOFF_RESET = 0.1, 2.0, 60.0, 10.0


def random_name(rng, taken: Iterable[str] = ()) -> str:
    """A Docker-style ``adjective_surname`` from the world's seeded RNG, not in ``taken``.

    >>> import random
    >>> random_name(random.Random(0)).count("_")
    1
    """
    taken = set(taken)
    retry = 0
    while True:
        name = f"{rng.choice(_ADJECTIVES)}_{rng.choice(_SURNAMES)}"
        if name == "boring_wozniak":  # Steve Wozniak is not boring (moby's rule)
            continue
        if retry > 0:
            name += str(rng.randrange(10))
        if name not in taken:
            return name
        retry += 1


# -- parsing the run options ------------------------------------------------------------------
_MEM_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_memory(value: int | str | None) -> int | None:
    """Bytes of a docker memory size (``"512m"``, ``"1g"``, ``268435456``).

    >>> parse_memory("512m"), parse_memory("1g"), parse_memory(None)
    (536870912, 1073741824, None)
    """
    if value is None or value == 0 or value == "":
        return None
    if isinstance(value, (int, float)):
        return int(value)
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([bkmgt]?)b?\s*", str(value).lower())
    if not m:
        raise InvalidInput(f"invalid size: '{value}'")
    return int(float(m.group(1)) * _MEM_UNITS[m.group(2)])


def _port_key(key: Any) -> tuple[int, str]:
    text = str(key)
    port, _, proto = text.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp", "sctp"):
        raise InvalidInput(f"invalid proto: {proto}")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidInput(f"Invalid containerPort: {port}")
    return int(port), proto


def _host_port(value: Any) -> int | None:
    if value is None or value == "":
        return None
    text = str(value)
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise InvalidInput(f"Invalid hostPort: {value}")
    return int(text)


def parse_ports(ports: Any) -> dict[tuple[int, str], list[tuple[str, int | None]]]:
    """docker-py ``ports`` (or ``-p`` strings) -> ``{(80, "tcp"): [(host_ip, host_port or None)]}``.

    >>> parse_ports({"80/tcp": 8080, 443: ("127.0.0.1", 8443), 53: None})
    {(80, 'tcp'): [('', 8080)], (443, 'tcp'): [('127.0.0.1', 8443)], (53, 'tcp'): [('', None)]}
    >>> parse_ports(["8080:80", "127.0.0.1:9000:9000/udp", "5000"])
    {(80, 'tcp'): [('', 8080)], (9000, 'udp'): [('127.0.0.1', 9000)], (5000, 'tcp'): [('', None)]}
    """
    out: dict[tuple[int, str], list[tuple[str, int | None]]] = {}
    if not ports:
        return out
    if isinstance(ports, dict):
        for key, value in ports.items():
            k = _port_key(key)
            values = value if isinstance(value, list) else [value]
            for v in values:
                if isinstance(v, tuple):
                    host_ip = str(v[0]) if v else ""
                    host_port = _host_port(v[1]) if len(v) > 1 else None
                else:
                    host_ip, host_port = "", _host_port(v)
                out.setdefault(k, []).append((host_ip, host_port))
        return out
    for spec in ports:
        text = str(spec)
        parts = text.split(":")
        if len(parts) == 1:
            out.setdefault(_port_key(parts[0]), []).append(("", None))
        elif len(parts) == 2:
            out.setdefault(_port_key(parts[1]), []).append(("", _host_port(parts[0])))
        elif len(parts) == 3:
            out.setdefault(_port_key(parts[2]), []).append((parts[0], _host_port(parts[1])))
        else:
            raise InvalidInput(f"invalid port format for --expose: {text}")
    return out


@dataclass
class Mount:
    """A volume or bind mount of a container (one entry of ``Mounts`` in inspect)."""

    type: str  # "volume" | "bind"
    source: str  # volume name, or host path
    target: str
    read_only: bool = False
    anonymous: bool = False

    def spec(self) -> str:
        return f"{self.source}:{self.target}" + (":ro" if self.read_only else "")


def parse_volumes(volumes: Any, cwd: str = "/") -> list[Mount]:
    """docker-py ``volumes`` (dict or ``["src:dst[:ro]"]``) -> mounts, validated like dockerd.

    >>> [m.spec() for m in parse_volumes({"data": {"bind": "/data", "mode": "rw"}, "/srv/site": "/usr/share/nginx/html"})]
    ['data:/data', '/srv/site:/usr/share/nginx/html']
    >>> [(m.type, m.read_only) for m in parse_volumes(["/home/student/app:/app:ro", "/cache"])]
    [('bind', True), ('volume', False)]
    """
    items: list[tuple[str | None, str, str]] = []
    if not volumes:
        return []
    if isinstance(volumes, dict):
        for src, spec in volumes.items():
            if isinstance(spec, dict):
                items.append((src, spec.get("bind") or spec.get("target") or "", spec.get("mode", "rw")))
            else:
                target, _, mode = str(spec).partition(":")
                items.append((src, target, mode or "rw"))
    else:
        for spec in volumes:
            text = str(spec)
            parts = text.split(":")
            if len(parts) == 1:
                items.append((None, parts[0], "rw"))
            elif len(parts) == 2:
                items.append((parts[0], parts[1], "rw"))
            elif len(parts) == 3:
                items.append((parts[0], parts[1], parts[2]))
            else:
                raise InvalidInput(f"invalid volume specification: '{text}'")
    mounts: list[Mount] = []
    seen: set[str] = set()
    for src, target, mode in items:
        spec = f"{src}:{target}" if src is not None else target
        if not target:
            raise InvalidInput(f"invalid volume specification: '{spec}'")
        if not target.startswith("/"):
            raise InvalidInput(f"invalid volume specification: '{spec}': invalid mount config for type "
                               f"\"{'bind' if src and src.startswith('/') else 'volume'}\": invalid mount path: "
                               f"'{target}' mount path must be absolute")
        if target == "/":
            raise InvalidInput(f"invalid volume specification: '{spec}': invalid mount config for type \"bind\": "
                               f"invalid specification: destination can't be '/'")
        modes = set((mode or "rw").split(","))
        if not modes <= {"rw", "ro", "z", "Z", "nocopy", "rprivate", "private", "rshared", "shared", "rslave",
                         "slave", "consistent", "cached", "delegated"}:
            raise InvalidInput(f"invalid mode: {mode}")
        target = normpath(target)
        if target in seen:
            raise InvalidInput(f"Duplicate mount point: {target}")
        seen.add(target)
        ro = "ro" in modes
        if src is None:
            mounts.append(Mount("volume", "", target, ro, anonymous=True))
        elif src.startswith("/"):
            mounts.append(Mount("bind", normpath(src), target, ro))
        else:
            if src.startswith(".") or src.startswith("~"):
                raise InvalidInput(f'create {src}: "{src}" includes invalid characters for a local volume name, '
                                   f'only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host '
                                   f'directory, use absolute path')
            check_volume_name(src)
            mounts.append(Mount("volume", src, target, ro))
    return mounts


def _restart_policy(policy: Any) -> dict:
    if policy is None or policy == "":
        return {"Name": "no", "MaximumRetryCount": 0}
    if isinstance(policy, str):
        name, _, count = policy.partition(":")
        policy = {"Name": name, "MaximumRetryCount": int(count) if count.isdigit() else 0}
        if count and not count.isdigit():
            raise InvalidInput(f"invalid restart policy format: maximum retry count must be an integer")
    name = policy.get("Name") or "no"
    count = int(policy.get("MaximumRetryCount") or 0)
    if name not in _RESTART_POLICIES:
        raise InvalidInput(f"invalid restart policy: unknown policy '{name}'; use one of 'no', 'always', "
                           f"'on-failure' or 'unless-stopped'")
    if count and name != "on-failure":
        raise InvalidInput(f"invalid restart policy: maximum retry count can only be used with 'on-failure'")
    if count < 0:
        raise InvalidInput("invalid restart policy: maximum retry count cannot be negative")
    return {"Name": name, "MaximumRetryCount": count}


def _argv(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return shlex.split(value)
    return [str(v) for v in value]


def _signal_number(sig: Any) -> int:
    if isinstance(sig, int):
        return sig
    text = str(sig).upper()
    if text.isdigit():
        return int(text)
    name = text.removeprefix("SIG")
    if name not in SIGNALS:
        raise InvalidInput(f"Invalid signal: {sig}")
    return SIGNALS[name]


# -- logs ------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogLine:
    """One line of a container's log (json-file driver: the line, its stream and its time)."""

    time: float
    stream: str  # "stdout" | "stderr"
    data: bytes


class _LogSink:
    """Splits what a container writes into timestamped lines (partial lines wait for their newline)."""

    def __init__(self, container: "Container", stream: str):
        self.container = container
        self.stream = stream
        self.partial = b""
        self.partial_time = 0.0

    def __call__(self, data: bytes) -> None:
        now = self.container.engine.loop.now
        if not self.partial:
            self.partial_time = now
        buf = self.partial + data
        *lines, rest = buf.split(b"\n")
        for line in lines:
            self.container._log.append(LogLine(self.partial_time, self.stream, line + b"\n"))
            self.partial_time = now
        self.partial = rest

    def flush(self) -> None:
        if self.partial:
            self.container._log.append(LogLine(self.partial_time, self.stream, self.partial))
            self.partial = b""


def rfc3339_nano(world, t: float) -> str:
    """Docker's ``--timestamps`` format (RFC 3339 with 9 fraction digits)."""
    ns = int(round(t * 1_000_000_000))
    moment = world.datetime(0) + _dt.timedelta(seconds=ns // 1_000_000_000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{ns % 1_000_000_000:09d}Z"


# -- docker-init ----------------------------------------------------------------------------
@register_program("docker-init")
def docker_init(proc: Process):
    """``tini`` as PID 1 (``--init``): runs the command as its child, forwards signals, reaps."""
    argv = proc.argv[1:]
    if argv and argv[0] == "--":
        argv = argv[1:]
    try:
        child = proc.kernel.spawn(argv, ns=proc.ns, env=proc.env, cwd=proc.cwd, stdin=proc.stdin,
                                  stdout=proc.stdout, stderr=proc.stderr, uid=proc.uid, parent=proc)
    except ExecError as e:
        proc.error(f"[FATAL tini (7)] exec {argv[0] if argv else ''} failed: {e.message}\n")
        return e.exit_code
    for sig in ("TERM", "INT", "QUIT", "HUP", "USR1", "USR2"):
        proc.on_signal(sig, lambda s, c=child: proc.kernel.signal(c.pid, s))
    if child.alive:
        yield child.exited
    return child.exit_code


# -- frozen (paused) listeners ---------------------------------------------------------------
class _Frozen:
    """A paused container's listening socket: the kernel accepts, the program never answers."""

    def __init__(self, handler: Callable, ip: str, port: int):
        self.handler = handler
        self.ip = ip
        self.port = port

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handler, name)

    def __call__(self, data: bytes, peer: tuple) -> bytes:
        raise NetworkError("Operation timed out after 30000 milliseconds with 0 bytes received",
                           reason="timeout")


# -- the container ---------------------------------------------------------------------------
class Container:
    """One container (docker-py's ``Container`` model, always up to date).

    Build containers with :meth:`ContainerCollection.create` / ``run``.
    """

    def __init__(self, collection: "ContainerCollection", *, id: str, name: str, image: "Image", image_ref: str,
                 config: dict, host_config: dict, mounts: list[Mount], port_specs: dict, network_mode: str,
                 seq: int):
        self.collection = collection
        self.engine = collection.engine
        self.id = id
        self.name = name
        self._image = image
        self.image_id = image.id
        self.image_ref = image_ref
        self.config = config
        self.host_config = host_config
        self.mounts_spec = mounts
        self.port_specs = port_specs
        self.network_mode = network_mode
        self.seq = seq
        self.created = self.engine.loop.now
        self.status = "created"
        self.exit_code = 0
        self.oom_killed = False
        self.error = ""
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.restart_count = 0
        self.pull_report: Any = None  # the PullReport when creating it pulled the image
        self.labels = dict(config.get("Labels") or {})
        self.fs = _ContainerFS(lowers=image.rootfs_layers())
        self._etc = FileSystem()  # /etc/hostname, /etc/hosts, /etc/resolv.conf (bind-mounted like dockerd)
        self.etc_overrides: dict[str, str] = {}  # name -> content (a kubelet's hosts / resolv.conf)
        self._volumes: dict[str, Volume] = {}  # target -> volume
        self.ns: Namespaces | None = None
        self._netns = None
        self._own_netns = False
        self._net_active = False
        self._bindings: list[PortBinding] = []
        self._proc: Process | None = None
        self._log: list[LogLine] = []
        self._sinks: list[_LogSink] = []
        self._manual_stop = False  # docker stop/kill: no restart until the next start
        self._has_been_manually_stopped = False  # for unless-stopped across daemon restarts
        self._restart_timer = None
        self._kill_timer = None
        self._backoff = 0.0
        self._exits = 0
        self._exit_waiters: list[Event] = []
        self._frozen: list[tuple[Process, Event]] = []
        self._frozen_listeners: dict[int, Any] = {}
        self._listeners_before: set[int] = set()
        self._removed = False
        self._stopped_by_daemon = False
        self._stdin = b""  # what `docker run -i` feeds PID 1

    def __repr__(self) -> str:
        return f"<Container: {self.short_id} {self.name} {self.status}>"

    # -- identity ----------------------------------------------------------------------
    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def image(self) -> "Image":
        """The image it was created from (with its current tags, if still in the store)."""
        try:
            return self.engine.store.by_id(self.image_id)
        except AivleError:
            return self._image

    @property
    def hostname(self) -> str:
        return self.config["Hostname"]

    @property
    def command(self) -> list[str]:
        return list(self.config.get("Entrypoint") or []) + list(self.config.get("Cmd") or [])

    @property
    def pid(self) -> int | None:
        """Host pid of PID 1 (None when not running)."""
        return self._proc.pid if self._proc is not None and self._proc.alive else None

    @property
    def process(self) -> Process | None:
        return self._proc if self._proc is not None and self._proc.alive else None

    @property
    def running(self) -> bool:
        return self.status in ("running", "paused")

    @property
    def restart_policy(self) -> dict:
        return self.host_config["RestartPolicy"]

    def _endpoint(self) -> Endpoint | None:
        for net in self._networks():
            return net.endpoints[self.id]
        return None

    def _networks(self) -> list[Network]:
        return [n for n in self.engine.networks._networks.values() if self.id in n.endpoints]

    @property
    def ip(self) -> str:
        """The container's address on its first network ("" when not running, like inspect)."""
        if self.network_mode.startswith("container:"):
            other = self._network_owner()
            return other.ip if other is not None else ""
        ep = self._endpoint()
        return ep.ip if ep is not None and self._net_active else ""

    @property
    def gateway(self) -> str:
        ep = self._endpoint()
        return (ep.network.gateway or "") if ep is not None and self._net_active else ""

    @property
    def ports(self) -> dict:
        """docker-py's ``Container.ports``: ``{"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}``."""
        return self.attrs["NetworkSettings"]["Ports"]

    def _volume_names(self) -> set[str]:
        return {v.name for v in self._volumes.values()}

    def _network_owner(self) -> "Container | None":
        key = self.network_mode.split(":", 1)[1]
        return self.engine.containers._by_id.get(key)

    # -- inspect ------------------------------------------------------------------------
    @property
    def attrs(self) -> dict:
        world = self.engine.world
        zero = "0001-01-01T00:00:00Z"
        ts = lambda t: rfc3339_nano(world, t) if t is not None else zero  # noqa: E731
        ports: dict[str, Any] = {}
        for p in self.config.get("ExposedPorts") or {}:
            ports[p] = None
        if self.status in ("running", "paused"):
            for b in self._bindings:
                ports.setdefault(f"{b.container_port}/{b.proto}", None)
                if ports[f"{b.container_port}/{b.proto}"] is None:
                    ports[f"{b.container_port}/{b.proto}"] = []
                ports[f"{b.container_port}/{b.proto}"].append({"HostIp": b.host_ip, "HostPort": str(b.host_port)})
        networks = {}
        for net in self._networks():
            ep = net.endpoints[self.id]
            active = self._net_active
            networks[net.name] = {
                "Aliases": list(ep.aliases) or None, "NetworkID": net.id,
                "EndpointID": _ep_id(self.id, net.id) if active else "",
                "Gateway": (net.gateway or "") if active else "", "IPAddress": ep.ip if active else "",
                "IPPrefixLen": net.pool.network.prefixlen if active and net.pool else 0,
                "MacAddress": ep.mac if active else "",
            }
        ep = self._endpoint()
        on_bridge = ep is not None and ep.network.is_default_bridge and self._net_active
        mounts = []
        for m in self.mounts_spec:
            if m.type == "volume":
                vol = self._volumes.get(m.target)
                mounts.append({"Type": "volume", "Name": vol.name if vol else m.source,
                               "Source": vol.mountpoint if vol else "", "Destination": m.target, "Driver": "local",
                               "Mode": "z" if not m.read_only else "ro", "RW": not m.read_only, "Propagation": ""})
            else:
                mounts.append({"Type": "bind", "Source": m.source, "Destination": m.target,
                               "Mode": "ro" if m.read_only else "", "RW": not m.read_only,
                               "Propagation": "rprivate"})
        return {
            "Id": self.id,
            "Created": ts(self.created),
            "Path": self.command[0] if self.command else "",
            "Args": self.command[1:],
            "State": {
                "Status": self.status, "Running": self.status in ("running", "paused"),
                "Paused": self.status == "paused", "Restarting": self.status == "restarting",
                "OOMKilled": self.oom_killed, "Dead": self.status == "dead", "Pid": self.pid or 0,
                "ExitCode": self.exit_code, "Error": self.error,
                "StartedAt": ts(self.started_at), "FinishedAt": ts(self.finished_at),
            },
            "Image": self.image_id,
            "ResolvConfPath": f"{self.engine.root}/containers/{self.id}/resolv.conf",
            "HostnamePath": f"{self.engine.root}/containers/{self.id}/hostname",
            "HostsPath": f"{self.engine.root}/containers/{self.id}/hosts",
            "LogPath": f"{self.engine.root}/containers/{self.id}/{self.id}-json.log",
            "Name": "/" + self.name,
            "RestartCount": self.restart_count,
            "Driver": "overlay2",
            "Platform": "linux",
            "HostConfig": dict(self.host_config),
            "Mounts": mounts,
            "Config": dict(self.config),
            "NetworkSettings": {
                "Bridge": "", "Ports": ports,
                "IPAddress": ep.ip if on_bridge else "", "Gateway": ep.network.gateway if on_bridge else "",
                "IPPrefixLen": 16 if on_bridge else 0, "MacAddress": ep.mac if on_bridge else "",
                "Networks": networks,
            },
        }

    def reload(self) -> None:
        """docker-py compatibility: the model is always current."""
        return None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self, **_: Any) -> None:
        """``docker start``: start PID 1 (a running container is left alone).

        Raises:
            Conflict: the container is paused, or a published host port is taken.
            ContainerError: the command cannot be executed (``executable file not found``).
        """
        self.engine._check()
        self._assert_exists()
        if self.status == "paused":
            raise Conflict("cannot start a paused container, try unpause instead")
        if self.status in ("running",):
            return
        if self.status == "restarting":
            self._cancel_restart()
        self._manual_stop = False
        self._has_been_manually_stopped = False
        self._backoff = 0.0
        self._start_process()

    def _start_process(self) -> None:
        engine = self.engine
        machine = engine.machine
        kernel = machine.kernel
        # everything that can fail without side effects first
        if self.network_mode.startswith("container:"):
            owner = self._network_owner()
            if owner is None or not owner.running:
                raise Conflict(f"cannot join network of a non running container: {self.network_mode.split(':')[1]}")
        bindings = engine.networks.check_ports(self) if self._has_own_bridge_net() else []
        argv = self.command
        env = self._process_env()
        uid, username = self._user()
        workdir = self.config.get("WorkingDir") or "/"
        # namespaces
        self._setup_network()
        self._write_etc_files()
        if not self.fs.is_dir(workdir):
            try:
                self.fs.makedirs(workdir)
            except FsError:
                pass
        pidns = PidNamespace(kernel.host_pidns, name=self.short_id)
        cgroup = Cgroup(f"/docker/{self.id}", parse_memory(self.host_config.get("Memory")) or None,
                        (self.host_config.get("NanoCpus") or 0) / 1e9 or None)
        hostname = machine.hostname if self.network_mode == "host" else self.config["Hostname"]
        self.ns = Namespaces(self.fs, hostname, pidns, self._netns, cgroup, name=f"container:{self.short_id}",
                             user=username)
        if self._netns is not None and self._own_netns:
            self._netns.up = True
        self._net_active = True
        self._listeners_before = set(self._netns.listeners) if self._netns is not None else set()
        engine.networks.publish(self, bindings)
        out, err = Stream("stdout"), Stream("stderr")
        self._sinks = [_LogSink(self, "stdout"), _LogSink(self, "stderr")]
        out.listeners.append(self._sinks[0])
        err.listeners.append(self._sinks[1])
        stdin = self._stdin
        self.oom_killed = False
        try:
            if self.host_config.get("Init"):
                from ..linux.kernel import _PROGRAMS

                proc = kernel.start(_PROGRAMS["docker-init"], ["/sbin/docker-init", "--", *argv], ns=self.ns,
                                    env=env, cwd=workdir, stdin=stdin, stdout=out, stderr=err, uid=uid)
            else:
                proc = kernel.spawn(argv, ns=self.ns, env=env, cwd=workdir, stdin=stdin, stdout=out, stderr=err,
                                    uid=uid)
        except ExecError as e:
            self._teardown_runtime()
            code = e.exit_code
            if e.errno == "ENOENT" and "/" not in argv[0]:
                why = f'exec: "{argv[0]}": executable file not found in $PATH'
            elif e.errno == "ENOENT":
                why = f'exec: "{argv[0]}": stat {argv[0]}: no such file or directory'
            elif e.errno == "ENOEXEC":
                why = "exec format error"
            else:
                why = f'exec: "{argv[0]}": permission denied'
            message = ("failed to create task for container: failed to create shim task: OCI runtime create "
                       f"failed: runc create failed: unable to start container process: {why}: unknown")
            self.error = message
            self.exit_code = code
            if self.status != "created":
                self.status = "exited"
                self.finished_at = engine.loop.now
            raise ContainerError(message, container=self, exit_status=code, command=argv, image=self.image_ref,
                                 stderr=message) from None
        self._proc = proc
        self.status = "running"
        self.error = ""
        self.started_at = engine.loop.now
        self.finished_at = None
        engine._event("container", "start", self)
        proc.exited.add_callback(lambda ev, p=proc: self._on_exit(p))

    def _has_own_bridge_net(self) -> bool:
        return self.network_mode not in ("host", "none") and not self.network_mode.startswith("container:")

    def _process_env(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for item in self.config.get("Env") or []:
            k, _, v = item.partition("=")
            env[k] = v
        env.setdefault("PATH", DEFAULT_PATH)
        hostname = self.engine.machine.hostname if self.network_mode == "host" else self.config["Hostname"]
        env.setdefault("HOSTNAME", hostname)
        if "HOME" not in env:
            env["HOME"] = self._home(self._user()[0])
        if self.config.get("Tty"):
            env.setdefault("TERM", "xterm")
        return env

    def _passwd(self) -> list[list[str]]:
        try:
            text = self.fs.read_text("/etc/passwd")
        except FsError:
            return []
        return [line.split(":") for line in text.splitlines() if line.count(":") >= 6]

    def _user(self, spec: str | None = None) -> tuple[int, str]:
        spec = self.config.get("User") or "" if spec is None else spec
        user = spec.split(":", 1)[0]
        if not user:
            return 0, "root"
        rows = self._passwd()
        if user.isdigit():
            uid = int(user)
            name = next((r[0] for r in rows if r[2] == user), user)
            return uid, name
        for r in rows:
            if r[0] == user:
                return int(r[2]), user
        raise ContainerError(f"unable to find user {user}: no matching entries in passwd file", container=self,
                             exit_status=126, command=self.command, image=self.image_ref, stderr="")

    def _home(self, uid: int) -> str:
        for r in self._passwd():
            if r[2] == str(uid):
                return r[5]
        return "/root" if uid == 0 else "/"

    def _setup_network(self) -> None:
        engine = self.engine
        world = engine.world
        machine = engine.machine
        if self._netns is not None:
            return
        if self.network_mode == "host":
            self._netns = machine.netns
            self._own_netns = False
            return
        if self.network_mode.startswith("container:"):
            owner = self._network_owner()
            self._netns = owner._netns
            self._own_netns = False
            return
        self._netns = world.net.namespace(f"{machine.name}/{self.short_id}", [], node=machine.name,
                                          scope=machine.name)
        self._own_netns = True
        self._netns.resolvers.append(self._dns)
        for net in self._networks():
            net._activate(self)

    def _dns(self, host: str) -> str | None:
        """Docker's embedded DNS (127.0.0.11): names of containers on the same user-defined networks."""
        for net in self._networks():
            if net.user_defined:
                ip = net._lookup(host)
                if ip:
                    return ip
        return None

    def _write_etc_files(self) -> None:
        machine = self.engine.machine
        ep = self._endpoint()
        hostname = machine.hostname if self.network_mode == "host" else self.config["Hostname"]
        ip = ep.ip if ep is not None else ""
        if self.network_mode.startswith("container:"):
            owner = self._network_owner()
            ip = owner.ip if owner is not None else ""
            ep = owner._endpoint() if owner is not None else None
        if self.network_mode == "host":
            hosts = machine.fs.read_text("/etc/hosts") if machine.fs.exists("/etc/hosts") else ""
        else:
            hosts = ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
                     "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n")
            if ip:
                hosts += f"{ip}\t{hostname}\n"
        user_net = ep is not None and ep.network.user_defined
        if user_net:
            resolv = "# Generated by Docker Engine.\nnameserver 127.0.0.11\noptions ndots:0\n"
        elif machine.fs.is_file("/etc/resolv.conf"):
            resolv = machine.fs.read_text("/etc/resolv.conf")
        else:
            resolv = "# Generated by Docker Engine.\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        files = {"hostname": hostname + "\n", "hosts": hosts, "resolv.conf": resolv}
        files.update(self.etc_overrides)
        for name, text in files.items():
            self._etc.write(f"/{name}", text)
        if self._netns is not None and self._own_netns and ip:
            self._netns.hosts[hostname] = ip
        read_only, self.fs.read_only = self.fs.read_only, False  # mount points are made like dockerd's init layer
        try:
            if not self.fs.is_dir("/etc"):
                self.fs.makedirs("/etc")
            for name in ("hostname", "hosts", "resolv.conf"):
                path = f"/etc/{name}"
                if path in self.fs.mounts:
                    continue
                if not self.fs.lexists(path):
                    self.fs.write(path, b"")
                self.fs.mount(path, self._etc, source=f"/{name}")
        finally:
            self.fs.read_only = read_only

    def _on_exit(self, proc: Process) -> None:
        if proc is not self._proc:
            return
        engine = self.engine
        loop = engine.loop
        for sink in self._sinks:
            sink.flush()
        self.exit_code = proc.exit_code if proc.exit_code is not None else 0
        self.oom_killed = bool(self.ns and self.ns.cgroup.oom_killed)
        self.finished_at = loop.now
        ran_for = loop.now - (self.started_at or loop.now)
        self._teardown_runtime()
        self._exits += 1
        engine._event("container", "die", self, exitCode=str(self.exit_code))
        restart, delay = self._should_restart(ran_for)
        if restart:
            self.status = "restarting"
            self.restart_count += 1
            self._restart_timer = loop.call_later(delay, self._restart_from_policy)
        else:
            self.status = "exited"
        waiters, self._exit_waiters = self._exit_waiters, []
        for ev in waiters:
            if not ev.triggered:
                ev.succeed({"StatusCode": self.exit_code, "Error": None})
        if not restart and self.host_config.get("AutoRemove") and not self._removed:
            self._remove_now(v=True)

    def _should_restart(self, ran_for: float) -> tuple[bool, float]:
        """moby's restartmanager.ShouldRestart: (restart?, delay)."""
        if self._manual_stop or not self.engine.running:
            return False, 0.0
        if ran_for >= BACKOFF_RESET:
            self._backoff = 0.0
        self._backoff = BACKOFF_START if self._backoff == 0 else min(self._backoff * BACKOFF_FACTOR, BACKOFF_MAX)
        policy = self.restart_policy
        name, maximum = policy["Name"], policy.get("MaximumRetryCount") or 0
        if name == "always":
            return True, self._backoff
        if name == "unless-stopped":
            return (not self._has_been_manually_stopped), self._backoff
        if name == "on-failure":
            if maximum == 0 or self.restart_count < maximum:
                return self.exit_code != 0, self._backoff
        return False, 0.0

    def _restart_from_policy(self) -> None:
        self._restart_timer = None
        if self.status != "restarting" or self._removed or not self.engine.running:
            return
        try:
            self._start_process()
        except AivleError as e:
            self.status = "exited"
            self.error = e.message

    def _cancel_restart(self) -> None:
        if self._restart_timer is not None:
            self._restart_timer.cancel()
            self._restart_timer = None
        if self.status == "restarting":
            self.status = "exited"

    def _teardown_runtime(self) -> None:
        """PID 1 is gone: unpublish ports, take the network down, drop frozen state."""
        engine = self.engine
        self._unfreeze(resume=False)
        engine.networks.unpublish(self)
        if self._kill_timer is not None:
            self._kill_timer.cancel()
            self._kill_timer = None
        netns = self._netns
        if netns is not None:
            if self._own_netns:
                netns.listeners.clear()
                netns.up = False
            # a shared namespace (host network, container:<id>): each program closes its own listeners when
            # it exits (proc.cleanups); closing "ports opened since this container started" here would also
            # close other containers' ports in the same namespace (a host-network pause container taking
            # the API server's 6443 down with it)
        self._net_active = False
        if self._proc is not None and not self._proc.alive:
            self._proc = None

    def stop(self, timeout: float | None = None, *, wait: bool = True) -> Event | None:
        """``docker stop``: STOPSIGNAL, then SIGKILL after ``timeout`` seconds (default 10).

        Simulated time passes until the container has stopped (like the CLI
        blocking). With ``wait=False`` it returns an Event that fires when it has.
        """
        self.engine._check()
        self._assert_exists()
        done = self.engine.loop.event()
        if self.status == "restarting":
            self._manual_stop = True
            self._has_been_manually_stopped = True
            self._cancel_restart()
        if self.status not in ("running", "paused"):
            done.succeed({"StatusCode": self.exit_code, "Error": None})
            return None if wait else done
        if timeout is None:
            timeout = self.config.get("StopTimeout") or 10
        self._manual_stop = True
        self._has_been_manually_stopped = True
        self._exit_waiters.append(done)
        proc = self._proc
        sig = _signal_number(self.config.get("StopSignal") or "SIGTERM")
        was_paused = self.status == "paused"
        done.add_callback(lambda _: self.engine._event("container", "stop", self))  # after die, as docker does
        self.engine._event("container", "kill", self, signal=str(sig))
        self.engine.machine.kernel.signal(proc.pid, sig)
        if was_paused and proc.alive:
            self._unfreeze(resume=True)
            self.status = "running"

        def force(p: Any = proc) -> None:
            if p.alive:
                self.engine._event("container", "kill", self, signal=str(SIGNALS["KILL"]))
                self.engine.machine.kernel.signal(p.pid, "KILL")

        if proc.alive:
            if timeout <= 0:
                force()
            else:
                self._kill_timer = self.engine.loop.call_later(float(timeout), force)
        if not wait:
            return done
        self.engine._wait_for(lambda: done.triggered, float(timeout) + 1)
        return None

    def kill(self, signal: str | int = "KILL") -> None:
        """``docker kill [-s SIGNAL]``.

        Raises:
            Conflict: ``Cannot kill container: web: Container <id> is not running``.
        """
        self.engine._check()
        self._assert_exists()
        sig = _signal_number(signal)
        if self.status not in ("running", "paused"):
            raise Conflict(f"Cannot kill container: {self.name}: Container {self.id} is not running")
        stop_sig = _signal_number(self.config.get("StopSignal") or "SIGTERM")
        if sig in (SIGNALS["KILL"], stop_sig):
            self._manual_stop = True  # ExitOnNext: no restart
        was_paused = self.status == "paused"
        self.engine._event("container", "kill", self, signal=str(sig))
        self.engine.machine.kernel.signal(self._proc.pid, sig)
        if was_paused and self._proc is not None and self._proc.alive and sig in (SIGNALS["KILL"], stop_sig):
            self._unfreeze(resume=True)
            self.status = "running"

    def restart(self, timeout: float | None = None, **_: Any) -> None:
        """``docker restart``: stop (with the timeout) then start; the filesystem is kept."""
        self.engine._check()
        self._assert_exists()
        if self.status in ("running", "paused", "restarting"):
            self.stop(timeout)
        self.start()

    def pause(self) -> None:
        """``docker pause``: freeze every process (they get no CPU; requests to them time out)."""
        self.engine._check()
        self._assert_exists()
        if self.status == "paused":
            raise Conflict(f"Container {self.id} is already paused")
        if self.status != "running":
            raise Conflict(f"Container {self.id} is not running")
        self._freeze()
        self.status = "paused"
        self.engine._event("container", "pause", self)

    def unpause(self) -> None:
        """``docker unpause``."""
        self.engine._check()
        self._assert_exists()
        if self.status != "paused":
            raise Conflict(f"Container {self.id} is not paused")
        self._unfreeze(resume=True)
        self.status = "running"
        self.engine._event("container", "unpause", self)

    def _freeze(self) -> None:
        kernel = self.engine.machine.kernel
        for p in kernel.ps(self.ns.pid):
            task = p.task
            if task is not None and not task.finished and task._waiting is not None:
                ev = task._waiting
                ev.remove_callback(task._on_event)
                self._frozen.append((p, ev))
        netns = self._netns
        if netns is not None and self._own_netns:
            for port, handler in list(netns.listeners.items()):
                self._frozen_listeners[port] = handler
                netns.listeners[port] = _Frozen(handler, self.ip, port)

    def _unfreeze(self, resume: bool) -> None:
        frozen, self._frozen = self._frozen, []
        netns = self._netns
        for port, handler in self._frozen_listeners.items():
            if netns is not None and isinstance(netns.listeners.get(port), _Frozen):
                netns.listeners[port] = handler
        self._frozen_listeners = {}
        if not resume:
            return
        loop = self.engine.loop
        for p, ev in frozen:
            task = p.task
            if task is None or task.finished or task._waiting is not ev:
                continue
            if ev.triggered:
                loop.call_soon(lambda t=task, e=ev: t._on_event(e))
            else:
                ev.add_callback(task._on_event)

    def wait(self, timeout: float | None = None, condition: str = "not-running") -> dict:
        """``docker wait``: let simulated time pass until the container exits.

        Returns:
            ``{"StatusCode": exit code, "Error": None}``.

        Raises:
            NetworkError: still running after ``timeout`` simulated seconds (docker-py's read timeout).
            SimulationError: it would never exit (nothing else is left to happen).
        """
        self.engine._check()
        ev = self.wait_event()
        finished = self.engine._wait_for(lambda: ev.triggered, timeout)
        if not finished:
            if timeout is not None:
                raise NetworkError(f"UnixHTTPConnectionPool(host='localhost', port=None): Read timed out. "
                                   f"(read timeout={timeout:g})", reason="timeout")
            raise SimulationError(f"container {self.name} keeps running and nothing else is scheduled: it would "
                                  f"wait forever (stop it, or run it detached)")
        return dict(ev.value)

    def wait_event(self) -> Event:
        """An Event that fires (with ``{"StatusCode": ..}``) when the container next exits, or now if it is not running."""
        ev = self.engine.loop.event()
        if self.status in ("running", "paused"):
            self._exit_waiters.append(ev)
        else:
            ev.succeed({"StatusCode": self.exit_code, "Error": None})
        return ev

    def remove(self, force: bool = False, v: bool = False, link: bool = False, **_: Any) -> None:
        """``docker rm [-f] [-v]``.

        Raises:
            Conflict: the container is running/paused/restarting and ``force`` is not set.
        """
        self.engine._check()
        self._assert_exists()
        if self.status in ("running", "restarting", "paused") and not force:
            what = {"running": "running", "restarting": "restarting", "paused": "paused"}[self.status]
            if what == "paused":
                raise Conflict(f"You cannot remove a paused container {self.id}. Unpause and then stop the "
                               f"container before attempting removal or force remove")
            raise Conflict(f"You cannot remove a {what} container {self.id}. Stop the container before "
                           f"attempting removal or force remove")
        if force:
            self._manual_stop = True
            self._cancel_restart()
            if self._proc is not None and self._proc.alive:
                self.engine.machine.kernel.signal(self._proc.pid, "KILL")
        self._remove_now(v=v)

    def _remove_now(self, v: bool = False) -> None:
        if self._removed:
            return
        engine = self.engine
        self._cancel_restart()
        if self._proc is not None and self._proc.alive:
            self._manual_stop = True
            engine.machine.kernel.signal(self._proc.pid, "KILL")
        self._removed = True
        self.status = "removing"
        for net in self._networks():
            net._detach(self)
        if self._netns is not None and self._own_netns:
            engine.world.net.remove(self._netns)
        self._netns = None
        anonymous = [vol for m, vol in self._mounted_volumes() if m.anonymous]
        engine.containers._forget(self)
        engine._container_dir(self, create=False)
        if v:
            for vol in anonymous:
                if not vol.users():
                    engine.volumes._delete(vol)
        engine._event("container", "destroy", self)

    def _mounted_volumes(self) -> list[tuple[Mount, Volume]]:
        return [(m, self._volumes[m.target]) for m in self.mounts_spec if m.type == "volume" and m.target in self._volumes]

    def rename(self, name: str) -> None:
        """``docker rename``."""
        self.engine._check()
        self._assert_exists()
        name = name.lstrip("/")
        self.collection._check_name(name)
        old = self.name
        self.name = name
        if self._netns is not None and self._own_netns and old in self._netns.hosts:
            pass
        self.engine._event("container", "rename", self)

    def _assert_exists(self) -> None:
        if self._removed:
            raise ContainerNotFound(f"No such container: {self.id}")

    # -- inside the container ------------------------------------------------------------------
    def exec_run(self, cmd: str | list[str], stdout: bool = True, stderr: bool = True, stdin: bytes | str = b"",
                 tty: bool = False, privileged: bool = False, user: str = "", detach: bool = False,
                 stream: bool = False, socket: bool = False, environment: dict | list | None = None,
                 workdir: str | None = None, demux: bool = False, timeout: float = 600.0) -> ExecResult:
        """``docker exec``: run a command in the running container's namespaces.

        Simulated time passes until it finishes. ``output`` is stdout and stderr
        together (``demux=True``: a ``(stdout, stderr)`` tuple).

        Raises:
            Conflict: the container is not running, or paused.
        """
        started = self._exec_spawn(cmd, stdin=stdin, user=user, environment=environment, workdir=workdir,
                                   demux=demux)
        if isinstance(started, ExecResult):
            return started
        proc, out, err = started
        if detach:
            return ExecResult(None, b"")
        if proc.alive:
            self.engine._wait_for(lambda: not proc.alive, timeout)
            if proc.alive:
                self.engine.machine.kernel.signal(proc.pid, "KILL")
        code = proc.exit_code
        if demux:
            return ExecResult(code, (out.getvalue() if stdout else None, err.getvalue() if stderr else None))
        return ExecResult(code, out.getvalue())

    def _exec_spawn(self, cmd: str | list[str], *, stdin: bytes | str = b"", user: str = "",
                    environment: dict | list | None = None, workdir: str | None = None,
                    demux: bool = False) -> "ExecResult | tuple[Any, Stream, Stream]":
        """Start an exec'd process in the container's namespaces: ``(process, stdout, stderr)``, or the
        ExecResult of a command that cannot start (nothing runs then).

        Raises:
            Conflict: the container is not running, or paused.
        """
        self.engine._check()
        self._assert_exists()
        if self.status == "paused":
            raise Conflict(f"Container {self.id} is paused, unpause the container before exec")
        if self.status != "running":
            raise Conflict(f"Container {self.id} is not running")
        argv = _argv(cmd) or []
        env = self._process_env()
        if isinstance(environment, dict):
            env.update({str(k): str(v) for k, v in environment.items()})
        elif environment:
            for item in environment:
                k, _, val = str(item).partition("=")
                env[k] = val
        uid, username = self._user(user) if user else self._user()
        if user:
            env["HOME"] = self._home(uid)
        cwd = workdir or self.config.get("WorkingDir") or "/"
        if isinstance(stdin, str):
            stdin = stdin.encode()
        out = Stream("stdout")
        err = out if not demux else Stream("stderr")
        kernel = self.engine.machine.kernel
        ns = self.ns
        if user and username != ns.user:
            ns = Namespaces(ns.fs, ns.hostname, ns.pid, ns.net, ns.cgroup, name=ns.name, user=username)
        try:
            proc = kernel.spawn(argv, ns=ns, env=env, cwd=cwd, stdin=stdin, stdout=out, stderr=err, uid=uid)
        except ExecError as e:
            if e.errno == "ENOENT":
                why = (f'exec: "{argv[0]}": executable file not found in $PATH' if argv and "/" not in argv[0]
                       else f'exec: "{argv[0] if argv else ""}": stat {argv[0] if argv else ""}: no such file or directory')
            else:
                why = f'exec: "{argv[0]}": permission denied'
            msg = (f"OCI runtime exec failed: exec failed: unable to start container process: {why}: unknown\r\n"
                   .encode())
            return ExecResult(e.exit_code, (b"", msg) if demux else msg)
        return proc, out, err

    def logs(self, stdout: bool = True, stderr: bool = True, stream: bool = False, timestamps: bool = False,
             tail: str | int = "all", since: Any = None, follow: bool = False, until: Any = None) -> bytes:
        """``docker logs``: what PID 1 wrote, over every restart (json-file driver).

        Args:
            timestamps: prefix each line with its RFC 3339 time with nanoseconds.
            tail: the last ``n`` lines (``"all"`` by default).
            since / until: simulated seconds (``world.now`` values) or datetimes.
        """
        self.engine._check()
        self._assert_exists()
        return self._render_logs(stdout, stderr, timestamps, tail, since, until)

    def _render_logs(self, stdout: bool = True, stderr: bool = True, timestamps: bool = False,
                     tail: str | int = "all", since: Any = None, until: Any = None) -> bytes:
        lines = [ln for ln in self._log if (ln.stream == "stdout" and stdout) or (ln.stream == "stderr" and stderr)]
        for sink in self._sinks:  # a line still being written shows too
            if sink.partial and ((sink.stream == "stdout" and stdout) or (sink.stream == "stderr" and stderr)):
                lines.append(LogLine(sink.partial_time, sink.stream, sink.partial))
        t_since = self._time(since)
        t_until = self._time(until)
        if t_since is not None:
            lines = [ln for ln in lines if ln.time >= t_since]
        if t_until is not None:
            lines = [ln for ln in lines if ln.time <= t_until]
        if tail not in ("all", None, -1):
            n = int(tail)
            lines = lines[-n:] if n > 0 else []
        if timestamps:
            world = self.engine.world
            return b"".join(rfc3339_nano(world, ln.time).encode() + b" " + ln.data for ln in lines)
        return b"".join(ln.data for ln in lines)

    def _time(self, value: Any) -> float | None:
        if value is None:
            return None
        if isinstance(value, _dt.datetime):
            return (value - self.engine.world.datetime(0)).total_seconds()
        return float(value)

    @property
    def log_lines(self) -> list[LogLine]:
        """The log as :class:`LogLine` values (time, stream, bytes)."""
        return list(self._log)

    def top(self, ps_args: str | None = None) -> dict:
        """``docker top``: the container's processes as the host sees them (host pids)."""
        self.engine._check()
        self._assert_exists()
        if self.status not in ("running", "paused"):
            raise Conflict(f"Container {self.id} is not running")
        kernel = self.engine.machine.kernel
        world = self.engine.world
        rows = []
        for p in kernel.ps(self.ns.pid):
            stime = world.datetime(p.started_at).strftime("%H:%M")
            rows.append([self.ns.user if p.uid == 0 else str(p.uid), str(p.pid),
                         str(p.parent.pid if p.parent is not None else self._ppid()), "0", stime, "?", "00:00:00",
                         " ".join(p.argv)])
        return {"Titles": ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"], "Processes": rows}

    def _ppid(self) -> int:
        return 0

    def stats(self, decode: bool = True, stream: bool = False) -> dict:
        """``docker stats --no-stream`` for this container (memory in bytes, cpu in cores)."""
        self.engine._check()
        self._assert_exists()
        kernel = self.engine.machine.kernel
        running = self.status in ("running", "paused") and self.ns is not None
        cg = self.ns.cgroup if self.ns is not None else None
        usage = cg.memory_usage(kernel) if running else 0
        limit = (cg.memory_limit if cg is not None and cg.memory_limit else None) or self.engine.machine.memory
        cpu = cg.cpu_usage(kernel) if running else 0.0
        pids = len(kernel.ps(self.ns.pid)) if running else 0
        return {"id": self.id, "name": "/" + self.name, "read": rfc3339_nano(self.engine.world, self.engine.loop.now),
                "memory_stats": {"usage": usage, "limit": limit}, "cpu": cpu,
                "cpu_stats": {"online_cpus": self.engine.machine.cpus, "cores_used": cpu},
                "pids_stats": {"current": pids}}

    def http(self, path: str = "/", port: int | None = None, method: str = "GET", body: bytes = b"",
             headers: dict | None = None):
        """An HTTP request from the host to the container's address (like ``curl http://<ip>:<port>/``)."""
        from ..linux.http import request

        self.engine._check()
        self._assert_exists()
        if port is None:
            exposed = sorted(_port_key(p)[0] for p in (self.config.get("ExposedPorts") or {}))
            port = exposed[0] if exposed else 80
        machine = self.engine.machine
        ip = self.ip or ("127.0.0.1" if self.network_mode == "host" else "")
        if not ip:
            raise NetworkError(f"container {self.name} has no IP address (it is {self.status})", reason="unreachable")
        if not path.startswith("/"):
            path = "/" + path
        return request(machine.world.net, machine.netns, method, f"http://{ip}:{port}{path}", body, headers)

    def diff(self) -> list[tuple[str, str]]:
        """``docker diff``: ``("C", "/etc")``, ``("A", "/etc/x")``, ``("D", "/tmp/y")`` sorted by path."""
        self.engine._check()
        self._assert_exists()
        lower = FileSystem(self.fs.lowers)
        changes: dict[str, str] = {}
        for path, entry in self.fs.upper.items():
            if path in ("/etc/hostname", "/etc/hosts", "/etc/resolv.conf") and entry.is_file and not entry.data:
                continue
            if entry.kind == "whiteout":
                changes[path] = "D"
            elif lower._raw_exists(path):
                changes[path] = "C"
            else:
                changes[path] = "A"
            for anc in _ancestors(path):
                if anc not in changes:
                    changes[anc] = "C" if lower._raw_exists(anc) else "A"
        # children of a deleted or added directory are implied
        return [(kind, path) for path, kind in sorted(changes.items())]

    def commit(self, repository: str | None = None, tag: str | None = None, message: str | None = None,
               author: str | None = None, changes: Any = None, conf: dict | None = None, pause: bool = True):
        """``docker commit``: a new image = the container's image + its writable layer."""
        self.engine._check()
        self._assert_exists()
        return self.engine.images._commit(self, repository, tag, message, author, conf)

    def put_archive(self, path: str, files: dict[str, bytes | str]) -> bool:
        """Copy files into the container (``docker cp`` to a container): ``{name: content}`` under ``path``."""
        self.engine._check()
        self._assert_exists()
        base = normpath(path)
        for name, content in files.items():
            target = join(base, name)
            self.fs.makedirs(posixpath.dirname(target))
            self.fs.write(target, content)
        return True

    def get_file(self, path: str) -> bytes:
        """The bytes of a file in the container (``docker cp web:/path -``)."""
        self.engine._check()
        self._assert_exists()
        return self.fs.read(path)


def _ancestors(path: str) -> list[str]:
    parts = normpath(path).strip("/").split("/")
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts))]


def _ep_id(container_id: str, network_id: str) -> str:
    import hashlib

    return hashlib.sha256(f"{network_id}/{container_id}".encode()).hexdigest()


class _ContainerFS(FileSystem):
    """A container's root filesystem; ``read_only`` (``--read-only``) refuses writes to its own layer."""

    read_only = False

    def _put(self, path: str, entry: Entry, *, must_not_exist: bool = False) -> None:
        if self.read_only:
            fs, _inner, _ = self._lookup(path, follow=False)
            if fs is self:
                raise FsError(f"{path}: Read-only file system", errno="EROFS", path=path)
        super()._put(path, entry, must_not_exist=must_not_exist)

    def _delete(self, path: str) -> None:
        if self.read_only:
            raise FsError(f"{path}: Read-only file system", errno="EROFS", path=path)
        super()._delete(path)


class _ReadOnlyView(FileSystem):
    """A read-only view of another filesystem (``-v src:dst:ro``): same data, writes refused."""

    def __init__(self, target: FileSystem):
        super().__init__(target.lowers, target.upper)
        self.mounts = target.mounts
        self._target = target

    def _put(self, path: str, entry: Entry, *, must_not_exist: bool = False) -> None:
        raise FsError(f"{path}: Read-only file system", errno="EROFS", path=path)

    def _delete(self, path: str) -> None:
        raise FsError(f"{path}: Read-only file system", errno="EROFS", path=path)


# -- the collection ---------------------------------------------------------------------------
class ContainerCollection:
    """``docker run / create / ps / rm ...`` on one engine (docker-py's ``client.containers``)."""

    def __init__(self, engine: "Engine"):
        self.engine = engine
        self._by_id: dict[str, Container] = {}
        self._seq = 0

    def __iter__(self):
        return iter(self.list(all=True))

    def _all(self) -> list[Container]:
        return list(self._by_id.values())

    def _forget(self, c: Container) -> None:
        self._by_id.pop(c.id, None)

    def _check_name(self, name: str) -> None:
        if not CONTAINER_NAME.match(name):
            raise InvalidInput(f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        for c in self._by_id.values():
            if c.name == name:
                raise Conflict(f'Conflict. The container name "/{name}" is already in use by container "{c.id}". '
                               f'You have to remove (or rename) that container to be able to reuse that name.')

    # -- docker create / run ---------------------------------------------------------------
    def create(self, image: str, command: str | list[str] | None = None, *, name: str | None = None,
               ports: Any = None, volumes: Any = None, environment: dict | list | None = None,
               entrypoint: str | list[str] | None = None, working_dir: str | None = None, user: str | None = None,
               hostname: str | None = None, restart_policy: Any = None, mem_limit: int | str | None = None,
               nano_cpus: int | None = None, remove: bool = False, auto_remove: bool = False,
               network: str | None = None, network_mode: str | None = None, labels: dict | list | None = None,
               stdin: bytes | str | None = None, stdin_open: bool = False, tty: bool = False, pull: str = "missing",
               stop_signal: str | None = None, stop_timeout: int | None = None, init: bool = False,
               read_only: bool = False, publish_all_ports: bool = False, detach: bool = True,
               on_pull: Callable | None = None, network_aliases: list[str] | None = None,
               **_: Any) -> Container:
        """``docker create``: a container in state ``created`` (the image is pulled when missing).

        Raises:
            ImageNotFound: no such image locally and in the registry.
            Conflict: the name is taken.
            InvalidInput: a bad option (name, ports, volumes, restart policy, memory...).
            NotFound: ``network x not found``.
        """
        engine = self.engine
        engine._check()
        # -- validate everything first: a rejected request changes nothing ------------------
        if name is not None:
            name = str(name).lstrip("/")
            self._check_name(name)
        auto_remove = bool(remove or auto_remove)
        policy = _restart_policy(restart_policy)
        if auto_remove and policy["Name"] != "no":
            raise InvalidInput("Conflicting options: --restart and --rm")
        port_specs = parse_ports(ports)
        mounts = parse_volumes(volumes)
        memory = parse_memory(mem_limit)
        if memory is not None and memory < 6 * 1024 * 1024:
            raise InvalidInput("Minimum memory limit allowed is 6MB")
        if nano_cpus:
            cpus = engine.machine.cpus
            if nano_cpus < 10_000_000 or nano_cpus > cpus * 1_000_000_000:
                raise InvalidInput(f"Range of CPUs is from 0.01 to {cpus:.2f}, as there are only {cpus} CPUs "
                                   f"available")
        mode = network_mode or network or "bridge"
        if mode == "default":
            mode = "bridge"
        target_net: Network | None = None
        if mode.startswith("container:"):
            other = self.get(mode.split(":", 1)[1])
            mode = f"container:{other.id}"
            if hostname:
                raise InvalidInput("conflicting options: hostname and the network mode")
            if port_specs:
                raise InvalidInput("conflicting options: port publishing and the container type network mode")
        elif mode == "host":
            port_specs = {}
        elif mode == "none":
            if port_specs:
                port_specs = {}
        else:
            target_net = engine.networks._find(mode)
            if target_net.driver == "host":
                mode, target_net = "host", None
                port_specs = {}
            elif target_net.driver == "null":
                mode, target_net = "none", None
            else:
                mode = target_net.name
        if stop_signal is not None:
            _signal_number(stop_signal)
        if hostname is not None and not re.fullmatch(r"[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62})", str(hostname)):
            raise InvalidInput(f"invalid hostname format: {hostname}")
        env_items: list[str] = []
        if isinstance(environment, dict):
            env_items = [f"{k}={v}" for k, v in environment.items()]
        elif environment:
            env_items = [str(e) for e in environment]
        labels_dict = dict(labels) if isinstance(labels, dict) else {str(k): "" for k in (labels or [])}
        cmd = _argv(command)
        ep = _argv(entrypoint)
        # -- the image (may pull) ----------------------------------------------------------
        img, report = engine.images._for_run(image, pull=pull, on_pull=on_pull)
        cfg = img.config
        if entrypoint is not None:  # --entrypoint replaces the image's and drops its CMD (dockerd's rule)
            final_ep = ep or None
            final_cmd = cmd or None
        else:
            final_ep = list(cfg.entrypoint) if cfg.entrypoint else None
            final_cmd = cmd or (list(cfg.cmd) if cfg.cmd else None)
        if not (final_ep or final_cmd):
            raise InvalidInput("No command specified")
        user_spec = user if user is not None else cfg.user
        env = _merge_env(list(cfg.env), env_items)
        exposed = {p: {} for p in cfg.exposed_ports}
        for (port, proto) in port_specs:
            exposed.setdefault(f"{port}/{proto}", {})
        if publish_all_ports:
            for p in cfg.exposed_ports:
                port_specs.setdefault(_port_key(p), [("", None)])
        all_labels = dict(cfg.labels)
        all_labels.update(labels_dict)
        # -- now make it ----------------------------------------------------------------------
        cid = engine._new_id()
        if name is None:
            name = random_name(engine.world.rng, {c.name for c in self._by_id.values()})
        config = {
            "Hostname": hostname or cid[:12], "Domainname": "", "User": user_spec or "",
            "AttachStdin": bool(stdin_open), "AttachStdout": not detach, "AttachStderr": not detach,
            "ExposedPorts": exposed or None, "Tty": bool(tty), "OpenStdin": bool(stdin_open),
            "StdinOnce": False, "Env": env, "Cmd": final_cmd, "Image": image if isinstance(image, str) else img.id,
            "Volumes": {v: {} for v in cfg.volumes} or None, "WorkingDir": working_dir or cfg.working_dir or "",
            "Entrypoint": final_ep, "OnBuild": None, "Labels": all_labels,
        }
        sig = stop_signal or cfg.stop_signal
        if sig:
            config["StopSignal"] = sig
        if stop_timeout is not None:
            config["StopTimeout"] = int(stop_timeout)
        host_config = {
            "Binds": [m.spec() for m in mounts if not m.anonymous] or None,
            "NetworkMode": mode, "PortBindings": {f"{p}/{proto}": [{"HostIp": hip, "HostPort": str(hp) if hp else ""}
                                                                   for hip, hp in specs]
                                                  for (p, proto), specs in port_specs.items()},
            "RestartPolicy": policy, "AutoRemove": auto_remove, "Memory": memory or 0,
            "NanoCpus": int(nano_cpus or 0), "Init": bool(init), "ReadonlyRootfs": bool(read_only),
            "PublishAllPorts": bool(publish_all_ports), "LogConfig": {"Type": "json-file", "Config": {}},
        }
        self._seq += 1
        c = Container(self, id=cid, name=name, image=img, image_ref=image if isinstance(image, str) else img.id,
                      config=config, host_config=host_config, mounts=mounts, port_specs=port_specs,
                      network_mode=mode, seq=self._seq)
        c.pull_report = report
        if stdin:
            c._stdin = stdin.encode() if isinstance(stdin, str) else bytes(stdin)
        # volumes and binds
        anonymous_targets = [v for v in cfg.volumes if normpath(v) not in {m.target for m in mounts}]
        for target in anonymous_targets:
            mounts.append(Mount("volume", "", normpath(target), False, anonymous=True))
        for m in mounts:
            if m.type == "volume":
                vol = engine.volumes._create(m.source or None)
                if m.anonymous:
                    m.source = vol.name
                prepopulate(vol, c.fs, m.target)
                c._volumes[m.target] = vol
                c.fs.mount(m.target, _ReadOnlyView(vol.fs) if m.read_only else vol.fs)
            else:
                host_fs = engine.machine.fs
                if not host_fs.exists(m.source):
                    host_fs.makedirs(m.source)
                if host_fs.is_dir(m.source) and not c.fs.exists(m.target):
                    c.fs.makedirs(m.target)
                elif not host_fs.is_dir(m.source) and not c.fs.exists(m.target):
                    c.fs.makedirs(posixpath.dirname(m.target))
                    c.fs.write(m.target, b"")
                c.fs.mount(m.target, _ReadOnlyView(host_fs) if m.read_only else host_fs, source=m.source)
        if read_only:
            c.fs.read_only = True
        self._by_id[cid] = c
        engine._container_dir(c, create=True)
        if target_net is not None:
            target_net._attach(c, network_aliases)
        engine._event("container", "create", c)
        return c

    def run(self, image: str, command: str | list[str] | None = None, stdout: bool = True, stderr: bool = False,
            remove: bool = False, *, detach: bool = False, timeout: float | None = None, **kwargs: Any):
        """``docker run``: create and start; with ``detach=False`` wait for the exit and return its stdout.

        Returns:
            The :class:`Container` with ``detach=True``, else the bytes it printed.

        Raises:
            ContainerError: it exited with a non-zero status (carries
                ``container, exit_status, command, image, stderr`` like docker-py).
        """
        if remove and detach:
            kwargs["auto_remove"] = True
            remove = False
        c = self.create(image, command, remove=remove or kwargs.pop("auto_remove", False), detach=detach, **kwargs)
        try:
            c.start()
        except AivleError:
            if c.host_config.get("AutoRemove"):
                c._remove_now(v=True)
            raise
        if detach:
            return c
        ev = c.wait_event()
        finished = self.engine._wait_for(lambda: ev.triggered, timeout)
        if not finished:
            raise SimulationError(f"docker run without detach waits for the container to exit, but {c.name} is still "
                                  f"running: use detach=True for servers")
        code = ev.value["StatusCode"]
        out = c._render_logs(stdout=stdout, stderr=stderr)
        if code != 0:
            raise ContainerError(
                f"Command '{' '.join(c.command)}' in image '{c.image_ref}' returned non-zero exit status {code}: "
                f"{c._render_logs(stdout=False, stderr=True).decode(errors='replace')}",
                container=c, exit_status=code, command=c.command, image=c.image_ref,
                stderr=c._render_logs(stdout=False, stderr=True))
        return out

    # -- docker ps / inspect ----------------------------------------------------------------
    def get(self, container_id: str) -> Container:
        """By full id, name (``web`` or ``/web``) or unique id prefix.

        Raises:
            ContainerNotFound: ``No such container: x``.
        """
        self.engine._check()
        return self._find(container_id)

    def _find(self, key: str) -> Container:
        key = str(key)
        if key in self._by_id:
            return self._by_id[key]
        name = key.lstrip("/")
        for c in self._by_id.values():
            if c.name == name:
                return c
        matches = [c for c in self._by_id.values() if key and c.id.startswith(key)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InvalidInput(f"multiple IDs found with provided prefix: {key}")
        raise ContainerNotFound(f"No such container: {key}")

    def list(self, all: bool = False, before: str | None = None, filters: dict | None = None, limit: int = -1,
             since: str | None = None, sparse: bool = False, ignore_removed: bool = False) -> list[Container]:
        """``docker ps [-a]``: running containers (every one with ``all``), newest first."""
        self.engine._check()
        cs = sorted(self._by_id.values(), key=lambda c: c.seq, reverse=True)
        if not all and not filters:
            cs = [c for c in cs if c.status in ("running", "paused", "restarting")]
        for key, value in (filters or {}).items():
            values = [str(v) for v in (value if isinstance(value, list) else [value])]
            if key == "status":
                cs = [c for c in cs if c.status in values]
            elif key == "name":
                cs = [c for c in cs if any(re.search(v, c.name) for v in values)]
            elif key == "id":
                cs = [c for c in cs if any(c.id.startswith(v) for v in values)]
            elif key == "label":
                def has(c: Container, v: str) -> bool:
                    k, eq, val = v.partition("=")
                    return k in c.labels and (not eq or c.labels[k] == val)
                cs = [c for c in cs if builtins.all(has(c, v) for v in values)]  # `all` is the -a flag here
            elif key == "ancestor":
                ids = set()
                for v in values:
                    try:
                        ids.add(self.engine.store.resolve(v))
                    except AivleError:
                        pass
                cs = [c for c in cs if c.image_id in ids]
            elif key == "exited":
                cs = [c for c in cs if c.status == "exited" and str(c.exit_code) in values]
            elif key == "network":
                cs = [c for c in cs if any(n.name in values or n.id in values for n in c._networks())]
            elif key == "volume":
                cs = [c for c in cs if c._volume_names() & set(values)]
        if not all and filters and "status" not in filters:
            cs = [c for c in cs if c.status in ("running", "paused", "restarting")]
        if limit is not None and limit >= 0:
            cs = cs[:limit]
        return cs

    def prune(self, filters: dict | None = None) -> dict:
        """``docker container prune``: remove every stopped container."""
        self.engine._check()
        deleted, space = [], 0
        for c in sorted(self._by_id.values(), key=lambda c: c.seq):
            if c.status in ("exited", "created", "dead"):
                space += sum(e.size for e in c.fs.upper.values() if e.is_file)
                c._remove_now()
                deleted.append(c.id)
        return {"ContainersDeleted": deleted or None, "SpaceReclaimed": space}


def _merge_env(base: list[str], extra: list[str]) -> list[str]:
    out = list(base)
    for item in extra:
        key = item.partition("=")[0]
        for i, old in enumerate(out):
            if old.partition("=")[0] == key:
                out[i] = item
                break
        else:
            out.append(item)
    return out
