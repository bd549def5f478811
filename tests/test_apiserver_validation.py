"""Validation against the real schemas plus the semantic rules, and defaulting, from YAML manifests.

Every rejected manifest leaves etcd's revision where it was.
"""

import textwrap

import pytest
import yaml

import aivle_k8s as ak
from aivle_k8s.cluster.apiserver import (APIServer, BadRequestError, ForbiddenError, InvalidError,
                                         NoKindMatchError)
from aivle_k8s.cluster.apiserver.defaults import image_pull_policy
from aivle_k8s.cluster.etcd import Store
from aivle_k8s.sim.errors import InvalidInput

ADMIN = "kubernetes-admin"


@pytest.fixture
def world():
    return ak.World(seed=0)


@pytest.fixture
def etcd(world):
    return Store(world.loop)


@pytest.fixture
def api(world, etcd):
    return APIServer(etcd, now=world.timestamp, rng=world.rng, loop=world.loop)


def manifest(text: str) -> dict:
    return yaml.safe_load(textwrap.dedent(text))


def reject(api, etcd, text, exc=InvalidError, **kw):
    """Create the manifest, expect ``exc``, check etcd did not move; return the message."""
    before = etcd.revision
    with pytest.raises(exc) as info:
        api.create(manifest(text), user=ADMIN, **kw)
    assert etcd.revision == before
    return str(info.value)


NGINX_POD = """
    apiVersion: v1
    kind: Pod
    metadata:
      name: web
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
"""

DEPLOYMENT = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      replicas: 3
      selector:
        matchLabels: {app: web}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
          - name: nginx
            image: nginx:1.25
