"""The request tracer (lab 5): apply a manifest and watch every component handle it.

::

    ┌ Request tracer: follow one kubectl apply ───────────────────────────────┐
    │ example [Deployment nginx x2 v]                                         │
    │ [manifest editor                                                  ]     │
    │ [Apply & trace]   view (•) by component ( ) timeline   [ ] details     │
    │ ✔ apply                                                                 │
    │ Python   trace.follow(cluster, manifest)  /  Terminal  $ kubectl apply… │
    │ ┌ client ┐ ┌ master ─────────────────────┐ ┌ worker-1 ───────────────┐  │
    │ │kubectl │ │ kube-apiserver · etcd ·     │ │ kubelet · runtime ·     │  │
    │ │        │ │ controller-manager · sched. │ │ kube-proxy              │  │
    │ └────────┘ └─────────────────────────────┘ └─────────────────────────┘  │
    └─────────────────────────────────────────────────────────────────────────┘

The button calls :func:`aivle_k8s.cluster.trace.follow` (``kubectl apply -f -`` as the admin, then
simulated time passes until the cluster is quiet) and draws the :class:`~aivle_k8s.cluster.trace.Trace`
grouped by machine and component (or as one timeline), with simulated timestamps. A manifest the API
server refuses is not an error of the widget: the trace shows where it was refused and that etcd's
revision stayed put. Action (journal name and arguments): ``apply(manifest)``.

>>> import aivle_k8s as ak
>>> from aivle_k8s.cluster.bootstrap import build_cluster
>>> world = ak.World(seed=0)
>>> cluster = build_cluster(world)
>>> tracer = RequestTracer(cluster, journal=False)
>>> tracer.perform("apply", manifest=PRESETS["Invalid Deployment (no selector)"]).result.rejected
True
>>> tracer
RequestTracer(traces=1, last='kubectl apply -f -' rejected)
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W

from ..sim.errors import InvalidInput
from .base import ActionOutcome, ActionWidget, _pre

__all__ = ["RequestTracer", "PRESETS"]

PRESETS: dict[str, str] = {
    "Deployment nginx x2": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
spec:
  replicas: 2
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
""",
    "Service for nginx": """\
apiVersion: v1
kind: Service
metadata:
  name: nginx
spec:
  selector:
    app: nginx
  ports:
  - port: 80
    targetPort: 80
""",
    "Invalid Deployment (no selector)": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: broken
spec:
  replicas: 2
  template:
    metadata:
      labels:
        app: broken
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
""",
    "Invalid Pod (misspelt field)": """\
apiVersion: v1
kind: Pod
metadata:
  name: typo
spec:
  containers:
  - name: nginx
    image: nginx:1.25
    port:
    - containerPort: 80
""",
    "Pod too big for any node": """\
apiVersion: v1
kind: Pod
metadata:
  name: huge
spec:
  containers:
  - name: app
    image: nginx:1.25
    resources:
      requests:
        cpu: "3"
