"""CoreDNS: cluster DNS names of Services, from an Informer on Services.

The ``coredns`` program (``coredns -conf /etc/coredns/Corefile``, the Corefile
mounted from the ``coredns`` ConfigMap) follows Services through the API server
(as the ``coredns`` ServiceAccount) and listens on port 53 with a handler
carrying ``.coredns``. Pods' resolvers (installed by the kubelet) reach it
through the network at the ``kube-dns`` ClusterIP (10.96.0.10) and call
:meth:`CoreDNS.lookup` with the pod's search path:

* ``<svc>.<ns>.svc.cluster.local`` -> the Service's ClusterIP (a headless
  Service: its first ready endpoint address);
* ``<pod-ip-dashed>.<ns>.pod.cluster.local`` -> that address;
* anything else in the cluster zone -> NXDOMAIN; names outside it are forwarded
  (``forward . /etc/resolv.conf``: the caller falls back to the world's DNS).
"""

from __future__ import annotations

import re
from typing import Any

from ..linux.kernel import register_program
from ..sim.errors import AivleError, NetworkError

__all__ = ["CoreDNS", "CoreDNSEndpoint", "DEFAULT_COREFILE", "coredns_image", "COREDNS_IMAGE"]

COREDNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.11.1"

DEFAULT_COREFILE = """.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
"""


class CoreDNS:
    """The ``kubernetes`` plugin of CoreDNS over Services (and Endpoints, for headless Services)."""

    def __init__(self, client: Any, loop: Any, zone: str = "cluster.local"):
        self.client = client
        self.loop = loop
        self.zone = zone.strip(".")
        self.queries: list[tuple[str, str]] = []  # (name, answer or NXDOMAIN) for labs
        self._services: Any = None
        self._endpoints: Any = None

    def __repr__(self) -> str:
        return f"<CoreDNS {self.zone}>"

    def start(self) -> "CoreDNS":
        from .client import Informer

        self._services = Informer(self.client, "services", loop=self.loop)
        self._endpoints = Informer(self.client, "endpoints", loop=self.loop)
        self._services.start()
        self._endpoints.start()
        return self

    def stop(self) -> None:
        for inf in (self._services, self._endpoints):
            if inf is not None:
                inf.stop()

    @property
    def ready(self) -> bool:
        return bool(self._services and self._services.synced)

    def answer(self, fqdn: str) -> str | None:
        """The A record of a fully qualified name in the cluster zone (None: NXDOMAIN)."""
        name = fqdn.rstrip(".").lower()
        suffix = f".svc.{self.zone}"
        if name.endswith(suffix):
            parts = name[: -len(suffix)].split(".")
            if len(parts) != 2 or self._services is None:
                return None
            svc = self._services.get(f"{parts[1]}/{parts[0]}")
            if svc is None:
                return None
            ip = (svc.get("spec") or {}).get("clusterIP")
            if ip and ip != "None":
                return ip
            ep = self._endpoints.get(f"{parts[1]}/{parts[0]}") if self._endpoints else None
            for subset in (ep or {}).get("subsets") or []:
                for a in subset.get("addresses") or []:
                    return a["ip"]
            return None
        pod_suffix = f".pod.{self.zone}"
        if name.endswith(pod_suffix):
            parts = name[: -len(pod_suffix)].split(".")
            if len(parts) == 2 and re.fullmatch(r"\d+-\d+-\d+-\d+", parts[0]):
                return parts[0].replace("-", ".")
        return None

    def in_zone(self, name: str) -> bool:
        n = name.rstrip(".").lower()
        return n == self.zone or n.endswith("." + self.zone)

    def lookup(self, name: str, search: list[str] | tuple = (), ndots: int = 5) -> str | None:
        """Resolve ``name`` as a pod's resolver does (search path first when it has fewer than ``ndots``
        dots); None when CoreDNS has no answer (NXDOMAIN, or a name it would forward)."""
        name = name.strip()
        if name.endswith("."):
            candidates = [name]
        elif name.count(".") < ndots:
            candidates = [f"{name}.{s}" for s in search] + [name]
        else:
            candidates = [name] + [f"{name}.{s}" for s in search]
        for cand in candidates:
            ip = self.answer(cand)
            if ip is not None:
                self.queries.append((cand, ip))
                return ip
        self.queries.append((name, "NXDOMAIN"))
        return None