"""


# =====================================================================================
# good manifests and their defaults
# =====================================================================================

def test_nginx_pod_is_accepted(api):
    assert api.create(manifest(NGINX_POD), user=ADMIN)["metadata"]["name"] == "web"


@pytest.mark.parametrize("path, value", [
    ("spec.restartPolicy", "Always"),
    ("spec.dnsPolicy", "ClusterFirst"),
    ("spec.terminationGracePeriodSeconds", 30),
    ("spec.schedulerName", "default-scheduler"),
    ("spec.serviceAccountName", "default"),
    ("spec.enableServiceLinks", True),
    ("spec.priority", 0),
    ("spec.preemptionPolicy", "PreemptLowerPriority"),
    ("spec.securityContext", {}),
    ("spec.containers.0.imagePullPolicy", "IfNotPresent"),
    ("spec.containers.0.terminationMessagePath", "/dev/termination-log"),
    ("spec.containers.0.terminationMessagePolicy", "File"),
    ("spec.containers.0.ports.0.protocol", "TCP"),
    ("spec.containers.0.resources", {}),
    ("status.phase", "Pending"),
    ("status.qosClass", "BestEffort"),
])
def test_pod_defaults(api, path, value):
    obj = api.create(manifest(NGINX_POD), user=ADMIN)
    for part in path.split("."):
        obj = obj[int(part)] if part.isdigit() else obj[part]
    assert obj == value


def test_default_toleration_seconds(api):
    tols = api.create(manifest(NGINX_POD), user=ADMIN)["spec"]["tolerations"]
    assert tols == [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300}]


def test_own_not_ready_toleration_is_kept(api):
    body = manifest(NGINX_POD)
    body["spec"]["tolerations"] = [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                                    "effect": "NoExecute", "tolerationSeconds": 10}]
    tols = api.create(body, user=ADMIN)["spec"]["tolerations"]
    assert [t["tolerationSeconds"] for t in tols] == [10, 300]


@pytest.mark.parametrize("image, policy", [
    ("nginx", "Always"), ("nginx:latest", "Always"), ("nginx:1.25", "IfNotPresent"),
    ("localhost:5000/app", "Always"), ("localhost:5000/app:v1", "IfNotPresent"),
    ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
])
def test_image_pull_policy_default(image, policy):
    assert image_pull_policy(image) == policy


def test_limits_become_requests_and_qos_guaranteed(api):
    body = manifest(NGINX_POD)
    body["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "500m", "memory": "128Mi"}}
    p = api.create(body, user=ADMIN)
    assert p["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "500m", "memory": "128Mi"}
    assert p["status"]["qosClass"] == "Guaranteed"


def test_burstable_qos(api):
    body = manifest(NGINX_POD)
    body["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "100m"}}
    assert api.create(body, user=ADMIN)["status"]["qosClass"] == "Burstable"


def test_priority_class_sets_priority(api):
    api.create(manifest("""
        apiVersion: scheduling.k8s.io/v1
        kind: PriorityClass
        metadata: {name: high}
        value: 1000
    """), user=ADMIN)
    body = manifest(NGINX_POD)
    body["spec"]["priorityClassName"] = "high"
    assert api.create(body, user=ADMIN)["spec"]["priority"] == 1000


def test_unknown_priority_class(api, etcd):
    body = manifest(NGINX_POD)
    body["spec"]["priorityClassName"] = "urgent"
    before = etcd.revision
    with pytest.raises(ForbiddenError) as e:
        api.create(body, user=ADMIN)
    assert str(e.value) == 'pods "web" is forbidden: no PriorityClass with name urgent was found'
    assert etcd.revision == before


@pytest.mark.parametrize("path, value", [
    ("spec.replicas", 3),
    ("spec.strategy", {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}),
    ("spec.revisionHistoryLimit", 10),
    ("spec.progressDeadlineSeconds", 600),
    ("spec.template.spec.restartPolicy", "Always"),
    ("spec.template.spec.dnsPolicy", "ClusterFirst"),
    ("spec.template.spec.containers.0.imagePullPolicy", "IfNotPresent"),
    ("status", {}),
])
def test_deployment_defaults(api, path, value):
    obj = api.create(manifest(DEPLOYMENT), user=ADMIN)
    for part in path.split("."):
        obj = obj[int(part)] if part.isdigit() else obj[part]
    assert obj == value


def test_deployment_replicas_default_to_one(api):
    body = manifest(DEPLOYMENT)
    del body["spec"]["replicas"]
    assert api.create(body, user=ADMIN)["spec"]["replicas"] == 1


def test_template_gets_no_admission_defaults(api):
    tpl = api.create(manifest(DEPLOYMENT), user=ADMIN)["spec"]["template"]["spec"]
    assert "tolerations" not in tpl and "serviceAccountName" not in tpl and "priority" not in tpl


def test_daemonset_defaults(api):
    ds = api.create(manifest("""
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: kube-proxy, namespace: kube-system}
        spec:
          selector: {matchLabels: {k8s-app: kube-proxy}}
          template:
            metadata: {labels: {k8s-app: kube-proxy}}
            spec:
              containers: [{name: kube-proxy, image: registry.k8s.io/kube-proxy:v1.30.0}]
    """), user=ADMIN)
    assert ds["spec"]["updateStrategy"] == {"type": "RollingUpdate",
                                            "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    assert ds["spec"]["revisionHistoryLimit"] == 10


JOB = """
    apiVersion: batch/v1
    kind: Job
    metadata: {name: pi}
    spec:
      template:
        spec:
          containers:
          - name: pi
            image: perl:5.34
            command: ["perl", "-Mbignum=bpi", "-wle", "print bpi(200)"]
          restartPolicy: Never
"""


def test_job_defaults_and_generated_selector(api):
    job = api.create(manifest(JOB), user=ADMIN)
    spec = job["spec"]
    assert (spec["completions"], spec["parallelism"], spec["backoffLimit"]) == (1, 1, 6)
    assert spec["completionMode"] == "NonIndexed" and spec["suspend"] is False
    uid = job["metadata"]["uid"]
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    assert spec["template"]["metadata"]["labels"]["job-name"] == "pi"


def test_job_needs_never_or_on_failure(api, etcd):
    text = JOB.replace("      restartPolicy: Never\n", "")
    msg = reject(api, etcd, text)
    assert msg == ('The Job "pi" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": '
                   'supported values: "OnFailure", "Never"')


SERVICE = """
    apiVersion: v1
    kind: Service
    metadata: {name: web}
    spec:
      selector: {app: web}
      ports:
      - port: 80
