"""Image layers: reproducible tar archives of filesystem changes, with their digests.

A layer is what one ``RUN``/``COPY``/``ADD`` step changed: a ``dict`` from
absolute path to :class:`~aivle_k8s.linux.fs.Entry` (the ``diff()`` of a
:class:`~aivle_k8s.linux.fs.FileSystem`). On the wire and on disk it is a POSIX
tar, gzip-compressed. Two digests name it, exactly as in Docker and OCI:

* ``diff_id``: sha256 of the **uncompressed** tar (listed in the image config's
  ``rootfs.diff_ids``);
* ``digest``: sha256 of the **compressed** blob (listed in the manifest, the
  name a registry stores it under).

The tar is reproducible: entries sorted by name, paths relative (``etc/hosts``),
mtime 0, owner names empty, modes and uid/gid from the entries; deleted files are
whiteouts ``dir/.wh.name`` and an opaque directory carries ``dir/.wh..wh..opq``
(the OCI image-spec's rules). Archives end like Go's ``archive/tar`` (two zero
blocks, no padding), so the empty layer is the 1024 zero bytes every Docker user
has met as ``sha256:5f70bf18a086...``:

>>> Layer.from_entries({}).diff_id
'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef'
>>> layer = Layer.from_entries({"/app": Entry.directory(), "/app/hi.txt": Entry.file(b"hi\\n")})
>>> layer.diff_id == Layer.from_entries(dict(layer.entries)).diff_id   # same entries, same bytes
True
>>> layer_from_tar(layer.tar) == dict(layer.entries)
True
"""

from __future__ import annotations

import gzip
import hashlib
import io
import posixpath
import struct
import tarfile
import zlib
from types import MappingProxyType
from typing import Iterable, Mapping

from ..linux.fs import Entry
from ..sim.errors import InvalidInput

__all__ = [
    "Layer",
    "LayerError",
    "layer_tar",
    "layer_from_tar",
    "chain_ids",
    "sha256_digest",
    "gzip_bytes",
    "gunzip_bytes",
    "LAYER_MEDIA_TYPE",
    "LAYER_MEDIA_TYPE_UNCOMPRESSED",
    "DOCKER_LAYER_MEDIA_TYPE",
    "WHITEOUT_PREFIX",
    "OPAQUE_WHITEOUT",
    "EMPTY_LAYER_DIFF_ID",
]

#: OCI media type of a gzip-compressed layer blob.
LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
#: OCI media type of an uncompressed layer blob.
LAYER_MEDIA_TYPE_UNCOMPRESSED = "application/vnd.oci.image.layer.v1.tar"
#: Docker (schema 2) media type of a gzip-compressed layer blob (accepted on import).
DOCKER_LAYER_MEDIA_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"
#: A file named ``.wh.<name>`` deletes ``<name>`` from the layers below.
WHITEOUT_PREFIX = ".wh."
#: A file named ``.wh..wh..opq`` hides everything below its directory.
OPAQUE_WHITEOUT = ".wh..wh..opq"
#: diff_id of a layer with no changes (1024 zero bytes).
EMPTY_LAYER_DIFF_ID = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"

_BLOCK = 512
_GZIP_LEVEL = 6  # Go's gzip.DefaultCompression


class LayerError(InvalidInput):
    """A layer archive is not acceptable (unsafe path, unreadable tar or gzip)."""


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data`` (the digest format of OCI and Docker).

    >>> sha256_digest(b"")
    'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    """
    return "sha256:" + hashlib.sha256(data).hexdigest()


def gzip_bytes(data: bytes) -> bytes:
    """Reproducible gzip: no file name, mtime 0, fixed level, OS byte 255 (unknown).

    >>> gunzip_bytes(gzip_bytes(b"abc"))
    b'abc'
    >>> gzip_bytes(b"abc") == gzip_bytes(b"abc")
    True
    """
    comp = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS, 9, zlib.Z_DEFAULT_STRATEGY)
    body = comp.compress(data) + comp.flush()
    header = struct.pack("<BBBBLBB", 0x1F, 0x8B, 8, 0, 0, 0, 255)
    trailer = struct.pack("<LL", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)
    return header + body + trailer


def gunzip_bytes(blob: bytes) -> bytes:
    """Decompress a gzip blob; raises :class:`LayerError` if it is not gzip."""
    try:
        return gzip.decompress(blob)
    except (OSError, EOFError, zlib.error) as e:
        raise LayerError(f"invalid layer blob: not a gzip stream ({e})") from None


# -- tar ------------------------------------------------------------------------
def _tar_name(path: str) -> str:
    return path.lstrip("/")


