"""Servers and demo programs that run inside containers and on machines.

Real servers, small: they read their real configuration files, listen on the
process's network namespace (``proc.ns.net.listen``), answer real protocol
bytes, log like the real ones and stop on the signals the real ones handle.

* ``busybox`` — the multi-call binary: runs the applet named by ``argv[0]``
  (``/bin/ls -> /bin/busybox``) or by its first argument (``busybox echo hi``).
* ``nginx`` — ``nginx -g 'daemon off;'``, ``-t``, ``-T``, ``-v``, ``-V``, ``-s reload|stop|quit``;
  reads ``/etc/nginx/nginx.conf`` and its includes (``listen``, ``server_name``,
  ``root``, ``alias``, ``index``, ``location`` (=, ^~, prefix, ~, ~*), ``try_files``,
  ``return``, ``proxy_pass`` with ``upstream`` round robin, ``error_page``,
  ``autoindex``, ``add_header``, ``access_log``/``error_log`` to files or /dev/stdout);
  SIGQUIT = graceful stop, SIGTERM/SIGINT = fast stop (both exit 0), SIGHUP = reload.
* ``httpd`` / ``httpd-foreground`` — Apache httpd 2.4 (``Listen``, ``DocumentRoot``,
  ``DirectoryIndex``); inside BusyBox ``httpd -f -p PORT -h DIR`` is BusyBox's httpd.
* ``redis-server`` / ``redis-cli`` — RESP (inline and arrays), strings, counters,
  lists, hashes, expiry on simulated time, ``SAVE``/``BGSAVE``, save points and a
  final save on SIGTERM into ``dir``/``dump.rdb`` (loaded at start), ``requirepass``.
* ``python3`` / ``python`` — ``-V``, ``-c``, ``-m http.server``, ``-m pip``, ``-m venv``,
  ``-m flask run`` and scripts, run by a *small interpreter* (no real Python is
  executed): imports (a missing third-party module raises ModuleNotFoundError),
  variables, arithmetic, f-strings, print, ``time.sleep`` (simulated), if/while/for,
  functions, try/except, ``sys.exit``, ``os.environ``, ``socket.gethostname()``,
  Flask apps (``@app.route`` with ``<var>`` parts, ``jsonify``, ``request.args``,
  ``app.run(host=, port=)``) and ``redis.Redis(...)`` clients (get/set/incr/...).
* Lab programs: ``crash``, ``exit-with``, ``cpu-hog``, ``mem-hog``, ``kv-server``,
  ``web-app``, ``monolith`` (each has ``--help``); and ``wget`` when no other
  module provides it.

A server bound to 127.0.0.1 only accepts connections from its own network
namespace; from anywhere else the connection is reset (``curl: (56) Recv
failure: Connection reset by peer`` through a published port), the classic
"works inside the container, not from the host" lesson.
"""

from __future__ import annotations

import ast
import datetime as _dt
import fnmatch
import hashlib
import json
import posixpath
import re
import shlex
from dataclasses import dataclass
from typing import Any, Callable, Generator, Iterable
from urllib.parse import unquote, urlsplit, parse_qs

from ..sim.errors import FsError, InvalidInput, NetworkError
from .fs import join, normpath
from .http import Request, Response
from .kernel import Exit, Process, program_entry, programs, register_program, run_program

__all__ = ["busybox", "nginx", "httpd", "redis_server", "redis_cli", "python3", "crash", "exit_with",
           "cpu_hog", "mem_hog", "kv_server", "web_app", "monolith", "resp_encode", "resp_parse"]

_EPOCH = _dt.datetime(2025, 3, 3, 9, 0, 0, tzinfo=_dt.timezone.utc)


_epoch: list[_dt.datetime] = []


def _now(proc: Process) -> _dt.datetime:
    """The calendar time of simulated ``proc.now`` (the world's EPOCH plus the seconds passed)."""
    if not _epoch:
        try:
            from ..world import EPOCH
        except ImportError:  # pragma: no cover
            EPOCH = _EPOCH
        _epoch.append(EPOCH)
    return _epoch[0] + _dt.timedelta(seconds=proc.now)


def _http_date(proc: Process) -> str:
    return _now(proc).strftime("%a, %d %b %Y %H:%M:%S GMT")


def _clf_time(proc: Process) -> str:
    return _now(proc).strftime("%d/%b/%Y:%H:%M:%S +0000")


class _Args:
    """A tiny option parser: ``--name value``, ``--name=value``, flags, positionals."""

    def __init__(self, argv: list[str], values: Iterable[str] = (), flags: Iterable[str] = ()):
        self.opts: dict[str, str] = {}
        self.flags: set[str] = set()
        self.pos: list[str] = []
        self.bad: str | None = None
        values, flags = set(values), set(flags)
        it = iter(argv)
        for a in it:
            if a.startswith("--") and "=" in a:
                k, v = a[2:].split("=", 1)
                if k in values:
                    self.opts[k] = v
                else:
                    self.bad = a
            elif a.startswith("-") and len(a) > 1 and a.lstrip("-") in values:
                v = next(it, None)
                if v is None:
                    self.bad = a
                else:
                    self.opts[a.lstrip("-")] = v
            elif a.startswith("-") and len(a) > 1 and a.lstrip("-") in flags:
                self.flags.add(a.lstrip("-"))
            elif a.startswith("-") and len(a) > 1 and not _is_number(a):
                self.bad = self.bad or a
            else:
                self.pos.append(a)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.opts.get(name, default)


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _local_ips(proc: Process) -> set[str]:
    net = proc.ns.net
    return set(net.ips) | {"127.0.0.1"} if net is not None else {"127.0.0.1"}


def _listen(proc: Process, port: int, handler: Callable[[bytes, tuple], bytes], *, bind: str = "0.0.0.0") -> None:
    """Listen on ``port`` of the process's network namespace until the process ends.

    Raises:
        NetworkError: the port is taken (``errno`` EADDRINUSE).
    """
    net = proc.ns.net
    if net is None:
        return
    if bind not in ("0.0.0.0", "::", "*", "") and bind not in _local_ips(proc) and not bind.startswith("127."):
        raise NetworkError(f"bind() to {bind}:{port} failed (99: Cannot assign requested address)", errno="EADDRNOTAVAIL")

    def guarded(data: bytes, peer: tuple) -> bytes:
        if bind.startswith("127.") and peer and peer[0] not in _local_ips(proc):
            raise NetworkError("Recv failure: Connection reset by peer", reason="reset")
        return handler(data, peer)

    net.listen(port, guarded)

    def close() -> None:
        if net.listeners.get(port) is guarded:
            net.close(port)

    proc.cleanups.append(close)


def _request(proc: Process, host: str, port: int, data: bytes) -> bytes:
    net = proc.ns.net
    if net is None or net.network is None:
        raise NetworkError(f"Failed to connect to {host} port {port}: Network is unreachable", reason="unreachable")
    return net.network.request(net, host, port, data)


def _help(proc: Process, text: str) -> int:
    proc.write(text.strip("\n") + "\n")
    return 0


def _usage_error(proc: Process, usage: str, bad: str) -> int:
    proc.error(f"{proc.comm}: unrecognized option '{bad}'\n{usage.strip().splitlines()[0]}\n"
               f"Try '{proc.comm} --help' for more information.\n")
    return 2


def _float(proc: Process, value: str | None, default: float, what: str) -> float:
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise Exit(_bad_number(proc, what, value)) from None


def _bad_number(proc: Process, what: str, value: str) -> int:
    proc.error(f"{proc.comm}: invalid value for {what}: '{value}' (expected a number)\n")
    return 2


_MIME = {"html": "text/html", "htm": "text/html", "css": "text/css", "js": "application/javascript",
         "json": "application/json", "txt": "text/plain", "png": "image/png", "jpg": "image/jpeg",
         "jpeg": "image/jpeg", "gif": "image/gif", "svg": "image/svg+xml", "ico": "image/x-icon",
         "xml": "text/xml", "pdf": "application/pdf", "md": "text/plain", "py": "text/plain", "csv": "text/csv"}


def _mime(path: str, default: str = "application/octet-stream") -> str:
    ext = path.rsplit(".", 1)[-1].lower() if "." in posixpath.basename(path) else ""
    return _MIME.get(ext, default)


def _etag(data: bytes) -> str:
    return '"' + hashlib.sha1(data).hexdigest()[:8] + "-" + format(len(data), "x") + '"'


# ---------------------------------------------------------------------------------------------
# busybox
# ---------------------------------------------------------------------------------------------
_BUSYBOX_BANNER = """BusyBox v1.36.1 (2023-07-27 17:12:24 UTC) multi-call binary.
BusyBox is copyrighted by many authors between 1998-2015.
Licensed under GPLv2. See source distribution for detailed
copyright notices.

Usage: busybox [function [arguments]...]
   or: busybox --list[-full]
   or: busybox --show SCRIPT
   or: busybox --install [-s] [DIR]
   or: function [arguments]...

\tBusyBox is a multi-call binary that combines many common Unix
\tutilities into a single executable.  Most people will create a
\tlink to busybox for each function they wish to use and BusyBox
\twill act like whatever it was invoked as.

Currently defined functions:
"""


@register_program("busybox")
def busybox(proc: Process):
    """The BusyBox multi-call binary: dispatch to the applet named by argv[0] or argv[1]."""
    from .distro import BUSYBOX_APPLETS

    argv = list(proc.argv)
    name = posixpath.basename(argv[0]) if argv else "busybox"
    if name == "busybox":
        args = argv[1:]
        if not args or args[0] in ("--help", "-h"):
            proc.write(_BUSYBOX_BANNER + "\t" + ", ".join(BUSYBOX_APPLETS) + "\n")
            return 0
        if args[0] in ("--list", "--list-full"):
            proc.write("".join(f"{'bin/' if args[0] == '--list-full' else ''}{a}\n" for a in BUSYBOX_APPLETS))
            return 0
        argv = args
        name = posixpath.basename(argv[0])
    if name not in BUSYBOX_APPLETS:
        proc.error(f"{name}: applet not found\n")
        return 127
    target = {"ash": "sh"}.get(name, name)
    fn = programs().get(target)
    if fn is None or fn is busybox:
        proc.error(f"{name}: applet not available in this simulation\n")
        return 127
    proc.argv = argv
    proc.comm = name
    return (yield from run_program(fn, proc))


# ---------------------------------------------------------------------------------------------
# nginx: configuration
# ---------------------------------------------------------------------------------------------
class _ConfError(Exception):
    pass


@dataclass
class _Directive:
    name: str
    args: list[str]
    block: list["_Directive"] | None
    file: str
    line: int


_NGINX_DIRECTIVES = {
    "user", "worker_processes", "error_log", "pid", "events", "worker_connections", "http", "include",
    "default_type", "log_format", "access_log", "sendfile", "tcp_nopush", "tcp_nodelay", "keepalive_timeout",
    "gzip", "gzip_types", "gzip_vary", "gzip_proxied", "gzip_comp_level", "gzip_min_length", "server", "listen",
    "server_name", "root", "index", "location", "try_files", "return", "proxy_pass", "proxy_set_header",
    "proxy_http_version", "proxy_read_timeout", "proxy_connect_timeout", "proxy_redirect", "proxy_buffering",
    "error_page", "alias", "add_header", "types", "types_hash_max_size", "server_tokens", "client_max_body_size",
    "ssl_protocols", "ssl_prefer_server_ciphers", "ssl_certificate", "ssl_certificate_key", "pcre_jit", "internal",
    "autoindex", "rewrite", "upstream", "charset", "expires", "load_module", "stream", "map", "resolver", "set",
    "if", "deny", "allow", "multi_accept", "use", "worker_rlimit_nofile", "server_names_hash_bucket_size",
    "large_client_header_buffers", "client_body_buffer_size", "open_file_cache", "limit_req_zone", "limit_req",
    "fastcgi_pass", "fastcgi_param", "uwsgi_pass", "real_ip_header", "set_real_ip_from", "absolute_redirect",
    "port_in_redirect", "daemon", "master_process", "env", "keepalive", "least_conn", "ip_hash", "stub_status",
    "ssl_session_cache", "ssl_session_timeout", "http2", "etag", "if_modified_since", "sub_filter", "log_not_found",
}


def _tokenize(text: str, path: str) -> list[tuple[str, int, bool]]:
    """(token, line, quoted) for an nginx config file."""
    out = []
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in "{};":
            out.append((c, line, False))
            i += 1
        elif c in "\"'":
            j = i + 1
            buf = []
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                if text[j] == "\n":
                    line += 1
                buf.append(text[j])
                j += 1
            if j >= n:
                raise _ConfError(f'unexpected end of file, expecting ";" or "}}" in {path}:{line}')
            out.append(("".join(buf), line, True))
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in "{};" and not (text[j] == "#" and j == i):
                j += 1
            out.append((text[i:j], line, False))
            i = j
    return out


def _parse_conf(fs, path: str, prefix: str = "/etc/nginx", depth: int = 0, ctx: str = "main") -> list[_Directive]:
    try:
        text = fs.read_text(path)
    except FsError:
        raise _ConfError(f'open() "{path}" failed (2: No such file or directory)') from None
    tokens = _tokenize(text, path)
    pos = 0

    def block(end_expected: bool, context: str) -> list[_Directive]:
        nonlocal pos
        items: list[_Directive] = []
        words: list[tuple[str, int, bool]] = []
        while pos < len(tokens):
            tok, line, quoted = tokens[pos]
            pos += 1
            if tok == ";" and not quoted:
                if not words:
                    raise _ConfError(f'unexpected ";" in {path}:{line}')
                name = words[0][0]
                _check_directive(name, context, path, words[0][1])
                args = [w for w, _, _ in words[1:]]
                if name == "include" and context != "types":
                    items += _include(fs, args, prefix, path, words[0][1], depth, context)
                else:
                    items.append(_Directive(name, args, None, path, words[0][1]))
                words = []
            elif tok == "{" and not quoted:
                if not words:
                    raise _ConfError(f'unexpected "{{" in {path}:{line}')
                name = words[0][0]
                _check_directive(name, context, path, words[0][1])
                sub = block(True, name)
                items.append(_Directive(name, [w for w, _, _ in words[1:]], sub, path, words[0][1]))
                words = []
            elif tok == "}" and not quoted:
                if words:
                    raise _ConfError(f'unexpected "}}" in {path}:{line}')
                if not end_expected:
                    raise _ConfError(f'unexpected "}}" in {path}:{line}')
                return items
            else:
                words.append((tok, line, quoted))
        last = tokens[-1][1] if tokens else 1
        if words:
            raise _ConfError(f'unexpected end of file, expecting ";" or "}}" in {path}:{last + 1}')
        if end_expected:
            raise _ConfError(f'unexpected end of file, expecting "}}" in {path}:{last + 1}')
        return items

    return block(False, ctx)


def _check_directive(name: str, context: str, path: str, line: int) -> None:
    if context in ("types", "map", "upstream", "if", "geo", "split_clients"):
        return
    if name not in _NGINX_DIRECTIVES:
        raise _ConfError(f'unknown directive "{name}" in {path}:{line}')
    if name == "server" and context not in ("http", "stream", "upstream"):
        raise _ConfError(f'"server" directive is not allowed here in {path}:{line}')
    if name == "location" and context not in ("server", "location"):
        raise _ConfError(f'"location" directive is not allowed here in {path}:{line}')
    if name == "listen" and context != "server":
        raise _ConfError(f'"listen" directive is not allowed here in {path}:{line}')


def _include(fs, args: list[str], prefix: str, path: str, line: int, depth: int, context: str) -> list[_Directive]:
    if depth > 8:
        raise _ConfError(f"too many nested includes in {path}:{line}")
    if len(args) != 1:
        raise _ConfError(f'invalid number of arguments in "include" directive in {path}:{line}')
    pattern = join(prefix, args[0])
    if any(ch in pattern for ch in "*?["):
        d = posixpath.dirname(pattern)
        names = sorted(fs.listdir(d)) if fs.is_dir(d) else []
        files = [f"{d}/{n}" for n in names if fnmatch.fnmatchcase(n, posixpath.basename(pattern)) and fs.is_file(f"{d}/{n}")]
    else:
        if not fs.exists(pattern):
            raise _ConfError(f'open() "{pattern}" failed (2: No such file or directory) in {path}:{line}')
        files = [pattern]
    out: list[_Directive] = []
    for f in files:
        out += _parse_conf(fs, f, prefix, depth + 1, context)
    return out


def _find(items: list[_Directive], name: str) -> list[_Directive]:
    return [d for d in items if d.name == name]


def _first(items: list[_Directive], name: str, default: list[str] | None = None) -> list[str] | None:
    found = _find(items, name)
    return found[-1].args if found else default


@dataclass
class _Location:
    modifier: str  # "=", "^~", "~", "~*", ""
    path: str
    items: list[_Directive]
    regex: re.Pattern | None = None


@dataclass
class _Server:
    listens: list[tuple[str, int, bool]]  # (address, port, default_server)
    names: list[str]
    items: list[_Directive]
    locations: list[_Location]


@dataclass
class _NginxConf:
    http: list[_Directive]
    main: list[_Directive]
    servers: list[_Server]
    upstreams: dict[str, list[tuple[str, int]]]
    pid: str
    error_log: str
    workers: str
    daemon: bool


def _parse_listen(args: list[str], path_line: str) -> tuple[str, int, bool] | None:
    if not args:
        raise _ConfError(f'invalid number of arguments in "listen" directive in {path_line}')
    spec = args[0]
    if spec.startswith("["):  # IPv6: served by the IPv4 listener of the same port
        return None
    addr, port_s = ("0.0.0.0", spec)
    if ":" in spec:
        addr, port_s = spec.rsplit(":", 1)
    elif "." in spec:
        addr, port_s = spec, "80"
    if not port_s.isdigit() or not 0 < int(port_s) < 65536:
        raise _ConfError(f'invalid port in "{spec}" of the "listen" directive in {path_line}')
    if addr in ("*", "localhost"):
        addr = "0.0.0.0" if addr == "*" else "127.0.0.1"
    return addr, int(port_s), "default_server" in args[1:] or "default" in args[1:]


def _load_nginx(proc: Process, conf_path: str, extra: str, prefix: str) -> _NginxConf:
    fs = proc.fs
    main = _parse_conf(fs, conf_path, prefix)
    if extra:
        main += _parse_extra(extra)
    http_blocks = _find(main, "http")
    http = http_blocks[0].block if http_blocks else []
    servers = []
    for sd in _find(http or [], "server"):
        items = sd.block or []
        listens = []
        for ld in _find(items, "listen"):
            parsed = _parse_listen(ld.args, f"{ld.file}:{ld.line}")
            if parsed:
                listens.append(parsed)
        if not _find(items, "listen"):
            listens.append(("0.0.0.0", 80 if proc.uid == 0 else 8000, False))
        locations = []
        for loc in _find(items, "location"):
            locations.append(_make_location(loc))
        servers.append(_Server(listens, _first(items, "server_name", [""]) or [""], items, locations))
    upstreams = {}
    for ud in _find(http or [], "upstream"):
        targets = []
        for sd in _find(ud.block or [], "server"):
            host, _, port = sd.args[0].partition(":")
            targets.append((host, int(port) if port.isdigit() else 80))
        upstreams[ud.args[0] if ud.args else ""] = targets
    daemon_args = _first(main, "daemon", ["on"])
    return _NginxConf(http or [], main, servers, upstreams,
                      pid=(_first(main, "pid", ["/run/nginx.pid"]) or ["/run/nginx.pid"])[0],
                      error_log=(_first(main, "error_log", ["/var/log/nginx/error.log"]) or ["/var/log/nginx/error.log"])[0],
                      workers=(_first(main, "worker_processes", ["1"]) or ["1"])[0],
                      daemon=(daemon_args or ["on"])[0] != "off")


def _parse_extra(extra: str) -> list[_Directive]:
    items = []
    for part in extra.split(";"):
        words = part.split()
        if words:
            if words[0] not in ("daemon", "master_process", "pid", "error_log", "worker_processes", "user", "env"):
                raise _ConfError(f'"{words[0]}" directive is not allowed here in command line')
            items.append(_Directive(words[0], words[1:], None, "command line", 0))
    return items


def _make_location(d: _Directive) -> _Location:
    args = d.args
    if len(args) >= 2 and args[0] in ("=", "^~", "~", "~*"):
        mod, path = args[0], args[1]
    else:
        mod, path = "", args[0] if args else "/"
    rx = None
    if mod in ("~", "~*"):
        try:
            rx = re.compile(path, re.I if mod == "~*" else 0)
        except re.error:
            raise _ConfError(f'pcre2_compile() failed: bad regex in "{path}" in {d.file}:{d.line}') from None
    return _Location(mod, path, d.block or [], rx)


def _match_location(server: _Server, uri: str) -> _Location | None:
    for loc in server.locations:
        if loc.modifier == "=" and loc.path == uri:
            return loc
    best = None
    for loc in server.locations:
        if loc.modifier in ("", "^~") and uri.startswith(loc.path):
            if best is None or len(loc.path) > len(best.path):
                best = loc
    if best is not None and best.modifier == "^~":
        return best
    for loc in server.locations:
        if loc.regex is not None and loc.regex.search(uri):
            return loc
    return best


