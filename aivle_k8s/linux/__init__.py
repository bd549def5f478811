"""A small Linux: filesystem, kernel and processes, network, shell, core utilities, packages, services.

Importing this package registers every program (shell, core utilities,
system tools, package managers, servers) so executable files in root
filesystems can run them.
"""

from . import coreutils, packages, servers, services, shell, systools  # noqa: F401  (register programs)
from .fs import Entry, FileSystem
from .kernel import Kernel, Namespaces, Process, Stream, register_program

__all__ = ["Entry", "FileSystem", "Kernel", "Namespaces", "Process", "Stream", "register_program"]
