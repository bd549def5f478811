"""Step checks: verify the *state* of a lab's world and say what is missing.

A check is a function registered for ``(lab, step)``::

    @step("lab3", "build_image")
    def _(ctx):
        engine = ctx.engine()                       # "host has no Docker Engine: run ..." when missing
        image = ctx.image(engine, ctx.get("tag", "app:1"))
        ctx.expect(image.layers, "image app:1 has no layers")
        return f"image app:1 built ({len(image.layers)} layers)"

It receives a :class:`Context` (the keyword arguments of :func:`check` plus
helpers), calls :meth:`Context.expect` for each requirement (collecting every
problem) or :meth:`Context.fail` to stop early, and may return a success
message. :func:`check` turns that into a :class:`Feedback`; :func:`assert_step`
raises ``AssertionError(feedback)`` for nbgrader test cells (it prints nothing,
so nothing reaches stderr).

This package imports no Jupyter package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

__all__ = ["Feedback", "Context", "CheckFailed", "step", "check", "assert_step", "steps", "registered"]


@dataclass
class Feedback:
    """The outcome of one step check.

    Attributes:
        lab, step: which check.
        passed: every requirement holds.
        messages: what is missing and what to do (or what was found, when passed).
        points: the step's points when passed (0 when not), if the check declares points.
    """

    lab: str
    step: str
    passed: bool
    messages: list[str] = field(default_factory=list)
    points: float | None = None

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        mark = "✔" if self.passed else "✘"
        head = f"{mark} {self.lab}/{self.step}: {'passed' if self.passed else 'not yet'}"
        return "\n".join([head, *(f"  - {m}" for m in self.messages)])

    __repr__ = __str__

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython
        p.text(str(self))


class CheckFailed(Exception):
    """Raised by :meth:`Context.fail`: a requirement without which the rest cannot be checked."""


class Context:
    """What a check sees: the keyword arguments of :func:`check` and helpers to find state.

    ``world`` is the lab's :class:`~aivle_k8s.World`; ``machine`` (a name or a Machine)
    defaults to ``"host"``.
    """

    def __init__(self, lab: str, step: str, kwargs: dict[str, Any]):
        self.lab, self.step = lab, step
        self.kwargs = dict(kwargs)
        self.problems: list[str] = []

    # -- arguments ---------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        return self.kwargs.get(key, default)

    def __getitem__(self, key: str) -> Any:
        if key not in self.kwargs:
            self.fail(f"check({self.lab!r}, {self.step!r}, ...) needs {key}=...")
        return self.kwargs[key]

    # -- outcomes ----------------------------------------------------------------------------
    def expect(self, condition: Any, message: str) -> bool:
        """Record ``message`` as a problem unless ``condition`` holds; returns the condition."""
        if not condition:
            self.problems.append(message)
        return bool(condition)

    def fail(self, message: str) -> None:
        """Stop the check here: ``message`` says what is missing."""
        raise CheckFailed(message)

    # -- finding state -----------------------------------------------------------------------
    @property
    def world(self) -> Any:
        world = self.kwargs.get("world")
        if world is None:
            self.fail(f"pass the lab's world: check({self.lab!r}, {self.step!r}, world=world)")
        return world

    def machine(self, key: str = "machine", default: str = "host") -> Any:
        """The machine named by argument ``key`` (a name or a Machine), ``default`` when absent."""
        value = self.kwargs.get(key, default)
        if not isinstance(value, str):
            return value
        machines = getattr(self.world, "machines", {})
        if value not in machines:
            have = ", ".join(machines) or "none yet"
            self.fail(f'there is no machine named "{value}" (machines: {have}): create it with '
                      f'world.machine("{value}")')
        return machines[value]

    def engine(self, key: str = "machine", default: str = "host") -> Any:
        """The machine's running Docker Engine, or fail with what to do."""
        m = self.machine(key, default)
        engine = getattr(m, "engine", None)
        if engine is None:
            self.fail(f"{m.name} has no Docker Engine: run `sudo apt-get install -y docker.io` first")
        if not engine.running:
            self.fail(f"Docker is installed on {m.name} but not running: run `sudo systemctl start docker`")
        return engine

    def image(self, engine: Any, reference: str, hint: str = "") -> Any:
        """The image ``reference`` in ``engine``'s store, or fail saying it is not there."""
        if not engine.images.exists(reference):
            self.fail(f"{engine.machine.name} has no image {reference}" + (f": {hint}" if hint else ""))
        return engine.images.get(reference)


Check = Callable[[Context], Any]
_REGISTRY: dict[tuple[str, str], tuple[Check, float | None, str]] = {}


def step(lab: str, name: str, *, points: float | None = None) -> Callable[[Check], Check]:
    """Register a check for ``(lab, name)`` (decorator). ``points``: what passing the step is worth."""

    def register(fn: Check) -> Check:
        _REGISTRY[(lab, name)] = (fn, points, (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else "")
        return fn

    return register


def _load_builtin() -> None:
    # each module registers its labs' checks on import
    from . import lab1, lab2, lab3, lab4, lab5, lab6, lab7  # noqa: F401


def registered() -> dict[tuple[str, str], str]:
    """Every ``(lab, step)`` with a check, and the first line of its docstring."""
    _load_builtin()
    return {key: doc for key, (_, _, doc) in sorted(_REGISTRY.items())}


def steps(lab: str) -> list[str]:
    """The steps of ``lab`` that have checks, in registration order."""
    _load_builtin()
    return [s for (lb, s) in _REGISTRY if lb == lab]


def check(lab: str, step: str, **context: Any) -> Feedback:
    """Run the check of ``lab``/``step`` against the state in ``context`` (usually ``world=world``).

    Never raises for a failed requirement (that is ``Feedback(passed=False)``); raises
    ``KeyError`` for an unknown step.
    """
    _load_builtin()
    try:
        fn, points, _ = _REGISTRY[(lab, step)]
    except KeyError:
        known = ", ".join(s for (lb, s) in _REGISTRY if lb == lab) or "none"
        raise KeyError(f"no check named {lab}/{step} (steps of {lab}: {known})") from None
    ctx = Context(lab, step, context)
    done: Any = None
    try:
        done = fn(ctx)
    except CheckFailed as e:
        ctx.problems.append(str(e))
    except AssertionError as e:
        ctx.problems.append(str(e) or "a requirement does not hold")
    passed = not ctx.problems
    if passed:
        messages = [done] if isinstance(done, str) else list(done or [])
    else:
        messages = ctx.problems
    return Feedback(lab, step, passed, messages, (points if passed else 0) if points is not None else None)


def assert_step(lab: str, step: str, **context: Any) -> Feedback:
    """Like :func:`check`, but raise ``AssertionError`` (its message is the feedback) when the step fails.

    For nbgrader test cells: a failure is an error output with actionable words; nothing is printed.
    """
    fb = check(lab, step, **context)
    if not fb.passed:
        raise AssertionError(str(fb))
    return fb


def all_checks(lab: str, **context: Any) -> list[Feedback]:
    """Run every step of ``lab`` (a self-review)."""
    return [check(lab, s, **context) for s in steps(lab)]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _iter(x: Any) -> Iterable:
    return x if isinstance(x, (list, tuple, set)) else [x]
