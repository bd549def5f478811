"""The API client and informers reach the API server through the simulated network."""

import random

import pytest

from aivle_k8s.cluster.apiserver import APIServer
from aivle_k8s.cluster.apiserver.errors import ConnectionRefused, ForbiddenError
from aivle_k8s.cluster.client import APIClient, Informer, ServerEndpoint, object_key
from aivle_k8s.cluster.etcd import Store
from aivle_k8s.linux.net import Network
from aivle_k8s.sim import Loop
from aivle_k8s.sim.errors import NetworkError

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
       "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}


@pytest.fixture
def env():
    loop = Loop()
    net = Network(random.Random(0))
    master = net.namespace("master", ["10.0.0.10"], node="master")
    worker = net.namespace("w1", ["10.0.0.11"], node="w1")
    api = APIServer(Store(loop), now=lambda: "2025-03-03T09:00:00Z", rng=random.Random(0), loop=loop,
                    address="10.0.0.10")
    master.listen(6443, ServerEndpoint(api))
    client = APIClient(net, worker, "https://10.0.0.10:6443", "kubernetes-admin")
    return loop, net, api, client


def events(informer):
    seen = []
    informer.add_handler(lambda o: seen.append(("add", object_key(o))),
                         lambda old, new: seen.append(("update", object_key(new))),
                         lambda o: seen.append(("delete", object_key(o))))
    return seen


def test_client_calls_the_server_as_its_user(env):
    loop, net, api, client = env
    client.create(POD)
    assert client.get("pods", "web", "default")["spec"]["containers"][0]["image"] == "nginx:1.25"
    node = client.with_user("system:node:w1")
    with pytest.raises(ForbiddenError):
        node.delete("namespaces", "default")


def test_stopped_server_is_connection_refused(env):
    loop, net, api, client = env
    api.stop()
    with pytest.raises(ConnectionRefused) as e:
        client.list("pods")
    assert "The connection to the server 10.0.0.10:6443 was refused" in str(e.value)


def test_partition_is_a_timeout(env):
    loop, net, api, client = env
    net.partition("master", "w1")
    with pytest.raises(NetworkError) as e:
        client.list("pods")
    assert "i/o timeout" in str(e.value)


def test_wrong_port_is_refused(env):
    loop, net, api, client = env
    bad = APIClient(net, client.src, "https://10.0.0.10:6444", "kubernetes-admin")
    with pytest.raises(ConnectionRefused):
        bad.list("pods")


def test_informer_lists_then_follows_changes(env):
    loop, net, api, client = env
    client.create(POD)
    informer = Informer(client, "pods", loop=loop)
    seen = events(informer)
    informer.start()
    assert seen == [("add", "default/web")] and informer.synced
    client.patch("pods", "web", {"metadata": {"labels": {"app": "web"}}}, namespace="default")
    client.delete("pods", "web", "default", grace_period_seconds=0)
    loop.advance(1)
    assert seen == [("add", "default/web"), ("update", "default/web"), ("delete", "default/web")]
    assert informer.store == {}


def test_informer_relists_after_the_server_restarts(env):
    loop, net, api, client = env
    informer = Informer(client, "pods", loop=loop, relist_backoff=2)
    seen = events(informer)
    informer.start()
    api.stop()
    loop.advance(5)  # retries fail while the server is down
    api.start()
    client.create(POD)
    loop.advance(3)
    assert ("add", "default/web") in seen
    assert informer.get("default/web") is not None
    assert informer.relists >= 2
