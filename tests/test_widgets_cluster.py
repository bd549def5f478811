"""The cluster builder and the cluster view, driven from Python as clicks would drive them."""

import pytest

import aivle_k8s as ak
from aivle_k8s.cluster.kubeadm import KubeadmError, PreflightError
from aivle_k8s.sim.errors import AivleError
from aivle_k8s.widgets import ClusterBuilder, ClusterView, Journal
from aivle_k8s.widgets.cluster_builder import INIT_PHASES

NAMES = ("master", "worker-1", "worker-2")


@pytest.fixture
def path(tmp_path):
    return tmp_path / ".lab6.journal.jsonl"


def click(builder, button, machine=None, **fields):
    """Select ``machine``, set widget fields, click ``button``; returns the outcome."""
    if machine is not None:
        builder.machine_select.value = machine
    for field, value in fields.items():
        getattr(builder, field).value = value
    getattr(builder, f"{button}_button").click()
    return builder.last


def install_by_clicks(builder, names=NAMES):
    for name in names:
        for button in ("prepare", "runtime", "kubernetes"):
            outcome = click(builder, button, name)
            assert outcome.ok, builder.output_text


def bring_up_by_clicks(builder):
    install_by_clicks(builder)
    assert click(builder, "init", "master").ok, builder.output_text
    assert click(builder, "cni").ok, builder.output_text
    for worker in NAMES[1:]:
        assert click(builder, "join", worker).ok, builder.output_text


def node_names(builder):
    return sorted(n["metadata"]["name"] for n in builder.cluster.client.list("nodes")["items"])


# -- the builder ---------------------------------------------------------------------------------------
def test_the_builder_creates_its_machines_with_two_cpus(world, path):
    builder = ClusterBuilder(world, journal=path)
    assert list(world.machines) == list(NAMES)
    assert all(world.machines[n].cpus == 2 for n in NAMES)
    assert repr(builder) == "ClusterBuilder(master=fresh, worker-1=fresh, worker-2=fresh)"
    assert builder.cluster is None and builder.state()["master"]["role"] is None


def test_prepare_click_types_the_guide_and_the_card_shows_it(world, path):
    builder = ClusterBuilder(world, journal=path)
    outcome = click(builder, "prepare", "worker-1")
    w1 = world.machines["worker-1"]
    assert outcome.ok and not w1.kernel.swap_on and "br_netfilter" in w1.kernel.modules
    assert ("sudo swapoff -a", 0) in w1.history
    assert "$ sudo swapoff -a" in builder.command_area.value and "setup.prepare(worker_1)" in builder.command_area.value
    assert builder.state()["worker-1"]["prepared"] and not builder.state()["master"]["prepared"]
    assert builder.cards.value.count("✔ prepared") == 1
    assert [(e["widget"], e["action"], e["args"]) for e in Journal(path).entries()] == [
        ("cluster-builder", "prepare", {"machine": "worker-1"})]


def test_runtime_and_kubernetes_clicks_use_the_dropdowns(world, path):
    builder = ClusterBuilder(world, journal=path)
    assert click(builder, "runtime", "master", runtime_select="cri-o").ok
    assert click(builder, "kubernetes", "master", version_select="1.29").ok
    st = builder.state()["master"]
    assert (st["runtime"], st["cgroup_driver"], st["kubernetes"][:4]) == ("cri-o", "systemd", "1.29")
    assert st["kubelet"] in ("activating", "failed")  # crash-loops until kubeadm configures it
    assert [e["args"] for e in Journal(path).entries()] == [
        {"machine": "master", "runtime": "cri-o"}, {"machine": "master", "version": "1.29"}]


def test_init_shows_every_phase_in_the_progress_bar_and_the_join_command(world, path):
    builder = ClusterBuilder(world, journal=path)
    install_by_clicks(builder, ["master"])
    outcome = click(builder, "init", "master")
    assert outcome.ok, builder.output_text
    assert builder.progress.max == len(INIT_PHASES) == 14 and builder.progress.value == 14
    assert builder.progress.bar_style == "success"
    assert "Your Kubernetes control-plane has initialized successfully!" in builder.output_text
    assert outcome.result.join_command.startswith("kubeadm join 10.0.0.10:6443 --token ")
    assert "sudo kubeadm init --pod-network-cidr=10.244.0.0/16" in builder.command_area.value
    st = builder.state()["master"]
    assert (st["role"], st["node"], st["kubelet"]) == ("control-plane", "NotReady", "active")  # no CNI yet
    assert builder.cluster is not None and builder.cluster.machine is world.machines["master"]
    assert world.machines["master"].sh("kubectl get nodes").ok  # the admin kubeconfig was copied for the student


