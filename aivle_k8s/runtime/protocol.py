"""The Container Runtime Interface, shaped like Kubernetes' CRI v1 (``runtime/v1/api.proto``).

A kubelet does not run containers itself: it asks a *container runtime*
(containerd, CRI-O, or Docker Engine through cri-dockerd) through two
services over a UNIX socket:

* :class:`RuntimeService` — pod sandboxes (the pod's shared network
  namespace, held by a ``pause`` container) and the containers in them;
* :class:`ImageService` — pulling, listing and removing images.

Names follow the proto (``RunPodSandbox`` -> ``run_pod_sandbox``); messages are
small dataclasses. Times are simulated seconds (the proto uses nanoseconds).
States are the proto's enum names (``CONTAINER_RUNNING``, ``SANDBOX_READY``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = [
    "RuntimeService",
    "ImageService",
    "VersionResponse",
    "RuntimeCondition",
    "PodSandboxMetadata",
    "PortMapping",
    "DNSConfig",
    "PodSandboxConfig",
    "PodSandbox",
    "PodSandboxStatus",
    "PodSandboxFilter",
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

SANDBOX_READY = "SANDBOX_READY"
SANDBOX_NOTREADY = "SANDBOX_NOTREADY"
CONTAINER_CREATED = "CONTAINER_CREATED"
CONTAINER_RUNNING = "CONTAINER_RUNNING"
CONTAINER_EXITED = "CONTAINER_EXITED"
CONTAINER_UNKNOWN = "CONTAINER_UNKNOWN"


# -- messages ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class VersionResponse:
    version: str = "0.1.0"  # the CRI API's own version
    runtime_name: str = "containerd"
    runtime_version: str = ""
    runtime_api_version: str = "v1"


@dataclass(frozen=True)
class RuntimeCondition:
    """One condition of ``Status()``: ``RuntimeReady`` or ``NetworkReady``."""

    type: str
    status: bool
    reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class PodSandboxMetadata:
    name: str
    namespace: str = "default"
    uid: str = ""
    attempt: int = 0


@dataclass(frozen=True)
class PortMapping:
    """A ``hostPort`` of a pod (``protocol`` TCP/UDP/SCTP)."""

    container_port: int
    host_port: int = 0
    host_ip: str = ""
    protocol: str = "TCP"


@dataclass(frozen=True)
class DNSConfig:
    """What the kubelet puts in every container's ``/etc/resolv.conf``."""

    servers: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    options: tuple[str, ...] = ()

    def resolv_conf(self) -> str:
        lines = []
        if self.searches:
            lines.append("search " + " ".join(self.searches))
        lines += [f"nameserver {s}" for s in self.servers]
        if self.options:
            lines.append("options " + " ".join(self.options))
        return "\n".join(lines) + ("\n" if lines else "")


@dataclass
class PodSandboxConfig:
    """``PodSandboxConfig``: what the kubelet knows about a pod before its containers."""

    name: str
    namespace: str = "default"
    uid: str = ""
    attempt: int = 0
    hostname: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    dns: DNSConfig | None = None
    port_mappings: list[PortMapping] = field(default_factory=list)
    log_directory: str = ""
    cgroup_parent: str = ""
    host_network: bool = False

    @property
    def metadata(self) -> PodSandboxMetadata:
        return PodSandboxMetadata(self.name, self.namespace, self.uid, self.attempt)


@dataclass(frozen=True)
class PodSandbox:
    """An item of ``ListPodSandbox``."""

    id: str
    metadata: PodSandboxMetadata
    state: str
    created_at: float
    labels: dict
    annotations: dict
    runtime_handler: str = ""


@dataclass(frozen=True)
class PodSandboxStatus:
    """``PodSandboxStatus``: state and the pod's IP."""

    id: str
    metadata: PodSandboxMetadata
    state: str
    created_at: float
    ip: str
    labels: dict
    annotations: dict
    hostname: str = ""
    host_network: bool = False


@dataclass(frozen=True)
class PodSandboxFilter:
    id: str | None = None
    state: str | None = None
    label_selector: dict | None = None


@dataclass(frozen=True)
class Resources:
    """``LinuxContainerResources`` reduced to what the simulation enforces."""

    memory_limit: int | None = None  # bytes (OOM-kill above)
    cpu_limit: float | None = None  # cores
    cpu_request: float | None = None
    memory_request: int | None = None


@dataclass(frozen=True)
class Mount:
    """A host path (or a volume directory the kubelet prepared) mounted into a container."""

    container_path: str
    host_path: str
    readonly: bool = False


