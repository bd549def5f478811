"""CoreDNS: Service names resolve from pods through the kube-dns ClusterIP."""

from __future__ import annotations

from aivle_k8s.cluster.client import APIClient
from aivle_k8s.cluster.coredns import DEFAULT_COREFILE, coredns_image
from aivle_k8s.cluster.kube_proxy import KubeProxy
from test_kubelet import Cluster, world  # noqa: F401  (fixture)


def test_service_name_resolves_from_a_pod(world):
    c = Cluster(world, workers=("node-1", "node-2"))
    world.docker_hub.put_image("coredns/coredns", "v1.11.1", coredns_image())  # registry.k8s.io in real life
    for name, m in c.machines.items():
        KubeProxy(world.net, name, APIClient(world.net, m.netns, c.server, "system:kube-proxy"), world.loop).start()
    a = c.admin
    a.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "coredns", "namespace": "kube-system"}})
    a.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "namespace": "kube-system"},
              "data": {"Corefile": DEFAULT_COREFILE}})
    a.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "coredns-1", "namespace": "kube-system"},
              "spec": {"nodeName": "node-1", "serviceAccountName": "coredns", "dnsPolicy": "Default",
                       "containers": [{"name": "coredns", "image": "docker.io/coredns/coredns:v1.11.1",
                                       "args": ["-conf", "/etc/coredns/Corefile"],
                                       "volumeMounts": [{"name": "config-volume", "mountPath": "/etc/coredns"}]}],
                       "volumes": [{"name": "config-volume", "configMap": {"name": "coredns"}}]}})
    a.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kube-dns", "namespace": "kube-system"},
              "spec": {"clusterIP": "10.96.0.10", "selector": {"k8s-app": "kube-dns"},
                       "ports": [{"name": "dns", "port": 53, "protocol": "UDP"},
                                 {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]}})
    c.run("web-1", node="node-2")
    a.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
              "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    c.run("client", node="node-1", image="docker.io/library/kit:1.0", command=["kit-sleep", "infinity"])
    world.advance(10)
    dns_ip = a.get("pods", "coredns-1", "kube-system")["status"]["podIP"]
    a.create({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "kube-dns", "namespace": "kube-system"},
              "subsets": [{"addresses": [{"ip": dns_ip}], "ports": [{"name": "dns", "port": 53, "protocol": "UDP"},
                                                                   {"name": "dns-tcp", "port": 53,
                                                                    "protocol": "TCP"}]}]})
    a.create({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web", "namespace": "default"},
              "subsets": [{"addresses": [{"ip": c.pod("web-1")["status"]["podIP"]}], "ports": [{"port": 80}]}]})
    world.advance(2)
    for name in ("web", "web.default", "web.default.svc.cluster.local"):
        res = a.exec("client", "default", ["kit-get", f"http://{name}/"])
        assert (res.exit_code, res.stdout) == (0, b"hello from kit\n"), res
    res = a.exec("client", "default", ["kit-get", "http://nope.default.svc.cluster.local/"])
    assert res.exit_code != 0 and b"Could not resolve host: nope.default.svc.cluster.local" in res.stderr
    assert a.logs("coredns-1", "kube-system").startswith(".:53\n")


def test_coredns_1_11_1_sends_client_gos_default_user_agent():
    """CoreDNS 1.11.1 sets no User-Agent of its own (1.11.2 does): the audit log shows client-go's default."""
    import aivle_k8s as ak
    from aivle_k8s.cluster import trace
    from aivle_k8s.cluster.bootstrap import build_cluster

    world = ak.World(seed=0)
    cluster = build_cluster(world, workers=())
    with trace.audit(cluster) as log:
        assert cluster.kubectl("delete pod -n kube-system -l k8s-app=kube-dns").exit_code == 0
        world.advance(30)
    mine = [e for e in log.events if e.user == "system:serviceaccount:kube-system:coredns"]
    assert mine and {e.user_agent for e in mine} == {"coredns/v0.0.0 (linux/amd64) kubernetes/$Format"}
