"""Registries: the distribution API, auth rules, and push/pull that move only missing blobs."""

from __future__ import annotations

import json

import pytest

from aivle_k8s.images.image import INDEX_MEDIA_TYPE, Image, ImageConfig
from aivle_k8s.images.reference import parse_reference
from aivle_k8s.images.store import ImageStore
from aivle_k8s.linux.fs import Entry
from aivle_k8s.registry import (
    DOCKER_HUB_BANDWIDTH,
    LAN_BANDWIDTH,
    Denied,
    Registry,
    docker_hub_rule,
    pull_image,
    push_image,
)
from aivle_k8s.sim.errors import BlobUnknown, ManifestUnknown, NameUnknown, RegistryError, Unauthorized

T0 = "2025-03-03T09:00:00Z"


def base_image() -> Image:
    rootfs = {"/bin": Entry.directory(), "/bin/sh": Entry.file(bytes(range(256)) * 40, mode=0o755)}
    return Image(ImageConfig(cmd=("sh",)), created=T0).add_layer(rootfs, "ADD rootfs / # buildkit", T0)


def app_image(name: str = "app", content: bytes = b"x" * 3000) -> Image:
    return base_image().add_layer({f"/{name}": Entry.file(content)}, f"COPY {name} / # buildkit", T0)


def ref(text: str):
    return parse_reference(text)


@pytest.fixture
def lan() -> Registry:
    return Registry("localhost:5000")


@pytest.fixture
def hub() -> Registry:
    reg = Registry.docker_hub(users={"alice": "s3cret", "library": "official"})
    reg.put_image("library/nginx", "1.25", base_image())
    return reg


# -- the distribution API -------------------------------------------------------------------------
def test_put_and_get_blob(lan):
    layer = base_image().layers[0]
    assert not lan.check_blob("team/app", layer.digest)
    lan.put_blob("team/app", layer.digest, layer.blob)
    assert lan.check_blob("team/app", layer.digest)
    assert lan.get_blob("team/app", layer.digest) == layer.blob


def test_put_blob_verifies_the_digest(lan):
    with pytest.raises(RegistryError) as exc:
        lan.put_blob("team/app", "sha256:" + "0" * 64, b"data")
    assert exc.value.code == "DIGEST_INVALID"
    assert "provided digest did not match uploaded content" in str(exc.value)
    assert lan.catalog() == []


def test_get_missing_blob(lan):
    with pytest.raises(BlobUnknown, match="blob unknown to registry") as exc:
        lan.get_blob("team/app", "sha256:" + "0" * 64)
    assert exc.value.code == "BLOB_UNKNOWN"


def test_blobs_are_per_repository_until_mounted(lan):
    layer = base_image().layers[0]
    lan.put_blob("team/a", layer.digest, layer.blob)
    assert not lan.check_blob("team/b", layer.digest)
    assert lan.mount_blob("team/a", "team/b", layer.digest)
    assert lan.check_blob("team/b", layer.digest)
    assert not lan.mount_blob("team/zzz", "team/b", "sha256:" + "1" * 64)


def test_put_manifest_needs_every_blob(lan):
    img = base_image()
    with pytest.raises(RegistryError) as exc:
        lan.put_manifest("team/app", "1", img.manifest_json)
    assert exc.value.code == "MANIFEST_BLOB_UNKNOWN"


def test_put_manifest_then_get_by_tag_and_digest(lan):
    img = base_image()
    for digest, data in [(img.id, img.config_json), (img.layers[0].digest, img.layers[0].blob)]:
        lan.put_blob("team/app", digest, data)
    digest = lan.put_manifest("team/app", "1", img.manifest_json, img.manifest_media_type)
    assert digest == img.manifest_digest
    assert lan.get_manifest("team/app", "1") == (img.manifest_json, img.manifest_media_type, digest)
    assert lan.get_manifest("team/app", digest)[2] == digest
    assert lan.tags("team/app") == ["1"] and lan.catalog() == ["team/app"]


