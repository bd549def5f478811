"""The action journal: the student's clicks, kept beside the notebook and replayed.

nbgrader re-executes a notebook headlessly and never clicks a button. So every
action a widget performs is appended to a JSON-lines file beside the notebook
(``.<lab>.journal.jsonl``), and when the widget is constructed again — after
``Restart & Run All``, a kernel crash, or in the autograder — it replays its
entries, in order, on the new world.

An entry is ``{"seq": 3, "widget": "docker-playground", "action": "build",
"args": {...}}``: no wall-clock time, so the same clicks give the same file.

* **Atomic append.** The new file is written next to the old one and swapped in
  with ``os.replace`` after an ``fsync``: a crash mid-write leaves the previous
  journal intact, never half a line.
* **Tolerant reading.** A torn or unreadable line (a file copied mid-write, a
  hand edit) is skipped and reported in :attr:`Journal.warnings` — widgets show
  warnings in their own output, never on stderr (a test cell with stderr scores 0).
* **Replay once per world.** The journal remembers which entries it already
  applied to which world, so re-running a widget's cell in the same kernel does
  not apply a click twice; a new ``World`` gets the whole journal again.
* **Clear failures.** An entry that no longer applies (an image the world does
  not have...) stops the replay with :class:`JournalReplayError`
  (``journal entry 3 (docker-playground: build) could not be replayed: ...``);
  the library rejects a bad operation without changing anything, so the world
  keeps the state of the entries before it.

This module imports no Jupyter package.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), ".lab3.journal.jsonl")
>>> j = Journal(path)
>>> j.append("docker-playground", "build", {"tag": "app:1"})["seq"]
1
>>> seen = []
>>> j.replay("docker-playground", {"build": lambda tag: seen.append(tag)}, world="w1")
1
>>> seen, j.replay("docker-playground", {"build": lambda tag: seen.append(tag)}, world="w1")
(['app:1'], 0)
"""

from __future__ import annotations

import json
import os
import tempfile
import weakref
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

__all__ = ["Journal", "JournalReplayError", "journal_path"]

_KEYS = ("seq", "widget", "action", "args")


class JournalReplayError(Exception):
    """A journal entry could not be applied again; ``entry`` is that entry, ``cause`` the library's error."""

    def __init__(self, message: str, entry: dict | None = None, cause: BaseException | None = None):
        super().__init__(message)
        self.message = message
        self.entry = entry
        self.cause = cause

    def __str__(self) -> str:
        return self.message


def journal_path(lab: str, directory: str | os.PathLike | None = None) -> Path:
    """Where the journal of ``lab`` lives: ``.<lab>.journal.jsonl`` in the notebook's directory.

    The notebook's directory is the kernel's working directory (Jupyter and nbgrader
    both start the kernel there).

    >>> journal_path("lab3", "/tmp").as_posix()
    '/tmp/.lab3.journal.jsonl'
    """
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in str(lab)) or "lab"
    return Path(directory if directory is not None else os.getcwd()) / f".{safe}.journal.jsonl"


# journal file -> world -> seqs already applied to that world. Kept per file (not per Journal
# object) so that constructing a widget again in the same kernel never applies a click twice.
_APPLIED: dict[str, "weakref.WeakKeyDictionary[Any, set[int]]"] = {}
_APPLIED_PLAIN: dict[str, dict[Any, set[int]]] = {}  # worlds that cannot be weakly referenced


