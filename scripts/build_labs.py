#!/usr/bin/env python
"""Build the student labs from the instructor notebooks, in one command.

    python scripts/build_labs.py            # validate, execute solutions/ in place, regenerate labs/
    python scripts/build_labs.py --check    # fail if anything is invalid, unexecuted or stale (CI)
    python scripts/build_labs.py lab1-containers   # only these labs

``solutions/<lab>/<lab>.ipynb`` are nbgrader *source* notebooks: answer cells with
``### BEGIN SOLUTION`` / ``### END SOLUTION``, test cells with points and
``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``. They are committed *executed*
(nbval compares their outputs), so this script runs them top to bottom with nbclient
and writes the outputs back (no timing metadata, so an unchanged lab gives an
unchanged file). ``labs/<lab>/`` is then generated with nbgrader's
``generate_assignment`` (see ``nbgrader_config.py``); ``labs/welcome.ipynb`` and
anything else outside ``labs/<lab>/`` is left alone.

Exit status 0 when everything is fine, 1 with a list of problems otherwise.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
LABS = ROOT / "labs"

GRADE_ID = re.compile(r"^[a-zA-Z0-9_\-]+$")
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")

__all__ = ["lab_names", "validate", "execute", "generate", "compare_trees", "leaks", "main"]


def lab_names(solutions: Path = SOLUTIONS) -> list[str]:
    """Every lab: a folder ``solutions/<lab>/`` holding ``<lab>.ipynb``."""
    return sorted(p.name for p in solutions.iterdir() if (p / f"{p.name}.ipynb").is_file()) if solutions.is_dir() else []


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def validate(path: Path, *, executed: bool = False) -> list[str]:
    """Problems with one solution notebook's nbgrader metadata (an empty list when it is fine).

    Checks schema_version 3, grade_ids present, well formed and unique, points on graded cells,
    solution markers only in solution cells, hidden tests only in graded cells, and at least one
    graded cell. With ``executed``, also that every code cell has an execution count and that no
    test cell has an error or writes to stderr (nbgrader scores such a cell 0).
    """
    problems: list[str] = []
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    nb = _read(path)
    seen: dict[str, int] = {}
    graded = 0
    for i, cell in enumerate(nb.get("cells", [])):
        here = f"{where} cell {i}"
        meta = cell.get("metadata", {}).get("nbgrader")
        src = _source(cell)
        if meta is None:
            for m in MARKERS:
                if m in src:
                    problems.append(f"{here}: has '{m}' but no nbgrader metadata")
            continue
        if meta.get("schema_version") != 3:
            problems.append(f"{here}: nbgrader schema_version is {meta.get('schema_version')!r}, expected 3")
        gid = meta.get("grade_id")
        is_graded_or_marked = meta.get("grade") or meta.get("solution") or meta.get("locked") or meta.get("task")
        if is_graded_or_marked:
            if not gid:
                problems.append(f"{here}: nbgrader cell without a grade_id")
            elif not GRADE_ID.match(gid):
                problems.append(f"{here}: grade_id {gid!r} must match {GRADE_ID.pattern}")
            elif gid in seen:
                problems.append(f"{here}: grade_id {gid!r} is already used by cell {seen[gid]}")
            else:
                seen[gid] = i
        if meta.get("grade"):
            graded += 1
            if not isinstance(meta.get("points"), (int, float)) or meta["points"] <= 0:
                problems.append(f"{here} ({gid}): a graded cell needs points > 0, got {meta.get('points')!r}")
        if ("BEGIN SOLUTION" in src or "END SOLUTION" in src) and not meta.get("solution"):
            problems.append(f"{here} ({gid}): solution markers in a cell that is not an answer cell")
        if meta.get("solution") and cell["cell_type"] == "code" and src.count("### BEGIN SOLUTION") != src.count("### END SOLUTION"):
            problems.append(f"{here} ({gid}): unbalanced ### BEGIN SOLUTION / ### END SOLUTION")
        if "BEGIN HIDDEN TESTS" in src:
            if not meta.get("grade") or meta.get("solution"):
                problems.append(f"{here} ({gid}): hidden tests belong in a test cell (grade, not solution)")
            if src.count("### BEGIN HIDDEN TESTS") != src.count("### END HIDDEN TESTS"):
                problems.append(f"{here} ({gid}): unbalanced ### BEGIN HIDDEN TESTS / ### END HIDDEN TESTS")
        if executed and cell["cell_type"] == "code" and meta.get("grade"):
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    problems.append(f"{here} ({gid}): the test cell fails: {out.get('ename')}: {out.get('evalue')}")
                if out.get("output_type") == "stream" and out.get("name") == "stderr":
                    problems.append(f"{here} ({gid}): the test cell writes to stderr (nbgrader would score it 0)")
    if graded == 0:
        problems.append(f"{where}: no graded test cell")
    if executed:
        for i, cell in enumerate(nb.get("cells", [])):
            if cell["cell_type"] == "code" and cell.get("execution_count") is None:
                problems.append(f"{where} cell {i}: not executed (commit solution notebooks executed: "
                                f"python scripts/build_labs.py)")
                break
    return problems


def execute(path: Path, timeout: int = 120) -> tuple[float, list[str]]:
    """Run a notebook top to bottom in place; returns (seconds, problems: errors in any cell)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    with client.setup_kernel():
        start = time.perf_counter()
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        seconds = time.perf_counter() - start
    problems = [f"{path.relative_to(ROOT)} cell {i}: {o.ename}: {o.evalue}"
                for i, c in enumerate(nb.cells) for o in c.get("outputs", []) if o.get("output_type") == "error"]
    nbformat.write(nb, path)
    return seconds, problems


