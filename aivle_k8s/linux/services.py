"""A small systemd: units that start a program as a process, enable/disable, status.

Packages install unit files; ``systemctl start docker`` starts the unit's
``ExecStart`` program on the machine's kernel, ``stop`` signals it, and a
unit with ``Restart=always`` is started again when its process dies.

>>> from aivle_k8s.sim.clock import Loop
>>> from aivle_k8s.linux.kernel import Kernel, Namespaces, register_program
>>> from aivle_k8s.linux.fs import FileSystem
>>> @register_program("demo-daemon")
... def daemon(proc):
...     yield proc.forever()
>>> loop = Loop(); k = Kernel(loop); ns = Namespaces(FileSystem(), "m", k.host_pidns)
>>> sm = ServiceManager(k, ns)
>>> sm.add(Unit("demo", ["demo-daemon"], description="Demo"))
>>> sm.start("demo"); sm.is_active("demo")
True
>>> sm.stop("demo"); sm.is_active("demo")
False
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..sim.errors import NotFound
from .kernel import Kernel, Namespaces, Process, lookup_program

__all__ = ["Unit", "ServiceManager"]


@dataclass
class Unit:
    """A service unit. ``exec_start`` is an argv whose first item is a registered program name."""

    name: str
    exec_start: list[str]
    description: str = ""
    restart: str = "no"  # no | always | on-failure
    restart_sec: float = 5.0
    enabled: bool = False
    masked: bool = False
    env: dict[str, str] = field(default_factory=dict)
    condition: Callable[[], str | None] | None = None  # returns a failure reason, or None


class ServiceManager:
    """Starts, stops and supervises the units of one machine."""

    def __init__(self, kernel: Kernel, ns: Namespaces):
        self.kernel = kernel
        self.ns = ns
        self.units: dict[str, Unit] = {}
        self.procs: dict[str, Process] = {}
        self.failed: dict[str, str] = {}
        self.since: dict[str, float] = {}
        self.restarts: dict[str, int] = {}
        self._stopping: set[str] = set()
        self.listeners: list[Callable[[str, str], Any]] = []  # (unit, event) hooks

    @staticmethod
    def normalize(name: str) -> str:
        return name[:-8] if name.endswith(".service") else name

    def add(self, unit: Unit) -> None:
        self.units[unit.name] = unit

    def get(self, name: str) -> Unit:
        name = self.normalize(name)
        if name not in self.units:
            raise NotFound(f"Unit {name}.service not found.")
        return self.units[name]

    def is_active(self, name: str) -> bool:
        proc = self.procs.get(self.normalize(name))
        return proc is not None and proc.alive

    def state(self, name: str) -> str:
        """``active``, ``inactive``, ``failed`` or ``activating`` like ``systemctl is-active``."""
        name = self.normalize(name)
        if self.is_active(name):
            return "active"
        if name in self.failed:
            return "activating" if self.units.get(name) and self.units[name].restart != "no" else "failed"
        return "inactive"

    def start(self, name: str) -> None:
        unit = self.get(name)
        if unit.masked:
            raise NotFound(f"Unit {unit.name}.service is masked.")
        if self.is_active(unit.name):
            return
        reason = unit.condition() if unit.condition else None
        if reason:
            self.failed[unit.name] = reason
            self._notify(unit.name, "failed")
            if unit.restart in ("always", "on-failure"):
                self.kernel.loop.call_later(unit.restart_sec, lambda: self._auto_restart(unit.name))
            return
        fn = lookup_program(unit.exec_start[0])
        if fn is None:
            raise NotFound(f"{unit.name}.service: executable {unit.exec_start[0]} not found")
        self.failed.pop(unit.name, None)
        proc = self.kernel.start(fn, list(unit.exec_start), ns=self.ns, env={"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", **unit.env})
        self.procs[unit.name] = proc
        self.since[unit.name] = self.kernel.loop.now
        if proc.alive:
            proc.exited.add_callback(lambda ev, n=unit.name, p=proc: self._exited(n, p))
            self._notify(unit.name, "started")
        else:
            self._exited(unit.name, proc)

    def _exited(self, name: str, proc: Process) -> None:
        if self.procs.get(name) is not proc:
            return
        unit = self.units[name]
        if name in self._stopping:
            self._stopping.discard(name)
            self._notify(name, "stopped")
            return
        self.failed[name] = f"main process exited, code=exited, status={proc.exit_code}"
        self._notify(name, "failed")
        if unit.restart == "always" or (unit.restart == "on-failure" and proc.exit_code != 0):
            self.kernel.loop.call_later(unit.restart_sec, lambda: self._auto_restart(name))

    def _auto_restart(self, name: str) -> None:
        if name in self.failed and not self.is_active(name) and name in self.units:
            self.restarts[name] = self.restarts.get(name, 0) + 1
            self.start(name)

    def stop(self, name: str) -> None:
        unit = self.get(name)
        self.failed.pop(unit.name, None)
        proc = self.procs.get(unit.name)
        if proc is not None and proc.alive:
            self._stopping.add(unit.name)
            self.kernel.signal(proc.pid, "TERM")
            if proc.alive:
                self.kernel.signal(proc.pid, "KILL")

    def restart(self, name: str) -> None:
        self.stop(name)
        self.start(name)

    def enable(self, name: str) -> None:
        self.get(name).enabled = True

    def disable(self, name: str) -> None:
        self.get(name).enabled = False

    def mask(self, name: str) -> None:
        self.get(name).masked = True

    def unmask(self, name: str) -> None:
        self.get(name).masked = False

    def boot(self) -> None:
        """Start every enabled unit (what happens when the machine boots)."""
        for name, unit in sorted(self.units.items()):
            if unit.enabled and not unit.masked:
                self.start(name)

    def _notify(self, name: str, event: str) -> None:
        for listener in list(self.listeners):
            listener(name, event)


# -- systemctl / journalctl ------------------------------------------------------
from .kernel import register_program  # noqa: E402

_NEEDS_ROOT = {"start", "stop", "restart", "enable", "disable", "mask", "unmask", "daemon-reload", "reload"}


def _manager(proc) -> ServiceManager | None:
    owner = proc.kernel.owner
    return getattr(owner, "services", None)


@register_program("systemd")
def systemd(proc):
    """PID 1 of a machine: it only waits (units are supervised by the ServiceManager)."""
    proc.on_signal("TERM", lambda sig: None)
    yield proc.forever()


@register_program("systemctl")
def systemctl(proc) -> int:
    """``systemctl start|stop|restart|enable [--now]|disable|status|is-active|is-enabled|list-units|daemon-reload``."""
    args = [a for a in proc.argv[1:] if a not in ("--no-pager", "-q", "--quiet", "--full", "-l")]
    now = "--now" in args
    args = [a for a in args if a != "--now"]
    sm = _manager(proc)
    if sm is None:
        proc.error("System has not been booted with systemd as init system (PID 1). Can't operate.\n"
                   "Failed to connect to bus: Host is down\n")
        return 1
    if not args:
        args = ["list-units"]
    verb, names = args[0], [ServiceManager.normalize(n) for n in args[1:]]
    if verb in _NEEDS_ROOT and proc.uid != 0:
        proc.error(f"Failed to {verb} {' '.join(n + '.service' for n in names)}: Access denied\n"
                   "See system logs and 'systemctl status' for details.\n" if names else
                   f"Failed to {verb}: Access denied\n")
        return 1
    if verb == "daemon-reload" or verb == "reload":
        return 0
    if verb == "list-units":
        proc.write("  UNIT                      LOAD   ACTIVE   SUB     DESCRIPTION\n")
        for name, unit in sorted(sm.units.items()):
            state = sm.state(name)
            sub = "running" if state == "active" else ("failed" if state == "failed" else "dead")
            proc.write(f"  {name + '.service':<25} loaded {state:<8} {sub:<7} {unit.description}\n")
        return 0
    if verb in ("start", "stop", "restart", "enable", "disable", "mask", "unmask", "status", "is-active",
                "is-enabled") and not names:
        proc.error(f"Too few arguments.\n")
        return 1
    code = 0
    for name in names:
        if name not in sm.units:
            if verb in ("is-active",):
                proc.write("inactive\n")
                code = 3
                continue
            if verb == "status":
                proc.error(f"Unit {name}.service could not be found.\n")
                return 4
            if verb == "is-enabled":
                proc.error(f"Failed to get unit file state for {name}.service: No such file or directory\n")
                return 1
            proc.error(f"Failed to {verb} {name}.service: Unit {name}.service not found.\n")
            return 5
        unit = sm.units[name]
        if verb == "start":
            sm.start(name)
            if not sm.is_active(name) and sm.failed.get(name):
                proc.error(f"Job for {name}.service failed because the control process exited with error code.\n"
                           f'See "systemctl status {name}.service" and "journalctl -xeu {name}.service" for details.\n')
                code = 1
        elif verb == "stop":
            sm.stop(name)
        elif verb == "restart":
            sm.restart(name)
        elif verb == "enable":
            if not unit.enabled:
                proc.error(f"Created symlink /etc/systemd/system/multi-user.target.wants/{name}.service → "
                           f"/lib/systemd/system/{name}.service.\n")
            sm.enable(name)
            if now:
                sm.start(name)
        elif verb == "disable":
            if unit.enabled:
                proc.error(f"Removed /etc/systemd/system/multi-user.target.wants/{name}.service.\n")
            sm.disable(name)
            if now:
                sm.stop(name)
        elif verb == "mask":
            sm.mask(name)
        elif verb == "unmask":
            sm.unmask(name)
        elif verb == "is-active":
            state = sm.state(name)
            proc.write(state + "\n")
            code = max(code, 0 if state == "active" else 3)
        elif verb == "is-enabled":
            proc.write(("enabled" if unit.enabled else "disabled") + "\n")
            code = max(code, 0 if unit.enabled else 1)
        elif verb == "status":
            code = max(code, _status(proc, sm, name))
        else:
            proc.error(f'Unknown command verb {verb}.\n')
            return 1
    return code


def _status(proc, sm: ServiceManager, name: str) -> int:
    unit = sm.units[name]
    state = sm.state(name)
    enabled = "enabled" if unit.enabled else "disabled"
    dot = "●"
    proc.write(f"{dot} {name}.service - {unit.description or name}\n")
    proc.write(f"     Loaded: loaded (/lib/systemd/system/{name}.service; {enabled}; vendor preset: enabled)\n")
    world = getattr(proc.kernel.owner, "world", None)
    since = sm.since.get(name)
    when = world.timestamp(since) if (world is not None and since is not None) else ""
    if state == "active":
        p = sm.procs[name]
        proc.write(f"     Active: active (running) since {when}\n")
        proc.write(f"   Main PID: {p.pid} ({p.comm})\n")
        return 0
    if state in ("failed", "activating"):
        reason = sm.failed.get(name, "")
        label = "activating (auto-restart)" if state == "activating" else "failed (Result: exit-code)"
        proc.write(f"     Active: {label}\n    Process: {reason}\n")
        return 3
    proc.write("     Active: inactive (dead)\n")
    return 3


@register_program("journalctl")
def journalctl(proc) -> int:
    """``journalctl -u UNIT``: the unit's process output (what it wrote to stdout/stderr)."""
    sm = _manager(proc)
    args = proc.argv[1:]
    unit = None
    for i, a in enumerate(args):
        if a in ("-u", "--unit") and i + 1 < len(args):
            unit = ServiceManager.normalize(args[i + 1])
        elif a.startswith("-u") and len(a) > 2 and not a.startswith("--"):
            unit = ServiceManager.normalize(a[2:])
        elif a.startswith("--unit="):
            unit = ServiceManager.normalize(a.split("=", 1)[1])
    if sm is None or unit is None:
        proc.write("-- No entries --\n")
        return 0
    p = sm.procs.get(unit)
    if p is None:
        proc.write("-- No entries --\n")
        return 0
    text = p.stdout.text() + p.stderr.text()
    proc.write(text if text else "-- No entries --\n")
    return 0
