"""PodTopologySpread: spread matching pods evenly over zones, hosts... (``topologySpreadConstraints``).

For each constraint, matching pods (same namespace, ``labelSelector`` plus
``matchLabelKeys``) are counted per topology domain (the node label
``topologyKey``) over the eligible nodes: those with every constraint's key and,
by default, matching the pod's own node affinity/selector
(``nodeAffinityPolicy: Honor``; ``nodeTaintsPolicy: Honor`` also drops nodes
with untolerated taints).

- Filter (``whenUnsatisfiable: DoNotSchedule``): on the node's domain,
  ``matching + (1 if the pod matches itself) - global minimum <= maxSkew``,
  else ``node(s) didn't match pod topology spread constraints``; a node without
  the key: ``... (missing required label)``. Fewer domains than ``minDomains``
  makes the global minimum 0.
- Score (``ScheduleAnyway``): ``sum(count * log(domains + 2) + maxSkew - 1)``,
  normalized so the least crowded node gets 100.

Left out: the system default constraints (a pod without constraints is not
spread by this plugin), and preemption does not recount victims.
"""

from __future__ import annotations

import json
import math

from ..cache import NodeInfo, PodInfo
from ..framework import (SKIP, Code, CycleState, FilterPlugin, PreFilterPlugin, PreScorePlugin, ScorePlugin,
                         Status)
from .helpers import MAX_NODE_SCORE, find_untolerated, label_selector
from .node_affinity import required_matches

ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints"
ERR_REASON_NODE_LABEL_NOT_MATCH = ERR_REASON_CONSTRAINTS_NOT_MATCH + " (missing required label)"
LABEL_HOSTNAME = "kubernetes.io/hostname"
PRE_FILTER_KEY = "PreFilterPodTopologySpread"
PRE_SCORE_KEY = "PreScorePodTopologySpread"


class Constraint:
    __slots__ = ("max_skew", "key", "matches", "selector_key", "min_domains", "honor_affinity", "honor_taints")

    def __init__(self, c: dict, pod: PodInfo):
        selector = c.get("labelSelector")
        keys = [k for k in c.get("matchLabelKeys") or () if k in pod.labels]
        if keys and selector is not None:
            selector = {**selector, "matchExpressions": list(selector.get("matchExpressions") or ())
                        + [{"key": k, "operator": "In", "values": [pod.labels[k]]} for k in keys]}
        self.max_skew = c.get("maxSkew") or 1
        self.key = c.get("topologyKey", "")
        self.matches = label_selector(selector)
        self.selector_key = json.dumps(selector, sort_keys=True)
        self.min_domains = c.get("minDomains") or 0
        self.honor_affinity = (c.get("nodeAffinityPolicy") or "Honor") == "Honor"
        self.honor_taints = (c.get("nodeTaintsPolicy") or "Ignore") == "Honor"

    def includes(self, pod: PodInfo, node: NodeInfo) -> bool:
        if self.honor_affinity and not required_matches(pod, node):
            return False
        if self.honor_taints and node.hard_taints and find_untolerated(node.hard_taints, pod.tolerations):
            return False
        return True

    def count(self, node: NodeInfo, namespace: str) -> int:
        """Matching pods on the node (memoized until the node's pods change)."""
        memo_key = (self.selector_key, namespace)
        n = node._memo.get(memo_key)
        if n is None:
            matches = self.matches
            n = sum(1 for p in node.pods.values()
                    if p.namespace == namespace and not (p.pod.get("metadata") or {}).get("deletionTimestamp")
                    and matches(p.labels))
            node._memo[memo_key] = n
        return n


def constraints(pod: PodInfo, when: str) -> list[Constraint]:
    return [Constraint(c, pod) for c in pod.spread if (c.get("whenUnsatisfiable") or "DoNotSchedule") == when]


def _has_keys(labels: dict, cs: list[Constraint]) -> bool:
    return all(c.key in labels for c in cs)


