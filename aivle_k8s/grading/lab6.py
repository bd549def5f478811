"""Checks of lab6: Build a cluster (prepare, runtime, Kubernetes, a preflight error, init, CNI, join).

They read the machines and the cluster (never printed text), so a step counts whether the
student typed it, called the builder from code, or clicked the builder's buttons (the
journal replays clicks).

==========  =====================================================================================
step        context (defaults: ``master="master"``, ``workers=("worker-1", "worker-2")``)
==========  =====================================================================================
prepare     every machine: swap off, ``overlay`` and ``br_netfilter`` loaded, bridged traffic
            through iptables, IP forwarding on
runtime     every machine: a container runtime (containerd, CRI-O, Docker Engine + cri-dockerd)
            running, with the systemd cgroup driver (the kubelet's)
kubernetes  every machine: kubeadm, kubelet, kubectl at one minor version, the same everywhere
preflight   failed_check (the name in ``[ERROR ...]``; ``expected="Swap"``): a ``kubeadm init`` failed
            on the master and swap is off again
init        the master ran ``kubeadm init``: control-plane node (label, NoSchedule taint, pod CIDR),
            etcd / kube-apiserver / kube-controller-manager / kube-scheduler static pods Running
cni         a CNI plugin (flannel or calico) is installed, the master is Ready, CoreDNS is Running
join        every worker is a node of the cluster, not a control plane, and Ready
==========  =====================================================================================

>>> import aivle_k8s as ak
>>> from aivle_k8s.grading import check
>>> world = ak.World(seed=0)
>>> for name in ("master", "worker-1", "worker-2"):
...     _ = world.machine(name)
>>> print(check("lab6", "runtime", world=world))  # doctest: +ELLIPSIS
✘ lab6/runtime: not yet
  - master has no container runtime: install containerd, CRI-O or Docker Engine first ...
"""

from __future__ import annotations

from typing import Any

from ..sim.errors import AivleError
from .core import Context, step

__all__: list[str] = []

CONTROL_PLANE = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
ADMIN_CONF = "/etc/kubernetes/admin.conf"
CONTROL_PLANE_TAINT = "node-role.kubernetes.io/control-plane"
INIT_COMMAND = "sudo kubeadm init --pod-network-cidr=10.244.0.0/16"
_ENDPOINTS = {"containerd": ("unix:///var/run/containerd/containerd.sock", "containerd"),
              "cri-o": ("unix:///var/run/crio/crio.sock", "crio"),
              "docker": ("unix:///var/run/cri-dockerd.sock", "docker")}
_CGROUP_FIX = {
    "containerd": "set SystemdCgroup = true in /etc/containerd/config.toml and `sudo systemctl restart containerd`",
    "docker": 'put {"exec-opts": ["native.cgroupdriver=systemd"]} in /etc/docker/daemon.json and '
              "`sudo systemctl restart docker`",
    "cri-o": "set cgroup_manager = \"systemd\" in /etc/crio/crio.conf and restart crio",
}


def _names(ctx: Context) -> tuple[str, list[str]]:
    master = ctx.get("master", "master")
    workers = ctx.get("workers", ("worker-1", "worker-2"))
    workers = [workers] if isinstance(workers, str) else list(workers)
    return master, workers


def _machine(ctx: Context, name: str) -> Any:
    machines = getattr(ctx.world, "machines", {})
    if name not in machines:
        have = ", ".join(machines) or "none yet"
        ctx.fail(f'there is no machine named "{name}" (machines: {have}): run the cell that makes the '
                 f"ClusterBuilder (it creates {name}), or world.machine(\"{name}\", cpus=2, memory=\"4Gi\")")
    return machines[name]


def _all(ctx: Context) -> list[Any]:
    master, workers = _names(ctx)
    return [_machine(ctx, n) for n in [master, *workers]]


def _listing(machines: list[Any]) -> str:
    names = [m.name for m in machines]
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]


