"""Admission plugins of kubeadm's default chain that a lab can notice.

In the order of the real chain, before validation: NamespaceLifecycle,
ServiceAccount, NodeRestriction, TaintNodesByCondition, Priority,
DefaultTolerationSeconds. Each plugin is a function of a :class:`Request`
(mutating ``req.obj`` in place or refusing); a refusal raises the real
error (``namespaces "demo" not found``, ``pods "web" is forbidden: node
"worker-1" can only update pod status for pods with spec.nodeName set to
itself``) and changes nothing.

>>> pod = {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
>>> default_toleration_seconds(pod)
>>> [t["key"] for t in pod["spec"]["tolerations"]]
['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from .auth import UserInfo, node_name_of
from .defaults import DEFAULT_TOLERATION_SECONDS
from .errors import ForbiddenError, NotFoundError
from .resources import ResourceInfo

__all__ = ["Request", "IMMORTAL_NAMESPACES", "MIRROR_POD_ANNOTATION", "admit",
           "default_toleration_seconds", "is_kubelet_label", "SYSTEM_PRIORITY_CLASSES"]

IMMORTAL_NAMESPACES = ("default", "kube-system", "kube-public")
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
NODE_LEASE_NAMESPACE = "kube-node-lease"

#: The built-in PriorityClasses the API server creates at start.
SYSTEM_PRIORITY_CLASSES = {"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}


class Request(NamedTuple):
    """What admission sees: the operation, the resource, who asks, the new and old object."""

    op: str  # CREATE UPDATE DELETE CONNECT
    info: ResourceInfo
    subresource: str
    namespace: str
    name: str
    user: UserInfo
    obj: Any  # the new object (None for DELETE)
    old: Any  # the stored object (None for CREATE)
    lookup: Callable[[str, str, str | None], dict | None]  # (plural, name, namespace) -> object or None


def _forbidden(req: Request, why: str) -> ForbiddenError:
    name = req.name
    if not name and isinstance(req.obj, dict):
        name = (req.obj.get("metadata") or {}).get("name", "")
    return ForbiddenError(req.info.plural, name or "", why, req.info.group)


# =====================================================================================
# mutating plugins
# =====================================================================================

def default_toleration_seconds(pod: dict, seconds: int = DEFAULT_TOLERATION_SECONDS) -> None:
    """DefaultTolerationSeconds: tolerate not-ready / unreachable nodes for 300 s unless the pod says otherwise."""
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        return
    tols = spec.get("tolerations")
    if not isinstance(tols, list):
        tols = []
    has = {"node.kubernetes.io/not-ready": False, "node.kubernetes.io/unreachable": False}
    for t in tols:
        if isinstance(t, dict) and t.get("key") in has and t.get("effect") in (None, "", "NoExecute"):
            has[t["key"]] = True
    added = [{"key": k, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": seconds}
             for k, present in has.items() if not present]
    if added:
        spec["tolerations"] = tols + added


def _service_account(req: Request) -> None:
    pod = req.obj
    if req.info.plural != "pods" or req.op != "CREATE" or req.subresource:
        return
    meta = pod.get("metadata") or {}
    if MIRROR_POD_ANNOTATION in (meta.get("annotations") or {}):
        return
    spec = pod.get("spec")
    if isinstance(spec, dict):
        if not spec.get("serviceAccountName"):
            spec["serviceAccountName"] = "default"
        spec["serviceAccount"] = spec["serviceAccountName"]


def _taint_nodes_by_condition(req: Request) -> None:
    if req.info.plural != "nodes" or req.op != "CREATE":
        return
    spec = req.obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    taints = spec.get("taints") or []
    if not any(isinstance(t, dict) and t.get("key") == "node.kubernetes.io/not-ready" and t.get("effect") == "NoSchedule"
               for t in taints):
        spec["taints"] = list(taints) + [{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]


def _priority(req: Request) -> None:
    if req.info.plural != "pods" or req.op != "CREATE" or req.subresource:
        return
    spec = req.obj.get("spec")
    if not isinstance(spec, dict):
        return
    pcn = spec.get("priorityClassName")
    value, policy = 0, "PreemptLowerPriority"
    if pcn:
        if pcn in SYSTEM_PRIORITY_CLASSES:
            value = SYSTEM_PRIORITY_CLASSES[pcn]  # usable in every namespace since Kubernetes 1.17
        else:
            pc = req.lookup("priorityclasses", pcn, None)
            if pc is None:
                raise _forbidden(req, f"no PriorityClass with name {pcn} was found")
            value = int(pc.get("value", 0))
            policy = pc.get("preemptionPolicy", policy)
    given = spec.get("priority")
    if given is not None and given != value:
        raise _forbidden(req, f"the integer value of priority ({given}) must not be provided in pod spec; priority "
                              f"admission controller computed {value} from the given PriorityClass name")
    spec["priority"] = value
    spec.setdefault("preemptionPolicy", policy)


def _default_toleration_seconds(req: Request) -> None:
    if req.info.plural == "pods" and req.op == "CREATE" and not req.subresource:
        default_toleration_seconds(req.obj)


# =====================================================================================
# refusing plugins
# =====================================================================================

def _namespace_lifecycle(req: Request) -> None:
    info = req.info
    if info.plural == "namespaces":
        if req.op == "DELETE" and req.name in IMMORTAL_NAMESPACES:
            raise ForbiddenError("namespaces", req.name, "this namespace may not be deleted")
        return
    if not info.namespaced or req.op != "CREATE" or req.subresource in ("binding", "eviction", "status"):
        return
    ns = req.lookup("namespaces", req.namespace, None)
    if ns is None:
        raise NotFoundError("namespaces", req.namespace)
    if (ns.get("status") or {}).get("phase") == "Terminating" or (ns.get("metadata") or {}).get("deletionTimestamp"):
        if info.plural == "events":
            return
        raise ForbiddenError(info.plural, req.name, f"unable to create new content in namespace {req.namespace} "
                                                    f"because it is being terminated", info.group)


#: label namespaces a kubelet may set on its own Node (``kubeletapis.IsKubeletLabel``)
_KUBELET_LABELS = {"kubernetes.io/hostname", "kubernetes.io/arch", "kubernetes.io/os", "beta.kubernetes.io/arch",
                   "beta.kubernetes.io/os", "beta.kubernetes.io/instance-type", "node.kubernetes.io/instance-type",
                   "topology.kubernetes.io/region", "topology.kubernetes.io/zone",
                   "failure-domain.beta.kubernetes.io/region", "failure-domain.beta.kubernetes.io/zone"}
_KUBELET_LABEL_NAMESPACES = ("kubelet.kubernetes.io", "node.kubernetes.io")


def is_kubelet_label(key: str) -> bool:
    if key in _KUBELET_LABELS:
        return True
    ns = key.split("/", 1)[0] if "/" in key else ""
    return any(ns == n or ns.endswith("." + n) for n in _KUBELET_LABEL_NAMESPACES)


def _forbidden_labels(new: dict, old: dict) -> list[str]:
    modified = {k for k in set(new) | set(old) if new.get(k) != old.get(k)}
    bad = []
    for k in sorted(modified):
        ns = k.split("/", 1)[0] if "/" in k else ""
        if ns == "node-restriction.kubernetes.io" or ns.endswith(".node-restriction.kubernetes.io"):
            bad.append(k)
            continue
        kube = ns in ("kubernetes.io", "k8s.io") or ns.endswith(".kubernetes.io") or ns.endswith(".k8s.io")
        if kube and not is_kubelet_label(k):
            bad.append(k)
    return bad


def _node_restriction(req: Request) -> None:
    node = node_name_of(req.user)
    if node is None:
        return
    plural, op, sub = req.info.plural, req.op, req.subresource
    if plural == "pods":
        if sub == "":
            if op == "CREATE":
                pod = req.obj
                meta = pod.get("metadata") or {}
                if MIRROR_POD_ANNOTATION not in (meta.get("annotations") or {}):
                    raise _forbidden(req, f'pod does not have "{MIRROR_POD_ANNOTATION}" annotation, node "{node}" can '
                                          f'only create mirror pods')
                if (pod.get("spec") or {}).get("nodeName") != node:
                    raise _forbidden(req, f'node "{node}" can only create pods with spec.nodeName set to itself')
                owners = meta.get("ownerReferences") or []
                if len(owners) > 1:
                    raise _forbidden(req, f'node "{node}" can only create pods with a single owner reference set to '
                                          f'itself')
                if not owners:
                    raise _forbidden(req, f'node "{node}" can only create pods with an owner reference set to itself')
                o = owners[0]
                if o.get("apiVersion") != "v1" or o.get("kind") != "Node" or o.get("name") != node:
                    raise _forbidden(req, f'node "{node}" can only create pods with an owner reference set to itself')
                if not o.get("controller"):
                    raise _forbidden(req, f'node "{node}" can only create pods with a controller owner reference set '
                                          f'to itself')
                if o.get("blockOwnerDeletion"):
                    raise _forbidden(req, f'node "{node}" must not set blockOwnerDeletion on an owner reference')
                nobj = req.lookup("nodes", node, None)
                if nobj is None:
                    raise NotFoundError("nodes", node)
                uid = (nobj.get("metadata") or {}).get("uid")
                if o.get("uid") != uid:
                    raise _forbidden(req, f"node {node} UID mismatch: expected {o.get('uid')} got {uid}")
                if (pod.get("spec") or {}).get("serviceAccountName"):
                    raise _forbidden(req, f'node "{node}" can not create pods that reference a service account')
            elif op == "DELETE":
                if ((req.old or {}).get("spec") or {}).get("nodeName") != node:
                    raise _forbidden(req, f'node "{node}" can only delete pods with spec.nodeName set to itself')
            else:
                raise _forbidden(req, f'unexpected operation "{op}", node "{node}" can only create and delete mirror '
                                      f'pods')
        elif sub == "status":
            if op != "UPDATE":
                raise _forbidden(req, f'unexpected operation "{op}"')
            if ((req.old or {}).get("spec") or {}).get("nodeName") != node:
                raise _forbidden(req, f'node "{node}" can only update pod status for pods with spec.nodeName set to '
                                      f'itself')
            if ((req.obj or {}).get("metadata") or {}).get("labels") != \
                    ((req.old or {}).get("metadata") or {}).get("labels"):
                raise _forbidden(req, f'node "{node}" cannot update labels through pod status')
        elif sub == "eviction":
            if ((req.old or {}).get("spec") or {}).get("nodeName") != node:
                raise _forbidden(req, f"node {node} can only evict pods with spec.nodeName set to itself")
        else:
            raise _forbidden(req, f"unexpected pod subresource \"{sub}\", only 'status' and 'eviction' are allowed")
    elif plural == "nodes":
        if req.name != node:
            raise _forbidden(req, f'node "{node}" is not allowed to modify node "{req.name}"')
        if op == "CREATE":
            labels = ((req.obj or {}).get("metadata") or {}).get("labels") or {}
            bad = _forbidden_labels(labels, {})
            if bad:
                raise _forbidden(req, f'node "{node}" is not allowed to set the following labels: {", ".join(bad)}')
        elif op == "UPDATE":
            new_spec, old_spec = (req.obj or {}).get("spec") or {}, (req.old or {}).get("spec") or {}
            if (new_spec.get("taints") or []) != (old_spec.get("taints") or []):
                raise _forbidden(req, f'node "{node}" is not allowed to modify taints')
            bad = _forbidden_labels(((req.obj or {}).get("metadata") or {}).get("labels") or {},
                                    ((req.old or {}).get("metadata") or {}).get("labels") or {})
            if bad:
                raise _forbidden(req, f"is not allowed to modify labels: {', '.join(bad)}")
    elif plural == "leases":
        if req.namespace != NODE_LEASE_NAMESPACE:
            raise _forbidden(req, f'can only access leases in the "{NODE_LEASE_NAMESPACE}" system namespace')
        if req.name != node:
            raise _forbidden(req, "can only access node lease with the same name as the requesting node")


_CHAIN = (_namespace_lifecycle, _service_account, _node_restriction, _taint_nodes_by_condition, _priority,
          _default_toleration_seconds)
_NEEDS_OBJECT = {_service_account, _taint_nodes_by_condition, _priority, _default_toleration_seconds}


#: the plugins' names in ``--enable-admission-plugins`` (what a refusal names in the audit log)
PLUGIN_NAMES = {_namespace_lifecycle: "NamespaceLifecycle", _service_account: "ServiceAccount",
                _node_restriction: "NodeRestriction", _taint_nodes_by_condition: "TaintNodesByCondition",
                _priority: "Priority", _default_toleration_seconds: "DefaultTolerationSeconds"}


def admit(req: Request) -> None:
    """Run the admission chain: mutate ``req.obj`` in place or raise the first refusal
    (tagged with ``audit_phase="admission"`` and the refusing plugin's name for the audit log)."""
    for plugin in _CHAIN:
        if req.obj is None and plugin in _NEEDS_OBJECT:
            continue
        try:
            plugin(req)
        except (ForbiddenError, NotFoundError) as e:
            e.audit_phase = "admission"  # type: ignore[attr-defined]
            e.admission_plugin = PLUGIN_NAMES.get(plugin, plugin.__name__)  # type: ignore[attr-defined]
            raise
