"""Lab 6 checks (build a cluster): each step fails with what to do, and passes once the state is right."""

import pytest

import aivle_k8s as ak
from aivle_k8s.cluster import kubeadm, setup
from aivle_k8s.cluster.bootstrap import CNI_URLS
from aivle_k8s.grading import Feedback, assert_step, check, steps

NAMES = ("master", "worker-1", "worker-2")


def messages(fb: Feedback) -> str:
    return "\n".join(fb.messages)


def machines(world, **sizes):
    return [world.machine(n, cpus=2, memory="4Gi", **sizes) for n in NAMES]


@pytest.fixture
def installed(world):
    """Three machines through the install guide: prepared, containerd, Kubernetes 1.30."""
    for m in machines(world):
        setup.prepare(m)
        setup.install_runtime(m, "containerd")
        setup.install_kubernetes(m, "1.30")
    return world


@pytest.fixture
def initialized(installed):
    kubeadm.init(installed.machines["master"], pod_network_cidr="10.244.0.0/16")
    return installed


def test_lab6_steps_are_named_like_the_notebook_cells():
    assert steps("lab6") == ["prepare", "runtime", "kubernetes", "preflight", "init", "cni", "join"]


def test_a_missing_machine_is_named_with_how_to_make_it(world):
    world.machine("master")
    fb = check("lab6", "prepare", world=world)
    assert not fb
    assert 'there is no machine named "worker-1"' in messages(fb)
    assert "ClusterBuilder" in messages(fb)


# -- prepare ----------------------------------------------------------------------------------------
def test_fresh_machines_are_not_prepared(world):
    machines(world)
    text = messages(check("lab6", "prepare", world=world))
    assert "master still has swap on: run `sudo swapoff -a`" in text
    assert "worker-2 has not loaded the br_netfilter kernel module: run `sudo modprobe br_netfilter`" in text
    assert "worker-1: net.ipv4.ip_forward is not 1" in text


def test_prepared_machines_pass_and_swap_back_on_is_named(world):
    for m in machines(world):
        setup.prepare(m)
    fb = check("lab6", "prepare", world=world)
    assert fb, messages(fb)
    assert "master, worker-1 and worker-2 are prepared" in messages(fb)
    world.machines["worker-2"].sh("sudo swapon /swap.img")
    fb = check("lab6", "prepare", world=world)
    assert fb.messages == ["worker-2 still has swap on: run `sudo swapoff -a` (the kubelet refuses to run with swap "
                           "on), and comment the swap line out of /etc/fstab"]


# -- runtime ----------------------------------------------------------------------------------------
def test_no_runtime_is_reported_per_machine(world):
    for m in machines(world):
        setup.prepare(m)
    setup.install_runtime(world.machines["master"], "containerd")
    text = messages(check("lab6", "runtime", world=world))
    assert "worker-2 has no container runtime: install containerd, CRI-O or Docker Engine first" in text
    assert "worker-1 has no container runtime" in text
    assert "master" not in text


def test_containerd_with_its_default_cgroup_driver_is_a_mismatch(world):
    for m in machines(world):
        setup.install_runtime(m, "containerd")
    w1 = world.machines["worker-1"]
    w1.sh("sudo sed -i 's/SystemdCgroup = true/SystemdCgroup = false/' /etc/containerd/config.toml")
    fb = check("lab6", "runtime", world=world)
    assert fb.messages == ["worker-1's containerd uses the cgroupfs cgroup driver but the kubelet uses systemd: set "
                           "SystemdCgroup = true in /etc/containerd/config.toml and `sudo systemctl restart "
                           "containerd`"]


def test_a_stopped_runtime_is_named(world):
    for m in machines(world):
        setup.install_runtime(m, "containerd")
    world.machines["master"].sh("sudo systemctl stop containerd")
    text = messages(check("lab6", "runtime", world=world))
    assert "master has containerd installed but it does not answer" in text
    assert "`sudo systemctl start containerd`" in text


def test_runtimes_with_the_systemd_driver_pass(installed):
    fb = check("lab6", "runtime", world=installed)
    assert fb, messages(fb)
    assert messages(fb) == "master, worker-1 and worker-2 run containerd with the systemd cgroup driver (the kubelet's)"


# -- kubernetes -------------------------------------------------------------------------------------
def test_missing_kubernetes_packages(world):
    for m in machines(world):
        setup.install_runtime(m, "containerd")
    setup.install_kubernetes(world.machines["master"], "1.30")
    text = messages(check("lab6", "kubernetes", world=world))
    assert "worker-1 has no kubeadm, kubelet, kubectl: add the pkgs.k8s.io repository" in text
    assert "master" not in text


def test_two_versions_in_one_cluster_are_refused(world):
    for m, version in zip(machines(world), ("1.30", "1.30", "1.31")):
        setup.install_kubernetes(m, version)
    fb = check("lab6", "kubernetes", world=world)
    assert not fb
    assert "different Kubernetes versions (master 1.30, worker-1 1.30, worker-2 1.31)" in messages(fb)


def test_one_version_everywhere_passes(installed):
    fb = check("lab6", "kubernetes", world=installed)
    assert fb, messages(fb)
    assert messages(fb) == "kubeadm, kubelet and kubectl 1.30 on master, worker-1 and worker-2"


