"""How the ``docker`` CLI prints things: sizes, durations, aligned tables and ``--format`` templates.

Everything here reproduces a piece of the real Docker CLI (``docker/cli`` and
the Go libraries it uses) so the simulated ``docker`` prints byte for byte
what a student would see on a real machine:

* :func:`human_size` / :func:`bytes_size` are go-units ``HumanSizeWithPrecision``
  (decimal: ``187MB``, ``5.2kB``) and ``BytesSize`` (binary: ``1.5MiB``);
* :func:`human_duration` is go-units ``HumanDuration`` ("About a minute");
* :func:`tabwriter` is Go's ``text/tabwriter`` as docker configures it
  (min width 10, padding 3, spaces), :func:`table` builds on it;
* :class:`Template` is a subset of Go's ``text/template`` with docker's extra
  functions (``json``, ``join``, ``split``, ``lower``, ``upper``, ``title``,
  ``pad``, ``truncate``), which is what ``--format`` / ``-f`` take;
* :func:`format_list` is docker's formatter context: the ``table`` prefix,
  ``\\t`` escapes, headers, one line per item;
* :func:`flag_usages` is pflag's ``Options:`` block of ``--help``.

>>> human_size(187_000_000), human_size(5_200), human_size(0)
('187MB', '5.2kB', '0B')
>>> human_duration(90), human_duration(3 * 3600)
('About a minute', '3 hours')
>>> print(table([["web", "Up 2 minutes"]], ["NAMES", "STATUS"]))
NAMES     STATUS
web       Up 2 minutes
>>> Template("{{.State.Status}} {{json .Config.Cmd}}").execute(
...     {"State": {"Status": "running"}, "Config": {"Cmd": ["nginx", "-g", "daemon off;"]}})
'running ["nginx","-g","daemon off;"]'
"""

from __future__ import annotations

import datetime as _dt
import json as _json
import re
from typing import Any, Callable, Iterable, Sequence

from ..sim.errors import InvalidInput

__all__ = [
    "human_size",
    "bytes_size",
    "human_duration",
    "parse_size",
    "go_time",
    "go_quote",
    "go_str",
    "ellipsis",
    "truncate_id",
    "tabwriter",
    "table",
    "display_ports",
    "flag_usages",
    "TemplateError",
    "Template",
    "FormatContext",
    "HeaderContext",
    "format_list",
    "NO_VALUE",
]


# ---------------------------------------------------------------------------
# sizes and durations (github.com/docker/go-units)
# ---------------------------------------------------------------------------
_DECIMAL = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
_BINARY = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]


def _size_and_unit(size: float, base: float, units: list[str]) -> tuple[float, str]:
    i = 0
    while size >= base and i < len(units) - 1:
        size /= base
        i += 1
    return size, units[i]


def human_size(size: float, precision: int = 3) -> str:
    """Decimal size the way ``docker images`` / ``docker ps -s`` print it (``%.3g`` + unit).

    ``precision=4`` is go-units ``HumanSize`` (``docker system df``).

    >>> human_size(187_654_321), human_size(1_234), human_size(999), human_size(77_800_000, 4)
    ('188MB', '1.23kB', '999B', '77.8MB')
    """
    value, unit = _size_and_unit(float(size), 1000.0, _DECIMAL)
    return "%.*g%s" % (precision, value, unit)


def bytes_size(size: float) -> str:
    """Binary size like ``docker stats`` memory (go-units ``BytesSize``).

    >>> bytes_size(3_500_000), bytes_size(2 * 1024**3)
    ('3.338MiB', '2GiB')
    """
    value, unit = _size_and_unit(float(size), 1024.0, _BINARY)
    return "%.4g%s" % (value, unit)


def parse_size(text: str, binary: bool = False) -> int:
    """Bytes in ``text`` like go-units ``FromHumanSize`` / ``RAMInBytes`` (``-m 512m``).

    >>> parse_size("512m", binary=True), parse_size("1.5GB"), parse_size("100")
    (536870912, 1500000000, 100)

    Raises:
        InvalidInput: ``invalid size: 'abc'`` / ``invalid suffix: 'zz'``.
    """
    seps = [text.rfind(c) for c in "01234567890. "]
    sep = max(seps)
    if sep == -1:
        raise InvalidInput(f"invalid size: '{text}'")
    if text[sep] != " ":
        num, sfx = text[: sep + 1], text[sep + 1:]
    else:
        num, sfx = text[:sep], text[sep + 1:]
    try:
        if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", num):
            raise ValueError
        size = float(num)
    except ValueError:
        raise InvalidInput(f'strconv.ParseFloat: parsing "{num}": invalid syntax') from None
    if size < 0:
        raise InvalidInput(f"invalid size: '{text}'")
    if not sfx:
        return int(size)
    if len(sfx) > 3:
        raise InvalidInput(f"invalid suffix: '{sfx}'")
    low = sfx.lower()
    if low[0] == "b":
        if len(low) > 1:
            raise InvalidInput(f"invalid suffix: '{low}'")
        return int(size)
    mult = {"k": 1, "m": 2, "g": 3, "t": 4, "p": 5}.get(low[0])
    if mult is None or (len(low) == 2 and low[1] != "b") or (len(low) == 3 and low[1:] != "ib"):
        raise InvalidInput(f"invalid suffix: '{low}'")
    return int(size * (1024 if binary else 1000) ** mult)


