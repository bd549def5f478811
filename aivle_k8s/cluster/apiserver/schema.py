"""The real Kubernetes OpenAPI schemas (the ``kubernetes-validate`` package) as the decoder.

kube-apiserver decodes a request body into Go structs before anything else:
a wrong JSON type fails with encoding/json's words and, under strict field
validation (kubectl's default), an unknown field fails too — both ``400
BadRequest``. This module plays that decoder with the published JSON schemas
of one Kubernetes version (1.30 by default), and also exposes the schema's
patch metadata (``x-kubernetes-patch-merge-key``) for strategic merge patch.

Validators are built once per kind and results are memoized by the object's
content (minus per-object metadata such as name and uid), or by its shape (field
names and value types), so the 150,000 pods stamped from one template are checked
once and a Lease renewed every 10 s is checked once.

>>> s = Schemas("1.30")
>>> r = s.decode({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"},
...               "spec": {"containers": [{"name": "c", "image": "x", "imagee": "y"}]}})
>>> r.unknown
['spec.containers[0].imagee']
>>> s.decode({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"name": "c", "ports": [{"containerPort": "80"}]}]}}).type_error
'json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32'
>>> s.patch_meta("Pod", ("spec", "containers"))
('merge', 'name')
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any, NamedTuple

__all__ = ["Schemas", "DecodeResult", "DEFAULT_KUBERNETES_VERSION", "instance_key", "shape_key", "format_path"]

#: The Kubernetes version whose schemas validate objects unless told otherwise.
DEFAULT_KUBERNETES_VERSION = "1.30"

# metadata set per object (by the user, a controller or the server) that never changes
# whether an object decodes: left out of the memo key
_INSTANCE_META = ("name", "generateName", "uid", "resourceVersion", "creationTimestamp", "generation",
                  "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink", "namespace")


def instance_key(obj: dict) -> str:
    """A canonical text of ``obj`` without its per-object metadata (the memo key)."""
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        obj = dict(obj)
        obj["metadata"] = {k: v for k, v in meta.items() if k not in _INSTANCE_META}
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


#: Definitions whose schema-required fields the API server does not check (the OpenAPI marks every
#: field without ``omitempty`` required; kube-apiserver's validation only checks some of them):
#: a kubelet may post a partial ``status.nodeInfo``.
_REQUIRED_NOT_VALIDATED = ("io.k8s.api.core.v1.NodeSystemInfo",)


def _shape(v: Any, key: Any = None) -> Any:
    if isinstance(v, dict):
        return {k: _shape(x, k) for k, x in v.items()}
    if isinstance(v, list):
        return [_shape(x) for x in v]
    if isinstance(v, str):
        return v if key in ("apiVersion", "kind") else ""
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, int):
        return 0
    if isinstance(v, float):
        return 0.0 if v.is_integer() else 0.5
    return f"<{type(v).__name__}>"


def shape_key(obj: dict) -> str:
    """A canonical text of what decoding ``obj`` depends on: its field names, the JSON type of each
    value (integral or not for numbers) and the ``apiVersion``/``kind`` strings -- the schemas check
    nothing else (no patterns, lengths or enums but apiVersion/kind), so objects that differ only in
    their strings and numbers (a Lease renewed, a status heartbeat) decode alike and share a memo entry."""
    return json.dumps(_shape(obj), sort_keys=True, separators=(",", ":"))


def format_path(path) -> str:
    """``["spec", "containers", 0, "image"]`` -> ``spec.containers[0].image``."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


class DecodeResult(NamedTuple):
    """What decoding found: a type error (fatal), unknown fields, missing required fields."""

    type_error: str | None
    unknown: list  # formatted paths of unknown fields
    unknown_paths: list  # the same as path tuples (for pruning)
    required: list  # formatted paths of missing required fields


_OK = DecodeResult(None, [], [], [])


