"""Label and field selectors, as ``kubectl get -l ... --field-selector ...`` sends them.

Label selectors use the full grammar of apimachinery's ``labels.Parse``
(``app=web``, ``tier!=db``, ``env in (prod,staging)``, ``env notin (dev)``,
``gpu``, ``!gpu``) or a ``metav1.LabelSelector`` dict (``matchLabels`` /
``matchExpressions``). Field selectors support the fields each resource's
REST storage supports (``spec.nodeName`` for pods, ``spec.unschedulable`` for
nodes, ``involvedObject.name`` for events ...).

>>> sel = parse_label_selector("app=web,env in (prod, staging),!canary")
>>> sel.matches({"app": "web", "env": "prod"}), sel.matches({"app": "web", "env": "dev"})
(True, False)
>>> str(sel)
'app=web,!canary,env in (prod,staging)'
>>> str(label_selector_from_dict({"matchLabels": {"app": "web"}}))
'app=web'
>>> parse_field_selector("spec.nodeName=worker-1", "pods").matches({"spec.nodeName": "worker-1"})
True
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable

from .errors import BadRequestError, FieldError

__all__ = ["LabelSelector", "Requirement", "parse_label_selector", "label_selector_from_dict", "as_label_selector",
           "FieldSelector", "parse_field_selector", "field_getter", "field_matcher", "SUPPORTED_FIELDS",
           "validate_label_key",
           "validate_label_value", "EVERYTHING"]

_QNAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

QNAME_MSG = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
             "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation "
             "is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                   "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                   "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


def validate_label_key(key: Any) -> list[str]:
    """apimachinery's ``IsQualifiedName``: the problems with a label (or annotation) key."""
    if not isinstance(key, str):
        return [QNAME_MSG]
    errs = []
    prefix, slash, name = key.rpartition("/")
    if not slash:
        prefix, name = "", key
    elif not prefix:
        errs.append("prefix part must be non-empty")
    elif len(prefix) > 253:
        errs.append("prefix part must be no more than 253 characters")
    elif not _DNS1123_SUBDOMAIN.match(prefix):
        errs.append("prefix part " + SUBDOMAIN_MSG)
    if slash and "/" in prefix:
        return [f"a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and "
                f"end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                f"validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix "
                f"and '/' (e.g. 'example.com/MyName')"]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    if name and not _QNAME.match(name):
        errs.append(QNAME_MSG)
    return errs


def validate_label_value(value: Any) -> list[str]:
    """apimachinery's ``IsValidLabelValue``."""
    if not isinstance(value, str):
        return [LABEL_VALUE_MSG]
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _LABEL_VALUE.match(value):
        errs.append(LABEL_VALUE_MSG)
    return errs


# =====================================================================================
# Label selectors
# =====================================================================================

class Requirement:
    """One ``key op values`` term; ``op`` is ``=``, ``!=``, ``in``, ``notin``, ``exists``, ``!``, ``gt``, ``lt``."""

    __slots__ = ("key", "op", "values")

    def __init__(self, key: str, op: str, values: Iterable[str] = ()):
        self.key, self.op, self.values = key, op, tuple(values)

    def matches(self, labels: dict) -> bool:
        op = self.op
        if op == "=":
            return labels.get(self.key) == self.values[0]
        if op == "!=":
            return labels.get(self.key) != self.values[0]
        if op == "in":
            return self.key in labels and labels[self.key] in self.values
        if op == "notin":
            return labels.get(self.key) not in self.values
        if op == "exists":
            return self.key in labels
        if op == "!":
            return self.key not in labels
        value = labels.get(self.key)
        try:
            v, bound = int(value), int(self.values[0])
        except (TypeError, ValueError):
            return False
        return v > bound if op == "gt" else v < bound

    def __str__(self) -> str:
        op = self.op
        if op in ("=", "!="):
            return f"{self.key}{op}{self.values[0]}"
        if op in ("in", "notin"):
            return f"{self.key} {op} ({','.join(sorted(self.values))})"
        if op == "exists":
            return self.key
        if op == "!":
            return f"!{self.key}"
        return f"{self.key}{'>' if op == 'gt' else '<'}{self.values[0]}"

    def __repr__(self) -> str:
        return f"Requirement({str(self)!r})"


class LabelSelector:
    """A parsed label selector: every requirement must match (an empty one matches everything)."""

    __slots__ = ("requirements", "_nothing", "_equals")

    def __init__(self, requirements: Iterable[Requirement] = (), nothing: bool = False):
        self.requirements = tuple(sorted(requirements, key=lambda r: r.key))
        self._nothing = nothing
        eq = {}
        for r in self.requirements:
            if r.op == "=" and r.key not in eq:
                eq[r.key] = r.values[0]
        self._equals = eq if len(eq) == len(self.requirements) else None

    @property
    def empty(self) -> bool:
        return not self.requirements and not self._nothing

    def matches(self, labels: dict | None) -> bool:
        if self._nothing:
            return False
        labels = labels or {}
        eq = self._equals
        if eq is not None:
            for k, v in eq.items():
                if labels.get(k) != v:
                    return False
            return True
        for r in self.requirements:
            if not r.matches(labels):
                return False
        return True

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)

    def __repr__(self) -> str:
        return f"<LabelSelector {str(self) or '(everything)'}>"


