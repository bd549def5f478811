"""``etcdctl`` and ``etcdutl``: etcd's command-line clients (v3 API, etcd 3.5).

``etcdctl`` talks to an etcd member over the network (``--endpoints``, default
``127.0.0.1:2379``); an ``https://`` endpoint needs ``--cacert``, ``--cert`` and
``--key`` (or ``ETCDCTL_CACERT``/``ETCDCTL_CERT``/``ETCDCTL_KEY``) as kubeadm's etcd
demands client certificates. Supported, with etcdctl's output shapes:

* ``snapshot save FILE``; ``snapshot status FILE [-w table|json]``;
  ``snapshot restore FILE --data-dir DIR`` (deprecated in etcdctl, prefer etcdutl);
* ``member list``; ``endpoint health``; ``endpoint status``;
* ``get KEY [RANGE_END] [--prefix] [--keys-only] [--count-only] [--limit N] [--rev N] [--print-value-only]``;
  ``put KEY VALUE``; ``del KEY [--prefix]``.

``-w``/``--write-out`` (or ``ETCDCTL_WRITE_OUT``) picks the printer as etcdctl's does:
``simple`` (the default), ``json`` (the gRPC response as Go's ``encoding/json`` writes it:
``header`` with ``cluster_id``/``member_id``/``revision``/``raft_term``, keys and values in
base64, zero values left out), ``fields`` (``"Key" : value`` lines), ``table`` (only for
member list, endpoint status/health and snapshot status: elsewhere ``table not supported
as output format``) and ``protobuf`` (the response's wire bytes, for the KV commands). Any
other value is ``Error: unsupported output format`` (exit code 4), before anything is sent.

``etcdutl snapshot restore FILE --data-dir DIR`` writes a new data directory on the
machine that a (restarted) etcd started with ``--data-dir=DIR`` then serves;
``etcdutl snapshot status FILE``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import unicodedata
from typing import Any

from ..linux.kernel import register_program
from ..sim.errors import AivleError, FsError, NetworkError

__all__ = ["etcdctl_main", "etcdutl_main"]

#: The etcd of kubeadm's etcd image (registry.k8s.io/etcd:3.5.12-0): the server, and the etcdctl /
#: etcdutl found inside that image.
VERSION = "3.5.12"
_TIMEOUT = 5.0  # --command-timeout
#: cobrautl's exit codes.
EXIT_ERROR, EXIT_BAD_FEATURE = 1, 4
FORMATS = ("simple", "json", "fields", "table", "protobuf")


def _parse(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    """Positional arguments and ``--flag[=value]`` / ``-w value`` options."""
    args: list[str] = []
    opts: dict[str, str] = {}
    valued = {"endpoints", "cacert", "cert", "key", "data-dir", "write-out", "w", "name", "initial-cluster",
              "initial-cluster-token", "initial-advertise-peer-urls", "dial-timeout", "command-timeout", "user",
              "password", "skip-hash-check", "wal-dir", "limit", "rev", "sort-by", "order", "consistency"}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("-") and a != "-":
            name = a.lstrip("-")
            if "=" in name:
                k, _, v = name.partition("=")
                opts[k] = v
            elif name in valued and i + 1 < len(argv):
                opts[name] = argv[i + 1]
                i += 1
            else:
                opts[name] = "true"
        else:
            args.append(a)
        i += 1
    if "w" in opts:
        opts.setdefault("write-out", opts["w"])
    return args, opts


def _format(proc: Any, opts: dict[str, str]) -> str | None:
    """The ``-w`` printer, or None after etcdctl's error (printed) for one it does not have."""
    fmt = opts.get("write-out") or proc.env.get("ETCDCTL_WRITE_OUT") or "simple"
    if fmt not in FORMATS:
        proc.error("Error: unsupported output format\n")
        return None
    return fmt


def _unsupported(proc: Any, fmt: str) -> int:
    proc.error(f"Error: {fmt} not supported as output format\n")
    return EXIT_BAD_FEATURE