"""


def test_service_defaults(api):
    spec = api.create(manifest(SERVICE), user=ADMIN)["spec"]
    assert spec["type"] == "ClusterIP" and spec["sessionAffinity"] == "None"
    assert spec["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    assert spec["internalTrafficPolicy"] == "Cluster" and spec["ipFamilyPolicy"] == "SingleStack"


def test_nodeport_service_defaults(api):
    body = manifest(SERVICE)
    body["spec"]["type"] = "NodePort"
    spec = api.create(body, user=ADMIN)["spec"]
    assert spec["externalTrafficPolicy"] == "Cluster"
    assert 30000 <= spec["ports"][0]["nodePort"] <= 32767


def test_namespace_defaults(api):
    ns = api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}, user=ADMIN)
    assert ns["spec"]["finalizers"] == ["kubernetes"] and ns["status"]["phase"] == "Active"
    assert ns["metadata"]["labels"]["kubernetes.io/metadata.name"] == "team-a"


def test_secret_string_data_is_encoded(api):
    s = api.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
                    "stringData": {"password": "hunter2"}}, user=ADMIN)
    assert s["type"] == "Opaque" and s["data"] == {"password": "aHVudGVyMg=="}
    assert "stringData" not in s


def test_new_nodes_get_the_not_ready_taint(api):
    node = api.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-1"},
                       "status": {"capacity": {"cpu": "2", "memory": "4Gi", "pods": "110"}}}, user=ADMIN)
    assert node["spec"]["taints"] == [{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]
    assert node["status"]["allocatable"] == {"cpu": "2", "memory": "4Gi", "pods": "110"}


# =====================================================================================
# names and labels
# =====================================================================================

SUBDOMAIN = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
             "must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
             "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


def test_pod_name_must_be_a_dns_subdomain(api, etcd):
    msg = reject(api, etcd, NGINX_POD.replace("name: web\n      labels", "name: Web_1\n      labels"))
    assert msg == f'The Pod "Web_1" is invalid: metadata.name: Invalid value: "Web_1": {SUBDOMAIN}'


def test_name_too_long(api, etcd):
    long = "a" * 254
    msg = reject(api, etcd, NGINX_POD.replace("name: web\n      labels", f"name: {long}\n      labels"))
    assert "must be no more than 253 characters" in msg


def test_missing_name(api, etcd):
    body = manifest(NGINX_POD)
    del body["metadata"]["name"]
    before = etcd.revision
    with pytest.raises(InvalidError) as e:
        api.create(body, user=ADMIN)
    assert str(e.value) == 'The Pod "" is invalid: metadata.name: Required value: name or generateName is required'
    assert etcd.revision == before


def test_service_name_must_be_dns_1035(api, etcd):
    msg = reject(api, etcd, SERVICE.replace("name: web", "name: 1web"))
    assert "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic " \
           "character" in msg


def test_namespace_name_must_be_a_label(api, etcd):
    msg = reject(api, etcd, "apiVersion: v1\nkind: Namespace\nmetadata: {name: team.a}\n")
    assert msg.startswith('The Namespace "team.a" is invalid: metadata.name: Invalid value: "team.a": a lowercase '
                          'RFC 1123 label must consist of')


def test_label_value_syntax(api, etcd):
    msg = reject(api, etcd, NGINX_POD.replace("labels: {app: web}", "labels: {app: web app}"))
    assert msg.startswith('The Pod "web" is invalid: metadata.labels: Invalid value: "web app": a valid label must '
                          'be an empty string or consist of alphanumeric characters')


def test_label_key_syntax(api, etcd):
    msg = reject(api, etcd, NGINX_POD.replace("labels: {app: web}", 'labels: {"my app": web}'))
    assert 'metadata.labels: Invalid value: "my app": name part must consist of alphanumeric characters' in msg


# =====================================================================================
# containers
# =====================================================================================

def pod_with(container_yaml: str) -> str:
    return textwrap.dedent("""
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          containers:
        """) + textwrap.indent(textwrap.dedent(container_yaml), "  ")


def test_image_is_required(api, etcd):
    assert reject(api, etcd, pod_with("- name: web\n")) == \
        'The Pod "web" is invalid: spec.containers[0].image: Required value'


def test_container_name_is_required_by_the_schema(api, etcd):
    assert reject(api, etcd, pod_with("- image: nginx\n")) == \
        'The Pod "web" is invalid: spec.containers[0].name: Required value'


def test_container_names_are_unique(api, etcd):
    msg = reject(api, etcd, pod_with("- {name: web, image: nginx}\n- {name: web, image: redis}\n"))
    assert msg == 'The Pod "web" is invalid: spec.containers[1].name: Duplicate value: "web"'


def test_container_name_is_a_dns_label(api, etcd):
    msg = reject(api, etcd, pod_with("- {name: Web, image: nginx}\n"))
    assert msg.startswith('The Pod "web" is invalid: spec.containers[0].name: Invalid value: "Web": a lowercase RFC '
                          '1123 label')


@pytest.mark.parametrize("port", [0, 70000])
def test_container_port_range(api, etcd, port):
    msg = reject(api, etcd, pod_with(f"- name: web\n  image: nginx\n  ports: [{{containerPort: {port}}}]\n"))
    assert msg == (f'The Pod "web" is invalid: spec.containers[0].ports[0].containerPort: Invalid value: {port}: '
                   f'must be between 1 and 65535, inclusive')


def test_protocol_is_checked(api, etcd):
    msg = reject(api, etcd, pod_with("- name: web\n  image: nginx\n  ports: [{containerPort: 80, protocol: tcp}]\n"))
    assert msg.endswith('spec.containers[0].ports[0].protocol: Unsupported value: "tcp": supported values: "SCTP", '
                        '"TCP", "UDP"')


def test_several_causes_are_joined_like_the_real_server(api, etcd):
    msg = reject(api, etcd, pod_with("- {name: web}\n- {name: web, image: x, ports: [{containerPort: 0}]}\n"))
    assert msg == ('The Pod "web" is invalid: [spec.containers[0].image: Required value, spec.containers[1].name: '
                   'Duplicate value: "web", spec.containers[1].ports[0].containerPort: Invalid value: 0: must be '
                   'between 1 and 65535, inclusive]')


def test_invalid_error_carries_the_status_causes(api, etcd):
    with pytest.raises(InvalidError) as e:
        api.create(manifest(pod_with("- {name: web}\n")), user=ADMIN)
    assert isinstance(e.value, InvalidInput)
    assert e.value.status == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'Pod "web" is invalid: spec.containers[0].image: Required value', "reason": "Invalid",
        "details": {"name": "web", "kind": "Pod", "causes": [
            {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers[0].image"}]},
        "code": 422}


def test_env_var_names(api, etcd):
    msg = reject(api, etcd, pod_with("- name: web\n  image: nginx\n  env: [{name: 1X, value: a}]\n"))
    assert "spec.containers[0].env[0].name: Invalid value: \"1X\": a valid environment variable name" in msg


def test_volume_mount_needs_a_volume(api, etcd):
    msg = reject(api, etcd, pod_with("- name: web\n  image: nginx\n  volumeMounts: [{name: data, mountPath: /d}]\n"))
    assert msg == 'The Pod "web" is invalid: spec.containers[0].volumeMounts[0].name: Not found: "data"'


def test_requests_over_limits(api, etcd):
    msg = reject(api, etcd, pod_with("- name: web\n  image: nginx\n  resources: {requests: {cpu: '2'}, "
                                     "limits: {cpu: '1'}}\n"))
    assert msg == ('The Pod "web" is invalid: spec.containers[0].resources.requests: Invalid value: "2": must be '
                   'less than or equal to cpu limit of 1')


def test_bad_quantity_is_a_decode_error(api, etcd):
    msg = reject(api, etcd, pod_with("- name: web\n  image: nginx\n  resources: {requests: {memory: 1 GB}}\n"),
                 BadRequestError)
    assert msg == ("Pod in version \"v1\" cannot be handled as a Pod: quantities must match the regular expression "
                   "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


def test_restart_policy_values(api, etcd):
    body = manifest(NGINX_POD)
    body["spec"]["restartPolicy"] = "Sometimes"
    before = etcd.revision
    with pytest.raises(InvalidError) as e:
        api.create(body, user=ADMIN)
    assert str(e.value).endswith('spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", '
                                 '"Never", "OnFailure"')
    assert etcd.revision == before


def test_toleration_exists_with_value(api, etcd):
    body = manifest(NGINX_POD)
    body["spec"]["tolerations"] = [{"key": "k", "operator": "Exists", "value": "v"}]
    with pytest.raises(InvalidError) as e:
        api.create(body, user=ADMIN)
    assert "spec.tolerations[0].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'" \
        in str(e.value)


# =====================================================================================
# schema decoding: unknown fields and types
# =====================================================================================

def test_unknown_field_is_rejected_strictly(api, etcd):
    msg = reject(api, etcd, pod_with("- name: web\n  imagee: nginx\n"), BadRequestError)
    assert msg == 'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field ' \
                  '"spec.containers[0].imagee"'


def test_misindented_spec_is_an_unknown_field(api, etcd):
    msg = reject(api, etcd, """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          selector: {matchLabels: {app: web}}
          template:
            metadata:
              labels: {app: web}
              spec:
                containers: [{name: web, image: nginx}]
    """, BadRequestError)
    assert msg == ('Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown '
                   'field "spec.template.metadata.spec"')


def test_unknown_fields_dropped_when_ignored(api):
    p = api.create(manifest(pod_with("- name: web\n  image: nginx\n  imagee: x\n")), user=ADMIN,
                   field_validation="Ignore")
    assert "imagee" not in p["spec"]["containers"][0]


def test_unknown_fields_warn(api):
    api.create(manifest(pod_with("- name: web\n  image: nginx\n  imagee: x\n")), user=ADMIN, field_validation="Warn")
    assert api.warnings == ['unknown field "spec.containers[0].imagee"']


def test_wrong_type_is_a_go_decode_error(api, etcd):
    msg = reject(api, etcd, pod_with("- name: web\n  image: nginx\n  ports: [{containerPort: '80'}]\n"),
                 BadRequestError)
    assert msg == ('Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct '
                   'field ContainerPort.spec.containers.ports.containerPort of type int32')


def test_configmap_values_must_be_strings(api, etcd):
    msg = reject(api, etcd, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {port: 8080}\n",
                 BadRequestError)
    assert msg == ('ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into '
                   'Go struct field ConfigMap.data of type string')


def test_label_values_must_be_strings(api, etcd):
    msg = reject(api, etcd, NGINX_POD.replace("labels: {app: web}", "labels: {port: 8080}"), BadRequestError)
    assert msg.endswith("json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string")


def test_secret_data_must_be_base64(api, etcd):
    msg = reject(api, etcd, "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {password: 'hunter2!'}\n",
                 BadRequestError)
    assert msg.startswith('Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte')


def test_misspelt_kind(api, etcd):
    msg = reject(api, etcd, DEPLOYMENT.replace("kind: Deployment", "kind: Deploymnt"), NoKindMatchError)
    assert msg == 'no matches for kind "Deploymnt" in version "apps/v1"\ndid you mean kind "Deployment"?'


def test_deployment_in_the_old_api_version(api, etcd):
    msg = reject(api, etcd, DEPLOYMENT.replace("apps/v1", "extensions/v1beta1"), NoKindMatchError)
    assert msg.startswith('no matches for kind "Deployment" in version "extensions/v1beta1"\n'
                          'did you mean apiVersion "apps/v1"?')


def test_missing_kind(api, etcd):
    body = manifest(NGINX_POD)
    del body["kind"]
    before = etcd.revision
    with pytest.raises(BadRequestError) as e:
        api.create(body, user=ADMIN)
    assert str(e.value).startswith("Object 'Kind' is missing in")
    assert etcd.revision == before


def test_schema_results_are_memoized(api):
    tpl = manifest(NGINX_POD)
    del tpl["metadata"]["name"]
    tpl["metadata"]["generateName"] = "web-"
    api.create(tpl, user=ADMIN)
    misses = api.schemas.misses
    for _ in range(20):
        api.create(tpl, user=ADMIN)
    assert api.schemas.misses == misses


# =====================================================================================
# workloads
# =====================================================================================

def test_negative_replicas(api, etcd):
    msg = reject(api, etcd, DEPLOYMENT.replace("replicas: 3", "replicas: -1"))
    assert msg == 'The Deployment "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0'


def test_selector_must_match_template(api, etcd):
    msg = reject(api, etcd, DEPLOYMENT.replace("labels: {app: web}", "labels: {app: x}"))
    assert msg == ('The Deployment "web" is invalid: spec.template.metadata.labels: Invalid value: '
                   'map[string]string{"app":"x"}: `selector` does not match template `labels`')


def test_selector_is_required(api, etcd):
    msg = reject(api, etcd, DEPLOYMENT.replace("      selector:\n        matchLabels: {app: web}\n", ""))
    assert msg == ('The Deployment "web" is invalid: [spec.selector: Required value, spec.template.metadata.labels: '
                   'Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`]')


def test_empty_selector(api, etcd):
    msg = reject(api, etcd, DEPLOYMENT.replace("matchLabels: {app: web}", "matchLabels: {}"))
    assert msg.endswith("spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
                        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for "
                        "deployment")


def test_deployment_pods_must_restart_always(api, etcd):
    msg = reject(api, etcd, DEPLOYMENT.replace("        spec:\n          containers:",
                                               "        spec:\n          restartPolicy: Never\n          containers:"))
    assert msg.endswith('spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"')


def test_max_surge_and_unavailable_not_both_zero(api, etcd):
    msg = reject(api, etcd, DEPLOYMENT.replace("replicas: 3", "replicas: 3\n      strategy: {rollingUpdate: "
                                               "{maxSurge: 0, maxUnavailable: 0}}"))
    assert msg.endswith("spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when "
                        "`maxSurge` is 0")


def test_deployment_selector_is_immutable(api, etcd):
    d = api.create(manifest(DEPLOYMENT), user=ADMIN)
    d["spec"]["selector"] = {"matchLabels": {"app": "web2"}}
    d["spec"]["template"]["metadata"]["labels"] = {"app": "web2"}
    before = etcd.revision
    with pytest.raises(InvalidError) as e:
        api.update(d, user=ADMIN)
    assert str(e.value) == ('The Deployment "web" is invalid: spec.selector: Invalid value: v1.LabelSelector'
                            '{MatchLabels:map[string]string{"app":"web2"}, MatchExpressions:[]v1.LabelSelector'
                            'Requirement(nil)}: field is immutable')
    assert etcd.revision == before


def test_pod_spec_is_mostly_immutable(api, etcd):
    p = api.create(manifest(NGINX_POD), user=ADMIN)
    p["spec"]["containers"][0]["ports"][0]["containerPort"] = 8080
    before = etcd.revision
    with pytest.raises(InvalidError) as e:
        api.update(p, user=ADMIN)
    assert str(e.value).startswith(
        'The Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other than '
        '`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` '
        '(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if '
        'it was previously negative)')
    assert etcd.revision == before


def test_pod_image_may_change(api):
    p = api.create(manifest(NGINX_POD), user=ADMIN)
    p["spec"]["containers"][0]["image"] = "nginx:1.26"
    assert api.update(p, user=ADMIN)["spec"]["containers"][0]["image"] == "nginx:1.26"


def test_pod_tolerations_may_be_added_not_removed(api, etcd):
    p = api.create(manifest(NGINX_POD), user=ADMIN)
    p["spec"]["tolerations"].append({"key": "gpu", "operator": "Exists"})
    p = api.update(p, user=ADMIN)
    p["spec"]["tolerations"] = p["spec"]["tolerations"][1:]
    with pytest.raises(InvalidError):
        api.update(p, user=ADMIN)


# =====================================================================================
# services, configmaps, secrets, nodes
# =====================================================================================

def test_service_port_range(api, etcd):
    msg = reject(api, etcd, SERVICE.replace("port: 80", "port: 0"))
    # targetPort defaults to port, so both are reported, as by the real server
    assert msg == ('The Service "web" is invalid: [spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, '
                   'inclusive, spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive]')


def test_service_ports_need_names_when_several(api, etcd):
    msg = reject(api, etcd, SERVICE.replace("- port: 80", "- port: 80\n      - port: 443"))
    assert msg == 'The Service "web" is invalid: [spec.ports[0].name: Required value, spec.ports[1].name: ' \
                  'Required value]'


def test_service_type_values(api, etcd):
    msg = reject(api, etcd, SERVICE.replace("spec:", "spec:\n      type: Nodeport"))
    assert msg == ('The Service "web" is invalid: spec.type: Unsupported value: "Nodeport": supported values: '
                   '"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"')


def test_node_port_on_cluster_ip_service(api, etcd):
    msg = reject(api, etcd, SERVICE.replace("- port: 80", "- port: 80\n        nodePort: 30080"))
    assert msg == "The Service \"web\" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` " \
                  "is 'ClusterIP'"


def test_configmap_keys(api, etcd):
    msg = reject(api, etcd, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {'my key': v}\n")
    assert msg.startswith('The ConfigMap "c" is invalid: data[my key]: Invalid value: "my key": a valid config key')


def test_immutable_configmap(api, etcd):
    cm = api.create(manifest("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\nimmutable: true\n"),
                    user=ADMIN)
    cm["data"]["a"] = "changed"
    before = etcd.revision
    with pytest.raises(InvalidError) as e:
        api.update(cm, user=ADMIN)
    assert str(e.value) == 'The ConfigMap "c" is invalid: data: Forbidden: field is immutable when `immutable` is set'
    assert etcd.revision == before


def test_tls_secret_needs_its_keys(api, etcd):
    msg = reject(api, etcd, "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/tls\ndata: {}\n")
    assert msg == 'The Secret "s" is invalid: [data[tls.crt]: Required value, data[tls.key]: Required value]'


def test_taint_effect(api, etcd):
    msg = reject(api, etcd, "apiVersion: v1\nkind: Node\nmetadata: {name: w1}\nspec:\n  taints: "
                            "[{key: dedicated, value: gpu, effect: NoScheduel}]\n")
    assert msg == ('The Node "w1" is invalid: spec.taints[0].effect: Unsupported value: "NoScheduel": supported '
                   'values: "NoExecute", "NoSchedule", "PreferNoSchedule"')


def test_multi_document_yaml_all_valid(api):
    docs = [d for d in yaml.safe_load_all(textwrap.dedent(DEPLOYMENT) + "---\n" + textwrap.dedent(SERVICE)) if d]
    kinds = [api.create(d, user=ADMIN)["kind"] for d in docs]
    assert kinds == ["Deployment", "Service"]


def test_objects_of_one_shape_are_decoded_once_and_a_type_error_still_fails(api, etcd):
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "l", "namespace": "default"},
             "spec": {"holderIdentity": "a", "leaseDurationSeconds": 40, "renewTime": "2025-03-03T09:00:00.000000Z"}}
    lease = api.update(api.create(lease, user=ADMIN), user=ADMIN)
    misses = api.schemas.misses
    for i in range(10):  # a renewal changes strings only: the memo answers
        lease["spec"]["renewTime"] = f"2025-03-03T09:00:{10 + i}.000000Z"
        lease["spec"]["holderIdentity"] = f"holder-{i}"
        lease = api.update(lease, user=ADMIN)
    assert api.schemas.misses == misses
    # a value of another JSON type is a new shape: decoded, and refused in the decoder's words
    bad = dict(lease, spec={**lease["spec"], "leaseDurationSeconds": "40"})
    before = etcd.revision
    with pytest.raises(BadRequestError) as e:
        api.update(bad, user=ADMIN)
    assert "json: cannot unmarshal string into Go struct field LeaseSpec.spec.leaseDurationSeconds of type int32" \
        in str(e.value)
    assert etcd.revision == before
    frac = dict(lease, spec={**lease["spec"], "leaseDurationSeconds": 40.5})
    with pytest.raises(BadRequestError):
        api.update(frac, user=ADMIN)


def test_a_partial_node_info_is_accepted_as_the_real_api_server_does(api, etcd):
    node = api.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
                       "status": {"nodeInfo": {"kubeletVersion": "v1.30.2", "architecture": "amd64"}}}, user=ADMIN)
    assert node["status"]["nodeInfo"] == {"kubeletVersion": "v1.30.2", "architecture": "amd64"}
    node["metadata"].setdefault("labels", {})["zone"] = "a"
    node = api.update(node, user=ADMIN)
    assert node["metadata"]["labels"]["zone"] == "a"
    # a wrong type there is still refused by the decoder, and required fields elsewhere still are
    node["status"]["nodeInfo"]["kubeletVersion"] = 130
    with pytest.raises(BadRequestError):
        api.update(node, user=ADMIN)
    with pytest.raises(InvalidError, match="Required value"):
        api.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                    "spec": {"containers": [{"image": "nginx"}]}}, user=ADMIN)
