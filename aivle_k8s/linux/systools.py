"""System tools of a full Linux machine: ``sudo``, ``curl``, ``gpg``, ``swapoff``, ``modprobe``, ``sysctl``, ``ip`` ...

These are the commands the container-runtime and kubeadm install guides
type before anything else exists: turn swap off, load the ``overlay`` and
``br_netfilter`` modules, set the bridge/forwarding sysctls, fetch signing
keys with ``curl | gpg --dearmor``. They change the machine's kernel state
(``kernel.swap_on``, ``kernel.modules``, ``kernel.sysctls``) which kubeadm's
preflight checks later read. Messages are those of Ubuntu 22.04's tools.

>>> import aivle_k8s as ak
>>> m = ak.World().machine("m")
>>> m.sh("sysctl net.bridge.bridge-nf-call-iptables").stderr
'sysctl: cannot stat /proc/sys/net/bridge/bridge-nf-call-iptables: No such file or directory\\n'
>>> m.sh("sudo modprobe br_netfilter && sysctl net.bridge.bridge-nf-call-iptables").stdout
'net.bridge.bridge-nf-call-iptables = 1\\n'
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import posixpath
import re
from typing import Any, Generator

from ..sim.errors import AivleError, FsError, InvalidInput, NetworkError
from . import coreutils as cu
from .fs import join, parent_dirs
from .coreutils import _isnum
from .kernel import ExecError, Namespaces, register_program

__all__ = ["KNOWN_MODULES", "SYSCTL_DEFAULTS", "sysctl_get"]

Gen = Generator[Any, Any, Any]

SECURE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/snap/bin"

# ---------------------------------------------------------------------------
# sudo


@register_program("sudo")
def sudo(proc) -> Gen:
    """``sudo [-E] [-u USER] [-i|-s] COMMAND [ARG...]``: run a command as root (no password on this machine)."""
    args = proc.argv[1:]
    target = "root"
    keep_env = False
    login = shell = False
    while args and args[0].startswith("-") and len(args[0]) > 1:
        a = args.pop(0)
        if a == "--":
            break
        if a in ("-u", "--user"):
            if not args:
                proc.error("sudo: option requires an argument -- 'u'\n" + _SUDO_USAGE)
                return 1
            target = args.pop(0)
        elif a.startswith("-u") and len(a) > 2:
            target = a[2:]
        elif a in ("-E", "--preserve-env") or a.startswith("--preserve-env="):
            keep_env = True
        elif a in ("-i", "--login"):
            login = True
        elif a in ("-s", "--shell"):
            shell = True
        elif a in ("-n", "--non-interactive", "-H", "--set-home", "-k", "-S", "--stdin", "-b"):
            pass
        elif a in ("-v", "--validate", "-K", "--remove-timestamp"):
            return 0
        elif a in ("-l", "--list"):
            name = cu.user_name(proc, proc.uid)
            proc.write(f"User {name} may run the following commands on {proc.ns.hostname}:\n    (ALL : ALL) ALL\n")
            return 0
        elif a in ("-V", "--version"):
            proc.write("Sudo version 1.9.9\n")
            return 0
        elif a in ("-h", "--help"):
            proc.write(_SUDO_USAGE)
            return 0
        else:
            proc.error(f"sudo: invalid option -- '{a.lstrip('-')[:1]}'\n" + _SUDO_USAGE)
            return 1
    user = cu.user_name(proc, proc.uid)
    if proc.uid != 0:
        groups = cu.user_groups(proc, proc.uid)
        sudo_gid = cu.group_gid(proc, "sudo")
        admin_gid = cu.group_gid(proc, "admin")
        if sudo_gid not in groups and (admin_gid is None or admin_gid not in groups):
            proc.error(f"{user} is not in the sudoers file.  This incident will be reported.\n")
            return 1
    uid = cu.user_uid(proc, target)
    if uid is None:
        proc.error(f"sudo: unknown user {target}\nsudo: error initializing audit plugin sudoers_audit\n")
        return 1
    home = cu.user_home(proc, target) or "/"
    if keep_env:
        env = dict(proc.env)
    else:
        env = {k: proc.env[k] for k in ("TERM", "LANG", "LC_ALL", "DISPLAY", "COLORTERM", "LS_COLORS")
               if k in proc.env}
        # the caller's PATH, completed with Ubuntu's secure_path (so /usr/sbin tools are always found)
        dirs = [d for d in proc.env.get("PATH", "").split(":") if d]
        dirs += [d for d in SECURE_PATH.split(":") if d not in dirs]
        env["PATH"] = ":".join(dirs)
    env.update({"HOME": home, "USER": target, "LOGNAME": target, "SHELL": "/bin/bash",
                "MAIL": f"/var/mail/{target}", "SUDO_USER": user, "SUDO_UID": str(proc.uid),
                "SUDO_GID": str(cu.user_gid(proc, proc.uid))})
    while args and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", args[0]):  # `sudo VAR=value cmd`
        name, _, value = args.pop(0).partition("=")
        env[name] = value
    if not args:
        if login or shell:
            args = ["bash"] if not login else ["bash", "-l"]
        else:
            proc.error(_SUDO_USAGE)
            return 1
    elif login or shell:
        args = ["bash", "-c", " ".join(args)]
    cwd = home if login else proc.cwd
    env["SUDO_COMMAND"] = " ".join(args)
    try:
        path = proc.kernel.find_executable(proc.ns, args[0], {"PATH": env.get("PATH", SECURE_PATH)}, proc.cwd)
    except ExecError:
        proc.error(f"sudo: {args[0]}: command not found\n")
        return 1
    env["SUDO_COMMAND"] = " ".join([path] + args[1:])
    try:
        child = proc.kernel.spawn(args, ns=proc.ns, env=env, cwd=cwd, stdin=proc.stdin, stdout=proc.stdout,
                                  stderr=proc.stderr, uid=uid, parent=proc)
    except ExecError as e:
        if e.errno == "EACCES":
            proc.error(f"sudo: unable to execute {path}: Permission denied\n")
            return 1
        if e.errno == "ENOEXEC":
            proc.error(f"sudo: unable to execute {path}: Exec format error\n")
            return 1
        proc.error(f"sudo: {args[0]}: command not found\n")
        return 1
    if child.alive:
        def forward(sig: int) -> None:
            if child.alive:
                proc.kernel.signal(child.pid, sig)
            if proc.alive:
                proc.exit(128 + sig)

        proc.on_signal("INT", forward)
        proc.on_signal("TERM", forward)
        yield child.exited
    return child.exit_code


_SUDO_USAGE = ("usage: sudo -h | -K | -k | -V\n"
               "usage: sudo -v [-ABknS] [-g group] [-h host] [-p prompt] [-u user]\n"
               "usage: sudo -l [-ABknS] [-g group] [-h host] [-p prompt] [-U user] [-u user] [command]\n"
               "usage: sudo [-ABbEHknPS] [-r role] [-t type] [-C num] [-D directory] [-g group] [-h host] "
               "[-p prompt] [-R directory] [-T timeout] [-u user] [VAR=value] [-i|-s] [<command>]\n"
               "usage: sudo -e [-ABknS] [-r role] [-t type] [-C num] [-D directory] [-g group] [-h host] "
               "[-p prompt] [-R directory] [-T timeout] [-u user] file ...\n")


def _need_root(proc, message: str, code: int = 1) -> int | None:
    if proc.uid != 0:
        proc.error(message + "\n")
        return code
    return None


# ---------------------------------------------------------------------------
# curl

_CURL_LONG = {
    "fail": "f", "silent": "s", "show-error": "S", "location": "L", "output": "o", "remote-name": "O",
    "head": "I", "include": "i", "request": "X", "data": "d", "data-raw": "d", "data-binary": "d",
    "data-ascii": "d", "header": "H", "write-out": "w", "insecure": "k", "verbose": "v", "user": "u",
    "user-agent": "A", "max-time": "m", "connect-timeout": "_ct", "retry": "_retry", "create-dirs": "_cd",
    "compressed": "_z", "proto": "_proto", "tlsv1.2": "_tls", "http1.1": "_h1", "fail-with-body": "_fwb",
    "no-progress-meter": "_npm", "progress-bar": "#", "cacert": "_cacert", "cert": "_cert", "key": "_key",
    "json": "_json", "get": "G", "url": "_url", "output-dir": "_od", "retry-delay": "_rd",
    "retry-max-time": "_rmt", "ipv4": "4", "ipv6": "6", "noproxy": "_np", "resolve": "_resolve",
    "version": "V",
}
_CURL_WITH_VALUE = set("oXdHwuAmT") | {"_ct", "_retry", "_proto", "_cacert", "_cert", "_key", "_json", "_url",
                                       "_od", "_rd", "_rmt", "_np", "_resolve"}


# ``curl --version`` of the distributions' builds: (libraries after libcurl, release date, protocols, features)
_CURL_BUILDS = {
    "7.81.0": ("OpenSSL/3.0.2 zlib/1.2.11 brotli/1.0.9 zstd/1.4.8 libidn2/2.3.2 libpsl/0.21.0 (+libidn2/2.3.2) "
               "libssh/0.9.6/openssl/zlib nghttp2/1.43.0 librtmp/2.3 OpenLDAP/2.5.18", "2022-01-05"),
    "7.88.1": ("OpenSSL/3.0.15 zlib/1.2.13 brotli/1.0.9 zstd/1.5.4 libidn2/2.3.3 libpsl/0.21.2 (+libidn2/2.3.3) "
               "libssh2/1.10.0 nghttp2/1.52.0 librtmp/2.3 OpenLDAP/2.5.13", "2023-02-20"),
    "8.5.0": ("OpenSSL/3.0.13 zlib/1.3 brotli/1.1.0 zstd/1.5.5 libidn2/2.3.7 libpsl/0.21.2 (+libidn2/2.3.7) "
              "libssh/0.10.6/openssl/zlib nghttp2/1.59.0 librtmp/2.3 OpenLDAP/2.6.7", "2023-12-06"),
}


def _curl_version_text(version: str) -> str:
    libs, date = _CURL_BUILDS.get(version, ("OpenSSL/3.0.2 zlib/1.2.11", ""))
    return (f"curl {version} (x86_64-pc-linux-gnu) libcurl/{version} {libs}\n"
            + (f"Release-Date: {date}\n" if date else "")
            + "Protocols: dict file ftp ftps gopher gophers http https imap imaps ldap ldaps mqtt pop3 pop3s rtmp "
              "rtsp scp sftp smb smbs smtp smtps telnet tftp\n"
              "Features: alt-svc AsynchDNS brotli GSS-API HSTS HTTP2 HTTPS-proxy IDN IPv6 Kerberos Largefile libz "
              "NTLM NTLM_WB PSL SPNEGO SSL TLS-SRP UnixSockets zstd\n")


def _curl_parse(argv: list[str]):
    opts: dict[str, Any] = {"H": [], "d": [], "urls": []}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--") and len(a) > 2:
            name, eq, val = a[2:].partition("=")
            key = _CURL_LONG.get(name)
            if key is None:
                raise InvalidInput(f"option {a}: is unknown")
            if key in _CURL_WITH_VALUE:
                if not eq:
                    i += 1
                    if i >= len(argv):
                        raise InvalidInput(f"option {a}: requires parameter")
                    val = argv[i]
                if key in ("H", "d"):
                    opts[key].append(val)
                elif key == "_url":
                    opts["urls"].append(val)
                else:
                    opts[key] = val
                if name == "data-binary":
                    opts["_binary"] = True
                if name == "json":
                    opts["d"].append(val)
                    opts["H"] += ["Content-Type: application/json", "Accept: application/json"]
            else:
                opts[key] = True
            i += 1
            continue
        if a.startswith("-") and len(a) > 1:
            j = 1
            while j < len(a):
                c = a[j]
                if c in _CURL_WITH_VALUE:
                    val = a[j + 1:]
                    if not val:
                        i += 1
                        if i >= len(argv):
                            raise InvalidInput(f"option -{c}: requires parameter")
                        val = argv[i]
                    if c in ("H", "d"):
                        opts[c].append(val)
                    else:
                        opts[c] = val
                    break
                if c not in "fsSLOIiklv#GZ46qN0V":
                    raise InvalidInput(f"option -{c}: is unknown")
                opts[c] = True
                j += 1
            i += 1
            continue
        opts["urls"].append(a)
        i += 1
    return opts


def _curl_fail(proc, opts, code: int, message: str) -> int:
    if not opts.get("s") or opts.get("S"):
        proc.error(f"curl: ({code}) {message}\n")
    return code


def _progress(proc, opts, size: int) -> None:
    if opts.get("s") or opts.get("_npm"):
        return
    if opts.get("#"):
        proc.error("#" * 72 + " 100.0%\n")
        return
    speed = str(size * 4 if size else 0)
    proc.error("  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"
               "                                 Dload  Upload   Total   Spent    Left  Speed\n")
    proc.error(f"100 {_psize(size):>5}  100 {_psize(size):>5}    0     0  {_psize(int(speed)):>5}      0 "
               f"--:--:-- --:--:-- --:--:-- {_psize(int(speed)):>5}\n")


def _psize(n: int) -> str:
    if n < 100000:
        return str(n)
    for unit, div in (("k", 1024), ("M", 1024**2), ("G", 1024**3)):
        v = n / div
        if v < 10000:
            return f"{int(v)}{unit}" if v >= 100 else f"{v:.1f}{unit}"
    return str(n)


@register_program("curl")
def curl(proc) -> Gen:
    """``curl [-fsSLOIikv] [-o FILE] [-X METHOD] [-d DATA] [-H 'K: V'] [-w FORMAT] URL...`` over the simulated network."""
    from .http import curl_version
    from .http import parse_url as _parse_url
    from .http import request as _request

    def parse_url(u: str):
        try:
            return _parse_url(u)
        except ValueError:  # urllib rejects e.g. "http://[bad]/": curl's own words
            raise InvalidInput("URL using bad/illegal format or missing URL") from None

    def request(*a, **kw):
        try:
            return _request(*a, **kw)
        except ValueError:
            raise InvalidInput("URL using bad/illegal format or missing URL") from None

    try:
        opts = _curl_parse(proc.argv[1:])
    except InvalidInput as e:
        proc.error(f"curl: {e.message}\ncurl: try 'curl --help' or 'curl --manual' for more information\n")
        return 2
    if opts.get("_url"):
        opts["urls"].append(opts["_url"])
    version = curl_version(proc.fs)
    if opts.get("V"):
        proc.write(_curl_version_text(version))
        return 0
    if not opts["urls"]:
        proc.error("curl: try 'curl --help' or 'curl --manual' for more information\n")
        return 2
    net = getattr(proc.ns, "net", None)
    status = 0
    for url in opts["urls"]:
        try:
            scheme, host, port, path = parse_url(url)
        except InvalidInput as e:
            msg = e.message
            code = 1 if msg.startswith("Protocol") else 3
            if msg.startswith("Protocol"):
                msg = msg + " or disabled in libcurl"
            status = _curl_fail(proc, opts, code, msg)
            continue
        method = opts.get("X") or ("HEAD" if opts.get("I") else ("POST" if opts["d"] and not opts.get("G") else "GET"))
        body = b""
        if opts["d"]:
            pieces = []
            for d in opts["d"]:
                if d.startswith("@"):
                    try:
                        raw = cu._read_input(proc, d[1:]) if d[1:] != "-" else proc.stdin
                    except FsError:
                        proc.error(f"Warning: Couldn't read data from file \"{d[1:]}\", this makes an empty POST.\n")
                        raw = b""
                    if not opts.get("_binary"):
                        raw = raw.replace(b"\r", b"").replace(b"\n", b"")
                    pieces.append(raw)
                else:
                    pieces.append(d.encode())
            body = b"&".join(pieces)
            if opts.get("G"):
                path += ("&" if "?" in path else "?") + body.decode()
                body = b""
        headers: dict[str, str] = {"User-Agent": f"curl/{version}"}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for h in opts["H"]:
            k, _, v = h.partition(":")
            if k.strip():
                headers[k.strip()] = v.strip()
        if opts.get("A"):
            headers["User-Agent"] = opts["A"]
        if opts.get("u"):
            headers["Authorization"] = "Basic " + base64.b64encode(opts["u"].encode()).decode()
        if net is None or getattr(net, "network", None) is None:
            status = _curl_fail(proc, opts, 6, f"Could not resolve host: {host}")
            continue
        current = url
        redirects = 0
        verbose = opts.get("v")
        resp = None
        error = None
        h2, p2 = host, port
        while True:
            try:
                sch, h2, p2, path2 = parse_url(current)
                if verbose:
                    try:
                        addr = net.network.resolve(net, h2)
                    except NetworkError:
                        addr = None
                    if addr is not None:
                        proc.error(f"*   Trying {addr}:{p2}...\n")
                full = f"{sch}://{h2}:{p2}{path2}"
                resp = request(net.network, net, method if method != "HEAD" else "HEAD", full, body, headers)
                if verbose:
                    proc.error(f"* Connected to {h2} ({addr}) port {p2} (#0)\n> {method} {path2} HTTP/1.1\n"
                               f"> Host: {h2 if p2 in (80, 443) else f'{h2}:{p2}'}\n"
                               f"> User-Agent: {headers['User-Agent']}\n> Accept: */*\n>\n")
            except NetworkError as e:
                error = e
                break
            except InvalidInput as e:
                error = e
                break
            if opts.get("L") and resp.status in (301, 302, 303, 307, 308) and resp.header("Location"):
                redirects += 1
                if redirects > 50:
                    error = NetworkError("Maximum (50) redirects followed", reason="redirects")
                    break
                loc = resp.header("Location")
                if loc.startswith("/"):
                    sch, h2, p2, _ = parse_url(current)
                    loc = f"{sch}://{h2}:{p2}{loc}"
                current = loc
                if resp.status == 303 or (resp.status in (301, 302) and method == "POST"):
                    method, body = "GET", b""
                continue
            break
        if error is not None:
            reason = getattr(error, "reason", "")
            if reason == "resolve":
                code, message = 6, f"Could not resolve host: {h2}"
            elif reason in ("timeout", "unreachable"):
                # nobody answers ARP for the address (machine off, link cut): the kernel gives up after
                # about 3 s (EHOSTUNREACH), unless curl's own --connect-timeout / --max-time ends it first
                limit = _curl_limit(opts)
                if limit is not None and limit < _ARP_GIVE_UP:
                    yield proc.sleep(limit)
                    code, message = 28, f"Connection timed out after {int(limit * 1000) + 1} milliseconds"
                else:
                    yield proc.sleep(_ARP_GIVE_UP)
                    code, message = 7, (f"Failed to connect to {h2} port {p2} after {int(_ARP_GIVE_UP * 1000)} ms: "
                                        f"No route to host")
                    if verbose:
                        proc.error(f"* connect to {_curl_ip(net, h2)} port {p2} failed: No route to host\n")
            elif reason == "redirects":
                code, message = 47, error.message
            elif reason == "protocol":
                code, message = 1, error.message
            elif isinstance(error, InvalidInput):
                code, message = 3, error.message
            else:
                code, message = 7, f"Failed to connect to {h2} port {p2} after 0 ms: Connection refused"
                if verbose:
                    proc.error(f"* connect to {_curl_ip(net, h2)} port {p2} failed: Connection refused\n")
            if verbose:
                proc.error(f"* {message}\n* Closing connection 0\n")
            status = _curl_fail(proc, opts, code, message)
            if opts.get("w"):  # --write-out is written even when no response came (http_code 000)
                proc.write(_curl_write_out(opts["w"], None, current, 0, exitcode=code, errormsg=message))
            continue
        assert resp is not None
        if verbose:
            proc.error(f"< HTTP/1.1 {resp.status} {resp.reason}\n" +
                       "".join(f"< {k}: {v}\n" for k, v in resp.headers.items()) + "<\n")
        head_text = f"HTTP/1.1 {resp.status} {resp.reason}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in resp.headers.items()) + "\r\n"
        failed = (opts.get("f") or opts.get("_fwb")) and resp.status >= 400
        if failed and not opts.get("_fwb"):
            message = f"The requested URL returned error: {resp.status}"
            status = _curl_fail(proc, opts, 22, message)
            if opts.get("w"):
                proc.write(_curl_write_out(opts["w"], resp, current, 0, exitcode=22, errormsg=message))
            continue
        if method == "HEAD" or opts.get("I"):
            payload = head_text.encode()
        else:
            payload = (head_text.encode() if opts.get("i") else b"") + resp.body
        out_name = opts.get("o")
        if opts.get("O") and not out_name:
            out_name = posixpath.basename(path.split("?")[0]) or ""
            if not out_name:
                status = _curl_fail(proc, opts, 23, "Failed writing body")
                continue
            if opts.get("_od"):
                out_name = join(opts["_od"], out_name)
        if out_name and out_name != "-":
            target = proc.path(out_name)
            fs = proc.fs
            if opts.get("_cd"):
                for d in parent_dirs(target):
                    if not fs.exists(d) and cu.can_write(proc, d):
                        uid, gid = proc.uid, cu.user_gid(proc, proc.uid)
                        fs.mkdir(d, uid=uid, gid=gid)
            why = None
            if fs.is_dir(target):
                why = "Is a directory"
            elif not fs.is_dir(posixpath.dirname(target)):
                why = "No such file or directory"
            elif not cu.can_write(proc, target):
                why = "Permission denied"
            if why is not None:
                if not opts.get("s") or opts.get("S"):
                    proc.error(f"Warning: Failed to create the file {out_name}: {why}\n")
                status = _curl_fail(proc, opts, 23, "Failure writing output to destination")
                continue
            _progress(proc, opts, len(payload))
            cu._write_file(proc, target, payload)
        else:
            proc.write(payload)
        if opts.get("w"):
            proc.write(_curl_write_out(opts["w"], resp, current, len(resp.body)))
        if failed:
            status = _curl_fail(proc, opts, 22, f"The requested URL returned error: {resp.status}")
    return status


#: Seconds before Linux gives up resolving a neighbour that never answers ARP (3 probes, 1 s apart, plus
#: the queueing of the first): connect() then fails with EHOSTUNREACH, "No route to host".
_ARP_GIVE_UP = 3.069


def _curl_limit(opts) -> float | None:
    """The connect-phase time limit from ``--connect-timeout`` / ``-m``/``--max-time`` (the smaller), or None."""
    limits = []
    for key in ("_ct", "m"):
        raw = opts.get(key)
        if raw:
            try:
                limits.append(float(raw))
            except ValueError:
                continue
    limits = [v for v in limits if v > 0]
    return min(limits) if limits else None


def _curl_ip(net, host: str) -> str:
    try:
        return net.network.resolve(net, host)
    except NetworkError:
        return host


def _curl_write_out(fmt: str, resp, url: str, size: int, *, exitcode: int = 0, errormsg: str = "") -> str:
    """``-w FORMAT``: ``%{http_code}`` and friends; with no response (``resp`` None) the code is ``000``."""
    code = f"{resp.status:03d}" if resp is not None else "000"
    header = (lambda name: resp.header(name) or "") if resp is not None else (lambda name: "")
    values = {"http_code": code, "response_code": code,
              "size_download": str(size), "content_type": header("Content-Type"),
              "url_effective": url, "http_version": "1.1" if resp is not None else "0",
              "time_total": "0.001000", "num_redirects": "0", "redirect_url": header("Location"),
              "size_header": "0", "exitcode": str(exitcode), "errormsg": errormsg}
    out = re.sub(r"%\{([a-z_]+)\}", lambda m: values.get(m.group(1), ""), fmt)
    return out.replace("\\n", "\n").replace("\\t", "\t").replace("\\r", "\r")


# ---------------------------------------------------------------------------
# gpg


def _dearmor(data: bytes) -> bytes | None:
    text = data.decode("latin-1")
    m = re.search(r"-----BEGIN PGP ([A-Z ]+)-----\r?\n(.*?)-----END PGP \1-----", text, re.S)
    if not m:
        return None
    body = m.group(2)
    if "\n\n" in body.replace("\r", ""):
        body = body.replace("\r", "").split("\n\n", 1)[1]
    lines = [ln.strip() for ln in body.splitlines() if ln.strip() and not ln.startswith("=")]
    try:
        return base64.b64decode("".join(lines), validate=False)
    except (ValueError, TypeError):
        return None


@register_program("gpg")
def gpg(proc) -> int:
    """``gpg --dearmor [-o FILE] [FILE]``: an ASCII-armored key in, a binary keyring out."""
    args = proc.argv[1:]
    output = None
    dearmor = False
    inputs = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("--dearmor", "--dearmour"):
            dearmor = True
        elif a in ("-o", "--output"):
            i += 1
            output = args[i] if i < len(args) else None
        elif a.startswith("--output="):
            output = a.split("=", 1)[1]
        elif a in ("--yes", "--batch", "--no-tty", "-q", "--quiet", "--no-default-keyring"):
            pass
        elif a in ("--version",):
            proc.write("gpg (GnuPG) 2.2.27\nlibgcrypt 1.9.4\nCopyright (C) 2021 Free Software Foundation, Inc.\n")
            return 0
        elif a.startswith("--keyring"):
            if "=" not in a:
                i += 1
        elif a.startswith("-"):
            proc.error(f"gpg: invalid option \"{a}\"\n")
            return 2
        else:
            inputs.append(a)
        i += 1
    if not dearmor:
        proc.error("gpg: Go ahead and type your message ...\ngpg: no valid OpenPGP data found.\n"
                   "gpg: processing message failed: Unknown system error\n")
        return 2
    try:
        data = cu._read_input(proc, inputs[0]) if inputs else proc.stdin
    except FsError as e:
        proc.error(f"gpg: can't open '{inputs[0]}': {cu._errno(e)}\n")
        proc.error("gpg: dearmoring failed: No such file or directory\n")
        return 2
    decoded = _dearmor(data)
    if decoded is None:
        if not data:
            proc.error("gpg: no valid OpenPGP data found.\ngpg: dearmoring failed: Unknown system error\n")
            return 2
        seed = hashlib.sha256(data).digest()
        decoded = b"\x99\x01\x0d\x04" + b"".join(hashlib.sha256(seed + bytes([k])).digest() for k in range(9))
    if output is None or output == "-":
        proc.write(decoded)
        return 0
    target = proc.path(output)
    fs = proc.fs
    if not fs.is_dir(posixpath.dirname(target)) or not cu.can_write(proc, target):
        why = "Permission denied" if fs.is_dir(posixpath.dirname(target)) else "No such file or directory"
        proc.error(f"gpg: can't create '{output}': {why}\ngpg: dearmoring failed: {why}\n")
        return 2
    cu._write_file(proc, target, decoded)
    return 0


# ---------------------------------------------------------------------------
# swap


def _fstab_swaps(proc) -> list[str]:
    try:
        text = proc.fs.read_text("/etc/fstab")
    except (FsError, AivleError):
        return []
    out = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 3 and fields[2] == "swap":
            out.append(fields[0])
    return out


@register_program("swapoff")
def swapoff(proc) -> int:
    """``swapoff -a`` (root): swap is off until ``swapon -a`` or a reboot with swap still in /etc/fstab."""
    args = proc.argv[1:]
    if not args:
        proc.error("Usage:\n swapoff [options] [<spec>]\n\nDisable devices and files for paging and swapping.\n")
        return 2
    if args[0] in ("-V", "--version"):
        proc.write("swapoff from util-linux 2.37.2\n")
        return 0
    denied = _need_root(proc, "swapoff: Not superuser.")
    if denied is not None:
        return denied
    k = proc.kernel
    if "-a" in args or "--all" in args:
        k.swap_on = False
        return 0
    for spec in [a for a in args if not a.startswith("-")]:
        if spec not in _fstab_swaps(proc) and spec != "/swap.img":
            proc.error(f"swapoff: {spec}: swapoff failed: Invalid argument\n")
            return 4
        k.swap_on = False
    return 0


@register_program("swapon")
def swapon(proc) -> int:
    """``swapon --show`` lists active swap; ``swapon -a`` (root) enables the swap listed in /etc/fstab."""
    args = proc.argv[1:]
    k = proc.kernel
    total = int(getattr(k, "swap_total", 0))
    if not args or args[0] in ("--show", "-s", "--summary") or args[0].startswith("--show="):
        if not getattr(k, "swap_on", False) or total == 0:
            return 0
        if args and args[0] in ("-s", "--summary"):
            proc.write(f"Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/swap.img                               "
                       f"file\t\t{total // 1024}\t\t0\t\t-2\n")
            return 0
        size = cu.human_size(total).replace(".0", "")
        proc.write(f"NAME      TYPE SIZE USED PRIO\n/swap.img file {size:>4}   0B   -2\n")
        return 0
    if args[0] in ("-V", "--version"):
        proc.write("swapon from util-linux 2.37.2\n")
        return 0
    denied = _need_root(proc, "swapon: Not superuser.")
    if denied is not None:
        return denied
    if "-a" in args or "--all" in args:
        if _fstab_swaps(proc):
            k.swap_on = True
        return 0
    for spec in [a for a in args if not a.startswith("-")]:
        if not proc.fs.exists(proc.path(spec)):
            proc.error(f"swapon: cannot open {spec}: No such file or directory\n")
            return 2
        k.swap_on = True
    return 0


# ---------------------------------------------------------------------------
# kernel modules

KNOWN_MODULES: dict[str, tuple[int, tuple[str, ...]]] = {
    "overlay": (151552, ()),
    "br_netfilter": (32768, ("bridge",)),
    "bridge": (307200, ("stp", "llc")),
    "stp": (16384, ("llc",)),
    "llc": (16384, ()),
    "ip_tables": (32768, ()),
    "iptable_filter": (16384, ("ip_tables",)),
    "iptable_nat": (16384, ("ip_tables", "nf_nat")),
    "nf_nat": (49152, ("nf_conntrack",)),
    "nf_conntrack": (172032, ("nf_defrag_ipv6", "nf_defrag_ipv4")),
    "nf_defrag_ipv6": (24576, ()),
    "nf_defrag_ipv4": (16384, ()),
    "ip_vs": (176128, ("nf_conntrack",)),
    "ip_vs_rr": (16384, ("ip_vs",)),
    "ip_vs_wrr": (16384, ("ip_vs",)),
    "ip_vs_sh": (16384, ("ip_vs",)),
    "vxlan": (86016, ("ip6_udp_tunnel", "udp_tunnel")),
    "ip6_udp_tunnel": (16384, ()),
    "udp_tunnel": (20480, ()),
    "xt_conntrack": (16384, ("nf_conntrack",)),
    "veth": (32768, ()),
}


def _load_module(k, name: str) -> None:
    size, deps = KNOWN_MODULES[name]
    for d in deps:
        _load_module(k, d)
    k.modules.add(name)


@register_program("modprobe")
def modprobe(proc) -> int:
    """``modprobe [-r] MODULE...`` (root)."""
    args = proc.argv[1:]
    remove = False
    names = []
    for a in args:
        if a in ("-r", "--remove"):
            remove = True
        elif a in ("-v", "--verbose", "-q", "--quiet", "-a", "--all", "-b"):
            pass
        elif a in ("-V", "--version"):
            proc.write("kmod version 29\n+ZSTD +XZ -ZLIB +LIBCRYPTO -EXPERIMENTAL\n")
            return 0
        elif a.startswith("-"):
            proc.error(f"modprobe: unrecognized option '{a}'\n")
            return 1
        else:
            names.append(a.replace("-", "_"))
    if not names:
        proc.error("modprobe: ERROR: missing parameters. See -h.\n")
        return 1
    k = proc.kernel
    if len(names) > 1 and "-a" not in args and "--all" not in args and not remove:
        names = names[:1]
    for name in names:
        if name not in KNOWN_MODULES:
            proc.error(f"modprobe: FATAL: Module {name} not found in directory /lib/modules/{k.release}\n")
            return 1
        if proc.uid != 0:
            if remove:
                proc.error(f"modprobe: ERROR: could not remove '{name}': Operation not permitted\n")
            else:
                if name in k.modules:
                    continue
                proc.error(f"modprobe: ERROR: could not insert '{name}': Operation not permitted\n")
            return 1
        if remove:
            users = [m for m in k.modules if name in KNOWN_MODULES.get(m, (0, ()))[1]]
            if users:
                proc.error(f"modprobe: FATAL: Module {name} is in use.\n")
                return 1
            k.modules.discard(name)
        else:
            _load_module(k, name)
    return 0


@register_program("lsmod")
def lsmod(proc) -> int:
    """``lsmod``: loaded modules, newest first."""
    k = proc.kernel
    proc.write("Module                  Size  Used by\n")
    for name in sorted(k.modules, reverse=True):
        size = KNOWN_MODULES.get(name, (16384, ()))[0]
        users = sorted(m for m in k.modules if name in KNOWN_MODULES.get(m, (0, ()))[1])
        proc.write(f"{name:<19} {size:>8}  {len(users)}" + (f" {','.join(users)}" if users else "") + "\n")
    return 0


# ---------------------------------------------------------------------------
# sysctl

SYSCTL_DEFAULTS: dict[str, str] = {
    "net.ipv4.ip_forward": "0",
    "net.ipv4.conf.all.forwarding": "0",
    "net.ipv4.conf.default.forwarding": "0",
    "net.ipv6.conf.all.forwarding": "0",
    "net.ipv6.conf.default.forwarding": "0",
    "net.ipv4.ip_local_port_range": "32768\t60999",
    "net.ipv4.conf.all.rp_filter": "2",
    "net.ipv4.tcp_syncookies": "1",
    "net.core.somaxconn": "4096",
    "net.netfilter.nf_conntrack_max": "131072",
    "vm.swappiness": "60",
    "vm.overcommit_memory": "0",
    "vm.max_map_count": "65530",
    "vm.panic_on_oom": "0",
    "kernel.panic": "0",
    "kernel.panic_on_oops": "0",
    "kernel.pid_max": "4194304",
    "kernel.keys.root_maxkeys": "1000000",
    "kernel.keys.root_maxbytes": "25000000",
    "fs.inotify.max_user_watches": "65536",
    "fs.inotify.max_user_instances": "128",
    "fs.file-max": "9223372036854775807",
}
_BRIDGE_KEYS = {
    "net.bridge.bridge-nf-call-iptables": "1",
    "net.bridge.bridge-nf-call-ip6tables": "1",
    "net.bridge.bridge-nf-call-arptables": "1",
}


def _norm_key(key: str) -> str:
    return key.strip().replace("/", ".")


def sysctl_get(kernel, key: str) -> str | None:
    """A kernel parameter's value, or None if it does not exist (bridge keys need br_netfilter)."""
    key = _norm_key(key)
    if key == "kernel.hostname":
        return None
    if key.startswith("net.bridge."):
        if "br_netfilter" not in kernel.modules or key not in _BRIDGE_KEYS:
            return None
        return kernel.sysctls.get(key, _BRIDGE_KEYS[key])
    if key in kernel.sysctls:
        return kernel.sysctls[key]
    return SYSCTL_DEFAULTS.get(key)


