"""Checks of lab5: Kubernetes architecture (follow one kubectl apply through every component).

Every check looks at the cluster in ``world`` (built with ``build_cluster``: ``master``,
``worker-1``, ``worker-2``) and at the answers passed as keyword arguments:

=====================  ==========================================================================
step                   arguments (besides ``world``)
=====================  ==========================================================================
control_plane          ``answer`` (the master's components), ``etcd_servers`` (the API server's flag)
worker_components      ``runtime``, ``kubelet_runs_as``, ``kube_proxy_pod`` (``node="worker-1"``)
invalid_rejected       ``result`` (kubectl's ShellResult), ``revision_before``, ``revision_after``
                       (``name="web"``)
stored_in_etcd         ``key``, ``value`` (what etcdctl printed), ``resource_version`` (``name="web"``)
schedule_pending       ``prediction``, ``message`` (``pod="big"``)
schedule_selector      ``prediction`` (``pod="fast"``, ``label="disktype=ssd"``, ``node="worker-2"``)
self_healing           ``deleted`` (the pod deleted) (``name="web"``, ``replicas=3``)
service_routing        ``cluster_ip``, ``curl`` (what curl printed) (``name="web"``, ``node="worker-1"``)
node_heartbeat         ``interval`` (lease renewals, s), ``reason`` (the Ready condition's reason)
                       (``node="worker-2"``)
trace_apply            ``trace``, ``rs``, ``nodes``, ``revision`` (``name="hello"``)
=====================  ==========================================================================

>>> import aivle_k8s as ak
>>> from aivle_k8s.grading import check
>>> world = ak.World(seed=0)
>>> print(check("lab5", "control_plane", world=world, answer=[]).messages[0].split(":")[0])
this world has no Kubernetes cluster yet
"""

from __future__ import annotations

import json
from typing import Any

from ..sim.errors import AivleError
from .core import Context, step

__all__: list[str] = []

_MASTER_COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")


# -- helpers ---------------------------------------------------------------------------------------------------------
def _cluster(ctx: Context) -> Any:
    from ..cluster.trace import cluster_of

    try:
        return cluster_of(ctx.world)
    except AivleError as e:
        ctx.fail(str(e))


def _get(cluster: Any, collection: str, name: str, namespace: str = "default") -> Any:
    try:
        return getattr(cluster, collection).get(name, namespace)
    except AivleError:
        return None


def _text(value: Any) -> str:
    """A ShellResult's stdout (+stderr) or a string."""
    if value is None:
        return ""
    if hasattr(value, "stdout"):
        return (value.stdout or "") + (getattr(value, "stderr", "") or "")
    return str(value)


def _events(cluster: Any, name: str, reason: str | None = None, kind: str | None = None) -> list[Any]:
    out = []
    for e in cluster.events.list(all_namespaces=True):
        inv = e.raw.get("involvedObject") or {}
        if inv.get("name") == name and (reason is None or e.raw.get("reason") == reason) \
                and (kind is None or inv.get("kind") == kind):
            out.append(e)
    return out


