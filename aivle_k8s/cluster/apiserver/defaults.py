"""Defaulting, as the generated ``SetDefaults_*`` functions of Kubernetes 1.30 do it.

Defaults are applied to the server's own copy of a request (never the
caller's dict) before admission and validation, so what ``get`` returns looks
like what a real cluster returns (``kubectl get pod web -o yaml``).

>>> pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
...        "spec": {"containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]}}
>>> apply_defaults(pod)
>>> c = pod["spec"]["containers"][0]
>>> c["imagePullPolicy"], c["ports"][0]["protocol"], pod["spec"]["restartPolicy"], pod["spec"]["dnsPolicy"]
('Always', 'TCP', 'Always', 'ClusterFirst')
>>> image_pull_policy("nginx:1.25"), image_pull_policy("nginx@sha256:" + "a" * 64), image_pull_policy("nginx:latest")
('IfNotPresent', 'IfNotPresent', 'Always')
"""

from __future__ import annotations

import base64
from typing import Callable

__all__ = ["apply_defaults", "default_pod_spec", "image_pull_policy", "pod_qos_class", "DEFAULT_TOLERATION_SECONDS"]

#: DefaultTolerationSeconds admission: how long pods stay on a NotReady / unreachable node.
DEFAULT_TOLERATION_SECONDS = 300


def image_pull_policy(image: str) -> str:
    """``Always`` for ``:latest`` or an untagged image without digest, else ``IfNotPresent``."""
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "Always"
    return "Always" if last.rsplit(":", 1)[1] == "latest" else "IfNotPresent"


def _probe(p: dict) -> None:
    p.setdefault("timeoutSeconds", 1)
    p.setdefault("periodSeconds", 10)
    p.setdefault("successThreshold", 1)
    p.setdefault("failureThreshold", 3)
    hg = p.get("httpGet")
    if isinstance(hg, dict):
        hg.setdefault("path", "/")
        hg.setdefault("scheme", "HTTP")


def _container(c: dict) -> None:
    if not isinstance(c, dict):
        return
    image = c.get("image")
    if "imagePullPolicy" not in c and isinstance(image, str) and image:
        c["imagePullPolicy"] = image_pull_policy(image)
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    res = c.get("resources")
    if res is None:
        c["resources"] = {}
    elif isinstance(res, dict):
        lim = res.get("limits")
        if isinstance(lim, dict) and lim:  # requests default to limits
            req = res.setdefault("requests", {})
            if isinstance(req, dict):
                for k, v in lim.items():
                    req.setdefault(k, v)
    for port in c.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
    for env in c.get("env") or []:
        if isinstance(env, dict):
            fr = (env.get("valueFrom") or {}).get("fieldRef") if isinstance(env.get("valueFrom"), dict) else None
            if isinstance(fr, dict):
                fr.setdefault("apiVersion", "v1")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        if isinstance(c.get(probe), dict):
            _probe(c[probe])


_VOLUME_SOURCES = ("emptyDir", "hostPath", "configMap", "secret", "persistentVolumeClaim", "projected",
                   "downwardAPI", "nfs", "csi", "ephemeral", "iscsi", "gitRepo")


def _volume(v: dict) -> None:
    if not isinstance(v, dict):
        return
    if not any(v.get(s) is not None for s in _VOLUME_SOURCES):
        v["emptyDir"] = {}
    for src in ("configMap", "secret"):
        s = v.get(src)
        if isinstance(s, dict):
            s.setdefault("defaultMode", 420)
    proj = v.get("projected")
    if isinstance(proj, dict):
        proj.setdefault("defaultMode", 420)
    hp = v.get("hostPath")
    if isinstance(hp, dict):
        hp.setdefault("type", "")


def default_pod_spec(spec: dict) -> None:
    """``SetDefaults_PodSpec`` + containers, volumes (also used for templates)."""
    if not isinstance(spec, dict):
        return
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for c in spec.get("containers") or []:
        _container(c)
    for c in spec.get("initContainers") or []:
        _container(c)
    for v in spec.get("volumes") or []:
        _volume(v)
    if spec.get("serviceAccount") and not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = spec["serviceAccount"]


def pod_qos_class(spec: dict) -> str:
    """``Guaranteed`` / ``Burstable`` / ``BestEffort`` from the containers' requests and limits."""
    requests: dict = {}
    limits: dict = {}
    guaranteed = True
    any_set = False
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if not isinstance(c, dict):
            continue
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        for name in ("cpu", "memory"):
            if req.get(name) not in (None, "0", 0):
                any_set = True
                requests[name] = True
            if lim.get(name) not in (None, "0", 0):
                any_set = True
                limits[name] = True
        if not all(n in lim for n in ("cpu", "memory")):
            guaranteed = False
        elif any(str(req.get(n, lim[n])) != str(lim[n]) for n in ("cpu", "memory")):
            guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _workload_template(spec: dict) -> None:
    tpl = spec.get("template")
    if isinstance(tpl, dict):
        default_pod_spec(tpl.get("spec"))


