"""The OCI distribution face of a registry: skopeo, oras and plain HTTP against the simulated registry."""

import hashlib
import json
import shutil
import subprocess

import pytest
import requests

pytest.importorskip("aiohttp")

from aivle_k8s.engine import Engine
from aivle_k8s.images.image import DOCKER_MANIFEST_MEDIA_TYPE, INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE
from aivle_k8s.images.oci import export_oci_layout, import_oci_layout
from aivle_k8s.registry import Registry, catalog

SKOPEO = shutil.which("skopeo")
HOST = "registry.local:5000"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def skopeo(*args):
    assert SKOPEO, "skopeo is installed by scripts/ensure-tools.sh (make test)"
    return subprocess.run([SKOPEO, "--insecure-policy", *args], capture_output=True, text=True, check=True)


def errors(resp):
    return [e["code"] for e in resp.json()["errors"]]


@pytest.fixture
def registry(world):
    return world.registry(HOST)


@pytest.fixture
def served(world, registry):
    handle = registry.serve(world=world)
    yield handle
    handle.stop()


@pytest.fixture
def v2(served):
    return f"{served.url}/v2"


@pytest.fixture
def nginx():
    return catalog.image("docker.io/library/nginx:1.25")


def upload(v2, repo, data):
    """Monolithic upload (POST ?digest=): the digest."""
    digest = sha(data)
    r = requests.post(f"{v2}/{repo}/blobs/uploads/", params={"digest": digest}, data=data)
    assert r.status_code == 201, r.text
    return digest


def small_manifest(v2, repo, media_type=MANIFEST_MEDIA_TYPE):
    config = upload(v2, repo, b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}')
    layer = upload(v2, repo, b"layer bytes")
    doc = {"schemaVersion": 2, "mediaType": media_type,
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 79},
           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": 11}]}
    return json.dumps(doc).encode()


# -- the base endpoint and the error documents ----------------------------------------------------------
def test_base_endpoint_answers_with_the_distribution_api_version(v2):
    r = requests.get(f"{v2}/")
    assert r.status_code == 200
    assert r.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    assert r.json() == {}


def test_unknown_names_and_manifests_get_the_spec_error_documents(v2):
    r = requests.get(f"{v2}/nobody/here/manifests/1")
    assert r.status_code == 404
    [error] = r.json()["errors"]
    assert error["code"] == "NAME_UNKNOWN" and error["message"] == "repository name not known to registry"
    upload(v2, "team/app", b"x")
    r = requests.get(f"{v2}/team/app/manifests/nope")
    assert (r.status_code, errors(r)) == (404, ["MANIFEST_UNKNOWN"])
    r = requests.get(f"{v2}/Team/App/tags/list")
    assert (r.status_code, errors(r)) == (400, ["NAME_INVALID"])


# -- real clients: skopeo ---------------------------------------------------------------------------------------
def test_skopeo_copies_an_oci_layout_in_and_a_simulated_docker_pull_finds_it(world, registry, served, nginx,
                                                                                   tmp_path):
    layout = tmp_path / "layout"
    export_oci_layout([("docker.io/library/nginx:1.25", nginx)], str(layout))
    skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:1.25", f"docker://{served.address}/team/nginx:1.25")

    assert registry.tags("team/nginx") == ["1.25"]
    assert registry.resolve("team/nginx", "1.25") == nginx.manifest_digest
    info = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{served.address}/team/nginx:1.25").stdout)
    assert info["Digest"] == nginx.manifest_digest and info["RepoTags"] == ["1.25"]

    dev = Engine(world.machine("dev"))
    pulled = dev.images.pull(f"{HOST}/team/nginx:1.25")
    assert pulled.image.id == nginx.id and pulled.digest == nginx.manifest_digest


def test_skopeo_copies_out_what_the_simulated_world_pushed(world, registry, served, tmp_path):
    dev = Engine(world.machine("dev"))
    local = dev.images.pull("busybox").image
    dev.images.tag("busybox", f"{HOST}/team/bb", "1")
    pushed = dev.images.push(f"{HOST}/team/bb:1")

    skopeo("copy", "--src-tls-verify=false", f"docker://{served.address}/team/bb:1", f"oci:{tmp_path / 'out'}:1")
    [(_, image)] = import_oci_layout(str(tmp_path / "out"))
    assert image.id == local.id
    r = requests.head(f"{served.url}/v2/team/bb/manifests/1", headers={"Accept": MANIFEST_MEDIA_TYPE})
    assert r.headers["Docker-Content-Digest"] == pushed.digest


