"""The scheduling cycle, its messages and the Scheduler façade."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aivle_k8s.cluster.scheduler import (Cache, Code, CycleState, FitError, Framework, PodInfo, Scheduler, Status,
                                         default_profile, explain, fit_error_message, num_feasible_nodes_to_find)
from aivle_k8s.cluster.scheduler.quantity import cpu_millis, to_int

CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def node(name, cpu="2", memory="4Gi", pods="110", labels=None, taints=None, zone=None):
    labels = {"kubernetes.io/hostname": name, **(labels or {})}
    if zone:
        labels["topology.kubernetes.io/zone"] = zone
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
            "spec": {"taints": taints or []},
            "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": pods}}}


def control_plane(name="cp", **kw):
    return node(name, labels={"node-role.kubernetes.io/control-plane": ""}, taints=[CONTROL_PLANE_TAINT], **kw)


def pod(name, cpu=None, memory=None, priority=None, namespace="default", labels=None, **spec):
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    p = {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{namespace}-{name}", "labels": labels or {}},
         "spec": {"containers": [{"name": "app", "image": "nginx:1.25",
                                  "resources": {"requests": requests} if requests else {}}], **spec}}
    if priority is not None:
        p["spec"]["priority"] = priority
    return p


def cluster_of_three():
    """kubeadm's picture: a tainted control plane and two workers with 1 CPU each."""
    return [control_plane(), node("worker-1", cpu="1"), node("worker-2", cpu="1")]


# -- the FailedScheduling message ------------------------------------------------
def test_mixed_reasons_give_the_real_message_with_the_preemption_suffix():
    result = Framework().schedule_one(pod("big", cpu="1500m"), Cache(cluster_of_three()))
    assert result.node is None
    assert result.message == (
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        "2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, "
        "2 No preemption victims found for incoming pod.")


def test_without_preemption_the_message_stops_after_the_filter_reasons():
    fw = Framework(default_profile(preemption=False))
    result = fw.schedule_one(pod("big", cpu="1500m"), Cache(cluster_of_three()))
    assert result.message == ("0/3 nodes are available: 1 node(s) had untolerated taint "
                              "{node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu.")


def test_reasons_are_sorted_as_strings_after_their_counts():
    statuses = ([Status(Code.Unschedulable, "Insufficient cpu")] * 10
                + [Status(Code.UnschedulableAndUnresolvable, "node(s) were unschedulable")] * 2)
    assert fit_error_message(12, statuses) == (
        "0/12 nodes are available: 10 Insufficient cpu, 2 node(s) were unschedulable.")


def test_a_node_short_of_two_resources_counts_once_per_reason():
    nodes = [node("w1", cpu="1", memory="1Gi")]
    result = Framework(default_profile(preemption=False)).schedule_one(pod("p", cpu="2", memory="2Gi"), Cache(nodes))
    assert result.message == "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory."


def test_node_affinity_narrowing_reports_the_other_nodes_as_not_satisfying_the_plugin():
    # a DaemonSet pod pinned to w1 (matchFields metadata.name), and w1 is full
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["w1"]}]}]}}}
    nodes = [node("w1", cpu="1"), node("w2"), node("w3"), node("w4")]
    result = Framework().schedule_one(pod("ds", cpu="2", affinity=affinity), Cache(nodes))
    assert result.message == (
        "0/4 nodes are available: 1 Insufficient cpu, 3 node(s) didn't satisfy plugin(s) [NodeAffinity]. "
        "preemption: 0/4 nodes are available: 1 No preemption victims found for incoming pod, "
        "3 Preemption is not helpful for scheduling.")


def test_a_prefilter_rejection_replaces_the_per_node_reasons():
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["w1"]},
                         {"key": "metadata.name", "operator": "In", "values": ["w2"]}]}]}}}
    result = Framework().schedule_one(pod("p", affinity=affinity), Cache([node("w1"), node("w2")]))
    assert result.message == ("0/2 nodes are available: pod affinity terms conflict. preemption: "
                              "0/2 nodes are available: 2 Preemption is not helpful for scheduling.")


