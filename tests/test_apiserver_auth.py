"""Identities, the Node + RBAC-like authorizer and NodeRestriction, with the real Forbidden messages.

Every refusal leaves etcd's revision where it was.
"""

from contextlib import contextmanager

import pytest

import aivle_k8s as ak
from aivle_k8s.cluster.apiserver import APIServer, ForbiddenError, NotFoundError, user_info
from aivle_k8s.cluster.apiserver.auth import Attributes, authorize
from aivle_k8s.cluster.etcd import Store

ADMIN = "kubernetes-admin"
KUBELET = "system:node:worker-1"
SCHEDULER = "system:kube-scheduler"


@pytest.fixture
def world():
    return ak.World(seed=0)


@pytest.fixture
def etcd(world):
    return Store(world.loop)


@pytest.fixture
def api(world, etcd):
    a = APIServer(etcd, now=world.timestamp, rng=world.rng, loop=world.loop)
    for n in ("worker-1", "worker-2"):
        a.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": n, "labels": {"kubernetes.io/hostname": n}},
                  "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.11"}]}}, user=ADMIN)
    return a


@contextmanager
def forbidden(etcd, message=None):
    before = etcd.revision
    with pytest.raises(ForbiddenError) as info:
        yield info
    if message is not None:
        assert str(info.value) == message
    assert info.value.status["code"] == 403 and info.value.status["reason"] == "Forbidden"
    assert etcd.revision == before


def pod(name="web", node=None, **spec):
    body = {"containers": [{"name": "web", "image": "nginx:1.25"}], **spec}
    if node:
        body["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": body}


def scheduled(api, name="web", node="worker-1", **spec):
    api.create(pod(name, **spec), user=ADMIN)
    api.bind(name, node, user=SCHEDULER)
    return api.get("pods", name, user=ADMIN)


def lease(name="worker-1", namespace="kube-node-lease"):
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": name, "namespace": namespace},
            "spec": {"holderIdentity": name, "leaseDurationSeconds": 40}}


# =====================================================================================
# identities
# =====================================================================================

@pytest.mark.parametrize("name, groups", [
    ("kubernetes-admin", ("kubeadm:cluster-admins", "system:authenticated")),
    ("kubernetes-super-admin", ("system:masters", "system:authenticated")),
    ("system:node:worker-1", ("system:nodes", "system:authenticated")),
    ("system:bootstrap:abcdef", ("system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token",
                                 "system:authenticated")),
    ("system:serviceaccount:kube-system:replicaset-controller",
     ("system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated")),
    ("system:anonymous", ("system:unauthenticated",)),
    ("jane", ("system:authenticated",)),
])
def test_identities_carry_their_groups(name, groups):
    assert user_info(name).groups == groups


# =====================================================================================
# the rule table
# =====================================================================================

@pytest.mark.parametrize("user", ["kubernetes-admin", "kubernetes-super-admin", "system:kube-controller-manager",
                                  "system:serviceaccount:kube-system:deployment-controller"])
