"""The :class:`Cluster` façade: kubectl command lines and Python collections over one cluster.

>>> # cluster = Cluster(world, master)                 # admin kubeconfig at /etc/kubernetes/admin.conf
>>> # cluster.kubectl("get pods -o wide")              # a ShellResult, as in a terminal
>>> # cluster.pods.list(label_selector="app=web")      # [<Pod default/web-1 Running on worker-1>, ...]
"""

from __future__ import annotations

import copy
import datetime as _dt
import shlex
from typing import Any, Callable, Iterator

import yaml

from ..machines.machine import ShellResult
from ..sim.errors import InvalidInput
from .kubectl import printers as P
from .kubectl.commands import Kubectl

__all__ = ["Cluster", "Collection", "KubeObject"]


class KubeObject:
    """A Kubernetes object as returned by the API server: ``.raw`` is the JSON dict.

    Attribute access reads the top-level fields (``obj.spec``, ``obj.status``);
    ``name``, ``namespace``, ``labels``, ``uid`` are shortcuts.
    """

    def __init__(self, raw: dict):
        self.raw = raw

    def __getattr__(self, item: str) -> Any:
        raw = self.__dict__.get("raw") or {}
        if item in raw:
            return raw[item]
        raise AttributeError(item)

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KubeObject) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash((self.kind, self.namespace, self.name, self.uid))

    @property
    def kind(self) -> str:
        return self.raw.get("kind", "")

    @property
    def metadata(self) -> dict:
        return self.raw.get("metadata") or {}

    @property
    def name(self) -> str:
        return self.metadata.get("name", "")

    @property
    def namespace(self) -> str | None:
        return self.metadata.get("namespace")

    @property
    def labels(self) -> dict:
        return dict(self.metadata.get("labels") or {})

    @property
    def annotations(self) -> dict:
        return dict(self.metadata.get("annotations") or {})

    @property
    def uid(self) -> str:
        return self.metadata.get("uid", "")

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    def _summary(self) -> str:
        spec, st = self.raw.get("spec") or {}, self.raw.get("status") or {}
        k = self.kind
        if k == "Pod":
            reason = P.pod_status(self.raw)[0]
            node = spec.get("nodeName")
            return f"{reason} on {node}" if node else reason
        if k in ("Deployment", "StatefulSet"):
            return f"{st.get('readyReplicas') or 0}/{spec.get('replicas', 1)} ready"
        if k == "ReplicaSet":
            return f"{st.get('readyReplicas') or 0}/{spec.get('replicas', 1)} ready"
        if k == "DaemonSet":
            return f"{st.get('numberReady') or 0}/{st.get('desiredNumberScheduled') or 0} ready"
        if k == "Node":
            return P.node_status(self.raw)
        if k == "Service":
            return f"{spec.get('type', 'ClusterIP')} {spec.get('clusterIP', '')}".strip()
        if k == "Namespace":
            return st.get("phase", "Active")
        if k == "Job":
            return P._job_status(self.raw)
        if k == "Event":
            inv = self.raw.get("involvedObject") or {}
            return f"{self.raw.get('type', '')} {self.raw.get('reason', '')} {inv.get('kind', '')}/{inv.get('name', '')}"
        if k in ("ConfigMap", "Secret"):
            return f"{len(self.raw.get('data') or {})} keys"
        return ""

    def __repr__(self) -> str:
        s = self._summary()
        return f"<{self.kind} {self.key}{' ' + s if s else ''}>"

    def to_yaml(self) -> str:
        return P.to_yaml(self.raw)


def _load_one(obj_or_yaml: Any) -> dict:
    if isinstance(obj_or_yaml, KubeObject):
        return copy.deepcopy(obj_or_yaml.raw)
    if isinstance(obj_or_yaml, dict):
        return copy.deepcopy(obj_or_yaml)
    if isinstance(obj_or_yaml, (str, bytes)):
        docs = [d for d in yaml.safe_load_all(obj_or_yaml) if d is not None]
        if len(docs) != 1 or not isinstance(docs[0], dict):
            raise InvalidInput(f"expected exactly one object, got {len(docs)} documents (use apply() for several)")
        return docs[0]
    raise InvalidInput(f"expected a dict or YAML text, not {type(obj_or_yaml).__name__}")


