"""The whole bring-up by the official guide's command lines: 1 master, 2 workers, nginx behind a Service."""

import re

import pytest

import aivle_k8s as ak

K8S_REPO = "https://pkgs.k8s.io/core:/stable:/v1.30/deb/"
PREPARE = [
    "sudo swapoff -a",
    "sudo modprobe overlay && sudo modprobe br_netfilter",
    "sudo sysctl -w net.ipv4.ip_forward=1",
    "sudo apt-get update && sudo apt-get install -y containerd",
    "sudo mkdir -p /etc/containerd && containerd config default | sudo tee /etc/containerd/config.toml >/dev/null"
    " && sudo sed -i 's/SystemdCgroup = false/SystemdCgroup = true/' /etc/containerd/config.toml"
    " && sudo systemctl restart containerd",
    f"curl -fsSL {K8S_REPO}Release.key | sudo gpg --dearmor -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg",
    f"echo 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] {K8S_REPO} /'"
    " | sudo tee /etc/apt/sources.list.d/kubernetes.list",
    "sudo apt-get update && sudo apt-get install -y kubelet kubeadm kubectl",
]


def prepare(world, name):
    m = world.machine(name, cpus=2, memory="4Gi")
    for line in PREPARE:
        r = m.sh(line)
        assert r.exit_code == 0, (line, r.output)
    return m


@pytest.fixture(scope="module")
def cluster():
    world = ak.World(seed=0)
    master = prepare(world, "master")
    init = master.sh("sudo kubeadm init --pod-network-cidr=10.244.0.0/16")
    assert init.exit_code == 0, init.output
    join = init.stdout.split("kubeadm join", 1)[1].split("\n\n")[0].replace("\\\n", " ")
    for name in ("worker-1", "worker-2"):
        assert prepare(world, name).sh("sudo kubeadm join" + join).exit_code == 0
    master.sh("mkdir -p $HOME/.kube && sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config"
              " && sudo chown $(id -u):$(id -g) $HOME/.kube/config")
    return world, master


def nodes(master):
    rows = master.sh("kubectl get nodes --no-headers").stdout.splitlines()
    return {r.split()[0]: r.split()[1] for r in rows}


def test_nodes_are_not_ready_until_a_cni_is_installed(cluster):
    world, master = cluster
    assert nodes(master) == {"master": "NotReady", "worker-1": "NotReady", "worker-2": "NotReady"}
    assert "Pending" in master.sh("kubectl get pods -n kube-system -l k8s-app=kube-dns").stdout


def test_flannel_makes_every_node_ready_and_nginx_answers_through_the_service(cluster):
    world, master = cluster
    r = master.sh("kubectl apply -f https://github.com/flannel-io/flannel/releases/latest/download/kube-flannel.yml")
    assert r.exit_code == 0, r.output
    world.advance(60)
    assert nodes(master) == {"master": "Ready", "worker-1": "Ready", "worker-2": "Ready"}
    assert master.sh("kubectl create deployment web --image=nginx:1.25 --replicas=3").exit_code == 0
    assert master.sh("kubectl expose deployment web --port=80 --type=NodePort").exit_code == 0
    world.advance(60)
    pods = master.sh("kubectl get pods -l app=web -o wide --no-headers").stdout.splitlines()
    assert len(pods) == 3 and all(" Running " in p for p in pods)
    assert not any(" master " in p for p in pods)  # the control-plane taint keeps them off the master
    node_port = master.sh("kubectl get svc web -o jsonpath='{.spec.ports[0].nodePort}'").stdout
    cluster_ip = master.sh("kubectl get svc web -o jsonpath='{.spec.clusterIP}'").stdout
    assert master.sh(f"curl -s -o /dev/null -w '%{{http_code}}' http://{cluster_ip}/").stdout == "200"
    assert master.sh(f"curl -s -o /dev/null -w '%{{http_code}}' http://worker-1:{node_port}/").stdout == "200"
    assert "Welcome to nginx!" in master.sh(f"curl -s http://worker-2:{node_port}/").stdout


def test_crictl_shows_what_the_kubelet_started_below_kubernetes(cluster):
    world, master = cluster
    ps = master.sh("sudo crictl ps")
    assert ps.exit_code == 0, ps.output
    assert ps.stdout.startswith("CONTAINER")
    for name in ("kube-apiserver", "etcd", "kube-scheduler", "kube-controller-manager"):
        assert f" {name} " in ps.stdout
    pods = master.sh("sudo crictl pods").stdout
    assert "kube-apiserver-master" in pods and "kube-system" in pods
    assert "registry.k8s.io/kube-apiserver" in master.sh("sudo crictl images").stdout
    assert master.sh("crictl ps").exit_code == 1  # the runtime socket needs root


# -- other container runtimes (build_cluster runs the same guide steps) --------------------------------------


