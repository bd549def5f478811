"""System tools: sudo, curl, gpg, swap, kernel modules, sysctl, network views, hostnamectl, nsenter."""

import base64

import pytest

import aivle_k8s as ak
from aivle_k8s.linux.distro import ubuntu_layer
from aivle_k8s.linux.fs import FileSystem
from aivle_k8s.linux.http import Request, Response
from aivle_k8s.linux.kernel import Namespaces, PidNamespace, Stream
from aivle_k8s.linux.net import NatRule

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@pytest.fixture
def m(world):
    return world.machine("m")


def run_as(machine, uid, command, ns=None):
    out, err = Stream(), Stream()
    proc = machine.kernel.spawn(["bash", "-c", command], ns=ns or machine.ns, env={"PATH": PATH}, cwd="/",
                                stdout=out, stderr=err, uid=uid)
    machine.world.loop.run_until(lambda: not proc.alive, timeout=600)
    return proc.exit_code, out.text(), err.text()


# ---------------------------------------------------------------------------
# sudo


def test_sudo_runs_as_root(m):
    assert m.sh("sudo id -u; id -u").stdout == "0\n1000\n"


def test_sudo_sets_the_environment_like_ubuntu(m):
    r = m.sh("sudo env")
    env = dict(line.split("=", 1) for line in r.stdout.splitlines())
    assert env["SUDO_USER"] == "student"
    assert env["SUDO_UID"] == "1000"
    assert env["HOME"] == "/root"
    assert env["USER"] == "root"
    assert env["PATH"] == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/snap/bin"


def test_sudo_resets_the_environment_unless_asked(m):
    m.sh("export MYVAR=kept")
    assert "MYVAR" not in m.sh("sudo env").stdout
    assert "MYVAR=kept" in m.sh("sudo -E env").stdout


def test_sudo_unknown_command(m):
    r = m.sh("sudo nope")
    assert (r.exit_code, r.stderr) == (1, "sudo: nope: command not found\n")


def test_sudo_cannot_run_builtins(m):
    assert m.sh("sudo cd /root").stderr == "sudo: cd: command not found\n"


def test_sudo_as_another_user(m):
    assert m.sh("sudo -u student whoami").stdout == "student\n"
    assert m.sh("sudo -u ghost id").exit_code == 1


def test_sudo_without_a_command(m):
    r = m.sh("sudo")
    assert r.exit_code == 1
    assert r.stderr.startswith("usage: sudo -h | -K | -k | -V\n")


def test_a_user_outside_the_sudo_group_is_refused(m):
    m.sh("echo 'guest:x:1001:1001::/home/guest:/bin/bash' | sudo tee -a /etc/passwd >/dev/null")
    code, out, err = run_as(m, 1001, "sudo id")
    assert (code, err) == (1, "guest is not in the sudoers file.  This incident will be reported.\n")


def test_sudo_keeps_the_exit_code(m):
    assert m.sh("sudo bash -c 'exit 7'").exit_code == 7


# ---------------------------------------------------------------------------
# curl


@pytest.fixture
def site(world):
    world.publish("http://example.com/hello.txt", "hello world\n")
    world.publish("https://example.com/data/file.bin", b"\x00\x01binary")
    return world


def test_curl_prints_the_body(site, m):
    r = m.sh("curl -s http://example.com/hello.txt")
    assert (r.exit_code, r.stdout, r.stderr) == (0, "hello world\n", "")


def test_curl_output_file(site, m):
    r = m.sh("curl -sSL -o /tmp/h.txt https://example.com/hello.txt")
    assert r.exit_code == 0
    assert m.read_file("/tmp/h.txt") == "hello world\n"
    assert m.fs.stat("/tmp/h.txt").uid == 1000


def test_curl_progress_meter_goes_to_stderr(site, m):
    r = m.sh("curl -o /tmp/h.txt http://example.com/hello.txt")
    assert r.stderr.startswith("  % Total    % Received % Xferd")


def test_curl_remote_name(site, m):
    assert m.sh("cd /tmp && curl -sO https://example.com/data/file.bin").exit_code == 0
    assert m.fs.read("/tmp/file.bin") == b"\x00\x01binary"


def test_curl_head_and_write_out(site, m):
    r = m.sh("curl -sI http://example.com/hello.txt")
    assert r.stdout.startswith("HTTP/1.1 200 OK\r\n")
    assert m.sh("curl -s -o /dev/null -w '%{http_code}' http://example.com/missing").stdout == "404"
    r = m.sh("curl -sf -o /dev/null -w '%{http_code}' http://example.com/missing")
    assert (r.exit_code, r.stdout) == (22, "404")


