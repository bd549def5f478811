"""``kubeadm init``: the phases in kubeadm's order, each printing kubeadm's lines.

preflight -> certs -> kubeconfig -> etcd -> control-plane -> kubelet-start ->
wait-control-plane -> upload-config -> upload-certs -> mark-control-plane ->
bootstrap-token -> kubelet-finalize -> addon -> show-join-command.

Everything is a generator run inside the ``kubeadm`` process, so simulated
time passes while the kubelet pulls images and starts the static pods.
Preflight only looks: a failure leaves the machine as it was.
"""

from __future__ import annotations

import base64
from typing import Any, Callable

from ...sim.clock import Event
from ...sim.errors import AivleError, FsError
from .. import pki
from .. import kubeconfig as kcfg
from .config import Config, cluster_configuration, kubelet_configuration
from .errors import KubeadmError, PreflightError
from .manifests import images_for, static_pods, to_yaml
from .preflight import run_checks, split_ignored
from .tokens import DEFAULT_DESCRIPTION, generate_token, jws_sign, token_secret

__all__ = ["run_init", "InitResult", "Out", "kubelet_available", "write_file", "admin_client", "sign_cluster_info",
           "create_token_secret", "join_command", "start_kubelet", "ensure_images", "STATIC_PODS_KEY"]

STATIC_PODS_KEY = "kubeadm-static-pods"
K = "/etc/kubernetes"


class InitResult:
    """What ``kubeadm init`` produced: the join command, the token, the CA pin and the full output."""

    def __init__(self, join_command: str, token: str, ca_cert_hash: str, output: str, endpoint: str):
        self.join_command = join_command
        self.token = token
        self.ca_cert_hash = ca_cert_hash
        self.output = output
        self.endpoint = endpoint

    def __repr__(self) -> str:
        return self.output

    def _repr_pretty_(self, p, cycle) -> None:  # IPython
        p.text(self.output)


class Out:
    """Where kubeadm writes: stdout and stderr of its process, plus a transcript."""

    def __init__(self, proc: Any):
        self.proc = proc
        self.transcript: list[str] = []

    def __call__(self, text: str) -> None:
        self.proc.write(text)
        self.transcript.append(text)

    def err(self, text: str) -> None:
        self.proc.error(text)
        self.transcript.append(text)

    @property
    def text(self) -> str:
        return "".join(self.transcript)


def kubelet_available() -> bool:
    """Whether the ``kubelet`` program exists in this installation (the static-pod path)."""
    from ...linux.kernel import programs

    if "kubelet" not in programs():
        try:
            import importlib

            importlib.import_module("aivle_k8s.cluster.kubelet")
        except ImportError:
            return False
    return "kubelet" in programs()


def write_file(machine: Any, path: str, data: str | bytes, mode: int = 0o644) -> None:
    fs = machine.fs
    parts = path.rsplit("/", 1)[0]
    if parts and not fs.exists(parts):
        fs.makedirs(parts, mode=0o755)
    fs.write(path, data, mode=mode, uid=0, gid=0)


def ensure_images(world: Any) -> None:
    from ..k8s_images import registry_k8s_io

    registry_k8s_io(world)


