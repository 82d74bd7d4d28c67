"""What rule expressions may name, and when each action acts.

One table of names (with their Chinese aliases, types and the first stage at
which each is known), one of functions, and one of actions with their stage.
The docs (docs/workbook.md, "Rules sheet") describe the same tables; a test
checks that every name here is documented there.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import schema

NUMBER, TEXT, BOOLEAN = "number", "text", "true/false"

# Stages, in the order the engine runs them.
SCORE, TIER, PAYOUT, ELIGIBILITY = 0, 1, 2, 3
STAGES = ("score", "tier", "payout", "eligibility")
STAGE_WHEN = {
    SCORE: "before the tier lookup",
    TIER: "after the tier lookup",
    PAYOUT: "on the payout before pools",
    ELIGIBILITY: "last, before pools",
}


@dataclass(frozen=True)
class Name:
    key: str
    type: str
    zh: str
    stage: int  # the first stage at which the value is known
    meaning: str


NAMES: tuple[Name, ...] = (
    Name("employee_id", TEXT, "工号", SCORE, "the employee's id"),
    Name("department", TEXT, "部门", SCORE, "the department"),
    Name("grade", TEXT, "职级", SCORE, "the grade (blank: empty text)"),
    Name("tier_table", TEXT, "档位表", SCORE, "the name of the person's tier table"),
    Name("tenure_days", NUMBER, "司龄天数", SCORE,
         "days from hire_date to the end of the period (or the termination date), both counted"),
    Name("base_salary", NUMBER, "基本工资", SCORE, "base salary"),
    Name("target_bonus_pct", NUMBER, "目标奖金比例", SCORE, "target bonus % (0.15 for 15%)"),
    Name("proration", NUMBER, "折算比例", SCORE, "the proration factor (1 without proration)"),
    Name("target_bonus", NUMBER, "目标奖金", SCORE, "base_salary × target_bonus_pct × proration"),
    Name("eligible", BOOLEAN, "是否参与", SCORE, "eligible on the Employees sheet, and not made ineligible by a rule"),
    Name("gate_passed", BOOLEAN, "否决项通过", SCORE, "no gate KPI failed"),
    Name("total_score", NUMBER, "总分", SCORE, "the total score (after earlier score rules)"),
    Name("tier", TEXT, "档位", TIER, "the tier label"),
    Name("multiplier", NUMBER, "系数", TIER, "the bonus multiplier"),
    Name("payout", NUMBER, "奖金", PAYOUT, "the payout before pool (after earlier caps)"),
)
NAMES_BY_KEY: dict[str, Name] = {n.key: n for n in NAMES}
NAME_ALIASES: dict[str, str] = {}
for _n in NAMES:
    NAME_ALIASES[_n.key.casefold()] = _n.key
    NAME_ALIASES[_n.zh.casefold()] = _n.key


@dataclass(frozen=True)
class Function:
    key: str
    zh: str
    kpi: bool  # takes one KPI id in quotes; otherwise two or more numbers
    meaning: str


FUNCTIONS: tuple[Function, ...] = (
    Function("attainment", "达成率", True, "the attainment of the person's row for that KPI (1.1 = 110%)"),
    Function("score", "得分", True, "the score of that row"),
    Function("actual", "实际值", True, "the actual of that row"),
    Function("target", "目标值", True, "the target of that row"),
    Function("min", "最小值", False, "the smallest of its numbers"),
    Function("max", "最大值", False, "the largest of its numbers"),
)
FUNCTIONS_BY_KEY: dict[str, Function] = {f.key: f for f in FUNCTIONS}
FUNCTION_ALIASES: dict[str, str] = {}
for _f in FUNCTIONS:
    FUNCTION_ALIASES[_f.key.casefold()] = _f.key
    FUNCTION_ALIASES[_f.zh.casefold()] = _f.key

# Actions: the stage each acts at, and what its value is.
ACTION_STAGE: dict[str, int] = {
    "add_score": SCORE,
    "cap_score": SCORE,
    "force_tier": TIER,
    "set_multiplier": TIER,
    "scale_multiplier": TIER,
    "cap_payout": PAYOUT,
    "cap_payout_multiple": PAYOUT,
    "ineligible": ELIGIBILITY,
}
NUMBER_VALUED = frozenset(a for a in ACTION_STAGE if a not in ("force_tier", "ineligible"))
NOT_NEGATIVE = frozenset({"set_multiplier", "scale_multiplier", "cap_payout", "cap_payout_multiple"})
VALUE_MEANING: dict[str, str] = {
    "add_score": "the points to add to the total score (negative to deduct), e.g. 5",
    "cap_score": "the highest total score, e.g. 100",
    "set_multiplier": "the multiplier, e.g. 1.2",
    "scale_multiplier": "the factor the multiplier is multiplied by, e.g. 1.1 or 110%",
    "cap_payout": "the most a person is paid, e.g. 20000",
    "cap_payout_multiple": "how many times the target bonus a person is paid at most, e.g. 2",
    "force_tier": "a tier label of the Tiers sheet, e.g. Partially meets",
}
assert set(ACTION_STAGE) == set(schema.ACTION.values)


def stage_of(action: str) -> int:
    return ACTION_STAGE[action]


def actions_of_stage(stage: int) -> list[str]:
    return [a for a, s in ACTION_STAGE.items() if s == stage]