# -- blob uploads -------------------------------------------------------------------------------------------------
def test_a_chunked_upload_with_content_ranges_and_a_streamed_chunk_stores_the_blob(registry, v2):
    data = b"hello, chunked world"
    r = requests.post(f"{v2}/team/app/blobs/uploads/")
    assert r.status_code == 202 and r.headers["Range"] == "0-0"
    location, uuid = r.headers["Location"], r.headers["Docker-Upload-UUID"]
    r = requests.patch(location, data=data[:5], headers={"Content-Range": "0-4"})
    assert r.status_code == 202 and r.headers["Range"] == "0-4"
    r = requests.patch(r.headers["Location"], data=iter([data[5:10], data[10:]]))  # Transfer-Encoding: chunked
    assert r.status_code == 202 and r.headers["Range"] == f"0-{len(data) - 1}"
    status = requests.get(f"{v2}/team/app/blobs/uploads/{uuid}")
    assert status.status_code == 204 and status.headers["Range"] == f"0-{len(data) - 1}"
    assert not registry.check_blob("team/app", sha(data))

    r = requests.put(r.headers["Location"], params={"digest": sha(data)})
    assert r.status_code == 201 and r.headers["Docker-Content-Digest"] == sha(data)
    assert registry.get_blob("team/app", sha(data)) == data
    blob = requests.get(f"{v2}/team/app/blobs/{sha(data)}")
    assert blob.content == data and blob.headers["Docker-Content-Digest"] == sha(data)
    head = requests.head(f"{v2}/team/app/blobs/{sha(data)}")
    assert head.headers["Content-Length"] == str(len(data))


def test_a_digest_that_does_not_match_is_digest_invalid_and_stores_nothing(registry, v2):
    wrong = sha(b"something else")
    r = requests.post(f"{v2}/team/app/blobs/uploads/", params={"digest": wrong}, data=b"payload")
    assert (r.status_code, errors(r)) == (400, ["DIGEST_INVALID"])
    assert not registry.has_repository("team/app")

    r = requests.post(f"{v2}/team/app/blobs/uploads/")
    location = r.headers["Location"]
    requests.patch(location, data=b"payload")
    r = requests.put(location, params={"digest": wrong})
    assert (r.status_code, errors(r)) == (400, ["DIGEST_INVALID"])
    assert not registry.check_blob("team/app", sha(b"payload")) and not registry.check_blob("team/app", wrong)
    r = requests.patch(location, data=b"more")  # the failed upload was cancelled
    assert (r.status_code, errors(r)) == (404, ["BLOB_UPLOAD_UNKNOWN"])

    r = requests.get(f"{v2}/team/app/blobs/sha256:not-hex")
    assert (r.status_code, errors(r)) == (400, ["DIGEST_INVALID"])


def test_unknown_uploads_and_out_of_order_chunks_are_refused(v2):
    r = requests.patch(f"{v2}/team/app/blobs/uploads/00000000-0000-4000-8000-000000000000", data=b"x")
    assert (r.status_code, errors(r)) == (404, ["BLOB_UPLOAD_UNKNOWN"])
    location = requests.post(f"{v2}/team/app/blobs/uploads/").headers["Location"]
    r = requests.patch(location, data=b"later", headers={"Content-Range": "5-9"})
    assert (r.status_code, errors(r)) == (416, ["RANGE_INVALID"])
    assert requests.get(location).headers["Range"] == "0-0"  # nothing was appended
    assert requests.delete(location).status_code == 204
    assert requests.get(location).status_code == 404


def test_a_cross_repository_mount_links_the_blob_without_uploading_it(registry, v2):
    digest = upload(v2, "team/base", b"shared layer")
    received = registry.bytes_received
    r = requests.post(f"{v2}/team/app/blobs/uploads/", params={"mount": digest, "from": "team/base"})
    assert r.status_code == 201 and r.headers["Docker-Content-Digest"] == digest
    assert registry.check_blob("team/app", digest) and registry.bytes_received == received
    r = requests.post(f"{v2}/team/app/blobs/uploads/", params={"mount": sha(b"absent"), "from": "team/base"})
    assert r.status_code == 202 and "Docker-Upload-UUID" in r.headers  # not there: upload it instead


