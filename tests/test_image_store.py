"""The image model (config JSON, ids, manifests) and the local image store."""

from __future__ import annotations

import hashlib
import json

import pytest

from aivle_k8s.images.image import (
    CONFIG_MEDIA_TYPE,
    MANIFEST_MEDIA_TYPE,
    Image,
    ImageConfig,
    created_ago,
    human_duration,
    human_size,
)
from aivle_k8s.images.layers import LAYER_MEDIA_TYPE, Layer
from aivle_k8s.images.store import ImageStore
from aivle_k8s.linux.fs import Entry, FileSystem
from aivle_k8s.sim.errors import Conflict, ImageNotFound, InvalidInput, InvalidReference

T0 = "2025-03-03T09:00:00Z"
T1 = "2025-03-03T10:00:00Z"


def base_image() -> Image:
    rootfs = {"/etc": Entry.directory(), "/etc/os-release": Entry.file(b"ID=test\n"),
              "/bin": Entry.directory(), "/bin/sh": Entry.file(b"sh" * 50, mode=0o755)}
    img = Image(ImageConfig(env=("PATH=/usr/bin:/bin",), cmd=("sh",)), created=T0)
    return img.add_layer(rootfs, "ADD rootfs.tar / # buildkit", T0)


def app_image(content: bytes = b"print('hi')\n") -> Image:
    return base_image().add_layer({"/app": Entry.directory(), "/app/app.py": Entry.file(content)},
                                  "COPY app.py /app/ # buildkit", T1).with_config(cmd=("python", "/app/app.py"))


# -- ImageConfig and Image ------------------------------------------------------------------
def test_config_json_is_canonical():
    data = base_image().config_json
    doc = json.loads(data)
    assert json.dumps(doc, sort_keys=True, separators=(",", ":")).encode() == data
    assert doc["architecture"] == "amd64" and doc["os"] == "linux"
    assert doc["config"]["Env"] == ["PATH=/usr/bin:/bin"] and doc["config"]["Cmd"] == ["sh"]
    assert doc["rootfs"] == {"type": "layers", "diff_ids": [base_image().layers[0].diff_id]}
    assert doc["history"][0]["created_by"] == "ADD rootfs.tar / # buildkit"
    assert doc["created"] == T0


def test_image_id_is_the_config_digest():
    img = base_image()
    assert img.id == "sha256:" + hashlib.sha256(img.config_json).hexdigest()
    assert img.short_id == img.id[7:19]


def test_ids_are_stable_across_runs():
    # regression guard: these bytes must never change between runs or machines
    assert base_image().id == base_image().id
    assert base_image().layers[0].diff_id == \
        "sha256:" + hashlib.sha256(base_image().layers[0].tar).hexdigest()
    assert Image().id == "sha256:" + hashlib.sha256(
        b'{"architecture":"amd64","config":{},"history":[],"os":"linux",'
        b'"rootfs":{"diff_ids":[],"type":"layers"}}').hexdigest()


def test_config_fields_serialise_with_docker_names():
    cfg = ImageConfig(env=("A=1",), cmd=("run",), entrypoint=("/entry",), working_dir="/app", user="app",
                      exposed_ports=("80", "53/udp"), volumes=("/data",), labels={"b": "2", "a": "1"},
                      stop_signal="SIGQUIT", healthcheck={"Test": ["CMD", "true"]}, shell=("/bin/bash", "-c"),
                      onbuild=("RUN echo hi",))
    assert cfg.to_json() == {
        "User": "app", "ExposedPorts": {"53/udp": {}, "80/tcp": {}}, "Env": ["A=1"], "Entrypoint": ["/entry"],
        "Cmd": ["run"], "Volumes": {"/data": {}}, "WorkingDir": "/app", "Labels": {"a": "1", "b": "2"},
        "StopSignal": "SIGQUIT", "Healthcheck": {"Test": ["CMD", "true"]}, "OnBuild": ["RUN echo hi"],
        "Shell": ["/bin/bash", "-c"]}
    assert ImageConfig.from_json(cfg.to_json()) == cfg


def test_env_helpers_replace_in_place():
    cfg = ImageConfig(env=("PATH=/bin", "A=1")).with_env(PATH="/usr/bin", B="2")
    assert cfg.env == ("PATH=/usr/bin", "A=1", "B=2")
    assert cfg.env_dict() == {"PATH": "/usr/bin", "A": "1", "B": "2"}


