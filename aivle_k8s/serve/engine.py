"""The Docker Engine API face of an :class:`~aivle_k8s.engine.engine.Engine` (API version 1.43).

``engine.serve()`` answers the Docker Engine API on a loopback port or a unix socket, so the
``docker`` Python SDK (and the ``docker`` CLI with ``DOCKER_HOST``) drives the simulated engine
unmodified::

    handle = machine.engine.serve()                       # or serve(unix_socket="/tmp/aivle.sock")
    client = docker.DockerClient(base_url=handle.docker_host)
    client.images.build(fileobj=io.BytesIO(b"FROM busybox\\nCMD echo hi\\n"), tag="app:1")
    client.containers.run("app:1")                        # b"hi\\n"

Paths work with and without the ``/v1.xx`` prefix (1.12 to 1.43). What is served:

* ``/_ping`` (GET/HEAD), ``/version``, ``/info``, ``/system/df``, ``/auth``
* images: ``GET /images/json``, ``GET /images/{name}/json``, ``GET /images/{name}/history``,
  ``POST /images/create`` (pull, streamed JSON progress), ``POST /build`` (a tar context, streamed
  ``{"stream": ...}`` lines and the ``{"aux": {"ID": ...}}`` of the image), ``POST /images/{name}/tag``,
  ``POST /images/{name}/push`` (streamed), ``DELETE /images/{name}``, ``POST /images/prune``,
  ``GET /images/{name}/get`` (an OCI archive), ``POST /images/load``
* containers: ``GET /containers/json`` (filters), ``POST /containers/create``, ``GET .../json``,
  ``start``, ``stop``, ``restart``, ``kill``, ``pause``, ``unpause``, ``rename``, ``wait``,
  ``GET .../logs`` (8-byte-header multiplexed frames unless the container has a TTY; ``follow``),
  ``GET .../top``, ``GET .../changes``, ``DELETE``, ``POST /containers/prune``
* exec: ``POST /containers/{id}/exec``, ``POST /exec/{id}/start`` (hijacked, multiplexed output),
  ``GET /exec/{id}/json`` (``ExitCode``), ``POST /exec/{id}/resize``
* volumes and networks: list, create, inspect, remove, prune

Errors are the daemon's: ``404 {"message": "No such image: nginx:9"}``, ``409`` for conflicts,
``400`` for bad input, ``500`` for registry failures.

Simulated time: a request that waits for the world (``wait``, ``logs?follow=1``) advances the
world's clock under the world's lock, a slice at a time, until it happens or until nothing is left
to happen within ``wait_limit`` simulated seconds (a day, like :meth:`Container.wait`); then it
keeps waiting in real time for someone else (the notebook, another request) to make it happen,
as a real daemon would. Pulls, pushes and builds take their simulated time inside the engine.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as _dt
import fcntl
import hashlib
import io
import json
import os
import posixpath
import socket
import struct
import tarfile
import termios
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

from ..engine.cli import image_inspect
from ..engine.engine import API_VERSION, DaemonNotRunning
from ..sim.errors import (AivleError, AlreadyExists, BuildError, Conflict, ContainerError, InvalidInput,
                          ManifestUnknown, NameUnknown, NotFound, Unauthorized)
from .runner import Served, in_world, serve_app

__all__ = ["EngineAPI", "ServedEngine", "serve_engine", "MIN_API_VERSION", "WAIT_LIMIT"]

MIN_API_VERSION = "1.12"
#: Simulated seconds a waiting request lets pass at most before waiting in real time.
WAIT_LIMIT = 86400.0
_STEPS_PER_SLICE = 500
_JSON = "application/json"
_MULTIPLEXED = "application/vnd.docker.multiplexed-stream"
_RAW = "application/vnd.docker.raw-stream"
#: http.client reads a response through a buffer of this size; hijacked streams pad their headers to it.
_CLIENT_BUFFER = io.DEFAULT_BUFFER_SIZE
_SIOCOUTQNSD = 0x894B  # linux/sockios.h: bytes not yet sent


class ApiError(Exception):
    """An answer ``{"message": ...}`` with an HTTP status (for checks done by the face itself)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def status_of(e: AivleError) -> int:
    """The HTTP status dockerd gives an error of this kind."""
    if isinstance(e, DaemonNotRunning):
        return 503
    if isinstance(e, (NotFound, ManifestUnknown, NameUnknown)):
        return 404
    if isinstance(e, (Conflict, AlreadyExists)):
        return 409
    if isinstance(e, (InvalidInput, ContainerError)):
        return 400
    if isinstance(e, Unauthorized):
        return 401 if getattr(e, "code", "") == "UNAUTHORIZED" else 403
    return 500


def _message(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def frame(stream: int, data: bytes) -> bytes:
    """One frame of a multiplexed stream: ``[stream, 0, 0, 0, size (uint32 big-endian)]`` then the bytes."""
    return struct.pack(">BxxxL", stream, len(data)) + data


def _line(doc: dict) -> bytes:
    return (json.dumps(doc, separators=(",", ":")) + "\r\n").encode()


# -- query parameters -------------------------------------------------------------------------------
def _bool(request: web.Request, name: str, default: bool = False) -> bool:
    value = request.query.get(name)
    if value is None:
        return default
    return value.strip().lower() not in ("", "0", "false", "no")


def _int(request: web.Request, name: str, default: int | None = None) -> int | None:
    value = request.query.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, f"invalid value for {name}: {value!r} is not an integer") from None


def _json_param(request: web.Request, name: str) -> Any:
    value = request.query.get(name)
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        raise ApiError(400, f"invalid {name}: {value!r} is not JSON") from None


def _filters(request: web.Request) -> dict[str, list[str]]:
    """``filters`` as ``{key: [values]}`` (also the old ``{key: {value: true}}`` form)."""
    raw = _json_param(request, "filters") or {}
    if not isinstance(raw, dict):
        raise ApiError(400, "invalid filters: expected a JSON object")
    out: dict[str, list[str]] = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            out[key] = [str(k) for k, v in value.items() if v]
        elif isinstance(value, list):
            out[key] = [str(v) for v in value]
        else:
            out[key] = [str(value)]
    return out


def _registry_auth(request: web.Request) -> dict | None:
    """The ``X-Registry-Auth`` credentials (base64url JSON), or None."""
    header = request.headers.get("X-Registry-Auth")
    if not header:
        return None
    try:
        padded = header + "=" * (-len(header) % 4)
        doc = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


