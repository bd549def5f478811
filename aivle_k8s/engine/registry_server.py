"""Serving a registry on the simulated network: the ``registry`` program of the ``registry:2`` image.

``docker run -d -p 5000:5000 --name registry registry:2`` starts the
``registry`` program as PID 1; it listens on port 5000 with a
:class:`RegistryEndpoint`. The endpoint answers the OCI distribution HTTP API
for ``curl`` (``/v2/``, ``/v2/_catalog``, ``/v2/<name>/tags/list``,
manifests and blobs), and carries the :class:`~aivle_k8s.registry.registry.Registry`
itself in ``.registry`` so ``docker push localhost:5000/app:1`` finds it
through the published port.

Like the real image, the data lives under ``/var/lib/registry`` (a volume):
a new container using the same volume serves the same repositories.

>>> from aivle_k8s.registry.registry import Registry
>>> from aivle_k8s.linux.http import Request, Response
>>> endpoint = RegistryEndpoint(Registry("localhost:5000"))
>>> Response.parse(endpoint(Request("GET", "/v2/_catalog").to_bytes(), ("127.0.0.1", 1))).text
'{"repositories":[]}\\n'
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from ..linux.http import Request, Response
from ..linux.kernel import register_program
from ..sim.errors import AivleError, NetworkError, RegistryError, Unauthorized

__all__ = ["RegistryEndpoint", "registry_for_storage"]

_JSON = {"Content-Type": "application/json; charset=utf-8", "Docker-Distribution-Api-Version": "registry/2.0"}
_NAME = r"(?P<name>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
_ROUTES = [
    ("catalog", re.compile(r"^/v2/_catalog$")),
    ("tags", re.compile(rf"^/v2/{_NAME}/tags/list$")),
    ("manifest", re.compile(rf"^/v2/{_NAME}/manifests/(?P<ref>[A-Za-z0-9_.:-]+)$")),
    ("blob", re.compile(rf"^/v2/{_NAME}/blobs/(?P<ref>sha256:[a-f0-9]{{64}})$")),
]


def _error(status: int, code: str, message: str, detail: Any = None, headers: dict | None = None) -> bytes:
    body = json.dumps({"errors": [{"code": code, "message": message, "detail": detail}]}, separators=(",", ":"))
    return Response(status, (body + "\n").encode(), {**_JSON, **(headers or {})}).to_bytes()


class RegistryEndpoint:
    """The HTTP face of a registry (``registry:2`` on port 5000, Docker Hub on 443).

    Attributes:
        registry: the Registry served (what the engine pushes to and pulls from).
        tls: whether it speaks HTTPS (Docker Hub, ``serve_registry``) or plain HTTP (``registry:2``:
            dockerd only uses it on ``localhost`` or when listed in ``insecure-registries``).
        access_log: one line per request (the container's stdout when run as a program).
    """

    def __init__(self, registry, *, tls: bool = False, log=None, now=None):
        self.registry = registry
        self.tls = tls
        self._log = log
        self._now = now

    def __repr__(self) -> str:
        return f"<RegistryEndpoint {self.registry.host} {'https' if self.tls else 'http'}>"

    def _token(self, req: Request) -> str | None:
        auth = req.header("Authorization")
        if not auth:
            return None
        kind, _, value = auth.partition(" ")
        if kind.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise Unauthorized("unauthorized: authentication required") from None
            return self.registry.login(user, password)
        if kind.lower() == "bearer":
            return value
        return None

    def __call__(self, data: bytes, peer: tuple) -> bytes:
        try:
            req = Request.parse(data)
        except AivleError:
            return Response(400, b"400 Bad Request\n").to_bytes()
        reply = self._serve(req)
        if self._log is not None:
            status = reply.split(b" ", 2)[1].decode() if reply.startswith(b"HTTP/") else "000"
            self._log(f'{peer[0]} - - "{req.method} {req.path} HTTP/1.1" {status} "{req.header("User-Agent", "")}"\n')
        return reply

    def _serve(self, req: Request) -> bytes:
        reg = self.registry
        path = req.path.split("?", 1)[0]
        challenge = {"WWW-Authenticate": f'Basic realm="{reg.host}"'}
        try:
            token = self._token(req)
        except Unauthorized as e:
            return _error(401, "UNAUTHORIZED", e.message, headers=challenge)
        if req.method not in ("GET", "HEAD"):
            return _error(405, "UNSUPPORTED", "The operation is unsupported.")
        if path in ("/v2", "/v2/"):
            if reg.users is not None and not reg.anonymous_pull and token is None:
                return _error(401, "UNAUTHORIZED", "authentication required", headers=challenge)
            return Response(200, b"{}", dict(_JSON)).to_bytes()
        for kind, pattern in _ROUTES:
            m = pattern.match(path)
            if not m:
                continue
            try:
                if kind == "catalog":
                    if reg.users is not None and token is None and not reg.anonymous_pull:
                        return _error(401, "UNAUTHORIZED", "authentication required", headers=challenge)
                    body = json.dumps({"repositories": reg.catalog()}, separators=(",", ":")) + "\n"
                    return Response(200, body.encode(), dict(_JSON)).to_bytes()
                name = m.group("name")
                reg.authorize(token, name, "pull")
                if kind == "tags":
                    body = json.dumps({"name": name, "tags": reg.tags(name)}, separators=(",", ":")) + "\n"
                    return Response(200, body.encode(), dict(_JSON)).to_bytes()
                if kind == "manifest":
                    content, media_type, digest = reg.get_manifest(name, m.group("ref"))
                    headers = {"Content-Type": media_type, "Docker-Content-Digest": digest,
                               "Docker-Distribution-Api-Version": "registry/2.0"}
                    resp = Response(200, b"" if req.method == "HEAD" else content, headers)
                    if req.method == "HEAD":
                        resp.headers["Content-Length"] = str(len(content))
                    return resp.to_bytes()
                content = reg.get_blob(name, m.group("ref"))
                headers = {"Content-Type": "application/octet-stream", "Docker-Content-Digest": m.group("ref")}
                return Response(200, b"" if req.method == "HEAD" else content, headers).to_bytes()
            except Unauthorized as e:
                code = getattr(e, "code", "UNAUTHORIZED")
                return _error(401 if code == "UNAUTHORIZED" else 403, code, e.message.split(": ", 1)[-1],
                              headers=challenge)
            except RegistryError as e:
                code = getattr(e, "code", "UNKNOWN")
                return _error(404, code, e.message, {"name": m.groupdict().get("name")})
        return Response(404, b"404 page not found\n", {"Content-Type": "text/plain; charset=utf-8"}).to_bytes()


def registry_for_storage(fs, path: str, host: str, users: dict | None = None):
    """The Registry whose data lives at ``path`` of ``fs`` (the same volume gives the same registry)."""
    from ..registry.registry import Registry

    target, inner = fs._route(fs.resolve(path)) if fs.exists(path) else (fs, path)
    registries = target.__dict__.setdefault("_aivle_registries", {})
    reg = registries.get(inner)
    if reg is None:
        reg = registries[inner] = Registry(host, users=users)
    return reg


def _read_htpasswd(fs, path: str) -> dict[str, str] | None:
    """``user:password`` lines (passwords in clear text: the simulation cannot check bcrypt)."""
    try:
        text = fs.read_text(path)
    except AivleError:
        return None
    users = {}
    for line in text.splitlines():
        if ":" in line:
            user, _, password = line.partition(":")
            users[user.strip()] = password.strip()
    return users


@register_program("registry")
def registry_main(proc):
    """``registry serve /etc/docker/registry/config.yml``: the distribution registry (``registry:2``)."""
    args = [a for a in proc.argv[1:]]
    if args and args[0] in ("--version", "-v"):
        proc.write("registry github.com/docker/distribution 2.8.3\n")
        return 0
    if args and args[0] not in ("serve",) and not args[0].endswith((".yml", ".yaml")):
        proc.error(f'Error: unknown command "{args[0]}" for "registry"\nRun \'registry --help\' for usage.\n')
        return 1
    addr = proc.env.get("REGISTRY_HTTP_ADDR", ":5000")
    config_path = next((a for a in args if a.endswith((".yml", ".yaml"))), "/etc/docker/registry/config.yml")
    if proc.fs.is_file(config_path):
        m = re.search(r"^\s*addr:\s*(\S+)", proc.fs.read_text(config_path), re.M)
        if m and "REGISTRY_HTTP_ADDR" not in proc.env:
            addr = m.group(1)
    port = int(addr.rsplit(":", 1)[-1] or 5000)
    storage = proc.env.get("REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY", "/var/lib/registry")
    users = None
    if proc.env.get("REGISTRY_AUTH", "") == "htpasswd":
        users = _read_htpasswd(proc.fs, proc.env.get("REGISTRY_AUTH_HTPASSWD_PATH", "/auth/htpasswd")) or {}
    if not proc.fs.exists(storage):
        proc.fs.makedirs(storage)
    reg = registry_for_storage(proc.fs, storage, f"localhost:{port}", users)
    if users is not None:
        reg.users = dict(users)
        reg.anonymous_pull = False
    world = getattr(proc.kernel.owner, "world", None)

    def stamp() -> str:
        if world is None:
            return ""
        from .containers import rfc3339_nano

        return rfc3339_nano(world, proc.now)

    def log(line: str) -> None:
        proc.write(line)

    endpoint = RegistryEndpoint(reg, tls=False, log=log)
    netns = proc.ns.net
    if netns is None:
        return proc.fail("no network namespace", 1)
    try:
        netns.listen(port, endpoint)
    except NetworkError:
        proc.error(f'time="{stamp()}" level=fatal msg="listen tcp :{port}: bind: address already in use"\n')
        return 1
    proc.cleanups.append(lambda: netns.close(port) if netns.listeners.get(port) is endpoint else None)
    proc.error(f'time="{stamp()}" level=warning msg="No HTTP secret provided - generated random secret. This may '
               f'cause problems with uploads if multiple registries are behind a load-balancer."\n')
    proc.error(f'time="{stamp()}" level=info msg="redis not configured" go.version=go1.20.8\n')
    proc.error(f'time="{stamp()}" level=info msg="listening on [::]:{port}" go.version=go1.20.8\n')
    proc.on_signal("TERM", lambda s: proc.exit(0))
    proc.on_signal("INT", lambda s: proc.exit(0))
    yield proc.forever()