def _sysctl_keys(kernel) -> list[str]:
    keys = set(SYSCTL_DEFAULTS) | {k for k in kernel.sysctls if not k.startswith("net.bridge.")}
    if "br_netfilter" in kernel.modules:
        keys |= set(_BRIDGE_KEYS)
    return sorted(keys)


def _sysctl_set(proc, key: str, value: str, quiet: bool, ignore: bool = False) -> int:
    k = proc.kernel
    key = _norm_key(key)
    value = " ".join(value.split()) if "\t" not in value else value
    if sysctl_get(k, key) is None:
        if ignore:
            return 0
        proc.error(f"sysctl: cannot stat /proc/sys/{key.replace('.', '/')}: No such file or directory\n")
        return 255
    if proc.uid != 0:
        proc.error(f'sysctl: permission denied on key "{key}"\n')
        return 255
    k.sysctls[key] = value
    if not quiet:
        proc.write(f"{key} = {value}\n")
    return 0


def _sysctl_apply_file(proc, path: str, quiet: bool) -> int:
    try:
        text = proc.fs.read_text(path)
    except (FsError, AivleError):
        proc.error(f"sysctl: cannot open \"{path}\": No such file or directory\n")
        return 255
    status = 0
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        ignore = line.startswith("-")
        if ignore:
            line = line[1:]
        if "=" not in line:
            continue
        key, _, value = line.partition("=")
        code = _sysctl_set(proc, key.strip(), value.strip(), quiet, ignore)
        if code:
            status = code
    return status