def test_no_nodes_at_all():
    result = Framework().schedule_one(pod("p"), Cache())
    assert result.node is None and result.message == "no nodes available to schedule pods"


def test_a_pod_that_may_not_preempt_says_so():
    result = Framework().schedule_one(pod("p", cpu="4", preemptionPolicy="Never"), Cache([node("w1")]))
    assert result.message == ("0/1 nodes are available: 1 Insufficient cpu. "
                              "preemption: not eligible due to preemptionPolicy=Never.")


def test_raise_for_status_raises_a_fit_error_with_the_message():
    result = Framework().schedule_one(pod("p", cpu="4"), Cache([node("w1")]))
    with pytest.raises(FitError) as err:
        result.raise_for_status()
    assert str(err.value) == result.message and err.value.diagnosis is result.diagnosis


# -- preemption ------------------------------------------------------------------
def test_preemption_nominates_a_node_and_names_the_fewest_victims():
    cache = Cache([node("w1", cpu="2")], [
        {**pod("low-a", cpu="1", priority=0), "spec": {**pod("low-a", cpu="1")["spec"], "nodeName": "w1"}},
        {**pod("low-b", cpu="1", priority=0), "spec": {**pod("low-b", cpu="1")["spec"], "nodeName": "w1"}},
    ])
    result = Framework().schedule_one(pod("urgent", cpu="1", priority=1000), cache)
    assert result.node is None
    assert result.nominated_node == "w1"
    assert [v.name for v in result.victims] in (["low-a"], ["low-b"])
    assert result.message == "0/1 nodes are available: 1 Insufficient cpu."


def test_a_nominated_pod_goes_to_its_node_once_the_victims_are_gone():
    sched = Scheduler([node("w1", cpu="1"), node("w2", cpu="1")])
    sched.add_pod({**pod("low", cpu="1", priority=0), "spec": {**pod("low", cpu="1")["spec"], "nodeName": "w2"}})
    sched.add_pod({**pod("low2", cpu="1", priority=0), "spec": {**pod("low2", cpu="1")["spec"], "nodeName": "w1"}})
    [(_, node_name, result)] = sched.schedule([pod("urgent", cpu="1", priority=100)])
    assert node_name is None and result.victims
    for victim in result.victims:          # the caller evicts the victims; the watch reports the deletions
        sched.remove_pod(victim.key)
    [(_, node_name, _)] = sched.schedule()
    assert node_name == result.nominated_node


# -- scoring and selection ----------------------------------------------------------
def test_weights_combine_the_normalized_plugin_scores():
    soft = {"key": "spot", "value": "true", "effect": "PreferNoSchedule"}
    nodes = [node("spot", cpu="4", memory="8Gi", taints=[soft]), node("busy", cpu="4", memory="8Gi")]
    cache = Cache(nodes, [{**pod("x", cpu="3", memory="6Gi"),
                           "spec": {**pod("x", cpu="3", memory="6Gi")["spec"], "nodeName": "busy"}}])
    result = Framework().schedule_one(pod("p", cpu="500m", memory="1Gi"), cache)
    s = result.scores
    # spot: TaintToleration 0 (one untolerated soft taint), fit (3500/4000 -> 87, 7/8 -> 87) 87, balanced 100
    assert s["spot"] == {"TaintToleration": 0, "NodeResourcesFit": 87, "NodeResourcesBalancedAllocation": 100,
                         "ImageLocality": 0}
    assert s["busy"] == {"TaintToleration": 100, "NodeResourcesFit": 12, "NodeResourcesBalancedAllocation": 100,
                         "ImageLocality": 0}
    assert result.totals == {"spot": 3 * 0 + 87 + 100 + 0, "busy": 3 * 100 + 12 + 100 + 0}
    assert result.node == "busy" and result.total == 412     # weight 3 on TaintToleration wins


def test_node_selector_places_the_pod_on_the_labelled_node():
    nodes = [node("w1"), node("w2", labels={"disktype": "ssd"}), node("w3")]
    result = Framework().schedule_one(pod("db", nodeSelector={"disktype": "ssd"}), Cache(nodes))
    assert result.node == "w2" and result.scores is None    # one feasible node: no scoring


