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