# ---------------------------------------------------------------------------------------------
# nginx: the server
# ---------------------------------------------------------------------------------------------
_NGINX_BUILD = {"1.25": "gcc 12.2.0 (Debian 12.2.0-14)", "1.27": "gcc 12.2.0 (Debian 12.2.0-14)",
                "1.24": "gcc 13.2.1 20231014 (Alpine 13.2.1_git20231014)", "1.26": "gcc 13.2.1 20240309 (Alpine 13.2.1_git20240309)",
                "1.18": "gcc 11.2.0 (Ubuntu 11.2.0-19ubuntu1)", "1.22": "gcc 12.2.0 (Debian 12.2.0-14)"}


def _package_version(fs, name: str) -> str | None:
    try:
        text = fs.read_text("/var/lib/dpkg/status")
        m = re.search(rf"^Package: {re.escape(name)}\n(?:.+\n)*?Version: (?:\d+:)?([^\s-]+)", text, re.M)
        if m:
            return m.group(1)
    except FsError:
        pass
    try:
        text = fs.read_text("/lib/apk/db/installed")
        m = re.search(rf"^P:{re.escape(name)}\nV:([^\s-]+)", text, re.M)
        if m:
            return m.group(1)
    except FsError:
        pass
    return None


def _nginx_version(proc: Process) -> str:
    return proc.env.get("NGINX_VERSION") or _package_version(proc.fs, "nginx") or "1.25.5"


def _err_page(status: int, reason: str, version_tag: str) -> bytes:
    return (f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>{version_tag}</center>\r\n"
            f"</body>\r\n</html>\r\n").encode()


class _LogSink:
    """Where a log goes: the process's stdout/stderr (``/dev/stdout`` links) or a file."""

    def __init__(self, proc: Process, path: str, stream: str):
        self.proc = proc
        self.path = path
        self.stream = stream

    def write(self, line: str) -> None:
        proc = self.proc
        if self.path == "off":
            return
        target = self.path
        try:
            target = proc.fs.resolve(self.path)
        except FsError:
            pass
        if target in ("/dev/stdout", "/proc/self/fd/1"):
            proc.write(line)
        elif target in ("/dev/stderr", "/proc/self/fd/2", "stderr"):
            proc.error(line)
        else:
            try:
                d = posixpath.dirname(target)
                if not proc.fs.is_dir(d):
                    proc.fs.mkdir(d, parents=True, exist_ok=True)
                proc.fs.write(target, line, append=True)
            except FsError:
                proc.error(line)


class _Nginx:
    def __init__(self, proc: Process, conf: _NginxConf, conf_path: str):
        self.proc = proc
        self.conf = conf
        self.conf_path = conf_path
        self.version = _nginx_version(proc)
        tokens = _first(conf.http, "server_tokens", ["on"]) or ["on"]
        self.tag = f"nginx/{self.version}" if tokens[0] != "off" else "nginx"
        self.rr: dict[str, int] = {}
        self.conn = 0
        self.bound: list[int] = []
        self.errlog = _LogSink(proc, conf.error_log.split()[0] if conf.error_log else "/var/log/nginx/error.log", "stderr")
        access = _first(conf.http, "access_log", ["/var/log/nginx/access.log"]) or ["/var/log/nginx/access.log"]
        self.access = _LogSink(proc, access[0], "stdout")
        fmt_name = access[1] if len(access) > 1 else "combined"
        fmt = next((d.args for d in _find(conf.http, "log_format") if d.args and d.args[0] == fmt_name), None)
        self.xff = bool(fmt and "$http_x_forwarded_for" in " ".join(fmt))

    # -- logging -------------------------------------------------------------------------------
    def notice(self, text: str, level: str = "notice", pid: int | None = None) -> None:
        pid = self.proc.local_pid if pid is None else pid
        stamp = _now(self.proc).strftime("%Y/%m/%d %H:%M:%S")
        self.errlog.write(f"{stamp} [{level}] {pid}#{pid}: {text}\n")

    def log_access(self, peer: tuple, req: Request | None, raw_line: str, status: int, size: int) -> None:
        ua = req.header("User-Agent", "-") if req else "-"
        ref = req.header("Referer", "-") if req else "-"
        line = f'{peer[0] if peer else "-"} - - [{_clf_time(self.proc)}] "{raw_line}" {status} {size} "{ref}" "{ua}"'
        if self.xff:
            line += f' "{req.header("X-Forwarded-For", "-") if req else "-"}"'
        self.access.write(line + "\n")

    # -- serving ---------------------------------------------------------------------------------
    def bind(self) -> None:
        ports: dict[int, str] = {}
        for s in self.conf.servers:
            for addr, port, _ in s.listens:
                if port not in ports or addr == "0.0.0.0":
                    ports[port] = addr
        for port, addr in sorted(ports.items()):
            try:
                _listen(self.proc, port, lambda data, peer, p=port: self.handle(p, data, peer), bind=addr)
            except NetworkError as e:
                if getattr(e, "errno", "") == "EADDRNOTAVAIL":
                    raise _ConfError(f"bind() to {addr}:{port} failed (99: Cannot assign requested address)") from None
                raise _ConfError(f"bind() to {addr}:{port} failed (98: Address already in use)") from None
            self.bound.append(port)

    def unbind(self) -> None:
        net = self.proc.ns.net
        if net is not None:
            for port in self.bound:
                net.close(port)
        self.bound = []

    def server_for(self, port: int, host: str) -> _Server | None:
        cands = [s for s in self.conf.servers if any(p == port for _, p, _ in s.listens)]
        hostname = host.split(":")[0]
        for s in cands:
            if hostname in s.names or any(n.startswith("*.") and hostname.endswith(n[1:]) for n in s.names):
                return s
        for s in cands:
            if any(p == port and d for _, p, d in s.listens):
                return s
        return cands[0] if cands else None

    def handle(self, port: int, data: bytes, peer: tuple) -> bytes:
        self.conn += 1
        try:
            req = Request.parse(data)
        except InvalidInput:
            resp = Response(400, _err_page(400, "Bad Request", self.tag), {"Server": self.tag, "Content-Type": "text/html"})
            self.log_access(peer, None, data.split(b"\r\n")[0].decode(errors="replace"), 400, len(resp.body))
            return self.finish(resp, None)
        server = self.server_for(port, req.header("Host", "") or "")
        if server is None:
            return Response(444).to_bytes()
        resp = self.respond(server, req, peer, depth=0)
        body_len = 0 if req.method == "HEAD" else len(resp.body)
        self.log_access(peer, req, f"{req.method} {req.path} HTTP/1.1", resp.status, body_len)
        return self.finish(resp, req)

    def finish(self, resp: Response, req: Request | None) -> bytes:
        headers = {"Server": self.tag, "Date": _http_date(self.proc)}
        headers.update(resp.headers)
        headers.setdefault("Content-Type", "text/html")
        headers["Content-Length"] = str(len(resp.body))
        headers.setdefault("Connection", "keep-alive")
        body = b"" if req is not None and req.method == "HEAD" else resp.body
        out = Response(resp.status, body, headers)
        raw = out.to_bytes()
        if req is not None and req.method == "HEAD":  # keep the real length in the header
            return raw
        return raw

    def error(self, server: _Server, status: int, req: Request, peer: tuple, depth: int) -> Response:
        reasons = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Not Allowed",
                   500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Temporarily Unavailable",
                   504: "Gateway Time-out"}
        if depth == 0:
            for d in _find(server.items, "error_page"):
                codes = [a for a in d.args[:-1] if a.isdigit()]
                if str(status) in codes:
                    target = d.args[-1]
                    sub = Request("GET", target, req.headers)
                    resp = self.respond(server, sub, peer, depth=1)
                    if resp.status == 200:
                        return Response(status, resp.body, resp.headers)
        return Response(status, _err_page(status, reasons.get(status, "Error"), self.tag), {"Content-Type": "text/html"},
                        reason=reasons.get(status, ""))

    def respond(self, server: _Server, req: Request, peer: tuple, depth: int) -> Response:
        raw_path = req.path.split("?", 1)[0]
        uri = normpath(unquote(raw_path)) if raw_path.startswith("/") else "/"
        if raw_path.endswith("/") and uri != "/":
            uri += "/"
        loc = _match_location(server, uri)
        scope = (loc.items if loc else []) + [d for d in server.items if d.name not in ("location",)] + self.conf.http
        loc_items = loc.items if loc else []
        extra_headers = {}
        for d in _find(server.items, "add_header") + _find(loc_items, "add_header"):
            if len(d.args) >= 2:
                extra_headers[d.args[0]] = d.args[1]
        ret = _first(loc_items, "return") or (_first(server.items, "return") if not loc else None)
        if ret:
            code = int(ret[0]) if ret[0].isdigit() else 302
            text = ret[1] if len(ret) > 1 else (ret[0] if not ret[0].isdigit() else "")
            text = self.expand(text, req, uri)
            if code in (301, 302, 303, 307, 308):
                return Response(code, _err_page(code, Response(code).reason, self.tag),
                                {"Content-Type": "text/html", "Location": text, **extra_headers})
            if not text:
                return self.error(server, code, req, peer, depth)
            return Response(code, text.encode(), {"Content-Type": "application/octet-stream", **extra_headers})
        proxy = _first(loc_items, "proxy_pass")
        if proxy:
            return self.proxy(server, loc, proxy[0], req, peer, uri)
        if req.method not in ("GET", "HEAD"):
            return self.error(server, 405, req, peer, depth)
        root = (_first(scope, "root", ["html"]) or ["html"])[0]
        root = join("/etc/nginx" if not root.startswith("/") else "/", root) if not root.startswith("/") else root
        alias = _first(loc_items, "alias")
        fs = self.proc.fs

        def path_for(u: str) -> str:
            if alias and loc is not None and loc.modifier in ("", "^~"):
                return normpath(alias[0] + "/" + u[len(loc.path):])
            return normpath(root + "/" + u)

        indexes = (_first(scope, "index", ["index.html"]) or ["index.html"])
        try_files = _first(loc_items, "try_files") or _first(server.items, "try_files")
        candidates = try_files[:-1] if try_files else ["$uri", "$uri/"]
        fallback = try_files[-1] if try_files else None
        for cand in candidates:
            u = self.expand(cand, req, uri)
            path = path_for(u)
            if u.endswith("/") or cand == "$uri/":
                if fs.is_dir(path):
                    if not uri.endswith("/"):
                        host = req.header("Host", "localhost")
                        return Response(301, _err_page(301, "Moved Permanently", self.tag),
                                        {"Content-Type": "text/html", "Location": f"http://{host}{uri}/"})
                    for idx in indexes:
                        ip = normpath(path + "/" + idx)
                        if fs.is_file(ip):
                            return self.file(ip, extra_headers)
                    if (_first(scope, "autoindex", ["off"]) or ["off"])[0] == "on":
                        return self.autoindex(path, uri)
                    if not try_files or cand == candidates[-1]:
                        self.notice(f'*{self.conn} directory index of "{path}/" is forbidden, client: {peer[0] if peer else "-"}, '
                                    f'server: {server.names[0] or "localhost"}, request: "{req.method} {req.path} HTTP/1.1", '
                                    f'host: "{req.header("Host", "")}"', "error", pid=self.proc.local_pid + 28)
                        return self.error(server, 403, req, peer, depth)
                continue
            if fs.is_file(path):
                return self.file(path, extra_headers)
            if fs.is_dir(path) and not try_files:
                continue
        if fallback:
            if fallback.startswith("=") and fallback[1:].isdigit():
                return self.error(server, int(fallback[1:]), req, peer, depth)
            if depth < 5:
                return self.respond(server, Request(req.method, self.expand(fallback, req, uri), req.headers), peer, depth + 1)
        if (_first(scope, "log_not_found", ["on"]) or ["on"])[0] == "on":
            self.notice(f'*{self.conn} open() "{path_for(uri)}" failed (2: No such file or directory), client: '
                        f'{peer[0] if peer else "-"}, server: {server.names[0] or "localhost"}, request: '
                        f'"{req.method} {req.path} HTTP/1.1", host: "{req.header("Host", "")}"', "error",
                        pid=self.proc.local_pid + 28)
        return self.error(server, 404, req, peer, depth)

    def expand(self, text: str, req: Request, uri: str) -> str:
        args = req.path.split("?", 1)[1] if "?" in req.path else ""
        values = {"uri": uri, "request_uri": req.path, "host": (req.header("Host", "") or "").split(":")[0],
                  "args": args, "scheme": "http", "request_method": req.method, "hostname": self.proc.ns.hostname,
                  "remote_addr": "", "server_name": ""}
        return re.sub(r"\$(\w+)", lambda m: values.get(m.group(1), ""), text)

    def file(self, path: str, extra: dict) -> Response:
        data = self.proc.fs.read(path)
        return Response(200, data, {"Content-Type": _mime(path), "Last-Modified": "Mon, 03 Mar 2025 09:00:00 GMT",
                                    "ETag": _etag(data), "Accept-Ranges": "bytes", **extra})

    def autoindex(self, path: str, uri: str) -> Response:
        fs = self.proc.fs
        rows = ['<a href="../">../</a>']
        for name in fs.listdir(path):
            full = f"{path}/{name}"
            slash = "/" if fs.is_dir(full) else ""
            size = "-" if slash else str(fs.stat(full).size)
            rows.append(f'<a href="{name}{slash}">{name}{slash}</a>{" " * max(1, 51 - len(name + slash))}03-Mar-2025 09:00 {size:>19}')
        body = (f"<html>\r\n<head><title>Index of {uri}</title></head>\r\n<body>\r\n<h1>Index of {uri}</h1><hr><pre>"
                + "\r\n".join(rows) + "\r\n</pre><hr></body>\r\n</html>\r\n")
        return Response(200, body.encode(), {"Content-Type": "text/html"})

    def proxy(self, server: _Server, loc: _Location | None, target: str, req: Request, peer: tuple, uri: str) -> Response:
        m = re.match(r"^(https?)://([^/:]+)(?::(\d+))?(/.*)?$", target)
        if not m:
            return self.error(server, 500, req, peer, 0)
        host, port, path_part = m.group(2), m.group(3), m.group(4)
        if host in self.conf.upstreams and self.conf.upstreams[host]:
            targets = self.conf.upstreams[host]
            i = self.rr.get(host, 0)
            self.rr[host] = i + 1
            up_host, up_port = targets[i % len(targets)]
        else:
            up_host, up_port = host, int(port) if port else 80
        query = ("?" + req.path.split("?", 1)[1]) if "?" in req.path else ""
        if path_part is not None and loc is not None and loc.modifier in ("", "^~"):
            new_path = path_part + uri[len(loc.path):]
        else:
            new_path = req.path.split("?", 1)[0]
        headers = {k: v for k, v in req.headers.items() if k.lower() not in ("host", "connection")}
        headers["Host"] = host if not port else f"{host}:{port}"
        headers["Connection"] = "close"
        for d in _find(loc.items if loc else [], "proxy_set_header"):
            if len(d.args) >= 2:
                headers[d.args[0]] = self.expand(d.args[1], req, uri)
                if d.args[1] == "$proxy_add_x_forwarded_for":
                    prev = req.header("X-Forwarded-For")
                    headers[d.args[0]] = f"{prev}, {peer[0]}" if prev else peer[0]
                if d.args[1] == "$remote_addr":
                    headers[d.args[0]] = peer[0] if peer else ""
        upstream_url = f"http://{up_host}:{up_port}{new_path}"
        try:
            raw = _request(self.proc, up_host, up_port, Request(req.method, new_path + query, headers, req.body).to_bytes())
            resp = Response.parse(raw)
        except NetworkError as e:
            reason = getattr(e, "reason", "")
            what = "(111: Connection refused)" if reason in ("refused", "reset") else (
                "(110: Connection timed out)" if reason == "timeout" else "(113: No route to host)")
            self.notice(f"*{self.conn} connect() failed {what} while connecting to upstream, client: "
                        f"{peer[0] if peer else '-'}, server: {server.names[0] or 'localhost'}, request: "
                        f"\"{req.method} {req.path} HTTP/1.1\", upstream: \"{upstream_url}\", host: "
                        f"\"{req.header('Host', '')}\"", "error", pid=self.proc.local_pid + 28)
            return self.error(server, 504 if reason == "timeout" else 502, req, peer, 0)
        headers = {k: v for k, v in resp.headers.items() if k.lower() not in ("server", "date", "content-length", "connection")}
        return Response(resp.status, resp.body, headers, resp.reason)

    def check_upstreams(self) -> None:
        """Like nginx at startup: every proxy_pass host must resolve (``host not found in upstream``)."""
        net = self.proc.ns.net
        if net is None or net.network is None:
            return
        for s in self.conf.servers:
            for loc in s.locations:
                for d in _find(loc.items, "proxy_pass"):
                    m = re.match(r"^https?://([^/:$]+)(?::(\d+))?", d.args[0] if d.args else "")
                    if not m or m.group(1) in self.conf.upstreams:
                        continue
                    try:
                        net.network.resolve(net, m.group(1))
                    except NetworkError:
                        raise _ConfError(f'host not found in upstream "{m.group(1)}{":" + m.group(2) if m.group(2) else ""}" '
                                         f"in {d.file}:{d.line}") from None
        for name, targets in self.conf.upstreams.items():
            for host, port in targets:
                try:
                    net.network.resolve(net, host)
                except NetworkError:
                    raise _ConfError(f'host not found in upstream "{host}:{port}" in {self.conf_path}') from None


_NGINX_HELP = """nginx version: nginx/{v}
Usage: nginx [-?hvVtTq] [-s signal] [-p prefix]
             [-e filename] [-c filename] [-g directives]

Options:
  -?,-h         : this help
  -v            : show version and exit
  -V            : show version and configure options then exit
  -t            : test configuration and exit
  -T            : test configuration, dump it and exit
  -q            : suppress non-error messages during configuration testing
  -s signal     : send signal to a master process: stop, quit, reopen, reload
  -p prefix     : set prefix path (default: /etc/nginx/)
  -e filename   : set error log file (default: /var/log/nginx/error.log)
  -c filename   : set configuration file (default: /etc/nginx/nginx.conf)
  -g directives : set global directives out of configuration file
"""


def _find_master(proc: Process, pid_file: str) -> tuple[Process | None, str]:
    try:
        text = proc.fs.read_text(pid_file).strip()
    except FsError:
        return None, f'nginx: [error] open() "{pid_file}" failed (2: No such file or directory)\n'
    if not text.isdigit():
        return None, f'nginx: [error] invalid PID number "{text}" in "{pid_file}"\n'
    local = int(text)
    for p in proc.kernel.processes.values():
        if p.ns.pid is proc.ns.pid and p.local_pid == local and p.comm.startswith("nginx"):
            return p, ""
    return None, f"nginx: [alert] kill({local}, 1) failed (3: No such process)\n"


@register_program("nginx")
def nginx(proc: Process):
    """nginx: the web server and reverse proxy (see the module docstring)."""
    argv = proc.argv[1:]
    conf_path, prefix, extra, signal, mode = "/etc/nginx/nginx.conf", "/etc/nginx", "", None, "run"
    it = iter(argv)
    for a in it:
        if a in ("-h", "-?", "--help"):
            proc.error(_NGINX_HELP.format(v=_nginx_version(proc)))
            return 0
        if a == "-v":
            proc.error(f"nginx version: nginx/{_nginx_version(proc)}\n")
            return 0
        if a == "-V":
            v = _nginx_version(proc)
            proc.error(f"nginx version: nginx/{v}\nbuilt by {_NGINX_BUILD.get('.'.join(v.split('.')[:2]), 'gcc 12.2.0')}\n"
                       "built with OpenSSL 3.0.11 19 Sep 2023\nTLS SNI support enabled\n"
                       "configure arguments: --prefix=/etc/nginx --sbin-path=/usr/sbin/nginx "
                       "--conf-path=/etc/nginx/nginx.conf --error-log-path=/var/log/nginx/error.log "
                       "--http-log-path=/var/log/nginx/access.log --pid-path=/var/run/nginx.pid --with-http_ssl_module\n")
            return 0
        if a in ("-t", "-T"):
            mode = a
        elif a == "-q":
            pass
        elif a == "-c":
            conf_path = join(prefix, next(it, ""))
        elif a == "-p":
            prefix = next(it, "/etc/nginx").rstrip("/") or "/"
        elif a == "-g":
            extra = next(it, "")
        elif a == "-s":
            signal = next(it, None)
            if signal not in ("stop", "quit", "reopen", "reload"):
                proc.error(f'nginx: invalid option: "-s {signal}"\n' if signal else 'nginx: option "-s" requires parameter\n')
                return 1
        elif a == "-e":
            next(it, None)
        else:
            proc.error(f'nginx: invalid option: "{a.lstrip("-")}"\n')
            return 1
    try:
        conf = _load_nginx(proc, conf_path, extra, prefix)
    except _ConfError as e:
        proc.error(f"nginx: [emerg] {e}\n")
        if mode in ("-t", "-T"):
            proc.error(f"nginx: configuration file {conf_path} test failed\n")
        return 1
    if mode in ("-t", "-T"):
        proc.error(f"nginx: the configuration file {conf_path} syntax is ok\n"
                   f"nginx: configuration file {conf_path} test is successful\n")
        if mode == "-T":
            proc.write(f"# configuration file {conf_path}:\n{proc.fs.read_text(conf_path)}\n")
        return 0
    if signal:
        master, err = _find_master(proc, conf.pid)
        if master is None:
            proc.error(err)
            return 1
        sig = {"stop": "TERM", "quit": "QUIT", "reload": "HUP", "reopen": "USR1"}[signal]
        proc.kernel.signal(master.pid, sig)
        return 0
    if conf.daemon:  # the master process goes to the background; this one returns at once
        probe = _Nginx(proc, conf, conf_path)  # like nginx, fail on the terminal before daemonizing
        try:
            probe.check_upstreams()
            probe.bind()
        except _ConfError as e:
            proc.error(f"nginx: [emerg] {e}\n")
            return 1
        finally:
            probe.unbind()
            proc.cleanups.clear()
        child = proc.kernel.start(_nginx_master, ["nginx: master process " + " ".join(proc.argv)], ns=proc.ns,
                                  env=proc.env, cwd=proc.cwd, uid=proc.uid)
        child.comm = "nginx"
        return 0 if child.alive else child.exit_code
    return (yield from _nginx_master(proc, conf, conf_path, extra, prefix))


