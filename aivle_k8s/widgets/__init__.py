"""Course widgets (the only layer that imports ipywidgets) and the action journal.

>>> from aivle_k8s.widgets import Journal          # no ipywidgets import for the journal
>>> Journal("/tmp/x.jsonl").path.name
'x.jsonl'

``DockerPlayground`` and ``ActionWidget`` are imported on first use.
"""

from __future__ import annotations

from .journal import Journal, JournalReplayError, journal_path

__all__ = ["Journal", "JournalReplayError", "journal_path", "ActionWidget", "ActionOutcome", "DockerPlayground",
           "autograding"]


def __getattr__(name: str):
    if name in ("ActionWidget", "ActionOutcome", "autograding", "hint_for"):
        from . import base

        return getattr(base, name)
    if name == "DockerPlayground":
        from .docker_playground import DockerPlayground

        return DockerPlayground
    raise AttributeError(f"module 'aivle_k8s.widgets' has no attribute {name!r}")
