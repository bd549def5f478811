"""kube-controller-manager: the controllers of ``aivle_k8s.cluster.controllers`` in one process.

All controllers share one set of informers (one list+watch per resource) and
run on the simulated loop. With ``leader_elect`` the controllers start only
while this instance holds the Lease ``kube-system/kube-controller-manager``
(15 s lease, renewed every 2 s), as with ``--leader-elect=true``.

>>> from aivle_k8s.cluster.controllers.testing import TestCluster
>>> env = TestCluster()
>>> cm = ControllerManager(env.cm_client, env.loop, cluster_cidr="10.244.0.0/16"); cm.start()
>>> _ = env.add_node("worker-1"); env.advance(1)
>>> env.client.get("nodes", "worker-1")["spec"]["podCIDR"]
'10.244.0.0/24'
"""

from __future__ import annotations

import random
from typing import Any, Callable, Iterable

from .controllers import CONTROLLERS, DISABLED_BY_DEFAULT
from .controllers.base import Controller, LeaderElector, SharedInformers

__all__ = ["ControllerManager", "ca_signer", "from_flags"]


#: the service account each controller runs as in a kubeadm cluster (its User-Agent's suffix)
SERVICE_ACCOUNTS = {
    "deployment": "deployment-controller", "replicaset": "replicaset-controller",
    "daemonset": "daemon-set-controller", "job": "job-controller", "ttl-after-finished": "ttl-after-finished-controller",
    "nodelifecycle": "node-controller", "podgc": "pod-garbage-collector", "nodeipam": "node-controller",
    "endpoint": "endpoint-controller", "endpointslice": "endpointslice-controller",
    "serviceaccount": "service-account-controller", "tokencleaner": "token-cleaner",
    "bootstrapsigner": "bootstrap-signer", "garbagecollector": "generic-garbage-collector",
    "namespace": "namespace-controller", "csrapproving": "certificate-controller",
    "csrsigning": "certificate-controller",
}


class ControllerManager:
    """Builds and runs the controllers.

    Args:
        client: an APIClient as ``system:kube-controller-manager`` (or a factory ``() -> APIClient``).
        loop: the simulated clock.
        rng: seeded ``random.Random``.
        cluster_cidr: ``--cluster-cidr``; enables node IPAM (``--allocate-node-cidrs``).
        node_cidr_mask: ``--node-cidr-mask-size`` (24).
        signer: ``sign(csr_pem, usages, duration_seconds) -> cert_pem`` for the CSR signer (none: no signing).
        controllers: ``"*"`` or names as ``--controllers`` takes them (``"*,bootstrapsigner,tokencleaner"``,
            ``"*,-nodeipam"``, ``["deployment"]``); ``*`` leaves out bootstrapsigner and tokencleaner.
        leader_elect: hold the Lease ``kube-system/kube-controller-manager`` before running.
        identity: the Lease holder identity.
    """

    def __init__(self, client: Any, loop: Any, rng: random.Random | None = None, *, cluster_cidr: str | None = None,
                 node_cidr_mask: int = 24, signer: Callable[..., bytes] | None = None,
                 controllers: str | Iterable[str] = "*", leader_elect: bool = False,
                 identity: str = "kube-controller-manager", grace_period: float = 40.0):
        self.client = client() if callable(client) and not hasattr(client, "VERBS") else client
        self.loop = loop
        self.rng = rng if rng is not None else random.Random(0)
        self.informers = SharedInformers(self.client, loop)
        self.controllers: dict[str, Controller] = {}
        enabled = self._enabled(controllers)
        for name, cls in CONTROLLERS.items():
            if name not in enabled:
                continue
            kwargs: dict[str, Any] = {}
            if name == "nodeipam":
                if not cluster_cidr:
                    continue
                kwargs = {"cluster_cidr": cluster_cidr, "node_cidr_mask": node_cidr_mask}
            elif name == "csrsigning":
                kwargs = {"signer": signer}
            elif name == "nodelifecycle":
                kwargs = {"grace_period": grace_period}
            self.controllers[name] = cls(self._client_for(name), loop, random.Random(self.rng.getrandbits(64)),
                                         informers=self.informers, **kwargs)
        self.running = False
        self.elector = LeaderElector(self.client, loop, identity, name="kube-controller-manager",
                                     on_started_leading=self._run, on_stopped_leading=self._halt) \
            if leader_elect else None

    def _client_for(self, name: str) -> Any:
        """The controller's own client: client-go's ``rest.AddUserAgent`` appends the service account the
        controller runs as (kubeadm sets --use-service-account-credentials) to the User-Agent."""
        base = getattr(self.client, "user_agent", "")
        if not base or not hasattr(self.client, "with_user_agent"):
            return self.client  # a bare API server (tests) or a client without a User-Agent
        return self.client.with_user_agent(f"{base}/system:serviceaccount:kube-system:{SERVICE_ACCOUNTS[name]}")

    @staticmethod
    def _enabled(spec: str | Iterable[str]) -> set[str]:
        items = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec) if s.strip()]
        out: set[str] = set()
        for item in items:
            if item == "*":
                out |= set(CONTROLLERS) - DISABLED_BY_DEFAULT
        for item in items:
            if item.startswith("-"):
                out.discard(item[1:])
            elif item != "*":
                out.add(item)
        return out

    def __repr__(self) -> str:
        return f"<ControllerManager {'running' if self.running else 'stopped'} {sorted(self.controllers)}>"

    def __getitem__(self, name: str) -> Controller:
        return self.controllers[name]

    def start(self) -> None:
        if self.elector is not None:
            self.elector.start()
        else:
            self._run()

    def stop(self) -> None:
        if self.elector is not None:
            self.elector.stop()
        self._halt()

    def _run(self) -> None:
        if self.running:
            return
        self.running = True
        for c in self.controllers.values():
            c.start()

    def _halt(self) -> None:
        if not self.running:
            return
        self.running = False
        for c in self.controllers.values():
            c.stop()
        self.informers.stop()