# -- certificates -------------------------------------------------------------------------------
def _gen_certs(machine: Any, cfg: Config, out: Out) -> dict[str, pki.CertKey]:
    world = machine.world
    rng, now = world.rng, world.datetime()
    d = cfg.cert_dir
    certs: dict[str, pki.CertKey] = {}
    name = cfg.node_name
    a = cfg.advertise_address

    def save(key: str, ck: pki.CertKey) -> None:
        certs[key] = ck
        write_file(machine, f"{d}/{key}.crt", ck.cert_pem, 0o644)
        write_file(machine, f"{d}/{key}.key", ck.key_pem, 0o600)

    out(f'[certs] Using certificateDir folder "{d}"\n')
    out('[certs] Generating "ca" certificate and key\n')
    ca = pki.new_ca(rng, now, "kubernetes")
    save("ca", ca)
    out('[certs] Generating "apiserver" certificate and key\n')
    dns, ips = pki.apiserver_sans(name, a, cfg.service_ip, cfg.dns_domain, cfg.control_plane_endpoint or None,
                                  cfg.cert_sans)
    save("apiserver", pki.new_cert(ca, rng, now, "kube-apiserver", dns_names=dns, ips=ips, server=True))
    out(f"[certs] apiserver serving cert is signed for DNS names [{' '.join(dns)}] and IPs [{' '.join(ips)}]\n")
    out('[certs] Generating "apiserver-kubelet-client" certificate and key\n')
    save("apiserver-kubelet-client", pki.new_cert(ca, rng, now, "kube-apiserver-kubelet-client",
                                                  organizations=["kubeadm:cluster-admins"]))
    out('[certs] Generating "front-proxy-ca" certificate and key\n')
    fp = pki.new_ca(rng, now, "front-proxy-ca")
    save("front-proxy-ca", fp)
    out('[certs] Generating "front-proxy-client" certificate and key\n')
    save("front-proxy-client", pki.new_cert(fp, rng, now, "front-proxy-client"))
    out('[certs] Generating "etcd/ca" certificate and key\n')
    eca = pki.new_ca(rng, now, "etcd-ca")
    save("etcd/ca", eca)
    for which in ("server", "peer"):
        out(f'[certs] Generating "etcd/{which}" certificate and key\n')
        save(f"etcd/{which}", pki.new_cert(eca, rng, now, name, dns_names=["localhost", name],
                                           ips=[a, "127.0.0.1", "::1"], server=True, client=True))
        out(f"[certs] etcd/{which} serving cert is signed for DNS names [localhost {name}] and IPs "
            f"[{a} 127.0.0.1 ::1]\n")
    out('[certs] Generating "etcd/healthcheck-client" certificate and key\n')
    save("etcd/healthcheck-client", pki.new_cert(eca, rng, now, "kube-etcd-healthcheck-client"))
    out('[certs] Generating "apiserver-etcd-client" certificate and key\n')
    save("apiserver-etcd-client", pki.new_cert(eca, rng, now, "kube-apiserver-etcd-client"))
    out('[certs] Generating "sa" key and public key\n')
    sa = pki.new_key(rng)
    from cryptography.hazmat.primitives import serialization

    write_file(machine, f"{d}/sa.key", sa.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.TraditionalOpenSSL,
                                                          serialization.NoEncryption()), 0o600)
    write_file(machine, f"{d}/sa.pub", sa.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo), 0o644)
    return certs


def _gen_kubeconfigs(machine: Any, cfg: Config, ca: pki.CertKey, out: Out) -> None:
    world = machine.world
    rng, now = world.rng, world.datetime()
    server = f"https://{cfg.endpoint}"
    local = f"https://{cfg.advertise_address}:{cfg.bind_port}"
    out(f'[kubeconfig] Using kubeconfig folder "{K}"\n')
    files = [("admin.conf", "kubernetes-admin", ["kubeadm:cluster-admins"], server),
             ("super-admin.conf", "kubernetes-super-admin", ["system:masters"], server),
             ("kubelet.conf", f"system:node:{cfg.node_name}", ["system:nodes"], server),
             ("controller-manager.conf", "system:kube-controller-manager", [], local),
             ("scheduler.conf", "system:kube-scheduler", [], local)]
    for fname, user, orgs, srv in files:
        out(f'[kubeconfig] Writing "{fname}" kubeconfig file\n')
        ck = pki.new_cert(ca, rng, now, user, organizations=orgs)
        text = kcfg.build(cfg.cluster_name, srv, ca.cert_pem, user, client_cert_pem=ck.cert_pem,
                          client_key_pem=ck.key_pem, context=None if fname != "kubelet.conf" else
                          f"{user}@{cfg.cluster_name}")
        write_file(machine, f"{K}/{fname}", text, 0o600)


# -- the kubelet and the static pods ------------------------------------------------------------
def start_kubelet(machine: Any, cfg: Config, kubelet_config: str, out: Out) -> None:
    flags_env = (f'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint={cfg.cri_socket} '
                 f'--pod-infra-container-image={cfg.image_repository}/pause:3.9"\n')
    out('[kubelet-start] Writing kubelet environment file with flags to file "/var/lib/kubelet/kubeadm-flags.env"\n')
    write_file(machine, "/var/lib/kubelet/kubeadm-flags.env", flags_env)
    out('[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/config.yaml"\n')
    write_file(machine, "/var/lib/kubelet/config.yaml", kubelet_config)
    out("[kubelet-start] Starting the kubelet\n")
    kubelet_available()  # make sure the kubelet program is registered before systemd starts it
    sm = machine.services
    if "kubelet" in sm.units:
        try:
            sm.restart("kubelet")
        except AivleError:
            pass  # no kubelet program in this installation: kubeadm runs the static pods itself (below)


