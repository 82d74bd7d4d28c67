"""Checked rules -> array operations over all employees at once, and the stages that apply them.

Each condition and value is compiled once into a tree of small functions that
take the whole population's arrays and return arrays: a rule costs a handful
of NumPy operations whatever the number of people, never a Python loop per
employee.

Values are represented as

* numbers: float arrays, NaN where unknown (a person without the KPI that
  ``attainment("REV")`` asks for, a division by zero);
* text: arrays of case-folded strings (text compares case-insensitively, as
  Excel's ``=`` does; a blank grade is the empty text);
* true/false: a pair (value, known) of boolean arrays, combined with
  three-valued logic: ``false and unknown`` is false, ``true or unknown`` is
  true, anything else with unknown is unknown.  A rule fires only where its
  condition is known to be true and its value is known.

Numbers compare with the engine's tolerance (kernels.TOLERANCE): a total of
99.99999999999999 is ``>= 100``, as it reaches the tier of 100.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .. import schema
from ..kernels import TOLERANCE
from ..problems import ERROR, Problem
from .language import Node
from .sheet import Rule
from .vocabulary import ELIGIBILITY, NOT_NEGATIVE, NUMBER, PAYOUT, SCORE, TEXT, TIER

Evaluator = Callable[["Env"], Any]

# force_tier's row per tier table: a global tier row, or one of these
NO_BONUS_ROW = -1
LACKS_LABEL = -2


@dataclass
class CompiledRule:
    rule: Rule
    condition: Evaluator | None
    value: Evaluator | None
    label_rows: np.ndarray | None  # force_tier: per tier table, the row of the label


@dataclass
class RulePlan:
    """The rules of a workbook, compiled, with the employee facts they read."""

    rules: list[CompiledRule]
    first: bool  # rule_policy first: per stage, only the first matching rule applies
    sheet: str  # the Rules sheet's title, for problems found while scoring
    language: str
    employee_ids: list[str]
    raw_text: dict[str, list[Any]]  # employee_id, department, grade, tier_table as given
    hire_dates: list[dt.date | None]
    termination_dates: list[dt.date | None]
    period_end: dt.date | None
    tier_labels_folded: np.ndarray  # per global tier row, then the no-bonus label last
    _folded: dict[str, np.ndarray] = field(default_factory=dict)
    _tenure: np.ndarray | None = None

    def text(self, key: str) -> np.ndarray:
        """A text column of the employees, case-folded (built when a rule first reads it)."""
        if key not in self._folded:
            self._folded[key] = _folded(self.raw_text[key])
        return self._folded[key]

    @property
    def tenure_days(self) -> np.ndarray:
        if self._tenure is None:
            self._tenure = tenure_days(self.hire_dates, self.termination_dates, self.period_end)
        return self._tenure


@dataclass
class RuleHits:
    """What one rule did: the people it matched (its condition true, its value known: it
    applied to them) and per person its value, whether it changed their numbers (it
    *fired*) and its effect on their payout before pool."""

    people: np.ndarray  # int64, matched
    value: np.ndarray  # float, NaN where the action has no number
    changed: np.ndarray  # bool
    effect: np.ndarray  # float, money


@dataclass
class RuleOutcome:
    hits: list[RuleHits]
    total_before_rules: np.ndarray
    tier_row_looked_up: np.ndarray
    multiplier_looked_up: np.ndarray
    eligible: np.ndarray  # eligible on the Employees sheet and not made ineligible by a rule
    problems: list[Problem] = field(default_factory=list)


# ------------------------------------------------------------------ compiling


def compile_node(node: Node) -> Evaluator:
    """A function of the environment that evaluates node over everyone."""
    kind = node.kind
    if kind == "number":
        constant = float(node.value)
        return lambda env: constant
    if kind == "text":
        folded = str(node.value).strip().casefold()
        return lambda env: folded
    if kind == "bool":
        truth = bool(node.value)
        return lambda env: (truth, True)
    if kind == "name":
        key = node.key
        if node.type == NUMBER:
            return lambda env: env.number(key)
        if node.type == TEXT:
            return lambda env: env.text(key)
        return lambda env: (env.boolean(key), True)
    if kind == "call":
        arguments = [compile_node(c) for c in node.children]
        if node.kpi >= 0:
            function, kpi = node.key, node.kpi
            return lambda env: env.kpi(function, kpi)
        combine = np.minimum if node.key == "min" else np.maximum

        def extreme(env: Env) -> Any:
            result = arguments[0](env)
            for argument in arguments[1:]:
                result = combine(result, argument(env))  # NaN (unknown) wins, as it should
            return result

        return extreme
    if kind == "neg":
        operand = compile_node(node.children[0])
        return lambda env: -np.asarray(operand(env), dtype=float)
    if kind == "arith":
        left, right = (compile_node(c) for c in node.children)
        return _arith(node.op, left, right)
    if kind == "compare":
        left, right = (compile_node(c) for c in node.children)
        operand_type = node.children[0].type
        if operand_type == NUMBER:
            op = node.op
            return lambda env: _compare_numbers(op, left(env), right(env))
        if operand_type == TEXT:
            negate = node.op == "<>"
            return lambda env: _known(_text_equal(left(env), right(env)) != negate)
        negate = node.op == "<>"
        return lambda env: _compare_truths(left(env), right(env), negate)
    if kind == "in":
        return _membership(node)
    if kind == "and":
        left, right = (compile_node(c) for c in node.children)
        return lambda env: _and(left(env), right(env))
    if kind == "or":
        left, right = (compile_node(c) for c in node.children)
        return lambda env: _or(left(env), right(env))
    if kind == "not":
        operand = compile_node(node.children[0])
        return lambda env: _not(operand(env))
    raise AssertionError(f"unknown node {kind}")  # pragma: no cover - the parser makes no others


def _arith(op: str, left: Evaluator, right: Evaluator) -> Evaluator:
    def evaluate(env: Env) -> Any:
        a = np.asarray(left(env), dtype=float)
        b = np.asarray(right(env), dtype=float)
        with np.errstate(all="ignore"):
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            return np.where(b == 0.0, np.nan, a / np.where(b == 0.0, 1.0, b))  # x / 0 is unknown

    return evaluate


def _text_equal(a: Any, b: Any) -> Any:
    """Elementwise equality of case-folded texts (the == operator: numpy 1.26 has no ufunc for it)."""
    return np.asarray(a) == np.asarray(b)


def _known(value: Any) -> tuple[Any, Any]:
    return value, True


def _compare_numbers(op: str, a: Any, b: Any) -> tuple[Any, Any]:
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    known: Any = ~(np.isnan(a) | np.isnan(b))
    if known.all():
        known = True  # the common case: and/or below then skip work
    with np.errstate(invalid="ignore"):
        slack = np.where(np.isfinite(b), TOLERANCE * np.maximum(1.0, np.abs(b)), 0.0)
        if op == ">=":
            value = a >= b - slack
        elif op == ">":
            value = a > b + slack
        elif op == "<=":
            value = a <= b + slack
        elif op == "<":
            value = a < b - slack
        else:
            value = (a == b) | (np.abs(a - b) <= slack)
            if op == "<>":
                value = ~value
    return value & known, known


def _compare_truths(a: tuple[Any, Any], b: tuple[Any, Any], negate: bool) -> tuple[Any, Any]:
    (av, ak), (bv, bk) = a, b
    known = np.logical_and(ak, bk)
    equal = np.equal(av, bv)
    value = np.logical_not(equal) if negate else equal
    return np.logical_and(value, known), known


def _membership(node: Node) -> Evaluator:
    left_node, *item_nodes = node.children
    left = compile_node(left_node)
    negate = node.op == "not in"
    if left_node.type == TEXT and all(i.kind == "text" for i in item_nodes):
        listed = [str(i.value).strip().casefold() for i in item_nodes]

        def text_in(env: Env) -> tuple[Any, Any]:
            found = np.isin(left(env), listed)
            return (np.logical_not(found) if negate else found), True

        return text_in
    items = [compile_node(i) for i in item_nodes]
    is_number = left_node.type == NUMBER

    def any_equal(env: Env) -> tuple[Any, Any]:
        value = left(env)
        result: tuple[Any, Any] = (False, True)
        for item in items:
            equal = _compare_numbers("=", value, item(env)) if is_number else _known(_text_equal(value, item(env)))
            result = _or(result, equal)
        return _not(result) if negate else result

    return any_equal


def _and(a: tuple[Any, Any], b: tuple[Any, Any]) -> tuple[Any, Any]:
    (av, ak), (bv, bk) = a, b  # invariant: a value is False where it is unknown
    value = np.logical_and(av, bv)
    if ak is True and bk is True:
        return value, True
    known = np.logical_and(ak, bk) | (np.logical_and(ak, np.logical_not(av))) | np.logical_and(bk, np.logical_not(bv))
    return value, known


def _or(a: tuple[Any, Any], b: tuple[Any, Any]) -> tuple[Any, Any]:
    (av, ak), (bv, bk) = a, b
    value = np.logical_or(av, bv)
    if ak is True and bk is True:
        return value, True
    known = np.logical_and(ak, bk) | np.logical_or(av, bv)
    return value, known


def _not(a: tuple[Any, Any]) -> tuple[Any, Any]:
    av, ak = a
    return np.logical_and(np.logical_not(av), ak), ak


def compile_rules(
    rules: list[Rule],
    *,
    first: bool,
    sheet: str,
    language: str,
    employee_ids: list[str],
    departments: list[str],
    grades: list[str | None],
    tier_tables: list[str],
    tier_names: list[str],
    tier_rows_labels: list[list[str]],
    hire_dates: list[dt.date | None],
    termination_dates: list[dt.date | None],
    period_end: dt.date | None,
) -> RulePlan:
    """Compile checked rules and gather the employee facts their expressions read.

    tier_names: the tier tables in plan order; tier_rows_labels: per table,
    its labels in plan row order (rows are numbered through all tables).
    """
    offsets = np.cumsum([0] + [len(labels) for labels in tier_rows_labels])
    compiled = []
    for rule in rules:
        label_rows = None
        if rule.action == "force_tier":
            label_rows = np.full(len(tier_names), LACKS_LABEL, dtype=np.int64)
            no_bonus = {schema.word("no_bonus", lang) for lang in schema.LANGUAGES}
            for t, labels in enumerate(tier_rows_labels):
                if rule.label in no_bonus:
                    label_rows[t] = NO_BONUS_ROW
                elif rule.label in labels:
                    label_rows[t] = offsets[t] + labels.index(rule.label)
        compiled.append(
            CompiledRule(
                rule=rule,
                condition=compile_node(rule.condition) if rule.condition is not None else None,
                value=compile_node(rule.value) if rule.value is not None else None,
                label_rows=label_rows,
            )
        )
    labels = [label for table in tier_rows_labels for label in table] + [schema.word("no_bonus", language)]
    return RulePlan(
        rules=compiled,
        first=first,
        sheet=sheet,
        language=language,
        employee_ids=list(employee_ids),
        raw_text={"employee_id": employee_ids, "department": departments, "grade": grades, "tier_table": tier_tables},
        hire_dates=hire_dates,
        termination_dates=termination_dates,
        period_end=period_end,
        tier_labels_folded=_folded(labels),
    )


def _factorized(values: list[Any]) -> tuple[list[Any], np.ndarray]:
    """(distinct values, code of each value): a dictionary lookup per person instead of
    building an array of Python objects (several times faster on 100,000 people)."""
    distinct: dict[Any, int] = {}
    codes = np.fromiter((distinct.setdefault(v, len(distinct)) for v in values), dtype=np.int64, count=len(values))
    return list(distinct), codes


def _folded(values: list[Any]) -> np.ndarray:
    distinct, codes = _factorized(values)
    folded = np.array([str(v).strip().casefold() if v is not None else "" for v in distinct] or [""], dtype=str)
    return folded[codes]


def _days(dates: list[dt.date | None]) -> np.ndarray:
    distinct, codes = _factorized(dates)
    return np.array(distinct or [None], dtype="datetime64[D]")[codes]


def tenure_days(
    hire_dates: list[dt.date | None], termination_dates: list[dt.date | None], period_end: dt.date | None
) -> np.ndarray:
    """Days from the hire date to the end of the period (or the termination date when earlier),
    both ends counted; infinite without a hire date (employed since before anyone counts)."""
    if period_end is None:
        return np.full(len(hire_dates), np.inf)
    end = np.datetime64(period_end, "D")
    hire = _days(hire_dates)  # None becomes NaT
    stop = _days(termination_dates)
    stop = np.where(np.isnat(stop) | (stop > end), end, stop)
    days = (stop - hire).astype(np.int64).astype(float) + 1.0
    return np.where(np.isnat(hire), np.inf, days)


# ------------------------------------------------------------------ running


class Env:
    """What expressions read, over everyone, as the stages change it."""

    def __init__(self, run: "RuleRun"):
        self.run = run
        self._kpi: dict[tuple[str, int], np.ndarray] = {}
        self._tier_text: np.ndarray | None = None

    def number(self, key: str) -> np.ndarray:
        run = self.run
        if key == "total_score":
            return run.total
        if key == "multiplier":
            return run.multiplier
        if key == "payout":
            return run.payout
        if key == "tenure_days":
            return run.rules.tenure_days
        plan = run.plan
        if key == "base_salary":
            return plan.base_salary
        if key == "target_bonus_pct":
            return plan.target_bonus_pct
        if key == "proration":
            return plan.proration
        if key == "target_bonus":
            return run.target_bonus
        raise AssertionError(key)  # pragma: no cover - the checker knows every name

    def text(self, key: str) -> np.ndarray:
        if key == "tier":
            if self._tier_text is None:
                labels = self.run.rules.tier_labels_folded
                self._tier_text = labels[np.where(self.run.tier_row >= 0, self.run.tier_row, labels.shape[0] - 1)]
            return self._tier_text
        return self.run.rules.text(key)

    def tier_changed(self) -> None:
        self._tier_text = None

    def boolean(self, key: str) -> np.ndarray:
        if key == "eligible":
            return self.run.eligible
        if key == "gate_passed":
            return ~self.run.gate_failed
        raise AssertionError(key)  # pragma: no cover

    def kpi(self, function: str, k: int) -> np.ndarray:
        cached = self._kpi.get((function, k))
        if cached is None:
            run = self.run
            source = {
                "attainment": run.attainment,
                "score": run.score,
                "actual": run.plan.actual,
                "target": run.plan.target,
            }[function]
            rows = np.flatnonzero(run.plan.row_kpi == k)
            cached = np.full(run.m, np.nan)
            cached[run.plan.row_employee[rows]] = source[rows]
            self._kpi[(function, k)] = cached
        return cached


class RuleRun:
    """Applies the rules stage by stage to one scoring run, keeping the trace.

    The engine calls ``score_stage`` before the tier lookup, ``tier_stage``
    after it, and ``payout_stages`` on the payouts before pool; each returns the
    adjusted arrays.  ``lookup(total, tables)`` is the engine's tier lookup
    (numba or reference) and ``unit`` the payout before pool of a multiplier of
    1 (0 for people not eligible or with a failed gate): together they measure
    each rule's effect on the payout.
    """

    def __init__(
        self,
        plan: Any,
        attainment: np.ndarray,
        score: np.ndarray,
        total: np.ndarray,
        gate_failed: np.ndarray,
        unit: np.ndarray,
        lookup: Callable[[np.ndarray, np.ndarray], np.ndarray],
    ):
        self.plan = plan
        self.rules: RulePlan = plan.rules
        self.m = plan.n_employees
        self.attainment = attainment
        self.score = score
        self.total = np.array(total, dtype=float)
        self.total_before_rules = np.array(total, dtype=float)
        self.gate_failed = gate_failed
        self.unit = unit
        self.lookup = lookup
        self.eligible = np.array(plan.eligible, dtype=bool)
        self.target_bonus = plan.base_salary * plan.target_bonus_pct * plan.proration
        self.multiplier = np.zeros(self.m)
        self.tier_row = np.full(self.m, -1, dtype=np.int64)
        self.payout = np.zeros(self.m)
        self.tier_row_looked_up = self.tier_row
        self.multiplier_looked_up = self.multiplier
        self.hits: list[RuleHits | None] = [None] * len(self.rules.rules)
        self.problems: list[Problem] = []
        self.env = Env(self)

    # -------------------------------------------------------------- stages

    def score_stage(self) -> np.ndarray:
        self._stage(SCORE)
        return self.total

    def tier_stage(self, multiplier: np.ndarray, tier_row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.multiplier_looked_up = np.array(multiplier, dtype=float)
        self.tier_row_looked_up = np.array(tier_row, dtype=np.int64)
        self.multiplier = self.multiplier_looked_up.copy()
        self.tier_row = self.tier_row_looked_up.copy()
        self.env.tier_changed()
        self._stage(TIER)
        return self.multiplier, self.tier_row

    def payout_stages(self, payout_before_pool: np.ndarray) -> np.ndarray:
        self.payout = np.array(payout_before_pool, dtype=float)
        self._stage(PAYOUT)
        self._stage(ELIGIBILITY)
        return self.payout

    def outcome(self) -> RuleOutcome:
        empty = RuleHits(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=bool), np.zeros(0))
        return RuleOutcome(
            hits=[h if h is not None else empty for h in self.hits],
            total_before_rules=self.total_before_rules,
            tier_row_looked_up=self.tier_row_looked_up,
            multiplier_looked_up=self.multiplier_looked_up,
            eligible=self.eligible,
            problems=self.problems,
        )

    # -------------------------------------------------------------- one stage

    def _stage(self, stage: int) -> None:
        taken = np.zeros(self.m, dtype=bool)
        for position, compiled in enumerate(self.rules.rules):
            if compiled.rule.stage != stage:
                continue
            matches = self._matches(compiled)
            value = None
            if compiled.value is not None:
                value = np.broadcast_to(np.asarray(compiled.value(self.env), dtype=float), (self.m,))
                matches &= ~np.isnan(value)  # unknown: the rule does not apply (infinite: an error below)
            if compiled.label_rows is not None:
                rows = compiled.label_rows[self.plan.employee_tier_table]
                matches &= rows != LACKS_LABEL
            if self.rules.first:
                matches &= ~taken
            people = np.flatnonzero(matches)
            if self.rules.first:
                taken[people] = True
            if value is not None:
                people = self._refuse_impossible(compiled, people, value)
            self.hits[position] = self._apply(compiled, people, value)

    def _matches(self, compiled: CompiledRule) -> np.ndarray:
        if compiled.condition is None:
            return np.ones(self.m, dtype=bool)
        truth, _ = compiled.condition(self.env)
        return np.array(np.broadcast_to(truth, (self.m,)), dtype=bool)

    def _refuse_impossible(self, compiled: CompiledRule, people: np.ndarray, value: np.ndarray) -> np.ndarray:
        """Drop, and report as errors, people for whom the rule's value is impossible: a
        negative multiplier or cap, or numbers too large to compute.  Found only while
        scoring (the value is calculated), they stop the payouts like any error."""
        rule = compiled.rule
        v = value[people]
        negative = (v < 0) if rule.action in NOT_NEGATIVE else np.zeros(people.size, dtype=bool)
        with np.errstate(over="ignore", invalid="ignore"):
            if rule.action == "add_score":
                result = self.total[people] + v
            elif rule.action == "scale_multiplier":
                result = self.multiplier[people] * v * np.maximum(self.unit[people], 1.0)
            elif rule.action == "set_multiplier":
                result = v * np.maximum(self.unit[people], 1.0)
            else:
                result = np.zeros(people.size)
        overflow = ~np.isfinite(result) | ~np.isfinite(v)
        for bad, what in ((negative, f"comes out negative for {{who}}: {rule.action} needs 0 or more"),
                          (overflow & ~negative, "gives numbers too large to compute for {who}: check the value")):
            if bad.any():
                self.problems.append(
                    Problem(ERROR, self.rules.sheet, rule.value_cell,
                            f"the value of rule '{rule.rule_id}' ({rule.value_text}) " + what.format(who=self._who(people[bad])))
                )
        return people[~(negative | overflow)]

    def _who(self, people: np.ndarray) -> str:
        ids = [self.rules.employee_ids[e] for e in people[:5]]
        more = f" and {people.size - 5} more" if people.size > 5 else ""
        return f"{people.size} {'person' if people.size == 1 else 'people'} ({', '.join(ids)}{more})"

    def _apply(self, compiled: CompiledRule, people: np.ndarray, value: np.ndarray | None) -> RuleHits:
        action = compiled.rule.action
        v = value[people] if value is not None else np.full(people.size, np.nan)
        unit = self.unit[people]
        if action in ("add_score", "cap_score"):
            old = self.total[people]
            new = old + v if action == "add_score" else np.minimum(old, v)
            changed = new != old
            effect = np.zeros(people.size)
            if changed.any():
                moved = people[changed]
                tables = self.plan.employee_tier_table[moved]
                effect[changed] = unit[changed] * (self.lookup(new[changed], tables) - self.lookup(old[changed], tables))
            self.total[people] = new
            return RuleHits(people, v, changed, effect)
        if action in ("force_tier", "set_multiplier", "scale_multiplier"):
            old = self.multiplier[people]
            old_row = self.tier_row[people]
            if action == "force_tier":
                assert compiled.label_rows is not None
                rows = compiled.label_rows[self.plan.employee_tier_table[people]]
                new = np.where(rows >= 0, self.plan.tier_multiplier[np.maximum(rows, 0)], 0.0)
                self.tier_row[people] = rows
                self.env.tier_changed()
                changed = (rows != old_row) | (new != old)
            else:
                new = v if action == "set_multiplier" else old * v
                changed = new != old
            self.multiplier[people] = new
            return RuleHits(people, v, changed, unit * (new - old))
        if action in ("cap_payout", "cap_payout_multiple"):
            old = self.payout[people]
            cap = v if action == "cap_payout" else v * self.target_bonus[people]
            new = np.minimum(old, cap)
            self.payout[people] = new
            return RuleHits(people, v, new < old, new - old)
        assert action == "ineligible"
        changed = self.eligible[people].copy()
        effect = -self.payout[people]
        self.payout[people] = 0.0
        self.eligible[people] = False
        return RuleHits(people, v, changed, effect)
