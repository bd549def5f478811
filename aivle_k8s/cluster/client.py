"""How cluster components and kubectl talk to the API server: over the simulated network.

An :class:`APIClient` is a connection to ``https://<host>:6443`` from one
network namespace, as one identity. Every call first goes through the
network (``world.net.endpoint``), so a stopped API server, a partitioned
node or a wrong address fail exactly as they would for a real client; then it
calls the :class:`~aivle_k8s.cluster.apiserver.APIServer` behind the listener
(the listener object carries it as ``.apiserver``).

Like a real client, an :class:`APIClient` sends more than its credential with every
request: its ``User-Agent`` (client-go builds it as ``<program>/<version> (linux/amd64)
kubernetes/<commit>``, plus ``/<suffix>`` such as ``/scheduler`` or the controller's
service account; see :func:`user_agent`) and its source address (the address of the
network namespace it runs in: the node's IP, or a pod's). Both travel with the identity
the API server receives (a :class:`RequestUser`, an ``UserInfo`` with ``.user_agent``
and ``.source_ips``), so the audit log can record them as ``userAgent`` and
``sourceIPs``.

An :class:`Informer` is client-go's shared informer in small: it lists a
resource, then watches from the list's resourceVersion, keeps a local cache
and calls handlers on add/update/delete. When the watch ends (API server
restarted, ``410 Gone``) it lists again after a back-off, on the simulated
clock. Controllers, the scheduler, kubelets and kube-proxies are built on it.
"""

from __future__ import annotations

from typing import Any, Callable

from ..sim.errors import NetworkError

__all__ = ["APIClient", "Informer", "ServerEndpoint", "object_key", "user_agent", "RequestUser",
           "KUBERNETES_GIT_VERSION"]

#: The Kubernetes release the simulated components are built from (``kubectl version``'s gitVersion).
KUBERNETES_GIT_VERSION = "v1.30.2"
#: Release -> git commit (``/version``'s gitCommit); a User-Agent carries its first seven characters.
_GIT_COMMITS = {"v1.30.2": "39683505b630ff2121012f3c5b16215a1449d5ed"}


def _commit_of(version: str) -> str:
    known = _GIT_COMMITS.get(version)
    if known is not None:
        return known[:7]
    import hashlib  # a release this table does not know: a stable stand-in commit

    return hashlib.sha256(f"kubernetes/{version}".encode()).hexdigest()[:7]


def user_agent(program: str, version: str = KUBERNETES_GIT_VERSION, suffix: str = "") -> str:
    """The User-Agent client-go sends for ``program`` (``rest.DefaultKubernetesUserAgent``, then
    ``rest.AddUserAgent``'s ``/suffix``).

    >>> user_agent("kube-proxy")
    'kube-proxy/v1.30.2 (linux/amd64) kubernetes/3968350'
    >>> user_agent("kube-scheduler", suffix="scheduler")
    'kube-scheduler/v1.30.2 (linux/amd64) kubernetes/3968350/scheduler'
    >>> user_agent("kubelet", "1.30.8").split(" ")[0]
    'kubelet/v1.30.8'
    """
    v = str(version).split("-", 1)[0]
    v = v if v.startswith("v") else f"v{v}"
    ua = f"{program}/{v} (linux/amd64) kubernetes/{_commit_of(v)}"
    return f"{ua}/{suffix}" if suffix else ua


def _request_user_class() -> type:
    from .apiserver.auth import UserInfo

    class RequestUser(UserInfo):
        """The identity of one request as the API server receives it: the credential's ``UserInfo``
        plus what the connection carries, ``user_agent`` (the User-Agent header) and ``source_ips``
        (the client's address; the audit event's ``sourceIPs``). Equal to, and authorized exactly
        like, the plain ``UserInfo``."""

        user_agent = ""
        source_ips: tuple = ()

        def __new__(cls, info: Any, user_agent: str = "", source_ip: str = "") -> "RequestUser":
            self = UserInfo.__new__(cls, info.name, info.groups, info.uid)
            self.user_agent = str(user_agent or "")
            self.source_ips = (str(source_ip),) if source_ip else ()
            return self

        @property
        def source_ip(self) -> str:
            return self.source_ips[0] if self.source_ips else ""

    return RequestUser


_REQUEST_USER: list = []


def _request_user() -> type:
    if not _REQUEST_USER:
        _REQUEST_USER.append(_request_user_class())
    return _REQUEST_USER[0]


def __getattr__(name: str) -> Any:  # RequestUser is built on first use (the apiserver import stays lazy)
    if name == "RequestUser":
        return _request_user()
    raise AttributeError(name)


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "ip6-localhost", "::1") or host.startswith("127.")