def _json_line(proc: Any, obj: Any) -> None:
    """Go's ``json.Marshal`` (compact, ``<>&`` escaped as ``\\u003c`` ...) and a newline."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    proc.write(text + "\n")


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


_GO_ESCAPES = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v",
               ord("\\"): "\\\\", ord('"'): '\\"'}


def _goquote(data: bytes | str) -> str:
    """Go's ``%q`` of a string: printable runes as they are, invalid UTF-8 bytes as ``\\xNN``."""
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else bytes(data)
    out = ['"']
    i = 0
    while i < len(raw):
        b = raw[i]
        if b < 0x80:
            if b in _GO_ESCAPES:
                out.append(_GO_ESCAPES[b])
            elif b < 0x20 or b == 0x7F:
                out.append(f"\\x{b:02x}")
            else:
                out.append(chr(b))
            i += 1
            continue
        size = 2 if b >> 5 == 0b110 else 3 if b >> 4 == 0b1110 else 4 if b >> 3 == 0b11110 else 0
        try:
            ch = raw[i:i + size].decode("utf-8") if size else ""
        except UnicodeDecodeError:
            ch = ""
        if len(ch) != 1:
            out.append(f"\\x{b:02x}")
            i += 1
            continue
        cp = ord(ch)
        if unicodedata.category(ch)[0] in "LMNPS":  # strconv.IsPrint (only the ASCII space among spaces)
            out.append(ch)
        elif cp < 0x10000:
            out.append(f"\\u{cp:04x}")
        else:
            out.append(f"\\U{cp:08x}")
        i += size
    out.append('"')
    return "".join(out)


def _go_list(items: Any) -> str:
    """``fmt.Println`` of a []string: ``[a b]``."""
    return "[" + " ".join(str(x) for x in items) + "]"


def _ts(proc: Any) -> str:
    world = getattr(proc.kernel.owner, "world", None)
    if world is None:
        return "2024-01-01T00:00:00.000Z"
    return world.datetime(proc.now).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _zap(proc: Any, level: str, caller: str, msg: str, **fields: Any) -> None:
    rec = {"level": level, "ts": _ts(proc), "caller": caller, "msg": msg, **fields}
    proc.error(json.dumps(rec, separators=(",", ":")) + "\n")


def _member_id(name: str) -> str:
    return hashlib.sha256(f"etcd-member/{name}".encode()).hexdigest()[:16].lstrip("0") or "1"


def _cluster_id(name: str) -> int:
    return int(hashlib.sha256(f"etcd-cluster/{name}".encode()).hexdigest()[:16], 16)


def _split(url: str) -> tuple[str, str, int]:
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "http", url
    host, _, port = rest.rstrip("/").rpartition(":")
    return scheme, host or rest, int(port or 2379)


class _Conn:
    def __init__(self, url: str, store: Any, endpoint: Any):
        self.url, self.store, self.endpoint = url, store, endpoint


def _connect(proc: Any, opts: dict[str, str]):
    """Yield-from helper: the first endpoint that answers, or None after the command timeout (errors printed)."""
    env = proc.env
    urls = (opts.get("endpoints") or env.get("ETCDCTL_ENDPOINTS") or "127.0.0.1:2379").split(",")
    cacert = opts.get("cacert") or env.get("ETCDCTL_CACERT")
    cert = opts.get("cert") or env.get("ETCDCTL_CERT")
    key = opts.get("key") or env.get("ETCDCTL_KEY")
    for path in (cacert, cert, key):
        if path and not proc.fs.exists(proc.path(path)):
            proc.error(f"Error: open {path}: no such file or directory\n")
            return None
    world = proc.kernel.owner.world
    for url in urls:
        scheme, host, port = _split(url.strip())
        try:
            handler = world.net.endpoint(proc.ns.net, host, port)
        except NetworkError:
            continue
        store = getattr(handler, "etcd", None)
        if store is None:
            continue
        if scheme == "https" and not (cert and key and cacert):
            continue  # the TLS handshake fails: etcd requires a client certificate
        return _Conn(url.strip(), store, handler)
    yield proc.sleep(_TIMEOUT)
    _zap(proc, "warn", "clientv3/retry_interceptor.go:62", "retrying of unary invoker failed",
         target=f"etcd-endpoints://0xc000350000/{urls[0].split('://')[-1]}", attempt=0,
         error="rpc error: code = DeadlineExceeded desc = latest balancer error: last connection error: "
               "connection error: desc = \"transport: Error while dialing dial tcp "
               f"{urls[0].split('://')[-1]}: connect: connection refused\"")
    proc.error("Error: context deadline exceeded\n")
    return None


def _etcd_process(proc: Any, endpoint: Any) -> Any:
    """The etcd process serving ``endpoint`` on this machine (for its flags), or None."""
    for p in proc.kernel.processes.values():
        if p.comm == "etcd" and p.ns.net.listeners.get(2379) is endpoint:
            return p
    return None


def _flags_of(p: Any) -> dict[str, str]:
    from .components import flags

    return flags(p.argv) if p is not None else {}


def _kv_text(b: bytes) -> str:
    return b.decode("utf-8", errors="replace")


