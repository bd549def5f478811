"""The static Pod manifests kubeadm writes to ``/etc/kubernetes/manifests``, with kubeadm's real flags."""

from __future__ import annotations

from typing import Any

import yaml

from .config import Config

__all__ = ["etcd_pod", "apiserver_pod", "controller_manager_pod", "scheduler_pod", "static_pods", "ETCD_IMAGE_TAG",
           "COREDNS_TAG", "PAUSE_TAG", "images_for", "to_yaml"]

ETCD_IMAGE_TAG = {"1.28": "3.5.9-0", "1.29": "3.5.12-0", "1.30": "3.5.12-0", "1.31": "3.5.15-0"}
COREDNS_TAG = {"1.28": "v1.10.1", "1.29": "v1.11.1", "1.30": "v1.11.1", "1.31": "v1.11.3"}
PAUSE_TAG = {"1.28": "3.9", "1.29": "3.9", "1.30": "3.9", "1.31": "3.10"}


def images_for(cfg: Config) -> list[str]:
    """``kubeadm config images list``."""
    r, v, m = cfg.image_repository, cfg.kubernetes_version, cfg.minor
    return [f"{r}/kube-apiserver:{v}", f"{r}/kube-controller-manager:{v}", f"{r}/kube-scheduler:{v}",
            f"{r}/kube-proxy:{v}", f"{r}/coredns/coredns:{COREDNS_TAG.get(m, 'v1.11.1')}",
            f"{r}/pause:{PAUSE_TAG.get(m, '3.9')}", f"{r}/etcd:{ETCD_IMAGE_TAG.get(m, '3.5.12-0')}"]


def _probe(host: str, port: int, path: str, scheme: str = "HTTPS", initial: int = 10, threshold: int = 8) -> dict:
    return {"failureThreshold": threshold, "httpGet": {"host": host, "path": path, "port": port, "scheme": scheme},
            "initialDelaySeconds": initial, "periodSeconds": 10, "timeoutSeconds": 15}


def _pod(name: str, component: str, image: str, command: list[str], cpu: str, volumes: list[tuple[str, str, str, bool]],
         probes: dict, annotations: dict | None = None) -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {**({"annotations": annotations} if annotations else {}), "creationTimestamp": None,
                     "labels": {"component": component, "tier": "control-plane"}, "name": name,
                     "namespace": "kube-system"},
        "spec": {
            "containers": [{"command": command, "image": image, "imagePullPolicy": "IfNotPresent", **probes,
                            "name": name, "resources": {"requests": {"cpu": cpu}},
                            "volumeMounts": [{"mountPath": mp, "name": vn, **({"readOnly": True} if ro else {})}
                                             for vn, _, mp, ro in volumes]}],
            "hostNetwork": True, "priority": 2000001000, "priorityClassName": "system-node-critical",
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "volumes": [{"hostPath": {"path": hp, "type": "DirectoryOrCreate"}, "name": vn}
                        for vn, hp, _, _ in volumes],
        },
        "status": {},
    }


def etcd_pod(cfg: Config) -> dict:
    a = cfg.advertise_address
    cmd = ["etcd", f"--advertise-client-urls=https://{a}:2379", "--cert-file=/etc/kubernetes/pki/etcd/server.crt",
           "--client-cert-auth=true", "--data-dir=/var/lib/etcd", "--experimental-initial-corrupt-check=true",
           "--experimental-watch-progress-notify-interval=5s", f"--initial-advertise-peer-urls=https://{a}:2380",
           f"--initial-cluster={cfg.node_name}=https://{a}:2380", "--key-file=/etc/kubernetes/pki/etcd/server.key",
           f"--listen-client-urls=https://127.0.0.1:2379,https://{a}:2379", "--listen-metrics-urls=http://127.0.0.1:2381",
           f"--listen-peer-urls=https://{a}:2380", f"--name={cfg.node_name}",
           "--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt", "--peer-client-cert-auth=true",
           "--peer-key-file=/etc/kubernetes/pki/etcd/peer.key", "--peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
           "--snapshot-count=10000", "--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt"]
    probes = {"livenessProbe": _probe("127.0.0.1", 2381, "/health?exclude=NOSPACE&serializable=true", "HTTP"),
              "startupProbe": _probe("127.0.0.1", 2381, "/health?serializable=false", "HTTP", threshold=24)}
    return _pod("etcd", "etcd", f"{cfg.image_repository}/etcd:{ETCD_IMAGE_TAG.get(cfg.minor, '3.5.12-0')}", cmd, "100m",
                [("etcd-data", "/var/lib/etcd", "/var/lib/etcd", False),
                 ("etcd-certs", "/etc/kubernetes/pki/etcd", "/etc/kubernetes/pki/etcd", False)], probes,
                {"kubeadm.kubernetes.io/etcd.advertise-client-urls": f"https://{a}:2379"})


