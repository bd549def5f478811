"""The image model: a config, a stack of layers and a history, with real OCI digests.

An :class:`Image` is an immutable value. Its **config** (what ``docker image
inspect`` shows under ``Config``: Env, Cmd, Entrypoint, WorkingDir, ...) plus
the ``diff_id`` of every layer and the history are serialised to the OCI image
config JSON; the sha256 of those bytes is the **image id**. The OCI **manifest**
lists the config blob and the compressed layer blobs; its sha256 is the
**manifest digest** (the ``@sha256:`` a registry reports after a push).

>>> from aivle_k8s.linux.fs import Entry
>>> base = Image(config=ImageConfig(env=("PATH=/usr/bin:/bin",), cmd=("sh",)), created="2025-03-03T09:00:00Z")
>>> img = base.add_layer({"/hello.txt": Entry.file(b"hi\\n")}, "COPY hello.txt / # buildkit",
...                      "2025-03-03T09:00:05Z")
>>> img.id == "sha256:" + __import__("hashlib").sha256(img.config_json).hexdigest()
True
>>> len(img.layers), img.history[-1]["created_by"], img.size
(1, 'COPY hello.txt / # buildkit', 3)
>>> img.with_config(cmd=("cat", "/hello.txt")).id != img.id
True
>>> human_size(5243), human_size(0), human_size(187_000_000)
('5.24kB', '0B', '187MB')
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Iterable, Mapping, Sequence

from ..linux.fs import Entry
from ..sim.errors import InvalidInput
from .layers import Layer, chain_ids, sha256_digest

__all__ = [
    "ImageConfig",
    "Image",
    "human_size",
    "human_duration",
    "created_ago",
    "canonical_json",
    "MANIFEST_MEDIA_TYPE",
    "CONFIG_MEDIA_TYPE",
    "INDEX_MEDIA_TYPE",
    "DOCKER_MANIFEST_MEDIA_TYPE",
    "DOCKER_CONFIG_MEDIA_TYPE",
    "BUILDKIT_COMMENT",
    "DEFAULT_PATH",
]

MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG_MEDIA_TYPE = "application/vnd.docker.container.image.v1+json"
#: The history comment BuildKit's Dockerfile frontend writes.
BUILDKIT_COMMENT = "buildkit.dockerfile.v0"
#: The PATH BuildKit puts in an image that has none (``FROM scratch``).
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]


def human_size(size: float) -> str:
    """A size the way ``docker images`` and ``docker history`` print it (3 significant digits, base 1000).

    >>> human_size(999), human_size(1000), human_size(13_300), human_size(5_590_000)
    ('999B', '1kB', '13.3kB', '5.59MB')
    """
    size = float(size)
    i = 0
    while size >= 1000.0 and i < len(_UNITS) - 1:
        size /= 1000.0
        i += 1
    return "%.3g%s" % (size, _UNITS[i])


def human_duration(seconds: float) -> str:
    """A duration the way Docker prints CREATED (go-units ``HumanDuration``).

    >>> [human_duration(s) for s in (0.5, 1, 45, 90, 3000, 3600, 7200, 3 * 86400, 20 * 86400, 90 * 86400)]
    ['Less than a second', '1 second', '45 seconds', 'About a minute', '50 minutes', 'About an hour', '2 hours', '3 days', '2 weeks', '3 months']
    """
    secs = int(seconds)
    if secs < 1:
        return "Less than a second"
    if secs == 1:
        return "1 second"
    if secs < 60:
        return f"{secs} seconds"
    minutes = int(seconds // 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)  # Go rounds halves away from zero
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds // 3600) // 24 // 365} years"


def _parse_time(text: str):
    import datetime as _dt

    return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def created_ago(created: str, now: str) -> str:
    """``docker images`` CREATED: ``"2 hours ago"`` (``"N/A"`` when unknown).

    >>> created_ago("2025-03-03T09:00:00Z", "2025-03-03T11:00:00Z")
    '2 hours ago'
    """
    if not created or not now:
        return "N/A"
    delta = (_parse_time(now) - _parse_time(created)).total_seconds()
    return human_duration(max(0.0, delta)) + " ago"


def canonical_json(obj: Any) -> bytes:
    """Deterministic JSON bytes: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _tuple(value: Any) -> tuple | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _port(p: Any) -> str:
    p = str(p)
    return p if "/" in p else p + "/tcp"