def _nginx_master(proc: Process, conf: _NginxConf | None = None, conf_path: str = "/etc/nginx/nginx.conf",
                  extra: str = "", prefix: str = "/etc/nginx"):
    if conf is None:
        try:
            conf = _load_nginx(proc, conf_path, extra, prefix)
        except _ConfError as e:
            proc.error(f"nginx: [emerg] {e}\n")
            return 1
    server = _Nginx(proc, conf, conf_path)
    try:
        server.check_upstreams()
        server.bind()
    except _ConfError as e:
        proc.error(f"nginx: [emerg] {e}\n")
        if _resolve_quiet(proc, server.errlog.path) != "/dev/stderr":
            server.notice(str(e), "emerg")
        return 1
    try:
        proc.fs.mkdir(posixpath.dirname(conf.pid), parents=True, exist_ok=True)
        proc.fs.write(conf.pid, f"{proc.local_pid}\n")
    except FsError:
        pass
    cpus = getattr(proc.kernel, "cpus", 1) or 1
    workers = cpus if conf.workers == "auto" else max(1, int(conf.workers) if conf.workers.isdigit() else 1)
    worker_pids = [proc.local_pid + 28 + i for i in range(min(workers, 8))]
    version = server.version
    server.notice('using the "epoll" event method')
    server.notice(f"nginx/{version}")
    server.notice(f"built by {_NGINX_BUILD.get('.'.join(version.split('.')[:2]), 'gcc 12.2.0 (Debian 12.2.0-14)')}")
    server.notice(f"OS: Linux {proc.kernel.release}")
    server.notice("getrlimit(RLIMIT_NOFILE): 1048576:1048576")
    server.notice("start worker processes")
    for wp in worker_pids:
        server.notice(f"start worker process {wp}")
    done = proc.loop.event()

    def stop(sig: int) -> None:
        if done.triggered:
            return
        name = {3: "SIGQUIT", 15: "SIGTERM", 2: "SIGINT"}[sig]
        if sig == 3:
            server.notice(f"signal {sig} ({name}) received, shutting down")
            for wp in worker_pids:
                server.notice("gracefully shutting down", pid=wp)
                server.notice("exiting", pid=wp)
                server.notice("exit", pid=wp)
        else:
            server.notice(f"signal {sig} ({name}) received, exiting")
            for wp in worker_pids:
                server.notice("exiting", pid=wp)
                server.notice("exit", pid=wp)
        for wp in worker_pids:
            server.notice(f"signal 17 (SIGCHLD) received from {wp}")
            server.notice(f"worker process {wp} exited with code 0")
        server.notice("exit")
        done.succeed(0)

    def reload(sig: int) -> None:
        server.notice("signal 1 (SIGHUP) received from 1, reconfiguring")
        try:
            new_conf = _load_nginx(proc, conf_path, extra, prefix)
        except _ConfError as e:
            server.notice(str(e), "emerg")
            return
        server.unbind()
        server.conf = new_conf
        try:
            server.bind()
        except _ConfError as e:
            server.notice(str(e), "emerg")
            return
        server.notice("reconfiguring")
        server.notice("start worker processes")

    for sig in ("QUIT", "TERM", "INT"):
        proc.on_signal(sig, stop)
    proc.on_signal("HUP", reload)
    proc.cleanups.append(lambda: _remove_quiet(proc, conf.pid))
    code = yield done
    return code or 0


def _resolve_quiet(proc: Process, path: str) -> str:
    try:
        return proc.fs.resolve(path)
    except FsError:
        return path


def _remove_quiet(proc: Process, path: str) -> None:
    try:
        if proc.fs.is_file(path):
            proc.fs.remove(path)
    except FsError:
        pass


# ---------------------------------------------------------------------------------------------
# Apache httpd (and BusyBox httpd)
# ---------------------------------------------------------------------------------------------
_APACHE_VERSION = "2.4.62"
_APACHE_404 = """<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head>
<title>404 Not Found</title>
</head><body>
<h1>Not Found</h1>
<p>The requested URL was not found on this server.</p>
</body></html>
"""


def _apache_conf(fs, path: str) -> dict[str, Any]:
    conf: dict[str, Any] = {"listen": [], "root": "/usr/local/apache2/htdocs", "index": ["index.html"],
                            "servername": None}
    try:
        text = fs.read_text(path)
    except FsError:
        raise _ConfError(f"httpd: Could not open configuration file {path}: No such file or directory") from None
    for n, line in enumerate(text.splitlines(), 1):
        words = shlex.split(line.split("#", 1)[0], posix=True) if line.strip() and not line.strip().startswith("#") else []
        if not words:
            continue
        key = words[0].lower()
        if key == "listen" and len(words) > 1:
            port = words[1].rsplit(":", 1)[-1]
            if not port.isdigit():
                raise _ConfError(f"AH00526: Syntax error on line {n} of {path}:\nPort must be specified")
            conf["listen"].append(int(port))
        elif key == "documentroot" and len(words) > 1:
            conf["root"] = words[1]
        elif key == "directoryindex":
            conf["index"] = words[1:]
        elif key == "servername" and len(words) > 1:
            conf["servername"] = words[1]
    if not conf["listen"]:
        conf["listen"] = [80]
    return conf


def _apache_time(proc: Process) -> str:
    return _now(proc).strftime("%a %b %d %H:%M:%S.000000 %Y")


@register_program("httpd-foreground")
def httpd_foreground(proc: Process):
    """The httpd image's ``httpd-foreground``: ``httpd -DFOREGROUND``."""
    proc.argv = ["httpd", "-DFOREGROUND"] + proc.argv[1:]
    return (yield from httpd(proc))


@register_program("httpd")
def httpd(proc: Process):
    """Apache httpd (``httpd -DFOREGROUND``, ``-v``, ``-t``); BusyBox's httpd (``-f -p PORT -h DIR``) when
    there is no Apache installation."""
    args = proc.argv[1:]
    fs = proc.fs
    apache_root = "/usr/local/apache2"
    if not fs.is_dir(apache_root) and not fs.is_dir("/etc/apache2") and "-DFOREGROUND" not in args:
        return (yield from _busybox_httpd(proc))
    conf_path = f"{apache_root}/conf/httpd.conf"
    if "-v" in args:
        proc.write(f"Server version: Apache/{_APACHE_VERSION} (Unix)\nServer built:   Jul 23 2024 00:00:00\n")
        return 0
    try:
        conf = _apache_conf(fs, conf_path)
    except _ConfError as e:
        proc.error(f"{e}\n")
        return 1
    if "-t" in args:
        proc.error("Syntax OK\n")
        return 0
    ip = proc.ns.net.ip if proc.ns.net is not None and proc.ns.net.ip else "127.0.1.1"
    if conf["servername"] is None:
        msg = (f"AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using {ip}. "
               f"Set the 'ServerName' directive globally to suppress this message\n")
        proc.error(msg + msg)
    pid = proc.local_pid
    tid = 139771458234240
    for port in conf["listen"]:
        try:
            _listen(proc, port, lambda data, peer: _apache_handle(proc, conf, data, peer))
        except NetworkError:
            proc.error(f"(98)Address already in use: AH00072: make_sock: could not bind to address 0.0.0.0:{port}\n"
                       f"no listening sockets available, shutting down\nAH00015: Unable to open logs\n")
            return 1
    proc.error(f"[{_apache_time(proc)}] [mpm_event:notice] [pid {pid}:tid {tid}] AH00489: Apache/{_APACHE_VERSION} "
               f"(Unix) configured -- resuming normal operations\n"
               f"[{_apache_time(proc)}] [core:notice] [pid {pid}:tid {tid}] AH00094: Command line: 'httpd -D FOREGROUND'\n")
    done = proc.loop.event()

    def stop(sig: int) -> None:
        if done.triggered:
            return
        what = {15: "AH00491: caught SIGTERM, shutting down", 28: "AH00492: caught SIGWINCH, shutting down gracefully",
                2: "AH00491: caught SIGTERM, shutting down"}[sig]
        proc.error(f"[{_apache_time(proc)}] [mpm_event:notice] [pid {pid}:tid {tid}] {what}\n")
        done.succeed(0)

    for sig in (15, 28, 2):
        proc.on_signal(sig, stop)
    yield done
    return 0


def _apache_handle(proc: Process, conf: dict, data: bytes, peer: tuple) -> bytes:
    fs = proc.fs
    try:
        req = Request.parse(data)
    except InvalidInput:
        return Response(400, b"<h1>Bad Request</h1>\n", {"Content-Type": "text/html"}).to_bytes()
    uri = unquote(req.path.split("?", 1)[0])
    path = normpath(conf["root"] + "/" + uri)
    headers = {"Date": _http_date(proc), "Server": f"Apache/{_APACHE_VERSION} (Unix)"}
    status, body = 404, _APACHE_404.encode()
    headers["Content-Type"] = "text/html; charset=iso-8859-1"
    if fs.is_dir(path):
        if not uri.endswith("/"):
            status, body = 301, b""
            headers["Location"] = f"http://{req.header('Host', 'localhost')}{uri}/"
        else:
            for idx in conf["index"]:
                if fs.is_file(f"{path}/{idx}"):
                    path = f"{path}/{idx}"
                    break
            else:
                names = fs.listdir(path)
                items = "".join(f'<li><a href="{n}{"/" if fs.is_dir(path + "/" + n) else ""}"> {n}</a></li>\n' for n in names)
                status = 200
                body = (f'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<html>\n <head>\n  <title>Index of '
                        f'{uri}</title>\n </head>\n <body>\n<h1>Index of {uri}</h1>\n<ul>{items}</ul>\n</body></html>\n').encode()
                headers["Content-Type"] = "text/html;charset=ISO-8859-1"
    if fs.is_file(path):
        status, body = 200, fs.read(path)
        headers.update({"Last-Modified": "Mon, 03 Mar 2025 09:00:00 GMT", "ETag": _etag(body), "Accept-Ranges": "bytes",
                        "Content-Type": _mime(path, "text/plain")})
    if req.method not in ("GET", "HEAD", "POST") and status == 200:
        status, body = 405, b"<h1>Method Not Allowed</h1>\n"
    size = "-" if status in (301,) else str(len(body))
    proc.write(f'{peer[0] if peer else "-"} - - [{_clf_time(proc)}] "{req.method} {req.path} HTTP/1.1" {status} {size}\n')
    resp = Response(status, b"" if req.method == "HEAD" else body, headers)
    if req.method == "HEAD":
        resp.headers["Content-Length"] = str(len(body))
    return resp.to_bytes()


def _busybox_httpd(proc: Process):
    a = _Args(proc.argv[1:], values=("p", "h", "c", "r", "u"), flags=("f", "v", "vv"))
    port_s = a.get("p", "80") or "80"
    port = int(port_s.rsplit(":", 1)[-1]) if port_s.rsplit(":", 1)[-1].isdigit() else 80
    home = join(proc.cwd, a.get("h", ".") or ".")
    verbose = "v" in a.flags or "vv" in a.flags

    def handle(data: bytes, peer: tuple) -> bytes:
        try:
            req = Request.parse(data)
        except InvalidInput:
            return Response(400, b"<HTML><HEAD><TITLE>400 Bad Request</TITLE></HEAD>\n").to_bytes()
        uri = unquote(req.path.split("?", 1)[0])
        path = normpath(home + "/" + uri)
        if proc.fs.is_dir(path) and proc.fs.is_file(path + "/index.html"):
            path += "/index.html"
        if proc.fs.is_file(path):
            body = proc.fs.read(path)
            status = 200
        else:
            status = 404
            body = (b"<HTML><HEAD><TITLE>404 Not Found</TITLE></HEAD>\n<BODY><H1>404 Not Found</H1>\n"
                    b"The requested URL was not found\n</BODY></HTML>\n")
        if verbose:
            proc.error(f"{peer[0] if peer else '-'}:{peer[1] if peer else 0} response:{status}\n")
        return Response(status, body, {"Date": _http_date(proc), "Connection": "close",
                                       "Content-type": _mime(path, "text/plain") if status == 200 else "text/html"}).to_bytes()

    try:
        _listen(proc, port, handle)
    except NetworkError:
        proc.error("httpd: bind: Address in use\n")
        return 1
    if "f" not in a.flags:  # daemonizes: a background copy keeps serving
        proc.cleanups.clear()
        net = proc.ns.net
        if net is not None:
            net.close(port)
        child = proc.kernel.start(_busybox_httpd_fg, ["httpd", "-f"] + proc.argv[1:], ns=proc.ns, env=proc.env,
                                  cwd=proc.cwd, uid=proc.uid)
        child.comm = "httpd"
        return 0
    yield proc.forever()
    return 0


def _busybox_httpd_fg(proc: Process):
    return (yield from _busybox_httpd(proc))


# ---------------------------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------------------------
class _RespError(Exception):
    pass


def resp_encode(value: Any) -> bytes:
    """Encode a reply: str -> bulk string, int -> integer, None -> nil, list -> array,
    ``("+", "OK")`` -> simple string, ``("-", "ERR ...")`` -> error.

    >>> resp_encode(("+", "OK")), resp_encode(3), resp_encode(None), resp_encode(["a"])
    (b'+OK\\r\\n', b':3\\r\\n', b'$-1\\r\\n', b'*1\\r\\n$1\\r\\na\\r\\n')
    """
    if isinstance(value, tuple) and len(value) == 2 and value[0] in ("+", "-"):
        return f"{value[0]}{value[1]}\r\n".encode()
    if value is None:
        return b"$-1\r\n"
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        return f":{value}\r\n".encode()
    if isinstance(value, list):
        return f"*{len(value)}\r\n".encode() + b"".join(resp_encode(v) for v in value)
    data = value if isinstance(value, bytes) else str(value).encode()
    return b"$" + str(len(data)).encode() + b"\r\n" + data + b"\r\n"


def resp_parse(data: bytes) -> tuple[list[list[str]], bytes]:
    """Commands in ``data`` (RESP arrays or inline commands) and the unparsed rest.

    >>> resp_parse(b"*2\\r\\n$3\\r\\nGET\\r\\n$1\\r\\nk\\r\\nPING\\r\\n")
    ([['GET', 'k'], ['PING']], b'')
    """
    cmds: list[list[str]] = []
    i = 0
    while i < len(data):
        if data[i:i + 1] in (b"\r", b"\n", b" "):
            i += 1
            continue
        if data[i:i + 1] == b"*":
            end = data.find(b"\r\n", i)
            if end < 0:
                break
            n = int(data[i + 1:end])
            i = end + 2
            args = []
            for _ in range(n):
                if data[i:i + 1] != b"$":
                    raise _RespError("Protocol error: expected '$', got '" + data[i:i + 1].decode(errors="replace") + "'")
                end = data.find(b"\r\n", i)
                ln = int(data[i + 1:end])
                i = end + 2
                args.append(data[i:i + ln].decode(errors="replace"))
                i += ln + 2
            cmds.append(args)
        else:
            end = data.find(b"\n", i)
            if end < 0:
                end = len(data)
            line = data[i:end].decode(errors="replace").strip()
            i = end + 1
            if line:
                try:
                    cmds.append(shlex.split(line))
                except ValueError:
                    raise _RespError("Protocol error: unbalanced quotes in request") from None
    return cmds, data[i:]


_REDIS_ARITY = {"get": 2, "set": -3, "del": -2, "incr": 2, "decr": 2, "incrby": 3, "decrby": 3, "keys": 2,
                "expire": 3, "ttl": 2, "pttl": 2, "persist": 2, "exists": -2, "dbsize": 1, "save": 1, "bgsave": -1,
                "flushall": -1, "flushdb": -1, "ping": -1, "echo": 2, "lpush": -3, "rpush": -3, "lrange": 4,
                "llen": 2, "lpop": -2, "rpop": -2, "hset": -4, "hget": 3, "hgetall": 2, "hdel": -3, "type": 2,
                "info": -1, "auth": -2, "select": 2, "quit": 1, "shutdown": -1, "mget": -2, "mset": -3,
                "append": 3, "strlen": 2, "setex": 4, "setnx": 3, "lastsave": 1, "config": -2, "client": -2,
                "command": -1, "time": 1, "sadd": -3, "smembers": 2, "scard": 2, "sismember": 3, "srem": -3}


