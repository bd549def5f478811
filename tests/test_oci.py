"""OCI image layouts on the real disk and as tar archives."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile

import pytest

from aivle_k8s.images.image import CONFIG_MEDIA_TYPE, INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, Image, ImageConfig
from aivle_k8s.images.layers import LAYER_MEDIA_TYPE
from aivle_k8s.images.oci import (
    CONTAINERD_NAME_ANNOTATION,
    REF_NAME_ANNOTATION,
    OCILayoutError,
    export_oci_layout,
    import_oci_layout,
    load_oci_archive,
    oci_layout_from_tar,
    oci_layout_to_tar,
    save_oci_archive,
)
from aivle_k8s.linux.fs import Entry
from aivle_k8s.sim.errors import InvalidInput

T0 = "2025-03-03T09:00:00Z"


def image(n: int = 0) -> Image:
    base = Image(ImageConfig(cmd=("sh",), env=("PATH=/bin",)), created=T0)
    base = base.add_layer({"/bin": Entry.directory(), "/bin/sh": Entry.file(b"#!sh\n" * 30, mode=0o755)},
                          "ADD rootfs / # buildkit", T0)
    return base.add_layer({"/app.txt": Entry.file(f"app {n}\n".encode())}, "COPY app.txt / # buildkit", T0)


def read_json(path: str):
    with open(path, "rb") as f:
        return json.loads(f.read())


def test_layout_files_exist(tmp_path):
    export_oci_layout([("docker.io/library/app:1", image())], str(tmp_path))
    assert read_json(tmp_path / "oci-layout") == {"imageLayoutVersion": "1.0.0"}
    assert (tmp_path / "index.json").is_file() and (tmp_path / "blobs" / "sha256").is_dir()


def test_index_annotates_tag_and_full_name(tmp_path):
    img = image()
    export_oci_layout([("docker.io/library/app:1", img)], str(tmp_path))
    index = read_json(tmp_path / "index.json")
    assert index["schemaVersion"] == 2 and index["mediaType"] == INDEX_MEDIA_TYPE
    [desc] = index["manifests"]
    assert desc["mediaType"] == MANIFEST_MEDIA_TYPE and desc["digest"] == img.manifest_digest
    assert desc["size"] == len(img.manifest_json)
    assert desc["annotations"] == {REF_NAME_ANNOTATION: "1", CONTAINERD_NAME_ANNOTATION: "docker.io/library/app:1"}


def test_manifest_and_config_media_types(tmp_path):
    img = image()
    export_oci_layout([("app:1", img)], str(tmp_path))
    manifest = read_json(tmp_path / "blobs" / "sha256" / img.manifest_digest[7:])
    assert manifest["mediaType"] == MANIFEST_MEDIA_TYPE
    assert manifest["config"]["mediaType"] == CONFIG_MEDIA_TYPE
    assert [l["mediaType"] for l in manifest["layers"]] == [LAYER_MEDIA_TYPE] * 2


def test_every_blob_is_named_by_its_sha256(tmp_path):
    export_oci_layout([("app:1", image(1)), ("app:2", image(2))], str(tmp_path))
    blobs = tmp_path / "blobs" / "sha256"
    names = os.listdir(blobs)
    assert len(names) == 2 * 3 + 2 - 1  # 2 manifests + 2 configs + shared base layer + 2 app layers
    for name in names:
        assert hashlib.sha256((blobs / name).read_bytes()).hexdigest() == name


def test_round_trip_keeps_ids_and_digests(tmp_path):
    images = [("docker.io/library/app:1", image(1)), ("localhost:5000/team/app:2", image(2))]
    export_oci_layout(images, str(tmp_path))
    back = import_oci_layout(str(tmp_path))
    assert [(r, i.id, i.manifest_digest) for r, i in back] == \
        [(r, i.id, i.manifest_digest) for r, i in images]
    assert dict(back[0][1].layers[1].entries) == dict(image(1).layers[1].entries)


def test_export_into_an_existing_layout_adds_and_replaces(tmp_path):
    export_oci_layout([("app:1", image(1)), ("app:2", image(2))], str(tmp_path))
    export_oci_layout([("app:2", image(3))], str(tmp_path))
    back = dict(import_oci_layout(str(tmp_path)))
    assert back["docker.io/library/app:1"].id == image(1).id
    assert back["docker.io/library/app:2"].id == image(3).id


def test_corrupted_blob_is_reported_by_digest(tmp_path):
    img = image()
    export_oci_layout([("app:1", img)], str(tmp_path))
    layer_file = tmp_path / "blobs" / "sha256" / img.layers[1].digest[7:]
    data = bytearray(layer_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    layer_file.write_bytes(bytes(data))
    with pytest.raises(OCILayoutError) as exc:
        import_oci_layout(str(tmp_path))
    assert img.layers[1].digest in str(exc.value) and "corrupted" in str(exc.value)
    assert isinstance(exc.value, InvalidInput)


def test_missing_blob_is_reported(tmp_path):
    img = image()
    export_oci_layout([("app:1", img)], str(tmp_path))
    os.remove(tmp_path / "blobs" / "sha256" / img.id[7:])
    with pytest.raises(OCILayoutError, match=f"blob {img.id} not found"):
        import_oci_layout(str(tmp_path))


def test_not_a_layout(tmp_path):
    with pytest.raises(OCILayoutError, match="oci-layout is missing"):
        import_oci_layout(str(tmp_path))
    with pytest.raises(OCILayoutError, match="no such directory"):
        import_oci_layout(str(tmp_path / "nope"))


def test_save_archive_is_reproducible_and_loads_back():
    images = [("app:1", image(1))]
    data = save_oci_archive(images)
    assert data == save_oci_archive(images)
    [(name, img)] = load_oci_archive(data)
    assert name == "docker.io/library/app:1" and img.id == image(1).id


def test_save_archive_has_dockers_manifest_json():
    data = save_oci_archive([("app:1", image(1))])
    tf = tarfile.open(fileobj=io.BytesIO(data))
    manifest = json.loads(tf.extractfile("manifest.json").read())
    assert manifest == [{"Config": f"blobs/sha256/{image(1).id[7:]}", "RepoTags": ["app:1"],
                         "Layers": [f"blobs/sha256/{l.digest[7:]}" for l in image(1).layers]}]
    assert {"oci-layout", "index.json"} <= set(tf.getnames())


def test_layout_directory_to_tar_and_back(tmp_path):
    export_oci_layout([("app:1", image())], str(tmp_path / "a"))
    data = oci_layout_to_tar(str(tmp_path / "a"))
    back = oci_layout_from_tar(data, str(tmp_path / "b"))
    assert back[0][1].id == image().id
    assert import_oci_layout(str(tmp_path / "b"))[0][1].id == image().id


def test_load_rejects_garbage():
    with pytest.raises(OCILayoutError):
        load_oci_archive(b"not a tar at all" * 50)


def test_untagged_image_has_no_annotations(tmp_path):
    export_oci_layout([(None, image())], str(tmp_path))
    [desc] = read_json(tmp_path / "index.json")["manifests"]
    assert "annotations" not in desc
    assert import_oci_layout(str(tmp_path))[0][0] == ""
