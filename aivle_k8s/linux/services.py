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
from .kernel import Kernel, Namespaces, Process, _PROGRAMS

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
        fn = _PROGRAMS.get(unit.exec_start[0])
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
