"""The CRI runtime: pod sandboxes (pause containers), containers sharing the pod's network, images."""

from __future__ import annotations

import pytest

from aivle_k8s.engine import Engine
from aivle_k8s.runtime import (CONTAINER_CREATED, CONTAINER_EXITED, CONTAINER_RUNNING, SANDBOX_NOTREADY,
                               SANDBOX_READY, ContainerConfig, ContainerFilter, DNSConfig, ImageService,
                               PodSandboxConfig, PortMapping, Resources, RuntimeService, SimulatedRuntime)
from aivle_k8s.sim.errors import Conflict, ContainerError, ImageNotFound, NotFound
from test_engine import hub, kit_image, new_engine, new_machine, world  # noqa: F401  (fixtures)


@pytest.fixture
def rt(world):
    engine = new_engine(world, "node-1")
    engine.store.add(kit_image(cmd=("kit-web",), exposed_ports=("80/tcp",)), tags=["web:1"])
    return SimulatedRuntime(engine)


def pod(name="web", **kw):
    return PodSandboxConfig(name, "default", uid=f"uid-{name}", **kw)


def test_it_implements_both_cri_services(rt):
    assert isinstance(rt, RuntimeService) and isinstance(rt, ImageService)
    assert rt.version().runtime_api_version == "v1"


def test_sandbox_is_a_pause_container_with_the_pod_ip(rt):
    pod_id = rt.run_pod_sandbox(pod())
    status = rt.pod_sandbox_status(pod_id)
    assert status.state == SANDBOX_READY and status.ip == "172.17.0.2"
    pause = rt.engine.containers.get(pod_id)
    assert pause.image_ref == "registry.k8s.io/pause:3.9" and pause.labels["io.kubernetes.pod.name"] == "web"
    assert pause.exec_run  # it is an ordinary container of the engine
    assert [p.metadata.name for p in rt.list_pod_sandbox()] == ["web"]


def test_two_containers_of_a_pod_share_ip_and_localhost(rt):
    sandbox = pod()
    pod_id = rt.run_pod_sandbox(sandbox)
    web = rt.create_container(pod_id, ContainerConfig("web", "web:1"), sandbox)
    side = rt.create_container(pod_id, ContainerConfig("sidecar", "kit", command=["kit-sleep", "infinity"]), sandbox)
    rt.start_container(web)
    rt.start_container(side)
    out = rt.exec_sync(side, ["kit-get", "http://localhost:80/"])
    assert (out.exit_code, out.stdout) == (0, b"hello from kit\n")
    engine = rt.engine
    assert engine.containers.get(web).ip == engine.containers.get(side).ip == rt.pod_sandbox_status(pod_id).ip
    labels = rt.list_containers(ContainerFilter(id=side))[0].labels
    assert labels["io.kubernetes.container.name"] == "sidecar" and labels["io.kubernetes.pod.namespace"] == "default"
    assert {c.metadata.name for c in rt.list_containers(ContainerFilter(pod_sandbox_id=pod_id))} == {"web", "sidecar"}


def test_containers_share_the_pod_hostname(rt):
    sandbox = pod(hostname="web-0")
    pod_id = rt.run_pod_sandbox(sandbox)
    cid = rt.create_container(pod_id, ContainerConfig("info", "kit", command=["kit-info"]), sandbox)
    rt.start_container(cid)
    rt.engine.world.advance(1)
    assert b"hostname=web-0" in rt.container_logs(cid)


