"""kube-proxy (iptables mode): Services and their endpoints become NAT rules on each node.

For every Service port with a ClusterIP, a rule ``ClusterIP:port -> one of the ready
endpoints`` (the world's seeded RNG picks one per connection, as iptables'
``statistic mode random`` does); for NodePort Services also ``<any node address>:nodePort``.
A Service without ready endpoints gets a REJECT rule: connections are refused
(``has no endpoints``). Only ``externalTrafficPolicy: Cluster`` is modelled.

Endpoints come from the v1 ``Endpoints`` objects (``subsets[].addresses`` are the
ready ones) that the endpoints controller keeps, the same data the
EndpointSlices carry.

:meth:`KubeProxy.rules_table` prints the rules like ``iptables -t nat -L KUBE-SERVICES -n``
followed by the ``KUBE-SVC-*`` chains.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from ..linux.kernel import register_program
from ..linux.net import NatRule
from ..sim.errors import AivleError, NetworkError

__all__ = ["KubeProxy", "REJECT_IP", "service_chain", "endpoint_chain"]

#: An address nobody listens on, local to each node: REJECT rules send connections there (refused).
REJECT_IP = "169.254.255.254"


def _hash(text: str) -> str:
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16]


def service_chain(port_name: str, protocol: str) -> str:
    """``KUBE-SVC-`` + kube-proxy's portProtoHash of ``ns/name[:port]`` and the protocol."""
    return "KUBE-SVC-" + _hash(port_name + protocol.lower())


def endpoint_chain(port_name: str, protocol: str, endpoint: str) -> str:
    return "KUBE-SEP-" + _hash(port_name + protocol.lower() + endpoint)


