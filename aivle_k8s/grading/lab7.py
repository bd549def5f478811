"""Checks of Lab 7 (operate a cluster: deploy, expose, scale, roll out and back, lose a node, back up etcd).

Every check reads the state of the lab's world through the cluster's API server (as the
admin of the cluster built on ``master``), the machines' files and shell history, or the
3-member etcd the lab builds in Python; none changes anything or advances the clock.

==============  ===========================================================================================
step            context (defaults)
==============  ===========================================================================================
deploy          name="web", replicas=3, image="nginx:1.25", manifest="/home/student/web.yaml", machine="master"
expose          name="web", port=80, machine="master" (curl the ClusterIP and the NodePort)
scale           name="web", replicas=5
rollout         name="web", image="nginx:1.27", replicas=5
rollback        name="web", image="nginx:1.27", bad_image="nginx:1.99", replicas=5
node_failure    name="web", node="worker-1", replicas=5
etcd_backup     path="/home/student/etcd-backup.db", name="web", machine="master"
etcd_restore    name="web", path="/home/student/etcd-backup.db", replicas=5, machine="master"
etcd_quorum     etcd (an EtcdCluster of 3), one_down (the PutResponse written with one member down),
                two_down_error (the error a write raised with two down), keys "/lab7/one-down", "/lab7/two-down"
etcd_recover    etcd, keys "/lab7/before", "/lab7/one-down", "/lab7/two-down"
==============  ===========================================================================================

Every cluster check also takes ``cluster=`` (a :class:`~aivle_k8s.cluster.cluster.Cluster`) instead of
finding the admin's cluster on ``machine``.
"""

from __future__ import annotations

import weakref
from typing import Any

from ..sim.errors import AivleError, NetworkError
from .core import Context, _plural, step

__all__: list[str] = []

LAB = "lab7"
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_REVISION = "deployment.kubernetes.io/revision"
_MANIFESTS = "/etc/kubernetes/manifests"
_CLUSTERS: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


# -- finding the cluster and reading it ----------------------------------------------------------------
def _master(ctx: Context) -> Any:
    world = ctx.world
    name = ctx.get("machine", "master")
    if not isinstance(name, str):
        return name
    m = world.machines.get(name)
    if m is None:
        ctx.fail(f'there is no machine named "{name}": run the setup cell at the top of the lab '
                 f'(cluster = build_cluster(world)) first')
    return m


def _cluster(ctx: Context) -> Any:
    given = ctx.get("cluster")
    if given is not None:
        return given
    from ..cluster.cluster import Cluster

    world = ctx.world
    m = _master(ctx)
    if not m.fs.exists("/etc/kubernetes/admin.conf"):
        ctx.fail(f"{m.name} is not a Kubernetes control plane (no /etc/kubernetes/admin.conf): run the setup "
                 f"cell at the top of the lab (cluster = build_cluster(world)) first")
    try:
        cached = _CLUSTERS.get(world)
    except TypeError:  # pragma: no cover - a world that cannot be weakly referenced
        cached = None
    if cached is not None and cached.machine is m:
        return cached
    cluster = Cluster(world, m)
    try:
        _CLUSTERS[world] = cluster
    except TypeError:  # pragma: no cover
        pass
    return cluster


def _api(ctx: Context, call: Any, *args: Any, **kwargs: Any) -> Any:
    """Call the API; turn an unreachable API server (or etcd behind it) into what to do."""
    from ..cluster.apiserver.errors import NotFoundError, StatusError

    try:
        return call(*args, **kwargs)
    except NotFoundError:
        raise
    except NetworkError as e:
        ctx.fail(f"the API server does not answer ({e}): if you moved kube-apiserver.yaml out of "
                 f"{_MANIFESTS}, move it back and let the kubelet start it (world.advance(60)); "
                 f"check with master.sh(\"kubectl get nodes\")")
    except StatusError as e:
        ctx.fail(f"the API server answers with an error ({e}): etcd behind it may be down; look at "
                 f"master.sh(\"sudo crictl ps -a\") and wait (world.advance(60))")
    except AivleError as e:  # pragma: no cover - any other library error, reported as such
        ctx.fail(f"reading the cluster failed: {e}")


