"""ReplicaSet and Deployment controllers against an in-memory API server, with fake kubelet steps."""

import pytest
from hypothesis import given, settings, strategies as st

from aivle_k8s.cluster.controllers import DeploymentController, ReplicaSetController, SharedInformers, rollback
from aivle_k8s.cluster.controllers.deployment import compute_hash, resolve_fenceposts
from aivle_k8s.cluster.controllers.testing import TestCluster

TEMPLATE = {"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}


def replicaset(replicas=3, name="web"):
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE}}


def deployment(replicas=3, surge=1, unavailable=0):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "strategy": {"type": "RollingUpdate",
                                  "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}},
                     "template": TEMPLATE}}


@pytest.fixture
def env():
    env = TestCluster()
    env.add_node("worker-1")
    informers = SharedInformers(env.cm_client, env.loop)
    env.rsc = ReplicaSetController(env.cm_client, env.loop, informers=informers)
    env.dc = DeploymentController(env.cm_client, env.loop, informers=informers)
    env.rsc.start()
    env.dc.start()
    return env


def live(env):
    return [p for p in env.pods() if not p["metadata"].get("deletionTimestamp")]


def settle(env, rounds=3):
    """Let controllers act, then the fake kubelet runs what is bound/assigned and reaps what is deleted."""
    for _ in range(rounds):
        env.advance(1)
        env.reap()
        env.run_all(node="worker-1")
    env.advance(1)


# -- ReplicaSet ---------------------------------------------------------------------------------
def test_replicaset_creates_pods_named_after_it_and_owned_by_it(env):
    rs = env.client.create(replicaset(3))
    env.advance(1)
    pods = env.pods()
    assert len(pods) == 3
    for p in pods:
        assert p["metadata"]["name"].startswith("web-") and len(p["metadata"]["name"]) == len("web-") + 5
        ref, = p["metadata"]["ownerReferences"]
        assert ref == {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": rs["metadata"]["uid"],
                       "controller": True, "blockOwnerDeletion": True}


def test_replicaset_records_successful_create_events(env):
    env.client.create(replicaset(2))
    env.advance(1)
    events = env.events(reason="SuccessfulCreate")
    names = sorted(p["metadata"]["name"] for p in env.pods())
    assert sorted(e["message"] for e in events) == [f"Created pod: {n}" for n in names]
    assert {e["source"]["component"] for e in events} == {"replicaset-controller"}


def test_replicaset_status_counts_ready_and_available(env):
    env.client.create(replicaset(2))
    settle(env)
    status = env.client.get("rs", "web")["status"]
    assert (status["replicas"], status["readyReplicas"], status["availableReplicas"]) == (2, 2, 2)


def test_replicaset_scale_down_deletes_unready_pods_first(env):
    env.client.create(replicaset(3))
    env.advance(1)
    names = sorted(p["metadata"]["name"] for p in env.pods())
    env.run_pod(names[0], node="worker-1")
    env.run_pod(names[1], node="worker-1")   # names[2] stays Pending and unscheduled
    env.client.patch("replicasets", "web", {"spec": {"replicas": 2}}, namespace="default")
    env.advance(1)
    assert sorted(p["metadata"]["name"] for p in env.pods()) == names[:2]
    assert env.events(reason="SuccessfulDelete")[0]["message"] == f"Deleted pod: {names[2]}"


def test_replicaset_adopts_matching_orphans(env):
    env.client.create({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": "stray", "labels": {"app": "web"}}, "spec": TEMPLATE["spec"]})
    rs = env.client.create(replicaset(2))
    env.advance(1)
    pods = env.pods()
    assert len(pods) == 2
    stray = env.client.get("pods", "stray")
    assert stray["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"]


def test_replicaset_replaces_a_deleted_pod(env):
    env.client.create(replicaset(2))
    env.advance(1)
    victim = env.pods()[0]["metadata"]["name"]
    env.client.delete("pods", victim, "default")
    env.advance(1)
    names = [p["metadata"]["name"] for p in env.pods()]
    assert len(names) == 2 and victim not in names


def test_reconcile_twice_is_reconcile_once(env):
    env.client.create(replicaset(3))
    env.advance(1)
    rv = env.api.storage.revision
    env.rsc.reconcile("default/web")
    env.rsc.reconcile("default/web")
    assert env.api.storage.revision == rv
    assert len(env.pods()) == 3


def test_same_seed_same_pod_names():
    def names():
        env = TestCluster(seed=7)
        ReplicaSetController(env.cm_client, env.loop).start()
        env.client.create(replicaset(3))
        env.advance(1)
        return sorted(p["metadata"]["name"] for p in env.pods())

    assert names() == names()


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=5))
def test_random_scale_sequences_converge_to_spec_replicas(sizes):
    env = TestCluster()
    ReplicaSetController(env.cm_client, env.loop).start()
    env.client.create(replicaset(sizes[0]))
    env.advance(0.5)  # the controller writes status.replicas (a bare {} status fails a later spec patch)
    for n in sizes:
        env.client.patch("replicasets", "web", {"spec": {"replicas": n}}, namespace="default")
        env.advance(0.5)
    env.advance(1)
    assert len(env.pods()) == sizes[-1]


