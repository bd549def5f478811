"""kubectl against an in-memory API server on the master's network namespace."""

import random

import pytest
from hypothesis import given, strategies as st

import aivle_k8s as ak
from aivle_k8s.cluster import kubeconfig, pki
from aivle_k8s.cluster.apiserver import APIServer
from aivle_k8s.cluster.client import ServerEndpoint
from aivle_k8s.cluster.cluster import Cluster
from aivle_k8s.cluster.etcd import Store
from aivle_k8s.cluster.kubectl import parse_command_line
from aivle_k8s.cluster.kubectl.printers import human_duration
from aivle_k8s.linux.kernel import program_entry
from aivle_k8s.sim.errors import UsageError

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: front}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports: [{containerPort: 80}]
"""

SVC = """\
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
"""


class Env:
    def __init__(self):
        self.world = ak.World(seed=0)
        self.master = self.world.machine("master")
        w, m = self.world, self.master
        self.api = APIServer(Store(w.loop), now=w.timestamp, rng=random.Random(0), loop=w.loop, address=m.ip)
        m.netns.listen(6443, ServerEndpoint(self.api))
        rng = random.Random(1)
        ca = pki.new_ca(rng, w.datetime())
        admin = pki.new_cert(ca, rng, w.datetime(), "kubernetes-admin", organizations=["kubeadm:cluster-admins"])
        text = kubeconfig.build("kubernetes", f"https://{m.ip}:6443", ca.cert_pem, "kubernetes-admin",
                                client_cert_pem=admin.cert_pem, client_key_pem=admin.key_pem)
        m.write_file("/etc/kubernetes/admin.conf", text, mode=0o600)
        m.fs.mkdir("/root/.kube", mode=0o700) if not m.fs.exists("/root/.kube") else None
        m.fs.write("/root/.kube/config", text, mode=0o600)
        m.fs.write("/usr/bin/kubectl", program_entry("kubectl").data, mode=0o755)
        self.cluster = Cluster(w, m)
        self.client = self.cluster.client

    def k(self, cmd, stdin=None):
        return self.cluster.kubectl(cmd, stdin=stdin)

    @property
    def rev(self):
        return self.api.storage.revision

    def node(self, name, ip, ready=True, labels=None):
        self.api.create({"apiVersion": "v1", "kind": "Node",
                         "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
                         "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                                    "reason": "KubeletReady"}],
                                    "addresses": [{"type": "InternalIP", "address": ip}],
                                    "nodeInfo": {"kubeletVersion": "v1.30.2", "machineID": "m", "systemUUID": "s",
                                                 "bootID": "b", "kubeProxyVersion": "v1.30.2",
                                                 "operatingSystem": "linux", "architecture": "amd64", "osImage": "Ubuntu 22.04.4 LTS",
                                                 "kernelVersion": "5.15.0-105-generic",
                                                 "containerRuntimeVersion": "containerd://1.7.12"}}},
                        user="system:apiserver")

    def pod(self, name, node=None, labels=None, owner=None, ns="default", running=True):
        obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns,
                                                                 "labels": labels or {}},
               "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}}
        if owner:
            obj["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1],
                                                   "uid": "u-" + owner[1], "controller": True}]
        if node:
            obj["spec"]["nodeName"] = node
        p = self.api.create(obj, user="system:apiserver")
        if running:
            p["status"].update({"phase": "Running", "podIP": "10.244.1.5", "containerStatuses": [
                {"name": "app", "ready": True, "restartCount": 0, "image": "nginx:1.25", "imageID": "",
                 "state": {"running": {"startedAt": self.world.timestamp()}}}]})
            p = self.api.update(p, subresource="status", user="system:apiserver")
        return p


@pytest.fixture
def env():
    return Env()


# ---------------------------------------------------------------------------------- get
def test_get_namespaces_table_with_ages(env):
    env.world.advance(150)
    r = env.k("get namespaces")
    assert r.exit_code == 0
    assert r.stdout.splitlines()[0].split() == ["NAME", "STATUS", "AGE"]
    assert "default           Active   2m30s" in r.stdout


def test_age_formatting():
    assert [human_duration(s) for s in (5, 119, 150, 600, 3 * 3600, 7 * 3600 + 120, 2 * 86400, 3 * 86400 + 3600)] == \
        ["5s", "119s", "2m30s", "10m", "3h", "7h2m", "2d", "3d1h"]


def test_get_pods_empty_and_not_found(env):
    r = env.k("get pods")
    assert r.exit_code == 0 and r.stdout == "" and r.stderr == "No resources found in default namespace.\n"
    r = env.k("get pod nope")
    assert r.exit_code == 1 and r.stderr == 'Error from server (NotFound): pods "nope" not found\n'
    r = env.k("get poods")
    assert r.exit_code == 1 and r.stderr == 'error: the server doesn\'t have a resource type "poods"\n'


def test_get_pods_wide_all_namespaces_and_labels(env):
    env.node("worker-1", "10.0.0.11")
    env.pod("web-1", node="worker-1", labels={"app": "web"})
    env.pod("dns", ns="kube-system", running=False)
    env.world.advance(5)
    r = env.k("get pods -o wide")
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE",
                                "READINESS", "GATES"]
    assert lines[1].split() == ["web-1", "1/1", "Running", "0", "5s", "10.244.1.5", "worker-1", "<none>", "<none>"]
    r = env.k("get po -A --show-labels")
    assert r.stdout.splitlines()[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert "kube-system   dns     0/1     Pending" in r.stdout
    assert "app=web" in r.stdout
    assert env.k("get pods -l app=web -o name").stdout == "pod/web-1\n"
    assert env.k("get pods -o jsonpath={.items[*].metadata.name}").stdout == "web-1"
    r = env.k("get pods -o custom-columns=NAME:.metadata.name,NODE:.spec.nodeName")
    assert r.stdout == "NAME    NODE\nweb-1   worker-1\n"


def test_get_multiple_types_and_yaml(env):
    env.k("apply -f -", stdin=DEPLOY + "---\n" + SVC)
    r = env.k("get deploy,svc")
    assert "deployment.apps/web   0/2" in r.stdout
    assert "service/web          ClusterIP" in r.stdout
    y = env.k("get deploy web -o yaml").stdout
    assert y.startswith("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n")
    assert "  resourceVersion: \"" in y
    j = env.k("get svc web -o json").stdout
    assert j.startswith('{\n    "apiVersion": "v1",\n    "kind": "Service"')


def test_get_nodes(env):
    env.node("worker-1", "10.0.0.11", labels={"node-role.kubernetes.io/control-plane": ""})
    env.node("worker-2", "10.0.0.12", ready=False)
    r = env.k("get nodes")
    assert r.stdout.splitlines() == [
        "NAME       STATUS     ROLES           AGE   VERSION",
        "worker-1   Ready      control-plane   0s    v1.30.2",
        "worker-2   NotReady   <none>          0s    v1.30.2"]


# ---------------------------------------------------------------------------------- errors
def test_unknown_command_and_flag(env):
    r = env.k("gett pods")
    assert r.exit_code == 1
    assert r.stderr == 'error: unknown command "gett" for "kubectl"\n\nDid you mean this?\n\tget\n\tset\n'
    r = env.k("get pods --foo")
    assert r.stderr == "error: unknown flag: --foo\nSee 'kubectl get --help' for usage.\n"
    r = env.k("get")
    assert r.exit_code == 1
    assert r.stderr.startswith('You must specify the type of resource to get. Use "kubectl api-resources" for a '
                               'complete list of supported resources.\n\nerror: Required resource not specified.')


@given(st.lists(st.sampled_from(["get", "pods", "-n", "x", "-o", "--", "-A", "apply", "-f", "-", "--foo", "=",
                                 "rollout", "status", "--timeout", "5s", "-l", "config", "view", "exec", ""]) |
                st.lists(st.text(max_size=6), max_size=5), max_size=8))
def test_any_argv_parses_or_raises_usage_error(argv):
    try:
        parse_command_line(argv)
    except UsageError:
        pass


def test_no_kubeconfig_is_localhost_8080(env):
    r = env.master.sh("kubectl get pods")
    assert r.exit_code == 1
    lines = r.stderr.splitlines()
    assert len(lines) == 6
    assert lines[0].startswith("E0303 09:00:00.000000 ")
    assert lines[0].endswith('memcache.go:265] couldn\'t get current server API group list: Get '
                             '"http://localhost:8080/api?timeout=32s": dial tcp 127.0.0.1:8080: connect: '
                             'connection refused')
    assert lines[-1] == ("The connection to the server localhost:8080 was refused - did you specify the right host "
                         "or port?")


def test_admin_conf_needs_root_and_sudo_works(env):
    r = env.master.sh("kubectl --kubeconfig /etc/kubernetes/admin.conf get ns")
    assert r.exit_code == 1 and "permission denied" in r.stderr
    r = env.master.sh("sudo kubectl --kubeconfig /etc/kubernetes/admin.conf get ns kube-system")
    assert r.exit_code == 0 and "kube-system   Active" in r.stdout


def test_stopped_server(env):
    env.api.stop()
    r = env.k("get pods")
    assert r.exit_code == 1
    assert r.stderr.endswith(f"The connection to the server {env.master.ip}:6443 was refused - did you specify the "
                             f"right host or port?\n")


# ---------------------------------------------------------------------------------- apply
def test_apply_create_configure_unchanged_and_three_way(env):
    r = env.k("apply -f -", stdin=DEPLOY)
    assert r.stdout == "deployment.apps/web created\n"
    d = env.client.get("deployments", "web", "default")
    assert "kubectl.kubernetes.io/last-applied-configuration" in d["metadata"]["annotations"]
    rev = env.rev
    r = env.k("apply -f -", stdin=DEPLOY)
    assert r.stdout == "deployment.apps/web unchanged\n" and env.rev == rev
    env.k("scale deploy/web --replicas=4")
    changed = DEPLOY.replace("labels: {app: web, tier: front}", "labels: {app: web}").replace(
        "  replicas: 2\n", "").replace("nginx:1.25", "nginx:1.27")
    r = env.k("apply -f -", stdin=changed)
    assert r.stdout == "deployment.apps/web configured\n"
    d = env.client.get("deployments", "web", "default")
    assert d["metadata"]["labels"] == {"app": "web"}  # removed from the file -> removed
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    # replicas was in the last applied file and is not any more: deleted, so defaulted to 1 (the real gotcha)
    assert d["spec"]["replicas"] == 1
    # a field the file never set survives a later apply (kubectl scale's 3 stays)
    env.k("scale deploy/web --replicas=3")
    assert env.k("apply -f -", stdin=changed).stdout == "deployment.apps/web unchanged\n"
    assert env.client.get("deployments", "web", "default")["spec"]["replicas"] == 3


def test_apply_removes_container_port_dropped_from_file(env):
    env.k("apply -f -", stdin=DEPLOY)
    env.k("apply -f -", stdin=DEPLOY.replace("        ports: [{containerPort: 80}]\n", ""))
    c = env.client.get("deployments", "web", "default")["spec"]["template"]["spec"]["containers"][0]
    assert "ports" not in c


def test_apply_files_directories_and_dry_run(env):
    env.master.write_file("/root/app/deploy.yaml", DEPLOY)
    env.master.write_file("/root/app/svc.yml", SVC)
    env.master.write_file("/root/app/README.md", "not a manifest")
    rev = env.rev
    r = env.k("apply -f /root/app --dry-run=client")
    assert r.stdout == "deployment.apps/web created (dry run)\nservice/web created (dry run)\n"
    r = env.k("apply -f /root/app --dry-run=server")
    assert r.stdout == "deployment.apps/web created (server dry run)\nservice/web created (server dry run)\n"
    assert env.rev == rev
    r = env.k("apply -f /root/app/deploy.yaml")
    assert r.stdout == "deployment.apps/web created\n"
    r = env.k("apply -f /root/nope.yaml")
    assert r.exit_code == 1 and r.stderr == 'error: the path "/root/nope.yaml" does not exist\n'


def test_apply_invalid_changes_nothing(env):
    rev = env.rev
    r = env.k("apply -f -", stdin=DEPLOY.replace("replicas: 2", "replicas: -1"))
    assert r.exit_code == 1
    assert r.stderr.startswith('The Deployment "web" is invalid: spec.replicas: Invalid value: -1')
    assert env.rev == rev
    r = env.k("apply -f -", stdin=DEPLOY.replace("kind: Deployment", "kind: Deploymnt"))
    assert r.exit_code == 1
    assert 'no matches for kind "Deploymnt" in version "apps/v1"' in r.stderr
    r = env.k("apply -f -", stdin="metadata: {name: x}\n")
    assert r.stderr == ('error: error validating "STDIN": error validating data: [apiVersion not set, kind not set]; '
                        'if you choose to ignore these errors, turn validation off with --validate=false\n')
    assert env.rev == rev


def test_server_side_apply(env):
    r = env.k("apply --server-side -f -", stdin=SVC)
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "service/web serverside-applied\n"


# ---------------------------------------------------------------------------------- create / run / expose
def test_create_run_expose(env):
    assert env.k("create deployment web --image=nginx:1.25 --replicas=3 --port=80").stdout == \
        "deployment.apps/web created\n"
    r = env.k("create deployment web --image=nginx")
    assert r.exit_code == 1
    assert r.stderr == 'error: failed to create deployment: deployments.apps "web" already exists\n'
    assert env.k("expose deployment web --port=80 --type=NodePort").stdout == "service/web exposed\n"
    svc = env.client.get("services", "web", "default")
    assert svc["spec"]["selector"] == {"app": "web"} and svc["spec"]["ports"][0]["nodePort"] >= 30000
    assert env.k("run box --image=busybox --restart=Never -- sleep 3600").stdout == "pod/box created\n"
    pod = env.client.get("pods", "box", "default")
    assert pod["spec"]["containers"][0]["args"] == ["sleep", "3600"] and pod["metadata"]["labels"] == {"run": "box"}
    out = env.k("run x --image=nginx --dry-run=client -o yaml").stdout
    assert "kind: Pod" in out and "run: x" in out
    assert env.k("create namespace lab").stdout == "namespace/lab created\n"
    assert env.k("create configmap cfg --from-literal=a=1 -n lab").stdout == "configmap/cfg created\n"
    assert env.client.get("configmaps", "cfg", "lab")["data"] == {"a": "1"}
    assert env.k("create secret generic s --from-literal=pw=hunter2").stdout == "secret/s created\n"


# ---------------------------------------------------------------------------------- delete / scale
def test_delete_and_scale(env):
    env.k("apply -f -", stdin=DEPLOY)
    r = env.k("scale deploy/web --replicas=5")
    assert r.stdout == "deployment.apps/web scaled\n"
    assert env.client.get("deployments", "web", "default")["spec"]["replicas"] == 5
    r = env.k("scale deploy web")
    assert r.stderr == 'error: required flag(s) "replicas" not set\n'
    r = env.k("delete deploy web")
    assert r.stdout == 'deployment.apps "web" deleted\n'
    assert env.k("get deploy").stderr == "No resources found in default namespace.\n"
    r = env.k("delete pod nope")
    assert r.stderr == 'Error from server (NotFound): pods "nope" not found\n'


def test_delete_bound_pod_waits_for_the_kubelet(env):
    env.node("worker-1", "10.0.0.11")
    env.pod("web-1", node="worker-1")
    t0 = env.world.now
    # a "kubelet" that confirms the deletion 3 s later
    def confirm():
        env.api.delete("pods", "web-1", "default", grace_period_seconds=0, user="system:apiserver")
    env.world.loop.call_later(3, confirm)
    r = env.k("delete pod web-1")
    assert r.stdout == 'pod "web-1" deleted\n'
    assert 3 <= env.world.now - t0 <= 5
    env.pod("web-2", node="worker-1")
    r = env.k("delete pod web-2 --force --grace-period=0")
    assert r.stderr.startswith("Warning: Immediate deletion does not wait for confirmation")
    assert env.cluster.pods.names() == []


# ---------------------------------------------------------------------------------- rollout
def _fake_progress(env, name, steps):
    """Update the deployment's status at t+1, t+2, ... like a controller would."""
    def set_status(st):
        d = env.client.get("deployments", name, "default")
        d["status"] = dict(st, observedGeneration=d["metadata"]["generation"])
        env.api.update(d, subresource="status", user="system:apiserver")
    for i, st in enumerate(steps, 1):
        env.world.loop.call_later(i * 2, lambda st=st: set_status(st))