def test_curl_fail_on_http_errors(site, m):
    r = m.sh("curl -f http://example.com/missing")
    assert (r.exit_code, r.stderr) == (22, "curl: (22) The requested URL returned error: 404\n")
    assert m.sh("curl -fs http://example.com/missing").output == ""
    assert m.sh("curl -fsS http://example.com/missing").stderr == "curl: (22) The requested URL returned error: 404\n"
    r = m.sh("curl -s http://example.com/missing")
    assert (r.exit_code, r.stdout) == (0, "Not Found\n")


def test_curl_cannot_resolve(m):
    r = m.sh("curl https://nowhere.invalid/x")
    assert (r.exit_code, r.stderr) == (6, "curl: (6) Could not resolve host: nowhere.invalid\n")


def test_curl_connection_refused(world, m):
    start = world.now
    r = m.sh("curl http://10.0.0.10:8080/")
    assert r.exit_code == 7
    # curl 7.81 (Ubuntu 22.04) prints strerror; "Couldn't connect to server" is curl 8's wording
    assert r.stderr == "curl: (7) Failed to connect to 10.0.0.10 port 8080 after 0 ms: Connection refused\n"
    assert world.now == start
    r = m.sh("curl -s localhost:8080")
    assert (r.exit_code, r.output) == (7, "")
    r = m.sh("curl -sS http://localhost:8080/")
    assert r.stderr == "curl: (7) Failed to connect to localhost port 8080 after 0 ms: Connection refused\n"


def test_curl_to_a_powered_off_machine_is_no_route_to_host_after_the_arp_timeout(world, m):
    other = world.machine("other")
    other.netns.listen(80, lambda data, peer: Response(200, b"hi").to_bytes())
    assert m.sh("curl -s http://other/").stdout == "hi"
    other.power_off()
    start = world.now
    r = m.sh("curl http://other/")
    assert r.exit_code == 7
    assert r.stderr == "curl: (7) Failed to connect to other port 80 after 3069 ms: No route to host\n"
    assert world.now == pytest.approx(start + 3.069)


def test_curl_across_a_partition_is_no_route_to_host_unless_its_own_timeout_is_shorter(world, m):
    other = world.machine("other")
    other.netns.listen(80, lambda data, peer: Response(200, b"hi").to_bytes())
    world.net.partition("m", "other")
    r = m.sh(f"curl --connect-timeout 5 http://{other.ip}/")
    assert r.stderr == f"curl: (7) Failed to connect to {other.ip} port 80 after 3069 ms: No route to host\n"
    start = world.now
    r = m.sh("curl --connect-timeout 2 http://other/")
    assert r.exit_code == 28
    assert r.stderr == "curl: (28) Connection timed out after 2001 milliseconds\n"
    assert world.now == start + 2
    r = m.sh("curl -m 1 http://other/")
    assert (r.exit_code, r.stderr) == (28, "curl: (28) Connection timed out after 1001 milliseconds\n")


def test_curl_write_out_is_000_when_no_response_came(world, m):
    r = m.sh("curl -s -o /dev/null -w '%{http_code}' http://localhost:8080/")
    assert (r.exit_code, r.stdout, r.stderr) == (7, "000", "")
    r = m.sh("curl -s -w '%{http_code} %{exitcode}\\n' http://nowhere.invalid/")
    assert (r.exit_code, r.stdout) == (6, "000 6\n")
    other = world.machine("other")
    other.power_off()
    r = m.sh("curl -s -w '%{http_code}' http://other/")
    assert (r.exit_code, r.stdout) == (7, "000")


def test_curl_verbose_shows_the_failed_connect(m):
    r = m.sh("curl -v http://localhost:8080/")
    assert r.stderr == ("*   Trying 127.0.0.1:8080...\n* connect to 127.0.0.1 port 8080 failed: Connection refused\n"
                        "* Failed to connect to localhost port 8080 after 0 ms: Connection refused\n"
                        "* Closing connection 0\n"
                        "curl: (7) Failed to connect to localhost port 8080 after 0 ms: Connection refused\n")


def test_curl_sends_method_headers_and_data(world, m):
    seen = []

    def echo(data, peer):
        req = Request.parse(data)
        seen.append(req)
        return Response(201, req.body).to_bytes()

    m.netns.listen(9000, echo)
    r = m.sh("curl -s -X PUT -H 'X-Token: abc' -d 'k=v' http://localhost:9000/items")
    assert r.stdout == "k=v"
    assert (seen[0].method, seen[0].path, seen[0].header("X-Token")) == ("PUT", "/items", "abc")


