"""``aivle-k8s``: the instructor's command line, wrapping nbgrader for the whole grading flow.

    aivle-k8s course init DIR                 # a course directory whose labs are this kit's labs
    aivle-k8s course release      [-C DIR] [--lab LAB]   # student notebooks into DIR/release/<lab>/
    aivle-k8s course collect SUBMISSIONS_DIR [-C DIR]    # <student>/<lab>.ipynb files (e.g. from an LMS)
    aivle-k8s course autograde    [-C DIR] [--lab LAB]   # every collected submission, with progress
    aivle-k8s course feedback     [-C DIR] [--lab LAB]   # HTML feedback into DIR/feedback/
    aivle-k8s course export grades.csv [-C DIR]          # student_id,lab,score,max_score

``-C DIR`` defaults to the current directory. The course directory is an ordinary
nbgrader course (``nbgrader_config.py``, ``gradebook.db``, ``submitted/``,
``autograded/``, ``feedback/``); its source folder is this kit's ``solutions/``.

Mistakes are reported in one line and exit with status 2 (no traceback): a lab
that does not exist, an empty submissions folder, a notebook that is not a lab,
a directory that is not a course.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Callable, Iterable

__all__ = ["Course", "CourseError", "Graded", "main", "default_solutions"]

CONFIG = "nbgrader_config.py"

_CONFIG_TEMPLATE = '''\
"""nbgrader configuration of an aivle-k8s course (written by `aivle-k8s course init`)."""
import os

c = get_config()  # noqa: F821

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = {source!r}  # the instructor notebooks of the aivle_k8s labs

c.CourseDirectory.root = HERE
c.CourseDirectory.course_id = "aivle-k8s"
c.CourseDirectory.source_directory = SOURCE
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db")

# A cell still running after this many seconds (a student's endless loop) is interrupted;
# the rest of the notebook is still executed and graded.
c.Execute.timeout = {timeout}
c.Execute.interrupt_on_timeout = True

# Deleted or edited test cells are restored from the gradebook (and so still count).
c.OverwriteCells.add_missing_cells = True

# A student's widget journal (.<lab>.journal.jsonl beside the notebook) must never be replaced
# by a file of the same name from the source folder.
c.Autograde.exclude_overwriting = {{
    lab: [".%s.journal.jsonl" % lab]
    for lab in (os.listdir(SOURCE) if os.path.isdir(SOURCE) else [])
}}
'''


class CourseError(Exception):
    """A mistake the instructor can fix; the CLI prints its message and exits with status 2."""


class Graded(tuple):
    """``(student, lab, score, max_score)`` of one autograded submission."""

    __slots__ = ()

    def __new__(cls, student: str, lab: str, score: float, max_score: float):
        return super().__new__(cls, (student, lab, score, max_score))

    student = property(lambda self: self[0])
    lab = property(lambda self: self[1])
    score = property(lambda self: self[2])
    max_score = property(lambda self: self[3])


def default_solutions() -> Path:
    """The kit's instructor notebooks: ``solutions/`` beside the ``aivle_k8s`` package (a source checkout)."""
    return Path(__file__).resolve().parent.parent / "solutions"


def _ensure_tools_on_path() -> None:
    # nbgrader runs `alembic` by name: make the interpreter's scripts folder findable even when
    # the tool was started as `.venv/bin/python -m ...` without activating the environment.
    bin_dir = str(Path(sys.executable).parent)
    if shutil.which("alembic") is None:
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def _fmt(x: float) -> str:
    return f"{x:g}"


