"""Checks of lab5: Kubernetes architecture (follow one kubectl apply through every component)."""

from __future__ import annotations

from .core import Context, step  # noqa: F401