def test_rollout_status_follows_the_status(env):
    env.k("apply -f -", stdin=DEPLOY)
    _fake_progress(env, "web", [{"replicas": 1, "updatedReplicas": 1},
                                {"replicas": 2, "updatedReplicas": 2, "availableReplicas": 1, "readyReplicas": 1},
                                {"replicas": 2, "updatedReplicas": 2, "availableReplicas": 2, "readyReplicas": 2}])
    r = env.k("rollout status deploy/web")
    assert r.exit_code == 0
    assert r.stdout.splitlines() == [
        "Waiting for deployment spec update to be observed...",
        'Waiting for deployment "web" rollout to finish: 1 out of 2 new replicas have been updated...',
        'Waiting for deployment "web" rollout to finish: 1 of 2 updated replicas are available...',
        'deployment "web" successfully rolled out']
    assert env.k("get deploy web").stdout.splitlines()[1].split()[:4] == ["web", "2/2", "2", "2"]


def test_rollout_status_timeout(env):
    env.k("apply -f -", stdin=DEPLOY)
    r = env.k("rollout status deploy/web --timeout=5s")
    assert r.exit_code == 1 and r.stderr == "error: timed out waiting for the condition\n"


def test_rollout_restart_pause_resume_set_image_undo(env):
    env.k("apply -f -", stdin=DEPLOY)
    assert env.k("rollout restart deploy/web").stdout == "deployment.apps/web restarted\n"
    ann = env.client.get("deployments", "web", "default")["spec"]["template"]["metadata"]["annotations"]
    assert "kubectl.kubernetes.io/restartedAt" in ann
    assert env.k("rollout pause deploy/web").stdout == "deployment.apps/web paused\n"
    assert env.k("rollout resume deploy/web").stdout == "deployment.apps/web resumed\n"
    assert env.k("set image deploy/web nginx=nginx:1.27").stdout == "deployment.apps/web image updated\n"
    assert env.client.get("deployments", "web", "default")["spec"]["template"]["spec"]["containers"][0][
        "image"] == "nginx:1.27"
    r = env.k("set image deploy/web redis=redis:7")
    assert r.stderr == 'error: unable to find container named "redis"\n'
    r = env.k("rollout undo deploy/web")
    assert r.stderr == 'error: no rollout history found for deployment "web"\n'


