"""kube-apiserver: verbs, storage layout, optimistic concurrency, deletion, watches, lifecycle.

Every error path asserts the message *and* that etcd's revision did not move.
"""

import json
import random
import re
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aivle_k8s as ak
from aivle_k8s.cluster.apiserver import (APIServer, AlreadyExistsError, BadRequestError, ConflictError,
                                         ConnectionRefused, ForbiddenError, GoneError, InvalidError,
                                         MethodNotSupportedError, NotFoundError, ServerTimeoutError,
                                         StatusError, StorageError, UnknownResourceError, resolve)
from aivle_k8s.cluster.etcd import EtcdCluster, Store
from aivle_k8s.sim.errors import AlreadyExists, Conflict, NetworkError, NotFound

ADMIN = "kubernetes-admin"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture
def world():
    return ak.World(seed=0)


@pytest.fixture
def etcd(world):
    return Store(world.loop)


@pytest.fixture
def api(world, etcd):
    return APIServer(etcd, now=world.timestamp, rng=world.rng, loop=world.loop)


@contextmanager
def rejected(etcd, exc_type, message=None):
    """The request fails with ``exc_type`` (and ``message``) and changes nothing in etcd."""
    before = etcd.revision
    with pytest.raises(exc_type) as info:
        yield info
    if message is not None:
        assert str(info.value) == message
    assert etcd.revision == before, "a rejected request must not write to etcd"


def pod(name="web", image="nginx:1.25", namespace=None, labels=None, node=None, **spec):
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = labels
    body = {"containers": [{"name": "web", "image": image}], **spec}
    if node:
        body["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": body}


def deployment(name="web", replicas=2, app="web"):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
                     "template": {"metadata": {"labels": {"app": app}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}}}


def service(name="web", type_="ClusterIP", **extra):
    spec = {"type": type_, "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}], **extra}
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


def bound_pod(api, name="web", node="worker-1"):
    api.create(pod(name), user=ADMIN)
    api.bind(name, node, user="system:kube-scheduler")
    return api.get("pods", name, user=ADMIN)


# =====================================================================================
# built-in objects and the resource table
# =====================================================================================

def test_starts_with_the_four_namespaces(api):
    names = [n["metadata"]["name"] for n in api.list("namespaces", user=ADMIN)["items"]]
    assert names == ["default", "kube-node-lease", "kube-public", "kube-system"]


def test_namespaces_are_active_with_the_kubernetes_finalizer(api):
    ns = api.get("namespaces", "default", user=ADMIN)
    assert ns["status"] == {"phase": "Active"}
    assert ns["spec"] == {"finalizers": ["kubernetes"]}
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "default"}


def test_kubernetes_service_has_the_first_cluster_ip(api):
    svc = api.get("services", "kubernetes", user=ADMIN)
    assert svc["spec"]["clusterIP"] == "10.96.0.1"
    assert svc["spec"]["ports"] == [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]


def test_kubernetes_endpoints_are_the_apiserver_address(world, etcd):
    api = APIServer(etcd, now=world.timestamp, rng=world.rng, loop=world.loop, address="10.0.0.42")
    ep = api.get("endpoints", "kubernetes", user=ADMIN)
    assert ep["subsets"] == [{"addresses": [{"ip": "10.0.0.42"}],
                              "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]


def test_system_priority_classes_exist(api):
    pc = api.get("priorityclasses", "system-node-critical", user=ADMIN)
    assert pc["value"] == 2000001000


def test_a_second_apiserver_on_the_same_etcd_writes_nothing_new(world, etcd, api):
    rev = etcd.revision
    APIServer(etcd, now=world.timestamp, rng=random.Random(1), loop=world.loop)
    assert etcd.revision == rev


@pytest.mark.parametrize("typed, kind, plural, namespaced", [
    ("po", "Pod", "pods", True), ("svc", "Service", "services", True), ("deploy", "Deployment", "deployments", True),
    ("rs", "ReplicaSet", "replicasets", True), ("ds", "DaemonSet", "daemonsets", True),
    ("no", "Node", "nodes", False), ("ns", "Namespace", "namespaces", False), ("cm", "ConfigMap", "configmaps", True),
    ("ev", "Event", "events", True), ("ep", "Endpoints", "endpoints", True), ("sa", "ServiceAccount",
                                                                              "serviceaccounts", True),
    ("csr", "CertificateSigningRequest", "certificatesigningrequests", False), ("lease", "Lease", "leases", True),
    ("Deployment", "Deployment", "deployments", True), ("deployments.apps", "Deployment", "deployments", True),
    ("jobs", "Job", "jobs", True), ("secret", "Secret", "secrets", True),
])
def test_resolve_names_like_kubectl(typed, kind, plural, namespaced):
    info = resolve(typed)
    assert (info.kind, info.plural, info.namespaced) == (kind, plural, namespaced)


def test_resolve_unknown_resource():
    with pytest.raises(UnknownResourceError) as e:
        resolve("foo")
    assert str(e.value) == 'the server doesn\'t have a resource type "foo"'


def test_resolve_suggests_a_close_name():
    with pytest.raises(UnknownResourceError) as e:
        resolve("deploymnets")
    assert 'did you mean "deployments"?' in str(e.value)


# =====================================================================================
# create and storage
# =====================================================================================

def test_create_sets_uid_timestamp_and_resource_version(api, etcd):
    p = api.create(pod(), user=ADMIN)
    meta = p["metadata"]
    assert UUID4.match(meta["uid"])
    assert meta["creationTimestamp"] == "2025-03-03T09:00:00Z"
    assert meta["resourceVersion"] == str(etcd.revision)
    assert meta["namespace"] == "default"


def test_uids_are_deterministic_for_a_seed(etcd):
    def uid_of(seed):
        w = ak.World(seed=seed)
        a = APIServer(Store(w.loop), now=w.timestamp, rng=w.rng, loop=w.loop)
        return a.create(pod(), user=ADMIN)["metadata"]["uid"]
    assert uid_of(3) == uid_of(3) != uid_of(4)


@pytest.mark.parametrize("obj, key", [
    (pod(), "/registry/pods/default/web"),
    (deployment(), "/registry/deployments/default/web"),
    ({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-1"}}, "/registry/minions/worker-1"),
    (service(), "/registry/services/specs/default/web"),
    ({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
      "metadata": {"name": "worker-1", "namespace": "kube-node-lease"}}, "/registry/leases/kube-node-lease/worker-1"),
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}, "/registry/configmaps/default/cfg"),
])
def test_objects_live_under_the_real_etcd_keys(api, etcd, obj, key):
    created = api.create(obj, user=ADMIN)
    kv = etcd.get(key).kvs[0]
    assert str(kv.mod_revision) == created["metadata"]["resourceVersion"]
    stored = json.loads(kv.value)
    assert "resourceVersion" not in stored["metadata"]
    assert stored["metadata"]["uid"] == created["metadata"]["uid"]


def test_create_does_not_touch_the_callers_dict(api):
    body = pod()
    snapshot = json.dumps(body, sort_keys=True)
    api.create(body, user=ADMIN)
    assert json.dumps(body, sort_keys=True) == snapshot


def test_returned_objects_are_copies(api):
    created = api.create(pod(), user=ADMIN)
    created["spec"]["containers"][0]["image"] = "evil"
    got = api.get("pods", "web", user=ADMIN)
    got["metadata"]["labels"] = {"x": "y"}
    again = api.get("pods", "web", user=ADMIN)
    assert again["spec"]["containers"][0]["image"] == "nginx:1.25"
    assert "labels" not in again["metadata"]


def test_generation_starts_at_one_for_workloads(api):
    assert api.create(deployment(), user=ADMIN)["metadata"]["generation"] == 1


def test_pods_have_no_generation_in_1_30(api):
    assert "generation" not in api.create(pod(), user=ADMIN)["metadata"]


def test_generate_name(api):
    p = api.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "web-"},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]}}, user=ADMIN)
    assert re.match(r"^web-[bcdfghjklmnpqrstvwxz2456789]{5}$", p["metadata"]["name"])


