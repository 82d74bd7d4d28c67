"""Read the Rules sheet: one rule a row, every problem with its cell (and column in the text).

Called by :func:`kpi_xl.validation.validate` after the KPIs, Employees and
Tiers sheets are read, so that KPI ids, departments and tier labels can be
checked.  Returns the rules in sheet order, each with its condition and value
parsed and type-checked, ready for :mod:`kpi_xl.rules.evaluation`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import schema
from ..problems import did_you_mean
from ..values import Invalid, check_not_broken, describe, parse_id
from .checking import Facts, check_expression
from .language import ExpressionError, Node, parse
from .vocabulary import (
    ACTION_STAGE,
    BOOLEAN,
    NAME_ALIASES,
    NOT_NEGATIVE,
    NUMBER,
    NUMBER_VALUED,
    VALUE_MEANING,
)

if TYPE_CHECKING:
    from ..validation import Employees, KpiLibrary, Settings, SheetReader, TierRow

LARGE_MULTIPLIER = 10.0  # a set/scale value above this is probably a percent typed as a number


@dataclass
class Rule:
    """One checked rule of the Rules sheet."""

    rule_id: str
    row: int  # Excel row
    action: str
    stage: int
    condition: Node | None  # None: applies to everyone
    condition_text: str
    value: Node | None  # a number expression (None for force_tier and ineligible)
    value_text: str
    label: str | None  # force_tier: the tier label as the Tiers sheet spells it
    note: str
    value_cell: str  # A1 of the value cell, for problems found while scoring


def _text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return describe(value) if value.is_integer() else repr(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _expression_text(raw: str) -> str:
    """A leading '=' (typed as in an Excel formula) is allowed; positions stay as written."""
    stripped = raw.lstrip()
    if stripped.startswith(("=", "＝")) and not stripped.startswith(("==", "＝＝")):
        offset = len(raw) - len(stripped)
        return raw[:offset] + " " + stripped[1:]
    return raw


def read_rules(
    reader: "SheetReader",
    kpis: "KpiLibrary",
    employees: "Employees",
    tiers: dict[str, list["TierRow"]],
    settings: "Settings",
) -> list[Rule]:
    """Check the Rules sheet; report every problem with its cell; return the rules."""
    if reader.table is None or not reader.require():
        return []
    facts = _facts(kpis, employees, tiers, settings, reader.language)
    ids = reader.raw("rule_id")
    conditions = reader.raw("condition")
    actions = reader.raw("action")
    values = reader.raw("value")
    notes = reader.raw("note")
    rules: list[Rule] = []
    first_row: dict[str, int] = {}
    used_tables = set(employees.tier_table)
    for i in range(reader.n):
        if ids[i] is None and conditions[i] is None and actions[i] is None and values[i] is None:
            continue  # a row with only a note: a comment
        rule_id = _rule_id(reader, i, ids[i])
        action = _action(reader, i, actions[i], rule_id)
        if rule_id is not None:
            if rule_id in first_row:
                reader.error(
                    "rule_id",
                    i,
                    f"rule '{rule_id}' appears twice (first at {reader.cell('rule_id', first_row[rule_id])}): "
                    "give each rule its own id",
                )
                rule_id = None
            else:
                first_row[rule_id] = i
        checked_as = action or "ineligible"  # unknown action: still check the condition's names and syntax
        ok = rule_id is not None and action is not None
        condition, condition_text, good = _condition(reader, i, conditions[i], facts, checked_as)
        ok = ok and good
        value: Node | None = None
        label: str | None = None
        value_text = _text_of(values[i])
        if action in NUMBER_VALUED:
            value, good = _number_value(reader, i, values[i], facts, action)
            ok = ok and good
        elif action == "force_tier":
            label = _tier_label(reader, i, values[i], tiers, used_tables & _tables_named(condition, used_tables))
            ok = ok and label is not None
        elif action == "ineligible" and values[i] is not None:
            reader.warning("value", i, f"ineligible takes no value: {describe(values[i])} is ignored")
        if ok:
            assert rule_id is not None and action is not None
            rules.append(
                Rule(
                    rule_id=rule_id,
                    row=reader.row(i),
                    action=action,
                    stage=ACTION_STAGE[action],
                    condition=condition,
                    condition_text=condition_text,
                    value=value,
                    value_text=value_text,
                    label=label,
                    note=_text_of(notes[i]),
                    value_cell=reader.cell("value", i) if reader.has("value") else reader.cell("action", i),
                )
            )
    return rules


def rule_from_text(
    rule_id: str,
    condition: str | None,
    action: str,
    value: str | float | None,
    facts: Facts,
    *,
    row: int = 0,
    note: str = "",
) -> Rule:
    """A checked rule built from texts, as the sheet would give it (for tests and tools).

    Raises ExpressionError for a condition or value that is wrong; a force_tier
    value is taken as the tier label as it is.
    """
    condition_node = parse(_expression_text(condition)) if condition else None
    if condition_node is not None:
        check_expression(condition_node, condition or "", facts, action, BOOLEAN)
    value_node: Node | None = None
    if action in NUMBER_VALUED:
        if isinstance(value, (int, float)):
            value_node = Node("number", 0, 0, float(value), type=NUMBER)
        else:
            value_node = parse(str(value))
            if value_node is None:
                raise ExpressionError(0, f"{action} needs a value")
            check_expression(value_node, str(value), facts, action, NUMBER)
    return Rule(
        rule_id=rule_id,
        row=row,
        action=action,
        stage=ACTION_STAGE[action],
        condition=condition_node,
        condition_text=condition or "",
        value=value_node,
        value_text=_text_of(value),
        label=str(value) if action == "force_tier" else None,
        note=note,
        value_cell=f"D{row}" if row else "",
    )


def _facts(
    kpis: "KpiLibrary",
    employees: "Employees",
    tiers: dict[str, list["TierRow"]],
    settings: "Settings",
    language: str,
) -> Facts:
    labels = [row.label for rows in tiers.values() for row in rows] + [schema.word("no_bonus", language)]
    return Facts(
        kpi_index=dict(kpis.index),
        text_sources={
            "department": lambda: employees.department,
            "grade": lambda: employees.grade,
            "tier_table": lambda: list(tiers) + list(employees.tier_table),
            "tier": lambda: labels,
            "employee_id": lambda: employees.ids,
        },
        has_period_end=settings.period_end is not None,
    )


def _rule_id(reader: "SheetReader", i: int, raw: Any) -> str | None:
    if raw is None:
        reader.error(
            "rule_id",
            i,
            f"{reader.label('rule_id')} is empty: give every rule a short id such as R1 "
            "(it names the rule in the Payouts notes)",
        )
        return None
    try:
        return parse_id(raw) or None
    except Invalid as reason:
        reader.error("rule_id", i, f"{reader.label('rule_id')} {reason}")
        return None


def _action_choices(language: str) -> str:
    if language == "zh":
        return ", ".join(f"{en} ({zh})" for en, zh in schema.ACTION.values.items())
    return ", ".join(schema.ACTION.values)


def _action(reader: "SheetReader", i: int, raw: Any, rule_id: str | None) -> str | None:
    who = f"rule '{rule_id}'" if rule_id else "this rule"
    if raw is None:
        reader.error("action", i, f"{who} has no action: choose one of {_action_choices(reader.language)}")
        return None
    try:
        check_not_broken(raw)
    except Invalid as reason:
        reader.error("action", i, f"{reader.label('action')} {reason}")
        return None
    action = schema.ACTION.parse(raw)
    if action is None:
        spellings = [*schema.ACTION.values, *schema.ACTION.values.values()]
        reader.error(
            "action",
            i,
            f"unknown action {describe(raw)}{did_you_mean(str(raw), spellings)} "
            f"(actions: {_action_choices(reader.language)})",
        )
    return action


def _missing_value(reader: "SheetReader", i: int, action: str) -> None:
    if reader.has("value"):
        reader.error("value", i, f"{action} needs a value: {VALUE_MEANING[action]}")
    else:
        reader.error(
            "action",
            i,
            f"{action} needs a value ({VALUE_MEANING[action]}), but the Rules sheet has no "
            f"{reader.label('value')} column: add it",
        )


def _expression_error(reader: "SheetReader", key: str, i: int, error: ExpressionError) -> None:
    reader.error(key, i, f"col {error.position + 1}: {error.message}")


def _condition(
    reader: "SheetReader", i: int, raw: Any, facts: Facts, action: str
) -> tuple[Node | None, str, bool]:
    """(condition, its text, ok).  Blank: everyone; TRUE/FALSE cells are constant conditions."""
    if raw is None:
        return None, "", True
    if isinstance(raw, bool):
        return Node("bool", 0, 0, raw, type=BOOLEAN), _text_of(raw), True
    try:
        check_not_broken(raw)
    except Invalid as reason:
        reader.error("condition", i, f"{reader.label('condition')} {reason}")
        return None, "", False
    if not isinstance(raw, str):
        reader.error(
            "condition",
            i,
            f"a condition must be true or false (a comparison such as tenure_days < 90), "
            f"not {describe(raw)}",
        )
        return None, _text_of(raw), False
    text = _expression_text(raw)
    try:
        node = parse(text)
        if node is None:
            return None, "", True
        warnings = check_expression(node, text, facts, action, BOOLEAN)
    except ExpressionError as error:
        _expression_error(reader, "condition", i, error)
        return None, raw, False
    for warning in warnings:
        reader.warning("condition", i, f"col {warning.position + 1}: {warning.message}")
    return node, raw.strip(), True


def _number_value(
    reader: "SheetReader", i: int, raw: Any, facts: Facts, action: str
) -> tuple[Node | None, bool]:
    if raw is None:
        _missing_value(reader, i, action)
        return None, False
    try:
        check_not_broken(raw)
    except Invalid as reason:
        reader.error("value", i, f"{reader.label('value')} {reason}")
        return None, False
    if isinstance(raw, bool) or isinstance(raw, (dt.date, dt.datetime)) or not isinstance(raw, (int, float, str)):
        shown = _text_of(raw) if isinstance(raw, bool) else describe(raw)
        reader.error("value", i, f"the value of {action} {shown} is not a number: {VALUE_MEANING[action]}")
        return None, False
    if isinstance(raw, (int, float)):
        if math.isnan(raw) or math.isinf(raw):
            reader.error("value", i, f"the value of {action} is not a number")
            return None, False
        node = Node("number", 0, 0, float(raw), type=NUMBER)
    else:
        text = _expression_text(raw)
        try:
            parsed = parse(text)
            if parsed is None:
                reader.error("value", i, f"{action} needs a value: {VALUE_MEANING[action]}")
                return None, False
            node = parsed
            if node.kind == "name" and str(node.value).casefold() not in NAME_ALIASES:
                raise ExpressionError(
                    node.start,
                    f"the value '{raw.strip()}' is not a number (or a calculation such as 1.1 * multiplier): "
                    f"{VALUE_MEANING[action]}",
                )
            warnings = check_expression(node, text, facts, action, NUMBER)
        except ExpressionError as error:
            _expression_error(reader, "value", i, error)
            return None, False
        for warning in warnings:
            reader.warning("value", i, f"col {warning.position + 1}: {warning.message}")
    constant = constant_value(node)
    if constant is not None and not math.isfinite(constant):
        reader.error("value", i, f"the value of {action} is too large to compute")
        return None, False
    if constant is not None:
        if action in NOT_NEGATIVE and constant < 0:
            reader.error("value", i, f"the value of {action} {constant:g} is negative: it must be 0 or more")
            return None, False
        if action in ("set_multiplier", "scale_multiplier") and constant > LARGE_MULTIPLIER:
            reader.warning(
                "value",
                i,
                f"{action} {constant:g} multiplies the bonus by {constant:g} — if you meant {constant:g}%, "
                f"write {constant / 100:g} or {constant:g}%",
            )
    return node, True


def constant_value(node: Node) -> float | None:
    """The value of an expression made of numbers only (no names), else None."""
    if node.kind == "number":
        return float(node.value)
    if node.kind == "neg":
        inner = constant_value(node.children[0])
        return None if inner is None else -inner
    if node.kind == "arith":
        left, right = (constant_value(c) for c in node.children)
        if left is None or right is None:
            return None
        if node.op == "+":
            return left + right
        if node.op == "-":
            return left - right
        if node.op == "*":
            return left * right
        return left / right if right != 0 else None
    return None


def _tables_named(condition: Node | None, everything: set[str]) -> set[str]:
    """The tier tables a condition limits itself to (tier_table = "x", tier_table in (...),
    joined to the rest with and); every table when it does not."""
    if condition is None:
        return everything
    if condition.kind == "and":
        left, right = condition.children
        return _tables_named(left, everything) & _tables_named(right, everything)
    named: set[str] | None = None
    if condition.kind == "compare" and condition.op == "=":
        sides = condition.children
        for name, literal in (sides, sides[::-1]):
            if name.kind == "name" and name.key == "tier_table" and literal.kind == "text":
                named = {str(literal.value).strip().casefold()}
    elif condition.kind == "in" and condition.op == "in":
        name, *items = condition.children
        if name.kind == "name" and name.key == "tier_table" and all(i.kind == "text" for i in items):
            named = {str(i.value).strip().casefold() for i in items}
    if named is None:
        return everything
    return {t for t in everything if t.casefold() in named}


def _tier_label(
    reader: "SheetReader", i: int, raw: Any, tiers: dict[str, list["TierRow"]], used_tables: set[str]
) -> str | None:
    meaning = VALUE_MEANING["force_tier"]
    if raw is None:
        _missing_value(reader, i, "force_tier")
        return None
    try:
        text = parse_id(raw)
    except Invalid as reason:
        reader.error("value", i, f"{reader.label('value')} {reason}")
        return None
    if len(text) >= 2 and text[0] in "\"'“‘" and text[-1] in "\"'”’":
        text = text[1:-1].strip()
    no_bonus = {schema.word("no_bonus", language).casefold() for language in schema.LANGUAGES}
    if text.casefold() in no_bonus:
        return schema.word("no_bonus", reader.language)
    labels = [row.label for rows in tiers.values() for row in rows]
    label = text if text in labels else next((lab for lab in labels if lab.casefold() == text.casefold()), None)
    if label is None:
        if tiers:  # no Tiers at all is reported on the Tiers sheet
            reader.error(
                "value",
                i,
                f"force_tier: no tier table has a tier labelled '{text}'" + did_you_mean(text, sorted(set(labels))),
            )
        return None
    lacking = sorted(t for t, rows in tiers.items() if t in used_tables and all(r.label != label for r in rows))
    if lacking:
        having = sorted(t for t, rows in tiers.items() if any(r.label == label for r in rows))
        reader.warning(
            "value",
            i,
            f"the tier '{label}' is only in tier table(s) {', '.join(having)}: people on "
            f"{', '.join(lacking)} are not affected by this rule",
        )
    return label

