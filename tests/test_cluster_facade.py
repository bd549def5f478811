"""The Cluster façade: kubectl command lines and Python collections."""

import pytest

from aivle_k8s.cluster.apiserver.errors import NotFoundError
from aivle_k8s.cluster.cluster import Cluster, KubeObject

from test_kubectl import DEPLOY, SVC, Env


@pytest.fixture
def env():
    return Env()


def test_collections_list_get_create_delete_and_reprs(env):
    c = env.cluster
    env.node("worker-1", "10.0.0.11")
    env.pod("web-1", node="worker-1", labels={"app": "web"})
    assert repr(c.pods.get("web-1")) == "<Pod default/web-1 Running on worker-1>"
    assert repr(c.nodes.get("worker-1", None)) == "<Node worker-1 Ready>"
    assert [p.name for p in c.pods.list(label_selector="app=web")] == ["web-1"]
    assert c.pods.list(label_selector={"app": "nope"}) == []
    d = c.deployments.create(DEPLOY)
    assert repr(d) == "<Deployment default/web 0/2 ready>"
    assert d.spec["replicas"] == 2 and d.labels == {"app": "web", "tier": "front"}
    svc = c.services.create(SVC)
    assert repr(svc).startswith("<Service default/web ClusterIP 10.96.")
    assert [n.name for n in c.namespaces.list()] == ["default", "kube-node-lease", "kube-public", "kube-system"]
    assert repr(c.namespaces.get("default")) == "<Namespace default Active>"
    c.configmaps.create({"metadata": {"name": "cfg"}, "data": {"a": "1"}})
    assert repr(c.configmaps.get("cfg")) == "<ConfigMap default/cfg 1 keys>"
    c.deployments.delete("web")
    with pytest.raises(NotFoundError):
        c.deployments.get("web")
    assert isinstance(c.pods.list(all_namespaces=True)[0], KubeObject)


def test_apply_and_kubectl_through_the_machine(env):
    c = env.cluster
    r = c.apply(DEPLOY)
    assert r.ok and r.stdout == "deployment.apps/web created\n"
    assert repr(c.kubectl("get deploy")).startswith("NAME   READY   UP-TO-DATE   AVAILABLE   AGE\nweb    0/2")
    assert c.kubectl(["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]).stdout == "2"


def test_from_client_runs_the_same_commands(env):
    direct = Cluster.from_client(env.client, env.world)
    env.world.advance(30)
    a = direct.kubectl("get ns")
    b = env.cluster.kubectl("get ns")
    assert a.stdout == b.stdout and a.exit_code == 0
    r = direct.kubectl("get poods")
    assert r.exit_code == 1 and r.stderr == 'error: the server doesn\'t have a resource type "poods"\n'
    direct.apply(DEPLOY)
    assert direct.deployments.get("web").spec["replicas"] == 2


def test_wait_for_advances_the_clock(env):
    c = env.cluster
    t0 = env.world.now
    env.world.loop.call_later(7, lambda: env.pod("late"))
    assert c.wait_for(lambda: c.pods.get("late"), timeout=30)
    assert env.world.now - t0 == pytest.approx(7)
    assert not c.wait_for(lambda: c.pods.exists("never"), timeout=5)