def test_curl_follows_redirects_with_location(world, m):
    def redirect(data, peer):
        req = Request.parse(data)
        if req.path == "/old":
            return Response(301, b"", {"Location": "/new"}).to_bytes()
        return Response(200, b"moved here\n").to_bytes()

    m.netns.listen(8080, redirect)
    assert m.sh("curl -s http://localhost:8080/old").stdout == ""
    assert m.sh("curl -sL http://localhost:8080/old").stdout == "moved here\n"


def test_curl_cannot_write_into_a_system_directory(site, m):
    r = m.sh("curl -fsSL http://example.com/hello.txt -o /etc/apt/keyrings/x.asc")
    assert r.exit_code == 23
    assert r.stderr == ("Warning: Failed to create the file /etc/apt/keyrings/x.asc: Permission denied\n"
                        "curl: (23) Failure writing output to destination\n")
    assert not m.fs.exists("/etc/apt/keyrings/x.asc")


def test_curl_without_a_network(m):
    ns = Namespaces(m.fs, "isolated", m.kernel.host_pidns, None, name="isolated")
    code, out, err = run_as(m, 0, "curl http://example.com/", ns=ns)
    assert (code, err) == (6, "curl: (6) Could not resolve host: example.com\n")


def test_curl_usage_errors(m):
    assert m.sh("curl").exit_code == 2
    r = m.sh("curl --bogus http://x")
    assert r.exit_code == 2
    assert r.stderr.startswith("curl: option --bogus: is unknown\n")


# ---------------------------------------------------------------------------
# gpg

ARMORED = ("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n" + base64.b64encode(b"\x99\x01\x0dkey-material").decode()
           + "\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n")


def test_gpg_dearmor_decodes_the_key(m):
    m.write_file("/tmp/key.asc", ARMORED)
    r = m.sh("cat /tmp/key.asc | sudo gpg --dearmor -o /etc/apt/keyrings/k.gpg")
    assert r.exit_code == 0, r.stderr
    assert m.fs.read("/etc/apt/keyrings/k.gpg") == b"\x99\x01\x0dkey-material"


def test_gpg_dearmor_is_deterministic_for_other_input(m):
    m.sh("echo not-armored | gpg --dearmor -o /tmp/1; echo not-armored | gpg --dearmor -o /tmp/2")
    assert m.fs.read("/tmp/1") == m.fs.read("/tmp/2")
    assert m.fs.read("/tmp/1").startswith(b"\x99")


def test_gpg_needs_permission_to_write(m):
    r = m.sh("echo x | gpg --dearmor -o /etc/apt/keyrings/k.gpg")
    assert r.exit_code == 2
    assert r.stderr.startswith("gpg: can't create '/etc/apt/keyrings/k.gpg': Permission denied\n")


def test_gpg_with_no_input(m):
    assert m.sh("gpg --dearmor < /dev/null").exit_code == 2


# ---------------------------------------------------------------------------
# swap


def test_swapoff_needs_root(m):
    r = m.sh("swapoff -a")
    assert (r.exit_code, r.stderr) == (1, "swapoff: Not superuser.\n")
    assert m.kernel.swap_on is True


def test_swapon_show_and_swapoff(m):
    assert m.sh("swapon --show").stdout == "NAME      TYPE SIZE USED PRIO\n/swap.img file   2G   0B   -2\n"
    m.sh("sudo swapoff -a")
    assert m.kernel.swap_on is False
    assert m.sh("swapon --show").stdout == ""
    m.sh("sudo swapon -a")
    assert m.kernel.swap_on is True


# ---------------------------------------------------------------------------
# kernel modules


def test_modprobe_loads_a_module_and_its_dependencies(m):
    assert m.sh("sudo modprobe br_netfilter").exit_code == 0
    assert {"br_netfilter", "bridge"} <= m.kernel.modules
    out = m.sh("lsmod").stdout
    assert out.startswith("Module                  Size  Used by\n")
    assert "bridge                307200  1 br_netfilter\n" in out


def test_modprobe_unknown_module(m):
    r = m.sh("sudo modprobe nosuchmod")
    assert (r.exit_code, r.stderr) == (
        1, "modprobe: FATAL: Module nosuchmod not found in directory /lib/modules/5.15.0-105-generic\n")


def test_modprobe_needs_root(m):
    r = m.sh("modprobe overlay")
    assert (r.exit_code, r.stderr) == (1, "modprobe: ERROR: could not insert 'overlay': Operation not permitted\n")
    assert "overlay" not in m.kernel.modules


