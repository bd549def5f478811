"""Benchmark: the wall-clock cost of an idle, running cluster (prints figures only).

A 3-node kubeadm cluster (``build_cluster``: containerd, flannel, CoreDNS, kube-proxy)
is left alone while simulated time passes. Everything a real idle cluster does still
happens: each kubelet relists its pods every second (PLEG), re-reads the static-pod
manifests every 20 s, renews its Lease every 10 s and posts its node status; the
controller-manager and scheduler resync; etcd compacts; kube-proxy syncs its rules.

    python benchmarks/idle_day.py                 # 600 s warm-up figure + one simulated day
    python benchmarks/idle_day.py --seconds 3600  # a shorter window
    python benchmarks/idle_day.py --profile       # cProfile the idle window (top 30 by tottime)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aivle_k8s as ak  # noqa: E402
from aivle_k8s.cluster.bootstrap import build_cluster  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=86400.0, help="simulated seconds to idle (default: a day)")
    ap.add_argument("--profile", action="store_true", help="cProfile the idle window")
    args = ap.parse_args()

    t0 = time.perf_counter()
    world = ak.World(seed=0)
    cluster = build_cluster(world)
    t1 = time.perf_counter()
    print(f"build_cluster (3 nodes):        {t1 - t0:8.2f} s wall")

    t2 = time.perf_counter()
    world.advance(600)
    t3 = time.perf_counter()
    print(f"advance 600 s (warm):           {t3 - t2:8.2f} s wall")

    if args.profile:
        import cProfile
        import pstats
        prof = cProfile.Profile()
        prof.enable()
    t4, c4 = time.perf_counter(), time.process_time()
    world.advance(args.seconds)
    t5, c5 = time.perf_counter(), time.process_time()
    if args.profile:
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(30)
    wall = t5 - t4
    per_day = wall * 86400.0 / args.seconds
    print(f"advance {args.seconds:.0f} s:{'':{max(1, 17 - len(str(int(args.seconds))))}}{wall:8.2f} s wall")
    print(f"wall seconds per simulated day: {per_day:8.2f}")
    print(f"CPU seconds per simulated day:  {(c5 - c4) * 86400.0 / args.seconds:8.2f}")
    print(f"simulated seconds per wall s:   {args.seconds / wall if wall else float('inf'):8.0f}")
    ready = sum(1 for n in cluster.nodes.list(namespace=None)
                for c in n.raw["status"]["conditions"] if c["type"] == "Ready" and c["status"] == "True")
    pods = cluster.pods.list(namespace=None)
    running = sum(1 for p in pods if p.raw.get("status", {}).get("phase") == "Running")
    print(f"after idling: {ready}/3 nodes Ready, {running}/{len(pods)} pods Running")


if __name__ == "__main__":
    main()
