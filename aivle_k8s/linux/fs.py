"""An in-memory copy-on-write filesystem: the root filesystem of machines and containers.

A *layer* is a plain ``dict`` from absolute path (``"/etc/hostname"``) to an
:class:`Entry`. A :class:`FileSystem` stacks read-only lower layers (an
image's layers, bottom first) under one writable *upper* layer, exactly like
overlayfs: reads fall through to the highest layer that has the path, writes
go to the upper layer, deleting a lower file leaves a *whiteout* and
re-creating a deleted directory makes it *opaque*. ``diff()`` is the upper
layer: what a ``RUN`` step changed, ready to become an image layer.

Other filesystems can be mounted into one (named volumes, bind mounts); a
mount is seen through, but is not part of ``diff()`` — data written to a
volume survives the container, data written to its own layer does not.

>>> base = {"/etc": Entry.directory(), "/etc/motd": Entry.file(b"hello\\n")}
>>> fs = FileSystem([base])
>>> fs.write("/etc/motd", b"changed\\n"); fs.read("/etc/motd")
b'changed\\n'
>>> base["/etc/motd"].data          # the lower layer is untouched
b'hello\\n'
>>> fs.remove("/etc/motd"); sorted(fs.diff().items())
[('/etc/motd', Entry(kind='whiteout'))]
"""

from __future__ import annotations

import functools
import posixpath
from dataclasses import dataclass, replace
from typing import Iterator, Mapping

from ..sim.errors import FsError

__all__ = ["Entry", "FileSystem", "Layer", "join", "normpath", "parent_dirs"]

Layer = dict  # dict[str, Entry]

_MSG = {
    "ENOENT": "No such file or directory",
    "EEXIST": "File exists",
    "ENOTDIR": "Not a directory",
    "EISDIR": "Is a directory",
    "ENOTEMPTY": "Directory not empty",
    "ELOOP": "Too many levels of symbolic links",
    "EINVAL": "Invalid argument",
    "EBUSY": "Device or resource busy",
}


def _err(errno: str, path: str) -> FsError:
    return FsError(f"{path}: {_MSG[errno]}", errno=errno, path=path)


@dataclass(frozen=True)
class Entry:
    """One filesystem entry. ``kind`` is file, dir, symlink, socket or whiteout."""

    kind: str
    data: bytes = b""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    target: str = ""
    opaque: bool = False

    def __repr__(self) -> str:
        if self.kind == "whiteout":
            return "Entry(kind='whiteout')"
        if self.kind == "symlink":
            return f"Entry(kind='symlink', target={self.target!r})"
        if self.kind in ("dir", "socket"):
            return f"Entry(kind={self.kind!r}, mode={oct(self.mode)})"
        return f"Entry(kind='file', size={len(self.data)}, mode={oct(self.mode)})"

    @staticmethod
    def file(data: bytes | str = b"", mode: int = 0o644, uid: int = 0, gid: int = 0) -> "Entry":
        if isinstance(data, str):
            data = data.encode()
        return Entry("file", bytes(data), mode, uid, gid)

    @staticmethod
    def directory(mode: int = 0o755, uid: int = 0, gid: int = 0, opaque: bool = False) -> "Entry":
        return Entry("dir", b"", mode, uid, gid, opaque=opaque)

    @staticmethod
    def symlink(target: str) -> "Entry":
        return Entry("symlink", b"", 0o777, target=target)

    @staticmethod
    def socket(mode: int = 0o660, uid: int = 0, gid: int = 0) -> "Entry":
        """A UNIX socket a daemon listens on (``srw-rw----`` in ``ls -l``)."""
        return Entry("socket", b"", mode, uid, gid)

    @staticmethod
    def whiteout() -> "Entry":
        return Entry("whiteout", mode=0)

    @property
    def is_dir(self) -> bool:
        return self.kind == "dir"

    @property
    def is_file(self) -> bool:
        return self.kind == "file"

    @property
    def executable(self) -> bool:
        return bool(self.mode & 0o111)

    @property
    def size(self) -> int:
        return len(self.data)


@functools.lru_cache(maxsize=8192)
def normpath(path: str) -> str:
    """Normalise an absolute path: ``//a/./b/../c/`` -> ``/a/c`` (remembered: paths repeat a lot)."""
    if not path.startswith("/"):
        path = "/" + path
    out = posixpath.normpath(path)
    return "/" if out in ("//", "/") else out.replace("//", "/")


def join(cwd: str, path: str) -> str:
    """Resolve ``path`` against the working directory ``cwd``.

    >>> join("/home/student", "../etc/./hosts")
    '/home/etc/hosts'
    """
    if path.startswith("/"):
        return normpath(path)
    return normpath(posixpath.join(cwd or "/", path))


