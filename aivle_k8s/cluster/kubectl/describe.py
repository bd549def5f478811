"""``kubectl describe``: the per-kind human-readable reports, ending with the Events table.

Output goes through one Go tabwriter (min width 0, padding 2) as kubectl's
PrefixWriter does, so consecutive ``Label:\\tvalue`` lines align.
"""

from __future__ import annotations

import base64
import datetime as _dt
import math
import re
from typing import Any

from ...engine.format import tabwriter
from . import printers as P

__all__ = ["describe"]

NONE = "<none>"


class _W:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, level: int, text: str) -> None:
        self.lines.append("  " * level + text)

    def text(self) -> str:
        return tabwriter("\n".join(self.lines) + "\n", minwidth=0, padding=2)


def _map_lines(w: _W, title: str, m: dict | None, level: int = 0, sep: str = "=") -> None:
    if not m:
        w(level, f"{title}:\t{NONE}")
        return
    items = sorted(m.items())
    for i, (k, v) in enumerate(items):
        w(level, f"{title + ':' if i == 0 else ''}\t{k}{sep}{v}")


def _meta(w: _W, obj: dict, ns: bool = True) -> None:
    m = obj.get("metadata") or {}
    w(0, f"Name:\t{m.get('name', '')}")
    if ns:
        w(0, f"Namespace:\t{m.get('namespace', '')}")


def _labels_annotations(w: _W, obj: dict) -> None:
    m = obj.get("metadata") or {}
    _map_lines(w, "Labels", m.get("labels"))
    ann = {k: v for k, v in (m.get("annotations") or {}).items()
           if k != "kubectl.kubernetes.io/last-applied-configuration"}
    _map_lines(w, "Annotations", ann, sep=": ")


def _events(w: _W, events: list[dict] | None, now: _dt.datetime) -> None:
    if events is None:
        return
    if not events:
        w(0, f"Events:\t{NONE}")
        return
    w(0, "Events:")
    w(1, "Type\tReason\tAge\tFrom\tMessage")
    w(1, "----\t------\t----\t----\t-------")
    for e in events:
        count = e.get("count") or 1
        last = e.get("lastTimestamp") or e.get("eventTime")
        first = e.get("firstTimestamp") or last
        a = P.age(last, now)
        if count > 1:
            a = f"{a} (x{count} over {P.age(first, now)})"
        src = e.get("source") or {}
        frm = src.get("component") or e.get("reportingComponent") or ""
        if src.get("host"):
            frm = f"{frm}, {src['host']}" if frm else src["host"]
        w(1, f"{e.get('type', '')}\t{e.get('reason', '')}\t{a}\t{frm}\t{str(e.get('message', '')).strip()}")


def _container_state(state: dict, level: int, w: _W, title: str) -> None:
    if not state:
        w(level, f"{title}:\tWaiting")
        return
    if "running" in state:
        w(level, f"{title}:\tRunning")
        w(level + 1, f"Started:\t{P.describe_time(state['running'].get('startedAt'))}")
    elif "waiting" in state:
        w(level, f"{title}:\tWaiting")
        if state["waiting"].get("reason"):
            w(level + 1, f"Reason:\t{state['waiting']['reason']}")
    elif "terminated" in state:
        t = state["terminated"]
        w(level, f"{title}:\tTerminated")
        if t.get("reason"):
            w(level + 1, f"Reason:\t{t['reason']}")
        if t.get("message"):
            w(level + 1, f"Message:\t{t['message']}")
        w(level + 1, f"Exit Code:\t{t.get('exitCode', 0)}")
        w(level + 1, f"Started:\t{P.describe_time(t.get('startedAt'))}")
        w(level + 1, f"Finished:\t{P.describe_time(t.get('finishedAt'))}")