@dataclass(frozen=True)
class ImageConfig:
    """The runtime defaults of an image (``Config`` in ``docker image inspect``).

    Lists are stored as tuples; ``labels`` as a dict (do not mutate it);
    ``healthcheck`` as Docker's JSON object (``Test``, ``Interval`` in ns, ...).
    """

    env: tuple[str, ...] = ()
    cmd: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    working_dir: str = ""
    user: str = ""
    exposed_ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    stop_signal: str = ""
    healthcheck: Mapping[str, Any] | None = None
    shell: tuple[str, ...] | None = None
    onbuild: tuple[str, ...] = ()
    args_escaped: bool = False  # BuildKit sets it with every CMD (Docker's deprecated ArgsEscaped)
    architecture: str = "amd64"
    os: str = "linux"

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        set_("env", tuple(self.env or ()))
        set_("cmd", _tuple(self.cmd))
        set_("entrypoint", _tuple(self.entrypoint))
        set_("shell", _tuple(self.shell))
        set_("onbuild", tuple(self.onbuild or ()))
        set_("exposed_ports", tuple(sorted({_port(p) for p in (self.exposed_ports or ())})))
        set_("volumes", tuple(sorted(set(self.volumes or ()))))
        set_("labels", dict(sorted((self.labels or {}).items())))
        if self.healthcheck is not None:
            set_("healthcheck", dict(self.healthcheck))

    # -- environment -------------------------------------------------------------
    def env_dict(self) -> dict[str, str]:
        """``env`` as a dict (later entries win)."""
        out: dict[str, str] = {}
        for item in self.env:
            k, _, v = item.partition("=")
            out[k] = v
        return out

    def with_env(self, **values: str) -> "ImageConfig":
        """A copy with variables set (an existing one keeps its place, like ``ENV``)."""
        return replace(self, env=_set_env(self.env, values))

    # -- JSON ----------------------------------------------------------------------
    def to_json(self) -> dict:
        """The ``config`` object of the OCI image config (empty fields left out)."""
        out: dict[str, Any] = {}
        if self.user:
            out["User"] = self.user
        if self.exposed_ports:
            out["ExposedPorts"] = {p: {} for p in self.exposed_ports}
        if self.env:
            out["Env"] = list(self.env)
        if self.entrypoint is not None:
            out["Entrypoint"] = list(self.entrypoint)
        if self.cmd is not None:
            out["Cmd"] = list(self.cmd)
        if self.volumes:
            out["Volumes"] = {v: {} for v in self.volumes}
        if self.working_dir:
            out["WorkingDir"] = self.working_dir
        if self.labels:
            out["Labels"] = dict(self.labels)
        if self.stop_signal:
            out["StopSignal"] = self.stop_signal
        if self.healthcheck is not None:
            out["Healthcheck"] = dict(self.healthcheck)
        if self.onbuild:
            out["OnBuild"] = list(self.onbuild)
        if self.shell is not None:
            out["Shell"] = list(self.shell)
        if self.args_escaped:
            out["ArgsEscaped"] = True
        return out

    @classmethod
    def from_json(cls, config: Mapping | None, architecture: str = "amd64", os: str = "linux") -> "ImageConfig":
        """The inverse of :meth:`to_json` (unknown keys are ignored)."""
        c = dict(config or {})
        return cls(
            env=tuple(c.get("Env") or ()),
            cmd=c.get("Cmd"),
            entrypoint=c.get("Entrypoint"),
            working_dir=c.get("WorkingDir") or "",
            user=c.get("User") or "",
            exposed_ports=tuple(c.get("ExposedPorts") or ()),
            volumes=tuple(c.get("Volumes") or ()),
            labels=dict(c.get("Labels") or {}),
            stop_signal=c.get("StopSignal") or "",
            healthcheck=c.get("Healthcheck"),
            shell=c.get("Shell"),
            onbuild=tuple(c.get("OnBuild") or ()),
            args_escaped=bool(c.get("ArgsEscaped")),
            architecture=architecture,
            os=os,
        )