def test_container_status_states_and_reasons(rt):
    sandbox = pod()
    pod_id = rt.run_pod_sandbox(sandbox)
    ok = rt.create_container(pod_id, ContainerConfig("ok", "kit", command=["kit-exit", "0"]), sandbox)
    bad = rt.create_container(pod_id, ContainerConfig("bad", "kit", command=["kit-exit", "2"]), sandbox)
    oom = rt.create_container(pod_id, ContainerConfig("oom", "kit", command=["kit-mem", str(64 << 20)],
                                                      resources=Resources(memory_limit=32 << 20)), sandbox)
    assert rt.container_status(ok).state == CONTAINER_CREATED
    for cid in (ok, bad, oom):
        rt.start_container(cid)
    rt.engine.world.advance(1)
    assert (rt.container_status(ok).state, rt.container_status(ok).reason) == (CONTAINER_EXITED, "Completed")
    assert (rt.container_status(bad).exit_code, rt.container_status(bad).reason) == (2, "Error")
    assert (rt.container_status(oom).exit_code, rt.container_status(oom).reason) == (137, "OOMKilled")


def test_a_container_that_cannot_start_is_a_start_error(rt):
    sandbox = pod()
    pod_id = rt.run_pod_sandbox(sandbox)
    cid = rt.create_container(pod_id, ContainerConfig("x", "kit", command=["nosuch"]), sandbox)
    with pytest.raises(ContainerError, match="executable file not found"):
        rt.start_container(cid)
    status = rt.container_status(cid)
    assert (status.state, status.reason, status.exit_code) == (CONTAINER_EXITED, "StartError", 128)


def test_containers_do_not_restart_by_themselves(rt):
    sandbox = pod()
    pod_id = rt.run_pod_sandbox(sandbox)
    cid = rt.create_container(pod_id, ContainerConfig("crash", "kit", command=["kit-crash", "1", "1"]), sandbox)
    rt.start_container(cid)
    rt.engine.world.advance(30)
    assert rt.container_status(cid).state == CONTAINER_EXITED


def test_command_replaces_entrypoint_and_args_replace_cmd(rt):
    sandbox = pod()
    pod_id = rt.run_pod_sandbox(sandbox)
    cid = rt.create_container(pod_id, ContainerConfig("e", "kit", command=["kit-echo"], args=["a", "b"],
                                                      env={"X": "1"}), sandbox)
    rt.start_container(cid)
    rt.engine.world.advance(1)
    assert rt.container_logs(cid) == b"a b\n"
    assert rt.read_logs(cid) == ["2025-03-03T09:00:00.000000000Z stdout F a b"]


def test_stop_container_with_grace_period(rt):
    sandbox = pod()
    pod_id = rt.run_pod_sandbox(sandbox)
    cid = rt.create_container(pod_id, ContainerConfig("s", "kit", command=["kit-sleep"]), sandbox)
    rt.start_container(cid)
    t0 = rt.engine.world.now
    rt.stop_container(cid, timeout=30)
    assert rt.engine.world.now - t0 == pytest.approx(30)
    assert rt.container_status(cid).exit_code == 137


def test_stop_and_remove_sandbox(rt):
    sandbox = pod()
    pod_id = rt.run_pod_sandbox(sandbox)
    cid = rt.create_container(pod_id, ContainerConfig("web", "web:1"), sandbox)
    rt.start_container(cid)
    rt.stop_pod_sandbox(pod_id)
    status = rt.pod_sandbox_status(pod_id)
    assert status.state == SANDBOX_NOTREADY and status.ip == ""
    assert rt.container_status(cid).state == CONTAINER_EXITED
    with pytest.raises(Conflict, match="is not running"):
        rt.create_container(pod_id, ContainerConfig("late", "kit"), sandbox)
    rt.remove_pod_sandbox(pod_id)
    assert rt.list_pod_sandbox() == [] and rt.list_containers() == []
    assert rt.engine.containers.list(all=True) == []
    rt.remove_pod_sandbox(pod_id)  # idempotent
    with pytest.raises(NotFound):
        rt.pod_sandbox_status(pod_id)