# -- which release ------------------------------------------------------------------------
def _client_version(proc: Any) -> str:
    """The release of the running etcdctl/etcdutl: recorded in its program file (Ubuntu's
    etcd-client is 3.3.25, a release tarball its own release), else the etcd image's."""
    from ..linux.packages import program_version

    try:
        path = proc.kernel.find_executable(proc.ns, proc.argv[0], proc.env, proc.cwd)
        return program_version(proc.fs.read(path)) or VERSION
    except Exception:  # noqa: BLE001  (a program started without a file)
        return VERSION


def _minor(version: str) -> tuple[int, int]:
    major, minor = (version.split(".") + ["0", "0"])[:2]
    return int(major), int(minor)


# -- etcdctl v2 (the default API before etcd 3.4, and ETCDCTL_API=2) --------------------------------
_V2_COMMANDS = {
    "backup": "backup an etcd directory", "cluster-health": "check the health of the etcd cluster",
    "mk": "make a new key with a given value", "mkdir": "make a new directory",
    "rm": "remove a key or a directory",
    "rmdir": "removes the key if it is an empty directory or a key-value pair",
    "get": "retrieve the value of a key", "ls": "retrieve a directory", "set": "set the value of a key",
    "setdir": "create a new directory or update an existing directory TTL",
    "update": "update an existing key with a given value", "updatedir": "update an existing directory",
    "watch": "watch a key for changes", "exec-watch": "watch a key for changes and exec an executable",
    "member": "member add, remove and list subcommands", "user": "user add, grant and revoke subcommands",
    "role": "role add, grant and revoke subcommands", "auth": "overall auth controls",
}
_V2_VALUED = {"output", "o", "discovery-srv", "D", "peers", "C", "endpoint", "endpoints", "cert-file", "key-file",
              "ca-file", "username", "u", "timeout", "total-timeout"}


def _ctlv2(proc: Any, version: str, api_set: bool) -> int:
    """etcdctl's v2 front (urfave/cli): help, ``--version``; its key/member commands speak the v2
    HTTP API, which etcd 3.4+ no longer serves by default (kubeadm's etcd does not), so they fail
    the way they fail there."""
    argv = proc.argv[1:]
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        name = argv[i].lstrip("-")
        if name in ("version", "v"):
            proc.write(f"etcdctl version: {version}\nAPI version: 2\n")
            return 0
        if name in ("help", "h"):
            break
        if "=" not in name and name in _V2_VALUED:
            i += 1
        i += 1
    cmd = argv[i] if i < len(argv) and not argv[i].startswith("-") else None
    if cmd is None or cmd in ("help", "h"):
        usage = "A simple command line client for etcd."
        if not api_set:
            usage += ("\n\nWARNING:\n   Environment variable ETCDCTL_API is not set; defaults to etcdctl v2.\n"
                      "   Set environment variable ETCDCTL_API=3 to use v3 API or ETCDCTL_API=2 to use v2 API.")
        width = max(len(c) for c in _V2_COMMANDS) + 2
        cmds = "".join(f"     {c:<{width}}{u}\n" for c, u in _V2_COMMANDS.items())
        proc.write(f"NAME:\n   etcdctl - {usage}\n\nUSAGE:\n   etcdctl [global options] command [command options] "
                   f"[arguments...]\n   \nVERSION:\n   {version}\n   \nCOMMANDS:\n{cmds}"
                   f"     {'help, h':<{width}}Shows a list of commands or help for one command\n\n"
                   "GLOBAL OPTIONS:\n   --endpoints value  a comma-delimited list of machine addresses in the cluster "
                   "(default: \"http://127.0.0.1:2379,http://127.0.0.1:4001\")\n"
                   "   --help, -h         show help\n   --version, -v      print the version\n   \n")
        return 0
    if cmd not in _V2_COMMANDS:
        proc.error(f"No help topic for '{cmd}'\n")
        return 3
    proc.error("Error:  client: response is invalid json. The endpoint is probably not valid etcd cluster endpoint.\n")
    return 4


