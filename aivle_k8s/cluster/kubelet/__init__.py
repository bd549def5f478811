"""The kubelet: node registration, status and lease, pod sync through the CRI, probes, static pods.

- :mod:`.kubelet`      the :class:`Kubelet` class (and :func:`runtime_for`, the CRI of a machine)
- :mod:`.pod_workers`  per-pod state and the CrashLoopBackOff / ImagePullBackOff back-off
- :mod:`.probes`       httpGet / tcpSocket / exec probes
- :mod:`.status`       the Node object and node status
- :mod:`.static`       static pods and their mirror pods
- :mod:`.program`      the ``kubelet`` program the systemd unit runs
"""

from __future__ import annotations

from . import program as _program  # noqa: F401  (registers the `kubelet` program)
from .kubelet import DEFAULT_CONFIG, MIRROR_ANNOTATION, Kubelet, KubeletEndpoint, KubeletError, runtime_for
from .pod_workers import Backoff

__all__ = ["Kubelet", "KubeletError", "KubeletEndpoint", "DEFAULT_CONFIG", "MIRROR_ANNOTATION", "runtime_for",
           "Backoff"]