def test_a_full_bring_up_by_clicks_gives_a_ready_cluster(world, path):
    builder = ClusterBuilder(world, journal=path)
    bring_up_by_clicks(builder)
    world.advance(60)
    assert node_names(builder) == list(NAMES)
    assert repr(builder) == ("ClusterBuilder(master=control-plane Ready, worker-1=worker Ready, "
                             "worker-2=worker Ready)")
    assert [e["action"] for e in Journal(path).entries()] == (
        ["prepare", "install_runtime", "install_kubernetes"] * 3 + ["init", "install_cni", "join", "join"])
    assert builder.progress.value == builder.progress.max == 6  # the last join's phases
    snap = ClusterView(world, journal=path).snapshot()
    assert {n: v["status"] for n, v in snap["nodes"].items()} == {n: "Ready" for n in NAMES}
    assert snap["control_plane"] == dict.fromkeys(
        ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"], "Running")
    assert snap["nodes"]["master"]["roles"] == ["control-plane"]
    assert snap["nodes"]["master"]["taints"] == ["node-role.kubernetes.io/control-plane:NoSchedule"]
    assert snap["nodes"]["worker-1"]["roles"] == [] and snap["nodes"]["worker-1"]["taints"] == []
    assert {p["colour"] for n in snap["nodes"].values() for p in n["pods"]} == {"green"}
    assert snap["unscheduled"] == []


def test_replaying_the_journal_on_a_fresh_world_rebuilds_the_same_cluster(world, path):
    first = ClusterBuilder(world, journal=path)
    bring_up_by_clicks(first)
    world2 = ak.World(seed=0)
    second = ClusterBuilder(world2, journal=path)
    assert second.replayed == 13 and second.replay_error is None
    assert second.state() == first.state()
    assert world2.now == world.now
    conf = "/etc/kubernetes/admin.conf"
    assert world2.machines["master"].fs.read_text(conf) == world.machines["master"].fs.read_text(conf)
    assert node_names(second) == list(NAMES)
    # making the widget again in the same world applies nothing twice
    assert ClusterBuilder(world2, journal=path).replayed == 0


def test_methods_called_from_code_act_and_show_but_are_not_journaled(world, path):
    builder = ClusterBuilder(world, journal=path)
    result = builder.prepare("master")
    assert "$ sudo swapoff -a" in repr(result)
    assert builder.state()["master"]["prepared"]
    assert builder.last.ok and "$ sudo sysctl --system" in builder.output_text
    assert Journal(path).entries() == []
    with pytest.raises(AivleError, match="kubeadm: command not found"):
        builder.init("master")
    assert "hint: Install Kubernetes" in builder.output_text


# -- errors: shown with a hint, never journaled, nothing changed ----------------------------------------
def manifests(m):
    return m.fs.listdir("/etc/kubernetes/manifests") if m.fs.exists("/etc/kubernetes/manifests") else []


def test_init_with_swap_on_is_a_preflight_error_with_a_hint(world, path):
    builder = ClusterBuilder(world, journal=path)
    install_by_clicks(builder, ["master"])
    master = world.machines["master"]
    master.sh("sudo swapon /swap.img")
    outcome = click(builder, "init", "master")
    assert isinstance(outcome.error, PreflightError) and outcome.error.names == ["Swap"]
    assert "[ERROR Swap]: running with swap on is not supported. Please disable swap" in builder.output_text
    assert "hint: Swap is on: turn it off with `sudo swapoff -a`" in builder.output_text
    assert "failed" in builder.status.value
    assert builder.progress.value == 0 and builder.progress.bar_style == "danger"
    assert "✘ <code>preflight</code>" in builder.phase_view.value
    assert "$ sudo kubeadm init --pod-network-cidr=10.244.0.0/16" in builder.command_area.value
    assert ".kube" not in builder.command_area.value  # only what was typed: init failed, nothing after it ran
    assert manifests(master) == [] and builder.cluster is None
    assert [e["action"] for e in Journal(path).entries()] == ["prepare", "install_runtime", "install_kubernetes"]
    assert ("sudo kubeadm init --pod-network-cidr=10.244.0.0/16", 1) in master.history


@pytest.mark.parametrize("problem, check, hint", [
    ("no runtime", "CRI", "install containerd, CRI-O or Docker Engine first"),
    ("one CPU", "NumCPU", "kubeadm needs at least 2 CPUs"),
    ("port in use", "Port-6443", "A port kubeadm needs is in use"),
])
def test_init_preflight_errors_name_the_check_and_what_to_do(world, path, problem, check, hint):
    if problem == "one CPU":
        world.machine("master", cpus=1, memory="4Gi")
    builder = ClusterBuilder(world, journal=path)
    master = world.machines["master"]
    for button in ("prepare", "runtime", "kubernetes"):
        if not (problem == "no runtime" and button == "runtime"):
            assert click(builder, button, "master").ok
    if problem == "port in use":
        master.netns.listen(6443, lambda data, peer: b"")
    outcome = click(builder, "init", "master")
    assert check in outcome.error.names
    assert f"[ERROR {check}]" in builder.output_text and hint in builder.output_text
    assert manifests(master) == []
    assert "init" not in [e["action"] for e in Journal(path).entries()]


def test_init_twice_is_refused_and_the_cluster_keeps_running(world, path):
    builder = ClusterBuilder(world, journal=path)
    install_by_clicks(builder, ["master"])
    assert click(builder, "init", "master").ok
    conf = world.machines["master"].fs.read_text("/etc/kubernetes/admin.conf")
    outcome = click(builder, "init", "master")
    assert "FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml" in outcome.error.names
    assert "This machine already runs a control plane" in builder.output_text
    assert world.machines["master"].fs.read_text("/etc/kubernetes/admin.conf") == conf
    assert [e["action"] for e in Journal(path).entries()].count("init") == 1
    # and a second control plane on another machine is refused before kubeadm runs
    outcome = click(builder, "init", "worker-1")
    assert "master is already the control plane of this cluster" in str(outcome.error)


def test_join_before_the_runtime_is_a_cri_error(world, path):
    builder = ClusterBuilder(world, journal=path)
    install_by_clicks(builder, ["master"])
    assert click(builder, "init", "master").ok
    assert click(builder, "prepare", "worker-1").ok and click(builder, "kubernetes", "worker-1").ok
    outcome = click(builder, "join", "worker-1")
    assert "CRI" in outcome.error.names
    assert "hint: No container runtime answers on this machine" in builder.output_text
    assert not world.machines["worker-1"].fs.exists("/etc/kubernetes/kubelet.conf")


def test_join_before_init_says_there_is_no_control_plane(world, path):
    builder = ClusterBuilder(world, journal=path)
    outcome = click(builder, "join", "worker-1")
    assert "there is no control plane to join yet: run kubeadm init on the master first" in builder.output_text
    assert not outcome.ok and Journal(path).entries() == []


def test_a_wrong_token_is_refused_by_discovery_and_nothing_changes(world, path):
    builder = ClusterBuilder(world, journal=path)
    install_by_clicks(builder, ["master", "worker-1"])
    assert click(builder, "init", "master").ok
    outcome = click(builder, "join", "worker-1", token="abcdef.0123456789abcdef")
    assert isinstance(outcome.error, KubeadmError)
    assert ('could not find a JWS signature in the cluster-info ConfigMap for token ID "abcdef"'
            in builder.output_text)
    assert "kubeadm token create --print-join-command" in builder.output_text  # the hint
    assert "--token abcdef.0123456789abcdef" in builder.command_area.value
    assert builder.progress.bar_style == "danger"
    w1 = world.machines["worker-1"]
    assert not w1.fs.exists("/etc/kubernetes/kubelet.conf") and node_names(builder) == ["master"]
    assert "join" not in [e["action"] for e in Journal(path).entries()]
    # a malformed token is refused too, with what a token looks like
    click(builder, "join", "worker-1", token="not-a-token")
    assert "hint: A token looks like abcdef.0123456789abcdef" in builder.output_text
    # the token kubeadm printed works
    assert click(builder, "join", "worker-1", token="").ok
    assert node_names(builder) == ["master", "worker-1"]


def test_an_expired_token_needs_a_new_one(world, path):
    builder = ClusterBuilder(world, journal=path)
    install_by_clicks(builder, ["master", "worker-1"])
    init = builder.init("master", token_ttl="10m")  # from code: the 10-minute token keeps the test fast
    world.advance(10 * 60 + 1)
    outcome = click(builder, "join", "worker-1")
    assert "no valid bootstrap token left on master" in str(outcome.error)
    assert "hint: Make a new token on the control plane" in builder.output_text
    outcome = click(builder, "join", "worker-1", token=init.join_command.split("--token ")[1].split()[0])
    assert not outcome.ok and "kubeadm token create" in builder.output_text
    assert click(builder, "token").ok
    assert builder.output_text.startswith("$ sudo kubeadm token create --print-join-command\nkubeadm join ")
    assert click(builder, "join", "worker-1", token="").ok
    assert [e["action"] for e in Journal(path).entries()][-2:] == ["create_token", "join"]


def test_invalid_choices_are_refused_with_the_choices(world, path):
    builder = ClusterBuilder(world, journal=path)
    outcome = builder.perform("install_runtime", machine="master", runtime="rkt")
    assert "rkt is retired" in str(outcome.error) and "containerd, cri-o, docker" in str(outcome.error)
    outcome = builder.perform("install_kubernetes", machine="master", version="1.20")
    assert "choose one of 1.28, 1.29, 1.30, 1.31" in builder.output_text
    outcome = builder.perform("init", machine="master", pod_network_cidr="ten.244/16")
    assert 'networking.podSubnet: Invalid value: "ten.244/16"' in str(outcome.error)
    outcome = builder.perform("install_cni", cni="weave")
    assert "choose one of flannel, calico" in str(outcome.error)
    outcome = builder.perform("prepare", machine="worker-9")
    assert 'no machine named "worker-9"' in str(outcome.error)
    assert Journal(path).entries() == [] and builder.state()["master"]["runtime"] is None


def test_one_runtime_and_one_version_per_machine(world, path):
    builder = ClusterBuilder(world, journal=path)
    assert click(builder, "runtime", "master", runtime_select="containerd").ok
    outcome = click(builder, "runtime", "master", runtime_select="cri-o")
    assert "master already has containerd as its container runtime" in str(outcome.error)
    assert "cri-o" not in world.machines["master"].packages
    assert click(builder, "kubernetes", "master", version_select="1.30").ok
    outcome = click(builder, "kubernetes", "master", version_select="1.31")
    assert "master already has kubeadm 1.30" in str(outcome.error)


def test_reset_of_a_worker_deletes_its_node_and_it_can_join_again(world, path):
    builder = ClusterBuilder(world, journal=path)
    bring_up_by_clicks(builder)
    assert click(builder, "reset", "worker-2").ok, builder.output_text
    assert "kubectl delete node worker-2   # on master" in builder.command_area.value
    assert "sudo kubeadm reset -f   # on worker-2" in builder.command_area.value
    assert node_names(builder) == ["master", "worker-1"]
    assert builder.state()["worker-2"]["role"] is None
    assert click(builder, "join", "worker-2").ok, builder.output_text
    assert node_names(builder) == list(NAMES)


def test_docker_engine_runtime_gets_the_systemd_cgroup_driver_and_the_cri_socket(world, path):
    builder = ClusterBuilder(world, ["master", "worker-1"], journal=path)
    for name in ("master", "worker-1"):
        assert click(builder, "prepare", name).ok
        assert click(builder, "runtime", name, runtime_select="docker").ok
        assert click(builder, "kubernetes", name).ok
    assert builder.state()["master"]["cgroup_driver"] == "systemd"
    assert click(builder, "init", "master").ok, builder.output_text
    assert "--cri-socket=unix:///var/run/cri-dockerd.sock" in builder.command_area.value
    assert click(builder, "cni").ok and click(builder, "join", "worker-1").ok, builder.output_text
    world.advance(60)
    assert {s["node"] for s in builder.state().values()} == {"Ready"}


def test_the_cni_dropdown_switches_the_default_pod_cidr(world, path):
    builder = ClusterBuilder(world, journal=path)
    builder.cni_select.value = "calico"
    assert builder.cidr.value == "192.168.0.0/16"
    builder.cidr.value = "10.10.0.0/16"  # a CIDR typed by hand is kept
    builder.cni_select.value = "flannel"
    assert builder.cidr.value == "10.10.0.0/16"


# -- the view -------------------------------------------------------------------------------------------
def test_the_view_before_init_says_there_is_no_cluster(world, path):
    view = ClusterView(world, journal=path)
    assert repr(view) == "ClusterView(no cluster yet)"
    assert "No cluster yet" in view.picture.value
    assert view.snapshot()["master"] is None and not view.settled()


def test_the_view_finds_the_cluster_and_drawing_never_moves_the_clock(world, path):
    builder = ClusterBuilder(world, journal=path)
    bring_up_by_clicks(builder)
    view = ClusterView(world, journal=path)
    now = world.now
    snap = view.snapshot()
    view.refresh()
    view._repr_mimebundle_()
    repr(view)
    assert world.now == now
    assert snap["master"] == "master" and set(snap["nodes"]) == set(NAMES)
    assert all(v["status"] == "NotReady" for v in snap["nodes"].values())  # no time for the CNI yet
    assert "control plane on master" in view.header.value


def test_clock_buttons_advance_time_and_are_journaled_and_replayed(world, path):
    builder = ClusterBuilder(world, journal=path)
    bring_up_by_clicks(builder)
    view = ClusterView(world, journal=path)
    start = world.now
    view.advance_buttons[1].click()  # +10 s
    assert world.now == pytest.approx(start + 10) and view.last.ok
    assert "world.advance(10)" in view.command_area.value
    view.settle_button.click()
    assert view.last.result["settled"] is True and view.settled()
    assert {v["status"] for v in view.snapshot()["nodes"].values()} == {"Ready"}
    entries = [(e["widget"], e["action"], e["args"]) for e in Journal(path).entries(widget="cluster-view")]
    assert entries == [("cluster-view", "advance", {"seconds": 10}),
                       ("cluster-view", "advance", {"seconds": 300.0, "until": "settled"})]
    world2 = ak.World(seed=0)
    ClusterBuilder(world2, journal=path)
    view2 = ClusterView(world2, journal=path)
    assert view2.replayed == 2 and world2.now == pytest.approx(world.now)
    assert view2.snapshot() == view.snapshot()


def test_a_bad_advance_is_refused_and_not_journaled(world, path):
    view = ClusterView(world, journal=path)
    outcome = view.perform("advance", seconds=-5)
    assert "seconds must be positive" in view.output_text and "hint:" in view.output_text
    assert not outcome.ok and Journal(path).entries() == [] and world.now == 0


def test_pods_are_coloured_by_their_status(world, path):
    builder = ClusterBuilder(world, journal=path)
    bring_up_by_clicks(builder)
    view = ClusterView(world, journal=path)
    view.run_until_settled()
    cluster = builder.cluster
    cluster.pods.create({"metadata": {"name": "broken"},
                         "spec": {"containers": [{"name": "c", "image": "nonexistent.example/none:1"}]}})
    cluster.pods.create({"metadata": {"name": "greedy"},
                         "spec": {"containers": [{"name": "c", "image": "nginx",
                                                  "resources": {"requests": {"cpu": "64"}}}]}})
    view.advance(30)
    snap = view.snapshot()
    pods = {p["name"]: p for n in snap["nodes"].values() for p in n["pods"]}
    assert pods["broken"]["colour"] == "red", pods["broken"]
    assert [(p["name"], p["status"], p["colour"]) for p in snap["unscheduled"]] == [("greedy", "Pending", "yellow")]
    assert not view.settled()
    cluster.kubectl("delete pod broken --wait=false")
    pods = {p["name"]: p for n in view.snapshot()["nodes"].values() for p in n["pods"]}
    assert pods["broken"]["colour"] == "grey" and pods["broken"]["status"] == "Terminating"
    view.refresh()
    assert "not scheduled" in view.picture.value and "greedy" in view.picture.value


def test_a_stopped_api_server_is_drawn_from_the_container_runtime(world, path):
    builder = ClusterBuilder(world, journal=path)
    install_by_clicks(builder, ["master"])
    assert click(builder, "init", "master").ok
    view = ClusterView(world, journal=path)
    world.machines["master"].sh("sudo mv /etc/kubernetes/manifests/kube-apiserver.yaml /root/")
    view.advance(30)
    snap = view.snapshot()
    assert snap["error"].startswith("the API server does not answer")
    assert snap["control_plane"]["kube-apiserver"] in ("not running", "Exited")
    assert snap["control_plane"]["etcd"] == "Running"
    assert repr(view) == "ClusterView(control plane on master: API server not answering)"


def test_a_click_in_one_widget_redraws_the_others_on_the_same_world(world, path):
    builder = ClusterBuilder(world, journal=path)
    bring_up_by_clicks(builder)
    other_world = ak.World(seed=1)
    bystander = ClusterView(other_world, journal=False)
    drawn = bystander.picture.value
    assert "NotReady" in builder.cards.value
    view = ClusterView(world, journal=path)
    assert view.perform("advance", seconds=120).ok
    assert "NotReady" not in builder.cards.value and "Ready" in builder.cards.value  # redrawn by the view's click
    assert bystander.picture.value == drawn  # another world's widget is left alone