# ---------------------------------------------------------------------------------- logs / exec
def test_logs_and_exec_through_the_kubelet_hook(env):
    env.node("worker-1", "10.0.0.11")
    env.pod("web-1", node="worker-1")
    r = env.k("logs web-1")
    assert r.exit_code == 1 and "dial tcp 10.0.0.11:10250: connect: connection refused" in r.stderr
    calls = []

    def kubelet(sub, pod, options):
        calls.append((sub, pod["metadata"]["name"], options))
        if sub == "log":
            lines = ["line 1\n", "line 2\n", "line 3\n"]
            n = options.get("tail_lines")
            return "".join(lines[-n:] if n else lines)
        cmd = options["command"]
        if cmd[0] == "false":
            return (1, "", "")
        return (0, " ".join(cmd[1:]) + "\n", "")

    env.api.register_kubelet("worker-1", kubelet)
    assert env.k("logs web-1").stdout == "line 1\nline 2\nline 3\n"
    assert env.k("logs web-1 --tail=1").stdout == "line 3\n"
    r = env.k("exec web-1 -- echo hello")
    assert r.exit_code == 0 and r.stdout == "hello\n"
    r = env.k("exec web-1 -- false")
    assert r.exit_code == 1 and r.stderr == "command terminated with exit code 1\n"
    assert calls[0][2]["container"] == "app"


