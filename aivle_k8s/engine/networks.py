"""Docker networks: the default bridge ``docker0``, user-defined bridges, ``host`` and ``none``.

A bridge network is a subnet on one machine: the gateway is ``.1`` (the
bridge interface of the host) and containers get addresses from ``.2`` up in
order, so the same steps give the same addresses every time. The default
bridge is ``172.17.0.0/16``; user-defined bridges take ``172.18.0.0/16``,
``172.19.0.0/16``, ... like dockerd's default address pools.

Two behaviours students meet on a real machine are kept:

* On the default ``bridge`` containers reach each other by IP only; on a
  user-defined bridge Docker's embedded DNS (``127.0.0.11``) resolves
  container names (and network aliases and short ids) of the same network.
* A published port (``-p 8080:80``) is a DNAT rule on the machine
  (``iptables -t nat -A DOCKER ... --dport 8080 -j DNAT --to 172.17.0.2:80``)
  plus a ``docker-proxy`` listening on the host port, so the container is
  reachable from other machines at the host's address and from the host at
  ``localhost:8080``.

>>> import aivle_k8s as ak
>>> from aivle_k8s.engine import Engine
>>> engine = Engine(ak.World(seed=0).machine("host"))
>>> [n.name for n in engine.networks.list()]
['bridge', 'host', 'none']
>>> net = engine.networks.create("backend")
>>> net.subnet, net.gateway
('172.18.0.0/16', '172.18.0.1')
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..linux.net import NatRule, Subnet
from ..sim.errors import Conflict, InvalidInput, NetworkError, NotFound

if TYPE_CHECKING:  # pragma: no cover
    from .containers import Container
    from .engine import Engine

__all__ = ["Network", "NetworkCollection", "Endpoint", "PortBinding", "mac_address", "DEFAULT_BRIDGE_SUBNET"]

DEFAULT_BRIDGE_SUBNET = "172.17.0.0/16"
CONTAINERD_BRIDGE_SUBNET = "10.88.0.0/16"
#: dockerd's default address pools for user-defined networks, in the order it hands them out.
_POOLS = [f"172.{n}.0.0/16" for n in range(18, 32)] + [f"192.168.{n}.0/20" for n in range(0, 256, 16)]
#: Where ``-p 80`` (no host port) picks from: the kernel's ephemeral port range.
EPHEMERAL_PORTS = (32768, 60999)


def mac_address(ip: str) -> str:
    """The MAC address Docker derives from a container's IPv4 address.

    >>> mac_address("172.17.0.2")
    '02:42:ac:11:00:02'
    """
    return "02:42:" + ":".join(f"{int(b):02x}" for b in ip.split("."))


@dataclass
class Endpoint:
    """A container's attachment to a network: its address there and its DNS aliases."""

    network: "Network"
    ip: str = ""
    aliases: list[str] = field(default_factory=list)

    @property
    def mac(self) -> str:
        return mac_address(self.ip) if self.ip else ""


@dataclass
class PortBinding:
    """One published port: ``host_ip:host_port`` -> the container's ``port/proto``."""

    container_port: int
    proto: str
    host_ip: str
    host_port: int
    rule: NatRule | None = None


