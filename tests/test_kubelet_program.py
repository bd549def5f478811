"""The `kubelet` program the systemd unit runs."""

from __future__ import annotations

import aivle_k8s as ak
import aivle_k8s.cluster.kubelet  # noqa: F401  (registers the program)
from aivle_k8s.linux.kernel import programs
from aivle_k8s.linux.kernel import Stream


def run_kubelet(machine, argv):
    err = Stream("stderr")
    proc = machine.kernel.start(programs()["kubelet"], ["kubelet", *argv], ns=machine.ns, stderr=err)
    machine.world.advance(1)
    return proc, err.text()


def test_kubelet_exits_without_its_config_file_like_before_kubeadm_init():
    m = ak.World(seed=0).machine("node-1")
    proc, err = run_kubelet(m, ["--config=/var/lib/kubelet/config.yaml", "--kubeconfig=/etc/kubernetes/kubelet.conf"])
    assert proc.exit_code == 1
    assert ' run.go:74] "command failed" err="failed to load kubelet config file, path: /var/lib/kubelet/config.yaml, ' \
           'error: ' in err and "open /var/lib/kubelet/config.yaml: no such file or directory" in err
    assert err.startswith("E0303 09:00:")


def test_kubelet_exits_with_swap_on():
    m = ak.World(seed=0).machine("node-1")
    m.sh("sudo apt-get install -y containerd")
    m.fs.makedirs("/var/lib/kubelet")
    m.fs.write("/var/lib/kubelet/config.yaml", "apiVersion: kubelet.config.k8s.io/v1beta1\n"
                                               "kind: KubeletConfiguration\ncgroupDriver: systemd\n")
    proc, err = run_kubelet(m, ["--config=/var/lib/kubelet/config.yaml"])
    assert proc.exit_code == 1 and "running with swap on is not supported, please disable swap!" in err
