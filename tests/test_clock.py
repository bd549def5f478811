"""The simulated clock: ordering, periodic timers, tasks and events."""

import pytest

from aivle_k8s.sim import Interrupt, Loop, SimulationError, all_of, any_of


def test_callbacks_run_in_time_order_and_fifo_on_ties():
    loop = Loop()
    seen = []
    loop.call_later(2, lambda: seen.append("late"))
    loop.call_later(1, lambda: seen.append("first"))
    loop.call_later(1, lambda: seen.append("second"))
    loop.advance(3)
    assert seen == ["first", "second", "late"]
    assert loop.now == 3


def test_advance_stops_before_future_callbacks():
    loop = Loop()
    seen = []
    loop.call_later(10, lambda: seen.append(loop.now))
    loop.advance(9.5)
    assert seen == [] and loop.now == 9.5
    loop.advance(0.5)
    assert seen == [10.0]


def test_cancelled_timer_never_runs():
    loop = Loop()
    seen = []
    t = loop.call_later(1, lambda: seen.append(1))
    t.cancel()
    loop.advance(5)
    assert seen == []


def test_call_every_repeats_until_cancelled():
    loop = Loop()
    ticks = []
    t = loop.call_every(10, lambda: ticks.append(loop.now))
    loop.advance(30)
    t.cancel()
    loop.advance(30)
    assert ticks == [10.0, 20.0, 30.0]


def test_call_every_can_cancel_itself_from_its_callback():
    loop = Loop()
    ticks = []
    holder = {}

    def tick():
        ticks.append(loop.now)
        if len(ticks) == 2:
            holder["t"].cancel()

    holder["t"] = loop.call_every(1, tick)
    loop.advance(10)
    assert ticks == [1.0, 2.0]


def test_run_until_returns_when_predicate_holds():
    loop = Loop()
    state = {"n": 0}
    loop.call_every(1, lambda: state.__setitem__("n", state["n"] + 1))
    assert loop.run_until(lambda: state["n"] == 3)
    assert loop.now == 3


def test_run_until_gives_up_after_timeout():
    loop = Loop()
    assert loop.run_until(lambda: False, timeout=5) is False
    assert loop.now == 5


def test_run_until_idle_drains_one_shot_callbacks():
    loop = Loop()
    seen = []
    loop.call_later(100, lambda: seen.append(1))
    loop.run_until_idle()
    assert seen == [1] and loop.peek() is None


def test_negative_delay_and_time_travel_are_errors():
    loop = Loop()
    with pytest.raises(SimulationError):
        loop.call_later(-1, lambda: None)
    with pytest.raises(SimulationError):
        loop.advance(-1)
    with pytest.raises(SimulationError):
        loop.call_every(0, lambda: None)


def test_task_waits_on_timeouts_and_returns_a_value():
    loop = Loop()

    def job():
        yield loop.timeout(5)
        value = yield loop.timeout(2, value="done")
        return value

    task = loop.spawn(job())
    assert not task.finished
    loop.advance(6)
    assert not task.finished
    loop.advance(1)
    assert task.finished and task.result == "done"


def test_task_interrupt_is_raised_at_the_wait():
    loop = Loop()
    log = []

    def job():
        try:
            yield loop.timeout(100)
        except Interrupt as e:
            log.append(("interrupted", e.cause, loop.now))
        return "ok"

    task = loop.spawn(job())
    loop.advance(3)
    task.interrupt("stop")
    assert log == [("interrupted", "stop", 3.0)] and task.result == "ok"


def test_task_cancel_runs_finally_blocks():
    loop = Loop()
    log = []

    def job():
        try:
            yield loop.event()
        finally:
            log.append("cleanup")

    task = loop.spawn(job())
    task.cancel(result=-1)
    assert log == ["cleanup"] and task.finished and task.result == -1


def test_yielding_something_else_than_an_event_is_reported_in_the_task():
    loop = Loop()

    def job():
        try:
            yield 42
        except SimulationError as e:
            return str(e)

    task = loop.spawn(job())
    assert "expected an Event" in task.result


def test_any_of_and_all_of():
    loop = Loop()
    a, b = loop.timeout(1, "a"), loop.timeout(3, "b")
    first, both = any_of(loop, [a, b]), all_of(loop, [a, b])
    loop.advance(1)
    assert first.triggered and first.value is a and not both.triggered
    loop.advance(2)
    assert both.value == ["a", "b"]


def test_event_cannot_fire_twice():
    loop = Loop()
    ev = loop.event()
    ev.succeed(1)
    with pytest.raises(SimulationError):
        ev.succeed(2)
