"""The cluster view (labs 5-7): the control plane, the nodes and the pods on them, and the clock.

::

    ┌ Cluster view: master (t = 112 s) ─────────────────────────────────────────┐
    │ [+1 s] [+10 s] [+60 s] [run until settled]                                 │
    │ control plane on master: etcd ● Running  kube-apiserver ● Running  ...      │
    │ ┌ master ───────────────┐ ┌ worker-1 ────────────┐ ┌ worker-2 ───────────┐ │
    │ │ Ready  control-plane  │ │ Ready  <none>        │ │ NotReady  <none>    │ │
    │ │ taint control-plane:… │ │                      │ │ taint not-ready:…   │ │
    │ │ ● etcd-master         │ │ ● kube-proxy-zwp2w   │ │ ● kube-proxy-98459  │ │
    │ │ ● coredns-…           │ │ ● web-7c…            │ │ ● web-9f… Pending   │ │
    │ └───────────────────────┘ └──────────────────────┘ └─────────────────────┘ │
    └────────────────────────────────────────────────────────────────────────────┘

Everything drawn is read from the world at drawing time — the API server (nodes, pods)
and, when the API server does not answer, the master's container runtime (what
``crictl ps`` shows) — so the view never needs to be told what changed. Drawing only
reads: it never advances the clock. Time passes only through the clock buttons, which
are actions (journal name ``advance``, arguments ``seconds`` and ``until``), so
autograding replays them like any click.

Pods are coloured by what ``kubectl get pods`` prints in STATUS: Running green,
Pending / ContainerCreating / Init yellow, Failed / Error / CrashLoopBackOff /
ImagePullBackOff red, Terminating grey, Completed blue.

>>> import aivle_k8s as ak
>>> from aivle_k8s.cluster.bootstrap import build_cluster
>>> world = ak.World(seed=0)
>>> cluster = build_cluster(world)
>>> view = ClusterView(world, journal=False)
>>> view
ClusterView(control plane on master: master=Ready, worker-1=Ready, worker-2=Ready; 12 pods)
>>> view.perform("advance", seconds=10).ok, world.now > 10
(True, True)
"""

from __future__ import annotations

import html
from typing import Any, Iterable

import ipywidgets as W

from ..sim.errors import AivleError, InvalidInput
from .base import ActionOutcome, ActionWidget, _pre

__all__ = ["ClusterView", "find_control_plane", "cluster_of", "pod_colour", "CONTROL_PLANE"]

CONTROL_PLANE = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
ADMIN_CONF = "/etc/kubernetes/admin.conf"

# kubectl STATUS -> colour name (and the CSS colour it is drawn with)
_COLOURS = {"green": "#1a7f37", "yellow": "#bf8700", "red": "#cf222e", "grey": "#8c959f", "blue": "#0969da"}
_RED = ("Failed", "Error", "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "OOMKilled", "InvalidImageName",
        "CreateContainerConfigError", "CreateContainerError", "RunContainerError", "Evicted", "Unknown",
        "NodeLost", "ContainerStatusUnknown")
_YELLOW = ("Pending", "ContainerCreating", "PodInitializing", "NotReady")


def pod_colour(status: str) -> str:
    """The colour a pod is drawn with, from its kubectl STATUS.

    >>> [pod_colour(s) for s in ("Running", "Pending", "CrashLoopBackOff", "Terminating", "Completed", "Init:0/1")]
    ['green', 'yellow', 'red', 'grey', 'blue', 'yellow']
    """
    if status == "Running":
        return "green"
    if status == "Terminating":
        return "grey"
    if status in ("Completed", "Succeeded"):
        return "blue"
    if status in _RED or status.startswith(("Init:Error", "Init:CrashLoopBackOff", "Init:ImagePull", "Init:ErrImage",
                                            "Init:ExitCode", "Init:Signal", "ExitCode:", "Signal:")):
        return "red"
    if status in _YELLOW or status.startswith("Init:"):
        return "yellow"
    return "yellow"


def find_control_plane(world: Any, prefer: Iterable[str] = ()) -> Any:
    """The machine that ran ``kubeadm init`` (it holds ``/etc/kubernetes/admin.conf``), or None.

    Machines named in ``prefer`` are looked at first, then every machine of the world in
    creation order.
    """
    names = list(dict.fromkeys([*prefer, *getattr(world, "machines", {})]))
    for name in names:
        m = world.machines.get(name)
        if m is None:
            continue
        try:
            if m.fs.exists(ADMIN_CONF):
                return m
        except (AivleError, AttributeError):
            continue
    return None