def test_admins_and_controllers_may_do_anything(api, user):
    api.create({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs"},
                "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
                    "metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}},
               user=user)
    api.delete("replicasets", "rs", user=user)


def test_an_unknown_user_may_do_nothing(api, etcd):
    with forbidden(etcd, 'pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the '
                         'namespace "default"'):
        api.list("pods", "default", user="jane")


def test_forbidden_create_names_no_object(api, etcd):
    with forbidden(etcd, 'deployments.apps is forbidden: User "jane" cannot create resource "deployments" in API '
                         'group "apps" in the namespace "default"') as e:
        api.create({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {}},
                   user="jane")
    assert e.value.status["details"] == {"group": "apps", "kind": "deployments"}


def test_forbidden_at_the_cluster_scope(api, etcd):
    with forbidden(etcd, 'nodes "worker-1" is forbidden: User "jane" cannot delete resource "nodes" in API group "" '
                         'at the cluster scope'):
        api.delete("nodes", "worker-1", user="jane")


def test_default_service_account_may_do_nothing(api, etcd):
    with forbidden(etcd):
        api.get("pods", "web", user="system:serviceaccount:default:default")


def test_scheduler_binds_but_does_not_create_workloads(api, etcd):
    api.create(pod(), user=ADMIN)
    api.bind("web", "worker-1", user=SCHEDULER)
    assert api.list("nodes", user=SCHEDULER)["items"]
    with forbidden(etcd):
        api.create(pod("other"), user=SCHEDULER)


def test_kube_proxy_reads_services_and_endpoints(api, etcd):
    assert api.list("services", user="system:kube-proxy")["items"]
    assert api.list("endpoints", user="system:kube-proxy")["items"]
    with forbidden(etcd):
        api.list("pods", user="system:kube-proxy")


def test_status_subresource_is_its_own_permission():
    a = Attributes(user_info(SCHEDULER), "update", "pods", "", "status", "default", "web")
    b = Attributes(user_info(SCHEDULER), "update", "pods", "", "", "default", "web")
    assert authorize(a)[0] and not authorize(b)[0]


# =====================================================================================
# bootstrap tokens and anonymous discovery
# =====================================================================================

CSR = {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest", "metadata": {"name": "node-csr-1"},
       "spec": {"request": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0K",
                "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                "usages": ["digital signature", "key encipherment", "client auth"],
                "username": "someone-else", "groups": ["system:masters"]}}


def test_bootstrap_token_creates_a_csr_stamped_with_its_identity(api):
    csr = api.create(CSR, user="system:bootstrap:abcdef")
    assert csr["spec"]["username"] == "system:bootstrap:abcdef"
    assert csr["spec"]["groups"] == ["system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token",
                                     "system:authenticated"]
    assert csr["status"] == {}


def test_bootstrap_token_cannot_list_pods(api, etcd):
    with forbidden(etcd, 'pods is forbidden: User "system:bootstrap:abcdef" cannot list resource "pods" in API group '
                         '"" at the cluster scope'):
        api.list("pods", user="system:bootstrap:abcdef")


def test_bootstrap_token_reads_cluster_info_only(api, etcd):
    api.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cluster-info", "namespace":
                                                                      "kube-public"}, "data": {"kubeconfig": "x"}},
               user=ADMIN)
    api.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other", "namespace": "kube-public"}},
               user=ADMIN)
    assert api.get("configmaps", "cluster-info", "kube-public", user="system:bootstrap:abcdef")
    assert api.get("configmaps", "cluster-info", "kube-public", user="system:anonymous")
    with forbidden(etcd):
        api.get("configmaps", "other", "kube-public", user="system:anonymous")


def test_csr_approval_is_a_subresource(api):
    csr = api.create(CSR, user="system:bootstrap:abcdef")
    csr["status"] = {"conditions": [{"type": "Approved", "status": "True", "reason": "AutoApproved"}]}
    out = api.update(csr, user="system:kube-controller-manager", subresource="approval")
    assert out["status"]["conditions"][0]["type"] == "Approved"


# =====================================================================================
# NodeRestriction: nodes
# =====================================================================================

def test_kubelet_registers_its_own_node(api):
    api.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-3",
                                                                 "labels": {"kubernetes.io/os": "linux"}}},
               user="system:node:worker-3")


def test_kubelet_cannot_register_another_node(api, etcd):
    with forbidden(etcd, 'nodes "worker-4" is forbidden: node "worker-3" is not allowed to modify node "worker-4"'):
        api.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-4"}}, user="system:node:worker-3")


def test_kubelet_cannot_set_the_control_plane_label(api, etcd):
    with forbidden(etcd, 'nodes "worker-3" is forbidden: node "worker-3" is not allowed to set the following labels: '
                         'node-role.kubernetes.io/control-plane'):
        api.create({"apiVersion": "v1", "kind": "Node", "metadata": {
            "name": "worker-3", "labels": {"node-role.kubernetes.io/control-plane": ""}}}, user="system:node:worker-3")