# ---------------------------------------------------------------------------------- nodes
def test_cordon_drain_taint(env):
    env.node("worker-1", "10.0.0.11")
    env.pod("kube-proxy-abcde", node="worker-1", ns="kube-system", owner=("DaemonSet", "kube-proxy"))
    env.pod("web-1", node="worker-1", owner=("ReplicaSet", "web-5d4"))
    assert env.k("cordon worker-1").stdout == "node/worker-1 cordoned\n"
    assert env.k("cordon worker-1").stdout == "node/worker-1 already cordoned\n"
    assert "SchedulingDisabled" in env.k("get nodes").stdout
    assert env.k("uncordon worker-1").stdout == "node/worker-1 uncordoned\n"
    r = env.k("drain worker-1")
    assert r.exit_code == 1
    assert ("cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): kube-system/kube-proxy-abcde"
            in r.stderr)
    assert env.cluster.pods.names() == ["web-1"]  # nothing evicted
    env.world.loop.call_later(2, lambda: env.api.delete("pods", "web-1", "default", grace_period_seconds=0,
                                                        user="system:apiserver"))
    r = env.k("drain worker-1 --ignore-daemonsets")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "node/worker-1 already cordoned\npod/web-1 evicted\nnode/worker-1 drained\n"
    assert "Warning: ignoring DaemonSet-managed Pods: kube-system/kube-proxy-abcde" in r.stderr
    assert env.k("taint nodes worker-1 gpu=true:NoSchedule").stdout == "node/worker-1 tainted\n"
    r = env.k("taint nodes worker-1 gpu=false:NoSchedule")
    assert r.stderr == "error: node worker-1 already has gpu taint(s) with same effect(s) and --overwrite is false\n"
    gpu = {"key": "gpu", "value": "true", "effect": "NoSchedule"}
    assert gpu in env.client.get("nodes", "worker-1")["spec"]["taints"]
    assert env.k("taint nodes worker-1 gpu:NoSchedule-").stdout == "node/worker-1 untainted\n"
    assert gpu not in (env.client.get("nodes", "worker-1")["spec"].get("taints") or [])


