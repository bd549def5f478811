"""The API client and informers reach the API server through the simulated network."""

import random

import pytest

from aivle_k8s.cluster.apiserver import APIServer
from aivle_k8s.cluster.apiserver.errors import ConnectionRefused, ForbiddenError
from aivle_k8s.cluster.apiserver.auth import user_info
from aivle_k8s.cluster.client import APIClient, Informer, ServerEndpoint, object_key, user_agent
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


# -- what travels with every request: User-Agent and source address --------------------------------------------
class _Recorder:
    """A stand-in API server that keeps the ``user=`` each verb receives."""

    def __init__(self):
        self.users = []

    def __getattr__(self, verb):
        def call(*args, user, **kwargs):
            self.users.append((verb, user))
            return {}
        return call


@pytest.fixture
def recorded():
    net = Network(random.Random(0))
    master = net.namespace("master", ["10.0.0.10"], node="master")
    worker = net.namespace("w1", ["10.0.0.11"], node="w1")
    server = _Recorder()
    endpoint = ServerEndpoint(server)
    master.listen(6443, endpoint)
    return net, master, worker, server


def test_user_agent_strings_are_client_gos():
    assert user_agent("kube-proxy") == "kube-proxy/v1.30.2 (linux/amd64) kubernetes/3968350"
    assert user_agent("kube-scheduler", suffix="scheduler").endswith("kubernetes/3968350/scheduler")
    assert user_agent("kube-controller-manager", suffix="system:serviceaccount:kube-system:job-controller") == \
        ("kube-controller-manager/v1.30.2 (linux/amd64) kubernetes/3968350/"
         "system:serviceaccount:kube-system:job-controller")
    assert user_agent("kubelet", "1.30.8-1.1").startswith("kubelet/v1.30.8 (linux/amd64) kubernetes/")


def test_every_request_carries_the_user_agent_and_the_source_address(recorded):
    net, master, worker, server = recorded
    proxy = APIClient(net, worker, "https://10.0.0.10:6443", "system:serviceaccount:kube-system:kube-proxy",
                      user_agent=user_agent("kube-proxy"))
    proxy.list("services")
    proxy.get("nodes", "w1")
    proxy.watch("endpointslices", callback=lambda e: None)
    assert [v for v, _ in server.users] == ["list", "get", "watch"]
    for _, u in server.users:
        assert u.user_agent == "kube-proxy/v1.30.2 (linux/amd64) kubernetes/3968350"
        assert u.source_ips == ("10.0.0.11",) and u.source_ip == "10.0.0.11"
        assert u.name == "system:serviceaccount:kube-system:kube-proxy"
        assert "system:serviceaccounts:kube-system" in u.groups
        assert u == user_info("system:serviceaccount:kube-system:kube-proxy")  # authorized like the credential


def test_source_address_is_loopback_over_loopback_and_can_be_given(recorded):
    net, master, worker, server = recorded
    APIClient(net, master, "https://127.0.0.1:6443", "system:apiserver").list("pods")
    APIClient(net, worker, "https://10.0.0.10:6443", "kubernetes-admin", source_ip="192.168.1.5").list("pods")
    APIClient(net, worker, "https://10.0.0.10:6443", "kubernetes-admin").list("pods")
    assert [u.source_ips for _, u in server.users] == [("127.0.0.1",), ("192.168.1.5",), ("10.0.0.11",)]
    assert server.users[2][1].user_agent == ""  # no User-Agent given: none sent


def test_with_user_keeps_the_user_agent_and_with_user_agent_changes_it(recorded):
    net, master, worker, server = recorded
    cm = APIClient(net, master, "https://10.0.0.10:6443", "system:kube-controller-manager",
                   user_agent=user_agent("kube-controller-manager"))
    cm.with_user("system:serviceaccount:kube-system:job-controller").list("jobs")
    cm.with_user_agent(user_agent("kube-controller-manager", suffix="job-controller")).list("jobs")
    (_, a), (_, b) = server.users
    assert a.name == "system:serviceaccount:kube-system:job-controller" and a.user_agent == cm.user_agent
    assert b.name == "system:kube-controller-manager" and b.user_agent.endswith("/job-controller")
    assert cm.user_agent == user_agent("kube-controller-manager")  # the original is unchanged


def test_a_real_server_authorizes_the_request_identity_like_the_credential(env):
    loop, net, api, client = env
    node = APIClient(net, client.src, client.server, "system:node:w1", user_agent=user_agent("kubelet"))
    with pytest.raises(ForbiddenError):
        node.delete("namespaces", "default")
    admin = client.with_user_agent(user_agent("kubectl"))
    assert admin.create(POD)["metadata"]["name"] == "web"