class Collection:
    """One resource type of the cluster (``cluster.pods``): list, get, create, delete, apply."""

    def __init__(self, cluster: "Cluster", resource: str):
        from .apiserver.resources import resolve

        self.cluster = cluster
        self.info = resolve(resource)

    def __repr__(self) -> str:
        return f"<Collection {self.info.group_resource}>"

    def _ns(self, namespace: str | None) -> str | None:
        return namespace if self.info.namespaced else None

    def list(self, namespace: str | None = "default", label_selector: str | dict | None = None,
             field_selector: str | None = None, *, all_namespaces: bool = False) -> list[KubeObject]:
        """Objects of this type (``namespace=None`` or ``all_namespaces=True``: every namespace)."""
        if isinstance(label_selector, dict):
            label_selector = ",".join(f"{k}={v}" for k, v in label_selector.items())
        ns = None if all_namespaces else self._ns(namespace)
        items = self.cluster.client.list(self.info.plural, ns, label_selector=label_selector,
                                         field_selector=field_selector).get("items") or []
        kind, api = self.info.kind, self.info.api_version
        return [KubeObject({"apiVersion": api, "kind": kind, **i} if "kind" not in i else i) for i in items]

    def __iter__(self) -> Iterator[KubeObject]:
        return iter(self.list(all_namespaces=True))

    def __len__(self) -> int:
        return len(self.list(all_namespaces=True))

    def names(self, namespace: str | None = "default", label_selector: str | None = None) -> list[str]:
        return [o.name for o in self.list(namespace, label_selector)]

    def get(self, name: str, namespace: str = "default") -> KubeObject:
        """One object; raises NotFoundError (``pods "x" not found``)."""
        return KubeObject(self.cluster.client.get(self.info.plural, name, self._ns(namespace)))

    def exists(self, name: str, namespace: str = "default") -> bool:
        from .apiserver.errors import NotFoundError

        try:
            self.get(name, namespace)
            return True
        except NotFoundError:
            return False

    def create(self, obj_or_yaml: Any, namespace: str | None = None) -> KubeObject:
        obj = _load_one(obj_or_yaml)
        obj.setdefault("apiVersion", self.info.api_version)
        obj.setdefault("kind", self.info.kind)
        ns = namespace or (obj.get("metadata") or {}).get("namespace") or ("default" if self.info.namespaced else None)
        return KubeObject(self.cluster.client.create(obj, namespace=self._ns(ns)))

    def delete(self, name: str, namespace: str = "default", *, grace_period_seconds: int | None = None,
               force: bool = False, wait: bool = False) -> KubeObject:
        """Delete one object (``wait=True`` advances the clock until it is gone, bounded)."""
        out = KubeObject(self.cluster.client.delete(self.info.plural, name, self._ns(namespace),
                                                    grace_period_seconds=grace_period_seconds, force=force))
        if wait:
            self.cluster.wait_for(lambda: not self.exists(name, namespace), timeout=600)
        return out

    def patch(self, name: str, patch: Any, namespace: str = "default", patch_type: str = "strategic") -> KubeObject:
        return KubeObject(self.cluster.client.patch(self.info.plural, name, patch, namespace=self._ns(namespace),
                                                    patch_type=patch_type))

    def apply(self, yaml_text: str) -> ShellResult:
        """``kubectl apply -f -`` with this text (create or three-way merge)."""
        return self.cluster.apply(yaml_text)


_COLLECTIONS = {"pods": "pods", "deployments": "deployments", "services": "services", "nodes": "nodes",
                "namespaces": "namespaces", "replicasets": "replicasets", "daemonsets": "daemonsets", "jobs": "jobs",
                "configmaps": "configmaps", "secrets": "secrets", "events": "events", "endpoints": "endpoints",
                "statefulsets": "statefulsets", "leases": "leases", "serviceaccounts": "serviceaccounts"}