def cluster_of(world: Any, prefer: Iterable[str] = ()) -> Any:
    """The admin's :class:`~aivle_k8s.cluster.cluster.Cluster` of the world's control plane, or None.

    Made afresh from ``admin.conf`` on every call (about 2 ms), so a ``kubeadm reset`` followed by a
    new ``kubeadm init`` (a new CA) is simply the new cluster.
    """
    from ..cluster.cluster import Cluster

    master = find_control_plane(world, prefer)
    return Cluster(world, master) if master is not None else None


def _runtime_states(master: Any) -> dict[str, str]:
    """Control-plane container states on the master as ``crictl ps -a`` shows them (newest first)."""
    from ..cluster.runtimes import runtime_for

    out: dict[str, str] = {}
    try:
        containers = runtime_for(master).list_containers()
    except (AivleError, AttributeError, TypeError):
        return out
    for c in containers:
        name = c.metadata.name
        if name in CONTROL_PLANE and name not in out:
            state = str(c.state).replace("CONTAINER_", "").lower()
            out[name] = {"running": "Running", "exited": "Exited", "created": "Created"}.get(state, state)
    return out


def _taint(t: dict) -> str:
    value = t.get("value")
    return f"{t.get('key', '')}{'=' + value if value else ''}:{t.get('effect', '')}"