def test_modprobe_remove(m):
    m.sh("sudo modprobe overlay")
    assert m.sh("sudo modprobe -r overlay").exit_code == 0
    assert "overlay" not in m.kernel.modules


def test_lsmod_grep(m):
    assert m.sh("lsmod | grep br_netfilter").exit_code == 1
    m.sh("sudo modprobe br_netfilter")
    assert m.sh("lsmod | grep -c br_netfilter").stdout == "2\n"


# ---------------------------------------------------------------------------
# sysctl


def test_sysctl_defaults(m):
    assert m.sh("sysctl net.ipv4.ip_forward").stdout == "net.ipv4.ip_forward = 0\n"
    assert m.sh("sysctl -n net.ipv4.ip_forward").stdout == "0\n"


def test_bridge_sysctls_need_br_netfilter(m):
    r = m.sh("sysctl net.bridge.bridge-nf-call-iptables")
    assert (r.exit_code, r.stderr) == (
        255, "sysctl: cannot stat /proc/sys/net/bridge/bridge-nf-call-iptables: No such file or directory\n")
    m.sh("sudo modprobe br_netfilter")
    assert m.sh("sysctl net.bridge.bridge-nf-call-iptables").stdout == "net.bridge.bridge-nf-call-iptables = 1\n"


def test_sysctl_write(m):
    r = m.sh("sudo sysctl -w net.ipv4.ip_forward=1")
    assert r.stdout == "net.ipv4.ip_forward = 1\n"
    assert m.kernel.sysctls["net.ipv4.ip_forward"] == "1"
    assert m.sh("cat /proc/sys/net/ipv4/ip_forward 2>/dev/null || sysctl -n net.ipv4.ip_forward").stdout == "1\n"


def test_sysctl_write_needs_root(m):
    r = m.sh("sysctl -w net.ipv4.ip_forward=1")
    assert (r.exit_code, r.stderr) == (255, 'sysctl: permission denied on key "net.ipv4.ip_forward"\n')
    assert "net.ipv4.ip_forward" not in m.kernel.sysctls


def test_sysctl_system_reports_missing_bridge_keys(m):
    m.sh("printf 'net.bridge.bridge-nf-call-iptables = 1\\nnet.ipv4.ip_forward = 1\\n' | sudo tee /etc/sysctl.d/k8s.conf")
    r = m.sh("sudo sysctl --system")
    assert r.stdout == "* Applying /etc/sysctl.d/k8s.conf ...\nnet.ipv4.ip_forward = 1\n* Applying /etc/sysctl.conf ...\n"
    assert r.stderr == "sysctl: cannot stat /proc/sys/net/bridge/bridge-nf-call-iptables: No such file or directory\n"


def test_sysctl_load_file(m):
    m.sh("echo 'vm.swappiness=10' | sudo tee /etc/sysctl.d/99-swap.conf")
    assert m.sh("sudo sysctl -p /etc/sysctl.d/99-swap.conf").stdout == "vm.swappiness = 10\n"
    assert m.sh("sysctl vm.swappiness").stdout == "vm.swappiness = 10\n"


# ---------------------------------------------------------------------------
# network views


def test_ip_addr_shows_lo_and_eth0(m):
    out = m.sh("ip addr").stdout
    assert "1: lo: <LOOPBACK,UP,LOWER_UP>" in out
    assert "    inet 127.0.0.1/8 scope host lo\n" in out
    assert "2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP>" in out
    assert "    inet 10.0.0.10/24 brd 10.0.0.255 scope global eth0\n" in out
    assert m.sh("ip a").stdout == out


def test_ip_brief_and_route(m):
    assert m.sh("ip -br a").stdout.splitlines()[1].split() == ["eth0", "UP", "10.0.0.10/24"]
    assert m.sh("ip route").stdout == ("default via 10.0.0.1 dev eth0 proto static \n"
                                       "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.10 \n")


def test_ip_in_a_container_shows_its_own_address(world, m):
    net = world.net.namespace("c", ["172.17.0.2"], node="m", scope="m")
    ns = Namespaces(FileSystem([ubuntu_layer("c")]), "c", PidNamespace(m.kernel.host_pidns), net, name="c")
    code, out, _ = run_as(m, 0, "ip -4 addr show eth0", ns=ns)
    assert "inet 172.17.0.2/16 brd 172.17.255.255 scope global eth0" in out


