"""The three patch formats kube-apiserver accepts, plus server-side apply (simplified).

- **strategic merge patch** (``kubectl apply``/``patch``'s default): maps merge;
  lists merge by their *patch merge key* where the schema declares one
  (``containers`` by ``name``, container ``ports`` by ``containerPort``, ``env``
  by ``name``, ``volumeMounts`` by ``mountPath``, ``conditions`` by ``type``,
  Service ``ports`` by ``port``) and are replaced otherwise (``tolerations``,
  ``args``); directives ``$patch: replace|delete|merge``,
  ``$deleteFromPrimitiveList/<field>``, ``$setElementOrder/<field>`` and
  ``$retainKeys``. The merge keys come from the Kubernetes schema itself.
- **JSON merge patch** (RFC 7386): maps merge, ``null`` deletes, lists replace.
- **JSON patch** (RFC 6902): ``add remove replace move copy test`` on JSON pointers.
- **apply**: the applied configuration merged into the live object with the
  strategic rules (no field ownership tracking: fields are never removed by
  omission).

>>> from .schema import Schemas
>>> s = Schemas()
>>> live = {"kind": "Pod", "spec": {"containers": [{"name": "a", "image": "nginx:1"}, {"name": "b", "image": "redis"}]}}
>>> strategic_merge(live, {"spec": {"containers": [{"name": "a", "image": "nginx:2"}]}}, "Pod", s)["spec"]["containers"]
[{'name': 'a', 'image': 'nginx:2'}, {'name': 'b', 'image': 'redis'}]
>>> strategic_merge(live, {"spec": {"containers": [{"name": "b", "$patch": "delete"}]}}, "Pod", s)["spec"]["containers"]
[{'name': 'a', 'image': 'nginx:1'}]
>>> json_patch({"a": [1, 2]}, [{"op": "add", "path": "/a/-", "value": 3}])
{'a': [1, 2, 3]}
"""

from __future__ import annotations

import copy
import json
from typing import Any

from .errors import BadRequestError

__all__ = ["strategic_merge", "json_merge_patch", "json_patch", "parse_patch", "PATCH_TYPES", "PatchError"]

#: patch_type names and the Content-Type kubectl sends for each.
PATCH_TYPES = {
    "strategic": "application/strategic-merge-patch+json",
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "apply": "application/apply-patch+yaml",
}

_DELETE = object()


class PatchError(BadRequestError):
    """A patch that does not apply (422, as the real server answers a failed JSON patch)."""

    code, reason = 422, "Invalid"