def test_create_existing_is_already_exists(api, etcd):
    api.create(pod(), user=ADMIN)
    with rejected(etcd, AlreadyExistsError, 'pods "web" already exists') as e:
        api.create(pod(), user=ADMIN)
    assert isinstance(e.value, AlreadyExists)
    assert e.value.status == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                              "message": 'pods "web" already exists', "reason": "AlreadyExists",
                              "details": {"name": "web", "kind": "pods"}, "code": 409}


def test_already_exists_names_the_group(api, etcd):
    api.create(deployment(), user=ADMIN)
    with rejected(etcd, AlreadyExistsError, 'deployments.apps "web" already exists'):
        api.create(deployment(), user=ADMIN)


def test_create_with_resource_version_is_a_bad_request(api, etcd):
    body = pod()
    body["metadata"]["resourceVersion"] = "5"
    with rejected(etcd, BadRequestError, "resourceVersion should not be set on objects to be created"):
        api.create(body, user=ADMIN)


def test_namespace_in_object_and_request_must_agree(api, etcd):
    with rejected(etcd, BadRequestError, "the namespace of the provided object does not match the namespace sent "
                                         "on the request"):
        api.create(pod(namespace="kube-system"), user=ADMIN, namespace="default")


def test_create_in_missing_namespace(api, etcd):
    with rejected(etcd, NotFoundError, 'namespaces "demo" not found'):
        api.create(pod(namespace="demo"), user=ADMIN)


def test_cluster_scoped_objects_drop_a_namespace(api):
    node = api.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "w1", "namespace": "default"}},
                      user=ADMIN)
    assert "namespace" not in node["metadata"]


def test_dry_run_create_writes_nothing(api, etcd):
    rev = etcd.revision
    out = api.create(pod(), user=ADMIN, dry_run=True)
    assert out["status"]["phase"] == "Pending"
    assert etcd.revision == rev
    with pytest.raises(NotFoundError):
        api.get("pods", "web", user=ADMIN)


def test_non_json_body_is_a_bad_request(api, etcd):
    body = pod()
    body["metadata"]["labels"] = {"a": {1, 2}}
    with rejected(etcd, BadRequestError):
        api.create(body, user=ADMIN)


def test_bindings_cannot_be_listed(api):
    with pytest.raises(MethodNotSupportedError):
        api.list("bindings", user=ADMIN)


# =====================================================================================
# get and list
# =====================================================================================

def test_get_missing(api, etcd):
    with rejected(etcd, NotFoundError, 'pods "nope" not found') as e:
        api.get("pods", "nope", user=ADMIN)
    assert isinstance(e.value, NotFound)
    assert e.value.status["reason"] == "NotFound" and e.value.status["code"] == 404


def test_get_missing_names_the_group(api):
    with pytest.raises(NotFoundError) as e:
        api.get("deploy", "web", user=ADMIN)
    assert str(e.value) == 'deployments.apps "web" not found'
    assert e.value.status["details"] == {"name": "web", "group": "apps", "kind": "deployments"}


def test_list_is_a_typed_list_with_a_resource_version(api, etcd):
    api.create(pod("a"), user=ADMIN)
    api.create(pod("b"), user=ADMIN)
    lst = api.list("pods", "default", user=ADMIN)
    assert (lst["apiVersion"], lst["kind"]) == ("v1", "PodList")
    assert lst["metadata"]["resourceVersion"] == str(etcd.revision)
    assert [p["metadata"]["name"] for p in lst["items"]] == ["a", "b"]


def test_list_all_namespaces(api):
    api.create(pod("a"), user=ADMIN)
    api.create(pod("b", namespace="kube-system"), user=ADMIN)
    assert len(api.list("pods", user=ADMIN)["items"]) == 2
    assert [p["metadata"]["name"] for p in api.list("pods", "kube-system", user=ADMIN)["items"]] == ["b"]


def test_list_with_label_selector(api):
    api.create(pod("a", labels={"app": "web", "tier": "fe"}), user=ADMIN)
    api.create(pod("b", labels={"app": "db"}), user=ADMIN)
    api.create(pod("c"), user=ADMIN)
    names = lambda sel: [p["metadata"]["name"] for p in api.list("pods", user=ADMIN, label_selector=sel)["items"]]
    assert names("app=web") == ["a"]
    assert names("app!=web") == ["b", "c"]
    assert names("app in (web, db)") == ["a", "b"]
    assert names("!app") == ["c"]
    assert names({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}) == ["a"]


def test_bad_label_selector(api, etcd):
    with rejected(etcd, BadRequestError) as e:
        api.list("pods", user=ADMIN, label_selector="app in web")
    assert str(e.value).startswith("unable to parse requirement")


