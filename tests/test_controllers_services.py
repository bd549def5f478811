"""Endpoints and EndpointSlices follow pod readiness; token cleaner; default ServiceAccounts; the work queue."""

import base64

import pytest

from aivle_k8s.cluster.controller_manager import ControllerManager
from aivle_k8s.cluster.controllers import WorkQueue
from aivle_k8s.cluster.controllers.base import rfc3339
from aivle_k8s.cluster.controllers.testing import TestCluster
from aivle_k8s.sim import Loop
from aivle_k8s.sim.errors import NetworkError

POD_SPEC = {"containers": [{"name": "web", "image": "nginx", "ports": [{"name": "http", "containerPort": 8080}]}]}


@pytest.fixture
def env():
    env = TestCluster()
    env.add_node("worker-1")
    env.cm = ControllerManager(env.cm_client, env.loop, controllers="*,bootstrapsigner,tokencleaner")
    env.cm.start()
    return env


def make_pods(env, n=2):
    for i in range(n):
        env.client.create({"apiVersion": "v1", "kind": "Pod",
                           "metadata": {"name": f"web-{i}", "labels": {"app": "web"}}, "spec": POD_SPEC})
    env.client.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                       "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80,
                                                                       "targetPort": "http"}]}})


def test_endpoints_list_ready_pods_with_named_target_port_resolved(env):
    make_pods(env)
    env.run_pod("web-0", node="worker-1")
    env.run_pod("web-1", node="worker-1", ready=False)
    env.advance(1)
    subset, = env.client.get("endpoints", "web")["subsets"]
    ip0 = env.client.get("pods", "web-0")["status"]["podIP"]
    ip1 = env.client.get("pods", "web-1")["status"]["podIP"]
    assert [a["ip"] for a in subset["addresses"]] == [ip0]
    assert [a["ip"] for a in subset["notReadyAddresses"]] == [ip1]
    assert subset["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]


def test_endpoints_follow_readiness(env):
    make_pods(env, 1)
    env.run_pod("web-0", node="worker-1", ready=False)
    env.advance(1)
    assert "addresses" not in env.client.get("endpoints", "web")["subsets"][0]
    env.run_pod("web-0", ready=True)
    env.advance(1)
    assert len(env.client.get("endpoints", "web")["subsets"][0]["addresses"]) == 1


def test_endpointslice_is_labelled_owned_and_has_conditions(env):
    make_pods(env, 1)
    env.run_pod("web-0", node="worker-1")
    env.advance(1)
    s, = env.client.list("endpointslices", "default")["items"]
    assert s["metadata"]["name"].startswith("web-")
    assert s["metadata"]["labels"]["kubernetes.io/service-name"] == "web"
    assert s["metadata"]["ownerReferences"][0]["kind"] == "Service"
    ep, = s["endpoints"]
    assert ep["conditions"] == {"ready": True, "serving": True, "terminating": False}
    assert s["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]


def test_services_without_selector_are_left_alone(env):
    env.advance(1)
    assert env.client.get("endpoints", "kubernetes")["subsets"][0]["addresses"] == [{"ip": "10.0.0.10"}]
    assert env.client.list("endpointslices", "default")["items"] == []


def test_token_cleaner_deletes_expired_bootstrap_tokens(env):
    expiry = base64.b64encode(rfc3339(env.loop.now + 3600).encode()).decode()
    env.client.create({"apiVersion": "v1", "kind": "Secret", "type": "bootstrap.kubernetes.io/token",
                       "metadata": {"name": "bootstrap-token-abcdef", "namespace": "kube-system"},
                       "data": {"token-id": base64.b64encode(b"abcdef").decode(),
                                "token-secret": base64.b64encode(b"0123456789abcdef").decode(),
                                "expiration": expiry}})
    env.advance(3500)
    assert env.client.get("secrets", "bootstrap-token-abcdef", "kube-system")
    env.advance(200)
    assert [s for s in env.client.list("secrets", "kube-system")["items"]
            if s["metadata"]["name"] == "bootstrap-token-abcdef"] == []


def _b64(text):
    return base64.b64encode(text.encode()).decode()


def _token_secret(tid, secret, expires_in, env, signing=True):
    data = {"token-id": _b64(tid), "token-secret": _b64(secret),
            "expiration": _b64(rfc3339(env.loop.now + expires_in))}
    if signing:
        data["usage-bootstrap-signing"] = _b64("true")
    return {"apiVersion": "v1", "kind": "Secret", "type": "bootstrap.kubernetes.io/token",
            "metadata": {"name": f"bootstrap-token-{tid}", "namespace": "kube-system"}, "data": data}


def test_bootstrap_signer_signs_cluster_info_for_live_signing_tokens(env):
    from aivle_k8s.cluster.kubeadm.tokens import jws_verify

    kubeconfig = "apiVersion: v1\nkind: Config\n"
    env.client.create({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "cluster-info", "namespace": "kube-public"},
                       "data": {"kubeconfig": kubeconfig}})
    env.client.create(_token_secret("abcdef", "0123456789abcdef", 3600, env))
    env.client.create(_token_secret("zzzzzz", "0123456789zzzzzz", 7200, env, signing=False))
    env.advance(1)
    data = env.client.get("configmaps", "cluster-info", "kube-public")["data"]
    assert sorted(data) == ["jws-kubeconfig-abcdef", "kubeconfig"]
    assert jws_verify(data["jws-kubeconfig-abcdef"], "abcdef.0123456789abcdef", kubeconfig)
    # expired: the signature goes (and the token cleaner deletes the Secret)
    env.advance(3600)
    data = env.client.get("configmaps", "cluster-info", "kube-public")["data"]
    assert sorted(data) == ["kubeconfig"]
    # a signature someone adds by hand for a token that does not exist is removed
    cm = env.client.get("configmaps", "cluster-info", "kube-public")
    cm["data"]["jws-kubeconfig-qqqqqq"] = "forged..sig"
    env.client.update(cm)
    env.advance(1)
    assert sorted(env.client.get("configmaps", "cluster-info", "kube-public")["data"]) == ["kubeconfig"]


def test_star_leaves_out_the_bootstrap_token_controllers():
    env = TestCluster()
    cm = ControllerManager(env.cm_client, env.loop, controllers="*")
    assert "tokencleaner" not in cm.controllers and "bootstrapsigner" not in cm.controllers
    assert "deployment" in cm.controllers
    both = ControllerManager(env.cm_client, env.loop, controllers="*,bootstrapsigner,tokencleaner,-deployment")
    assert {"tokencleaner", "bootstrapsigner"} <= set(both.controllers) and "deployment" not in both.controllers


def test_every_namespace_gets_a_default_service_account(env):
    env.client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}})
    env.advance(1)
    assert env.client.get("serviceaccounts", "default", "team-a")["metadata"]["name"] == "default"
    env.client.delete("serviceaccounts", "default", "team-a")
    env.advance(1)
    assert env.client.get("serviceaccounts", "default", "team-a")