class Course:
    """An nbgrader course directory for the aivle_k8s labs.

    Args:
        root: the course directory (made by :meth:`init`).

    Raises:
        CourseError: ``root`` has no ``nbgrader_config.py``.
    """

    def __init__(self, root: str | os.PathLike, **overrides):
        self.root = Path(root).resolve()
        if not (self.root / CONFIG).is_file():
            raise CourseError(f"{self.root} is not a course directory (no {CONFIG}): "
                              f"create one with `aivle-k8s course init {root}`")
        from traitlets.config.loader import PyFileConfigLoader

        self.config = PyFileConfigLoader(CONFIG, path=str(self.root)).load_config()
        for section, values in overrides.items():
            for key, value in values.items():
                setattr(self.config[section], key, value)
        self._api = None

    @classmethod
    def init(cls, root: str | os.PathLike, *, solutions: str | os.PathLike | None = None,
             timeout: int = 60) -> "Course":
        """Create a course directory whose source folder is ``solutions`` (this kit's, by default).

        Raises:
            CourseError: the directory is already a course, or the solutions folder holds no lab.
        """
        root = Path(root)
        source = Path(solutions) if solutions is not None else default_solutions()
        if not source.is_dir() or not _labs_in(source):
            raise CourseError(f"no labs in {source}: a lab is <lab>/<lab>.ipynb (pass --solutions PATH)")
        if (root / CONFIG).exists():
            raise CourseError(f"{root} is already a course directory ({CONFIG} exists)")
        root.mkdir(parents=True, exist_ok=True)
        (root / CONFIG).write_text(_CONFIG_TEMPLATE.format(source=str(source.resolve()), timeout=int(timeout)))
        for sub in ("submitted", "autograded", "feedback"):
            (root / sub).mkdir(exist_ok=True)
        return cls(root)

    # -- nbgrader -------------------------------------------------------------------
    @property
    def api(self):
        if self._api is None:
            import logging
            import warnings

            _ensure_tools_on_path()
            # nbgrader's known noise on new submissions (FACTS.md): not the instructor's concern
            warnings.filterwarnings("ignore", message=".*not in session.*")
            logging.getLogger("traitlets").setLevel(logging.ERROR)
            from nbgrader.apps import NbGraderAPI

            self._api = NbGraderAPI(config=self.config)
            self._api.log.setLevel(logging.ERROR)
        return self._api

    def _gradebook(self):
        _ensure_tools_on_path()
        from nbgrader.api import Gradebook

        return Gradebook(self.config.CourseDirectory.db_url, "aivle-k8s")

    @property
    def source(self) -> Path:
        return self.root / self.config.CourseDirectory.source_directory

    def labs(self) -> list[str]:
        """Every lab of the course, in order."""
        return _labs_in(self.source)

    def _check_lab(self, lab: str | None) -> list[str]:
        labs = self.labs()
        if lab is None:
            return labs
        if lab not in labs:
            raise CourseError(f"no such lab: {lab!r} (labs: {', '.join(labs) or 'none'})")
        return [lab]

    def _run(self, what: str, result: dict) -> None:
        if not result.get("success"):
            log = (result.get("log") or "").strip().splitlines()
            errors = [line for line in log if line.startswith("[ERROR]")] or log[-5:]
            raise CourseError(f"{what} failed: " + " | ".join(errors or [str(result.get("error", "")).strip()]))

    # -- the flow ---------------------------------------------------------------------
    def release(self, lab: str | None = None, progress: Callable[[str], None] | None = None) -> list[Path]:
        """Generate the student version of each lab into ``release/<lab>/`` (and its gradebook entries)."""
        out = []
        for name in self._check_lab(lab):
            self._run(f"release {name}", self.api.generate_assignment(name, force=True, create=True))
            out.append(self.root / "release" / name / f"{name}.ipynb")
            if progress:
                progress(f"released {name} -> {out[-1].relative_to(self.root)}")
        return out

    def _released(self) -> set[str]:
        with self._gradebook() as gb:
            return {a.name for a in gb.assignments}

    def collect(self, submissions: str | os.PathLike, lab: str | None = None) -> list[tuple[str, str]]:
        """Copy ``<student>/<lab>.ipynb`` files (and each lab's widget journal) into ``submitted/``.

        Also accepts nbgrader's own ``<student>/<lab>/<lab>.ipynb``. Everything is checked before
        anything is copied.

        Returns:
            the ``(student, lab)`` pairs collected, sorted.

        Raises:
            CourseError: no such folder, no notebooks in it, a notebook that is not one of the
                labs (by name or by content), a student folder with an unusable name.
        """
        folder = Path(submissions)
        if not folder.is_dir():
            raise CourseError(f"no such folder: {folder}")
        labs = self._check_lab(lab)
        found: list[tuple[str, str, Path]] = []
        problems: list[str] = []
        notebooks = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        if not notebooks:
            raise CourseError(f"{folder} holds no notebooks: expected <student>/<lab>.ipynb "
                              f"(labs: {', '.join(self.labs())})")
        for nb in notebooks:
            rel = nb.relative_to(folder)
            parts = rel.parts
            if len(parts) == 3 and parts[1] == nb.stem:
                student = parts[0]
            elif len(parts) == 2:
                student = parts[0]
            else:
                problems.append(f"{rel}: expected <student>/<lab>.ipynb")
                continue
            name = nb.stem
            if name not in self.labs():
                problems.append(f"{rel}: not a lab notebook name (labs: {', '.join(self.labs())})")
                continue
            if name not in labs:
                continue
            if student.startswith(".") or not student.strip():
                problems.append(f"{rel}: {student!r} is not a usable student id")
                continue
            why = _not_a_lab(nb, self.source / name / f"{name}.ipynb")
            if why:
                problems.append(f"{rel}: not a {name} notebook ({why})")
                continue
            found.append((student, name, nb))
        if problems:
            raise CourseError("cannot collect: " + "; ".join(problems))
        if not found:
            raise CourseError(f"{folder} holds no submission of {', '.join(labs)}")
        for student, name, nb in found:
            dest = self.root / "submitted" / student / name
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(nb, dest / f"{name}.ipynb")
            journal = nb.parent / f".{name}.journal.jsonl"
            if journal.is_file():
                shutil.copyfile(journal, dest / journal.name)
        return sorted((s, n) for s, n, _ in found)

    def submissions(self, lab: str | None = None) -> list[tuple[str, str]]:
        """The collected ``(student, lab)`` pairs."""
        labs = self._check_lab(lab)
        base = self.root / "submitted"
        pairs = []
        for student in sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []:
            for name in labs:
                if (base / student / name / f"{name}.ipynb").is_file():
                    pairs.append((student, name))
        return pairs

    def autograde(self, lab: str | None = None, progress: Callable[[str], None] | None = None) -> list[Graded]:
        """Autograde every collected submission (releasing a lab first if it never was).

        ``progress`` receives one line per submission: ``[3/40] student07 lab1-containers ... 8/10``.
        A submission nbgrader cannot grade is reported (``... FAILED: reason``) and skipped.
        """
        pairs = self.submissions(lab)
        if not pairs:
            raise CourseError(f"no submissions collected{' for ' + lab if lab else ''}: "
                              f"run `aivle-k8s course collect SUBMISSIONS_DIR` first")
        released = self._released()
        for name in sorted({n for _, n in pairs} - released):
            self.release(name, progress)
        graded = []
        for i, (student, name) in enumerate(pairs, 1):
            result = self.api.autograde(name, student, force=True, create=True)
            head = f"[{i}/{len(pairs)}] {student} {name} ..."
            try:
                self._run(f"autograde {student} {name}", result)
            except CourseError as e:
                if progress:
                    progress(f"{head} FAILED: {e}")
                continue
            score, max_score = self.score(student, name)
            graded.append(Graded(student, name, score, max_score))
            if progress:
                progress(f"{head} {_fmt(score)}/{_fmt(max_score)}")
        return graded

    def score(self, student: str, lab: str) -> tuple[float, float]:
        with self._gradebook() as gb:
            sub = gb.find_submission(lab, student)
            return sub.score, sub.max_score

    def step_scores(self, student: str, lab: str) -> dict[str, float]:
        """Points per test cell (grade_id -> score) of an autograded submission."""
        with self._gradebook() as gb:
            nb = gb.find_submission_notebook(lab, lab, student)
            return {g.name: g.score for g in nb.grades}

    def feedback(self, lab: str | None = None, progress: Callable[[str], None] | None = None) -> list[Path]:
        """HTML feedback for every autograded submission, into ``feedback/<student>/<lab>/``."""
        out = []
        pairs = [(s, n) for s, n in self.submissions(lab) if (self.root / "autograded" / s / n).is_dir()]
        if not pairs:
            raise CourseError("nothing autograded yet: run `aivle-k8s course autograde` first")
        for i, (student, name) in enumerate(pairs, 1):
            self._run(f"feedback {student} {name}", self.api.generate_feedback(name, student, force=True))
            out.append(self.root / "feedback" / student / name / f"{name}.html")
            if progress:
                progress(f"[{i}/{len(pairs)}] {student} {name} -> {out[-1].relative_to(self.root)}")
        return out

    def grades(self) -> list[Graded]:
        """Every autograded submission in the gradebook, sorted by student then lab order."""
        order = {n: i for i, n in enumerate(self.labs())}
        rows = []
        with self._gradebook() as gb:
            for a in gb.assignments:
                for sub in a.submissions:
                    rows.append(Graded(sub.student.id, a.name, sub.score, sub.max_score))
        return sorted(rows, key=lambda r: (r.student, order.get(r.lab, len(order)), r.lab))

    def export(self, path: str | os.PathLike) -> list[Graded]:
        """Write ``student_id,lab,score,max_score`` (one row per autograded submission) to ``path``."""
        rows = self.grades()
        if not rows:
            raise CourseError("no grades yet: run `aivle-k8s course autograde` first")
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["student_id", "lab", "score", "max_score"])
            for r in rows:
                w.writerow([r.student, r.lab, _fmt(r.score), _fmt(r.max_score)])
        return rows