def _config(release: Path, db: Path):
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    cfg.CourseDirectory.root = str(ROOT)
    cfg.CourseDirectory.release_directory = str(release)
    cfg.CourseDirectory.db_url = f"sqlite:///{db}"
    return cfg


def ensure_tools_on_path() -> None:
    """nbgrader runs the ``alembic`` executable by name: make this interpreter's scripts folder findable
    (``.venv/bin/python scripts/build_labs.py`` does not put ``.venv/bin`` on PATH)."""
    import os

    bin_dir = str(Path(sys.executable).parent)
    if shutil.which("alembic") is None and bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def generate(labs: list[str], into: Path) -> list[str]:
    """nbgrader ``generate_assignment`` for each lab into ``into/<lab>/``; returns problems."""
    import logging

    ensure_tools_on_path()

    from nbgrader.apps import NbGraderAPI

    into.mkdir(parents=True, exist_ok=True)
    problems = []
    with tempfile.TemporaryDirectory(prefix="aivle-gradebook-") as tmp:
        logging.getLogger("traitlets").setLevel(logging.ERROR)
        api = NbGraderAPI(config=_config(into, Path(tmp) / "gradebook.db"))
        for lab in labs:
            result = api.generate_assignment(lab, force=True, create=True)
            if not result["success"]:
                problems.append(f"nbgrader generate_assignment {lab} failed:\n{result.get('log', '')}\n{result.get('error', '')}")
    return problems


def _normalize(nb: dict) -> dict:
    """A notebook without what nbgrader may vary from run to run (nothing today: kept as the one place to add it)."""
    return nb