def _containers(w: _W, containers: list[dict], statuses: list[dict] | None, level: int, title: str) -> None:
    w(level, f"{title}:")
    by_name = {s.get("name"): s for s in statuses or []}
    for c in containers:
        st = by_name.get(c.get("name"))
        w(level + 1, f"{c.get('name')}:")
        lv = level + 2
        if statuses is not None:
            w(lv, f"Container ID:\t{(st or {}).get('containerID', '')}")
        w(lv, f"Image:\t{c.get('image', '')}")
        if statuses is not None:
            w(lv, f"Image ID:\t{(st or {}).get('imageID', '')}")
        ports = c.get("ports") or []
        if not ports:
            w(lv, f"Port:\t{NONE}")
            w(lv, f"Host Port:\t{NONE}")
        else:
            w(lv, "Port:\t" + ", ".join(f"{p.get('containerPort')}/{p.get('protocol', 'TCP')}" for p in ports))
            w(lv, "Host Port:\t" + ", ".join(f"{p.get('hostPort', 0)}/{p.get('protocol', 'TCP')}" for p in ports))
        if c.get("command"):
            w(lv, "Command:")
            for x in c["command"]:
                w(lv + 1, x)
        if c.get("args"):
            w(lv, "Args:")
            for x in c["args"]:
                w(lv + 1, x)
        if statuses is not None:
            _container_state((st or {}).get("state") or {}, lv, w, "State")
            last = (st or {}).get("lastState") or {}
            if last:
                _container_state(last, lv, w, "Last State")
            w(lv, f"Ready:\t{'True' if (st or {}).get('ready') else 'False'}")
            w(lv, f"Restart Count:\t{(st or {}).get('restartCount', 0)}")
        res = c.get("resources") or {}
        for k in ("limits", "requests"):
            if res.get(k):
                w(lv, f"{k.capitalize()}:")
                for rk, rv in sorted(res[k].items()):
                    w(lv + 1, f"{rk}:\t{rv}")
        for probe, label in (("livenessProbe", "Liveness"), ("readinessProbe", "Readiness"),
                             ("startupProbe", "Startup")):
            pr = c.get(probe)
            if pr:
                w(lv, f"{label}:\t{_probe(pr)}")
        env = c.get("env") or []
        if not env and not c.get("envFrom"):
            w(lv, f"Environment:\t{NONE}")
        else:
            w(lv, "Environment:")
            for e in env:
                if "value" in e:
                    w(lv + 1, f"{e.get('name')}:\t{e.get('value')}")
                else:
                    vf = e.get("valueFrom") or {}
                    if "secretKeyRef" in vf:
                        r = vf["secretKeyRef"]
                        w(lv + 1, f"{e.get('name')}:\t<set to the key '{r.get('key')}' in secret '{r.get('name')}'>"
                                  f"\tOptional: {str(bool(r.get('optional'))).lower()}")
                    elif "configMapKeyRef" in vf:
                        r = vf["configMapKeyRef"]
                        w(lv + 1, f"{e.get('name')}:\t<set to the key '{r.get('key')}' of config map "
                                  f"'{r.get('name')}'>\tOptional: {str(bool(r.get('optional'))).lower()}")
                    elif "fieldRef" in vf:
                        w(lv + 1, f"{e.get('name')}:\t ({vf['fieldRef'].get('apiVersion', 'v1')}:"
                                  f"{vf['fieldRef'].get('fieldPath')})")
                    else:
                        w(lv + 1, f"{e.get('name')}:\t")
        mounts = c.get("volumeMounts") or []
        if not mounts:
            w(lv, f"Mounts:\t{NONE}")
        else:
            w(lv, "Mounts:")
            for m in sorted(mounts, key=lambda m: m.get("mountPath", "")):
                flags = "ro" if m.get("readOnly") else "rw"
                sub = f",path=\"{m['subPath']}\"" if m.get("subPath") else ""
                w(lv + 1, f"{m.get('mountPath')} from {m.get('name')} ({flags}{sub})")


def _probe(pr: dict) -> str:
    attrs = (f"delay={pr.get('initialDelaySeconds', 0)}s timeout={pr.get('timeoutSeconds', 1)}s "
             f"period={pr.get('periodSeconds', 10)}s #success={pr.get('successThreshold', 1)} "
             f"#failure={pr.get('failureThreshold', 3)}")
    if "httpGet" in pr:
        h = pr["httpGet"]
        return f"http-get {h.get('scheme', 'HTTP').lower()}://{h.get('host', '')}:{h.get('port')}{h.get('path', '')} {attrs}"
    if "tcpSocket" in pr:
        return f"tcp-socket {pr['tcpSocket'].get('host', '')}:{pr['tcpSocket'].get('port')} {attrs}"
    if "exec" in pr:
        return f"exec [{' '.join(pr['exec'].get('command') or [])}] {attrs}"
    return f"unknown {attrs}"


