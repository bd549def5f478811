"""OCI image layouts: images as a directory (or a tar) that ``skopeo``, ``umoci`` and ``docker load`` read.

An OCI image layout is::

    oci-layout            {"imageLayoutVersion":"1.0.0"}
    index.json            an image index: one manifest descriptor per tagged image,
                          tag in the annotation "org.opencontainers.image.ref.name",
                          full name in "io.containerd.image.name"
    blobs/sha256/<hex>    every config, manifest and layer, named by its sha256

``export_oci_layout`` writes one on the real disk (``skopeo inspect
oci:DIR:1.25`` works on it); ``import_oci_layout`` reads one back and checks
that every blob's sha256 matches its name. ``save_oci_archive`` /
``load_oci_archive`` do the same with a tar in memory (``docker save`` /
``docker load``; a Docker-style ``manifest.json`` is included too).

>>> import tempfile
>>> from aivle_k8s.images.image import Image, ImageConfig
>>> img = Image(ImageConfig(cmd=("sh",)), created="2025-03-03T09:00:00Z")
>>> with tempfile.TemporaryDirectory() as d:
...     _ = export_oci_layout([("docker.io/library/app:1", img)], d)
...     [(ref, i.id == img.id) for ref, i in import_oci_layout(d)]
[('docker.io/library/app:1', True)]
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from typing import Callable, Iterable, Mapping

from ..sim.errors import InvalidInput
from .image import INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, Image
from .layers import Layer, LayerError, sha256_digest
from .reference import parse_reference

__all__ = [
    "export_oci_layout",
    "import_oci_layout",
    "oci_layout_files",
    "save_oci_archive",
    "load_oci_archive",
    "oci_layout_to_tar",
    "oci_layout_from_tar",
    "OCILayoutError",
    "REF_NAME_ANNOTATION",
    "CONTAINERD_NAME_ANNOTATION",
]

REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"
CONTAINERD_NAME_ANNOTATION = "io.containerd.image.name"
_LAYOUT = b'{"imageLayoutVersion":"1.0.0"}'
_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


class OCILayoutError(InvalidInput):
    """An OCI layout is missing a file or holds a blob whose content does not match its digest."""


def _blob_path(digest: str) -> str:
    algorithm, _, hexpart = digest.partition(":")
    return f"blobs/{algorithm}/{hexpart}"


def oci_layout_files(images: Iterable[tuple[str | None, Image]]) -> dict[str, bytes]:
    """The files of an OCI layout holding ``images`` (``(reference or None, image)`` pairs).

    Also writes Docker's ``manifest.json`` so ``docker load`` accepts the tar.
    """
    files: dict[str, bytes] = {"oci-layout": _LAYOUT}
    manifests: list[dict] = []
    docker_manifest: list[dict] = []
    for ref_text, image in images:
        files[_blob_path(image.id)] = image.config_json
        for layer in image.layers:
            files[_blob_path(layer.digest)] = layer.blob
        manifest = image.manifest_json
        files[_blob_path(image.manifest_digest)] = manifest
        desc: dict = {"mediaType": image.manifest_media_type, "digest": image.manifest_digest,
                      "size": len(manifest)}
        repo_tags: list[str] = []
        if ref_text:
            ref = parse_reference(str(ref_text))
            desc["annotations"] = {CONTAINERD_NAME_ANNOTATION: str(ref)}
            if ref.tag:
                desc["annotations"][REF_NAME_ANNOTATION] = ref.tag
                repo_tags.append(ref.familiar_string)
        manifests.append(desc)
        docker_manifest.append({"Config": _blob_path(image.id), "RepoTags": repo_tags,
                                "Layers": [_blob_path(layer.digest) for layer in image.layers]})
    index = {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": manifests}
    files["index.json"] = json.dumps(index, separators=(",", ":")).encode()
    files["manifest.json"] = json.dumps(docker_manifest, separators=(",", ":")).encode()
    return files


def export_oci_layout(images: Iterable[tuple[str | None, Image]], path: str) -> dict:
    """Write an OCI image layout at ``path`` (a real directory; created if missing).

    An existing layout there is extended: its other images stay, an image with
    the same reference is replaced (like ``skopeo copy ... oci:DIR:TAG``).

    Args:
        images: ``(reference, image)`` pairs, e.g. ``("docker.io/library/nginx:1.25", img)``.
        path: the layout directory.

    Returns:
        The ``index.json`` written.
    """
    files = oci_layout_files(images)
    new_index = json.loads(files.pop("index.json"))
    files.pop("manifest.json")
    os.makedirs(path, exist_ok=True)
    old_path = os.path.join(path, "index.json")
    manifests = new_index["manifests"]
    if os.path.exists(old_path):
        with open(old_path, "rb") as f:
            old = json.loads(f.read())
        names = {(m.get("annotations") or {}).get(CONTAINERD_NAME_ANNOTATION) for m in manifests} - {None}
        tags = {(m.get("annotations") or {}).get(REF_NAME_ANNOTATION) for m in manifests} - {None}
        kept = [m for m in old.get("manifests") or []
                if (m.get("annotations") or {}).get(CONTAINERD_NAME_ANNOTATION) not in names
                and (m.get("annotations") or {}).get(REF_NAME_ANNOTATION) not in tags]
        manifests = kept + manifests
    index = {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": manifests}
    files["index.json"] = json.dumps(index, separators=(",", ":")).encode()
    for name, data in sorted(files.items()):
        full = os.path.join(path, *name.split("/"))
        if name.startswith("blobs/") and os.path.exists(full):
            continue
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
    return index


def _read_layout(get: Callable[[str], bytes | None], where: str) -> list[tuple[str, Image]]:
    layout = get("oci-layout")
    if layout is None:
        raise OCILayoutError(f"{where} is not an OCI image layout: oci-layout is missing")
    try:
        version = json.loads(layout).get("imageLayoutVersion")
    except ValueError:
        version = None
    if version != "1.0.0":
        raise OCILayoutError(f"{where}: unsupported imageLayoutVersion {version!r} (expected \"1.0.0\")")
    index_bytes = get("index.json")
    if index_bytes is None:
        raise OCILayoutError(f"{where} is not an OCI image layout: index.json is missing")
    try:
        index = json.loads(index_bytes)
    except ValueError:
        raise OCILayoutError(f"{where}: index.json is not valid JSON") from None

    def blob(digest: str) -> bytes:
        data = get(_blob_path(digest))
        if data is None:
            raise OCILayoutError(f"{where}: blob {digest} not found (expected {_blob_path(digest)})",
                                 digest=digest)
        actual = sha256_digest(data)
        if actual != digest:
            raise OCILayoutError(f"{where}: blob {digest} is corrupted: its content has digest {actual}",
                                 digest=digest)
        return data

    def load(desc: Mapping, annotations: Mapping) -> list[tuple[str, Image]]:
        media_type = desc.get("mediaType") or MANIFEST_MEDIA_TYPE
        data = blob(desc["digest"])
        doc = json.loads(data)
        if media_type in (INDEX_MEDIA_TYPE, _DOCKER_LIST) or "manifests" in doc:
            out = []
            for m in doc.get("manifests") or []:
                p = m.get("platform") or {}
                if p and (p.get("architecture"), p.get("os")) != ("amd64", "linux"):
                    continue
                out += load(m, {**(m.get("annotations") or {}), **annotations})
            return out
        config = blob(doc["config"]["digest"])
        layers = []
        for d in doc.get("layers") or []:
            try:
                layers.append(Layer.from_blob(blob(d["digest"]), d.get("mediaType") or ""))
            except LayerError as e:
                raise OCILayoutError(f"{where}: layer {d['digest']}: {e.message}", digest=d["digest"]) from None
        try:
            image = Image.from_config_json(config, layers, manifest_json=data)
        except InvalidInput as e:
            raise OCILayoutError(f"{where}: image {desc['digest']}: {e.message}") from None
        name = annotations.get(CONTAINERD_NAME_ANNOTATION) or annotations.get(REF_NAME_ANNOTATION) or ""
        return [(name, image)]

    images: list[tuple[str, Image]] = []
    for desc in index.get("manifests") or []:
        images += load(desc, desc.get("annotations") or {})
    return images


def import_oci_layout(path: str) -> list[tuple[str, Image]]:
    """Read every image of the OCI layout at ``path``: ``(reference, image)`` pairs.

    The reference is the ``io.containerd.image.name`` annotation, else the
    ``org.opencontainers.image.ref.name`` (a tag), else ``""``.

    Raises:
        OCILayoutError: a file is missing or a blob does not match its digest (named in the message).
    """
    def get(name: str) -> bytes | None:
        full = os.path.join(path, *name.split("/"))
        if not os.path.isfile(full):
            return None
        with open(full, "rb") as f:
            return f.read()

    if not os.path.isdir(path):
        raise OCILayoutError(f"{path}: no such directory")
    return _read_layout(get, path)


def _tar_files(files: Mapping[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        dirs = sorted({"/".join(name.split("/")[:i]) for name in files for i in range(1, name.count("/") + 1)})
        for d in dirs:
            info = tarfile.TarInfo(d)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
            tf.addfile(info)
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(files[name]), 0o644, 0
            tf.addfile(info, io.BytesIO(files[name]))
    return buf.getvalue()


def _untar_files(data: bytes) -> dict[str, bytes]:
    try:
        tf = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")
        out: dict[str, bytes] = {}
        for m in tf.getmembers():
            if m.isfile():
                name = m.name.lstrip("./")
                if name.startswith("/") or ".." in name.split("/"):
                    raise OCILayoutError(f"invalid archive: unsafe path {m.name!r}")
                f = tf.extractfile(m)
                out[name] = f.read() if f else b""
        return out
    except tarfile.TarError as e:
        raise OCILayoutError(f"invalid archive: not a tar file ({e})") from None


def save_oci_archive(images: Iterable[tuple[str | None, Image]]) -> bytes:
    """``docker save``: a reproducible tar of an OCI layout (plus Docker's manifest.json)."""
    return _tar_files(oci_layout_files(images))


def load_oci_archive(data: bytes) -> list[tuple[str, Image]]:
    """``docker load``: the images of a tar made by :func:`save_oci_archive` (or skopeo/docker)."""
    files = _untar_files(data)
    return _read_layout(files.get, "archive")


def oci_layout_to_tar(path: str) -> bytes:
    """A tar of the OCI layout directory at ``path`` (checked first)."""
    import_oci_layout(path)
    files: dict[str, bytes] = {}
    for root, _dirs, names in os.walk(path):
        for name in names:
            full = os.path.join(root, name)
            rel = os.path.relpath(full, path).replace(os.sep, "/")
            with open(full, "rb") as f:
                files[rel] = f.read()
    return _tar_files(files)


def oci_layout_from_tar(data: bytes, path: str) -> list[tuple[str, Image]]:
    """Unpack a layout tar into the directory ``path`` (checked first); returns its images."""
    files = _untar_files(data)
    images = _read_layout(files.get, "archive")
    for name, content in sorted(files.items()):
        full = os.path.join(path, *name.split("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(content)
    return images
