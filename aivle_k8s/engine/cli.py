"""The ``docker`` command line: what ``/usr/bin/docker`` runs on a simulated machine.

It is the Docker CLI (docker 24/25, the ``docker.io`` package of Ubuntu
22.04) in front of the machine's :class:`~aivle_k8s.engine.engine.Engine`:
the same commands, flags, tables, progress lines, error messages and exit
codes, so a student who types ``docker run -dp 8080:80 --name web nginx``
here sees what a real terminal would show.

* Flags are parsed like spf13/pflag: ``-dp 8080:80`` (combined shorthands),
  ``--name=web`` / ``--name web``, repeated ``-e``/``-p``/``-v``, ``--`` ends
  the flags; for ``run``, ``create`` and ``exec`` everything after the image
  (container) is the container's command.
* Errors are the CLI's and the daemon's words: ``unknown flag: --foo``
  (exit 125), ``"docker rm" requires at least 1 argument.`` (exit 1),
  ``Error response from daemon: ...``, ``docker: Error response from
  daemon: ...`` for ``run`` (exit 125, 126 or 127).
* Output goes to stdout and stderr exactly where docker sends it (pull
  progress of ``docker run`` and the BuildKit log of ``docker build`` go to
  stderr); a notebook shows both because ``ShellResult`` prints both.

The daemon is the machine's engine (``machine.engine``); when it is missing
or stopped the CLI says ``Cannot connect to the Docker daemon at
unix:///var/run/docker.sock. Is the docker daemon running?``, and a user who
is neither root nor in the ``docker`` group gets ``permission denied``.

>>> from aivle_k8s.engine.cli import parse_command_line
>>> inv = parse_command_line(["run", "-dp", "8080:80", "--name=web", "nginx:1.25"])
>>> inv.command.path, inv.values["detach"], inv.values["publish"], inv.values["name"], inv.args
('docker run', True, ['8080:80'], 'web', ['nginx:1.25'])
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Callable, Generator, Iterable, Sequence

from ..linux.fs import join, normpath
from ..linux.kernel import SIGNALS, Process, register_program
from ..sim.errors import (AivleError, BuildError, ContainerNotFound, FsError, InvalidInput, InvalidReference,
                          NotFound, UsageError, VolumeNotFound)
from . import format as fmt

__all__ = [
    "Flag",
    "Command",
    "Invocation",
    "parse_command_line",
    "parse_flags",
    "command_tree",
    "help_text",
    "main",
    "CLIENT_VERSION",
]

# ---------------------------------------------------------------------------
# constants
# ---------------------------------------------------------------------------
DOCKER_HOST = "unix:///var/run/docker.sock"
ERR_DAEMON_DOWN = ("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                   "Is the docker daemon running?")
ERR_PERMISSION = ('permission denied while trying to connect to the Docker daemon socket at '
                  'unix:///var/run/docker.sock: Head "http://%2Fvar%2Frun%2Fdocker.sock/_ping": '
                  'dial unix /var/run/docker.sock: connect: permission denied')

#: The client half of ``docker version`` (Ubuntu 22.04's docker.io 24.0.7).
CLIENT_VERSION = {
    "Version": "24.0.7",
    "ApiVersion": "1.43",
    "DefaultAPIVersion": "1.43",
    "GitCommit": "24.0.7-0ubuntu2~22.04.1",
    "GoVersion": "go1.21.1",
    "Os": "linux",
    "Arch": "amd64",
    "BuildTime": "Wed Apr 17 20:08:25 2024",
    "Context": "default",
}

FORMAT_HELP = """Format output using a custom template:
'table':            Print output in table format with column headers (default)
'table TEMPLATE':   Print output in table format using the given Go template
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates"""

INSPECT_FORMAT_HELP = """Format output using a custom template:
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates"""

_SIGNAL_NUMBERS = {**SIGNALS, "ABRT": 6, "ALRM": 14, "PIPE": 13, "SEGV": 11, "TRAP": 5, "WINCH": 28}


# ---------------------------------------------------------------------------
# flags (spf13/pflag)
# ---------------------------------------------------------------------------
_VARNAMES = {
    "bool": "", "string": "string", "int": "int", "int64": "int", "uint16": "uint16", "uint64": "uint",
    "list": "list", "map": "map", "bytes": "bytes", "decimal": "decimal", "duration": "duration",
    "filter": "filter", "strings": "strings", "stringArray": "stringArray", "mount": "mount",
    "network": "network", "ulimit": "ulimit", "gpus": "gpu-request", "float": "float",
}
_LIST_KINDS = {"list", "map", "filter", "strings", "stringArray", "mount", "ulimit", "gpus"}


@dataclass(frozen=True)
class Flag:
    """One command-line flag, as pflag defines it.

    ``kind`` is the value type (``bool``, ``string``, ``int``, ``list`` (repeatable),
    ``map``, ``bytes`` (``512m``), ``decimal`` (``1.5``), ``duration``, ``filter``
    (``key=value``) ...); ``default`` is the value when the flag is not given;
    ``check`` names an extra validation (``env``, ``label``).
    """

    name: str
    short: str = ""
    kind: str = "bool"
    usage: str = ""
    default: Any = None
    hidden: bool = False
    check: str | None = None

    @property
    def label(self) -> str:
        """How pflag names the flag in errors: ``-n, --last`` or ``--name``."""
        return f"-{self.short}, --{self.name}" if self.short else f"--{self.name}"

    def initial(self) -> Any:
        if self.kind in _LIST_KINDS:
            return list(self.default or [])
        if self.default is not None:
            return self.default
        return {"bool": False, "string": "", "int": 0, "int64": 0, "uint16": 0, "uint64": 0, "bytes": 0,
                "decimal": 0, "duration": 0.0, "float": 0.0, "network": ""}.get(self.kind, "")

    def help_line(self) -> tuple[str, str, str, str]:
        """``(shorthand, name, varname, usage + default)`` for :func:`format.flag_usages`."""
        usage = self.usage
        varname = _VARNAMES.get(self.kind, self.kind)
        m = re.search(r"`([^`]*)`", usage)
        if m:
            varname = m.group(1)
            usage = usage[: m.start()] + varname + usage[m.end():]
        default = self.default
        if self.kind == "bool" and default:
            usage += " (default true)"
        elif self.kind == "string" and default:
            usage += f" (default {fmt.go_quote(default)})"
        elif self.kind in ("int", "int64", "uint16", "uint64") and default:
            usage += f" (default {default})"
        elif self.kind == "map":
            usage += " (default map[])"
        return self.short, self.name, varname, usage


_HELP_FLAG = Flag("help", "h", "bool", "Print usage", hidden=True)


class FlagError(UsageError):
    """A pflag parse error (``unknown flag: --foo``)."""


def _go_bool(text: str) -> bool:
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(f"strconv.ParseBool: parsing {fmt.go_quote(text)}: invalid syntax")


def _go_int(text: str, bits: int = 64, unsigned: bool = False) -> int:
    name = "ParseUint" if unsigned else "ParseInt"
    s = text.replace("_", "") if re.fullmatch(r"[+-]?0[xXoObB]?[0-9a-fA-F_]+", text) else text
    m = re.fullmatch(r"([+-]?)(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9][0-9]*|0)", s)
    if not m or (unsigned and m.group(1)):
        raise ValueError(f"strconv.{name}: parsing {fmt.go_quote(text)}: invalid syntax")
    body = m.group(2)
    if body.startswith(("0x", "0X")):
        value = int(body, 16)
    elif body.startswith(("0b", "0B")):
        value = int(body, 2)
    elif body.startswith(("0o", "0O")):
        value = int(body[2:], 8)
    elif len(body) > 1 and body.startswith("0"):
        value = int(body, 8)
    else:
        value = int(body)
    if m.group(1) == "-":
        value = -value
    lo, hi = (0, 2**bits - 1) if unsigned else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if not lo <= value <= hi:
        raise ValueError(f"strconv.{name}: parsing {fmt.go_quote(text)}: value out of range")
    return value


_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _go_duration(text: str) -> float:
    """Go's ``time.ParseDuration`` in seconds (``1m30s``, ``500ms``, ``0``)."""
    s = text
    sign = 1.0
    if s[:1] in "+-":
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise ValueError(f"time: invalid duration {fmt.go_quote(text)}")
    total = 0.0
    pos = 0
    while pos < len(s):
        m = re.compile(r"([0-9]*(?:\.[0-9]*)?)([a-zµμ]*)").match(s, pos)
        num, unit = m.group(1), m.group(2)
        if not num or num == ".":
            raise ValueError(f"time: invalid duration {fmt.go_quote(text)}")
        if not unit:
            raise ValueError(f"time: missing unit in duration {fmt.go_quote(text)}")
        if unit not in _DURATION_UNITS:
            raise ValueError(f"time: unknown unit {fmt.go_quote(unit)} in duration {fmt.go_quote(text)}")
        total += float(num) * _DURATION_UNITS[unit]
        pos = m.end()
    return sign * total


def _parse_cpus(text: str) -> int:
    """docker's ``opts.ParseCPUs``: nano CPUs of ``1.5`` / ``3/2``."""
    try:
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?\d+/\d+", text):
            raise ValueError
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"failed to parse {text} as a rational number") from None
    nano = value * 1_000_000_000
    if nano.denominator != 1:
        raise ValueError("value is too precise")
    return int(nano)


def _flag_value(flag: Flag, raw: str, current: Any, env: dict[str, str] | None) -> Any:
    """The new value of ``flag`` after ``--flag raw`` (raises ValueError with pflag's reason)."""
    kind = flag.kind
    if kind == "bool":
        return _go_bool(raw)
    if kind == "string" or kind == "network":
        return raw
    if kind in ("int", "int64"):
        return _go_int(raw, 64)
    if kind == "uint16":
        return _go_int(raw, 16, unsigned=True)
    if kind == "uint64":
        return _go_int(raw, 64, unsigned=True)
    if kind == "float":
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"strconv.ParseFloat: parsing {fmt.go_quote(raw)}: invalid syntax") from None
    if kind == "bytes":
        try:
            return fmt.parse_size(raw, binary=True)
        except InvalidInput as e:
            raise ValueError(e.message) from None
    if kind == "decimal":
        return _parse_cpus(raw)
    if kind == "duration":
        return _go_duration(raw)
    values = list(current)
    if kind == "filter":
        if raw == "":
            return values
        if "=" not in raw:
            raise ValueError("bad format of filter (expected name=value)")
        name, _, val = raw.partition("=")
        values.append(f"{name.strip().lower()}={val.strip()}")
        return values
    if kind == "strings":
        return values + [p for p in raw.split(",")] if raw else values
    if flag.check == "env":
        key, eq, _ = raw.partition("=")
        if key == "":
            raise ValueError(f"invalid environment variable: {raw}")
        if not eq and env is not None and key in env:
            raw = f"{key}={env[key]}"
    elif flag.check == "label":
        key = raw.partition("=")[0].lstrip(" \t")
        if key == "":
            raise ValueError(f"invalid label '{raw}': empty name")
        if any(c in key for c in " \t"):
            raise ValueError(f"label '{key}' contains whitespaces")
    values.append(raw)
    return values


@dataclass
class ParsedFlags:
    values: dict[str, Any]
    args: list[str]
    changed: set[str]
    dash_at: int = -1  # len(args) when "--" was seen


def parse_flags(flags: Sequence[Flag], argv: Sequence[str], *, interspersed: bool = True,
                env: dict[str, str] | None = None) -> ParsedFlags:
    """Parse ``argv`` against ``flags`` exactly like pflag (``FlagSet.Parse``).

    Raises:
        FlagError: with pflag's message (``unknown flag: --foo``,
            ``unknown shorthand flag: 'z' in -z``, ``flag needs an argument: --name``,
            ``invalid argument "x" for "-n, --last" flag: strconv.ParseInt: ...``).

    >>> p = parse_flags([Flag("detach", "d"), Flag("publish", "p", "list")], ["-dp", "80:80", "img", "-x"],
    ...                 interspersed=False)
    >>> p.values, p.args
    ({'detach': True, 'publish': ['80:80'], 'help': False}, ['img', '-x'])
    """
    flags = list(flags)
    if not any(f.name == "help" for f in flags):
        short = "h" if not any(f.short == "h" for f in flags) else ""
        flags.append(replace(_HELP_FLAG, short=short))
    by_name = {f.name: f for f in flags}
    by_short = {f.short: f for f in flags if f.short}
    values = {f.name: f.initial() for f in flags}
    changed: set[str] = set()
    args: list[str] = []
    rest = list(argv)
    dash_at = -1

    def set_value(flag: Flag, raw: str) -> None:
        try:
            values[flag.name] = _flag_value(flag, raw, values[flag.name], env)
        except ValueError as e:
            raise FlagError(f"invalid argument {fmt.go_quote(raw)} for {fmt.go_quote(flag.label)} flag: {e}") from None
        changed.add(flag.name)

    while rest:
        s = rest.pop(0)
        if len(s) < 2 or s[0] != "-":
            if not interspersed:
                args.append(s)
                args.extend(rest)
                break
            args.append(s)
            continue
        if s[1] == "-":
            if len(s) == 2:
                dash_at = len(args)
                args.extend(rest)
                break
            name = s[2:]
            if name[0] in "-=":
                raise FlagError(f"bad flag syntax: {s}")
            name, eq, value = name.partition("=")
            flag = by_name.get(name)
            if flag is None:
                raise FlagError(f"unknown flag: --{name}")
            if eq:
                pass
            elif flag.kind == "bool":
                value = "true"
            elif rest:
                value = rest.pop(0)
            else:
                raise FlagError(f"flag needs an argument: {s}")
            set_value(flag, value)
            continue
        shorthands = s[1:]
        while shorthands:
            c = shorthands[0]
            flag = by_short.get(c)
            if flag is None:
                raise FlagError(f"unknown shorthand flag: {_go_char(c)} in -{shorthands}")
            if len(shorthands) > 2 and shorthands[1] == "=":
                value, shorthands = shorthands[2:], ""
            elif flag.kind == "bool":
                value, shorthands = "true", shorthands[1:]
            elif len(shorthands) > 1:
                value, shorthands = shorthands[1:], ""
            elif rest:
                value, shorthands = rest.pop(0), ""
            else:
                raise FlagError(f"flag needs an argument: {_go_char(c)} in -{shorthands}")
            set_value(flag, value)
    return ParsedFlags(values, args, changed, dash_at)


def _go_char(c: str) -> str:
    """Go's ``%q`` of a byte: ``'z'``."""
    if c == "'":
        return "'\\''"
    if c == "\\":
        return "'\\\\'"
    if c.isprintable() and ord(c) < 0x80:
        return f"'{c}'"
    return "'" + fmt.go_quote(c)[1:-1] + "'"


# ---------------------------------------------------------------------------
# commands (spf13/cobra as docker configures it)
# ---------------------------------------------------------------------------
@dataclass
class Command:
    """A docker (sub)command: its usage line, flags, argument rule and handler."""

    name: str
    use: str
    short: str
    args: tuple = ("any",)
    flags: tuple[Flag, ...] = ()
    handler: str | None = None
    aliases: tuple[str, ...] = ()
    alias_line: str = ""
    interspersed: bool = True
    long: str = ""
    top: int = 0  # "category-top" of the root help (Common Commands)
    parent: "Command | None" = field(default=None, repr=False)
    children: dict[str, "Command"] = field(default_factory=dict, repr=False)

    @property
    def path(self) -> str:
        return self.name if self.parent is None else f"{self.parent.path} {self.name}"

    @property
    def use_line(self) -> str:
        if self.parent is None:
            return self.use
        return f"{self.parent.path} {self.use}"

    def find(self, name: str) -> "Command | None":
        if name in self.children:
            return self.children[name]
        for child in self.children.values():
            if name in child.aliases:
                return child
        return None

    def visible_flags(self) -> list[Flag]:
        return [f for f in self.flags if not f.hidden]


def B(short: str, name: str, usage: str, default: bool = False, **kw: Any) -> Flag:
    return Flag(name, short, "bool", usage, default, **kw)


def S(short: str, name: str, usage: str, default: str = "", **kw: Any) -> Flag:
    return Flag(name, short, "string", usage, default, **kw)


def N(short: str, name: str, usage: str, default: int = 0, kind: str = "int", **kw: Any) -> Flag:
    return Flag(name, short, kind, usage, default, **kw)


def V(short: str, name: str, usage: str, kind: str = "list", **kw: Any) -> Flag:
    return Flag(name, short, kind, usage, None, **kw)


_FORMAT = S("", "format", FORMAT_HELP)
_IFORMAT = S("f", "format", INSPECT_FORMAT_HELP)


