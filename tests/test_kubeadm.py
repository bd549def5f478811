"""kubeadm: preflight, init, bootstrap tokens, join, token create, reset — by command line and from Python.

Machines are prepared with the install guide's command lines. Tests that need another
engineer's component say so (``needs_kubelet``); without it kubeadm runs the static pods itself.
"""

import base64
import re

import pytest
import yaml

import aivle_k8s as ak
import aivle_k8s.cluster.kubeadm as kubeadm
from aivle_k8s.cluster import pki
from aivle_k8s.cluster.kubeadm.init import kubelet_available
from aivle_k8s.cluster.kubeadm.tokens import jws_verify

needs_kubelet = pytest.mark.skipif(not kubelet_available(), reason="needs the kubelet (cluster/kubelet)")

K8S_KEY = ("curl -fsSL https://pkgs.k8s.io/core:/stable:/v1.30/deb/Release.key "
           "| sudo gpg --dearmor -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg")
K8S_LIST = ("echo 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] "
            "https://pkgs.k8s.io/core:/stable:/v1.30/deb/ /' | sudo tee /etc/apt/sources.list.d/kubernetes.list")
STEPS = {
    "swap": "sudo swapoff -a",
    "overlay": "sudo modprobe overlay",
    "br_netfilter": "sudo modprobe br_netfilter",
    "ip_forward": "sudo sysctl -w net.ipv4.ip_forward=1",
    "update": "sudo apt-get update",
    "containerd": "sudo apt-get install -y containerd",
    # the guide's cgroup driver step: kubeadm configures the kubelet for systemd, containerd defaults to cgroupfs
    "containerd-config": "sudo mkdir -p /etc/containerd && containerd config default | sudo tee /etc/containerd/config.toml"
                         " >/dev/null && sudo sed -i 's/SystemdCgroup = false/SystemdCgroup = true/' "
                         "/etc/containerd/config.toml && sudo systemctl restart containerd",
    "key": K8S_KEY,
    "list": K8S_LIST,
    "update2": "sudo apt-get update",
    "k8s": "sudo apt-get install -y kubelet kubeadm kubectl",
}


def prepare(world, name, skip=(), **kw):
    m = world.machine(name, **{"cpus": 2, "memory": "4Gi", **kw})
    for step, cmd in STEPS.items():
        if step not in skip:
            r = m.sh(cmd)
            assert r.exit_code == 0, (cmd, r.output)
    return m


@pytest.fixture
def world():
    return ak.World(seed=0)


@pytest.fixture
def master(world):
    return prepare(world, "master")


@pytest.fixture
def cluster(world, master):
    return kubeadm.init(master, pod_network_cidr="10.244.0.0/16")


def remove_tool(m, name):
    for d in ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin"):
        if m.fs.exists(f"{d}/{name}"):
            m.fs.remove(f"{d}/{name}")


def nothing_changed(m):
    fs = m.fs
    assert fs.listdir("/etc/kubernetes") == ["manifests"]
    assert fs.listdir("/etc/kubernetes/manifests") == []
    assert not fs.exists("/var/lib/kubelet/config.yaml")


def init_fails(m, cmd="sudo kubeadm init"):
    r = m.sh(cmd)
    assert r.exit_code == 1
    assert "error execution phase preflight: [preflight] Some fatal errors occurred:" in r.stderr
    assert ("[preflight] If you know what you are doing, you can make a check non-fatal with "
            "`--ignore-preflight-errors=...`") in r.stderr
    assert r.stderr.endswith("To see the stack trace of this error execute with --v=5 or higher\n")
    nothing_changed(m)
    return r


# -- preflight ----------------------------------------------------------------------------------
def test_no_container_runtime_is_a_cri_error(world):
    m = prepare(world, "master", skip={"containerd", "containerd-config"})
    r = init_fails(m)
    assert ('\t[ERROR CRI]: container runtime is not running: output: time="' in r.stderr)
    assert ('validate service connection: validate CRI v1 runtime API for endpoint '
            '\\"unix:///var/run/containerd/containerd.sock\\": rpc error: code = Unavailable desc = connection error'
            in r.stderr)


