"""End to end: the nbgrader pipeline grades lab 1 submissions exactly on the steps they break.

One temporary course directory, built and autograded once for the module (nbgrader is slow:
~4 s import, ~1.5 s per notebook).
"""

import copy
import json
from pathlib import Path

import pytest

from aivle_k8s.cli import Course

ROOT = Path(__file__).resolve().parent.parent
LAB = "lab1-containers"
SOLUTION = ROOT / "solutions" / LAB / f"{LAB}.ipynb"
# nbgrader's restored cell has no cell id (nbformat warns; harmless)
pytestmark = pytest.mark.filterwarnings("ignore::nbformat.warnings.MissingIDFieldWarning")

RELEASE = ROOT / "labs" / LAB / f"{LAB}.ipynb"

FULL = {"test_install_docker": 1, "test_run_container": 2, "test_compare_kernels": 2, "test_ten_and_ten": 2,
        "test_data_is_lost": 1, "test_keep_with_volume": 2}


def _nb(path):
    return json.loads(path.read_text())


def _cell(nb, grade_id):
    return next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


def _answer(nb, grade_id, source):
    nb = copy.deepcopy(nb)
    _cell(nb, grade_id)["source"] = source
    return nb


def _submissions():
    solution, release = _nb(SOLUTION), _nb(RELEASE)
    deleted = _answer(solution, "keep_with_volume", _cell(release, "keep_with_volume")["source"])
    deleted["cells"] = [c for c in deleted["cells"]
                        if c["metadata"].get("nbgrader", {}).get("grade_id") != "test_keep_with_volume"]
    return {
        "solution": solution,
        "untouched": release,
        # forgot -d and a long-running command: alpine's /bin/sh exits at once, box is not running
        "box_exited": _answer(solution, "run_container", 'host.sh("docker run --name box alpine")\n'),
        # wrote the notes inside the container instead of on the volume, then removed it
        "no_volume": _answer(solution, "keep_with_volume",
                             "host.sh(\"docker run --name writer alpine sh -c 'mkdir -p /data && "
                             "echo hello volume > /data/notes.txt'\")\nhost.sh(\"docker rm writer\")\n"
                             "kept = host.sh(\"docker run --rm -v data:/data alpine cat /data/notes.txt\")\nkept\n"),
        # an endless loop: that cell times out, every other step is still graded
        "endless": _answer(solution, "data_is_lost", "while True:\n    pass\n"),
        # deleted the failing test cell of an unanswered step: nbgrader puts it back, it scores 0
        "deleted_test": deleted,
    }


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    base = tmp_path_factory.mktemp("pipeline")
    course = Course.init(base / "course", timeout=5)
    subs = base / "lms-export"
    for student, nb in _submissions().items():
        (subs / student).mkdir(parents=True)
        (subs / student / f"{LAB}.ipynb").write_text(json.dumps(nb))
    course.release(LAB)
    course.collect(subs)
    course.graded = {g.student: g for g in course.autograde(LAB)}
    return course


def _expected(**zeros):
    return {k: (0 if k in zeros else v) for k, v in FULL.items()}


def test_every_submission_is_graded(course):
    assert sorted(course.graded) == sorted(_submissions())


def test_the_solution_gets_full_marks(course):
    assert course.graded["solution"].score == course.graded["solution"].max_score == 10
    assert course.step_scores("solution", LAB) == FULL


def test_the_untouched_release_gets_zero(course):
    assert course.graded["untouched"].score == 0
    assert set(course.step_scores("untouched", LAB).values()) == {0}


def test_a_container_that_exited_loses_only_the_run_step(course):
    assert course.step_scores("box_exited", LAB) == _expected(test_run_container=0)


def test_data_written_outside_the_volume_loses_only_the_volume_step(course):
    assert course.step_scores("no_volume", LAB) == _expected(test_keep_with_volume=0)


def test_an_endless_loop_times_out_in_its_cell_and_the_rest_is_graded(course):
    assert course.step_scores("endless", LAB) == _expected(test_data_is_lost=0)
    nb = _nb(course.root / "autograded" / "endless" / LAB / f"{LAB}.ipynb")
    errors = [o for o in _cell(nb, "data_is_lost")["outputs"] if o["output_type"] == "error"]
    assert errors and errors[0]["ename"] in ("KeyboardInterrupt", "CellTimeoutError")


def test_a_deleted_test_cell_is_restored_and_scores_zero(course):
    assert course.step_scores("deleted_test", LAB) == _expected(test_keep_with_volume=0)
    nb = _nb(course.root / "autograded" / "deleted_test" / LAB / f"{LAB}.ipynb")
    restored = _cell(nb, "test_keep_with_volume")
    assert "was missing from the submission" in "".join(restored["source"])


def test_no_test_cell_writes_to_stderr(course):
    for student in _submissions():
        nb = _nb(course.root / "autograded" / student / LAB / f"{LAB}.ipynb")
        for cell in nb["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("grade"):
                streams = [o for o in cell.get("outputs", []) if o.get("name") == "stderr"]
                assert streams == [], (student, cell["metadata"]["nbgrader"]["grade_id"], streams)