@register_program("sysctl")
def sysctl(proc) -> int:
    """``sysctl KEY``, ``sysctl -w KEY=VALUE``, ``sysctl -p [FILE]``, ``sysctl --system``, ``sysctl -a``."""
    args = proc.argv[1:]
    k = proc.kernel
    quiet = False
    names_only = values_only = False
    write = False
    ops = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-q", "--quiet"):
            quiet = True
        elif a in ("-n", "--values"):
            values_only = True
        elif a in ("-N", "--names"):
            names_only = True
        elif a in ("-w", "--write"):
            write = True
        elif a in ("-e", "--ignore"):
            pass
        elif a in ("-a", "-A", "-X", "--all"):
            for key in _sysctl_keys(k):
                v = sysctl_get(k, key)
                proc.write(key + "\n" if names_only else (v + "\n" if values_only else f"{key} = {v}\n"))
            return 0
        elif a == "--system":
            status = 0
            files = []
            seen = set()
            for d in ("/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d",
                      "/lib/sysctl.d"):
                try:
                    names = proc.fs.listdir(d)
                except (FsError, AivleError):
                    continue
                for n in names:
                    if n.endswith(".conf") and n not in seen:
                        seen.add(n)
                        files.append((n, join(d, n)))
            files.sort()
            if proc.fs.is_file("/etc/sysctl.conf"):
                files.append(("~", "/etc/sysctl.conf"))
            for _, path in files:
                if not quiet:
                    proc.write(f"* Applying {path} ...\n")
                code = _sysctl_apply_file(proc, path, quiet)
                status = status or code
            return status
        elif a in ("-p", "--load") or a.startswith("-p") or a.startswith("--load="):
            if a.startswith("--load="):
                files = [a.split("=", 1)[1]]
            elif len(a) > 2 and a.startswith("-p"):
                files = [a[2:]]
            else:
                rest = [x for x in args[i + 1:] if not x.startswith("-")]
                files = rest or ["/etc/sysctl.conf"]
                i = len(args)
            status = 0
            for f in files:
                code = _sysctl_apply_file(proc, proc.path(f), quiet)
                status = status or code
            return status
        elif a.startswith("-"):
            proc.error(f"sysctl: invalid option -- '{a.lstrip('-')[:1]}'\n")
            return 255
        else:
            ops.append(a)
        i += 1
    if not ops:
        proc.error("\nUsage:\n sysctl [options] [variable[=value] ...]\n")
        return 255
    status = 0
    for op in ops:
        if "=" in op:
            key, _, value = op.partition("=")
            code = _sysctl_set(proc, key, value, quiet)
            status = status or code
            continue
        if write:
            proc.error(f'sysctl: "{op}" must be of the form name=value\n')
            status = 255
            continue
        v = sysctl_get(k, op)
        if v is None:
            proc.error(f"sysctl: cannot stat /proc/sys/{_norm_key(op).replace('.', '/')}: No such file or directory\n")
            status = 255
            continue
        key = _norm_key(op)
        proc.write(key + "\n" if names_only else (v + "\n" if values_only else f"{key} = {v}\n"))
    return status