def _cluster(ctx: Context) -> tuple[Any, Any]:
    """(the master, its admin Cluster), or fail saying kubeadm init has not run there."""
    from ..cluster.cluster import Cluster

    master, _ = _names(ctx)
    m = _machine(ctx, master)
    if not m.fs.exists(ADMIN_CONF):
        ctx.fail(f"{m.name} is not initialized yet: run `{INIT_COMMAND}` on {m.name} "
                 f"(or click kubeadm init in the builder)")
    return m, Cluster(ctx.world, m)


def _nodes(ctx: Context, cluster: Any, master: Any) -> dict[str, dict]:
    try:
        return {n["metadata"]["name"]: n for n in cluster.client.list("nodes").get("items") or []}
    except (AivleError, OSError) as e:
        ctx.fail(f"the API server on {master.name} does not answer ({e}): is the control plane running? "
                 f"(`sudo crictl ps` on {master.name})")
    return {}  # pragma: no cover - fail() raised


def _ready(node: dict) -> str:
    from ..cluster.kubectl import printers as P

    return P.node_status(node)


def _pod_status(pod: dict) -> str:
    from ..cluster.kubectl import printers as P

    return P.pod_status(pod)[0]


# -- the steps ---------------------------------------------------------------------------------------
@step("lab6", "prepare")
def _prepare(ctx: Context):
    """Every machine is prepared: swap off, overlay and br_netfilter, bridge and forwarding sysctls."""
    from ..linux.systools import sysctl_get

    machines = _all(ctx)
    for m in machines:
        k = m.kernel
        ctx.expect(not k.swap_on, f"{m.name} still has swap on: run `sudo swapoff -a` (the kubelet refuses to run "
                                  f"with swap on), and comment the swap line out of /etc/fstab")
        for module in ("overlay", "br_netfilter"):
            ctx.expect(module in k.modules, f"{m.name} has not loaded the {module} kernel module: run "
                                            f"`sudo modprobe {module}`")
        ctx.expect(sysctl_get(k, "net.bridge.bridge-nf-call-iptables") == "1",
                   f"{m.name}: net.bridge.bridge-nf-call-iptables is not 1: load br_netfilter, then "
                   f"`sudo sysctl -w net.bridge.bridge-nf-call-iptables=1` (or write /etc/sysctl.d/k8s.conf and "
                   f"`sudo sysctl --system`)")
        ctx.expect(sysctl_get(k, "net.ipv4.ip_forward") == "1",
                   f"{m.name}: net.ipv4.ip_forward is not 1: run `sudo sysctl -w net.ipv4.ip_forward=1`")
    return (f"{_listing(machines)} are prepared: swap off, overlay and br_netfilter loaded, bridged traffic "
            f"goes through iptables, IP forwarding on")


@step("lab6", "runtime")
def _runtime(ctx: Context):
    """Every machine runs a container runtime with the systemd cgroup driver."""
    from ..cluster import setup
    from ..cluster.kubelet.kubelet import runtime_cgroup_driver
    from ..cluster.runtimes import runtime_for

    machines = _all(ctx)
    found = {}
    for m in machines:
        runtime = setup.status(m)["runtime"]
        if not runtime:
            ctx.expect(False, f"{m.name} has no container runtime: install containerd, CRI-O or Docker Engine first "
                              f"(`sudo apt-get install -y containerd`)")
            continue
        endpoint, unit = _ENDPOINTS[runtime]
        try:
            runtime_for(m, endpoint).version()
        except AivleError:
            ctx.expect(False, f"{m.name} has {runtime} installed but it does not answer on {endpoint}: "
                              f"`sudo systemctl start {unit}`")
            continue
        driver = runtime_cgroup_driver(m, endpoint)
        ctx.expect(driver == "systemd", f"{m.name}'s {runtime} uses the {driver} cgroup driver but the kubelet uses "
                                        f"systemd: {_CGROUP_FIX[runtime]}")
        found[m.name] = runtime
    kinds = sorted(set(found.values()))
    return f"{_listing(machines)} run {' / '.join(kinds)} with the systemd cgroup driver (the kubelet's)"


