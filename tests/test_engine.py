"""The engine: daemon, images, registries, build, determinism.

This module also holds the small kit the engine tests share (imported by
``test_engine_*.py`` and ``test_runtime.py``): tiny registered programs and
images made of them, so the tests do not depend on the full distribution
images.
"""

from __future__ import annotations

import pytest

import aivle_k8s as ak
from aivle_k8s.engine import DaemonNotRunning, Engine, docker_hub, serve_registry
from aivle_k8s.images.image import Image, ImageConfig
from aivle_k8s.linux.distro import make_layer
from aivle_k8s.linux.fs import Entry, join
from aivle_k8s.linux.http import Request, Response
from aivle_k8s.linux.kernel import register_program, programs
from aivle_k8s.sim.errors import (Conflict, ImageNotFound, NetworkError, RegistryError, Unauthorized)

# -- the kit: programs ----------------------------------------------------------------------------


@register_program("kit-sleep")
def kit_sleep(proc):
    """kit-sleep [SECONDS|infinity]: no signal handler (like sleep as PID 1)."""
    secs = proc.argv[1] if len(proc.argv) > 1 else "infinity"
    if secs == "infinity":
        yield proc.forever()
    else:
        yield proc.sleep(float(secs))
    return 0


@register_program("kit-echo")
def kit_echo(proc):
    proc.write(" ".join(proc.argv[1:]) + "\n")
    return 0


@register_program("kit-exit")
def kit_exit(proc):
    """kit-exit CODE [MESSAGE-ON-STDERR]."""
    if len(proc.argv) > 2:
        proc.error(proc.argv[2] + "\n")
    return int(proc.argv[1])


@register_program("kit-crash")
def kit_crash(proc):
    """kit-crash SECONDS CODE: print 'up', run SECONDS, then exit CODE."""
    proc.write("up\n")
    yield proc.sleep(float(proc.argv[1]))
    return int(proc.argv[2])


@register_program("kit-web")
def kit_web(proc):
    """kit-web [PORT] [DOCROOT]: a static HTTP server; SIGTERM/SIGQUIT stop it gracefully (exit 0)."""
    port = int(proc.argv[1]) if len(proc.argv) > 1 else 80
    root = proc.argv[2] if len(proc.argv) > 2 else "/srv"

    def handler(data, peer):
        req = Request.parse(data)
        path = join(root, req.path.split("?")[0].lstrip("/"))
        if proc.fs.is_dir(path):
            path = join(path, "index.html")
        if not proc.fs.is_file(path):
            return Response(404, b"not found\n").to_bytes()
        return Response(200, proc.fs.read(path)).to_bytes()

    net = proc.ns.net
    net.listen(port, handler)
    proc.cleanups.append(lambda: net.close(port))
    proc.write(f"listening on {port}\n")
    proc.on_signal("TERM", lambda s: proc.exit(0))
    proc.on_signal("QUIT", lambda s: proc.exit(0))
    yield proc.forever()


@register_program("kit-info")
def kit_info(proc):
    proc.write(f"hostname={proc.ns.hostname}\npid={proc.local_pid}\nrelease={proc.kernel.release}\n"
               f"uid={proc.uid}\ncwd={proc.cwd}\nhome={proc.env.get('HOME')}\n")
    return 0


@register_program("kit-ps")
def kit_ps(proc):
    for p in proc.kernel.ps(proc.ns.pid):
        proc.write(f"{proc.ns.pid.members[p.pid]} {' '.join(p.argv)}\n")
    return 0


@register_program("kit-write")
def kit_write(proc):
    """kit-write PATH TEXT [stay]."""
    proc.fs.write(proc.path(proc.argv[1]), proc.argv[2] + "\n")
    if len(proc.argv) > 3:
        yield proc.forever()
    return 0


@register_program("kit-cat")
def kit_cat(proc):
    for path in proc.argv[1:]:
        if not proc.fs.is_file(proc.path(path)):
            return proc.fail(f"{path}: No such file or directory", 1)
        proc.write(proc.fs.read(proc.path(path)))
    return 0


@register_program("kit-mem")
def kit_mem(proc):
    """kit-mem BYTES: allocate, then run until killed."""
    proc.write("allocating\n")
    proc.alloc(int(proc.argv[1]))
    yield proc.forever()


