"""Containers: isolation, lifecycle, stop timing, restart policies, logs, exec, OOM, errors."""

from __future__ import annotations

import pytest

from aivle_k8s.linux.kernel import DEFAULT_RESIDENT_MEMORY

from aivle_k8s.sim.errors import (Conflict, ContainerError, ContainerNotFound, FsError, InvalidInput, NetworkError,
                                  SimulationError)
from test_engine import engine, kit_image, world  # noqa: F401  (fixtures)


def info(output: bytes) -> dict:
    return dict(line.split("=", 1) for line in output.decode().splitlines())


# -- isolation ---------------------------------------------------------------------------------


def test_hostname_is_the_short_id_and_pid_1_is_the_main_program(engine):
    out = info(engine.containers.run("kit", "kit-info"))
    c = engine.containers.list(all=True)[0]
    assert out["hostname"] == c.short_id
    assert out["pid"] == "1"


def test_container_runs_on_the_hosts_kernel(engine):
    out = info(engine.containers.run("kit", "kit-info"))
    assert out["release"] == engine.machine.kernel.release


def test_exec_ps_shows_the_main_program_as_pid_1(engine):
    c = engine.containers.run("kit", ["kit-sleep", "infinity"], detach=True)
    result = c.exec_run("kit-ps")
    assert result.exit_code == 0
    lines = result.output.decode().splitlines()
    assert lines[0] == "1 kit-sleep infinity"
    assert lines[-1] == "2 kit-ps"


def test_container_files_are_not_on_the_host_and_image_is_untouched(engine):
    c = engine.containers.run("kit", ["kit-write", "/data.txt", "inside", "stay"], detach=True)
    assert c.fs.read("/data.txt") == b"inside\n"
    assert not engine.machine.fs.exists("/data.txt")
    img = engine.images.get("kit")
    assert all("/data.txt" not in layer.entries for layer in img.layers)


def test_etc_hostname_and_hosts_are_written_for_the_container(engine):
    c = engine.containers.run("kit", detach=True, hostname="web1")
    assert c.fs.read_text("/etc/hostname") == "web1\n"
    assert f"{c.ip}\tweb1" in c.fs.read_text("/etc/hosts")
    assert ("C", "/etc") not in c.diff()  # bind-mounted like dockerd does: not a change of the container


def test_environment_has_path_hostname_and_home(engine):
    c = engine.containers.run("kit", detach=True, environment={"GREETING": "hi"})
    env = c._process_env()
    assert env["GREETING"] == "hi" and env["HOSTNAME"] == c.short_id and env["HOME"] == "/root"
    assert "PATH" in env


def test_user_option_runs_as_that_user(engine):
    out = info(engine.containers.run("kit", "kit-info", user="app"))
    assert out["uid"] == "1000" and out["home"] == "/home/app"
    with pytest.raises(ContainerError, match="unable to find user ghost"):
        engine.containers.run("kit", "kit-info", user="ghost", detach=True)


def test_working_dir_is_created_when_missing(engine):
    out = info(engine.containers.run("kit", "kit-info", working_dir="/app"))
    assert out["cwd"] == "/app"


# -- run / create / errors --------------------------------------------------------------------------


def test_foreground_run_returns_stdout(engine):
    assert engine.containers.run("kit", ["kit-echo", "hello", "world"]) == b"hello world\n"


def test_non_zero_exit_raises_container_error_with_context(engine):
    with pytest.raises(ContainerError) as e:
        engine.containers.run("kit", ["kit-exit", "3", "boom"])
    assert e.value.exit_status == 3 and e.value.stderr == b"boom\n" and e.value.image == "kit"
    assert e.value.container.status == "exited"


def test_unknown_command_is_executable_file_not_found(engine):
    with pytest.raises(ContainerError) as e:
        engine.containers.run("kit", "nosuchcmd", detach=True)
    assert 'exec: "nosuchcmd": executable file not found in $PATH' in str(e.value)
    assert e.value.exit_status == 127
    c = engine.containers.list(all=True)[0]
    assert c.status == "created" and c.exit_code == 127


