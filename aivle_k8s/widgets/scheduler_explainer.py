"""The scheduler explainer (lab 5): why a pod goes to a node, or to none.

::

    ┌ Scheduler explainer ────────────────────────────────────────────────────┐
    │ pod [(new pod from the editor) v]                                       │
    │ [pod manifest editor                                            ]       │
    │ cpu [500m] memory [] nodeSelector [disktype=ssd] tolerations []         │
    │ [Explain]                                                               │
    │ NODE      NodeUnschedulable TaintToleration NodeResourcesFit ... TOTAL  │
    │ master    ok                NO (taint)      ·                    -      │
    │ worker-1  ok                ok              ok               ... 454 ★  │
    │ 0/3 nodes are available: ...   (when none fits)                         │
    └─────────────────────────────────────────────────────────────────────────┘

"Explain" runs kube-scheduler's own filter and score plugins
(:func:`aivle_k8s.cluster.trace.explain_scheduling`) for a pending pod, any existing pod (as if it
were new) or a new pod from the editor, on the cluster as it is now. The fields change the pod before
it is explained (what if it asked for more CPU? had this nodeSelector? tolerated that taint?): the
first container's ``resources.requests``, ``spec.nodeSelector`` (``key=value,...``) and
``spec.tolerations`` (``key[=value]:Effect,...``). Nothing in the cluster changes, so nothing is
journaled. Action: ``explain(pod, manifest, cpu, memory, node_selector, tolerations)``.

>>> import aivle_k8s as ak
>>> from aivle_k8s.cluster.bootstrap import build_cluster
>>> world = ak.World(seed=0)
>>> cluster = build_cluster(world)
>>> ex = SchedulerExplainer(cluster)
>>> ex.perform("explain", manifest=NEW_POD, cpu="3").result.message.split(".")[0]
'0/3 nodes are available: 1 node(s) had untolerated taint {node-role'
"""

from __future__ import annotations

import copy
import html
from typing import Any

import ipywidgets as W

from ..sim.errors import AivleError, InvalidInput
from .base import ActionOutcome, ActionWidget, _pre

__all__ = ["SchedulerExplainer", "NEW_POD", "parse_node_selector", "parse_tolerations"]

NEW_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: trial
spec:
  containers:
  - name: app
    image: nginx:1.25
    resources:
      requests:
        cpu: 500m
        memory: 128Mi
