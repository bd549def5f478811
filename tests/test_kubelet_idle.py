"""What an idle node costs: the kubelet does what a real one does when nothing changes, and no more.

- the PLEG relists every second but syncs only pods whose containers changed (or every
  ``syncFrequency``, 1 min); a container that exits is still noticed within a second;
- the node status is computed every 10 s but posted only when it changed or every 5 min
  (``nodeStatusReportFrequency``); the Lease, renewed every 10 s, is the heartbeat;
- the Lease is renewed by updating the one last written (no read first); a conflict falls back
  to reading it;
- unchanged static pod manifests are not decoded again; an edited one is picked up.
"""

from __future__ import annotations

import pytest
import yaml

import aivle_k8s as ak
from aivle_k8s.cluster.client import APIClient
from aivle_k8s.cluster.kubelet import Kubelet
from test_kubelet import Cluster


class Counting:
    """An APIClient that records ``(verb, resource)`` of every call."""

    def __init__(self, inner):
        self.inner = inner
        self.calls = []

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if name not in APIClient.VERBS:
            return attr

        def call(*args, **kwargs):
            res = args[0] if args and isinstance(args[0], str) else (args[0].get("kind") if args else None)
            self.calls.append((name, res))
            return attr(*args, **kwargs)

        return call

    def count(self, verb, resource):
        return sum(1 for v, r in self.calls if v == verb and r == resource)


@pytest.fixture
def world():
    return ak.World(seed=0)


@pytest.fixture
def node(world):
    c = Cluster(world, start=False)
    client = Counting(c.client_for("node-1"))
    k = Kubelet(c.machines["node-1"], client)
    c.kubelets["node-1"] = k
    k.start()
    world.advance(1)
    c.counting = client
    return c


def running(c, name):
    return c.state(name)[0] == "running"


def test_a_steady_pod_is_left_alone_but_an_exited_container_is_seen_within_a_second(world, node, monkeypatch):
    k = node.kubelets["node-1"]
    node.run("web")
    assert world.run_until(lambda: running(node, "web"), timeout=60)
    world.advance(5)
    computed = []
    real = k.pod_status
    monkeypatch.setattr(k, "pod_status", lambda w: computed.append(world.now) or real(w))
    world.advance(30)
    assert len(computed) <= 1  # at most the periodic sync (every minute), not 30 relists
    world.advance(90)
    assert 1 <= len(computed) <= 3
    # the container dies: the next relist notices it and the kubelet restarts it at once
    w = k.workers["default/web"]
    cid = w.containers["web"].id
    k.runtime.engine.containers.get(cid).kill()
    died = world.now
    assert world.run_until(lambda: node.status("web").get("restartCount") == 1, timeout=5)
    assert world.now - died <= 1.0 + 1e-9
    assert "terminated" in node.status("web")["lastState"]


def test_node_status_is_posted_when_it_changes_or_every_five_minutes(world, node):
    c = node.counting
    world.advance(30)
    rv = node.admin.get("nodes", "node-1")["metadata"]["resourceVersion"]
    beat = node.node_ready("node-1")["lastHeartbeatTime"]
    updates = c.count("update", "Node")
    world.advance(200)
    assert c.count("update", "Node") == updates  # computed every 10 s, nothing changed: not posted
    assert node.admin.get("nodes", "node-1")["metadata"]["resourceVersion"] == rv
    assert c.count("get", "nodes") >= 20  # but still read and compared every 10 s
    world.advance(100)  # 5 minutes since the last report: posted with a new heartbeat
    assert c.count("update", "Node") == updates + 1
    assert node.node_ready("node-1")["lastHeartbeatTime"] > beat
    # a change (a new image on the node) is posted at the next 10 s tick
    node.run("kit", image="docker.io/library/kit:1.0", command=["kit-sleep", "infinity"])
    assert world.run_until(lambda: running(node, "kit"), timeout=60)
    world.advance(10)
    names = [n for img in node.admin.get("nodes", "node-1")["status"]["images"] for n in img["names"]]
    assert "docker.io/library/kit:1.0" in names


