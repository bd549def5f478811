"""IPython magics: type ``docker`` and ``kubectl`` command lines in a notebook cell.

::

    %load_ext aivle_k8s.magics
    %aivle_machine host            # or: aivle_k8s.magics.use(host)
    %docker ps -a
    %kubectl get nodes             # "kubectl: command not found" until Kubernetes is installed

    %%dockerfile app -t app:1 --build
    FROM nginx:1.25
    COPY index.html /usr/share/nginx/html/

The commands run on the *current machine* through ``machine.sh`` — the same
terminal the student gets from code — and print what the command printed,
stdout and stderr together as a terminal shows them. Everything goes to the
cell's stdout: nothing is written to ``sys.stderr`` (nbgrader scores a test
cell with stderr 0). ``%aivle_machine NAME`` finds the machine in the
notebook's ``World`` objects by hostname.
"""

from __future__ import annotations

import shlex
import sys
from typing import Any

__all__ = ["use", "current", "load_ipython_extension", "unload_ipython_extension", "AivleMagics"]

_state: dict[str, Any] = {"machine": None}


def use(machine: Any) -> Any:
    """Make ``machine`` the one ``%docker``/``%kubectl``/``%%dockerfile`` act on. Returns it."""
    if not hasattr(machine, "sh"):
        raise TypeError(f"use() takes a machine (world.machine(...)), not {type(machine).__name__}")
    _state["machine"] = machine
    return machine


def current() -> Any:
    """The current machine, or None."""
    return _state["machine"]


def _say(text: str) -> None:
    if text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _find_machine(shell: Any, name: str) -> Any:
    from .world import World

    worlds = [v for v in (shell.user_ns.values() if shell is not None else []) if isinstance(v, World)]
    machines = [v for v in (shell.user_ns.values() if shell is not None else []) if hasattr(v, "sh")
                and getattr(v, "name", None) == name and hasattr(v, "world")]
    if machines:
        return machines[0]
    for w in worlds:
        if name in w.machines:
            return w.machines[name]
    return None


def _run(line: str, program: str) -> Any:
    machine = current()
    if machine is None:
        _say(f"%{program}: no machine selected: run `%aivle_machine <name>` or "
             f"`aivle_k8s.magics.use(host)` first")
        return None
    result = machine.sh(f"{program} {line}".strip())
    _say(result.output)
    return None


try:  # the magics need IPython; the rest of this module (use, current) does not
    from IPython.core.magic import Magics, cell_magic, line_magic, magics_class, no_var_expand
except ImportError:  # pragma: no cover - IPython is a dependency of the notebook extra
    Magics = object  # type: ignore[assignment,misc]

    def magics_class(cls):  # type: ignore[no-redef]
        return cls

    def line_magic(fn):  # type: ignore[no-redef]
        return fn

    cell_magic = line_magic  # type: ignore[assignment]


@magics_class
class AivleMagics(Magics):  # type: ignore[misc,valid-type]
    """``%docker``, ``%kubectl``, ``%aivle_machine`` and ``%%dockerfile``."""

    @line_magic
    @no_var_expand  # Go templates: --format '{{json .RootFS.Layers}}'
    def docker(self, line: str) -> None:
        """``%docker ARGS``: run ``docker ARGS`` on the current machine."""
        return _run(line, "docker")

    @line_magic
    @no_var_expand  # -o jsonpath='{.items[*].metadata.name}'
    def kubectl(self, line: str) -> None:
        """``%kubectl ARGS``: run ``kubectl ARGS`` on the current machine."""
        return _run(line, "kubectl")

    @line_magic
    def aivle_machine(self, line: str) -> None:
        """``%aivle_machine NAME``: act on machine NAME from now on (no argument: show the current one)."""
        name = line.strip()
        if not name:
            m = current()
            _say(f"current machine: {m.name}" if m is not None else "no machine selected")
            return None
        m = _find_machine(self.shell, name)
        if m is None:
            _say(f'%aivle_machine: no machine named "{name}" in this notebook\'s worlds: create it with '
                 f'world.machine("{name}")')
            return None
        use(m)
        _say(f"%docker and %kubectl now run on {m.name}")
        return None

    @cell_magic
    def dockerfile(self, line: str, cell: str) -> None:
        """``%%dockerfile [DIR_OR_PATH] [-t TAG] [--build]``: write the cell as a Dockerfile (and build it).

        ``DIR_OR_PATH`` defaults to the terminal's current directory; a path not ending in
        ``Dockerfile`` is taken as the build directory. ``--build`` runs
        ``cd DIR && docker build [-t TAG] .`` (with ``-f`` for a file not named ``Dockerfile``).
        """
        machine = current()
        if machine is None:
            _say("%%dockerfile: no machine selected: run `%aivle_machine <name>` or "
                 "`aivle_k8s.magics.use(host)` first")
            return None
        try:
            args = shlex.split(line)
        except ValueError as e:
            _say(f"%%dockerfile: {e}")
            return None
        path, tag, build, bad = None, None, False, []
        i = 0
        while i < len(args):
            a = args[i]
            if a in ("-t", "--tag") and i + 1 < len(args):
                tag = args[i + 1]
                i += 1
            elif a.startswith("--tag="):
                tag = a.split("=", 1)[1]
            elif a == "--build":
                build = True
            elif a.startswith("-"):
                bad.append(a)
            elif path is None:
                path = a
            else:
                bad.append(a)
            i += 1
        if bad:
            _say(f"%%dockerfile: unknown argument(s) {' '.join(bad)}\n"
                 f"usage: %%dockerfile [DIR_OR_PATH] [-t TAG] [--build]")
            return None
        base = machine.cwd
        target = path or base
        if not target.startswith("/"):
            target = base.rstrip("/") + "/" + target
        name = target.rstrip("/").rsplit("/", 1)[-1]
        if name == "Dockerfile" or name.endswith(".Dockerfile") or name.endswith(".dockerfile"):
            directory, file = target.rstrip("/").rsplit("/", 1)
            directory = directory or "/"
        else:
            directory, file = target.rstrip("/") or "/", "Dockerfile"
        machine.write_file(f"{directory.rstrip('/')}/{file}", cell if cell.endswith("\n") else cell + "\n")
        _say(f"wrote {directory.rstrip('/')}/{file} on {machine.name}")
        if build:
            cmd = f"cd {shlex.quote(directory)} && docker build" + (f" -t {shlex.quote(tag)}" if tag else "") + \
                (f" -f {shlex.quote(file)}" if file != "Dockerfile" else "") + " ."
            result = machine.sh(cmd)
            _say(result.output)
        elif tag:
            _say("(-t is used with --build; nothing was built)")
        return None


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext aivle_k8s.magics``."""
    ipython.register_magics(AivleMagics)


def unload_ipython_extension(ipython: Any) -> None:  # pragma: no cover - nothing to undo
    pass