def test_list_by_node_name(api):
    bound_pod(api, "a", "worker-1")
    bound_pod(api, "b", "worker-2")
    api.create(pod("c"), user=ADMIN)
    items = api.list("pods", user=ADMIN, field_selector="spec.nodeName=worker-2")["items"]
    assert [p["metadata"]["name"] for p in items] == ["b"]
    pending = api.list("pods", user=ADMIN, field_selector="spec.nodeName=")["items"]
    assert [p["metadata"]["name"] for p in pending] == ["c"]


def test_list_by_phase_and_name(api):
    api.create(pod("a"), user=ADMIN)
    api.create(pod("b"), user=ADMIN)
    assert len(api.list("pods", user=ADMIN, field_selector="status.phase=Pending")["items"]) == 2
    assert len(api.list("pods", user=ADMIN, field_selector="status.phase!=Pending")["items"]) == 0
    assert [p["metadata"]["name"] for p in
            api.list("pods", "default", user=ADMIN, field_selector="metadata.name=b")["items"]] == ["b"]


def test_unsupported_field_selector(api, etcd):
    with rejected(etcd, BadRequestError, "field label not supported: spec.image"):
        api.list("pods", user=ADMIN, field_selector="spec.image=nginx")


def test_pages_cover_everything_once(api):
    for i in range(7):
        api.create(pod(f"p{i}"), user=ADMIN)
    first = api.list("pods", user=ADMIN, limit=3)
    assert first["metadata"]["remainingItemCount"] == 4
    names = [p["metadata"]["name"] for p in first["items"]]
    token = first["metadata"]["continue"]
    while token:
        page = api.list("pods", user=ADMIN, limit=3, continue_=token)
        names += [p["metadata"]["name"] for p in page["items"]]
        token = page["metadata"].get("continue")
    assert names == [f"p{i}" for i in range(7)]


def test_pages_are_a_consistent_snapshot(api):
    for i in range(4):
        api.create(pod(f"p{i}"), user=ADMIN)
    first = api.list("pods", user=ADMIN, limit=2)
    api.delete("pods", "p3", user=ADMIN)
    api.create(pod("p9"), user=ADMIN)
    rest = api.list("pods", user=ADMIN, limit=10, continue_=first["metadata"]["continue"])
    assert [p["metadata"]["name"] for p in rest["items"]] == ["p2", "p3"]
    assert rest["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]


def test_paged_list_with_label_selector(api):
    for i in range(6):
        api.create(pod(f"p{i}", labels={"app": "web" if i % 2 else "db"}), user=ADMIN)
    page = api.list("pods", user=ADMIN, label_selector="app=web", limit=2)
    assert [p["metadata"]["name"] for p in page["items"]] == ["p1", "p3"]
    rest = api.list("pods", user=ADMIN, label_selector="app=web", limit=2, continue_=page["metadata"]["continue"])
    assert [p["metadata"]["name"] for p in rest["items"]] == ["p5"]


def test_continue_after_compaction_is_gone(api, etcd):
    for i in range(4):
        api.create(pod(f"p{i}"), user=ADMIN)
    first = api.list("pods", user=ADMIN, limit=2)
    api.create(pod("later"), user=ADMIN)
    etcd.compact(etcd.revision)
    with rejected(etcd, GoneError) as e:
        api.list("pods", user=ADMIN, limit=2, continue_=first["metadata"]["continue"])
    assert str(e.value).startswith("The provided continue parameter is too old")
    assert e.value.status["code"] == 410 and e.value.status["reason"] == "Expired"


def test_list_exact_resource_version_reads_the_past(api):
    api.create(pod("a"), user=ADMIN)
    rv = api.list("pods", user=ADMIN)["metadata"]["resourceVersion"]
    api.create(pod("b"), user=ADMIN)
    old = api.list("pods", user=ADMIN, resource_version=rv, resource_version_match="Exact")
    assert [p["metadata"]["name"] for p in old["items"]] == ["a"]


def test_list_future_resource_version_times_out(api, etcd):
    with rejected(etcd, ServerTimeoutError, f"Too large resource version: {etcd.revision + 5}, "
                                            f"current: {etcd.revision}"):
        api.list("pods", user=ADMIN, resource_version=str(etcd.revision + 5))


# =====================================================================================
# update, status, scale
# =====================================================================================

def test_update_with_stale_resource_version_conflicts(api, etcd):
    first = api.create(pod(), user=ADMIN)
    api.patch("pods", "web", {"metadata": {"labels": {"a": "b"}}}, user=ADMIN)
    with rejected(etcd, ConflictError, 'Operation cannot be fulfilled on pods "web": the object has been modified; '
                                       'please apply your changes to the latest version and try again') as e:
        api.update(first, user=ADMIN)
    assert isinstance(e.value, Conflict)
    assert e.value.status["reason"] == "Conflict" and e.value.status["code"] == 409


def test_update_with_current_resource_version(api, etcd):
    p = api.create(pod(), user=ADMIN)
    p["metadata"]["labels"] = {"tier": "fe"}
    out = api.update(p, user=ADMIN)
    assert out["metadata"]["labels"] == {"tier": "fe"}
    assert out["metadata"]["resourceVersion"] == str(etcd.revision)


def test_update_without_resource_version_is_unconditional(api):
    api.create(pod(), user=ADMIN)
    p = api.get("pods", "web", user=ADMIN)
    del p["metadata"]["resourceVersion"]
    p["metadata"]["labels"] = {"x": "1"}
    assert api.update(p, user=ADMIN)["metadata"]["labels"] == {"x": "1"}


def test_update_missing_object(api, etcd):
    with rejected(etcd, NotFoundError, 'pods "web" not found'):
        api.update(pod(), user=ADMIN)


def test_update_without_name(api, etcd):
    body = pod()
    del body["metadata"]["name"]
    with rejected(etcd, BadRequestError, "resource name may not be empty"):
        api.update(body, user=ADMIN)


def test_update_that_changes_nothing_does_not_write(api, etcd):
    p = api.create(pod(), user=ADMIN)
    rev = etcd.revision
    same = api.update(p, user=ADMIN)
    assert etcd.revision == rev and same["metadata"]["resourceVersion"] == p["metadata"]["resourceVersion"]


def test_uid_cannot_change(api, etcd):
    p = api.create(pod(), user=ADMIN)
    p["metadata"]["uid"] = "11111111-1111-4111-8111-111111111111"
    with rejected(etcd, InvalidError) as e:
        api.update(p, user=ADMIN)
    assert 'metadata.uid: Invalid value: "11111111-1111-4111-8111-111111111111": field is immutable' in str(e.value)


def test_generation_grows_with_spec_changes_only(api):
    d = api.create(deployment(), user=ADMIN)
    d["metadata"]["labels"] = {"team": "a"}
    d = api.update(d, user=ADMIN)
    assert d["metadata"]["generation"] == 1
    d["spec"]["replicas"] = 5
    d = api.update(d, user=ADMIN)
    assert d["metadata"]["generation"] == 2
    d["status"] = {"replicas": 5}
    d = api.update(d, user=ADMIN, subresource="status")
    assert d["metadata"]["generation"] == 2


def test_status_update_changes_only_the_status(api):
    p = bound_pod(api)
    p["status"]["phase"] = "Running"
    p["spec"]["containers"][0]["image"] = "nginx:9"
    out = api.update(p, user="system:node:worker-1", subresource="status")
    assert out["status"]["phase"] == "Running"
    assert out["spec"]["containers"][0]["image"] == "nginx:1.25"


def test_main_update_ignores_status(api):
    d = api.create(deployment(), user=ADMIN)
    d["status"] = {"replicas": 99}
    assert api.update(d, user=ADMIN)["status"] == {}


def test_get_scale(api):
    api.create(deployment(replicas=3), user=ADMIN)
    scale = api.get("deployments", "web", user=ADMIN, subresource="scale")
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 3}
    assert scale["status"] == {"replicas": 0, "selector": "app=web"}