# -- preflight --------------------------------------------------------------------------------------
def test_preflight_needs_a_failed_init_a_named_check_and_the_fix(installed):
    master = installed.machines["master"]
    text = messages(check("lab6", "preflight", world=installed, failed_check="Swap"))
    assert "no `kubeadm init` has failed on master yet" in text
    master.sh("sudo swapon /swap.img")
    r = master.sh("sudo kubeadm init --pod-network-cidr=10.244.0.0/16")
    assert r.exit_code == 1 and "[ERROR Swap]" in r.stderr
    assert "set failed_check to the name" in messages(check("lab6", "preflight", world=installed, failed_check=None))
    fb = check("lab6", "preflight", world=installed, failed_check="CRI")
    assert "failed_check is 'CRI', but that is not the check that failed" in messages(fb)
    assert "swap is still on on master" in messages(fb)
    master.sh("sudo swapoff -a")
    for answer in ("Swap", "[ERROR Swap]", " swap "):
        fb = check("lab6", "preflight", world=installed, failed_check=answer)
        assert fb, (answer, messages(fb))


# -- init, cni, join --------------------------------------------------------------------------------
def test_init_fails_before_kubeadm_init_with_the_command_to_run(installed):
    fb = check("lab6", "init", world=installed)
    assert fb.messages == ["master is not initialized yet: run `sudo kubeadm init --pod-network-cidr=10.244.0.0/16` "
                           "on master (or click kubeadm init in the builder)"]
    assert "master is not initialized yet" in messages(check("lab6", "cni", world=installed))
    assert "master is not initialized yet" in messages(check("lab6", "join", world=installed))


def test_init_passes_with_the_static_pods_and_the_taint(initialized):
    fb = check("lab6", "init", world=initialized)
    assert fb, messages(fb)
    assert "etcd, kube-apiserver, kube-controller-manager, kube-scheduler run as static pods" in messages(fb)
    # a removed taint is noticed
    master = initialized.machines["master"]
    master.sh("mkdir -p $HOME/.kube && sudo cp /etc/kubernetes/admin.conf $HOME/.kube/config "
              "&& sudo chown $(id -u):$(id -g) $HOME/.kube/config")
    assert master.sh("kubectl taint nodes master node-role.kubernetes.io/control-plane:NoSchedule-").ok
    fb = check("lab6", "init", world=initialized)
    assert "lost its node-role.kubernetes.io/control-plane:NoSchedule taint" in messages(fb)


def test_init_without_a_pod_network_cidr_is_named(installed):
    kubeadm.init(installed.machines["master"])
    fb = check("lab6", "init", world=installed)
    assert fb.messages == ["node master has no pod CIDR: run kubeadm init with --pod-network-cidr=10.244.0.0/16 "
                           "(flannel needs it; `sudo kubeadm reset -f` first)"]


def test_cni_then_join_fail_until_each_is_done(initialized):
    world = initialized
    master = world.machines["master"]
    fb = check("lab6", "cni", world=world)
    assert fb.messages == [f"no pod network (CNI plugin) is installed: run `kubectl apply -f {CNI_URLS['flannel']}` "
                           f"on master (nodes stay NotReady and CoreDNS Pending until then)"]
    fb = check("lab6", "join", world=world)
    assert "worker-1 is not a node of the cluster yet: run the join command printed by kubeadm init on worker-1 as " \
           "root (`kubeadm token create --print-join-command` on master prints a new one)" in fb.messages
    assert len(fb.messages) == 2
    r = master.sh(f"sudo kubectl --kubeconfig=/etc/kubernetes/admin.conf apply -f {CNI_URLS['flannel']}")
    assert r.ok, r.output
    text = messages(check("lab6", "cni", world=world))  # no time has passed: flannel is still starting
    assert "master is NotReady" in text and "CoreDNS has no pods yet" in text, text
    world.advance(30)
    fb = check("lab6", "cni", world=world)
    assert fb, messages(fb)
    assert messages(fb) == "flannel is the pod network: master is Ready and CoreDNS runs"
    line = master.sh("sudo kubeadm token create --print-join-command").stdout.strip()
    assert world.machines["worker-1"].sh(f"sudo {line}").ok
    fb = check("lab6", "join", world=world)
    assert "worker-1 has joined but is NotReady" in messages(fb) and "worker-2 is not a node" in messages(fb)
    assert world.machines["worker-2"].sh(f"sudo {line}").ok
    world.advance(30)
    fb = check("lab6", "join", world=world)
    assert fb, messages(fb)
    assert messages(fb) == "the cluster has 3 nodes, all Ready: master (control-plane), worker-1, worker-2"


def test_assert_step_raises_with_the_feedback_and_prints_nothing(world, capsys):
    machines(world)
    with pytest.raises(AssertionError, match="worker-2 has no container runtime"):
        assert_step("lab6", "runtime", world=world)
    assert capsys.readouterr() == ("", "")


def test_the_whole_cluster_passes_every_step_but_preflight():
    world = ak.World(seed=0)
    from aivle_k8s.cluster.bootstrap import build_cluster

    build_cluster(world)
    for name in ("prepare", "runtime", "kubernetes", "init", "cni", "join"):
        fb = check("lab6", name, world=world)
        assert fb, (name, messages(fb))
    assert not check("lab6", "preflight", world=world, failed_check="Swap")  # build_cluster never failed