# ---------------------------------------------------------------------------
# networking views


def _prefix(ip: str) -> int:
    if ip.startswith("172.17.") or ip.startswith("172.18."):
        return 16
    if ip.startswith("127."):
        return 8
    return 24


def _mac(ip: str) -> str:
    try:
        b = ipaddress.ip_address(ip).packed
    except ValueError:
        b = hashlib.sha256(ip.encode()).digest()[:4]
    return "02:42:" + ":".join(f"{x:02x}" for x in b[-4:])


def _interfaces(proc) -> list[tuple[str, str | None]]:
    net = getattr(proc.ns, "net", None)
    out: list[tuple[str, str | None]] = [("lo", "127.0.0.1")]
    if net is None:
        return out
    ips = [ip for ip in net.ips if not ip.startswith("127.")]
    for n, ip in enumerate(ips):
        out.append((f"eth{n}", ip))
    if not ips:
        out.append(("eth0", None))
    return out


@register_program("ip")
def ip(proc) -> int:
    """``ip addr|a``, ``ip link``, ``ip route|r`` (read-only views of the network namespace)."""
    args = [a for a in proc.argv[1:]]
    brief = False
    family = None
    while args and args[0].startswith("-"):
        a = args.pop(0)
        if a in ("-br", "-brief"):
            brief = True
        elif a in ("-4", "-6"):
            family = a[1]
        elif a in ("-c", "-color", "--color", "-s", "-d", "-details"):
            pass
        elif a in ("-V", "-Version"):
            proc.write("ip utility, iproute2-5.15.0, libbpf 0.5.0\n")
            return 0
        else:
            proc.error(f'Option "{a}" is unknown, try "ip -help".\n')
            return 255
    obj = args[0] if args else ""
    net = getattr(proc.ns, "net", None)
    up = net.up if net is not None else True
    ifaces = _interfaces(proc)
    if obj in ("a", "ad", "add", "addr", "addre", "addres", "address") or obj == "":
        if obj == "":
            proc.error("Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n")
            return 255
        if len(args) > 1 and args[1] not in ("show", "list", "s", "ls"):
            if proc.uid != 0:
                proc.error("RTNETLINK answers: Operation not permitted\n")
                return 2
            return 0
        want_dev = args[args.index("dev") + 1] if "dev" in args and args.index("dev") + 1 < len(args) else None
        if want_dev is None and len(args) > 2 and args[1] in ("show", "list") and args[2] != "dev":
            want_dev = args[2]
        for n, (name, addr) in enumerate(ifaces, 1):
            if want_dev and name != want_dev:
                continue
            if brief:
                state = "UNKNOWN" if name == "lo" else ("UP" if up else "DOWN")
                cidr = f"{addr}/{_prefix(addr)}" if addr else ""
                proc.write(f"{name:<16} {state:<14} {cidr} \n")
                continue
            if name == "lo":
                proc.write("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000\n"
                           "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n")
                if family != "6":
                    proc.write("    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n")
                if family != "4":
                    proc.write("    inet6 ::1/128 scope host \n       valid_lft forever preferred_lft forever\n")
                continue
            state = "UP" if up else "DOWN"
            proc.write(f"{n}: {name}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state {state} "
                       f"group default qlen 1000\n    link/ether {_mac(addr or name)} brd ff:ff:ff:ff:ff:ff\n")
            if addr and family != "6":
                net_ = ipaddress.ip_network(f"{addr}/{_prefix(addr)}", strict=False)
                proc.write(f"    inet {addr}/{_prefix(addr)} brd {net_.broadcast_address} scope global {name}\n"
                           f"       valid_lft forever preferred_lft forever\n")
        if want_dev and not any(name == want_dev for name, _ in ifaces):
            proc.error(f'Device "{want_dev}" does not exist.\n')
            return 1
        return 0
    if obj in ("l", "li", "lin", "link"):
        for n, (name, addr) in enumerate(ifaces, 1):
            if brief:
                proc.write(f"{name:<16} {'UNKNOWN' if name == 'lo' else 'UP':<14} "
                           f"{'00:00:00:00:00:00' if name == 'lo' else _mac(addr or name)} "
                           f"<{'LOOPBACK,UP,LOWER_UP' if name == 'lo' else 'BROADCAST,MULTICAST,UP,LOWER_UP'}> \n")
            elif name == "lo":
                proc.write("1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group "
                           "default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n")
            else:
                proc.write(f"{n}: {name}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode "
                           f"DEFAULT group default qlen 1000\n    link/ether {_mac(addr or name)} brd ff:ff:ff:ff:ff:ff\n")
        return 0
    if obj in ("r", "ro", "rou", "rout", "route"):
        if len(args) > 1 and args[1] not in ("show", "list", "s", "ls"):
            if args[1] == "get" and len(args) > 2:
                src = next((a for _, a in ifaces if a and a != "127.0.0.1"), "127.0.0.1")
                proc.write(f"{args[2]} via {_gateway(src)} dev eth0 src {src} uid {proc.uid} \n    cache \n")
                return 0
            if proc.uid != 0:
                proc.error("RTNETLINK answers: Operation not permitted\n")
                return 2
            return 0
        for name, addr in ifaces:
            if name == "lo" or not addr:
                continue
            net_ = ipaddress.ip_network(f"{addr}/{_prefix(addr)}", strict=False)
            if name == "eth0":
                proc.write(f"default via {_gateway(addr)} dev {name} proto static \n")
            proc.write(f"{net_} dev {name} proto kernel scope link src {addr} \n")
        return 0
    if obj in ("n", "ne", "neigh", "neighbor", "neighbour"):
        return 0
    if obj in ("help", "-h"):
        proc.write("Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n"
                   "where  OBJECT := { address | link | route | neigh | ... }\n")
        return 0
    proc.error(f'Object "{obj}" is unknown, try "ip help".\n')
    return 1


