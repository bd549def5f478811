"""aivle_k8s: containers, Docker and Kubernetes as a faithful, deterministic simulation.

>>> import aivle_k8s as ak
>>> str(ak.parse_reference("nginx"))
'docker.io/library/nginx:latest'
"""

from __future__ import annotations

from . import engine as _engine  # noqa: F401  (registers docker, dockerd, containerd and their package hooks)
from . import linux as _linux  # noqa: F401  (registers the shell and core programs)
from .machines import Machine, ShellResult
from .sim.errors import *  # noqa: F401,F403
from .sim.errors import __all__ as _errors_all
from .world import World

__version__ = "0.1.0"


def __getattr__(name: str):
    # the image reference parser is imported on first use to keep `import aivle_k8s` fast
    if name in ("parse_reference", "Reference"):
        from .images import reference

        return getattr(reference, name)
    raise AttributeError(f"module 'aivle_k8s' has no attribute {name!r}")


__all__ = ["World", "Machine", "ShellResult", "parse_reference", "Reference", *_errors_all]