class Journal:
    """A JSON-lines file of widget actions.

    Args:
        path: the file (created on the first append).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.warnings: list[str] = []
        self._key = os.path.abspath(self.path)

    @classmethod
    def for_lab(cls, lab: str, directory: str | os.PathLike | None = None) -> "Journal":
        """The journal of ``lab`` beside the notebook (see :func:`journal_path`)."""
        return cls(journal_path(lab, directory))

    def __repr__(self) -> str:
        return f"<Journal {self.path.name} entries={len(self.entries())}>"

    # -- reading ---------------------------------------------------------------------------
    def entries(self, widget: str | None = None) -> list[dict]:
        """Valid entries in ``seq`` order (only ``widget``'s when given).

        Unreadable lines are skipped; each one adds a message to :attr:`warnings`.
        """
        self.warnings = []
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        lines = raw.split(b"\n")
        out: list[dict] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            last = number == len(lines)  # no newline after it: the write was cut short
            try:
                entry = json.loads(line.decode("utf-8"))
                if not isinstance(entry, dict) or any(k not in entry for k in _KEYS) \
                        or not isinstance(entry["seq"], int) or not isinstance(entry["args"], dict):
                    raise ValueError("not a journal entry")
            except (ValueError, UnicodeDecodeError):
                what = "a torn last line (the kernel stopped mid-write?)" if last else f"line {number}: not a journal entry"
                self.warnings.append(f"{self.path.name}: skipped {what}")
                continue
            out.append(entry)
        out.sort(key=lambda e: e["seq"])
        if widget is not None:
            out = [e for e in out if e["widget"] == widget]
        return out

    def __len__(self) -> int:
        return len(self.entries())

    # -- writing ---------------------------------------------------------------------------
    def append(self, widget: str, action: str, args: Mapping[str, Any] | None = None, *, world: Any = None) -> dict:
        """Add one entry atomically and return it (``world``: mark it as already applied there).

        Raises:
            TypeError: ``args`` is not JSON-serialisable.
        """
        args = dict(args or {})
        json.dumps(args)  # fail before touching the file
        entries = self.entries()
        seq = max((e["seq"] for e in entries), default=0) + 1
        entry = {"seq": seq, "widget": str(widget), "action": str(action), "args": args}
        self._write([*entries, entry])
        if world is not None:
            self._seen(world).add(seq)
        return entry

    def reset(self, widget: str | None = None) -> int:
        """Start over: drop every entry (only ``widget``'s when given). Returns how many were dropped.

        The world is not undone: run the notebook again from the cell that makes the world.
        """
        entries = self.entries()
        keep = [] if widget is None else [e for e in entries if e["widget"] != widget]
        if widget is None:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
            _APPLIED.pop(self._key, None)
            _APPLIED_PLAIN.pop(self._key, None)
        else:
            self._write(keep)
            dropped = {e["seq"] for e in entries} - {e["seq"] for e in keep}
            for table in (_APPLIED.get(self._key, {}), _APPLIED_PLAIN.get(self._key, {})):
                for seqs in table.values():
                    seqs -= dropped
        return len(entries) - len(keep)

    def _write(self, entries: Iterable[dict]) -> None:
        data = "".join(json.dumps(e, sort_keys=True, ensure_ascii=False) + "\n" for e in entries).encode("utf-8")
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    # -- replay -------------------------------------------------------------------------------
    def _seen(self, world: Any) -> set[int]:
        try:
            return _APPLIED.setdefault(self._key, weakref.WeakKeyDictionary()).setdefault(world, set())
        except TypeError:  # not weak-referenceable
            return _APPLIED_PLAIN.setdefault(self._key, {}).setdefault(world, set())

    def applied(self, world: Any) -> set[int]:
        """The seqs already applied to ``world``."""
        return set(self._seen(world))

    def replay(self, widget: str, handlers: Mapping[str, Callable[..., Any]], *, world: Any) -> int:
        """Apply ``widget``'s entries not yet applied to ``world``, in order. Returns how many ran.

        Raises:
            JournalReplayError: an entry's action is unknown or its handler raised; the
                entries before it stay applied, the ones after it are not tried.
        """
        seen = self._seen(world)
        done = 0
        for entry in self.entries(widget):
            if entry["seq"] in seen:
                continue
            label = f"journal entry {entry['seq']} ({entry['widget']}: {entry['action']})"
            handler = handlers.get(entry["action"])
            if handler is None:
                raise JournalReplayError(f"{label} could not be replayed: this widget has no action "
                                         f"{entry['action']!r} (actions: {', '.join(sorted(handlers))})", entry)
            try:
                handler(**entry["args"])
            except Exception as e:  # noqa: BLE001 - reported with the entry that caused it
                raise JournalReplayError(f"{label} could not be replayed: {e}", entry, e) from e
            seen.add(entry["seq"])
            done += 1
        return done