"""

_NEW = "(new pod from the editor)"
_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def parse_node_selector(text: str) -> dict[str, str]:
    """``"disktype=ssd, zone=a"`` -> ``{"disktype": "ssd", "zone": "a"}``.

    >>> parse_node_selector("kubernetes.io/hostname=worker-2")
    {'kubernetes.io/hostname': 'worker-2'}
    """
    out: dict[str, str] = {}
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise InvalidInput(f'nodeSelector entry "{part}" needs the form key=value (e.g. disktype=ssd)')
        k, _, v = part.partition("=")
        if not k.strip():
            raise InvalidInput(f'nodeSelector entry "{part}" has no key: use key=value')
        out[k.strip()] = v.strip()
    return out


def parse_tolerations(text: str) -> list[dict]:
    """``"node-role.kubernetes.io/control-plane:NoSchedule"`` -> one toleration (``Exists``; ``key=value:Effect``
    gives ``Equal``).

    >>> parse_tolerations("node-role.kubernetes.io/control-plane:NoSchedule")
    [{'key': 'node-role.kubernetes.io/control-plane', 'operator': 'Exists', 'effect': 'NoSchedule'}]
    """
    out: list[dict] = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        spec, sep, effect = part.rpartition(":")
        if not sep:
            spec, effect = part, ""
        effect = effect.strip()
        if effect and effect not in _EFFECTS:
            raise InvalidInput(f'toleration "{part}": the effect must be one of {", ".join(_EFFECTS)} '
                               f'(form key[=value]:Effect)')
        key, eq, value = spec.partition("=")
        t: dict = {"key": key.strip()} if key.strip() else {}
        t["operator"] = "Equal" if eq else "Exists"
        if eq:
            t["value"] = value.strip()
        if effect:
            t["effect"] = effect
        out.append(t)
    return out


class SchedulerExplainer(ActionWidget):
    """Per-node filter verdicts and scores for a pod, from the scheduler's own plugins.

    Args:
        cluster: the :class:`~aivle_k8s.cluster.cluster.Cluster` (or the world holding it).
        manifest: the editor's initial pod manifest.
        namespace: where pods are looked up (the dropdown lists every namespace).
        lab, name: see :class:`~aivle_k8s.widgets.base.ActionWidget` (read-only: no journal).
        var: the Python name of the cluster shown in the equivalent code.
    """

    kind = "scheduler-explainer"
    title = "Scheduler explainer: where would this pod go, and why?"
    hints = [
        ("insufficient cpu", "No node has that much CPU left unrequested: ask for less, or free some "
                             "(kubectl describe node shows 'Allocated resources')."),
        ("insufficient memory", "No node has that much memory left unrequested: ask for less."),
        ("untolerated taint", "A tainted node only takes pods that tolerate its taint (spec.tolerations)."),
        ("didn't match pod's node affinity/selector", "No node carries the labels of spec.nodeSelector: "
                                                      "label one (kubectl label node NAME key=value)."),
        ("quantities must match", "Quantities look like 500m, 1, 2 (CPU) or 128Mi, 1Gi (memory)."),
        ("not found", "That pod does not exist (any more): refresh the list or pick the new-pod editor."),
    ]

    def __init__(self, cluster: Any, *, manifest: str = NEW_POD, namespace: str = "default", lab: str | None = None,
                 journal: Any = None, name: str | None = None, var: str = "cluster"):
        from ..cluster.trace import cluster_of

        self.cluster = cluster_of(cluster)
        self.world = self.cluster.world
        self.namespace = namespace
        self.var = var
        self._initial = manifest
        self.explanations: list[Any] = []
        super().__init__(lab=lab, journal=False, name=name)  # explaining changes nothing: nothing to replay

    def world_of(self) -> Any:
        return self.world

    def __repr__(self) -> str:
        last = self.explanations[-1] if self.explanations else None
        return f"SchedulerExplainer(explained={len(self.explanations)}" + (f", last={last!r})" if last else ")")

    @property
    def last_explanation(self) -> Any:
        return self.explanations[-1] if self.explanations else None

    # -- the model ----------------------------------------------------------------------------------------
    def _register(self) -> None:
        self.action("explain", self._explain, self._explain_cmd)

    def _what_if(self, pod: dict, cpu: str, memory: str, node_selector: str, tolerations: str) -> dict:
        spec = pod.setdefault("spec", {})
        if not isinstance(spec, dict) or not isinstance(spec.get("containers"), list) or not spec["containers"]:
            raise InvalidInput("the pod has no containers: spec.containers needs at least one container")
        c = spec["containers"][0]
        if not isinstance(c, dict):
            raise InvalidInput("spec.containers[0] must be a mapping (name, image, resources)")
        for res, value in (("cpu", cpu), ("memory", memory)):
            if value and value.strip():
                c.setdefault("resources", {}).setdefault("requests", {})[res] = value.strip()
        if node_selector and node_selector.strip():
            spec["nodeSelector"] = parse_node_selector(node_selector)
        if tolerations and tolerations.strip():
            spec["tolerations"] = list(spec.get("tolerations") or []) + parse_tolerations(tolerations)
        return pod

    def _explain(self, pod: str = "", manifest: str = "", cpu: str = "", memory: str = "", node_selector: str = "",
                 tolerations: str = "") -> Any:
        from ..cluster.trace import WORKLOAD_KINDS, explain_scheduling, load_manifest

        overrides = any(v and str(v).strip() for v in (cpu, memory, node_selector, tolerations))
        ns, _, name = pod.rpartition("/") if pod else ("", "", "")
        ns = ns or self.namespace
        if name:
            if not overrides:
                result = explain_scheduling(self.cluster, name, namespace=ns)
            else:
                raw = copy.deepcopy(self.cluster.pods.get(name, ns).raw)
                raw.get("spec", {}).pop("nodeName", None)
                raw.pop("status", None)
                result = explain_scheduling(self.cluster, self._what_if(raw, cpu, memory, node_selector, tolerations),
                                            namespace=ns)
        else:
            if not manifest or not manifest.strip():
                raise InvalidInput("the pod manifest is empty: write a Pod (or pick a pod from the list)")
            obj = load_manifest(manifest)
            if overrides:
                if obj.get("kind") in WORKLOAD_KINDS:
                    tpl = ((obj.get("spec") or {}).get("template")) or {}
                    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": dict(tpl.get("metadata") or {}),
                           "spec": tpl.get("spec") or {}}
                    obj["metadata"].setdefault("name", "pod")
                obj = self._what_if(obj, cpu, memory, node_selector, tolerations)
            result = explain_scheduling(self.cluster, obj, namespace=ns)
        self.explanations.append(result)
        return result

    def _explain_cmd(self, pod: str = "", manifest: str = "", cpu: str = "", memory: str = "", node_selector: str = "",
                     tolerations: str = "") -> tuple[str, str]:
        imp = "from aivle_k8s.cluster import trace\n"
        if pod and not any((cpu, memory, node_selector, tolerations)):
            ns, _, name = pod.rpartition("/")
            arg = f"{name!r}" + (f", namespace={ns!r}" if ns and ns != "default" else "")
            line = f"kubectl describe pod {name}" + (f" -n {ns}" if ns and ns != "default" else "")
            return imp + f"print(trace.explain_scheduling({self.var}, {arg}).table())", line
        return imp + f"print(trace.explain_scheduling({self.var}, pod_manifest).table())", ""

    # -- the view -----------------------------------------------------------------------------------------
    def _controls(self) -> list:
        full = W.Layout(width="100%")
        self.pod = W.Dropdown(options=self._pod_options(), value=_NEW, description="pod", layout=W.Layout(width="60%"))
        self.editor = W.Textarea(value=self._initial, description="manifest", rows=11, layout=full)
        self.cpu = W.Text(value="", description="cpu", placeholder="500m", layout=W.Layout(width="14em"))
        self.memory = W.Text(value="", description="memory", placeholder="256Mi", layout=W.Layout(width="14em"))
        self.node_selector = W.Text(value="", description="nodeSelector", placeholder="disktype=ssd",
                                    layout=W.Layout(width="22em"))
        self.tolerations = W.Text(value="", description="tolerations",
                                  placeholder="node-role.kubernetes.io/control-plane:NoSchedule",
                                  layout=W.Layout(width="30em"))
        self.explain_button = W.Button(description="Explain", button_style="primary", icon="question")
        self.explain_button.on_click(self.callback(lambda _: self.click_explain()))
        self.refresh_button = W.Button(description="Refresh pods", icon="refresh")
        self.refresh_button.on_click(self.callback(lambda _: self.refresh()))
        return [W.HBox([self.pod, self.refresh_button]), self.editor,
                W.HBox([self.cpu, self.memory]), W.HBox([self.node_selector, self.tolerations]), self.explain_button]

    def _pod_options(self) -> list:
        pending, other = [], []
        try:
            pods = self.cluster.pods.list(all_namespaces=True)
        except AivleError:
            pods = []
        for p in pods:
            label = f"{p.namespace}/{p.name}"
            node = (p.raw.get("spec") or {}).get("nodeName")
            if not node and (p.raw.get("status") or {}).get("phase") == "Pending":
                pending.append((f"{label} (Pending)", label))
            elif node and p.namespace not in ("kube-system", "kube-flannel"):
                other.append((f"{label} (on {node})", label))
        return [(_NEW, _NEW), *pending, *other]

    def refresh(self) -> None:
        if not hasattr(self, "pod"):
            return
        options = self._pod_options()
        keep = self.pod.value
        if [tuple(o) for o in self.pod.options] != options:
            self.pod.options = options
            self.pod.value = keep if keep in [v for _, v in options] else _NEW

    def click_explain(self) -> ActionOutcome:
        chosen = self.pod.value
        return self.perform("explain", pod="" if chosen == _NEW else chosen,
                            manifest=self.editor.value if chosen == _NEW else "",
                            cpu=self.cpu.value.strip(), memory=self.memory.value.strip(),
                            node_selector=self.node_selector.value.strip(), tolerations=self.tolerations.value.strip())

    # -- rendering ------------------------------------------------------------------------------------------
    def text_of(self, outcome: ActionOutcome) -> str:
        if outcome.ok and outcome.action == "explain":
            return outcome.result.table()
        return super().text_of(outcome)

    def _render(self, outcome: ActionOutcome) -> str:
        if outcome.action == "explain":
            return self.explanation_html(outcome.result)
        return super()._render(outcome)

    def explanation_html(self, ex: Any) -> str:
        """The node x plugin table: filter verdicts (reasons on hover and below), weighted scores, totals."""
        filters, scorers = ex.plugins("filter"), ex.plugins("score")
        head = ("<tr><th>node</th>" + "".join(f"<th><small>{html.escape(p)}</small></th>" for p in filters)
                + "".join(f"<th><small>{html.escape(p)} ×{ex._weight(p)}</small></th>" for p in scorers)
                + "<th>total</th></tr>")
        rows = []
        reasons = []
        for n in ex.nodes:
            cells = [f"<td><b>{html.escape(n)}</b></td>"]
            for p in filters:
                r = next((r for r in ex.rows if r.node == n and r.plugin == p and r.stage == "filter"), None)
                result = r.result if r is not None else "not run"
                style = {"passed": "background:#dafbe1", "rejected": "background:#ffebe9;font-weight:bold"}.get(
                    result, "color:#8c959f")
                text = {"passed": "✔", "rejected": "✘", "skipped": "skip", "not run": "·"}.get(result, result)
                title = html.escape(r.reason) if r is not None and r.reason else ""
                cells.append(f"<td style='{style};text-align:center' title='{title}'>{text}</td>")
                if r is not None and result == "rejected":
                    reasons.append(f"{n}: {p}: {r.reason}")
            prefilter = next((r for r in ex.rows if r.node == n and r.stage == "prefilter"), None)
            if prefilter is not None:
                reasons.append(f"{n}: {prefilter.plugin} (PreFilter): {prefilter.reason}")
            sc = ex.scores(n)
            for p in scorers:
                cells.append(f"<td style='text-align:right'>{sc[p][0] if p in sc else '–'}</td>")
            total = ex.totals.get(n)
            best = n in ex.best
            cells.append(f"<td style='text-align:right;{'background:#dafbe1;font-weight:bold' if best else ''}'>"
                         f"{'–' if total is None else total}{' ★' if best else ''}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        out = (f"<div><b>pod {html.escape(ex.name)}</b>"
               + (f" (now on {html.escape(ex.scheduled_on)}; explained as if it were new)" if ex.scheduled_on else "")
               + "</div><table>" + head + "".join(rows) + "</table>")
        if reasons:
            out += "<div><small>" + "<br>".join(html.escape(r) for r in reasons) + "</small></div>"
        if ex.message:
            out += _pre(ex.message, "color:#cf222e;font-weight:bold")
            out += ("<div><small>This is the FailedScheduling message the scheduler writes into the pod's "
                    "Events (<code>kubectl describe pod</code>): the pod stays Pending.</small></div>")
        elif ex.best:
            tie = " (a tie: the scheduler picks one of them at random)" if len(ex.best) > 1 else ""
            out += (f"<div>Filter keeps {len(ex.feasible)} of {len(ex.nodes)} nodes; score picks "
                    f"<b>{html.escape(', '.join(ex.best))}</b>{tie}. Each score is 0–100 per plugin, times the "
                    f"plugin's weight.</div>")
        return out