def test_the_lease_is_renewed_without_reading_it_and_a_conflict_falls_back_to_a_read(world, node):
    c = node.counting
    gets, updates = c.count("get", "leases"), c.count("update", "Lease")
    world.advance(60)
    assert c.count("update", "Lease") - updates == 6
    assert c.count("get", "leases") == gets
    # someone else writes the Lease: the optimistic update conflicts, the kubelet reads it and renews
    lease = node.admin.get("leases", "node-1", "kube-node-lease")
    lease["spec"]["holderIdentity"] = "intruder"
    node.admin.update(lease)
    world.advance(10)
    assert c.count("get", "leases") == gets + 1
    lease = node.admin.get("leases", "node-1", "kube-node-lease")
    assert lease["spec"]["holderIdentity"] == "node-1"
    assert lease["spec"]["renewTime"].startswith(world.datetime().strftime("%Y-%m-%dT%H:%M"))
    # the Lease deleted: read, not found, created again
    node.admin.delete("leases", "node-1", "kube-node-lease")
    world.advance(10)
    assert node.admin.get("leases", "node-1", "kube-node-lease")["spec"]["holderIdentity"] == "node-1"


STATIC = """apiVersion: v1
kind: Pod
metadata:
  name: static-web
  namespace: kube-system
spec:
  hostNetwork: true
  containers:
  - name: web
    image: docker.io/library/web:1.0
    command: ["kit-web", "{port}"]
"""


def test_unchanged_static_manifests_are_not_decoded_again(world, node, monkeypatch):
    import aivle_k8s.cluster.kubelet.static as static

    decoded = []
    real = yaml.safe_load
    monkeypatch.setattr(static.yaml, "safe_load", lambda text: decoded.append(text) or real(text))
    m = node.machines["node-1"]
    m.fs.makedirs("/etc/kubernetes/manifests")
    m.fs.write("/etc/kubernetes/manifests/web.yaml", STATIC.format(port=8080))
    m.fs.write("/etc/kubernetes/manifests/bad.yaml", "kind: Deployment\n")
    world.advance(25)
    first = node.admin.get("pods", "static-web-node-1", "kube-system")
    assert len(decoded) == 2
    world.advance(200)  # ten more scans of the directory
    assert len(decoded) == 2
    assert node.kubelets["node-1"]._static.errors["/etc/kubernetes/manifests/bad.yaml"] == 'invalid pod: kind "Deployment"'
    # an edited manifest is decoded and its pod replaced (a new config hash, a new mirror pod)
    m.fs.write("/etc/kubernetes/manifests/web.yaml", STATIC.format(port=8081))
    world.advance(21)
    assert len(decoded) == 3
    again = node.admin.get("pods", "static-web-node-1", "kube-system")
    assert again["metadata"]["annotations"]["kubernetes.io/config.hash"] != \
        first["metadata"]["annotations"]["kubernetes.io/config.hash"]
    assert again["spec"]["containers"][0]["command"] == ["kit-web", "8081"]


def test_removing_the_cni_config_makes_the_node_not_ready_at_the_next_status_update(world, node):
    node.run("web")  # a pod got its address from the CNI plugin: the runtime has an allocator now
    assert world.run_until(lambda: running(node, "web"), timeout=60)
    assert node.kubelets["node-1"].runtime.ip_allocator is not None
    assert node.node_ready("node-1")["status"] == "True"
    node.machines["node-1"].fs.remove("/etc/cni/net.d/10-flannel.conflist")
    world.advance(10)
    ready = node.node_ready("node-1")
    assert ready["status"] == "False" and ready["reason"] == "KubeletNotReady"
    assert "NetworkReady=false reason:NetworkPluginNotReady" in ready["message"]