def _volumes(w: _W, vols: list[dict], level: int = 0) -> None:
    if not vols:
        w(level, f"Volumes:\t{NONE}")
        return
    w(level, "Volumes:")
    for v in vols:
        w(level + 1, f"{v.get('name')}:")
        lv = level + 2
        if "emptyDir" in v:
            ed = v["emptyDir"] or {}
            w(lv, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)")
            w(lv, f"Medium:\t{ed.get('medium', '')}")
            w(lv, f"SizeLimit:\t{ed.get('sizeLimit', '<unset>')}")
        elif "hostPath" in v:
            w(lv, "Type:\tHostPath (bare host directory volume)")
            w(lv, f"Path:\t{v['hostPath'].get('path')}")
            w(lv, f"HostPathType:\t{v['hostPath'].get('type', '')}")
        elif "configMap" in v:
            w(lv, "Type:\tConfigMap (a volume populated by a ConfigMap)")
            w(lv, f"Name:\t{v['configMap'].get('name')}")
            w(lv, f"Optional:\t{str(bool(v['configMap'].get('optional'))).lower()}")
        elif "secret" in v:
            w(lv, "Type:\tSecret (a volume populated by a Secret)")
            w(lv, f"SecretName:\t{v['secret'].get('secretName')}")
            w(lv, f"Optional:\t{str(bool(v['secret'].get('optional'))).lower()}")
        elif "projected" in v:
            w(lv, "Type:\tProjected (a volume that contains injected data from multiple sources)")
            w(lv, "TokenExpirationSeconds:\t3607")
            w(lv, "ConfigMapName:\tkube-root-ca.crt")
            w(lv, "ConfigMapOptional:\t<nil>")
            w(lv, "DownwardAPI:\ttrue")
        elif "persistentVolumeClaim" in v:
            w(lv, "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)")
            w(lv, f"ClaimName:\t{v['persistentVolumeClaim'].get('claimName')}")
            w(lv, f"ReadOnly:\t{str(bool(v['persistentVolumeClaim'].get('readOnly'))).lower()}")
        else:
            w(lv, "Type:\t" + ", ".join(k for k in v if k != "name"))


def _tolerations(w: _W, tols: list[dict] | None, title: str = "Tolerations", level: int = 0) -> None:
    if not tols:
        w(level, f"{title}:\t{NONE}")
        return
    for i, t in enumerate(tols):
        s = t.get("key", "")
        if t.get("value"):
            s += "=" + t["value"]
        if t.get("effect"):
            s += ":" + t["effect"]
        if t.get("operator") == "Exists" and not t.get("value"):
            s += " op=Exists"
        if t.get("tolerationSeconds") is not None:
            s += f" for {t['tolerationSeconds']}s"
        w(level, f"{title + ':' if i == 0 else ''}\t{s}")


def _taints(w: _W, taints: list[dict] | None) -> None:
    if not taints:
        w(0, f"Taints:\t{NONE}")
        return
    for i, t in enumerate(taints):
        s = t.get("key", "") + (("=" + t["value"]) if t.get("value") else "") + ":" + t.get("effect", "")
        w(0, f"{'Taints:' if i == 0 else ''}\t{s}")


def _pod_template(w: _W, tmpl: dict, level: int = 0) -> None:
    meta = tmpl.get("metadata") or {}
    spec = tmpl.get("spec") or {}
    w(level, "Pod Template:")
    _map_lines(w, "Labels", meta.get("labels"), level + 1)
    if meta.get("annotations"):
        _map_lines(w, "Annotations", meta.get("annotations"), level + 1, sep=": ")
    if spec.get("serviceAccountName"):
        w(level + 1, f"Service Account:\t{spec['serviceAccountName']}")
    if spec.get("initContainers"):
        _containers(w, spec["initContainers"], None, level + 1, "Init Containers")
    _containers(w, spec.get("containers") or [], None, level + 1, "Containers")
    _volumes(w, spec.get("volumes") or [], level + 1)
    _map_lines(w, "Node-Selectors", spec.get("nodeSelector"), level + 1)
    _tolerations(w, spec.get("tolerations"), "Tolerations", level + 1)


def _owner(obj: dict) -> str | None:
    for o in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if o.get("controller"):
            return f"{o.get('kind')}/{o.get('name')}"
    return None


