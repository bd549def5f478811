"""The kubelet: node registration and readiness, pod sync, back-offs, probes, deletion, static pods.

This module also holds the small cluster kit the other node-component tests share
(``test_kubelet_*.py``, ``test_kube_proxy.py``, ``test_cni.py``, ``test_coredns.py``):
a master machine with an in-memory API server listening on 6443 and worker
machines with containerd, each with a :class:`Kubelet` constructed directly.
"""

from __future__ import annotations

import pytest

import aivle_k8s as ak
from aivle_k8s.cluster.apiserver import APIServer
from aivle_k8s.cluster.client import APIClient, ServerEndpoint
from aivle_k8s.cluster.etcd import Store
from aivle_k8s.cluster.kubelet import Kubelet, KubeletError
from aivle_k8s.cluster.kubelet.status import NETWORK_NOT_READY
from test_engine import kit_image

# -- the kit -------------------------------------------------------------------------------------------


class Cluster:
    """A master with an API server, workers with containerd and kubelets."""

    def __init__(self, world, workers=("node-1",), *, cni=True, start=True):
        self.world = world
        self.master = world.machine("master", cpus=2, memory="4Gi")
        self.api = APIServer(Store(world.loop), now=world.timestamp, rng=world.rng, loop=world.loop,
                             address=self.master.ip)
        self.master.netns.listen(6443, ServerEndpoint(self.api))
        self.server = f"https://{self.master.ip}:6443"
        self.admin = APIClient(world.net, self.master.netns, self.server, "kubernetes-admin")
        hub = world.docker_hub
        hub.put_image("library/kit", "latest", kit_image())
        hub.put_image("library/kit", "1.0", kit_image())
        hub.put_image("library/web", "1.0", kit_image(cmd=("kit-web",), exposed_ports=("80/tcp",),
                                                      stop_signal="SIGQUIT"))
        self.machines = {}
        self.kubelets = {}
        for i, name in enumerate(workers):
            m = world.machine(name, cpus=2, memory="4Gi")
            assert m.sh("sudo apt-get install -y containerd").exit_code == 0
            m.sh("sudo swapoff -a")
            self.machines[name] = m
            if cni:
                write_flannel_files(m, f"10.244.{i + 1}.0/24")
            if start:
                self.start_kubelet(name)
        self.world.advance(1)

    def client_for(self, name):
        return APIClient(self.world.net, self.machines[name].netns, self.server, f"system:node:{name}")

    def start_kubelet(self, name, **kw):
        k = Kubelet(self.machines[name], self.client_for(name), **kw)
        self.kubelets[name] = k
        k.start()
        return k

    def pod(self, name, namespace="default"):
        return self.admin.get("pods", name, namespace)

    def status(self, name, container=None):
        statuses = self.pod(name).get("status", {}).get("containerStatuses") or []
        if container is None:
            return statuses[0] if statuses else {}
        return next(s for s in statuses if s["name"] == container)

    def state(self, name):
        st = self.status(name).get("state") or {}
        kind = next(iter(st), "")
        return kind, (st.get(kind) or {}).get("reason", "")

    def run(self, name, node="node-1", image="docker.io/library/web:1.0", **spec):
        container = {"name": spec.pop("container_name", "web"), "image": image}
        for k in ("command", "args", "env", "ports", "resources", "livenessProbe", "readinessProbe",
                  "startupProbe", "imagePullPolicy", "volumeMounts"):
            if k in spec:
                container[k] = spec.pop(k)
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": spec.pop("namespace",
                                                                                                "default")},
               "spec": {"nodeName": node, "containers": [container], **spec}}
        return self.admin.create(pod)

    def events(self, name, reason=None):
        out = []
        for e in self.admin.list("events", "default")["items"]:
            if e["involvedObject"]["name"] == name and (reason is None or e["reason"] == reason):
                out.append(e)
        return out

    def node_ready(self, name):
        node = self.admin.get("nodes", name)
        return next(c for c in node["status"]["conditions"] if c["type"] == "Ready")


