"""End to end for every lab: nbgrader gives the solution full marks and the untouched release zero.

One temporary course holds every lab; each lab gets two submissions (``solution``: the source
notebook with its answers, ``untouched``: the release as a student receives it), autograded once.
Lab 1's partial-credit cases are in test_course_pipeline.py.
"""

import json
from pathlib import Path

import pytest

from aivle_k8s.cli import Course

ROOT = Path(__file__).resolve().parent.parent
LABS = sorted(p.name for p in (ROOT / "solutions").iterdir() if (p / f"{p.name}.ipynb").is_file())
pytestmark = pytest.mark.filterwarnings("ignore::nbformat.warnings.MissingIDFieldWarning")


def _points(lab: str) -> dict[str, float]:
    nb = json.loads((ROOT / "solutions" / lab / f"{lab}.ipynb").read_text())
    return {c["metadata"]["nbgrader"]["grade_id"]: c["metadata"]["nbgrader"]["points"]
            for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    base = tmp_path_factory.mktemp("all-labs")
    course = Course.init(base / "course", timeout=120)
    subs = base / "lms-export"
    for lab in LABS:
        for student, src in (("solution", ROOT / "solutions"), ("untouched", ROOT / "labs")):
            (subs / student).mkdir(parents=True, exist_ok=True)
            (subs / student / f"{lab}.ipynb").write_text((src / lab / f"{lab}.ipynb").read_text())
    course.release()
    course.collect(subs)
    course.graded = {(g.student, g.lab): g for g in course.autograde()}
    return course


@pytest.mark.parametrize("lab", LABS)
def test_the_solution_gets_full_marks_on_every_step(course, lab):
    points = _points(lab)
    assert points, f"{lab} has no graded test cell"
    assert course.step_scores("solution", lab) == points
    graded = course.graded[("solution", lab)]
    assert graded.score == graded.max_score == sum(points.values())


@pytest.mark.parametrize("lab", LABS)
def test_the_untouched_release_gets_zero_on_every_step(course, lab):
    scores = course.step_scores("untouched", lab)
    assert set(scores) == set(_points(lab)) and set(scores.values()) == {0}, scores


@pytest.mark.parametrize("lab", LABS)
def test_no_test_cell_writes_to_stderr_and_failures_explain_themselves(course, lab):
    for student in ("solution", "untouched"):
        nb = json.loads((course.root / "autograded" / student / lab / f"{lab}.ipynb").read_text())
        for cell in nb["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            if not meta.get("grade"):
                continue
            assert [o for o in cell.get("outputs", []) if o.get("name") == "stderr"] == [], (student, meta["grade_id"])
            if student == "untouched":
                errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
                assert errors and errors[0]["ename"] == "AssertionError" and errors[0]["evalue"].strip(), (
                    f"{lab}/{meta['grade_id']}: an untouched answer must fail with actionable feedback, got "
                    f"{[(e['ename'], e['evalue'][:80]) for e in errors]}")
