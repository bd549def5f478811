"""Benchmark: a whole cluster at scale -- N nodes, Deployments totalling P pods, until every pod is Running.

Prints figures only (the goals are measured here, never asserted in tests).
Goal (issue 3): 5,000 nodes and 150,000 pods all Running within 60 s on one
2-core machine, a scheduler at >= 5,000 pods/s and memory under 4 GB; at
minimum 1,000 nodes and 30,000 pods must complete.

What runs, on the simulated clock:

- the REAL API server (``APIServer`` on the etcd ``Store``), reached over the
  simulated network through ``APIClient``s with real identities (admin,
  ``system:kube-scheduler``, ``system:kube-controller-manager``, ``system:node:<name>``);
- the REAL kube-scheduler component (``KubeScheduler``: informers, queue,
  framework, ``pods/binding``, ``Scheduled`` Events);
- the REAL kube-controller-manager (``ControllerManager``, by default the
  ``deployment`` and ``replicaset`` controllers: Deployment -> ReplicaSet -> Pods);
- "hollow kubelets" (as Kubernetes' kubemark): nodes join directly, skipping
  the per-node install ceremony -- each registers its Node (as
  ``system:node:<name>``, status Ready), its Lease in ``kube-node-lease``
  (renewed every 10 s), and marks pods bound to it Running/Ready through
  ``pods/status``. All hollow kubelets share ONE pod informer (grouped by
  ``spec.nodeName``) instead of N per-node watches.

    python benchmarks/scale.py                            # 1,000 nodes x 30,000 pods
    python benchmarks/scale.py --nodes 5000 --pods 150000
    python benchmarks/scale.py --nodes 100 --pods 2000 --controllers '*'
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aivle_k8s.cluster.apiserver import APIServer  # noqa: E402
from aivle_k8s.cluster.apiserver.errors import ConflictError, NotFoundError  # noqa: E402
from aivle_k8s.cluster.client import APIClient, Informer, ServerEndpoint  # noqa: E402
from aivle_k8s.cluster.controller_manager import ControllerManager  # noqa: E402
from aivle_k8s.cluster.controllers.base import micro_time, rfc3339  # noqa: E402
from aivle_k8s.cluster.etcd import Store  # noqa: E402
from aivle_k8s.cluster.scheduler_component import KubeScheduler  # noqa: E402
from aivle_k8s.linux.net import Network  # noqa: E402
from aivle_k8s.sim import Loop  # noqa: E402

ZONES = ("zone-a", "zone-b", "zone-c")
APPS = (("web", "nginx:1.25", "100m", "128Mi"), ("api", "python:3.12", "250m", "256Mi"),
        ("cache", "redis:7", "200m", "512Mi"), ("worker", "busybox:1.36", "500m", "256Mi"))
LEASE_PERIOD = 10.0  # kubelet --node-status-update-frequency / lease renew interval


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class HollowKubelets:
    """N kubelets in one object: register nodes + Leases, renew Leases, run pods bound to them.

    One shared pod informer feeds ``by_node`` (pods grouped by ``spec.nodeName``);
    pods bound to a node become Running/Ready ``start_delay`` simulated seconds
    later, through ``pods/status`` as ``system:node:<name>``.
    """

    def __init__(self, net, src, server: str, loop: Loop, admin: APIClient, *, start_delay: float = 0.5,
                 cpu: str = "32", memory: str = "128Gi", max_pods: str = "110"):
        self.net, self.src, self.server, self.loop, self.admin = net, src, server, loop, admin
        self.start_delay = start_delay
        self.capacity = {"cpu": cpu, "memory": memory, "pods": max_pods}
        self.clients: dict[str, APIClient] = {}
        self.leases: dict[str, dict] = {}
        self.by_node: dict[str, set[str]] = {}
        self.running: set[str] = set()
        self.pending: list[str] = []  # pod keys waiting for their containers to "start"
        self._queued: set[str] = set()
        self._timer = None
        self._ip = 0
        self.status_updates = 0
        self.conflicts = 0
        # one shared watch for all N kubelets (a real kubelet watches spec.nodeName=<its name>)
        self.informer = Informer(admin, "pods", loop=loop)
        self.informer.add_handler(self._on_pod, lambda old, new: self._on_pod(new), self._on_delete)
        self._lease_timer = None

    def client(self, node: str) -> APIClient:
        c = self.clients.get(node)
        if c is None:
            c = self.clients[node] = APIClient(self.net, self.src, self.server, f"system:node:{node}")
        return c

    # -- nodes -----------------------------------------------------------------------
    def join(self, i: int) -> None:
        name = f"node-{i:05d}"
        kc = self.client(name)
        now = rfc3339(self.loop.now)
        conds = [{"type": t, "status": "False", "reason": f"KubeletHas{r}", "message": "",
                  "lastHeartbeatTime": now, "lastTransitionTime": now}
                 for t, r in (("MemoryPressure", "SufficientMemory"), ("DiskPressure", "NoDiskPressure"),
                              ("PIDPressure", "SufficientPID"))]
        conds.append({"type": "Ready", "status": "True", "reason": "KubeletReady",
                      "message": "kubelet is posting ready status", "lastHeartbeatTime": now,
                      "lastTransitionTime": now})
        node = kc.create({"apiVersion": "v1", "kind": "Node",
                          "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name,
                                                                "kubernetes.io/os": "linux",
                                                                "topology.kubernetes.io/zone": ZONES[i % len(ZONES)]}},
                          "spec": {}})
        node["status"] = {"capacity": dict(self.capacity), "allocatable": dict(self.capacity), "conditions": conds,
                          "addresses": [{"type": "InternalIP", "address": f"10.1.{i // 250}.{i % 250 + 1}"},
                                        {"type": "Hostname", "address": name}]}
        node = kc.update(node, subresource="status")
        # what the node lifecycle controller does once the node is Ready: drop the not-ready taint
        taints = node.get("spec", {}).get("taints") or []
        if any(t.get("key") == "node.kubernetes.io/not-ready" for t in taints):
            node["spec"]["taints"] = [t for t in taints if t.get("key") != "node.kubernetes.io/not-ready"]
            self.admin.update(node)
        self.leases[name] = kc.create({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                                       "metadata": {"name": name, "namespace": "kube-node-lease"},
                                       "spec": {"holderIdentity": name, "leaseDurationSeconds": 40,
                                                "renewTime": micro_time(self.loop.now)}})

    def renew_leases(self) -> None:
        t = micro_time(self.loop.now)
        for name, lease in self.leases.items():
            lease["spec"]["renewTime"] = t
            try:
                self.leases[name] = self.client(name).update(lease)
            except ConflictError:
                self.leases[name] = self.client(name).get("leases", name, "kube-node-lease")

    def start(self) -> None:
        self.informer.start()
        self._lease_timer = self.loop.call_every(LEASE_PERIOD, self.renew_leases)

    def stop(self) -> None:
        self.informer.stop()
        if self._lease_timer is not None:
            self._lease_timer.cancel()

    # -- pods ------------------------------------------------------------------------
    def _on_pod(self, pod: dict) -> None:
        node = pod["spec"].get("nodeName")
        if not node:
            return
        m = pod["metadata"]
        key = f"{m.get('namespace') or 'default'}/{m['name']}"
        self.by_node.setdefault(node, set()).add(key)
        if (pod.get("status") or {}).get("phase") == "Running":
            self.running.add(key)
            return
        if m.get("deletionTimestamp") or key in self._queued:
            return
        self._queued.add(key)
        self.pending.append(key)
        if self._timer is None:
            self._timer = self.loop.call_later(self.start_delay, self._start_pods)

    def _on_delete(self, pod: dict) -> None:
        m = pod["metadata"]
        key = f"{m.get('namespace') or 'default'}/{m['name']}"
        self.running.discard(key)
        node = pod["spec"].get("nodeName")
        if node and node in self.by_node:
            self.by_node[node].discard(key)

    def _start_pods(self) -> None:
        self._timer = None
        batch, self.pending = self.pending, []
        now = rfc3339(self.loop.now)
        for key in batch:
            self._queued.discard(key)
            pod = self.informer.get(key)
            if pod is None or pod["metadata"].get("deletionTimestamp") or \
                    (pod.get("status") or {}).get("phase") == "Running":
                continue
            node = pod["spec"]["nodeName"]
            self._ip += 1
            ip = f"10.244.{self._ip // 250 % 256}.{self._ip % 250 + 2}"
            status = dict(pod.get("status") or {})
            conds = [c for c in status.get("conditions") or [] if c.get("type") not in ("Ready", "ContainersReady",
                                                                                        "Initialized")]
            for t in ("Initialized", "Ready", "ContainersReady"):
                conds.append({"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": now})
            status.update(phase="Running", podIP=ip, podIPs=[{"ip": ip}], hostIP=node, conditions=conds,
                          startTime=status.get("startTime") or now,
                          containerStatuses=[{"name": c["name"], "image": c.get("image"), "ready": True,
                                              "restartCount": 0, "started": True,
                                              "state": {"running": {"startedAt": now}}}
                                             for c in pod["spec"].get("containers") or []])
            new = dict(pod, status=status)
            try:
                self.client(node).update(new, subresource="status")
                self.status_updates += 1
            except ConflictError:
                self.conflicts += 1  # the watch brings the newer version; retry from it
                self._retry(key)
            except NotFoundError:
                pass

    def _retry(self, key: str) -> None:
        if key not in self._queued:
            self._queued.add(key)
            self.pending.append(key)
            if self._timer is None:
                self._timer = self.loop.call_later(self.start_delay, self._start_pods)


def deployment(i: int, replicas: int) -> dict:
    app, image, cpu, mem = APPS[i % len(APPS)]
    name = f"{app}-{i:04d}"
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "default", "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": app, "image": image,
                                                           "ports": [{"containerPort": 8080}],
                                                           "resources": {"requests": {"cpu": cpu, "memory": mem}}}]}}}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--pods", type=int, default=30000)
    ap.add_argument("--replicas", type=int, default=100, help="replicas per Deployment (P/replicas Deployments)")
    ap.add_argument("--controllers", default="deployment,replicaset",
                    help="kube-controller-manager --controllers (default: deployment,replicaset)")
    ap.add_argument("--step", type=float, default=1.0, help="simulated seconds per progress check")
    ap.add_argument("--timeout", type=float, default=3600.0, help="give up after this many simulated seconds")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quiet", action="store_true", help="no progress lines")
    args = ap.parse_args()

    t_start = time.perf_counter()
    loop = Loop()
    net = Network(random.Random(args.seed))
    master = net.namespace("master", ["10.0.0.10"], node="master")
    api = APIServer(Store(loop), now=lambda: rfc3339(loop.now), rng=random.Random(args.seed), loop=loop,
                    address="10.0.0.10")
    master.listen(6443, ServerEndpoint(api))
    server = "https://10.0.0.10:6443"
    admin = APIClient(net, master, server, "kubernetes-admin")
    print(f"scale benchmark: {args.nodes:,} nodes, {args.pods:,} pods, Kubernetes {api.kubernetes_version}")

    # -- nodes join (hollow kubelets) --------------------------------------------------
    kubelets = HollowKubelets(net, master, server, loop, admin)
    t = time.perf_counter()
    for i in range(args.nodes):
        kubelets.join(i)
    loop.advance(0)
    t_nodes = time.perf_counter() - t
    print(f"  nodes joined          {args.nodes:,} in {t_nodes:.2f} s (Node + status + Lease each)")

    # -- control plane -------------------------------------------------------------------
    t = time.perf_counter()
    rng = random.Random(args.seed)
    ks = KubeScheduler(admin.with_user("system:kube-scheduler"), loop, random.Random(rng.getrandbits(64)))
    cm = ControllerManager(admin.with_user("system:kube-controller-manager"), loop,
                           random.Random(rng.getrandbits(64)), controllers=args.controllers)
    sched_wall = [0.0]
    run_cycles = ks.run_cycles

    def timed_cycles() -> int:
        t0 = time.perf_counter()
        try:
            return run_cycles()
        finally:
            sched_wall[0] += time.perf_counter() - t0

    ks.run_cycles = timed_cycles  # _kick schedules self.run_cycles: time every cycle
    ks.start()
    cm.start()
    kubelets.start()
    loop.advance(0)
    print(f"  control plane up      {time.perf_counter() - t:.2f} s (scheduler + controller-manager: "
          f"{', '.join(cm.controllers)})")

    # -- workload ------------------------------------------------------------------------
    t0 = time.perf_counter()
    sim0 = loop.now
    left, i = args.pods, 0
    while left > 0:
        n = min(args.replicas, left)
        admin.create(deployment(i, n))
        left -= n
        i += 1
    print(f"  deployments created   {i:,} ({args.replicas} replicas each) in {time.perf_counter() - t0:.2f} s")

    last_report = time.perf_counter()
    while len(kubelets.running) < args.pods and loop.now - sim0 < args.timeout:
        loop.advance(args.step)
        if not args.quiet and time.perf_counter() - last_report >= 5.0:
            last_report = time.perf_counter()
            print(f"    t={time.perf_counter() - t0:6.1f} s  sim {loop.now - sim0:6.1f} s  pods "
                  f"{len(ks.pods.store):,}  bound {ks.scheduled:,}  running {len(kubelets.running):,}  "
                  f"rss {peak_mib():,.0f} MiB", flush=True)
    wall = time.perf_counter() - t0
    sim = loop.now - sim0
    done = len(kubelets.running) >= args.pods

    used = sum(1 for keys in kubelets.by_node.values() if keys)
    per_node = [len(keys) for keys in kubelets.by_node.values()]
    print(f"N (nodes)                      {args.nodes:,}")
    print(f"P (pods)                       {args.pods:,}")
    print(f"pods Running                   {len(kubelets.running):,}{'' if done else '  (TIMED OUT)'}")
    print(f"wall s until all Running       {wall:.2f}")
    print(f"simulated s until all Running  {sim:.2f}")
    print(f"scheduler pods/s               {ks.scheduled / sched_wall[0]:,.0f}  "
          f"({ks.scheduled:,} bound in {sched_wall[0]:.2f} s scheduler wall, incl. binding + Events; "
          f"{ks.failed:,} unschedulable attempts)" if sched_wall[0] else "scheduler pods/s  n/a")
    print(f"end-to-end pods/s              {len(kubelets.running) / wall:,.0f}")
    print(f"nodes used                     {used:,} (pods per node {min(per_node, default=0)}-"
          f"{max(per_node, default=0)})")
    print(f"pod status updates             {kubelets.status_updates:,} ({kubelets.conflicts:,} conflicts retried)")
    print(f"etcd revision / keys           {api.storage.revision:,} / {len(api.etcd):,}")
    print(f"peak memory (ru_maxrss)        {peak_mib():,.0f} MiB")
    print(f"total wall (incl. setup)       {time.perf_counter() - t_start:.2f} s")


if __name__ == "__main__":
    main()