def test_name_conflict_uses_dockers_message_and_changes_nothing(engine):
    first = engine.containers.run("kit", detach=True, name="web")
    before = [c.id for c in engine.containers.list(all=True)]
    with pytest.raises(Conflict) as e:
        engine.containers.run("kit", detach=True, name="web")
    assert str(e.value) == (f'Conflict. The container name "/web" is already in use by container "{first.id}". '
                            f'You have to remove (or rename) that container to be able to reuse that name.')
    assert [c.id for c in engine.containers.list(all=True)] == before


def test_invalid_name_is_rejected(engine):
    with pytest.raises(InvalidInput, match=r"Invalid container name \(bad name\)"):
        engine.containers.create("kit", name="bad name")
    with pytest.raises(InvalidInput):  # dockerd wants at least two characters
        engine.containers.create("kit", name="a")


def test_random_names_look_like_dockers(engine):
    c = engine.containers.create("kit")
    adjective, _, surname = c.name.partition("_")
    assert adjective.isalpha() and surname.isalpha()


def test_get_by_name_id_and_prefix(engine):
    c = engine.containers.create("kit", name="web")
    assert engine.containers.get("web") is c
    assert engine.containers.get("/web") is c
    assert engine.containers.get(c.id[:5]) is c
    with pytest.raises(ContainerNotFound, match="No such container: nope"):
        engine.containers.get("nope")


def test_ps_lists_running_newest_first_and_all_includes_stopped(engine):
    a = engine.containers.run("kit", detach=True, name="aa")
    b = engine.containers.run("kit", detach=True, name="bb")
    done = engine.containers.create("kit", name="cc")
    assert [c.name for c in engine.containers.list()] == ["bb", "aa"]
    assert [c.name for c in engine.containers.list(all=True)] == ["cc", "bb", "aa"]
    assert engine.containers.list(filters={"status": "created"}) == [done]
    assert a.status == b.status == "running"


def test_removing_a_running_container_needs_force(engine):
    c = engine.containers.run("kit", detach=True)
    with pytest.raises(Conflict) as e:
        c.remove()
    assert str(e.value) == (f"You cannot remove a running container {c.id}. Stop the container before attempting "
                            f"removal or force remove")
    assert c.status == "running"
    c.remove(force=True)
    assert engine.containers.list(all=True) == []
    with pytest.raises(ContainerNotFound):
        c.start()


def test_rm_flag_removes_the_container_when_it_exits(engine):
    assert engine.containers.run("kit", ["kit-echo", "bye"], remove=True) == b"bye\n"
    assert engine.containers.list(all=True) == []
    c = engine.containers.run("kit", ["kit-crash", "3", "0"], detach=True, auto_remove=True)
    engine.world.advance(3)
    assert engine.containers.list(all=True) == [] and c.status == "removing"


def test_rm_and_restart_policy_conflict(engine):
    with pytest.raises(InvalidInput, match="Conflicting options: --restart and --rm"):
        engine.containers.run("kit", detach=True, remove=True, restart_policy={"Name": "always"})


def test_no_command_specified(engine):
    engine.store.add(kit_image(cmd=None), tags=["nocmd:1"])
    with pytest.raises(InvalidInput, match="No command specified"):
        engine.containers.create("nocmd:1")


# -- stop / kill / wait --------------------------------------------------------------------------------


def test_stop_of_a_pid_1_without_handler_takes_ten_seconds_and_exits_137(engine):
    c = engine.containers.run("kit", ["kit-sleep", "infinity"], detach=True)
    t0 = engine.world.now
    c.stop()
    assert engine.world.now - t0 == pytest.approx(10)
    assert c.status == "exited" and c.exit_code == 137


def test_stop_with_a_handled_stop_signal_is_quick_and_clean(engine):
    engine.store.add(kit_image(cmd=("kit-web",), stop_signal="SIGQUIT"), tags=["web:1"])
    c = engine.containers.run("web:1", detach=True)
    t0 = engine.world.now
    c.stop()
    assert engine.world.now == t0 and c.exit_code == 0


