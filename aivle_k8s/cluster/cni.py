"""Pod networking: flannel and calico, and the host-local IPAM that gives pods their addresses.

How it fits together, as on a real kubeadm cluster:

1. ``kubectl apply -f https://github.com/flannel-io/flannel/releases/latest/download/kube-flannel.yml``
   creates the ``kube-flannel`` Namespace, its ServiceAccount, the ``kube-flannel-cfg`` ConfigMap
   (``net-conf.json``: ``Network 10.244.0.0/16``) and the ``kube-flannel-ds`` DaemonSet
   (hostNetwork, tolerates every NoSchedule taint, so it runs on NotReady nodes).
2. On each node the ``flanneld`` program (the DaemonSet's container) reads its Node's
   ``spec.podCIDR`` from the API server, writes ``/run/flannel/subnet.env`` and the CNI config
   ``/etc/cni/net.d/10-flannel.conflist`` through its hostPath mounts.
3. containerd now reports NetworkReady=true; the kubelet turns the node Ready.
4. For each pod sandbox the CNI plugin (:class:`HostLocalIPAM`) hands out the next free address
   of the node's subnet (``.1`` is the ``cni0`` gateway, pods from ``.2``), recorded like
   host-local does in ``/var/lib/cni/networks/<network>/``. The address is routable from
   every node (the runtime makes the pod's namespace world-scoped).

Calico is the same with ``calico-node`` writing ``/etc/cni/net.d/10-calico.conflist`` (host-local
IPAM over the node's podCIDR here; real calico uses its own calico-ipam blocks).
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from ..linux.kernel import register_program
from ..sim.errors import AivleError, FsError, NetworkError

__all__ = ["HostLocalIPAM", "CNIError", "cni_config", "publish_manifests", "FLANNEL_URL", "CALICO_URL",
           "FLANNEL_MANIFEST", "CALICO_MANIFEST", "FLANNEL_IMAGE", "FLANNEL_CNI_PLUGIN_IMAGE", "CALICO_IMAGE",
           "flannel_conflist", "calico_conflist", "flannel_image", "flannel_cni_plugin_image",
           "calico_image"]

CNI_DIR = "/etc/cni/net.d"
FLANNEL_URL = "https://github.com/flannel-io/flannel/releases/latest/download/kube-flannel.yml"
CALICO_URL = "https://raw.githubusercontent.com/projectcalico/calico/v3.28.0/manifests/calico.yaml"
FLANNEL_IMAGE = "docker.io/flannel/flannel:v0.25.5"
FLANNEL_CNI_PLUGIN_IMAGE = "docker.io/flannel/flannel-cni-plugin:v1.5.1-flannel1"
CALICO_IMAGE = "docker.io/calico/node:v3.28.0"


class CNIError(AivleError):
    """A CNI plugin failed to set up a pod's network (the runtime's ``failed to setup network`` error)."""


def cni_config(fs: Any) -> tuple[str, dict] | None:
    """The first CNI config file of ``/etc/cni/net.d`` (lexical order, like libcni) and its JSON."""
    try:
        names = sorted(n for n in fs.listdir(CNI_DIR) if n.endswith((".conf", ".conflist", ".json")))
    except (FsError, AivleError):
        return None
    for name in names:
        try:
            return name, json.loads(fs.read_text(f"{CNI_DIR}/{name}"))
        except (ValueError, FsError, AivleError):
            continue
    return None


def flannel_conflist() -> str:
    """``/etc/cni/net.d/10-flannel.conflist`` exactly as kube-flannel.yml's ``cni-conf.json``."""
    return json.dumps({"name": "cbr0", "cniVersion": "0.3.1", "plugins": [
        {"type": "flannel", "delegate": {"hairpinMode": True, "isDefaultGateway": True}},
        {"type": "portmap", "capabilities": {"portMappings": True}}]}, indent=2) + "\n"


def calico_conflist(subnet: str) -> str:
    return json.dumps({"name": "k8s-pod-network", "cniVersion": "0.3.1", "plugins": [
        {"type": "calico", "log_level": "info", "datastore_type": "kubernetes", "mtu": 0,
         "ipam": {"type": "host-local", "subnet": subnet},
         "policy": {"type": "k8s"}, "kubernetes": {"kubeconfig": "/etc/cni/net.d/calico-kubeconfig"}},
        {"type": "portmap", "snat": True, "capabilities": {"portMappings": True}},
        {"type": "bandwidth", "capabilities": {"bandwidth": True}}]}, indent=2) + "\n"