def write_flannel_files(machine, cidr):
    """What flanneld writes on its node (tests of the kubelet skip running flannel itself)."""
    from aivle_k8s.cluster.cni import flannel_conflist

    gw = cidr.rsplit(".", 1)[0] + ".1/24"
    machine.fs.makedirs("/run/flannel") if not machine.fs.exists("/run/flannel") else None
    machine.fs.write("/run/flannel/subnet.env", f"FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET={gw}\n"
                                                f"FLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n")
    machine.fs.makedirs("/etc/cni/net.d") if not machine.fs.exists("/etc/cni/net.d") else None
    machine.fs.write("/etc/cni/net.d/10-flannel.conflist", flannel_conflist())


@pytest.fixture
def world():
    return ak.World(seed=0)


@pytest.fixture
def cluster(world):
    return Cluster(world)


# -- node registration, status, lease -------------------------------------------------------------------


def test_node_registers_with_capacity_labels_and_node_info(cluster):
    node = cluster.admin.get("nodes", "node-1")
    labels = node["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == "node-1" and labels["kubernetes.io/os"] == "linux"
    assert labels["kubernetes.io/arch"] == "amd64"
    st = node["status"]
    assert st["capacity"]["cpu"] == "2" and st["capacity"]["pods"] == "110"
    assert st["capacity"]["memory"] == f"{4 * 1024 * 1024}Ki"
    assert st["allocatable"]["memory"] == f"{4 * 1024 * 1024 - 100 * 1024}Ki"
    info = st["nodeInfo"]
    assert info["containerRuntimeVersion"] == "containerd://1.7.12" and info["osImage"] == "Ubuntu 22.04.4 LTS"
    assert info["kernelVersion"] == cluster.machines["node-1"].kernel.release
    assert {"type": "InternalIP", "address": cluster.machines["node-1"].ip} in st["addresses"]
    pressure = {c["type"]: c["reason"] for c in st["conditions"] if c["status"] == "False"}
    assert pressure["MemoryPressure"] == "KubeletHasSufficientMemory"


def test_node_is_not_ready_until_a_cni_config_exists(world):
    c = Cluster(world, cni=False)
    ready = c.node_ready("node-1")
    assert (ready["status"], ready["reason"], ready["message"]) == ("False", "KubeletNotReady", NETWORK_NOT_READY)
    write_flannel_files(c.machines["node-1"], "10.244.1.0/24")
    world.advance(10)
    ready = c.node_ready("node-1")
    assert (ready["status"], ready["reason"], ready["message"]) == ("True", "KubeletReady",
                                                                    "kubelet is posting ready status")


def test_lease_is_renewed_every_10_seconds(cluster):
    first = cluster.admin.get("leases", "node-1", "kube-node-lease")["spec"]["renewTime"]
    cluster.world.advance(10)
    second = cluster.admin.get("leases", "node-1", "kube-node-lease")["spec"]["renewTime"]
    import datetime as dt

    parse = lambda t: dt.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ")  # noqa: E731
    assert (parse(second) - parse(first)).total_seconds() == 10


def test_stopped_kubelet_stops_renewing_but_containers_keep_running(cluster):
    cluster.run("web")
    cluster.world.advance(5)
    k = cluster.kubelets["node-1"]
    cid = cluster.status("web")["containerID"].split("//")[1]
    k.stop()
    before = cluster.admin.get("leases", "node-1", "kube-node-lease")["spec"]["renewTime"]
    cluster.world.advance(60)
    assert cluster.admin.get("leases", "node-1", "kube-node-lease")["spec"]["renewTime"] == before
    assert k.runtime.container_status(cid).state == "CONTAINER_RUNNING"


def test_swap_on_makes_the_kubelet_refuse_to_start(world):
    c = Cluster(world, start=False)
    c.machines["node-1"].kernel.swap_on = True
    with pytest.raises(KubeletError) as e:
        c.start_kubelet("node-1")
    assert "running with swap on is not supported, please disable swap!" in str(e.value)


# -- pods ---------------------------------------------------------------------------------------------


def test_pod_bound_to_the_node_runs_with_an_ip_from_the_pod_cidr(cluster):
    cluster.run("web")
    cluster.world.advance(10)
    pod = cluster.pod("web")
    st = pod["status"]
    assert st["phase"] == "Running" and st["podIP"] == "10.244.1.2" and st["hostIP"] == cluster.machines["node-1"].ip
    cs = st["containerStatuses"][0]
    assert cs["ready"] and cs["started"] and "running" in cs["state"] and cs["restartCount"] == 0
    assert cs["containerID"].startswith("containerd://") and st["qosClass"] == "BestEffort"
    conds = {c["type"]: c["status"] for c in st["conditions"]}
    assert conds["Ready"] == conds["ContainersReady"] == conds["Initialized"] == conds["PodScheduled"] == "True"
    reasons = [e["reason"] for e in cluster.events("web")]
    assert reasons[:4] == ["Pulling", "Pulled", "Created", "Started"]
    assert cluster.events("web", "Pulled")[0]["message"].startswith(
        'Successfully pulled image "docker.io/library/web:1.0" in ')
    assert cluster.events("web", "Started")[0]["source"] == {"component": "kubelet", "host": "node-1"}
    # the pod's address is reachable from another machine
    from aivle_k8s.linux.http import request

    assert request(cluster.world.net, cluster.master.netns, "GET", "http://10.244.1.2/").status == 200


def test_pod_gets_cluster_dns_resolv_conf_and_hosts(cluster):
    cluster.run("web", namespace="default")
    cluster.world.advance(10)
    k = cluster.kubelets["node-1"]
    cid = cluster.status("web")["containerID"].split("//")[1]
    out = k.runtime.exec_sync(cid, ["kit-cat", "/etc/resolv.conf", "/etc/hosts"]).stdout.decode()
    assert "nameserver 10.96.0.10" in out
    assert "search default.svc.cluster.local svc.cluster.local cluster.local" in out
    assert "options ndots:5" in out and "10.244.1.2\tweb" in out


def test_image_pull_error_then_image_pull_back_off_with_growing_delays(cluster):
    cluster.run("bad", image="docker.io/library/kit:nope")
    cluster.world.advance(0.5)
    kind, reason = cluster.state("bad")
    assert reason == "ErrImagePull"
    assert "docker.io/library/kit:nope: not found" in cluster.status("bad")["state"]["waiting"]["message"]
    cluster.world.advance(2)
    assert cluster.state("bad")[1] == "ImagePullBackOff"
    pulls = lambda: [e for e in cluster.kubelets["node-1"].events if e["reason"] == "Pulling"]  # noqa: E731
    times = []
    for _ in range(60 * 4):
        cluster.world.advance(1)
        if len(pulls()) > len(times) + 1:
            times.append(pulls()[-1]["time"])
    first = pulls()[0]["time"]
    gaps = [round(b - a) for a, b in zip([first] + times, times)]
    assert gaps[:4] == [10, 20, 40, 80]
    failed = cluster.events("bad", "Failed")
    assert any(e["message"].startswith('Failed to pull image "docker.io/library/kit:nope": rpc error: code = '
                                       'NotFound') for e in failed)


def test_crashing_container_goes_into_crash_loop_back_off_10_20_40(cluster):
    cluster.run("crash", image="docker.io/library/kit:1.0", command=["kit-exit", "1"])
    k = cluster.kubelets["node-1"]
    starts = lambda: [e["time"] for e in k.events if e["reason"] == "Started"]  # noqa: E731
    cluster.world.run_until(lambda: len(starts()) >= 5, timeout=600)
    s = starts()
    gaps = [round(b - a) for a, b in zip(s, s[1:])]
    assert gaps[0] <= 1 and gaps[1:4] == [10, 20, 40]  # first restart at once (next PLEG relist), then back-off
    cluster.world.advance(1)
    st = cluster.status("crash")
    assert st["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert st["state"]["waiting"]["message"].startswith("back-off 1m20s restarting failed container=web pod=crash_default(")
    assert st["lastState"]["terminated"]["exitCode"] == 1 and st["lastState"]["terminated"]["reason"] == "Error"
    assert st["restartCount"] == 4
    assert cluster.events("crash", "BackOff")[0]["message"].startswith(
        "Back-off restarting failed container web in pod crash_default(")


def test_oom_killed_container(cluster):
    cluster.run("hog", image="docker.io/library/kit:1.0", command=["kit-mem", str(200 << 20)],
                resources={"limits": {"memory": "64Mi"}}, restartPolicy="Never")
    cluster.world.advance(10)
    st = cluster.status("hog")
    assert st["state"]["terminated"]["reason"] == "OOMKilled" and st["state"]["terminated"]["exitCode"] == 137
    assert cluster.pod("hog")["status"]["phase"] == "Failed"


def test_completed_pod_succeeds(cluster):
    cluster.run("job", image="docker.io/library/kit:1.0", command=["kit-echo", "done"], restartPolicy="OnFailure")
    cluster.world.advance(10)
    pod = cluster.pod("job")
    assert pod["status"]["phase"] == "Succeeded"
    assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"
    assert cluster.admin.logs("job", "default") == "done\n"


def test_liveness_probe_failure_restarts_the_container(cluster):
    cluster.run("live", ports=[{"containerPort": 80}],
                livenessProbe={"httpGet": {"path": "/missing", "port": 80}, "periodSeconds": 5,
                               "failureThreshold": 3})
    cluster.world.advance(30)
    k = cluster.kubelets["node-1"]
    killing = [e for e in k.events if e["reason"] == "Killing"]
    assert killing and killing[0]["message"] == "Container web failed liveness probe, will be restarted"
    unhealthy = cluster.events("live", "Unhealthy")[0]
    assert unhealthy["message"] == "Liveness probe failed: HTTP probe failed with statuscode: 404"
    assert cluster.status("live")["restartCount"] >= 1


def test_readiness_probe_drives_the_ready_condition(cluster):
    cluster.run("ready", readinessProbe={"httpGet": {"path": "/", "port": 80}, "periodSeconds": 5})
    cluster.run("never", container_name="web", readinessProbe={"tcpSocket": {"port": 8080}, "periodSeconds": 5})
    cluster.world.advance(15)
    assert cluster.status("ready")["ready"] is True
    never = cluster.pod("never")["status"]
    assert never["containerStatuses"][0]["ready"] is False and never["phase"] == "Running"
    ready = next(c for c in never["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "False" and ready["message"] == "containers with unready status: [web]"
    assert cluster.events("never", "Unhealthy")[0]["message"] == (
        "Readiness probe failed: dial tcp 10.244.1.3:8080: connect: connection refused")


def test_graceful_deletion_waits_for_the_container_then_removes_the_pod(cluster):
    # kit-sleep ignores SIGTERM: it is killed when the grace period ends
    cluster.run("slow", image="docker.io/library/kit:1.0", command=["kit-sleep", "infinity"],
                terminationGracePeriodSeconds=20)
    cluster.world.advance(10)
    start = cluster.world.now
    cluster.admin.delete("pods", "slow", "default")
    cluster.world.run_until(lambda: not cluster.admin.list("pods", "default")["items"], timeout=60)
    assert 19 <= cluster.world.now - start <= 21
    assert not cluster.kubelets["node-1"].runtime.list_pod_sandbox()


def test_graceful_deletion_of_a_cooperative_container_is_quick(cluster):
    cluster.run("web")
    cluster.world.advance(10)
    start = cluster.world.now
    cluster.admin.delete("pods", "web", "default")
    cluster.world.run_until(lambda: not cluster.admin.list("pods", "default")["items"], timeout=60)
    assert cluster.world.now - start < 2
    assert cluster.kubelets["node-1"].events[-1]["message"] == "Stopping container web"


def test_logs_and_exec_through_the_api_server(cluster):
    cluster.run("web")
    cluster.world.advance(10)
    assert cluster.admin.logs("web", "default") == "listening on 80\n"
    res = cluster.admin.exec("web", "default", ["kit-echo", "hi"])
    assert res.stdout == b"hi\n" and res.exit_code == 0


def test_static_pod_runs_and_gets_a_mirror_pod(cluster):
    m = cluster.machines["node-1"]
    m.fs.makedirs("/etc/kubernetes/manifests") if not m.fs.exists("/etc/kubernetes/manifests") else None
    m.fs.write("/etc/kubernetes/manifests/web.yaml", """apiVersion: v1
kind: Pod
metadata:
  name: static-web
  namespace: kube-system
spec:
  hostNetwork: true
  containers:
  - name: web
    image: docker.io/library/web:1.0
    command: ["kit-web", "8080"]
""")
    cluster.world.advance(25)
    mirror = cluster.admin.get("pods", "static-web-node-1", "kube-system")
    ann = mirror["metadata"]["annotations"]
    assert ann["kubernetes.io/config.mirror"] == ann["kubernetes.io/config.hash"]
    assert mirror["metadata"]["ownerReferences"][0]["kind"] == "Node"
    assert mirror["status"]["phase"] == "Running" and mirror["status"]["podIP"] == m.ip
    # deleting the mirror pod does not stop the static pod; it comes back
    cluster.admin.delete("pods", "static-web-node-1", "kube-system", grace_period_seconds=0)
    cluster.world.advance(2)
    assert cluster.admin.get("pods", "static-web-node-1", "kube-system")["metadata"]["uid"] != mirror["metadata"]["uid"]
    # removing the manifest stops it
    m.fs.remove("/etc/kubernetes/manifests/web.yaml")
    cluster.world.advance(25)
    assert not [p for p in cluster.admin.list("pods", "kube-system")["items"]]
    assert not cluster.kubelets["node-1"].runtime.list_containers()


def test_same_seed_same_pod_ips_and_container_ids():
    def once():
        c = Cluster(ak.World(seed=7))
        c.run("a")
        c.run("b")
        c.world.advance(10)
        return [(p["status"]["podIP"], p["status"]["containerStatuses"][0]["containerID"])
                for p in c.admin.list("pods", "default")["items"]]

    assert once() == once()


def test_exec_probes_run_on_the_loop_and_time_out(cluster):
    # an exec probe whose command takes time does not run the loop from inside the probe: it ends on
    # its own time, and one slower than timeoutSeconds fails with the prober's words
    cluster.run("slowprobe", image="docker.io/library/kit:1.0", command=["kit-sleep", "infinity"],
                readinessProbe={"exec": {"command": ["kit-sleep", "3"]}, "timeoutSeconds": 1, "periodSeconds": 5},
                livenessProbe={"exec": {"command": ["kit-sleep", "0.5"]}, "timeoutSeconds": 1, "periodSeconds": 5})
    cluster.world.advance(30)
    unhealthy = [e["message"] for e in cluster.events("slowprobe", "Unhealthy")]
    assert unhealthy and set(unhealthy) == {'Readiness probe failed: command "kit-sleep 3" timed out'}
    st = cluster.status("slowprobe")
    assert st["ready"] is False and st["restartCount"] == 0 and "running" in st["state"]


def test_exec_through_the_api_server_waits_on_the_loop(cluster):
    from aivle_k8s.sim.clock import Event

    cluster.run("sleeper", image="docker.io/library/kit:1.0", command=["kit-sleep", "infinity"])
    cluster.world.advance(10)
    t0 = cluster.world.now
    res = cluster.admin.exec("sleeper", "default", ["kit-sleep", "2"])  # from outside the loop: it waits
    assert res.exit_code == 0 and cluster.world.now - t0 == pytest.approx(2)
    got = {}
    cluster.world.loop.call_soon(lambda: got.setdefault("r", cluster.admin.exec("sleeper", "default",
                                                                                   ["kit-echo", "hi"])))
    cluster.world.loop.call_soon(lambda: got.setdefault("slow", cluster.admin.exec("sleeper", "default",
                                                                                      ["kit-sleep", "2"])))
    cluster.world.advance(0)
    assert got["r"].stdout == b"hi\n"  # done at once: an answer
    assert isinstance(got["slow"], Event) and not got["slow"].triggered  # takes time: an Event
    cluster.world.advance(2)
    assert got["slow"].value.exit_code == 0