def _deployment(ctx: Context, cluster: Any, name: str, namespace: str = "default") -> dict | None:
    from ..cluster.apiserver.errors import NotFoundError

    try:
        return _api(ctx, cluster.deployments.get, name, namespace).raw
    except NotFoundError:
        return None


def _need_deployment(ctx: Context, cluster: Any, name: str) -> dict:
    dep = _deployment(ctx, cluster, name)
    if dep is None:
        ctx.fail(f'there is no Deployment "{name}" in namespace default: create it with '
                 f'master.sh("kubectl apply -f {name}.yaml") (see the deploy step)')
    return dep


def _owned(objs: list, owner: dict) -> list[dict]:
    uid = owner["metadata"].get("uid")
    return [o.raw for o in objs if any(r.get("uid") == uid for r in o.metadata.get("ownerReferences") or [])]


def _replicasets(ctx: Context, cluster: Any, dep: dict) -> list[dict]:
    """The Deployment's ReplicaSets, oldest revision first."""
    rss = _owned(_api(ctx, cluster.replicasets.list, dep["metadata"].get("namespace", "default")), dep)
    return sorted(rss, key=lambda r: int((r["metadata"].get("annotations") or {}).get(_REVISION, "0") or 0))


def _image(obj: dict) -> str:
    containers = ((obj.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []
    return containers[0].get("image", "") if containers else ""


def _selector(dep: dict) -> str:
    labels = ((dep.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _pods(ctx: Context, cluster: Any, dep: dict) -> list[dict]:
    sel = _selector(dep)
    if not sel:
        return []
    return [p.raw for p in _api(ctx, cluster.pods.list, dep["metadata"].get("namespace", "default"),
                                label_selector=sel)]


def _status(pod: dict) -> str:
    from ..cluster.kubectl.printers import pod_status

    return pod_status(pod)[0]


def _wait_hint(dep: dict, want: int) -> str | None:
    """None when ``want`` replicas are available and the rollout is done, else what is going on and what to do."""
    name = dep["metadata"]["name"]
    st = dep.get("status") or {}
    avail = int(st.get("availableReplicas") or 0)
    if avail >= want and int(st.get("updatedReplicas") or 0) >= want and int(st.get("replicas") or 0) == want \
            and int(st.get("observedGeneration") or 0) >= int(dep["metadata"].get("generation") or 0):
        return None
    return (f"deployment {name} has {avail} of {want} replicas available"
            + (f" ({int(st.get('updatedReplicas') or 0)} up to date, {int(st.get('replicas') or 0)} in all)"
               if int(st.get("replicas") or 0) != avail else "")
            + f": wait (world.advance(30)) or check the pods' events with "
              f"master.sh(\"kubectl describe pod -l {_selector(dep) or 'app=' + name}\")")


def _ran(world: Any, *words: str) -> list[tuple[str, str]]:
    """``(machine, command)`` of every successful shell command containing all ``words``."""
    out = []
    for m in world.machines.values():
        for cmd, code in getattr(m, "history", []):
            if code == 0 and all(w in cmd for w in words):
                out.append((m.name, cmd))
    return out


# -- deploy -------------------------------------------------------------------------------------------
@step(LAB, "deploy")
def _deploy(ctx: Context):
    """A Deployment applied from a manifest file runs its replicas."""
    cluster = _cluster(ctx)
    master = _master(ctx)
    name = ctx.get("name", "web")
    want = int(ctx.get("replicas", 3))
    image = ctx.get("image", "nginx:1.25")
    manifest = ctx.get("manifest", f"/home/student/{name}.yaml")
    ctx.expect(master.fs.exists(manifest),
               f"there is no manifest {manifest} on {master.name}: write it with "
               f"master.write_file(\"{manifest.rsplit('/', 1)[-1]}\", ...)")
    dep = _need_deployment(ctx, cluster, name)
    ctx.expect(_LAST_APPLIED in (dep["metadata"].get("annotations") or {}),
               f"deployment {name} was not made with kubectl apply (it has no last-applied-configuration "
               f"annotation): delete it (kubectl delete deployment {name}) and run kubectl apply -f {manifest}")
    labels = ((dep["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {}
    ctx.expect(labels.get("app") == name,
               f"the pods of deployment {name} are labelled {labels or '{}'}: label them app: {name} in "
               f"spec.template.metadata.labels (and spec.selector.matchLabels), the Service will select them by it")
    have_image = _image(dep)
    ctx.expect(have_image == image, f"deployment {name} runs image {have_image or 'none'!r}, expected {image}: "
                                    f"set spec.template.spec.containers[0].image in the manifest and apply it again")
    replicas = int(dep["spec"].get("replicas", 1))
    if not ctx.expect(replicas == want, f"deployment {name} asks for {replicas} replicas, expected {want}: set "
                                        f"spec.replicas: {want} in the manifest and apply it again"):
        return None
    hint = _wait_hint(dep, want)
    ctx.expect(hint is None, hint or "")
    return f"deployment {name}: {want}/{want} replicas of {image} available"


# -- expose -------------------------------------------------------------------------------------------
@step(LAB, "expose")
def _expose(ctx: Context):
    """A NodePort Service selects the pods and answers on its ClusterIP and on its NodePort."""
    from ..cluster.apiserver.errors import NotFoundError

    cluster = _cluster(ctx)
    name = ctx.get("name", "web")
    port = int(ctx.get("port", 80))
    try:
        svc = _api(ctx, cluster.services.get, name).raw
    except NotFoundError:
        ctx.fail(f'there is no Service "{name}": write one of type NodePort (selector app: {name}, port {port}) '
                 f'to {name}-svc.yaml and run master.sh("kubectl apply -f {name}-svc.yaml")')
    spec = svc.get("spec") or {}
    if not ctx.expect(spec.get("type") == "NodePort",
                      f"Service {name} is of type {spec.get('type', 'ClusterIP')}: make it type: NodePort so it "
                      f"also answers on every node's port 30000-32767"):
        return None
    ports = spec.get("ports") or []
    node_port = next((p.get("nodePort") for p in ports if int(p.get("port", 0)) == port), None)
    ctx.expect(node_port, f"Service {name} has no port {port}: add ports: [{{port: {port}, targetPort: 80}}]")
    try:
        eps = _api(ctx, cluster.endpoints.get, name).raw
    except NotFoundError:
        eps = {}
    ready = [a.get("ip") for s in eps.get("subsets") or [] for a in s.get("addresses") or []]
    ctx.expect(ready, f"Service {name} has no endpoints: its selector {spec.get('selector') or {}} must match the "
                      f"pods' labels (app: {name}) and targetPort must be the container's port (80); "
                      f"look at master.sh(\"kubectl describe service {name}\")")
    ip = spec.get("clusterIP")
    world = ctx.world
    ctx.expect(_ran(world, "curl", f"{ip}"),
               f"curl the Service's ClusterIP: master.sh(\"curl -s http://{ip}/\")")
    if node_port:
        ctx.expect(_ran(world, "curl", f":{node_port}"),
                   f"curl the NodePort on a node: master.sh(\"curl -s http://worker-1:{node_port}/\")")
    return f"Service {name} ({ip}, NodePort {node_port}) sends traffic to {_plural(len(ready), 'pod')}"


# -- scale --------------------------------------------------------------------------------------------
@step(LAB, "scale")
def _scale(ctx: Context):
    """The Deployment was scaled to 5 replicas; its ReplicaSet runs them all."""
    cluster = _cluster(ctx)
    name = ctx.get("name", "web")
    want = int(ctx.get("replicas", 5))
    dep = _need_deployment(ctx, cluster, name)
    replicas = int(dep["spec"].get("replicas", 1))
    if not ctx.expect(replicas == want, f"deployment {name} asks for {replicas} replicas: scale it with "
                                        f"master.sh(\"kubectl scale deployment {name} --replicas={want}\")"):
        return None
    hint = _wait_hint(dep, want)
    ctx.expect(hint is None, hint or "")
    active = [rs for rs in _replicasets(ctx, cluster, dep) if int(rs["spec"].get("replicas") or 0) > 0]
    ctx.expect(len(active) == 1 and int((active[0].get("status") or {}).get("readyReplicas") or 0) == want,
               f"the ReplicaSet of deployment {name} does not run {want} ready pods yet: wait (world.advance(30)) "
               f"and look at master.sh(\"kubectl get rs\")")
    rs = active[0]["metadata"]["name"] if active else "?"
    return f"deployment {name} scaled to {want}: ReplicaSet {rs} runs {want} pods"


# -- rollout ------------------------------------------------------------------------------------------
@step(LAB, "rollout")
def _rollout(ctx: Context):
    """The Deployment was rolled out to a new image; the old ReplicaSet is kept at 0 for a rollback."""
    cluster = _cluster(ctx)
    name = ctx.get("name", "web")
    image = ctx.get("image", "nginx:1.27")
    want = int(ctx.get("replicas", 5))
    dep = _need_deployment(ctx, cluster, name)
    have = _image(dep)
    if not ctx.expect(have == image, f"deployment {name} runs {have or 'no image'}: roll out the new version with "
                                     f"master.sh(\"kubectl set image deployment/{name} nginx={image}\")"):
        return None
    hint = _wait_hint(dep, want)
    ctx.expect(hint is None, (hint or "") + f"; master.sh(\"kubectl rollout status deployment/{name}\") waits "
                                            f"for the rollout to finish")
    rss = _replicasets(ctx, cluster, dep)
    old = [rs for rs in rss if _image(rs) != image]
    ctx.expect(old, f"deployment {name} has no older ReplicaSet: roll out {image} from the earlier version "
                    f"(kubectl set image), do not delete and re-create the deployment")
    ctx.expect(all(int(rs["spec"].get("replicas") or 0) == 0 for rs in old),
               f"older ReplicaSets of {name} still have pods: wait for the rollout "
               f"(master.sh(\"kubectl rollout status deployment/{name}\"))")
    rev = (dep["metadata"].get("annotations") or {}).get(_REVISION, "1")
    return f"deployment {name} rolled out to {image} (revision {rev}); {_plural(len(old), 'old ReplicaSet')} kept at 0"


# -- rollback -----------------------------------------------------------------------------------------
@step(LAB, "rollback")
def _rollback(ctx: Context):
    """A broken image was rolled out (ImagePullBackOff) and rolled back; every replica runs the good image."""
    cluster = _cluster(ctx)
    name = ctx.get("name", "web")
    image = ctx.get("image", "nginx:1.27")
    bad = ctx.get("bad_image", "nginx:1.99")
    want = int(ctx.get("replicas", 5))
    dep = _need_deployment(ctx, cluster, name)
    rss = _replicasets(ctx, cluster, dep)
    broken = [rs for rs in rss if _image(rs) == bad]
    if not broken:
        ctx.fail(f"deployment {name} never tried {bad}: roll out the broken image first "
                 f"(kubectl set image deployment/{name} nginx={bad}), world.advance(30), and look at the pods")
    have = _image(dep)
    if have == bad:
        ctx.fail(f"deployment {name} still wants {bad}, which cannot be pulled (ImagePullBackOff): roll back with "
                 f"master.sh(\"kubectl rollout undo deployment/{name}\")")
    ctx.expect(have == image, f"deployment {name} runs {have}, expected {image} (the version before the broken one): "
                              f"kubectl rollout undo deployment/{name} returns to the previous revision")
    stuck = [p["metadata"]["name"] for p in _pods(ctx, cluster, dep)
             if _status(p) in ("ImagePullBackOff", "ErrImagePull") and not p["metadata"].get("deletionTimestamp")]
    ctx.expect(not stuck, f"pods still failing to pull: {', '.join(stuck)}: wait until the rollback replaces them "
                          f"(world.advance(30))")
    ctx.expect(all(int(rs["spec"].get("replicas") or 0) == 0 for rs in broken),
               f"the ReplicaSet of {bad} still has pods: wait (world.advance(30))")
    hint = _wait_hint(dep, want)
    ctx.expect(hint is None, hint or "")
    return f"deployment {name} is back on {image} after the failed rollout of {bad}"


# -- node failure -------------------------------------------------------------------------------------
@step(LAB, "node_failure")
def _node_failure(ctx: Context):
    """A powered-off worker went NotReady; its pods were evicted and re-created on the other nodes."""
    from ..cluster.apiserver.errors import NotFoundError

    cluster = _cluster(ctx)
    world = ctx.world
    name = ctx.get("name", "web")
    node = ctx.get("node", "worker-1")
    want = int(ctx.get("replicas", 5))
    machine = world.machines.get(node)
    if machine is None:
        ctx.fail(f'there is no machine named "{node}" (machines: {", ".join(world.machines)})')
    if machine.powered:
        ctx.fail(f"{node} is still powered on: pull its plug with world.machines[\"{node}\"].power_off()")
    try:
        obj = _api(ctx, cluster.nodes.get, node, None).raw
    except NotFoundError:
        ctx.fail(f"there is no Node {node} in the cluster any more: do not delete it, just power it off")
    ready = next((c.get("status") for c in (obj.get("status") or {}).get("conditions") or []
                  if c.get("type") == "Ready"), "Unknown")
    if ready == "True":
        ctx.fail(f"{node} is off but still Ready: the node controller waits 40 s without heartbeats "
                 f"(node-monitor-grace-period) before marking it NotReady: world.advance(50)")
    taints = {t.get("key") for t in (obj.get("spec") or {}).get("taints") or [] if t.get("effect") == "NoExecute"}
    ctx.expect("node.kubernetes.io/unreachable" in taints or "node.kubernetes.io/not-ready" in taints,
               f"{node} has no NoExecute taint yet: wait a few more seconds (world.advance(10))")
    dep = _need_deployment(ctx, cluster, name)
    pods = _pods(ctx, cluster, dep)
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    left = [p["metadata"]["name"] for p in live if (p.get("spec") or {}).get("nodeName") == node]
    ctx.expect(not left, f"{_plural(len(left), 'pod')} of {name} still counted on {node}: pods tolerate an "
                         f"unreachable node for 300 s (tolerationSeconds) before they are evicted: world.advance(300)")
    elsewhere = [p for p in live if (p.get("spec") or {}).get("nodeName") != node and _status(p) == "Running"]
    ctx.expect(len(elsewhere) >= want,
               f"{len(elsewhere)} of {want} pods of {name} run on the other nodes: wait for the ReplicaSet to "
               f"re-create them (world.advance(30)) and look at master.sh(\"kubectl get pods -o wide\")")
    try:
        eps = _api(ctx, cluster.endpoints.get, name).raw
    except NotFoundError:
        eps = {}
    ips = {a.get("ip") for s in eps.get("subsets") or [] for a in s.get("addresses") or []}
    dead = {(p.get("status") or {}).get("podIP") for p in pods if (p.get("spec") or {}).get("nodeName") == node}
    ctx.expect(ips and not (ips & dead),
               f"Service {name} does not send traffic only to live pods yet (endpoints: {sorted(ips) or 'none'}): "
               f"wait (world.advance(30))")
    return (f"{node} is NotReady (Ready={ready}); {len(elsewhere)} pods of {name} run on the other nodes "
            f"and Service {name} sends traffic to them only")


# -- etcd backup and restore ----------------------------------------------------------------------------
def _snapshot_store(ctx: Context, machine: Any, path: str) -> Any:
    from ..cluster.etcd import SnapshotCorrupt, Store

    if not machine.fs.exists(path):
        ctx.fail(f"there is no snapshot {path} on {machine.name}: save one with "
                 f"master.sh(ETCDCTL + \" snapshot save {path}\") (etcdctl with the etcd certificates)")
    try:
        return Store.snapshot_restore(machine.fs.read(path))
    except SnapshotCorrupt as e:
        ctx.fail(f"{path} is not a usable etcd snapshot ({e}): save it again with etcdctl snapshot save")


def _key(name: str) -> str:
    return f"/registry/deployments/default/{name}"


@step(LAB, "etcd_backup")
def _etcd_backup(ctx: Context):
    """etcd was backed up with ``etcdctl snapshot save``: the snapshot holds the Deployment."""
    master = _master(ctx)
    path = ctx.get("path", "/home/student/etcd-backup.db")
    name = ctx.get("name", "web")
    store = _snapshot_store(ctx, master, path)
    ctx.expect(store.get(_key(name)).count == 1,
               f"the snapshot {path} has no deployment {name} ({_key(name)}): take it while deployment {name} "
               f"exists (master.sh(\"kubectl get deployment {name}\")), then save it again")
    return f"{path}: etcd snapshot at revision {store.revision} with {_key(name)}"


def _etcd_data_dir(ctx: Context, master: Any) -> str:
    import yaml

    path = f"{_MANIFESTS}/etcd.yaml"
    if not master.fs.exists(path):
        ctx.fail(f"{path} is missing: move the etcd manifest back into {_MANIFESTS}")
    try:
        pod = yaml.safe_load(master.fs.read_text(path)) or {}
        command = pod["spec"]["containers"][0].get("command") or []
    except (yaml.YAMLError, KeyError, IndexError, TypeError, AttributeError):
        ctx.fail(f"{path} is not a valid Pod manifest any more: fix it (the etcd static pod cannot start)")
    for arg in command:
        if str(arg).startswith("--data-dir="):
            return str(arg).split("=", 1)[1]
    return "/var/lib/etcd"


@step(LAB, "etcd_restore")
def _etcd_restore(ctx: Context):
    """The deleted Deployment is back, restored from the snapshot the documented way (new data dir)."""
    master = _master(ctx)
    path = ctx.get("path", "/home/student/etcd-backup.db")
    name = ctx.get("name", "web")
    want = int(ctx.get("replicas", 5))
    if not master.fs.exists(f"{_MANIFESTS}/kube-apiserver.yaml"):
        ctx.fail(f"the API server is stopped (kube-apiserver.yaml is not in {_MANIFESTS}): move it back "
                 f"(sudo mv /tmp/kube-apiserver.yaml {_MANIFESTS}/) and world.advance(60)")
    data_dir = _etcd_data_dir(ctx, master)
    if data_dir == "/var/lib/etcd":
        ctx.fail(f"etcd still serves /var/lib/etcd, the data after the mistake: restore the snapshot into a new "
                 f"directory (sudo etcdutl snapshot restore {path} --data-dir /var/lib/etcd-from-backup) and point "
                 f"the etcd manifest at it (sed on {_MANIFESTS}/etcd.yaml)")
    ctx.expect(master.fs.exists(data_dir),
               f"etcd's manifest points at {data_dir}, which does not exist: restore the snapshot there with "
               f"sudo etcdutl snapshot restore {path} --data-dir {data_dir}")
    cluster = _cluster(ctx)
    dep = _deployment(ctx, cluster, name)
    if dep is None:
        ctx.fail(f"the API server shows no deployment {name}: if etcd has it (etcdctl get {_key(name)} --keys-only), "
                 f"the API server still serves what it cached before the restore: restart it (move "
                 f"kube-apiserver.yaml out of {_MANIFESTS}, world.advance(30), move it back, world.advance(60))")
    store = _snapshot_store(ctx, master, path)
    import json

    kvs = store.get(_key(name)).kvs
    saved_uid = json.loads(kvs[0].value).get("metadata", {}).get("uid") if kvs else None
    ctx.expect(saved_uid == dep["metadata"].get("uid"),
               f"deployment {name} is not the one in the snapshot (its uid differs): it was created again, "
               f"not restored; restore {path} with etcdutl as described")
    hint = _wait_hint(dep, want)
    ctx.expect(hint is None, hint or "")
    return f"deployment {name} is back from {path} (etcd data dir {data_dir}), {want}/{want} available"


# -- a 3-member etcd ----------------------------------------------------------------------------------
def _etcd(ctx: Context) -> Any:
    from ..cluster.etcd import EtcdCluster

    etcd = ctx.get("etcd")
    if not isinstance(etcd, EtcdCluster):
        ctx.fail(f"pass the 3-member etcd of the lab: check({LAB!r}, {ctx.step!r}, world=world, etcd=etcd3)")
    if len(etcd.members) != 3:
        ctx.fail(f"etcd3 has {_plural(len(etcd.members), 'member')}: this step needs the 3 members of the setup cell")
    return etcd


def _has(member: Any, key: str) -> bool:
    return member.store.get(key).count > 0


@step(LAB, "etcd_quorum")
def _etcd_quorum(ctx: Context):
    """With one of 3 members down etcd still writes; with two down writes fail and nothing is written."""
    from ..cluster.etcd import PutResponse, Unavailable

    etcd = _etcd(ctx)
    one_key = ctx.get("one_down_key", "/lab7/one-down")
    two_key = ctx.get("two_down_key", "/lab7/two-down")
    members = list(etcd.members.values())
    down = [m for m in members if not m.up]
    one_down, error = ctx.get("one_down"), ctx.get("two_down_error")
    if not down:
        ctx.fail("all 3 members are running: stop one with etcd3.stop(etcd3.leader), world.advance(3), and write "
                 f"with one_down = etcd3.put({one_key!r}, ...)")
    if not isinstance(one_down, PutResponse):
        ctx.fail(f"one_down is {one_down!r}: keep what etcd3.put({one_key!r}, ...) returns with one member down")
    ctx.expect(sum(_has(m, one_key) for m in members) >= 2,
               f"{one_key} is not on a majority of the members: write it while only one member is down")
    ctx.expect(any(not _has(m, one_key) for m in down),
               f"every stopped member has {one_key}: it was written before any member stopped; stop one first")
    if len(down) == len(members):
        ctx.fail("every member is stopped: this step needs one member still running (the one that cannot "
                 "write alone): start one again with etcd3.start(name)")
    if len(down) == 1:
        ctx.fail("only one member is stopped, so 2 of 3 still form a majority: stop a second one "
                 "(etcd3.stop(etcd3.leader)) and world.advance(5)")
    if error is None:
        ctx.fail(f"two_down_error is None: with two members down, try etcd3.put({two_key!r}, ...) inside "
                 f"try/except EtcdError and keep the error in two_down_error")
    ctx.expect(isinstance(error, Unavailable),
               f"two_down_error is {type(error).__name__}: {error}; expected the error etcd raises without a "
               f"quorum (request timed out / no leader)" if isinstance(error, BaseException) else
               f"two_down_error is {error!r}: keep the exception itself (except EtcdError as e: two_down_error = e)")
    ctx.expect(not any(_has(m, two_key) for m in members),
               f"{two_key} was written: with two of three members down there is no majority, so the write must "
               f"fail (stop two members before writing it)")
    ctx.expect(etcd.leader is None, "a leader is still elected: world.advance(5) so the lone member steps down")
    return (f"1 of 3 down: the write of {one_key} committed; 2 of 3 down: {error} "
            f"(quorum is {etcd.quorum} of {len(members)})")


@step(LAB, "etcd_recover")
def _etcd_recover(ctx: Context):
    """All members are back, a leader is elected, and every member holds the same data, nothing lost."""
    etcd = _etcd(ctx)
    keys = [ctx.get("before_key", "/lab7/before"), ctx.get("one_down_key", "/lab7/one-down")]
    two_key = ctx.get("two_down_key", "/lab7/two-down")
    down = [m.name for m in etcd.members.values() if not m.up]
    if down:
        ctx.fail(f"stopped members: {', '.join(down)}: start them with etcd3.start(name), then world.advance(3)")
    if etcd.leader is None:
        ctx.fail("no leader yet: let the members elect one (world.advance(3))")
    for key in keys:
        missing = [m.name for m in etcd.members.values() if not _has(m, key)]
        if len(missing) == len(etcd.members):
            ctx.expect(False, f"no member has {key}: do the etcd_quorum step first (write {key} with one member down)")
        else:
            ctx.expect(not missing, f"{', '.join(missing)} lack {key}: a restarted member catches up from the "
                                    f"leader's log: world.advance(1)")
    ctx.expect(not any(_has(m, two_key) for m in etcd.members.values()),
               f"{two_key} is there: a write refused without quorum must not appear later; write it only while "
               f"two members are down")
    snaps = {m.store.snapshot_bytes() for m in etcd.members.values()}
    ctx.expect(len(snaps) == 1, "the members' data differ: wait for them to catch up (world.advance(1))")
    return f"leader {etcd.leader}, term {etcd.term}: 3 identical members, {', '.join(keys)} kept"