def test_top_without_metrics_server(env):
    r = env.k("top nodes")
    assert r.exit_code == 1 and r.stderr == "error: Metrics API not available\n"


# ---------------------------------------------------------------------------------- describe / events / misc
def test_describe_pod_and_events(env):
    env.node("worker-1", "10.0.0.11")
    env.pod("web-1", node="worker-1", labels={"app": "web"})
    env.api.create({"apiVersion": "v1", "kind": "Event",
                    "metadata": {"name": "web-1.1", "namespace": "default"},
                    "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "default"},
                    "reason": "Scheduled", "message": "Successfully assigned default/web-1 to worker-1",
                    "type": "Normal", "source": {"component": "default-scheduler"}, "count": 1,
                    "firstTimestamp": env.world.timestamp(), "lastTimestamp": env.world.timestamp()},
                   user="system:apiserver")
    env.world.advance(10)
    out = env.k("describe pod web-1").stdout
    assert out.startswith("Name:             web-1\nNamespace:        default\n")
    assert "Labels:           app=web\n" in out
    assert "Status:           Running\n" in out
    assert "  Type    Reason     Age   From               Message\n" in out
    assert "  Normal  Scheduled  10s   default-scheduler  Successfully assigned default/web-1 to worker-1\n" in out
    ev = env.k("get events").stdout.splitlines()
    assert ev[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert ev[1].split()[:4] == ["10s", "Normal", "Scheduled", "pod/web-1"]
    r = env.k("describe pod nope")
    assert r.stderr == 'Error from server (NotFound): pods "nope" not found\n'


def test_label_annotate_wait_version_config(env):
    env.pod("web-1")
    assert env.k("label pod web-1 app=web").stdout == "pod/web-1 labeled\n"
    r = env.k("label pod web-1 app=api")
    assert r.stderr == "error: 'app' already has a value (web), and --overwrite is false\n"
    assert env.k("label pod web-1 app-").stdout == "pod/web-1 unlabeled\n"
    assert env.k("annotate pod web-1 note=hi").stdout == "pod/web-1 annotated\n"
    r = env.k("version")
    assert r.stdout.splitlines()[0] == "Client Version: v1.30.2"
    assert r.stdout.splitlines()[2] == "Server Version: v1.30.2"
    assert env.k("config current-context").stdout == "kubernetes-admin@kubernetes\n"
    view = env.k("config view").stdout
    assert "client-certificate-data: DATA+OMITTED" in view and "server: https://" in view
    r = env.k("get-contexts", None)
    assert r.exit_code == 1
    assert env.k("config get-contexts").stdout.splitlines()[1].split()[:2] == ["*", "kubernetes-admin@kubernetes"]
    assert env.k("cluster-info").stdout.startswith(f"Kubernetes control plane is running at https://"
                                                   f"{env.master.ip}:6443\n")
    assert env.k("auth can-i create pods").stdout == "yes\n"
    assert env.k("wait --for=condition=Ready pod/web-1 --timeout=3s").stderr == \
        "error: timed out waiting for the condition on pods/web-1\n"
    assert "pods" in env.k("api-resources").stdout


def test_describe_node_percentages_of_allocatable(env):
    """Every percentage is int(used / allocatable * 100): CPU in millicores, memory in bytes."""
    env.node("worker-1", "10.0.0.11")
    n = env.api.get("nodes", "worker-1", user="system:apiserver")
    n["status"]["capacity"] = {"cpu": "2", "memory": "4022Mi", "pods": "110", "ephemeral-storage": "20Gi",
                               "hugepages-2Mi": "0"}
    n["status"]["allocatable"] = {"cpu": "2", "memory": "4000Mi", "pods": "110", "ephemeral-storage": "18Gi",
                                  "hugepages-2Mi": "0"}
    env.api.update(n, subresource="status", user="system:apiserver")

    def pod(name, containers, init=()):
        env.api.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
                        "spec": {"nodeName": "worker-1", "initContainers": list(init),
                                 "containers": containers}}, user="system:apiserver")

    def c(name, requests=None, limits=None):
        return {"name": name, "image": "nginx", "resources": {"requests": requests or {}, "limits": limits or {}}}

    pod("a", [c("c", {"cpu": "100m", "memory": "70Mi"}, {"memory": "170Mi"})])
    # two containers summed; an init container bigger than the sum wins (max)
    pod("b", [c("x", {"cpu": "0.25", "memory": "1000Mi"}, {"cpu": "1"}), c("y", {"cpu": "250m"}, {"cpu": "500m"})],
        init=[c("i", {"cpu": "600m"})])
    out = env.k("describe node worker-1").stdout
    lines = out.splitlines()
    a = next(ln for ln in lines if ln.split()[:2] == ["default", "a"])
    assert a.split()[2:10] == ["100m", "(5%)", "0", "(0%)", "70Mi", "(1%)", "170Mi", "(4%)"]
    b = next(ln for ln in lines if ln.split()[:2] == ["default", "b"])
    assert b.split()[2:10] == ["600m", "(30%)", "1500m", "(75%)", "1000Mi", "(25%)", "0", "(0%)"]
    # kubectl's header has an empty column after Name
    hdr = next(ln for ln in lines if ln.strip().startswith("Namespace"))
    assert "Name    CPU Requests" in hdr
    i = lines.index("Allocated resources:")
    assert [ln.split() for ln in lines[i + 2:i + 8]] == [
        ["Resource", "Requests", "Limits"], ["--------", "--------", "------"],
        ["cpu", "700m", "(35%)", "1500m", "(75%)"],
        ["memory", "1070Mi", "(26%)", "170Mi", "(4%)"],
        ["ephemeral-storage", "0", "(0%)", "0", "(0%)"],
        ["hugepages-2Mi", "0", "(0%)", "0", "(0%)"]]
    assert "Lease:              Failed to get lease: " in out