class Cluster:
    """A Kubernetes cluster seen by its admin.

    Args:
        world: the world.
        machine: where ``kubectl`` runs (the master), as root.
        kubeconfig_path: the admin kubeconfig on that machine.

    ``Cluster.from_client(client)`` makes one from an :class:`APIClient` (no machine).
    """

    def __init__(self, world: Any, machine: Any = None, kubeconfig_path: str = "/etc/kubernetes/admin.conf", *,
                 client: Any = None):
        self.world = world
        self.machine = machine
        self.kubeconfig_path = kubeconfig_path
        self._client = client
        for attr, res in _COLLECTIONS.items():
            setattr(self, attr, Collection(self, res))

    pods: Collection
    deployments: Collection
    services: Collection
    nodes: Collection
    namespaces: Collection
    replicasets: Collection
    daemonsets: Collection
    jobs: Collection
    configmaps: Collection
    secrets: Collection
    events: Collection

    @classmethod
    def from_client(cls, client: Any, world: Any = None) -> "Cluster":
        return cls(world, None, client=client)

    def __repr__(self) -> str:
        where = self.machine.name if self.machine is not None else "client"
        return f"<Cluster via {where} -> {self.client.server}>"

    @property
    def loop(self) -> Any:
        if self.world is not None:
            return self.world.loop
        return self.client.apiserver().loop

    @property
    def client(self) -> Any:
        """The admin :class:`APIClient` (from the machine's kubeconfig)."""
        if self._client is None:
            if self.machine is None:
                raise InvalidInput("this Cluster has neither a machine nor a client")
            from .kubeconfig import client_for

            text = self.machine.fs.read_text(self.kubeconfig_path)
            self._client = client_for(self.world, self.machine.netns, text)
        return self._client

    # -- kubectl ----------------------------------------------------------------------
    def kubectl(self, command: str | list[str], stdin: str | bytes | None = None,
                timeout: float = 3600.0) -> ShellResult:
        """Run ``kubectl <command>``: on the machine as root with the admin kubeconfig, or through the
        command layer directly (``from_client``); output and exit code as in a terminal."""
        argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
        if argv and argv[0] == "kubectl":
            argv = argv[1:]
        data = stdin.encode() if isinstance(stdin, str) else (stdin or b"")
        if self.machine is not None:
            return self._run_on_machine(argv, data, timeout)
        return self._run_direct(argv, data, timeout)

    def _run_on_machine(self, argv: list[str], data: bytes, timeout: float) -> ShellResult:
        from ..linux.kernel import Stream
        from .kubectl.program import main

        m = self.machine
        out, err = Stream("stdout"), Stream("stderr")
        transcript = bytearray()
        out.listeners.append(transcript.extend)
        err.listeners.append(transcript.extend)
        env = {"HOME": "/root", "USER": "root", "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               "KUBECONFIG": self.kubeconfig_path}
        proc = m.kernel.start(main, ["kubectl", *argv], ns=m.ns, env=env, cwd="/root", stdin=data, stdout=out,
                              stderr=err, uid=0)
        if proc.alive:
            m.world.loop.run_until(lambda: not proc.alive, timeout=timeout)
            if proc.alive:
                m.kernel.signal(proc.pid, "KILL")
        code = proc.exit_code if proc.exit_code is not None else 130
        return ShellResult(code, out.text(), err.text(), transcript.decode("utf-8", "replace"))

    def _run_direct(self, argv: list[str], data: bytes, timeout: float) -> ShellResult:
        client = self.client
        out: list[str] = []
        transcript: list[str] = []

        def now() -> _dt.datetime:
            if self.world is not None:
                t = self.world.datetime()
            else:
                t = P.parse_time(client.apiserver().now())
            return t if t.tzinfo else t.replace(tzinfo=_dt.timezone.utc)

        k = Kubectl(connect=lambda: client, loop=self.loop, now=now, stdin=data)
        err: list[str] = []
        k.write = lambda s: (out.append(s), transcript.append(s))  # type: ignore[assignment]
        k.error = lambda s: (err.append(s), transcript.append(s))  # type: ignore[assignment]
        result: dict = {}

        def drive() -> Any:
            result["code"] = yield from k.run(argv)

        task = self.loop.spawn(drive(), name="kubectl")
        if "code" not in result:
            self.loop.run_until(lambda: "code" in result, timeout=timeout)
        code = result.get("code", 130)
        return ShellResult(code, "".join(out), "".join(err), "".join(transcript))

    def apply(self, yaml_text: str) -> ShellResult:
        """``kubectl apply -f -``."""
        return self.kubectl(["apply", "-f", "-"], stdin=yaml_text)

    # -- real clients ---------------------------------------------------------------------
    def serve(self, port: int = 0, kubeconfig: str | None = None, **options: Any) -> Any:
        """Serve this cluster's API server over HTTPS on 127.0.0.1 for real clients (kubectl, the
        ``kubernetes`` SDK); needs the ``serve`` extra (aiohttp).

        Returns a handle with ``.url``, ``.kubeconfig`` (an admin kubeconfig file: in a temporary
        directory, or at ``kubeconfig``), ``.token`` and ``.stop()``. While a client waits on a
        watch (``kubectl rollout status``, ``kubectl wait``) the handle advances the world's clock;
        ``handle.autoadvance = True`` keeps it running all the time. Options: see
        :func:`aivle_k8s.serve.kube.serve_kube`.
        """
        from ..serve.kube import serve_kube

        return serve_kube(self, port=port, kubeconfig=kubeconfig, **options)

    # -- time -------------------------------------------------------------------------
    def wait_for(self, predicate_or_condition: Callable[[], bool] | str, timeout: float = 300.0) -> bool:
        """Advance the world's clock until ``predicate()`` holds (or ``kubectl wait`` arguments such as
        ``"--for=condition=Ready pod/web"`` succeed); returns whether it did within ``timeout`` seconds."""
        if callable(predicate_or_condition):
            pred = predicate_or_condition

            def safe() -> bool:
                try:
                    return bool(pred())
                except Exception:  # noqa: BLE001 - e.g. NotFound while objects appear
                    return False
            return self.loop.run_until(safe, timeout=timeout)
        res = self.kubectl(f"wait {predicate_or_condition} --timeout={int(timeout)}s")
        return res.exit_code == 0