def _gateway(addr: str) -> str:
    net_ = ipaddress.ip_network(f"{addr}/{_prefix(addr)}", strict=False)
    return str(net_.network_address + 1)


@register_program("ss")
def ss(proc) -> int:
    """``ss -ltn[p]``: the listening TCP ports of the network namespace."""
    args = proc.argv[1:]
    flags = set()
    for a in args:
        if a.startswith("-") and not a.startswith("--"):
            flags.update(a[1:])
        elif a in ("--listening",):
            flags.add("l")
        elif a in ("--tcp",):
            flags.add("t")
        elif a in ("--numeric",):
            flags.add("n")
        elif a in ("--processes",):
            flags.add("p")
    net = getattr(proc.ns, "net", None)
    ports = sorted(net.listeners) if net is not None else []
    header = "State  Recv-Q Send-Q Local Address:Port  Peer Address:Port"
    if "t" not in flags and "u" not in flags and "x" not in flags:
        header = "Netid State  Recv-Q Send-Q Local Address:Port  Peer Address:Port"
    proc.write(header + ("Process" if "p" in flags else "") + "\n")
    if "l" not in flags and "a" not in flags:
        return 0
    if "u" in flags and "t" not in flags:
        return 0
    names = {22: "ssh", 53: "domain", 80: "http", 443: "https", 6443: "6443", 2379: "2379", 2380: "2380",
             10250: "10250", 8080: "http-alt"}
    for port in ports:
        local = f"0.0.0.0:{port if 'n' in flags else names.get(port, port)}"
        prefix = "tcp   " if "t" not in flags else ""
        proc.write(f"{prefix}LISTEN 0      4096   {local:>19}      0.0.0.0:*    \n")
    return 0


