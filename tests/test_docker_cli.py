"""The ``docker`` command line, typed into a machine's terminal like a student would.

Every test runs real command lines through ``machine.sh`` on a machine where
Docker is installed and checks what the real docker 24/25 CLI prints: table
headers and alignment, statuses, progress lines, exit codes and the exact
error messages, and that a rejected command changes nothing.
"""

from __future__ import annotations

import json
import re

import pytest

import aivle_k8s as ak
import aivle_k8s.engine.cli  # noqa: F401  (registers the docker program)
from aivle_k8s.engine import docker_hub, serve_registry
from aivle_k8s.images.image import Image, ImageConfig
from aivle_k8s.linux.distro import make_layer
from aivle_k8s.linux.fs import Entry
from aivle_k8s.linux.http import Response
from aivle_k8s.linux.kernel import program_entry, register_program
from aivle_k8s.machines.machine import PACKAGE_HOOKS
from aivle_k8s.registry.registry import Registry

# -- a small kit of programs and images (the tests do not depend on the Docker Hub catalogue) --------


@register_program("dk-echo")
def dk_echo(proc):
    proc.write(" ".join(proc.argv[1:]) + "\n")
    return 0


@register_program("dk-sleep")
def dk_sleep(proc):
    """Runs until killed; no signal handler (like ``sleep`` as PID 1: ``docker stop`` needs 10 s)."""
    yield proc.forever()


@register_program("dk-fail")
def dk_fail(proc):
    """dk-fail CODE: print to both streams, exit CODE."""
    proc.write("working\n")
    proc.error("something broke\n")
    return int(proc.argv[1]) if len(proc.argv) > 1 else 1


@register_program("dk-env")
def dk_env(proc):
    for key in proc.argv[1:]:
        proc.write(f"{key}={proc.env.get(key, '')}\n")
    proc.write(f"cwd={proc.cwd} uid={proc.uid} hostname={proc.ns.hostname}\n")
    return 0


@register_program("dk-ticker")
def dk_ticker(proc):
    for i in range(int(proc.argv[1])):
        proc.write(f"tick {i}\n")
        yield proc.sleep(1)
    return 0


@register_program("dk-web")
def dk_web(proc):
    """A tiny web server on port 80; SIGTERM stops it at once (exit 0)."""
    net = proc.ns.net
    net.listen(80, lambda data, peer: Response(200, b"hello from dk-web\n").to_bytes())
    proc.cleanups.append(lambda: net.close(80))
    proc.write("listening on 80\n")
    proc.on_signal("TERM", lambda s: proc.exit(0))
    yield proc.forever()


@register_program("dk-write")
def dk_write(proc):
    """dk-write PATH TEXT: write a file, then keep running."""
    proc.fs.write(proc.path(proc.argv[1]), proc.argv[2] + "\n")
    yield proc.forever()


PROGRAMS = ["dk-echo", "dk-sleep", "dk-fail", "dk-env", "dk-ticker", "dk-web", "dk-write"]
CREATED = "2025-01-01T00:00:00Z"


def kit_layer(extra: dict | None = None) -> dict:
    files = {"/etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
             "/etc/group": "root:x:0:\napp:x:1000:\n", "/tmp": Entry.directory(0o1777),
             "/home/app": Entry.directory(0o755, 1000, 1000), "/srv/index.html": "hello\n"}
    files.update(extra or {})
    return make_layer(files, programs={f"/bin/{p}": p for p in PROGRAMS})


def kit_image(cmd=("dk-sleep",), files: dict | None = None, **config) -> Image:
    cfg = ImageConfig(env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",),
                      cmd=tuple(cmd) if cmd is not None else None, **config)
    img = Image(cfg, created=CREATED).add_layer(kit_layer(), "ADD rootfs.tar / # buildkit", CREATED)
    if files:
        img = img.add_layer(make_layer(files), "COPY files / # buildkit", CREATED)
    return img


def registry_image() -> Image:
    layer = make_layer({"/etc/docker/registry/config.yml": "version: 0.1\nhttp:\n  addr: :5000\n"},
                       programs={"/bin/registry": "registry"})
    cfg = ImageConfig(env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",),
                      entrypoint=("registry",), cmd=("serve", "/etc/docker/registry/config.yml"),
                      exposed_ports=("5000/tcp",), volumes=("/var/lib/registry",))
    return Image(cfg, created=CREATED).add_layer(layer, "ADD registry.tar /", CREATED)


def install_docker(machine) -> None:
    """What ``sudo apt-get install -y docker.io`` leaves behind: /usr/bin/docker and a running daemon."""
    if not machine.fs.exists("/usr/bin/docker"):
        machine.fs.write("/usr/bin/docker", program_entry("docker").data, mode=0o755)
    PACKAGE_HOOKS["docker.io"](machine)


@pytest.fixture
def world():
    return ak.World(seed=0)


@pytest.fixture
def hub(world):
    """Docker Hub with a few kit images, and a user ``alice`` (password ``s3cret``).

    The Hub is made empty (not from the official-images catalogue) so these tests
    only depend on the kit.
    """
    world.registries["docker.io"] = Registry.docker_hub()
    reg = docker_hub(world)
    reg.put_image("library/alpine", "3.19", kit_image(cmd=("dk-echo", "hello from alpine")))
    reg.put_image("library/alpine", "latest", kit_image(cmd=("dk-echo", "hello from alpine")))
    reg.put_image("library/nginx", "1.25", kit_image(cmd=("dk-web",), exposed_ports=("80/tcp",),
                                                      files={"/usr/share/nginx/html/index.html": "nginx\n"}))
    reg.put_image("library/registry", "2", registry_image())
    reg.add_user("alice", "s3cret")
    return reg


@pytest.fixture
def host(world, hub):
    machine = world.machine("host", cpus=2, memory="4Gi")
    install_docker(machine)
    machine.engine.store.add(kit_image(), tags=["kit:latest"])
    return machine


def sh(machine, line: str, stdin: str = ""):
    return machine.sh(line, stdin=stdin)


def run_d(host, *args: str) -> str:
    r = sh(host, "docker run -d " + " ".join(args))
    assert r.exit_code == 0, r
    return r.stdout.strip()


def table(text: str) -> list[list[str]]:
    """Rows of a docker table split on runs of 3+ spaces."""
    return [re.split(r" {3,}", line.rstrip()) for line in text.splitlines()]


ID64 = re.compile(r"^[0-9a-f]{64}$")


# -- reaching the daemon ------------------------------------------------------------------------------


def test_without_docker_installed_the_command_does_not_exist(world):
    m = world.machine("bare")
    r = sh(m, "docker ps")
    assert r.exit_code == 127 and "docker: command not found" in r.stderr


def test_installing_docker_io_with_apt_gives_a_working_docker_command(world):
    m = world.machine("fresh")
    r = sh(m, "sudo apt-get install -y docker.io")
    if r.exit_code != 0:
        pytest.skip(f"apt-get cannot install docker.io here yet: {r.stderr.strip()[-200:]}")
    r = sh(m, "docker ps")
    assert (r.exit_code, r.stdout) == (0, "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n")
    assert sh(m, "docker --version").stdout.startswith("Docker version 24.0.7, build ")


