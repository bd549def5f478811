"""nbgrader configuration for the course authors (this repository).

nbgrader's *source* folder is ``solutions/`` (instructor notebooks with solution
markers and hidden tests, committed executed) and its *release* folder is ``labs/``
(what students open, generated and committed). Layout, as nbgrader expects it:

    solutions/<lab>/<lab>.ipynb  ->  labs/<lab>/<lab>.ipynb

Regenerate ``labs/`` with ``python scripts/build_labs.py`` (``--check`` in CI).
Instructors grading a class use ``aivle-k8s course init DIR`` instead, which writes
its own ``nbgrader_config.py`` into the course directory.
"""

import os
import tempfile

c = get_config()  # noqa: F821  (injected by traitlets)

ROOT = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.root = ROOT
c.CourseDirectory.course_id = "aivle-k8s"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "labs"
# The authors' gradebook is scratch state: keep it out of the repository.
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(tempfile.gettempdir(), f"aivle_k8s-gradebook-{os.getuid()}.db")

# Every lab runs top to bottom in under 5 s; a cell still running after this is a student's endless loop.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
c.ClearSolutions.enforce_metadata = True
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"
c.ClearHiddenTests.enforce_metadata = True

# A student who deletes a test cell gets it back (and scores 0 on it) instead of escaping it.
c.OverwriteCells.add_missing_cells = True
