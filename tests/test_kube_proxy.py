"""kube-proxy: Services become NAT rules on each node (ClusterIP, NodePort, REJECT without endpoints)."""

from __future__ import annotations

import pytest

from aivle_k8s.cluster.client import APIClient
from aivle_k8s.cluster.kube_proxy import KubeProxy
from aivle_k8s.linux.http import request
from aivle_k8s.sim.errors import NetworkError
from test_kubelet import Cluster, world  # noqa: F401  (fixture)


@pytest.fixture
def env(world):
    c = Cluster(world, workers=("node-1", "node-2"))
    c.run("web-1", node="node-2")
    c.admin.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
                    "spec": {"type": "NodePort", "selector": {"app": "web"},
                             "ports": [{"port": 80, "targetPort": 80, "nodePort": 30080}]}})
    world.advance(10)
    ip = c.pod("web-1")["status"]["podIP"]
    c.admin.create({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web", "namespace": "default"},
                    "subsets": [{"addresses": [{"ip": ip}], "ports": [{"port": 80, "protocol": "TCP"}]}]})
    c.proxies = {}
    for name, m in c.machines.items():
        client = APIClient(world.net, m.netns, c.server, "system:kube-proxy")
        c.proxies[name] = KubeProxy(world.net, name, client, world.loop).start()
    world.advance(1)
    return c


def test_cluster_ip_reaches_a_pod_on_another_node(env):
    svc_ip = env.admin.get("services", "web", "default")["spec"]["clusterIP"]
    node1 = env.machines["node-1"]
    assert request(env.world.net, node1.netns, "GET", f"http://{svc_ip}/").body == b"hello from kit\n"


def test_node_port_on_every_node_reaches_the_pod(env):
    for m in env.machines.values():
        resp = request(env.world.net, env.master.netns, "GET", f"http://{m.ip}:30080/")
        assert resp.status == 200


def test_service_without_endpoints_is_refused(env):
    env.admin.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "empty", "namespace": "default"},
                      "spec": {"selector": {"app": "none"}, "ports": [{"port": 8080}]}})
    env.world.advance(1)
    ip = env.admin.get("services", "empty", "default")["spec"]["clusterIP"]
    with pytest.raises(NetworkError) as e:
        request(env.world.net, env.machines["node-1"].netns, "GET", f"http://{ip}:8080/")
    assert str(e.value) == f"Failed to connect to {ip} port 8080: Connection refused"
    assert "/* default/empty has no endpoints */" in env.proxies["node-1"].rules_table()


def test_endpoint_changes_are_followed(env):
    env.admin.delete("endpoints", "web", "default")
    env.world.advance(1)
    ip = env.admin.get("services", "web", "default")["spec"]["clusterIP"]
    with pytest.raises(NetworkError):
        request(env.world.net, env.machines["node-1"].netns, "GET", f"http://{ip}/")


def test_rules_table_looks_like_iptables(env):
    table = env.proxies["node-1"].rules_table()
    assert table.startswith("Chain KUBE-SERVICES (2 references)\ntarget     prot opt source")
    assert "/* default/web cluster IP */ tcp dpt:80" in table
    assert "/* default/kubernetes:https cluster IP */ tcp dpt:443" in table
    assert "Chain KUBE-SVC-" in table and "/* default/web -> 10.244.2.2:80 */" in table
