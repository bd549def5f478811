"""The Kubernetes API face: the simulated API server over HTTPS, for kubectl and the ``kubernetes`` SDK.

``cluster.serve()`` (or :func:`serve_kube`) listens on ``https://127.0.0.1:<port>`` with a serving
certificate signed by the cluster's own CA and writes an admin kubeconfig, so the real tools work
unmodified::

    >>> # api = cluster.serve()
    >>> # subprocess.run(["kubectl", "get", "nodes"], env={**os.environ, "KUBECONFIG": api.kubeconfig})
    >>> # api.stop()

Every request takes the simulated API server's own path (authentication here, then its
authorization, admission, defaulting and validation) under the world's lock; a refused request
gets the real ``Status`` body and changes nothing. What the face adds is only what a real
kube-apiserver's HTTP layer does:

- discovery (``/api``, ``/apis``, legacy and aggregated ``apidiscovery.k8s.io/v2`` as the ``Accept``
  header asks), ``/version``, ``/openapi/v2``, ``/openapi/v3`` (see :mod:`.kube_discovery`),
  ``/healthz``, ``/livez``, ``/readyz``;
- the REST verbs on every served resource: list (selectors, ``limit``/``continue``), get, create,
  update, the four patch types (``application/strategic-merge-patch+json``, ``merge-patch+json``,
  ``json-patch+json``, ``apply-patch+yaml`` with ``fieldManager``/``force``), delete (with
  ``DeleteOptions``), deletecollection, ``?watch=1`` streams, and the subresources ``status``,
  ``scale``, ``binding``, ``eviction``, ``log`` (``follow`` too);
- ``Table`` responses for ``kubectl get`` (see :mod:`.kube_tables`), ``Warning`` headers.

**Time.** The simulated world only moves when someone advances it. So that ``kubectl rollout
status``, ``kubectl wait``, ``kubectl delete`` (which waits for the object to go), ``kubectl
drain`` and ``kubectl logs -f`` finish, the face advances the world's clock by ``tick`` simulated
seconds every ``interval`` wall seconds (20x real time by default) *while a client waits on it*:

- while a watch or a followed log is open (``advance_while_waiting=True``, the default);
- for ``settle`` simulated seconds after each accepted write (30 s by default, plus the grace
  period of a pod being deleted), so the cluster reacts to ``kubectl apply`` / ``scale`` /
  ``drain`` as a real one does while its user types the next command;
- all the time while ``handle.autoadvance`` is true.

Nothing ticks otherwise (``handle.idle``), and code that never serves stays deterministic.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

import yaml
from aiohttp import web
from aiohttp.helpers import parse_mimetype
from multidict import CIMultiDict

from ..cluster.apiserver import SYSTEM_USER
from ..cluster.apiserver.errors import (BadRequestError, ConnectionRefused, GoneError, NotFoundError, StatusError,
                                        UnknownResourceError)
from ..cluster.apiserver.patch import PATCH_TYPES
from ..cluster.apiserver.resources import ResourceInfo, resource_for
from ..sim.errors import AivleError, InvalidInput
from . import kube_discovery as D
from .kube_auth import Credentials, Unauthorized, authenticate, make_credentials
from .kube_tables import to_table
from .runner import Served, in_world, serve_app, world_lock

__all__ = ["KubeAPI", "serve_kube"]

_JSON = "application/json"
_PATCH_BY_TYPE = {v: k for k, v in PATCH_TYPES.items()}
_UPGRADE_SUBS = ("exec", "attach", "portforward")
_PUBLIC_PATHS = ("/version", "/healthz", "/livez", "/readyz")
_DISCOVERY_PATHS = ("/api", "/apis", "/openapi", "/version", "/healthz", "/livez", "/readyz")
_SSAR = ["apis", "authorization.k8s.io", "v1", "selfsubjectaccessreviews"]
_SSR = ["apis", "authentication.k8s.io", "v1", "selfsubjectreviews"]
_ADMIN_GROUPS = ("system:masters", "kubeadm:cluster-admins")


# ---------------------------------------------------------------------------------------
# small values
# ---------------------------------------------------------------------------------------
@dataclass
class _Call:
    """What a handler needs from one HTTP request (taken on the server's loop, used under the lock)."""

    method: str
    parts: list[str]
    query: dict[str, str]
    accept: str
    content_type: str
    authorization: str | None
    peercert: Any
    body: bytes


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = _JSON
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Stream:
    """A streaming answer (a watch or a followed log) set up under the lock."""

    first: list[bytes]
    stop: Callable[[], None] | None
    content_type: str = _JSON
    timeout: float | None = None
    poll: Callable[[], tuple[bytes, bool]] | None = None  # followed logs: (new bytes, finished)
    ended: bool = False


def _dumps(obj: Any) -> bytes:
    return (json.dumps(obj, separators=(",", ":")) + "\n").encode()


def _status(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    st: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                          "message": message, "reason": reason}
    if details is not None:
        st["details"] = details
    st["code"] = code
    return st


def _not_found() -> StatusError:
    return StatusError("the server could not find the requested resource", code=404, reason="NotFound",
                       details={})


def _error_reply(err: BaseException) -> _Reply:
    """The ``Status`` answer for an error raised while serving."""
    if isinstance(err, StatusError):
        return _Reply(err.code, _dumps(err.status))
    if isinstance(err, UnknownResourceError):
        return _Reply(404, _dumps(_status(404, "NotFound", "the server could not find the requested resource", {})))
    if isinstance(err, Unauthorized):
        return _Reply(401, _dumps(_status(401, "Unauthorized", "Unauthorized")))
    if isinstance(err, ConnectionRefused):
        return _Reply(503, _dumps(_status(503, "ServiceUnavailable", str(err))))
    if isinstance(err, InvalidInput):
        return _Reply(400, _dumps(_status(400, "BadRequest", str(err))))
    if isinstance(err, AivleError):
        return _Reply(500, _dumps(_status(500, "InternalError", f"Internal error occurred: {err}")))
    return _Reply(500, _dumps(_status(500, "InternalError", f"Internal error occurred: {type(err).__name__}: {err}")))


def _negotiate(accept: str, *, table: bool = False, aggregated: bool = False) -> str | None:
    """Which representation to answer with: ``json``, ``yaml``, ``table:v1``, ``aggregated:v2`` ... or None (406)."""
    if not accept.strip():
        return "json"
    for part in accept.split(","):
        part = part.strip()
        if not part:
            continue
        mt = parse_mimetype(part)
        full = f"{mt.type}/{mt.subtype}" + (f"+{mt.suffix}" if mt.suffix else "")
        params = mt.parameters
        as_ = params.get("as")
        if as_ == "Table":
            if table and full == _JSON and params.get("g") == "meta.k8s.io" and params.get("v") in ("v1", "v1beta1"):
                return f"table:{params.get('v')}"
            continue
        if as_ == "APIGroupDiscoveryList":
            if aggregated and full == _JSON and params.get("g") == "apidiscovery.k8s.io" and \
                    params.get("v") in ("v2", "v2beta1"):
                return f"aggregated:{params.get('v')}"
            continue
        if as_:
            continue
        if full in (_JSON, "*/*", "application/*"):
            return "json"
        if full == "application/yaml":
            return "yaml"
    return None


def _bool(q: dict, name: str) -> bool:
    v = q.get(name)
    if v is None:
        return False
    if v.lower() in ("true", "1", ""):
        return True
    if v.lower() in ("false", "0"):
        return False
    raise BadRequestError(f'invalid value for {name}: "{v}": strconv.ParseBool: parsing "{v}": invalid syntax')


def _int(q: dict, name: str) -> int | None:
    v = q.get(name)
    if v in (None, ""):
        return None
    try:
        return int(v)
    except ValueError:
        raise BadRequestError(f'invalid value for {name}: "{v}": strconv.ParseInt: parsing "{v}": invalid '
                              f'syntax') from None


def _quoted(text: str) -> str:
    """A warning text as the ``Warning`` header's quoted-string (RFC 7234)."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _dry_delete(call: _Call) -> bool:
    if call.query.get("dryRun") == "All":
        return True
    try:
        body = json.loads(call.body) if call.body.strip() else {}
    except ValueError:
        return False
    dry = body.get("dryRun") if isinstance(body, dict) else None
    return dry == "All" or (isinstance(dry, list) and "All" in dry)


def _post(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue, item: Any) -> None:
    """Hand an item to a stream from the world's thread (a face that already stopped drops it)."""
    try:
        loop.call_soon_threadsafe(queue.put_nowait, item)
    except RuntimeError:  # the server's loop is closed
        pass


def _decode_body(call: _Call) -> Any:
    if not call.body.strip():
        raise BadRequestError("the body of the request was empty")
    ctype = call.content_type.split(";")[0].strip().lower()
    if ctype in ("application/vnd.kubernetes.protobuf", "application/cbor"):
        raise StatusError(f"the body of the request was in an unknown format - accepted media types include: "
                          f"application/json, application/yaml", code=415, reason="UnsupportedMediaType")
    try:
        if ctype == "application/yaml":
            return yaml.safe_load(call.body)
        return json.loads(call.body)
    except (ValueError, yaml.YAMLError) as e:
        raise BadRequestError(f"couldn't get version/kind; json parse error: {e}") from None


# ---------------------------------------------------------------------------------------
# the handle
# ---------------------------------------------------------------------------------------
class KubeAPI:
    """A running Kubernetes API face (what :meth:`Cluster.serve` returns).

    Attributes:
        url: ``https://127.0.0.1:<port>``.
        kubeconfig: path of the admin kubeconfig written for it (``KUBECONFIG=...``).
        token: a bearer token for the cluster admin (``curl -H "Authorization: Bearer ..."``).
        ca_file: the cluster CA certificate (``curl --cacert``).
        autoadvance: while true, the world's clock runs all the time (``tick`` simulated seconds
            every ``interval`` wall seconds), not only while a client waits.
        advance_while_waiting: advance the clock while a watch or a followed log is open (default).
        settle: simulated seconds the clock keeps running after an accepted write (0: never).
        tick, interval: simulated seconds per tick, wall seconds between ticks.
    """

    def __init__(self, cluster: Any, creds: Credentials, workdir: str, kubeconfig_path: str, *, tick: float,
                 interval: float, autoadvance: bool, advance_while_waiting: bool, settle: float,
                 owns_workdir: bool):
        self.cluster = cluster
        self.world = cluster.world  # None for a Cluster made from a bare client: then the loop is the clock
        self._clock = cluster.world if cluster.world is not None else cluster.loop
        self._creds = creds
        self._workdir = workdir
        self._owns_workdir = owns_workdir
        self.kubeconfig = kubeconfig_path
        self.token = creds.token
        self.ca_file = os.path.join(workdir, "ca.crt")
        self.tick = float(tick)
        self.interval = float(interval)
        self.autoadvance = bool(autoadvance)
        self.advance_while_waiting = bool(advance_while_waiting)
        self.settle = float(settle)
        self._settle_until = float("-inf")  # simulated time until which the clock runs after a write
        self.ticks = 0
        self.last_error: BaseException | None = None
        self._waiting = 0
        self._closing = False
        self._streams: set[asyncio.Queue] = set()
        self._served: Served | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ticker: asyncio.Task | None = None

    # -- public ---------------------------------------------------------------------------
    @property
    def url(self) -> str | None:
        return self._served.url if self._served is not None else None

    @property
    def port(self) -> int | None:
        return self._served.port if self._served is not None else None

    @property
    def waiting(self) -> int:
        """How many clients wait on the world now (open watches and followed logs)."""
        return self._waiting

    @property
    def settling(self) -> bool:
        """True while the clock still runs after a write (see ``settle``)."""
        return self._clock.now < self._settle_until

    @property
    def idle(self) -> bool:
        """True when nothing makes the clock run: no waiting client, no settling write, no autoadvance."""
        return not self.autoadvance and not (self.advance_while_waiting and self._waiting) and not self.settling

    def _after_write(self, extra: float = 0.0) -> None:
        """An accepted write (under the lock): let the world react for ``settle`` (+ ``extra``) seconds."""
        if self.settle > 0:
            self._settle_until = max(self._settle_until, self._clock.now + self.settle + max(0.0, extra))

    @property
    def running(self) -> bool:
        return self._served is not None and self._served.running

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<KubeAPI {self.url} {state} kubeconfig={self.kubeconfig}>"

    def stop(self, timeout: float = 10.0) -> None:
        """End open watches and logs, stop listening, and delete the temporary files (idempotent)."""
        if self._closing and (self._served is None or not self._served.running):
            return
        self._closing = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._wake_streams)
            except RuntimeError:  # the loop already stopped
                pass
        if self._served is not None:
            self._served.stop(timeout)
        if self._owns_workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> "KubeAPI":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- world access -------------------------------------------------------------------------
    def _apiserver(self) -> Any:
        return self.cluster.client.apiserver()

    def _now(self, api: Any) -> Any:
        import datetime as _dt

        from ..cluster.kubectl.printers import parse_time

        if self.world is not None:
            t = self.world.datetime()
        else:
            t = parse_time(api.now())
        return t if t.tzinfo else t.replace(tzinfo=_dt.timezone.utc)

    # -- lifecycle ------------------------------------------------------------------------------
    def _wake_streams(self) -> None:
        for q in list(self._streams):
            q.put_nowait(None)

    async def _on_startup(self, app: web.Application) -> None:
        self._loop = asyncio.get_running_loop()
        self._ticker = self._loop.create_task(self._tick_forever())

    async def _on_shutdown(self, app: web.Application) -> None:
        self._closing = True
        self._wake_streams()
        if self._ticker is not None:
            self._ticker.cancel()
            try:
                await self._ticker
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass

    async def _tick_forever(self) -> None:
        while not self._closing:
            await asyncio.sleep(self.interval)
            if self._closing:
                return
            if not self.idle:
                try:
                    await in_world(self._clock, self._advance)
                except Exception as e:  # noqa: BLE001 - keep serving; the error is kept for the user
                    self.last_error = e

    def _locked_quietly(self, fn: Callable[[], Any]) -> None:
        try:
            with world_lock(self._clock):
                fn()
        except Exception:  # noqa: BLE001
            pass

    def _advance(self) -> None:
        self._clock.advance(self.tick)
        self.ticks += 1

    # =======================================================================================
    # HTTP entry points (on the server's loop)
    # =======================================================================================
    def app(self) -> web.Application:
        app = web.Application(client_max_size=3 * 1024 * 1024)
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket" and \
                request.path.rstrip("/").rsplit("/", 1)[-1] in ("exec", "attach"):
            return await self._exec_ws(request)
        body = await request.read()
        transport = request.transport
        stripped = request.path.strip("/")
        call = _Call(request.method, stripped.split("/") if stripped else [],
                     {k: request.query.get(k) for k in request.query.keys()}, request.headers.get("Accept", ""),
                     request.headers.get("Content-Type", ""), request.headers.get("Authorization"),
                     transport.get_extra_info("peercert") if transport is not None else None, body)
        if call.parts[:2] == ["openapi", "v2"] or call.parts[:2] == ["openapi", "v3"]:
            return await self._openapi(call)
        queue: asyncio.Queue = asyncio.Queue()
        loop = asyncio.get_running_loop()
        try:
            result = await in_world(self._clock, self._serve, call, queue, loop)
        except Exception as e:  # noqa: BLE001 - a bug in the face: still a Status
            result = _error_reply(e)
        if isinstance(result, _Stream):
            return await self._stream(request, result, queue)
        headers = CIMultiDict(result.headers)
        headers["Content-Type"] = result.content_type
        headers.setdefault("Cache-Control", "no-cache, private")
        return web.Response(status=result.status, body=result.body, headers=headers)

    async def _stream(self, request: web.Request, st: _Stream, queue: asyncio.Queue) -> web.StreamResponse:
        resp = web.StreamResponse(status=200, headers={"Content-Type": st.content_type,
                                                       "Cache-Control": "no-cache, private"})
        resp.enable_chunked_encoding()
        self._streams.add(queue)
        self._waiting += 1
        loop = asyncio.get_running_loop()
        deadline = loop.time() + st.timeout if st.timeout else None
        try:
            await resp.prepare(request)
            for chunk in st.first:
                await resp.write(chunk)
            while not st.ended and not self._closing:
                wait = max(self.interval, 0.01)  # also how soon a client that went away is noticed
                if deadline is not None:
                    left = deadline - loop.time()
                    if left <= 0:
                        break
                    wait = min(wait, left)
                if st.poll is not None:
                    await asyncio.sleep(wait)
                    data, finished = await in_world(self._clock, st.poll)
                    if data:
                        await resp.write(data)
                    if finished:
                        break
                else:
                    try:
                        item = await asyncio.wait_for(queue.get(), timeout=wait)
                    except asyncio.TimeoutError:
                        item = b""
                    if item is None:
                        break
                    if item:
                        await resp.write(item)
                transport = request.transport
                if transport is None or transport.is_closing():
                    break
            await resp.write_eof()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._waiting -= 1
            self._streams.discard(queue)
            if st.stop is not None:
                if self._closing:  # stop() may be called by a thread holding the world's lock: do not wait for it
                    threading.Thread(target=self._locked_quietly, args=(st.stop,), daemon=True).start()
                else:
                    try:
                        await in_world(self._clock, st.stop)
                    except Exception:  # noqa: BLE001 - the watch may already be gone
                        pass
        return resp

    async def _exec_ws(self, request: web.Request) -> web.StreamResponse:
        """``kubectl exec`` over WebSocket (``v5.channel.k8s.io``): stdin on channel 0, stdout 1, stderr 2,
        and the final ``Status`` on channel 3 (``NonZeroExitCode`` with an ``ExitCode`` cause)."""
        stripped = request.path.strip("/")
        call = _Call("GET", stripped.split("/"), {k: request.query.get(k) for k in request.query.keys()},
                     request.headers.get("Accept", ""), "", request.headers.get("Authorization"),
                     request.transport.get_extra_info("peercert") if request.transport is not None else None, b"")
        commands = list(request.query.getall("command", []))
        ws = web.WebSocketResponse(protocols=("v5.channel.k8s.io", "v4.channel.k8s.io"))
        await ws.prepare(request)
        try:
            flags = {k: _bool(call.query, k) for k in ("stdin", "stdout", "stderr", "tty")}
        except StatusError as e:
            flags = {}
            error: dict | None = dict(e.status)
        else:
            error = None
        first = 1 if flags.get("stdout") else 2 if flags.get("stderr") else 3
        await ws.send_bytes(bytes([first]))  # the stream is open
        data = b""
        if flags.get("stdin") and error is None:
            async for msg in ws:
                if msg.type != web.WSMsgType.BINARY or not msg.data:
                    continue
                if msg.data[0] == 0:
                    data += msg.data[1:]
                elif msg.data[0] == 255 and msg.data[1:2] == b"\x00":  # v5: the client closed stdin
                    break
        if error is None:
            out, err, status = await in_world(self._clock, self._exec, call, commands, data, flags)
            if out and flags.get("stdout"):
                await ws.send_bytes(b"\x01" + out)
            if err and flags.get("stderr"):
                await ws.send_bytes(b"\x02" + err)
        else:
            status = {"metadata": {}, "status": "Failure", "message": error.get("message", ""),
                      "reason": error.get("reason", "BadRequest")}
        await ws.send_bytes(b"\x03" + json.dumps(status, separators=(",", ":")).encode())
        await ws.close()
        return ws

    def _exec(self, call: _Call, commands: list[str], stdin: bytes, flags: dict) -> tuple[bytes, bytes, dict]:
        """Run the command under the world's lock; the result as the error channel's ``Status``."""
        try:
            api, user = self._who(call)
            parts = call.parts
            if parts[:2] != ["api", "v1"]:
                raise _not_found()
            info, ns, name, sub, _ = self._target("", "v1", parts[2:])
            if info.plural != "pods" or name is None:
                raise _not_found()
            if sub != "exec":
                raise BadRequestError("attaching to a running container is not supported by the API face; use exec")
            if not commands:
                raise BadRequestError("you must specify at least one command for the container")
            result = api.exec(name, ns, commands, user=user, container=call.query.get("container") or None,
                              stdin=stdin if flags.get("stdin") else None, tty=bool(flags.get("tty")))
        except Exception as e:  # noqa: BLE001 - reported on the error channel
            st = getattr(e, "status", None) or {"message": str(e), "reason": "InternalError"}
            return b"", b"", {"metadata": {}, "status": "Failure", "message": st.get("message", str(e)),
                              "reason": st.get("reason", "InternalError"), **({"code": st["code"]} if "code" in st
                                                                              else {})}
        out = getattr(result, "stdout", b"") or b""
        err = getattr(result, "stderr", b"") or b""
        out = out if isinstance(out, bytes) else str(out).encode()
        err = err if isinstance(err, bytes) else str(err).encode()
        code = int(getattr(result, "exit_code", 0) or 0)
        if code == 0:
            return out, err, {"metadata": {}, "status": "Success"}
        return out, err, {"metadata": {}, "status": "Failure",
                          "message": f"command terminated with non-zero exit code: error executing command "
                                     f"[{' '.join(commands)}], exit code {code}",
                          "reason": "NonZeroExitCode",
                          "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}

    async def _openapi(self, call: _Call) -> web.Response:
        try:
            api, user = await in_world(self._clock, self._who, call)
            self._check_nonresource(user, "/" + "/".join(call.parts))
            version = api.kubernetes_version
            loop = asyncio.get_running_loop()
            if call.parts[1] == "v2":
                if _negotiate(call.accept) != "json":
                    raise StatusError("only application/json is served here (no protobuf)", code=406,
                                      reason="NotAcceptable")
                body = await loop.run_in_executor(None, D.openapi_v2_doc, version)
                return web.Response(status=200, body=body, content_type=_JSON)
            rest = call.parts[2:]
            if not rest:
                return web.Response(status=200, body=_dumps(D.openapi_v3_root(version)), content_type=_JSON)
            doc = await loop.run_in_executor(None, D.openapi_v3_doc, version, "/".join(rest))
            if doc is None:
                raise _not_found()
            headers = {"Cache-Control": "public, immutable"} if call.query.get("hash") else {}
            return web.Response(status=200, body=doc, content_type=_JSON, headers=headers)
        except Exception as e:  # noqa: BLE001
            r = _error_reply(e)
            return web.Response(status=r.status, body=r.body, content_type=r.content_type)

    # =======================================================================================
    # under the world's lock
    # =======================================================================================
    def _who(self, call: _Call) -> tuple[Any, Any]:
        api = self._apiserver()
        now = self.world.datetime() if self.world is not None else None
        return api, authenticate(call.authorization, call.peercert, self._creds.token, api, now)

    def _check_nonresource(self, user: Any, path: str) -> None:
        if "system:authenticated" in user.groups:
            return
        if any(path == p or path.startswith(p + "/") for p in _PUBLIC_PATHS):
            return
        raise StatusError(f'forbidden: User "{user.name}" cannot get path "{path}"', code=403, reason="Forbidden",
                          details={})

    def _serve(self, call: _Call, queue: asyncio.Queue, loop: asyncio.AbstractEventLoop) -> "_Reply | _Stream":
        try:
            parts = call.parts
            if parts and parts[0] in ("healthz", "livez", "readyz"):
                return self._health(call)
            api, user = self._who(call)
            path = "/" + "/".join(parts)
            if not parts or parts[0] not in ("api", "apis", "version"):
                self._check_nonresource(user, path)
                raise _not_found()
            if parts == ["version"]:
                self._check_nonresource(user, path)
                return _Reply(200, _dumps(D.version_info(api.kubernetes_version)))
            if any(p == "" for p in parts):
                raise _not_found()
            if call.method == "POST" and parts in (_SSAR, _SSR):
                return self._review(call, api, user, parts == _SSAR)
            if parts[0] == "api":
                if len(parts) == 1:
                    self._check_nonresource(user, path)
                    return self._discovery(call, "api")
                if parts[1] != "v1":
                    raise _not_found()
                group, version, rest = "", "v1", parts[2:]
            else:
                if len(parts) == 1:
                    self._check_nonresource(user, path)
                    return self._discovery(call, "apis")
                if len(parts) == 2:
                    self._check_nonresource(user, path)
                    g = D.api_group(parts[1])
                    if g is None:
                        raise _not_found()
                    return self._plain(call, g)
                group, version, rest = parts[1], parts[2], parts[3:]
            if not rest:
                self._check_nonresource(user, path)
                doc = D.api_resource_list(group, version)
                if doc is None:
                    raise _not_found()
                return self._plain(call, doc)
            return self._resource(call, api, user, group, version, rest, queue, loop)
        except Exception as e:  # noqa: BLE001 - every failure is a Status
            return _error_reply(e)

    # -- who am I, can I ------------------------------------------------------------------------------
    def _review(self, call: _Call, api: Any, user: Any, access: bool) -> _Reply:
        """``kubectl auth can-i`` (SelfSubjectAccessReview) and ``kubectl auth whoami`` (SelfSubjectReview),
        answered by the simulated API server's own authorizer."""
        from ..cluster.apiserver.auth import Attributes, authorize

        kind = "SelfSubjectAccessReview" if access else "SelfSubjectReview"
        group = "authorization.k8s.io" if access else "authentication.k8s.io"
        if "system:authenticated" not in user.groups:
            plural = kind.lower() + "s"
            raise StatusError(f'{plural}.{group} is forbidden: User "{user.name}" cannot create resource "{plural}" '
                              f'in API group "{group}" at the cluster scope', code=403, reason="Forbidden",
                              details={"group": group, "kind": plural})
        body = self._body_object(call, None, kind=kind, api_version=f"{group}/v1")
        if not access:
            info = {"username": user.name, "groups": list(user.groups)}
            if user.uid:
                info["uid"] = user.uid
            return _Reply(201, _dumps({**body, "metadata": {"creationTimestamp": None},
                                       "status": {"userInfo": info}}))
        spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
        ra, nra = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
        if isinstance(ra, dict):
            attrs = Attributes(user, str(ra.get("verb") or ""), str(ra.get("resource") or ""),
                               str(ra.get("group") or ""), str(ra.get("subresource") or ""),
                               str(ra.get("namespace") or ""), str(ra.get("name") or ""))
            allowed, reason = authorize(attrs)
        elif isinstance(nra, dict):
            path = str(nra.get("path") or "")
            allowed = any(g in user.groups for g in _ADMIN_GROUPS) or (
                "system:authenticated" in user.groups and str(nra.get("verb")) == "get"
                and any(path == p or path.startswith(p + "/") for p in _DISCOVERY_PATHS))
            reason = ""
        else:
            raise StatusError('SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: '
                              'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes '
                              'must be specified', code=422, reason="Invalid",
                              details={"group": "authorization.k8s.io", "kind": "SelfSubjectAccessReview"})
        status: dict[str, Any] = {"allowed": bool(allowed)}
        if reason:
            status["reason"] = reason
        elif allowed and any(g in user.groups for g in _ADMIN_GROUPS):
            status["reason"] = 'RBAC: allowed by ClusterRoleBinding "kubeadm:cluster-admins" of ClusterRole ' \
                               '"cluster-admin" to Group "kubeadm:cluster-admins"'
        return _Reply(201, _dumps({**body, "metadata": {"creationTimestamp": None}, "status": status}))

    # -- health and discovery ----------------------------------------------------------------------
    def _health(self, call: _Call) -> _Reply:
        name = call.parts[0]
        try:
            self._apiserver().healthz()
            ok = True
        except Exception:  # noqa: BLE001
            ok = False
        checks = ["ping", "log", "etcd", "poststarthook/start-apiextensions-informers"]
        if "verbose" in call.query:
            lines = [f"[+]{c} ok" if ok or c in ("ping", "log") else f"[-]{c} failed: reason withheld"
                     for c in checks]
            lines.append(f"{name} check passed" if ok else f"{name} check failed")
            return _Reply(200 if ok else 500, ("\n".join(lines) + "\n").encode(), "text/plain; charset=utf-8")
        return _Reply(200 if ok else 500, b"ok" if ok else f"{name} check failed".encode(), "text/plain; charset=utf-8")

    def _plain(self, call: _Call, doc: dict) -> _Reply:
        how = _negotiate(call.accept)
        if how == "json":
            return _Reply(200, _dumps(doc))
        if how == "yaml":
            return _Reply(200, yaml.safe_dump(doc, sort_keys=False).encode(), "application/yaml")
        raise StatusError("only application/json and application/yaml are served for this resource", code=406,
                          reason="NotAcceptable")

    def _discovery(self, call: _Call, which: str) -> _Reply:
        how = _negotiate(call.accept, aggregated=True)
        if how == "aggregated:v2":
            return _Reply(200, D.aggregated_bytes(which), D.AGGREGATED_V2)
        if how == "aggregated:v2beta1":
            return _Reply(200, D.aggregated_bytes(which, "apidiscovery.k8s.io/v2beta1"), D.AGGREGATED_V2BETA1)
        api = self._apiserver()
        doc = D.api_versions(api.endpoint) if which == "api" else D.api_group_list()
        return self._plain(call, doc)

    # -- resources -------------------------------------------------------------------------------------
    def _target(self, group: str, version: str, rest: list[str]) -> tuple[ResourceInfo, str | None, str | None,
                                                                           str | None, bool]:
        watch = False
        if rest and rest[0] == "watch":
            watch, rest = True, rest[1:]
        ns = None
        if len(rest) >= 3 and rest[0] == "namespaces" and rest[2] not in ("status", "finalize"):
            ns, rest = rest[1], rest[2:]  # a resource inside a namespace (not the namespace's own subresource)
        if not rest:
            raise _not_found()
        try:
            info = resource_for(group, rest[0])
        except UnknownResourceError:
            raise _not_found() from None
        if info.version != version:
            raise _not_found()
        name = rest[1] if len(rest) > 1 else None
        sub = "/".join(rest[2:]) or None
        if info.namespaced and name is not None and ns is None:
            raise _not_found()
        if not info.namespaced and ns is not None:
            raise _not_found()
        if sub is not None and sub not in info.subresources:
            raise _not_found()
        return info, ns, name, sub, watch

    def _resource(self, call: _Call, api: Any, user: Any, group: str, version: str, rest: list[str],
                  queue: asyncio.Queue, loop: asyncio.AbstractEventLoop) -> "_Reply | _Stream":
        info, ns, name, sub, watch_path = self._target(group, version, rest)
        q = call.query
        m = call.method
        api.warnings = []
        if m == "GET":
            if watch_path or (name is None and _bool(q, "watch")):
                return self._watch(call, api, user, info, ns, name, queue, loop)
            if name is None:
                return self._list(call, api, user, info, ns)
            if sub == "log":
                return self._log(call, api, user, ns, name)
            if sub in _UPGRADE_SUBS:
                raise BadRequestError("Upgrade request required")
            if sub == "proxy":
                raise StatusError("the API face does not proxy to pods, nodes or services", code=503,
                                  reason="ServiceUnavailable")
            obj = api.get(info.plural, name, ns, user=user, subresource=sub)
            if sub is None:
                return self._object_reply(call, api, info, obj, table_ok=True)
            return self._object_reply(call, api, info, obj)
        if m in ("POST", "PUT", "PATCH", "DELETE"):
            write = {"POST": self._create, "PUT": self._update, "PATCH": self._patch, "DELETE": self._delete}[m]
            reply = write(call, api, user, info, ns, name, sub)
            if reply.status < 300 and q.get("dryRun") != "All" and not (m == "DELETE" and _dry_delete(call)):
                self._after_write(self._grace_of(api, info, ns, name, m, sub))
            return reply
        raise StatusError("the server does not allow this method on the requested resource", code=405,
                          reason="MethodNotAllowed", details={})

    def _grace_of(self, api: Any, info: ResourceInfo, ns: str | None, name: str | None, method: str,
                  sub: str | None) -> float:
        """The grace period of a pod this write started deleting (the client will wait that long)."""
        if info.plural != "pods" or name is None or not (method == "DELETE" or sub == "eviction"):
            return 0.0
        try:
            pod = api.get("pods", name, ns, user=SYSTEM_USER)
        except NotFoundError:
            return 0.0
        return float((pod.get("metadata") or {}).get("deletionGracePeriodSeconds") or 0)

    def _object_reply(self, call: _Call, api: Any, info: ResourceInfo, obj: Any, status: int = 200,
                      table_ok: bool = False) -> _Reply:
        how = _negotiate(call.accept, table=table_ok)
        headers = [("Warning", "299 - " + _quoted(w)) for w in (api.warnings or [])]
        if how is not None and how.startswith("table:"):
            meta = {"resourceVersion": (obj.get("metadata") or {}).get("resourceVersion", "")}
            table = to_table(info, [obj], self._now(api), include_object=call.query.get("includeObject") or "Metadata",
                             list_meta=meta, table_version=how.split(":")[1])
            return _Reply(status, _dumps(table), headers=headers)
        if how == "json":
            return _Reply(status, _dumps(obj), headers=headers)
        if how == "yaml":
            return _Reply(status, yaml.safe_dump(obj, sort_keys=False).encode(), "application/yaml", headers)
        raise StatusError("only application/json, application/yaml and Table are served", code=406,
                          reason="NotAcceptable")

    def _list(self, call: _Call, api: Any, user: Any, info: ResourceInfo, ns: str | None) -> _Reply:
        q = call.query
        listed = api.list(info.plural, ns, user=user, label_selector=q.get("labelSelector") or None,
                          field_selector=q.get("fieldSelector") or None, limit=_int(q, "limit") or None,
                          continue_=q.get("continue") or None, resource_version=q.get("resourceVersion"),
                          resource_version_match=q.get("resourceVersionMatch"))
        how = _negotiate(call.accept, table=True)
        if how is not None and how.startswith("table:"):
            table = to_table(info, listed.get("items") or [], self._now(api),
                             include_object=q.get("includeObject") or "Metadata", list_meta=listed.get("metadata"),
                             table_version=how.split(":")[1])
            return _Reply(200, _dumps(table))
        return self._object_reply(call, api, info, listed)

    # -- writes ------------------------------------------------------------------------------------------------
    def _write_options(self, q: dict) -> dict:
        dry = q.get("dryRun")
        if dry not in (None, "", "All"):
            raise BadRequestError(f'Invalid dry run value: "{dry}": supported values: "All"')
        fv = q.get("fieldValidation") or "Warn"
        if fv not in ("Strict", "Warn", "Ignore"):
            raise BadRequestError(f'Invalid field validation value: "{fv}": supported values: "Ignore", "Warn", '
                                  f'"Strict"')
        return {"dry_run": dry == "All", "field_validation": fv}

    def _body_object(self, call: _Call, info: ResourceInfo | None, *, kind: str | None = None,
                     api_version: str | None = None) -> dict:
        obj = _decode_body(call)
        if not isinstance(obj, dict):
            raise BadRequestError(f"couldn't get version/kind; json parse error: json: cannot unmarshal "
                                  f"{type(obj).__name__} into Go value of type struct {{ APIVersion string; "
                                  f"Kind string }}")
        want_kind = kind or (info.kind if info else None)
        want_av = api_version or (info.api_version if info else None)
        if want_kind is not None:
            if obj.get("apiVersion") in (None, ""):
                obj["apiVersion"] = want_av
            if obj.get("kind") in (None, ""):
                obj["kind"] = want_kind
            if obj["apiVersion"] != want_av:
                raise BadRequestError(f"the API version in the data ({obj['apiVersion']}) does not match the expected "
                                      f"API version ({want_av})")
            if obj["kind"] != want_kind:
                raise BadRequestError(f"the kind in the data ({obj['kind']}) does not match the expected kind "
                                      f"({want_kind})")
        return obj

    def _check_name(self, obj: dict, name: str) -> None:
        meta = obj.setdefault("metadata", {}) if isinstance(obj.get("metadata", {}), dict) else None
        if meta is None:
            raise BadRequestError("metadata must be an object")
        given = meta.get("name")
        if given in (None, ""):
            meta["name"] = name
        elif given != name:
            raise BadRequestError(f"the name of the object ({given}) does not match the name on the URL ({name})")

    def _create(self, call: _Call, api: Any, user: Any, info: ResourceInfo, ns: str | None, name: str | None,
                sub: str | None) -> _Reply:
        opts = self._write_options(call.query)
        if name is None:
            obj = self._body_object(call, info)
            created = api.create(obj, user=user, namespace=ns, **opts)
            return self._object_reply(call, api, info, created, 201)
        if sub in ("binding", "eviction"):
            kind, av = ("Binding", "v1") if sub == "binding" else ("Eviction", "policy/v1")
            obj = self._body_object(call, None, kind=kind, api_version=av)
            if sub == "eviction" and obj.get("apiVersion") not in ("policy/v1", "policy/v1beta1"):
                raise BadRequestError(f"the API version in the data ({obj.get('apiVersion')}) does not match the "
                                      f"expected API version (policy/v1)")
            self._check_name(obj, name)
            result = api.create(obj, user=user, namespace=ns, dry_run=opts["dry_run"])
            return _Reply(201, _dumps(result))
        if sub in _UPGRADE_SUBS:
            raise BadRequestError("Upgrade request required")
        raise StatusError("the server does not allow this method on the requested resource", code=405,
                          reason="MethodNotAllowed", details={"name": name, "kind": info.plural})

    def _update(self, call: _Call, api: Any, user: Any, info: ResourceInfo, ns: str | None, name: str | None,
                sub: str | None) -> _Reply:
        if name is None:
            raise StatusError("the server does not allow this method on the requested resource", code=405,
                              reason="MethodNotAllowed", details={"kind": info.plural})
        opts = self._write_options(call.query)
        if sub == "scale":
            obj = self._body_object(call, None, kind="Scale", api_version="autoscaling/v1")
        else:
            obj = self._body_object(call, info)
        self._check_name(obj, name)
        if sub not in (None, "status", "scale", "finalize", "approval"):
            raise StatusError("the server does not allow this method on the requested resource", code=405,
                              reason="MethodNotAllowed", details={"name": name, "kind": f"{info.plural}/{sub}"})
        updated = api.update(obj, user=user, subresource=sub, resource=info.plural, namespace=ns, **opts)
        return self._object_reply(call, api, info, updated)

    def _patch(self, call: _Call, api: Any, user: Any, info: ResourceInfo, ns: str | None, name: str | None,
               sub: str | None) -> _Reply:
        if name is None:
            raise StatusError("the server does not allow this method on the requested resource", code=405,
                              reason="MethodNotAllowed", details={"kind": info.plural})
        ctype = call.content_type.split(";")[0].strip().lower()
        patch_type = _PATCH_BY_TYPE.get(ctype)
        if patch_type is None:
            raise StatusError(f"the body of the request was in an unknown format - accepted media types include: "
                              f"{', '.join(PATCH_TYPES[t] for t in ('json', 'merge', 'apply', 'strategic'))}",
                              code=415, reason="UnsupportedMediaType")
        if not call.body.strip():
            raise BadRequestError("the body of the request was empty")
        q = call.query
        opts = self._write_options(q)
        if q.get("force") is not None and patch_type != "apply":
            raise InvalidPatchOption("force", "may not be specified for non-apply patch")
        existed = True
        if patch_type == "apply" and sub is None:
            try:
                api.get(info.plural, name, ns, user=SYSTEM_USER)
            except NotFoundError:
                existed = False
        out = api.patch(info.plural, name, call.body, user=user, namespace=ns, patch_type=patch_type,
                        subresource=sub, field_manager=q.get("fieldManager") or None, force=_bool(q, "force"), **opts)
        return self._object_reply(call, api, info, out, 200 if existed else 201)

    def _delete(self, call: _Call, api: Any, user: Any, info: ResourceInfo, ns: str | None, name: str | None,
                sub: str | None) -> _Reply:
        if sub is not None:
            raise StatusError("the server does not allow this method on the requested resource", code=405,
                              reason="MethodNotAllowed", details={"name": name, "kind": f"{info.plural}/{sub}"})
        q = call.query
        opts: dict = {}
        if call.body.strip():
            body = _decode_body(call)
            if not isinstance(body, dict):
                raise BadRequestError("the body of the request was in an unknown format: expected DeleteOptions")
            opts = body
        grace = opts.get("gracePeriodSeconds", _int(q, "gracePeriodSeconds"))
        policy = opts.get("propagationPolicy", q.get("propagationPolicy"))
        orphan = opts.get("orphanDependents",
                          None if q.get("orphanDependents") is None else _bool(q, "orphanDependents"))
        if policy is None and orphan is True:
            policy = "Orphan"
        elif policy is None and orphan is False:
            policy = "Background"
        dry = opts.get("dryRun") or ([q["dryRun"]] if q.get("dryRun") else [])
        dry_run = "All" in (dry if isinstance(dry, list) else [dry])
        if name is None:
            listed = api.delete_collection(info.plural, ns, user=user, label_selector=q.get("labelSelector") or None,
                                           field_selector=q.get("fieldSelector") or None,
                                           grace_period_seconds=grace, propagation_policy=policy)
            return _Reply(200, _dumps(listed))
        last = api.delete(info.plural, name, ns, user=user, grace_period_seconds=grace, propagation_policy=policy,
                          preconditions=opts.get("preconditions"), dry_run=dry_run)
        if dry_run:
            return self._object_reply(call, api, info, last)
        try:
            still = api.get(info.plural, name, ns, user=SYSTEM_USER)
        except NotFoundError:
            still = None
        if still is not None:
            return self._object_reply(call, api, info, still, 202)
        if info.kind == "Pod":
            return self._object_reply(call, api, info, last)
        meta = last.get("metadata") or {}
        details = {"name": name, **({"group": info.group} if info.group else {}), "kind": info.plural,
                   "uid": meta.get("uid", "")}
        return _Reply(200, _dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                   "details": details}))

    # -- logs ----------------------------------------------------------------------------------------------------
    def _log(self, call: _Call, api: Any, user: Any, ns: str | None, name: str) -> "_Reply | _Stream":
        q = call.query
        container = q.get("container") or None
        tail = _int(q, "tailLines")
        limit = _int(q, "limitBytes")
        opts: dict[str, Any] = {}
        if _bool(q, "previous"):
            opts["previous"] = True
        if _bool(q, "timestamps"):
            opts["timestamps"] = True
        if tail is not None:
            if tail < 0:
                raise BadRequestError(f"tailLines: Invalid value: {tail}: must be greater than or equal to 0")
            opts["tail_lines"] = tail

        def text(**extra: Any) -> bytes:
            out = api.logs(name, ns, user=user, container=container, **{**opts, **extra})
            return out if isinstance(out, bytes) else str(out or "").encode()

        data = text()
        if limit is not None and limit >= 0:
            data = data[:limit]
        if not _bool(q, "follow") or opts.get("previous"):
            return _Reply(200, data, "text/plain")
        seen = len(text(tail_lines=None)) if tail is not None else len(data)
        state = {"seen": seen}
        pod_key = (ns, name)

        def poll() -> tuple[bytes, bool]:
            try:
                full = api.logs(name, ns, user=user, container=container,
                                **{k: v for k, v in opts.items() if k != "tail_lines"})
            except StatusError:
                return b"", True
            full_b = full if isinstance(full, bytes) else str(full or "").encode()
            new = full_b[state["seen"]:]
            state["seen"] = len(full_b)
            return new, self._container_done(api, pod_key, container)

        return _Stream([data] if data else [], None, "text/plain", poll=poll,
                       timeout=None)

    def _container_done(self, api: Any, pod_key: tuple, container: str | None) -> bool:
        ns, name = pod_key
        try:
            pod = api.get("pods", name, ns, user=SYSTEM_USER)
        except NotFoundError:
            return True
        if (pod.get("metadata") or {}).get("deletionTimestamp"):
            return False
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        for s in statuses:
            if container is None or s.get("name") == container:
                state = s.get("state") or {}
                if "terminated" in state and (pod.get("spec") or {}).get("restartPolicy") == "Never":
                    return True
                if "terminated" in state and (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                    return True
        return False

    # -- watch ---------------------------------------------------------------------------------------------------
    def _watch(self, call: _Call, api: Any, user: Any, info: ResourceInfo, ns: str | None, name: str | None,
               queue: asyncio.Queue, loop: asyncio.AbstractEventLoop) -> "_Reply | _Stream":
        q = call.query
        labels = q.get("labelSelector") or None
        fields = q.get("fieldSelector") or None
        if name is not None:
            fields = f"metadata.name={name}" + (f",{fields}" if fields else "")
        how = _negotiate(call.accept, table=True)
        if how is None:
            raise StatusError("only application/json and Table are served for watches", code=406,
                              reason="NotAcceptable")
        table_version = how.split(":")[1] if how.startswith("table:") else None
        include = q.get("includeObject") or "Metadata"
        state = {"columns": True}
        now = self._now

        def line(ev: dict) -> bytes:
            obj = ev.get("object")
            if table_version is not None and ev.get("type") in ("ADDED", "MODIFIED", "DELETED"):
                obj = to_table(info, [obj], now(api), include_object=include, table_version=table_version,
                               list_meta={"resourceVersion": (obj.get("metadata") or {}).get("resourceVersion", "")},
                               columns=state["columns"])
                state["columns"] = False
            return _dumps({"type": ev.get("type"), "object": obj})

        rv = q.get("resourceVersion")
        send_initial = _bool(q, "sendInitialEvents")
        first: list[bytes] = []
        if rv in (None, "", "0") or send_initial:
            listed = api.list(info.plural, ns, user=user, label_selector=labels, field_selector=fields)
            for item in listed.get("items") or []:
                first.append(line({"type": "ADDED", "object": item}))
            rv = listed["metadata"]["resourceVersion"]
            if send_initial:
                first.append(_dumps({"type": "BOOKMARK", "object": {
                    "kind": info.kind, "apiVersion": info.api_version,
                    "metadata": {"resourceVersion": rv, "annotations": {"k8s.io/initial-events-end": "true"}}}}))

        def deliver(ev: dict) -> None:
            try:
                data = line(ev)
            except Exception as e:  # noqa: BLE001 - never break the world's loop for a client
                data = _dumps({"type": "ERROR", "object": _status(500, "InternalError", str(e))})
            _post(loop, queue, data)

        def closed(err: Exception | None) -> None:
            # a watch the server ends with a Status (410 Expired, etcd errors) already sent it as an ERROR
            # event; one ended by the API server stopping just ends, like a dropped connection
            _post(loop, queue, None)

        try:
            w = api.watch(info.plural, ns, user=user, callback=deliver, resource_version=rv, label_selector=labels,
                          field_selector=fields, on_close=closed)
        except GoneError as e:
            return _Stream(first + [_dumps({"type": "ERROR", "object": e.status})], None, ended=True)
        timeout = _int(q, "timeoutSeconds")
        return _Stream(first, w.stop, timeout=float(timeout) if timeout else None)


class InvalidPatchOption(StatusError):
    """``force`` given to a non-apply patch (422)."""

    def __init__(self, option: str, why: str):
        super().__init__(f'PatchOptions.meta.k8s.io "" is invalid: {option}: Forbidden: {why}', code=422,
                         reason="Invalid", details={"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [
                             {"reason": "FieldValueForbidden", "message": f"Forbidden: {why}", "field": option}]})


