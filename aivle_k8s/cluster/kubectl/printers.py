"""How kubectl prints objects: the per-kind tables of ``kubectl get`` and ``-o`` formats.

Tables use Go's ``text/tabwriter`` as kubectl configures it (min width 6,
padding 3); ages are apimachinery's ``duration.HumanDuration`` (``5s``,
``2m30s``, ``3h``, ``2d``); ``-o yaml`` sorts keys like ``sigs.k8s.io/yaml``;
``-o json`` indents by 4; ``-o jsonpath=`` and ``-o custom-columns=`` follow
k8s.io/client-go/util/jsonpath.

>>> human_duration(5), human_duration(150), human_duration(3 * 3600), human_duration(2 * 86400)
('5s', '2m30s', '3h', '2d')
>>> jsonpath('{.metadata.name}', {"metadata": {"name": "web"}})
'web'
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from typing import Any, Callable, Iterable

import yaml

from ...engine import format as fmt
from ...sim.errors import InvalidInput

__all__ = ["human_duration", "parse_time", "age", "kubectl_table", "TABLES", "table_for", "to_yaml", "to_json",
           "jsonpath", "JSONPathError", "custom_columns", "format_labels", "format_selector", "pod_status",
           "node_status", "kind_name", "object_name"]

NONE = "<none>"


# ---------------------------------------------------------------------------
# time
# ---------------------------------------------------------------------------
def human_duration(seconds: float) -> str:
    """apimachinery ``duration.HumanDuration``."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        sec = s % 60
        return f"{minutes}m" if sec == 0 else f"{minutes}m{sec}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def parse_time(ts: Any) -> _dt.datetime | None:
    if not ts or not isinstance(ts, str):
        return None
    text = ts.replace("Z", "+00:00")
    try:
        t = _dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.timezone.utc)
    return t


def age(ts: Any, now: _dt.datetime) -> str:
    """``translateTimestampSince``: ``<unknown>`` without a time."""
    t = parse_time(ts)
    if t is None:
        return "<unknown>"
    return human_duration((now - t).total_seconds())


def describe_time(ts: Any) -> str:
    """Describe's time format (RFC 1123Z): ``Mon, 03 Mar 2025 09:00:00 +0000``."""
    t = parse_time(ts)
    if t is None:
        return NONE
    return t.strftime("%a, %d %b %Y %H:%M:%S +0000")


# ---------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------
def kubectl_table(rows: Iterable[Iterable[Any]], headers: Iterable[str] | None) -> str:
    """kubectl's tabwriter (min width 6, padding 3): one line per row, ending with a newline."""
    body = []
    if headers is not None:
        body.append("\t".join(headers))
    body.extend("\t".join(str(c) for c in row) for row in rows)
    if not body:
        return ""
    return fmt.tabwriter("\n".join(body), minwidth=6, padding=3) + "\n"


def format_labels(labels: dict | None) -> str:
    if not labels:
        return NONE
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def format_selector(sel: dict | None) -> str:
    """``metav1.FormatLabelSelector``."""
    if not sel:
        return NONE
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for e in sel.get("matchExpressions") or []:
        op = e.get("operator", "")
        vals = e.get("values") or []
        if op == "In":
            parts.append(f"{e.get('key')} in ({','.join(vals)})")
        elif op == "NotIn":
            parts.append(f"{e.get('key')} notin ({','.join(vals)})")
        elif op == "Exists":
            parts.append(str(e.get("key")))
        elif op == "DoesNotExist":
            parts.append(f"!{e.get('key')}")
    if not parts and sel.get("matchLabels") is None and not sel.get("matchExpressions"):
        return NONE
    return ",".join(parts) if parts else NONE


def _containers(spec: dict) -> tuple[str, str]:
    cs = (spec or {}).get("containers") or []
    return ",".join(str(c.get("name", "")) for c in cs), ",".join(str(c.get("image", "")) for c in cs)


def _tmpl_spec(obj: dict) -> dict:
    return (((obj.get("spec") or {}).get("template") or {}).get("spec")) or {}


