"""Container registries (Docker Hub and private ``registry:2``) and the client side of push/pull.

A :class:`Registry` stores what the OCI distribution spec stores: **blobs** by
digest (configs and compressed layers), **manifests** by digest, and per
repository a map **tag -> manifest digest**. Its methods mirror the HTTP API
(``HEAD``/``GET``/``PUT`` of blobs and manifests, ``tags/list``,
``_catalog``) and fail with the spec's error codes (``exc.code``):

==================  ==============================  ====================================
method              HTTP                            errors
==================  ==============================  ====================================
check_blob          HEAD /v2/<repo>/blobs/<d>       —
get_blob            GET  /v2/<repo>/blobs/<d>       BLOB_UNKNOWN
put_blob            POST+PUT uploads ?digest=<d>    DIGEST_INVALID
mount_blob          POST uploads ?mount=&from=      —
put_manifest        PUT  /v2/<repo>/manifests/<r>   MANIFEST_BLOB_UNKNOWN, MANIFEST_INVALID
get_manifest        GET  /v2/<repo>/manifests/<r>   NAME_UNKNOWN, MANIFEST_UNKNOWN
tags                GET  /v2/<repo>/tags/list       NAME_UNKNOWN
catalog             GET  /v2/_catalog               —
delete_manifest     DELETE /v2/<repo>/manifests/<r> MANIFEST_UNKNOWN
==================  ==============================  ====================================

Access is checked by :meth:`Registry.authorize` (``login`` gives a token that
names the user). :func:`push_image` and :func:`pull_image` are what ``docker
push`` / ``docker pull`` do with a registry: HEAD every blob first and upload
only the missing ones (or mount them from another repository), then the
manifest; pull only the layers the local store lacks. The reports count the
bytes that really moved, so a lab can show layer sharing.

>>> from aivle_k8s.images.image import Image, ImageConfig
>>> from aivle_k8s.images.store import ImageStore
>>> from aivle_k8s.images.reference import parse_reference
>>> from aivle_k8s.linux.fs import Entry
>>> reg = Registry("localhost:5000")                       # like registry:2: open to everyone
>>> img = Image(ImageConfig(cmd=("sh",))).add_layer({"/a": Entry.file(b"a" * 1000)}, "COPY a /", "2025-03-03T09:00:00Z")
>>> ref = parse_reference("localhost:5000/team/app:1")
>>> first = push_image(reg, None, ref, img)
>>> first.layers, first.bytes_uploaded > 0
([('a909afcf878a', 'Pushed')], True)
>>> push_image(reg, None, ref, img).bytes_uploaded        # everything is there already
0
>>> pulled = pull_image(reg, None, ref, ImageStore())
>>> pulled.image.id == img.id, pulled.digest == first.digest
(True, True)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Callable

from ..images.image import (
    DOCKER_MANIFEST_MEDIA_TYPE,
    INDEX_MEDIA_TYPE,
    MANIFEST_MEDIA_TYPE,
    Image,
)
from ..images.layers import Layer, LayerError, sha256_digest
from ..images.reference import DEFAULT_DOMAIN, Reference, parse_reference
from ..sim.errors import (
    BlobUnknown,
    ImageNotFound,
    InvalidInput,
    ManifestUnknown,
    NameUnknown,
    RegistryError,
    Unauthorized,
)

__all__ = [
    "Registry",
    "Denied",
    "PushReport",
    "PullReport",
    "push_image",
    "pull_image",
    "docker_hub_rule",
    "DOCKER_HUB_BANDWIDTH",
    "LAN_BANDWIDTH",
    "DOCKER_LIST_MEDIA_TYPE",
]

#: Simulated download speed from Docker Hub (bytes per second).
DOCKER_HUB_BANDWIDTH = 50_000_000
#: Simulated speed of a registry on the local network (bytes per second).
LAN_BANDWIDTH = 1_000_000_000
DOCKER_LIST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.list.v2+json"

_MANIFEST_TYPES = (MANIFEST_MEDIA_TYPE, DOCKER_MANIFEST_MEDIA_TYPE)
_INDEX_TYPES = (INDEX_MEDIA_TYPE, DOCKER_LIST_MEDIA_TYPE)


class Denied(Unauthorized):
    """The user is known but may not do this (``DENIED``)."""


def _err(cls: type, code: str, message: str, **context) -> RegistryError:
    return cls(message, code=code, **context)


def docker_hub_rule(user: str | None, repo: str, action: str) -> bool:
    """Docker Hub's namespaces: a user pushes only to ``<username>/...``.

    ``library/...`` (the official images) is therefore only for the user
    ``library``; pulling public repositories is open to everyone.

    >>> docker_hub_rule("alice", "alice/app", "push"), docker_hub_rule("alice", "library/nginx", "push")
    (True, False)
    >>> docker_hub_rule(None, "library/nginx", "pull")
    True
    """
    if action == "pull":
        return True
    return user is not None and repo.split("/", 1)[0] == user


@dataclass
class _Repository:
    tags: dict[str, str] = field(default_factory=dict)  # tag -> manifest digest
    manifests: set[str] = field(default_factory=set)
    blobs: set[str] = field(default_factory=set)
    private: bool = False


class Registry:
    """One registry server.

    Args:
        host: ``docker.io`` or ``host[:port]`` (what references name).
        users: username -> password. ``None``: no authentication at all
            (``registry:2`` defaults: anyone pulls and pushes).
        anonymous_pull: with users configured, whether pulling needs no login.
        require_auth_for_push: with users configured, whether pushing needs a login.
        namespace_rule: ``rule(user_or_None, repo, action) -> bool`` checked after
            authentication (:func:`docker_hub_rule` for Docker Hub).
        bandwidth: bytes per second for :meth:`transfer_seconds` (default
            :data:`DOCKER_HUB_BANDWIDTH` for docker.io, :data:`LAN_BANDWIDTH` otherwise).
    """

    def __init__(self, host: str, *, users: dict[str, str] | None = None, anonymous_pull: bool = True,
                 require_auth_for_push: bool = True,
                 namespace_rule: Callable[[str | None, str, str], bool] | None = None,
                 bandwidth: float | None = None):
        self.host = host
        self.users = None if users is None else dict(users)
        self.anonymous_pull = anonymous_pull
        self.require_auth_for_push = require_auth_for_push
        self.namespace_rule = namespace_rule
        self.bandwidth = float(bandwidth or (DOCKER_HUB_BANDWIDTH if host == DEFAULT_DOMAIN else LAN_BANDWIDTH))
        self._blobs: dict[str, bytes] = {}
        self._manifests: dict[str, tuple[bytes, str]] = {}
        self._repos: dict[str, _Repository] = {}
        self._tokens: dict[str, str] = {}
        self.bytes_received = 0
        self.bytes_sent = 0

    @classmethod
    def docker_hub(cls, users: dict[str, str] | None = None) -> "Registry":
        """Docker Hub: anonymous pulls, pushes only by logged-in users to their own namespace."""
        return cls(DEFAULT_DOMAIN, users=dict(users or {}), namespace_rule=docker_hub_rule)

    def __repr__(self) -> str:
        return f"<Registry {self.host} repositories={len(self._repos)} blobs={len(self._blobs)}>"

    @property
    def is_docker_hub(self) -> bool:
        return self.host == DEFAULT_DOMAIN

    def serve(self, port: int = 0, *, world=None, host: str = "127.0.0.1"):
        """Answer the OCI distribution API on ``127.0.0.1:port`` (0: a free port) for real clients.

        ``skopeo``, ``oras``, ``crane`` or ``curl`` then push to and pull from this very registry:
        what they push, a simulated ``docker pull`` finds, and the other way round. Needs the
        ``serve`` extra (aiohttp); see :mod:`aivle_k8s.serve.registry`.

        Args:
            world: the world this registry belongs to (``world.registry(...)``, ``world.docker_hub``),
                so requests wait for the world's lock; defaults to ``self.world`` when set.

        Returns:
            A handle with ``.address`` (``"127.0.0.1:PORT"``, for image names), ``.url`` and ``.stop()``.
        """
        from ..serve.registry import serve_registry

        return serve_registry(self, port, world=world, host=host)

    def transfer_seconds(self, nbytes: int) -> float:
        """Simulated seconds to move ``nbytes`` to or from this registry."""
        return nbytes / self.bandwidth

    # -- accounts ------------------------------------------------------------------
    def add_user(self, username: str, password: str) -> None:
        """Create an account (turns authentication on for an open registry)."""
        if self.users is None:
            self.users = {}
        self.users[username] = password

    def login(self, username: str, password: str) -> str:
        """``docker login``: a token naming the user.

        Raises:
            Unauthorized: ``unauthorized: incorrect username or password``.
        """
        if self.users is not None and self.users.get(username) != password:
            raise _err(Unauthorized, "UNAUTHORIZED", "unauthorized: incorrect username or password")
        token = hashlib.sha256(f"{self.host}\0{username}\0{len(self._tokens)}".encode()).hexdigest()[:32]
        self._tokens[token] = username
        return token

    def logout(self, token: str) -> None:
        self._tokens.pop(token, None)

    def user_of(self, token: str | None) -> str | None:
        """The user a token names (None for anonymous).

        Raises:
            Unauthorized: the token is not one this registry issued.
        """
        if token is None:
            return None
        user = self._tokens.get(token)
        if user is None:
            raise _err(Unauthorized, "UNAUTHORIZED", "unauthorized: authentication required")
        return user

    def set_private(self, repo: str, private: bool = True) -> None:
        """Make a repository private (only its namespace's owner may pull it)."""
        self._repo(repo, create=True).private = private

    def authorize(self, token: str | None, repo: str, action: str) -> str | None:
        """Check that the token's user may ``action`` (``pull``/``push``) ``repo``; returns the user.

        Raises:
            Unauthorized: ``unauthorized: authentication required`` (no or bad login).
            Denied: ``denied: requested access to the resource is denied``.
        """
        if action not in ("pull", "push"):
            raise InvalidInput(f"unknown registry action {action!r}: use 'pull' or 'push'")
        user = self.user_of(token)
        need_login = _err(Unauthorized, "UNAUTHORIZED", "unauthorized: authentication required")
        denied = _err(Denied, "DENIED", "denied: requested access to the resource is denied")
        repository = self._repos.get(repo)
        if action == "pull":
            if repository is not None and repository.private and (user is None or repo.split("/")[0] != user):
                raise denied
            if self.users is not None and not self.anonymous_pull and user is None:
                raise need_login
        else:
            if user is None and self.namespace_rule is None and self.users is not None \
                    and self.require_auth_for_push:
                raise need_login
        if self.namespace_rule is not None and not self.namespace_rule(user, repo, action):
            raise denied
        return user

    # -- repositories ------------------------------------------------------------------
    def _repo(self, repo: str, create: bool = False) -> _Repository:
        r = self._repos.get(repo)
        if r is None:
            if not create:
                raise _err(NameUnknown, "NAME_UNKNOWN", "repository name not known to registry", repo=repo)
            r = self._repos[repo] = _Repository()
        return r

    def has_repository(self, repo: str) -> bool:
        return repo in self._repos

    def catalog(self) -> list[str]:
        """``GET /v2/_catalog``: repository names, sorted."""
        return sorted(name for name, r in self._repos.items() if r.tags or r.manifests)

    def tags(self, repo: str) -> list[str]:
        """``GET /v2/<repo>/tags/list``: the tags, sorted.

        Raises:
            NameUnknown: no such repository.
        """
        return sorted(self._repo(repo).tags)

    # -- blobs ---------------------------------------------------------------------------
    def check_blob(self, repo: str, digest: str) -> bool:
        """``HEAD`` a blob: is it in this repository?"""
        r = self._repos.get(repo)
        return r is not None and digest in r.blobs

    def blob_size(self, repo: str, digest: str) -> int:
        if not self.check_blob(repo, digest):
            raise _err(BlobUnknown, "BLOB_UNKNOWN", "blob unknown: blob unknown to registry", digest=digest)
        return len(self._blobs[digest])

    def get_blob(self, repo: str, digest: str) -> bytes:
        """``GET`` a blob.

        Raises:
            BlobUnknown: ``blob unknown to registry``.
        """
        if not self.check_blob(repo, digest):
            raise _err(BlobUnknown, "BLOB_UNKNOWN", "blob unknown: blob unknown to registry", digest=digest)
        data = self._blobs[digest]
        self.bytes_sent += len(data)
        return data

    def put_blob(self, repo: str, digest: str, data: bytes) -> str:
        """Upload a blob (monolithic ``PUT ?digest=``); the digest must match the bytes.

        Raises:
            RegistryError: code ``DIGEST_INVALID``.
        """
        data = bytes(data)
        actual = sha256_digest(data)
        if actual != digest:
            raise _err(RegistryError, "DIGEST_INVALID",
                       f"digest invalid: provided digest did not match uploaded content "
                       f"(declared {digest}, content is {actual})", digest=digest)
        self._blobs.setdefault(digest, data)
        self._repo(repo, create=True).blobs.add(digest)
        self.bytes_received += len(data)
        return digest

    def mount_blob(self, from_repo: str, repo: str, digest: str) -> bool:
        """Cross-repository mount: link a blob of ``from_repo`` into ``repo`` without uploading.

        Returns False (the client must upload) when ``from_repo`` lacks it.
        """
        if not self.check_blob(from_repo, digest):
            return False
        self._repo(repo, create=True).blobs.add(digest)
        return True

    def repositories_with_blob(self, digest: str) -> list[str]:
        return sorted(name for name, r in self._repos.items() if digest in r.blobs)

    # -- manifests -------------------------------------------------------------------------
    def put_manifest(self, repo: str, reference: str, data: bytes, media_type: str | None = None) -> str:
        """``PUT`` a manifest (or index) under a tag or its digest; returns its digest.

        Raises:
            RegistryError: ``MANIFEST_INVALID`` (not JSON / wrong digest reference) or
                ``MANIFEST_BLOB_UNKNOWN`` (a blob or manifest it references is missing).
        """
        data = bytes(data)
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise _err(RegistryError, "MANIFEST_INVALID", "manifest invalid: not JSON") from None
        if not isinstance(doc, dict):
            raise _err(RegistryError, "MANIFEST_INVALID", "manifest invalid: expected a JSON object")
        media_type = media_type or doc.get("mediaType") or MANIFEST_MEDIA_TYPE
        r = self._repos.get(repo) or _Repository()
        if media_type in _INDEX_TYPES:
            for m in doc.get("manifests") or []:
                if m.get("digest") not in r.manifests:
                    raise _err(RegistryError, "MANIFEST_BLOB_UNKNOWN",
                               f"manifest blob unknown: manifest {m.get('digest')} is not in {repo}; "
                               "push the platform manifests first")
        else:
            wanted = [(doc.get("config") or {}).get("digest")] + [l.get("digest") for l in doc.get("layers") or []]
            for d in wanted:
                if d not in r.blobs:
                    raise _err(RegistryError, "MANIFEST_BLOB_UNKNOWN",
                               f"manifest blob unknown: blob unknown to registry ({d}); "
                               "upload every blob before the manifest", digest=d)
        digest = sha256_digest(data)
        if reference.startswith("sha256:") and reference != digest:
            raise _err(RegistryError, "DIGEST_INVALID",
                       f"digest invalid: provided digest did not match uploaded content "
                       f"(declared {reference}, content is {digest})")
        r = self._repo(repo, create=True)
        self._manifests.setdefault(digest, (data, media_type))
        r.manifests.add(digest)
        if not reference.startswith("sha256:"):
            r.tags[reference] = digest
        self.bytes_received += len(data)
        return digest

    def get_manifest(self, repo: str, reference: str) -> tuple[bytes, str, str]:
        """``GET`` a manifest by tag or digest: ``(bytes, media type, digest)``.

        Raises:
            NameUnknown: no such repository.
            ManifestUnknown: no such tag or digest in it.
        """
        r = self._repo(repo)
        digest = reference if reference.startswith("sha256:") else r.tags.get(reference)
        if digest is None or digest not in r.manifests:
            raise _err(ManifestUnknown, "MANIFEST_UNKNOWN", "manifest unknown", repo=repo, reference=reference)
        data, media_type = self._manifests[digest]
        self.bytes_sent += len(data)
        return data, media_type, digest

    def resolve(self, repo: str, reference: str) -> str:
        """The manifest digest a tag points at (``HEAD`` of a manifest)."""
        r = self._repo(repo)
        digest = reference if reference.startswith("sha256:") else r.tags.get(reference)
        if digest is None or digest not in r.manifests:
            raise _err(ManifestUnknown, "MANIFEST_UNKNOWN", "manifest unknown", repo=repo, reference=reference)
        return digest

    def delete_manifest(self, repo: str, reference: str) -> None:
        """``DELETE`` a manifest by digest (with every tag pointing at it) or delete one tag.

        Raises:
            NameUnknown, ManifestUnknown.
        """
        r = self._repo(repo)
        if not reference.startswith("sha256:"):
            if reference not in r.tags:
                raise _err(ManifestUnknown, "MANIFEST_UNKNOWN", "manifest unknown", repo=repo, reference=reference)
            del r.tags[reference]
            return
        if reference not in r.manifests:
            raise _err(ManifestUnknown, "MANIFEST_UNKNOWN", "manifest unknown", repo=repo, reference=reference)
        r.manifests.discard(reference)
        for tag in [t for t, d in r.tags.items() if d == reference]:
            del r.tags[tag]

    # -- server-side seeding (no auth, no byte counting) ------------------------------------
    def put_image(self, repo: str, tag: str | None, image: Image) -> str:
        """Store an image directly (how a catalogue seeds Docker Hub); returns the manifest digest."""
        r = self._repo(repo, create=True)
        for digest, data in [(image.id, image.config_json)] + [(l.digest, l.blob) for l in image.layers]:
            self._blobs.setdefault(digest, data)
            r.blobs.add(digest)
        data = image.manifest_json
        digest = sha256_digest(data)
        self._manifests.setdefault(digest, (data, image.manifest_media_type))
        r.manifests.add(digest)
        if tag is not None:
            r.tags[tag] = digest
        return digest

    def put_index(self, repo: str, tag: str | None, manifests: list[tuple[Image, dict]]) -> str:
        """Store a multi-platform OCI index of already stored images; returns its digest.

        Args:
            manifests: ``(image, platform)`` pairs, e.g. ``(img, {"architecture": "amd64", "os": "linux"})``.
        """
        r = self._repo(repo, create=True)
        entries = []
        for image, platform in manifests:
            self.put_image(repo, None, image)
            entries.append({"mediaType": image.manifest_media_type, "digest": image.manifest_digest,
                            "size": len(image.manifest_json), "platform": dict(platform)})
        data = json.dumps({"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": entries},
                          separators=(",", ":")).encode()
        digest = sha256_digest(data)
        self._manifests.setdefault(digest, (data, INDEX_MEDIA_TYPE))
        r.manifests.add(digest)
        if tag is not None:
            r.tags[tag] = digest
        return digest

    def image(self, repo: str, reference: str) -> Image:
        """The image a tag or digest names, read server-side (no auth, nothing counted)."""
        sent = self.bytes_sent
        try:
            data, media_type, _ = self.get_manifest(repo, reference)
            data, media_type = _platform_manifest(self, repo, data, media_type)
            doc = json.loads(data)
            config = self.get_blob(repo, doc["config"]["digest"])
            layers = [Layer.from_blob(self.get_blob(repo, l["digest"]), l.get("mediaType") or "")
                      for l in doc.get("layers") or []]
            return Image.from_config_json(config, layers, manifest_json=data)
        finally:
            self.bytes_sent = sent

    def stored_bytes(self) -> int:
        """Bytes of all blobs stored (each once, however many repositories link it)."""
        return sum(len(b) for b in self._blobs.values())


# -- the client side (what dockerd does) -------------------------------------------------------
def _short(digest: str) -> str:
    return digest.split(":", 1)[-1][:12]


@dataclass
class PushReport:
    """What ``docker push`` did.

    Attributes:
        ref: the reference pushed.
        digest: the manifest digest (``latest: digest: sha256:... size: 1570``).
        size: manifest size in bytes.
        layers: ``(short diff_id, status)`` top layer first; status is ``Pushed``,
            ``Layer already exists`` or ``Mounted from <repo>``.
        bytes_uploaded: blob bytes actually sent (config + layers; 0 when all existed).
        seconds: simulated transfer time.
    """

    ref: Reference
    digest: str
    size: int
    layers: list[tuple[str, str]]
    bytes_uploaded: int
    seconds: float = 0.0

    def lines(self) -> list[str]:
        """Docker's output lines."""
        out = [f"The push refers to repository [{self.ref.name}]"]
        out += [f"{short}: {status}" for short, status in self.layers]
        out.append(f"{self.ref.tag or 'latest'}: digest: {self.digest} size: {self.size}")
        return out


@dataclass
class PullReport:
    """What ``docker pull`` did.

    Attributes:
        ref: the reference pulled.
        image: the image (not yet stored or tagged: the caller does that).
        digest: the manifest (or index) digest the registry served.
        layers: ``(short blob digest, status)`` bottom first; ``Pull complete`` or
            ``Already exists``; empty when the image is up to date.
        bytes_downloaded: blob bytes actually fetched (config + missing layers).
        status: ``Downloaded newer image for nginx:latest`` or ``Image is up to date for nginx:latest``.
        seconds: simulated transfer time.
    """

    ref: Reference
    image: Image
    digest: str
    layers: list[tuple[str, str]]
    bytes_downloaded: int
    status: str
    seconds: float = 0.0

    @property
    def up_to_date(self) -> bool:
        return self.status.startswith("Image is up to date")

    def lines(self) -> list[str]:
        """Docker's output lines (``Using default tag`` is the caller's to add)."""
        head = self.ref.tag if self.ref.digest is None else self.ref.digest
        path = self.ref.path
        out = [f"{head}: Pulling from {path}"]
        out += [f"{short}: {status}" for short, status in self.layers]
        out += [f"Digest: {self.digest}", f"Status: {self.status}", str(self.ref)]
        return out


def _as_ref(ref: Reference | str) -> Reference:
    return ref if isinstance(ref, Reference) else parse_reference(str(ref))


def _check_host(registry: Registry, ref: Reference) -> None:
    if ref.domain != registry.host:
        raise InvalidInput(f"reference {ref} names registry {ref.domain}, not {registry.host}")


def push_image(registry: Registry, token: str | None, ref: Reference | str, image: Image, *,
               progress: Callable[[str, str], object] | None = None) -> PushReport:
    """``docker push``: upload the blobs the registry lacks, then the manifest under ``ref.tag``.

    Each layer is HEADed first: present -> ``Layer already exists``; present in
    another repository this user may pull -> mounted (``Mounted from library/nginx``);
    otherwise uploaded (``Pushed``). The config blob goes the same way (unlisted).

    Args:
        progress: called with ``(short id, status)`` as each layer finishes.

    Raises:
        Unauthorized / Denied: Docker's words (``denied: requested access to the resource is denied``).
    """
    ref = _as_ref(ref)
    _check_host(registry, ref)
    repo = ref.path
    registry.authorize(token, repo, "push")
    uploaded = 0
    statuses: dict[str, str] = {}

    def send(digest: str, data: bytes) -> str:
        nonlocal uploaded
        if registry.check_blob(repo, digest):
            return "Layer already exists"
        for other in registry.repositories_with_blob(digest):
            if other == repo:
                continue
            try:
                registry.authorize(token, other, "pull")
            except Unauthorized:
                continue
            if registry.mount_blob(other, repo, digest):
                return f"Mounted from {other}"
        registry.put_blob(repo, digest, data)
        uploaded += len(data)
        return "Pushed"

    for layer in image.layers:
        if layer.diff_id in statuses:
            continue
        status = send(layer.digest, layer.blob)
        statuses[layer.diff_id] = status
        if progress is not None:
            progress(_short(layer.diff_id), status)
    send(image.id, image.config_json)
    manifest = image.manifest_json
    digest = registry.put_manifest(repo, ref.tag or image.manifest_digest, manifest, image.manifest_media_type)
    layers = [(_short(d), s) for d, s in reversed(list(statuses.items()))]
    return PushReport(ref, digest, len(manifest), layers, uploaded, registry.transfer_seconds(uploaded))


def _platform_manifest(registry: Registry, repo: str, data: bytes, media_type: str,
                       architecture: str = "amd64", os: str = "linux") -> tuple[bytes, str]:
    if media_type not in _INDEX_TYPES:
        return data, media_type
    doc = json.loads(data)
    for m in doc.get("manifests") or []:
        p = m.get("platform") or {}
        if p.get("architecture") == architecture and p.get("os") == os:
            body, mt, _ = registry.get_manifest(repo, m["digest"])
            return body, mt
    raise _err(ManifestUnknown, "MANIFEST_UNKNOWN",
               f"no matching manifest for {os}/{architecture} in the manifest list entries")


def pull_image(registry: Registry, token: str | None, ref: Reference | str, store, *,
               named: Reference | None = None) -> PullReport:
    """``docker pull``: fetch the manifest, the config and only the layers ``store`` lacks.

    The image is returned, not stored: the caller adds it with its tag (and the
    repo digest ``name@<report.digest>``). ``named`` is the reference as the user typed it
    when the registry was reached under another name (``dev:5000`` for a registry whose own
    host is ``localhost:5000``): messages and the status line use it, as docker does.

    Raises:
        Unauthorized: on Docker Hub, for a repository that does not exist or may
            not be read: ``pull access denied for foo, repository does not exist or
            may require 'docker login': denied: requested access to the resource is denied``.
        ManifestUnknown: ``manifest for nginx:9.9 not found: manifest unknown: manifest unknown``.
    """
    ref = _as_ref(ref)
    _check_host(registry, ref)
    typed = named or ref
    repo = ref.path
    reference = ref.digest or ref.tag or "latest"
    hub_denied = _err(
        Unauthorized, "DENIED",
        f"pull access denied for {typed.familiar}, repository does not exist or may require "
        f"'docker login': denied: requested access to the resource is denied")
    try:
        registry.authorize(token, repo, "pull")
    except Unauthorized as e:
        if registry.is_docker_hub:
            raise hub_denied from None
        if getattr(e, "code", "") == "UNAUTHORIZED":
            raise _err(Unauthorized, "UNAUTHORIZED",
                       f'Head "https://{registry.host}/v2/{repo}/manifests/{reference}": '
                       "no basic auth credentials") from None
        raise
    try:
        data, media_type, digest = registry.get_manifest(repo, reference)
    except NameUnknown:
        if registry.is_docker_hub:
            raise hub_denied from None
        raise _err(ManifestUnknown, "MANIFEST_UNKNOWN",
                   f"manifest for {typed.familiar_string} not found: manifest unknown: manifest unknown") from None
    except ManifestUnknown:
        raise _err(ManifestUnknown, "MANIFEST_UNKNOWN",
                   f"manifest for {typed.familiar_string} not found: manifest unknown: manifest unknown") from None
    data, media_type = _platform_manifest(registry, repo, data, media_type)
    doc = json.loads(data)
    downloaded = 0
    image_id = (doc.get("config") or {}).get("digest", "")
    if store.exists(image_id):
        config_json = store.by_id(image_id).config_json  # known locally: no need to fetch it
    else:
        config_json = registry.get_blob(repo, image_id)
        downloaded += len(config_json)
    config = json.loads(config_json)
    diff_ids = list((config.get("rootfs") or {}).get("diff_ids") or [])
    descriptors = doc.get("layers") or []
    if len(diff_ids) != len(descriptors):
        raise _err(RegistryError, "MANIFEST_INVALID",
                   f"manifest invalid: {len(descriptors)} layers but the config lists {len(diff_ids)} diff_ids")
    up_to_date = False
    if store.exists(image_id):
        if ref.digest is not None:
            up_to_date = True
        else:
            try:
                up_to_date = store.resolve(typed) == image_id
            except ImageNotFound:
                up_to_date = False
    layers: list[Layer] = []
    rows: list[tuple[str, str]] = []
    for desc, diff_id in zip(descriptors, diff_ids):
        if store.has_layer(diff_id):
            layers.append(store.layer(diff_id))
            rows.append((_short(desc["digest"]), "Already exists"))
            continue
        blob = registry.get_blob(repo, desc["digest"])
        try:
            layer = Layer.from_blob(blob, desc.get("mediaType") or "")
        except LayerError as e:
            raise _err(RegistryError, "BLOB_INVALID", f"failed to register layer: {e}") from None
        if layer.diff_id != diff_id:
            raise _err(RegistryError, "BLOB_INVALID",
                       f"failed to register layer: layer {desc['digest']} has diff ID {layer.diff_id}, "
                       f"the image config expects {diff_id}")
        downloaded += len(blob)
        layers.append(layer)
        rows.append((_short(desc["digest"]), "Pull complete"))
    image = Image.from_config_json(config_json, layers, manifest_json=data)
    shown = typed.familiar_string
    status = (f"Image is up to date for {shown}" if up_to_date else f"Downloaded newer image for {shown}")
    return PullReport(ref, image, digest, [] if up_to_date else rows, downloaded, status,
                      registry.transfer_seconds(downloaded))
