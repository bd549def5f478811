"""The control-plane programs that run in kubeadm's static pods: etcd, kube-apiserver,
kube-controller-manager and kube-scheduler.

Each is a registered program started with the flags kubeadm writes into
``/etc/kubernetes/manifests`` (hostNetwork, so their ports are the master's):

* ``etcd`` listens on 2379 (clients), 2380 (peers) and 2381 (metrics) with an
  :class:`EtcdEndpoint` whose ``.etcd`` is the member's :class:`~.etcd.Store`.
  The data lives per (machine, ``--data-dir``): a restarted etcd container
  finds it again; once the directory is deleted (``kubeadm reset``) it is gone.
* ``kube-apiserver`` reaches etcd through ``--etcd-servers`` over the network,
  builds an :class:`~.apiserver.APIServer` on it and listens on
  ``--secure-port`` with a :class:`~.client.ServerEndpoint`; it stops serving
  when its process ends.
* ``kube-controller-manager`` and ``kube-scheduler`` read their
  ``--kubeconfig`` and run the controller manager and the scheduler through
  the API server.
"""

from __future__ import annotations

import weakref
from typing import Any

from ..linux.kernel import register_program
from ..sim.errors import AivleError, FsError, NetworkError

__all__ = ["EtcdEndpoint", "etcd_store", "flags", "apiserver_of", "APISERVER_MACHINES"]

#: machine -> {data dir: Store}: etcd's data "on disk" (kept while the directory exists)
_ETCD_DATA: "weakref.WeakKeyDictionary[Any, dict[str, Any]]" = weakref.WeakKeyDictionary()
#: id(APIServer) -> the machine it runs on (kubeadm's CSR signing fallback finds the CA there)
APISERVER_MACHINES: dict[int, Any] = {}


def flags(argv: list[str]) -> dict[str, str]:
    """``--name=value`` / ``--name value`` flags of a command line."""
    out: dict[str, str] = {}
    i = 1
    while i < len(argv):
        a = argv[i]
        if a.startswith("--"):
            if "=" in a:
                k, _, v = a[2:].partition("=")
            elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                k, v = a[2:], argv[i + 1]
                i += 1
            else:
                k, v = a[2:], "true"
            out[k] = v
        i += 1
    return out


def _log(proc: Any, level: str, msg: str) -> None:
    world = getattr(proc.kernel.owner, "world", None)
    t = world.datetime(proc.now) if world is not None else None
    stamp = t.strftime("%m%d %H:%M:%S.000000") if t is not None else ""
    proc.error(f"{level}{stamp}       1 {msg}\n")


class EtcdEndpoint:
    """The listener of an etcd member (2379/2380/2381); in-process clients use ``.etcd``."""

    def __init__(self, store: Any, name: str = "default"):
        self.etcd = store
        self.name = name

    def __call__(self, data: bytes, peer: tuple) -> bytes:
        from ..linux.http import Response

        if b"/health" in data.split(b"\r\n", 1)[0]:
            return Response(200, b'{"health":"true","reason":""}', {"Content-Type": "application/json"}).to_bytes()
        return Response(501, b"etcd speaks gRPC to in-process clients only\n").to_bytes()

    def __repr__(self) -> str:
        return f"<EtcdEndpoint {self.name}>"


def etcd_store(machine: Any, data_dir: str = "/var/lib/etcd", *, create: bool = True) -> Any:
    """The etcd Store kept in ``data_dir`` on ``machine`` (None, or a new one, when the directory is gone)."""
    from .etcd import Store

    dirs = _ETCD_DATA.setdefault(machine, {})
    member = f"{data_dir.rstrip('/')}/member"
    try:
        present = machine.fs.exists(member)
    except FsError:
        present = False
    store = dirs.get(data_dir)
    if store is not None and not present:
        dirs.pop(data_dir, None)  # the directory was deleted: so is the data
        store = None
    if store is None and create:
        store = Store(machine.world.loop)
        dirs[data_dir] = store
        for d in (data_dir, member, f"{member}/snap", f"{member}/wal"):
            if not machine.fs.exists(d):
                machine.fs.makedirs(d, mode=0o700)
        machine.fs.write(f"{member}/snap/db", b"", mode=0o600)
    return store


