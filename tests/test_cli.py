"""The instructor CLI: a tiny class of three submissions to a CSV, and clear errors for mistakes."""

import contextlib
import copy
import csv
import io
import json
from pathlib import Path

import pytest

from aivle_k8s.cli import main

ROOT = Path(__file__).resolve().parent.parent
LAB = "lab1-containers"


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def _class(folder: Path) -> Path:
    solution = json.loads((ROOT / "solutions" / LAB / f"{LAB}.ipynb").read_text())
    wrong = copy.deepcopy(solution)
    for cell in wrong["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "run_container":
            cell["source"] = 'host.sh("docker run --name box alpine")\n'
    notebooks = {"student01": solution, "student02": (ROOT / "labs" / LAB / f"{LAB}.ipynb").read_text(),
                 "student03": wrong}
    for student, nb in notebooks.items():
        (folder / student).mkdir(parents=True)
        (folder / student / f"{LAB}.ipynb").write_text(nb if isinstance(nb, str) else json.dumps(nb))
    return folder


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli")
    course = base / "course"
    steps = [run("course", "init", course), run("course", "collect", _class(base / "lms"), "-C", course),
             run("course", "autograde", "-C", course), run("course", "export", base / "grades.csv", "-C", course)]
    return course, base / "grades.csv", steps


def test_the_flow_succeeds_and_prints_progress(graded_class):
    _, _, steps = graded_class
    assert [code for code, _, _ in steps] == [0, 0, 0, 0], steps
    autograde_out = steps[2][1].splitlines()
    assert autograde_out[0] == f"released {LAB} -> release/{LAB}/{LAB}.ipynb"
    assert autograde_out[1:] == [f"[1/3] student01 {LAB} ... 10/10", f"[2/3] student02 {LAB} ... 0/10",
                                 f"[3/3] student03 {LAB} ... 8/10", "autograded 3/3 submission(s)"]


def test_the_csv_has_the_right_scores(graded_class):
    _, grades, _ = graded_class
    with open(grades) as f:
        rows = list(csv.reader(f))
    assert rows == [["student_id", "lab", "score", "max_score"], ["student01", LAB, "10", "10"],
                    ["student02", LAB, "0", "10"], ["student03", LAB, "8", "10"]]


def test_feedback_is_written_per_student(graded_class):
    course, _, _ = graded_class
    code, out, _ = run("course", "feedback", "-C", course)
    assert code == 0, out
    assert (course / "feedback" / "student03" / LAB / f"{LAB}.html").is_file()
    assert out.splitlines()[-1].startswith("wrote 3 feedback file(s)")


def test_a_directory_that_is_not_a_course(tmp_path):
    code, _, err = run("course", "autograde", "-C", tmp_path)
    assert code == 2
    assert "is not a course directory (no nbgrader_config.py): create one with `aivle-k8s course init" in err


def test_init_twice_is_an_error(tmp_path):
    assert run("course", "init", tmp_path / "c")[0] == 0
    code, _, err = run("course", "init", tmp_path / "c")
    assert code == 2 and "already a course directory" in err


@pytest.fixture
def course(tmp_path):
    assert run("course", "init", tmp_path / "course")[0] == 0
    return tmp_path / "course"


def test_no_such_lab(course):
    code, _, err = run("course", "autograde", "--lab", "lab9-nope", "-C", course)
    assert code == 2
    labs = ", ".join(sorted(p.name for p in (ROOT / "solutions").iterdir() if (p / f"{p.name}.ipynb").is_file()))
    assert err.strip() == f"aivle-k8s: error: no such lab: 'lab9-nope' (labs: {labs})"


def test_an_empty_submissions_folder(course, tmp_path):
    (tmp_path / "empty").mkdir()
    code, _, err = run("course", "collect", tmp_path / "empty", "-C", course)
    assert code == 2 and "holds no notebooks: expected <student>/<lab>.ipynb" in err


def test_a_notebook_that_is_not_a_lab(course, tmp_path):
    (tmp_path / "subs" / "student01").mkdir(parents=True)
    (tmp_path / "subs" / "student01" / "homework.ipynb").write_text(json.dumps({"cells": [], "metadata": {}}))
    code, _, err = run("course", "collect", tmp_path / "subs", "-C", course)
    assert code == 2 and "student01/homework.ipynb: not a lab notebook name" in err
    (tmp_path / "subs" / "student01" / "homework.ipynb").unlink()
    (tmp_path / "subs" / "student01" / f"{LAB}.ipynb").write_text(json.dumps({"cells": [], "metadata": {}}))
    code, _, err = run("course", "collect", tmp_path / "subs", "-C", course)
    assert code == 2 and "it has no nbgrader cells: was it made from the released lab?" in err
    assert not any((course / "submitted").iterdir())  # nothing copied when anything is wrong


def test_autograde_before_collect(course):
    code, _, err = run("course", "autograde", "-C", course)
    assert code == 2 and "no submissions collected" in err