# -- etcdctl ------------------------------------------------------------------------------
@register_program("etcdctl")
def etcdctl_main(proc):
    """``etcdctl [global flags] COMMAND ...``."""
    version = _client_version(proc)
    api = proc.env.get("ETCDCTL_API", "")
    v3_default = _minor(version) >= (3, 4)  # etcdctl 3.3 (Ubuntu 22.04's etcd-client) defaults to v2
    if api == "2" or (api == "" and not v3_default):
        return _ctlv2(proc, version, api != "")
    if api not in ("", "3"):
        proc.error(f"unsupported API version: {api}\n" if v3_default else f"unsupported API version {api}\n")
        return 1
    args, opts = _parse(proc.argv[1:])
    opts["_version"] = version
    if "version" in opts or args[:1] == ["version"]:
        proc.write(f"etcdctl version: {version}\nAPI version: {'.'.join(map(str, _minor(version)))}\n")
        return 0
    if not args or "help" in opts or "h" in opts:
        proc.write("NAME:\n\tetcdctl - A simple command line client for etcd3.\n\nUSAGE:\n\tetcdctl [flags]\n\n"
                   "COMMANDS:\n\tdel\t\t\tRemoves the specified key or range of keys [key, range_end)\n"
                   "\tendpoint health\t\tChecks the healthiness of endpoints specified in `--endpoints` flag\n"
                   "\tget\t\t\tGets the key or a range of keys\n\tmember list\t\tLists all members in the cluster\n"
                   "\tput\t\t\tPuts the given key into the store\n"
                   "\tsnapshot restore\tRestores an etcd member snapshot to an etcd directory\n"
                   "\tsnapshot save\t\tStores an etcd node backend snapshot to a given file\n"
                   "\tsnapshot status\t\t[deprecated] Gets backend snapshot status of a given file\n")
        return 0
    cmd = args[0]
    fmt = _format(proc, opts)
    if fmt is None:
        return EXIT_BAD_FEATURE
    opts["write-out"] = fmt
    if cmd == "snapshot":
        sub = args[1] if len(args) > 1 else ""
        if sub == "save":
            code = yield from _snapshot_save(proc, args[2:], opts)
            return code
        if sub in ("status", "restore"):
            if _minor(version) >= (3, 5):
                proc.error(f"Deprecated: Use `etcdutl snapshot {sub}` instead.\n\n")
            return _snapshot_status(proc, args[2:], opts) if sub == "status" else _snapshot_restore(proc, args[2:], opts)
        proc.error(f'Error: unknown command "{sub}" for "etcdctl snapshot"\n')
        return 1
    if cmd in ("member", "endpoint", "get", "put", "del"):
        conn = yield from _connect(proc, opts)
        if conn is None:
            return 1
        if cmd == "member":
            if args[1:2] != ["list"]:
                proc.error(f'Error: unknown command "{" ".join(args[1:2])}" for "etcdctl member"\n')
                return 1
            return _member_list(proc, conn, opts)
        if cmd == "endpoint":
            return _endpoint(proc, conn, args[1:], opts)
        return _kv(proc, conn, cmd, args[1:], opts)
    proc.error(f'Error: unknown command "{cmd}" for "etcdctl"\nRun \'etcdctl --help\' for usage.\n')
    return 1


def _snapshot_save(proc: Any, args: list[str], opts: dict[str, str]):
    if len(args) != 1:
        proc.error("Error: snapshot save expects one argument\n")
        return 1
    path = args[0]
    conn = yield from _connect(proc, opts)
    if conn is None:
        return 1
    logs = _minor(opts.get("_version", VERSION)) >= (3, 4)  # 3.3's snapshot save logs nothing
    zap = _zap if logs else (lambda *a, **k: None)
    zap(proc, "info", "snapshot/v3_snapshot.go:65", "created temporary db file", path=f"{path}.part")
    zap(proc, "info", "v3/maintenance.go:212", "opened snapshot stream; downloading")
    zap(proc, "info", "snapshot/v3_snapshot.go:73", "fetching snapshot", endpoint=conn.url)
    data = conn.store.snapshot_bytes()
    try:
        proc.fs.write(proc.path(path), data, mode=0o600, uid=proc.uid, gid=proc.uid)
    except FsError as e:
        proc.error(f"Error: could not open {path}.part ({getattr(e, 'message', e)})\n")
        return 1
    from .etcd import _human_bytes

    zap(proc, "info", "v3/maintenance.go:220", "completed snapshot read; closing")
    zap(proc, "info", "snapshot/v3_snapshot.go:88", "fetched snapshot", endpoint=conn.url,
        size=_human_bytes(len(data)), took="now")
    zap(proc, "info", "snapshot/v3_snapshot.go:97", "saved", path=path)
    proc.write(f"Snapshot saved at {path}\n")
    return 0


def _read_snapshot(proc: Any, path: str) -> bytes | None:
    try:
        return proc.fs.read(proc.path(path))
    except FsError:
        proc.error(f"Error: stat {path}: no such file or directory\n")
        return None