def _run_static_pods_directly(machine: Any, cfg: Config) -> None:
    """FALLBACK while the kubelet is not part of the installation: start each static pod of
    /etc/kubernetes/manifests as the kubelet would (a hostNetwork sandbox + its container through the CRI).
    With the kubelet present this is never used: the kubelet reads the manifests itself."""
    import yaml

    from ...runtime import ContainerConfig, Mount, PodSandboxConfig
    from ..runtimes import runtime_for

    rt = runtime_for(machine, cfg.cri_socket)
    started = machine.extensions.setdefault(STATIC_PODS_KEY, [])
    for fname in ("etcd.yaml", "kube-apiserver.yaml", "kube-controller-manager.yaml", "kube-scheduler.yaml"):
        pod = yaml.safe_load(machine.fs.read_text(f"{K}/manifests/{fname}"))
        meta, spec = pod["metadata"], pod["spec"]
        pod_name = f"{meta['name']}-{cfg.node_name}"
        import hashlib

        uid = hashlib.md5(f"{pod_name}/{to_yaml(pod)}".encode()).hexdigest()
        sb = rt.run_pod_sandbox(PodSandboxConfig(pod_name, "kube-system", uid=uid, host_network=True,
                                                 labels={"component": meta["labels"]["component"],
                                                         "tier": "control-plane"}))
        vols = {v["name"]: v["hostPath"]["path"] for v in spec.get("volumes", [])}
        for c in spec["containers"]:
            if rt.image_status(c["image"]) is None:
                rt.pull_image(c["image"])
            mounts = [Mount(m["mountPath"], vols[m["name"]], bool(m.get("readOnly"))) for m in
                      c.get("volumeMounts", []) if m["name"] in vols and machine.fs.exists(vols[m["name"]])]
            cid = rt.create_container(sb, ContainerConfig(c["name"], c["image"], command=list(c["command"]),
                                                          mounts=mounts))
            rt.start_container(cid)
        started.append(sb)


def admin_client(machine: Any, path: str = f"{K}/admin.conf") -> Any:
    return kcfg.client_for(machine.world, machine.netns, machine.fs.read_text(path))


def _wait_for_apiserver(proc: Any, client: Any, timeout: float = 240.0):
    start = proc.now
    while proc.now - start < timeout:
        yield proc.sleep(0.5)  # kubeadm polls /healthz every 500 ms
        try:
            client.apiserver().healthz()
            return proc.now - start
        except AivleError:
            pass
    return None


# -- tokens and cluster-info ---------------------------------------------------------------------
def create_token_secret(client: Any, world: Any, token: str, ttl: float, description: str | None = None,
                        usages=("authentication", "signing"), groups=None) -> dict:
    from .tokens import DEFAULT_GROUP

    exp = world.timestamp(world.now + ttl) if ttl else None
    obj = token_secret(token, exp, usages=usages, groups=groups or (DEFAULT_GROUP,), description=description)
    return client.create(obj)


def sign_cluster_info(client: Any, world: Any) -> None:
    """What the bootstrap signer does: one ``jws-kubeconfig-<id>`` per live signing token."""
    from .tokens import decode_secret

    cm = client.get("configmaps", "cluster-info", "kube-public")
    content = cm["data"]["kubeconfig"]
    data = {"kubeconfig": content}
    now = world.timestamp()
    for s in client.list("secrets", "kube-system").get("items", []):
        if s.get("type") != "bootstrap.kubernetes.io/token":
            continue
        d = decode_secret(s)
        if d.get("usage-bootstrap-signing") != "true":
            continue
        if d.get("expiration") and d["expiration"] <= now:
            continue
        data[f"jws-kubeconfig-{d['token-id']}"] = jws_sign(f"{d['token-id']}.{d['token-secret']}", content)
    if cm.get("data") != data:
        cm["data"] = data
        client.update(cm)


def cluster_info_kubeconfig(server: str, ca_pem: bytes) -> str:
    return (f"apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: "
            f"{base64.b64encode(ca_pem).decode()}\n    server: {server}\n  name: \"\"\ncontexts: null\n"
            f"current-context: \"\"\nkind: Config\npreferences: {{}}\nusers: null\n")


