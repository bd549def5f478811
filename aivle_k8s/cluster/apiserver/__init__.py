"""kube-apiserver: the only writer of etcd.

One idea per module::

    resources   the kinds served (names, short names, scope, group/version, etcd keys); resolve()
    schema      the real OpenAPI schemas (kubernetes-validate) as the request decoder; patch metadata
    validation  the semantic rules with kube-apiserver's words
    defaults    SetDefaults_* for pods, workloads, services, namespaces ...
    admission   NamespaceLifecycle, ServiceAccount, NodeRestriction, TaintNodesByCondition, Priority,
                DefaultTolerationSeconds
    auth        identities (admin, node, bootstrap token, controllers) and the Node + RBAC-like authorizer
    patch       strategic merge patch, JSON merge patch, JSON patch, (simplified) server-side apply
    selectors   label and field selectors
    storage     JSON objects in etcd under /registry/..., guarded transactions
    watch       ADDED / MODIFIED / DELETED streams fanned out from one etcd watch per resource
    server      APIServer: create/get/list/update/patch/delete/deletecollection/watch and subresources
    errors      the error tree; every error carries a real Status

>>> from aivle_k8s.cluster.apiserver import resolve
>>> resolve("svc").kind
'Service'
"""

from .auth import ADMIN, ANONYMOUS, CONTROLLER_MANAGER, SCHEDULER, SUPER_ADMIN, UserInfo, user_info
from .errors import (AlreadyExistsError, BadRequestError, ConflictError, ConnectionRefused, FieldError,
                     ForbiddenError, GoneError, InvalidError, MethodNotSupportedError, NoKindMatchError,
                     NotFoundError, ServerTimeoutError, StatusError, StorageError, UnknownResourceError)
from .resources import RESOURCES, ResourceInfo, resolve, resolve_kind
from .schema import DEFAULT_KUBERNETES_VERSION
from .server import SYSTEM_USER, APIServer
from .watch import Watch

__all__ = [
    "APIServer", "Watch", "ResourceInfo", "RESOURCES", "resolve", "resolve_kind", "UserInfo", "user_info",
    "ADMIN", "SUPER_ADMIN", "CONTROLLER_MANAGER", "SCHEDULER", "ANONYMOUS", "SYSTEM_USER",
    "DEFAULT_KUBERNETES_VERSION",
    "StatusError", "NotFoundError", "NoKindMatchError", "AlreadyExistsError", "ConflictError", "InvalidError",
    "BadRequestError", "MethodNotSupportedError", "ForbiddenError", "GoneError", "ServerTimeoutError",
    "StorageError", "UnknownResourceError", "ConnectionRefused", "FieldError",
]