def test_put_manifest_rejects_a_wrong_digest_reference(lan):
    img = base_image()
    lan.put_image("team/app", None, img)
    with pytest.raises(RegistryError) as exc:
        lan.put_manifest("team/app", "sha256:" + "0" * 64, img.manifest_json)
    assert exc.value.code == "DIGEST_INVALID"


def test_unknown_repository_and_manifest(lan):
    lan.put_image("team/app", "1", base_image())
    with pytest.raises(NameUnknown, match="repository name not known to registry"):
        lan.get_manifest("team/other", "1")
    with pytest.raises(NameUnknown):
        lan.tags("team/other")
    with pytest.raises(ManifestUnknown, match="^manifest unknown$") as exc:
        lan.get_manifest("team/app", "2")
    assert exc.value.code == "MANIFEST_UNKNOWN"


def test_delete_manifest_removes_its_tags(lan):
    digest = lan.put_image("team/app", "1", base_image())
    lan.put_image("team/app", "latest", base_image())
    lan.delete_manifest("team/app", digest)
    assert lan.tags("team/app") == []
    with pytest.raises(ManifestUnknown):
        lan.get_manifest("team/app", digest)


def test_delete_a_tag(lan):
    lan.put_image("team/app", "1", base_image())
    lan.put_image("team/app", "2", base_image())
    lan.delete_manifest("team/app", "1")
    assert lan.tags("team/app") == ["2"]


# -- auth ---------------------------------------------------------------------------------------------
def test_login_gives_a_token_naming_the_user(hub):
    token = hub.login("alice", "s3cret")
    assert hub.user_of(token) == "alice"


def test_login_with_a_wrong_password(hub):
    with pytest.raises(Unauthorized, match="^unauthorized: incorrect username or password$"):
        hub.login("alice", "nope")


def test_a_made_up_token_is_unauthorized(hub):
    with pytest.raises(Unauthorized, match="authentication required"):
        hub.authorize("forged", "alice/app", "pull")


def test_docker_hub_users_push_only_to_their_namespace(hub):
    token = hub.login("alice", "s3cret")
    assert hub.authorize(token, "alice/app", "push") == "alice"
    with pytest.raises(Denied, match="^denied: requested access to the resource is denied$"):
        hub.authorize(token, "library/nginx", "push")
    with pytest.raises(Denied):
        hub.authorize(token, "bob/app", "push")
    assert hub.authorize(hub.login("library", "official"), "library/nginx", "push") == "library"


def test_docker_hub_anonymous_pull_but_no_anonymous_push(hub):
    assert hub.authorize(None, "library/nginx", "pull") is None
    with pytest.raises(Denied):
        hub.authorize(None, "alice/app", "push")


def test_docker_hub_rule_function():
    assert docker_hub_rule("bob", "bob/x", "push") and not docker_hub_rule(None, "bob/x", "push")


def test_open_registry_lets_anyone_push_and_pull(lan):
    assert lan.authorize(None, "anything/at/all", "push") is None
    assert lan.login("whoever", "whatever")


def test_private_registry_with_users_requires_login_to_push():
    reg = Registry("registry.example.com", users={"ci": "pw"}, anonymous_pull=False)
    with pytest.raises(Unauthorized, match="^unauthorized: authentication required$"):
        reg.authorize(None, "team/app", "push")
    with pytest.raises(Unauthorized, match="authentication required"):
        reg.authorize(None, "team/app", "pull")
    token = reg.login("ci", "pw")
    assert reg.authorize(token, "team/app", "push") == "ci"


def test_private_repository_on_docker_hub(hub):
    token = hub.login("alice", "s3cret")
    push_image(hub, token, ref("alice/secret:1"), app_image())
    hub.set_private("alice/secret")
    with pytest.raises(Denied):
        hub.authorize(None, "alice/secret", "pull")
    assert hub.authorize(token, "alice/secret", "pull") == "alice"


