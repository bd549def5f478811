"""The cluster builder (lab 6): machines -> prepare -> runtime -> Kubernetes -> kubeadm init -> CNI -> join.

::

    ┌ Cluster builder ─────────────────────────────────────────────────────────────┐
    │ machine [master v]  [Prepare]  [containerd v][Install runtime]                │
    │                     [1.30 v][Install Kubernetes]                              │
    │ pod CIDR [10.244.0.0/16] [kubeadm init]   [flannel v][Install CNI]            │
    │ token [             ] [kubeadm join] [New token]   [kubeadm reset]            │
    │ kubeadm init on master  ██████████████░░  12/14 phases                        │
    │ ┌ master ──────────┐ ┌ worker-1 ────────┐ ┌ worker-2 ────────┐               │
    │ │ ✔ prepared       │ │ ✔ prepared       │ │ ✘ swap on        │               │
    │ │ ✔ containerd     │ │ ✔ containerd     │ │ · no runtime     │               │
    │ │ ✔ Kubernetes 1.30│ │ ...              │ │ ...              │               │
    │ │ control-plane    │ │ worker  Ready    │ │                  │               │
    │ └──────────────────┘ └──────────────────┘ └──────────────────┘               │
    │ ✔ init   Python / Terminal: the command lines typed, then what they printed   │
    └───────────────────────────────────────────────────────────────────────────────┘

Every button types the official guides' command lines into the machine's terminal
(``machine.sh``), exactly what a student would type, so the machine ends up as if typed
and its shell history shows them. The cards are drawn from the world (``setup.status``
and the cluster's Node objects), never from what the widget remembers.

Actions (journal names and arguments), one public method each:

* ``prepare(machine)`` — swap off (and out of /etc/fstab), ``overlay`` and ``br_netfilter``,
  the bridge/forwarding sysctls;
* ``install_runtime(machine, runtime)`` — ``containerd`` (SystemdCgroup = true), ``cri-o``,
  or ``docker`` (Docker Engine + cri-dockerd, systemd cgroup driver);
* ``install_kubernetes(machine, version)`` — kubeadm, kubelet, kubectl from pkgs.k8s.io, held;
* ``init(machine, pod_network_cidr, ignore_preflight_errors, token_ttl)`` —
  ``sudo kubeadm init ...``, then the admin kubeconfig copied to ``~/.kube/config`` as the
  output says;
* ``install_cni(cni)`` — ``kubectl apply -f <flannel or calico manifest URL>`` on the control plane;
* ``join(machine, token)`` — ``sudo kubeadm join <endpoint> --token ... --discovery-token-ca-cert-hash ...``
  (an empty token means the newest valid token of the cluster, as printed by kubeadm);
* ``create_token(ttl)`` — ``sudo kubeadm token create --print-join-command``;
* ``reset(machine)`` — ``kubectl delete node`` (for a worker) and ``sudo kubeadm reset -f``.

A click is journaled (and replayed when the widget is made again). Calling a method from
code is not journaled — the code cell itself runs again when the notebook is re-executed —
but it is shown in the widget like a click, and a rejected step raises its error.
A rejected step (preflight errors, a wrong token, a second ``kubeadm init`` ...) changes nothing
and is shown with a hint. As with the real tool, a kubeadm run that fails *after* its preflight
phase (``--ignore-preflight-errors=Swap`` and then ``wait-control-plane``) leaves what it wrote:
Reset (``kubeadm reset -f``) cleans it up.

>>> import aivle_k8s as ak
>>> world = ak.World(seed=0)
>>> builder = ClusterBuilder(world, journal=False)
>>> builder
ClusterBuilder(master=fresh, worker-1=fresh, worker-2=fresh)
>>> builder.perform("prepare", machine="master").ok, builder.state()["master"]["prepared"]
(True, True)
>>> builder.perform("init", machine="master").error.__class__.__name__   # no kubeadm yet
'SetupError'
"""

from __future__ import annotations

import html
import ipaddress
import re
import shlex
from dataclasses import dataclass, field
from typing import Any, Iterable

import ipywidgets as W

from ..sim.errors import AivleError, Conflict, InvalidInput
from .base import ActionOutcome, ActionWidget, _pre
from .cluster_view import ADMIN_CONF, cluster_of, find_control_plane

__all__ = ["ClusterBuilder", "StepResult", "INIT_PHASES", "JOIN_PHASES", "CNI_POD_CIDRS"]