def pod_status(pod: dict) -> tuple[str, int, int, int, str | None]:
    """kubectl's printPod logic: (STATUS, ready, total, restarts, last restart time)."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    total = len(spec.get("containers") or [])
    ready = 0
    restarts = 0
    last_restart: str | None = None
    reason = status.get("reason") or status.get("phase") or ""

    def note_restart(cs: dict) -> None:
        nonlocal last_restart
        fin = (((cs.get("lastState") or {}).get("terminated")) or {}).get("finishedAt")
        if fin and (last_restart is None or fin > last_restart):
            last_restart = fin

    initializing = False
    init_specs = spec.get("initContainers") or []
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += int(cs.get("restartCount") or 0)
        note_restart(cs)
        state = cs.get("state") or {}
        term, wait = state.get("terminated"), state.get("waiting")
        if term is not None and term.get("exitCode") == 0:
            continue
        if term is not None:
            if not term.get("reason"):
                reason = (f"Init:Signal:{term['signal']}" if term.get("signal")
                          else f"Init:ExitCode:{term.get('exitCode')}")
            else:
                reason = "Init:" + term["reason"]
        elif wait is not None and wait.get("reason") and wait.get("reason") != "PodInitializing":
            reason = "Init:" + wait["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break
    if not initializing:
        restarts = 0
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            note_restart(cs)
            state = cs.get("state") or {}
            wait, term = state.get("waiting"), state.get("terminated")
            if wait is not None and wait.get("reason"):
                reason = wait["reason"]
            elif term is not None and term.get("reason"):
                reason = term["reason"]
            elif term is not None:
                reason = f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode')}"
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            conds = status.get("conditions") or []
            reason = "Running" if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds) \
                else "NotReady"
    meta = pod.get("metadata") or {}
    if meta.get("deletionTimestamp") and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif meta.get("deletionTimestamp"):
        reason = "Terminating"
    return reason, ready, total, restarts, last_restart


def node_status(node: dict) -> str:
    conds = ((node.get("status") or {}).get("conditions")) or []
    out = []
    for c in conds:
        if c.get("type") == "Ready":
            out.append("Ready" if c.get("status") == "True" else "NotReady")  # Unknown prints NotReady too
    if not out:
        out.append("Unknown")
    if (node.get("spec") or {}).get("unschedulable"):
        out.append("SchedulingDisabled")
    return ",".join(out)


def node_roles(node: dict) -> str:
    roles = []
    for k, v in ((node.get("metadata") or {}).get("labels") or {}).items():
        if k.startswith("node-role.kubernetes.io/"):
            role = k.split("/", 1)[1]
            if role:
                roles.append(role)
        elif k == "kubernetes.io/role" and v:
            roles.append(v)
    return ",".join(sorted(set(roles))) or NONE


def _service_ports(svc: dict) -> str:
    out = []
    for p in (svc.get("spec") or {}).get("ports") or []:
        proto = p.get("protocol", "TCP")
        if p.get("nodePort"):
            out.append(f"{p.get('port')}:{p['nodePort']}/{proto}")
        else:
            out.append(f"{p.get('port')}/{proto}")
    return ",".join(out) or NONE


def _external_ip(svc: dict) -> str:
    spec = svc.get("spec") or {}
    t = spec.get("type", "ClusterIP")
    ext = spec.get("externalIPs") or []
    if t in ("ClusterIP", "NodePort"):
        return ",".join(ext) if ext else NONE
    if t == "LoadBalancer":
        ing = (((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress")) or []
        ips = [i.get("ip") or i.get("hostname") for i in ing] + ext
        return ",".join(x for x in ips if x) or "<pending>"
    if t == "ExternalName":
        return spec.get("externalName", NONE)
    return "<unknown>"


def _endpoints(ep: dict) -> str:
    items = []
    for s in ep.get("subsets") or []:
        ports = s.get("ports") or []
        for a in s.get("addresses") or []:
            if ports:
                items.extend(f"{a.get('ip')}:{p.get('port')}" for p in ports)
            else:
                items.append(str(a.get("ip")))
    if not items:
        return NONE
    if len(items) > 3:
        return ",".join(items[:3]) + f" + {len(items) - 3} more..."
    return ",".join(items)


def _job_status(job: dict) -> str:
    conds = ((job.get("status") or {}).get("conditions")) or []
    for c in conds:
        if c.get("status") == "True":
            if c.get("type") == "Complete":
                return "Complete"
            if c.get("type") == "Failed":
                return "Failed"
    for c in conds:
        if c.get("status") == "True" and c.get("type") in ("FailureTarget", "SuccessCriteriaMet", "Suspended"):
            return c["type"]
    return "Running"


def _job_completions(job: dict) -> str:
    spec, st = job.get("spec") or {}, job.get("status") or {}
    succeeded = st.get("succeeded") or 0
    if spec.get("completions") is not None:
        return f"{succeeded}/{spec['completions']}"
    par = spec.get("parallelism", 1)
    return f"{succeeded}/1 of {par}" if par and par > 1 else f"{succeeded}/1"


def _job_duration(job: dict, now: _dt.datetime) -> str:
    st = job.get("status") or {}
    start = parse_time(st.get("startTime"))
    if start is None:
        return ""
    end = parse_time(st.get("completionTime")) or now
    return human_duration((end - start).total_seconds())


def _event_object(ev: dict) -> str:
    inv = ev.get("involvedObject") or ev.get("regarding") or {}
    return f"{str(inv.get('kind', '')).lower()}/{inv.get('name', '')}"


def _event_last_seen(ev: dict, now: _dt.datetime) -> str:
    ts = ev.get("lastTimestamp") or ev.get("eventTime") or (ev.get("metadata") or {}).get("creationTimestamp")
    a = age(ts, now)
    count = ev.get("count") or 0
    first = ev.get("firstTimestamp")
    if count > 1 and first:
        return f"{a} (x{count} over {age(first, now)})"
    return a


Row = Callable[[dict, _dt.datetime], list]


def _pod_row(p: dict, now: _dt.datetime) -> list:
    reason, ready, total, restarts, last = pod_status(p)
    r = str(restarts)
    if restarts and last:
        r = f"{restarts} ({age(last, now)} ago)"
    return [f"{ready}/{total}", reason, r]


def _pod_wide(p: dict, now: _dt.datetime) -> list:
    st, spec = p.get("status") or {}, p.get("spec") or {}
    gates = spec.get("readinessGates") or []
    if gates:
        conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
        n = sum(1 for g in gates if conds.get(g.get("conditionType")) == "True")
        gates_s = f"{n}/{len(gates)}"
    else:
        gates_s = NONE
    return [st.get("podIP") or NONE, spec.get("nodeName") or NONE, st.get("nominatedNodeName") or NONE, gates_s]


def _deploy_row(d: dict, now: _dt.datetime) -> list:
    st = d.get("status") or {}
    return [f"{st.get('readyReplicas') or 0}/{(d.get('spec') or {}).get('replicas', 1)}",
            st.get("updatedReplicas") or 0, st.get("availableReplicas") or 0]


def _workload_wide(d: dict, now: _dt.datetime) -> list:
    names, images = _containers(_tmpl_spec(d))
    return [names, images, format_selector((d.get("spec") or {}).get("selector"))]


def _rs_row(d: dict, now: _dt.datetime) -> list:
    st = d.get("status") or {}
    return [(d.get("spec") or {}).get("replicas", 1), st.get("replicas") or 0, st.get("readyReplicas") or 0]


def _ds_row(d: dict, now: _dt.datetime) -> list:
    st = d.get("status") or {}
    ns = _tmpl_spec(d).get("nodeSelector")
    return [st.get("desiredNumberScheduled") or 0, st.get("currentNumberScheduled") or 0, st.get("numberReady") or 0,
            st.get("updatedNumberScheduled") or 0, st.get("numberAvailable") or 0, format_labels(ns)]


def _svc_row(s: dict, now: _dt.datetime) -> list:
    spec = s.get("spec") or {}
    return [spec.get("type", "ClusterIP"), spec.get("clusterIP") or NONE, _external_ip(s), _service_ports(s)]


def _node_row(n: dict, now: _dt.datetime) -> list:
    return [node_status(n), node_roles(n)]


def _node_version(n: dict, now: _dt.datetime) -> list:
    return [((n.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")]


def _node_wide(n: dict, now: _dt.datetime) -> list:
    st = n.get("status") or {}
    addrs = {a.get("type"): a.get("address") for a in st.get("addresses") or []}
    info = st.get("nodeInfo") or {}
    return [addrs.get("InternalIP") or NONE, addrs.get("ExternalIP") or NONE, info.get("osImage") or "<unknown>",
            info.get("kernelVersion") or "<unknown>", info.get("containerRuntimeVersion") or "<unknown>"]


def _ns_row(n: dict, now: _dt.datetime) -> list:
    return [((n.get("status") or {}).get("phase")) or "Active"]


def _cm_row(c: dict, now: _dt.datetime) -> list:
    return [len(c.get("data") or {}) + len(c.get("binaryData") or {})]


def _secret_row(s: dict, now: _dt.datetime) -> list:
    return [s.get("type", "Opaque"), len(s.get("data") or {})]


def _job_row(j: dict, now: _dt.datetime) -> list:
    return [_job_status(j), _job_completions(j), _job_duration(j, now)]


def _event_row(e: dict, now: _dt.datetime) -> list:
    return [_event_last_seen(e, now), e.get("type", ""), e.get("reason", ""), _event_object(e),
            str(e.get("message", "")).strip()]


def _sts_row(s: dict, now: _dt.datetime) -> list:
    st = s.get("status") or {}
    return [f"{st.get('readyReplicas') or 0}/{(s.get('spec') or {}).get('replicas', 1)}"]


def _cj_row(c: dict, now: _dt.datetime) -> list:
    spec, st = c.get("spec") or {}, c.get("status") or {}
    last = st.get("lastScheduleTime")
    return [spec.get("schedule", ""), spec.get("timeZone") or NONE, str(bool(spec.get("suspend"))),
            len(st.get("active") or []), age(last, now) if last else NONE]


def _ep_row(e: dict, now: _dt.datetime) -> list:
    return [_endpoints(e)]


def _sa_row(s: dict, now: _dt.datetime) -> list:
    return [len(s.get("secrets") or [])]


def _lease_row(l_: dict, now: _dt.datetime) -> list:
    return [((l_.get("spec") or {}).get("holderIdentity")) or NONE]


def _pc_row(p: dict, now: _dt.datetime) -> list:
    return [p.get("value", 0), str(bool(p.get("globalDefault"))).lower(),
            p.get("preemptionPolicy", "PreemptLowerPriority")]


def _csr_row(c: dict, now: _dt.datetime) -> list:
    spec = c.get("spec") or {}
    conds = [x.get("type") for x in ((c.get("status") or {}).get("conditions")) or []]
    if (c.get("status") or {}).get("certificate"):
        conds.append("Issued")
    return [spec.get("signerName", ""), spec.get("username", ""), ",".join(conds) or "Pending"]


def _apiservice_row(a: dict, now: _dt.datetime) -> list:
    svc = (a.get("spec") or {}).get("service")
    service = f"{svc.get('namespace', '')}/{svc.get('name', '')}" if svc else "Local"
    available = "Unknown"
    for c in (a.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Available":
            available = c.get("status", "Unknown")
            if available != "True" and c.get("reason"):
                available = f"{available} ({c['reason']})"
    return [service, available]


def _rolebinding_row(r: dict, now: _dt.datetime) -> list:
    ref = r.get("roleRef") or {}
    return [f"{ref.get('kind', '')}/{ref.get('name', '')}"]


class Table:
    """Columns of one kind: ``headers`` then AGE placement, and the ``-o wide`` extras."""

    def __init__(self, headers: list[str], row: Row | None, wide: list[str] = (), wide_row: Row | None = None,
                 age_at: int | None = None, tail: list[str] = (), tail_row: Row | None = None):
        self.headers, self.row, self.wide, self.wide_row = list(headers), row, list(wide), wide_row
        self.age_at, self.tail, self.tail_row = age_at, list(tail), tail_row

    def columns(self, wide: bool) -> list[str]:
        cols = ["NAME"] + self.headers + ["AGE"] + self.tail
        return cols + (self.wide if wide else [])

    def cells(self, obj: dict, now: _dt.datetime, wide: bool) -> list:
        meta = obj.get("metadata") or {}
        out: list = list(self.row(obj, now)) if self.row else []
        out.append(age(meta.get("creationTimestamp"), now))
        if self.tail_row:
            out += self.tail_row(obj, now)
        if wide and self.wide_row:
            out += self.wide_row(obj, now)
        return out


TABLES: dict[str, Table] = {
    "Pod": Table(["READY", "STATUS", "RESTARTS"], _pod_row, ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
                 _pod_wide),
    "Deployment": Table(["READY", "UP-TO-DATE", "AVAILABLE"], _deploy_row, ["CONTAINERS", "IMAGES", "SELECTOR"],
                        _workload_wide),
    "ReplicaSet": Table(["DESIRED", "CURRENT", "READY"], _rs_row, ["CONTAINERS", "IMAGES", "SELECTOR"],
                        _workload_wide),
    "DaemonSet": Table(["DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR"], _ds_row,
                       ["CONTAINERS", "IMAGES", "SELECTOR"], _workload_wide),
    "StatefulSet": Table(["READY"], _sts_row, ["CONTAINERS", "IMAGES"],
                         lambda d, n: list(_containers(_tmpl_spec(d)))),
    "Service": Table(["TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)"], _svc_row, ["SELECTOR"],
                     lambda s, n: [format_labels((s.get("spec") or {}).get("selector"))]),
    "Node": Table(["STATUS", "ROLES"], _node_row, ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION",
                                                   "CONTAINER-RUNTIME"], _node_wide, tail=["VERSION"],
                  tail_row=_node_version),
    "Namespace": Table(["STATUS"], _ns_row),
    "ConfigMap": Table(["DATA"], _cm_row),
    "Secret": Table(["TYPE", "DATA"], _secret_row),
    "Job": Table(["STATUS", "COMPLETIONS", "DURATION"], _job_row, ["CONTAINERS", "IMAGES", "SELECTOR"],
                 _workload_wide),
    "CronJob": Table(["SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE"], _cj_row),
    "Endpoints": Table(["ENDPOINTS"], _ep_row),
    "ServiceAccount": Table(["SECRETS"], _sa_row),
    "Lease": Table(["HOLDER"], _lease_row),
    "PriorityClass": Table(["VALUE", "GLOBAL-DEFAULT"], _pc_row and (lambda p, n: _pc_row(p, n)[:2]),
                           tail=["PREEMPTIONPOLICY"], tail_row=lambda p, n: [_pc_row(p, n)[2]]),
    "CertificateSigningRequest": Table([], None, tail=["SIGNERNAME", "REQUESTOR", "REQUESTEDDURATION", "CONDITION"],
                                       tail_row=lambda c, n: [*_csr_row(c, n)[:2], NONE, _csr_row(c, n)[2]]),
    "RoleBinding": Table(["ROLE"], _rolebinding_row, ["USERS", "GROUPS", "SERVICEACCOUNTS"],
                         lambda r, n: _subjects(r)),
    "ClusterRoleBinding": Table(["ROLE"], _rolebinding_row, ["USERS", "GROUPS", "SERVICEACCOUNTS"],
                                lambda r, n: _subjects(r)),
    "ClusterRole": Table([], None, tail=[], tail_row=None),
    "APIService": Table(["SERVICE", "AVAILABLE"], _apiservice_row),
}
TABLES["ClusterRole"].headers = []
_CREATED_AT = {"ClusterRole", "Role"}


def _subjects(r: dict) -> list:
    users, groups, sas = [], [], []
    for s in r.get("subjects") or []:
        if s.get("kind") == "User":
            users.append(s.get("name"))
        elif s.get("kind") == "Group":
            groups.append(s.get("name"))
        else:
            sas.append(f"{s.get('namespace', '')}/{s.get('name')}")
    return [", ".join(users), ", ".join(groups), ", ".join(sas)]


class _EventTable(Table):
    def columns(self, wide: bool) -> list[str]:
        cols = ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
        return cols[:4] + ["SUBOBJECT", "SOURCE", "MESSAGE", "FIRST SEEN", "COUNT", "NAME"] if wide else cols

    def cells(self, e: dict, now: _dt.datetime, wide: bool) -> list:
        row = _event_row(e, now)
        if not wide:
            return row
        inv = e.get("involvedObject") or {}
        src = e.get("source") or {}
        source = ", ".join(x for x in (src.get("component"), src.get("host")) if x)
        return row[:4] + [inv.get("fieldPath", ""), source, row[4], age(e.get("firstTimestamp"), now),
                          e.get("count", 1), (e.get("metadata") or {}).get("name", "")]


TABLES["Event"] = _EventTable([], None)
_DEFAULT = Table([], None)


def table_for(kind: str) -> Table:
    return TABLES.get(kind, _DEFAULT)


def kind_name(info: Any) -> str:
    """``pod``, ``deployment.apps``: the prefix of ``-o name`` and of multi-type tables."""
    return f"{info.kind.lower()}.{info.group}" if info.group else info.kind.lower()


def object_name(info: Any, obj: dict) -> str:
    return f"{kind_name(info)}/{(obj.get('metadata') or {}).get('name', '')}"


# ---------------------------------------------------------------------------
# yaml / json
# ---------------------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> Any:
    tag = "tag:yaml.org,2002:str"
    if "\n" in data and not data.endswith((" ", "\t")) and all(ch.isprintable() or ch == "\n" for ch in data):
        return dumper.represent_scalar(tag, data, style="|")
    # go-yaml: strings that cannot be plain are double-quoted ("10", "2025-03-03T09:00:00Z", "")
    if data == "" or dumper.resolve(yaml.ScalarNode, data, (True, False)) != tag:
        return dumper.represent_scalar(tag, data, style='"')
    analysis = dumper.analyze_scalar(data)
    if not analysis.allow_block_plain or analysis.multiline:
        return dumper.represent_scalar(tag, data, style='"')
    return dumper.represent_scalar(tag, data)


_Dumper.add_representer(str, _str_presenter)


def to_yaml(obj: Any) -> str:
    """sigs.k8s.io/yaml: keys sorted, block style, lists not indented under their key."""
    return yaml.dump(obj, Dumper=_Dumper, default_flow_style=False, sort_keys=True, allow_unicode=True, width=10**9)


def to_json(obj: Any) -> str:
    return json.dumps(obj, indent=4, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------
# jsonpath (client-go util/jsonpath)
# ---------------------------------------------------------------------------
class JSONPathError(InvalidInput):
    pass


_MISSING = object()


def _split_template(tmpl: str) -> list[tuple[str, str]]:
    """Text and ``{...}`` actions."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(tmpl):
        j = tmpl.find("{", i)
        if j < 0:
            out.append(("text", tmpl[i:]))
            break
        if j > i:
            out.append(("text", tmpl[i:j]))
        depth, k, quote = 0, j, ""
        while k < len(tmpl):
            ch = tmpl[k]
            if quote:
                if ch == "\\":
                    k += 1
                elif ch == quote:
                    quote = ""
            elif ch in "\"'":
                quote = ch
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    break
            k += 1
        if k >= len(tmpl):
            raise JSONPathError("unclosed action")
        out.append(("action", tmpl[j + 1:k].strip()))
        i = k + 1
    return out