def _json_type(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


class Schemas:
    """Schemas of one Kubernetes version, loaded lazily from ``kubernetes-validate``.

    Args:
        version: ``"1.30"``; the newest bundled schema not newer than it is used.
        memo_size: how many decoded-object results to remember.
    """

    def __init__(self, version: str = DEFAULT_KUBERNETES_VERSION, *, memo_size: int = 4096):
        from kubernetes_validate import utils  # the maintained schema bundle

        self._utils = utils
        wanted = version.lstrip("v")
        mm = utils.major_minor(wanted)
        versions = [v for v in utils.all_versions() if _vkey(utils.major_minor(v)) <= _vkey(mm)]
        if not versions:
            raise ValueError(f"kubernetes-validate has no schemas for Kubernetes {version}")
        self.version = utils.major_minor(versions[-1])
        self._dir = f"kubernetes-json-schema/v{versions[-1]}-local-strict"
        self._defs_doc: dict | None = None
        self._validators: dict[tuple[str, str], Any] = {}
        self._tops: dict[tuple[str, str], dict] = {}
        self._memo: OrderedDict[tuple, DecodeResult] = OrderedDict()
        self._memo_size = memo_size
        self._meta_cache: dict[tuple, tuple | None] = {}
        self.hits = 0
        self.misses = 0

    def __repr__(self) -> str:
        return f"<Schemas Kubernetes {self.version} kinds={len(self._validators)} memo={len(self._memo)}>"

    _shared: dict = {}

    @classmethod
    def shared(cls, version: str = DEFAULT_KUBERNETES_VERSION) -> "Schemas":
        """One instance per version for the whole process (schemas and memo are pure)."""
        inst = cls._shared.get(version)
        if inst is None:
            inst = cls._shared[version] = cls(version)
        return inst

    # -- loading ------------------------------------------------------------------------
    @property
    def defs_doc(self) -> dict:
        """The whole ``_definitions.json`` document (loaded once)."""
        if self._defs_doc is None:
            self._defs_doc = self._utils.schema_contents(f"{self._dir}/_definitions.json", self.version)
        return self._defs_doc

    @property
    def defs(self) -> dict:
        return self.defs_doc["$defs"]

    def _file(self, api_version: str, kind: str) -> str:
        group, _, version = api_version.rpartition("/")
        suffix = f"{group.split('.')[0]}-{version}" if group else version
        return f"{self._dir}/{kind.lower()}-{suffix}.json"

    def top(self, api_version: str, kind: str) -> dict | None:
        """The top-level schema of a kind, or None if the bundle has none."""
        key = (api_version, kind)
        if key not in self._tops:
            try:
                self._tops[key] = self._utils.schema_contents(self._file(api_version, kind), self.version)
            except (FileNotFoundError, OSError):
                self._tops[key] = None  # type: ignore[assignment]
        return self._tops[key]

    def validator(self, api_version: str, kind: str):
        key = (api_version, kind)
        v = self._validators.get(key)
        if v is None:
            import jsonschema
            from referencing import Registry, Resource

            top = self.top(api_version, kind)
            if top is None:
                return None
            registry = Resource.from_contents(top) @ Registry()
            registry = Resource.from_contents(self.defs_doc) @ registry
            v = jsonschema.Draft202012Validator(top, registry=registry)
            self._validators[key] = v
        return v

    def _deref(self, sch: dict) -> tuple[dict, str | None]:
        name = None
        for _ in range(8):
            ref = sch.get("$ref")
            if not ref:
                break
            name = ref.rsplit("/", 1)[-1]
            sch = self.defs.get(name, {})
        return sch, name

    # -- decoding -----------------------------------------------------------------------
    def decode(self, obj: dict, key: str | None = None) -> DecodeResult:
        """Check ``obj`` the way the Go decoder would (memoized by ``key``, an :func:`instance_key`,
        or by default by :func:`shape_key`)."""
        api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
        if key is None:
            key = shape_key(obj)
        mkey = (api_version, kind, key)
        hit = self._memo.get(mkey)
        if hit is not None:
            self.hits += 1
            return hit
        self.misses += 1
        result = self._decode(obj, api_version, kind)
        self._memo[mkey] = result
        if len(self._memo) > self._memo_size:
            self._memo.popitem(last=False)
        return result

    def _decode(self, obj: dict, api_version: str, kind: str) -> DecodeResult:
        v = self.validator(api_version, kind)
        if v is None:
            return _OK
        type_error = None
        unknown: list = []
        required: list = []
        errors = sorted(v.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path])
        for e in errors:
            path = list(e.absolute_path)
            if e.validator == "additionalProperties":
                props = e.schema.get("properties", {})
                for k in e.instance:
                    if k not in props:
                        unknown.append(path + [k])
            elif e.validator in ("type", "oneOf", "anyOf"):
                if e.instance is None:
                    continue  # JSON null decodes to Go's zero value
                if type_error is None:
                    type_error = self._type_error(api_version, kind, path, e)
            elif e.validator == "required":
                if any(e.schema is self.defs.get(d) for d in _REQUIRED_NOT_VALIDATED):
                    continue
                for r in e.validator_value:
                    if isinstance(e.instance, dict) and r not in e.instance:
                        required.append(format_path(path + [r]))
            elif e.validator == "enum" and path in (["apiVersion"], ["kind"]):
                continue  # checked by the kind lookup
            elif type_error is None:
                type_error = f"json: cannot unmarshal {_json_type(e.instance)} into Go value: {e.message}"
        if type_error is None and not unknown and not required:
            return _OK
        unknown.sort(key=lambda p: [str(x) for x in p])
        return DecodeResult(type_error, [format_path(p) for p in unknown], unknown, required)

    def _type_error(self, api_version: str, kind: str, path: list, e) -> str:
        """encoding/json's ``json: cannot unmarshal X into Go struct field S.a.b of type T``."""
        sch, _ = self._deref(self.top(api_version, kind) or {})
        struct = kind
        names: list[str] = []
        cur_struct = kind
        for p in path:
            if isinstance(p, int):
                sch, n = self._deref(sch.get("items", {}))
                if n:
                    cur_struct = _short(n)
                continue
            props = sch.get("properties")
            if props is not None and p in props:
                struct = cur_struct
                names.append(p)
                sch, n = self._deref(props[p])
                if n:
                    cur_struct = _short(n)
            else:
                sch, n = self._deref(sch.get("additionalProperties") or {})
                if n:
                    cur_struct = _short(n)
        gotype = self._go_type(e.schema)
        where = f"Go struct field {struct}.{'.'.join(names)}" if names else "Go value"
        return f"json: cannot unmarshal {_json_type(e.instance)} into {where} of type {gotype}"

    def _go_type(self, sch: dict) -> str:
        ref = sch.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[-1]
            return _go_name(name)
        if "oneOf" in sch:
            return "intstr.IntOrString"
        t = sch.get("type")
        if isinstance(t, list):
            t = next((x for x in t if x != "null"), "object")
        fmt = sch.get("format")
        if t == "integer":
            return fmt if fmt in ("int32", "int64") else "int"
        if t == "number":
            return "float64"
        if t == "boolean":
            return "bool"
        if t == "string":
            return "[]uint8" if fmt == "byte" else "string"
        if t == "array":
            return "[]" + self._go_type(sch.get("items", {}))
        if t == "object":
            ap = sch.get("additionalProperties")
            if isinstance(ap, dict):
                return "map[string]" + self._go_type(ap)
            return "map[string]interface {}"
        return "interface {}"

    # -- patch metadata -----------------------------------------------------------------
    def field_schema(self, kind_or_top: str | dict, path: tuple) -> dict | None:
        """The (dereferenced) schema at a path of field names (list items skipped)."""
        return self._walk(kind_or_top, path)

    def _walk(self, top: Any, path: tuple) -> dict | None:
        if isinstance(top, str):
            top = self._top_by_kind(top)
            if top is None:
                return None
        sch, _ = self._deref(top)
        for p in path:
            while sch.get("type") in ("array", ["array", "null"]) or "items" in sch:
                sch, _ = self._deref(sch.get("items", {}))
            props = sch.get("properties")
            if props is not None and p in props:
                sch, _ = self._deref(props[p])
            elif isinstance(sch.get("additionalProperties"), dict):
                sch, _ = self._deref(sch["additionalProperties"])
            else:
                return None
        return sch

    def _top_by_kind(self, kind: str) -> dict | None:
        for (av, k), top in self._tops.items():
            if k == kind and top is not None:
                return top
        from .resources import RESOURCES

        for r in RESOURCES:
            if r.kind == kind:
                return self.top(r.api_version, r.kind)
        name = {"Scale": "io.k8s.api.autoscaling.v1.Scale"}.get(kind)
        return self.defs.get(name) if name else None

    def patch_meta(self, kind: str, path: tuple) -> tuple[str | None, str | None] | None:
        """``(patch strategy, merge key)`` of the list field at ``path`` in ``kind`` (None if unknown)."""
        key = (kind, path)
        if key in self._meta_cache:
            return self._meta_cache[key]
        parent = self._walk(kind, path[:-1]) if path else None
        out = None
        if parent is not None:
            while "items" in parent:
                parent, _ = self._deref(parent["items"])
            props = parent.get("properties") or {}
            raw = props.get(path[-1])
            if raw is not None:
                out = (raw.get("x-kubernetes-patch-strategy"), raw.get("x-kubernetes-patch-merge-key"))
        self._meta_cache[key] = out
        return out

    def list_keys(self, kind: str, path: tuple) -> tuple[str, tuple] | None:
        """``(x-kubernetes-list-type, x-kubernetes-list-map-keys)`` of the list at ``path``."""
        parent = self._walk(kind, path[:-1]) if path else None
        if parent is None:
            return None
        while "items" in parent:
            parent, _ = self._deref(parent["items"])
        raw = (parent.get("properties") or {}).get(path[-1])
        if raw is None:
            return None
        return raw.get("x-kubernetes-list-type"), tuple(raw.get("x-kubernetes-list-map-keys") or ())

    def is_map(self, kind: str, path: tuple) -> bool:
        """Whether the field at ``path`` is a free-form map (labels, data) rather than a struct."""
        sch = self._walk(kind, path)
        return bool(sch) and "properties" not in sch and isinstance(sch.get("additionalProperties"), dict)


def _vkey(v: str) -> tuple:
    return tuple(int(x) for x in v.split(".")[:2])


def _short(defname: str) -> str:
    return defname.rsplit(".", 1)[-1]


def _go_name(defname: str) -> str:
    parts = defname.split(".")
    return f"{parts[-2]}.{parts[-1]}" if len(parts) >= 2 else defname
