"""Machines: fresh Linux computers a student types commands into.

A :class:`Machine` is what a student gets from a cloud console: a kernel,
a disk (Ubuntu 22.04), an address on the world's LAN, swap on, no container
runtime and no Kubernetes. Everything else — an engine, a cluster node —
appears by installing packages and starting services on it, exactly as the
official install guides do it.

>>> import aivle_k8s as ak
>>> world = ak.World(seed=0)
>>> host = world.machine("host", cpus=4, memory="8Gi")
>>> host.sh("echo hello from $(hostname)")
hello from host
<BLANKLINE>
>>> host.sh("docker ps").exit_code
127
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ..linux.distro import ubuntu_layer
from ..linux.fs import FileSystem
from ..linux.kernel import ExecError, Kernel, Namespaces, Stream
from ..linux.services import ServiceManager
from ..sim.errors import InvalidInput

if TYPE_CHECKING:  # pragma: no cover
    from ..world import World

__all__ = ["Machine", "ShellResult", "parse_quantity", "PACKAGE_HOOKS"]

_UNITS = {"": 1, "K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4,
          "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4,
          "k": 1000, "m": 1 / 1000}

#: Package name -> function(machine) called after ``apt-get install`` put its files in place.
PACKAGE_HOOKS: dict[str, Callable[["Machine"], Any]] = {}


def parse_quantity(value: str | int | float) -> int:
    """Bytes in a Kubernetes-style quantity (``"8Gi"``, ``"512Mi"``, ``"2G"``, ``1024``).

    >>> parse_quantity("8Gi"), parse_quantity("512M"), parse_quantity(1024)
    (8589934592, 512000000, 1024)
    """
    if isinstance(value, (int, float)):
        return int(value)
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?|k|m)?\s*", str(value))
    if not m:
        raise InvalidInput(f'quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\': "{value}"')
    return int(float(m.group(1)) * _UNITS[m.group(2) or ""])


@dataclass(frozen=True)
class ShellResult:
    """What a command line did: its exit code and what it printed.

    Its repr is what a terminal would show (stdout and stderr interleaved in
    the order they were written), so a notebook cell that ends with
    ``host.sh(...)`` looks like a terminal.
    """

    exit_code: int
    stdout: str
    stderr: str
    transcript: str | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        return self.output

    def _repr_pretty_(self, p, cycle) -> None:  # IPython
        p.text(self.output)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def output(self) -> str:
        """Everything the command printed, as a terminal shows it."""
        return self.transcript if self.transcript is not None else self.stdout + self.stderr

    def check(self) -> "ShellResult":
        """Return self, or raise CommandFailed when the exit code is not 0."""
        if self.exit_code != 0:
            from ..sim.errors import AivleError

            raise AivleError(f"command failed with exit code {self.exit_code}: {self.stderr.strip()}",
                             result=self)
        return self


class Machine:
    """A Linux machine in the world (a VM or bare-metal server in real life).

    Args:
        world: the world it lives in.
        name: its hostname.
        cpus, memory: hardware size (``memory`` as a quantity like ``"8Gi"``).
        ip: its address on the LAN (allocated by the world).
    """

    kind = "machine"

    def __init__(self, world: "World", name: str, *, cpus: int = 2, memory: str | int = "4Gi",
                 ip: str, disk: str | int = "40Gi", kernel_release: str = "5.15.0-105-generic",
                 layer: dict | None = None):
        self.world = world
        self.name = name
        self.cpus = int(cpus)
        self.memory = parse_quantity(memory)
        self.disk = parse_quantity(disk)
        self.ip = ip
        self.kernel = Kernel(world.loop, release=kernel_release, owner=self)
        self.kernel.cpus = self.cpus
        self.kernel.memory_total = self.memory
        self.kernel.swap_total = 2 * 1024**3
        self.kernel.swap_on = True
        self.fs = FileSystem([layer if layer is not None else ubuntu_layer(name)])
        self.netns = world.net.namespace(name, [ip], node=name)
        self.ns = Namespaces(self.fs, name, self.kernel.host_pidns, self.netns, name="host")
        self.services = ServiceManager(self.kernel, self.ns)
        from ..linux.kernel import programs

        self.init = self.kernel.start(programs()["systemd"], ["/sbin/init"], ns=self.ns)  # PID 1
        self.packages: dict[str, str] = {}  # installed package -> version
        self.engine: Any = None  # set when a Docker Engine is installed
        self.extensions: dict[str, Any] = {}  # components installed on it (containerd, kubelet ...)
        self.cwd = "/home/student"
        self.user = "student"
        self.env = {
            "HOME": "/home/student", "USER": "student", "LOGNAME": "student", "SHELL": "/bin/bash",
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C.UTF-8", "TERM": "xterm",
        }
        self.history: list[tuple[str, int]] = []
        self.booted_at = world.loop.now

    def __repr__(self) -> str:
        return f"<Machine {self.name} {self.ip} {self.cpus} CPU {self.memory // 1024**2} MiB>"

    @property
    def hostname(self) -> str:
        return self.ns.hostname

    @property
    def uid(self) -> int:
        return 0 if self.user == "root" else 1000

    # -- the terminal ------------------------------------------------------------
    def sh(self, command: str, *, timeout: float = 600.0, stdin: str = "") -> ShellResult:
        """Run one command line in this machine's terminal, as the student user.

        The shell handles pipes, ``&&``, redirection, heredocs and ``sudo``;
        ``cd`` and ``export`` carry over to the next call like in a terminal.
        Simulated time passes while the command runs (a ``sleep 5`` takes 5
        simulated seconds). A command still running after ``timeout``
        simulated seconds is interrupted as if Ctrl-C was pressed.

        Returns:
            ShellResult(exit_code, stdout, stderr); a failing command returns a
            non-zero exit code and a real-looking stderr instead of raising.
        """
        with self.world.loop.lock:  # one command at a time, also against the HTTP faces (aivle_k8s.serve)
            return self._sh(command, timeout, stdin)

    def _sh(self, command: str, timeout: float, stdin: str) -> ShellResult:
        out, err = Stream("stdout"), Stream("stderr")
        transcript = bytearray()
        out.listeners.append(transcript.extend)
        err.listeners.append(transcript.extend)
        try:
            proc = self.kernel.spawn(["bash", "-c", command], ns=self.ns, env=self.env, cwd=self.cwd,
                                     stdin=stdin.encode(), stdout=out, stderr=err, uid=self.uid)
        except ExecError as e:
            return ShellResult(127, "", f"bash: {e.message}\n")
        if proc.alive:
            finished = self.world.loop.run_until(lambda: not proc.alive, timeout=timeout)
            if not finished:
                self.kernel.signal(proc.pid, "INT")
                if proc.alive:
                    self.kernel.signal(proc.pid, "KILL")
                err.write(f"^C\n(aivle_k8s: still running after {timeout:g} simulated seconds, interrupted "
                          f"as if Ctrl-C was pressed; use `&` or `docker run -d` for long-running programs)\n")
        if self.fs.is_dir(proc.cwd):
            self.cwd = proc.cwd
        self.env = {k: v for k, v in proc.env.items()} if proc.env.get("PATH") else self.env
        code = proc.exit_code if proc.exit_code is not None else 130
        self.history.append((command, code))
        return ShellResult(code, out.text(), err.text(), transcript.decode("utf-8", errors="replace"))

    def write_file(self, path: str, text: str | bytes, *, mode: int = 0o644) -> None:
        """Create or replace a file (parent directories are made), owned by the student user.

        A relative ``path`` is taken from the student's home directory (like the file browser),
        whatever directory the terminal has ``cd``-ed into.

        >>> import aivle_k8s as ak
        >>> m = ak.World().machine("m")
        >>> m.write_file("/home/student/app/Dockerfile", "FROM busybox\\n")
        >>> m.sh("cat app/Dockerfile").stdout
        'FROM busybox\\n'
        """
        from ..linux.fs import join, parent_dirs

        path = join(self.env.get("HOME", "/home/student"), path)
        uid = 1000 if path.startswith("/home/student") else 0
        for d in parent_dirs(path):
            if not self.fs.exists(d):
                self.fs.mkdir(d, mode=0o755, uid=uid, gid=uid)
        self.fs.write(path, text, mode=mode, uid=uid, gid=uid)

    def read_file(self, path: str) -> str:
        """The text of a file on this machine (a relative ``path`` starts at the home directory)."""
        from ..linux.fs import join

        return self.fs.read_text(join(self.env.get("HOME", "/home/student"), path))

    # -- power ---------------------------------------------------------------------
    @property
    def powered(self) -> bool:
        """False between :meth:`power_off` and :meth:`power_on`."""
        return getattr(self, "_powered", True)

    def power_off(self) -> None:
        """Pull the plug (a VM's "Power off" button): nothing shuts down cleanly.

        Every service is marked stopped so systemd does not restart it, then every
        process — services, the container runtime, every container's processes — is
        killed with SIGKILL; the machine's network namespaces go down, so other
        machines' connections to it (the API server polling its kubelet, clients to its
        NodePorts) fail. Files on disk stay. Other machines notice only through the
        network: a worker's node turns ``NotReady`` once the control plane's 40 s
        node-monitor grace period passes. iptables rules (the NAT rules of Services and
        hostPorts) live in the kernel's memory and are lost.
        """
        if not self.powered:
            return
        self._powered = False
        sm = self.services
        for name, proc in list(sm.procs.items()):
            if proc.alive:
                sm._stopping.add(name)
        sm.failed.clear()  # pending Restart= timers find nothing to restart
        for pid in sorted(self.kernel.processes, reverse=True):
            if pid == self.init.pid:
                continue
            self.kernel.signal(pid, "KILL")
        self._downed = [ns for ns in self.world.net.namespaces if ns.node == self.name and ns.up]
        for ns in self._downed:
            ns.up = False
        # the kernel's netfilter tables live in memory: kube-proxy's and the CNI's NAT rules are gone
        # with the power (on boot kube-proxy programs them again from the Services it lists)
        self.world.net.rules.pop(self.name, None)

    def power_on(self) -> None:
        """Power the machine back on: its network comes up and systemd starts every enabled
        unit again (containerd, the kubelet ...), exactly as on boot. The kubelet then
        starts its static pods from ``/etc/kubernetes/manifests`` and the pods bound to the
        node again, and reports the node ``Ready``.

        Kernel settings made at runtime (``swapoff``, ``modprobe``, ``sysctl -w``) are kept,
        as if the machine persisted them the way the install guides recommend.
        """
        if self.powered:
            return
        self._powered = True
        for ns in getattr(self, "_downed", []):
            ns.up = True
        self._downed = []
        self.booted_at = self.world.loop.now
        self.services.boot()

    # -- packages -----------------------------------------------------------------
    def package_installed(self, name: str, version: str) -> None:
        """Called by ``apt-get`` after a package's files are in place: runs its hook."""
        self.packages[name] = version
        hook = PACKAGE_HOOKS.get(name)
        if hook is not None:
            hook(self)

    def package_removed(self, name: str) -> None:
        self.packages.pop(name, None)
        hook = PACKAGE_HOOKS.get(f"-{name}")
        if hook is not None:
            hook(self)
