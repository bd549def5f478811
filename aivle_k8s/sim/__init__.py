"""The deterministic core: simulated clock, events and tasks, seeded randomness, errors."""

from .clock import Event, Interrupt, Loop, Task, Timer, all_of, any_of
from .errors import *  # noqa: F401,F403
from .errors import __all__ as _errors_all

__all__ = ["Loop", "Timer", "Event", "Task", "Interrupt", "all_of", "any_of", *_errors_all]
