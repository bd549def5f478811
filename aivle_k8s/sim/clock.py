"""The deterministic simulated clock and event loop.

One heap of ``(time, seq, callback)``: callbacks due at the same simulated time
run in the order they were scheduled (``seq`` breaks ties, FIFO). Nothing here
reads the wall clock, sleeps or starts a thread, so a world driven by the same
calls gives the same results on every run and every machine.

Long-running activities (a process, a kubelet's sync loop) are Python
generators driven by :class:`Task`: they ``yield`` an :class:`Event` (for
example ``loop.timeout(5)``) and resume when it fires.

>>> loop = Loop()
>>> seen = []
>>> _ = loop.call_later(2, lambda: seen.append(("b", loop.now)))
>>> _ = loop.call_later(1, lambda: seen.append(("a", loop.now)))
>>> loop.advance(5)
>>> seen, loop.now
([('a', 1.0), ('b', 2.0)], 5.0)
"""

from __future__ import annotations

import atexit
import heapq
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Iterable

from .errors import SimulationError

__all__ = ["Loop", "Timer", "Event", "Task", "Interrupt", "all_of", "any_of"]


@dataclass(order=True)
class Timer:
    """A scheduled callback; ``cancel()`` keeps it from running."""

    when: float
    seq: int
    callback: Callable[[], Any] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class Loop:
    """A simulated clock with a heap of pending callbacks.

    Args:
        start: the simulated time (seconds) the clock starts at.
    """

    def __init__(self, start: float = 0.0):
        self.now: float = float(start)
        self._heap: list[Timer] = []
        self._seq = 0
        self._running = False
        # Held while simulated time runs: an HTTP face (aivle_k8s.serve) takes it for each request,
        # so real clients and the kernel's own code never touch the world at the same moment.
        self.lock = threading.RLock()

    # -- scheduling -----------------------------------------------------
    def call_at(self, when: float, callback: Callable[[], Any]) -> Timer:
        """Run ``callback`` at simulated time ``when`` (never in the past)."""
        when = max(float(when), self.now)
        self._seq += 1
        timer = Timer(when, self._seq, callback)
        heapq.heappush(self._heap, timer)
        return timer

    def call_later(self, delay: float, callback: Callable[[], Any]) -> Timer:
        """Run ``callback`` after ``delay`` simulated seconds."""
        if delay < 0:
            raise SimulationError(f"delay must not be negative, got {delay}")
        return self.call_at(self.now + delay, callback)

    def call_soon(self, callback: Callable[[], Any]) -> Timer:
        """Run ``callback`` at the current time, after what is already due."""
        return self.call_at(self.now, callback)

    def call_every(self, interval: float, callback: Callable[[], Any], *, first: float | None = None) -> Timer:
        """Run ``callback`` every ``interval`` seconds until the returned timer is cancelled.

        >>> loop = Loop(); ticks = []
        >>> t = loop.call_every(10, lambda: ticks.append(loop.now))
        >>> loop.advance(35); t.cancel(); loop.advance(100)
        >>> ticks
        [10.0, 20.0, 30.0]
        """
        if interval <= 0:
            raise SimulationError(f"interval must be positive, got {interval}")
        handle = Timer(0, 0, callback)

        def tick() -> None:
            if handle.cancelled:
                return
            callback()
            if not handle.cancelled:
                inner = self.call_later(interval, tick)
                handle.when, handle.seq = inner.when, inner.seq
                handle._inner = inner  # type: ignore[attr-defined]

        inner = self.call_later(interval if first is None else first, tick)
        handle.when, handle.seq = inner.when, inner.seq
        return handle

    # -- running --------------------------------------------------------
    def peek(self) -> float | None:
        """The time of the next pending callback, or ``None``."""
        self._drop_cancelled()
        return self._heap[0].when if self._heap else None

    def _drop_cancelled(self) -> None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)

    def step(self) -> bool:
        """Run the next pending callback; return False when nothing is pending."""
        self._drop_cancelled()
        if not self._heap:
            return False
        timer = heapq.heappop(self._heap)
        self.now = timer.when
        timer.callback()
        return True

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of simulated time pass, running everything due."""
        if seconds < 0:
            raise SimulationError(f"cannot go back in time ({seconds} s)")
        self.run_until_time(self.now + seconds)

    def run_until_time(self, when: float) -> None:
        with self.lock:
            self._run_until_time(when)

    def _run_until_time(self, when: float) -> None:
        while True:
            nxt = self.peek()
            if nxt is None or nxt > when:
                break
            self.step()
        self.now = max(self.now, when)

    def run_until(self, predicate: Callable[[], bool], *, timeout: float = 3600.0) -> bool:
        """Run until ``predicate()`` is true; stop after ``timeout`` simulated seconds.

        Returns whether the predicate became true. Callbacks due at the same
        instant as the one that made it true are left pending.
        """
        with self.lock:
            return self._run_until(predicate, timeout)

    def _run_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        deadline = self.now + timeout
        if predicate():
            return True
        while True:
            nxt = self.peek()
            if nxt is None or nxt > deadline:
                self.now = max(self.now, deadline)
                return predicate()
            self.step()
            if predicate():
                return True

    def run_until_idle(self, *, limit: float = 86400.0) -> None:
        """Run until nothing is pending (periodic timers keep a world busy: bounded by ``limit``)."""
        with self.lock:
            self._run_until_idle(limit)

    def _run_until_idle(self, limit: float) -> None:
        deadline = self.now + limit
        while True:
            nxt = self.peek()
            if nxt is None or nxt > deadline:
                return
            self.step()

    # -- events ---------------------------------------------------------
    def event(self) -> "Event":
        return Event(self)

    def timeout(self, delay: float, value: Any = None) -> "Event":
        """An event that fires after ``delay`` simulated seconds."""
        ev = Event(self)
        self.call_later(max(0.0, delay), lambda: ev.succeed(value) if not ev.triggered else None)
        return ev

    def spawn(self, gen: Generator, name: str = "task") -> "Task":
        """Drive generator ``gen`` as a task starting now (synchronously, until its first wait)."""
        return Task(self, gen, name)


class Event:
    """Something that happens once; callbacks (and waiting tasks) run when it does."""

    def __init__(self, loop: Loop):
        self.loop = loop
        self.triggered = False
        self.value: Any = None
        self._callbacks: list[Callable[["Event"], Any]] = []

    def succeed(self, value: Any = None) -> "Event":
        if self.triggered:
            raise SimulationError("event already triggered")
        self.triggered = True
        self.value = value
        callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb(self)
        return self

    def add_callback(self, cb: Callable[["Event"], Any]) -> None:
        if self.triggered:
            cb(self)
        else:
            self._callbacks.append(cb)

    def remove_callback(self, cb: Callable[["Event"], Any]) -> None:
        if cb in self._callbacks:
            self._callbacks.remove(cb)

    def __repr__(self) -> str:
        return f"<Event {'triggered' if self.triggered else 'pending'}>"


def any_of(loop: Loop, events: Iterable[Event]) -> Event:
    """An event that fires with the first of ``events`` to fire."""
    out = Event(loop)
    for ev in events:
        ev.add_callback(lambda e: out.succeed(e) if not out.triggered else None)
    return out


def all_of(loop: Loop, events: Iterable[Event]) -> Event:
    """An event that fires when every one of ``events`` has fired."""
    events = list(events)
    out = Event(loop)
    remaining = [len(events)]
    if not events:
        return out.succeed([])

    def done(_e: Event) -> None:
        remaining[0] -= 1
        if remaining[0] == 0 and not out.triggered:
            out.succeed([e.value for e in events])

    for ev in events:
        ev.add_callback(done)
    return out


_LIVE_TASKS: "weakref.WeakSet[Task]" = weakref.WeakSet()


@atexit.register
def _close_live_tasks() -> None:
    """Close still-waiting tasks while the interpreter is intact, so their ``finally`` blocks
    don't run (and fail noisily) during interpreter teardown."""
    for task in list(_LIVE_TASKS):
        try:
            task.gen.close()
        except Exception:  # pragma: no cover - best effort at exit
            pass