def test_not_root(master):
    r = init_fails(master, "kubeadm init")
    assert "\t[ERROR IsPrivilegedUser]: user is not running as root\n" in r.stderr


def test_swap_on(world):
    r = init_fails(prepare(world, "master", skip={"swap"}))
    assert "\t[ERROR Swap]: running with swap on is not supported. Please disable swap\n" in r.stderr


def test_one_cpu(world):
    r = init_fails(prepare(world, "master", cpus=1))
    assert "\t[ERROR NumCPU]: the number of available CPUs 1 is less than the required 2\n" in r.stderr


def test_too_little_memory(world):
    r = init_fails(prepare(world, "master", memory="1Gi"))
    assert "\t[ERROR Mem]: the system RAM (1024 MB) is less than the minimum 1700 MB\n" in r.stderr


def test_port_in_use(master):
    master.netns.listen(6443, lambda data, peer: b"")
    r = init_fails(master)
    assert "\t[ERROR Port-6443]: Port 6443 is in use\n" in r.stderr


def test_manifest_already_there(master):
    master.sh("echo x | sudo tee /etc/kubernetes/manifests/kube-apiserver.yaml")
    r = master.sh("sudo kubeadm init")
    assert r.exit_code == 1
    assert ("\t[ERROR FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml]: "
            "/etc/kubernetes/manifests/kube-apiserver.yaml already exists\n") in r.stderr


def test_etcd_data_dir_not_empty(master):
    master.sh("sudo mkdir -p /var/lib/etcd/member")
    r = init_fails(master)
    assert "\t[ERROR DirAvailable--var-lib-etcd]: /var/lib/etcd is not empty\n" in r.stderr


def test_ip_forward_off(world):
    r = init_fails(prepare(world, "master", skip={"ip_forward"}))
    assert ("\t[ERROR FileContent--proc-sys-net-ipv4-ip_forward]: /proc/sys/net/ipv4/ip_forward contents are not "
            "set to 1\n") in r.stderr


def test_br_netfilter_not_loaded(world):
    r = init_fails(prepare(world, "master", skip={"br_netfilter"}))
    assert ("\t[ERROR FileContent--proc-sys-net-bridge-bridge-nf-call-iptables]: "
            "/proc/sys/net/bridge/bridge-nf-call-iptables does not exist\n") in r.stderr


def test_missing_conntrack(master):
    remove_tool(master, "conntrack")
    r = init_fails(master)
    assert "\t[ERROR FileExisting-conntrack]: conntrack not found in system path\n" in r.stderr


def test_kubelet_newer_than_control_plane(master):
    r = init_fails(master, "sudo kubeadm init --kubernetes-version=v1.29.0")
    assert ('[ERROR KubeletVersion]: the kubelet version is higher than the control plane version. This is not a '
            'supported version skew and may lead to a malfunctional cluster. Kubelet version: "1.30.8" Control plane '
            'version: "1.29.0"') in r.stderr


def test_all_errors_are_listed_together(world):
    m = prepare(world, "master", skip={"swap", "ip_forward"}, cpus=1)
    r = init_fails(m)
    names = re.findall(r"\[ERROR ([^\]]+)\]", r.stderr)
    assert names == ["NumCPU", "Swap", "FileContent--proc-sys-net-ipv4-ip_forward"]


def test_disabled_kubelet_service_is_a_warning(master):
    master.sh("sudo systemctl disable kubelet")
    remove_tool(master, "conntrack")
    r = master.sh("sudo kubeadm init")
    assert ("\t[WARNING Service-Kubelet]: kubelet service is not enabled, please run 'systemctl enable "
            "kubelet.service'\n") in r.stderr


def test_python_api_raises_preflight_error_with_the_checks(world):
    m = prepare(world, "master", skip={"swap"}, cpus=1)
    with pytest.raises(kubeadm.PreflightError) as e:
        kubeadm.init(m)
    assert e.value.names == ["NumCPU", "Swap"]
    assert isinstance(e.value, ak.AivleError)
    nothing_changed(m)


