"""The pod garbage collector removes pods whose node is gone, after a 40 s quarantine."""

import pytest

from aivle_k8s.cluster.controllers import PodGCController
from aivle_k8s.cluster.controllers.testing import TestCluster

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
       "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}


@pytest.fixture
def env():
    env = TestCluster()
    env.add_node("worker-1")
    env.client.create(POD)
    env.run_pod("web", node="worker-1")
    env.gc = PodGCController(env.cm_client, env.loop)
    env.gc.start()
    return env


def names(env):
    return [p["metadata"]["name"] for p in env.pods()]


def test_pods_of_a_deleted_node_are_removed_after_the_quarantine(env):
    env.client.delete("nodes", "worker-1")
    env.advance(39)
    assert names(env) == ["web"]
    env.advance(2)
    assert names(env) == []


def test_pods_of_existing_nodes_stay(env):
    env.advance(120)
    assert names(env) == ["web"]


def test_a_node_that_comes_back_within_the_quarantine_keeps_its_pods(env):
    env.client.delete("nodes", "worker-1")
    env.advance(10)
    env.add_node("worker-1")
    env.advance(60)
    assert names(env) == ["web"]