class Interrupt(Exception):
    """Thrown into a task's generator by :meth:`Task.interrupt`."""

    def __init__(self, cause: Any = None):
        super().__init__(cause)
        self.cause = cause


class Task:
    """Drives a generator that yields :class:`Event` objects.

    The generator resumes with the event's value when the event fires. When
    it returns, :attr:`done` fires with the return value. ``interrupt(cause)``
    throws :class:`Interrupt` into it at its current wait; ``cancel()`` closes it.
    """

    def __init__(self, loop: Loop, gen: Generator, name: str = "task"):
        self.loop = loop
        self.gen = gen
        self.name = name
        self.done = Event(loop)
        self.result: Any = None
        self._waiting: Event | None = None
        self._resume(None, None)
        if not self.done.triggered:
            _LIVE_TASKS.add(self)

    @property
    def finished(self) -> bool:
        return self.done.triggered

    def _on_event(self, ev: Event) -> None:
        if self._waiting is ev and not self.finished:
            self._waiting = None
            self._resume(ev.value, None)

    def _resume(self, value: Any, exc: BaseException | None) -> None:
        while True:
            try:
                if exc is not None:
                    target = self.gen.throw(exc)
                else:
                    target = self.gen.send(value)
            except StopIteration as stop:
                self.result = stop.value
                self.done.succeed(stop.value)
                return
            exc = None
            if not isinstance(target, Event):
                exc = SimulationError(f"task {self.name!r} yielded {target!r}, expected an Event")
                continue
            if target.triggered:
                value = target.value
                continue
            self._waiting = target
            target.add_callback(self._on_event)
            return

    def interrupt(self, cause: Any = None) -> None:
        """Throw :class:`Interrupt` into the task at the point where it waits."""
        if self.finished:
            return
        if self._waiting is not None:
            self._waiting.remove_callback(self._on_event)
            self._waiting = None
        self._resume(None, Interrupt(cause))

    def cancel(self, result: Any = None) -> None:
        """Stop the task now (its ``finally`` blocks run); ``done`` fires with ``result``."""
        if self.finished:
            return
        if self._waiting is not None:
            self._waiting.remove_callback(self._on_event)
            self._waiting = None
        self.gen.close()
        self.result = result
        self.done.succeed(result)