class KubeProxy:
    """The kube-proxy of one node.

    Args:
        net: the world's network; ``node``: the node name (whose NAT rules it owns).
        client: an API client (identity ``system:kube-proxy`` or the ``kube-proxy`` service account).
        loop: the world's loop.
    """

    def __init__(self, net: Any, node: str, client: Any, loop: Any):
        self.net = net
        self.node = node
        self.client = client
        self.loop = loop
        self.running = False
        self.rules: list[NatRule] = []
        self.table: list[dict] = []  # what rules_table prints
        self._informers: list[Any] = []
        self._pending: Any = None
        self.syncs = 0

    def __repr__(self) -> str:
        return f"<KubeProxy {self.node} rules={len(self.rules)}>"

    def start(self) -> "KubeProxy":
        from .client import Informer

        if self.running:
            return self
        self.running = True
        self._ensure_reject_target()
        for resource in ("services", "endpoints"):
            inf = Informer(self.client, resource, loop=self.loop)
            inf.add_handler(lambda o: self._changed(), lambda a, b: self._changed(), lambda o: self._changed())
            self._informers.append(inf)
        for inf in self._informers:
            inf.start()
        self.sync()
        return self

    def stop(self, *, flush: bool = False) -> None:
        """Stop following changes; the rules stay in place (as iptables rules do) unless ``flush``."""
        self.running = False
        for inf in self._informers:
            inf.stop()
        self._informers.clear()
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        if flush:
            self._remove_rules()

    def _ensure_reject_target(self) -> None:
        name = f"{self.node}/kube-proxy-reject"
        if not any(ns.name == name for ns in self.net.namespaces):
            self.net.namespace(name, [REJECT_IP], node=self.node, scope=self.node)

    def _changed(self) -> None:
        if self.running and self._pending is None:
            self._pending = self.loop.call_soon(self._flush_pending)

    def _flush_pending(self) -> None:
        self._pending = None
        if self.running:
            self.sync()

    def _remove_rules(self) -> None:
        for rule in self.rules:
            self.net.remove_rule(self.node, rule)
        self.rules = []

    # -- the sync ---------------------------------------------------------------------------
    def _objects(self) -> tuple[list[dict], dict[str, dict]]:
        if len(self._informers) == 2 and all(i.synced for i in self._informers):
            services = self._informers[0].list()
            endpoints = {f"{e['metadata']['namespace']}/{e['metadata']['name']}": e for e in self._informers[1].list()}
            return services, endpoints
        services = self.client.list("services").get("items", [])
        endpoints = {f"{e['metadata']['namespace']}/{e['metadata']['name']}": e
                     for e in self.client.list("endpoints").get("items", [])}
        return services, endpoints

    def sync(self) -> None:
        """Rebuild this node's rules from Services and Endpoints (``syncProxyRules``)."""
        try:
            services, endpoints = self._objects()
        except (NetworkError, AivleError):
            return
        self.syncs += 1
        rules: list[NatRule] = []
        table: list[dict] = []
        nodeports: list[NatRule] = []
        for svc in sorted(services, key=lambda s: (s["metadata"]["namespace"], s["metadata"]["name"])):
            spec = svc.get("spec") or {}
            ip = spec.get("clusterIP")
            if not ip or ip == "None" or spec.get("type") == "ExternalName":
                continue
            key = f"{svc['metadata']['namespace']}/{svc['metadata']['name']}"
            ep = endpoints.get(key) or {}
            for port in spec.get("ports") or []:
                proto = port.get("protocol", "TCP")
                pname = port.get("name") or ""
                spn = key + (f":{pname}" if pname else "")
                targets = []
                for subset in ep.get("subsets") or []:
                    ports = [p for p in subset.get("ports") or [] if (p.get("name") or "") == pname]
                    if not ports:
                        continue
                    for a in subset.get("addresses") or []:
                        targets.append((a["ip"], int(ports[0]["port"])))
                targets.sort(key=lambda t: (tuple(int(x) for x in t[0].split(".")) if t[0].count(".") == 3
                                            else (0,), t[1]))
                row = {"service": spn, "proto": proto.lower(), "cluster_ip": ip, "port": int(port["port"]),
                       "node_port": port.get("nodePort") if spec.get("type") in ("NodePort", "LoadBalancer")
                       else None, "targets": targets}
                table.append(row)
                if targets:
                    rules.append(NatRule(ip, int(port["port"]), list(targets), comment=f"{spn} cluster IP",
                                         proto=proto.lower()))
                else:
                    rules.append(NatRule(ip, int(port["port"]), [(REJECT_IP, int(port["port"]))],
                                         comment=f"{spn} has no endpoints", proto=proto.lower()))
                if row["node_port"]:
                    np = int(row["node_port"])
                    dest = list(targets) if targets else [(REJECT_IP, np)]
                    nodeports.append(NatRule(None, np, dest, comment=spn if targets else f"{spn} has no endpoints",
                                             proto=proto.lower()))
        self._remove_rules()
        for rule in rules + nodeports:  # NodePorts last (KUBE-NODEPORTS is the last rule of KUBE-SERVICES)
            self.net.add_rule(self.node, rule)
        self.rules = rules + nodeports
        self.table = table

    # -- for labs -------------------------------------------------------------------------------
    def rules_table(self) -> str:
        """The rules, shaped like ``iptables -t nat -L KUBE-SERVICES -n`` and the chains it jumps to."""
        head = "target     prot opt source               destination         "
        lines = ["Chain KUBE-SERVICES (2 references)", head]
        chains: list[str] = []
        rejects: list[str] = []
        nodeports: list[str] = []
        for row in self.table:
            spn, proto = row["service"], row["proto"]
            chain = service_chain(spn, proto)
            if row["targets"]:
                lines.append(f"{chain:<10} {proto:<4} --  0.0.0.0/0            {row['cluster_ip']:<19} "
                             f"/* {spn} cluster IP */ {proto} dpt:{row['port']}")
                chains.append("")
                chains.append(f"Chain {chain} (1 references)")
                chains.append(head)
                n = len(row["targets"])
                for i, (ip, port) in enumerate(row["targets"]):
                    sep = endpoint_chain(spn, proto, f"{ip}:{port}")
                    extra = f" statistic mode random probability {1 / (n - i):.11f}" if i < n - 1 else ""
                    chains.append(f"{sep:<10} all  --  0.0.0.0/0            0.0.0.0/0            "
                                  f"/* {spn} -> {ip}:{port} */{extra}")
                if row["node_port"]:
                    nodeports.append(f"{chain:<10} {proto:<4} --  0.0.0.0/0            0.0.0.0/0            "
                                     f"/* {spn} */ {proto} dpt:{row['node_port']}")
            else:
                rejects.append(f"REJECT     {proto:<4} --  0.0.0.0/0            {row['cluster_ip']:<19} "
                               f"/* {spn} has no endpoints */ {proto} dpt:{row['port']} "
                               f"reject-with icmp-port-unreachable")
        lines.append("KUBE-NODEPORTS  all  --  0.0.0.0/0            0.0.0.0/0            /* kubernetes service "
                     "nodeports; NOTE: this must be the last rule in this chain */ ADDRTYPE match dst-type LOCAL")
        out = lines + chains
        if nodeports:
            out += ["", "Chain KUBE-NODEPORTS (1 references)", head] + nodeports
        if rejects:
            out += ["", "Chain KUBE-SERVICES (filter table)", head] + rejects
        return "\n".join(out) + "\n"


