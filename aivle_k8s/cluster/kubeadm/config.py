"""kubeadm's configuration: InitConfiguration / ClusterConfiguration / JoinConfiguration (v1beta3).

Flags and a ``--config`` file fill one :class:`Config`; it renders the
``kubeadm-config`` ConfigMap (ClusterConfiguration), ``/var/lib/kubelet/config.yaml``
and the ``kubelet-config`` ConfigMap (KubeletConfiguration).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import KubeadmError

__all__ = ["Config", "DEFAULT_VERSION", "load_config_file", "cluster_configuration", "kubelet_configuration"]

DEFAULT_VERSION = "v1.30.2"


@dataclass
class Config:
    kubernetes_version: str = DEFAULT_VERSION
    advertise_address: str = ""
    bind_port: int = 6443
    control_plane_endpoint: str = ""
    pod_subnet: str = ""
    service_subnet: str = "10.96.0.0/12"
    dns_domain: str = "cluster.local"
    node_name: str = ""
    cri_socket: str = ""
    token: str = ""
    token_ttl: float = 24 * 3600.0
    cert_dir: str = "/etc/kubernetes/pki"
    image_repository: str = "registry.k8s.io"
    cluster_name: str = "kubernetes"
    cgroup_driver: str = "systemd"
    ignore_preflight: set = field(default_factory=set)
    cert_sans: list = field(default_factory=list)
    skip_phases: set = field(default_factory=set)

    @property
    def minor(self) -> str:
        return ".".join(self.kubernetes_version.lstrip("v").split(".")[:2])

    @property
    def endpoint(self) -> str:
        return self.control_plane_endpoint or f"{self.advertise_address}:{self.bind_port}"

    @property
    def service_ip(self) -> str:
        import ipaddress

        return str(ipaddress.ip_network(self.service_subnet, strict=False).network_address + 1)

    @property
    def dns_ip(self) -> str:
        import ipaddress

        return str(ipaddress.ip_network(self.service_subnet, strict=False).network_address + 10)


def load_config_file(text: str, cfg: Config) -> Config:
    """Apply a ``--config`` file (InitConfiguration, ClusterConfiguration, KubeletConfiguration documents)."""
    try:
        docs = [d for d in yaml.safe_load_all(text) if d]
    except yaml.YAMLError as e:
        raise KubeadmError(f"error converting YAML to JSON: {e}") from None
    for d in docs:
        kind = d.get("kind")
        api = str(d.get("apiVersion", ""))
        if kind in ("InitConfiguration", "ClusterConfiguration", "JoinConfiguration") and \
                not api.startswith("kubeadm.k8s.io/"):
            raise KubeadmError(f'no kind "{kind}" is registered for version "{api}"')
        if kind == "InitConfiguration":
            ep = d.get("localAPIEndpoint") or {}
            cfg.advertise_address = ep.get("advertiseAddress", cfg.advertise_address)
            cfg.bind_port = int(ep.get("bindPort", cfg.bind_port))
            nr = d.get("nodeRegistration") or {}
            cfg.node_name = nr.get("name", cfg.node_name)
            cfg.cri_socket = nr.get("criSocket", cfg.cri_socket)
            cfg.ignore_preflight |= {e.lower() for e in nr.get("ignorePreflightErrors") or []}
            for bt in d.get("bootstrapTokens") or []:
                if bt.get("token"):
                    cfg.token = bt["token"]
                if bt.get("ttl"):
                    from .tokens import parse_duration

                    cfg.token_ttl = parse_duration(bt["ttl"])
            cfg.skip_phases |= set(d.get("skipPhases") or [])
        elif kind == "ClusterConfiguration":
            cfg.kubernetes_version = d.get("kubernetesVersion", cfg.kubernetes_version)
            cfg.control_plane_endpoint = d.get("controlPlaneEndpoint", cfg.control_plane_endpoint)
            net = d.get("networking") or {}
            cfg.pod_subnet = net.get("podSubnet", cfg.pod_subnet)
            cfg.service_subnet = net.get("serviceSubnet", cfg.service_subnet)
            cfg.dns_domain = net.get("dnsDomain", cfg.dns_domain)
            cfg.cert_dir = d.get("certificatesDir", cfg.cert_dir)
            cfg.image_repository = d.get("imageRepository", cfg.image_repository)
            cfg.cluster_name = d.get("clusterName", cfg.cluster_name)
            cfg.cert_sans = list((d.get("apiServer") or {}).get("certSANs") or cfg.cert_sans)
        elif kind == "KubeletConfiguration":
            cfg.cgroup_driver = d.get("cgroupDriver", cfg.cgroup_driver)
        elif kind is None:
            raise KubeadmError("Object 'Kind' is missing in the configuration file")
    return cfg


def cluster_configuration(cfg: Config) -> str:
    """The ClusterConfiguration stored in ConfigMap ``kubeadm-config`` (key ``ClusterConfiguration``)."""
    net: dict[str, Any] = {"dnsDomain": cfg.dns_domain, "serviceSubnet": cfg.service_subnet}
    if cfg.pod_subnet:
        net["podSubnet"] = cfg.pod_subnet
    doc = {
        "apiServer": {"extraArgs": {"authorization-mode": "Node,RBAC"}, "timeoutForControlPlane": "4m0s",
                      **({"certSANs": cfg.cert_sans} if cfg.cert_sans else {})},
        "apiVersion": "kubeadm.k8s.io/v1beta3",
        "certificatesDir": cfg.cert_dir,
        "clusterName": cfg.cluster_name,
        "controlPlaneEndpoint": cfg.control_plane_endpoint,
        "controllerManager": {},
        "dns": {},
        "etcd": {"local": {"dataDir": "/var/lib/etcd"}},
        "imageRepository": cfg.image_repository,
        "kind": "ClusterConfiguration",
        "kubernetesVersion": cfg.kubernetes_version,
        "networking": net,
        "scheduler": {},
    }
    return yaml.safe_dump(doc, sort_keys=False)


def kubelet_configuration(cfg: Config) -> str:
    """``/var/lib/kubelet/config.yaml`` (and the ``kubelet-config`` ConfigMap's ``kubelet`` key)."""
    return f"""apiVersion: kubelet.config.k8s.io/v1beta1
authentication:
  anonymous:
    enabled: false
  webhook:
    cacheTTL: 0s
    enabled: true
  x509:
    clientCAFile: {cfg.cert_dir}/ca.crt
authorization:
  mode: Webhook
  webhook:
    cacheAuthorizedTTL: 0s
    cacheUnauthorizedTTL: 0s
cgroupDriver: {cfg.cgroup_driver}
clusterDNS:
- {cfg.dns_ip}
clusterDomain: {cfg.dns_domain}
containerRuntimeEndpoint: ""
cpuManagerReconcilePeriod: 0s
evictionPressureTransitionPeriod: 0s
fileCheckFrequency: 0s
healthzBindAddress: 127.0.0.1
healthzPort: 10248
httpCheckFrequency: 0s
imageMaximumGCAge: 0s
imageMinimumGCAge: 0s
kind: KubeletConfiguration
logging:
  flushFrequency: 0
  options:
    json:
      infoBufferSize: "0"
    text:
      infoBufferSize: "0"
  verbosity: 0
memorySwap: {{}}
nodeStatusReportFrequency: 0s
nodeStatusUpdateFrequency: 0s
resolvConf: /run/systemd/resolve/resolv.conf
rotateCertificates: true
runtimeRequestTimeout: 0s
shutdownGracePeriod: 0s
shutdownGracePeriodCriticalPods: 0s
staticPodPath: /etc/kubernetes/manifests
streamingConnectionIdleTimeout: 0s
syncFrequency: 0s
volumeStatsAggPeriod: 0s
"""
