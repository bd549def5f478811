"""Strategic merge patch (merge keys from the real schema), JSON merge patch, JSON patch, apply."""

import pytest

import aivle_k8s as ak
from aivle_k8s.cluster.apiserver import (APIServer, BadRequestError, ConflictError, InvalidError, NotFoundError)
from aivle_k8s.cluster.apiserver.patch import PatchError, json_merge_patch, json_patch, strategic_merge
from aivle_k8s.cluster.apiserver.schema import Schemas
from aivle_k8s.cluster.etcd import Store

ADMIN = "kubernetes-admin"


@pytest.fixture(scope="module")
def schemas():
    return Schemas("1.30")


@pytest.fixture
def world():
    return ak.World(seed=0)


@pytest.fixture
def etcd(world):
    return Store(world.loop)


@pytest.fixture
def api(world, etcd):
    return APIServer(etcd, now=world.timestamp, rng=world.rng, loop=world.loop)


def two_containers():
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"containers": [
                {"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}, {"containerPort": 443}],
                 "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                 "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "cfg", "mountPath": "/etc/app"}]},
                {"name": "sidecar", "image": "busybox", "args": ["sleep", "10"]}],
                "volumes": [{"name": "data", "emptyDir": {}}, {"name": "cfg", "emptyDir": {}}],
                "tolerations": [{"key": "a", "operator": "Exists"}]}}


def smp(schemas, patch, original=None):
    return strategic_merge(original or two_containers(), patch, "Pod", schemas)


# =====================================================================================
# strategic merge patch, pure
# =====================================================================================

def test_containers_merge_by_name(schemas):
    out = smp(schemas, {"spec": {"containers": [{"name": "sidecar", "image": "busybox:1.36"}]}})
    assert [(c["name"], c["image"]) for c in out["spec"]["containers"]] == [("web", "nginx:1.25"),
                                                                            ("sidecar", "busybox:1.36")]
    assert out["spec"]["containers"][1]["args"] == ["sleep", "10"]


def test_a_new_container_is_appended(schemas):
    out = smp(schemas, {"spec": {"containers": [{"name": "log", "image": "fluentd"}]}})
    assert [c["name"] for c in out["spec"]["containers"]] == ["web", "sidecar", "log"]


def test_patch_delete_directive_removes_a_container(schemas):
    out = smp(schemas, {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}})
    assert [c["name"] for c in out["spec"]["containers"]] == ["web"]


def test_patch_replace_directive_replaces_the_list(schemas):
    out = smp(schemas, {"spec": {"containers": [{"name": "only", "image": "x"}, {"$patch": "replace"}]}})
    assert out["spec"]["containers"] == [{"name": "only", "image": "x"}]


def test_patch_replace_in_a_map(schemas):
    out = smp(schemas, {"metadata": {"labels": {"tier": "fe", "$patch": "replace"}}})
    assert out["metadata"]["labels"] == {"tier": "fe"}


def test_ports_merge_by_container_port(schemas):
    out = smp(schemas, {"spec": {"containers": [{"name": "web", "ports": [{"containerPort": 443, "name": "https"},
                                                                            {"containerPort": 8080}]}]}})
    assert out["spec"]["containers"][0]["ports"] == [{"containerPort": 80}, {"containerPort": 443, "name": "https"},
                                                     {"containerPort": 8080}]


def test_env_merges_by_name(schemas):
    out = smp(schemas, {"spec": {"containers": [{"name": "web", "env": [{"name": "B", "value": "3"},
                                                                          {"name": "C", "value": "4"}]}]}})
    assert out["spec"]["containers"][0]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "3"},
                                                   {"name": "C", "value": "4"}]


def test_env_entry_deleted(schemas):
    out = smp(schemas, {"spec": {"containers": [{"name": "web", "env": [{"name": "A", "$patch": "delete"}]}]}})
    assert out["spec"]["containers"][0]["env"] == [{"name": "B", "value": "2"}]