class Network:
    """A Docker network on one engine (``docker network inspect`` is :attr:`attrs`)."""

    def __init__(self, collection: "NetworkCollection", name: str, driver: str, id: str, *,
                 subnet: str | None = None, builtin: bool = False, labels: dict | None = None,
                 internal: bool = False, bridge_name: str = ""):
        self.collection = collection
        self.name = name
        self.driver = driver
        self.id = id
        self.builtin = builtin
        self.labels = dict(labels or {})
        self.internal = internal
        self.created = collection.engine.loop.now
        self.pool: Subnet | None = Subnet(subnet) if subnet else None
        self.bridge_name = bridge_name or (f"br-{id[:12]}" if driver == "bridge" else "")
        self.endpoints: dict[str, Endpoint] = {}  # container id -> endpoint

    def __repr__(self) -> str:
        return f"<Network: {self.short_id} {self.name}>"

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def subnet(self) -> str | None:
        return self.pool.cidr if self.pool else None

    @property
    def gateway(self) -> str | None:
        return self.pool.gateway if self.pool else None

    @property
    def is_default_bridge(self) -> bool:
        return self.builtin and self.name == "bridge"

    @property
    def user_defined(self) -> bool:
        return not self.builtin

    @property
    def containers(self) -> list["Container"]:
        """The containers attached to this network (docker-py ``Network.containers``)."""
        engine = self.collection.engine
        return [engine.containers._by_id[cid] for cid in self.endpoints if cid in engine.containers._by_id]

    @property
    def attrs(self) -> dict:
        engine = self.collection.engine
        ipam = {"Driver": "default", "Options": None,
                "Config": [{"Subnet": self.subnet, "Gateway": self.gateway}] if self.pool else []}
        containers = {}
        for c in self.containers:
            ep = self.endpoints[c.id]
            if not c._net_active:
                continue
            containers[c.id] = {"Name": c.name, "EndpointID": _endpoint_id(c.id, self.id),
                                "MacAddress": ep.mac, "IPv4Address": f"{ep.ip}/{self.pool.network.prefixlen}"
                                if ep.ip and self.pool else "", "IPv6Address": ""}
        options = {}
        if self.is_default_bridge:
            options = {"com.docker.network.bridge.default_bridge": "true",
                       "com.docker.network.bridge.enable_icc": "true",
                       "com.docker.network.bridge.enable_ip_masquerade": "true",
                       "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
                       "com.docker.network.bridge.name": "docker0",
                       "com.docker.network.driver.mtu": "1500"}
        return {
            "Name": self.name, "Id": self.id, "Created": engine.world.timestamp(self.created),
            "Scope": "local", "Driver": self.driver, "EnableIPv6": False, "IPAM": ipam,
            "Internal": self.internal, "Attachable": False, "Ingress": False,
            "ConfigFrom": {"Network": ""}, "ConfigOnly": False, "Containers": containers,
            "Options": options, "Labels": dict(self.labels),
        }

    # -- docker network connect / disconnect / rm ----------------------------------
    def connect(self, container: "Container | str", aliases: list[str] | None = None, **_: Any) -> None:
        """Attach a container (``docker network connect``).

        Raises:
            Conflict: it is already attached, or the network is ``host``/``none``.
        """
        engine = self.collection.engine
        engine._check()
        c = engine.containers.get(container) if isinstance(container, str) else container
        if self.driver in ("host", "null"):
            raise Conflict(f"container cannot be disconnected from host network or connected to host network"
                           if self.driver == "host" else
                           f"container cannot be connected to the none network")
        if c.id in self.endpoints:
            raise Conflict(f"endpoint with name {c.name} already exists in network {self.name}")
        if c.network_mode in ("host", "none") or c.network_mode.startswith("container:"):
            raise Conflict(f"container sharing network namespace with another container or host cannot be "
                           f"connected to any other network")
        self._attach(c, aliases)
        if c._net_active:
            self._activate(c)

    def disconnect(self, container: "Container | str", force: bool = False) -> None:
        """Detach a container (``docker network disconnect``)."""
        engine = self.collection.engine
        engine._check()
        c = engine.containers.get(container) if isinstance(container, str) else container
        if c.id not in self.endpoints:
            raise Conflict(f"container {c.id} is not connected to network {self.name}")
        self._detach(c)

    def remove(self) -> None:
        """``docker network rm``.

        Raises:
            Conflict: a pre-defined network, or containers are still attached.
        """
        self.collection.engine._check()
        if self.builtin:
            raise Conflict(f"{self.name} is a pre-defined network and cannot be removed")
        if self.endpoints:
            raise Conflict(f"error while removing network: network {self.name} id {self.id} has active endpoints")
        self.collection._remove(self)

    def reload(self) -> None:  # docker-py compatibility: state is always current
        return None

    # -- internals ------------------------------------------------------------------------
    def _attach(self, c: "Container", aliases: list[str] | None = None) -> Endpoint:
        ep = Endpoint(self, "", list(aliases or []))
        self.endpoints[c.id] = ep
        return ep

    def _activate(self, c: "Container") -> None:
        """Give the endpoint an address (first start) and put it on the container's namespace."""
        ep = self.endpoints[c.id]
        if not ep.ip and self.pool is not None:
            ep.ip = self.collection._allocate(self.pool)
        netns = c._netns
        if netns is not None and ep.ip and ep.ip not in netns.ips:
            c.engine.world.net.add_ip(netns, ep.ip)

    def _detach(self, c: "Container") -> None:
        ep = self.endpoints.pop(c.id, None)
        if ep is None:
            return
        if c._netns is not None and ep.ip:
            c.engine.world.net.remove_ip(c._netns, ep.ip)
        if ep.ip and self.pool is not None:
            self.pool.release(ep.ip)

    def _lookup(self, name: str) -> str | None:
        """Embedded DNS: the address of a running member called ``name`` (name, alias or id prefix)."""
        engine = self.collection.engine
        for cid, ep in self.endpoints.items():
            c = engine.containers._by_id.get(cid)
            if c is None or not c._net_active or not ep.ip:
                continue
            if name == c.name or name in ep.aliases or (len(name) >= 12 and cid.startswith(name)) \
                    or name == c.hostname:
                return ep.ip
        return None