def test_update_scale(api):
    api.create(deployment(replicas=3), user=ADMIN)
    scale = api.get("deployments", "web", user=ADMIN, subresource="scale")
    scale["spec"]["replicas"] = 7
    out = api.update(scale, user=ADMIN, subresource="scale", resource="deployments")
    assert out["kind"] == "Scale" and out["spec"]["replicas"] == 7
    d = api.get("deployments", "web", user=ADMIN)
    assert d["spec"]["replicas"] == 7 and d["metadata"]["generation"] == 2


def test_patch_scale_like_kubectl_scale(api):
    api.create({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs"},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "x"}},
                         "template": {"metadata": {"labels": {"app": "x"}},
                                      "spec": {"containers": [{"name": "c", "image": "x"}]}}}}, user=ADMIN)
    api.patch("replicasets", "rs", {"spec": {"replicas": 4}}, user=ADMIN, subresource="scale")
    assert api.get("rs", "rs", user=ADMIN)["spec"]["replicas"] == 4


def test_negative_scale_is_invalid(api, etcd):
    api.create(deployment(), user=ADMIN)
    scale = api.get("deployments", "web", user=ADMIN, subresource="scale")
    scale["spec"]["replicas"] = -1
    with rejected(etcd, InvalidError, 'The Scale "web" is invalid: spec.replicas: Invalid value: -1: must be greater '
                                      'than or equal to 0'):
        api.update(scale, user=ADMIN, subresource="scale", resource="deployments")


def test_pods_have_no_scale(api, etcd):
    api.create(pod(), user=ADMIN)
    with rejected(etcd, NotFoundError):
        api.get("pods", "web", user=ADMIN, subresource="scale")


# =====================================================================================
# binding and eviction
# =====================================================================================

def test_binding_sets_the_node_and_the_scheduled_condition(api):
    api.create(pod(), user=ADMIN)
    status = api.bind("web", "worker-1", user="system:kube-scheduler")
    assert status["status"] == "Success" and status["code"] == 201
    p = api.get("pods", "web", user=ADMIN)
    assert p["spec"]["nodeName"] == "worker-1"
    assert {"type": "PodScheduled", "status": "True"}.items() <= p["status"]["conditions"][0].items()


def test_binding_an_assigned_pod_conflicts(api, etcd):
    bound_pod(api)
    with rejected(etcd, ConflictError, 'Operation cannot be fulfilled on pods/binding "web": pod web is already '
                                       'assigned to node "worker-1"'):
        api.bind("web", "worker-2", user="system:kube-scheduler")


def test_binding_a_missing_pod(api, etcd):
    with rejected(etcd, NotFoundError, 'pods "ghost" not found'):
        api.bind("ghost", "worker-1", user="system:kube-scheduler")


def test_binding_a_terminating_pod(api, etcd):
    api.create(pod(), user=ADMIN)
    api.patch("pods", "web", {"metadata": {"finalizers": ["example.com/keep"]}}, user=ADMIN)
    api.delete("pods", "web", user=ADMIN)
    with rejected(etcd, ConflictError, 'Operation cannot be fulfilled on pods/binding "web": pod web is being '
                                       'deleted, cannot be assigned to a host'):
        api.bind("web", "worker-1", user="system:kube-scheduler")


def test_eviction_deletes_gracefully(api):
    bound_pod(api)
    out = api.create({"apiVersion": "policy/v1", "kind": "Eviction",
                      "metadata": {"name": "web", "namespace": "default"}}, user=ADMIN)
    assert out["status"] == "Success"
    assert api.get("pods", "web", user=ADMIN)["metadata"]["deletionGracePeriodSeconds"] == 30


# =====================================================================================
# delete: graceful pods, finalizers, propagation, namespaces
# =====================================================================================

def test_delete_removes_at_once(api, etcd):
    api.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}, user=ADMIN)
    out = api.delete("configmaps", "cfg", user=ADMIN)
    assert out["metadata"]["name"] == "cfg"
    assert etcd.get("/registry/configmaps/default/cfg").count == 0


def test_delete_missing(api, etcd):
    with rejected(etcd, NotFoundError, 'configmaps "cfg" not found'):
        api.delete("configmaps", "cfg", user=ADMIN)


def test_unscheduled_pod_is_deleted_at_once(api):
    api.create(pod(), user=ADMIN)
    api.delete("pods", "web", user=ADMIN)
    with pytest.raises(NotFoundError):
        api.get("pods", "web", user=ADMIN)


def test_bound_pod_is_deleted_gracefully(api, world):
    bound_pod(api)
    world.advance(10)
    out = api.delete("pods", "web", user=ADMIN)
    assert out["metadata"]["deletionGracePeriodSeconds"] == 30
    assert out["metadata"]["deletionTimestamp"] == "2025-03-03T09:00:40Z"
    assert api.get("pods", "web", user=ADMIN)["metadata"]["deletionTimestamp"] == "2025-03-03T09:00:40Z"