EVERYTHING = LabelSelector()

_TOKEN = re.compile(r"\s*(?:(!=|==|=|!|\(|\)|,|<|>)|([A-Za-z0-9_./-]+))")


def _bad(text: str, why: str) -> BadRequestError:
    return BadRequestError(f"unable to parse requirement: {why}", selector=text)


def _check_key(text: str, key: str) -> None:
    errs = validate_label_key(key)
    if errs:
        raise _bad(text, f"{FieldError.invalid('key', key, '; '.join(errs))}")


def _check_value(text: str, key: str, value: str, i: int = 0) -> None:
    errs = validate_label_value(value)
    if errs:
        raise _bad(text, f"{FieldError.invalid(f'values[{i}][{key}]', value, '; '.join(errs))}")


def parse_label_selector(text: str | dict | None) -> LabelSelector:
    """Parse ``kubectl -l``'s selector string (or accept a ``{"app": "web"}`` dict of equalities).

    Raises:
        BadRequestError: ``unable to parse requirement: ...``.
    """
    if text is None:
        return EVERYTHING
    if isinstance(text, LabelSelector):
        return text
    if isinstance(text, dict):
        if "matchLabels" in text or "matchExpressions" in text:
            return label_selector_from_dict(text)
        reqs = []
        for k, v in text.items():
            _check_key(str(text), k)
            _check_value(str(text), k, str(v))
            reqs.append(Requirement(k, "=", [str(v)]))
        return LabelSelector(reqs)
    text = str(text)
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise _bad(text, f"found '{text[pos:].strip()[0]}', expected: identifier")
        if m.group(1):
            tokens.append(("op", m.group(1)))
        else:
            word = m.group(2)
            tokens.append(("kw" if word in ("in", "notin") else "id", word))
        pos = m.end()
    reqs: list[Requirement] = []
    i = 0

    def peek(k: int = 0):
        return tokens[i + k] if i + k < len(tokens) else ("end", "")

    while i < len(tokens):
        kind, val = peek()
        if kind == "op" and val == "!":
            i += 1
            kind, key = peek()
            if kind != "id":
                raise _bad(text, f"found '{key}', expected: identifier")
            _check_key(text, key)
            reqs.append(Requirement(key, "!"))
            i += 1
        elif kind == "id":
            key = val
            _check_key(text, key)
            i += 1
            kind, op = peek()
            if kind == "end" or (kind == "op" and op == ","):
                reqs.append(Requirement(key, "exists"))
            elif kind == "op" and op in ("=", "==", "!="):
                i += 1
                kind, value = peek()
                if kind == "end" or (kind == "op" and value == ","):
                    value = ""
                elif kind in ("id", "kw"):
                    i += 1
                else:
                    raise _bad(text, f"found '{value}', expected: identifier")
                _check_value(text, key, value)
                reqs.append(Requirement(key, "!=" if op == "!=" else "=", [value]))
            elif kind == "op" and op in ("<", ">"):
                i += 1
                kind, value = peek()
                if kind != "id" or not value.lstrip("-").isdigit():
                    raise _bad(text, f"for 'Gt', 'Lt' operators, the value must be an integer")
                i += 1
                reqs.append(Requirement(key, "gt" if op == ">" else "lt", [value]))
            elif kind == "kw":
                i += 1
                if peek() != ("op", "("):
                    raise _bad(text, f"found '{peek()[1]}', expected: '('")
                i += 1
                values: list[str] = []
                while True:
                    kind, value = peek()
                    if kind in ("id", "kw"):
                        _check_value(text, key, value, len(values))
                        values.append(value)
                        i += 1
                        kind, value = peek()
                    if kind == "op" and value == ",":
                        i += 1
                        continue
                    if kind == "op" and value == ")":
                        i += 1
                        break
                    raise _bad(text, f"found '{value}', expected: ',', or ')'")
                if op == "in" and not values:
                    raise _bad(text, "for 'in', 'notin' operators, values set can't be empty")
                reqs.append(Requirement(key, op, values))
            else:
                raise _bad(text, f"found '{op}', expected: in, notin, =, ==, !=, gt, lt")
        else:
            raise _bad(text, f"found '{val}', expected: !, identifier, or 'end of string'")
        kind, val = peek()
        if kind == "end":
            break
        if kind == "op" and val == ",":
            i += 1
            if peek()[0] == "end":
                raise _bad(text, "found '', expected: !, identifier, or 'end of string'")
            continue
        raise _bad(text, f"found '{val}', expected: ',' or 'end of string'")
    return LabelSelector(reqs)