def test_manifest_lists_config_and_layer_blobs():
    img = app_image()
    doc = json.loads(img.manifest_json)
    assert doc["schemaVersion"] == 2 and doc["mediaType"] == MANIFEST_MEDIA_TYPE
    assert doc["config"] == {"mediaType": CONFIG_MEDIA_TYPE, "digest": img.id, "size": len(img.config_json)}
    assert [l["digest"] for l in doc["layers"]] == [l.digest for l in img.layers]
    assert all(l["mediaType"] == LAYER_MEDIA_TYPE for l in doc["layers"])
    assert img.manifest_digest == "sha256:" + hashlib.sha256(img.manifest_json).hexdigest()


def test_size_is_the_sum_of_layer_contents():
    img = app_image(b"x" * 1000)
    assert img.size == 100 + len(b"ID=test\n") + 1000


def test_rootfs_layers_mount_as_an_overlay():
    fs = FileSystem(app_image().rootfs_layers())
    assert fs.read("/app/app.py") == b"print('hi')\n" and fs.is_file("/bin/sh")


def test_with_config_makes_a_new_image():
    img = base_image()
    other = img.with_config(cmd=("echo", "hi"))
    assert other.config.cmd == ("echo", "hi") and img.config.cmd == ("sh",)
    assert other.id != img.id and other.layers == img.layers


def test_add_layer_and_add_history():
    img = base_image().add_history('CMD ["sh"]', T1)
    assert img.history[-1] == {"created": T1, "created_by": 'CMD ["sh"]', "comment": "buildkit.dockerfile.v0",
                               "empty_layer": True}
    assert len(img.layers) == 1 and img.created == T1


def test_from_config_json_keeps_the_exact_bytes():
    img = app_image()
    again = Image.from_config_json(img.config_json, list(img.layers), manifest_json=img.manifest_json)
    assert again.id == img.id and again.manifest_digest == img.manifest_digest
    assert again.config == img.config and again.history == img.history


def test_from_config_json_rejects_layers_that_do_not_match():
    img = app_image()
    with pytest.raises(InvalidInput, match="diff_ids"):
        Image.from_config_json(img.config_json, list(img.layers[:1]))
    with pytest.raises(InvalidInput, match="not JSON"):
        Image.from_config_json(b"{nope", [])


def test_images_compare_by_id_and_repr_is_short():
    assert base_image() == base_image()
    assert repr(base_image()) == f"<Image sha256:{base_image().short_id}>"


def test_human_size_matches_docker():
    assert [human_size(n) for n in (0, 999, 1000, 5243, 13_300, 5_590_000, 187_000_000, 1_230_000_000)] == \
        ["0B", "999B", "1kB", "5.24kB", "13.3kB", "5.59MB", "187MB", "1.23GB"]


def test_human_duration_and_created_ago():
    assert human_duration(5400) == "2 hours"
    assert created_ago(T0, T1) == "About an hour ago"
    assert created_ago("", T1) == "N/A"


# -- the store: adding and looking up -----------------------------------------------------------
@pytest.fixture
def store() -> ImageStore:
    s = ImageStore()
    s.add(base_image(), tags=["nginx:1.25", "nginx:latest"])
    return s


@pytest.mark.parametrize("ref", ["nginx", "nginx:latest", "nginx:1.25", "docker.io/library/nginx:1.25",
                                 "index.docker.io/library/nginx"])
def test_get_by_name_forms(store, ref):
    assert store.get(ref).id == base_image().id


def test_get_by_id_forms(store):
    img = base_image()
    hexid = img.id[7:]
    for ref in (img.id, hexid, hexid[:12], "sha256:" + hexid[:12], hexid[:5]):
        assert store.get(ref).id == img.id


def test_get_by_digest_reference(store):
    digest = base_image().manifest_digest
    store.add_repo_digest(f"nginx@{digest}", base_image())
    assert store.get(f"nginx@{digest}").id == base_image().id
    assert store.repo_digests(base_image()) == [f"nginx@{digest}"]


def test_get_returns_the_image_with_its_tags_in_repr(store):
    img = store.get("nginx:1.25")
    assert repr(img) == f"<Image docker.io/library/nginx:1.25 sha256:{img.short_id}>"
    assert store.repo_tags(img) == ["nginx:1.25", "nginx:latest"]


def test_unknown_tag_says_no_such_image(store):
    with pytest.raises(ImageNotFound) as exc:
        store.get("nginx:9.9")
    assert str(exc.value) == "No such image: nginx:9.9"
    with pytest.raises(ImageNotFound, match="^No such image: redis:latest$"):
        store.get("redis")


