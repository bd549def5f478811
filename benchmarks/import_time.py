"""Benchmark: how long `import aivle_k8s` takes, and that it imports no Jupyter package.

Prints figures only (speed goals are measured here, never asserted in tests).
Goal: under 0.3 s on the course machines.

    python benchmarks/import_time.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
import aivle_k8s
t1 = time.perf_counter()
jupyter = sorted(m for m in sys.modules if m.split('.')[0] in
                 {'IPython', 'ipykernel', 'ipywidgets', 'jupyter_client', 'jupyter_core', 'nbformat', 'nbgrader', 'traitlets', 'comm'})
print(json.dumps({"seconds": t1 - t0, "jupyter": jupyter, "modules": len(sys.modules)}))
"""


def main(runs: int = 7) -> None:
    # Measure what a student sees: bytecode cached after the first import (some shells set
    # PYTHONDONTWRITEBYTECODE, which would make every import recompile the sources).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cold = json.loads(subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                                     check=True, env=env).stdout)
    print(f"first import (may compile bytecode): {cold['seconds'] * 1000:.1f} ms")
    results = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, env=env)
        results.append(json.loads(out.stdout))
    times = sorted(r["seconds"] for r in results)
    print(f"import aivle_k8s: median {statistics.median(times) * 1000:.1f} ms, "
          f"min {times[0] * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms over {runs} fresh interpreters "
          f"(goal < 300 ms)")
    print(f"modules loaded: {results[0]['modules']}")
    print(f"Jupyter packages imported: {results[0]['jupyter'] or 'none'}")


if __name__ == "__main__":
    main()
