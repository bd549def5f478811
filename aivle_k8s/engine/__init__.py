"""The container engine: what ``dockerd`` (and ``containerd``) keep on a machine.

::

    Engine(machine)                 one daemon: images, containers, volumes, networks
     ├── images      ImageCollection   pull / push / build / tag / rmi / history
     ├── containers  ContainerCollection  run / create / ps / rm  ->  Container
     ├── volumes     VolumeCollection  named volumes (data that outlives containers)
     └── networks    NetworkCollection bridge (docker0), host, none, user-defined bridges

Importing this package registers the ``docker`` (:mod:`.cli`), ``dockerd``,
``containerd``, ``registry`` and ``docker-init`` programs and the
``docker.io`` / ``containerd`` package hooks.
"""

from __future__ import annotations

from . import cli as _cli  # noqa: F401  (registers the docker program)
from .containers import Container, ContainerCollection, ExecResult, LogLine, Mount
from .daemon import docker_hub, install_containerd, install_docker, serve_registry
from .engine import DaemonNotRunning, Engine, ImageCollection
from .networks import Network, NetworkCollection
from .registry_server import RegistryEndpoint
from .volumes import Volume, VolumeCollection

__all__ = [
    "Engine",
    "DaemonNotRunning",
    "ImageCollection",
    "Container",
    "ContainerCollection",
    "ExecResult",
    "LogLine",
    "Mount",
    "Volume",
    "VolumeCollection",
    "Network",
    "NetworkCollection",
    "RegistryEndpoint",
    "docker_hub",
    "serve_registry",
    "install_docker",
    "install_containerd",
]