def _snapshot_status(proc: Any, args: list[str], opts: dict[str, str]) -> int:
    from .etcd import snapshot_status

    if len(args) != 1:
        proc.error("Error: snapshot status requires exactly one argument\n")
        return 1
    data = _read_snapshot(proc, args[0])
    if data is None:
        return 1
    try:
        st = snapshot_status(data)
    except AivleError as e:
        proc.error(f"Error: {e.message}\n")
        return 1
    fmt = opts.get("write-out", "simple")
    if fmt == "protobuf":
        return _unsupported(proc, fmt)
    if fmt == "table":
        proc.write(st.table())
        if not st.table().endswith("\n"):
            proc.write("\n")
    elif fmt == "fields":
        proc.write(f'"Hash" : {int(st.hash, 16)}\n"Revision" : {st.revision}\n"Keys" : {st.total_keys}\n'
                   f'"Size" : {st.total_size}\n')
    elif fmt == "json":
        proc.write(json.dumps({"hash": int(st.hash, 16), "revision": st.revision, "totalKey": st.total_keys,
                               "totalSize": st.total_size}, separators=(",", ":")) + "\n")
    else:
        proc.write(f"{st}\n")
    return 0


def _snapshot_restore(proc: Any, args: list[str], opts: dict[str, str]) -> int:
    from .components import _ETCD_DATA
    from .etcd import Store

    if len(args) != 1:
        proc.error("Error: snapshot restore requires exactly one argument\n")
        return 1
    path = args[0]
    name = opts.get("name", "default")
    data_dir = proc.path(opts.get("data-dir") or f"{name}.etcd").rstrip("/")
    machine = proc.kernel.owner
    old = _minor(opts.get("_version", VERSION)) < (3, 4)  # etcdctl 3.3: its own words, capnslog lines
    if proc.fs.exists(data_dir):
        proc.error(f'Error: data-dir "{data_dir}" exists\n' if old else
                   f'Error: data-dir "{data_dir}" not empty or could not be read\n')
        return 1
    data = _read_snapshot(proc, path)
    if data is None:
        return 1
    try:
        store = Store.snapshot_restore(data, loop=machine.world.loop)
    except AivleError as e:
        proc.error(f"Error: {e.message}\n")
        return 1
    member = f"{data_dir}/member"
    try:
        for d in (data_dir, member, f"{member}/snap", f"{member}/wal"):
            proc.fs.makedirs(d, mode=0o700)
        proc.fs.write(f"{member}/snap/db", b"", mode=0o600)
    except FsError as e:
        proc.error(f"Error: mkdir {data_dir}: {getattr(e, 'message', e)}\n")
        return 1
    if proc.fs is machine.fs:
        _ETCD_DATA.setdefault(machine, {})[data_dir] = store
    peer = opts.get("initial-advertise-peer-urls", "http://localhost:2380")
    mid = _member_id(name)
    if old:
        when = machine.world.datetime(proc.now).strftime("%Y-%m-%d %H:%M:%S.000000")
        proc.error(f"{when} I | etcdserver/membership: added member {mid} [{peer}] to cluster "
                   f"{_cluster_id(name):x}\n")
        return 0
    where = {"path": path, "wal-dir": f"{member}/wal", "data-dir": data_dir, "snap-dir": f"{member}/snap"}
    ts = _ts(proc)
    proc.error(f"{ts}\tinfo\tsnapshot/v3_snapshot.go:260\trestoring snapshot\t{json.dumps(where)}\n")
    proc.error(f"{ts}\tinfo\tmembership/store.go:141\tTrimming membership information from the backend...\n")
    proc.error(f"{ts}\tinfo\tmembership/cluster.go:421\tadded member\t"
               f"{json.dumps({'cluster-id': format(_cluster_id(name), 'x'), 'local-member-id': '0', 'added-peer-id': mid, 'added-peer-peer-urls': [peer]})}\n")
    proc.error(f"{ts}\tinfo\tsnapshot/v3_snapshot.go:287\trestored snapshot\t{json.dumps(where)}\n")
    return 0


def _ids(proc: Any, conn: _Conn) -> tuple[int, int, int, str]:
    """``(cluster_id, member_id, raft_term, name)`` of the member behind ``conn``."""
    p = _etcd_process(proc, conn.endpoint) or _etcd_anywhere(proc, conn.endpoint)
    name = _flags_of(p).get("name", getattr(conn.endpoint, "name", "default"))
    mid = getattr(conn.store, "member_id", "") or _member_id(name)
    cid = getattr(conn.store, "cluster_id", "")
    cluster_id = int(cid, 16) if isinstance(cid, str) and cid else _cluster_id(name)
    term = int(getattr(conn.store, "raft_term", 0) or 2)  # a lone member elects itself at term 2
    return cluster_id, int(mid, 16), term, name