def test_kubelet_updates_its_node_status(api):
    node = api.get("nodes", "worker-1", user=KUBELET)
    node["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    assert api.update(node, user=KUBELET, subresource="status")["status"]["conditions"][0]["status"] == "True"


def test_kubelet_cannot_touch_another_nodes_status(api, etcd):
    node = api.get("nodes", "worker-2", user=KUBELET)
    node["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    with forbidden(etcd, 'nodes "worker-2" is forbidden: node "worker-1" is not allowed to modify node "worker-2"'):
        api.update(node, user=KUBELET, subresource="status")


def test_kubelet_cannot_remove_its_taints(api, etcd):
    with forbidden(etcd, 'nodes "worker-1" is forbidden: node "worker-1" is not allowed to modify taints'):
        api.patch("nodes", "worker-1", {"spec": {"taints": None}}, user=KUBELET)


def test_kubelet_cannot_delete_another_node(api, etcd):
    with forbidden(etcd):
        api.delete("nodes", "worker-2", user=KUBELET)


# =====================================================================================
# NodeRestriction: leases
# =====================================================================================

def test_kubelet_creates_and_renews_its_lease(api, world):
    api.create(lease(), user=KUBELET)
    world.advance(10)
    api.patch("leases", "worker-1", {"spec": {"renewTime": "2025-03-03T09:00:10.000000Z"}}, namespace="kube-node-lease",
              user=KUBELET)


def test_kubelet_cannot_take_another_nodes_lease(api, etcd):
    with forbidden(etcd, 'leases.coordination.k8s.io "worker-2" is forbidden: can only access node lease with the '
                         'same name as the requesting node'):
        api.create(lease("worker-2"), user=KUBELET)


def test_kubelet_leases_live_in_kube_node_lease(api, etcd):
    with forbidden(etcd, 'leases.coordination.k8s.io "worker-1" is forbidden: can only access leases in the '
                         '"kube-node-lease" system namespace'):
        api.create(lease(namespace="default"), user=KUBELET)


# =====================================================================================
# NodeRestriction: pods
# =====================================================================================

def test_kubelet_reads_pods(api):
    scheduled(api)
    assert api.get("pods", "web", user=KUBELET)["spec"]["nodeName"] == "worker-1"


def test_kubelet_updates_status_of_its_pods(api):
    p = scheduled(api)
    p["status"]["phase"] = "Running"
    assert api.update(p, user=KUBELET, subresource="status")["status"]["phase"] == "Running"


def test_kubelet_cannot_update_status_of_other_pods(api, etcd):
    p = scheduled(api, node="worker-2")
    p["status"]["phase"] = "Failed"
    with forbidden(etcd, 'pods "web" is forbidden: node "worker-1" can only update pod status for pods with '
                         'spec.nodeName set to itself'):
        api.update(p, user=KUBELET, subresource="status")


def test_kubelet_cannot_relabel_through_status(api, etcd):
    p = scheduled(api)
    p["metadata"]["labels"] = {"stolen": "yes"}
    with forbidden(etcd, 'pods "web" is forbidden: node "worker-1" cannot update labels through pod status'):
        api.update(p, user=KUBELET, subresource="status")


def test_kubelet_cannot_update_a_pod_spec(api, etcd):
    scheduled(api)
    with forbidden(etcd, 'pods "web" is forbidden: User "system:node:worker-1" cannot patch resource "pods" in API '
                         'group "" in the namespace "default"'):
        api.patch("pods", "web", {"metadata": {"labels": {"a": "b"}}}, user=KUBELET)


def test_kubelet_cannot_create_ordinary_pods(api, etcd):
    with forbidden(etcd, 'pods "web" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node '
                         '"worker-1" can only create mirror pods'):
        api.create(pod(node="worker-1"), user=KUBELET)


def mirror(api, node="worker-1", owner_uid=None):
    uid = owner_uid or api.get("nodes", node, user=ADMIN)["metadata"]["uid"]
    body = pod(f"etcd-{node}", node=node)
    body["metadata"]["namespace"] = "kube-system"
    body["metadata"]["annotations"] = {"kubernetes.io/config.mirror": "abc123"}
    body["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": node, "uid": uid,
                                            "controller": True}]
    return body


def test_kubelet_creates_mirror_pods_of_static_pods(api):
    out = api.create(mirror(api), user=KUBELET)
    assert out["metadata"]["annotations"]["kubernetes.io/config.mirror"] == "abc123"
    assert "serviceAccountName" not in out["spec"]


def test_mirror_pod_must_be_bound_to_the_kubelets_node(api, etcd):
    body = mirror(api, node="worker-2")
    with forbidden(etcd, 'pods "etcd-worker-2" is forbidden: node "worker-1" can only create pods with '
                         'spec.nodeName set to itself'):
        api.create(body, user=KUBELET)


def test_kubelet_deletes_only_its_own_pods(api, etcd):
    scheduled(api, "mine", "worker-1")
    scheduled(api, "theirs", "worker-2")
    api.delete("pods", "mine", user=KUBELET, grace_period_seconds=0)
    with forbidden(etcd, 'pods "theirs" is forbidden: node "worker-1" can only delete pods with spec.nodeName set '
                         'to itself'):
        api.delete("pods", "theirs", user=KUBELET, grace_period_seconds=0)


def test_kubelet_creates_events(api):
    ev = api.create({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "web.1", "namespace": "default"},
                     "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
                     "reason": "Pulled", "message": "Container image \"nginx\" already present on machine",
                     "type": "Normal", "source": {"component": "kubelet", "host": "worker-1"}}, user=KUBELET)
    assert ev["reason"] == "Pulled"