class _Redis:
    def __init__(self, proc: Process, conf: dict[str, Any]):
        self.proc = proc
        self.conf = conf
        self.data: dict[str, Any] = {}
        self.expires: dict[str, float] = {}
        self.dirty = 0
        self.last_save = proc.now
        self.timer = None
        self.version = proc.env.get("REDIS_VERSION") or _package_version(proc.fs, "redis-server") or \
            _package_version(proc.fs, "redis") or "7.2.5"

    def log(self, text: str, role: str = "M", level: str = "*") -> None:
        stamp = _now(self.proc).strftime("%d %b %Y %H:%M:%S.000")
        self.proc.write(f"{self.proc.local_pid}:{role} {stamp} {level} {text}\n")

    @property
    def dump_path(self) -> str:
        d = join(self.proc.cwd, self.conf.get("dir", "."))
        return normpath(f"{d}/{self.conf.get('dbfilename', 'dump.rdb')}")

    def _alive(self, key: str) -> bool:
        exp = self.expires.get(key)
        if exp is not None and exp <= self.proc.now:
            self.data.pop(key, None)
            self.expires.pop(key, None)
            return False
        return key in self.data

    def save(self) -> bool:
        payload = {"data": {}, "expires": {}}
        for k in sorted(self.data):
            if self._alive(k):
                v = self.data[k]
                payload["data"][k] = {"t": type(v).__name__, "v": sorted(v) if isinstance(v, set) else v}
                if k in self.expires:
                    payload["expires"][k] = self.expires[k]
        blob = b"REDIS0011" + json.dumps({"redis-ver": self.version, **payload}, sort_keys=True).encode() + b"\xff"
        try:
            d = posixpath.dirname(self.dump_path)
            if not self.proc.fs.is_dir(d):
                raise FsError(f"{d}: No such file or directory", errno="ENOENT")
            self.proc.fs.write(self.dump_path, blob)
        except FsError as e:
            self.log(f"Failed opening the temp RDB file temp-{self.proc.local_pid}.rdb (in server root dir {d}) for "
                     f"saving: {e.message.split(': ', 1)[-1]}", level="#")
            return False
        self.dirty = 0
        self.last_save = self.proc.now
        return True

    def load(self) -> None:
        fs = self.proc.fs
        if not fs.is_file(self.dump_path):
            return
        raw = fs.read(self.dump_path)
        if not raw.startswith(b"REDIS"):
            self.log("Short read or OOM loading DB. Unrecoverable error, aborting now.", level="#")
            raise Exit(1)
        try:
            payload = json.loads(raw[9:].rstrip(b"\xff").decode())
        except ValueError:
            self.log("Wrong signature trying to load DB from file", level="#")
            raise Exit(1) from None
        self.log(f"Loading RDB produced by version {payload.get('redis-ver', self.version)}")
        expired = 0
        for k, item in payload.get("data", {}).items():
            v = item["v"]
            self.data[k] = set(v) if item["t"] == "set" else v
            if k in payload.get("expires", {}):
                self.expires[k] = float(payload["expires"][k])
                if not self._alive(k):
                    expired += 1
        self.log(f"Done loading RDB, keys loaded: {len(self.data)}, keys expired: {expired}.")
        self.log("DB loaded from disk: 0.000 seconds")

    def save_points(self) -> list[tuple[int, int]]:
        spec = self.conf.get("save", "3600 1 300 100 60 10000")
        nums = [int(x) for x in spec.split() if x.isdigit()]
        return list(zip(nums[0::2], nums[1::2]))

    def changed(self, n: int = 1) -> None:
        self.dirty += n
        if self.conf.get("appendonly") == "yes":
            self.save()
            return
        due = [self.last_save + secs for secs, changes in self.save_points() if self.dirty >= changes]
        if not due:
            return
        when = min(due)
        if self.timer is not None and self.timer.when <= when and not self.timer.cancelled:
            return
        if self.timer is not None:
            self.timer.cancel()
        self.timer = self.proc.loop.call_at(when, self.auto_save)

    def auto_save(self) -> None:
        self.timer = None
        if not self.proc.alive or not self.dirty:
            return
        secs = round(self.proc.now - self.last_save)
        self.log(f"{self.dirty} changes in {secs} seconds. Saving...")
        self.log(f"Background saving started by pid {self.proc.local_pid + 20}")
        if self.save():
            self.log("DB saved on disk", role="C")
            self.log("Background saving terminated with success")

    # -- commands -----------------------------------------------------------------------------------
    def execute(self, args: list[str], session: dict) -> Any:
        if not args:
            return None
        cmd = args[0].lower()
        arity = _REDIS_ARITY.get(cmd)
        if arity is None:
            rest = " ".join(f"'{a}'" for a in args[1:])
            return ("-", f"ERR unknown command '{args[0]}', with args beginning with: {rest + ' ' if rest else ''}")
        if (arity > 0 and len(args) != arity) or (arity < 0 and len(args) < -arity):
            return ("-", f"ERR wrong number of arguments for '{cmd}' command")
        password = self.conf.get("requirepass")
        if password and not session.get("auth") and cmd not in ("auth", "quit"):
            return ("-", "NOAUTH Authentication required.")
        a = args[1:]
        if cmd == "auth":
            if not password:
                return ("-", "ERR AUTH <password> called without any password configured for the default user. "
                             "Are you sure your configuration is correct?")
            if a[-1] != password:
                return ("-", "WRONGPASS invalid username-password pair or user is disabled.")
            session["auth"] = True
            return ("+", "OK")
        if cmd == "ping":
            return a[0] if a else ("+", "PONG")
        if cmd == "echo":
            return a[0]
        if cmd in ("quit",):
            session["quit"] = True
            return ("+", "OK")
        if cmd == "select":
            return ("+", "OK") if a[0] == "0" else ("-", "ERR DB index is out of range") if not a[0].isdigit() or int(a[0]) > 15 else ("+", "OK")
        if cmd == "set":
            key, value = a[0], a[1]
            opts = [x.upper() for x in a[2:]]
            ttl = None
            i = 0
            while i < len(opts):
                o = opts[i]
                if o in ("EX", "PX") and i + 1 < len(opts):
                    try:
                        n = int(a[2 + i + 1])
                    except ValueError:
                        return ("-", "ERR value is not an integer or out of range")
                    if n <= 0:
                        return ("-", "ERR invalid expire time in 'set' command")
                    ttl = n if o == "EX" else n / 1000
                    i += 2
                    continue
                if o == "NX" and self._alive(key):
                    return None
                if o == "XX" and not self._alive(key):
                    return None
                if o not in ("NX", "XX", "KEEPTTL", "GET"):
                    return ("-", "ERR syntax error")
                i += 1
            self.data[key] = value
            if ttl is not None:
                self.expires[key] = self.proc.now + ttl
            elif "KEEPTTL" not in opts:
                self.expires.pop(key, None)
            self.changed()
            return ("+", "OK")
        if cmd == "setex":
            try:
                secs = int(a[1])
            except ValueError:
                return ("-", "ERR value is not an integer or out of range")
            return self.execute(["set", a[0], a[2], "EX", str(secs)], session)
        if cmd == "setnx":
            return 0 if self._alive(a[0]) else (self.execute(["set", a[0], a[1]], session) and 1)
        if cmd == "mset":
            if len(a) % 2:
                return ("-", "ERR wrong number of arguments for 'mset' command")
            for k, v in zip(a[0::2], a[1::2]):
                self.data[k] = v
                self.expires.pop(k, None)
            self.changed(len(a) // 2)
            return ("+", "OK")
        if cmd == "get":
            if not self._alive(a[0]):
                return None
            v = self.data[a[0]]
            if not isinstance(v, str):
                return ("-", "WRONGTYPE Operation against a key holding the wrong kind of value")
            return v
        if cmd == "mget":
            return [self.data[k] if self._alive(k) and isinstance(self.data[k], str) else None for k in a]
        if cmd in ("append", "strlen"):
            cur = self.data.get(a[0], "") if self._alive(a[0]) else ""
            if not isinstance(cur, str):
                return ("-", "WRONGTYPE Operation against a key holding the wrong kind of value")
            if cmd == "strlen":
                return len(cur)
            self.data[a[0]] = cur + a[1]
            self.changed()
            return len(self.data[a[0]])
        if cmd in ("incr", "decr", "incrby", "decrby"):
            step = 1
            if cmd in ("incrby", "decrby"):
                try:
                    step = int(a[1])
                except ValueError:
                    return ("-", "ERR value is not an integer or out of range")
            if cmd.startswith("decr"):
                step = -step
            cur = self.data.get(a[0], "0") if self._alive(a[0]) else "0"
            if not isinstance(cur, str):
                return ("-", "WRONGTYPE Operation against a key holding the wrong kind of value")
            try:
                n = int(cur) + step
            except ValueError:
                return ("-", "ERR value is not an integer or out of range")
            self.data[a[0]] = str(n)
            self.changed()
            return n
        if cmd == "del":
            n = 0
            for k in a:
                if self._alive(k):
                    del self.data[k]
                    self.expires.pop(k, None)
                    n += 1
            if n:
                self.changed(n)
            return n
        if cmd == "exists":
            return sum(1 for k in a if self._alive(k))
        if cmd == "type":
            if not self._alive(a[0]):
                return ("+", "none")
            v = self.data[a[0]]
            return ("+", {"str": "string", "list": "list", "dict": "hash", "set": "set"}[type(v).__name__])
        if cmd == "keys":
            return [k for k in sorted(self.data) if self._alive(k) and fnmatch.fnmatchcase(k, a[0])]
        if cmd == "dbsize":
            return sum(1 for k in list(self.data) if self._alive(k))
        if cmd in ("expire", "ttl", "pttl", "persist"):
            if not self._alive(a[0]):
                return -2 if cmd in ("ttl", "pttl") else 0
            if cmd == "expire":
                try:
                    secs = int(a[1])
                except ValueError:
                    return ("-", "ERR value is not an integer or out of range")
                self.expires[a[0]] = self.proc.now + secs
                self.changed()
                self._alive(a[0])
                return 1
            if cmd == "persist":
                return 1 if self.expires.pop(a[0], None) is not None else 0
            exp = self.expires.get(a[0])
            if exp is None:
                return -1
            left = exp - self.proc.now
            return int(round(left)) if cmd == "ttl" else int(round(left * 1000))
        if cmd in ("lpush", "rpush", "lrange", "llen", "lpop", "rpop"):
            cur = self.data.get(a[0]) if self._alive(a[0]) else None
            if cur is not None and not isinstance(cur, list):
                return ("-", "WRONGTYPE Operation against a key holding the wrong kind of value")
            if cmd in ("lpush", "rpush"):
                cur = cur if cur is not None else []
                for v in a[1:]:
                    cur.insert(0, v) if cmd == "lpush" else cur.append(v)
                self.data[a[0]] = cur
                self.changed()
                return len(cur)
            if cur is None:
                return [] if cmd == "lrange" else (0 if cmd == "llen" else None)
            if cmd == "llen":
                return len(cur)
            if cmd == "lrange":
                try:
                    start, stop = int(a[1]), int(a[2])
                except ValueError:
                    return ("-", "ERR value is not an integer or out of range")
                stop = len(cur) + stop if stop < 0 else stop
                start = max(0, len(cur) + start if start < 0 else start)
                return cur[start:stop + 1]
            v = cur.pop(0) if cmd == "lpop" else cur.pop()
            if not cur:
                del self.data[a[0]]
            self.changed()
            return v
        if cmd in ("hset", "hget", "hgetall", "hdel"):
            cur = self.data.get(a[0]) if self._alive(a[0]) else None
            if cur is not None and not isinstance(cur, dict):
                return ("-", "WRONGTYPE Operation against a key holding the wrong kind of value")
            if cmd == "hset":
                if len(a) % 2 == 0:
                    return ("-", "ERR wrong number of arguments for 'hset' command")
                cur = cur if cur is not None else {}
                added = sum(1 for k in a[1::2] if k not in cur)
                cur.update(dict(zip(a[1::2], a[2::2])))
                self.data[a[0]] = cur
                self.changed()
                return added
            if cur is None:
                return None if cmd == "hget" else ([] if cmd == "hgetall" else 0)
            if cmd == "hget":
                return cur.get(a[1])
            if cmd == "hgetall":
                return [x for k in cur for x in (k, cur[k])]
            n = sum(1 for k in a[1:] if cur.pop(k, None) is not None)
            self.changed()
            return n
        if cmd in ("sadd", "smembers", "scard", "sismember", "srem"):
            cur = self.data.get(a[0]) if self._alive(a[0]) else None
            if cur is not None and not isinstance(cur, set):
                return ("-", "WRONGTYPE Operation against a key holding the wrong kind of value")
            if cmd == "sadd":
                cur = cur if cur is not None else set()
                n = sum(1 for v in a[1:] if v not in cur)
                cur.update(a[1:])
                self.data[a[0]] = cur
                self.changed()
                return n
            cur = cur or set()
            if cmd == "smembers":
                return sorted(cur)
            if cmd == "scard":
                return len(cur)
            if cmd == "sismember":
                return int(a[1] in cur)
            n = sum(1 for v in a[1:] if v in cur)
            cur.difference_update(a[1:])
            self.changed()
            return n
        if cmd in ("flushall", "flushdb"):
            self.data.clear()
            self.expires.clear()
            self.changed()
            return ("+", "OK")
        if cmd == "save":
            if self.save():
                self.log("DB saved on disk")
                return ("+", "OK")
            return ("-", "ERR")
        if cmd == "bgsave":
            self.log(f"Background saving started by pid {self.proc.local_pid + 20}")
            ok = self.save()
            self.log("DB saved on disk", role="C")
            self.log("Background saving terminated with success" if ok else "Background saving error")
            return ("+", "Background saving started")
        if cmd == "lastsave":
            return int(_now(self.proc).timestamp() - (self.proc.now - self.last_save))
        if cmd == "time":
            t = _now(self.proc).timestamp()
            return [str(int(t)), "0"]
        if cmd == "info":
            keys = sum(1 for k in list(self.data) if self._alive(k))
            text = (f"# Server\r\nredis_version:{self.version}\r\nredis_mode:standalone\r\nos:Linux {self.proc.kernel.release} x86_64\r\n"
                    f"process_id:{self.proc.local_pid}\r\ntcp_port:{self.conf.get('port', 6379)}\r\n"
                    f"uptime_in_seconds:{int(self.proc.now - self.proc.started_at)}\r\n\r\n# Persistence\r\n"
                    f"rdb_changes_since_last_save:{self.dirty}\r\n\r\n# Keyspace\r\n"
                    + (f"db0:keys={keys},expires={len(self.expires)},avg_ttl=0\r\n" if keys else ""))
            return text
        if cmd == "config":
            sub = a[0].lower()
            if sub == "get" and len(a) > 1:
                out = []
                for k, v in sorted(self.conf.items()):
                    if fnmatch.fnmatchcase(k, a[1].lower()):
                        out += [k, str(v)]
                return out
            if sub == "set" and len(a) > 2:
                self.conf[a[1].lower()] = a[2]
                return ("+", "OK")
            return ("-", f"ERR unknown subcommand '{a[0]}'. Try CONFIG HELP.")
        if cmd in ("client", "command"):
            return ("+", "OK") if cmd == "client" else []
        if cmd == "shutdown":
            nosave = any(x.upper() == "NOSAVE" for x in a)
            session["shutdown"] = not nosave
            return None
        return ("-", f"ERR unknown command '{args[0]}'")


def _redis_conf(proc: Process, argv: list[str]) -> dict[str, Any] | int:
    conf: dict[str, Any] = {"port": "6379", "dir": ".", "dbfilename": "dump.rdb", "save": "3600 1 300 100 60 10000",
                            "appendonly": "no", "bind": "* -::*"}
    args = list(argv)
    if args and not args[0].startswith("--"):
        path = join(proc.cwd, args.pop(0))
        try:
            text = proc.fs.read_text(path)
        except FsError:
            proc.write(f"\n*** FATAL CONFIG FILE ERROR (Redis {proc.env.get('REDIS_VERSION', '7.2.5')}) ***\n"
                       f"Fatal error, can't open config file '{path}': No such file or directory\n")
            return 1
        saves = []
        for line in text.splitlines():
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            key = words[0].lower()
            if key == "save":
                saves.append(" ".join(words[1:]))
            else:
                conf[key] = " ".join(words[1:]).strip('"')
        if saves:
            conf["save"] = " ".join(s for s in saves if s.strip('"'))
    i = 0
    saves_cli: list[str] = []
    while i < len(args):
        a = args[i]
        if not a.startswith("--"):
            proc.write(f"\n*** FATAL CONFIG FILE ERROR (Redis 7.2.5) ***\nReading the configuration file, at line 2\n"
                       f">>> '{a}'\nBad directive or wrong number of arguments\n")
            return 1
        key = a[2:].lower()
        vals = []
        i += 1
        while i < len(args) and not args[i].startswith("--"):
            vals.append(args[i])
            i += 1
        if key == "save":
            saves_cli.append(" ".join(vals))
        else:
            conf[key] = " ".join(vals)
    if saves_cli:
        conf["save"] = " ".join(s for s in saves_cli if s.strip('"'))
    return conf


@register_program("redis-server")
def redis_server(proc: Process):
    """redis-server [config] [--port N] [--save ...] [--appendonly yes] [--requirepass pw] [--dir d]."""
    if "--version" in proc.argv or "-v" in proc.argv:
        v = proc.env.get("REDIS_VERSION") or _package_version(proc.fs, "redis-server") or "7.2.5"
        proc.write(f"Redis server v={v} sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=0000000000000000\n")
        return 0
    if "--help" in proc.argv or "-h" in proc.argv:
        proc.error("Usage: ./redis-server [/path/to/redis.conf] [options] [-]\n       ./redis-server - (read config from stdin)\n"
                   "       ./redis-server -v or --version\n       ./redis-server -h or --help\n")
        return 1
    conf = _redis_conf(proc, proc.argv[1:])
    if isinstance(conf, int):
        return conf
    srv = _Redis(proc, conf)
    pid = proc.local_pid
    srv.log("oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo", role="C")
    srv.log(f"Redis version={srv.version}, bits=64, commit=00000000, modified=0, pid={pid}, just started", role="C")
    if len(proc.argv) == 1:
        srv.log("Warning: no config file specified, using the default config. In order to specify a config file "
                "use redis-server /path/to/redis.conf", role="C", level="#")
    else:
        srv.log("Configuration loaded", role="C")
    srv.log("monotonic clock: POSIX clock_gettime")
    port = int(conf.get("port", 6379))
    srv.log(f"Running mode=standalone, port={port}.")
    bind = conf.get("bind", "*").split()[0]
    sessions: dict[tuple, dict] = {}
    stop_event = proc.loop.event()

    def handle(data: bytes, peer: tuple) -> bytes:
        session: dict = {}
        try:
            cmds, _rest = resp_parse(data)
        except _RespError as e:
            return resp_encode(("-", f"ERR {e}"))
        out = b""
        for cmd in cmds:
            reply = srv.execute(cmd, session)
            if "shutdown" in session:
                shutdown(session["shutdown"], "User requested shutdown...")
                return out
            out += resp_encode(reply)
            if session.get("quit"):
                break
        return out

    def shutdown(save: bool, why: str) -> None:
        if stop_event.triggered:
            return
        srv.log(why, level="#")
        if save and (srv.save_points() or conf.get("appendonly") == "yes"):
            srv.log("Saving the final RDB snapshot before exiting.")
            if srv.save():
                srv.log("DB saved on disk")
        srv.log("Removing the pid file.")
        srv.log("Redis is now ready to exit, bye bye...", level="#")
        stop_event.succeed(0)

    try:
        _listen(proc, port, handle, bind="127.0.0.1" if bind in ("127.0.0.1", "localhost") else "0.0.0.0")
    except NetworkError:
        srv.log(f"Warning: Could not create server TCP listening socket *:{port}: bind: Address already in use", level="#")
        srv.log(f"Failed listening on port {port} (tcp), aborting.", level="#")
        return 1
    srv.log("Server initialized")
    srv.load()
    srv.log("Ready to accept connections tcp")
    proc.on_signal("TERM", lambda sig: shutdown(True, "Received SIGTERM scheduling shutdown..."))
    proc.on_signal("INT", lambda sig: shutdown(True, "Received SIGINT scheduling shutdown..."))
    proc.cleanups.append(lambda: srv.timer.cancel() if srv.timer is not None else None)
    yield stop_event
    return 0


def _format_reply(raw: bytes, raw_mode: bool) -> tuple[str, bool]:
    """A reply as redis-cli prints it (``--raw`` style when not on a terminal); (text, is_error)."""
    def parse(i: int) -> tuple[Any, int]:
        t = raw[i:i + 1]
        end = raw.find(b"\r\n", i)
        line = raw[i + 1:end].decode(errors="replace")
        if t == b"+":
            return ("+", line), end + 2
        if t == b"-":
            return ("-", line), end + 2
        if t == b":":
            return int(line), end + 2
        if t == b"$":
            n = int(line)
            if n < 0:
                return None, end + 2
            return raw[end + 2:end + 2 + n].decode(errors="replace"), end + 4 + n
        if t == b"*":
            n = int(line)
            items = []
            j = end + 2
            for _ in range(max(n, 0)):
                v, j = parse(j)
                items.append(v)
            return items, j
        return None, len(raw)

    value, _ = parse(0) if raw else (None, 0)

    def fmt(v: Any, nested: bool = False) -> str:
        if isinstance(v, tuple):
            if v[0] == "-":
                return v[1] if raw_mode else f"(error) {v[1]}"
            return v[1]
        if v is None:
            return "" if raw_mode else "(nil)"
        if isinstance(v, int):
            return str(v) if raw_mode else f"(integer) {v}"
        if isinstance(v, list):
            if not v:
                return "" if raw_mode else "(empty array)"
            if raw_mode:
                return "\n".join(fmt(x, True) for x in v)
            return "\n".join(f"{i}) {fmt(x, True)}" for i, x in enumerate(v, 1))
        return v if raw_mode else f'"{v}"'

    return fmt(value), isinstance(value, tuple) and value[0] == "-"


@register_program("redis-cli")
def redis_cli(proc: Process) -> int:
    """redis-cli [-h host] [-p port] [-a password] [-n db] [--raw|--no-raw] [cmd args...] (or commands on stdin)."""
    host, port, password, raw_mode = "127.0.0.1", 6379, None, True
    args = proc.argv[1:]
    cmd: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-h" and i + 1 < len(args):
            host = args[i + 1]
            i += 2
        elif a == "-p" and i + 1 < len(args):
            if not args[i + 1].isdigit():
                proc.error(f"Invalid port: {args[i + 1]}\n")
                return 1
            port = int(args[i + 1])
            i += 2
        elif a == "-a" and i + 1 < len(args):
            password = args[i + 1]
            i += 2
        elif a == "-n" and i + 1 < len(args):
            i += 2
        elif a == "--raw":
            raw_mode = True
            i += 1
        elif a == "--no-raw":
            raw_mode = False
            i += 1
        elif a in ("--version", "-v"):
            proc.write("redis-cli 7.2.5\n")
            return 0
        elif a == "--help":
            proc.write("redis-cli 7.2.5\n\nUsage: redis-cli [OPTIONS] [cmd [arg [arg ...]]]\n"
                       "  -h <hostname>      Server hostname (default: 127.0.0.1).\n"
                       "  -p <port>          Server port (default: 6379).\n"
                       "  -a <password>      Password to use when connecting to the server.\n")
            return 0
        else:
            cmd = args[i:]
            break
    if password is not None:
        proc.error("Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.\n")
    commands = [cmd] if cmd else [shlex.split(line) for line in proc.stdin.decode(errors="replace").splitlines() if line.strip()]
    code = 0
    for c in commands:
        payload = resp_encode(c)
        if password is not None:
            payload = resp_encode(["AUTH", password]) + payload
        try:
            reply = _request(proc, host, port, payload)
        except NetworkError as e:
            reason = getattr(e, "reason", "")
            why = {"resolve": "Name or service not known", "timeout": "Connection timed out",
                   "unreachable": "No route to host", "reset": "Connection reset by peer"}.get(reason, "Connection refused")
            proc.error(f"Could not connect to Redis at {host}:{port}: {why}\n")
            return 1
        if password is not None and reply.startswith(b"+OK\r\n"):
            reply = reply[5:]
        elif password is not None and reply.startswith(b"-"):
            proc.write("AUTH failed: " + reply[1:].split(b"\r\n")[0].decode() + "\n")
            return 1
        if not reply:
            proc.error("Error: Server closed the connection\n")
            return 1
        text, is_err = _format_reply(reply, raw_mode)
        proc.write(text + "\n")
        if is_err:
            code = 1 if raw_mode else code
    return code


# ---------------------------------------------------------------------------------------------
# python3: a small, safe interpreter for the course's scripts and Flask apps
# ---------------------------------------------------------------------------------------------
_PY_FULL = {"3.10": "3.10.12", "3.11": "3.11.2", "3.12": "3.12.3", "3.13": "3.13.0"}
_STDLIB = {
    "os", "sys", "socket", "time", "json", "random", "math", "datetime", "platform", "http", "http.server",
    "logging", "signal", "string", "collections", "re", "pathlib", "typing", "threading", "subprocess",
    "functools", "itertools", "uuid", "hashlib", "base64", "urllib", "urllib.request", "urllib.parse", "argparse",
    "dataclasses", "enum", "copy", "textwrap", "traceback", "io", "shutil", "tempfile", "statistics", "decimal",
    "fractions", "csv", "sqlite3", "pickle", "queue", "asyncio", "contextlib", "operator", "pprint", "unittest",
    "venv", "ensurepip", "pip", "abc", "secrets", "struct", "zlib", "gzip", "html", "email", "ssl", "select",
    "getpass", "warnings", "inspect", "types", "heapq", "bisect", "array", "weakref", "glob", "fnmatch", "locale",
    "calendar", "zoneinfo", "configparser", "__future__", "wsgiref", "socketserver",
}


class _PyError(Exception):
    """A Python exception raised by the simulated program."""

    def __init__(self, type_name: str, message: str = "", value: Any = None):
        super().__init__(message)
        self.type_name = type_name
        self.message = message
        self.value = value
        self.frames: list[tuple[str, int, str]] = []
        self.annotated: set[int] = set()

    def line(self) -> str:
        return f"{self.type_name}: {self.message}" if self.message else self.type_name


class _Unsupported(Exception):
    def __init__(self, what: str, lineno: int):
        super().__init__(what)
        self.what = what
        self.lineno = lineno


class _Return(Exception):
    def __init__(self, value: Any):
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _SysExit(Exception):
    def __init__(self, code: Any):
        self.code = code


@dataclass
class _Sleep:
    seconds: float


@dataclass
class _ExcType:
    name: str
    bases: tuple["_ExcType", ...] = ()

    def __str__(self) -> str:
        return f"<class '{self.name}'>"

    def is_a(self, other: "_ExcType") -> bool:
        return self.name == other.name or any(b.is_a(other) for b in self.bases)


class _Builtin:
    def __init__(self, fn: Callable, name: str = ""):
        self.fn = fn
        self.name = name

    def __str__(self) -> str:
        return f"<built-in function {self.name}>"


class _Obj:
    """A module or an object with attributes."""

    def __init__(self, label: str, /, **attrs: Any):
        self._name = label
        self.__dict__.update(attrs)

    def __str__(self) -> str:
        return f"<{self._name}>"


@dataclass
class _UserFunc:
    name: str
    node: ast.FunctionDef
    closure: dict

    def __str__(self) -> str:
        return f"<function {self.name}>"


_BASE_EXC = _ExcType("BaseException")
_EXC = _ExcType("Exception", (_BASE_EXC,))
_EXC_TYPES = {n: _ExcType(n, (_EXC,)) for n in (
    "ValueError", "KeyError", "IndexError", "TypeError", "ZeroDivisionError", "RuntimeError", "NameError",
    "AttributeError", "NotImplementedError", "OSError", "ConnectionError", "TimeoutError", "AssertionError",
    "ModuleNotFoundError", "ImportError", "FileNotFoundError", "StopIteration", "MemoryError", "OverflowError")}
_EXC_TYPES["Exception"] = _EXC
_EXC_TYPES["BaseException"] = _BASE_EXC
_EXC_TYPES["KeyboardInterrupt"] = _ExcType("KeyboardInterrupt", (_BASE_EXC,))
_EXC_TYPES["SystemExit"] = _ExcType("SystemExit", (_BASE_EXC,))
_REDIS_ERR = _ExcType("redis.exceptions.RedisError", (_EXC,))
_REDIS_CONN = _ExcType("redis.exceptions.ConnectionError", (_REDIS_ERR,))
_REQ_ERR = _ExcType("requests.exceptions.RequestException", (_EXC_TYPES["OSError"],))
_REQ_CONN = _ExcType("requests.exceptions.ConnectionError", (_REQ_ERR,))


def _exc_type_of(name: str) -> _ExcType:
    for t in (_REDIS_CONN, _REDIS_ERR, _REQ_CONN, _REQ_ERR):
        if t.name == name:
            return t
    return _EXC_TYPES.get(name, _ExcType(name, (_EXC,)))


@dataclass
class _ExcValue:
    type: _ExcType
    message: str

    def __str__(self) -> str:
        return self.message


_SAFE_METHODS = {
    str: {"upper", "lower", "strip", "lstrip", "rstrip", "split", "rsplit", "join", "format", "replace", "startswith",
          "endswith", "encode", "title", "capitalize", "count", "find", "isdigit", "isalpha", "splitlines", "zfill",
          "center", "ljust", "rjust", "partition"},
    bytes: {"decode", "upper", "lower", "strip", "split", "startswith", "endswith"},
    list: {"append", "pop", "extend", "insert", "index", "count", "remove", "sort", "reverse", "copy", "clear"},
    dict: {"get", "items", "keys", "values", "update", "pop", "setdefault", "copy", "clear"},
    int: {"bit_length", "to_bytes"}, float: {"is_integer"}, tuple: {"index", "count"}, set: {"add", "discard", "remove"},
}


class _Interp:
    """Runs a Python module AST with a small, sandboxed subset of the language."""

    MAX_STEPS = 200_000

    def __init__(self, proc: Process, filename: str, source: str, site_dirs: list[str], version: str):
        self.proc = proc
        self.filename = filename
        self.lines = source.splitlines()
        self.site_dirs = site_dirs
        self.version = version
        self.depth = 0
        self.func_stack = ["<module>"]
        self.steps = 0
        seed = int(hashlib.sha256(f"{proc.ns.hostname}:{proc.argv}".encode()).hexdigest()[:8], 16)
        import random as _random

        self.rng = _random.Random(seed)
        self.request: Any = None
        self.apps: list[_FlaskApp] = []
        self.globals: dict[str, Any] = {"__name__": "__main__", "__file__": filename}

    # -- entry points ---------------------------------------------------------------------------
    def run(self, tree: ast.Module, *, name: str = "__main__") -> Generator[Any, Any, int]:
        self.globals["__name__"] = name
        try:
            yield from self.block(tree.body, self.globals)
        except _SysExit as e:
            return self.exit_code(e.code)
        except _PyError as e:
            self.traceback(e)
            return 1
        except _Unsupported as e:
            self.proc.error(f"python3: aivle_k8s runs a small subset of Python: {e.what} "
                            f"(File \"{self.filename}\", line {e.lineno}) is not supported here.\n")
            return 1
        except (_Return, _Break, _Continue):
            self.proc.error(f'  File "{self.filename}"\nSyntaxError: \'return\' outside function\n')
            return 1
        return 0

    def exit_code(self, code: Any) -> int:
        if code is None:
            return 0
        if isinstance(code, bool):
            return int(code)
        if isinstance(code, int):
            return code & 0xFF
        self.proc.error(f"{code}\n")
        return 1

    def traceback(self, e: _PyError) -> None:
        out = ["Traceback (most recent call last):\n"]
        for fname, lineno, func in e.frames:
            out.append(f'  File "{fname}", line {lineno}, in {func}\n')
            if fname == self.filename and 0 < lineno <= len(self.lines):
                out.append(f"    {self.lines[lineno - 1].strip()}\n")
        out.append(e.line() + "\n")
        self.proc.error("".join(out))

    # -- statements -----------------------------------------------------------------------------
    def block(self, stmts: list[ast.stmt], env: dict) -> Generator:
        for node in stmts:
            yield from self.stmt(node, env)

    def stmt(self, node: ast.stmt, env: dict) -> Generator:
        self.steps += 1
        if self.steps > self.MAX_STEPS:
            raise _PyError("RuntimeError", "aivle_k8s: the program ran too many steps without waiting "
                                           "(an endless loop without time.sleep?)")
        try:
            yield from self._stmt(node, env)
        except _PyError as e:
            if self.depth not in e.annotated:
                e.annotated.add(self.depth)
                e.frames.insert(0, (self.filename, node.lineno, self.func_stack[-1]))
            raise

    def _stmt(self, node: ast.stmt, env: dict) -> Generator:
        if isinstance(node, ast.Expr):
            yield from self.eval(node.value, env)
        elif isinstance(node, ast.Assign):
            value = yield from self.eval(node.value, env)
            for target in node.targets:
                yield from self.assign(target, value, env)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                value = yield from self.eval(node.value, env)
                yield from self.assign(node.target, value, env)
        elif isinstance(node, ast.AugAssign):
            cur = yield from self.eval(ast.Name(node.target.id, ast.Load()) if isinstance(node.target, ast.Name)
                                       else node.target, env)
            rhs = yield from self.eval(node.value, env)
            yield from self.assign(node.target, self.binop(node.op, cur, rhs), env)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            self.do_import(node, env)
        elif isinstance(node, ast.If):
            test = yield from self.eval(node.test, env)
            yield from self.block(node.body if test else node.orelse, env)
        elif isinstance(node, ast.While):
            while (yield from self.eval(node.test, env)):
                try:
                    yield from self.block(node.body, env)
                except _Break:
                    break
                except _Continue:
                    continue
            else:
                yield from self.block(node.orelse, env)
        elif isinstance(node, ast.For):
            iterable = yield from self.eval(node.iter, env)
            try:
                items = list(iterable) if not isinstance(iterable, dict) else list(iterable.keys())
            except TypeError:
                raise _PyError("TypeError", f"'{type(iterable).__name__}' object is not iterable") from None
            for item in items:
                yield from self.assign(node.target, item, env)
                try:
                    yield from self.block(node.body, env)
                except _Break:
                    break
                except _Continue:
                    continue
            else:
                yield from self.block(node.orelse, env)
        elif isinstance(node, ast.Break):
            raise _Break()
        elif isinstance(node, ast.Continue):
            raise _Continue()
        elif isinstance(node, ast.Pass):
            pass
        elif isinstance(node, ast.Return):
            value = (yield from self.eval(node.value, env)) if node.value is not None else None
            raise _Return(value)
        elif isinstance(node, ast.FunctionDef):
            fn: Any = _UserFunc(node.name, node, env)
            for dec in reversed(node.decorator_list):
                d = yield from self.eval(dec, env)
                fn = yield from self.call(d, [fn], {})
            env[node.name] = fn
        elif isinstance(node, ast.Global):
            pass
        elif isinstance(node, ast.Try):
            yield from self.try_stmt(node, env)
        elif isinstance(node, ast.Raise):
            if node.exc is None:
                raise _PyError("RuntimeError", "No active exception to reraise")
            exc = yield from self.eval(node.exc, env)
            if isinstance(exc, _ExcType):
                exc = _ExcValue(exc, "")
            if isinstance(exc, _ExcValue):
                if exc.type.name == "SystemExit":
                    raise _SysExit(exc.message or None)
                raise _PyError(exc.type.name, exc.message, exc)
            raise _PyError("TypeError", "exceptions must derive from BaseException")
        elif isinstance(node, ast.Assert):
            ok = yield from self.eval(node.test, env)
            if not ok:
                msg = (yield from self.eval(node.msg, env)) if node.msg is not None else ""
                raise _PyError("AssertionError", str(msg))
        elif isinstance(node, ast.Delete):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    env.pop(t.id, None)
                elif isinstance(t, ast.Subscript):
                    obj = yield from self.eval(t.value, env)
                    key = yield from self.eval(t.slice, env)
                    try:
                        del obj[key]
                    except (KeyError, IndexError, TypeError) as e:
                        raise _PyError(type(e).__name__, str(e)) from None
        else:
            raise _Unsupported(type(node).__name__, getattr(node, "lineno", 0))

    def try_stmt(self, node: ast.Try, env: dict) -> Generator:
        try:
            try:
                yield from self.block(node.body, env)
            except _PyError as e:
                for h in node.handlers:
                    matches = h.type is None
                    if h.type is not None:
                        t = yield from self.eval(h.type, env)
                        types = t if isinstance(t, tuple) else (t,)
                        matches = any(isinstance(x, _ExcType) and _exc_type_of(e.type_name).is_a(x) for x in types)
                    if matches:
                        if h.name:
                            env[h.name] = e.value if isinstance(e.value, _ExcValue) else _ExcValue(_exc_type_of(e.type_name), e.message)
                        yield from self.block(h.body, env)
                        break
                else:
                    raise
            else:
                yield from self.block(node.orelse, env)
        finally:
            if node.finalbody:
                yield from self.block(node.finalbody, env)

    def assign(self, target: ast.expr, value: Any, env: dict) -> Generator:
        if isinstance(target, ast.Name):
            env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            try:
                values = list(value)
            except TypeError:
                raise _PyError("TypeError", f"cannot unpack non-iterable {type(value).__name__} object") from None
            if len(values) != len(target.elts):
                raise _PyError("ValueError", f"too many values to unpack (expected {len(target.elts)})"
                               if len(values) > len(target.elts) else
                               f"not enough values to unpack (expected {len(target.elts)}, got {len(values)})")
            for t, v in zip(target.elts, values):
                yield from self.assign(t, v, env)
        elif isinstance(target, ast.Subscript):
            obj = yield from self.eval(target.value, env)
            key = yield from self.eval(target.slice, env)
            try:
                obj[key] = value
            except (TypeError, IndexError, KeyError) as e:
                raise _PyError(type(e).__name__, str(e)) from None
        elif isinstance(target, ast.Attribute):
            obj = yield from self.eval(target.value, env)
            if isinstance(obj, _Obj):
                setattr(obj, target.attr, value)
            else:
                raise _PyError("AttributeError", f"'{type(obj).__name__}' object attribute '{target.attr}' is read-only")
        else:
            raise _Unsupported(type(target).__name__, getattr(target, "lineno", 0))

    # -- imports ------------------------------------------------------------------------------------
    def module_available(self, name: str) -> bool:
        top = name.split(".")[0]
        if name in _STDLIB or top in _STDLIB:
            return True
        fs = self.proc.fs
        script_dir = posixpath.dirname(self.filename) if self.filename.startswith("/") else self.proc.cwd
        if fs.is_file(f"{script_dir}/{top}.py") or fs.is_dir(f"{script_dir}/{top}"):
            return True
        return any(fs.is_dir(f"{d}/{top}") or fs.is_file(f"{d}/{top}.py") for d in self.site_dirs)

    def do_import(self, node: ast.stmt, env: dict) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not self.module_available(alias.name):
                    raise _PyError("ModuleNotFoundError", f"No module named '{alias.name.split('.')[0]}'")
                mod = self.module(alias.name)
                if alias.asname:
                    env[alias.asname] = mod if "." not in alias.name else self.module(alias.name)
                else:
                    env[alias.name.split(".")[0]] = self.module(alias.name.split(".")[0])
            return
        assert isinstance(node, ast.ImportFrom)
        modname = node.module or ""
        if not self.module_available(modname):
            raise _PyError("ModuleNotFoundError", f"No module named '{modname.split('.')[0]}'")
        mod = self.module(modname)
        for alias in node.names:
            if alias.name == "*":
                continue
            if hasattr(mod, alias.name):
                env[alias.asname or alias.name] = getattr(mod, alias.name)
            elif modname.split(".")[0] in _STDLIB:
                env[alias.asname or alias.name] = _Obj(f"{modname}.{alias.name}")
            else:
                raise _PyError("ImportError", f"cannot import name '{alias.name}' from '{modname}' "
                                              f"({self.site_dirs[0] if self.site_dirs else '/usr/lib/python3'}/{modname}/__init__.py)")

    def module(self, name: str) -> Any:
        proc = self.proc
        if name == "os":
            environ = dict(proc.env)
            path = _Obj("module 'posixpath'", join=_Builtin(lambda *a: posixpath.join(*a), "join"),
                        exists=_Builtin(lambda p: proc.fs.exists(join(proc.cwd, p)), "exists"),
                        basename=_Builtin(posixpath.basename, "basename"), dirname=_Builtin(posixpath.dirname, "dirname"),
                        abspath=_Builtin(lambda p: join(proc.cwd, p), "abspath"), sep="/")
            return _Obj("module 'os'", environ=environ, getenv=_Builtin(lambda k, d=None: environ.get(k, d), "getenv"),
                        getpid=_Builtin(lambda: proc.local_pid, "getpid"), getcwd=_Builtin(lambda: proc.cwd, "getcwd"),
                        path=path, sep="/", name="posix",
                        listdir=_Builtin(lambda p=".": proc.fs.listdir(join(proc.cwd, p)), "listdir"),
                        cpu_count=_Builtin(lambda: getattr(proc.kernel, "cpus", 1), "cpu_count"))
        if name == "os.path":
            return self.module("os").path
        if name == "sys":
            return _Obj("module 'sys'", argv=list(self.globals.get("__argv__", [self.filename])),
                        exit=_Builtin(self._sys_exit, "exit"), version=f"{self.version} (main, Jul  2 2024, 00:00:00) [GCC 12.2.0]",
                        platform="linux", path=list(self.site_dirs), executable="/usr/local/bin/python3",
                        stdout=_Obj("stdout", write=_Builtin(lambda s: proc.write(str(s)) or len(str(s)), "write"),
                                    flush=_Builtin(lambda: None, "flush")),
                        stderr=_Obj("stderr", write=_Builtin(lambda s: proc.error(str(s)) or len(str(s)), "write"),
                                    flush=_Builtin(lambda: None, "flush")),
                        version_info=tuple(int(x) for x in self.version.split(".")) + ("final", 0))
        if name == "socket":
            return _Obj("module 'socket'", gethostname=_Builtin(lambda: proc.ns.hostname, "gethostname"),
                        gethostbyname=_Builtin(self._gethostbyname, "gethostbyname"))
        if name == "time":
            return _Obj("module 'time'", sleep=_Builtin(lambda s: _Sleep(float(s)), "sleep"),
                        time=_Builtin(lambda: _now(proc).timestamp(), "time"),
                        monotonic=_Builtin(lambda: proc.now, "monotonic"),
                        perf_counter=_Builtin(lambda: proc.now, "perf_counter"),
                        strftime=_Builtin(lambda f, t=None: _now(proc).strftime(f), "strftime"))
        if name == "json":
            return _Obj("module 'json'", dumps=_Builtin(lambda o, **kw: json.dumps(o, indent=kw.get("indent")), "dumps"),
                        loads=_Builtin(self._json_loads, "loads"))
        if name == "random":
            r = self.rng
            return _Obj("module 'random'", randint=_Builtin(r.randint, "randint"), random=_Builtin(r.random, "random"),
                        choice=_Builtin(lambda s: r.choice(list(s)), "choice"), seed=_Builtin(lambda *a: r.seed(*a), "seed"),
                        uniform=_Builtin(r.uniform, "uniform"), shuffle=_Builtin(r.shuffle, "shuffle"))
        if name == "math":
            import math as _m

            return _Obj("module 'math'", **{k: (_Builtin(getattr(_m, k), k) if callable(getattr(_m, k)) else getattr(_m, k))
                                          for k in ("sqrt", "pi", "e", "floor", "ceil", "log", "exp", "sin", "cos", "pow", "fabs")})
        if name == "datetime":
            now = _Builtin(lambda tz=None: _now(proc).replace(tzinfo=None), "now")
            return _Obj("module 'datetime'", datetime=_Obj("class 'datetime.datetime'", now=now, utcnow=now))
        if name == "platform":
            return _Obj("module 'platform'", node=_Builtin(lambda: proc.ns.hostname, "node"),
                        python_version=_Builtin(lambda: self.version, "python_version"),
                        system=_Builtin(lambda: "Linux", "system"), release=_Builtin(lambda: proc.kernel.release, "release"))
        if name == "flask":
            return _Obj("module 'flask'", Flask=_Builtin(lambda n="app", **kw: self._new_app(n), "Flask"),
                        jsonify=_Builtin(lambda *a, **kw: _JSONBody(a[0] if len(a) == 1 else (list(a) if a else kw)), "jsonify"),
                        request=_Proxy(self), abort=_Builtin(self._abort, "abort"),
                        render_template_string=_Builtin(lambda s, **kw: self._render(s, kw), "render_template_string"),
                        __version__="3.0.3")
        if name in ("redis", "redis.exceptions"):
            exc = _Obj("module 'redis.exceptions'", ConnectionError=_REDIS_CONN, RedisError=_REDIS_ERR)
            if name == "redis.exceptions":
                return exc
            factory = _Builtin(lambda host="localhost", port=6379, db=0, decode_responses=False, **kw:
                               _RedisClient(self, str(host), int(port), bool(decode_responses), kw.get("password")), "Redis")
            return _Obj("module 'redis'", Redis=factory, StrictRedis=factory, exceptions=exc,
                        ConnectionError=_REDIS_CONN, __version__="5.0.7")
        if name in ("requests", "requests.exceptions"):
            exc = _Obj("module 'requests.exceptions'", ConnectionError=_REQ_CONN, RequestException=_REQ_ERR)
            if name == "requests.exceptions":
                return exc
            return _Obj("module 'requests'", get=_Builtin(lambda url, **kw: self._http("GET", url, kw), "get"),
                        post=_Builtin(lambda url, **kw: self._http("POST", url, kw), "post"),
                        put=_Builtin(lambda url, **kw: self._http("PUT", url, kw), "put"),
                        delete=_Builtin(lambda url, **kw: self._http("DELETE", url, kw), "delete"),
                        exceptions=exc, ConnectionError=_REQ_CONN, __version__="2.32.3")
        if name == "numpy":
            return _Obj("module 'numpy'", __version__="2.0.1", mean=_Builtin(lambda xs: sum(xs) / len(xs), "mean"),
                        sum=_Builtin(lambda xs: sum(xs), "sum"), array=_Builtin(lambda xs: list(xs), "array"))
        return _Obj(f"module '{name}'")

    def _sys_exit(self, code: Any = None) -> None:
        raise _SysExit(code)

    def _json_loads(self, s: Any) -> Any:
        try:
            return json.loads(s)
        except ValueError as e:
            raise _PyError("json.decoder.JSONDecodeError", str(e)) from None

    def _gethostbyname(self, host: str) -> str:
        net = self.proc.ns.net
        try:
            return net.network.resolve(net, host)
        except (NetworkError, AttributeError):
            raise _PyError("socket.gaierror", "[Errno -2] Name or service not known") from None

    def _new_app(self, name: str) -> "_FlaskApp":
        app = _FlaskApp(self, name if name != "__main__" else "app")
        self.apps.append(app)
        return app

    def _abort(self, code: int, *a: Any) -> None:
        raise _PyError("werkzeug.exceptions.HTTPException", str(code), _HTTPAbort(int(code)))

    def _render(self, template: str, ctx: dict) -> str:
        return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: str(ctx.get(m.group(1), "")), template)

    def _http(self, method: str, url: str, kw: dict) -> "_HTTPResponse":
        from .http import parse_url

        try:
            _scheme, host, port, path = parse_url(url)
        except InvalidInput as e:
            raise _PyError("requests.exceptions.InvalidURL", str(e)) from None
        body = b""
        headers = {"Host": host if port == 80 else f"{host}:{port}", "User-Agent": "python-requests/2.32.3",
                   "Accept": "*/*", "Connection": "keep-alive"}
        if "json" in kw:
            body = json.dumps(kw["json"]).encode()
            headers["Content-Type"] = "application/json"
        elif "data" in kw:
            body = str(kw["data"]).encode()
        try:
            raw = _request(self.proc, host, port, Request(method, path, headers, body).to_bytes())
            resp = Response.parse(raw)
        except NetworkError as e:
            why = {"resolve": "[Errno -2] Name or service not known", "timeout": "[Errno 110] Connection timed out"}.get(
                getattr(e, "reason", ""), "[Errno 111] Connection refused")
            raise _PyError("requests.exceptions.ConnectionError",
                           f"HTTPConnectionPool(host='{host}', port={port}): Max retries exceeded with url: {path} "
                           f"(Caused by NewConnectionError('<urllib3.connection.HTTPConnection object>: Failed to "
                           f"establish a new connection: {why}'))", _ExcValue(_REQ_CONN, "")) from None
        return _HTTPResponse(resp)

    # -- expressions --------------------------------------------------------------------------------
    def eval(self, node: ast.expr, env: dict) -> Generator[Any, Any, Any]:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in env:
                return env[node.id]
            if node.id in self.globals:
                return self.globals[node.id]
            b = self.builtin(node.id)
            if b is not None:
                return b
            raise _PyError("NameError", f"name '{node.id}' is not defined")
        if isinstance(node, ast.JoinedStr):
            parts = []
            for v in node.values:
                if isinstance(v, ast.Constant):
                    parts.append(str(v.value))
                else:
                    val = yield from self.eval(v.value, env)
                    if v.conversion == ord("r"):
                        val = repr(val)
                    elif v.conversion == ord("s"):
                        val = self.to_str(val)
                    spec = ""
                    if v.format_spec is not None:
                        spec = yield from self.eval(v.format_spec, env)
                    try:
                        parts.append(format(val, spec) if spec else self.to_str(val))
                    except (ValueError, TypeError) as e:
                        raise _PyError("ValueError", str(e)) from None
            return "".join(parts)
        if isinstance(node, ast.FormattedValue):
            val = yield from self.eval(node.value, env)
            return self.to_str(val)
        if isinstance(node, ast.BinOp):
            left = yield from self.eval(node.left, env)
            right = yield from self.eval(node.right, env)
            return self.binop(node.op, left, right)
        if isinstance(node, ast.UnaryOp):
            v = yield from self.eval(node.operand, env)
            try:
                if isinstance(node.op, ast.Not):
                    return not v
                if isinstance(node.op, ast.USub):
                    return -v
                if isinstance(node.op, ast.UAdd):
                    return +v
            except TypeError as e:
                raise _PyError("TypeError", str(e)) from None
            raise _Unsupported("this unary operator", node.lineno)
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.And):
                v = True
                for x in node.values:
                    v = yield from self.eval(x, env)
                    if not v:
                        return v
                return v
            v = False
            for x in node.values:
                v = yield from self.eval(x, env)
                if v:
                    return v
            return v
        if isinstance(node, ast.Compare):
            left = yield from self.eval(node.left, env)
            for op, comp in zip(node.ops, node.comparators):
                right = yield from self.eval(comp, env)
                if not self.compare(op, left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            test = yield from self.eval(node.test, env)
            return (yield from self.eval(node.body if test else node.orelse, env))
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items = []
            for e in node.elts:
                items.append((yield from self.eval(e, env)))
            return items if isinstance(node, ast.List) else (tuple(items) if isinstance(node, ast.Tuple) else set(items))
        if isinstance(node, ast.Dict):
            out = {}
            for k, v in zip(node.keys, node.values):
                val = yield from self.eval(v, env)
                if k is None:
                    out.update(val)
                else:
                    out[(yield from self.eval(k, env))] = val
            return out
        if isinstance(node, ast.Subscript):
            obj = yield from self.eval(node.value, env)
            if isinstance(node.slice, ast.Slice):
                lo = (yield from self.eval(node.slice.lower, env)) if node.slice.lower else None
                hi = (yield from self.eval(node.slice.upper, env)) if node.slice.upper else None
                st = (yield from self.eval(node.slice.step, env)) if node.slice.step else None
                key: Any = slice(lo, hi, st)
            else:
                key = yield from self.eval(node.slice, env)
            try:
                return obj[key]
            except KeyError:
                raise _PyError("KeyError", repr(key)) from None
            except IndexError as e:
                raise _PyError("IndexError", str(e)) from None
            except TypeError as e:
                raise _PyError("TypeError", str(e)) from None
        if isinstance(node, ast.Attribute):
            obj = yield from self.eval(node.value, env)
            return self.getattr(obj, node.attr)
        if isinstance(node, ast.Call):
            fn = yield from self.eval(node.func, env)
            args: list[Any] = []
            for a in node.args:
                if isinstance(a, ast.Starred):
                    args += list((yield from self.eval(a.value, env)))
                else:
                    args.append((yield from self.eval(a, env)))
            kwargs = {}
            for k in node.keywords:
                val = yield from self.eval(k.value, env)
                if k.arg is None:
                    kwargs.update(val)
                else:
                    kwargs[k.arg] = val
            return (yield from self.call(fn, args, kwargs))
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            if len(node.generators) != 1 or node.generators[0].is_async:
                raise _Unsupported("a comprehension with several for clauses", node.lineno)
            gen = node.generators[0]
            iterable = yield from self.eval(gen.iter, env)
            local = dict(env)
            out_list: list = []
            out_dict: dict = {}
            for item in list(iterable):
                yield from self.assign(gen.target, item, local)
                ok = True
                for cond in gen.ifs:
                    if not (yield from self.eval(cond, local)):
                        ok = False
                        break
                if not ok:
                    continue
                if isinstance(node, ast.DictComp):
                    out_dict[(yield from self.eval(node.key, local))] = yield from self.eval(node.value, local)
                else:
                    out_list.append((yield from self.eval(node.elt, local)))
            if isinstance(node, ast.DictComp):
                return out_dict
            return set(out_list) if isinstance(node, ast.SetComp) else out_list
        if isinstance(node, ast.Lambda):
            fdef = ast.FunctionDef("<lambda>", node.args, [ast.Return(node.body, lineno=node.lineno)], [], None,
                                   lineno=node.lineno)
            return _UserFunc("<lambda>", fdef, env)
        raise _Unsupported(type(node).__name__, getattr(node, "lineno", 0))

    def to_str(self, v: Any) -> str:
        if v is None or isinstance(v, (bool, int, float, str, list, dict, tuple)):
            return str(v)
        if isinstance(v, bytes):
            return str(v)
        return str(v)

    def binop(self, op: ast.operator, a: Any, b: Any) -> Any:
        ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b, ast.Div: lambda: a / b,
               ast.FloorDiv: lambda: a // b, ast.Mod: lambda: a % b, ast.Pow: lambda: a ** b}
        fn = ops.get(type(op))
        if fn is None:
            raise _Unsupported(f"the {type(op).__name__} operator", 0)
        if isinstance(op, ast.Mult) and isinstance(a, (str, list, bytes)) and isinstance(b, int) and b * max(1, len(a)) > 10_000_000:
            raise _PyError("MemoryError", "")
        if isinstance(op, ast.Pow) and isinstance(b, int) and abs(b) > 10_000:
            raise _PyError("OverflowError", "exponent too large for this simulation")
        try:
            return fn()
        except ZeroDivisionError:
            raise _PyError("ZeroDivisionError", "division by zero" if not isinstance(op, ast.Mod) else "integer modulo by zero") from None
        except TypeError as e:
            raise _PyError("TypeError", str(e)) from None

    def compare(self, op: ast.cmpop, a: Any, b: Any) -> bool:
        try:
            if isinstance(op, ast.Eq):
                return a == b
            if isinstance(op, ast.NotEq):
                return a != b
            if isinstance(op, ast.Lt):
                return a < b
            if isinstance(op, ast.LtE):
                return a <= b
            if isinstance(op, ast.Gt):
                return a > b
            if isinstance(op, ast.GtE):
                return a >= b
            if isinstance(op, ast.In):
                return a in b
            if isinstance(op, ast.NotIn):
                return a not in b
            if isinstance(op, ast.Is):
                return a is b
            if isinstance(op, ast.IsNot):
                return a is not b
        except TypeError as e:
            raise _PyError("TypeError", str(e)) from None
        raise _Unsupported("this comparison", 0)

    def getattr(self, obj: Any, name: str) -> Any:
        if isinstance(obj, (_Obj, _FlaskApp, _RedisClient, _HTTPResponse, _Proxy, _ExcValue)):
            if name.startswith("__") and name not in ("__version__", "__name__"):
                raise _PyError("AttributeError", f"'{obj}' object has no attribute '{name}'")
            try:
                return getattr(obj, name)
            except AttributeError:
                mod = str(obj).strip("<>")
                raise _PyError("AttributeError", f"{mod} has no attribute '{name}'") from None
        if isinstance(obj, dict) and name == "get":
            return obj.get
        allowed = _SAFE_METHODS.get(type(obj), set())
        if name in allowed:
            return getattr(obj, name)
        raise _PyError("AttributeError", f"'{type(obj).__name__}' object has no attribute '{name}'")

    def builtin(self, name: str) -> Any:
        proc = self.proc

        def _print(*args: Any, sep: str = " ", end: str = "\n", file: Any = None, flush: bool = False) -> None:
            text = sep.join(self.to_str(a) for a in args) + end
            if file is not None and getattr(file, "_name", "") == "stderr":
                proc.error(text)
            else:
                proc.write(text)

        def _input(prompt: str = "") -> str:
            proc.write(prompt)
            lines = proc.stdin.decode(errors="replace").split("\n")
            consumed = self.globals.setdefault("__stdin_pos__", 0)
            if consumed >= len(lines) or (consumed == len(lines) - 1 and not lines[-1]):
                raise _PyError("EOFError", "EOF when reading a line")
            self.globals["__stdin_pos__"] = consumed + 1
            return lines[consumed]

        def _conv(fn: Callable, label: str) -> Callable:
            def inner(*a: Any) -> Any:
                try:
                    return fn(*a)
                except (ValueError, TypeError) as e:
                    raise _PyError(type(e).__name__, str(e)) from None
            return inner

        def _isinstance(obj: Any, types: Any) -> bool:
            py = {"str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict,
                  "tuple": tuple, "set": set}
            wanted = types if isinstance(types, tuple) else (types,)
            for t in wanted:
                if isinstance(t, _Builtin) and t.name in py and isinstance(obj, py[t.name]):
                    return True
                if isinstance(t, _ExcType) and isinstance(obj, _ExcValue) and obj.type.is_a(t):
                    return True
            return False

        def _range(*a: Any) -> range:
            r = range(*a)
            if len(r) > 1_000_000:
                raise _PyError("MemoryError", "range too large for this simulation")
            return r

        table = {
            "print": _print, "len": _conv(len, "len"), "str": _conv(str, "str"), "int": _conv(int, "int"),
            "float": _conv(float, "float"), "bool": bool, "range": _range, "list": _conv(list, "list"),
            "dict": _conv(dict, "dict"), "tuple": _conv(tuple, "tuple"), "set": _conv(set, "set"),
            "sorted": _conv(sorted, "sorted"), "min": _conv(min, "min"), "max": _conv(max, "max"),
            "sum": _conv(sum, "sum"), "abs": _conv(abs, "abs"), "round": _conv(round, "round"),
            "enumerate": lambda x, start=0: list(enumerate(x, start)), "zip": lambda *a: list(zip(*a)),
            "repr": repr, "input": _input, "isinstance": _isinstance,
            "exit": self._sys_exit, "quit": self._sys_exit, "hex": _conv(hex, "hex"), "ord": _conv(ord, "ord"),
            "chr": _conv(chr, "chr"), "any": any, "all": all, "reversed": lambda x: list(reversed(x)),
            "True": True, "False": False, "None": None,
        }
        if name in table:
            v = table[name]
            return _Builtin(v, name) if callable(v) else v
        if name in _EXC_TYPES:
            return _EXC_TYPES[name]
        return None

    def call(self, fn: Any, args: list, kwargs: dict) -> Generator[Any, Any, Any]:
        if isinstance(fn, _UserFunc):
            return (yield from self.call_user(fn, args, kwargs))
        if isinstance(fn, _ExcType):
            return _ExcValue(fn, self.to_str(args[0]) if args else "")
        if isinstance(fn, _Builtin):
            result = fn.fn(*args, **kwargs)
        elif callable(fn) and not isinstance(fn, type):
            try:
                result = fn(*args, **kwargs)
            except (ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
                raise _PyError(type(e).__name__, str(e)) from None
        else:
            raise _PyError("TypeError", f"'{type(fn).__name__}' object is not callable")
        if isinstance(result, _Sleep):
            if result.seconds < 0:
                raise _PyError("ValueError", "sleep length must be non-negative")
            yield self.proc.sleep(result.seconds)
            self.steps = 0
            return None
        if isinstance(result, Generator):
            return (yield from result)
        return result

    def call_user(self, fn: _UserFunc, args: list, kwargs: dict) -> Generator[Any, Any, Any]:
        params = fn.node.args
        names = [a.arg for a in params.args]
        defaults = params.defaults
        local: dict[str, Any] = {}
        if len(args) > len(names) and params.vararg is None:
            raise _PyError("TypeError", f"{fn.name}() takes {len(names)} positional arguments but {len(args)} were given")
        for n, v in zip(names, args):
            local[n] = v
        if params.vararg is not None:
            local[params.vararg.arg] = tuple(args[len(names):])
        for n, v in kwargs.items():
            if n in names or params.kwarg is not None:
                local[n] = v
            else:
                raise _PyError("TypeError", f"{fn.name}() got an unexpected keyword argument '{n}'")
        if params.kwarg is not None:
            local[params.kwarg.arg] = {k: v for k, v in kwargs.items() if k not in names}
        for i, d in enumerate(defaults):
            n = names[len(names) - len(defaults) + i]
            if n not in local:
                local[n] = yield from self.eval(d, fn.closure)
        for n in names:
            if n not in local:
                raise _PyError("TypeError", f"{fn.name}() missing 1 required positional argument: '{n}'")
        env = _Scope(local, fn.closure)
        self.depth += 1
        self.func_stack.append(fn.name)
        if self.depth > 100:
            raise _PyError("RecursionError", "maximum recursion depth exceeded")
        try:
            yield from self.block(fn.node.body, env)
        except _Return as r:
            return r.value
        finally:
            self.depth -= 1
            self.func_stack.pop()
        return None


class _Scope(dict):
    """A function's local variables that fall back to the enclosing (module) scope on reads."""

    def __init__(self, local: dict, outer: dict):
        super().__init__(local)
        self.outer = outer

    def __missing__(self, key: str) -> Any:
        return self.outer[key]

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self.outer


def _drive(gen: Generator) -> Any:
    """Run an interpreter generator to the end at once (waits inside request handlers take no time)."""
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        return stop.value


@dataclass
class _JSONBody:
    value: Any


@dataclass
class _HTTPAbort:
    code: int


class _HTTPResponse:
    def __init__(self, resp: Response):
        self.status_code = resp.status
        self.text = resp.text
        self.content = resp.body
        self.ok = resp.status < 400
        self.headers = dict(resp.headers)
        self.reason = resp.reason

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            raise _PyError("requests.exceptions.JSONDecodeError", "Expecting value: line 1 column 1 (char 0)") from None

    def raise_for_status(self) -> None:
        if not self.ok:
            raise _PyError("requests.exceptions.HTTPError", f"{self.status_code} Server Error: {self.reason}")

    def __str__(self) -> str:
        return f"<Response [{self.status_code}]>"


class _RedisClient:
    def __init__(self, interp: _Interp, host: str, port: int, decode: bool, password: str | None):
        self.interp = interp
        self.host = host
        self.port = port
        self.decode = decode
        self.password = password
        for name in ("get", "set", "incr", "decr", "incrby", "delete", "exists", "keys", "expire", "ttl", "lpush",
                     "rpush", "lrange", "llen", "hset", "hget", "hgetall", "ping", "flushall", "dbsize", "sadd",
                     "smembers", "lpop", "rpop", "mget", "setex"):
            setattr(self, name, _Builtin(lambda *a, _n=name, **kw: self._cmd(_n, a, kw), name))

    def __str__(self) -> str:
        return f"Redis<ConnectionPool<Connection<host={self.host},port={self.port},db=0>>>"

    def _cmd(self, name: str, args: tuple, kw: dict) -> Any:
        cmd = {"delete": "DEL"}.get(name, name.upper())
        if name == "hset" and "mapping" in kw:
            args = args + tuple(x for kv in kw["mapping"].items() for x in kv)
        if name == "set" and kw.get("ex") is not None:
            args = args + ("EX", kw["ex"])
        payload = resp_encode([cmd] + [self.interp.to_str(a) if not isinstance(a, bytes) else a.decode() for a in args])
        if self.password:
            payload = resp_encode(["AUTH", self.password]) + payload
        try:
            raw = _request(self.interp.proc, self.host, self.port, payload)
        except NetworkError as e:
            reason = getattr(e, "reason", "")
            msg = (f"Error -2 connecting to {self.host}:{self.port}. Name or service not known." if reason == "resolve"
                   else f"Error 111 connecting to {self.host}:{self.port}. Connection refused.")
            raise _PyError("redis.exceptions.ConnectionError", msg, _ExcValue(_REDIS_CONN, msg)) from None
        if self.password and raw.startswith(b"+OK\r\n"):
            raw = raw[5:]
        value = self._parse(raw)
        if isinstance(value, tuple) and value[0] == "-":
            err_type = "redis.exceptions.AuthenticationError" if value[1].startswith(("NOAUTH", "WRONGPASS")) else "redis.exceptions.ResponseError"
            raise _PyError(err_type, value[1].split(" ", 1)[1] if value[1].startswith(("NOAUTH", "WRONGPASS")) else value[1])
        if name in ("ping",):
            return True
        if name in ("set", "flushall", "setex"):
            return True
        if name == "hgetall" and isinstance(value, list):
            return {value[i]: value[i + 1] for i in range(0, len(value), 2)}
        if name == "smembers" and isinstance(value, list):
            return set(value)
        return value

    def _parse(self, raw: bytes) -> Any:
        def conv(v: Any) -> Any:
            if isinstance(v, str):
                return v if self.decode else v.encode()
            if isinstance(v, list):
                return [conv(x) for x in v]
            return v

        pos = [0]

        def one() -> Any:
            i = pos[0]
            t = raw[i:i + 1]
            end = raw.find(b"\r\n", i)
            line = raw[i + 1:end].decode(errors="replace")
            pos[0] = end + 2
            if t == b"+":
                return ("+", line)
            if t == b"-":
                return ("-", line)
            if t == b":":
                return int(line)
            if t == b"$":
                n = int(line)
                if n < 0:
                    return None
                data = raw[pos[0]:pos[0] + n].decode(errors="replace")
                pos[0] += n + 2
                return data
            if t == b"*":
                return [one() for _ in range(int(line))]
            return None

        v = one() if raw else None
        if isinstance(v, tuple):
            return v
        return conv(v)


class _Proxy:
    """``flask.request``: the request being handled."""

    def __init__(self, interp: _Interp):
        self._interp = interp

    def __getattr__(self, name: str) -> Any:
        req = self._interp.request
        if req is None:
            raise _PyError("RuntimeError", "Working outside of request context.")
        if name not in req:
            raise AttributeError(name)
        return req[name]

    def __str__(self) -> str:
        return "<Request>"


class _FlaskApp:
    def __init__(self, interp: _Interp, name: str):
        self.interp = interp
        self.name = name
        self.routes: list[tuple[re.Pattern, list[str], set[str], Any, str]] = []
        self.route = _Builtin(self._route, "route")
        self.get = _Builtin(lambda rule, **kw: self._route(rule, methods=["GET"]), "get")
        self.post = _Builtin(lambda rule, **kw: self._route(rule, methods=["POST"]), "post")
        self.run = _Builtin(self._run, "run")
        self.config = {}
        self.log_requests = True

    def __str__(self) -> str:
        return f"<Flask '{self.name}'>"

    def _route(self, rule: str, methods: list[str] | None = None, **kw: Any) -> _Builtin:
        def deco(fn: Any) -> Any:
            names: list[str] = []

            def conv(m: re.Match) -> str:
                kind, name = (m.group(1) or "string"), m.group(2)
                names.append(name + ("" if kind != "int" else ":int"))
                return {"int": r"(\d+)", "path": r"(.+)", "float": r"(\d+\.\d+)"}.get(kind, r"([^/]+)")

            pattern = re.sub(r"<(?:(\w+):)?(\w+)>", conv, re.escape(rule).replace(r"\<", "<").replace(r"\>", ">")
                             .replace(r"\:", ":"))
            rx = re.compile("^" + pattern.rstrip("/") + "/?$" if rule != "/" else "^/$")
            self.routes.append((rx, names, set(m.upper() for m in (methods or ["GET"])) | {"HEAD"}, fn, rule))
            return fn

        return _Builtin(deco, "decorator")

    def handle(self, data: bytes, peer: tuple) -> bytes:
        interp = self.interp
        proc = interp.proc
        try:
            req = Request.parse(data)
        except InvalidInput:
            return Response(400, b"Bad Request").to_bytes()
        path, _, query = req.path.partition("?")
        status, body, ctype, extra = 404, _FLASK_404, "text/html; charset=utf-8", {}
        matched = False
        for rx, names, methods, fn, _rule in self.routes:
            m = rx.match(unquote(path))
            if not m:
                continue
            matched = True
            if req.method not in methods:
                status, body = 405, _FLASK_405
                continue
            kwargs = {}
            for n, v in zip(names, m.groups()):
                key, _, kind = n.partition(":")
                kwargs[key] = int(v) if kind == "int" else v
            args = {k: v[-1] for k, v in parse_qs(query).items()}
            body_text = req.body.decode(errors="replace")
            try:
                js = json.loads(body_text) if body_text and "json" in (req.header("Content-Type") or "") else None
            except ValueError:
                js = None
            interp.request = {"method": req.method, "path": path, "args": args, "headers": dict(req.headers),
                              "json": js, "get_json": _Builtin(lambda *a, **k: js, "get_json"), "data": req.body,
                              "form": args, "remote_addr": peer[0] if peer else "", "host": req.header("Host", "")}
            interp.steps = 0
            try:
                result = _drive(interp.call(fn, [], kwargs))
                status, body, ctype, extra = self._result(result)
            except _PyError as e:
                if isinstance(e.value, _HTTPAbort):
                    status, body = e.value.code, f"<h1>{e.value.code}</h1>".encode()
                else:
                    stamp = _now(proc).strftime("%Y-%m-%d %H:%M:%S,000")
                    proc.error(f"[{stamp}] ERROR in app: Exception on {path} [{req.method}]\n")
                    interp.traceback(e)
                    status, body = 500, _FLASK_500
            except _SysExit as e:
                proc.exit(interp.exit_code(e.code))
                return b""
            finally:
                interp.request = None
            break
        if not matched:
            status, body = 404, _FLASK_404
        if self.log_requests:
            stamp = _now(proc).strftime("%d/%b/%Y %H:%M:%S")
            proc.error(f'{peer[0] if peer else "-"} - - [{stamp}] "{req.method} {req.path} HTTP/1.1" {status} -\n')
        headers = {"Server": f"Werkzeug/3.0.3 Python/{interp.version}", "Date": _http_date(proc),
                   "Content-Type": ctype, **extra, "Connection": "close"}
        return Response(status, body if req.method != "HEAD" else b"", headers).to_bytes()

    def _result(self, result: Any) -> tuple[int, bytes, str, dict]:
        status, headers = 200, {}
        if isinstance(result, tuple):
            if len(result) >= 2 and isinstance(result[1], int):
                status = result[1]
            if len(result) >= 3 and isinstance(result[2], dict):
                headers = {str(k): str(v) for k, v in result[2].items()}
            result = result[0]
        if isinstance(result, _JSONBody):
            result = result.value
            return status, (json.dumps(result, indent=2) + "\n").encode(), "application/json", headers
        if isinstance(result, (dict, list)):
            return status, (json.dumps(result, indent=2) + "\n").encode(), "application/json", headers
        if result is None:
            raise _PyError("TypeError", "The view function did not return a valid response. The function either "
                                        "returned None or ended without a return statement.")
        if isinstance(result, bytes):
            return status, result, "text/html; charset=utf-8", headers
        return status, self.interp.to_str(result).encode(), "text/html; charset=utf-8", headers

    def _run(self, host: str = "127.0.0.1", port: int = 5000, debug: bool = False, **kw: Any) -> Generator:
        return self.serve(str(host), int(port), bool(debug))

    def serve(self, host: str, port: int, debug: bool) -> Generator:
        proc = self.interp.proc
        try:
            _listen(proc, port, self.handle, bind=host)
        except NetworkError:
            proc.error(f"Address already in use\nPort {port} is in use by another program. Either identify and stop "
                       f"that program, or start the server with a different port.\n")
            raise _SysExit(1)
        ip = proc.ns.net.ip if proc.ns.net is not None and proc.ns.net.ip else "127.0.0.1"
        lines = [f" * Serving Flask app '{self.name}'", f" * Debug mode: {'on' if debug else 'off'}",
                 "WARNING: This is a development server. Do not use it in a production deployment. "
                 "Use a production WSGI server instead."]
        if host in ("0.0.0.0", ""):
            lines += [" * Running on all addresses (0.0.0.0)", f" * Running on http://127.0.0.1:{port}",
                      f" * Running on http://{ip}:{port}"]
        else:
            lines.append(f" * Running on http://{host}:{port}")
        lines.append("Press CTRL+C to quit")
        proc.error("\n".join(lines) + "\n")
        yield proc.forever()


_FLASK_404 = (b'<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL '
              b'was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n')
_FLASK_405 = (b'<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n'
              b'<p>The method is not allowed for the requested URL.</p>\n')
_FLASK_500 = (b'<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n'
              b'<p>The server encountered an internal error and was unable to complete your request. Either the server '
              b'is overloaded or there is an error in the application.</p>\n')


def _python_env(proc: Process) -> tuple[list[str], str, str | None]:
    """(site-packages dirs, full version, venv dir or None) of the Python this process runs."""
    fs = proc.fs
    venv = proc.env.get("VIRTUAL_ENV")
    argv0 = proc.argv[0] if proc.argv else ""
    if not venv and "/" in argv0:
        parent = posixpath.dirname(posixpath.dirname(join(proc.cwd, argv0)))
        if fs.is_file(f"{parent}/pyvenv.cfg"):
            venv = parent
    if not venv:
        for d in proc.env.get("PATH", "").split(":"):
            if d and fs.is_file(f"{posixpath.dirname(d)}/pyvenv.cfg") and (fs.exists(f"{d}/python3") or fs.exists(f"{d}/pip")):
                venv = posixpath.dirname(d)
                break
    minors = []
    for base in ("/usr/local/lib", "/usr/lib"):
        if fs.is_dir(base):
            minors += [n[6:] for n in fs.listdir(base) if re.fullmatch(r"python3\.\d+", n)]
    m0 = re.search(r"python(3\.\d+)$", proc.argv[0] if proc.argv else "")
    minor = m0.group(1) if m0 else (max(minors, key=lambda v: int(v.split(".")[1])) if minors else "3.12")
    version = proc.env.get("PYTHON_VERSION") if proc.env.get("PYTHON_VERSION", "").startswith(minor) else None
    if not version:
        apk_version = None
        try:
            m = re.search(r"^P:python3\nV:([0-9.]+)", fs.read_text("/lib/apk/db/installed"), re.M)
            apk_version = m.group(1) if m else None
        except FsError:
            pass
        version = apk_version if apk_version and apk_version.startswith(minor) else _PY_FULL.get(minor, minor + ".0")
    dirs = []
    if venv:
        dirs.append(f"{venv}/lib/python{minor}/site-packages")
    dirs += [f"/usr/local/lib/python{minor}/site-packages", f"/usr/local/lib/python{minor}/dist-packages",
             f"/usr/lib/python{minor}/site-packages", "/usr/lib/python3/dist-packages"]
    return dirs, version or "3.12.3", venv


@register_program("python3")
@register_program("python")
def python3(proc: Process):
    """A small Python: ``-V``, ``-c CODE``, ``-m http.server|pip|venv|flask``, ``script.py``, stdin."""
    site_dirs, version, venv = _python_env(proc)
    args = proc.argv[1:]
    while args and args[0] in ("-u", "-B", "-O", "-OO", "-E", "-s", "-q", "-I"):
        args = args[1:]
    if args and args[0] in ("-V", "--version"):
        proc.write(f"Python {version}\n")
        return 0
    if args and args[0] in ("-h", "--help"):
        proc.write(f"usage: {proc.comm} [option] ... [-c cmd | -m mod | file | -] [arg] ...\n")
        return 0
    if args and args[0] == "-m":
        if len(args) < 2:
            proc.error("Argument expected for the -m option\n")
            return 2
        mod, rest = args[1], args[2:]
        if mod == "http.server":
            return (yield from _http_server(proc, rest, version))
        if mod == "pip":
            fn = programs().get("pip")
            proc.argv = ["pip"] + rest
            return (yield from run_program(fn, proc)) if fn else 1
        if mod == "venv":
            return _make_venv(proc, rest, version)
        if mod == "flask":
            return (yield from _flask_cli(proc, rest, site_dirs, version))
        if mod in ("json.tool",):
            try:
                proc.write(json.dumps(json.loads(proc.stdin.decode() or "null"), indent=4) + "\n")
                return 0
            except ValueError as e:
                proc.error(f"{e}\n")
                return 1
        interp = _Interp(proc, "<frozen runpy>", "", site_dirs, version)
        if not interp.module_available(mod):
            proc.error(f"{proc.argv[0]}: No module named {mod}\n")
            return 1
        proc.error(f"{proc.argv[0]}: aivle_k8s cannot run module {mod} (supported: http.server, pip, venv, flask, json.tool)\n")
        return 1
    if args and args[0] == "-c":
        if len(args) < 2:
            proc.error("Argument expected for the -c option\n")
            return 2
        return (yield from _run_source(proc, "<string>", args[1], site_dirs, version, ["-c"] + args[2:]))
    if args and args[0] != "-":
        path = join(proc.cwd, args[0])
        try:
            source = proc.fs.read_text(path)
        except FsError:
            proc.error(f"{proc.argv[0]}: can't open file '{path}': [Errno 2] No such file or directory\n")
            return 2
        return (yield from _run_source(proc, path, source, site_dirs, version, args))
    source = proc.stdin.decode(errors="replace")
    if not source.strip():
        return 0
    return (yield from _run_source(proc, "<stdin>", source, site_dirs, version, ["-"]))


def _parse_source(proc: Process, filename: str, source: str) -> ast.Module | None:
    try:
        return ast.parse(source, filename)
    except SyntaxError as e:
        lines = [f'  File "{filename}", line {e.lineno}\n']
        if e.text:
            text = e.text.rstrip("\n")
            stripped = text.lstrip()
            lines.append(f"    {stripped}\n")
            if e.offset:
                lines.append("    " + " " * max(0, e.offset - 1 - (len(text) - len(stripped))) + "^\n")
        lines.append(f"{type(e).__name__}: {e.msg}\n")
        proc.error("".join(lines))
        return None


def _run_source(proc: Process, filename: str, source: str, site_dirs: list[str], version: str, argv: list[str],
                name: str = "__main__"):
    tree = _parse_source(proc, filename, source)
    if tree is None:
        return 1
    interp = _Interp(proc, filename, source, site_dirs, version)
    interp.globals["__argv__"] = argv
    code = yield from interp.run(tree, name=name)
    return code


def _flask_cli(proc: Process, args: list[str], site_dirs: list[str], version: str):
    interp_probe = _Interp(proc, "<flask>", "", site_dirs, version)
    if not interp_probe.module_available("flask"):
        proc.error(f"{proc.argv[0]}: No module named flask\n")
        return 1
    if not args or args[0] != "run":
        proc.write("Usage: flask [OPTIONS] COMMAND [ARGS]...\n\nCommands:\n  run     Run a development server.\n")
        return 0 if not args else 2
    a = _Args(args[1:], values=("host", "h", "port", "p", "app"), flags=("debug", "reload", "no-reload", "no-debugger"))
    host = a.get("host") or a.get("h") or proc.env.get("FLASK_RUN_HOST", "127.0.0.1")
    port = int(a.get("port") or a.get("p") or proc.env.get("FLASK_RUN_PORT", "5000"))
    target = a.get("app") or proc.env.get("FLASK_APP") or ""
    candidates = [target] if target else ["wsgi.py", "app.py"]
    for cand in candidates:
        modfile = cand.split(":")[0]
        modfile = modfile if modfile.endswith(".py") else modfile.replace(".", "/") + ".py"
        path = join(proc.cwd, modfile)
        if proc.fs.is_file(path):
            break
    else:
        proc.error("Usage: flask run [OPTIONS]\nTry 'flask run --help' for help.\n\n"
                   "Error: Could not locate a Flask application. Use the 'flask --app' option, 'FLASK_APP' environment "
                   "variable, or a 'wsgi.py' or 'app.py' file in the current directory.\n")
        return 2
    source = proc.fs.read_text(path)
    tree = _parse_source(proc, path, source)
    if tree is None:
        return 1
    interp = _Interp(proc, path, source, site_dirs, version)
    code = yield from interp.run(tree, name=posixpath.basename(path)[:-3])
    if code:
        return code
    if not interp.apps:
        proc.error(f"Error: Failed to find Flask application or factory in module '{posixpath.basename(path)[:-3]}'. "
                   f"Use '--app {posixpath.basename(path)[:-3]}:name' to specify one.\n")
        return 2
    app = interp.apps[0]
    app.name = posixpath.basename(path)[:-3]
    debug = "debug" in a.flags or proc.env.get("FLASK_DEBUG") in ("1", "true")
    try:
        yield from app.serve(host, port, debug)
    except _SysExit as e:
        return interp.exit_code(e.code)
    return 0


@register_program("flask")
def flask_cli(proc: Process):
    """The ``flask`` command Flask installs: ``flask run [--host H] [--port P] [--debug]``."""
    site_dirs, version, _venv = _python_env(proc)
    return (yield from _flask_cli(proc, proc.argv[1:], site_dirs, version))


@register_program("gunicorn")
def gunicorn(proc: Process):
    """``gunicorn [-b HOST:PORT] [-w N] module:app``: serve a Flask app the production way."""
    site_dirs, version, _venv = _python_env(proc)
    a = _Args(proc.argv[1:], values=("b", "bind", "w", "workers", "chdir", "k", "worker-class", "timeout",
                                     "access-logfile", "error-logfile", "log-level"),
              flags=("reload", "preload", "version"))
    if "version" in a.flags:
        proc.write("gunicorn (version 22.0.0)\n")
        return 0
    if not a.pos:
        proc.error("usage: gunicorn [OPTIONS] [APP_MODULE]\ngunicorn: error: No application module specified.\n")
        return 2
    bind = a.get("b") or a.get("bind") or proc.env.get("GUNICORN_BIND", "127.0.0.1:8000")
    host, _, port_s = bind.rpartition(":")
    host = host or "0.0.0.0"
    if not port_s.isdigit():
        proc.error(f"Error: '{bind}' is not a valid port number.\n")
        return 1
    module, _, attr = a.pos[0].partition(":")
    attr = attr or "application"
    cwd = join(proc.cwd, a.get("chdir") or ".")
    path = join(cwd, module.replace(".", "/") + ".py")
    stamp = lambda: _now(proc).strftime("[%Y-%m-%d %H:%M:%S +0000]")  # noqa: E731
    pid = proc.local_pid
    proc.error(f"{stamp()} [{pid}] [INFO] Starting gunicorn 22.0.0\n")
    if not proc.fs.is_file(path):
        proc.error(f"{stamp()} [{pid + 6}] [ERROR] Exception in worker process\nModuleNotFoundError: No module named '{module}'\n"
                   f"{stamp()} [{pid}] [ERROR] Worker (pid:{pid + 6}) exited with code 3\n"
                   f"{stamp()} [{pid}] [ERROR] Shutting down: Master\n{stamp()} [{pid}] [ERROR] Reason: Worker failed to boot.\n")
        return 3
    source = proc.fs.read_text(path)
    tree = _parse_source(proc, path, source)
    if tree is None:
        return 1
    interp = _Interp(proc, path, source, site_dirs, version)
    code = yield from interp.run(tree, name=module)
    if code:
        return code
    app = interp.globals.get(attr)
    if not isinstance(app, _FlaskApp):
        proc.error(f"Failed to find attribute '{attr}' in '{module}'.\n{stamp()} [{pid}] [INFO] Worker exiting (pid: {pid + 6})\n")
        return 4
    app.log_requests = False  # gunicorn keeps no access log unless --access-logfile is given
    try:
        _listen(proc, int(port_s), app.handle, bind=host)
    except NetworkError:
        proc.error(f"{stamp()} [{pid}] [ERROR] Connection in use: ('{host}', {port_s})\n")
        return 1
    workers = int(a.get("w") or a.get("workers") or 1)
    proc.error(f"{stamp()} [{pid}] [INFO] Listening at: http://{host}:{port_s} ({pid})\n"
               f"{stamp()} [{pid}] [INFO] Using worker: sync\n"
               + "".join(f"{stamp()} [{pid + 6 + i}] [INFO] Booting worker with pid: {pid + 6 + i}\n" for i in range(workers)))
    proc.on_signal("TERM", lambda sig: (proc.error(f"{stamp()} [{pid}] [INFO] Handling signal: term\n"
                                                   f"{stamp()} [{pid}] [INFO] Shutting down: Master\n"), proc.exit(0)))
    yield proc.forever()
    return 0


def _make_venv(proc: Process, args: list[str], version: str) -> int:
    if not args:
        proc.error("usage: venv [-h] [--system-site-packages] [--symlinks | --copies] [--clear] [--upgrade] "
                   "[--without-pip] [--prompt PROMPT] [--upgrade-deps] ENV_DIR [ENV_DIR ...]\n"
                   "venv: error: the following arguments are required: ENV_DIR\n")
        return 2
    minor = ".".join(version.split(".")[:2])
    fs = proc.fs
    for d in [a for a in args if not a.startswith("-")]:
        root = join(proc.cwd, d)
        try:
            fs.mkdir(f"{root}/bin", parents=True, exist_ok=True)
            fs.mkdir(f"{root}/lib/python{minor}/site-packages", parents=True, exist_ok=True)
            fs.mkdir(f"{root}/include", parents=True, exist_ok=True)
            fs.write(f"{root}/pyvenv.cfg", f"home = /usr/local/bin\ninclude-system-site-packages = false\nversion = {version}\n"
                                           f"executable = /usr/local/bin/python{minor}\ncommand = /usr/local/bin/python3 -m venv {root}\n")
            for name in ("python", "python3", f"python{minor}"):
                if not fs.lexists(f"{root}/bin/{name}"):
                    fs.write(f"{root}/bin/{name}", program_entry("python3", 1024).data, mode=0o755)
            for name in ("pip", "pip3", f"pip{minor}"):
                fs.write(f"{root}/bin/{name}", program_entry("pip", 1024).data, mode=0o755)
            fs.write(f"{root}/bin/activate", f'# This file must be used with "source bin/activate"\nVIRTUAL_ENV="{root}"\n'
                                             f'export VIRTUAL_ENV\nPATH="$VIRTUAL_ENV/bin:$PATH"\nexport PATH\n')
            info = f"{root}/lib/python{minor}/site-packages/pip-24.0.dist-info"
            fs.mkdir(info, parents=True, exist_ok=True)
            fs.write(f"{info}/METADATA", "Metadata-Version: 2.1\nName: pip\nVersion: 24.0\n")
        except FsError as e:
            proc.error(f"Error: [Errno 13] Permission denied: '{root}'\n" if "denied" in e.message else f"Error: {e.message}\n")
            return 1
    return 0


_PY_DIR_LISTING = """<!DOCTYPE HTML>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Directory listing for {path}</title>
</head>
<body>
<h1>Directory listing for {path}</h1>
<hr>
<ul>
{items}</ul>
<hr>
</body>
</html>
"""

_PY_404 = """<!DOCTYPE HTML>
<html lang="en">
    <head>
        <meta charset="utf-8">
        <title>Error response</title>
    </head>
    <body>
        <h1>Error response</h1>
        <p>Error code: 404</p>
        <p>Message: File not found.</p>
        <p>Error code explanation: 404 - Nothing matches the given URI.</p>
    </body>
</html>
"""


def _http_server(proc: Process, args: list[str], version: str):
    a = _Args(args, values=("bind", "b", "directory", "d"), flags=("cgi",))
    if a.bad:
        proc.error(f"usage: server.py [-h] [--cgi] [-b ADDRESS] [-d DIRECTORY] [-p VERSION] [port]\n"
                   f"server.py: error: unrecognized arguments: {a.bad}\n")
        return 2
    port = 8000
    if a.pos:
        if not a.pos[0].isdigit():
            proc.error(f"usage: server.py [-h] [--cgi] [-b ADDRESS] [-d DIRECTORY] [-p VERSION] [port]\n"
                       f"server.py: error: argument port: invalid int value: '{a.pos[0]}'\n")
            return 2
        port = int(a.pos[0])
    bind = a.get("bind") or a.get("b") or "0.0.0.0"
    root = join(proc.cwd, a.get("directory") or a.get("d") or ".")
    fs = proc.fs

    def handle(data: bytes, peer: tuple) -> bytes:
        try:
            req = Request.parse(data)
        except InvalidInput:
            return Response(400, b"Bad request").to_bytes()
        path = unquote(urlsplit(req.path).path)
        full = normpath(root + "/" + path)
        headers = {"Server": f"SimpleHTTP/0.6 Python/{version}", "Date": _http_date(proc)}
        if fs.is_dir(full):
            if not path.endswith("/"):
                status, body = 301, b""
                headers["Location"] = path + "/"
            elif fs.is_file(full + "/index.html"):
                full += "/index.html"
                status, body = 200, fs.read(full)
                headers["Content-type"] = "text/html"
            else:
                items = "".join(f'<li><a href="{n}{"/" if fs.is_dir(full + "/" + n) else ""}">{n}{"/" if fs.is_dir(full + "/" + n) else ""}</a></li>\n'
                                for n in fs.listdir(full))
                status, body = 200, _PY_DIR_LISTING.format(path=path, items=items).encode()
                headers["Content-type"] = "text/html; charset=utf-8"
        elif fs.is_file(full):
            status, body = 200, fs.read(full)
            headers["Content-type"] = _mime(full)
            headers["Last-Modified"] = "Mon, 03 Mar 2025 09:00:00 GMT"
        else:
            status, body = 404, _PY_404.encode()
            headers["Content-Type"] = "text/html;charset=utf-8"
            headers["Connection"] = "close"
        stamp = _now(proc).strftime("%d/%b/%Y %H:%M:%S")
        if status == 404:
            proc.error(f'{peer[0] if peer else "-"} - - [{stamp}] code 404, message File not found\n')
        proc.error(f'{peer[0] if peer else "-"} - - [{stamp}] "{req.method} {req.path} HTTP/1.1" {status} -\n')
        return Response(status, body if req.method != "HEAD" else b"", headers).to_bytes()

    try:
        _listen(proc, port, handle, bind=bind)
    except NetworkError:
        proc.error("Traceback (most recent call last):\n  ...\nOSError: [Errno 98] Address already in use\n")
        return 1
    shown = bind if bind not in ("0.0.0.0", "") else "0.0.0.0"
    proc.write(f"Serving HTTP on {shown} port {port} (http://{shown}:{port}/) ...\n")
    done = proc.loop.event()

    def interrupt(sig: int) -> None:
        if not done.triggered:
            proc.write("\nKeyboard interrupt received, exiting.\n")
            done.succeed(0)

    proc.on_signal("INT", interrupt)
    yield done
    return 0


# ---------------------------------------------------------------------------------------------
# Lab programs
# ---------------------------------------------------------------------------------------------
_CRASH_HELP = """Usage: crash [--after SECONDS] [--code N] [--message TEXT]

Run, print a few lines, then exit with code N after SECONDS (simulated) seconds.
Use it to watch restart policies (docker run --restart) and CrashLoopBackOff.

  --after SECONDS   how long to run before crashing (default 5)
  --code N          the exit code (default 1)
  --message TEXT    what to print to stderr when crashing (default "boom")
"""


@register_program("crash")
def crash(proc: Process):
    """Run for ``--after`` seconds, then exit with ``--code`` printing ``--message``."""
    a = _Args(proc.argv[1:], values=("after", "code", "message"), flags=("help", "h"))
    if "help" in a.flags or "h" in a.flags:
        return _help(proc, _CRASH_HELP)
    if a.bad:
        return _usage_error(proc, _CRASH_HELP, a.bad)
    after = _float(proc, a.get("after"), 5.0, "--after")
    code_s = a.get("code", "1") or "1"
    if not code_s.lstrip("-").isdigit():
        return _bad_number(proc, "--code", code_s)
    code = int(code_s)
    message = a.get("message", "boom")
    proc.write(f"crash: started on {proc.ns.hostname} (pid {proc.local_pid}); exiting with code {code} in {after:g}s\n")
    if after > 0:
        yield proc.sleep(after)
    proc.error(f"crash: {message}\n")
    return code & 0xFF


@register_program("exit-with")
def exit_with(proc: Process) -> int:
    """``exit-with CODE``: exit at once with CODE."""
    args = proc.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        return _help(proc, "Usage: exit-with CODE\n\nExit at once with exit code CODE (0-255).") if args else (
            proc.error("Usage: exit-with CODE\n") or 2)
    if not args[0].lstrip("-").isdigit():
        return _bad_number(proc, "CODE", args[0])
    return int(args[0]) & 0xFF


_CPU_HELP = """Usage: cpu-hog [--cores N] [--seconds S]

Burn N CPU cores (default 1) forever, or for S seconds.
Watch it with docker stats / kubectl top; limit it with --cpus / resources.limits.cpu.
"""


@register_program("cpu-hog")
def cpu_hog(proc: Process):
    """Use ``--cores`` CPU cores (``proc.cpu``) forever or for ``--seconds``."""
    a = _Args(proc.argv[1:], values=("cores", "seconds"), flags=("help", "h"))
    if "help" in a.flags or "h" in a.flags:
        return _help(proc, _CPU_HELP)
    if a.bad:
        return _usage_error(proc, _CPU_HELP, a.bad)
    cores = _float(proc, a.get("cores"), 1.0, "--cores")
    seconds = a.get("seconds")
    proc.cpu = cores
    proc.write(f"cpu-hog: burning {cores:g} core{'s' if cores != 1 else ''}\n")
    if seconds is not None:
        yield proc.sleep(_float(proc, seconds, 0, "--seconds"))
        proc.cpu = 0.0
        proc.write("cpu-hog: done\n")
        return 0
    yield proc.forever()
    return 0


_MEM_HELP = """Usage: mem-hog --mb N [--step-mb M --every S]

Allocate N MiB of memory (all at once, or M MiB every S seconds up to N) and hold it.
Over the container's memory limit (docker run -m / resources.limits.memory) the kernel
OOM-kills it: exit code 137, OOMKilled true.
"""


@register_program("mem-hog")
def mem_hog(proc: Process):
    """Allocate ``--mb`` MiB (optionally ``--step-mb`` every ``--every`` seconds) and hold it."""
    a = _Args(proc.argv[1:], values=("mb", "step-mb", "every"), flags=("help", "h"))
    if "help" in a.flags or "h" in a.flags:
        return _help(proc, _MEM_HELP)
    if a.bad:
        return _usage_error(proc, _MEM_HELP, a.bad)
    if a.get("mb") is None:
        proc.error("mem-hog: --mb is required\n" + _MEM_HELP.splitlines()[0] + "\n")
        return 2
    total = _float(proc, a.get("mb"), 0, "--mb")
    step = _float(proc, a.get("step-mb"), total, "--step-mb")
    every = _float(proc, a.get("every"), 1.0, "--every")
    if step <= 0:
        step = total
    held = 0.0
    mib = 1024 * 1024
    while held < total:
        chunk = min(step, total - held)
        proc.alloc(int(chunk * mib))
        held += chunk
        proc.write(f"mem-hog: allocated {held:g} MiB\n")
        if held < total:
            yield proc.sleep(every)
    proc.write(f"mem-hog: holding {held:g} MiB\n")
    yield proc.forever()
    return 0


def _json_response(status: int, value: Any) -> Response:
    return Response(status, (json.dumps(value) + "\n").encode(), {"Content-Type": "application/json"})


def _serve_http(proc: Process, port: int, route: Callable[[Request, tuple], Response], log: bool = True,
                name: str | None = None) -> None:
    def handle(data: bytes, peer: tuple) -> bytes:
        try:
            req = Request.parse(data)
        except InvalidInput:
            return Response(400, b"bad request\n").to_bytes()
        resp = route(req, peer)
        resp.headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        resp.headers.setdefault("Date", _http_date(proc))
        if log:
            proc.write(f'{_now(proc).strftime("%Y-%m-%dT%H:%M:%SZ")} {peer[0] if peer else "-"} {req.method} '
                       f'{req.path} {resp.status}\n')
        return resp.to_bytes()

    _listen(proc, port, handle)


_KV_HELP = """Usage: kv-server [--port 8080] [--data DIR]

A tiny HTTP key-value store.
  GET /            list the keys (JSON)
  GET /KEY         the value of KEY (404 if missing)
  PUT /KEY         set KEY to the request body (POST works too)
  DELETE /KEY      delete KEY
  GET /healthz     "ok"
With --data DIR every key is a file in DIR, so a volume mounted there keeps the data.
"""


@register_program("kv-server")
def kv_server(proc: Process):
    """An HTTP key-value store (in memory, or files under ``--data``)."""
    a = _Args(proc.argv[1:], values=("port", "data"), flags=("help", "h"))
    if "help" in a.flags or "h" in a.flags:
        return _help(proc, _KV_HELP)
    if a.bad:
        return _usage_error(proc, _KV_HELP, a.bad)
    port = int(_float(proc, a.get("port") or proc.env.get("PORT"), 8080, "--port"))
    data_dir = join(proc.cwd, a.get("data")) if a.get("data") else None
    store: dict[str, bytes] = {}
    fs = proc.fs
    if data_dir is not None and not fs.is_dir(data_dir):
        fs.mkdir(data_dir, parents=True, exist_ok=True)

    def keys() -> list[str]:
        return sorted(fs.listdir(data_dir)) if data_dir else sorted(store)

    def route(req: Request, peer: tuple) -> Response:
        key = unquote(req.path.split("?", 1)[0].strip("/"))
        if req.path == "/healthz":
            return Response(200, b"ok\n")
        if not key:
            return _json_response(200, {"keys": keys()})
        if "/" in key or key.startswith("."):
            return Response(400, b"bad key\n")
        path = f"{data_dir}/{key}" if data_dir else None
        if req.method == "GET":
            if path is not None:
                return Response(200, fs.read(path)) if fs.is_file(path) else Response(404, b"key not found\n")
            return Response(200, store[key]) if key in store else Response(404, b"key not found\n")
        if req.method in ("PUT", "POST"):
            if path is not None:
                fs.write(path, req.body)
            else:
                store[key] = req.body
            return Response(200, b"OK\n")
        if req.method == "DELETE":
            if path is not None and fs.is_file(path):
                fs.remove(path)
                return Response(200, b"deleted\n")
            if path is None and key in store:
                del store[key]
                return Response(200, b"deleted\n")
            return Response(404, b"key not found\n")
        return Response(405, b"method not allowed\n")

    try:
        _serve_http(proc, port, route)
    except NetworkError:
        proc.error(f"kv-server: listen tcp :{port}: bind: address already in use\n")
        return 1
    proc.write(f"kv-server: listening on :{port}" + (f" (data in {data_dir})" if data_dir else " (in memory)") + "\n")
    yield proc.forever()
    return 0


_WEB_HELP = """Usage: web-app [--port 8080] [--version V] [--message TEXT] [--service NAME]
               [--fail-after S] [--unhealthy-after S] [--startup-delay S]

A small web application like the course's hello apps.
  GET /          "Hello from HOSTNAME! (version V)"      (V: --version, $VERSION or 1.0)
  GET /healthz   "ok" (500 "unhealthy" after --unhealthy-after seconds)
  GET /version   the version
  GET /NAME      sample data of a microservice (with --service users|orders|payments)
  GET /NAME/crash  crash this service (the others keep running)
--fail-after S     the process crashes (exit 1) after S seconds: a failing module
--startup-delay S  start listening only after S seconds (readiness probes)
"""

_SAMPLE = {
    "users": [{"id": 1, "name": "kim"}, {"id": 2, "name": "lee"}, {"id": 3, "name": "park"}],
    "orders": [{"id": 101, "user": 1, "item": "keyboard"}, {"id": 102, "user": 3, "item": "monitor"}],
    "payments": [{"id": 9001, "order": 101, "amount": 59000}, {"id": 9002, "order": 102, "amount": 239000}],
}


@register_program("web-app")
def web_app(proc: Process):
    """The course's hello web app: hostname + version, /healthz, optional failures (see ``--help``)."""
    a = _Args(proc.argv[1:], values=("port", "version", "message", "service", "fail-after", "unhealthy-after",
                                     "startup-delay"), flags=("help", "h"))
    if "help" in a.flags or "h" in a.flags:
        return _help(proc, _WEB_HELP)
    if a.bad:
        return _usage_error(proc, _WEB_HELP, a.bad)
    port = int(_float(proc, a.get("port") or proc.env.get("PORT"), 8080, "--port"))
    version = a.get("version") or proc.env.get("VERSION") or proc.env.get("APP_VERSION") or "1.0"
    message = a.get("message") or proc.env.get("MESSAGE") or "Hello"
    service = a.get("service") or proc.env.get("SERVICE")
    fail_after = a.get("fail-after") or proc.env.get("FAIL_AFTER")
    unhealthy_after = a.get("unhealthy-after") or proc.env.get("UNHEALTHY_AFTER")
    delay = _float(proc, a.get("startup-delay") or proc.env.get("STARTUP_DELAY"), 0.0, "--startup-delay")
    started = proc.now
    unhealthy_at = started + _float(proc, unhealthy_after, 0, "--unhealthy-after") if unhealthy_after else None
    if service is not None and service not in _SAMPLE:
        proc.error(f"web-app: unknown service {service!r} (one of: {', '.join(_SAMPLE)})\n")
        return 2

    def route(req: Request, peer: tuple) -> Response:
        path = req.path.split("?", 1)[0]
        if path == "/healthz":
            if unhealthy_at is not None and proc.now >= unhealthy_at:
                return Response(500, b"unhealthy\n")
            return Response(200, b"ok\n")
        if path == "/version":
            return Response(200, f"{version}\n".encode())
        if path == "/hostname":
            return Response(200, f"{proc.ns.hostname}\n".encode())
        if path == "/":
            who = f" [{service} service]" if service else ""
            return Response(200, f"{message} from {proc.ns.hostname}!{who} (version {version})\n".encode())
        if service and path.rstrip("/") == f"/{service}":
            return _json_response(200, _SAMPLE[service])
        if service and path == f"/{service}/crash":
            proc.error(f"web-app: the {service} service crashed\n")
            proc.loop.call_soon(lambda: proc.exit(1))
            return Response(500, f"{service} service crashed; only this service goes down\n".encode())
        return Response(404, b"404 page not found\n")

    if delay > 0:
        proc.write(f"web-app: starting up (ready in {delay:g}s)\n")
        yield proc.sleep(delay)
    try:
        _serve_http(proc, port, route)
    except NetworkError:
        proc.error(f"web-app: listen tcp :{port}: bind: address already in use\n")
        return 1
    proc.write(f"web-app {version} listening on :{port}" + (f" (service: {service})" if service else "") + "\n")
    if fail_after:
        yield proc.sleep(_float(proc, fail_after, 0, "--fail-after"))
        proc.error(f"web-app: fatal: a module failed after {float(fail_after):g}s, exiting\n")
        return 1
    yield proc.forever()
    return 0


_MONOLITH_HELP = """Usage: monolith [--port 8080]

One process serving every module of a shop:
  GET /users, /orders, /payments   the modules' data (JSON)
  GET /payments/crash              a bug in the payments module: the WHOLE process dies,
                                   taking users and orders down with it
"""


@register_program("monolith")
def monolith(proc: Process):
    """users, orders and payments in ONE process: crashing one module kills all of them."""
    a = _Args(proc.argv[1:], values=("port",), flags=("help", "h"))
    if "help" in a.flags or "h" in a.flags:
        return _help(proc, _MONOLITH_HELP)
    if a.bad:
        return _usage_error(proc, _MONOLITH_HELP, a.bad)
    port = int(_float(proc, a.get("port") or proc.env.get("PORT"), 8080, "--port"))

    def route(req: Request, peer: tuple) -> Response:
        path = req.path.split("?", 1)[0].rstrip("/") or "/"
        if path == "/":
            return _json_response(200, {"app": "monolith", "modules": list(_SAMPLE), "host": proc.ns.hostname})
        if path == "/healthz":
            return Response(200, b"ok\n")
        module = path.strip("/").split("/")[0]
        if module in _SAMPLE and path == f"/{module}":
            return _json_response(200, _SAMPLE[module])
        if path == "/payments/crash":
            proc.error("Traceback (most recent call last):\n  File \"/app/payments.py\", line 42, in charge\n"
                       "ZeroDivisionError: division by zero\nmonolith: the payments module crashed; "
                       "the whole monolith goes down (users and orders too)\n")
            proc.loop.call_soon(lambda: proc.exit(1))
            return Response(500, b"payments module crashed: the whole monolith is going down\n")
        return Response(404, b"404 page not found\n")

    try:
        _serve_http(proc, port, route)
    except NetworkError:
        proc.error(f"monolith: listen tcp :{port}: bind: address already in use\n")
        return 1
    proc.write(f"monolith: users, orders and payments listening on :{port}\n")
    yield proc.forever()
    return 0


# ---------------------------------------------------------------------------------------------
# wget (BusyBox-compatible), when no other module provides one
# ---------------------------------------------------------------------------------------------
def _wget(proc: Process) -> int:
    """``wget [-q] [-O FILE|-] [-S] [--spider] [-T SECS] URL`` (BusyBox and GNU flavours)."""
    from .http import parse_url, request as http_request

    args = proc.argv[1:]
    quiet = False
    out_file: str | None = None
    spider = False
    urls = []
    i = 0
    while i < len(args):
        x = args[i]
        if x in ("-q", "--quiet"):
            quiet = True
        elif x in ("-O", "--output-document"):
            i += 1
            out_file = args[i] if i < len(args) else "-"
        elif x.startswith("-O") and len(x) > 2:
            out_file = x[2:]
        elif x in ("-qO-", "-qO"):
            quiet = True
            out_file = "-" if x == "-qO-" else (args[i + 1] if i + 1 < len(args) else "-")
            i += 0 if x == "-qO-" else 1
        elif x == "--spider":
            spider = True
        elif x in ("-T", "--timeout", "-t", "--tries"):
            i += 1
        elif x.startswith("-"):
            pass
        else:
            urls.append(x)
        i += 1
    if not urls:
        proc.error("BusyBox v1.36.1 multi-call binary.\n\nUsage: wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] "
                   "[--header STR]\n\t[--post-data STR | --post-file FILE] [-Y on/off]\n\t[-P DIR] [-U AGENT] [-T SEC] URL...\n")
        return 1
    net = proc.ns.net
    for url in urls:
        try:
            _s, host, port, path = parse_url(url)
        except InvalidInput as e:
            proc.error(f"wget: {e}\n")
            return 1
        if not quiet:
            proc.error(f"Connecting to {host}{'' if port == 80 else ':' + str(port)} ({host}{'' if port == 80 else ':' + str(port)})\n")
        try:
            if net is None or net.network is None:
                raise NetworkError("Network is unreachable", reason="unreachable")
            resp = http_request(net.network, net, "GET", url, headers={"User-Agent": "Wget"})
        except NetworkError as e:
            reason = getattr(e, "reason", "")
            if reason == "resolve":
                proc.error(f"wget: bad address '{host}'\n")
            else:
                proc.error(f"wget: can't connect to remote host: {'Connection refused' if reason in ('refused', '') else 'Connection timed out' if reason == 'timeout' else 'No route to host'}\n")
            return 1
        if resp.status >= 400:
            proc.error(f"wget: server returned error: HTTP/1.1 {resp.status} {resp.reason}\n")
            return 1 if not spider else 1
        if spider:
            if not quiet:
                proc.error("remote file exists\n")
            continue
        if out_file == "-":
            proc.write(resp.body)
        else:
            name = out_file or (posixpath.basename(path.split("?")[0]) or "index.html")
            try:
                proc.fs.write(join(proc.cwd, name), resp.body)
            except FsError as e:
                proc.error(f"wget: can't open '{name}': {e.message.split(': ', 1)[-1]}\n")
                return 1
            if not quiet:
                proc.error(f"saving to '{name}'\n{name}              100% |********************************| "
                           f"{len(resp.body):>5}  0:00:00 ETA\n'{name}' saved\n")
    return 0


if "wget" not in programs():
    register_program("wget")(_wget)