class HostLocalIPAM:
    """The CNI plugin chain of one node, reduced to address management (host-local).

    It is the runtime's ``ip_allocator``: ``allocate(pod_id, sandbox_config) -> ip`` and
    ``release(pod_id, ip)``. The subnet comes from ``/run/flannel/subnet.env`` (flannel) or the
    config's ``ipam.subnet`` (calico); addresses are handed out round-robin after the last one
    reserved, skipping those in use, as host-local does.
    """

    def __init__(self, machine: Any):
        self.machine = machine

    def __repr__(self) -> str:
        return f"<HostLocalIPAM {self.machine.name}>"

    def network(self) -> tuple[str, ipaddress.IPv4Network]:
        """``(network name, subnet)``; raises :class:`CNIError` with the plugin's words."""
        fs = self.machine.fs
        found = cni_config(fs)
        if found is None:
            raise CNIError("cni plugin not initialized")
        _, conf = found
        name = conf.get("name", "cbr0")
        plugins = conf.get("plugins") or [conf]
        first = plugins[0] if plugins else {}
        if first.get("type") == "flannel":
            try:
                env = fs.read_text("/run/flannel/subnet.env")
            except (FsError, AivleError):
                raise CNIError('plugin type="flannel" failed (add): loadFlannelSubnetEnv failed: open '
                               '/run/flannel/subnet.env: no such file or directory') from None
            values = dict(line.split("=", 1) for line in env.splitlines() if "=" in line)
            subnet = values.get("FLANNEL_SUBNET", "")
            return name, ipaddress.ip_interface(subnet).network
        ipam = first.get("ipam") or {}
        subnet = ipam.get("subnet") or ""
        if not subnet:
            raise CNIError(f'plugin type="{first.get("type")}" failed (add): no IP ranges specified')
        return name, ipaddress.ip_network(subnet, strict=False)

    def check(self) -> None:
        self.network()

    def _dir(self, name: str) -> str:
        return f"/var/lib/cni/networks/{name}"

    def allocate(self, pod_id: str, config: Any = None) -> str:
        fs = self.machine.fs
        name, net = self.network()
        d = self._dir(name)
        if not fs.exists(d):
            fs.makedirs(d)
        first = int(net.network_address) + 2
        last = int(net.broadcast_address) - 1
        start = first
        try:
            prev = int(ipaddress.ip_address(fs.read_text(f"{d}/last_reserved_ip.0").strip()))
            if first <= prev < last:
                start = prev + 1
        except (FsError, AivleError, ValueError):
            pass
        size = last - first + 1
        for i in range(size):
            cand = first + (start - first + i) % size
            ip = str(ipaddress.ip_address(cand))
            if not fs.exists(f"{d}/{ip}"):
                fs.write(f"{d}/{ip}", f"{pod_id}\neth0")
                fs.write(f"{d}/last_reserved_ip.0", ip)
                return ip
        raise CNIError(f'plugin type="host-local" failed (add): failed to allocate for range 0: no IP addresses '
                       f'available in range set: {ipaddress.ip_address(first)}-{ipaddress.ip_address(last)}')

    def release(self, pod_id: str, ip: str) -> None:
        fs = self.machine.fs
        try:
            name, _ = self.network()
        except (CNIError, ValueError):
            name = "cbr0"
        path = f"{self._dir(name)}/{ip}"
        try:
            if fs.exists(path):
                fs.remove(path)
        except (FsError, AivleError):
            pass


