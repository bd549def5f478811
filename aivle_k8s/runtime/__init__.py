"""Container runtimes as a kubelet sees them: the CRI (``RuntimeService`` + ``ImageService``).

* :mod:`.protocol` — the services and their messages, named after CRI v1;
* :mod:`.simulated` — :class:`SimulatedRuntime`, the CRI over a simulated
  :class:`~aivle_k8s.engine.Engine` (containerd's, or dockerd's through cri-dockerd).
"""

from __future__ import annotations

from .protocol import (CONTAINER_CREATED, CONTAINER_EXITED, CONTAINER_RUNNING, CONTAINER_UNKNOWN, SANDBOX_NOTREADY,
                       SANDBOX_READY, AuthConfig, Container, ContainerConfig, ContainerFilter, ContainerMetadata,
                       ContainerStats, ContainerStatus, DNSConfig, ExecSyncResponse, Image, ImageService, ImageSpec,
                       Mount, PodSandbox, PodSandboxConfig, PodSandboxFilter, PodSandboxMetadata, PodSandboxStatus,
                       PortMapping, Resources, RuntimeCondition, RuntimeService, VersionResponse)
from .simulated import PAUSE_IMAGE, SimulatedRuntime, pause_image

__all__ = [
    "RuntimeService",
    "ImageService",
    "SimulatedRuntime",
    "PAUSE_IMAGE",
    "pause_image",
    "VersionResponse",
    "RuntimeCondition",
    "PodSandboxMetadata",
    "PodSandboxConfig",
    "PodSandbox",
    "PodSandboxStatus",
    "PodSandboxFilter",
    "PortMapping",
    "DNSConfig",
    "Resources",
    "Mount",
    "ContainerMetadata",
    "ContainerConfig",
    "Container",
    "ContainerStatus",
    "ContainerFilter",
    "ContainerStats",
    "ExecSyncResponse",
    "ImageSpec",
    "AuthConfig",
    "Image",
    "SANDBOX_READY",
    "SANDBOX_NOTREADY",
    "CONTAINER_CREATED",
    "CONTAINER_RUNNING",
    "CONTAINER_EXITED",
    "CONTAINER_UNKNOWN",
]
