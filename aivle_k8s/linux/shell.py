"""The shell: ``bash`` and ``sh`` (dash), a real parser and evaluator.

A command line goes through the same stages as in a real shell: a
tokenizer (quotes, ``$``-expansions, here-documents, operators), a
recursive-descent parser that builds an AST of lists, and-or lists,
pipelines, simple and compound commands, and an evaluator that expands
words (parameters, command substitution, arithmetic, field splitting,
globbing against the process's filesystem) and runs commands: functions,
builtins, or programs found on ``PATH`` through the kernel.

Both programs share one implementation; ``sh`` behaves like Debian's dash
(``sh: 1: foo: not found``, no bashisms such as ``[[``, ``source`` or
brace expansion) and ``bash`` like GNU bash (``bash: foo: command not found``).

>>> script = parse("for i in 1 2; do echo $i; done | tee /tmp/x && echo ok")
>>> type(script.commands[0].items[0][0].first.commands[0]).__name__
'For'
>>> parse("echo ;;")
Traceback (most recent call last):
...
aivle_k8s.linux.shell.ShellSyntaxError: syntax error near unexpected token `;;'

Pipelines run their stages one after the other (each stage's output is
the next stage's input), which is indistinguishable from real pipes for
programs that read all their input before they finish.
"""

from __future__ import annotations

import posixpath
import random
import re
import shlex
from dataclasses import dataclass, field
from typing import Any, Callable, Generator

from ..sim.errors import AivleError, FsError, UsageError
from . import coreutils
from .fs import join
from .kernel import SIGNALS, ExecError, Stream, register_program, run_program

__all__ = [
    "ShellSyntaxError",
    "parse",
    "Script",
    "ListNode",
    "AndOr",
    "Pipeline",
    "SimpleCommand",
    "Word",
    "Pipe",
    "FileStream",
    "glob_to_regex",
]

Gen = Generator[Any, Any, Any]

# ---------------------------------------------------------------------------
# errors


class ShellSyntaxError(UsageError):
    """A command line the shell cannot parse.

    ``kind`` is ``token`` (an unexpected token), ``eof`` (the input ended
    inside a construct) or ``quote`` (an unterminated quote); ``token`` is
    the offending token and ``line`` its 1-based line.
    """

    def __init__(self, message: str, *, kind: str = "token", token: str = "", line: int = 1,
                 expecting: str = ""):
        super().__init__(message, kind=kind, token=token, line=line, expecting=expecting)


def _unexpected(tok: "Tok", expecting: str = "") -> ShellSyntaxError:
    if tok.kind == "EOF":
        return ShellSyntaxError("syntax error: unexpected end of file", kind="eof", line=tok.line,
                                expecting=expecting)
    text = "newline" if tok.value == "\n" else tok.value
    return ShellSyntaxError(f"syntax error near unexpected token `{text}'", kind="token", token=text,
                            line=tok.line, expecting=expecting)


# ---------------------------------------------------------------------------
# the AST


@dataclass
class Lit:
    """Unquoted literal text (glob characters active)."""
    text: str


@dataclass
class Quoted:
    """Literal text that was quoted (single quotes, backslash, ``$'...'``)."""
    text: str


@dataclass
class DQ:
    """A double-quoted string: its parts expand but are not split or globbed."""
    parts: list


@dataclass
class Param:
    """``$name`` / ``${name<op>arg}``."""
    name: str
    op: str | None = None
    arg: list | None = None
    arg2: list | None = None
    indirect: bool = False
    src: str = ""


@dataclass
class BadSubst:
    """``${...}`` that is not a valid expansion: an error when expanded (like bash)."""
    src: str


@dataclass
class CmdSub:
    """``$(...)`` or backticks."""
    node: Any
    src: str = ""


@dataclass
class Arith:
    """``$((...))``."""
    parts: list
    src: str = ""