def human_duration(seconds: float) -> str:
    """A rough duration like Docker prints it (go-units ``HumanDuration``).

    >>> [human_duration(s) for s in (0.2, 1, 59, 60, 150)]
    ['Less than a second', '1 second', '59 seconds', 'About a minute', '2 minutes']
    >>> [human_duration(s) for s in (3000, 3600, 7200)]
    ['50 minutes', 'About an hour', '2 hours']
    >>> [human_duration(d * 86400) for d in (3, 20, 90, 800)]
    ['3 days', '2 weeks', '3 months', '2 years']
    """
    secs = int(seconds)
    if secs < 1:
        return "Less than a second"
    if secs == 1:
        return "1 second"
    if secs < 60:
        return f"{secs} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def go_time(moment: _dt.datetime) -> str:
    """Go's ``time.Time.String()`` in UTC (``docker ps --format '{{.CreatedAt}}'``).

    >>> go_time(_dt.datetime(2025, 3, 3, 9, 0, 5, tzinfo=_dt.timezone.utc))
    '2025-03-03 09:00:05 +0000 UTC'
    """
    return moment.strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


# ---------------------------------------------------------------------------
# strings
# ---------------------------------------------------------------------------
def go_quote(text: str) -> str:
    """Go's ``strconv.Quote``: double quotes, backslash escapes, printable unicode kept.

    >>> print(go_quote("nginx -g 'daemon off;'"), go_quote('say "hi"\\n'))
    "nginx -g 'daemon off;'" "say \\"hi\\"\\n"
    """
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\a":
            out.append("\\a")
        elif ch == "\b":
            out.append("\\b")
        elif ch == "\f":
            out.append("\\f")
        elif ch == "\v":
            out.append("\\v")
        elif not ch.isprintable() and ch != " ":
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x80 else (f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _char_width(ch: str) -> int:
    import unicodedata

    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def ellipsis(text: str, max_width: int) -> str:
    """Cut ``text`` to ``max_width`` display cells ending in ``…`` (docker's ``formatter.Ellipsis``).

    >>> ellipsis("/docker-entrypoint.sh nginx -g 'daemon off;'", 20)
    '/docker-entrypoint.…'
    >>> ellipsis("short", 20)
    'short'
    """
    if max_width <= 0:
        return ""
    if max_width == 1:
        return text[:1]
    widths = [_char_width(c) for c in text]
    if sum(widths) <= max_width:
        return text
    total = 0
    for i, w in enumerate(widths):
        if total + w > max_width - 1:
            return text[:i] + "…"
        total += w
    return text


def truncate_id(ident: str) -> str:
    """The 12-character short form of an id, without its ``sha256:`` prefix (``stringid.TruncateID``).

    >>> truncate_id("sha256:3f2a1c9b7d0e44556677")
    '3f2a1c9b7d0e'
    """
    if ":" in ident:
        ident = ident.split(":", 1)[1]
    return ident[:12]


# ---------------------------------------------------------------------------
# text/tabwriter
# ---------------------------------------------------------------------------
def tabwriter(text: str, minwidth: int = 10, padding: int = 3, padchar: str = " ") -> str:
    """Align tab-separated cells in columns exactly like Go's ``text/tabwriter``.

    Docker uses ``tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)``: every column
    is as wide as its widest cell plus 3 spaces, at least 10; the last cell
    of a line is not part of a column; a line with fewer cells ends a
    column block.

    >>> print(tabwriter("CONTAINER ID\\tNAMES\\nabc\\tweb\\n"), end="")
    CONTAINER ID   NAMES
    abc            web
    """
    lines = [line.split("\t") for line in text.split("\n")]
    out: list[str] = []
    widths: list[int] = []

    def write_lines(line0: int, line1: int) -> None:
        for i in range(line0, line1):
            cells = lines[i]
            for j, cell in enumerate(cells):
                if j < len(widths):
                    out.append(cell + padchar * (widths[j] - len(cell)))
                else:
                    out.append(cell)
            if i + 1 < len(lines):
                out.append("\n")

    def fmt(line0: int, line1: int) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            write_lines(line0, this)
            line0 = this
            width = minwidth
            while this < line1:
                cells = lines[this]
                if column >= len(cells) - 1:
                    break
                width = max(width, len(cells[column]) + padding)
                this += 1
            widths.append(width)
            fmt(line0, this)
            widths.pop()
            line0 = this
            this += 1
        write_lines(line0, line1)

    fmt(0, len(lines))
    return "".join(out)


def table(rows: Iterable[Sequence[Any]], headers: Sequence[str] | None = None) -> str:
    """A docker-style table (no trailing newline): headers then rows, aligned by :func:`tabwriter`.

    >>> print(table([["vol1", "local"]], ["VOLUME NAME", "DRIVER"]))
    VOLUME NAME   DRIVER
    vol1          local
    """
    body = []
    if headers is not None:
        body.append("\t".join(headers))
    body.extend("\t".join(str(c) for c in row) for row in rows)
    return tabwriter("\n".join(body))


# ---------------------------------------------------------------------------
# ports (formatter.DisplayablePorts, docker 24/25)
# ---------------------------------------------------------------------------
def display_ports(ports: Iterable[dict]) -> str:
    """The PORTS column of ``docker ps``.

    ``ports`` are API ``Port`` rows: ``{"IP": "0.0.0.0", "PrivatePort": 80,
    "PublicPort": 8080, "Type": "tcp"}`` (no ``IP``/``PublicPort`` when only
    exposed).

    >>> display_ports([{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
    ...                {"IP": "::", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}])
    '0.0.0.0:8080->80/tcp, :::8080->80/tcp'
    >>> display_ports([{"PrivatePort": 80, "Type": "tcp"}, {"PrivatePort": 81, "Type": "tcp"}])
    '80-81/tcp'
    """
    rows = sorted(ports, key=lambda p: (int(p.get("PrivatePort") or 0), p.get("IP") or "",
                                        int(p.get("PublicPort") or 0), p.get("Type") or ""))
    groups: dict[str, list[int]] = {}
    order: list[str] = []
    result: list[str] = []
    mappings: list[str] = []

    def form(key: str, first: int, last: int) -> str:
        parts = key.split("/")
        kind, ip = parts[0], ""
        if len(parts) > 1:
            ip, kind = parts[0], parts[1]
        group = str(first) if first == last else f"{first}-{last}"
        if ip:
            group = f"{ip}:{group}->{group}"
        return f"{group}/{kind}"

    for port in rows:
        current = int(port.get("PrivatePort") or 0)
        key = port.get("Type") or "tcp"
        ip = port.get("IP") or ""
        if ip:
            public = int(port.get("PublicPort") or 0)
            if public != current:
                mappings.append(f"{ip}:{public}->{current}/{key}")
                continue
            key = f"{ip}/{key}"
        group = groups.get(key)
        if group is None:
            groups[key] = [current, current]
            order.append(key)
            continue
        if current == group[1] + 1:
            group[1] = current
            continue
        result.append(form(key, group[0], group[1]))
        groups[key] = [current, current]
    for key in order:
        result.append(form(key, *groups[key]))
    return ", ".join(result + mappings)


# ---------------------------------------------------------------------------
# pflag usage block
# ---------------------------------------------------------------------------
def _wrap_n(i: int, slop: int, s: str) -> tuple[str, str]:
    if i + slop > len(s):
        return s, ""
    head = s[:i]
    w = max(head.rfind(" "), head.rfind("\t"), head.rfind("\n"))
    if w <= 0:
        return s, ""
    nl = head.rfind("\n")
    if 0 < nl < w:
        return s[:nl], s[nl + 1:]
    return s[:w], s[w + 1:]


def _wrap(i: int, w: int, s: str) -> str:
    if w == 0:
        return s.replace("\n", "\n" + " " * i)
    width = w - i
    r = ""
    if width < 24:
        i = 16
        width = w - i
        r += "\n" + " " * i
    if width < 24:
        return s.replace("\n", r)
    slop = 5
    width -= slop
    line, s = _wrap_n(width, slop, s)
    r += line.replace("\n", "\n" + " " * i)
    while s:
        line, s = _wrap_n(width, slop, s)
        r += "\n" + " " * i + line.replace("\n", "\n" + " " * i)
    return r


def flag_usages(flags: Iterable[tuple[str, str, str, str]], cols: int = 79) -> str:
    """pflag's ``FlagUsagesWrapped``: the lines under ``Options:`` in ``--help``.

    ``flags`` are ``(shorthand, name, varname, usage)``, usage already
    including any ``(default ...)``; they are sorted by name like pflag.

    >>> print(flag_usages([("f", "force", "", "Force the removal of a running container (uses SIGKILL)"),
    ...                    ("v", "volumes", "", "Remove anonymous volumes associated with the container")]), end="")
      -f, --force     Force the removal of a running container (uses SIGKILL)
      -v, --volumes   Remove anonymous volumes associated with the container
    """
    lines = []
    maxlen = 0
    for short, name, varname, usage in sorted(flags, key=lambda f: f[1]):
        line = f"  -{short}, --{name}" if short else f"      --{name}"
        if varname:
            line += " " + varname
        line += "\x00"
        maxlen = max(maxlen, len(line))
        lines.append(line + usage)
    out = []
    for line in lines:
        sidx = line.index("\x00")
        spacing = " " * (maxlen - sidx)
        out.append(f"{line[:sidx]} {spacing} {_wrap(maxlen + 2, cols, line[sidx + 1:])}\n")
    return "".join(out)


# ---------------------------------------------------------------------------
# Go text/template (the subset ``--format`` needs)
# ---------------------------------------------------------------------------
class TemplateError(InvalidInput):
    """A ``--format`` template failed to parse or execute (message in Go's words)."""


class _NoValue:
    """What a missing map key evaluates to (prints ``<no value>`` like Go)."""

    def __repr__(self) -> str:
        return "<no value>"

    def __bool__(self) -> bool:
        return False


NO_VALUE = _NoValue()


class FormatContext:
    """Base of the objects ``--format`` templates run on (ContainerContext, ImageContext ...).

    Subclasses list their template fields in ``fields`` (capitalised, like
    Go's exported methods) and define them as properties or methods.
    ``{{json .}}`` marshals every zero-argument field, keys sorted.
    """

    go_type = "*formatter.Context"
    fields: tuple[str, ...] = ()
    headers: dict[str, str] = {}

    def template_field(self, name: str) -> Any:
        if name in self.fields:
            return getattr(self, name)
        raise AttributeError(name)

    def to_json(self) -> dict:
        out = {}
        for name in sorted(self.fields):
            value = getattr(self, name)
            if callable(value):
                continue
            out[name] = value
        return out


class HeaderContext(FormatContext):
    """The header row of a table: each field evaluates to its column title."""

    go_type = "formatter.SubHeaderContext"

    def __init__(self, headers: dict[str, str]):
        self._headers = dict(headers)

    def template_field(self, name: str) -> Any:
        if name == "Label":
            return lambda label: " ".join(label.split(".")).upper()
        if name in self._headers:
            return self._headers[name]
        return NO_VALUE

    def to_json(self) -> dict:
        return dict(sorted(self._headers.items()))


def go_str(value: Any) -> str:
    """How Go's ``fmt.Print`` shows a template value (``[a b]``, ``map[k:v]``, ``true``).

    >>> go_str(["a", "b"]), go_str({"b": 1, "a": True}), go_str(None), go_str(1.5)
    ('[a b]', 'map[a:true b:1]', '<nil>', '1.5')
    """
    if value is NO_VALUE:
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value == int(value) and abs(value) < 1e21:
            return str(int(value))
        r = repr(value)
        return r.replace("e+0", "e+").replace("e-0", "e-") if "e" in r else r
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(go_str(v) for v in value) + "]"
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        return "map[" + " ".join(f"{go_str(k)}:{go_str(v)}" for k, v in items) + "]"
    if isinstance(value, FormatContext):
        return "{" + " ".join(go_str(v) for v in value.to_json().values()) + "}"
    return str(value)


def _to_jsonable(value: Any) -> Any:
    if value is NO_VALUE:
        return None
    if isinstance(value, FormatContext):
        return {k: _to_jsonable(v) for k, v in value.to_json().items()}
    if isinstance(value, dict):
        return {str(k): _to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_jsonable(v) for v in value]
    return value


def _go_json(value: Any) -> str:
    return _json.dumps(_to_jsonable(value), ensure_ascii=False, separators=(",", ":"))


def _truthy(value: Any) -> bool:
    if value is None or value is NO_VALUE:
        return False
    if isinstance(value, FormatContext):
        return True
    return bool(value)


def _go_type_name(value: Any) -> str:
    if isinstance(value, FormatContext):
        return value.go_type
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "[]interface {}"
    if isinstance(value, dict):
        return "map[string]interface {}"
    return "interface {}"


class _ExecError(Exception):
    def __init__(self, message: str, node: "_Node | None" = None):
        super().__init__(message)
        self.message = message
        self.node = node


def _printf(fmt: str, *args: Any) -> str:
    out = []
    i = 0
    argi = 0
    spec = re.compile(r"%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])")
    while i < len(fmt):
        m = spec.match(fmt, i) if fmt[i] == "%" else None
        if not m:
            out.append(fmt[i])
            i += 1
            continue
        i = m.end()
        flags, width, prec, verb = m.groups()
        if verb == "%":
            out.append("%")
            continue
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        arg = args[argi]
        argi += 1
        if verb == "d" and isinstance(arg, (int, float)) and not isinstance(arg, bool):
            s = str(int(arg))
        elif verb in "fFeEgG" and isinstance(arg, (int, float)):
            s = ("%" + ("." + prec if prec else "") + verb) % arg
        elif verb == "q":
            s = go_quote(go_str(arg))
        elif verb == "x" and isinstance(arg, int):
            s = "%x" % arg
        elif verb == "x":
            s = go_str(arg).encode().hex()
        elif verb == "t":
            s = go_str(arg)
        elif verb in "sv":
            s = go_str(arg)
            if prec:
                s = s[: int(prec)]
        else:
            s = f"%!{verb}({_go_type_name(arg)}={go_str(arg)})"
        if width:
            if "-" in (flags or ""):
                s = s.ljust(int(width))
            elif "0" in (flags or "") and verb in "dfFeEgGx":
                sign = s[0] if s[:1] in "+-" else ""
                s = sign + s[len(sign):].rjust(int(width) - len(sign), "0")
            else:
                s = s.rjust(int(width))
        out.append(s)
    if argi < len(args):
        out.append("%!(EXTRA " + ", ".join(f"{_go_type_name(a)}={go_str(a)}" for a in args[argi:]) + ")")
    return "".join(out)


def _index(item: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(item, dict):
            item = item.get(key, NO_VALUE) if not isinstance(key, int) else item.get(str(key), NO_VALUE)
        elif isinstance(item, (list, tuple, str)):
            if not isinstance(key, int):
                raise _ExecError(f"cannot index slice/array with type {_go_type_name(key)}")
            if key < 0 or key >= len(item):
                raise _ExecError(f"error calling index: index out of range: {key}")
            item = item[key]
        elif item is None or item is NO_VALUE:
            raise _ExecError("error calling index: index of untyped nil")
        else:
            raise _ExecError(f"error calling index: can't index item of type {_go_type_name(item)}")
    return item


def _cmp(op: str) -> Callable[..., bool]:
    def fn(a: Any, *bs: Any) -> bool:
        a = None if a is NO_VALUE else a
        bs = tuple(None if b is NO_VALUE else b for b in bs)
        if op == "eq":
            return any(a == b for b in bs)
        b = bs[0]
        if op == "ne":
            return a != b
        try:
            return {"lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[op]
        except TypeError:
            raise _ExecError(f"error calling {op}: incompatible types for comparison") from None

    return fn


def _and(*args: Any) -> Any:
    for a in args:
        if not _truthy(a):
            return a
    return args[-1]


def _or(*args: Any) -> Any:
    for a in args:
        if _truthy(a):
            return a
    return args[-1]


def _title(s: str) -> str:
    return re.sub(r"(^|(?<=[^A-Za-z0-9_']))([a-z])", lambda m: m.group(1) + m.group(2).upper(), s)


def _len(x: Any) -> int:
    if isinstance(x, (str, list, tuple, dict)):
        return len(x)
    raise _ExecError(f"error calling len: len of type {_go_type_name(x)}")


#: docker's template functions (``templates.basicFunctions``) plus Go's builtins.
BASIC_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "json": _go_json,
    "split": lambda s, sep: go_str(s).split(sep) if sep else list(go_str(s)),
    "join": lambda items, sep: sep.join(go_str(i) for i in (items or [])),
    "title": lambda s: _title(go_str(s)),
    "lower": lambda s: go_str(s).lower(),
    "upper": lambda s: go_str(s).upper(),
    "pad": lambda s, pre, suf: s if s == "" else " " * int(pre) + go_str(s) + " " * int(suf),
    "truncate": lambda s, n: go_str(s)[: int(n)],
    "index": _index,
    "len": _len,
    "print": lambda *a: "".join((" " if i and not isinstance(x, str) and not isinstance(a[i - 1], str) else "")
                                + go_str(x) for i, x in enumerate(a)),
    "println": lambda *a: " ".join(go_str(x) for x in a) + "\n",
    "printf": lambda f, *a: _printf(f, *a),
    "eq": _cmp("eq"), "ne": _cmp("ne"), "lt": _cmp("lt"), "le": _cmp("le"), "gt": _cmp("gt"), "ge": _cmp("ge"),
    "and": _and, "or": _or, "not": lambda x: not _truthy(x),
}

#: Functions used when executing a table header (``templates.HeaderFunctions``).
HEADER_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "json": lambda v: v, "split": lambda v, _s: v, "join": lambda v, _s: v, "title": lambda v: v,
    "lower": lambda v: v, "upper": lambda v: v, "truncate": lambda v, _n: v,
}


# -- lexer -------------------------------------------------------------------
class _Tok:
    __slots__ = ("kind", "val", "pos")

    def __init__(self, kind: str, val: Any, pos: int):
        self.kind, self.val, self.pos = kind, val, pos

    def __repr__(self) -> str:
        return f"{self.kind}:{self.val!r}"


_KEYWORDS = {"if", "else", "end", "range", "with", "define", "template", "block", "break", "continue", "nil", "true",
             "false"}
_GO_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a", "b": "\b", "f": "\f",
               "v": "\v", "0": "\0"}


