"""The base of every course widget: controls, the equivalent command, results, the journal.

A widget is thin (ARCHITECTURE principle 7): its *model* is the world it acts
on plus the journal; the view only renders. Every click goes through
:meth:`ActionWidget.perform`, which

1. calls the library's public API (the action's handler),
2. on success appends ``{"widget", "action", "args"}`` to the lab's journal,
3. renders: the equivalent code and command line, then the result.

A rejected action (any :class:`~aivle_k8s.AivleError`) changes nothing, is not
journaled, and is shown in the widget with the library's message and a hint.
Any other exception (a bug) is shown in the widget too, with its traceback:
nothing ever vanishes into the browser's log, and nothing is written to stderr
(a test cell with stderr output scores 0 in nbgrader).

On construction the widget replays its journal entries silently (see
:mod:`aivle_k8s.widgets.journal`), so autograding (``NBGRADER_EXECUTION`` set,
no clicks) sees the student's clicks.

Subclasses set :attr:`kind`, register handlers with :meth:`action` and build
their controls in :meth:`_controls`; :meth:`_render` draws results.
"""

from __future__ import annotations

import html
import os
import traceback
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import ipywidgets as W

from ..sim.errors import AivleError
from .journal import Journal, JournalReplayError

__all__ = ["ActionWidget", "ActionOutcome", "hint_for", "autograding"]


_LIVE: "weakref.WeakSet[ActionWidget]" = weakref.WeakSet()  # widgets shown in this kernel


def default_lab() -> str:
    """The lab a widget belongs to when not told: the assignment whose notebook is in the working
    directory (``labs/lab6-build-a-cluster/`` holds ``lab6-build-a-cluster.ipynb``; nbgrader autogrades in
    ``autograded/<student>/<lab>/``), so the journal is the one the instructor CLI collects; else ``"aivle"``."""
    cwd = Path.cwd()
    return cwd.name if (cwd / f"{cwd.name}.ipynb").is_file() else "aivle"


