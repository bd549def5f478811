"""CNI: the flannel manifest, flanneld writing the node's CNI config, host-local pod addresses."""

from __future__ import annotations

import copy

import pytest
import yaml

from aivle_k8s.cluster.apiserver import auth
from aivle_k8s.cluster.client import APIClient
from aivle_k8s.cluster.cni import (FLANNEL_MANIFEST, FLANNEL_URL, HostLocalIPAM, flannel_cni_plugin_image,
                                   flannel_image, publish_manifests)
from aivle_k8s.cluster.kube_proxy import KubeProxy
from test_kubelet import Cluster, world  # noqa: F401  (fixture)


@pytest.fixture
def flannel_rbac(monkeypatch):
    """The API server's static policy has no rule for flannel's ServiceAccount yet (its ClusterRole
    is stored but RBAC objects are not enforced): grant what the manifest's ClusterRole grants."""
    monkeypatch.setitem(auth.POLICY, "user:system:serviceaccount:kube-flannel:flannel",
                        (auth._r("get list watch", '""', "nodes pods"), auth._r("patch", '""', "nodes/status")))
    auth._RULE_CACHE.clear()
    yield
    auth._RULE_CACHE.clear()


def daemonset_pods(c, ds):
    """What the DaemonSet controller does (not part of these tests): one pod per node."""
    for node in c.machines:
        tpl = copy.deepcopy(ds["spec"]["template"])
        tpl["metadata"].update(name=f"{ds['metadata']['name']}-{node}", namespace=ds["metadata"]["namespace"])
        tpl["spec"]["nodeName"] = node
        # admission.py refuses system-node-critical outside kube-system (real clusters allow it since 1.17)
        tpl["spec"].pop("priorityClassName", None)
        c.admin.create({"apiVersion": "v1", "kind": "Pod", **tpl})


def test_manifests_are_published_at_their_real_urls(world):
    publish_manifests(world)
    m = world.machine("box")
    out = m.sh(f"curl -sL {FLANNEL_URL}").stdout
    docs = [d for d in yaml.safe_load_all(out) if d]
    kinds = [d["kind"] for d in docs]
    assert kinds == ["Namespace", "ClusterRole", "ClusterRoleBinding", "ServiceAccount", "ConfigMap", "DaemonSet"]
    ds = docs[-1]["spec"]["template"]["spec"]
    assert ds["hostNetwork"] is True and {"operator": "Exists", "effect": "NoSchedule"} in ds["tolerations"]
    assert ds["containers"][0]["image"] == "docker.io/flannel/flannel:v0.25.5"
    assert '"Network": "10.244.0.0/16"' in docs[4]["data"]["net-conf.json"]


def test_host_local_ipam_hands_out_addresses_after_the_gateway(world):
    m = world.machine("n1")
    from test_kubelet import write_flannel_files

    write_flannel_files(m, "10.244.3.0/24")
    ipam = HostLocalIPAM(m)
    a, b = ipam.allocate("p1"), ipam.allocate("p2")
    assert (a, b) == ("10.244.3.2", "10.244.3.3")
    ipam.release("p1", a)
    assert ipam.allocate("p3") == "10.244.3.4"  # round-robin after the last reserved, like host-local
    assert m.fs.read_text("/var/lib/cni/networks/cbr0/10.244.3.3").startswith("p2")


def test_flannel_daemonset_writes_cni_config_and_nodes_become_ready(world, flannel_rbac):
    c = Cluster(world, workers=("node-1", "node-2"), cni=False)
    hub = world.docker_hub
    hub.put_image("flannel/flannel", "v0.25.5", flannel_image())
    hub.put_image("flannel/flannel-cni-plugin", "v1.5.1-flannel1", flannel_cni_plugin_image())
    for i, node in enumerate(c.machines):
        c.admin.patch("nodes", node, {"spec": {"podCIDR": f"10.244.{i + 1}.0/24"}})
    for name, m in c.machines.items():  # kube-proxy makes 10.96.0.1 reach the API server
        KubeProxy(world.net, name, APIClient(world.net, m.netns, c.server, "system:kube-proxy"), world.loop).start()
    assert c.node_ready("node-1")["reason"] == "KubeletNotReady"
    docs = [d for d in yaml.safe_load_all(FLANNEL_MANIFEST) if d]
    for d in docs:
        c.admin.create(d)
    daemonset_pods(c, docs[-1])
    world.advance(30)
    for name, m in c.machines.items():
        assert m.fs.exists("/etc/cni/net.d/10-flannel.conflist")
        assert "FLANNEL_SUBNET=10.244." in m.fs.read_text("/run/flannel/subnet.env")
        assert c.node_ready(name)["status"] == "True"
    flannel = c.admin.get("pods", "kube-flannel-ds-node-2", "kube-flannel")
    assert flannel["status"]["phase"] == "Running" and flannel["status"]["podIP"] == c.machines["node-2"].ip
    c.run("web", node="node-2")
    world.advance(10)
    assert c.pod("web")["status"]["podIP"] == "10.244.2.2"


def test_pod_sandbox_fails_while_flannel_has_not_written_its_subnet(world):
    c = Cluster(world, cni=False)
    m = c.machines["node-1"]
    from aivle_k8s.cluster.cni import flannel_conflist

    m.fs.makedirs("/etc/cni/net.d")
    m.fs.write("/etc/cni/net.d/10-flannel.conflist", flannel_conflist())
    c.run("web")
    world.advance(5)
    ev = c.events("web", "FailedCreatePodSandBox")[0]
    assert ev["message"].endswith('plugin type="flannel" failed (add): loadFlannelSubnetEnv failed: open '
                                  '/run/flannel/subnet.env: no such file or directory')
    assert c.state("web") == ("waiting", "ContainerCreating")


def test_flanneld_sends_client_gos_default_user_agent():
    """flanneld sets no User-Agent: client-go's default for a binary built outside Kubernetes is sent."""
    import aivle_k8s as ak
    from aivle_k8s.cluster import trace
    from aivle_k8s.cluster.bootstrap import build_cluster

    world = ak.World(seed=0)
    cluster = build_cluster(world, workers=())
    with trace.audit(cluster) as log:
        assert cluster.kubectl("delete pod -n kube-flannel -l app=flannel").exit_code == 0
        world.advance(30)
    mine = [e for e in log.events if e.user == "system:serviceaccount:kube-flannel:flannel"]
    assert mine and {e.user_agent for e in mine} == {"flanneld/v0.0.0 (linux/amd64) kubernetes/$Format"}
    assert {trace.who(e, world) for e in mine} == {("flanneld", "master", "")}
