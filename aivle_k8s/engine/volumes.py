"""Docker volumes: data that outlives the container using it.

A named volume is a filesystem of its own kept by the engine. Mounted into a
container (``-v data:/data``) it is seen through the container's root
filesystem, but it is not part of the container's writable layer: removing
the container loses what it wrote to its own layer and keeps what it wrote to
the volume. On the host the volume's files live under
``/var/lib/docker/volumes/<name>/_data`` (readable with ``sudo``).

>>> import aivle_k8s as ak
>>> from aivle_k8s.engine import Engine
>>> engine = Engine(ak.World(seed=0).machine("host"))
>>> vol = engine.volumes.create("data")
>>> vol.mountpoint
'/var/lib/docker/volumes/data/_data'
>>> vol.fs.write("/note.txt", "kept\\n")
>>> engine.machine.fs.read("/var/lib/docker/volumes/data/_data/note.txt")
b'kept\\n'
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..linux.fs import FileSystem
from ..sim.errors import Conflict, InvalidInput, VolumeNotFound

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Engine

__all__ = ["Volume", "VolumeCollection", "VOLUME_NAME"]

#: What a local volume name may look like (dockerd's ``RestrictedNamePattern``).
VOLUME_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


class Volume:
    """One volume: a name, a driver (``local``) and a filesystem that holds its data."""

    def __init__(self, collection: "VolumeCollection", name: str, *, labels: dict | None = None,
                 anonymous: bool = False, driver: str = "local"):
        self.collection = collection
        self.name = name
        self.driver = driver
        self.labels = dict(labels or {})
        self.anonymous = anonymous
        self.fs = FileSystem()
        self.created = collection.engine.loop.now

    def __repr__(self) -> str:
        return f"<Volume: {self.name[:12] if self.anonymous else self.name}>"

    @property
    def id(self) -> str:
        return self.name

    @property
    def short_id(self) -> str:
        return self.name[:12]

    @property
    def mountpoint(self) -> str:
        return f"{self.collection.engine.root}/volumes/{self.name}/_data"

    @property
    def usage(self) -> int:
        """Bytes of file data in the volume."""
        return sum(e.size for _, e in self.fs.walk("/") if e.is_file)

    @property
    def empty(self) -> bool:
        return not self.fs.listdir("/")

    @property
    def attrs(self) -> dict:
        world = self.collection.engine.world
        labels = dict(self.labels)
        if self.anonymous:
            labels.setdefault("com.docker.volume.anonymous", "")
        return {"CreatedAt": world.datetime(self.created).strftime("%Y-%m-%dT%H:%M:%SZ"), "Driver": self.driver,
                "Labels": labels or None, "Mountpoint": self.mountpoint, "Name": self.name,
                "Options": None, "Scope": "local"}

    def users(self) -> list[str]:
        """Ids of the containers (any state) that mount this volume."""
        return [c.id for c in self.collection.engine.containers._all() if self.name in c._volume_names()]

    def remove(self, force: bool = False) -> None:
        """``docker volume rm``.

        Raises:
            Conflict: a container (running or stopped) still uses it.
        """
        self.collection.remove(self.name, force=force)

    def reload(self) -> None:
        return None


class VolumeCollection:
    """``docker volume ...`` on one engine."""

    def __init__(self, engine: "Engine"):
        self.engine = engine
        self._volumes: dict[str, Volume] = {}

    def __iter__(self):
        return iter(self.list())

    def create(self, name: str | None = None, driver: str | None = None, driver_opts: dict | None = None,
               labels: dict | None = None, **_: Any) -> Volume:
        """``docker volume create [NAME]`` (an existing name returns the existing volume, like dockerd).

        Raises:
            InvalidInput: the name has characters a volume name cannot have.
        """
        self.engine._check()
        return self._create(name, labels=labels, driver=driver or "local")

    def _create(self, name: str | None, *, labels: dict | None = None, driver: str = "local") -> Volume:
        anonymous = name is None
        if name is None:
            name = self.engine._new_id()
        check_volume_name(name)
        if name in self._volumes:
            return self._volumes[name]
        if driver != "local":
            raise InvalidInput(f"error looking up volume plugin {driver}: plugin \"{driver}\" not found")
        vol = Volume(self, name, labels=labels, anonymous=anonymous, driver=driver)
        self._volumes[name] = vol
        machine_fs = self.engine.machine.fs
        self.engine._ensure_root()
        machine_fs.makedirs(f"{self.engine.root}/volumes/{name}", mode=0o701)
        machine_fs.mount(vol.mountpoint, vol.fs)
        return vol

    def get(self, volume_id: str) -> Volume:
        """Raises VolumeNotFound(``get x: no such volume``)."""
        self.engine._check()
        vol = self._volumes.get(volume_id)
        if vol is None:
            raise VolumeNotFound(f"get {volume_id}: no such volume")
        return vol

    def list(self, filters: dict | None = None) -> list[Volume]:
        """Every volume by name (``docker volume ls``)."""
        self.engine._check()
        vols = sorted(self._volumes.values(), key=lambda v: v.name)
        for key, value in (filters or {}).items():
            values = value if isinstance(value, list) else [value]
            if key == "dangling":
                want = str(values[0]).lower() in ("1", "true")
                vols = [v for v in vols if (not v.users()) == want]
            elif key == "name":
                vols = [v for v in vols if any(x in v.name for x in values)]
        return vols

    def remove(self, name: str, force: bool = False) -> None:
        """``docker volume rm NAME``.

        Raises:
            VolumeNotFound: no such volume (ignored with ``force``).
            Conflict: ``remove data: volume is in use - [<container id>]``.
        """
        self.engine._check()
        vol = self._volumes.get(name)
        if vol is None:
            if force:
                return
            raise VolumeNotFound(f"get {name}: no such volume")
        users = vol.users()
        if users:
            raise Conflict(f"remove {name}: volume is in use - [{', '.join(users)}]")
        self._delete(vol)

    def _delete(self, vol: Volume) -> None:
        self._volumes.pop(vol.name, None)
        machine_fs = self.engine.machine.fs
        machine_fs.umount(vol.mountpoint)
        base = f"{self.engine.root}/volumes/{vol.name}"
        if machine_fs.exists(base):
            machine_fs.remove(base, recursive=True)

    def prune(self, filters: dict | None = None, all: bool = False) -> dict:
        """Remove unused anonymous volumes (every unused volume with ``all=True``), like Docker 23+."""
        self.engine._check()
        deleted, space = [], 0
        for vol in sorted(self._volumes.values(), key=lambda v: v.name):
            if vol.users() or not (all or vol.anonymous):
                continue
            space += vol.usage
            self._delete(vol)
            deleted.append(vol.name)
        return {"VolumesDeleted": deleted or None, "SpaceReclaimed": space}


def check_volume_name(name: str) -> None:
    """Raise InvalidInput unless ``name`` is a valid local volume name."""
    if not VOLUME_NAME.match(name):
        raise InvalidInput(f'create {name}: "{name}" includes invalid characters for a local volume name, only '
                           f'"[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, '
                           f'use absolute path')


def prepopulate(volume: Volume, source_fs: FileSystem, path: str) -> int:
    """Copy the image's content at ``path`` into an empty volume (what Docker does on first mount)."""
    if not volume.empty or not source_fs.is_dir(path) or not source_fs.listdir(path):
        return 0
    return volume.fs.copy_from(source_fs, path, "/")

