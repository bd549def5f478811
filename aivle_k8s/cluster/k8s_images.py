"""``registry.k8s.io``: the control-plane, kube-proxy, CoreDNS, etcd, pause and metrics-server images (and the CNI images
on Docker Hub), as tiny layered images whose binaries are simulated programs.

Like Docker Hub, the registry is made on first use: :func:`registry_k8s_io` puts
it on the simulated network (an address of its own, HTTPS) and fills it;
kubeadm calls it before pulling, and so can anything that builds a cluster
directly. :func:`cni_images` adds flannel and calico to Docker Hub.

>>> import aivle_k8s as ak
>>> world = ak.World(seed=0)
>>> reg = registry_k8s_io(world)
>>> "v1.30.2" in reg.tags("kube-apiserver"), reg.tags("pause")
(True, ['3.10', '3.8', '3.9'])
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..images.image import Image, ImageConfig
from ..images.layers import Layer
from ..linux.distro import make_layer

__all__ = ["registry_k8s_io", "cni_images", "k8s_image", "KUBE_VERSIONS", "COMPONENTS", "HOST"]

HOST = "registry.k8s.io"
_CREATED = "2024-06-11T20:20:00Z"
#: v1.28.0 .. v1.31.8 (the patch releases the pkgs.k8s.io repositories offer)
KUBE_VERSIONS = tuple(f"v1.{m}.{p}" for m in (28, 29, 30, 31) for p in range(9))
COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy")
_ETCD = ("3.5.9-0", "3.5.10-0", "3.5.12-0", "3.5.15-0")
_COREDNS = ("v1.10.1", "v1.11.1", "v1.11.3")
_PAUSE = ("3.8", "3.9", "3.10")
_METRICS_SERVER = ("v0.7.1", "v0.7.2")
_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@lru_cache(maxsize=None)
def _distroless() -> Layer:
    """gcr.io/distroless/static's layer: users, certificates, tzdata (no shell)."""
    return Layer.from_entries(make_layer({
        "/etc/passwd": "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
                       "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
        "/etc/group": "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n",
        "/etc/ssl/certs/ca-certificates.crt": "-----BEGIN CERTIFICATE-----\n(simulated CA bundle)\n"
                                              "-----END CERTIFICATE-----\n",
        "/etc/os-release": 'PRETTY_NAME="Distroless"\nNAME="Debian GNU/Linux"\nID="debian"\nVERSION_ID="12"\n',
        "/tmp/.keep": "",
    }))


@lru_cache(maxsize=None)
def _bin_layer(path: str, program: str, version: str, extra: tuple = ()) -> Layer:
    files = {"/VERSION": f"{version}\n"} if version else {}
    programs = {path: program, **dict(extra)}
    return Layer.from_entries(make_layer(files, programs=programs, default_size=8192))


def _image(layers: tuple, entrypoint: tuple | None = None, cmd: tuple | None = None, user: str = "0",
           created: str = _CREATED, history: tuple = ()) -> Image:
    cfg = ImageConfig(env=(_PATH,), entrypoint=entrypoint, cmd=cmd, user=user, working_dir="/")
    hist = history or tuple({"created": created, "created_by": f"layer {i}"} for i in range(len(layers)))
    return Image(config=cfg, layers=tuple(layers), history=hist, created=created)


