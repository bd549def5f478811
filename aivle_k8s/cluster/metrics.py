"""The resource metrics pipeline: kubelet ``/metrics/resource`` -> metrics-server -> ``kubectl top``.

As on a real cluster, ``kubectl top nodes`` answers ``error: Metrics API not available``
until metrics-server is installed (``kubectl apply -f`` :data:`METRICS_SERVER_URL`, a built-in
copy of the real ``components.yaml``: ServiceAccount, RBAC, Service, Deployment and the
``v1beta1.metrics.k8s.io`` APIService). Then:

* each **kubelet** serves ``GET /metrics/resource`` on 10250 (to callers with a bearer token):
  Prometheus text with the node's and each container's cumulative CPU seconds and working set,
  from the simulated processes' accounting (resident memory, CPU cores in use, plus what each
  control-plane program costs when idle, :data:`IDLE_MILLICORES`);
* **metrics-server** (a Deployment in kube-system) lists the nodes, scrapes every kubelet each
  ``--metric-resolution`` (15 s), turns two successive samples into rates and serves
  ``NodeMetrics``/``PodMetrics`` on its port; it is Ready once it holds two samples of a node;
* the API server's **availability controller** (in kube-apiserver) checks the APIService's
  Service and endpoints and marks it ``Available`` (``kubectl get apiservices``); requests for
  ``metrics.k8s.io`` are proxied to the Service's endpoints (:func:`metrics_get`).

The kubeadm symptom is kept: a kubelet's serving certificate is self-signed for its host name
(no IP SANs), so metrics-server as published fails every scrape with ``x509: cannot validate
certificate for 10.0.0.11 because it doesn't contain any IP SANs``, never becomes Ready, and
``kubectl top`` keeps answering ``Metrics API not available`` -- until ``--kubelet-insecure-tls``
is added to its args (``kubectl patch`` / ``kubectl edit`` of the Deployment, or an edited
manifest), as the metrics-server README advises for kubeadm clusters. Signed kubelet serving
certificates (``serverTLSBootstrap``) are not modelled.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from ..linux.kernel import register_program
from ..sim.errors import AivleError, NetworkError

__all__ = ["METRICS_SERVER_URL", "METRICS_SERVER_VERSION", "METRICS_SERVER_IMAGE", "METRICS_SERVER_MANIFEST",
           "APISERVICE", "IDLE_MILLICORES", "publish_manifest", "resource_metrics", "parse_prometheus",
           "MetricsServer", "APIServiceAvailability", "MetricsAPIError", "metrics_get", "cpu_quantity",
           "memory_quantity", "go_float"]

METRICS_SERVER_VERSION = "v0.7.2"
METRICS_SERVER_URL = "https://github.com/kubernetes-sigs/metrics-server/releases/latest/download/components.yaml"
_VERSIONED_URL = ("https://github.com/kubernetes-sigs/metrics-server/releases/download/"
                  f"{METRICS_SERVER_VERSION}/components.yaml")
METRICS_SERVER_IMAGE = f"registry.k8s.io/metrics-server/metrics-server:{METRICS_SERVER_VERSION}"
GROUP, VERSION = "metrics.k8s.io", "v1beta1"
APISERVICE = f"{VERSION}.{GROUP}"

#: CPU a program uses when idle, in millicores (what ``kubectl top`` shows on a quiet cluster);
#: a process's explicit load (``proc.cpu``, e.g. a CPU hog) comes on top.
IDLE_MILLICORES = {
    "kube-apiserver": 38, "etcd": 21, "kube-controller-manager": 14, "kube-scheduler": 4, "kubelet": 17,
    "containerd": 6, "dockerd": 6, "cri-dockerd": 3, "crio": 6, "kube-proxy": 1, "coredns": 2, "flanneld": 2,
    "calico-node": 14, "metrics-server": 4, "systemd": 2,
}
_OS_MILLICORES = 6  # the kernel and system services of a node beyond its processes

METRICS_SERVER_MANIFEST = f"""apiVersion: v1
kind: ServiceAccount
metadata:
  labels:
    k8s-app: metrics-server
  name: metrics-server
  namespace: kube-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  labels:
    k8s-app: metrics-server
    rbac.authorization.k8s.io/aggregate-to-admin: "true"
    rbac.authorization.k8s.io/aggregate-to-edit: "true"
    rbac.authorization.k8s.io/aggregate-to-view: "true"
  name: system:aggregated-metrics-reader
rules:
- apiGroups:
  - metrics.k8s.io
  resources:
  - pods
  - nodes
  verbs:
  - get
  - list
  - watch
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  labels:
    k8s-app: metrics-server
  name: system:metrics-server
rules:
- apiGroups:
  - ""
  resources:
  - nodes/metrics
  verbs:
  - get
- apiGroups:
  - ""
  resources:
  - pods
  - nodes
  verbs:
  - get
  - list
  - watch
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  labels:
    k8s-app: metrics-server
  name: metrics-server-auth-reader
  namespace: kube-system
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: extension-apiserver-authentication-reader
subjects:
- kind: ServiceAccount
  name: metrics-server
  namespace: kube-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  labels:
    k8s-app: metrics-server
  name: metrics-server:system:auth-delegator
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:auth-delegator
subjects:
- kind: ServiceAccount
  name: metrics-server
  namespace: kube-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  labels:
    k8s-app: metrics-server
  name: system:metrics-server
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:metrics-server
subjects:
- kind: ServiceAccount
  name: metrics-server
  namespace: kube-system
