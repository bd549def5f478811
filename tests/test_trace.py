"""The request tracer: the API server's audit events and trace.follow through a real (simulated) cluster."""

import random

import pytest

import aivle_k8s as ak
from aivle_k8s.cluster import trace
from aivle_k8s.cluster.apiserver import APIServer
from aivle_k8s.cluster.apiserver.audit import AuditLog, component_of
from aivle_k8s.cluster.bootstrap import build_cluster
from aivle_k8s.cluster.etcd import Store
from aivle_k8s.sim.clock import Loop
from aivle_k8s.sim.errors import AivleError, InvalidInput

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: c
        image: {image}
        ports:
        - containerPort: 80
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector: {{app: {name}}}
  ports:
  - port: 80
    targetPort: 80
"""


def deployment(name, image="nginx:1.25"):
    return DEPLOYMENT.format(name=name, image=image)


@pytest.fixture(scope="module")
def cluster():
    return build_cluster(ak.World(seed=0))


@pytest.fixture
def api():
    loop = Loop()
    return APIServer(Store(loop), now=lambda: "2025-03-03T09:00:00Z", rng=random.Random(0), loop=loop)


CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}}


# -- the audit hook ------------------------------------------------------------------------------------------
def test_without_a_sink_nothing_is_recorded_and_requests_work(api):
    api.create(CM, user="kubernetes-admin")
    assert api.audit_sinks == [] and api._audit_seq == 0


def test_a_write_is_audited_with_its_path_user_code_and_revision(api):
    log = AuditLog()
    api.add_audit_sink(log)
    before = api.storage.revision
    api.create(CM, user="kubernetes-admin")
    (e,) = log.events
    assert (e.stage, e.verb, e.request_uri, e.code, e.status_text) == (
        "ResponseComplete", "create", "/api/v1/namespaces/default/configmaps", 201, "201 Created")
    assert (e.user, e.component, e.name, e.revision_before, e.revision) == (
        "kubernetes-admin", "kubectl", "a", before, api.storage.revision)
    assert e.decision == "allow" and 'ClusterRoleBinding "kubeadm:cluster-admins"' in e.authorization_reason
    assert e.response_object["data"] == {"k": "v"}
    assert e.as_dict()["responseStatus"]["code"] == 201


def test_request_received_comes_first_and_only_the_log_omits_it(api):
    seen = []
    api.add_audit_sink(seen.append)
    api.get("namespaces", "default", user="kubernetes-admin")
    assert [e.stage for e in seen] == ["RequestReceived", "ResponseComplete"]
    assert seen[0].audit_id == seen[1].audit_id and seen[0].code is None


def test_a_read_is_not_a_write(api):
    log = AuditLog()
    api.add_audit_sink(log)
    api.list("pods", None, user="kubernetes-admin")
    (e,) = log.events
    assert e.verb == "list" and e.revision is None and e.request_object is None and e.ok


@pytest.mark.parametrize("obj, user, phase, code", [
    ({**CM, "metadata": {"name": "Bad_Name"}}, "kubernetes-admin", "validation", 422),
    ({**CM, "datta": {}}, "kubernetes-admin", "decoding", 400),
    ({**CM, "metadata": {"name": "a", "namespace": "nope"}}, "kubernetes-admin", "admission", 404),
    (CM, "system:anonymous", "authorization", 403),
])
def test_a_refused_request_names_the_phase_and_writes_nothing(api, obj, user, phase, code):
    log = AuditLog()
    api.add_audit_sink(log)
    before = api.storage.revision
    with pytest.raises(AivleError):
        api.create(obj, user=user)
    (e,) = log.events
    assert (e.phase, e.code, e.revision, e.revision_before) == (phase, code, None, before)
    assert api.storage.revision == before
    if phase == "admission":
        assert e.admission_plugin == "NamespaceLifecycle" and 'namespaces "nope" not found' in e.message
    if phase == "authorization":
        assert e.decision == "forbid"


def test_one_request_one_event_even_when_the_server_calls_itself(api):
    log = AuditLog()
    api.add_audit_sink(log)
    # server-side apply of a missing object creates it through create(): still one request
    api.patch("configmaps", "b", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}},
              user="kubernetes-admin", patch_type="apply", field_manager="me")
    assert [(e.verb, e.resource, e.name) for e in log.events] == [("patch", "configmaps", "b")]
    assert api._audit_depth == 0


def test_removing_the_sink_stops_the_recording(api):
    log = AuditLog()
    api.add_audit_sink(log)
    api.remove_audit_sink(log)
    api.create(CM, user="kubernetes-admin")
    assert len(log) == 0


def test_the_log_keeps_its_capacity():
    log = AuditLog(capacity=2)
    for i in range(3):
        log(type("E", (), {"stage": "ResponseComplete", "verb": "get"})())
    assert len(log) == 2 and log.dropped == 1


@pytest.mark.parametrize("user, component", [
    ("kubernetes-admin", "kubectl"), ("system:kube-scheduler", "kube-scheduler"),
    ("system:kube-controller-manager", "kube-controller-manager"),
    ("system:serviceaccount:kube-system:replicaset-controller", "kube-controller-manager"),
    ("system:node:worker-1", "kubelet"), ("system:serviceaccount:kube-system:kube-proxy", "kube-proxy"),
    ("system:bootstrap:abcdef", "kubeadm"), ("someone", "someone")])
def test_components_are_named_from_their_credentials(user, component):
    assert component_of(user) == component


# -- follow: a Deployment end to end -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def web(cluster):
    return trace.follow(cluster, deployment("web"))


def test_a_deployment_goes_through_every_component_in_order(web):
    assert not web.rejected
    assert web.components() == ["kubectl", "kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler",
                                "kubelet", "container runtime"]
    order = [s.component for s in web.steps]
    assert order[0] == "kubectl"
    assert order.index("kube-controller-manager") < order.index("kube-scheduler") < order.index("container runtime")
    assert [s.seq for s in web.steps] == list(range(1, len(web.steps) + 1))
    assert all(a.time <= b.time for a, b in zip(web.steps, web.steps[1:]))


def test_the_api_server_pipeline_and_the_etcd_write_of_kubectls_create(web, cluster):
    stages = [s.actor for s in web.steps if s.component == "kube-apiserver" and s.kind == "apiserver"][:6]
    assert stages == ["routing", "authentication", "authorization", "decoding", "admission", "validation"]
    kv = trace.etcd_get(cluster, "/registry/deployments/default/web")
    assert web.stored[0] == ("/registry/deployments/default/web", kv["create_revision"])
    admission = next(s for s in web.steps if s.actor == "admission")
    assert any(d.startswith("spec.strategy") for d in admission.details)  # the defaults the server filled in
    assert web.revision_before < web.revision_after <= web.revision_end


def test_controllers_are_named_from_what_they_wrote(web, cluster):
    rs = cluster.replicasets.list(label_selector="app=web")[0]
    made_rs = [s for s in web.steps if s.actor == "deployment-controller" and s.action.startswith("created")]
    assert made_rs and rs.name in made_rs[0].action
    pods = [s for s in web.steps if s.actor == "replicaset-controller" and s.action.startswith("created Pod")]
    assert len(pods) == 2 and all(rs.name in s.action for s in pods)


def test_the_scheduler_steps_match_where_the_pods_are(web, cluster):
    actual = {p.name: p.raw["spec"]["nodeName"] for p in cluster.pods.list(label_selector="app=web")}
    assert web.scheduled == actual
    for pod, node in actual.items():
        ex = web.explanations[pod]
        assert node in ex.feasible and "master" not in ex.feasible
        assert ex.verdict("master")[1] == "TaintToleration"
        assert any(s.kind == "binding" and pod in s.action and node in s.action for s in web.steps)


def test_kubelet_and_runtime_steps_happen_on_the_pods_nodes(web):
    for pod, node in web.scheduled.items():
        runtime = [s for s in web.steps_of("container runtime", node) if pod in s.action]
        assert any("sandbox" in s.action and "started" in s.action for s in runtime)
        assert any("started container c" in s.action for s in runtime)
        reports = [s.action for s in web.steps_of("kubelet", node) if s.kind == "status" and pod in s.action]
        assert reports and "Running" in reports[-1] and "Ready True" in reports[-1]
    assert any(s.kind == "image" and "docker.io/library/nginx:1.25" in s.action for s in web.steps)


def test_a_trace_renders_as_text_grouped_by_node(web):
    text = web.timeline()
    assert text.splitlines()[0].startswith("trace of `kubectl apply -f -`")
    assert len(text.splitlines()) == len(web.steps) + 1
    by_node = web.by_node()
    assert list(by_node)[0] == "master" and set(by_node) == {"master", "worker-1", "worker-2"}
    assert "kube-scheduler" in by_node["master"] and "kubelet" not in by_node["master"]
    assert "kube-controller-manager" in web.summary()
    assert "<table>" in web._repr_html_()


def test_a_service_is_programmed_by_kube_proxy_on_every_node(cluster, web):
    t = trace.follow(cluster, SERVICE.format(name="web"))
    ip = cluster.services.get("web").spec["clusterIP"]
    pods = sorted(p.raw["status"]["podIP"] for p in cluster.pods.list(label_selector="app=web"))
    assert any(s.actor == "endpoint-controller" and all(p in s.action for p in pods) for s in t.steps)
    for node in ("master", "worker-1", "worker-2"):
        rules = t.steps_of("kube-proxy", node)
        assert rules and ip in rules[-1].action and all(f"{p}:80" in rules[-1].action for p in pods)


def test_scaling_is_followed_from_the_deployment_to_the_new_pod(cluster, web):
    t = trace.follow(cluster, "kubectl scale deployment web --replicas=3")
    assert t.action == "kubectl scale deployment web --replicas=3" and not t.rejected
    assert any(s.actor == "deployment-controller" and "spec.replicas: 3" in s.action for s in t.steps)
    assert len(t.scheduled) == 1


def test_a_deleted_pod_is_replaced_and_the_trace_shows_who_did_it(cluster, web):
    victim = cluster.pods.list(label_selector="app=web")[0].name
    t = trace.follow(cluster, lambda: cluster.kubectl(f"delete pod {victim}"))
    assert t.action == "<lambda>()"
    assert any(s.kind == "sync" and victim in s.action and "deleted" in s.action for s in t.steps)
    assert any(s.component == "etcd" and s.action.startswith(f"DELETE /registry/pods/default/{victim}")
               for s in t.steps)
    assert any(s.actor == "replicaset-controller" and s.action.startswith("created Pod") for s in t.steps)


# -- follow: refusals ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("manifest, phase", [
    (deployment("nosel").replace("  selector:\n    matchLabels: {app: nosel}\n", ""), "validation"),
    (deployment("typo").replace("replicas: 2", "replica: 2"), "decoding"),
    (deployment("lost").replace("name: lost\n", "name: lost\n  namespace: nowhere\n", 1), "admission"),
])
def test_a_refused_manifest_stops_at_its_phase_and_etcd_does_not_move(cluster, manifest, phase):
    t = trace.follow(cluster, manifest)
    assert t.rejected and t.rejection.phase == phase
    assert t.revision_before == t.revision_after
    assert t.finished == t.started  # nothing was stored: nothing to wait for
    refused = [s for s in t.steps if not s.ok]
    assert refused[-1].component == "etcd"
    assert refused[-1].action == f"nothing written: revision stays {t.revision_before}"
    assert any(s.component == "kube-apiserver" and s.actor == phase and not s.ok for s in t.steps)
    assert t.error.strip()


def test_a_manifest_kubectl_cannot_read_never_reaches_the_api_server(cluster):
    t = trace.follow(cluster, "apiVersion: v1\nkind: Pod\nmetadata: [oops\n")
    assert t.rejected and t.requests == [] and t.rejection is None
    assert [s.component for s in t.steps] == ["kubectl", "kube-apiserver", "etcd"]
    assert "error parsing" in t.steps[0].action


def test_a_pod_too_big_waits_with_the_schedulers_message(cluster):
    t = trace.follow(cluster, "apiVersion: v1\nkind: Pod\nmetadata: {name: huge}\nspec:\n  containers:\n"
                              "  - {name: c, image: nginx:1.25, resources: {requests: {cpu: '3'}}}\n")
    failed = [s for s in t.steps_of("kube-scheduler") if not s.ok]
    assert failed and "0/3 nodes are available" in failed[0].action and "2 Insufficient cpu" in failed[0].action
    assert t.explanations["huge"].fits is False and t.scheduled == {}


@pytest.mark.parametrize("action", ["", "   \n", 42])
def test_nothing_to_do_is_an_error(cluster, action):
    with pytest.raises(InvalidInput):
        trace.follow(cluster, action)


# -- explain_scheduling, etcd, audit, cluster_of ----------------------------------------------------------------
def test_explain_a_new_pod_from_a_manifest(cluster):
    ex = trace.explain_scheduling(cluster, "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
                                           "spec: {containers: [{name: c, image: nginx}]}\n")
    assert ex.nodes == ["master", "worker-1", "worker-2"] and ex.fits
    assert set(ex.feasible) == {"worker-1", "worker-2"} and ex.best and set(ex.best) <= set(ex.feasible)
    assert ex.totals[ex.best[0]] == max(ex.totals.values())
    assert "TaintToleration" in ex.table() and "master: filtered out by TaintToleration" in ex.summary()


def test_explain_a_workload_template_with_a_node_selector(cluster):
    text = deployment("sel").replace("    spec:\n      containers:",
                                     "    spec:\n      nodeSelector: {kubernetes.io/hostname: worker-2}\n"
                                     "      containers:")
    ex = trace.explain_scheduling(cluster, text)
    assert ex.feasible == ["worker-2"] and ex.verdict("worker-1")[1] == "NodeAffinity"


def test_explain_an_existing_pod_as_if_it_were_new(cluster, web):
    pod = cluster.pods.list(label_selector="app=web")[0]
    ex = trace.explain_scheduling(cluster, pod.name)
    assert ex.scheduled_on == pod.raw["spec"]["nodeName"] and ex.fits


@pytest.mark.parametrize("manifest, words", [
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec: {containers: [{name: c, image: x, "
     "resources: {requests: {cpu: lots}}}]}\n", "quantities must match"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec: {containers: [{name: c}]}\n", "image: Required value"),
    ("apiVersion: v1\nkind: Service\nmetadata: {name: q}\n", "has no pods to schedule"),
])
def test_explain_refuses_what_the_api_server_would(cluster, manifest, words):
    with pytest.raises(AivleError, match=words):
        trace.explain_scheduling(cluster, manifest)


def test_etcd_revision_and_keys(cluster, web):
    rev = trace.etcd_revision(cluster)
    kv = trace.etcd_get(cluster, "/registry/deployments/default/web")
    dep = cluster.deployments.get("web")
    assert kv["create_revision"] <= kv["mod_revision"] <= rev
    assert str(kv["mod_revision"]) == dep.metadata["resourceVersion"]
    assert kv["value"]["metadata"]["uid"] == dep.uid
    assert trace.etcd_get(cluster, "/registry/deployments/default/none") is None


def test_audit_records_the_kubelets_lease_renewals_every_ten_seconds(cluster):
    with trace.audit(cluster) as log:
        cluster.world.advance(30)
    times = [e.time for e in log.events if e.user == "system:node:worker-1" and e.resource == "leases"
             and e.verb == "update"]
    assert len(times) == 3 and {round(b - a, 6) for a, b in zip(times, times[1:])} == {10.0}
    assert cluster.client.apiserver().audit_sinks == []


def test_cluster_of_finds_the_cluster_of_a_world(cluster):
    assert trace.cluster_of(cluster.world).machine.name == "master"
    with pytest.raises(InvalidInput, match="no Kubernetes cluster"):
        trace.cluster_of(ak.World(seed=1))


def test_same_seed_same_trace():
    texts = []
    for _ in range(2):
        c = build_cluster(ak.World(seed=3))
        texts.append(trace.follow(c, deployment("same")).timeline(details=True))
    assert texts[0] == texts[1]


# -- components named by User-Agent and source address ---------------------------------------------------------
from types import SimpleNamespace  # noqa: E402

from aivle_k8s.cluster.apiserver.audit import node_of  # noqa: E402
from aivle_k8s.cluster.client import user_agent  # noqa: E402


def _event(user, ua="", ips=()):
    return SimpleNamespace(user=user, component=component_of(user), node=node_of(user), user_agent=ua,
                           source_ips=tuple(ips))


@pytest.mark.parametrize("ua, expected", [
    ("kube-proxy/v1.30.2 (linux/amd64) kubernetes/3968350", ("kube-proxy", "")),
    ("kubelet/v1.30.2 (linux/amd64) kubernetes/3968350", ("kubelet", "")),
    ("kube-scheduler/v1.30.2 (linux/amd64) kubernetes/3968350/scheduler", ("kube-scheduler", "scheduler")),
    ("kube-controller-manager/v1.30.2 (linux/amd64) kubernetes/3968350/system:serviceaccount:kube-system:"
     "endpointslice-controller", ("kube-controller-manager", "endpointslice-controller")),
    ("kubectl/v1.30.2 (linux/amd64) kubernetes/3968350", ("kubectl", "")),
    ("", ("", ""))])
def test_component_of_user_agent(ua, expected):
    assert trace.component_of_user_agent(ua) == expected


def test_who_tells_the_kube_proxies_apart_by_their_source_address(cluster):
    world = cluster.world
    sa = "system:serviceaccount:kube-system:kube-proxy"
    ua = user_agent("kube-proxy")
    seen = {trace.who(_event(sa, ua, [world.machines[n].ip]), world) for n in ("master", "worker-1", "worker-2")}
    assert seen == {("kube-proxy", "master", ""), ("kube-proxy", "worker-1", ""), ("kube-proxy", "worker-2", "")}
    # without a User-Agent or address: the credential alone (one kube-proxy, node unknown)
    assert trace.who(_event(sa), world) == ("kube-proxy", None, "")
    # a kubelet's node comes from its credential; its User-Agent changes nothing there
    assert trace.who(_event("system:node:worker-1", user_agent("kubelet"), ["127.0.0.1"]), world) == \
        ("kubelet", "worker-1", "")
    # a controller with its own client names itself
    cm = user_agent("kube-controller-manager", suffix="system:serviceaccount:kube-system:job-controller")
    assert trace.who(_event("system:serviceaccount:kube-system:job-controller", cm,
                            [world.machines["master"].ip]), world) == \
        ("kube-controller-manager", "master", "job-controller")


def test_audit_events_record_user_agent_and_source_ip_of_each_node(cluster):
    from aivle_k8s.cluster.client import APIClient

    world = cluster.world
    base = cluster.client
    sa = "system:serviceaccount:kube-system:kube-proxy"
    with trace.audit(cluster) as log:
        for name in ("worker-1", "worker-2"):
            m = world.machines[name]
            c = APIClient(world.net, m.netns, base.server, sa, user_agent=user_agent("kube-proxy"))
            c.list("endpointslices")
    mine = [e for e in log.events if e.user == sa and e.resource == "endpointslices"]
    assert [trace.who(e, world) for e in mine] == [("kube-proxy", "worker-1", ""), ("kube-proxy", "worker-2", "")]
    assert mine[0].as_dict()["userAgent"] == user_agent("kube-proxy")
    assert mine[0].as_dict()["sourceIPs"] == [world.machines["worker-1"].ip]


def test_each_nodes_kube_proxy_is_told_apart_in_a_trace_by_its_user_agent_and_address(cluster):
    """Restarted kube-proxies list and watch again: every request carries kube-proxy's User-Agent (client-go's
    ``kube-proxy/<image version> (linux/amd64) kubernetes/<commit>``) and its node's address."""
    world = cluster.world
    t = trace.follow(cluster, lambda: cluster.kubectl("delete pod -n kube-system -l k8s-app=kube-proxy"))
    proxies = [e for e in t.all_requests if e.user_agent.startswith("kube-proxy/")]
    assert {e.user_agent for e in proxies} == {user_agent("kube-proxy", "v1.30.8")}  # the image kubeadm pulled
    assert {trace.who(e, world) for e in proxies} == {("kube-proxy", n, "") for n in ("master", "worker-1", "worker-2")}
    # the other components name themselves too
    agents = {e.user_agent.split("/", 1)[0] for e in t.all_requests if e.user_agent}
    assert {"kubectl", "kube-controller-manager", "kube-scheduler", "kubelet"} <= agents


def test_each_controller_of_the_controller_manager_sends_its_service_account_in_its_user_agent(cluster):
    world = cluster.world
    manifest = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ua-web}\nspec:\n  replicas: 1\n"
                "  selector: {matchLabels: {app: ua-web}}\n  template:\n    metadata: {labels: {app: ua-web}}\n"
                "    spec: {containers: [{name: nginx, image: 'nginx:1.25'}]}\n")
    with trace.audit(cluster) as log:
        cluster.apply(manifest)
        world.advance(10)
    by = {(e.verb, e.resource): e.user_agent for e in log.events if e.stage == "ResponseComplete"
          and e.verb == "create" and not e.subresource and e.resource in ("replicasets", "pods")
          and "ua-web" in (e.name or e.request_uri)}
    assert by[("create", "replicasets")].startswith("kube-controller-manager/v1.30.")
    assert by[("create", "replicasets")].endswith("/system:serviceaccount:kube-system:deployment-controller")
    assert by[("create", "pods")].endswith("/system:serviceaccount:kube-system:replicaset-controller")
