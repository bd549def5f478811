"""The same bring-up through the Python API: setup steps, kubeadm, the Cluster facade."""

import pytest

import aivle_k8s as ak
from aivle_k8s.cluster import kubeadm, setup
from aivle_k8s.cluster.cluster import Cluster
from aivle_k8s.linux import http

WEB = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: nginx, image: "nginx:1.25", ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
"""


def ready_machine(world, name, runtime="containerd"):
    m = world.machine(name, cpus=2, memory="4Gi")
    setup.prepare(m)
    setup.install_runtime(m, runtime)
    setup.install_kubernetes(m, "1.30")
    return m


def test_bring_up_through_the_python_api_and_reach_nginx():
    world = ak.World(seed=1)
    master = ready_machine(world, "master")
    assert setup.status(master)["runtime"] == "containerd"
    result = kubeadm.init(master, pod_network_cidr="10.244.0.0/16")
    assert result.ca_cert_hash.startswith("sha256:") and len(result.token) == 23
    for name in ("worker-1", "worker-2"):
        kubeadm.join(ready_machine(world, name), result)
    cluster = Cluster(world, master)
    assert cluster.kubectl("apply -f https://github.com/flannel-io/flannel/releases/latest/download/"
                           "kube-flannel.yml").exit_code == 0
    cluster.apply(WEB)
    world.advance(120)
    pods = cluster.pods.list(label_selector="app=web")
    assert len(pods) == 3 and all(p.raw["status"]["phase"] == "Running" for p in pods)
    svc = cluster.services.get("web").raw
    node_port = svc["spec"]["ports"][0]["nodePort"]
    resp = http.request(world.net, master.netns, "GET", f"http://{svc['spec']['clusterIP']}/")
    assert resp.status == 200
    resp = http.request(world.net, master.netns, "GET", f"http://worker-2:{node_port}/")
    assert resp.status == 200 and "Welcome to nginx!" in resp.text


def test_unknown_runtime_and_version_are_clear_errors():
    world = ak.World(seed=0)
    m = world.machine("m")
    with pytest.raises(ak.InvalidInput, match="rkt is retired"):
        setup.install_runtime(m, "rkt")
    with pytest.raises(ak.InvalidInput, match="1.31"):
        setup.install_kubernetes(m, "1.99")
    assert m.packages == {}


def test_a_failing_step_raises_with_the_terminal_output():
    world = ak.World(seed=0)
    m = world.machine("m")
    m.sh("sudo rm /usr/bin/curl")
    with pytest.raises(setup.SetupError) as err:
        setup.install_kubernetes(m, "1.30")
    assert "curl" in str(err.value)


CRI_DOCKERD = "unix:///var/run/cri-dockerd.sock"


def test_docker_engine_and_cri_dockerd_workers_join_and_get_ready():
    world = ak.World(seed=2)
    master = ready_machine(world, "master")
    workers = [ready_machine(world, name, "docker") for name in ("worker-1", "worker-2")]
    result = kubeadm.init(master, pod_network_cidr="10.244.0.0/16")
    cluster = Cluster(world, master)
    assert cluster.kubectl("apply -f https://github.com/flannel-io/flannel/releases/latest/download/"
                           "kube-flannel.yml").exit_code == 0
    for w in workers:
        # docker.io brings containerd along: two CRI sockets, so kubeadm must be told which one
        with pytest.raises(ak.InvalidInput, match="Found multiple CRI endpoints"):
            kubeadm.join(w, result)
        kubeadm.join(w, result, cri_socket=CRI_DOCKERD)
    cluster.apply(WEB)
    world.advance(120)
    nodes = {n.raw["metadata"]["name"]: n.raw for n in cluster.nodes.list(namespace=None)}
    for name in ("worker-1", "worker-2"):
        ready = next(c for c in nodes[name]["status"]["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "True", ready
    for w in workers:
        assert f"--container-runtime-endpoint={CRI_DOCKERD}" in w.read_file("/var/lib/kubelet/kubeadm-flags.env")
        kubelet = w.extensions["kubelet"]
        assert not kubelet.cgroup_mismatch  # daemon.json's systemd driver matches the kubelet's
        assert "Cgroup driver mismatch" not in w.sh("sudo journalctl -u kubelet").stdout
    pods = cluster.pods.list(label_selector="app=web")
    assert len(pods) == 3 and all(p.raw["status"]["phase"] == "Running" for p in pods)
    # the pods' containers are Docker containers, named the way cri-dockerd names them
    on_docker = [p.raw["metadata"]["name"] for p in pods if p.raw["spec"]["nodeName"] != "master"]
    names = "".join(w.sh("sudo docker ps --format '{{.Names}}'").stdout for w in workers)
    assert on_docker and all(f"k8s_nginx_{p}_default_" in names for p in on_docker)


def test_build_cluster_with_docker_engine_and_cri_dockerd_gets_every_node_ready():
    from aivle_k8s.cluster.bootstrap import build_cluster

    world = ak.World(seed=3)
    cluster = build_cluster(world, runtime="docker")
    nodes = cluster.nodes.list(namespace=None)
    assert sorted(n.name for n in nodes) == ["master", "worker-1", "worker-2"]
    assert all(c["status"] == "True" for n in nodes for c in n.raw["status"]["conditions"] if c["type"] == "Ready")