# =====================================================================================
# the node authorizer: secrets and configmaps
# =====================================================================================

def with_secret(api, node="worker-1"):
    api.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "stringData": {"pw": "x"}},
               user=ADMIN)
    api.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}, user=ADMIN)
    body = pod("app")
    body["spec"]["containers"][0]["env"] = [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}]
    body["spec"]["volumes"] = [{"name": "c", "configMap": {"name": "cfg"}}]
    api.create(body, user=ADMIN)
    api.bind("app", node, user=SCHEDULER)


def test_kubelet_reads_secrets_its_pods_use(api):
    with_secret(api)
    assert api.get("secrets", "db", user=KUBELET)["data"]["pw"] == "eA=="
    assert api.get("configmaps", "cfg", user=KUBELET)["metadata"]["name"] == "cfg"


def test_kubelet_cannot_read_other_secrets(api, etcd):
    with_secret(api, node="worker-2")
    with forbidden(etcd, 'secrets "db" is forbidden: User "system:node:worker-1" cannot get resource "secrets" in API '
                         'group "" in the namespace "default": no relationship found between node \'worker-1\' and '
                         'this object'):
        api.get("secrets", "db", user=KUBELET)


def test_kubelet_cannot_list_secrets(api, etcd):
    with forbidden(etcd, 'secrets is forbidden: User "system:node:worker-1" cannot list resource "secrets" in API '
                         'group "" in the namespace "default": No Object name found'):
        api.list("secrets", "default", user=KUBELET)


def test_kubelet_watches_a_single_secret_by_name(api):
    with_secret(api)
    lst = api.list("secrets", "default", user=KUBELET, field_selector="metadata.name=db")
    assert [s["metadata"]["name"] for s in lst["items"]] == ["db"]


def test_kubelet_cannot_write_secrets(api, etcd):
    with forbidden(etcd, 'secrets is forbidden: User "system:node:worker-1" cannot create resource "secrets" in API '
                         'group "" in the namespace "default": can only read resources of this type'):
        api.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}, user=KUBELET)


def test_missing_secret_is_still_forbidden_for_a_node(api, etcd):
    with forbidden(etcd):
        api.get("secrets", "nope", user=KUBELET)
    with pytest.raises(NotFoundError):
        api.get("secrets", "nope", user=ADMIN)
