"""The local image store of one engine: images by id, tags, repo digests, shared layers.

What ``docker images``, ``docker tag``, ``docker rmi`` and ``docker system df``
work on. Tags are fully qualified references (``docker.io/library/nginx:1.25``)
pointing at image ids; *repo digests* (``nginx@sha256:...``) record the manifest
digest an image had in a registry. Layers are stored once per ``diff_id``,
however many images share them.

Lookups accept every form Docker accepts: ``nginx`` (= ``nginx:latest``),
``nginx:1.25``, ``docker.io/library/nginx:1.25``, ``nginx@sha256:...``, the
full id ``sha256:<64 hex>`` or its 64 hex, or a unique id prefix (``3f2a1c9b``).

>>> from aivle_k8s.images.image import Image, ImageConfig
>>> store = ImageStore()
>>> img = store.add(Image(ImageConfig(cmd=("sh",)), created="2025-03-03T09:00:00Z"), tags=["app:1"])
>>> img
<Image docker.io/library/app:1 sha256:...>
>>> store.get("app:1") == store.get(img.short_id) == store.get(img.id)
True
>>> _ = store.tag("app:1", "app:latest")
>>> store.remove("app")
['Untagged: app:latest']
>>> store.get("app")
Traceback (most recent call last):
...
aivle_k8s.sim.errors.ImageNotFound: No such image: app:latest
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from ..sim.errors import Conflict, ImageNotFound, InvalidInput, InvalidReference
from .image import Image, human_size
from .layers import Layer
from .reference import Reference, parse_reference

__all__ = ["ImageStore", "ImageRow", "DiskUsage", "InUse"]

#: ``in_use(image_id)`` -> ``(container_id, running)`` of a container using the image, or None.
InUse = Callable[[str], "tuple[str, bool] | None"]

_HEX = re.compile(r"[0-9a-f]{1,64}")


@dataclass(frozen=True)
class ImageRow:
    """One line of ``docker images``."""

    repository: str  # familiar name or "<none>"
    tag: str  # tag or "<none>"
    digest: str  # manifest digest or "<none>"
    image_id: str  # 12 hex (the IMAGE ID column)
    id: str  # sha256:<64 hex>
    created: str  # RFC 3339
    size: int  # bytes

    @property
    def size_human(self) -> str:
        return human_size(self.size)


@dataclass(frozen=True)
class DiskUsage:
    """The Images line of ``docker system df``."""

    total: int
    active: int
    size: int
    reclaimable: int

    @property
    def reclaimable_human(self) -> str:
        pct = round(100 * self.reclaimable / self.size) if self.size else 0
        return f"{human_size(self.reclaimable)} ({pct}%)"


class _DeleteConflict(Conflict):
    def __init__(self, short: str, message: str, hard: bool, used: bool):
        force = "cannot be forced" if hard else "must be forced"
        super().__init__(f"conflict: unable to delete {short} ({force}) - {message}", hard=hard, used=used)


class ImageStore:
    """Images by id, references (tags and repo digests) and layers by diff_id.

    ``build_cache`` is the BuildKit cache of every build on this store (the
    :class:`~aivle_k8s.images.builder.Builder` fills it; ``docker builder
    prune`` clears it).
    """

    def __init__(self) -> None:
        self._images: dict[str, Image] = {}  # id -> image (no tags)
        self._refs: dict[Reference, str] = {}  # tag or digest reference -> id
        self._layers: dict[str, Layer] = {}  # diff_id -> layer
        self.build_cache: dict = {}

    def __repr__(self) -> str:
        return f"<ImageStore images={len(self._images)} tags={len(self._refs)} layers={len(self._layers)}>"

    def __len__(self) -> int:
        return len(self._images)

    def __iter__(self) -> Iterator[Image]:
        return iter(self.images())

    def __contains__(self, ref: object) -> bool:
        try:
            self.get(ref)  # type: ignore[arg-type]
            return True
        except (ImageNotFound, InvalidInput):
            return False

    # -- adding ----------------------------------------------------------------------
    def add(self, image: Image, tags: Iterable[str | Reference] = (),
            repo_digests: Iterable[str | Reference] = ()) -> Image:
        """Store ``image`` (its layers are shared by diff_id) and point ``tags`` at it.

        Args:
            tags: references to (re)point at the image, e.g. ``"app:1"``.
            repo_digests: digest references it is known by (``nginx@sha256:...``).

        Returns:
            The stored image, with its tags.

        Raises:
            InvalidReference: a tag is not a valid reference.
        """
        tag_refs = [self._tag_ref(t) for t in tags]
        digest_refs = [self._digest_ref(d) for d in repo_digests]
        layers = []
        for layer in image.layers:
            have = self._layers.get(layer.diff_id)
            if have is None:
                self._layers[layer.diff_id] = layer
                layers.append(layer)
            elif have is layer or image.raw_manifest is None or have.digest == layer.digest:
                layers.append(have)
            else:
                layers.append(layer)  # same content, other compression: keep the manifest's blob
        stored = self._images.get(image.id)
        if stored is None:
            stored = image.with_tags(()) if image.tags else image
            if any(a is not b for a, b in zip(layers, image.layers)):
                stored = Image(stored.config, tuple(layers), stored.history, stored.created,
                               raw_config=stored.config_json, raw_manifest=stored.raw_manifest)
            self._images[stored.id] = stored
        for ref in tag_refs + digest_refs:
            self._refs[ref] = stored.id
        return self._view(stored.id)

    def add_repo_digest(self, ref: str | Reference, image: Image | str) -> None:
        """Record that ``image`` is ``ref`` (``name@sha256:...``) in a registry."""
        image_id = self.resolve(image)
        self._refs[self._digest_ref(ref)] = image_id

    def tag(self, source: str | Image, target: str | Reference) -> Image:
        """``docker tag SOURCE TARGET``: point ``target`` at the image ``source`` names.

        Raises:
            ImageNotFound: ``source`` is not in the store.
            InvalidReference: ``target`` is not a valid name or carries a digest.
        """
        image_id = self.resolve(source)
        ref = self._tag_ref(target)
        self._refs[ref] = image_id
        return self._view(image_id)

    @staticmethod
    def _tag_ref(target: str | Reference) -> Reference:
        ref = target if isinstance(target, Reference) else parse_reference(str(target))
        if ref.digest is not None:
            raise InvalidReference(f"refusing to create a tag with a digest reference: {target}; "
                                   "give a name with a :tag instead", reference=str(target), part="digest")
        return ref

    @staticmethod
    def _digest_ref(text: str | Reference) -> Reference:
        ref = text if isinstance(text, Reference) else parse_reference(str(text))
        if ref.digest is None:
            raise InvalidReference(f"not a digest reference: {text}; expected NAME@sha256:...",
                                   reference=str(text), part="digest")
        return Reference(ref.domain, ref.path, None, ref.digest)

    # -- lookups -----------------------------------------------------------------------
    def resolve(self, ref: str | Reference | Image) -> str:
        """The id of the image ``ref`` names (any form ``get`` accepts)."""
        image_id, _ = self._resolve(ref)
        return image_id

    def _resolve(self, ref: str | Reference | Image) -> tuple[str, bool]:
        """(image id, True when ``ref`` was given as an id or id prefix)."""
        if isinstance(ref, Image):
            if ref.id in self._images:
                return ref.id, True
            raise ImageNotFound(f"No such image: {ref.id}")
        if isinstance(ref, Reference):
            return self._by_reference(ref, str(ref)), False
        text = str(ref).strip()
        if text.startswith("sha256:"):
            return self._by_id_prefix(text[len("sha256:"):], text), True
        if len(text) == 64 and _HEX.fullmatch(text):
            return self._by_id_prefix(text, text), True
        parsed = parse_reference(text)
        try:
            return self._by_reference(parsed, text), False
        except ImageNotFound:
            if _HEX.fullmatch(text):
                found = self._id_prefix_matches(text)
                if found:
                    return self._by_id_prefix(text, text), True
            raise

    def _by_reference(self, ref: Reference, text: str) -> str:
        if ref.digest is not None:
            key = Reference(ref.domain, ref.path, None, ref.digest)
            image_id = self._refs.get(key)
            if image_id is not None and (ref.tag is None or self._refs.get(
                    Reference(ref.domain, ref.path, ref.tag, None)) in (None, image_id)):
                return image_id
        else:
            image_id = self._refs.get(ref)
            if image_id is not None:
                return image_id
        raise ImageNotFound(f"No such image: {ref.familiar_string}", reference=text)

    def _id_prefix_matches(self, prefix: str) -> list[str]:
        return [i for i in self._images if i[len("sha256:"):].startswith(prefix)]

    def _by_id_prefix(self, prefix: str, text: str) -> str:
        if not _HEX.fullmatch(prefix):
            raise ImageNotFound(f"No such image: {text}", reference=text)
        found = self._id_prefix_matches(prefix)
        if not found:
            raise ImageNotFound(f"No such image: {text}", reference=text)
        if len(found) > 1:
            raise InvalidInput(f"ambiguous digest string: {text} is the start of {len(found)} image IDs; "
                               "type more characters of the ID")
        return found[0]

    def get(self, ref: str | Reference | Image) -> Image:
        """The image ``ref`` names: a name, name:tag, name@digest, full id, or unique id prefix.

        Raises:
            ImageNotFound: ``No such image: nginx:1.25`` (Docker's words).
            InvalidReference: ``ref`` is neither a valid name nor an id.
        """
        return self._view(self.resolve(ref))

    def exists(self, ref: str | Reference | Image) -> bool:
        return ref in self

    def by_id(self, image_id: str) -> Image:
        """The image with exactly this id (``sha256:...``)."""
        if image_id not in self._images:
            raise ImageNotFound(f"No such image: {image_id}")
        return self._view(image_id)

    def _view(self, image_id: str) -> Image:
        image = self._images[image_id]
        tags = self.tags_of(image_id)
        return image.with_tags(tags) if tags else image

    def images(self) -> list[Image]:
        """Every image, newest first (ties by id)."""
        ids = sorted(self._images, key=lambda i: (self._images[i].created, i), reverse=True)
        return [self._view(i) for i in ids]

    def tags_of(self, image: str | Image) -> list[str]:
        """Fully qualified tags of an image, sorted like Docker's RepoTags."""
        image_id = image.id if isinstance(image, Image) else image
        refs = [r for r, i in self._refs.items() if i == image_id and r.digest is None]
        return [str(r) for r in sorted(refs, key=lambda r: r.familiar_string)]

    def repo_tags(self, image: str | Image) -> list[str]:
        """Familiar tags (``RepoTags`` of ``docker image inspect``: ``nginx:1.25``)."""
        image_id = self.resolve(image)
        return [parse_reference(t).familiar_string for t in self.tags_of(image_id)]

    def repo_digests(self, image: str | Image) -> list[str]:
        """``RepoDigests`` of ``docker image inspect``: ``nginx@sha256:...``."""
        image_id = self.resolve(image)
        refs = [r for r, i in self._refs.items() if i == image_id and r.digest is not None]
        return sorted(r.familiar_string for r in refs)

    def references(self) -> dict[str, str]:
        """Every reference (fully qualified) -> image id."""
        return {str(r): i for r, i in self._refs.items()}

    # -- layers --------------------------------------------------------------------------
    def has_layer(self, diff_id: str) -> bool:
        """True when a layer with this diff_id is stored (a pull can skip it)."""
        return diff_id in self._layers

    def layer(self, diff_id: str) -> Layer:
        try:
            return self._layers[diff_id]
        except KeyError:
            raise ImageNotFound(f"layer does not exist: {diff_id}") from None

    def layers(self) -> list[Layer]:
        return list(self._layers.values())

    def layers_bytes(self) -> int:
        """Bytes of file content in the stored layers, each shared layer counted once."""
        return sum(layer.content_size for layer in self._layers.values())

    def disk_usage(self, in_use: Iterable[str] = ()) -> DiskUsage:
        """``docker system df`` for images; ``in_use`` lists ids of images containers use."""
        active_ids = {self.resolve(i) for i in in_use if self.exists(i)}
        used_layers = {d for i in active_ids for d in self._images[i].diff_ids}
        size = self.layers_bytes()
        used = sum(self._layers[d].content_size for d in used_layers if d in self._layers)
        return DiskUsage(len(self._images), len(active_ids), size, size - used)

    # -- listing --------------------------------------------------------------------------
    def list(self, reference: str | None = None, dangling: bool | None = None) -> list[ImageRow]:
        """Rows of ``docker images [REPOSITORY[:TAG]]``: one per tag, untagged images as ``<none>``.

        Newest first; an image's tags sorted by name.
        """
        want_repo = want_tag = None
        if reference:
            ref = parse_reference(reference)
            want_repo = ref.name
            want_tag = ref.tag if ":" in reference.rsplit("/", 1)[-1] else None
        rows: list[ImageRow] = []
        for image in self.images():
            tag_refs = [r for r, i in self._refs.items() if i == image.id and r.digest is None]
            dig_refs = [r for r, i in self._refs.items() if i == image.id and r.digest is not None]
            is_dangling = not tag_refs and not dig_refs
            if dangling is not None and dangling != is_dangling:
                continue
            entries: list[tuple[Reference | None, str, str]] = []
            for r in sorted(tag_refs, key=lambda r: r.familiar_string):
                digest = next((d.digest for d in dig_refs if d.name == r.name), None)
                entries.append((r, r.tag or "<none>", digest or "<none>"))
            tagged_names = {r.name for r in tag_refs}
            for d in sorted(dig_refs, key=lambda r: r.familiar_string):
                if d.name not in tagged_names:
                    entries.append((d, "<none>", d.digest or "<none>"))
                    tagged_names.add(d.name)
            if not entries:
                entries.append((None, "<none>", "<none>"))
            for r, tag, digest in entries:
                if want_repo is not None and (r is None or r.name != want_repo):
                    continue
                if want_tag is not None and tag != want_tag:
                    continue
                rows.append(ImageRow(r.familiar if r is not None else "<none>", tag, digest,
                                     image.short_id, image.id, image.created, image.size))
        return rows

    # -- removing --------------------------------------------------------------------------
    def untag(self, ref: str | Reference) -> str:
        """Remove one tag (the image stays, maybe dangling); returns ``Untagged: nginx:1.25``.

        Raises:
            ImageNotFound: no such tag.
        """
        parsed = ref if isinstance(ref, Reference) else parse_reference(str(ref))
        key = parsed if parsed.digest is None else Reference(parsed.domain, parsed.path, None, parsed.digest)
        if key not in self._refs:
            raise ImageNotFound(f"No such image: {parsed.familiar_string}")
        del self._refs[key]
        return f"Untagged: {key.familiar_string}"

    def remove(self, ref: str | Reference | Image, force: bool = False, in_use: InUse | None = None) -> list[str]:
        """``docker rmi [-f] REF``: untag, and delete the image when nothing references it.

        Args:
            ref: a name (removes that reference) or an id / id prefix (removes the image).
            force: ``-f``: remove an image with several tags or used by a stopped container.
            in_use: ``in_use(image_id) -> (container_id, running) | None``.

        Returns:
            Docker's lines: ``Untagged: nginx:1.25``, ``Untagged: nginx@sha256:...``,
            ``Deleted: sha256:<image id>``, ``Deleted: sha256:<chain id>`` per freed layer.

        Raises:
            ImageNotFound: nothing has that name or id.
            Conflict: Docker's ``conflict: unable to delete ...`` cases; nothing is changed.
        """
        image_id, by_id = self._resolve(ref)
        in_use = in_use or (lambda _id: None)
        short = image_id.split(":", 1)[1][:12]
        records: list[str] = []
        quiet = False
        if not by_id:
            parsed = ref if isinstance(ref, Reference) else parse_reference(str(ref))
            key = parsed if parsed.digest is None else Reference(parsed.domain, parsed.path, None, parsed.digest)
            refs = self._refs_of(image_id)
            user = in_use(image_id)
            if user is not None and len(refs) == 1 and not force:
                raise Conflict(f'conflict: unable to remove repository reference "{parsed.familiar_string}" '
                               f"(must force) - container {user[0][:12]} is using its referenced image {short}")
            records.append(self.untag(key))
            if key.digest is None and not any(r.digest is None and r.name == key.name
                                              for r in self._refs_of(image_id)):
                for r in self._refs_of(image_id):
                    if r.digest is not None and r.name == key.name:
                        records.append(self.untag(r))
            if self._refs_of(image_id):
                return records
            quiet = True
        else:
            refs = self._refs_of(image_id)
            if self._single_reference(refs):
                self._check_conflicts(image_id, in_use, hard_only=force, references=False)
                for r in refs:
                    records.append(self.untag(r))
        try:
            self._check_conflicts(image_id, in_use, hard_only=force, references=True)
        except _DeleteConflict as conflict:
            if quiet and conflict.used:
                return records  # the untag stands; the image stays (dangling) for its container
            raise
        for r in self._refs_of(image_id):
            records.append(self.untag(r))
        records += self._delete(image_id)
        return records

    def _refs_of(self, image_id: str) -> list[Reference]:
        refs = [r for r, i in self._refs.items() if i == image_id]
        return sorted(refs, key=lambda r: (r.digest is not None, r.familiar_string))

    @staticmethod
    def _single_reference(refs: list[Reference]) -> bool:
        """Docker's isSingleReference: one tag, plus digest references of that same repository."""
        if len(refs) <= 1:
            return len(refs) == 1
        tagged = [r for r in refs if r.digest is None]
        if len(tagged) > 1:
            return False
        single = tagged[0] if tagged else refs[0]
        digest_names = {r.name for r in refs if r.digest is not None}
        return digest_names == {single.name}

    def _check_conflicts(self, image_id: str, in_use: InUse, hard_only: bool, references: bool) -> None:
        short = image_id.split(":", 1)[1][:12]
        user = in_use(image_id)
        if user is not None and user[1]:
            raise _DeleteConflict(short, f"image is being used by running container {user[0][:12]}",
                                  hard=True, used=True)
        if hard_only:
            return
        if references and self._refs_of(image_id):
            raise _DeleteConflict(short, "image is referenced in multiple repositories", hard=False, used=False)
        if user is not None:
            raise _DeleteConflict(short, f"image is being used by stopped container {user[0][:12]}",
                                  hard=False, used=True)

    def _delete(self, image_id: str) -> list[str]:
        image = self._images.pop(image_id)
        records = [f"Deleted: {image_id}"]
        remaining_chains = {c for other in self._images.values() for c in other.chain_ids}
        for chain in reversed(image.chain_ids):
            if chain not in remaining_chains:
                records.append(f"Deleted: {chain}")
                remaining_chains.add(chain)
        still_used = {d for other in self._images.values() for d in other.diff_ids}
        for diff_id in set(image.diff_ids) - still_used:
            self._layers.pop(diff_id, None)
        return records

    def prune(self, all: bool = False, in_use: InUse | None = None) -> tuple[list[str], int]:
        """``docker image prune [-a]``: remove dangling (or, with ``all``, unused) images.

        Returns:
            (Docker's Untagged/Deleted lines, bytes of layer content reclaimed).
        """
        in_use = in_use or (lambda _id: None)
        before = self.layers_bytes()
        records: list[str] = []
        for image in self.images():
            if in_use(image.id) is not None:
                continue
            if not all and self._refs_of(image.id):
                continue
            for r in self._refs_of(image.id):
                records.append(self.untag(r))
            records += self._delete(image.id)
        return records, before - self.layers_bytes()
