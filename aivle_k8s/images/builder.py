"""``docker build``: run a Dockerfile the way BuildKit does, with its cache and its log.

A :class:`Builder` works on one :class:`~aivle_k8s.images.store.ImageStore`.
It needs two things from the engine:

* ``runner(rootfs, argv, env, workdir, user) -> (exit_code, output[, seconds])``
  runs one ``RUN`` step in a container-like namespace over ``rootfs`` (a
  :class:`~aivle_k8s.linux.fs.FileSystem` whose ``diff()`` becomes the layer);
  :func:`kernel_runner` makes one from a machine's kernel;
* ``pull(reference) -> Image`` fetches a base image the store lacks.

What it follows from BuildKit:

* only the target stage and the stages it needs are built (``--target``);
* ``RUN``, ``COPY``, ``ADD`` and ``WORKDIR`` are steps (``[2/4] RUN ...``) and
  make a layer unless they changed nothing; ``ENV``, ``CMD``, ``LABEL``,
  ``EXPOSE``, ... only change the config and add an ``empty_layer`` history entry;
* the cache: a step is reused when everything it depends on is the same (the
  previous step, the command, its environment, workdir and user; for
  ``COPY``/``ADD`` the content and modes of the copied files); the first miss
  rebuilds every later step of the stage; a cached step reuses its layer *and*
  its original creation time, so a fully cached rebuild gives the same image id;
* history ``created_by`` strings (``RUN /bin/sh -c make # buildkit``,
  ``CMD ["nginx" "-g" "daemon off;"]``, ``EXPOSE map[80/tcp:{}]``) and the
  ``buildkit.dockerfile.v0`` comment;
* the plain progress log (``#5 [2/3] RUN ...`` / ``#5 CACHED`` / ``#5 DONE 0.1s``)
  and its error report with the Dockerfile excerpt.

A failed step raises :class:`~aivle_k8s.sim.errors.BuildError` (``message`` is
BuildKit's, e.g. ``process "/bin/sh -c exit 3" did not complete successfully:
exit code: 3``; ``build_log`` ends with ``ERROR: failed to solve: <message>``)
and adds nothing to the store. Dockerfile syntax errors propagate as
:class:`~aivle_k8s.sim.errors.DockerfileParseError`.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import lzma
import posixpath
import re
import tarfile
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence

from ..linux.fs import Entry, FileSystem, normpath
from ..sim.errors import (
    AivleError,
    BuildError,
    DockerfileParseError,
    FsError,
    InvalidReference,
    NotFound,
)
from .dockerfile import (
    DEFAULT_SHELL,
    PLATFORM_ARGS,
    Dockerfile,
    Instruction,
    Stage,
    bind_args,
    expand,
    parse_dockerfile,
    parse_instruction,
    resolve,
)
from .image import DEFAULT_PATH, Image, ImageConfig, _set_env, human_size
from .layers import Layer, sha256_digest
from .reference import Reference, parse_reference
from .store import ImageStore

__all__ = [
    "Builder",
    "BuildResult",
    "StepResult",
    "HistoryRow",
    "Runner",
    "history_rows",
    "kernel_runner",
    "dockerignore_matcher",
]

#: ``runner(rootfs, argv, env, workdir, user) -> (exit_code, output)`` or ``(exit_code, output, seconds)``.
Runner = Callable[[FileSystem, list, dict, str, str], tuple]

_LAYER_STEPS = ("RUN", "COPY", "ADD", "WORKDIR")
_PROXY_ARGS = frozenset({"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
                         "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"})
_DEFAULT_NOW = "2025-03-03T09:00:00Z"


# =============================================================================
# results
# =============================================================================
@dataclass(frozen=True)
class StepResult:
    """One build step (a line ``[stage 2/5] RUN ...`` of the log)."""

    stage: str  # the stage's display name ("" for a single unnamed stage)
    index: int  # 1-based, FROM is 1
    total: int
    instruction: str  # as the log shows it (variables substituted)
    cached: bool
    layer_size: int = 0  # bytes of file content in the layer it made (0: no layer)
    seconds: float = 0.0


@dataclass
class BuildResult:
    """What a build produced: the image (already in the store, tagged), its log and steps."""

    image: Image
    log: str
    steps: list[StepResult]
    cache_hits: int
    warnings: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.image.id

    def __repr__(self) -> str:
        return f"<BuildResult {self.image!r} steps={len(self.steps)} cached={self.cache_hits}>"


@dataclass(frozen=True)
class HistoryRow:
    """One line of ``docker history``."""

    image: str  # short id (top row), full id (no_trunc) or "<missing>"
    created: str  # RFC 3339
    created_by: str  # truncated to 45 characters unless no_trunc
    size: int
    comment: str

    @property
    def size_human(self) -> str:
        return human_size(self.size)


def history_rows(image: Image, no_trunc: bool = False) -> list[HistoryRow]:
    """``docker history IMAGE``: newest step first; only the top row names the image.

    >>> from aivle_k8s.linux.fs import Entry
    >>> img = Image().add_layer({"/a": Entry.file(b"x" * 5243)}, "COPY a / # buildkit", "2025-03-03T09:00:00Z")
    >>> img = img.add_history('CMD ["sh"]', "2025-03-03T09:00:00Z")
    >>> [(r.image == img.short_id, r.created_by, r.size_human) for r in history_rows(img)]
    [(True, 'CMD ["sh"]', '0B'), (False, 'COPY a / # buildkit', '5.24kB')]
    """
    layers = list(image.layers)
    rows: list[HistoryRow] = []
    li = 0
    for h in image.history:
        size = 0
        if not h.get("empty_layer"):
            if li < len(layers):
                size = layers[li].content_size
            li += 1
        created_by = str(h.get("created_by", "")).replace("\t", " ")
        if not no_trunc:
            created_by = _ellipsis(created_by, 45)
        rows.append(HistoryRow("<missing>", str(h.get("created", "")), created_by, size, str(h.get("comment", ""))))
    for layer in layers[li:]:  # layers without history entries
        rows.append(HistoryRow("<missing>", image.created, "", layer.content_size, ""))
    rows.reverse()
    if rows:
        rows[0] = replace(rows[0], image=image.id if no_trunc else image.short_id)
    return rows


def _ellipsis(text: str, maxlen: int) -> str:
    if len(text) <= maxlen:
        return text
    return text[: maxlen - 1] + "…"


# =============================================================================
# helpers: Go-style formatting of history strings
# =============================================================================
def _go_quote(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\a\b\f\n\r\t\v":
            out.append({"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
                        "\v": "\\v"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\x%02x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _go_quote_list(items: Sequence[str]) -> str:
    return "[" + " ".join(_go_quote(i) for i in items) + "]"


def _go_duration(seconds: float) -> str:
    ns = int(round(seconds * 1e9))
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 1_000:
        return f"{sign}{ns}ns"
    if ns < 1_000_000:
        return f"{sign}{_trim(ns / 1e3)}µs"
    if ns < 1_000_000_000:
        return f"{sign}{_trim(ns / 1e6)}ms"
    h, rem = divmod(ns, 3600 * 10**9)
    m, rem = divmod(rem, 60 * 10**9)
    s = _trim(rem / 1e9)
    if h:
        return f"{sign}{h}h{m}m{s}s"
    if m:
        return f"{sign}{m}m{s}s"
    return f"{sign}{s}s"


def _trim(x: float) -> str:
    text = f"{x:.9f}".rstrip("0").rstrip(".")
    return text or "0"


def _go_rune(n: int) -> str:
    if 0x20 <= n < 0x7F and chr(n) not in "'\\":
        return f"'{chr(n)}'"
    return "'\\x%02x'" % n if n < 0x100 else f"'\\u{n:04x}'"


def _healthcheck_json(hc) -> dict:
    out: dict[str, Any] = {"Test": list(hc.test)}
    for key, value in (("Interval", hc.interval), ("Timeout", hc.timeout), ("StartPeriod", hc.start_period),
                       ("StartInterval", hc.start_interval)):
        if value:
            out[key] = int(round(value * 1e9))
    if hc.retries:
        out["Retries"] = hc.retries
    return out


def _healthcheck_history(hc) -> str:
    parts = [_go_quote_list(hc.test)] + [_go_quote(_go_duration(v)) for v in
                                         (hc.interval, hc.timeout, hc.start_period, hc.start_interval)]
    return "HEALTHCHECK &{" + " ".join(parts) + " " + _go_rune(hc.retries) + "}"


def _display_run(original: str, env: Mapping[str, str]) -> str:
    """A RUN step's name as BuildKit shows it: known ``$VAR``/``${VAR}`` substituted, quotes
    and unknown variables kept (its lexer in RawQuotes + SkipUnsetEnv mode)."""
    keyword, _, rest = original.partition(" ")
    out, quote, i = [], None, 0
    while i < len(rest):
        ch = rest[i]
        if ch == "'" and quote != '"':
            quote = None if quote == "'" else "'"
        elif ch == '"' and quote != "'":
            quote = None if quote == '"' else '"'
        elif ch == "\\" and i + 1 < len(rest):
            out.append(rest[i:i + 2])
            i += 2
            continue
        elif ch == "$" and quote != "'":
            m = re.match(r"\$(?:\{(\w+)\}|(\w+))", rest[i:])
            if m:
                name = m.group(1) or m.group(2)
                out.append(env[name] if name in env else m.group(0))
                i += m.end()
                continue
        out.append(ch)
        i += 1
    return f"{keyword.upper()} {''.join(out)}".strip()


def _human4(n: int) -> str:
    size, i, units = float(n), 0, ["B", "kB", "MB", "GB", "TB"]
    while size >= 1000 and i < len(units) - 1:
        size /= 1000
        i += 1
    return "%.4g%s" % (size, units[i])


# =============================================================================
# patterns: .dockerignore and COPY globs
# =============================================================================
def _pattern_regex(pattern: str, doublestar: bool) -> re.Pattern:
    """A Go filepath.Match pattern (with ``**`` for .dockerignore) as a regex."""
    out = ["^"]
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if doublestar and i + 1 < n and pattern[i + 1] == "*":
                i += 2
                if i < n and pattern[i] == "/":
                    i += 1
                out.append(".*" if i >= n else "(.*/)?")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            j = pattern.find("]", i + 1)
            if j < 0:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1:j]
                if body.startswith("^"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = j
        elif ch == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    out.append("$")
    try:
        return re.compile("".join(out))
    except re.error:
        return re.compile(re.escape(pattern) + "$")


def dockerignore_matcher(text: str) -> Callable[[str], bool]:
    """``excluded(relative_path)`` for a ``.dockerignore`` (moby's patternmatcher rules).

    Later patterns win; ``!pattern`` re-includes; a pattern matching a
    directory excludes everything under it; ``**`` matches any number of
    directories.

    >>> ex = dockerignore_matcher("*.log\\nbuild/\\n!build/keep.txt\\n**/__pycache__\\n")
    >>> [ex(p) for p in ("a.log", "src/a.log", "build/x", "build/keep.txt", "a/b/__pycache__/c.pyc")]
    [True, False, True, False, True]
    """
    patterns: list[tuple[re.Pattern, bool]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        line = posixpath.normpath(line) if line else line
        if len(line) > 1 and line.startswith("/"):
            line = line[1:]
        if not line or line == ".":
            continue
        patterns.append((_pattern_regex(line, doublestar=True), exclusion))

    def excluded(path: str) -> bool:
        path = path.strip("/")
        parent = posixpath.dirname(path)
        parents = parent.split("/") if parent else []
        matched = False
        for rx, exclusion in patterns:
            if exclusion != matched:
                continue
            match = bool(rx.match(path))
            if not match and parents:
                for i in range(len(parents)):
                    if rx.match("/".join(parents[: i + 1])):
                        match = True
                        break
            if match:
                matched = not exclusion
        return matched

    return excluded


def _has_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


# =============================================================================
# the runner for tests and engines
# =============================================================================
def kernel_runner(kernel, hostname: str = "buildkitsandbox", timeout: float = 3600.0,
                  net: Any = None) -> Runner:
    """A runner that executes RUN steps as processes on ``kernel`` (in their own namespaces).

    Simulated time passes while a step runs (the kernel's loop is advanced
    until the process exits, at most ``timeout`` seconds).
    """
    from ..linux.kernel import ExecError, Namespaces, PidNamespace, Stream

    def run(rootfs: FileSystem, argv: list, env: dict, workdir: str, user: str):
        try:
            uid, _gid = _user_ids(rootfs, user, default_root=True)
        except BuildError:
            name = (user or "").partition(":")[0]
            raise BuildError(f"unable to find user {name}: no matching entries in passwd file") from None
        ns = Namespaces(fs=rootfs, hostname=hostname, pid=PidNamespace(kernel.host_pidns, "build"),
                        net=net, name="build", user=user or "root")
        env = dict(env)
        if "HOME" not in env:  # like runc: the user's home from /etc/passwd, else /root or /
            home = next((e[5] for e in _passwd(rootfs, "/etc/passwd") if len(e) > 5 and e[2] == str(uid)), None)
            env["HOME"] = home or ("/root" if uid == 0 else "/")
        out = Stream("stdout")
        start = kernel.loop.now
        try:
            proc = kernel.spawn(list(argv), ns=ns, env=dict(env), cwd=workdir or "/", stdout=out,
                                stderr=out, uid=uid)
        except ExecError as e:
            if e.errno == "ENOENT":
                where = "executable file not found in $PATH" if "/" not in argv[0] else \
                    f"stat {argv[0]}: no such file or directory"
                raise BuildError(f"runc run failed: unable to start container process: error during container "
                                 f'init: exec: "{argv[0]}": {where}') from None
            return e.exit_code, f"{argv[0]}: {e.message}\n", 0.0
        if proc.exit_code is None:
            kernel.loop.run_until(lambda: proc.exit_code is not None, timeout=timeout)
        if proc.exit_code is None:
            kernel.signal(proc.pid, "KILL")
        return proc.exit_code, out.text(), kernel.loop.now - start

    return run


def _passwd(fs: FileSystem, path: str) -> list[list[str]]:
    try:
        text = fs.read_text(path)
    except FsError:
        return []
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def _user_ids(fs: FileSystem, spec: str, *, default_root: bool = False, same_gid: bool = False) -> tuple[int, int]:
    """uid, gid for ``user[:group]`` (names looked up in the image's /etc/passwd and /etc/group).

    Raises:
        BuildError: an unknown name.
    """
    spec = (spec or "").strip()
    if not spec:
        return 0, 0
    user, _, group = spec.partition(":")
    entry = None
    if user.isdigit():
        uid = int(user)
        entry = next((e for e in _passwd(fs, "/etc/passwd") if len(e) > 3 and e[2] == user), None)
    else:
        entry = next((e for e in _passwd(fs, "/etc/passwd") if e and e[0] == user and len(e) > 3), None)
        if entry is None:
            if default_root and user == "root":
                return 0, 0
            raise BuildError(f"unable to convert uid/gid chown string to host mapping: can't find uid for user "
                             f"{user}: no such user: {user}")
        uid = int(entry[2])
    if group:
        if group.isdigit():
            gid = int(group)
        else:
            g = next((e for e in _passwd(fs, "/etc/group") if e and e[0] == group and len(e) > 2), None)
            if g is None:
                raise BuildError(f"unable to convert uid/gid chown string to host mapping: can't find gid for "
                                 f"group {group}: no such group: {group}")
            gid = int(g[2])
    elif same_gid or entry is None:
        gid = uid
    else:
        gid = int(entry[3]) if entry[3].isdigit() else uid
    return uid, gid


# =============================================================================
# the builder
# =============================================================================
@dataclass
class _CacheRecord:
    layer: Layer | None
    created: str


class _StepFailed(Exception):
    def __init__(self, message: str, output: str = "", vertex_message: str | None = None):
        super().__init__(message)
        self.message = message
        self.output = output
        self.vertex_message = vertex_message or message


class _Log:
    def __init__(self) -> None:
        self.lines = ['#0 building with "default" instance using docker driver']
        self.n = 0

    def vertex(self, name: str) -> int:
        self.n += 1
        self.lines += ["", f"#{self.n} {name}"]
        return self.n

    def add(self, n: int, text: str) -> None:
        self.lines.append(f"#{n} {text}")

    def output(self, n: int, text: str, seconds: float) -> None:
        lines = text.splitlines()
        for i, line in enumerate(lines):
            t = seconds * (i + 1) / (len(lines) + 1) if seconds else 0.0
            self.lines.append(f"#{n} {t:.3f} {line}".rstrip())

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


@dataclass
class _State:
    """A stage being built."""

    stage: Stage
    name: str
    image: Image
    key: str
    t_cur: str
    total: int
    args: dict[str, str] = field(default_factory=dict)  # ARG values in scope
    declared: dict[str, str | None] = field(default_factory=dict)  # every ARG of the stage, in order
    shell: tuple[str, ...] = DEFAULT_SHELL
    cmd_set: bool = False
    index: int = 1
    missed: bool = False
    ins: Instruction | None = None


class Builder:
    """Builds images from Dockerfiles into ``store``.

    Args:
        store: the engine's image store (also holds the build cache).
        runner: executes RUN steps; see :data:`Runner` and :func:`kernel_runner`.
        pull: ``pull(reference) -> Image`` for base images the store lacks.
        now: RFC 3339 time of new steps, or a callable returning it (the engine
            passes ``world.timestamp``).
        fetch: ``fetch(url) -> bytes`` for ``ADD https://...`` (optional).
    """

    def __init__(self, store: ImageStore, runner: Runner | None = None,
                 pull: Callable[[str], Image] | None = None, now: str | Callable[[], str] | None = None,
                 fetch: Callable[[str], bytes] | None = None):
        self.store = store
        self.runner = runner
        self.pull = pull
        self.now = now
        self.fetch = fetch

    def __repr__(self) -> str:
        return f"<Builder cache={len(self.store.build_cache)}>"

    @property
    def cache(self) -> dict:
        return self.store.build_cache

    def prune_cache(self) -> int:
        """``docker builder prune``: forget every cached step; returns how many."""
        n = len(self.store.build_cache)
        self.store.build_cache.clear()
        return n

    def history(self, image: Image | str, no_trunc: bool = False) -> list[HistoryRow]:
        """``docker history``; see :func:`history_rows`."""
        if not isinstance(image, Image):
            image = self.store.get(image)
        return history_rows(image, no_trunc)

    def _now(self, now: str | None) -> str:
        if now is not None:
            return now
        if callable(self.now):
            return self.now()
        return self.now or _DEFAULT_NOW

    # -- the build -------------------------------------------------------------------
    def build(self, context_fs: FileSystem | None = None, context_dir: str = "/", dockerfile: str = "Dockerfile",
              *, dockerfile_text: str | None = None, tags: Sequence[str | Reference] = (),
              build_args: Mapping[str, str] | None = None, target: str | None = None,
              no_cache: bool = False, now: str | None = None) -> BuildResult:
        """``docker build -t TAG [--build-arg K=V] [--target T] [--no-cache] [-f DOCKERFILE] CONTEXT``.

        Args:
            context_fs, context_dir: the build context (a directory of a filesystem).
            dockerfile: path of the Dockerfile inside the context (or absolute in ``context_fs``).
            dockerfile_text: the Dockerfile itself (then ``dockerfile`` is not read).
            tags: names for the image (``app:1``).
            build_args: ``--build-arg`` values.
            target: build this stage (name or index) instead of the last.
            no_cache: ignore the cache (results are still cached for later builds).
            now: RFC 3339 time of this build (default: the builder's ``now``).

        Returns:
            :class:`BuildResult`; the image is in the store with ``tags``.

        Raises:
            BuildError: a step failed (the store is unchanged).
            DockerfileParseError: the Dockerfile is not valid.
            InvalidReference: a tag is not a valid name.
        """
        now = self._now(now)
        tag_refs = [t if isinstance(t, Reference) else parse_reference(str(t)) for t in tags]
        for t in tag_refs:
            if t.digest is not None:
                raise InvalidReference(f'invalid argument "{t}" for "-t, --tag" flag: a tag cannot carry a digest',
                                       reference=str(t), part="digest")
        run = _Build(self, context_fs, context_dir, dockerfile, dockerfile_text, tag_refs,
                     dict(build_args or {}), target, no_cache, now)
        return run.execute()


class _Build:
    """One ``docker build`` in progress."""

    def __init__(self, builder: Builder, context_fs, context_dir, dockerfile, dockerfile_text, tags,
                 build_args, target, no_cache, now):
        self.b = builder
        self.store = builder.store
        self.context_fs = context_fs
        self.context_dir = context_dir or "/"
        self.dockerfile_path = dockerfile
        self.dockerfile_text = dockerfile_text
        self.tags = tags
        self.build_args = build_args
        self.target = target
        self.no_cache = no_cache
        self.now = now
        self.log = _Log()
        self.steps: list[StepResult] = []
        self.cache_hits = 0
        self.consumed: set[str] = set()
        self.bases: dict[str, Image] = {}
        self.states: dict[int, _State] = {}
        self.context: FileSystem | None = None
        self.context_sent = False
        self.df: Dockerfile | None = None
        self.global_values: dict[str, str] = {}
        self.ignore_text = ""

    # -- errors ------------------------------------------------------------------------
    def fail(self, message: str, n: int | None = None, label: str | None = None, output: str = "",
             ins: Instruction | None = None, vertex_message: str | None = None) -> BuildError:
        if n is not None:
            self.log.add(n, f"ERROR: {vertex_message or message}")
        if label is not None:
            self.log.lines += ["------", f" > {label}:"]
            for line in output.splitlines()[-10:]:
                self.log.lines.append(f"{0.0:.3f} {line}")
            self.log.lines.append("------")
        if ins is not None and self.df is not None:
            src = self.df.source.splitlines()
            first, last = ins.line, max(ins.end_line, ins.line)
            self.log.lines.append(f"{self.df.filename}:{first}" + (f"-{last}" if last != first else ""))
            self.log.lines.append("--------------------")
            for i in range(max(1, first - 2), min(len(src), last + 2) + 1):
                mark = ">>> " if first <= i <= last else "    "
                self.log.lines.append(f"{i:>4} | {mark}{src[i - 1]}".rstrip())
            self.log.lines.append("--------------------")
        self.log.lines.append(f"ERROR: failed to solve: {message}")
        return BuildError(message, build_log=self.log.text())

    # -- main ------------------------------------------------------------------------------
    def execute(self) -> BuildResult:
        text, name = self.read_dockerfile()
        n = self.log.vertex(f"[internal] load build definition from {name}")
        self.log.add(n, f"transferring dockerfile: {_human4(len(text.encode()))} done")
        self.log.add(n, "DONE 0.0s")
        self.df = df = parse_dockerfile(text, filename=name, build_args=self.build_args)
        try:
            target = df.stage(self.target) if self.target is not None else df.target
        except NotFound as e:
            raise self.fail(e.message) from None
        needed = self.needed_stages(df, target.index)
        for ins in df.global_args:
            self.consumed.update(k for k, _ in ins.pairs)
        self.global_values = df.global_env(self.build_args)

        self.load_metadata(df, needed)
        n = self.log.vertex("[internal] load .dockerignore")
        ignore_text = self.read_context_file(".dockerignore")
        self.log.add(n, f"transferring context: {_human4(len(ignore_text.encode()) if ignore_text else 2)} done")
        self.log.add(n, "DONE 0.0s")
        self.ignore_text = ignore_text

        for index in needed:
            self.build_stage(df.stages[index], len(df.stages))
        state = self.states[target.index]
        image = state.image

        n = self.log.vertex("exporting to image")
        self.log.add(n, "exporting layers 0.0s done")
        self.log.add(n, f"writing image {image.id} done")
        for t in self.tags:
            self.log.add(n, f"naming to {t} done")
        self.log.add(n, "DONE 0.0s")

        warnings = list(df.warnings)
        unused = sorted(k for k in self.build_args
                        if k not in self.consumed and k not in _PROXY_ARGS and k not in PLATFORM_ARGS)
        if unused:
            warnings.append(f"[Warning] One or more build-args [{' '.join(unused)}] were not consumed")
        lint = list(df.warnings)
        if lint:
            self.log.lines.append("")
            plural = "warning" if len(lint) == 1 else "warnings"
            self.log.lines.append(f" {len(lint)} {plural} found (use docker --debug to expand):")
            self.log.lines += [f" - {w}" for w in lint]
        if unused:
            self.log.lines.append(warnings[-1])

        stored = self.store.add(image, tags=self.tags)
        return BuildResult(stored, self.log.text(), self.steps, self.cache_hits, warnings,
                           [str(t) for t in self.tags])

    # -- inputs ------------------------------------------------------------------------------
    def context_path(self, rel: str) -> str:
        return normpath(posixpath.join(self.context_dir, rel))

    def read_dockerfile(self) -> tuple[str, str]:
        if self.dockerfile_text is not None:
            return self.dockerfile_text, posixpath.basename(self.dockerfile_path or "Dockerfile")
        name = self.dockerfile_path or "Dockerfile"
        path = name if name.startswith("/") else self.context_path(name)
        if self.context_fs is None:
            raise self.fail(f"failed to read dockerfile: open {name}: no such file or directory")
        try:
            return self.context_fs.read_text(path), posixpath.basename(name)
        except FsError:
            raise self.fail(f"failed to read dockerfile: open {posixpath.basename(name)}: "
                            "no such file or directory") from None

    def read_context_file(self, rel: str) -> str:
        if self.context_fs is None:
            return ""
        try:
            return self.context_fs.read_text(self.context_path(rel))
        except FsError:
            return ""

    def load_context(self) -> FileSystem:
        """The build context after .dockerignore, as a filesystem rooted at the context dir."""
        if self.context is not None:
            return self.context
        layer: dict[str, Entry] = {}
        fs = self.context_fs
        if fs is not None:
            root = self.context_dir
            if not fs.is_dir(root):
                raise self.fail(f'unable to prepare context: path "{root}" not found')
            excluded = dockerignore_matcher(self.ignore_text)
            base = fs.resolve(root)
            kept: dict[str, Entry] = {}
            for path, entry in fs.walk(base):
                rel = path[len(base):].lstrip("/") if base != "/" else path.lstrip("/")
                if excluded(rel):
                    continue
                kept["/" + rel] = entry
                for parent in _parents(rel):
                    if "/" + parent not in kept:
                        kept["/" + parent] = fs.stat(posixpath.join(base, parent), follow=False)
            layer = dict(sorted(kept.items()))
        self.context = FileSystem([layer])
        return self.context

    def needed_stages(self, df: Dockerfile, target: int) -> list[int]:
        need: set[int] = set()

        def visit(i: int) -> None:
            if i in need:
                return
            need.add(i)
            st = df.stages[i]
            if st.base_stage is not None:
                visit(st.base_stage)
            for ins in st.instructions:
                if ins.from_stage is not None:
                    visit(ins.from_stage)

        visit(target)
        return sorted(need)

    def resolve_image(self, ref: Reference, n: int | None) -> Image:
        key = str(ref)
        if key in self.bases:
            return self.bases[key]
        try:
            image = self.store.get(ref)
        except NotFound:
            if self.b.pull is None:
                raise self.fail(f"{ref.familiar_string}: failed to resolve source metadata for {ref}: "
                                f"no such image and no registry to pull from", n) from None
            try:
                image = self.b.pull(str(ref))
            except AivleError as e:
                raise self.fail(f"{ref.familiar_string}: failed to resolve source metadata for {ref}: "
                                f"{e.message}", n) from None
        self.bases[key] = image
        return image

    def load_metadata(self, df: Dockerfile, needed: list[int]) -> None:
        refs: list[Reference] = []
        for i in needed:
            st = df.stages[i]
            if st.base_ref is not None:
                refs.append(st.base_ref)
            for ins in st.instructions:
                if ins.from_image is not None:
                    refs.append(ins.from_image)
        seen = set()
        for ref in refs:
            if str(ref) in seen:
                continue
            seen.add(str(ref))
            n = self.log.vertex(f"[internal] load metadata for {ref}")
            self.resolve_image(ref, n)
            self.log.add(n, "DONE 0.0s")

    # -- stages ---------------------------------------------------------------------------------
    def build_stage(self, stage: Stage, n_stages: int) -> None:
        triggers: list[Instruction] = []
        if stage.base_stage is not None:
            parent = self.states[stage.base_stage]
            image, key, t_cur = parent.image, parent.key, parent.t_cur
        elif stage.is_scratch:
            image, key, t_cur = Image(ImageConfig(env=(f"PATH={DEFAULT_PATH}",))), "scratch", ""
        else:
            assert stage.base_ref is not None
            image = self.resolve_image(stage.base_ref, None)
            key, t_cur = image.id, image.created
            if image.config.onbuild:
                for text in image.config.onbuild:
                    triggers.append(parse_instruction(text, line=stage.base_line))
                image = image.with_config(onbuild=())
        body = [*triggers, *stage.instructions]
        total = 1 + sum(1 for ins in body if ins.keyword in _LAYER_STEPS)
        name = (stage.name or f"stage-{stage.index}") if n_stages > 1 else ""
        state = _State(stage, name, image.with_tags(()), key, t_cur, total,
                       shell=tuple(image.config.shell or DEFAULT_SHELL))
        if stage.base_stage is not None:  # a stage built on a stage keeps its ARGs
            state.args = dict(self.states[stage.base_stage].args)
            state.declared = dict(self.states[stage.base_stage].declared)
        self.states[stage.index] = state
        if stage.base_stage is None and not stage.is_scratch:
            assert stage.base_ref is not None
            label = self.label(state, f"FROM {self.from_name(stage.base_ref, image)}")
            n = self.log.vertex(label)
            self.log.add(n, "DONE 0.0s")
            self.steps.append(StepResult(name, 1, total, label.split("] ", 1)[1], False))
        else:
            state.index = 2  # FROM scratch / FROM <stage> is step 1 but makes no vertex
        for ins in body:
            state.ins = ins
            self.dispatch(state, ins)

    def from_name(self, ref: Reference, image: Image) -> str:
        if ref.digest is None and image.raw_manifest is not None:
            return f"{ref}@{image.manifest_digest}"
        return str(ref)

    def label(self, state: _State, text: str) -> str:
        width = len(str(state.total))
        prefix = f"{state.name} " if state.name else ""
        label = f"[{prefix}{state.index:>{width}}/{state.total}] {text}"
        state.index += 1
        return label

    def env_of(self, state: _State) -> dict[str, str]:
        env = dict(state.args)
        env.update(state.image.config.env_dict())
        return env

    def history(self, state: _State, created_by: str) -> None:
        state.image = state.image.add_history(created_by, state.t_cur or self.now)

    def set_config(self, state: _State, **changes: Any) -> None:
        state.image = state.image.with_config(**changes)

    # -- instructions ------------------------------------------------------------------------------
    def dispatch(self, state: _State, ins: Instruction) -> None:
        kw = ins.keyword
        env = self.env_of(state)
        r = resolve(ins, env)
        config = state.image.config
        if kw == "ENV":
            self.set_config(state, env=_set_env(config.env, dict(r.pairs)))
            self.history(state, "ENV " + " ".join(f"{k}={v}" for k, v in r.pairs))
        elif kw == "LABEL":
            labels = dict(config.labels)
            labels.update({k: v or "" for k, v in r.pairs})
            self.set_config(state, labels=labels)
            self.history(state, "LABEL " + " ".join(f"{k}={v}" for k, v in r.pairs))
        elif kw == "ARG":
            bound = bind_args(ins, env, self.build_args, self.global_values)
            parts = []
            for k, v in bound:
                self.consumed.add(k)
                if v is not None:
                    state.args[k] = v
                state.declared[k] = v
                parts.append(k if v is None else f"{k}={v}")
            self.history(state, "ARG " + " ".join(parts))
        elif kw in ("CMD", "ENTRYPOINT"):
            argv = ins.argv(state.shell)
            if kw == "CMD":
                self.set_config(state, cmd=argv, args_escaped=True)
                state.cmd_set = True
            else:
                changes: dict[str, Any] = {"entrypoint": argv}
                if not state.cmd_set:
                    changes["cmd"] = None
                self.set_config(state, **changes)
            self.history(state, f"{kw} {_go_quote_list(argv)}")
        elif kw == "EXPOSE":
            ports = tuple(config.exposed_ports) + tuple(r.ports)
            self.set_config(state, exposed_ports=ports)
            self.history(state, "EXPOSE map[" + " ".join(f"{p}:{{}}" for p in sorted(set(r.ports))) + "]")
        elif kw == "VOLUME":
            self.set_config(state, volumes=tuple(config.volumes) + tuple(r.paths))
            self.history(state, "VOLUME [" + " ".join(r.paths) + "]")
        elif kw == "USER":
            self.set_config(state, user=r.value or "")
            self.history(state, f"USER {r.value}")
        elif kw == "STOPSIGNAL":
            self.set_config(state, stop_signal=r.value or "")
            self.history(state, f"STOPSIGNAL {r.value}")
        elif kw == "HEALTHCHECK":
            assert ins.healthcheck is not None
            self.set_config(state, healthcheck=_healthcheck_json(ins.healthcheck))
            self.history(state, _healthcheck_history(ins.healthcheck))
        elif kw == "SHELL":
            shell = tuple(ins.command or ())
            state.shell = shell
            self.set_config(state, shell=shell)
            self.history(state, "SHELL [" + " ".join(shell) + "]")
        elif kw == "ONBUILD":
            self.set_config(state, onbuild=tuple(config.onbuild) + (ins.value or "",))  # BuildKit adds no history
        elif kw == "MAINTAINER":
            self.history(state, f"MAINTAINER {ins.value}")
        elif kw == "WORKDIR":
            self.workdir(state, r, env)
        elif kw == "RUN":
            self.run(state, ins, env)
        elif kw in ("COPY", "ADD"):
            self.copy(state, ins, r, env)
        else:  # pragma: no cover - the parser knows no other keyword
            raise self.fail(f"unknown instruction: {kw}")

    def display(self, ins: Instruction, env: Mapping[str, str]) -> str:
        """The step text BuildKit shows: keyword upper-cased, variables substituted."""
        rest = ins.original[len(ins.original.split(None, 1)[0]):].strip() if ins.original.strip() else ""
        try:
            rest = expand(rest, env, escape=ins.escape)
        except DockerfileParseError:
            pass
        return f"{ins.keyword} {rest}".strip()

    def layer_step(self, state: _State, ins: Instruction, text: str, created_by: str, key_parts: list,
                   compute: Callable[[], tuple[dict, float, str]], error: _StepFailed | None = None) -> None:
        """Run (or reuse from the cache) one layer-making step and commit it."""
        label = self.label(state, text)
        n = self.log.vertex(label)
        if error is not None:  # the cache key itself could not be computed
            raise self.fail(error.message, n, label, "", ins, error.vertex_message)
        key = sha256_digest(json.dumps([state.key, *key_parts], sort_keys=True).encode())
        record = None
        if not (self.no_cache or state.missed):
            record = self.store.build_cache.get(key)
        seconds = 0.0
        if record is not None:
            self.log.add(n, "CACHED")
            self.cache_hits += 1
            cached = True
        else:
            state.missed = True
            cached = False
            try:
                diff, seconds, output = compute()
            except _StepFailed as e:
                if e.output:
                    self.log.output(n, e.output, 0.0)
                raise self.fail(e.message, n, label, e.output, ins, e.vertex_message) from None
            except BuildError as e:
                raise self.fail(e.message, n, label, "", ins) from None
            if output:
                self.log.output(n, output, seconds)
            record = _CacheRecord(Layer.from_entries(diff) if diff else None, self.now)
            self.store.build_cache[key] = record
            self.log.add(n, f"DONE {seconds:.1f}s")
        state.key = key
        state.t_cur = record.created
        if record.layer is not None:
            state.image = state.image.add_layer(record.layer, created_by, record.created)
        else:
            state.image = state.image.add_history(created_by, record.created, empty_layer=True)
        size = record.layer.content_size if record.layer is not None else 0
        self.steps.append(StepResult(state.name, state.index - 1, state.total, label.split("] ", 1)[1],
                                     cached, size, seconds))

    def rootfs(self, state: _State) -> FileSystem:
        return FileSystem(state.image.rootfs_layers())

    # -- WORKDIR ----------------------------------------------------------------------------
    def workdir(self, state: _State, r: Instruction, env: Mapping[str, str]) -> None:
        value = r.value or "/"
        prev = state.image.config.working_dir or "/"
        wd = normpath(value if value.startswith("/") else posixpath.join(prev, value))
        self.set_config(state, working_dir=wd)
        if wd == "/":
            self.history(state, "WORKDIR /")
            return
        user = state.image.config.user

        def compute():
            fs = self.rootfs(state)
            uid = gid = 0
            if user:
                try:
                    uid, gid = _user_ids(fs, user)
                except BuildError:
                    uid = gid = 0
            try:
                fs.mkdir(wd, parents=True, exist_ok=True, uid=uid, gid=gid)
            except FsError as e:
                raise _StepFailed(f"mkdir {wd}: {e.message.split(': ', 1)[-1].lower()}") from None
            return fs.diff(), 0.0, ""

        self.layer_step(state, r, f"WORKDIR {wd}", f"WORKDIR {wd}", ["WORKDIR", wd, user], compute)

    # -- RUN ------------------------------------------------------------------------------------
    def run(self, state: _State, ins: Instruction, env: dict[str, str]) -> None:
        argv = list(ins.argv(state.shell))
        config = state.image.config
        workdir = config.working_dir or "/"
        user = config.user or ""
        build_args = [(k, env.get(k, v or "")) for k, v in state.declared.items()]
        prefix = f"|{len(build_args)} " + " ".join(f"{k}={v}" for k, v in build_args) + " " if build_args else ""
        created_by = f"RUN {prefix}{' '.join(argv)} # buildkit"
        run_env = dict(env)
        run_env.setdefault("PATH", DEFAULT_PATH)

        def compute():
            if self.b.runner is None:
                raise _StepFailed(f'process "{" ".join(argv)}" could not run: this builder has no runner')
            fs = self.rootfs(state)
            result = self.b.runner(fs, list(argv), dict(run_env), workdir, user)
            code, output = result[0], result[1]
            seconds = float(result[2]) if len(result) > 2 and result[2] else 0.0
            if code != 0:
                raise _StepFailed(f'process "{" ".join(argv)}" did not complete successfully: exit code: {code}',
                                  output)
            return fs.diff(), seconds, output

        key = ["RUN", argv, sorted(run_env.items()), workdir, user, dict(ins.flags)]
        self.layer_step(state, ins, _display_run(ins.original, env), created_by, key, compute)

    # -- COPY / ADD --------------------------------------------------------------------------------
    def not_found(self, source_key: str, path: str) -> _StepFailed:
        h = hashlib.sha256(source_key.encode()).hexdigest()
        ref = f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}::{h[32:57]}"
        inner = f'failed to calculate checksum of ref {ref}: "{path}": not found'
        return _StepFailed(f"failed to compute cache key: {inner}", vertex_message=inner)

    def copy(self, state: _State, ins: Instruction, r: Instruction, env: Mapping[str, str]) -> None:
        kw = ins.keyword
        config = state.image.config
        workdir = config.working_dir or "/"
        dest_text = r.dest or ""
        dest = normpath(dest_text if dest_text.startswith("/") else posixpath.join(workdir, dest_text))
        chown = r.flags.get("chown")
        chmod = r.flags.get("chmod")
        mode = None
        if chmod:
            if not re.fullmatch(r"[0-7]{1,4}", chmod):
                raise self.fail(f"invalid chmod parameter: {chmod}: use an octal mode such as 755",
                                None, None, "", ins)
            mode = int(chmod, 8)

        # where the files come from
        if ins.from_stage is not None:
            src_fs = FileSystem(self.states[ins.from_stage].image.rootfs_layers())
            source_key = f"stage:{ins.from_stage}:{self.states[ins.from_stage].key}"
        elif ins.from_image is not None:
            src_img = self.resolve_image(ins.from_image, None)
            src_fs = FileSystem(src_img.rootfs_layers())
            source_key = f"image:{src_img.id}"
        else:
            if r.sources and not self.context_sent:
                n = self.log.vertex("[internal] load build context")
                ctx = self.load_context()
                size = sum(e.size for e in ctx.lowers[0].values() if e.is_file)
                self.log.add(n, f"transferring context: {_human4(size)} done")
                self.log.add(n, "DONE 0.0s")
                self.context_sent = True
            src_fs = self.load_context() if r.sources else FileSystem()
            source_key = "context"

        # select the sources and checksum them (the cache key)
        urls = [s for s in r.sources if kw == "ADD" and re.match(r"^https?://", s)]
        selected: list[tuple[str, str]] = []  # (pattern, absolute path in src_fs)
        pending_error: _StepFailed | None = None
        for src in r.sources:
            if src in urls:
                continue
            pattern = normpath(src)
            if _has_glob(src):
                rx = _pattern_regex(pattern.lstrip("/"), doublestar=False)
                try:
                    candidates = [p for p, _ in src_fs.walk("/")]
                except FsError:
                    candidates = []
                matches = [p for p in candidates if rx.match(p.lstrip("/"))]
                if not matches:
                    pending_error = pending_error or self.not_found(source_key, pattern)
                selected += [(src, p) for p in matches]
            else:
                if not src_fs.lexists(pattern) or (pattern != "/" and not src_fs.exists(pattern)):
                    pending_error = pending_error or self.not_found(source_key, pattern)
                    continue
                selected.append((src, pattern))
        n_sources = len(selected) + len(urls) + len(r.heredocs)
        dest_is_dir = dest_text.endswith("/") or dest_text in (".", "./") or any(
            _has_glob(s) for s in r.sources)
        multiple = n_sources > 1
        checksum = hashlib.sha256()
        for _, path in selected:
            for rel, entry in _subtree(src_fs, path):
                checksum.update(json.dumps([path, rel, entry.kind, entry.mode, entry.target,
                                            hashlib.sha256(entry.data).hexdigest()]).encode())
        for doc in r.heredocs:
            checksum.update(json.dumps(["heredoc", doc.name, doc.data]).encode())
        for url in urls:
            checksum.update(json.dumps(["url", url]).encode())
        flags = ([f"--chown={chown}"] if chown else []) + ([f"--chmod={chmod}"] if chmod else [])
        created_by = " ".join([kw, *flags, *r.sources, *(f"<<{d.name}" for d in r.heredocs), dest_text]) + " # buildkit"
        key = [kw, list(r.sources), dest, chown, chmod, checksum.hexdigest(), source_key.split(":")[0],
               [d.name for d in r.heredocs]]
        text = self.display(ins, env)

        def compute():
            fs = self.rootfs(state)
            if multiple and not dest_is_dir and not fs.is_dir(dest):
                raise _StepFailed(f"When using {kw} with more than one source file, the destination must be a "
                                  "directory and end with a /")
            uid, gid = _user_ids(fs, chown, same_gid=True) if chown else (0, 0)
            owner = (uid, gid)
            to_dir = dest_is_dir or multiple or fs.is_dir(dest)
            for _src, path in selected:
                entry = src_fs.stat(path)
                if entry.is_dir:
                    _make_dirs(fs, dest, owner)
                    for rel, e in _subtree(src_fs, path):
                        if rel:
                            _put(fs, posixpath.join(dest, rel), e, owner, mode)
                elif kw == "ADD" and (archive := _archive_entries(entry.data)) is not None:
                    _make_dirs(fs, dest, owner)
                    for p, e in sorted(archive.items()):
                        target = posixpath.join(dest, p.lstrip("/"))
                        _make_dirs(fs, posixpath.dirname(target), owner)
                        _put(fs, target, e, owner if chown else None, mode, keep_owner=not chown)
                else:
                    target = posixpath.join(dest, posixpath.basename(path)) if to_dir else dest
                    _make_dirs(fs, posixpath.dirname(target), owner)
                    _put(fs, target, entry, owner, mode)
            for doc in r.heredocs:
                target = posixpath.join(dest, doc.name) if to_dir else dest
                _make_dirs(fs, posixpath.dirname(target), owner)
                _put(fs, target, Entry.file(doc.data.encode(), 0o644), owner, mode)
            for url in urls:
                if self.b.fetch is None:
                    raise _StepFailed(f"failed to load cache key: cannot download {url}: no network for ADD")
                try:
                    data = self.b.fetch(url)
                except AivleError as e:
                    raise _StepFailed(f"failed to load cache key: {e.message}") from None
                name = posixpath.basename(url.split("?", 1)[0].rstrip("/")) or "index.html"
                target = posixpath.join(dest, name) if to_dir else dest
                _make_dirs(fs, posixpath.dirname(target), owner)
                _put(fs, target, Entry.file(data, 0o600), owner, mode)
            return fs.diff(), 0.0, ""

        self.layer_step(state, ins, text, created_by, key, compute, error=pending_error)


# =============================================================================
# filesystem helpers for COPY/ADD
# =============================================================================
def _parents(rel: str) -> list[str]:
    parts = rel.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _subtree(fs: FileSystem, path: str) -> list[tuple[str, Entry]]:
    """(relative path, entry) of ``path`` ("" for itself) and, for a directory, everything under it."""
    entry = fs.stat(path)
    out = [("", entry)]
    if entry.is_dir:
        base = fs.resolve(path)
        for p, e in fs.walk(base):
            out.append((p[len(base):].lstrip("/") if base != "/" else p.lstrip("/"), e))
    return out


def _make_dirs(fs: FileSystem, path: str, owner: tuple[int, int]) -> None:
    path = normpath(path)
    todo = []
    cur = path
    while cur != "/" and not fs.lexists(cur):
        todo.append(cur)
        cur = posixpath.dirname(cur)
    if cur != "/" and not fs.is_dir(cur):
        raise _StepFailed(f"cannot copy to non-directory: {cur}")
    for d in reversed(todo):
        fs.mkdir(d, mode=0o755, uid=owner[0], gid=owner[1])


def _put(fs: FileSystem, path: str, entry: Entry, owner: tuple[int, int] | None, mode: int | None,
         keep_owner: bool = False) -> None:
    path = normpath(path)
    uid, gid = (entry.uid, entry.gid) if keep_owner or owner is None else owner
    new_mode = entry.mode if mode is None or entry.kind == "symlink" else mode
    try:
        existing = fs.stat(path, follow=False) if fs.lexists(path) else None
        if entry.kind == "dir":
            if existing is not None and existing.is_dir:
                return
            if existing is not None:
                fs.remove(path, recursive=True)
            fs.mkdir(path, mode=new_mode, uid=uid, gid=gid)
        elif entry.kind == "symlink":
            if existing is not None:
                fs.remove(path, recursive=True)
            fs.symlink(entry.target, path)
        else:
            if existing is not None and (existing.is_dir or existing.kind == "symlink"):
                fs.remove(path, recursive=True)
            fs.write(path, entry.data, mode=new_mode, uid=uid, gid=gid)
    except FsError as e:
        raise _StepFailed(f"failed to copy files: {e.message}") from None


def _archive_entries(data: bytes) -> dict[str, Entry] | None:
    """The entries of a (compressed) tar archive ``ADD`` extracts, or None when it is not one."""
    raw = data
    try:
        if data[:2] == b"\x1f\x8b":
            raw = gzip.decompress(data)
        elif data[:3] == b"BZh":
            raw = bz2.decompress(data)
        elif data[:6] == b"\xfd7zXZ\x00":
            raw = lzma.decompress(data)
    except (OSError, EOFError, ValueError, lzma.LZMAError):
        return None
    if len(raw) < 512 or raw[257:262] != b"ustar":
        return None
    try:
        tf = tarfile.open(fileobj=io.BytesIO(raw), mode="r:")
        members = tf.getmembers()
    except tarfile.TarError:
        return None
    out: dict[str, Entry] = {}
    for m in members:
        name = normpath(m.name)
        if name == "/":
            continue
        if m.isdir():
            out[name] = Entry("dir", b"", m.mode & 0o7777, m.uid, m.gid)
        elif m.issym():
            out[name] = Entry("symlink", b"", 0o777, m.uid, m.gid, target=m.linkname)
        elif m.isfile():
            f = tf.extractfile(m)
            out[name] = Entry("file", f.read() if f else b"", m.mode & 0o7777, m.uid, m.gid)
    return out