# -- manifests -------------------------------------------------------------------------------------------
FLANNEL_MANIFEST = """---
kind: Namespace
apiVersion: v1
metadata:
  name: kube-flannel
  labels:
    k8s-app: flannel
    pod-security.kubernetes.io/enforce: privileged
---
kind: ClusterRole
apiVersion: rbac.authorization.k8s.io/v1
metadata:
  labels:
    k8s-app: flannel
  name: flannel
rules:
- apiGroups:
  - ""
  resources:
  - pods
  verbs:
  - get
- apiGroups:
  - ""
  resources:
  - nodes
  verbs:
  - get
  - list
  - watch
- apiGroups:
  - ""
  resources:
  - nodes/status
  verbs:
  - patch
---
kind: ClusterRoleBinding
apiVersion: rbac.authorization.k8s.io/v1
metadata:
  labels:
    k8s-app: flannel
  name: flannel
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: flannel
subjects:
- kind: ServiceAccount
  name: flannel
  namespace: kube-flannel
---
apiVersion: v1
kind: ServiceAccount
metadata:
  labels:
    k8s-app: flannel
  name: flannel
  namespace: kube-flannel
---
kind: ConfigMap
apiVersion: v1
metadata:
  name: kube-flannel-cfg
  namespace: kube-flannel
  labels:
    tier: node
    k8s-app: flannel
    app: flannel
data:
  cni-conf.json: |
    {
      "name": "cbr0",
      "cniVersion": "0.3.1",
      "plugins": [
        {
          "type": "flannel",
          "delegate": {
            "hairpinMode": true,
            "isDefaultGateway": true
          }
        },
        {
          "type": "portmap",
          "capabilities": {
            "portMappings": true
          }
        }
      ]
    }
  net-conf.json: |
    {
      "Network": "10.244.0.0/16",
      "EnableNFTables": false,
      "Backend": {
        "Type": "vxlan"
      }
    }
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kube-flannel-ds
  namespace: kube-flannel
  labels:
    tier: node
    app: flannel
    k8s-app: flannel
spec:
  selector:
    matchLabels:
      app: flannel
  template:
    metadata:
      labels:
        tier: node
        app: flannel
    spec:
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - key: kubernetes.io/os
                operator: In
                values:
                - linux
      hostNetwork: true
      priorityClassName: system-node-critical
      tolerations:
      - operator: Exists
        effect: NoSchedule
      serviceAccountName: flannel
      initContainers:
      - name: install-cni-plugin
        image: docker.io/flannel/flannel-cni-plugin:v1.5.1-flannel1
        command:
        - cp
        args:
        - -f
        - /flannel
        - /opt/cni/bin/flannel
        volumeMounts:
        - name: cni-plugin
          mountPath: /opt/cni/bin
      - name: install-cni
        image: docker.io/flannel/flannel:v0.25.5
        command:
        - cp
        args:
        - -f
        - /etc/kube-flannel/cni-conf.json
        - /etc/cni/net.d/10-flannel.conflist
        volumeMounts:
        - name: cni
          mountPath: /etc/cni/net.d
        - name: flannel-cfg
          mountPath: /etc/kube-flannel/
      containers:
      - name: kube-flannel
        image: docker.io/flannel/flannel:v0.25.5
        command:
        - /opt/bin/flanneld
        args:
        - --ip-masq
        - --kube-subnet-mgr
        resources:
          requests:
            cpu: "100m"
            memory: "50Mi"
        securityContext:
          privileged: false
          capabilities:
            add: ["NET_ADMIN", "NET_RAW"]
        env:
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
        - name: EVENT_QUEUE_DEPTH
          value: "5000"
        volumeMounts:
        - name: run
          mountPath: /run/flannel
        - name: flannel-cfg
          mountPath: /etc/kube-flannel/
        - name: xtables-lock
          mountPath: /run/xtables.lock
      volumes:
      - name: run
        hostPath:
          path: /run/flannel
      - name: cni-plugin
        hostPath:
          path: /opt/cni/bin
      - name: cni
        hostPath:
          path: /etc/cni/net.d
      - name: flannel-cfg
        configMap:
          name: kube-flannel-cfg
      - name: xtables-lock
        hostPath:
          path: /run/xtables.lock
          type: FileOrCreate
"""

