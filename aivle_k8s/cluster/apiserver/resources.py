"""The kinds the API server serves: names, scope, group/version and etcd location.

One row per resource, as ``kubectl api-resources`` lists them, plus where the
object lives in etcd (the real key layout: nodes under ``/registry/minions``,
services under ``/registry/services/specs``, endpoints under
``/registry/services/endpoints``).

>>> resolve("deploy").kind, resolve("po").plural, resolve("deployments.apps").group
('Deployment', 'pods', 'apps')
>>> resolve("nodes").etcd_key("worker-1")
'/registry/minions/worker-1'
>>> resolve("foo")
Traceback (most recent call last):
...
aivle_k8s.cluster.apiserver.errors.UnknownResourceError: the server doesn't have a resource type "foo"
>>> resolve_kind("apps/v1", "Deploymnt")
Traceback (most recent call last):
...
aivle_k8s.cluster.apiserver.errors.NoKindMatchError: no matches for kind "Deploymnt" in version "apps/v1"
did you mean kind "Deployment"?
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterator

from .errors import NoKindMatchError, UnknownResourceError

__all__ = ["ResourceInfo", "RESOURCES", "resolve", "resolve_kind", "resource_for", "all_resources",
           "SUBRESOURCE_KINDS"]


@dataclass(frozen=True)
class ResourceInfo:
    """One served resource type (a row of ``kubectl api-resources``)."""

    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...]
    namespaced: bool
    group: str
    version: str
    etcd_dir: str | None  # under /registry/; None: not stored (Binding)
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
    categories: tuple[str, ...] = ()
    generation: bool = False  # metadata.generation tracks spec changes
    _prefix: str = field(default="", compare=False, repr=False)

    @property
    def api_version(self) -> str:
        """``v1`` or ``<group>/<version>`` (``apps/v1``)."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """``pods``, ``deployments.apps``: how errors name the resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        """``Pod``, ``Deployment.apps``: how Invalid errors name the kind."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    @property
    def etcd_prefix(self) -> str:
        """The key prefix of every object of this type (``/registry/pods/``)."""
        return f"/registry/{self.etcd_dir}/"

    def etcd_key(self, name: str, namespace: str | None = None) -> str:
        if self.namespaced:
            return f"/registry/{self.etcd_dir}/{namespace}/{name}"
        return f"/registry/{self.etcd_dir}/{name}"

    def etcd_namespace_prefix(self, namespace: str | None) -> str:
        if self.namespaced and namespace:
            return f"/registry/{self.etcd_dir}/{namespace}/"
        return self.etcd_prefix

    def __repr__(self) -> str:
        return f"<Resource {self.group_resource} {self.api_version} {self.kind}>"


_ALL = ("all",)
_STATUS = ("status",)

#: Every served resource, in ``kubectl api-resources`` order (core first, then by group).
RESOURCES: tuple[ResourceInfo, ...] = (
    ResourceInfo("Binding", "bindings", "binding", (), True, "", "v1", None, verbs=("create",)),
    ResourceInfo("ConfigMap", "configmaps", "configmap", ("cm",), True, "", "v1", "configmaps"),
    ResourceInfo("Endpoints", "endpoints", "endpoints", ("ep",), True, "", "v1", "services/endpoints"),
    ResourceInfo("Event", "events", "event", ("ev",), True, "", "v1", "events"),
    ResourceInfo("Namespace", "namespaces", "namespace", ("ns",), False, "", "v1", "namespaces",
                 ("status", "finalize"), verbs=("create", "delete", "get", "list", "patch", "update", "watch")),
    ResourceInfo("Node", "nodes", "node", ("no",), False, "", "v1", "minions", ("status", "proxy")),
    ResourceInfo("Pod", "pods", "pod", ("po",), True, "", "v1", "pods",
                 ("status", "binding", "eviction", "log", "exec", "attach", "portforward", "proxy"),
                 categories=_ALL),
    ResourceInfo("Secret", "secrets", "secret", (), True, "", "v1", "secrets"),
    ResourceInfo("ServiceAccount", "serviceaccounts", "serviceaccount", ("sa",), True, "", "v1", "serviceaccounts",
                 ("token",)),
    ResourceInfo("Service", "services", "service", ("svc",), True, "", "v1", "services/specs", ("status", "proxy"),
                 verbs=("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"),
                 categories=_ALL),
    ResourceInfo("ControllerRevision", "controllerrevisions", "controllerrevision", (), True, "apps", "v1",
                 "controllerrevisions"),
    ResourceInfo("DaemonSet", "daemonsets", "daemonset", ("ds",), True, "apps", "v1", "daemonsets", _STATUS,
                 categories=_ALL, generation=True),
    ResourceInfo("Deployment", "deployments", "deployment", ("deploy",), True, "apps", "v1", "deployments",
                 ("status", "scale"), categories=_ALL, generation=True),
    ResourceInfo("ReplicaSet", "replicasets", "replicaset", ("rs",), True, "apps", "v1", "replicasets",
                 ("status", "scale"), categories=_ALL, generation=True),
    ResourceInfo("StatefulSet", "statefulsets", "statefulset", ("sts",), True, "apps", "v1", "statefulsets",
                 ("status", "scale"), categories=_ALL, generation=True),
    ResourceInfo("CronJob", "cronjobs", "cronjob", ("cj",), True, "batch", "v1", "cronjobs", _STATUS,
                 categories=_ALL, generation=True),
    ResourceInfo("Job", "jobs", "job", (), True, "batch", "v1", "jobs", _STATUS, categories=_ALL, generation=True),
    ResourceInfo("APIService", "apiservices", "apiservice", (), False, "apiregistration.k8s.io", "v1",
                 "apiregistration.k8s.io/apiservices", _STATUS),
    ResourceInfo("CertificateSigningRequest", "certificatesigningrequests", "certificatesigningrequest", ("csr",),
                 False, "certificates.k8s.io", "v1", "certificatesigningrequests", ("status", "approval")),
    ResourceInfo("Lease", "leases", "lease", (), True, "coordination.k8s.io", "v1", "leases"),
    ResourceInfo("EndpointSlice", "endpointslices", "endpointslice", (), True, "discovery.k8s.io", "v1",
                 "endpointslices"),
    ResourceInfo("ClusterRoleBinding", "clusterrolebindings", "clusterrolebinding", (), False,
                 "rbac.authorization.k8s.io", "v1", "clusterrolebindings"),
    ResourceInfo("ClusterRole", "clusterroles", "clusterrole", (), False, "rbac.authorization.k8s.io", "v1",
                 "clusterroles"),
    ResourceInfo("RoleBinding", "rolebindings", "rolebinding", (), True, "rbac.authorization.k8s.io", "v1",
                 "rolebindings"),
    ResourceInfo("Role", "roles", "role", (), True, "rbac.authorization.k8s.io", "v1", "roles"),
    ResourceInfo("PriorityClass", "priorityclasses", "priorityclass", ("pc",), False, "scheduling.k8s.io", "v1",
                 "priorityclasses"),
)

#: Kinds of subresource objects: what ``get(..., subresource=...)`` returns.
SUBRESOURCE_KINDS = {"scale": ("autoscaling/v1", "Scale"), "eviction": ("policy/v1", "Eviction"),
                     "binding": ("v1", "Binding")}

#: Groups served, with the versions a manifest may name (for did-you-mean hints).
_KNOWN_OLD = {  # kinds that moved: what students copy from old tutorials
    ("extensions/v1beta1", "Deployment"), ("apps/v1beta1", "Deployment"), ("apps/v1beta2", "Deployment"),
    ("extensions/v1beta1", "DaemonSet"), ("extensions/v1beta1", "ReplicaSet"), ("batch/v1beta1", "CronJob"),
}

_BY_NAME: dict[str, list[ResourceInfo]] = {}
_BY_KIND: dict[tuple[str, str], ResourceInfo] = {}
_BY_PLURAL: dict[tuple[str, str], ResourceInfo] = {}
for _r in RESOURCES:
    for _n in {_r.plural, _r.singular, _r.kind.lower(), *_r.short_names}:
        _BY_NAME.setdefault(_n, []).append(_r)
    _BY_KIND[(_r.api_version, _r.kind)] = _r
    _BY_PLURAL[(_r.group, _r.plural)] = _r


def all_resources() -> Iterator[ResourceInfo]:
    return iter(RESOURCES)


def resource_for(group: str, plural: str) -> ResourceInfo:
    """The resource with this group and plural (``("apps", "deployments")``)."""
    try:
        return _BY_PLURAL[(group, plural)]
    except KeyError:
        raise UnknownResourceError(f"{plural}.{group}" if group else plural) from None


def resolve(name: str) -> ResourceInfo:
    """Map what a user types after ``kubectl get`` to a resource.

    Accepts plural, singular, short names and kinds, any case, optionally
    qualified by group (``deployments.apps``) or version and group
    (``deployments.v1.apps``).

    Raises:
        UnknownResourceError: ``the server doesn't have a resource type "foo"``.
    """
    if isinstance(name, ResourceInfo):
        return name
    text = str(name).strip()
    low = text.lower()
    hits = _BY_NAME.get(low)
    if hits:
        return _prefer(hits)
    if "." in low:
        base, _, rest = low.partition(".")
        candidates = _BY_NAME.get(base, [])
        for r in candidates:
            if rest == r.group or rest == f"{r.version}.{r.group}" or (not r.group and rest == r.version):
                return r
    close = difflib.get_close_matches(low, list(_BY_NAME), n=1, cutoff=0.75)
    hint = f'did you mean "{close[0]}"?' if close else ""
    raise UnknownResourceError(text, hint)


def _prefer(hits: list[ResourceInfo]) -> ResourceInfo:
    # the core group wins, as in kubectl's priority RESTMapper (events v1 over events.k8s.io)
    for r in hits:
        if not r.group:
            return r
    return hits[0]


def resolve_kind(api_version: str, kind: str) -> ResourceInfo:
    """The resource a manifest's ``apiVersion`` + ``kind`` names.

    Raises:
        NoKindMatchError: ``no matches for kind "X" in version "Y"``, with a
            did-you-mean hint (a misspelt kind, or the kind's current apiVersion).
    """
    r = _BY_KIND.get((api_version, kind))
    if r is not None:
        return r
    hint = ""
    same_kind = [x for x in RESOURCES if x.kind == kind]
    ci_kind = [x for x in RESOURCES if x.kind.lower() == str(kind).lower()]
    if same_kind:
        hint = f'did you mean apiVersion "{same_kind[0].api_version}"? ({kind} is served in {same_kind[0].api_version})'
    elif ci_kind:
        hint = f'did you mean kind "{ci_kind[0].kind}"? (kinds are case-sensitive)'
    else:
        in_version = [x.kind for x in RESOURCES if x.api_version == api_version]
        close = difflib.get_close_matches(str(kind), in_version or [x.kind for x in RESOURCES], n=1, cutoff=0.6)
        if close:
            hint = f'did you mean kind "{close[0]}"?'
    raise NoKindMatchError(str(kind), str(api_version), hint)