@register_program("hostnamectl")
def hostnamectl(proc) -> int:
    """``hostnamectl [status]`` and ``hostnamectl set-hostname NAME`` (root)."""
    args = [a for a in proc.argv[1:] if not a.startswith("--") or a in ("--static", "--transient", "--pretty")]
    args = [a for a in args if a not in ("--static", "--transient", "--pretty")]
    if not args or args[0] == "status":
        os_name = "Linux"
        try:
            for line in proc.fs.read_text("/etc/os-release").splitlines():
                if line.startswith("PRETTY_NAME="):
                    os_name = line.split("=", 1)[1].strip('"')
        except (FsError, AivleError):
            pass
        name = proc.ns.hostname
        digest = hashlib.sha256(f"machine-id:{name}".encode()).hexdigest()
        boot = hashlib.sha256(f"boot-id:{name}".encode()).hexdigest()
        proc.write(f" Static hostname: {name}\n       Icon name: computer-vm\n         Chassis: vm\n"
                   f"      Machine ID: {digest[:32]}\n         Boot ID: {boot[:32]}\n  Virtualization: kvm\n"
                   f"Operating System: {os_name}\n          Kernel: Linux {proc.kernel.release}\n"
                   f"    Architecture: x86-64\n Hardware Vendor: QEMU\n  Hardware Model: Standard PC _i440FX + PIIX, 1996_\n")
        return 0
    if args[0] in ("hostname",):
        proc.write(proc.ns.hostname + "\n")
        return 0
    if args[0] in ("set-hostname", "hostname") and len(args) >= 2:
        name = args[1]
        if proc.uid != 0:
            proc.error("Could not set static hostname: Interactive authentication required.\n")
            return 1
        if not re.fullmatch(r"[A-Za-z0-9]([-A-Za-z0-9.]{0,62})?", name):
            proc.error(f"Invalid static hostname '{name}'\n")
            return 1
        proc.ns.hostname = name
        try:
            old = proc.fs.stat("/etc/hostname")
            proc.fs.write("/etc/hostname", name + "\n", mode=old.mode, uid=old.uid, gid=old.gid)
        except (FsError, AivleError):
            proc.fs.write("/etc/hostname", name + "\n")
        return 0
    if args[0] == "set-hostname":
        proc.error("Too few arguments.\n")
        return 1
    proc.error(f"Unknown command verb {args[0]}.\n")
    return 1


