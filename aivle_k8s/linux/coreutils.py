"""The core utilities: ``ls``, ``cat``, ``grep``, ``sed``, ``ps``, ``uname``, ``test`` and friends.

Each utility is a program (:func:`~aivle_k8s.linux.kernel.register_program`)
that works on its process: its filesystem (``proc.fs``), working directory,
user id and namespaces. Output and error messages follow GNU coreutils /
procps / util-linux as shipped with Ubuntu 22.04, so what a student sees
here is what a real terminal shows.

Files are written with the permissions of the calling user: a non-root user
(uid != 0) may only write where the mode bits allow it — their home
directory, ``/tmp``, or files they own (:func:`can_write`).

>>> import aivle_k8s as ak
>>> m = ak.World().machine("m")
>>> m.sh("printf '%s\\\\n' b a c | sort | head -n 2").stdout
'a\\nb\\n'
>>> m.sh("touch /etc/x").stderr
"touch: cannot touch '/etc/x': Permission denied\\n"
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import posixpath
import re
import shlex
import weakref
from typing import Any, Generator

from ..sim.clock import any_of
from ..sim.errors import AivleError, FsError
from .fs import Entry, join, normpath, parent_dirs
from .kernel import SIGNAL_NAMES, SIGNALS, ExecError, register_program

__all__ = [
    "memory_summary",
    "can_read",
    "can_write",
    "can_access",
    "user_name",
    "user_home",
    "user_uid",
    "user_gid",
    "group_name",
    "bre_to_python",
    "ere_to_python",
    "mode_string",
    "human_size",
]

Gen = Generator[Any, Any, Any]
_EPOCH = _dt.datetime(2025, 3, 3, 9, 0, 0, tzinfo=_dt.timezone.utc)

# ---------------------------------------------------------------------------
# users, groups and permissions


def _isnum(s: str) -> bool:
    """ASCII decimal digits only (``str.isdigit`` also accepts ``²``, which ``int()`` rejects)."""
    return bool(s) and s.isascii() and s.isdigit()


def _table(proc, path: str) -> list[list[str]]:
    try:
        text = proc.fs.read_text(path)
    except (FsError, AivleError):
        return []
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def _passwd(proc) -> list[list[str]]:
    return [row for row in _table(proc, "/etc/passwd") if len(row) >= 7]


def user_name(proc, uid: int) -> str:
    """The login name of ``uid`` from the process's /etc/passwd (the number if unknown)."""
    for row in _passwd(proc):
        if row[2] == str(uid):
            return row[0]
    return str(uid)


def user_uid(proc, name: str) -> int | None:
    for row in _passwd(proc):
        if row[0] == name:
            try:
                return int(row[2])
            except ValueError:
                return None
    return int(name) if _isnum(name) else None


def user_home(proc, name: str) -> str | None:
    for row in _passwd(proc):
        if row[0] == name:
            return row[5]
    return None


def user_gid(proc, uid: int) -> int:
    for row in _passwd(proc):
        if row[2] == str(uid):
            try:
                return int(row[3])
            except ValueError:
                break
    return uid


def group_name(proc, gid: int) -> str:
    for row in _table(proc, "/etc/group"):
        if len(row) >= 3 and row[2] == str(gid):
            return row[0]
    return str(gid)


def group_gid(proc, name: str) -> int | None:
    for row in _table(proc, "/etc/group"):
        if len(row) >= 3 and row[0] == name:
            try:
                return int(row[2])
            except ValueError:
                return None
    return int(name) if _isnum(name) else None


def user_groups(proc, uid: int) -> list[int]:
    """The primary group first, then the supplementary groups in /etc/group order."""
    name = user_name(proc, uid)
    groups = [user_gid(proc, uid)]
    for row in _table(proc, "/etc/group"):
        if len(row) >= 4 and name in row[3].split(","):
            try:
                gid = int(row[2])
            except ValueError:
                continue
            if gid not in groups:
                groups.append(gid)
    return groups


def default_umask(proc) -> int:
    """Ubuntu's umask: 0022 for root, 0002 for users (with their own group)."""
    return 0o022 if proc.uid == 0 else 0o002


def _allowed(proc, entry: Entry, bit: int) -> bool:
    if proc.uid == 0:
        return bit != 1 or entry.is_dir or bool(entry.mode & 0o111)
    if entry.uid == proc.uid:
        return bool(entry.mode & (bit << 6))
    if entry.gid in user_groups(proc, proc.uid):
        return bool(entry.mode & (bit << 3))
    return bool(entry.mode & bit)


def _searchable(proc, path: str) -> bool:
    if proc.uid == 0:
        return True
    for d in parent_dirs(path):
        try:
            e = proc.fs.stat(d)
        except (FsError, AivleError):
            return True  # a missing ancestor is reported as such by the caller
        if e.is_dir and not _allowed(proc, e, 1):
            return False
    return True


def can_access(proc, path: str, bit: int) -> bool:
    """Whether the process may read (4), write (2) or search/execute (1) the existing ``path``."""
    path = join(getattr(proc, "cwd", "/"), path)
    if path == "/dev/null":
        return True
    try:
        entry = proc.fs.stat(path)
    except (FsError, AivleError):
        return False
    return _searchable(proc, path) and _allowed(proc, entry, bit)


def can_read(proc, path: str) -> bool:
    """Whether the process may read ``path`` (True when it does not exist: the caller reports that)."""
    path = join(getattr(proc, "cwd", "/"), path)
    if proc.uid == 0 or not proc.fs.exists(path):
        return True
    return can_access(proc, path, 4)


def can_write(proc, path: str) -> bool:
    """Whether the process may create or change the file at ``path``.

    Root may write anywhere; other users need write permission on the file
    (it is theirs, or its mode allows it) or, for a new file, on its
    directory — in practice their home directory, ``/tmp`` and their own files.
    """
    path = join(getattr(proc, "cwd", "/"), path)
    if proc.uid == 0 or path == "/dev/null":
        return True
    fs = proc.fs
    if not _searchable(proc, path):
        return False
    try:
        entry = fs.stat(path)
    except (FsError, AivleError):
        entry = None
    if entry is not None:
        return _allowed(proc, entry, 2)
    parent = posixpath.dirname(path)
    try:
        pentry = fs.stat(parent)
    except (FsError, AivleError):
        return True  # the caller reports the missing directory
    return _allowed(proc, pentry, 2)


def can_remove(proc, path: str) -> bool:
    """Deleting or renaming needs write permission on the directory (and the sticky bit rule)."""
    if proc.uid == 0:
        return True
    parent = posixpath.dirname(join(proc.cwd, path))
    try:
        pentry = proc.fs.stat(parent)
    except (FsError, AivleError):
        return False
    if not _searchable(proc, join(proc.cwd, path)) or not _allowed(proc, pentry, 2):
        return False
    if pentry.mode & 0o1000:
        try:
            e = proc.fs.stat(join(proc.cwd, path), follow=False)
        except (FsError, AivleError):
            return True
        return e.uid == proc.uid or pentry.uid == proc.uid
    return True


# ---------------------------------------------------------------------------
# time and files

_MTIMES: "weakref.WeakKeyDictionary[Any, dict[str, float]]" = weakref.WeakKeyDictionary()


def touch_mtime(proc, path: str, when: float | None = None) -> None:
    """Remember when ``path`` was last changed (shown by ``ls -l``, ``stat``, used by ``find -newer``)."""
    try:
        table = _MTIMES.setdefault(proc.fs, {})
    except TypeError:
        return
    table[normpath(path)] = proc.kernel.loop.now if when is None else when


def mtime(proc, path: str) -> float:
    table = _MTIMES.get(proc.fs)
    if table is None:
        return 0.0
    return table.get(normpath(path), 0.0)


def _world(proc):
    owner = getattr(proc.kernel, "owner", None)
    return getattr(owner, "world", None)


def sim_datetime(proc, t: float | None = None) -> _dt.datetime:
    """The calendar time of simulated second ``t`` (now by default), in UTC."""
    t = proc.kernel.loop.now if t is None else t
    world = _world(proc)
    if world is not None and hasattr(world, "datetime"):
        return world.datetime(t)
    return _EPOCH + _dt.timedelta(seconds=t)


def mode_string(entry: Entry) -> str:
    """``drwxr-xr-x`` for a directory with mode 0755 (setuid/setgid/sticky included).

    >>> mode_string(Entry.directory(0o1777))
    'drwxrwxrwt'
    """
    kind = {"dir": "d", "symlink": "l", "socket": "s"}.get(entry.kind, "-")
    m = entry.mode
    chars = []
    for shift, special, sch in ((6, 0o4000, "s"), (3, 0o2000, "s"), (0, 0o1000, "t")):
        r = "r" if m & (4 << shift) else "-"
        w = "w" if m & (2 << shift) else "-"
        x = bool(m & (1 << shift))
        if m & special:
            xc = sch if x else sch.upper()
        else:
            xc = "x" if x else "-"
        chars.append(r + w + xc)
    return kind + "".join(chars)


def human_size(n: float, *, suffix_b: bool = False, si: bool = False) -> str:
    """GNU ``-h`` sizes: ``4.0K``, ``39G``, ``512`` (rounded up like coreutils).

    >>> human_size(4096), human_size(220), human_size(41 * 1024**3)
    ('4.0K', '220', '41G')
    """
    import math

    base = 1000 if si else 1024
    units = ["", "K", "M", "G", "T", "P"]
    value = float(n)
    i = 0
    while value >= base and i < len(units) - 1:
        value /= base
        i += 1
    if i == 0:
        return f"{int(n)}" + ("B" if suffix_b else "")
    if value < 10:
        v = math.ceil(value * 10) / 10
        if v >= 10:
            return f"{int(math.ceil(v))}{units[i]}"
        return f"{v:.1f}{units[i]}"
    return f"{int(math.ceil(value))}{units[i]}"


