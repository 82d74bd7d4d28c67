"""A slow, obviously correct twin of kpi_xl.rules.evaluation: one person at a time.

Walks a checked syntax tree with plain Python scalars and explicit
three-valued logic (True, False, None for unknown), written independently of
the vectorised compiler, so that agreement between the two means something.
"""

from __future__ import annotations

import math
from typing import Any

TOLERANCE = 1e-12


def _slack(b: float) -> float:
    return TOLERANCE * max(1.0, abs(b)) if math.isfinite(b) else 0.0


def evaluate(node: Any, person: dict[str, Any]) -> Any:
    """A number (NaN when unknown), a text, or True/False/None (unknown) for one person."""
    kind = node.kind
    if kind == "number":
        return float(node.value)
    if kind == "text":
        return str(node.value).strip().casefold()
    if kind == "bool":
        return bool(node.value)
    if kind == "name":
        return person[node.key]
    if kind == "call":
        if node.kpi >= 0:
            return person["kpi"].get((node.key, node.kpi), math.nan)
        values = [evaluate(c, person) for c in node.children]
        if any(math.isnan(v) for v in values):
            return math.nan
        return min(values) if node.key == "min" else max(values)
    if kind == "neg":
        return -evaluate(node.children[0], person)
    if kind == "arith":
        a, b = (evaluate(c, person) for c in node.children)
        if math.isnan(a) or math.isnan(b):
            return math.nan
        if node.op == "+":
            result = a + b
        elif node.op == "-":
            result = a - b
        elif node.op == "*":
            result = a * b
        elif b == 0:
            return math.nan
        else:
            result = a / b
        return result
    if kind == "compare":
        left, right = node.children
        a, b = evaluate(left, person), evaluate(right, person)
        if left.type == "number":
            return _compare(node.op, a, b)
        if left.type == "text":
            return (a == b) if node.op == "=" else (a != b)
        if a is None or b is None:
            return None
        return (a == b) if node.op == "=" else (a != b)
    if kind == "in":
        left, *items = node.children
        a = evaluate(left, person)
        found: bool | None = False
        for item in items:
            b = evaluate(item, person)
            equal = _compare("=", a, b) if left.type == "number" else a == b
            found = _or(found, equal)
        return _not(found) if node.op == "not in" else found
    if kind == "and":
        return _and(evaluate(node.children[0], person), evaluate(node.children[1], person))
    if kind == "or":
        return _or(evaluate(node.children[0], person), evaluate(node.children[1], person))
    if kind == "not":
        return _not(evaluate(node.children[0], person))
    raise AssertionError(kind)


def _compare(op: str, a: float, b: float) -> bool | None:
    if math.isnan(a) or math.isnan(b):
        return None
    s = _slack(b)
    if op == ">=":
        return a >= b - s
    if op == ">":
        return a > b + s
    if op == "<=":
        return a <= b + s
    if op == "<":
        return a < b - s
    equal = a == b or abs(a - b) <= s
    return equal if op == "=" else not equal


def _and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    if a is True and b is True:
        return True
    return None


def _or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    if a is False and b is False:
        return False
    return None


def _not(a: bool | None) -> bool | None:
    return None if a is None else not a
