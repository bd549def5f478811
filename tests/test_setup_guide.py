"""The install guide's steps (aivle_k8s.cluster.setup): what they type and what they leave running."""

import json
import subprocess
import sys

import pytest

import aivle_k8s as ak
from aivle_k8s.cluster import setup


def test_the_docker_guide_sets_the_systemd_cgroup_driver_before_cri_dockerd():
    lines = setup.guide("runtime", runtime="docker")
    daemon = next(i for i, ln in enumerate(lines) if "/etc/docker/daemon.json" in ln)
    restart = lines.index("sudo systemctl restart docker")
    install = next(i for i, ln in enumerate(lines) if "install -y docker.io" in ln)
    cri = next(i for i, ln in enumerate(lines) if ln.startswith("sudo dpkg -i cri-dockerd"))
    assert install < daemon < restart < cri
    assert "native.cgroupdriver=systemd" in lines[daemon]


def test_docker_runtime_leaves_docker_with_the_systemd_driver_and_cri_dockerd_running():
    world = ak.World(seed=0)
    m = world.machine("w", cpus=2, memory="4Gi")
    setup.install_runtime(m, "docker")
    assert json.loads(m.read_file("/etc/docker/daemon.json")) == {"exec-opts": ["native.cgroupdriver=systemd"]}
    assert m.sh("systemctl is-active docker cri-docker").stdout == "active\nactive\n"
    assert m.fs.exists("/run/cri-dockerd.sock")
    assert "Cgroup Driver: systemd" in m.sh("sudo docker info").stdout
    assert setup.status(m)["runtime"] == "docker"


def test_cri_dockerd_runs_even_when_kubeadm_was_never_imported():
    # a fresh interpreter: only aivle_k8s and the setup module, nothing that registers cri-dockerd by accident
    code = ("import sys\n"
            "import aivle_k8s as ak\n"
            "from aivle_k8s.cluster import setup\n"
            "assert 'aivle_k8s.cluster.kubeadm' not in sys.modules\n"
            "m = ak.World(seed=0).machine('w', cpus=2, memory='4Gi')\n"
            "setup.install_runtime(m, 'docker')\n"
            "print(m.sh('systemctl is-active cri-docker').stdout.strip(), m.fs.exists('/run/cri-dockerd.sock'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "active True"


@pytest.mark.parametrize("runtime", ["containerd", "cri-o"])
def test_other_runtimes_do_not_touch_docker(runtime):
    assert not any("docker" in ln for ln in setup.guide("runtime", runtime=runtime))