def _endpoint_id(container_id: str, network_id: str) -> str:
    import hashlib

    return hashlib.sha256(f"{network_id}/{container_id}".encode()).hexdigest()


class NetworkCollection:
    """``docker network ...`` on one engine."""

    def __init__(self, engine: "Engine"):
        self.engine = engine
        self._networks: dict[str, Network] = {}
        self._pool_index = 0
        self.host_ports: dict[tuple[str, int], str] = {}  # (proto, host port) -> container id
        # containerd has no docker0: its sample CNI bridge is cni0 on 10.88.0.0/16
        subnet, bridge_name = ((CONTAINERD_BRIDGE_SUBNET, "cni0") if engine.name == "containerd"
                               else (DEFAULT_BRIDGE_SUBNET, "docker0"))
        self.bridge = self._add(Network(self, "bridge", "bridge", engine._new_id(), subnet=subnet,
                                        builtin=True, bridge_name=bridge_name))
        self.host = self._add(Network(self, "host", "host", engine._new_id(), builtin=True))
        self.none = self._add(Network(self, "none", "null", engine._new_id(), builtin=True))

    def _add(self, net: Network) -> Network:
        self._networks[net.id] = net
        return net

    def _allocate(self, pool: Subnet) -> str:
        """The next free address of ``pool``. Bridge addresses are local to this machine (every
        machine's docker0 is 172.17.0.0/16); only an address routed world-wide is skipped."""
        net = self.engine.world.net
        skipped = []
        try:
            while True:
                ip = pool.allocate()
                owner = net.owner(ip)
                if owner is None or owner.scope is not None:
                    return ip
                skipped.append(ip)
        finally:
            for ip in skipped:
                pool.release(ip)

    def _remove(self, net: Network) -> None:
        self._networks.pop(net.id, None)

    def __iter__(self):
        return iter(self.list())

    # -- docker network create / ls / inspect / prune ------------------------------------
    def create(self, name: str, driver: str | None = "bridge", *, labels: dict | None = None,
               internal: bool = False, subnet: str | None = None, check_duplicate: bool = True,
               **_: Any) -> Network:
        """``docker network create NAME``: a user-defined bridge with the next free /16.

        Raises:
            Conflict: a network with that name exists.
            InvalidInput: an unknown driver or an overlapping subnet.
        """
        self.engine._check()
        driver = driver or "bridge"
        if not name:
            raise InvalidInput("network name is required")
        if any(n.name == name for n in self._networks.values()):
            raise Conflict(f"network with name {name} already exists")
        if driver in ("host", "null"):
            raise Conflict(f"only one instance of \"{driver}\" network is allowed")
        if driver not in ("bridge",):
            raise NotFound(f"plugin \"{driver}\" not found")
        used = [ipaddress.ip_network(n.subnet) for n in self._networks.values() if n.subnet]
        used.append(ipaddress.ip_network(DEFAULT_BRIDGE_SUBNET))
        if subnet is not None:
            try:
                wanted = ipaddress.ip_network(subnet)
            except ValueError:
                raise InvalidInput(f"invalid CIDR address: {subnet}") from None
            if any(wanted.overlaps(u) for u in used):
                raise Conflict("Pool overlaps with other one on this address space")
            cidr = str(wanted)
        else:
            cidr = next((p for p in _POOLS if not any(ipaddress.ip_network(p).overlaps(u) for u in used)), None)
            if cidr is None:
                raise NetworkError("could not find an available, non-overlapping IPv4 address pool among the "
                                   "defaults to assign to the network")
        return self._add(Network(self, name, driver, self.engine._new_id(), subnet=cidr, labels=labels,
                                 internal=internal))

    def get(self, network_id: str) -> Network:
        """By name, full id or id prefix. Raises NotFound(``network x not found``)."""
        self.engine._check()
        return self._find(network_id)

    def _find(self, key: str) -> Network:
        for n in self._networks.values():
            if n.name == key or n.id == key:
                return n
        matches = [n for n in self._networks.values() if key and n.id.startswith(key)]
        if len(matches) == 1:
            return matches[0]
        raise NotFound(f"network {key} not found")

    def list(self, names: list[str] | None = None, ids: list[str] | None = None,
             filters: dict | None = None) -> list[Network]:
        """Every network sorted by name (``docker network ls``)."""
        self.engine._check()
        nets = sorted(self._networks.values(), key=lambda n: n.name)
        if names:
            nets = [n for n in nets if n.name in names]
        if ids:
            nets = [n for n in nets if any(n.id.startswith(i) for i in ids)]
        for key, value in (filters or {}).items():
            values = value if isinstance(value, list) else [value]
            if key == "driver":
                nets = [n for n in nets if n.driver in values]
            elif key == "name":
                nets = [n for n in nets if any(v in n.name for v in values)]
            elif key == "type":
                nets = [n for n in nets if ("builtin" if n.builtin else "custom") in values]
        return nets

    def prune(self, filters: dict | None = None) -> dict:
        """Remove user-defined networks no container uses."""
        self.engine._check()
        deleted = []
        for n in sorted(self._networks.values(), key=lambda n: n.name):
            if not n.builtin and not n.endpoints:
                self._remove(n)
                deleted.append(n.name)
        return {"NetworksDeleted": deleted or None}

    # -- published ports ---------------------------------------------------------------
    def check_ports(self, container: "Container") -> list[PortBinding]:
        """The bindings ``container`` would get; raises when a host port is taken (nothing changes)."""
        machine = self.engine.machine
        out: list[PortBinding] = []
        taken = dict(self.host_ports)
        for (port, proto), host_specs in sorted(container.port_specs.items()):
            for host_ip, host_port in host_specs:
                if host_port is None:
                    host_port = self._free_port(proto, taken)
                key = (proto, host_port)
                owner = taken.get(key)
                if owner is not None and owner != container.id:
                    raise Conflict(
                        f"driver failed programming external connectivity on endpoint {container.name} "
                        f"({_endpoint_id(container.id, self.bridge.id)}): Bind for "
                        f"{host_ip or '0.0.0.0'}:{host_port} failed: port is already allocated")
                if proto == "tcp" and host_port in machine.netns.listeners and owner is None:
                    raise Conflict(
                        f"driver failed programming external connectivity on endpoint {container.name} "
                        f"({_endpoint_id(container.id, self.bridge.id)}): Error starting userland proxy: "
                        f"listen tcp4 {host_ip or '0.0.0.0'}:{host_port}: bind: address already in use")
                taken[key] = container.id
                out.append(PortBinding(port, proto, host_ip or "0.0.0.0", host_port))
        return out

    def _free_port(self, proto: str, taken: dict) -> int:
        listeners = self.engine.machine.netns.listeners
        for p in range(EPHEMERAL_PORTS[0], EPHEMERAL_PORTS[1] + 1):
            if (proto, p) not in taken and (proto != "tcp" or p not in listeners):
                return p
        raise NetworkError("no free host port left")

    def publish(self, container: "Container", bindings: list[PortBinding]) -> None:
        """Program the DNAT rules and start the docker-proxy listeners for ``bindings``."""
        world = self.engine.world
        machine = self.engine.machine
        ip = container.ip
        for b in bindings:
            self.host_ports[(b.proto, b.host_port)] = container.id
            if not ip:
                continue
            rule = NatRule(None if b.host_ip in ("0.0.0.0", "") else b.host_ip, b.host_port, [(ip, b.container_port)],
                           comment=f"DOCKER {container.name}", proto=b.proto)
            b.rule = world.net.add_rule(machine.name, rule)
            if b.proto == "tcp":
                machine.netns.listeners[b.host_port] = DockerProxy(self.engine, b, ip)
        container._bindings = bindings

    def unpublish(self, container: "Container") -> None:
        world = self.engine.world
        machine = self.engine.machine
        for b in container._bindings:
            if self.host_ports.get((b.proto, b.host_port)) == container.id:
                del self.host_ports[(b.proto, b.host_port)]
            if b.rule is not None:
                world.net.remove_rule(machine.name, b.rule)
                b.rule = None
            handler = machine.netns.listeners.get(b.host_port)
            if isinstance(handler, DockerProxy) and handler.binding is b:
                del machine.netns.listeners[b.host_port]
        container._bindings = []


class DockerProxy:
    """``docker-proxy``: listens on a published host port and forwards to the container.

    Traffic from other machines is DNATed before it gets here; this is what
    answers ``curl localhost:8080`` on the host itself. ``target`` tells
    :meth:`Engine.registry_for` where a published registry really is.
    """

    def __init__(self, engine: "Engine", binding: PortBinding, container_ip: str):
        self.engine = engine
        self.binding = binding
        self.target = (container_ip, binding.container_port)

    def __repr__(self) -> str:
        return f"<docker-proxy {self.binding.host_ip}:{self.binding.host_port} -> {self.target[0]}:{self.target[1]}>"

    def __call__(self, data: bytes, peer: tuple) -> bytes:
        machine = self.engine.machine
        if self.binding.host_ip.startswith("127.") and peer and peer[0] not in set(machine.netns.ips) \
                and not str(peer[0]).startswith("127."):
            raise NetworkError(f"Failed to connect to {machine.ip} port {self.binding.host_port}: Connection refused",
                               reason="refused")
        ip, port = self.target
        return machine.world.net.request(machine.netns, ip, port, data)
