"""Checks of lab6: Build a cluster (prepare, runtime, Kubernetes, init, CNI, join)."""

from __future__ import annotations

from .core import Context, step  # noqa: F401