# -- manifests ------------------------------------------------------------------------------------------------------
def test_manifests_go_in_and_out_by_tag_and_by_digest_with_their_media_types(registry, v2):
    body = small_manifest(v2, "team/app")
    r = requests.put(f"{v2}/team/app/manifests/1", data=body, headers={"Content-Type": MANIFEST_MEDIA_TYPE})
    assert r.status_code == 201 and r.headers["Docker-Content-Digest"] == sha(body)
    assert registry.resolve("team/app", "1") == sha(body)

    r = requests.get(f"{v2}/team/app/manifests/1", headers={"Accept": MANIFEST_MEDIA_TYPE})
    assert r.content == body and r.headers["Content-Type"] == MANIFEST_MEDIA_TYPE
    r = requests.head(f"{v2}/team/app/manifests/{sha(body)}")
    assert r.headers["Docker-Content-Digest"] == sha(body) and r.headers["Content-Length"] == str(len(body))
    r = requests.get(f"{v2}/team/app/manifests/1", headers={"Accept": DOCKER_MANIFEST_MEDIA_TYPE})
    assert (r.status_code, errors(r)) == (404, ["MANIFEST_UNKNOWN"])  # an OCI manifest the client cannot read

    docker_body = small_manifest(v2, "team/app", DOCKER_MANIFEST_MEDIA_TYPE)
    requests.put(f"{v2}/team/app/manifests/2", data=docker_body, headers={"Content-Type": DOCKER_MANIFEST_MEDIA_TYPE})
    r = requests.get(f"{v2}/team/app/manifests/2", headers={"Accept": DOCKER_MANIFEST_MEDIA_TYPE})
    assert r.headers["Content-Type"] == DOCKER_MANIFEST_MEDIA_TYPE

    index = json.dumps({"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": [
        {"mediaType": MANIFEST_MEDIA_TYPE, "digest": sha(body), "size": len(body),
         "platform": {"architecture": "amd64", "os": "linux"}}]}).encode()
    r = requests.put(f"{v2}/team/app/manifests/multi", data=index, headers={"Content-Type": INDEX_MEDIA_TYPE})
    assert r.status_code == 201
    r = requests.get(f"{v2}/team/app/manifests/multi", headers={"Accept": f"{INDEX_MEDIA_TYPE}, {MANIFEST_MEDIA_TYPE}"})
    assert r.headers["Content-Type"] == INDEX_MEDIA_TYPE


def test_bad_manifests_are_refused_and_change_nothing(registry, v2):
    body = small_manifest(v2, "team/app")
    requests.put(f"{v2}/team/app/manifests/1", data=body, headers={"Content-Type": MANIFEST_MEDIA_TYPE})
    before = (registry.tags("team/app"), registry.resolve("team/app", "1"))

    r = requests.put(f"{v2}/team/app/manifests/1", data=b"{not json", headers={"Content-Type": MANIFEST_MEDIA_TYPE})
    assert (r.status_code, errors(r)) == (400, ["MANIFEST_INVALID"])
    missing = json.loads(body)
    missing["layers"][0]["digest"] = sha(b"never uploaded")
    r = requests.put(f"{v2}/team/app/manifests/2", data=json.dumps(missing),
                     headers={"Content-Type": MANIFEST_MEDIA_TYPE})
    assert (r.status_code, errors(r)) == (400, ["MANIFEST_BLOB_UNKNOWN"])
    r = requests.put(f"{v2}/team/app/manifests/3", data=body, headers={"Content-Type": DOCKER_MANIFEST_MEDIA_TYPE})
    assert (r.status_code, errors(r)) == (400, ["MANIFEST_INVALID"])  # mediaType says OCI
    r = requests.put(f"{v2}/team/app/manifests/{sha(b'other')}", data=body,
                     headers={"Content-Type": MANIFEST_MEDIA_TYPE})
    assert (r.status_code, errors(r)) == (400, ["DIGEST_INVALID"])
    r = requests.put(f"{v2}/team/app/manifests/bad!tag", data=body, headers={"Content-Type": MANIFEST_MEDIA_TYPE})
    assert (r.status_code, errors(r)) == (400, ["TAG_INVALID"])

    assert (registry.tags("team/app"), registry.resolve("team/app", "1")) == before


def test_deleting_a_manifest_removes_it_and_its_tags(registry, v2):
    body = small_manifest(v2, "team/app")
    requests.put(f"{v2}/team/app/manifests/1", data=body, headers={"Content-Type": MANIFEST_MEDIA_TYPE})
    r = requests.delete(f"{v2}/team/app/manifests/{sha(body)}")
    assert r.status_code == 202
    assert registry.tags("team/app") == []
    r = requests.get(f"{v2}/team/app/manifests/{sha(body)}")
    assert (r.status_code, errors(r)) == (404, ["MANIFEST_UNKNOWN"])