# -- push ------------------------------------------------------------------------------------------
def test_push_uploads_config_and_layers(lan):
    img = app_image()
    report = push_image(lan, None, ref("localhost:5000/team/app:1"), img)
    assert report.digest == img.manifest_digest and report.size == len(img.manifest_json)
    assert [status for _, status in report.layers] == ["Pushed", "Pushed"]
    assert report.layers[0][0] == img.layers[1].diff_id[7:19]  # top layer first, short diff_id
    assert report.bytes_uploaded == len(img.config_json) + sum(l.size for l in img.layers)
    assert lan.tags("team/app") == ["1"]


def test_push_twice_uploads_nothing_the_second_time(lan):
    push_image(lan, None, ref("localhost:5000/team/app:1"), app_image())
    again = push_image(lan, None, ref("localhost:5000/team/app:1"), app_image())
    assert again.bytes_uploaded == 0
    assert [status for _, status in again.layers] == ["Layer already exists"] * 2


def test_second_image_sharing_the_base_uploads_only_new_layers(lan):
    push_image(lan, None, ref("localhost:5000/team/app:1"), app_image("a"))
    other = app_image("b", b"y" * 5000)
    report = push_image(lan, None, ref("localhost:5000/team/app:2"), other)
    assert report.layers == [(other.layers[1].diff_id[7:19], "Pushed"),
                             (other.layers[0].diff_id[7:19], "Layer already exists")]
    assert report.bytes_uploaded == len(other.config_json) + other.layers[1].size


def test_push_to_another_repository_mounts_shared_layers(hub):
    token = hub.login("alice", "s3cret")
    report = push_image(hub, token, ref("alice/app:1"), app_image())
    assert report.layers[1][1] == "Mounted from library/nginx"
    assert report.layers[0][1] == "Pushed"
    assert report.bytes_uploaded == len(app_image().config_json) + app_image().layers[1].size


def test_push_without_rights_changes_nothing(hub):
    token = hub.login("alice", "s3cret")
    before = hub.catalog()
    with pytest.raises(Denied):
        push_image(hub, token, ref("bob/app:1"), app_image())
    assert hub.catalog() == before


def test_push_report_lines_read_like_docker(lan):
    report = push_image(lan, None, ref("localhost:5000/team/app:1"), app_image())
    lines = report.lines()
    assert lines[0] == "The push refers to repository [localhost:5000/team/app]"
    assert lines[-1] == f"1: digest: {report.digest} size: {report.size}"


def test_push_progress_callback(lan):
    seen = []
    push_image(lan, None, ref("localhost:5000/team/app:1"), app_image(), progress=lambda s, st: seen.append(st))
    assert seen == ["Pushed", "Pushed"]


# -- pull -------------------------------------------------------------------------------------------
def test_pull_returns_the_image_with_the_registry_digest(hub):
    store = ImageStore()
    report = pull_image(hub, None, ref("nginx:1.25"), store)
    assert report.image.id == base_image().id
    assert report.digest == base_image().manifest_digest
    assert report.layers == [(base_image().layers[0].digest[7:19], "Pull complete")]
    assert report.status == "Downloaded newer image for nginx:1.25"
    assert len(store) == 0  # the caller stores and tags it


def test_pull_downloads_only_missing_layers(hub):
    token = hub.login("alice", "s3cret")
    push_image(hub, token, ref("alice/app:1"), app_image())
    store = ImageStore()
    store.add(pull_image(hub, None, ref("nginx:1.25"), store).image, tags=["nginx:1.25"])
    report = pull_image(hub, None, ref("alice/app:1"), store)
    assert [status for _, status in report.layers] == ["Already exists", "Pull complete"]
    assert report.bytes_downloaded == len(app_image().config_json) + app_image().layers[1].size
    assert report.seconds == pytest.approx(report.bytes_downloaded / DOCKER_HUB_BANDWIDTH)