def autograding() -> bool:
    """True when nbgrader executes the notebook (``NBGRADER_EXECUTION`` is set): nobody will click."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


_HINTS: list[tuple[str, str]] = [
    ("dockerfile parse error", "Check the Dockerfile line named above: instructions are FROM, RUN, COPY, ADD, "
                               "WORKDIR, ENV, EXPOSE, CMD, ENTRYPOINT ... followed by their arguments."),
    ("no build stage", "A Dockerfile starts with FROM <base image> (for example FROM nginx:1.25)."),
    ("did not complete successfully", "A RUN step failed: read the end of the build log above."),
    ("not found: not found", "COPY/ADD can only copy files from the build context directory."),
    ("no such image", "Build the image first, or pull it (docker images lists what this machine has)."),
    ("does not exist locally", "Tag the image with the registry address first (docker tag SOURCE TARGET)."),
    ("pull access denied", "Check the image name (docker.io/library/ is added to short names) or docker login."),
    ("manifest unknown", "That tag is not in the registry: check the tag, or push it first."),
    ("requested access to the resource is denied", "Log in to the registry first (docker login HOST) or "
                                                    "push to a repository in your own namespace."),
    ("unauthorized", "Log in to the registry first: docker login HOST -u USER -p PASSWORD."),
    ("no such host", "No machine or registry has that name: check the registry address (host:port)."),
    ("connection refused", "Nothing listens at that address: is the registry running on that port?"),
    ("http response to https client", "A plain-HTTP registry must be listed in insecure-registries "
                                      "(/etc/docker/daemon.json) and dockerd restarted."),
    ("is already in use", "Pick another container name, or remove the old container (docker rm -f NAME)."),
    ("port is already allocated", "Another container already publishes that host port: pick another one."),
    ("cannot connect to the docker daemon", "Start Docker: sudo systemctl start docker."),
    ("invalid reference format", "Image names are lowercase: [registry/][namespace/]name[:tag]."),
    ("docker engine", "Install Docker first: sudo apt-get install -y docker.io"),
]


def hint_for(error: BaseException, extra: "list[tuple[str, str]] | tuple" = ()) -> str:
    """A short, actionable hint for a library error (matched on its message), or ``""``.

    ``extra`` (a widget's own :attr:`ActionWidget.hints`) is tried before the common hints.

    >>> from aivle_k8s import DockerfileParseError
    >>> hint_for(DockerfileParseError("dockerfile parse error on line 2: unknown instruction: COPPY")).split(":")[0]
    'Check the Dockerfile line named above'
    """
    text = str(error).lower()
    for needle, hint in [*extra, *_HINTS]:
        if needle in text:
            return hint
    return ""


@dataclass
class ActionOutcome:
    """What :meth:`ActionWidget.perform` did: the handler's result, or the error that rejected it."""

    action: str
    args: dict
    result: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _pre(text: str, style: str = "") -> str:
    return f'<pre style="margin:0;white-space:pre-wrap;{style}">{html.escape(text)}</pre>'


class ActionWidget:
    """Base class of the course widgets (composition: :attr:`widget` is the ipywidgets view).

    Args:
        lab: the lab's name (default: :func:`default_lab`); the journal defaults to ``.<lab>.journal.jsonl``
            in the kernel's cwd.
        journal: a :class:`Journal`, a path, or ``False`` for no journal.
        name: this widget's name in the journal (defaults to :attr:`kind`; give two widgets of
            the same kind in one notebook different names).
    """

    kind = "widget"
    title = "aivle widget"
    hints: list[tuple[str, str]] = []  # (lower-case needle in the error message, hint): tried before the common hints

    def __init__(self, *, lab: str | None = None, journal: Journal | str | os.PathLike | bool | None = None,
                 name: str | None = None):
        self.lab = lab or default_lab()
        self.name = name or self.kind
        if journal is False:
            self.journal: Journal | None = None
        elif isinstance(journal, Journal):
            self.journal = journal
        elif journal is None or journal is True:
            self.journal = Journal.for_lab(self.lab)
        else:
            self.journal = Journal(Path(journal))
        self._handlers: dict[str, Callable[..., Any]] = {}
        self._commands: dict[str, Callable[..., tuple[str, str]]] = {}
        self.history: list[ActionOutcome] = []  # every perform(), in order (the model's log)
        self.last: ActionOutcome | None = None
        self.replayed = 0
        self.replay_error: JournalReplayError | None = None
        self.notes: list[str] = []  # journal warnings, replay summary
        self._register()
        # -- the view ---------------------------------------------------------------------------
        self.header = W.HTML(f"<b>{html.escape(self.title)}</b>")
        self.command_area = W.HTML("", layout=W.Layout(width="100%"))
        self.output = W.Output(layout=W.Layout(width="100%", border="1px solid #ddd"))
        self.status = W.HTML("")
        self.widget = W.VBox([self.header, *self._controls(), self.status, self.command_area, self.output])
        self.widget.add_class(f"aivle-{self.kind}")  # a handle for browser tests and custom styles
        self._replay()
        self.refresh()
        _LIVE.add(self)

    # -- subclass API -----------------------------------------------------------------------------
    def _register(self) -> None:
        """Register actions with :meth:`action` (called before the view is built)."""

    def _controls(self) -> list:
        """The controls (buttons, fields) between the header and the command area."""
        return []

    def _render(self, outcome: ActionOutcome) -> str:
        """HTML for a successful action's result."""
        return _pre(repr(outcome.result))

    def refresh(self) -> None:
        """Redraw the parts of the view that show the world's state (called after every action)."""

    def world_of(self) -> Any:
        """The world this widget acts on (the journal remembers what it applied per world)."""
        raise NotImplementedError

    def action(self, name: str, handler: Callable[..., Any], command: Callable[..., tuple[str, str]]) -> None:
        """Register action ``name``: ``handler(**args)`` calls the public API (and raises
        :class:`AivleError` to reject); ``command(**args)`` returns ``(code, command_line)``,
        the equivalent Python and terminal forms shown for every click."""
        self._handlers[name] = handler
        self._commands[name] = command

    # -- performing -----------------------------------------------------------------------------
    def perform(self, action: str, **args: Any) -> ActionOutcome:
        """Do one action as a click would: call the API, journal it on success, render.

        Never raises for a rejected action: the error is in the returned outcome and shown
        in the widget (``outcome.error``).
        """
        outcome = ActionOutcome(action, dict(args))
        handler = self._handlers.get(action)
        try:
            if handler is None:
                raise AivleError(f"{self.kind} has no action {action!r} (actions: {', '.join(sorted(self._handlers))})")
            outcome.result = handler(**args)
        except Exception as e:  # noqa: BLE001 - shown in the widget, never swallowed
            outcome.error = e
        else:
            if self.journal is not None:
                try:
                    self.journal.append(self.name, action, args, world=self.world_of())
                except (OSError, TypeError) as e:
                    self.notes.append(f"this click could not be saved to the journal ({e}); "
                                      f"autograding will not see it")
        self.history.append(outcome)
        self.last = outcome
        self._show(outcome)
        self.refresh()
        if outcome.ok:
            self._refresh_others()
        return outcome

    def _refresh_others(self) -> None:
        """Redraw the other live widgets on the same world: one click, one consistent picture."""
        world = self.world_of()
        for other in list(_LIVE):
            if other is not self:
                try:
                    same = other.world_of() is world
                except Exception:  # noqa: BLE001 - a widget without a world
                    same = False
                if same:
                    other.callback(other.refresh)()

    def _call(self, action: str, **args: Any) -> Any:
        """Do an action from code: shown in the widget like a click, raised on error, not journaled
        (the code cell itself runs again when the notebook is re-executed)."""
        journal, self.journal = self.journal, None
        try:
            outcome = self.perform(action, **args)
        finally:
            self.journal = journal
        if outcome.error is not None:
            raise outcome.error
        return outcome.result

    def callback(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap a widget callback so any exception is shown in the widget instead of vanishing."""

        def wrapped(*a: Any, **k: Any) -> Any:
            try:
                return fn(*a, **k)
            except Exception as e:  # noqa: BLE001
                self._show(ActionOutcome("callback", {}, error=e))
                return None

        return wrapped

    # -- rendering ------------------------------------------------------------------------------
    def equivalent(self, action: str, args: dict) -> tuple[str, str]:
        """The ``(python code, command line)`` equivalent to an action."""
        command = self._commands.get(action)
        if command is None:
            return "", ""
        try:
            return command(**args)
        except Exception:  # noqa: BLE001 - a bad argument: the handler reports it
            return "", ""

    def _show(self, outcome: ActionOutcome) -> None:
        code, line = self.equivalent(outcome.action, outcome.args)
        parts = []
        if code:
            parts.append(f"<div><small>Python</small>{_pre(code, 'background:#f6f8fa;padding:2px 4px')}</div>")
        if line:
            parts.append(f"<div><small>Terminal</small>{_pre('$ ' + line, 'background:#f6f8fa;padding:2px 4px')}</div>")
        self.command_area.value = "".join(parts)
        if outcome.ok:
            body = self._render(outcome)
            self.status.value = f'<span style="color:#1a7f37">✔ {html.escape(outcome.action)}</span>'
        else:
            body = self._error_html(outcome.error)
            self.status.value = f'<span style="color:#cf222e">✘ {html.escape(outcome.action)} failed</span>'
        self._set_output(body, self.text_of(outcome))

    def _error_html(self, error: BaseException) -> str:
        if isinstance(error, (AivleError, JournalReplayError)):
            message = str(error)
            log = getattr(error, "build_log", "") or ""
            hint = hint_for(error if not isinstance(error, JournalReplayError) or error.cause is None else error.cause,
                            self.hints)
            out = ""
            if log:
                out += _pre(log.rstrip("\n"), "color:#555")
            out += f'<div class="aivle-error">{_pre(message, "color:#cf222e;font-weight:bold")}</div>'
            if hint:
                out += f'<div class="aivle-hint">💡 {html.escape(hint)}</div>'
            return out
        tb = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        return (_pre(f"internal error in the widget: {type(error).__name__}: {error}", "color:#cf222e")
                + f"<details><summary>traceback (please report it)</summary>{_pre(tb)}</details>")

    def text_of(self, outcome: ActionOutcome) -> str:
        """Plain-text form of an outcome (the Output's text/plain)."""
        if outcome.ok:
            return repr(outcome.result)
        hint = hint_for(outcome.error, self.hints)
        return f"{outcome.error}" + (f"\nhint: {hint}" if hint else "")

    def _set_output(self, html_body: str, text: str) -> None:
        notes = "".join(f"<div style='color:#9a6700'>⚠ {html.escape(n)}</div>" for n in self.notes)
        self.output.outputs = ({"output_type": "display_data",
                                "data": {"text/html": notes + html_body, "text/plain": text},
                                "metadata": {}},)

    @property
    def output_text(self) -> str:
        """The text/plain of what the output area shows now (for tests and the self-checks)."""
        return "\n".join(o.get("data", {}).get("text/plain", "") for o in self.output.outputs)

    @property
    def output_html(self) -> str:
        return "\n".join(o.get("data", {}).get("text/html", "") for o in self.output.outputs)

    # -- the journal ------------------------------------------------------------------------------
    def _replay(self) -> None:
        if self.journal is None:
            return
        try:
            self.replayed = self.journal.replay(self.name, self._handlers, world=self.world_of())
        except JournalReplayError as e:
            self.replay_error = e
        self.notes.extend(self.journal.warnings)
        if self.replay_error is not None:
            self._set_output(self._error_html(self.replay_error),
                             f"{self.replay_error}\nhint: fix the cause, or start over with .start_over()")
            self.status.value = '<span style="color:#cf222e">✘ replay stopped</span>'
        elif self.replayed:
            self.status.value = (f"<small>replayed {self.replayed} saved action"
                                 f"{'s' if self.replayed != 1 else ''} from {html.escape(self.journal.path.name)}"
                                 f"</small>")
            if self.notes:
                self._set_output("", "\n".join(self.notes))
        elif self.notes:
            self._set_output("", "\n".join(self.notes))

    def start_over(self) -> int:
        """Forget this widget's saved clicks (the world is not undone: re-run the notebook from the top)."""
        dropped = self.journal.reset(self.name) if self.journal is not None else 0
        self.notes = []
        self._set_output(_pre(f"forgot {dropped} saved action(s); re-run the notebook from the cell that "
                              f"creates the world"), f"forgot {dropped} saved action(s)")
        return dropped

    # -- display -----------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        data = dict(bundle) if isinstance(bundle, dict) else {}
        data["text/plain"] = repr(self)
        return data
