"""Server-side printing: ``meta.k8s.io/v1`` ``Table`` responses for ``kubectl get``.

kubectl asks for ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io`` and prints
whatever columns the server sends (uppercased), the ``priority: 1`` ones only with
``-o wide``, and takes NAMESPACE and ``--show-labels`` from each row's object
metadata. The columns and cells are the ones our own kubectl front prints
(:mod:`aivle_k8s.cluster.kubectl.printers`), so both kubectls show the same table.

>>> import datetime as dt
>>> from aivle_k8s.cluster.apiserver import resolve
>>> now = dt.datetime(2025, 3, 3, 9, 1, tzinfo=dt.timezone.utc)
>>> node = {"metadata": {"name": "w1", "creationTimestamp": "2025-03-03T09:00:00Z"},
...         "status": {"conditions": [{"type": "Ready", "status": "True"}], "nodeInfo": {"kubeletVersion": "v1.30.2"}}}
>>> t = to_table(resolve("nodes"), [node], now)
>>> [(c["name"], c["priority"]) for c in t["columnDefinitions"]][:5]
[('Name', 0), ('Status', 0), ('Roles', 0), ('Age', 0), ('Version', 0)]
>>> t["rows"][0]["cells"][:5]
['w1', 'Ready', '<none>', '60s', 'v1.30.2']
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Iterable

from ..cluster.kubectl import printers as P

__all__ = ["to_table", "column_name"]

_SPECIAL = {"UP-TO-DATE": "Up-to-date", "CLUSTER-IP": "Cluster-IP", "EXTERNAL-IP": "External-IP",
            "INTERNAL-IP": "Internal-IP", "PORT(S)": "Port(s)", "OS-IMAGE": "OS-Image",
            "PREEMPTIONPOLICY": "PreemptionPolicy", "SIGNERNAME": "SignerName",
            "REQUESTEDDURATION": "RequestedDuration", "GLOBAL-DEFAULT": "Global-Default",
            "SERVICEACCOUNTS": "ServiceAccounts"}

_DESCRIPTIONS = {
    "Name": "Name must be unique within a namespace. Is required when creating resources, although some resources "
            "may allow a client to request the generation of an appropriate name automatically. Name is primarily "
            "intended for creation idempotence and configuration definition. Cannot be updated. More info: "
            "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
    "Age": "CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
           "guaranteed to be set in happens-before order across separate operations. Clients may not set this "
           "value. It is represented in RFC3339 form and is in UTC.",
}


def column_name(header: str) -> str:
    """The server's column name for one of kubectl's headers (kubectl uppercases it back).

    >>> column_name("NOMINATED NODE"), column_name("CLUSTER-IP"), column_name("KERNEL-VERSION")
    ('Nominated Node', 'Cluster-IP', 'Kernel-Version')
    """
    if header in _SPECIAL:
        return _SPECIAL[header]
    return "-".join(" ".join(w.capitalize() for w in part.split(" ")) for part in header.split("-"))


def _type_of(values: Iterable[Any]) -> str:
    for v in values:
        if isinstance(v, bool):
            return "boolean"
        if isinstance(v, int):
            return "integer"
        if isinstance(v, float):
            return "number"
        return "string"
    return "string"


def _row_object(obj: dict, include: str, api_version: str, kind: str) -> dict | None:
    if include == "None":
        return None
    if include == "Object":
        full = dict(obj)
        full.setdefault("apiVersion", api_version)
        full.setdefault("kind", kind)
        return full
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}


def to_table(info: Any, objs: list[dict], now: _dt.datetime, *, include_object: str = "Metadata",
             list_meta: dict | None = None, columns: bool = True, table_version: str = "v1") -> dict:
    """A ``Table`` of ``objs`` (all of resource ``info``) as kube-apiserver's table convertor makes it.

    Args:
        include_object: ``Metadata`` (default: a ``PartialObjectMetadata`` per row),
            ``Object`` (the whole object) or ``None``.
        list_meta: the list's ``metadata`` (resourceVersion, continue).
        columns: include ``columnDefinitions`` (watch events after the first leave them out).
    """
    table = P.table_for(info.kind)
    wide = table.columns(True)
    narrow = set(table.columns(False))
    named = bool(wide) and wide[0] == "NAME"
    rows = []
    for obj in objs:
        cells = list(table.cells(obj, now, True))
        if named:
            cells = [(obj.get("metadata") or {}).get("name", "")] + cells
        row: dict[str, Any] = {"cells": cells}
        ro = _row_object(obj, include_object, info.api_version, info.kind)
        if ro is not None:
            row["object"] = ro
        rows.append(row)
    out: dict[str, Any] = {"kind": "Table", "apiVersion": f"meta.k8s.io/{table_version}",
                           "metadata": dict(list_meta or {})}
    if columns:
        defs = []
        for i, header in enumerate(wide):
            name = column_name(header)
            col: dict[str, Any] = {"name": name, "type": _type_of(r["cells"][i] for r in rows if i < len(r["cells"])),
                                   "format": "name" if (named and i == 0) else "",
                                   "description": _DESCRIPTIONS.get(name, name),
                                   "priority": 0 if header in narrow else 1}
            defs.append(col)
        out["columnDefinitions"] = defs
    out["rows"] = rows
    return out