def test_describe_node_lease_times(env):
    env.node("worker-1", "10.0.0.11")
    env.api.create({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": "worker-1", "namespace": "kube-node-lease"},
                    "spec": {"holderIdentity": "worker-1", "leaseDurationSeconds": 40,
                             "renewTime": "2025-03-03T09:00:10.000000Z"}}, user="system:apiserver")
    out = env.k("describe node worker-1").stdout
    assert ("Lease:\n  HolderIdentity:  worker-1\n  AcquireTime:     <unset>\n"
            "  RenewTime:       Mon, 03 Mar 2025 09:00:10 +0000\n") in out


def test_kubectl_sends_its_user_agent_and_reports_the_installed_release(env):
    from aivle_k8s.cluster.apiserver.audit import AuditLog
    from aivle_k8s.cluster.client import user_agent
    from aivle_k8s.cluster.kubectl.program import client_version

    log = AuditLog()
    env.api.add_audit_sink(log)
    assert env.k("get pods").exit_code == 0
    assert {e.user_agent for e in log.events} == {"kubectl/v1.30.2 (linux/amd64) kubernetes/3968350"}
    # an apt-installed kubectl is the package's release, in `kubectl version` and in its User-Agent
    fs = env.master.fs
    fs.write("/var/lib/dpkg/status", fs.read_text("/var/lib/dpkg/status") + "\nPackage: kubectl\n"
             "Status: install ok installed\nVersion: 1.30.8-1.1\nArchitecture: amd64\n")
    assert client_version(fs) == "v1.30.8"
    assert env.k("version --client").stdout.startswith("Client Version: v1.30.8\n")
    env.k("get pods")
    assert log.events[-1].user_agent == user_agent("kubectl", "v1.30.8")