def _container_flags() -> list[Flag]:
    """``docker run`` / ``docker create`` container options (cli/command/container/opts.go)."""
    win = dict(hidden=True)
    return [
        V("a", "attach", "Attach to STDIN, STDOUT or STDERR"),
        V("", "device-cgroup-rule", "Add a rule to the cgroup allowed devices list"),
        V("", "device", "Add a host device to the container"),
        V("", "gpus", "GPU devices to add to the container ('all' to pass all GPUs)", "gpus"),
        V("e", "env", "Set environment variables", check="env"),
        V("", "env-file", "Read in a file of environment variables"),
        S("", "entrypoint", "Overwrite the default ENTRYPOINT of the image"),
        V("", "group-add", "Add additional groups to join"),
        S("h", "hostname", "Container host name"),
        S("", "domainname", "Container NIS domain name"),
        B("i", "interactive", "Keep STDIN open even if not attached"),
        V("l", "label", "Set meta data on a container", check="label"),
        V("", "label-file", "Read in a line delimited file of labels"),
        B("", "read-only", "Mount the container's root filesystem as read only"),
        S("", "restart", "Restart policy to apply when a container exits", "no"),
        S("", "stop-signal", "Signal to stop the container"),
        N("", "stop-timeout", "Timeout (in seconds) to stop a container"),
        V("", "sysctl", "Sysctl options", "map"),
        B("t", "tty", "Allocate a pseudo-TTY"),
        V("", "ulimit", "Ulimit options", "ulimit"),
        S("u", "user", "Username or UID (format: <name|uid>[:<group|gid>])"),
        S("w", "workdir", "Working directory inside the container"),
        B("", "rm", "Automatically remove the container when it exits"),
        V("", "cap-add", "Add Linux capabilities"),
        V("", "cap-drop", "Drop Linux capabilities"),
        B("", "privileged", "Give extended privileges to this container"),
        V("", "security-opt", "Security Options"),
        S("", "userns", "User namespace to use"),
        S("", "cgroupns", "Cgroup namespace to use (host|private)\n'host':    Run the container in the Docker "
                          "host's cgroup namespace\n'private': Run the container in its own private cgroup "
                          "namespace\n'':        Use the cgroup namespace as configured by the\n           "
                          "default-cgroupns-mode option on the daemon (default)"),
        V("", "add-host", "Add a custom host-to-IP mapping (host:ip)"),
        V("", "dns", "Set custom DNS servers"),
        V("", "dns-opt", "Set DNS options", hidden=True),
        V("", "dns-option", "Set DNS options"),
        V("", "dns-search", "Set custom DNS search domains"),
        V("", "expose", "Expose a port or a range of ports"),
        S("", "ip", "IPv4 address (e.g., 172.30.100.104)"),
        S("", "ip6", "IPv6 address (e.g., 2001:db8::33)"),
        V("", "link", "Add link to another container"),
        V("", "link-local-ip", "Container IPv4/IPv6 link-local addresses"),
        S("", "mac-address", "Container MAC address (e.g., 92:d0:c6:0a:29:33)"),
        V("p", "publish", "Publish a container's port(s) to the host"),
        B("P", "publish-all", "Publish all exposed ports to random ports"),
        Flag("net", "", "network", "Connect a container to a network", hidden=True),
        Flag("network", "", "network", "Connect a container to a network"),
        V("", "net-alias", "Add network-scoped alias for the container", hidden=True),
        V("", "network-alias", "Add network-scoped alias for the container"),
        S("", "log-driver", "Logging driver for the container"),
        S("", "volume-driver", "Optional volume driver for the container"),
        V("", "log-opt", "Log driver options"),
        V("", "storage-opt", "Storage driver options for the container"),
        V("", "tmpfs", "Mount a tmpfs directory"),
        V("", "volumes-from", "Mount volumes from the specified container(s)"),
        V("v", "volume", "Bind mount a volume"),
        V("", "mount", "Attach a filesystem mount to the container", "mount"),
        S("", "health-cmd", "Command to run to check health"),
        Flag("health-interval", "", "duration", "Time between running the check (ms|s|m|h) (default 0s)"),
        N("", "health-retries", "Consecutive failures needed to report unhealthy"),
        Flag("health-timeout", "", "duration", "Maximum time to allow one check to run (ms|s|m|h) (default 0s)"),
        Flag("health-start-period", "", "duration", "Start period for the container to initialize before starting "
                                                    "health-retries countdown (ms|s|m|h) (default 0s)"),
        Flag("health-start-interval", "", "duration", "Time between running the check during the start period "
                                                      "(ms|s|m|h) (default 0s)"),
        B("", "no-healthcheck", "Disable any container-specified HEALTHCHECK"),
        N("", "blkio-weight", "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)",
          kind="uint16"),
        V("", "blkio-weight-device", "Block IO weight (relative device weight)"),
        S("", "cidfile", "Write the container ID to the file"),
        S("", "cpuset-cpus", "CPUs in which to allow execution (0-3, 0,1)"),
        S("", "cpuset-mems", "MEMs in which to allow execution (0-3, 0,1)"),
        N("", "cpu-count", "CPU count (Windows only)", kind="int64", **win),
        N("", "cpu-percent", "CPU percent (Windows only)", kind="int64", **win),
        N("", "cpu-period", "Limit CPU CFS (Completely Fair Scheduler) period", kind="int64"),
        N("", "cpu-quota", "Limit CPU CFS (Completely Fair Scheduler) quota", kind="int64"),
        N("", "cpu-rt-period", "Limit CPU real-time period in microseconds", kind="int64"),
        N("", "cpu-rt-runtime", "Limit CPU real-time runtime in microseconds", kind="int64"),
        N("c", "cpu-shares", "CPU shares (relative weight)", kind="int64"),
        Flag("cpus", "", "decimal", "Number of CPUs"),
        V("", "device-read-bps", "Limit read rate (bytes per second) from a device"),
        V("", "device-read-iops", "Limit read rate (IO per second) from a device"),
        V("", "device-write-bps", "Limit write rate (bytes per second) to a device"),
        V("", "device-write-iops", "Limit write rate (IO per second) to a device"),
        Flag("io-maxbandwidth", "", "bytes", "Maximum IO bandwidth limit for the system drive (Windows only)", **win),
        N("", "io-maxiops", "Maximum IOps limit for the system drive (Windows only)", kind="uint64", **win),
        Flag("kernel-memory", "", "bytes", "Kernel memory limit"),
        Flag("memory", "m", "bytes", "Memory limit"),
        Flag("memory-reservation", "", "bytes", "Memory soft limit"),
        Flag("memory-swap", "", "bytes", "Swap limit equal to memory plus swap: '-1' to enable unlimited swap"),
        N("", "memory-swappiness", "Tune container memory swappiness (0 to 100)", -1, kind="int64"),
        B("", "oom-kill-disable", "Disable OOM Killer"),
        N("", "oom-score-adj", "Tune host's OOM preferences (-1000 to 1000)"),
        N("", "pids-limit", "Tune container pids limit (set -1 for unlimited)", kind="int64"),
        S("", "cgroup-parent", "Optional parent cgroup for the container"),
        S("", "ipc", "IPC mode to use"),
        S("", "isolation", "Container isolation technology"),
        S("", "pid", "PID namespace to use"),
        Flag("shm-size", "", "bytes", "Size of /dev/shm"),
        S("", "uts", "UTS namespace to use"),
        S("", "runtime", "Runtime to use for this container"),
        B("", "init", "Run an init inside the container that forwards signals and reaps processes"),
        V("", "annotation", "Add an annotation to the container (passed through to the OCI runtime)", "map"),
        S("", "platform", "Set platform if server is multi-platform capable"),
        B("", "disable-content-trust", "Skip image verification", True),
    ]