# kubeadm init's phases, in order, with the output prefixes that show each one has started
INIT_PHASES: list[tuple[str, tuple[str, ...]]] = [
    ("preflight", ("[preflight]",)),
    ("certs", ("[certs]",)),
    ("kubeconfig", ("[kubeconfig]",)),
    ("etcd", ("[etcd]",)),
    ("control-plane", ("[control-plane]",)),
    ("kubelet-start", ("[kubelet-start]",)),
    ("wait-control-plane", ("[wait-control-plane]", "[apiclient]", "[kubelet-check]")),
    ("upload-config", ("[upload-config]", "[kubelet]")),
    ("upload-certs", ("[upload-certs]",)),
    ("mark-control-plane", ("[mark-control-plane]",)),
    ("bootstrap-token", ("[bootstrap-token]",)),
    ("kubelet-finalize", ("[kubelet-finalize]",)),
    ("addon", ("[addons]",)),
    ("show-join-command", ("Your Kubernetes control-plane has initialized successfully!",)),
]
# kubeadm join on a worker: the preflight phase (checks, then discovery), then kubelet-start (TLS bootstrap)
JOIN_PHASES: list[tuple[str, tuple[str, ...]]] = [
    ("preflight", ("[preflight] Running pre-flight checks",)),
    ("discovery", ("[preflight] Reading configuration from the cluster",)),
    ("kubelet-start", ("[kubelet-start] Writing",)),
    ("kubelet-check", ("[kubelet-check]",)),
    ("tls-bootstrap", ("[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap",)),
    ("joined", ("This node has joined the cluster",)),
]
CNI_POD_CIDRS = {"flannel": "10.244.0.0/16", "calico": "192.168.0.0/16"}
CRI_DOCKERD = "unix:///var/run/cri-dockerd.sock"
RUNTIME_LABELS = {"containerd": "containerd", "cri-o": "CRI-O", "docker": "Docker Engine + cri-dockerd"}
_KUBECONFIG_LINES = ["mkdir -p $HOME/.kube", f"sudo cp -f {ADMIN_CONF} $HOME/.kube/config",
                     "sudo chown $(id -u):$(id -g) $HOME/.kube/config"]
_TRAILER = "To see the stack trace of this error execute with --v=5 or higher"


@dataclass
class StepResult:
    """What one builder step did: the command lines typed, what they printed, and kubeadm's phases.

    Its repr is the terminal transcript, so a notebook cell ending with ``builder.init()`` shows
    kubeadm's output.
    """

    action: str
    machine: str | None
    lines: list[str]
    output: str
    phases: list[tuple[str, str]] = field(default_factory=list)  # (phase, "done" | "failed" | "todo")
    join_command: str | None = None

    def __repr__(self) -> str:
        return self.output

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython
        p.text(self.output)

    @property
    def completed(self) -> int:
        """How many phases completed."""
        return sum(1 for _, s in self.phases if s == "done")


def phases_of(table: list[tuple[str, tuple[str, ...]]], output: str, ok: bool) -> list[tuple[str, str]]:
    """Each phase's state from what kubeadm printed: done, failed (the last one started, when it failed) or todo.

    >>> phases_of(JOIN_PHASES, "[preflight] Running pre-flight checks\\n", ok=False)[:2]
    [('preflight', 'failed'), ('discovery', 'todo')]
    """
    started = [i for i, (_, marks) in enumerate(table) if any(m in output for m in marks)]
    last = max(started) if started else -1
    out = []
    for i, (name, _) in enumerate(table):
        if ok or i < last:
            out.append((name, "done"))
        elif i == last or (last < 0 and i == 0):
            out.append((name, "failed"))
        else:
            out.append((name, "todo"))
    return out


def _kubeadm_error(machine: Any, line: str, result: Any, phases: list[tuple[str, str]]) -> AivleError:
    """The kubeadm error a failed ``kubeadm`` command line printed, as the library's exception."""
    from ..cluster import setup
    from ..cluster.kubeadm import KubeadmError, PreflightError

    stderr = result.stderr.replace(_TRAILER + "\n", "").replace(_TRAILER, "")
    if "command not found" in stderr:
        return setup.SetupError(f"{machine.name}: {stderr.strip()}", output=f"$ {line}\n{result.output}",
                                command=line)
    lines = stderr.splitlines(keepends=True)
    warnings = "".join(ln for ln in lines if ln.startswith("\t[WARNING"))
    message = "".join(ln for ln in lines if not ln.startswith("\t[WARNING")).strip("\n")
    at = message.find("error execution phase")
    message = message[at:] if at >= 0 else message
    shown = f"$ {line}\n{result.stdout}{warnings}"
    if "Some fatal errors occurred:" in message:
        checks = re.findall(r"\t\[ERROR ([^\]]+)\]: (.*?)(?=\n\t\[ERROR |\n\[preflight\] If you know|\Z)", message,
                            flags=re.S)
        if checks:
            error: AivleError = PreflightError(checks, output=shown)
        else:  # pragma: no cover - kubeadm always names the failed checks
            error = KubeadmError(message, output=shown, phase="preflight")
    else:
        error = KubeadmError(message or f"`{line}` failed with exit code {result.exit_code}", output=shown)
    error.phases = phases
    error.machine = machine.name
    return error


def _var(name: str) -> str:
    return name.replace("-", "_")


