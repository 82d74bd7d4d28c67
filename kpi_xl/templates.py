"""Workbooks for people to start from: a blank-but-instructive template and a worked example.

* ``build_template(language)`` - every input sheet of the contract with its
  headers (English, or the Chinese aliases), a few example rows that score
  cleanly, dropdowns for every enumerated column, number formats and an input
  message on every header explaining the column.
* ``build_example_company()`` - a realistic company of 40 people in four
  departments with a balanced scorecard cascaded company -> department ->
  individual, using every scoring method, gates, budget lines, proration,
  pools and two tier tables.
* ``write_templates(directory)`` - saves both (the template in both languages),
  byte-for-byte reproducibly; ``python -m kpi_xl.templates [DIR]`` regenerates
  the files in the repository's ``templates/`` folder.

Sheet and column names, aliases and enumerated values all come from
:mod:`kpi_xl.schema`; the layout is a loop over its sheet specs.  This module
depends on openpyxl only (no engine import), so ``kpi-xl new`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import random
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from . import schema
from .schema import SheetSpec

__all__ = [
    "EXAMPLE_FILE",
    "TEMPLATE_FILES",
    "build_example_company",
    "build_template",
    "reproducible_bytes",
    "save_reproducibly",
    "write_templates",
]

TEMPLATE_FILES: dict[str, str] = {"en": "kpi_template_en.xlsx", "zh": "kpi_template_zh.xlsx"}
EXAMPLE_FILE = "example_company.xlsx"
DEFAULT_DIRECTORY = Path(__file__).resolve().parent.parent / "templates"

FIXED_TIME = dt.datetime(2026, 1, 1)  # document properties, so that saving is reproducible
LAST_ROW = 1000  # dropdowns cover rows 2..LAST_ROW
MIN_WIDTH, MAX_WIDTH = 10, 42
SETTINGS_DESCRIPTION_WIDTH = 110

PERCENT = "0.0%"
FINE_PERCENT = "0.0#%"  # targets and actuals in %: 95.5%, 1.81%
MONEY = "#,##0.00"
WHOLE_MONEY = "#,##0"
MULTIPLIER = "0.00"
DATE = "yyyy-mm-dd"
SCORE = "0"

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")  # the output sheets' header colour
HEADER_ALIGNMENT = Alignment(vertical="center")

# Number format of a column, whatever sheet it is on; then per-sheet exceptions.
COLUMN_FORMATS: dict[str, str] = {
    "weight": PERCENT,
    "threshold": PERCENT,
    "stretch": PERCENT,
    "target_bonus_pct": PERCENT,
    "multiplier": MULTIPLIER,
    "base_salary": MONEY,
    "pool": MONEY,
    "budget": MONEY,
    "hire_date": DATE,
    "termination_date": DATE,
    "threshold_score": SCORE,
    "target_score": SCORE,
    "stretch_score": SCORE,
    "min_score": SCORE,
}
SHEET_COLUMN_FORMATS: dict[tuple[str, str], str] = {
    ("Curves", "attainment"): PERCENT,
    ("Curves", "score"): SCORE,
    ("Budget", "actual"): MONEY,
}
# Target and actual cells take their format from the KPI's unit.
UNIT_FORMATS: dict[str, str] = {"%": FINE_PERCENT, "USD": WHOLE_MONEY, "元": WHOLE_MONEY}

# Contract columns the templates leave out (period: not in the contract v1).
OMITTED_COLUMNS: frozenset[tuple[str, str]] = frozenset({("Scorecards", "period")})

# Columns that get at least this width (a condition is typed into an empty sheet).
WIDE_COLUMNS: dict[tuple[str, str], int] = {("Rules", "condition"): 60, ("Rules", "value"): 18, ("Rules", "note"): 40}

SETTING_FORMATS: dict[str, str] = {"date": DATE, "ratio": MULTIPLIER, "int": SCORE}
SETTING_KEY_FORMATS: dict[str, str] = {"budget_tolerance": PERCENT}


@dataclass(frozen=True)
class Text:
    """A text in both languages."""

    en: str
    zh: str

    def __call__(self, language: str) -> str:
        return self.zh if language == "zh" else self.en


@dataclass(frozen=True)
class Formatted:
    """A cell value with its own number format (target and actual by the KPI's unit)."""

    value: Any
    number_format: str


DESCRIPTION = Text("description", "说明")  # the Settings sheet's explanatory column (kpi_xl ignores it)
Record = Mapping[str, Any]  # canonical column key -> value (Text, Formatted or plain)


# ------------------------------------------------------------------ help texts
# Input messages: Excel allows 32 characters of title and 255 of text.

COLUMN_HELP: dict[str, Text] = {
    "kpi_id": Text("Unique short code of the KPI, e.g. REV.", "指标的唯一编号，例如 REV。"),
    "name": Text("Name shown in the results.", "名称。"),
    "direction": Text(
        "higher: attainment = actual / target. lower (costs, defects, days): "
        "attainment = target / actual. Blank: higher.",
        "正向：达成率 = 实际值 / 目标值；反向（成本、缺陷、天数）：达成率 = 目标值 / 实际值。留空为正向。",
    ),
    "method": Text(
        "linear (threshold/stretch, or a curve), step (curve), binary (met or not), "
        "direct (the actual is the score). Blank: linear.",
        "线性（门槛值/挑战值，或评分曲线）、阶梯（评分曲线）、达标制（达到即满分）、直接评分（实际值即得分）。留空为线性。",
    ),
    "threshold": Text(
        "Attainment where scoring starts, e.g. 80%. Needed for linear without a curve.",
        "开始计分的达成率，例如 80%。线性且无评分曲线时必填。",
    ),
    "stretch": Text(
        "Attainment where the score stops rising, e.g. 120%. Needed for linear without a curve.",
        "得分不再上升的达成率，例如 120%。线性且无评分曲线时必填。",
    ),
    "threshold_score": Text("Score at the threshold. Blank: 50.", "达到门槛值时的得分。留空为 50。"),
    "target_score": Text("Score at 100% attainment. Blank: 100.", "达成率 100% 时的得分。留空为 100。"),
    "stretch_score": Text(
        "Score at and above the stretch (also the cap of direct scores). Blank: 150.",
        "达到挑战值及以上的得分（也是直接评分的上限）。留空为 150。",
    ),
    "curve": Text(
        "Id of a curve on the Curves sheet: required for step, optional for linear.",
        "评分曲线表中的曲线编号：阶梯必填，线性可选。",
    ),
    "gate": Text(
        "yes: below its threshold (curve: first point; binary: 100%) means no bonus at all.",
        "是：低于门槛（曲线为第一个点，达标制为 100%）则无任何奖金。",
    ),
    "target": Text(
        "Default target, used where a scorecard row leaves its target blank.",
        "默认目标值：考核表中目标值留空时使用。",
    ),
    "budget_line": Text(
        "A line of the Budget sheet: target = its budget, actual = its actual, in the employee's department.",
        "预算表中的科目：目标值取预算数，实际值取实际数（按员工所在部门）。",
    ),
    "perspective": Text(
        "Balanced-scorecard perspective: Financial, Customer, Internal Process, Learning & Growth.",
        "平衡计分卡维度：财务、客户、内部流程、学习与成长。",
    ),
    "level": Text("company, department or individual.", "公司、部门或个人。"),
    "parent_kpi": Text("The KPI this one cascades from.", "本指标所分解自的上级指标编号。"),
    "unit": Text("Unit of measure, e.g. USD, %, days.", "计量单位，例如 元、%、天。"),
    "curve_id": Text(
        "Curve id, as named in the KPIs sheet's curve column. One row a point.",
        "曲线编号，与指标库中的评分曲线列一致。每行一个点。",
    ),
    "attainment": Text("Attainment of this point, e.g. 95%.", "该点的达成率，例如 95%。"),
    "score": Text("Score at this attainment.", "该达成率对应的得分。"),
    "employee_id": Text("Unique id; 1001 and '1001' are the same.", "唯一工号；数字 1001 与文本 1001 相同。"),
    "department": Text("Department (links to Pools and Budget).", "所属部门（对应奖金池和预算）。"),
    "base_salary": Text("Base salary for the period, 0 or more.", "考核期内的基本工资，不小于 0。"),
    "target_bonus_pct": Text("Target bonus as a share of base salary, e.g. 15%.", "目标奖金占基本工资的比例，例如 15%。"),
    "hire_date": Text("Used by proration 'days'. Blank: employed all period.", "按天折算时使用。留空表示整个考核期在职。"),
    "termination_date": Text("Used by proration 'days'. Blank: still employed.", "按天折算时使用。留空表示仍在职。"),
    "eligible": Text("no: scored, but paid nothing. Blank: yes.", "否：照常评分，但不发奖金。留空为是。"),
    "tier_table": Text("Which Tiers table applies. Blank: default.", "适用的奖金档位表。留空为 default。"),
    "manager": Text("Employee id of the manager (descriptive).", "直属上级的工号（仅供参考）。"),
    "grade": Text("Grade (descriptive).", "职级（仅供参考）。"),
    "currency": Text("Currency (descriptive).", "币种（仅供参考）。"),
    "weight": Text(
        "Weight of the KPI for this employee; an employee's weights add up to 100%.",
        "该指标对该员工的权重；同一员工的权重合计为 100%。",
    ),
    "actual": Text(
        "The result. Blank only when the KPI's budget line supplies it. For direct KPIs, the score.",
        "实际结果。仅当指标的预算科目提供实际值时可留空。直接评分指标填写得分。",
    ),
    "comment": Text("Free text.", "备注。"),
    "min_score": Text("Lowest total score of this tier.", "进入该档位的最低总分。"),
    "multiplier": Text("Bonus multiplier of this tier, e.g. 1.00.", "该档位的奖金系数，例如 1.00。"),
    "label": Text("Name of the tier shown in Payouts.", "档位名称，显示在奖金结果中。"),
    "pool": Text("Bonus pool of the department.", "部门的奖金池金额。"),
    "line_id": Text(
        "Budget line id, as named in the KPIs sheet's budget_line column.",
        "预算科目编号，与指标库中的预算科目列一致。",
    ),
    "account": Text("Account (descriptive).", "会计科目（仅供参考）。"),
    "budget": Text("Budgeted amount: the target of KPIs using this line.", "预算数：使用该科目的指标的目标值。"),
    "key": Text("Setting name; each setting once.", "设置项目名称；每项只填一次。"),
    "value": Text("Value of the setting; blank: the default.", "设置值；留空取默认值。"),
    "rule_id": Text(
        "Short id of the rule, e.g. R1: it names the rule in the Payouts notes and on the Rule trace sheet.",
        "规则的简短编号，例如 R1：奖金结果的说明和规则追踪表中用它指代该规则。",
    ),
    "condition": Text(
        'Who the rule applies to, e.g. tenure_days < 90, or department = "Sales" and '
        'attainment("REV") >= 110%. Blank: everyone.',
        '规则适用于哪些人，例如 司龄天数 < 90，或 部门 = "销售部" 且 达成率("REV") >= 110%。留空表示所有人。',
    ),
    "action": Text(
        "What the rule does: set_multiplier, scale_multiplier, add_score, cap_score, cap_payout, "
        "cap_payout_multiple (× target bonus), force_tier, ineligible.",
        "规则的动作：设定系数、系数乘以、加分、总分封顶、奖金封顶、奖金封顶倍数（× 目标奖金）、指定档位、不参与。",
    ),
}
SHEET_COLUMN_HELP: dict[tuple[str, str], Text] = {
    ("Employees", "name"): Text("Employee name.", "员工姓名。"),
    ("Scorecards", "employee_id"): Text("An id on the Employees sheet.", "员工表中的工号。"),
    ("Scorecards", "kpi_id"): Text("A KPI id on the KPIs sheet.", "指标库中的指标编号。"),
    ("Scorecards", "target"): Text(
        "Target for this employee. Blank: the KPI's budget line, else its default target.",
        "该员工的目标值。留空：取指标的预算科目，否则取默认目标值。",
    ),
    ("Tiers", "tier_table"): Text("Name of the tier table. Blank: default.", "档位表名称。留空为 default。"),
    ("Pools", "department"): Text(
        "A department of the Employees sheet. Used only when pool_mode is cap or scale.",
        "员工表中的部门。仅在奖金池模式为封顶或按池分配时使用。",
    ),
    ("Budget", "department"): Text("The department this budget line belongs to.", "该预算科目所属的部门。"),
    ("Budget", "actual"): Text("Actual amount: the actual of KPIs using this line.", "实际数：使用该科目的指标的实际值。"),
    ("Rules", "value"): Text(
        "The action's number: 1.1, 110%, 2 or a calculation such as 0.5 * target_bonus. force_tier: a tier "
        "label. ineligible: blank.",
        "动作的数值：1.1、110%、2，或计算式如 0.5 * 目标奖金。指定档位：填档位名称。不参与：留空。",
    ),
    ("Rules", "note"): Text(
        "Why the rule exists (shown on the Rule trace sheet). A row with only a note is a comment.",
        "规则的用途（显示在规则追踪表中）。只填说明的行视为注释。",
    ),
}
SHEET_COLUMN_HELP.update({
    ("Forecast", "kpi_id"): Text("The KPI whose year-end actual is uncertain.", "年末实际值不确定的指标。"),
    ("Forecast", "department"): Text(
        "Only this department's rows of the KPI. Blank: every department.", "仅该部门的此指标。留空：所有部门。"
    ),
    ("Forecast", "distribution"): Text(
        "normal (mean, sd) or triangular (low, most_likely, high), all as fractions of target: 1 = on target.",
        "正态（均值、标准差）或三角（最低、最可能、最高），均为目标值的倍数：1 = 恰好达标。",
    ),
})
COLUMN_HELP.update({
    "scenario": Text(
        "Name of the scenario; rows with the same name are one scenario, applied in sheet order.",
        "情景名称；同名的行属于同一情景，按表中顺序生效。",
    ),
    "applies_to": Text(
        "What changes: kpi (a KPI's results), department (its people's results), company_multiplier, "
        "or tier (a tier's multiplier).",
        "调整对象：指标（该指标的结果）、部门（该部门员工的结果）、公司系数，或档位（该档位的系数）。",
    ),
    "what": Text(
        "kpi: a KPI id; department: a department; tier: a tier label (table: label when two tables have it). "
        "Blank for company_multiplier.",
        "指标：指标编号；部门：部门名称；档位：档位名称（两个档位表同名时写 档位表: 档位）。公司系数留空。",
    ),
    "factor": Text(
        "A change: 1.1 = 10% better attainment (a lower-is-better actual is divided by it), or × the multiplier.",
        "调整系数：1.1 = 达成率提高 10%（反向指标的实际值除以该系数），或乘以系数。",
    ),
    "new_value": Text(
        "Instead of a factor: the KPI's new actual for every row, or the new multiplier.",
        "代替调整系数：该指标所有行的新实际值，或新的系数。",
    ),
    "mean": Text("normal: the expected actual as a fraction of target, e.g. 100%.", "正态：预期实际值占目标值的比例，如 100%。"),
    "sd": Text("normal: the standard deviation as a fraction of target, e.g. 8%.", "正态：标准差占目标值的比例，如 8%。"),
    "low": Text("triangular: the lowest actual as a fraction of target.", "三角：最低实际值占目标值的比例。"),
    "most_likely": Text("triangular: the most likely actual as a fraction of target.", "三角：最可能的实际值占目标值的比例。"),
    "high": Text("triangular: the highest actual as a fraction of target.", "三角：最高实际值占目标值的比例。"),
})
SETTING_HELP: dict[str, Text] = {
    "period_start": Text("First day of the bonus period.", "考核期第一天。"),
    "period_end": Text("Last day of the bonus period.", "考核期最后一天。"),
    "proration": Text(
        "none, or days: pay for the days employed within the period.",
        "无；或按天：按考核期内在职天数折算奖金。",
    ),
    "company_multiplier": Text("Multiplies every payout, e.g. 1.05.", "公司绩效系数，乘以每个人的奖金。"),
    "rounding": Text("Decimals of money amounts (0-6).", "奖金金额的小数位数（0-6）。"),
    "pool_mode": Text(
        "none; cap: scale a department down to its pool when over it; scale: pay out each pool exactly.",
        "无；封顶：部门奖金超过奖金池时按比例缩减；按池分配：每个部门恰好发完奖金池。",
    ),
    "tier_mode": Text(
        "step: the multiplier of the tier reached; linear: interpolated between tiers.",
        "阶梯：取所达档位的系数；线性：在档位之间插值。",
    ),
    "normalize_weights": Text(
        "yes: rescale weights that do not add up to 100% (with a warning); no: that is an error.",
        "是：权重合计不为 100% 时按比例调整（并提示警告）；否：视为错误。",
    ),
    "rule_policy": Text(
        "Rules sheet: all: every matching rule applies, in sheet order; first: at each stage only the first "
        "matching rule applies to a person.",
        "规则表：全部：所有符合条件的规则按表中顺序生效；首条：每个阶段只对每人执行第一条符合条件的规则。",
    ),
}
SETTING_HELP.update({
    "budget_tolerance": Text(
        "A scorecard target that differs from its KPI's budget line by more than this share is a warning.",
        "考核表中的目标值与指标预算科目的预算数相差超过该比例时给出警告。",
    ),
    "bonus_budget_line": Text(
        "The Budget line that holds each department's bonus budget, where the Pools sheet has none.",
        "预算表中记录各部门奖金预算的科目（奖金池表中没有该部门时使用）。",
    ),
})
SHEET_HELP: dict[str, Text] = {
    "Settings": Text("One setting a row; see the description column.", "每行一个设置项，说明见说明列。"),
}


def column_help(sheet: str, column: str) -> Text:
    return SHEET_COLUMN_HELP.get((sheet, column)) or COLUMN_HELP[column]


def column_format(sheet: str, column: str) -> str | None:
    return SHEET_COLUMN_FORMATS.get((sheet, column)) or COLUMN_FORMATS.get(column)


def template_columns(spec: SheetSpec) -> list[str]:
    """The columns a template sheet shows, in the contract's order."""
    return [c.key for c in spec.columns if (spec.key, c.key) not in OMITTED_COLUMNS]


# ------------------------------------------------------------------ writing sheets


def _localize(value: Any, language: str, enumeration: schema.Enumeration | None = None) -> Any:
    if isinstance(value, Text):
        return value(language)
    if enumeration is not None and isinstance(value, str):
        return enumeration.label(value, language)
    return value


def _shown(value: Any, number_format: str | None) -> str:
    """Roughly the text Excel shows for a value in a number format (for column widths)."""
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return "yyyy-mm-dd"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if number_format in (PERCENT, FINE_PERCENT):
            return f"{value * 100:.2f}%"
        decimals = {MONEY: 2, WHOLE_MONEY: 0, MULTIPLIER: 2, SCORE: 0}.get(number_format or "")
        if decimals is not None:
            return f"{value:,.{decimals}f}"
    return str(value)


def _display_width(text: str) -> int:
    """Characters of width a text needs (CJK characters count twice)."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _input_message(title: str, text: str) -> DataValidation:
    """A validation that accepts anything and only shows an input message."""
    return DataValidation(
        showInputMessage=True, promptTitle=title[:32], prompt=text[:255], allow_blank=True
    )


def _dropdown(enumeration: schema.Enumeration, language: str, title: str, text: str) -> DataValidation:
    choices = enumeration.choices(language)
    listed = ", ".join(choices)
    return DataValidation(
        type="list",
        formula1='"' + ",".join(choices) + '"',
        allow_blank=True,
        showInputMessage=True,
        promptTitle=title[:32],
        prompt=text[:255],
        showErrorMessage=True,
        errorStyle="warning",
        errorTitle=title[:32],
        error=(f"请选择：{listed}" if language == "zh" else f"Choose one of: {listed}")[:255],
    )


def _style_header(sheet: Worksheet, labels: Sequence[str]) -> None:
    for position, label in enumerate(labels, start=1):
        cell = sheet.cell(row=1, column=position, value=label)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = HEADER_ALIGNMENT
    sheet.freeze_panes = "A2"


def _set_widths(sheet: Worksheet, columns: Sequence[Sequence[str]], widest_allowed: int = MAX_WIDTH) -> None:
    """Width of each column from its widest shown text (header included), within limits."""
    for position, texts in enumerate(columns, start=1):
        widest = max((_display_width(t) for t in texts), default=0)
        width = max(MIN_WIDTH, min(widest_allowed, widest + 4))  # room for a dropdown arrow
        sheet.column_dimensions[get_column_letter(position)].width = width


def _add_table(book: Workbook, spec: SheetSpec, records: Sequence[Record], language: str) -> Worksheet:
    """One input sheet: header, records, formats, dropdowns and input messages."""
    sheet = book.create_sheet(spec.label(language))
    keys = template_columns(spec)
    labels = [spec.column(k).label(language) for k in keys]
    _style_header(sheet, labels)
    columns: list[list[str]] = [[label] for label in labels]
    for row, record in enumerate(records, start=2):
        unknown = set(record) - set(keys)
        if unknown:
            raise ValueError(f"{spec.key}: no such template columns {sorted(unknown)}")
        for position, key in enumerate(keys, start=1):
            value = record.get(key)
            number_format = column_format(spec.key, key)
            if isinstance(value, Formatted):
                value, number_format = value.value, value.number_format
            value = _localize(value, language, schema.ENUM_COLUMNS.get((spec.key, key)))
            if value is None:
                continue
            cell = sheet.cell(row=row, column=position, value=value)
            if number_format:
                cell.number_format = number_format
            columns[position - 1].append(_shown(value, number_format))
    for position, key in enumerate(keys, start=1):
        letter = get_column_letter(position)
        help_text = column_help(spec.key, key)(language)
        number_format = column_format(spec.key, key)
        if number_format:  # rows typed in later get the format too
            sheet.column_dimensions[letter].number_format = number_format
        enumeration = schema.ENUM_COLUMNS.get((spec.key, key))
        header = _input_message(labels[position - 1], help_text)
        header.add(f"{letter}1")
        sheet.add_data_validation(header)
        if enumeration is not None:
            dropdown = _dropdown(enumeration, language, labels[position - 1], help_text)
            dropdown.add(f"{letter}2:{letter}{LAST_ROW}")
            sheet.add_data_validation(dropdown)
    _set_widths(sheet, columns)
    for position, key in enumerate(keys, start=1):
        wanted = WIDE_COLUMNS.get((spec.key, key))
        dimension = sheet.column_dimensions[get_column_letter(position)]
        if wanted is not None and (dimension.width or 0) < wanted:
            dimension.width = wanted  # room to type a condition, even on an empty sheet
    return sheet


def _default_text(setting: schema.Setting, language: str) -> str:
    """The ' (default: none)' suffix of a setting's description."""
    default = setting.default
    if default is None:
        return "（无默认值）" if language == "zh" else " (no default)"
    if setting.enumeration is not None:
        shown = setting.enumeration.label(str(default), language)
    elif SETTING_KEY_FORMATS.get(setting.key) == PERCENT:
        shown = f"{default:.0%}"
    else:
        shown = f"{default:g}" if isinstance(default, float) else str(default)
    return f"（默认：{shown}）" if language == "zh" else f" (default: {shown})"


def _add_settings(book: Workbook, values: Mapping[str, Any], language: str) -> Worksheet:
    """The Settings sheet: a row for every setting, its value, and what it means.

    The third column (description) is not a contract column, so kpi_xl ignores it.
    """
    spec = schema.SETTINGS
    sheet = book.create_sheet(spec.label(language))
    labels = [
        spec.column("key").label(language),
        spec.column("value").label(language),
        DESCRIPTION(language),
    ]
    _style_header(sheet, labels)
    helps = [COLUMN_HELP["key"], COLUMN_HELP["value"], SHEET_HELP["Settings"]]
    for position, (label, help_text) in enumerate(zip(labels, helps), start=1):
        header = _input_message(label, help_text(language))
        header.add(f"{get_column_letter(position)}1")
        sheet.add_data_validation(header)
    columns: list[list[str]] = [[label] for label in labels]
    for row, setting in enumerate(schema.SETTINGS_KEYS, start=2):
        key = setting.zh if language == "zh" else setting.key
        value = values.get(setting.key, setting.default)
        if setting.enumeration is not None and value is not None:
            value = setting.enumeration.label(value, language)
        meaning = SETTING_HELP[setting.key](language)
        described = meaning + _default_text(setting, language)
        number_format = SETTING_KEY_FORMATS.get(setting.key) or SETTING_FORMATS.get(setting.kind, "General")
        sheet.cell(row=row, column=1, value=key)
        value_cell = sheet.cell(row=row, column=2, value=value)
        value_cell.number_format = number_format
        sheet.cell(row=row, column=3, value=described)
        if setting.enumeration is not None:
            dropdown = _dropdown(setting.enumeration, language, key, meaning)
            dropdown.add(value_cell.coordinate)
            sheet.add_data_validation(dropdown)
        for texts, shown in zip(columns, (key, _shown(value, number_format), described)):
            texts.append(shown)
    _set_widths(sheet, columns, widest_allowed=SETTINGS_DESCRIPTION_WIDTH)
    return sheet


def _book(
    tables: Mapping[str, Sequence[Record]], settings: Mapping[str, Any], language: str
) -> Workbook:
    """A workbook with every input sheet of the contract, in the contract's order."""
    if language not in schema.LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(schema.LANGUAGES)}, not {language!r}")
    book = Workbook()
    book.remove(book.active)
    for spec in schema.INPUT_SHEETS:
        if spec is schema.SETTINGS:
            _add_settings(book, settings, language)
        else:
            _add_table(book, spec, tables.get(spec.key, ()), language)
    book.active = 0
    book.properties.creator = "kpi_xl"
    book.properties.created = FIXED_TIME
    book.properties.modified = FIXED_TIME
    return book


