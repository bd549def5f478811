"""Step checks with actionable feedback (used by the labs' test cells; no Jupyter import).

>>> import aivle_k8s as ak
>>> from aivle_k8s.grading import check
>>> world = ak.World(seed=0); _ = world.machine("host")
>>> print(check("lab1", "install_docker", world=world))
✘ lab1/install_docker: not yet
  - Docker is not installed on host: run host.sh("sudo apt-get install -y docker.io") in the cell above
"""

from __future__ import annotations

from .core import CheckFailed, Context, Feedback, all_checks, assert_step, check, registered, step, steps

__all__ = ["check", "assert_step", "all_checks", "Feedback", "Context", "CheckFailed", "step", "steps",
           "registered"]