def test_image_must_be_pulled_before_create(world, hub):
    engine = Engine(new_machine(world, "node-1"), name="containerd", attach=False)
    rt = SimulatedRuntime(engine)
    sandbox = pod()
    pod_id = rt.run_pod_sandbox(sandbox)
    with pytest.raises(ImageNotFound, match='failed to get image "web"'):
        rt.create_container(pod_id, ContainerConfig("web", "web"), sandbox)
    image_id = rt.pull_image("web")
    assert image_id.startswith("sha256:")
    assert rt.image_status("web").repo_tags == ("docker.io/library/web:latest",)
    assert rt.image_status("nginx:9") is None
    cid = rt.create_container(pod_id, ContainerConfig("web", "web"), sandbox)
    rt.start_container(cid)
    assert rt.container_status(cid).state == CONTAINER_RUNNING
    assert rt.list_containers()[0].image == "docker.io/library/web:latest"


def test_network_not_ready_until_a_cni_config_exists(rt):
    conditions = {c.type: c for c in rt.status()}
    assert conditions["NetworkReady"].status is False
    assert "cni plugin not initialized" in conditions["NetworkReady"].message
    rt.engine.machine.write_file("/etc/cni/net.d/10-flannel.conflist", "{}")
    assert {c.type: c.status for c in rt.status()}["NetworkReady"] is True


def test_ip_allocator_gives_pods_routable_addresses(world):
    engine = new_engine(world, "node-1")
    engine.store.add(kit_image(cmd=("kit-web",)), tags=["web:1"])
    given = iter(["10.244.1.2", "10.244.1.3"])
    released = []

    class Allocator:
        def allocate(self, pod_id, config):
            return next(given)

        def release(self, pod_id, ip):
            released.append(ip)

    rt = SimulatedRuntime(engine, ip_allocator=Allocator())
    sandbox = pod(port_mappings=[PortMapping(80, 8080)])
    pod_id = rt.run_pod_sandbox(sandbox)
    assert rt.pod_sandbox_status(pod_id).ip == "10.244.1.2"
    rt.start_container(rt.create_container(pod_id, ContainerConfig("web", "web:1"), sandbox))
    other = Engine(new_machine(world, "node-2"))
    assert other.request("http://10.244.1.2/").text == "hello from kit\n"
    assert other.request(f"http://{engine.machine.ip}:8080/").status == 200  # hostPort
    rt.stop_pod_sandbox(pod_id)
    assert released == ["10.244.1.2"]


def test_dns_config_is_written_to_resolv_conf(rt):
    sandbox = pod(dns=DNSConfig(("10.96.0.10",), ("default.svc.cluster.local", "svc.cluster.local"), ("ndots:5",)))
    pod_id = rt.run_pod_sandbox(sandbox)
    cid = rt.create_container(pod_id, ContainerConfig("c", "kit"), sandbox)
    rt.start_container(cid)
    conf = rt.engine.containers.get(cid).fs.read_text("/etc/resolv.conf")
    assert conf == ("search default.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\n"
                    "options ndots:5\n")
    hosts = rt.engine.containers.get(cid).fs.read_text("/etc/hosts")
    assert hosts.startswith("# Kubernetes-managed hosts file.") and "172.17.0.2\tweb" in hosts


def test_remove_image_in_use_by_running_container_is_refused(rt):
    sandbox = pod()
    pod_id = rt.run_pod_sandbox(sandbox)
    rt.start_container(rt.create_container(pod_id, ContainerConfig("web", "web:1"), sandbox))
    with pytest.raises(Conflict):
        rt.remove_image("web:1")
    rt.remove_image("nosuch:1")  # nothing to do