def test_tags_and_the_catalog_paginate_with_n_and_last(v2):
    body = small_manifest(v2, "team/app")
    for tag in ["a", "b", "c", "d", "e"]:
        requests.put(f"{v2}/team/app/manifests/{tag}", data=body, headers={"Content-Type": MANIFEST_MEDIA_TYPE})
    r = requests.get(f"{v2}/team/app/tags/list", params={"n": 2})
    assert r.json() == {"name": "team/app", "tags": ["a", "b"]}
    assert r.headers["Link"] == '</v2/team/app/tags/list?n=2&last=b>; rel="next"'
    r = requests.get(f"{v2}/team/app/tags/list", params={"n": 2, "last": "b"})
    assert r.json()["tags"] == ["c", "d"]
    r = requests.get(f"{v2}/team/app/tags/list", params={"last": "d"})
    assert r.json()["tags"] == ["e"] and "Link" not in r.headers
    r = requests.get(f"{v2}/team/app/tags/list", params={"n": "many"})
    assert (r.status_code, errors(r)) == (400, ["PAGINATION_NUMBER_INVALID"])
    assert requests.get(f"{v2}/_catalog").json() == {"repositories": ["team/app"]}


# -- real clients: oras, and the referrers API ---------------------------------------------------------------
def test_oras_pushes_and_pulls_an_artifact_that_the_referrers_api_finds(registry, served, tmp_path, monkeypatch):
    oras_client = pytest.importorskip("oras.client")
    import oras.oci

    image = catalog.image("docker.io/library/busybox:latest")
    subject = registry.put_image("team/app", "1", image)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sbom.json").write_text('{"packages": []}')
    client = oras_client.OrasClient(insecure=True)
    r = client.push(files=["sbom.json:application/spdx+json"], target=f"{served.address}/team/app:sbom",
                    manifest_config="/dev/null:application/vnd.example.sbom",
                    subject=oras.oci.Subject(mediaType=image.manifest_media_type, digest=subject,
                                             size=len(image.manifest_json)))
    assert r.status_code == 201 and r.headers["OCI-Subject"] == subject
    artifact = r.headers["Docker-Content-Digest"]
    assert registry.tags("team/app") == ["1", "sbom"] and registry.resolve("team/app", "sbom") == artifact

    [path] = client.pull(target=f"{served.address}/team/app:sbom", outdir=str(tmp_path / "out"))
    assert open(path).read() == '{"packages": []}'

    index = requests.get(f"{served.url}/v2/team/app/referrers/{subject}")
    assert index.headers["Content-Type"] == INDEX_MEDIA_TYPE
    assert [(m["digest"], m["artifactType"]) for m in index.json()["manifests"]] == [
        (artifact, "application/vnd.example.sbom")]
    filtered = requests.get(f"{served.url}/v2/team/app/referrers/{subject}", params={"artifactType": "other/type"})
    assert filtered.json()["manifests"] == [] and filtered.headers["OCI-Filters-Applied"] == "artifactType"


# -- accounts ---------------------------------------------------------------------------------------------------------
def test_a_registry_with_users_wants_basic_credentials_to_push(world, tmp_path):
    registry = world.registry("secure.local:5000", users={"alice": "s3cret"})
    layout = tmp_path / "layout"
    export_oci_layout([("docker.io/library/busybox:latest", catalog.image("docker.io/library/busybox:latest"))],
                      str(layout))
    with registry.serve(world=world) as served:
        v2 = f"{served.url}/v2"
        assert requests.get(f"{v2}/").status_code == 401  # clients learn that they must log in
        target = f"docker://{served.address}/alice/bb:1"
        with pytest.raises(subprocess.CalledProcessError) as denied:
            skopeo("copy", "--dest-tls-verify=false", "--dest-creds", "alice:wrong", f"oci:{layout}:latest", target)
        assert "unauthorized" in denied.value.stderr
        assert not registry.has_repository("alice/bb")
        skopeo("copy", "--dest-tls-verify=false", "--dest-creds", "alice:s3cret", f"oci:{layout}:latest", target)
        assert registry.tags("alice/bb") == ["1"]

        r = requests.post(f"{v2}/alice/app/blobs/uploads/")
        assert (r.status_code, errors(r)) == (401, ["UNAUTHORIZED"])
        assert r.headers["WWW-Authenticate"].startswith("Basic ")
        r = requests.post(f"{v2}/alice/app/blobs/uploads/", auth=("alice", "wrong"))
        assert r.status_code == 401
        data = b"alice's blob"
        r = requests.post(f"{v2}/alice/app/blobs/uploads/", params={"digest": sha(data)}, data=data,
                          auth=("alice", "s3cret"))
        assert r.status_code == 201 and registry.check_blob("alice/app", sha(data))


def test_a_registry_outside_any_world_serves_too():
    registry = Registry("localhost:5000")
    with registry.serve() as served:
        assert served.address == f"127.0.0.1:{served.port}"
        data = b"standalone"
        r = requests.post(f"{served.url}/v2/app/blobs/uploads/", params={"digest": sha(data)}, data=data)
        assert r.status_code == 201 and registry.get_blob("app", sha(data)) == data
    assert not served.running
