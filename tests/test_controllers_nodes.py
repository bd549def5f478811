"""Node lifecycle (Unknown after the grace period, taints, NoExecute eviction) and node IPAM."""

import pytest

from aivle_k8s.cluster.controller_manager import ControllerManager
from aivle_k8s.cluster.controllers.testing import TestCluster
from aivle_k8s.cluster.scheduler_component import KubeScheduler

DEPLOY = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
          "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                   "template": {"metadata": {"labels": {"app": "web"}},
                                "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}}}


@pytest.fixture
def env():
    env = TestCluster()
    env.cm = ControllerManager(env.cm_client, env.loop, cluster_cidr="10.244.0.0/16")
    env.cm.start()
    env.sched = KubeScheduler(env.sched_client, env.loop)
    env.sched.start()
    env.add_node("worker-1", untaint=False)
    env.add_node("worker-2", untaint=False)
    env.advance(1)
    return env


def kubelet_alive(env, *nodes, seconds=10):
    """Kubelets of ``nodes`` renew their Lease every 10 s for ``seconds``; the others are silent."""
    for _ in range(int(seconds // 10)):
        for n in nodes:
            env.renew_lease(n)
            env.set_node_ready(n)
        env.advance(10)


def ready(env, node):
    return next(c for c in env.client.get("nodes", node)["status"]["conditions"] if c["type"] == "Ready")


def taints(env, node):
    return [(t["key"], t["effect"]) for t in env.client.get("nodes", node)["spec"].get("taints") or []]


def test_new_nodes_lose_the_not_ready_taint_once_ready(env):
    assert taints(env, "worker-1") == []


def test_node_ipam_gives_each_node_a_pod_cidr_in_creation_order(env):
    assert env.client.get("nodes", "worker-1")["spec"]["podCIDR"] == "10.244.0.0/24"
    assert env.client.get("nodes", "worker-2")["spec"]["podCIDRs"] == ["10.244.1.0/24"]


def test_silent_node_becomes_unknown_after_40s_not_before(env):
    start = env.loop.now
    env.renew_lease("worker-1")
    env.set_node_ready("worker-1")
    env.loop.run_until_time(start + 39)
    assert ready(env, "worker-1")["status"] == "True"
    env.loop.run_until_time(start + 46)
    cond = ready(env, "worker-1")
    assert (cond["status"], cond["reason"], cond["message"]) == ("Unknown", "NodeStatusUnknown",
                                                                 "Kubelet stopped posting node status.")
    assert set(taints(env, "worker-1")) == {("node.kubernetes.io/unreachable", "NoSchedule"),
                                             ("node.kubernetes.io/unreachable", "NoExecute")}
    event = env.events(reason="NodeNotReady")[0]
    assert event["message"] == "Node worker-1 status is now: NodeNotReady"
    assert event["source"]["component"] == "node-controller"


def test_not_ready_node_gets_not_ready_taints_and_loses_them_when_ready(env):
    env.set_node_ready("worker-1", False)
    env.advance(1)
    assert set(taints(env, "worker-1")) == {("node.kubernetes.io/not-ready", "NoSchedule"),
                                             ("node.kubernetes.io/not-ready", "NoExecute")}
    env.set_node_ready("worker-1", True)
    env.advance(1)
    assert taints(env, "worker-1") == []


def test_node_failure_evicts_after_300s_and_pods_are_rescheduled_elsewhere(env):
    env.client.create(DEPLOY)
    env.advance(1)
    env.run_all()
    env.advance(1)
    on_1 = [p["metadata"]["name"] for p in env.pods() if p["spec"]["nodeName"] == "worker-1"]
    assert on_1, "the scheduler spreads the two pods"
    # worker-1's kubelet dies; worker-2's keeps renewing
    kubelet_alive(env, "worker-2", seconds=50)
    assert ready(env, "worker-1")["status"] == "Unknown"
    pod = env.client.get("pods", on_1[0])
    assert next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")["status"] == "False"
    kubelet_alive(env, "worker-2", seconds=200)          # ~250 s after the taint: still there
    assert not env.client.get("pods", on_1[0])["metadata"].get("deletionTimestamp")
    kubelet_alive(env, "worker-2", seconds=100)          # past 300 s: evicted
    assert env.client.get("pods", on_1[0])["metadata"].get("deletionTimestamp")
    assert env.events(reason="TaintManagerEviction")[0]["message"] == f"Marking for deletion Pod default/{on_1[0]}"
    live = [p for p in env.pods() if not p["metadata"].get("deletionTimestamp")]
    assert len(live) == 2 and {p["spec"].get("nodeName") for p in live} == {"worker-2"}


def test_node_coming_back_is_ready_and_untainted(env):
    kubelet_alive(env, "worker-2", seconds=60)
    assert ready(env, "worker-1")["status"] == "Unknown"
    kubelet_alive(env, "worker-1", "worker-2", seconds=20)
    assert ready(env, "worker-1")["status"] == "True"
    assert taints(env, "worker-1") == []
