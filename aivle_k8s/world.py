"""The world: one simulated clock, one seeded RNG, one network, machines and registries.

>>> import aivle_k8s as ak
>>> world = ak.World(seed=0)
>>> world.now
0.0
>>> world.advance(30); world.now
30.0
>>> world.timestamp()
'2025-03-03T09:00:30Z'
"""

from __future__ import annotations

import datetime as _dt
import random
from typing import Any, Callable

from .linux.net import Network
from .sim.clock import Loop
from .sim.errors import AlreadyExists, InvalidInput, NotFound

__all__ = ["World", "EPOCH"]

#: Simulated time 0 on the calendar (timestamps in Kubernetes objects and docker output).
EPOCH = _dt.datetime(2025, 3, 3, 9, 0, 0, tzinfo=_dt.timezone.utc)

_HOSTNAME = __import__("re").compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class World:
    """Everything a lab runs in.

    Args:
        seed: seeds the world's one random number generator (bootstrap
            tokens, container ids, scheduling ties): same seed, same world.
    """

    def __init__(self, seed: int = 0):
        self.seed = seed
        self.loop = Loop()
        self.rng = random.Random(seed)
        self.net = Network(self.rng)
        self.machines: dict[str, Any] = {}
        self.registries: dict[str, Any] = {}
        self.sites: dict[str, dict[str, bytes]] = {}  # host -> path -> content (the internet)
        self._next_ip = 10
        from .linux.packages import publish_downloads

        publish_downloads(self)  # signing keys, install scripts, .deb files of the install guides
        from .cluster.cni import publish_manifests

        publish_manifests(self)  # the flannel and calico manifests at their real URLs

    def __repr__(self) -> str:
        return f"<World seed={self.seed} t={self.now:g}s machines={len(self.machines)}>"

    # -- time ----------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.loop.now

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of simulated time pass; every component reacts on schedule."""
        self.loop.advance(seconds)

    def run_until(self, predicate: Callable[[], bool], timeout: float = 3600.0) -> bool:
        """Advance until ``predicate()`` holds (at most ``timeout`` simulated seconds)."""
        return self.loop.run_until(predicate, timeout=timeout)

    def run_until_idle(self, limit: float = 86400.0) -> None:
        self.loop.run_until_idle(limit=limit)

    def timestamp(self, t: float | None = None) -> str:
        """RFC 3339 time of simulated second ``t`` (now by default)."""
        moment = EPOCH + _dt.timedelta(seconds=self.now if t is None else t)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def datetime(self, t: float | None = None) -> _dt.datetime:
        return EPOCH + _dt.timedelta(seconds=self.now if t is None else t)

    # -- machines -------------------------------------------------------------------
    def machine(self, name: str, cpus: int = 2, memory: str | int = "4Gi", **kwargs: Any):
        """A fresh Linux machine (Ubuntu 22.04, swap on, nothing installed).

        Raises:
            AlreadyExists: a machine with that name exists.
            InvalidInput: the name is not a valid hostname.
        """
        from .machines.machine import Machine

        if int(cpus) < 1:
            raise InvalidInput(f"a machine needs at least 1 CPU, got {cpus}")
        return self._add_machine(Machine, name, cpus=cpus, memory=memory, **kwargs)

    def _add_machine(self, cls: type, name: str, **kwargs: Any):
        if not isinstance(name, str) or not _HOSTNAME.match(name) or len(name) > 63:
            raise InvalidInput(f'"{name}" is not a valid hostname: use lowercase letters, digits and "-" '
                               f'(it must start and end with a letter or digit)')
        if name in self.machines:
            raise AlreadyExists(f'a machine named "{name}" already exists; pick another name')
        ip = self._allocate_ip()
        m = cls(self, name, ip=ip, **kwargs)
        self.machines[name] = m
        self.net.names[name] = ip
        return m

    def _allocate_ip(self) -> str:
        ip = f"10.0.0.{self._next_ip}"
        self._next_ip += 1
        return ip

    def get_machine(self, name: str):
        try:
            return self.machines[name]
        except KeyError:
            raise NotFound(f'no machine named "{name}" (machines: {", ".join(self.machines) or "none"})') from None

    # -- registries --------------------------------------------------------------------
    @property
    def docker_hub(self):
        """Docker Hub (``docker.io``), pre-loaded with the official images on first use."""
        from .engine.daemon import docker_hub

        return docker_hub(self)

    def registry(self, host: str, *, users: dict[str, str] | None = None, tls: bool = True):
        """The private registry at ``host[:port]``, created (empty) on first use.

        Args:
            users: username -> password; with users, ``docker login`` is needed to push.
            tls: False serves plain HTTP (clients must list it in ``insecure-registries``).

        >>> import aivle_k8s as ak
        >>> world = ak.World(seed=0)
        >>> world.registry("registry.local:5000").host
        'registry.local:5000'
        """
        if host in self.registries:
            return self.registries[host]
        from .engine.daemon import serve_registry

        return serve_registry(self, host, users=users, tls=tls)

    # -- the internet ----------------------------------------------------------------
    def publish(self, url: str, content: bytes | str) -> None:
        """Serve ``content`` at ``url`` on the simulated internet (``curl`` can fetch it)."""
        from .linux.http import parse_url

        _, host, _, path = parse_url(url)
        if isinstance(content, str):
            content = content.encode()
        self._ensure_site(host)
        self.sites[host][path] = content

    def _ensure_site(self, host: str) -> None:
        from .linux.http import Request, Response

        if host in self.sites:
            return
        self.sites[host] = {}
        ip = f"203.0.113.{len(self.sites)}"
        ns = self.net.namespace(f"internet:{host}", [ip], node=f"internet:{host}")
        pages = self.sites[host]

        def serve(data: bytes, peer: tuple) -> bytes:
            req = Request.parse(data)
            body = pages.get(req.path.split("?")[0])
            if body is None:
                return Response(404, b"Not Found\n").to_bytes()
            return Response(200, body).to_bytes()

        ns.listen(80, serve)
        ns.listen(443, serve)
        self.net.names[host] = ip