def _unquote(body: str) -> str:
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            n = body[i + 1]
            if n in "xuU":
                size = {"x": 2, "u": 4, "U": 8}[n]
                out.append(chr(int(body[i + 2:i + 2 + size], 16)))
                i += 2 + size
                continue
            out.append(_GO_ESCAPES.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


class _Node:
    def __init__(self, kind: str, pos: int, **kw: Any):
        self.kind = kind
        self.pos = pos
        self.__dict__.update(kw)


class Template:
    """A parsed Go ``text/template`` (the subset docker's ``--format`` uses).

    Supported: text, ``{{.Field}}``, chains ``.A.B``, ``$``/``$var``
    (``{{range $k, $v := .M}}``), string/number/bool literals, pipelines
    with ``|``, parentheses, ``if``/``else if``/``else``/``end``,
    ``range`` (with ``else``), ``with``, ``{{- -}}`` trimming, comments,
    and the functions ``json join split lower upper title pad truncate
    index len print printf println eq ne lt le gt ge and or not``.

    Raises:
        TemplateError: on a syntax error, with Go's message
            (``template: :1: unclosed action``).

    >>> Template('{{range $p, $b := .Ports}}{{$p}}->{{(index $b 0).HostPort}} {{end}}').execute(
    ...     {"Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}})
    '80/tcp->8080 '
    >>> Template('{{if eq .State "running"}}up{{else}}down{{end}}').execute({"State": "exited"})
    'down'
    """

    def __init__(self, text: str, name: str = "", functions: dict[str, Callable[..., Any]] | None = None):
        self.text = text
        self.name = name
        self.functions = dict(BASIC_FUNCTIONS)
        if functions:
            self.functions.update(functions)
        self._toks: list[_Tok] = []
        self._i = 0
        self._vars: list[list[str]] = [["$"]]
        self.root = self._parse()

    # -- errors ----------------------------------------------------------
    def _line(self, pos: int) -> int:
        return self.text.count("\n", 0, pos) + 1

    def _perr(self, msg: str, pos: int) -> TemplateError:
        return TemplateError(f"template: {self.name}:{self._line(pos)}: {msg}")

    # -- lexing -------------------------------------------------------------
    def _lex(self) -> list[_Tok]:
        text = self.text
        toks: list[_Tok] = []
        i = 0
        n = len(text)
        while i < n:
            start = text.find("{{", i)
            if start < 0:
                toks.append(_Tok("text", text[i:], i))
                break
            chunk = text[i:start]
            j = start + 2
            trim_left = text.startswith("-", j) and j + 1 < n and text[j + 1] in " \t\r\n"
            if trim_left:
                chunk = chunk.rstrip(" \t\r\n")
                j += 2
            if chunk:
                toks.append(_Tok("text", chunk, i))
            # comment
            k = j
            while k < n and text[k] in " \t\r\n":
                k += 1
            if text.startswith("/*", k):
                end = text.find("*/", k + 2)
                if end < 0:
                    raise self._perr("unclosed comment", start)
                k = end + 2
                while k < n and text[k] in " \t\r\n":
                    k += 1
                trim_right = text.startswith("-}}", k)
                if trim_right:
                    k += 1
                if not text.startswith("}}", k):
                    raise self._perr("comment ends before closing delimiter", start)
                i = k + 2
                if trim_right:
                    while i < n and text[i] in " \t\r\n":
                        i += 1
                continue
            toks.append(_Tok("open", None, start))
            i, trim_right = self._lex_action(j, toks, start)
            toks.append(_Tok("close", None, i))
            i += 2
            if trim_right:
                while i < n and text[i] in " \t\r\n":
                    i += 1
        toks.append(_Tok("eof", None, n))
        return toks

    def _lex_action(self, i: int, toks: list[_Tok], start: int) -> tuple[int, bool]:
        text = self.text
        n = len(text)
        depth = 0
        while True:
            if i >= n:
                raise self._perr("unclosed action", start)
            c = text[i]
            if c in " \t\r":
                if text.startswith("-}}", i + 1) and depth == 0:
                    return i + 2, True
                i += 1
                continue
            if c == "\n":
                raise self._perr("unclosed action", start)
            if text.startswith("}}", i):
                if depth:
                    raise self._perr("unclosed left paren", start)
                return i, False
            if c == "|":
                toks.append(_Tok("pipe", "|", i)); i += 1; continue
            if c == "(":
                depth += 1; toks.append(_Tok("lparen", "(", i)); i += 1; continue
            if c == ")":
                depth -= 1
                if depth < 0:
                    raise self._perr("unexpected right paren U+0029 ')'", start)
                toks.append(_Tok("rparen", ")", i)); i += 1; continue
            if c == ",":
                toks.append(_Tok("comma", ",", i)); i += 1; continue
            if text.startswith(":=", i):
                toks.append(_Tok("declare", ":=", i)); i += 2; continue
            if c == "=":
                toks.append(_Tok("assign", "=", i)); i += 1; continue
            if c == '"':
                j = i + 1
                while j < n and text[j] != '"':
                    if text[j] == "\\":
                        j += 1
                    if j < n and text[j] == "\n":
                        raise self._perr("unterminated quoted string", start)
                    j += 1
                if j >= n:
                    raise self._perr("unterminated quoted string", start)
                toks.append(_Tok("string", _unquote(text[i + 1:j]), i)); i = j + 1; continue
            if c == "`":
                j = text.find("`", i + 1)
                if j < 0:
                    raise self._perr("unterminated raw quoted string", start)
                toks.append(_Tok("string", text[i + 1:j], i)); i = j + 1; continue
            m = re.compile(r"[+-]?(0[xX][0-9a-fA-F_]+|\d[\d_]*(\.\d*)?([eE][+-]?\d+)?|\.\d+)").match(text, i)
            if m and (c.isdigit() or (c in "+-." and len(m.group(0)) > 1 and (c != "." or text[i + 1].isdigit()))):
                s = m.group(0).replace("_", "")
                val: Any = int(s, 0) if re.fullmatch(r"[+-]?(0[xX][0-9a-fA-F]+|\d+)", s) else float(s)
                toks.append(_Tok("number", val, i)); i = m.end(); continue
            if c == ".":
                m = re.compile(r"(\.[A-Za-z_][A-Za-z0-9_]*)+").match(text, i)
                if m:
                    toks.append(_Tok("field", m.group(0)[1:].split("."), i)); i = m.end(); continue
                toks.append(_Tok("dot", ".", i)); i += 1; continue
            if c == "$":
                m = re.compile(r"\$[A-Za-z0-9_]*").match(text, i)
                name = m.group(0)
                toks.append(_Tok("variable", name, i)); i = m.end()
                m2 = re.compile(r"(\.[A-Za-z_][A-Za-z0-9_]*)+").match(text, i)
                if m2:
                    toks.append(_Tok("varfield", m2.group(0)[1:].split("."), i)); i = m2.end()
                continue
            m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(text, i)
            if m:
                word = m.group(0)
                if word in ("true", "false"):
                    toks.append(_Tok("bool", word == "true", i))
                elif word == "nil":
                    toks.append(_Tok("nil", None, i))
                elif word in _KEYWORDS:
                    toks.append(_Tok("keyword", word, i))
                else:
                    toks.append(_Tok("ident", word, i))
                i = m.end()
                m2 = re.compile(r"(\.[A-Za-z_][A-Za-z0-9_]*)+").match(text, i)
                if m2 and word not in _KEYWORDS:
                    raise self._perr(f"unexpected . after term \"{word}\"", start)
                continue
            raise self._perr(f"bad character U+{ord(c):04X} '{c}'", start)

    # -- parsing ------------------------------------------------------------
    def _peek(self) -> _Tok:
        return self._toks[self._i]

    def _next(self) -> _Tok:
        tok = self._toks[self._i]
        self._i += 1
        return tok

    def _parse(self) -> _Node:
        self._toks = self._lex()
        self._i = 0
        body, stop = self._parse_list(())
        if stop is not None:
            raise self._perr(f"unexpected {{{{{stop.val}}}}}", stop.pos)
        return body

    def _parse_list(self, stops: tuple[str, ...]) -> tuple[_Node, _Tok | None]:
        items: list[_Node] = []
        while True:
            tok = self._next()
            if tok.kind == "eof":
                if stops:
                    raise self._perr("unexpected EOF", tok.pos)
                return _Node("list", 0, items=items), None
            if tok.kind == "text":
                items.append(_Node("text", tok.pos, text=tok.val))
                continue
            # an action
            first = self._peek()
            if first.kind == "keyword":
                word = first.val
                if word in ("end", "else"):
                    if word not in stops:
                        raise self._perr(f"unexpected {{{{{word}}}}}", first.pos)
                    self._next()
                    if word == "end":
                        self._expect_close()
                    return _Node("list", 0, items=items), first
                if word in ("if", "range", "with"):
                    self._next()
                    items.append(self._parse_control(word, first.pos))
                    continue
                if word in ("break", "continue"):
                    self._next()
                    self._expect_close()
                    items.append(_Node(word, first.pos))
                    continue
                raise self._perr(f"{{{{{word}}}}} is not supported here", first.pos)
            pipe = self._parse_pipeline(tok.pos, allow_decl=True)
            self._expect_close()
            items.append(_Node("action", tok.pos, pipe=pipe))

    def _expect_close(self) -> None:
        tok = self._next()
        if tok.kind != "close":
            raise self._perr(f"unexpected {self._describe(tok)} in command", tok.pos)

    def _describe(self, tok: _Tok) -> str:
        if tok.kind == "string":
            return go_quote(tok.val)
        if tok.kind == "field":
            return "<." + ".".join(tok.val) + ">"
        if tok.kind in ("ident", "keyword", "variable"):
            return f"<{tok.val}>"
        return f'"{self.text[tok.pos:tok.pos + 1]}"' if tok.kind not in ("close", "eof") else "\"}}\""

    def _parse_control(self, word: str, pos: int) -> _Node:
        self._vars.append(list(self._vars[-1]))
        pipe = self._parse_pipeline(pos, allow_decl=True, range_decl=(word == "range"))
        self._expect_close()
        body, stop = self._parse_list(("end", "else"))
        else_body = None
        if stop is not None and stop.val == "else":
            nxt = self._peek()
            if nxt.kind == "keyword" and nxt.val in ("if", "with") and word in ("if", "with") and nxt.val == word:
                self._next()
                inner = self._parse_control(nxt.val, nxt.pos)
                else_body = _Node("list", 0, items=[inner])
                self._vars.pop()
                return _Node(word, pos, pipe=pipe, body=body, else_body=else_body)
            self._expect_close()
            else_body, stop = self._parse_list(("end",))
        self._vars.pop()
        return _Node(word, pos, pipe=pipe, body=body, else_body=else_body)

    def _parse_pipeline(self, pos: int, allow_decl: bool = False, range_decl: bool = False) -> _Node:
        decl: list[str] = []
        assign = False
        if allow_decl and self._peek().kind == "variable":
            save = self._i
            names = [self._next().val]
            if range_decl and self._peek().kind == "comma":
                self._next()
                if self._peek().kind == "variable":
                    names.append(self._next().val)
            if self._peek().kind in ("declare", "assign"):
                assign = self._next().kind == "assign"
                decl = names
                if assign:
                    for name in names:
                        if not any(name in scope for scope in self._vars):
                            raise self._perr(f'undefined variable "{name}"', pos)
            else:
                self._i = save
        cmds: list[_Node] = []
        while True:
            cmd = self._parse_command()
            if cmd is None:
                tok = self._peek()
                if tok.kind in ("close", "rparen"):
                    break
                raise self._perr(f"unexpected {self._describe(tok)} in command", tok.pos)
            cmds.append(cmd)
            if self._peek().kind == "pipe":
                self._next()
                continue
            break
        if not cmds:
            raise self._perr("missing value for command" if not decl else "missing value for command", pos)
        if decl and not assign:
            self._vars[-1].extend(decl)
        return _Node("pipe", pos, decl=decl, cmds=cmds, assign=assign)

    def _parse_command(self) -> _Node | None:
        args: list[_Node] = []
        start = self._peek().pos
        while True:
            op = self._parse_operand()
            if op is None:
                break
            args.append(op)
        if not args:
            return None
        end = self._peek().pos
        return _Node("command", start, args=args, text=self.text[start:end].strip())

    def _parse_operand(self) -> _Node | None:
        tok = self._peek()
        k = tok.kind
        if k == "field":
            self._next()
            # Go positions a chain (.A.B) at its second field
            pos = tok.pos if len(tok.val) == 1 else tok.pos + 1 + len(tok.val[0])
            return _Node("field", pos, names=tok.val, text="." + ".".join(tok.val))
        if k == "dot":
            self._next()
            return _Node("dot", tok.pos, text=".")
        if k == "variable":
            self._next()
            if not any(tok.val in scope for scope in self._vars):
                raise self._perr(f'undefined variable "{tok.val}"', tok.pos)
            names: list[str] = []
            pos = tok.pos
            if self._peek().kind == "varfield":
                vf = self._next()
                names, pos = vf.val, vf.pos
            return _Node("variable", pos, name=tok.val, names=names,
                         text=tok.val + ("." + ".".join(names) if names else ""))
        if k in ("string", "number", "bool", "nil"):
            self._next()
            return _Node("literal", tok.pos, value=tok.val, text=self.text[tok.pos:self._peek().pos].strip())
        if k == "ident":
            self._next()
            if tok.val not in self.functions:
                raise self._perr(f'function "{tok.val}" not defined', tok.pos)
            return _Node("ident", tok.pos, name=tok.val, text=tok.val)
        if k == "lparen":
            self._next()
            pipe = self._parse_pipeline(tok.pos)
            close = self._next()
            if close.kind != "rparen":
                raise self._perr("unclosed left paren", tok.pos)
            names = []
            m = re.compile(r"(\.[A-Za-z_][A-Za-z0-9_]*)+").match(self.text, close.pos + 1)
            if m and self._peek().kind == "field" and self._peek().pos == close.pos + 1:
                names = self._next().val
            return _Node("paren", tok.pos, pipe=pipe, names=names, text=self.text[tok.pos:close.pos + 1])
        return None

    # -- execution ----------------------------------------------------------
    def execute(self, data: Any, *, missingkey: str = "default",
                functions: dict[str, Callable[..., Any]] | None = None) -> str:
        """Run the template on ``data`` (dicts, lists, scalars or :class:`FormatContext`).

        ``missingkey="error"`` makes a missing map key an error, like docker
        inspect's fallback on raw JSON.

        Raises:
            TemplateError: ``template: :1:2: executing "" at <.Foo>: ...``.
        """
        funcs = dict(self.functions)
        if functions:
            funcs.update(functions)
        out: list[str] = []
        state = _State(self, data, funcs, missingkey)
        try:
            state.walk(self.root, data, [{"$": data}], out)
        except _ExecError as e:
            if e.node is None:
                raise TemplateError(f"template: {self.name}: {e.message}") from None
            pos = e.node.pos
            line = self._line(pos)
            col = pos - (self.text.rfind("\n", 0, pos) + 1)
            raise TemplateError(f'template: {self.name}:{line}:{col}: executing "{self.name}" at <{e.node.text}>: '
                                f'{e.message}') from None
        return "".join(out)


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _State:
    def __init__(self, tmpl: Template, data: Any, funcs: dict, missingkey: str):
        self.tmpl = tmpl
        self.funcs = funcs
        self.missingkey = missingkey

    def lookup_var(self, scopes: list[dict], name: str) -> Any:
        for scope in reversed(scopes):
            if name in scope:
                return scope[name]
        raise _ExecError(f'undefined variable: {name}')

    def walk(self, node: _Node, dot: Any, scopes: list[dict], out: list[str]) -> None:
        kind = node.kind
        if kind == "list":
            for item in node.items:
                self.walk(item, dot, scopes, out)
        elif kind == "text":
            out.append(node.text)
        elif kind == "action":
            value = self.pipeline(node.pipe, dot, scopes)
            if not node.pipe.decl:
                out.append(go_str(value))
        elif kind in ("if", "with"):
            scopes = scopes + [{}]
            value = self.pipeline(node.pipe, dot, scopes)
            if _truthy(value):
                self.walk(node.body, value if kind == "with" else dot, scopes, out)
            elif node.else_body is not None:
                self.walk(node.else_body, dot, scopes, out)
        elif kind == "range":
            self.range(node, dot, scopes, out)
        elif kind == "break":
            raise _Break()
        elif kind == "continue":
            raise _Continue()

    def range(self, node: _Node, dot: Any, scopes: list[dict], out: list[str]) -> None:
        pipe = node.pipe
        decl = pipe.decl
        inner = scopes + [{}]
        value = self.pipeline(_Node("pipe", pipe.pos, decl=[], cmds=pipe.cmds, assign=False), dot, inner)
        if isinstance(value, dict):
            items = [(k, value[k]) for k in sorted(value, key=str)]
        elif isinstance(value, (list, tuple)):
            items = list(enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            items = [(i, i) for i in range(value)]
        elif value is None or value is NO_VALUE:
            items = []
        else:
            raise _ExecError(f"range can't iterate over {go_str(value)}", pipe.cmds[0])
        if not items:
            if node.else_body is not None:
                self.walk(node.else_body, dot, scopes, out)
            return
        for key, elem in items:
            scope = {}
            if len(decl) == 1:
                scope[decl[0]] = elem
            elif len(decl) == 2:
                scope[decl[0]] = key
                scope[decl[1]] = elem
            try:
                self.walk(node.body, elem, scopes + [scope], out)
            except _Break:
                break
            except _Continue:
                continue

    def pipeline(self, pipe: _Node, dot: Any, scopes: list[dict]) -> Any:
        value: Any = _UNSET
        for cmd in pipe.cmds:
            value = self.command(cmd, dot, scopes, value)
        if pipe.decl:
            if pipe.assign:
                for scope in reversed(scopes):
                    if pipe.decl[0] in scope:
                        scope[pipe.decl[0]] = value
                        break
            else:
                scopes[-1][pipe.decl[-1]] = value
        return value

    def command(self, cmd: _Node, dot: Any, scopes: list[dict], final: Any) -> Any:
        first = cmd.args[0]
        rest = cmd.args[1:]
        if first.kind == "ident":
            fn = self.funcs[first.name]
            args = [self.operand(a, dot, scopes) for a in rest]
            if final is not _UNSET:
                args.append(final)
            try:
                return fn(*args)
            except _ExecError as e:
                if e.node is None:
                    e.node = cmd
                raise
            except TypeError:
                raise _ExecError(f"wrong number of args for {first.name}: got {len(args)}", cmd) from None
            except (ValueError, AttributeError, KeyError) as e:
                raise _ExecError(f"error calling {first.name}: {e}", cmd) from None
        if first.kind in ("field", "variable", "paren") and (rest or final is not _UNSET):
            args = [self.operand(a, dot, scopes) for a in rest]
            if final is not _UNSET:
                args.append(final)
            return self.operand(first, dot, scopes, args=args)
        if rest or final is not _UNSET:
            raise _ExecError(f"can't give argument to non-function {first.text}", first)
        return self.operand(first, dot, scopes)

    def operand(self, node: _Node, dot: Any, scopes: list[dict], args: list | None = None) -> Any:
        kind = node.kind
        if kind == "literal":
            return node.value
        if kind == "dot":
            return dot
        if kind == "ident":
            return self.funcs[node.name]()
        if kind == "field":
            return self.chain(dot, node.names, node, args)
        if kind == "variable":
            base = self.lookup_var(scopes, node.name)
            return self.chain(base, node.names, node, args) if node.names else base
        if kind == "paren":
            base = self.pipeline(node.pipe, dot, scopes)
            return self.chain(base, node.names, node, args) if node.names else base
        raise _ExecError("can't evaluate", node)

    def chain(self, value: Any, names: list[str], node: _Node, args: list | None) -> Any:
        for idx, name in enumerate(names):
            last = idx == len(names) - 1
            value = self.field(value, name, node, args if last else None)
        return value

    def field(self, value: Any, name: str, node: _Node, args: list | None) -> Any:
        if isinstance(value, FormatContext):
            try:
                attr = value.template_field(name)
            except AttributeError:
                raise _ExecError(f"can't evaluate field {name} in type {value.go_type}", node) from None
            if callable(attr):
                try:
                    return attr(*(args or []))
                except TypeError:
                    raise _ExecError(f"wrong number of args for {name}: want 1 got {len(args or [])}", node) from None
            if args:
                raise _ExecError(f"{name} has arguments but cannot be invoked as function", node)
            return attr
        if args:
            raise _ExecError(f"{name} is not a method but has arguments", node)
        if isinstance(value, dict):
            if name in value:
                return value[name]
            if self.missingkey == "error":
                raise _ExecError(f'map has no entry for key "{name}"', node)
            return NO_VALUE
        if value is None or value is NO_VALUE:
            raise _ExecError(f"nil pointer evaluating interface {{}}.{name}", node)
        raise _ExecError(f"can't evaluate field {name} in type {_go_type_name(value)}", node)


_UNSET = object()


# ---------------------------------------------------------------------------
# docker's formatter.Context: --format for lists
# ---------------------------------------------------------------------------
def format_list(fmt: str, items: Iterable[FormatContext], headers: dict[str, str]) -> str:
    """Render ``items`` with a ``--format`` string exactly like docker's formatter.

    ``table ...`` prints a header row (column titles from ``headers``) and
    aligns columns with :func:`tabwriter`; ``json`` prints ``{{json .}}``;
    ``\\t`` and ``\\n`` typed literally become a tab / newline; every item
    ends with a newline.

    Raises:
        TemplateError: ``template parsing error: template: ...``.
    """
    is_table = fmt.startswith("table")
    final = fmt[len("table"):] if is_table else ("{{json .}}" if fmt == "json" else fmt)
    final = final.strip(" ").replace("\\t", "\t").replace("\\n", "\n")
    try:
        tmpl = Template(final)
    except TemplateError as e:
        raise TemplateError(f"template parsing error: {e.message}") from None
    buf: list[str] = []
    for item in items:
        try:
            buf.append(tmpl.execute(item))
        except TemplateError as e:
            raise TemplateError(f"template parsing error: {e.message}") from None
        buf.append("\n")
    if not is_table:
        return "".join(buf)
    try:
        header = tmpl.execute(HeaderContext(headers), functions=HEADER_FUNCTIONS)
    except TemplateError:
        header = ""
    return tabwriter(header + "\n" + "".join(buf))