def test_volume_mounts_merge_by_mount_path(schemas):
    out = smp(schemas, {"spec": {"containers": [{"name": "web", "volumeMounts": [
        {"mountPath": "/data", "name": "data", "readOnly": True}]}]}})
    assert out["spec"]["containers"][0]["volumeMounts"][0] == {"name": "data", "mountPath": "/data", "readOnly": True}
    assert len(out["spec"]["containers"][0]["volumeMounts"]) == 2


def test_volumes_merge_by_name(schemas):
    out = smp(schemas, {"spec": {"volumes": [{"name": "cache", "emptyDir": {"medium": "Memory"}}]}})
    assert [v["name"] for v in out["spec"]["volumes"]] == ["data", "cfg", "cache"]


def test_tolerations_are_replaced_not_merged(schemas):
    # PodSpec.tolerations has no patch strategy (x-kubernetes-list-type: atomic)
    out = smp(schemas, {"spec": {"tolerations": [{"key": "b", "operator": "Exists"}]}})
    assert out["spec"]["tolerations"] == [{"key": "b", "operator": "Exists"}]


def test_args_are_replaced(schemas):
    out = smp(schemas, {"spec": {"containers": [{"name": "sidecar", "args": ["sleep", "99"]}]}})
    assert out["spec"]["containers"][1]["args"] == ["sleep", "99"]


def test_conditions_merge_by_type(schemas):
    original = {"kind": "Pod", "status": {"conditions": [{"type": "Ready", "status": "False"},
                                                         {"type": "PodScheduled", "status": "True"}]}}
    out = strategic_merge(original, {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}, "Pod", schemas)
    assert out["status"]["conditions"] == [{"type": "Ready", "status": "True"}, {"type": "PodScheduled",
                                                                                 "status": "True"}]


def test_node_conditions_merge_by_type(schemas):
    original = {"kind": "Node", "status": {"conditions": [{"type": "Ready", "status": "False"},
                                                          {"type": "MemoryPressure", "status": "False"}]}}
    out = strategic_merge(original, {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}, "Node",
                          schemas)
    assert [c["status"] for c in out["status"]["conditions"]] == ["True", "False"]


