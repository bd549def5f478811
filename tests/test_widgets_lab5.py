"""Lab 5 widgets: the request tracer (journaled applies, trace views) and the scheduler explainer (read-only)."""

import pytest

import aivle_k8s as ak
from aivle_k8s.cluster.bootstrap import build_cluster
from aivle_k8s.widgets import Journal, RequestTracer, SchedulerExplainer
from aivle_k8s.widgets.request_tracer import PRESETS
from aivle_k8s.widgets.scheduler_explainer import NEW_POD, parse_node_selector, parse_tolerations
from aivle_k8s.sim.errors import InvalidInput


@pytest.fixture(scope="module")
def cluster():
    return build_cluster(ak.World(seed=0))


@pytest.fixture
def journal(tmp_path):
    return tmp_path / ".lab5.journal.jsonl"


# -- the request tracer ---------------------------------------------------------------------------------------
def test_apply_and_trace_draws_the_trace_by_machine_and_component(cluster, journal):
    tracer = RequestTracer(cluster, journal=journal)
    assert tracer.preset.value == "Deployment nginx x2" and tracer.editor.value == PRESETS["Deployment nginx x2"]
    tracer.apply_button.click()
    t = tracer.last_trace
    assert tracer.last.ok and not t.rejected and cluster.deployments.exists("nginx")
    html = tracer.output_html
    assert "✔" in html and f"etcd revision {t.revision_before} → {t.revision_end}" in html
    for box in ("master — master (control plane", "worker-1 — worker", "worker-2 — worker"):
        assert box in html
    for comp in ("kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler", "kubelet",
                 "container runtime"):
        assert comp in html
    assert tracer.output_text == t.timeline()
    assert "trace.follow(cluster, manifest)" in tracer.command_area.value
    assert "kubectl apply -f - &lt;&lt;&#x27;EOF&#x27;" in tracer.command_area.value
    (entry,) = Journal(journal).entries()
    assert entry["action"] == "apply" and entry["args"] == {"manifest": PRESETS["Deployment nginx x2"]}


def test_the_timeline_view_and_details_redraw_the_last_trace(cluster, journal):
    tracer = RequestTracer(cluster, journal=journal, manifest=PRESETS["Service for nginx"])
    assert tracer.preset.value == "Service for nginx"
    tracer.click_apply()
    tracer.view.value = "timeline"
    html = tracer.output_html
    assert "<th>#</th><th>time</th><th>node</th>" in html and "kube-proxy" in html
    tracer.show_details.value = True
    assert "RBAC: allowed by ClusterRoleBinding" in tracer.output_html


def test_a_refused_manifest_is_a_trace_not_an_error(cluster, journal):
    tracer = RequestTracer(cluster, journal=journal)
    tracer.preset.value = "Invalid Deployment (no selector)"
    assert "name: broken" in tracer.editor.value
    out = tracer.click_apply()
    assert out.ok and out.result.rejected
    html = tracer.output_html
    assert "refused it at <b>validation</b> (422 Invalid)" in html
    assert f"etcd revision stays <b>{out.result.revision_before}</b>" in html
    assert "spec.selector: Required value" in html
    assert not cluster.deployments.exists("broken")


def test_an_empty_manifest_is_refused_with_a_hint_and_not_journaled(cluster, journal):
    tracer = RequestTracer(cluster, journal=journal)
    tracer.editor.value = "  \n"
    out = tracer.click_apply()
    assert not out.ok and "manifest is empty" in tracer.output_text
    assert "hint: Pick an example" in tracer.output_text
    assert Journal(journal).entries() == [] and tracer.traces == []


def test_a_new_world_replays_the_clicks_and_finds_the_trace(journal):
    first = build_cluster(ak.World(seed=0))
    tracer = RequestTracer(first, journal=journal)
    tracer.editor.value = PRESETS["Deployment nginx x2"].replace("nginx", "hello")
    tracer.click_apply()
    again = build_cluster(ak.World(seed=0))
    replayed = RequestTracer(again, journal=journal)
    assert replayed.replayed == 1 and again.deployments.exists("hello")
    t = replayed.trace_of("Deployment", "hello")
    assert t is replayed.last_trace and ("deployments", "default", "hello") in t.created
    assert t.timeline() == tracer.last_trace.timeline()
    assert "replayed 1 saved action" in replayed.status.value and "hello" in replayed.output_html
    assert replayed.trace_of("Deployment", "nope") is None and replayed.trace_of("Nonsense", "x") is None


