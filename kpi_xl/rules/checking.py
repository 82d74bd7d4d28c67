"""Check a parsed expression against the workbook: names, functions, KPIs, types, stage.

Every name is resolved once, here, to its canonical key (``部门`` and
``Department`` become ``department``), every KPI id in ``attainment("REV")``
to the KPI's index, and every node gets its type: number, text or true/false.
The first thing wrong raises :class:`ExpressionError` with its position;
questionable but legal things (comparing department with a text nobody has)
are returned as warnings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from ..problems import did_you_mean
from .language import ExpressionError, Node, source
from .vocabulary import (
    ACTION_STAGE,
    BOOLEAN,
    FUNCTION_ALIASES,
    FUNCTIONS_BY_KEY,
    NAME_ALIASES,
    NAMES,
    NAMES_BY_KEY,
    NUMBER,
    STAGE_WHEN,
    TEXT,
)

KNOWN_FROM = {1: "after the tier lookup", 2: "once the payout before pool is computed"}

# Text names whose values the workbook knows: a literal nobody has draws a warning.
CHECKED_TEXT = ("department", "grade", "tier_table", "tier", "employee_id")
SUGGEST_AMONG = 2000  # "did you mean" looks among this many values at most


@dataclass
class Facts:
    """What the checker needs to know about the workbook."""

    kpi_index: dict[str, int] = field(default_factory=dict)
    # name -> the values the workbook has for it, gathered only when a rule compares it with a text
    text_sources: dict[str, Callable[[], Iterable[Any]]] = field(default_factory=dict)
    has_period_end: bool = True
    _known: dict[str, dict[str, str]] = field(default_factory=dict)

    def known(self, name: str) -> dict[str, str]:
        """{case-folded: as written} of the values of a text name ({} when unknown)."""
        if name not in self._known:
            source = self.text_sources.get(name)
            values = source() if source is not None else ()
            self._known[name] = {str(v).strip().casefold(): str(v) for v in values if v}
        return self._known[name]


@dataclass
class Warning_:
    position: int
    message: str


def a_type(kind: str) -> str:
    return {NUMBER: "a number", TEXT: "text", BOOLEAN: "true/false"}[kind]


class Checker:
    def __init__(self, text: str, facts: Facts, action: str):
        self.text = text
        self.facts = facts
        self.action = action
        self.stage = ACTION_STAGE[action]
        self.warnings: list[Warning_] = []

    def shown(self, node: Node) -> str:
        written = source(self.text, node)
        return written if node.kind == "text" else f"'{written}'"

    # -------------------------------------------------------------- nodes

    def check(self, node: Node) -> str:
        kind = getattr(self, f"_{node.kind.replace(' ', '_')}")(node)
        node.type = kind
        return kind

    def _number(self, node: Node) -> str:
        return NUMBER

    def _text(self, node: Node) -> str:
        return TEXT

    def _bool(self, node: Node) -> str:
        return BOOLEAN

    def _name(self, node: Node) -> str:
        written = str(node.value)
        key = NAME_ALIASES.get(written.casefold())
        if key is None:
            raise ExpressionError(node.start, self._unknown_name(written))
        name = NAMES_BY_KEY[key]
        if name.stage > self.stage:
            users = [a for a, s in ACTION_STAGE.items() if s >= name.stage]
            raise ExpressionError(
                node.start,
                f"'{written}' is not known yet when {self.action} acts ({STAGE_WHEN[self.stage]}): "
                f"{key} is known {KNOWN_FROM[name.stage]}, so it can be used in "
                f"{', '.join(users[:-1])} or {users[-1]} rules",
            )
        if key == "tenure_days" and not self.facts.has_period_end:
            raise ExpressionError(
                node.start,
                "tenure_days needs period_end on the Settings sheet: tenure is counted up to the end "
                "of the period",
            )
        node.key = key
        return name.type

    def _unknown_name(self, written: str) -> str:
        folded = written.casefold()
        if folded in FUNCTION_ALIASES:
            function = FUNCTIONS_BY_KEY[FUNCTION_ALIASES[folded]]
            example = f'{written}("REV")' if function.kpi else f"{written}(1, 2)"
            return f"{written} is a function: write {example}"
        kpis = {k.casefold(): k for k in self.facts.kpi_index}
        if folded in kpis:
            kpi = kpis[folded]
            return (
                f"unknown name '{written}' — for the KPI {kpi} write attainment(\"{kpi}\"), "
                f"score(\"{kpi}\") or actual(\"{kpi}\")"
            )
        for name in self.facts.text_sources:
            if folded in self.facts.known(name):
                return f"unknown name '{written}' — text needs quotes: \"{written}\""
        suggestion = did_you_mean(written, [n.key for n in NAMES])
        if suggestion:
            return f"unknown name '{written}'{suggestion}"
        return f"unknown name '{written}' (names: {', '.join(n.key for n in NAMES)})"

    def _call(self, node: Node) -> str:
        written = str(node.value)
        key = FUNCTION_ALIASES.get(written.casefold())
        if key is None:
            suggestion = did_you_mean(written, list(FUNCTIONS_BY_KEY))
            listed = "" if suggestion else f" (functions: {', '.join(FUNCTIONS_BY_KEY)})"
            raise ExpressionError(node.start, f"unknown function '{written}'{suggestion}{listed}")
        node.key = key
        function = FUNCTIONS_BY_KEY[key]
        if function.kpi:
            return self._kpi_call(node, written)
        if len(node.children) < 2:
            raise ExpressionError(node.start, f"{written} needs two or more numbers, e.g. {written}(1.2, multiplier)")
        for argument in node.children:
            self.expect(argument, NUMBER, f"{written}(…) takes numbers")
        return NUMBER

    def _kpi_call(self, node: Node, written: str) -> str:
        example = f'{written}("REV")'
        if len(node.children) != 1:
            raise ExpressionError(node.start, f"{written} takes one KPI id in quotes, e.g. {example}")
        argument = node.children[0]
        if argument.kind == "name":
            raise ExpressionError(
                argument.start, f"write the KPI id in quotes: {written}(\"{argument.value}\")"
            )
        if argument.kind != "text":
            raise ExpressionError(argument.start, f"{written} takes one KPI id in quotes, e.g. {example}")
        kpi_id = str(argument.value).strip()
        index = self.facts.kpi_index.get(kpi_id)
        if index is None:
            raise ExpressionError(
                argument.start,
                f"unknown KPI '{kpi_id}' (not on the KPIs sheet)" + did_you_mean(kpi_id, self.facts.kpi_index),
            )
        node.kpi = index
        argument.type = TEXT
        return NUMBER

    def _neg(self, node: Node) -> str:
        self.expect(node.children[0], NUMBER, "'-' needs a number")
        return NUMBER

    def _arith(self, node: Node) -> str:
        for side in node.children:
            self.expect(side, NUMBER, f"'{node.op}' needs numbers on both sides")
        return NUMBER

    def _compare(self, node: Node) -> str:
        left, right = node.children
        lt, rt = self.check(left), self.check(right)
        if node.op in ("=", "<>"):
            if lt != rt:
                raise ExpressionError(
                    right.start if left.kind in ("name", "call") else left.start,
                    f"cannot compare {self.shown(left)} ({a_type(lt)}) with {self.shown(right)} ({a_type(rt)})"
                    + self._boolean_hint(left, right, lt, rt),
                )
            self._known_text(left, right)
            return BOOLEAN
        for side, kind in ((left, lt), (right, rt)):
            if kind != NUMBER:
                raise ExpressionError(
                    side.start,
                    f"'{node.op}' compares numbers, but {self.shown(side)} is {a_type(kind)}"
                    + (": use = or <> for text" if kind == TEXT else ""),
                )
        return BOOLEAN

    def _boolean_hint(self, left: Node, right: Node, lt: str, rt: str) -> str:
        if BOOLEAN in (lt, rt) and TEXT in (lt, rt):
            name = left if lt == BOOLEAN else right
            return f": write {source(self.text, name)} = yes, or {source(self.text, name)} = no"
        return ""

    def _in(self, node: Node) -> str:
        left, *items = node.children
        lt = self.check(left)
        if lt == BOOLEAN:
            raise ExpressionError(left.start, f"'in' needs a number or text on its left, not {self.shown(left)}")
        for item in items:
            it = self.check(item)
            if it != lt:
                raise ExpressionError(
                    item.start,
                    f"'in' compares {self.shown(left)} ({a_type(lt)}) with {self.shown(item)} ({a_type(it)})",
                )
            self._known_text(left, item)
        return BOOLEAN

    def _and(self, node: Node) -> str:
        for side in node.children:
            self.expect(side, BOOLEAN, "'and' joins conditions")
        return BOOLEAN

    def _or(self, node: Node) -> str:
        for side in node.children:
            self.expect(side, BOOLEAN, "'or' joins conditions")
        return BOOLEAN

    def _not(self, node: Node) -> str:
        self.expect(node.children[0], BOOLEAN, "'not' needs a condition")
        return BOOLEAN

    # -------------------------------------------------------------- helpers

    def expect(self, node: Node, kind: str, what: str) -> None:
        got = self.check(node)
        if got != kind:
            raise ExpressionError(node.start, f"{what}, but {self.shown(node)} is {a_type(got)}")

    def _known_text(self, left: Node, right: Node) -> None:
        """Warn when a name is compared with a text nobody has (a typo such as 'Salse')."""
        for name, literal in ((left, right), (right, left)):
            if name.kind != "name" or literal.kind != "text" or name.key not in CHECKED_TEXT:
                continue
            values = self.facts.known(name.key)
            if not values:
                continue
            if str(literal.value).strip().casefold() in values:
                continue
            hint = did_you_mean(str(literal.value), sorted(values.values())) if len(values) <= SUGGEST_AMONG else ""
            self.warnings.append(
                Warning_(literal.start, f"no one has {name.key} '{literal.value}', so this comparison is never true{hint}")
            )


def check_expression(node: Node, text: str, facts: Facts, action: str, wanted: str) -> list[Warning_]:
    """Resolve and type node (in place); it must be of type wanted.  Returns warnings."""
    checker = Checker(text, facts, action)
    got = checker.check(node)
    if got != wanted:
        shown = f"'{source(text, node)}'"
        if wanted == BOOLEAN:
            raise ExpressionError(
                node.start,
                f"a condition must be true or false (a comparison such as total_score >= 100), "
                f"but {shown} is {a_type(got)}",
            )
        raise ExpressionError(
            node.start, f"the value of {action} must be a number or a calculation, but {shown} is {a_type(got)}"
        )
    return checker.warnings