---
apiVersion: v1
kind: Service
metadata:
  labels:
    k8s-app: metrics-server
  name: metrics-server
  namespace: kube-system
spec:
  ports:
  - name: https
    port: 443
    protocol: TCP
    targetPort: https
  selector:
    k8s-app: metrics-server
---
apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    k8s-app: metrics-server
  name: metrics-server
  namespace: kube-system
spec:
  selector:
    matchLabels:
      k8s-app: metrics-server
  strategy:
    rollingUpdate:
      maxUnavailable: 0
  template:
    metadata:
      labels:
        k8s-app: metrics-server
    spec:
      containers:
      - args:
        - --cert-dir=/tmp
        - --secure-port=10250
        - --kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname
        - --kubelet-use-node-status-port
        - --metric-resolution=15s
        image: {METRICS_SERVER_IMAGE}
        imagePullPolicy: IfNotPresent
        livenessProbe:
          failureThreshold: 3
          httpGet:
            path: /livez
            port: https
            scheme: HTTPS
          periodSeconds: 10
        name: metrics-server
        ports:
        - containerPort: 10250
          name: https
          protocol: TCP
        readinessProbe:
          failureThreshold: 3
          httpGet:
            path: /readyz
            port: https
            scheme: HTTPS
          initialDelaySeconds: 20
          periodSeconds: 10
        resources:
          requests:
            cpu: 100m
            memory: 200Mi
        securityContext:
          allowPrivilegeEscalation: false
          capabilities:
            drop:
            - ALL
          readOnlyRootFilesystem: true
          runAsNonRoot: true
          runAsUser: 1000
          seccompProfile:
            type: RuntimeDefault
        volumeMounts:
        - mountPath: /tmp
          name: tmp-dir
      nodeSelector:
        kubernetes.io/os: linux
      priorityClassName: system-cluster-critical
      serviceAccountName: metrics-server
      volumes:
      - emptyDir: {{}}
        name: tmp-dir
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  labels:
    k8s-app: metrics-server
  name: {APISERVICE}
spec:
  group: {GROUP}
  groupPriorityMinimum: 100
  insecureSkipTLSVerify: true
  service:
    name: metrics-server
    namespace: kube-system
  version: {VERSION}
  versionPriority: 100