def test_grace_period_comes_from_the_pod(api):
    api.create(pod(terminationGracePeriodSeconds=5), user=ADMIN)
    api.bind("web", "w1", user="system:kube-scheduler")
    assert api.delete("pods", "web", user=ADMIN)["metadata"]["deletionGracePeriodSeconds"] == 5


def test_kubelet_confirms_a_graceful_delete(api):
    bound_pod(api)
    api.delete("pods", "web", user=ADMIN)
    api.delete("pods", "web", user="system:node:worker-1", grace_period_seconds=0)
    with pytest.raises(NotFoundError):
        api.get("pods", "web", user=ADMIN)


def test_force_delete(api):
    bound_pod(api)
    api.delete("pods", "web", user=ADMIN, force=True)
    with pytest.raises(NotFoundError):
        api.get("pods", "web", user=ADMIN)


def test_a_second_delete_may_only_shorten_the_grace_period(api, etcd):
    bound_pod(api)
    api.delete("pods", "web", user=ADMIN, grace_period_seconds=20)
    rev = etcd.revision
    api.delete("pods", "web", user=ADMIN, grace_period_seconds=60)
    assert etcd.revision == rev
    out = api.delete("pods", "web", user=ADMIN, grace_period_seconds=5)
    assert out["metadata"]["deletionGracePeriodSeconds"] == 5


def test_finalizers_hold_an_object_until_removed(api):
    api.create({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "cfg", "finalizers": ["example.com/protect"]}}, user=ADMIN)
    out = api.delete("configmaps", "cfg", user=ADMIN)
    assert out["metadata"]["deletionTimestamp"] and out["metadata"]["deletionGracePeriodSeconds"] == 0
    assert api.get("configmaps", "cfg", user=ADMIN)["metadata"]["finalizers"] == ["example.com/protect"]
    api.patch("configmaps", "cfg", {"metadata": {"finalizers": None}}, user=ADMIN, patch_type="merge")
    with pytest.raises(NotFoundError):
        api.get("configmaps", "cfg", user=ADMIN)


def test_no_new_finalizers_while_deleting(api, etcd):
    api.create({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "cfg", "finalizers": ["example.com/a"]}}, user=ADMIN)
    api.delete("configmaps", "cfg", user=ADMIN)
    with rejected(etcd, InvalidError) as e:
        api.patch("configmaps", "cfg", {"metadata": {"finalizers": ["example.com/a", "example.com/b"]}}, user=ADMIN,
                  patch_type="merge")
    assert ('metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, '
            'found new finalizers []string{"example.com/b"}') in str(e.value)


@pytest.mark.parametrize("policy, finalizer", [("Foreground", "foregroundDeletion"), ("Orphan", "orphan")])
def test_propagation_policies_add_their_finalizer(api, policy, finalizer):
    api.create(deployment(), user=ADMIN)
    out = api.delete("deployments", "web", user=ADMIN, propagation_policy=policy)
    assert out["metadata"]["finalizers"] == [finalizer]
    assert api.get("deploy", "web", user=ADMIN)["metadata"]["deletionTimestamp"]


def test_background_propagation_deletes_at_once(api):
    api.create(deployment(), user=ADMIN)
    api.delete("deployments", "web", user=ADMIN, propagation_policy="Background")
    with pytest.raises(NotFoundError):
        api.get("deploy", "web", user=ADMIN)


def test_unknown_propagation_policy(api, etcd):
    api.create(deployment(), user=ADMIN)
    with rejected(etcd, BadRequestError):
        api.delete("deployments", "web", user=ADMIN, propagation_policy="Sideways")


def test_delete_precondition_on_uid(api, etcd):
    api.create(pod(), user=ADMIN)
    with rejected(etcd, ConflictError) as e:
        api.delete("pods", "web", user=ADMIN, preconditions={"uid": "other"})
    assert "Precondition failed: UID in precondition: other" in str(e.value)


def test_deletecollection_by_label(api):
    api.create(pod("a", labels={"app": "web"}), user=ADMIN)
    api.create(pod("b", labels={"app": "web"}), user=ADMIN)
    api.create(pod("c", labels={"app": "db"}), user=ADMIN)
    gone = api.deletecollection("pods", "default", user=ADMIN, label_selector="app=web")
    assert [p["metadata"]["name"] for p in gone["items"]] == ["a", "b"]
    assert [p["metadata"]["name"] for p in api.list("pods", user=ADMIN)["items"]] == ["c"]


def test_deleting_a_namespace_makes_it_terminating(api):
    api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}}, user=ADMIN)
    out = api.delete("namespaces", "demo", user=ADMIN)
    assert out["status"]["phase"] == "Terminating"
    assert api.get("ns", "demo", user=ADMIN)["metadata"]["deletionTimestamp"]


def test_terminating_namespace_refuses_new_content(api, etcd):
    api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}}, user=ADMIN)
    api.delete("namespaces", "demo", user=ADMIN)
    with rejected(etcd, ForbiddenError, 'pods "web" is forbidden: unable to create new content in namespace demo '
                                        'because it is being terminated'):
        api.create(pod(namespace="demo"), user=ADMIN)


def test_finalize_removes_a_terminating_namespace(api):
    api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}}, user=ADMIN)
    ns = api.delete("namespaces", "demo", user=ADMIN)
    ns["spec"]["finalizers"] = []
    api.update(ns, user="system:kube-controller-manager", subresource="finalize")
    with pytest.raises(NotFoundError):
        api.get("ns", "demo", user=ADMIN)


@pytest.mark.parametrize("name", ["default", "kube-system", "kube-public"])
def test_immortal_namespaces(api, etcd, name):
    with rejected(etcd, ForbiddenError, f'namespaces "{name}" is forbidden: this namespace may not be deleted'):
        api.delete("namespaces", name, user=ADMIN)


# =====================================================================================
# services: ClusterIPs and NodePorts
# =====================================================================================

def test_cluster_ips_are_allocated_in_order(api):
    a = api.create(service("a"), user=ADMIN)["spec"]
    b = api.create(service("b"), user=ADMIN)["spec"]
    assert a["clusterIP"] == "10.96.1.1" and b["clusterIP"] == "10.96.1.2"
    assert a["clusterIPs"] == ["10.96.1.1"] and a["ipFamilies"] == ["IPv4"]