def _set_env(env: Sequence[str], values: Mapping[str, str]) -> tuple[str, ...]:
    out = list(env)
    for key, value in values.items():
        item = f"{key}={value}"
        for i, old in enumerate(out):
            if old.partition("=")[0] == key:
                out[i] = item
                break
        else:
            out.append(item)
    return tuple(out)


def _history_entry(created: str, created_by: str, empty_layer: bool = False,
                   comment: str = BUILDKIT_COMMENT) -> dict:
    h: dict[str, Any] = {"created": created, "created_by": created_by}
    if comment:
        h["comment"] = comment
    if empty_layer:
        h["empty_layer"] = True
    return h


@dataclass(frozen=True, eq=False)
class Image:
    """An image: config + layers (bottom first) + history, identified by its config digest.

    Attributes:
        config: the :class:`ImageConfig`.
        layers: the layers, bottom first.
        history: one dict per build step (``created``, ``created_by``,
            ``comment``, ``empty_layer`` when the step made no layer).
        created: RFC 3339 creation time (the caller's simulated ``now``).
        tags: references shown by ``repr`` (the store fills them in); not part of the id.
        raw_config / raw_manifest: exact bytes received from a registry or an
            OCI layout, kept so the digests stay the registry's.

    Two images are equal when their ids are.
    """

    config: ImageConfig = field(default_factory=ImageConfig)
    layers: tuple[Layer, ...] = ()
    history: tuple[dict, ...] = ()
    created: str = ""
    tags: tuple[str, ...] = field(default=(), repr=False)
    raw_config: bytes | None = field(default=None, repr=False)
    raw_manifest: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "history", tuple(dict(h) for h in self.history))
        object.__setattr__(self, "tags", tuple(str(t) for t in self.tags))

    # -- identity -------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Image):
            return NotImplemented
        return self.id == other.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        name = f"{self.tags[0]} " if self.tags else ""
        return f"<Image {name}sha256:{self.short_id}>"

    # -- derived values (computed once) ---------------------------------------------
    @cached_property
    def diff_ids(self) -> list[str]:
        return [layer.diff_id for layer in self.layers]

    @cached_property
    def chain_ids(self) -> list[str]:
        """The chain id of each layer stack, bottom first."""
        return chain_ids(self.diff_ids)

    def config_dict(self) -> dict:
        """The OCI image config as a dict."""
        if self.raw_config is not None:
            return json.loads(self.raw_config)
        out: dict[str, Any] = {
            "architecture": self.config.architecture,
            "os": self.config.os,
            "config": self.config.to_json(),
            "rootfs": {"type": "layers", "diff_ids": self.diff_ids},
            "history": [dict(h) for h in self.history],
        }
        if self.created:
            out["created"] = self.created
        return out

    @cached_property
    def config_json(self) -> bytes:
        """The canonical OCI image config bytes (sorted keys, no spaces)."""
        if self.raw_config is not None:
            return self.raw_config
        return canonical_json(self.config_dict())

    @cached_property
    def id(self) -> str:
        """``sha256:`` of the config JSON (what ``docker images --no-trunc`` shows)."""
        return sha256_digest(self.config_json)

    @property
    def short_id(self) -> str:
        """The 12 hex digits ``docker images`` shows."""
        return self.id.split(":", 1)[1][:12]

    def config_descriptor(self) -> dict:
        return {"mediaType": CONFIG_MEDIA_TYPE, "digest": self.id, "size": len(self.config_json)}

    @cached_property
    def manifest_json(self) -> bytes:
        """The OCI image manifest (schemaVersion 2) listing the config and layer blobs."""
        if self.raw_manifest is not None:
            return self.raw_manifest
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": self.config_descriptor(),
            "layers": [layer.descriptor() for layer in self.layers],
        }
        return json.dumps(manifest, separators=(",", ":")).encode()

    @property
    def manifest_media_type(self) -> str:
        return json.loads(self.manifest_json).get("mediaType") or MANIFEST_MEDIA_TYPE

    @cached_property
    def manifest_digest(self) -> str:
        """``sha256:`` of the manifest (the ``RepoDigests`` / ``@sha256:`` of a pushed image)."""
        return sha256_digest(self.manifest_json)

    @property
    def size(self) -> int:
        """Bytes of file content in all layers (the SIZE ``docker images`` shows)."""
        return sum(layer.content_size for layer in self.layers)

    def rootfs_layers(self) -> list[Mapping[str, Entry]]:
        """The layers' entries bottom first, ready for ``FileSystem(lowers=...)``."""
        return [layer.entries for layer in self.layers]

    def env_dict(self) -> dict[str, str]:
        return self.config.env_dict()

    # -- new images from this one ---------------------------------------------------
    def _evolve(self, **changes: Any) -> "Image":
        changes.setdefault("raw_config", None)
        changes.setdefault("raw_manifest", None)
        changes.setdefault("tags", ())
        return replace(self, **changes)

    def with_config(self, **changes: Any) -> "Image":
        """A new image whose config has ``changes`` (``ImageConfig`` field names).

        >>> Image().with_config(cmd=["sh"]).config.cmd
        ('sh',)
        """
        return self._evolve(config=replace(self.config, **changes))

    def with_tags(self, tags: Iterable[str]) -> "Image":
        """The same image (same id, same cached bytes) showing ``tags`` in its repr."""
        new = replace(self, tags=tuple(tags))
        for name in ("diff_ids", "chain_ids", "config_json", "id", "manifest_json", "manifest_digest"):
            if name in self.__dict__:
                new.__dict__[name] = self.__dict__[name]
        return new

    def add_layer(self, entries: Mapping[str, Entry] | Layer, created_by: str, now: str,
                  comment: str = BUILDKIT_COMMENT) -> "Image":
        """A new image with one more layer and its history entry, created at ``now``."""
        layer = entries if isinstance(entries, Layer) else Layer.from_entries(entries)
        return self._evolve(layers=self.layers + (layer,),
                            history=self.history + (_history_entry(now, created_by, False, comment),),
                            created=now)

    def add_history(self, created_by: str, now: str, comment: str = BUILDKIT_COMMENT,
                    empty_layer: bool = True) -> "Image":
        """A new image with a history entry for a step that made no layer (ENV, CMD, ...)."""
        return self._evolve(history=self.history + (_history_entry(now, created_by, empty_layer, comment),),
                            created=now)

    # -- from bytes --------------------------------------------------------------------
    @classmethod
    def from_config_json(cls, config_json: bytes, layers: Sequence[Layer],
                         manifest_json: bytes | None = None) -> "Image":
        """Rebuild an image from its config bytes and layers (e.g. pulled from a registry).

        The bytes are kept, so ``id`` (and ``manifest_digest`` when
        ``manifest_json`` is given) stay exactly what the source had.

        Raises:
            InvalidInput: the config is not JSON or its ``rootfs.diff_ids`` do not match the layers.
        """
        try:
            data = json.loads(config_json)
        except (ValueError, UnicodeDecodeError) as e:
            raise InvalidInput(f"invalid image config: not JSON ({e})") from None
        if not isinstance(data, dict):
            raise InvalidInput("invalid image config: expected a JSON object")
        diff_ids = list((data.get("rootfs") or {}).get("diff_ids") or [])
        have = [layer.diff_id for layer in layers]
        if diff_ids != have:
            raise InvalidInput(
                f"invalid image config: rootfs.diff_ids list {len(diff_ids)} layer(s) "
                f"but {len(have)} layer(s) with other contents were given "
                f"(config {diff_ids[:3]}..., layers {have[:3]}...)")
        config = ImageConfig.from_json(data.get("config"), data.get("architecture") or "amd64",
                                       data.get("os") or "linux")
        return cls(config=config, layers=tuple(layers), history=tuple(data.get("history") or ()),
                   created=data.get("created") or "", raw_config=bytes(config_json),
                   raw_manifest=None if manifest_json is None else bytes(manifest_json))