def test_a_toleration_opens_the_control_plane():
    tol = [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}]
    result = Framework().schedule_one(pod("agent", cpu="1500m", tolerations=tol), Cache(cluster_of_three()))
    assert result.node == "cp"


def test_ties_are_broken_by_the_seeded_rng():
    nodes = [node(f"w{i}") for i in range(8)]
    picks = {Framework(rng=random.Random(seed)).schedule_one(pod("p"), Cache(nodes)).node for seed in range(20)}
    assert len(picks) > 1


def test_same_seed_same_placements():
    def run(seed):
        rng = random.Random(42)
        nodes = [node(f"w{i}", cpu=str(rng.choice([2, 4])), zone="ab"[i % 2]) for i in range(20)]
        pods = [pod(f"p{i}", cpu=f"{rng.choice([100, 250, 500])}m", memory=f"{rng.choice([64, 128])}Mi")
                for i in range(100)]
        return [n for _, n, _ in Scheduler(nodes, seed=seed).schedule(pods)]
    assert run(7) == run(7)
    assert run(7) != run(8)


# -- sampling (percentageOfNodesToScore) ----------------------------------------------
@pytest.mark.parametrize("nodes, found", [(5, 5), (99, 99), (100, 100), (500, 230), (1000, 420), (2500, 750),
                                          (5000, 500), (6000, 300), (15000, 750)])
def test_adaptive_percentage_of_nodes_to_score(nodes, found):
    assert num_feasible_nodes_to_find(nodes) == found


def test_an_explicit_percentage_is_still_at_least_100_nodes():
    assert num_feasible_nodes_to_find(1000, 5) == 100
    assert num_feasible_nodes_to_find(1000, 50) == 500


def test_a_cycle_stops_after_enough_feasible_nodes_and_the_next_starts_after_them():
    cache = Cache([node(f"w{i:03d}") for i in range(300)])        # 300 nodes: 50 - 300/125 = 48 % -> 144
    fw = Framework(detail=False)
    first = fw.schedule_one(pod("a"), cache)
    assert first.evaluated == 144 and len(first.feasible) == 144
    assert fw.next_start_node_index == 144
    second = fw.schedule_one(pod("b"), cache)
    assert second.feasible[0] == "w144"
    assert fw.next_start_node_index == 288


def test_the_node_order_interleaves_zones():
    nodes = [node("a1", zone="a"), node("a2", zone="a"), node("a3", zone="a"), node("b1", zone="b"),
             node("c1", zone="c"), node("b2", zone="b")]
    assert [ni.name for ni in Cache(nodes).nodes] == ["a1", "b1", "c1", "a2", "b2", "a3"]


# -- batching gives the same decisions -----------------------------------------------
def _workload(seed, n_nodes=30, n_pods=300):
    rng = random.Random(seed)
    soft = {"key": "spot", "value": "true", "effect": "PreferNoSchedule"}
    nodes = []
    for i in range(n_nodes):
        taints = [soft] if rng.random() < 0.2 else []
        if rng.random() < 0.1:
            taints.append({"key": "dedicated", "value": "gpu", "effect": "NoSchedule"})
        n = node(f"n{i:02d}", cpu=rng.choice(["1", "2", "4"]), memory=rng.choice(["2Gi", "4Gi"]),
                 pods=rng.choice(["5", "110"]), zone="abc"[i % 3], taints=taints,
                 labels={"disk": rng.choice(["ssd", "hdd"])})
        if rng.random() < 0.3:
            n["status"]["images"] = [{"names": ["nginx:1.25"], "sizeBytes": 300 * 2**20}]
        nodes.append(n)
    shapes = []
    for _ in range(6):
        spec = {}
        if rng.random() < 0.3:
            spec["nodeSelector"] = {"disk": "ssd"}
        if rng.random() < 0.3:
            spec["tolerations"] = [{"key": "dedicated", "operator": "Exists"}]
        if rng.random() < 0.3:
            spec["affinity"] = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 50, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["hdd"]}]}}]}}
        shapes.append((rng.choice([None, "100m", "300m", "700m"]), rng.choice([None, "64Mi", "512Mi"]), spec))
    pods = []
    for i in range(n_pods):
        cpu, mem, spec = shapes[min(int(rng.expovariate(0.7)), 5)]
        pods.append(pod(f"p{i}", cpu=cpu, memory=mem, **spec))
    return nodes, pods