def _specs() -> dict[str, dict[str, dict]]:
    """Every command by management group: keyword arguments of :class:`Command`."""
    c: dict[str, dict] = {
        "attach": dict(use="attach [OPTIONS] CONTAINER",
                       short="Attach local standard input, output, and error streams to a running container",
                       args=("exact", 1), handler="attach",
                       flags=(S("", "detach-keys", "Override the key sequence for detaching a container"),
                              B("", "no-stdin", "Do not attach STDIN"),
                              B("", "sig-proxy", "Proxy all received signals to the process", True)),
                       alias_line="docker container attach, docker attach"),
        "commit": dict(use="commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
                       short="Create a new image from a container's changes", args=("range", 1, 2),
                       handler="commit", alias_line="docker container commit, docker commit",
                       flags=(B("p", "pause", "Pause container during commit", True),
                              S("m", "message", "Commit message"),
                              S("a", "author", 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")'),
                              V("c", "change", "Apply Dockerfile instruction to the created image"))),
        "cp": dict(use="cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tdocker cp [OPTIONS] SRC_PATH|- "
                       "CONTAINER:DEST_PATH",
                   short="Copy files/folders between a container and the local filesystem",
                   long="Copy files/folders between a container and the local filesystem\n\nUse '-' as the "
                        "source to read a tar archive from stdin\nand extract it to a directory destination in a "
                        "container.\nUse '-' as the destination to stream a tar archive of a\ncontainer source "
                        "to stdout.",
                   args=("exact", 2), handler="cp", alias_line="docker container cp, docker cp",
                   flags=(B("L", "follow-link", "Always follow symbol link in SRC_PATH"),
                          B("a", "archive", "Archive mode (copy all uid/gid information)"),
                          B("q", "quiet", "Suppress progress output during copy. Progress output is automatically "
                                          "suppressed if no terminal is attached"))),
        "create": dict(use="create [OPTIONS] IMAGE [COMMAND] [ARG...]", short="Create a new container",
                       args=("min", 1), handler="create", interspersed=False,
                       alias_line="docker container create, docker create",
                       flags=(S("", "name", "Assign a name to the container"),
                              S("", "pull", 'Pull image before creating ("always", "|missing", "never")',
                                "missing"),
                              B("q", "quiet", "Suppress the pull output"),
                              B("", "help", "Print usage"),
                              *_container_flags())),
        "diff": dict(use="diff CONTAINER",
                     short="Inspect changes to files or directories on a container's filesystem",
                     args=("exact", 1), handler="diff", alias_line="docker container diff, docker diff"),
        "exec": dict(use="exec [OPTIONS] CONTAINER COMMAND [ARG...]",
                     short="Execute a command in a running container", args=("min", 2), handler="exec",
                     interspersed=False, alias_line="docker container exec, docker exec", top=2,
                     flags=(S("", "detach-keys", "Override the key sequence for detaching a container"),
                            B("i", "interactive", "Keep STDIN open even if not attached"),
                            B("t", "tty", "Allocate a pseudo-TTY"),
                            B("d", "detach", "Detached mode: run command in the background"),
                            S("u", "user", 'Username or UID (format: "<name|uid>[:<group|gid>]")'),
                            B("", "privileged", "Give extended privileges to the command"),
                            V("e", "env", "Set environment variables", check="env"),
                            V("", "env-file", "Read in a file of environment variables"),
                            S("w", "workdir", "Working directory inside the container"))),
        "export": dict(use="export [OPTIONS] CONTAINER", short="Export a container's filesystem as a tar archive",
                       args=("exact", 1), handler="unsupported",
                       alias_line="docker container export, docker export",
                       flags=(S("o", "output", "Write to a file, instead of STDOUT"),)),
        "inspect": dict(use="inspect [OPTIONS] CONTAINER [CONTAINER...]",
                        short="Display detailed information on one or more containers", args=("min", 1),
                        handler="container_inspect",
                        flags=(_IFORMAT, B("s", "size", "Display total file sizes"))),
        "kill": dict(use="kill [OPTIONS] CONTAINER [CONTAINER...]", short="Kill one or more running containers",
                     args=("min", 1), handler="kill", alias_line="docker container kill, docker kill",
                     flags=(S("s", "signal", "Signal to send to the container"),)),
        "logs": dict(use="logs [OPTIONS] CONTAINER", short="Fetch the logs of a container", args=("exact", 1),
                     handler="logs", alias_line="docker container logs, docker logs",
                     flags=(B("f", "follow", "Follow log output"),
                            S("", "since", 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative '
                                           '(e.g. "42m" for 42 minutes)'),
                            S("", "until", 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative '
                                           '(e.g. "42m" for 42 minutes)'),
                            B("t", "timestamps", "Show timestamps"),
                            B("", "details", "Show extra details provided to logs"),
                            S("n", "tail", "Number of lines to show from the end of the logs", "all"))),
        "ls": dict(use="ls [OPTIONS]", short="List containers", args=("none",), handler="ps",
                   aliases=("ps", "list"), top=3,
                   alias_line="docker container ls, docker container list, docker container ps, docker ps",
                   flags=(B("q", "quiet", "Only display container IDs"),
                          B("s", "size", "Display total file sizes"),
                          B("a", "all", "Show all containers (default shows just running)"),
                          B("", "no-trunc", "Don't truncate output"),
                          B("l", "latest", "Show the latest created container (includes all states)"),
                          N("n", "last", "Show n last created containers (includes all states)", -1),
                          _FORMAT,
                          V("f", "filter", "Filter output based on conditions provided", "filter"))),
        "pause": dict(use="pause CONTAINER [CONTAINER...]",
                      short="Pause all processes within one or more containers", args=("min", 1),
                      handler="pause", alias_line="docker container pause, docker pause"),
        "port": dict(use="port CONTAINER [PRIVATE_PORT[/PROTO]]",
                     short="List port mappings or a specific mapping for the container", args=("range", 1, 2),
                     handler="port", alias_line="docker container port, docker port"),
        "prune": dict(use="prune [OPTIONS]", short="Remove all stopped containers", args=("none",),
                      handler="container_prune",
                      flags=(B("f", "force", "Do not prompt for confirmation"),
                             V("", "filter", 'Provide filter values (e.g. "until=<timestamp>")', "filter"))),
        "rename": dict(use="rename CONTAINER NEW_NAME", short="Rename a container", args=("exact", 2),
                       handler="rename", alias_line="docker container rename, docker rename"),
        "restart": dict(use="restart [OPTIONS] CONTAINER [CONTAINER...]", short="Restart one or more containers",
                        args=("min", 1), handler="restart", alias_line="docker container restart, docker restart",
                        flags=(S("s", "signal", "Signal to send to the container"),
                               N("t", "time", "Seconds to wait before killing the container"))),
        "rm": dict(use="rm [OPTIONS] CONTAINER [CONTAINER...]", short="Remove one or more containers",
                   args=("min", 1), handler="rm", aliases=("remove",),
                   alias_line="docker container rm, docker container remove, docker rm",
                   flags=(B("v", "volumes", "Remove anonymous volumes associated with the container"),
                          B("l", "link", "Remove the specified link"),
                          B("f", "force", "Force the removal of a running container (uses SIGKILL)"))),
        "run": dict(use="run [OPTIONS] IMAGE [COMMAND] [ARG...]",
                    short="Create and run a new container from an image", args=("min", 1), handler="run",
                    interspersed=False, alias_line="docker container run, docker run", top=1,
                    flags=(B("d", "detach", "Run container in background and print container ID"),
                           B("", "sig-proxy", "Proxy received signals to the process", True),
                           S("", "name", "Assign a name to the container"),
                           S("", "detach-keys", "Override the key sequence for detaching a container"),
                           S("", "pull", 'Pull image before running ("always", "missing", "never")', "missing"),
                           B("q", "quiet", "Suppress the pull output"),
                           B("", "help", "Print usage"),
                           *_container_flags())),
        "start": dict(use="start [OPTIONS] CONTAINER [CONTAINER...]", short="Start one or more stopped containers",
                      args=("min", 1), handler="start", alias_line="docker container start, docker start",
                      flags=(B("a", "attach", "Attach STDOUT/STDERR and forward signals"),
                             B("i", "interactive", "Attach container's STDIN"),
                             S("", "detach-keys", "Override the key sequence for detaching a container"),
                             S("", "checkpoint", "Restore from this checkpoint", hidden=True),
                             S("", "checkpoint-dir", "Use a custom checkpoint storage directory", hidden=True))),
        "stats": dict(use="stats [OPTIONS] [CONTAINER...]",
                      short="Display a live stream of container(s) resource usage statistics", args=("any",),
                      handler="stats", alias_line="docker container stats, docker stats",
                      flags=(B("a", "all", "Show all containers (default shows just running)"),
                             B("", "no-stream", "Disable streaming stats and only pull the first result"),
                             B("", "no-trunc", "Do not truncate output"),
                             _FORMAT)),
        "stop": dict(use="stop [OPTIONS] CONTAINER [CONTAINER...]", short="Stop one or more running containers",
                     args=("min", 1), handler="stop", alias_line="docker container stop, docker stop",
                     flags=(S("s", "signal", "Signal to send to the container"),
                            N("t", "time", "Seconds to wait before killing the container"))),
        "top": dict(use="top CONTAINER [ps OPTIONS]", short="Display the running processes of a container",
                    args=("min", 1), handler="top", interspersed=False,
                    alias_line="docker container top, docker top"),
        "unpause": dict(use="unpause CONTAINER [CONTAINER...]",
                        short="Unpause all processes within one or more containers", args=("min", 1),
                        handler="unpause", alias_line="docker container unpause, docker unpause"),
        "wait": dict(use="wait CONTAINER [CONTAINER...]",
                     short="Block until one or more containers stop, then print their exit codes",
                     args=("min", 1), handler="wait", alias_line="docker container wait, docker wait"),
    }
    i: dict[str, dict] = {
        "build": dict(use="build [OPTIONS] PATH | URL | -", short="Build an image from a Dockerfile",
                      args=("exact", 1), handler="build", top=4,
                      alias_line="docker image build, docker build, docker buildx build, docker builder build",
                      flags=(V("", "add-host", 'Add a custom host-to-IP mapping ("host:ip")'),
                             V("", "build-arg", "Set build-time variables"),
                             V("", "cache-from", "External cache sources (e.g., \"user/app:cache\", "
                                                 "\"type=local,src=path/to/dir\")", "stringArray"),
                             S("f", "file", 'Name of the Dockerfile (default: "PATH/Dockerfile")'),
                             S("", "iidfile", "Write the image ID to the file"),
                             V("", "label", "Set metadata for an image", "stringArray"),
                             B("", "load", 'Shorthand for "--output=type=docker"'),
                             S("", "network", "Set the networking mode for the \"RUN\" instructions during build",
                               "default"),
                             B("", "no-cache", "Do not use cache when building the image"),
                             V("o", "output", 'Output destination (format: "type=local,dest=path")',
                               "stringArray"),
                             V("", "platform", "Set target platform for build", "stringArray"),
                             S("", "progress", 'Set type of progress output ("auto", "plain", "tty"). Use plain '
                                               'to show container output', "auto"),
                             B("", "pull", "Always attempt to pull all referenced images"),
                             B("", "push", 'Shorthand for "--output=type=registry"'),
                             B("q", "quiet", "Suppress the build output and print image ID on success"),
                             B("", "rm", "Remove intermediate containers after a successful build", True,
                               hidden=True),
                             B("", "force-rm", "Always remove intermediate containers", hidden=True),
                             V("t", "tag", 'Name and optionally a tag (format: "name:tag")', "stringArray"),
                             S("", "target", "Set the target build stage to build"),
                             Flag("memory", "m", "bytes", "Memory limit", hidden=True))),
        "history": dict(use="history [OPTIONS] IMAGE", short="Show the history of an image", args=("exact", 1),
                        handler="history", alias_line="docker image history, docker history",
                        flags=(B("H", "human", "Print sizes and dates in human readable format", True),
                               B("q", "quiet", "Only show image IDs"),
                               B("", "no-trunc", "Don't truncate output"),
                               _FORMAT)),
        "import": dict(use="import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
                       short="Import the contents from a tarball to create a filesystem image",
                       args=("range", 1, 2), handler="unsupported",
                       alias_line="docker image import, docker import",
                       flags=(V("c", "change", "Apply Dockerfile instruction to the created image"),
                              S("m", "message", "Set commit message for imported image"),
                              S("", "platform", "Set platform if server is multi-platform capable"))),
        "inspect": dict(use="inspect [OPTIONS] IMAGE [IMAGE...]",
                        short="Display detailed information on one or more images", args=("min", 1),
                        handler="image_inspect", flags=(_IFORMAT,)),
        "load": dict(use="load [OPTIONS]", short="Load an image from a tar archive or STDIN", args=("none",),
                     handler="load", alias_line="docker image load, docker load",
                     flags=(S("i", "input", "Read from tar archive file, instead of STDIN"),
                            B("q", "quiet", "Suppress the load output"))),
        "ls": dict(use="ls [OPTIONS] [REPOSITORY[:TAG]]", short="List images", args=("max", 1), handler="images",
                   aliases=("list",), top=7, alias_line="docker image ls, docker image list, docker images",
                   flags=(B("q", "quiet", "Only show image IDs"),
                          B("a", "all", "Show all images (default hides intermediate images)"),
                          B("", "no-trunc", "Don't truncate output"),
                          B("", "digests", "Show digests"),
                          _FORMAT,
                          V("f", "filter", "Filter output based on conditions provided", "filter"))),
        "prune": dict(use="prune [OPTIONS]", short="Remove unused images", args=("none",), handler="image_prune",
                      flags=(B("a", "all", "Remove all unused images, not just dangling ones"),
                             V("", "filter", 'Provide filter values (e.g. "until=<timestamp>")', "filter"),
                             B("f", "force", "Do not prompt for confirmation"))),
        "pull": dict(use="pull [OPTIONS] NAME[:TAG|@DIGEST]", short="Download an image from a registry",
                     args=("exact", 1), handler="pull", top=5, alias_line="docker image pull, docker pull",
                     flags=(B("a", "all-tags", "Download all tagged images in the repository"),
                            B("q", "quiet", "Suppress verbose output"),
                            S("", "platform", "Set platform if server is multi-platform capable"),
                            B("", "disable-content-trust", "Skip image verification", True))),
        "push": dict(use="push [OPTIONS] NAME[:TAG]", short="Upload an image to a registry", args=("exact", 1),
                     handler="push", top=6, alias_line="docker image push, docker push",
                     flags=(B("a", "all-tags", "Push all tags of an image to the repository"),
                            B("q", "quiet", "Suppress verbose output"),
                            B("", "disable-content-trust", "Skip image signing", True))),
        "rm": dict(use="rm [OPTIONS] IMAGE [IMAGE...]", short="Remove one or more images", args=("min", 1),
                   handler="rmi", aliases=("rmi", "remove"),
                   alias_line="docker image rm, docker image remove, docker rmi",
                   flags=(B("f", "force", "Force removal of the image"),
                          B("", "no-prune", "Do not delete untagged parents"))),
        "save": dict(use="save [OPTIONS] IMAGE [IMAGE...]",
                     short="Save one or more images to a tar archive (streamed to STDOUT by default)",
                     args=("min", 1), handler="save", alias_line="docker image save, docker save",
                     flags=(S("o", "output", "Write to a file, instead of STDOUT"),)),
        "tag": dict(use="tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
                    short="Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", args=("exact", 2),
                    handler="tag", alias_line="docker image tag, docker tag"),
    }
    v: dict[str, dict] = {
        "create": dict(use="create [OPTIONS] [VOLUME]", short="Create a volume", args=("max", 1),
                       handler="volume_create",
                       flags=(S("d", "driver", "Specify volume driver name", "local"),
                              S("", "name", "Specify volume name", hidden=True),
                              V("o", "opt", "Set driver specific options", "map"),
                              V("", "label", "Set metadata for a volume", check="label"))),
        "inspect": dict(use="inspect [OPTIONS] VOLUME [VOLUME...]",
                        short="Display detailed information on one or more volumes", args=("min", 1),
                        handler="volume_inspect", flags=(_IFORMAT,)),
        "ls": dict(use="ls [OPTIONS]", short="List volumes", args=("none",), handler="volume_ls",
                   aliases=("list",),
                   flags=(B("q", "quiet", "Only display volume names"), _FORMAT,
                          V("f", "filter", 'Provide filter values (e.g. "dangling=true")', "filter"))),
        "prune": dict(use="prune [OPTIONS]", short="Remove unused local volumes", args=("none",),
                      handler="volume_prune",
                      flags=(B("a", "all", "Remove all unused volumes, not just anonymous ones"),
                             V("", "filter", 'Provide filter values (e.g. "label=<label>")', "filter"),
                             B("f", "force", "Do not prompt for confirmation"))),
        "rm": dict(use="rm [OPTIONS] VOLUME [VOLUME...]", short="Remove one or more volumes", args=("min", 1),
                   handler="volume_rm", aliases=("remove",),
                   flags=(B("f", "force", "Force the removal of one or more volumes"),)),
    }
    n: dict[str, dict] = {
        "connect": dict(use="connect [OPTIONS] NETWORK CONTAINER", short="Connect a container to a network",
                        args=("exact", 2), handler="network_connect",
                        flags=(S("", "ip", 'IPv4 address (e.g., "172.30.100.104")'),
                               S("", "ip6", 'IPv6 address (e.g., "2001:db8::33")'),
                               V("", "link", "Add link to another container"),
                               V("", "alias", "Add network-scoped alias for the container", "strings"),
                               V("", "link-local-ip", "Add a link-local address for the container", "strings"),
                               V("", "driver-opt", "driver options for the network", "strings"))),
        "create": dict(use="create [OPTIONS] NETWORK", short="Create a network", args=("exact", 1),
                       handler="network_create",
                       flags=(S("d", "driver", "Driver to manage the Network", "bridge"),
                              V("o", "opt", "Set driver specific options", "map"),
                              V("", "label", "Set metadata on a network", check="label"),
                              B("", "internal", "Restrict external access to the network"),
                              B("", "ipv6", "Enable IPv6 networking"),
                              B("", "attachable", "Enable manual container attachment"),
                              B("", "ingress", "Create swarm routing-mesh network"),
                              S("", "scope", "Control the network's scope"),
                              B("", "config-only", "Create a configuration only network"),
                              S("", "config-from", "The network from which to copy the configuration"),
                              S("", "ipam-driver", "IP Address Management Driver", "default"),
                              V("", "subnet", "Subnet in CIDR format that represents a network segment",
                                "strings"),
                              V("", "ip-range", "Allocate container ip from a sub-range", "strings"),
                              V("", "gateway", "IPv4 or IPv6 Gateway for the master subnet", "strings"),
                              V("", "aux-address", "Auxiliary IPv4 or IPv6 addresses used by Network driver",
                                "map"),
                              V("", "ipam-opt", "Set IPAM driver specific options", "map"))),
        "disconnect": dict(use="disconnect [OPTIONS] NETWORK CONTAINER",
                           short="Disconnect a container from a network", args=("exact", 2),
                           handler="network_disconnect",
                           flags=(B("f", "force", "Force the container to disconnect from a network"),)),
        "inspect": dict(use="inspect [OPTIONS] NETWORK [NETWORK...]",
                        short="Display detailed information on one or more networks", args=("min", 1),
                        handler="network_inspect",
                        flags=(_IFORMAT, B("v", "verbose", "Verbose output for diagnostics"))),
        "ls": dict(use="ls [OPTIONS]", short="List networks", args=("none",), handler="network_ls",
                   aliases=("list",),
                   flags=(B("q", "quiet", "Only display network IDs"),
                          B("", "no-trunc", "Do not truncate the output"), _FORMAT,
                          V("f", "filter", 'Provide filter values (e.g. "driver=bridge")', "filter"))),
        "prune": dict(use="prune [OPTIONS]", short="Remove all unused networks", args=("none",),
                      handler="network_prune",
                      flags=(B("f", "force", "Do not prompt for confirmation"),
                             V("", "filter", 'Provide filter values (e.g. "until=<timestamp>")', "filter"))),
        "rm": dict(use="rm NETWORK [NETWORK...]", short="Remove one or more networks", args=("min", 1),
                   handler="network_rm", aliases=("remove",),
                   flags=(B("f", "force", "Do not error if the network does not exist"),)),
    }
    s: dict[str, dict] = {
        "df": dict(use="df [OPTIONS]", short="Show docker disk usage", args=("none",), handler="df",
                   flags=(B("v", "verbose", "Show detailed information on space usage"), _FORMAT)),
        "events": dict(use="events [OPTIONS]", short="Get real time events from the server", args=("none",),
                       handler="unsupported", alias_line="docker system events, docker events",
                       flags=(S("", "since", "Show all events created since timestamp"),
                              S("", "until", "Stream events until this timestamp"),
                              V("f", "filter", "Filter output based on conditions provided", "filter"),
                              S("", "format", INSPECT_FORMAT_HELP))),
        "info": dict(use="info [OPTIONS]", short="Display system-wide information", args=("none",),
                     handler="info", top=12, alias_line="docker system info, docker info", flags=(_IFORMAT,)),
        "prune": dict(use="prune [OPTIONS]", short="Remove unused data", args=("none",), handler="system_prune",
                      flags=(B("a", "all", "Remove all unused images not just dangling ones"),
                             V("", "filter", 'Provide filter values (e.g. "label=<key>=<value>")', "filter"),
                             B("f", "force", "Do not prompt for confirmation"),
                             B("", "volumes", "Prune anonymous volumes"))),
    }
    top: dict[str, dict] = {
        "inspect": dict(use="inspect [OPTIONS] NAME|ID [NAME|ID...]",
                        short="Return low-level information on Docker objects", args=("min", 1), handler="inspect",
                        flags=(_IFORMAT, S("", "type", "Return JSON for specified type"),
                               B("s", "size", "Display total file sizes if the type is container"))),
        "login": dict(use="login [OPTIONS] [SERVER]", short="Log in to a registry",
                      long="Log in to a registry.\nIf no server is specified, the default is defined by the daemon.",
                      args=("max", 1), handler="login", top=8,
                      flags=(S("u", "username", "Username"), S("p", "password", "Password"),
                             B("", "password-stdin", "Take the password from stdin"))),
        "logout": dict(use="logout [SERVER]", short="Log out from a registry",
                       long="Log out from a registry.\nIf no server is specified, the default is defined by the "
                            "daemon.",
                       args=("max", 1), handler="logout", top=9),
        "search": dict(use="search [OPTIONS] TERM", short="Search Docker Hub for images", args=("exact", 1),
                       handler="search", top=10,
                       flags=(V("f", "filter", "Filter output based on conditions provided", "filter"),
                              _FORMAT, N("", "limit", "Max number of search results"),
                              B("", "no-trunc", "Don't truncate output"))),
        "version": dict(use="version [OPTIONS]", short="Show the Docker version information", args=("none",),
                        handler="version", top=10, flags=(_IFORMAT,)),
    }
    return {"container": c, "image": i, "volume": v, "network": n, "system": s, "": top}


_MANAGEMENT = {
    "container": ("container", "Manage containers"),
    "image": ("image", "Manage images"),
    "network": ("network", "Manage networks"),
    "system": ("system", "Manage Docker"),
    "volume": ("volume COMMAND", "Manage volumes"),
}

#: Top-level (legacy) names -> (group, subcommand, Use override).
_LEGACY = {
    "attach": ("container", "attach", None), "commit": ("container", "commit", None),
    "cp": ("container", "cp", None), "create": ("container", "create", None),
    "diff": ("container", "diff", None), "exec": ("container", "exec", None),
    "export": ("container", "export", None), "kill": ("container", "kill", None),
    "logs": ("container", "logs", None), "pause": ("container", "pause", None),
    "port": ("container", "port", None), "ps": ("container", "ls", "ps [OPTIONS]"),
    "rename": ("container", "rename", None), "restart": ("container", "restart", None),
    "rm": ("container", "rm", None), "run": ("container", "run", None),
    "start": ("container", "start", None), "stats": ("container", "stats", None),
    "stop": ("container", "stop", None), "top": ("container", "top", None),
    "unpause": ("container", "unpause", None), "wait": ("container", "wait", None),
    "build": ("image", "build", None), "history": ("image", "history", None),
    "images": ("image", "ls", "images [OPTIONS] [REPOSITORY[:TAG]]"), "import": ("image", "import", None),
    "load": ("image", "load", None), "pull": ("image", "pull", None), "push": ("image", "push", None),
    "rmi": ("image", "rm", "rmi [OPTIONS] IMAGE [IMAGE...]"), "save": ("image", "save", None),
    "tag": ("image", "tag", None), "events": ("system", "events", None), "info": ("system", "info", None),
}

_GLOBAL_FLAGS = (
    S("", "config", "Location of client config files", "/home/student/.docker"),
    S("c", "context", 'Name of the context to use to connect to the daemon (overrides DOCKER_HOST env var and '
                      'default context set with "docker context use")'),
    B("D", "debug", "Enable debug mode"),
    V("H", "host", "Daemon socket to connect to"),
    S("l", "log-level", 'Set the logging level ("debug", "info", "warn", "error", "fatal")', "info"),
    B("", "tls", "Use TLS; implied by --tlsverify"),
    S("", "tlscacert", "Trust certs signed only by this CA", "/home/student/.docker/ca.pem"),
    S("", "tlscert", "Path to TLS certificate file", "/home/student/.docker/cert.pem"),
    S("", "tlskey", "Path to TLS key file", "/home/student/.docker/key.pem"),
    B("", "tlsverify", "Use TLS and verify the remote"),
    B("v", "version", "Print version information and quit"),
)

_TREE: Command | None = None


def command_tree() -> Command:
    """The root ``docker`` command with every subcommand (built once)."""
    global _TREE
    if _TREE is not None:
        return _TREE
    root = Command("docker", "docker [OPTIONS] COMMAND [ARG...]", "A self-sufficient runtime for containers",
                   flags=_GLOBAL_FLAGS)
    specs = _specs()
    for group, (use, short) in _MANAGEMENT.items():
        mgmt = Command(group, use, short, args=("none",), parent=root)
        root.children[group] = mgmt
        for name, spec in specs[group].items():
            spec = dict(spec)
            spec.pop("top", None)
            mgmt.children[name] = Command(name, parent=mgmt, **spec)
    for legacy, (group, sub, use) in _LEGACY.items():
        spec = dict(specs[group][sub])
        if use is not None:
            spec["use"] = use
        spec["aliases"] = tuple(a for a in spec.get("aliases", ()) if a not in ("ps", "list", "rmi", "remove")) \
            if legacy in ("ps", "images", "rmi") else spec.get("aliases", ())
        root.children[legacy] = Command(legacy, parent=root, **spec)
    for name, spec in specs[""].items():
        root.children[name] = Command(name, parent=root, **spec)
    _TREE = root
    return root


# ---------------------------------------------------------------------------
# help (docker's cobra usage template)
# ---------------------------------------------------------------------------
def _alias_text(cmd: Command) -> str:
    if cmd.alias_line:
        return cmd.alias_line
    parent = cmd.parent.path + " " if cmd.parent is not None else ""
    return ", ".join([cmd.path] + [parent + a for a in cmd.aliases])


def usage_text(cmd: Command) -> str:
    """cobra's ``UsageString()`` with docker's template (no leading blank line)."""
    out = ["Usage:"]
    visible = cmd.visible_flags()
    if not cmd.children:
        out.append("  " + cmd.use_line)
    else:
        out.append("  " + cmd.path + (" [OPTIONS]" if visible else "") + " COMMAND")
    out.append("\n\n" + (cmd.long or cmd.short).strip())
    if cmd.aliases or cmd.alias_line:
        out.append("\n\nAliases:\n  " + _alias_text(cmd))
    if cmd.parent is not None and visible:
        out.append("\n\nOptions:\n" + fmt.flag_usages([f.help_line() for f in visible]).rstrip())
    if cmd.parent is None:
        tops = sorted((c for c in cmd.children.values() if c.top), key=lambda c: (c.top, c.name))
        out.append("\n\nCommon Commands:")
        out += [f"\n  {c.name:<11} {c.short}" for c in tops]
        out.append("\n\nManagement Commands:")
        out += [f"\n  {c.name:<11} {c.short}" for c in sorted(cmd.children.values(), key=lambda c: c.name)
                if c.children]
        out.append("\n\nCommands:")
        out += [f"\n  {c.name:<11} {c.short}" for c in sorted(cmd.children.values(), key=lambda c: c.name)
                if not c.children and not c.top]
        out.append("\n\nGlobal Options:\n" + fmt.flag_usages([f.help_line() for f in visible]).rstrip())
    elif cmd.children:
        out.append("\n\nCommands:")
        out += [f"\n  {c.name:<11} {c.short}" for c in sorted(cmd.children.values(), key=lambda c: c.name)]
    if cmd.children:
        out.append(f"\n\nRun '{cmd.path} COMMAND --help' for more information on a command.")
    if cmd.parent is None:
        out.append("\n\nFor more help on how to use Docker, head to https://docs.docker.com/go/guides/")
    return "".join(out) + "\n"


def help_text(cmd: Command) -> str:
    """What ``docker ... --help`` prints (a blank line, then the usage)."""
    return "\n" + usage_text(cmd)


def _args_error(cmd: Command, n: int) -> str | None:
    rule = cmd.args
    kind = rule[0]

    def plural(k: int) -> str:
        return "argument" if k == 1 else "arguments"

    tail = f".\nSee '{cmd.path} --help'.\n\nUsage:  {cmd.use_line}\n\n{cmd.short}"
    if kind == "none" and n:
        if cmd.children:
            return "\n" + usage_text(cmd).rstrip("\n")
        return f'"{cmd.path}" accepts no arguments{tail}'
    if kind == "min" and n < rule[1]:
        return f'"{cmd.path}" requires at least {rule[1]} {plural(rule[1])}{tail}'
    if kind == "max" and n > rule[1]:
        return f'"{cmd.path}" requires at most {rule[1]} {plural(rule[1])}{tail}'
    if kind == "exact" and n != rule[1]:
        return f'"{cmd.path}" requires exactly {rule[1]} {plural(rule[1])}{tail}'
    if kind == "range" and not rule[1] <= n <= rule[2]:
        return f'"{cmd.path}" requires at least {rule[1]} and at most {rule[2]} {plural(rule[2])}{tail}'
    return None


# ---------------------------------------------------------------------------
# resolving a command line
# ---------------------------------------------------------------------------
@dataclass
class Invocation:
    """A parsed ``docker`` command line.

    ``action`` is ``run`` (call the handler), ``help`` (print ``text`` to
    ``stream``, exit 0) or ``version`` (``docker -v``).
    """

    command: Command
    values: dict[str, Any] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)
    global_values: dict[str, Any] = field(default_factory=dict)
    action: str = "run"
    text: str = ""
    stream: str = "stdout"
    dash_at: int = -1


def _flag_error(cmd: Command, message: str) -> UsageError:
    usage = ("\n\n" + usage_text(cmd)) if cmd.children else ""
    return UsageError(f"{message}\nSee '{cmd.path} --help'.{usage}", exit_code=125)


def parse_command_line(argv: Sequence[str], env: dict[str, str] | None = None) -> Invocation:
    """Resolve ``docker`` arguments (without ``docker`` itself) to a command, flags and arguments.

    Raises:
        UsageError: the command line is wrong; ``message`` is what docker
            prints to stderr and ``exit_code`` its exit status (1 or 125).

    >>> parse_command_line(["rm", "-fv", "web", "db"]).values["force"]
    True
    >>> try:
    ...     parse_command_line(["rm"])
    ... except UsageError as e:
    ...     print(e.exit_code); print(e)
    1
    "docker rm" requires at least 1 argument.
    See 'docker rm --help'.
    <BLANKLINE>
    Usage:  docker rm [OPTIONS] CONTAINER [CONTAINER...]
    <BLANKLINE>
    Remove one or more containers
    """
    root = command_tree()
    try:
        gp = parse_flags(root.flags, argv, interspersed=False, env=env)
    except FlagError as e:
        raise _flag_error(root, e.message) from None
    if gp.values.get("help"):
        return Invocation(root, action="help", text=help_text(root))
    if gp.values.get("version"):
        return Invocation(root, action="version", global_values=gp.values)
    rest = gp.args
    if not rest:
        return Invocation(root, action="help", text=help_text(root), stream="stderr")
    name = rest[0]
    if name == "help":
        target = root
        topic = rest[1:]
        for i, word in enumerate(topic):
            nxt = target.find(word) if not word.startswith("-") else None
            if nxt is None:
                raise UsageError(f"unknown help topic: {' '.join(topic[i:])}", exit_code=1)
            target = nxt
        return Invocation(target, action="help", text=help_text(target))
    cmd = root.find(name)
    if cmd is None:
        raise UsageError(f"docker: '{name}' is not a docker command.\nSee 'docker --help'", exit_code=1)
    rest = rest[1:]
    while cmd.children:
        if rest and not rest[0].startswith("-"):
            sub = cmd.find(rest[0])
            if sub is None:
                raise UsageError(_args_error(cmd, len(rest)) or "", exit_code=1)
            cmd, rest = sub, rest[1:]
            continue
        if not rest:
            return Invocation(cmd, action="help", text=help_text(cmd), stream="stderr")
        try:
            mp = parse_flags(cmd.flags, rest, interspersed=False, env=env)
        except FlagError as e:
            raise _flag_error(cmd, e.message) from None
        if mp.values.get("help"):
            return Invocation(cmd, action="help", text=help_text(cmd))
        if not mp.args:
            return Invocation(cmd, action="help", text=help_text(cmd), stream="stderr")
        if mp.args == rest:  # a lone "-" is neither a flag nor a subcommand
            raise UsageError(_args_error(cmd, len(rest)) or
                             f"docker: '{cmd.name} {rest[0]}' is not a docker command.\nSee 'docker --help'",
                             exit_code=1)
        rest = mp.args
    try:
        parsed = parse_flags(cmd.flags, rest, interspersed=cmd.interspersed, env=env)
    except FlagError as e:
        raise _flag_error(cmd, e.message) from None
    if parsed.values.get("help"):
        return Invocation(cmd, action="help", text=help_text(cmd))
    problem = _args_error(cmd, len(parsed.args))
    if problem is not None:
        raise UsageError(problem, exit_code=1)
    return Invocation(cmd, parsed.values, parsed.args, parsed.changed, gp.values, dash_at=parsed.dash_at)