def test_stop_timeout_can_be_shortened(engine):
    c = engine.containers.run("kit", detach=True)
    t0 = engine.world.now
    c.stop(timeout=2)
    assert engine.world.now - t0 == pytest.approx(2) and c.exit_code == 137


def test_kill_sends_sigkill_and_kill_of_stopped_container_is_an_error(engine):
    c = engine.containers.run("kit", detach=True, name="kk")
    c.kill()
    assert c.status == "exited" and c.exit_code == 137
    with pytest.raises(Conflict, match=f"Cannot kill container: kk: Container {c.id} is not running"):
        c.kill()


def test_wait_advances_until_exit(engine):
    c = engine.containers.run("kit", ["kit-crash", "5", "4"], detach=True)
    t0 = engine.world.now
    assert c.wait() == {"StatusCode": 4, "Error": None}
    assert engine.world.now - t0 == pytest.approx(5)


def test_wait_with_timeout_and_forever(engine):
    c = engine.containers.run("kit", detach=True)
    with pytest.raises(NetworkError, match="Read timed out"):
        c.wait(timeout=3)
    with pytest.raises(SimulationError):
        c.wait()


def test_restart_keeps_the_filesystem(engine):
    c = engine.containers.run("kit", ["kit-write", "/keep.txt", "still here", "stay"], detach=True)
    c.restart(timeout=0)
    assert c.status == "running" and c.fs.read("/keep.txt") == b"still here\n"


def test_removing_loses_the_containers_writes(engine):
    c = engine.containers.run("kit", ["kit-write", "/keep.txt", "gone", "stay"], detach=True)
    c.remove(force=True)
    c2 = engine.containers.run("kit", detach=True)
    assert not c2.fs.exists("/keep.txt")


# -- pause -------------------------------------------------------------------------------------------------


def test_pause_freezes_processes_and_requests_time_out(engine):
    engine.store.add(kit_image(cmd=("kit-web",)), tags=["web:1"])
    web = engine.containers.run("web:1", detach=True)
    assert web.http("/").status == 200
    web.pause()
    assert web.status == "paused"
    with pytest.raises(NetworkError, match="timed out"):
        web.http("/")
    web.unpause()
    assert web.http("/").text == "hello from kit\n"


def test_paused_process_does_not_advance(engine):
    c = engine.containers.run("kit", ["kit-crash", "5", "0"], detach=True)
    engine.world.advance(2)
    c.pause()
    engine.world.advance(10)
    assert c.status == "paused"
    c.unpause()
    engine.world.advance(0)
    assert c.status == "exited"  # its sleep had expired while frozen: it ends as soon as it thaws
    with pytest.raises(Conflict, match="is not running"):
        c.pause()


def test_exec_in_paused_or_stopped_container_is_refused(engine):
    c = engine.containers.run("kit", detach=True)
    c.pause()
    with pytest.raises(Conflict, match="is paused, unpause the container before exec"):
        c.exec_run("kit-ps")
    c.unpause()
    c.stop(timeout=0)
    with pytest.raises(Conflict, match="is not running"):
        c.exec_run("kit-ps")


# -- restart policies -------------------------------------------------------------------------------------


def _start_times(engine, c, until):
    starts = []
    last = None
    while engine.world.now < until:
        if c.started_at != last:
            last = c.started_at
            starts.append(round(c.started_at, 3))
        nxt = engine.loop.peek()
        if nxt is None or nxt > until:
            break
        engine.loop.step()
    return starts


def test_on_failure_backs_off_100ms_doubling(engine):
    c = engine.containers.run("kit", ["kit-exit", "1"], detach=True, restart_policy={"Name": "on-failure"})
    starts = _start_times(engine, c, 3.5)
    assert starts == [0.0, 0.1, 0.3, 0.7, 1.5, 3.1]
    assert c.restart_count == 6 and c.status == "restarting"


def test_on_failure_max_retry_count(engine):
    c = engine.containers.run("kit", ["kit-exit", "1"], detach=True,
                              restart_policy={"Name": "on-failure", "MaximumRetryCount": 2})
    engine.world.advance(60)
    assert c.restart_count == 2 and c.status == "exited" and c.exit_code == 1


