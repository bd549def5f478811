"""Dockerfiles: parse them the way BuildKit's dockerfile frontend does.

:func:`parse_dockerfile` turns the text into a :class:`Dockerfile`: global
``ARG``\\ s, then :class:`Stage`\\ s (one per ``FROM``), each holding its
:class:`Instruction`\\ s.  It checks everything that can be checked without
building: syntax, argument counts, flags, JSON forms, stage names, base image
references (after substituting the global ``ARG``\\ s), ``COPY --from``.

>>> df = parse_dockerfile('''
... # syntax=docker/dockerfile:1
... ARG PY=3.12
... FROM python:${PY}-slim AS build
... WORKDIR /src
... COPY requirements.txt .
... RUN pip install -r requirements.txt \\\\
...     && rm -rf /root/.cache
... FROM build
... CMD ["python", "-m", "app"]
... ''')
>>> df
<Dockerfile Dockerfile: 2 stages (build, 1)>
>>> [s.base for s in df.stages], df.stages[1].base_stage
(['python:3.12-slim', 'build'], 0)
>>> run = df.stages[0].instructions[2]
>>> run.keyword, run.line, run.form
('RUN', 7, 'shell')
>>> run.argv()
('/bin/sh', '-c', 'pip install -r requirements.txt     && rm -rf /root/.cache')
>>> df.stages[1].instructions[0].argv()
('python', '-m', 'app')

Variable substitution depends on the build (``--build-arg`` values, earlier
``ENV``\\ s), so instructions keep the text as written; a builder walks a
stage, keeps an environment, and calls :func:`resolve` before each step:

>>> copy = parse_instruction('COPY --chown=${USER}:${USER} app/ "/home/${USER}/app"')
>>> resolve(copy, {"USER": "ada"}).flags["chown"], resolve(copy, {"USER": "ada"}).dest
('ada:ada', '/home/ada/app')

Errors are :class:`~aivle_k8s.sim.errors.DockerfileParseError` and always
name the line (the first line of a continued instruction):

>>> parse_dockerfile("FROM alpine\\nRUNN echo hi\\n")
Traceback (most recent call last):
...
aivle_k8s.sim.errors.DockerfileParseError: dockerfile parse error on line 2: unknown instruction: RUNN (did you mean RUN?)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from aivle_k8s.images.reference import Reference, parse_reference
from aivle_k8s.sim.errors import DockerfileParseError, InvalidReference, NotFound

__all__ = [
    "parse_dockerfile",
    "parse_instruction",
    "resolve",
    "expand",
    "expand_words",
    "bind_args",
    "global_env",
    "parse_duration",
    "Dockerfile",
    "Stage",
    "Instruction",
    "Healthcheck",
    "Heredoc",
    "INSTRUCTIONS",
    "EXPANDED_INSTRUCTIONS",
    "DEFAULT_SHELL",
    "PLATFORM_ARGS",
]

#: Every instruction keyword BuildKit knows.
INSTRUCTIONS = (
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM",
    "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL",
    "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
)  # fmt: skip
#: Instructions whose arguments get ``$VAR`` substitution at build time (the
#: shell expands RUN/CMD/ENTRYPOINT itself, when the container runs).
EXPANDED_INSTRUCTIONS = frozenset(
    {"ADD", "ARG", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER", "VOLUME",
     "WORKDIR"}
)  # fmt: skip
#: The shell that wraps shell-form RUN/CMD/ENTRYPOINT until a SHELL changes it.
DEFAULT_SHELL = ("/bin/sh", "-c")
#: Arguments BuildKit defines in the global scope without any ARG (a build may
#: override them with build args of the same name).
PLATFORM_ARGS = MappingProxyType(
    {
        "BUILDPLATFORM": "linux/amd64",
        "BUILDOS": "linux",
        "BUILDARCH": "amd64",
        "BUILDVARIANT": "",
        "TARGETPLATFORM": "linux/amd64",
        "TARGETOS": "linux",
        "TARGETARCH": "amd64",
        "TARGETVARIANT": "",
    }
)

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_WHITESPACE_RE = re.compile(r"[\t\v\f\r ]+")
_HEREDOC_RE = re.compile(r"(\d*)<<(-?)\s*([^<]*)")
_DIRECTIVE_RE = re.compile(r"([a-zA-Z][a-zA-Z0-9]*)[ \t\n\f\r]*=[ \t\n\f\r]*(.+)")
_VALID_DIRECTIVES = ("syntax", "escape", "check")
_STAGE_NAME_RE = re.compile(r"[a-z][a-z0-9-_.]*")
_RESERVED_STAGE_NAMES = ("context", "scratch")
_HEREDOC_INSTRUCTIONS = frozenset({"ADD", "COPY", "RUN"})
_NETWORK_MODES = ("default", "none", "host")
_SECURITY_MODES = ("sandbox", "insecure")
_MOUNT_TYPES = ("bind", "cache", "tmpfs", "secret", "ssh")
_SIGNALS = frozenset(
    "ABRT ALRM BUS CHLD CLD CONT FPE HUP ILL INT IO IOT KILL PIPE POLL PROF PWR QUIT SEGV "
    "STKFLT STOP SYS TERM TRAP TSTP TTIN TTOU URG USR1 USR2 VTALRM WINCH XCPU XFSZ RTMIN "
    "RTMAX".split()
    + [f"RTMIN+{i}" for i in range(1, 16)]
    + [f"RTMAX-{i}" for i in range(1, 15)]
)
# the flags each instruction accepts: name -> "bool" | "string" | "strings"
_FLAG_SPECS: dict[str, dict[str, str]] = {
    "ADD": {"chown": "string", "chmod": "string", "link": "bool", "keep-git-dir": "bool",
            "checksum": "string", "unpack": "bool", "exclude": "strings"},
    "COPY": {"chown": "string", "from": "string", "chmod": "string", "link": "bool",
             "exclude": "strings", "parents": "bool"},
    "FROM": {"platform": "string"},
    "RUN": {"mount": "strings", "network": "string", "security": "string"},
    "HEALTHCHECK": {"interval": "string", "timeout": "string", "start-period": "string",
                    "start-interval": "string", "retries": "string"},
}  # fmt: skip


# =============================================================================
# data model
# =============================================================================
@dataclass(frozen=True)
class Heredoc:
    """A here-document attached to RUN, COPY or ADD (``<<EOF`` ... ``EOF``).

    Attributes:
        name: the terminator word, quotes removed (``EOF``).
        content: the lines between the instruction and the terminator, each
            ending in a newline, exactly as written.
        chomp: ``<<-EOF``: leading tabs are stripped (see :attr:`data`).
        expand: False when the terminator was quoted (``<<'EOF'``): then
            ``$VAR`` in the content is not substituted.
        fd: the file descriptor written before ``<<`` (``3<<EOF``), or 0.
    """

    name: str
    content: str
    chomp: bool = False
    expand: bool = True
    fd: int = 0

    @property
    def data(self) -> str:
        """The content with leading tabs removed when :attr:`chomp` is set."""
        if self.chomp:
            return re.sub(r"(?m)^\t+", "", self.content)
        return self.content


@dataclass(frozen=True)
class Healthcheck:
    """What HEALTHCHECK sets in the image config.

    ``test`` is Docker's form: ``("NONE",)``, ``("CMD", *argv)`` or
    ``("CMD-SHELL", "command")``.  Durations are in seconds; 0 (and 0
    retries) means "use the default" (30s interval, 30s timeout, 0s start
    period, 3 retries), as in Docker's image config.
    """

    test: tuple[str, ...]
    interval: float = 0.0
    timeout: float = 0.0
    start_period: float = 0.0
    start_interval: float = 0.0
    retries: int = 0


@dataclass(frozen=True, repr=False)
class Instruction:
    """One Dockerfile instruction, parsed.

    Common fields:
        keyword: upper-case keyword (``RUN``).
        line: 1-based first line; ``end_line``: its last line (continuations
            and heredocs included).
        original: the instruction as written, continuation lines joined and
            surrounding blanks removed; what build logs and cache keys use.
        flags: the ``--flags`` given (string, bool, or a tuple of strings for
            repeatable ones such as ``--mount``).
        args: the argument words as the parser split them, before substitution.
        escape: the escape character of the file (``\\`` or a backtick).
        resolved: True on the copy :func:`resolve` returns.

    Payload, by keyword:
        ``form`` (RUN CMD ENTRYPOINT SHELL HEALTHCHECK COPY ADD VOLUME):
            ``"exec"`` when written as a JSON array, else ``"shell"``.
        ``command`` (RUN CMD ENTRYPOINT SHELL): the argv tuple (exec form) or
            the raw command string (shell form); see :meth:`argv`.
        ``pairs`` (ENV LABEL: ``(key, value)``; ARG: ``(name, default-or-None)``).
        ``sources``, ``dest`` (COPY ADD); heredoc sources are in ``heredocs``.
        ``ports`` (EXPOSE): as written; after :func:`resolve` normalised to
            ``"80/tcp"`` with ranges expanded.
        ``paths`` (VOLUME).
        ``value`` (USER WORKDIR STOPSIGNAL MAINTAINER, the base image of FROM,
            the trigger text of ONBUILD).
        ``name`` (FROM ... AS name, lowercased).
        ``healthcheck`` (HEALTHCHECK).
        ``trigger`` (ONBUILD): the wrapped instruction.
        ``heredocs`` (RUN COPY ADD).
        ``from_stage`` / ``from_image`` (COPY --from): the earlier stage's
            index, or else the image the files come from.
    """

    keyword: str
    line: int
    original: str
    end_line: int = 0
    flags: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    args: tuple[str, ...] = ()
    escape: str = "\\"
    form: str | None = None
    command: tuple[str, ...] | str | None = None
    pairs: tuple[tuple[str, str | None], ...] = ()
    sources: tuple[str, ...] = ()
    dest: str | None = None
    ports: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    value: str | None = None
    name: str | None = None
    healthcheck: Healthcheck | None = None
    trigger: Instruction | None = None
    heredocs: tuple[Heredoc, ...] = ()
    from_stage: int | None = None
    from_image: Reference | None = None
    resolved: bool = False

    def __post_init__(self) -> None:
        if not self.end_line:
            object.__setattr__(self, "end_line", self.line)
        if not isinstance(self.flags, MappingProxyType):
            object.__setattr__(self, "flags", MappingProxyType(dict(self.flags)))

    def __hash__(self) -> int:
        return hash((self.keyword, self.line, self.original, self.resolved))

    def __str__(self) -> str:
        return self.original

    def __repr__(self) -> str:
        text = self.original if len(self.original) <= 60 else self.original[:57] + "..."
        return f"<Instruction line {self.line}: {text}>"

    @property
    def is_exec_form(self) -> bool:
        """True when written as a JSON array (``CMD ["nginx", "-g", ...]``)."""
        return self.form == "exec"

    @property
    def env(self) -> dict[str, str]:
        """ENV/LABEL pairs as a dict (later keys win), e.g. for ``docker inspect``."""
        return {k: v for k, v in self.pairs if v is not None}

    def argv(self, shell: Iterable[str] = DEFAULT_SHELL) -> tuple[str, ...]:
        """The argv a RUN, CMD or ENTRYPOINT executes.

        Exec form runs as written; shell form becomes ``[*shell, command]``
        (``shell`` is the stage's current SHELL).  A RUN whose command is a
        single heredoc (``RUN <<EOF``) runs the heredoc's text; other heredocs
        are handed to the shell after the command line, as BuildKit does.

        >>> parse_instruction("RUN apt-get update").argv()
        ('/bin/sh', '-c', 'apt-get update')
        >>> parse_instruction('CMD ["nginx", "-g", "daemon off;"]').argv()
        ('nginx', '-g', 'daemon off;')
        >>> parse_instruction("RUN Get-Date").argv(["powershell", "-Command"])
        ('powershell', '-Command', 'Get-Date')
        """
        if self.keyword not in ("RUN", "CMD", "ENTRYPOINT"):
            raise TypeError(f"{self.keyword} has no command to run")
        if self.form == "exec":
            return tuple(self.command or ())
        command = self.command if isinstance(self.command, str) else ""
        if self.heredocs:
            single = _parse_heredoc_word(command) if len(self.heredocs) == 1 else None
            if single is not None:
                command = self.heredocs[0].data
            else:
                parts = [command]
                for doc in self.heredocs:
                    parts.append("\n" + doc.content + doc.name)
                command = "".join(parts)
        return (*tuple(shell), command)


@dataclass(frozen=True, repr=False)
class Stage:
    """One build stage: a FROM and the instructions up to the next FROM.

    Attributes:
        index: position in the Dockerfile, from 0.
        name: ``AS`` name (lowercased) or None.
        base: the base as written after substituting global ARGs
            (``python:3.12-slim``, ``scratch`` or an earlier stage's name).
        base_line: line of the FROM.
        instructions: the stage's instructions, FROM excluded.
        platform: ``--platform`` value (substituted) or None.
        base_stage: index of the earlier stage used as base, or None.
        base_ref: the parsed base image (None for ``scratch`` or a stage).
        from_instruction: the FROM itself (for build logs).
    """

    index: int
    name: str | None
    base: str
    base_line: int
    instructions: tuple[Instruction, ...]
    platform: str | None = None
    base_stage: int | None = None
    base_ref: Reference | None = None
    from_instruction: Instruction | None = None

    @property
    def is_scratch(self) -> bool:
        """True for ``FROM scratch`` (an empty filesystem)."""
        return self.base == "scratch" and self.base_stage is None

    @property
    def display_name(self) -> str:
        """The name BuildKit uses in messages: the AS name or ``stage-N``."""
        return self.name or f"stage-{self.index}"

    def __repr__(self) -> str:
        label = f" {self.name}" if self.name else ""
        return (
            f"<Stage {self.index}{label} FROM {self.base} "
            f"({len(self.instructions)} instructions)>"
        )


@dataclass(frozen=True, repr=False)
class Dockerfile:
    """A parsed Dockerfile.

    Attributes:
        stages: the build stages in order; the last one is the default target.
        global_args: ARG instructions before the first FROM.
        directives: parser directives (``syntax``, ``escape``, ``check``).
        warnings: lint warnings, e.g. ``MaintainerDeprecated: ... (line 2)``.
        source: the text that was parsed.
        filename: the name used in messages.
        escape: the escape character (``\\`` unless ``# escape=```).
    """

    stages: tuple[Stage, ...]
    global_args: tuple[Instruction, ...]
    directives: Mapping[str, str]
    warnings: tuple[str, ...]
    source: str
    filename: str = "Dockerfile"
    escape: str = "\\"

    def __hash__(self) -> int:
        return hash((self.filename, self.source))

    def __repr__(self) -> str:
        names = ", ".join(s.name or str(s.index) for s in self.stages)
        plural = "stage" if len(self.stages) == 1 else "stages"
        return f"<Dockerfile {self.filename}: {len(self.stages)} {plural} ({names})>"

    @property
    def target(self) -> Stage:
        """The stage ``docker build`` builds without ``--target`` (the last)."""
        return self.stages[-1]

    def stage(self, key: int | str) -> Stage:
        """A stage by index or by name (``docker build --target``).

        Raises:
            NotFound: no such stage.
        """
        if isinstance(key, int) and not isinstance(key, bool):
            if 0 <= key < len(self.stages):
                return self.stages[key]
        elif isinstance(key, str):
            for st in self.stages:
                if st.name is not None and st.name == key.lower():
                    return st
            if key.isdigit() and int(key) < len(self.stages):
                return self.stages[int(key)]
        names = [s.name for s in self.stages if s.name]
        hint = _suggest(str(key), names, case_sensitive=True)
        raise NotFound(f"target stage {_go_quote(str(key))} could not be found{hint}")

    def global_env(self, build_args: Mapping[str, str] | None = None) -> dict[str, str]:
        """The global scope FROM lines see; see :func:`global_env`."""
        return global_env(self.global_args, build_args)

    def resolve(self, instruction: Instruction, env: Mapping[str, str]) -> Instruction:
        """Same as :func:`resolve`."""
        return resolve(instruction, env)


# =============================================================================
# the shell lexer: $VAR substitution and quote removal (BuildKit's shell.Lex)
# =============================================================================
class _LexError(Exception):
    pass


class _Words:
    """Collects the words of a processed string (unquoted blanks split them)."""

    def __init__(self) -> None:
        self.buf = ""
        self.words: list[str] = []
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if ch.isspace():
            if self.in_word and self.buf:
                self.words.append(self.buf)
                self.buf = ""
                self.in_word = False
        else:
            self.add_raw_char(ch)

    def add_raw_char(self, ch: str) -> None:
        self.buf += ch
        self.in_word = True

    def add_string(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def add_raw_string(self, text: str) -> None:
        self.buf += text
        self.in_word = True

    def get(self) -> list[str]:
        if self.buf:
            self.words.append(self.buf)
            self.buf = ""
            self.in_word = False
        return self.words


class _Lexer:
    def __init__(
        self,
        src: str,
        env: Mapping[str, str],
        escape: str = "\\",
        *,
        raw_quotes: bool = False,
        raw_escapes: bool = False,
        skip_quotes: bool = False,
        skip_unset: bool = False,
    ) -> None:
        self.src = src
        self.pos = 0
        self.env = env
        self.escape = escape
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes
        self.skip_quotes = skip_quotes
        self.skip_unset = skip_unset

    def peek(self) -> str | None:
        return self.src[self.pos] if self.pos < len(self.src) else None

    def next(self) -> str | None:
        ch = self.peek()
        if ch is not None:
            self.pos += 1
        return ch

    def process(self) -> tuple[str, list[str]]:
        try:
            return self._stop_on(None, self.raw_escapes)
        except _LexError as err:
            raise _LexError(f"failed to process {_go_quote(self.src)}: {err}") from None

    def _stop_on(self, stop: str | None, raw_escapes: bool) -> tuple[str, list[str]]:
        saved, self.raw_escapes = self.raw_escapes, raw_escapes
        try:
            result: list[str] = []
            words = _Words()
            while (ch := self.peek()) is not None:
                if stop is not None and ch == stop:
                    self.next()
                    return "".join(result), words.get()
                if ch == "$":
                    tmp = self._dollar()
                    result.append(tmp)
                    words.add_string(tmp)
                elif ch == "<":
                    tmp = self._possible_heredoc()
                    result.append(tmp)
                    words.add_raw_string(tmp)
                elif ch in "'\"" and not self.skip_quotes:
                    tmp = self._single_quote() if ch == "'" else self._double_quote()
                    result.append(tmp)
                    words.add_raw_string(tmp)
                else:
                    ch = self.next()
                    assert ch is not None
                    if ch == self.escape:
                        if self.raw_escapes:
                            words.add_raw_char(ch)
                            result.append(ch)
                        ch = self.next()
                        if ch is None:
                            break
                        words.add_raw_char(ch)
                    else:
                        words.add_char(ch)
                    result.append(ch)
            if stop is not None:
                raise _LexError(f"unexpected end of statement while looking for matching {stop}")
            return "".join(result), words.get()
        finally:
            self.raw_escapes = saved

    def _single_quote(self) -> str:
        result = []
        quote = self.next()
        if self.raw_quotes:
            result.append(quote)
        while True:
            ch = self.next()
            if ch is None:
                raise _LexError(
                    "unexpected end of statement while looking for matching single-quote"
                )
            if ch == "'":
                if self.raw_quotes:
                    result.append(ch)
                return "".join(result)
            result.append(ch)

    def _double_quote(self) -> str:
        result = []
        quote = self.next()
        if self.raw_quotes:
            result.append(quote)
        while True:
            peek = self.peek()
            if peek is None:
                raise _LexError(
                    "unexpected end of statement while looking for matching double-quote"
                )
            if peek == '"':
                self.next()
                if self.raw_quotes:
                    result.append('"')
                return "".join(result)
            if peek == "$":
                result.append(self._dollar())
                continue
            ch = self.next()
            if ch == self.escape:
                if self.raw_escapes:
                    result.append(ch)
                peek = self.peek()
                if peek is None:
                    continue
                if peek in ('"', "$", self.escape):
                    ch = self.next()
            result.append(ch)

    def _get(self, name: str) -> tuple[str, bool]:
        if name in self.env:
            return str(self.env[name]), True
        return "", False

    def _dollar(self) -> str:
        self.next()  # the $
        if self.peek() != "{":
            name = self._name()
            if name == "":
                return "$"
            value, found = self._get(name)
            if not found and self.skip_unset:
                return "$" + name
            return value

        self.next()  # the {
        peek = self.peek()
        if peek is None:
            raise _LexError("syntax error: missing '}'")
        if peek in "{}:":
            raise _LexError("syntax error: bad substitution")
        name = self._name()
        ch = self.next()
        if ch is None:
            raise _LexError("syntax error: missing '}'")
        modifier = ch
        if ch == "}":
            value, found = self._get(name)
            if not found and self.skip_unset:
                return "${" + name + "}"
            return value
        null_is_unset = False
        if ch == ":":
            null_is_unset = True
            ch = self.next()
            if ch is None:
                raise _LexError("syntax error: missing '}'")
            modifier += ch
        if ch in "+-?#%" or null_is_unset:
            raw = ch in "#%"
            if null_is_unset and raw:
                raise _LexError(f"unsupported modifier ({modifier}) in substitution")
            try:
                word, _ = self._stop_on("}", raw)
            except _LexError:
                if self.peek() is None:
                    raise _LexError("syntax error: missing '}'") from None
                raise
            value, found = self._get(name)
            if self.skip_unset and not found:
                return "${" + name + modifier + word + "}"
            empty = not found or (null_is_unset and value == "")
            if ch == "-":
                return word if empty else value
            if ch == "+":
                return "" if empty else word
            if ch == "?":
                if not found:
                    raise _LexError(f"{name}: {word or 'is not allowed to be unset'}")
                if null_is_unset and value == "":
                    raise _LexError(f"{name}: {word or 'is not allowed to be empty'}")
                return value
            if ch in "#%":
                greedy = word.startswith(ch)
                if greedy:
                    word = word[1:]
                if ch == "%":
                    return _trim_suffix(word, value, greedy)
                return _trim_prefix(word, value, greedy)
            raise _LexError(f"unsupported modifier ({modifier}) in substitution")
        if ch == "/":
            replace_all = self.peek() == "/"
            if replace_all:
                self.next()
            try:
                pattern, _ = self._stop_on("/", True)
            except _LexError:
                if self.peek() is None:
                    raise _LexError("syntax error: missing '/' in ${}") from None
                raise
            try:
                replacement, _ = self._stop_on("}", True)
            except _LexError:
                if self.peek() is None:
                    raise _LexError("syntax error: missing '}'") from None
                raise
            value, found = self._get(name)
            if self.skip_unset and not found:
                return "${" + name + "/" + pattern + "/" + replacement + "}"
            rx = _pattern_regex(pattern, greedy=True, anchored=False)
            return _replace(rx, value, replacement, replace_all)
        raise _LexError(f"unsupported modifier ({modifier}) in substitution")

    def _name(self) -> str:
        name: list[str] = []
        while (ch := self.peek()) is not None:
            if not name and ch.isdecimal():
                while (digit := self.peek()) is not None and digit.isdecimal():
                    name.append(digit)
                    self.next()
                return "".join(name)
            if not name and ch in "@*#?-$!0":
                self.next()
                return ch
            if not (ch.isalpha() or ch.isdecimal() or ch == "_"):
                break
            name.append(ch)
            self.next()
        return "".join(name)

    def _possible_heredoc(self) -> str:
        self.next()
        if self.peek() != "<":
            return "<"
        self.next()
        spaces = []
        while (ch := self.peek()) is not None and ch in "\t\r ":
            spaces.append(ch)
            self.next()
        return "<<" + "".join(spaces)


def _pattern_regex(pattern: str, *, greedy: bool, anchored: bool) -> re.Pattern[str]:
    """A shell glob (``*``, ``?``, ``\\``-escapes) as a regular expression."""
    out = ["^"] if anchored else []
    i = 0
    while i < len(pattern):
        tok = pattern[i]
        i += 1
        if tok == "*":
            out.append(".*" if greedy else ".*?")
            continue
        if tok == "?":
            out.append(".")
            continue
        if tok == "\\":
            nxt = pattern[i] if i < len(pattern) else ""
            if nxt in ("}", "/"):
                continue
            i += 1
            if nxt not in ("*", "?", "\\"):
                raise _LexError(
                    f"invalid pattern ({pattern}) in substitution: invalid escape '\\{nxt}'"
                )
            out.append("\\" + nxt)
            continue
        out.append(re.escape(tok) if tok in "[]{}.+()|^$" else tok)
    return re.compile("".join(out))


def _replace(rx: re.Pattern[str], value: str, replacement: str, replace_all: bool) -> str:
    if not replace_all:
        m = rx.search(value)
        return value if m is None else value[: m.start()] + replacement + value[m.end():]
    out, pos, last_end = [], 0, -1
    for m in rx.finditer(value):
        if m.start() == m.end() == last_end:
            continue  # Go skips an empty match right after a match
        out.append(value[pos: m.start()])
        out.append(replacement)
        pos = last_end = m.end()
    out.append(value[pos:])
    return "".join(out)


def _trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    m = _pattern_regex(pattern, greedy=greedy, anchored=True).match(value)
    return value if m is None else value[m.end():]


def _trim_suffix(pattern: str, value: str, greedy: bool) -> str:
    # reverse the pattern (keeping "\x" pairs together) and the value
    chars = list(pattern)
    reversed_pattern: list[str] = []
    i = 0
    while i < len(chars):
        if chars[i] == "\\" and i != len(chars) - 1:
            reversed_pattern.insert(0, chars[i] + chars[i + 1])
            i += 2
        else:
            reversed_pattern.insert(0, chars[i])
            i += 1
    return _trim_prefix("".join(reversed_pattern), value[::-1], greedy)[::-1]


def expand(
    text: str,
    env: Mapping[str, str],
    *,
    escape: str = "\\",
    raw: bool = False,
) -> str:
    """Substitute variables and remove quotes, as BuildKit does for one word.

    Supports ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
    ``${VAR:+alt}``, ``${VAR+alt}``, ``${VAR:?msg}``, ``${VAR#pat}``,
    ``${VAR%pat}`` (``##``/``%%`` greedy) and ``${VAR/pat/repl}``
    (``//`` for all).  Single quotes stop substitution; the escape character
    makes the next character literal.  An unset variable is empty.

    Args:
        text: the word as written in the Dockerfile.
        env: the variables in scope (ARG and ENV values).
        escape: the Dockerfile's escape character.
        raw: keep quotes (used for heredoc content).

    Raises:
        DockerfileParseError: bad syntax such as ``${VAR`` (``line`` is None).

    >>> env = {"NAME": "world", "EMPTY": ""}
    >>> expand("hello $NAME ${NAME}!", env)
    'hello world world!'
    >>> expand("${EMPTY:-fallback}|${EMPTY-unused}|${UNSET-default}|${NAME:+alt}", env)
    'fallback||default|alt'
    >>> expand("'$NAME' \\"$NAME\\" \\\\$NAME", env)
    '$NAME world $NAME'
    >>> expand("${NAME%ld}", env), expand("${NAME#w*r}", env)
    ('wor', 'ld')
    """
    lexer = _Lexer(text, env, escape, skip_quotes=raw)
    try:
        return lexer.process()[0]
    except _LexError as err:
        raise DockerfileParseError(str(err), line=None) from None


def expand_words(text: str, env: Mapping[str, str], *, escape: str = "\\") -> list[str]:
    """Like :func:`expand`, but split into words where unquoted blanks are.

    >>> expand_words('$PORTS "a b" c', {"PORTS": "80 443"})
    ['80', '443', 'a b', 'c']
    """
    try:
        return _Lexer(text, env, escape).process()[1]
    except _LexError as err:
        raise DockerfileParseError(str(err), line=None) from None


# =============================================================================
# small helpers
# =============================================================================
def _small_int(text: str) -> int | None:
    """``int(text)`` for an optionally signed decimal of sane length, else None."""
    if len(text) > 30 or not re.fullmatch(r"[+-]?[0-9]+", text):
        return None
    return int(text)


def _go_quote(text: str) -> str:
    """Go's %q, near enough: a double-quoted string with escapes."""
    return json.dumps(text, ensure_ascii=False)


def _levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _suggest(value: str, options: Iterable[str], *, case_sensitive: bool) -> str:
    """`` (did you mean X?)`` when an option is within edit distance 2."""
    if len(value) > 64:
        return ""
    wanted = value if case_sensitive else value.lower()
    best, best_distance = "", 3
    for option in sorted(options):
        candidate = option if case_sensitive else option.lower()
        if candidate == wanted:
            return ""
        distance = _levenshtein(wanted, candidate)
        if distance < best_distance:
            best, best_distance = candidate, distance
    if not best:
        return ""
    if not case_sensitive:
        best = best.upper() if value == value.upper() and value != value.lower() else best
    return f" (did you mean {best}?)"


_DURATION_UNITS = {
    "ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0,
    "m": 60.0, "h": 3600.0,
}  # fmt: skip
_DURATION_PART_RE = re.compile(r"([0-9]*(?:\.[0-9]*)?)([^0-9.]*)")


def parse_duration(text: str) -> float:
    """Parse a Go duration (``30s``, ``1m30s``, ``1.5h``, ``500ms``) into seconds.

    >>> parse_duration("1m30s"), parse_duration("250ms"), parse_duration("0")
    (90.0, 0.25, 0.0)

    Raises:
        ValueError: not a duration, with Go's message.
    """
    original = text
    if text == "":
        raise ValueError(f"time: invalid duration {_go_quote(original)}")
    sign = 1.0
    if text[0] in "+-":
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:]
    if text == "0":
        return 0.0
    if text == "":
        raise ValueError(f"time: invalid duration {_go_quote(original)}")
    total = 0.0
    while text:
        m = _DURATION_PART_RE.match(text)
        number, unit = (m.group(1), m.group(2)) if m else ("", "")
        if number in ("", "."):
            raise ValueError(f"time: invalid duration {_go_quote(original)}")
        if unit == "":
            raise ValueError(f"time: missing unit in duration {_go_quote(original)}")
        if unit not in _DURATION_UNITS:
            raise ValueError(
                f"time: unknown unit {_go_quote(unit)} in duration {_go_quote(original)}"
            )
        total += float(number) * _DURATION_UNITS[unit]
        text = text[m.end():]  # type: ignore[union-attr]
    if total > 9.2e9:  # Go durations are int64 nanoseconds
        raise ValueError(f"time: invalid duration {_go_quote(original)}")
    return sign * total


def _parse_heredoc_word(word: str) -> Heredoc | None:
    """ParseHeredoc: ``<<EOF``, ``<<-EOF``, ``3<<"EOF"`` ... or None."""
    m = _HEREDOC_RE.fullmatch(word)
    if m is None or m.group(3) == "":
        return None
    rest = m.group(3)
    try:
        words = _Lexer(rest, {}, "\\", skip_unset=True).process()[1]
        if len(words) != 1:
            return None
        raw_words = _Lexer(rest, {}, "\\", skip_unset=True, raw_quotes=True).process()[1]
    except _LexError as err:
        raise _Error(str(err)) from None
    if len(raw_words) != 1:
        raise _Error(f"internal lexing of heredoc produced inconsistent results: {rest}")
    name = words[0]
    quotes = name.count("'") + name.count('"')
    raw_quotes = raw_words[0].count("'") + raw_words[0].count('"')
    return Heredoc(
        name=name,
        content="",
        chomp=m.group(2) == "-",
        expand=quotes == raw_quotes,
        fd=int(m.group(1)) if m.group(1) else 0,
    )


def _heredocs_in_line(line: str) -> list[Heredoc]:
    try:
        words = _Lexer(
            line, {}, "\\", raw_quotes=True, raw_escapes=True, skip_unset=True
        ).process()[1]
    except _LexError:
        return []
    docs = []
    for word in words:
        doc = _parse_heredoc_word(word)
        if doc is not None:
            docs.append(doc)
    return docs


# =============================================================================
# stage 1: lines -> nodes (BuildKit's parser package)
# =============================================================================
class _Error(Exception):
    """A problem found while parsing one instruction; the caller adds the line."""


@dataclass
class _Node:
    cmd: str
    flags: list[str]
    rest: str
    original: str
    line: int = 0
    end_line: int = 0
    json: bool = False
    args: list[str] = field(default_factory=list)
    child: _Node | None = None
    heredocs: list[Heredoc] = field(default_factory=list)


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _extract_flags(line: str, escape: str) -> tuple[str, list[str]]:
    """Leading ``--flag[=value]`` words, quotes and escapes processed."""
    words: list[str] = []
    pos, n = 0, len(line)
    while True:
        while pos < n and line[pos].isspace():
            pos += 1
        if pos >= n:
            return "", words
        if not line.startswith("--", pos):
            return line[pos:], words
        word: list[str] = []
        blank_ok = False
        quote = ""
        while pos < n:
            ch = line[pos]
            if quote:
                if ch == quote:
                    quote = ""
                elif ch == escape:
                    if pos + 1 == n:
                        quote = ""
                    else:
                        pos += 1
                        word.append(line[pos])
                else:
                    word.append(ch)
                pos += 1
                continue
            if ch.isspace():
                break
            if ch in "'\"":
                quote, blank_ok = ch, True
            elif ch == escape:
                if pos + 1 < n:
                    pos += 1
                    word.append(line[pos])
            else:
                word.append(ch)
            pos += 1
        text = "".join(word)
        if text == "--":
            return line[pos:], words
        if blank_ok or text:
            words.append(text)


def _parse_words(rest: str, escape: str) -> list[str]:
    """Split on blanks outside quotes, keeping quotes and escapes (parseWords)."""
    words: list[str] = []
    word: list[str] = []
    in_word = in_quote = blank_ok = False
    quote = ""
    i, n = 0, len(rest)
    while i < n:
        ch = rest[i]
        if not in_word and not in_quote:
            if ch.isspace():
                i += 1
                continue
            in_word = True
        if in_quote:
            if ch == quote:
                in_quote, in_word = False, True
            if ch == escape and quote != "'":
                if i + 1 == n:
                    in_quote, in_word = False, True
                    i += 1
                    continue
                word.append(ch)
                i += 1
                ch = rest[i]
            word.append(ch)
            i += 1
            continue
        if ch.isspace():
            if blank_ok or word:
                words.append("".join(word))
            word, blank_ok, in_word = [], False, False
            i += 1
            continue
        if ch in "'\"":
            quote, blank_ok, in_quote = ch, True, True
        if ch == escape:
            if i + 1 == n:
                i += 1
                continue
            word.append(ch)
            i += 1
            ch = rest[i]
        word.append(ch)
        i += 1
    if (in_word or in_quote) and (blank_ok or word):
        words.append("".join(word))
    return words


def _split_whitespace(rest: str) -> list[str]:
    return [] if rest == "" else _WHITESPACE_RE.split(rest)


def _parse_json(rest: str) -> list[str] | None:
    """A JSON array of strings, or None when ``rest`` is not JSON at all."""
    rest = rest.lstrip()
    if not rest.startswith("["):
        return None

    def no_constants(name: str) -> Any:
        raise ValueError(name)

    try:
        value = json.loads(rest, parse_constant=no_constants)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(item, str) for item in value):
        raise _Error("when using JSON array syntax, arrays must be comprised of strings only")
    return value


def _parse_name_val(rest: str, key: str, escape: str) -> list[str]:
    """ENV/LABEL: ``k=v ...`` or legacy ``k v``, as (key, value, sep) triples."""
    words = _parse_words(rest, escape)
    if not words:
        return []
    if "=" not in words[0]:
        parts = _WHITESPACE_RE.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise _Error(f"{key} must have two arguments")
        return [parts[0], parts[1], ""]
    args: list[str] = []
    for word in words:
        if "=" not in word:
            raise _Error(
                f"Syntax error - can't find = in {_go_quote(word)}. Must be of the form: name=value"
            )
        k, v = word.split("=", 1)
        args += [k, v, "="]
    return args


def _new_node(line: str, escape: str) -> _Node:
    """newNodeFromLine: keyword, flags and arguments of one logical line."""
    parts = _WHITESPACE_RE.split(line.strip(), maxsplit=1)
    cmd = parts[0]
    rest, flags = "", []
    if len(parts) == 2:
        rest, flags = _extract_flags(parts[1], escape)
    rest = rest.strip()
    node = _Node(cmd=cmd, flags=flags, rest=rest, original=line)
    kw = cmd.lower()
    if kw in ("add", "copy", "volume"):
        parsed = _parse_json(rest)
        node.json = parsed is not None
        node.args = parsed if parsed is not None else _split_whitespace(rest)
    elif kw in ("cmd", "entrypoint", "run", "shell"):
        if rest:
            parsed = _parse_json(rest)
            node.json = parsed is not None
            node.args = parsed if parsed is not None else [rest]
    elif kw == "arg":
        node.args = _parse_words(rest, escape)
    elif kw in ("env", "label"):
        node.args = _parse_name_val(rest, cmd.upper() if kw == "label" else "ENV", escape)
    elif kw in ("expose", "from"):
        node.args = _split_whitespace(rest)
    elif kw == "healthcheck":
        m = re.match(r"(\S*)\s*", rest)
        kind = m.group(1) if m else ""
        if kind:
            tail = rest[m.end():] if m else ""
            node.args = [kind]
            if tail:
                parsed = _parse_json(tail)
                node.json = parsed is not None
                node.args += parsed if parsed is not None else [tail]
    elif kw in ("maintainer", "stopsignal", "user", "workdir"):
        node.args = [rest] if rest else []
    elif kw == "onbuild":
        if rest:
            node.child = _new_node(rest, escape)
            node.args = [node.child.cmd, *_node_args(node.child)]
    return node


def _node_args(node: _Node) -> list[str]:
    if node.child is not None:
        return [node.child.cmd, *_node_args(node.child)]
    return list(node.args)


def _can_contain_heredoc(node: _Node) -> bool:
    if node.cmd.lower() == "onbuild" and node.child is not None:
        node = node.child
    return node.cmd.upper() in _HEREDOC_INSTRUCTIONS and not node.json


@dataclass
class _Scan:
    nodes: list[_Node]
    directives: dict[str, str]
    escape: str
    warnings: list[str]
    lines: int


def _scan(text: str) -> _Scan:
    """Split the text into logical lines and nodes (BuildKit's parser.Parse)."""
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    raw_lines = [ln + "\n" for ln in lines]
    if raw_lines and not text.endswith("\n"):
        raw_lines[-1] = raw_lines[-1][:-1]

    escape = "\\"
    continuation = _continuation_re(escape)
    directives: dict[str, str] = {}
    directives_done = False
    nodes: list[_Node] = []
    warnings: list[str] = []
    current = 0
    i = 0

    def directive(token: str, number: int) -> bool:
        nonlocal directives_done, escape, continuation
        if directives_done:
            return False
        if not token.startswith("#"):
            directives_done = True
            return False
        m = _DIRECTIVE_RE.fullmatch(token[1:].lstrip())
        value = m.group(2).rstrip(" \t\n\f\r") if m else ""
        if m is None or value == "" or m.group(1).lower() not in _VALID_DIRECTIVES:
            directives_done = True
            return False
        key = m.group(1).lower()
        if key in directives:
            raise DockerfileParseError(
                f"dockerfile parse error on line {number}: only one {key} parser directive "
                "can be used",
                line=number,
            )
        if key == "escape":
            if value not in ("`", "\\"):
                raise DockerfileParseError(
                    f"dockerfile parse error on line {number}: invalid escape token "
                    f"'{value}' does not match ` or \\",
                    line=number,
                )
            escape = value
            continuation = _continuation_re(escape)
        directives[key] = value
        return True

    while i < len(raw_lines):
        raw = raw_lines[i]
        i += 1
        if current == 0 and raw.startswith("\ufeff"):
            raw = raw[1:]
        token = raw.rstrip("\r\n").lstrip()
        directive(token, current + 1)
        token = "" if _is_comment(token) else token
        current += 1
        start = current
        line, end_of_line = _trim_continuation(token, continuation)
        if end_of_line and line == "":
            continue
        buf = [line]
        empty_continuation = False
        while not end_of_line and i < len(raw_lines):
            raw = raw_lines[i]
            i += 1
            token = raw.rstrip("\r\n")
            directive(token, current + 1)
            current += 1
            if _is_comment(token):
                continue
            if token.strip() == "":
                empty_continuation = True
                continue
            token, end_of_line = _trim_continuation(token, continuation)
            buf.append(token)
        joined = "".join(buf)
        if empty_continuation:
            warnings.append(f"NoEmptyContinuation: Empty continuation line (line {current})")
        try:
            node = _new_node(joined, escape)
        except _Error as err:
            raise _located(str(err), start) from None
        if _can_contain_heredoc(node) and "<<" in joined:
            try:
                docs = _heredocs_in_line(joined)
            except _Error as err:
                raise _located(str(err), start) from None
            for doc in docs:
                content: list[str] = []
                terminated = False
                while i < len(raw_lines):
                    raw = raw_lines[i]
                    i += 1
                    current += 1
                    candidate = raw.rstrip("\r\n")
                    if doc.chomp:
                        candidate = candidate.lstrip("\t")
                    if candidate == doc.name:
                        terminated = True
                        break
                    content.append(raw)
                if not terminated:
                    raise _located(
                        f"unterminated heredoc: no line '{doc.name}' ends the heredoc "
                        f"started here",
                        start,
                    )
                node.heredocs.append(replace(doc, content="".join(content)))
        node.line, node.end_line = start, current
        nodes.append(node)
    return _Scan(nodes, directives, escape, warnings, current)


def _continuation_re(escape: str) -> re.Pattern[str]:
    e = re.escape(escape)
    return re.compile(rf"([^{e}]){e}[ \t]*\Z|^{e}[ \t]*\Z")


def _trim_continuation(line: str, rx: re.Pattern[str]) -> tuple[str, bool]:
    if rx.search(line):
        return rx.sub(r"\1", line, count=1), False
    return line, True


def _located(message: str, line: int | None, **context: Any) -> DockerfileParseError:
    if line is None:
        return DockerfileParseError(message, line=None, **context)
    return DockerfileParseError(
        f"dockerfile parse error on line {line}: {message}", line=line, **context
    )


# =============================================================================
# stage 2: nodes -> instructions (BuildKit's instructions package)
# =============================================================================
def _parse_flags(keyword: str, raw_flags: list[str]) -> dict[str, Any]:
    """BFlags.Parse with the flags ``keyword`` accepts."""
    spec = _FLAG_SPECS.get(keyword, {})
    values: dict[str, Any] = {}
    for raw in raw_flags:
        if raw == "--":
            break
        if not raw.startswith("--"):
            raise _Error(f"arg should start with -- : {raw}")
        flag_name, has_value, value = raw.partition("=")
        name = flag_name[2:]
        kind = spec.get(name)
        if kind is None:
            raise _Error(
                f"unknown flag: {flag_name}{_suggest(name, spec, case_sensitive=True)}"
            )
        if name in values and kind != "strings":
            raise _Error(f"duplicate flag specified: {flag_name}")
        if kind == "bool":
            if has_value and value == "":
                raise _Error(f"missing a value on flag: {flag_name}")
            if value.lower() in ("true", ""):
                values[name] = True
            elif value.lower() == "false":
                values[name] = False
            else:
                raise _Error(f"expecting boolean value for flag {flag_name}, not: {value}")
        else:
            if not has_value:
                raise _Error(f"missing a value on flag: {flag_name}")
            if kind == "strings":
                values[name] = (*values.get(name, ()), value)
            else:
                values[name] = value
    return values


def _validate_port(raw: str, warnings: list[str] | None, line: int) -> list[str]:
    """One EXPOSE word as ``["80/tcp", ...]`` (ranges expanded)."""
    parts = raw.split(":")
    ip, host_port, container = "", "", parts[-1]
    if len(parts) == 2:
        host_port = parts[0]
    elif len(parts) >= 3:
        ip, host_port = ":".join(parts[:-2]), parts[-2]
    port, _, proto = container.partition("/")
    if port == "":
        raise _Error(f"invalid port: {_go_quote(raw)}: no port specified")
    if proto.lower() not in ("", "tcp", "udp", "sctp"):
        raise _Error(f"invalid port: {_go_quote(raw)}: invalid proto: {proto}")
    if warnings is not None:
        if proto != proto.lower():
            warnings.append(
                f"ExposeProtoCasing: Defined protocol '{raw}' in EXPOSE instruction should "
                f"be lowercase (line {line})"
            )
        if ip or host_port:
            warnings.append(
                "ExposeInvalidFormat: EXPOSE instruction should not define an IP address or "
                f"host-port mapping, found '{raw}' (line {line})"
            )
    proto = proto.lower() or "tcp"

    def number(text: str) -> int | None:
        value = _small_int(text)
        return value if value is not None and 0 <= value <= 65535 else None

    start_text, dash, end_text = port.partition("-")
    start = number(start_text)
    end = start if not dash or start_text == end_text else number(end_text)
    if start is None or end is None or end < start:
        raise _Error(
            f"invalid containerPort: {port} (EXPOSE takes a port 0-65535 or a range such "
            "as 8000-8010, optionally with /tcp, /udp or /sctp)"
        )
    return [f"{p}/{proto}" for p in range(start, end + 1)]


def _validate_signal(signal: str) -> None:
    if re.fullmatch(r"[+-]?[0-9]+", signal):
        if (_small_int(signal) or 0) == 0:
            raise _Error(f"Invalid signal: {signal}")
        return
    name = signal.upper()
    if name.startswith("SIG"):
        name = name[3:]
    if name not in _SIGNALS:
        raise _Error(
            f"Invalid signal: {signal} (use a name such as SIGTERM or SIGQUIT, or a number)"
        )


def _validate_mount(spec: str) -> None:
    fields = [f.strip() for f in spec.split(",") if f.strip()]
    mount_type = "bind"
    for item in fields:
        key, eq, value = item.partition("=")
        key = key.lower()
        if key == "type":
            if not eq or value not in _MOUNT_TYPES:
                hint = _suggest(value, _MOUNT_TYPES, case_sensitive=True)
                raise _Error(f"unsupported mount type {_go_quote(value)}{hint}")
            mount_type = value
        elif not eq and key not in ("readonly", "ro", "readwrite", "rw", "required"):
            raise _Error(f"invalid field '{item}' must be a key=value pair")
    if mount_type == "secret" and any(f.lower().startswith("from=") for f in fields):
        raise _Error("secret mount should not have a from")


def _interval(flags: dict[str, Any], name: str) -> float:
    text = flags.get(name, "")
    if text == "":
        return 0.0
    try:
        seconds = parse_duration(text)
    except ValueError as err:
        raise _Error(str(err)) from None
    if seconds == 0:
        return 0.0
    if seconds < 1e-3:
        raise _Error(f"Interval {_go_quote(name)} cannot be less than 1ms")
    return seconds


def _is_heredoc_word(word: str) -> Heredoc | None:
    try:
        return _parse_heredoc_word(word)
    except _Error:
        return None


def _build(node: _Node, escape: str, warnings: list[str]) -> Instruction:
    """ParseInstruction: a node becomes an Instruction, or _Error is raised."""
    keyword = node.cmd.upper()
    line = node.line
    base = dict(
        keyword=keyword,
        line=line,
        end_line=node.end_line,
        original=node.original.strip(),
        args=tuple(node.args),
        escape=escape,
    )
    args = node.args

    def flags() -> dict[str, Any]:
        return _parse_flags(keyword, node.flags)

    if keyword not in INSTRUCTIONS:
        hint = _suggest(node.cmd, INSTRUCTIONS, case_sensitive=False)
        raise _Error(f"unknown instruction: {node.cmd}{hint}")

    if keyword in ("ENV", "LABEL"):
        parsed_flags = flags()
        if not args:
            raise _Error(f"{keyword} requires at least one argument")
        if len(args) % 3:
            raise _Error(f"Bad input to {keyword}, too many arguments")
        pairs = []
        for j in range(0, len(args), 3):
            if args[j] == "":
                raise _Error(f"{keyword} names can not be blank")
            if args[j + 2] == "":
                warnings.append(
                    f'LegacyKeyValueFormat: "{keyword} key=value" should be used instead of '
                    f'legacy "{keyword} key value" format (line {line})'
                )
            pairs.append((args[j], args[j + 1]))
        return Instruction(**base, flags=parsed_flags, pairs=tuple(pairs))

    if keyword == "MAINTAINER":
        if len(args) != 1:
            raise _Error("MAINTAINER requires exactly one argument")
        parsed_flags = flags()
        warnings.append(
            "MaintainerDeprecated: Maintainer instruction is deprecated in favor of using "
            f"label (line {line})"
        )
        return Instruction(**base, flags=parsed_flags, value=args[0])

    if keyword in ("ADD", "COPY"):
        if len(args) < 2:
            raise _Error(
                f"{keyword} requires at least two arguments, but only one was provided. "
                "Destination could not be determined"
            )
        parsed_flags = flags()
        dest = args[-1]
        if _is_heredoc_word(dest) is not None:
            raise _Error(f"{keyword} cannot accept a heredoc as a destination")
        by_name = {doc.name: doc for doc in node.heredocs}
        sources, docs = [], []
        for src in args[:-1]:
            doc = _is_heredoc_word(src) if not node.json else None
            if doc is not None:
                found = by_name.get(doc.name, replace(doc, content=""))
                docs.append(replace(found, chomp=doc.chomp, expand=doc.expand))
            else:
                sources.append(src)
        if keyword == "COPY" and "from" in parsed_flags:
            source = parsed_flags["from"]
            if _Lexer(source, {}, escape).process()[0] != source:
                raise _Error(
                    "variable expansion is not supported for --from, define a new stage with "
                    "FROM using ARG from global scope as a workaround"
                )
        return Instruction(
            **base,
            flags=parsed_flags,
            form="exec" if node.json else "shell",
            sources=tuple(sources),
            dest=dest,
            heredocs=tuple(docs),
        )

    if keyword == "FROM":
        if len(args) == 3 and args[1].lower() == "as":
            name = args[2].lower()
            if not _STAGE_NAME_RE.fullmatch(name):
                raise _Error(
                    f"invalid name for build stage: {_go_quote(args[2])}, name can't start "
                    "with a number or contain symbols"
                )
            if args[2] != name:
                warnings.append(
                    f"StageNameCasing: Stage name '{args[2]}' should be lowercase (line {line})"
                )
            if (node.cmd.isupper() and not args[1].isupper()) or (
                node.cmd.islower() and not args[1].islower()
            ):
                warnings.append(
                    f"FromAsCasing: '{args[1]}' and '{node.cmd}' keywords' casing do not match "
                    f"(line {line})"
                )
        elif len(args) != 1:
            raise _Error(
                "FROM requires either one or three arguments (FROM image or FROM image AS name)"
            )
        else:
            name = None
        return Instruction(**base, flags=flags(), value=args[0], name=name)

    if keyword == "ONBUILD":
        if node.child is None:
            raise _Error("ONBUILD requires at least one argument")
        parsed_flags = flags()
        trigger_keyword = node.child.cmd.upper()
        if trigger_keyword == "ONBUILD":
            raise _Error("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
        if trigger_keyword in ("MAINTAINER", "FROM"):
            raise _Error(f"{trigger_keyword} isn't allowed as an ONBUILD trigger")
        child = node.child
        child.line, child.end_line, child.heredocs = node.line, node.end_line, node.heredocs
        trigger = _build(child, escape, [])
        expression = re.sub(r"(?i)^\s*ONBUILD\s*", "", node.original)
        for doc in node.heredocs:
            expression += "\n" + doc.content + doc.name
        return Instruction(**base, flags=parsed_flags, value=expression, trigger=trigger)

    if keyword in ("WORKDIR", "USER", "STOPSIGNAL"):
        if len(args) != 1:
            raise _Error(f"{keyword} requires exactly one argument")
        parsed_flags = flags()
        if keyword == "STOPSIGNAL" and "$" not in args[0]:
            _validate_signal(args[0])
        return Instruction(**base, flags=parsed_flags, value=args[0])

    if keyword in ("RUN", "CMD", "ENTRYPOINT", "SHELL"):
        parsed_flags = flags()
        if keyword == "RUN":
            network = parsed_flags.get("network", "default")
            if network not in _NETWORK_MODES:
                raise _Error(f"invalid network mode {_go_quote(network)}")
            security = parsed_flags.get("security", "sandbox")
            if security not in _SECURITY_MODES:
                raise _Error(f"security mode {_go_quote(security)} is not valid")
            for mount in parsed_flags.get("mount", ()):
                _validate_mount(mount)
        if keyword == "SHELL":
            if not args:
                raise _Error("SHELL requires at least one argument")
            if not node.json:
                raise _Error(
                    "SHELL requires the arguments to be in JSON form, "
                    'e.g. SHELL ["/bin/bash", "-c"]'
                )
        if keyword in ("CMD", "ENTRYPOINT") and not node.json:
            warnings.append(
                f"JSONArgsRecommended: JSON arguments recommended for {keyword} to prevent "
                f"unintended behavior related to OS signals (line {line})"
            )
        if node.heredocs and not (len(args) == 1 and not node.json):
            raise _Error(f"parsing produced an invalid run command: {args}")
        command: tuple[str, ...] | str = tuple(args) if node.json else " ".join(args)
        return Instruction(
            **base,
            flags=parsed_flags,
            form="exec" if node.json else "shell",
            command=command,
            heredocs=tuple(node.heredocs),
        )

    if keyword == "HEALTHCHECK":
        if not args:
            raise _Error("HEALTHCHECK requires at least one argument")
        kind = args[0].upper()
        rest = args[1:]
        if kind == "NONE":
            if rest:
                raise _Error("HEALTHCHECK NONE takes no arguments")
            return Instruction(**base, flags=flags(), healthcheck=Healthcheck(test=("NONE",)))
        parsed_flags = flags()
        if kind != "CMD":
            raise _Error(f"Unknown type {_go_quote(kind)} in HEALTHCHECK (try CMD)")
        if not rest:
            raise _Error("Missing command after HEALTHCHECK CMD")
        test = ("CMD", *rest) if node.json else ("CMD-SHELL", " ".join(rest))
        retries = 0
        if parsed_flags.get("retries", "") != "":
            text = parsed_flags["retries"]
            if not re.fullmatch(r"[+-]?[0-9]+", text):
                raise _Error(f"strconv.ParseInt: parsing {_go_quote(text)}: invalid syntax")
            value = _small_int(text)
            if value is None or not -(2**31) <= value < 2**31:
                raise _Error(f"strconv.ParseInt: parsing {_go_quote(text)}: value out of range")
            retries = value
            if retries < 0:
                raise _Error(f"--retries cannot be negative ({retries})")
        check = Healthcheck(
            test=test,
            interval=_interval(parsed_flags, "interval"),
            timeout=_interval(parsed_flags, "timeout"),
            start_period=_interval(parsed_flags, "start-period"),
            start_interval=_interval(parsed_flags, "start-interval"),
            retries=retries,
        )
        return Instruction(
            **base, flags=parsed_flags, form="exec" if node.json else "shell", healthcheck=check
        )

    if keyword == "EXPOSE":
        if not args:
            raise _Error("EXPOSE requires at least one argument")
        parsed_flags = flags()
        for port in args:
            if "$" not in port:
                _validate_port(port, warnings, line)
        return Instruction(**base, flags=parsed_flags, ports=tuple(sorted(args)))

    if keyword == "VOLUME":
        if not args:
            raise _Error("VOLUME requires at least one argument")
        parsed_flags = flags()
        paths = []
        for path in args:
            path = path.strip()
            if path == "":
                raise _Error("VOLUME specified can not be an empty string")
            paths.append(path)
        return Instruction(
            **base, flags=parsed_flags, form="exec" if node.json else "shell", paths=tuple(paths)
        )

    assert keyword == "ARG"
    if not args:
        raise _Error("ARG requires at least one argument")
    parsed_flags = flags()
    pairs = []
    for arg in args:
        if "=" in arg:
            key, value = arg.split("=", 1)
            if key == "":
                raise _Error("ARG names can not be blank")
            pairs.append((key, value))
        else:
            pairs.append((arg, None))
    return Instruction(**base, flags=parsed_flags, pairs=tuple(pairs))


def parse_instruction(text: str, *, line: int = 1, escape: str = "\\") -> Instruction:
    """Parse one instruction (continuation lines and heredocs allowed).

    Useful for ONBUILD triggers stored in an image's config, and in tests.

    >>> ins = parse_instruction("ENV A=1 B='two words'")
    >>> ins.keyword, ins.pairs
    ('ENV', (('A', '1'), ('B', "'two words'")))
    >>> resolve(ins, {}).pairs
    (('A', '1'), ('B', 'two words'))

    Raises:
        DockerfileParseError: the text is not exactly one valid instruction.
    """
    if escape not in ("\\", "`"):
        raise ValueError("escape must be '\\' or '`'")
    prefix = "" if escape == "\\" else "# escape=`\n"
    try:
        scan = _scan(prefix + text)
    except DockerfileParseError as err:
        raise _relocate(err, line - 1 - (1 if prefix else 0)) from None
    if len(scan.nodes) != 1:
        raise _located(
            f"expected exactly one instruction, found {len(scan.nodes)}", line
        )
    node = scan.nodes[0]
    shift = line - node.line
    node.line, node.end_line = line, node.end_line + shift
    try:
        return _build(node, scan.escape, [])
    except _Error as err:
        raise _located(str(err), line) from None


def _relocate(err: DockerfileParseError, shift: int) -> DockerfileParseError:
    if err.line is None or shift == 0:
        return err
    new_line = err.line + shift
    message = err.message.replace(f"on line {err.line}:", f"on line {new_line}:", 1)
    return DockerfileParseError(message, line=new_line)


# =============================================================================
# stage 3: stages, arguments, cross-references (dockerfile2llb's checks)
# =============================================================================
def global_env(
    global_args: Iterable[Instruction], build_args: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The variables FROM lines see: platform args, then the global ARGs.

    A global ARG takes its ``--build-arg`` value when one is given, else its
    default (itself substituted with the ARGs before it); an ARG with neither
    stays unset.  Build args not declared by an ARG are not visible.

    >>> df = parse_dockerfile("ARG A=1\\nARG B=${A}2\\nARG C\\nFROM x")
    >>> env = df.global_env({"A": "9"})
    >>> env["A"], env["B"], "C" in env, env["TARGETARCH"]
    ('9', '92', False, 'amd64')
    """
    build_args = dict(build_args or {})
    env = dict(PLATFORM_ARGS)
    for name in PLATFORM_ARGS:
        if name in build_args:
            env[name] = build_args[name]
    for ins in global_args:
        for key, default in ins.pairs:
            if key in build_args:
                env[key] = build_args[key]
            elif default is not None:
                env[key] = _expand_at(default, env, ins)
    return env


def bind_args(
    instruction: Instruction,
    env: Mapping[str, str],
    build_args: Mapping[str, str] | None = None,
    global_args: Mapping[str, str] | None = None,
) -> tuple[tuple[str, str | None], ...]:
    """The values an ARG inside a stage takes, as BuildKit's dispatchArg.

    A ``--build-arg`` wins; else the default (substituted with ``env``); an
    ARG with neither inherits the global ARG of the same name.  ``None``
    means the ARG stays unset.  The builder adds the non-None values to the
    environment of the following instructions (but not to the image's ENV).

    >>> arg = parse_instruction("ARG VERSION PORT=${BASE}80 DEBUG")
    >>> bind_args(arg, {"BASE": "80"}, {"DEBUG": "1"}, {"VERSION": "1.2"})
    (('VERSION', '1.2'), ('PORT', '8080'), ('DEBUG', '1'))
    """
    if instruction.keyword != "ARG":
        raise TypeError(f"bind_args needs an ARG instruction, not {instruction.keyword}")
    build_args = build_args or {}
    global_args = global_args or {}
    bound = []
    for key, default in instruction.pairs:
        if key in build_args:
            value: str | None = build_args[key]
        elif default is not None:
            value = _expand_at(default, env, instruction)
        else:
            value = global_args.get(key)
        bound.append((key, value))
    return tuple(bound)


def _expand_at(text: str, env: Mapping[str, str], ins: Instruction, *, raw: bool = False) -> str:
    lexer = _Lexer(text, env, "\\" if raw else ins.escape, skip_quotes=raw)
    try:
        return lexer.process()[0]
    except _LexError as err:
        raise _located(str(err), ins.line, instruction=ins.original) from None


def resolve(instruction: Instruction, env: Mapping[str, str]) -> Instruction:
    """A copy of ``instruction`` with variables substituted, as at build time.

    Only the instructions in :data:`EXPANDED_INSTRUCTIONS` change (plus the
    ``--chown``/``--chmod``/``--checksum`` flags and expandable heredocs of
    COPY/ADD); RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK and ONBUILD come back
    as they are.  ``env`` holds the ARG and ENV values in scope *before* this
    instruction (``ENV A=1 B=$A`` sees the old ``A``).  For an ARG only the
    defaults are substituted: use :func:`bind_args` to apply build args.

    Raises:
        DockerfileParseError: bad substitution syntax, or a value that is
            only invalid after substitution (EXPOSE port, STOPSIGNAL, VOLUME).

    >>> resolve(parse_instruction("EXPOSE $PORT 53/udp"), {"PORT": "8080"}).ports
    ('8080/tcp', '53/udp')
    >>> resolve(parse_instruction("WORKDIR ${APP:-/app}/src"), {}).value
    '/app/src'
    >>> resolve(parse_instruction("RUN echo $HOME"), {"HOME": "/x"}).command
    'echo $HOME'
    """
    kw = instruction.keyword
    ins = instruction

    def word(text: str) -> str:
        return _expand_at(text, env, ins)

    if kw in ("ENV", "LABEL"):
        pairs = tuple((word(k), word(v or "")) for k, v in ins.pairs)
        return replace(ins, pairs=pairs, resolved=True)
    if kw == "ARG":
        pairs = tuple((k, None if v is None else word(v)) for k, v in ins.pairs)
        return replace(ins, pairs=pairs, resolved=True)
    if kw in ("COPY", "ADD"):
        flags = dict(ins.flags)
        for name in ("chown", "chmod", "checksum"):
            if name in flags:
                flags[name] = word(flags[name])
        docs = tuple(
            replace(doc, content=_expand_at(doc.content, env, ins, raw=True)) if doc.expand else doc
            for doc in ins.heredocs
        )
        return replace(
            ins,
            flags=flags,
            sources=tuple(word(s) for s in ins.sources),
            dest=word(ins.dest or ""),
            heredocs=docs,
            resolved=True,
        )
    if kw == "EXPOSE":
        ports: list[str] = []
        for raw in ins.ports:
            try:
                words = _Lexer(raw, env, ins.escape).process()[1]
            except _LexError as err:
                raise _located(str(err), ins.line, instruction=ins.original) from None
            for item in words:
                try:
                    ports += _validate_port(item, None, ins.line)
                except _Error as err:
                    raise _located(str(err), ins.line, instruction=ins.original) from None
        return replace(ins, ports=tuple(dict.fromkeys(ports)), resolved=True)
    if kw in ("USER", "WORKDIR", "STOPSIGNAL", "FROM"):
        value = word(ins.value or "")
        if kw == "STOPSIGNAL":
            try:
                _validate_signal(value)
            except _Error as err:
                raise _located(str(err), ins.line, instruction=ins.original) from None
        return replace(ins, value=value, resolved=True)
    if kw == "VOLUME":
        paths = tuple(word(p) for p in ins.paths)
        if any(p.strip() == "" for p in paths):
            raise _located(
                "VOLUME specified can not be an empty string", ins.line, instruction=ins.original
            )
        return replace(ins, paths=paths, resolved=True)
    return replace(ins, resolved=True)


def parse_dockerfile(
    text: str,
    filename: str = "Dockerfile",
    build_args: Mapping[str, str] | None = None,
) -> Dockerfile:
    """Parse a Dockerfile and check its structure.

    Args:
        text: the Dockerfile.
        filename: used in messages (``docker build -f``).
        build_args: ``--build-arg`` values; they override global ARG defaults
            when FROM lines are substituted.

    Returns:
        The :class:`Dockerfile`; its instructions are not yet substituted
        (see :func:`resolve`), except each stage's base and platform.

    Raises:
        DockerfileParseError: with ``line`` set to the 1-based line at fault.

    >>> parse_dockerfile("")
    Traceback (most recent call last):
    ...
    aivle_k8s.sim.errors.DockerfileParseError: the Dockerfile (Dockerfile) cannot be empty
    >>> parse_dockerfile("RUN make").stages
    Traceback (most recent call last):
    ...
    aivle_k8s.sim.errors.DockerfileParseError: dockerfile parse error on line 1: no build stage in current context
    """
    if not isinstance(text, str):
        raise TypeError(f"a Dockerfile must be a str, not {type(text).__name__}")
    if text == "":
        raise DockerfileParseError(
            f"the Dockerfile ({filename}) cannot be empty", line=None, filename=filename
        )
    scan = _scan(text)
    if not scan.nodes:
        raise _located("file with no instructions", max(scan.lines, 1), filename=filename)

    warnings = list(scan.warnings)
    global_args: list[Instruction] = []
    groups: list[tuple[Instruction, list[Instruction]]] = []
    for node in scan.nodes:
        try:
            ins = _build(node, scan.escape, warnings)
        except _Error as err:
            raise _located(str(err), node.line, filename=filename) from None
        if not groups and ins.keyword == "ARG":
            global_args.append(ins)
        elif ins.keyword == "FROM":
            groups.append((ins, []))
        elif not groups:
            raise _located("no build stage in current context", ins.line, filename=filename)
        else:
            groups[-1][1].append(ins)
    if not groups:
        raise _located(
            "dockerfile contains no stages to build (add a FROM instruction)",
            global_args[0].line if global_args else 1,
            filename=filename,
        )

    env = global_env(global_args, build_args)
    stages = _link_stages(groups, env, warnings, filename)
    return Dockerfile(
        stages=tuple(stages),
        global_args=tuple(global_args),
        directives=MappingProxyType(dict(scan.directives)),
        warnings=tuple(warnings),
        source=text,
        filename=filename,
        escape=scan.escape,
    )


def _link_stages(
    groups: list[tuple[Instruction, list[Instruction]]],
    env: Mapping[str, str],
    warnings: list[str],
    filename: str,
) -> list[Stage]:
    names: dict[str, int] = {}
    for index, (frm, _) in enumerate(groups):
        if frm.name is None:
            continue
        if frm.name in names:
            raise _located(
                f"Duplicate stage name {_go_quote(frm.name)}, stage names should be unique "
                f"(first used on line {groups[names[frm.name]][0].line})",
                frm.line,
                filename=filename,
            )
        if frm.name in _RESERVED_STAGE_NAMES:
            warnings.append(
                "ReservedStageName: Stage name should not use the same name as reserved stage "
                f"{_go_quote(frm.name)} (line {frm.line})"
            )
        names[frm.name] = index

    stages: list[Stage] = []
    for index, (frm, body) in enumerate(groups):
        base = _expand_at(frm.value or "", env, frm)
        if base == "":
            raise _located(
                f"base name ({frm.value}) should not be blank", frm.line, filename=filename
            )
        platform = None
        if "platform" in frm.flags:
            platform = _expand_at(frm.flags["platform"], env, frm)
            if platform == "":
                raise _located(
                    f"empty platform value from expression {frm.flags['platform']}",
                    frm.line,
                    filename=filename,
                )
            if not re.fullmatch(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+){0,2}", platform):
                raise _located(
                    f"failed to parse platform {frm.flags['platform']}: {_go_quote(platform)} "
                    "is not OS[/ARCH[/VARIANT]] (e.g. linux/amd64)",
                    frm.line,
                    filename=filename,
                )
        base_stage = names.get(base)
        if base_stage is not None and base_stage >= index:
            base_stage = None  # only earlier stages count; later names are images
        base_ref = None
        if base_stage is None and base != "scratch":
            try:
                base_ref = parse_reference(base)
            except InvalidReference as err:
                raise _located(
                    f"failed to parse stage name {_go_quote(base)}: {err}",
                    frm.line,
                    filename=filename,
                ) from err
        display = frm.name or f"stage-{index}"
        linked = [_link_copy(ins, index, display, groups, names, filename) for ins in body]
        for keyword in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
            lines = [ins.line for ins in body if ins.keyword == keyword]
            if len(lines) > 1:
                warnings.append(
                    f"MultipleInstructionsDisallowed: Multiple {keyword} instructions should "
                    "not be used in the same stage because only the last one will be used "
                    f"(line {lines[-1]})"
                )
        stages.append(
            Stage(
                index=index,
                name=frm.name,
                base=base,
                base_line=frm.line,
                instructions=tuple(linked),
                platform=platform,
                base_stage=base_stage,
                base_ref=base_ref,
                from_instruction=replace(frm, value=base, resolved=True),
            )
        )
    return stages


def _link_copy(
    ins: Instruction,
    index: int,
    display: str,
    groups: list[tuple[Instruction, list[Instruction]]],
    names: Mapping[str, int],
    filename: str,
) -> Instruction:
    """Resolve ``COPY --from`` to an earlier stage or an image."""
    source = ins.flags.get("from") if ins.keyword == "COPY" else None
    if source is None:
        return ins

    def fail(message: str) -> DockerfileParseError:
        return _located(message, ins.line, filename=filename)

    if re.fullmatch(r"[+-]?[0-9]+", source):
        target = _small_int(source)
        if target is None or not 0 <= target < len(groups):
            raise fail(
                f"invalid stage index {target} (this Dockerfile has stages 0 to {len(groups) - 1})"
            )
    elif source.lower() in names:
        target = names[source.lower()]
    else:
        try:
            image = parse_reference(source)
        except InvalidReference as err:
            raise fail(f"failed to parse stage name {_go_quote(source)}: {err}") from err
        return replace(ins, from_image=image)
    if target == index:
        raise fail(f"circular dependency detected on stage: {display}")
    if target > index:
        raise fail(
            f"cannot copy from stage {_go_quote(source)}, it needs to be defined before "
            f"current stage {_go_quote(display)}"
        )
    return replace(ins, from_stage=target)
