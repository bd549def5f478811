"""The one error tree of aivle_k8s.

Every mistake a student can make raises a subclass of :class:`AivleError` whose
message says what was wrong and what to do, in the real tool's words where
one exists. A rejected operation changes nothing.

::

    AivleError
     ├── InvalidInput                 bad user input (names, files, flags)
     │    ├── InvalidReference        image reference grammar    (images.reference)
     │    ├── DockerfileParseError    Dockerfile syntax, names the line
     │    └── UsageError              a command line typed wrong (docker, kubeadm ...)
     ├── NotFound                     no such object
     │    ├── ImageNotFound           local store or registry
     │    ├── ContainerNotFound
     │    └── VolumeNotFound
     ├── AlreadyExists
     ├── Conflict                     state forbids it (name in use, container running ...)
     ├── BuildError(build_log)        a Dockerfile step failed
     ├── RegistryError                talking to a registry
     │    ├── Unauthorized            missing or wrong credentials / no push rights
     │    └── ManifestUnknown, BlobUnknown, NameUnknown
     ├── ContainerError               a container could not start / exited non-zero
     ├── FsError(errno)               a filesystem operation failed (ENOENT, EISDIR ...)
     ├── NetworkError                 connection refused / no route / unknown host
     └── SimulationError              the simulated world was driven wrongly (e.g. run_until never true)

>>> try:
...     raise NotFound("pods \\"web\\" not found")
... except AivleError as e:
...     print(e)
pods "web" not found
"""

from __future__ import annotations

__all__ = [
    "AivleError",
    "InvalidInput",
    "InvalidReference",
    "DockerfileParseError",
    "UsageError",
    "NotFound",
    "ImageNotFound",
    "ContainerNotFound",
    "VolumeNotFound",
    "AlreadyExists",
    "Conflict",
    "BuildError",
    "RegistryError",
    "Unauthorized",
    "NameUnknown",
    "ManifestUnknown",
    "BlobUnknown",
    "ContainerError",
    "FsError",
    "NetworkError",
    "SimulationError",
]


class AivleError(Exception):
    """Root of every error the library raises on purpose."""

    def __init__(self, message: str = "", **context):
        super().__init__(message)
        self.message = message
        for key, value in context.items():
            setattr(self, key, value)

    def __str__(self) -> str:  # keep the message exactly as written
        return self.message


class InvalidInput(AivleError):
    """The user gave input that is not valid."""


class InvalidReference(InvalidInput):
    """An image reference does not follow the Docker reference grammar."""


class DockerfileParseError(InvalidInput):
    """A Dockerfile could not be parsed; ``line`` is the 1-based line number."""

    def __init__(self, message: str, line: int | None = None, **context):
        super().__init__(message, line=line, **context)


class UsageError(InvalidInput):
    """A command line was typed wrong (unknown command, flag or argument)."""


class NotFound(AivleError):
    """The named object does not exist."""


class ImageNotFound(NotFound):
    """No such image locally or in the registry."""


class ContainerNotFound(NotFound):
    """No such container."""


class VolumeNotFound(NotFound):
    """No such volume."""


class AlreadyExists(AivleError):
    """An object with that name already exists."""


class Conflict(AivleError):
    """The current state forbids the operation."""


class BuildError(AivleError):
    """A build step failed; ``build_log`` holds the log up to the failure."""

    def __init__(self, message: str, build_log: str = "", **context):
        super().__init__(message, build_log=build_log, **context)


class RegistryError(AivleError):
    """A registry refused a request."""


class Unauthorized(RegistryError):
    """Authentication required or access denied."""


class NameUnknown(RegistryError):
    """The repository is not known to the registry."""


class ManifestUnknown(RegistryError):
    """The tag or digest is not known to the registry."""


class BlobUnknown(RegistryError):
    """A blob is not known to the registry."""


class ContainerError(AivleError):
    """A container failed to start or exited with a non-zero status."""


class FsError(AivleError):
    """A filesystem operation failed; ``errno`` is the symbolic name (ENOENT...)."""

    def __init__(self, message: str, errno: str = "EIO", path: str = "", **context):
        super().__init__(message, errno=errno, path=path, **context)


class NetworkError(AivleError):
    """A network operation failed (refused, unreachable, unknown host)."""


class SimulationError(AivleError):
    """The simulated world was driven in a way that cannot work."""
