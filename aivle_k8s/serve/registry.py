"""The OCI Distribution API face of a :class:`~aivle_k8s.registry.registry.Registry`.

``registry.serve()`` puts a simulated registry on a loopback port, so the real tools of the
trade talk to it: ``skopeo copy oci:DIR:1 docker://127.0.0.1:PORT/team/app:1``, the ``oras``
client, ``crane``, ``curl``. What they push is stored in the very :class:`Registry` the simulated
world uses (a simulated ``docker pull registry.local:5000/team/app:1`` then finds it), and what
the world pushed is what they pull.

Routes (``<name>`` is a repository path such as ``team/app``)::

    GET    /v2/                                        200 {} (Docker-Distribution-API-Version)
    GET    /v2/_catalog?n=&last=                       repositories (paginated, Link: rel="next")
    GET    /v2/<name>/tags/list?n=&last=               tags (paginated)
    HEAD   /v2/<name>/blobs/<digest>                   Content-Length, Docker-Content-Digest
    GET    /v2/<name>/blobs/<digest>                   the blob
    POST   /v2/<name>/blobs/uploads/                   202 + Location (an upload session)
    POST   /v2/<name>/blobs/uploads/?digest=<d>        monolithic upload (201)
    POST   /v2/<name>/blobs/uploads/?mount=<d>&from=<repo>   cross-repository mount (201)
    GET    /v2/<name>/blobs/uploads/<uuid>             204 + Range (upload progress)
    PATCH  /v2/<name>/blobs/uploads/<uuid>             append a chunk (Content-Range optional)
    PUT    /v2/<name>/blobs/uploads/<uuid>?digest=<d>  finish: the digest is checked (201)
    DELETE /v2/<name>/blobs/uploads/<uuid>             cancel the upload (204)
    GET    /v2/<name>/manifests/<tag|digest>           the manifest; Content-Type = its media type
    HEAD   /v2/<name>/manifests/<tag|digest>           Docker-Content-Digest, Content-Length
    PUT    /v2/<name>/manifests/<tag|digest>           201 + Docker-Content-Digest (+ OCI-Subject)
    DELETE /v2/<name>/manifests/<tag|digest>           202
    GET    /v2/<name>/referrers/<digest>?artifactType= an OCI index of the manifests whose subject it is

Errors are the spec's: ``{"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown",
"detail": ...}]}`` with the status code the distribution registry uses (``BLOB_UNKNOWN`` 404,
``DIGEST_INVALID`` 400, ``MANIFEST_INVALID`` 400, ``BLOB_UPLOAD_UNKNOWN`` 404, ``NAME_UNKNOWN`` 404,
``UNAUTHORIZED`` 401 with a ``WWW-Authenticate: Basic`` challenge, ``DENIED`` 403 ...). A rejected
request stores nothing.

Accounts work as in the simulation: a registry made with ``users`` checks HTTP Basic
credentials (``skopeo --dest-creds alice:s3cret``, ``oras login``) with the same rules as
``docker login`` / ``docker push``.

Every request runs under the world's lock (see :mod:`.runner`). Upload sessions live in the
server, not in the registry: a finished upload is one :meth:`Registry.put_blob`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import threading
import types
import uuid
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlencode

from aiohttp import web
from multidict import CIMultiDict

from ..images.image import DOCKER_MANIFEST_MEDIA_TYPE, INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE
from ..registry.registry import DOCKER_LIST_MEDIA_TYPE
from ..sim.errors import AivleError, RegistryError, Unauthorized
from .runner import Served, in_world, serve_app

__all__ = ["RegistryAPI", "ServedRegistry", "serve_registry", "make_app", "ERRORS"]

API_VERSION = "registry/2.0"
_JSON = "application/json; charset=utf-8"

#: code -> (HTTP status, the registry's message) as the distribution registry answers them.
ERRORS: dict[str, tuple[int, str]] = {
    "BLOB_UNKNOWN": (404, "blob unknown to registry"),
    "BLOB_UPLOAD_INVALID": (400, "blob upload invalid"),
    "BLOB_UPLOAD_UNKNOWN": (404, "blob upload unknown to registry"),
    "DIGEST_INVALID": (400, "provided digest did not match uploaded content"),
    "MANIFEST_BLOB_UNKNOWN": (400, "blob unknown to registry"),
    "MANIFEST_INVALID": (400, "manifest invalid"),
    "MANIFEST_UNKNOWN": (404, "manifest unknown"),
    "NAME_INVALID": (400, "invalid repository name"),
    "NAME_UNKNOWN": (404, "repository name not known to registry"),
    "SIZE_INVALID": (400, "provided length did not match content length"),
    "TAG_INVALID": (400, "manifest tag did not match URI"),
    "UNAUTHORIZED": (401, "authentication required"),
    "DENIED": (403, "requested access to the resource is denied"),
    "UNSUPPORTED": (405, "The operation is unsupported."),
    "PAGINATION_NUMBER_INVALID": (400, "invalid number of results requested"),
    "RANGE_INVALID": (416, "invalid content range"),
    "UNKNOWN": (500, "unknown error"),
}

_MANIFEST_TYPES = (MANIFEST_MEDIA_TYPE, DOCKER_MANIFEST_MEDIA_TYPE)
_INDEX_TYPES = (INDEX_MEDIA_TYPE, DOCKER_LIST_MEDIA_TYPE)
_KNOWN_TYPES = _MANIFEST_TYPES + _INDEX_TYPES
_EMPTY_CONFIG_TYPE = "application/vnd.oci.empty.v1+json"

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_DIGEST_SHAPE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
_SHA256 = re.compile(r"sha256:[a-f0-9]{64}")
_ROUTES = [
    ("uploads", re.compile(r"^(?P<name>.+)/blobs/uploads/?$")),
    ("upload", re.compile(r"^(?P<name>.+)/blobs/uploads/(?P<uuid>[^/]+)$")),
    ("blob", re.compile(r"^(?P<name>.+)/blobs/(?P<ref>[^/]+)$")),
    ("manifest", re.compile(r"^(?P<name>.+)/manifests/(?P<ref>[^/]+)$")),
    ("tags", re.compile(r"^(?P<name>.+)/tags/list$")),
    ("referrers", re.compile(r"^(?P<name>.+)/referrers/(?P<ref>[^/]+)$")),
]
_METHODS = {
    "uploads": ("POST",),
    "upload": ("GET", "HEAD", "PATCH", "PUT", "DELETE"),
    "blob": ("GET", "HEAD", "DELETE"),
    "manifest": ("GET", "HEAD", "PUT", "DELETE"),
    "tags": ("GET", "HEAD"),
    "referrers": ("GET", "HEAD"),
}


class _Fail(Exception):
    """An error answer: a spec code with its detail (and extra headers)."""

    def __init__(self, code: str, detail: Any = None, *, message: str | None = None, headers: dict | None = None):
        super().__init__(code)
        self.code = code
        self.detail = detail
        self.message = message
        self.headers = headers or {}


@dataclass
class _Request:
    """What the handler needs of an HTTP request (read on the server's loop, used under the world's lock)."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: CIMultiDict
    body: bytes
    base: str  # scheme://host:port, for Location headers


