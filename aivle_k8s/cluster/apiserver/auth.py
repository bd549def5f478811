"""Who is asking (authentication) and may they (authorization): a small RBAC-like table.

Identities are the ones a kubeadm cluster hands out::

    kubernetes-admin                        groups kubeadm:cluster-admins (admin.conf; cluster-admin)
    kubernetes-super-admin                  groups system:masters        (super-admin.conf)
    system:node:<node>                      groups system:nodes          (kubelet.conf)
    system:bootstrap:<token-id>             groups system:bootstrappers, system:bootstrappers:kubeadm:default-node-token
    system:kube-controller-manager          (controller-manager.conf)
    system:kube-scheduler                   (scheduler.conf)
    system:serviceaccount:<ns>:<name>       groups system:serviceaccounts, system:serviceaccounts:<ns>
    system:anonymous                        groups system:unauthenticated

Authorization is ``Node,RBAC`` as kubeadm configures it: the node authorizer
scopes what a kubelet may read (secrets and configmaps only when one of its
pods uses them) and the rest is a table of rules per user or group — the
bootstrap ClusterRoles, condensed. NodeRestriction (in ``admission``) then
limits which objects a kubelet may write.

>>> a = Attributes(user_info("system:node:worker-1"), "list", "secrets", "", namespace="default")
>>> authorize(a)
(False, 'No Object name found')
>>> forbidden_message(a)
'User "system:node:worker-1" cannot list resource "secrets" in API group "" in the namespace "default"'
>>> authorize(Attributes(user_info("kubernetes-admin"), "delete", "nodes", "", name="w1"))
(True, '')
"""

from __future__ import annotations

import fnmatch
from typing import Callable, Iterable, NamedTuple

__all__ = ["UserInfo", "user_info", "Attributes", "Rule", "POLICY", "authorize", "forbidden_message",
           "node_name_of", "ADMIN", "SUPER_ADMIN", "CONTROLLER_MANAGER", "SCHEDULER", "ANONYMOUS"]


class UserInfo(NamedTuple):
    """An authenticated identity: ``name`` and ``groups`` (``system:authenticated`` implied)."""

    name: str
    groups: tuple = ()
    uid: str = ""

    def __str__(self) -> str:
        return self.name


_WELL_KNOWN = {
    "kubernetes-admin": ("kubeadm:cluster-admins", "system:authenticated"),
    "kubernetes-super-admin": ("system:masters", "system:authenticated"),
    "system:kube-controller-manager": ("system:authenticated",),
    "system:kube-scheduler": ("system:authenticated",),
    "system:kube-proxy": ("system:authenticated",),
    "system:apiserver": ("system:masters", "system:authenticated"),
    "system:anonymous": ("system:unauthenticated",),
}

_CACHE: dict[str, UserInfo] = {}


def user_info(user: "str | UserInfo | None") -> UserInfo:
    """The identity behind a user name, with the groups its credentials carry.

    >>> user_info("system:node:worker-1").groups
    ('system:nodes', 'system:authenticated')
    >>> user_info("system:serviceaccount:kube-system:replicaset-controller").groups
    ('system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated')
    """
    if isinstance(user, UserInfo):
        return user
    if user is None or user == "":
        user = "system:anonymous"
    hit = _CACHE.get(user)
    if hit is not None:
        return hit
    name = str(user)
    if name in _WELL_KNOWN:
        groups = _WELL_KNOWN[name]
    elif name.startswith("system:node:"):
        groups = ("system:nodes", "system:authenticated")
    elif name.startswith("system:bootstrap:"):
        groups = ("system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token", "system:authenticated")
    elif name.startswith("system:serviceaccount:") and name.count(":") == 3:
        ns = name.split(":")[2]
        groups = ("system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated")
    else:
        groups = ("system:authenticated",)
    info = UserInfo(name, groups)
    _CACHE[name] = info
    return info


ADMIN = user_info("kubernetes-admin")
SUPER_ADMIN = user_info("kubernetes-super-admin")
CONTROLLER_MANAGER = user_info("system:kube-controller-manager")
SCHEDULER = user_info("system:kube-scheduler")
ANONYMOUS = user_info("system:anonymous")


def node_name_of(user: UserInfo) -> str | None:
    """The node a kubelet credential belongs to (``system:node:<name>`` in ``system:nodes``)."""
    if "system:nodes" in user.groups and user.name.startswith("system:node:"):
        return user.name[len("system:node:"):]
    return None