def parse_patch(patch: Any, patch_type: str) -> Any:
    """Accept a dict/list or JSON (YAML for ``apply``) text/bytes."""
    if isinstance(patch, (bytes, bytearray)):
        patch = patch.decode()
    if isinstance(patch, str):
        try:
            patch = json.loads(patch)
        except ValueError as e:
            if patch_type == "apply":
                import yaml

                try:
                    patch = yaml.safe_load(patch)
                except yaml.YAMLError as ye:
                    raise BadRequestError(f"error decoding YAML: {ye}") from None
            else:
                raise BadRequestError(f"invalid character in patch: {e}") from None
    if patch_type == "json":
        if not isinstance(patch, list):
            raise BadRequestError("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    elif not isinstance(patch, dict):
        raise BadRequestError(f"json: cannot unmarshal {type(patch).__name__} into Go value of type "
                              f"map[string]interface {{}}")
    return patch


# =====================================================================================
# strategic merge patch
# =====================================================================================

def strategic_merge(original: Any, patch: Any, kind: str, schemas: Any, path: tuple = ()) -> Any:
    """Apply a strategic merge patch; returns a new value (``original`` is not changed)."""
    out = _smp_map(original if isinstance(original, dict) else {}, patch, kind, schemas, path)
    return {} if out is _DELETE else out


def _strip(value: Any) -> Any:
    """A patch fragment with its directives removed (for elements that are added whole)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in ("$patch", "$retainKeys") or k.startswith("$setElementOrder/") \
                    or k.startswith("$deleteFromPrimitiveList/"):
                continue
            if v is None:
                continue
            out[k] = _strip(v)
        return out
    if isinstance(value, list):
        return [_strip(v) for v in value if not (isinstance(v, dict) and v.get("$patch") in ("replace", "delete")
                                                  and len(v) == 1)]
    return value


def _smp_map(original: dict, patch: dict, kind: str, schemas: Any, path: tuple) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip(patch)
    if directive == "delete":
        return _DELETE
    if directive not in (None, "merge"):
        raise PatchError(f"Unknown patch type: {directive} in map: {json.dumps(patch)}")
    result = dict(original)
    orders = {}
    for k, v in patch.items():
        if k in ("$patch", "$retainKeys"):
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            field = k.split("/", 1)[1]
            cur = result.get(field)
            if isinstance(cur, list):
                result[field] = [x for x in cur if x not in (v or [])]
            continue
        if k.startswith("$setElementOrder/"):
            orders[k.split("/", 1)[1]] = v
            continue
        if v is None:
            result.pop(k, None)
            continue
        cur = result.get(k)
        if isinstance(v, dict):
            sub = _smp_map(cur if isinstance(cur, dict) else {}, v, kind, schemas, path + (k,))
            if sub is _DELETE:
                result.pop(k, None)
            else:
                result[k] = sub
        elif isinstance(v, list):
            meta = schemas.patch_meta(kind, path + (k,)) if schemas is not None else None
            strategy, key = meta if meta else (None, None)
            if strategy and "merge" in strategy:
                if key:
                    result[k] = _merge_keyed(cur if isinstance(cur, list) else [], v, key, kind, schemas, path + (k,))
                else:
                    result[k] = _merge_primitive(cur if isinstance(cur, list) else [], v)
            else:
                result[k] = _strip(v)
        else:
            result[k] = v
    for field, order in orders.items():
        cur = result.get(field)
        if isinstance(cur, list) and isinstance(order, list):
            result[field] = _reorder(cur, order, schemas.patch_meta(kind, path + (field,)) if schemas else None)
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_primitive(cur: list, patch: list) -> list:
    if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
        return [x for x in patch if not isinstance(x, dict)]
    out = list(cur)
    for x in patch:
        if isinstance(x, dict):
            continue
        if x not in out:
            out.append(x)
    return out


def _merge_keyed(cur: list, patch: list, key: str, kind: str, schemas: Any, path: tuple) -> list:
    if any(isinstance(e, dict) and e.get("$patch") == "replace" for e in patch):
        return [_strip(e) for e in patch if not (isinstance(e, dict) and e.get("$patch") == "replace")]
    result = [copy.deepcopy(e) for e in cur]
    for pe in patch:
        if not isinstance(pe, dict):
            result.append(pe)
            continue
        if key not in pe:
            raise PatchError(f"map: {json.dumps(pe, sort_keys=True)} does not contain declared merge key: {key}")
        kv = pe[key]
        idx = next((i for i, e in enumerate(result) if isinstance(e, dict) and e.get(key) == kv), None)
        if pe.get("$patch") == "delete":
            if idx is not None:
                del result[idx]
            continue
        if idx is None:
            result.append(_strip(pe))
        else:
            merged = _smp_map(result[idx], pe, kind, schemas, path)
            if merged is _DELETE:
                del result[idx]
            else:
                result[idx] = merged
    return result


def _reorder(cur: list, order: list, meta) -> list:
    key = meta[1] if meta else None

    def ident(e):
        return e.get(key) if key and isinstance(e, dict) else (e.get(next(iter(e))) if isinstance(e, dict) and e else e)

    wanted = [ident(o) if isinstance(o, dict) else o for o in order]
    pos = {w: i for i, w in enumerate(wanted) if not isinstance(w, (dict, list))}
    keyed = [(pos.get(ident(e), len(wanted) + i), e) for i, e in enumerate(cur)]
    return [e for _, e in sorted(keyed, key=lambda t: t[0])]


# =====================================================================================
# JSON merge patch (RFC 7386)
# =====================================================================================

def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: ``null`` deletes a key, maps merge, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = json_merge_patch(result.get(k), v)
    return result


# =====================================================================================
# JSON patch (RFC 6902)
# =====================================================================================

def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise PatchError(f'JSON pointer must be empty or start with a "/": {path!r}')
    if path == "":
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _container(doc: Any, parts: list[str], op: str, path: str) -> tuple[Any, str]:
    cur = doc
    for p in parts[:-1]:
        if isinstance(cur, dict) and p in cur:
            cur = cur[p]
        elif isinstance(cur, list) and p.isdigit() and int(p) < len(cur):
            cur = cur[int(p)]
        else:
            raise PatchError(f'{op} operation does not apply: doc is missing path: "{path}": missing value')
    return cur, parts[-1]


def _index(container: list, last: str, op: str, path: str, allow_end: bool) -> int:
    if last == "-" and allow_end:
        return len(container)
    if not last.isdigit():
        raise PatchError(f'{op} operation does not apply: doc is missing path: "{path}": missing value')
    i = int(last)
    if i > len(container) or (i == len(container) and not allow_end):
        raise PatchError(f"Unable to access invalid index: {i}: invalid index referenced")
    return i


def _get(doc: Any, path: str, op: str) -> Any:
    cur = doc
    for p in _pointer(path):
        if isinstance(cur, dict) and p in cur:
            cur = cur[p]
        elif isinstance(cur, list) and p.isdigit() and int(p) < len(cur):
            cur = cur[int(p)]
        else:
            raise PatchError(f'{op} operation does not apply: doc is missing path: "{path}": missing value')
    return cur


def _remove(doc: Any, path: str, op: str = "remove") -> Any:
    parts = _pointer(path)
    if not parts:
        raise PatchError(f'{op} operation does not apply: doc is missing path: "{path}": missing value')
    c, last = _container(doc, parts, op, path)
    if isinstance(c, dict):
        if last not in c:
            raise PatchError(f'{op} operation does not apply: doc is missing path: "{path}": missing value')
        return c.pop(last)
    if isinstance(c, list):
        return c.pop(_index(c, last, op, path, False))
    raise PatchError(f'{op} operation does not apply: doc is missing path: "{path}": missing value')


def _add(doc: Any, path: str, value: Any, op: str = "add") -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    c, last = _container(doc, parts, op, path)
    if isinstance(c, dict):
        c[last] = value
    elif isinstance(c, list):
        c.insert(_index(c, last, op, path, True), value)
    else:
        raise PatchError(f'{op} operation does not apply: doc is missing path: "{path}": missing value')
    return doc


def json_patch(doc: Any, ops: list) -> Any:
    """Apply RFC 6902 operations to a copy of ``doc``."""
    doc = copy.deepcopy(doc)
    for o in ops:
        if not isinstance(o, dict):
            raise PatchError("json: cannot unmarshal into Go value of type jsonpatch.Operation")
        op = o.get("op")
        path = o.get("path")
        if op == "add":
            if "value" not in o:
                raise PatchError("missing value")
            doc = _add(doc, path, copy.deepcopy(o["value"]))
        elif op == "remove":
            _remove(doc, path)
        elif op == "replace":
            if "value" not in o:
                raise PatchError("missing value")
            parts = _pointer(path)
            if not parts:
                doc = copy.deepcopy(o["value"])
                continue
            c, last = _container(doc, parts, "replace", path)
            if isinstance(c, dict):
                if last not in c:
                    raise PatchError(f"replace operation does not apply: doc is missing key: {path}: missing value")
                c[last] = copy.deepcopy(o["value"])
            elif isinstance(c, list):
                c[_index(c, last, "replace", path, False)] = copy.deepcopy(o["value"])
            else:
                raise PatchError(f"replace operation does not apply: doc is missing key: {path}: missing value")
        elif op == "move":
            value = _remove(doc, o.get("from"), "move")
            doc = _add(doc, path, value, "move")
        elif op == "copy":
            value = copy.deepcopy(_get(doc, o.get("from"), "copy"))
            doc = _add(doc, path, value, "copy")
        elif op == "test":
            if _get(doc, path, "test") != o.get("value"):
                raise PatchError(f"testing value {path} failed: test failed")
        else:
            raise PatchError(f"Unexpected kind: {op}")
    return doc