class CoreDNSEndpoint:
    """The listener on port 53 (``.coredns``); raw queries (a name per line) get ``name A ip`` lines."""

    def __init__(self, coredns: CoreDNS):
        self.coredns = coredns

    def __call__(self, data: bytes, peer: tuple) -> bytes:
        out = []
        for line in data.decode(errors="replace").split():
            ip = self.coredns.answer(line)
            out.append(f"{line}\tA\t{ip}" if ip else f"{line}\tNXDOMAIN")
        return ("\n".join(out) + "\n").encode()


def coredns_image() -> Any:
    """``registry.k8s.io/coredns/coredns:v1.11.1``: the static ``/coredns`` binary."""
    from ..images.image import Image, ImageConfig
    from ..linux.distro import make_layer

    created = "2023-08-15T00:00:00Z"
    cfg = ImageConfig(entrypoint=("/coredns",), exposed_ports=("53/tcp", "53/udp"))
    return Image(cfg, created=created).add_layer(make_layer({}, programs={"/coredns": "coredns"},
                                                            default_size=65_536), "COPY coredns /coredns", created)


def _zone(corefile: str) -> str:
    m = re.search(r"^\s*kubernetes\s+(\S+)", corefile, re.M)
    return m.group(1) if m else "cluster.local"


@register_program("coredns")
def coredns_program(proc):
    """``coredns -conf /etc/coredns/Corefile``."""
    from .client import APIClient
    from .kubelet.kubelet import in_cluster_identity

    machine = proc.kernel.owner
    argv = proc.argv[1:]
    if "-version" in argv:
        proc.write("CoreDNS-1.11.1\nlinux/amd64, go1.20.7, ae2bbc2\n")
        return 0
    conf = "Corefile"
    if "-conf" in argv and argv.index("-conf") + 1 < len(argv):
        conf = argv[argv.index("-conf") + 1]
    path = proc.path(conf)
    if not proc.fs.exists(path):
        proc.error(f"Error: open {conf}: no such file or directory\n")  # (klog-less, as coredns prints it)
        return 1
    corefile = proc.fs.read_text(path)
    host = proc.env.get("KUBERNETES_SERVICE_HOST")
    if not host:
        proc.error("[FATAL] plugin/kubernetes: unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
                   "KUBERNETES_SERVICE_PORT must be defined\n")
        return 1
    from .cni import go_client_user_agent

    # CoreDNS 1.11.1 leaves client-go's default User-Agent (its own arrived in 1.11.2)
    client = APIClient(machine.world.net, proc.ns.net, f"https://{host}:{proc.env.get('KUBERNETES_SERVICE_PORT', '443')}",
                       in_cluster_identity(proc.fs) or "system:anonymous", user_agent=go_client_user_agent(proc))
    dns = CoreDNS(client, machine.world.loop, _zone(corefile))
    try:
        dns.start()
    except (NetworkError, AivleError) as e:
        proc.error(f"[FATAL] plugin/kubernetes: {e}\n")
        return 1
    net = proc.ns.net
    try:
        net.listen(53, CoreDNSEndpoint(dns))
    except NetworkError:
        proc.error("Listen: listen tcp :53: bind: address already in use\n")
        dns.stop()
        return 1
    from ..linux.http import Request, Response

    def health(data: bytes, peer: tuple) -> bytes:
        path = Request.parse(data).path
        if path.startswith("/ready"):
            return Response(200 if dns.ready else 503, b"OK" if dns.ready else b"kubernetes").to_bytes()
        return Response(200, b"OK").to_bytes()

    for port in (8080, 8181):
        try:
            net.listen(port, health)
        except NetworkError:
            pass
    proc.cleanups.append(lambda: [net.close(p) for p in (53, 8080, 8181)])
    proc.cleanups.append(dns.stop)
    proc.write(".:53\n[INFO] plugin/reload: Running configuration SHA512 = "
               + __import__("hashlib").sha512(corefile.encode()).hexdigest() + "\nCoreDNS-1.11.1\n"
               "linux/amd64, go1.20.7, ae2bbc2\n")
    proc.on_signal("TERM", lambda s: proc.exit(0))
    yield proc.forever()
