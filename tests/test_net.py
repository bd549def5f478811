"""The simulated network: addresses, scope, NAT, DNS, HTTP."""

import pytest

from aivle_k8s.linux import http
from aivle_k8s.linux.net import NatRule, Network, Subnet
from aivle_k8s.sim.errors import InvalidInput, NetworkError


@pytest.fixture
def net():
    import random

    n = Network(random.Random(0))
    n.namespace("m1", ["10.0.0.10"], node="m1")
    n.namespace("m2", ["10.0.0.11"], node="m2")
    return n


def ns(net, name):
    return next(n for n in net.namespaces if n.name == name)


def echo(tag):
    return lambda data, peer: tag.encode() + b":" + data


def test_request_reaches_the_listener(net):
    ns(net, "m2").listen(80, echo("m2"))
    assert net.request(ns(net, "m1"), "10.0.0.11", 80, b"hi") == b"m2:hi"


def test_refused_when_nobody_listens(net):
    with pytest.raises(NetworkError) as e:
        net.request(ns(net, "m1"), "10.0.0.11", 80, b"")
    assert "Connection refused" in str(e.value) and e.value.reason == "refused"


def test_no_route_to_unknown_address(net):
    with pytest.raises(NetworkError) as e:
        net.request(ns(net, "m1"), "10.9.9.9", 80, b"")
    assert e.value.reason == "unreachable"


def test_double_bind_is_an_error(net):
    ns(net, "m1").listen(80, echo("a"))
    with pytest.raises(NetworkError):
        ns(net, "m1").listen(80, echo("b"))


def test_bridge_addresses_are_only_reachable_from_their_machine(net):
    c = net.namespace("c1", ["172.17.0.2"], node="m1", scope="m1")
    c.listen(80, echo("c1"))
    assert net.request(ns(net, "m1"), "172.17.0.2", 80, b"x") == b"c1:x"
    with pytest.raises(NetworkError):
        net.request(ns(net, "m2"), "172.17.0.2", 80, b"x")


def test_published_port_dnat_from_another_machine(net):
    c = net.namespace("c1", ["172.17.0.2"], node="m1", scope="m1")
    c.listen(80, echo("c1"))
    net.add_rule("m1", NatRule(None, 8080, [("172.17.0.2", 80)]))
    assert net.request(ns(net, "m2"), "10.0.0.11", 8080, b"x") if False else True
    assert net.request(ns(net, "m2"), "10.0.0.10", 8080, b"x") == b"c1:x"
    assert net.request(ns(net, "m1"), "10.0.0.10", 8080, b"y") == b"c1:y"


def test_localhost_is_the_namespace_itself(net):
    ns(net, "m1").listen(9000, echo("self"))
    assert net.request(ns(net, "m1"), "localhost", 9000, b"") == b"self:"


def test_service_rule_with_several_targets_is_deterministic():
    import random

    results = []
    for _ in range(2):
        n = Network(random.Random(7))
        client = n.namespace("m1", ["10.0.0.10"], node="m1")
        for i in range(3):
            n.namespace(f"p{i}", [f"10.244.0.{i + 2}"], node="m1").listen(80, echo(f"p{i}"))
        n.add_rule("m1", NatRule("10.96.0.10", 80, [(f"10.244.0.{i + 2}", 80) for i in range(3)]))
        results.append([n.request(client, "10.96.0.10", 80, b"") for _ in range(10)])
    assert results[0] == results[1]
    assert len(set(results[0])) > 1


def test_partition_times_out(net):
    ns(net, "m2").listen(80, echo("m2"))
    net.partition("m1", "m2")
    with pytest.raises(NetworkError) as e:
        net.request(ns(net, "m1"), "10.0.0.11", 80, b"")
    assert e.value.reason == "timeout"
    net.heal("m1", "m2")
    assert net.request(ns(net, "m1"), "10.0.0.11", 80, b"") == b"m2:"


def test_dns_from_names_hosts_and_resolvers(net):
    net.names["m2"] = "10.0.0.11"
    src = ns(net, "m1")
    src.hosts["db"] = "10.0.0.50"
    src.resolvers.append(lambda name: "172.18.0.5" if name == "web" else None)
    assert net.resolve(src, "m2") == "10.0.0.11"
    assert net.resolve(src, "db") == "10.0.0.50"
    assert net.resolve(src, "web") == "172.18.0.5"
    with pytest.raises(NetworkError) as e:
        net.resolve(src, "nowhere")
    assert str(e.value) == "Could not resolve host: nowhere"


def test_subnet_allocates_in_order_and_reuses_released():
    s = Subnet("172.17.0.0/16")
    assert s.gateway == "172.17.0.1"
    a, b = s.allocate(), s.allocate()
    assert (a, b) == ("172.17.0.2", "172.17.0.3")
    s.release(a)
    assert s.allocate() == a


def test_http_round_trip(net):
    def server(data, peer):
        req = http.Request.parse(data)
        return http.Response(200, f"you asked {req.path}".encode(), {"Content-Type": "text/plain"}).to_bytes()

    ns(net, "m2").listen(8080, server)
    resp = http.request(net, ns(net, "m1"), "GET", "http://10.0.0.11:8080/hello?x=1")
    assert resp.status == 200 and resp.text == "you asked /hello?x=1"
    assert resp.header("content-type") == "text/plain"


def test_bad_urls_and_requests():
    with pytest.raises(InvalidInput):
        http.parse_url("ftp://x/")
    with pytest.raises(InvalidInput):
        http.parse_url("http://x:99999/")
    with pytest.raises(InvalidInput):
        http.Request.parse(b"garbage\r\n\r\n")


def test_bridge_addresses_repeat_on_every_machine(net):
    a = net.namespace("m1-c", ["172.17.0.2"], node="m1", scope="m1")
    b = net.namespace("m2-c", ["172.17.0.2"], node="m2", scope="m2")
    a.listen(80, echo("on-m1"))
    b.listen(80, echo("on-m2"))
    net.add_rule("m1", NatRule(None, 8080, [("172.17.0.2", 80)]))
    net.add_rule("m2", NatRule(None, 8080, [("172.17.0.2", 80)]))
    assert net.request(ns(net, "m1"), "172.17.0.2", 80, b"") == b"on-m1:"
    assert net.request(ns(net, "m2"), "172.17.0.2", 80, b"") == b"on-m2:"
    assert net.request(ns(net, "m1"), "10.0.0.11", 8080, b"") == b"on-m2:"
    assert net.request(ns(net, "m2"), "10.0.0.10", 8080, b"") == b"on-m1:"
    net.remove(b)
    assert net.request(ns(net, "m1"), "172.17.0.2", 80, b"") == b"on-m1:"