def _header(ids: tuple, revision: int = 0) -> dict:
    """A ``ResponseHeader`` as ``encoding/json`` writes it (zero fields left out)."""
    h = {"cluster_id": ids[0], "member_id": ids[1], "revision": revision, "raft_term": ids[2]}
    return {k: v for k, v in h.items() if v}


def _fields_header(proc: Any, ids: tuple, revision: int = 0) -> None:
    proc.write(f'"ClusterID" : {ids[0]}\n"MemberID" : {ids[1]}\n"Revision" : {revision}\n"RaftTerm" : {ids[2]}\n')


def _kv_json(kv: Any) -> dict:
    d = {"key": _b64(kv.key), "create_revision": kv.create_revision, "mod_revision": kv.mod_revision,
         "version": kv.version, "value": _b64(kv.value), "lease": getattr(kv, "lease", 0)}
    return {k: v for k, v in d.items() if v}


def _fields_kv(proc: Any, kv: Any, pfx: str = "") -> None:
    proc.write(f'"{pfx}Key" : {_goquote(kv.key)}\n"{pfx}CreateRevision" : {kv.create_revision}\n'
               f'"{pfx}ModRevision" : {kv.mod_revision}\n"{pfx}Version" : {kv.version}\n'
               f'"{pfx}Value" : {_goquote(kv.value)}\n"{pfx}Lease" : {getattr(kv, "lease", 0)}\n')


# protobuf wire format (``-w protobuf``): proto3, zero scalars left out
def _varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _pb_int(num: int, v: int) -> bytes:
    return _varint(num << 3) + _varint(int(v)) if v else b""


def _pb_bytes(num: int, b: bytes, keep_empty: bool = False) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(b)) + b if (b or keep_empty) else b""


def _pb_header(ids: tuple, revision: int) -> bytes:
    return _pb_bytes(1, _pb_int(1, ids[0]) + _pb_int(2, ids[1]) + _pb_int(3, revision) + _pb_int(4, ids[2]),
                     keep_empty=True)


def _pb_kv(kv: Any) -> bytes:
    return (_pb_bytes(1, kv.key) + _pb_int(2, kv.create_revision) + _pb_int(3, kv.mod_revision)
            + _pb_int(4, kv.version) + _pb_bytes(5, kv.value) + _pb_int(6, getattr(kv, "lease", 0)))


def _member_list(proc: Any, conn: _Conn, opts: dict[str, str]) -> int:
    p = _etcd_process(proc, conn.endpoint) or _etcd_anywhere(proc, conn.endpoint)
    f = _flags_of(p)
    name = f.get("name", getattr(conn.endpoint, "name", "default"))
    peer = f.get("initial-advertise-peer-urls", "http://localhost:2380")
    client = f.get("advertise-client-urls", "http://localhost:2379")
    mid = getattr(conn.store, "member_id", "") or _member_id(name)
    fmt = opts.get("write-out", "simple")
    ids = _ids(proc, conn)
    if fmt == "table":
        from .etcd import _table

        out = _table(["ID", "STATUS", "NAME", "PEER ADDRS", "CLIENT ADDRS", "IS LEARNER"],
                     [[mid, "started", name, peer, client, "false"]])
        proc.write(out if out.endswith("\n") else out + "\n")
    elif fmt == "json":
        _json_line(proc, {"header": _header(ids), "members": [
            {"ID": int(mid, 16), "name": name, "peerURLs": peer.split(","), "clientURLs": client.split(",")}]})
    elif fmt == "fields":
        _fields_header(proc, ids)
        proc.write(f'"ID" : {int(mid, 16)}\n"Name" : {_goquote(name)}\n'
                   + "".join(f'"PeerURL" : {_goquote(u)}\n' for u in peer.split(","))
                   + "".join(f'"ClientURL" : {_goquote(u)}\n' for u in client.split(","))
                   + '"IsLearner" : false\n\n')
    elif fmt == "protobuf":
        member = (_pb_int(1, int(mid, 16)) + _pb_bytes(2, name.encode())
                  + b"".join(_pb_bytes(3, u.encode()) for u in peer.split(","))
                  + b"".join(_pb_bytes(4, u.encode()) for u in client.split(",")))
        hdr = _pb_bytes(1, _pb_int(1, ids[0]) + _pb_int(2, ids[1]) + _pb_int(4, ids[2]), keep_empty=True)
        proc.write(hdr + _pb_bytes(2, member, keep_empty=True))
    else:
        proc.write(f"{mid}, started, {name}, {peer}, {client}, false\n")
    return 0