@pytest.mark.parametrize("seed, n_nodes", [(1, 30), (2, 30), (3, 150)])
def test_batching_changes_nothing_but_speed(seed, n_nodes):
    nodes, pods = _workload(seed, n_nodes=n_nodes, n_pods=400)
    fast = Scheduler(nodes, seed=seed, batching=True).schedule(pods)
    slow = Scheduler(nodes, seed=seed, batching=False).schedule(pods)
    assert [(n, r.message, r.total) for _, n, r in fast] == [(n, r.message, r.total) for _, n, r in slow]
    assert [r.scores for _, _, r in fast] == [r.scores for _, _, r in slow]
    assert [(r.evaluated, r.feasible) for _, _, r in fast] == [(r.evaluated, r.feasible) for _, _, r in slow]


# -- the Scheduler façade ------------------------------------------------------------
def test_higher_priority_pods_are_scheduled_first_then_in_arrival_order():
    sched = Scheduler([node("w1")])
    out = sched.schedule([pod("first"), pod("urgent", priority=1000), pod("second")])
    assert [p["metadata"]["name"] for p, _, _ in out] == ["urgent", "first", "second"]


def test_scheduled_pods_are_assumed_in_the_cache_and_bound():
    sched = Scheduler([node("w1", cpu="1")])
    [(_, node_name, result)] = sched.schedule([pod("web", cpu="600m")])
    assert node_name == "w1"
    assert sched.cache.node("w1").requested_milli_cpu == 600
    assert result.binding == {"apiVersion": "v1", "kind": "Binding",
                              "metadata": {"name": "web", "namespace": "default", "uid": "uid-default-web"},
                              "target": {"kind": "Node", "name": "w1"}}


def test_unschedulable_pods_wait_with_their_message_and_retry_when_a_node_joins():
    sched = Scheduler(cluster_of_three())
    [(_, node_name, _)] = sched.schedule([pod("big", cpu="1500m")])
    assert node_name is None
    assert sched.unschedulable["uid-default-big"].message.startswith("0/3 nodes are available: 1 node(s) had")
    sched.add_node(node("worker-3", cpu="2"))
    [(_, node_name, _)] = sched.schedule()
    assert node_name == "worker-3" and not sched.unschedulable


def test_deleting_a_pod_frees_room_for_a_waiting_one():
    sched = Scheduler([node("w1", cpu="1")])
    sched.schedule([pod("a", cpu="800m"), pod("b", cpu="800m")])
    assert list(sched.unschedulable) == ["uid-default-b"]
    sched.remove_pod(pod("a"))
    [(p, node_name, _)] = sched.schedule()
    assert (p["metadata"]["name"], node_name) == ("b", "w1")


def test_a_node_heartbeat_does_not_requeue_waiting_pods_but_a_new_label_does():
    sched = Scheduler([node("w1")])
    sched.schedule([pod("db", nodeSelector={"disktype": "ssd"})])
    beat = node("w1")
    beat["status"]["conditions"] = [{"type": "Ready", "status": "True", "lastHeartbeatTime": "2024-01-01T00:00:10Z"}]
    sched.update_node(beat)
    assert sched.schedule() == []
    sched.update_node(node("w1", labels={"disktype": "ssd"}))
    [(_, node_name, _)] = sched.schedule()
    assert node_name == "w1"


def test_pods_for_another_scheduler_are_left_alone():
    sched = Scheduler([node("w1")])
    assert sched.schedule([pod("p", schedulerName="my-scheduler")]) == []


def test_bound_pods_given_to_the_scheduler_are_accounted_not_scheduled():
    sched = Scheduler([node("w1", cpu="1")],
                      pods=[{**pod("old", cpu="900m"), "spec": {**pod("old", cpu="900m")["spec"], "nodeName": "w1"}}])
    [(_, node_name, result)] = sched.schedule([pod("new", cpu="200m")])
    assert node_name is None and "1 Insufficient cpu" in result.message