class ServerEndpoint:
    """The listener of a kube-apiserver on its machine (port 6443).

    The HTTP face (for real kubectl) comes later; in-process clients use ``.apiserver``.
    """

    def __init__(self, apiserver: Any):
        self.apiserver = apiserver

    def __call__(self, data: bytes, peer: tuple) -> bytes:
        from ..linux.http import Response

        body = (b'{"kind":"Status","apiVersion":"v1","status":"Failure","message":"the simulated API server '
                b'speaks only to in-process clients for now","code":501}')
        return Response(501, body, {"Content-Type": "application/json"}).to_bytes()

    def __repr__(self) -> str:
        return f"<ServerEndpoint {getattr(self.apiserver, 'endpoint', '?')}>"


def _split_server(server: str) -> tuple[str, int]:
    rest = server.split("://", 1)[-1].rstrip("/")
    host, _, port = rest.rpartition(":") if ":" in rest else (rest, "", "443")
    return host, int(port)


class APIClient:
    """A kube-apiserver client: the API server's verbs, called as ``user`` through the network.

    Args:
        net: the world's :class:`~aivle_k8s.linux.net.Network`.
        src: the network namespace the client runs in (a node's, a pod's).
        server: ``https://host:port`` of the API server.
        user: the identity (``"kubernetes-admin"``, ``"system:node:worker-1"``, a ``UserInfo``).
        user_agent: the ``User-Agent`` it sends (``user_agent("kube-proxy")``); empty: none.
        source_ip: the address its requests come from; by default the address of ``src``
            (``127.0.0.1`` when the server is reached over loopback).
    """

    VERBS = ("create", "get", "list", "update", "patch", "delete", "delete_collection", "bind", "evict",
             "logs", "exec")

    def __init__(self, net: Any, src: Any, server: str, user: Any, *, user_agent: str = "",
                 source_ip: str | None = None):
        self.net = net
        self.src = src
        self.server = server
        self.host, self.port = _split_server(server)
        self.user = user
        self.user_agent = str(user_agent or "")
        self._source_ip = source_ip
        self._identity: tuple | None = None  # (user, user agent, source ip, RequestUser)

    def __repr__(self) -> str:
        return f"<APIClient {self.user} -> {self.server}>"

    @property
    def source_ip(self) -> str:
        """The address the API server sees this client's requests come from."""
        if self._source_ip:
            return self._source_ip
        if _is_loopback(self.host):
            return "127.0.0.1"
        return (getattr(self.src, "ip", None) if self.src is not None else None) or "127.0.0.1"

    def identity(self) -> Any:
        """What the API server receives as ``user=`` on every request: a :class:`RequestUser`."""
        ip = self.source_ip
        cached = self._identity
        if cached is not None and cached[0] is self.user and cached[1] == self.user_agent and cached[2] == ip:
            return cached[3]
        from .apiserver.auth import user_info

        ident = _request_user()(user_info(self.user), self.user_agent, ip)
        self._identity = (self.user, self.user_agent, ip, ident)
        return ident

    def apiserver(self) -> Any:
        """The API server this client reaches now (raises the connection error if none)."""
        from .apiserver.errors import ConnectionRefused

        try:
            handler = self.net.endpoint(self.src, self.host, self.port)
        except NetworkError as e:
            if getattr(e, "reason", "") == "timeout":
                raise NetworkError(f"Unable to connect to the server: dial tcp {self.host}:{self.port}: "
                                   f"i/o timeout", reason="timeout") from None
            raise ConnectionRefused(f"{self.host}:{self.port}") from None
        server = getattr(handler, "apiserver", None)
        if server is None:
            raise ConnectionRefused(f"{self.host}:{self.port}")
        return server

    def __getattr__(self, verb: str) -> Callable[..., Any]:
        if verb not in APIClient.VERBS:
            raise AttributeError(verb)

        def call(*args: Any, **kwargs: Any) -> Any:
            server = self.apiserver()
            return getattr(server, verb)(*args, user=self.identity(), **kwargs)

        call.__name__ = verb
        return call

    def watch(self, resource: str, namespace: str | None = None, **kwargs: Any) -> Any:
        server = self.apiserver()
        return server.watch(resource, namespace, user=self.identity(), **kwargs)

    def with_user(self, user: Any) -> "APIClient":
        """The same connection as another identity (same User-Agent and source address)."""
        return APIClient(self.net, self.src, self.server, user, user_agent=self.user_agent, source_ip=self._source_ip)

    def with_user_agent(self, user_agent: str) -> "APIClient":
        """The same client sending another User-Agent (``rest.AddUserAgent`` makes one per controller)."""
        return APIClient(self.net, self.src, self.server, self.user, user_agent=user_agent,
                         source_ip=self._source_ip)