def _etcd_anywhere(proc: Any, endpoint: Any) -> Any:
    world = proc.kernel.owner.world
    for m in getattr(world, "machines", {}).values() if isinstance(getattr(world, "machines", None), dict) else []:
        for p in m.kernel.processes.values():
            if p.comm == "etcd" and p.ns.net.listeners.get(2379) is endpoint:
                return p
    return None


def _endpoint(proc: Any, conn: _Conn, args: list[str], opts: dict[str, str]) -> int:
    sub = args[0] if args else ""
    fmt = opts.get("write-out", "simple")
    if sub == "health":
        if fmt == "protobuf":
            return _unsupported(proc, fmt)
        took = "8.61432ms"
        try:
            conn.store.get("health")
            error = ""
        except AivleError as e:
            error = f"failed to commit proposal: {e.message}"
        if fmt == "json":
            row: dict = {"endpoint": conn.url, "health": not error, "took": took}
            if error:
                row["error"] = error
            _json_line(proc, [row])
        elif fmt == "table":
            from .etcd import _table

            out = _table(["ENDPOINT", "HEALTH", "TOOK", "ERROR"], [[conn.url, str(not error).lower(), took, error]])
            proc.write(out if out.endswith("\n") else out + "\n")
        elif fmt == "fields":
            proc.write(f'"Endpoint" : {_goquote(conn.url)}\n"Health" : {str(not error).lower()}\n'
                       f'"Took" : {took}\n"Error" : {error}\n\n')
        elif error:
            proc.write(f"{conn.url} is unhealthy: {error}\n")
        else:
            proc.write(f"{conn.url} is healthy: successfully committed proposal: took = {took}\n")
        if error:
            proc.error("Error: unhealthy cluster\n")
            return 1
        return 0
    if sub == "status":
        from .etcd import _human_bytes, _table

        if fmt == "protobuf":
            return _unsupported(proc, fmt)
        ids = _ids(proc, conn)
        mid = format(ids[1], "x")
        store = conn.store
        rev = store.revision
        raft_index = rev  # every write is one Raft entry here
        errors = [str(a) for a in (store.alarm_list() if hasattr(store, "alarm_list") else [])]
        size, in_use = int(store.db_size), int(getattr(store, "db_size_in_use", store.db_size))
        if fmt == "json":
            status = {"header": _header(ids, rev), "version": VERSION, "dbSize": size, "leader": ids[1],
                      "raftIndex": raft_index, "raftTerm": ids[2], "raftAppliedIndex": raft_index,
                      "errors": errors, "dbSizeInUse": in_use}
            _json_line(proc, [{"Endpoint": conn.url, "Status": {k: v for k, v in status.items() if v}}])
        elif fmt == "fields":
            _fields_header(proc, ids, rev)
            proc.write(f'"Version" : {_goquote(VERSION)}\n"DBSize" : {size}\n"Leader" : {ids[1]}\n'
                       f'"IsLearner" : false\n"RaftIndex" : {raft_index}\n"RaftTerm" : {ids[2]}\n'
                       f'"RaftAppliedIndex" : {raft_index}\n"Errors" : {_go_list(errors)}\n'
                       f'"Endpoint" : {_goquote(conn.url)}\n\n')
        else:
            row = [conn.url, mid, VERSION, _human_bytes(size), "true", "false", str(ids[2]), str(raft_index),
                   str(raft_index), ", ".join(errors)]
            if fmt == "table":
                out = _table(["ENDPOINT", "ID", "VERSION", "DB SIZE", "IS LEADER", "IS LEARNER", "RAFT TERM",
                              "RAFT INDEX", "RAFT APPLIED INDEX", "ERRORS"], [row])
                proc.write(out if out.endswith("\n") else out + "\n")
            else:
                proc.write(", ".join(row) + "\n")
        return 0
    proc.error(f'Error: unknown command "{sub}" for "etcdctl endpoint"\n')
    return 1


def _int_opt(opts: dict[str, str], name: str) -> int | None:
    raw = opts.get(name)
    if raw is None:
        return None
    return int(raw)