def test_a_stopped_daemon_cannot_be_reached(host):
    sh(host, "sudo systemctl stop docker")
    assert not host.engine.running
    r = sh(host, "docker ps")
    assert r.exit_code == 1
    assert r.stderr == ("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                        "Is the docker daemon running?\n")


def test_run_against_a_stopped_daemon_says_so_in_run_words(host):
    sh(host, "sudo systemctl stop docker")
    r = sh(host, "docker run kit")
    assert r.exit_code == 125
    assert r.stderr == ("docker: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                        "Is the docker daemon running?.\nSee 'docker run --help'.\n")


def test_a_user_outside_the_docker_group_gets_permission_denied(host):
    host.write_file("/etc/group", "root:x:0:\nsudo:x:27:student\nstudent:x:1000:\ndocker:x:999:\n")
    r = sh(host, "docker ps")
    assert r.exit_code == 1
    assert r.stderr == ('permission denied while trying to connect to the Docker daemon socket at '
                        'unix:///var/run/docker.sock: Head "http://%2Fvar%2Frun%2Fdocker.sock/_ping": '
                        'dial unix /var/run/docker.sock: connect: permission denied\n')
    r = sh(host, "docker run kit")
    assert r.exit_code == 126 and r.stderr.startswith("docker: permission denied while trying to connect")


def test_root_reaches_the_daemon_without_the_group(host):
    host.write_file("/etc/group", "root:x:0:\nstudent:x:1000:\ndocker:x:999:\n")
    host.user = "root"
    r = sh(host, "docker ps -q")
    assert r.exit_code == 0 and r.stdout == ""


# -- command-line errors ----------------------------------------------------------------------------


def test_unknown_command(host):
    r = sh(host, "docker foo")
    assert (r.exit_code, r.stdout, r.stderr) == (1, "", "docker: 'foo' is not a docker command.\n"
                                                        "See 'docker --help'\n")


@pytest.mark.parametrize("line, see", [("docker ps --foo", "docker ps"), ("docker run --foo kit", "docker run"),
                                       ("docker container ls --foo", "docker container ls")])
def test_unknown_flag_exits_125_like_the_real_cli(host, line, see):
    r = sh(host, line)
    assert r.exit_code == 125
    assert r.stderr == f"unknown flag: --foo\nSee '{see} --help'.\n"


def test_missing_arguments_show_the_usage_line(host):
    r = sh(host, "docker rm")
    assert r.exit_code == 1
    assert r.stderr == ('"docker rm" requires at least 1 argument.\nSee \'docker rm --help\'.\n\n'
                        'Usage:  docker rm [OPTIONS] CONTAINER [CONTAINER...]\n\nRemove one or more containers\n')


@pytest.mark.parametrize("line, first", [
    ("docker rename web", '"docker rename" requires exactly 2 arguments.'),
    ("docker ps extra", '"docker ps" accepts no arguments.'),
    ("docker images a b", '"docker images" requires at most 1 argument.'),
    ("docker port", '"docker port" requires at least 1 and at most 2 arguments.'),
    ("docker container rm", '"docker container rm" requires at least 1 argument.'),
])
def test_argument_count_errors(host, line, first):
    r = sh(host, line)
    assert r.exit_code == 1 and r.stderr.splitlines()[0] == first


def test_flag_value_errors_are_flag_errors(host):
    r = sh(host, "docker run -m lots kit")
    assert r.exit_code == 125
    assert r.stderr == "invalid argument \"lots\" for \"-m, --memory\" flag: invalid size: 'lots'\n" \
                       "See 'docker run --help'.\n"
    r = sh(host, "docker ps -n x")
    assert r.stderr.startswith('invalid argument "x" for "-n, --last" flag: strconv.ParseInt: parsing "x": '
                               'invalid syntax')


def test_help_of_a_command_goes_to_stdout(host):
    r = sh(host, "docker rm --help")
    assert r.exit_code == 0 and r.stderr == ""
    assert r.stdout == (
        "\nUsage:  docker rm [OPTIONS] CONTAINER [CONTAINER...]\n\nRemove one or more containers\n\n"
        "Aliases:\n  docker container rm, docker container remove, docker rm\n\nOptions:\n"
        "  -f, --force     Force the removal of a running container (uses SIGKILL)\n"
        "  -l, --link      Remove the specified link\n"
        "  -v, --volumes   Remove anonymous volumes associated with the container\n")


def test_run_help_lists_its_many_options_with_defaults(host):
    out = sh(host, "docker run --help").stdout
    assert out.startswith("\nUsage:  docker run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
                          "Create and run a new container from an image\n")
    assert "  -d, --detach " in out and "  -p, --publish list " in out and "  -h, --hostname string " in out
    assert "      --restart string " in out and '(default "no")' in out
    assert "      --help " in out


def test_docker_alone_prints_the_help_on_stderr_and_help_flag_on_stdout(host):
    r = sh(host, "docker")
    assert r.exit_code == 0 and r.stdout == "" and "Usage:  docker [OPTIONS] COMMAND" in r.stderr
    r = sh(host, "docker --help")
    assert r.exit_code == 0
    assert "Common Commands:\n  run         Create and run a new container from an image\n" in r.stdout
    assert "Management Commands:\n  container   Manage containers\n" in r.stdout
    assert "Global Options:" in r.stdout and "Run 'docker COMMAND --help'" in r.stdout


def test_management_command_without_subcommand(host):
    r = sh(host, "docker volume")
    assert r.exit_code == 0 and "Usage:  docker volume COMMAND" in r.stderr
    r = sh(host, "docker volume frobnicate")
    assert r.exit_code == 1 and r.stderr.startswith("\nUsage:  docker volume COMMAND\n\nManage volumes\n")


def test_version_flag(host):
    r = sh(host, "docker -v")
    assert r.exit_code == 0 and re.fullmatch(r"Docker version 24\.0\.7, build \S+\n", r.stdout)


# -- docker run -----------------------------------------------------------------------------------------


def test_run_detached_prints_the_full_id_and_the_container_runs(host):
    r = sh(host, "docker run -d --name web kit")
    assert r.exit_code == 0 and ID64.match(r.stdout.strip()) and r.stderr == ""
    c = host.engine.containers.get("web")
    assert c.id == r.stdout.strip() and c.status == "running"


def test_combined_shorthands_and_name_forms(host):
    cid = run_d(host, "-p", "8080:80", "--name=web", "kit")
    assert host.engine.containers.get("web").id == cid
    r = sh(host, "docker run -dp 8081:80 --name web2 kit")
    assert r.exit_code == 0
    assert host.engine.containers.get("web2").attrs["HostConfig"]["PortBindings"]["80/tcp"][0]["HostPort"] == "8081"


def test_foreground_run_prints_the_output_and_returns_the_exit_code(host):
    r = sh(host, "docker run kit dk-echo hello world")
    assert (r.exit_code, r.stdout, r.stderr) == (0, "hello world\n", "")
    r = sh(host, "docker run kit dk-fail 3")
    assert (r.exit_code, r.stdout, r.stderr) == (3, "working\n", "something broke\n")


def test_output_streams_while_simulated_time_passes(host, world):
    t0 = world.now
    r = sh(host, "docker run --rm kit dk-ticker 3")
    assert r.stdout == "tick 0\ntick 1\ntick 2\n" and r.exit_code == 0
    assert world.now - t0 >= 3


def test_a_foreground_server_is_interrupted_like_ctrl_c_and_keeps_its_output(host):
    r = host.sh("docker run --name fg kit dk-web", timeout=30)
    assert r.exit_code == 130
    assert r.stdout == "listening on 80\n" and "^C" in r.stderr
    # SIGINT was forwarded; PID 1 has no handler for it, so the server keeps running in the background
    assert host.engine.containers.get("fg").status == "running"
    assert [p for p in host.kernel.processes.values() if p.argv[:1] == ["docker"]] == []


def test_rm_removes_the_container_after_it_exits(host):
    sh(host, "docker run --rm --name once kit dk-echo hi")
    assert sh(host, "docker ps -aq").stdout == ""


def test_environment_workdir_user_hostname_and_env_file(host):
    host.write_file("/home/student/app.env", "# settings\nMODE=prod\n\nEMPTY=\n")
    r = sh(host, "docker run --rm -e GREETING=hi -e HOME --env-file app.env -w /srv -u app -h box kit "
                 "dk-env GREETING HOME MODE EMPTY")
    assert r.stdout == ("GREETING=hi\nHOME=/home/student\nMODE=prod\nEMPTY=\n"
                        "cwd=/srv uid=1000 hostname=box\n")


def test_missing_env_file_is_a_client_error(host):
    r = sh(host, "docker run --env-file nope.env kit")
    assert r.exit_code == 125
    assert r.stderr == "docker: open nope.env: no such file or directory.\nSee 'docker run --help'.\n"


def test_entrypoint_labels_and_restart_policy_are_set(host):
    run_d(host, "--name", "web", "--entrypoint", "dk-sleep", "-l", "tier=web", "--restart", "on-failure:3", "kit")
    attrs = host.engine.containers.get("web").attrs
    assert attrs["Config"]["Entrypoint"] == ["dk-sleep"]
    assert attrs["Config"]["Labels"]["tier"] == "web"
    assert attrs["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}


def test_memory_and_cpus_limits(host):
    run_d(host, "--name", "lim", "-m", "256m", "--cpus", "0.5", "kit")
    hc = host.engine.containers.get("lim").attrs["HostConfig"]
    assert hc["Memory"] == 256 * 1024**2 and hc["NanoCpus"] == 500_000_000


def test_run_pulls_a_missing_image_with_progress_on_stderr(host):
    r = sh(host, "docker run --rm alpine:3.19")
    assert r.exit_code == 0 and r.stdout == "hello from alpine\n"
    lines = r.stderr.splitlines()
    assert lines[0] == "Unable to find image 'alpine:3.19' locally"
    assert lines[1] == "3.19: Pulling from library/alpine"
    assert all(re.fullmatch(r"[0-9a-f]{12}: (Already exists|Pull complete)", line) for line in lines[2:-2])
    assert lines[-2].startswith("Digest: sha256:") and lines[-1] == "Status: Downloaded newer image for alpine:3.19"


def test_pull_into_a_pipe_shows_every_status_change(host, hub):
    hub.put_image("library/busybox", "1.36", kit_image(cmd=("dk-echo", "bb"), files={"/etc/motd": "busybox\n"}))
    lines = sh(host, "docker pull busybox:1.36 | cat").stdout.splitlines()
    assert lines[0] == "1.36: Pulling from library/busybox"
    statuses = [line.split(": ", 1)[1] for line in lines[1:-3]]
    assert statuses == ["Already exists", "Pulling fs layer", "Verifying Checksum", "Download complete",
                        "Pull complete"]
    assert lines[-1] == "docker.io/library/busybox:1.36"


def test_run_quiet_suppresses_the_pull_progress(host):
    r = sh(host, "docker run -q --rm alpine")
    assert r.stderr == "Unable to find image 'alpine:latest' locally\n"


def test_run_of_an_image_that_does_not_exist(host):
    r = sh(host, "docker run nosuchimage")
    assert r.exit_code == 125
    assert r.stderr == ("Unable to find image 'nosuchimage:latest' locally\n"
                        "docker: Error response from daemon: pull access denied for nosuchimage, repository does not "
                        "exist or may require 'docker login': denied: requested access to the resource is denied.\n"
                        "See 'docker run --help'.\n")
    assert host.engine.containers.list(all=True) == []


def test_invalid_reference_is_rejected_before_anything_happens(host):
    r = sh(host, "docker run Nginx")
    assert r.exit_code == 125
    assert r.stderr == ("docker: invalid reference format: repository name (library/Nginx) must be lowercase.\n"
                        "See 'docker run --help'.\n")


def test_executable_not_found_exits_127_and_leaves_a_created_container(host):
    r = sh(host, "docker run --name broken kit nosuchcmd")
    assert r.exit_code == 127
    assert r.stderr == ('docker: Error response from daemon: failed to create task for container: failed to create '
                        'shim task: OCI runtime create failed: runc create failed: unable to start container process: '
                        'exec: "nosuchcmd": executable file not found in $PATH: unknown.\n')
    assert host.engine.containers.get("broken").status == "created"


def test_name_in_use_is_a_conflict_and_changes_nothing(host):
    cid = run_d(host, "--name", "web", "kit")
    before = len(host.engine.containers.list(all=True))
    r = sh(host, "docker run -d --name web kit")
    assert r.exit_code == 125
    assert r.stderr == (f'docker: Error response from daemon: Conflict. The container name "/web" is already in use '
                        f'by container "{cid}". You have to remove (or rename) that container to be able to reuse '
                        f"that name.\nSee 'docker run --help'.\n")
    assert len(host.engine.containers.list(all=True)) == before


def test_port_already_allocated(host):
    run_d(host, "-p", "8080:80", "kit")
    r = sh(host, "docker run -d -p 8080:80 --name second kit")
    assert r.exit_code == 125 and ID64.match(r.stdout.strip())
    assert r.stderr.startswith("docker: Error response from daemon: ")
    assert "port is already allocated" in r.stderr and "See 'docker run --help'" not in r.stderr


@pytest.mark.parametrize("flags, message", [
    ("-p 80:abc", "Invalid containerPort: abc"),
    ("-p x:80", "Invalid hostPort: x"),
    ("-p 80/xyz", "Invalid proto: xyz"),
    ("--rm --restart always", "Conflicting options: --restart and --rm"),
    ("--restart on-failure:x", "invalid restart policy format: maximum retry count must be an integer"),
    ("--pull sometimes", 'invalid pull option: \'sometimes\': must be one of "always", "missing" or "never"'),
])
def test_bad_run_options_are_rejected_by_the_client(host, flags, message):
    r = sh(host, f"docker run {flags} kit")
    assert r.exit_code == 125
    assert r.stderr == f"docker: {message}.\nSee 'docker run --help'.\n"
    assert host.engine.containers.list(all=True) == []


def test_daemon_side_validation_errors(host):
    r = sh(host, "docker run -m 1m kit")
    assert r.exit_code == 125
    assert r.stderr == ("docker: Error response from daemon: Minimum memory limit allowed is 6MB.\n"
                        "See 'docker run --help'.\n")
    r = sh(host, "docker run -w relative kit")
    assert r.stderr.startswith("docker: Error response from daemon: the working directory 'relative' is invalid")
    assert host.engine.containers.list(all=True) == []


def test_create_then_start(host):
    r = sh(host, "docker create --name later kit dk-echo created")
    assert r.exit_code == 0 and ID64.match(r.stdout.strip())
    assert host.engine.containers.get("later").status == "created"
    r = sh(host, "docker start -a later")
    assert (r.exit_code, r.stdout) == (0, "created\n")


# -- docker ps -------------------------------------------------------------------------------------------


def test_ps_with_nothing_running_prints_the_aligned_header(host):
    r = sh(host, "docker ps")
    assert r.stdout == "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"


def test_ps_shows_a_running_container_with_ports_and_status(host, world):
    cid = run_d(host, "-p", "8080:80", "--name", "web", "kit")
    world.advance(125)
    rows = table(sh(host, "docker ps").stdout)
    assert rows[0] == ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    assert rows[1] == [cid[:12], "kit", '"dk-sleep"', "2 minutes ago", "Up 2 minutes",
                       "0.0.0.0:8080->80/tcp, :::8080->80/tcp", "web"]


def test_ps_columns_line_up(host):
    run_d(host, "--name", "ab", "kit")
    run_d(host, "--name", "a-much-longer-name", "kit")
    lines = sh(host, "docker ps").stdout.splitlines()
    starts = {line.index("NAMES") if i == 0 else None for i, line in enumerate(lines)}
    col = lines[0].index("NAMES")
    assert all(line[col - 3:col] == "   " for line in lines) and starts


def test_ps_all_shows_exited_and_created_containers_newest_first(host, world):
    sh(host, "docker run --name done kit dk-fail 2")
    sh(host, "docker create --name fresh kit")
    world.advance(5)
    out = sh(host, "docker ps -a --format '{{.Names}}|{{.Status}}|{{.State}}'").stdout
    assert out == "fresh|Created|created\ndone|Exited (2) 5 seconds ago|exited\n"
    assert sh(host, "docker ps -q").stdout == ""


def test_ps_paused_and_restarting_statuses(host, world):
    run_d(host, "--name", "paused", "kit")
    sh(host, "docker pause paused")
    world.advance(3)
    run_d(host, "--name", "flappy", "--restart", "always", "kit", "dk-fail", "1")
    out = sh(host, "docker ps --format '{{.Names}}: {{.Status}}'").stdout
    assert "paused: Up 3 seconds (Paused)" in out
    assert re.search(r"flappy: Restarting \(1\) Less than a second ago", out), out


def test_ps_command_is_quoted_and_truncated_with_an_ellipsis(host):
    run_d(host, "--name", "long", "kit", "dk-write", "/tmp/some-rather-long-file-name", "text")
    assert sh(host, "docker ps --format '{{.Command}}'").stdout == '"dk-write /tmp/some-…"\n'
    assert sh(host, "docker ps --no-trunc --format '{{.Command}}'").stdout == \
        '"dk-write /tmp/some-rather-long-file-name text"\n'


def test_ps_quiet_no_trunc_last_and_filters(host):
    a = run_d(host, "--name", "alpha", "kit")
    b = run_d(host, "--name", "beta", "kit")
    sh(host, "docker run --name gamma kit dk-echo x")
    assert sh(host, "docker ps -q").stdout == f"{b[:12]}\n{a[:12]}\n"
    assert sh(host, "docker ps -q --no-trunc").stdout == f"{b}\n{a}\n"
    assert sh(host, "docker ps -n 1 --format '{{.Names}}'").stdout == "gamma\n"
    assert sh(host, "docker ps -l --format '{{.Names}}'").stdout == "gamma\n"
    assert sh(host, "docker ps --filter status=exited --format '{{.Names}}'").stdout == "gamma\n"
    assert sh(host, "docker ps -a -f name=alp --format '{{.Names}}'").stdout == "alpha\n"


def test_ps_bad_filter_and_bad_format(host):
    r = sh(host, "docker ps --filter colour=red")
    assert (r.exit_code, r.stderr) == (1, "Error response from daemon: invalid filter 'colour'\n")
    r = sh(host, "docker ps --filter bogus")
    assert r.exit_code == 125 and r.stderr.startswith(
        'invalid argument "bogus" for "-f, --filter" flag: bad format of filter (expected name=value)')
    run_d(host, "kit")
    r = sh(host, "docker ps --format '{{.Nope}}'")
    assert r.exit_code == 1
    assert r.stderr == ('template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field '
                        'Nope in type *formatter.ContainerContext\n')


def test_ps_table_format_and_json(host):
    run_d(host, "--name", "web", "-l", "tier=front", "kit")
    out = sh(host, "docker ps --format 'table {{.Names}}\\t{{.Image}}\\t{{.Label \"tier\"}}'").stdout
    assert out == "NAMES     IMAGE     TIER\nweb       kit       front\n"
    row = json.loads(sh(host, "docker ps --format json").stdout)
    assert row["Names"] == "web" and row["Labels"] == "tier=front" and row["State"] == "running"


def test_container_ls_is_ps(host):
    run_d(host, "--name", "web", "kit")
    assert sh(host, "docker container ls").stdout == sh(host, "docker ps").stdout
    assert sh(host, "docker container list -q").stdout == sh(host, "docker ps -q").stdout


# -- lifecycle ----------------------------------------------------------------------------------------------


def test_stop_waits_for_the_kill_timeout_then_start_and_restart(host, world):
    run_d(host, "--name", "web", "kit")
    t0 = world.now
    r = sh(host, "docker stop web")
    assert (r.exit_code, r.stdout) == (0, "web\n")
    assert world.now - t0 == pytest.approx(10, abs=0.5)
    assert host.engine.containers.get("web").exit_code == 137
    assert sh(host, "docker start web").stdout == "web\n"
    t0 = world.now
    assert sh(host, "docker restart -t 2 web").stdout == "web\n"
    assert world.now - t0 == pytest.approx(2, abs=0.5)
    assert host.engine.containers.get("web").status == "running"


def test_stop_of_a_program_that_handles_sigterm_is_quick(host, world):
    run_d(host, "--name", "web", "kit", "dk-web")
    t0 = world.now
    sh(host, "docker stop web")
    assert world.now - t0 < 1
    assert "Exited (0)" in sh(host, "docker ps -a --format '{{.Status}}'").stdout


def test_container_commands_report_missing_containers_and_go_on(host):
    run_d(host, "--name", "web", "kit")
    r = sh(host, "docker stop nosuch web")
    assert (r.exit_code, r.stdout, r.stderr) == (1, "web\n", "Error response from daemon: No such container: nosuch\n")
    r = sh(host, "docker start nosuch")
    assert r.stderr == ("Error response from daemon: No such container: nosuch\n"
                        "Error: failed to start containers: nosuch\n")


def test_kill_pause_unpause_and_wait(host):
    run_d(host, "--name", "web", "kit")
    assert sh(host, "docker pause web").stdout == "web\n"
    r = sh(host, "docker pause web")
    assert r.exit_code == 1 and "is already paused" in r.stderr
    assert sh(host, "docker unpause web").stdout == "web\n"
    assert sh(host, "docker kill -s TERM web").stdout == "web\n"  # PID 1 without a handler ignores it
    assert host.engine.containers.get("web").status == "running"
    assert sh(host, "docker kill web").stdout == "web\n"
    assert sh(host, "docker wait web").stdout == "137\n"
    r = sh(host, "docker kill web")
    assert r.exit_code == 1 and re.search(r"Cannot kill container: web: Container [0-9a-f]{64} is not running",
                                          r.stderr)


def test_rm_refuses_a_running_container_unless_forced(host):
    cid = run_d(host, "--name", "web", "kit")
    r = sh(host, "docker rm web")
    assert r.exit_code == 1
    assert r.stderr == (f"Error response from daemon: You cannot remove a running container {cid}. Stop the "
                        f"container before attempting removal or force remove\n")
    assert host.engine.containers.get("web").status == "running"
    assert sh(host, "docker rm -f web").stdout == "web\n"
    assert sh(host, "docker ps -aq").stdout == ""


def test_rm_force_of_a_missing_container_is_not_an_error(host):
    r = sh(host, "docker rm -f ghost")
    assert (r.exit_code, r.stderr) == (0, "Error response from daemon: No such container: ghost\n")
    r = sh(host, "docker rm ghost")
    assert (r.exit_code, r.stderr) == (1, "Error response from daemon: No such container: ghost\n")


def test_rm_v_removes_anonymous_volumes(host):
    run_d(host, "--name", "web", "-v", "/data", "kit")
    assert len(host.engine.volumes.list()) == 1
    sh(host, "docker rm -fv web")
    assert host.engine.volumes.list() == []


def test_rename_and_its_error(host):
    run_d(host, "--name", "old", "kit")
    assert sh(host, "docker rename old new").exit_code == 0
    assert host.engine.containers.get("new")
    r = sh(host, "docker rename ghost x")
    assert r.stderr == ("Error response from daemon: No such container: ghost\n"
                        "Error: failed to rename container named ghost\n")


def test_container_prune(host):
    sh(host, "docker run --name aa kit dk-echo")
    run_d(host, "--name", "bb", "kit")
    r = sh(host, "docker container prune", stdin="n\n")
    assert r.stdout == ("WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] "
                        "Total reclaimed space: 0B\n")
    assert len(host.engine.containers.list(all=True)) == 2
    a_id = host.engine.containers.get("aa").id
    r = sh(host, "docker container prune -f")
    assert r.stdout == f"Deleted Containers:\n{a_id}\n\nTotal reclaimed space: 0B\n"


# -- logs, exec, top, stats, port, diff, cp, commit -----------------------------------------------------------


def test_logs_keep_stdout_and_stderr_apart_and_support_tail_and_timestamps(host):
    sh(host, "docker run --name job kit dk-fail 1")
    r = sh(host, "docker logs job")
    assert (r.stdout, r.stderr) == ("working\n", "something broke\n")
    sh(host, "docker run --name ticks kit dk-ticker 3")
    assert sh(host, "docker logs --tail 1 ticks").stdout == "tick 2\n"
    assert sh(host, "docker logs -n 2 ticks").stdout == "tick 1\ntick 2\n"
    stamped = sh(host, "docker logs -t ticks").stdout.splitlines()
    assert re.fullmatch(r"2025-03-03T09:00:0\dZ? ?.*|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z tick 0", stamped[0])
    assert sh(host, "docker logs -f ticks").stdout == "tick 0\ntick 1\ntick 2\n"


def test_exec_runs_in_the_container_and_returns_the_exit_code(host):
    run_d(host, "--name", "web", "kit")
    r = sh(host, "docker exec web dk-echo inside")
    assert (r.exit_code, r.stdout) == (0, "inside\n")
    r = sh(host, "docker exec -e MODE=dev -w /tmp -u app web dk-env MODE")
    assert r.stdout.startswith("MODE=dev\ncwd=/tmp uid=1000")
    r = sh(host, "docker exec web dk-fail 4")
    assert (r.exit_code, r.stdout, r.stderr) == (4, "working\n", "something broke\n")
    r = sh(host, "docker exec -it web dk-echo tty")
    assert r.exit_code == 0 and "tty" in r.stdout


def test_exec_errors(host):
    cid = run_d(host, "--name", "web", "kit")
    r = sh(host, "docker exec web nosuch")
    assert r.exit_code == 127 and 'exec: "nosuch": executable file not found in $PATH' in r.output
    sh(host, "docker kill web")
    r = sh(host, "docker exec web dk-echo x")
    assert (r.exit_code, r.stderr) == (1, f"Error response from daemon: Container {cid} is not running\n")
    r = sh(host, "docker exec web")
    assert r.exit_code == 1 and r.stderr.startswith('"docker exec" requires at least 2 arguments.')


def test_top_lists_the_container_processes(host):
    run_d(host, "--name", "web", "kit")
    lines = sh(host, "docker top web").stdout.splitlines()
    assert lines[0].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert lines[0].startswith("UID                 PID")
    assert lines[1].split()[0] == "root" and lines[1].endswith("dk-sleep")


def test_stats_no_stream(host):
    cid = run_d(host, "--name", "web", "-m", "64m", "kit")
    rows = table(sh(host, "docker stats --no-stream").stdout)
    assert rows[0] == ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"]
    assert rows[1][:2] == [cid[:12], "web"] and rows[1][3].endswith(" / 64MiB") and rows[1][-1] == "1"


def test_port_lists_published_ports(host):
    run_d(host, "--name", "web", "-p", "8080:80", "-p", "127.0.0.1:9000:9000/udp", "kit")
    assert sh(host, "docker port web").stdout == ("80/tcp -> 0.0.0.0:8080\n80/tcp -> [::]:8080\n"
                                                  "9000/udp -> 127.0.0.1:9000\n")
    assert sh(host, "docker port web 80").stdout == "0.0.0.0:8080\n[::]:8080\n"
    r = sh(host, "docker port web 443")
    assert (r.exit_code, r.stderr) == (1, "Error: No public port '443' published for web\n")


def test_publish_all_maps_exposed_ports_to_random_host_ports(host):
    sh(host, "docker pull -q nginx:1.25")
    run_d(host, "-P", "--name", "web", "nginx:1.25")
    out = sh(host, "docker port web").stdout
    assert re.fullmatch(r"80/tcp -> 0\.0\.0\.0:(3\d{4})\n80/tcp -> \[::\]:\1\n", out)


def test_published_port_reaches_the_container(host):
    sh(host, "docker pull -q nginx:1.25")
    run_d(host, "-p", "8080:80", "--name", "web", "nginx:1.25")
    from aivle_k8s.linux.http import request

    resp = request(host.world.net, host.netns, "GET", "http://127.0.0.1:8080/")
    assert resp.status == 200 and resp.body == b"hello from dk-web\n"


def test_diff_and_commit(host):
    run_d(host, "--name", "wr", "kit", "dk-write", "/tmp/note.txt", "hello")
    assert sh(host, "docker diff wr").stdout == "C /tmp\nA /tmp/note.txt\n"
    r = sh(host, "docker commit wr snapshot:v1")
    assert r.exit_code == 0 and re.fullmatch(r"sha256:[0-9a-f]{64}\n", r.stdout)
    assert "snapshot" in sh(host, "docker images --format '{{.Repository}}:{{.Tag}}'").stdout
    r = sh(host, "docker commit wr Bad:tag")
    assert r.exit_code == 1 and r.stderr.startswith("invalid reference format: repository name")


def test_cp_between_the_machine_and_a_container(host):
    run_d(host, "--name", "wr", "kit", "dk-write", "/tmp/note.txt", "'from container'")
    r = sh(host, "docker cp wr:/tmp/note.txt ./copied.txt")
    assert (r.exit_code, r.stderr) == (0, "Successfully copied 15B to /home/student/copied.txt\n")
    assert host.read_file("copied.txt") == "from container\n"
    host.write_file("site/index.html", "<h1>hi</h1>\n")
    assert sh(host, "docker cp site wr:/srv").exit_code == 0
    assert host.engine.containers.get("wr").fs.read_text("/srv/site/index.html") == "<h1>hi</h1>\n"
    r = sh(host, "docker cp wr:/nope .")
    assert (r.exit_code, r.stderr) == (1, "Error response from daemon: Could not find the file /nope in container wr\n")


# -- inspect ---------------------------------------------------------------------------------------------------


def test_inspect_prints_a_json_array_indented_with_four_spaces(host):
    cid = run_d(host, "--name", "web", "kit")
    out = sh(host, "docker inspect web").stdout
    assert out.startswith('[\n    {\n        "Id": "' + cid + '",\n')
    data = json.loads(out)
    assert data[0]["Name"] == "/web" and data[0]["State"]["Status"] == "running"


def test_inspect_format_templates(host):
    run_d(host, "--name", "web", "kit")
    assert sh(host, "docker inspect -f '{{.State.Status}}' web").stdout == "running\n"
    ip = sh(host, "docker inspect --format '{{.NetworkSettings.IPAddress}}' web").stdout.strip()
    assert re.fullmatch(r"172\.17\.0\.\d+", ip)
    config = json.loads(sh(host, "docker inspect -f '{{json .Config}}' web").stdout)
    assert config["Cmd"] == ["dk-sleep"]
    assert sh(host, "docker container inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' web"
              ).stdout.strip() == ip


def test_inspect_errors(host):
    run_d(host, "--name", "web", "kit")
    r = sh(host, "docker inspect ghost")
    assert (r.exit_code, r.stdout, r.stderr) == (1, "[]\n", "Error: No such object: ghost\n")
    r = sh(host, "docker container inspect ghost")
    assert (r.exit_code, r.stderr) == (1, "Error response from daemon: No such container: ghost\n")
    r = sh(host, "docker inspect -f '{{.State.Nope}}' web")
    assert r.exit_code == 1
    assert r.stderr == ('template parsing error: template: :1:8: executing "" at <.State.Nope>: map has no entry '
                        'for key "Nope"\n')
    r = sh(host, "docker inspect -f '{{.State' web")
    assert (r.exit_code, r.stderr) == (64, "template parsing error: template: :1: unclosed action\n")
    r = sh(host, "docker inspect --type nosuchtype web")
    assert r.stderr == '"nosuchtype" is not a valid value for --type\n'


def test_inspect_finds_images_volumes_and_networks(host):
    sh(host, "docker volume create data")
    assert sh(host, "docker inspect -f '{{.Mountpoint}}' data").stdout == "/var/lib/docker/volumes/data/_data\n"
    assert sh(host, "docker inspect -f '{{.Driver}}' bridge").stdout == "bridge\n"
    assert sh(host, "docker image inspect -f '{{.Config.Cmd}}' kit").stdout == "[dk-sleep]\n"


# -- images ---------------------------------------------------------------------------------------------------


def test_images_table(host):
    out = sh(host, "docker images").stdout
    rows = table(out)
    assert rows[0] == ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]
    img = host.engine.images.get("kit")
    assert rows[1] == ["kit", "latest", img.short_id, "2 months ago", rows[1][4]]
    assert re.fullmatch(r"\d+(\.\d+)?k?B", rows[1][4])


def test_images_quiet_repository_filter_and_digests(host):
    sh(host, "docker pull -q alpine:3.19")
    sh(host, "docker tag alpine:3.19 mine/alpine:1")
    names = sh(host, "docker images --format '{{.Repository}}:{{.Tag}}'").stdout.split()
    assert sorted(names) == ["alpine:3.19", "kit:latest", "mine/alpine:1"]
    assert sh(host, "docker images alpine --format '{{.Tag}}'").stdout == "3.19\n"
    assert len(sh(host, "docker images -q").stdout.split()) == 3
    digests = table(sh(host, "docker images --digests alpine").stdout)
    assert digests[0][2] == "DIGEST" and digests[1][2].startswith("sha256:")
    assert sh(host, "docker image ls -q kit").stdout == sh(host, "docker images -q kit").stdout


def test_pull_prints_docker_progress_and_the_reference(host):
    r = sh(host, "docker pull alpine")
    lines = r.stdout.splitlines()
    assert r.exit_code == 0
    assert lines[:2] == ["Using default tag: latest", "latest: Pulling from library/alpine"]
    assert lines[-3].startswith("Digest: sha256:")
    assert lines[-2:] == ["Status: Downloaded newer image for alpine:latest", "docker.io/library/alpine:latest"]
    again = sh(host, "docker pull alpine:latest").stdout.splitlines()
    assert again[1].startswith("Digest:") and again[2] == "Status: Image is up to date for alpine:latest"


def test_pull_shares_layers_it_already_has(host):
    r = sh(host, "docker pull alpine:3.19")
    assert "Already exists" in r.stdout  # the kit layer is already in the store


def test_pull_quiet_and_errors(host):
    assert sh(host, "docker pull -q alpine:3.19").stdout == "docker.io/library/alpine:3.19\n"
    r = sh(host, "docker pull alpine:9.9")
    assert (r.exit_code, r.stderr) == (1, "Error response from daemon: manifest for alpine:9.9 not found: "
                                          "manifest unknown: manifest unknown\n")
    r = sh(host, "docker pull Alpine")
    assert (r.exit_code, r.stderr) == (1, "invalid reference format: repository name (library/Alpine) must be "
                                          "lowercase\n")
    r = sh(host, "docker pull ghost/nothing")
    assert r.stderr.startswith("Error response from daemon: pull access denied for ghost/nothing")


def test_tag_and_rmi(host):
    assert sh(host, "docker tag kit kit:v2").exit_code == 0
    r = sh(host, "docker rmi kit:v2")
    assert (r.exit_code, r.stdout) == (0, "Untagged: kit:v2\n")
    r = sh(host, "docker tag ghost x")
    assert (r.exit_code, r.stderr) == (1, "Error response from daemon: No such image: ghost:latest\n")
    r = sh(host, "docker tag kit Bad")
    assert r.stderr == ('Error parsing reference: "Bad" is not a valid repository/tag: invalid reference format: '
                        'repository name (library/Bad) must be lowercase\n')


def test_rmi_of_an_image_in_use_is_a_conflict(host):
    cid = run_d(host, "--name", "web", "kit")
    r = sh(host, "docker rmi kit")
    assert r.exit_code == 1 and r.stderr.startswith("Error response from daemon: conflict: unable to ")
    assert cid[:12] in r.stderr
    assert host.engine.images.get("kit")
    r = sh(host, "docker rmi ghost")
    assert (r.exit_code, r.stderr) == (1, "Error response from daemon: No such image: ghost:latest\n")
    r = sh(host, "docker rmi -f ghost")
    assert r.exit_code == 0 and "No such image" in r.stderr


def test_history(host):
    rows = table(sh(host, "docker history kit").stdout)
    assert rows[0] == ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]
    assert rows[1][0] == host.engine.images.get("kit").short_id
    assert any("ADD rootfs.tar /" in " ".join(r) for r in rows[1:])
    assert sh(host, "docker history -q kit").stdout.splitlines()[0] == host.engine.images.get("kit").short_id


def test_image_prune_removes_dangling_images(host):
    host.engine.store.add(kit_image(cmd=("dk-echo", "dangling")))
    r = sh(host, "docker image prune -f")
    assert r.stdout.startswith("Deleted Images:\ndeleted: sha256:") and "Total reclaimed space:" in r.stdout


# -- registries: push, login, logout -----------------------------------------------------------------------------


def test_push_to_docker_hub_needs_your_own_namespace(host):
    r = sh(host, "docker push kit")
    assert r.exit_code == 1
    assert re.fullmatch(r"Using default tag: latest\nThe push refers to repository \[docker\.io/library/kit\]\n"
                        r"[0-9a-f]{12}: Preparing\n", r.stdout)
    assert r.stderr == "denied: requested access to the resource is denied\n"


def test_login_then_push_to_your_namespace(host):
    r = sh(host, "docker login -u alice -p wrong")
    assert r.exit_code == 1
    assert r.stderr.endswith('Error response from daemon: Get "https://registry-1.docker.io/v2/": unauthorized: '
                             'incorrect username or password\n')
    r = sh(host, "docker login -u alice --password-stdin", stdin="s3cret\n")
    assert (r.exit_code, r.stdout) == (0, "Login Succeeded\n")
    assert "stored unencrypted in /home/student/.docker/config.json" in r.stderr
    sh(host, "docker tag kit alice/kit:1")
    r = sh(host, "docker push alice/kit:1")
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert lines[0] == "The push refers to repository [docker.io/alice/kit]"
    assert all(re.fullmatch(r"[0-9a-f]{12}: (Pushed|Mounted from \S+|Layer already exists)", x) for x in lines[1:-1])
    assert re.fullmatch(r"1: digest: sha256:[0-9a-f]{64} size: \d+", lines[-1])
    assert sh(host, "docker logout").stdout == "Removing login credentials for https://index.docker.io/v1/\n"


def test_login_errors(host):
    r = sh(host, "docker login")
    assert (r.exit_code, r.stderr) == (1, "Error: Cannot perform an interactive login from a non TTY device\n")
    r = sh(host, "docker login --password-stdin")
    assert r.stderr == "Must provide --username with --password-stdin\n"


def test_push_to_a_registry_container_then_push_again(host):
    run_d(host, "-p", "5000:5000", "--name", "registry", "registry:2")
    sh(host, "docker tag kit localhost:5000/app")
    r = sh(host, "docker push localhost:5000/app")
    assert r.exit_code == 0, r
    lines = r.stdout.splitlines()
    assert lines[:2] == ["Using default tag: latest", "The push refers to repository [localhost:5000/app]"]
    assert any(line.endswith(": Pushed") for line in lines)
    assert re.fullmatch(r"latest: digest: sha256:[0-9a-f]{64} size: \d+", lines[-1])
    again = sh(host, "docker push localhost:5000/app:latest").stdout
    assert "Layer already exists" in again and "Pushed" not in again


def test_push_of_an_image_that_does_not_exist_locally(host):
    r = sh(host, "docker push localhost:5000/ghost")
    assert r.exit_code == 1
    assert r.stderr == "An image does not exist locally with the tag: localhost:5000/ghost\n"


def test_private_registry_by_name(host, world):
    serve_registry(world, "registry.example.com", users={"bob": "pw"})
    sh(host, "docker tag kit registry.example.com/team/kit:1")
    r = sh(host, "docker login registry.example.com -u bob -p pw")
    assert r.stdout == "Login Succeeded\n"
    assert sh(host, "docker push registry.example.com/team/kit:1").exit_code == 0
    assert sh(host, "docker logout registry.example.com").stdout == \
        "Removing login credentials for registry.example.com\n"


# -- volumes and networks --------------------------------------------------------------------------------------


def test_volume_lifecycle(host):
    assert sh(host, "docker volume create data").stdout == "data\n"
    assert sh(host, "docker volume ls").stdout == "DRIVER    VOLUME NAME\nlocal     data\n"
    run_d(host, "--name", "db", "-v", "data:/data", "kit", "dk-write", "/data/x", "kept")
    r = sh(host, "docker volume rm data")
    assert r.exit_code == 1 and r.stderr.startswith("Error response from daemon: remove data: volume is in use")
    sh(host, "docker rm -f db")
    run_d(host, "--name", "db2", "-v", "data:/data", "kit")
    assert host.engine.containers.get("db2").fs.read_text("/data/x") == "kept\n"
    sh(host, "docker rm -f db2")
    assert sh(host, "docker volume rm data").stdout == "data\n"
    r = sh(host, "docker volume inspect data")
    assert (r.exit_code, r.stdout) == (1, "[]\n")


def test_volume_ls_quiet_and_prune(host):
    sh(host, "docker volume create keep")
    sh(host, "docker run --name tmp -v /anon kit dk-echo")
    sh(host, "docker rm tmp")
    assert len(sh(host, "docker volume ls -q").stdout.split()) == 2
    r = sh(host, "docker volume prune -f")
    assert r.stdout.startswith("Deleted Volumes:\n") and "Total reclaimed space:" in r.stdout
    assert sh(host, "docker volume ls -q").stdout == "keep\n"
    r = sh(host, "docker volume prune -a -f")
    assert r.stdout == "Deleted Volumes:\nkeep\n\nTotal reclaimed space: 0B\n"


def test_bind_mount_of_a_machine_directory(host):
    host.write_file("site/index.html", "from the machine\n")
    run_d(host, "--name", "web", "-v", "./site:/srv:ro", "kit")
    assert host.engine.containers.get("web").fs.read_text("/srv/index.html") == "from the machine\n"
    attrs = host.engine.containers.get("web").attrs
    assert attrs["Mounts"][0]["Source"] == "/home/student/site" and attrs["Mounts"][0]["RW"] is False


def test_network_lifecycle(host):
    r = sh(host, "docker network create appnet")
    assert r.exit_code == 0 and ID64.match(r.stdout.strip())
    rows = table(sh(host, "docker network ls").stdout)
    assert rows[0] == ["NETWORK ID", "NAME", "DRIVER", "SCOPE"]
    assert [row[1] for row in rows[1:]] == ["appnet", "bridge", "host", "none"]
    run_d(host, "--name", "web", "--network", "appnet", "kit")
    r = sh(host, "docker network rm appnet")
    assert r.exit_code == 1 and "has active endpoints" in r.stderr
    assert sh(host, "docker network disconnect appnet web").exit_code == 0
    assert sh(host, "docker network connect appnet web").exit_code == 0
    sh(host, "docker rm -f web")
    assert sh(host, "docker network rm appnet").stdout == "appnet\n"
    r = sh(host, "docker network rm appnet")
    assert r.exit_code == 1 and "not found" in r.stderr


# -- system -------------------------------------------------------------------------------------------------------


def test_system_df(host):
    run_d(host, "--name", "web", "kit")
    rows = table(sh(host, "docker system df").stdout)
    assert rows[0] == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    assert [r[0] for r in rows[1:]] == ["Images", "Containers", "Local Volumes", "Build Cache"]
    assert rows[1][1:3] == ["1", "1"] and rows[2][1:3] == ["1", "1"]


def test_system_prune_force(host):
    sh(host, "docker run --name done kit dk-echo")
    r = sh(host, "docker system prune -f")
    assert r.exit_code == 0 and r.stdout.startswith("Deleted Containers:\n")
    assert r.stdout.endswith("Total reclaimed space: 0B\n")
    assert host.engine.containers.list(all=True) == []


def test_info_and_version(host):
    out = sh(host, "docker info").stdout
    assert out.startswith("Client:\n Version:    24.0.7\n")
    assert "\nServer:\n Containers: 0\n  Running: 0\n" in out and " Storage Driver: overlay2\n" in out
    assert sh(host, "docker info -f '{{.NCPU}}'").stdout == "2\n"
    out = sh(host, "docker version").stdout
    assert out.startswith("Client:\n Version:           24.0.7\n API version:       1.43\n")
    assert "\nServer:\n Engine:\n  Version:          24.0.7\n" in out
    assert sh(host, "docker version -f '{{.Server.Version}}'").stdout == "24.0.7\n"


def test_version_without_a_daemon_prints_the_client_and_the_error(host):
    sh(host, "sudo systemctl stop docker")
    r = sh(host, "docker version")
    assert r.exit_code == 1 and r.stdout.startswith("Client:\n") and "Server:" not in r.stdout
    assert r.stderr.startswith("Cannot connect to the Docker daemon")


# -- docker build ---------------------------------------------------------------------------------------------------


def test_build_prints_the_buildkit_log_on_stderr_and_tags_the_image(host):
    host.write_file("app/Dockerfile", "FROM kit\nCOPY index.html /srv/index.html\nCMD [\"dk-web\"]\n")
    host.write_file("app/index.html", "built\n")
    r = sh(host, "docker build -t app:1 app")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == ""
    assert r.stderr.startswith("#0 building with")
    assert "naming to docker.io/library/app:1" in r.stderr
    assert "app" in sh(host, "docker images --format '{{.Repository}}'").stdout
    run_d(host, "--name", "built", "app:1")
    assert host.engine.containers.get("built").fs.read_text("/srv/index.html") == "built\n"


def test_build_from_the_shells_directory_with_a_dot_and_quiet(host):
    host.write_file("app/Dockerfile", "FROM kit\nENV MODE=prod\n")
    r = sh(host, "cd app && docker build -q -t app:2 .")
    assert r.exit_code == 0 and re.fullmatch(r"sha256:[0-9a-f]{64}\n", r.stdout) and r.stderr == ""


def test_build_failure_shows_the_log_and_exits_1(host):
    host.write_file("app/Dockerfile", "FROM kit\nRUN [\"dk-fail\", \"3\"]\n")
    r = sh(host, "docker build -t broken app")
    assert r.exit_code == 1
    assert "ERROR: failed to solve: " in r.stderr and "exit code: 3" in r.stderr
    assert "broken" not in sh(host, "docker images --format '{{.Repository}}'").stdout


def test_build_errors(host):
    r = sh(host, "docker build -t app nope")
    assert (r.exit_code, r.stderr) == (1, 'ERROR: unable to prepare context: path "nope" not found\n')
    host.write_file("app/Dockerfile", "FROM kit\n")
    r = sh(host, "docker build -t Bad app")
    assert r.exit_code == 1 and r.stderr.startswith('ERROR: invalid tag "Bad": invalid reference format')
    r = sh(host, "docker build")
    assert r.exit_code == 1 and r.stderr.startswith('"docker build" requires exactly 1 argument.')


def test_save_and_load_an_image_archive(host):
    r = sh(host, "docker save kit")
    assert (r.exit_code, r.stderr) == (1, "cowardly refusing to save to a terminal. Use the -o flag or redirect\n")
    assert sh(host, "docker save -o kit.tar kit").exit_code == 0
    sh(host, "docker rmi kit")
    r = sh(host, "docker load -i kit.tar")
    assert (r.exit_code, r.stdout) == (0, "Loaded image: kit:latest\n")
    assert sh(host, "docker save kit | docker load").stdout == "Loaded image: kit:latest\n"


def test_a_registry_reached_under_another_name_is_reported_by_the_name_typed():
    world = ak.World(seed=0)
    dev, prod = world.machine("dev"), world.machine("prod")
    for m in (dev, prod):
        m.sh("sudo apt-get install -y docker.io")
    dev.sh("docker run -d -p 5000:5000 --name registry registry:2")
    assert dev.sh("docker pull -q busybox && docker tag busybox localhost:5000/bb:1 && "
                  "docker push localhost:5000/bb:1").ok
    prod.write_file("/etc/docker/daemon.json", '{"insecure-registries": ["dev:5000"]}\n')
    prod.sh("sudo systemctl restart docker")
    assert "Status: Downloaded newer image for dev:5000/bb:1" in prod.sh("docker pull dev:5000/bb:1").stdout
    assert "Status: Image is up to date for dev:5000/bb:1" in prod.sh("docker pull dev:5000/bb:1").stdout
    missing = prod.sh("docker pull dev:5000/bb:2")
    assert missing.exit_code == 1 and "manifest for dev:5000/bb:2 not found" in missing.stderr