def test_pull_of_an_image_already_present_is_up_to_date(hub):
    store = ImageStore()
    store.add(pull_image(hub, None, ref("nginx:1.25"), store).image, tags=["nginx:1.25"])
    report = pull_image(hub, None, ref("nginx:1.25"), store)
    assert report.status == "Image is up to date for nginx:1.25"
    assert report.layers == [] and report.bytes_downloaded == 0


def test_pull_by_digest(hub):
    digest = base_image().manifest_digest
    report = pull_image(hub, None, ref(f"nginx@{digest}"), ImageStore())
    assert report.image.id == base_image().id
    assert report.lines()[0] == f"{digest}: Pulling from library/nginx"


def test_pull_unknown_tag(hub):
    with pytest.raises(ManifestUnknown) as exc:
        pull_image(hub, None, ref("nginx:9.9"), ImageStore())
    assert str(exc.value) == "manifest for nginx:9.9 not found: manifest unknown: manifest unknown"


def test_pull_unknown_repository_on_docker_hub(hub):
    with pytest.raises(Unauthorized) as exc:
        pull_image(hub, None, ref("foo"), ImageStore())
    assert str(exc.value) == ("pull access denied for foo, repository does not exist or may require "
                              "'docker login': denied: requested access to the resource is denied")


def test_pull_unknown_repository_on_a_private_registry(lan):
    with pytest.raises(ManifestUnknown, match="^manifest for localhost:5000/app:latest not found"):
        pull_image(lan, None, ref("localhost:5000/app"), ImageStore())


def test_pull_from_a_registry_requiring_login(lan):
    lan.add_user("ci", "pw")
    lan.anonymous_pull = False
    lan.put_image("team/app", "1", base_image())
    with pytest.raises(Unauthorized, match="no basic auth credentials"):
        pull_image(lan, None, ref("localhost:5000/team/app:1"), ImageStore())
    token = lan.login("ci", "pw")
    assert pull_image(lan, token, ref("localhost:5000/team/app:1"), ImageStore()).image.id == base_image().id


def test_pull_picks_linux_amd64_from_an_index(lan):
    arm = base_image().with_config(architecture="arm64")
    digest = lan.put_index("team/multi", "1", [(base_image(), {"architecture": "amd64", "os": "linux"}),
                                               (arm, {"architecture": "arm64", "os": "linux"})])
    assert lan.get_manifest("team/multi", "1")[1] == INDEX_MEDIA_TYPE
    report = pull_image(lan, None, ref("localhost:5000/team/multi:1"), ImageStore())
    assert report.digest == digest and report.image.id == base_image().id


def test_pushed_then_pulled_image_is_identical(lan):
    img = app_image()
    push_image(lan, None, ref("localhost:5000/team/app:1"), img)
    pulled = pull_image(lan, None, ref("localhost:5000/team/app:1"), ImageStore()).image
    assert pulled.id == img.id and pulled.manifest_digest == img.manifest_digest
    assert dict(pulled.layers[1].entries) == dict(img.layers[1].entries)


def test_registry_image_reads_server_side(hub):
    assert hub.image("library/nginx", "1.25").id == base_image().id


def test_transfer_seconds_uses_the_bandwidth(hub, lan):
    assert hub.transfer_seconds(50_000_000) == pytest.approx(1.0)
    assert lan.transfer_seconds(LAN_BANDWIDTH) == pytest.approx(1.0)


def test_reference_must_name_this_registry(lan):
    from aivle_k8s.sim.errors import InvalidInput

    with pytest.raises(InvalidInput, match="names registry docker.io"):
        push_image(lan, None, ref("team/app:1"), app_image())


def test_manifest_json_in_registry_is_the_images(lan):
    push_image(lan, None, ref("localhost:5000/team/app:1"), app_image())
    data, _, _ = lan.get_manifest("team/app", "1")
    assert json.loads(data)["config"]["digest"] == app_image().id