@dataclass(frozen=True)
class ContainerMetadata:
    name: str
    attempt: int = 0


@dataclass
class ContainerConfig:
    """``ContainerConfig``: ``command`` replaces the image's ENTRYPOINT, ``args`` its CMD (like a pod spec)."""

    name: str
    image: str
    command: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    working_dir: str = ""
    mounts: list[Mount] = field(default_factory=list)
    resources: Resources = field(default_factory=Resources)
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    attempt: int = 0
    stdin: bool = False
    tty: bool = False
    log_path: str = ""
    user: str = ""
    stop_signal: str = ""

    @property
    def metadata(self) -> ContainerMetadata:
        return ContainerMetadata(self.name, self.attempt)


@dataclass(frozen=True)
class Container:
    """An item of ``ListContainers``."""

    id: str
    pod_sandbox_id: str
    metadata: ContainerMetadata
    image: str
    image_ref: str
    state: str
    created_at: float
    labels: dict
    annotations: dict


@dataclass(frozen=True)
class ContainerStatus:
    """``ContainerStatus``: what ``crictl inspect`` and the kubelet read."""

    id: str
    metadata: ContainerMetadata
    state: str
    created_at: float
    started_at: float | None
    finished_at: float | None
    exit_code: int
    image: str
    image_ref: str
    reason: str  # "", "Completed", "Error", "OOMKilled", "ContainerCannotRun"
    message: str
    labels: dict
    annotations: dict
    mounts: tuple = ()
    log_path: str = ""
    pid: int | None = None


@dataclass(frozen=True)
class ContainerFilter:
    id: str | None = None
    state: str | None = None
    pod_sandbox_id: str | None = None
    label_selector: dict | None = None


@dataclass(frozen=True)
class ContainerStats:
    id: str
    memory_working_set_bytes: int
    cpu_cores: float
    pids: int


@dataclass(frozen=True)
class ExecSyncResponse:
    stdout: bytes
    stderr: bytes
    exit_code: int


@dataclass(frozen=True)
class ImageSpec:
    image: str
    annotations: dict = field(default_factory=dict)


@dataclass(frozen=True)
class AuthConfig:
    username: str = ""
    password: str = ""
    server_address: str = ""


@dataclass(frozen=True)
class Image:
    """An item of ``ListImages`` / ``ImageStatus`` (``crictl images``)."""

    id: str
    repo_tags: tuple[str, ...]
    repo_digests: tuple[str, ...]
    size: int
    username: str = ""
    pinned: bool = False


# -- the two services ----------------------------------------------------------------------------
@runtime_checkable
class RuntimeService(Protocol):
    """CRI ``RuntimeService``: pod sandboxes and containers."""

    def version(self, version: str = "v1") -> VersionResponse: ...

    def status(self) -> list[RuntimeCondition]: ...

    def run_pod_sandbox(self, config: PodSandboxConfig, runtime_handler: str = "") -> str: ...

    def stop_pod_sandbox(self, pod_sandbox_id: str) -> None: ...

    def remove_pod_sandbox(self, pod_sandbox_id: str) -> None: ...

    def pod_sandbox_status(self, pod_sandbox_id: str) -> PodSandboxStatus: ...

    def list_pod_sandbox(self, filter: PodSandboxFilter | None = None) -> list[PodSandbox]: ...

    def create_container(self, pod_sandbox_id: str, config: ContainerConfig,
                         sandbox_config: PodSandboxConfig) -> str: ...

    def start_container(self, container_id: str) -> None: ...

    def stop_container(self, container_id: str, timeout: float = 0) -> None: ...

    def remove_container(self, container_id: str) -> None: ...

    def list_containers(self, filter: ContainerFilter | None = None) -> list[Container]: ...

    def container_status(self, container_id: str) -> ContainerStatus: ...

    def exec_sync(self, container_id: str, cmd: list[str], timeout: float = 0) -> ExecSyncResponse: ...

    def container_logs(self, container_id: str, tail: int | None = None, timestamps: bool = False) -> bytes: ...

    def read_logs(self, container_id: str) -> list[str]: ...


@runtime_checkable
class ImageService(Protocol):
    """CRI ``ImageService``: images on the node."""

    def pull_image(self, image: str | ImageSpec, auth: AuthConfig | None = None,
                   sandbox_config: PodSandboxConfig | None = None) -> str: ...

    def list_images(self, filter: str | None = None) -> list[Image]: ...

    def image_status(self, image: str | ImageSpec) -> Image | None: ...

    def remove_image(self, image: str | ImageSpec) -> None: ...
