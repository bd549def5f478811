"""Static pods: manifests in ``staticPodPath`` (``/etc/kubernetes/manifests``) run without the API server.

The kubelet reads the directory at start and every ``fileCheckFrequency`` (20 s).
Each file's pod gets the name ``<name>-<node>``, a uid that is a hash of the
manifest and the node (the ``kubernetes.io/config.hash`` annotation), runs at
once, and is mirrored in the API server by a *mirror pod* (annotation
``kubernetes.io/config.mirror``, owned by the Node) once the API server
answers. A removed file stops the pod and deletes its mirror; a deleted mirror
pod is created again.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import TYPE_CHECKING, Any

import yaml

from ...sim.errors import AivleError, NetworkError

if TYPE_CHECKING:  # pragma: no cover
    from .kubelet import Kubelet
    from .pod_workers import PodWorker

__all__ = ["StaticPods"]


class StaticPods:
    def __init__(self, kubelet: "Kubelet"):
        self.kubelet = kubelet
        self.files: dict[str, str] = {}  # path -> worker key
        self.mirrors: dict[str, dict] = {}  # worker key -> mirror pod as last seen
        self.errors: dict[str, str] = {}
        self._decoded: dict[str, tuple[bool, Any]] = {}  # manifest text -> (is a pod, YAML or error)

    def _read(self) -> dict[str, tuple[str, dict, str]]:
        """``path -> (config hash, decoded manifest, text)`` of each valid pod manifest.

        A file read again unchanged is not decoded again: what a rescan compares is the
        hash of the manifest (``kubernetes.io/config.hash``), as in the kubelet's file source.
        """
        k = self.kubelet
        fs = k.machine.fs
        path = k.static_pod_path
        found: dict[str, tuple[str, dict, str]] = {}
        if not path:
            return found
        try:
            names = sorted(fs.listdir(path))
        except AivleError:
            return found
        decoded: dict[str, tuple[bool, Any]] = {}
        for name in names:
            if name.startswith(".") or not fs.is_file(f"{path}/{name}"):
                continue
            full = f"{path}/{name}"
            try:
                text = fs.read_text(full)
            except AivleError as e:
                self.errors[full] = str(e)
                continue
            entry = decoded.get(text) or self._decoded.get(text)
            if entry is None:
                try:
                    obj = yaml.safe_load(text)
                except yaml.YAMLError as e:
                    entry = (False, str(e))
                else:
                    if not isinstance(obj, dict) or obj.get("kind") != "Pod":
                        kind = obj.get("kind") if isinstance(obj, dict) else ""
                        entry = (False, f'invalid pod: kind "{kind}"')
                    else:
                        entry = (True, obj)
            decoded[text] = entry
            ok, obj = entry
            if not ok:
                self.errors[full] = obj
                continue
            found[full] = (self._hash(text), obj, text)
        self._decoded = decoded
        return found

    def _hash(self, text: str) -> str:
        return hashlib.md5(f"{text}\n{self.kubelet.node_name}".encode()).hexdigest()

    def _prepare(self, obj: dict, text: str) -> dict:
        from ..apiserver.defaults import apply_defaults

        k = self.kubelet
        pod = copy.deepcopy(obj)
        pod.setdefault("apiVersion", "v1")
        meta = pod.setdefault("metadata", {})
        meta["namespace"] = meta.get("namespace") or "default"
        meta["name"] = f"{meta.get('name', '')}-{k.node_name}"
        digest = self._hash(text)
        meta["uid"] = digest
        ann = meta.setdefault("annotations", {})
        ann["kubernetes.io/config.hash"] = digest
        ann["kubernetes.io/config.seen"] = k.world.datetime().strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
        ann["kubernetes.io/config.source"] = "file"
        spec = pod.setdefault("spec", {})
        spec["nodeName"] = k.node_name
        tolerations = spec.setdefault("tolerations", [])
        if not any(t.get("operator") == "Exists" and t.get("effect") == "NoExecute" and not t.get("key")
                   for t in tolerations):
            tolerations.append({"operator": "Exists", "effect": "NoExecute"})
        spec.setdefault("enableServiceLinks", True)
        apply_defaults(pod)
        return pod

    def scan(self) -> None:
        """Read the manifest directory; start, replace or stop static pods to match."""
        k = self.kubelet
        if not k.running:
            return
        found = self._read()
        for path, key in list(self.files.items()):
            entry = found.get(path)
            w = k.workers.get(key)
            if entry is None or w is None or w.uid != entry[0]:
                if w is not None:
                    k._kill_worker(w)
                self._delete_mirror(key)
                del self.files[path]
        for path, (_, obj, text) in found.items():
            if path in self.files:
                continue
            pod = self._prepare(obj, text)
            meta = pod["metadata"]
            key = f"{meta['namespace']}/{meta['name']}"
            if key in k.workers and not k.workers[key].static:
                continue  # an API pod already has that name
            w = k._new_worker(key, pod, static=True)
            self.files[path] = key
            k._sync(w)
        self.sync_mirrors()

    # -- mirror pods ---------------------------------------------------------------------
    def mirror_name(self, w: "PodWorker") -> str | None:
        return w.name if w.key in self.mirrors else None

    def worker_for_mirror(self, pod: dict) -> "PodWorker | None":
        meta = pod["metadata"]
        return self.kubelet.workers.get(f"{meta.get('namespace', 'default')}/{meta['name']}")

    def mirror_seen(self, pod: dict) -> None:
        meta = pod["metadata"]
        key = f"{meta.get('namespace', 'default')}/{meta['name']}"
        w = self.kubelet.workers.get(key)
        if w is None or not w.static:
            return
        if (meta.get("annotations") or {}).get("kubernetes.io/config.mirror") != w.uid:
            return
        first = key not in self.mirrors
        self.mirrors[key] = pod
        if meta.get("deletionTimestamp"):
            return
        if first:
            w.last_status = None
            self.kubelet._push_status(w)

    def mirror_deleted(self, pod: dict) -> None:
        meta = pod["metadata"]
        key = f"{meta.get('namespace', 'default')}/{meta['name']}"
        self.mirrors.pop(key, None)
        w = self.kubelet.workers.get(key)
        if w is not None and w.static and not w.terminated:
            self._create_mirror(w)

    def sync_mirrors(self) -> None:
        k = self.kubelet
        if not k.registered:
            return
        for key in list(self.files.values()):
            w = k.workers.get(key)
            if w is not None and key not in self.mirrors:
                self._create_mirror(w)

    def _create_mirror(self, w: "PodWorker") -> None:
        from ..apiserver.errors import AlreadyExistsError

        k = self.kubelet
        if not k.registered or not k.node_uid:
            return
        mirror = json.loads(json.dumps(w.pod))
        meta = mirror["metadata"]
        for f in ("uid", "resourceVersion", "creationTimestamp"):
            meta.pop(f, None)
        meta["annotations"]["kubernetes.io/config.mirror"] = w.uid
        meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": k.node_name, "uid": k.node_uid,
                                    "controller": True}]
        mirror.pop("status", None)
        try:
            created = k.client.create(mirror)
        except AlreadyExistsError:
            try:
                created = k.client.get("pods", w.name, w.namespace)
            except (NetworkError, AivleError):
                return
            if (created["metadata"].get("annotations") or {}).get("kubernetes.io/config.mirror") != w.uid:
                try:  # a stale mirror of an older manifest: replace it
                    k.client.delete("pods", w.name, w.namespace, grace_period_seconds=0)
                except (NetworkError, AivleError):
                    pass
                return
        except (NetworkError, AivleError) as e:
            k._log("E", f'"Failed creating a mirror pod" pod="{w.key}" err="{e}"')
            return
        self.mirrors[w.key] = created
        w.last_status = None
        k._push_status(w)

    def _delete_mirror(self, key: str) -> None:
        k = self.kubelet
        self.mirrors.pop(key, None)
        ns, _, name = key.partition("/")
        try:
            k.client.delete("pods", name, ns, grace_period_seconds=0)
        except (NetworkError, AivleError):
            pass