def test_ss_lists_listening_ports(m):
    m.netns.listen(6443, lambda data, peer: b"")
    r = m.sh("ss -ltn")
    assert r.stdout.splitlines()[0].startswith("State  Recv-Q Send-Q Local Address:Port")
    assert "0.0.0.0:6443" in r.stdout
    assert m.sh("ss -ltnp | grep -c 6443").stdout == "1\n"


def test_iptables_needs_root(m):
    r = m.sh("iptables -L")
    assert r.exit_code == 4
    assert "Permission denied (you must be root)" in r.stderr


def test_iptables_lists_nat_rules(world, m):
    world.net.add_rule("m", NatRule(None, 8080, [("172.17.0.2", 80)], comment="docker"))
    out = m.sh("sudo iptables -t nat -L -n").stdout
    assert out.startswith("Chain PREROUTING (policy ACCEPT)\n")
    assert "DNAT       tcp  --  0.0.0.0/0" in out and "dpt:8080 to:172.17.0.2:80" in out
    assert "-A PREROUTING -m addrtype --dst-type LOCAL -p tcp -m tcp --dport 8080" in m.sh("sudo iptables -t nat -S").stdout


# ---------------------------------------------------------------------------
# hostnamectl, lsb_release, nsenter, preflight tools


def test_hostnamectl_status(m):
    out = m.sh("hostnamectl").stdout
    assert " Static hostname: m\n" in out
    assert "Operating System: Ubuntu 22.04.4 LTS\n" in out
    assert "          Kernel: Linux 5.15.0-105-generic\n" in out


def test_hostnamectl_set_hostname(m):
    r = m.sh("hostnamectl set-hostname master")
    assert (r.exit_code, r.stderr) == (1, "Could not set static hostname: Interactive authentication required.\n")
    assert m.sh("sudo hostnamectl set-hostname master").exit_code == 0
    assert m.hostname == "master"
    assert m.read_file("/etc/hostname") == "master\n"
    assert m.sh("hostname").stdout == "master\n"


def test_lsb_release(m):
    assert m.sh("lsb_release -cs").stdout == "jammy\n"
    r = m.sh("lsb_release -a")
    assert r.stdout == "Distributor ID:\tUbuntu\nDescription:\tUbuntu 22.04.4 LTS\nRelease:\t22.04\nCodename:\tjammy\n"
    assert r.stderr == "No LSB modules are available.\n"


def test_nsenter_runs_in_a_containers_namespaces(world, m):
    m.sh(":")
    net = world.net.namespace("c", ["172.17.0.2"], node="m", scope="m")
    ns = Namespaces(FileSystem([ubuntu_layer("c")]), "c", PidNamespace(m.kernel.host_pidns), net, name="c")
    init = m.kernel.spawn(["sleep", "infinity"], ns=ns, env={"PATH": PATH}, cwd="/")
    assert m.sh(f"sudo nsenter -t {init.pid} -u hostname").stdout == "c\n"
    assert m.sh(f"sudo nsenter -t {init.pid} -n hostname -I").stdout == "172.17.0.2 \n"
    assert m.sh(f"sudo nsenter -t {init.pid} -p -m ps -e -o pid=,comm=").stdout.split()[:2] == ["1", "sleep"]
    assert m.sh(f"nsenter -t {init.pid} -u hostname").stderr == f"nsenter: cannot open /proc/{init.pid}/ns/mnt: Permission denied\n"


def test_preflight_tools_are_installed(m):
    r = m.sh("which ip iptables mount nsenter ethtool conntrack socat ebtables modprobe sysctl")
    assert r.exit_code == 0
    assert len(r.stdout.splitlines()) == 10
    assert m.sh("conntrack --version").stdout == "conntrack v1.4.6 (conntrack-tools)\n"
    assert m.sh("socat -V").exit_code == 0
    assert m.sh("sudo ebtables -L").stdout.startswith("Bridge table: filter\n")
    assert m.sh("ethtool eth0").stdout.startswith("Settings for eth0:\n")


def test_tools_are_deterministic(world):
    a = ak.World(seed=0).machine("m").sh("hostnamectl; ip a; free -h; df -h; date").stdout
    b = ak.World(seed=0).machine("m").sh("hostnamectl; ip a; free -h; df -h; date").stdout
    assert a == b


def test_sudo_accepts_environment_assignments_before_the_command():
    import aivle_k8s as ak

    m = ak.World(seed=0).machine("m")
    r = m.sh("sudo ETCDCTL_API=3 env | grep ETCDCTL_API")
    assert r.exit_code == 0 and r.stdout == "ETCDCTL_API=3\n"
