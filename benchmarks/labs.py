"""Benchmark: how long each lab takes to run top to bottom, and how much memory its kernel needs.

Runs every solution notebook (``solutions/<lab>/<lab>.ipynb``) in a fresh kernel, the way
``Restart & Run All`` or nbgrader's autograding does, on a copy (nothing is written back), and
prints per lab: wall seconds, simulated seconds the lab's world went through, and the kernel's
peak resident memory. Figures only: goals are read here, never asserted in tests.

    python benchmarks/labs.py                  # every lab
    python benchmarks/labs.py lab6-build-a-cluster
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import resource as _r, json as _j
_w = [v for v in list(globals().values()) if type(v).__name__ == "World"]
print(_j.dumps({"peak_kib": _r.getrusage(_r.RUSAGE_SELF).ru_maxrss, "sim": max((w.now for w in _w), default=0.0)}))
"""


def run(lab: str) -> dict:
    import json

    src = ROOT / "solutions" / lab / f"{lab}.ipynb"
    nb = nbformat.read(src, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    with tempfile.TemporaryDirectory() as tmp:  # journals and files the lab writes stay out of the repo
        client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp}})
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    out = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("output_type") == "stream")
    figures = json.loads(out.strip().splitlines()[-1])
    return {"lab": lab, "seconds": seconds, "sim": figures["sim"], "peak_mib": figures["peak_kib"] / 1024}


def main(argv: list[str]) -> None:
    labs = argv or sorted(p.name for p in (ROOT / "solutions").iterdir() if (p / f"{p.name}.ipynb").is_file())
    print(f"{'lab':28}{'wall s':>8}{'simulated s':>13}{'peak MiB':>10}")
    total = 0.0
    for lab in labs:
        r = run(lab)
        total += r["seconds"]
        print(f"{r['lab']:28}{r['seconds']:>8.1f}{r['sim']:>13.0f}{r['peak_mib']:>10.0f}", flush=True)
    print(f"{'all labs':28}{total:>8.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