@register_program("kit-get")
def kit_get(proc):
    """kit-get URL: an HTTP GET from the process's network namespace."""
    from aivle_k8s.linux.http import request

    try:
        resp = request(proc.kernel.owner.world.net, proc.ns.net, "GET", proc.argv[1])
    except NetworkError as e:
        return proc.fail(e.message, 7)
    proc.write(resp.body)
    return 0


@register_program("kit-upper")
def kit_upper(proc):
    """kit-upper: stdin, upper-cased, to stdout."""
    proc.write(proc.stdin.upper())
    return 0


@register_program("kit-ticker")
def kit_ticker(proc):
    """kit-ticker N: print 'tick i' every second N times, then exit 0."""
    for i in range(int(proc.argv[1])):
        proc.write(f"tick {i}\n")
        yield proc.sleep(1)
    return 0


KIT_PROGRAMS = ["kit-sleep", "kit-echo", "kit-exit", "kit-crash", "kit-web", "kit-info", "kit-ps", "kit-write",
                "kit-cat", "kit-mem", "kit-get", "kit-ticker", "kit-upper"]
PASSWD = ("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"
          "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")


def kit_base_layer() -> dict:
    return make_layer({"/etc/passwd": PASSWD, "/etc/group": "root:x:0:\napp:x:1000:\n",
                       "/etc/hosts": "127.0.0.1 localhost\n", "/etc/hostname": "kit\n",
                       "/root": Entry.directory(0o700), "/tmp": Entry.directory(0o1777),
                       "/home/app": Entry.directory(0o755, 1000, 1000),
                       "/srv/index.html": "hello from kit\n"},
                      programs={f"/bin/{name}": name for name in KIT_PROGRAMS})


def kit_image(cmd=("kit-sleep",), files: dict | None = None, created: str = "2025-01-01T00:00:00Z",
              **config) -> Image:
    """An image of the kit programs (+ one layer of ``files``) with ``cmd`` and other config."""
    cfg = ImageConfig(env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",),
                      cmd=tuple(cmd) if cmd is not None else None, **config)
    img = Image(cfg, created=created).add_layer(kit_base_layer(), "ADD kit.tar /", created)
    if files:
        img = img.add_layer(make_layer(files), "COPY files /", created)
    return img


def host_layer(name: str) -> dict:
    """A small host disk (the engine only needs users, /home and /var/lib)."""
    return make_layer({"/etc/passwd": "root:x:0:0:root:/root:/bin/bash\n"
                                      "student:x:1000:1000:Student:/home/student:/bin/bash\n",
                       "/etc/group": "root:x:0:\nsudo:x:27:student\nstudent:x:1000:\n",
                       "/etc/hostname": f"{name}\n", "/etc/hosts": f"127.0.0.1 localhost\n127.0.1.1 {name}\n",
                       "/home/student": Entry.directory(0o750, 1000, 1000), "/root": Entry.directory(0o700),
                       "/tmp": Entry.directory(0o1777), "/var/lib": Entry.directory(), "/run": Entry.directory()})


def new_machine(world, name: str = "host", **kw):
    return world.machine(name, cpus=kw.pop("cpus", 4), memory=kw.pop("memory", "8Gi"), layer=host_layer(name), **kw)


def new_engine(world, name: str = "host", *, images: dict | None = None) -> Engine:
    """A running engine on a fresh machine, with ``kit:latest`` (+ ``images``: tag -> Image) stored."""
    engine = Engine(new_machine(world, name))
    engine.store.add(kit_image(), tags=["kit:latest"])
    for tag, img in (images or {}).items():
        engine.store.add(img, tags=[tag])
    return engine


@pytest.fixture
def world():
    return ak.World(seed=0)


@pytest.fixture
def engine(world):
    return new_engine(world)


@pytest.fixture
def hub(world):
    """Docker Hub with ``library/kit`` and ``library/web`` (kit images) published."""
    reg = docker_hub(world)
    reg.put_image("library/kit", "latest", kit_image())
    reg.put_image("library/web", "latest", kit_image(cmd=("kit-web",), exposed_ports=("80/tcp",),
                                                       stop_signal="SIGQUIT"))
    return reg


def has_program(name: str) -> bool:
    return name in programs()


# -- the daemon ----------------------------------------------------------------------------------------


def test_engine_knows_its_machine_and_starts_with_three_networks(engine):
    assert engine.machine.engine is engine
    assert [n.name for n in engine.networks.list()] == ["bridge", "host", "none"]
    assert engine.networks.get("bridge").subnet == "172.17.0.0/16"