""",
}

_COLORS = {"kubectl": "#6e7781", "kube-apiserver": "#0969da", "etcd": "#8250df", "kube-controller-manager": "#bf8700",
           "kube-scheduler": "#1a7f37", "kubelet": "#cf222e", "container runtime": "#953800", "kube-proxy": "#1b7c83"}


class RequestTracer(ActionWidget):
    """Apply a manifest and show what every component did with it.

    Args:
        cluster: the :class:`~aivle_k8s.cluster.cluster.Cluster` (or the world holding it).
        manifest: the editor's initial text (default: the first preset).
        quiet: simulated seconds without news that end a trace (see :func:`~aivle_k8s.cluster.trace.follow`).
        lab, journal, name: see :class:`~aivle_k8s.widgets.base.ActionWidget`.
        var: the Python name of the cluster shown in the equivalent code.
    """

    kind = "request-tracer"
    title = "Request tracer: follow one kubectl apply through every component"
    hints = [
        ("strict decoding error", "A field name is misspelt or misplaced: compare it with `kubectl explain <kind>` "
                                  "(the API server only accepts fields of the schema)."),
        ("is invalid", "The API server's validation named the field above: fix it and apply again."),
        ("no matches for kind", "Check apiVersion and kind (Deployment is apps/v1, Pod and Service are v1)."),
        ("error converting yaml", "The YAML does not parse: check the indentation (spaces, not tabs)."),
        ("manifest is empty", "Pick an example or write a manifest first."),
    ]

    def __init__(self, cluster: Any, *, manifest: str | None = None, quiet: float = 3.0, lab: str | None = None,
                 journal: Any = None, name: str | None = None, var: str = "cluster"):
        from ..cluster.trace import cluster_of

        self.cluster = cluster_of(cluster)
        self.world = self.cluster.world
        self.quiet = float(quiet)
        self.var = var
        self.traces: list[Any] = []
        self._initial = manifest if manifest is not None else PRESETS["Deployment nginx x2"]
        super().__init__(lab=lab, journal=journal, name=name)
        if self.traces and self.replay_error is None:
            self._show_trace(self.traces[-1])

    def world_of(self) -> Any:
        return self.world

    def __repr__(self) -> str:
        last = self.last_trace
        tail = "" if last is None else f", last={last.action!r} {'rejected' if last.rejected else 'ok'}"
        return f"RequestTracer(traces={len(self.traces)}{tail})"

    @property
    def last_trace(self) -> Any:
        """The most recent trace (replayed ones included), or None."""
        return self.traces[-1] if self.traces else None

    def trace_of(self, kind: str, name: str) -> Any:
        """The latest trace whose manifest created ``kind``/``name`` (``"Deployment", "web"``), else the latest
        that changed it, else None."""
        from ..cluster.apiserver.resources import resolve

        try:
            plural = resolve(kind).plural
        except Exception:  # noqa: BLE001 - an unknown kind was never traced
            return None
        for t in reversed(self.traces):  # the apply that created it first, then any that changed it
            if any(r == plural and n == name for r, _, n in t.created):
                return t
        for t in reversed(self.traces):
            if any(r == plural and n == name for r, _, n in t.objects):
                return t
        return None

    # -- the model --------------------------------------------------------------------------------------
    def _register(self) -> None:
        self.action("apply", self._apply, self._apply_cmd)

    def _apply(self, manifest: str) -> Any:
        from ..cluster.trace import follow

        if not isinstance(manifest, str) or not manifest.strip():
            raise InvalidInput("the manifest is empty: write a Kubernetes object (apiVersion, kind, metadata, spec)")
        t = follow(self.cluster, manifest, quiet=self.quiet)
        self.traces.append(t)
        return t

    def _apply_cmd(self, manifest: str) -> tuple[str, str]:
        code = (f"from aivle_k8s.cluster import trace\n"
                f"t = trace.follow({self.var}, manifest)   # kubectl apply -f - ... then time passes\n"
                f"print(t.timeline())")
        return code, "kubectl apply -f - <<'EOF'\n" + manifest.rstrip("\n") + "\nEOF"

    # -- the view ---------------------------------------------------------------------------------------
    def _controls(self) -> list:
        full = W.Layout(width="100%")
        self.preset = W.Dropdown(options=["(your manifest)", *PRESETS], value="(your manifest)", description="example")
        for k, v in PRESETS.items():
            if v == self._initial:
                self.preset.value = k
        self.editor = W.Textarea(value=self._initial, description="manifest", rows=14, layout=full)
        self.apply_button = W.Button(description="Apply & trace", button_style="primary", icon="search")
        self.apply_button.on_click(self.callback(lambda _: self.click_apply()))
        self.view = W.ToggleButtons(options=["by component", "timeline"], value="by component", description="view")
        self.show_details = W.Checkbox(value=False, description="details", indent=False)
        self.preset.observe(self.callback(self._preset_changed), names="value")
        self.view.observe(self.callback(lambda _: self._redraw()), names="value")
        self.show_details.observe(self.callback(lambda _: self._redraw()), names="value")
        return [self.preset, self.editor, W.HBox([self.apply_button, self.view, self.show_details])]

    def _preset_changed(self, change: dict) -> None:
        text = PRESETS.get(change.get("new"))
        if text is not None:
            self.editor.value = text

    def click_apply(self) -> ActionOutcome:
        return self.perform("apply", manifest=self.editor.value)

    def _redraw(self) -> None:
        if self.last_trace is not None:
            self._show_trace(self.last_trace)

    def _show_trace(self, t: Any) -> None:
        self._set_output(self.trace_html(t), t.timeline())

    def _render(self, outcome: ActionOutcome) -> str:
        if outcome.action == "apply":
            return self.trace_html(outcome.result)
        return super()._render(outcome)

    def text_of(self, outcome: ActionOutcome) -> str:
        if outcome.ok and outcome.action == "apply":
            return outcome.result.timeline()
        return super().text_of(outcome)

    # -- drawing a trace ----------------------------------------------------------------------------------
    def trace_html(self, t: Any) -> str:
        """The trace as HTML: a verdict line, then the steps by machine and component (or a timeline)."""
        head = self._verdict(t)
        view = getattr(getattr(self, "view", None), "value", "by component")
        details = bool(getattr(getattr(self, "show_details", None), "value", False))
        body = self._timeline_html(t, details) if view == "timeline" else self._grouped_html(t, details)
        return head + body

    def _verdict(self, t: Any) -> str:
        span = t.finished - t.started
        if t.rejected:
            rej = t.rejection
            where = (f"kube-apiserver refused it at <b>{html.escape(rej.phase)}</b> ({html.escape(rej.status_text)})"
                     if rej is not None else "kubectl stopped before sending it")
            err = (t.error or "").strip()
            return (f"<div style='color:#cf222e'>✘ {where}; etcd revision stays "
                    f"<b>{t.revision_before}</b> (after: {t.revision_after})</div>" + (_pre(err, "color:#cf222e")
                                                                                     if err else ""))
        writes = sum(1 for s in t.steps if s.component == "etcd" and s.revision is not None)
        placed = ", ".join(f"{html.escape(p)} → {html.escape(n)}" for p, n in t.scheduled.items())
        return (f"<div style='color:#1a7f37'>✔ <code>{html.escape(t.action)}</code>: {len(t.steps)} steps by "
                f"{len(t.components())} components over {span:.3f} simulated s; etcd revision "
                f"{t.revision_before} → {t.revision_end} ({writes} writes followed)</div>"
                + (f"<div><small>scheduled: {placed}</small></div>" if placed else "")
                + (_pre(t.output.rstrip(), "color:#555") if t.output.strip() else ""))

    def _step_html(self, t: Any, s: Any, details: bool) -> str:
        color = "#cf222e" if not s.ok else "#24292f"
        actor = f" <small style='color:#6e7781'>[{html.escape(s.actor)}]</small>" if s.actor else ""
        out = (f"<div style='margin:1px 0;color:{color}'><code style='color:#6e7781'>#{s.seq:<3} "
               f"{s.time - t.started:+.3f}s</code>{actor} {html.escape(s.action)}</div>")
        if details and s.details:
            out += "".join(f"<div style='margin-left:7em;color:#57606a'><small>{html.escape(d)}</small></div>"
                           for d in s.details)
        return out

    def _box(self, title: str, color: str, inner: str) -> str:
        return (f"<div style='border:1px solid {color};border-radius:4px;margin:3px;padding:3px;flex:1 1 30%;"
                f"min-width:22em'><div style='font-weight:bold;color:{color}'>{html.escape(title)}</div>{inner}</div>")

    def _grouped_html(self, t: Any, details: bool) -> str:
        by_node = t.by_node()
        boxes = []
        for node, comps in by_node.items():
            inner = ""
            for comp, steps in comps.items():
                color = _COLORS.get(comp, "#24292f")
                inner += (f"<div style='margin-top:3px'><span style='color:{color};font-weight:bold'>"
                          f"{html.escape(comp)}</span> <small>({len(steps)})</small></div>"
                          + "".join(self._step_html(t, s, details) for s in steps))
            roles = {s.role for c in comps.values() for s in c}
            role = "master (control plane)" if "master" in roles else ("client" if roles == {"client"} else "worker")
            if "master" in roles and "client" in roles:
                role = "master (control plane; kubectl runs here too)"
            boxes.append(self._box(f"{node} — {role}", "#57606a", inner))
        return ("<div style='display:flex;flex-wrap:wrap;align-items:flex-start'>" + "".join(boxes) + "</div>"
                "<small>#n is the order in which things happened; many steps share one simulated instant.</small>")

    def _timeline_html(self, t: Any, details: bool) -> str:
        rows = []
        for s in t.steps:
            color = _COLORS.get(s.component, "#24292f")
            det = ("<br>" + "<br>".join(f"<small style='color:#57606a'>{html.escape(d)}</small>" for d in s.details)
                   if details and s.details else "")
            rows.append(f"<tr style='{'' if s.ok else 'color:#cf222e'}'><td><code>{s.seq}</code></td>"
                        f"<td><code>{s.time - t.started:+.3f}s</code></td><td>{html.escape(s.node)}</td>"
                        f"<td style='color:{color}'>{html.escape(s.component)}</td>"
                        f"<td>{html.escape(s.actor)}</td><td style='text-align:left'>{html.escape(s.action)}{det}"
                        f"</td></tr>")
        return ("<table><tr><th>#</th><th>time</th><th>node</th><th>component</th><th>actor</th><th>what</th></tr>"
                + "".join(rows) + "</table>")