def _node_rows(cluster):
    rows = cluster.kubectl("get nodes -o wide --no-headers").output.splitlines()
    return {r.split()[0]: r.split() for r in rows}


def test_a_cri_o_cluster_joins_and_gets_ready():
    """CRI-O serves /run/crio/crio.sock; /var/run is /run on Ubuntu, so the kubelet's
    unix:///var/run/crio/crio.sock is the same socket."""
    from aivle_k8s.cluster.bootstrap import build_cluster

    world = ak.World(seed=0)
    cluster = build_cluster(world, runtime="cri-o", workers=("worker-1",))
    rows = _node_rows(cluster)
    assert {n: r[1] for n, r in rows.items()} == {"master": "Ready", "worker-1": "Ready"}
    assert all(re.fullmatch(r"cri-o://1\.30\.\d+", r[-1]) for r in rows.values()), rows
    w1 = world.machines["worker-1"]
    assert w1.sh("readlink /var/run").stdout.strip() == "/run"
    assert w1.sh("ls -l /var/run/crio/crio.sock").stdout.startswith("srw-rw---- ")
    assert w1.sh("test -S /run/crio/crio.sock").exit_code == 0
    pods = cluster.kubectl("get pods -A -o wide --no-headers").output.splitlines()
    assert all(r.split()[3] == "Running" for r in pods), pods
    cid = cluster.kubectl("get pods -n kube-system -l k8s-app=kube-proxy -o "
                          "jsonpath={.items[0].status.containerStatuses[0].containerID}").output
    assert cid.startswith("cri-o://")


def test_a_docker_cluster_shows_docker_as_its_runtime_and_the_cgroup_driver_of_daemon_json():
    from aivle_k8s.cluster.bootstrap import build_cluster

    world = ak.World(seed=0)
    cluster = build_cluster(world, runtime="docker", workers=("worker-1",))
    rows = _node_rows(cluster)
    assert {n: r[1] for n, r in rows.items()} == {"master": "Ready", "worker-1": "Ready"}
    assert {r[-1] for r in rows.values()} == {"docker://24.0.7"}
    w1 = world.machines["worker-1"]
    sock = w1.sh("ls -l /run/cri-dockerd.sock").stdout
    assert sock.startswith("srw-rw---- 1 root docker ") and w1.sh("test -S /var/run/cri-dockerd.sock").exit_code == 0
    assert w1.sh("ls -l /run/containerd/containerd.sock").stdout.startswith("srw-rw---- ")
    # the guide sets native.cgroupdriver=systemd in daemon.json; dockerd reads it when it starts
    assert " Cgroup Driver: systemd\n" in w1.sh("sudo docker info").stdout
    assert w1.extensions["kubelet"].cgroup_mismatch is False
    w1.sh("echo '{}' | sudo tee /etc/docker/daemon.json")
    assert " Cgroup Driver: systemd\n" in w1.sh("sudo docker info").stdout  # not before a restart
    assert w1.sh("sudo systemctl restart docker").exit_code == 0
    assert " Cgroup Driver: cgroupfs\n" in w1.sh("sudo docker info").stdout
    from aivle_k8s.cluster.kubelet.kubelet import runtime_cgroup_driver

    assert runtime_cgroup_driver(w1, "unix:///var/run/cri-dockerd.sock") == "cgroupfs"  # what the kubelet sees


def test_the_kubelet_and_kubeadm_send_their_user_agents():
    """client-go's User-Agent: ``kubelet/v1.30.8 (linux/amd64) kubernetes/<commit>``, ``kubeadm/v1.30.8 ...``
    (the API server's audit log records it)."""
    from aivle_k8s.cluster import setup
    from aivle_k8s.cluster.bootstrap import build_cluster
    from aivle_k8s.cluster.kubeadm import admin_client

    world = ak.World(seed=0)
    build_cluster(world, workers=())
    master = world.machines["master"]
    seen = []
    admin_client(master).apiserver().add_audit_sink(lambda ev: seen.append((ev.user, ev.user_agent)))
    w1 = world.machine("worker-1", cpus=2, memory="4Gi")
    setup.prepare(w1)
    setup.install_runtime(w1, "containerd")
    setup.install_kubernetes(w1, "1.30")
    line = master.sh("sudo kubeadm token create --print-join-command").stdout.strip()
    assert w1.sh("sudo " + line).exit_code == 0
    world.advance(15)
    kubelet = {ua for user, ua in seen if user == "system:node:worker-1" and ua.startswith("kubelet/")}
    assert kubelet and all(ua.startswith("kubelet/v1.30.8 (linux/amd64) kubernetes/") for ua in kubelet)
    assert not [ua for user, ua in seen if user == "system:node:worker-1" and not ua]
    assert any(ua.startswith("kubeadm/v1.30.8 (linux/amd64) kubernetes/") and user.startswith("system:bootstrap:")
               for user, ua in seen)