"""


def publish_manifest(world: Any) -> None:
    """Serve ``components.yaml`` at its real URLs (latest and the pinned release)."""
    world.publish(METRICS_SERVER_URL, METRICS_SERVER_MANIFEST)
    world.publish(_VERSIONED_URL, METRICS_SERVER_MANIFEST)


# =====================================================================================
# numbers as Go and apimachinery print them
# =====================================================================================
def go_float(v: float) -> str:
    """``strconv.FormatFloat(v, 'g', -1, 64)`` (Prometheus' text format): the shortest digits, in
    exponent form when the exponent is below -4 or at least 6.

    >>> go_float(25.120367), go_float(16109568.0), go_float(123456.0), go_float(0.0001), go_float(0.00001)
    ('25.120367', '1.6109568e+07', '123456', '0.0001', '1e-05')
    """
    if v == 0:
        return "0"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if math.isnan(v):
        return "NaN"
    sign, digits, exp = Decimal(repr(float(v))).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    exp += len(digits) - len(text)
    point = len(text) + exp  # digits before the decimal point
    x = point - 1
    neg = "-" if sign else ""
    if x < -4 or x >= 6:
        mant = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{neg}{mant}e{'+' if x >= 0 else '-'}{abs(x):02d}"
    if point <= 0:
        return f"{neg}0.{'0' * -point}{text}"
    if point >= len(text):
        return f"{neg}{text}{'0' * (point - len(text))}"
    return f"{neg}{text[:point]}.{text[point:]}"


_DECIMAL_SUFFIX = {-9: "n", -6: "u", -3: "m", 0: ""}


def cpu_quantity(nanocores: int) -> str:
    """A CPU rate as metrics-server serves it (``NewScaledQuantity(n, -9)``, canonical): ``143827452n``, ``144m``."""
    n = int(nanocores)
    if n == 0:
        return "0"
    exp = -9
    while n % 1000 == 0 and exp < 0:
        n //= 1000
        exp += 3
    return f"{n}{_DECIMAL_SUFFIX[exp]}"


def memory_quantity(nbytes: int) -> str:
    """Bytes as a canonical BinarySI quantity: ``1320812Ki``, ``16Mi``, ``512``."""
    n = int(nbytes)
    if n == 0:
        return "0"
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = 1024 ** ("KMGTPE".index(suffix[0]) + 1)
        if n % unit == 0:
            return f"{n // unit}{suffix}"
    return str(n)


def _go_duration(seconds: float) -> str:
    """``time.Duration.String()`` for a metrics window: ``15s``, ``15.003s``, ``1m0s``."""
    ms = int(round(seconds * 1000))
    if ms < 60_000:
        whole, frac = divmod(ms, 1000)
        return f"{whole}.{frac:03d}".rstrip("0").rstrip(".") + "s"
    m, rest = divmod(ms, 60_000)
    whole, frac = divmod(rest, 1000)
    sec = f"{whole}.{frac:03d}".rstrip("0").rstrip(".")
    return f"{m}m{sec}s"


# =====================================================================================
# the kubelet's side: /metrics/resource
# =====================================================================================
def _proc_cores(p: Any) -> float:
    return float(getattr(p, "cpu", 0.0) or 0.0) + IDLE_MILLICORES.get(getattr(p, "comm", ""), 0) / 1000.0


def _host_memory_used(kernel: Any) -> int:
    from ..linux.coreutils import memory_summary

    return memory_summary(kernel)["used"]


class ResourceStats:
    """The kubelet's stats provider (cAdvisor's job): cumulative CPU seconds of the node and of each
    container, integrated from the cores the processes use, and their working sets."""

    def __init__(self, kubelet: Any):
        self.kubelet = kubelet
        self._cpu: dict[str, tuple[float, float]] = {}  # key -> (last sample time, cumulative seconds)

    def _accumulate(self, key: str, cores: float, now: float, since: float) -> float:
        prev = self._cpu.get(key)
        total = (cores * max(0.0, now - since)) if prev is None else prev[1] + cores * max(0.0, now - prev[0])
        self._cpu[key] = (now, total)
        return total

    def sample(self) -> dict:
        """``{"node": (cpu_seconds, working_set, start), "containers": [(ns, pod, container, cpu_seconds,
        working_set, start), ...], "pods": {(ns, pod): (cpu_seconds, working_set)}}`` at the current time."""
        k = self.kubelet
        kernel = k.machine.kernel
        now = k.loop.now
        by_cgroup: dict[int, list] = {}
        groups: dict[int, Any] = {}
        for p in list(kernel.processes.values()):
            if p.exit_code is not None:
                continue
            by_cgroup.setdefault(id(p.ns.cgroup), []).append(p)
            groups[id(p.ns.cgroup)] = p.ns.cgroup

        def cores_of(cg_id: int) -> float:
            used = sum(_proc_cores(p) for p in by_cgroup.get(cg_id, ()))
            limit = getattr(groups.get(cg_id), "cpu_limit", None)
            return min(used, limit) if limit is not None else used

        node_cores = _OS_MILLICORES / 1000.0 + sum(cores_of(g) for g in by_cgroup)
        node_cores = min(node_cores, float(getattr(kernel, "cpus", 0) or node_cores))
        boot = float(getattr(k.machine, "booted_at", 0.0) or 0.0)
        node_cpu = self._accumulate("node", node_cores, now, boot)
        containers = []
        pods: dict[tuple[str, str], list[float]] = {}
        rt = k.runtime
        live = set()
        for cid, entry in sorted(getattr(rt, "_containers", {}).items(), key=lambda kv: kv[1].created_at):
            c = entry.container
            if not c.running or c.ns is None:
                continue
            procs = by_cgroup.get(id(c.ns.cgroup), [])
            cores = cores_of(id(c.ns.cgroup))
            mem = sum(int(getattr(p, "rss", 0) or 0) for p in procs)
            start = float(c.started_at if c.started_at is not None else now)
            total = self._accumulate(cid, cores, now, start)
            live.add(cid)
            labels = c.labels
            ns, pod = labels.get("io.kubernetes.pod.namespace", ""), labels.get("io.kubernetes.pod.name", "")
            containers.append((ns, pod, labels.get("io.kubernetes.container.name", ""), total, mem, start))
            acc = pods.setdefault((ns, pod), [0.0, 0])
            acc[0] += total
            acc[1] += mem
        for sid, sb in getattr(rt, "_sandboxes", {}).items():  # the pause container counts for its pod
            pause = sb.pause
            if not pause.running or pause.ns is None or sb.config.host_network:
                continue
            procs = by_cgroup.get(id(pause.ns.cgroup), [])
            cores = cores_of(id(pause.ns.cgroup))
            total = self._accumulate(sid, cores, now, float(pause.started_at or now))
            live.add(sid)
            key = (sb.config.namespace, sb.config.name)
            if key in pods:
                pods[key][0] += total
                pods[key][1] += sum(int(getattr(p, "rss", 0) or 0) for p in procs)
        for key in [key for key in self._cpu if key != "node" and key not in live]:
            del self._cpu[key]
        return {"node": (node_cpu, _host_memory_used(kernel), boot), "containers": containers,
                "pods": {k_: (v[0], int(v[1])) for k_, v in pods.items()}}


def resource_metrics(kubelet: Any) -> str:
    """The body of the kubelet's ``GET /metrics/resource`` (Prometheus text format 0.0.4)."""
    stats = getattr(kubelet, "_resource_stats", None)
    if stats is None:
        stats = kubelet._resource_stats = ResourceStats(kubelet)
    s = stats.sample()
    world = kubelet.world
    ms = int(round(world.datetime().timestamp() * 1000))
    epoch = world.datetime(0).timestamp()
    lines: list[str] = []

    def family(name: str, help_: str, kind: str, rows: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} [STABLE] {help_}")
        lines.append(f"# TYPE {name} {kind}")
        for labels, value in rows:
            lines.append(f"{name}{labels} {go_float(value)} {ms}")

    def lab(ns: str, pod: str, container: str | None = None) -> str:
        if container is None:
            return f'{{namespace="{ns}",pod="{pod}"}}'
        return f'{{container="{container}",namespace="{ns}",pod="{pod}"}}'

    cs = sorted(s["containers"], key=lambda c: (c[0], c[1], c[2]))
    family("container_cpu_usage_seconds_total", "Cumulative cpu time consumed by the container in core-seconds",
           "counter", [(lab(ns, pod, c), cpu) for ns, pod, c, cpu, _, _ in cs])
    family("container_memory_working_set_bytes", "Current working set of the container in bytes", "gauge",
           [(lab(ns, pod, c), float(mem)) for ns, pod, c, _, mem, _ in cs])
    family("container_start_time_seconds", "Start time of the container since unix epoch in seconds", "gauge",
           [(lab(ns, pod, c), epoch + start) for ns, pod, c, _, _, start in cs])
    node_cpu, node_mem, _ = s["node"]
    family("node_cpu_usage_seconds_total", "Cumulative cpu time consumed by the node in core-seconds", "counter",
           [("", node_cpu)])
    family("node_memory_working_set_bytes", "Current working set of the node in bytes", "gauge",
           [("", float(node_mem))])
    ps = sorted(s["pods"].items())
    family("pod_cpu_usage_seconds_total", "Cumulative cpu time consumed by the pod in core-seconds", "counter",
           [(lab(ns, pod), v[0]) for (ns, pod), v in ps])
    family("pod_memory_working_set_bytes", "Current working set of the pod in bytes", "gauge",
           [(lab(ns, pod), float(v[1])) for (ns, pod), v in ps])
    lines.append("# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, "
                 "0 otherwise")
    lines.append("# TYPE resource_scrape_error gauge")
    lines.append("resource_scrape_error 0")
    return "\n".join(lines) + "\n"