# -- dockerd-shaped documents ---------------------------------------------------------------------------
def _unix(world: Any, rfc3339: str | None) -> int:
    if not rfc3339:
        return 0
    try:
        text = rfc3339.replace("Z", "+00:00")
        if "." in text:  # fractions of any length
            head, _, rest = text.partition(".")
            digits = "".join(ch for ch in rest if ch.isdigit())
            text = head + rest[len(digits):]
        return int(_dt.datetime.fromisoformat(text).timestamp())
    except ValueError:
        return 0


def image_summary(engine: Any, img: Any) -> dict:
    """An entry of ``GET /images/json``."""
    store = engine.store
    return {"Id": img.id, "ParentId": "", "RepoTags": store.repo_tags(img.id),
            "RepoDigests": store.repo_digests(img.id), "Created": _unix(engine.world, img.created),
            "Size": img.size, "SharedSize": -1, "VirtualSize": img.size,
            "Labels": dict(img.config.labels) or {}, "Containers": -1}


def container_summary(engine: Any, c: Any, size: bool = False) -> dict:
    """An entry of ``GET /containers/json`` (what ``docker ps`` lists)."""
    from ..engine.cli import container_status

    world = engine.world
    attrs = c.attrs
    ports = []
    if c.status in ("running", "paused"):
        for key, bindings in (attrs["NetworkSettings"].get("Ports") or {}).items():
            port, _, proto = key.partition("/")
            if not bindings:
                ports.append({"PrivatePort": int(port), "Type": proto or "tcp"})
            for b in bindings or []:
                ports.append({"IP": b.get("HostIp") or "0.0.0.0", "PrivatePort": int(port),
                              "PublicPort": int(b.get("HostPort") or 0), "Type": proto or "tcp"})
    doc = {
        "Id": c.id, "Names": ["/" + c.name], "Image": c.image_ref, "ImageID": c.image_id,
        "Command": " ".join(c.command), "Created": int(world.datetime(c.created).timestamp()),
        "Ports": ports, "Labels": dict(c.labels), "State": c.status, "Status": container_status(world, c),
        "HostConfig": {"NetworkMode": c.network_mode},
        "NetworkSettings": {"Networks": attrs["NetworkSettings"]["Networks"]}, "Mounts": attrs["Mounts"],
    }
    if size:
        rw = sum(e.size for e in c.fs.upper.values() if e.is_file)
        doc["SizeRw"], doc["SizeRootFs"] = rw, c.image.size + rw
    return doc


# -- exec instances ----------------------------------------------------------------------------------------
@dataclass
class _Exec:
    id: str
    container: Any
    argv: list[str]
    user: str
    workdir: str | None
    env: list[str] | None
    tty: bool
    stdout: bool
    stderr: bool
    privileged: bool
    running: bool = False
    started: bool = False
    exit_code: int | None = None

    def inspect(self) -> dict:
        return {"ID": self.id, "Running": self.running, "ExitCode": self.exit_code,
                "ProcessConfig": {"tty": self.tty, "entrypoint": self.argv[0] if self.argv else "",
                                  "arguments": self.argv[1:], "privileged": self.privileged, "user": self.user},
                "OpenStdin": False, "OpenStderr": self.stderr, "OpenStdout": self.stdout, "CanRemove": False,
                "ContainerID": self.container.id, "DetachKeys": "", "Pid": 0}


@dataclass
class _EngineState:
    """What the daemon keeps beside the engine for its API: exec instances, counters."""

    execs: dict = field(default_factory=dict)
    exec_seq: int = 0
    build_seq: int = 0


_STATE: "weakref.WeakKeyDictionary[Any, _EngineState]" = weakref.WeakKeyDictionary()