def _header(info: tarfile.TarInfo) -> bytes:
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _members(entries: Mapping[str, Entry]) -> list[tuple[str, Entry | None]]:
    """(tar name, entry) pairs in archive order; opaque markers get entry None."""
    out: list[tuple[str, Entry | None]] = []
    for path, entry in entries.items():
        name = _tar_name(path)
        if not name:
            continue  # the root itself is never in a layer
        if entry.kind == "whiteout":
            d, base = posixpath.split(name)
            out.append((posixpath.join(d, WHITEOUT_PREFIX + base), entry))
            continue
        out.append((name, entry))
        if entry.kind == "dir" and entry.opaque:
            out.append((posixpath.join(name, OPAQUE_WHITEOUT), None))
    out.sort(key=lambda item: item[0])
    return out


def layer_tar(entries: Mapping[str, Entry]) -> bytes:
    """A reproducible POSIX (pax) tar of a layer.

    Args:
        entries: absolute path -> :class:`Entry` (files, directories, symlinks,
            whiteouts; a directory with ``opaque=True`` gets an opaque marker).

    Returns:
        The tar bytes: sorted, relative names, mtime 0, empty owner names,
        ending with two zero blocks.

    >>> data = layer_tar({"/etc/gone": Entry.whiteout(), "/etc": Entry.directory()})
    >>> import tarfile, io
    >>> [m.name for m in tarfile.open(fileobj=io.BytesIO(data))]
    ['etc', 'etc/.wh.gone']
    """
    buf = io.BytesIO()
    for name, entry in _members(entries):
        info = tarfile.TarInfo(name)
        info.mtime = 0
        info.uname = info.gname = ""
        if entry is None:  # opaque marker
            info.type, info.mode = tarfile.REGTYPE, 0
            buf.write(_header(info))
            continue
        info.uid, info.gid = entry.uid, entry.gid
        info.mode = entry.mode & 0o7777
        if entry.kind == "dir":
            info.type = tarfile.DIRTYPE
            buf.write(_header(info))
        elif entry.kind == "symlink":
            info.type = tarfile.SYMTYPE
            info.linkname = entry.target
            buf.write(_header(info))
        elif entry.kind == "whiteout":
            info.type = tarfile.REGTYPE
            buf.write(_header(info))
        else:
            info.type = tarfile.REGTYPE
            info.size = len(entry.data)
            buf.write(_header(info))
            buf.write(entry.data)
            pad = (-len(entry.data)) % _BLOCK
            if pad:
                buf.write(b"\0" * pad)
    buf.write(b"\0" * (2 * _BLOCK))
    return buf.getvalue()


def _safe_path(name: str) -> str:
    """The absolute path of tar member ``name``; rejects absolute and ``..`` paths."""
    if name.startswith("/"):
        raise LayerError(f'invalid layer: "{name}" is an absolute path; layer tars hold paths '
                         f'relative to the root (e.g. "etc/hosts")')
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise LayerError(f'invalid layer: "{name}" is outside of the layer root (".." is not '
                         f'allowed in layer paths)')
    return "/" + "/".join(parts)


def layer_from_tar(data: bytes) -> dict[str, Entry]:
    """Read a layer tar back into entries (the inverse of :func:`layer_tar`).

    Whiteout files become whiteout entries, an opaque marker makes its directory
    opaque, hard links become copies of their target, devices and fifos are
    skipped.

    Raises:
        LayerError: the archive is unreadable or has an absolute or ``..`` path.

    >>> layer_from_tar(layer_tar({"/a": Entry.directory(opaque=True)}))["/a"].opaque
    True
    """
    entries: dict[str, Entry] = {}
    opaque: list[str] = []
    try:
        tf = tarfile.open(fileobj=io.BytesIO(data), mode="r:")
        members = tf.getmembers()
    except tarfile.TarError as e:
        raise LayerError(f"invalid layer: not a tar archive ({e})") from None
    for m in members:
        path = _safe_path(m.name)
        if path == "/":
            continue
        d, base = posixpath.split(path)
        if base == OPAQUE_WHITEOUT:
            opaque.append(d)
            continue
        if base.startswith(WHITEOUT_PREFIX):
            entries[posixpath.join(d, base[len(WHITEOUT_PREFIX):])] = Entry.whiteout()
            continue
        mode = m.mode & 0o7777
        if m.isdir():
            entries[path] = Entry("dir", b"", mode, m.uid, m.gid)
        elif m.issym():
            entries[path] = Entry("symlink", b"", mode, m.uid, m.gid, target=m.linkname)
        elif m.islnk():
            target = entries.get(_safe_path(m.linkname))
            if target is not None and target.is_file:
                entries[path] = Entry("file", target.data, mode, m.uid, m.gid)
        elif m.isfile():
            f = tf.extractfile(m)
            content = f.read() if f is not None else b""
            entries[path] = Entry("file", content, mode, m.uid, m.gid)
    for d in opaque:
        old = entries.get(d)
        if old is not None and old.is_dir:
            entries[d] = Entry("dir", b"", old.mode, old.uid, old.gid, opaque=True)
        else:
            entries[d] = Entry.directory(opaque=True)
    return entries