def parse_prometheus(text: str) -> list[tuple[str, dict[str, str], float, int | None]]:
    """``(name, labels, value, timestamp_ms)`` of each sample line of a Prometheus text exposition."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        labels: dict[str, str] = {}
        if "{" in line:
            name, _, rest = line.partition("{")
            body, _, rest = rest.partition("}")
            for part in body.split(","):
                if "=" in part:
                    k, _, v = part.partition("=")
                    labels[k.strip()] = v.strip().strip('"')
        else:
            name, _, rest = line.partition(" ")
        fields = rest.split()
        if not fields:
            continue
        value = float(fields[0])
        ts = int(fields[1]) if len(fields) > 1 else None
        out.append((name.strip(), labels, value, ts))
    return out


# =====================================================================================
# metrics-server
# =====================================================================================
class MetricsAPIError(AivleError):
    """A request for ``metrics.k8s.io`` that cannot be answered (kubectl prints ``message``)."""


def _klog(proc: Any, level: str, where: str, text: str) -> None:
    world = proc.kernel.owner.world
    stamp = world.datetime().strftime("%m%d %H:%M:%S.%f")
    proc.error(f"{level}{stamp} {proc.local_pid:>7} {where}] {text}\n")


def _duration(text: str, default: float) -> float:
    from .kubeadm.tokens import parse_duration

    try:
        return parse_duration(text) or default
    except (AivleError, ValueError):
        return default


class MetricsServer:
    """The running metrics-server: scraper, storage and the ``metrics.k8s.io`` handler."""

    def __init__(self, proc: Any, client: Any, *, resolution: float = 60.0, insecure_tls: bool = False,
                 address_types: tuple = ("Hostname", "InternalDNS", "InternalIP", "ExternalDNS", "ExternalIP"),
                 use_node_status_port: bool = False, kubelet_port: int = 10250):
        self.proc = proc
        self.client = client
        self.world = proc.kernel.owner.world
        self.resolution = resolution
        self.insecure_tls = insecure_tls
        self.address_types = address_types
        self.use_node_status_port = use_node_status_port
        self.kubelet_port = kubelet_port
        self.nodes: dict[str, list] = {}  # node -> [previous, last] (time, cpu seconds, memory, labels)
        self.pods: dict[tuple[str, str], dict[str, list]] = {}  # (ns, pod) -> container -> [prev, last]
        self.pod_labels: dict[tuple[str, str], dict] = {}
        self.scrapes = 0

    # -- scraping --------------------------------------------------------------------
    def _token(self) -> str:
        try:
            return self.proc.fs.read_text("/var/run/secrets/kubernetes.io/serviceaccount/token").strip()
        except AivleError:
            return ""

    def _address(self, node: dict) -> str | None:
        addrs = (node.get("status") or {}).get("addresses") or []
        for kind in self.address_types:
            for a in addrs:
                if a.get("type") == kind and a.get("address"):
                    return a["address"]
        return None

    def _scrape_node(self, node: dict) -> tuple[list, str | None]:
        from ..linux.http import Request, Response

        name = node["metadata"]["name"]
        addr = self._address(node)
        if addr is None:
            return [], f'unable to extract connection information for node "{name}": node {name} had no addresses ' \
                       f'that match preferred addresses'
        port = self.kubelet_port
        if self.use_node_status_port:
            port = int((((node.get("status") or {}).get("daemonEndpoints") or {}).get("kubeletEndpoint") or {})
                       .get("Port") or port)
        url = f"https://{addr}:{port}/metrics/resource"
        net, src = self.world.net, self.proc.ns.net
        try:
            net.endpoint(src, addr, port)
        except NetworkError as e:
            how = "i/o timeout" if getattr(e, "reason", "") == "timeout" else "connect: connection refused"
            return [], f'Get "{url}": dial tcp {addr}:{port}: {how}'
        if not self.insecure_tls:
            return [], (f'Get "{url}": tls: failed to verify certificate: x509: cannot validate certificate for '
                        f'{addr} because it doesn\'t contain any IP SANs')
        headers = {"Host": f"{addr}:{port}", "User-Agent": f"metrics-server/{METRICS_SERVER_VERSION} (linux/amd64) "
                   "kubernetes/0c7f9c6", "Accept": "text/plain", "Authorization": f"Bearer {self._token()}"}
        try:
            resp = Response.parse(net.request(src, addr, port, Request("GET", "/metrics/resource", headers).to_bytes()))
        except NetworkError as e:
            return [], f'Get "{url}": {e}'
        if resp.status != 200:
            return [], f'request failed, status: "{resp.status} {resp.reason}"'
        return parse_prometheus(resp.text), None

    def scrape(self) -> int:
        """One scrape cycle of every node; returns how many nodes answered."""
        try:
            nodes = self.client.list("nodes").get("items", [])
        except (NetworkError, AivleError) as e:
            _klog(self.proc, "E", "scraper.go:140", f'"Failed to scrape nodes" err="{e}"')
            return 0
        ok = 0
        now = self.world.now
        seen_pods: set = set()
        for node in sorted(nodes, key=lambda n: n["metadata"]["name"]):
            name = node["metadata"]["name"]
            samples, err = self._scrape_node(node)
            if err is not None:
                _klog(self.proc, "E", "scraper.go:149", f'"Failed to scrape node" err="{_quote(err)}" node="{name}"')
                continue
            ok += 1
            node_cpu = node_mem = None
            per_container: dict[tuple[str, str], dict[str, list]] = {}
            for metric, labels, value, ts in samples:
                t = (ts / 1000.0 - self.world.datetime(0).timestamp()) if ts is not None else now
                if metric == "node_cpu_usage_seconds_total":
                    node_cpu = (t, value)
                elif metric == "node_memory_working_set_bytes":
                    node_mem = int(value)
                elif metric in ("container_cpu_usage_seconds_total", "container_memory_working_set_bytes",
                                "container_start_time_seconds"):
                    key = (labels.get("namespace", ""), labels.get("pod", ""))
                    rec = per_container.setdefault(key, {}).setdefault(labels.get("container", ""), [t, 0.0, 0, 0.0])
                    if metric == "container_cpu_usage_seconds_total":
                        rec[0], rec[1] = t, value
                    elif metric == "container_memory_working_set_bytes":
                        rec[2] = int(value)
                    else:
                        rec[3] = value
            if node_cpu is not None and node_mem is not None:
                point = (node_cpu[0], node_cpu[1], node_mem, dict(node["metadata"].get("labels") or {}))
                hist = self.nodes.get(name)
                self.nodes[name] = [hist[1] if hist else None, point]
            for key, containers in per_container.items():
                seen_pods.add(key)
                old = self.pods.get(key, {})
                new: dict[str, list] = {}
                for cname, (t, cpu, mem, start) in containers.items():
                    point = (t, cpu, mem, start)
                    prev = old.get(cname)
                    last = prev[1] if prev else None
                    if last is not None and (last[3] != start or cpu < last[1]):
                        last = None  # the container restarted: its counter started again
                    new[cname] = [last, point]
                self.pods[key] = new
        for key in [k for k in self.pods if k not in seen_pods]:
            del self.pods[key]
        live = {n["metadata"]["name"] for n in nodes}
        for name in [n for n in self.nodes if n not in live]:
            del self.nodes[name]
        self.scrapes += 1
        return ok

    @property
    def ready(self) -> bool:
        """``metric-storage-ready``: a node has two samples (a rate can be computed)."""
        return any(h[0] is not None for h in self.nodes.values())

    # -- the API ---------------------------------------------------------------------
    def _stamp(self, t: float) -> str:
        return self.world.timestamp(t)

    def node_metrics(self, name: str | None = None, selector: str = "") -> list[dict]:
        from .apiserver.selectors import parse_label_selector

        match = parse_label_selector(selector) if selector else None
        out = []
        for node, (prev, last) in sorted(self.nodes.items()):
            if prev is None or (name is not None and node != name):
                continue
            labels = last[3]
            if match is not None and not match.matches(labels):
                continue
            dt = last[0] - prev[0]
            if dt <= 0:
                continue
            rate = max(0.0, (last[1] - prev[1]) / dt)
            out.append({"metadata": {"name": node, "creationTimestamp": self._stamp(self.world.now),
                                     "labels": labels},
                        "timestamp": self._stamp(last[0]), "window": _go_duration(dt),
                        "usage": {"cpu": cpu_quantity(int(rate * 1e9)), "memory": memory_quantity(last[2])}})
        return out

    def pod_metrics(self, namespace: str | None = None, name: str | None = None, selector: str = "") -> list[dict]:
        from .apiserver.selectors import parse_label_selector

        match = parse_label_selector(selector) if selector else None
        labels_of = self._pod_labels(namespace)
        out = []
        for (ns, pod), containers in sorted(self.pods.items()):
            if (namespace is not None and ns != namespace) or (name is not None and pod != name):
                continue
            if not containers or any(prev is None for prev, _ in containers.values()):
                continue
            labels = labels_of.get((ns, pod), {})
            if match is not None and not match.matches(labels):
                continue
            items = []
            stamp = window = None
            for cname, (prev, last) in sorted(containers.items()):
                dt = last[0] - prev[0]
                rate = max(0.0, (last[1] - prev[1]) / dt) if dt > 0 else 0.0
                items.append({"name": cname, "usage": {"cpu": cpu_quantity(int(rate * 1e9)),
                                                       "memory": memory_quantity(last[2])}})
                stamp, window = last[0], dt
            out.append({"metadata": {"name": pod, "namespace": ns, "creationTimestamp": self._stamp(self.world.now),
                                     "labels": labels},
                        "timestamp": self._stamp(stamp), "window": _go_duration(window or 0), "containers": items})
        return out

    def _pod_labels(self, namespace: str | None) -> dict:
        try:
            pods = self.client.list("pods", namespace).get("items", []) if namespace else \
                self.client.list("pods").get("items", [])
        except (NetworkError, AivleError):
            return {}
        return {(p["metadata"].get("namespace", "default"), p["metadata"]["name"]):
                dict(p["metadata"].get("labels") or {}) for p in pods}


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


class MetricsServerEndpoint:
    """metrics-server's HTTPS port: ``/livez``, ``/readyz``, discovery and the metrics API."""

    def __init__(self, server: MetricsServer):
        self.metrics_server = server

    def __call__(self, data: bytes, peer: tuple) -> bytes:
        from ..linux.http import Request, Response

        try:
            req = Request.parse(data)
        except AivleError:
            return Response(400, b"Bad Request").to_bytes()
        path, _, query = req.path.partition("?")
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        from urllib.parse import unquote

        params = {k: unquote(v) for k, v in params.items()}
        ms = self.metrics_server
        if path == "/livez" or path == "/healthz":
            return Response(200, b"ok", {"Content-Type": "text/plain; charset=utf-8"}).to_bytes()
        if path == "/readyz":
            if ms.ready:
                return Response(200, b"ok", {"Content-Type": "text/plain; charset=utf-8"}).to_bytes()
            _klog(ms.proc, "I", "server.go:191",
                  '"Failed probe" probe="metric-storage-ready" err="no metrics to serve"')
            body = ("[+]ping ok\n[+]log ok\n[+]poststarthook/generic-apiserver-start-informers ok\n"
                    "[+]metadata-informer-sync ok\n[+]metric-collection-timely ok\n[+]metric-informer-sync ok\n"
                    "[-]metric-storage-ready failed: reason withheld\nreadyz check failed\n")
            return Response(500, body.encode(), {"Content-Type": "text/plain; charset=utf-8"}).to_bytes()
        base = f"/apis/{GROUP}/{VERSION}"
        if path in (base, base + "/"):
            doc = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{GROUP}/{VERSION}",
                   "resources": [{"name": "nodes", "singularName": "", "namespaced": False, "kind": "NodeMetrics",
                                  "verbs": ["get", "list"]},
                                 {"name": "pods", "singularName": "", "namespaced": True, "kind": "PodMetrics",
                                  "verbs": ["get", "list"]}]}
            return _json(200, doc)
        if not path.startswith(base + "/"):
            return Response(404, b"404 page not found\n", {"Content-Type": "text/plain; charset=utf-8"}).to_bytes()
        parts = path[len(base) + 1:].split("/")
        selector = params.get("labelSelector", "")
        if parts[0] == "nodes" and len(parts) <= 2:
            if len(parts) == 2:
                items = ms.node_metrics(parts[1])
                if not items:
                    return _not_found("nodemetrics", parts[1])
                return _json(200, {"kind": "NodeMetrics", "apiVersion": f"{GROUP}/{VERSION}", **items[0]})
            return _json(200, {"kind": "NodeMetricsList", "apiVersion": f"{GROUP}/{VERSION}", "metadata": {},
                               "items": ms.node_metrics(selector=selector)})
        ns = None
        if parts[0] == "namespaces" and len(parts) >= 3 and parts[2] == "pods":
            ns, parts = parts[1], parts[2:]
        if parts[0] == "pods" and len(parts) <= 2:
            if len(parts) == 2:
                items = ms.pod_metrics(ns or "default", parts[1])
                if not items:
                    return _not_found("podmetrics", f"{ns or 'default'}/{parts[1]}")
                return _json(200, {"kind": "PodMetrics", "apiVersion": f"{GROUP}/{VERSION}", **items[0]})
            return _json(200, {"kind": "PodMetricsList", "apiVersion": f"{GROUP}/{VERSION}", "metadata": {},
                               "items": ms.pod_metrics(ns, selector=selector)})
        return Response(404, b"404 page not found\n", {"Content-Type": "text/plain; charset=utf-8"}).to_bytes()

    def __repr__(self) -> str:
        return "<MetricsServerEndpoint>"


