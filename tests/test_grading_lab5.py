"""Lab 5 checks (Kubernetes architecture): each step says what to do on a fresh cluster, names the wrong answer,
and passes on the state the notebook's solution leaves."""

import pytest

import aivle_k8s as ak
from aivle_k8s.cluster import trace
from aivle_k8s.cluster.bootstrap import build_cluster
from aivle_k8s.grading import Feedback, assert_step, check, steps

BROKEN = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
"""
FIXED = BROKEN.replace("  replicas: 2\n", "  replicas: 2\n  selector:\n    matchLabels: {app: web}\n")
BIG = "apiVersion: v1\nkind: Pod\nmetadata: {name: big}\nspec:\n  containers:\n" \
      "  - {name: c, image: nginx:1.25, resources: {requests: {cpu: '3'}}}\n"
FAST = "apiVersion: v1\nkind: Pod\nmetadata: {name: fast}\nspec:\n  nodeSelector: {disktype: ssd}\n" \
       "  containers:\n  - {name: c, image: nginx:1.25}\n"
SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n" \
          "  ports:\n  - {port: 80, targetPort: 80}\n"
HELLO = FIXED.replace("web", "hello").replace("nginx:1.25", "httpd:2.4")


def messages(fb: Feedback) -> str:
    return "\n".join(fb.messages)


@pytest.fixture(scope="module")
def fresh():
    world = ak.World(seed=0)
    build_cluster(world)
    return world


@pytest.fixture(scope="module")
def solved():
    """The state and the answers the notebook's solution produces, step by step."""
    world = ak.World(seed=0)
    cluster = build_cluster(world)
    master, worker1, worker2 = (world.machines[n] for n in ("master", "worker-1", "worker-2"))
    a = {"world": world, "cluster": cluster}
    a["control_plane"] = {"answer": [f[:-5] for f in master.sh("ls /etc/kubernetes/manifests").stdout.split()],
                          "etcd_servers": "https://127.0.0.1:2379"}
    kp = [p.name for p in cluster.pods.list("kube-system", label_selector="k8s-app=kube-proxy")
          if p.raw["spec"]["nodeName"] == "worker-1"][0]
    a["worker_components"] = {"runtime": "containerd", "kubelet_runs_as": "systemd", "kube_proxy_pod": kp}
    before = trace.etcd_revision(cluster)
    rejected = cluster.apply(BROKEN)
    a["invalid_rejected"] = {"result": rejected, "revision_before": before,
                             "revision_after": trace.etcd_revision(cluster)}
    cluster.apply(FIXED)
    world.advance(5)
    key = "/registry/deployments/default/web"
    a["stored_in_etcd"] = {"key": key, "value": cluster.kubectl(
        "-n kube-system exec etcd-master -- etcdctl --endpoints=https://127.0.0.1:2379 "
        "--cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/server.crt "
        f"--key=/etc/kubernetes/pki/etcd/server.key get {key}").stdout,
        "resource_version": cluster.kubectl("get deployment web -o jsonpath={.metadata.resourceVersion}").stdout}
    cluster.apply(BIG)
    world.advance(5)
    msg = [e.raw["message"] for e in cluster.events.list() if e.raw["involvedObject"]["name"] == "big"][-1]
    a["schedule_pending"] = {"prediction": "Pending", "message": msg}
    cluster.kubectl("label node worker-2 disktype=ssd")
    cluster.apply(FAST)
    world.advance(5)
    a["schedule_selector"] = {"prediction": "worker-2"}
    victim = cluster.pods.list(label_selector="app=web")[0].name
    cluster.kubectl(f"delete pod {victim}")
    cluster.kubectl("scale deployment web --replicas=3")
    world.advance(5)
    a["self_healing"] = {"deleted": victim}
    cluster.apply(SERVICE)
    world.advance(2)
    ip = cluster.services.get("web").spec["clusterIP"]
    a["service_routing"] = {"cluster_ip": ip, "curl": worker1.sh(f"curl -s http://{ip}/")}
    worker2.sh("sudo systemctl stop kubelet")
    world.advance(60)
    reason = [c for c in cluster.nodes.get("worker-2").raw["status"]["conditions"] if c["type"] == "Ready"][0]
    worker2.sh("sudo systemctl start kubelet")
    world.advance(20)
    a["node_heartbeat"] = {"interval": 10, "reason": reason["reason"]}
    t = trace.follow(cluster, HELLO)
    rs = [s.action.split()[2] for s in t.steps if s.action.startswith("created ReplicaSet")][0]
    a["trace_apply"] = {"trace": t, "rs": rs, "nodes": set(t.scheduled.values()),
                        "revision": [r for k, r in t.stored if k.endswith("/hello")][0]}
    return a


def test_lab5_steps_are_named_like_the_notebook_cells():
    assert steps("lab5") == ["control_plane", "worker_components", "invalid_rejected", "stored_in_etcd",
                             "schedule_pending", "schedule_selector", "self_healing", "service_routing",
                             "node_heartbeat", "trace_apply"]


