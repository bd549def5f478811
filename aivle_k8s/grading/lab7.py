"""Checks of lab7: Operate a cluster (deploy, expose, scale, roll out/back, node failure, etcd backup)."""

from __future__ import annotations

from .core import Context, step  # noqa: F401