# ---------------------------------------------------------------------------------------
# starting one
# ---------------------------------------------------------------------------------------
def serve_kube(cluster: Any, port: int = 0, kubeconfig: str | None = None, *, host: str = "127.0.0.1",
               tick: float = 1.0, interval: float = 0.05, autoadvance: bool = False,
               advance_while_waiting: bool = True, settle: float = 30.0) -> KubeAPI:
    """Serve ``cluster``'s API server on ``https://127.0.0.1:<port>`` (0: a free port).

    Args:
        cluster: a :class:`~aivle_k8s.cluster.cluster.Cluster`.
        port: the TCP port (0 picks a free one).
        kubeconfig: where to write the admin kubeconfig (default: a new temporary directory,
            deleted by ``stop()``).
        tick, interval: advance ``tick`` simulated seconds every ``interval`` wall seconds...
        advance_while_waiting: ...while a client waits on a watch or a followed log (default on),
        settle: ...for this many simulated seconds after each accepted write (0: never),
        autoadvance: ...or all the time.

    Returns:
        a :class:`KubeAPI` handle (``.url``, ``.kubeconfig``, ``.token``, ``.stop()``).
    """
    world = cluster.world
    lock_owner = world if world is not None else cluster.loop
    with world_lock(lock_owner):
        creds = make_credentials(cluster)
        cluster.client.apiserver()  # fail now (connection refused) rather than on the first request
    workdir = tempfile.mkdtemp(prefix="aivle-kube-api-")
    try:
        kubeconfig_path = os.path.abspath(kubeconfig) if kubeconfig else os.path.join(workdir, "kubeconfig")
        handle = KubeAPI(cluster, creds, workdir, kubeconfig_path, tick=tick, interval=interval,
                         autoadvance=autoadvance, advance_while_waiting=advance_while_waiting, settle=settle,
                         owns_workdir=True)
        with open(handle.ca_file, "wb") as f:
            f.write(creds.ca_pem)
        ctx = creds.ssl_context(workdir)
        handle._served = serve_app(handle.app(), host=host, port=port, ssl_context=ctx, name="aivle-kube-api")
        text = creds.kubeconfig(handle.url)
        os.makedirs(os.path.dirname(kubeconfig_path) or ".", exist_ok=True)
        fd = os.open(kubeconfig_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return handle
