"""The simulated network: namespaces with IP addresses, listeners, NAT rules and name lookup.

Every machine's host network namespace has an address on the world's LAN
(``10.0.0.0/24``) and is reachable from everywhere. A container's namespace
gets an address on its machine's docker bridge (``172.17.0.0/16``), which is
reachable only from that machine (``scope``). Later, a CNI plugin gives pods
addresses that every node can route to.

A connection is one request/response exchange of bytes: ``request(src, host,
port, data)`` finds the namespace that owns the destination address (after
NAT rules of the source's node and of the destination node rewrite it, as
iptables DNAT does for published ports and Services) and calls the handler
listening on that port.

>>> net = Network()
>>> a = net.namespace("a", ["10.0.0.10"], node="a")
>>> b = net.namespace("b", ["10.0.0.11"], node="b")
>>> b.listen(80, lambda data, peer: b"pong:" + data)
>>> net.request(a, "10.0.0.11", 80, b"ping")
b'pong:ping'
>>> net.request(a, "10.0.0.11", 81, b"ping")
Traceback (most recent call last):
...
aivle_k8s.sim.errors.NetworkError: Failed to connect to 10.0.0.11 port 81: Connection refused
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass, field
from typing import Any, Callable

from ..sim.errors import NetworkError

__all__ = ["Network", "NetNamespace", "NatRule", "Handler", "Subnet"]


@functools.lru_cache(maxsize=4096)
def _is_ip(host: str) -> bool:
    """Whether ``host`` is an IP address literal (asked for every connection: remembered)."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


Handler = Callable[[bytes, tuple], bytes]


@dataclass
class NatRule:
    """A DNAT rule: traffic to ``(ip, port)`` goes to one of ``targets`` instead.

    ``ip`` None matches any address owned by the rule's node (like
    ``-m addrtype --dst-type LOCAL``, used for published ports and NodePorts).
    With several targets, the world's seeded RNG picks one per connection.
    """

    ip: str | None
    port: int
    targets: list[tuple[str, int]]
    comment: str = ""
    proto: str = "tcp"

    def matches(self, ip: str, port: int, local_ips: set[str]) -> bool:
        if port != self.port:
            return False
        return ip in local_ips if self.ip is None else ip == self.ip


class Subnet:
    """Hands out addresses from a CIDR in order (``.1`` is the gateway)."""

    def __init__(self, cidr: str, first_host: int = 2):
        self.network = ipaddress.ip_network(cidr)
        self.cidr = cidr
        self.gateway = str(self.network.network_address + 1)
        self._next = first_host
        self._free: list[str] = []

    def allocate(self) -> str:
        if self._free:
            return self._free.pop(0)
        ip = self.network.network_address + self._next
        if ip not in self.network or ip == self.network.broadcast_address:
            raise NetworkError(f"no free address left in {self.cidr}")
        self._next += 1
        return str(ip)

    def release(self, ip: str) -> None:
        if ip not in self._free:
            self._free.append(ip)
            self._free.sort(key=lambda s: ipaddress.ip_address(s))


@dataclass(eq=False)
class NetNamespace:
    """One network stack: addresses, listening ports and name resolvers."""

    name: str
    ips: list[str]
    node: str  # the machine whose iptables rules apply to traffic from here
    scope: str | None = None  # None: routable from anywhere; else only from this node
    network: "Network | None" = None
    listeners: dict[int, Handler] = field(default_factory=dict)
    resolvers: list[Callable[[str], str | None]] = field(default_factory=list)
    hosts: dict[str, str] = field(default_factory=dict)
    up: bool = True

    def __repr__(self) -> str:
        return f"<NetNamespace {self.name} {','.join(self.ips) or '-'}>"

    @property
    def ip(self) -> str | None:
        return self.ips[0] if self.ips else None

    def listen(self, port: int, handler: Handler) -> None:
        """Accept connections on ``port`` (all addresses) with ``handler(data, peer) -> reply``."""
        if port in self.listeners:
            raise NetworkError(f"bind: address already in use (port {port})", errno="EADDRINUSE")
        self.listeners[port] = handler

    def close(self, port: int) -> None:
        self.listeners.pop(port, None)


