"""kubeadm's errors: what ``kubeadm`` prints before exiting 1, as Python exceptions."""

from __future__ import annotations

from ...sim.errors import AivleError

__all__ = ["KubeadmError", "PreflightError", "DiscoveryError"]


class KubeadmError(AivleError):
    """A kubeadm command failed; ``message`` is kubeadm's last line(s) (``error execution phase ...``).

    ``output`` holds everything the command printed (stdout and stderr, in order).
    """

    def __init__(self, message: str, *, output: str = "", phase: str = "", **context):
        super().__init__(message, output=output, phase=phase, **context)


class PreflightError(KubeadmError):
    """Fatal pre-flight checks: ``checks`` is a list of ``(name, message)``; nothing on the machine changed."""

    def __init__(self, checks: list[tuple[str, str]], *, warnings: list[tuple[str, str]] | None = None,
                 output: str = ""):
        lines = "".join(f"\t[ERROR {name}]: {msg}\n" for name, msg in checks)
        message = (f"error execution phase preflight: [preflight] Some fatal errors occurred:\n{lines}"
                   "[preflight] If you know what you are doing, you can make a check non-fatal with "
                   "`--ignore-preflight-errors=...`")
        super().__init__(message, output=output, phase="preflight")
        self.checks = list(checks)
        self.warnings = list(warnings or [])

    @property
    def names(self) -> list[str]:
        return [n for n, _ in self.checks]


class DiscoveryError(KubeadmError):
    """``kubeadm join`` could not validate the identity of the API server."""