# -- the kube-proxy program (DaemonSet pod, hostNetwork) -----------------------------------------------
@register_program("kube-proxy")
def kube_proxy_program(proc):
    """``kube-proxy --config=/var/lib/kube-proxy/config.conf --hostname-override=$(NODE_NAME)``."""
    import yaml

    from .client import APIClient
    from .kubelet.kubelet import in_cluster_identity
    from .kubelet.program import klog, parse_kubeconfig

    machine = proc.kernel.owner
    flags = {}
    for a in proc.argv[1:]:
        if a.startswith("--") and "=" in a:
            k, v = a[2:].split("=", 1)
            flags[k] = v
    if "--version" in proc.argv[1:]:
        from .components import _image_version

        proc.write(f"Kubernetes {_image_version(proc)}\n")
        return 0
    fs = proc.fs
    config: dict = {}
    path = flags.get("config")
    if path:
        if not fs.exists(path):
            klog(proc, "E", "server.go:558", f'"Error running ProxyServer" err="open {path}: no such file or '
                                              f'directory"')
            return 1
        try:
            config = yaml.safe_load(fs.read_text(path)) or {}
        except (yaml.YAMLError, AivleError) as e:
            klog(proc, "E", "server.go:558", f'"Error running ProxyServer" err="{e}"')
            return 1
    server = ""
    kubeconfig = (config.get("clientConnection") or {}).get("kubeconfig") or flags.get("kubeconfig", "")
    if kubeconfig and fs.exists(kubeconfig):
        try:
            server, _ = parse_kubeconfig(fs.read_text(kubeconfig))
        except (yaml.YAMLError, AivleError, ValueError):
            server = ""
    if not server:
        host = proc.env.get("KUBERNETES_SERVICE_HOST")
        if host:
            server = f"https://{host}:{proc.env.get('KUBERNETES_SERVICE_PORT', '443')}"
    if not server:
        klog(proc, "E", "server.go:558", '"Error running ProxyServer" err="invalid configuration: no configuration '
                                          'has been provided"')
        return 1
    user = in_cluster_identity(fs) or "system:kube-proxy"
    node = flags.get("hostname-override") or getattr(machine, "hostname", machine.name)
    from .client import user_agent
    from .components import _image_version

    client = APIClient(machine.world.net, proc.ns.net, server, user,
                       user_agent=user_agent("kube-proxy", _image_version(proc)))
    kp = KubeProxy(machine.world.net, machine.name, client, machine.world.loop)
    klog(proc, "I", "server_linux.go:69", '"Using iptables proxy"')
    klog(proc, "I", "server.go:659", f'"Successfully retrieved node IP(s)" IPs=["{machine.ip}"] node="{node}"')
    kp.start()
    machine.extensions["kube-proxy"] = kp
    proc.on_signal("TERM", lambda s: proc.exit(0))
    try:
        yield proc.forever()
    finally:
        kp.stop()
        if machine.extensions.get("kube-proxy") is kp:
            del machine.extensions["kube-proxy"]
