"""Real OCI tools read what we write: skopeo inspects and copies our OCI layouts."""

import json
import shutil
import subprocess

import pytest

from aivle_k8s.images.oci import export_oci_layout, import_oci_layout
from aivle_k8s.registry import catalog

SKOPEO = shutil.which("skopeo")


def skopeo(*args):
    assert SKOPEO, "skopeo is installed by scripts/ensure-tools.sh (make test)"
    return subprocess.run([SKOPEO, "--insecure-policy", *args], capture_output=True, text=True, check=True)


@pytest.fixture
def layout(tmp_path):
    nginx = catalog.image("docker.io/library/nginx:1.25")
    path = tmp_path / "layout"
    export_oci_layout([("docker.io/library/nginx:1.25", nginx)], str(path))
    return path, nginx


def test_skopeo_inspect_sees_our_digests_and_config(layout):
    path, nginx = layout
    info = json.loads(skopeo("inspect", f"oci:{path}:1.25").stdout)
    assert info["Digest"] == nginx.manifest_digest
    assert info["Layers"] == [layer.digest for layer in nginx.layers]
    assert "NGINX_VERSION=1.25.5" in info["Env"]


def test_skopeo_copies_the_layout_and_we_read_its_copy_back(layout, tmp_path):
    path, nginx = layout
    copy = tmp_path / "copy"
    skopeo("copy", f"oci:{path}:1.25", f"oci:{copy}:again")  # skopeo verifies every blob digest
    [(ref, image)] = import_oci_layout(str(copy))
    assert image.id == nginx.id
    assert [layer.diff_id for layer in image.layers] == [layer.diff_id for layer in nginx.layers]
