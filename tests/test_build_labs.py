"""labs/ is exactly what nbgrader generates from solutions/, leaks nothing, and solutions run as committed."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("build_labs", ROOT / "scripts" / "build_labs.py")
build_labs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_labs)

LABS = build_labs.lab_names()
SOLUTION_NOTEBOOKS = [ROOT / "solutions" / lab / f"{lab}.ipynb" for lab in LABS]


def test_there_is_at_least_the_pilot_lab():
    assert "lab1-containers" in LABS


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    into = tmp_path_factory.mktemp("generated-labs")
    assert build_labs.generate(LABS, into) == []
    return into


@pytest.mark.parametrize("lab", LABS)
def test_labs_are_exactly_what_nbgrader_generates(generated, lab):
    assert build_labs.compare_trees(generated / lab, ROOT / "labs" / lab) == [], (
        "labs/ is stale: run python scripts/build_labs.py")


def test_every_lab_folder_has_a_source():
    stale = [p.name for p in (ROOT / "labs").iterdir() if p.is_dir() and not p.name.startswith(".") and p.name not in LABS]
    assert stale == []


def test_released_labs_leak_no_solution_or_hidden_test():
    assert build_labs.leaks(ROOT / "labs") == []


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=lambda p: p.parent.name)
def test_solutions_are_valid_and_committed_executed(path):
    assert build_labs.validate(path, executed=True) == []


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=lambda p: p.parent.name)
def test_no_journal_file_in_solutions_would_overwrite_the_students(path):
    # autograde copies the source folder's non-notebook files over each submission
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".journal.jsonl")] == []


def test_grade_ids_are_unique_and_lab1_steps_are_named():
    nb = json.loads((ROOT / "solutions" / "lab1-containers" / "lab1-containers.ipynb").read_text())
    ids = [c["metadata"]["nbgrader"]["grade_id"] for c in nb["cells"] if "nbgrader" in c["metadata"]]
    assert len(ids) == len(set(ids))
    graded = {c["metadata"]["nbgrader"]["grade_id"]: c["metadata"]["nbgrader"]["points"]
              for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")}
    assert graded == {"test_install_docker": 1, "test_run_container": 2, "test_compare_kernels": 2,
                      "test_ten_and_ten": 2, "test_data_is_lost": 1, "test_keep_with_volume": 2}


def test_validate_reports_duplicate_grade_ids_and_misplaced_markers(tmp_path):
    meta = {"schema_version": 3, "grade": True, "solution": False, "locked": True, "task": False,
            "grade_id": "same", "points": 1}
    cells = [{"cell_type": "code", "metadata": {"nbgrader": meta}, "source": "assert True", "outputs": [],
              "execution_count": 1},
             {"cell_type": "code", "metadata": {"nbgrader": meta}, "source": "### BEGIN SOLUTION\n### END SOLUTION",
              "outputs": [], "execution_count": None}]
    path = tmp_path / "bad.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    problems = "\n".join(build_labs.validate(path, executed=True))
    assert "grade_id 'same' is already used by cell 0" in problems
    assert "solution markers in a cell that is not an answer cell" in problems
    assert "not executed" in problems


def test_solutions_pass_nbval_strict():
    """Every solution notebook re-executes with the outputs it was committed with (nbval, strict)."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "no:cacheprovider", "-q",
         "-o", "addopts=", "-o", "testpaths=", *[str(p) for p in SOLUTION_NOTEBOOKS]],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