def test_controllers_catch_up_after_the_api_server_restarts(env):
    env.api.stop()
    env.advance(10)
    env.api.start()
    make_pods(env, 1)
    env.run_pod("web-0", node="worker-1")
    env.advance(5)
    assert env.client.get("endpoints", "web")["subsets"][0]["addresses"]


def test_work_queue_backs_off_exponentially_on_the_simulated_clock():
    loop = Loop()
    calls = []

    def handler(key):
        calls.append(loop.now)
        if len(calls) < 4:
            raise NetworkError("connection refused")

    q = WorkQueue(loop, handler)
    q.add("k")
    loop.advance(1)
    assert [round(t, 3) for t in calls] == [0.0, 0.005, 0.015, 0.035]
    assert q.num_requeues("k") == 0


def test_work_queue_deduplicates():
    loop = Loop()
    seen = []
    q = WorkQueue(loop, seen.append)
    for k in ("a", "b", "a", "a"):
        q.add(k)
    loop.advance(0)
    assert seen == ["a", "b"]


def test_controller_manager_leader_election():
    env = TestCluster()
    a = ControllerManager(env.cm_client, env.loop, leader_elect=True, identity="cm-a")
    b = ControllerManager(env.cm_client, env.loop, leader_elect=True, identity="cm-b")
    a.start()
    b.start()
    env.advance(1)
    assert a.running and not b.running
    assert env.client.get("leases", "kube-controller-manager", "kube-system")["spec"]["holderIdentity"] == "cm-a"
    a.stop()
    env.advance(20)
    assert b.running


def test_the_leader_renews_its_lease_without_reading_it_first():
    from test_kubelet_idle import Counting

    env = TestCluster()
    client = Counting(env.cm_client)
    cm = ControllerManager(client, env.loop, controllers=["deployment"], leader_elect=True, identity="cm-a")
    cm.start()
    env.advance(1)
    gets, updates = client.count("get", "leases"), client.count("update", "Lease")
    env.advance(20)
    assert client.count("update", "Lease") - updates == 10  # every 2 s (--leader-elect-retry-period)
    assert client.count("get", "leases") == gets
    # another writer: the optimistic update conflicts, the slow path reads it and renews
    lease = env.client.get("leases", "kube-controller-manager", "kube-system")
    lease["metadata"].setdefault("annotations", {})["touched"] = "yes"
    env.client.update(lease)
    env.advance(2)
    assert client.count("get", "leases") == gets + 1
    assert cm.running
    lease = env.client.get("leases", "kube-controller-manager", "kube-system")
    assert lease["spec"]["holderIdentity"] == "cm-a" and lease["spec"]["leaseTransitions"] == 0


# -- garbage collector ----------------------------------------------------------------------------
DEPLOY = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
          "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                   "template": {"metadata": {"labels": {"app": "web"}}, "spec": POD_SPEC}}}


def test_gc_deletes_dependents_of_a_deleted_deployment(env):
    env.client.create(DEPLOY)
    env.advance(2)
    assert len(env.pods()) == 2
    env.client.delete("deployments", "web", "default")
    env.advance(2)
    assert env.client.list("rs", "default")["items"] == []
    assert env.pods() == []


def test_gc_orphan_propagation_keeps_the_replicaset(env):
    env.client.create(DEPLOY)
    env.advance(2)
    env.client.delete("deployments", "web", "default", propagation_policy="Orphan")
    env.advance(2)
    rs, = env.client.list("rs", "default")["items"]
    assert not rs["metadata"].get("ownerReferences")
    assert len(env.pods()) == 2


def test_gc_foreground_deletes_dependents_before_the_owner(env):
    env.client.create(DEPLOY)
    env.advance(2)
    env.client.delete("deployments", "web", "default", propagation_policy="Foreground")
    assert env.client.get("deployments", "web", "default")["metadata"]["deletionTimestamp"]
    env.advance(3)
    assert env.client.list("deployments", "default")["items"] == []
    assert env.pods() == []