@dataclass
class _Upload:
    repo: str
    data: bytearray = field(default_factory=bytearray)


def error_body(code: str, detail: Any = None, message: str | None = None) -> bytes:
    """The JSON error document: ``{"errors": [{"code", "message", "detail"}]}``."""
    text = message or ERRORS.get(code, ERRORS["UNKNOWN"])[1]
    return (json.dumps({"errors": [{"code": code, "message": text, "detail": detail}]},
                       separators=(",", ":")) + "\n").encode()


def _check_digest(text: str) -> str:
    """A digest the registry can verify (``sha256:`` + 64 lowercase hex), else DIGEST_INVALID."""
    if _SHA256.fullmatch(text or ""):
        return text
    if text and _DIGEST_SHAPE.fullmatch(text):
        algorithm = text.split(":", 1)[0]
        if algorithm != "sha256":
            raise _Fail("DIGEST_INVALID", f"unsupported digest algorithm {algorithm!r}: use sha256")
    raise _Fail("DIGEST_INVALID", f"invalid digest {text!r}: expected sha256:<64 lowercase hex digits>")


def _accepted(headers: CIMultiDict) -> list[str]:
    """The media types an ``Accept`` header (possibly repeated, with q-values) lists."""
    out: list[str] = []
    for value in headers.getall("Accept", []):
        for part in value.split(","):
            media = part.split(";", 1)[0].strip().lower()
            if media:
                out.append(media)
    return out