def test_requested_cluster_ip(api):
    assert api.create(service(clusterIP="10.96.0.10"), user=ADMIN)["spec"]["clusterIP"] == "10.96.0.10"


def test_requested_cluster_ip_in_use(api, etcd):
    api.create(service("dns", clusterIP="10.96.0.10"), user=ADMIN)
    with rejected(etcd, InvalidError, 'The Service "web" is invalid: spec.clusterIPs: Invalid value: '
                                      '[]string{"10.96.0.10"}: failed to allocate IP 10.96.0.10: provided IP is '
                                      'already allocated'):
        api.create(service(clusterIP="10.96.0.10"), user=ADMIN)


def test_requested_cluster_ip_out_of_range(api, etcd):
    with rejected(etcd, InvalidError) as e:
        api.create(service(clusterIP="10.0.0.5"), user=ADMIN)
    assert ("failed to allocate IP 10.0.0.5: the provided IP (10.0.0.5) is not in the valid range. The range of "
            "valid IPs is 10.96.0.0/12") in str(e.value)


def test_headless_service(api):
    assert api.create(service(clusterIP="None"), user=ADMIN)["spec"]["clusterIPs"] == ["None"]


def test_node_ports_are_allocated_in_range_and_deterministically():
    def ports(seed):
        w = ak.World(seed=seed)
        a = APIServer(Store(w.loop), now=w.timestamp, rng=w.rng, loop=w.loop)
        return [a.create(service(f"s{i}", "NodePort"), user=ADMIN)["spec"]["ports"][0]["nodePort"] for i in range(5)]
    first = ports(0)
    assert all(30000 <= p <= 32767 for p in first) and len(set(first)) == 5
    assert ports(0) == first


def test_requested_node_port_in_use(api, etcd):
    api.create(service("a", "NodePort", ports=[{"port": 80, "nodePort": 30080}]), user=ADMIN)
    with rejected(etcd, InvalidError, 'The Service "b" is invalid: spec.ports[0].nodePort: Invalid value: 30080: '
                                      'provided port is already allocated'):
        api.create(service("b", "NodePort", ports=[{"port": 80, "nodePort": 30080}]), user=ADMIN)


def test_node_port_out_of_range(api, etcd):
    with rejected(etcd, InvalidError, 'The Service "web" is invalid: spec.ports[0].nodePort: Invalid value: 8080: '
                                      'provided port is not in the valid range. The range of valid ports is '
                                      '30000-32767'):
        api.create(service(type_="NodePort", ports=[{"port": 80, "nodePort": 8080}]), user=ADMIN)


def test_deleting_a_service_frees_its_ip_and_port(api):
    api.create(service("a", "NodePort", clusterIP="10.96.0.50", ports=[{"port": 80, "nodePort": 30080}]), user=ADMIN)
    api.delete("services", "a", user=ADMIN)
    again = api.create(service("b", "NodePort", clusterIP="10.96.0.50", ports=[{"port": 80, "nodePort": 30080}]),
                       user=ADMIN)
    assert again["spec"]["ports"][0]["nodePort"] == 30080


def test_update_keeps_the_allocated_ip_and_ports(api):
    created = api.create(service(type_="NodePort"), user=ADMIN)
    body = service(type_="NodePort")
    body["spec"]["selector"] = {"app": "v2"}
    out = api.update(body, user=ADMIN)
    assert out["spec"]["clusterIP"] == created["spec"]["clusterIP"]
    assert out["spec"]["ports"][0]["nodePort"] == created["spec"]["ports"][0]["nodePort"]


def test_cluster_ip_cannot_change(api, etcd):
    created = api.create(service(), user=ADMIN)
    created["spec"]["clusterIP"] = "10.96.0.77"
    created["spec"]["clusterIPs"] = ["10.96.0.77"]
    with rejected(etcd, InvalidError) as e:
        api.update(created, user=ADMIN)
    assert "may not change once set" in str(e.value)


# =====================================================================================
# watch
# =====================================================================================

def collect(api, resource="pods", **kw):
    events = []
    w = api.watch(resource, user=ADMIN, callback=lambda ev: events.append(
        (ev["type"], ev["object"]["metadata"].get("name"), ev["object"]["metadata"].get("resourceVersion"))), **kw)
    return w, events


def test_watch_delivers_events_in_order_through_the_loop(api, world):
    rv = api.list("pods", user=ADMIN)["metadata"]["resourceVersion"]
    w, events = collect(api, resource_version=rv)
    p = api.create(pod(), user=ADMIN)
    api.patch("pods", "web", {"metadata": {"labels": {"a": "b"}}}, user=ADMIN)
    api.delete("pods", "web", user=ADMIN)
    assert events == []  # nothing inside the write itself
    world.advance(0)
    assert [e[:2] for e in events] == [("ADDED", "web"), ("MODIFIED", "web"), ("DELETED", "web")]
    assert events[0][2] == p["metadata"]["resourceVersion"]
    assert int(events[2][2]) > int(events[1][2])
    assert w.resource_version == events[-1][2]


def test_watch_without_resource_version_starts_with_existing_objects(api, world):
    api.create(pod("a"), user=ADMIN)
    api.create(pod("b"), user=ADMIN)
    w, events = collect(api)
    api.create(pod("c"), user=ADMIN)
    world.advance(0)
    assert [e[:2] for e in events] == [("ADDED", "a"), ("ADDED", "b"), ("ADDED", "c")]


def test_watch_resumes_from_a_resource_version(api, world):
    api.create(pod("a"), user=ADMIN)
    rv = api.get("pods", "a", user=ADMIN)["metadata"]["resourceVersion"]
    api.create(pod("b"), user=ADMIN)
    api.delete("pods", "a", user=ADMIN)
    w, events = collect(api, resource_version=rv)
    world.advance(0)
    assert [e[:2] for e in events] == [("ADDED", "b"), ("DELETED", "a")]


def test_two_watches_resume_from_different_points(api, world):
    api.create(pod("a"), user=ADMIN)
    _, live = collect(api, resource_version=str(api.storage.revision))
    world.advance(0)
    api.create(pod("b"), user=ADMIN)
    world.advance(0)
    _, replay = collect(api, resource_version="1")
    world.advance(0)
    assert [e[1] for e in live] == ["b"]
    assert [e[1] for e in replay] == ["a", "b"]


