"""The Docker Hub catalogue: official and course images with stable digests and shared layers."""

import json
import time

import pytest

from aivle_k8s.linux import distro
from aivle_k8s.registry import catalog
from aivle_k8s.registry.registry import Registry


def rebuild():
    """Build the whole catalogue from scratch (no cached layers)."""
    for fn in (catalog._build, catalog._base_layers, catalog._python_deps_layer, distro._debian_cached,
               distro._ubuntu_image_cached, distro._alpine_cached, distro._busybox_cached):
        fn.cache_clear()
    return catalog.build_catalog()


def test_digests_are_stable_across_builds():
    first = {ref: (img.id, img.manifest_digest) for ref, img in rebuild()}
    second = {ref: (img.id, img.manifest_digest) for ref, img in rebuild()}
    assert first == second


def test_building_the_catalogue_is_fast():
    start = time.perf_counter()
    rebuild()
    assert time.perf_counter() - start < 2.0


def test_nginx_and_python_share_the_debian_base_layer():
    nginx, python = catalog.image("nginx:1.25"), catalog.image("python:3.12-slim")
    assert nginx.layers[0].diff_id == python.layers[0].diff_id
    assert nginx.layers[0].diff_id == catalog.image("debian:bookworm-slim").layers[0].diff_id


def test_nginx_versions_share_the_base_but_not_the_install():
    a, b = catalog.image("nginx:1.25"), catalog.image("nginx:1.27")
    assert a.layers[0].digest == b.layers[0].digest and a.layers[1].digest != b.layers[1].digest


def test_nginx_config_is_the_real_images():
    c = catalog.image("nginx:latest").config
    assert c.cmd == ("nginx", "-g", "daemon off;") and c.entrypoint == ("/docker-entrypoint.sh",)
    assert c.exposed_ports == ("80/tcp",) and c.stop_signal == "SIGQUIT"
    assert "NGINX_VERSION=1.27.0" in c.env


def test_nginx_alpine_is_built_on_alpine():
    img = catalog.image("nginx:alpine")
    assert img.layers[0].diff_id == catalog.image("alpine:3.20").layers[0].diff_id


def test_redis_config():
    c = catalog.image("redis:7").config
    assert (c.cmd, c.entrypoint, c.exposed_ports, c.volumes, c.working_dir) == (
        ("redis-server",), ("docker-entrypoint.sh",), ("6379/tcp",), ("/data",), "/data")


def test_registry_config():
    c = catalog.image("registry:2").config
    assert c.entrypoint == ("registry", "serve") and c.cmd == ("/etc/docker/registry/config.yml",)
    assert c.exposed_ports == ("5000/tcp",)


def test_httpd_config():
    c = catalog.image("httpd:2.4").config
    assert c.cmd == ("httpd-foreground",) and c.stop_signal == "SIGWINCH" and c.working_dir == "/usr/local/apache2"


def test_aliases_are_the_same_image():
    assert catalog.image("nginx:latest").id == catalog.image("nginx:1.27").id
    assert catalog.image("alpine").id == catalog.image("alpine:3.20").id
    assert catalog.image("redis:7.2").id == catalog.image("redis:7").id


def test_course_images_live_under_aivle():
    refs = catalog.references()
    for ref in ("docker.io/aivle/web-app:1.0", "docker.io/aivle/web-app:2.0", "docker.io/aivle/crash:latest",
                "docker.io/aivle/hog:latest", "docker.io/aivle/monolith:latest"):
        assert ref in refs


def test_web_app_versions_differ_only_in_their_last_layer_and_env():
    one, two = catalog.image("aivle/web-app:1.0"), catalog.image("aivle/web-app:2.0")
    assert [l.digest for l in one.layers[:2]] == [l.digest for l in two.layers[:2]]
    assert one.layers[2].digest != two.layers[2].digest
    assert "VERSION=1.0" in one.config.env and "VERSION=2.0" in two.config.env


@pytest.mark.parametrize("ref", catalog.references())
def test_history_matches_the_layers(ref):
    img = catalog.image(ref)
    assert sum(1 for h in img.history if not h.get("empty_layer")) == len(img.layers)
    assert img.created and all(h["created"] for h in img.history)


def test_unknown_image_is_a_key_error():
    with pytest.raises(KeyError):
        catalog.image("nosuch:1")


def test_populate_pushes_every_tag():
    reg = Registry.docker_hub()
    stored = catalog.populate(reg)
    assert len(stored) == len(catalog.references())
    assert reg.tags("library/nginx") == ["1.25", "1.27", "1.27-alpine", "alpine", "latest"]
    pulled = reg.image("library/python", "3.12-slim")
    assert pulled.id == catalog.image("python:3.12-slim").id


def test_shared_layers_are_stored_once():
    reg = Registry.docker_hub()
    catalog.populate(reg)
    base = catalog.image("nginx:1.25").layers[0].digest
    assert {"library/nginx", "library/python", "library/redis", "library/httpd"} <= set(reg.repositories_with_blob(base))


def test_image_config_json_is_real_oci():
    doc = json.loads(catalog.image("nginx:1.25").config_json)
    assert doc["architecture"] == "amd64" and doc["os"] == "linux"
    assert doc["config"]["ExposedPorts"] == {"80/tcp": {}}
    assert len(doc["rootfs"]["diff_ids"]) == 7
