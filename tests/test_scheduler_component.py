"""The running kube-scheduler: binds pending pods, explains failures, retries when nodes change."""

import pytest

from aivle_k8s.cluster.controllers.testing import TestCluster
from aivle_k8s.cluster.scheduler_component import KubeScheduler


def pod(name, cpu="100m", **spec):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "nginx",
                                     "resources": {"requests": {"cpu": cpu}}}], **spec}}


@pytest.fixture
def env():
    env = TestCluster()
    env.sched = KubeScheduler(env.sched_client, env.loop)
    env.sched.start()
    return env


def test_binds_pending_pods_and_records_scheduled(env):
    env.add_node("worker-1")
    env.client.create(pod("web-1"))
    env.advance(1)
    assert env.client.get("pods", "web-1")["spec"]["nodeName"] == "worker-1"
    ev, = env.events(reason="Scheduled")
    assert ev["message"] == "Successfully assigned default/web-1 to worker-1"
    assert ev["source"]["component"] == "default-scheduler"
    assert ev["involvedObject"]["name"] == "web-1"


def test_failed_scheduling_has_the_framework_message_then_schedules_when_a_node_appears(env):
    env.add_node("worker-1", cpu="2")
    env.client.create(pod("big", cpu="3"))
    env.advance(1)
    ev, = env.events(reason="FailedScheduling")
    assert ev["type"] == "Warning"
    assert ev["message"].startswith("0/1 nodes are available: 1 Insufficient cpu.")
    assert not env.client.get("pods", "big")["spec"].get("nodeName")
    node = env.add_node("worker-2")
    node["status"]["allocatable"]["cpu"] = "4"
    env.client.update(node, subresource="status")
    env.advance(1)
    assert env.client.get("pods", "big")["spec"]["nodeName"] == "worker-2"


def test_untolerated_taint_message(env):
    env.add_node("cp", taints=[{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}])
    env.client.create(pod("web"))
    env.advance(1)
    msg = env.events(reason="FailedScheduling")[0]["message"]
    assert msg.startswith("0/1 nodes are available: 1 node(s) had untolerated taint "
                          "{node-role.kubernetes.io/control-plane: }.")


def test_pods_of_other_schedulers_and_bound_pods_are_left_alone(env):
    env.add_node("worker-1")
    env.client.create(pod("mine", schedulerName="my-scheduler"))
    env.advance(1)
    assert not env.client.get("pods", "mine")["spec"].get("nodeName")
    assert env.events() == []


def test_bound_pods_count_against_the_node(env):
    env.add_node("worker-1", cpu="2")
    env.client.create(pod("a", cpu="1500m"))
    env.advance(1)
    env.client.create(pod("b", cpu="1"))
    env.advance(1)
    assert env.client.get("pods", "a")["spec"]["nodeName"] == "worker-1"
    assert not env.client.get("pods", "b")["spec"].get("nodeName")
    env.client.delete("pods", "a", "default", grace_period_seconds=0)
    env.advance(1)
    assert env.client.get("pods", "b")["spec"]["nodeName"] == "worker-1"


def test_survives_the_api_server_going_away(env):
    env.add_node("worker-1")
    env.advance(1)
    env.api.stop()
    env.advance(5)
    env.api.start()
    env.client.create(pod("late"))
    env.advance(3)
    assert env.client.get("pods", "late")["spec"]["nodeName"] == "worker-1"


def test_leader_election_takes_the_kube_scheduler_lease():
    env = TestCluster()
    env.add_node("worker-1")
    a = KubeScheduler(env.sched_client, env.loop, leader_elect=True, identity="a")
    b = KubeScheduler(env.sched_client, env.loop, leader_elect=True, identity="b")
    a.start()
    b.start()
    env.advance(1)
    assert a.active and not b.active
    assert env.client.get("leases", "kube-scheduler", "kube-system")["spec"]["holderIdentity"] == "a"
    a.stop()
    env.advance(20)
    assert b.active
    env.client.create(pod("web"))
    env.advance(1)
    assert env.client.get("pods", "web")["spec"]["nodeName"] == "worker-1"
