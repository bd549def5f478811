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


LAB6 = "lab6-build-a-cluster"


def _with_answer(lab: str, grade_id: str, source: str) -> str:
    """The solution of ``lab`` with one answer cell replaced: a plausible wrong submission."""
    nb = json.loads((ROOT / "solutions" / lab / f"{lab}.ipynb").read_text())
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)
    cell["source"] = source
    return json.dumps(nb)


def _clicked_journal(path: Path) -> None:
    """A student who did lab 6 by clicking the cluster builder's buttons (and wrote no code)."""
    import aivle_k8s as ak
    from aivle_k8s.widgets import ClusterBuilder

    world = ak.World(seed=0)
    builder = ClusterBuilder(world, ["master", "worker-1", "worker-2"], lab=LAB6, journal=path)
    for name in ("master", "worker-1", "worker-2"):
        builder.machine_select.value = name
        for button in (builder.prepare_button, builder.runtime_button, builder.kubernetes_button):
            button.click()
            assert builder.last.ok, builder.output_text
    builder.machine_select.value = "master"
    builder.init_button.click()
    builder.cni_button.click()
    for name in ("worker-1", "worker-2"):
        builder.machine_select.value = name
        builder.join_button.click()
        assert builder.last.ok, builder.output_text


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    base = tmp_path_factory.mktemp("all-labs")
    course = Course.init(base / "course", timeout=120)
    subs = base / "lms-export"
    for lab in LABS:
        for student, src in (("solution", ROOT / "solutions"), ("untouched", ROOT / "labs")):
            (subs / student).mkdir(parents=True, exist_ok=True)
            (subs / student / f"{lab}.ipynb").write_text((src / lab / f"{lab}.ipynb").read_text())
    wrong = {
        # joined only worker-1
        "one_worker": _with_answer(LAB6, "join", 'join_command = master.sh("sudo kubeadm token create '
                                   '--print-join-command").stdout.strip()\nworker_1.sh("sudo " + join_command)\n'),
        # installed CRI-O where the lab asks for containerd: the cluster still works, only that step is lost
        "crio": _with_answer(LAB6, "runtime", 'for name in ("master", "worker-1", "worker-2"):\n'
                             '    builder.install_runtime(name, "cri-o")\n'),
    }
    for student, text in wrong.items():
        (subs / student).mkdir(parents=True)
        (subs / student / f"{LAB6}.ipynb").write_text(text)
    (subs / "clicker").mkdir()
    (subs / "clicker" / f"{LAB6}.ipynb").write_text((ROOT / "labs" / LAB6 / f"{LAB6}.ipynb").read_text())
    _clicked_journal(subs / "clicker" / f".{LAB6}.journal.jsonl")
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


def _lab6_expected(**zeros: int) -> dict[str, float]:
    return {k: (0 if k in zeros else v) for k, v in _points(LAB6).items()}


def test_a_worker_that_never_joined_loses_only_the_join_step(course):
    assert course.step_scores("one_worker", LAB6) == _lab6_expected(test_join=0)


def test_the_wrong_runtime_loses_only_the_runtime_step(course):
    assert course.step_scores("crio", LAB6) == _lab6_expected(test_runtime=0)


def test_clicks_in_the_cluster_builder_are_graded_from_the_journal(course):
    # every step done by clicking passes on an untouched notebook; the one answered in code does not
    assert course.step_scores("clicker", LAB6) == _lab6_expected(test_preflight=0)