def _json_response(status: int, doc: Any, headers: dict | None = None, content_type: str = _JSON) -> web.Response:
    body = json.dumps(doc, separators=(",", ":")).encode()
    return web.Response(status=status, body=body,
                        headers={"Content-Type": content_type, "Docker-Distribution-API-Version": API_VERSION,
                                 **(headers or {})})


class RegistryAPI:
    """The distribution API over one :class:`Registry` (synchronous: call :meth:`handle` under the world's lock)."""

    def __init__(self, registry: Any):
        self.registry = registry
        self.uploads: dict[str, _Upload] = {}
        self._upload_seq = 0
        self._basic: dict[tuple[str, str], str] = {}  # (user, password) -> the registry's token

    # -- plumbing ------------------------------------------------------------------------------
    def _challenge(self) -> dict:
        return {"WWW-Authenticate": f'Basic realm="{self.registry.host}"'}

    def _token(self, req: _Request) -> str | None:
        auth = req.headers.get("Authorization")
        if not auth:
            return None
        kind, _, value = auth.partition(" ")
        reg = self.registry
        if kind.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
            except (binascii.Error, ValueError, UnicodeDecodeError):
                raise _Fail("UNAUTHORIZED", "malformed Basic credentials", headers=self._challenge()) from None
            if not user and not password:
                return None  # a client without credentials answering a Basic challenge: anonymous
            if reg.users is not None and reg.users.get(user) != password:
                raise _Fail("UNAUTHORIZED", "incorrect username or password", headers=self._challenge())
            token = self._basic.get((user, password))
            if token is None:
                token = self._basic[(user, password)] = reg.login(user, password)
            return token
        if kind.lower() == "bearer":
            return value.strip()
        return None

    def _authorize(self, token: str | None, name: str, action: str) -> None:
        try:
            self.registry.authorize(token, name, action)
        except Unauthorized as e:
            code = getattr(e, "code", "UNAUTHORIZED")
            if code == "DENIED":
                raise _Fail("DENIED", {"name": name, "action": action}) from None
            raise _Fail("UNAUTHORIZED", [{"Type": "repository", "Name": name, "Action": action}],
                        headers=self._challenge()) from None

    def _new_upload_id(self) -> str:
        """Deterministic upload ids (no randomness: the same requests give the same ids)."""
        self._upload_seq += 1
        raw = hashlib.sha256(f"{self.registry.host}\0upload\0{self._upload_seq}".encode()).digest()
        return str(uuid.UUID(bytes=raw[:16], version=4))

    def _upload_headers(self, req: _Request, name: str, upload_id: str, size: int) -> dict:
        return {"Location": f"{req.base}/v2/{name}/blobs/uploads/{upload_id}",
                "Docker-Upload-UUID": upload_id, "Range": f"0-{max(size - 1, 0)}",
                "Docker-Distribution-API-Version": API_VERSION}

    def _blob_created(self, req: _Request, name: str, digest: str) -> web.Response:
        return web.Response(status=201, headers={"Location": f"{req.base}/v2/{name}/blobs/{digest}",
                                                 "Docker-Content-Digest": digest, "Content-Length": "0",
                                                 "Docker-Distribution-API-Version": API_VERSION})

    # -- entry point ---------------------------------------------------------------------------
    def handle(self, req: _Request) -> web.Response:
        """Answer one request (the caller holds the world's lock)."""
        try:
            return self._dispatch(req)
        except _Fail as f:
            status = ERRORS.get(f.code, ERRORS["UNKNOWN"])[0]
            body = error_body(f.code, f.detail, f.message)
            return web.Response(status=status, body=body,
                                headers={"Content-Type": _JSON, "Docker-Distribution-API-Version": API_VERSION,
                                         **f.headers})
        except RegistryError as e:
            code = getattr(e, "code", "UNKNOWN")
            code = code if code in ERRORS else "UNKNOWN"
            status = ERRORS[code][0]
            return web.Response(status=status, body=error_body(code, e.message),
                                headers={"Content-Type": _JSON, "Docker-Distribution-API-Version": API_VERSION})
        except AivleError as e:
            return web.Response(status=500, body=error_body("UNKNOWN", e.message),
                                headers={"Content-Type": _JSON, "Docker-Distribution-API-Version": API_VERSION})

    def _dispatch(self, req: _Request) -> web.Response:
        path = req.path
        if not path.startswith("/v2"):
            return web.Response(status=404, text="404 page not found\n")
        rest = path[3:]
        token = self._token(req)
        reg = self.registry
        if rest in ("", "/"):
            if req.method not in ("GET", "HEAD"):
                raise _Fail("UNSUPPORTED")
            if reg.users is not None and token is None:  # accounts configured: say so, clients then log in
                raise _Fail("UNAUTHORIZED", headers=self._challenge())
            return _json_response(200, {})
        rest = rest[1:]
        if rest == "_catalog":
            if req.method not in ("GET", "HEAD"):
                raise _Fail("UNSUPPORTED")
            if reg.users is not None and not reg.anonymous_pull and token is None:
                raise _Fail("UNAUTHORIZED", headers=self._challenge())
            return self._paginated(req, "/v2/_catalog", "repositories", reg.catalog(), {})
        for kind, pattern in _ROUTES:
            m = pattern.match(rest)
            if not m:
                continue
            name = m.group("name")
            if not _NAME.fullmatch(name) or len(name) > 255:
                raise _Fail("NAME_INVALID", {"name": name})
            if req.method not in _METHODS[kind]:
                raise _Fail("UNSUPPORTED", {"method": req.method})
            return getattr(self, f"_{kind}")(req, token, name, m.groupdict())
        return web.Response(status=404, text="404 page not found\n")

    # -- tags and catalog ----------------------------------------------------------------------
    def _paginated(self, req: _Request, path: str, key: str, items: list[str], extra: dict) -> web.Response:
        n_text = req.query.get("n")
        last = req.query.get("last")
        if last:
            items = [i for i in items if i > last]
        headers = {}
        if n_text is not None and n_text != "":
            try:
                n = int(n_text)
            except ValueError:
                raise _Fail("PAGINATION_NUMBER_INVALID", {"n": n_text}) from None
            if n < 0:
                raise _Fail("PAGINATION_NUMBER_INVALID", {"n": n_text})
            if len(items) > n:
                items = items[:n]
                if items:
                    headers["Link"] = f'<{path}?{urlencode({"n": n, "last": items[-1]})}>; rel="next"'
        return _json_response(200, {**extra, key: items}, headers)

    def _tags(self, req: _Request, token: str | None, name: str, _: dict) -> web.Response:
        self._authorize(token, name, "pull")
        tags = self.registry.tags(name)  # NAME_UNKNOWN
        return self._paginated(req, f"/v2/{name}/tags/list", "tags", tags, {"name": name})

    # -- blobs -----------------------------------------------------------------------------------
    def _blob(self, req: _Request, token: str | None, name: str, groups: dict) -> web.Response:
        digest = _check_digest(groups["ref"])
        if req.method == "DELETE":
            self._authorize(token, name, "push")
            raise _Fail("UNSUPPORTED", "blob deletion is not supported; delete manifests instead")
        self._authorize(token, name, "pull")
        reg = self.registry
        if not reg.check_blob(name, digest):
            raise _Fail("BLOB_UNKNOWN", {"digest": digest})
        headers = {"Docker-Content-Digest": digest, "Content-Type": "application/octet-stream",
                   "Docker-Distribution-API-Version": API_VERSION}
        if req.method == "HEAD":
            return web.Response(status=200, headers={**headers, "Content-Length": str(reg.blob_size(name, digest))})
        return web.Response(status=200, body=reg.get_blob(name, digest), headers=headers)

    def _uploads(self, req: _Request, token: str | None, name: str, _: dict) -> web.Response:
        self._authorize(token, name, "push")
        reg = self.registry
        mount, source = req.query.get("mount"), req.query.get("from")
        if mount:
            digest = _check_digest(mount)
            if source and _NAME.fullmatch(source):
                try:
                    reg.authorize(token, source, "pull")
                    if reg.mount_blob(source, name, digest):
                        return self._blob_created(req, name, digest)
                except Unauthorized:
                    pass  # not allowed to read it there: the client uploads instead (like distribution)
        elif req.query.get("digest") is not None:
            digest = _check_digest(req.query["digest"])
            self._put_blob(name, digest, req.body)
            return self._blob_created(req, name, digest)
        upload_id = self._new_upload_id()
        self.uploads[upload_id] = _Upload(name)
        return web.Response(status=202, headers={**self._upload_headers(req, name, upload_id, 0),
                                                 "Content-Length": "0"})

    def _put_blob(self, name: str, digest: str, data: bytes) -> None:
        actual = "sha256:" + hashlib.sha256(data).hexdigest()
        if actual != digest:
            raise _Fail("DIGEST_INVALID", f"declared {digest}, content is {actual}")
        self.registry.put_blob(name, digest, bytes(data))

    def _upload(self, req: _Request, token: str | None, name: str, groups: dict) -> web.Response:
        self._authorize(token, name, "push")
        upload_id = groups["uuid"]
        upload = self.uploads.get(upload_id)
        if upload is None or upload.repo != name:
            raise _Fail("BLOB_UPLOAD_UNKNOWN", {"uuid": upload_id})
        if req.method in ("GET", "HEAD"):
            return web.Response(status=204, headers=self._upload_headers(req, name, upload_id, len(upload.data)))
        if req.method == "DELETE":
            del self.uploads[upload_id]
            return web.Response(status=204, headers={"Docker-Distribution-API-Version": API_VERSION})
        if req.method == "PATCH":
            self._check_range(req, upload)
            upload.data += req.body
            return web.Response(status=202, headers={**self._upload_headers(req, name, upload_id, len(upload.data)),
                                                     "Content-Length": "0"})
        # PUT: the last chunk (maybe empty), then the digest check
        digest_text = req.query.get("digest")
        if not digest_text:
            raise _Fail("DIGEST_INVALID", "digest missing: finish an upload with PUT ...?digest=<digest>")
        digest = _check_digest(digest_text)
        if req.body and req.headers.get("Content-Range"):
            self._check_range(req, upload)
        data = bytes(upload.data) + req.body
        try:
            self._put_blob(name, digest, data)
        finally:
            self.uploads.pop(upload_id, None)  # committed or cancelled, like the distribution registry
        return self._blob_created(req, name, digest)

    @staticmethod
    def _check_range(req: _Request, upload: _Upload) -> None:
        text = req.headers.get("Content-Range")
        if not text:
            return  # a streamed chunk: appended where the upload stands
        m = re.fullmatch(r"\s*(?:bytes[= ])?(\d+)-(\d+)(?:/\S+)?\s*", text)
        if not m:
            raise _Fail("RANGE_INVALID", f"bad Content-Range {text!r}: expected <start>-<end>")
        start, end = int(m.group(1)), int(m.group(2))
        size = len(upload.data)
        if start != size or end < start or end - start + 1 != len(req.body):
            raise _Fail("RANGE_INVALID", f"Content-Range {start}-{end} does not continue the upload at byte {size} "
                                         f"with {len(req.body)} bytes",
                        headers={"Range": f"0-{max(size - 1, 0)}"})

    # -- manifests -----------------------------------------------------------------------------
    def _reference(self, ref: str) -> str:
        if ":" in ref:
            return _check_digest(ref)
        if not _TAG.fullmatch(ref):
            raise _Fail("TAG_INVALID", f"invalid tag {ref!r}: use [A-Za-z0-9_][A-Za-z0-9._-]{{0,127}}")
        return ref

    def _manifest(self, req: _Request, token: str | None, name: str, groups: dict) -> web.Response:
        ref = self._reference(groups["ref"])
        reg = self.registry
        if req.method == "PUT":
            return self._put_manifest(req, token, name, ref)
        if req.method == "DELETE":
            self._authorize(token, name, "push")
            reg.delete_manifest(name, ref)  # NAME_UNKNOWN / MANIFEST_UNKNOWN
            return web.Response(status=202, headers={"Docker-Distribution-API-Version": API_VERSION,
                                                     "Content-Length": "0"})
        self._authorize(token, name, "pull")
        sent = reg.bytes_sent
        data, media_type, digest = reg.get_manifest(name, ref)
        data, media_type, digest = self._negotiate(req, name, data, media_type, digest)
        headers = {"Content-Type": media_type, "Docker-Content-Digest": digest,
                   "Docker-Distribution-API-Version": API_VERSION, "Etag": f'"{digest}"'}
        if req.method == "HEAD":
            reg.bytes_sent = sent  # nothing travelled
            return web.Response(status=200, headers={**headers, "Content-Length": str(len(data))})
        return web.Response(status=200, body=data, headers=headers)

    def _negotiate(self, req: _Request, name: str, data: bytes, media_type: str,
                   digest: str) -> tuple[bytes, str, str]:
        """Serve the stored manifest if the client accepts its type (no Accept, or */*, accepts all)."""
        accepted = _accepted(req.headers)
        if not accepted or "*/*" in accepted or media_type in accepted:
            return data, media_type, digest
        if media_type == DOCKER_LIST_MEDIA_TYPE:  # an old client: the default platform's manifest instead
            for m in json.loads(data).get("manifests") or []:
                p = m.get("platform") or {}
                if (p.get("os"), p.get("architecture")) == ("linux", "amd64"):
                    return self.registry.get_manifest(name, m["digest"])
        if media_type == MANIFEST_MEDIA_TYPE:
            raise _Fail("MANIFEST_UNKNOWN", {"reference": digest},
                        message="OCI manifest found, but accept header does not support OCI manifests")
        if media_type == INDEX_MEDIA_TYPE:
            raise _Fail("MANIFEST_UNKNOWN", {"reference": digest},
                        message="OCI index found, but accept header does not support OCI indexes")
        return data, media_type, digest  # Docker schema 2: served whatever was asked (as distribution does)

    def _put_manifest(self, req: _Request, token: str | None, name: str, ref: str) -> web.Response:
        self._authorize(token, name, "push")
        media_type, doc = self._validate_manifest(req)
        digest = self.registry.put_manifest(name, ref, req.body, media_type)
        headers = {"Location": f"{req.base}/v2/{name}/manifests/{digest}", "Docker-Content-Digest": digest,
                   "Content-Length": "0", "Docker-Distribution-API-Version": API_VERSION}
        subject = doc.get("subject")
        if isinstance(subject, dict) and subject.get("digest"):
            headers["OCI-Subject"] = subject["digest"]
        return web.Response(status=201, headers=headers)

    @staticmethod
    def _validate_manifest(req: _Request) -> tuple[str, dict]:
        """The manifest's media type and document, or MANIFEST_INVALID (nothing is stored)."""
        try:
            doc = json.loads(req.body)
        except (ValueError, UnicodeDecodeError) as e:
            raise _Fail("MANIFEST_INVALID", f"not JSON: {e}") from None
        if not isinstance(doc, dict):
            raise _Fail("MANIFEST_INVALID", "expected a JSON object")
        if doc.get("schemaVersion") != 2:
            raise _Fail("MANIFEST_INVALID", f"unsupported schemaVersion {doc.get('schemaVersion')!r}: expected 2")
        content_type = (req.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        declared = doc.get("mediaType")
        if content_type in _KNOWN_TYPES:
            if declared and declared != content_type:
                raise _Fail("MANIFEST_INVALID", f"mediaType {declared!r} in the manifest does not match the "
                                                f"Content-Type {content_type!r}")
            media_type = content_type
        elif declared in _KNOWN_TYPES:
            media_type = declared
        elif "manifests" in doc:
            media_type = INDEX_MEDIA_TYPE
        elif "config" in doc:
            media_type = MANIFEST_MEDIA_TYPE
        else:
            raise _Fail("MANIFEST_INVALID", f"unknown manifest media type {content_type or declared!r}")

        def descriptor(d: Any, where: str) -> None:
            if not isinstance(d, dict) or not isinstance(d.get("digest"), str) or not _SHA256.fullmatch(d["digest"]):
                raise _Fail("MANIFEST_INVALID", f"{where}: a descriptor needs a sha256 digest")
            if not isinstance(d.get("size", 0), int) or not isinstance(d.get("mediaType", ""), str):
                raise _Fail("MANIFEST_INVALID", f"{where}: size must be an integer and mediaType a string")

        if media_type in _INDEX_TYPES:
            if not isinstance(doc.get("manifests"), list):
                raise _Fail("MANIFEST_INVALID", "an index needs a \"manifests\" list")
            for i, m in enumerate(doc["manifests"]):
                descriptor(m, f"manifests[{i}]")
        else:
            descriptor(doc.get("config"), "config")
            layers = doc.get("layers", [])
            if not isinstance(layers, list):
                raise _Fail("MANIFEST_INVALID", "\"layers\" must be a list")
            for i, layer in enumerate(layers):
                descriptor(layer, f"layers[{i}]")
        if "subject" in doc:
            descriptor(doc["subject"], "subject")
        return media_type, doc

    # -- referrers -----------------------------------------------------------------------------
    def _referrers(self, req: _Request, token: str | None, name: str, groups: dict) -> web.Response:
        digest = _check_digest(groups["ref"])
        self._authorize(token, name, "pull")
        reg = self.registry
        if not reg.has_repository(name):
            raise _Fail("NAME_UNKNOWN", {"name": name})
        wanted = req.query.get("artifactType")
        found = []
        for d, data, media_type in _repository_manifests(reg, name):
            try:
                doc = json.loads(data)
            except ValueError:
                continue
            if (doc.get("subject") or {}).get("digest") != digest:
                continue
            artifact_type = doc.get("artifactType") or (doc.get("config") or {}).get("mediaType")
            if artifact_type == _EMPTY_CONFIG_TYPE and not doc.get("artifactType"):
                artifact_type = None
            if wanted and artifact_type != wanted:
                continue
            desc: dict[str, Any] = {"mediaType": media_type, "digest": d, "size": len(data)}
            if artifact_type:
                desc["artifactType"] = artifact_type
            if doc.get("annotations"):
                desc["annotations"] = doc["annotations"]
            found.append(desc)
        headers = {"OCI-Filters-Applied": "artifactType"} if wanted else {}
        return _json_response(200, {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": found},
                              headers, content_type=INDEX_MEDIA_TYPE)


def _repository_manifests(reg: Any, name: str) -> list[tuple[str, bytes, str]]:
    """``(digest, bytes, media type)`` of every manifest in a repository, sorted by digest.

    Reads the registry's storage directly (no public listing exists yet), without counting bytes.
    """
    repo = reg._repos.get(name)
    if repo is None:
        return []
    return [(d, *reg._manifests[d]) for d in sorted(repo.manifests) if d in reg._manifests]


# -- the aiohttp application -------------------------------------------------------------------------
def make_app(api: RegistryAPI, lock_owner: Any) -> web.Application:
    """An aiohttp application answering every ``/v2`` request with ``api`` under ``lock_owner``'s lock."""

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read() if request.method in ("POST", "PUT", "PATCH") else b""
        req = _Request(request.method, request.path, dict(request.query), request.headers.copy(), body,
                       f"{request.scheme}://{request.host}")
        return await in_world(lock_owner, api.handle, req)

    app = web.Application(client_max_size=4 * 1024 ** 3)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


class ServedRegistry:
    """A registry answering the distribution API on ``127.0.0.1:PORT``.

    Attributes:
        registry: the simulated :class:`Registry` served.
        address: ``127.0.0.1:PORT``, what a client puts in an image name
            (``skopeo copy ... docker://127.0.0.1:PORT/team/app:1``).
        url: ``http://127.0.0.1:PORT``.
    """

    def __init__(self, registry: Any, served: Served, api: RegistryAPI):
        self.registry = registry
        self.served = served
        self.api = api

    def __repr__(self) -> str:
        state = "serving" if self.running else "stopped"
        return f"<ServedRegistry {self.registry.host} at {self.address} {state}>"

    @property
    def url(self) -> str:
        return self.served.url or ""

    @property
    def port(self) -> int | None:
        return self.served.port

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.served.running

    def stop(self) -> None:
        """Stop listening (idempotent); the registry keeps everything pushed."""
        self.served.stop()

    def __enter__(self) -> "ServedRegistry":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve_registry(registry: Any, port: int = 0, *, world: Any = None, host: str = "127.0.0.1") -> ServedRegistry:
    """Serve ``registry`` over HTTP on ``host:port`` (0: a free port); see :meth:`Registry.serve`."""
    owner = world if world is not None else getattr(registry, "world", None)
    if owner is None:  # a registry outside any world: its own lock
        owner = registry.__dict__.setdefault("_serve_lock_owner", types.SimpleNamespace(lock=threading.RLock()))
    api = RegistryAPI(registry)
    served = serve_app(make_app(api, owner), host=host, port=port, name=f"registry {registry.host}")
    return ServedRegistry(registry, served, api)