class Attributes(NamedTuple):
    """One request as the authorizer sees it."""

    user: UserInfo
    verb: str  # get list watch create update patch delete deletecollection
    resource: str  # plural
    group: str
    subresource: str = ""
    namespace: str = ""
    name: str = ""

    @property
    def resource_path(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


class Rule(NamedTuple):
    """A PolicyRule: verbs x apiGroups x resources (``pods/status`` for subresources), optionally
    limited to names and namespaces. ``*`` matches anything."""

    verbs: tuple
    groups: tuple
    resources: tuple
    names: tuple = ()
    namespaces: tuple = ()

    def allows(self, a: Attributes) -> bool:
        if "*" not in self.verbs and a.verb not in self.verbs:
            return False
        if "*" not in self.groups and a.group not in self.groups:
            return False
        res = a.resource_path
        if "*" not in self.resources and res not in self.resources and \
                not (a.subresource and f"{a.resource}/*" in self.resources):
            return False
        if self.names and a.name not in self.names:
            return False
        if self.namespaces and a.namespace not in self.namespaces:
            return False
        return True


def _r(verbs: str, groups: str, resources: str, names: Iterable[str] = (), namespaces: Iterable[str] = ()) -> Rule:
    return Rule(tuple(verbs.split()), tuple("" if g == '""' else g for g in groups.split()),
                tuple(resources.split()), tuple(names), tuple(namespaces))


READ = "get list watch"
WRITE = "create update patch delete"
_ALL = (_r("*", "*", "*"),)

#: The node authorizer's static rules (``system:node`` ClusterRole); NodeRestriction narrows writes.
NODE_RULES = (
    _r(READ + " " + WRITE, '""', "nodes"),
    _r("update patch", '""', "nodes/status"),
    _r(READ + " create delete", '""', "pods"),
    _r("update patch", '""', "pods/status"),
    _r("create", '""', "pods/eviction"),
    _r("create update patch", '"" events.k8s.io', "events"),
    _r(READ, '""', "services endpoints"),
    _r(READ, "discovery.k8s.io", "endpointslices"),
    _r("create get list watch", "certificates.k8s.io", "certificatesigningrequests"),
    _r("create", '""', "serviceaccounts/token"),
    _r("get", "node.k8s.io", "runtimeclasses"),
    _r("get create update patch delete", "coordination.k8s.io", "leases"),
)

_CONTROLLER_SA = ("system:serviceaccount:kube-system:*-controller", "system:serviceaccount:kube-system:*-controller-*",
                  "system:serviceaccount:kube-system:generic-garbage-collector",
                  "system:serviceaccount:kube-system:bootstrap-signer",
                  "system:serviceaccount:kube-system:token-cleaner",
                  "system:serviceaccount:kube-system:horizontal-pod-autoscaler",
                  "system:serviceaccount:kube-system:*-protection-controller")

#: Who may do what, by ``user:<name>`` or ``group:<name>`` (names may use ``*`` wildcards).
POLICY: dict[str, tuple[Rule, ...]] = {
    "group:system:masters": _ALL,  # no RBAC can restrict it
    "group:kubeadm:cluster-admins": _ALL,  # ClusterRoleBinding kubeadm:cluster-admins -> cluster-admin
    # system:kube-controller-manager and the controllers' service accounts (one ClusterRole each
    # in a real cluster; condensed here: they manage every object)
    "user:system:kube-controller-manager": _ALL,
    **{f"user:{pattern}": _ALL for pattern in _CONTROLLER_SA},
    "user:system:kube-scheduler": (
        _r(READ, "*", "*"),
        _r("create", '""', "pods/binding bindings"),
        _r("update patch", '""', "pods/status"),
        _r("delete", '""', "pods"),
        _r("create update patch", '"" events.k8s.io', "events"),
        _r("get create update patch", "coordination.k8s.io", "leases", namespaces=("kube-system",)),
    ),
    "user:system:kube-proxy": (
        _r(READ, '""', "services endpoints nodes"),
        _r(READ, "discovery.k8s.io", "endpointslices"),
        _r("create update patch", '"" events.k8s.io', "events"),
    ),
    "user:system:serviceaccount:kube-system:kube-proxy": (
        _r(READ, '""', "services endpoints nodes"),
        _r(READ, "discovery.k8s.io", "endpointslices"),
        _r("create update patch", '"" events.k8s.io', "events"),
    ),
    # the CNI plugins' ClusterRoles, as their manifests create them
    "user:system:serviceaccount:kube-flannel:flannel": (
        _r("get", '""', "pods"),
        _r("get list watch", '""', "nodes"),
        _r("patch", '""', "nodes/status"),
        _r("create update patch", '"" events.k8s.io', "events"),
    ),
    "user:system:serviceaccount:kube-system:calico-node": (
        _r(READ, '""', "pods nodes namespaces services endpoints serviceaccounts configmaps"),
        _r("patch update", '""', "nodes/status pods/status"),
        _r(READ, "discovery.k8s.io", "endpointslices"),
        _r("create update patch", '"" events.k8s.io', "events"),
    ),
    "user:system:serviceaccount:kube-system:coredns": (
        _r("list watch", '""', "endpoints services pods namespaces"),
        _r("list watch", "discovery.k8s.io", "endpointslices"),
        _r("get", '""', "nodes"),
    ),
    # metrics-server's ClusterRole system:metrics-server (components.yaml)
    "user:system:serviceaccount:kube-system:metrics-server": (
        _r("get", '""', "nodes/metrics"),
        _r(READ, '""', "pods nodes"),
    ),
    # kubeadm join with a bootstrap token: submit a CSR, read what discovery and join need
    "group:system:bootstrappers": (
        _r("create get list watch", "certificates.k8s.io", "certificatesigningrequests"),
        _r("get", '""', "configmaps", names=("cluster-info",), namespaces=("kube-public",)),
        _r("get", '""', "configmaps", names=("kubeadm-config", "kubelet-config", "kube-proxy"),
           namespaces=("kube-system",)),
        _r("get", '""', "nodes"),
    ),
    # kubeadm's Role kubeadm:bootstrap-signer-clusterinfo, bound to system:anonymous
    "user:system:anonymous": (
        _r("get", '""', "configmaps", names=("cluster-info",), namespaces=("kube-public",)),
    ),
    "group:system:authenticated": (
        _r("create", "authorization.k8s.io", "selfsubjectaccessreviews selfsubjectrulesreviews"),
    ),
}


def _subjects(user: UserInfo) -> list[str]:
    return [f"user:{user.name}"] + [f"group:{g}" for g in user.groups]


_WILDCARD_KEYS = [k for k in POLICY if "*" in k]
_RULE_CACHE: dict[tuple, tuple[Rule, ...]] = {}


def _rules_for(user: UserInfo) -> tuple[Rule, ...]:
    hit = _RULE_CACHE.get(user)  # type: ignore[call-overload]
    if hit is not None:
        return hit
    rules: list[Rule] = []
    for s in _subjects(user):
        rules.extend(POLICY.get(s, ()))
        for k in _WILDCARD_KEYS:
            if k != s and fnmatch.fnmatchcase(s, k):
                rules.extend(POLICY[k])
    out = tuple(rules)
    _RULE_CACHE[user] = out  # type: ignore[index]
    return out


# the node authorizer: resources whose access depends on the graph of pods bound to the node
_GRAPH_READ = {("", "secrets"), ("", "configmaps"), ("", "persistentvolumeclaims"), ("", "persistentvolumes")}


def authorize(a: Attributes, references: Callable[[str, str, str, str], bool] | None = None) -> tuple[bool, str]:
    """``(allowed, reason)`` for a request (Node authorizer, then the rule table).

    ``references(node, resource, namespace, name)`` tells the node authorizer
    whether a pod bound to ``node`` uses that secret or configmap.
    """
    user = a.user
    node = node_name_of(user)
    if node is not None:
        if (a.group, a.resource) in _GRAPH_READ:
            if a.verb not in ("get", "list", "watch"):
                return False, "can only read resources of this type"
            if a.subresource:
                return False, "cannot read subresource"
            if not a.namespace:
                return False, "can only read namespaced object of this type"
            if not a.name:
                return False, "No Object name found"
            if references is not None and references(node, a.resource, a.namespace, a.name):
                return True, ""
            return False, f"no relationship found between node '{node}' and this object"
        for rule in NODE_RULES:
            if rule.allows(a):
                return True, ""
    for rule in _rules_for(user):
        if rule.allows(a):
            return True, ""
    return False, ""


def forbidden_message(a: Attributes) -> str:
    """RBAC's words: ``User "x" cannot list resource "pods" in API group "" in the namespace "default"``."""
    res = a.resource_path
    if a.namespace:
        return (f'User "{a.user.name}" cannot {a.verb} resource "{res}" in API group "{a.group}" in the namespace '
                f'"{a.namespace}"')
    return f'User "{a.user.name}" cannot {a.verb} resource "{res}" in API group "{a.group}" at the cluster scope'