def _listen(proc: Any, ports: list[int], handler: Any) -> list[int]:
    ns = proc.ns.net
    opened = []
    for port in ports:
        try:
            ns.listen(port, handler)
            opened.append(port)
        except NetworkError:
            for p in opened:
                ns.close(p)
            raise
    proc.cleanups.append(lambda: [ns.close(p) for p in opened if ns.listeners.get(p) is handler])
    return opened


def _stop_on_term(proc: Any) -> None:
    proc.on_signal("TERM", lambda s: proc.exit(0))
    proc.on_signal("INT", lambda s: proc.exit(0))


@register_program("etcd")
def etcd_main(proc):
    """``etcd --data-dir=/var/lib/etcd --listen-client-urls=...``: one stacked member."""
    f = flags(proc.argv)
    if "version" in f or proc.argv[1:2] == ["--version"]:
        proc.write("etcd Version: 3.5.12\nGit SHA: e7b3bb6cc\nGo Version: go1.20.13\nGo OS/Arch: linux/amd64\n")
        return 0
    machine = proc.kernel.owner
    data_dir = f.get("data-dir", f"{f.get('name', 'default')}.etcd")
    name = f.get("name", "default")
    _log(proc, "I", f'"starting etcd" etcd-version="3.5.12" data-dir="{data_dir}" name="{name}"')
    store = etcd_store(machine, data_dir)
    endpoint = EtcdEndpoint(store, name)
    try:
        _listen(proc, [2379, 2380, 2381], endpoint)
    except NetworkError as e:
        _log(proc, "E", f'"listen tcp: bind: address already in use" error="{e.message}"')
        return 1
    _log(proc, "I", f'"serving client traffic securely" address="{f.get("listen-client-urls", "127.0.0.1:2379")}"')
    _stop_on_term(proc)
    yield proc.forever()


def _split_url(url: str) -> tuple[str, int]:
    rest = url.split("://", 1)[-1].rstrip("/")
    host, _, port = rest.rpartition(":")
    return host, int(port)


class EtcdConnection:
    """kube-apiserver's etcd client (clientv3): it talks to the member listening at ``--etcd-servers``
    and, when that listener goes away (etcd's static pod restarted, on a restored ``--data-dir`` say),
    dials again on the next request -- as the real client's retries do -- instead of holding on to the
    store it found first. Watches on a member that went away end with an error, so the API server's
    watchers list again from the member that answers now. While nothing listens, requests fail with
    ``dial tcp 127.0.0.1:2379: connect: connection refused``.

    Everything else a :class:`~.etcd.Store` offers is passed through to the current member.
    """

    def __init__(self, net: Any, src: Any, servers: list[str]):
        self._net = net
        self._src = src
        self._servers = [_split_url(u) for u in servers]
        self._store: Any = None
        self._dst: Any = None
        self._port = 0
        self._handler: Any = None
        self._watches: list[Any] = []

    def __repr__(self) -> str:
        where = ",".join(f"{h}:{p}" for h, p in self._servers)
        return f"<EtcdConnection {where} -> {self._store!r}>"

    def _dial(self) -> Any:
        for host, port in self._servers:
            try:
                ip = self._net.resolve(self._src, host)
                dst, dport = self._net.route(self._src, ip, port)
            except NetworkError:
                continue
            handler = dst.listeners.get(dport)
            store = getattr(handler, "etcd", None)
            if store is not None and dst.up:
                return store, dst, dport, handler
        return None

    def current(self) -> Any:
        """The member's store this connection talks to now (raises :class:`EndpointDown` when none answers)."""
        dst = self._dst
        if dst is not None and dst.up and dst.listeners.get(self._port) is self._handler:
            return self._store
        found = self._dial()
        if found is None:
            from .etcd import EndpointDown

            host, port = self._servers[0]
            raise EndpointDown(f"{host}:{port}")
        store, self._dst, self._port, self._handler = found
        if store is not self._store:
            old, self._store = self._store, store
            if old is not None:
                self._drop_watches(old)
        return store

    def _drop_watches(self, old: Any) -> None:
        from .etcd import Unavailable

        watches, self._watches = self._watches, []
        for w in watches:
            if getattr(w, "cancelled", False):
                continue
            fail = getattr(w, "_fail", None)
            if fail is not None:
                fail(Unavailable("etcdserver: no leader: the member this watch was on went away"))
            else:  # pragma: no cover - a store without per-watch failure
                w.cancel()

    def watch(self, *args: Any, **kwargs: Any) -> Any:
        w = self.current().watch(*args, **kwargs)
        self._watches = [x for x in self._watches if not getattr(x, "cancelled", False)]
        self._watches.append(w)
        return w

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.current(), name)