def test_service_ports_merge_by_port(schemas):
    original = {"kind": "Service", "spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}}
    out = strategic_merge(original, {"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}, "Service", schemas)
    assert out["spec"]["ports"] == [{"port": 80, "targetPort": 9090}, {"port": 443}]


def test_deployment_template_containers_merge_by_name(schemas):
    original = {"kind": "Deployment", "spec": {"template": {"spec": {"containers": [
        {"name": "a", "image": "x:1"}, {"name": "b", "image": "y:1"}]}}}}
    out = strategic_merge(original, {"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "y:2"}]}}}},
                          "Deployment", schemas)
    assert [c["image"] for c in out["spec"]["template"]["spec"]["containers"]] == ["x:1", "y:2"]


def test_finalizers_merge_as_a_set(schemas):
    original = {"kind": "ConfigMap", "metadata": {"finalizers": ["a.io/x"]}}
    out = strategic_merge(original, {"metadata": {"finalizers": ["a.io/y", "a.io/x"]}}, "ConfigMap", schemas)
    assert out["metadata"]["finalizers"] == ["a.io/x", "a.io/y"]


def test_delete_from_primitive_list(schemas):
    original = {"kind": "ConfigMap", "metadata": {"finalizers": ["a.io/x", "a.io/y"]}}
    out = strategic_merge(original, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a.io/x"]}}, "ConfigMap",
                          schemas)
    assert out["metadata"]["finalizers"] == ["a.io/y"]


def test_null_deletes_a_key(schemas):
    out = smp(schemas, {"metadata": {"labels": {"app": None, "tier": "fe"}}})
    assert out["metadata"]["labels"] == {"tier": "fe"}


def test_set_element_order(schemas):
    out = smp(schemas, {"spec": {"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "web"}],
                                 "containers": [{"name": "web", "image": "nginx:2"}]}})
    assert [c["name"] for c in out["spec"]["containers"]] == ["sidecar", "web"]


def test_retain_keys(schemas):
    original = {"kind": "Deployment", "spec": {"strategy": {"type": "RollingUpdate",
                                                            "rollingUpdate": {"maxSurge": 1}}}}
    out = strategic_merge(original, {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}},
                          "Deployment", schemas)
    assert out["spec"]["strategy"] == {"type": "Recreate"}


def test_merge_key_missing(schemas):
    with pytest.raises(PatchError) as e:
        smp(schemas, {"spec": {"containers": [{"image": "x"}]}})
    assert "does not contain declared merge key: name" in str(e.value)


def test_strategic_merge_does_not_touch_the_original(schemas):
    original = two_containers()
    smp(schemas, {"spec": {"containers": [{"name": "web", "image": "changed"}]}}, original)
    assert original["spec"]["containers"][0]["image"] == "nginx:1.25"


# =====================================================================================
# JSON merge patch and JSON patch, pure
# =====================================================================================

def test_json_merge_patch_replaces_lists():
    out = json_merge_patch(two_containers(), {"spec": {"containers": [{"name": "only", "image": "x"}]}})
    assert out["spec"]["containers"] == [{"name": "only", "image": "x"}]


def test_json_merge_patch_null_deletes():
    assert json_merge_patch({"a": 1, "b": {"c": 2, "d": 3}}, {"b": {"c": None}}) == {"a": 1, "b": {"d": 3}}


def test_json_patch_operations():
    doc = {"spec": {"replicas": 1, "list": [1, 2]}, "metadata": {"labels": {"a/b": "x"}}}
    out = json_patch(doc, [
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "add", "path": "/spec/list/0", "value": 0},
        {"op": "remove", "path": "/metadata/labels/a~1b"},
        {"op": "copy", "from": "/spec/replicas", "path": "/spec/copy"},
        {"op": "move", "from": "/spec/copy", "path": "/spec/moved"},
        {"op": "test", "path": "/spec/moved", "value": 3},
    ])
    assert out == {"spec": {"replicas": 3, "list": [0, 1, 2], "moved": 3}, "metadata": {"labels": {}}}
    assert doc["spec"]["replicas"] == 1


def test_json_patch_replace_missing_key():
    with pytest.raises(PatchError) as e:
        json_patch({"spec": {}}, [{"op": "replace", "path": "/spec/replicas", "value": 3}])
    assert str(e.value) == "replace operation does not apply: doc is missing key: /spec/replicas: missing value"


def test_json_patch_remove_missing_path():
    with pytest.raises(PatchError) as e:
        json_patch({"spec": {}}, [{"op": "remove", "path": "/spec/x"}])
    assert str(e.value) == 'remove operation does not apply: doc is missing path: "/spec/x": missing value'


def test_json_patch_test_failure():
    with pytest.raises(PatchError) as e:
        json_patch({"a": 1}, [{"op": "test", "path": "/a", "value": 2}])
    assert str(e.value) == "testing value /a failed: test failed"


def test_json_patch_unknown_op():
    with pytest.raises(PatchError) as e:
        json_patch({}, [{"op": "frobnicate", "path": "/a"}])
    assert str(e.value) == "Unexpected kind: frobnicate"


# =====================================================================================
# through the API server
# =====================================================================================

def test_patch_changes_an_image_like_kubectl_set_image(api, etcd):
    api.create(two_containers(), user=ADMIN)
    out = api.patch("pods", "web", {"spec": {"containers": [{"name": "web", "image": "nginx:1.26"}]}}, user=ADMIN)
    assert [c["image"] for c in out["spec"]["containers"]] == ["nginx:1.26", "busybox"]
    assert out["metadata"]["resourceVersion"] == str(etcd.revision)


def test_patch_accepts_json_text(api):
    api.create(two_containers(), user=ADMIN)
    out = api.patch("pods", "web", '{"metadata": {"labels": {"tier": "fe"}}}', user=ADMIN)
    assert out["metadata"]["labels"] == {"app": "web", "tier": "fe"}


def test_merge_patch_through_the_api(api):
    api.create(two_containers(), user=ADMIN)
    out = api.patch("pods", "web", {"metadata": {"labels": None}}, user=ADMIN, patch_type="merge")
    assert "labels" not in out["metadata"]


def test_json_patch_through_the_api(api):
    api.create({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                         "template": {"metadata": {"labels": {"app": "web"}},
                                      "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}, user=ADMIN)
    out = api.patch("deployments", "web", [{"op": "replace", "path": "/spec/replicas", "value": 4}], user=ADMIN,
                    patch_type="json")
    assert out["spec"]["replicas"] == 4 and out["metadata"]["generation"] == 2


def test_patch_status_conditions(api):
    api.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "w1"}}, user=ADMIN)
    api.patch("nodes", "w1", {"status": {"conditions": [{"type": "Ready", "status": "False"}]}},
              user="system:node:w1", subresource="status")
    out = api.patch("nodes", "w1", {"status": {"conditions": [{"type": "MemoryPressure", "status": "False"}]}},
                    user="system:node:w1", subresource="status")
    assert [c["type"] for c in out["status"]["conditions"]] == ["Ready", "MemoryPressure"]


def test_patch_of_a_missing_object(api, etcd):
    before = etcd.revision
    with pytest.raises(NotFoundError) as e:
        api.patch("pods", "ghost", {"metadata": {"labels": {"a": "b"}}}, user=ADMIN)
    assert str(e.value) == 'pods "ghost" not found' and etcd.revision == before


def test_patch_making_the_object_invalid_changes_nothing(api, etcd):
    api.create(two_containers(), user=ADMIN)
    before = etcd.revision
    with pytest.raises(InvalidError) as e:
        api.patch("pods", "web", {"metadata": {"labels": {"app": "not valid!"}}}, user=ADMIN)
    assert str(e.value).startswith('The Pod "web" is invalid: metadata.labels: Invalid value: "not valid!"')
    assert etcd.revision == before


def test_patch_with_a_stale_resource_version_conflicts(api, etcd):
    api.create(two_containers(), user=ADMIN)
    before = etcd.revision
    with pytest.raises(ConflictError):
        api.patch("pods", "web", {"metadata": {"resourceVersion": "1", "labels": {"a": "b"}}}, user=ADMIN)
    assert etcd.revision == before


def test_malformed_patch(api, etcd):
    api.create(two_containers(), user=ADMIN)
    before = etcd.revision
    with pytest.raises(BadRequestError):
        api.patch("pods", "web", "{not json", user=ADMIN)
    with pytest.raises(BadRequestError):
        api.patch("pods", "web", [{"op": "add"}], user=ADMIN)
    with pytest.raises(PatchError):
        api.patch("pods", "web", [{"op": "remove", "path": "/spec/nothing"}], user=ADMIN, patch_type="json")
    assert etcd.revision == before


def test_apply_creates_then_merges(api):
    cfg = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app"}, "data": {"a": "1"}}
    created = api.patch("configmaps", "app", cfg, user=ADMIN, patch_type="apply", field_manager="kubectl")
    assert created["data"] == {"a": "1"}
    out = api.patch("configmaps", "app", {**cfg, "data": {"b": "2"}}, user=ADMIN, patch_type="apply",
                    field_manager="kubectl")
    assert out["data"] == {"a": "1", "b": "2"}


def test_apply_needs_a_field_manager(api, etcd):
    before = etcd.revision
    with pytest.raises(InvalidError) as e:
        api.patch("configmaps", "app", {"data": {}}, user=ADMIN, patch_type="apply")
    assert "fieldManager: Required value: is required for apply patch" in str(e.value)
    assert etcd.revision == before


def test_unknown_patch_type(api):
    with pytest.raises(BadRequestError):
        api.patch("pods", "web", {}, user=ADMIN, patch_type="yaml")