@dataclass
class Word:
    parts: list
    raw: str = ""

    def literal(self) -> str | None:
        """The word's text if it is one unquoted literal (reserved words, names), else None."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Lit):
            return self.parts[0].text
        return None


@dataclass
class HereDoc:
    delimiter: str
    strip_tabs: bool
    quoted: bool
    body: str = ""
    parts: list = field(default_factory=list)
    done: bool = False


@dataclass
class Redirect:
    fd: int | None
    op: str
    target: Word | None = None
    heredoc: HereDoc | None = None


@dataclass
class Assign:
    name: str
    value: Word
    append: bool = False


@dataclass
class SimpleCommand:
    assigns: list
    words: list
    redirects: list
    line: int = 1


@dataclass
class Pipeline:
    commands: list
    negate: bool = False
    timed: bool = False
    pipe_stderr: list = field(default_factory=list)


@dataclass
class AndOr:
    first: Pipeline
    rest: list = field(default_factory=list)  # [(op, Pipeline)]


@dataclass
class ListNode:
    items: list = field(default_factory=list)  # [(AndOr, background)]


@dataclass
class BraceGroup:
    body: ListNode
    redirects: list = field(default_factory=list)


@dataclass
class Subshell:
    body: ListNode
    redirects: list = field(default_factory=list)


@dataclass
class If:
    clauses: list  # [(cond ListNode, body ListNode)]
    else_body: ListNode | None = None
    redirects: list = field(default_factory=list)


@dataclass
class While:
    cond: ListNode
    body: ListNode
    until: bool = False
    redirects: list = field(default_factory=list)


@dataclass
class For:
    var: str
    words: list | None
    body: ListNode
    redirects: list = field(default_factory=list)


@dataclass
class ArithFor:
    init: list
    cond: list
    step: list
    body: ListNode
    redirects: list = field(default_factory=list)


@dataclass
class Case:
    word: Word
    items: list  # [(patterns [Word], body ListNode, terminator)]
    redirects: list = field(default_factory=list)


@dataclass
class FunctionDef:
    name: str
    body: Any
    src: str = ""


@dataclass
class ArithCommand:
    parts: list
    redirects: list = field(default_factory=list)
    line: int = 1


@dataclass
class CondCommand:
    elems: list  # Words and operator strings
    redirects: list = field(default_factory=list)
    line: int = 1


@dataclass
class Script:
    commands: list  # [ListNode], one per complete command (line)
    warnings: list = field(default_factory=list)


# ---------------------------------------------------------------------------
# the tokenizer

_META = frozenset(" \t\n;&|<>()")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\+?)=")
_SPECIAL_PARAMS = "?$#@*!-0"
_REDIR_OPS = ("<<<", "<<-", "&>>", "<<", "<&", "<>", ">>", ">&", ">|", "&>", "<", ">")
_CTRL_OPS = (";;&", ";;", ";&", "&&", "||", "|&", ";", "&", "|", "(", ")")
_BASH_ONLY_OPS = {"<<<", "&>>", "&>", "|&", ";;&", ";&"}
_MAX_DEPTH = 40


@dataclass
class Tok:
    kind: str  # WORD, OP, REDIR, EOF
    value: str
    start: int
    end: int
    line: int
    word: Word | None = None
    fd: int | None = None
    heredoc: HereDoc | None = None


def _ansi_c(text: str) -> str:
    """Decode the body of ``$'...'``."""
    out, i = [], 0
    simple = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b",
              "f": "\f", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n in simple:
                out.append(simple[n]); i += 2; continue
            if n == "x":
                m = re.match(r"[0-9a-fA-F]{1,2}", text[i + 2:])
                if m:
                    out.append(chr(int(m.group(), 16))); i += 2 + len(m.group()); continue
            if n in "01234567":
                m = re.match(r"[0-7]{1,3}", text[i + 1:])
                out.append(chr(int(m.group(), 8) & 0xFF)); i += 1 + len(m.group()); continue
            out.append(c + n); i += 2; continue
        out.append(c); i += 1
    return "".join(out)


class Lexer:
    """Turns shell source into tokens on demand (the parser drives it)."""

    def __init__(self, text: str, pos: int = 0, *, bash: bool = True, line: int = 1, depth: int = 0):
        self.text = text
        self.pos = pos
        self.bash = bash
        self.line = line
        self.depth = depth
        self.pending: list[HereDoc] = []
        self.warnings: list[str] = []
        self._peeked: Tok | None = None

    # -- token stream ---------------------------------------------------------
    def peek(self) -> Tok:
        if self._peeked is None:
            self._peeked = self._lex()
        return self._peeked

    def next(self) -> Tok:
        tok = self.peek()
        self._peeked = None
        return tok

    def rewind(self, tok: Tok) -> None:
        """Forget a peeked token and continue scanning at its start (for ``((``)."""
        self._peeked = None
        self.pos = tok.start
        self.line = tok.line

    def _skip_blanks(self) -> None:
        t = self.text
        while self.pos < len(t):
            c = t[self.pos]
            if c in " \t":
                self.pos += 1
            elif c == "\\" and t.startswith("\\\n", self.pos):
                self.pos += 2
                self.line += 1
            else:
                break

    def _lex(self) -> Tok:
        t = self.text
        while True:
            self._skip_blanks()
            if self.pos < len(t) and t[self.pos] == "#":
                nl = t.find("\n", self.pos)
                self.pos = len(t) if nl < 0 else nl
                continue
            break
        start, line = self.pos, self.line
        if self.pos >= len(t):
            self._finish_heredocs_at_eof()
            return Tok("EOF", "", start, start, line)
        c = t[self.pos]
        if c == "\n":
            self.pos += 1
            self.line += 1
            self._read_heredocs()
            return Tok("OP", "\n", start, self.pos, line)
        # an IO number: digits right before < or >
        m = re.match(r"[0-9]+(?=[<>])", t[self.pos:self.pos + 12])
        fd = None
        if m:
            fd = int(m.group())
            self.pos += len(m.group())
        for op in _REDIR_OPS:
            if t.startswith(op, self.pos) and (self.bash or op not in _BASH_ONLY_OPS):
                if fd is not None and op.startswith("&"):
                    continue
                self.pos += len(op)
                tok = Tok("REDIR", op, start, self.pos, line, fd=fd)
                if op in ("<<", "<<-"):
                    tok.heredoc = self._heredoc_start(op == "<<-", tok)
                return tok
        if fd is not None:  # digits not followed by a redirection after all
            self.pos = start
        for op in _CTRL_OPS:
            if t.startswith(op, self.pos) and (self.bash or op not in _BASH_ONLY_OPS):
                self.pos += len(op)
                return Tok("OP", op, start, self.pos, line)
        parts = self.read_parts(lambda ch: ch in _META)
        raw = t[start:self.pos]
        return Tok("WORD", raw, start, self.pos, line, word=Word(parts, raw))

    # -- here-documents ---------------------------------------------------------
    def _heredoc_start(self, strip: bool, optok: Tok) -> HereDoc:
        self._skip_blanks()
        start = self.pos
        if self.pos >= len(self.text) or self.text[self.pos] in _META:
            nxt = self._lex()
            raise _unexpected(nxt)
        parts = self.read_parts(lambda ch: ch in _META)
        raw = self.text[start:self.pos]
        quoted = any(not isinstance(p, Lit) for p in parts)
        delim = "".join(_unquote_part(p) for p in parts)
        doc = HereDoc(delim, strip, quoted)
        self.pending.append(doc)
        return doc

    def _read_heredocs(self) -> None:
        pending, self.pending = self.pending, []
        t = self.text
        for doc in pending:
            lines = []
            found = False
            while self.pos < len(t):
                nl = t.find("\n", self.pos)
                end = len(t) if nl < 0 else nl
                line = t[self.pos:end]
                self.pos = end + 1 if nl >= 0 else end
                self.line += 1
                check = line.lstrip("\t") if doc.strip_tabs else line
                if check == doc.delimiter:
                    found = True
                    break
                lines.append(check + "\n")
            if not found:
                self.warnings.append(f"here-document at line {self.line} delimited by end-of-file "
                                     f"(wanted `{doc.delimiter}')")
            self._set_body(doc, "".join(lines))

    def _finish_heredocs_at_eof(self) -> None:
        for doc in self.pending:
            self.warnings.append(f"here-document at line {self.line} delimited by end-of-file "
                                 f"(wanted `{doc.delimiter}')")
            self._set_body(doc, "")
        self.pending = []

    def _set_body(self, doc: HereDoc, body: str) -> None:
        doc.body = body
        doc.done = True
        if not doc.quoted:
            sub = Lexer(body, bash=self.bash, depth=self.depth + 1)
            doc.parts = sub.read_parts(lambda ch: False, heredoc=True)
        else:
            doc.parts = [Quoted(body)]

    # -- words ------------------------------------------------------------------
    def _unterminated(self, what: str) -> ShellSyntaxError:
        return ShellSyntaxError(f"unexpected EOF while looking for matching `{what}'", kind="quote",
                                token=what, line=self.line)

    def read_parts(self, stop: Callable[[str], bool] | None, *, dq: bool = False, heredoc: bool = False,
                   sq_literal: bool = False) -> list:
        """Read word parts up to (not including) a stop character (or ``"`` when ``dq``)."""
        t = self.text
        n = len(t)
        parts: list = []
        buf: list[str] = []

        def flush() -> None:
            if buf:
                parts.append(Lit("".join(buf)))
                buf.clear()

        while self.pos < n:
            c = t[self.pos]
            if dq:
                if c == '"':
                    break
            elif stop is not None and stop(c):
                break
            if c == "\\":
                nxt = t[self.pos + 1] if self.pos + 1 < n else ""
                if nxt == "\n":
                    self.pos += 2
                    self.line += 1
                    continue
                if dq or heredoc:
                    special = '$`"\\' if dq else "$`\\"
                    if nxt and nxt in special:
                        flush()
                        parts.append(Quoted(nxt))
                        self.pos += 2
                        continue
                    buf.append("\\")
                    self.pos += 1
                    continue
                flush()
                parts.append(Quoted(nxt if nxt else "\\"))
                self.pos += 2 if nxt else 1
                continue
            if c == "'" and not dq and not heredoc and not sq_literal:
                end = t.find("'", self.pos + 1)
                if end < 0:
                    self.pos = n
                    raise self._unterminated("'")
                flush()
                body = t[self.pos + 1:end]
                parts.append(Quoted(body))
                self.line += body.count("\n")
                self.pos = end + 1
                continue
            if c == '"' and not dq and not heredoc:
                flush()
                self.pos += 1
                self._guard()
                try:
                    inner = self.read_parts(None, dq=True)
                finally:
                    self.word_depth -= 1
                if self.pos >= n:
                    raise self._unterminated('"')
                self.pos += 1
                parts.append(DQ(inner))
                continue
            if c == "$":
                part = self._dollar(dq or heredoc)
                if part is not None:
                    flush()
                    if isinstance(part, list):
                        parts.extend(part)
                    else:
                        parts.append(part)
                    continue
                buf.append("$")
                self.pos += 1
                continue
            if c == "`":
                flush()
                parts.append(self._backtick(dq))
                continue
            if c == "\n":
                self.line += 1
            buf.append(c)
            self.pos += 1
        flush()
        return parts

    def _sub_parser(self, pos: int) -> "Parser":
        if self.depth >= _MAX_DEPTH:
            raise ShellSyntaxError("syntax error: expression nested too deeply", kind="token", token="(",
                                   line=self.line)
        p = Parser.__new__(Parser)
        p.lx = Lexer(self.text, pos, bash=self.bash, line=self.line, depth=self.depth + 1)
        p.bash = self.bash
        return p

    def _dollar(self, quoted: bool):
        t = self.text
        i = self.pos
        nxt = t[i + 1] if i + 1 < len(t) else ""
        if t.startswith("$((", i):
            save_pos, save_line = self.pos, self.line
            self.pos = i + 3
            self._guard()
            try:
                parts = self._arith_parts()
            finally:
                self.word_depth -= 1
            if parts is not None:
                return Arith(parts, t[i:self.pos])
            self.pos, self.line = save_pos, save_line
        if nxt == "(":
            sub = self._sub_parser(i + 2)
            node = sub.parse_until_close()
            self.pos = sub.lx.pos
            self.line = sub.lx.line
            return CmdSub(node, t[i:self.pos])
        if nxt == "{":
            return self._brace_param()
        if nxt == "'" and self.bash and not quoted:
            end = i + 2
            while end < len(t) and t[end] != "'":
                end += 2 if t[end] == "\\" else 1
            if end >= len(t):
                self.pos = len(t)
                raise self._unterminated("'")
            self.pos = end + 1
            return Quoted(_ansi_c(t[i + 2:end]))
        if nxt == '"' and self.bash and not quoted:
            self.pos += 1  # $"..." is "..." (no translations here)
            return []
        if nxt and nxt.isascii() and (nxt.isalpha() or nxt == "_"):
            m = _NAME_RE.match(t, i + 1)
            self.pos = m.end()
            return Param(m.group(), src=t[i:self.pos])
        if nxt and ((nxt.isascii() and nxt.isdigit()) or nxt in _SPECIAL_PARAMS):
            self.pos = i + 2
            return Param(nxt, src=t[i:self.pos])
        return None

    def _arith_parts(self) -> list | None:
        """Parts of ``$((...))`` up to the closing ``))`` (None if it is not arithmetic)."""
        depth = 0

        def stop(ch: str) -> bool:
            nonlocal depth
            if ch == "(":
                depth += 1
            elif ch == ")":
                if depth == 0:
                    return True
                depth -= 1
            return False

        try:
            parts = self.read_parts(stop, sq_literal=False)
        except ShellSyntaxError as e:
            if "nested too deeply" in e.message:
                raise
            return None
        if self.text.startswith("))", self.pos):
            self.pos += 2
            return parts
        return None

    def _backtick(self, dq: bool) -> CmdSub:
        t = self.text
        i = self.pos + 1
        out = []
        while i < len(t) and t[i] != "`":
            if t[i] == "\\" and i + 1 < len(t) and (t[i + 1] in "$`\\" or (dq and t[i + 1] == '"')):
                out.append(t[i + 1])
                i += 2
                continue
            out.append(t[i])
            i += 1
        if i >= len(t):
            self.pos = len(t)
            raise self._unterminated("`")
        src = t[self.pos:i + 1]
        self.line += src.count("\n")
        self.pos = i + 1
        inner = "".join(out)
        if self.depth >= _MAX_DEPTH:
            raise ShellSyntaxError("syntax error: expression nested too deeply", token="`", line=self.line)
        p = Parser(inner, bash=self.bash, _depth=self.depth + 1)
        return CmdSub(p.parse_list_to_eof(), src)

    def _guard(self) -> None:
        self.word_depth = getattr(self, "word_depth", 0) + 1
        if self.word_depth + self.depth > _MAX_DEPTH:
            raise ShellSyntaxError("syntax error: expression nested too deeply", token="${", line=self.line)

    def _brace_param(self):
        self._guard()
        try:
            return self._brace_param_inner()
        finally:
            self.word_depth -= 1

    def _brace_param_inner(self):
        t = self.text
        start = self.pos
        self.pos += 2
        n = len(t)

        def bad():
            # skip to the matching } and report a bad substitution when expanded
            depth = 1
            while self.pos < n and depth:
                if t[self.pos] == "{":
                    depth += 1
                elif t[self.pos] == "}":
                    depth -= 1
                self.pos += 1
            if depth:
                raise self._unterminated("}")
            return BadSubst(t[start:self.pos])

        if self.pos >= n:
            raise self._unterminated("}")
        indirect = False
        op = None
        if t[self.pos] == "#" and self.pos + 1 < n and t[self.pos + 1] != "}":
            m = _NAME_RE.match(t, self.pos + 1) or re.compile(r"[0-9]+|[@*#?$!-]").match(t, self.pos + 1)
            if m and m.end() < n and t[m.end()] == "}":
                self.pos = m.end() + 1
                return Param(m.group(), "len", src=t[start:self.pos])
        if t[self.pos] == "!" and self.bash and self.pos + 1 < n and (t[self.pos + 1].isalpha() or t[self.pos + 1] == "_"):
            indirect = True
            self.pos += 1
        m = _NAME_RE.match(t, self.pos) or re.compile(r"[0-9]+|[@*#?$!0-]").match(t, self.pos)
        if not m:
            return bad()
        name = m.group()
        self.pos = m.end()
        if self.pos >= n:
            raise self._unterminated("}")
        if t[self.pos] == "}":
            self.pos += 1
            return Param(name, None, indirect=indirect, src=t[start:self.pos])
        for candidate in (":-", ":=", ":+", ":?", "-", "=", "+", "?", "##", "#", "%%", "%", "//", "/#", "/%",
                          "/", "^^", "^", ",,", ",", ":"):
            if t.startswith(candidate, self.pos):
                op = candidate
                break
        if op is None or (not self.bash and op[0] in "/^,") or (not self.bash and op == ":"):
            return bad()
        self.pos += len(op)
        arg2 = None
        if op in ("/", "//", "/#", "/%"):
            arg = self.read_parts(lambda ch: ch in "/}")
            if self.pos < n and t[self.pos] == "/":
                self.pos += 1
                arg2 = self.read_parts(lambda ch: ch == "}")
            else:
                arg2 = []
        elif op == ":":
            arg = self.read_parts(lambda ch: ch in ":}")
            if self.pos < n and t[self.pos] == ":":
                self.pos += 1
                arg2 = self.read_parts(lambda ch: ch == "}")
        else:
            arg = self.read_parts(lambda ch: ch == "}")
        if self.pos >= n or t[self.pos] != "}":
            raise self._unterminated("}")
        self.pos += 1
        return Param(name, op, arg, arg2, indirect, t[start:self.pos])


def _unquote_part(p) -> str:
    if isinstance(p, (Lit, Quoted)):
        return p.text
    if isinstance(p, DQ):
        return "".join(_unquote_part(x) for x in p.parts)
    if isinstance(p, Param):
        return p.src
    if isinstance(p, (CmdSub, Arith)):
        return p.src
    if isinstance(p, BadSubst):
        return p.src
    return ""


# ---------------------------------------------------------------------------
# the parser

_RESERVED = {"if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while", "until", "for",
             "in", "{", "}", "!"}
_BASH_RESERVED = {"[[", "]]", "function", "time", "select"}
_FUNC_NAME_RE = re.compile(r"[^\s$`'\"\\|&;<>()=]+")


class Parser:
    """Recursive-descent parser producing the AST (``parse()`` is the public entry)."""

    def __init__(self, text: str, *, bash: bool = True, _depth: int = 0):
        self.lx = Lexer(text, 0, bash=bash, depth=_depth)
        self.bash = bash

    # -- helpers --------------------------------------------------------------------
    def peek(self) -> Tok:
        return self.lx.peek()

    def next(self) -> Tok:
        return self.lx.next()

    def _reserved(self, tok: Tok) -> str | None:
        if tok.kind != "WORD" or tok.word is None:
            return None
        lit = tok.word.literal()
        if lit in _RESERVED or (self.bash and lit in _BASH_RESERVED):
            return lit
        return None

    def _is(self, tok: Tok, word: str) -> bool:
        return self._reserved(tok) == word

    def _expect_word(self, word: str, expecting: str | None = None) -> Tok:
        tok = self.next()
        if not self._is(tok, word):
            raise _unexpected(tok, expecting or word)
        return tok

    def skip_newlines(self) -> None:
        while True:
            tok = self.peek()
            if tok.kind == "OP" and tok.value == "\n":
                self.next()
            else:
                return

    def _enter(self) -> None:
        self.lx.depth += 1
        if self.lx.depth > _MAX_DEPTH:
            raise ShellSyntaxError("syntax error: expression nested too deeply", token="(", line=self.lx.line)

    def _leave(self) -> None:
        self.lx.depth -= 1

    # -- entry points ---------------------------------------------------------------
    def next_complete_command(self) -> ListNode | None:
        """The next line's worth of commands (None at the end of the input)."""
        self.skip_newlines()
        tok = self.peek()
        if tok.kind == "EOF":
            return None
        node = self.parse_list(stop_at_newline=True)
        tok = self.peek()
        if tok.kind == "OP" and tok.value == "\n":
            self.next()
        elif tok.kind != "EOF":
            raise _unexpected(tok)
        return node

    def parse_list_to_eof(self) -> ListNode:
        items = []
        while True:
            node = self.next_complete_command()
            if node is None:
                return ListNode(items)
            items.extend(node.items)

    def parse_until_close(self) -> ListNode:
        """Inside ``$(``: a list up to the matching ``)`` (consumed)."""
        self.skip_newlines()
        tok = self.peek()
        if tok.kind == "OP" and tok.value == ")":
            self.next()
            return ListNode([])
        node = self.parse_list()
        tok = self.next()
        if tok.kind == "EOF":
            raise ShellSyntaxError("unexpected EOF while looking for matching `)'", kind="quote", token=")",
                                   line=tok.line)
        if not (tok.kind == "OP" and tok.value == ")"):
            raise _unexpected(tok)
        return node

    # -- lists ------------------------------------------------------------------------
    def _at_list_end(self, tok: Tok) -> bool:
        if tok.kind == "EOF":
            return True
        if tok.kind == "OP" and tok.value in (")", ";;", ";&", ";;&"):
            return True
        r = self._reserved(tok)
        return r in ("then", "else", "elif", "fi", "do", "done", "esac", "}")

    def parse_list(self, *, stop_at_newline: bool = False) -> ListNode:
        items = []
        if not stop_at_newline:
            self.skip_newlines()
        while True:
            tok = self.peek()
            if self._at_list_end(tok):
                break
            ao = self.parse_and_or()
            tok = self.peek()
            if tok.kind == "OP" and tok.value in (";", "&"):
                self.next()
                items.append((ao, tok.value == "&"))
                nxt = self.peek()
                if stop_at_newline and (nxt.kind == "EOF" or (nxt.kind == "OP" and nxt.value == "\n")):
                    break
                if not stop_at_newline:
                    self.skip_newlines()
                continue
            if tok.kind == "OP" and tok.value == "\n":
                items.append((ao, False))
                if stop_at_newline:
                    break
                self.skip_newlines()
                continue
            items.append((ao, False))
            break
        return ListNode(items)

    def _body(self, terminators_hint: str) -> ListNode:
        node = self.parse_list()
        if not node.items:
            raise _unexpected(self.peek(), terminators_hint)
        return node

    def parse_and_or(self) -> AndOr:
        first = self.parse_pipeline()
        rest = []
        while True:
            tok = self.peek()
            if tok.kind == "OP" and tok.value in ("&&", "||"):
                self.next()
                self.skip_newlines()
                rest.append((tok.value, self.parse_pipeline()))
            else:
                return AndOr(first, rest)

    def parse_pipeline(self) -> Pipeline:
        timed = negate = False
        if self.bash and self._is(self.peek(), "time"):
            self.next()
            timed = True
            tok = self.peek()
            if tok.kind == "WORD" and tok.word.literal() == "-p":
                self.next()
        while self._is(self.peek(), "!"):
            self.next()
            negate = not negate
        cmds = [self.parse_command()]
        pipe_stderr = []
        while True:
            tok = self.peek()
            if tok.kind == "OP" and tok.value in ("|", "|&"):
                self.next()
                pipe_stderr.append(tok.value == "|&")
                self.skip_newlines()
                cmds.append(self.parse_command())
            else:
                break
        pipe_stderr.append(False)
        return Pipeline(cmds, negate, timed, pipe_stderr)

    # -- commands ---------------------------------------------------------------------
    def parse_command(self):
        tok = self.peek()
        if tok.kind == "EOF":
            raise _unexpected(tok)
        if tok.kind == "OP":
            if tok.value == "(":
                if self.bash and self.lx.text.startswith("((", tok.start):
                    node = self._try_arith_command(tok)
                    if node is not None:
                        return node
                self._enter()
                self.next()
                body = self._body(")")
                close = self.next()
                if not (close.kind == "OP" and close.value == ")"):
                    raise _unexpected(close, ")")
                self._leave()
                return self._redirects(Subshell(body))
            raise _unexpected(tok)
        r = self._reserved(tok)
        if r is not None:
            if r == "{":
                self._enter()
                self.next()
                body = self._body("}")
                self._expect_word("}")
                self._leave()
                return self._redirects(BraceGroup(body))
            if r == "if":
                return self._redirects(self._parse_if())
            if r in ("while", "until"):
                return self._redirects(self._parse_while(r == "until"))
            if r == "for":
                return self._redirects(self._parse_for())
            if r == "case":
                return self._redirects(self._parse_case())
            if r == "[[":
                return self._redirects(self._parse_cond())
            if r == "function":
                return self._parse_function_keyword()
            if r in ("!", "time"):
                raise _unexpected(tok)
            if r in ("then", "else", "elif", "fi", "do", "done", "esac", "}", "in", "]]", "select"):
                if r == "in" or r == "]]" or r == "select":
                    return self.parse_simple()
                raise _unexpected(tok)
        return self.parse_simple()

    def _redirects(self, node):
        while self.peek().kind == "REDIR":
            node.redirects.append(self._parse_redirect())
        return node

    def _parse_redirect(self) -> Redirect:
        tok = self.next()
        if tok.heredoc is not None:
            return Redirect(tok.fd, tok.value, None, tok.heredoc)
        target = self.next()
        if target.kind != "WORD":
            raise _unexpected(target)
        return Redirect(tok.fd, tok.value, target.word)

    def parse_simple(self) -> SimpleCommand:
        line = self.peek().line
        assigns, words, redirects = [], [], []
        while True:
            tok = self.peek()
            if tok.kind == "REDIR":
                redirects.append(self._parse_redirect())
                continue
            if tok.kind != "WORD":
                break
            self.next()
            if not words:
                a = _as_assignment(tok.word)
                if a is not None:
                    assigns.append(a)
                    continue
            words.append(tok.word)
            if len(words) == 1 and not assigns and not redirects:
                nxt = self.peek()
                if nxt.kind == "OP" and nxt.value == "(":
                    return self._parse_function_def(tok)
        if not (assigns or words or redirects):
            raise _unexpected(self.peek())
        return SimpleCommand(assigns, words, redirects, line)

    def _parse_function_def(self, name_tok: Tok):
        name = name_tok.word.literal()
        self.next()  # (
        close = self.next()
        if not (close.kind == "OP" and close.value == ")"):
            raise _unexpected(close)
        if name is None or not _FUNC_NAME_RE.fullmatch(name):
            raise _unexpected(close)
        return self._function_body(name, name_tok.start)

    def _function_body(self, name: str, start: int) -> FunctionDef:
        self.skip_newlines()
        tok = self.peek()
        r = self._reserved(tok)
        if not (r in ("{", "if", "while", "until", "for", "case", "[[") or (tok.kind == "OP" and tok.value == "(")):
            raise _unexpected(tok)
        body = self.parse_command()
        end = self.lx._peeked.start if self.lx._peeked is not None else self.lx.pos
        return FunctionDef(name, body, self.lx.text[start:end].strip())

    def _parse_function_keyword(self) -> FunctionDef:
        kw = self.next()
        tok = self.next()
        if tok.kind != "WORD" or tok.word.literal() is None:
            raise _unexpected(tok)
        nxt = self.peek()
        if nxt.kind == "OP" and nxt.value == "(":
            self.next()
            close = self.next()
            if not (close.kind == "OP" and close.value == ")"):
                raise _unexpected(close)
        return self._function_body(tok.word.literal(), kw.start)

    def _parse_if(self) -> If:
        self._enter()
        self.next()
        clauses = []
        cond = self._body("then")
        self._expect_word("then", "fi")
        body = self._body("fi")
        clauses.append((cond, body))
        else_body = None
        while True:
            tok = self.next()
            r = self._reserved(tok)
            if r == "elif":
                cond = self._body("then")
                self._expect_word("then", "fi")
                clauses.append((cond, self._body("fi")))
                continue
            if r == "else":
                else_body = self._body("fi")
                self._expect_word("fi")
                break
            if r == "fi":
                break
            raise _unexpected(tok, "fi")
        self._leave()
        return If(clauses, else_body)

    def _parse_while(self, until: bool) -> While:
        self._enter()
        self.next()
        cond = self._body("do")
        self._expect_word("do", "done")
        body = self._body("done")
        self._expect_word("done")
        self._leave()
        return While(cond, body, until)

    def _parse_for(self):
        self._enter()
        self.next()
        if self.bash:
            tok = self.peek()
            if tok.kind == "OP" and tok.value == "(" and self.lx.text.startswith("((", tok.start):
                return self._parse_arith_for(tok)
        tok = self.next()
        name = tok.word.literal() if tok.kind == "WORD" else None
        if name is None or not _NAME_RE.fullmatch(name):
            raise _unexpected(tok)
        words = None
        self.skip_newlines()
        tok = self.peek()
        if self._is(tok, "in"):
            self.next()
            words = []
            while True:
                tok = self.peek()
                if tok.kind == "WORD":
                    words.append(self.next().word)
                    continue
                if tok.kind == "OP" and tok.value in (";", "\n"):
                    self.next()
                    break
                raise _unexpected(tok, "do")
        elif tok.kind == "OP" and tok.value == ";":
            self.next()
        self.skip_newlines()
        self._expect_word("do", "done")
        body = self._body("done")
        self._expect_word("done")
        self._leave()
        return For(name, words, body)

    def _read_arith_raw(self, tok: Tok) -> tuple[str, int]:
        """The raw text between ``((`` and the matching ``))``."""
        t = self.lx.text
        i = tok.start + 2
        depth = 0
        quote = None
        while i < len(t):
            c = t[i]
            if quote:
                if c == quote:
                    quote = None
            elif c in "'\"":
                quote = c
            elif c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    if t.startswith("))", i):
                        return t[tok.start + 2:i], i + 2
                    return "", -1
                depth -= 1
            i += 1
        return "", -1

    def _arith_from_text(self, text: str) -> list:
        lx = Lexer(text, bash=True, depth=self.lx.depth + 1)
        return lx.read_parts(lambda ch: False, heredoc=True)

    def _try_arith_command(self, tok: Tok):
        raw, end = self._read_arith_raw(tok)
        if end < 0:
            return None
        self.lx._peeked = None
        self.lx.line += raw.count("\n")
        self.lx.pos = end
        return self._redirects(ArithCommand(self._arith_from_text(raw), line=tok.line))

    def _parse_arith_for(self, tok: Tok) -> ArithFor:
        raw, end = self._read_arith_raw(tok)
        if end < 0:
            raise _unexpected(tok)
        pieces = raw.split(";")
        if len(pieces) != 3:
            raise ShellSyntaxError(f"syntax error: arithmetic expression required", token="((", line=tok.line)
        self.lx._peeked = None
        self.lx.pos = end
        init, cond, step = (self._arith_from_text(p) for p in pieces)
        self.skip_newlines()
        t = self.peek()
        if t.kind == "OP" and t.value == ";":
            self.next()
        self.skip_newlines()
        if self._is(self.peek(), "{"):
            self.next()
            body = self._body("}")
            self._expect_word("}")
        else:
            self._expect_word("do", "done")
            body = self._body("done")
            self._expect_word("done")
        self._leave()
        return ArithFor(init, cond, step, body)

    def _parse_case(self) -> Case:
        self._enter()
        self.next()
        tok = self.next()
        if tok.kind != "WORD":
            raise _unexpected(tok)
        word = tok.word
        self.skip_newlines()
        self._expect_word("in", "esac")
        self.skip_newlines()
        items = []
        while True:
            tok = self.peek()
            if self._is(tok, "esac"):
                self.next()
                break
            if tok.kind == "OP" and tok.value == "(":
                self.next()
                tok = self.peek()
            patterns = []
            while True:
                tok = self.next()
                if tok.kind != "WORD":
                    raise _unexpected(tok, "esac")
                patterns.append(tok.word)
                sep = self.next()
                if sep.kind == "OP" and sep.value == "|":
                    continue
                if sep.kind == "OP" and sep.value == ")":
                    break
                raise _unexpected(sep, "esac")
            body = self.parse_list()
            tok = self.peek()
            term = ";;"
            if tok.kind == "OP" and tok.value in (";;", ";&", ";;&"):
                term = self.next().value
                self.skip_newlines()
                items.append((patterns, body, term))
                continue
            items.append((patterns, body, term))
            if self._is(tok, "esac"):
                self.next()
                break
            raise _unexpected(tok, "esac")
        self._leave()
        return Case(word, items)

    def _parse_cond(self) -> CondCommand:
        start = self.next()
        elems: list = []
        while True:
            tok = self.next()
            if tok.kind == "EOF":
                raise _unexpected(tok, "]]")
            if tok.kind == "WORD" and tok.word.literal() == "]]":
                break
            if tok.kind == "WORD":
                elems.append(tok.word)
                if tok.word.literal() == "=~" and self.lx._peeked is None:
                    elems.append(self._read_regex_word())
            elif tok.kind == "OP" and tok.value in ("&&", "||", "(", ")"):
                elems.append(tok.value)
            elif tok.kind == "REDIR" and tok.value in ("<", ">") and tok.fd is None:
                elems.append(tok.value)
            elif tok.kind == "OP" and tok.value == "\n":
                continue
            else:
                raise _unexpected(tok)
        if not elems:
            raise _unexpected(tok)
        return CondCommand(elems, line=start.line)

    def _read_regex_word(self) -> Word:
        """The right side of ``=~``: parentheses and ``|`` belong to the regex, not to the shell."""
        lx = self.lx
        lx._skip_blanks()
        depth = 0

        def stop(ch: str) -> bool:
            nonlocal depth
            if ch == "(":
                depth += 1
                return False
            if ch == ")":
                if depth == 0:
                    return True
                depth -= 1
                return False
            if ch == "|":
                return False
            return ch in " \t\n;&<>" and depth == 0

        start = lx.pos
        parts = lx.read_parts(stop)
        return Word(parts, lx.text[start:lx.pos])


def _as_assignment(word: Word) -> Assign | None:
    if not word.parts or not isinstance(word.parts[0], Lit):
        return None
    m = _ASSIGN_RE.match(word.parts[0].text)
    if not m:
        return None
    rest = word.parts[0].text[m.end():]
    parts = ([Lit(rest)] if rest else []) + word.parts[1:]
    return Assign(m.group(1), Word(parts, word.raw[m.end():]), m.group(2) == "+")


def parse(text: str, *, dialect: str = "bash") -> Script:
    """Parse shell source into a :class:`Script` (one ListNode per complete command).

    Raises:
        ShellSyntaxError: the text is not valid shell syntax.

    >>> s = parse("cat <<EOF\\nhi $USER\\nEOF")
    >>> s.commands[0].items[0][0].first.commands[0].redirects[0].heredoc.body
    'hi $USER\\n'
    """
    p = Parser(text, bash=dialect != "sh")
    commands = []
    while True:
        node = p.next_complete_command()
        if node is None:
            break
        commands.append(node)
    return Script(commands, list(p.lx.warnings))


# ---------------------------------------------------------------------------
# glob patterns


def glob_to_regex(pattern: str, *, anchored: bool = True) -> str:
    r"""A Python regex for a shell glob; ``\`` escapes the next character.

    >>> import re; bool(re.fullmatch(glob_to_regex("*.c[!x]"), "main.co"))
    True
    """
    out = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            j = i + 1
            if j < n and pattern[j] in "!^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                if pattern[j] == "[" and pattern.startswith("[:", j):
                    k = pattern.find(":]", j + 2)
                    j = k + 2 if k >= 0 else j + 1
                    continue
                j += 1
            if j >= n:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1:j]
                neg = body[:1] in ("!", "^")
                if neg:
                    body = body[1:]
                out.append("[" + ("^" if neg else "") + _bracket_body(body) + "]")
                i = j + 1
                continue
        else:
            out.append(re.escape(c))
        i += 1
    return "(?s:" + "".join(out) + ")"


_CLASSES = {"alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "upper": "A-Z", "lower": "a-z",
            "space": r" \t\n\r\f\v", "blank": r" \t", "punct": r"!-/:-@\[-`{-~", "xdigit": "0-9A-Fa-f",
            "word": r"\w", "cntrl": r"\x00-\x1f\x7f", "print": r" -~", "graph": r"!-~"}


def _bracket_body(body: str) -> str:
    out = []
    i = 0
    while i < len(body):
        if body.startswith("[:", i):
            k = body.find(":]", i + 2)
            if k >= 0:
                out.append(_CLASSES.get(body[i + 2:k], ""))
                i = k + 2
                continue
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            out.append(re.escape(body[i + 1]))
            i += 2
            continue
        if c == "-" and out and i + 1 < len(body):
            out.append("-")
        elif c in "\\]^[-":
            out.append("\\" + c)
        else:
            out.append(c)
        i += 1
    return "".join(out) or r"\x00"


def _has_glob(pattern: str) -> bool:
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c in "*?":
            return True
        if c == "[" and "]" in pattern[i + 2:]:
            return True
        i += 1
    return False


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def _glob_unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.S)


def _glob(fs, cwd: str, pattern: str) -> list[str]:
    """Paths matching ``pattern`` (sorted), relative if the pattern is relative."""
    absolute = pattern.startswith("/")
    comps = [c for c in pattern.split("/") if c]
    results = ["/" if absolute else ""]
    for idx, comp in enumerate(comps):
        last = idx == len(comps) - 1
        nxt = []
        for base in results:
            dirpath = join(cwd, base) if base else cwd
            if not _has_glob(comp):
                name = _glob_unescape(comp)
                cand = (base.rstrip("/") + "/" + name) if base else name
                if base == "/":
                    cand = "/" + name
                if fs.lexists(join(cwd, cand)):
                    nxt.append(cand)
                continue
            try:
                if not fs.is_dir(dirpath):
                    continue
                names = fs.listdir(dirpath)
            except (FsError, AivleError):
                continue
            rx = re.compile(glob_to_regex(comp))
            for name in names:
                if name.startswith(".") and not comp.startswith(".") and not comp.startswith("\\."):
                    continue
                if rx.fullmatch(name):
                    cand = (base.rstrip("/") + "/" + name) if base else name
                    if base == "/":
                        cand = "/" + name
                    if not last and not fs.is_dir(join(cwd, cand)):
                        continue
                    nxt.append(cand)
        results = nxt
        if not results:
            return []
    if pattern.endswith("/"):
        results = [r + "/" for r in results if fs.is_dir(join(cwd, r))]
    return sorted(results)


# ---------------------------------------------------------------------------
# streams


class Pipe(Stream):
    """The write end of a pipe between two pipeline stages."""

    pipe = True
    isatty = False

    def __init__(self):
        super().__init__("pipe")


class NullStream(Stream):
    """/dev/null."""

    isatty = False

    def __init__(self):
        super().__init__("null")

    def write(self, data) -> None:
        return None


class FileStream(Stream):
    """Output redirected to a file: every write appends to the file through the filesystem."""

    isatty = False

    def __init__(self, fs, path: str):
        super().__init__(path)
        self.fs = fs
        self.path = path

    def write(self, data) -> None:
        if isinstance(data, str):
            data = data.encode()
        if not data:
            return
        try:
            self.fs.write(self.path, data, append=True)
        except AivleError:
            pass


class InputBuffer:
    """Standard input: bytes plus a read position (``read`` consumes lines)."""

    def __init__(self, data: bytes = b""):
        self.data = data
        self.pos = 0

    def rest(self) -> bytes:
        return self.data[self.pos:]

    def readline(self, delim: bytes = b"\n") -> bytes | None:
        if self.pos >= len(self.data):
            return None
        i = self.data.find(delim, self.pos)
        if i < 0:
            line = self.data[self.pos:]
            self.pos = len(self.data)
        else:
            line = self.data[self.pos:i + 1]
            self.pos = i + 1
        return line

    def read(self, n: int) -> bytes:
        chunk = self.data[self.pos:self.pos + n]
        self.pos += len(chunk)
        return chunk


class IO:
    """The file descriptors of a command: 0 is an InputBuffer, the others are Streams."""

    def __init__(self, fds: dict):
        self.fds = fds

    @property
    def stdin(self) -> InputBuffer:
        f = self.fds.get(0)
        return f if isinstance(f, InputBuffer) else InputBuffer()

    @property
    def out(self) -> Stream:
        f = self.fds.get(1)
        return f if isinstance(f, Stream) else NullStream()

    @property
    def err(self) -> Stream:
        f = self.fds.get(2)
        return f if isinstance(f, Stream) else NullStream()

    def copy(self) -> "IO":
        return IO(dict(self.fds))


# ---------------------------------------------------------------------------
# control flow


class ExitShell(Exception):
    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


class ReturnFunc(Exception):
    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


class LoopControl(Exception):
    def __init__(self, kind: str, levels: int):
        super().__init__(kind)
        self.kind = kind
        self.levels = levels


class ShellFatal(Exception):
    """An expansion error: the message is printed and a non-interactive shell exits."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.message = message
        self.code = code


class ArithError(Exception):
    pass


# ---------------------------------------------------------------------------
# arithmetic

_ARITH_TOKEN = re.compile(r"\s*(?:(?P<num>0[xX][0-9a-fA-F]+|[0-9]+#[0-9a-zA-Z@_]+|[0-9]+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|"
                          r"(?P<op>\*\*=|<<=|>>=|\+\+|--|\*\*|<<|>>|<=|>=|==|!=|&&|\|\||\+=|-=|\*=|/=|%=|&=|\^=|\|=|[-+*/%<>&|^!~?:=(),]))")


def _wrap64(v: int) -> int:
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >= 1 << 63 else v


class Arithmetic:
    """Evaluates bash arithmetic (``$((...))``, ``((...))``, ``let``) with 64-bit integers."""

    _BIN = [
        ("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", ">", "<=", ">="), ("<<", ">>"),
        ("+", "-"), ("*", "/", "%"),
    ]

    def __init__(self, get: Callable[[str], str | None], set_: Callable[[str, str], None], depth: int = 0):
        self.get = get
        self.set = set_
        self.depth = depth

    def evaluate(self, text: str) -> int:
        self.text = text
        self.toks = self._tokenize(text)
        self.i = 0
        if not self.toks:
            return 0
        node = self._comma()
        if self.i < len(self.toks):
            raise ArithError(f"syntax error in expression (error token is \"{self._rest()}\")")
        return self._eval(node)

    def _rest(self) -> str:
        if self.i >= len(self.toks):
            return ""
        return self.text[self.toks[self.i][2]:].strip()

    def _tokenize(self, text: str) -> list:
        toks = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _ARITH_TOKEN.match(text, pos)
            if not m or m.end() == pos:
                rest = text[pos:].strip()
                raise ArithError(f"syntax error: invalid arithmetic operator (error token is \"{rest}\")")
            kind = m.lastgroup
            start = m.start(kind)
            toks.append((kind, m.group(kind), start))
            pos = m.end()
        return toks

    def _peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None, len(self.text))

    def _take(self, value=None):
        tok = self._peek()
        if tok[0] is None or (value is not None and tok[1] != value):
            if tok[0] is None:
                raise ArithError(f"syntax error: operand expected (error token is \"{self._rest()}\")")
            raise ArithError(f"syntax error: operand expected (error token is \"{self._rest()}\")")
        self.i += 1
        return tok

    # parsing into tuples
    def _comma(self):
        node = self._assign()
        while self._peek()[1] == ",":
            self.i += 1
            node = ("comma", node, self._assign())
        return node

    def _assign(self):
        tok = self._peek()
        if tok[0] == "name" and self.i + 1 < len(self.toks):
            op = self.toks[self.i + 1][1]
            if op in ("=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=", "|=", "**="):
                self.i += 2
                return ("assign", tok[1], op, self._assign())
        return self._ternary()

    def _ternary(self):
        cond = self._binary(0)
        if self._peek()[1] == "?":
            self.i += 1
            a = self._comma()
            self._take(":")
            b = self._ternary()
            return ("?:", cond, a, b)
        return cond

    def _binary(self, level: int):
        if level >= len(self._BIN):
            return self._power()
        node = self._binary(level + 1)
        while self._peek()[0] == "op" and self._peek()[1] in self._BIN[level]:
            op = self._take()[1]
            node = ("bin", op, node, self._binary(level + 1))
        return node

    def _power(self):
        base = self._unary()
        if self._peek()[1] == "**":
            self.i += 1
            return ("bin", "**", base, self._power())
        return base

    def _unary(self):
        tok = self._peek()
        if tok[0] == "op" and tok[1] in ("+", "-", "!", "~"):
            self.i += 1
            return ("un", tok[1], self._unary())
        if tok[0] == "op" and tok[1] in ("++", "--"):
            self.i += 1
            name = self._take()
            if name[0] != "name":
                raise ArithError(f"syntax error: operand expected (error token is \"{self._rest()}\")")
            return ("pre", tok[1], name[1])
        return self._postfix()

    def _postfix(self):
        tok = self._peek()
        if tok[0] == "num":
            self.i += 1
            return ("num", self._number(tok[1]))
        if tok[0] == "name":
            self.i += 1
            nxt = self._peek()
            if nxt[1] in ("++", "--"):
                self.i += 1
                return ("post", nxt[1], tok[1])
            return ("var", tok[1])
        if tok[1] == "(":
            self.i += 1
            self.parens = getattr(self, "parens", 0) + 1
            if self.parens > 40:
                raise ArithError("expression recursion level exceeded (error token is \"(\")")
            node = self._comma()
            self._take(")")
            self.parens -= 1
            return node
        raise ArithError(f"syntax error: operand expected (error token is \"{self._rest()}\")")

    def _number(self, text: str) -> int:
        try:
            if "#" in text:
                base, digits = text.split("#", 1)
                b = int(base)
                if not 2 <= b <= 64:
                    raise ArithError(f"invalid arithmetic base (error token is \"{text}\")")
                alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ@_"
                if b <= 36:
                    digits = digits.lower()
                v = 0
                for d in digits:
                    k = alphabet.find(d)
                    if k < 0 or k >= b:
                        raise ArithError(f"value too great for base (error token is \"{text}\")")
                    v = v * b + k
                return v
            if text.lower().startswith("0x"):
                return int(text, 16)
            if len(text) > 1 and text.startswith("0"):
                return int(text, 8)
            return int(text)
        except ValueError:
            raise ArithError(f"value too great for base (error token is \"{text}\")") from None

    def _var(self, name: str) -> int:
        raw = self.get(name)
        if raw is None or raw.strip() == "":
            return 0
        raw = raw.strip()
        if re.fullmatch(r"-?[0-9]+", raw):
            return _wrap64(int(raw))
        if self.depth > 20:
            raise ArithError("expression recursion level exceeded (error token is \"%s\")" % raw)
        return Arithmetic(self.get, self.set, self.depth + 1).evaluate(raw)

    def _eval(self, node) -> int:
        kind = node[0]
        if kind == "num":
            return _wrap64(node[1])
        if kind == "var":
            return self._var(node[1])
        if kind == "comma":
            self._eval(node[1])
            return self._eval(node[2])
        if kind == "assign":
            _, name, op, rhs = node
            value = self._eval(rhs)
            if op != "=":
                value = self._apply(op[:-1], self._var(name), value)
            self.set(name, str(value))
            return value
        if kind == "?:":
            return self._eval(node[2]) if self._eval(node[1]) else self._eval(node[3])
        if kind == "un":
            v = self._eval(node[2])
            return {"+": v, "-": _wrap64(-v), "!": int(not v), "~": _wrap64(~v)}[node[1]]
        if kind == "pre":
            v = self._var(node[2]) + (1 if node[1] == "++" else -1)
            self.set(node[2], str(v))
            return v
        if kind == "post":
            v = self._var(node[2])
            self.set(node[2], str(v + (1 if node[1] == "++" else -1)))
            return v
        if kind == "bin":
            op = node[1]
            if op == "&&":
                return int(bool(self._eval(node[2])) and bool(self._eval(node[3])))
            if op == "||":
                return int(bool(self._eval(node[2])) or bool(self._eval(node[3])))
            return self._apply(op, self._eval(node[2]), self._eval(node[3]))
        raise ArithError("syntax error")

    @staticmethod
    def _apply(op: str, a: int, b: int) -> int:
        if op in ("/", "%"):
            if b == 0:
                raise ArithError("division by 0 (error token is \"0\")")
            q = abs(a) // abs(b)
            if (a < 0) != (b < 0):
                q = -q
            return _wrap64(q if op == "/" else a - q * b)
        if op == "**":
            if b < 0:
                raise ArithError("exponent less than 0 (error token is \"%d\")" % b)
            return _wrap64(pow(a, b, 1 << 64))
        if op in ("<<", ">>"):
            b &= 63
            return _wrap64(a << b) if op == "<<" else a >> b
        return _wrap64({
            "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
            "<": lambda: int(a < b), ">": lambda: int(a > b), "<=": lambda: int(a <= b), ">=": lambda: int(a >= b),
            "==": lambda: int(a == b), "!=": lambda: int(a != b),
            "&": lambda: a & b, "|": lambda: a | b, "^": lambda: a ^ b,
        }[op]())


# ---------------------------------------------------------------------------
# the evaluator

_BASH_VERSION = "5.1.16(1)-release"
_MAX_NESTING = 24  # subshells, command substitutions, functions, eval and source inside each other
_DEFAULT_IFS = " \t\n"
_KEYWORDS = {"if", "then", "else", "elif", "fi", "case", "esac", "for", "select", "while", "until", "do",
             "done", "in", "function", "time", "{", "}", "!", "[[", "]]", "coproc"}
_SIGNAL_TEXT = {9: "Killed", 15: "Terminated", 1: "Hangup", 3: "Quit", 10: "User defined signal 1",
                12: "User defined signal 2"}


class ShellState:
    """Variables, functions, options and positional parameters of one shell (cloned for subshells)."""

    def __init__(self):
        self.vars: dict[str, str] = {}
        self.exported: set[str] = set()
        self.readonly: set[str] = set()
        self.functions: dict[str, FunctionDef] = {}
        self.aliases: dict[str, str] = {}
        self.options: set[str] = set()  # e u x f pipefail
        self.positional: list[str] = []
        self.arg0 = "bash"
        self.cwd = "/"
        self.status = 0
        self.last_bg: int | None = None
        self.jobs: list = []
        self.traps: dict[str, str] = {}
        self.locals: list[dict[str, str | None]] = []
        self.umask: int | None = None
        self.shell_pid = 0
        self.main = True

    def clone(self) -> "ShellState":
        s = ShellState.__new__(ShellState)
        s.__dict__.update(self.__dict__)
        s.vars = dict(self.vars)
        s.exported = set(self.exported)
        s.readonly = set(self.readonly)
        s.functions = dict(self.functions)
        s.aliases = dict(self.aliases)
        s.options = set(self.options)
        s.positional = list(self.positional)
        s.jobs = list(self.jobs)
        s.traps = {}
        s.locals = [dict(x) for x in self.locals]
        s.main = False
        return s

    def env(self) -> dict[str, str]:
        return {k: self.vars[k] for k in sorted(self.exported) if k in self.vars}


class _BuiltinProc:
    """Just enough of a Process to run a core utility in the shell itself (a builtin: no fork)."""

    def __init__(self, interp: "Interpreter", argv: list[str], io: IO, comm: str):
        p = interp.proc
        self.kernel = p.kernel
        self.pid = p.pid
        self.ns = p.ns
        self.uid = p.uid
        self.parent = p.parent
        self.argv = list(argv)
        self.env = interp.state.env()
        self.cwd = interp.state.cwd
        self.stdin = io.stdin.rest()
        self.stdout = io.out
        self.stderr = io.err
        self.comm = comm
        self.dash = interp.dialect == "sh"
        self.builtin = True
        self.signal_handlers: dict = {}
        self.cleanups: list = []
        self.exit_code = None

    fs = property(lambda self: self.ns.fs)
    loop = property(lambda self: self.kernel.loop)
    now = property(lambda self: self.kernel.loop.now)
    local_pid = property(lambda self: self.ns.pid.members.get(self.pid, self.pid))
    alive = property(lambda self: True)

    def path(self, p: str) -> str:
        return join(self.cwd, p)

    def write(self, text) -> None:
        self.stdout.write(text)

    def error(self, text) -> None:
        self.stderr.write(text)

    def fail(self, message: str, code: int = 1) -> int:
        self.error(f"{self.comm}: {message}\n")
        return code

    def sleep(self, seconds: float):
        return self.kernel.loop.timeout(seconds)

    def forever(self):
        return self.kernel.loop.event()

    def on_signal(self, sig, handler) -> None:
        pass


def _quote_for_trace(arg: str) -> str:
    if arg and re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", arg):
        return arg
    return shlex.quote(arg)


class Interpreter:
    """Runs parsed shell code for one shell process (or an in-process subshell of it)."""

    def __init__(self, proc, dialect: str, state: ShellState, *, mode: str = "-c", script: str = "",
                 parent: "Interpreter | None" = None):
        self.proc = proc
        self.dialect = dialect
        self.bash = dialect == "bash"
        self.state = state
        self.mode = mode  # "-c", "script" or "stdin"
        self.script = script
        self.root: Interpreter = parent.root if parent is not None else self
        self.parent = parent
        if parent is None:
            self.foreground: set = set()
            self.nesting = 0
            self.loop_ticks = 0
            self.tick_time = -1.0
            self.lineno = 1
            self.cmdsub_status: int | None = None
            self.func_depth = 0
            self.func_names: list[str] = []
            self.no_errexit = 0  # > 0 while running a condition: `set -e` does not apply there
            self.loop_depth = 0
            self.sourcing = 0
            self.rng = None
            self.started = proc.kernel.loop.now

    # -- small helpers -----------------------------------------------------------------
    @property
    def kernel(self):
        return self.proc.kernel

    @property
    def fs(self):
        return self.proc.ns.fs

    def prefix(self) -> str:
        """What error messages start with: ``bash: ``, ``sh: 1: ``, ``script.sh: line 3: ``."""
        line = self.root.lineno
        if self.dialect == "sh":
            name = self.state.arg0 if self.mode == "script" else "sh"
            return f"{name}: {line}: "
        if self.mode == "script":
            return f"{self.state.arg0}: line {line}: "
        if self.mode == "stdin":
            return f"bash: line {line}: "
        return "bash: "

    def err(self, io: IO, message: str) -> None:
        io.err.write(f"{self.prefix()}{message}\n")

    def _sync(self) -> None:
        """Publish cwd and exported variables to the process (the Machine keeps them)."""
        if self.state.main and self.parent is None:
            self.proc.cwd = self.state.cwd
            self.proc.env = self.state.env()

    def _tick(self) -> Gen:
        """Loops cost simulated CPU time once they run long (so runaway loops end on timeout)."""
        root = self.root
        now = self.kernel.loop.now
        if now != root.tick_time:
            root.tick_time = now
            root.loop_ticks = 0
        root.loop_ticks += 1
        if root.loop_ticks > 10000 and root.loop_ticks % 100 == 0:
            yield self.proc.sleep(1.0)
            root.tick_time = self.kernel.loop.now
            root.loop_ticks = 10001

    def _nest(self, io: IO) -> bool:
        if self.root.nesting >= _MAX_NESTING:
            self.err(io, f"maximum nesting level exceeded ({_MAX_NESTING})")
            return False
        self.root.nesting += 1
        return True

    def _unnest(self) -> None:
        self.root.nesting -= 1

    # -- variables -------------------------------------------------------------------------
    def get_var(self, name: str) -> str | None:
        st = self.state
        if name in st.vars:
            return st.vars[name]
        dynamic = {
            "RANDOM": self._random, "SECONDS": lambda: str(int(self.kernel.loop.now - self.root.started)),
            "UID": lambda: str(self.proc.uid), "EUID": lambda: str(self.proc.uid),
            "PPID": self._ppid, "HOSTNAME": lambda: self.proc.ns.hostname,
            "BASHPID": lambda: str(self.proc.ns.pid.members.get(self.proc.pid, self.proc.pid)),
            "LINENO": lambda: str(self.root.lineno), "IFS": lambda: _DEFAULT_IFS,
            "OPTIND": lambda: "1", "PS4": lambda: "+ ",
            "FUNCNAME": lambda: self.root.func_names[-1] if self.root.func_names else None,
        }
        bash_only = {"BASH_VERSION": lambda: _BASH_VERSION, "BASH": lambda: "/usr/bin/bash",
                     "OSTYPE": lambda: "linux-gnu", "HOSTTYPE": lambda: "x86_64", "SHELLOPTS": self._shellopts}
        fn = dynamic.get(name) or (bash_only.get(name) if self.bash else None)
        return fn() if fn is not None else None

    def _random(self) -> str:
        root = self.root
        if root.rng is None:
            world = getattr(self.kernel.owner, "world", None)
            seed = getattr(world, "seed", 0)
            root.rng = random.Random(f"{seed}:{self.proc.pid}:{self.proc.ns.hostname}")
        return str(root.rng.randrange(32768))

    def _ppid(self) -> str:
        parent = self.proc.parent
        if parent is None:
            return "0" if self.proc.ns.pid.parent is not None else "1"
        return str(self.proc.ns.pid.members.get(parent.pid, 0))

    def _shellopts(self) -> str:
        names = {"e": "errexit", "u": "nounset", "x": "xtrace", "f": "noglob", "pipefail": "pipefail"}
        return ":".join(sorted(["braceexpand", "hashall", "interactive-comments"] +
                               [names[o] for o in self.state.options if o in names]))

    def set_var(self, name: str, value: str, io: IO | None = None, *, append: bool = False) -> bool:
        st = self.state
        if name in st.readonly:
            if io is not None:
                self.err(io, f"{name}: readonly variable")
            return False
        if append:
            value = (st.vars.get(name) or "") + value
        st.vars[name] = value
        if "a" in st.options:
            st.exported.add(name)
        if name in st.exported:
            self._sync()
        return True

    def unset_var(self, name: str) -> None:
        self.state.vars.pop(name, None)
        self.state.exported.discard(name)
        self._sync()

    def get_param(self, name: str) -> str | None:
        st = self.state
        if name == "?":
            return str(st.status)
        if name == "$":
            return str(st.shell_pid)
        if name == "#":
            return str(len(st.positional))
        if name in ("@", "*"):
            sep = (self.get_var("IFS") or "")[:1] if name == "*" else " "
            return sep.join(st.positional)
        if name == "!":
            return None if st.last_bg is None else str(st.last_bg)
        if name == "-":
            flags = "".join(sorted(o for o in st.options if len(o) == 1)) + ("hB" if self.bash else "")
            return flags + ("c" if self.mode == "-c" else "")
        if name == "0":
            return st.arg0
        if name.isdigit():
            i = int(name)
            return st.positional[i - 1] if 0 < i <= len(st.positional) else None
        return self.get_var(name)

    def arith(self, text: str, io: IO) -> int:
        def set_(n: str, v: str) -> None:
            if n in self.state.readonly:
                raise ArithError(f"{n}: readonly variable")
            self.set_var(n, v)
        try:
            return Arithmetic(self.get_var, set_).evaluate(text)
        except ArithError as e:
            raise ShellFatal(f"{text.strip()}: {e}") from None
        except RecursionError:
            raise ShellFatal(f"{text.strip()}: expression recursion level exceeded") from None

    # -- expansion --------------------------------------------------------------------------
    def expand_segments(self, parts: list, io: IO, quoted: bool = False, first: bool = True) -> Gen:
        """Expand word parts into segments ``(kind, text)``: kind is lit, quoted, exp or break."""
        segs: list = []
        for idx, part in enumerate(parts):
            if isinstance(part, Lit):
                text = part.text
                if quoted:
                    segs.append(("quoted", text))
                    continue
                if idx == 0 and first and text.startswith("~"):
                    tilde, rest = self._tilde(text)
                    if tilde is not None:
                        segs.append(("quoted", tilde))
                        if rest:
                            segs.append(("lit", rest))
                        continue
                segs.append(("lit", text))
            elif isinstance(part, Quoted):
                segs.append(("quoted", part.text))
            elif isinstance(part, DQ):
                segs.append(("quoted", ""))
                segs.extend((yield from self.expand_segments(part.parts, io, True, False)))
            elif isinstance(part, Param):
                segs.extend((yield from self.expand_param(part, io, quoted)))
            elif isinstance(part, CmdSub):
                out = yield from self.command_substitution(part.node, io)
                segs.append(("quoted" if quoted else "exp", out))
            elif isinstance(part, Arith):
                text = yield from self.expand_string(part.parts, io, quoted=True)
                value = self.arith(text, io)
                segs.append(("quoted" if quoted else "exp", str(value)))
            elif isinstance(part, BadSubst):
                raise ShellFatal(f"{part.src}: bad substitution")
        return segs

    def _tilde(self, text: str) -> tuple[str | None, str]:
        head, sep, rest = text.partition("/")
        user = head[1:]
        if user == "":
            home = self.get_var("HOME")
            if home is None:
                home = coreutils.user_home(self.proc, coreutils.user_name(self.proc, self.proc.uid)) or "/"
        elif user == "+":
            home = self.state.cwd
        elif user == "-":
            home = self.get_var("OLDPWD")
        else:
            home = coreutils.user_home(self.proc, user)
        if home is None:
            return None, text
        return home, sep + rest

    def expand_string(self, parts: list, io: IO, quoted: bool = True) -> Gen:
        """Expand to one string (no field splitting, no globbing)."""
        segs = yield from self.expand_segments(parts, io, quoted)
        out = []
        for seg in segs:
            if seg[0] == "break":
                out.append(" ")
            elif seg[0] != "drop":
                out.append(seg[1])
        return "".join(out)

    def expand_pattern(self, parts: list, io: IO) -> Gen:
        """Expand to a glob pattern: quoted characters are escaped."""
        segs = yield from self.expand_segments(parts, io, False)
        out = []
        for kind, *rest in segs:
            if kind == "break":
                out.append(" ")
            elif kind == "drop":
                continue
            elif kind == "quoted":
                out.append(_glob_escape(rest[0]))
            else:
                out.append(rest[0])
        return "".join(out)

    def expand_param(self, part: Param, io: IO, quoted: bool) -> Gen:
        st = self.state
        name = part.name
        kind = "quoted" if quoted else "exp"
        if part.indirect:
            target = self.get_param(name)
            if target is None or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!]", target):
                raise ShellFatal(f"{part.src}: invalid indirect expansion")
            name = target
        op = part.op
        if name in ("@", "*") and op is None:
            if not st.positional:
                if quoted:
                    return [("drop",)] if name == "@" else [("quoted", "")]
                return []
            if quoted and name == "*":
                return [("quoted", ((self.get_var("IFS") if "IFS" in st.vars else " ") or "")[:1].join(st.positional))]
            segs = []
            for i, arg in enumerate(st.positional):
                if i:
                    segs.append(("break",))
                segs.append((kind, arg))
            return segs
        val = self.get_param(name)
        if op is None:
            if val is None and "u" in st.options and name not in ("@", "*"):
                raise ShellFatal(f"{name}: unbound variable")
            return [(kind, val or "")]
        if op == "len":
            if name in ("@", "*"):
                return [(kind, str(len(st.positional)))]
            if val is None and "u" in st.options:
                raise ShellFatal(f"{name}: unbound variable")
            return [(kind, str(len(val or "")))]
        if op in (":-", "-", ":=", "=", ":+", "+", ":?", "?"):
            missing = val is None or (op.startswith(":") and val == "")
            base = op.lstrip(":")
            if base == "-":
                if missing:
                    return (yield from self.expand_segments(part.arg or [], io, quoted, False))
                return [(kind, val)]
            if base == "=":
                if missing:
                    new = yield from self.expand_string(part.arg or [], io)
                    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                        raise ShellFatal(f"${name}: cannot assign in this way")
                    self.set_var(name, new, io)
                    return [(kind, new)]
                return [(kind, val)]
            if base == "+":
                if not missing:
                    return (yield from self.expand_segments(part.arg or [], io, quoted, False))
                return [(kind, "")]
            if missing:
                msg = yield from self.expand_string(part.arg or [], io)
                if not msg:
                    msg = "parameter null or not set" if op == ":?" or val is None else "parameter not set"
                raise ShellFatal(f"{name}: {msg}")
            return [(kind, val)]
        if val is None and "u" in st.options:
            raise ShellFatal(f"{name}: unbound variable")
        val = val or ""
        if op in ("#", "##", "%", "%%"):
            pat = yield from self.expand_pattern(part.arg or [], io)
            rx = re.compile(glob_to_regex(pat))
            n = len(val)
            if op == "#":
                rng = range(0, n + 1)
            elif op == "##":
                rng = range(n, -1, -1)
            elif op == "%":
                rng = range(n, -1, -1)
            else:
                rng = range(0, n + 1)
            for i in rng:
                if op.startswith("#") and rx.fullmatch(val[:i]):
                    return [(kind, val[i:])]
                if op.startswith("%") and rx.fullmatch(val[i:]):
                    return [(kind, val[:i])]
            return [(kind, val)]
        if op in ("/", "//", "/#", "/%"):
            pat = yield from self.expand_pattern(part.arg or [], io)
            rep = yield from self.expand_string(part.arg2 or [], io)
            if not pat:
                return [(kind, val)]
            rx = glob_to_regex(pat)
            if op == "/#":
                rx = "^" + rx
            elif op == "/%":
                rx = rx + "$"
            out = re.sub(rx, lambda m: rep, val, count=0 if op == "//" else 1)
            return [(kind, out)]
        if op == ":":
            off_text = yield from self.expand_string(part.arg or [], io)
            off = self.arith(off_text, io) if off_text.strip() else 0
            if off < 0:
                off = max(0, len(val) + off)
            if part.arg2 is not None:
                len_text = yield from self.expand_string(part.arg2, io)
                ln = self.arith(len_text, io) if len_text.strip() else 0
                if ln < 0:
                    end = len(val) + ln
                    if end < off:
                        raise ShellFatal(f"{len_text.strip()}: substring expression < 0")
                    return [(kind, val[off:end])]
                return [(kind, val[off:off + ln])]
            return [(kind, val[off:])]
        if op in ("^^", "^", ",,", ","):
            if op == "^^":
                return [(kind, val.upper())]
            if op == ",,":
                return [(kind, val.lower())]
            if op == "^":
                return [(kind, val[:1].upper() + val[1:])]
            return [(kind, val[:1].lower() + val[1:])]
        raise ShellFatal(f"{part.src}: bad substitution")

    def expand_word(self, word: Word, io: IO, *, glob: bool = True) -> Gen:
        """Expand one word into fields (brace expansion, expansions, field splitting, globbing)."""
        variants = _brace_expand(word.parts) if self.bash else [word.parts]
        fields: list[str] = []
        for parts in variants:
            segs = yield from self.expand_segments(parts, io)
            fields.extend(self._split_and_glob(segs, glob and "f" not in self.state.options))
        return fields

    def _split_and_glob(self, segs: list, glob: bool) -> list[str]:
        ifs = self.state.vars.get("IFS", _DEFAULT_IFS)
        ws = "".join(c for c in ifs if c in " \t\n")
        fields: list[tuple[str, str, bool]] = []
        pat: list[str] = []
        lit: list[str] = []
        active = False
        globby = False

        def end_field(force: bool = False) -> None:
            nonlocal active, globby
            if active or force:
                fields.append(("".join(pat), "".join(lit), globby))
            pat.clear()
            lit.clear()
            active = False
            globby = False

        drop_only = all(s[0] == "drop" for s in segs) and segs
        for seg in segs:
            kind = seg[0]
            if kind == "drop":
                continue
            if kind == "break":
                end_field(True)
                continue
            text = seg[1]
            if kind == "quoted":
                pat.append(_glob_escape(text))
                lit.append(text)
                active = True
            elif kind == "lit":
                pat.append(text)
                lit.append(text)
                active = True
                if any(c in text for c in "*?["):
                    globby = True
            else:  # exp: split on IFS
                for ch in text:
                    if ch in ifs:
                        if ch in ws:
                            end_field()
                        else:
                            end_field(True)
                    else:
                        pat.append(_glob_escape(ch) if ch == "\\" else ch)
                        lit.append(ch)
                        active = True
                        if ch in "*?[":
                            globby = True
        end_field()
        if drop_only:
            return []
        out: list[str] = []
        for p, l, g in fields:
            if glob and g and _has_glob(p):
                matches = _glob(self.fs, self.state.cwd, p)
                if matches:
                    out.extend(matches)
                    continue
            out.append(l)
        return out

    def expand_words(self, words: list, io: IO) -> Gen:
        argv: list[str] = []
        for w in words:
            argv.extend((yield from self.expand_word(w, io)))
        return argv

    def command_substitution(self, node: ListNode, io: IO) -> Gen:
        # $(< file) reads the file
        if (len(node.items) == 1 and not node.items[0][1] and not node.items[0][0].rest
                and len(node.items[0][0].first.commands) == 1):
            cmd = node.items[0][0].first.commands[0]
            if (isinstance(cmd, SimpleCommand) and not cmd.words and not cmd.assigns and len(cmd.redirects) == 1
                    and cmd.redirects[0].op == "<"):
                path = yield from self.expand_string(cmd.redirects[0].target.parts, io, quoted=False)
                try:
                    if not coreutils.can_read(self.proc, join(self.state.cwd, path)):
                        raise FsError(f"{path}: Permission denied", errno="EACCES")
                    data = self.fs.read(join(self.state.cwd, path))
                except FsError as e:
                    self.err(io, f"{path}: {_errno_text(e)}")
                    self.root.cmdsub_status = 1
                    return ""
                self.root.cmdsub_status = 0
                return data.decode("utf-8", errors="replace").rstrip("\n")
        out = Pipe()
        sub_io = IO({0: io.fds.get(0, InputBuffer()), 1: out, 2: io.err})
        code = yield from self.run_subshell(node, sub_io)
        self.root.cmdsub_status = code
        self.state.status = code
        return out.text().rstrip("\n")

    # -- redirections --------------------------------------------------------------------
    def redirect(self, redirects: list, io: IO) -> Gen:
        """A new IO with ``redirects`` applied; returns None (after printing why) on failure."""
        new = io.copy()
        for r in redirects:
            op = r.op
            if r.heredoc is not None:
                doc = r.heredoc
                if doc.quoted:
                    text = doc.body
                else:
                    text = yield from self.expand_string(doc.parts, io)
                new.fds[r.fd if r.fd is not None else 0] = InputBuffer(text.encode())
                continue
            if op == "<<<":
                text = yield from self.expand_string(r.target.parts, io, quoted=False)
                new.fds[r.fd if r.fd is not None else 0] = InputBuffer((text + "\n").encode())
                continue
            fields = yield from self.expand_word(r.target, io)
            if len(fields) != 1:
                self.err(io, f"{r.target.raw}: ambiguous redirect")
                return None
            target = fields[0]
            if op in (">&", "<&"):
                default_fd = 1 if op == ">&" else 0
                fd = r.fd if r.fd is not None else default_fd
                if target == "-":
                    new.fds[fd] = NullStream() if fd else InputBuffer()
                    continue
                if re.fullmatch(r"[0-9]+", target):
                    src = int(target)
                    if src not in new.fds:
                        self.err(io, f"{src}: Bad file descriptor")
                        return None
                    new.fds[fd] = new.fds[src]
                    continue
                if op == "<&":
                    self.err(io, f"{target}: ambiguous redirect")
                    return None
                op = "&>"  # `>& file` is `&> file`
            if op in ("<", "<>"):
                path = join(self.state.cwd, target)
                try:
                    if op == "<>" and not self.fs.exists(path):
                        stream = self.open_output(target, io, append=True)
                        if stream is None:
                            return None
                    if not coreutils.can_read(self.proc, path):
                        self.err(io, f"{target}: Permission denied")
                        return None
                    data = self.fs.read(path)
                except FsError as e:
                    self.err(io, f"{target}: {_errno_text(e)}")
                    return None
                new.fds[r.fd if r.fd is not None else 0] = InputBuffer(data)
                continue
            append = op in (">>", "&>>")
            stream = self.open_output(target, new, append=append)
            if stream is None:
                return None
            if op in ("&>", "&>>"):
                new.fds[1] = stream
                new.fds[2] = stream
            else:
                new.fds[r.fd if r.fd is not None else 1] = stream
        return new

    def open_output(self, target: str, io: IO, *, append: bool) -> Stream | None:
        if target in ("/dev/null",):
            return NullStream()
        if target == "/dev/stdout":
            return io.out
        if target in ("/dev/stderr", "/dev/tty"):
            return io.err if target == "/dev/stderr" else io.out
        path = join(self.state.cwd, target)
        fs = self.fs
        try:
            if fs.is_dir(path):
                self.err(io, f"{target}: Is a directory")
                return None
            parent = posixpath.dirname(path)
            if not fs.exists(parent):
                self.err(io, f"{target}: No such file or directory")
                return None
            if not fs.is_dir(parent):
                self.err(io, f"{target}: Not a directory")
                return None
            if not coreutils.can_write(self.proc, path):
                self.err(io, f"{target}: Permission denied")
                return None
            if fs.exists(path):
                if not append:
                    fs.write(path, b"")
            else:
                uid = self.proc.uid
                gid = coreutils.user_gid(self.proc, uid)
                umask = self.state.umask if self.state.umask is not None else coreutils.default_umask(self.proc)
                fs.write(path, b"", mode=0o666 & ~umask, uid=uid, gid=gid)
            coreutils.touch_mtime(self.proc, path)
        except FsError as e:
            self.err(io, f"{target}: {_errno_text(e)}")
            return None
        return FileStream(fs, path)

    # -- running ---------------------------------------------------------------------------
    def run_script_text(self, text: str, io: IO) -> Gen:
        """Parse and run ``text`` one complete command at a time (like a real shell reads it)."""
        parser = Parser(text, bash=self.bash)
        status = 0
        shown = 0
        while True:
            try:
                node = parser.next_complete_command()
            except ShellSyntaxError as e:
                self._report_warnings(parser, io, shown)
                self.report_syntax_error(e, text, io)
                return 2
            shown = self._report_warnings(parser, io, shown)
            if node is None:
                return status
            status = yield from self.run_list(node, io)
            self._sync()

    def _report_warnings(self, parser: Parser, io: IO, shown: int) -> int:
        for w in parser.lx.warnings[shown:]:
            if self.bash:
                self.err(io, f"warning: {w}")
        return len(parser.lx.warnings)

    def report_syntax_error(self, e: ShellSyntaxError, text: str, io: IO) -> None:
        line = e.line
        self.root.lineno = line
        if self.dialect == "sh":
            name = self.state.arg0 if self.mode == "script" else "sh"
            if e.kind == "quote":
                msg = "Syntax error: Unterminated quoted string"
            elif e.kind == "eof":
                msg = "Syntax error: end of file unexpected" + (f' (expecting "{e.expecting}")' if e.expecting else "")
            else:
                tok = e.token if e.token != "newline" else "newline"
                msg = f'Syntax error: "{tok}" unexpected' if tok != "newline" else "Syntax error: newline unexpected"
                if e.token in ("(", ")") and "nested" in e.message:
                    msg = "Syntax error: expression nested too deeply"
            io.err.write(f"{name}: {line}: {msg}\n")
            return
        where = "-c" if self.mode == "-c" else self.state.arg0
        if self.mode == "stdin":
            head = f"bash: line {line}: "
        else:
            head = f"bash: {where}: line {line}: " if self.mode == "-c" else f"{where}: line {line}: "
        io.err.write(f"{head}{e.message}\n")
        if e.kind == "token":
            lines = text.split("\n")
            src = lines[line - 1] if 0 < line <= len(lines) else ""
            io.err.write(f"{head}`{src}'\n")
        elif e.kind == "quote":
            io.err.write(f"{head.replace(f'line {line}', f'line {line + 1}')}syntax error: unexpected end of file\n")

    def run_node(self, node, io: IO) -> Gen:
        if isinstance(node, ListNode):
            return (yield from self.run_list(node, io))
        if isinstance(node, AndOr):
            return (yield from self.run_and_or(node, io))
        if isinstance(node, Pipeline):
            return (yield from self.run_pipeline(node, io))
        return (yield from self.run_command(node, io))

    def run_list(self, node: ListNode, io: IO) -> Gen:
        status = self.state.status
        for ao, background in node.items:
            if background:
                status = yield from self.run_background(ao, io)
            else:
                status = yield from self.run_and_or(ao, io)
        return status

    def run_and_or(self, ao: AndOr, io: IO, *, errexit_ok: bool = True) -> Gen:
        pipelines = [ao.first] + [pl for _, pl in ao.rest]
        ops = [None] + [op for op, _ in ao.rest]
        status = 0
        for i, pl in enumerate(pipelines):
            if i and (ops[i] == "&&") != (status == 0):
                continue
            last = i == len(pipelines) - 1
            if last and errexit_ok:
                status = yield from self.run_pipeline(pl, io, checked=True)
            else:
                self.root.no_errexit += 1
                try:
                    status = yield from self.run_pipeline(pl, io)
                finally:
                    self.root.no_errexit -= 1
        return status

    def run_pipeline(self, pl: Pipeline, io: IO, *, checked: bool = False) -> Gen:
        start = self.kernel.loop.now
        if pl.negate:
            self.root.no_errexit += 1
        try:
            status = yield from self._run_stages(pl, io, checked and not pl.negate)
        finally:
            if pl.negate:
                self.root.no_errexit -= 1
        if pl.negate:
            status = 0 if status else 1
        self.state.status = status
        if pl.timed:
            elapsed = self.kernel.loop.now - start
            io.err.write(f"\nreal\t{int(elapsed // 60)}m{elapsed % 60:.3f}s\nuser\t0m0.000s\nsys\t0m0.000s\n")
        if checked and status != 0 and self._errexit() and not pl.negate:
            raise ExitShell(status)
        return status

    def _errexit(self) -> bool:
        return "e" in self.state.options and self.root.no_errexit == 0

    def _run_stages(self, pl: Pipeline, io: IO, checked: bool) -> Gen:
        if len(pl.commands) == 1:
            status = yield from self.run_command(pl.commands[0], io, checked=checked)
        else:
            data = None
            codes = []
            for i, cmd in enumerate(pl.commands):
                last = i == len(pl.commands) - 1
                fds = dict(io.fds)
                if i:
                    fds[0] = InputBuffer(data)
                out = io.out if last else Pipe()
                fds[1] = out
                if pl.pipe_stderr[i] and not last:
                    fds[2] = out
                code = yield from self.run_subshell(cmd, IO(fds))
                codes.append(code)
                if not last:
                    data = out.getvalue()
            status = codes[-1]
            if "pipefail" in self.state.options:
                status = next((c for c in reversed(codes) if c != 0), 0)
        return status

    def run_subshell(self, node, io: IO) -> Gen:
        if not self._nest(io):
            return 1
        sub = Interpreter(self.proc, self.dialect, self.state.clone(), mode=self.mode, script=self.script,
                          parent=self)
        try:
            code = yield from sub.run_node(node, io)
        except ExitShell as e:
            code = e.code
        except (ReturnFunc, LoopControl) as e:
            code = getattr(e, "code", 0)
        except ShellFatal as e:
            sub.err(io, e.message)
            code = e.code
        finally:
            self._unnest()
        yield from sub.run_exit_trap(io)
        return code

    def run_background(self, ao: AndOr, io: IO) -> Gen:
        bg_io = io.copy()
        bg_io.fds[0] = InputBuffer()
        simple = None
        if not ao.rest and len(ao.first.commands) == 1 and not ao.first.negate:
            cmd = ao.first.commands[0]
            if isinstance(cmd, SimpleCommand) and cmd.words:
                first = cmd.words[0].literal()
                if first is not None and first not in self.state.functions and first not in self._builtins():
                    simple = cmd
        pidns = self.proc.ns.pid
        first_pid = pidns.next_pid
        if simple is not None:
            argv = yield from self.expand_words(simple.words, io)
            env = self.state.env()
            for a in simple.assigns:
                env[a.name] = yield from self.expand_string(a.value.parts, io, quoted=False)
            rio = yield from self.redirect(simple.redirects, bg_io)
            if rio is None or not argv:
                return 1
            child = self.spawn(argv, env, rio)
            if isinstance(child, int):  # it could not start; the launch itself succeeded (like bash)
                self.state.status = 0
                return 0
        else:
            state = self.state.clone()
            dialect, mode, script = self.dialect, self.mode, self.script

            def job(p) -> Gen:
                interp = Interpreter(p, dialect, state, mode=mode, script=script)
                try:
                    return (yield from interp.run_node(ao, bg_io))
                except ExitShell as e:
                    return e.code
                except ShellFatal as e:
                    interp.err(bg_io, e.message)
                    return e.code
                except (ReturnFunc, LoopControl):
                    return 0

            child = self.kernel.start(job, [self.dialect], ns=self.proc.ns, env=self.state.env(),
                                      cwd=self.state.cwd, stdin=b"", stdout=bg_io.out, stderr=bg_io.err,
                                      uid=self.proc.uid, parent=self.proc)
        child.shell_pid = child.pid if pidns.parent is None else first_pid  # its pid as this shell sees it
        self.state.jobs.append(child)
        self.state.last_bg = child.shell_pid
        self.state.status = 0
        return 0

    def spawn(self, argv: list[str], env: dict, io: IO, *, wait: bool = False):
        """Start a program; returns the Process, or an exit code if it could not be started."""
        k = self.kernel
        try:
            return k.spawn(argv, ns=self.proc.ns, env=env, cwd=self.state.cwd, stdin=io.stdin.rest(),
                           stdout=io.out, stderr=io.err, uid=self.proc.uid, parent=self.proc)
        except ExecError as e:
            name = argv[0]
            if e.errno == "ENOEXEC":
                try:
                    path = k.find_executable(self.proc.ns, name, env, self.state.cwd)
                    data = self.fs.read(path)
                except (ExecError, FsError):
                    data = b"\0"
                if b"\0" not in data[:1024]:  # a text file without #!: run it as a shell script
                    fn = _PROGRAM_FNS[self.dialect]
                    return k.start(fn, [self.dialect, path, *argv[1:]], ns=self.proc.ns, env=env,
                                   cwd=self.state.cwd, stdin=io.stdin.rest(), stdout=io.out, stderr=io.err,
                                   uid=self.proc.uid, parent=self.proc)
            if e.errno == "ENOENT" and e.message == "not found":
                if self.dialect == "sh":
                    self.err(io, f"{name}: not found")
                else:
                    self.err(io, f"{name}: command not found")
            else:
                self.err(io, f"{name}: {e.message}")
            return e.exit_code
        except FsError as e:
            self.err(io, f"{argv[0]}: {_errno_text(e)}")
            return 126
        except AivleError as e:
            io.err.write(f"{argv[0]}: {e.message}\n")
            return 1

    def wait_child(self, child, io: IO, cmd_text: str = "") -> Gen:
        if child.alive:
            self.root.foreground.add(child)
            try:
                yield child.exited
            finally:
                self.root.foreground.discard(child)
        sig = getattr(child, "killed_by", None)
        if sig in _SIGNAL_TEXT and sig != SIGNALS["INT"]:
            pid = child.ns.pid.members.get(child.pid, child.pid)
            where = self.prefix() if self.mode != "-c" else ("bash: line %d: " % self.root.lineno if self.bash else self.prefix())
            io.err.write(f"{where}{pid:>5} {_SIGNAL_TEXT[sig]:<23} {cmd_text}\n")
        return child.exit_code if child.exit_code is not None else 1

    # -- commands ---------------------------------------------------------------------------
    def run_command(self, cmd, io: IO, *, checked: bool = False) -> Gen:
        if isinstance(cmd, SimpleCommand):
            return (yield from self.run_simple(cmd, io))
        if isinstance(cmd, FunctionDef):
            self.state.functions[cmd.name] = cmd
            self.state.status = 0
            return 0
        rio = yield from self.redirect(cmd.redirects, io)
        if rio is None:
            self.state.status = 1
            return 1
        if isinstance(cmd, BraceGroup):
            status = yield from self.run_list(cmd.body, rio)
        elif isinstance(cmd, Subshell):
            status = yield from self.run_subshell(cmd.body, rio)
            if checked and status and self._errexit():
                raise ExitShell(status)
        elif isinstance(cmd, If):
            status = yield from self.run_if(cmd, rio)
        elif isinstance(cmd, While):
            status = yield from self.run_while(cmd, rio)
        elif isinstance(cmd, For):
            status = yield from self.run_for(cmd, rio)
        elif isinstance(cmd, ArithFor):
            status = yield from self.run_arith_for(cmd, rio)
        elif isinstance(cmd, Case):
            status = yield from self.run_case(cmd, rio)
        elif isinstance(cmd, ArithCommand):
            self.root.lineno = cmd.line
            text = yield from self.expand_string(cmd.parts, rio)
            status = 0 if self.arith(text, rio) else 1
            if checked and status and self._errexit():
                raise ExitShell(status)
        elif isinstance(cmd, CondCommand):
            self.root.lineno = cmd.line
            status = yield from self.run_cond(cmd, rio)
            if checked and status and self._errexit():
                raise ExitShell(status)
        else:  # pragma: no cover
            status = 1
        self.state.status = status
        return status

    def run_cond_list(self, node: ListNode, io: IO) -> Gen:
        """A condition list (if/while): ``set -e`` does not apply to it, nor to functions it calls."""
        self.root.no_errexit += 1
        try:
            return (yield from self.run_list(node, io))
        finally:
            self.root.no_errexit -= 1

    def run_if(self, cmd: If, io: IO) -> Gen:
        for cond, body in cmd.clauses:
            if (yield from self.run_cond_list(cond, io)) == 0:
                return (yield from self.run_list(body, io))
        if cmd.else_body is not None:
            return (yield from self.run_list(cmd.else_body, io))
        return 0

    def _loop_body(self, body: ListNode, io: IO) -> Gen:
        """Run a loop body; returns (status, action) where action is None, 'break' or 'continue'."""
        try:
            status = yield from self.run_list(body, io)
        except LoopControl as e:
            if e.levels > 1:
                e.levels -= 1
                raise
            return self.state.status, e.kind
        return status, None

    def run_while(self, cmd: While, io: IO) -> Gen:
        status = 0
        self.root.loop_depth += 1
        try:
            while True:
                yield from self._tick()
                c = yield from self.run_cond_list(cmd.cond, io)
                if (c == 0) == cmd.until:
                    break
                status, action = yield from self._loop_body(cmd.body, io)
                if action == "break":
                    break
        finally:
            self.root.loop_depth -= 1
        return status

    def run_for(self, cmd: For, io: IO) -> Gen:
        if cmd.words is None:
            items = list(self.state.positional)
        else:
            items = yield from self.expand_words(cmd.words, io)
        status = 0
        self.root.loop_depth += 1
        try:
            for item in items:
                yield from self._tick()
                if not self.set_var(cmd.var, item, io):
                    return 1
                status, action = yield from self._loop_body(cmd.body, io)
                if action == "break":
                    break
        finally:
            self.root.loop_depth -= 1
        return status

    def run_arith_for(self, cmd: ArithFor, io: IO) -> Gen:
        status = 0
        init = yield from self.expand_string(cmd.init, io)
        if init.strip():
            self.arith(init, io)
        self.root.loop_depth += 1
        try:
            while True:
                yield from self._tick()
                cond = yield from self.expand_string(cmd.cond, io)
                if cond.strip() and not self.arith(cond, io):
                    break
                status, action = yield from self._loop_body(cmd.body, io)
                if action == "break":
                    break
                step = yield from self.expand_string(cmd.step, io)
                if step.strip():
                    self.arith(step, io)
        finally:
            self.root.loop_depth -= 1
        return status

    def run_case(self, cmd: Case, io: IO) -> Gen:
        word = yield from self.expand_string(cmd.word.parts, io, quoted=False)
        status = 0
        fall = False
        for patterns, body, term in cmd.items:
            matched = fall
            if not matched:
                for p in patterns:
                    pat = yield from self.expand_pattern(p.parts, io)
                    if re.fullmatch(glob_to_regex(pat), word):
                        matched = True
                        break
            if matched:
                status = yield from self.run_list(body, io)
                if term == ";&":
                    fall = True
                    continue
                if term == ";;&":
                    fall = False
                    continue
                return status
        return status

    def run_cond(self, cmd: CondCommand, io: IO) -> Gen:
        """``[[ ... ]]``: test expressions with pattern matching, no splitting or globbing."""
        elems = cmd.elems
        pos = 0

        def peek():
            return elems[pos] if pos < len(elems) else None

        def text_of(e) -> Gen:
            if isinstance(e, Word):
                return (yield from self.expand_string(e.parts, io, quoted=False))
            return e

        def is_op(e, *ops) -> bool:
            if isinstance(e, Word):
                return e.literal() in ops
            return e in ops

        def or_expr() -> Gen:
            nonlocal pos
            v = yield from and_expr()
            while is_op(peek(), "||"):
                pos += 1
                rhs = yield from and_expr()
                v = v or rhs
            return v

        def and_expr() -> Gen:
            nonlocal pos
            v = yield from not_expr()
            while is_op(peek(), "&&"):
                pos += 1
                rhs = yield from not_expr()
                v = v and rhs
            return v

        def not_expr() -> Gen:
            nonlocal pos
            if is_op(peek(), "!"):
                pos += 1
                v = yield from not_expr()
                return not v
            return (yield from primary())

        def primary() -> Gen:
            nonlocal pos
            e = peek()
            if e is None:
                raise ShellFatal("syntax error in conditional expression", 2)
            if is_op(e, "("):
                pos += 1
                v = yield from or_expr()
                if not is_op(peek(), ")"):
                    raise ShellFatal("syntax error in conditional expression", 2)
                pos += 1
                return v
            if isinstance(e, Word) and e.literal() in coreutils.UNARY_TESTS and pos + 1 < len(elems) \
                    and not is_op(elems[pos + 1], "&&", "||", ")"):
                op = e.literal()
                pos += 1
                arg = yield from text_of(elems[pos])
                pos += 1
                return coreutils.unary_test(self._builtin_proc([op], io, "[["), op, arg)
            left = yield from text_of(e)
            pos += 1
            nxt = peek()
            ops = ("==", "=", "!=", "=~", "<", ">", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot", "-ef")
            if nxt is not None and is_op(nxt, *ops):
                op = nxt if isinstance(nxt, str) else nxt.literal()
                pos += 1
                r = peek()
                if r is None:
                    raise ShellFatal(f"unexpected argument to conditional binary operator", 2)
                pos += 1
                if op in ("==", "=", "!="):
                    pat = yield from self.expand_pattern(r.parts, io) if isinstance(r, Word) else r
                    m = re.fullmatch(glob_to_regex(pat), left) is not None
                    return m if op != "!=" else not m
                right = yield from text_of(r)
                if op == "=~":
                    try:
                        m = re.search(coreutils.ere_to_python(right), left)
                    except re.error:
                        return False
                    return m is not None
                if op in ("<", ">"):
                    return left < right if op == "<" else left > right
                if op.startswith("-") and op in ("-eq", "-ne", "-lt", "-le", "-gt", "-ge"):
                    a = self.arith(left, io)
                    b = self.arith(right, io)
                    return {"-eq": a == b, "-ne": a != b, "-lt": a < b, "-le": a <= b, "-gt": a > b,
                            "-ge": a >= b}[op]
                return coreutils.binary_test(self._builtin_proc([op], io, "[["), left, op, right)
            return left != ""

        try:
            v = yield from or_expr()
        except ShellFatal as e:
            self.err(io, e.message)
            return 2
        if pos != len(elems):
            self.err(io, "syntax error in conditional expression")
            return 2
        return 0 if v else 1

    # -- simple commands -----------------------------------------------------------------------
    def _trace(self, io: IO, assigns: list, argv: list[str]) -> None:
        if "x" in self.state.options:
            depth = 1 + self.root.nesting
            words = [f"{n}={_quote_for_trace(v)}" for n, v, _ in assigns] + [_quote_for_trace(a) for a in argv]
            io.err.write("+" * depth + " " + " ".join(words) + "\n")

    def run_simple(self, cmd: SimpleCommand, io: IO) -> Gen:
        self.root.lineno = cmd.line
        self.root.cmdsub_status = None
        argv = yield from self.expand_words(cmd.words, io)
        assigns = []
        for a in cmd.assigns:
            value = yield from self.expand_segments(a.value.parts, io, False, True)
            text = "".join(" " if s[0] == "break" else s[1] for s in value if s[0] != "drop")
            assigns.append((a.name, text, a.append))
        self._trace(io, assigns, argv)
        if not argv:
            rio = yield from self.redirect(cmd.redirects, io)
            if rio is None:
                self.state.status = 1
                return 1
            failed = False
            for name, value, append in assigns:
                if not self.set_var(name, value, io, append=append):
                    failed = True
            status = self.root.cmdsub_status if self.root.cmdsub_status is not None else 0
            if failed:
                status = 1
            self.state.status = status
            return status
        rio = yield from self.redirect(cmd.redirects, io)
        if rio is None:
            self.state.status = 1
            return 1
        name = argv[0]
        if name in self.state.functions:
            status = yield from self._with_temp_vars(assigns, self.call_function(name, argv, rio))
        elif name in self._builtins():
            status = yield from self._with_temp_vars(assigns, self.run_builtin(name, argv, rio))
        else:
            env = self.state.env()
            for n, v, append in assigns:
                env[n] = (env.get(n, "") + v) if append else v
            status = yield from self.run_external(argv, env, rio)
        self.state.status = status
        return status

    def _with_temp_vars(self, assigns: list, gen: Gen) -> Gen:
        if not assigns:
            return (yield from gen)
        st = self.state
        saved = [(n, st.vars.get(n), n in st.exported) for n, _, _ in assigns]
        for n, v, append in assigns:
            self.set_var(n, v, append=append)
            st.exported.add(n)
        try:
            return (yield from gen)
        finally:
            for n, old, was_exported in saved:
                if old is None:
                    st.vars.pop(n, None)
                else:
                    st.vars[n] = old
                if not was_exported:
                    st.exported.discard(n)

    def run_external(self, argv: list[str], env: dict, io: IO) -> Gen:
        child = self.spawn(argv, env, io)
        if isinstance(child, int):
            return child
        return (yield from self.wait_child(child, io, " ".join(argv)))

    def call_function(self, name: str, argv: list[str], io: IO) -> Gen:
        st = self.state
        root = self.root
        if root.nesting >= _MAX_NESTING:
            raise ShellFatal(f"{name}: maximum function nesting level exceeded ({_MAX_NESTING})")
        self._nest(io)
        saved_pos = st.positional
        st.positional = list(argv[1:])
        st.locals.append({})
        root.func_depth += 1
        root.func_names.append(name)
        fn = st.functions[name]
        try:
            status = yield from self.run_command(fn.body, io)
        except ReturnFunc as r:
            status = r.code
        finally:
            root.func_depth -= 1
            root.func_names.pop()
            self._unnest()
            scope = st.locals.pop()
            for var, old in scope.items():
                if old is None:
                    st.vars.pop(var, None)
                else:
                    st.vars[var] = old
            st.positional = saved_pos
        return status

    # -- builtins -------------------------------------------------------------------------------
    def _builtins(self) -> dict:
        table = {
            ":": self.b_true, "true": self.b_true, "false": self.b_false, "cd": self.b_cd, "pwd": self.b_pwd,
            "echo": self.b_util, "printf": self.b_util, "test": self.b_util, "[": self.b_util,
            "kill": self.b_util, "export": self.b_export, "unset": self.b_unset, "exit": self.b_exit,
            "return": self.b_return, "set": self.b_set, "shift": self.b_shift, ".": self.b_source,
            "eval": self.b_eval, "exec": self.b_exec, "read": self.b_read, "wait": self.b_wait,
            "type": self.b_type, "command": self.b_command, "alias": self.b_alias, "unalias": self.b_unalias,
            "local": self.b_local, "readonly": self.b_readonly, "break": self.b_break,
            "continue": self.b_continue, "trap": self.b_trap, "umask": self.b_umask, "hash": self.b_true,
            "jobs": self.b_jobs, "times": self.b_times, "getopts": self.b_getopts, "ulimit": self.b_ulimit,
        }
        if self.bash:
            table.update({"source": self.b_source, "declare": self.b_declare, "typeset": self.b_declare,
                          "let": self.b_let, "shopt": self.b_true, "builtin": self.b_builtin,
                          "disown": self.b_true, "logout": self.b_logout, "help": self.b_help,
                          "history": self.b_true, "enable": self.b_true, "caller": self.b_false,
                          "dirs": self.b_pwd, "suspend": self.b_true, "compgen": self.b_true,
                          "complete": self.b_true, "mapfile": self.b_mapfile, "readarray": self.b_mapfile})
        return table

    def run_builtin(self, name: str, argv: list[str], io: IO) -> Gen:
        result = self._builtins()[name](argv, io)
        if isinstance(result, Generator):
            result = yield from result
        return int(result or 0)

    def _builtin_proc(self, argv: list[str], io: IO, name: str) -> _BuiltinProc:
        return _BuiltinProc(self, argv, io, f"{self.prefix()}{name}")

    def b_true(self, argv, io):
        return 0

    def b_false(self, argv, io):
        return 1

    def b_util(self, argv, io) -> Gen:
        fn = coreutils.BUILTIN_UTILS[argv[0]]
        if argv[0] == "kill":  # job specs: %1, %+, %%
            jobs = self.state.jobs
            fixed = [argv[0]]
            for a in argv[1:]:
                if a.startswith("%") and jobs:
                    spec = a[1:]
                    idx = len(jobs) if spec in ("", "+", "%") else (int(spec) if spec.isascii() and spec.isdigit() else 0)
                    if 1 <= idx <= len(jobs):
                        job = jobs[idx - 1]
                        a = str(getattr(job, "shell_pid", job.pid))
                    else:
                        self.err(io, f"{argv[0]}: {a}: no such job")
                        return 1
                fixed.append(a)
            argv = fixed
        bp = self._builtin_proc(argv, io, argv[0])
        return (yield from run_program(fn, bp))

    def b_pwd(self, argv, io):
        physical = "-P" in argv[1:]
        cwd = self.state.cwd
        if physical:
            try:
                cwd = self.fs.resolve(cwd)
            except FsError:
                pass
        io.out.write(cwd + "\n")
        return 0

    def b_cd(self, argv, io):
        args = [a for a in argv[1:] if a not in ("-L", "-P", "--")]
        if len(args) > 1:
            self.err(io, "cd: too many arguments")
            return 1
        st = self.state
        if not args:
            target = self.get_var("HOME")
            if not target:
                self.err(io, "cd: HOME not set")
                return 1
        elif args[0] == "-":
            target = self.get_var("OLDPWD")
            if not target:
                self.err(io, "cd: OLDPWD not set")
                return 1
            io.out.write(target + "\n")
        else:
            target = args[0]
        path = join(st.cwd, target)
        shown = target if target else path
        fs = self.fs
        if not fs.exists(path):
            if self.dialect == "sh":
                self.err(io, f"cd: can't cd to {shown}")
            else:
                self.err(io, f"cd: {shown}: No such file or directory")
            return 1 if self.bash else 2
        if not fs.is_dir(path):
            if self.dialect == "sh":
                self.err(io, f"cd: can't cd to {shown}")
            else:
                self.err(io, f"cd: {shown}: Not a directory")
            return 1 if self.bash else 2
        if not coreutils.can_access(self.proc, path, 1):
            if self.dialect == "sh":
                self.err(io, f"cd: can't cd to {shown}")
            else:
                self.err(io, f"cd: {shown}: Permission denied")
            return 1 if self.bash else 2
        old = st.cwd
        st.cwd = path
        st.vars["OLDPWD"] = old
        st.vars["PWD"] = path
        st.exported.update({"OLDPWD", "PWD"})
        self._sync()
        return 0

    def _valid_name(self, name: str) -> bool:
        return bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name))

    def _print_exports(self, io: IO) -> None:
        st = self.state
        for k in sorted(st.exported):
            if k not in st.vars:
                continue
            if self.bash:
                v = st.vars[k].replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("`", "\\`")
                io.out.write(f'declare -x {k}="{v}"\n')
            else:
                io.out.write(f"export {k}={shlex.quote(st.vars[k])}\n")

    def b_export(self, argv, io):
        args = argv[1:]
        unexport = False
        while args and args[0].startswith("-") and args[0] != "-":
            if args[0] == "--":
                args = args[1:]
                break
            if "n" in args[0]:
                unexport = True
            elif args[0] not in ("-p", "-f"):
                self.err(io, f"export: {args[0]}: invalid option")
                io.err.write("export: usage: export [-fn] [name[=value] ...] or export -p\n")
                return 2
            args = args[1:]
        if not args:
            self._print_exports(io)
            return 0
        status = 0
        for a in args:
            name, eq, value = a.partition("=")
            append = name.endswith("+") and eq
            if append:
                name = name[:-1]
            if not self._valid_name(name):
                self.err(io, f"export: `{a}': not a valid identifier")
                status = 1
                continue
            if unexport:
                self.state.exported.discard(name)
                continue
            if eq:
                if not self.set_var(name, value, io, append=bool(append)):
                    status = 1
                    continue
            self.state.exported.add(name)
        self._sync()
        return status

    def b_readonly(self, argv, io):
        args = [a for a in argv[1:] if a not in ("-p", "--")]
        if not args:
            for k in sorted(self.state.readonly):
                io.out.write(f'declare -r {k}="{self.state.vars.get(k, "")}"\n' if self.bash else f"readonly {k}\n")
            return 0
        status = 0
        for a in args:
            name, eq, value = a.partition("=")
            if not self._valid_name(name):
                self.err(io, f"readonly: `{a}': not a valid identifier")
                status = 1
                continue
            if eq and not self.set_var(name, value, io):
                status = 1
                continue
            self.state.readonly.add(name)
        return status

    def b_declare(self, argv, io):
        args = argv[1:]
        flags = set()
        while args and args[0][:1] in "-+" and len(args[0]) > 1:
            if args[0] == "--":
                args = args[1:]
                break
            for c in args[0][1:]:
                flags.add(c)
            args = args[1:]
        if "f" in flags or "F" in flags:
            for name in (args or sorted(self.state.functions)):
                if name in self.state.functions:
                    io.out.write((f"declare -f {name}\n" if "F" in flags else self.state.functions[name].src + "\n"))
                else:
                    return 1
            return 0
        if not args:
            if "x" in flags:
                self._print_exports(io)
            else:
                for k in sorted(self.state.vars):
                    io.out.write(f"{k}={shlex.quote(self.state.vars[k])}\n")
            return 0
        if "p" in flags:
            status = 0
            for name in args:
                if name in self.state.vars:
                    attrs = ("x" if name in self.state.exported else "") + ("r" if name in self.state.readonly else "")
                    io.out.write(f'declare -{attrs or "-"} {name}="{self.state.vars[name]}"\n')
                else:
                    self.err(io, f"declare: {name}: not found")
                    status = 1
            return status
        if "a" in flags or "A" in flags:
            self.err(io, "declare: arrays are not supported in this shell")
            return 2
        status = 0
        in_function = bool(self.state.locals) and "g" not in flags
        for a in args:
            name, eq, value = a.partition("=")
            if not self._valid_name(name):
                self.err(io, f"declare: `{a}': not a valid identifier")
                status = 1
                continue
            if in_function:
                scope = self.state.locals[-1]
                if name not in scope:
                    scope[name] = self.state.vars.get(name)
            if eq:
                if "i" in flags:
                    value = str(self.arith(value, io))
                if not self.set_var(name, value, io):
                    status = 1
                    continue
            if "x" in flags:
                self.state.exported.add(name)
            if "r" in flags:
                self.state.readonly.add(name)
        self._sync()
        return status

    def b_local(self, argv, io):
        if not self.state.locals:
            self.err(io, "local: can only be used in a function")
            return 1
        scope = self.state.locals[-1]
        status = 0
        for a in argv[1:]:
            if a.startswith("-"):
                continue
            name, eq, value = a.partition("=")
            if not self._valid_name(name):
                self.err(io, f"local: `{a}': not a valid identifier")
                status = 1
                continue
            if name not in scope:
                scope[name] = self.state.vars.get(name)
            if eq:
                self.set_var(name, value, io)
            elif name not in self.state.vars and self.bash:
                pass
        return status

    def b_unset(self, argv, io):
        args = argv[1:]
        functions = False
        while args and args[0].startswith("-"):
            if args[0] == "-f":
                functions = True
            elif args[0] not in ("-v", "--"):
                self.err(io, f"unset: {args[0]}: invalid option")
                return 2
            args = args[1:]
        status = 0
        for name in args:
            if functions:
                self.state.functions.pop(name, None)
                continue
            if not self._valid_name(name):
                self.err(io, f"unset: `{name}': not a valid identifier")
                status = 1
                continue
            if name in self.state.readonly:
                self.err(io, f"unset: {name}: cannot unset: readonly variable")
                status = 1
                continue
            if name in self.state.vars or name in self.state.exported:
                self.unset_var(name)
            else:
                self.state.functions.pop(name, None) if self.bash and name in self.state.functions else None
        return status

    def _numeric_arg(self, name: str, arg: str, io: IO) -> int | None:
        try:
            return int(arg)
        except ValueError:
            if self.dialect == "sh":
                self.err(io, f"{name}: Illegal number: {arg}")
            else:
                self.err(io, f"{name}: {arg}: numeric argument required")
            return None

    def b_exit(self, argv, io):
        if len(argv) > 2 and self.bash:
            self.err(io, "exit: too many arguments")
            return 1
        if len(argv) > 1:
            code = self._numeric_arg("exit", argv[1], io)
            raise ExitShell(2 if code is None else code & 0xFF)
        raise ExitShell(self.state.status)

    def b_logout(self, argv, io):
        self.err(io, "logout: not login shell: use `exit'")
        return 1

    def b_return(self, argv, io):
        if not self.state.locals and not self.root.sourcing:
            self.err(io, "return: can only `return' from a function or sourced script")
            return 1 if self.bash else 2
        code = self.state.status
        if len(argv) > 1:
            n = self._numeric_arg("return", argv[1], io)
            code = 2 if n is None else n & 0xFF
        raise ReturnFunc(code)

    def _loop_ctl(self, kind: str, argv, io):
        n = 1
        if len(argv) > 1:
            v = self._numeric_arg(kind, argv[1], io)
            if v is None:
                return 1
            if v < 1:
                self.err(io, f"{kind}: {argv[1]}: loop count out of range")
                return 1
            n = v
        if self.root.loop_depth == 0:
            if self.bash:
                self.err(io, f"{kind}: only meaningful in a `for', `while', or `until' loop")
            return 0
        raise LoopControl(kind, min(n, self.root.loop_depth))

    def b_break(self, argv, io):
        return self._loop_ctl("break", argv, io)

    def b_continue(self, argv, io):
        return self._loop_ctl("continue", argv, io)

    _LONG_OPTS = {"errexit": "e", "nounset": "u", "xtrace": "x", "noglob": "f", "pipefail": "pipefail",
                  "allexport": "a", "noclobber": "C", "verbose": "v", "notify": "b", "noexec": "n"}

    def b_set(self, argv, io):
        args = argv[1:]
        st = self.state
        if not args:
            for k in sorted(st.vars):
                io.out.write(f"{k}={shlex.quote(st.vars[k])}\n")
            return 0
        while args:
            a = args[0]
            if a == "--":
                st.positional = args[1:]
                return 0
            if a in ("-o", "+o"):
                if len(args) == 1:
                    for name, flag in sorted(self._LONG_OPTS.items()):
                        io.out.write(f"{name:<15}\t{'on' if flag in st.options else 'off'}\n")
                    return 0
                opt = self._LONG_OPTS.get(args[1])
                if opt is None:
                    self.err(io, f"set: {args[1]}: invalid option name")
                    return 2 if self.bash else 2
                (st.options.add if a == "-o" else st.options.discard)(opt)
                args = args[2:]
                continue
            if a[:1] in "-+" and len(a) > 1:
                for c in a[1:]:
                    if c not in "euxfavCnbhBmHT":
                        self.err(io, f"set: -{c}: invalid option")
                        io.err.write("set: usage: set [-abefhkmnptuvxBCHP] [-o option-name] [--] [arg ...]\n")
                        return 2
                    (st.options.add if a[0] == "-" else st.options.discard)(c)
                args = args[1:]
                continue
            st.positional = args
            return 0
        return 0

    def b_shift(self, argv, io):
        n = 1
        if len(argv) > 1:
            v = self._numeric_arg("shift", argv[1], io)
            if v is None:
                return 1
            n = v
        if n > len(self.state.positional) or n < 0:
            if self.bash:
                self.err(io, f"shift: {argv[1] if len(argv) > 1 else n}: shift count out of range")
                return 1
            self.err(io, f"shift: can't shift that many")
            raise ExitShell(2)
        self.state.positional = self.state.positional[n:]
        return 0

    def b_source(self, argv, io) -> Gen:
        if len(argv) < 2:
            if self.bash:
                self.err(io, f"{argv[0]}: filename argument required")
                io.err.write(f"{argv[0]}: usage: {argv[0]} filename [arguments]\n")
            return 2
        name = argv[1]
        path = join(self.state.cwd, name)
        if "/" not in name and not self.fs.is_file(path) or ("/" not in name and not self.bash):
            for d in (self.get_var("PATH") or "").split(":"):
                if d and self.fs.is_file(join(d, name)):
                    path = join(d, name)
                    break
        try:
            if not coreutils.can_read(self.proc, path):
                raise FsError("Permission denied", errno="EACCES")
            text = self.fs.read(path).decode("utf-8", errors="replace")
        except FsError as e:
            if self.dialect == "sh":
                self.err(io, f".: cannot open {name}: No such file")
                raise ExitShell(2)
            self.err(io, f"{name}: {_errno_text(e)}")
            return 1
        if not self._nest(io):
            return 1
        saved = self.state.positional
        if len(argv) > 2:
            self.state.positional = argv[2:]
        self.root.sourcing += 1
        try:
            status = yield from self.run_script_text(text, io)
        except ReturnFunc as r:
            status = r.code
        finally:
            self.root.sourcing -= 1
            self._unnest()
            if len(argv) > 2:
                self.state.positional = saved
        return status

    def b_eval(self, argv, io) -> Gen:
        text = " ".join(argv[1:])
        if not text.strip():
            return 0
        if not self._nest(io):
            return 1
        try:
            return (yield from self.run_script_text(text, io))
        finally:
            self._unnest()

    def b_exec(self, argv, io) -> Gen:
        args = argv[1:]
        while args and args[0] in ("-c", "-l", "--"):
            args = args[1:]
        if not args:
            io_target = io  # `exec > file`: redirections stay for the rest of the shell
            root_io = getattr(self, "_current_io", None)
            if root_io is not None:
                root_io.fds.update(io_target.fds)
            return 0
        if args[0] in self.state.functions or args[0] in self._builtins():
            if args[0] in self.state.functions:
                code = yield from self.call_function(args[0], args, io)
            else:
                code = yield from self.run_builtin(args[0], args, io)
            raise ExitShell(code)
        env = self.state.env()
        if self.parent is None and self.state.main and hasattr(self.proc, "signal_handlers") \
                and not getattr(self.proc, "builtin", False):
            code = yield from self._exec_in_place(args, env, io)
            raise ExitShell(code)
        code = yield from self.run_external(args, env, io)
        raise ExitShell(code)

    def _exec_in_place(self, args: list[str], env: dict, io: IO) -> Gen:
        """``exec PROGRAM``: the program replaces the shell in the same process (same PID, no shell left)."""
        proc = self.proc
        k = self.kernel
        try:
            path = k.find_executable(proc.ns, args[0], env, self.state.cwd)
            fn, real_argv = k.resolve_program(proc.ns, path, list(args))
        except ExecError as e:
            if e.errno == "ENOENT" and e.message == "not found":
                self.err(io, f"exec: {args[0]}: not found")
            else:
                self.err(io, f"{args[0]}: {e.message}")
            return e.exit_code
        except FsError as e:
            self.err(io, f"{args[0]}: {_errno_text(e)}")
            return 126
        self._sync()
        self.state.traps.clear()
        proc.argv = list(real_argv)
        proc.comm = posixpath.basename(real_argv[0]) if real_argv else proc.comm
        proc.env = dict(env)
        proc.cwd = self.state.cwd
        proc.stdin = io.stdin.rest()
        proc.stdout = io.out
        proc.stderr = io.err
        proc.signal_handlers.clear()
        self.root.foreground.clear()
        return (yield from run_program(fn, proc))

    def b_read(self, argv, io):
        args = argv[1:]
        raw = False
        delim = "\n"
        nchars = None
        while args and args[0].startswith("-") and len(args[0]) > 1:
            a = args.pop(0)
            if a == "--":
                break
            i = 1
            while i < len(a):
                c = a[i]
                if c == "r":
                    raw = True
                elif c in "sE":
                    pass
                elif c in "pdntu":
                    val = a[i + 1:] or (args.pop(0) if args else None)
                    if val is None:
                        self.err(io, f"read: -{c}: option requires an argument")
                        return 2
                    if c == "p":
                        pass  # the prompt goes to a terminal only; a command line's stdin is not one
                    elif c == "d":
                        delim = val[:1] or "\0"
                    elif c == "n":
                        try:
                            nchars = int(val)
                        except ValueError:
                            self.err(io, f"read: {val}: invalid number")
                            return 1
                    break
                elif c == "a":
                    self.err(io, "read: -a: arrays are not supported in this shell")
                    return 2
                else:
                    self.err(io, f"read: -{c}: invalid option")
                    return 2
                i += 1
        names = args or ["REPLY"]
        for n in names:
            if not self._valid_name(n):
                self.err(io, f"read: `{n}': not a valid identifier")
                return 1
        buf = io.stdin
        if nchars is not None:
            data = buf.read(nchars)
            line = data.decode("utf-8", errors="replace")
            eof = not data
        else:
            parts = []
            eof = False
            while True:
                chunk = buf.readline(delim.encode())
                if chunk is None:
                    eof = True
                    break
                text = chunk.decode("utf-8", errors="replace")
                ended = text.endswith(delim)
                if ended:
                    text = text[:-1]
                if not raw and text.endswith("\\") and not text.endswith("\\\\") and ended and delim == "\n":
                    parts.append(text[:-1])
                    continue
                parts.append(text)
                if not ended:
                    eof = True
                break
            line = "".join(parts)
            if eof and not line:
                for n in names:
                    self.set_var(n, "")
                return 1
        if not raw:
            line = re.sub(r"\\(.)", r"\1", line)
        ifs = self.state.vars.get("IFS", _DEFAULT_IFS)
        ws = "".join(c for c in ifs if c in " \t\n")
        if len(names) == 1:
            value = line.strip(ws) if names[0] != "REPLY" or args else line
            self.set_var(names[0], value, io)
        else:
            rest = line.lstrip(ws)
            for i, n in enumerate(names):
                if i == len(names) - 1:
                    self.set_var(n, rest.rstrip(ws), io)
                    break
                m = re.search("[" + re.escape(ifs) + "]", rest) if ifs else None
                if m is None:
                    self.set_var(n, rest, io)
                    rest = ""
                else:
                    self.set_var(n, rest[:m.start()], io)
                    rest = rest[m.end():].lstrip(ws)
        return 1 if eof else 0

    def b_wait(self, argv, io) -> Gen:
        st = self.state
        targets = []
        status = 0
        if len(argv) > 1:
            for a in argv[1:]:
                if a == "-n":
                    continue
                if a.startswith("%"):
                    spec = a[1:]
                    idx = len(st.jobs) if spec in ("", "+", "%") else (int(spec) if spec.isascii() and spec.isdigit() else 0)
                    if not 1 <= idx <= len(st.jobs):
                        self.err(io, f"wait: {a}: no such job")
                        status = 127
                        continue
                    targets.append(st.jobs[idx - 1])
                    continue
                try:
                    local = int(a)
                except ValueError:
                    self.err(io, f"wait: `{a}': not a pid or valid job spec")
                    status = 2
                    continue
                job = next((j for j in st.jobs if getattr(j, "shell_pid", j.pid) == local), None)
                if job is None:
                    self.err(io, f"wait: pid {local} is not a child of this shell")
                    status = 127
                    continue
                targets.append(job)
        else:
            targets = list(st.jobs)
        for job in targets:
            if job.alive:
                self.root.foreground.add(job)
                try:
                    yield job.exited
                finally:
                    self.root.foreground.discard(job)
            status = job.exit_code if job.exit_code is not None else 0
        if len(argv) <= 1:
            st.jobs = [j for j in st.jobs if j.alive]
            return 0
        return status

    def _lookup(self, name: str) -> str | None:
        try:
            return self.kernel.find_executable(self.proc.ns, name, {"PATH": self.get_var("PATH") or ""},
                                               self.state.cwd)
        except ExecError:
            return None

    def b_type(self, argv, io):
        args = argv[1:]
        flags = set()
        while args and args[0].startswith("-") and len(args[0]) > 1:
            flags.update(args.pop(0)[1:])
        status = 0
        for name in args:
            kind, desc = self._describe(name)
            if kind is None:
                if "t" not in flags and "p" not in flags and "P" not in flags:
                    self.err(io, f"type: {name}: not found") if self.bash else io.out.write(f"{name}: not found\n")
                status = 1
                continue
            if "t" in flags:
                io.out.write(kind + "\n")
            elif "p" in flags or "P" in flags:
                if kind == "file":
                    io.out.write(desc + "\n")
            elif kind == "file":
                io.out.write(f"{name} is {desc}\n")
            elif kind == "function":
                io.out.write(f"{name} is a function\n{self.state.functions[name].src}\n" if self.bash
                             else f"{name} is a shell function\n")
            elif kind == "builtin":
                io.out.write(f"{name} is a shell builtin\n")
            elif kind == "keyword":
                io.out.write(f"{name} is a shell keyword\n")
            elif kind == "alias":
                io.out.write(f"{name} is aliased to `{desc}'\n")
        return status

    def _describe(self, name: str) -> tuple[str | None, str]:
        if name in self.state.aliases:
            return "alias", self.state.aliases[name]
        if name in _KEYWORDS and (self.bash or name not in _BASH_RESERVED):
            return "keyword", name
        if name in self.state.functions:
            return "function", name
        if name in self._builtins():
            return "builtin", name
        path = self._lookup(name)
        if path is not None:
            return "file", path
        return None, ""

    def b_command(self, argv, io) -> Gen:
        args = argv[1:]
        mode = None
        while args and args[0].startswith("-") and len(args[0]) > 1:
            a = args.pop(0)
            if a == "--":
                break
            for c in a[1:]:
                if c in "vV":
                    mode = c
                elif c != "p":
                    self.err(io, f"command: -{c}: invalid option")
                    return 2
        if not args:
            return 0
        if mode is not None:
            status = 0
            for name in args:
                kind, desc = self._describe(name)
                if kind is None:
                    if mode == "V":
                        self.err(io, f"command: {name}: not found")
                    status = 1
                elif mode == "v":
                    io.out.write((desc if kind == "file" else (f"alias {name}='{desc}'" if kind == "alias" else name)) + "\n")
                else:
                    yield from ()
                    self.b_type(["type", name], io)
            return status
        name = args[0]
        if name in self._builtins():
            return (yield from self.run_builtin(name, args, io))
        return (yield from self.run_external(args, self.state.env(), io))

    def b_builtin(self, argv, io) -> Gen:
        if len(argv) < 2:
            return 0
        if argv[1] not in self._builtins():
            self.err(io, f"builtin: {argv[1]}: not a shell builtin")
            return 1
        return (yield from self.run_builtin(argv[1], argv[1:], io))

    def b_alias(self, argv, io):
        status = 0
        if len(argv) == 1:
            for k in sorted(self.state.aliases):
                io.out.write(f"alias {k}='{self.state.aliases[k]}'\n")
            return 0
        for a in argv[1:]:
            name, eq, value = a.partition("=")
            if eq:
                self.state.aliases[name] = value
            elif name in self.state.aliases:
                io.out.write(f"alias {name}='{self.state.aliases[name]}'\n")
            else:
                self.err(io, f"alias: {name}: not found")
                status = 1
        return status

    def b_unalias(self, argv, io):
        status = 0
        for a in argv[1:]:
            if a == "-a":
                self.state.aliases.clear()
            elif self.state.aliases.pop(a, None) is None:
                self.err(io, f"unalias: {a}: not found")
                status = 1
        return status

    def b_trap(self, argv, io):
        args = argv[1:]
        if args and args[0] == "--":
            args = args[1:]
        if not args or args[0] in ("-p", "-l"):
            for sig, action in sorted(self.state.traps.items()):
                io.out.write(f"trap -- {shlex.quote(action)} {sig}\n")
            return 0
        if len(args) == 1:
            action, sigs = "-", args
        else:
            action, sigs = args[0], args[1:]
        for s in sigs:
            name = s.upper().removeprefix("SIG")
            if name == "0":
                name = "EXIT"
            if name not in SIGNALS and name not in ("EXIT", "ERR", "DEBUG", "RETURN") and not name.isdigit():
                self.err(io, f"trap: {s}: invalid signal specification")
                return 1
            if action == "-":
                self.state.traps.pop(name, None)
            else:
                self.state.traps[name] = action
        return 0

    def run_exit_trap(self, io: IO) -> Gen:
        action = self.state.traps.pop("EXIT", None)
        if action:
            try:
                yield from self.run_script_text(action, io)
            except (ExitShell, ReturnFunc, LoopControl):
                pass
            except ShellFatal as e:
                self.err(io, e.message)

    def b_umask(self, argv, io):
        args = [a for a in argv[1:] if a != "-S"]
        current = self.state.umask if self.state.umask is not None else coreutils.default_umask(self.proc)
        if not args:
            if "-S" in argv:
                perms = 0o777 & ~current
                io.out.write(",".join(f"{w}={''.join(c for c, b in zip('rwx', (4, 2, 1)) if (perms >> s) & b)}"
                                      for w, s in (("u", 6), ("g", 3), ("o", 0))) + "\n")
            else:
                io.out.write(f"{current:04o}\n")
            return 0
        try:
            self.state.umask = int(args[0], 8) & 0o777
        except ValueError:
            self.err(io, f"umask: {args[0]}: octal number out of range")
            return 1
        return 0

    def b_jobs(self, argv, io):
        for i, job in enumerate(self.state.jobs, 1):
            state = "Running" if job.alive else ("Done" if job.exit_code == 0 else f"Exit {job.exit_code}")
            line = f"[{i}]{'+' if i == len(self.state.jobs) else '-'}  {state:<24}{' '.join(job.argv)}"
            if "-l" in argv:
                line = f"[{i}]{'+' if i == len(self.state.jobs) else '-'} {getattr(job, 'shell_pid', job.pid)} {state:<24}{' '.join(job.argv)}"
            io.out.write(line + " &\n" if job.alive else line + "\n")
        return 0

    def b_times(self, argv, io):
        io.out.write("0m0.000s 0m0.000s\n0m0.000s 0m0.000s\n")
        return 0

    def b_ulimit(self, argv, io):
        io.out.write("unlimited\n" if len(argv) < 2 or argv[1] in ("-f", "-a") else "1048576\n")
        return 0

    def b_help(self, argv, io):
        io.out.write(f"GNU bash, version {_BASH_VERSION} (x86_64-pc-linux-gnu)\n"
                     "These shell commands are defined internally.  Type `help' to see this list.\n")
        return 0

    def b_let(self, argv, io):
        if len(argv) < 2:
            self.err(io, "let: expression expected")
            return 1
        value = 0
        for expr in argv[1:]:
            value = self.arith(expr, io)
        return 0 if value else 1

    def b_getopts(self, argv, io):
        if len(argv) < 3:
            self.err(io, "getopts: usage: getopts optstring name [arg ...]")
            return 2
        optstring, name = argv[1], argv[2]
        args = argv[3:] or self.state.positional
        optind = int(self.state.vars.get("OPTIND", "1") or "1")
        sub = int(self.state.vars.get("_OPTSUB", "1"))
        if optind > len(args) or not args[optind - 1].startswith("-") or args[optind - 1] in ("-", "--"):
            if optind <= len(args) and args[optind - 1] == "--":
                self.state.vars["OPTIND"] = str(optind + 1)
            self.set_var(name, "?")
            return 1
        word = args[optind - 1]
        c = word[sub]
        sub += 1
        silent = optstring.startswith(":")
        spec = optstring.lstrip(":")
        idx = spec.find(c)
        status = 0
        self.state.vars.pop("OPTARG", None)
        if idx < 0 or c == ":":
            self.set_var(name, "?")
            if silent:
                self.state.vars["OPTARG"] = c
            else:
                self.err(io, f"illegal option -- {c}")
        elif idx + 1 < len(spec) and spec[idx + 1] == ":":
            if sub < len(word):
                self.state.vars["OPTARG"] = word[sub:]
            elif optind < len(args):
                self.state.vars["OPTARG"] = args[optind]
                optind += 1
            else:
                self.set_var(name, ":" if silent else "?")
                if not silent:
                    self.err(io, f"option requires an argument -- {c}")
                optind += 1
                self.state.vars["OPTIND"] = str(optind)
                self.state.vars["_OPTSUB"] = "1"
                return 0
            self.set_var(name, c)
            sub = len(word)
        else:
            self.set_var(name, c)
        if sub >= len(word):
            optind += 1
            sub = 1
        self.state.vars["OPTIND"] = str(optind)
        self.state.vars["_OPTSUB"] = str(sub)
        return status

    def b_mapfile(self, argv, io):
        self.err(io, f"{argv[0]}: arrays are not supported in this shell")
        return 2


def _errno_text(e: FsError) -> str:
    msg = e.message
    return msg.rsplit(": ", 1)[-1] if ": " in msg else msg


def _brace_expand(parts: list) -> list[list]:
    """Bash brace expansion on unquoted literal parts: ``a{b,c}`` and ``{1..3}``."""
    for idx, part in enumerate(parts):
        if not isinstance(part, Lit) or "{" not in part.text:
            continue
        text = part.text
        start = 0
        while True:
            i = text.find("{", start)
            if i < 0:
                break
            depth = 0
            j = i
            commas = []
            while j < len(text):
                if text[j] == "{":
                    depth += 1
                elif text[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                elif text[j] == "," and depth == 1:
                    commas.append(j)
                j += 1
            if j >= len(text):
                break
            inner = text[i + 1:j]
            pre, post = text[:i], text[j + 1:]
            alternatives = None
            if commas:
                bounds = [i] + commas + [j]
                alternatives = [text[bounds[k] + 1:bounds[k + 1]] for k in range(len(bounds) - 1)]
            else:
                m = re.fullmatch(r"(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?|([a-zA-Z])\.\.([a-zA-Z])", inner)
                if m:
                    if m.group(1) is not None:
                        a, b = int(m.group(1)), int(m.group(2))
                        step = abs(int(m.group(3))) if m.group(3) else 1
                        step = step or 1
                        if abs(b - a) // step > 100000:
                            start = j + 1
                            continue
                        rng = range(a, b + 1, step) if a <= b else range(a, b - 1, -step)
                        width = max(len(m.group(1)), len(m.group(2))) if (
                            m.group(1).lstrip("-").startswith("0") or m.group(2).lstrip("-").startswith("0")) else 0
                        alternatives = [str(v).zfill(width) if width else str(v) for v in rng]
                    else:
                        a, b = ord(m.group(4)), ord(m.group(5))
                        rng = range(a, b + 1) if a <= b else range(a, b - 1, -1)
                        alternatives = [chr(v) for v in rng]
            if alternatives is None:
                start = i + 1
                continue
            out = []
            for alt in alternatives:
                new_parts = parts[:idx] + [Lit(pre + alt + post)] + parts[idx + 1:]
                out.extend(_brace_expand(new_parts))
            return out
    return [parts]


# ---------------------------------------------------------------------------
# the programs

_VERSION_TEXT = (f"GNU bash, version {_BASH_VERSION} (x86_64-pc-linux-gnu)\n"
                 "Copyright (C) 2020 Free Software Foundation, Inc.\n"
                 "License GPLv3+: GNU GPL version 3 or later <http://gnu.org/licenses/gpl.html>\n\n"
                 "This is free software; you are free to change and redistribute it.\n"
                 "There is NO WARRANTY, to the extent permitted by law.\n")


def _shell_main(proc, dialect: str) -> Gen:
    argv = proc.argv
    args = argv[1:]
    name = "sh" if dialect == "sh" else "bash"
    options: set[str] = set()
    command = None
    read_stdin = False
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            i += 1
            break
        if a in ("--version",) and dialect == "bash":
            proc.write(_VERSION_TEXT)
            return 0
        if a in ("--login", "--norc", "--noprofile", "--posix", "--noediting", "--restricted"):
            i += 1
            continue
        if a.startswith("--"):
            proc.error(f"{name}: {a}: invalid option\n")
            return 2
        if (a.startswith("-") or a.startswith("+")) and len(a) > 1:
            j = 1
            while j < len(a):
                c = a[j]
                if c == "c":
                    command = ""
                elif c == "s":
                    read_stdin = True
                elif c == "o":
                    i += 1
                    if i < len(args) and args[i] in Interpreter._LONG_OPTS:
                        options.add(Interpreter._LONG_OPTS[args[i]])
                elif c in "eux fa":
                    if a[0] == "-":
                        options.add(c)
                elif c in "ilvrpBhmnCEHPT":
                    pass
                else:
                    proc.error(f"{name}: -{c}: invalid option\n")
                    return 2
                j += 1
            i += 1
            continue
        break
    rest = args[i:]
    state = ShellState()
    state.vars = dict(proc.env)
    state.exported = set(proc.env)
    state.options = options
    state.cwd = proc.cwd
    state.shell_pid = proc.ns.pid.members.get(proc.pid, proc.pid)
    if proc.fs.is_dir(proc.cwd):
        state.vars["PWD"] = proc.cwd
        state.exported.add("PWD")
    if command is not None:
        if not rest:
            proc.error(f"{name}: -c: option requires an argument\n")
            return 2
        text = rest[0]
        state.arg0 = rest[1] if len(rest) > 1 else name
        state.positional = rest[2:]
        mode = "-c"
    elif rest and not read_stdin:
        path = proc.path(rest[0])
        state.arg0 = rest[0]
        state.positional = rest[1:]
        mode = "script"
        try:
            if proc.fs.is_dir(path):
                proc.error(f"{name}: {rest[0]}: Is a directory\n")
                return 126
            if not coreutils.can_read(proc, path):
                proc.error(f"{name}: {rest[0]}: Permission denied\n")
                return 126
            text = proc.fs.read(path).decode("utf-8", errors="replace")
        except FsError:
            if dialect == "sh":
                proc.error(f"sh: 0: cannot open {rest[0]}: No such file\n")
                return 2
            proc.error(f"{name}: {rest[0]}: No such file or directory\n")
            return 127
        if text.startswith("#!"):
            text = "\n" + text.split("\n", 1)[1] if "\n" in text else ""
    else:
        text = proc.stdin.decode("utf-8", errors="replace")
        state.arg0 = name
        state.positional = rest
        mode = "stdin"
    interp = Interpreter(proc, dialect, state, mode=mode)
    owner = getattr(proc.kernel, "owner", None)
    if (getattr(proc, "parent", None) is None and owner is not None and proc.ns is getattr(owner, "ns", None)
            and type(proc.stdout) is Stream):
        proc.stdout.isatty = True  # the machine's terminal (Machine.sh): ls prints columns, ps shows pts/0
    io = IO({0: InputBuffer(b"" if mode == "stdin" else proc.stdin), 1: proc.stdout, 2: proc.stderr})
    interp._current_io = io

    def on_interrupt(sig: int) -> None:
        children = list(interp.root.foreground)
        interp._sync()
        proc.killed_by = sig
        proc.exit(128 + sig)
        for child in children:
            if child.alive:
                proc.kernel.signal(child.pid, sig)

    # Ctrl-C reaches the whole foreground job: the shell passes SIGINT on to the child it waits for.
    # A shell that is PID 1 of a container sets no handler: the kernel then ignores SIGINT/SIGTERM
    # for it, which is why `docker stop` has to wait and SIGKILL a `sh -c` container.
    if hasattr(proc, "on_signal") and not getattr(proc, "builtin", False) and not getattr(proc, "is_ns_init", False):
        proc.on_signal("INT", on_interrupt)
    try:
        code = yield from interp.run_script_text(text, io)
    except ExitShell as e:
        code = e.code
    except ShellFatal as e:
        interp.err(io, e.message)
        code = e.code
    except (ReturnFunc, LoopControl) as e:
        code = getattr(e, "code", 0)
    except RecursionError:
        interp.err(io, "maximum nesting level exceeded")
        code = 2
    try:
        yield from interp.run_exit_trap(io)
    except ExitShell as e:
        code = e.code
    interp._sync()
    return code


@register_program("bash")
def bash(proc) -> Gen:
    """GNU bash."""
    return (yield from _shell_main(proc, "bash"))


@register_program("sh")
def sh(proc) -> Gen:
    """The POSIX shell (dash)."""
    return (yield from _shell_main(proc, "sh"))


_PROGRAM_FNS = {"bash": bash, "sh": sh}