def test_trace_of_prefers_the_apply_that_created_the_object(cluster, journal):
    tracer = RequestTracer(cluster, journal=journal)
    text = PRESETS["Deployment nginx x2"].replace("nginx", "twice")
    first = tracer.perform("apply", manifest=text).result
    tracer.perform("apply", manifest=text)  # unchanged
    assert tracer.trace_of("Deployment", "twice") is first
    assert repr(tracer) == "RequestTracer(traces=2, last='kubectl apply -f -' ok)"


# -- the scheduler explainer -----------------------------------------------------------------------------------
def test_explaining_a_new_pod_shows_the_filter_and_score_table(cluster):
    ex = SchedulerExplainer(cluster)
    assert ex.journal is None and ex.editor.value == NEW_POD
    ex.explain_button.click()
    result = ex.last_explanation
    assert ex.last.ok and result.fits and set(result.feasible) == {"worker-1", "worker-2"}
    html = ex.output_html
    assert "★" in html and "TaintToleration" in html and "NodeResourcesFit ×1" in html
    assert "master: TaintToleration: node(s) had untolerated taint" in html
    assert ex.output_text == result.table()
    assert "trace.explain_scheduling(cluster, pod_manifest)" in ex.command_area.value


def test_asking_for_too_much_cpu_shows_the_0_of_n_message(cluster):
    ex = SchedulerExplainer(cluster)
    ex.cpu.value = "3"
    ex.click_explain()
    assert not ex.last_explanation.fits
    assert "0/3 nodes are available: 1 node(s) had untolerated taint" in ex.output_html
    assert "2 Insufficient cpu" in ex.output_html and "stays Pending" in ex.output_html


def test_a_toleration_and_a_node_selector_change_the_verdicts(cluster):
    ex = SchedulerExplainer(cluster)
    ex.tolerations.value = "node-role.kubernetes.io/control-plane:NoSchedule"
    ex.click_explain()
    assert "master" in ex.last_explanation.feasible
    ex.tolerations.value = ""
    ex.node_selector.value = "kubernetes.io/hostname=worker-1"
    ex.click_explain()
    assert ex.last_explanation.feasible == ["worker-1"]


def test_pending_pods_are_listed_and_explained_by_name(cluster):
    cluster.apply("apiVersion: v1\nkind: Pod\nmetadata: {name: waiting}\nspec:\n  containers:\n"
                  "  - {name: c, image: nginx:1.25, resources: {requests: {cpu: '5'}}}\n")
    cluster.world.advance(2)
    ex = SchedulerExplainer(cluster)
    assert ("default/waiting (Pending)", "default/waiting") in ex.pod.options
    assert ex.pod.options[0] == ("(new pod from the editor)", "(new pod from the editor)")
    ex.pod.value = "default/waiting"
    ex.click_explain()
    assert not ex.last_explanation.fits and "kubectl describe pod waiting" in ex.command_area.value
    ex.cpu.value = "100m"  # what if it asked for less?
    ex.click_explain()
    assert ex.last_explanation.fits and not cluster.pods.get("waiting").raw["spec"].get("nodeName")


@pytest.mark.parametrize("field, value, words", [
    ("node_selector", "disktype", "needs the form key=value"),
    ("tolerations", "key:Sometimes", "the effect must be one of NoSchedule"),
    ("cpu", "lots", "quantities must match"),
])
def test_bad_fields_are_shown_as_errors(cluster, field, value, words):
    ex = SchedulerExplainer(cluster)
    getattr(ex, field).value = value
    out = ex.click_explain()
    assert not out.ok and words in ex.output_text


def test_field_parsers():
    assert parse_node_selector("a=1, b = 2") == {"a": "1", "b": "2"}
    assert parse_tolerations("k=v:NoExecute, only") == [
        {"key": "k", "operator": "Equal", "value": "v", "effect": "NoExecute"}, {"key": "only", "operator": "Exists"}]
    with pytest.raises(InvalidInput):
        parse_node_selector("=x")