class PodTopologySpread(PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin):
    name = "PodTopologySpread"
    node_local = False
    normalize = "custom"

    def pre_filter(self, state: CycleState, pod: PodInfo):
        cs = constraints(pod, "DoNotSchedule")
        if not cs:
            return SKIP
        counts: dict[tuple[str, str], int] = {}
        for ni in state.snapshot.nodes:
            if not _has_keys(ni.labels, cs):
                continue
            for c in cs:
                if not c.includes(pod, ni):
                    continue
                pair = (c.key, ni.labels[c.key])
                counts[pair] = counts.get(pair, 0) + c.count(ni, pod.namespace)
        minimum: dict[str, int] = {}
        domains: dict[str, int] = {}
        for (key, _), n in counts.items():
            domains[key] = domains.get(key, 0) + 1
            if n < minimum.get(key, n + 1):
                minimum[key] = n
        state[PRE_FILTER_KEY] = (cs, counts, minimum, domains)
        return None

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        cs, counts, minimum, domains = state[PRE_FILTER_KEY]
        for c in cs:
            value = node.labels.get(c.key)
            if value is None:
                return Status(Code.UnschedulableAndUnresolvable, ERR_REASON_NODE_LABEL_NOT_MATCH, plugin=self.name)
            if c.key not in minimum:
                continue  # no eligible domain at all: nothing to be skewed against
            global_min = 0 if domains.get(c.key, 0) < c.min_domains else minimum[c.key]
            self_match = 1 if c.matches(pod.labels) else 0
            if counts.get((c.key, value), 0) + self_match - global_min > c.max_skew:
                return Status(Code.Unschedulable, ERR_REASON_CONSTRAINTS_NOT_MATCH, plugin=self.name)
        return None

    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list) -> Status | None:
        cs = constraints(pod, "ScheduleAnyway")
        if not cs or not len(state.snapshot):
            return SKIP
        ignored = {ni.name for ni in nodes if not _has_keys(ni.labels, cs)}
        per_value: list[dict[str, int]] = [{} for _ in cs]
        for ni in nodes:
            if ni.name in ignored:
                continue
            for i, c in enumerate(cs):
                if c.key != LABEL_HOSTNAME:
                    per_value[i].setdefault(ni.labels[c.key], 0)
        weights = []
        for i, c in enumerate(cs):
            size = len(nodes) - len(ignored) if c.key == LABEL_HOSTNAME else len(per_value[i])
            weights.append(math.log(size + 2))
        for ni in state.snapshot.nodes:
            if not _has_keys(ni.labels, cs):
                continue
            for i, c in enumerate(cs):
                if c.key == LABEL_HOSTNAME or not c.includes(pod, ni):
                    continue
                value = ni.labels[c.key]
                if value in per_value[i]:
                    per_value[i][value] += c.count(ni, pod.namespace)
        state[PRE_SCORE_KEY] = (cs, ignored, per_value, weights)
        return None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        cs, ignored, per_value, weights = state[PRE_SCORE_KEY]
        if node.name in ignored:
            return 0
        score = 0.0
        for i, c in enumerate(cs):
            value = node.labels.get(c.key)
            if value is None:
                continue
            n = c.count(node, pod.namespace) if c.key == LABEL_HOSTNAME else per_value[i][value]
            score += n * weights[i] + (c.max_skew - 1)
        return int(math.floor(score + 0.5))

    def normalize_score(self, state: CycleState, pod: PodInfo, nodes: list, scores: list[int]) -> None:
        _, ignored, _, _ = state[PRE_SCORE_KEY]
        valid = [s for ni, s in zip(nodes, scores) if ni.name not in ignored]
        lo, hi = (min(valid), max(valid)) if valid else (0, 0)
        for i, ni in enumerate(nodes):
            if ni.name in ignored:
                scores[i] = 0
            elif hi == 0:
                scores[i] = MAX_NODE_SCORE
            else:
                scores[i] = MAX_NODE_SCORE * (hi + lo - scores[i]) // hi