def test_watch_namespace_filter(api, world):
    w, events = collect(api, namespace="kube-system", resource_version=str(api.storage.revision))
    api.create(pod("a"), user=ADMIN)
    api.create(pod("b", namespace="kube-system"), user=ADMIN)
    world.advance(0)
    assert [e[1] for e in events] == ["b"]


def test_watch_label_selector_turns_changes_into_added_and_deleted(api, world):
    api.create(pod("a", labels={"app": "db"}), user=ADMIN)
    w, events = collect(api, label_selector="app=web", resource_version=str(api.storage.revision))
    api.patch("pods", "a", {"metadata": {"labels": {"app": "web"}}}, user=ADMIN)
    api.patch("pods", "a", {"metadata": {"labels": {"tier": "x"}}}, user=ADMIN)
    api.patch("pods", "a", {"metadata": {"labels": {"app": "db"}}}, user=ADMIN)
    world.advance(0)
    assert [e[0] for e in events] == ["ADDED", "MODIFIED", "DELETED"]


def test_kubelet_style_watch_by_node(api, world):
    events = []
    api.watch("pods", user="system:node:worker-2", field_selector="spec.nodeName=worker-2",
              callback=lambda ev: events.append((ev["type"], ev["object"]["metadata"]["name"])))
    api.create(pod("a"), user=ADMIN)
    api.create(pod("b"), user=ADMIN)
    api.bind("a", "worker-1", user="system:kube-scheduler")
    api.bind("b", "worker-2", user="system:kube-scheduler")
    world.advance(0)
    assert events == [("ADDED", "b")]


def test_watch_from_a_compacted_version_is_gone(api, etcd):
    api.create(pod("a"), user=ADMIN)
    api.create(pod("b"), user=ADMIN)
    etcd.compact(etcd.revision)
    with rejected(etcd, GoneError, f"too old resource version: 3 ({etcd.revision - 1})") as e:
        api.watch("pods", user=ADMIN, resource_version="3", callback=lambda ev: None)
    assert e.value.status["code"] == 410


def test_a_broken_etcd_watch_ends_with_an_expired_error_event(api, world):
    from aivle_k8s.cluster.etcd import Compacted

    events, closed = [], []
    api.watch("pods", user=ADMIN, callback=events.append, on_close=closed.append)
    api._dispatchers["pods"]._on_error(Compacted(7))  # what etcd reports when it cannot go on
    world.advance(0)
    assert events[-1]["type"] == "ERROR"
    assert events[-1]["object"]["code"] == 410 and events[-1]["object"]["reason"] == "Expired"
    assert isinstance(closed[0], GoneError)


def test_a_replaying_watch_releases_its_etcd_watch_when_stopped(api, etcd, world):
    api.create(pod("a"), user=ADMIN)
    api.create(pod("b"), user=ADMIN)
    world.advance(0)
    w = api.watch("pods", user=ADMIN, resource_version="2", callback=lambda ev: None)
    assert len(etcd.watches) == 2  # the resource's shared stream + this watch's replay
    w.stop()
    assert len(etcd.watches) == 1


def test_stopped_watch_gets_nothing_more(api, world):
    w, events = collect(api, resource_version=str(api.storage.revision))
    api.create(pod("a"), user=ADMIN)
    world.advance(0)
    w.stop()
    api.create(pod("b"), user=ADMIN)
    world.advance(0)
    assert [e[1] for e in events] == ["a"]


def test_deleted_event_carries_the_last_state(api, world):
    api.create(pod("a", labels={"app": "web"}), user=ADMIN)
    seen = []
    api.watch("pods", user=ADMIN, resource_version=str(api.storage.revision), callback=seen.append)
    api.delete("pods", "a", user=ADMIN)
    world.advance(0)
    assert seen[0]["type"] == "DELETED"
    assert seen[0]["object"]["metadata"]["labels"] == {"app": "web"}
    assert seen[0]["object"]["metadata"]["resourceVersion"] == str(api.storage.revision)


def test_watchers_get_independent_objects(api, world):
    a, b = [], []
    api.watch("pods", user=ADMIN, resource_version=str(api.storage.revision), callback=a.append)
    api.watch("pods", user=ADMIN, resource_version=str(api.storage.revision), callback=b.append)
    api.create(pod("a"), user=ADMIN)
    world.advance(0)
    a[0]["object"]["metadata"]["name"] = "changed"
    assert b[0]["object"]["metadata"]["name"] == "a"


def test_a_callback_changing_its_object_does_not_fool_other_watches(api, world):
    seen = []

    def meddle(ev):
        ev["object"]["metadata"]["labels"] = {"app": "db"}

    api.watch("pods", user=ADMIN, resource_version=str(api.storage.revision), callback=meddle)
    api.watch("pods", user=ADMIN, resource_version=str(api.storage.revision), label_selector="app=web",
              callback=lambda ev: seen.append(ev["object"]["metadata"]["labels"]))
    api.create(pod("a", labels={"app": "web"}), user=ADMIN)
    world.advance(0)
    assert seen == [{"app": "web"}]


def test_stopping_the_apiserver_closes_watches(api, world):
    closed = []
    api.watch("pods", user=ADMIN, callback=lambda ev: None, on_close=closed.append)
    api.stop()
    world.advance(0)
    assert isinstance(closed[0], ConnectionRefused)


# =====================================================================================
# lifecycle, etcd failures, compaction
# =====================================================================================

@pytest.mark.parametrize("call", [
    lambda a: a.get("pods", "web", user=ADMIN), lambda a: a.list("pods", user=ADMIN),
    lambda a: a.create(pod(), user=ADMIN), lambda a: a.delete("pods", "web", user=ADMIN),
    lambda a: a.patch("pods", "web", {}, user=ADMIN), lambda a: a.update(pod(), user=ADMIN),
    lambda a: a.watch("pods", user=ADMIN, callback=print),
])
def test_a_stopped_apiserver_refuses_connections(api, etcd, call):
    api.stop()
    with rejected(etcd, ConnectionRefused, "The connection to the server 10.0.0.10:6443 was refused - did you "
                                           "specify the right host or port?") as e:
        call(api)
    assert isinstance(e.value, NetworkError)


def test_restart_serves_the_same_data(api):
    api.create(pod(), user=ADMIN)
    api.stop()
    api.start()
    assert api.get("pods", "web", user=ADMIN)["metadata"]["name"] == "web"


