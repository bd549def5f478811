"""Matching rules shared by the plugins, as component-helpers defines them.

- tolerations vs taints (``Toleration.ToleratesTaint``)
- node selector terms (``nodeaffinity``): terms are ORed, requirements ANDed;
  ``In``/``NotIn``/``Exists``/``DoesNotExist``/``Gt``/``Lt`` on labels,
  ``In``/``NotIn`` on the ``metadata.name`` field; an empty term matches nothing
- label selectors (``metav1.LabelSelector``): ``matchLabels`` + ``matchExpressions``
- ``DefaultNormalizeScore``

>>> tolerates((("", "Exists", "", ""),), "anything", "x", "NoSchedule")
True
>>> tolerates((("dedicated", "Equal", "gpu", "NoSchedule"),), "dedicated", "gpu", "NoExecute")
False
>>> match_term({"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}, "n1", {"disk": "ssd"})
True
>>> scores = [0, 5, 10]; default_normalize_score(scores, reverse=True); scores
[100, 50, 0]
"""

from __future__ import annotations

from typing import Callable

MAX_NODE_SCORE = 100

__all__ = ["MAX_NODE_SCORE", "tolerates", "find_untolerated", "match_term", "match_terms",
           "node_selector_matches", "label_selector", "default_normalize_score"]


def tolerates(tolerations: tuple, key: str, value: str, effect: str) -> bool:
    """Whether any toleration ``(key, operator, value, effect)`` tolerates the taint."""
    for t_key, op, t_value, t_effect in tolerations:
        if t_effect and t_effect != effect:
            continue
        if t_key and t_key != key:
            continue
        if op == "Exists":
            return True
        if op == "Equal" and t_value == value:
            return True
    return False


def find_untolerated(taints: tuple, tolerations: tuple) -> tuple | None:
    """The first ``(key, value, effect)`` taint not tolerated, in the node's taint order."""
    for taint in taints:
        if not tolerations or not tolerates(tolerations, *taint):
            return taint
    return None


def _int(text) -> int | None:
    try:
        return int(str(text), 10)
    except ValueError:
        return None


def _requirement(req: dict, value: str | None) -> bool:
    op = req.get("operator")
    values = req.get("values") or ()
    if op == "In":
        return value is not None and value in values
    if op == "NotIn":
        return value is None or value not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt"):
        if value is None or len(values) != 1:
            return False
        have, want = _int(value), _int(values[0])
        if have is None or want is None:
            return False
        return have > want if op == "Gt" else have < want
    return False


def match_term(term: dict, node_name: str, labels: dict) -> bool:
    """One NodeSelectorTerm: every requirement holds; an empty term matches nothing."""
    exprs = term.get("matchExpressions") or ()
    fields = term.get("matchFields") or ()
    if not exprs and not fields:
        return False
    for req in exprs:
        if not _requirement(req, labels.get(req.get("key"))):
            return False
    for req in fields:
        if req.get("key") != "metadata.name" or req.get("operator") not in ("In", "NotIn"):
            return False
        if not _requirement(req, node_name):
            return False
    return True


def match_terms(terms, node_name: str, labels: dict) -> bool:
    """NodeSelectorTerms are ORed."""
    return any(match_term(t, node_name, labels) for t in terms)


def node_selector_matches(selector: dict, labels: dict) -> bool:
    """``spec.nodeSelector``: every label must be present with that value."""
    return all(labels.get(k) == v for k, v in selector.items())


def label_selector(selector: dict | None) -> Callable[[dict], bool]:
    """A predicate for a ``metav1.LabelSelector``; ``None`` selects nothing, ``{}`` everything.

    >>> sel = label_selector({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]})
    >>> sel({"app": "web"}), sel({"app": "web", "tier": "db"}), label_selector(None)({"app": "web"})
    (True, False, False)
    """
    if selector is None:
        return lambda labels: False
    match_labels = tuple((selector.get("matchLabels") or {}).items())
    exprs = tuple(selector.get("matchExpressions") or ())
    if not match_labels and not exprs:
        return lambda labels: True

    def matches(labels: dict) -> bool:
        for k, v in match_labels:
            if labels.get(k) != v:
                return False
        for e in exprs:
            if not _requirement(e, labels.get(e.get("key"))):
                return False
        return True

    return matches


def default_normalize_score(scores: list, reverse: bool = False, max_priority: int = MAX_NODE_SCORE) -> None:
    """Scale scores in place from ``[0, max(scores)]`` to ``[0, 100]`` (reversed if asked)."""
    top = max(scores, default=0)
    if top == 0:
        if reverse:
            scores[:] = [max_priority] * len(scores)
        return
    for i, s in enumerate(scores):
        s = max_priority * s // top
        scores[i] = max_priority - s if reverse else s