def test_unknown_id_says_no_such_image(store):
    with pytest.raises(ImageNotFound, match="^No such image: sha256:0000$"):
        store.get("sha256:0000")


def test_invalid_name_is_an_invalid_reference(store):
    with pytest.raises(InvalidReference, match="must be lowercase"):
        store.get("Nginx")


def test_ambiguous_id_prefix_is_refused():
    s = ImageStore()
    images = [base_image().with_config(cmd=(str(i),)) for i in range(40)]
    for img in images:
        s.add(img)
    firsts = [i.id[7] for i in images]
    shared = next(c for c in firsts if firsts.count(c) > 1)  # 40 ids, 16 hex digits: some repeat
    with pytest.raises(InvalidInput, match="ambiguous"):
        s.get("sha256:" + shared)


def test_tag_points_a_new_name_at_an_image(store):
    store.tag("nginx:1.25", "localhost:5000/web:v1")
    assert store.get("localhost:5000/web:v1").id == base_image().id
    assert "docker.io/library/nginx:1.25" in store.tags_of(base_image().id)


def test_tag_refuses_a_digest_target(store):
    with pytest.raises(InvalidReference, match="digest"):
        store.tag("nginx", "web@sha256:" + "a" * 64)


def test_tag_of_missing_source_fails(store):
    with pytest.raises(ImageNotFound):
        store.tag("redis", "web:1")


def test_retagging_leaves_the_old_image_dangling(store):
    store.add(app_image(), tags=["nginx:latest"])
    rows = {(r.repository, r.tag, r.image_id) for r in store.list()}
    assert ("nginx", "latest", app_image().short_id) in rows
    assert ("nginx", "1.25", base_image().short_id) in rows
    store.untag("nginx:1.25")
    assert ("<none>", "<none>", base_image().short_id) in {(r.repository, r.tag, r.image_id) for r in store.list()}


# -- layers ----------------------------------------------------------------------------------------
def test_layers_are_shared_by_diff_id(store):
    store.add(app_image(), tags=["app:1"])
    base_layer = base_image().layers[0]
    assert store.has_layer(base_layer.diff_id)
    assert len(store.layers()) == 2
    assert store.get("app:1").layers[0] is store.get("nginx").layers[0]
    assert store.layers_bytes() == app_image().size


# -- removing ---------------------------------------------------------------------------------------
def test_remove_one_of_two_tags_only_untags(store):
    assert store.remove("nginx:1.25") == ["Untagged: nginx:1.25"]
    assert store.get("nginx").id == base_image().id


def test_remove_last_tag_deletes_the_image_and_its_layers(store):
    store.remove("nginx:1.25")
    lines = store.remove("nginx")
    assert lines == ["Untagged: nginx:latest", f"Deleted: {base_image().id}",
                     f"Deleted: {base_image().chain_ids[0]}"]
    assert len(store) == 0 and not store.has_layer(base_image().layers[0].diff_id)


def test_remove_keeps_layers_other_images_use(store):
    store.add(app_image(), tags=["app:1"])
    lines = store.remove("app:1")
    assert lines == ["Untagged: app:1", f"Deleted: {app_image().id}", f"Deleted: {app_image().chain_ids[1]}"]
    assert store.has_layer(base_image().layers[0].diff_id)


def test_remove_last_tag_also_untags_digests_of_that_repository(store):
    digest = base_image().manifest_digest
    store.add_repo_digest(f"nginx@{digest}", base_image())
    store.remove("nginx:latest")
    lines = store.remove("nginx:1.25")
    assert lines[:2] == ["Untagged: nginx:1.25", f"Untagged: nginx@{digest}"]
    assert lines[2] == f"Deleted: {base_image().id}"


def test_remove_by_id_with_several_repositories_needs_force(store):
    store.tag("nginx", "web:1")
    with pytest.raises(Conflict) as exc:
        store.remove(base_image().short_id)
    assert str(exc.value) == (f"conflict: unable to delete {base_image().short_id} (must be forced) - "
                              "image is referenced in multiple repositories")
    assert len(store) == 1 and len(store.tags_of(base_image().id)) == 3  # nothing changed