def apiserver_pod(cfg: Config) -> dict:
    a, p = cfg.advertise_address, cfg.bind_port
    cmd = ["kube-apiserver", f"--advertise-address={a}", "--allow-privileged=true", "--authorization-mode=Node,RBAC",
           "--client-ca-file=/etc/kubernetes/pki/ca.crt", "--enable-admission-plugins=NodeRestriction",
           "--enable-bootstrap-token-auth=true", "--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt",
           "--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt",
           "--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key", "--etcd-servers=https://127.0.0.1:2379",
           "--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt",
           "--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key",
           "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
           "--proxy-client-cert-file=/etc/kubernetes/pki/front-proxy-client.crt",
           "--proxy-client-key-file=/etc/kubernetes/pki/front-proxy-client.key",
           "--requestheader-allowed-names=front-proxy-client",
           "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt",
           "--requestheader-extra-headers-prefix=X-Remote-Extra-", "--requestheader-group-headers=X-Remote-Group",
           "--requestheader-username-headers=X-Remote-User", f"--secure-port={p}",
           "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
           "--service-account-key-file=/etc/kubernetes/pki/sa.pub",
           "--service-account-signing-key-file=/etc/kubernetes/pki/sa.key",
           f"--service-cluster-ip-range={cfg.service_subnet}", "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
           "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key"]
    probes = {"livenessProbe": _probe(a, p, "/livez"), "readinessProbe": _probe(a, p, "/readyz", threshold=3, initial=0),
              "startupProbe": _probe(a, p, "/livez", threshold=24)}
    return _pod("kube-apiserver", "kube-apiserver", f"{cfg.image_repository}/kube-apiserver:{cfg.kubernetes_version}",
                cmd, "250m", [("ca-certs", "/etc/ssl/certs", "/etc/ssl/certs", True),
                              ("etc-ca-certificates", "/etc/ca-certificates", "/etc/ca-certificates", True),
                              ("k8s-certs", "/etc/kubernetes/pki", "/etc/kubernetes/pki", True),
                              ("usr-local-share-ca-certificates", "/usr/local/share/ca-certificates",
                               "/usr/local/share/ca-certificates", True),
                              ("usr-share-ca-certificates", "/usr/share/ca-certificates",
                               "/usr/share/ca-certificates", True)], probes,
                {"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": f"{a}:{p}"})


def controller_manager_pod(cfg: Config) -> dict:
    cmd = ["kube-controller-manager", "--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf",
           "--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf", "--bind-address=127.0.0.1",
           "--client-ca-file=/etc/kubernetes/pki/ca.crt", f"--cluster-name={cfg.cluster_name}",
           "--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt",
           "--cluster-signing-key-file=/etc/kubernetes/pki/ca.key", "--controllers=*,bootstrapsigner,tokencleaner",
           "--kubeconfig=/etc/kubernetes/controller-manager.conf", "--leader-elect=true",
           "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt",
           "--root-ca-file=/etc/kubernetes/pki/ca.crt", "--service-account-private-key-file=/etc/kubernetes/pki/sa.key",
           "--use-service-account-credentials=true"]
    if cfg.pod_subnet:
        i = cmd.index("--client-ca-file=/etc/kubernetes/pki/ca.crt")
        cmd[i:i] = ["--allocate-node-cidrs=true"]
        j = cmd.index(f"--cluster-name={cfg.cluster_name}")
        cmd[j:j] = [f"--cluster-cidr={cfg.pod_subnet}"]
        cmd.append(f"--service-cluster-ip-range={cfg.service_subnet}")
    probes = {"livenessProbe": _probe("127.0.0.1", 10257, "/healthz"),
              "startupProbe": _probe("127.0.0.1", 10257, "/healthz", threshold=24)}
    return _pod("kube-controller-manager", "kube-controller-manager",
                f"{cfg.image_repository}/kube-controller-manager:{cfg.kubernetes_version}", cmd, "200m",
                [("ca-certs", "/etc/ssl/certs", "/etc/ssl/certs", True),
                 ("flexvolume-dir", "/usr/libexec/kubernetes/kubelet-plugins/volume/exec",
                  "/usr/libexec/kubernetes/kubelet-plugins/volume/exec", False),
                 ("k8s-certs", "/etc/kubernetes/pki", "/etc/kubernetes/pki", True),
                 ("kubeconfig", "/etc/kubernetes/controller-manager.conf", "/etc/kubernetes/controller-manager.conf",
                  True)], probes)


def scheduler_pod(cfg: Config) -> dict:
    cmd = ["kube-scheduler", "--authentication-kubeconfig=/etc/kubernetes/scheduler.conf",
           "--authorization-kubeconfig=/etc/kubernetes/scheduler.conf", "--bind-address=127.0.0.1",
           "--kubeconfig=/etc/kubernetes/scheduler.conf", "--leader-elect=true"]
    probes = {"livenessProbe": _probe("127.0.0.1", 10259, "/healthz"),
              "startupProbe": _probe("127.0.0.1", 10259, "/healthz", threshold=24)}
    return _pod("kube-scheduler", "kube-scheduler", f"{cfg.image_repository}/kube-scheduler:{cfg.kubernetes_version}",
                cmd, "100m", [("kubeconfig", "/etc/kubernetes/scheduler.conf", "/etc/kubernetes/scheduler.conf", True)],
                probes)


def static_pods(cfg: Config) -> dict[str, dict]:
    """file name -> pod, in the order kubeadm writes them."""
    return {"etcd.yaml": etcd_pod(cfg), "kube-apiserver.yaml": apiserver_pod(cfg),
            "kube-controller-manager.yaml": controller_manager_pod(cfg), "kube-scheduler.yaml": scheduler_pod(cfg)}


def to_yaml(obj: Any) -> str:
    return yaml.safe_dump(obj, sort_keys=False, default_flow_style=False)