_TOKEN = re.compile(r"""\.\.|\.|\[[^\]]*\]|[A-Za-z0-9_\-/$@*]+|'[^']*'|"[^"]*\"""")


def _segments(expr: str) -> list[tuple[str, Any]]:
    """A path like ``.items[*].metadata.name`` as (op, arg) steps."""
    steps: list[tuple[str, Any]] = []
    i = 0
    recursive = False
    while i < len(expr):
        ch = expr[i]
        if expr.startswith("..", i):
            recursive = True
            i += 2
            continue
        if ch == ".":
            i += 1
            continue
        if ch == "[":
            depth, k = 0, i
            while k < len(expr):
                if expr[k] == "[":
                    depth += 1
                elif expr[k] == "]":
                    depth -= 1
                    if depth == 0:
                        break
                k += 1
            if k >= len(expr):
                raise JSONPathError(f"unterminated array in {expr}")
            steps.append(("index", expr[i + 1:k].strip()))
            i = k + 1
            continue
        m = re.compile(r"[^.\[]+").match(expr, i)
        name = m.group(0)
        steps.append(("rfield" if recursive else "field", name))
        recursive = False
        i = m.end()
    return steps


def _eval_filter(cond: str, item: Any, root: Any) -> bool:
    m = re.fullmatch(r"\s*(@[^\s=!<>]*)\s*(==|!=|<=|>=|<|>)\s*(.+?)\s*", cond)
    if not m:
        vals = _walk([item], _segments(cond.strip()[1:]), root)
        return bool(vals)
    left = _walk([item], _segments(m.group(1)[1:]), root)
    rhs = m.group(3)
    if rhs[:1] in "\"'":
        right: Any = rhs[1:-1]
    else:
        try:
            right = json.loads(rhs)
        except ValueError:
            right = rhs
    if not left:
        return False
    lv = left[0]
    op = m.group(2)
    try:
        return {"==": lv == right, "!=": lv != right, "<": lv < right, ">": lv > right, "<=": lv <= right,
                ">=": lv >= right}[op]
    except TypeError:
        return False