def test_remove_by_id_with_force_untags_everything(store):
    store.tag("nginx", "web:1")
    lines = store.remove(base_image().short_id, force=True)
    assert lines == ["Untagged: nginx:1.25", "Untagged: nginx:latest", "Untagged: web:1",
                     f"Deleted: {base_image().id}", f"Deleted: {base_image().chain_ids[0]}"]


def test_remove_by_id_with_tags_of_one_repository_needs_force_too(store):
    # two tags of the same repository are two references: Docker refuses without -f
    with pytest.raises(Conflict, match="must be forced"):
        store.remove(base_image().id)


def test_remove_by_id_with_a_single_tag_untags_and_deletes():
    s = ImageStore()
    s.add(base_image(), tags=["nginx:1.25"])
    assert s.remove(base_image().short_id)[0] == "Untagged: nginx:1.25"
    assert len(s) == 0


def test_remove_image_of_a_running_container_cannot_be_forced(store):
    def in_use(image_id):
        return ("1a2b3c4d5e6f7a8b", True)

    with pytest.raises(Conflict) as exc:
        store.remove(base_image().id, force=True, in_use=in_use)
    assert str(exc.value) == (f"conflict: unable to delete {base_image().short_id} (cannot be forced) - "
                              "image is being used by running container 1a2b3c4d5e6f")


def test_remove_last_tag_of_an_image_a_stopped_container_uses_needs_force():
    s = ImageStore()
    s.add(base_image(), tags=["nginx:1.25"])
    in_use = lambda image_id: ("1a2b3c4d5e6f", False)  # noqa: E731
    with pytest.raises(Conflict) as exc:
        s.remove("nginx:1.25", in_use=in_use)
    assert str(exc.value) == ('conflict: unable to remove repository reference "nginx:1.25" (must force) - '
                              f"container 1a2b3c4d5e6f is using its referenced image {base_image().short_id}")
    assert s.remove("nginx:1.25", force=True, in_use=in_use)[0] == "Untagged: nginx:1.25"
    assert len(s) == 0


def test_removing_a_tag_of_a_running_image_keeps_it_dangling_with_force():
    s = ImageStore()
    s.add(base_image(), tags=["nginx:1.25"])
    in_use = lambda image_id: ("1a2b3c4d5e6f", True)  # noqa: E731
    assert s.remove("nginx:1.25", force=True, in_use=in_use) == ["Untagged: nginx:1.25"]
    assert len(s) == 1 and s.list()[0].repository == "<none>"


def test_remove_unknown_image(store):
    with pytest.raises(ImageNotFound, match="No such image: redis:latest"):
        store.remove("redis")


# -- listing ------------------------------------------------------------------------------------
def test_list_rows_like_docker_images(store):
    store.add(app_image(), tags=["app:1"])
    store.add(base_image().with_config(cmd=("dangling",)))
    rows = store.list()
    assert [(r.repository, r.tag) for r in rows] == [("app", "1"), ("<none>", "<none>"), ("nginx", "1.25"),
                                                      ("nginx", "latest")]
    assert rows[0].image_id == app_image().short_id and rows[0].size == app_image().size
    assert rows[0].created == T1 and rows[0].size_human == human_size(app_image().size)


def test_list_filters_by_repository_and_tag(store):
    store.add(app_image(), tags=["app:1"])
    assert [r.tag for r in store.list("nginx")] == ["1.25", "latest"]
    assert [r.tag for r in store.list("nginx:1.25")] == ["1.25"]
    assert store.list(dangling=True) == []


def test_list_shows_digest_only_references():
    s = ImageStore()
    digest = base_image().manifest_digest
    s.add(base_image(), repo_digests=[f"nginx@{digest}"])
    row = s.list()[0]
    assert (row.repository, row.tag, row.digest) == ("nginx", "<none>", digest)


def test_disk_usage_counts_shared_layers_once(store):
    store.add(app_image(), tags=["app:1"])
    usage = store.disk_usage(in_use=["app:1"])
    assert (usage.total, usage.active, usage.size) == (2, 1, app_image().size)
    assert usage.reclaimable == 0


def test_prune_removes_dangling_images_only(store):
    store.add(base_image().with_config(cmd=("dangling",)))
    lines, reclaimed = store.prune()
    assert lines == [f"Deleted: {base_image().with_config(cmd=('dangling',)).id}"]
    assert reclaimed == 0 and len(store) == 1


def test_prune_all_removes_unused_images(store):
    lines, reclaimed = store.prune(all=True)
    assert "Untagged: nginx:1.25" in lines and reclaimed == base_image().size
    assert len(store) == 0