# ---------------------------------------------------------------------------
# kinds
# ---------------------------------------------------------------------------
def _pod(w: _W, pod: dict, now: _dt.datetime, k: Any) -> None:
    m, spec, st = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    _meta(w, pod)
    w(0, f"Priority:\t{spec.get('priority', 0)}")
    if spec.get("priorityClassName"):
        w(0, f"Priority Class Name:\t{spec['priorityClassName']}")
    w(0, f"Service Account:\t{spec.get('serviceAccountName', 'default')}")
    node = spec.get("nodeName")
    w(0, f"Node:\t{node + '/' + st.get('hostIP', '') if node else NONE}")
    if st.get("startTime"):
        w(0, f"Start Time:\t{P.describe_time(st.get('startTime'))}")
    _labels_annotations(w, pod)
    if m.get("deletionTimestamp"):
        w(0, f"Status:\tTerminating (lasts {P.age(m['deletionTimestamp'], now)})")
        w(0, f"Termination Grace Period:\t{m.get('deletionGracePeriodSeconds', 30)}s")
    else:
        w(0, f"Status:\t{st.get('phase', '')}")
    if st.get("reason"):
        w(0, f"Reason:\t{st['reason']}")
    if st.get("message"):
        w(0, f"Message:\t{st['message']}")
    w(0, f"IP:\t{st.get('podIP', '')}")
    ips = st.get("podIPs") or []
    if ips:
        w(0, "IPs:")
        for ip in ips:
            w(1, f"IP:\t{ip.get('ip')}")
    else:
        w(0, f"IPs:\t{NONE}")
    owner = _owner(pod)
    if owner:
        w(0, f"Controlled By:\t{owner}")
    if spec.get("initContainers"):
        _containers(w, spec["initContainers"], st.get("initContainerStatuses") or [], 0, "Init Containers")
    _containers(w, spec.get("containers") or [], st.get("containerStatuses") or [], 0, "Containers")
    conds = st.get("conditions") or []
    if conds:
        w(0, "Conditions:")
        w(1, "Type\tStatus")
        for c in conds:
            w(1, f"{c.get('type')}\t{c.get('status')}")
    _volumes(w, spec.get("volumes") or [])
    w(0, f"QoS Class:\t{st.get('qosClass', 'BestEffort')}")
    _map_lines(w, "Node-Selectors", spec.get("nodeSelector"))
    _tolerations(w, spec.get("tolerations"))


def _replicas_status(st: dict, spec: dict) -> str:
    return (f"{st.get('replicas', 0) or 0} current / {spec.get('replicas', 1)} desired")


def _deployment(w: _W, d: dict, now: _dt.datetime, k: Any) -> None:
    m, spec, st = d.get("metadata") or {}, d.get("spec") or {}, d.get("status") or {}
    _meta(w, d)
    w(0, f"CreationTimestamp:\t{P.describe_time(m.get('creationTimestamp'))}")
    _labels_annotations(w, d)
    w(0, f"Selector:\t{P.format_selector(spec.get('selector'))}")
    w(0, f"Replicas:\t{spec.get('replicas', 1)} desired | {st.get('updatedReplicas', 0) or 0} updated | "
         f"{st.get('replicas', 0) or 0} total | {st.get('availableReplicas', 0) or 0} available | "
         f"{st.get('unavailableReplicas', 0) or 0} unavailable")
    strat = spec.get("strategy") or {}
    w(0, f"StrategyType:\t{strat.get('type', 'RollingUpdate')}")
    w(0, f"MinReadySeconds:\t{spec.get('minReadySeconds', 0)}")
    if strat.get("type", "RollingUpdate") == "RollingUpdate":
        ru = strat.get("rollingUpdate") or {}
        w(0, f"RollingUpdateStrategy:\t{ru.get('maxUnavailable', '25%')} max unavailable, "
             f"{ru.get('maxSurge', '25%')} max surge")
    _pod_template(w, spec.get("template") or {})
    conds = st.get("conditions") or []
    if conds:
        w(0, "Conditions:")
        w(1, "Type\tStatus\tReason")
        w(1, "----\t------\t------")
        for c in conds:
            w(1, f"{c.get('type')}\t{c.get('status')}\t{c.get('reason', '')}")
    old, new = NONE, NONE
    try:
        rss = k._owned_rs(d) if k is not None else []
    except Exception:  # noqa: BLE001
        rss = []
    tmpl_hash = None
    for rs in rss:
        tmpl = dict((rs.get("spec") or {}).get("template") or {})
        lbl = dict((tmpl.get("metadata") or {}).get("labels") or {})
        lbl.pop("pod-template-hash", None)
        if lbl == ((spec.get("template") or {}).get("metadata") or {}).get("labels") and \
                (tmpl.get("spec") == (spec.get("template") or {}).get("spec")):
            tmpl_hash = rs
    if tmpl_hash is not None:
        new = f"{tmpl_hash['metadata']['name']} ({_replicas_status(tmpl_hash.get('status') or {}, tmpl_hash.get('spec') or {})})"
    olds = [rs for rs in rss if rs is not tmpl_hash and ((rs.get("spec") or {}).get("replicas") or 0) > 0]
    if olds:
        old = ", ".join(f"{rs['metadata']['name']} ({_replicas_status(rs.get('status') or {}, rs.get('spec') or {})})"
                        for rs in olds)
    w(0, f"OldReplicaSets:\t{old}")
    w(0, f"NewReplicaSet:\t{new}")


