"""Course widgets (the only layer that imports ipywidgets) and the action journal.

>>> from aivle_k8s.widgets import Journal          # no ipywidgets import for the journal
>>> Journal("/tmp/x.jsonl").path.name
'x.jsonl'

The widgets (``DockerPlayground``, ``ClusterBuilder``, ``ClusterView``, ``RequestTracer``,
``SchedulerExplainer``) and ``ActionWidget`` are imported on first use.
"""

from __future__ import annotations

from .journal import Journal, JournalReplayError, journal_path

__all__ = ["Journal", "JournalReplayError", "journal_path", "ActionWidget", "ActionOutcome", "DockerPlayground",
           "ClusterBuilder", "ClusterView", "RequestTracer", "SchedulerExplainer", "autograding"]

_LAZY = {
    "DockerPlayground": "docker_playground",
    "ClusterBuilder": "cluster_builder",
    "ClusterView": "cluster_view",
    "RequestTracer": "request_tracer",
    "SchedulerExplainer": "scheduler_explainer",
}


def __getattr__(name: str):
    if name in ("ActionWidget", "ActionOutcome", "autograding", "hint_for"):
        from . import base

        return getattr(base, name)
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'aivle_k8s.widgets' has no attribute {name!r}")