# -- the layer value -------------------------------------------------------------
class Layer:
    """One image layer: its entries, tar, compressed blob and digests (immutable).

    Build one with :meth:`from_entries` (a build step's changes) or
    :meth:`from_blob` (a blob pulled from a registry or an OCI layout). Bytes
    and digests are computed once, when first needed. Two layers are equal
    when their ``diff_id`` is.

    Attributes:
        entries: read-only mapping path -> Entry (sorted by path).
        tar: the uncompressed tar bytes.
        blob: the gzip-compressed tar (what registries store).
        diff_id: ``sha256:`` of ``tar``.
        digest: ``sha256:`` of ``blob``.
        size: ``len(blob)`` (the manifest's descriptor size).
        tar_size: ``len(tar)``.
        content_size: bytes of file data (the SIZE ``docker history`` shows).
        media_type: :data:`LAYER_MEDIA_TYPE`.
    """

    __slots__ = ("entries", "_tar", "_blob", "_diff_id", "_digest", "media_type")

    def __init__(self, entries: Mapping[str, Entry], tar: bytes | None = None, blob: bytes | None = None,
                 media_type: str = LAYER_MEDIA_TYPE):
        object.__setattr__(self, "entries", MappingProxyType(dict(sorted(entries.items()))))
        object.__setattr__(self, "_tar", tar)
        object.__setattr__(self, "_blob", blob)
        object.__setattr__(self, "_diff_id", None)
        object.__setattr__(self, "_digest", None)
        object.__setattr__(self, "media_type", media_type)

    def __setattr__(self, name, value):
        raise AttributeError("Layer is immutable")

    @classmethod
    def from_entries(cls, entries: Mapping[str, Entry]) -> "Layer":
        """The layer holding ``entries`` (e.g. ``fs.diff()``)."""
        return cls(entries)

    @classmethod
    def from_tar(cls, tar: bytes) -> "Layer":
        """The layer of an uncompressed tar (kept byte for byte: same diff_id)."""
        return cls(layer_from_tar(tar), tar=bytes(tar))

    @classmethod
    def from_blob(cls, blob: bytes, media_type: str = LAYER_MEDIA_TYPE) -> "Layer":
        """The layer of a compressed blob (kept byte for byte: same digest).

        An uncompressed media type (``...layer.v1.tar``) is read as a plain tar.

        Raises:
            LayerError: the blob is not a gzip'd tar, or holds unsafe paths.
        """
        blob = bytes(blob)
        tar = blob if media_type.endswith(".tar") else gunzip_bytes(blob)
        return cls(layer_from_tar(tar), tar=tar, blob=blob, media_type=media_type)

    # -- bytes and digests (computed once) --------------------------------------------
    @property
    def tar(self) -> bytes:
        if self._tar is None:
            object.__setattr__(self, "_tar", layer_tar(self.entries))
        return self._tar

    @property
    def blob(self) -> bytes:
        if self._blob is None:
            object.__setattr__(self, "_blob", gzip_bytes(self.tar))
        return self._blob

    @property
    def diff_id(self) -> str:
        if self._diff_id is None:
            object.__setattr__(self, "_diff_id", sha256_digest(self.tar))
        return self._diff_id

    @property
    def digest(self) -> str:
        if self._digest is None:
            object.__setattr__(self, "_digest", sha256_digest(self.blob))
        return self._digest

    @property
    def size(self) -> int:
        return len(self.blob)

    @property
    def tar_size(self) -> int:
        return len(self.tar)

    @property
    def content_size(self) -> int:
        return sum(len(e.data) for e in self.entries.values() if e.kind == "file")

    @property
    def empty(self) -> bool:
        """True when the layer changes nothing."""
        return not self.entries

    def descriptor(self) -> dict:
        """The OCI descriptor of the blob (``mediaType``, ``digest``, ``size``)."""
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Layer):
            return NotImplemented
        return self is other or self.diff_id == other.diff_id

    def __hash__(self) -> int:
        return hash(self.diff_id)

    def __repr__(self) -> str:
        return f"<Layer {self.diff_id[:19]} files={len(self.entries)} size={self.content_size}>"


def chain_ids(diff_ids: Iterable[str]) -> list[str]:
    """The chain id of every layer prefix (how a layer store names a stack).

    ``ChainID(L0) = DiffID(L0)``;
    ``ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln))``.

    >>> a, b = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    >>> ids = chain_ids([a, b])
    >>> ids[0] == a, ids[1] == sha256_digest((a + " " + b).encode())
    (True, True)
    """
    out: list[str] = []
    for diff_id in diff_ids:
        if not out:
            out.append(diff_id)
        else:
            out.append(sha256_digest(f"{out[-1]} {diff_id}".encode()))
    return out
