"""TaintToleration: NoSchedule / NoExecute taints keep pods off unless tolerated;
PreferNoSchedule taints only lower the score.

Filter: the first untolerated hard taint rejects the node with
``node(s) had untolerated taint {key: value}`` (UnschedulableAndUnresolvable).
Score: the number of PreferNoSchedule taints not tolerated (by tolerations with
effect PreferNoSchedule or no effect), normalized *reversed*: fewer is better.

>>> from aivle_k8s.cluster.scheduler.cache import NodeInfo, PodInfo
>>> cp = NodeInfo({"metadata": {"name": "cp"}, "spec": {"taints": [
...     {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]}})
>>> TaintToleration().filter(None, PodInfo({"metadata": {"name": "p"}, "spec": {"containers": []}}), cp)
<Status UnschedulableAndUnresolvable TaintToleration: node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }>
"""

from __future__ import annotations

from ..cache import NodeInfo, PodInfo
from ..framework import Code, CycleState, FilterPlugin, PreScorePlugin, ScorePlugin, Status
from .helpers import find_untolerated, tolerates

PRE_SCORE_KEY = "PreScoreTaintToleration"


class TaintToleration(FilterPlugin, PreScorePlugin, ScorePlugin):
    name = "TaintToleration"
    node_local = True
    normalize = "default-reverse"

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if not node.hard_taints:
            return None
        taint = find_untolerated(node.hard_taints, pod.tolerations)
        if taint is None:
            return None
        key, value, _ = taint
        return Status(Code.UnschedulableAndUnresolvable, f"node(s) had untolerated taint {{{key}: {value}}}",
                      plugin=self.name)

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list) -> Status | None:
        state[PRE_SCORE_KEY] = tuple(t for t in pod.tolerations if t[3] in ("", "PreferNoSchedule"))
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        if not node.soft_taints:
            return 0
        tolerations = state[PRE_SCORE_KEY]
        return sum(1 for taint in node.soft_taints if not tolerates(tolerations, *taint))