# -- regressions ------------------------------------------------------------------------------------------
def test_a_failing_cni_add_leaves_no_pause_container_behind(world):
    from aivle_k8s.sim.errors import AivleError

    engine = new_engine(world, "node-1")
    calls = []

    class Exhausted:
        def allocate(self, pod_id, config):
            calls.append(pod_id)
            if len(calls) == 1:
                raise AivleError("failed to allocate for range 0: no IP addresses available in range set: "
                                 "10.244.1.1-10.244.1.254")
            return "10.244.1.7"

    rt = SimulatedRuntime(engine, ip_allocator=Exhausted())
    with pytest.raises(AivleError, match="no IP addresses available"):
        rt.run_pod_sandbox(pod())
    assert engine.containers.list(all=True) == []
    assert rt.list_pod_sandbox() == []
    # the name is free again: the next attempt (same name, uid, attempt) succeeds
    pod_id = rt.run_pod_sandbox(pod())
    assert rt.pod_sandbox_status(pod_id).ip == "10.244.1.7"
    assert [c.id for c in engine.containers.list(all=True)] == [pod_id]


def test_network_readiness_follows_the_cni_config_not_the_allocator(world):
    engine = new_engine(world, "node-1")
    rt = SimulatedRuntime(engine, ip_allocator=lambda pod_id, config: "10.244.1.2")

    def ready():
        return {c.type: c.status for c in rt.status()}["NetworkReady"]

    assert ready() is False  # an allocator alone is not a configured CNI network
    engine.machine.write_file("/etc/cni/net.d/10-flannel.conflist", "{}")
    assert ready() is True
    engine.machine.fs.remove("/etc/cni/net.d/10-flannel.conflist")
    assert ready() is False


def test_blocking_cri_calls_made_inside_a_loop_callback_return_events(world, hub):
    from aivle_k8s.sim.clock import Event

    engine = Engine(new_machine(world, "node-1"), name="containerd", attach=False)
    engine.store.add(kit_image(), tags=["kit:latest"])
    rt = SimulatedRuntime(engine)
    sandbox = pod()
    pod_id = rt.run_pod_sandbox(sandbox)
    cid = rt.create_container(pod_id, ContainerConfig("c", "kit", command=["kit-sleep", "infinity"]), sandbox)
    rt.start_container(cid)
    loop = world.loop
    seen = {}
    others = []

    def inside():
        start = loop.now
        seen["exec"] = rt.exec_sync(cid, ["kit-sleep", "5"])
        seen["pull"] = rt.pull_image("web")
        seen["stop"] = rt.stop_container(cid, timeout=30)
        # nothing else ran and no time passed while this callback was running
        seen["during"] = (loop.now - start, list(others))

    at = loop.now + 1
    loop.call_at(at, inside)
    loop.call_at(at, lambda: others.append(loop.now))
    world.advance(1)
    assert seen["during"] == (0.0, [])
    assert others == [at]
    assert all(isinstance(seen[k], Event) for k in ("exec", "pull", "stop"))
    assert seen["pull"].seconds > 0 and not seen["pull"].triggered
    world.advance(10)
    assert seen["exec"].value.exit_code == 0  # kit-sleep 5 ended after 5 s
    assert seen["pull"].value.startswith("sha256:")
    assert not seen["stop"].triggered  # kit-sleep ignores SIGTERM: SIGKILL comes after the 30 s grace
    world.advance(25)
    assert seen["stop"].triggered and rt.container_status(cid).state == CONTAINER_EXITED


def test_blocking_cri_calls_from_outside_the_loop_still_wait(world, hub):
    engine = Engine(new_machine(world, "node-1"), name="containerd", attach=False)
    engine.store.add(kit_image(), tags=["kit:latest"])
    rt = SimulatedRuntime(engine)
    sandbox = pod()
    pod_id = rt.run_pod_sandbox(sandbox)
    cid = rt.create_container(pod_id, ContainerConfig("c", "kit", command=["kit-sleep", "infinity"]), sandbox)
    rt.start_container(cid)
    t0 = world.now
    res = rt.exec_sync(cid, ["kit-sleep", "5"])
    assert res.exit_code == 0 and world.now - t0 == pytest.approx(5)
    t1 = world.now
    assert rt.pull_image("web").startswith("sha256:") and world.now > t1
    t2 = world.now
    assert rt.stop_container(cid, timeout=3) is None and world.now - t2 == pytest.approx(3)
