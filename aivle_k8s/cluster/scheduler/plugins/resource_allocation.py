"""Resource scoring formulas shared by NodeResourcesFit and NodeResourcesBalancedAllocation.

``requested`` already includes the incoming pod. Integer division as in Go.

>>> least_requested_score(1000, 4000), most_requested_score(1000, 4000), least_requested_score(5, 4)
(75, 25, 0)
>>> balanced_resource_score([0.5, 0.25])
87
"""

from __future__ import annotations

import math

from .helpers import MAX_NODE_SCORE

__all__ = ["least_requested_score", "most_requested_score", "balanced_resource_score", "weighted"]


def least_requested_score(requested: int, capacity: int) -> int:
    """``(capacity - requested) * 100 / capacity``: the more left free, the better."""
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


def most_requested_score(requested: int, capacity: int) -> int:
    """``requested * 100 / capacity`` (capped): the fuller, the better (bin packing)."""
    if capacity == 0:
        return 0
    if requested > capacity:
        requested = capacity
    return requested * MAX_NODE_SCORE // capacity


def weighted(scorer, pairs) -> int:
    """Weighted mean of ``scorer(requested, allocatable)`` over ``(requested, allocatable, weight)``;
    resources the node does not have (allocatable 0) are left out."""
    total = weight_sum = 0
    for requested, allocatable, weight in pairs:
        if allocatable == 0:
            continue
        total += scorer(requested, allocatable) * weight
        weight_sum += weight
    return total // weight_sum if weight_sum else 0


def balanced_resource_score(fractions: list[float]) -> int:
    """``(1 - std(fractions)) * 100``; with two resources std is ``|f1 - f2| / 2``."""
    std = 0.0
    if len(fractions) == 2:
        std = math.fabs((fractions[0] - fractions[1]) / 2)
    elif len(fractions) > 2:
        mean = sum(fractions) / len(fractions)
        std = math.sqrt(sum((f - mean) * (f - mean) for f in fractions) / len(fractions))
    return int((1 - std) * float(MAX_NODE_SCORE))