def _recurse(value: Any) -> Iterable[Any]:
    yield value
    if isinstance(value, dict):
        for v in value.values():
            yield from _recurse(v)
    elif isinstance(value, list):
        for v in value:
            yield from _recurse(v)


def _walk(values: list, steps: list[tuple[str, Any]], root: Any) -> list:
    for op, arg in steps:
        nxt: list = []
        for v in values:
            if op == "field":
                if arg == "*":
                    if isinstance(v, dict):
                        nxt.extend(v.values())
                    elif isinstance(v, list):
                        nxt.extend(v)
                elif arg == "$":
                    nxt.append(root)
                elif isinstance(v, dict) and arg in v:
                    nxt.append(v[arg])
            elif op == "rfield":
                for x in _recurse(v):
                    if isinstance(x, dict) and arg in x:
                        nxt.append(x[arg])
            else:
                a = arg
                if a.startswith("?"):
                    cond = a[1:].strip()
                    if cond.startswith("(") and cond.endswith(")"):
                        cond = cond[1:-1]
                    if isinstance(v, list):
                        nxt.extend(x for x in v if _eval_filter(cond, x, root))
                    continue
                if a == "*":
                    if isinstance(v, list):
                        nxt.extend(v)
                    elif isinstance(v, dict):
                        nxt.extend(v.values())
                    continue
                if a[:1] in "'\"":
                    for key in (k.strip().strip("'\"") for k in a.split(",")):
                        if isinstance(v, dict) and key in v:
                            nxt.append(v[key])
                    continue
                if not isinstance(v, list):
                    continue
                try:
                    if ":" in a:
                        parts = [int(p) if p.strip() else None for p in a.split(":")]
                        nxt.extend(v[slice(*parts)])
                    else:
                        for idx in a.split(","):
                            i = int(idx)
                            if -len(v) <= i < len(v):
                                nxt.append(v[i])
                            else:
                                raise JSONPathError(f"array index out of bounds: index {i}, length {len(v)}")
                except ValueError:
                    raise JSONPathError(f"invalid array index {a}") from None
        values = nxt
    return values