# -- Deployment ---------------------------------------------------------------------------------
def test_deployment_creates_one_replicaset_named_with_the_template_hash(env):
    d = env.client.create(deployment(3))
    settle(env)
    rs, = env.client.list("rs", "default")["items"]
    h = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"web-{h}" and 1 <= len(h) <= 10
    assert set(h) <= set("bcdfghjklmnpqrstvwxz2456789")
    assert rs["metadata"]["ownerReferences"][0]["uid"] == d["metadata"]["uid"]
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    assert len(live(env)) == 3
    assert all(p["metadata"]["name"].startswith(f"web-{h}-") for p in env.pods())


def test_deployment_status_and_conditions(env):
    env.client.create(deployment(3))
    settle(env)
    status = env.client.get("deploy", "web")["status"]
    assert (status["replicas"], status["updatedReplicas"], status["readyReplicas"],
            status["availableReplicas"]) == (3, 3, 3, 3)
    conds = {c["type"]: c for c in status["conditions"]}
    assert conds["Available"]["reason"] == "MinimumReplicasAvailable"
    assert conds["Progressing"]["reason"] == "NewReplicaSetAvailable"
    rs = env.client.list("rs", "default")["items"][0]["metadata"]["name"]
    assert conds["Progressing"]["message"] == f'ReplicaSet "{rs}" has successfully progressed.'


def test_deployment_scaling_event_message(env):
    env.client.create(deployment(3))
    settle(env)
    rs = env.client.list("rs", "default")["items"][0]["metadata"]["name"]
    env.client.patch("deployments", "web", {"spec": {"replicas": 5}}, namespace="default")
    settle(env)
    msgs = [e["message"] for e in env.events(reason="ScalingReplicaSet")]
    assert msgs == [f"Scaled up replica set {rs} from 0 to 3", f"Scaled up replica set {rs} to 5 from 3"]
    assert len(live(env)) == 5


def test_deployment_scale_subresource(env):
    env.client.create(deployment(3))
    settle(env)
    scale = env.client.get("deployments", "web", "default", subresource="scale")
    scale["spec"]["replicas"] = 1
    env.client.update(scale, subresource="scale", resource="deployments")
    settle(env)
    assert len(live(env)) == 1


def test_rolling_update_never_exceeds_surge_nor_drops_below_availability(env):
    env.client.create(deployment(3, surge=1, unavailable=0))
    settle(env)
    d = env.client.get("deploy", "web")
    d["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.26"
    env.client.update(d)
    for _ in range(12):
        env.advance(1)
        pods = live(env)
        ready = [p for p in pods if p["status"].get("phase") == "Running"]
        assert len(pods) <= 4
        assert len(ready) >= 3
        env.reap()
        env.run_all(node="worker-1")
    images = {p["spec"]["containers"][0]["image"] for p in live(env)}
    assert images == {"nginx:1.26"} and len(live(env)) == 3
    rss = {r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: r["spec"]["replicas"]
           for r in env.client.list("rs", "default")["items"]}
    assert rss == {"1": 0, "2": 3}


def test_rollback_to_revision_1_reuses_the_old_replicaset(env):
    env.client.create(deployment(2))
    settle(env)
    first = env.client.list("rs", "default")["items"][0]["metadata"]["name"]
    d = env.client.get("deploy", "web")
    d["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.26"
    env.client.update(d)
    settle(env, rounds=8)
    assert rollback(env.cm_client, "web", "default", to_revision=1) == "deployment.apps/web rolled back"
    settle(env, rounds=8)
    rs = env.client.get("rs", first)
    assert rs["spec"]["replicas"] == 2
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1"
    assert {p["spec"]["containers"][0]["image"] for p in live(env)} == {"nginx:1.25"}
    assert env.client.get("deploy", "web")["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"


def test_paused_deployment_does_not_roll_out(env):
    env.client.create(deployment(2))
    settle(env)
    env.client.patch("deployments", "web", {"spec": {"paused": True}}, namespace="default")
    env.advance(1)
    d = env.client.get("deploy", "web")
    d["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.26"
    env.client.update(d)
    settle(env)
    assert len(env.client.list("rs", "default")["items"]) == 1
    prog = {c["type"]: c for c in env.client.get("deploy", "web")["status"]["conditions"]}["Progressing"]
    assert prog["reason"] == "DeploymentPaused"


def test_revision_history_limit_deletes_old_replicasets(env):
    d = deployment(1)
    d["spec"]["revisionHistoryLimit"] = 1
    env.client.create(d)
    settle(env)
    for tag in ("1.26", "1.27", "1.28"):
        d = env.client.get("deploy", "web")
        d["spec"]["template"]["spec"]["containers"][0]["image"] = f"nginx:{tag}"
        env.client.update(d)
        settle(env, rounds=6)
    revs = sorted(r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                  for r in env.client.list("rs", "default")["items"])
    assert revs == ["3", "4"]


def test_fenceposts_round_surge_up_and_unavailable_down():
    assert resolve_fenceposts("25%", "25%", 10) == (3, 2)
    assert resolve_fenceposts(0, 0, 3) == (0, 1)


def test_template_hash_is_stable_and_changes_with_the_template():
    other = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "x"}]}}
    assert compute_hash(TEMPLATE) == compute_hash(dict(TEMPLATE))
    assert compute_hash(TEMPLATE) != compute_hash(other)
    assert compute_hash(TEMPLATE) != compute_hash(TEMPLATE, 1)