# ---------------------------------------------------------------------------
# template contexts (docker's formatter.*Context)
# ---------------------------------------------------------------------------
def _since(world: Any, t: float | None) -> float:
    return max(0.0, world.now - (t or 0.0))


def _created_seconds(world: Any, rfc3339: str) -> float | None:
    """Simulated seconds of an RFC 3339 time (None when empty)."""
    import datetime as _dt

    if not rfc3339:
        return None
    text = rfc3339.strip().replace("Z", "+00:00")
    m = re.match(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(.*)$", text)
    if not m:
        return None
    try:
        moment = _dt.datetime.fromisoformat(m.group(1) + (m.group(3) or "+00:00"))
    except ValueError:
        return None
    frac = float(m.group(2)) if m.group(2) else 0.0
    return (moment - world.datetime(0)).total_seconds() + frac


def image_inspect(engine: Any, img: Any) -> dict:
    """What ``docker image inspect`` prints for ``img`` (and the Engine API's ``GET /images/{name}/json``)."""
    store = engine.store
    cfg = img.config_dict()
    config = cfg.get("config") or {}
    empty = {"Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
             "AttachStderr": False, "Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": None,
             "Cmd": None, "Image": "", "Volumes": None, "WorkingDir": "", "Entrypoint": None, "OnBuild": None,
             "Labels": None}
    shown = dict(empty)
    shown.update({"User": config.get("User", ""), "ExposedPorts": config.get("ExposedPorts"),
                  "Env": config.get("Env"), "Cmd": config.get("Cmd"), "Volumes": config.get("Volumes"),
                  "WorkingDir": config.get("WorkingDir", ""), "Entrypoint": config.get("Entrypoint"),
                  "OnBuild": config.get("OnBuild"), "Labels": config.get("Labels")})
    if config.get("StopSignal"):
        shown["StopSignal"] = config["StopSignal"]
    return {
        "Id": img.id, "RepoTags": store.repo_tags(img.id), "RepoDigests": store.repo_digests(img.id),
        "Parent": "", "Comment": "", "Created": img.created or "0001-01-01T00:00:00Z", "Container": "",
        "ContainerConfig": empty, "DockerVersion": "", "Author": cfg.get("author", ""), "Config": shown,
        "Architecture": cfg.get("architecture", "amd64"), "Os": cfg.get("os", "linux"), "Size": img.size,
        "VirtualSize": img.size, "GraphDriver": {"Data": None, "Name": "overlay2"},
        "RootFS": {"Type": "layers", "Layers": list(img.diff_ids)},
        "Metadata": {"LastTagTime": "0001-01-01T00:00:00Z"},
    }


def container_status(world: Any, c: Any) -> str:
    """The STATUS column: ``Up 3 minutes``, ``Exited (0) 5 seconds ago``, ``Created`` ... (daemon's State.String)."""
    status = c.status
    if status in ("running", "paused"):
        up = fmt.human_duration(_since(world, c.started_at))
        return f"Up {up} (Paused)" if status == "paused" else f"Up {up}"
    if status == "restarting":
        return f"Restarting ({c.exit_code}) {fmt.human_duration(_since(world, c.finished_at))} ago"
    if status == "removing":
        return "Removal In Progress"
    if status == "dead":
        return "Dead"
    if c.started_at is None:
        return "Created"
    if c.finished_at is None:
        return ""
    return f"Exited ({c.exit_code}) {fmt.human_duration(_since(world, c.finished_at))} ago"


def _port_rows(attrs: dict, running: bool) -> list[dict]:
    """API ``Port`` rows of a container (empty when it is not running, like dockerd)."""
    if not running:
        return []
    rows = []
    for key, bindings in ((attrs.get("NetworkSettings") or {}).get("Ports") or {}).items():
        port, _, proto = key.partition("/")
        if not bindings:
            rows.append({"PrivatePort": int(port), "Type": proto or "tcp"})
            continue
        for b in _with_ipv6(bindings):
            rows.append({"IP": b.get("HostIp") or "", "PrivatePort": int(port),
                         "PublicPort": int(b.get("HostPort") or 0), "Type": proto or "tcp"})
    return rows


def _with_ipv6(bindings: list[dict]) -> list[dict]:
    """dockerd publishes a port on ``0.0.0.0`` *and* ``::``: add the IPv6 twin when the engine lists only IPv4."""
    out = list(bindings)
    for b in bindings:
        if (b.get("HostIp") or "0.0.0.0") == "0.0.0.0":
            twin = {"HostIp": "::", "HostPort": b.get("HostPort")}
            if not any(o.get("HostIp") == "::" and o.get("HostPort") == twin["HostPort"] for o in out):
                out.append(twin)
    return out


class ContainerContext(fmt.FormatContext):
    """One row of ``docker ps`` for ``--format`` (``.ID .Image .Command .RunningFor .Status .Ports .Names`` ...)."""

    go_type = "*formatter.ContainerContext"
    fields = ("ID", "Names", "Image", "Command", "CreatedAt", "RunningFor", "Ports", "State", "Status", "Size",
              "Labels", "Label", "Mounts", "LocalVolumes", "Networks")
    headers = {"ID": "CONTAINER ID", "Names": "NAMES", "Image": "IMAGE", "Command": "COMMAND",
               "CreatedAt": "CREATED AT", "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE",
               "Status": "STATUS", "Size": "SIZE", "Labels": "LABELS", "Mounts": "MOUNTS",
               "LocalVolumes": "LOCAL VOLUMES", "Networks": "NETWORKS"}

    def __init__(self, cli: "DockerCLI", c: Any, trunc: bool = True):
        self.cli = cli
        self.c = c
        self.trunc = trunc
        self._attrs: dict | None = None

    @property
    def attrs(self) -> dict:
        if self._attrs is None:
            self._attrs = self.c.attrs
        return self._attrs

    @property
    def ID(self) -> str:
        return self.c.id[:12] if self.trunc else self.c.id

    @property
    def Names(self) -> str:
        return self.c.name

    @property
    def Image(self) -> str:
        c = self.c
        shown = c.image_ref
        store = self.cli.engine.store
        try:
            if store.resolve(shown) != c.image_id:
                shown = c.image_id
        except AivleError:
            shown = c.image_id
        if not self.trunc:
            return shown
        if shown == c.image_id or shown.startswith("sha256:"):
            return fmt.truncate_id(shown)
        try:
            from ..images.reference import parse_reference

            ref = parse_reference(shown)
            if ref.digest is None and ":" in shown.rsplit("/", 1)[-1]:
                return ref.familiar_string
            return ref.familiar if ref.digest is None else shown
        except AivleError:
            return shown

    @property
    def Command(self) -> str:
        cmd = self.c.command
        text = cmd[0] + (" " + " ".join(cmd[1:]) if len(cmd) > 1 else "") if cmd else ""
        if self.trunc:
            text = fmt.ellipsis(text, 20)
        return fmt.go_quote(text)

    @property
    def CreatedAt(self) -> str:
        return fmt.go_time(self.cli.world.datetime(int(self.c.created)))

    @property
    def RunningFor(self) -> str:
        return fmt.human_duration(self.cli.world.now - int(self.c.created)) + " ago"

    @property
    def Ports(self) -> str:
        return fmt.display_ports(_port_rows(self.attrs, self.c.status in ("running", "paused")))

    @property
    def State(self) -> str:
        return self.c.status

    @property
    def Status(self) -> str:
        return container_status(self.cli.world, self.c)

    @property
    def Size(self) -> str:
        rw = sum(e.size for e in self.c.fs.upper.values() if e.is_file)
        try:
            virtual = self.c.image.size + rw
        except AivleError:
            virtual = rw
        srw = fmt.human_size(rw)
        return f"{srw} (virtual {fmt.human_size(virtual)})" if virtual > 0 else srw

    @property
    def Labels(self) -> str:
        labels = self.c.labels or {}
        return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))

    def Label(self, name: str) -> str:
        return (self.c.labels or {}).get(name, "")

    @property
    def Mounts(self) -> str:
        out = []
        for m in self.attrs.get("Mounts") or []:
            name = m.get("Name") or m.get("Source") or ""
            out.append(fmt.ellipsis(name, 15) if self.trunc else name)
        return ",".join(out)

    @property
    def LocalVolumes(self) -> str:
        return str(sum(1 for m in self.attrs.get("Mounts") or [] if m.get("Driver") == "local"))

    @property
    def Networks(self) -> str:
        return ",".join(sorted((self.attrs.get("NetworkSettings") or {}).get("Networks") or {}))


class ImageContext(fmt.FormatContext):
    """One row of ``docker images`` (``.Repository .Tag .ID .CreatedSince .Size .Digest`` ...)."""

    go_type = "*formatter.imageContext"
    fields = ("ID", "Repository", "Tag", "Digest", "CreatedSince", "CreatedAt", "Size", "Containers",
              "VirtualSize", "SharedSize", "UniqueSize")
    headers = {"ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST",
               "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE", "Containers": "CONTAINERS",
               "VirtualSize": "SIZE", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE"}

    def __init__(self, cli: "DockerCLI", row: Any, trunc: bool = True, digest: str | None = None):
        self.cli = cli
        self.row = row
        self.trunc = trunc
        self.digest = row.digest if digest is None else digest

    @property
    def ID(self) -> str:
        return fmt.truncate_id(self.row.id) if self.trunc else self.row.id

    @property
    def Repository(self) -> str:
        return self.row.repository

    @property
    def Tag(self) -> str:
        return self.row.tag

    @property
    def Digest(self) -> str:
        return self.digest

    def _created(self) -> float | None:
        return _created_seconds(self.cli.world, self.row.created)

    @property
    def CreatedSince(self) -> str:
        t = self._created()
        if t is None:
            return ""
        return fmt.human_duration(self.cli.world.now - int(t)) + " ago"

    @property
    def CreatedAt(self) -> str:
        t = self._created()
        return fmt.go_time(self.cli.world.datetime(int(t or 0)))

    @property
    def Size(self) -> str:
        return fmt.human_size(self.row.size)

    @property
    def Containers(self) -> str:
        return "N/A"

    @property
    def VirtualSize(self) -> str:
        return fmt.human_size(self.row.size, 4)

    @property
    def SharedSize(self) -> str:
        return "N/A"

    @property
    def UniqueSize(self) -> str:
        return "N/A"


class _SimpleContext(fmt.FormatContext):
    """A row given as a dict of field -> value (volumes, networks, history, stats, df)."""

    def __init__(self, values: dict[str, Any], go_type: str, headers: dict[str, str]):
        self._values = values
        self.go_type = go_type
        self.headers = headers
        self.fields = tuple(values)

    def template_field(self, name: str) -> Any:
        if name in self._values:
            return self._values[name]
        raise AttributeError(name)

    def to_json(self) -> dict:
        return {k: v for k, v in sorted(self._values.items()) if not callable(v)}


# ---------------------------------------------------------------------------
# small parsers of the CLI (nat.ParsePortSpec, ReadKVEnvStrings ...)
# ---------------------------------------------------------------------------
class _Problem(Exception):
    """A client-side error with docker's message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _port_range(text: str) -> tuple[int, int]:
    if text == "":
        raise ValueError("empty string specified for ports")
    if "-" not in text:
        v = _go_int(text, 16, unsigned=True) if text.isdigit() else _go_int(text, 16, unsigned=True)
        return v, v
    a, _, b = text.partition("-")
    start, end = _go_int(a, 16, unsigned=True), _go_int(b, 16, unsigned=True)
    if end < start:
        raise ValueError(f"invalid range specified for port: {text}")
    return start, end


def parse_publish(specs: Iterable[str]) -> dict[str, list]:
    """``-p`` values -> the engine's ``ports`` (``{"80/tcp": [("0.0.0.0", 8080)]}``), like nat.ParsePortSpecs.

    >>> parse_publish(["8080:80", "127.0.0.1::443", "53/udp"])
    {'80/tcp': [('', 8080)], '443/tcp': [('127.0.0.1', None)], '53/udp': [('', None)]}
    """
    import ipaddress

    out: dict[str, list] = {}
    for raw in specs:
        text = raw
        if "=" in text:  # long syntax: target=80,published=8080,protocol=tcp
            parts = dict(p.partition("=")[::2] for p in text.split(","))
            target = parts.get("target", "")
            published = parts.get("published", "")
            proto = parts.get("protocol", "tcp")
            text = (f"{published}:" if published else "") + f"{target}/{proto}"
        parts = text.split(":")
        container = parts[-1]
        if len(parts) == 1:
            ip, host = "", ""
        elif len(parts) == 2:
            ip, host = "", parts[0]
        elif len(parts) == 3:
            ip, host = parts[0], parts[1]
        else:
            ip, host = ":".join(parts[:-2]), parts[-2]
        container, _, proto = container.partition("/")
        proto = proto or "tcp"
        if ip.startswith("["):
            ip = ip[1:].split("]", 1)[0]
        if ip:
            try:
                ipaddress.ip_address(ip)
            except ValueError:
                raise _Problem(f"Invalid ip address: {ip}") from None
        if container == "":
            raise _Problem(f"No port specified: {raw}<empty>")
        try:
            start, end = _port_range(container)
        except ValueError:
            raise _Problem(f"Invalid containerPort: {container}") from None
        hstart = hend = 0
        if host:
            try:
                hstart, hend = _port_range(host)
            except ValueError:
                raise _Problem(f"Invalid hostPort: {host}") from None
            if end - start != hend - hstart and end != start:
                raise _Problem(f"Invalid ranges specified for container and host Ports: {container} and {host}")
        if proto.lower() not in ("tcp", "udp", "sctp"):
            raise _Problem(f"Invalid proto: {proto}")
        for i in range(end - start + 1):
            key = f"{start + i}/{proto.lower()}"
            hp = (hstart + i) if host else None
            out.setdefault(key, []).append((ip, hp))
    return out


def _read_kv_file(fs: Any, cwd: str, path: str, env: dict[str, str] | None) -> list[str]:
    """docker's ``opts.ParseEnvFile``: ``KEY=value`` lines, ``#`` comments, ``KEY`` alone from the environment."""
    try:
        text = fs.read_text(join(cwd, path))
    except FsError:
        raise _Problem(f"open {path}: no such file or directory") from None
    lines = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        key, eq, value = line.partition("=")
        key = key.lstrip(" \t")
        if any(c in key for c in " \t"):
            raise _Problem(f"poorly formatted environment: variable '{key}' contains whitespaces")
        if not key:
            raise _Problem(f"poorly formatted environment: no variable name on line '{line}'")
        if eq:
            lines.append(f"{key}={value}")
        elif env is not None and key in env:
            lines.append(f"{key.strip()}={env[key]}")
    return lines


def _docker_words(e: AivleError) -> str:
    """The message the real tool prints for an error (our extra hints after ';' dropped for references)."""
    msg = e.message
    if isinstance(e, InvalidReference):
        if msg.startswith("invalid reference format: repository name (") and "; " in msg:
            return msg.split("; ", 1)[0]
        if msg.startswith("invalid reference format"):
            return "invalid reference format"
    return msg


def _valid_ref(text: str) -> Any:
    from ..images.reference import parse_reference

    return parse_reference(text)


def _natural_key(text: str) -> list:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)]