def test_ignore_preflight_errors_turns_them_into_warnings(world):
    m = prepare(world, "master", cpus=1)
    r = m.sh("sudo kubeadm init --ignore-preflight-errors=NumCPU")
    assert r.exit_code == 0, r.output
    assert "\t[WARNING NumCPU]: the number of available CPUs 1 is less than the required 2\n" in r.stderr


def test_ignore_all(world):
    m = prepare(world, "master", cpus=1)
    assert kubeadm.init(m, ignore_preflight_errors="all").token


@needs_kubelet
def test_ignoring_swap_gets_past_preflight_but_the_kubelet_refuses_to_run(world):
    m = prepare(world, "master", skip={"swap"})
    r = m.sh("sudo kubeadm init --ignore-preflight-errors=Swap")
    assert "\t[WARNING Swap]: running with swap on is not supported. Please disable swap\n" in r.stderr
    assert r.exit_code == 1
    assert "error execution phase wait-control-plane: couldn't initialize a Kubernetes cluster\n" in r.stderr


# -- init ---------------------------------------------------------------------------------------
def test_init_prints_the_phases_in_order(master):
    r = master.sh("sudo kubeadm init --pod-network-cidr=10.244.0.0/16")
    assert r.exit_code == 0, r.output
    out = r.stdout
    phases = [line.split("]")[0] + "]" for line in out.splitlines() if line.startswith("[")]
    order = []
    for p in phases:
        if p not in order:
            order.append(p)
    assert order == ["[init]", "[preflight]", "[certs]", "[kubeconfig]", "[etcd]", "[control-plane]",
                     "[kubelet-start]", "[wait-control-plane]", "[apiclient]", "[upload-config]", "[kubelet]",
                     "[upload-certs]", "[mark-control-plane]", "[bootstrap-token]", "[kubelet-finalize]", "[addons]"]
    assert out.startswith("[init] Using Kubernetes version: v1.30.8\n[preflight] Running pre-flight checks\n")
    assert ('[certs] apiserver serving cert is signed for DNS names [kubernetes kubernetes.default '
            'kubernetes.default.svc kubernetes.default.svc.cluster.local master] and IPs [10.96.0.1 10.0.0.10]\n') in out
    assert '[kubeconfig] Writing "admin.conf" kubeconfig file\n' in out
    assert '[control-plane] Creating static Pod manifest for "kube-apiserver"\n' in out
    assert ("[mark-control-plane] Marking the node master as control-plane by adding the taints "
            "[node-role.kubernetes.io/control-plane:NoSchedule]\n") in out
    assert "[addons] Applied essential addon: CoreDNS\n[addons] Applied essential addon: kube-proxy\n" in out
    assert "Your Kubernetes control-plane has initialized successfully!" in out
    assert "  sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config\n" in out
    assert re.search(r"kubeadm join 10\.0\.0\.10:6443 --token [a-z0-9]{6}\.[a-z0-9]{16} \\\n\t"
                     r"--discovery-token-ca-cert-hash sha256:[0-9a-f]{64} \n$", out)


def test_init_writes_certificates_kubeconfigs_and_manifests(master, cluster):
    fs = master.fs
    for f in ("ca", "apiserver", "apiserver-kubelet-client", "front-proxy-ca", "front-proxy-client", "etcd/ca",
              "etcd/server", "etcd/peer", "etcd/healthcheck-client", "apiserver-etcd-client"):
        assert fs.exists(f"/etc/kubernetes/pki/{f}.crt") and fs.exists(f"/etc/kubernetes/pki/{f}.key")
    assert fs.exists("/etc/kubernetes/pki/sa.key") and fs.exists("/etc/kubernetes/pki/sa.pub")
    for f in ("admin.conf", "super-admin.conf", "kubelet.conf", "controller-manager.conf", "scheduler.conf"):
        assert fs.exists(f"/etc/kubernetes/{f}")
    assert sorted(fs.listdir("/etc/kubernetes/manifests")) == ["etcd.yaml", "kube-apiserver.yaml",
                                                              "kube-controller-manager.yaml", "kube-scheduler.yaml"]
    pod = yaml.safe_load(fs.read_text("/etc/kubernetes/manifests/kube-apiserver.yaml"))
    cmd = pod["spec"]["containers"][0]["command"]
    assert "--advertise-address=10.0.0.10" in cmd and "--etcd-servers=https://127.0.0.1:2379" in cmd
    assert pod["spec"]["hostNetwork"] is True
    assert pod["spec"]["containers"][0]["image"] == "registry.k8s.io/kube-apiserver:v1.30.8"
    cm = yaml.safe_load(fs.read_text("/etc/kubernetes/manifests/kube-controller-manager.yaml"))
    assert "--cluster-cidr=10.244.0.0/16" in cm["spec"]["containers"][0]["command"]
    assert fs.exists("/var/lib/kubelet/config.yaml")


