"""Registries: Docker Hub and private registries, push and pull by digest.

:mod:`.registry` holds :class:`Registry` (the server) and :func:`push_image` /
:func:`pull_image` (the client side, used by the engine); :mod:`.catalog`
seeds Docker Hub with the official images.
"""

from __future__ import annotations

from .registry import (
    DOCKER_HUB_BANDWIDTH,
    LAN_BANDWIDTH,
    Denied,
    PullReport,
    PushReport,
    Registry,
    docker_hub_rule,
    pull_image,
    push_image,
)

__all__ = [
    "Registry",
    "Denied",
    "PushReport",
    "PullReport",
    "push_image",
    "pull_image",
    "docker_hub_rule",
    "DOCKER_HUB_BANDWIDTH",
    "LAN_BANDWIDTH",
]