def apiserver_of(machine: Any) -> Any:
    """The APIServer running on ``machine`` (port 6443 of its network), or None."""
    h = machine.netns.listeners.get(6443)
    return getattr(h, "apiserver", None)


def _image_version(proc: Any, default: str = "v1.30.2") -> str:
    """The version of the running binary: ``/VERSION`` of its registry.k8s.io image (``v1.30.2``)."""
    try:
        text = proc.fs.read_text("/VERSION").strip()
    except (AivleError, FsError):
        return default
    return text if text.startswith("v") and text.count(".") == 2 else default


@register_program("kube-apiserver")
def kube_apiserver_main(proc):
    """``kube-apiserver --etcd-servers=https://127.0.0.1:2379 --secure-port=6443 ...``."""
    from .apiserver import APIServer
    from .client import ServerEndpoint

    f = flags(proc.argv)
    version = _image_version(proc)
    if "version" in f:
        proc.write(f"Kubernetes {version}\n")
        return 0
    machine = proc.kernel.owner
    world = machine.world
    servers = f.get("etcd-servers", "https://127.0.0.1:2379").split(",")
    port = int(f.get("secure-port", "6443"))
    address = f.get("advertise-address") or machine.ip
    _stop_on_term(proc)
    store = EtcdConnection(world.net, proc.ns.net, servers)
    while True:
        try:
            store.current()
            break
        except AivleError:
            _log(proc, "W", f'[core] [Channel #1 SubChannel #2] grpc: addrConn.createTransport failed to connect to '
                            f'{{Addr: "{servers[0].split("://")[-1]}", ServerName: "{servers[0].split("://")[-1]}", }}. '
                            f'Err: connection error: desc = "transport: Error while dialing: dial tcp '
                            f'{servers[0].split("://")[-1]}: connect: connection refused"')
            yield proc.sleep(1.0)
    api = APIServer(store, now=world.timestamp, rng=world.rng, loop=world.loop, address=address, port=port,
                    service_cidr=f.get("service-cluster-ip-range", "10.96.0.0/12"), start=True)
    api.kubernetes_version = version  # the binary's version (v1.30.2), what /version and kubectl version show
    APISERVER_MACHINES[id(api)] = machine
    endpoint = _APIServerListener(api)
    try:
        _listen(proc, [port], endpoint)
    except NetworkError:
        _log(proc, "E", f'"Unable to start the API server" err="failed to listen on 0.0.0.0:{port}: listen tcp '
                        f'0.0.0.0:{port}: bind: address already in use"')
        api.stop()
        return 1
    proc.cleanups.append(api.stop)
    proc.cleanups.append(lambda: APISERVER_MACHINES.pop(id(api), None))
    _log(proc, "I", f'"Serving securely on [::]:{port}"')
    # kube-aggregator's AvailableConditionController, over the loopback client
    from .client import APIClient
    from .metrics import APIServiceAvailability

    from .client import user_agent

    loopback = APIClient(world.net, proc.ns.net, f"https://127.0.0.1:{port}", "system:apiserver",
                         user_agent=user_agent("kube-apiserver", version))
    availability = APIServiceAvailability(loopback, world.net, proc.ns.net, world.loop, world.timestamp).start()
    proc.cleanups.append(availability.stop)
    yield proc.forever()


class _APIServerListener:
    """ServerEndpoint plus the health endpoints the kubelet's probes ask for (``/livez``, ``/readyz``,
    ``/healthz``: ``ok`` while etcd answers)."""

    def __init__(self, api: Any):
        from .client import ServerEndpoint

        self.apiserver = api
        self._inner = ServerEndpoint(api)

    def __call__(self, data: bytes, peer: tuple) -> bytes:
        from ..linux.http import Response

        line = data.split(b"\r\n", 1)[0]
        parts = line.split()
        path = parts[1].split(b"?")[0] if len(parts) > 1 else b""
        if path in (b"/livez", b"/readyz", b"/healthz"):
            try:
                self.apiserver.healthz()
                return Response(200, b"ok", {"Content-Type": "text/plain"}).to_bytes()
            except AivleError as e:
                return Response(500, f"[-]etcd failed: {e.message}\nhealthz check failed\n".encode()).to_bytes()
        return self._inner(data, peer)

    def __repr__(self) -> str:
        return f"<ServerEndpoint {self.apiserver.endpoint}>"


