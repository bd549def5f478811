"""kubectl top and the resource metrics pipeline: kubelet /metrics/resource -> metrics-server -> metrics.k8s.io."""

from __future__ import annotations

import re

import pytest

import aivle_k8s as ak
from aivle_k8s.cluster.bootstrap import build_cluster
from aivle_k8s.cluster.metrics import (IDLE_MILLICORES, METRICS_SERVER_URL, cpu_quantity, memory_quantity,
                                       parse_prometheus)
from aivle_k8s.cluster.scheduler.quantity import cpu_millis, to_int

INSECURE = ("""patch deployment metrics-server -n kube-system --type=json -p '[{"op":"add","path":"""
            """"/spec/template/spec/containers/0/args/-","value":"--kubelet-insecure-tls"}]'""")


@pytest.fixture
def world():
    return ak.World(seed=0)


@pytest.fixture
def cluster(world):
    return build_cluster(world)


def top_rows(text):
    return [line.split() for line in text.splitlines()[1:]]


def test_quantities_as_metrics_server_serves_them():
    assert [cpu_quantity(n) for n in (143827452, 144000000, 143827000, 2 * 10**9, 0)] == \
        ["143827452n", "144m", "143827u", "2", "0"]
    assert [memory_quantity(n) for n in (1320812 * 1024, 16 * 1024**2, 512, 1025)] == \
        ["1320812Ki", "16Mi", "512", "1025"]


