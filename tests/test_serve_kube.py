"""The Kubernetes API face: real kubectl and the ``kubernetes`` SDK against the simulated cluster.

Every test drives a real client over HTTPS and checks the effect in the simulated world (the
world's API server, read under the world's lock), not just an exit code. One cluster and one
face serve the whole module; each test uses its own object names.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest
import yaml

pytest.importorskip("aiohttp")

import aivle_k8s as ak
from aivle_k8s.cluster.apiserver import SYSTEM_USER
from aivle_k8s.cluster.bootstrap import build_cluster
from aivle_k8s.cluster.pki import CertKey, load_cert
from aivle_k8s.serve.runner import world_lock

KUBECTL = shutil.which("kubectl") or ("/usr/bin/kubectl" if os.path.exists("/usr/bin/kubectl") else None)


# ---------------------------------------------------------------------------------------
# fixtures and helpers
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world():
    return ak.World(seed=0)


@pytest.fixture(scope="module")
def cluster(world):
    return build_cluster(world)


@pytest.fixture(scope="module")
def face(cluster):
    handle = cluster.serve()
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("kubectl-home")


def locked(world, fn, *args, **kwargs):
    """Read the world the way a notebook cell does while a face serves it: under its lock."""
    with world_lock(world):
        return fn(*args, **kwargs)


def api_of(cluster):
    return cluster.client.apiserver()


def world_get(cluster, resource, name, namespace="default"):
    return locked(cluster.world, api_of(cluster).get, resource, name, namespace, user=SYSTEM_USER)


def world_exists(cluster, resource, name, namespace="default"):
    from aivle_k8s.cluster.apiserver import NotFoundError

    try:
        world_get(cluster, resource, name, namespace)
        return True
    except NotFoundError:
        return False


def quiet(face):
    """Wait (bounded) until the face no longer runs the clock: no open watch, no write still settling."""
    deadline = time.monotonic() + 60
    while not face.idle and time.monotonic() < deadline:
        time.sleep(0.02)
    assert face.idle


def revision(cluster):
    return locked(cluster.world, lambda: api_of(cluster).storage.revision)


def kubectl(face, home, *args, stdin=None, timeout=60):
    if KUBECTL is None:
        pytest.skip("kubectl is not installed (/usr/bin/kubectl is absent): the kubectl checks need the real binary")
    env = {**os.environ, "KUBECONFIG": face.kubeconfig, "HOME": str(home)}
    return subprocess.run([KUBECTL, *args], env=env, input=stdin, capture_output=True, text=True, timeout=timeout)


def ok(result):
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


class Client:
    """A tiny HTTPS client (the standard library's) for requests kubectl never sends as such."""

    def __init__(self, face, token=True):
        self.face = face
        self.ctx = ssl.create_default_context(cafile=face.ca_file)
        self.token = face.token if token is True else token

    def request(self, method, path, body=None, *, content_type="application/json", accept=None, stream=False):
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        req = urllib.request.Request(self.face.url + path, data=data, method=method)
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", content_type)
        if accept:
            req.add_header("Accept", accept)
        try:
            resp = urllib.request.urlopen(req, context=self.ctx, timeout=60)
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), json.loads(e.read() or b"null")
        if stream:
            return resp.status, dict(resp.headers), resp
        raw = resp.read()
        ctype = resp.headers.get("Content-Type", "")
        return resp.status, dict(resp.headers), (json.loads(raw) if "json" in ctype else raw.decode())


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
"""


# ---------------------------------------------------------------------------------------
# TLS, credentials, discovery
# ---------------------------------------------------------------------------------------
def test_kubeconfig_points_at_the_face_with_the_clusters_ca(cluster, face):
    doc = yaml.safe_load(open(face.kubeconfig))
    server = doc["clusters"][0]["cluster"]["server"]
    ca_pem = base64.b64decode(doc["clusters"][0]["cluster"]["certificate-authority-data"])
    assert server == face.url and server.startswith("https://127.0.0.1:")
    assert ca_pem == locked(cluster.world, cluster.machine.fs.read_text, "/etc/kubernetes/pki/ca.crt").encode()
    user = doc["users"][0]["user"]
    client_cert = CertKey(load_cert(base64.b64decode(user["client-certificate-data"])), None)
    assert client_cert.subject_cn == "kubernetes-admin" and client_cert.organizations == ["kubeadm:cluster-admins"]
    assert client_cert.verify_signed_by(load_cert(ca_pem))
    # the serving certificate verifies against that CA (no insecure flags anywhere)
    status, _, version = Client(face).request("GET", "/version")
    kubelet_version = locked(cluster.world, lambda: cluster.nodes.get("master", namespace=None)
                             .raw["status"]["nodeInfo"]["kubeletVersion"])
    assert status == 200 and version["gitVersion"] == kubelet_version and kubelet_version.startswith("v1.30.")


def test_discovery_negotiates_aggregated_or_legacy(face):
    c = Client(face)
    status, headers, doc = c.request("GET", "/apis", accept="application/json;g=apidiscovery.k8s.io;v=v2;"
                                                           "as=APIGroupDiscoveryList,application/json")
    assert status == 200 and headers["Content-Type"].startswith("application/json;g=apidiscovery.k8s.io;v=v2")
    apps = next(g for g in doc["items"] if g["metadata"]["name"] == "apps")
    deploy = next(r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments")
    scale = next(s for s in deploy["subresources"] if s["subresource"] == "scale")
    assert scale["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    status, headers, legacy = c.request("GET", "/apis", accept="application/json")
    assert legacy["kind"] == "APIGroupList" and "apps" in [g["name"] for g in legacy["groups"]]
    _, _, core = c.request("GET", "/api/v1")
    names = {r["name"] for r in core["resources"]}
    assert {"pods", "pods/log", "pods/status", "nodes", "services", "events"} <= names
    _, _, health = c.request("GET", "/readyz")
    assert health == "ok"


def test_openapi_v3_lets_kubectl_validate_on_the_server(face):
    c = Client(face)
    _, _, root = c.request("GET", "/openapi/v3")
    url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
    _, _, doc = c.request("GET", url)
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "kind": "Deployment", "version": "v1"}
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]
    assert "application/strategic-merge-patch+json" in patch["requestBody"]["content"]
    containers = doc["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"



def test_a_patch_release_server_uses_its_minors_schemas(cluster, face):
    """kubeadm runs v1.30.8: /version says so, the OpenAPI documents come from the 1.30 schema set the
    API server validates with (one set per minor in kubernetes-validate), not a second copy."""
    from kubernetes_validate import utils

    from aivle_k8s.serve import kube_discovery as D

    api = api_of(cluster)
    assert api.kubernetes_version == "v1.30.8"
    assert D.schema_version("v1.30.8") == "1.30" and "1.30.0" in utils.all_versions()
    assert D._defs(api.kubernetes_version).schemas is api.schemas
    c = Client(face)
    _, _, version = c.request("GET", "/version")
    assert (version["gitVersion"], version["minor"]) == ("v1.30.8", "30")
    _, _, root = c.request("GET", "/openapi/v3")
    _, _, doc = c.request("GET", root["paths"]["api/v1"]["serverRelativeURL"])
    assert doc["info"]["version"] == "v1.30.8"
    assert "io.k8s.api.core.v1.PodSpec" in doc["components"]["schemas"]


# ---------------------------------------------------------------------------------------
# refused requests: a real Status, and nothing changes
# ---------------------------------------------------------------------------------------
def test_anonymous_and_bad_tokens_are_refused(cluster, face):
    quiet(face)
    before = revision(cluster)
    status, _, body = Client(face, token=None).request("POST", "/api/v1/namespaces/default/configmaps",
                                                       {"metadata": {"name": "anon"}})
    assert status == 403 and body["reason"] == "Forbidden"
    assert 'User "system:anonymous" cannot create resource "configmaps"' in body["message"]
    status, _, body = Client(face, token="not-a-token").request("GET", "/api/v1/pods")
    assert (status, body["kind"], body["reason"]) == (401, "Status", "Unauthorized")
    assert revision(cluster) == before and not world_exists(cluster, "configmaps", "anon")


def test_malformed_requests_get_status_bodies_and_change_nothing(cluster, face):
    c = Client(face)
    quiet(face)
    before = revision(cluster)
    status, _, body = c.request("POST", "/apis/apps/v1/namespaces/default/deployments", b"{not json")
    assert status == 400 and body["reason"] == "BadRequest"
    status, _, body = c.request("POST", "/apis/apps/v1/namespaces/default/deployments",
                                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}})
    assert status == 400 and "does not match the expected API version" in body["message"]
    bad = yaml.safe_load(DEPLOYMENT.format(name="broken", replicas=1))
    bad["spec"]["replicas"] = -1
    status, _, body = c.request("POST", "/apis/apps/v1/namespaces/default/deployments", bad)
    assert (status, body["reason"]) == (422, "Invalid")
    assert body["details"]["causes"][0]["field"] == "spec.replicas"
    status, _, body = c.request("PATCH", "/apis/apps/v1/namespaces/default/deployments/broken", {"spec": {}},
                                content_type="text/plain")
    assert (status, body["reason"]) == (415, "UnsupportedMediaType")
    status, _, body = c.request("GET", "/apis/apps/v1/namespaces/default/widgets")
    assert (status, body["reason"]) == (404, "NotFound")
    assert revision(cluster) == before and not world_exists(cluster, "deployments", "broken")


# ---------------------------------------------------------------------------------------
# kubectl, unmodified
# ---------------------------------------------------------------------------------------
def test_kubectl_get_nodes(cluster, face, home):
    out = ok(kubectl(face, home, "get", "nodes"))
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["NAME", "STATUS", "ROLES"]
    nodes = locked(cluster.world, api_of(cluster).list, "nodes", user=SYSTEM_USER)["items"]
    rows = {line.split()[0]: line.split()[1] for line in lines[1:]}
    assert rows == {n["metadata"]["name"]: "Ready" for n in nodes}


def test_kubectl_get_pods_all_namespaces_wide(cluster, face, home):
    quiet(face)  # no pod comes or goes between kubectl's list and ours
    out = ok(kubectl(face, home, "get", "pods", "-A", "-o", "wide"))
    header = out.splitlines()[0]
    assert header.split()[:2] == ["NAMESPACE", "NAME"] and "NODE" in header and "IP" in header
    rows = {(r.split()[0], r.split()[1]): r.split() for r in out.splitlines()[1:]}
    pods = locked(cluster.world, api_of(cluster).list, "pods", user=SYSTEM_USER)["items"]
    for p in pods:
        row = rows[(p["metadata"]["namespace"], p["metadata"]["name"])]
        assert p["spec"]["nodeName"] in row


def test_kubectl_apply_creates_then_reapplies(cluster, face, home, tmp_path):
    manifest = tmp_path / "web.yaml"
    manifest.write_text(DEPLOYMENT.format(name="web", replicas=2))
    assert ok(kubectl(face, home, "apply", "-f", str(manifest))).strip() == "deployment.apps/web created"
    created = world_get(cluster, "deployments", "web")
    assert created["spec"]["replicas"] == 2
    assert "kubectl.kubernetes.io/last-applied-configuration" in created["metadata"]["annotations"]
    assert ok(kubectl(face, home, "apply", "-f", str(manifest))).strip() == "deployment.apps/web unchanged"
    assert world_get(cluster, "deployments", "web")["metadata"]["generation"] == 1  # the spec was not touched
    manifest.write_text(DEPLOYMENT.format(name="web", replicas=3))
    assert ok(kubectl(face, home, "apply", "-f", str(manifest))).strip() == "deployment.apps/web configured"
    assert world_get(cluster, "deployments", "web")["spec"]["replicas"] == 3


def test_kubectl_apply_rejects_unknown_fields_on_the_server(cluster, face, home):
    text = DEPLOYMENT.format(name="typo", replicas=1).replace("image: nginx:1.25",
                                                              "image: nginx:1.25\n        imagee: x")
    result = kubectl(face, home, "apply", "-f", "-", stdin=text)
    assert result.returncode == 1
    assert 'strict decoding error: unknown field "spec.template.spec.containers[0].imagee"' in result.stderr
    assert not world_exists(cluster, "deployments", "typo")


def test_kubectl_apply_server_side(cluster, face, home):
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n"
    assert ok(kubectl(face, home, "apply", "--server-side", "-f", "-", stdin=text)).strip() == \
        "configmap/settings serverside-applied"
    assert world_get(cluster, "configmaps", "settings")["data"] == {"mode": "fast"}
    ok(kubectl(face, home, "apply", "--server-side", "-f", "-", stdin=text.replace("fast", "safe")))
    assert world_get(cluster, "configmaps", "settings")["data"] == {"mode": "safe"}


def test_kubectl_scale_and_rollout_status(cluster, face, home):
    ok(kubectl(face, home, "apply", "-f", "-", stdin=DEPLOYMENT.format(name="shop", replicas=1)))
    assert ok(kubectl(face, home, "scale", "deployment", "shop", "--replicas=5")).strip() == \
        "deployment.apps/shop scaled"
    assert world_get(cluster, "deployments", "shop")["spec"]["replicas"] == 5
    # the world moves while kubectl watches, so the rollout finishes
    out = ok(kubectl(face, home, "rollout", "status", "deployment/shop", "--timeout=60s"))
    assert 'deployment "shop" successfully rolled out' in out
    status = world_get(cluster, "deployments", "shop")["status"]
    assert status["readyReplicas"] == 5 and status["updatedReplicas"] == 5


def test_kubectl_wait_for_a_condition(cluster, face, home):
    ok(kubectl(face, home, "apply", "-f", "-", stdin=DEPLOYMENT.format(name="waiter", replicas=2)))
    out = ok(kubectl(face, home, "wait", "--for=condition=Available", "deployment/waiter", "--timeout=60s"))
    assert out.strip() == "deployment.apps/waiter condition met"
    conds = {c["type"]: c["status"] for c in world_get(cluster, "deployments", "waiter")["status"]["conditions"]}
    assert conds["Available"] == "True"


def _running_pod(cluster, face, home, name):
    ok(kubectl(face, home, "apply", "-f", "-", stdin=DEPLOYMENT.format(name=name, replicas=1)))
    ok(kubectl(face, home, "rollout", "status", f"deployment/{name}", "--timeout=60s"))
    pods = locked(cluster.world, api_of(cluster).list, "pods", "default", user=SYSTEM_USER,
                  label_selector=f"app={name}")["items"]
    return next(p for p in pods if p["status"]["phase"] == "Running")


def test_kubectl_logs(cluster, face, home):
    pod = _running_pod(cluster, face, home, "logger")
    name = pod["metadata"]["name"]
    out = ok(kubectl(face, home, "logs", name))
    expected = locked(cluster.world, api_of(cluster).logs, name, "default", user=SYSTEM_USER)
    assert out == expected and "nginx" in out
    tail = ok(kubectl(face, home, "logs", name, "--tail=2"))
    assert tail.splitlines() == expected.splitlines()[-2:]


def test_kubectl_describe(cluster, face, home):
    pod = _running_pod(cluster, face, home, "described")
    name, node = pod["metadata"]["name"], pod["spec"]["nodeName"]
    out = ok(kubectl(face, home, "describe", "pod", name))
    assert f"Name:             {name}" in out and f"Node:             {node}/" in out
    assert "Successfully assigned default/" + name in out  # the pod's events, found by field selector
    out = ok(kubectl(face, home, "describe", "deployment", "described"))
    assert "Replicas:               1 desired | 1 updated | 1 total | 1 available" in out
    out = ok(kubectl(face, home, "describe", "node", node))
    assert f"Name:               {node}" in out and name in out  # its non-terminated pods


def test_kubectl_get_events(cluster, face, home):
    _running_pod(cluster, face, home, "eventful")
    out = ok(kubectl(face, home, "get", "events"))
    assert out.splitlines()[0].split()[:4] == ["LAST", "SEEN", "TYPE", "REASON"]
    events = locked(cluster.world, api_of(cluster).list, "events", "default", user=SYSTEM_USER)["items"]
    scheduled = [e for e in events if e["reason"] == "Scheduled"
                 and e["involvedObject"]["name"].startswith("eventful-")]
    assert scheduled and scheduled[0]["message"] in out


def test_kubectl_delete(cluster, face, home):
    ok(kubectl(face, home, "apply", "-f", "-", stdin=DEPLOYMENT.format(name="doomed", replicas=1)))
    assert world_exists(cluster, "deployments", "doomed")
    assert ok(kubectl(face, home, "delete", "deployment", "doomed")).strip() == 'deployment.apps "doomed" deleted'
    assert not world_exists(cluster, "deployments", "doomed")


def test_kubectl_exec_runs_in_the_container(cluster, face, home):
    pod = _running_pod(cluster, face, home, "shell")
    name = pod["metadata"]["name"]
    script = "echo made > /tmp/mark; echo out; echo err >&2; exit 3"
    result = kubectl(face, home, "exec", name, "--", "sh", "-c", script)
    assert (result.returncode, result.stdout) == (3, "out\n")
    assert "err" in result.stderr and "command terminated with exit code 3" in result.stderr
    seen = locked(cluster.world, api_of(cluster).exec, name, "default", ["cat", "/tmp/mark"], user=SYSTEM_USER)
    assert seen.stdout == b"made\n"


def test_kubectl_logs_follow_ends_with_the_container(cluster, face, home):
    ok(kubectl(face, home, "run", "chatty", "--image=busybox", "--restart=Never", "--",
               "sh", "-c", "echo one; sleep 5; echo two"))
    ok(kubectl(face, home, "wait", "--for=condition=Ready", "pod/chatty", "--timeout=60s"))
    assert ok(kubectl(face, home, "logs", "-f", "chatty")) == "one\ntwo\n"
    assert world_get(cluster, "pods", "chatty")["status"]["phase"] == "Succeeded"


def test_kubectl_drain_evicts_and_waits(cluster, face, home):
    pod = _running_pod(cluster, face, home, "movable")
    node = pod["spec"]["nodeName"]
    try:
        out = ok(kubectl(face, home, "drain", node, "--ignore-daemonsets", "--force", "--timeout=60s"))
        assert f"pod/{pod['metadata']['name']} evicted" in out and f"node/{node} drained" in out
        assert world_get(cluster, "nodes", node, None)["spec"]["unschedulable"] is True
        assert not world_exists(cluster, "pods", pod["metadata"]["name"])
    finally:
        ok(kubectl(face, home, "uncordon", node))


def test_kubectl_auth_whoami_and_can_i(cluster, face, home):
    assert ok(kubectl(face, home, "auth", "whoami")).split()[:4] == ["ATTRIBUTE", "VALUE", "Username",
                                                                      "kubernetes-admin"]
    assert ok(kubectl(face, home, "auth", "can-i", "delete", "nodes")).strip() == "yes"
    # a kubelet-joining bootstrap token authenticates as its own identity, with its own (small) rights
    secrets = locked(cluster.world, api_of(cluster).list, "secrets", "kube-system", user=SYSTEM_USER,
                     field_selector="type=bootstrap.kubernetes.io/token")["items"]
    data = {k: base64.b64decode(v).decode() for k, v in secrets[0]["data"].items()}
    client = Client(face, token=f"{data['token-id']}.{data['token-secret']}")
    _, _, who = client.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                               {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    assert who["status"]["userInfo"]["username"] == f"system:bootstrap:{data['token-id']}"
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
              "spec": {"resourceAttributes": {"verb": "delete", "resource": "nodes"}}}
    status, _, answer = client.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review)
    assert status == 201 and answer["status"]["allowed"] is False
    status, _, body = client.request("DELETE", "/api/v1/nodes/worker-2")
    assert (status, body["reason"]) == (403, "Forbidden") and world_exists(cluster, "nodes", "worker-2", None)


# ---------------------------------------------------------------------------------------
# the kubernetes Python client
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sdk(face):
    kubernetes = pytest.importorskip("kubernetes")
    kubernetes.config.load_kube_config(config_file=face.kubeconfig)
    return kubernetes.client


def test_python_client_lists_nodes(cluster, sdk):
    names = sorted(n.metadata.name for n in sdk.CoreV1Api().list_node().items)
    nodes = locked(cluster.world, api_of(cluster).list, "nodes", user=SYSTEM_USER)["items"]
    assert names == sorted(n["metadata"]["name"] for n in nodes)


def test_python_client_creates_a_deployment(cluster, sdk):
    c = sdk
    body = c.V1Deployment(metadata=c.V1ObjectMeta(name="sdk-web"), spec=c.V1DeploymentSpec(
        replicas=2, selector=c.V1LabelSelector(match_labels={"app": "sdk-web"}),
        template=c.V1PodTemplateSpec(metadata=c.V1ObjectMeta(labels={"app": "sdk-web"}),
                                     spec=c.V1PodSpec(containers=[c.V1Container(name="web", image="nginx:1.25")]))))
    created = c.AppsV1Api().create_namespaced_deployment("default", body)
    stored = world_get(cluster, "deployments", "sdk-web")
    assert created.metadata.uid == stored["metadata"]["uid"] and stored["spec"]["replicas"] == 2
    with pytest.raises(c.ApiException) as err:
        c.AppsV1Api().create_namespaced_deployment("default", body)
    status = json.loads(err.value.body)
    assert (err.value.status, status["kind"], status["reason"]) == (409, "Status", "AlreadyExists")
    c.AppsV1Api().patch_namespaced_deployment_scale("sdk-web", "default", {"spec": {"replicas": 4}})
    assert world_get(cluster, "deployments", "sdk-web")["spec"]["replicas"] == 4


def test_python_client_watch_streams_while_the_world_moves(cluster, face, sdk):
    from kubernetes import watch

    v1 = sdk.CoreV1Api()
    listed = v1.list_namespaced_config_map("default")
    t0 = locked(cluster.world, lambda: cluster.world.now)
    sdk.CoreV1Api().create_namespaced_config_map("default", {"metadata": {"name": "watched"}, "data": {"k": "v"}})
    seen = []
    w = watch.Watch()
    for event in w.stream(v1.list_namespaced_config_map, "default", resource_version=listed.metadata.resource_version,
                          timeout_seconds=30):
        seen.append((event["type"], event["object"].metadata.name))
        if event["object"].metadata.name == "watched":
            w.stop()
    assert ("ADDED", "watched") in seen
    # nothing ticks once nobody waits: wait for the face to notice the closed stream (and the create to
    # settle), then the clock stays put
    quiet(face)
    assert face.waiting == 0
    t1 = locked(cluster.world, lambda: cluster.world.now)
    time.sleep(5 * face.interval)
    assert locked(cluster.world, lambda: cluster.world.now) == t1 >= t0


# ---------------------------------------------------------------------------------------
# Tables and raw watches
# ---------------------------------------------------------------------------------------
def test_table_responses_carry_kubectls_columns(face):
    status, _, table = Client(face).request("GET", "/api/v1/nodes",
                                            accept="application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
    assert status == 200 and table["kind"] == "Table"
    cols = [(c["name"], c["priority"]) for c in table["columnDefinitions"]]
    assert cols[:5] == [("Name", 0), ("Status", 0), ("Roles", 0), ("Age", 0), ("Version", 0)]
    assert ("Internal-IP", 1) in cols
    row = table["rows"][0]
    assert row["object"]["kind"] == "PartialObjectMetadata" and row["cells"][0] == row["object"]["metadata"]["name"]


def test_stop_closes_the_port_and_removes_the_files(cluster):
    handle = cluster.serve()
    kubeconfig, url = handle.kubeconfig, handle.url
    assert os.path.exists(kubeconfig)
    handle.stop()
    handle.stop()  # idempotent
    assert not os.path.exists(kubeconfig)
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/version", context=ssl._create_unverified_context(), timeout=5)
