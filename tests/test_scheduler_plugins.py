"""The scheduler plugins one by one, on small fixtures, with the real reasons and scores."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aivle_k8s import InvalidInput
from aivle_k8s.cluster.scheduler import Cache, Code, CycleState, NodeInfo, PodInfo, PreFilterResult
from aivle_k8s.cluster.scheduler.framework import SKIP
from aivle_k8s.cluster.scheduler.plugins import (DefaultBinder, ImageLocality, NodeAffinity, NodeName, NodePorts,
                                                 NodeResourcesBalancedAllocation, NodeResourcesFit,
                                                 NodeUnschedulable, PodTopologySpread, TaintToleration)
from aivle_k8s.cluster.scheduler.plugins.helpers import default_normalize_score
from aivle_k8s.cluster.scheduler.quantity import cpu_millis, format_bytes, format_cpu, parse_quantity, to_int

CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def node(name="w1", cpu="2", memory="4Gi", pods="110", labels=None, taints=None, unschedulable=False, images=None):
    n = {"apiVersion": "v1", "kind": "Node",
         "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
         "spec": {"taints": taints or []},
         "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": pods}, "images": images or []}}
    if unschedulable:
        n["spec"]["unschedulable"] = True
    return n


def pod(name="p", cpu=None, memory=None, namespace="default", labels=None, image="nginx", ports=None, **spec):
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    container = {"name": "c", "image": image, "resources": {"requests": requests} if requests else {}}
    if ports:
        container["ports"] = ports
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "uid": f"{namespace}-{name}", "labels": labels or {}},
            "spec": {"containers": [container], **spec}}


def run_filter(plugin, p, n, cache=None):
    """PreFilter then Filter, as a cycle would: returns the Status (None = fits) or 'skip'."""
    pi = PodInfo(p)
    ni = n if isinstance(n, NodeInfo) else NodeInfo(n)
    state = CycleState(cache or Cache([ni]))
    if hasattr(plugin, "pre_filter"):
        r = plugin.pre_filter(state, pi)
        if r is SKIP or (r is not None and not isinstance(r, PreFilterResult) and r.code == Code.Skip):
            return "skip"
        if r is not None and not isinstance(r, PreFilterResult):
            return r
    return plugin.filter(state, pi, ni)


def scores_of(plugin, p, nodes, cache=None):
    """PreScore, Score and NormalizeScore over ``nodes``: the 0..100 scores (or 'skip')."""
    pi = PodInfo(p)
    infos = [n if isinstance(n, NodeInfo) else NodeInfo(n) for n in nodes]
    state = CycleState(cache or Cache(infos))
    if hasattr(plugin, "pre_score"):
        st_ = plugin.pre_score(state, pi, infos)
        if st_ is not None and st_.code == Code.Skip:
            return "skip"
    scores = [plugin.score(state, pi, ni) for ni in infos]
    if plugin.normalize is not None:
        plugin.normalize_score(state, pi, infos, scores)
    return scores


# -- quantities ----------------------------------------------------------------
@pytest.mark.parametrize("text, millis", [("100m", 100), ("0.5", 500), ("2", 2000), (2, 2000), (0.25, 250),
                                          ("1e3", 1_000_000), ("1.5", 1500), ("250m", 250), ("0.0001", 1)])
def test_cpu_quantities_parse_to_millicores(text, millis):
    assert cpu_millis(text) == millis


@pytest.mark.parametrize("text, value", [("64Mi", 64 * 2**20), ("1G", 10**9), ("129M", 129_000_000),
                                         ("1Ki", 1024), ("1.5Gi", 1536 * 2**20), ("4Gi", 4 * 2**30),
                                         ("1e3", 1000), ("1E3", 1000), ("1E", 10**18), ("110", 110),
                                         ("100m", 1), ("2k", 2000), ("0", 0), (".5Ki", 512)])
def test_byte_quantities_parse_to_whole_units(text, value):
    assert to_int(text) == value


@pytest.mark.parametrize("bad", ["12 Mi", "abc", "1.2.3", "", "1Mb", "Mi", " 1"])
def test_malformed_quantities_raise_with_apimachinerys_words(bad):
    with pytest.raises(InvalidInput, match="quantities must match the regular expression"):
        parse_quantity(bad)


def test_an_unknown_suffix_is_reported_as_such():
    with pytest.raises(InvalidInput, match="unable to parse quantity's suffix"):
        parse_quantity("1MM")


@given(st.integers(min_value=0, max_value=2**62))
def test_formatted_bytes_parse_back_to_the_same_value(n):
    assert to_int(format_bytes(n)) == n


@given(st.integers(min_value=0, max_value=10**9))
def test_formatted_cpu_parses_back_to_the_same_millicores(m):
    assert cpu_millis(format_cpu(m)) == m


# -- NodeName ------------------------------------------------------------------
def test_node_name_rejects_every_other_node():
    st_ = run_filter(NodeName(), pod(nodeName="w1"), node("w2"))
    assert st_.code == Code.UnschedulableAndUnresolvable
    assert st_.reasons == ("node(s) didn't match the requested node name",)
    assert run_filter(NodeName(), pod(nodeName="w1"), node("w1")) is None


def test_node_name_has_nothing_to_do_without_a_node_name():
    assert run_filter(NodeName(), pod(), node("w2")) == "skip"


# -- NodeUnschedulable -----------------------------------------------------------
def test_a_cordoned_node_is_unschedulable():
    st_ = run_filter(NodeUnschedulable(), pod(), node(unschedulable=True))
    assert (st_.code, st_.reasons) == (Code.UnschedulableAndUnresolvable, ("node(s) were unschedulable",))


def test_tolerating_the_unschedulable_taint_allows_a_cordoned_node():
    tol = [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]
    assert run_filter(NodeUnschedulable(), pod(tolerations=tol), node(unschedulable=True)) is None


# -- TaintToleration -----------------------------------------------------------
def test_untolerated_taint_names_key_and_value():
    st_ = run_filter(TaintToleration(), pod(), node(taints=[CONTROL_PLANE]))
    assert st_.code == Code.UnschedulableAndUnresolvable
    assert st_.reasons == ("node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }",)
    st_ = run_filter(TaintToleration(), pod(), node(taints=[{"key": "dedicated", "value": "gpu", "effect": "NoExecute"}]))
    assert st_.reasons == ("node(s) had untolerated taint {dedicated: gpu}",)


def test_the_first_untolerated_taint_is_the_one_reported():
    taints = [{"key": "a", "value": "1", "effect": "NoSchedule"}, {"key": "b", "value": "2", "effect": "NoSchedule"}]
    tol = [{"key": "a", "operator": "Equal", "value": "1", "effect": "NoSchedule"}]
    assert run_filter(TaintToleration(), pod(tolerations=tol), node(taints=taints)).reasons == (
        "node(s) had untolerated taint {b: 2}",)


@pytest.mark.parametrize("toleration, tolerated", [
    ({"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}, True),
    ({"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}, True),          # operator defaults to Equal
    ({"key": "dedicated", "operator": "Equal", "value": "cpu", "effect": "NoSchedule"}, False),
    ({"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}, True),
    ({"key": "dedicated", "operator": "Exists"}, True),                             # empty effect: all effects
    ({"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}, False),
    ({"operator": "Exists"}, True),                                                 # empty key + Exists: everything
    ({"key": "other", "operator": "Exists"}, False),
])
def test_tolerations_exists_equal_and_empty_key(toleration, tolerated):
    n = node(taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}])
    assert (run_filter(TaintToleration(), pod(tolerations=[toleration]), n) is None) is tolerated


def test_prefer_no_schedule_taints_do_not_filter_but_lower_the_score():
    soft = {"key": "spot", "value": "true", "effect": "PreferNoSchedule"}
    soft2 = {"key": "old", "value": "true", "effect": "PreferNoSchedule"}
    nodes = [node("clean"), node("one", taints=[soft]), node("two", taints=[soft, soft2])]
    assert run_filter(TaintToleration(), pod(), nodes[2]) is None
    assert scores_of(TaintToleration(), pod(), nodes) == [100, 50, 0]
    tol = [{"key": "spot", "operator": "Exists", "effect": "PreferNoSchedule"}]
    assert scores_of(TaintToleration(), pod(tolerations=tol), nodes) == [100, 100, 0]


# -- NodeAffinity ----------------------------------------------------------------
def test_node_selector_must_match_every_label():
    ssd = node(labels={"disktype": "ssd", "zone": "a"})
    assert run_filter(NodeAffinity(), pod(nodeSelector={"disktype": "ssd"}), ssd) is None
    st_ = run_filter(NodeAffinity(), pod(nodeSelector={"disktype": "ssd", "zone": "b"}), ssd)
    assert (st_.code, st_.reasons) == (Code.UnschedulableAndUnresolvable,
                                       ("node(s) didn't match Pod's node affinity/selector",))


def test_node_affinity_is_skipped_without_selector_or_required_terms():
    assert run_filter(NodeAffinity(), pod(), node()) == "skip"


def _required(*terms):
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}}


@pytest.mark.parametrize("expr, fits", [
    ({"key": "disk", "operator": "In", "values": ["ssd", "nvme"]}, True),
    ({"key": "disk", "operator": "NotIn", "values": ["ssd"]}, False),
    ({"key": "gpu", "operator": "NotIn", "values": ["yes"]}, True),      # NotIn holds when the label is absent
    ({"key": "disk", "operator": "Exists"}, True),
    ({"key": "disk", "operator": "DoesNotExist"}, False),
    ({"key": "cores", "operator": "Gt", "values": ["8"]}, True),
    ({"key": "cores", "operator": "Lt", "values": ["8"]}, False),
    ({"key": "disk", "operator": "Gt", "values": ["1"]}, False),         # not an integer: no match
])
def test_required_node_affinity_operators(expr, fits):
    n = node(labels={"disk": "ssd", "cores": "16"})
    assert (run_filter(NodeAffinity(), pod(affinity=_required({"matchExpressions": [expr]})), n) is None) is fits


def test_node_selector_terms_are_ored_and_their_expressions_anded():
    n = node(labels={"disk": "ssd", "zone": "a"})
    both = {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]},
                                 {"key": "zone", "operator": "In", "values": ["b"]}]}
    other = {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}
    assert run_filter(NodeAffinity(), pod(affinity=_required(both)), n) is not None
    assert run_filter(NodeAffinity(), pod(affinity=_required(both, other)), n) is None
    assert run_filter(NodeAffinity(), pod(affinity=_required({})), n) is not None   # an empty term matches nothing


def test_match_fields_on_the_node_name_narrow_the_nodes_in_prefilter():
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["w1", "w2"]}]}
    state = CycleState(Cache())
    r = NodeAffinity().pre_filter(state, PodInfo(pod(affinity=_required(term))))
    assert isinstance(r, PreFilterResult) and r.node_names == {"w1", "w2"}
    assert NodeAffinity().filter(state, PodInfo(pod(affinity=_required(term))), NodeInfo(node("w3"))) is not None


def test_conflicting_node_name_terms_reject_the_pod_in_prefilter():
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["w1"]},
                            {"key": "metadata.name", "operator": "In", "values": ["w2"]}]}
    st_ = run_filter(NodeAffinity(), pod(affinity=_required(term)), node())
    assert (st_.code, st_.reasons) == (Code.UnschedulableAndUnresolvable, ("pod affinity terms conflict",))


def test_preferred_node_affinity_scores_the_sum_of_matching_weights_normalized():
    preferred = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 80, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}},
        {"weight": 20, "preference": {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}}]}}
    nodes = [node("both", labels={"disk": "ssd", "zone": "a"}), node("ssd", labels={"disk": "ssd"}),
             node("zone", labels={"zone": "a"}), node("none")]
    assert scores_of(NodeAffinity(), pod(affinity=preferred), nodes) == [100, 80, 20, 0]
    assert scores_of(NodeAffinity(), pod(), nodes) == "skip"


# -- NodePorts -----------------------------------------------------------------
def _hostport(port, protocol="TCP", ip=None):
    p = {"containerPort": 80, "hostPort": port, "protocol": protocol}
    if ip:
        p["hostIP"] = ip
    return [p]


def test_a_taken_host_port_conflicts():
    n = NodeInfo(node(), [pod("a", ports=_hostport(8080))])
    st_ = run_filter(NodePorts(), pod("b", ports=_hostport(8080)), n)
    assert (st_.code, st_.reasons) == (Code.Unschedulable, ("node(s) didn't have free ports for the requested pod ports",))


@pytest.mark.parametrize("used, wanted, conflict", [
    (_hostport(8080), _hostport(8081), False),
    (_hostport(8080, "TCP"), _hostport(8080, "UDP"), False),
    (_hostport(8080, ip="10.0.0.1"), _hostport(8080, ip="10.0.0.2"), False),
    (_hostport(8080, ip="10.0.0.1"), _hostport(8080), True),            # 0.0.0.0 wants every address
    (_hostport(8080), _hostport(8080, ip="10.0.0.2"), True),            # ... and is taken on every address
])
def test_host_port_conflicts_per_protocol_and_address(used, wanted, conflict):
    n = NodeInfo(node(), [pod("a", ports=used)])
    assert (run_filter(NodePorts(), pod("b", ports=wanted), n) is not None) is conflict


def test_pods_without_host_ports_skip_node_ports():
    assert run_filter(NodePorts(), pod(ports=[{"containerPort": 80}]), node()) == "skip"


def test_removing_a_pod_frees_its_host_port():
    n = NodeInfo(node(), [pod("a", ports=_hostport(8080))])
    n.remove_pod(pod("a"))
    assert run_filter(NodePorts(), pod("b", ports=_hostport(8080)), n) is None


# -- NodeResourcesFit ----------------------------------------------------------
def test_insufficient_cpu_and_memory_are_separate_reasons():
    n = NodeInfo(node(cpu="1", memory="1Gi"), [pod("a", cpu="800m", memory="900Mi")])
    st_ = run_filter(NodeResourcesFit(), pod("b", cpu="500m", memory="200Mi"), n)
    assert (st_.code, st_.reasons) == (Code.Unschedulable, ("Insufficient cpu", "Insufficient memory"))
    assert run_filter(NodeResourcesFit(), pod("c", cpu="200m", memory="100Mi"), n) is None


def test_too_many_pods_counts_even_pods_without_requests():
    n = NodeInfo(node(pods="2"), [pod("a"), pod("b")])
    assert run_filter(NodeResourcesFit(), pod("c"), n).reasons == ("Too many pods",)


def test_extended_resources_are_checked_by_name():
    n = node()
    n["status"]["allocatable"]["nvidia.com/gpu"] = "1"
    p = pod("train")
    p["spec"]["containers"][0]["resources"] = {"limits": {"nvidia.com/gpu": "2"}}   # limits stand in for requests
    assert run_filter(NodeResourcesFit(), p, n).reasons == ("Insufficient nvidia.com/gpu",)


def test_init_containers_count_as_the_max_of_init_versus_the_sum_of_app_containers():
    def c(name, cpu, mem, **extra):
        return {"name": name, "image": "busybox", "resources": {"requests": {"cpu": cpu, "memory": mem}}, **extra}
    p = PodInfo({"metadata": {"name": "p"}, "spec": {
        "initContainers": [c("i1", "2", "1G"), c("i2", "2", "3G")],
        "containers": [c("a", "2", "1G"), c("b", "1", "1G")]}})
    assert (p.milli_cpu, p.memory) == (3000, 3_000_000_000)          # cpu: sum of apps, memory: the big init


def test_a_sidecar_init_container_adds_to_the_pod_and_to_later_init_containers():
    def c(name, cpu, **extra):
        return {"name": name, "image": "busybox", "resources": {"requests": {"cpu": cpu}}, **extra}
    p = PodInfo({"metadata": {"name": "p"}, "spec": {
        "initContainers": [c("proxy", "500m", restartPolicy="Always"), c("migrate", "2")],
        "containers": [c("app", "1")]}})
    assert p.milli_cpu == 2500          # max(1 + 0.5 sidecar, 2 + 0.5 sidecar)


def test_pod_overhead_is_added_to_the_requests():
    p = PodInfo(pod(cpu="250m", memory="64Mi", overhead={"cpu": "250m", "memory": "120Mi"}))
    assert (p.milli_cpu, p.memory) == (500, 184 * 2**20)


def test_least_allocated_scores_the_free_share_of_cpu_and_memory():
    n = NodeInfo(node(cpu="4", memory="8Gi"), [pod("a", cpu="1", memory="2Gi")])
    # cpu (4000 - 2000) * 100 / 4000 = 50, memory (8 - 4) * 100 / 8 = 50
    assert scores_of(NodeResourcesFit(), pod("b", cpu="1", memory="2Gi"), [n]) == [50]


def test_pods_without_requests_count_100m_and_200mi_for_scoring_only():
    n = NodeInfo(node(cpu="1", memory="1000Mi"))
    # cpu (1000 - 100) * 100 / 1000 = 90, memory (1000 - 200) * 100 / 1000 = 80 -> 85
    assert scores_of(NodeResourcesFit(), pod("empty"), [n]) == [85]
    assert PodInfo(pod("empty")).milli_cpu == 0


def test_most_allocated_packs():
    full = NodeInfo(node("full", cpu="4", memory="8Gi"), [pod("a", cpu="3", memory="6Gi")])
    empty = NodeInfo(node("empty", cpu="4", memory="8Gi"))
    scores = scores_of(NodeResourcesFit("MostAllocated"), pod("b", cpu="500m", memory="1Gi"), [full, empty])
    assert scores[0] > scores[1]


# -- BalancedAllocation ------------------------------------------------------------
def test_balanced_allocation_prefers_even_cpu_and_memory_use():
    cpu_heavy = NodeInfo(node("cpu-heavy", cpu="4", memory="4Gi"), [pod("a", cpu="3", memory="512Mi")])
    even = NodeInfo(node("even", cpu="4", memory="4Gi"), [pod("a", cpu="1", memory="1Gi")])
    scores = scores_of(NodeResourcesBalancedAllocation(), pod("b", cpu="500m", memory="512Mi"), [cpu_heavy, even])
    # cpu-heavy: fractions 0.875 / 0.25 -> std 0.3125 -> 68; even: 0.375 / 0.375 -> 100
    assert scores == [68, 100]


def test_balanced_allocation_skips_best_effort_pods():
    assert scores_of(NodeResourcesBalancedAllocation(), pod("empty"), [node()]) == "skip"


# -- ImageLocality -----------------------------------------------------------------
def test_image_locality_scores_present_images_scaled_by_their_spread():
    img = [{"names": ["docker.io/library/nginx:1.25", "nginx:1.25"], "sizeBytes": 500 * 2**20}]
    nodes = [NodeInfo(node("has", images=img)), NodeInfo(node("lacks")), NodeInfo(node("lacks2"))]
    cache = Cache(nodes)
    # 500 MiB on 1 of 3 nodes -> 166 MiB -> (166 - 23) * 100 / (1000 - 23) = 14
    assert scores_of(ImageLocality(), pod(image="nginx:1.25"), nodes, cache) == [14, 0, 0]


def test_image_names_without_a_tag_mean_latest():
    img = [{"names": ["redis:latest"], "sizeBytes": 900 * 2**20}]
    nodes = [NodeInfo(node("has", images=img))]
    assert scores_of(ImageLocality(), pod(image="redis"), nodes, Cache(nodes)) == [89]


# -- PodTopologySpread ----------------------------------------------------------------
def _spread(max_skew=1, key="topology.kubernetes.io/zone", when="DoNotSchedule", **extra):
    return {"maxSkew": max_skew, "topologyKey": key, "whenUnsatisfiable": when,
            "labelSelector": {"matchLabels": {"app": "web"}}, **extra}


def _zones(*counts, namespace="default"):
    """One node per zone a, b, c... with ``counts`` pods labelled app=web on them."""
    infos = []
    for i, count in enumerate(counts):
        z = "abcdefgh"[i]
        infos.append(NodeInfo(node(f"n-{z}", labels={"topology.kubernetes.io/zone": z}),
                              [pod(f"web-{z}{k}", labels={"app": "web"}, namespace=namespace) for k in range(count)]))
    return infos


def _spread_filter(p, infos):
    cache = Cache(infos)
    state = CycleState(cache)
    pi = PodInfo(p)
    assert PodTopologySpread().pre_filter(state, pi) is None
    return {ni.name: PodTopologySpread().filter(state, pi, ni) for ni in cache.nodes}


def test_topology_spread_rejects_the_domain_that_would_exceed_max_skew():
    result = _spread_filter(pod("new", labels={"app": "web"}, topologySpreadConstraints=[_spread()]), _zones(2, 1, 1))
    assert result["n-b"] is None and result["n-c"] is None
    assert (result["n-a"].code, result["n-a"].reasons) == (
        Code.Unschedulable, ("node(s) didn't match pod topology spread constraints",))


def test_topology_spread_counts_the_pod_itself_only_when_it_matches():
    # the incoming pod does not carry app=web: it adds no skew, so every zone fits
    result = _spread_filter(pod("other", topologySpreadConstraints=[_spread()]), _zones(2, 1, 1))
    assert all(v is None for v in result.values())


def test_topology_spread_needs_the_topology_label_on_the_node():
    infos = _zones(0) + [NodeInfo(node("no-zone"))]
    result = _spread_filter(pod("new", labels={"app": "web"}, topologySpreadConstraints=[_spread()]), infos)
    assert result["no-zone"].reasons == ("node(s) didn't match pod topology spread constraints (missing required label)",)


def test_topology_spread_counts_only_the_pods_namespace():
    infos = _zones(3, 0, namespace="other")
    result = _spread_filter(pod("new", labels={"app": "web"}, topologySpreadConstraints=[_spread()]), infos)
    assert result["n-a"] is None


def test_min_domains_makes_the_global_minimum_zero_when_domains_are_missing():
    p = pod("new", labels={"app": "web"}, topologySpreadConstraints=[_spread(max_skew=2, minDomains=3)])
    result = _spread_filter(p, _zones(2, 2))
    assert result["n-a"] is not None and result["n-b"] is not None     # 2 + 1 - 0 > 2


def test_schedule_anyway_scores_the_less_crowded_domain_higher():
    p = pod("new", labels={"app": "web"}, topologySpreadConstraints=[_spread(when="ScheduleAnyway")])
    infos = _zones(3, 1, 0)
    scores = scores_of(PodTopologySpread(), p, infos, Cache(infos))
    assert scores[2] == 100 and scores[0] < scores[1] < scores[2]


def test_pods_without_constraints_skip_topology_spread():
    assert run_filter(PodTopologySpread(), pod(), node()) == "skip"
    assert scores_of(PodTopologySpread(), pod(), [node()]) == "skip"


# -- DefaultBinder / helpers ---------------------------------------------------------
def test_default_binder_builds_a_v1_binding():
    state = {}
    assert DefaultBinder().bind(state, PodInfo(pod("web")), "w1") is None
    assert state["Binding"] == {"apiVersion": "v1", "kind": "Binding",
                                "metadata": {"name": "web", "namespace": "default", "uid": "default-web"},
                                "target": {"kind": "Node", "name": "w1"}}


def test_default_normalize_score_scales_to_the_maximum():
    scores = [2, 4, 0]
    default_normalize_score(scores)
    assert scores == [50, 100, 0]
    zeros = [0, 0]
    default_normalize_score(zeros, reverse=True)
    assert zeros == [100, 100]