CALICO_MANIFEST = """---
# Source: calico/templates/calico-kube-controllers.yaml (trimmed: the calico-node DaemonSet and its config)
kind: ServiceAccount
apiVersion: v1
metadata:
  name: calico-node
  namespace: kube-system
---
kind: ConfigMap
apiVersion: v1
metadata:
  name: calico-config
  namespace: kube-system
data:
  typha_service_name: "none"
  calico_backend: "bird"
  veth_mtu: "0"
---
kind: ClusterRoleBinding
apiVersion: rbac.authorization.k8s.io/v1
metadata:
  name: calico-node
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: calico-node
subjects:
- kind: ServiceAccount
  name: calico-node
  namespace: kube-system
---
kind: DaemonSet
apiVersion: apps/v1
metadata:
  name: calico-node
  namespace: kube-system
  labels:
    k8s-app: calico-node
spec:
  selector:
    matchLabels:
      k8s-app: calico-node
  updateStrategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 1
  template:
    metadata:
      labels:
        k8s-app: calico-node
    spec:
      nodeSelector:
        kubernetes.io/os: linux
      hostNetwork: true
      tolerations:
      - effect: NoSchedule
        operator: Exists
      - key: CriticalAddonsOnly
        operator: Exists
      - effect: NoExecute
        operator: Exists
      serviceAccountName: calico-node
      terminationGracePeriodSeconds: 0
      priorityClassName: system-node-critical
      containers:
      - name: calico-node
        image: docker.io/calico/node:v3.28.0
        command:
        - calico-node
        env:
        - name: DATASTORE_TYPE
          value: "kubernetes"
        - name: NODENAME
          valueFrom:
            fieldRef:
              fieldPath: spec.nodeName
        - name: CALICO_NETWORKING_BACKEND
          valueFrom:
            configMapKeyRef:
              name: calico-config
              key: calico_backend
        - name: CLUSTER_TYPE
          value: "k8s,bgp"
        - name: IP
          value: "autodetect"
        - name: CALICO_IPV4POOL_IPIP
          value: "Always"
        - name: CALICO_IPV4POOL_CIDR
          value: "192.168.0.0/16"
        - name: FELIX_DEFAULTENDPOINTTOHOSTACTION
          value: "ACCEPT"
        securityContext:
          privileged: true
        resources:
          requests:
            cpu: 250m
        volumeMounts:
        - mountPath: /host/etc/cni/net.d
          name: cni-net-dir
        - mountPath: /var/run/calico
          name: var-run-calico
      volumes:
      - name: cni-net-dir
        hostPath:
          path: /etc/cni/net.d
      - name: var-run-calico
        hostPath:
          path: /var/run/calico
          type: DirectoryOrCreate
"""


def publish_manifests(world: Any) -> None:
    """Serve the flannel and calico manifests (and metrics-server's ``components.yaml``) at their real
    URLs (``kubectl apply -f <url>``, ``curl``)."""
    world.publish(FLANNEL_URL, FLANNEL_MANIFEST)
    world.publish(CALICO_URL, CALICO_MANIFEST)
    from .metrics import publish_manifest

    publish_manifest(world)


# -- images (the kubeadm side publishes them; tests add them to their registries) ------------------------------
def flannel_image() -> Any:
    """``docker.io/flannel/flannel:v0.25.5``: ``/opt/bin/flanneld`` and busybox-ish ``cp``."""
    return _program_image({"/opt/bin/flanneld": "flanneld", "/bin/cp": "cp", "/bin/sh": "sh"},
                          entrypoint=("/opt/bin/flanneld",), size=65_536)


def flannel_cni_plugin_image() -> Any:
    """``docker.io/flannel/flannel-cni-plugin:v1.5.1-flannel1``: the ``/flannel`` CNI binary and ``cp``."""
    return _program_image({"/flannel": "true", "/bin/cp": "cp"}, entrypoint=(), size=65_536)


def calico_image() -> Any:
    return _program_image({"/usr/bin/calico-node": "calico-node"}, entrypoint=("start_runit",), size=65_536)


def _program_image(programs: dict[str, str], *, entrypoint: tuple, size: int) -> Any:
    from ..images.image import Image, ImageConfig
    from ..linux.distro import make_layer

    created = "2024-07-29T00:00:00Z"
    cfg = ImageConfig(env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/bin",),
                      entrypoint=entrypoint or None)
    return Image(cfg, created=created).add_layer(
        make_layer({"/etc/passwd": "root:x:0:0:root:/root:/bin/sh\n"}, programs=programs, default_size=size),
        "COPY dist/ / # buildkit", created)


# -- the daemons ---------------------------------------------------------------------------------------------
def go_client_user_agent(proc: Any) -> str:
    """The User-Agent client-go sends for a program that does not set one and is built outside the
    Kubernetes tree (no version ldflags): the program's file name, ``v0.0.0`` and the unexpanded commit
    placeholder, e.g. ``flanneld/v0.0.0 (linux/amd64) kubernetes/$Format`` (flanneld, CoreDNS 1.11,
    metrics-server, calico-node)."""
    import posixpath

    program = posixpath.basename(proc.argv[0]) if proc.argv and proc.argv[0] else "unknown"
    return f"{program}/v0.0.0 (linux/amd64) kubernetes/$Format"


