"""Images: references, Dockerfiles, layers, the image model, the local store, the builder, OCI layouts.

Submodules are imported on first use (``import aivle_k8s`` stays fast):

* :mod:`.reference`  — ``parse_reference("nginx")`` -> ``docker.io/library/nginx:latest``
* :mod:`.dockerfile` — ``parse_dockerfile(text)``
* :mod:`.layers`     — :class:`Layer` (tar, gzip blob, diff_id, digest), :func:`chain_ids`
* :mod:`.image`      — :class:`ImageConfig`, :class:`Image` (config JSON, id, OCI manifest)
* :mod:`.store`      — :class:`ImageStore` (one per engine: ``docker images``/``tag``/``rmi``)
* :mod:`.builder`    — :class:`Builder` (``docker build`` with BuildKit's cache and log)
* :mod:`.oci`        — OCI image layout export/import (``skopeo``/``umoci`` can read it)
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "reference": ["Reference", "parse_reference", "is_image_id"],
    "dockerfile": ["parse_dockerfile", "Dockerfile"],
    "layers": ["Layer", "LayerError", "layer_tar", "layer_from_tar", "chain_ids", "sha256_digest"],
    "image": ["Image", "ImageConfig", "human_size", "MANIFEST_MEDIA_TYPE", "CONFIG_MEDIA_TYPE",
              "INDEX_MEDIA_TYPE"],
    "store": ["ImageStore", "ImageRow"],
    "builder": ["Builder", "BuildResult", "StepResult", "HistoryRow"],
    "oci": ["export_oci_layout", "import_oci_layout", "oci_layout_to_tar", "oci_layout_from_tar",
            "save_oci_archive", "load_oci_archive"],
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'aivle_k8s.images' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