def _kv(proc: Any, conn: _Conn, cmd: str, args: list[str], opts: dict[str, str]) -> int:
    store = conn.store
    fmt = opts.get("write-out", "simple")
    if fmt == "table":
        return _unsupported(proc, fmt)
    try:
        if cmd == "put":
            if len(args) != 2:
                proc.error("Error: put command needs 1 argument and input from stdin or 2 arguments\n")
                return 1
            store.put(args[0], args[1])
            return _print_write(proc, conn, fmt, None)
        if cmd == "del":
            if not args:
                proc.error("Error: del command needs one argument as key and an optional argument as range_end\n")
                return 1
            deleted = store.delete(args[0], prefix="prefix" in opts, range_end=args[1] if len(args) > 1 else None)
            return _print_write(proc, conn, fmt, deleted)
        if not args:
            proc.error("Error: get command needs one argument as key and an optional argument as range_end\n")
            return 1
        try:
            limit, rev = _int_opt(opts, "limit"), _int_opt(opts, "rev")
        except ValueError:
            bad = "limit" if not str(opts.get("limit", "0")).lstrip("-").isdigit() else "rev"
            proc.error(f'Error: invalid argument "{opts[bad]}" for "--{bad}" flag: strconv.ParseInt: parsing '
                       f'"{opts[bad]}": invalid syntax\n')
            return 1
        keys_only = "keys-only" in opts
        resp = store.get(args[0], prefix="prefix" in opts, range_end=args[1] if len(args) > 1 else None,
                         revision=rev or None, limit=limit or None, keys_only=keys_only,
                         count_only="count-only" in opts)
    except AivleError as e:
        proc.error(f"Error: {e.message}\n")
        return 1
    header_rev = resp.header.revision if resp.header is not None else store.revision
    if fmt in ("json", "fields", "protobuf"):
        ids = _ids(proc, conn)
        if fmt == "json":
            out: dict = {"header": _header(ids, header_rev)}
            if resp.kvs:
                out["kvs"] = [_kv_json(kv) for kv in resp.kvs]
            if resp.more:
                out["more"] = True
            if resp.count:
                out["count"] = resp.count
            _json_line(proc, out)
        elif fmt == "fields":
            _fields_header(proc, ids, header_rev)
            for kv in resp.kvs:
                _fields_kv(proc, kv)
            proc.write(f'"More" : {str(bool(resp.more)).lower()}\n"Count" : {resp.count}\n')
        else:
            proc.write(_pb_header(ids, header_rev) + b"".join(_pb_bytes(2, _pb_kv(kv), keep_empty=True)
                                                             for kv in resp.kvs)
                       + _pb_int(3, int(bool(resp.more))) + _pb_int(4, resp.count))
        return 0
    if "count-only" in opts:
        proc.write(f"{resp.count}\n")
        return 0
    value_only = "print-value-only" in opts
    for kv in resp.kvs:
        if not value_only:
            proc.write(_kv_text(kv.key) + "\n")
        proc.write("\n" if keys_only else _kv_text(kv.value) + "\n")
    return 0


def _print_write(proc: Any, conn: _Conn, fmt: str, deleted: int | None) -> int:
    """What ``put`` (``deleted`` None) or ``del`` prints in each format."""
    if fmt == "simple":
        proc.write("OK\n" if deleted is None else f"{deleted}\n")
        return 0
    ids = _ids(proc, conn)
    rev = conn.store.revision
    if fmt == "json":
        out: dict = {"header": _header(ids, rev)}
        if deleted:
            out["deleted"] = deleted
        _json_line(proc, out)
    elif fmt == "fields":
        _fields_header(proc, ids, rev)
        if deleted is not None:
            proc.write(f'"Deleted" : {deleted}\n')
    else:
        proc.write(_pb_header(ids, rev) + (_pb_int(2, deleted) if deleted else b""))
    return 0


# -- etcdutl ------------------------------------------------------------------------------
@register_program("etcdutl")
def etcdutl_main(proc):
    """``etcdutl snapshot restore|status FILE ...``: offline tools on a data dir or a snapshot file."""
    args, opts = _parse(proc.argv[1:])
    if "version" in opts or args[:1] == ["version"]:
        version = _client_version(proc)
        proc.write(f"etcdutl version: {version}\nAPI version: {'.'.join(map(str, _minor(version)))}\n")
        return 0
    fmt = _format(proc, opts)
    if fmt is None:
        return EXIT_BAD_FEATURE
    opts["write-out"] = fmt
    if args[:1] == ["snapshot"] and len(args) > 1 and args[1] == "restore":
        return _snapshot_restore(proc, args[2:], opts)
    if args[:1] == ["snapshot"] and len(args) > 1 and args[1] == "status":
        return _snapshot_status(proc, args[2:], opts)
    proc.error(f'Error: unknown command "{" ".join(args[:2])}" for "etcdutl"\n')
    return 1
