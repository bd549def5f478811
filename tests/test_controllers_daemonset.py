"""The DaemonSet controller against an in-memory API server, with fake kubelet steps."""

import pytest

from aivle_k8s.cluster.controllers import DaemonSetController
from aivle_k8s.cluster.controllers.daemonset import node_should_run, target_node
from aivle_k8s.cluster.controllers.testing import TestCluster

CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def daemonset(name="agent", *, tolerations=None, node_selector=None, host_network=False, image="agent:1"):
    spec = {"containers": [{"name": "agent", "image": image}]}
    if tolerations is not None:
        spec["tolerations"] = tolerations
    if node_selector is not None:
        spec["nodeSelector"] = node_selector
    if host_network:
        spec["hostNetwork"] = True
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name, "namespace": "kube-system"},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}}


@pytest.fixture
def env():
    env = TestCluster()
    for n in ("worker-1", "worker-2", "worker-3"):
        env.add_node(n)
    env.dsc = DaemonSetController(env.cm_client, env.loop)
    env.dsc.start()
    return env


def pods(env):
    return [p for p in env.pods("kube-system") if not p["metadata"].get("deletionTimestamp")]


def by_node(env):
    return {target_node(p): p for p in pods(env)}


def run_everything(env):
    """What the scheduler and kubelets do: bind each daemon pod to its node and run it; reap deleted ones."""
    env.reap("kube-system")
    for p in pods(env):
        if (p.get("status") or {}).get("phase") != "Running":
            env.run_pod(p["metadata"]["name"], "kube-system", node=target_node(p))
    env.advance(1)