def _client_from_flag(proc: Any, f: dict) -> Any:
    from .kubeconfig import client_for

    path = f.get("kubeconfig") or f.get("authentication-kubeconfig")
    if not path:
        raise AivleError("no --kubeconfig given")
    text = proc.fs.read_text(path)
    return client_for(proc.kernel.owner.world, proc.ns.net, text)


def _component(proc, name: str, port: int, build):
    """Run a controller-manager or scheduler: build it from its kubeconfig, start it, stop it on exit."""
    f = flags(proc.argv)
    _stop_on_term(proc)
    try:
        client = _client_from_flag(proc, f)
    except (AivleError, FsError) as e:
        _log(proc, "E", f'"Error" err="invalid configuration: {getattr(e, "message", e)}"')
        return 1
    from .client import user_agent

    # kube-scheduler's client is rest.AddUserAgent(config, "scheduler"); the controller-manager's root
    # client carries the program's User-Agent (each controller adds its service account to it)
    client = client.with_user_agent(user_agent(name, _image_version(proc),
                                               suffix="scheduler" if name == "kube-scheduler" else ""))
    try:
        _listen(proc, [port], _Healthz())
    except NetworkError:
        _log(proc, "E", f'"failed to listen on 127.0.0.1:{port}: listen tcp 127.0.0.1:{port}: bind: address already '
                        f'in use"')
        return 1
    component = build(proc, client, f)
    if component is None:
        # the component's implementation is not in this installation: stay up (healthy) and idle
        _log(proc, "W", f'"{name} is not available in this simulation; running idle"')
    else:
        stop = getattr(component, "stop", None)
        if stop is not None:
            proc.cleanups.append(stop)
        _log(proc, "I", f'"Started {name}"')
    yield proc.forever()


class _Healthz:
    def __call__(self, data: bytes, peer: tuple) -> bytes:
        from ..linux.http import Response

        return Response(200, b"ok").to_bytes()


def _build_scheduler(proc: Any, client: Any, f: dict) -> Any:
    try:
        from . import scheduler_component as mod  # type: ignore[attr-defined]
    except ImportError:
        return None
    return _construct(mod, ("RunningScheduler", "SchedulerComponent", "KubeScheduler", "Scheduler"), proc, client, f)


def _build_controller_manager(proc: Any, client: Any, f: dict) -> Any:
    try:
        from . import controller_manager as mod  # type: ignore[attr-defined]
    except ImportError:
        return None
    return _construct(mod, ("ControllerManager",), proc, client, f)


def _construct(mod: Any, names: tuple, proc: Any, client: Any, f: dict) -> Any:
    """Build and start the other engineers' component: ``from_flags(proc, client, flags)`` when the module
    offers it, else ``Class(client, loop=...)``."""
    world = proc.kernel.owner.world
    factory = getattr(mod, "from_flags", None)
    if factory is not None:
        comp = factory(proc, client, f)
    else:
        cls = next((getattr(mod, n) for n in names if hasattr(mod, n)), None)
        if cls is None:
            return None
        try:
            comp = cls(client, loop=world.loop, flags=f)
        except TypeError:
            comp = cls(client, loop=world.loop)
    elector = getattr(comp, "elector", None)
    ua = getattr(client, "user_agent", "")
    if elector is not None and hasattr(elector, "client") and ua and hasattr(client, "with_user_agent"):
        # resourcelock.NewFromKubeconfig: the lease is renewed by its own client, ".../leader-election"
        head, sep, tail = ua.partition(" kubernetes/")
        elector.client = client.with_user_agent(f"{head}{sep}{tail.split('/', 1)[0]}/leader-election")
    start = getattr(comp, "start", None)
    if start is not None:
        start()
    return comp


@register_program("kube-scheduler")
def kube_scheduler_main(proc):
    """``kube-scheduler --kubeconfig=/etc/kubernetes/scheduler.conf ...``."""
    code = yield from _component(proc, "kube-scheduler", 10259, _build_scheduler)
    return code


@register_program("kube-controller-manager")
def kube_controller_manager_main(proc):
    """``kube-controller-manager --kubeconfig=/etc/kubernetes/controller-manager.conf ...``."""
    code = yield from _component(proc, "kube-controller-manager", 10257, _build_controller_manager)
    return code
