"""What a kube-apiserver says about itself: ``/version``, API discovery and the OpenAPI documents.

Everything here is derived from the served resource table
(:data:`aivle_k8s.cluster.apiserver.resources.RESOURCES`) and the real schemas the
API server already decodes with (``kubernetes-validate``), so it is pure data: no
world state, computed once per Kubernetes version and cached.

- **legacy discovery**: ``/api`` (``APIVersions``), ``/apis`` (``APIGroupList``),
  ``/api/v1`` and ``/apis/<group>/<version>`` (``APIResourceList``, with the
  subresources as ``pods/log``, ``deployments/scale`` ... rows).
- **aggregated discovery** (``apidiscovery.k8s.io/v2``, ``APIGroupDiscoveryList``):
  one document for ``/api`` and one for ``/apis``, what kubectl asks for first.
- **OpenAPI v3**: ``/openapi/v3`` lists one document per group-version; each
  carries the paths (with ``x-kubernetes-group-version-kind`` and the PATCH
  operation's ``fieldValidation`` parameter and patch media types, which is how
  kubectl decides to validate on the server and to compute strategic merge
  patches) and the component schemas they reference.
- **OpenAPI v2**: the same as one Swagger 2.0 document (JSON only).

>>> doc = aggregated("apis")
>>> [g["metadata"]["name"] for g in doc["items"]][:2]
['apps', 'batch']
>>> deploy = [r for r in doc["items"][0]["versions"][0]["resources"] if r["resource"] == "deployments"][0]
>>> [(s["subresource"], s["responseKind"]["kind"]) for s in deploy["subresources"]]
[('status', 'Deployment'), ('scale', 'Scale')]
>>> sorted(openapi_v3_root("1.30")["paths"])[:3]
['api', 'api/v1', 'apis']
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from functools import lru_cache
from typing import Any, Iterable

from ..cluster.apiserver.resources import RESOURCES, ResourceInfo
from ..cluster.apiserver.schema import DEFAULT_KUBERNETES_VERSION, Schemas

__all__ = ["version_info", "schema_version", "api_versions", "api_group_list", "api_resource_list", "aggregated", "group_versions",
           "openapi_v3_root", "openapi_v3_doc", "openapi_v2_doc", "AGGREGATED_V2", "AGGREGATED_V2BETA1",
           "subresource_meta"]

#: Content types of aggregated discovery (what the response says it is).
AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"

_FORMAT_REV = "aivle-openapi-1"  # part of the OpenAPI hashes: bump when the generated documents change

# subresource -> ((group, version, kind) or None for the parent's kind, verbs)
_SUB_META: dict[str, tuple[tuple[str, str, str] | None, tuple[str, ...]]] = {
    "status": (None, ("get", "patch", "update")),
    "scale": (("autoscaling", "v1", "Scale"), ("get", "patch", "update")),
    "binding": (("", "v1", "Binding"), ("create",)),
    "eviction": (("policy", "v1", "Eviction"), ("create",)),
    "log": (None, ("get",)),
    "exec": (("", "v1", "PodExecOptions"), ("create", "get")),
    "attach": (("", "v1", "PodAttachOptions"), ("create", "get")),
    "portforward": (("", "v1", "PodPortForwardOptions"), ("create", "get")),
    "finalize": (None, ("update",)),
    "approval": (None, ("get", "patch", "update")),
    "token": (("authentication.k8s.io", "v1", "TokenRequest"), ("create",)),
}


def subresource_meta(info: ResourceInfo, sub: str) -> tuple[tuple[str, str, str], tuple[str, ...]]:
    """``((group, version, kind), verbs)`` of one subresource (``deployments/scale`` -> autoscaling/v1 Scale)."""
    if sub == "proxy":
        return ("", "v1", f"{info.kind}ProxyOptions"), ("create", "delete", "get", "patch", "update")
    gvk, verbs = _SUB_META.get(sub, (None, ("get",)))
    return gvk or (info.group, info.version, info.kind), verbs


def group_versions() -> list[tuple[str, str]]:
    """``[("", "v1"), ("apps", "v1"), ...]`` in discovery order (core first)."""
    out: list[tuple[str, str]] = []
    for r in RESOURCES:
        gv = (r.group, r.version)
        if gv not in out:
            out.append(gv)
    return out


def _resources(group: str, version: str) -> list[ResourceInfo]:
    return [r for r in RESOURCES if r.group == group and r.version == version]


# ---------------------------------------------------------------------------------------
# /version
# ---------------------------------------------------------------------------------------
def schema_version(version: str) -> str:
    """The Kubernetes minor the OpenAPI schemas are picked by (``kubernetes-validate`` bundles one
    schema set per minor, ``1.30.0``): ``v1.30.8`` -> ``1.30``, ``1.30`` -> ``1.30``.

    >>> schema_version("v1.30.8"), schema_version("1.29"), schema_version("v1.31.0-rc.1")
    ('1.30', '1.29', '1.31')
    """
    import re

    m = re.match(r"^v?(\d+)\.(\d+)", str(version).strip())
    return f"{m.group(1)}.{m.group(2)}" if m else DEFAULT_KUBERNETES_VERSION


def version_info(kubernetes_version: str = DEFAULT_KUBERNETES_VERSION) -> dict:
    """The ``version.Info`` of ``/version`` (``kubectl version`` prints its ``gitVersion``)."""
    v = str(kubernetes_version).lstrip("v")
    git = f"v{v}.2" if v.count(".") == 1 else f"v{v}"
    major, minor = git.lstrip("v").split(".")[:2]
    from ..cluster.kubectl.commands import _git_commit

    return {"major": major, "minor": minor, "gitVersion": git, "gitCommit": _git_commit(git),
            "gitTreeState": "clean", "buildDate": "2024-06-11T20:21:00Z", "goVersion": "go1.22.4",
            "compiler": "gc", "platform": "linux/amd64"}


# ---------------------------------------------------------------------------------------
# legacy discovery
# ---------------------------------------------------------------------------------------
def api_versions(server_address: str) -> dict:
    """``GET /api``."""
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def api_group_list() -> dict:
    """``GET /apis``."""
    groups = []
    for group, version in group_versions():
        if not group:
            continue
        gv = {"groupVersion": f"{group}/{version}", "version": version}
        groups.append({"name": group, "versions": [gv], "preferredVersion": gv})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group: str) -> dict | None:
    """``GET /apis/<group>``."""
    for g in api_group_list()["groups"]:
        if g["name"] == group:
            return {"kind": "APIGroup", "apiVersion": "v1", **g}
    return None


def _storage_hash(info: ResourceInfo) -> str:
    digest = hashlib.sha256(f"{info.group}/{info.version}/{info.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def api_resource_list(group: str, version: str) -> dict | None:
    """``GET /api/v1`` or ``/apis/<group>/<version>``: every resource and subresource row."""
    infos = _resources(group, version)
    if not infos:
        return None
    rows: list[dict] = []
    for r in infos:
        row: dict[str, Any] = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
                               "kind": r.kind, "verbs": list(r.verbs)}
        if r.short_names:
            row["shortNames"] = list(r.short_names)
        if r.categories:
            row["categories"] = list(r.categories)
        if r.etcd_dir is not None:
            row["storageVersionHash"] = _storage_hash(r)
        rows.append(row)
        for sub in r.subresources:
            (g, v, kind), verbs = subresource_meta(r, sub)
            srow: dict[str, Any] = {"name": f"{r.plural}/{sub}", "singularName": "", "namespaced": r.namespaced}
            if (g, v) != (r.group, r.version):
                srow["group"], srow["version"] = g, v
            srow["kind"] = kind
            srow["verbs"] = list(verbs)
            rows.append(srow)
    rows.sort(key=lambda x: x["name"])
    gv = f"{group}/{version}" if group else version
    out: dict[str, Any] = {"kind": "APIResourceList", "groupVersion": gv, "resources": rows}
    if group:
        out["apiVersion"] = "v1"
    return out


# ---------------------------------------------------------------------------------------
# aggregated discovery (apidiscovery.k8s.io/v2)
# ---------------------------------------------------------------------------------------
def _discovery_resource(r: ResourceInfo) -> dict:
    out: dict[str, Any] = {"resource": r.plural, "responseKind": {"group": "", "version": "", "kind": r.kind},
                           "scope": "Namespaced" if r.namespaced else "Cluster", "singularResource": r.singular,
                           "verbs": list(r.verbs)}
    if r.short_names:
        out["shortNames"] = list(r.short_names)
    if r.categories:
        out["categories"] = list(r.categories)
    subs = []
    for sub in r.subresources:
        (g, v, kind), verbs = subresource_meta(r, sub)
        same = (g, v) == (r.group, r.version)
        subs.append({"subresource": sub,
                     "responseKind": {"group": "" if same else g, "version": "" if same else v, "kind": kind},
                     "verbs": list(verbs)})
    if subs:
        out["subresources"] = subs
    return out


@lru_cache(maxsize=8)
def _aggregated(which: str, api_version: str) -> str:
    items = []
    for group, version in group_versions():
        if (which == "api") != (group == ""):
            continue
        meta: dict[str, Any] = {"creationTimestamp": None}
        if group:
            meta = {"name": group, "creationTimestamp": None}
        resources = sorted((_discovery_resource(r) for r in _resources(group, version)), key=lambda x: x["resource"])
        items.append({"metadata": meta, "versions": [{"version": version, "resources": resources,
                                                      "freshness": "Current"}]})
    return json.dumps({"kind": "APIGroupDiscoveryList", "apiVersion": api_version, "metadata": {},
                       "items": items}, separators=(",", ":"))


def aggregated(which: str, api_version: str = "apidiscovery.k8s.io/v2") -> dict:
    """The ``APIGroupDiscoveryList`` of ``/api`` (``which="api"``) or ``/apis`` (``"apis"``)."""
    return json.loads(_aggregated(which, api_version))


def aggregated_bytes(which: str, api_version: str = "apidiscovery.k8s.io/v2") -> bytes:
    return (_aggregated(which, api_version) + "\n").encode()


# ---------------------------------------------------------------------------------------
# OpenAPI
# ---------------------------------------------------------------------------------------
class _Defs:
    """The schema bundle's definitions indexed by group-version-kind, and the JSON Schema -> OpenAPI rewrite."""

    def __init__(self, version: str):
        self.schemas = Schemas.shared(version)
        self.defs: dict[str, dict] = self.schemas.defs
        self.by_gvk: dict[tuple[str, str, str], str] = {}
        for name, d in self.defs.items():
            for gvk in d.get("x-kubernetes-group-version-kind") or []:
                key = (gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", ""))
                self.by_gvk.setdefault(key, name)

    def name_of(self, group: str, version: str, kind: str) -> str | None:
        return self.by_gvk.get((group, version, kind))

    def closure(self, roots: Iterable[str]) -> list[str]:
        seen: list[str] = []
        todo = [r for r in roots if r]
        done: set[str] = set()
        while todo:
            name = todo.pop()
            if name in done or name not in self.defs:
                continue
            done.add(name)
            seen.append(name)
            todo.extend(_refs(self.defs[name]))
        return sorted(seen)

    def convert(self, node: Any, prefix: str) -> Any:
        """A JSON Schema node of the bundle as an OpenAPI schema (refs under ``prefix``)."""
        if isinstance(node, list):
            return [self.convert(x, prefix) for x in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        ref = node.get("$ref")
        for k, v in node.items():
            if k == "$ref":
                continue
            if k == "type" and isinstance(v, list):
                types = [t for t in v if t != "null"]
                if types:
                    out["type"] = types[0]
                continue
            if k == "additionalProperties" and v is False:
                continue
            if k in ("properties", "patternProperties") and isinstance(v, dict):
                out[k] = {pk: self.convert(pv, prefix) for pk, pv in v.items()}
                continue
            if k in ("x-kubernetes-group-version-kind", "x-kubernetes-list-map-keys", "required", "enum"):
                out[k] = copy.deepcopy(v)
                continue
            out[k] = self.convert(v, prefix)
        if ref:
            target = prefix + ref.rsplit("/", 1)[-1]
            if out:
                return {"allOf": [{"$ref": target}], **out}
            return {"$ref": target}
        return out

    def component(self, name: str, prefix: str) -> dict:
        d = self.defs[name]
        if name.endswith("intstr.IntOrString"):
            return {"description": "IntOrString is a type that can hold an int32 or a string.", "type": "string",
                    "format": "int-or-string", "x-kubernetes-int-or-string": True}
        if name.endswith("resource.Quantity"):
            return {"description": "Quantity is a fixed-point representation of a number.", "type": "string"}
        return self.convert(d, prefix)


def _refs(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref.rsplit("/", 1)[-1]
        for v in node.values():
            yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def _defs(version: str) -> _Defs:
    """The definitions of the schema set for ``version``: every patch release of a minor shares one
    (and the API server's own :class:`Schemas`)."""
    return _defs_of(schema_version(version))


@lru_cache(maxsize=4)
def _defs_of(minor: str) -> _Defs:
    return _Defs(minor)


_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_PATCH_TYPES = ("application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json",
                "application/strategic-merge-patch+json")


def _gv_path(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def _param(name: str, where: str, typ: str = "string", required: bool = False, unique: bool = True) -> dict:
    p: dict[str, Any] = {"name": name, "in": where, "schema": {"type": typ}}
    if typ == "string" and unique:
        p["schema"]["uniqueItems"] = True
    if required or where == "path":
        p["required"] = True
    return p


_LIST_PARAMS = ("allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit", "resourceVersion",
                "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds", "watch")
_BOOL_PARAMS = {"allowWatchBookmarks", "sendInitialEvents", "watch", "force"}
_INT_PARAMS = {"limit", "timeoutSeconds", "gracePeriodSeconds", "tailLines", "limitBytes", "sinceSeconds"}


def _params(names: Iterable[str]) -> list[dict]:
    out = []
    for n in names:
        typ = "boolean" if n in _BOOL_PARAMS else "integer" if n in _INT_PARAMS else "string"
        out.append(_param(n, "query", typ))
    return out


def _ref_content(ref: str, prefix: str, types: Iterable[str] = ("application/json", "application/yaml",
                                                                 "application/vnd.kubernetes.protobuf")) -> dict:
    return {t: {"schema": {"$ref": prefix + ref}} for t in types}


def _operation(action: str, gvk: tuple[str, str, str], op_id: str, tag: str, prefix: str, *,
               response: str | None, body: str | None = None, params: Iterable[str] = (),
               patch: bool = False, text: bool = False) -> dict:
    op: dict[str, Any] = {"tags": [tag], "operationId": op_id, "description": f"{action} {gvk[2]}"}
    ps = _params(params)
    if ps:
        op["parameters"] = ps
    if patch:
        op["requestBody"] = {"content": {t: {"schema": {"$ref": prefix + _META + "Patch"}} for t in _PATCH_TYPES},
                             "required": True}
    elif body:
        op["requestBody"] = {"content": {"*/*": {"schema": {"$ref": prefix + body}}}, "required": True}
    if text:
        content = {"text/plain": {"schema": {"type": "string"}}}
    elif response:
        content = _ref_content(response, prefix)
    else:
        content = {}
    op["responses"] = {"200": {"description": "OK", **({"content": content} if content else {})},
                       "401": {"description": "Unauthorized"}}
    op["x-kubernetes-action"] = action
    op["x-kubernetes-group-version-kind"] = {"group": gvk[0], "kind": gvk[2], "version": gvk[1]}
    return op


def _paths(group: str, version: str, prefix: str, d: _Defs) -> tuple[dict, list[str]]:
    """The paths of one group-version and the definitions they reference."""
    base = "/" + _gv_path(group, version)
    tag = (group.split(".")[0] if group else "core") + "_" + version
    paths: dict[str, dict] = {}
    roots = [_META + k for k in ("Status", "DeleteOptions", "Patch", "WatchEvent", "APIResourceList")]
    write = ("dryRun", "fieldManager", "fieldValidation")

    for r in _resources(group, version):
        gvk = (r.group, r.version, r.kind)
        model = d.name_of(*gvk)
        list_model = d.name_of(r.group, r.version, r.list_kind)
        roots += [m for m in (model, list_model) if m]
        ns = "/namespaces/{namespace}" if r.namespaced else ""
        coll = f"{base}{ns}/{r.plural}"
        item = coll + "/{name}"
        kind_id = r.kind
        scope = "Namespaced" if r.namespaced else ""
        path_params = ([_param("namespace", "path")] if r.namespaced else [])
        if r.etcd_dir is None:  # bindings: create only
            paths[coll] = {"post": _operation("post", gvk, f"create{scope}{kind_id}", tag, prefix, response=model,
                                              body=model, params=write),
                           "parameters": path_params}
            continue
        ops: dict[str, Any] = {
            "get": _operation("list", gvk, f"list{scope}{kind_id}", tag, prefix, response=list_model,
                              params=_LIST_PARAMS),
            "post": _operation("post", gvk, f"create{scope}{kind_id}", tag, prefix, response=model, body=model,
                               params=write),
            "parameters": path_params,
        }
        if "deletecollection" in r.verbs:
            ops["delete"] = _operation("deletecollection", gvk, f"deleteCollection{scope}{kind_id}", tag, prefix,
                                       response=_META + "Status", body=_META + "DeleteOptions",
                                       params=("dryRun", "gracePeriodSeconds", "propagationPolicy", *_LIST_PARAMS))
        paths[coll] = ops
        paths[item] = {
            "get": _operation("get", gvk, f"read{scope}{kind_id}", tag, prefix, response=model),
            "put": _operation("put", gvk, f"replace{scope}{kind_id}", tag, prefix, response=model, body=model,
                              params=write),
            "patch": _operation("patch", gvk, f"patch{scope}{kind_id}", tag, prefix, response=model,
                                params=(*write, "force"), patch=True),
            "delete": _operation("delete", gvk, f"delete{scope}{kind_id}", tag, prefix, response=_META + "Status",
                                 body=_META + "DeleteOptions", params=("dryRun", "gracePeriodSeconds",
                                                                       "propagationPolicy")),
            "parameters": [_param("name", "path"), *path_params],
        }
        if r.namespaced:
            paths[f"{base}/{r.plural}"] = {"get": _operation("list", gvk, f"list{kind_id}ForAllNamespaces", tag,
                                                             prefix, response=list_model, params=_LIST_PARAMS)}
        for sub in r.subresources:
            (g, v, k), verbs = subresource_meta(r, sub)
            sub_model = d.name_of(g, v, k)
            if sub_model:
                roots.append(sub_model)
            sgvk = (g, v, k)
            cap = sub[0].upper() + sub[1:]
            entry: dict[str, Any] = {"parameters": [_param("name", "path"), *path_params]}
            if sub == "log":
                entry["get"] = _operation("get", sgvk, f"read{scope}{kind_id}Log", tag, prefix, response=None,
                                          params=("container", "follow", "limitBytes", "previous", "sinceSeconds",
                                                  "tailLines", "timestamps"), text=True)
            elif sub in ("status", "scale", "approval"):
                entry["get"] = _operation("get", sgvk, f"read{scope}{kind_id}{cap}", tag, prefix, response=sub_model)
                entry["put"] = _operation("put", sgvk, f"replace{scope}{kind_id}{cap}", tag, prefix,
                                          response=sub_model, body=sub_model, params=write)
                entry["patch"] = _operation("patch", sgvk, f"patch{scope}{kind_id}{cap}", tag, prefix,
                                            response=sub_model, params=(*write, "force"), patch=True)
            elif "create" in verbs and sub in ("binding", "eviction", "token"):
                entry["post"] = _operation("post", sgvk, f"create{scope}{kind_id}{cap}", tag, prefix,
                                           response=sub_model, body=sub_model, params=write)
            elif sub == "finalize":
                entry["put"] = _operation("put", sgvk, f"replace{scope}{kind_id}{cap}", tag, prefix,
                                          response=sub_model, body=sub_model, params=write)
            else:
                continue
            paths[f"{item}/{sub}"] = entry
    paths[base + "/"] = {"get": {"tags": [tag], "operationId": f"get{tag}APIResources",
                                 "description": "get available resources",
                                 "responses": {"200": {"description": "OK", "content": _ref_content(
                                     _META + "APIResourceList", prefix, ("application/json", "application/yaml"))}}}}
    return paths, roots


def _info(version: str) -> dict:
    return {"title": "Kubernetes", "version": version_info(version)["gitVersion"]}


@lru_cache(maxsize=32)
def _v3_doc(version: str, group: str, gv_version: str) -> bytes:
    d = _defs(version)
    prefix = "#/components/schemas/"
    paths, roots = _paths(group, gv_version, prefix, d)
    schemas = {name: d.component(name, prefix) for name in d.closure(roots)}
    doc = {"openapi": "3.0.0", "info": _info(version), "paths": paths,
           "components": {"schemas": schemas, "securitySchemes": {"BearerToken": {
               "type": "apiKey", "description": "Bearer Token authentication", "name": "authorization",
               "in": "header"}}},
           "security": [{"BearerToken": []}]}
    return json.dumps(doc, separators=(",", ":")).encode()


def openapi_v3_doc(version: str, gv_path: str) -> bytes | None:
    """The OpenAPI v3 document of ``api/v1`` or ``apis/<group>/<version>`` (JSON bytes), or None."""
    parts = gv_path.strip("/").split("/")
    if parts == ["api", "v1"]:
        group, v = "", "v1"
    elif len(parts) == 3 and parts[0] == "apis":
        group, v = parts[1], parts[2]
    else:
        return None
    if (group, v) not in group_versions():
        return None
    return _v3_doc(version, group, v)


def _hash(version: str, name: str) -> str:
    return hashlib.sha512(f"{_FORMAT_REV}:{version}:{name}".encode()).hexdigest().upper()


def openapi_v3_root(version: str) -> dict:
    """``GET /openapi/v3``: where each group-version's document is (with a content hash kubectl caches by)."""
    paths: dict[str, dict] = {}
    for group, v in group_versions():
        p = _gv_path(group, v)
        paths[p] = {"serverRelativeURL": f"/openapi/v3/{p}?hash={_hash(version, p)}"}
    paths["api"] = {"serverRelativeURL": f"/openapi/v3/api?hash={_hash(version, 'api')}"}
    paths["apis"] = {"serverRelativeURL": f"/openapi/v3/apis?hash={_hash(version, 'apis')}"}
    paths["version"] = {"serverRelativeURL": f"/openapi/v3/version?hash={_hash(version, 'version')}"}
    return {"paths": dict(sorted(paths.items()))}


@lru_cache(maxsize=4)
def _v2_doc(version: str) -> bytes:
    d = _defs(version)
    prefix = "#/definitions/"
    all_paths: dict[str, dict] = {}
    roots: list[str] = []
    for group, v in group_versions():
        paths, r = _paths(group, v, prefix, d)
        roots += r
        for p, item in paths.items():
            all_paths[p] = {m: _v2_operation(op) if m != "parameters" else [_v2_param(x) for x in op]
                            for m, op in item.items()}
    definitions = {name: d.component(name, prefix) for name in d.closure(roots)}
    doc = {"swagger": "2.0", "info": _info(version), "paths": all_paths, "definitions": definitions,
           "securityDefinitions": {"BearerToken": {"type": "apiKey", "name": "authorization", "in": "header",
                                                   "description": "Bearer Token authentication"}},
           "security": [{"BearerToken": []}]}
    return json.dumps(doc, separators=(",", ":")).encode()


def _v2_param(p: dict) -> dict:
    out = {k: v for k, v in p.items() if k != "schema"}
    out.update(p.get("schema") or {})
    return out


def _v2_operation(op: dict) -> dict:
    out = {k: v for k, v in op.items() if k not in ("requestBody", "responses", "parameters")}
    params = [_v2_param(p) for p in op.get("parameters") or []]
    body = op.get("requestBody")
    if body:
        content = body.get("content") or {}
        out["consumes"] = list(content)
        schema = next(iter(content.values())).get("schema", {})
        params.insert(0, {"name": "body", "in": "body", "required": True, "schema": schema})
    if params:
        out["parameters"] = params
    responses = {}
    produces: list[str] = []
    for code, resp in (op.get("responses") or {}).items():
        content = resp.get("content") or {}
        r = {"description": resp.get("description", "")}
        if content:
            produces = produces or list(content)
            r["schema"] = next(iter(content.values())).get("schema", {})
        responses[code] = r
    out["produces"] = produces or ["application/json"]
    out["schemes"] = ["https"]
    out["responses"] = responses
    return out


def openapi_v2_doc(version: str) -> bytes:
    """``GET /openapi/v2`` as JSON (Swagger 2.0)."""
    return _v2_doc(version)