def compare_trees(expected: Path, actual: Path) -> list[str]:
    """Differences between a freshly generated lab folder and the committed one (cell by cell for notebooks)."""
    problems = []
    exp_files = {p.relative_to(expected) for p in expected.rglob("*") if p.is_file()}
    act_files = {p.relative_to(actual) for p in actual.rglob("*") if p.is_file()} if actual.is_dir() else set()
    for rel in sorted(exp_files - act_files):
        problems.append(f"{actual / rel} is missing")
    for rel in sorted(act_files - exp_files):
        problems.append(f"{actual / rel} is not generated from solutions/ (stale?)")
    for rel in sorted(exp_files & act_files):
        e, a = expected / rel, actual / rel
        if rel.suffix == ".ipynb":
            ne, na = _normalize(_read(e)), _normalize(_read(a))
            if ne.get("metadata") != na.get("metadata"):
                problems.append(f"{a}: notebook metadata differs")
            ce, ca = ne.get("cells", []), na.get("cells", [])
            if len(ce) != len(ca):
                problems.append(f"{a}: {len(ca)} cells, generated {len(ce)}")
            for i, (x, y) in enumerate(zip(ce, ca)):
                if x != y:
                    problems.append(f"{a} cell {i}: differs from what nbgrader generates")
                    break
        elif not filecmp.cmp(e, a, shallow=False):
            problems.append(f"{a} differs from what nbgrader generates")
    return problems


def leaks(labs_dir: Path = LABS) -> list[str]:
    """Solution text or hidden tests in released files."""
    problems = []
    for p in sorted(labs_dir.rglob("*")):
        if p.is_file() and p.suffix in (".ipynb", ".py", ".md", ".txt"):
            text = p.read_text(encoding="utf-8", errors="replace")
            for m in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
                if m in text:
                    problems.append(f"{p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}: leaks '{m}'")
    return problems


def check(labs: list[str]) -> list[str]:
    """Everything --check verifies, without changing any file."""
    problems = []
    for lab in labs:
        problems += validate(SOLUTIONS / lab / f"{lab}.ipynb", executed=True)
    with tempfile.TemporaryDirectory(prefix="aivle-labs-") as tmp:
        problems += generate(labs, Path(tmp))
        for lab in labs:
            problems += compare_trees(Path(tmp) / lab, LABS / lab)
    for stale in sorted(p for p in LABS.iterdir() if p.is_dir() and p.name not in lab_names() and not p.name.startswith(".")):
        problems.append(f"labs/{stale.name}/ has no source in solutions/ (remove it)")
    problems += leaks(LABS)
    return problems


def build(labs: list[str], *, quiet: bool = False) -> list[str]:
    problems = []
    for lab in labs:
        problems += validate(SOLUTIONS / lab / f"{lab}.ipynb")
    if problems:
        return problems
    for lab in labs:
        seconds, errors = execute(SOLUTIONS / lab / f"{lab}.ipynb")
        if not quiet:
            print(f"executed solutions/{lab}/{lab}.ipynb in {seconds:.2f} s")
        problems += errors
        problems += validate(SOLUTIONS / lab / f"{lab}.ipynb", executed=True)
    if problems:
        return problems
    with tempfile.TemporaryDirectory(prefix="aivle-labs-") as tmp:
        problems += generate(labs, Path(tmp))
        if problems:
            return problems
        for lab in labs:
            shutil.rmtree(LABS / lab, ignore_errors=True)
            shutil.copytree(Path(tmp) / lab, LABS / lab)
            if not quiet:
                print(f"generated labs/{lab}/")
    return problems + leaks(LABS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("labs", nargs="*", help="lab names (default: every folder in solutions/)")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; fail if a solution is invalid or unexecuted, or labs/ is stale or leaks")
    args = parser.parse_args(argv)
    known = lab_names()
    labs = args.labs or known
    unknown = [lab for lab in labs if lab not in known]
    if unknown:
        print(f"no such lab: {', '.join(unknown)} (labs: {', '.join(known) or 'none'}; "
              f"a lab is solutions/<lab>/<lab>.ipynb)", file=sys.stderr)
        return 2
    problems = check(labs) if args.check else build(labs)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s)" + ("; run python scripts/build_labs.py" if args.check else ""), file=sys.stderr)
        return 1
    if args.check:
        print(f"labs/ is up to date with solutions/ ({', '.join(labs)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
