"""Networks: the default bridge, published ports, user-defined networks with DNS, host and none."""

from __future__ import annotations

import pytest

from aivle_k8s.engine import Engine
from aivle_k8s.sim.errors import Conflict, InvalidInput, NetworkError, NotFound
from test_engine import engine, kit_image, new_engine, new_machine, world  # noqa: F401  (fixtures)


@pytest.fixture
def web_engine(engine):
    engine.store.add(kit_image(cmd=("kit-web",), exposed_ports=("80/tcp",), stop_signal="SIGQUIT"), tags=["web:1"])
    return engine


# -- addresses -----------------------------------------------------------------------------------


def test_bridge_addresses_are_handed_out_in_order_and_reused(engine):
    a = engine.containers.run("kit", detach=True)
    b = engine.containers.run("kit", detach=True)
    assert (a.ip, b.ip, a.gateway) == ("172.17.0.2", "172.17.0.3", "172.17.0.1")
    a.remove(force=True)
    c = engine.containers.run("kit", detach=True)
    assert c.ip == "172.17.0.2"


def test_stopped_container_shows_no_address_and_keeps_it_on_restart(engine):
    a = engine.containers.run("kit", detach=True)
    a.stop(timeout=0)
    assert a.ip == "" and a.attrs["NetworkSettings"]["IPAddress"] == ""
    a.start()
    assert a.ip == "172.17.0.2"


def test_mac_address_is_derived_from_the_ip(engine):
    a = engine.containers.run("kit", detach=True)
    assert a.attrs["NetworkSettings"]["MacAddress"] == "02:42:ac:11:00:02"


def test_host_reaches_a_container_by_its_ip(web_engine):
    web = web_engine.containers.run("web:1", detach=True)
    assert web_engine.request(f"http://{web.ip}/").text == "hello from kit\n"


def test_stopped_container_is_unreachable(web_engine):
    web = web_engine.containers.run("web:1", detach=True)
    ip = web.ip
    web.stop()
    with pytest.raises(NetworkError):
        web_engine.request(f"http://{ip}/")


# -- published ports -----------------------------------------------------------------------------


def test_published_port_answers_on_localhost_and_from_another_machine(world, web_engine):
    web_engine.containers.run("web:1", detach=True, ports={"80/tcp": 8080})
    assert web_engine.request("http://localhost:8080/").text == "hello from kit\n"
    other = Engine(new_machine(world, "b"))
    host_ip = web_engine.machine.ip
    assert other.request(f"http://{host_ip}:8080/").status == 200
    assert other.request(f"http://host:8080/").status == 200


def test_unpublished_port_is_refused_from_another_machine(world, web_engine):
    web_engine.containers.run("web:1", detach=True)
    other = Engine(new_machine(world, "b"))
    with pytest.raises(NetworkError, match="Connection refused"):
        other.request(f"http://{web_engine.machine.ip}:8080/")


def test_port_bound_to_localhost_is_not_reachable_from_outside(world, web_engine):
    web_engine.containers.run("web:1", detach=True, ports={"80/tcp": ("127.0.0.1", 8080)})
    assert web_engine.request("http://127.0.0.1:8080/").status == 200
    other = Engine(new_machine(world, "b"))
    with pytest.raises(NetworkError):
        other.request(f"http://{web_engine.machine.ip}:8080/")


def test_port_already_allocated_leaves_the_second_container_created(web_engine):
    first = web_engine.containers.run("web:1", detach=True, ports={"80/tcp": 8080})
    with pytest.raises(Conflict, match="Bind for 0.0.0.0:8080 failed: port is already allocated"):
        web_engine.containers.run("web:1", detach=True, ports={"80/tcp": 8080}, name="second")
    second = web_engine.containers.get("second")
    assert second.status == "created"  # like dockerd: created, then the start failed
    assert web_engine.request("http://localhost:8080/").status == 200
    assert first.status == "running"


def test_port_used_by_a_host_process_is_a_userland_proxy_error(web_engine):
    web_engine.machine.netns.listen(8080, lambda data, peer: b"")
    with pytest.raises(Conflict, match="listen tcp4 0.0.0.0:8080: bind: address already in use"):
        web_engine.containers.run("web:1", detach=True, ports={"80/tcp": 8080})


def test_random_host_port_starts_at_32768(web_engine):
    a = web_engine.containers.run("web:1", detach=True, ports={"80/tcp": None})
    b = web_engine.containers.run("web:1", detach=True, publish_all_ports=True)
    assert a.ports["80/tcp"] == [{"HostIp": "0.0.0.0", "HostPort": "32768"}]
    assert b.ports["80/tcp"] == [{"HostIp": "0.0.0.0", "HostPort": "32769"}]
    assert web_engine.request("http://localhost:32769/").status == 200


def test_stopping_frees_the_host_port(web_engine):
    a = web_engine.containers.run("web:1", detach=True, ports={"80/tcp": 8080})
    a.stop()
    with pytest.raises(NetworkError, match="Connection refused"):
        web_engine.request("http://localhost:8080/")
    b = web_engine.containers.run("web:1", detach=True, ports={"80/tcp": 8080})
    assert b.status == "running"