def _ready(node: Any) -> str:
    for c in (node.raw.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status", "")
    return ""


def _was_written_at(cluster: Any, key: str, rv: str, kv: dict) -> bool:
    """Whether etcd revision ``rv`` wrote ``key`` (a resourceVersion the object had at some point)."""
    if not rv.isdigit():
        return False
    rev = int(rv)
    if rev == kv["mod_revision"]:
        return True
    if not kv["create_revision"] <= rev < kv["mod_revision"]:
        return False
    try:
        old = cluster.client.apiserver().storage.get_kv(key, revision=rev)
    except AivleError:  # compacted: the range is all we can tell
        return True
    return old is not None and int(old.mod_revision) == rev


def _flag(manifest_text: str, flag: str) -> str | None:
    for line in manifest_text.splitlines():
        line = line.strip().lstrip("-").strip()
        if line.startswith(f"--{flag}="):
            return line.split("=", 1)[1].strip()
    return None


# -- 1. the master's components --------------------------------------------------------------------------------------
@step("lab5", "control_plane")
def _control_plane(ctx: Context):
    """The four control-plane components are static pods from /etc/kubernetes/manifests on the master."""
    cluster = _cluster(ctx)
    master = cluster.machine
    ls = master.sh("ls /etc/kubernetes/manifests")
    found = sorted(n[:-5] for n in ls.stdout.split() if n.endswith(".yaml"))
    answer = ctx.get("answer")
    if answer is None:
        ctx.fail("set master_components to the list of the master's components (look at the static pod "
                 "manifests: master.sh(\"ls /etc/kubernetes/manifests\"))")
    if isinstance(answer, str):
        answer = answer.replace(",", " ").split()
    got = sorted({str(a).strip().removesuffix(".yaml") for a in answer})
    ctx.expect(got == found, f"master_components is {got}, but the master runs {len(found)} control-plane "
                             f"components as static pods: list /etc/kubernetes/manifests on master and drop .yaml")
    for comp in found:
        pod = _get(cluster, "pods", f"{comp}-{master.name}", "kube-system")
        ctx.expect(pod is not None and (pod.raw.get("status") or {}).get("phase") == "Running",
                   f"the static pod {comp}-{master.name} is not Running: the control plane is not healthy "
                   f"(master.sh(\"sudo crictl ps\"))")
    want = _flag(master.fs.read_text("/etc/kubernetes/manifests/kube-apiserver.yaml"), "etcd-servers")
    given = ctx.get("etcd_servers")
    if given is None:
        ctx.fail("set etcd_servers to the value of the --etcd-servers flag in "
                 "/etc/kubernetes/manifests/kube-apiserver.yaml (master.sh(\"sudo cat ...\"))")
    ctx.expect(str(given).strip() == want,
               f"etcd_servers is {str(given).strip()!r}: copy the value of --etcd-servers= from the kube-apiserver "
               f"static pod manifest (grep etcd-servers /etc/kubernetes/manifests/kube-apiserver.yaml)")
    return (f"the control plane is {', '.join(found)}, static pods the kubelet of {master.name} runs; "
            f"only kube-apiserver talks to etcd ({want})")


# -- 2. a worker's components ----------------------------------------------------------------------------------------
@step("lab5", "worker_components")
def _worker_components(ctx: Context):
    """A worker runs a container runtime and the kubelet as services, and kube-proxy as a pod."""
    cluster = _cluster(ctx)
    node_name = ctx.get("node", "worker-1")
    node = _get(cluster, "nodes", node_name)
    if node is None:
        ctx.fail(f"there is no node {node_name} in the cluster (kubectl get nodes)")
    version = ((node.raw.get("status") or {}).get("nodeInfo") or {}).get("containerRuntimeVersion", "")
    runtime = version.split("://")[0]
    given = ctx.get("runtime")
    if given is None:
        ctx.fail(f"set worker_runtime to the container runtime of {node_name} (kubectl get nodes -o wide: "
                 f"the CONTAINER-RUNTIME column)")
    ctx.expect(str(given).strip().lower().split("://")[0] == runtime,
               f"worker_runtime is {given!r}: read the CONTAINER-RUNTIME column of `kubectl get nodes -o wide` "
               f"(or `systemctl is-active <runtime>` on {node_name})")
    runs = ctx.get("kubelet_runs_as")
    if runs is None:
        ctx.fail(f"set kubelet_runs_as: is the kubelet on {node_name} a pod or a systemd service? "
                 f"(compare `systemctl status kubelet` with `sudo crictl ps`)")
    word = str(runs).strip().lower()
    ctx.expect("systemd" in word or word in ("service", "a service"),
               f"kubelet_runs_as is {runs!r}: `sudo crictl ps` on {node_name} shows no kubelet container, but "
               f"`systemctl status kubelet` shows a running unit. What starts the pods cannot itself be a pod")
    kp = [p for p in cluster.pods.list("kube-system", label_selector="k8s-app=kube-proxy")
          if (p.raw.get("spec") or {}).get("nodeName") == node_name]
    want = kp[0].name if kp else None
    given_pod = ctx.get("kube_proxy_pod")
    if given_pod is None:
        ctx.fail(f"set kube_proxy_pod to the name of the kube-proxy pod on {node_name} "
                 f"(kubectl get pods -n kube-system -o wide -l k8s-app=kube-proxy)")
    ctx.expect(str(given_pod).strip().removeprefix("pod/") == want,
               f"kube_proxy_pod is {given_pod!r}: pick the kube-proxy pod whose NODE is {node_name} "
               f"(kubectl get pods -n kube-system -o wide -l k8s-app=kube-proxy)")
    return (f"{node_name}: {runtime} and the kubelet are systemd services; kube-proxy runs as pod {want} "
            f"of the kube-proxy DaemonSet")


# -- 3. the API server refuses an invalid object ---------------------------------------------------------------------
@step("lab5", "invalid_rejected")
def _invalid_rejected(ctx: Context):
    """kube-apiserver refuses an invalid Deployment: kubectl's error, nothing stored, etcd's revision unchanged."""
    from ..cluster.trace import etcd_get, etcd_revision

    cluster = _cluster(ctx)
    name = ctx.get("name", "web")
    result = ctx.get("result")
    if result is None or not hasattr(result, "exit_code"):
        ctx.fail("keep what kubectl printed in `rejected`: rejected = cluster.apply(BROKEN)")
    if result.exit_code == 0:
        ctx.fail(f"kubectl accepted the manifest (exit code 0): apply BROKEN as it is, without fixing it, "
                 f"to see the API server refuse it:\n{_text(result)}")
    err = result.stderr or ""
    ctx.expect("invalid" in err or "Error from server" in err,
               f"kubectl failed, but not because the API server refused the object: {err.strip()!r}")
    before, after = ctx.get("revision_before"), ctx.get("revision_after")
    if not isinstance(before, int) or not isinstance(after, int):
        ctx.fail("read etcd's revision right before and right after the apply: "
                 "rev_before = trace.etcd_revision(cluster) ... rev_after = trace.etcd_revision(cluster)")
    dep = _get(cluster, "deployments", name)
    if dep is not None:  # fine if it was created later (the fixed manifest of the next step)
        kv = etcd_get(cluster, f"/registry/deployments/{dep.namespace}/{name}")
        ctx.expect(kv is not None and kv["create_revision"] > after,
                   f"deployment {name} was stored by that apply: a refused object is never stored. Delete it "
                   f"(kubectl delete deployment {name}) and apply BROKEN, unchanged, again")
    now = etcd_revision(cluster)
    ctx.expect(0 < before <= now and 0 < after <= now,
               f"rev_before={before} and rev_after={after} are not revisions of this cluster's etcd (now {now}): "
               f"read them with trace.etcd_revision(cluster)")
    ctx.expect(before == after, f"rev_before={before} but rev_after={after}: read them right before and right "
                                f"after cluster.apply(BROKEN), with nothing else in between")
    return f"the API server refused {name} ({err.strip().splitlines()[0]}); etcd stayed at revision {before}"


# -- 4. a valid object is stored in etcd -----------------------------------------------------------------------------
@step("lab5", "stored_in_etcd")
def _stored_in_etcd(ctx: Context):
    """The fixed Deployment is stored under /registry/deployments/<ns>/<name>; resourceVersion is etcd's revision."""
    from ..cluster.trace import etcd_get

    cluster = _cluster(ctx)
    name = ctx.get("name", "web")
    dep = _get(cluster, "deployments", name)
    if dep is None:
        ctx.fail(f"there is no deployment {name}: fix the manifest (spec.selector.matchLabels must match the "
                 f"template's labels) and apply it")
    sel = ((dep.raw.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    ctx.expect(sel, f"deployment {name} has no spec.selector.matchLabels")
    want_key = f"/registry/deployments/{dep.namespace}/{name}"
    key = ctx.get("key")
    if key is None:
        ctx.fail("set etcd_key to the etcd key of the deployment (/registry/<resource>/<namespace>/<name>)")
    ctx.expect(str(key).strip() == want_key,
               f"etcd_key is {str(key).strip()!r}: keys look like /registry/<resource>/<namespace>/<name> "
               f"(etcdctl get /registry/deployments --prefix --keys-only lists them)")
    value = _text(ctx.get("value"))
    stored = None
    for line in value.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                stored = json.loads(line)
            except ValueError:
                pass
            break
    if stored is None:
        ctx.fail("etcd_value should be what `etcdctl get <etcd_key>` printed: the key, then the stored JSON")
    ctx.expect((stored.get("metadata") or {}).get("uid") == dep.uid,
               f"the JSON in etcd_value is not deployment {name} as stored now: run etcdctl get {want_key} again")
    rv = ctx.get("resource_version")
    kv = etcd_get(cluster, want_key)
    if rv is None:
        ctx.fail("set web_resource_version to the deployment's metadata.resourceVersion "
                 "(kubectl get deployment web -o jsonpath='{.metadata.resourceVersion}')")
    ctx.expect(kv is not None and _was_written_at(cluster, want_key, str(rv).strip(), kv),
               f"web_resource_version is {rv!r}, not a resourceVersion deployment {name} ever had: read "
               f"metadata.resourceVersion of the deployment")
    return (f"deployment {name} is stored at {want_key}; its resourceVersion is the etcd revision of its last "
            f"write ({kv['mod_revision'] if kv else '?'})")


# -- 5. the scheduler: a pod too big for any node --------------------------------------------------------------------
@step("lab5", "schedule_pending")
def _schedule_pending(ctx: Context):
    """A pod asking for more CPU than any node has free stays Pending with the scheduler's 0/N message."""
    cluster = _cluster(ctx)
    name = ctx.get("pod", "big")
    pred = ctx.get("prediction")
    if pred is None:
        ctx.fail("write your prediction first: big_prediction = the node name, or \"Pending\" if no node fits")
    ctx.expect(str(pred).strip().lower() in ("pending", "none", "no node"),
               f"big_prediction is {pred!r}: each worker has 2 CPUs and the master is tainted. Can any node "
               f"give the pod 3 CPUs? (check with the SchedulerExplainer)")
    pod = _get(cluster, "pods", name)
    if pod is None:
        ctx.fail(f"there is no pod {name}: create it with a request of cpu: \"3\" (kubectl apply -f - with BIG)")
    spec = pod.raw.get("spec") or {}
    ctx.expect(not spec.get("nodeName") and (pod.raw.get("status") or {}).get("phase") == "Pending",
               f"pod {name} was scheduled to {spec.get('nodeName')}: it must request more CPU than a node has "
               f"(resources.requests.cpu: \"3\")")
    failed = _events(cluster, name, "FailedScheduling")
    if not failed:
        ctx.fail(f"the scheduler has not reported on pod {name} yet: let time pass (world.advance(5))")
    said = [e.raw.get("message", "") for e in failed]  # the message changes when the nodes do
    want = said[-1]
    msg = _text(ctx.get("message")).strip()
    if not msg:
        ctx.fail("set big_message to the FailedScheduling message (kubectl describe pod big, Events)")
    ctx.expect(msg.startswith("0/") and any(msg == m or msg in m for m in said),
               f"big_message is {msg[:80]!r}...: copy the FailedScheduling message from "
               f"`kubectl describe pod {name}` (it starts with 0/3 nodes are available)")
    return f"pod {name} is Pending: {want}"


@step("lab5", "schedule_selector")
def _schedule_selector(ctx: Context):
    """A nodeSelector narrows the filter to the labelled node."""
    cluster = _cluster(ctx)
    name = ctx.get("pod", "fast")
    key, _, value = str(ctx.get("label", "disktype=ssd")).partition("=")
    node_name = ctx.get("node", "worker-2")
    pred = ctx.get("prediction")
    if pred is None:
        ctx.fail("write your prediction first: fast_prediction = the node the pod will run on")
    node = _get(cluster, "nodes", node_name)
    if node is None:
        ctx.fail(f"there is no node {node_name}")
    ctx.expect(node.labels.get(key) == value,
               f"node {node_name} has no label {key}={value}: kubectl label node {node_name} {key}={value}")
    pod = _get(cluster, "pods", name)
    if pod is None:
        ctx.fail(f"there is no pod {name}: create it with spec.nodeSelector {{{key}: {value}}}")
    sel = (pod.raw.get("spec") or {}).get("nodeSelector") or {}
    ctx.expect(sel.get(key) == value, f"pod {name} has nodeSelector {sel or 'none'}: give it {key}: {value}")
    where = (pod.raw.get("spec") or {}).get("nodeName")
    ctx.expect(where == node_name, f"pod {name} is on {where or 'no node (Pending)'}, not {node_name}: label the "
                                   f"node first, then create the pod (let time pass: world.advance(5))")
    ctx.expect(str(pred).strip() == node_name,
               f"fast_prediction is {pred!r}: which nodes carry the label {key}={value}? "
               f"(kubectl get nodes -L {key})")
    return f"only {node_name} carries {key}={value}: NodeAffinity filtered out every other node"


# -- 6. the controller manager keeps the desired state ---------------------------------------------------------------
@step("lab5", "self_healing")
def _self_healing(ctx: Context):
    """A deleted pod is replaced by the ReplicaSet controller; scaling changes the desired count."""
    cluster = _cluster(ctx)
    name = ctx.get("name", "web")
    replicas = int(ctx.get("replicas", 3))
    dep = _get(cluster, "deployments", name)
    if dep is None:
        ctx.fail(f"there is no deployment {name}: apply the fixed manifest of step 4 first")
    deleted = ctx.get("deleted")
    if not deleted:
        ctx.fail(f"delete one pod of {name} and keep its name in deleted_pod (kubectl delete pod <name>)")
    deleted = str(deleted).strip().removeprefix("pod/")
    ctx.expect(deleted.startswith(f"{name}-"), f"deleted_pod is {deleted!r}: delete one of the {name}-... pods")
    ctx.expect(_get(cluster, "pods", deleted) is None,
               f"pod {deleted} still exists: delete it (kubectl delete pod {deleted}) and let time pass")
    spec_n = (dep.raw.get("spec") or {}).get("replicas")
    ctx.expect(spec_n == replicas, f"deployment {name} wants {spec_n} replicas: scale it to {replicas} "
                                   f"(kubectl scale deployment {name} --replicas={replicas})")
    created = 0
    current = 0
    for rs in cluster.replicasets.list(label_selector=None):
        owners = rs.metadata.get("ownerReferences") or []
        if any(o.get("uid") == dep.uid for o in owners):
            created += sum(int(e.raw.get("count") or 1) for e in _events(cluster, rs.name, "SuccessfulCreate"))
            current += sum(1 for p in cluster.pods.list(rs.namespace or "default")
                           if any(o.get("uid") == rs.uid for o in p.metadata.get("ownerReferences") or [])
                           and not p.metadata.get("deletionTimestamp"))
    ctx.expect(current == replicas, f"{current} pods of {name} exist, {replicas} wanted: let time pass "
                                    f"(world.advance(10)) so the controllers catch up")
    ctx.expect(created >= replicas + 1,
               f"the ReplicaSet of {name} created {created} pods so far: deleting one pod should make it "
               f"create a replacement (kubectl get events shows SuccessfulCreate)")
    return f"the replicaset-controller replaced {deleted} and scaled {name} to {replicas} pods"


# -- 7. kube-proxy routes a Service ----------------------------------------------------------------------------------
@step("lab5", "service_routing")
def _service_routing(ctx: Context):
    """kube-proxy turns a Service and its Endpoints into NAT rules on every node; curl the ClusterIP."""
    cluster = _cluster(ctx)
    name = ctx.get("name", "web")
    node_name = ctx.get("node", "worker-1")
    svc = _get(cluster, "services", name)
    if svc is None:
        ctx.fail(f"there is no service {name}: apply the Service manifest (selector app: {name}, port 80)")
    ip = (svc.raw.get("spec") or {}).get("clusterIP")
    given = ctx.get("cluster_ip")
    if not given:
        ctx.fail(f"set cluster_ip to the ClusterIP of service {name} (kubectl get service {name})")
    ctx.expect(str(given).strip() == ip, f"cluster_ip is {given!r}: read CLUSTER-IP of `kubectl get service {name}`")
    ep = _get(cluster, "endpoints", name)
    ips = sorted(a.get("ip") for sub in ((ep.raw.get("subsets") if ep else None) or [])
                 for a in sub.get("addresses") or [])
    ctx.expect(ips, f"service {name} has no ready endpoints: its selector must match the pods' labels")
    rules = [r for r in cluster.world.net.rules.get(node_name, []) if r.ip == ip]
    targets = sorted({t[0] for r in rules for t in r.targets})
    ctx.expect(rules and targets == ips,
               f"kube-proxy on {node_name} has no rule sending {ip} to {ips}: is kube-proxy running there? "
               f"(sudo iptables -t nat -L KUBE-SERVICES -n on {node_name})")
    out = _text(ctx.get("curl"))
    if not out:
        ctx.fail(f"set curl_output: curl the ClusterIP from {node_name} "
                 f"({node_name.replace('-', '')}.sh(f\"curl -s http://{{cluster_ip}}/\"))")
    ctx.expect("Welcome to nginx" in out, f"curl_output does not show the nginx page: {out.strip()[:120]!r}")
    return f"{ip}:80 on {node_name} is DNAT-ed by kube-proxy's rules to {', '.join(ips)}"


# -- 8. the kubelet reports the node's status ------------------------------------------------------------------------
@step("lab5", "node_heartbeat")
def _node_heartbeat(ctx: Context):
    """Kubelets renew their Lease every 10 s; a silent node goes NotReady (Unknown) after the grace period."""
    cluster = _cluster(ctx)
    node_name = ctx.get("node", "worker-2")
    interval = ctx.get("interval")
    if interval is None:
        ctx.fail("set lease_interval to the seconds between two renewals of a node's Lease (look at the audit log)")
    try:
        ok = abs(float(interval) - 10.0) < 0.5
    except (TypeError, ValueError):
        ok = False
    ctx.expect(ok, f"lease_interval is {interval!r}: subtract the times of two consecutive PUT .../leases/<node> "
                   f"requests of one kubelet in the audit log")
    if not _events(cluster, node_name, "NodeNotReady", "Node"):
        ctx.fail(f"{node_name} never went NotReady: stop its kubelet (sudo systemctl stop kubelet on {node_name}) "
                 f"and let more than 40 simulated seconds pass")
    reason = ctx.get("reason")
    if reason is None:
        ctx.fail("set notready_reason to the reason of the Ready condition while the kubelet was stopped "
                 f"(kubectl describe node {node_name})")
    ctx.expect(str(reason).strip() == "NodeStatusUnknown",
               f"notready_reason is {reason!r}: read the Reason column of the Ready condition in "
               f"`kubectl describe node {node_name}` while its kubelet is stopped")
    node = _get(cluster, "nodes", node_name)
    ctx.expect(node is not None and _ready(node) == "True",
               f"{node_name} is not Ready again: start its kubelet (sudo systemctl start kubelet) and let time pass")
    return (f"{node_name} stopped renewing its Lease, the node lifecycle controller marked it Unknown after the "
            f"grace period, and it came back once the kubelet reported again")


# -- 9. the tracer: one kubectl apply end to end ---------------------------------------------------------------------
@step("lab5", "trace_apply")
def _trace_apply(ctx: Context):
    """One traced `kubectl apply` of a Deployment: its ReplicaSet, nodes and etcd revision read from the trace."""
    from ..cluster.trace import Trace, etcd_get

    cluster = _cluster(ctx)
    name = ctx.get("name", "hello")
    t = ctx.get("trace")
    if t is None:
        ctx.fail(f"trace the {name} Deployment first: paste HELLO into the tracer and click Apply & trace, or "
                 f"hello_trace = trace.follow(cluster, HELLO)")
    if not isinstance(t, Trace):
        ctx.fail(f"hello_trace should be a Trace (what trace.follow returns), not {type(t).__name__}")
    if ("deployments", "default", name) not in t.objects:
        ctx.fail(f"that trace did not create deployment {name}: apply the HELLO manifest with the tracer")
    ctx.expect(not t.rejected, f"the API server refused the traced manifest: {t.error.strip()[:160]}")
    missing = [c for c in ("kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler", "kubelet",
                           "container runtime") if not t.did(c)]
    ctx.expect(not missing, f"the trace has no step of {', '.join(missing)}: trace a fresh apply of {name} "
                            f"(delete it first if it already exists)")
    dep = _get(cluster, "deployments", name)
    if dep is None:
        ctx.fail(f"there is no deployment {name} any more: apply HELLO with the tracer again")
    rss = [rs for rs in cluster.replicasets.list() if any(o.get("uid") == dep.uid
                                                         for o in rs.metadata.get("ownerReferences") or [])]
    rs = ctx.get("rs")
    ctx.expect(rs is not None and str(rs).strip() in [r.name for r in rss],
               f"hello_rs is {rs!r}: read the name of the ReplicaSet the deployment-controller created in the trace")
    pods = [p for p in cluster.pods.list() if any(o.get("name") in [r.name for r in rss]
                                                  for o in p.metadata.get("ownerReferences") or [])]
    where = {(p.raw.get("spec") or {}).get("nodeName") for p in pods}
    nodes = ctx.get("nodes")
    given = {str(n).strip() for n in (nodes if isinstance(nodes, (list, set, tuple)) else [nodes])} \
        if nodes is not None else set()
    ctx.expect(given == where, f"hello_nodes is {sorted(given)}: read where kube-scheduler bound each pod "
                               f"(trace.scheduled, or the scheduler's steps)")
    kv = etcd_get(cluster, f"/registry/deployments/default/{name}")
    rev = ctx.get("revision")
    ctx.expect(kv is not None and str(rev).strip() == str(kv["create_revision"]),
               f"hello_revision is {rev!r}: read the etcd revision of the first PUT "
               f"/registry/deployments/default/{name} in the trace")
    return (f"kubectl -> kube-apiserver -> etcd (revision {kv['create_revision'] if kv else '?'}) -> "
            f"deployment-controller ({rs}) -> replicaset-controller -> kube-scheduler ({', '.join(sorted(where))}) "
            f"-> kubelet -> container runtime")