def test_one_pod_per_node_each_pinned_to_its_node(env):
    ds = env.client.create(daemonset())
    env.advance(1)
    placed = by_node(env)
    assert sorted(placed) == ["worker-1", "worker-2", "worker-3"]
    for node, p in placed.items():
        assert p["metadata"]["name"].startswith("agent-") and len(p["metadata"]["name"]) == len("agent-") + 5
        assert not p["spec"].get("nodeName")  # the scheduler binds it
        assert p["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] == {
            "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}
        ref, = p["metadata"]["ownerReferences"]
        assert ref == {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": ds["metadata"]["uid"],
                       "controller": True, "blockOwnerDeletion": True}
        assert p["metadata"]["labels"]["pod-template-generation"] == "1"
        assert p["metadata"]["labels"]["controller-revision-hash"]


def test_daemon_pods_get_the_daemon_tolerations(env):
    env.client.create(daemonset(host_network=True))
    env.advance(1)
    tols = {(t["key"], t["effect"]) for t in pods(env)[0]["spec"]["tolerations"]
            if t.get("operator") == "Exists"}
    assert tols == {("node.kubernetes.io/not-ready", "NoExecute"), ("node.kubernetes.io/unreachable", "NoExecute"),
                    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
                    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
                    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
                    ("node.kubernetes.io/unschedulable", "NoSchedule"),
                    ("node.kubernetes.io/network-unavailable", "NoSchedule")}


def test_created_pods_are_recorded_as_events(env):
    env.client.create(daemonset())
    env.advance(1)
    events = env.events("kube-system", reason="SuccessfulCreate")
    assert sorted(e["message"] for e in events) == sorted(f"Created pod: {p['metadata']['name']}" for p in pods(env))
    assert {e["source"]["component"] for e in events} == {"daemonset-controller"}


def test_tainted_control_plane_is_skipped_unless_tolerated(env):
    env.add_node("master", taints=[CONTROL_PLANE_TAINT])
    env.client.create(daemonset("plain"))
    env.client.create(daemonset("proxy", tolerations=[{"operator": "Exists"}]))
    env.advance(1)
    nodes = {}
    for p in pods(env):
        nodes.setdefault(p["metadata"]["labels"]["app"], set()).add(target_node(p))
    assert nodes["plain"] == {"worker-1", "worker-2", "worker-3"}
    assert nodes["proxy"] == {"master", "worker-1", "worker-2", "worker-3"}


def test_untolerated_no_schedule_keeps_a_running_pod_but_no_execute_removes_it():
    node = {"metadata": {"name": "n"}, "spec": {"taints": [CONTROL_PLANE_TAINT]}}
    assert node_should_run(node, daemonset()) == (False, True)
    node["spec"]["taints"] = [{"key": "dedicated", "value": "db", "effect": "NoExecute"}]
    assert node_should_run(node, daemonset()) == (False, False)
    node["spec"]["taints"] = [{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]
    assert node_should_run(node, daemonset()) == (True, True)


def test_a_new_node_gets_a_pod(env):
    env.client.create(daemonset())
    env.advance(1)
    env.add_node("worker-4")
    env.advance(1)
    assert sorted(by_node(env)) == ["worker-1", "worker-2", "worker-3", "worker-4"]


def test_an_unbound_pod_for_a_deleted_node_is_deleted(env):
    env.client.create(daemonset())
    env.advance(1)
    env.client.delete("nodes", "worker-3")
    env.advance(1)
    assert sorted(by_node(env)) == ["worker-1", "worker-2"]
    assert len(env.events("kube-system", reason="SuccessfulDelete")) == 1


def test_a_node_that_stops_matching_the_node_selector_loses_its_pod(env):
    for n in ("worker-1", "worker-2"):
        env.client.patch("nodes", n, {"metadata": {"labels": {"disk": "ssd"}}})
    env.client.create(daemonset(node_selector={"disk": "ssd"}))
    env.advance(1)
    assert sorted(by_node(env)) == ["worker-1", "worker-2"]
    env.client.patch("nodes", "worker-2", {"metadata": {"labels": {"disk": None}}})
    env.advance(1)
    assert sorted(by_node(env)) == ["worker-1"]


def test_status_counts_scheduled_ready_and_available(env):
    env.add_node("master", taints=[CONTROL_PLANE_TAINT])
    env.client.create(daemonset())
    env.advance(1)
    status = env.client.get("daemonsets", "agent", "kube-system")["status"]
    assert (status["desiredNumberScheduled"], status["currentNumberScheduled"], status["numberReady"],
            status["numberMisscheduled"], status["numberUnavailable"]) == (3, 3, 0, 0, 3)
    run_everything(env)
    status = env.client.get("daemonsets", "agent", "kube-system")["status"]
    assert status == {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberMisscheduled": 0,
                      "numberReady": 3, "numberAvailable": 3, "updatedNumberScheduled": 3, "observedGeneration": 1}


def test_a_failed_daemon_pod_is_replaced(env):
    env.client.create(daemonset())
    env.advance(1)
    run_everything(env)
    victim = by_node(env)["worker-2"]["metadata"]["name"]
    env.finish_pod(victim, "kube-system", succeeded=False)
    env.advance(1)
    warn, = env.events("kube-system", reason="FailedDaemonPod")
    assert warn["type"] == "Warning"
    assert warn["message"] == f"Found failed daemon pod kube-system/{victim} on node worker-2, will try to kill it"
    env.reap("kube-system")
    env.advance(1)
    new = by_node(env)["worker-2"]["metadata"]["name"]
    assert new != victim


def test_rolling_update_replaces_one_pod_at_a_time(env):
    env.client.create(daemonset())
    env.advance(1)
    run_everything(env)
    old = {p["metadata"]["name"] for p in pods(env)}
    env.client.patch("daemonsets", "agent", {"spec": {"template": {"spec": {"containers": [
        {"name": "agent", "image": "agent:2"}]}}}}, namespace="kube-system")
    env.advance(1)
    terminating = [p for p in env.pods("kube-system") if p["metadata"].get("deletionTimestamp")]
    assert len(terminating) == 1  # maxUnavailable 1
    for step in range(3):
        run_everything(env)  # the old pod goes, its replacement is created; then it runs
        run_everything(env)
        images = [p["spec"]["containers"][0]["image"] for p in pods(env)]
        assert images.count("agent:2") == step + 1
    assert not old & {p["metadata"]["name"] for p in pods(env)}
    status = env.client.get("daemonsets", "agent", "kube-system")["status"]
    assert (status["updatedNumberScheduled"], status["numberAvailable"], status["observedGeneration"]) == (3, 3, 2)
    assert all(p["metadata"]["labels"]["pod-template-generation"] == "2" for p in pods(env))


def test_on_delete_strategy_waits_for_the_user(env):
    ds = daemonset()
    ds["spec"]["updateStrategy"] = {"type": "OnDelete"}
    env.client.create(ds)
    env.advance(1)
    run_everything(env)
    env.client.patch("daemonsets", "agent", {"spec": {"template": {"spec": {"containers": [
        {"name": "agent", "image": "agent:2"}]}}}}, namespace="kube-system")
    run_everything(env)
    assert {p["spec"]["containers"][0]["image"] for p in pods(env)} == {"agent:1"}
    env.client.delete("pods", by_node(env)["worker-1"]["metadata"]["name"], "kube-system")
    run_everything(env)
    run_everything(env)
    assert by_node(env)["worker-1"]["spec"]["containers"][0]["image"] == "agent:2"


def test_controller_revisions_record_each_template(env):
    env.client.create(daemonset())
    env.advance(1)
    env.client.patch("daemonsets", "agent", {"spec": {"template": {"spec": {"containers": [
        {"name": "agent", "image": "agent:2"}]}}}}, namespace="kube-system")
    env.advance(1)
    revs = sorted(env.client.list("controllerrevisions", "kube-system")["items"], key=lambda r: r["revision"])
    assert [r["revision"] for r in revs] == [1, 2]
    assert all(r["metadata"]["name"] == f"agent-{r['metadata']['labels']['controller-revision-hash']}" for r in revs)


def test_reconcile_twice_is_reconcile_once(env):
    env.client.create(daemonset())
    env.advance(1)
    run_everything(env)
    rv = env.api.storage.revision
    env.dsc.reconcile("kube-system/agent")
    env.dsc.reconcile("kube-system/agent")
    assert env.api.storage.revision == rv
    assert len(pods(env)) == 3