def test_admin_conf_is_kubernetes_admin_signed_by_the_ca(master, cluster):
    from aivle_k8s.cluster.kubeconfig import parse

    kc = parse(master.fs.read_text("/etc/kubernetes/admin.conf"))
    assert kc.server == "https://10.0.0.10:6443"
    cert = pki.CertKey(pki.load_cert(kc.cert_pem), None)
    assert cert.subject_cn == "kubernetes-admin" and cert.organizations == ["kubeadm:cluster-admins"]
    assert cert.verify_signed_by(pki.load_cert(master.fs.read("/etc/kubernetes/pki/ca.crt")))


def test_join_hash_is_the_ca_spki_hash(master, cluster):
    assert cluster.ca_cert_hash == pki.spki_sha256(master.fs.read("/etc/kubernetes/pki/ca.crt"))


def test_control_plane_runs_as_containers_and_listens(master, cluster):
    for port in (6443, 2379, 2380, 10257, 10259):
        assert port in master.netns.listeners
    api = master.netns.listeners[6443].apiserver
    assert api.healthz() == "ok"


def test_node_is_labelled_and_tainted(master, cluster):
    node = kubeadm.admin_client(master).get("nodes", "master")
    assert node["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] == ""
    assert {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"} in node["spec"]["taints"]


def test_addons_and_config_maps_are_created(master, cluster):
    c = kubeadm.admin_client(master)
    assert c.get("services", "kube-dns", "kube-system")["spec"]["clusterIP"] == "10.96.0.10"
    assert c.get("deployments", "coredns", "kube-system")["spec"]["replicas"] == 2
    assert "Corefile" in c.get("configmaps", "coredns", "kube-system")["data"]
    assert c.get("daemonsets", "kube-proxy", "kube-system")
    cc = yaml.safe_load(c.get("configmaps", "kubeadm-config", "kube-system")["data"]["ClusterConfiguration"])
    assert cc["networking"]["podSubnet"] == "10.244.0.0/16" and cc["kubernetesVersion"] == "v1.30.8"
    assert "kubelet" in c.get("configmaps", "kubelet-config", "kube-system")["data"]


def test_init_is_deterministic_per_seed():
    results = []
    for _ in range(2):
        w = ak.World(seed=3)
        results.append(kubeadm.init(prepare(w, "master")))
    assert results[0].token == results[1].token and results[0].ca_cert_hash == results[1].ca_cert_hash


# -- bootstrap tokens -----------------------------------------------------------------------------
def test_bootstrap_token_secret(master, cluster):
    c = kubeadm.admin_client(master)
    tid, secret = cluster.token.split(".")
    s = c.get("secrets", f"bootstrap-token-{tid}", "kube-system")
    assert s["type"] == "bootstrap.kubernetes.io/token"
    data = {k: base64.b64decode(v).decode() for k, v in s["data"].items()}
    assert data["token-id"] == tid and data["token-secret"] == secret
    assert data["usage-bootstrap-authentication"] == "true" and data["usage-bootstrap-signing"] == "true"
    assert data["auth-extra-groups"] == "system:bootstrappers:kubeadm:default-node-token"
    assert data["expiration"] == master.world.timestamp(master.world.now + 24 * 3600)


def test_cluster_info_is_signed_with_the_token(master, cluster):
    c = kubeadm.admin_client(master)
    cm = c.get("configmaps", "cluster-info", "kube-public")
    tid = cluster.token.split(".")[0]
    assert jws_verify(cm["data"][f"jws-kubeconfig-{tid}"], cluster.token, cm["data"]["kubeconfig"])
    ca = yaml.safe_load(cm["data"]["kubeconfig"])["clusters"][0]["cluster"]["certificate-authority-data"]
    assert pki.spki_sha256(base64.b64decode(ca)) == cluster.ca_cert_hash


def test_token_list(master, cluster):
    r = master.sh("sudo kubeadm token list")
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["TOKEN", "TTL", "EXPIRES", "USAGES", "DESCRIPTION", "EXTRA", "GROUPS"]
    assert lines[1].startswith(f"{cluster.token}   23h ")
    assert "authentication,signing   The default bootstrap token generated by 'kubeadm init'." in lines[1]


def test_token_create_print_join_command(master, cluster):
    r = master.sh("sudo kubeadm token create --print-join-command")
    assert r.exit_code == 0
    m = re.fullmatch(r"kubeadm join 10\.0\.0\.10:6443 --token ([a-z0-9]{6}\.[a-z0-9]{16}) "
                     r"--discovery-token-ca-cert-hash (sha256:[0-9a-f]{64}) \n", r.stdout)
    assert m and m.group(1) != cluster.token and m.group(2) == cluster.ca_cert_hash


def test_token_delete(master, cluster):
    tid = cluster.token.split(".")[0]
    r = master.sh(f"sudo kubeadm token delete {tid}")
    assert r.stdout == f'bootstrap token "{tid}" deleted\n'
    assert kubeadm.list_tokens(master) == []


# -- join ---------------------------------------------------------------------------------------
def join_cmd(cluster, token=None, ca_hash=None):
    return (f"sudo kubeadm join {cluster.endpoint} --token {token or cluster.token} "
            f"--discovery-token-ca-cert-hash {ca_hash or cluster.ca_cert_hash}")


def test_join_with_a_wrong_token(world, cluster):
    w1 = prepare(world, "worker-1")
    r = w1.sh(join_cmd(cluster, token="zzzzzz.0123456789abcdef"))
    assert r.exit_code == 1
    assert ("error execution phase preflight: couldn't validate the identity of the API Server: could not find a "
            'JWS signature in the cluster-info ConfigMap for token ID "zzzzzz"\n') in r.stderr


def test_join_with_a_wrong_secret(world, cluster):
    w1 = prepare(world, "worker-1")
    tid = cluster.token.split(".")[0]
    r = w1.sh(join_cmd(cluster, token=f"{tid}.0123456789abcdef"))
    assert "failed to verify JWS signature of received cluster info object, can't trust this API Server" in r.stderr


def test_join_with_a_wrong_ca_hash(world, cluster):
    w1 = prepare(world, "worker-1")
    r = w1.sh(join_cmd(cluster, ca_hash="sha256:" + "0" * 64))
    assert r.exit_code == 1
    assert (f'cluster CA found in cluster-info ConfigMap is invalid: none of the public keys '
            f'"{cluster.ca_cert_hash}" are pinned') in r.stderr


def test_the_default_token_expires_after_24_hours(world, master, cluster):
    # kubeadm init's token lives 24 h (--token-ttl 24h0m0s): a simulated day passes with the
    # control plane running; a minute before the end the token still joins a node
    world.advance(24 * 3600 - 60)
    w1 = prepare(world, "worker-1")
    r = w1.sh(join_cmd(cluster))
    assert r.exit_code == 0, r.output
    world.advance(61)
    # expired: the token cleaner deleted the Secret and the bootstrap signer the JWS in cluster-info
    w2 = prepare(world, "worker-2")
    r = w2.sh(join_cmd(cluster))
    assert r.exit_code == 1
    tid = cluster.token.split(".")[0]
    assert f'could not find a JWS signature in the cluster-info ConfigMap for token ID "{tid}"' in r.stderr
    c = kubeadm.admin_client(master)
    assert f"bootstrap-token-{tid}" not in [s["metadata"]["name"] for s in c.list("secrets", "kube-system")["items"]]
    assert f"jws-kubeconfig-{tid}" not in c.get("configmaps", "cluster-info", "kube-public")["data"]
    assert tid not in master.sh("sudo kubeadm token list").stdout
    # a new token lets the node join
    line = kubeadm.create_token(master, print_join_command=True)
    r = w2.sh("sudo " + line)
    assert r.exit_code == 0, r.output


def test_join_without_a_runtime(world, cluster):
    w1 = prepare(world, "worker-1", skip={"containerd", "containerd-config"})
    r = w1.sh(join_cmd(cluster))
    assert r.exit_code == 1 and "[ERROR CRI]: container runtime is not running" in r.stderr
    assert not w1.fs.exists("/etc/kubernetes/bootstrap-kubelet.conf")


def test_join_an_unreachable_api_server(world):
    w1 = prepare(world, "worker-1")
    r = w1.sh("sudo kubeadm join 10.0.0.99:6443 --token abcdef.0123456789abcdef "
              "--discovery-token-ca-cert-hash sha256:" + "0" * 64)
    assert r.exit_code == 1
    assert ('couldn\'t validate the identity of the API Server: Get "https://10.0.0.99:6443/api/v1/namespaces/'
            'kube-public/configmaps/cluster-info?timeout=10s": dial tcp 10.0.0.99:6443: connect: connection refused'
            in r.stderr)


def test_join_succeeds_and_the_node_registers(world, master, cluster):
    w1 = prepare(world, "worker-1")
    r = w1.sh(join_cmd(cluster))
    assert r.exit_code == 0, r.output
    assert "This node has joined the cluster:\n" in r.stdout
    assert "[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap\n" in r.stdout
    c = kubeadm.admin_client(master)
    assert c.get("nodes", "worker-1")["metadata"]["name"] == "worker-1"
    from aivle_k8s.cluster.kubeconfig import parse

    kc = parse(w1.fs.read_text("/etc/kubernetes/kubelet.conf"), fs=w1.fs)
    assert pki.CertKey(pki.load_cert(kc.cert_pem), None).subject_cn == "system:node:worker-1"


def test_join_tls_bootstrap_goes_through_an_approved_and_issued_csr(world, master, cluster):
    """The kubelet's client certificate comes from a CSR the kubelet sent as the bootstrap token, approved by
    the controller-manager's csrapproving controller and signed by csrsigning with the cluster CA."""
    from aivle_k8s.cluster.kubeconfig import parse

    w1 = prepare(world, "worker-1")
    r = w1.sh(join_cmd(cluster))
    assert r.exit_code == 0, r.output
    c = kubeadm.admin_client(master)
    csrs = [o for o in c.list("certificatesigningrequests")["items"]
            if o["spec"]["signerName"] == "kubernetes.io/kube-apiserver-client-kubelet"]
    assert len(csrs) == 1
    csr = csrs[0]
    tid = cluster.token.split(".")[0]
    assert csr["spec"]["username"] == f"system:bootstrap:{tid}" and "system:bootstrappers" in csr["spec"]["groups"]
    approved = next(x for x in csr["status"]["conditions"] if x["type"] == "Approved")
    assert (approved["status"], approved["reason"]) == ("True", "AutoApproved")
    issued = base64.b64decode(csr["status"]["certificate"])
    # the kubelet keeps the signed certificate with its key, and kubelet.conf points at it
    conf = yaml.safe_load(w1.fs.read_text("/etc/kubernetes/kubelet.conf"))
    assert conf["users"][0]["user"] == {"client-certificate": "/var/lib/kubelet/pki/kubelet-client-current.pem",
                                        "client-key": "/var/lib/kubelet/pki/kubelet-client-current.pem"}
    kc = parse(w1.fs.read_text("/etc/kubernetes/kubelet.conf"), fs=w1.fs)
    assert kc.cert_pem.strip() == issued.strip() and b"PRIVATE KEY" in kc.key_pem
    ca = pki.load_cert(master.fs.read("/etc/kubernetes/pki/ca.crt"))
    node_cert = pki.CertKey(pki.load_cert(kc.cert_pem), None)
    assert node_cert.verify_signed_by(ca) and node_cert.subject_cn == "system:node:worker-1"
    # kubectl shows it as kubectl does
    row = next(ln for ln in master.sh("sudo kubectl --kubeconfig /etc/kubernetes/admin.conf get csr").stdout
               .splitlines() if ln.startswith(csr["metadata"]["name"]))
    assert "kubernetes.io/kube-apiserver-client-kubelet" in row and row.rstrip().endswith("Approved,Issued")
    assert f"system:bootstrap:{tid}" in row
    # the kubelet talks to the API server with that certificate (a Node it registered itself)
    assert c.get("nodes", "worker-1")["metadata"]["name"] == "worker-1"
    assert "[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap\n" in r.stdout


def test_join_waits_for_the_tls_bootstrap_and_times_out_without_a_signer(world, master, cluster):
    """Without the controller-manager nothing approves the CSR: the kubelet waits, and so does kubeadm
    join, until its 4 minutes are over."""
    w1 = prepare(world, "worker-1")
    master.fs.rename("/etc/kubernetes/manifests/kube-controller-manager.yaml", "/etc/kubernetes/kcm.yaml")
    world.advance(30)  # the kubelet on the master notices and stops the static pod
    r = w1.sh(join_cmd(cluster), timeout=600)
    assert r.exit_code == 1
    assert "[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap\n" in r.stdout
    assert "error execution phase kubelet-start: timed out waiting for the condition" in r.stderr
    assert not w1.fs.exists("/etc/kubernetes/kubelet.conf")
    c = kubeadm.admin_client(master)
    pending = [o for o in c.list("certificatesigningrequests")["items"]
               if not (o.get("status") or {}).get("conditions")]
    assert len(pending) == 1  # sent once, never approved


def test_join_twice_finds_kubelet_conf(world, cluster):
    w1 = prepare(world, "worker-1")
    assert w1.sh(join_cmd(cluster)).exit_code == 0
    r = w1.sh(join_cmd(cluster))
    assert r.exit_code == 1
    assert ("[ERROR FileAvailable--etc-kubernetes-kubelet.conf]: /etc/kubernetes/kubelet.conf already exists"
            in r.stderr)


def test_join_from_python(world, cluster):
    w1 = prepare(world, "worker-1")
    result = kubeadm.join(w1, cluster.endpoint, cluster.token, cluster.ca_cert_hash)
    assert result.node == "worker-1"
    with pytest.raises(kubeadm.DiscoveryError):
        kubeadm.join(prepare(world, "worker-2"), cluster.endpoint, cluster.token, "sha256:" + "1" * 64)


# -- reset --------------------------------------------------------------------------------------
def test_reset_removes_what_init_made(master, cluster):
    r = master.sh("sudo kubeadm reset -f")
    assert r.exit_code == 0, r.output
    assert "[reset] Deleted contents of the etcd data directory: /var/lib/etcd\n" in r.stdout
    assert "The reset process does not clean CNI configuration. To do so, you must remove /etc/cni/net.d\n" in r.stdout
    fs = master.fs
    assert fs.listdir("/etc/kubernetes/manifests") == [] and fs.listdir("/etc/kubernetes/pki") == []
    assert not fs.exists("/etc/kubernetes/admin.conf") and fs.listdir("/var/lib/etcd") == []
    assert 6443 not in master.netns.listeners
    assert master.services.state("kubelet") != "active"


def test_reset_then_init_again_is_a_new_cluster(master, cluster):
    kubeadm.reset(master)
    again = kubeadm.init(master)
    assert again.ca_cert_hash != cluster.ca_cert_hash
    c = kubeadm.admin_client(master)
    assert c.list("configmaps", "kube-system", field_selector="metadata.name=kubeadm-config")["items"]


def test_reset_asks_first(master, cluster):
    r = master.sh("echo n | sudo kubeadm reset")
    assert r.exit_code == 1
    assert "[reset] Are you sure you want to proceed? [y/N]: " in r.stdout
    assert "error execution phase preflight: aborted reset operation" in r.stderr
    assert master.fs.exists("/etc/kubernetes/admin.conf")


# -- images and misc -------------------------------------------------------------------------------
def test_config_images_list(master):
    r = master.sh("kubeadm config images list")
    assert r.stdout.splitlines() == [
        "registry.k8s.io/kube-apiserver:v1.30.8", "registry.k8s.io/kube-controller-manager:v1.30.8",
        "registry.k8s.io/kube-scheduler:v1.30.8", "registry.k8s.io/kube-proxy:v1.30.8",
        "registry.k8s.io/coredns/coredns:v1.11.1", "registry.k8s.io/pause:3.9", "registry.k8s.io/etcd:3.5.12-0"]


def test_config_images_pull(master):
    r = master.sh("sudo kubeadm config images pull")
    assert r.exit_code == 0, r.output
    assert "[config/images] Pulled registry.k8s.io/etcd:3.5.12-0\n" in r.stdout


def test_version(master):
    assert master.sh("kubeadm version -o short").stdout == "v1.30.8\n"


def test_certs_check_expiration(master, cluster):
    r = master.sh("sudo kubeadm certs check-expiration")
    assert r.exit_code == 0, r.output
    assert re.search(r"admin\.conf\s+Mar 03, 2026 09:00 UTC\s+364d\s+ca\s+no", r.stdout)
    assert re.search(r"ca\s+Mar 01, 2035 09:00 UTC\s+9y\s+no", r.stdout)


# -- end to end ----------------------------------------------------------------------------------
@needs_kubelet
def test_one_master_two_workers(world, master, cluster):
    """Install steps by command line on three machines; three nodes in the API.

    Depends on the kubelet (registers the Nodes). Nodes become Ready only with the CNI
    (cluster/cni.py) and Pods run only with the scheduler/controllers — not asserted here."""
    for name in ("worker-1", "worker-2"):
        w = prepare(world, name)
        assert w.sh("sudo " + cluster.join_command).exit_code == 0
    c = kubeadm.admin_client(master)
    names = sorted(n["metadata"]["name"] for n in c.list("nodes")["items"])
    assert names == ["master", "worker-1", "worker-2"]


def test_two_cri_sockets_need_cri_socket(master):
    master.fs.write("/run/cri-dockerd.sock", b"")  # as if cri-dockerd ran next to containerd
    r = master.sh("sudo kubeadm init")
    assert r.exit_code == 1
    assert r.stderr.startswith("Found multiple CRI endpoints on the host. Please define which one do you wish to use "
                               "by setting the 'criSocket' field in the kubeadm configuration file: "
                               "unix:///var/run/containerd/containerd.sock, unix:///var/run/cri-dockerd.sock\n")
    r = master.sh("sudo kubeadm init --cri-socket=unix:///var/run/containerd/containerd.sock")
    assert r.exit_code == 0, r.output


def test_the_api_server_kubelet_and_kubeadm_report_the_same_patch_version(world, master, cluster):
    from aivle_k8s.cluster.components import apiserver_of

    world.advance(5)
    kubeadm_v = master.sh("kubeadm version -o short").stdout.strip()
    assert re.fullmatch(r"v1\.30\.\d+", kubeadm_v)
    assert apiserver_of(master).kubernetes_version == kubeadm_v
    server = master.sh("sudo kubectl --kubeconfig /etc/kubernetes/admin.conf version").stdout
    assert f"Server Version: {kubeadm_v}\n" in server
    node = kubeadm.admin_client(master).get("nodes", "master")
    assert node["status"]["nodeInfo"]["kubeletVersion"] == kubeadm_v
    assert master.sh("kubelet --version").stdout == f"Kubernetes {kubeadm_v}\n"