def join_command(endpoint: str, token: str, ca_hash: str, control_plane: bool = False) -> str:
    return (f"kubeadm join {endpoint} --token {token} \\\n\t--discovery-token-ca-cert-hash {ca_hash} "
            + ("\\\n\t--control-plane " if control_plane else ""))


def _node_object(machine: Any, cfg: Config) -> dict:
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": cfg.node_name, "labels": {
                "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": cfg.node_name, "kubernetes.io/os": "linux"},
                "annotations": {"kubeadm.alpha.kubernetes.io/cri-socket": cfg.cri_socket,
                                "node.alpha.kubernetes.io/ttl": "0",
                                "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
            "spec": {}}


# -- the whole thing -----------------------------------------------------------------------------
def run_init(proc: Any, machine: Any, cfg: Config, out: Out):
    """The init phases (a generator driven by the kubeadm process); returns an :class:`InitResult`."""
    world = machine.world
    out(f"[init] Using Kubernetes version: {cfg.kubernetes_version}\n")
    out("[preflight] Running pre-flight checks\n")
    errors, warnings = run_checks(machine, proc.uid, cfg, "init")
    fatal, warnings = split_ignored(errors, warnings, cfg.ignore_preflight)
    for name, msg in warnings:
        out.err(f"\t[WARNING {name}]: {msg}\n")
    if fatal:
        raise PreflightError(fatal, warnings=warnings, output=out.text)
    out("[preflight] Pulling images required for setting up a Kubernetes cluster\n")
    out("[preflight] This might take a minute or two, depending on the speed of your internet connection\n")
    out("[preflight] You can also perform this action beforehand using 'kubeadm config images pull'\n")
    ensure_images(world)
    from ..runtimes import runtime_for

    rt = runtime_for(machine, cfg.cri_socket)
    pull_errors = []
    for image in images_for(cfg):
        try:
            if rt.image_status(image) is None:
                pulled = rt.pull_image(image)
                if isinstance(pulled, Event):  # kubeadm waits for the download without running the loop
                    yield pulled
        except AivleError as e:
            pull_errors.append((f"ImagePull", f"failed to pull image {image}: output: {e.message}, error: exit status 1"))
    pull_fatal, _ = split_ignored(pull_errors, [], cfg.ignore_preflight)
    if pull_fatal:
        raise PreflightError(pull_fatal, output=out.text)
    # certs, kubeconfigs, manifests
    certs = _gen_certs(machine, cfg, out)
    ca = certs["ca"]
    _gen_kubeconfigs(machine, cfg, ca, out)
    out(f'[etcd] Creating static Pod manifest for local etcd in "{K}/manifests"\n')
    pods = static_pods(cfg)
    write_file(machine, f"{K}/manifests/etcd.yaml", to_yaml(pods["etcd.yaml"]), 0o600)
    out(f'[control-plane] Using manifest folder "{K}/manifests"\n')
    for comp in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        out(f'[control-plane] Creating static Pod manifest for "{comp}"\n')
        write_file(machine, f"{K}/manifests/{comp}.yaml", to_yaml(pods[f"{comp}.yaml"]), 0o600)
    kubelet_conf = kubelet_configuration(cfg)
    start_kubelet(machine, cfg, kubelet_conf, out)
    out(f'[wait-control-plane] Waiting for the kubelet to boot up the control plane as static Pods from directory '
        f'"{K}/manifests". This can take up to 4m0s\n')
    with_kubelet = kubelet_available()
    if not with_kubelet:
        _run_static_pods_directly(machine, cfg)
    client = admin_client(machine)
    took = yield from _wait_for_apiserver(proc, client)
    if took is None:
        out("[kubelet-check] Initial timeout of 40s passed.\n")
        raise KubeadmError("error execution phase wait-control-plane: couldn't initialize a Kubernetes cluster",
                           output=out.text, phase="wait-control-plane")
    out(f"[apiclient] All control plane components are healthy after {max(took, 0.001):.6f} seconds\n")
    # upload-config
    out('[upload-config] Storing the configuration used in ConfigMap "kubeadm-config" in the "kube-system" '
        'Namespace\n')
    client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kubeadm-config",
                                                                       "namespace": "kube-system"},
                   "data": {"ClusterConfiguration": cluster_configuration(cfg)}})
    out('[kubelet] Creating a ConfigMap "kubelet-config" in namespace kube-system with the configuration for the '
        'kubelets in the cluster\n')
    client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kubelet-config",
                                                                       "namespace": "kube-system"},
                   "data": {"kubelet": kubelet_conf}})
    out("[upload-certs] Skipping phase. Please see --upload-certs\n")
    # mark-control-plane: the kubelet registers the Node; wait for it
    node = None
    for _ in range(240):
        try:
            node = client.get("nodes", cfg.node_name)
            break
        except AivleError:
            if not with_kubelet:
                # FALLBACK without a kubelet: register the Node as the kubelet would
                node = client.create(_node_object(machine, cfg))
                break
        yield proc.sleep(0.5)
    out(f"[mark-control-plane] Marking the node {cfg.node_name} as control-plane by adding the labels: "
        f"[node-role.kubernetes.io/control-plane node.kubernetes.io/exclude-from-external-load-balancers]\n")
    out(f"[mark-control-plane] Marking the node {cfg.node_name} as control-plane by adding the taints "
        f"[node-role.kubernetes.io/control-plane:NoSchedule]\n")
    if node is not None:
        for _attempt in range(5):
            node = client.get("nodes", cfg.node_name)
            labels = node["metadata"].setdefault("labels", {})
            labels["node-role.kubernetes.io/control-plane"] = ""
            labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
            taints = node.setdefault("spec", {}).setdefault("taints", [])
            if not any(t.get("key") == "node-role.kubernetes.io/control-plane" for t in taints):
                taints.append({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
            try:
                client.update(node)
                break
            except AivleError:
                continue
    # bootstrap-token
    token = cfg.token or generate_token(world.rng)
    out(f"[bootstrap-token] Using token: {token}\n")
    out("[bootstrap-token] Configuring bootstrap tokens, cluster-info ConfigMap, RBAC Roles\n")
    out("[bootstrap-token] Configured RBAC rules to allow Node Bootstrap tokens to get nodes\n")
    out("[bootstrap-token] Configured RBAC rules to allow Node Bootstrap tokens to post CSRs in order for nodes to "
        "get long term certificate credentials\n")
    out("[bootstrap-token] Configured RBAC rules to allow the csrapprover controller automatically approve CSRs "
        "from a Node Bootstrap Token\n")
    out("[bootstrap-token] Configured RBAC rules to allow certificate rotation for all node client certificates in "
        "the cluster\n")
    out('[bootstrap-token] Creating the "cluster-info" ConfigMap in the "kube-public" namespace\n')
    create_token_secret(client, world, token, cfg.token_ttl, DEFAULT_DESCRIPTION)
    client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cluster-info",
                                                                       "namespace": "kube-public"},
                   "data": {"kubeconfig": cluster_info_kubeconfig(f"https://{cfg.endpoint}", ca.cert_pem)}})
    sign_cluster_info(client, world)
    out(f'[kubelet-finalize] Updating "{K}/kubelet.conf" to point to a rotatable kubelet client certificate and key\n')
    # addons
    from .addons import coredns_objects, kube_proxy_objects

    for obj in coredns_objects(cfg):
        client.create(obj)
    out("[addons] Applied essential addon: CoreDNS\n")
    for obj in kube_proxy_objects(cfg, f"https://{cfg.endpoint}", base64.b64encode(ca.cert_pem).decode()):
        client.create(obj)
    out("[addons] Applied essential addon: kube-proxy\n")
    ca_hash = pki.spki_sha256(ca.cert)
    join = join_command(cfg.endpoint, token, ca_hash)
    out("\nYour Kubernetes control-plane has initialized successfully!\n\n"
        "To start using your cluster, you need to run the following as a regular user:\n\n"
        "  mkdir -p $HOME/.kube\n"
        "  sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config\n"
        "  sudo chown $(id -u):$(id -g) $HOME/.kube/config\n\n"
        "Alternatively, if you are the root user, you can run:\n\n"
        "  export KUBECONFIG=/etc/kubernetes/admin.conf\n\n"
        "You should now deploy a pod network to the cluster.\n"
        'Run "kubectl apply -f [podnetwork].yaml" with one of the options listed at:\n'
        "  https://kubernetes.io/docs/concepts/cluster-administration/addons/\n\n"
        "Then you can join any number of worker nodes by running the following on each as root:\n\n"
        f"{join}\n")
    return InitResult(join.replace(" \\\n\t", " ").strip(), token, ca_hash, out.text, cfg.endpoint)