def _replicaset(w: _W, rs: dict, now: _dt.datetime, k: Any) -> None:
    spec, st = rs.get("spec") or {}, rs.get("status") or {}
    _meta(w, rs)
    w(0, f"Selector:\t{P.format_selector(spec.get('selector'))}")
    _labels_annotations(w, rs)
    owner = _owner(rs)
    if owner:
        w(0, f"Controlled By:\t{owner}")
    w(0, f"Replicas:\t{st.get('replicas', 0) or 0} current / {spec.get('replicas', 1)} desired")
    running = waiting = succeeded = failed = 0
    if k is not None:
        try:
            sel = P.format_selector(spec.get("selector"))
            pods = k.client.list("pods", rs["metadata"].get("namespace"), label_selector=sel).get("items") or []
            for p in pods:
                ph = (p.get("status") or {}).get("phase")
                running += ph == "Running"
                waiting += ph == "Pending"
                succeeded += ph == "Succeeded"
                failed += ph == "Failed"
        except Exception:  # noqa: BLE001
            pass
    w(0, f"Pods Status:\t{running} Running / {waiting} Waiting / {succeeded} Succeeded / {failed} Failed")
    _pod_template(w, spec.get("template") or {})


def _daemonset(w: _W, ds: dict, now: _dt.datetime, k: Any) -> None:
    spec, st = ds.get("spec") or {}, ds.get("status") or {}
    w(0, f"Name:\t{ds['metadata']['name']}")
    w(0, f"Selector:\t{P.format_selector(spec.get('selector'))}")
    _map_lines(w, "Node-Selector", ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector"))
    _labels_annotations(w, ds)
    w(0, f"Desired Number of Nodes Scheduled:\t{st.get('desiredNumberScheduled', 0)}")
    w(0, f"Current Number of Nodes Scheduled:\t{st.get('currentNumberScheduled', 0)}")
    w(0, f"Number of Nodes Scheduled with Up-to-date Pods:\t{st.get('updatedNumberScheduled', 0)}")
    w(0, f"Number of Nodes Scheduled with Available Pods:\t{st.get('numberAvailable', 0)}")
    w(0, f"Number of Nodes Misscheduled:\t{st.get('numberMisscheduled', 0)}")
    _pod_template(w, spec.get("template") or {})


def _service(w: _W, svc: dict, now: _dt.datetime, k: Any) -> None:
    spec = svc.get("spec") or {}
    _meta(w, svc)
    _labels_annotations(w, svc)
    _map_lines(w, "Selector", spec.get("selector"))
    w(0, f"Type:\t{spec.get('type', 'ClusterIP')}")
    w(0, f"IP Family Policy:\t{spec.get('ipFamilyPolicy', 'SingleStack')}")
    w(0, f"IP Families:\t{','.join(spec.get('ipFamilies') or ['IPv4'])}")
    w(0, f"IP:\t{spec.get('clusterIP', '')}")
    w(0, f"IPs:\t{','.join(spec.get('clusterIPs') or [spec.get('clusterIP', '')])}")
    ep = None
    if k is not None:
        try:
            ep = k.client.get("endpoints", svc["metadata"]["name"], svc["metadata"].get("namespace"))
        except Exception:  # noqa: BLE001
            ep = None
    for p in spec.get("ports") or []:
        pname = p.get("name") or "<unset>"
        w(0, f"Port:\t{pname}\t{p.get('port')}/{p.get('protocol', 'TCP')}")
        w(0, f"TargetPort:\t{p.get('targetPort')}/{p.get('protocol', 'TCP')}")
        if p.get("nodePort"):
            w(0, f"NodePort:\t{pname}\t{p['nodePort']}/{p.get('protocol', 'TCP')}")
        eps = []
        for s in (ep or {}).get("subsets") or []:
            ports = [q for q in s.get("ports") or [] if (q.get("name") or "") == (p.get("name") or "")]
            for a in s.get("addresses") or []:
                eps.extend(f"{a.get('ip')}:{q.get('port')}" for q in ports)
        w(0, f"Endpoints:\t{','.join(eps)}")
    w(0, f"Session Affinity:\t{spec.get('sessionAffinity', 'None')}")
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        w(0, f"External Traffic Policy:\t{spec.get('externalTrafficPolicy', 'Cluster')}")
    w(0, f"Internal Traffic Policy:\t{spec.get('internalTrafficPolicy', 'Cluster')}")


def _node(w: _W, n: dict, now: _dt.datetime, k: Any) -> None:
    m, spec, st = n.get("metadata") or {}, n.get("spec") or {}, n.get("status") or {}
    w(0, f"Name:\t{m.get('name')}")
    w(0, f"Roles:\t{P.node_roles(n)}")
    _labels_annotations(w, n)
    w(0, f"CreationTimestamp:\t{P.describe_time(m.get('creationTimestamp'))}")
    _taints(w, spec.get("taints"))
    w(0, f"Unschedulable:\t{str(bool(spec.get('unschedulable'))).lower()}")
    if k is not None:
        try:
            lease = k.client.get("leases", m.get("name"), "kube-node-lease")
        except Exception as e:  # noqa: BLE001
            w(0, f"Lease:\tFailed to get lease: {e}")
        else:
            ls = lease.get("spec") or {}
            w(0, "Lease:")
            w(1, f"HolderIdentity:\t{ls.get('holderIdentity') or '<unset>'}")
            for label, key in (("AcquireTime", "acquireTime"), ("RenewTime", "renewTime")):
                w(1, f"{label}:\t{P.describe_time(ls[key]) if ls.get(key) else '<unset>'}")
    w(0, "Conditions:")
    w(1, "Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage")
    w(1, "----\t------\t-----------------\t------------------\t------\t-------")
    for c in st.get("conditions") or []:
        w(1, f"{c.get('type')}\t{c.get('status')}\t{P.describe_time(c.get('lastHeartbeatTime'))}\t"
             f"{P.describe_time(c.get('lastTransitionTime'))}\t{c.get('reason', '')}\t{c.get('message', '')}")
    w(0, "Addresses:")
    for a in st.get("addresses") or []:
        w(1, f"{a.get('type')}:\t{a.get('address')}")
    for title, key in (("Capacity", "capacity"), ("Allocatable", "allocatable")):
        vals = st.get(key) or {}
        w(0, f"{title}:")
        for rk, rv in sorted(vals.items()):
            w(1, f"{rk}:\t{rv}")
    info = st.get("nodeInfo") or {}
    w(0, "System Info:")
    for label, key in (("Machine ID", "machineID"), ("System UUID", "systemUUID"), ("Boot ID", "bootID"),
                       ("Kernel Version", "kernelVersion"), ("OS Image", "osImage"),
                       ("Operating System", "operatingSystem"), ("Architecture", "architecture"),
                       ("Container Runtime Version", "containerRuntimeVersion"), ("Kubelet Version", "kubeletVersion"),
                       ("Kube-Proxy Version", "kubeProxyVersion")):
        w(1, f"{label}:\t{info.get(key, '')}")
    if spec.get("podCIDR"):
        w(0, f"PodCIDR:\t{spec['podCIDR']}")
        w(0, f"PodCIDRs:\t{','.join(spec.get('podCIDRs') or [spec['podCIDR']])}")
    pods = []
    if k is not None:
        try:
            pods = k.client.list("pods", None, field_selector=f"spec.nodeName={m.get('name')},"
                                                              f"status.phase!=Succeeded,status.phase!=Failed"
                                 ).get("items") or []
        except Exception:  # noqa: BLE001
            pods = []
    _node_resources(w, pods, st.get("allocatable") or st.get("capacity") or {}, now)


# ------------------------------------------------------------------ node resources
# kubectl sums pod requests/limits as resource.Quantity values and prints every
# percentage as int64(float64(used) / float64(allocatable) * 100): CPU compared in
# millicores (MilliValue), everything else in whole units (Value), truncated.

_BIN = ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
_DEC = {-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E"}


class _Qty:
    """A summed quantity: exact value plus the format of the first term (as Quantity.Add keeps it)."""

    __slots__ = ("value", "fmt")

    def __init__(self, value: Any = 0, fmt: str = "") -> None:
        self.value, self.fmt = value, fmt

    @classmethod
    def parse(cls, text: Any) -> "_Qty":
        from fractions import Fraction

        from ..scheduler.quantity import parse_quantity

        try:
            value = parse_quantity(text)
        except Exception:  # noqa: BLE001
            return cls(Fraction(0), "")
        s = str(text)
        fmt = "bin" if s.endswith(_BIN) else ("exp" if re.search(r"[eE][-+]?\d+$", s) else "dec")
        return cls(value, fmt)

    def add(self, other: "_Qty") -> "_Qty":
        return _Qty(self.value + other.value, self.fmt or other.fmt)

    def bigger(self, other: "_Qty") -> "_Qty":
        return other if other.value > self.value else self

    def milli(self) -> int:
        return math.ceil(self.value * 1000)

    def units(self) -> int:
        return math.ceil(self.value)

    def __str__(self) -> str:
        v, fmt = self.value, self.fmt
        if v == 0 or not fmt:
            return "0"
        if fmt == "bin" and -1024 < v < 1024 or fmt == "bin" and v.denominator != 1:
            fmt = "dec"
        if fmt == "bin":
            n, i = int(v), -1
            while i < len(_BIN) - 1 and n % 1024 == 0:
                n, i = n // 1024, i + 1
            return f"{n}{_BIN[i] if i >= 0 else ''}"
        # decimal: the smallest integer mantissa at an exponent that is a multiple of 3, from nano up
        scaled, exp = math.ceil(v * 10**9), -9
        while scaled % 1000 == 0 and exp < 18:
            scaled, exp = scaled // 1000, exp + 3
        if fmt == "exp":
            return f"{scaled}e{exp}" if exp else str(scaled)
        return f"{scaled}{_DEC[exp]}"


_Res = dict  # resource name -> _Qty


def _add_res(into: dict, more: dict) -> None:
    for name, q in more.items():
        into[name] = into[name].add(q) if name in into else q


def _max_res(into: dict, more: dict) -> None:
    for name, q in more.items():
        into[name] = into[name].bigger(q) if name in into else q


def _container_res(c: dict, kind: str) -> dict:
    vals = ((c.get("resources") or {}).get(kind) or {})
    return {name: _Qty.parse(v) for name, v in vals.items()}


def _pod_totals(p: dict, kind: str) -> dict:
    """kubectl's PodRequestsAndLimits: containers summed, init containers as a max (sidecars added),
    plus the pod overhead (added to limits only where a limit is set)."""
    spec = p.get("spec") or {}
    total: dict = {}
    for c in spec.get("containers") or []:
        _add_res(total, _container_res(c, kind))
    sidecars: dict = {}
    inits: dict = {}
    for c in spec.get("initContainers") or []:
        res = _container_res(c, kind)
        if c.get("restartPolicy") == "Always":
            _add_res(total, res)
            _add_res(sidecars, res)
            res = dict(sidecars)
        else:
            res = dict(res)
            _add_res(res, sidecars)
        _max_res(inits, res)
    _max_res(total, inits)
    for name, v in (spec.get("overhead") or {}).items():
        q = _Qty.parse(v)
        if kind == "requests":
            _add_res(total, {name: q})
        elif name in total and total[name].value != 0:
            total[name] = total[name].add(q)
    return total


def _fraction(used: _Qty, alloc: _Qty, cpu: bool) -> int:
    a = alloc.milli() if cpu else alloc.units()
    if a == 0:
        return 0
    return int((used.milli() if cpu else used.units()) / a * 100)


def _node_resources(w: _W, pods: list[dict], allocatable: dict, now: _dt.datetime) -> None:
    alloc = {name: _Qty.parse(v) for name, v in allocatable.items()}
    zero = _Qty()
    acpu, amem = alloc.get("cpu", zero), alloc.get("memory", zero)
    w(0, f"Non-terminated Pods:\t({len(pods)} in total)")
    w(1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge")
    w(1, "---------\t----\t\t------------\t----------\t---------------\t-------------\t---")
    reqs: dict = {}
    lims: dict = {}
    for p in pods:
        req, lim = _pod_totals(p, "requests"), _pod_totals(p, "limits")
        _add_res(reqs, req)
        _add_res(lims, lim)
        cells = []
        for res, cpu in (("cpu", True), ("memory", False)):
            for vals in (req, lim):
                q = vals.get(res, zero)
                cells.append(f"{q} ({_fraction(q, acpu if cpu else amem, cpu)}%)")
        pm = p.get("metadata") or {}
        w(1, f"{pm.get('namespace')}\t{pm.get('name')}\t\t{cells[0]}\t{cells[1]}\t{cells[2]}\t{cells[3]}\t"
             f"{P.age(pm.get('creationTimestamp'), now)}")
    w(0, "Allocated resources:")
    w(1, "(Total limits may be over 100 percent, i.e., overcommitted.)")
    w(1, "Resource\tRequests\tLimits")
    w(1, "--------\t--------\t------")
    hugepages = sorted(r for r in alloc if r.startswith("hugepages-"))
    for res in ("cpu", "memory", "ephemeral-storage", *hugepages):
        r, lm, a = reqs.get(res, zero), lims.get(res, zero), alloc.get(res, zero)
        cpu = res == "cpu"
        w(1, f"{res}\t{r} ({_fraction(r, a, cpu)}%)\t{lm} ({_fraction(lm, a, cpu)}%)")
    standard = {"cpu", "memory", "ephemeral-storage", "storage", "pods"}
    for res in sorted(r for r in alloc if r not in standard and not r.startswith("hugepages-")
                      and not r.startswith("requests.") and not r.startswith("limits.")):
        w(1, f"{res}\t{reqs.get(res, zero)}\t{lims.get(res, zero)}")


def _namespace(w: _W, ns: dict, now: _dt.datetime, k: Any) -> None:
    w(0, f"Name:\t{ns['metadata']['name']}")
    _labels_annotations(w, ns)
    w(0, f"Status:\t{(ns.get('status') or {}).get('phase', 'Active')}")
    w(0, "")
    w(0, "No resource quota.")
    w(0, "")
    w(0, "No LimitRange resource.")


def _configmap(w: _W, cm: dict, now: _dt.datetime, k: Any) -> None:
    _meta(w, cm)
    _labels_annotations(w, cm)
    w(0, "")
    w(0, "Data")
    w(0, "====")
    for key, v in sorted((cm.get("data") or {}).items()):
        w(0, f"{key}:")
        w(0, "----")
        w(0, str(v))
        w(0, "")
    w(0, "")
    w(0, "BinaryData")
    w(0, "====")
    w(0, "")


def _secret(w: _W, s: dict, now: _dt.datetime, k: Any) -> None:
    _meta(w, s)
    _labels_annotations(w, s)
    w(0, "")
    w(0, f"Type:\t{s.get('type', 'Opaque')}")
    w(0, "")
    w(0, "Data")
    w(0, "====")
    for key, v in sorted((s.get("data") or {}).items()):
        try:
            n = len(base64.b64decode(v))
        except ValueError:
            n = 0
        w(0, f"{key}:\t{n} bytes")


def _job(w: _W, j: dict, now: _dt.datetime, k: Any) -> None:
    spec, st = j.get("spec") or {}, j.get("status") or {}
    _meta(w, j)
    w(0, f"Selector:\t{P.format_selector(spec.get('selector'))}")
    _labels_annotations(w, j)
    w(0, f"Parallelism:\t{spec.get('parallelism', 1)}")
    w(0, f"Completions:\t{spec.get('completions', '<unset>')}")
    w(0, f"Completion Mode:\t{spec.get('completionMode', 'NonIndexed')}")
    w(0, f"Suspend:\t{str(bool(spec.get('suspend'))).lower()}")
    w(0, f"Backoff Limit:\t{spec.get('backoffLimit', 6)}")
    if st.get("startTime"):
        w(0, f"Start Time:\t{P.describe_time(st['startTime'])}")
    if st.get("completionTime"):
        w(0, f"Completed At:\t{P.describe_time(st['completionTime'])}")
        w(0, f"Duration:\t{P._job_duration(j, now)}")
    w(0, f"Pods Statuses:\t{st.get('active', 0) or 0} Active ({st.get('ready', 0) or 0} Ready) / "
         f"{st.get('succeeded', 0) or 0} Succeeded / {st.get('failed', 0) or 0} Failed")
    _pod_template(w, spec.get("template") or {})


def _generic(w: _W, obj: dict, now: _dt.datetime, k: Any) -> None:
    m = obj.get("metadata") or {}
    w(0, f"Name:\t{m.get('name')}")
    if m.get("namespace"):
        w(0, f"Namespace:\t{m.get('namespace')}")
    _labels_annotations(w, obj)
    w(0, f"API Version:\t{obj.get('apiVersion')}")
    w(0, f"Kind:\t{obj.get('kind')}")
    for key, v in obj.items():
        if key in ("apiVersion", "kind", "metadata"):
            continue
        _generic_value(w, key, v, 0)


def _title(k: str) -> str:
    out = ""
    for i, ch in enumerate(k):
        if ch.isupper() and i and not k[i - 1].isupper():
            out += " "
        out += ch
    return out[:1].upper() + out[1:]


def _generic_value(w: _W, key: str, v: Any, level: int) -> None:
    if isinstance(v, dict):
        w(level, f"{_title(key)}:")
        for k2, v2 in v.items():
            _generic_value(w, k2, v2, level + 1)
    elif isinstance(v, list):
        w(level, f"{_title(key)}:")
        for item in v:
            if isinstance(item, dict):
                for j, (k2, v2) in enumerate(item.items()):
                    _generic_value(w, k2, v2, level + 1)
            else:
                w(level + 1, str(item))
    else:
        w(level, f"{_title(key)}:\t{'' if v is None else v}")


_KINDS = {"Pod": _pod, "Deployment": _deployment, "ReplicaSet": _replicaset, "DaemonSet": _daemonset,
          "Service": _service, "Node": _node, "Namespace": _namespace, "ConfigMap": _configmap, "Secret": _secret,
          "Job": _job}


def describe(info: Any, obj: dict, events: list[dict] | None, now: _dt.datetime, k: Any = None) -> str:
    """The ``kubectl describe`` text of one object (``events``: None hides the Events section)."""
    w = _W()
    _KINDS.get(info.kind, _generic)(w, obj, now, k)
    if info.kind not in ("ConfigMap", "Secret", "Namespace") or events:
        _events(w, events, now)
    elif info.kind in ("ConfigMap", "Secret") and events is not None:
        _events(w, events, now)
    return w.text()