@step("lab6", "kubernetes")
def _kubernetes(ctx: Context):
    """kubeadm, kubelet and kubectl at one version on every machine."""
    machines = _all(ctx)
    minors: dict[str, str] = {}
    for m in machines:
        have = {p: m.packages.get(p) for p in ("kubeadm", "kubelet", "kubectl")}
        missing = [p for p, v in have.items() if not v]
        if missing:
            ctx.expect(False, f"{m.name} has no {', '.join(missing)}: add the pkgs.k8s.io repository and "
                              f"`sudo apt-get install -y kubelet kubeadm kubectl`")
            continue
        mine = {".".join(v.split("-")[0].split(".")[:2]) for v in have.values()}
        if len(mine) > 1:
            ctx.expect(False, f"{m.name} has " + ", ".join(f"{p} {v.split('-')[0]}" for p, v in have.items())
                       + ": install all three from one pkgs.k8s.io version")
            continue
        minors[m.name] = mine.pop()
    if len(set(minors.values())) > 1:
        ctx.expect(False, "the machines have different Kubernetes versions ("
                   + ", ".join(f"{n} {v}" for n, v in minors.items())
                   + "): install one version everywhere (a kubelet must not be newer than the API server)")
    version = next(iter(set(minors.values())), "?")
    return f"kubeadm, kubelet and kubectl {version} on {_listing(machines)}"


@step("lab6", "preflight")
def _preflight(ctx: Context):
    """A kubeadm init failed its preflight checks on the master, the student named the check and fixed it."""
    master, _ = _names(ctx)
    m = _machine(ctx, master)
    if "kubeadm" not in m.packages:
        ctx.fail(f"kubeadm is not installed on {m.name} yet: do steps 1-3 (prepare, runtime, Kubernetes) first, "
                 f"then run the cell that tries `kubeadm init` with swap on")
    failed = [cmd for cmd, code in m.history if "kubeadm init" in cmd and code != 0]
    if not failed:
        ctx.fail(f"no `kubeadm init` has failed on {m.name} yet: run the cell above that turns swap on and tries "
                 f"`{INIT_COMMAND}`, and read its [ERROR ...] line")
    answer = ctx.get("failed_check")
    if answer is None or not str(answer).strip():
        ctx.fail("set failed_check to the name of the preflight check that failed: the word in "
                 "`[ERROR <name>]` that kubeadm printed")
    expected = str(ctx.get("expected", "Swap"))
    name = str(answer).strip().strip("[]").strip()
    name = name[len("ERROR"):].strip() if name.upper().startswith("ERROR") else name
    ctx.expect(name.lower() == expected.lower(),
               f"failed_check is {answer!r}, but that is not the check that failed: look again at the "
               f"`[ERROR ...]` line (the word between ERROR and the colon)")
    ctx.expect(not m.kernel.swap_on, f"swap is still on on {m.name}: fix the cause (`sudo swapoff -a`), then run "
                                     f"kubeadm init again")
    return f"kubeadm's preflight check {expected} stopped init before it changed anything; the cause is fixed"


@step("lab6", "init")
def _init(ctx: Context):
    """The master is the control plane: static pods Running, the node labelled and tainted, a pod CIDR."""
    m, cluster = _cluster(ctx)
    nodes = _nodes(ctx, cluster, m)
    node = nodes.get(m.hostname)
    if node is None:
        ctx.fail(f"{m.name} ran kubeadm init but its kubelet has not registered the node yet: let a few seconds "
                 f"pass (world.advance(10)) and look at `kubectl get nodes`")
    labels = (node.get("metadata") or {}).get("labels") or {}
    ctx.expect(CONTROL_PLANE_TAINT in labels, f"node {m.name} has no node-role.kubernetes.io/control-plane label: "
                                              f"kubeadm's mark-control-plane phase did not run")
    taints = (node.get("spec") or {}).get("taints") or []
    ctx.expect(any(t.get("key") == CONTROL_PLANE_TAINT and t.get("effect") == "NoSchedule" for t in taints),
               f"node {m.name} lost its {CONTROL_PLANE_TAINT}:NoSchedule taint: ordinary pods would run on the "
               f"control plane (kubeadm puts the taint back with `kubeadm init phase mark-control-plane`)")
    ctx.expect((node.get("spec") or {}).get("podCIDR"),
               f"node {m.name} has no pod CIDR: run kubeadm init with --pod-network-cidr=10.244.0.0/16 (flannel "
               f"needs it; `sudo kubeadm reset -f` first)")
    try:
        pods = {p["metadata"]["name"]: p for p in cluster.client.list("pods", "kube-system").get("items") or []}
    except (AivleError, OSError) as e:
        ctx.fail(f"the API server on {m.name} does not answer ({e})")
    for c in CONTROL_PLANE:
        ctx.expect(m.fs.exists(f"/etc/kubernetes/manifests/{c}.yaml"),
                   f"/etc/kubernetes/manifests/{c}.yaml is missing on {m.name}: the kubelet runs {c} from it")
        pod = pods.get(f"{c}-{m.hostname}")
        status = _pod_status(pod) if pod is not None else "missing"
        ctx.expect(status == "Running", f"the static pod {c}-{m.hostname} is {status}, not Running "
                                        f"(`kubectl -n kube-system get pods`)")
    return (f"{m.name} is the control plane: {', '.join(CONTROL_PLANE)} run as static pods; the node is tainted "
            f"{CONTROL_PLANE_TAINT}:NoSchedule")


