"""NodeAffinity: ``spec.nodeSelector`` and ``nodeAffinity`` (required filters, preferred scores).

- PreFilter: Skip when the pod has neither; narrows the nodes when every required
  term names nodes with ``matchFields metadata.name In`` (DaemonSet pods do this),
  and rejects the pod (``pod affinity terms conflict``) when those names cancel out.
- Filter: the node must carry every ``nodeSelector`` label and match one required
  term, else ``node(s) didn't match Pod's node affinity/selector``.
- Score: the sum of the weights of the preferred terms the node matches,
  normalized to 0..100 (best node 100).

>>> from aivle_k8s.cluster.scheduler.cache import NodeInfo, PodInfo
>>> from aivle_k8s.cluster.scheduler.framework import CycleState
>>> pod = PodInfo({"metadata": {"name": "p"}, "spec": {"nodeSelector": {"disktype": "ssd"}, "containers": []}})
>>> state = CycleState(None); _ = NodeAffinity().pre_filter(state, pod)
>>> NodeAffinity().filter(state, pod, NodeInfo({"metadata": {"name": "w1", "labels": {"disktype": "hdd"}}}))
<Status UnschedulableAndUnresolvable NodeAffinity: node(s) didn't match Pod's node affinity/selector>
"""

from __future__ import annotations

from ..cache import NodeInfo, PodInfo
from ..framework import (SKIP, Code, CycleState, FilterPlugin, PreFilterPlugin, PreFilterResult, PreScorePlugin,
                         ScorePlugin, Status)
from .helpers import match_term, match_terms, node_selector_matches

ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector"
ERR_REASON_CONFLICT = "pod affinity terms conflict"
PRE_FILTER_KEY = "PreFilterNodeAffinity"
PRE_SCORE_KEY = "PreScoreNodeAffinity"


def _node_affinity(pod: PodInfo) -> dict:
    return pod.affinity.get("nodeAffinity") or {}


def required_matches(pod: PodInfo, node: NodeInfo) -> bool:
    """``GetRequiredNodeAffinity(pod).Match(node)``: nodeSelector and required terms."""
    if pod.node_selector and not node_selector_matches(pod.node_selector, node.labels):
        return False
    required = _node_affinity(pod).get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is not None:
        return match_terms(required.get("nodeSelectorTerms") or (), node.name, node.labels)
    return True


class NodeAffinity(PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin):
    name = "NodeAffinity"
    node_local = True
    normalize = "default"

    def pre_filter(self, state: CycleState, pod: PodInfo):
        required = _node_affinity(pod).get("requiredDuringSchedulingIgnoredDuringExecution")
        if required is None and not pod.node_selector:
            return SKIP
        terms = (required or {}).get("nodeSelectorTerms") or ()
        state[PRE_FILTER_KEY] = (pod.node_selector, required is not None, terms)
        if required is None or not terms:
            return None
        names: set | None = None
        for term in terms:
            term_names: set | None = None
            for req in term.get("matchFields") or ():
                if req.get("key") == "metadata.name" and req.get("operator") == "In":
                    values = set(req.get("values") or ())
                    term_names = values if term_names is None else term_names & values
            if term_names is None:
                return None  # this term may match any node: terms are ORed
            names = term_names if names is None else names | term_names
        if names is not None and not names:
            return Status(Code.UnschedulableAndUnresolvable, ERR_REASON_CONFLICT, plugin=self.name)
        return PreFilterResult(names) if names else None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        selector, has_required, terms = state[PRE_FILTER_KEY]
        if selector and not node_selector_matches(selector, node.labels):
            return Status(Code.UnschedulableAndUnresolvable, ERR_REASON_POD, plugin=self.name)
        if has_required and not match_terms(terms, node.name, node.labels):
            return Status(Code.UnschedulableAndUnresolvable, ERR_REASON_POD, plugin=self.name)
        return None

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list) -> Status | None:
        preferred = _node_affinity(pod).get("preferredDuringSchedulingIgnoredDuringExecution")
        if preferred is None:
            return SKIP
        state[PRE_SCORE_KEY] = tuple((t.get("weight") or 0, t.get("preference") or {})
                                     for t in preferred if t.get("weight"))
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        return sum(w for w, term in state[PRE_SCORE_KEY] if match_term(term, node.name, node.labels))
