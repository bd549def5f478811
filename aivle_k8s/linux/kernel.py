"""Processes on a shared kernel: namespaces, programs registered by path, signals.

A machine has one :class:`Kernel`. The host and every container on it run
their processes on that same kernel (``uname -r`` is the same everywhere);
what makes a container a container is a different set of
:class:`Namespaces` — its own root filesystem (mnt), hostname (uts), process
numbering starting at PID 1 (pid) and network stack (net) — plus a cgroup
that limits its memory.

A *program* is a Python function registered under a name
(:func:`register_program`). An executable file whose content starts with
:data:`PROGRAM_MAGIC` runs that program; a file starting with ``#!`` runs its
interpreter. A program receives its :class:`Process` and returns an exit
code, or is a generator that ``yield``s events (``proc.sleep(5)``,
``proc.forever()``) and returns the exit code when done::

    @register_program("hello")
    def hello(proc):
        proc.write("hello from pid %d\\n" % proc.local_pid)
        return 0
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Iterable

from ..sim.clock import Event, Loop, Task
from ..sim.errors import AivleError, FsError
from .fs import Entry, FileSystem, join

__all__ = [
    "PROGRAM_MAGIC",
    "SIGNALS",
    "Cgroup",
    "ExecError",
    "Exit",
    "Kernel",
    "Namespaces",
    "PidNamespace",
    "Process",
    "Stream",
    "program_entry",
    "register_program",
    "programs",
    "run_program",
]

PROGRAM_MAGIC = b"\x7fELF\x02\x01\x01\x00aivle:"

SIGNALS = {"HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "USR1": 10, "USR2": 12, "TERM": 15, "CONT": 18, "STOP": 19,
           "WINCH": 28}
SIGNAL_NAMES = {v: k for k, v in SIGNALS.items()}

Program = Callable[["Process"], "int | None | Generator[Event, Any, int | None]"]

_MiB = 1024 * 1024
#: Resident memory a program uses once started (what ``ps``/``docker stats`` show), roughly the real ones'.
RESIDENT_MEMORY = {
    "sleep": _MiB // 2, "pause": _MiB // 2, "sh": _MiB, "bash": 3 * _MiB, "busybox": _MiB,
    "nginx": 8 * _MiB, "httpd": 10 * _MiB, "httpd-foreground": 10 * _MiB, "redis-server": 10 * _MiB,
    "python3": 14 * _MiB, "python": 14 * _MiB, "flask": 30 * _MiB, "gunicorn": 30 * _MiB,
    "systemd": 12 * _MiB, "dockerd": 90 * _MiB, "containerd": 45 * _MiB, "registry": 15 * _MiB,
    "kubelet": 80 * _MiB, "etcd": 60 * _MiB, "kube-apiserver": 300 * _MiB, "kube-controller-manager": 60 * _MiB,
    "kube-scheduler": 30 * _MiB, "kube-proxy": 25 * _MiB, "coredns": 20 * _MiB, "flanneld": 20 * _MiB,
    "metrics-server": 22 * _MiB,
}
DEFAULT_RESIDENT_MEMORY = _MiB
_PROGRAMS: dict[str, Program] = {}
#: Programs whose module is imported on first use (keeps ``import aivle_k8s`` fast): name -> module.
_LAZY_PROGRAMS: dict[str, str] = {
    "kubectl": "aivle_k8s.cluster.kubectl.program",
    "kubeadm": "aivle_k8s.cluster.kubeadm.program",
    "kubelet": "aivle_k8s.cluster.kubelet.program",
    "etcd": "aivle_k8s.cluster.components",
    "kube-apiserver": "aivle_k8s.cluster.components",
    "kube-controller-manager": "aivle_k8s.cluster.components",
    "kube-scheduler": "aivle_k8s.cluster.components",
    "kube-proxy": "aivle_k8s.cluster.kube_proxy",
    "coredns": "aivle_k8s.cluster.coredns",
    "flanneld": "aivle_k8s.cluster.cni",
    "calico-node": "aivle_k8s.cluster.cni",
    "etcdctl": "aivle_k8s.cluster.etcdctl",
    "crictl": "aivle_k8s.cluster.crictl",
    "etcdutl": "aivle_k8s.cluster.etcdctl",
    "metrics-server": "aivle_k8s.cluster.metrics",
}


def lookup_program(name: str) -> Program | None:
    """The program registered under ``name``, importing its module first if it is registered lazily."""
    fn = _PROGRAMS.get(name)
    if fn is None and name in _LAZY_PROGRAMS:
        import importlib

        try:
            importlib.import_module(_LAZY_PROGRAMS[name])
        except ImportError:
            return None
        fn = _PROGRAMS.get(name)
    return fn


def register_program(name: str) -> Callable[[Program], Program]:
    """Register a program under ``name`` (decorator)."""

    def deco(fn: Program) -> Program:
        _PROGRAMS[name] = fn
        return fn

    return deco


def programs() -> dict[str, Program]:
    """Every registered program by name (a copy; lazily registered ones appear once used)."""
    return dict(_PROGRAMS)


def program_entry(name: str, size: int = 4096) -> Entry:
    """An executable file that runs program ``name`` (padded to ``size`` bytes, deterministically).

    >>> e = program_entry("sh", 64); e.size, e.executable, e.data.startswith(PROGRAM_MAGIC)
    (64, True, True)
    """
    head = PROGRAM_MAGIC + name.encode() + b"\n"
    filler = b""
    seed = hashlib.sha256(name.encode()).digest()
    while len(head) + len(filler) < size:
        seed = hashlib.sha256(seed).digest()
        filler += seed
    return Entry.file((head + filler)[: max(size, len(head))], 0o755)


def program_name(data: bytes) -> str | None:
    if data.startswith(PROGRAM_MAGIC):
        return data[len(PROGRAM_MAGIC):].split(b"\n", 1)[0].decode()
    return None


class Exit(Exception):
    """Raise inside a program to exit with ``code``."""

    def __init__(self, code: int = 0):
        super().__init__(code)
        self.code = code


class ExecError(AivleError):
    """exec() failed: ``errno`` is ENOENT (127), EACCES or ENOEXEC (126)."""

    def __init__(self, message: str, errno: str, exit_code: int):
        super().__init__(message, errno=errno, exit_code=exit_code)


class Stream:
    """An output stream (stdout/stderr): collects bytes and tells listeners."""

    def __init__(self, name: str = "stdout"):
        self.name = name
        self.buffer = bytearray()
        self.listeners: list[Callable[[bytes], Any]] = []

    def write(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode()
        if not data:
            return
        self.buffer += data
        for listener in list(self.listeners):
            listener(data)

    def getvalue(self) -> bytes:
        return bytes(self.buffer)

    def text(self) -> str:
        return self.buffer.decode("utf-8", errors="replace")


class PidNamespace:
    """Process numbering. A child namespace numbers its first process 1."""

    def __init__(self, parent: "PidNamespace | None" = None, name: str = "host"):
        self.parent = parent
        self.name = name
        self.next_pid = 1
        self.members: dict[int, int] = {}  # host pid -> pid in this namespace

    def add(self, host_pid: int) -> None:
        ns: PidNamespace | None = self
        while ns is not None:
            if ns.parent is None:
                ns.members[host_pid] = host_pid
            else:
                ns.members[host_pid] = ns.next_pid
                ns.next_pid += 1
            ns = ns.parent

    def remove(self, host_pid: int) -> None:
        ns: PidNamespace | None = self
        while ns is not None:
            ns.members.pop(host_pid, None)
            ns = ns.parent


@dataclass
class Cgroup:
    """Resource limits and usage of a group of processes (a container or pod)."""

    name: str = "/"
    memory_limit: int | None = None  # bytes
    cpu_limit: float | None = None  # cores
    oom_killed: bool = False

    def memory_usage(self, kernel: "Kernel") -> int:
        return sum(p.rss for p in kernel.processes.values() if p.ns.cgroup is self)

    def cpu_usage(self, kernel: "Kernel") -> float:
        used = sum(p.cpu for p in kernel.processes.values() if p.ns.cgroup is self)
        return min(used, self.cpu_limit) if self.cpu_limit is not None else used


@dataclass
class Namespaces:
    """The namespaces a process sees: filesystem, hostname, pids, network, cgroup."""

    fs: FileSystem
    hostname: str
    pid: PidNamespace
    net: Any = None  # a linux.net.NetNamespace
    cgroup: Cgroup = field(default_factory=Cgroup)
    name: str = "host"
    user: str = "root"

    def __repr__(self) -> str:
        return f"<Namespaces {self.name} hostname={self.hostname}>"


class Process:
    """A running program. Programs use its helpers to do I/O and wait."""

    def __init__(self, kernel: "Kernel", pid: int, argv: list[str], ns: Namespaces, env: dict[str, str],
                 cwd: str, stdin: bytes, stdout: Stream, stderr: Stream, uid: int, parent: "Process | None"):
        self.kernel = kernel
        self.pid = pid
        self.argv = list(argv)
        self.ns = ns
        self.env = dict(env)
        self.cwd = cwd
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.uid = uid
        self.parent = parent
        self.exit_code: int | None = None
        self.exited: Event = kernel.loop.event()
        self.started_at = kernel.loop.now
        self.rss = 0
        self.cpu = 0.0
        self.signal_handlers: dict[int, Callable[[int], Any]] = {}
        self.killed_by: int | None = None
        self.task: Task | None = None
        self.cleanups: list[Callable[[], Any]] = []
        self.comm = posixpath.basename(argv[0]) if argv else "?"
        self.is_ns_init = False  # PID 1 of a container: ending it ends the container

    def __repr__(self) -> str:
        state = "running" if self.exit_code is None else f"exited {self.exit_code}"
        return f"<Process {self.pid} {' '.join(self.argv)[:40]!r} {state}>"

    # -- identity -----------------------------------------------------------
    @property
    def local_pid(self) -> int:
        """The pid as seen inside the process's own pid namespace (1 for a container's init)."""
        return self.ns.pid.members.get(self.pid, self.pid)

    @property
    def fs(self) -> FileSystem:
        return self.ns.fs

    @property
    def loop(self) -> Loop:
        return self.kernel.loop

    @property
    def now(self) -> float:
        return self.kernel.loop.now

    @property
    def alive(self) -> bool:
        return self.exit_code is None

    def path(self, p: str) -> str:
        """``p`` made absolute against the working directory."""
        return join(self.cwd, p)

    # -- I/O ---------------------------------------------------------------------
    def write(self, text: bytes | str) -> None:
        self.stdout.write(text)

    def error(self, text: bytes | str) -> None:
        self.stderr.write(text)

    def fail(self, message: str, code: int = 1) -> int:
        """Write ``prog: message`` to stderr and return ``code`` (``return proc.fail(...)``)."""
        self.error(f"{self.comm}: {message}\n")
        return code

    # -- waiting ------------------------------------------------------------------
    def sleep(self, seconds: float) -> Event:
        return self.kernel.loop.timeout(seconds)

    def forever(self) -> Event:
        """An event that never fires: wait until killed."""
        return self.kernel.loop.event()

    def on_signal(self, sig: int | str, handler: Callable[[int], Any]) -> None:
        if isinstance(sig, str):
            sig = SIGNALS[sig.upper().removeprefix("SIG")]
        self.signal_handlers[sig] = handler

    def exit(self, code: int = 0) -> None:
        """End this process now with ``code`` (from the program itself or a signal handler)."""
        if self.task is not None and self.task.gen.gi_running:
            raise Exit(code)
        self.kernel._terminate(self, code)

    # -- resources -------------------------------------------------------------------
    def alloc(self, nbytes: int) -> None:
        """Grow resident memory. Over the cgroup's limit the kernel OOM-kills the process
        (this call then raises :class:`Exit` with 137, ending the program)."""
        self.rss += nbytes
        if not self.kernel.check_memory(self):
            raise Exit(137)

    def execve(self, argv: list[str]) -> Generator[Event, Any, int]:
        """Replace this process's program with ``argv`` (like ``exec`` in a shell): same pid, same
        namespaces, signal handlers reset. Use as ``yield from proc.execve([...])``; it never returns
        normally — the process exits with the new program's exit code.

        Raises:
            ExecError: the program cannot be found or executed (the old program goes on).
        """
        path = self.kernel.find_executable(self.ns, argv[0], self.env, self.cwd)
        fn, real_argv = self.kernel.resolve_program(self.ns, path, list(argv))
        self.argv = real_argv
        self.comm = posixpath.basename(real_argv[0])
        self.signal_handlers = {}
        self.rss = RESIDENT_MEMORY.get(self.comm, DEFAULT_RESIDENT_MEMORY)
        code = yield from run_program(fn, self)
        raise Exit(code)

    # -- children ------------------------------------------------------------------------
    def run(self, argv: list[str], *, stdin: bytes = b"", stdout: Stream | None = None,
            stderr: Stream | None = None, env: dict | None = None, cwd: str | None = None,
            uid: int | None = None) -> Generator[Event, Any, int]:
        """Run a child program to completion (``code = yield from proc.run([...])``)."""
        try:
            child = self.kernel.spawn(argv, ns=self.ns, env=self.env if env is None else env,
                                      cwd=self.cwd if cwd is None else cwd, stdin=stdin,
                                      stdout=stdout or self.stdout, stderr=stderr or self.stderr,
                                      uid=self.uid if uid is None else uid, parent=self)
        except ExecError as e:
            (stderr or self.stderr).write(f"{argv[0]}: {e.message}\n")
            return e.exit_code
        if child.exit_code is None:
            yield child.exited
        return child.exit_code


def run_program(fn: Program, proc: Process) -> Generator[Event, Any, int]:
    """Drive ``fn(proc)`` whether it is a plain function or a generator; return its exit code."""
    try:
        result = fn(proc)
        if isinstance(result, Generator):
            result = yield from result
    except Exit as e:
        return e.code
    except AivleError as e:  # a user mistake the program did not report itself: `prog: message`
        proc.error(f"{proc.comm}: {e.message}\n")
        return 1
    return 0 if result is None else int(result)


class Kernel:
    """One machine's kernel: the process table, program execution and signals.

    Args:
        loop: the world's clock.
        release: what ``uname -r`` prints.
        hostname: the host's hostname.
    """

    def __init__(self, loop: Loop, release: str = "6.1.0-28-amd64", arch: str = "x86_64", owner: Any = None):
        self.loop = loop
        self.release = release
        self.arch = arch
        self.owner = owner  # the Machine this kernel boots
        self.processes: dict[int, Process] = {}
        self.next_pid = 1
        self.host_pidns = PidNamespace()
        self.modules: set[str] = set()
        self.sysctls: dict[str, str] = {}

    # -- exec ------------------------------------------------------------------
    def find_executable(self, ns: Namespaces, name: str, env: dict[str, str], cwd: str = "/") -> str:
        """The path ``name`` resolves to (PATH search); raises ExecError like execvp."""
        if "/" in name:
            path = join(cwd, name)
            if not ns.fs.exists(path):
                raise ExecError("No such file or directory", "ENOENT", 127)
            return path
        for d in env.get("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").split(":"):
            if not d:
                continue
            candidate = join(d, name)
            if ns.fs.is_file(candidate):
                return candidate
        raise ExecError("not found", "ENOENT", 127)

    def resolve_program(self, ns: Namespaces, path: str, argv: list[str]) -> tuple[Program, list[str]]:
        entry = ns.fs.stat(path)
        if entry.is_dir:
            raise ExecError("Is a directory", "EISDIR", 126)
        if not entry.executable:
            raise ExecError("Permission denied", "EACCES", 126)
        name = program_name(entry.data)
        if name is not None:
            fn = lookup_program(name)
            if fn is None:
                raise ExecError("cannot execute binary file: Exec format error", "ENOEXEC", 126)
            return fn, argv
        if entry.data.startswith(b"#!"):
            line = entry.data[2:].split(b"\n", 1)[0].decode("utf-8", "replace").strip()
            parts = line.split(None, 1)
            if not parts:
                raise ExecError("cannot execute: required file not found", "ENOENT", 127)
            script = argv[0] if "/" in argv[0] else path  # $0 as the user typed it
            interp_argv = [parts[0]] + ([parts[1]] if len(parts) > 1 else []) + [script] + argv[1:]
            interp_path = parts[0]
            if not ns.fs.exists(interp_path):
                raise ExecError(f"cannot execute: required file not found", "ENOENT", 127)
            fn, _ = self.resolve_program(ns, interp_path, interp_argv)
            return fn, interp_argv
        raise ExecError("cannot execute binary file: Exec format error", "ENOEXEC", 126)

    def spawn(self, argv: list[str], *, ns: Namespaces, env: dict[str, str] | None = None, cwd: str = "/",
              stdin: bytes = b"", stdout: Stream | None = None, stderr: Stream | None = None,
              uid: int = 0, parent: Process | None = None) -> Process:
        """Start a process running ``argv`` (resolved via PATH); it runs until its first wait now.

        Raises:
            ExecError: the program does not exist or cannot be executed.
        """
        if not argv:
            raise ExecError("empty command", "ENOENT", 127)
        env = dict(env or {})
        path = self.find_executable(ns, argv[0], env, cwd)
        fn, real_argv = self.resolve_program(ns, path, list(argv))
        return self.start(fn, real_argv, ns=ns, env=env, cwd=cwd, stdin=stdin, stdout=stdout,
                          stderr=stderr, uid=uid, parent=parent)

    def start(self, fn: Program, argv: list[str], *, ns: Namespaces, env: dict[str, str] | None = None,
              cwd: str = "/", stdin: bytes = b"", stdout: Stream | None = None, stderr: Stream | None = None,
              uid: int = 0, parent: Process | None = None) -> Process:
        """Start Python program ``fn`` directly (no filesystem lookup)."""
        pid = self.next_pid
        self.next_pid += 1
        proc = Process(self, pid, argv, ns, dict(env or {}), cwd, stdin, stdout or Stream("stdout"),
                       stderr or Stream("stderr"), uid, parent)
        proc.rss = RESIDENT_MEMORY.get(proc.comm, DEFAULT_RESIDENT_MEMORY)
        self.processes[pid] = proc
        ns.pid.add(pid)
        proc.is_ns_init = ns.pid.parent is not None and ns.pid.members[pid] == 1

        def body():
            code = yield from run_program(fn, proc)
            return code

        task = Task(self.loop, body(), name=f"pid {pid}")
        proc.task = task
        if task.finished:
            self._reap(proc, task.result)
        else:
            task.done.add_callback(lambda ev: self._reap(proc, ev.value) if proc.exit_code is None else None)
        return proc

    # -- ending ------------------------------------------------------------------
    def _reap(self, proc: Process, code: int | None) -> None:
        if proc.exit_code is not None:
            return
        proc.exit_code = 0 if code is None else int(code)
        proc.rss = 0
        proc.cpu = 0.0
        for cleanup in reversed(proc.cleanups):
            cleanup()
        proc.cleanups.clear()
        self.processes.pop(proc.pid, None)
        proc.ns.pid.remove(proc.pid)
        if proc.is_ns_init:
            self._kill_namespace(proc.ns.pid)
        proc.exited.succeed(proc.exit_code)

    def _terminate(self, proc: Process, code: int) -> None:
        if proc.exit_code is not None:
            return
        task = proc.task
        if task is not None and not task.finished:
            if task.gen.gi_running:
                # the process is on the CPU right now (it caused this itself): it ends at this instant,
                # as soon as it gives up the CPU
                self.loop.call_soon(lambda: self._terminate(proc, code))
                return
            task.cancel(code)  # runs finally blocks; done-callback reaps with ``code``
        self._reap(proc, code)

    def _kill_namespace(self, pidns: PidNamespace) -> None:
        for pid in sorted(pidns.members):
            p = self.processes.get(pid)
            if p is not None:
                p.killed_by = SIGNALS["KILL"]
                self._terminate(p, 137)

    def signal(self, pid: int, sig: int | str) -> bool:
        """Send a signal like ``kill``. Returns False when there is no such process.

        SIGKILL always ends the process (exit 137). Another signal calls the
        program's handler if it set one; otherwise it ends the process with
        128+signal — except for PID 1 of a container, which the kernel
        protects from signals it has no handler for.
        """
        if isinstance(sig, str):
            sig = SIGNALS[sig.upper().removeprefix("SIG")]
        proc = self.processes.get(pid)
        if proc is None:
            return False
        if sig == SIGNALS["KILL"]:
            proc.killed_by = sig
            self._terminate(proc, 128 + sig)
            return True
        handler = proc.signal_handlers.get(sig)
        if handler is not None:
            handler(sig)
            return True
        if sig in (SIGNALS["CONT"],):
            return True
        if proc.ns.pid.parent is not None and proc.local_pid == 1:
            return True  # init of a pid namespace ignores unhandled signals
        proc.killed_by = sig
        self._terminate(proc, 128 + sig)
        return True

    # -- resources ---------------------------------------------------------------
    def check_memory(self, proc: Process) -> bool:
        cg = proc.ns.cgroup
        if cg.memory_limit is not None and cg.memory_usage(self) > cg.memory_limit:
            cg.oom_killed = True
            proc.killed_by = SIGNALS["KILL"]
            if not (proc.task is not None and proc.task.gen.gi_running):
                self._terminate(proc, 137)
            return False
        return True

    def ps(self, pidns: PidNamespace | None = None) -> list[Process]:
        """Processes visible from ``pidns`` (all of them from the host's), by pid."""
        pidns = pidns or self.host_pidns
        procs = [p for p in self.processes.values() if p.pid in pidns.members]
        return sorted(procs, key=lambda p: pidns.members[p.pid])