def _pod(obj: dict) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        default_pod_spec(spec)
        spec.setdefault("enableServiceLinks", True)


def _deployment(obj: dict) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    spec.setdefault("replicas", 1)
    strat = spec.setdefault("strategy", {})
    if isinstance(strat, dict):
        strat.setdefault("type", "RollingUpdate")
        if strat["type"] == "RollingUpdate":
            ru = strat.setdefault("rollingUpdate", {})
            if isinstance(ru, dict):
                ru.setdefault("maxUnavailable", "25%")
                ru.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _workload_template(spec)


def _replicaset(obj: dict) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        spec.setdefault("replicas", 1)
        _workload_template(spec)


def _daemonset(obj: dict) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    us = spec.setdefault("updateStrategy", {})
    if isinstance(us, dict):
        us.setdefault("type", "RollingUpdate")
        if us["type"] == "RollingUpdate":
            ru = us.setdefault("rollingUpdate", {})
            if isinstance(ru, dict):
                ru.setdefault("maxUnavailable", 1)
                ru.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    _workload_template(spec)


def _statefulset(obj: dict) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    us = spec.setdefault("updateStrategy", {})
    if isinstance(us, dict):
        us.setdefault("type", "RollingUpdate")
        if us["type"] == "RollingUpdate":
            ru = us.setdefault("rollingUpdate", {})
            if isinstance(ru, dict):
                ru.setdefault("partition", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
    _workload_template(spec)


def _job_spec(spec: dict) -> None:
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    if spec.get("podFailurePolicy") is None:
        spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    _workload_template(spec)


def _job(obj: dict) -> None:
    spec = obj.get("spec")
    if isinstance(spec, dict):
        _job_spec(spec)


def _cronjob(obj: dict) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    jt = spec.get("jobTemplate")
    if isinstance(jt, dict) and isinstance(jt.get("spec"), dict):
        jspec = jt["spec"]
        jspec.setdefault("backoffLimit", 6)
        jspec.setdefault("completionMode", "NonIndexed")
        jspec.setdefault("suspend", False)
        _workload_template(jspec)


def _service(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    spec.setdefault("type", "ClusterIP")
    stype = spec["type"]
    if stype != "ExternalName":
        spec.setdefault("sessionAffinity", "None")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if stype in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if stype == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            if port.get("targetPort") in (None, 0, ""):
                if port.get("port") is not None:
                    port["targetPort"] = port["port"]
    if spec.get("sessionAffinity") == "ClientIP":
        cfg = spec.setdefault("sessionAffinityConfig", {})
        if isinstance(cfg, dict):
            cfg.setdefault("clientIP", {}).setdefault("timeoutSeconds", 10800)


def _namespace(obj: dict) -> None:
    spec = obj.setdefault("spec", {})
    if isinstance(spec, dict) and "finalizers" not in spec:
        spec["finalizers"] = ["kubernetes"]
    meta = obj.get("metadata")
    if isinstance(meta, dict) and meta.get("name"):
        labels = meta.get("labels")
        if not isinstance(labels, dict):
            labels = meta["labels"] = {}
        labels["kubernetes.io/metadata.name"] = meta["name"]


def _node(obj: dict) -> None:
    st = obj.get("status")
    if isinstance(st, dict) and isinstance(st.get("capacity"), dict) and st.get("allocatable") is None:
        st["allocatable"] = dict(st["capacity"])


def _secret(obj: dict) -> None:
    obj.setdefault("type", "Opaque")
    sd = obj.pop("stringData", None)
    if isinstance(sd, dict) and sd:
        data = obj.get("data")
        if not isinstance(data, dict):
            data = obj["data"] = {}
        for k, v in sd.items():
            data[k] = base64.b64encode(str(v).encode()).decode()


def _endpoints(obj: dict) -> None:
    for ss in obj.get("subsets") or []:
        if isinstance(ss, dict):
            for p in ss.get("ports") or []:
                if isinstance(p, dict):
                    p.setdefault("protocol", "TCP")


def _endpointslice(obj: dict) -> None:
    for p in obj.get("ports") or []:
        if isinstance(p, dict):
            p.setdefault("protocol", "TCP")


def _priorityclass(obj: dict) -> None:
    obj.setdefault("preemptionPolicy", "PreemptLowerPriority")


_DEFAULTERS: dict[str, Callable[[dict], None]] = {
    "Pod": _pod, "Deployment": _deployment, "ReplicaSet": _replicaset, "DaemonSet": _daemonset,
    "StatefulSet": _statefulset, "Job": _job, "CronJob": _cronjob, "Service": _service, "Namespace": _namespace,
    "Node": _node, "Secret": _secret, "Endpoints": _endpoints, "EndpointSlice": _endpointslice,
    "PriorityClass": _priorityclass,
}


def apply_defaults(obj: dict) -> None:
    """Fill in the defaults of ``obj``'s kind, in place."""
    fn = _DEFAULTERS.get(obj.get("kind", ""))
    if fn is not None:
        fn(obj)