def parent_dirs(path: str) -> list[str]:
    """The ancestors of ``path``, outermost first, excluding ``/``.

    >>> parent_dirs("/a/b/c")
    ['/a', '/a/b']
    """
    return list(_parent_dirs(path))


@functools.lru_cache(maxsize=8192)
def _parent_dirs(path: str) -> tuple[str, ...]:
    parts = normpath(path).strip("/").split("/")
    return tuple("/" + "/".join(parts[:i]) for i in range(1, len(parts)))


_ROOT = Entry.directory()


class FileSystem:
    """A writable overlay of read-only layers, with mounts.

    Args:
        lowers: read-only layers, bottom first (not copied, never modified).
        upper: the writable layer (a new empty one by default).
    """

    def __init__(self, lowers: list[Mapping[str, Entry]] | tuple = (), upper: dict | None = None):
        self.lowers: tuple = tuple(lowers)
        self.upper: dict[str, Entry] = {} if upper is None else upper
        self.mounts: dict[str, tuple["FileSystem", str]] = {}
        # directory listings (path -> children) as last computed; any change through this object drops them
        self._children: dict[str, dict[str, Entry]] = {}

    def __repr__(self) -> str:
        return f"<FileSystem layers={len(self.lowers)}+1 changes={len(self.upper)}>"

    # -- mounts ---------------------------------------------------------
    def mount(self, point: str, fs: "FileSystem", source: str = "/") -> None:
        """Mount ``source`` of ``fs`` at ``point`` (created if missing)."""
        point = normpath(point)
        if not self._raw_exists(point):
            self.makedirs(point)
        self.mounts[point] = (fs, normpath(source))

    def umount(self, point: str) -> None:
        self.mounts.pop(normpath(point), None)

    def _route(self, path: str) -> tuple["FileSystem", str]:
        """Which filesystem serves ``path`` (longest mount prefix)."""
        if self.mounts:
            best = None
            for point in self.mounts:
                if path == point or path.startswith(point.rstrip("/") + "/"):
                    if best is None or len(point) > len(best):
                        best = point
            if best is not None:
                fs, source = self.mounts[best]
                rest = path[len(best):].lstrip("/")
                inner = normpath(posixpath.join(source, rest)) if rest else source
                return fs._route(inner)
        return self, path

    # -- raw lookups (no mounts, no symlinks) ---------------------------
    def _layers_top_down(self):
        yield self.upper
        yield from reversed(self.lowers)

    def _raw_lookup(self, path: str) -> Entry | None:
        if path == "/":
            return _ROOT
        ancestors = _parent_dirs(path)
        for layer in self._layers_top_down():
            entry = layer.get(path)
            if entry is not None:
                return None if entry.kind == "whiteout" else entry
            for anc in ancestors:
                a = layer.get(anc)
                if a is not None and (a.kind == "whiteout" or a.kind != "dir"):
                    return None
            for anc in ancestors:
                a = layer.get(anc)
                if a is not None and a.opaque:
                    return None
        return None

    def _raw_exists(self, path: str) -> bool:
        return self._raw_lookup(path) is not None

    def _raw_children(self, path: str) -> dict[str, Entry]:
        hit = self._children.get(path)
        if hit is None:
            hit = self._children[path] = self._scan_children(path)
        return dict(hit)

    def _scan_children(self, path: str) -> dict[str, Entry]:
        prefix = "/" if path == "/" else path + "/"
        seen: dict[str, Entry] = {}
        for layer in self._layers_top_down():
            for key, entry in layer.items():
                if key.startswith(prefix) and key != "/" and "/" not in key[len(prefix):]:
                    name = key[len(prefix):]
                    if name not in seen:
                        seen[name] = entry
            if any((e := layer.get(p)) is not None and (e.opaque or e.kind != "dir")
                   for p in [*parent_dirs(path), path] if p != "/"):
                break
        return {k: v for k, v in seen.items() if v.kind != "whiteout"}

    # -- path resolution -------------------------------------------------
    def resolve(self, path: str, follow: bool = True) -> str:
        """The path with every symlink in it resolved (the last one only if ``follow``)."""
        path = normpath(path)
        for _ in range(40):
            parts = path.strip("/").split("/") if path != "/" else []
            cur = "/"
            restart = None
            for i, name in enumerate(parts):
                nxt = normpath(posixpath.join(cur, name))
                fs, inner = self._route(nxt)
                entry = fs._raw_lookup(inner)
                last = i == len(parts) - 1
                if entry is not None and entry.kind == "symlink" and (follow or not last):
                    target = entry.target
                    base = cur if not target.startswith("/") else "/"
                    restart = normpath(posixpath.join(base, target, *parts[i + 1:]))
                    break
                cur = nxt
            if restart is None:
                return cur
            path = restart
        raise _err("ELOOP", path)

    def _lookup(self, path: str, follow: bool = True) -> tuple["FileSystem", str, Entry | None]:
        real = self.resolve(path, follow)
        for anc in _parent_dirs(real):
            fs, inner = self._route(anc)
            e = fs._raw_lookup(inner)
            if e is None:
                return fs, inner, None
            if e.kind != "dir":
                raise _err("ENOTDIR", path)
        fs, inner = self._route(real)
        return fs, inner, fs._raw_lookup(inner)

    # -- queries -----------------------------------------------------------
    def stat(self, path: str, follow: bool = True) -> Entry:
        """The entry at ``path``; raises FsError(ENOENT) if there is none."""
        if normpath(path) == "/dev/null":
            return Entry.file(b"", 0o666)
        _, _, entry = self._lookup(path, follow)
        if entry is None:
            raise _err("ENOENT", path)
        return entry

    def exists(self, path: str) -> bool:
        try:
            self.stat(path)
            return True
        except FsError:
            return False

    def lexists(self, path: str) -> bool:
        try:
            self.stat(path, follow=False)
            return True
        except FsError:
            return False

    def is_dir(self, path: str) -> bool:
        try:
            return self.stat(path).is_dir
        except FsError:
            return False

    def is_file(self, path: str) -> bool:
        try:
            return self.stat(path).is_file
        except FsError:
            return False

    def read(self, path: str) -> bytes:
        """The bytes of the file at ``path``."""
        entry = self.stat(path)
        if entry.is_dir:
            raise _err("EISDIR", path)
        return entry.data

    def read_text(self, path: str) -> str:
        return self.read(path).decode("utf-8", errors="replace")

    def listdir(self, path: str = "/") -> list[str]:
        """Sorted names in the directory at ``path``, including mount points."""
        entry = self.stat(path)
        if not entry.is_dir:
            raise _err("ENOTDIR", path)
        real = self.resolve(path)
        fs, inner = self._route(real)
        names = set(fs._raw_children(inner))
        prefix = "/" if real == "/" else real + "/"
        for point in self.mounts:
            if point.startswith(prefix) and "/" not in point[len(prefix):] and point != real:
                names.add(point[len(prefix):])
        return sorted(names)

    def walk(self, path: str = "/") -> Iterator[tuple[str, Entry]]:
        """Every entry under ``path`` (not following symlinks), in sorted order."""
        path = normpath(path)
        for name in self.listdir(path):
            child = normpath(posixpath.join(path, name))
            entry = self.stat(child, follow=False)
            yield child, entry
            if entry.is_dir:
                yield from self.walk(child)

    # -- changes -------------------------------------------------------------
    def _put(self, path: str, entry: Entry, *, must_not_exist: bool = False) -> None:
        if path == "/dev/null":
            return
        fs, inner, existing = self._lookup(path, follow=False)
        if existing is None:
            for anc in parent_dirs(self.resolve(path, follow=False)):
                f2, i2 = self._route(anc)
                if f2._raw_lookup(i2) is None:
                    raise _err("ENOENT", path)
        elif must_not_exist:
            raise _err("EEXIST", path)
        if fs is not self:
            fs._put(inner, entry)
            return
        if entry.kind == "dir" and existing is None and self._shadowed_dir(inner):
            entry = replace(entry, opaque=True)
        if existing is not None and existing.is_dir and entry.kind != "dir":
            self._drop_subtree(inner)
        self.upper[inner] = entry
        self._children.clear()

    def _shadowed_dir(self, path: str) -> bool:
        """True when a lower layer had ``path`` but it was deleted (so a new dir must be opaque)."""
        up = self.upper.get(path)
        return up is not None and up.kind == "whiteout"

    def _drop_subtree(self, path: str) -> None:
        prefix = path.rstrip("/") + "/"
        for key in [k for k in self.upper if k.startswith(prefix)]:
            del self.upper[key]
        self._children.clear()

    def write(self, path: str, data: bytes | str, *, mode: int | None = None, append: bool = False,
              uid: int | None = None, gid: int | None = None) -> None:
        """Create or replace (or append to) the file at ``path``; its directory must exist."""
        if isinstance(data, str):
            data = data.encode()
        real = self.resolve(path)
        if real == "/dev/null":
            return
        try:
            old = self.stat(real)
        except FsError:
            old = None
        if old is not None and old.is_dir:
            raise _err("EISDIR", path)
        if append and old is not None:
            data = old.data + data
        new = Entry.file(
            data,
            mode if mode is not None else (old.mode if old else 0o644),
            uid if uid is not None else (old.uid if old else 0),
            gid if gid is not None else (old.gid if old else 0),
        )
        self._put(real, new)

    def mksocket(self, path: str, *, mode: int = 0o660, uid: int = 0, gid: int = 0) -> None:
        """Bind a UNIX socket at ``path`` (replacing a stale one); its directory must exist."""
        real = self.resolve(path)
        try:
            old = self.stat(real)
        except FsError:
            old = None
        if old is not None and old.is_dir:
            raise _err("EISDIR", path)
        self._put(real, Entry.socket(mode, uid, gid))

    def mkdir(self, path: str, *, parents: bool = False, exist_ok: bool = False, mode: int = 0o755,
              uid: int = 0, gid: int = 0) -> None:
        """Make a directory (``parents=True`` is ``mkdir -p``)."""
        path = normpath(path)
        if parents:
            for anc in parent_dirs(path):
                if not self.exists(anc):
                    self._put(self.resolve(anc, follow=False), Entry.directory(mode, uid, gid))
                elif not self.is_dir(anc):
                    raise _err("ENOTDIR", anc)
            exist_ok = True
        if self.lexists(path):
            if exist_ok and self.is_dir(path):
                return
            raise _err("EEXIST", path)
        self._put(self.resolve(path, follow=False), Entry.directory(mode, uid, gid))

    def makedirs(self, path: str, mode: int = 0o755) -> None:
        self.mkdir(path, parents=True, mode=mode)

    def symlink(self, target: str, path: str) -> None:
        if self.lexists(path):
            raise _err("EEXIST", path)
        self._put(self.resolve(path, follow=False), Entry.symlink(target))

    def chmod(self, path: str, mode: int) -> None:
        real = self.resolve(path)
        self._put(real, replace(self.stat(real), mode=mode))

    def chown(self, path: str, uid: int, gid: int) -> None:
        real = self.resolve(path)
        self._put(real, replace(self.stat(real), uid=uid, gid=gid))

    def remove(self, path: str, *, recursive: bool = False) -> None:
        """Delete a file, symlink or (with ``recursive``, or when empty) a directory."""
        real = self.resolve(path, follow=False)
        if real in self.mounts:
            raise _err("EBUSY", path)
        entry = self.stat(real, follow=False)
        if entry.is_dir and self.listdir(real) and not recursive:
            raise _err("ENOTEMPTY", path)
        fs, inner = self._route(real)
        fs._delete(inner)

    def _delete(self, path: str) -> None:
        self._drop_subtree(path)
        self.upper.pop(path, None)
        if FileSystem(self.lowers)._raw_exists(path):
            self.upper[path] = Entry.whiteout()
        self._children.clear()

    def rename(self, src: str, dst: str) -> None:
        """Move ``src`` (a file or a whole tree) to ``dst``."""
        src_real = self.resolve(src, follow=False)
        entry = self.stat(src_real, follow=False)
        items = [(src_real, entry)]
        if entry.is_dir:
            items += list(self.walk(src_real))
        dst_real = normpath(dst)
        if self.is_dir(dst_real) and not entry.is_dir:
            dst_real = normpath(posixpath.join(dst_real, posixpath.basename(src_real)))
        for path, e in items:
            new_path = dst_real + path[len(src_real):]
            self._put(new_path, e)
        self.remove(src_real, recursive=True)

    def copy_from(self, other: "FileSystem", src: str, dst: str) -> int:
        """Copy the file or tree at ``src`` in ``other`` to ``dst`` here; returns files copied."""
        entry = other.stat(src)
        if not entry.is_dir:
            parent = posixpath.dirname(normpath(dst))
            self.mkdir(parent, parents=True, exist_ok=True)
            self._put(self.resolve(dst, follow=False), entry)
            return 1
        self.mkdir(dst, parents=True, exist_ok=True)
        count = 0
        base = other.resolve(src)
        for path, e in other.walk(base):
            target = normpath(dst + path[len(base):])
            if e.is_dir:
                self.mkdir(target, parents=True, exist_ok=True)
            else:
                self._put(target, e)
                count += 1
        return count

    # -- layers ------------------------------------------------------------------
    def diff(self) -> dict[str, Entry]:
        """The changes made on top of the lower layers (whiteouts included), sorted by path."""
        return dict(sorted(self.upper.items()))

    def flatten(self) -> dict[str, Entry]:
        """The merged view (mounts excluded) as one layer."""
        probe = FileSystem(self.lowers, self.upper)
        return {path: replace(entry, opaque=False) if entry.opaque else entry for path, entry in probe.walk("/")}

    def usage(self) -> int:
        """Bytes of file data in the merged view (like ``du -sb /``, mounts excluded)."""
        return sum(e.size for e in self.flatten().values() if e.is_file)
