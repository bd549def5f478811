"""Processes on a shared kernel: exec, namespaces, signals, memory limits."""

import pytest

from aivle_k8s.linux.fs import Entry, FileSystem
from aivle_k8s.linux.kernel import (
    Cgroup,
    ExecError,
    Kernel,
    Namespaces,
    PidNamespace,
    program_entry,
    register_program,
)
from aivle_k8s.sim import Loop


@register_program("t-hello")
def _hello(proc):
    proc.write(f"pid={proc.local_pid} host={proc.ns.hostname} args={proc.argv[1:]}\n")
    return 0


@register_program("t-sleep")
def _sleep(proc):
    yield proc.sleep(float(proc.argv[1]))
    return int(proc.argv[2]) if len(proc.argv) > 2 else 0


@register_program("t-graceful")
def _graceful(proc):
    proc.on_signal("TERM", lambda sig: proc.exit(0))
    yield proc.forever()


@register_program("t-hog")
def _hog(proc):
    while True:
        proc.alloc(64 * 1024**2)
        yield proc.sleep(1)


@register_program("t-parent")
def _parent(proc):
    code = yield from proc.run(["t-sleep", "2", "7"])
    proc.write(f"child exited {code}\n")
    return code


def rootfs():
    return {
        "/bin": Entry.directory(),
        **{f"/bin/{n}": program_entry(n) for n in ["t-hello", "t-sleep", "t-graceful", "t-hog", "t-parent", "t-execer"]},
        "/bin/script": Entry.file(b"#!/bin/t-hello --from-script\n", 0o755),
        "/bin/noexec": Entry.file(b"data", 0o644),
        "/bin/garbage": Entry.file(b"\x00\x01", 0o755),
    }


@pytest.fixture
def kernel():
    return Kernel(Loop(), release="6.1.0-28-amd64")


def host_ns(kernel):
    return Namespaces(FileSystem([rootfs()]), "host", kernel.host_pidns)


def container_ns(kernel, name="c1", **cg):
    return Namespaces(FileSystem([rootfs()]), name, PidNamespace(kernel.host_pidns, name), cgroup=Cgroup(name, **cg))


def test_program_runs_from_path_lookup(kernel):
    p = kernel.spawn(["t-hello", "x"], ns=host_ns(kernel))
    assert p.exit_code == 0
    assert p.stdout.text() == "pid=1 host=host args=['x']\n"


def test_shebang_script_runs_its_interpreter(kernel):
    p = kernel.spawn(["/bin/script", "arg"], ns=host_ns(kernel))
    assert "--from-script" in p.stdout.text() and "/bin/script" in p.stdout.text()


def test_exec_errors_have_shell_exit_codes(kernel):
    ns = host_ns(kernel)
    with pytest.raises(ExecError) as e:
        kernel.spawn(["nope"], ns=ns)
    assert e.value.exit_code == 127
    with pytest.raises(ExecError) as e:
        kernel.spawn(["/bin/noexec"], ns=ns)
    assert e.value.exit_code == 126 and e.value.errno == "EACCES"
    with pytest.raises(ExecError) as e:
        kernel.spawn(["/bin/garbage"], ns=ns)
    assert "Exec format error" in e.value.message


def test_container_processes_are_numbered_from_one_but_visible_to_the_host(kernel):
    kernel.spawn(["t-sleep", "100"], ns=host_ns(kernel))
    c = container_ns(kernel)
    init = kernel.spawn(["t-sleep", "100"], ns=c)
    other = kernel.spawn(["t-sleep", "100"], ns=c)
    assert (init.local_pid, other.local_pid) == (1, 2)
    assert [p.pid for p in kernel.ps(c.pid)] == [init.pid, other.pid]
    assert len(kernel.ps()) == 3  # the host sees every process


def test_sleep_takes_simulated_time(kernel):
    p = kernel.spawn(["t-sleep", "5", "3"], ns=host_ns(kernel))
    kernel.loop.advance(4.9)
    assert p.alive
    kernel.loop.advance(0.1)
    assert p.exit_code == 3


def test_term_ends_a_normal_process_with_143(kernel):
    p = kernel.spawn(["t-sleep", "100"], ns=host_ns(kernel))
    kernel.signal(p.pid, "TERM")
    assert p.exit_code == 143


def test_container_init_ignores_term_without_handler_but_not_kill(kernel):
    init = kernel.spawn(["t-sleep", "100"], ns=container_ns(kernel))
    kernel.signal(init.pid, "TERM")
    assert init.alive
    kernel.signal(init.pid, "KILL")
    assert init.exit_code == 137


def test_handled_signal_lets_the_program_exit_cleanly(kernel):
    p = kernel.spawn(["t-graceful"], ns=container_ns(kernel))
    kernel.signal(p.pid, "TERM")
    assert p.exit_code == 0


def test_when_container_init_dies_the_rest_of_the_container_dies(kernel):
    c = container_ns(kernel)
    init = kernel.spawn(["t-sleep", "5"], ns=c)
    other = kernel.spawn(["t-sleep", "100"], ns=c)
    kernel.loop.advance(5)
    assert init.exit_code == 0 and other.exit_code == 137


def test_memory_over_the_cgroup_limit_is_oom_killed(kernel):
    c = container_ns(kernel, memory_limit=200 * 1024**2)
    p = kernel.spawn(["t-hog"], ns=c)
    kernel.loop.advance(10)
    assert p.exit_code == 137 and c.cgroup.oom_killed


def test_parent_waits_for_child(kernel):
    p = kernel.spawn(["t-parent"], ns=host_ns(kernel))
    kernel.loop.advance(2)
    assert p.exit_code == 7 and p.stdout.text() == "child exited 7\n"


def test_signal_to_missing_pid_returns_false(kernel):
    assert kernel.signal(4242, "TERM") is False


def test_program_file_is_deterministic():
    assert program_entry("nginx", 1000) == program_entry("nginx", 1000)
    assert program_entry("nginx", 1000).data != program_entry("redis", 1000).data


@register_program("t-execer")
def _execer(proc):
    proc.on_signal("TERM", lambda sig: None)  # ignored by this program, reset by exec
    yield from proc.execve(["t-sleep", "100"])
    return 99  # never reached


def test_execve_replaces_the_program_in_the_same_process(kernel):
    c = container_ns(kernel)
    p = kernel.spawn(["t-execer"], ns=c)
    assert p.local_pid == 1 and p.argv == ["t-sleep", "100"] and p.comm == "t-sleep"
    assert p.signal_handlers == {}
    kernel.loop.advance(100)
    assert p.exit_code == 0