def test_a_stopped_daemon_refuses_every_call_in_dockers_words(engine):
    engine.running = False
    with pytest.raises(DaemonNotRunning) as e:
        engine.containers.list()
    assert str(e.value) == ("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                            "Is the docker daemon running?")


def test_dockerd_program_sets_running_while_it_runs(world):
    machine = new_machine(world)
    from aivle_k8s.linux.kernel import _PROGRAMS

    engine = Engine(machine, running=False)
    proc = machine.kernel.start(_PROGRAMS["dockerd"], ["dockerd"], ns=machine.ns)
    assert engine.running and proc.alive
    machine.kernel.signal(proc.pid, "TERM")
    assert not engine.running and not proc.alive and proc.exit_code == 0


def test_docker_package_hook_creates_engine_unit_and_group(world):
    machine = new_machine(world)
    from aivle_k8s.machines import PACKAGE_HOOKS

    PACKAGE_HOOKS["docker.io"](machine)
    assert isinstance(machine.engine, Engine) and machine.engine.running
    assert machine.services.is_active("docker") and machine.services.units["docker"].enabled
    assert "docker:x:999:student" in machine.fs.read_text("/etc/group")
    assert machine.fs.exists("/var/run/docker.sock")


def test_systemctl_stop_docker_stops_containers_and_start_brings_back_always_ones(world):
    machine = new_machine(world)
    from aivle_k8s.machines import PACKAGE_HOOKS

    PACKAGE_HOOKS["docker.io"](machine)
    engine = machine.engine
    engine.store.add(kit_image(), tags=["kit:latest"])
    always = engine.containers.run("kit", detach=True, name="always", restart_policy={"Name": "always"})
    plain = engine.containers.run("kit", detach=True, name="plain")
    machine.services.stop("docker")
    assert not engine.running
    assert always.status == "exited" and plain.status == "exited"
    with pytest.raises(DaemonNotRunning):
        engine.containers.get("always")
    machine.services.start("docker")
    assert engine.running
    assert always.status == "running" and plain.status == "exited"


def test_daemon_restart_starts_unless_stopped_containers_unless_stopped_by_hand(world):
    machine = new_machine(world)
    from aivle_k8s.machines import PACKAGE_HOOKS

    PACKAGE_HOOKS["docker.io"](machine)
    engine = machine.engine
    engine.store.add(kit_image(), tags=["kit:latest"])
    kept = engine.containers.run("kit", detach=True, name="kept", restart_policy="unless-stopped")
    stopped = engine.containers.run("kit", detach=True, name="stopped", restart_policy="unless-stopped")
    failing = engine.containers.run("kit", ["kit-crash", "100", "3"], detach=True, name="failing",
                                    restart_policy="on-failure")
    stopped.stop(timeout=0)
    machine.services.restart("docker")
    assert (kept.status, stopped.status, failing.status) == ("running", "exited", "running")


def test_containerd_hook_makes_a_containerd_engine(world):
    machine = new_machine(world)
    from aivle_k8s.machines import PACKAGE_HOOKS

    PACKAGE_HOOKS["containerd"](machine)
    engine = machine.extensions["containerd"]
    assert engine.name == "containerd" and engine.root == "/var/lib/containerd" and engine.running
    assert machine.services.is_active("containerd")
    assert machine.fs.exists("/run/containerd/containerd.sock")
    machine.services.stop("containerd")
    with pytest.raises(DaemonNotRunning, match="containerd.sock"):
        engine.images.list()


def test_info_and_version_report_the_host_kernel(engine):
    info = engine.info()
    assert info["KernelVersion"] == engine.machine.kernel.release
    assert info["NCPU"] == 4 and info["Driver"] == "overlay2"
    assert engine.version()["ApiVersion"] == "1.43"


# -- images and Docker Hub -------------------------------------------------------------------------------


def test_pull_from_docker_hub_counts_bytes_and_takes_time(world, hub):
    engine = Engine(new_machine(world))
    t0 = world.now
    report = engine.images.pull("kit")
    assert report.status == "Downloaded newer image for kit:latest"
    assert report.bytes_downloaded > 0
    assert world.now - t0 == pytest.approx(report.seconds) and report.seconds > 0
    assert engine.images.get("kit").id == report.image.id
    again = engine.images.pull("kit")
    assert again.status == "Image is up to date for kit:latest" and again.bytes_downloaded == 0


def test_pull_of_an_unknown_repository_is_denied_like_docker_hub(world, hub):
    engine = Engine(new_machine(world))
    with pytest.raises(Unauthorized, match="pull access denied for nosuchthing, repository does not exist"):
        engine.images.pull("nosuchthing")
    assert engine.images.list() == []


def test_run_pulls_a_missing_image_and_reports_it(world, hub):
    engine = Engine(new_machine(world))
    seen = []
    c = engine.containers.run("web", detach=True, on_pull=seen.append)
    assert seen[0] is None and seen[1].status == "Downloaded newer image for web:latest"
    assert c.pull_report is seen[1] and c.status == "running"


def test_push_to_docker_hub_needs_login_to_your_namespace(world, hub):
    hub.add_user("alice", "pw")
    engine = new_engine(world)
    engine.images.tag("kit", "alice/kit:1")
    with pytest.raises(Unauthorized, match="denied: requested access to the resource is denied"):
        engine.images.push("alice/kit:1")
    with pytest.raises(Unauthorized, match="incorrect username or password"):
        engine.login("alice", "wrong")
    assert engine.login("alice", "pw") == "Login Succeeded"
    report = engine.images.push("alice/kit:1")
    assert report.layers == [(report.layers[0][0], "Mounted from library/kit")]  # the hub has that layer
    engine.images.tag("kit", "kit:mine")
    with pytest.raises(Unauthorized, match="denied"):
        engine.images.push("kit:mine")


def test_private_registry_push_sends_only_missing_layers_and_pull_only_missing_ones(world):
    reg = serve_registry(world, "registry.example.com:5000")
    a = new_engine(world, "a")
    base = kit_image()
    app = base.add_layer(make_layer({"/app/v1": "one\n"}), "COPY v1 /app/", "2025-01-02T00:00:00Z")
    a.store.add(app, tags=["registry.example.com:5000/team/app:1"])
    first = a.images.push("registry.example.com:5000/team/app:1")
    assert first.bytes_uploaded > 0 and all(s == "Pushed" for _, s in first.layers)
    assert reg.tags("team/app") == ["1"]
    second = a.images.push("registry.example.com:5000/team/app:1")
    assert second.bytes_uploaded == 0
    b = new_engine(world, "b")  # already has the kit base layer
    pulled = b.images.pull("registry.example.com:5000/team/app:1")
    assert [s for _, s in pulled.layers] == ["Already exists", "Pull complete"]
    assert pulled.bytes_downloaded < first.bytes_uploaded
    assert b.images.get("registry.example.com:5000/team/app:1").id == app.id


def test_private_registry_with_users_needs_login_to_push(world):
    serve_registry(world, "registry.example.com", users={"bob": "pw"})
    engine = new_engine(world)
    engine.images.tag("kit", "registry.example.com/bob/kit:1")
    with pytest.raises(Unauthorized):
        engine.images.push("registry.example.com/bob/kit:1")
    engine.login("bob", "pw", registry="registry.example.com")
    assert engine.images.push("registry.example.com/bob/kit:1").digest.startswith("sha256:")


def test_registry_nobody_serves_is_connection_refused(engine):
    with pytest.raises(RegistryError) as e:
        engine.images.pull("localhost:5000/app:1")
    assert str(e.value) == 'Get "https://localhost:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection refused'
    with pytest.raises(RegistryError, match="no such host"):
        engine.images.pull("nowhere.example.com/app:1")


def test_registry_container_serves_pushes_through_its_published_port(world):
    engine = new_engine(world)
    registry_image = kit_image(cmd=("/bin/registry", "serve", "/etc/docker/registry/config.yml"),
                               volumes=("/var/lib/registry",), exposed_ports=("5000/tcp",))
    registry_image = registry_image.add_layer(make_layer({}, programs={"/bin/registry": "registry"}),
                                              "COPY registry /bin/", "2025-01-01T00:00:00Z")
    engine.store.add(registry_image, tags=["registry:2"])
    reg_c = engine.containers.run("registry:2", detach=True, name="registry", ports={"5000/tcp": 5000})
    engine.images.tag("kit", "localhost:5000/app:1")
    report = engine.images.push("localhost:5000/app:1")
    assert report.bytes_uploaded > 0
    assert engine.request("http://localhost:5000/v2/_catalog").text == '{"repositories":["app"]}\n'
    engine.images.remove("localhost:5000/app:1")
    pulled = engine.images.pull("localhost:5000/app:1")
    assert pulled.image.id == engine.images.get("kit").id
    # from another machine it is plain HTTP: dockerd refuses unless configured as insecure
    other = new_engine(world, "b")
    with pytest.raises(RegistryError, match="server gave HTTP response to HTTPS client"):
        other.images.pull(f"{engine.machine.ip}:5000/app:1")
    other.insecure_registries.add(f"{engine.machine.ip}:5000")
    assert other.images.pull(f"{engine.machine.ip}:5000/app:1").image.id == pulled.image.id
    # the data lives in the container's volume: a restart keeps it
    reg_c.restart()
    assert engine.request("http://localhost:5000/v2/app/tags/list").text == '{"name":"app","tags":["1"]}\n'


def test_rmi_of_an_image_a_container_uses_is_a_conflict(engine):
    c = engine.containers.create("kit", name="user")
    with pytest.raises(Conflict, match='unable to remove repository reference "kit.*" \\(must force\\) - container '
                                       + c.short_id):
        engine.images.remove("kit")
    assert engine.images.get("kit")
    c.remove()
    assert engine.images.remove("kit")[0] == "Untagged: kit:latest"
    with pytest.raises(ImageNotFound, match="No such image: kit:latest"):
        engine.images.get("kit")


def test_commit_makes_an_image_with_the_containers_changes(engine):
    c = engine.containers.run("kit", ["kit-write", "/data.txt", "saved", "stay"], detach=True)
    img = c.commit("snap", "1")
    assert img.id == engine.images.get("snap:1").id
    c2 = engine.containers.run("snap:1", ["kit-cat", "/data.txt"], remove=True)
    assert c2 == b"saved\n"


def test_history_lists_steps_newest_first(engine):
    rows = engine.images.history("kit")
    assert rows[0]["Id"] == engine.images.get("kit").id and rows[0]["Tags"] == ["kit:latest"]
    assert rows[-1]["CreatedBy"] == "ADD kit.tar /"


# -- determinism ------------------------------------------------------------------------------------------


def _scenario(seed: int):
    world = ak.World(seed=seed)
    engine = new_engine(world)
    net = engine.networks.create("backend")
    a = engine.containers.run("kit", detach=True)
    b = engine.containers.run("kit", detach=True, network="backend")
    vol = engine.volumes.create()
    return [a.id, a.name, a.ip, b.id, b.name, b.ip, net.id, vol.name, engine.images.get("kit").id]


def test_same_seed_gives_identical_ids_names_and_addresses():
    assert _scenario(7) == _scenario(7)
    assert _scenario(7) != _scenario(8)


# -- build -------------------------------------------------------------------------------------------------


def test_build_uses_a_machine_directory_as_context_and_runs_steps_as_processes(engine):
    m = engine.machine
    m.write_file("/home/student/app/Dockerfile",
                 'FROM kit\nCOPY site.html /srv/index.html\nRUN ["kit-write", "/built.txt", "by RUN"]\n'
                 'CMD ["kit-web"]\n')
    m.write_file("/home/student/app/site.html", "built site\n")
    result = engine.images.build("/home/student/app", tag="site:1")
    assert result.image.id == engine.images.get("site:1").id
    web = engine.containers.run("site:1", detach=True)
    assert web.http("/").text == "built site\n"
    assert web.fs.read("/built.txt") == b"by RUN\n"
    assert engine.containers.list() == [web]  # the build's throwaway containers are gone


def test_build_pulls_a_missing_base_image(world, hub):
    engine = Engine(new_machine(world))
    engine.machine.write_file("/home/student/app/Dockerfile", "FROM web\nCMD [\"kit-echo\", \"hi\"]\n")
    result = engine.images.build("/home/student/app", tag="hi:1")
    assert engine.images.get("web").id != result.image.id
    assert engine.containers.run("hi:1") == b"hi\n"


def test_failed_run_step_is_a_build_error_and_stores_nothing(engine):
    from aivle_k8s.sim.errors import BuildError

    engine.machine.write_file("/home/student/bad/Dockerfile", 'FROM kit\nRUN ["kit-exit", "3"]\n')
    with pytest.raises(BuildError, match="exit code: 3"):
        engine.images.build("/home/student/bad", tag="bad:1")
    with pytest.raises(ImageNotFound):
        engine.images.get("bad:1")


def test_build_of_a_missing_directory(engine):
    from aivle_k8s.sim.errors import InvalidInput

    with pytest.raises(InvalidInput, match='path "/nope" not found'):
        engine.images.build("/nope", tag="x:1")
