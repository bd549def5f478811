"""Benchmark: scheduler throughput (pods/s) on a large simulated cluster.

Prints figures only (speed goals are measured here, never asserted in tests).
Goal: at least 5,000 pods/s on 5,000 nodes (the real kube-scheduler's
scheduler_perf minimum at 5,000 nodes is 680-810 pods/s).

    python benchmarks/scheduler.py                       # 5,000 nodes x 20,000 pods
    python benchmarks/scheduler.py --pods 150000         # the scalability limit: 150,000 pods
    python benchmarks/scheduler.py --no-batching --pods 2000
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aivle_k8s.cluster.scheduler import Scheduler  # noqa: E402

ZONES = ("zone-a", "zone-b", "zone-c")
SHAPES = (  # (app, image, cpu, memory): a few Deployments' pod templates
    ("web", "nginx:1.25", "100m", "128Mi"),
    ("api", "python:3.12", "250m", "256Mi"),
    ("cache", "redis:7", "200m", "512Mi"),
    ("worker", "busybox:1.36", "500m", "256Mi"),
)


def make_nodes(n: int) -> list[dict]:
    nodes = []
    for i in range(n):
        name = f"node-{i:05d}"
        nodes.append({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name,
                                                  "topology.kubernetes.io/zone": ZONES[i % len(ZONES)]}},
            "spec": {},
            "status": {"allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"},
                       "images": [{"names": ["nginx:1.25"], "sizeBytes": 67_000_000}] if i % 4 == 0 else []},
        })
    return nodes


def make_pods(n: int, rng: random.Random) -> list[dict]:
    pods = []
    for i in range(n):
        app, image, cpu, mem = SHAPES[rng.randrange(len(SHAPES))] if i % 100 == 0 else SHAPES[(i // 100) % len(SHAPES)]
        pods.append({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"{app}-{i}", "namespace": "default", "uid": f"uid-{i}", "labels": {"app": app}},
            "spec": {"containers": [{"name": app, "image": image,
                                     "resources": {"requests": {"cpu": cpu, "memory": mem}}}]},
        })
    return pods


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--pods", type=int, default=20000)
    ap.add_argument("--no-batching", action="store_true", help="run every plugin on every sampled node")
    ap.add_argument("--detail", action="store_true", help="record per-node, per-plugin scores")
    args = ap.parse_args()

    rng = random.Random(0)
    t0 = time.perf_counter()
    nodes = make_nodes(args.nodes)
    pods = make_pods(args.pods, rng)
    sched = Scheduler(nodes, seed=0, detail=args.detail, batching=not args.no_batching)
    t1 = time.perf_counter()
    results = sched.schedule(pods)
    t2 = time.perf_counter()

    bound = sum(1 for _, node, _ in results if node is not None)
    used = sum(1 for ni in sched.cache.nodes if ni.pods)
    print(f"cluster: {args.nodes} nodes, {args.pods} pods (setup {t1 - t0:.2f} s)")
    print(f"scheduled {bound}/{len(results)} pods in {t2 - t1:.2f} s: {len(results) / (t2 - t1):,.0f} pods/s "
          f"(batching {'off' if args.no_batching else 'on'}, detail {'on' if args.detail else 'off'})")
    print(f"nodes used: {used}; sampled per cycle: {sched.framework.num_feasible_nodes_to_find(args.nodes)}")


if __name__ == "__main__":
    main()