def _in_cluster_client(proc: Any) -> Any:
    """A client as the pod's service account, to ``https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT``."""
    from .client import APIClient
    from .kubelet.kubelet import in_cluster_identity

    host = proc.env.get("KUBERNETES_SERVICE_HOST")
    port = proc.env.get("KUBERNETES_SERVICE_PORT", "443")
    if not host:
        raise CNIError("unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
                       "KUBERNETES_SERVICE_PORT must be defined")
    user = in_cluster_identity(proc.fs) or "system:anonymous"
    machine = proc.kernel.owner
    return APIClient(machine.world.net, proc.ns.net, f"https://{host}:{port}", user,
                     user_agent=go_client_user_agent(proc))


def _node_pod_cidr(proc: Any, node: str) -> str:
    client = _in_cluster_client(proc)
    obj = client.get("nodes", node)
    cidr = (obj.get("spec") or {}).get("podCIDR", "")
    if not cidr:
        raise CNIError(f'failed to acquire lease: node "{node}" pod cidr not assigned')
    return cidr


def _klog(proc: Any, level: str, where: str, text: str) -> None:
    from .kubelet.program import klog

    klog(proc, level, where, text)


@register_program("flanneld")
def flanneld(proc):
    """``flanneld --ip-masq --kube-subnet-mgr``: the node's subnet from its podCIDR -> /run/flannel/subnet.env."""
    machine = proc.kernel.owner
    fs = proc.fs
    node = proc.env.get("NODE_NAME") or machine.name
    pod = proc.env.get("POD_NAME", "")
    if pod and not proc.env.get("NODE_NAME"):
        node = machine.name
    net_conf = {"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}}
    try:
        if fs.exists("/etc/kube-flannel/net-conf.json"):
            net_conf = json.loads(fs.read_text("/etc/kube-flannel/net-conf.json"))
    except (ValueError, AivleError):
        _klog(proc, "E", "main.go:332", '"Failed to create SubnetManager: error parsing subnet config"')
        return 1
    _klog(proc, "I", "main.go:211", f"CLI flags config: {{etcdEndpoints:http://127.0.0.1:4001,http://127.0.0.1:2379 "
                                    f"kubeSubnetMgr:true ipMasq:true}}")
    while True:
        try:
            cidr = _node_pod_cidr(proc, node)
            break
        except CNIError as e:
            _klog(proc, "E", "main.go:359", f"Error registering network: {e.message}")
            return 1
        except (NetworkError, AivleError) as e:
            _klog(proc, "E", "main.go:332", f"Failed to create SubnetManager: error retrieving pod spec for "
                                            f"'{proc.env.get('POD_NAMESPACE', 'kube-flannel')}/{pod}': {e}")
            yield proc.sleep(5)
            continue
    net = ipaddress.ip_network(cidr)
    gw = f"{ipaddress.ip_address(int(net.network_address) + 1)}/{net.prefixlen}"
    if not fs.exists("/run/flannel"):
        fs.makedirs("/run/flannel")
    fs.write("/run/flannel/subnet.env", f"FLANNEL_NETWORK={net_conf.get('Network', '10.244.0.0/16')}\n"
                                        f"FLANNEL_SUBNET={gw}\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n")
    _klog(proc, "I", "main.go:431", f"Found network config - Backend type: "
                                    f"{(net_conf.get('Backend') or {}).get('Type', 'vxlan')}")
    _klog(proc, "I", "kube.go:636", f'List of node({node}) annotations: map[string]string{{}}')
    _klog(proc, "I", "main.go:445", "Running backend.")
    proc.on_signal("TERM", lambda s: proc.exit(0))
    yield proc.forever()


@register_program("calico-node")
def calico_node(proc):
    """``calico-node``: writes ``10-calico.conflist`` (host-local IPAM over the node's podCIDR) to the host."""
    machine = proc.kernel.owner
    fs = proc.fs
    node = proc.env.get("NODENAME") or machine.name
    while True:
        try:
            cidr = _node_pod_cidr(proc, node)
            break
        except CNIError as e:
            proc.error(f"[FATAL] {e.message}\n")
            return 1
        except (NetworkError, AivleError) as e:
            proc.error(f"[ERROR][1] startup/startup.go 158: failed to query kubeadm's config map error={e}\n")
            yield proc.sleep(5)
    target = "/host/etc/cni/net.d" if fs.exists("/host/etc/cni/net.d") else CNI_DIR
    fs.write(f"{target}/10-calico.conflist", calico_conflist(cidr))
    proc.error(f"[INFO][1] startup/startup.go 428: Early log level set to info\n"
               f"[INFO][1] startup/startup.go 580: Using node name: {node}\n")
    proc.on_signal("TERM", lambda s: proc.exit(0))
    yield proc.forever()
