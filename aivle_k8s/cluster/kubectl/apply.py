"""``kubectl apply``: manifests from files, directories, URLs or stdin, and the client-side three-way merge.

Client-side apply keeps the configuration it applied in the
``kubectl.kubernetes.io/last-applied-configuration`` annotation (compact JSON,
keys sorted, ending in a newline). On the next apply it computes a strategic
merge patch from three versions: the last applied configuration (original),
the new file (modified) and the live object (current): what the file sets is
set, and what the old file set but the new one no longer does is removed —
fields other writers set (``status``, defaults, a ``kubectl scale``) stay.

>>> orig = {"metadata": {"labels": {"a": "1", "b": "2"}}}
>>> mod = {"metadata": {"labels": {"a": "1"}}}
>>> three_way_patch(orig, mod, "Deployment", None)
{'metadata': {'labels': {'b': None, 'a': '1'}}}
"""

from __future__ import annotations

import copy
import json
import posixpath
from typing import Any, Callable

import yaml

from ...sim.errors import InvalidInput

__all__ = ["LAST_APPLIED", "last_applied_json", "three_way_patch", "load_manifests", "Manifest", "ManifestError"]

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


class ManifestError(InvalidInput):
    """A manifest kubectl cannot read or validate (``error: error validating "x.yaml": ...``)."""


class Manifest:
    """One object from a ``-f`` source, with where it came from (for error messages)."""

    def __init__(self, obj: dict, source: str):
        self.obj = obj
        self.source = source

    def __repr__(self) -> str:
        m = self.obj.get("metadata") or {}
        return f"<Manifest {self.obj.get('kind')} {m.get('name')} from {self.source}>"


def last_applied_json(obj: dict) -> str:
    """The annotation's value: the object without the annotation, compact JSON with sorted keys, newline."""
    clean = copy.deepcopy(obj)
    ann = (clean.get("metadata") or {}).get("annotations")
    if isinstance(ann, dict):
        ann.pop(LAST_APPLIED, None)
        if not ann:
            del clean["metadata"]["annotations"]
    return json.dumps(clean, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def _merge_key(kind: str, schemas: Any, path: tuple) -> str | None:
    if schemas is None:
        return None
    meta = schemas.patch_meta(kind, path)
    if meta and meta[0] and "merge" in meta[0] and meta[1]:
        return meta[1]
    return None


def three_way_patch(original: Any, modified: Any, kind: str, schemas: Any, path: tuple = ()) -> dict:
    """The strategic merge patch that takes the live object to ``modified``, deleting
    what ``original`` (the last applied configuration) had and ``modified`` dropped.

    Fields ``modified`` sets are sent whole (merged by the server's strategic rules);
    maps get ``null`` for deleted keys; lists merged by key get ``$patch: delete``
    entries for the elements that went away.
    """
    original = original if isinstance(original, dict) else {}
    patch: dict = {}
    for k, v in original.items():
        if k not in modified:
            patch[k] = None
    for k, v in modified.items():
        ov = original.get(k)
        if isinstance(v, dict) and isinstance(ov, dict):
            patch[k] = three_way_patch(ov, v, kind, schemas, path + (k,))
        elif isinstance(v, list):
            key = _merge_key(kind, schemas, path + (k,))
            if key and isinstance(ov, list):
                new_keys = {e.get(key) for e in v if isinstance(e, dict)}
                items = []
                for e in v:
                    if isinstance(e, dict):
                        old = next((o for o in ov if isinstance(o, dict) and o.get(key) == e.get(key)), None)
                        items.append(three_way_patch(old, e, kind, schemas, path + (k,)) | {key: e.get(key)}
                                     if old is not None else copy.deepcopy(e))
                    else:
                        items.append(e)
                for o in ov:
                    if isinstance(o, dict) and o.get(key) not in new_keys:
                        items.append({key: o.get(key), "$patch": "delete"})
                patch[k] = items
                patch[f"$setElementOrder/{k}"] = [{key: e.get(key)} for e in v if isinstance(e, dict)]
            else:
                patch[k] = copy.deepcopy(v)
        else:
            patch[k] = copy.deepcopy(v)
    return patch


# ---------------------------------------------------------------------------
# reading manifests
# ---------------------------------------------------------------------------
def _docs(text: str, source: str) -> list[dict]:
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ManifestError(f"error: error parsing {source}: error converting YAML to JSON: yaml: {line}{problem}") \
            from None
    out: list[dict] = []
    for d in docs:
        if d is None:
            continue
        if not isinstance(d, dict):
            raise ManifestError(f"error: error parsing {source}: error converting YAML to JSON: yaml: "
                                f"cannot unmarshal {type(d).__name__} into an object")
        if d.get("kind") == "List" and isinstance(d.get("items"), list):
            out.extend(i for i in d["items"] if isinstance(i, dict))
        else:
            out.append(d)
    return out


def _check(doc: dict, source: str) -> None:
    missing = []
    if not doc.get("apiVersion"):
        missing.append("apiVersion not set")
    if not doc.get("kind"):
        missing.append("kind not set")
    if missing:
        what = missing[0] if len(missing) == 1 else "[" + ", ".join(missing) + "]"
        raise ManifestError(f'error: error validating "{source}": error validating data: {what}; if you choose to '
                            f"ignore these errors, turn validation off with --validate=false")


def load_manifests(sources: list[str], *, read: Callable[[str], str | None], is_dir: Callable[[str], bool],
                   list_dir: Callable[[str], list[str]], stdin: bytes, fetch: Callable[[str], str] | None = None,
                   recursive: bool = False, validate: bool = True) -> list[Manifest]:
    """Every object of ``-f`` sources: files, directories (``.yaml``/``.yml``/``.json``), URLs, ``-`` (stdin).

    Raises:
        ManifestError: with kubectl's message (``error: the path "x.yaml" does not exist``).
    """
    out: list[Manifest] = []
    for src in sources:
        if src == "-":
            texts = [(stdin.decode("utf-8", "replace"), "STDIN")]
        elif src.startswith(("http://", "https://")):
            if fetch is None:
                raise ManifestError(f'error: unable to read URL "{src}"')
            texts = [(fetch(src), src)]
        elif is_dir(src):
            texts = []
            stack = [src]
            while stack:
                d = stack.pop(0)
                for name in sorted(list_dir(d)):
                    p = posixpath.join(d, name)
                    if is_dir(p):
                        if recursive:
                            stack.append(p)
                        continue
                    if name.endswith((".yaml", ".yml", ".json")):
                        texts.append((read(p) or "", p))
        else:
            text = read(src)
            if text is None:
                raise ManifestError(f'error: the path "{src}" does not exist')
            texts = [(text, src)]
        for text, name in texts:
            for d in _docs(text, name):
                if validate:
                    _check(d, name)
                out.append(Manifest(d, name))
    if not out:
        raise ManifestError("error: no objects passed to " + "apply")
    return out