class ClusterView(ActionWidget):
    """A live picture of one cluster and the clock controls.

    Args:
        world: the lab's world.
        cluster: the :class:`~aivle_k8s.cluster.cluster.Cluster` to draw; by default the world's
            control plane is found (the machine that ran ``kubeadm init``), also later: a view made
            before ``kubeadm init`` starts drawing once there is a cluster.
        lab, journal, name: see :class:`~aivle_k8s.widgets.base.ActionWidget`.
        settle_timeout: the longest "run until settled" lets time run (simulated seconds).
    """

    kind = "cluster-view"
    title = "Cluster view"
    hints = [
        ("seconds must be", "Advance by a positive number of seconds, e.g. 10."),
        ("did not settle", "Something keeps changing (a crash loop? a node down?): look at the red pods "
                           "and at `kubectl get events -A`."),
    ]

    def __init__(self, world: Any, cluster: Any = None, *, lab: str | None = None, journal: Any = None,
                 name: str | None = None, settle_timeout: float = 300.0):
        self.world = world
        self._given = cluster
        self.settle_timeout = float(settle_timeout)
        super().__init__(lab=lab, journal=journal, name=name)

    def world_of(self) -> Any:
        return self.world

    @property
    def cluster(self) -> Any:
        """The cluster drawn (the one given, or the world's control plane; None before kubeadm init)."""
        if self._given is not None:
            return self._given
        return cluster_of(self.world)

    def __repr__(self) -> str:
        snap = self.snapshot()
        if snap["master"] is None:
            return "ClusterView(no cluster yet)"
        if snap["error"]:
            return f"ClusterView(control plane on {snap['master']}: API server not answering)"
        nodes = ", ".join(f"{n}={v['status']}" for n, v in snap["nodes"].items()) or "no nodes"
        pods = sum(len(v["pods"]) for v in snap["nodes"].values()) + len(snap["unscheduled"])
        return f"ClusterView(control plane on {snap['master']}: {nodes}; {pods} pods)"

    # -- actions: the clock ----------------------------------------------------------------------------
    def _register(self) -> None:
        self.action("advance", self._advance, self._advance_cmd)

    def _advance(self, seconds: float = 1, until: str | None = None) -> dict:
        try:
            seconds = float(seconds)
        except (TypeError, ValueError):
            raise InvalidInput(f"seconds must be a number, not {seconds!r}") from None
        if seconds <= 0:
            raise InvalidInput(f"seconds must be positive, got {seconds:g}")
        if until not in (None, "settled"):
            raise InvalidInput(f'until must be "settled" or None, not {until!r}')
        start = self.world.now
        if until == "settled":
            settled = False
            while self.world.now - start < seconds:
                if self.settled():
                    settled = True
                    break
                self.world.advance(min(1.0, seconds - (self.world.now - start)))
            settled = settled or self.settled()
            return {"from": start, "to": self.world.now, "settled": settled}
        self.world.advance(seconds)
        return {"from": start, "to": self.world.now, "settled": None}

    def _advance_cmd(self, seconds: float = 1, until: str | None = None) -> tuple[str, str]:
        if until == "settled":
            return (f"for _ in range({int(float(seconds))}):  # until every node is Ready and every pod settled\n"
                    f"    if view.settled():\n        break\n    world.advance(1)", "")
        return f"world.advance({seconds!r})", ""

    def advance(self, seconds: float = 1) -> dict:
        """Let ``seconds`` of simulated time pass (like the +N s buttons, but not journaled: code re-runs)."""
        return self._call("advance", seconds=seconds)

    def run_until_settled(self, timeout: float | None = None) -> dict:
        """Advance one second at a time until :meth:`settled` (at most ``timeout`` s); not journaled."""
        return self._call("advance", seconds=timeout or self.settle_timeout, until="settled")

    # -- reading the world ------------------------------------------------------------------------------
    def settled(self) -> bool:
        """Every node Ready and every pod Running or Completed (nothing Pending, creating or terminating)."""
        snap = self.snapshot()
        if snap["master"] is None or snap["error"]:
            return False
        if not snap["nodes"] or any(n["status"] != "Ready" for n in snap["nodes"].values()):
            return False
        if snap["unscheduled"]:
            return False
        return all(p["colour"] in ("green", "blue") for n in snap["nodes"].values() for p in n["pods"])

    def snapshot(self) -> dict:
        """What the view draws, as plain data (reads only; time does not move).

        ``{"time", "master", "error", "control_plane": {component: status},
        "nodes": {name: {"status", "roles", "taints", "pods": [{"name", "namespace", "status",
        "colour"}]}}, "unscheduled": [pods]}``
        """
        snap: dict[str, Any] = {"time": self.world.now, "master": None, "error": None,
                                "control_plane": {}, "nodes": {}, "unscheduled": []}
        cluster = self.cluster
        if cluster is None:
            return snap
        master = cluster.machine
        snap["master"] = master.name if master is not None else None
        from ..cluster.kubectl import printers as P

        try:
            client = cluster.client
            nodes = client.list("nodes").get("items") or []
            pods = client.list("pods", None).get("items") or []
        except (AivleError, OSError) as e:
            snap["error"] = f"the API server does not answer: {e}"
            if master is not None:
                states = _runtime_states(master)
                snap["control_plane"] = {c: states.get(c, "not running") for c in CONTROL_PLANE}
            return snap
        for n in sorted(nodes, key=lambda n: n["metadata"]["name"]):
            roles = P.node_roles(n)
            snap["nodes"][n["metadata"]["name"]] = {
                "status": P.node_status(n),
                "roles": [] if roles == "<none>" else roles.split(","),
                "taints": [_taint(t) for t in (n.get("spec") or {}).get("taints") or []],
                "pods": [],
            }
        mirror: dict[str, str] = {}
        for p in sorted(pods, key=lambda p: (p["metadata"].get("namespace", ""), p["metadata"]["name"])):
            meta, spec = p["metadata"], p.get("spec") or {}
            status = P.pod_status(p)[0]
            entry = {"name": meta["name"], "namespace": meta.get("namespace", ""), "status": status,
                     "colour": pod_colour(status)}
            node = spec.get("nodeName")
            component = (meta.get("labels") or {}).get("component")
            if meta.get("namespace") == "kube-system" and component in CONTROL_PLANE and node == snap["master"]:
                mirror[component] = status
            if node in snap["nodes"]:
                snap["nodes"][node]["pods"].append(entry)
            else:
                snap["unscheduled"].append(entry)
        runtime = _runtime_states(master) if master is not None and len(mirror) < len(CONTROL_PLANE) else {}
        snap["control_plane"] = {c: mirror.get(c) or runtime.get(c, "not running") for c in CONTROL_PLANE}
        return snap

    # -- the view -----------------------------------------------------------------------------------------
    def _controls(self) -> list:
        buttons = []
        for label, seconds in (("+1 s", 1), ("+10 s", 10), ("+60 s", 60)):
            b = W.Button(description=label, icon="clock", layout=W.Layout(width="auto"))
            b.on_click(self.callback(lambda _, s=seconds: self.perform("advance", seconds=s)))
            buttons.append(b)
        self.settle_button = W.Button(description="run until settled", icon="forward", layout=W.Layout(width="auto"))
        self.settle_button.on_click(self.callback(
            lambda _: self.perform("advance", seconds=self.settle_timeout, until="settled")))
        self.advance_buttons = buttons
        self.refresh_button = W.Button(description="refresh", icon="refresh", layout=W.Layout(width="auto"))
        self.refresh_button.on_click(self.callback(lambda _: self.refresh()))
        self.picture = W.HTML("")
        return [W.HBox([*buttons, self.settle_button, self.refresh_button]), self.picture]

    def _render(self, outcome: ActionOutcome) -> str:
        return _pre(self.text_of(outcome))

    def text_of(self, outcome: ActionOutcome) -> str:
        if not outcome.ok or outcome.action != "advance":
            return super().text_of(outcome)
        r = outcome.result
        text = f"t = {r['from']:g} s -> {r['to']:g} s"
        if r["settled"] is True:
            text += " (settled: every node Ready, every pod Running)"
        elif r["settled"] is False:
            text += " (not settled yet)"
        return text

    def refresh(self) -> None:
        """Redraw from the world (reads only)."""
        if not hasattr(self, "picture"):
            return
        snap = self.snapshot()
        head = f"<b>{html.escape(self.title)}</b>"
        if snap["master"] is not None:
            head += f": control plane on {html.escape(snap['master'])} (t = {snap['time']:g} s)"
        self.header.value = head
        self.picture.value = self.to_html(snap)

    def to_html(self, snap: dict) -> str:
        """The picture of a :meth:`snapshot` (HTML)."""
        if snap["master"] is None:
            return "<i>No cluster yet: run <code>kubeadm init</code> on the master first.</i>"

        def dot(colour: str) -> str:
            return f'<span style="color:{_COLOURS.get(colour, "#555")}">●</span>'

        cp = "".join(
            f'<span style="margin-right:1em">{dot(pod_colour(st) if st != "not running" else "red")} '
            f"<code>{html.escape(c)}</code> {html.escape(st)}</span>" for c, st in snap["control_plane"].items())
        parts = [f"<div><small>control plane (static pods in /etc/kubernetes/manifests)</small><br>{cp}</div>"]
        if snap["error"]:
            parts.append(f'<div style="color:#cf222e">{html.escape(snap["error"])}</div>')
        cards = []
        for name, node in snap["nodes"].items():
            colour = "green" if node["status"] == "Ready" else "red"
            taints = "".join(f"<div><small>taint <code>{html.escape(t)}</code></small></div>" for t in node["taints"])
            pods = "".join(
                f'<div style="color:{_COLOURS[p["colour"]]}">● <small>{html.escape(p["namespace"])}/</small>'
                f'{html.escape(p["name"])} <small>{html.escape(p["status"])}</small></div>' for p in node["pods"])
            cards.append(
                f'<div style="border:1px solid #ddd;border-radius:6px;padding:6px;margin:4px;min-width:15em">'
                f"<b>{html.escape(name)}</b> "
                f'<span style="color:{_COLOURS[colour]}">{html.escape(node["status"])}</span> '
                f"<small>{html.escape(', '.join(node['roles']) or '<none>')}</small>{taints}"
                f"{pods or '<div><small>no pods</small></div>'}</div>")
        if snap["unscheduled"]:
            pods = "".join(f'<div style="color:{_COLOURS[p["colour"]]}">● {html.escape(p["namespace"])}/'
                           f'{html.escape(p["name"])} <small>{html.escape(p["status"])}</small></div>'
                           for p in snap["unscheduled"])
            cards.append(f'<div style="border:1px dashed #bf8700;border-radius:6px;padding:6px;margin:4px;'
                         f'min-width:15em"><b>not scheduled</b>{pods}</div>')
        parts.append('<div style="display:flex;flex-wrap:wrap">' + "".join(cards) + "</div>")
        return "".join(parts)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        self.refresh()
        return super()._repr_mimebundle_(**kwargs)
