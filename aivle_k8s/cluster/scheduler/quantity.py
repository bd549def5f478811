"""Kubernetes resource quantities (``250m``, ``0.5``, ``64Mi``, ``1G``, ``1e3``), exactly.

The grammar is apimachinery's ``resource.Quantity``::

    <quantity> ::= <signedNumber><suffix>
    <suffix>   ::= <binarySI> | <decimalExponent> | <decimalSI>
    <binarySI> ::= Ki | Mi | Gi | Ti | Pi | Ei
    <decimalSI>::= n | u | m | "" | k | M | G | T | P | E
    <decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber>

Values are kept as exact fractions; the scheduler reads CPU in millicores
(``MilliValue``) and everything else as whole units (``Value``), both rounded
up like the real ones.

>>> cpu_millis("250m"), cpu_millis("0.5"), cpu_millis(2), cpu_millis("1e3")
(250, 500, 2000, 1000000)
>>> to_int("64Mi"), to_int("1G"), to_int("129M"), to_int("100m")
(67108864, 1000000000, 129000000, 1)
>>> format_cpu(2500), format_cpu(2000), format_bytes(67108864), format_bytes(129000000)
('2500m', '2', '64Mi', '129M')
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from ...sim.errors import InvalidInput

__all__ = ["parse_quantity", "cpu_millis", "to_int", "format_cpu", "format_bytes", "format_quantity"]

# The exact words of apimachinery's ErrFormatWrong / ErrSuffix.
_SPLIT_RE = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ERR_FORMAT_WRONG = f"quantities must match the regular expression '{_SPLIT_RE}'"
ERR_SUFFIX = "unable to parse quantity's suffix"

_NUMBER = re.compile(r"^([+-]?)(\d+\.?\d*|\.\d+)(.*)$")
_EXPONENT = re.compile(r"^[eE]([+-]?\d+)$")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": Fraction(1),
    "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
    "P": Fraction(10**15), "E": Fraction(10**18),
}

_memo: dict = {}
_millis: dict = {}
_units: dict = {}


def parse_quantity(text: str | int | float) -> Fraction:
    """The exact value of a quantity (``"1.5Gi"`` -> ``Fraction(1610612736)``).

    JSON numbers (``2``, ``0.5``) are accepted as the API server accepts them.

    Raises:
        InvalidInput: with apimachinery's words when ``text`` is not a quantity.

    >>> parse_quantity("1.5Gi"), parse_quantity("-2k"), parse_quantity(".5")
    (Fraction(1610612736, 1), Fraction(-2000, 1), Fraction(1, 2))
    >>> parse_quantity("12 Mi")
    Traceback (most recent call last):
    ...
    aivle_k8s.sim.errors.InvalidInput: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'
    """
    if isinstance(text, bool):
        raise InvalidInput(ERR_FORMAT_WRONG)
    if isinstance(text, int):
        return Fraction(text)
    if isinstance(text, float):
        return Fraction(repr(text))
    hit = _memo.get(text)
    if hit is not None:
        return hit
    m = _NUMBER.match(text.strip()) if isinstance(text, str) else None
    if m is None or text != text.strip():
        raise InvalidInput(ERR_FORMAT_WRONG)
    sign, number, suffix = m.groups()
    value = Fraction(number)
    if suffix in _BINARY:
        value *= _BINARY[suffix]
    elif suffix in _DECIMAL:
        value *= _DECIMAL[suffix]
    else:
        exp = _EXPONENT.match(suffix)
        if exp is None:
            if not re.fullmatch(r"[eEinumkKMGTP]*[-+]?[0-9]*", suffix):
                raise InvalidInput(ERR_FORMAT_WRONG)
            raise InvalidInput(ERR_SUFFIX)
        value *= Fraction(10) ** int(exp.group(1))
    if sign == "-":
        value = -value
    if len(_memo) < 4096:
        _memo[text] = value
    return value


def cpu_millis(text: str | int | float) -> int:
    """CPU in millicores, rounded up like ``Quantity.MilliValue()``.

    >>> cpu_millis("100m"), cpu_millis("1"), cpu_millis("0.0001")
    (100, 1000, 1)
    """
    hit = _millis.get(text) if isinstance(text, str) else None
    if hit is None:
        hit = math.ceil(parse_quantity(text) * 1000)
        if isinstance(text, str) and len(_millis) < 4096:
            _millis[text] = hit
    return hit


def to_int(text: str | int | float) -> int:
    """Whole units (bytes, pods, GPUs), rounded up like ``Quantity.Value()``.

    >>> to_int("1Ki"), to_int("110"), to_int("0.5")
    (1024, 110, 1)
    """
    hit = _units.get(text) if isinstance(text, str) else None
    if hit is None:
        hit = math.ceil(parse_quantity(text))
        if isinstance(text, str) and len(_units) < 4096:
            _units[text] = hit
    return hit


def format_cpu(millis: int) -> str:
    """Millicores back to the canonical form: ``2000 -> "2"``, ``250 -> "250m"``."""
    if millis % 1000 == 0:
        return str(millis // 1000)
    return f"{millis}m"


def format_bytes(value: int) -> str:
    """Bytes back to a quantity: the largest exact binary suffix, else decimal SI, else plain.

    >>> format_bytes(4 * 2**30), format_bytes(1000), format_bytes(1500), format_bytes(0)
    ('4Gi', '1k', '1500', '0')
    """
    if value == 0:
        return "0"
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = _BINARY[suffix]
        if value % unit == 0:
            return f"{value // unit}{suffix}"
    for suffix in ("E", "P", "T", "G", "M", "k"):
        unit = int(_DECIMAL[suffix])
        if value % unit == 0:
            return f"{value // unit}{suffix}"
    return str(value)


def format_quantity(value: Fraction | int, resource: str = "memory") -> str:
    """Format a value of ``resource`` (``cpu`` in cores, anything else in units).

    >>> format_quantity(Fraction(1, 4), "cpu"), format_quantity(2**20)
    ('250m', '1Mi')
    """
    if resource == "cpu":
        return format_cpu(math.ceil(Fraction(value) * 1000))
    return format_bytes(math.ceil(Fraction(value)))