# -- the API ------------------------------------------------------------------------------------------------
class EngineAPI:
    """The Docker Engine API over one :class:`Engine`; every call into the world holds the world's lock."""

    def __init__(self, engine: Any, *, wait_limit: float = WAIT_LIMIT):
        self.engine = engine
        self.world = engine.world
        self.wait_limit = float(wait_limit)
        state = _STATE.get(engine)
        if state is None:
            state = _STATE[engine] = _EngineState()
        self.state = state  # shared by every face of this engine (an exec made on one is started on another)
        self.closing = False  # set when the server shuts down: waiting requests end
        self.server_version = engine._version()  # read again under the lock by /version

    @property
    def execs(self) -> dict[str, "_Exec"]:
        return self.state.execs

    # -- plumbing -------------------------------------------------------------------------------------
    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` under the world's lock, on a worker thread."""
        return await in_world(self.world, fn, *args, **kwargs)

    def common_headers(self) -> dict:
        return {"Api-Version": API_VERSION, "Docker-Experimental": "false", "Ostype": "linux",
                "Server": f"Docker/{self.server_version} (linux)"}

    async def advance_until(self, request: web.Request, predicate: Callable[[], bool],
                            on_slice: Callable[[], Any] | None = None) -> bool:
        """Let simulated time pass (a slice at a time, under the lock) until ``predicate()`` holds.

        Stops advancing when nothing is scheduled within ``wait_limit`` simulated seconds; then
        waits in real time (stepping whatever others schedule) until it holds or the client leaves.
        ``on_slice`` (a coroutine function) runs between slices, e.g. to stream new log lines.
        """
        loop = self.world.loop
        deadline: list[float] = []

        def run_slice() -> str:
            if not deadline:
                deadline.append(loop.now + self.wait_limit)
            for _ in range(_STEPS_PER_SLICE):
                if predicate():
                    return "done"
                nxt = loop.peek()
                if nxt is None or nxt > deadline[0]:
                    return "idle"
                loop.step()
            return "done" if predicate() else "more"

        while not (self.closing or _gone(request)):
            state = await self.call(run_slice)
            if on_slice is not None:
                await on_slice()
            if state == "done":
                return True
            if state == "idle":
                break
        while not (self.closing or _gone(request)):
            await asyncio.sleep(0.05)
            state = await self.call(run_slice)
            if on_slice is not None:
                await on_slice()
            if state == "done":
                return True
        return False

    # -- system ---------------------------------------------------------------------------------------
    async def ping(self, request: web.Request) -> web.StreamResponse:
        await self.call(self.engine.version)  # DaemonNotRunning (503) when dockerd is stopped
        headers = {"Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache",
                   "Builder-Version": "1", "Swarm": "inactive"}
        return web.Response(text="OK", content_type="text/plain", headers=headers)

    async def version(self, request: web.Request) -> web.StreamResponse:
        doc = await self.call(self.engine.version)
        self.server_version = doc["Version"]
        return web.json_response(doc)

    async def info(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(await self.call(self.engine.info))

    async def system_df(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(await self.call(self.engine.df))

    async def auth(self, request: web.Request) -> web.StreamResponse:
        doc = await _body_json(request)
        username, password = doc.get("username") or "", doc.get("password") or ""
        server = doc.get("serveraddress") or "docker.io"
        engine = self.engine

        def check() -> None:
            engine._check()
            host = engine._registry_host(server)
            reg = engine.registry_for(host)
            endpoint = "registry-1.docker.io" if host == "docker.io" else host
            try:
                token = reg.login(username, password)
            except Unauthorized:
                raise Unauthorized(f'Get "https://{endpoint}/v2/": unauthorized: incorrect username or password',
                                   code="UNAUTHORIZED") from None
            reg.logout(token)  # the client keeps the credentials, not the daemon

        await self.call(check)
        return web.json_response({"Status": "Login Succeeded", "IdentityToken": ""})

    # -- images ---------------------------------------------------------------------------------------
    async def images_list(self, request: web.Request) -> web.StreamResponse:
        filters = _filters(request)
        engine = self.engine

        def run() -> list[dict]:
            names = filters.get("reference") or [None]
            dangling = filters.get("dangling")
            seen: dict[str, Any] = {}
            for name in names:
                kwargs = {"filters": {"dangling": dangling}} if dangling else {}
                for img in engine.images.list(name=name, **kwargs):
                    seen.setdefault(img.id, img)
            labels = filters.get("label") or []
            out = []
            for img in seen.values():
                have = img.config.labels
                if all((k in have and (not eq or have[k] == v)) for k, eq, v in (s.partition("=") for s in labels)):
                    out.append(image_summary(engine, img))
            return out

        return web.json_response(await self.call(run))

    async def image_inspect(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        engine = self.engine
        return web.json_response(await self.call(lambda: image_inspect(engine, engine.images.get(name))))

    async def image_history(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        engine = self.engine

        def run() -> list[dict]:
            return [{**row, "Created": _unix(engine.world, row.get("Created"))}
                    for row in engine.images.history(name)]

        return web.json_response(await self.call(run))

    async def image_tag(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        repo = request.query.get("repo") or ""
        tag = request.query.get("tag") or None
        if not repo:
            raise ApiError(400, "repository name must have at least one component")
        await self.call(self.engine.images.tag, name, repo, tag)
        return web.Response(status=201)

    async def image_delete(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        lines = await self.call(self.engine.images.remove, name, force=_bool(request, "force"),
                                noprune=_bool(request, "noprune"))
        out = []
        for line in lines:
            kind, _, value = line.partition(": ")
            out.append({kind: value})
        return web.json_response(out)

    async def images_prune(self, request: web.Request) -> web.StreamResponse:
        filters = _filters(request)
        return web.json_response(await self.call(self.engine.images.prune, filters=filters or None))

    async def image_get(self, request: web.Request) -> web.StreamResponse:
        from ..images.oci import save_oci_archive

        name = request.match_info["name"]
        engine = self.engine
        data = await self.call(lambda: save_oci_archive([(name, engine.images.get(name))]))
        return web.Response(body=data, content_type="application/x-tar")

    async def images_load(self, request: web.Request) -> web.StreamResponse:
        from ..images.oci import load_oci_archive

        data = await request.read()
        engine = self.engine

        def run() -> list[str]:
            engine._check()
            lines = []
            for ref, img in load_oci_archive(data):
                stored = engine.store.add(img, tags=[ref] if ref else [])
                if ref:
                    from ..images.reference import parse_reference

                    lines.append(f"Loaded image: {parse_reference(ref).familiar_string}\n")
                else:
                    lines.append(f"Loaded image ID: {stored.id}\n")
            return lines

        lines = await self.call(run)
        body = b"".join(_line({"stream": text}) for text in lines)
        return web.Response(body=body, content_type=_JSON)

    async def _with_credentials(self, request: web.Request, host: str, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` under the lock with the ``X-Registry-Auth`` credentials logged in for ``host``."""
        creds = _registry_auth(request)
        engine = self.engine
        if not creds or not creds.get("username"):
            return await self.call(fn)

        def run() -> Any:
            reg = engine.registry_for(host)
            endpoint = "registry-1.docker.io" if host == "docker.io" else host
            try:
                token = reg.login(creds["username"], creds.get("password") or "")
            except Unauthorized:
                raise Unauthorized(f'Get "https://{endpoint}/v2/": unauthorized: incorrect username or password',
                                   code="UNAUTHORIZED") from None
            missing = object()
            old = engine.auths.get(host, missing)
            engine.auths[host] = token
            try:
                return fn()
            finally:
                if old is missing:
                    engine.auths.pop(host, None)
                else:
                    engine.auths[host] = old
                reg.logout(token)

        return await self.call(run)

    async def image_create(self, request: web.Request) -> web.StreamResponse:
        """``POST /images/create?fromImage=&tag=``: docker pull, with dockerd's progress lines."""
        from ..images.reference import parse_reference

        if request.query.get("fromSrc"):
            raise ApiError(501, "importing a root filesystem (fromSrc) is not supported here: use docker load")
        image = request.query.get("fromImage") or ""
        tag = request.query.get("tag") or ""
        if not image:
            raise ApiError(400, "fromImage is required: the image to pull")
        text = image if not tag else (f"{image}@{tag}" if tag.startswith("sha256:") else f"{image}:{tag}")
        try:
            ref = await self.call(parse_reference, text)
        except InvalidInput as e:
            raise ApiError(400, e.message) from None
        engine = self.engine
        try:
            report = await self._with_credentials(request, ref.domain, lambda: engine.images.pull(text))
        except Unauthorized as e:
            if getattr(e, "code", "") == "UNAUTHORIZED":
                raise
            raise ApiError(404, e.message) from None  # "pull access denied for x, repository does not exist ..."
        head = ref.digest or ref.tag or "latest"
        lines = [{"status": f"Pulling from {ref.path}", "id": head}]
        for short, _ in report.layers:
            lines.append({"status": "Pulling fs layer", "progressDetail": {}, "id": short})
        for short, status in report.layers:
            if status == "Pull complete":
                lines.append({"status": "Download complete", "progressDetail": {}, "id": short})
            lines.append({"status": status, "progressDetail": {}, "id": short})
        lines.append({"status": f"Digest: {report.digest}"})
        lines.append({"status": f"Status: {report.status}"})
        return await self._stream_lines(request, lines)

    async def image_push(self, request: web.Request) -> web.StreamResponse:
        """``POST /images/{name}/push?tag=``: docker push, with dockerd's progress lines."""
        from ..images.reference import parse_reference
        from ..sim.errors import ImageNotFound

        name = request.match_info["name"]
        tag = request.query.get("tag") or ""
        text = f"{name}:{tag}" if tag else name
        engine = self.engine

        def local() -> tuple[Any, list[str]]:
            engine._check()
            ref = parse_reference(text)
            try:
                img = engine.store.get(ref)
            except ImageNotFound:
                raise ImageNotFound(f"An image does not exist locally with the tag: {ref.familiar}") from None
            shorts: list[str] = []
            for layer in reversed(list(img.layers)):
                short = layer.diff_id.split(":", 1)[-1][:12]
                if short not in shorts:
                    shorts.append(short)
            return ref, shorts

        try:
            ref, shorts = await self.call(local)
        except InvalidInput as e:
            raise ApiError(400, e.message) from None
        resp = await self._start_stream(request)
        await resp.write(_line({"status": f"The push refers to repository [{ref.name}]"}))
        for short in shorts:
            await resp.write(_line({"status": "Preparing", "progressDetail": {}, "id": short}))
        try:
            report = await self._with_credentials(request, ref.domain, lambda: engine.images.push(text))
        except AivleError as e:
            await resp.write(_line({"errorDetail": {"message": e.message}, "error": e.message}))
            await resp.write_eof()
            return resp
        for short, status in report.layers:
            await resp.write(_line({"status": status, "progressDetail": {}, "id": short}))
        shown = ref.tag or "latest"
        await resp.write(_line({"status": f"{shown}: digest: {report.digest} size: {report.size}"}))
        await resp.write(_line({"progressDetail": {}, "aux": {"Tag": shown, "Digest": report.digest,
                                                              "Size": report.size}}))
        await resp.write_eof()
        return resp

    async def build(self, request: web.Request) -> web.StreamResponse:
        """``POST /build``: the tar context is unpacked on the machine, built, and the log streamed."""
        data = await request.read()
        if request.query.get("remote") and not data:
            raise ApiError(400, "building from a remote context is not supported here: send a tar context")
        tags = [t for t in request.query.getall("t", []) if t]
        dockerfile = request.query.get("dockerfile") or "Dockerfile"
        buildargs = _json_param(request, "buildargs") or None
        labels = _json_param(request, "labels") or None
        quiet = _bool(request, "q")
        try:
            archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")
            members = [(m, archive.extractfile(m).read() if m.isfile() else b"") for m in archive.getmembers()]
        except (tarfile.TarError, EOFError, OSError):
            raise ApiError(400, "failed to read the build context: not a tar archive (plain, gzip, bzip2 or xz)") \
                from None
        engine = self.engine
        self.state.build_seq += 1
        context = f"{engine.root}/tmp/docker-builder{self.state.build_seq:09d}"

        def run() -> tuple[Any, list[str], str | None]:
            engine._check()
            fs = engine.machine.fs
            _unpack(fs, context, members)
            lines: list[str] = []
            try:
                result = engine.images.build(context, dockerfile=dockerfile, tag=tags or None, buildargs=buildargs,
                                             nocache=_bool(request, "nocache"),
                                             target=request.query.get("target") or None,
                                             pull=_bool(request, "pull"), labels=labels, progress=lines.append)
            except BuildError as e:
                return None, (e.build_log or "").splitlines(), e.message
            finally:
                if fs.exists(context):
                    fs.remove(context, recursive=True)
            return result, lines, None

        result, lines, failure = await self.call(run)
        out: list[dict] = []
        if failure is not None:
            out += [{"stream": line + "\n"} for line in lines]
            out.append({"errorDetail": {"message": failure}, "error": failure})
        elif quiet:
            out.append({"stream": result.image.id + "\n"})
        else:
            out += [{"stream": line + "\n"} for line in lines]
            out.append({"aux": {"ID": result.image.id}})
            out.append({"stream": f"Successfully built {result.image.short_id.split(':')[-1][:12]}\n"})
            from ..images.reference import parse_reference

            for tag in result.tags or tags:
                out.append({"stream": f"Successfully tagged {parse_reference(tag).familiar_string}\n"})
        return await self._stream_lines(request, out)

    async def _start_stream(self, request: web.Request, content_type: str = _JSON) -> web.StreamResponse:
        resp = web.StreamResponse(status=200, headers={"Content-Type": content_type})
        await resp.prepare(request)
        return resp

    async def _stream_lines(self, request: web.Request, docs: list[dict]) -> web.StreamResponse:
        resp = await self._start_stream(request)
        for doc in docs:
            await resp.write(_line(doc))
        await resp.write_eof()
        return resp

    # -- containers -----------------------------------------------------------------------------------
    async def containers_list(self, request: web.Request) -> web.StreamResponse:
        filters = _filters(request)
        all_ = _bool(request, "all")
        limit = _int(request, "limit", -1)
        size = _bool(request, "size")
        engine = self.engine

        def run() -> list[dict]:
            cs = engine.containers.list(all=all_, filters=filters or None, limit=limit if limit and limit > 0 else -1)
            return [container_summary(engine, c, size) for c in cs]

        return web.json_response(await self.call(run))

    async def container_create(self, request: web.Request) -> web.StreamResponse:
        doc = await _body_json(request)
        name = request.query.get("name") or None
        kwargs = _create_kwargs(doc)
        image = kwargs.pop("image")
        extra_exposed = list((doc.get("ExposedPorts") or {}).keys())
        engine = self.engine

        def run() -> dict:
            c = engine.containers.create(image, name=name, pull="never", **kwargs)
            if extra_exposed:
                exposed = dict(c.config.get("ExposedPorts") or {})
                for port in extra_exposed:
                    exposed.setdefault(port if "/" in port else f"{port}/tcp", {})
                c.config["ExposedPorts"] = exposed
            return {"Id": c.id, "Warnings": []}

        return web.json_response(await self.call(run), status=201)

    def _container(self, request: web.Request) -> Any:
        return self.engine.containers.get(request.match_info["id"])

    async def container_inspect(self, request: web.Request) -> web.StreamResponse:
        size = _bool(request, "size")

        def run() -> dict:
            c = self._container(request)
            attrs = c.attrs
            if size:
                rw = sum(e.size for e in c.fs.upper.values() if e.is_file)
                attrs["SizeRw"], attrs["SizeRootFs"] = rw, c.image.size + rw
            return attrs

        return web.json_response(await self.call(run))

    async def container_start(self, request: web.Request) -> web.StreamResponse:
        def run() -> int:
            c = self._container(request)
            if c.status == "running":
                return 304
            c.start()
            return 204

        return web.Response(status=await self.call(run))

    async def container_stop(self, request: web.Request) -> web.StreamResponse:
        timeout = _int(request, "t")

        def run() -> int:
            c = self._container(request)
            if c.status not in ("running", "paused", "restarting"):
                return 304
            c.stop(timeout)  # simulated time passes until it has stopped
            return 204

        return web.Response(status=await self.call(run))

    async def container_restart(self, request: web.Request) -> web.StreamResponse:
        timeout = _int(request, "t")
        await self.call(lambda: self._container(request).restart(timeout))
        return web.Response(status=204)

    async def container_kill(self, request: web.Request) -> web.StreamResponse:
        signal = request.query.get("signal") or "KILL"
        await self.call(lambda: self._container(request).kill(signal))
        return web.Response(status=204)

    async def container_pause(self, request: web.Request) -> web.StreamResponse:
        await self.call(lambda: self._container(request).pause())
        return web.Response(status=204)

    async def container_unpause(self, request: web.Request) -> web.StreamResponse:
        await self.call(lambda: self._container(request).unpause())
        return web.Response(status=204)

    async def container_rename(self, request: web.Request) -> web.StreamResponse:
        new = request.query.get("name") or ""
        if not new:
            raise ApiError(400, "Neither old nor new names may be empty")
        await self.call(lambda: self._container(request).rename(new))
        return web.Response(status=204)

    async def container_delete(self, request: web.Request) -> web.StreamResponse:
        force, volumes = _bool(request, "force"), _bool(request, "v")
        await self.call(lambda: self._container(request).remove(force=force, v=volumes))
        return web.Response(status=204)

    async def containers_prune(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(await self.call(self.engine.containers.prune, filters=_filters(request) or None))

    async def container_top(self, request: web.Request) -> web.StreamResponse:
        ps_args = request.query.get("ps_args") or None
        return web.json_response(await self.call(lambda: self._container(request).top(ps_args)))

    async def container_changes(self, request: web.Request) -> web.StreamResponse:
        kinds = {"C": 0, "A": 1, "D": 2}
        changes = await self.call(lambda: self._container(request).diff())
        return web.json_response([{"Path": path, "Kind": kinds.get(kind, 0)} for kind, path in changes] or None)

    async def container_wait(self, request: web.Request) -> web.StreamResponse:
        """``POST /containers/{id}/wait``: headers at once, the status when the container exits."""
        condition = request.query.get("condition") or "not-running"
        if condition not in ("not-running", "next-exit", "removed"):
            raise ApiError(400, f"invalid condition: {condition!r}")

        def arm() -> tuple[Any, Any]:
            c = self._container(request)
            return c, c.wait_event()  # "next-exit" of a container that is not running: its last exit

        c, ev = await self.call(arm)
        resp = await self._start_stream(request)
        if condition == "removed":
            done = await self.advance_until(request, lambda: c.status == "removing")
            result = {"StatusCode": c.exit_code, "Error": None}
        else:
            done = await self.advance_until(request, lambda: ev.triggered)
            result = dict(ev.value) if done else None
        if not done:  # the server is going away: drop the connection, as a daemon shutting down does
            if request.transport is not None:
                request.transport.close()
            return resp
        await resp.write(json.dumps({"StatusCode": result["StatusCode"], "Error": None}).encode() + b"\n")
        await resp.write_eof()
        return resp

    async def container_logs(self, request: web.Request) -> web.StreamResponse:
        """``GET /containers/{id}/logs``: multiplexed frames (raw bytes with a TTY); ``follow`` streams until exit."""
        stdout, stderr = _bool(request, "stdout"), _bool(request, "stderr")
        if not (stdout or stderr):
            raise ApiError(400, "Bad parameters: you must choose at least one stream")
        follow, timestamps = _bool(request, "follow"), _bool(request, "timestamps")
        tail = request.query.get("tail") or "all"
        n_tail: int | None = None
        if tail not in ("all", "-1"):
            try:
                n_tail = max(int(tail), 0)
            except ValueError:
                raise ApiError(400, f"invalid value for tail: {tail!r}") from None
        since = _float_param(request, "since")
        until = _float_param(request, "until")
        world = self.world
        epoch = world.datetime(0).timestamp()

        def wanted(items: list) -> list:
            out = []
            for t, stream, data in items:
                if not ((stream == "stdout" and stdout) or (stream == "stderr" and stderr)):
                    continue
                unix = epoch + t
                if since and unix < since or until and unix > until:
                    continue
                out.append((t, stream, data))
            return out

        def snapshot() -> tuple[Any, bool, list, int]:
            c = self._container(request)
            everything = _log_lines_all(c)
            lines = wanted(everything + ([] if follow else _partial_lines(c)))
            if n_tail is not None:
                lines = lines[-n_tail:] if n_tail else []
            return c, bool(c.config.get("Tty")), lines, len(everything)

        c, tty, lines, seen = await self.call(snapshot)
        sent = [seen]  # lines after these are streamed while following

        def encode(items: list) -> bytes:
            out = bytearray()
            for t, stream, data in items:
                if timestamps:
                    from ..engine.containers import rfc3339_nano

                    data = rfc3339_nano(world, t).encode() + b" " + data
                out += data if tty else frame(1 if stream == "stdout" else 2, data)
            return bytes(out)

        resp = web.StreamResponse(status=200, headers={"Content-Type": _RAW if tty else _MULTIPLEXED})
        await resp.prepare(request)
        if lines:
            await resp.write(encode(lines))
        if follow:
            def new() -> list:
                everything = _log_lines_all(c)
                fresh, sent[0] = everything[sent[0]:], len(everything)
                return wanted(fresh)

            async def flush() -> None:
                chunk = encode(await self.call(new))
                if chunk:
                    await resp.write(chunk)

            exited = await self.advance_until(request, lambda: c.status not in ("running", "paused", "restarting"),
                                              flush)
            if exited:  # a last line without a newline
                chunk = encode(await self.call(lambda: wanted(_partial_lines(c))))
                if chunk:
                    await resp.write(chunk)
        await resp.write_eof()
        return resp

    # -- exec ---------------------------------------------------------------------------------------------
    async def exec_create(self, request: web.Request) -> web.StreamResponse:
        doc = await _body_json(request)
        cmd = doc.get("Cmd")
        if isinstance(cmd, str):
            cmd = [cmd]
        if not cmd:
            raise ApiError(400, "No exec command specified")

        def run() -> dict:
            c = self._container(request)
            if c.status == "paused":
                raise Conflict(f"Container {c.id} is paused, unpause the container before exec")
            if c.status != "running":
                raise Conflict(f"Container {c.id} is not running")
            self.state.exec_seq += 1
            exec_id = hashlib.sha256(f"exec\0{c.id}\0{self.state.exec_seq}".encode()).hexdigest()
            self.execs[exec_id] = _Exec(exec_id, c, [str(a) for a in cmd], doc.get("User") or "",
                                        doc.get("WorkingDir") or None, doc.get("Env") or None, bool(doc.get("Tty")),
                                        bool(doc.get("AttachStdout", True)), bool(doc.get("AttachStderr", True)),
                                        bool(doc.get("Privileged")))
            return {"Id": exec_id}

        return web.json_response(await self.call(run), status=201)

    def _exec(self, request: web.Request) -> _Exec:
        exec_id = request.match_info["id"]
        ex = self.execs.get(exec_id)
        if ex is None:
            raise NotFound(f"No such exec instance: {exec_id}")
        return ex

    async def exec_inspect(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(await self.call(lambda: self._exec(request).inspect()))

    async def exec_resize(self, request: web.Request) -> web.StreamResponse:
        await self.call(lambda: self._exec(request))
        return web.Response(status=200)

    async def exec_start(self, request: web.Request) -> web.StreamResponse:
        """``POST /exec/{id}/start``: run the command, then hand the connection over to its output."""
        doc = await _body_json(request, required=False)
        detach = bool(doc.get("Detach"))
        tty = doc.get("Tty")

        def run() -> tuple[_Exec, bytes, bytes]:
            ex = self._exec(request)
            if ex.started:
                raise Conflict(f"Error: Exec command {ex.id} has already run")
            ex.started = True
            env = ex.env
            result = ex.container.exec_run(ex.argv, user=ex.user, workdir=ex.workdir, environment=env,
                                           detach=detach, demux=True, privileged=ex.privileged)
            ex.exit_code = result.exit_code
            if detach:
                return ex, b"", b""
            out, err = result.output
            return ex, (out or b"") if ex.stdout else b"", (err or b"") if ex.stderr else b""

        ex, out, err = await self.call(run)
        if detach:
            return web.Response(status=200)
        is_tty = ex.tty if tty is None else bool(tty)
        body = out + err if is_tty else (frame(1, out) if out else b"") + (frame(2, err) if err else b"")
        return await self._hijacked(request, body, _RAW if is_tty else _MULTIPLEXED)

    async def _hijacked(self, request: web.Request, body: bytes, content_type: str) -> web.StreamResponse:
        """Answer like dockerd's hijacked connections: headers, then the raw stream, then close.

        A client reading the raw socket after the headers (docker-py) must not have buffered any of
        the stream together with them: the header block is padded to the client's read buffer and the
        stream follows only once the peer has taken the headers off the wire.
        """
        upgrade = "upgrade" in (request.headers.get("Connection") or "").lower()
        headers = {"Content-Type": content_type}
        if upgrade:
            headers.update({"Connection": "Upgrade", "Upgrade": "tcp"})
            resp = web.StreamResponse(status=101, reason="UPGRADED", headers=headers)
        else:
            resp = web.StreamResponse(status=200, headers=headers)
            resp.content_length = len(body)
        resp.force_close()
        resp.pad_headers_to = _CLIENT_BUFFER  # type: ignore[attr-defined]
        await resp.prepare(request)
        await _drained(request)
        if body:
            await resp.write(body)
        await resp.write_eof()
        return resp

    # -- volumes and networks ---------------------------------------------------------------------------
    async def volumes_list(self, request: web.Request) -> web.StreamResponse:
        filters = _filters(request)
        engine = self.engine

        def run() -> dict:
            return {"Volumes": [v.attrs for v in engine.volumes.list(filters=filters or None)], "Warnings": []}

        return web.json_response(await self.call(run))

    async def volume_create(self, request: web.Request) -> web.StreamResponse:
        doc = await _body_json(request, required=False)
        engine = self.engine
        vol = await self.call(lambda: engine.volumes.create(doc.get("Name") or None, driver=doc.get("Driver") or None,
                                                            labels=doc.get("Labels") or None).attrs)
        return web.json_response(vol, status=201)

    async def volume_inspect(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        return web.json_response(await self.call(lambda: self.engine.volumes.get(name).attrs))

    async def volume_delete(self, request: web.Request) -> web.StreamResponse:
        name, force = request.match_info["name"], _bool(request, "force")
        await self.call(self.engine.volumes.remove, name, force=force)
        return web.Response(status=204)

    async def volumes_prune(self, request: web.Request) -> web.StreamResponse:
        filters = _filters(request)
        every = "all" in filters and filters["all"] and filters["all"][0].lower() in ("1", "true")
        return web.json_response(await self.call(self.engine.volumes.prune, all=every))

    async def networks_list(self, request: web.Request) -> web.StreamResponse:
        engine = self.engine
        return web.json_response(await self.call(lambda: [n.attrs for n in engine.networks.list()]))

    async def network_inspect(self, request: web.Request) -> web.StreamResponse:
        net_id = request.match_info["id"]
        return web.json_response(await self.call(lambda: self.engine.networks.get(net_id).attrs))

    async def network_create(self, request: web.Request) -> web.StreamResponse:
        doc = await _body_json(request)
        name = doc.get("Name") or ""
        if not name:
            raise ApiError(400, "network name must be given")
        engine = self.engine
        net = await self.call(lambda: engine.networks.create(name, doc.get("Driver") or "bridge",
                                                             labels=doc.get("Labels") or None,
                                                             internal=bool(doc.get("Internal"))))
        return web.json_response({"Id": net.id, "Warning": ""}, status=201)

    async def network_delete(self, request: web.Request) -> web.StreamResponse:
        net_id = request.match_info["id"]
        await self.call(lambda: self.engine.networks.get(net_id).remove())
        return web.Response(status=204)

    async def networks_prune(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(await self.call(self.engine.networks.prune))


# -- helpers ---------------------------------------------------------------------------------------------------
def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def _drained(request: web.Request, limit: float = 2.0) -> None:
    """Wait (a little, in real time) until what was written has reached the peer.

    On a unix socket the kernel's output queue empties when the peer has read it; on TCP the
    not-yet-sent queue (``SIOCOUTQNSD``) empties when the segment left, which on loopback means
    it sits in the peer's receive queue.
    """
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    query = termios.TIOCOUTQ if sock is not None and sock.family == socket.AF_UNIX else _SIOCOUTQNSD
    waited = 0.0
    while waited < limit and not transport.is_closing():
        pending = transport.get_write_buffer_size()
        if pending == 0 and sock is not None:
            try:
                pending = struct.unpack("i", fcntl.ioctl(sock.fileno(), query, b"\0\0\0\0"))[0]
            except OSError:
                pending = 0
        if pending == 0:
            return
        await asyncio.sleep(0.001)
        waited += 0.001


async def _body_json(request: web.Request, required: bool = True) -> dict:
    data = await request.read()
    if not data.strip():
        if required:
            raise ApiError(400, "Config cannot be empty in order to create a container"
                           if request.path.endswith("/containers/create") else "request body is empty")
        return {}
    try:
        doc = json.loads(data)
    except ValueError as e:
        raise ApiError(400, f"invalid JSON: {e}") from None
    if not isinstance(doc, dict):
        raise ApiError(400, "invalid JSON: expected an object")
    return doc


def _float_param(request: web.Request, name: str) -> float | None:
    value = request.query.get(name)
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError:
        raise ApiError(400, f"invalid value for {name}: {value!r}") from None


def _log_lines_all(c: Any) -> list[tuple[float, str, bytes]]:
    return [(ln.time, ln.stream, ln.data) for ln in c.log_lines]


def _partial_lines(c: Any) -> list[tuple[float, str, bytes]]:
    """What a container wrote after its last newline (shown by ``docker logs`` too)."""
    return [(s.partial_time, s.stream, s.partial) for s in getattr(c, "_sinks", []) if s.partial]


def _unpack(fs: Any, root: str, members: list[tuple[tarfile.TarInfo, bytes]]) -> None:
    """Write a build context tar under ``root`` on the machine (paths that escape it are skipped)."""
    if not fs.exists(root):
        fs.makedirs(root)
    for info, data in members:
        name = posixpath.normpath("/" + info.name.lstrip("./")).lstrip("/")
        if not name or name.startswith(".."):
            continue
        path = f"{root}/{name}"
        parent = posixpath.dirname(path)
        if not fs.exists(parent):
            fs.makedirs(parent)
        if info.isdir():
            if not fs.exists(path):
                fs.makedirs(path, mode=info.mode & 0o7777 or 0o755)
        elif info.issym():
            if not fs.lexists(path):
                fs.symlink(info.linkname, path)
        elif info.isfile():
            fs.write(path, data, mode=info.mode & 0o7777 or 0o644)


def _create_kwargs(doc: dict) -> dict:
    """``POST /containers/create`` JSON -> :meth:`ContainerCollection.create` keyword arguments."""
    host = doc.get("HostConfig") or {}
    image = doc.get("Image") or ""
    if not image:
        raise ApiError(400, "no image given: set \"Image\" in the container config")
    kwargs: dict[str, Any] = {"image": image}
    if doc.get("Cmd") is not None:
        kwargs["command"] = doc["Cmd"]
    if doc.get("Entrypoint") is not None:
        ep = doc["Entrypoint"]
        kwargs["entrypoint"] = [] if ep in ([""], "") else ep
    for key, arg in (("Env", "environment"), ("WorkingDir", "working_dir"), ("User", "user"),
                     ("Hostname", "hostname"), ("Labels", "labels"), ("StopSignal", "stop_signal"),
                     ("StopTimeout", "stop_timeout")):
        if doc.get(key):
            kwargs[arg] = doc[key]
    kwargs["tty"] = bool(doc.get("Tty"))
    kwargs["stdin_open"] = bool(doc.get("OpenStdin"))
    kwargs["detach"] = not (doc.get("AttachStdout") or doc.get("AttachStderr"))
    bindings = host.get("PortBindings") or {}
    if bindings:
        ports: dict[str, list] = {}
        for key, values in bindings.items():
            for b in values or [{}]:
                hp = (b or {}).get("HostPort") or None
                ports.setdefault(key, []).append(((b or {}).get("HostIp") or "", int(hp) if hp else None))
        kwargs["ports"] = ports
    binds = list(host.get("Binds") or [])
    for m in host.get("Mounts") or []:
        kind = (m.get("Type") or "volume").lower()
        if kind not in ("volume", "bind"):
            raise ApiError(400, f"mount type {kind!r} is not supported here: use volume or bind")
        spec = f"{m.get('Source') or ''}:{m.get('Target')}" if m.get("Source") else str(m.get("Target"))
        binds.append(spec + (":ro" if m.get("ReadOnly") else ""))
    if binds:
        kwargs["volumes"] = binds
    if host.get("RestartPolicy"):
        kwargs["restart_policy"] = host["RestartPolicy"]
    if host.get("AutoRemove"):
        kwargs["auto_remove"] = True
    if host.get("Memory"):
        kwargs["mem_limit"] = host["Memory"]
    if host.get("NanoCpus"):
        kwargs["nano_cpus"] = host["NanoCpus"]
    if host.get("NetworkMode"):
        kwargs["network_mode"] = host["NetworkMode"]
    for key, arg in (("Init", "init"), ("ReadonlyRootfs", "read_only"), ("PublishAllPorts", "publish_all_ports")):
        if host.get(key):
            kwargs[arg] = True
    endpoints = (doc.get("NetworkingConfig") or {}).get("EndpointsConfig") or {}
    for net, conf in endpoints.items():
        if host.get("NetworkMode") in (None, "", "default", "bridge") and net not in ("bridge",):
            kwargs["network_mode"] = net
        if (conf or {}).get("Aliases"):
            kwargs["network_aliases"] = list(conf["Aliases"])
    return kwargs


# -- the aiohttp application ----------------------------------------------------------------------------------
def make_app(api: EngineAPI) -> web.Application:
    """The aiohttp application: every route with and without a ``/v1.xx`` prefix."""
    newest = _version_tuple(API_VERSION)
    oldest = _version_tuple(MIN_API_VERSION)

    @web.middleware
    async def errors(request: web.Request, handler: Callable) -> web.StreamResponse:
        version = request.match_info.get("version")
        if version:
            v = _version_tuple(version)
            if v > newest:
                return _message(400, f"client version {version} is too new. Maximum supported API version is "
                                     f"{API_VERSION}")
            if v < oldest:
                return _message(400, f"client version {version} is too old. Minimum supported API version is "
                                     f"{MIN_API_VERSION}, please upgrade your client to a newer version")
        try:
            return await handler(request)
        except ApiError as e:
            return _message(e.status, e.message)
        except AivleError as e:
            return _message(status_of(e), e.message)
        except web.HTTPNotFound:
            return _message(404, "page not found")
        except web.HTTPMethodNotAllowed:
            return _message(404, "page not found")

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        for k, v in api.common_headers().items():
            response.headers[k] = v
        pad_to = getattr(response, "pad_headers_to", None)
        if pad_to:
            _pad_headers(request, response, pad_to)

    async def on_shutdown(app: web.Application) -> None:
        api.closing = True

    app = web.Application(middlewares=[errors], client_max_size=4 * 1024 ** 3)
    app.on_response_prepare.append(on_prepare)
    app.on_shutdown.append(on_shutdown)
    r = app.router

    def add(method: str, path: str, handler: Callable) -> None:
        for prefix in ("/v{version:[0-9]+\\.[0-9]+}", ""):
            if method == "GET":
                r.add_get(prefix + path, handler)
            else:
                r.add_route(method, prefix + path, handler)

    add("GET", "/_ping", api.ping)
    add("GET", "/version", api.version)
    add("GET", "/info", api.info)
    add("GET", "/system/df", api.system_df)
    add("POST", "/auth", api.auth)
    add("GET", "/images/json", api.images_list)
    add("POST", "/images/create", api.image_create)
    add("POST", "/images/load", api.images_load)
    add("POST", "/images/prune", api.images_prune)
    add("POST", "/build", api.build)
    add("GET", "/images/{name:.+}/json", api.image_inspect)
    add("GET", "/images/{name:.+}/history", api.image_history)
    add("GET", "/images/{name:.+}/get", api.image_get)
    add("POST", "/images/{name:.+}/tag", api.image_tag)
    add("POST", "/images/{name:.+}/push", api.image_push)
    add("DELETE", "/images/{name:.+}", api.image_delete)
    add("GET", "/containers/json", api.containers_list)
    add("POST", "/containers/create", api.container_create)
    add("POST", "/containers/prune", api.containers_prune)
    add("GET", "/containers/{id}/json", api.container_inspect)
    add("GET", "/containers/{id}/logs", api.container_logs)
    add("GET", "/containers/{id}/top", api.container_top)
    add("GET", "/containers/{id}/changes", api.container_changes)
    add("POST", "/containers/{id}/start", api.container_start)
    add("POST", "/containers/{id}/stop", api.container_stop)
    add("POST", "/containers/{id}/restart", api.container_restart)
    add("POST", "/containers/{id}/kill", api.container_kill)
    add("POST", "/containers/{id}/pause", api.container_pause)
    add("POST", "/containers/{id}/unpause", api.container_unpause)
    add("POST", "/containers/{id}/rename", api.container_rename)
    add("POST", "/containers/{id}/wait", api.container_wait)
    add("POST", "/containers/{id}/exec", api.exec_create)
    add("DELETE", "/containers/{id}", api.container_delete)
    add("POST", "/exec/{id}/start", api.exec_start)
    add("POST", "/exec/{id}/resize", api.exec_resize)
    add("GET", "/exec/{id}/json", api.exec_inspect)
    add("GET", "/volumes", api.volumes_list)
    add("POST", "/volumes/create", api.volume_create)
    add("POST", "/volumes/prune", api.volumes_prune)
    add("GET", "/volumes/{name}", api.volume_inspect)
    add("DELETE", "/volumes/{name}", api.volume_delete)
    add("GET", "/networks", api.networks_list)
    add("POST", "/networks/create", api.network_create)
    add("POST", "/networks/prune", api.networks_prune)
    add("GET", "/networks/{id}", api.network_inspect)
    add("DELETE", "/networks/{id}", api.network_delete)
    return app


def _pad_headers(request: web.Request, response: web.StreamResponse, size: int) -> None:
    """Grow the header block (as aiohttp writes it) to a multiple of ``size`` bytes."""
    name = "X-Aivle-Padding"
    version = request.version
    status_line = f"HTTP/{version[0]}.{version[1]} {response.status} {response.reason}"
    total = len(status_line) + 2 + sum(len(k) + len(v) + 4 for k, v in response.headers.items()) + 2
    total += len(name) + 4  # the padding header itself, empty
    need = (-total) % size
    response.headers[name] = "." * need


class ServedEngine:
    """An engine answering the Docker Engine API.

    Attributes:
        engine: the simulated :class:`Engine` served.
        docker_host: what ``DOCKER_HOST`` / ``docker.DockerClient(base_url=...)`` take:
            ``tcp://127.0.0.1:PORT`` or ``unix:///path/to.sock``.
    """

    def __init__(self, engine: Any, served: Served, api: EngineAPI):
        self.engine = engine
        self.served = served
        self.api = api

    def __repr__(self) -> str:
        state = "serving" if self.running else "stopped"
        return f"<ServedEngine {self.engine.name} on {self.engine.machine.name} at {self.docker_host} {state}>"

    @property
    def docker_host(self) -> str:
        if self.served.socket_path:
            return f"unix://{self.served.socket_path}"
        return f"tcp://127.0.0.1:{self.served.port}"

    @property
    def url(self) -> str | None:
        return self.served.url

    @property
    def socket_path(self) -> str | None:
        return self.served.socket_path

    @property
    def running(self) -> bool:
        return self.served.running

    def client(self, **kwargs: Any) -> Any:
        """A ``docker.DockerClient`` talking to this engine (needs the ``docker`` package)."""
        import docker

        return docker.DockerClient(base_url=self.docker_host, **kwargs)

    def stop(self) -> None:
        """Stop listening (idempotent); the engine and its containers are untouched."""
        self.served.stop()

    def __enter__(self) -> "ServedEngine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve_engine(engine: Any, port: int = 0, unix_socket: str | None = None, *, host: str = "127.0.0.1",
                 wait_limit: float = WAIT_LIMIT) -> ServedEngine:
    """Serve ``engine`` on ``host:port`` or on ``unix_socket``; see :meth:`Engine.serve`."""
    api = EngineAPI(engine, wait_limit=wait_limit)
    if unix_socket is not None:
        unix_socket = os.path.abspath(unix_socket)
    served = serve_app(make_app(api), host=host, port=port, unix_socket=unix_socket,
                       name=f"dockerd {engine.machine.name}")
    return ServedEngine(engine, served, api)