def test_on_failure_does_not_restart_a_clean_exit(engine):
    c = engine.containers.run("kit", ["kit-exit", "0"], detach=True, restart_policy="on-failure")
    engine.world.advance(10)
    assert c.status == "exited" and c.restart_count == 0


def test_backoff_caps_at_one_minute(engine):
    c = engine.containers.run("kit", ["kit-exit", "1"], detach=True, restart_policy={"Name": "always"})
    starts = _start_times(engine, c, 600)
    delays = [round(b - a, 1) for a, b in zip(starts, starts[1:])]
    assert delays[:4] == [0.1, 0.2, 0.4, 0.8]
    assert max(delays) == 60.0 and delays[-1] == 60.0


def test_backoff_resets_after_ten_seconds_of_running(engine):
    c = engine.containers.run("kit", ["kit-crash", "12", "1"], detach=True, restart_policy={"Name": "always"})
    engine.world.advance(12)
    assert c.status == "restarting"
    engine.world.advance(0.1)
    assert c.status == "running" and c.restart_count == 1
    engine.world.advance(12.2)
    assert c.status == "running" and c.restart_count == 2  # 100 ms again, not 200 ms


def test_always_restarts_but_not_after_docker_stop(engine):
    c = engine.containers.run("kit", ["kit-crash", "1", "0"], detach=True, restart_policy={"Name": "always"})
    engine.world.advance(1.1)
    assert c.status == "running" and c.restart_count == 1
    c.stop()
    engine.world.advance(60)
    assert c.status == "exited"


def test_restart_keeps_logs_of_every_run(engine):
    c = engine.containers.run("kit", ["kit-crash", "1", "1"], detach=True,
                              restart_policy={"Name": "on-failure", "MaximumRetryCount": 2})
    engine.world.advance(10)
    assert c.logs() == b"up\nup\nup\n"


# -- resources ------------------------------------------------------------------------------------------------


def test_over_the_memory_limit_is_oom_killed_137(engine):
    c = engine.containers.run("kit", ["kit-mem", str(100 * 1024 * 1024)], detach=True, mem_limit="64m")
    engine.world.advance(0)
    assert c.status == "exited" and c.exit_code == 137 and c.oom_killed
    assert c.attrs["State"]["OOMKilled"] is True


def test_under_the_memory_limit_keeps_running_and_stats_show_usage(engine):
    c = engine.containers.run("kit", ["kit-mem", str(10 * 1024 * 1024)], detach=True, mem_limit="64m")
    stats = c.stats()
    assert stats["memory_stats"]["usage"] == 10 * 1024 * 1024 + DEFAULT_RESIDENT_MEMORY  # heap + the program
    assert stats["memory_stats"]["limit"] == 64 * 1024 * 1024
    assert stats["pids_stats"]["current"] == 1


def test_memory_limit_below_6mb_is_rejected(engine):
    with pytest.raises(InvalidInput, match="Minimum memory limit allowed is 6MB"):
        engine.containers.create("kit", mem_limit="1m")


# -- logs -------------------------------------------------------------------------------------------------------


def test_logs_have_rfc3339_nano_timestamps(engine):
    c = engine.containers.run("kit", ["kit-ticker", "3"], detach=True)
    engine.world.advance(5)
    assert c.logs() == b"tick 0\ntick 1\ntick 2\n"
    assert c.logs(timestamps=True).decode().splitlines() == [
        "2025-03-03T09:00:00.000000000Z tick 0",
        "2025-03-03T09:00:01.000000000Z tick 1",
        "2025-03-03T09:00:02.000000000Z tick 2",
    ]
    assert c.logs(tail=1) == b"tick 2\n"
    assert c.logs(since=1.5) == b"tick 2\n"


def test_logs_separate_stdout_and_stderr(engine):
    c = engine.containers.run("kit", ["kit-exit", "2", "oops"], detach=True)
    assert c.logs(stdout=False) == b"oops\n" and c.logs(stderr=False) == b""


# -- exec -------------------------------------------------------------------------------------------------------