def make_cluster(world):
    etcd = EtcdCluster(world.loop, ["etcd-0", "etcd-1", "etcd-2"], random.Random(0))
    api = APIServer(etcd, now=world.timestamp, rng=world.rng, loop=world.loop)
    return etcd, api


def test_apiserver_waits_for_an_etcd_leader(world):
    etcd, api = make_cluster(world)
    assert not api.bootstrapped
    world.run_until(lambda: api.bootstrapped, timeout=30)
    assert api.get("namespaces", "default", user=ADMIN)


def test_etcd_quorum_loss_times_out_and_changes_nothing(world):
    etcd, api = make_cluster(world)
    world.run_until(lambda: api.bootstrapped, timeout=30)
    leader = etcd.leader
    for name in [m for m in etcd.members if m != leader][:2]:
        etcd.stop(name)
    with rejected(etcd, StorageError, "etcdserver: request timed out") as e:
        api.create(pod(), user=ADMIN)
    assert e.value.status["code"] == 500
    with pytest.raises(StorageError):
        api.list("pods", user=ADMIN)


def test_writes_resume_after_quorum_returns(world):
    etcd, api = make_cluster(world)
    world.run_until(lambda: api.bootstrapped, timeout=30)
    others = [m for m in etcd.members if m != etcd.leader]
    etcd.stop(others[0])
    etcd.stop(others[1])
    with pytest.raises(StorageError):
        api.create(pod(), user=ADMIN)
    etcd.start(others[0])
    world.run_until(lambda: etcd.leader is not None, timeout=30)
    assert api.create(pod(), user=ADMIN)["metadata"]["name"] == "web"


def test_watch_survives_an_etcd_member_stopping(world):
    etcd, api = make_cluster(world)
    world.run_until(lambda: api.bootstrapped, timeout=30)
    seen = []
    api.watch("pods", user=ADMIN, callback=lambda ev: seen.append(ev["object"]["metadata"]["name"]))
    api.create(pod("a"), user=ADMIN)
    world.advance(0)
    etcd.stop("etcd-0")
    world.run_until(lambda: etcd.leader is not None, timeout=30)
    api.create(pod("b"), user=ADMIN)
    world.advance(1)
    assert seen == ["a", "b"]


def test_history_older_than_one_interval_is_compacted(api, etcd, world):
    api.create(pod("a"), user=ADMIN)
    rev = etcd.revision
    world.advance(299)
    assert etcd.compact_revision == 0
    world.advance(2)  # the compactor's first tick: what it saw when it was armed (the first write)
    assert etcd.compact_revision == 2
    world.advance(300)  # the next tick compacts to what the first one saw
    assert etcd.compact_revision == rev


def test_an_idle_apiserver_stops_compacting(api, etcd, world):
    world.advance(1000)
    assert world.loop.peek() is None


def test_healthz(api):
    assert api.healthz() == "ok"


# =====================================================================================
# pods/log and pods/exec through the kubelet hook
# =====================================================================================

def test_logs_are_served_by_the_nodes_kubelet(api):
    bound_pod(api)
    calls = []
    api.register_kubelet("worker-1", lambda sub, p, opts: calls.append((sub, p["metadata"]["name"], opts)) or "hi\n")
    assert api.logs("web", user=ADMIN, tail_lines=5) == "hi\n"
    assert calls == [("log", "web", {"tail_lines": 5, "container": "web"})]


def test_exec_passes_the_command(api):
    bound_pod(api)
    api.register_kubelet("worker-1", lambda sub, p, opts: (sub, opts["command"]))
    assert api.exec("web", command=["ls", "/"], user=ADMIN) == ("exec", ["ls", "/"])


def test_logs_without_a_kubelet(api, etcd):
    bound_pod(api)
    with rejected(etcd, StatusError, 'Get "https://worker-1:10250/containerLogs/default/web/web": dial tcp '
                                      'worker-1:10250: connect: connection refused'):
        api.logs("web", user=ADMIN)


def test_logs_of_an_unscheduled_pod(api, etcd):
    api.create(pod(), user=ADMIN)
    with rejected(etcd, BadRequestError, "pod web does not have a host assigned"):
        api.logs("web", user=ADMIN)


def test_logs_need_a_container_name_when_there_are_several(api, etcd):
    body = pod()
    body["spec"]["containers"].append({"name": "sidecar", "image": "busybox"})
    api.create(body, user=ADMIN)
    with rejected(etcd, BadRequestError, "a container name must be specified for pod web, choose one of: "
                                         "[web sidecar]"):
        api.logs("web", user=ADMIN)


# =====================================================================================
# property: etcd matches what the API server said, rejections change nothing
# =====================================================================================

_names = st.sampled_from(["a", "b", "c", "Bad_Name"])
_ops = st.lists(st.tuples(st.sampled_from(["create", "create-invalid", "update", "stale-update", "delete",
                                           "label"]), _names), max_size=25)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_ops)
def test_random_requests_keep_etcd_consistent(ops):
    w = ak.World(seed=1)
    etcd = Store(w.loop)
    api = APIServer(etcd, now=w.timestamp, rng=w.rng, loop=w.loop)
    model: dict[str, dict] = {}
    for op, name in ops:
        before = etcd.revision
        try:
            if op == "create":
                model[name] = api.create(pod(name), user=ADMIN)
            elif op == "create-invalid":
                api.create(pod(name, image=""), user=ADMIN)
            elif op == "update":
                cur = api.get("pods", name, user=ADMIN)
                cur["metadata"]["labels"] = {"n": str(len(ops))}
                model[name] = api.update(cur, user=ADMIN)
            elif op == "stale-update":
                cur = api.get("pods", name, user=ADMIN)
                cur["metadata"]["resourceVersion"] = "1"
                model[name] = api.update(cur, user=ADMIN)
            elif op == "label":
                model[name] = api.patch("pods", name, {"metadata": {"labels": {"k": op}}}, user=ADMIN)
            else:
                api.delete("pods", name, user=ADMIN)
                model.pop(name, None)
        except (AlreadyExistsError, NotFoundError, ConflictError, InvalidError):
            assert etcd.revision == before
        listed = {p["metadata"]["name"]: p for p in api.list("pods", user=ADMIN)["items"]}
        assert listed.keys() == model.keys()
        for n, obj in model.items():
            assert listed[n] == obj