def test_a_world_without_a_cluster_says_how_to_build_one():
    fb = check("lab5", "self_healing", world=ak.World(seed=0), deleted="x")
    assert not fb and "build_cluster(world)" in messages(fb)


@pytest.mark.parametrize("step", steps("lab5"))
def test_every_step_passes_on_the_solution_state(solved, step):
    fb = assert_step("lab5", step, world=solved["world"], **solved[step])
    assert fb.passed and fb.messages and fb.messages[0]


@pytest.mark.parametrize("step, words", [
    ("control_plane", "set master_components"),
    ("worker_components", "set worker_runtime"),
    ("invalid_rejected", "rejected = cluster.apply(BROKEN)"),
    ("stored_in_etcd", "there is no deployment web"),
    ("schedule_pending", "write your prediction first"),
    ("schedule_selector", "write your prediction first"),
    ("self_healing", "there is no deployment web"),
    ("node_heartbeat", "set lease_interval"),
    ("service_routing", "there is no service web"),
    ("trace_apply", "trace.follow(cluster, HELLO)"),
])
def test_an_untouched_notebook_gets_what_to_do(fresh, step, words):
    fb = check("lab5", step, world=fresh)
    assert not fb and words in messages(fb), messages(fb)


def wrong(solved, step, **changes):
    return messages(check("lab5", step, world=solved["world"], **{**solved[step], **changes}))


def test_wrong_control_plane_answers_are_named(solved):
    text = wrong(solved, "control_plane", answer=["kube-apiserver", "etcd", "kubelet"], etcd_servers="localhost")
    assert "master_components is ['etcd', 'kube-apiserver', 'kubelet']" in text
    assert "etcd_servers is 'localhost'" in text


def test_wrong_worker_answers_are_named(solved):
    text = wrong(solved, "worker_components", runtime="docker", kubelet_runs_as="pod", kube_proxy_pod="kube-proxy-x")
    assert "worker_runtime is 'docker'" in text
    assert "What starts the pods cannot itself be a pod" in text
    assert "pick the kube-proxy pod whose NODE is worker-1" in text


def test_an_accepted_manifest_or_moved_revision_is_not_a_rejection(solved):
    ok = solved["cluster"].kubectl("get nodes")
    assert "kubectl accepted the manifest" in wrong(solved, "invalid_rejected", result=ok)
    before = solved["invalid_rejected"]["revision_before"]
    assert f"rev_before={before} but rev_after={before + 1}" in wrong(solved, "invalid_rejected",
                                                                      revision_after=before + 1)
    assert "not revisions of this cluster's etcd" in wrong(solved, "invalid_rejected", revision_before=10 ** 9,
                                                           revision_after=10 ** 9)


def test_wrong_etcd_answers_are_named(solved):
    text = wrong(solved, "stored_in_etcd", key="/deployments/web", value="nothing", resource_version="1")
    assert "keys look like /registry/<resource>/<namespace>/<name>" in text
    assert "what `etcdctl get <etcd_key>` printed" in text


def test_a_stale_resource_version_is_named(solved):
    assert "web_resource_version is '1'" in wrong(solved, "stored_in_etcd", resource_version="1")


def test_wrong_scheduling_predictions_are_named(solved):
    assert "big_prediction is 'worker-1'" in wrong(solved, "schedule_pending", prediction="worker-1")
    assert "copy the FailedScheduling message" in wrong(solved, "schedule_pending", message="no room")
    assert "fast_prediction is 'worker-1'" in wrong(solved, "schedule_selector", prediction="worker-1")


def test_a_pod_that_was_not_deleted_is_named(solved):
    alive = solved["cluster"].pods.list(label_selector="app=web")[0].name
    assert f"pod {alive} still exists" in wrong(solved, "self_healing", deleted=alive)
    assert "delete one of the web-... pods" in wrong(solved, "self_healing", deleted="big")
    assert "wants 3 replicas: scale it to 4" in wrong(solved, "self_healing", replicas=4)


def test_wrong_heartbeat_answers_are_named(solved):
    text = wrong(solved, "node_heartbeat", interval=40, reason="KubeletNotReady")
    assert "lease_interval is 40" in text and "notready_reason is 'KubeletNotReady'" in text
    assert "never went NotReady" in wrong(solved, "node_heartbeat", node="worker-1")


def test_wrong_service_answers_are_named(solved):
    text = wrong(solved, "service_routing", cluster_ip="10.96.0.1", curl="curl: (7) Failed to connect")
    assert "cluster_ip is '10.96.0.1'" in text and "does not show the nginx page" in text


def test_wrong_trace_answers_are_named(solved):
    text = wrong(solved, "trace_apply", rs="hello", nodes={"master"}, revision=1)
    assert "hello_rs is 'hello'" in text and "hello_nodes is ['master']" in text and "hello_revision is 1" in text
    web_trace = trace.follow(solved["cluster"], "kubectl get pods")
    assert "did not create deployment hello" in wrong(solved, "trace_apply", trace=web_trace)
    assert "should be a Trace" in wrong(solved, "trace_apply", trace="a trace")