@step("lab6", "cni")
def _cni(ctx: Context):
    """A CNI plugin is installed: the master is Ready and CoreDNS is Running."""
    from ..cluster.bootstrap import CNI_URLS

    m, cluster = _cluster(ctx)
    nodes = _nodes(ctx, cluster, m)
    try:
        daemonsets = {d["metadata"]["name"]: d for d in cluster.client.list("daemonsets", None).get("items") or []}
        dns = [p for p in cluster.client.list("pods", "kube-system", label_selector="k8s-app=kube-dns")
               .get("items") or []]
    except (AivleError, OSError) as e:
        ctx.fail(f"the API server on {m.name} does not answer ({e})")
    plugin = "flannel" if "kube-flannel-ds" in daemonsets else "calico" if "calico-node" in daemonsets else None
    if plugin is None:
        ctx.fail(f"no pod network (CNI plugin) is installed: run `kubectl apply -f {CNI_URLS['flannel']}` on "
                 f"{m.name} (nodes stay NotReady and CoreDNS Pending until then)")
    node = nodes.get(m.hostname)
    status = _ready(node) if node is not None else "not registered"
    ctx.expect(status == "Ready", f"{m.name} is {status}: the {plugin} pod on it needs a few seconds to write the CNI "
                                  f"config (world.advance(30)); then `kubectl get nodes`")
    states = sorted(_pod_status(p) for p in dns)
    ctx.expect(dns and all(s == "Running" for s in states),
               (f"CoreDNS is {', '.join(states)}" if states else "CoreDNS has no pods yet")
               + ": it starts once the pod network is up (world.advance(30), then "
                 "`kubectl -n kube-system get pods -l k8s-app=kube-dns`)")
    return f"{plugin} is the pod network: {m.name} is Ready and CoreDNS runs"


@step("lab6", "join")
def _join(ctx: Context):
    """Every worker has joined the cluster and is Ready."""
    master, workers = _names(ctx)
    m, cluster = _cluster(ctx)
    for w in workers:
        _machine(ctx, w)
    nodes = _nodes(ctx, cluster, m)
    for w in workers:
        hostname = ctx.world.machines[w].hostname
        node = nodes.get(hostname)
        if node is None:
            ctx.expect(False, f"{w} is not a node of the cluster yet: run the join command printed by kubeadm init "
                              f"on {w} as root (`kubeadm token create --print-join-command` on {m.name} prints a "
                              f"new one)")
            continue
        labels = (node.get("metadata") or {}).get("labels") or {}
        ctx.expect(CONTROL_PLANE_TAINT not in labels, f"{w} is a control-plane node: join it as a worker (without "
                                                      f"--control-plane)")
        status = _ready(node)
        ctx.expect(status == "Ready", f"{w} has joined but is {status}: give its kubelet and the CNI pod a few "
                                      f"seconds (world.advance(30)); if it stays NotReady, "
                                      f"`kubectl describe node {w}`")
    return f"the cluster has {len(nodes)} nodes, all Ready: {m.name} (control-plane), {', '.join(workers)}"