def test_top_needs_metrics_server_and_on_kubeadm_its_insecure_tls_flag(world, cluster):
    k = cluster.kubectl
    r = k("top nodes")
    assert (r.exit_code, r.stdout, r.stderr) == (1, "", "error: Metrics API not available\n")
    assert k("top pods -A").stderr == "error: Metrics API not available\n"

    r = k(f"apply -f {METRICS_SERVER_URL}")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == [
        "serviceaccount/metrics-server created",
        "clusterrole.rbac.authorization.k8s.io/system:aggregated-metrics-reader created",
        "clusterrole.rbac.authorization.k8s.io/system:metrics-server created",
        "rolebinding.rbac.authorization.k8s.io/metrics-server-auth-reader created",
        "clusterrolebinding.rbac.authorization.k8s.io/metrics-server:system:auth-delegator created",
        "clusterrolebinding.rbac.authorization.k8s.io/system:metrics-server created",
        "service/metrics-server created",
        "deployment.apps/metrics-server created",
        "apiservice.apiregistration.k8s.io/v1beta1.metrics.k8s.io created"]
    world.advance(60)
    # the kubelets' serving certificates are self-signed for their host names: every scrape fails
    pods = k("get pods -n kube-system -l k8s-app=metrics-server").stdout.splitlines()
    assert len(pods) == 2 and pods[1].split()[1:3] == ["0/1", "Running"]
    api = k("get apiservices").stdout.splitlines()
    assert api[0].split() == ["NAME", "SERVICE", "AVAILABLE", "AGE"]
    assert re.match(r"v1beta1\.metrics\.k8s\.io +kube-system/metrics-server +False \(MissingEndpoints\) +\d+s$",
                    api[1])
    assert k("top nodes").stderr == "error: Metrics API not available\n"
    logs = k("logs -n kube-system deploy/metrics-server").stdout
    assert ('"Failed to scrape node" err="Get \\"https://10.0.0.11:10250/metrics/resource\\": tls: failed to verify '
            'certificate: x509: cannot validate certificate for 10.0.0.11 because it doesn\'t contain any IP SANs" '
            'node="worker-1"') in logs
    events = k("get events -n kube-system --field-selector reason=Unhealthy").stdout
    assert "Readiness probe failed: HTTP probe failed with statuscode: 500" in events

    # the fix the metrics-server README gives for kubeadm clusters
    assert k(INSECURE).stdout == "deployment.apps/metrics-server patched\n"
    world.advance(60)
    assert "True" in k("get apiservice v1beta1.metrics.k8s.io").stdout.splitlines()[1].split()
    r = k("top nodes")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == "NAME       CPU(cores)   CPU%   MEMORY(bytes)   MEMORY%   "
    assert [row[0] for row in top_rows(r.stdout)] == ["master", "worker-1", "worker-2"]
    for row in top_rows(r.stdout):
        node = cluster.nodes.get(row[0], namespace=None).raw
        alloc = node["status"]["allocatable"]
        cpu, mem = int(row[1].rstrip("m")), int(row[3].rstrip("Mi"))
        assert row[2] == f"{int(cpu / cpu_millis(alloc['cpu']) * 100)}%"
        assert abs(int(row[4].rstrip("%")) - mem * 1024**2 * 100 // to_int(alloc["memory"])) <= 1
    master = top_rows(r.stdout)[0]
    assert int(master[1].rstrip("m")) >= sum(IDLE_MILLICORES[p] for p in (
        "kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler", "kubelet"))

    pods = k("top pods -A").stdout
    assert pods.splitlines()[0] == "NAMESPACE      NAME                             CPU(cores)   MEMORY(bytes)   "
    rows = {row[1]: row for row in top_rows(pods)}
    assert rows["kube-apiserver-master"][2:] == ["38m", "300Mi"]
    assert rows["etcd-master"][2:] == ["21m", "60Mi"]
    assert k("top pod nope").stderr == \
        'Error from server (NotFound): podmetrics.metrics.k8s.io "default/nope" not found\n'
    assert k("top pods").stderr == "No resources found in default namespace.\n"

    # load shows up: a CPU hog on a worker
    assert k("create deployment hog --image=aivle/hog:1.0").exit_code == 0
    world.advance(60)
    hog = k("top pods -l app=hog --no-headers").stdout
    assert re.fullmatch(r"hog-\S+ +1000m +\d+Mi +\n", hog), hog
    by_cpu = top_rows(k("top pods -A --sort-by=cpu").stdout)
    assert by_cpu[0][1].startswith("hog-")
    node = k("get pods -l app=hog -o wide --no-headers").stdout.split()[6]
    busy = {row[0]: row for row in top_rows(k("top nodes").stdout)}[node]
    assert int(busy[1].rstrip("m")) > 1000 and int(busy[2].rstrip("%")) >= 50
    assert top_rows(k("top nodes --sort-by=cpu").stdout)[0][0] in (node, "master")
    c = k("top pods -n kube-system --containers").stdout.splitlines()
    assert c[0].split() == ["POD", "NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert k("top nodes --sort-by=disk").stderr == "error: --sort-by accepts only cpu or memory\n"


def test_the_kubelet_serves_resource_metrics_to_callers_with_a_token(world, cluster):
    from aivle_k8s.linux.http import request

    master = world.machines["master"]
    url = "https://10.0.0.11:10250/metrics/resource"
    assert request(world.net, master.netns, "GET", url).status == 401
    first = request(world.net, master.netns, "GET", url, headers={"Authorization": "Bearer abc"})
    assert first.status == 200 and first.header("Content-Type").startswith("text/plain; version=0.0.4")
    assert "# TYPE node_cpu_usage_seconds_total counter\n" in first.text
    world.advance(10)
    second = request(world.net, master.netns, "GET", url, headers={"Authorization": "Bearer abc"}).text

    def value(text, name, **labels):
        return next(v for n, lab, v, _ in parse_prometheus(text) if n == name and
                    all(lab.get(k_) == v_ for k_, v_ in labels.items()))

    grown = value(second, "node_cpu_usage_seconds_total") - value(first.text, "node_cpu_usage_seconds_total")
    # 10 s of the worker's idle load: kubelet, containerd, kube-proxy, flanneld, the OS
    assert 0.1 < grown < 1.0
    proxy = [lab for n, lab, _, _ in parse_prometheus(second) if n == "container_memory_working_set_bytes"
             and lab.get("container") == "kube-proxy"]
    assert len(proxy) == 1 and proxy[0]["namespace"] == "kube-system"
    assert value(second, "container_memory_working_set_bytes", container="kube-proxy") == 25 * 1024**2


def test_user_agents_of_the_aggregator_loopback_and_metrics_server(world):
    """The API server's loopback client (APIService availability) names kube-apiserver; metrics-server
    sets none, so client-go's default for a binary built outside Kubernetes is sent."""
    from aivle_k8s.cluster import trace
    from aivle_k8s.cluster.client import user_agent

    cluster = build_cluster(world, workers=("worker-1",))
    with trace.audit(cluster) as log:
        assert cluster.kubectl(f"apply -f {METRICS_SERVER_URL}").exit_code == 0
        world.advance(60)
    agents = {e.user: e.user_agent for e in log.events}
    assert agents["system:apiserver"] == user_agent("kube-apiserver", "v1.30.8")
    assert agents["system:serviceaccount:kube-system:metrics-server"] == \
        "metrics-server/v0.0.0 (linux/amd64) kubernetes/$Format"
    leases = {e.user_agent for e in log.events if e.resource == "leases" and e.user == "system:kube-scheduler"}
    assert leases == {user_agent("kube-scheduler", "v1.30.8", suffix="leader-election")}
