"""Machines: fresh Ubuntu boxes with a terminal, files, packages and services."""

import pytest

import aivle_k8s as ak
from aivle_k8s.machines import ShellResult, parse_quantity


def test_a_fresh_machine_has_swap_on_and_nothing_installed(host):
    assert host.kernel.swap_on is True
    assert host.packages == {}
    assert host.sh("docker ps").exit_code == 127
    assert "command not found" in host.sh("kubeadm version").stderr


def test_sh_returns_exit_code_stdout_and_stderr(host):
    r = host.sh("echo out; echo err >&2; exit 3")
    assert (r.exit_code, r.stdout, r.stderr) == (3, "out\n", "err\n")
    assert isinstance(r, ShellResult) and not r.ok


def test_repr_is_what_a_terminal_shows_in_order(host):
    r = host.sh("echo one; echo two >&2; echo three")
    assert repr(r) == "one\ntwo\nthree\n"


def test_cd_and_export_carry_over_like_a_terminal(host):
    host.sh("mkdir -p proj && cd proj && export GREETING=hi")
    assert host.sh("pwd").stdout == "/home/student/proj\n"
    assert host.sh("echo $GREETING").stdout == "hi\n"


def test_write_file_is_relative_to_home_and_owned_by_the_student(host):
    host.sh("cd /tmp")
    host.write_file("app/Dockerfile", "FROM busybox\n")
    assert host.read_file("/home/student/app/Dockerfile") == "FROM busybox\n"
    assert host.fs.stat("/home/student/app/Dockerfile").uid == 1000
    assert host.sh("cat ~/app/Dockerfile").stdout == "FROM busybox\n"


def test_the_student_is_not_root_but_can_sudo(host):
    assert host.sh("whoami").stdout == "student\n"
    assert host.sh("sudo whoami").stdout == "root\n"
    assert "Permission denied" in host.sh("echo x > /etc/motd").stderr


def test_simulated_time_passes_while_a_command_runs(world, host):
    before = world.now
    host.sh("sleep 5")
    assert world.now == before + 5


def test_a_command_that_never_ends_is_interrupted_like_ctrl_c(world, host):
    r = host.sh("sleep infinity", timeout=60)
    assert r.exit_code == 130
    assert "interrupted" in r.stderr
    assert world.now == pytest.approx(60)


def test_pid_1_is_init(host):
    assert host.sh("ps -p 1 -o comm=").stdout.strip() in ("init", "systemd")


def test_installing_docker_gives_the_machine_an_engine_and_a_service(host):
    r = host.sh("sudo apt-get install -y docker.io")
    assert r.exit_code == 0, r.output
    assert host.engine is not None and host.engine.running
    assert host.sh("systemctl is-active docker").stdout == "active\n"
    assert host.sh("docker run --rm busybox echo hi").stdout == "hi\n"


def test_stopping_the_docker_service_stops_the_daemon(host):
    host.sh("sudo apt-get install -y docker.io")
    host.sh("sudo systemctl stop docker")
    r = host.sh("docker ps")
    assert r.exit_code == 1
    assert "Is the docker daemon running?" in r.stderr
    host.sh("sudo systemctl start docker")
    assert host.sh("docker ps").exit_code == 0


def test_systemctl_errors(host):
    assert host.sh("systemctl start docker").exit_code != 0  # not root
    r = host.sh("sudo systemctl start nope")
    assert r.exit_code == 5 and "Unit nope.service not found." in r.stderr


def test_machines_reach_each_other_by_name(world, host):
    other = world.machine("other")
    assert host.sh("curl -s --max-time 1 http://other/").exit_code == 7  # nothing listens there
    assert other.ip != host.ip


def test_machine_names_must_be_hostnames_and_unique(world):
    world.machine("ok-1")
    with pytest.raises(ak.AlreadyExists):
        world.machine("ok-1")
    with pytest.raises(ak.InvalidInput):
        world.machine("Bad_Name")
    with pytest.raises(ak.InvalidInput):
        world.machine("m", cpus=0)
    assert list(world.machines) == ["ok-1"]


def test_quantities():
    assert parse_quantity("1Gi") == 1024**3
    assert parse_quantity("500M") == 500 * 1000**2
    with pytest.raises(ak.InvalidInput):
        parse_quantity("lots")


def test_same_seed_same_world():
    def run():
        world = ak.World(seed=3)
        m = world.machine("m")
        m.sh("sudo apt-get install -y docker.io")
        cid = m.sh("docker run -d --name web nginx:1.25").stdout
        ip = m.sh("docker inspect -f '{{.NetworkSettings.IPAddress}}' web").stdout
        images = m.sh("docker images --no-trunc -q").stdout
        return cid, ip, images, world.now

    assert run() == run()


def test_published_urls_are_served_on_the_simulated_internet(world, host):
    world.publish("https://example.com/key.asc", "KEY\n")
    assert host.sh("curl -fsSL https://example.com/key.asc").stdout == "KEY\n"
    r = host.sh("curl -fsSL https://example.com/missing")
    assert r.exit_code == 22