def label_selector_from_dict(sel: dict | None) -> LabelSelector:
    """A ``metav1.LabelSelector`` as a :class:`LabelSelector` (``None`` selects nothing, ``{}`` everything)."""
    if sel is None:
        return LabelSelector(nothing=True)
    reqs = []
    for k, v in (sel.get("matchLabels") or {}).items():
        reqs.append(Requirement(k, "=", [v]))
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for e in sel.get("matchExpressions") or []:
        op = ops.get(e.get("operator"))
        if op is None:
            raise BadRequestError(f'"{e.get("operator")}" is not a valid label selector operator')
        reqs.append(Requirement(e.get("key", ""), op, e.get("values") or ()))
    return LabelSelector(reqs)


def as_label_selector(sel: Any) -> LabelSelector:
    """Accept a selector string, a LabelSelector dict, an equality dict or a :class:`LabelSelector`."""
    return parse_label_selector(sel)


# =====================================================================================
# Field selectors
# =====================================================================================

def _get(obj: dict, path: tuple[str, ...]) -> Any:
    cur: Any = obj
    for p in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(p)
    return cur


def _str(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


_COMMON = ("metadata.name", "metadata.namespace")
#: The field selectors each resource's storage supports (``GetAttrs`` / field label conversion).
SUPPORTED_FIELDS: dict[str, tuple[str, ...]] = {
    "pods": _COMMON + ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                       "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"),
    "nodes": _COMMON + ("spec.unschedulable",),
    "events": _COMMON + ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                         "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
                         "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"),
    "secrets": _COMMON + ("type",),
    "namespaces": _COMMON + ("status.phase",),
    "replicasets": _COMMON + ("status.replicas",),
    "jobs": _COMMON + ("status.successful",),
    "certificatesigningrequests": _COMMON + ("spec.signerName",),
    "services": _COMMON + ("spec.clusterIP", "spec.type"),
}

_GETTERS: dict[str, Callable[[dict], dict]] = {}


def _field_path(plural: str, field: str) -> tuple[str, ...]:
    if field == "source" and plural == "events":
        return ("source", "component")
    return tuple(field.split("."))


def field_getter(plural: str) -> Callable[[dict], dict]:
    """A function giving an object's selectable fields as ``{"spec.nodeName": "w1", ...}``."""
    g = _GETTERS.get(plural)
    if g is not None:
        return g
    paths = [(f, _field_path(plural, f)) for f in SUPPORTED_FIELDS.get(plural, _COMMON)]

    def getter(obj: dict) -> dict:
        return {f: _str(_get(obj, p)) for f, p in paths}

    _GETTERS[plural] = getter
    return getter


def field_matcher(sel: "FieldSelector", plural: str) -> Callable[[dict], bool] | None:
    """A predicate on objects for a field selector (None when it selects everything)."""
    if sel.empty:
        return None
    terms = [(_field_path(plural, f), op == "=", v) for f, op, v in sel.terms]

    def match(obj: dict) -> bool:
        for path, eq, v in terms:
            if (_str(_get(obj, path)) == v) != eq:
                return False
        return True

    return match


class FieldSelector:
    """``field=value`` / ``field!=value`` terms, ANDed."""

    __slots__ = ("terms",)

    def __init__(self, terms: Iterable[tuple[str, str, str]] = ()):
        self.terms = tuple(terms)

    @property
    def empty(self) -> bool:
        return not self.terms

    def matches(self, fields: dict) -> bool:
        for f, op, v in self.terms:
            actual = fields.get(f, "")
            if (actual == v) != (op == "="):
                return False
        return True

    def equals(self, field: str) -> str | None:
        """The value this selector requires ``field`` to equal, if it does."""
        for f, op, v in self.terms:
            if f == field and op == "=":
                return v
        return None

    def __str__(self) -> str:
        return ",".join(f"{f}{op}{v}" for f, op, v in self.terms)

    def __repr__(self) -> str:
        return f"<FieldSelector {str(self) or '(everything)'}>"


def parse_field_selector(text: str | dict | None, plural: str) -> FieldSelector:
    """Parse ``--field-selector`` text for resource ``plural``.

    Raises:
        BadRequestError: ``field label not supported: spec.foo`` or a malformed term.
    """
    if text is None or text == "":
        return FieldSelector()
    if isinstance(text, FieldSelector):
        return text
    items: list[tuple[str, str, str]] = []
    if isinstance(text, dict):
        raw = [(k, "=", _str(v)) for k, v in text.items()]
    else:
        raw = []
        for part in str(text).split(","):
            part = part.strip()
            if not part:
                continue
            for op in ("!=", "==", "="):
                if op in part:
                    f, _, v = part.partition(op)
                    raw.append((f.strip(), "!=" if op == "!=" else "=", v.strip()))
                    break
            else:
                raise BadRequestError(f"invalid selector: '{text}'; can't understand '{part}'")
    supported = SUPPORTED_FIELDS.get(plural, _COMMON)
    for f, op, v in raw:
        if f not in supported:
            raise BadRequestError(f"field label not supported: {f}")
        items.append((f, op, v))
    return FieldSelector(items)