def _os_release(proc) -> dict[str, str]:
    out = {}
    try:
        for line in proc.fs.read_text("/etc/os-release").splitlines():
            if "=" in line:
                k, _, v = line.partition("=")
                out[k.strip()] = v.strip().strip('"')
    except (FsError, AivleError):
        pass
    return out


@register_program("lsb_release")
def lsb_release(proc) -> int:
    """``lsb_release -a``, ``-cs``, ``-rs``, ``-is``, ``-ds``."""
    args = proc.argv[1:]
    flags = set()
    for a in args:
        if a.startswith("--"):
            flags.add({"--all": "a", "--codename": "c", "--release": "r", "--id": "i", "--description": "d",
                       "--short": "s"}.get(a, "?"))
        elif a.startswith("-"):
            flags.update(a[1:])
    info = _os_release(proc)
    values = {"i": ("Distributor ID", info.get("NAME", "Ubuntu").split()[0]),
              "d": ("Description", info.get("PRETTY_NAME", "")),
              "r": ("Release", info.get("VERSION_ID", "")),
              "c": ("Codename", info.get("VERSION_CODENAME", info.get("UBUNTU_CODENAME", "")))}
    wanted = [c for c in "idrc" if c in flags or "a" in flags]
    if not wanted:
        proc.error("No LSB modules are available.\n")
        return 0
    if "a" in flags or ("s" not in flags):
        proc.error("No LSB modules are available.\n")
    short = "s" in flags
    for c in wanted:
        label, value = values[c]
        proc.write((value if short else f"{label}:\t{value}") + "\n")
    return 0


# ---------------------------------------------------------------------------
# packet filtering and other kubeadm preflight tools