def _labs_in(source: Path) -> list[str]:
    if not source.is_dir():
        return []
    return sorted(p.name for p in source.iterdir() if (p / f"{p.name}.ipynb").is_file())


def _grade_ids(nb: dict) -> set[str]:
    return {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.get("cells", [])} - {None}


def _not_a_lab(path: Path, source: Path) -> str | None:
    """Why ``path`` is not a submission of the lab whose source is ``source`` (None when it is)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        return f"not a readable notebook: {e.__class__.__name__}"
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return "not a Jupyter notebook"
    mine = _grade_ids(nb)
    if not mine:
        return "it has no nbgrader cells: was it made from the released lab?"
    expected = _grade_ids(json.loads(source.read_text(encoding="utf-8")))
    if not mine & expected:
        return "none of its nbgrader cells belong to this lab"
    return None


# -- the command line ----------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aivle-k8s", description="Instructor tools for the aivle_k8s labs.")
    sub = p.add_subparsers(dest="group", required=True)
    course = sub.add_parser("course", help="grade a class with nbgrader", description=__doc__.split("\n\n")[1],
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    cmds = course.add_subparsers(dest="command", required=True)

    def with_dir(sp):
        sp.add_argument("-C", "--course", default=".", metavar="DIR", help="the course directory (default: .)")
        return sp

    init = cmds.add_parser("init", help="create a course directory")
    init.add_argument("dir")
    init.add_argument("--solutions", help="instructor notebooks (default: this kit's solutions/)")
    init.add_argument("--timeout", type=int, default=60, help="seconds a cell may run when grading (default 60)")
    rel = with_dir(cmds.add_parser("release", help="generate the student notebooks into DIR/release/"))
    rel.add_argument("--lab")
    col = with_dir(cmds.add_parser("collect", help="copy <student>/<lab>.ipynb files into DIR/submitted/"))
    col.add_argument("submissions", metavar="SUBMISSIONS_DIR")
    col.add_argument("--lab")
    ag = with_dir(cmds.add_parser("autograde", help="autograde every collected submission"))
    ag.add_argument("--lab")
    fb = with_dir(cmds.add_parser("feedback", help="HTML feedback for every autograded submission"))
    fb.add_argument("--lab")
    ex = with_dir(cmds.add_parser("export", help="write the grades as CSV"))
    ex.add_argument("csv", metavar="grades.csv")
    return p


def main(argv: Iterable[str] | None = None) -> int:
    """Entry point of the ``aivle-k8s`` console script; returns the exit status."""
    args = _parser().parse_args(list(argv) if argv is not None else None)

    def say(line: str) -> None:
        print(line, flush=True)

    try:
        if args.command == "init":
            course = Course.init(args.dir, solutions=args.solutions, timeout=args.timeout)
            say(f"created course {course.root} with labs: {', '.join(course.labs())}")
            return 0
        course = Course(args.course)
        if args.command == "release":
            course.release(args.lab, say)
        elif args.command == "collect":
            pairs = course.collect(args.submissions, args.lab)
            students = sorted({s for s, _ in pairs})
            say(f"collected {len(pairs)} submission(s) from {len(students)} student(s)")
        elif args.command == "autograde":
            graded = course.autograde(args.lab, say)
            total = len(course.submissions(args.lab))
            say(f"autograded {len(graded)}/{total} submission(s)")
            return 0 if len(graded) == total else 1
        elif args.command == "feedback":
            out = course.feedback(args.lab, say)
            say(f"wrote {len(out)} feedback file(s) under {course.root / 'feedback'}")
        elif args.command == "export":
            rows = course.export(args.csv)
            say(f"wrote {len(rows)} row(s) to {args.csv}")
        return 0
    except CourseError as e:
        print(f"aivle-k8s: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
