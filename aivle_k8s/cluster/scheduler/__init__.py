"""kube-scheduler, simulated: the scheduling framework and its default plugins over real Kubernetes JSON.

The pieces, from the bottom up:

- :mod:`.quantity` parses ``250m`` / ``64Mi`` / ``1e3`` exactly.
- :mod:`.cache`: :class:`PodInfo`, :class:`NodeInfo` (a node and its pods'
  requests, ports, images) and the :class:`Cache` of all nodes.
- :mod:`.framework`: :class:`Status`, plugin base classes per extension point,
  :class:`Profile` (the default one has the real plugins and weights),
  :class:`Framework` (one cycle: ``schedule_one``), :class:`Diagnosis` (the
  exact ``0/N nodes are available: ...`` message) and :func:`explain`.
- :mod:`.plugins`: one file per plugin, named as the real ones.
- :class:`Scheduler`: queue + cache + framework; ``schedule(pods)`` returns bindings.

Faithful to Kubernetes v1.33's scheduler (from v1.34 the taint reason reads
``node(s) had untolerated taint(s)`` and the DRA plugin adds ``no new claims to
deallocate,`` before ``preemption:``).

>>> from aivle_k8s.cluster.scheduler import Scheduler
>>> s = Scheduler([{"metadata": {"name": "w1"}, "status": {"allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"}}}])
>>> [node for _, node, _ in s.schedule([{"metadata": {"name": "web"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}])]
['w1']
"""

from __future__ import annotations

from .cache import Cache, ImageStateSummary, NodeInfo, PodInfo
from .framework import (
    BindPlugin, Code, CycleState, Diagnosis, Explanation, ExplainRow, FilterPlugin, FitError, Framework, Plugin,
    PostFilterPlugin, PostFilterResult, PreFilterPlugin, PreFilterResult, PreScorePlugin, Profile, QueueSortPlugin,
    ReservePlugin, ScheduleResult, ScorePlugin, Status, default_profile, explain, fit_error_message,
    num_feasible_nodes_to_find,
)
from .quantity import cpu_millis, format_bytes, format_cpu, parse_quantity, to_int
from .scheduler import Scheduler, SchedulingQueue

__all__ = [
    "Scheduler", "SchedulingQueue", "Framework", "Profile", "default_profile", "ScheduleResult", "Diagnosis",
    "FitError", "explain", "Explanation", "ExplainRow", "fit_error_message", "num_feasible_nodes_to_find",
    "Code", "Status", "CycleState", "PreFilterResult", "PostFilterResult",
    "Plugin", "QueueSortPlugin", "PreFilterPlugin", "FilterPlugin", "PostFilterPlugin", "PreScorePlugin",
    "ScorePlugin", "ReservePlugin", "BindPlugin",
    "Cache", "NodeInfo", "PodInfo", "ImageStateSummary",
    "parse_quantity", "cpu_millis", "to_int", "format_cpu", "format_bytes",
]