@register_program("iptables")
def iptables(proc) -> int:
    """``iptables [-t TABLE] -L [-n]`` / ``-S``: the node's NAT rules (read-only; changes are accepted and ignored)."""
    args = proc.argv[1:]
    if "--version" in args or "-V" in args:
        proc.write("iptables v1.8.7 (nf_tables)\n")
        return 0
    if proc.uid != 0:
        proc.error("iptables v1.8.7 (nf_tables): Could not fetch rule set generation id: Permission denied "
                   "(you must be root)\n\n")
        return 4
    table = "filter"
    if "-t" in args:
        i = args.index("-t")
        table = args[i + 1] if i + 1 < len(args) else "filter"
    numeric = any(a.startswith("-") and not a.startswith("--") and "n" in a[1:] for a in args) or "--numeric" in args
    listing = any(a in ("-L", "--list") or (a.startswith("-") and not a.startswith("--") and "L" in a[1:]) for a in args)
    rules_mode = "-S" in args or "--list-rules" in args
    net = getattr(proc.ns, "net", None)
    rules = []
    if net is not None and getattr(net, "network", None) is not None:
        rules = list(net.network.rules.get(net.node, []))
    chains = {"filter": ["INPUT", "FORWARD", "OUTPUT"], "nat": ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
              "mangle": ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
              "raw": ["PREROUTING", "OUTPUT"]}.get(table)
    if chains is None:
        proc.error(f"iptables v1.8.7 (nf_tables): table '{table}' does not exist\n"
                   "Perhaps iptables or your kernel needs to be upgraded.\n")
        return 3
    if rules_mode:
        for c in chains:
            proc.write(f"-P {c} ACCEPT\n")
        if table == "nat":
            for r in rules:
                dst = f"-d {r.ip}/32 " if r.ip else "-m addrtype --dst-type LOCAL "
                comment = f'-m comment --comment "{r.comment}" ' if r.comment else ""
                for tip, tport in r.targets[:1]:
                    proc.write(f"-A PREROUTING {dst}-p {r.proto} -m {r.proto} --dport {r.port} {comment}"
                               f"-j DNAT --to-destination {tip}:{tport}\n")
        return 0
    if not listing:
        return 0
    anywhere = "0.0.0.0/0" if numeric else "anywhere"
    for n, c in enumerate(chains):
        if n:
            proc.write("\n")
        proc.write(f"Chain {c} (policy ACCEPT)\ntarget     prot opt source               destination         \n")
        if table == "nat" and c == "PREROUTING":
            for r in rules:
                dest = (r.ip if r.ip else anywhere) if numeric or r.ip else "anywhere"
                extra = f"/* {r.comment} */ " if r.comment else ""
                to = " ".join(f"to:{ip}:{port}" for ip, port in r.targets[:1])
                proc.write(f"DNAT       {r.proto:<4} --  {anywhere:<20} {dest:<20} {extra}{r.proto} dpt:{r.port} {to}\n")
    return 0


@register_program("ebtables")
def ebtables(proc) -> int:
    if "-V" in proc.argv or "--version" in proc.argv:
        proc.write("ebtables 1.8.7 (nf_tables)\n")
        return 0
    if proc.uid != 0:
        proc.error("ebtables v1.8.7 (nf_tables):  Could not fetch rule set generation id: Permission denied "
                   "(you must be root)\n")
        return 4
    proc.write("Bridge table: filter\n\nBridge chain: INPUT, entries: 0, policy: ACCEPT\n\n"
               "Bridge chain: FORWARD, entries: 0, policy: ACCEPT\n\nBridge chain: OUTPUT, entries: 0, policy: ACCEPT\n")
    return 0


@register_program("ethtool")
def ethtool(proc) -> int:
    args = proc.argv[1:]
    if not args:
        proc.error("ethtool: bad command line argument(s)\nFor more information run ethtool -h\n")
        return 1
    if args[0] in ("--version", "-V"):
        proc.write("ethtool version 5.16\n")
        return 0
    dev = args[-1]
    if dev not in [n for n, _ in _interfaces(proc)]:
        proc.error(f"netlink error: no device matches name (offset 24)\nnetlink error: No such device\n")
        return 1
    proc.write(f"Settings for {dev}:\n\tSupported ports: [  ]\n\tSpeed: Unknown!\n\tDuplex: Unknown! (255)\n"
               f"\tPort: Other\n\tTransceiver: internal\n\tAuto-negotiation: off\n\tLink detected: yes\n")
    return 0


@register_program("conntrack")
def conntrack(proc) -> int:
    args = proc.argv[1:]
    if "--version" in args or "-V" in args:
        proc.write("conntrack v1.4.6 (conntrack-tools)\n")
        return 0
    if proc.uid != 0:
        proc.error("conntrack v1.4.6 (conntrack-tools): Operation failed: Operation not permitted\n")
        return 1
    if not args:
        proc.error("conntrack v1.4.6 (conntrack-tools): no command specified\n"
                   "Try `conntrack -h' or 'conntrack --help' for more information.\n")
        return 2
    proc.error("conntrack v1.4.6 (conntrack-tools): 0 flow entries have been shown.\n")
    return 0


@register_program("socat")
def socat(proc) -> int:
    args = proc.argv[1:]
    if "-V" in args or "--version" in args:
        proc.write("socat by Gerhard Rieger and contributors - see www.dest-unreach.org\n"
                   "socat version 1.7.4.1 on Jan 27 2022 10:58:12\n")
        return 0
    if len([a for a in args if not a.startswith("-")]) < 2:
        proc.error(f"{cu.sim_datetime(proc).strftime('%Y/%m/%d %H:%M:%S')} socat[{proc.local_pid}] E exactly 2 "
                   f"addresses required (there are {len([a for a in args if not a.startswith('-')])}); use option \"-h\" for help\n")
        return 1
    return 0


@register_program("nsenter")
def nsenter(proc) -> Gen:
    """``nsenter -t PID [-m] [-u] [-n] [-p] [-a] [COMMAND...]``: run a command in another process's namespaces."""
    args = proc.argv[1:]
    target = None
    which = set()
    cmd: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-t", "--target"):
            i += 1
            target = args[i] if i < len(args) else None
        elif a.startswith("--target="):
            target = a.split("=", 1)[1]
        elif a.startswith("-t") and len(a) > 2 and _isnum(a[2:]):
            target = a[2:]
        elif a == "--":
            cmd = args[i + 1:]
            break
        elif a.startswith("--"):
            key = {"--mount": "m", "--uts": "u", "--net": "n", "--pid": "p", "--ipc": "i", "--all": "a",
                   "--cgroup": "C", "--user": "U"}.get(a.split("=")[0])
            if key is None:
                proc.error(f"nsenter: unrecognized option '{a}'\nTry 'nsenter --help' for more information.\n")
                return 1
            which.add(key)
        elif a.startswith("-") and len(a) > 1:
            for c in a[1:]:
                if c not in "muniptaCUrwFS":
                    proc.error(f"nsenter: invalid option -- '{c}'\nTry 'nsenter --help' for more information.\n")
                    return 1
                which.add(c)
        else:
            cmd = args[i:]
            break
        i += 1
    if proc.uid != 0:
        proc.error(f"nsenter: cannot open /proc/{target or 1}/ns/mnt: Permission denied\n")
        return 1
    if target is None or not _isnum(str(target)):
        if which:
            proc.error("nsenter: neither filename nor target pid supplied for ns/mnt\n")
            return 1
        target_proc = None
    else:
        host = cu._host_pid(proc, int(target))
        target_proc = proc.kernel.processes.get(host) if host is not None else None
        if target_proc is None:
            proc.error(f"nsenter: cannot open /proc/{target}/ns/mnt: No such file or directory\n")
            return 1
    ns = proc.ns
    if target_proc is not None:
        t = target_proc.ns
        if "a" in which:
            which |= set("munip")
        ns = Namespaces(fs=t.fs if "m" in which else ns.fs, hostname=t.hostname if "u" in which else ns.hostname,
                        pid=t.pid if "p" in which else ns.pid, net=t.net if "n" in which else ns.net,
                        cgroup=t.cgroup if "C" in which else ns.cgroup, name=t.name if "m" in which else ns.name,
                        user=ns.user)
    if not cmd:
        cmd = [proc.env.get("SHELL", "/bin/sh")]
    cwd = proc.cwd if ns.fs.is_dir(proc.cwd) else "/"
    try:
        child = proc.kernel.spawn(cmd, ns=ns, env=proc.env, cwd=cwd, stdin=proc.stdin, stdout=proc.stdout,
                                  stderr=proc.stderr, uid=proc.uid, parent=proc)
    except ExecError as e:
        proc.error(f"nsenter: failed to execute {cmd[0]}: {'No such file or directory' if e.exit_code == 127 else e.message}\n")
        return e.exit_code
    if child.alive:
        yield child.exited
    return child.exit_code