def _blocks(entry: Entry) -> int:
    """1K blocks used (4K granularity)."""
    if entry.is_dir:
        return 4
    if entry.kind == "symlink":
        return 0
    return ((entry.size + 4095) // 4096) * 4


def _inode(path: str) -> int:
    return 100000 + int(hashlib.sha256(path.encode()).hexdigest()[:8], 16) % 900000


def _errno(e: Exception) -> str:
    msg = getattr(e, "message", str(e))
    return msg.rsplit(": ", 1)[-1] if ": " in msg else msg


def _q(name: str) -> str:
    """GNU's shell-escape quoting of a file name in messages: 'x'."""
    if "'" in name:
        return '"' + name + '"'
    return "'" + name + "'"


def _lq(name: str) -> str:
    """GNU's locale quoting (UTF-8): ‘x’."""
    return "\u2018" + name + "\u2019"


def _new_file_owner(proc) -> tuple[int, int]:
    return proc.uid, user_gid(proc, proc.uid)


def _read_input(proc, name: str) -> bytes:
    """The bytes of file ``name`` (``-`` is stdin); raises FsError with the errno text."""
    if name == "-":
        return proc.stdin
    path = proc.path(name)
    entry = proc.fs.stat(path)
    if entry.is_dir:
        raise FsError(f"{name}: Is a directory", errno="EISDIR", path=path)
    if not can_read(proc, path):
        raise FsError(f"{name}: Permission denied", errno="EACCES", path=path)
    return entry.data


def _write_file(proc, path: str, data: bytes, *, append: bool = False, mode: int | None = None) -> None:
    """Write as the process's user: permission checked, new files owned by the user."""
    path = proc.path(path)
    fs = proc.fs
    if not can_write(proc, path):
        raise FsError(f"{path}: Permission denied", errno="EACCES", path=path)
    if fs.exists(path):
        fs.write(path, data, append=append, mode=mode)
    else:
        uid, gid = _new_file_owner(proc)
        fs.write(path, data, mode=(0o666 & ~default_umask(proc)) if mode is None else mode, uid=uid, gid=gid)
    touch_mtime(proc, path)


def _usage(proc, msg: str, code: int = 1) -> int:
    proc.error(f"{proc.comm}: {msg}\nTry '{proc.comm} --help' for more information.\n")
    return code


def _split_flags(argv: list[str], with_value: str = "", long_map: dict | None = None):
    """Split ``argv`` into (flags dict, operands). ``with_value`` lists short options taking a value."""
    flags: dict[str, Any] = {}
    operands: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            operands.extend(argv[i + 1:])
            break
        if a.startswith("--") and long_map is not None:
            name, eq, val = a[2:].partition("=")
            key = long_map.get(name)
            takes_value = False
            if key is None:
                key = long_map.get(name + "=")
                takes_value = key is not None
            if key is None:
                raise _BadOption(a)
            if takes_value:
                if not eq:
                    i += 1
                    if i >= len(argv):
                        raise _BadOption(a, missing=True)
                    val = argv[i]
                flags[key] = val
            else:
                flags[key] = True
            i += 1
            continue
        if a.startswith("-") and len(a) > 1 and not _isnum(a[1:].lstrip("-").replace(".", "")) or (
                a.startswith("-") and len(a) > 1 and a[1] in with_value):
            j = 1
            while j < len(a):
                c = a[j]
                if c in with_value:
                    val = a[j + 1:]
                    if not val:
                        i += 1
                        if i >= len(argv):
                            raise _BadOption("-" + c, missing=True)
                        val = argv[i]
                    flags[c] = val
                    break
                flags[c] = flags.get(c, 0) + 1 if isinstance(flags.get(c), int) else True
                j += 1
            i += 1
            continue
        operands.append(a)
        i += 1
    return flags, operands


class _BadOption(Exception):
    def __init__(self, opt: str, missing: bool = False):
        super().__init__(opt)
        self.opt = opt
        self.missing = missing


def _bad_option(proc, e: _BadOption) -> int:
    if e.missing:
        return _usage(proc, f"option requires an argument -- '{e.opt.lstrip('-')}'")
    if e.opt.startswith("--"):
        return _usage(proc, f"unrecognized option '{e.opt}'")
    return _usage(proc, f"invalid option -- '{e.opt.lstrip('-')[:1]}'")


def _spawn_wait(proc, argv: list[str], *, stdin: bytes = b"", stdout=None, stderr=None, env=None,
                cwd=None, uid=None, ns=None) -> Gen:
    """Run a child to completion; returns (exit code, started?)."""
    try:
        child = proc.kernel.spawn(argv, ns=ns or proc.ns, env=proc.env if env is None else env,
                                  cwd=proc.cwd if cwd is None else cwd, stdin=stdin,
                                  stdout=stdout or proc.stdout, stderr=stderr or proc.stderr,
                                  uid=proc.uid if uid is None else uid, parent=proc if hasattr(proc, "task") else None)
    except ExecError as e:
        return e.exit_code, e
    if child.exit_code is None:
        yield child.exited
    return child.exit_code, None


# ---------------------------------------------------------------------------
# regular expressions (POSIX BRE / ERE -> Python)

_POSIX_CLASSES = {"alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
                  "space": r" \t\n\r\f\v", "blank": r" \t", "punct": r"!-/:-@\[-`{-~", "xdigit": "0-9A-Fa-f",
                  "cntrl": r"\x00-\x1f\x7f", "print": r" -~", "graph": r"!-~", "word": r"\w"}


def _bracket(pat: str, i: int) -> tuple[str, int]:
    """Translate the bracket expression starting at ``pat[i] == '['``; returns (regex, next index)."""
    j = i + 1
    out = ["["]
    if j < len(pat) and pat[j] == "^":
        out.append("^")
        j += 1
    first = True
    while j < len(pat):
        c = pat[j]
        if c == "]" and not first:
            out.append("]")
            return "".join(out), j + 1
        first = False
        if pat.startswith("[:", j):
            k = pat.find(":]", j + 2)
            if k >= 0:
                out.append(_POSIX_CLASSES.get(pat[j + 2:k], ""))
                j = k + 2
                continue
        if pat.startswith("[=", j) or pat.startswith("[.", j):
            k = pat.find(pat[j + 1] + "]", j + 2)
            if k >= 0:
                out.append(re.escape(pat[j + 2:k]))
                j = k + 2
                continue
        if c in "\\[]^":
            out.append("\\" + c)
        elif c == "-" and (j + 1 < len(pat) and pat[j + 1] == "]"):
            out.append("\\-")
        else:
            out.append(c)
        j += 1
    raise re.error("unterminated bracket")


def bre_to_python(pat: str, *, extended: bool = False) -> str:
    r"""Translate a POSIX basic (or, with ``extended``, extended) regex to Python syntax.

    >>> bre_to_python(r"^\(.*\)$")
    '^(.*)$'
    >>> bre_to_python("a+b?(c)")
    'a\\+b\\?\\(c\\)'
    """
    out: list[str] = []
    i = 0
    n = len(pat)
    can_repeat = False  # is there an atom before us that `*` could repeat?
    while i < n:
        c = pat[i]
        at_start = not out or out[-1] in ("(", "|", "^")
        if c == "\\" and i + 1 < n:
            d = pat[i + 1]
            i += 2
            if not extended and d in "(){}|+?":
                if d == "(":
                    out.append("(")
                    can_repeat = False
                elif d == ")":
                    out.append(")")
                    can_repeat = True
                elif d == "|":
                    out.append("|")
                    can_repeat = False
                elif d == "{":
                    k = pat.find("\\}", i)
                    if k < 0 or not can_repeat:
                        out.append(re.escape("{"))
                    else:
                        out.append("{" + pat[i:k] + "}")
                        i = k + 2
                else:
                    out.append(d if can_repeat else re.escape(d))
                continue
            if d == "<":
                out.append(r"\b(?=\w)")
            elif d == ">":
                out.append(r"\b(?<=\w)")
            elif d in "bBwWsS":
                out.append("\\" + d)
                can_repeat = d not in "bB"
            elif _isnum(d) and d != "0":
                out.append("\\" + d)
                can_repeat = True
            elif d == "n":
                out.append("\n")
                can_repeat = True
            elif d == "t":
                out.append("\t")
                can_repeat = True
            elif d == "`":
                out.append(r"\A")
            elif d == "'":
                out.append(r"\Z")
            else:
                out.append(re.escape(d))
                can_repeat = True
            continue
        if c == "[":
            try:
                text, i = _bracket(pat, i)
            except re.error:
                out.append(re.escape("["))
                i += 1
                can_repeat = True
                continue
            out.append(text)
            can_repeat = True
            continue
        if c == "*":
            if not can_repeat or (not extended and at_start):
                out.append(re.escape("*"))
                can_repeat = True
            else:
                out.append("*")
                can_repeat = False
            i += 1
            continue
        if extended and c in "+?":
            out.append(c if can_repeat else re.escape(c))
            can_repeat = False if can_repeat else True
            i += 1
            continue
        if extended and c == "{":
            m = re.match(r"\{(\d*)(,?)(\d*)\}", pat[i:])
            if m and can_repeat and (m.group(1) or m.group(3)):
                out.append(m.group())
                i += len(m.group())
                can_repeat = False
            else:
                out.append(re.escape("{"))
                i += 1
                can_repeat = True
            continue
        if extended and c in "()|":
            out.append(c)
            can_repeat = c == ")"
            i += 1
            continue
        if c == "^":
            if extended or at_start:
                out.append("^")
            else:
                out.append(re.escape("^"))
            i += 1
            continue
        if c == "$":
            rest = pat[i + 1:]
            if extended or rest == "" or rest.startswith("\\)") or rest.startswith("\\|"):
                out.append("$")
            else:
                out.append(re.escape("$"))
            i += 1
            continue
        if c == ".":
            out.append(".")
        else:
            out.append(re.escape(c) if c in "(){}|+?" or not c.isalnum() and c not in " _-/:,=@%#'\"!<>&;~" else c)
        can_repeat = True
        i += 1
    return "".join(out)


def ere_to_python(pat: str) -> str:
    """Translate a POSIX extended regex (``grep -E``, ``[[ =~ ]]``) to Python syntax."""
    return bre_to_python(pat, extended=True)


# ---------------------------------------------------------------------------
# test / [

UNARY_TESTS = {"-e", "-f", "-d", "-s", "-r", "-w", "-x", "-L", "-h", "-z", "-n", "-b", "-c", "-p", "-S",
               "-g", "-u", "-k", "-O", "-G", "-t", "-N", "-a"}
_BINARY_TESTS = {"=", "==", "!=", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot", "-ef"}


class _TestError(Exception):
    pass


def unary_test(proc, op: str, arg: str) -> bool:
    """``test OP ARG`` for a unary operator."""
    if op == "-z":
        return arg == ""
    if op == "-n":
        return arg != ""
    if op == "-t":
        return False
    path = proc.path(arg) if arg else ""
    if not arg:
        return False
    fs = proc.fs
    if op in ("-L", "-h"):
        try:
            return fs.stat(path, follow=False).kind == "symlink"
        except (FsError, AivleError):
            return False
    if path in ("/dev/null", "/dev/zero", "/dev/tty"):
        return op in ("-e", "-a", "-c", "-r", "-w")
    try:
        entry = fs.stat(path)
    except (FsError, AivleError):
        return False
    if op in ("-e", "-a"):
        return True
    if op == "-f":
        return entry.is_file
    if op == "-S":
        return entry.kind == "socket"
    if op == "-d":
        return entry.is_dir
    if op == "-s":
        return entry.is_dir or entry.size > 0
    if op == "-r":
        return can_access(proc, path, 4)
    if op == "-w":
        return can_write(proc, path)
    if op == "-x":
        return can_access(proc, path, 1)
    if op == "-u":
        return bool(entry.mode & 0o4000)
    if op == "-g":
        return bool(entry.mode & 0o2000)
    if op == "-k":
        return bool(entry.mode & 0o1000)
    if op == "-O":
        return entry.uid == proc.uid
    if op == "-G":
        return entry.gid == user_gid(proc, proc.uid)
    return False


def _int_arg(proc, s: str) -> int:
    t = s.strip()
    if re.fullmatch(r"[+-]?[0-9]+", t):
        return int(t)
    if getattr(proc, "dash", False):
        raise _TestError(f"Illegal number: {s}")
    raise _TestError(f"{s}: integer expression expected")


def binary_test(proc, a: str, op: str, b: str) -> bool:
    if op in ("=", "=="):
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == ">":
        return a > b
    if op in ("-eq", "-ne", "-lt", "-le", "-gt", "-ge"):
        x, y = _int_arg(proc, a), _int_arg(proc, b)
        return {"-eq": x == y, "-ne": x != y, "-lt": x < y, "-le": x <= y, "-gt": x > y, "-ge": x >= y}[op]
    if op in ("-nt", "-ot", "-ef"):
        fa, fb = proc.path(a), proc.path(b)
        ea, eb = proc.fs.exists(fa), proc.fs.exists(fb)
        if op == "-ef":
            return ea and eb and proc.fs.resolve(fa) == proc.fs.resolve(fb)
        ta, tb = mtime(proc, fa), mtime(proc, fb)
        if op == "-nt":
            return ea and (not eb or ta > tb)
        return eb and (not ea or ta < tb)
    raise _TestError(f"{op}: binary operator expected")


def _test_eval(proc, args: list[str]) -> bool:
    dash = getattr(proc, "dash", False)

    def binop(op: str) -> bool:
        return op in _BINARY_TESTS and not (dash and op == "==")

    def one(a):
        return a[0] != ""

    def two(a):
        if a[0] == "!":
            return not one(a[1:])
        if a[0] in UNARY_TESTS:
            return unary_test(proc, a[0], a[1])
        if dash:
            raise _TestError(f"{a[0]}: unexpected operator")
        raise _TestError(f"{a[0]}: unary operator expected")

    def three(a):
        if binop(a[1]):
            return binary_test(proc, a[0], a[1], a[2])
        if a[1] == "-a":
            return one(a[:1]) and one(a[2:])
        if a[1] == "-o":
            return one(a[:1]) or one(a[2:])
        if a[0] == "!":
            return not two(a[1:])
        if a[0] == "(" and a[2] == ")":
            return one(a[1:2])
        if dash:
            raise _TestError(f"{a[0]}: unexpected operator")
        raise _TestError(f"{a[1]}: binary operator expected")

    def four(a):
        if a[0] == "!":
            return not three(a[1:])
        if a[0] == "(" and a[3] == ")":
            return two(a[1:3])
        return general(a)

    def general(a):
        pos = 0

        def or_e():
            nonlocal pos
            v = and_e()
            while pos < len(a) and a[pos] == "-o":
                pos += 1
                r = and_e()
                v = v or r
            return v

        def and_e():
            nonlocal pos
            v = not_e()
            while pos < len(a) and a[pos] == "-a":
                pos += 1
                r = not_e()
                v = v and r
            return v

        def not_e():
            nonlocal pos
            if pos < len(a) and a[pos] == "!":
                pos += 1
                return not not_e()
            return prim()

        def prim():
            nonlocal pos
            if pos >= len(a):
                raise _TestError("argument expected")
            if a[pos] == "(":
                pos += 1
                v = or_e()
                if pos >= len(a) or a[pos] != ")":
                    raise _TestError("`)' expected")
                pos += 1
                return v
            if pos + 2 < len(a) + 0 and pos + 1 < len(a) and binop(a[pos + 1]) and pos + 2 < len(a):
                v = binary_test(proc, a[pos], a[pos + 1], a[pos + 2])
                pos += 3
                return v
            if a[pos] in UNARY_TESTS and pos + 1 < len(a):
                v = unary_test(proc, a[pos], a[pos + 1])
                pos += 2
                return v
            v = a[pos] != ""
            pos += 1
            return v

        v = or_e()
        if pos != len(a):
            raise _TestError("too many arguments")
        return v

    n = len(args)
    if n == 0:
        return False
    if n == 1:
        return one(args)
    if n == 2:
        return two(args)
    if n == 3:
        return three(args)
    if n == 4:
        return four(args)
    return general(args)


@register_program("test")
def cmd_test(proc) -> int:
    """``test EXPRESSION``: exit 0 if true, 1 if false, 2 on a malformed expression."""
    args = proc.argv[1:]
    try:
        return 0 if _test_eval(proc, args) else 1
    except _TestError as e:
        proc.error(f"{proc.comm}: {e}\n")
        return 2


@register_program("[")
def bracket(proc) -> int:
    """``[ EXPRESSION ]``."""
    args = proc.argv[1:]
    if not args or args[-1] != "]":
        proc.error(f"{proc.comm}: missing ]\n" if getattr(proc, "dash", False) else f"{proc.comm}: missing `]'\n")
        return 2
    try:
        return 0 if _test_eval(proc, args[:-1]) else 1
    except _TestError as e:
        proc.error(f"{proc.comm}: {e}\n")
        return 2


# ---------------------------------------------------------------------------
# echo, printf

_ECHO_ESCAPES = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
                 "v": "\v", "\\": "\\"}


def _echo_unescape(text: str) -> tuple[str, bool]:
    """Interpret echo -e escapes; returns (text, stop) where stop means ``\\c`` was seen."""
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            d = text[i + 1]
            if d in _ECHO_ESCAPES:
                out.append(_ECHO_ESCAPES[d]); i += 2; continue
            if d == "c":
                return "".join(out), True
            if d == "0":
                m = re.match(r"[0-7]{0,3}", text[i + 2:])
                out.append(chr(int(m.group() or "0", 8) & 0xFF)); i += 2 + len(m.group()); continue
            if d == "x":
                m = re.match(r"[0-9a-fA-F]{1,2}", text[i + 2:])
                if m:
                    out.append(chr(int(m.group(), 16))); i += 2 + len(m.group()); continue
        out.append(c)
        i += 1
    return "".join(out), False


@register_program("echo")
def echo(proc) -> int:
    """``echo [-neE] [STRING...]`` (dash's echo always interprets backslash escapes)."""
    args = proc.argv[1:]
    newline = True
    escapes = bool(getattr(proc, "dash", False))
    if getattr(proc, "dash", False):
        if args and args[0] == "-n":
            newline = False
            args = args[1:]
    else:
        while args and re.fullmatch(r"-[neE]+", args[0]):
            for c in args[0][1:]:
                if c == "n":
                    newline = False
                elif c == "e":
                    escapes = True
                else:
                    escapes = False
            args = args[1:]
    text = " ".join(args)
    if escapes:
        text, stop = _echo_unescape(text)
        if stop:
            proc.write(text)
            return 0
    proc.write(text + ("\n" if newline else ""))
    return 0


_PRINTF_SPEC = re.compile(r"%([-+ #0']*)(\*|\d+)?(?:\.(\*|\d*))?([diouxXfFeEgGcsbq%])")


def _printf_escapes(text: str) -> tuple[str, bool]:
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            d = text[i + 1]
            if d in _ECHO_ESCAPES:
                out.append(_ECHO_ESCAPES[d]); i += 2; continue
            if d in '"\'?':
                out.append(d); i += 2; continue
            if d in "01234567":
                m = re.match(r"[0-7]{1,3}", text[i + 1:])
                out.append(chr(int(m.group(), 8) & 0xFF)); i += 1 + len(m.group()); continue
            if d == "x":
                m = re.match(r"[0-9a-fA-F]{1,2}", text[i + 2:])
                if m:
                    out.append(chr(int(m.group(), 16))); i += 2 + len(m.group()); continue
            if d == "c":
                return "".join(out), True
        out.append(c)
        i += 1
    return "".join(out), False


@register_program("printf")
def printf(proc) -> int:
    """``printf FORMAT [ARGUMENT...]`` (the format is reused while arguments remain)."""
    args = proc.argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        proc.error(f"{proc.comm}: usage: printf [-v var] format [arguments]\n")
        return 2 if getattr(proc, "builtin", False) else 1
    fmt, values = args[0], args[1:]
    status = 0
    out: list[str] = []

    def number(v: str, kind: str):
        nonlocal status
        s = v.strip()
        if s[:1] in "'\"" and len(s) >= 2:
            return ord(s[1])
        try:
            if kind == "f":
                return float(s) if s else 0.0
            if re.fullmatch(r"[+-]?0[xX][0-9a-fA-F]+", s):
                return int(s, 16)
            if re.fullmatch(r"[+-]?0[0-7]+", s):
                return int(s, 8)
            return int(s) if s else 0
        except ValueError:
            proc.error(f"{proc.comm}: {v}: invalid number\n")
            status = 1
            m = re.match(r"[+-]?\d+(\.\d+)?" if kind == "f" else r"[+-]?\d+", s)
            if m:
                return float(m.group()) if kind == "f" else int(m.group())
            return 0.0 if kind == "f" else 0

    idx = 0
    while True:
        consumed_any = False
        pos = 0
        stop = False
        while pos < len(fmt):
            c = fmt[pos]
            if c == "\\":
                seg_end = pos + 2
                m = re.match(r"\\(?:[0-7]{1,3}|x[0-9a-fA-F]{1,2}|.)", fmt[pos:], re.S)
                seg_end = pos + (len(m.group()) if m else 1)
                text, stop = _printf_escapes(fmt[pos:seg_end])
                out.append(text)
                pos = seg_end
                if stop:
                    break
                continue
            if c == "%":
                m = _PRINTF_SPEC.match(fmt, pos)
                if not m:
                    proc.error(f"{proc.comm}: `{fmt[pos:pos + 2]}': invalid format character\n" if getattr(proc, "builtin", False)
                               else f"{proc.comm}: %{fmt[pos + 1:pos + 2]}: invalid conversion specification\n")
                    proc.write("".join(out))
                    return 1
                flags, width, prec, conv = m.groups()
                pos = m.end()
                if conv == "%":
                    out.append("%")
                    continue
                if width == "*":
                    width = str(number(values[idx], "d")) if idx < len(values) else "0"
                    idx += 1
                if prec == "*":
                    prec = str(number(values[idx], "d")) if idx < len(values) else "0"
                    idx += 1
                arg = values[idx] if idx < len(values) else None
                if arg is not None:
                    consumed_any = True
                idx += 1
                spec = "%" + flags.replace("'", "") + (width or "") + ("." + prec if prec is not None else "")
                if conv in "diouxX":
                    v = int(number(arg, "d")) if arg is not None else 0
                    pyconv = "d" if conv in "diu" else conv
                    if conv == "u" and v < 0:
                        v += 1 << 64
                    if conv in "oxX" and v < 0:
                        v += 1 << 64
                    out.append((spec + pyconv) % v)
                elif conv in "fFeEgG":
                    v = float(number(arg, "f")) if arg is not None else 0.0
                    out.append((spec + conv) % v)
                elif conv == "c":
                    out.append((spec + "s") % ((arg or "")[:1]))
                elif conv == "b":
                    text, stop = _echo_unescape(arg or "")
                    out.append((spec + "s") % text)
                    if stop:
                        break
                elif conv == "q":
                    out.append((spec + "s") % shlex.quote(arg or "''") if arg else "''")
                else:
                    out.append((spec + "s") % (arg or ""))
                continue
            out.append(c)
            pos += 1
        if stop or idx >= len(values) or not consumed_any:
            break
    proc.write("".join(out))
    return status


# ---------------------------------------------------------------------------
# kill


def _parse_signal(spec: str) -> int | None:
    s = spec.upper().removeprefix("SIG")
    if _isnum(s):
        n = int(s)
        return n if 0 <= n <= 64 else None
    return SIGNALS.get(s)


def _host_pid(proc, local: int) -> int | None:
    for host, lp in proc.ns.pid.members.items():
        if lp == local:
            return host
    return None


@register_program("kill")
def kill(proc) -> int:
    """``kill [-s SIGNAL | -SIGNAL] PID...`` and ``kill -l``; pids are those of the caller's pid namespace."""
    args = proc.argv[1:]
    sig = SIGNALS["TERM"]
    if not args:
        proc.error(f"{proc.comm}: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]\n")
        return 2
    if args[0] in ("-l", "-L", "--list"):
        if len(args) > 1:
            for a in args[1:]:
                if _isnum(a):
                    n = int(a)
                    n = n - 128 if n > 128 else n
                    if n in SIGNAL_NAMES:
                        proc.write(SIGNAL_NAMES[n] + "\n")
                    else:
                        proc.error(f"{proc.comm}: {a}: invalid signal specification\n")
                        return 1
                else:
                    n = _parse_signal(a)
                    if n is None:
                        proc.error(f"{proc.comm}: {a}: invalid signal specification\n")
                        return 1
                    proc.write(f"{n}\n")
            return 0
        names = [(n, SIGNAL_NAMES[n]) for n in sorted(SIGNAL_NAMES)]
        proc.write(" ".join(f"{n:2d}) SIG{name}" for n, name in names) + "\n")
        return 0
    if args[0] in ("-s", "-n"):
        if len(args) < 2:
            proc.error(f"{proc.comm}: {args[0]}: option requires an argument\n")
            return 2
        s = _parse_signal(args[1])
        if s is None:
            proc.error(f"{proc.comm}: {args[1]}: invalid signal specification\n")
            return 1
        sig = s
        args = args[2:]
    elif args[0].startswith("-") and len(args[0]) > 1 and args[0] != "--":
        s = _parse_signal(args[0][1:])
        if s is None:
            proc.error(f"{proc.comm}: {args[0][1:]}: invalid signal specification\n")
            return 1
        sig = s
        args = args[1:]
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        proc.error(f"{proc.comm}: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]\n")
        return 2
    status = 0
    for a in args:
        try:
            local = int(a)
        except ValueError:
            proc.error(f"{proc.comm}: {a}: arguments must be process or job IDs\n")
            status = 1
            continue
        host = _host_pid(proc, local)
        target = proc.kernel.processes.get(host) if host is not None else None
        if target is None:
            proc.error(f"{proc.comm}: ({a}) - No such process\n")
            status = 1
            continue
        if proc.uid != 0 and target.uid != proc.uid:
            proc.error(f"{proc.comm}: ({a}) - Operation not permitted\n")
            status = 1
            continue
        if sig == 0:
            continue
        proc.kernel.signal(host, sig)
    return status


BUILTIN_UTILS = {"echo": echo, "printf": printf, "test": cmd_test, "[": bracket, "kill": kill}


# ---------------------------------------------------------------------------
# trivial programs


@register_program("true")
def true(proc) -> int:
    return 0


@register_program("false")
def false(proc) -> int:
    return 1


@register_program("pwd")
def pwd(proc) -> int:
    """``pwd [-LP]``."""
    cwd = proc.cwd
    if "-P" in proc.argv[1:]:
        try:
            cwd = proc.fs.resolve(cwd)
        except FsError:
            pass
    proc.write(cwd + "\n")
    return 0


@register_program("yes")
def yes(proc) -> Gen:
    """``yes [STRING]``: into a pipe it stops when the pipe is full (like SIGPIPE); else it runs until killed."""
    line = (" ".join(proc.argv[1:]) or "y") + "\n"
    if getattr(proc.stdout, "pipe", False):
        proc.write(line * max(1, 65536 // len(line)))
        return 141
    while True:
        proc.write(line * 100)
        yield proc.sleep(1.0)


@register_program("sleep")
def sleep(proc) -> Gen:
    """``sleep NUMBER[SUFFIX]...``: simulated seconds (``s``, ``m``, ``h``, ``d``, ``infinity``)."""
    args = [a for a in proc.argv[1:] if a != "--"]
    if not args:
        return _usage(proc, "missing operand")
    total = 0.0
    for a in args:
        if a in ("inf", "infinity"):
            yield proc.forever()
            return 0
        m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", a)
        if not m:
            return _usage(proc, f"invalid time interval {_lq(a)}")
        total += float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    if total > 0:
        yield proc.sleep(total)
    return 0


# ---------------------------------------------------------------------------
# identity and system information


@register_program("whoami")
def whoami(proc) -> int:
    name = user_name(proc, proc.uid)
    if name == str(proc.uid) and proc.uid != 0:
        proc.error(f"whoami: cannot find name for user ID {proc.uid}\n")
        return 1
    proc.write(("root" if proc.uid == 0 and name == "0" else name) + "\n")
    return 0


@register_program("id")
def id_(proc) -> int:
    """``id [-u|-g|-G] [-n] [USER]``."""
    try:
        flags, ops = _split_flags(proc.argv[1:], long_map={"user": "u", "group": "g", "groups": "G", "name": "n",
                                                            "real": "r"})
    except _BadOption as e:
        return _bad_option(proc, e)
    uid = proc.uid
    if ops:
        u = user_uid(proc, ops[0])
        if u is None or (not _isnum(ops[0]) and user_name(proc, u) != ops[0]):
            proc.error(f"id: {_q(ops[0])}: no such user\n")
            return 1
        uid = u
    gid = user_gid(proc, uid)
    groups = user_groups(proc, uid)
    if uid == 0 and not _passwd(proc):
        groups = [0]
    name = lambda u: "root" if u == 0 and user_name(proc, 0) == "0" else user_name(proc, u)
    gname = lambda g: "root" if g == 0 and group_name(proc, 0) == "0" else group_name(proc, g)
    n = "n" in flags
    if "u" in flags:
        proc.write((name(uid) if n else str(uid)) + "\n")
    elif "g" in flags:
        proc.write((gname(gid) if n else str(gid)) + "\n")
    elif "G" in flags:
        proc.write(" ".join(gname(g) if n else str(g) for g in groups) + "\n")
    else:
        proc.write(f"uid={uid}({name(uid)}) gid={gid}({gname(gid)}) groups="
                   + ",".join(f"{g}({gname(g)})" for g in groups) + "\n")
    return 0


@register_program("hostname")
def hostname(proc) -> int:
    """``hostname [-s|-f|-i|-I] [NAME]``: the hostname of the process's UTS namespace."""
    args = proc.argv[1:]
    name = proc.ns.hostname
    if not args or args[0] in ("-s", "--short", "-f", "--fqdn", "--long", "-A", "--all-fqdns"):
        proc.write((name.split(".")[0] if args and args[0] in ("-s", "--short") else name) + "\n")
        return 0
    if args[0] in ("-I", "--all-ip-addresses"):
        net = proc.ns.net
        ips = [ip for ip in (net.ips if net is not None else []) if not ip.startswith("127.")]
        proc.write(" ".join(ips) + " \n")
        return 0
    if args[0] in ("-i", "--ip-address"):
        try:
            for line in proc.fs.read_text("/etc/hosts").splitlines():
                fields = line.split("#")[0].split()
                if len(fields) > 1 and name in fields[1:]:
                    proc.write(fields[0] + "\n")
                    return 0
        except FsError:
            pass
        net = proc.ns.net
        if net is not None and net.ip:
            proc.write(net.ip + "\n")
            return 0
        proc.error("hostname: Name or service not known\n")
        return 1
    if args[0].startswith("-"):
        proc.error(f"hostname: invalid option -- '{args[0].lstrip('-')[:1]}'\n")
        return 1
    if proc.uid != 0:
        proc.error("hostname: you must be root to change the host name\n")
        return 1
    proc.ns.hostname = args[0]
    return 0


def _kernel_version(proc) -> str:
    release = proc.kernel.release
    if release.endswith("-generic"):
        build = release.split("-")[1] if "-" in release else "1"
        return f"#{int(build) + 10 if _isnum(build) else 1}-Ubuntu SMP Tue Mar 5 20:16:58 UTC 2024"
    return "#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)"


@register_program("uname")
def uname(proc) -> int:
    """``uname [-asnrvmpio]``: the kernel is the machine's, also inside containers."""
    try:
        flags, ops = _split_flags(proc.argv[1:], long_map={
            "all": "a", "kernel-name": "s", "nodename": "n", "kernel-release": "r", "kernel-version": "v",
            "machine": "m", "processor": "p", "hardware-platform": "i", "operating-system": "o"})
    except _BadOption as e:
        return _bad_option(proc, e)
    if ops:
        return _usage(proc, f"extra operand {_q(ops[0])}")
    arch = getattr(proc.kernel, "arch", "x86_64")
    values = {"s": "Linux", "n": proc.ns.hostname, "r": proc.kernel.release, "v": _kernel_version(proc),
              "m": arch, "p": arch, "i": arch, "o": "GNU/Linux"}
    for f in flags:
        if f not in values and f != "a":
            return _usage(proc, f"invalid option -- '{f}'")
    if "a" in flags:
        order = "snrvmpio"
    else:
        order = [c for c in "snrvmpio" if c in flags] or ["s"]
    proc.write(" ".join(values[c] for c in order) + "\n")
    return 0


@register_program("nproc")
def nproc(proc) -> int:
    """``nproc [--all]``: the machine's CPUs (a container's CPU quota does not change it)."""
    proc.write(f"{int(getattr(proc.kernel, 'cpus', 1) or 1)}\n")
    return 0


def _memory(proc) -> dict[str, int]:
    return memory_summary(proc.kernel)


def memory_summary(k) -> dict[str, int]:
    """The machine's memory as ``free`` shows it (bytes): total, used (a base for the OS plus every
    process's resident memory), free, shared, cache, available, swap."""
    total = int(getattr(k, "memory_total", 4 * 1024**3))
    rss = sum(getattr(p, "rss", 0) for p in k.processes.values())
    used = min(total, int(total * 0.045) + 150 * 1024**2 + rss)
    cache = min(max(0, total - used), int(total * 0.08))
    shared = 1 * 1024**2 + 256 * 1024
    free = max(0, total - used - cache)
    available = max(0, free + int(cache * 0.85))
    swap_total = int(getattr(k, "swap_total", 0)) if getattr(k, "swap_on", False) else 0
    return {"total": total, "used": used, "free": free, "shared": shared, "cache": cache,
            "available": available, "swap_total": swap_total, "swap_used": 0, "swap_free": swap_total}


def _free_human(n: int) -> str:
    units = ["B", "Ki", "Mi", "Gi", "Ti"]
    v = float(n)
    i = 0
    while v >= 1024 and i < len(units) - 1:
        v /= 1024
        i += 1
    if i == 0:
        return f"{int(n)}B"
    if v < 10:
        return f"{v:.1f}{units[i]}"
    return f"{int(round(v))}{units[i]}"


@register_program("free")
def free(proc) -> int:
    """``free [-h|-m|-g|-k|-b]``: the machine's memory and swap (a container sees the host's)."""
    try:
        flags, ops = _split_flags(proc.argv[1:], long_map={"human": "h", "mega": "m", "giga": "g", "kilo": "k",
                                                            "bytes": "b", "mebi": "m", "gibi": "g", "kibi": "k",
                                                            "total": "t", "wide": "w"})
    except _BadOption as e:
        return _bad_option(proc, e)
    mem = _memory(proc)
    if "h" in flags:
        fmt = _free_human
    elif "b" in flags:
        fmt = str
    elif "m" in flags:
        fmt = lambda n: str(n // 1024**2)
    elif "g" in flags:
        fmt = lambda n: str(n // 1024**3)
    else:
        fmt = lambda n: str(n // 1024)
    head = f"{'':8}{'total':>12}{'used':>12}{'free':>12}{'shared':>12}{'buff/cache':>12}{'available':>12}"
    proc.write(head.rstrip() + "\n")
    proc.write(f"{'Mem:':<8}" + "".join(f"{fmt(mem[k]):>12}" for k in ("total", "used", "free", "shared", "cache",
                                                                       "available")) + "\n")
    proc.write(f"{'Swap:':<8}" + "".join(f"{fmt(mem[k]):>12}" for k in ("swap_total", "swap_used", "swap_free"))
               + "\n")
    if "t" in flags:
        proc.write(f"{'Total:':<8}" + "".join(f"{fmt(mem[a] + mem[b]):>12}" for a, b in (
            ("total", "swap_total"), ("used", "swap_used"), ("free", "swap_free"))) + "\n")
    return 0


def _fmt_date(proc, fmt: str, moment: _dt.datetime) -> str:
    extra = {"%N": "000000000", "%s": str(int(moment.timestamp())), "%P": moment.strftime("%p").lower(),
             "%e": f"{moment.day:2d}", "%k": f"{moment.hour:2d}", "%l": f"{(moment.hour % 12) or 12:2d}",
             "%Z": "UTC", "%z": "+0000", "%:z": "+00:00", "%n": "\n", "%t": "\t", "%%": "\x00PCT\x00"}
    for k, v in extra.items():
        fmt = fmt.replace(k, v)
    return moment.strftime(fmt).replace("\x00PCT\x00", "%")


@register_program("date")
def date(proc) -> int:
    """``date [-u] [-R] [-I] [-d DATE] [+FORMAT]``: simulated time (UTC; the epoch is 2025-03-03 09:00)."""
    args = proc.argv[1:]
    moment = sim_datetime(proc)
    fmt = "%a %b %e %H:%M:%S %Z %Y"
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-u", "--utc", "--universal"):
            pass
        elif a in ("-R", "--rfc-email", "--rfc-2822"):
            fmt = "%a, %d %b %Y %H:%M:%S %z"
        elif a.startswith("-I") or a.startswith("--iso-8601"):
            spec = a.split("=", 1)[1] if "=" in a else a[2:]
            fmt = {"": "%Y-%m-%d", "date": "%Y-%m-%d", "hours": "%Y-%m-%dT%H%:z", "minutes": "%Y-%m-%dT%H:%M%:z",
                   "seconds": "%Y-%m-%dT%H:%M:%S%:z", "ns": "%Y-%m-%dT%H:%M:%S,%N%:z"}.get(spec, "%Y-%m-%d")
        elif a.startswith("--rfc-3339"):
            fmt = "%Y-%m-%d %H:%M:%S%:z"
        elif a in ("-d", "--date") or a.startswith("--date="):
            if "=" in a:
                value = a.split("=", 1)[1]
            else:
                i += 1
                if i >= len(args):
                    return _usage(proc, "option requires an argument -- 'd'")
                value = args[i]
            parsed = _parse_date(proc, value)
            if parsed is None:
                proc.error(f"date: invalid date {_q(value)}\n")
                return 1
            moment = parsed
        elif a.startswith("+"):
            fmt = a[1:]
        elif a.startswith("-"):
            return _usage(proc, f"invalid option -- '{a[1:2]}'")
        else:
            if proc.uid != 0:
                proc.error("date: cannot set date: Operation not permitted\n")
            else:
                proc.error("date: cannot set date: the simulated clock only moves forward with world.advance()\n")
            proc.write(_fmt_date(proc, fmt, moment) + "\n")
            return 1
        i += 1
    proc.write(_fmt_date(proc, fmt, moment) + "\n")
    return 0


def _parse_date(proc, text: str) -> _dt.datetime | None:
    now = sim_datetime(proc)
    t = text.strip()
    if t in ("", "now", "today"):
        return now
    if t.startswith("@"):
        try:
            return _dt.datetime.fromtimestamp(float(t[1:]), _dt.timezone.utc)
        except (ValueError, OverflowError, OSError):
            return None
    if t == "yesterday":
        return now - _dt.timedelta(days=1)
    if t == "tomorrow":
        return now + _dt.timedelta(days=1)
    m = re.fullmatch(r"([+-]?\d+)\s*(sec|second|min|minute|hour|day|week)s?(\s+ago)?", t)
    if m:
        n = int(m.group(1)) * (-1 if m.group(3) else 1)
        unit = {"sec": 1, "second": 1, "min": 60, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}[m.group(2)]
        return now + _dt.timedelta(seconds=n * unit)
    for f in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return _dt.datetime.strptime(t, f).replace(tzinfo=_dt.timezone.utc)
        except ValueError:
            continue
    return None


# ---------------------------------------------------------------------------
# processes


def _ps_visible(proc) -> list:
    return proc.kernel.ps(proc.ns.pid)


def _local(proc, p) -> int:
    return proc.ns.pid.members.get(p.pid, p.pid)


def _ppid_local(proc, p) -> int:
    parent = getattr(p, "parent", None)
    if parent is None:
        return 0
    return proc.ns.pid.members.get(parent.pid, 0)


def _session_root(p):
    while getattr(p, "parent", None) is not None:
        p = p.parent
    return p


def _cmdline(p) -> str:
    return " ".join(p.argv) if p.argv else f"[{p.comm}]"


def _start_time(proc, p) -> str:
    return sim_datetime(proc, p.started_at).strftime("%H:%M")


def _cpu_time(proc, p, long: bool = False) -> str:
    secs = int(max(0.0, proc.kernel.loop.now - p.started_at) * getattr(p, "cpu", 0.0))
    if long:
        return f"{secs // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}"
    return f"{secs // 60}:{secs % 60:02d}"


_PGREP_USAGE = ("\nUsage:\n {name} [options] <pattern>\n\nOptions:\n"
                " -d, --delimiter <string>  specify output delimiter\n"
                " -l, --list-name           list PID and process name\n"
                " -a, --list-full           list PID and full command line\n"
                " -c, --count               count of matching processes\n"
                " -f, --full                use full process name to match\n"
                " -n, --newest              select most recently started\n"
                " -o, --oldest              select least recently started\n"
                " -u, --euid <ID,...>       match by effective IDs\n"
                " -x, --exact               match exactly with the command name\n"
                " -<sig>, --signal <sig>    signal to send (pkill only)\n")


def _pgrep_main(proc, killing: bool) -> int:
    """``pgrep``/``pkill`` (procps-ng 3.3/4.0): select processes by a regular expression on their name
    (``-f``: their whole command line); ``pgrep`` prints pids, ``pkill`` signals them."""
    name = proc.comm
    args = proc.argv[1:]
    sig = SIGNALS["TERM"]
    flags: set[str] = set()
    delim = "\n"
    users: list[str] | None = None
    pattern = None

    def bad(msg: str) -> int:
        proc.error(f"{name}: {msg}\nTry `{name} --help' for more information.\n")
        return 2

    long_flags = {"list-name": "l", "list-full": "a", "count": "c", "full": "f", "newest": "n", "oldest": "o",
                  "exact": "x", "inverse": "v"}
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--help":
            proc.write(_PGREP_USAGE.format(name=name))
            return 0
        if a in ("-V", "--version"):
            proc.write(f"{name} from procps-ng 3.3.17\n")
            return 0
        if a.startswith("--") and len(a) > 2:
            key, eq, val = a[2:].partition("=")
            if key in long_flags:
                flags.add(long_flags[key])
            elif key in ("delimiter", "euid", "signal"):
                if not eq:
                    i += 1
                    if i >= len(args):
                        return bad(f"option '--{key}' requires an argument")
                    val = args[i]
                if key == "delimiter":
                    delim = val
                elif key == "euid":
                    users = [u for u in val.split(",") if u]
                else:
                    n = _parse_signal(val)
                    if n is None or not killing:
                        return bad(f"Unknown signal \"{val}\"." if killing else f"unrecognized option '{a}'")
                    sig = n
            else:
                return bad(f"unrecognized option '{a}'")
        elif a.startswith("-") and len(a) > 1:
            body = a[1:]
            if killing and (body[0].isdigit() or body.upper().removeprefix("SIG") in SIGNALS):
                n = _parse_signal(body)
                if n is None:
                    return bad(f"Unknown signal \"{body}\".")
                sig = n
            else:
                j = 0
                while j < len(body):
                    c = body[j]
                    if c in "lacfnoxv":
                        flags.add(c)
                    elif c in "du":
                        val = body[j + 1:]
                        if not val:
                            i += 1
                            if i >= len(args):
                                return bad(f"option requires an argument -- '{c}'")
                            val = args[i]
                        if c == "d":
                            delim = val
                        else:
                            users = [u for u in val.split(",") if u]
                        break
                    else:
                        return bad(f"invalid option -- '{c}'")
                    j += 1
        elif pattern is None:
            pattern = a
        else:
            return bad("only one pattern can be provided")
        i += 1
    if pattern is None:
        return bad("no matching criteria specified")
    try:
        rx = re.compile(pattern)
    except re.error:
        proc.error(f"{name}: regex error: Invalid regular expression\n")
        return 2
    uids = None
    if users is not None:
        uids = set()
        for u in users:
            if _isnum(u):
                uids.add(int(u))
                continue
            uid = user_uid(proc, u)
            if uid is None:
                proc.error(f"{name}: invalid user name: {u}\n")
                return 2
            uids.add(uid)
    me = {proc.pid}
    parent = getattr(proc, "parent", None)
    while parent is not None:  # like procps, never select itself -- nor what a real system would have
        argv = list(getattr(parent, "argv", []) or [])  # exec'd into it: sudo, ``sh -c "<this command>"``
        if parent.comm == "sudo":
            me.add(parent.pid)
        elif parent.comm in ("sh", "bash", "dash", "ash") and len(argv) >= 3 and argv[1] == "-c":
            try:
                single = shlex.split(argv[2]) == proc.argv
            except ValueError:
                single = False
            if not single:
                break
            me.add(parent.pid)
        else:
            break
        parent = getattr(parent, "parent", None)
    found = []
    for p in _ps_visible(proc):
        if p.pid in me or p.exit_code is not None:
            continue
        text = _cmdline(p) if "f" in flags else p.comm[:15]
        hit = bool(rx.fullmatch(text) if "x" in flags else rx.search(text))
        if "v" in flags:
            hit = not hit
        if hit and (uids is None or p.uid in uids):
            found.append(p)
    if "n" in flags and found:
        found = [max(found, key=lambda p: (p.started_at, p.pid))]
    elif "o" in flags and found:
        found = [min(found, key=lambda p: (p.started_at, p.pid))]
    if "c" in flags:
        proc.write(f"{len(found)}\n")
        return 0 if found else 1
    if killing:  # exit 0 when at least one matching process was signalled
        signalled = 0
        for p in found:
            if proc.uid != 0 and p.uid != proc.uid:
                proc.error(f"{name}: killing pid {_local(proc, p)} failed: Operation not permitted\n")
                continue
            proc.kernel.signal(p.pid, sig)
            signalled += 1
        return 0 if signalled else 1
    rows = []
    for p in found:
        pid = str(_local(proc, p))
        if "a" in flags:
            rows.append(f"{pid} {_cmdline(p)}")
        elif "l" in flags:
            rows.append(f"{pid} {p.comm[:15]}")
        else:
            rows.append(pid)
    if rows:
        proc.write(delim.join(rows) + "\n")
    return 0 if found else 1


@register_program("pgrep")
def pgrep(proc) -> int:
    """``pgrep [-l|-a] [-f] [-x] [-n|-o] [-c] [-u USER] PATTERN``: the pids of matching processes."""
    return _pgrep_main(proc, killing=False)


@register_program("pkill")
def pkill(proc) -> int:
    """``pkill [-SIGNAL] [-f] [-x] [-u USER] PATTERN``: signal matching processes (SIGTERM by default)."""
    return _pgrep_main(proc, killing=True)


@register_program("ps")
def ps(proc) -> int:
    """``ps``, ``ps aux``, ``ps -ef``, ``ps -o FIELDS``: processes of the caller's pid namespace, its pids."""
    args = proc.argv[1:]
    bsd = set()
    opts = set()
    fields = None
    pids = None
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-o", "o", "--format") or a.startswith("-o"):
            val = a[2:] if a.startswith("-o") and len(a) > 2 else (args[i + 1] if i + 1 < len(args) else None)
            if val is None:
                proc.error("error: format specification must follow -o\n")
                return 1
            if not (a.startswith("-o") and len(a) > 2):
                i += 1
            fields = (fields or []) + [f for f in re.split(r"[,\s]+", val) if f]
        elif a in ("-p", "p", "--pid"):
            i += 1
            pids = [int(x) for x in re.split(r"[,\s]+", args[i]) if _isnum(x)] if i < len(args) else []
        elif a.startswith("-"):
            opts.update(a[1:])
        else:
            bsd.update(a)
        i += 1
    visible = _ps_visible(proc)
    everyone = bool({"e", "A"} & opts) or "a" in bsd or "x" in bsd
    tty = lambda p: "pts/0" if getattr(_session_root(p).stdout, "isatty", False) else "?"
    if pids is not None:
        rows = [p for p in visible if _local(proc, p) in pids]
    elif everyone:
        rows = visible
    else:
        mine = tty(proc)
        me = _session_root(proc)
        rows = [p for p in visible if p.uid == proc.uid and
                ((mine != "?" and tty(p) == mine) or _session_root(p) is me)]
    total = int(getattr(proc.kernel, "memory_total", 4 * 1024**3)) or 1
    stat = lambda p: "R+" if p is proc or p.pid == proc.pid else ("Ss" if _ppid_local(proc, p) == 0 else "S")
    if fields:
        headers = {"pid": "PID", "ppid": "PPID", "user": "USER", "uid": "UID", "comm": "COMMAND", "cmd": "CMD",
                   "args": "COMMAND", "command": "COMMAND", "rss": "RSS", "%mem": "%MEM", "pmem": "%MEM",
                   "%cpu": "%CPU", "pcpu": "%CPU", "stat": "STAT", "tty": "TT", "time": "TIME", "etime": "ELAPSED",
                   "vsz": "VSZ", "ni": "NI", "s": "S", "state": "S"}

        def val(p, f: str) -> str:
            f2 = f.split("=")[0].lower()
            return {
                "pid": str(_local(proc, p)), "ppid": str(_ppid_local(proc, p)), "user": user_name(proc, p.uid),
                "uid": str(p.uid), "comm": p.comm, "cmd": _cmdline(p), "args": _cmdline(p),
                "command": _cmdline(p), "rss": str(p.rss // 1024), "%mem": f"{100 * p.rss / total:.1f}",
                "pmem": f"{100 * p.rss / total:.1f}", "%cpu": f"{100 * p.cpu:.1f}", "pcpu": f"{100 * p.cpu:.1f}",
                "stat": stat(p), "tty": tty(p), "time": _cpu_time(proc, p, True), "vsz": str(p.rss // 1024 + 2608),
                "etime": _cpu_time(proc, p), "ni": "0", "s": stat(p)[0], "state": stat(p)[0],
            }.get(f2, "-")

        minw = {"pid": 7, "ppid": 7, "comm": 15, "user": 8, "uid": 5, "rss": 5, "vsz": 6, "%cpu": 4, "pcpu": 4,
                "%mem": 4, "pmem": 4, "stat": 4, "tty": 8, "time": 8, "etime": 11, "ni": 3, "s": 1, "state": 1}
        names = [f.split("=")[0].lower() for f in fields]
        for n in names:
            if n not in headers:
                proc.error(f"error: unknown user-defined format specifier \"{n}\"\n")
                return 1
        titles = [f.split("=", 1)[1] if "=" in f else headers[f.lower()] for f in fields]
        table = ([titles] if any(titles) else []) + [[val(p, f) for f in fields] for p in rows]
        if not table:
            return 0 if rows else 1
        widths = [max([len(r[c]) for r in table] + [minw.get(names[c], 0)]) for c in range(len(fields))]
        for r in table:
            cells = []
            for c, v in enumerate(r):
                last = c == len(r) - 1
                if names[c] in ("pid", "ppid", "rss", "%mem", "%cpu", "pmem", "pcpu", "uid", "vsz", "ni"):
                    cells.append(v.rjust(widths[c]))
                else:
                    cells.append(v if last else v.ljust(widths[c]))
            proc.write(" ".join(cells).rstrip() + "\n")
        return 0 if rows or pids is None else 1
    if "u" in bsd:
        proc.write("USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND\n")
        for p in rows:
            user = user_name(proc, p.uid)[:8]
            rss = p.rss // 1024
            proc.write(f"{user:<8} {_local(proc, p):>7} {100 * p.cpu:4.1f} {100 * p.rss / total:4.1f} "
                       f"{rss + 2608:>6} {rss:>5} {tty(p):<8} {stat(p):<4} {_start_time(proc, p):>5} "
                       f"{_cpu_time(proc, p):>6} {_cmdline(p)}\n")
        return 0
    if "f" in opts or "F" in opts:
        proc.write("UID          PID    PPID  C STIME TTY          TIME CMD\n")
        for p in rows:
            proc.write(f"{user_name(proc, p.uid)[:8]:<8} {_local(proc, p):>7} {_ppid_local(proc, p):>7} "
                       f"{int(p.cpu * 100) % 100:>2} {_start_time(proc, p)} {tty(p):<8} "
                       f"{_cpu_time(proc, p, True)} {_cmdline(p)}\n")
        return 0
    proc.write("    PID TTY          TIME CMD\n")
    for p in rows:
        proc.write(f"{_local(proc, p):>7} {tty(p):<8} {_cpu_time(proc, p, True)} {p.comm}\n")
    return 0


@register_program("timeout")
def timeout(proc) -> Gen:
    """``timeout [-s SIG] [-k DURATION] DURATION COMMAND [ARG...]``: exit 124 when the time ran out."""
    args = proc.argv[1:]
    sig = SIGNALS["TERM"]
    kill_after = None
    preserve = False
    while args and args[0].startswith("-") and len(args[0]) > 1:
        a = args.pop(0)
        if a in ("-s", "--signal") or a.startswith("--signal="):
            v = a.split("=", 1)[1] if "=" in a else (args.pop(0) if args else "")
            s = _parse_signal(v)
            if s is None:
                proc.error(f"timeout: {v}: invalid signal\nTry 'timeout --help' for more information.\n")
                return 125
            sig = s
        elif a in ("-k", "--kill-after") or a.startswith("--kill-after="):
            v = a.split("=", 1)[1] if "=" in a else (args.pop(0) if args else "")
            kill_after = _duration(v)
        elif a == "--preserve-status":
            preserve = True
        elif a in ("--foreground", "-v", "--verbose"):
            pass
        elif a == "--":
            break
        else:
            proc.error(f"timeout: invalid option -- '{a[1:2]}'\nTry 'timeout --help' for more information.\n")
            return 125
    if len(args) < 2:
        proc.error("timeout: missing operand\nTry 'timeout --help' for more information.\n")
        return 125
    limit = _duration(args[0])
    if limit is None:
        proc.error(f"timeout: invalid time interval {_lq(args[0])}\nTry 'timeout --help' for more information.\n")
        return 125
    try:
        child = proc.kernel.spawn(args[1:], ns=proc.ns, env=proc.env, cwd=proc.cwd, stdin=proc.stdin,
                                  stdout=proc.stdout, stderr=proc.stderr, uid=proc.uid, parent=proc)
    except ExecError as e:
        why = "No such file or directory" if e.exit_code == 127 else "Permission denied"
        proc.error(f"timeout: failed to run command {_lq(args[1])}: {why}\n")
        return e.exit_code
    if child.alive and limit > 0:
        yield any_of(proc.loop, [child.exited, proc.sleep(limit)])
    elif child.alive:
        yield child.exited
    if child.alive:
        proc.kernel.signal(child.pid, sig)
        if child.alive and kill_after is not None:
            yield any_of(proc.loop, [child.exited, proc.sleep(kill_after)])
            if child.alive:
                proc.kernel.signal(child.pid, "KILL")
        if child.alive:
            yield child.exited
        return child.exit_code if preserve else 124
    return child.exit_code


def _duration(text: str) -> float | None:
    m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", text or "")
    if not m:
        return None
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


# ---------------------------------------------------------------------------
# environment and lookup


@register_program("env")
def env(proc) -> Gen:
    """``env [-i] [-u NAME] [NAME=VALUE]... [COMMAND [ARG]...]``."""
    args = proc.argv[1:]
    new = dict(proc.env)
    while args:
        a = args[0]
        if a in ("-i", "-", "--ignore-environment"):
            new = {}
        elif a in ("-u", "--unset"):
            args = args[1:]
            if args:
                new.pop(args[0], None)
        elif a.startswith("-u") and len(a) > 2:
            new.pop(a[2:], None)
        elif a in ("-0", "--null"):
            pass
        elif a == "--":
            args = args[1:]
            break
        elif a.startswith("-") and len(a) > 1:
            return _usage(proc, f"invalid option -- '{a[1]}'", 125)
        else:
            break
        args = args[1:]
    while args and "=" in args[0] and not args[0].startswith("="):
        k, _, v = args[0].partition("=")
        new[k] = v
        args = args[1:]
    if not args:
        for k, v in new.items():
            proc.write(f"{k}={v}\n")
        return 0
    try:
        child = proc.kernel.spawn(args, ns=proc.ns, env=new, cwd=proc.cwd, stdin=proc.stdin, stdout=proc.stdout,
                                  stderr=proc.stderr, uid=proc.uid, parent=proc)
    except ExecError as e:
        errno = getattr(e, "errno", "") or ("ENOENT" if e.exit_code == 127 else "EACCES")
        why = {"ENOENT": "No such file or directory", "ENOEXEC": "Exec format error"}.get(errno, "Permission denied")
        proc.error(f"env: {_q(args[0])}: {why}\n")
        return 127 if errno == "ENOENT" else 126
    if child.alive:
        yield child.exited
    return child.exit_code


@register_program("which")
def which(proc) -> int:
    """``which [-a] NAME...``: exit 1 when a name is not found (silently, like Debian's which)."""
    args = proc.argv[1:]
    show_all = False
    if args and args[0] == "-a":
        show_all = True
        args = args[1:]
    status = 0
    for name in args:
        found = False
        if "/" in name:
            path = proc.path(name)
            if proc.fs.is_file(path) and proc.fs.stat(path).executable:
                proc.write(name + "\n")
                found = True
        else:
            for d in proc.env.get("PATH", "").split(":"):
                if not d:
                    continue
                cand = join(d, name)
                try:
                    e = proc.fs.stat(cand)
                except (FsError, AivleError):
                    continue
                if e.is_file and e.executable:
                    proc.write(cand + "\n")
                    found = True
                    if not show_all:
                        break
        if not found:
            status = 1
    return status


# ---------------------------------------------------------------------------
# files and directories

_LS_LONG = {"all": "a", "almost-all": "A", "recursive": "R", "directory": "d", "human-readable": "h",
            "reverse": "r", "classify": "F", "inode": "i", "numeric-uid-gid": "n", "color": "_color",
            "color=": "_color", "size": "s", "dereference": "L", "format=": "_format", "time-style=": "_ts",
            "full-time": "_full", "group-directories-first": "_gdf"}


def _ls_time(proc, path: str, full: bool = False) -> str:
    t = sim_datetime(proc, mtime(proc, path))
    if full:
        return t.strftime("%Y-%m-%d %H:%M:%S.000000000 +0000")
    now = sim_datetime(proc)
    if abs((now - t).total_seconds()) < 180 * 86400:
        return f"{t.strftime('%b')} {t.day:2d} {t.strftime('%H:%M')}"
    return f"{t.strftime('%b')} {t.day:2d}  {t.year}"


def _columns(names: list[str], width: int = 80) -> list[str]:
    """GNU ls column layout (column-major, two spaces between columns)."""
    if not names:
        return []
    n = len(names)
    for cols in range(min(n, width // 3 + 1), 0, -1):
        rows = (n + cols - 1) // cols
        cols_used = (n + rows - 1) // rows
        widths = []
        for c in range(cols_used):
            chunk = names[c * rows:(c + 1) * rows]
            widths.append(max(len(x) for x in chunk))
        total = sum(widths) + 2 * (cols_used - 1)
        if total < width or cols == 1:
            lines = []
            for r in range(rows):
                cells = []
                for c in range(cols_used):
                    idx = c * rows + r
                    if idx < n:
                        last = c == cols_used - 1 or (c + 1) * rows + r >= n
                        cells.append(names[idx] if last else names[idx].ljust(widths[c] + 2))
                lines.append("".join(cells))
            return lines
    return names


@register_program("ls")
def ls(proc) -> int:
    """``ls [-lah1RdtrSFin] [FILE...]``."""
    try:
        flags, ops = _split_flags(proc.argv[1:], long_map=_LS_LONG)
    except _BadOption as e:
        return _bad_option(proc, e) + 1
    fs = proc.fs
    long = "l" in flags or "n" in flags or "g" in flags or "o" in flags
    show_all = "a" in flags or "f" in flags
    almost = "A" in flags
    tty = getattr(proc.stdout, "isatty", False) and "1" not in flags and not long
    status = 0
    files: list[tuple[str, str, Entry]] = []
    dirs: list[tuple[str, str]] = []
    for op in ops or ["."]:
        path = proc.path(op)
        try:
            entry = fs.stat(path, follow=True) if not long or op.endswith("/") or "L" in flags else fs.stat(path, follow=False)
            if not long and "d" not in flags:
                entry = fs.stat(path)
        except (FsError, AivleError):
            try:
                entry = fs.stat(path, follow=False)
            except (FsError, AivleError):
                proc.error(f"ls: cannot access {_q(op)}: No such file or directory\n")
                status = 2
                continue
        if not _searchable(proc, path):
            proc.error(f"ls: cannot access {_q(op)}: Permission denied\n")
            status = 2
            continue
        target_is_dir = fs.is_dir(path)
        if target_is_dir and "d" not in flags and (entry.is_dir or not long or op.endswith("/")):
            dirs.append((op, path))
        else:
            files.append((op, path, entry))

    def sort_entries(items: list) -> list:
        if "U" in flags or "f" in flags:
            return items
        if "t" in flags:
            items = sorted(items, key=lambda it: (-mtime(proc, it[1]), it[0]))
        elif "S" in flags:
            items = sorted(items, key=lambda it: (-it[2].size if not it[2].is_dir else -4096, it[0]))
        else:
            items = sorted(items, key=lambda it: it[0])
        if "r" in flags:
            items = list(reversed(items))
        return items

    def decorate(name: str, entry: Entry, path: str) -> str:
        shown = name
        if "Q" in flags:
            shown = '"' + shown + '"'
        elif tty and re.search(r"[\s'\"$`\\|&;<>()*?\[\]!{}]", name):
            shown = shlex.quote(name) if "'" not in name else '"' + name + '"'
        if "F" in flags or "p" in flags:
            if entry.is_dir:
                shown += "/"
            elif "F" in flags and entry.kind == "symlink" and not long:
                shown += "@"
            elif "F" in flags and entry.is_file and entry.executable:
                shown += "*"
        return shown

    def long_lines(items: list, total_line: bool) -> list[str]:
        rows = []
        blocks = 0
        for name, path, entry in items:
            blocks += _blocks(entry)
            nlink = 1
            if entry.is_dir:
                try:
                    nlink = 2 + sum(1 for c in fs.listdir(path) if fs.is_dir(join(path, c)) and
                                    fs.stat(join(path, c), follow=False).is_dir)
                except (FsError, AivleError):
                    nlink = 2
            owner = str(entry.uid) if "n" in flags else user_name(proc, entry.uid)
            group = str(entry.gid) if "n" in flags else group_name(proc, entry.gid)
            size = 4096 if entry.is_dir else (len(entry.target) if entry.kind == "symlink" else entry.size)
            size_s = human_size(size) if "h" in flags else str(size)
            shown = decorate(name, entry, path)
            if entry.kind == "symlink":
                shown += " -> " + entry.target
            mode = mode_string(entry)
            rows.append((mode, str(nlink), owner, group, size_s, _ls_time(proc, path, "_full" in flags), shown,
                         str(_inode(path))))
        out = []
        if total_line:
            out.append(f"total {human_size(blocks * 1024) if 'h' in flags else blocks}")
        if rows:
            w = [max(len(r[i]) for r in rows) for i in range(8)]
            for r in rows:
                ino = r[7].rjust(w[7]) + " " if "i" in flags else ""
                parts = [r[0], r[1].rjust(w[1])]
                if "g" not in flags:
                    parts.append(r[2].ljust(w[2]))
                if "o" not in flags and "G" not in flags:
                    parts.append(r[3].ljust(w[3]))
                parts += [r[4].rjust(w[4]), r[5], r[6]]
                out.append(ino + " ".join(parts))
        return out

    def short_lines(items: list) -> list[str]:
        names = []
        for name, path, entry in items:
            prefix = f"{_inode(path)} " if "i" in flags else ""
            prefix += f"{_blocks(entry)} " if "s" in flags else ""
            names.append(prefix + decorate(name, entry, path))
        if tty:
            return _columns(names)
        return names

    out: list[str] = []
    files = sort_entries(files)
    if files:
        out.extend(long_lines(files, False) if long else short_lines(files))
    dirs = sorted(dirs, key=lambda d: d[0], reverse="r" in flags)
    multiple = len(dirs) + len(files) > 1 or "R" in flags

    def list_dir(op: str, path: str, first: bool) -> None:
        nonlocal status
        if not can_access(proc, path, 4) or not _searchable(proc, path):
            proc.write("\n".join(out) + ("\n" if out else ""))
            out.clear()
            proc.error(f"ls: cannot open directory {_q(op)}: Permission denied\n")
            status = 2
            return
        try:
            names = fs.listdir(path)
        except (FsError, AivleError) as e:
            proc.error(f"ls: cannot open directory {_q(op)}: {_errno(e)}\n")
            status = 2
            return
        items = []
        if show_all:
            for special in (".", ".."):
                sp = path if special == "." else posixpath.dirname(path) or "/"
                try:
                    items.append((special, sp, fs.stat(sp)))
                except (FsError, AivleError):
                    pass
        for name in names:
            if name.startswith(".") and not (show_all or almost):
                continue
            child = join(path, name)
            try:
                items.append((name, child, fs.stat(child, follow=False)))
            except (FsError, AivleError):
                continue
        items = sort_entries(items) if not show_all else (
            [i for i in items if i[0] in (".", "..")] + sort_entries([i for i in items if i[0] not in (".", "..")]))
        if multiple:
            if out or not first:
                out.append("")
            out.append(f"{op}:")
        out.extend(long_lines(items, True) if long else short_lines(items))
        if "R" in flags:
            for name, child, entry in items:
                if entry.is_dir and name not in (".", ".."):
                    list_dir(("/" + name) if op == "/" else op.rstrip("/") + "/" + name, child, False)

    for i, (op, path) in enumerate(dirs):
        list_dir(op, path, i == 0 and not files)
    if out:
        proc.write("\n".join(out) + "\n")
    return status


@register_program("cat")
def cat(proc) -> int:
    """``cat [-nbsEA] [FILE...]``."""
    try:
        flags, ops = _split_flags(proc.argv[1:], long_map={"number": "n", "number-nonblank": "b",
                                                            "squeeze-blank": "s", "show-ends": "E", "show-all": "A"})
    except _BadOption as e:
        return _bad_option(proc, e)
    status = 0
    chunks = []
    for name in ops or ["-"]:
        try:
            chunks.append(_read_input(proc, name))
        except FsError as e:
            proc.write(b"".join(chunks))
            chunks = []
            proc.error(f"cat: {name}: {_errno(e)}\n")
            status = 1
    data = b"".join(chunks)
    if {"n", "b", "s", "E", "A"} & set(flags):
        lines = data.split(b"\n")
        trailing = data.endswith(b"\n")
        if trailing:
            lines = lines[:-1]
        out = []
        n = 0
        prev_blank = False
        for line in lines:
            blank = line == b""
            if "s" in flags and blank and prev_blank:
                continue
            prev_blank = blank
            text = line
            if "E" in flags or "A" in flags:
                text += b"$"
            if "b" in flags:
                if not blank:
                    n += 1
                    text = f"{n:6d}\t".encode() + text
            elif "n" in flags:
                n += 1
                text = f"{n:6d}\t".encode() + text
            out.append(text)
        data = b"\n".join(out) + (b"\n" if trailing else b"")
    proc.write(data)
    return status


def _parse_mode(spec: str, old: int, is_dir: bool = False, umask: int = 0o022) -> int | None:
    """Octal (``0755``) or symbolic (``u+x,go-w``) mode; None if invalid."""
    if re.fullmatch(r"[0-7]{1,4}", spec):
        return int(spec, 8)
    mode = old
    for clause in spec.split(","):
        m = re.fullmatch(r"([ugoa]*)([-+=])([rwxXst]*|[ugo])", clause)
        if not m:
            m2 = re.fullmatch(r"([ugoa]*)((?:[-+=][rwxXst]*)+)", clause)
            if not m2:
                return None
            who = m2.group(1)
            for op, perms in re.findall(r"([-+=])([rwxXst]*)", m2.group(2)):
                r = _parse_mode(f"{who}{op}{perms}", mode, is_dir, umask)
                if r is None:
                    return None
                mode = r
            continue
        who, op, perms = m.groups()
        explicit = bool(who)
        if not who or "a" in who:
            who = "ugo"
        if perms in ("u", "g", "o"):
            shift = {"u": 6, "g": 3, "o": 0}[perms]
            bits3 = (mode >> shift) & 7
            perms = "".join(c for c, b in zip("rwx", (4, 2, 1)) if bits3 & b)
        bits = 0
        for w in who:
            shift = {"u": 6, "g": 3, "o": 0}[w]
            for p in perms:
                if p == "r":
                    bits |= 4 << shift
                elif p == "w":
                    bits |= 2 << shift
                elif p == "x" or (p == "X" and (is_dir or old & 0o111)):
                    bits |= 1 << shift
                elif p == "s" and w in "ug":
                    bits |= 0o4000 if w == "u" else 0o2000
                elif p == "t":
                    bits |= 0o1000
        if not explicit and op in "+=":
            bits &= ~umask | 0o7000
        if op == "+":
            mode |= bits
        elif op == "-":
            mode &= ~bits
        else:
            mask = 0
            for w in who:
                mask |= 7 << {"u": 6, "g": 3, "o": 0}[w]
            mode = (mode & ~mask) | bits
    return mode


@register_program("mkdir")
def mkdir(proc) -> int:
    """``mkdir [-p] [-m MODE] [-v] DIRECTORY...``."""
    try:
        flags, ops = _split_flags(proc.argv[1:], "m", long_map={"parents": "p", "mode=": "m", "verbose": "v"})
    except _BadOption as e:
        return _bad_option(proc, e)
    if not ops:
        return _usage(proc, "missing operand")
    fs = proc.fs
    umask = default_umask(proc)
    mode = 0o777 & ~umask
    if "m" in flags:
        mode = _parse_mode(flags["m"], 0o777 & ~umask, True, umask)
        if mode is None:
            proc.error(f"mkdir: invalid mode {_lq(flags['m'])}\n")
            return 1
    uid, gid = _new_file_owner(proc)
    status = 0
    for op in ops:
        path = proc.path(op)
        targets = [d for d in parent_dirs(path)] + [path] if "p" in flags else [path]
        for d in targets:
            shown = op if d == path else d
            if fs.lexists(d):
                if fs.is_dir(d):
                    if d == path and "p" not in flags:
                        proc.error(f"mkdir: cannot create directory {_lq(op)}: File exists\n")
                        status = 1
                    continue
                proc.error(f"mkdir: cannot create directory {_lq(shown)}: "
                           f"{'File exists' if d == path else 'Not a directory'}\n")
                status = 1
                break
            parent = posixpath.dirname(d)
            if not fs.exists(parent):
                proc.error(f"mkdir: cannot create directory {_lq(op)}: No such file or directory\n")
                status = 1
                break
            if not fs.is_dir(parent):
                proc.error(f"mkdir: cannot create directory {_lq(op)}: Not a directory\n")
                status = 1
                break
            if not can_write(proc, d):
                proc.error(f"mkdir: cannot create directory {_lq(shown)}: Permission denied\n")
                status = 1
                break
            try:
                fs.mkdir(d, mode=mode if d == path else (0o777 & ~umask), uid=uid, gid=gid)
            except FsError as e:
                proc.error(f"mkdir: cannot create directory {_lq(shown)}: {_errno(e)}\n")
                status = 1
                break
            touch_mtime(proc, d)
            if "v" in flags:
                proc.write(f"mkdir: created directory {_q(shown)}\n")
    return status


@register_program("rmdir")
def rmdir(proc) -> int:
    """``rmdir [-p] DIRECTORY...``."""
    try:
        flags, ops = _split_flags(proc.argv[1:], long_map={"parents": "p", "verbose": "v",
                                                            "ignore-fail-on-non-empty": "_ign"})
    except _BadOption as e:
        return _bad_option(proc, e)
    if not ops:
        return _usage(proc, "missing operand")
    fs = proc.fs
    status = 0
    for op in ops:
        chain = [op]
        if "p" in flags:
            cur = op.rstrip("/")
            while "/" in cur.strip("/"):
                cur = posixpath.dirname(cur)
                chain.append(cur)
        for d in chain:
            path = proc.path(d)
            try:
                entry = fs.stat(path, follow=False)
            except (FsError, AivleError):
                proc.error(f"rmdir: failed to remove {_q(d)}: No such file or directory\n")
                status = 1
                break
            if not entry.is_dir:
                proc.error(f"rmdir: failed to remove {_q(d)}: Not a directory\n")
                status = 1
                break
            if fs.listdir(path):
                if "_ign" not in flags:
                    proc.error(f"rmdir: failed to remove {_q(d)}: Directory not empty\n")
                    status = 1
                break
            if not can_remove(proc, path):
                proc.error(f"rmdir: failed to remove {_q(d)}: Permission denied\n")
                status = 1
                break
            try:
                fs.remove(path)
            except FsError as e:
                proc.error(f"rmdir: failed to remove {_q(d)}: {_errno(e)}\n")
                status = 1
                break
    return status


@register_program("rm")
def rm(proc) -> int:
    """``rm [-rfiv] [-d] FILE...``."""
    try:
        flags, ops = _split_flags(proc.argv[1:], long_map={"recursive": "r", "force": "f", "verbose": "v",
                                                            "dir": "d", "interactive": "i",
                                                            "no-preserve-root": "_npr", "preserve-root": "_pr"})
    except _BadOption as e:
        return _bad_option(proc, e)
    recursive = "r" in flags or "R" in flags
    force = "f" in flags
    if not ops:
        if force:
            return 0
        return _usage(proc, "missing operand")
    fs = proc.fs
    status = 0
    for op in ops:
        path = proc.path(op)
        if path == "/" and recursive and "_npr" not in flags:
            proc.error("rm: it is dangerous to operate recursively on '/'\n"
                       "rm: use --no-preserve-root to override this failsafe\n")
            status = 1
            continue
        if posixpath.basename(op.rstrip("/")) in (".", ".."):
            proc.error(f"rm: refusing to remove '.' or '..' directory: skipping {_q(op)}\n")
            status = 1
            continue
        try:
            entry = fs.stat(path, follow=False)
        except (FsError, AivleError):
            if not force:
                proc.error(f"rm: cannot remove {_q(op)}: No such file or directory\n")
                status = 1
            continue
        if entry.is_dir and not recursive:
            if "d" in flags and not fs.listdir(path):
                pass
            else:
                proc.error(f"rm: cannot remove {_q(op)}: Is a directory\n")
                status = 1
                continue
        if not can_remove(proc, path):
            proc.error(f"rm: cannot remove {_q(op)}: Permission denied\n")
            status = 1
            continue
        if entry.is_dir and proc.uid != 0:
            denied = None
            for sub, e in fs.walk(path):
                if e.is_dir and not _allowed(proc, e, 2) and fs.listdir(sub):
                    denied = sub
                    break
            if denied is not None:
                first = fs.listdir(denied)[0]
                rel = op.rstrip("/") + denied[len(path):] + "/" + first
                proc.error(f"rm: cannot remove {_q(rel)}: Permission denied\n")
                status = 1
                continue
        try:
            fs.remove(path, recursive=True)
        except FsError as e:
            proc.error(f"rm: cannot remove {_q(op)}: {_errno(e)}\n")
            status = 1
            continue
        if "v" in flags:
            proc.write(f"removed {'directory ' if entry.is_dir else ''}{_q(op)}\n")
    return status


@register_program("touch")
def touch(proc) -> int:
    """``touch [-c] FILE...``: create empty files or update their time."""
    try:
        flags, ops = _split_flags(proc.argv[1:], "dtr", long_map={"no-create": "c", "date=": "d",
                                                                   "reference=": "r"})
    except _BadOption as e:
        return _bad_option(proc, e)
    if not ops:
        return _usage(proc, "missing file operand")
    fs = proc.fs
    status = 0
    for op in ops:
        path = proc.path(op)
        if fs.exists(path):
            if not can_write(proc, path) and fs.stat(path).uid != proc.uid:
                proc.error(f"touch: cannot touch {_q(op)}: Permission denied\n")
                status = 1
                continue
            touch_mtime(proc, path)
            continue
        if "c" in flags:
            continue
        parent = posixpath.dirname(path)
        if not fs.is_dir(parent):
            proc.error(f"touch: cannot touch {_q(op)}: {'No such file or directory' if not fs.exists(parent) else 'Not a directory'}\n")
            status = 1
            continue
        if not can_write(proc, path):
            proc.error(f"touch: cannot touch {_q(op)}: Permission denied\n")
            status = 1
            continue
        try:
            _write_file(proc, path, b"")
        except FsError as e:
            proc.error(f"touch: cannot touch {_q(op)}: {_errno(e)}\n")
            status = 1
    return status


def _copy_entry(proc, src_path: str, dst_path: str, entry: Entry, preserve: bool) -> None:
    fs = proc.fs
    if preserve:
        uid, gid = (entry.uid, entry.gid) if proc.uid == 0 else _new_file_owner(proc)
        mode = entry.mode
    else:
        uid, gid = _new_file_owner(proc)
        mode = entry.mode & ~default_umask(proc) if not fs.exists(dst_path) else None
    if entry.kind == "symlink":
        if fs.lexists(dst_path):
            fs.remove(dst_path)
        fs.symlink(entry.target, dst_path)
    elif fs.exists(dst_path):
        fs.write(dst_path, entry.data, mode=mode if preserve else None)
    else:
        fs.write(dst_path, entry.data, mode=mode if mode is not None else 0o644, uid=uid, gid=gid)
    touch_mtime(proc, dst_path)


def _prompt(proc, question: str) -> bool:
    proc.error(question)
    stdin = proc.stdin or b""
    answer = stdin.split(b"\n", 1)[0].strip().lower()
    proc.stdin = stdin.split(b"\n", 1)[1] if b"\n" in stdin else b""
    return answer.startswith(b"y")


def _sources_and_target(proc, name: str, flags: dict, ops: list[str]):
    """``cp``/``mv`` operands: ``(sources, target, target_path, target_is_dir)``, or an exit code
    after printing the usage error (missing operands, several sources into a non-directory)."""
    if "t" in flags:
        ops = ops + [flags["t"]]
    if len(ops) < 2:
        if not ops:
            return _usage(proc, "missing file operand")
        return _usage(proc, f"missing destination file operand after {_q(ops[0])}")
    *srcs, dst = ops
    dst_path = proc.path(dst)
    dst_is_dir = proc.fs.is_dir(dst_path) and "T" not in flags
    if len(srcs) > 1 and not dst_is_dir:
        proc.error(f"{name}: target {_q(dst)} is not a directory\n")
        return 1
    return srcs, dst, dst_path, dst_is_dir


@register_program("cp")
def cp(proc) -> int:
    """``cp [-rRapfinvT] SOURCE... DEST``."""
    try:
        flags, ops = _split_flags(proc.argv[1:], "t", long_map={
            "recursive": "r", "archive": "a", "force": "f", "interactive": "i", "no-clobber": "n",
            "verbose": "v", "preserve": "p", "no-target-directory": "T", "target-directory=": "t",
            "dereference": "L", "no-dereference": "P", "update": "u"})
    except _BadOption as e:
        return _bad_option(proc, e)
    recursive = bool({"r", "R", "a"} & set(flags))
    preserve = "a" in flags or "p" in flags
    operands = _sources_and_target(proc, "cp", flags, ops)
    if isinstance(operands, int):
        return operands
    srcs, dst, dst_path, dst_is_dir = operands
    fs = proc.fs
    status = 0
    for src in srcs:
        src_path = proc.path(src)
        try:
            entry = fs.stat(src_path)
        except (FsError, AivleError):
            proc.error(f"cp: cannot stat {_q(src)}: No such file or directory\n")
            status = 1
            continue
        target = join(dst_path, posixpath.basename(src_path.rstrip("/"))) if dst_is_dir else dst_path
        shown = (dst.rstrip("/") + "/" + posixpath.basename(src_path)) if dst_is_dir else dst
        if entry.is_dir and not recursive:
            proc.error(f"cp: -r not specified; omitting directory {_q(src)}\n")
            status = 1
            continue
        if not can_read(proc, src_path):
            proc.error(f"cp: cannot open {_q(src)} for reading: Permission denied\n")
            status = 1
            continue
        if entry.is_dir:
            if target == src_path or target.startswith(src_path.rstrip("/") + "/"):
                proc.error(f"cp: cannot copy a directory, {_q(src)}, into itself, {_q(shown)}\n")
                status = 1
                continue
            if fs.exists(target) and not fs.is_dir(target):
                proc.error(f"cp: cannot overwrite non-directory {_q(shown)} with directory {_q(src)}\n")
                status = 1
                continue
            if not fs.exists(posixpath.dirname(target)):
                proc.error(f"cp: cannot create directory {_q(shown)}: No such file or directory\n")
                status = 1
                continue
            if not fs.exists(target) and not can_write(proc, target):
                proc.error(f"cp: cannot create directory {_q(shown)}: Permission denied\n")
                status = 1
                continue
            uid, gid = _new_file_owner(proc)
            base = fs.resolve(src_path)
            items = [(base, entry)] + list(fs.walk(base))
            for path, e in items:
                rel = path[len(base):]
                out = target + rel
                if e.is_dir:
                    if not fs.exists(out):
                        fs.mkdir(out, mode=e.mode if preserve else e.mode & ~default_umask(proc),
                                 uid=e.uid if preserve and proc.uid == 0 else uid,
                                 gid=e.gid if preserve and proc.uid == 0 else gid)
                else:
                    if not can_write(proc, out):
                        proc.error(f"cp: cannot create regular file {_q(shown + rel)}: Permission denied\n")
                        status = 1
                        continue
                    _copy_entry(proc, path, out, e, preserve)
            if "v" in flags:
                proc.write(f"{_q(src)} -> {_q(shown)}\n")
            continue
        if fs.exists(target):
            if fs.is_dir(target):
                proc.error(f"cp: cannot overwrite directory {_q(shown)} with non-directory\n")
                status = 1
                continue
            if fs.resolve(target) == fs.resolve(src_path):
                proc.error(f"cp: {_q(src)} and {_q(shown)} are the same file\n")
                status = 1
                continue
            if "n" in flags:
                continue
            if "i" in flags and not _prompt(proc, f"cp: overwrite {_q(shown)}? "):
                continue
        parent = posixpath.dirname(target)
        if not fs.is_dir(parent):
            proc.error(f"cp: cannot create regular file {_q(shown)}: "
                       f"{'No such file or directory' if not fs.exists(parent) else 'Not a directory'}\n")
            status = 1
            continue
        if not can_write(proc, target):
            proc.error(f"cp: cannot create regular file {_q(shown)}: Permission denied\n")
            status = 1
            continue
        _copy_entry(proc, src_path, target, entry, preserve)
        if "v" in flags:
            proc.write(f"{_q(src)} -> {_q(shown)}\n")
    return status


@register_program("mv")
def mv(proc) -> int:
    """``mv [-finvT] SOURCE... DEST``."""
    try:
        flags, ops = _split_flags(proc.argv[1:], "t", long_map={
            "force": "f", "interactive": "i", "no-clobber": "n", "verbose": "v", "no-target-directory": "T",
            "target-directory=": "t"})
    except _BadOption as e:
        return _bad_option(proc, e)
    operands = _sources_and_target(proc, "mv", flags, ops)
    if isinstance(operands, int):
        return operands
    srcs, dst, dst_path, dst_is_dir = operands
    fs = proc.fs
    status = 0
    for src in srcs:
        src_path = proc.path(src)
        try:
            entry = fs.stat(src_path, follow=False)
        except (FsError, AivleError):
            proc.error(f"mv: cannot stat {_q(src)}: No such file or directory\n")
            status = 1
            continue
        target = join(dst_path, posixpath.basename(src_path)) if dst_is_dir else dst_path
        shown = (dst.rstrip("/") + "/" + posixpath.basename(src_path)) if dst_is_dir else dst
        if target == src_path:
            proc.error(f"mv: {_q(src)} and {_q(shown)} are the same file\n")
            status = 1
            continue
        if entry.is_dir and target.startswith(src_path.rstrip("/") + "/"):
            proc.error(f"mv: cannot move {_q(src)} to a subdirectory of itself, {_q(shown)}\n")
            status = 1
            continue
        if fs.exists(target):
            if "n" in flags:
                continue
            if fs.is_dir(target) and not entry.is_dir:
                proc.error(f"mv: cannot overwrite directory {_q(shown)} with non-directory\n")
                status = 1
                continue
            if fs.is_dir(target) and entry.is_dir and fs.listdir(target):
                proc.error(f"mv: cannot move {_q(src)} to {_q(shown)}: Directory not empty\n")
                status = 1
                continue
            if "i" in flags and not _prompt(proc, f"mv: overwrite {_q(shown)}? "):
                continue
        parent = posixpath.dirname(target)
        if not fs.is_dir(parent):
            proc.error(f"mv: cannot move {_q(src)} to {_q(shown)}: No such file or directory\n")
            status = 1
            continue
        if not can_remove(proc, src_path) or not can_write(proc, target) or \
                (fs.exists(target) and not can_remove(proc, target)):
            proc.error(f"mv: cannot move {_q(src)} to {_q(shown)}: Permission denied\n")
            status = 1
            continue
        try:
            if fs.exists(target):
                fs.remove(target, recursive=True)
            fs.rename(src_path, target)
        except FsError as e:
            proc.error(f"mv: cannot move {_q(src)} to {_q(shown)}: {_errno(e)}\n")
            status = 1
            continue
        touch_mtime(proc, target)
        if "v" in flags:
            proc.write(f"renamed {_q(src)} -> {_q(shown)}\n")
    return status


@register_program("ln")
def ln(proc) -> int:
    """``ln [-sfnv] TARGET LINK_NAME`` (hard links are copies: the filesystem has no inodes)."""
    try:
        flags, ops = _split_flags(proc.argv[1:], long_map={"symbolic": "s", "force": "f", "no-dereference": "n",
                                                            "verbose": "v", "relative": "r"})
    except _BadOption as e:
        return _bad_option(proc, e)
    if not ops:
        return _usage(proc, "missing file operand")
    fs = proc.fs
    if len(ops) == 1:
        ops = ops + [posixpath.basename(ops[0].rstrip("/")) or "."]
    *targets, link = ops
    link_path = proc.path(link)
    into_dir = fs.is_dir(link_path) and not ("n" in flags and fs.stat(link_path, follow=False).kind == "symlink")
    status = 0
    for target in targets:
        path = join(link_path, posixpath.basename(target.rstrip("/"))) if into_dir else link_path
        shown = (link.rstrip("/") + "/" + posixpath.basename(target)) if into_dir else link
        kind = "symbolic link" if "s" in flags else "hard link"
        if fs.lexists(path):
            if "f" not in flags:
                proc.error(f"ln: failed to create {kind} {_q(shown)}: File exists\n")
                status = 1
                continue
            if not can_remove(proc, path):
                proc.error(f"ln: cannot remove {_q(shown)}: Permission denied\n")
                status = 1
                continue
            fs.remove(path)
        parent = posixpath.dirname(path)
        if not fs.is_dir(parent):
            proc.error(f"ln: failed to create {kind} {_q(shown)}: No such file or directory\n")
            status = 1
            continue
        if not can_write(proc, path):
            proc.error(f"ln: failed to create {kind} {_q(shown)}: Permission denied\n")
            status = 1
            continue
        if "s" in flags:
            fs.symlink(target, path)
        else:
            src = proc.path(target)
            try:
                e = fs.stat(src)
            except (FsError, AivleError):
                proc.error(f"ln: failed to access {_q(target)}: No such file or directory\n")
                status = 1
                continue
            if e.is_dir:
                proc.error(f"ln: {_q(target)}: hard link not allowed for directory\n")
                status = 1
                continue
            fs.write(path, e.data, mode=e.mode, uid=e.uid, gid=e.gid)
        touch_mtime(proc, path)
        if "v" in flags:
            proc.write(f"{_q(shown)} -> {_q(target)}\n")
    return status


@register_program("chmod")
def chmod(proc) -> int:
    """``chmod [-R] MODE FILE...`` (owner or root only)."""
    args = proc.argv[1:]
    recursive = False
    verbose = False
    rest = []
    for a in args:
        if a in ("-R", "--recursive"):
            recursive = True
        elif a in ("-v", "--verbose", "-c", "--changes"):
            verbose = True
        elif a in ("-f", "--silent", "--quiet"):
            pass
        else:
            rest.append(a)
    if not rest:
        return _usage(proc, "missing operand")
    if len(rest) == 1:
        return _usage(proc, f"missing operand after {_q(rest[0])}")
    spec, files = rest[0], rest[1:]
    fs = proc.fs
    status = 0
    for op in files:
        path = proc.path(op)
        try:
            entry = fs.stat(path)
        except (FsError, AivleError):
            proc.error(f"chmod: cannot access {_q(op)}: No such file or directory\n")
            status = 1
            continue
        items = [(path, entry)] + (list(fs.walk(path)) if recursive and entry.is_dir else [])
        for p, e in items:
            if e.kind == "symlink":
                continue
            new = _parse_mode(spec, e.mode & 0o7777, e.is_dir, default_umask(proc))
            if new is None:
                proc.error(f"chmod: invalid mode: {_q(spec)}\nTry 'chmod --help' for more information.\n")
                return 1
            shown = op + p[len(path):]
            if proc.uid != 0 and e.uid != proc.uid:
                proc.error(f"chmod: changing permissions of {_q(shown)}: Operation not permitted\n")
                status = 1
                continue
            fs.chmod(p, new)
            if verbose:
                proc.write(f"mode of {_q(shown)} changed from {e.mode & 0o7777:04o} ({mode_string(e)[1:]}) to "
                           f"{new:04o} ({mode_string(Entry(e.kind, mode=new))[1:]})\n")
    return status


@register_program("chown")
def chown(proc) -> int:
    """``chown [-R] OWNER[:GROUP] FILE...`` (root only)."""
    args = proc.argv[1:]
    recursive = False
    rest = []
    for a in args:
        if a in ("-R", "--recursive"):
            recursive = True
        elif a in ("-v", "-f", "-h", "--verbose", "--silent", "-c"):
            pass
        else:
            rest.append(a)
    if not rest:
        return _usage(proc, "missing operand")
    if len(rest) == 1:
        return _usage(proc, f"missing operand after {_q(rest[0])}")
    spec, files = rest[0], rest[1:]
    owner, sep, group = spec.replace(".", ":", 1).partition(":") if ":" not in spec and "." in spec else spec.partition(":")
    uid = gid = None
    if owner:
        uid = user_uid(proc, owner)
        if uid is None:
            proc.error(f"chown: invalid user: {_lq(spec)}\n")
            return 1
    if group:
        gid = group_gid(proc, group)
        if gid is None:
            proc.error(f"chown: invalid group: {_lq(spec)}\n")
            return 1
    elif sep and uid is not None:
        gid = user_gid(proc, uid)
    fs = proc.fs
    status = 0
    for op in files:
        path = proc.path(op)
        try:
            entry = fs.stat(path)
        except (FsError, AivleError):
            proc.error(f"chown: cannot access {_q(op)}: No such file or directory\n")
            status = 1
            continue
        items = [(path, entry)] + (list(fs.walk(path)) if recursive and entry.is_dir else [])
        for p, e in items:
            if e.kind == "symlink":
                continue
            new_uid = e.uid if uid is None else uid
            new_gid = e.gid if gid is None else gid
            shown = op + p[len(path):]
            if proc.uid != 0 and (new_uid != e.uid or e.uid != proc.uid or
                                  (new_gid != e.gid and new_gid not in user_groups(proc, proc.uid))):
                proc.error(f"chown: changing ownership of {_q(shown)}: Operation not permitted\n")
                status = 1
                continue
            fs.chown(p, new_uid, new_gid)
    return status


@register_program("install")
def install(proc) -> int:
    """``install [-d] [-D] [-m MODE] [-o OWNER] [-g GROUP] [-v] SOURCE... DEST``."""
    try:
        flags, ops = _split_flags(proc.argv[1:], "mogtS", long_map={
            "directory": "d", "mode=": "m", "owner=": "o", "group=": "g", "verbose": "v",
            "target-directory=": "t", "compare": "C", "preserve-timestamps": "p", "strip": "s"})
    except _BadOption as e:
        return _bad_option(proc, e)
    fs = proc.fs
    mode = 0o755
    if "m" in flags:
        mode = _parse_mode(flags["m"], 0o755, "d" in flags, 0)
        if mode is None:
            proc.error(f"install: invalid mode {_lq(flags['m'])}\n")
            return 1
    uid, gid = _new_file_owner(proc)
    if "o" in flags:
        u = user_uid(proc, flags["o"])
        if u is None:
            proc.error(f"install: invalid user {_lq(flags['o'])}\n")
            return 1
        uid = u
        if "g" not in flags:
            gid = gid if proc.uid != 0 else gid
    if "g" in flags:
        g = group_gid(proc, flags["g"])
        if g is None:
            proc.error(f"install: invalid group {_lq(flags['g'])}\n")
            return 1
        gid = g
    if ("o" in flags or "g" in flags) and proc.uid != 0:
        target = ops[-1] if ops else ""
        proc.error(f"install: cannot change ownership of {_lq(target)}: Operation not permitted\n")
        return 1
    status = 0
    if "d" in flags:
        if not ops:
            return _usage(proc, "missing file operand")
        for op in ops:
            path = proc.path(op)
            for d in parent_dirs(path) + [path]:
                if fs.is_dir(d):
                    if d == path:
                        if proc.uid != 0 and fs.stat(d).uid != proc.uid:
                            proc.error(f"install: cannot change permissions of {_lq(op)}: Operation not permitted\n")
                            status = 1
                        else:
                            fs.chmod(d, mode)
                            if proc.uid == 0:
                                fs.chown(d, uid, gid)
                    continue
                if fs.exists(d):
                    proc.error(f"install: cannot create directory {_lq(op)}: File exists\n")
                    status = 1
                    break
                if not can_write(proc, d):
                    proc.error(f"install: cannot create directory {_lq(d if d != path else op)}: Permission denied\n")
                    status = 1
                    break
                fs.mkdir(d, mode=mode if d == path else 0o755, uid=uid, gid=gid)
                touch_mtime(proc, d)
                if "v" in flags:
                    proc.write(f"install: creating directory {_q(d)}\n")
        return status
    if "t" in flags:
        ops = ops + [flags["t"]]
    if len(ops) < 2:
        if not ops:
            return _usage(proc, "missing file operand")
        return _usage(proc, f"missing destination file operand after {_q(ops[0])}")
    *srcs, dst = ops
    dst_path = proc.path(dst)
    if "D" in flags:
        for d in parent_dirs(dst_path if len(srcs) == 1 else dst_path + "/x"):
            if not fs.exists(d):
                if not can_write(proc, d):
                    proc.error(f"install: cannot create directory {_lq(d)}: Permission denied\n")
                    return 1
                fs.mkdir(d, mode=0o755, uid=uid, gid=gid)
    into = fs.is_dir(dst_path)
    if len(srcs) > 1 and not into:
        proc.error(f"install: target {_q(dst)} is not a directory\n")
        return 1
    for src in srcs:
        src_path = proc.path(src)
        try:
            entry = fs.stat(src_path)
        except (FsError, AivleError):
            proc.error(f"install: cannot stat {_q(src)}: No such file or directory\n")
            status = 1
            continue
        if entry.is_dir:
            proc.error(f"install: omitting directory {_q(src)}\n")
            status = 1
            continue
        target = join(dst_path, posixpath.basename(src_path)) if into else dst_path
        if not fs.is_dir(posixpath.dirname(target)):
            proc.error(f"install: cannot create regular file {_q(dst)}: No such file or directory\n")
            status = 1
            continue
        if not can_write(proc, target):
            proc.error(f"install: cannot create regular file {_q(target if into else dst)}: Permission denied\n")
            status = 1
            continue
        fs.write(target, entry.data, mode=mode, uid=uid, gid=gid)
        fs.chmod(target, mode)
        fs.chown(target, uid, gid)
        touch_mtime(proc, target)
        if "v" in flags:
            proc.write(f"{_q(src)} -> {_q(target)}\n")
    return status


@register_program("readlink")
def readlink(proc) -> int:
    """``readlink [-f|-e|-m] [-n] FILE...``."""
    args = proc.argv[1:]
    mode = None
    newline = True
    ops = []
    for a in args:
        if a in ("-f", "--canonicalize"):
            mode = "f"
        elif a in ("-e", "--canonicalize-existing"):
            mode = "e"
        elif a in ("-m", "--canonicalize-missing"):
            mode = "m"
        elif a in ("-n", "--no-newline"):
            newline = False
        elif a in ("-v", "-q", "-s", "--verbose", "--quiet", "--silent", "-z"):
            pass
        else:
            ops.append(a)
    if not ops:
        return _usage(proc, "missing operand")
    fs = proc.fs
    status = 0
    for op in ops:
        path = proc.path(op)
        if mode is None:
            try:
                e = fs.stat(path, follow=False)
            except (FsError, AivleError):
                status = 1
                continue
            if e.kind != "symlink":
                status = 1
                continue
            out = e.target
        else:
            try:
                out = fs.resolve(path)
            except (FsError, AivleError):
                status = 1
                continue
            if mode == "e" and not fs.exists(out):
                status = 1
                continue
            if mode == "f" and not fs.exists(posixpath.dirname(out)):
                status = 1
                continue
        proc.write(out + ("\n" if newline or len(ops) > 1 else ""))
    return status


_STAT_KIND = {"file": "regular file", "dir": "directory", "symlink": "symbolic link", "socket": "socket"}


@register_program("stat")
def stat(proc) -> int:
    """``stat [-L] [-c FORMAT] FILE...``."""
    args = proc.argv[1:]
    fmt = None
    follow = False
    ops = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-c", "--format", "--printf"):
            i += 1
            fmt = args[i] if i < len(args) else ""
        elif a.startswith("--format=") or a.startswith("--printf="):
            fmt = a.split("=", 1)[1]
        elif a.startswith("-c") and len(a) > 2:
            fmt = a[2:]
        elif a in ("-L", "--dereference"):
            follow = True
        elif a in ("-t", "--terse", "-f"):
            pass
        else:
            ops.append(a)
        i += 1
    if not ops:
        return _usage(proc, "missing operand")
    fs = proc.fs
    status = 0
    for op in ops:
        path = proc.path(op)
        try:
            e = fs.stat(path, follow=follow)
        except (FsError, AivleError):
            proc.error(f"stat: cannot statx {_q(op)}: No such file or directory\n")
            status = 1
            continue
        size = 4096 if e.is_dir else (len(e.target) if e.kind == "symlink" else e.size)
        when = sim_datetime(proc, mtime(proc, path)).strftime("%Y-%m-%d %H:%M:%S.000000000 +0000")
        values = {
            "n": op, "N": f"'{op}'" + (f" -> '{e.target}'" if e.kind == "symlink" else ""), "s": str(size),
            "a": f"{e.mode & 0o7777:o}", "A": mode_string(e), "U": user_name(proc, e.uid), "u": str(e.uid),
            "G": group_name(proc, e.gid), "g": str(e.gid), "F": _STAT_KIND.get(e.kind, "regular file"),
            "i": str(_inode(path)), "h": "1", "b": str(_blocks(e) * 2), "B": "512", "o": "4096",
            "y": when, "Y": str(int(sim_datetime(proc, mtime(proc, path)).timestamp())), "x": when, "z": when,
            "w": "-", "d": "2049", "D": "801", "f": f"{e.mode:x}", "%": "%", "m": "/",
        }
        if fmt is not None:
            out = re.sub(r"%(.)", lambda m: values.get(m.group(1), "?"), fmt)
            proc.write(out + "\n")
            continue
        name = values["N"] if e.kind == "symlink" else op
        proc.write(
            f"  File: {name}\n"
            f"  Size: {size:<15} Blocks: {_blocks(e) * 2:<10} IO Block: 4096   {values['F']}\n"
            f"Device: 801h/2049d\tInode: {values['i']:<11} Links: {2 if e.is_dir else 1}\n"
            f"Access: ({e.mode & 0o7777:04o}/{mode_string(e)})  Uid: ({e.uid:5d}/{user_name(proc, e.uid):>8})   "
            f"Gid: ({e.gid:5d}/{group_name(proc, e.gid):>8})\n"
            f"Access: {when}\nModify: {when}\nChange: {when}\n Birth: -\n")
    return status


@register_program("dirname")
def dirname(proc) -> int:
    ops = [a for a in proc.argv[1:] if a not in ("-z", "--zero", "--")]
    if not ops:
        return _usage(proc, "missing operand")
    for op in ops:
        stripped = op.rstrip("/")
        if not stripped:
            proc.write("/\n" if op else ".\n")
            continue
        d = posixpath.dirname(stripped).rstrip("/")
        proc.write((d or ("/" if stripped.startswith("/") else ".")) + "\n")
    return 0


@register_program("basename")
def basename(proc) -> int:
    args = proc.argv[1:]
    multiple = False
    suffix = ""
    ops = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-a", "--multiple"):
            multiple = True
        elif a in ("-s", "--suffix"):
            i += 1
            suffix = args[i] if i < len(args) else ""
            multiple = True
        elif a.startswith("--suffix="):
            suffix = a.split("=", 1)[1]
            multiple = True
        elif a == "--":
            ops.extend(args[i + 1:])
            break
        else:
            ops.append(a)
        i += 1
    if not ops:
        return _usage(proc, "missing operand")
    if not multiple:
        if len(ops) > 2:
            return _usage(proc, f"extra operand {_q(ops[2])}")
        if len(ops) == 2:
            suffix = ops[1]
        ops = ops[:1]
    for op in ops:
        stripped = op.rstrip("/")
        base = posixpath.basename(stripped) if stripped else ("/" if op else "")
        if suffix and base.endswith(suffix) and base != suffix:
            base = base[:-len(suffix)]
        proc.write(base + "\n")
    return 0


# ---------------------------------------------------------------------------
# disk usage


@register_program("du")
def du(proc) -> int:
    """``du [-s] [-h] [-a] [-c] [-d N] [FILE...]`` in 1K blocks (4K per file, like ext4)."""
    try:
        flags, ops = _split_flags(proc.argv[1:], "dB", long_map={
            "summarize": "s", "human-readable": "h", "all": "a", "total": "c", "max-depth=": "d",
            "bytes": "b", "apparent-size": "_app", "si": "H"})
    except _BadOption as e:
        return _bad_option(proc, e)
    fs = proc.fs
    max_depth = 0 if "s" in flags else (int(flags["d"]) if "d" in flags and _isnum(str(flags["d"])) else None)
    bytes_mode = "b" in flags
    scale = 1 if bytes_mode else 1024
    k_scale = {"k": 1, "m": 1024}.get(next((f for f in ("m", "k") if f in flags), "k"), 1)

    def fmt(blocks_or_bytes: int) -> str:
        if "h" in flags:
            return human_size(blocks_or_bytes * (1 if bytes_mode else 1024))
        if bytes_mode:
            return str(blocks_or_bytes)
        return str((blocks_or_bytes + k_scale - 1) // k_scale)

    status = 0
    grand = 0
    lines = []

    def size_of(e: Entry) -> int:
        return (4096 if e.is_dir else e.size) if bytes_mode else _blocks(e)

    def walk(path: str, shown: str, depth: int) -> int:
        nonlocal status
        try:
            e = fs.stat(path, follow=False)
        except (FsError, AivleError):
            return 0
        total = size_of(e)
        if e.is_dir:
            if not can_access(proc, path, 4) or not can_access(proc, path, 1):
                proc.error(f"du: cannot read directory {_q(shown)}: Permission denied\n")
                status = 1
            else:
                for name in fs.listdir(path):
                    total += walk(join(path, name), shown.rstrip("/") + "/" + name, depth + 1)
            if max_depth is None or depth <= max_depth:
                lines.append(f"{fmt(total)}\t{shown}")
        elif "a" in flags and (max_depth is None or depth <= max_depth):
            lines.append(f"{fmt(total)}\t{shown}")
        elif depth == 0:
            lines.append(f"{fmt(total)}\t{shown}")
        return total

    for op in ops or ["."]:
        path = proc.path(op)
        if not fs.lexists(path):
            proc.error(f"du: cannot access {_q(op)}: No such file or directory\n")
            status = 1
            continue
        grand += walk(path, op, 0)
    if "c" in flags:
        lines.append(f"{fmt(grand)}\ttotal")
    if lines:
        proc.write("\n".join(lines) + "\n")
    return status


def _disk_rows(proc) -> list[tuple[str, str, int, int, str]]:
    owner = getattr(proc.kernel, "owner", None)
    disk = int(getattr(owner, "disk", 40 * 1024**3) or 40 * 1024**3)
    mem = int(getattr(proc.kernel, "memory_total", 4 * 1024**3))
    try:
        used_fs = proc.fs.usage()
    except Exception:  # pragma: no cover - defensive: usage() walks the whole tree
        used_fs = 0
    in_container = owner is not None and getattr(owner, "ns", None) is not proc.ns and proc.ns.name != "host"
    base_used = int(disk * 0.11) + used_fs
    if in_container:
        rows = [("overlay", "overlay", disk, base_used, "/"),
                ("tmpfs", "tmpfs", 64 * 1024**2, 0, "/dev"),
                ("shm", "tmpfs", 64 * 1024**2, 0, "/dev/shm"),
                ("/dev/sda1", "ext4", disk, base_used, "/etc/hosts")]
        for point in sorted(proc.fs.mounts):
            rows.append(("/dev/sda1", "ext4", disk, base_used, point))
        return rows
    rows = [("tmpfs", "tmpfs", mem // 10, 1126400, "/run"),
            ("/dev/sda1", "ext4", disk, base_used, "/"),
            ("tmpfs", "tmpfs", mem // 2, 0, "/dev/shm"),
            ("tmpfs", "tmpfs", 5 * 1024**2, 0, "/run/lock"),
            ("/dev/sda15", "vfat", 105 * 1024**2, 6 * 1024**2 + 186368, "/boot/efi"),
            ("tmpfs", "tmpfs", mem // 10, 4096, "/run/user/1000")]
    return rows


@register_program("df")
def df(proc) -> int:
    """``df [-h] [-T] [FILE...]``."""
    try:
        flags, ops = _split_flags(proc.argv[1:], long_map={"human-readable": "h", "print-type": "T", "si": "H",
                                                            "all": "a", "local": "l", "inodes": "i"})
    except _BadOption as e:
        return _bad_option(proc, e)
    rows = _disk_rows(proc)
    status = 0
    if ops:
        chosen = []
        for op in ops:
            path = proc.path(op)
            if not proc.fs.exists(path):
                proc.error(f"df: {op}: No such file or directory\n")
                status = 1
                continue
            best = max((r for r in rows if path == r[4] or path.startswith(r[4].rstrip("/") + "/")),
                       key=lambda r: len(r[4]), default=rows[0])
            if best not in chosen:
                chosen.append(best)
        rows = chosen
        if not rows:
            return status
    human = "h" in flags or "H" in flags
    header = ["Filesystem"] + (["Type"] if "T" in flags else []) + (
        ["Size", "Used", "Avail", "Use%", "Mounted on"] if human else ["1K-blocks", "Used", "Available", "Use%", "Mounted on"])
    table = [header]
    for fsname, fstype, size, used, point in rows:
        avail = max(0, size - used)
        pct = "-" if size == 0 else f"{-(-used * 100 // size)}%"
        if human:
            vals = [human_size(size), human_size(used) if used else "0", human_size(avail)]
        else:
            vals = [str(size // 1024), str(used // 1024), str(avail // 1024)]
        table.append([fsname] + ([fstype] if "T" in flags else []) + vals + [pct, point])
    ncols = len(header)
    widths = [max(len(r[c]) for r in table) for c in range(ncols)]
    widths[0] = max(widths[0], 14)
    first_num = 2 if "T" in flags else 1
    for c in range(first_num, ncols - 2):
        widths[c] = max(widths[c], 5)
    for r in table:
        cells = []
        for c, v in enumerate(r):
            if c == ncols - 1:
                cells.append(v)
            elif c == 0 or (c == 1 and "T" in flags):
                cells.append(v.ljust(widths[c]))
            else:
                cells.append(v.rjust(widths[c]))
        proc.write(" ".join(cells) + "\n")
    return status


@register_program("mount")
def mount(proc) -> int:
    """``mount`` lists mounts; ``mount --bind SRC DST`` (root) bind-mounts a directory."""
    args = proc.argv[1:]
    fs = proc.fs
    owner = getattr(proc.kernel, "owner", None)
    in_container = owner is not None and getattr(owner, "ns", None) is not proc.ns and proc.ns.name != "host"
    if not args or args in (["-l"], ["-v"]) or (args[0] == "-t" and len(args) == 2):
        rows = []
        if in_container:
            rows.append("overlay on / type overlay (rw,relatime,lowerdir=/var/lib/docker/overlay2/l,"
                        "upperdir=/var/lib/docker/overlay2/diff,workdir=/var/lib/docker/overlay2/work)")
            rows.append("proc on /proc type proc (rw,nosuid,nodev,noexec,relatime)")
            rows.append("tmpfs on /dev type tmpfs (rw,nosuid,size=65536k,mode=755)")
            rows.append("sysfs on /sys type sysfs (ro,nosuid,nodev,noexec,relatime)")
            rows.append("cgroup on /sys/fs/cgroup type cgroup2 (ro,nosuid,nodev,noexec,relatime)")
        else:
            rows.append("sysfs on /sys type sysfs (rw,nosuid,nodev,noexec,relatime)")
            rows.append("proc on /proc type proc (rw,nosuid,nodev,noexec,relatime)")
            rows.append("udev on /dev type devtmpfs (rw,nosuid,relatime,size=1967588k,nr_inodes=491897,mode=755)")
            rows.append("tmpfs on /run type tmpfs (rw,nosuid,nodev,noexec,relatime,size=401216k,mode=755)")
            rows.append("/dev/sda1 on / type ext4 (rw,relatime,discard,errors=remount-ro)")
            rows.append("cgroup2 on /sys/fs/cgroup type cgroup2 (rw,nosuid,nodev,noexec,relatime)")
            rows.append("/dev/sda15 on /boot/efi type vfat (rw,relatime,fmask=0077,dmask=0077)")
        for point in sorted(fs.mounts):
            rows.append(f"/dev/sda1 on {point} type ext4 (rw,relatime)" if not in_container
                        else f"/dev/sda1 on {point} type ext4 (rw,relatime,discard,errors=remount-ro)")
        if len(args) == 2 and args[0] == "-t":
            rows = [r for r in rows if f" type {args[1]} " in r]
        proc.write("".join(r + "\n" for r in rows))
        return 0
    if proc.uid != 0:
        target = next((a for a in reversed(args) if not a.startswith("-")), "")
        proc.error(f"mount: {target}: must be superuser to use mount.\n")
        return 32
    ops = [a for a in args if not a.startswith("-")]
    if ("--bind" in args or "-B" in args or "--rbind" in args) and len(ops) == 2:
        src, dst = proc.path(ops[0]), proc.path(ops[1])
        if not fs.exists(src):
            proc.error(f"mount: {ops[1]}: special device {ops[0]} does not exist.\n")
            return 32
        if not fs.is_dir(dst) and not fs.is_file(dst):
            proc.error(f"mount: {ops[1]}: mount point does not exist.\n")
            return 32
        fs.mount(dst, fs, fs.resolve(src))
        return 0
    if len(ops) >= 2:
        proc.error(f"mount: {ops[-1]}: special device {ops[-2]} does not exist.\n")
        return 32
    proc.error(f"mount: {ops[0] if ops else ''}: can't find in /etc/fstab.\n")
    return 1


# ---------------------------------------------------------------------------
# text processing


def _lines(data: bytes) -> list[bytes]:
    """Lines without their newline; a missing final newline still ends a line."""
    if not data:
        return []
    parts = data.split(b"\n")
    if parts[-1] == b"":
        parts.pop()
    return parts


@register_program("wc")
def wc(proc) -> int:
    """``wc [-lwcmL] [FILE...]``."""
    try:
        flags, ops = _split_flags(proc.argv[1:], long_map={"lines": "l", "words": "w", "bytes": "c",
                                                            "chars": "m", "max-line-length": "L"})
    except _BadOption as e:
        return _bad_option(proc, e)
    wanted = [c for c in "lwmcL" if c in flags] or ["l", "w", "c"]
    status = 0
    rows = []
    totals = {c: 0 for c in "lwmcL"}
    sizes = 0
    from_stdin = not ops or "-" in ops
    for name in ops or ["-"]:
        try:
            data = _read_input(proc, name)
        except FsError as e:
            proc.error(f"wc: {name}: {_errno(e)}\n")
            status = 1
            continue
        text = data.decode("utf-8", errors="replace")
        counts = {"l": data.count(b"\n"), "w": len(data.split()), "c": len(data), "m": len(text),
                  "L": max((len(x) for x in text.split("\n")), default=0)}
        for c in totals:
            totals[c] = max(totals[c], counts[c]) if c == "L" else totals[c] + counts[c]
        sizes += len(data)
        rows.append((counts, None if name == "-" and not ops else name))
    if len(rows) > 1:
        rows.append((totals, "total"))
    if len(wanted) == 1 and len(rows) == 1:
        width = 1
    elif from_stdin:
        width = 7
    else:
        width = max(1, len(str(sizes)))
    for counts, name in rows:
        line = " ".join(str(counts[c]).rjust(width) for c in wanted)
        proc.write(line + (f" {name}" if name is not None else "") + "\n")
    return status


@register_program("grep")
def grep(proc) -> int:
    """``grep [-ivcnqElLwxohHrsFA B C] PATTERN [FILE...]``: exit 0 on a match, 1 on none, 2 on error."""
    args = proc.argv[1:]
    flags: dict[str, Any] = {}
    patterns: list[str] = []
    ops: list[str] = []
    long_map = {"ignore-case": "i", "invert-match": "v", "count": "c", "line-number": "n", "quiet": "q",
                "silent": "q", "extended-regexp": "E", "fixed-strings": "F", "basic-regexp": "G",
                "files-with-matches": "l", "files-without-match": "L", "word-regexp": "w", "line-regexp": "x",
                "only-matching": "o", "no-filename": "h", "with-filename": "H", "recursive": "r",
                "dereference-recursive": "R", "no-messages": "s", "text": "a"}
    i = 0
    try:
        while i < len(args):
            a = args[i]
            if a == "--":
                ops.extend(args[i + 1:])
                break
            if a.startswith("--"):
                name, eq, val = a[2:].partition("=")
                if name in ("color", "colour", "include", "exclude", "exclude-dir", "label"):
                    if name in ("include", "exclude", "exclude-dir") and eq:
                        flags.setdefault(name, []).append(val)
                    i += 1
                    continue
                if name in ("regexp", "file", "max-count", "context", "after-context", "before-context"):
                    if not eq:
                        i += 1
                        val = args[i] if i < len(args) else ""
                    key = {"regexp": "e", "file": "f", "max-count": "m", "context": "C", "after-context": "A",
                           "before-context": "B"}[name]
                    if key == "e":
                        patterns.append(val)
                    else:
                        flags[key] = val
                    i += 1
                    continue
                if name not in long_map:
                    raise _BadOption(a)
                flags[long_map[name]] = True
                i += 1
                continue
            if a.startswith("-") and len(a) > 1:
                j = 1
                while j < len(a):
                    c = a[j]
                    if c in "efmABC":
                        val = a[j + 1:] or (args[i + 1] if i + 1 < len(args) else None)
                        if val is None:
                            raise _BadOption("-" + c, missing=True)
                        if not a[j + 1:]:
                            i += 1
                        if c == "e":
                            patterns.append(val)
                        else:
                            flags[c] = val
                        break
                    if _isnum(c):
                        flags["C"] = a[j:]
                        break
                    if c not in "ivcnqEFGlLwxohHrRsaIPuUZz":
                        raise _BadOption("-" + c)
                    flags[c] = True
                    j += 1
                i += 1
                continue
            ops.append(a)
            i += 1
    except _BadOption as e:
        if e.missing:
            proc.error(f"grep: option requires an argument -- '{e.opt.lstrip('-')}'\n")
        elif e.opt.startswith("--"):
            proc.error(f"grep: unrecognized option '{e.opt}'\n")
        else:
            proc.error(f"grep: invalid option -- '{e.opt.lstrip('-')}'\n")
        proc.error("Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n")
        return 2
    if "f" in flags:
        try:
            patterns.extend(_read_input(proc, flags["f"]).decode("utf-8", "replace").splitlines())
        except FsError as e:
            proc.error(f"grep: {flags['f']}: {_errno(e)}\n")
            return 2
    if not patterns:
        if not ops:
            proc.error("Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n")
            return 2
        patterns = [ops.pop(0)]
    expanded = []
    for p in patterns:
        expanded.extend(p.split("\n"))
    extended = "E" in flags or "P" in flags
    try:
        rxs = []
        for p in expanded:
            if "F" in flags:
                rx = re.escape(p)
            elif "P" in flags:
                rx = p
            else:
                rx = bre_to_python(p, extended=extended)
            if "w" in flags:
                rx = r"(?<!\w)(?:" + rx + r")(?!\w)"
            if "x" in flags:
                rx = r"^(?:" + rx + r")$"
            rxs.append(rx)
        regex = re.compile("|".join(f"(?:{r})" for r in rxs), re.IGNORECASE if "i" in flags else 0)
    except (re.error, OverflowError, RecursionError):
        proc.error("grep: Unmatched ( or \\(\n" if "(" in "".join(expanded) else "grep: Invalid regular expression\n")
        return 2
    recursive = "r" in flags or "R" in flags
    implicit = not ops
    if not ops:
        ops = ["."] if recursive else ["-"]
    files: list[tuple[str, str]] = []
    status_err = False
    fs = proc.fs
    for op in ops:
        if op == "-":
            files.append(("(standard input)", "-"))
            continue
        path = proc.path(op)
        if fs.is_dir(path):
            if not recursive:
                if "s" not in flags:
                    proc.error(f"grep: {op}: Is a directory\n")
                status_err = True
                continue
            for sub, e in fs.walk(path):
                if e.is_file:
                    shown = sub[len(path) + 1:] if implicit else (op.rstrip("/") + sub[len(path):])
                    if flags.get("include") and not any(re.fullmatch(_glob_rx(g), posixpath.basename(sub)) for g in flags["include"]):
                        continue
                    files.append((shown, sub))
            continue
        files.append((op, path))
    show_names = ("H" in flags or len(files) > 1 or recursive) and "h" not in flags
    matched_any = False
    max_count = int(flags["m"]) if "m" in flags and _isnum(str(flags["m"])) else None
    ctx = lambda key: str(flags.get(key) or flags.get("C") or "0")
    after = int(ctx("A")) if _isnum(ctx("A")) else 0
    before = int(ctx("B")) if _isnum(ctx("B")) else 0
    out: list[str] = []
    for shown, path in files:
        try:
            data = proc.stdin if path == "-" else _read_input(proc, path)
        except FsError as e:
            if "s" not in flags:
                proc.error(f"grep: {shown}: {_errno(e)}\n")
            status_err = True
            continue
        text = data.decode("utf-8", errors="replace")
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        count = 0
        last_printed = -1
        pending_after = 0
        for n, line in enumerate(lines, 1):
            hit = regex.search(line) is not None
            if "v" in flags:
                hit = not hit
            if hit:
                count += 1
                matched_any = True
                if "q" in flags:
                    return 0
                if "l" in flags or "L" in flags or "c" in flags:
                    if max_count is not None and count >= max_count:
                        break
                    continue
                if before:
                    start = max(last_printed + 1, n - 1 - before)
                    if last_printed >= 0 and start > last_printed + 1:
                        out.append("--")
                    for k in range(start, n - 1):
                        out.append((f"{shown}-" if show_names else "") + (f"{k + 1}-" if "n" in flags else "") + lines[k])
                elif after and last_printed >= 0 and n - 1 > last_printed + 1:
                    out.append("--")
                prefix = (f"{shown}:" if show_names else "") + (f"{n}:" if "n" in flags else "")
                if "o" in flags and "v" not in flags:
                    for m in regex.finditer(line):
                        if m.group():
                            out.append(prefix + m.group())
                else:
                    out.append(prefix + line)
                last_printed = n - 1
                pending_after = after
                if max_count is not None and count >= max_count:
                    break
            elif pending_after:
                out.append((f"{shown}-" if show_names else "") + (f"{n}-" if "n" in flags else "") + line)
                last_printed = n - 1
                pending_after -= 1
        if "c" in flags:
            out.append((f"{shown}:" if show_names else "") + str(count))
        if "l" in flags and count:
            out.append(shown)
        if "L" in flags and not count:
            out.append(shown)
    if out:
        proc.write("\n".join(out) + "\n")
    if status_err and not ("q" in flags and matched_any):
        return 2
    if "L" in flags:
        return 0 if out else 1
    return 0 if matched_any else 1


def _glob_rx(pattern: str) -> str:
    from .shell import glob_to_regex

    return glob_to_regex(pattern)


def _head_tail_count(proc, flags: dict, default: int = 10) -> tuple[str, int, bool] | None:
    """(unit 'n'|'c', count, special) where special means '-n -N' for head or '-n +N' for tail."""
    unit, value = "n", str(default)
    if "c" in flags:
        unit, value = "c", str(flags["c"])
    elif "n" in flags:
        value = str(flags["n"])
    special = value.startswith("-") or value.startswith("+")
    sign = value[:1] if special else ""
    num = value[1:] if special else value
    m = re.fullmatch(r"(\d+)([kKmMbB]?)", num)
    if not m:
        return None
    n = int(m.group(1)) * {"": 1, "k": 1024, "K": 1024, "m": 1024**2, "M": 1024**2, "b": 512, "B": 512}[m.group(2)]
    return unit, n, sign


def _numeric_shorthand(args: list[str]) -> list[str]:
    """``head -5`` means ``head -n 5``."""
    return [("-n" + a[1:]) if re.fullmatch(r"-\d+", a) else a for a in args]


@register_program("head")
def head(proc) -> int:
    """``head [-n N|-N] [-c N] [FILE...]``."""
    try:
        flags, ops = _split_flags(_numeric_shorthand(proc.argv[1:]), "nc",
                                  long_map={"lines=": "n", "bytes=": "c", "quiet": "q", "silent": "q", "verbose": "v"})
    except _BadOption as e:
        return _bad_option(proc, e)
    spec = _head_tail_count(proc, flags)
    if spec is None:
        what = "lines" if "c" not in flags else "bytes"
        proc.error(f"head: invalid number of {what}: {_q(str(flags.get('n', flags.get('c'))))}\n")
        return 1
    unit, n, sign = spec
    status = 0
    names = ops or ["-"]
    for idx, name in enumerate(names):
        try:
            data = _read_input(proc, name)
        except FsError as e:
            why = _errno(e)
            proc.error(f"head: cannot open {_q(name)} for reading: {why}\n" if why != "Is a directory"
                       else f"head: error reading {_q(name)}: Is a directory\n")
            status = 1
            continue
        if (len(names) > 1 or "v" in flags) and "q" not in flags:
            proc.write(("\n" if idx else "") + f"==> {'standard input' if name == '-' else name} <==\n")
        if unit == "c":
            proc.write(data[:-n] if sign == "-" and n else (b"" if sign == "-" else data[:n]))
            continue
        pieces = data.split(b"\n")
        lines = [p + b"\n" for p in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
        chosen = lines[:-n] if sign == "-" and n else (lines if sign == "-" else lines[:n])
        proc.write(b"".join(chosen))
    return status


@register_program("tail")
def tail(proc) -> Gen:
    """``tail [-n N|-n +N] [-c N] [-f] [FILE...]`` (``-f`` follows the file as it grows)."""
    try:
        flags, ops = _split_flags(_numeric_shorthand(proc.argv[1:]), "nc",
                                  long_map={"lines=": "n", "bytes=": "c", "follow": "f", "quiet": "q",
                                            "silent": "q", "verbose": "v", "retry": "_retry"})
    except _BadOption as e:
        return _bad_option(proc, e)
    if "F" in flags:
        flags["f"] = True
    spec = _head_tail_count(proc, flags)
    if spec is None:
        what = "lines" if "c" not in flags else "bytes"
        proc.error(f"tail: invalid number of {what}: {_q(str(flags.get('n', flags.get('c'))))}\n")
        return 1
    unit, n, sign = spec
    status = 0
    names = ops or ["-"]
    sizes: dict[str, int] = {}
    for idx, name in enumerate(names):
        try:
            data = _read_input(proc, name)
        except FsError as e:
            proc.error(f"tail: cannot open {_q(name)} for reading: {_errno(e)}\n")
            status = 1
            continue
        sizes[name] = len(data)
        if (len(names) > 1 or "v" in flags) and "q" not in flags:
            proc.write(("\n" if idx else "") + f"==> {'standard input' if name == '-' else name} <==\n")
        if unit == "c":
            proc.write(data[max(0, n - 1):] if sign == "+" else (data[-n:] if n else b""))
            continue
        pieces = data.split(b"\n")
        lines = [p + b"\n" for p in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
        proc.write(b"".join(lines[max(0, n - 1):] if sign == "+" else (lines[-n:] if n else [])))
    if "f" in flags and any(nm != "-" for nm in names):
        while True:
            yield proc.sleep(1.0)
            for name in names:
                if name == "-":
                    continue
                try:
                    data = proc.fs.read(proc.path(name))
                except (FsError, AivleError):
                    continue
                old = sizes.get(name, 0)
                if len(data) < old:
                    proc.error(f"tail: {name}: file truncated\n")
                    old = 0
                if len(data) > old:
                    proc.write(data[old:])
                sizes[name] = len(data)
    return status


@register_program("tee")
def tee(proc) -> int:
    """``tee [-a] [FILE...]``: copy standard input to standard output and to each file."""
    try:
        flags, ops = _split_flags(proc.argv[1:], long_map={"append": "a", "ignore-interrupts": "i",
                                                            "output-error": "_oe"})
    except _BadOption as e:
        return _bad_option(proc, e)
    data = proc.stdin
    status = 0
    fs = proc.fs
    for name in ops:
        if name == "-":
            proc.write(data)
            continue
        path = proc.path(name)
        try:
            if fs.is_dir(path):
                raise FsError(f"{name}: Is a directory", errno="EISDIR")
            parent = posixpath.dirname(path)
            if not fs.exists(parent):
                raise FsError(f"{name}: No such file or directory", errno="ENOENT")
            _write_file(proc, path, data, append="a" in flags)
        except FsError as e:
            proc.error(f"tee: {name}: {_errno(e)}\n")
            status = 1
    proc.write(data)
    return status


def _expand_tr_set(spec: str) -> list[str]:
    classes = {"upper": [chr(c) for c in range(65, 91)], "lower": [chr(c) for c in range(97, 123)],
               "digit": [chr(c) for c in range(48, 58)], "space": list(" \t\n\r\f\v"), "blank": [" ", "\t"],
               "alpha": [chr(c) for c in range(65, 91)] + [chr(c) for c in range(97, 123)],
               "alnum": [chr(c) for c in range(48, 58)] + [chr(c) for c in range(65, 91)] + [chr(c) for c in range(97, 123)],
               "punct": [chr(c) for c in range(33, 127) if not chr(c).isalnum()],
               "xdigit": list("0123456789ABCDEFabcdef"), "cntrl": [chr(c) for c in range(32)] + ["\x7f"],
               "print": [chr(c) for c in range(32, 127)], "graph": [chr(c) for c in range(33, 127)]}
    out: list[str] = []
    i = 0
    esc = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
    chars: list[str] = []
    while i < len(spec):
        if spec.startswith("[:", i):
            k = spec.find(":]", i + 2)
            if k >= 0 and spec[i + 2:k] in classes:
                chars.append(("class", spec[i + 2:k]))  # type: ignore[arg-type]
                i = k + 2
                continue
        c = spec[i]
        if c == "\\" and i + 1 < len(spec):
            d = spec[i + 1]
            if d in "01234567":
                m = re.match(r"[0-7]{1,3}", spec[i + 1:])
                chars.append(chr(int(m.group(), 8)))
                i += 1 + len(m.group())
                continue
            chars.append(esc.get(d, d))
            i += 2
            continue
        chars.append(c)
        i += 1
    j = 0
    while j < len(chars):
        c = chars[j]
        if isinstance(c, tuple):
            out.extend(classes[c[1]])
            j += 1
            continue
        if j + 2 < len(chars) and chars[j + 1] == "-" and not isinstance(chars[j + 2], tuple):
            a, b = ord(c), ord(chars[j + 2])
            if a <= b:
                out.extend(chr(x) for x in range(a, b + 1))
            j += 3
            continue
        out.append(c)
        j += 1
    return out


@register_program("tr")
def tr(proc) -> int:
    """``tr [-d] [-s] [-c] SET1 [SET2]``."""
    args = proc.argv[1:]
    flags = set()
    while args and args[0].startswith("-") and len(args[0]) > 1 and args[0] != "--":
        for c in args[0][1:]:
            if c not in "dscCt":
                return _usage(proc, f"invalid option -- '{c}'")
            flags.add(c)
        args = args[1:]
    if args and args[0] == "--":
        args = args[1:]
    if not args:
        return _usage(proc, "missing operand")
    if "d" not in flags and "s" not in flags and len(args) < 2:
        return _usage(proc, f"missing operand after {_q(args[0])}\nTwo strings must be given when translating.")
    set1 = _expand_tr_set(args[0])
    set2 = _expand_tr_set(args[1]) if len(args) > 1 else []
    text = proc.stdin.decode("latin-1")
    complement = "c" in flags or "C" in flags
    member = (lambda ch: ch not in set1) if complement else (lambda ch: ch in set1)
    if "d" in flags:
        text = "".join(ch for ch in text if not member(ch))
        squeeze = set(set2) if "s" in flags else set()
    elif set2:
        if complement:
            mapping = None
            repl = set2[-1]
            text = "".join(repl if member(ch) else ch for ch in text)
        else:
            if "t" in flags:
                set1 = set1[:len(set2)]
            padded = set2 + [set2[-1]] * max(0, len(set1) - len(set2))
            mapping = {}
            for a, b in zip(set1, padded):
                mapping[a] = b
            text = "".join(mapping.get(ch, ch) for ch in text)
        squeeze = set(set2) if "s" in flags else set()
    else:
        squeeze = set(ch for ch in set1) if not complement else None
    if "s" in flags:
        out = []
        for ch in text:
            in_sq = (ch in squeeze) if squeeze is not None else member(ch)
            if out and out[-1] == ch and in_sq:
                continue
            out.append(ch)
        text = "".join(out)
    proc.write(text.encode("latin-1"))
    return 0


def _cut_ranges(spec: str) -> list[tuple[int, int]] | None:
    ranges = []
    for part in spec.split(","):
        m = re.fullmatch(r"(\d*)-(\d*)|(\d+)", part.strip())
        if not m:
            return None
        if m.group(3):
            n = int(m.group(3))
            if n == 0:
                return None
            ranges.append((n, n))
        else:
            a = int(m.group(1)) if m.group(1) else 1
            b = int(m.group(2)) if m.group(2) else 1 << 30
            if a == 0 or (not m.group(1) and not m.group(2)):
                return None
            ranges.append((a, b))
    return ranges


@register_program("cut")
def cut(proc) -> int:
    """``cut -d DELIM -f LIST | -c LIST | -b LIST [-s] [--complement] [FILE...]``."""
    try:
        flags, ops = _split_flags(proc.argv[1:], "dfcb", long_map={
            "delimiter=": "d", "fields=": "f", "characters=": "c", "bytes=": "b", "only-delimited": "s",
            "complement": "_comp", "output-delimiter=": "_od"})
    except _BadOption as e:
        return _bad_option(proc, e)
    modes = [m for m in "fcb" if m in flags]
    if len(modes) != 1:
        if not modes:
            return _usage(proc, "you must specify a list of bytes, characters, or fields")
        return _usage(proc, "only one type of list may be specified")
    mode = modes[0]
    ranges = _cut_ranges(str(flags[mode]))
    if ranges is None:
        proc.error(f"cut: invalid field value {_q(str(flags[mode]))}\nTry 'cut --help' for more information.\n"
                   if "0" in str(flags[mode]) else
                   f"cut: invalid byte, character or field list\nTry 'cut --help' for more information.\n")
        return 1
    delim = flags.get("d", "\t")
    if mode == "f" and len(delim) != 1:
        return _usage(proc, "the delimiter must be a single character")
    out_delim = flags.get("_od", delim if mode == "f" else "")
    comp = "_comp" in flags

    def pick(n: int) -> bool:
        inside = any(a <= n <= b for a, b in ranges)
        return not inside if comp else inside

    status = 0
    out = []
    for name in ops or ["-"]:
        try:
            data = _read_input(proc, name)
        except FsError as e:
            proc.error(f"cut: {name}: {_errno(e)}\n")
            status = 1
            continue
        for line in data.decode("utf-8", errors="replace").split("\n")[:-1] if data.endswith(b"\n") else \
                data.decode("utf-8", errors="replace").split("\n") if data else []:
            if mode == "f":
                if delim not in line:
                    if "s" not in flags:
                        out.append(line)
                    continue
                fields = line.split(delim)
                out.append(out_delim.join(f for i, f in enumerate(fields, 1) if pick(i)))
            else:
                out.append(out_delim.join(ch for i, ch in enumerate(line, 1) if pick(i)) if out_delim else
                           "".join(ch for i, ch in enumerate(line, 1) if pick(i)))
    if out:
        proc.write("\n".join(out) + "\n")
    return status


def _sort_key_parse(spec: str) -> tuple[int, int | None, str, int, int]:
    """``-k F1[.C1][opts][,F2[.C2][opts]]``."""
    m = re.fullmatch(r"(\d+)(?:\.(\d+))?([bdfghinMrRV]*)(?:,(\d+)(?:\.(\d+))?([bdfghinMrRV]*))?", spec)
    if not m:
        raise ValueError(spec)
    f1 = int(m.group(1))
    c1 = int(m.group(2) or 1)
    f2 = int(m.group(4)) if m.group(4) else None
    c2 = int(m.group(5) or 0)
    opts = (m.group(3) or "") + (m.group(6) or "")
    return f1, f2, opts, c1, c2


def _num_prefix(s: str) -> float:
    m = re.match(r"\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))", s)
    return float(m.group(1)) if m else 0.0


def _human_num(s: str) -> float:
    m = re.match(r"\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))([KMGTPE]?)", s)
    if not m:
        return 0.0
    return float(m.group(1)) * 1024 ** ("KMGTPE".find(m.group(2)) + 1 if m.group(2) else 0)


def _version_key(s: str):
    return [(0, int(p), "") if _isnum(p) else (1, 0, p) for p in re.findall(r"\d+|\D+", s)]


@register_program("sort")
def sort(proc) -> int:
    """``sort [-nrufhVb] [-k KEYDEF] [-t SEP] [-o FILE] [FILE...]``."""
    try:
        flags, ops = _split_flags(proc.argv[1:], "ktoST", long_map={
            "numeric-sort": "n", "reverse": "r", "unique": "u", "ignore-case": "f", "human-numeric-sort": "h",
            "version-sort": "V", "key=": "k", "field-separator=": "t", "output=": "o", "ignore-leading-blanks": "b",
            "check": "c", "stable": "s", "general-numeric-sort": "g", "random-sort": "R"})
    except _BadOption as e:
        return _bad_option(proc, e)
    keyspecs = []
    argv = proc.argv[1:]
    for i, a in enumerate(argv):
        if a == "-k" and i + 1 < len(argv):
            keyspecs.append(argv[i + 1])
        elif a.startswith("-k") and len(a) > 2:
            keyspecs.append(a[2:])
        elif a.startswith("--key="):
            keyspecs.append(a[6:])
    try:
        keys = [_sort_key_parse(k) for k in keyspecs]
    except ValueError as e:
        proc.error(f"sort: invalid number at field start: invalid count at start of {_q(str(e))}\n")
        return 2
    sep = flags.get("t")
    status = 0
    lines: list[str] = []
    for name in ops or ["-"]:
        try:
            data = _read_input(proc, name)
        except FsError as e:
            proc.error(f"sort: cannot read: {name}: {_errno(e)}\n")
            return 2
        lines.extend(x.decode("utf-8", errors="replace") for x in _lines(data))

    def fields_of(line: str) -> list[str]:
        if sep is not None:
            return line.split(sep)
        return re.findall(r"\s*\S+", line) or [line]

    def conv(text: str, opts: str):
        if "b" in opts or "n" in opts or "h" in opts or "g" in opts:
            text = text.lstrip()
        if "n" in opts or "g" in opts:
            return (0, _num_prefix(text), "")
        if "h" in opts:
            return (0, _human_num(text), "")
        if "V" in opts:
            return (1, 0, _version_key(text))
        if "f" in opts:
            text = text.upper()
        return (2, 0, text)

    global_opts = "".join(c for c in "nfhVbg" if c in flags)

    def key(line: str):
        if not keys:
            return [conv(line, global_opts)]
        parts = []
        for f1, f2, opts, c1, c2 in keys:
            fs_ = fields_of(line)
            if f2 is None:
                seg = (sep or "").join(fs_[f1 - 1:]) if sep is not None else "".join(fs_[f1 - 1:])
            else:
                seg = (sep or "").join(fs_[f1 - 1:f2]) if sep is not None else "".join(fs_[f1 - 1:f2])
            if c1 > 1:
                seg = seg[c1 - 1:]
            o = opts or global_opts
            k = conv(seg, o)
            parts.append((k, "r" in opts))
        return parts

    decorated = []
    for line in lines:
        k = key(line)
        decorated.append((k, line))

    import functools

    def cmp(a, b):
        ka, kb = a[0], b[0]
        for idx in range(len(ka)):
            x, y = ka[idx], kb[idx]
            rev = False
            if isinstance(x, tuple) and len(x) == 2 and isinstance(x[1], bool):
                x, rev = x
                y = y[0]
            if x != y:
                r = -1 if x < y else 1
                return -r if rev else r
        if "s" in flags or "u" in flags:
            return 0
        if a[1] != b[1]:
            return -1 if a[1] < b[1] else 1
        return 0

    decorated.sort(key=functools.cmp_to_key(cmp), reverse="r" in flags)
    result = [line for _, line in decorated]
    if "c" in flags:
        for i in range(1, len(decorated)):
            c = cmp(decorated[i - 1], decorated[i]) if "r" not in flags else -cmp(decorated[i - 1], decorated[i])
            if c > 0:
                proc.error(f"sort: {ops[0] if ops else '-'}:{i + 1}: disorder: {decorated[i][1]}\n")
                return 1
        return 0
    if "u" in flags:
        uniq = []
        prev = None
        for item in decorated:
            if prev is not None and cmp(prev, item) == 0:
                continue
            uniq.append(item[1])
            prev = item
        result = uniq
    data = "".join(line + "\n" for line in result).encode()
    if "o" in flags:
        try:
            _write_file(proc, flags["o"], data)
        except FsError as e:
            proc.error(f"sort: open failed: {flags['o']}: {_errno(e)}\n")
            return 2
        return status
    proc.write(data)
    return status


@register_program("uniq")
def uniq(proc) -> int:
    """``uniq [-c] [-d] [-u] [-i] [INPUT [OUTPUT]]``."""
    try:
        flags, ops = _split_flags(proc.argv[1:], "fs", long_map={"count": "c", "repeated": "d", "unique": "u",
                                                                  "ignore-case": "i"})
    except _BadOption as e:
        return _bad_option(proc, e)
    try:
        data = _read_input(proc, ops[0] if ops else "-")
    except FsError as e:
        proc.error(f"uniq: {ops[0]}: {_errno(e)}\n")
        return 1
    lines = [x.decode("utf-8", errors="replace") for x in _lines(data)]
    groups: list[list] = []
    for line in lines:
        k = line.lower() if "i" in flags else line
        if groups and groups[-1][0] == k:
            groups[-1][2] += 1
        else:
            groups.append([k, line, 1])
    out = []
    for _, line, n in groups:
        if "d" in flags and n < 2:
            continue
        if "u" in flags and n > 1:
            continue
        out.append(f"{n:7d} {line}" if "c" in flags else line)
    text = "".join(x + "\n" for x in out)
    if len(ops) > 1:
        try:
            _write_file(proc, ops[1], text.encode())
        except FsError as e:
            proc.error(f"uniq: {ops[1]}: {_errno(e)}\n")
            return 1
        return 0
    proc.write(text)
    return 0


@register_program("seq")
def seq(proc) -> int:
    """``seq [-s SEP] [-w] [-f FMT] [FIRST [INCREMENT]] LAST``."""
    args = proc.argv[1:]
    sep = "\n"
    width = False
    fmt = None
    nums = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-s", "--separator"):
            i += 1
            sep = args[i] if i < len(args) else ""
        elif a.startswith("-s") and len(a) > 2 and not re.fullmatch(r"-?[\d.]+", a):
            sep = a[2:]
        elif a in ("-w", "--equal-width"):
            width = True
        elif a in ("-f", "--format"):
            i += 1
            fmt = args[i] if i < len(args) else "%g"
        else:
            nums.append(a)
        i += 1
    if not nums:
        return _usage(proc, "missing operand")
    if len(nums) > 3:
        return _usage(proc, f"extra operand {_q(nums[3])}")
    vals = []
    for n in nums:
        try:
            vals.append(float(n) if ("." in n or "e" in n.lower()) else int(n))
        except ValueError:
            proc.error(f"seq: invalid floating point argument: {_q(n)}\nTry 'seq --help' for more information.\n")
            return 1
    first, step, last = (1, 1, vals[0]) if len(vals) == 1 else ((vals[0], 1, vals[1]) if len(vals) == 2 else tuple(vals))
    if step == 0:
        proc.error(f"seq: invalid Zero increment value: {_q(nums[1])}\nTry 'seq --help' for more information.\n")
        return 1
    out = []
    v = first
    decimals = max((len(n.split(".")[1]) if "." in n else 0) for n in nums)
    count = 0
    while (step > 0 and v <= last) or (step < 0 and v >= last):
        if fmt:
            out.append(fmt % v if "%" in fmt else fmt)
        elif decimals:
            out.append(f"{v:.{decimals}f}")
        else:
            out.append(str(int(v)) if float(v).is_integer() else str(v))
        v = first + step * (count + 1)
        count += 1
        if count > 1_000_000:
            break
    if width and out:
        w = max(len(x) for x in out)
        out = [x.zfill(w) for x in out]
    if out:
        proc.write(sep.join(out) + "\n")
    return 0


# ---------------------------------------------------------------------------
# sed


class _SedError(Exception):
    pass


class _SedCmd:
    __slots__ = ("a1", "a2", "neg", "name", "arg", "regex", "repl", "flags", "block_end", "label", "nth",
                 "global_", "print_", "wfile", "active", "range_end", "idx", "a2_offset")

    def __init__(self):
        self.a1 = self.a2 = None
        self.neg = False
        self.name = ""
        self.arg = ""
        self.regex = None
        self.repl = None
        self.flags = ""
        self.block_end = None
        self.label = ""
        self.nth = 1
        self.global_ = False
        self.print_ = 0
        self.wfile = None
        self.active = False
        self.range_end = None
        self.idx = 0
        self.a2_offset = None


class _SedParser:
    def __init__(self, script: str, extended: bool, expr_no: int = 1):
        self.s = script
        self.i = 0
        self.extended = extended
        self.expr_no = expr_no
        self.last_regex = None

    def fail(self, msg: str) -> _SedError:
        return _SedError(f"-e expression #{self.expr_no}, char {self.i}: {msg}")

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def skip_ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t":
            self.i += 1

    def read_delimited(self, delim: str, *, regex: bool) -> str:
        out = []
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == "\\" and self.i + 1 < len(self.s):
                d = self.s[self.i + 1]
                if d == delim:
                    out.append(delim if delim not in "&\\" or not regex else "\\" + delim)
                elif d == "n" and regex:
                    out.append("\\n")
                else:
                    out.append(c + d)
                self.i += 2
                continue
            if c == delim:
                self.i += 1
                return "".join(out)
            if c == "\n" and not regex:
                out.append(c)
                self.i += 1
                continue
            if c == "[" and regex:
                # copy a bracket expression verbatim (the delimiter may appear inside)
                j = self.i + 1
                if j < len(self.s) and self.s[j] == "^":
                    j += 1
                if j < len(self.s) and self.s[j] == "]":
                    j += 1
                while j < len(self.s) and self.s[j] != "]":
                    if self.s.startswith("[:", j):
                        k = self.s.find(":]", j + 2)
                        j = k + 2 if k >= 0 else j + 1
                        continue
                    j += 1
                if j < len(self.s):
                    out.append(self.s[self.i:j + 1])
                    self.i = j + 1
                    continue
            out.append(c)
            self.i += 1
        raise _SedError("")

    def compile_regex(self, text: str, icase: bool) -> re.Pattern:
        if text == "":
            if self.last_regex is None:
                raise self.fail("no previous regular expression")
            return self.last_regex
        try:
            rx = re.compile(bre_to_python(text, extended=self.extended), re.IGNORECASE if icase else 0)
        except (re.error, OverflowError, RecursionError):
            raise self.fail("Invalid preceding regular expression") from None
        self.last_regex = rx
        return rx

    def address(self):
        c = self.peek()
        if _isnum(c):
            m = re.match(r"\d+", self.s[self.i:])
            self.i += len(m.group())
            n = int(m.group())
            if self.peek() == "~":
                self.i += 1
                m2 = re.match(r"\d+", self.s[self.i:])
                step = int(m2.group()) if m2 else 0
                self.i += len(m2.group()) if m2 else 0
                return ("step", n, step)
            return ("line", n)
        if c == "$":
            self.i += 1
            return ("last",)
        if c == "/" or c == "\\":
            if c == "\\":
                self.i += 1
                delim = self.peek()
            else:
                delim = "/"
            self.i += 1
            try:
                text = self.read_delimited(delim, regex=True)
            except _SedError:
                raise self.fail("unterminated address regex") from None
            icase = False
            while self.peek() in ("I", "M"):
                icase = icase or self.peek() == "I"
                self.i += 1
            return ("re", self.compile_regex(text, icase))
        return None

    def parse(self) -> list[_SedCmd]:
        cmds: list[_SedCmd] = []
        stack: list[int] = []
        s = self.s
        while True:
            while self.i < len(s) and s[self.i] in " \t\n;":
                self.i += 1
            if self.i >= len(s):
                break
            if s[self.i] == "#":
                nl = s.find("\n", self.i)
                self.i = len(s) if nl < 0 else nl
                continue
            cmd = _SedCmd()
            cmd.a1 = self.address()
            if cmd.a1 is not None and self.peek() == ",":
                self.i += 1
                self.skip_ws()
                if self.peek() == "+" or self.peek() == "~":
                    kind = self.peek()
                    self.i += 1
                    m = re.match(r"\d+", s[self.i:])
                    if not m:
                        raise self.fail("unexpected `,'")
                    self.i += len(m.group())
                    cmd.a2 = ("plus" if kind == "+" else "mult", int(m.group()))
                else:
                    cmd.a2 = self.address()
                    if cmd.a2 is None:
                        raise self.fail("unexpected `,'")
            self.skip_ws()
            while self.peek() == "!":
                cmd.neg = True
                self.i += 1
                self.skip_ws()
            if self.i >= len(s):
                raise self.fail("missing command")
            name = s[self.i]
            self.i += 1
            cmd.name = name
            cmd.idx = len(cmds)
            if name == "{":
                stack.append(len(cmds))
            elif name == "}":
                if not stack:
                    raise self.fail("unexpected `}'")
                if cmd.a1 is not None:
                    raise self.fail("} doesn't want any addresses")
                cmds[stack.pop()].block_end = len(cmds)
            elif name == "s":
                delim = self.peek()
                if not delim or delim in "\n\\":
                    raise self.fail("unterminated `s' command")
                self.i += 1
                try:
                    pattern = self.read_delimited(delim, regex=True)
                    repl = self.read_delimited(delim, regex=False)
                except _SedError:
                    raise self.fail("unterminated `s' command") from None
                flags = ""
                while self.i < len(s) and s[self.i] in "gpiIme0123456789":
                    flags += s[self.i]
                    self.i += 1
                self.skip_ws()
                if self.peek() == "w":
                    self.i += 1
                    self.skip_ws()
                    nl = s.find("\n", self.i)
                    end = len(s) if nl < 0 else nl
                    cmd.wfile = s[self.i:end].strip()
                    self.i = end
                cmd.regex = self.compile_regex(pattern, "i" in flags or "I" in flags)
                cmd.repl = repl
                cmd.global_ = "g" in flags
                cmd.print_ = flags.count("p")
                nth = re.search(r"\d+", flags)
                cmd.nth = int(nth.group()) if nth else 1
                if cmd.nth == 0:
                    raise self.fail("number option to `s' command may not be zero")
            elif name == "y":
                delim = self.peek()
                self.i += 1
                try:
                    a = self.read_delimited(delim, regex=False)
                    b = self.read_delimited(delim, regex=False)
                except _SedError:
                    raise self.fail("unterminated `y' command") from None
                a = a.replace("\\n", "\n").replace("\\\\", "\\")
                b = b.replace("\\n", "\n").replace("\\\\", "\\")
                if len(a) != len(b):
                    raise self.fail("strings for `y' command are different lengths")
                cmd.arg = (a, b)
            elif name in "aic":
                self.skip_ws()
                if s.startswith("\\\n", self.i):
                    self.i += 2
                elif self.peek() == "\\":
                    self.i += 1
                    if self.peek() == "\n":
                        self.i += 1
                text = []
                while self.i < len(s):
                    c = s[self.i]
                    if c == "\\" and self.i + 1 < len(s):
                        if s[self.i + 1] == "\n":
                            text.append("\n")
                        else:
                            text.append(s[self.i + 1])
                        self.i += 2
                        continue
                    if c == "\n":
                        break
                    text.append(c)
                    self.i += 1
                cmd.arg = "".join(text)
                if not cmd.arg and name != "c":
                    raise self.fail(f"expected \\ after `a', `c' or `i'")
            elif name in ":btT":
                self.skip_ws()
                m = re.match(r"[^;\n}]*", s[self.i:])
                cmd.label = m.group().strip()
                self.i += len(m.group())
                if name == ":" and not cmd.label:
                    raise self.fail("\":\" lacks a label")
            elif name in "rRwW":
                self.skip_ws()
                nl = s.find("\n", self.i)
                end = len(s) if nl < 0 else nl
                cmd.arg = s[self.i:end].strip()
                self.i = end
            elif name in "qQlL":
                self.skip_ws()
                m = re.match(r"\d*", s[self.i:])
                cmd.arg = m.group()
                self.i += len(m.group())
            elif name in "dDpPnNgGhHxz=F":
                pass
            else:
                raise self.fail(f"unknown command: `{name}'")
            cmds.append(cmd)
            self.skip_ws()
            if self.i < len(s) and s[self.i] not in ";\n}#":
                if name not in "}{" and not (name in "aic:btTrRwW"):
                    raise self.fail(f"extra characters after command")
        if stack:
            raise _SedError(f"-e expression #{self.expr_no}, char 0: unmatched `{{'")
        return cmds


def _sed_replacement(repl: str, m: re.Match) -> str:
    out = []
    case = None  # 'U' or 'L'
    one = None   # 'u' or 'l'
    i = 0

    def emit(text: str) -> None:
        nonlocal one
        if not text:
            return
        if case == "U":
            text = text.upper()
        elif case == "L":
            text = text.lower()
        if one == "u":
            text = text[:1].upper() + text[1:]
            one = None
        elif one == "l":
            text = text[:1].lower() + text[1:]
            one = None
        out.append(text)

    while i < len(repl):
        c = repl[i]
        if c == "\\" and i + 1 < len(repl):
            d = repl[i + 1]
            i += 2
            if _isnum(d):
                g = int(d)
                emit((m.group(g) or "") if g <= (m.re.groups or 0) else "")
            elif d == "n":
                emit("\n")
            elif d == "t":
                emit("\t")
            elif d in "UL":
                case = d
            elif d == "E":
                case = None
            elif d in "ul":
                one = d
            elif d == "&":
                emit("&")
            else:
                emit(d)
            continue
        if c == "&":
            emit(m.group(0))
            i += 1
            continue
        emit(c)
        i += 1
    return "".join(out)


def _sed_run(proc, cmds: list[_SedCmd], lines: list[str], quiet: bool, last_trailing_newline: bool,
             line_offset: int = 0) -> tuple[str, int | None, dict]:
    """Run the script over ``lines``; returns (output, quit exit code or None, files to write)."""
    out: list[str] = []
    hold = ""
    labels = {c.label: i for i, c in enumerate(cmds) if c.name == ":"}
    n_lines = len(lines)
    idx = 0
    writes: dict[str, list[str]] = {}
    quit_code = None
    ps = None
    for c in cmds:
        c.active = False
        c.range_end = None

    def matches_addr(addr, lineno: int, text: str) -> bool:
        kind = addr[0]
        if kind == "line":
            return lineno == addr[1]
        if kind == "last":
            return lineno == n_lines + line_offset and at_end
        if kind == "re":
            return addr[1].search(text) is not None
        if kind == "step":
            first, step = addr[1], addr[2]
            return lineno == first if step <= 0 else (lineno >= first and (lineno - first) % step == 0)
        return False

    def selected(c: _SedCmd, lineno: int, text: str) -> bool:
        if c.a1 is None:
            hit = True
        elif c.a2 is None:
            hit = matches_addr(c.a1, lineno, text)
        else:
            if c.active:
                end = c.a2
                hit = True
                if end[0] == "line":
                    if lineno >= end[1]:
                        c.active = False
                    if lineno > end[1]:
                        hit = False
                        c.active = False
                elif end[0] == "plus":
                    if lineno >= c.range_end:
                        c.active = False
                elif end[0] == "mult":
                    if end[1] <= 0 or lineno % end[1] == 0:
                        c.active = False
                elif matches_addr(end, lineno, text):
                    c.active = False
            else:
                start = c.a1
                if start == ("line", 0):
                    hit = False
                    if not getattr(c, "_zero_done", False):
                        c._zero_done = True  # type: ignore[attr-defined]
                        c.active = True
                        if matches_addr(c.a2, lineno, text):
                            c.active = False
                        return not c.neg
                    return c.neg
                hit = matches_addr(start, lineno, text)
                if hit:
                    end = c.a2
                    if end[0] == "line":
                        c.active = end[1] > lineno
                    elif end[0] == "plus":
                        c.range_end = lineno + end[1]
                        c.active = end[1] > 0
                    elif end[0] == "mult":
                        c.active = not (end[1] <= 0 or lineno % end[1] == 0)
                    elif end[0] == "last":
                        c.active = not (lineno == n_lines + line_offset and at_end)
                    else:
                        c.active = True
        return hit != c.neg

    append_queue: list[str] = []
    while idx < n_lines and quit_code is None:
        ps = lines[idx]
        idx += 1
        at_end = idx == n_lines
        lineno = idx + line_offset
        substituted = False
        pc = 0
        deleted = False
        restart = False
        while pc < len(cmds):
            c = cmds[pc]
            if c.name == "}" or c.name == ":":
                pc += 1
                continue
            if not selected(c, lineno, ps):
                pc = (c.block_end + 1) if c.name == "{" else pc + 1
                continue
            name = c.name
            if name == "{":
                pc += 1
                continue
            if name == "s":
                count = 0
                result = []
                last = 0
                did = False
                for m in c.regex.finditer(ps):
                    count += 1
                    if count >= c.nth and (c.global_ or count == c.nth):
                        result.append(ps[last:m.start()])
                        result.append(_sed_replacement(c.repl, m))
                        last = m.end()
                        did = True
                        if not c.global_:
                            break
                if did:
                    result.append(ps[last:])
                    ps = "".join(result)
                    substituted = True
                    for _ in range(c.print_):
                        out.append(ps + "\n")
                    if c.wfile:
                        writes.setdefault(c.wfile, []).append(ps + "\n")
            elif name == "d":
                deleted = True
                break
            elif name == "D":
                if "\n" in ps:
                    ps = ps.split("\n", 1)[1]
                    restart = True
                else:
                    deleted = True
                break
            elif name == "p":
                out.append(ps + "\n")
            elif name == "P":
                out.append(ps.split("\n", 1)[0] + "\n")
            elif name == "=":
                out.append(f"{lineno}\n")
            elif name == "a":
                append_queue.append(c.arg + "\n")
            elif name == "i":
                out.append(c.arg + "\n")
            elif name == "c":
                if c.a2 is None or not c.active:
                    out.append(c.arg + "\n")
                deleted = True
                break
            elif name == "y":
                a, b = c.arg
                ps = ps.translate(str.maketrans(a, b))
            elif name == "h":
                hold = ps
            elif name == "H":
                hold = hold + "\n" + ps
            elif name == "g":
                ps = hold
            elif name == "G":
                ps = ps + "\n" + hold
            elif name == "x":
                ps, hold = hold, ps
            elif name == "z":
                ps = ""
            elif name == "n":
                if not quiet:
                    out.append(ps + "\n")
                if idx >= n_lines:
                    deleted = True
                    break
                ps = lines[idx]
                idx += 1
                at_end = idx == n_lines
                lineno = idx + line_offset
            elif name == "N":
                if idx >= n_lines:
                    break
                ps = ps + "\n" + lines[idx]
                idx += 1
                at_end = idx == n_lines
                lineno = idx + line_offset
            elif name in ("q", "Q"):
                quit_code = int(c.arg) if c.arg else 0
                if name == "Q":
                    deleted = True
                break
            elif name == "l":
                text = ps.encode("unicode_escape").decode("ascii").replace("\\'", "'")
                out.append(text + "$\n")
            elif name == "r":
                try:
                    append_queue.append(proc.fs.read_text(proc.path(c.arg)))
                except (FsError, AivleError):
                    pass
            elif name == "w":
                writes.setdefault(c.arg, []).append(ps + "\n")
            elif name == "F":
                out.append("-\n")
            elif name in "btT":
                jump = name == "b" or (name == "t" and substituted) or (name == "T" and not substituted)
                if name in "tT" and jump:
                    substituted = False
                if jump:
                    if not c.label:
                        pc = len(cmds)
                        continue
                    if c.label not in labels:
                        raise _SedError(f"can't find label for jump to `{c.label}'")
                    pc = labels[c.label]
                    continue
            pc += 1
        if not deleted and not quiet:
            out.append(ps + "\n")
        out.extend(append_queue)
        append_queue = []
        if restart and quit_code is None:
            lines.insert(idx, ps)
            n_lines += 1
    text = "".join(out)
    if not last_trailing_newline and text.endswith("\n") and n_lines and out:
        text = text[:-1]
    return text, quit_code, writes


@register_program("sed")
def sed(proc) -> int:
    """``sed [-n] [-i[SUFFIX]] [-E|-r] [-e SCRIPT]... [-f FILE] [SCRIPT] [FILE...]``."""
    args = proc.argv[1:]
    scripts: list[str] = []
    files: list[str] = []
    quiet = False
    in_place = None
    extended = False
    separate = False
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            files.extend(args[i + 1:])
            break
        if a in ("-e", "--expression"):
            i += 1
            if i >= len(args):
                proc.error("sed: option requires an argument -- 'e'\n")
                return 1
            scripts.append(args[i])
        elif a.startswith("--expression="):
            scripts.append(a.split("=", 1)[1])
        elif a in ("-f", "--file"):
            i += 1
            try:
                scripts.append(_read_input(proc, args[i]).decode("utf-8", "replace").rstrip("\n"))
            except (FsError, IndexError):
                proc.error(f"sed: couldn't open file {args[i] if i < len(args) else ''}: No such file or directory\n")
                return 1
        elif a in ("-n", "--quiet", "--silent"):
            quiet = True
        elif a in ("-E", "-r", "--regexp-extended"):
            extended = True
        elif a in ("-s", "--separate"):
            separate = True
        elif a.startswith("--in-place"):
            in_place = a.split("=", 1)[1] if "=" in a else ""
        elif a.startswith("-i"):
            in_place = a[2:]
        elif a in ("-u", "--unbuffered", "-z", "--debug", "--posix", "--sandbox", "--follow-symlinks"):
            pass
        elif a.startswith("-") and len(a) > 1 and not files and not scripts and re.fullmatch(r"-[nrEsu]+", a):
            for c in a[1:]:
                quiet |= c == "n"
                extended |= c in "rE"
                separate |= c == "s"
        elif a.startswith("-") and len(a) > 1:
            proc.error(f"sed: invalid option -- '{a[1]}'\n" if not a.startswith("--")
                       else f"sed: unrecognized option '{a}'\n")
            proc.error("Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...\n")
            return 1
        else:
            if not scripts and not any(x in ("-e", "--expression", "-f", "--file") for x in args[:i]):
                scripts.append(a)
            else:
                files.append(a)
        i += 1
    if not scripts:
        proc.error("Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...\n")
        return 1
    try:
        cmds: list[_SedCmd] = []
        for n, script in enumerate(scripts, 1):
            parser = _SedParser(script, extended, n)
            cmds_part = parser.parse()
            base = len(cmds)
            for c in cmds_part:
                if c.block_end is not None:
                    c.block_end += base
            cmds.extend(cmds_part)
        if len(scripts) > 1:
            _SedParser("\n".join(scripts), extended).parse()
    except _SedError as e:
        proc.error(f"sed: {e}\n")
        return 1
    fs = proc.fs
    if in_place is not None:
        if not files:
            proc.error("sed: no input files\n")
            return 1
        status = 0
        for name in files:
            path = proc.path(name)
            try:
                entry = fs.stat(path)
            except (FsError, AivleError):
                proc.error(f"sed: can't read {name}: No such file or directory\n")
                status = 2
                continue
            if entry.is_dir:
                proc.error(f"sed: couldn't edit {name}: not a regular file\n")
                status = 4
                continue
            if not can_read(proc, path):
                proc.error(f"sed: can't read {name}: Permission denied\n")
                status = 2
                continue
            parent = posixpath.dirname(path)
            if not can_write(proc, join(parent, ".sedtmp")) :
                tmp = "sed" + hashlib.sha256(path.encode()).hexdigest()[:6]
                proc.error(f"sed: couldn't open temporary file {join(parent, tmp)}: Permission denied\n")
                status = 4
                continue
            text = entry.data.decode("utf-8", errors="replace")
            lines = text.split("\n")
            trailing = text.endswith("\n")
            if trailing:
                lines.pop()
            if not text:
                lines = []
            try:
                result, qcode, writes = _sed_run(proc, cmds, lines, quiet, trailing or not lines)
            except _SedError as e:
                proc.error(f"sed: {e}\n")
                return 1
            if in_place:
                backup = path + in_place if "*" not in in_place else join(parent, in_place.replace("*", posixpath.basename(path)))
                fs.write(backup, entry.data, mode=entry.mode, uid=entry.uid, gid=entry.gid)
            fs.write(path, result.encode())
            touch_mtime(proc, path)
            _sed_flush_writes(proc, writes)
            if qcode is not None:
                return qcode
        return status
    data_parts = []
    status = 0
    for name in files or ["-"]:
        try:
            data_parts.append(_read_input(proc, name))
        except FsError as e:
            why = _errno(e)
            proc.error(f"sed: read error on {name}: Is a directory\n" if why == "Is a directory"
                       else f"sed: can't read {name}: {why}\n")
            status = 2
    data = b"".join(p if p.endswith(b"\n") or idx == len(data_parts) - 1 else p + b"\n"
                    for idx, p in enumerate(data_parts))
    text = data.decode("utf-8", errors="replace")
    trailing = text.endswith("\n")
    lines = text.split("\n")
    if trailing:
        lines.pop()
    if not text:
        lines = []
    try:
        result, qcode, writes = _sed_run(proc, cmds, lines, quiet, trailing or not lines)
    except _SedError as e:
        proc.error(f"sed: {e}\n")
        return 1
    proc.write(result)
    _sed_flush_writes(proc, writes)
    if qcode is not None:
        return qcode
    return status


def _sed_flush_writes(proc, writes: dict) -> None:
    for name, chunks in writes.items():
        if name in ("/dev/stdout",):
            proc.write("".join(chunks))
            continue
        try:
            _write_file(proc, name, "".join(chunks).encode())
        except FsError as e:
            proc.error(f"sed: couldn't open file {name}: {_errno(e)}\n")


# ---------------------------------------------------------------------------
# find and xargs


class _FindError(Exception):
    pass


def _find_size(spec: str, size: int) -> bool:
    m = re.fullmatch(r"([+-]?)(\d+)([bckwMG]?)", spec)
    if not m:
        raise _FindError(f"invalid argument `{spec}' to `-size'")
    sign, n, unit = m.group(1), int(m.group(2)), m.group(3) or "b"
    unit_size = {"b": 512, "c": 1, "k": 1024, "w": 2, "M": 1024**2, "G": 1024**3}[unit]
    value = -(-size // unit_size)
    if sign == "+":
        return value > n
    if sign == "-":
        return value < n
    return value == n


@register_program("find")
def find(proc) -> Gen:
    """``find [PATH...] [EXPRESSION]`` with -name -iname -path -type -maxdepth -mindepth -size -empty
    -newer -perm -user -print -print0 -delete -exec ... ; / + -not -a -o ( )."""
    args = proc.argv[1:]
    paths = []
    while args and not args[0].startswith("-") and args[0] not in ("(", "!", ")"):
        paths.append(args.pop(0))
    if not paths:
        paths = ["."]
    maxdepth = None
    mindepth = 0
    tokens = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-maxdepth" or a == "-mindepth":
            if i + 1 >= len(args) or not _isnum(args[i + 1]):
                proc.error(f"find: Expected a positive decimal integer argument to {a}, but got {_lq(args[i + 1] if i + 1 < len(args) else '')}\n")
                return 1
            if a == "-maxdepth":
                maxdepth = int(args[i + 1])
            else:
                mindepth = int(args[i + 1])
            i += 2
            continue
        if a in ("-depth", "-xdev", "-mount", "-follow", "-noleaf", "-ignore_readdir_race"):
            i += 1
            continue
        tokens.append(a)
        i += 1
    fs = proc.fs
    actions_present = any(t in ("-print", "-print0", "-delete", "-exec", "-execdir", "-ok", "-ls", "-printf",
                                "-quit", "-fprint")
                          for t in tokens)
    pos = 0
    execs_plus: list[tuple[list[str], list[str]]] = []

    def parse_or():
        nonlocal pos
        left = parse_and()
        while pos < len(tokens) and tokens[pos] in ("-o", "-or"):
            pos += 1
            right = parse_and()
            left = ("or", left, right)
        return left

    def parse_and():
        nonlocal pos
        left = parse_not()
        while pos < len(tokens) and tokens[pos] not in ("-o", "-or", ")"):
            if tokens[pos] in ("-a", "-and"):
                pos += 1
            right = parse_not()
            left = ("and", left, right)
        return left

    def parse_not():
        nonlocal pos
        if pos < len(tokens) and tokens[pos] in ("!", "-not"):
            pos += 1
            return ("not", parse_not())
        return parse_primary()

    def need_arg(t):
        nonlocal pos
        if pos >= len(tokens):
            raise _FindError(f"missing argument to `{t}'")
        v = tokens[pos]
        pos += 1
        return v

    def parse_primary():
        nonlocal pos
        if pos >= len(tokens):
            raise _FindError("expected an expression")
        t = tokens[pos]
        pos += 1
        if t == "(":
            e = parse_or()
            if pos >= len(tokens) or tokens[pos] != ")":
                raise _FindError("invalid expression; I was expecting to find a ')' somewhere but did not see one.")
            pos += 1
            return e
        if t in ("-name", "-iname", "-path", "-ipath", "-wholename", "-type", "-size", "-newer", "-perm", "-user",
                 "-group", "-regex", "-iregex", "-mtime", "-mmin", "-links", "-uid", "-gid", "-printf"):
            return (t, need_arg(t))
        if t in ("-exec", "-execdir", "-ok"):
            cmd = []
            while pos < len(tokens) and tokens[pos] not in (";", "+"):
                cmd.append(tokens[pos])
                pos += 1
            if pos >= len(tokens):
                raise _FindError(f"missing argument to `{t}'")
            term = tokens[pos]
            pos += 1
            if not cmd:
                raise _FindError(f"missing argument to `{t}'")
            if term == "+":
                bucket: list[str] = []
                execs_plus.append((cmd, bucket))
                return ("exec+", cmd, bucket)
            return ("exec", cmd)
        if t in ("-print", "-print0", "-delete", "-empty", "-true", "-false", "-prune", "-quit", "-ls",
                 "-readable", "-writable", "-executable"):
            return (t,)
        raise _FindError(f"unknown predicate `{t}'")

    try:
        expr = parse_or() if tokens else ("-true",)
        if pos < len(tokens):
            raise _FindError(f"paths must precede expression: `{tokens[pos]}'")
    except _FindError as e:
        proc.error(f"find: {e}\n")
        return 1
    if not actions_present:
        expr = ("and", expr, ("-print",))
    status = 0
    out: list[str] = []
    quit_now = False

    def evaluate(node, shown: str, path: str, entry: Entry, depth: int) -> Gen:
        nonlocal status, quit_now
        kind = node[0]
        if kind == "and":
            a = yield from evaluate(node[1], shown, path, entry, depth)
            if not a:
                return False
            return (yield from evaluate(node[2], shown, path, entry, depth))
        if kind == "or":
            a = yield from evaluate(node[1], shown, path, entry, depth)
            if a:
                return True
            return (yield from evaluate(node[2], shown, path, entry, depth))
        if kind == "not":
            v = yield from evaluate(node[1], shown, path, entry, depth)
            return not v
        base = posixpath.basename(shown.rstrip("/")) or shown
        if kind in ("-name", "-iname"):
            return re.fullmatch(_glob_rx(node[1]), base, re.IGNORECASE if kind == "-iname" else 0) is not None
        if kind in ("-path", "-ipath", "-wholename"):
            return re.fullmatch(_glob_rx(node[1]), shown, re.IGNORECASE if kind == "-ipath" else 0) is not None
        if kind in ("-regex", "-iregex"):
            try:
                return re.fullmatch(bre_to_python(node[1], extended=True), shown,
                                    re.IGNORECASE if kind == "-iregex" else 0) is not None
            except re.error:
                return False
        if kind == "-type":
            want = node[1]
            k = {"file": "f", "dir": "d", "symlink": "l"}.get(entry.kind, "?")
            return k in want.split(",")
        if kind == "-size":
            return _find_size(node[1], 4096 if entry.is_dir else entry.size)
        if kind == "-empty":
            if entry.is_dir:
                return not fs.listdir(path)
            return entry.is_file and entry.size == 0
        if kind == "-newer":
            return mtime(proc, path) > mtime(proc, proc.path(node[1]))
        if kind in ("-mtime", "-mmin"):
            age = proc.kernel.loop.now - mtime(proc, path)
            unit = 86400 if kind == "-mtime" else 60
            v = node[1]
            n = int(v.lstrip("+-") or 0)
            units = int(age // unit)
            return units > n if v.startswith("+") else (units < n if v.startswith("-") else units == n)
        if kind == "-perm":
            spec = node[1]
            if spec.startswith("-"):
                want = _parse_mode(spec[1:], 0) or 0
                return entry.mode & want == want
            if spec.startswith("/"):
                want = _parse_mode(spec[1:], 0) or 0
                return bool(entry.mode & want)
            return (entry.mode & 0o7777) == (_parse_mode(spec, 0) or 0)
        if kind in ("-user", "-uid"):
            return entry.uid == (user_uid(proc, node[1]) if kind == "-user" else int(node[1]) if _isnum(node[1]) else -1)
        if kind in ("-group", "-gid"):
            return entry.gid == (group_gid(proc, node[1]) if kind == "-group" else int(node[1]) if _isnum(node[1]) else -1)
        if kind == "-links":
            return node[1].lstrip("+-") == "1"
        if kind == "-true":
            return True
        if kind == "-false":
            return False
        if kind == "-prune":
            return True
        if kind == "-quit":
            quit_now = True
            return True
        if kind in ("-readable", "-writable", "-executable"):
            return {"-readable": can_access(proc, path, 4), "-writable": can_write(proc, path),
                    "-executable": can_access(proc, path, 1)}[kind]
        if kind == "-print":
            out.append(shown + "\n")
            return True
        if kind == "-print0":
            out.append(shown + "\0")
            return True
        if kind == "-printf":
            text = node[1].replace("%p", shown).replace("%f", base).replace("%s", str(entry.size)) \
                .replace("%m", f"{entry.mode & 0o7777:o}").replace("%u", user_name(proc, entry.uid)) \
                .replace("%h", posixpath.dirname(shown) or ".").replace("\\n", "\n").replace("\\t", "\t")
            out.append(text)
            return True
        if kind == "-ls":
            out.append(f"{_inode(path):>8} {_blocks(entry):>4} {mode_string(entry)}   1 "
                       f"{user_name(proc, entry.uid):<8} {group_name(proc, entry.gid):<8} {entry.size:>8} "
                       f"{_ls_time(proc, path)} {shown}\n")
            return True
        if kind == "-delete":
            if not can_remove(proc, path):
                out.append("")
                flush()
                proc.error(f"find: cannot delete {_lq(shown)}: Permission denied\n")
                status = 1
                return False
            try:
                fs.remove(path, recursive=False)
            except FsError as e:
                flush()
                proc.error(f"find: cannot delete {_lq(shown)}: {_errno(e)}\n")
                status = 1
                return False
            return True
        if kind == "exec":
            argv = [a.replace("{}", shown) for a in node[1]]
            flush()
            code, err = yield from _spawn_wait(proc, argv, stdin=b"")
            if err is not None:
                proc.error(f"find: {_lq(argv[0])}: {'No such file or directory' if code == 127 else 'Permission denied'}\n")
                status = 1
                return False
            return code == 0
        if kind == "exec+":
            node[2].append(shown)
            return True
        return False

    def flush() -> None:
        if out:
            proc.write("".join(out))
            out.clear()

    delete_mode = any(t == "-delete" for t in tokens)
    for start in paths:
        root = proc.path(start)
        try:
            root_entry = fs.stat(root, follow=True) if fs.is_dir(root) else fs.stat(root, follow=False)
        except (FsError, AivleError):
            flush()
            proc.error(f"find: {_lq(start)}: No such file or directory\n")
            status = 1
            continue
        stack = [(start, root, root_entry, 0)]
        order = []

        def visit(shown: str, path: str, entry: Entry, depth: int) -> None:
            nonlocal status
            order.append((shown, path, entry, depth))
            if entry.is_dir and (maxdepth is None or depth < maxdepth):
                if not can_access(proc, path, 4) or not can_access(proc, path, 1):
                    order.append(("__denied__", shown, entry, depth))
                    return
                for name in fs.listdir(path):
                    child = join(path, name)
                    try:
                        e = fs.stat(child, follow=False)
                    except (FsError, AivleError):
                        continue
                    visit(shown.rstrip("/") + "/" + name if shown != "/" else "/" + name, child, e, depth + 1)

        visit(*stack[0])
        if delete_mode:
            order = list(reversed(order))
        for shown, path, entry, depth in order:
            if shown == "__denied__":
                flush()
                proc.error(f"find: {_lq(path)}: Permission denied\n")
                status = 1
                continue
            if depth < mindepth:
                continue
            yield from evaluate(expr, shown, path, entry, depth)
            if quit_now:
                break
        if quit_now:
            break
    flush()
    for cmd, bucket in execs_plus:
        if bucket:
            argv = []
            for a in cmd:
                if a == "{}":
                    argv.extend(bucket)
                else:
                    argv.append(a)
            code, err = yield from _spawn_wait(proc, argv, stdin=b"")
            if err is not None:
                proc.error(f"find: {_lq(argv[0])}: No such file or directory\n")
                status = 1
            elif code != 0:
                status = 1
    return status


def _xargs_split(text: str) -> list[str]:
    """xargs' default splitting: blanks and newlines, with quotes and backslashes."""
    out = []
    cur = []
    have = False
    i = 0
    quote = None
    while i < len(text):
        c = text[i]
        if quote:
            if c == quote:
                quote = None
            elif c == "\n":
                raise ValueError(f"unmatched {'single' if quote == chr(39) else 'double'} quote; by default quotes "
                                 f"are special to xargs unless you use the -0 option")
            else:
                cur.append(c)
            i += 1
            continue
        if c in "'\"":
            quote = c
            have = True
        elif c == "\\" and i + 1 < len(text):
            cur.append(text[i + 1])
            have = True
            i += 1
        elif c in " \t\n":
            if cur or have:
                out.append("".join(cur))
            cur = []
            have = False
        else:
            cur.append(c)
            have = True
        i += 1
    if quote:
        raise ValueError(f"unmatched {'single' if quote == chr(39) else 'double'} quote; by default quotes are "
                         f"special to xargs unless you use the -0 option")
    if cur or have:
        out.append("".join(cur))
    return out


@register_program("xargs")
def xargs(proc) -> Gen:
    """``xargs [-0] [-d DELIM] [-n N] [-I REPLACE] [-r] [-t] [COMMAND [ARG...]]``."""
    args = proc.argv[1:]
    max_args = None
    replace = None
    delim = None
    no_run_empty = False
    trace = False
    max_lines = None
    while args and args[0].startswith("-") and len(args[0]) > 1:
        a = args.pop(0)
        if a == "--":
            break
        if a in ("-0", "--null"):
            delim = "\0"
        elif a in ("-r", "--no-run-if-empty"):
            no_run_empty = True
        elif a in ("-t", "--verbose"):
            trace = True
        elif a in ("-n", "--max-args") or a.startswith("-n"):
            v = a[2:] if a.startswith("-n") and len(a) > 2 else (args.pop(0) if args else "")
            if not _isnum(v) or int(v) < 1:
                proc.error(f"xargs: value {v} for -n option should be >= 1\n")
                return 1
            max_args = int(v)
        elif a in ("-L",) or (a.startswith("-L") and len(a) > 2):
            v = a[2:] if len(a) > 2 else (args.pop(0) if args else "1")
            max_lines = int(v) if _isnum(v) else 1
        elif a in ("-I", "-i") or a.startswith("-I") or a.startswith("--replace"):
            if a.startswith("-I") and len(a) > 2:
                replace = a[2:]
            elif a in ("-i",) or a == "--replace":
                replace = "{}"
            elif a.startswith("--replace="):
                replace = a.split("=", 1)[1]
            else:
                replace = args.pop(0) if args else "{}"
        elif a in ("-d", "--delimiter") or a.startswith("-d"):
            v = a[2:] if a.startswith("-d") and len(a) > 2 else (args.pop(0) if args else "\n")
            delim = {"\\n": "\n", "\\t": "\t", "\\0": "\0"}.get(v, v[:1])
        elif a in ("-P", "-s", "-E", "-a") or a.startswith("-P") or a.startswith("-s"):
            if len(a) == 2 and args:
                args.pop(0)
        elif a in ("-x", "-p", "--exit", "--interactive"):
            pass
        else:
            proc.error(f"xargs: invalid option -- '{a[1]}'\nUsage: xargs [OPTION]... COMMAND [INITIAL-ARGS]...\n"
                       "Try 'xargs --help' for more information.\n")
            return 1
    command = args or ["echo"]
    text = proc.stdin.decode("utf-8", errors="replace")
    if replace is not None:
        items = [line for line in text.split("\n") if line.strip()] if delim is None else \
            [x for x in text.split(delim) if x]
        batches = [[item.strip() if delim is None else item] for item in items]
    else:
        try:
            if delim is not None:
                items = text.split(delim)
                if items and items[-1] == "":
                    items.pop()
            elif max_lines is not None:
                items = None
            else:
                items = _xargs_split(text)
        except ValueError as e:
            proc.error(f"xargs: {e}\n")
            return 1
        if items is None:
            lines = [line for line in text.split("\n") if line.strip()]
            batches = []
            for k in range(0, len(lines), max_lines or 1):
                chunk = []
                for line in lines[k:k + (max_lines or 1)]:
                    chunk.extend(_xargs_split(line))
                batches.append(chunk)
        elif max_args:
            batches = [items[k:k + max_args] for k in range(0, len(items), max_args)]
        else:
            batches = [items] if items else []
    if not batches and not no_run_empty and replace is None:
        batches = [[]]
    status = 0
    for batch in batches:
        if replace is not None:
            argv = [a.replace(replace, batch[0]) for a in command]
        else:
            argv = command + batch
        if trace:
            proc.error(" ".join(argv) + "\n")
        code, err = yield from _spawn_wait(proc, argv, stdin=b"")
        if err is not None:
            why = "No such file or directory" if code == 127 else "Permission denied"
            proc.error(f"xargs: {argv[0]}: {why}\n")
            return code
        if code == 255:
            proc.error(f"xargs: {argv[0]}: exited with status 255; aborting\n")
            return 124
        if code > 128:
            proc.error(f"xargs: {argv[0]}: terminated by signal {code - 128}\n")
            return 125
        if code != 0:
            status = 123
    return status


# ---------------------------------------------------------------------------
# tar (GNU tar's common options on real tar / tar.gz bytes, through Python's tarfile)

_TAR_MODES = "Acdtrux"


def _tar_args(argv: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Old style (``xzf FILE``), short bundles (``-xzf FILE``, ``-C DIR``) and the long options."""
    opts: dict[str, Any] = {"modes": []}
    ops: list[str] = []
    longs = {"extract": "x", "get": "x", "create": "c", "list": "t", "gzip": "z", "gunzip": "z", "ungzip": "z",
             "verbose": "v", "file": "f", "directory": "C", "strip-components": "strip", "no-same-owner": "",
             "same-owner": "", "overwrite": "", "no-same-permissions": "", "preserve-permissions": "p",
             "same-permissions": "p"}
    args = list(argv)
    if args and not args[0].startswith("-"):  # old style: the first word is all option letters
        letters, rest = args[0], args[1:]
        args = []
        for c in letters:
            args.append("-" + c)
            if c in "fC" and rest:
                args.append(rest.pop(0))
        args += rest
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            ops += args[i + 1:]
            break
        if a.startswith("--"):
            name, eq, val = a[2:].partition("=")
            key = longs.get(name)
            if key is None:
                raise _BadOption(a)
            if key in ("f", "C", "strip"):
                if not eq:
                    i += 1
                    if i >= len(args):
                        raise _BadOption(a, missing=True)
                    val = args[i]
                opts[key] = val
            elif key in _TAR_MODES:
                opts["modes"].append(key)
            elif key:
                opts[key] = True
        elif a.startswith("-") and len(a) > 1:
            j = 1
            while j < len(a):
                c = a[j]
                if c in "fC":
                    val = a[j + 1:]
                    if not val:
                        i += 1
                        if i >= len(args):
                            raise _BadOption("-" + c, missing=True)
                        val = args[i]
                    opts[c] = val
                    break
                if c in _TAR_MODES:
                    opts["modes"].append(c)
                elif c in "zvpo":
                    opts[c] = True
                else:
                    raise _BadOption("-" + c)
                j += 1
        else:
            ops.append(a)
        i += 1
    return opts, ops


def _tar_fatal(proc, msg: str) -> int:
    proc.error(f"tar: {msg}\ntar: Error is not recoverable: exiting now\n")
    return 2


def _tar_epoch(proc) -> float:
    return sim_datetime(proc, 0).timestamp()


@register_program("tar")
def tar(proc) -> int:
    """``tar -c|-x|-t [-vz] [-f ARCHIVE] [-C DIR] [--strip-components=N] [FILE...]``."""
    import gzip
    import io
    import tarfile

    try:
        opts, ops = _tar_args(proc.argv[1:])
    except _BadOption as e:
        proc.error(f"tar: {'unrecognized option ' + repr(e.opt) if e.opt.startswith('--') else 'invalid option -- ' + repr(e.opt[1:])}\n"
                   "Try 'tar --help' or 'tar --usage' for more information.\n")
        return 2
    modes = set(opts["modes"])
    if len(modes) != 1:
        proc.error(("tar: You must specify one of the '-Acdtrux', '--delete' or '--test-label' options\n" if not modes
                    else "tar: You may not specify more than one '-Acdtrux', '--delete' or  '--test-label' option\n")
                   + "Try 'tar --help' or 'tar --usage' for more information.\n")
        return 2
    mode = modes.pop()
    if mode not in "ctx":
        return _tar_fatal(proc, f"option -{mode} is not supported here (use -c, -t or -x)")
    archive = opts.get("f", "-")
    base = proc.path(opts.get("C", "."))
    if "C" in opts and not proc.fs.is_dir(base):
        return _tar_fatal(proc, f"{opts['C']}: Cannot open: No such file or directory")
    verbose = bool(opts.get("v"))
    failed = False
    if mode == "c":
        if not ops:
            proc.error("tar: Cowardly refusing to create an empty archive\n"
                       "Try 'tar --help' or 'tar --usage' for more information.\n")
            return 2
        buf = io.BytesIO()
        epoch = _tar_epoch(proc)
        warned = False
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
            for op in ops:
                top = join(base, op)
                if not proc.fs.lexists(top):
                    proc.error(f"tar: {op}: Cannot stat: No such file or directory\n")
                    failed = True
                    continue
                if op.startswith("/") and not warned:
                    proc.error("tar: Removing leading `/' from member names\n")
                    warned = True
                stack = [(top, op.lstrip("/") or ".")]
                while stack:
                    path, name = stack.pop(0)
                    e = proc.fs.stat(path, follow=False)
                    info = tarfile.TarInfo(name)
                    info.mode, info.uid, info.gid = e.mode & 0o7777, e.uid, e.gid
                    info.uname, info.gname = user_name(proc, e.uid), group_name(proc, e.gid)
                    info.mtime = int(epoch + mtime(proc, path))
                    data = None
                    if e.is_dir:
                        info.type = tarfile.DIRTYPE
                        stack[:0] = [(join(path, c), f"{name.rstrip('/')}/{c}")
                                     for c in sorted(proc.fs.listdir(path))]
                    elif e.kind == "symlink":
                        info.type, info.linkname = tarfile.SYMTYPE, e.target
                    else:
                        if not can_read(proc, path):
                            proc.error(f"tar: {name}: Cannot open: Permission denied\n")
                            failed = True
                            continue
                        data = e.data
                        info.size = len(data)
                    if verbose:
                        (proc.error if archive == "-" else proc.write)(name + ("/" if e.is_dir else "") + "\n")
                    tf.addfile(info, io.BytesIO(data) if data is not None else None)
        out = buf.getvalue()
        if opts.get("z"):
            out = gzip.compress(out, mtime=0)
        if archive == "-":
            proc.write(out)
        else:
            try:
                _write_file(proc, archive, out)
            except FsError as e:
                return _tar_fatal(proc, f"{archive}: Cannot open: {_errno(e)}")
    else:
        try:
            raw = _read_input(proc, archive)
        except FsError as e:
            return _tar_fatal(proc, f"{archive}: Cannot open: {_errno(e)}")
        if raw[:2] == b"\x1f\x8b":
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError):
                proc.error("\ngzip: stdin: unexpected end of file\n")
                return _tar_fatal(proc, "Child returned status 1")
        elif opts.get("z"):
            proc.error("\ngzip: stdin: not in gzip format\n")
            return _tar_fatal(proc, "Child returned status 1")
        try:
            tf = tarfile.open(fileobj=io.BytesIO(raw), mode="r:")
            members = tf.getmembers()
        except tarfile.TarError:
            proc.error("tar: This does not look like a tar archive\n"
                       "tar: Exiting with failure status due to previous errors\n")
            return 2
        strip = int(opts.get("strip", 0) or 0)
        wanted = [o.rstrip("/") for o in ops]
        seen: set[str] = set()
        epoch = _tar_epoch(proc)
        warned = False
        ugswidth = 19
        for m in members:
            name = m.name
            if name.startswith("/"):
                if not warned:
                    proc.error("tar: Removing leading `/' from member names\n")
                    warned = True
                name = name.lstrip("/")
            hit = next((w for w in wanted if name.rstrip("/") == w or name.startswith(w + "/")), None)
            if wanted and hit is None:
                continue
            seen.add(hit or "")
            if mode == "t":
                shown = name + ("/" if m.isdir() and not name.endswith("/") else "")
                if verbose:
                    kind = "d" if m.isdir() else "l" if m.issym() else "h" if m.islnk() else "-"
                    perm = mode_string(Entry("file", b"", m.mode & 0o7777))[1:]
                    owner = f"{m.uname or m.uid}/{m.gname or m.gid}"
                    size = str(m.size)
                    when = _dt.datetime.fromtimestamp(m.mtime, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
                    used = len(owner) + len(size)  # GNU: user/group and size share a growing column
                    ugswidth = max(ugswidth, used)
                    tail = f" -> {m.linkname}" if m.issym() else f" link to {m.linkname}" if m.islnk() else ""
                    proc.write(f"{kind}{perm} {owner} {size:>{ugswidth - used + len(size)}} {when} {shown}{tail}\n")
                else:
                    proc.write(shown + "\n")
                continue
            parts = [p for p in name.split("/") if p and p != "."]
            if ".." in parts:
                proc.error(f"tar: {name}: Member name contains '..'\n")
                failed = True
                continue
            if len(parts) <= strip:
                continue
            rel = "/".join(parts[strip:])
            if verbose:
                proc.write(rel + ("/" if m.isdir() else "") + "\n")
            dest = join(base, rel)
            owner = (m.uid, m.gid) if proc.uid == 0 else _new_file_owner(proc)
            perm = m.mode & 0o7777 if proc.uid == 0 or opts.get("p") else m.mode & 0o777 & ~default_umask(proc)
            try:
                parent = posixpath.dirname(dest)
                if not proc.fs.exists(parent):
                    if not can_write(proc, parent):
                        raise FsError(f"{parent}: Permission denied", errno="EACCES", path=parent)
                    proc.fs.mkdir(parent, parents=True, uid=owner[0], gid=owner[1])
                if not can_write(proc, dest):
                    raise FsError(f"{dest}: Permission denied", errno="EACCES", path=dest)
                if m.isdir():
                    if not proc.fs.is_dir(dest):
                        proc.fs.mkdir(dest, mode=perm, uid=owner[0], gid=owner[1])
                elif m.issym() or m.islnk():
                    if proc.fs.lexists(dest):
                        proc.fs.remove(dest)
                    if m.issym():
                        proc.fs.symlink(m.linkname, dest)
                    else:
                        target = join(base, "/".join(m.linkname.split("/")[strip:]))
                        proc.fs.write(dest, proc.fs.read(target), mode=perm, uid=owner[0], gid=owner[1])
                elif m.isfile():
                    if proc.fs.lexists(dest) and not proc.fs.is_dir(dest):
                        proc.fs.remove(dest)
                    proc.fs.write(dest, tf.extractfile(m).read(), mode=perm, uid=owner[0], gid=owner[1])
                else:
                    continue
            except FsError as e:
                proc.error(f"tar: {rel}: Cannot open: {_errno(e)}\n")
                failed = True
                continue
            touch_mtime(proc, dest, m.mtime - epoch)
        for w in wanted:
            if w not in seen:
                proc.error(f"tar: {w}: Not found in archive\n")
                failed = True
    if failed:
        proc.error("tar: Exiting with failure status due to previous errors\n")
        return 2
    return 0