@lru_cache(maxsize=None)
def k8s_image(repo: str, tag: str) -> Image:
    """One image of the catalogue (``k8s_image("kube-apiserver", "v1.30.2")``)."""
    if repo in COMPONENTS:
        extra = (("/usr/sbin/iptables", "iptables"), ("/usr/sbin/conntrack", "conntrack")) if repo == "kube-proxy" else ()
        layer = _bin_layer(f"/usr/local/bin/{repo}", repo, tag, extra)
        return _image((_distroless(), layer), entrypoint=None, cmd=None if repo != "kube-proxy" else None)
    if repo == "etcd":
        layer = _bin_layer("/usr/local/bin/etcd", "etcd", tag, (("/usr/local/bin/etcdctl", "etcdctl"),))
        return _image((_distroless(), layer), cmd=("/usr/local/bin/etcd",))
    if repo == "coredns/coredns":
        layer = _bin_layer("/coredns", "coredns", tag)
        cfg = ImageConfig(env=(_PATH,), entrypoint=("/coredns",), user="65532:65532", exposed_ports=("53/tcp", "53/udp"))
        return Image(config=cfg, layers=(_distroless(), layer),
                     history=({"created": _CREATED, "created_by": "base"}, {"created": _CREATED,
                                                                            "created_by": "COPY coredns /coredns"}),
                     created=_CREATED)
    if repo == "metrics-server/metrics-server":
        layer = _bin_layer("/metrics-server", "metrics-server", tag)
        return _image((_distroless(), layer), entrypoint=("/metrics-server",), user="65534")
    if repo == "pause":
        if tag == "3.9":
            from ..runtime import pause_image

            return pause_image()
        layer = _bin_layer("/pause", "pause", "")
        return _image((layer,), entrypoint=("/pause",), user="65535:65535")
    raise KeyError(f"{repo}:{tag}")


def _catalogue() -> list[tuple[str, str]]:
    out = [(c, v) for c in COMPONENTS for v in KUBE_VERSIONS]
    out += [("etcd", t) for t in _ETCD] + [("coredns/coredns", t) for t in _COREDNS] + [("pause", t) for t in _PAUSE]
    out += [("metrics-server/metrics-server", t) for t in _METRICS_SERVER]
    return out


def registry_k8s_io(world: Any) -> Any:
    """The world's ``registry.k8s.io`` (made and filled on first use)."""
    reg = world.registries.get(HOST)
    if reg is not None:
        return reg
    from ..engine.daemon import serve_registry
    from ..registry.registry import Registry

    reg = Registry(HOST)
    for repo, tag in _catalogue():
        reg.put_image(repo, tag, k8s_image(repo, tag))
    serve_registry(world, HOST, registry=reg)
    cni_images(world)
    return reg


#: Docker Hub CNI images: reference -> (program path, program name)
_CNI = {
    "flannel/flannel:v0.25.5": ("/opt/bin/flanneld", "flanneld"),
    "flannel/flannel:v0.25.6": ("/opt/bin/flanneld", "flanneld"),
    "flannel/flannel-cni-plugin:v1.5.1-flannel1": ("/flannel", "flannel"),
    "flannel/flannel-cni-plugin:v1.5.1-flannel2": ("/flannel", "flannel"),
    "calico/node:v3.28.0": ("/usr/bin/calico-node", "calico-node"),
    "calico/cni:v3.28.0": ("/opt/cni/bin/install", "calico-cni-install"),
    "calico/kube-controllers:v3.28.0": ("/usr/bin/kube-controllers", "calico-kube-controllers"),
}


@lru_cache(maxsize=None)
def _cni_image(ref: str) -> Image:
    path, program = _CNI[ref]
    tools = (("/bin/sh", "sh"), ("/bin/cp", "cp"), ("/bin/mkdir", "mkdir"), ("/bin/cat", "cat"), ("/bin/ls", "ls"))
    layer = _bin_layer(path, program, ref.rsplit(":", 1)[1], tools)
    return _image((_distroless(), layer), cmd=(path,))


def cni_images(world: Any) -> list[str]:
    """Put the flannel and calico images on the world's Docker Hub; returns their references."""
    hub = world.docker_hub
    out = []
    for ref in _CNI:
        repo, tag = ref.rsplit(":", 1)
        if tag not in (hub.tags(repo) if hub.has_repository(repo) else []):
            hub.put_image(repo, tag, _cni_image(ref))
        out.append(f"docker.io/{ref}")
    return out