def test_invalid_port_specs(engine):
    with pytest.raises(InvalidInput, match="Invalid containerPort: http"):
        engine.containers.create("kit", ports={"http": 80})
    with pytest.raises(InvalidInput, match="Invalid hostPort: 70000"):
        engine.containers.create("kit", ports={"80/tcp": 70000})


# -- user-defined networks -----------------------------------------------------------------------


def test_user_defined_network_resolves_container_names(web_engine):
    web_engine.networks.create("appnet")
    web_engine.containers.run("web:1", detach=True, name="api", network="appnet")
    client = web_engine.containers.run("kit", detach=True, network="appnet")
    code, out = client.exec_run("kit-get http://api/")
    assert (code, out) == (0, b"hello from kit\n")
    assert client.ip.startswith("172.18.0.")
    assert client.fs.read_text("/etc/resolv.conf").endswith("nameserver 127.0.0.11\noptions ndots:0\n")


def test_default_bridge_has_no_name_resolution(web_engine):
    web_engine.containers.run("web:1", detach=True, name="api")
    client = web_engine.containers.run("kit", detach=True)
    code, out = client.exec_run("kit-get http://api/")
    assert code == 7 and b"Could not resolve host: api" in out


def test_network_connect_gives_a_second_address(web_engine):
    net = web_engine.networks.create("appnet")
    api = web_engine.containers.run("web:1", detach=True, name="api")
    client = web_engine.containers.run("kit", detach=True, network="appnet")
    assert client.exec_run("kit-get http://api/").exit_code == 7
    net.connect(api)
    assert client.exec_run("kit-get http://api/").output == b"hello from kit\n"
    assert {c.name for c in net.containers} == {client.name, "api"}
    assert set(api.attrs["NetworkSettings"]["Networks"]) == {"bridge", "appnet"}


def test_network_errors(engine):
    engine.networks.create("appnet")
    with pytest.raises(Conflict, match="network with name appnet already exists"):
        engine.networks.create("appnet")
    with pytest.raises(NotFound, match="network nope not found"):
        engine.containers.create("kit", network="nope")
    with pytest.raises(Conflict, match="bridge is a pre-defined network and cannot be removed"):
        engine.networks.get("bridge").remove()
    engine.containers.run("kit", detach=True, network="appnet")
    with pytest.raises(Conflict, match="has active endpoints"):
        engine.networks.get("appnet").remove()


def test_removing_a_container_frees_its_endpoint(engine):
    net = engine.networks.create("appnet")
    c = engine.containers.run("kit", detach=True, network="appnet")
    c.remove(force=True)
    net.remove()
    assert [n.name for n in engine.networks.list()] == ["bridge", "host", "none"]


def test_second_user_network_gets_the_next_subnet(engine):
    a = engine.networks.create("one")
    b = engine.networks.create("two")
    assert (a.subnet, b.subnet) == ("172.18.0.0/16", "172.19.0.0/16")


# -- host and none -------------------------------------------------------------------------------------


def test_host_network_shares_the_machines_addresses_and_hostname(web_engine):
    web = web_engine.containers.run("web:1", ["kit-web", "8081"], detach=True, network="host")
    assert web_engine.request("http://localhost:8081/").status == 200
    info = web.exec_run("kit-info").output.decode()
    assert "hostname=host" in info
    web.stop()
    with pytest.raises(NetworkError):
        web_engine.request("http://localhost:8081/")


def test_none_network_has_no_address(engine):
    c = engine.containers.run("kit", detach=True, network="none")
    assert c.ip == ""
    code, out = c.exec_run("kit-get http://host/")
    assert code == 7


def test_container_network_mode_shares_localhost(web_engine):
    web = web_engine.containers.run("web:1", detach=True)
    side = web_engine.containers.run("kit", detach=True, network_mode=f"container:{web.name}")
    assert side.exec_run("kit-get http://localhost/").output == b"hello from kit\n"
    assert side.ip == web.ip


def test_each_machine_has_its_own_docker0_addresses(world):
    a = new_engine(world, "a")
    b = new_engine(world, "b")
    a.store.add(kit_image(cmd=("kit-web",)), tags=["web:1"])
    ca = a.containers.run("web:1", detach=True)
    cb = b.containers.run("kit", detach=True)
    assert ca.ip == cb.ip == "172.17.0.2"
    assert a.request("http://172.17.0.2/").status == 200


def test_two_machines_publishing_the_same_port_both_answer(world):
    a = new_engine(world, "a")
    b = new_engine(world, "b")
    for e in (a, b):
        e.store.add(kit_image(cmd=("kit-web",)), tags=["web:1"])
        e.containers.run("web:1", detach=True, ports={"80/tcp": 8080})
    client = Engine(new_machine(world, "c"))
    assert client.request("http://a:8080/").status == 200
    assert client.request("http://b:8080/").status == 200
    assert a.request("http://localhost:8080/").status == 200