def object_key(obj: dict) -> str:
    """``namespace/name`` (or ``name`` for cluster-scoped objects), like client-go's MetaNamespaceKeyFunc."""
    meta = obj.get("metadata", {})
    ns = meta.get("namespace")
    return f"{ns}/{meta['name']}" if ns else meta["name"]


class Informer:
    """List-then-watch cache of one resource with event handlers.

    Args:
        client: the APIClient to use.
        resource: plural or short name (``"pods"``).
        namespace, label_selector, field_selector: what to follow (all namespaces by default).
        loop: the world's clock (for re-list back-off).
        relist_backoff: simulated seconds before listing again after the watch ended.

    Handlers are ``on_add(obj)``, ``on_update(old, new)``, ``on_delete(obj)``.
    """

    def __init__(self, client: APIClient, resource: str, *, loop: Any, namespace: str | None = None,
                 label_selector: Any = None, field_selector: Any = None, relist_backoff: float = 1.0):
        self.client = client
        self.resource = resource
        self.loop = loop
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.relist_backoff = relist_backoff
        self.store: dict[str, dict] = {}
        self.handlers: list[tuple[Callable | None, Callable | None, Callable | None]] = []
        self.synced = False
        self.running = False
        self.resource_version: str | None = None
        self.relists = 0
        self._watch: Any = None
        self._timer: Any = None
        self.last_error: Exception | None = None

    def __repr__(self) -> str:
        return f"<Informer {self.resource} {len(self.store)} objects{' synced' if self.synced else ''}>"

    def add_handler(self, on_add: Callable | None = None, on_update: Callable | None = None,
                    on_delete: Callable | None = None) -> None:
        self.handlers.append((on_add, on_update, on_delete))
        for obj in list(self.store.values()):
            if on_add:
                on_add(obj)

    def get(self, key: str) -> dict | None:
        return self.store.get(key)

    def list(self) -> list[dict]:
        return [self.store[k] for k in sorted(self.store)]

    def start(self) -> None:
        if self.running:
            return
        self.running = True
        self._list_and_watch()

    def stop(self) -> None:
        self.running = False
        if self._watch is not None:
            self._watch.stop()
            self._watch = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # -- internals -------------------------------------------------------------------
    def _retry_later(self, error: Exception | None) -> None:
        self.last_error = error
        self._watch = None
        if self.running and self._timer is None:
            self._timer = self.loop.call_later(self.relist_backoff, self._retry)

    def _retry(self) -> None:
        self._timer = None
        if self.running:
            self._list_and_watch()

    def _list_and_watch(self) -> None:
        try:
            listing = self.client.list(self.resource, self.namespace, label_selector=self.label_selector,
                                       field_selector=self.field_selector)
        except Exception as e:  # noqa: BLE001 - any failure to reach the server: try again later
            if not _is_transient(e):
                raise
            self._retry_later(e)
            return
        self.relists += 1
        fresh = {object_key(o): o for o in listing.get("items", [])}
        old = self.store
        self.store = fresh
        for key, obj in old.items():
            if key not in fresh:
                self._fire(2, obj)
        for key, obj in fresh.items():
            prev = old.get(key)
            if prev is None:
                self._fire(0, obj)
            elif prev.get("metadata", {}).get("resourceVersion") != obj.get("metadata", {}).get("resourceVersion"):
                self._fire(1, prev, obj)
        self.resource_version = listing.get("metadata", {}).get("resourceVersion")
        self.synced = True
        try:
            self._watch = self.client.watch(self.resource, self.namespace, callback=self._on_event,
                                            resource_version=self.resource_version,
                                            label_selector=self.label_selector,
                                            field_selector=self.field_selector, on_close=self._retry_later)
        except Exception as e:  # noqa: BLE001
            if not _is_transient(e):
                raise
            self._retry_later(e)

    def _on_event(self, event: dict) -> None:
        kind, obj = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            self._retry_later(None)
            return
        key = object_key(obj)
        rv = obj.get("metadata", {}).get("resourceVersion")
        if rv:
            self.resource_version = rv
        if kind == "DELETED":
            prev = self.store.pop(key, obj)
            self._fire(2, prev)
        elif kind in ("ADDED", "MODIFIED"):
            prev = self.store.get(key)
            self.store[key] = obj
            if prev is None:
                self._fire(0, obj)
            else:
                self._fire(1, prev, obj)

    def _fire(self, which: int, *objs: dict) -> None:
        for handler in list(self.handlers):
            fn = handler[which]
            if fn is not None:
                fn(*objs)


def _is_transient(e: Exception) -> bool:
    from .apiserver.errors import GoneError, ServerTimeoutError, StorageError

    return isinstance(e, (NetworkError, GoneError, ServerTimeoutError, StorageError))
