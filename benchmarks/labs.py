"""Benchmark: each lab's run time, its slowest widget action, its kernel's memory, and autograding cost.

For every solution notebook (``solutions/<lab>/<lab>.ipynb``):

* **run s**: seconds to execute it top to bottom in a fresh kernel (kernel start-up excluded), as
  ``Restart & Run All`` does, on a copy (nothing is written back);
* **slowest action ms**: the slowest widget action (``ActionWidget.perform``, clicks and the same
  calls from code) during that run;
* **simulated s** the lab's world went through, and the kernel's **peak MiB**;
* **autograde s**: nbgrader autograding of the solution as a submission, next to the same for a
  *trivial* notebook with the same cells and metadata whose code cells are all ``pass`` (what
  nbgrader itself costs), and their ratio.

Figures only: goals (every lab under 5 s, every widget action under 100 ms, autograde within 1.3x of
the trivial notebook) are read here, never asserted in tests.

    python benchmarks/labs.py                       # every lab
    python benchmarks/labs.py lab6-build-a-cluster  # some labs
    python benchmarks/labs.py --no-autograde        # skip the nbgrader part (faster)
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TIMER = """
import time as _t
from aivle_k8s.widgets import base as _b
_ACTIONS = []
_perform = _b.ActionWidget.perform
def _timed(self, action, **args):
    t0 = _t.perf_counter()
    try:
        return _perform(self, action, **args)
    finally:
        _ACTIONS.append((_t.perf_counter() - t0, f"{self.kind}.{action}"))
_b.ActionWidget.perform = _timed
"""

PROBE = """
import resource as _r, json as _j
_w = [v for v in list(globals().values()) if type(v).__name__ == "World"]
_slow = max(_ACTIONS, default=(0.0, "-"))
print(_j.dumps({"peak_kib": _r.getrusage(_r.RUSAGE_SELF).ru_maxrss, "sim": max((w.now for w in _w), default=0.0),
                "slowest": _slow[0], "slowest_action": _slow[1], "actions": len(_ACTIONS)}))
"""


def labs() -> list[str]:
    return sorted(p.name for p in (ROOT / "solutions").iterdir() if (p / f"{p.name}.ipynb").is_file())


def run(lab: str) -> dict:
    nb = nbformat.read(ROOT / "solutions" / lab / f"{lab}.ipynb", as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(TIMER))
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    with tempfile.TemporaryDirectory() as tmp:  # journals and files the lab writes stay out of the repo
        client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp}})
        with client.setup_kernel():
            client.execute_cell(nb.cells[0], 0)
            start = time.perf_counter()
            for index, cell in enumerate(nb.cells[1:-1], start=1):
                client.execute_cell(cell, index)
            seconds = time.perf_counter() - start
            client.execute_cell(nb.cells[-1], len(nb.cells) - 1)
    out = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("output_type") == "stream")
    figures = json.loads(out.strip().splitlines()[-1])
    return {"lab": lab, "seconds": seconds, **figures}


def _trivial(lab: str, dest: Path) -> str:
    """A copy of ``lab`` whose code cells are all ``pass`` (solution cells keep their markers)."""
    name = f"trivial-{lab}"
    nb = nbformat.read(ROOT / "solutions" / lab / f"{lab}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            meta = cell.metadata.get("nbgrader", {})
            cell.source = "### BEGIN SOLUTION\npass\n### END SOLUTION" if meta.get("solution") else "pass"
            cell.outputs, cell.execution_count = [], None
    (dest / name).mkdir(parents=True)
    nbformat.write(nb, dest / name / f"{name}.ipynb")
    return name


def autograde(names: list[str]) -> dict[str, float]:
    """Autograde each lab's solution and its trivial twin; seconds per submission."""
    import logging

    from aivle_k8s.cli import Course

    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        source = base / "source"
        pairs = {}
        for lab in names:
            shutil.copytree(ROOT / "solutions" / lab, source / lab)
            pairs[lab] = _trivial(lab, source)
        course = Course.init(base / "course", solutions=source, timeout=600)
        subs = base / "subs" / "student"
        subs.mkdir(parents=True)
        for lab, trivial in pairs.items():
            shutil.copyfile(source / lab / f"{lab}.ipynb", subs / f"{lab}.ipynb")
            shutil.copyfile(source / trivial / f"{trivial}.ipynb", subs / f"{trivial}.ipynb")
        course.release()
        course.collect(base / "subs")
        seconds = {}
        for name in [*pairs, *pairs.values()]:
            start = time.perf_counter()
            course.autograde(name)
            seconds[name] = time.perf_counter() - start
    return seconds


def main(argv: list[str]) -> None:
    grade = "--no-autograde" not in argv
    names = [a for a in argv if not a.startswith("--")] or labs()
    grades = autograde(names) if grade else {}
    head = f"{'lab':24}{'run s':>7}{'slowest action ms':>19}  {'(action)':28}{'simulated s':>12}{'peak MiB':>10}"
    if grade:
        head += f"{'autograde s':>13}{'trivial s':>11}{'ratio':>7}"
    print(head)
    for lab in names:
        r = run(lab)
        line = (f"{lab:24}{r['seconds']:>7.2f}{r['slowest'] * 1000:>19.0f}  {r['slowest_action'][:28]:28}"
                f"{r['sim']:>12.0f}{r['peak_kib'] / 1024:>10.0f}")
        if grade:
            a, t = grades[lab], grades[f"trivial-{lab}"]
            line += f"{a:>13.1f}{t:>11.1f}{a / t:>7.2f}"
        print(line, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