class ClusterBuilder(ActionWidget):
    """Build a kubeadm cluster on machines, one step and one button at a time.

    Args:
        world: the lab's world.
        machines: the machines' names; the first is the control plane by default. Machines the
            world does not have yet are created (2 CPUs, 4 GiB: kubeadm's minimum is 2 CPUs and
            about 2 GB on the control plane).
        lab, journal, name: see :class:`~aivle_k8s.widgets.base.ActionWidget`.
        cpus, memory: the size of the machines created.
    """

    kind = "cluster-builder"
    title = "Cluster builder"
    hints = [
        ("[error swap]", "Swap is on: turn it off with `sudo swapoff -a` (the Prepare button does it, and comments "
                         "the swap line out of /etc/fstab so it stays off after a reboot)."),
        ("[error cri]", "No container runtime answers on this machine: install containerd, CRI-O or Docker Engine "
                        "first (Install runtime)."),
        ("[error numcpu]", "kubeadm needs at least 2 CPUs on the control plane: use a bigger machine "
                           "(--ignore-preflight-errors=NumCPU only hides the problem)."),
        ("[error mem]", "The machine has too little memory for Kubernetes (about 2 GB at least): use a bigger one."),
        ("[error fileavailable--etc-kubernetes-manifests", "This machine already runs a control plane (kubeadm init "
                                                           "ran here before): use it, or start over with "
                                                           "`sudo kubeadm reset -f` (Reset)."),
        ("[error fileavailable--etc-kubernetes-kubelet.conf", "This machine is already a node of a cluster: to join "
                                                              "again, `sudo kubeadm reset -f` (Reset) first."),
        ("[error port-", "A port kubeadm needs is in use: is a control plane or kubelet already running here? "
                         "`sudo kubeadm reset -f` (Reset) stops and removes it."),
        ("bridge-nf-call-iptables", "Prepare the machine first: load br_netfilter and set the sysctls (Prepare)."),
        ("ip_forward", "Prepare the machine first: net.ipv4.ip_forward must be 1 (Prepare)."),
        ("[error kubeletversion]", "Install Kubernetes (kubelet, kubeadm, kubectl at one version) first."),
        ("kubeadm: command not found", "Install Kubernetes (kubeadm, kubelet, kubectl) on this machine first "
                                       "(Install Kubernetes)."),
        ("kubectl: command not found", "Install Kubernetes (kubeadm, kubelet, kubectl) on this machine first."),
        ("could not find a jws signature", "The cluster does not know this token (mistyped or expired): copy the "
                                           "join command kubeadm printed again, or make a new one on the control "
                                           "plane with `kubeadm token create --print-join-command` (New token)."),
        ("has expired", "Tokens live 24 h: make a new one on the control plane with "
                        "`kubeadm token create --print-join-command` (New token)."),
        ("no valid bootstrap token", "Make a new token on the control plane: "
                                     "`kubeadm token create --print-join-command` (New token)."),
        ("failed to verify jws signature", "The token's secret part (after the dot) is wrong: copy the whole token "
                                           "from the join command."),
        ("none of the public keys", "The --discovery-token-ca-cert-hash does not match this cluster's CA: copy it "
                                    "from the join command kubeadm printed."),
        ("the bootstrap token is invalid", "A token looks like abcdef.0123456789abcdef: 6 and 16 lowercase letters "
                                           "or digits, joined by a dot."),
        ("no control plane", "Run kubeadm init on the master first."),
        ("already the control plane", "One cluster has one control plane here: join the other machines to it."),
        ("is the control plane itself", "Select a worker machine to join."),
        ("already the pod network", "One pod network (CNI plugin) per cluster: keep the one installed."),
        ("unknown container runtime", "Pick containerd, CRI-O or Docker Engine (with cri-dockerd)."),
        ("no kubernetes package repository", "Pick one of the versions offered in the list."),
        ("already has kubeadm", "Every machine of a cluster uses the same Kubernetes version: install that one "
                                "on new machines."),
        ("already has", "One container runtime per machine: keep the one installed."),
        ("couldn't parse subnet", "A pod network CIDR looks like 10.244.0.0/16 (flannel's default)."),
        ("dial tcp", "The API server does not answer: is the control plane up (kubeadm init on the master)?"),
        ("wait-control-plane", "The control plane did not come up (swap on? cgroup driver?): look at the output "
                               "above, fix the cause, then `sudo kubeadm reset -f` (Reset) and init again."),
    ]

    def __init__(self, world: Any, machines: Iterable[str] = ("master", "worker-1", "worker-2"), *,
                 lab: str | None = None, journal: Any = None, name: str | None = None, cpus: int = 2,
                 memory: str = "4Gi"):
        from ..cluster import kubeadm as _kubeadm  # noqa: F401  (registers the kubeadm, kubelet, runtime programs)

        names = [str(n) for n in machines]
        if not names:
            raise InvalidInput("a cluster needs at least one machine: ClusterBuilder(world, ['master', 'worker-1'])")
        if len(set(names)) != len(names):
            raise InvalidInput(f"machine names must be different: {', '.join(names)}")
        self.world = world
        self.names = names
        for n in names:
            if n not in world.machines:
                world.machine(n, cpus=cpus, memory=memory)
        self.machines = {n: world.machines[n] for n in names}
        self._planned: tuple[str, str] | None = None
        super().__init__(lab=lab, journal=journal, name=name)

    def world_of(self) -> Any:
        return self.world

    # -- reading the world -----------------------------------------------------------------------------
    @property
    def cluster(self) -> Any:
        """The admin's :class:`~aivle_k8s.cluster.cluster.Cluster` once ``kubeadm init`` succeeded, else None."""
        return cluster_of(self.world, self.names)

    @property
    def control_plane(self) -> Any:
        """The machine that ran ``kubeadm init`` (None before)."""
        return find_control_plane(self.world, self.names)

    def state(self) -> dict:
        """Where each machine stands, read from the world: ``{name: {"prepared", "swap_off", "modules",
        "ip_forward", "runtime", "cgroup_driver", "kubernetes", "kubelet", "role", "node"}}``."""
        from ..cluster import setup
        from ..cluster.kubectl import printers as P

        nodes: dict[str, dict] = {}
        cluster = self.cluster
        if cluster is not None:
            try:
                nodes = {n["metadata"]["name"]: n for n in cluster.client.list("nodes").get("items") or []}
            except (AivleError, OSError):
                nodes = {}
        out = {}
        for name, m in self.machines.items():
            s = setup.status(m)
            runtime = s["runtime"]
            version = s["kubeadm"] or s["kubelet"]
            node = nodes.get(m.hostname)
            if node is not None:
                labels = (node.get("metadata") or {}).get("labels") or {}
                role = "control-plane" if "node-role.kubernetes.io/control-plane" in labels else "worker"
            else:
                role = "control-plane" if s["initialized"] else "worker" if s["joined"] else None
            out[name] = {
                "prepared": bool(s["swap_off"] and len(s["modules"]) == 2 and s["ip_forward"]),
                "swap_off": s["swap_off"],
                "modules": s["modules"],
                "ip_forward": s["ip_forward"],
                "runtime": runtime,
                "cgroup_driver": self._cgroup_driver(m, runtime) if runtime else None,
                "kubernetes": version.split("-")[0] if version else None,
                "kubelet": m.services.state("kubelet") if "kubelet" in m.services.units else None,
                "role": role,
                "node": P.node_status(node) if node is not None else None,
            }
        return out

    @staticmethod
    def _cgroup_driver(machine: Any, runtime: str) -> str:
        from ..cluster.kubelet.kubelet import runtime_cgroup_driver

        endpoint = {"containerd": "unix:///var/run/containerd/containerd.sock",
                    "cri-o": "unix:///var/run/crio/crio.sock"}.get(runtime, CRI_DOCKERD)
        return runtime_cgroup_driver(machine, endpoint)

    @staticmethod
    def _stage(st: dict) -> str:
        if st["role"]:
            return f"{st['role']} {st['node'] or 'not registered'}"
        if st["kubernetes"]:
            return f"kubernetes {st['kubernetes']}"
        if st["runtime"]:
            return f"runtime {st['runtime']}"
        return "prepared" if st["prepared"] else "fresh"

    def __repr__(self) -> str:
        st = self.state()
        return "ClusterBuilder(" + ", ".join(f"{n}={self._stage(s)}" for n, s in st.items()) + ")"

    # -- the model: actions that type command lines -------------------------------------------------------
    def _register(self) -> None:
        planned = self._equivalent
        for action, handler in (("prepare", self._prepare), ("install_runtime", self._install_runtime),
                                ("install_kubernetes", self._install_kubernetes), ("init", self._init),
                                ("install_cni", self._install_cni), ("join", self._join),
                                ("create_token", self._create_token), ("reset", self._reset)):
            self.action(action, handler, planned)

    def _equivalent(self, **_args: Any) -> tuple[str, str]:
        return self._planned or ("", "")

    def _plan(self, code: str, typed: list[tuple[Any, str]]) -> None:
        """Remember the equivalent code and the command lines (``(machine, line)``) of the step being done."""
        several = len({m.name for m, _ in typed}) > 1
        lines = [f"{line}   # on {m.name}" if several else line for m, line in typed]
        self._planned = (code, "\n$ ".join(lines))

    def _machine(self, name: Any) -> Any:
        if name is None:
            return self.machines[self.names[0]]
        if not isinstance(name, str):
            name = getattr(name, "name", str(name))
        return self.world.get_machine(name)

    def _type(self, machine: Any, lines: list[str]) -> str:
        """Type ``lines`` into ``machine``'s terminal, stop at the first failing one; returns the transcript."""
        from ..cluster import setup

        transcript = []
        for line in lines:
            r = machine.sh(line)
            transcript.append(f"$ {line}\n{r.output}")
            if r.exit_code != 0:
                raise setup.SetupError(f"`{line}` failed on {machine.name} (exit code {r.exit_code}):\n"
                                       f"{r.output.rstrip()}", output="".join(transcript[:-1]), command=line)
        return "".join(transcript)

    def _kubectl(self, master: Any) -> tuple[list[str], str]:
        """(lines that give the student user a kubeconfig when missing, the kubectl command to use)."""
        home = master.env.get("HOME", "/home/student").rstrip("/")
        if master.fs.exists(f"{home}/.kube/config"):
            return [], "kubectl"
        return list(_KUBECONFIG_LINES), "kubectl"

    # prepare ------------------------------------------------------------------------------------------
    def _prepare(self, machine: str) -> StepResult:
        from ..cluster import setup

        self._planned = None
        m = self._machine(machine)
        lines = setup.guide("prepare")
        self._plan(f"from aivle_k8s.cluster import setup\nsetup.prepare({_var(m.name)})", [(m, ln) for ln in lines])
        return StepResult("prepare", m.name, lines, self._type(m, lines))

    def prepare(self, machine: str) -> StepResult:
        """Swap off, kernel modules and sysctls on ``machine`` (the Prepare button)."""
        return self._call("prepare", machine=machine)

    # runtime ------------------------------------------------------------------------------------------
    def _install_runtime(self, machine: str, runtime: str = "containerd") -> StepResult:
        from ..cluster import setup

        self._planned = None
        m = self._machine(machine)
        lines = setup.guide("runtime", runtime=runtime)  # unknown runtime: InvalidInput (rkt is retired ...)
        current = setup.status(m)["runtime"]
        if current and current != runtime:
            raise Conflict(f"{m.name} already has {RUNTIME_LABELS.get(current, current)} as its container runtime: "
                           f"one runtime per machine (kubeadm would find two CRI sockets)")
        self._plan(f"from aivle_k8s.cluster import setup\nsetup.install_runtime({_var(m.name)}, {runtime!r})",
                   [(m, ln) for ln in lines])
        return StepResult("install_runtime", m.name, lines, self._type(m, lines))

    def install_runtime(self, machine: str, runtime: str = "containerd") -> StepResult:
        """Install a container runtime: ``containerd``, ``cri-o`` or ``docker`` (the Install runtime button)."""
        return self._call("install_runtime", machine=machine, runtime=runtime)

    # Kubernetes ---------------------------------------------------------------------------------------
    def _install_kubernetes(self, machine: str, version: str = "1.30") -> StepResult:
        from ..cluster import setup

        self._planned = None
        m = self._machine(machine)
        lines = setup.guide("kubernetes", version=str(version))  # unknown version: InvalidInput
        have = setup.status(m)["kubeadm"]
        if have and not have.startswith(f"{version}."):
            raise Conflict(f"{m.name} already has kubeadm {have.split('-')[0]} (held with apt-mark hold): a cluster's "
                           f"machines use one version, and changing it is `kubeadm upgrade`, not a new install")
        self._plan(f"from aivle_k8s.cluster import setup\nsetup.install_kubernetes({_var(m.name)}, {str(version)!r})",
                   [(m, ln) for ln in lines])
        return StepResult("install_kubernetes", m.name, lines, self._type(m, lines))

    def install_kubernetes(self, machine: str, version: str = "1.30") -> StepResult:
        """Install kubeadm, kubelet and kubectl at one version (the Install Kubernetes button)."""
        return self._call("install_kubernetes", machine=machine, version=version)

    # kubeadm init ----------------------------------------------------------------------------------------
    def _cri_flag(self, m: Any) -> str:
        from ..cluster import setup

        # Docker Engine brings containerd along: with cri-dockerd there are two CRI sockets, so name one
        return f" --cri-socket={CRI_DOCKERD}" if setup.status(m)["runtime"] == "docker" else ""

    def _init(self, machine: str | None = None, pod_network_cidr: str = "10.244.0.0/16",
              ignore_preflight_errors: Any = None, token_ttl: str | None = None) -> StepResult:
        self._planned = None
        m = self._machine(machine)
        other = find_control_plane(self.world, self.names)
        if other is not None and other is not m:
            raise Conflict(f"{other.name} is already the control plane of this cluster: join {m.name} to it instead "
                           f"(kubeadm init on {m.name} would make a second, separate cluster)")
        line = "sudo kubeadm init"
        if pod_network_cidr:
            try:
                ipaddress.ip_network(str(pod_network_cidr), strict=False)
            except ValueError:
                raise InvalidInput(f'networking.podSubnet: Invalid value: "{pod_network_cidr}": couldn\'t parse '
                                   f'subnet') from None
            line += f" --pod-network-cidr={pod_network_cidr}"
        if ignore_preflight_errors:
            items = ignore_preflight_errors if isinstance(ignore_preflight_errors, (list, tuple)) else \
                str(ignore_preflight_errors).split(",")
            names = ",".join(str(i).strip() for i in items if str(i).strip())
            line += " --ignore-preflight-errors=" + shlex.quote(names)
        if token_ttl:
            line += f" --token-ttl={shlex.quote(str(token_ttl))}"
        line += self._cri_flag(m)
        kube_lines = list(_KUBECONFIG_LINES)
        self._plan("\n".join(f"{_var(m.name)}.sh({ln!r})" for ln in [line, *kube_lines]),
                   [(m, ln) for ln in [line, *kube_lines]])
        r = m.sh(line)
        phases = phases_of(INIT_PHASES, r.output, r.ok)
        self._set_progress(f"kubeadm init on {m.name}", phases)
        if not r.ok:
            self._plan(f"{_var(m.name)}.sh({line!r})", [(m, line)])  # the kubeconfig lines were not typed
            raise _kubeadm_error(m, line, r, phases)
        transcript = f"$ {line}\n{r.output}" + self._type(m, kube_lines)
        found = re.search(r"(kubeadm join \S+ --token \S+) \\\n\t(--discovery-token-ca-cert-hash \S+)", r.stdout)
        join = f"{found.group(1)} {found.group(2)}" if found else None
        return StepResult("init", m.name, [line, *kube_lines], transcript, phases, join)

    def init(self, machine: str | None = None, pod_network_cidr: str = "10.244.0.0/16",
             ignore_preflight_errors: Any = None, token_ttl: str | None = None) -> StepResult:
        """``sudo kubeadm init`` on ``machine`` (default: the first machine), then the admin kubeconfig for
        ``kubectl``. ``ignore_preflight_errors``: e.g. ``"Swap"`` or ``["NumCPU"]``; ``token_ttl``: e.g. ``"10m"``."""
        return self._call("init", machine=machine, pod_network_cidr=pod_network_cidr,
                          ignore_preflight_errors=ignore_preflight_errors, token_ttl=token_ttl)

    # CNI --------------------------------------------------------------------------------------------------
    def _cni_installed(self, cluster: Any) -> str | None:
        try:
            for ds in cluster.client.list("daemonsets", None).get("items") or []:
                name = ds["metadata"]["name"]
                if name == "kube-flannel-ds":
                    return "flannel"
                if name == "calico-node":
                    return "calico"
        except (AivleError, OSError):
            return None
        return None

    def _install_cni(self, cni: str = "flannel") -> StepResult:
        from ..cluster.bootstrap import CNI_URLS

        self._planned = None
        if cni not in CNI_URLS:
            raise InvalidInput(f'unknown CNI plugin "{cni}": choose one of {", ".join(CNI_URLS)}')
        master = self.control_plane
        if master is None:
            raise Conflict("there is no control plane yet: run kubeadm init on the master first (the pod network "
                           "is installed with kubectl on the control plane)")
        installed = self._cni_installed(self.cluster)
        if installed and installed != cni:
            raise Conflict(f"{installed} is already the pod network of this cluster: one CNI plugin per cluster "
                           f"(to change it, kubeadm reset every machine and start again)")
        setup_lines, kubectl = self._kubectl(master)
        lines = [*setup_lines, f"{kubectl} apply -f {CNI_URLS[cni]}"]
        self._plan("\n".join(f"{_var(master.name)}.sh({ln!r})" for ln in lines), [(master, ln) for ln in lines])
        return StepResult("install_cni", master.name, lines, self._type(master, lines))

    def install_cni(self, cni: str = "flannel") -> StepResult:
        """``kubectl apply -f`` the flannel or calico manifest on the control plane (the Install CNI button)."""
        return self._call("install_cni", cni=cni)

    # tokens and join ------------------------------------------------------------------------------------
    @staticmethod
    def _discovery(master: Any) -> tuple[str, str]:
        """The API server endpoint and the CA pin (``sha256:<spki hash>``) from the control plane's admin.conf."""
        from ..cluster import pki
        from ..cluster.kubeconfig import parse

        kc = parse(master.fs.read_text(ADMIN_CONF))
        return kc.server.split("://", 1)[-1], pki.spki_sha256(kc.ca_pem)

    def _valid_token(self, master: Any) -> str:
        from ..cluster import kubeadm

        now = self.world.timestamp()
        live = [t for t in kubeadm.list_tokens(master)
                if t.get("usage-bootstrap-authentication") == "true" and (not t.get("expiration")
                                                                          or t["expiration"] > now)]
        if not live:
            raise Conflict(f"no valid bootstrap token left on {master.name} (tokens expire after 24 h): make a new "
                           f"one with `kubeadm token create --print-join-command` (New token)")
        best = max(live, key=lambda t: t.get("expiration") or "9999")
        return f"{best['token-id']}.{best['token-secret']}"

    def _join(self, machine: str, token: str = "") -> StepResult:
        self._planned = None
        m = self._machine(machine)
        master = self.control_plane
        if master is None:
            raise Conflict("there is no control plane to join yet: run kubeadm init on the master first")
        if master is m:
            raise Conflict(f"{m.name} is the control plane itself: join the other machines (the workers) to it")
        endpoint, ca_hash = self._discovery(master)
        token = (token or "").strip() or self._valid_token(master)
        line = (f"sudo kubeadm join {endpoint} --token {shlex.quote(token)} --discovery-token-ca-cert-hash {ca_hash}"
                + self._cri_flag(m))
        self._plan(f"{_var(m.name)}.sh({line!r})", [(m, line)])
        r = m.sh(line)
        phases = phases_of(JOIN_PHASES, r.output, r.ok)
        self._set_progress(f"kubeadm join on {m.name}", phases)
        if not r.ok:
            raise _kubeadm_error(m, line, r, phases)
        return StepResult("join", m.name, [line], f"$ {line}\n{r.output}", phases)

    def join(self, machine: str, token: str = "") -> StepResult:
        """``sudo kubeadm join`` ``machine`` to the cluster (the Join button); ``token`` defaults to the newest
        valid bootstrap token (the one ``kubeadm init`` or ``kubeadm token create`` printed)."""
        return self._call("join", machine=machine, token=token)

    def _create_token(self, ttl: str = "24h") -> StepResult:
        self._planned = None
        master = self.control_plane
        if master is None:
            raise Conflict("there is no control plane yet: run kubeadm init on the master first")
        line = "sudo kubeadm token create --print-join-command" + (f" --ttl {shlex.quote(str(ttl))}"
                                                                   if ttl and ttl != "24h" else "")
        self._plan(f"{_var(master.name)}.sh({line!r})", [(master, line)])
        r = master.sh(line)
        if not r.ok:
            raise _kubeadm_error(master, line, r, [])
        return StepResult("create_token", master.name, [line], f"$ {line}\n{r.output}",
                          join_command=r.stdout.strip())

    def create_token(self, ttl: str = "24h") -> StepResult:
        """``kubeadm token create --print-join-command`` on the control plane (the New token button)."""
        return self._call("create_token", ttl=ttl)

    # reset ------------------------------------------------------------------------------------------------
    def _reset(self, machine: str) -> StepResult:
        self._planned = None
        m = self._machine(machine)
        master = self.control_plane
        typed: list[tuple[Any, str]] = []
        if master is not None and master is not m:
            cluster = self.cluster
            try:
                registered = cluster is not None and cluster.nodes.exists(m.hostname, None)
            except (AivleError, OSError):
                registered = False
            if registered:  # as the docs say: remove the node from the cluster, then reset the machine
                setup_lines, kubectl = self._kubectl(master)
                typed += [(master, ln) for ln in setup_lines] + [(master, f"{kubectl} delete node {m.hostname}")]
        typed.append((m, "sudo kubeadm reset -f"))
        if master is m:
            typed.append((m, "rm -f $HOME/.kube/config"))  # kubeadm reset does not clean kubeconfig files
        self._plan("\n".join(f"{_var(x.name)}.sh({ln!r})" for x, ln in typed), typed)
        transcript = ""
        for x, ln in typed:
            if ln.startswith("sudo kubeadm"):
                r = x.sh(ln)
                if not r.ok:
                    raise _kubeadm_error(x, ln, r, [])
                transcript += f"$ {ln}\n{r.output}"
            else:
                transcript += self._type(x, [ln])
        self._set_progress("", [])
        return StepResult("reset", m.name, [ln for _, ln in typed], transcript)

    def reset(self, machine: str) -> StepResult:
        """``sudo kubeadm reset -f`` on ``machine`` (a worker is deleted from the cluster first)."""
        return self._call("reset", machine=machine)

    # -- the view ---------------------------------------------------------------------------------------------
    def _controls(self) -> list:
        from ..cluster.setup import KUBERNETES_VERSIONS, RUNTIMES

        def button(label: str, icon: str, fn: Any, style: str = "") -> W.Button:
            b = W.Button(description=label, icon=icon, button_style=style, layout=W.Layout(width="auto"))
            b.on_click(self.callback(lambda _: fn()))
            return b

        short = W.Layout(width="16em")
        self.machine_select = W.Dropdown(options=self.names, value=self.names[0], description="machine", layout=short)
        self.prepare_button = button("Prepare", "wrench", self.click_prepare)
        self.runtime_select = W.Dropdown(options=[(RUNTIME_LABELS[r], r) for r in RUNTIMES], value="containerd",
                                         layout=W.Layout(width="15em"))
        self.runtime_button = button("Install runtime", "cube", self.click_install_runtime)
        self.version_select = W.Dropdown(options=list(KUBERNETES_VERSIONS), value="1.30", layout=W.Layout(width="6em"))
        self.kubernetes_button = button("Install Kubernetes", "download", self.click_install_kubernetes)
        self.cidr = W.Text(value=CNI_POD_CIDRS["flannel"], description="pod CIDR", layout=short)
        self.init_button = button("kubeadm init", "play", self.click_init, "primary")
        self.cni_select = W.Dropdown(options=[("flannel", "flannel"), ("Calico", "calico")], value="flannel",
                                     layout=W.Layout(width="8em"))
        self.cni_select.observe(self.callback(self._cni_changed), names="value")
        self.cni_button = button("Install CNI", "sitemap", self.click_install_cni)
        self.token = W.Text(value="", description="token", placeholder="(newest valid token)", layout=short)
        self.join_button = button("kubeadm join", "link", self.click_join, "primary")
        self.token_button = button("New token", "key", self.click_create_token)
        self.reset_button = button("kubeadm reset", "undo", self.click_reset, "warning")
        self.progress = W.IntProgress(value=0, min=0, max=len(INIT_PHASES), description="",
                                      layout=W.Layout(width="40%"))
        self.progress_label = W.HTML("")
        self.phase_view = W.HTML("")
        self.cards = W.HTML("")
        return [
            W.HBox([self.machine_select, self.prepare_button, self.runtime_select, self.runtime_button,
                    self.version_select, self.kubernetes_button], layout=W.Layout(flex_flow="row wrap")),
            W.HBox([self.cidr, self.init_button, self.cni_select, self.cni_button],
                   layout=W.Layout(flex_flow="row wrap")),
            W.HBox([self.token, self.join_button, self.token_button, self.reset_button],
                   layout=W.Layout(flex_flow="row wrap")),
            W.HBox([self.progress_label, self.progress]),
            self.phase_view,
            self.cards,
        ]

    def _cni_changed(self, change: dict) -> None:
        if self.cidr.value in CNI_POD_CIDRS.values():
            self.cidr.value = CNI_POD_CIDRS[change["new"]]

    def _set_progress(self, title: str, phases: list[tuple[str, str]]) -> None:
        if not hasattr(self, "progress"):
            return
        if not phases:
            self.progress.value, self.progress_label.value, self.phase_view.value = 0, "", ""
            self.progress.bar_style = ""
            return
        done = sum(1 for _, s in phases if s == "done")
        failed = any(s == "failed" for _, s in phases)
        self.progress.max = len(phases)
        self.progress.value = done
        self.progress.bar_style = "danger" if failed else "success"
        self.progress_label.value = f"<b>{html.escape(title)}</b>&nbsp;{done}/{len(phases)} phases&nbsp;"
        marks = {"done": ("✔", "#1a7f37"), "failed": ("✘", "#cf222e"), "todo": ("·", "#8c959f")}
        self.phase_view.value = "<div style='display:flex;flex-wrap:wrap;gap:0 1em'>" + "".join(
            f"<span style='color:{marks[s][1]}'>{marks[s][0]} <code>{html.escape(p)}</code></span>"
            for p, s in phases) + "</div>"

    # clicks (button callbacks; also callable from tests) ---------------------------------------------------
    def click_prepare(self) -> ActionOutcome:
        return self.perform("prepare", machine=self.machine_select.value)

    def click_install_runtime(self) -> ActionOutcome:
        return self.perform("install_runtime", machine=self.machine_select.value, runtime=self.runtime_select.value)

    def click_install_kubernetes(self) -> ActionOutcome:
        return self.perform("install_kubernetes", machine=self.machine_select.value,
                            version=self.version_select.value)

    def click_init(self) -> ActionOutcome:
        return self.perform("init", machine=self.machine_select.value, pod_network_cidr=self.cidr.value.strip())

    def click_install_cni(self) -> ActionOutcome:
        return self.perform("install_cni", cni=self.cni_select.value)

    def click_join(self) -> ActionOutcome:
        return self.perform("join", machine=self.machine_select.value, token=self.token.value.strip())

    def click_create_token(self) -> ActionOutcome:
        return self.perform("create_token")

    def click_reset(self) -> ActionOutcome:
        return self.perform("reset", machine=self.machine_select.value)

    # rendering -----------------------------------------------------------------------------------------------
    def _render(self, outcome: ActionOutcome) -> str:
        r = outcome.result
        if isinstance(r, StepResult):
            out = _pre(r.output.rstrip("\n"), "max-height:24em;overflow:auto")
            if r.join_command:
                out += (f"<div>join command (run it on each worker as root):</div>"
                        f"{_pre(r.join_command, 'background:#dafbe1;padding:2px 4px')}")
            return out
        return super()._render(outcome)

    def text_of(self, outcome: ActionOutcome) -> str:
        if outcome.ok and isinstance(outcome.result, StepResult):
            return outcome.result.output
        return super().text_of(outcome)

    def _error_html(self, error: BaseException) -> str:
        # what the terminal printed before the error (the phases that ran, earlier command lines)
        shown = (getattr(error, "output", "") or "") if isinstance(error, AivleError) else ""
        head = _pre(shown.rstrip("\n"), "color:#555;max-height:18em;overflow:auto") if shown else ""
        return head + super()._error_html(error)

    def refresh(self) -> None:
        """Redraw the machine cards from the world."""
        if not hasattr(self, "cards"):
            return
        self.cards.value = self.cards_html(self.state())

    def cards_html(self, state: dict) -> str:
        """One card per machine (HTML) for a :meth:`state`."""
        ok, bad, todo = "#1a7f37", "#cf222e", "#8c959f"

        def row(mark: str, colour: str, text: str) -> str:
            return f"<div style='color:{colour}'>{mark} {text}</div>"

        cards = []
        for name, st in state.items():
            rows = []
            if st["prepared"]:
                rows.append(row("✔", ok, "prepared <small>(swap off, overlay, br_netfilter, ip_forward)</small>"))
            else:
                missing = ([] if st["swap_off"] else ["swap on"]) + \
                    [f"no {m}" for m in ("overlay", "br_netfilter") if m not in st["modules"]] + \
                    ([] if st["ip_forward"] else ["ip_forward 0"])
                rows.append(row("✘", bad, "not prepared <small>(" + html.escape(", ".join(missing)) + ")</small>"))
            if st["runtime"]:
                fine = st["cgroup_driver"] == "systemd"
                rows.append(row("✔" if fine else "⚠", ok if fine else bad,
                                f"{html.escape(RUNTIME_LABELS.get(st['runtime'], st['runtime']))} "
                                f"<small>(cgroup driver {html.escape(st['cgroup_driver'] or '?')})</small>"))
            else:
                rows.append(row("·", todo, "no container runtime"))
            if st["kubernetes"]:
                rows.append(row("✔", ok, f"kubeadm / kubelet / kubectl {html.escape(st['kubernetes'])}"))
            else:
                rows.append(row("·", todo, "no Kubernetes packages"))
            if st["kubelet"]:
                kubelet = st["kubelet"]
                note = " <small>(restarts until kubeadm init/join configures it)</small>" \
                    if kubelet == "activating" and not st["role"] else ""
                rows.append(row("●", ok if kubelet == "active" else todo, f"kubelet {html.escape(kubelet)}{note}"))
            if st["role"]:
                node = st["node"] or "not registered"
                colour = ok if node == "Ready" else bad
                rows.append(f"<div><b>{html.escape(st['role'])}</b> "
                            f"<span style='color:{colour}'>{html.escape(node)}</span></div>")
            else:
                rows.append(row("·", todo, "not in a cluster"))
            cards.append(f"<div style='border:1px solid #ddd;border-radius:6px;padding:6px;margin:4px;"
                         f"min-width:16em'><b>{html.escape(name)}</b>{''.join(rows)}</div>")
        return "<div style='display:flex;flex-wrap:wrap'>" + "".join(cards) + "</div>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        self.refresh()
        return super()._repr_mimebundle_(**kwargs)