class Network:
    """The world's network fabric."""

    def __init__(self, rng: Any = None):
        self.namespaces: list[NetNamespace] = []
        # address -> namespaces owning it: bridge addresses (scope = a node) repeat on every machine
        self._by_ip: dict[str, list[NetNamespace]] = {}
        self._hosts: dict[str, NetNamespace] = {}  # node -> its host namespace
        self.rules: dict[str, list[NatRule]] = {}
        self.names: dict[str, str] = {}  # world-wide DNS (machine hostnames, well-known sites)
        self.partitioned: set[frozenset[str]] = set()
        self.rng = rng

    def namespace(self, name: str, ips: list[str], node: str, scope: str | None = None) -> NetNamespace:
        ns = NetNamespace(name, list(ips), node, scope, self)
        self.namespaces.append(ns)
        for ip in ns.ips:
            self._by_ip.setdefault(ip, []).append(ns)
        if name == node and scope is None:
            self._hosts[node] = ns
        return ns

    def add_ip(self, ns: NetNamespace, ip: str) -> None:
        """Give ``ns`` another address (a CNI plugin assigning a pod IP, say)."""
        ns.ips.append(ip)
        self._by_ip.setdefault(ip, []).append(ns)

    def remove_ip(self, ns: NetNamespace, ip: str) -> None:
        if ip in ns.ips:
            ns.ips.remove(ip)
        self._unindex(ip, ns)

    def _unindex(self, ip: str, ns: NetNamespace) -> None:
        owners = self._by_ip.get(ip)
        if owners and ns in owners:
            owners.remove(ns)
            if not owners:
                del self._by_ip[ip]

    def remove(self, ns: NetNamespace) -> None:
        if ns in self.namespaces:
            self.namespaces.remove(ns)
        for ip in ns.ips:
            self._unindex(ip, ns)

    # -- rules -----------------------------------------------------------------
    def add_rule(self, node: str, rule: NatRule) -> NatRule:
        self.rules.setdefault(node, []).append(rule)
        return rule

    def remove_rule(self, node: str, rule: NatRule) -> None:
        if rule in self.rules.get(node, []):
            self.rules[node].remove(rule)

    def node_ips(self, node: str) -> set[str]:
        """The addresses of the machine ``node`` itself (its host network namespace)."""
        host = self._hosts.get(node)
        return set(host.ips) if host is not None else set()

    def _dnat(self, node: str, ip: str, port: int) -> tuple[str, int] | None:
        rules = self.rules.get(node)
        if not rules:
            return None
        local = self.node_ips(node)
        for rule in rules:
            if rule.matches(ip, port, local) and rule.targets:
                if len(rule.targets) == 1 or self.rng is None:
                    return rule.targets[0]
                return rule.targets[self.rng.randrange(len(rule.targets))]
        return None

    # -- lookup ------------------------------------------------------------------
    def owner(self, ip: str, node: str | None = None) -> NetNamespace | None:
        """The namespace that ``ip`` reaches from machine ``node``: a routable address, or a
        bridge-local one (``scope``) of that same machine."""
        local = None
        for ns in self._by_ip.get(ip, ()):
            if not ns.up:
                continue
            if ns.scope is None:
                return ns
            if node is not None and ns.scope == node and local is None:
                local = ns
        return local

    def resolve(self, src: NetNamespace, host: str) -> str:
        """The address ``host`` names, as seen from ``src`` (raises NetworkError if unknown)."""
        if host in ("localhost", "ip6-localhost"):
            return "127.0.0.1"
        if _is_ip(host):
            return host
        if host in src.hosts:
            return src.hosts[host]
        for resolver in src.resolvers:
            ip = resolver(host)
            if ip:
                return ip
        if host in self.names:
            return self.names[host]
        raise NetworkError(f"Could not resolve host: {host}", reason="resolve")

    def route(self, src: NetNamespace, ip: str, port: int) -> tuple[NetNamespace, int]:
        """Where a packet from ``src`` to ``ip:port`` ends up, after NAT."""
        if ip.startswith("127.") or ip == "::1":
            return src, port
        hop = self._dnat(src.node, ip, port)
        if hop is not None:
            ip, port = hop
        dst = self.owner(ip, src.scope or src.node)
        if dst is None:
            raise NetworkError(f"Failed to connect to {ip} port {port}: No route to host", reason="unreachable")
        if dst.scope is None and dst.name == dst.node:  # a machine's own address: its DNAT rules apply
            hop = self._dnat(dst.node, ip, port)
            if hop is not None:
                ip, port = hop
                nxt = self.owner(ip, dst.node)
                if nxt is None:
                    raise NetworkError(f"Failed to connect to {ip} port {port}: No route to host", reason="unreachable")
                return self._check_partition(src, dst, nxt, ip, port)
        return self._check_partition(src, dst, dst, ip, port)

    def _check_partition(self, src: NetNamespace, via: NetNamespace, dst: NetNamespace, ip: str,
                         port: int) -> tuple[NetNamespace, int]:
        if frozenset((src.node, via.node)) in self.partitioned:
            raise NetworkError(f"Failed to connect to {ip} port {port}: Connection timed out", reason="timeout")
        return dst, port

    def endpoint(self, src: NetNamespace, host: str, port: int) -> Handler:
        """The listener a connection from ``src`` to ``host:port`` reaches (after DNS and NAT).

        In-process clients (kubelets talking to the API server, the engine talking to a
        registry) use it to reach the Python object behind a listener while still obeying
        the network: unknown hosts, partitions, stopped servers and closed ports fail the same way.

        Raises:
            NetworkError: unknown host, no route, timed out, or connection refused.
        """
        ip = self.resolve(src, host)
        dst, port = self.route(src, ip, port)
        handler = dst.listeners.get(port)
        if handler is None or not dst.up:
            raise NetworkError(f"Failed to connect to {host} port {port}: Connection refused", reason="refused")
        return handler

    def request(self, src: NetNamespace, host: str, port: int, data: bytes) -> bytes:
        """Open a connection from ``src`` to ``host:port``, send ``data``, return the reply.

        Raises:
            NetworkError: unknown host, no route, timed out, or connection refused.
        """
        handler = self.endpoint(src, host, port)
        return handler(data, (src.ip or "127.0.0.1", 40000 + len(data) % 20000))

    def partition(self, a: str, b: str) -> None:
        """Cut the link between nodes ``a`` and ``b`` (connections time out)."""
        self.partitioned.add(frozenset((a, b)))

    def heal(self, a: str, b: str) -> None:
        self.partitioned.discard(frozenset((a, b)))