def test_exec_returns_exit_code_and_output(engine):
    c = engine.containers.run("kit", detach=True)
    assert c.exec_run(["kit-exit", "5", "err"]) == (5, b"err\n")
    assert c.exec_run("kit-echo hi", demux=True) == (0, (b"hi\n", b""))


def test_exec_of_unknown_command_is_127_with_the_oci_message(engine):
    c = engine.containers.run("kit", detach=True)
    code, out = c.exec_run("nosuch")
    assert code == 127 and b'exec: "nosuch": executable file not found in $PATH' in out


def test_exec_sees_the_container_filesystem(engine):
    c = engine.containers.run("kit", ["kit-write", "/note", "x", "stay"], detach=True)
    assert c.exec_run("kit-cat /note").output == b"x\n"


def test_top_lists_host_pids(engine):
    c = engine.containers.run("kit", detach=True)
    top = c.top()
    assert top["Titles"][1] == "PID" and top["Processes"][0][1] == str(c.pid)


# -- inspect / diff ------------------------------------------------------------------------------------------------


def test_attrs_follow_docker_inspect(engine):
    c = engine.containers.run("kit", detach=True, name="web", ports={"80/tcp": 8080}, labels={"app": "web"})
    a = c.attrs
    assert a["Name"] == "/web" and a["State"]["Status"] == "running" and a["State"]["Running"] is True
    assert a["Config"]["Labels"]["app"] == "web" and a["Config"]["Image"] == "kit"
    assert a["HostConfig"]["PortBindings"] == {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}
    assert a["NetworkSettings"]["IPAddress"] == "172.17.0.2"
    assert a["NetworkSettings"]["Ports"]["80/tcp"] == [{"HostIp": "0.0.0.0", "HostPort": "8080"}]
    assert a["State"]["StartedAt"] == "2025-03-03T09:00:00.000000000Z"


def test_diff_shows_added_changed_and_deleted(engine):
    c = engine.containers.run("kit", detach=True)
    c.fs.write("/tmp/new.txt", "x")
    c.fs.write("/srv/index.html", "changed")
    c.fs.remove("/etc/group")
    assert c.diff() == [("C", "/etc"), ("D", "/etc/group"), ("C", "/srv"), ("C", "/srv/index.html"), ("C", "/tmp"),
                        ("A", "/tmp/new.txt")]


def test_read_only_rootfs_refuses_writes(engine):
    c = engine.containers.run("kit", detach=True, read_only=True)
    with pytest.raises(FsError, match="Read-only file system"):
        c.fs.write("/x", "no")


def test_init_runs_the_command_under_docker_init(engine):
    c = engine.containers.run("kit", ["kit-sleep", "infinity"], detach=True, init=True)
    lines = c.exec_run("kit-ps").output.decode().splitlines()
    assert lines[0].startswith("1 /sbin/docker-init -- kit-sleep") and lines[1] == "2 kit-sleep infinity"
    t0 = engine.world.now
    c.stop()
    assert engine.world.now == t0 and c.exit_code == 143  # tini forwards SIGTERM: sleep dies at once


def test_prune_removes_stopped_containers(engine):
    keep = engine.containers.run("kit", detach=True)
    gone = engine.containers.run("kit", "kit-echo", detach=True)
    engine.world.advance(1)
    result = engine.containers.prune()
    assert result["ContainersDeleted"] == [gone.id]
    assert engine.containers.list(all=True) == [keep]


def test_rename(engine):
    c = engine.containers.create("kit", name="old")
    engine.containers.create("kit", name="taken")
    c.rename("new")
    assert engine.containers.get("new") is c
    with pytest.raises(Conflict):
        c.rename("taken")



def test_stdin_is_fed_to_pid_1(engine):
    c = engine.containers.run("kit", "kit-upper", detach=True, stdin=b"piped\n", stdin_open=True)
    assert c.wait()["StatusCode"] == 0 and c.logs() == b"PIPED\n"


# -- with the real images of Docker Hub (when the catalogue and the programs are in the tree) -------------