def _jp_str(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null" if False else ""
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(",", ":"))
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def jsonpath(template: str, data: Any) -> str:
    """Execute a kubectl JSONPath template (missing keys print nothing)."""
    parts = _split_template(template)
    out: list[str] = []

    def run(parts: list, i: int, dot: Any, out: list) -> int:
        while i < len(parts):
            kind, text = parts[i]
            if kind == "text":
                out.append(text)
                i += 1
                continue
            if text == "end":
                return i
            if text.startswith("range "):
                expr = text[6:].strip()
                items = _eval(expr, dot, data)
                end = _find_end(parts, i + 1)
                for item in items:
                    run(parts[i + 1:end], 0, item, out)
                i = end + 1
                continue
            if text[:1] in "\"'":
                body = text[1:-1]
                out.append(body.encode().decode("unicode_escape") if "\\" in body else body)
                i += 1
                continue
            vals = _eval(text, dot, data)
            out.append(" ".join(_jp_str(v) for v in vals))
            i += 1
        return i

    run(parts, 0, data, out)
    return "".join(out)


def _find_end(parts: list, i: int) -> int:
    depth = 0
    while i < len(parts):
        kind, text = parts[i]
        if kind == "action" and text.startswith("range "):
            depth += 1
        elif kind == "action" and text == "end":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    raise JSONPathError("not in range, nothing to end")


def _eval(expr: str, dot: Any, root: Any) -> list:
    expr = expr.strip()
    if expr in ("", "@", "."):
        return [dot]
    start = dot
    if expr.startswith("$"):
        start, expr = root, expr[1:]
    elif expr.startswith("@"):
        expr = expr[1:]
    return _walk([start], _segments(expr), root)


def relaxed(expr: str) -> str:
    """kubectl's RelaxedJSONPathExpression: ``.a.b`` / ``a.b`` / ``{.a.b}``."""
    e = expr.strip()
    if e.startswith("{") and e.endswith("}"):
        e = e[1:-1]
    if e and not e.startswith("."):
        e = "." + e
    return "{" + e + "}"


def custom_columns(spec: str, objs: list[dict], no_headers: bool = False) -> str:
    cols = []
    for part in spec.split(","):
        if ":" not in part:
            raise JSONPathError(f"unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>")
        h, _, p = part.partition(":")
        cols.append((h, relaxed(p)))
    rows = []
    for o in objs:
        row = []
        for _, p in cols:
            vals = _eval(p[1:-1], o, o)
            row.append(",".join(_jp_str(v) for v in vals) if vals else NONE)
        rows.append(row)
    return kubectl_table(rows, None if no_headers else [h for h, _ in cols])