def _json(status: int, doc: dict) -> bytes:
    from ..linux.http import Response

    return Response(status, json.dumps(doc).encode(), {"Content-Type": "application/json"}).to_bytes()


def _not_found(resource: str, name: str) -> bytes:
    return _json(404, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                       "message": f'{resource}.{GROUP} "{name}" not found', "reason": "NotFound",
                       "details": {"name": name, "group": GROUP, "kind": resource.replace("metrics", "")},
                       "code": 404})


def _flags(argv: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for a in argv[1:]:
        if a.startswith("--"):
            k, eq, v = a[2:].partition("=")
            out[k] = v if eq else "true"
    return out


@register_program("metrics-server")
def metrics_server_main(proc):
    """``/metrics-server --secure-port=10250 --metric-resolution=15s [--kubelet-insecure-tls] ...``."""
    from .cni import _in_cluster_client

    f = _flags(proc.argv)
    if "version" in f:
        proc.write(f"{METRICS_SERVER_VERSION}\n")
        return 0
    port = int(f.get("secure-port", "10250") or 10250)
    resolution = _duration(f.get("metric-resolution", "60s"), 60.0)
    insecure = f.get("kubelet-insecure-tls", "false") not in ("false", "0")
    types = tuple(t for t in (f.get("kubelet-preferred-address-types") or
                              "Hostname,InternalDNS,InternalIP,ExternalDNS,ExternalIP").split(",") if t)
    try:
        client = _in_cluster_client(proc)
    except AivleError as e:
        _klog(proc, "E", "run.go:74", f'"command failed" err="{e.message}"')
        return 1
    server = MetricsServer(proc, client, resolution=resolution, insecure_tls=insecure, address_types=types,
                           use_node_status_port=f.get("kubelet-use-node-status-port", "false") not in ("false", "0"),
                           kubelet_port=int(f.get("kubelet-port", "10250") or 10250))
    cert_dir = f.get("cert-dir", "apiserver.local.config/certificates")
    _klog(proc, "I", "serving.go:374", f"Generated self-signed cert ({cert_dir}/apiserver.crt, "
                                       f"{cert_dir}/apiserver.key)")
    _klog(proc, "I", "handler.go:275", f"Adding GroupVersion {GROUP} {VERSION} to ResourceManager")
    endpoint = MetricsServerEndpoint(server)
    ns = proc.ns.net
    try:
        ns.listen(port, endpoint)
    except NetworkError:
        _klog(proc, "E", "run.go:74", f'"command failed" err="failed to create listener: failed to listen on '
                                      f'0.0.0.0:{port}: listen tcp 0.0.0.0:{port}: bind: address already in use"')
        return 1
    proc.cleanups.append(lambda: ns.close(port) if ns.listeners.get(port) is endpoint else None)
    proc.on_signal("TERM", lambda s: proc.exit(0))
    proc.on_signal("INT", lambda s: proc.exit(0))
    _klog(proc, "I", "secure_serving.go:213", f"Serving securely on [::]:{port}")
    while True:
        server.scrape()
        yield proc.sleep(resolution)


# =====================================================================================
# the API server's side: APIService availability and the proxy
# =====================================================================================
def _available(apiservice: dict) -> dict | None:
    for c in (apiservice.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Available":
            return c
    return None


def _endpoint_addresses(client: Any, namespace: str, name: str, port_name: str | None, port: Any) -> list:
    """``(ip, port)`` of the Service's ready endpoints for ``port_name`` (or the only port)."""
    try:
        ep = client.get("endpoints", name, namespace)
    except (NetworkError, AivleError):
        return []
    out = []
    for subset in ep.get("subsets") or []:
        ports = subset.get("ports") or []
        chosen = None
        for p in ports:
            if (port_name and p.get("name") == port_name) or (not port_name and len(ports) == 1):
                chosen = p
        if chosen is None:
            continue
        for a in subset.get("addresses") or []:
            out.append((a.get("ip"), int(chosen.get("port"))))
    return out


def _service_port(svc: dict, port: int) -> dict | None:
    for p in (svc.get("spec") or {}).get("ports") or []:
        if int(p.get("port", 0)) == port:
            return p
    return None


def check_apiservice(client: Any, net: Any, src: Any, apiservice: dict) -> tuple[str, str, str]:
    """``(status, reason, message)`` of the Available condition, as kube-aggregator's
    AvailableConditionController decides it."""
    from .apiserver.errors import NotFoundError
    from ..linux.http import Request, Response

    spec = apiservice.get("spec") or {}
    ref = spec.get("service")
    if not ref:
        return "True", "Local", "Local APIServices are always available"
    ns, name, port = ref.get("namespace", ""), ref.get("name", ""), int(ref.get("port") or 443)
    try:
        svc = client.get("services", name, ns)
    except NotFoundError:
        return "False", "ServiceNotFound", f'service/{name} in "{ns}" is not present'
    except (NetworkError, AivleError) as e:
        return "False", "ServiceAccessError", f'service/{name} in "{ns}" cannot be checked due to: {e}'
    sp = _service_port(svc, port)
    if sp is None:
        return "False", "ServicePortError", f'service/{name} in "{ns}" is not listening on port {port}'
    port_name = sp.get("name") or ""
    addrs = _endpoint_addresses(client, ns, name, port_name, sp.get("targetPort"))
    if not addrs:
        return "False", "MissingEndpoints", (f'endpoints for service/{name} in "{ns}" have no addresses with port '
                                             f'name "{port_name}"')
    group_version = f"/apis/{spec.get('group', '')}/{spec.get('version', '')}"
    ip, tport = addrs[0]
    url = f"https://{ip}:{tport}{group_version}"
    try:
        raw = net.request(src, ip, tport, Request("GET", group_version, {"Host": f"{ip}:{tport}",
                                                                         "Accept": "application/json"}).to_bytes())
        resp = Response.parse(raw)
    except NetworkError as e:
        how = "i/o timeout" if getattr(e, "reason", "") == "timeout" else "connect: connection refused"
        return "False", "FailedDiscoveryCheck", (f'failing or missing response from {url}: Get "{url}": dial tcp '
                                                 f'{ip}:{tport}: {how}')
    if resp.status != 200:
        return "False", "FailedDiscoveryCheck", (f"failing or missing response from {url}: bad status from {url}: "
                                                 f"{resp.status}")
    return "True", "Passed", "all checks passed"


class APIServiceAvailability:
    """kube-apiserver's ``AvailableConditionController``: keeps each APIService's ``Available``
    condition up to date (on changes to APIServices, Services and Endpoints, and every 30 s)."""

    def __init__(self, client: Any, net: Any, src: Any, loop: Any, now: Any):
        self.client = client
        self.net = net
        self.src = src
        self.loop = loop
        self.now = now
        self._informers: list = []
        self._timer = None
        self._pending = False

    def start(self) -> "APIServiceAvailability":
        from .client import Informer

        for resource in ("apiservices", "services", "endpoints"):
            inf = Informer(self.client, resource, loop=self.loop)
            inf.add_handler(lambda o: self._kick(), lambda o, n: self._kick(), lambda o: self._kick())
            self._informers.append(inf)
            inf.start()
        self._timer = self.loop.call_every(30.0, self.sync)
        self._kick()
        return self

    def stop(self) -> None:
        for inf in self._informers:
            inf.stop()
        self._informers.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _kick(self) -> None:
        if not self._pending:
            self._pending = True
            self.loop.call_soon(self.sync)

    def sync(self) -> None:
        self._pending = False
        if not self._informers:
            return
        for obj in list(self._informers[0].store.values()):
            try:
                self._sync_one(obj)
            except (NetworkError, AivleError):
                continue

    def _sync_one(self, obj: dict) -> None:
        status, reason, message = check_apiservice(self.client, self.net, self.src, obj)
        old = _available(obj)
        if old is not None and (old.get("status"), old.get("reason"), old.get("message")) == (status, reason, message):
            return
        cond = {"type": "Available", "status": status, "reason": reason, "message": message,
                "lastTransitionTime": old.get("lastTransitionTime") if old is not None and
                old.get("status") == status else self.now()}
        body = json.loads(json.dumps(obj))
        conds = [c for c in (body.get("status") or {}).get("conditions") or [] if c.get("type") != "Available"]
        body["status"] = {**(body.get("status") or {}), "conditions": [*conds, cond]}
        self.client.update(body, subresource="status")


def _apiserver_netns(api: Any, net: Any) -> Any:
    from .components import APISERVER_MACHINES

    machine = APISERVER_MACHINES.get(id(api))
    if machine is not None:
        return machine.netns
    owner = net.owner(getattr(api, "address", "") or "")
    if owner is None:
        raise MetricsAPIError("the server is currently unable to handle the request")
    return owner


def metrics_get(client: Any, path: str, *, verb: str, resource: str, namespace: str | None = None,
                name: str | None = None, params: dict | None = None) -> dict:
    """GET ``/apis/metrics.k8s.io/v1beta1/<path>`` through the API server's aggregation layer.

    Raises:
        MetricsAPIError: ``Metrics API not available`` (no APIService, or it is not Available),
            or the proxied request failed.
        ForbiddenError / NotFoundError: from the authorizer or metrics-server.
    """
    from urllib.parse import quote

    from .apiserver.auth import Attributes, authorize, forbidden_message, user_info
    from .apiserver.errors import ForbiddenError, NotFoundError
    from ..linux.http import Request, Response

    api = client.apiserver()
    try:
        svc = api.get("apiservices", APISERVICE, user="system:apiserver")
    except (NotFoundError, AivleError):
        raise MetricsAPIError("Metrics API not available") from None
    cond = _available(svc)
    if cond is None or cond.get("status") != "True":
        raise MetricsAPIError("Metrics API not available")
    user = user_info(client.user)
    attrs = Attributes(user, verb, resource, GROUP, "", namespace or "", name or "")
    ok, reason = authorize(attrs)
    if not ok:
        raise ForbiddenError(resource, name or "", forbidden_message(attrs) + (f": {reason}" if reason else ""),
                             GROUP)
    ref = (svc.get("spec") or {}).get("service") or {}
    loopback = client.with_user("system:apiserver")
    try:
        service = loopback.get("services", ref.get("name", ""), ref.get("namespace", ""))
    except (NetworkError, AivleError):
        service = {}
    sp = _service_port(service, int(ref.get("port") or 443)) or {}
    addrs = _endpoint_addresses(loopback, ref.get("namespace", ""), ref.get("name", ""), sp.get("name") or "", None)
    what = f"{verb} {resource}.{GROUP}" + (f" {name}" if name else "")
    if not addrs:
        raise MetricsAPIError(f"Error from server (ServiceUnavailable): the server is currently unable to handle the "
                              f"request ({what})")
    ip, port = addrs[0]
    query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in (params or {}).items() if v)
    full = f"/apis/{GROUP}/{VERSION}/{path}" + (f"?{query}" if query else "")
    net = client.net
    try:
        raw = net.request(_apiserver_netns(api, net), ip, port,
                          Request("GET", full, {"Host": f"{ip}:{port}", "Accept": "application/json"}).to_bytes())
        resp = Response.parse(raw)
    except NetworkError:
        raise MetricsAPIError(f"Error from server (ServiceUnavailable): the server is currently unable to handle the "
                              f"request ({what})") from None
    try:
        doc = json.loads(resp.body or b"{}")
    except ValueError:
        doc = {}
    if resp.status == 404 and doc.get("kind") == "Status":
        raise MetricsAPIError(f"Error from server (NotFound): {doc.get('message', '')}")
    if resp.status != 200:
        raise MetricsAPIError(f"Error from server (ServiceUnavailable): the server is currently unable to handle the "
                              f"request ({what})")
    return doc