@pytest.fixture
def real(world):
    """An engine on a full Ubuntu machine pulling the catalogue's images from Docker Hub."""
    pytest.importorskip("aivle_k8s.registry.catalog")
    from aivle_k8s.engine import Engine

    from test_engine import has_program

    for program in ("sh", "sleep", "echo", "nginx", "uname"):
        if not has_program(program):
            pytest.skip(f"program {program} is not in the tree yet")
    return Engine(world.machine("host", cpus=4, memory="8Gi"))


def test_real_nginx_serves_its_welcome_page_on_a_published_port(world, real):
    real.containers.run("nginx", detach=True, name="web", ports={"80/tcp": 8080})
    assert "Welcome to nginx!" in real.request("http://localhost:8080/").text
    from aivle_k8s.engine import Engine

    other = Engine(world.machine("b"))
    assert other.request(f"http://{real.machine.ip}:8080/").status == 200


def test_real_nginx_stops_at_once_on_sigquit(real):
    web = real.containers.run("nginx", detach=True)
    t0 = real.world.now
    web.stop()
    assert real.world.now - t0 < 1 and web.exit_code == 0


def test_real_sleep_as_pid_1_takes_ten_seconds_to_stop(real):
    c = real.containers.run("busybox", ["sleep", "3600"], detach=True)
    t0 = real.world.now
    c.stop()
    assert real.world.now - t0 == pytest.approx(10) and c.exit_code == 137


def test_real_exec_ps_shows_the_main_program_as_pid_1(real):
    c = real.containers.run("busybox", ["sleep", "3600"], detach=True)
    lines = c.exec_run("ps -ef").output.decode().splitlines()
    assert lines[1].split()[1] == "1" and lines[1].endswith("sleep 3600")


def test_real_busybox_echo_and_same_kernel(real):
    assert real.containers.run("busybox", ["echo", "hi"]) == b"hi\n"
    assert real.containers.run("alpine", ["uname", "-r"]).decode().strip() == real.machine.kernel.release


def test_stop_without_waiting_returns_an_event_that_fires_at_the_kill(engine):
    c = engine.containers.run("kit", detach=True)
    ev = c.stop(wait=False)
    assert not ev.triggered and c.status == "running"
    engine.world.advance(10)
    assert ev.triggered and ev.value == {"StatusCode": 137, "Error": None} and c.status == "exited"


def test_wait_event_fires_at_the_next_exit(engine):
    c = engine.containers.run("kit", ["kit-crash", "2", "5"], detach=True)
    ev = c.wait_event()
    engine.world.advance(2)
    assert ev.value == {"StatusCode": 5, "Error": None}
    assert c.wait_event().triggered  # not running: at once


def test_stopping_a_paused_container_works(engine):
    c = engine.containers.run("kit", detach=True)
    c.pause()
    c.stop(timeout=1)
    assert c.status == "exited" and c.exit_code == 137


def test_real_registry_2_container_takes_a_push(real):
    real.containers.run("registry:2", detach=True, name="registry", ports={"5000/tcp": 5000})
    real.images.pull("busybox")
    real.images.tag("busybox", "localhost:5000/bb:1")
    report = real.images.push("localhost:5000/bb:1")
    assert report.bytes_uploaded > 0
    assert real.request("http://localhost:5000/v2/_catalog").text == '{"repositories":["bb"]}\n'
    assert real.images.push("localhost:5000/bb:1").bytes_uploaded == 0


def test_docker_stop_emits_kill_die_and_stop_events_with_signal_and_exit_code():
    import aivle_k8s as ak

    world = ak.World(seed=0)
    host = world.machine("host")
    host.sh("sudo apt-get install -y docker.io")
    host.sh("docker run -d --name web nginx:1.25")
    engine = host.engine
    before = len(engine.events)
    host.sh("docker stop web")
    events = [(e["Action"], e["Actor"]["Attributes"]) for e in engine.events[before:] if e["Type"] == "container"]
    actions = [a for a, _ in events]
    assert actions == ["kill", "die", "stop"], actions
    assert events[0][1]["signal"] == "3"  # the nginx image sets STOPSIGNAL SIGQUIT
    assert events[1][1]["exitCode"] == "0"