def _filters(values: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in values:
        k, _, v = item.partition("=")
        out.setdefault(k, []).append(v)
    return out


def _signal_ok(sig: str) -> bool:
    s = sig.upper().removeprefix("SIG")
    return s.isdigit() or s in _SIGNAL_NUMBERS


class _Exit(Exception):
    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


# ---------------------------------------------------------------------------
# the program
# ---------------------------------------------------------------------------
class DockerCLI:
    """One run of the ``docker`` program: parse, connect to the daemon, call it, print like docker."""

    def __init__(self, proc: Process):
        self.proc = proc
        self.machine = proc.kernel.owner
        self.world = getattr(self.machine, "world", None)
        self.inv: Invocation | None = None
        self._engine = None
        tty = getattr(proc.stdout, "isatty", False)
        #: stdout is the machine's terminal (Machine.sh), not a pipe or a file
        self.tty = bool(tty() if callable(tty) else tty)

    # -- output --------------------------------------------------------------------
    def out(self, text: str = "") -> None:
        self.proc.write(text)

    def err(self, text: str = "") -> None:
        self.proc.error(text)

    def outln(self, text: str = "") -> None:
        self.proc.write(text + "\n")

    def errln(self, text: str = "") -> None:
        self.proc.error(text + "\n")

    def client_version(self) -> dict:
        """The client's version fields, from the installed package (``docker.io`` 24.0.7-0ubuntu2~22.04.1)."""
        client = dict(CLIENT_VERSION)
        packages = getattr(self.machine, "packages", None) or {}
        distro = packages.get("docker.io")
        upstream = packages.get("docker-ce-cli") or packages.get("docker-ce")
        if distro:
            text = str(distro).split(":", 1)[-1]
            client["Version"] = text.split("-", 1)[0] or client["Version"]
            client["GitCommit"] = text
        elif upstream:
            text = str(upstream).split(":", 1)[-1]
            client["Version"] = text.split("-", 1)[0] or client["Version"]
            client["GitCommit"] = "afdd53b"
        return client

    # -- the daemon ----------------------------------------------------------------
    def _user_can_connect(self) -> bool:
        proc = self.proc
        if proc.uid == 0:
            return True
        fs = proc.fs
        user = None
        gid = None
        try:
            for line in fs.read_text("/etc/passwd").splitlines():
                parts = line.split(":")
                if len(parts) >= 4 and parts[2] == str(proc.uid):
                    user, gid = parts[0], parts[3]
                    break
        except FsError:
            pass
        user = user or proc.env.get("USER")
        try:
            for line in fs.read_text("/etc/group").splitlines():
                parts = line.split(":")
                if len(parts) >= 3 and parts[0] == "docker":
                    members = parts[3].split(",") if len(parts) > 3 and parts[3] else []
                    if user in members or (gid is not None and gid == parts[2]):
                        return True
        except FsError:
            pass
        return False

    @property
    def engine(self) -> Any:
        """The daemon this CLI talks to; raises _Problem with docker's connection errors."""
        if self._engine is not None:
            return self._engine
        engine = getattr(self.machine, "engine", None)
        if engine is None or not getattr(engine, "running", False):
            raise _Problem(ERR_DAEMON_DOWN)
        if not self._user_can_connect():
            raise _Problem(ERR_PERMISSION)
        self._engine = engine
        return engine

    def daemon_error(self, e: AivleError) -> str:
        """How the CLI shows an error the daemon returned."""
        msg = _docker_words(e)
        if msg.startswith("Cannot connect to the Docker daemon") or msg.startswith("permission denied while"):
            return msg
        if isinstance(e, (InvalidReference,)):
            return msg
        return f"Error response from daemon: {msg}"

    # -- main -----------------------------------------------------------------------
    def main(self) -> Generator[Any, Any, int]:
        proc = self.proc
        try:
            inv = parse_command_line(proc.argv[1:], env=proc.env)
        except UsageError as e:
            self.errln(e.message)
            return int(getattr(e, "exit_code", 1))
        self.inv = inv
        if inv.action == "help":
            (self.out if inv.stream == "stdout" else self.err)(inv.text)
            return 0
        if inv.action == "version":
            client = self.client_version()
            self.outln(f"Docker version {client['Version']}, build {client['GitCommit']}")
            return 0
        handler = getattr(self, "cmd_" + (inv.command.handler or "unsupported"))
        try:
            result = handler(inv)
            if isinstance(result, Generator):
                result = yield from result
            return int(result or 0)
        except _Exit as e:
            return e.code
        except _Problem as e:
            self.errln(e.message)
            return 1
        except UsageError as e:
            self.errln(e.message)
            return int(getattr(e, "exit_code", 1))
        except AivleError as e:
            self.errln(self.daemon_error(e))
            return 1

    def cmd_unsupported(self, inv: Invocation) -> int:
        self.errln(f"{inv.command.path}: this command is not available in the aivle_k8s simulation")
        return 1

    # -- helpers --------------------------------------------------------------------------
    def _container(self, key: str) -> Any:
        return self.engine.containers.get(key)

    def _each(self, names: Sequence[str], action: Callable[[Any, str], Any]) -> Generator[Any, Any, int]:
        """Apply ``action`` to each container, print its name, collect daemon errors (docker's parallelOperation)."""
        errors = []
        for name in names:
            try:
                result = action(self._container(name), name)
                if isinstance(result, Generator):
                    yield from result
            except _Problem as e:
                errors.append(e.message)
                continue
            except AivleError as e:
                errors.append(self.daemon_error(e))
                continue
            self.outln(name)
        if errors:
            self.errln("\n".join(errors))
            return 1
        return 0

    def _print_list(self, format_text: str, items: list, headers: dict[str, str]) -> int:
        try:
            self.out(fmt.format_list(format_text, items, headers))
        except fmt.TemplateError as e:
            self.errln(e.message)
            return 1
        return 0

    def _confirm(self, message: str) -> bool:
        self.out(message + " [y/N] ")
        answer = self.proc.stdin.decode(errors="replace").split("\n", 1)[0].strip()
        return answer.lower() == "y"

    def _write_logs(self, lines: Iterable[Any], timestamps: bool = False) -> None:
        from .containers import rfc3339_nano

        for ln in lines:
            data = ln.data
            if timestamps:
                data = rfc3339_nano(self.world, ln.time).encode() + b" " + data
            if ln.stream == "stderr":
                self.proc.stderr.write(data)
            else:
                self.proc.stdout.write(data)

    @staticmethod
    def _log_lines(c: Any) -> list:
        from .containers import LogLine

        lines = list(c.log_lines)
        for sink in getattr(c, "_sinks", []) or []:
            if getattr(sink, "partial", b""):
                lines.append(LogLine(sink.partial_time, sink.stream, sink.partial))
        return lines

    # ======================================================================================
    # containers
    # ======================================================================================
    def _pull_lines(self, report: Any, *, header: bool = True) -> list[str]:
        """The progress of a pull as docker leaves it on the screen.

        On a terminal the progress bars are redrawn in place, so what stays is
        one line per layer with its final status (``Pull complete`` or
        ``Already exists``); into a pipe or a file docker writes every status
        change (``Pulling fs layer``, ``Waiting``, ``Verifying Checksum``,
        ``Download complete``, ``Pull complete``).
        """
        ref = report.ref
        lines = []
        if header:
            head = ref.tag if ref.digest is None else ref.digest
            lines.append(f"{head}: Pulling from {ref.path}")
        if self.tty:
            lines += [f"{short}: {status}" for short, status in report.layers]
            lines += [f"Digest: {report.digest}", f"Status: {report.status}"]
            return lines
        new = [short for short, status in report.layers if status != "Already exists"]
        for short, status in report.layers:
            lines.append(f"{short}: {'Already exists' if status == 'Already exists' else 'Pulling fs layer'}")
        lines += [f"{short}: Waiting" for short in new[3:]]
        for short in new:
            lines += [f"{short}: Verifying Checksum", f"{short}: Download complete"]
        lines += [f"{short}: Pull complete" for short in new]
        lines += [f"Digest: {report.digest}", f"Status: {report.status}"]
        return lines

    def _container_options(self, inv: Invocation) -> dict:
        """The engine's create() keyword arguments from run/create flags (docker's parse(); raises _Problem)."""
        v = inv.values
        proc = self.proc
        kwargs: dict[str, Any] = {}
        if v["name"]:
            kwargs["name"] = v["name"]
        ports = parse_publish(v["publish"])
        for e in v["expose"]:
            if ":" in e:
                raise _Problem(f"invalid port format for --expose: {e}")
        if ports:
            kwargs["ports"] = ports
        if v["publish-all"]:
            kwargs["publish_all_ports"] = True
        volumes = []
        for spec in v["volume"]:
            src, sep, rest = spec.partition(":")
            if sep and (src == "." or src.startswith("./") or src.startswith("../") or src == ".."):
                src = join(proc.cwd, src)
                spec = f"{src}:{rest}"
            volumes.append(spec)
        for spec in v["mount"]:
            opts = {}
            for part in spec.split(","):
                key, eq, val = part.partition("=")
                opts[key.strip().lower()] = val if eq else "true"
            kind = opts.get("type", "volume")
            source = opts.get("source", opts.get("src", ""))
            target = opts.get("target", opts.get("destination", opts.get("dst", "")))
            if not target:
                raise _Problem(f'invalid argument "{spec}" for "--mount" flag: target is required')
            ro = opts.get("readonly", opts.get("ro", "false")).lower() in ("true", "1", "")
            if kind == "bind":
                if not source:
                    raise _Problem(f'invalid argument "{spec}" for "--mount" flag: source is required when '
                                   f'specifying volume-subpath')
                source = join(proc.cwd, source)
                if not proc.fs.exists(source):
                    raise _Problem(f"Error response from daemon: invalid mount config for type \"bind\": "
                                   f"bind source path does not exist: {source}")
            elif kind not in ("volume", "tmpfs"):
                raise _Problem(f'invalid argument "{spec}" for "--mount" flag: invalid type: {kind}')
            volumes.append(f"{source}:{target}:ro" if source and ro else (f"{source}:{target}" if source else target))
        if volumes:
            kwargs["volumes"] = volumes
        env: list[str] = []
        for path in v["env-file"]:
            env += _read_kv_file(proc.fs, proc.cwd, path, proc.env)
        env += list(v["env"])
        if env:
            kwargs["environment"] = env
        labels: dict[str, str] = {}
        for path in v["label-file"]:
            for item in _read_kv_file(proc.fs, proc.cwd, path, None):
                k, _, val = item.partition("=")
                labels[k] = val
        for item in v["label"]:
            k, _, val = item.partition("=")
            labels[k] = val
        if labels:
            kwargs["labels"] = labels
        if "entrypoint" in inv.changed:
            kwargs["entrypoint"] = [v["entrypoint"]] if v["entrypoint"] else []
        if v["workdir"]:
            kwargs["working_dir"] = v["workdir"]
        if v["user"]:
            kwargs["user"] = v["user"]
        if v["hostname"]:
            kwargs["hostname"] = v["hostname"]
        restart = v["restart"]
        if restart and restart != "no":
            name, colon, count = restart.partition(":")
            if colon and name == "":
                raise _Problem("invalid restart policy format: no policy provided before colon")
            if count and not re.fullmatch(r"[+-]?\d+", count):
                raise _Problem("invalid restart policy format: maximum retry count must be an integer")
            if v["rm"]:
                raise _Problem("Conflicting options: --restart and --rm")
            kwargs["restart_policy"] = {"Name": name, "MaximumRetryCount": int(count or 0)}
        if v["memory"]:
            kwargs["mem_limit"] = v["memory"]
        if v["cpus"]:
            kwargs["nano_cpus"] = v["cpus"]
        if v["rm"]:
            kwargs["auto_remove"] = True
        network = v["network"] or v["net"]
        if network:
            kwargs["network"] = network
            if network == "host" and (ports or v["publish-all"]):
                self.errln("WARNING: Published ports are discarded when using host network mode")
        aliases = list(v["network-alias"]) + list(v["net-alias"])
        if aliases:
            kwargs["network_aliases"] = aliases
        if v["interactive"]:
            kwargs["stdin_open"] = True
            kwargs["stdin"] = proc.stdin
        if v["tty"]:
            kwargs["tty"] = True
        if v["stop-signal"]:
            kwargs["stop_signal"] = v["stop-signal"]
        if "stop-timeout" in inv.changed:
            kwargs["stop_timeout"] = v["stop-timeout"]
        if v["init"]:
            kwargs["init"] = True
        if v["read-only"]:
            kwargs["read_only"] = True
        pull = v["pull"]
        if pull not in ("always", "missing", "never"):
            raise _Problem(f"invalid pull option: '{pull}': must be one of \"always\", \"missing\" or \"never\"")
        kwargs["pull"] = pull
        return kwargs

    def _on_pull(self, quiet: bool) -> Callable[[Any], None]:
        def hook(report: Any) -> None:
            if report is None:
                image = self._pending_image
                try:
                    ref = _valid_ref(image)
                    shown = ref.familiar_string
                except AivleError:
                    shown = image
                self.errln(f"Unable to find image '{shown}' locally")
                return
            if not quiet:
                self.err("".join(line + "\n" for line in self._pull_lines(report)))
        return hook

    def _run_error(self, message: str, *, with_help: bool, command: str = "run") -> None:
        text = message.rstrip(".") + "."
        if with_help:
            text += f"\nSee 'docker {command} --help'."
        self.errln(f"docker: {text}")

    @staticmethod
    def _start_status(message: str) -> int:
        """docker's runStartContainerErr: 127 not found, 126 permission denied, else 125."""
        trimmed = message.removeprefix("Error response from daemon: ")
        if "executable file not found" in trimmed or "no such file or directory" in trimmed:
            return 127
        if "permission denied" in trimmed or "is a directory" in trimmed:
            return 126
        return 125

    def _create(self, inv: Invocation, *, run: bool) -> Any:
        """Create the container of run/create; returns the Container (errors printed: raises _Exit)."""
        command_name = "run" if run else "create"
        image, command = inv.args[0], inv.args[1:]
        try:
            kwargs = self._container_options(inv)
        except _Problem as e:
            self._run_error(e.message, with_help=True, command=command_name)
            raise _Exit(125) from None
        from ..images.reference import is_image_id

        if not is_image_id(image) and not image.startswith("sha256:"):
            try:
                _valid_ref(image)
            except InvalidReference as e:
                if run:
                    self._run_error(_docker_words(e), with_help=True)
                    raise _Exit(125) from None
                self.errln(_docker_words(e))
                raise _Exit(1) from None
        try:
            engine = self.engine
        except _Problem as e:
            if run:
                self._run_error(e.message, with_help=True)
                raise _Exit(self._start_status(e.message)) from None
            raise
        workdir = kwargs.get("working_dir")
        if workdir and not workdir.startswith("/"):
            message = (f"Error response from daemon: the working directory '{workdir}' is invalid, it needs to be "
                       f"an absolute path")
            if run:
                self._run_error(message, with_help=True)
                raise _Exit(125)
            self.errln(message)
            raise _Exit(1)
        cidfile = inv.values.get("cidfile")
        if cidfile and self.proc.fs.exists(join(self.proc.cwd, cidfile)):
            message = f"Container ID file found, make sure the other container isn't running or delete {cidfile}"
            if run:
                self._run_error(message, with_help=True)
                raise _Exit(125)
            self.errln(message)
            raise _Exit(1)
        self._pending_image = image
        try:
            c = engine.containers.create(image, command or None, detach=bool(inv.values.get("detach")),
                                         on_pull=self._on_pull(bool(inv.values.get("quiet"))), **kwargs)
        except AivleError as e:
            message = self.daemon_error(e)
            if run:
                self._run_error(message, with_help=True)
                raise _Exit(self._start_status(message)) from None
            self.errln(message)
            raise _Exit(1) from None
        if cidfile:
            try:
                uid = self.proc.uid
                self.proc.fs.write(join(self.proc.cwd, cidfile), c.id, uid=uid, gid=uid)
            except FsError as e:
                self.errln(f"failed to write the container ID to the file: {e.message}")
        return c

    def cmd_create(self, inv: Invocation) -> int:
        c = self._create(inv, run=False)
        self.outln(c.id)
        return 0

    def cmd_run(self, inv: Invocation) -> Generator[Any, Any, int]:
        c = self._create(inv, run=True)
        detach = inv.values["detach"]
        if detach:
            self.outln(c.id)
        try:
            c.start()
        except AivleError as e:
            message = self.daemon_error(e)
            self._run_error(message, with_help=False)
            if inv.values["rm"]:
                try:
                    c.remove(force=True, v=True)
                except AivleError:
                    pass
            return self._start_status(message)
        if detach:
            return 0
        code = yield from self._attach(c, 0, proxy_signals=inv.values["sig-proxy"])
        return code

    def _attach(self, c: Any, first_line: int, *, proxy_signals: bool = True) -> Generator[Any, Any, int]:
        """Stream the container's output from log line ``first_line`` until it exits; return its exit code."""
        proc = self.proc
        shown = [first_line]

        def flush() -> None:
            lines = self._log_lines(c)
            self._write_logs(lines[shown[0]:])
            shown[0] = len(lines)

        def on_signal(sig: int) -> None:
            # Ctrl-C: forward it to the container (--sig-proxy), show what it printed, and give the
            # terminal back; a container that ignores the signal keeps running in the background.
            flush()
            if proxy_signals and c.status in ("running", "paused"):
                try:
                    c.kill(sig)
                except AivleError:
                    pass
            flush()
            proc.exit(c.exit_code if c.status not in ("running", "paused", "restarting") else 128 + sig)

        for name in ("INT", "TERM"):
            proc.on_signal(name, on_signal)
        ev = c.wait_event()
        try:
            while not ev.triggered:
                tick = self.world.loop.timeout(1.0)
                from ..sim.clock import any_of

                yield any_of(self.world.loop, [ev, tick])
                flush()
        finally:
            flush()
        value = ev.value or {}
        return int(value.get("StatusCode", c.exit_code) or 0)

    def cmd_start(self, inv: Invocation) -> Generator[Any, Any, int]:
        names = inv.args
        if inv.values["attach"] or inv.values["interactive"]:
            if len(names) > 1:
                self.errln("you cannot start and attach multiple containers at once")
                return 1
            c = self._container(names[0])
            first = len(self._log_lines(c))
            c.start()
            code = yield from self._attach(c, first)
            return code
        failed = []
        for name in names:
            try:
                self._container(name).start()
            except AivleError as e:
                self.errln(self.daemon_error(e))
                failed.append(name)
                continue
            self.outln(name)
        if failed:
            self.errln(f"Error: failed to start containers: {', '.join(failed)}")
            return 1
        return 0

    def cmd_attach(self, inv: Invocation) -> Generator[Any, Any, int]:
        c = self._container(inv.args[0])
        if c.status not in ("running", "paused", "restarting"):
            self.errln("You cannot attach to a stopped container, start it first")
            return 1
        code = yield from self._attach(c, len(self._log_lines(c)), proxy_signals=inv.values["sig-proxy"])
        return code

    def cmd_stop(self, inv: Invocation) -> Generator[Any, Any, int]:
        timeout = inv.values["time"] if "time" in inv.changed else None
        signal = inv.values["signal"]

        def stop(c: Any, _name: str) -> Generator[Any, Any, None]:
            if signal and c.status in ("running", "paused"):
                if not _signal_ok(signal):
                    raise _Problem(f"Error response from daemon: Invalid signal: {signal}")
                c.kill(signal)
            ev = c.stop(timeout, wait=False)
            if ev is not None and not ev.triggered:
                yield ev

        code = yield from self._each(inv.args, stop)
        return code

    def cmd_restart(self, inv: Invocation) -> Generator[Any, Any, int]:
        timeout = inv.values["time"] if "time" in inv.changed else None

        def restart(c: Any, _name: str) -> Generator[Any, Any, None]:
            if c.status in ("running", "paused", "restarting"):
                ev = c.stop(timeout, wait=False)
                if ev is not None and not ev.triggered:
                    yield ev
            c.start()

        code = yield from self._each(inv.args, restart)
        return code

    def cmd_kill(self, inv: Invocation) -> Generator[Any, Any, int]:
        signal = inv.values["signal"] or "KILL"

        def kill(c: Any, _name: str) -> None:
            if not _signal_ok(signal):
                raise _Problem(f"Error response from daemon: Invalid signal: {signal}")
            c.kill(signal)

        code = yield from self._each(inv.args, kill)
        return code

    def cmd_pause(self, inv: Invocation) -> Generator[Any, Any, int]:
        code = yield from self._each(inv.args, lambda c, _n: c.pause())
        return code

    def cmd_unpause(self, inv: Invocation) -> Generator[Any, Any, int]:
        code = yield from self._each(inv.args, lambda c, _n: c.unpause())
        return code

    def cmd_rm(self, inv: Invocation) -> int:
        v = inv.values
        errors = []
        for name in inv.args:
            key = name.strip("/")
            if not key:
                errors.append("Container name cannot be empty")
                continue
            try:
                self._container(key).remove(force=v["force"], v=v["volumes"])
            except ContainerNotFound as e:
                if v["force"]:
                    self.errln(self.daemon_error(e))
                    continue
                errors.append(self.daemon_error(e))
                continue
            except _Problem as e:
                errors.append(e.message)
                continue
            except AivleError as e:
                errors.append(self.daemon_error(e))
                continue
            self.outln(name)
        if errors:
            self.errln("\n".join(errors))
            return 1
        return 0

    def cmd_wait(self, inv: Invocation) -> Generator[Any, Any, int]:
        errors = []
        for name in inv.args:
            try:
                c = self._container(name)
            except AivleError as e:
                errors.append(self.daemon_error(e))
                continue
            ev = c.wait_event()
            if not ev.triggered:
                yield ev
            self.outln(str((ev.value or {}).get("StatusCode", c.exit_code)))
        if errors:
            self.errln("\n".join(errors))
            return 1
        return 0

    def cmd_rename(self, inv: Invocation) -> int:
        old, new = inv.args[0].strip(), inv.args[1].strip()
        if not old or not new:
            self.errln("Error: Neither old nor new names may be empty")
            return 1
        try:
            self._container(old).rename(new)
        except AivleError as e:
            self.errln(self.daemon_error(e))
            self.errln(f"Error: failed to rename container named {old}")
            return 1
        return 0

    def cmd_ps(self, inv: Invocation) -> int:
        v = inv.values
        engine = self.engine
        filters = _filters(v["filter"])
        allowed = {"ancestor", "before", "exited", "expose", "health", "id", "isolation", "is-task", "label",
                   "name", "network", "publish", "since", "status", "volume"}
        for key, vals in filters.items():
            if key not in allowed:
                raise _Problem(f"Error response from daemon: invalid filter '{key}'")
            if key == "status":
                for val in vals:
                    if val not in ("created", "restarting", "running", "removing", "paused", "exited", "dead"):
                        raise _Problem(f"Error response from daemon: Invalid filter 'status={val}'")
        limit = v["last"]
        if v["latest"] and limit == -1:
            limit = 1
        show_all = v["all"] or limit > 0
        containers = engine.containers.list(all=show_all, filters=filters or None, limit=limit)
        trunc = not v["no-trunc"]
        items = [ContainerContext(self, c, trunc) for c in containers]
        if v["quiet"]:
            fmt_text = "{{.ID}}"
        elif v["format"] and v["format"] != "table":
            fmt_text = v["format"]
        else:
            fmt_text = ("table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t"
                        "{{.Names}}" + ("\t{{.Size}}" if v["size"] else ""))
        return self._print_list(fmt_text, items, ContainerContext.headers)

    def cmd_logs(self, inv: Invocation) -> int:
        v = inv.values
        c = self._container(inv.args[0])
        lines = self._log_lines(c)
        since = self._time_arg(v["since"], "since") if v["since"] else None
        until = self._time_arg(v["until"], "until") if v["until"] else None
        if since is not None:
            lines = [ln for ln in lines if ln.time >= since]
        if until is not None:
            lines = [ln for ln in lines if ln.time <= until]
        tail = v["tail"]
        if tail not in ("all", ""):
            try:
                n = int(tail)
            except ValueError:
                n = -1
            if n >= 0:
                lines = lines[-n:] if n else []
        self._write_logs(lines, timestamps=v["timestamps"])
        return 0

    def _time_arg(self, text: str, name: str) -> float:
        """``--since`` / ``--until``: RFC 3339, a unix timestamp or a relative duration (``10m``)."""
        import datetime as _dt

        try:
            return self.world.now - abs(_go_duration(text))
        except ValueError:
            pass
        if re.fullmatch(r"\d+(\.\d+)?", text):
            moment = _dt.datetime.fromtimestamp(float(text), tz=_dt.timezone.utc)
            return (moment - self.world.datetime(0)).total_seconds()
        t = _created_seconds(self.world, text if "T" in text else text + "T00:00:00Z")
        if t is None:
            raise _Problem(f'invalid value for "{name}": failed to parse value as time or duration: "{text}"')
        return t

    def cmd_exec(self, inv: Invocation) -> int:
        v = inv.values
        name, command = inv.args[0], inv.args[1:]
        c = self._container(name)
        env = []
        try:
            for path in v["env-file"]:
                env += _read_kv_file(self.proc.fs, self.proc.cwd, path, self.proc.env)
        except _Problem as e:
            self.errln(e.message)
            return 1
        env += list(v["env"])
        if v["workdir"] and not v["workdir"].startswith("/"):
            self.errln(f"Error response from daemon: the working directory '{v['workdir']}' is invalid, it needs "
                       f"to be an absolute path")
            return 1
        stdin = self.proc.stdin if v["interactive"] else b""
        result = c.exec_run(command, user=v["user"] or "", workdir=v["workdir"] or None,
                            environment=env or None, stdin=stdin, detach=v["detach"], tty=v["tty"],
                            privileged=v["privileged"], demux=not v["tty"])
        if v["detach"]:
            return 0
        output = result.output
        if isinstance(output, tuple):
            out, err = output
            self.proc.stdout.write((out or b"").replace(b"\r\n", b"\n"))
            self.proc.stderr.write((err or b"").replace(b"\r\n", b"\n"))
        else:
            self.proc.stdout.write((output or b"").replace(b"\r\n", b"\n"))
        return int(result.exit_code or 0)

    def cmd_top(self, inv: Invocation) -> int:
        c = self._container(inv.args[0])
        data = c.top(" ".join(inv.args[1:]) or None)
        text = "\t".join(data["Titles"]) + "\n" + "".join("\t".join(p) + "\n" for p in data["Processes"])
        self.out(fmt.tabwriter(text, minwidth=20, padding=3))
        return 0

    def cmd_port(self, inv: Invocation) -> int:
        name = inv.args[0]
        c = self._container(name)
        ports = (c.attrs.get("NetworkSettings") or {}).get("Ports") or {}
        if c.status not in ("running", "paused"):
            ports = {}

        def hostport(b: dict) -> str:
            ip = b.get("HostIp") or ""
            return f"[{ip}]:{b.get('HostPort')}" if ":" in ip else f"{ip}:{b.get('HostPort')}"

        out = []
        if len(inv.args) > 1:
            spec = inv.args[1]
            port, _, proto = spec.partition("/")
            proto = proto or "tcp"
            try:
                _go_int(port, 16, unsigned=True)
            except ValueError as e:
                self.errln(f"Error: invalid port ({port}): {e}")
                return 1
            frontends = ports.get(f"{port}/{proto}")
            if not frontends:
                self.errln(f"Error: No public port '{spec}' published for {name}")
                return 1
            out = [hostport(b) for b in _with_ipv6(frontends)]
        else:
            for key, frontends in ports.items():
                for b in _with_ipv6(frontends or []):
                    out.append(f"{key} -> {hostport(b)}")
        if out:
            self.outln("\n".join(sorted(out, key=_natural_key)))
        return 0

    def cmd_diff(self, inv: Invocation) -> int:
        if not inv.args[0]:
            self.errln("Container name cannot be empty")
            return 1
        c = self._container(inv.args[0])
        for kind, path in c.diff():
            self.outln(f"{kind} {path}")
        return 0

    def cmd_commit(self, inv: Invocation) -> int:
        v = inv.values
        c = self._container(inv.args[0])
        repository = tag = None
        if len(inv.args) > 1:
            try:
                ref = _valid_ref(inv.args[1])
            except InvalidReference as e:
                self.errln(_docker_words(e))
                return 1
            if ref.digest is not None:
                self.errln("refusing to create a tag with a digest reference")
                return 1
            repository = ref.familiar
            tag = ref.tag
        conf = {}
        for change in v["change"]:
            word, _, rest = change.strip().partition(" ")
            word = word.upper()
            rest = rest.strip()
            value: Any = rest
            if word in ("CMD", "ENTRYPOINT"):
                try:
                    value = json.loads(rest) if rest.startswith("[") else ["/bin/sh", "-c", rest]
                except ValueError:
                    value = ["/bin/sh", "-c", rest]
                conf["Cmd" if word == "CMD" else "Entrypoint"] = value
            elif word == "ENV":
                env = list(c.config.get("Env") or [])
                k, eq, val = rest.partition("=")
                if not eq:
                    k, _, val = rest.partition(" ")
                env = [e for e in env if e.partition("=")[0] != k] + [f"{k}={val}"]
                conf["Env"] = env
            elif word == "WORKDIR":
                conf["WorkingDir"] = rest
            elif word == "USER":
                conf["User"] = rest
            elif word == "LABEL":
                labels = dict(c.config.get("Labels") or {})
                k, _, val = rest.partition("=")
                labels[k] = val.strip('"')
                conf["Labels"] = labels
            else:
                self.errln(f"Error response from daemon: {word} is not a valid change command")
                return 1
        image = c.commit(repository, tag, message=v["message"] or None, author=v["author"] or None,
                         conf=conf or None, pause=v["pause"])
        self.outln(image.id)
        return 0

    def cmd_cp(self, inv: Invocation) -> int:
        src, dst = inv.args
        if src == "":
            self.errln("source can not be empty")
            return 1
        if dst == "":
            self.errln("destination can not be empty")
            return 1

        def split(arg: str) -> tuple[str | None, str]:
            if arg.startswith("/") or arg.startswith("."):
                return None, arg
            name, colon, path = arg.partition(":")
            if not colon or "/" in name:
                return None, arg
            return name, path

        sname, spath = split(src)
        dname, dpath = split(dst)
        if (sname is None) == (dname is None):
            if sname is None:
                self.errln("must specify at least one container source")
            else:
                self.errln("copying between containers is not supported")
            return 1
        if sname is not None:
            c = self._container(sname)
            from_fs, from_path = c.fs, normpath(spath if spath.startswith("/") else "/" + spath)
            to_fs, to_path = self.proc.fs, join(self.proc.cwd, dpath)
            if dpath == "-":
                self.errln("copying to STDOUT is not supported in the aivle_k8s simulation")
                return 1
            if not from_fs.exists(from_path):
                self.errln(f"Error response from daemon: Could not find the file {spath} in container {sname}")
                return 1
        else:
            c = self._container(dname)
            from_fs, from_path = self.proc.fs, join(self.proc.cwd, spath)
            to_fs, to_path = c.fs, normpath(dpath if dpath.startswith("/") else "/" + dpath)
            if not from_fs.exists(from_path):
                self.errln(f"lstat {from_path}: no such file or directory")
                return 1
        contents_only = spath.endswith("/.")
        entry = from_fs.stat(from_path)
        if to_fs.is_dir(to_path) and not contents_only:
            target = join(to_path, posixpath.basename(from_path.rstrip("/")) or "/")
        else:
            target = to_path
            parent = posixpath.dirname(to_path.rstrip("/")) or "/"
            if not to_fs.is_dir(parent):
                self.errln(f"Error response from daemon: Could not find the file {posixpath.dirname(dpath)} in "
                           f"container {dname}" if dname else f"open {to_path}: no such file or directory")
                return 1
            if dst.endswith("/") and not to_fs.exists(to_path) and not entry.is_dir:
                self.errln(f"destination \"{dpath}\" must be a directory" if dname is None else
                           f"Error response from daemon: destination \"{dpath}\" must be a directory")
                return 1
        try:
            to_fs.copy_from(from_fs, from_path, target)
        except FsError as e:
            self.errln(f"Error response from daemon: {e.message}" if dname else e.message)
            return 1
        size = entry.size if not entry.is_dir else sum(e.size for _, e in from_fs.walk(from_path) if e.is_file)
        shown = dst if dname is not None else to_path
        quiet = inv.values["quiet"] if "quiet" in inv.changed else not self.tty
        if not quiet:
            self.errln(f"Successfully copied {fmt.human_size(size)} to {shown}")
        return 0

    def cmd_stats(self, inv: Invocation) -> int:
        v = inv.values
        engine = self.engine
        if inv.args:
            containers = [self._container(n) for n in inv.args]
        else:
            containers = engine.containers.list(all=v["all"])
        items = []
        for c in containers:
            s = c.stats()
            mem = (s.get("memory_stats") or {})
            usage, limit = int(mem.get("usage") or 0), int(mem.get("limit") or 0)
            cpu = float(s.get("cpu") or 0.0)
            running = c.status in ("running", "paused")
            items.append(_SimpleContext({
                "ID": c.id if v["no-trunc"] else c.id[:12],
                "Container": c.name if inv.args else (c.id if v["no-trunc"] else c.id[:12]),
                "Name": c.name,
                "CPUPerc": f"{cpu * 100:.2f}%" if running else "0.00%",
                "MemUsage": f"{fmt.bytes_size(usage)} / {fmt.bytes_size(limit)}" if running else "0B / 0B",
                "MemPerc": f"{(usage * 100 / limit) if limit else 0:.2f}%",
                "NetIO": "0B / 0B", "BlockIO": "0B / 0B",
                "PIDs": str((s.get("pids_stats") or {}).get("current", 0)),
            }, "*container.statsContext", {
                "ID": "CONTAINER ID", "Container": "CONTAINER", "Name": "NAME", "CPUPerc": "CPU %",
                "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O",
                "PIDs": "PIDS"}))
        fmt_text = v["format"] if v["format"] and v["format"] != "table" else \
            "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"
        headers = items[0].headers if items else {
            "ID": "CONTAINER ID", "Name": "NAME", "CPUPerc": "CPU %", "MemUsage": "MEM USAGE / LIMIT",
            "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O", "PIDs": "PIDS", "Container": "CONTAINER"}
        return self._print_list(fmt_text, items, headers)

    def cmd_container_prune(self, inv: Invocation) -> int:
        engine = self.engine
        if not inv.values["force"] and not self._confirm(
                "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?"):
            self.outln("Total reclaimed space: 0B")
            return 0
        report = engine.containers.prune()
        deleted = report.get("ContainersDeleted") or []
        if deleted:
            self.outln("Deleted Containers:\n" + "".join(d + "\n" for d in deleted))
        self.outln(f"Total reclaimed space: {fmt.human_size(report.get('SpaceReclaimed') or 0, 4)}")
        return 0

    # ======================================================================================
    # inspect
    # ======================================================================================
    def _inspect(self, refs: Sequence[str], template: str, get: Callable[[str], dict],
                 not_found: Callable[[str, AivleError], str] | None = None) -> int:
        tmpl = None
        if template and template != "json":
            try:
                tmpl = fmt.Template(template)
            except fmt.TemplateError as e:
                self.errln(f"template parsing error: {e.message}")
                return 64
        elements = []
        errors = []
        rendered = []
        for ref in refs:
            try:
                data = get(ref)
            except _Problem as e:
                errors.append(e.message)
                continue
            except AivleError as e:
                errors.append(not_found(ref, e) if not_found is not None else self.daemon_error(e))
                continue
            if tmpl is not None:
                try:
                    rendered.append(tmpl.execute(data, missingkey="error") + "\n")
                except fmt.TemplateError as e:
                    errors.append(f"template parsing error: {e.message}")
                continue
            elements.append(data)
        if tmpl is not None:
            self.out("".join(rendered) if rendered else "\n")
        elif template == "json":
            self.outln(json.dumps(elements, ensure_ascii=False, separators=(",", ":")))
        else:
            self.outln(json.dumps(elements, indent=4, ensure_ascii=False) if elements else "[]")
        if errors:
            self.errln("\n".join(errors))
            return 1
        return 0

    def cmd_container_inspect(self, inv: Invocation) -> int:
        engine = self.engine
        return self._inspect(inv.args, inv.values["format"], lambda r: self._container_attrs(engine, r,
                                                                                              inv.values["size"]))

    def _container_attrs(self, engine: Any, ref: str, size: bool = False) -> dict:
        c = engine.containers.get(ref)
        attrs = c.attrs
        if size:
            rw = sum(e.size for e in c.fs.upper.values() if e.is_file)
            attrs["SizeRw"] = rw
            try:
                attrs["SizeRootFs"] = c.image.size + rw
            except AivleError:
                attrs["SizeRootFs"] = rw
        return attrs

    def _image_attrs(self, engine: Any, ref: str) -> dict:
        img = engine.images.get(ref)
        attrs = getattr(img, "attrs", None)
        return attrs if isinstance(attrs, dict) else image_inspect(engine, img)

    def cmd_image_inspect(self, inv: Invocation) -> int:
        engine = self.engine
        return self._inspect(inv.args, inv.values["format"], lambda r: self._image_attrs(engine, r))

    def cmd_volume_inspect(self, inv: Invocation) -> int:
        engine = self.engine
        return self._inspect(inv.args, inv.values["format"], lambda r: engine.volumes.get(r).attrs)

    def cmd_network_inspect(self, inv: Invocation) -> int:
        engine = self.engine
        return self._inspect(inv.args, inv.values["format"], lambda r: engine.networks.get(r).attrs)

    def cmd_inspect(self, inv: Invocation) -> int:
        engine = self.engine
        kind = inv.values["type"]
        getters = {
            "container": lambda r: self._container_attrs(engine, r, inv.values["size"]),
            "image": lambda r: self._image_attrs(engine, r),
            "network": lambda r: engine.networks.get(r).attrs,
            "volume": lambda r: engine.volumes.get(r).attrs,
        }
        valid = ("config", "container", "image", "network", "node", "plugin", "secret", "service", "task", "volume")
        if kind and kind not in valid:
            self.errln(f'"{kind}" is not a valid value for --type')
            return 1
        if kind:
            if kind not in getters:
                raise _Problem(f"Error response from daemon: This node is not a swarm manager. Use \"docker swarm "
                               f"init\" or \"docker swarm join\" to connect this node to swarm and try again.")
            return self._inspect(inv.args, inv.values["format"], getters[kind])

        def any_object(ref: str) -> dict:
            for name in ("container", "image", "network", "volume"):
                try:
                    return getters[name](ref)
                except NotFound:
                    continue
                except InvalidInput:
                    continue
            raise _Problem(f"Error: No such object: {ref}")

        return self._inspect(inv.args, inv.values["format"], any_object)

    # ======================================================================================
    # images
    # ======================================================================================
    def cmd_images(self, inv: Invocation) -> int:
        v = inv.values
        engine = self.engine
        filters = _filters(v["filter"])
        for key in filters:
            if key not in ("dangling", "label", "before", "since", "reference", "until"):
                raise _Problem(f"Error response from daemon: invalid filter '{key}'")
        dangling = None
        if "dangling" in filters:
            val = filters["dangling"][-1].lower()
            if val not in ("true", "false", "1", "0"):
                raise _Problem(f"Error response from daemon: Invalid filter 'dangling={filters['dangling'][-1]}'")
            dangling = val in ("true", "1")
        reference = inv.args[0] if inv.args else None
        refs = [reference] if reference else []
        refs += filters.get("reference", [])
        if refs:
            rows = []
            seen = set()
            for r in refs:
                pattern = r
                for row in self._image_rows(engine, pattern, dangling):
                    key = (row.id, row.repository, row.tag)
                    if key not in seen:
                        seen.add(key)
                        rows.append(row)
        else:
            rows = engine.store.list(None, dangling=dangling)
        if "label" in filters:
            want = filters["label"]

            def has(row: Any) -> bool:
                labels = ((engine.store.by_id(row.id).config_dict().get("config") or {}).get("Labels") or {})
                return all((w.partition("=")[0] in labels) and (not w.partition("=")[1] or
                                                                labels[w.partition("=")[0]] == w.partition("=")[2])
                           for w in want)
            rows = [r for r in rows if has(r)]
        trunc = not v["no-trunc"]
        items = [ImageContext(self, row, trunc) for row in rows]
        if v["quiet"]:
            fmt_text = "{{.ID}}"
        elif v["format"] and v["format"] != "table":
            fmt_text = v["format"]
        elif v["digests"]:
            fmt_text = ("table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}"
                        "{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}")
        else:
            fmt_text = ("table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A"
                        "{{end}}\t{{.Size}}")
        return self._print_list(fmt_text, items, ImageContext.headers)

    def _image_rows(self, engine: Any, pattern: str, dangling: bool | None) -> list:
        import fnmatch

        try:
            if not any(ch in pattern for ch in "*?["):
                return engine.store.list(pattern, dangling=dangling)
        except InvalidInput:
            return []
        rows = engine.store.list(None, dangling=dangling)
        repo_pat, colon, tag_pat = pattern.rpartition(":") if ":" in pattern.rsplit("/", 1)[-1] else (pattern, "", "")
        return [r for r in rows if fnmatch.fnmatchcase(r.repository, repo_pat)
                and (not colon or fnmatch.fnmatchcase(r.tag, tag_pat))]

    def _remote_ref(self, inv: Invocation):
        """``docker pull``/``push``'s reference checks: ``(ref, name_only)``, or an exit code after the error."""
        v = inv.values
        remote = inv.args[0]
        try:
            ref = _valid_ref(remote)
        except InvalidReference as e:
            self.errln(_docker_words(e))
            return 1
        name_only = ref.digest is None and ":" not in remote.rsplit("/", 1)[-1]
        if v["all-tags"] and not name_only:
            self.errln("tag can't be used with --all-tags/-a")
            return 1
        if name_only and not v["all-tags"] and not v["quiet"]:
            self.outln(f"Using default tag: {ref.tag}")
        return ref, name_only

    def cmd_pull(self, inv: Invocation) -> int:
        v = inv.values
        remote = inv.args[0]
        parsed = self._remote_ref(inv)
        if isinstance(parsed, int):
            return parsed
        ref, name_only = parsed
        engine = self.engine
        if v["all-tags"]:
            try:
                registry = engine.registry_for(ref.domain)
                tags = registry.tags(ref.path)
            except AivleError as e:
                self.errln(self.daemon_error(e))
                return 1
            for t in tags:
                report = engine.images.pull(f"{ref.name}:{t}")
                if not v["quiet"]:
                    self.out("".join(line + "\n" for line in self._pull_lines(report)))
            self.outln(ref.name)
            return 0
        report = engine.images.pull(remote if not name_only else f"{remote}:{ref.tag}")
        if not v["quiet"]:
            self.out("".join(line + "\n" for line in self._pull_lines(report)))
        self.outln(str(ref))
        return 0

    def cmd_push(self, inv: Invocation) -> int:
        v = inv.values
        remote = inv.args[0]
        parsed = self._remote_ref(inv)
        if isinstance(parsed, int):
            return parsed
        ref, name_only = parsed
        engine = self.engine
        if v["all-tags"]:
            tags = [r.tag for r in engine.store.list(ref.name) if r.tag != "<none>"]
            if not tags:
                self.errln(f"An image does not exist locally with the tag: {ref.familiar}")
                return 1
        else:
            tags = [ref.tag]
        quiet = v["quiet"]
        if not quiet:
            self.outln(f"The push refers to repository [{ref.name}]")
        for t in tags:
            target = f"{ref.name}:{t}"
            try:
                img = engine.store.get(target)
            except AivleError:
                img = None
            preparing = ""
            if img is not None and not quiet:
                seen: list[str] = []
                for layer in reversed(list(img.layers)):
                    short = fmt.truncate_id(layer.diff_id)
                    if short not in seen:
                        seen.append(short)
                preparing = "".join(f"{s}: Preparing\n" for s in seen)
            if not self.tty:  # on a terminal these lines are redrawn with the final status
                self.out(preparing)
            try:
                report = engine.images.push(target)
            except AivleError as e:
                if self.tty:
                    self.out(preparing)
                self.errln(_docker_words(e))
                return 1
            if not quiet:
                self.out("".join(f"{short}: {status}\n" for short, status in report.layers))
                self.outln(f"{t}: digest: {report.digest} size: {report.size}")
        if quiet:
            self.outln(str(ref) if not v["all-tags"] else ref.name)
        return 0

    def cmd_tag(self, inv: Invocation) -> int:
        source, target = inv.args
        engine = self.engine
        from ..images.reference import is_image_id

        if not is_image_id(source) and not source.startswith("sha256:"):
            try:
                _valid_ref(source)
            except InvalidReference as e:
                self.errln(f'Error parsing reference: "{source}" is not a valid repository/tag: {_docker_words(e)}')
                return 1
        try:
            ref = _valid_ref(target)
        except InvalidReference as e:
            self.errln(f'Error parsing reference: "{target}" is not a valid repository/tag: {_docker_words(e)}')
            return 1
        if ref.digest is not None:
            self.errln("refusing to create a tag with a digest reference")
            return 1
        engine.images.tag(source, target)
        return 0

    def cmd_rmi(self, inv: Invocation) -> int:
        v = inv.values
        engine = self.engine
        errors = []
        fatal = False
        for name in inv.args:
            try:
                lines = engine.images.remove(name, force=v["force"], noprune=v["no-prune"])
            except AivleError as e:
                if not isinstance(e, NotFound):
                    fatal = True
                errors.append(self.daemon_error(e))
                continue
            for line in lines:
                self.outln(line)
        if errors:
            if not v["force"] or fatal:
                self.errln("\n".join(errors))
                return 1
            self.errln("\n".join(errors))
        return 0

    def cmd_history(self, inv: Invocation) -> int:
        v = inv.values
        engine = self.engine
        img = engine.images.get(inv.args[0])
        rows = engine.images.history(img.id)
        human = v["human"]
        trunc = not v["no-trunc"]
        items = []
        for row in rows:
            ident = row["Id"]
            shown_id = ident if ident == "<missing>" or not trunc else fmt.truncate_id(ident)
            created = _created_seconds(self.world, row.get("Created") or "")
            created_by = str(row.get("CreatedBy") or "").replace("\t", " ")
            if trunc:
                created_by = fmt.ellipsis(created_by, 45)
            if human:
                since = (fmt.human_duration(self.world.now - int(created)) + " ago") if created is not None else "N/A"
                size = fmt.human_size(row.get("Size") or 0)
            else:
                since = row.get("Created") or ""
                size = str(row.get("Size") or 0)
            items.append(_SimpleContext({
                "ID": shown_id, "CreatedSince": since, "CreatedAt": row.get("Created") or "",
                "CreatedBy": created_by, "Size": size, "Comment": row.get("Comment") or "",
            }, "*image.historyContext", {}))
        headers = {"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "CreatedBy": "CREATED BY",
                   "Size": "SIZE", "Comment": "COMMENT"}
        if v["quiet"]:
            fmt_text = "{{.ID}}"
        elif v["format"] and v["format"] != "table":
            fmt_text = v["format"]
        else:
            fmt_text = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
        return self._print_list(fmt_text, items, headers)

    def cmd_image_prune(self, inv: Invocation) -> int:
        v = inv.values
        engine = self.engine
        warning = ("WARNING! This will remove all images without at least one container associated to them.\n"
                   "Are you sure you want to continue?" if v["all"] else
                   "WARNING! This will remove all dangling images.\nAre you sure you want to continue?")
        if not v["force"] and not self._confirm(warning):
            self.outln("Total reclaimed space: 0B")
            return 0
        report = engine.images.prune(dangling=not v["all"])
        deleted = report.get("ImagesDeleted") or []
        if deleted:
            lines = ["Deleted Images:"]
            for d in deleted:
                if d.get("Untagged"):
                    lines.append(f"untagged: {d['Untagged']}")
                else:
                    lines.append(f"deleted: {d.get('Deleted', '')}")
            self.outln("\n".join(lines) + "\n")
        self.outln(f"Total reclaimed space: {fmt.human_size(report.get('SpaceReclaimed') or 0, 4)}")
        return 0

    def cmd_build(self, inv: Invocation) -> int:
        v = inv.values
        proc = self.proc
        path = inv.args[0]
        engine = self.engine
        dockerfile_text = None
        if path.startswith(("http://", "https://", "git@", "github.com/")):
            self.errln("ERROR: building from a URL is not available in the aivle_k8s simulation")
            return 1
        if path == "-":
            dockerfile_text = proc.stdin.decode(errors="replace")
            context = None
        else:
            context = join(proc.cwd, path)
            if not proc.fs.exists(context):
                self.errln(f'ERROR: unable to prepare context: path "{path}" not found')
                return 1
            if not proc.fs.is_dir(context):
                self.errln(f'ERROR: unable to prepare context: path "{path}" is not a directory')
                return 1
        dockerfile = "Dockerfile"
        if v["file"] == "-":
            dockerfile_text = proc.stdin.decode(errors="replace")
        elif v["file"]:
            dockerfile = join(proc.cwd, v["file"])
            if context is not None and (dockerfile + "/").startswith(context.rstrip("/") + "/"):
                dockerfile = dockerfile[len(context.rstrip("/")) + 1:]
            elif not proc.fs.is_file(dockerfile):
                self.errln(f"ERROR: failed to solve: failed to read dockerfile: open {v['file']}: no such file or "
                           f"directory")
                return 1
            else:
                dockerfile_text = proc.fs.read_text(dockerfile)
                dockerfile = posixpath.basename(dockerfile)
        tags = []
        for t in v["tag"]:
            try:
                _valid_ref(t)
            except InvalidReference as e:
                self.errln(f'ERROR: invalid tag "{t}": {_docker_words(e)}')
                return 1
            tags.append(t)
        buildargs = {}
        for item in v["build-arg"]:
            k, eq, val = item.partition("=")
            if not eq:
                if k in proc.env:
                    buildargs[k] = proc.env[k]
                continue
            buildargs[k] = val
        labels = {}
        for item in v["label"]:
            k, _, val = item.partition("=")
            labels[k] = val
        progress = v["progress"]
        if progress not in ("auto", "plain", "tty", "quiet", "rawjson"):
            self.errln(f'ERROR: invalid progress mode "{progress}"')
            return 1
        quiet = v["quiet"] or progress == "quiet"
        try:
            result = self._build(engine, context, dockerfile=dockerfile, tag=tags or None,
                                 buildargs=buildargs or None, nocache=v["no-cache"], target=v["target"] or None,
                                 pull=v["pull"], dockerfile_text=dockerfile_text, labels=labels or None)
        except BuildError as e:
            log = getattr(e, "build_log", "") or ""
            if quiet:
                log = "\n".join(line for line in log.splitlines() if line.startswith("ERROR")) + "\n"
            self.err(log if log.endswith("\n") or not log else log + "\n")
            if "ERROR: failed to solve" not in log:
                self.errln(f"ERROR: failed to solve: {e.message}")
            return 1
        except AivleError as e:
            msg = _docker_words(e)
            self.errln(msg if msg.startswith("ERROR") else f"ERROR: failed to solve: {msg}")
            return 1
        if quiet:
            self.outln(result.image.id)
        else:
            self.err(result.log if result.log.endswith("\n") else result.log + "\n")
        if v["iidfile"]:
            proc.fs.write(join(proc.cwd, v["iidfile"]), result.image.id)
        return 0

    def _build(self, engine: Any, context: str | None, **kw: Any) -> Any:
        """``engine.images.build``; while the engine has no build module, the image builder directly."""
        try:
            return engine.images.build(context, **kw)
        except ModuleNotFoundError as e:
            if "build" not in str(e):
                raise
        from ..images.builder import Builder, kernel_runner

        machine = engine.machine
        builder = Builder(engine.store, runner=kernel_runner(machine.kernel),
                          pull=lambda ref: engine.images.pull(ref).image, now=engine.world.timestamp)
        tags = kw.get("tag") or []
        tags = [tags] if isinstance(tags, str) else list(tags)
        return builder.build(machine.fs if context is not None else None, context or "/",
                             kw.get("dockerfile") or "Dockerfile", dockerfile_text=kw.get("dockerfile_text"),
                             tags=tags, build_args=kw.get("buildargs") or {}, target=kw.get("target"),
                             no_cache=bool(kw.get("nocache")))

    def cmd_save(self, inv: Invocation) -> int:
        v = inv.values
        engine = self.engine
        from ..images import oci
        from ..images.reference import is_image_id

        images = []
        for name in inv.args:
            img = engine.images.get(name)
            ref = None
            if not is_image_id(name) and not name.startswith("sha256:"):
                try:
                    ref = str(_valid_ref(name))
                except InvalidReference:
                    ref = None
            images.append((ref, img))
        data = oci.save_oci_archive(images)
        if v["output"]:
            try:
                uid = self.proc.uid
                self.proc.fs.write(join(self.proc.cwd, v["output"]), data, uid=uid, gid=uid)
            except FsError as e:
                self.errln(f"failed to save image: {e.message}")
                return 1
        elif self.tty:
            self.errln("cowardly refusing to save to a terminal. Use the -o flag or redirect")
            return 1
        else:
            self.proc.stdout.write(data)
        return 0

    def cmd_load(self, inv: Invocation) -> int:
        v = inv.values
        engine = self.engine
        from ..images import oci

        if v["input"]:
            try:
                data = self.proc.fs.read(join(self.proc.cwd, v["input"]))
            except FsError:
                self.errln(f"open {v['input']}: no such file or directory")
                return 1
        else:
            data = self.proc.stdin
            if not data:
                self.errln("requested load from stdin, but stdin is empty")
                return 1
        try:
            loaded = oci.load_oci_archive(data)
        except AivleError as e:
            self.errln(f"Error response from daemon: {e.message}")
            return 1
        except Exception:  # not a tar at all
            self.errln("Error response from daemon: unexpected EOF")
            return 1
        for ref, img in loaded:
            tags = []
            shown = None
            if ref:
                try:
                    parsed = _valid_ref(ref)
                    tags = [str(parsed)]
                    shown = parsed.familiar_string
                except InvalidReference:
                    tags = []
            stored = engine.store.add(img, tags=tags)
            if not v["quiet"]:
                self.outln(f"Loaded image: {shown}" if shown else f"Loaded image ID: {stored.id}")
        return 0

    # ======================================================================================
    # registries
    # ======================================================================================
    def _config_path(self) -> str:
        home = self.proc.env.get("HOME") or ("/root" if self.proc.uid == 0 else "/home/student")
        return f"{home}/.docker/config.json"

    def _read_config(self) -> dict:
        try:
            return json.loads(self.proc.fs.read_text(self._config_path()) or "{}")
        except (FsError, ValueError):
            return {}

    def _write_config(self, conf: dict) -> None:
        path = self._config_path()
        fs = self.proc.fs
        d = posixpath.dirname(path)
        uid = self.proc.uid
        try:
            if not fs.exists(d):
                fs.mkdir(d, parents=True, mode=0o700, uid=uid, gid=uid)
            fs.write(path, json.dumps(conf, indent="\t") + "\n", mode=0o600, uid=uid, gid=uid)
        except FsError:
            pass

    def cmd_login(self, inv: Invocation) -> int:
        import base64

        v = inv.values
        server = inv.args[0] if inv.args else ""
        user, password = v["username"], v["password"]
        if password:
            self.errln("WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
            if v["password-stdin"]:
                self.errln("--password and --password-stdin are mutually exclusive")
                return 1
        if v["password-stdin"]:
            if not user:
                self.errln("Must provide --username with --password-stdin")
                return 1
            password = self.proc.stdin.decode(errors="replace").removesuffix("\n").removesuffix("\r")
        key = server if server and server not in ("docker.io",) else "https://index.docker.io/v1/"
        engine = self.engine
        conf = self._read_config()
        stored = (conf.get("auths") or {}).get(key, {}).get("auth")
        if not user and not password and stored:
            try:
                user, _, password = base64.b64decode(stored).decode().partition(":")
            except ValueError:
                user = password = ""
            self.outln("Authenticating with existing credentials...")
        if not password:
            self.errln("Error: Cannot perform an interactive login from a non TTY device")
            return 1
        if not user:
            self.errln("Error: Cannot perform an interactive login from a non TTY device")
            return 1
        status = engine.login(username=user.strip(), password=password, registry=server or "docker.io")
        self.errln(f"WARNING! Your password will be stored unencrypted in {self._config_path()}.\n"
                   "Configure a credential helper to remove this warning. See\n"
                   "https://docs.docker.com/engine/reference/commandline/login/#credentials-store\n")
        conf.setdefault("auths", {})[key] = {"auth": base64.b64encode(f"{user.strip()}:{password}".encode()).decode()}
        self._write_config(conf)
        self.outln(status)
        return 0

    def cmd_logout(self, inv: Invocation) -> int:
        server = inv.args[0] if inv.args else ""
        key = server if server and server != "docker.io" else "https://index.docker.io/v1/"
        shown = key
        if server and server != "docker.io":
            shown = server.removeprefix("https://").removeprefix("http://").split("/", 1)[0]
        self.outln(f"Removing login credentials for {shown}")
        engine = getattr(self.machine, "engine", None)
        if engine is not None:
            try:
                engine.logout(registry=server or "docker.io")
            except AivleError:
                pass
        conf = self._read_config()
        if key in (conf.get("auths") or {}):
            del conf["auths"][key]
            self._write_config(conf)
        return 0

    def cmd_search(self, inv: Invocation) -> int:
        engine = self.engine
        term = inv.args[0]
        try:
            hub = engine.registry_for("docker.io")
            names = [n for n in hub.catalog() if term.lower() in n.lower()]
        except AivleError as e:
            self.errln(self.daemon_error(e))
            return 1
        limit = inv.values["limit"] or 25
        items = []
        for name in sorted(names)[:limit]:
            official = name.startswith("library/")
            items.append(_SimpleContext({"Name": name.removeprefix("library/"), "Description": "",
                                         "StarCount": "0", "IsOfficial": "[OK]" if official else "",
                                         "IsAutomated": ""}, "*registry.searchContext", {}))
        headers = {"Name": "NAME", "Description": "DESCRIPTION", "StarCount": "STARS", "IsOfficial": "OFFICIAL",
                   "IsAutomated": "AUTOMATED"}
        fmt_text = inv.values["format"] or "table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}\t" \
                                           "{{.IsAutomated}}"
        return self._print_list(fmt_text, items, headers)

    # ======================================================================================
    # volumes and networks
    # ======================================================================================
    def cmd_volume_create(self, inv: Invocation) -> int:
        v = inv.values
        name = inv.args[0] if inv.args else (v["name"] or None)
        if inv.args and v["name"] and v["name"] != inv.args[0]:
            self.errln(f"conflicting options: either specify --name or provide positional arg, not both")
            return 1
        labels = {}
        for item in v["label"]:
            k, _, val = item.partition("=")
            labels[k] = val
        vol = self.engine.volumes.create(name, driver=v["driver"], labels=labels or None)
        self.outln(vol.name)
        return 0

    def cmd_volume_ls(self, inv: Invocation) -> int:
        v = inv.values
        engine = self.engine
        filters = _filters(v["filter"])
        for key in filters:
            if key not in ("dangling", "driver", "label", "name"):
                raise _Problem(f"Error response from daemon: invalid filter '{key}'")
        vols = engine.volumes.list()
        if "dangling" in filters:
            want = filters["dangling"][-1].lower() in ("true", "1")
            vols = [x for x in vols if (not x.users()) == want]
        if "name" in filters:
            vols = [x for x in vols if any(n in x.name for n in filters["name"])]
        if "driver" in filters:
            vols = [x for x in vols if x.driver in filters["driver"]]
        if "label" in filters:
            vols = [x for x in vols if all(l.partition("=")[0] in x.labels for l in filters["label"])]
        vols = sorted(vols, key=lambda x: _natural_key(x.name))
        items = [_SimpleContext({"Name": x.name, "Driver": x.driver, "Scope": "local", "Mountpoint": x.mountpoint,
                                 "Labels": ",".join(f"{k}={val}" for k, val in sorted(x.labels.items())),
                                 "Links": "N/A", "Size": "N/A"}, "*formatter.volumeContext", {}) for x in vols]
        headers = {"Name": "VOLUME NAME", "Driver": "DRIVER", "Scope": "SCOPE", "Mountpoint": "MOUNTPOINT",
                   "Labels": "LABELS", "Links": "LINKS", "Size": "SIZE"}
        if v["quiet"]:
            fmt_text = "{{.Name}}"
        elif v["format"] and v["format"] != "table":
            fmt_text = v["format"]
        else:
            fmt_text = "table {{.Driver}}\t{{.Name}}"
        return self._print_list(fmt_text, items, headers)

    def cmd_volume_rm(self, inv: Invocation) -> int:
        engine = self.engine
        errors = []
        for name in inv.args:
            try:
                engine.volumes.get(name).remove(force=inv.values["force"])
            except VolumeNotFound as e:
                if inv.values["force"]:
                    self.outln(name)
                    continue
                errors.append(self.daemon_error(e))
                continue
            except AivleError as e:
                errors.append(self.daemon_error(e))
                continue
            self.outln(name)
        if errors:
            self.errln("\n".join(errors))
            return 1
        return 0

    def cmd_volume_prune(self, inv: Invocation) -> int:
        v = inv.values
        engine = self.engine
        warning = ("WARNING! This will remove all local volumes not used by at least one container.\n"
                   "Are you sure you want to continue?" if v["all"] else
                   "WARNING! This will remove anonymous local volumes not used by at least one container.\n"
                   "Are you sure you want to continue?")
        if not v["force"] and not self._confirm(warning):
            self.outln("Total reclaimed space: 0B")
            return 0
        report = engine.volumes.prune(all=v["all"])
        deleted = report.get("VolumesDeleted") or []
        if deleted:
            self.outln("Deleted Volumes:\n" + "".join(d + "\n" for d in deleted))
        self.outln(f"Total reclaimed space: {fmt.human_size(report.get('SpaceReclaimed') or 0, 4)}")
        return 0

    def cmd_network_create(self, inv: Invocation) -> int:
        v = inv.values
        labels = {}
        for item in v["label"]:
            k, _, val = item.partition("=")
            labels[k] = val
        kwargs: dict[str, Any] = {}
        if labels:
            kwargs["labels"] = labels
        if v["internal"]:
            kwargs["internal"] = True
        if v["subnet"]:
            kwargs["subnet"] = v["subnet"][0]
        if v["gateway"]:
            kwargs["gateway"] = v["gateway"][0]
        net = self.engine.networks.create(inv.args[0], driver=v["driver"], **kwargs)
        self.outln(net.id)
        return 0

    def cmd_network_ls(self, inv: Invocation) -> int:
        v = inv.values
        engine = self.engine
        filters = _filters(v["filter"])
        for key in filters:
            if key not in ("dangling", "driver", "id", "label", "name", "scope", "type"):
                raise _Problem(f"Error response from daemon: invalid filter '{key}'")
        nets = engine.networks.list()
        if "driver" in filters:
            nets = [n for n in nets if n.driver in filters["driver"]]
        if "name" in filters:
            nets = [n for n in nets if any(x in n.name for x in filters["name"])]
        if "id" in filters:
            nets = [n for n in nets if any(n.id.startswith(x) for x in filters["id"])]
        if "type" in filters:
            builtin = {"bridge", "host", "none"}
            nets = [n for n in nets if ("builtin" if n.name in builtin else "custom") in filters["type"]]
        nets = sorted(nets, key=lambda n: _natural_key(n.name))
        trunc = not v["no-trunc"]
        items = []
        for n in nets:
            attrs = n.attrs
            items.append(_SimpleContext({
                "ID": n.id[:12] if trunc else n.id, "Name": n.name, "Driver": n.driver,
                "Scope": attrs.get("Scope", "local"), "IPv6": str(bool(attrs.get("EnableIPv6"))).lower(),
                "Internal": str(bool(attrs.get("Internal"))).lower(),
                "Labels": ",".join(f"{k}={val}" for k, val in sorted((attrs.get("Labels") or {}).items())),
                "CreatedAt": attrs.get("Created", ""),
            }, "*formatter.networkContext", {}))
        headers = {"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE", "IPv6": "IPV6",
                   "Internal": "INTERNAL", "Labels": "LABELS", "CreatedAt": "CREATED AT"}
        if v["quiet"]:
            fmt_text = "{{.ID}}"
        elif v["format"] and v["format"] != "table":
            fmt_text = v["format"]
        else:
            fmt_text = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"
        return self._print_list(fmt_text, items, headers)

    def cmd_network_rm(self, inv: Invocation) -> int:
        engine = self.engine
        status = 0
        for name in inv.args:
            try:
                engine.networks.get(name).remove()
            except NotFound as e:
                if inv.values["force"]:
                    continue
                self.errln(self.daemon_error(e))
                status = 1
                continue
            except AivleError as e:
                self.errln(self.daemon_error(e))
                status = 1
                continue
            self.outln(name)
        return status

    def cmd_network_connect(self, inv: Invocation) -> int:
        net = self.engine.networks.get(inv.args[0])
        c = self._container(inv.args[1])
        aliases = list(inv.values["alias"]) or None
        net.connect(c, aliases=aliases)
        return 0

    def cmd_network_disconnect(self, inv: Invocation) -> int:
        net = self.engine.networks.get(inv.args[0])
        c = self._container(inv.args[1])
        net.disconnect(c, force=inv.values["force"])
        return 0

    def cmd_network_prune(self, inv: Invocation) -> int:
        engine = self.engine
        if not inv.values["force"] and not self._confirm(
                "WARNING! This will remove all custom networks not used by at least one container.\n"
                "Are you sure you want to continue?"):
            return 0
        report = engine.networks.prune()
        deleted = report.get("NetworksDeleted") or []
        if deleted:
            self.outln("Deleted Networks:\n" + "".join(d + "\n" for d in deleted))
        return 0

    # ======================================================================================
    # system
    # ======================================================================================
    def cmd_df(self, inv: Invocation) -> int:
        v = inv.values
        engine = self.engine
        data = engine.df()
        containers = data.get("Containers") or []
        used_images = [c.image_id for c in engine.containers._all()] if hasattr(engine.containers, "_all") else []
        du = engine.store.disk_usage(used_images)
        images_reclaim = (f"{fmt.human_size(du.reclaimable, 4)} ({du.reclaimable * 100 // du.size}%)"
                          if du.size else fmt.human_size(du.reclaimable, 4))
        active_states = ("running", "paused", "restarting")
        c_total = sum(int(c.get("SizeRw") or 0) for c in containers)
        c_reclaim = sum(int(c.get("SizeRw") or 0) for c in containers if c.get("State") not in active_states)
        vols = data.get("Volumes") or []
        v_total = sum(int((x.get("UsageData") or {}).get("Size") or 0) for x in vols)
        v_reclaim = sum(int((x.get("UsageData") or {}).get("Size") or 0) for x in vols
                        if not (x.get("UsageData") or {}).get("RefCount"))

        def pct(r: int, t: int) -> str:
            return f"{fmt.human_size(r, 4)} ({r * 100 // t}%)" if t else fmt.human_size(r, 4)

        rows = [
            {"Type": "Images", "TotalCount": str(du.total), "Active": str(du.active),
             "Size": fmt.human_size(du.size, 4), "Reclaimable": images_reclaim},
            {"Type": "Containers", "TotalCount": str(len(containers)),
             "Active": str(sum(1 for c in containers if c.get("State") in active_states)),
             "Size": fmt.human_size(c_total, 4), "Reclaimable": pct(c_reclaim, c_total)},
            {"Type": "Local Volumes", "TotalCount": str(len(vols)),
             "Active": str(sum(1 for x in vols if (x.get("UsageData") or {}).get("RefCount"))),
             "Size": fmt.human_size(v_total, 4), "Reclaimable": pct(v_reclaim, v_total)},
            {"Type": "Build Cache", "TotalCount": "0", "Active": "0", "Size": "0B", "Reclaimable": "0B"},
        ]
        headers = {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE",
                   "Reclaimable": "RECLAIMABLE"}
        items = [_SimpleContext(r, "*formatter.diskUsageContext", headers) for r in rows]
        if v["verbose"]:
            return self._df_verbose(engine, data)
        fmt_text = v["format"] if v["format"] and v["format"] != "table" else \
            "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
        return self._print_list(fmt_text, items, headers)

    def _df_verbose(self, engine: Any, data: dict) -> int:
        out = [f"Images space usage:\n"]
        rows = []
        for img in data.get("Images") or []:
            tags = img.get("RepoTags") or ["<none>:<none>"]
            for t in tags:
                repo, _, tag = t.rpartition(":")
                created = _created_seconds(self.world, img.get("Created") or "")
                since = fmt.human_duration(self.world.now - int(created)) + " ago" if created is not None else "N/A"
                rows.append([repo or "<none>", tag or "<none>", fmt.truncate_id(img["Id"]), since,
                             fmt.human_size(img.get("Size") or 0, 4), "0B", fmt.human_size(img.get("Size") or 0, 4),
                             str(img.get("Containers") or 0)])
        out.append(fmt.table(rows, ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE",
                                    "UNIQUE SIZE", "CONTAINERS"]) + "\n")
        out.append("\nContainers space usage:\n\n")
        crow = []
        for c in engine.containers.list(all=True):
            ctx = ContainerContext(self, c)
            crow.append([ctx.ID, ctx.Image, ctx.Command, ctx.LocalVolumes,
                         fmt.human_size(sum(e.size for e in c.fs.upper.values() if e.is_file), 4),
                         ctx.RunningFor, ctx.Status, ctx.Names])
        out.append(fmt.table(crow, ["CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED",
                                    "STATUS", "NAMES"]) + "\n")
        out.append("\nLocal Volumes space usage:\n\n")
        vrow = [[x["Name"], str((x.get("UsageData") or {}).get("RefCount") or 0),
                 fmt.human_size((x.get("UsageData") or {}).get("Size") or 0, 4)] for x in data.get("Volumes") or []]
        out.append(fmt.table(vrow, ["VOLUME NAME", "LINKS", "SIZE"]) + "\n")
        out.append("\nBuild cache usage: 0B\n\n")
        out.append(fmt.table([], ["CACHE ID", "CACHE TYPE", "SIZE", "CREATED", "LAST USED", "USAGE", "SHARED"]) +
                   "\n")
        self.out("".join(out))
        return 0

    def cmd_system_prune(self, inv: Invocation) -> int:
        v = inv.values
        engine = self.engine
        warnings = ["all stopped containers", "all networks not used by at least one container"]
        if v["volumes"]:
            warnings.append("all anonymous volumes not used by at least one container")
        warnings.append("all images without at least one container associated to them" if v["all"]
                        else "all dangling images")
        warnings.append("unused build cache" if v["all"] else "all dangling build cache")
        message = "WARNING! This will remove:\n" + "".join(f"  - {w}\n" for w in warnings) + \
            "\nAre you sure you want to continue?"
        if not v["force"] and not self._confirm(message):
            return 0
        space = 0
        report = engine.containers.prune()
        deleted = report.get("ContainersDeleted") or []
        space += report.get("SpaceReclaimed") or 0
        if deleted:
            self.outln("Deleted Containers:\n" + "".join(d + "\n" for d in deleted))
        report = engine.networks.prune()
        deleted = report.get("NetworksDeleted") or []
        if deleted:
            self.outln("Deleted Networks:\n" + "".join(d + "\n" for d in deleted))
        if v["volumes"]:
            report = engine.volumes.prune()
            deleted = report.get("VolumesDeleted") or []
            space += report.get("SpaceReclaimed") or 0
            if deleted:
                self.outln("Deleted Volumes:\n" + "".join(d + "\n" for d in deleted))
        report = engine.images.prune(dangling=not v["all"])
        deleted = report.get("ImagesDeleted") or []
        space += report.get("SpaceReclaimed") or 0
        if deleted:
            lines = ["Deleted Images:"]
            for d in deleted:
                lines.append(f"untagged: {d['Untagged']}" if d.get("Untagged") else f"deleted: {d.get('Deleted', '')}")
            self.outln("\n".join(lines) + "\n")
        cache = getattr(engine.store, "build_cache", None)
        if cache:
            n = len(cache)
            try:
                cache.clear()
            except AttributeError:
                n = 0
            if n:
                self.outln("Deleted build cache objects:\n" + "".join(f"{i:025d}\n" for i in range(n)))
        self.outln(f"Total reclaimed space: {fmt.human_size(space, 4)}")
        return 0

    def cmd_info(self, inv: Invocation) -> int:
        template = inv.values["format"]
        client = {"Version": self.client_version()["Version"], "Context": "default", "Debug": False,
                  "Plugins": [], "Warnings": None}
        try:
            info = self.engine.info()
        except _Problem as e:
            if template:
                self.errln(e.message)
                return 1
            self.out(f"Client:\n Version:    {client['Version']}\n Context:    default\n Debug Mode: false\n\n"
                     f"Server:\n")
            self.errln(f"ERROR: {e.message}")
            self.errln("errors pretty printing info")
            return 1
        if template:
            data = dict(info)
            data["ClientInfo"] = client
            return self._inspect(["info"], template if template != "json" else "{{json .}}", lambda _r: data)
        lines = ["Client:",
                 f" Version:    {client['Version']}",
                 " Context:    default",
                 " Debug Mode: false",
                 "",
                 "Server:",
                 f" Containers: {info.get('Containers', 0)}",
                 f"  Running: {info.get('ContainersRunning', 0)}",
                 f"  Paused: {info.get('ContainersPaused', 0)}",
                 f"  Stopped: {info.get('ContainersStopped', 0)}",
                 f" Images: {info.get('Images', 0)}",
                 f" Server Version: {info.get('ServerVersion', '')}",
                 f" Storage Driver: {info.get('Driver', 'overlay2')}",
                 "  Backing Filesystem: extfs",
                 "  Supports d_type: true",
                 "  Using metacopy: false",
                 "  Native Overlay Diff: true",
                 "  userxattr: false",
                 f" Logging Driver: {info.get('LoggingDriver', 'json-file')}",
                 f" Cgroup Driver: {info.get('CgroupDriver', 'systemd')}",
                 f" Cgroup Version: {info.get('CgroupVersion', '2')}",
                 " Plugins:",
                 "  Volume: local",
                 "  Network: bridge host ipvlan macvlan null overlay",
                 "  Log: awslogs fluentd gcplogs gelf journald json-file local logentries splunk syslog",
                 f" Swarm: {(info.get('Swarm') or {}).get('LocalNodeState', 'inactive')}",
                 f" Runtimes: {' '.join(sorted(info.get('Runtimes') or {'runc': {}}))}",
                 f" Default Runtime: {info.get('DefaultRuntime', 'runc')}",
                 " Init Binary: docker-init",
                 " containerd version: ",
                 " runc version: ",
                 " init version: ",
                 " Security Options:",
                 "  apparmor",
                 "  seccomp",
                 "   Profile: builtin",
                 "  cgroupns",
                 f" Kernel Version: {info.get('KernelVersion', '')}",
                 f" Operating System: {info.get('OperatingSystem', '')}",
                 f" OSType: {info.get('OSType', 'linux')}",
                 f" Architecture: {info.get('Architecture', 'x86_64')}",
                 f" CPUs: {info.get('NCPU', 1)}",
                 f" Total Memory: {fmt.bytes_size(info.get('MemTotal', 0))}",
                 f" Name: {info.get('Name', '')}",
                 f" ID: {info.get('ID', '')}",
                 f" Docker Root Dir: {info.get('DockerRootDir', '/var/lib/docker')}",
                 " Debug Mode: false",
                 " Experimental: false",
                 " Insecure Registries:"]
        for cidr in (info.get("RegistryConfig") or {}).get("InsecureRegistryCIDRs") or ["127.0.0.0/8"]:
            lines.append(f"  {cidr}")
        lines += [f" Live Restore Enabled: {str(bool(info.get('LiveRestoreEnabled'))).lower()}", ""]
        self.out("\n".join(lines) + "\n")
        for w in info.get("Warnings") or []:
            self.errln(w)
        return 0

    def cmd_version(self, inv: Invocation) -> int:
        template = inv.values["format"]
        client = {"Platform": None, **self.client_version(), "APIVersion": CLIENT_VERSION["ApiVersion"]}
        problem = None
        server = None
        try:
            server = self.engine.version()
        except _Problem as e:
            problem = e.message
        if server is not None:
            comps = []
            for comp in server.get("Components") or []:
                comp = dict(comp)
                if comp.get("Name") == "Engine":
                    comp["Details"] = {"ApiVersion": server.get("ApiVersion", ""),
                                       "MinAPIVersion": server.get("MinAPIVersion", ""),
                                       "GitCommit": server.get("GitCommit", ""),
                                       "GoVersion": server.get("GoVersion", ""),
                                       "Os": server.get("Os", "linux"), "Arch": server.get("Arch", "amd64"),
                                       "BuildTime": _ansic(server.get("BuildTime", "")),
                                       "Experimental": "false", "KernelVersion": server.get("KernelVersion", "")}
                elif comp.get("Name") == "containerd":
                    comp.setdefault("Details", {"GitCommit": ""})
                elif comp.get("Name") == "runc":
                    comp.setdefault("Details", {"GitCommit": ""})
                elif comp.get("Name") == "docker-init":
                    comp.setdefault("Details", {"GitCommit": "de40ad0"})
                comps.append(comp)
            server = dict(server)
            server["Components"] = comps
        data = {"Client": client, "Server": server}
        if template:
            text = template if template != "json" else "{{json .}}"
            try:
                out = fmt.Template(text).execute(data)
            except fmt.TemplateError as e:
                self.errln(f"template parsing error: {e.message}")
                return 64
            self.outln(out)
        else:
            rows = ["Client:",
                    f" Version:\t{client['Version']}",
                    f" API version:\t{client['APIVersion']}",
                    f" Go version:\t{client['GoVersion']}",
                    f" Git commit:\t{client['GitCommit']}",
                    f" Built:\t{client['BuildTime']}",
                    f" OS/Arch:\t{client['Os']}/{client['Arch']}",
                    f" Context:\t{client['Context']}"]
            if server is not None:
                rows += ["", "Server:"]
                for comp in server["Components"]:
                    rows.append(f" {comp['Name']}:")
                    if comp["Name"] == "Engine":
                        d = comp["Details"]
                        rows += [f"  Version:\t{comp['Version']}",
                                 f"  API version:\t{d['ApiVersion']} (minimum version {d['MinAPIVersion']})",
                                 f"  Go version:\t{d['GoVersion']}",
                                 f"  Git commit:\t{d['GitCommit']}",
                                 f"  Built:\t{d['BuildTime']}",
                                 f"  OS/Arch:\t{d['Os']}/{d['Arch']}",
                                 f"  Experimental:\t{d['Experimental']}"]
                    else:
                        rows.append(f"  Version:\t{comp['Version']}")
                        for key in sorted(comp.get("Details") or {}):
                            rows.append(f"  {key}:\t{comp['Details'][key]}")
            self.out(fmt.tabwriter("\n".join(rows) + "\n", minwidth=20, padding=1))
        if problem is not None:
            self.errln(problem)
            return 1
        return 0


def _ansic(text: str) -> str:
    """Go's ``time.ANSIC`` of an RFC 3339 time (``Mon Jan 20 12:00:00 2025``)."""
    import datetime as _dt

    m = re.match(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})", text or "")
    if not m:
        return text
    moment = _dt.datetime.fromisoformat(m.group(1))
    return moment.strftime("%a %b ") + f"{moment.day:>2}" + moment.strftime(" %H:%M:%S %Y")


@register_program("docker")
def main(proc: Process) -> Generator[Any, Any, int]:
    """``/usr/bin/docker``: the Docker CLI (see the module docstring)."""
    return DockerCLI(proc).main()
