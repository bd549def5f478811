"""DefaultPreemption: when a pod fits nowhere, could evicting lower-priority pods make room?

Only nodes rejected with ``Unschedulable`` (e.g. ``Insufficient cpu``) are
candidates; ``UnschedulableAndUnresolvable`` ones (taints, selectors) cannot be
helped. On each candidate every pod of lower priority is removed, the filters
run again, then as many victims as possible are put back (most important
first). The message of a failure reads like the real one::

    preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling,
    2 No preemption victims found for incoming pod.

On success the pod is *nominated* to the best candidate (fewest and least
important victims); evicting the victims is the caller's job. Left out:
PodDisruptionBudgets, and victims' effect on other plugins' PreFilter state.
"""

from __future__ import annotations

from ..cache import NodeInfo, PodInfo
from ..framework import (Code, CycleState, Diagnosis, PostFilterPlugin, PostFilterResult, Status,
                         fit_error_message)

NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
MIN_CANDIDATE_NODES_PERCENTAGE = 10
MIN_CANDIDATE_NODES_ABSOLUTE = 100
_NO_VICTIMS = Status(Code.UnschedulableAndUnresolvable, NO_VICTIMS)  # shared: never mutated


def _num_candidates(n: int) -> int:
    return min(n, max(n * MIN_CANDIDATE_NODES_PERCENTAGE // 100, MIN_CANDIDATE_NODES_ABSOLUTE))


class DefaultPreemption(PostFilterPlugin):
    name = "DefaultPreemption"

    def post_filter(self, state: CycleState, pod: PodInfo, diagnosis: Diagnosis, framework):
        if pod.preemption_policy == "Never":
            return None, Status(Code.Unschedulable, "preemption: not eligible due to preemptionPolicy=Never.",
                                plugin=self.name)
        nodes = state.snapshot.nodes
        absent = Status(Code.UnschedulableAndUnresolvable, NOT_HELPFUL)
        known = diagnosis.node_to_status.get
        potential = [ni for ni in nodes if (st := known(ni.name)) is not None and st.code == Code.Unschedulable]
        statuses: dict[str, Status] = {}
        candidates: list[tuple[str, list[PodInfo]]] = []
        if potential:
            offset = framework.rng.randrange(len(potential))
            want = _num_candidates(len(potential))
            for k in range(len(potential)):
                ni = potential[(offset + k) % len(potential)]
                victims, st = self.select_victims(state, pod, ni, framework)
                if st is None:
                    candidates.append((ni.name, victims))
                    if len(candidates) >= want:
                        break
                else:
                    statuses[ni.name] = st
        if not candidates:
            msg = fit_error_message(len(nodes), statuses.values(), absent=(len(nodes) - len(statuses), absent))
            return PostFilterResult(""), Status(Code.Unschedulable, "preemption: " + msg, plugin=self.name)
        name, victims = min(candidates, key=_candidate_key)
        return PostFilterResult(name, victims), Status(Code.Success, plugin=self.name)

    def select_victims(self, state: CycleState, pod: PodInfo, node: NodeInfo, framework):
        """The fewest lower-priority pods whose eviction lets ``pod`` pass every filter on ``node``."""
        lowest = node._memo.get("lowest priority")
        if lowest is None:
            lowest = node._memo["lowest priority"] = min((p.priority for p in node.pods.values()), default=2**31)
        potential = [p for p in node.pods.values() if p.priority < pod.priority] if lowest < pod.priority else []
        if not potential:
            return None, _NO_VICTIMS
        trial = node.clone()
        for p in potential:
            trial.remove_pod(p.key)
        st = framework.run_filter_plugins(state, pod, trial)
        if st is not None:
            return None, st
        potential.sort(key=lambda p: -p.priority)  # reprieve the most important first
        victims = []
        for p in potential:
            trial.add_pod(p)
            if framework.run_filter_plugins(state, pod, trial) is not None:
                trial.remove_pod(p.key)
                victims.append(p)
        return victims, None


def _candidate_key(candidate: tuple[str, list[PodInfo]]) -> tuple:
    _, victims = candidate
    highest = max((v.priority for v in victims), default=-(2**31))
    total = sum(v.priority + 2**31 for v in victims)
    return (highest, total, len(victims))