def _with_unit(value: Any, unit: str | Text | None) -> Any:
    """The value with the number format its unit calls for (USD: money, %: percent)."""
    name = unit.en if isinstance(unit, Text) else unit
    number_format = UNIT_FORMATS.get(name or "")
    return Formatted(value, number_format) if number_format and value is not None else value


def _records(columns: str, *rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Rows as records: ``_records("kpi_id name", ("REV", "Revenue"))``."""
    keys = columns.split()
    return [dict(zip(keys, row, strict=True)) for row in rows]


# ------------------------------------------------------------------ the template

_YEAR = 2026
_PERIOD = {"period_start": dt.date(_YEAR, 1, 1), "period_end": dt.date(_YEAR, 12, 31)}

_MONEY_UNIT = Text("USD", "元")
_CURRENCY = Text("USD", "CNY")
_SALES = Text("Sales", "销售部")
_OPERATIONS = Text("Operations", "运营部")
_FROM_BUDGET = Text("target and actual from the Budget sheet", "目标值和实际值取自预算表")
_OPEX_ACCOUNT = Text("6000 Operating expenses", "6000 运营费用")
_DEFAULT = schema.DEFAULT_TIER_TABLE


def _template_tables() -> dict[str, list[dict[str, Any]]]:
    """Small, mutually consistent example rows for the template (they score cleanly).

    Four KPIs show linear (higher and lower, one from a budget line), step with
    a curve, and a binary gate; three employees, one a joiner during the period.
    Pools stays empty: pool_mode is 'none' by default, and pools apply only with
    cap or scale (a filled Pools sheet with pool_mode none draws a warning).
    """
    kpis = _records(
        "kpi_id name direction method threshold stretch curve gate target budget_line "
        "perspective level parent_kpi unit",
        ("REV", Text("Revenue", "销售收入"), "higher", "linear", 0.8, 1.2, None, "no", None, None,
         Text("Financial", "财务"), Text("department", "部门"), None, _MONEY_UNIT),
        ("OPEX", Text("Operating expenses", "运营费用"), "lower", "linear", 0.9, 1.1, None, "no", None, "OPEX",
         Text("Financial", "财务"), Text("department", "部门"), None, _MONEY_UNIT),
        ("CSAT", Text("Customer satisfaction", "客户满意度"), "higher", "step", None, None, "CSAT", "no", 4.5, None,
         Text("Customer", "客户"), Text("individual", "个人"), "REV", Text("points (1-5)", "分（1-5）")),
        ("AUDIT", Text("Compliance audit passed", "合规审计通过"), "higher", "binary", None, None, None, "yes", 1,
         None, Text("Internal Process", "内部流程"), Text("individual", "个人"), "OPEX", Text("1 = passed", "1 = 通过")),
    )
    units = {k["kpi_id"]: k["unit"] for k in kpis}
    for kpi in kpis:
        kpi["target"] = _with_unit(kpi["target"], kpi["unit"])
    scorecards = _records(
        "employee_id kpi_id weight target actual comment",
        (1001, "REV", 0.5, 1_200_000, 1_310_000, None),
        (1001, "CSAT", 0.3, None, 4.6, None),
        (1001, "AUDIT", 0.2, None, 1, None),
        (1002, "REV", 0.4, 900_000, 850_000, None),
        (1002, "OPEX", 0.4, None, None, _FROM_BUDGET),
        (1002, "AUDIT", 0.2, None, 1, None),
        (1003, "OPEX", 0.6, None, None, _FROM_BUDGET),
        (1003, "CSAT", 0.4, None, 4.2, None),
    )
    for row in scorecards:
        unit = units[row["kpi_id"]]
        row["target"], row["actual"] = _with_unit(row["target"], unit), _with_unit(row["actual"], unit)
    return {
        "KPIs": kpis,
        "Curves": _records("curve_id attainment score", ("CSAT", 0.8, 50), ("CSAT", 1.0, 100), ("CSAT", 1.1, 150)),
        "Employees": _records(
            "employee_id name department base_salary target_bonus_pct hire_date termination_date eligible "
            "tier_table manager grade currency",
            (1001, Text("Alice Martin", "张伟"), _SALES, 80_000, 0.15, dt.date(2019, 3, 1), None, "yes",
             _DEFAULT, 1002, "P3", _CURRENCY),
            (1002, Text("Bruno Silva", "李娜"), _SALES, 120_000, 0.2, dt.date(2016, 9, 12), None, "yes",
             _DEFAULT, None, "M2", _CURRENCY),
            (1003, Text("Chen Jing", "王芳"), _OPERATIONS, 65_000, 0.1, dt.date(_YEAR, 4, 1), None, "yes",
             _DEFAULT, 1002, "P2", _CURRENCY),
        ),
        "Scorecards": scorecards,
        "Tiers": _records(
            "tier_table min_score multiplier label",
            (_DEFAULT, 0, 0, Text("Below expectations", "未达标")),
            (_DEFAULT, 60, 0.5, Text("Partially meets", "部分达标")),
            (_DEFAULT, 90, 1, Text("Meets", "达标")),
            (_DEFAULT, 120, 1.5, Text("Exceeds", "超出预期")),
        ),
        "Pools": [],
        "Budget": _records(
            "line_id department account budget actual",
            ("OPEX", _SALES, _OPEX_ACCOUNT, 400_000, 385_000),
            ("OPEX", _OPERATIONS, _OPEX_ACCOUNT, 650_000, 671_500),
        ),
        "Rules": [],  # headers, the action dropdown and input messages; rules are the plan's own
        "Scenarios": _records(
            "scenario applies_to what factor new_value comment",
            (Text("Revenue +10%", "收入增长10%"), "kpi", "REV", Formatted(1.1, PERCENT), None, None),
            (Text("Weak year", "业绩不佳"), "company_multiplier", None, None, Formatted(0.8, MULTIPLIER),
             Text("company multiplier 0.8", "公司系数 0.8")),
            (Text("Weak year", "业绩不佳"), "department", _OPERATIONS, Formatted(0.9, PERCENT), None,
             Text("Operations 10% below plan", "运营部低于计划 10%")),
        ),
    }


def build_template(language: str = "en") -> Workbook:
    """A template for HR: every input sheet, headers in the language, examples and dropdowns.

    ``language`` is ``"en"`` or ``"zh"`` (Chinese sheet names, headers, setting
    keys and enumerated values).  Settings hold every key at its default (the
    period set to the calendar year); the example rows score without problems.
    """
    return _book(_template_tables(), _PERIOD, language)


# ------------------------------------------------------------------ the example company

PERSPECTIVES = ("Financial", "Customer", "Internal Process", "Learning & Growth")
LEVELS = ("company", "department", "individual")
FINANCIAL, CUSTOMER, PROCESS, LEARNING = PERSPECTIVES
COMPANY, DEPARTMENT, INDIVIDUAL = LEVELS

EXAMPLE_SETTINGS: dict[str, Any] = {
    **_PERIOD,
    "proration": "days",
    "company_multiplier": 1.05,
    "rounding": 2,
    "pool_mode": "cap",
    "tier_mode": "step",
    "normalize_weights": "no",
    "rule_policy": "all",
}


def _kpi(
    kpi_id: str,
    name: str,
    perspective: str,
    level: str,
    parent: str | None,
    direction: str,
    method: str,
    unit: str,
    *,
    threshold: float | None = None,
    stretch: float | None = None,
    curve: str | None = None,
    gate: str = "no",
    target: float | None = None,
    budget_line: str | None = None,
) -> dict[str, Any]:
    return {
        "kpi_id": kpi_id,
        "name": name,
        "direction": direction,
        "method": method,
        "threshold": threshold,
        "stretch": stretch,
        "curve": curve,
        "gate": gate,
        "target": _with_unit(target, unit),
        "budget_line": budget_line,
        "perspective": perspective,
        "level": level,
        "parent_kpi": parent,
        "unit": unit,
    }


EXAMPLE_KPIS: list[dict[str, Any]] = [
    # company level: carried by the department heads
    _kpi("CO_REV", "Company revenue", FINANCIAL, COMPANY, None, "higher", "linear", "USD",
         threshold=0.8, stretch=1.2, target=48_000_000),
    _kpi("CO_MARGIN", "Operating margin", FINANCIAL, COMPANY, None, "higher", "linear", "%",
         curve="MARGIN", target=0.12),
    _kpi("CO_NPS", "Net promoter score", CUSTOMER, COMPANY, None, "higher", "step", "points",
         curve="STEPS", target=45),
    _kpi("CO_AUDIT", "Clean external audit", PROCESS, COMPANY, None, "higher", "binary", "1 = clean",
         target=1),
    _kpi("CO_ENGAGE", "Employee engagement", LEARNING, COMPANY, None, "higher", "linear", "%",
         threshold=0.9, stretch=1.1, target=0.75),
    # department level
    _kpi("DP_BOOKINGS", "Sales bookings", FINANCIAL, DEPARTMENT, "CO_REV", "higher", "linear", "USD",
         threshold=0.8, stretch=1.2, budget_line="BOOKINGS"),
    _kpi("DP_OPEX", "Department operating expenses", FINANCIAL, DEPARTMENT, "CO_MARGIN", "lower", "linear", "USD",
         threshold=0.9, stretch=1.1, budget_line="OPEX"),
    _kpi("DP_ONTIME", "On-time delivery", CUSTOMER, DEPARTMENT, "CO_NPS", "higher", "linear", "%",
         curve="ONTIME", target=0.96),
    _kpi("DP_CLOSE", "Month-end close", PROCESS, DEPARTMENT, "CO_MARGIN", "lower", "linear", "days",
         threshold=0.8, stretch=1.2, target=6),
    _kpi("DP_ATTRITION", "Regretted attrition", LEARNING, DEPARTMENT, "CO_ENGAGE", "lower", "linear", "%",
         threshold=0.8, stretch=1.2, target=0.08),
    # individual level
    _kpi("IN_QUOTA", "Quota attainment", FINANCIAL, INDIVIDUAL, "DP_BOOKINGS", "higher", "linear", "USD",
         curve="QUOTA"),
    _kpi("IN_NEWLOGOS", "New customers won", CUSTOMER, INDIVIDUAL, "DP_BOOKINGS", "higher", "linear", "customers",
         threshold=0.5, stretch=1.5, target=12),
    _kpi("IN_FORECAST", "Forecast accuracy (within ±5%)", PROCESS, INDIVIDUAL, "DP_BOOKINGS", "higher", "step",
         "USD", curve="BAND"),
    _kpi("IN_CSAT", "Customer satisfaction", CUSTOMER, INDIVIDUAL, "CO_NPS", "higher", "step", "points (1-5)",
         curve="STEPS", target=4.5),
    _kpi("IN_ORDERS", "Orders processed", PROCESS, INDIVIDUAL, "DP_ONTIME", "higher", "linear", "orders",
         threshold=0.8, stretch=1.2, target=14_000),
    _kpi("IN_DEFECTS", "Defect rate", PROCESS, INDIVIDUAL, "DP_ONTIME", "lower", "linear", "%",
         threshold=0.7, stretch=1.3, target=0.02),
    _kpi("IN_CLOSE_TASKS", "Close tasks on time", PROCESS, INDIVIDUAL, "DP_CLOSE", "higher", "linear", "%",
         threshold=0.9, stretch=1.05, target=0.95),
    _kpi("IN_REPORT_ERRORS", "Reporting errors", PROCESS, INDIVIDUAL, "DP_CLOSE", "lower", "linear", "errors",
         threshold=0.8, stretch=1.5, target=4),
    _kpi("IN_TIME_TO_FILL", "Time to fill vacancies", PROCESS, INDIVIDUAL, "DP_ATTRITION", "lower", "linear",
         "days", threshold=0.8, stretch=1.2, target=45),
    _kpi("IN_TRAINING", "Training hours", LEARNING, INDIVIDUAL, "CO_ENGAGE", "higher", "linear", "hours",
         threshold=0.75, stretch=1.25, target=40),
    _kpi("IN_COMPLIANCE", "Compliance audit passed", PROCESS, INDIVIDUAL, "CO_AUDIT", "higher", "binary",
         "1 = passed", gate="yes", target=1),
    _kpi("IN_ASSESSMENT", "Manager assessment", LEARNING, INDIVIDUAL, "CO_ENGAGE", "higher", "direct", "score"),
]
_KPI_BY_ID: dict[str, dict[str, Any]] = {k["kpi_id"]: k for k in EXAMPLE_KPIS}

EXAMPLE_CURVES: dict[str, list[tuple[float, float]]] = {
    "QUOTA": [(0.5, 0), (0.8, 50), (1.0, 100), (1.2, 160), (1.5, 200)],  # linear, accelerating
    "MARGIN": [(0.9, 50), (1.0, 100), (1.1, 130)],  # linear
    "ONTIME": [(0.9, 0), (0.95, 60), (1.0, 100), (1.03, 150)],  # linear
    "STEPS": [(0.8, 50), (0.9, 75), (1.0, 100), (1.1, 125), (1.2, 150)],  # step
    "BAND": [(0.0, 0), (0.95, 100), (1.05, 0)],  # step: a range target, within ±5% of plan
}

EXAMPLE_TIERS: dict[str, list[tuple[float, float, str]]] = {
    schema.DEFAULT_TIER_TABLE: [
        (0, 0, "Below expectations"),
        (60, 0.5, "Partially meets"),
        (90, 1.0, "Meets"),
        (110, 1.25, "Exceeds"),
        (130, 1.5, "Outstanding"),
    ],
    "sales": [
        (0, 0, "Below plan"),
        (70, 0.6, "Partial plan"),
        (95, 1.0, "On plan"),
        (115, 1.5, "Over plan"),
        (140, 2.0, "President's club"),
    ],
}

# The KPIs of each role with their weights (in floats their sum is 1 within 1e-15).
ROLES: dict[str, list[tuple[str, float]]] = {
    "Sales head": [
        ("CO_REV", 0.3), ("DP_BOOKINGS", 0.3), ("CO_NPS", 0.15), ("DP_OPEX", 0.15), ("IN_ASSESSMENT", 0.1),
    ],
    "Sales staff": [
        ("IN_QUOTA", 0.4), ("IN_NEWLOGOS", 0.2), ("IN_FORECAST", 0.15), ("IN_CSAT", 0.15), ("IN_COMPLIANCE", 0.1),
    ],
    "Operations head": [
        ("CO_NPS", 0.25), ("DP_ONTIME", 0.3), ("DP_OPEX", 0.2), ("DP_ATTRITION", 0.15), ("IN_ASSESSMENT", 0.1),
    ],
    "Operations staff": [
        ("IN_ORDERS", 0.35), ("IN_DEFECTS", 0.25), ("DP_ONTIME", 0.2), ("IN_COMPLIANCE", 0.1),
        ("IN_TRAINING", 0.1),
    ],
    "Finance head": [
        ("CO_MARGIN", 0.3), ("CO_AUDIT", 0.2), ("DP_CLOSE", 0.2), ("DP_OPEX", 0.2), ("IN_ASSESSMENT", 0.1),
    ],
    "Finance staff": [
        ("IN_CLOSE_TASKS", 0.3), ("IN_REPORT_ERRORS", 0.3), ("IN_COMPLIANCE", 0.2), ("IN_TRAINING", 0.1),
        ("IN_ASSESSMENT", 0.1),
    ],
    "People head": [("CO_ENGAGE", 0.4), ("DP_ATTRITION", 0.3), ("DP_OPEX", 0.2), ("IN_ASSESSMENT", 0.1)],
    "People staff": [
        ("IN_TIME_TO_FILL", 0.4), ("IN_TRAINING", 0.2), ("IN_ASSESSMENT", 0.2), ("IN_COMPLIANCE", 0.2),
    ],
}

# Department -> (head, staff): 12 + 12 + 8 + 8 = 40 people, ids from 1001 in this order.
STAFF: dict[str, tuple[str, list[str]]] = {
    "Sales": ("Margaret Okafor", [
        "Daniel Weber", "Priya Raman", "Lucas Moreau", "Hannah Schmidt", "Kenji Watanabe", "Sofia Rossi",
        "Omar Haddad", "Emily Clarke", "Mateo García", "Chloe Dubois", "Ethan Brooks",
    ]),
    "Operations": ("Viktor Novak", [
        "Grace Liu", "Samuel Adeyemi", "Isabel Costa", "Noah Fischer", "Amara Nwosu", "Jonas Berg",
        "Leila Karimi", "Tomás Silva", "Yuki Tanaka", "Oliver Grant", "Fatima Zahra",
    ]),
    "Finance": ("Catherine Walsh", [
        "Rahul Mehta", "Anna Kowalska", "David Kim", "Elena Petrova", "Marcus Johnson", "Ingrid Larsen",
        "Wei Zhang",
    ]),
    "People": ("Aisha Bello", [
        "Julia Becker", "Carlos Mendes", "Nadia Rahman", "Peter Lindqvist", "Mei Chen", "George Harris",
        "Laura Vidal",
    ]),
}
DEPARTMENTS = tuple(STAFF)
FIRST_ID = 1001

# Grade -> (salary band, target bonus % outside Sales); Sales: 25% for the head, 20% for reps.
GRADES: dict[str, tuple[tuple[int, int], float]] = {
    "M3": ((150_000, 190_000), 0.2),
    "P4": ((100_000, 120_000), 0.15),
    "P3": ((80_000, 100_000), 0.12),
    "P2": ((62_000, 80_000), 0.1),
    "P1": ((50_000, 62_000), 0.08),
}
STAFF_GRADES = ("P4", "P3", "P3", "P2", "P2", "P1")

# Joiners, leavers and the one person not eligible for a bonus (by employee id).
HIRES: dict[int, dt.date] = {
    1011: dt.date(_YEAR, 4, 1),
    1022: dt.date(_YEAR, 7, 15),
    1040: dt.date(_YEAR, 3, 2),
    1039: dt.date(_YEAR, 10, 12),  # 81 days by the end of the year: rule R1 makes them ineligible
}
TERMINATIONS: dict[int, dt.date] = {1008: dt.date(_YEAR, 9, 30), 1030: dt.date(_YEAR, 5, 31)}
INELIGIBLE: frozenset[int] = frozenset({1012})  # a sales rep on a commission-only plan

# Company and department results: the same actual for everyone who carries the KPI.
SHARED_ACTUALS: dict[str, float] = {
    "CO_REV": 49_300_000,
    "CO_MARGIN": 0.126,
    "CO_NPS": 47,
    "CO_AUDIT": 1,
    "CO_ENGAGE": 0.78,
    "DP_ONTIME": 0.955,
    "DP_CLOSE": 5,
}
ATTRITION: dict[str, float] = {"Operations": 0.095, "People": 0.07}  # DP_ATTRITION by department
OPEX_BUDGET: dict[str, tuple[int, int]] = {  # department -> (budget, actual) of budget line OPEX
    "Sales": (2_400_000, 2_518_000),
    "Operations": (3_800_000, 3_652_000),
    "Finance": (1_200_000, 1_200_000),
    "People": (900_000, 957_000),
}
# Pools: Sales is over its pool (every Sales payout is scaled down); the others are not.
EXAMPLE_POOLS: dict[str, int] = {"Sales": 140_000, "Operations": 150_000, "Finance": 110_000, "People": 125_000}

# Individual results drawn around the target: KPI -> (spread of attainment, decimals of the actual).
SPREAD: dict[str, tuple[float, int]] = {
    "IN_QUOTA": (0.18, -4),
    "IN_NEWLOGOS": (0.3, 0),
    "IN_CSAT": (0.07, 1),
    "IN_ORDERS": (0.14, 0),
    "IN_DEFECTS": (0.2, 4),
    "IN_CLOSE_TASKS": (0.04, 3),
    "IN_REPORT_ERRORS": (0.35, 0),
    "IN_TIME_TO_FILL": (0.18, 0),
    "IN_TRAINING": (0.22, 0),
}
# Hand-placed cases so that every scoring rule shows up: (employee, KPI) -> attainment.
FORCED_ATTAINMENT: dict[tuple[int, str], float] = {
    (1003, "IN_QUOTA"): 1.0,  # exactly on target
    (1005, "IN_QUOTA"): 0.45,  # below the curve's first point
    (1006, "IN_QUOTA"): 1.6,  # above the curve's last point
    (1004, "IN_NEWLOGOS"): 1.0,
    (1009, "IN_NEWLOGOS"): 0.4,  # below threshold
    (1015, "IN_ORDERS"): 1.0,
    (1016, "IN_ORDERS"): 1.3,  # above stretch
    (1017, "IN_ORDERS"): 0.75,  # below threshold
    (1018, "IN_DEFECTS"): 1.0,
    (1027, "IN_REPORT_ERRORS"): 1.0,
    (1034, "IN_TIME_TO_FILL"): 1.0,
}
# The plan's rules (see docs/workbook.md, "Rules sheet"), applied in this order.
EXAMPLE_RULES: list[tuple[Any, ...]] = [
    ("R1", "tenure_days < 90", "ineligible", None,
     "Joiners with less than 90 days of service at the end of the year get no bonus."),
    ("R2", 'department = "Sales" and attainment("IN_QUOTA") >= 110%', "scale_multiplier", Formatted(1.1, PERCENT),
     "Sales accelerator: ×1.1 for reps at 110% of quota or more."),
    ("R3", None, "cap_payout_multiple", 2,
     "Nobody is paid more than twice their target bonus."),
    ("R4", 'tier_table = "default" and score("IN_ASSESSMENT") < 85 and multiplier > 0.5', "force_tier",
     "Partially meets", "A 'needs improvement' assessment (below 85) caps the tier at Partially meets."),
    ("R5", 'actual("CO_NPS") < 30 and not attainment("CO_REV") > 100%', "scale_multiplier", Formatted(0.75, PERCENT),
     "Customer guard rail: ×0.75 if NPS falls below 30, unless revenue beats plan."),
]
# kpi-xl simulate: how the year could end, as fractions of target (docs/workbook.md, "Forecast sheet").
EXAMPLE_FORECAST: list[tuple[Any, ...]] = [
    ("CO_REV", None, "normal", Formatted(1.0, PERCENT), Formatted(0.08, PERCENT), None, None, None),
    ("IN_QUOTA", "Sales", "normal", Formatted(1.02, PERCENT), Formatted(0.12, PERCENT), None, None, None),
    ("CO_MARGIN", None, "triangular", None, None, Formatted(0.8, PERCENT), Formatted(1.0, PERCENT),
     Formatted(1.15, PERCENT)),
    ("IN_ORDERS", None, "triangular", None, None, Formatted(0.85, PERCENT), Formatted(1.0, PERCENT),
     Formatted(1.2, PERCENT)),
]
# kpi-xl whatif: the plan under other year-ends and other plan parameters (docs/workbook.md, "Scenarios sheet").
EXAMPLE_SCENARIOS: list[tuple[Any, ...]] = [
    ("Orders +5%", "kpi", "IN_ORDERS", Formatted(1.05, PERCENT), None, "every order count 5% higher"),
    ("Sales 10% lower", "department", "Sales", Formatted(0.9, PERCENT), None,
     "every Sales result 10% worse (costs 10% higher)"),
    ("No company uplift", "company_multiplier", None, None, Formatted(1.0, MULTIPLIER), "company multiplier 1.00"),
    ("Richer Exceeds tier", "tier", "Exceeds", None, Formatted(1.4, MULTIPLIER), "default table: 1.25 -> 1.40"),
    ("Richer Exceeds tier", "tier", "sales: Over plan", Formatted(1.1, PERCENT), None, "sales table: 1.5 x 1.1"),
    ("Downside", "kpi", "CO_REV", Formatted(0.9, PERCENT), None, None),
    ("Downside", "kpi", "CO_MARGIN", None, Formatted(0.1, FINE_PERCENT), "operating margin 10%"),
    ("Downside", "company_multiplier", None, None, Formatted(0.9, MULTIPLIER), None),
]
FORECAST_RATIO: dict[int, float] = {1004: 1.08, 1010: 0.93}  # forecasts outside the ±5% band
FAILED_COMPLIANCE: frozenset[int] = frozenset({1019})  # the gate fails: no bonus
ASSESSMENTS: dict[int, int] = {1001: 100, 1013: 100, 1025: 135, 1036: 60}  # the rest are drawn
FROM_BUDGET = _FROM_BUDGET.en


def _draw(rng: random.Random) -> float:
    """A bell-shaped number in [-1, 1]: the mean of three uniforms, rescaled.

    Only ``Random.random`` is used: its sequence for a seed is stable across
    Python versions, unlike ``gauss`` or ``choice``.
    """
    return (rng.random() + rng.random() + rng.random()) / 1.5 - 1.0


def _actual_for(target: float, attainment: float, direction: str, decimals: int) -> float:
    """The actual that gives an attainment, rounded as people would report it."""
    value = round(target * attainment if direction == "higher" else target / attainment, decimals)
    return int(value) if decimals <= 0 else value


def _example_people(rng: random.Random) -> list[dict[str, Any]]:
    """Employees, with a 'role' key (not a sheet column) that picks their KPIs."""
    people: list[dict[str, Any]] = []
    employee_id = FIRST_ID
    for department, (head, staff) in STAFF.items():
        head_id = employee_id
        for name in [head, *staff]:
            is_head = employee_id == head_id
            grade = "M3" if is_head else STAFF_GRADES[int(rng.random() * len(STAFF_GRADES))]
            (low, high), bonus_pct = GRADES[grade]
            if department == "Sales":
                bonus_pct = 0.25 if is_head else 0.2
            hired = dt.date(2012 + int(rng.random() * 13), 1 + int(rng.random() * 12), 1)
            people.append({
                "employee_id": employee_id,
                "name": name,
                "department": department,
                "base_salary": int(round(low + rng.random() * (high - low), -3)),
                "target_bonus_pct": bonus_pct,
                "hire_date": HIRES.get(employee_id, hired),
                "termination_date": TERMINATIONS.get(employee_id),
                "eligible": "no" if employee_id in INELIGIBLE else "yes",
                "tier_table": "sales" if department == "Sales" else schema.DEFAULT_TIER_TABLE,
                "manager": None if is_head else head_id,
                "grade": grade,
                "currency": "USD",
                "role": f"{department} {'head' if is_head else 'staff'}",
            })
            employee_id += 1
    return people


def _scorecard_row(employee_id: int, kpi_id: str, weight: float, target: Any = None, actual: Any = None,
                   comment: str | None = None) -> dict[str, Any]:
    unit = _KPI_BY_ID[kpi_id]["unit"]
    return {
        "employee_id": employee_id,
        "kpi_id": kpi_id,
        "weight": weight,
        "target": _with_unit(target, unit),
        "actual": _with_unit(actual, unit),
        "comment": comment,
    }


def _example_scorecards(
    rng: random.Random, people: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Scorecard rows for everyone, and the Budget sheet (bookings add up from the reps' quotas)."""
    rows: list[dict[str, Any]] = []
    bookings_target = bookings_actual = 0
    for person in people:
        pid = person["employee_id"]
        realised = 0  # a rep's bookings: the target their forecast is measured against
        for kpi_id, weight in ROLES[person["role"]]:
            kpi = _KPI_BY_ID[kpi_id]
            if kpi_id in SHARED_ACTUALS:
                row = _scorecard_row(pid, kpi_id, weight, actual=SHARED_ACTUALS[kpi_id])
            elif kpi_id == "DP_ATTRITION":
                row = _scorecard_row(pid, kpi_id, weight, actual=ATTRITION[person["department"]])
            elif kpi["budget_line"] is not None:
                row = _scorecard_row(pid, kpi_id, weight, comment=FROM_BUDGET)
            elif kpi_id == "IN_QUOTA":
                quota = int(round(1_800_000 + rng.random() * 1_200_000, -5))
                attainment = FORCED_ATTAINMENT.get((pid, kpi_id), 1.0 + SPREAD[kpi_id][0] * _draw(rng))
                realised = int(_actual_for(quota, attainment, "higher", SPREAD[kpi_id][1]))
                bookings_target += quota
                bookings_actual += realised
                row = _scorecard_row(pid, kpi_id, weight, target=quota, actual=realised)
            elif kpi_id == "IN_FORECAST":
                forecast = int(round(realised * FORECAST_RATIO.get(pid, 1.0 + 0.04 * _draw(rng)), -4))
                row = _scorecard_row(pid, kpi_id, weight, target=realised, actual=forecast,
                                     comment="target: realised bookings; actual: the forecast made in Q1")
            elif kpi_id == "IN_COMPLIANCE":
                failed = pid in FAILED_COMPLIANCE
                row = _scorecard_row(pid, kpi_id, weight, actual=0 if failed else 1,
                                     comment="failed the data-protection audit" if failed else None)
            elif kpi_id == "IN_ASSESSMENT":
                drawn = 5 * round((100 + 25 * _draw(rng)) / 5)
                row = _scorecard_row(pid, kpi_id, weight, actual=ASSESSMENTS.get(pid, drawn))
            else:
                spread, decimals = SPREAD[kpi_id]
                attainment = FORCED_ATTAINMENT.get((pid, kpi_id), 1.0 + spread * _draw(rng))
                target = kpi["target"].value if isinstance(kpi["target"], Formatted) else kpi["target"]
                actual = _actual_for(target, attainment, kpi["direction"], decimals)
                row = _scorecard_row(pid, kpi_id, weight, actual=actual)
            rows.append(row)
    budget = _records(
        "line_id department account budget actual",
        ("BOOKINGS", "Sales", "4000 Revenue", bookings_target, bookings_actual),
        *(("OPEX", department, _OPEX_ACCOUNT.en, plan, spent) for department, (plan, spent)
          in OPEX_BUDGET.items()),
    )
    return rows, budget


def build_example_company() -> Workbook:
    """A worked example (English): 40 people in Sales, Operations, Finance and People.

    Balanced-scorecard KPIs in all four perspectives cascade company ->
    department -> individual; every scoring method is used (linear with
    threshold/stretch and with a curve, step with a curve and a range band,
    binary, direct), with higher- and lower-is-better KPIs, a gate
    (IN_COMPLIANCE), budget lines (BOOKINGS, OPEX), proration by days with
    joiners and leavers, a capped pool that binds for Sales, two tier tables and
    a company multiplier of 1.05.  Deterministic: the same workbook every run.
    """
    rng = random.Random(_YEAR)
    people = _example_people(rng)
    scorecards, budget = _example_scorecards(rng, people)
    tables: dict[str, list[dict[str, Any]]] = {
        "KPIs": EXAMPLE_KPIS,
        "Curves": _records(
            "curve_id attainment score", *((c, x, y) for c, points in EXAMPLE_CURVES.items() for x, y in points)
        ),
        "Employees": [{k: v for k, v in p.items() if k != "role"} for p in people],
        "Scorecards": scorecards,
        "Tiers": _records(
            "tier_table min_score multiplier label",
            *((table, *tier) for table, tiers in EXAMPLE_TIERS.items() for tier in tiers),
        ),
        "Pools": _records("department pool", *EXAMPLE_POOLS.items()),
        "Budget": budget,
        "Rules": _records("rule_id condition action value note", *EXAMPLE_RULES),
        "Forecast": _records("kpi_id department distribution mean sd low most_likely high", *EXAMPLE_FORECAST),
        "Scenarios": _records("scenario applies_to what factor new_value comment", *EXAMPLE_SCENARIOS),
    }
    return _book(tables, EXAMPLE_SETTINGS, "en")


# ------------------------------------------------------------------ saving

ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def reproducible_bytes(book: Workbook) -> bytes:
    """The workbook as .xlsx bytes that depend on its content only.

    openpyxl stamps the save time into docProps/core.xml and into the zip
    entries; both are replaced by fixed times here.
    """
    from openpyxl.xml.functions import tostring

    saved = io.BytesIO()
    book.save(saved)
    book.properties.modified = book.properties.created or FIXED_TIME
    core = tostring(book.properties.to_tree())
    packed = io.BytesIO()
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = core if info.filename == "docProps/core.xml" else source.read(info.filename)
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, data)
    return packed.getvalue()


def save_reproducibly(book: Workbook, destination: str | Path) -> Path:
    """Save a workbook reproducibly, replacing destination in one step."""
    destination = Path(destination)
    temporary = destination.with_name(f".{destination.name}.tmp")
    temporary.write_bytes(reproducible_bytes(book))
    os.replace(temporary, destination)
    return destination


def generated_books() -> dict[str, Workbook]:
    """File name -> workbook, for every file write_templates writes."""
    books = {name: build_template(language) for language, name in TEMPLATE_FILES.items()}
    books[EXAMPLE_FILE] = build_example_company()
    return books


def write_templates(directory: str | Path = DEFAULT_DIRECTORY) -> list[Path]:
    """Write kpi_template_en.xlsx, kpi_template_zh.xlsx and example_company.xlsx into directory."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return [save_reproducibly(book, directory / name) for name, book in generated_books().items()]


USAGE = "usage: python -m kpi_xl.templates [DIRECTORY]   (default: the repository's templates/ folder)"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m kpi_xl.templates [DIR]``: regenerate the template files."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if len(args) > 1 or any(a.startswith("-") for a in args):
        print(USAGE, file=sys.stderr)
        return 2
    for path in write_templates(Path(args[0]) if args else DEFAULT_DIRECTORY):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