# -- explain -------------------------------------------------------------------------
def test_explain_shows_each_node_and_plugin():
    ex = explain(pod("big", cpu="800m"), cluster_of_three())
    rows = {(r.node, r.plugin, r.stage): r for r in ex.rows}
    taint = rows[("cp", "TaintToleration", "filter")]
    assert (taint.result, taint.reason) == ("rejected", "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }")
    assert rows[("cp", "NodeResourcesFit", "filter")].result == "not run"
    assert ("cp", "NodeResourcesFit", "score") not in rows
    assert rows[("worker-1", "NodeAffinity", "filter")].result == "skipped"
    assert rows[("worker-1", "NodeResourcesFit", "filter")].result == "passed"
    score = rows[("worker-1", "TaintToleration", "score")]
    assert (score.result, score.score, score.weight) == ("scored", 100, 3)
    assert set(ex.totals) == {"worker-1", "worker-2"} and ex.best == ["worker-1", "worker-2"]
    text = str(ex)
    assert "worker-1" in text and "untolerated taint" in text and "<- best" in text


def test_explain_carries_the_message_when_nothing_fits():
    ex = explain(pod("big", cpu="1500m"), cluster_of_three())
    assert ex.message.startswith("0/3 nodes are available: 1 node(s) had untolerated taint")
    assert ex.totals == {} and ex.message in str(ex)


# -- properties ----------------------------------------------------------------------
node_shapes = st.tuples(st.sampled_from(["500m", "1", "2", "4"]), st.sampled_from(["512Mi", "1Gi", "4Gi"]),
                        st.integers(min_value=1, max_value=8), st.booleans(), st.booleans())
pod_shapes = st.tuples(st.sampled_from([None, "0", "100m", "250m", "1", "1500m"]),
                       st.sampled_from([None, "64Mi", "256Mi", "1Gi"]),
                       st.booleans(), st.booleans(), st.integers(min_value=0, max_value=2))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(node_shapes, min_size=1, max_size=12), st.lists(pod_shapes, min_size=1, max_size=60),
       st.integers(min_value=0, max_value=3))
def test_no_node_is_ever_overcommitted_and_every_placement_passes_every_filter(node_specs, pod_specs, seed):
    nodes = []
    for i, (cpu, mem, pods_, tainted, labelled) in enumerate(node_specs):
        taints = [{"key": "dedicated", "value": "x", "effect": "NoSchedule"}] if tainted else []
        nodes.append(node(f"n{i}", cpu=cpu, memory=mem, pods=str(pods_), taints=taints,
                          labels={"disk": "ssd"} if labelled else {}))
    pods = []
    for i, (cpu, mem, tolerate, select, port) in enumerate(pod_specs):
        spec = {}
        if tolerate:
            spec["tolerations"] = [{"key": "dedicated", "operator": "Exists"}]
        if select:
            spec["nodeSelector"] = {"disk": "ssd"}
        p = pod(f"p{i}", cpu=cpu, memory=mem, **spec)
        if port:
            p["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "hostPort": 8000 + port}]
        pods.append(p)

    placed = [(p, n) for p, n, _ in Scheduler(nodes, seed=seed, detail=False).schedule(pods) if n is not None]

    # 1. sums of requests never exceed allocatable (cpu, memory, pod count)
    alloc = {n["metadata"]["name"]: n["status"]["allocatable"] for n in nodes}
    for name, a in alloc.items():
        mine = [PodInfo(p) for p, n in placed if n == name]
        assert sum(pi.milli_cpu for pi in mine) <= cpu_millis(a["cpu"])
        assert sum(pi.memory for pi in mine) <= to_int(a["memory"])
        assert len(mine) <= int(a["pods"])

    # 2. replayed in order on a fresh cache, every placement passes every filter
    replay = Cache(nodes)
    fw = Framework(detail=False, batching=False)
    for p, name in placed:
        pi = PodInfo(p)
        state = CycleState(replay)
        names, rejected, _ = fw.run_pre_filter(state, pi)
        assert rejected is None and (names is None or name in names)
        assert fw.run_filter_plugins(state, pi, replay.node(name)) is None
        replay.add_pod(pi, name)
