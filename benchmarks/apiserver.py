"""Benchmark: kube-apiserver throughput with 150,000 pods (prints figures only).

What the scale test asks of the API server: controllers create pods from a few
templates (generateName, ownerReferences), the scheduler binds each one, each
kubelet reports status, and informers list and watch. Measured here:

- creates/s   pods created by the controller-manager identity
- binds/s     pods/binding by the scheduler identity
- status/s    pods/status updates by each node's kubelet
- lists/s     full list of every pod, one page of 500 by label, pods of one node
- watch       events delivered to a scheduler watch and 5,000 per-node kubelet watches

    python benchmarks/apiserver.py                    # 150,000 pods on 5,000 nodes
    python benchmarks/apiserver.py --pods 20000 --nodes 1000
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aivle_k8s as ak  # noqa: E402
from aivle_k8s.cluster.apiserver import APIServer  # noqa: E402
from aivle_k8s.cluster.etcd import Store  # noqa: E402

CM = "system:kube-controller-manager"
SCHED = "system:kube-scheduler"
APPS = (("web", "nginx:1.25", "100m", "128Mi"), ("api", "python:3.12", "250m", "256Mi"),
        ("cache", "redis:7", "200m", "512Mi"), ("worker", "busybox:1.36", "500m", "256Mi"))


def template(app: str, image: str, cpu: str, mem: str, rs_uid: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"generateName": f"{app}-7d9c5b8f6-", "namespace": "default",
                         "labels": {"app": app, "pod-template-hash": "7d9c5b8f6"},
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{app}-7d9c5b8f6",
                                              "uid": rs_uid, "controller": True, "blockOwnerDeletion": True}]},
            "spec": {"containers": [{"name": app, "image": image, "ports": [{"containerPort": 8080}],
                                     "resources": {"requests": {"cpu": cpu, "memory": mem}}}]}}


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}/s" if seconds > 0 else "inf"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pods", type=int, default=150_000)
    ap.add_argument("--nodes", type=int, default=5_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    world = ak.World(seed=args.seed)
    api = APIServer(Store(world.loop), now=world.timestamp, rng=world.rng, loop=world.loop)
    rng = random.Random(args.seed)
    nodes = [f"node-{i:05d}" for i in range(args.nodes)]
    print(f"apiserver benchmark: {args.pods:,} pods, {args.nodes:,} nodes, Kubernetes {api.kubernetes_version}")

    t = time.perf_counter()
    for n in nodes:
        api.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": n, "labels": {"kubernetes.io/hostname": n}},
                    "status": {"capacity": {"cpu": "32", "memory": "128Gi", "pods": "110"}}}, user=f"system:node:{n}")
    print(f"  nodes registered      {rate(len(nodes), time.perf_counter() - t)}")

    delivered = [0]

    def count(_ev: dict) -> None:
        delivered[0] += 1

    api.watch("pods", user=SCHED, field_selector="spec.nodeName=", callback=count)
    for n in nodes:
        api.watch("pods", user=f"system:node:{n}", field_selector=f"spec.nodeName={n}", callback=count)

    templates = [template(*shape, rs_uid=f"rs-uid-{i}") for i, shape in enumerate(APPS)]
    t = time.perf_counter()
    names = []
    for i in range(args.pods):
        p = api.create(templates[(i // 100) % len(templates)], user=CM)
        names.append(p["metadata"]["name"])
    dt = time.perf_counter() - t
    print(f"  creates               {rate(args.pods, dt)}   ({dt:.1f} s)")
    t = time.perf_counter()
    world.advance(0)
    print(f"  watch events          {delivered[0]:,} delivered in {time.perf_counter() - t:.2f} s")

    placement = {}
    t = time.perf_counter()
    for name in names:
        node = nodes[rng.randrange(len(nodes))]
        placement[name] = node
        api.bind(name, node, user=SCHED)
    dt = time.perf_counter() - t
    print(f"  binds                 {rate(len(names), dt)}   ({dt:.1f} s)")
    delivered[0] = 0
    world.advance(0)
    print(f"  watch events          {delivered[0]:,} (scheduler DELETED-from-selector + kubelet ADDED)")

    sample = names[: min(len(names), 20_000)]
    t = time.perf_counter()
    for name in sample:
        p = api.get("pods", name, user=f"system:node:{placement[name]}")
        p["status"]["phase"] = "Running"
        p["status"]["podIP"] = "10.244.0.5"
        api.update(p, user=f"system:node:{placement[name]}", subresource="status")
    dt = time.perf_counter() - t
    print(f"  status updates        {rate(len(sample), dt)}   (get + update, {len(sample):,} pods)")

    t = time.perf_counter()
    full = api.list("pods", user=CM)
    dt = time.perf_counter() - t
    print(f"  list all pods         {len(full['items']):,} items in {dt:.2f} s ({1 / dt:.2f} lists/s)")
    del full
    reps = 50
    t = time.perf_counter()
    for _ in range(reps):
        api.list("pods", "default", user=CM, label_selector="app=web", limit=500)
    print(f"  list 500 by label     {rate(reps, time.perf_counter() - t)}")
    reps = 2_000
    t = time.perf_counter()
    for i in range(reps):
        api.list("pods", user=f"system:node:{nodes[i % len(nodes)]}", field_selector=f"spec.nodeName="
                                                                                     f"{nodes[i % len(nodes)]}")
    print(f"  list pods of a node   {rate(reps, time.perf_counter() - t)}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  etcd revision {api.storage.revision:,}, keys {len(api.etcd):,}; peak RSS {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
