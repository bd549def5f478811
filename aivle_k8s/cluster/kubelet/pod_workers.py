"""Per-pod bookkeeping of the kubelet and client-go's exponential back-off.

:class:`Backoff` is ``k8s.io/client-go/util/flowcontrol.Backoff`` as the kubelet
uses it for container restarts (CrashLoopBackOff) and image pulls
(ImagePullBackOff): 10 s doubling to 300 s, and an entry not updated for
twice the maximum (10 minutes) starts again at 10 s.

>>> b = Backoff(10, 300)
>>> b.in_backoff_since("web", 0.0, now=0.0)   # first crash: restart at once
False
>>> b.next("web", 0.0); b.get("web")
10.0
>>> b.in_backoff_since("web", 5.0, now=12.0)  # second crash at t=5: wait until t=15
True
>>> b.next("web", 15.0); b.get("web")
20.0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Backoff", "ContainerRecord", "PodWorker"]


class Backoff:
    """Exponential back-off per key, on simulated time."""

    def __init__(self, initial: float = 10.0, maximum: float = 300.0):
        self.initial = float(initial)
        self.maximum = float(maximum)
        self._entries: dict[str, tuple[float, float]] = {}  # key -> (backoff, last update)

    def get(self, key: str) -> float:
        entry = self._entries.get(key)
        return entry[0] if entry else 0.0

    def next(self, key: str, now: float) -> None:
        entry = self._entries.get(key)
        if entry is None or now - entry[1] > 2 * self.maximum:
            self._entries[key] = (self.initial, now)
        else:
            self._entries[key] = (min(entry[0] * 2, self.maximum), now)

    def in_backoff_since(self, key: str, event_time: float, now: float) -> bool:
        entry = self._entries.get(key)
        if entry is None:
            return False
        if now - entry[1] > 2 * self.maximum:  # expired
            return False
        return now - event_time < entry[0] - 1e-6  # (float noise must not keep it in back-off)

    def remaining(self, key: str, event_time: float, now: float) -> float:
        return max(0.0, event_time + self.get(key) - now)

    def reset(self, key: str) -> None:
        self._entries.pop(key, None)

    def forget_prefix(self, prefix: str) -> None:
        for k in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[k]


@dataclass
class ContainerRecord:
    """What the kubelet remembers about one container of a pod across restarts."""

    name: str
    init: bool = False
    id: str | None = None  # the current CRI container id
    previous_id: str | None = None
    restart_count: int = 0
    attempt: int = 0
    last_state: dict = field(default_factory=dict)  # {"terminated": {...}} of the previous instance
    waiting: tuple[str, str] | None = ("ContainerCreating", "")  # (reason, message) when not running
    pulling_until: float | None = None
    pull_started: float = 0.0
    image_id: str = ""
    image_ref: str = ""
    started: bool = False  # startup probe passed (or none)
    ready: bool = False
    liveness_failures: int = 0
    readiness_successes: int = 0
    readiness_failures: int = 0
    startup_failures: int = 0
    probe_timers: list = field(default_factory=list)
    killing: bool = False
    done: bool = False  # terminated and not to be restarted (restartPolicy)
    started_at: float | None = None
    finished_at: float | None = None
    pull_failed_at: float | None = None


@dataclass
class PodWorker:
    """The kubelet's state for one pod (the API object, its sandbox, its containers)."""

    key: str  # namespace/name
    pod: dict
    static: bool = False
    sandbox_id: str | None = None
    sandbox_attempt: int = 0
    pod_ip: str = ""
    containers: dict[str, ContainerRecord] = field(default_factory=dict)
    start_time: str | None = None
    terminating: bool = False
    terminated: bool = False
    last_status: Any = None
    timer: Any = None
    stop_events: list = field(default_factory=list)
    mounts_ready: bool = False
    finished_phase: str | None = None
    #: what the PLEG saw when the pod was last synced into a steady state (sandbox and container
    #: ids with their states); ``None`` while the pod still needs syncing every relist
    pleg: tuple | None = None
    pleg_checked: bool = False  # ``pleg`` matched the runtime at the last relist
    synced_at: float = float("-inf")
    #: the runtime was asked (once, before the first sync) for sandboxes and containers a previous
    #: kubelet left for this pod (a kubelet restart, a reboot): they are taken over, not duplicated
    adopted: bool = False

    @property
    def uid(self) -> str:
        return self.pod.get("metadata", {}).get("uid", "")

    @property
    def name(self) -> str:
        return self.pod["metadata"]["name"]

    @property
    def namespace(self) -> str:
        return self.pod["metadata"].get("namespace", "default")