def ca_signer(ca_cert_pem: bytes, ca_key_pem: bytes, rng: random.Random, now: Callable[[], Any]) -> Callable:
    """``--cluster-signing-cert-file/--cluster-signing-key-file``: a ``sign(csr_pem, usages, seconds)`` over the CA.

    ``now()`` gives the current ``datetime`` (``world.datetime``).
    """
    import datetime as _dt

    from cryptography import x509
    from cryptography.x509.oid import NameOID

    from . import pki

    ca = pki.CertKey(pki.load_cert(ca_cert_pem), pki.load_key(ca_key_pem))

    def sign(csr_pem: bytes, usages: list, duration: int) -> bytes:
        req = x509.load_pem_x509_csr(csr_pem)
        cn = [a.value for a in req.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        orgs = [a.value for a in req.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
        days = max(int(duration) // 86400, 1)
        ck = pki.new_cert(ca, rng, now() if now else _dt.datetime.now(_dt.timezone.utc), cn[0] if cn else "",
                          organizations=orgs, client="client auth" in usages, server="server auth" in usages,
                          days=days, public_key=req.public_key())
        from cryptography.hazmat.primitives import serialization
        return ck.cert.public_bytes(serialization.Encoding.PEM)

    return sign


def from_flags(proc: Any, client: Any, flags: dict) -> ControllerManager:
    """Build the manager from ``kube-controller-manager`` flags as kubeadm writes them
    (``--allocate-node-cidrs=true --cluster-cidr=10.244.0.0/16 --leader-elect=true
    --controllers=*,bootstrapsigner,tokencleaner --cluster-signing-cert-file=... --cluster-signing-key-file=...``)."""
    world = proc.kernel.owner.world
    rng = random.Random(world.rng.getrandbits(64)) if hasattr(world, "rng") else random.Random(0)
    cidr = flags.get("cluster-cidr") if flags.get("allocate-node-cidrs", "false") == "true" else None
    signer = None
    cert_file, key_file = flags.get("cluster-signing-cert-file"), flags.get("cluster-signing-key-file")
    if cert_file and key_file:
        try:
            signer = ca_signer(proc.fs.read(cert_file), proc.fs.read(key_file), random.Random(rng.getrandbits(64)),
                               getattr(world, "datetime", None))
        except Exception:  # noqa: BLE001 - no CA files: the signer stays off, like a misconfigured manager
            signer = None
    return ControllerManager(client, world.loop, rng, cluster_cidr=cidr,
                             node_cidr_mask=int(flags.get("node-cidr-mask-size", 24)), signer=signer,
                             controllers=flags.get("controllers", "*"),
                             leader_elect=flags.get("leader-elect", "true") == "true",
                             identity=f"{getattr(proc.kernel.owner, 'hostname', 'master')}_kube-controller-manager")
