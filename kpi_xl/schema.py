"""The one place that names sheets, columns, enumerated values and their aliases.

Everything else in kpi_xl refers to sheets and columns by their canonical
English key (``"Scorecards"``, ``"employee_id"``) and asks this module for the
name to show in a given language.  Matching follows the workbook contract:
case-insensitive, and a space, a hyphen and an underscore are the same
character.
"""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES = ("en", "zh")


def normalize(text: object) -> str:
    """Fold a sheet name, header or enumerated value for matching."""
    folded = str(text).strip().lower()
    return folded.replace(" ", "_").replace("-", "_")


@dataclass(frozen=True)
class Column:
    key: str
    required: bool = False

    @property
    def zh(self) -> str:
        return COLUMN_ZH[self.key]

    def label(self, language: str) -> str:
        return self.zh if language == "zh" else self.key


@dataclass(frozen=True)
class NamedColumn(Column):
    """A column whose header is not a fixed contract name (one column per
    scenario on the Scenario results sheet): its labels and number format
    travel with it."""

    en: str = ""
    zh_label: str = ""
    number_format: str | None = None

    @property
    def zh(self) -> str:
        return self.zh_label

    def label(self, language: str) -> str:
        return self.zh_label if language == "zh" else self.en


@dataclass(frozen=True)
class SheetSpec:
    key: str
    zh: str
    columns: tuple[Column, ...]
    required: bool = False

    def label(self, language: str) -> str:
        return self.zh if language == "zh" else self.key

    def column(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns if c.required)


# Chinese alias of every column, input and output (the contract's table).
COLUMN_ZH: dict[str, str] = {
    "key": "项目",
    "value": "值",
    "kpi_id": "指标编号",
    "name": "名称",
    "direction": "指标方向",
    "method": "计分方式",
    "threshold": "门槛值",
    "stretch": "挑战值",
    "threshold_score": "门槛分",
    "target_score": "目标分",
    "stretch_score": "挑战分",
    "curve": "评分曲线",
    "curve_id": "评分曲线",
    "gate": "否决项",
    "target": "目标值",
    "actual": "实际值",
    "budget_line": "预算科目",
    "line_id": "预算科目",
    "perspective": "维度",
    "level": "层级",
    "parent_kpi": "上级指标",
    "unit": "单位",
    "employee_id": "工号",
    "department": "部门",
    "base_salary": "基本工资",
    "target_bonus_pct": "目标奖金比例",
    "hire_date": "入职日期",
    "termination_date": "离职日期",
    "eligible": "是否参与",
    "tier_table": "档位表",
    "manager": "直属上级",
    "grade": "职级",
    "currency": "币种",
    "weight": "权重",
    "comment": "备注",
    "period": "期间",
    "attainment": "达成率",
    "score": "得分",
    "min_score": "最低分",
    "multiplier": "系数",
    "label": "档位",
    "pool": "奖金池",
    "account": "科目",
    "budget": "预算数",
    "weighted_score": "加权得分",
    "total_score": "总分",
    "tier": "档位",
    "proration": "折算比例",
    "payout_before_pool": "奖金池前奖金",
    "pool_factor": "奖金池系数",
    "payout": "奖金",
    "note": "说明",
    "headcount": "人数",
    "eligible_headcount": "参与人数",
    "average_total_score": "平均总分",
    "severity": "级别",
    "sheet": "工作表",
    "cell": "单元格",
    "message": "信息",
    # the Rules sheet (an extension of the contract, see docs/workbook.md)
    "rule_id": "规则编号",
    "condition": "条件",
    "action": "动作",
    # the Forecast sheet and the Simulation output (kpi-xl simulate)
    "distribution": "分布",
    "mean": "均值",
    "sd": "标准差",
    "low": "最低",
    "most_likely": "最可能",
    "high": "最高",
    "scope": "范围",
    "p10": "P10",
    "p50": "P50",
    "p90": "P90",
    "p99": "P99",
    "bonus_budget": "奖金预算",
    "chance_over_budget": "超预算概率",
    "cost_from": "奖金成本自",
    "cost_to": "奖金成本至",
    "runs": "次数",
    # the Payouts column and the Rule trace sheet
    "rules_fired": "触发规则",
    "stage": "阶段",
    "matched": "匹配人数",
    "changed": "改变人数",
    "payout_effect": "奖金影响",
    # finance: the Budget variance and Bonus cost sheets, the Scenarios sheet and its results
    "variance": "差异",
    "variance_pct": "差异率",
    "assessment": "评价",
    "kpis": "相关指标",
    "people": "相关人数",
    "target_bonus": "目标奖金",
    "average_multiplier": "平均系数",
    "budget_source": "预算来源",
    "remaining_budget": "预算余额",
    "budget_used": "预算使用率",
    "pool_needed": "全额所需奖金池",
    "scenario": "情景",
    "applies_to": "调整对象",
    "what": "调整项",
    "factor": "调整系数",
    "new_value": "新值",
}

# Extra aliases people type that the contract does not list (kept small).
EXTRA_COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "指标名称"),
    "employee_id": ("员工编号",),
    "curve": ("curve_id",),
    "budget_line": ("line_id",),
}

C = Column

SETTINGS = SheetSpec("Settings", "设置", (C("key", True), C("value", True)))
KPIS = SheetSpec(
    "KPIs",
    "指标库",
    (
        C("kpi_id", True),
        C("name", True),
        C("direction"),
        C("method"),
        C("threshold"),
        C("stretch"),
        C("threshold_score"),
        C("target_score"),
        C("stretch_score"),
        C("curve"),
        C("gate"),
        C("target"),
        C("budget_line"),
        C("perspective"),
        C("level"),
        C("parent_kpi"),
        C("unit"),
    ),
    required=True,
)
CURVES = SheetSpec(
    "Curves", "评分曲线", (C("curve_id", True), C("attainment", True), C("score", True))
)
EMPLOYEES = SheetSpec(
    "Employees",
    "员工",
    (
        C("employee_id", True),
        C("name", True),
        C("department", True),
        C("base_salary", True),
        C("target_bonus_pct", True),
        C("hire_date"),
        C("termination_date"),
        C("eligible"),
        C("tier_table"),
        C("manager"),
        C("grade"),
        C("currency"),
    ),
    required=True,
)
SCORECARDS = SheetSpec(
    "Scorecards",
    "考核表",
    (
        C("employee_id", True),
        C("kpi_id", True),
        C("weight", True),
        C("target"),
        C("actual"),
        C("comment"),
        C("period"),
    ),
    required=True,
)
TIERS = SheetSpec(
    "Tiers",
    "奖金档位",
    (C("tier_table"), C("min_score", True), C("multiplier", True), C("label")),
    required=True,
)
POOLS = SheetSpec("Pools", "奖金池", (C("department", True), C("pool", True)))
BUDGET = SheetSpec(
    "Budget",
    "预算",
    (
        C("line_id", True),
        C("department", True),
        C("account"),
        C("budget", True),
        C("actual", True),
    ),
)

# The Rules sheet: an extension of the contract (docs/workbook.md, "Rules sheet").
RULES = SheetSpec(
    "Rules",
    "规则",
    (C("rule_id", True), C("condition"), C("action", True), C("value"), C("note")),
)

# The Forecast sheet: an extension of the contract for kpi-xl simulate (docs/workbook.md).
FORECAST = SheetSpec(
    "Forecast",
    "预测",
    (
        C("kpi_id", True),
        C("department"),
        C("distribution", True),
        C("mean"),
        C("sd"),
        C("low"),
        C("most_likely"),
        C("high"),
    ),
)

# The Scenarios sheet: an extension of the contract for kpi-xl whatif (docs/workbook.md).
SCENARIOS = SheetSpec(
    "Scenarios",
    "情景",
    (C("scenario", True), C("applies_to", True), C("what"), C("factor"), C("new_value"), C("comment")),
)

INPUT_SHEETS: tuple[SheetSpec, ...] = (
    SETTINGS,
    KPIS,
    CURVES,
    EMPLOYEES,
    SCORECARDS,
    TIERS,
    POOLS,
    BUDGET,
    RULES,
    FORECAST,
    SCENARIOS,
)

RESULTS = SheetSpec(
    "Results",
    "评分结果",
    tuple(
        C(k)
        for k in (
            "employee_id",
            "kpi_id",
            "weight",
            "target",
            "actual",
            "attainment",
            "score",
            "weighted_score",
            "note",
        )
    ),
)
PAYOUTS = SheetSpec(
    "Payouts",
    "奖金结果",
    tuple(
        C(k)
        for k in (
            "employee_id",
            "name",
            "department",
            "total_score",
            "tier",
            "multiplier",
            "gate",
            "proration",
            "payout_before_pool",
            "pool_factor",
            "payout",
            "rules_fired",  # only when the workbook has rules (see output_columns)
            "note",
        )
    ),
)
DEPARTMENTS = SheetSpec(
    "Departments",
    "部门汇总",
    tuple(
        C(k)
        for k in (
            "department",
            "headcount",
            "eligible_headcount",
            "average_total_score",
            "payout",
            "pool",
            "pool_factor",
        )
    ),
)
PROBLEMS = SheetSpec(
    "Problems", "问题", tuple(C(k) for k in ("severity", "sheet", "cell", "message"))
)

RULE_TRACE = SheetSpec(
    "Rule trace",
    "规则追踪",
    tuple(
        C(k)
        for k in (
            "rule_id",
            "stage",
            "action",
            "condition",
            "value",
            "matched",
            "changed",
            "payout_effect",
            "note",
        )
    ),
)

# Finance (docs/workbook.md, "Bonus cost" and "Budget variance"): written by kpi-xl score.
COST = SheetSpec(
    "Bonus cost",
    "奖金成本",
    tuple(
        C(k)
        for k in (
            "department",
            "headcount",
            "eligible_headcount",
            "target_bonus",
            "average_multiplier",
            "payout_before_pool",
            "payout",
            "bonus_budget",
            "budget_source",
            "remaining_budget",
            "budget_used",
            "pool_needed",
        )
    ),
)
VARIANCE = SheetSpec(
    "Budget variance",
    "预算差异",
    tuple(
        C(k)
        for k in (
            "line_id",
            "department",
            "account",
            "budget",
            "actual",
            "variance",
            "variance_pct",
            "assessment",
            "kpis",
            "people",
        )
    ),
)
# kpi-xl whatif: one column per scenario, so its columns are NamedColumns made per workbook.
SCENARIO_RESULTS = SheetSpec("Scenario results", "情景结果", (C("department"),))

OUTPUT_SHEETS: tuple[SheetSpec, ...] = (
    RESULTS,
    PAYOUTS,
    DEPARTMENTS,
    COST,
    VARIANCE,
    RULE_TRACE,
    SCENARIO_RESULTS,
    PROBLEMS,
)
SHEETS_BY_KEY: dict[str, SheetSpec] = {s.key: s for s in INPUT_SHEETS + OUTPUT_SHEETS}


def sheet_aliases(spec: SheetSpec) -> set[str]:
    return {normalize(spec.key), normalize(spec.zh)}


def column_aliases(key: str) -> set[str]:
    names = {key, COLUMN_ZH[key], *EXTRA_COLUMN_ALIASES.get(key, ())}
    return {normalize(n) for n in names}


def output_columns(spec: SheetSpec, present: object) -> SheetSpec:
    """The spec with only the columns a result table has (``rules_fired`` needs rules)."""
    keys = set(present)  # type: ignore[call-overload]
    kept = tuple(c for c in spec.columns if c.key in keys)
    return spec if len(kept) == len(spec.columns) else SheetSpec(spec.key, spec.zh, kept, spec.required)


def is_output_sheet_name(title: str) -> bool:
    folded = normalize(title)
    return any(folded in sheet_aliases(spec) for spec in OUTPUT_SHEETS)


# ---------------------------------------------------------------- enumerations


@dataclass(frozen=True)
class Enumeration:
    """An enumerated column: canonical values, each with a Chinese alias."""

    name: str
    values: dict[str, str]  # canonical -> Chinese
    extra: dict[str, str] | None = None  # other accepted spellings -> canonical

    def parse(self, raw: object) -> str | None:
        folded = normalize(raw)
        for canonical, zh in self.values.items():
            if folded in (canonical, normalize(zh)):
                return canonical
        if self.extra and folded in self.extra:
            return self.extra[folded]
        return None

    def choices(self, language: str = "en") -> list[str]:
        if language == "zh":
            return list(self.values.values())
        return list(self.values)

    def label(self, canonical: str, language: str) -> str:
        return self.values[canonical] if language == "zh" else canonical


DIRECTION = Enumeration("direction", {"higher": "正向", "lower": "反向"})
METHOD = Enumeration(
    "method", {"linear": "线性", "step": "阶梯", "binary": "达标制", "direct": "直接评分"}
)
YES_NO = Enumeration(
    "yes/no",
    {"yes": "是", "no": "否"},
    extra={"y": "yes", "n": "no", "true": "yes", "false": "no", "1": "yes", "0": "no"},
)
PRORATION = Enumeration("proration", {"none": "无", "days": "按天"})
POOL_MODE = Enumeration("pool_mode", {"none": "无", "cap": "封顶", "scale": "按池分配"})
TIER_MODE = Enumeration("tier_mode", {"step": "阶梯", "linear": "线性"})
RULE_POLICY = Enumeration("rule_policy", {"all": "全部", "first": "首条"})
DISTRIBUTION = Enumeration("distribution", {"normal": "正态", "triangular": "三角"})
APPLIES_TO = Enumeration(
    "applies_to", {"kpi": "指标", "department": "部门", "company_multiplier": "公司系数", "tier": "档位"}
)
ACTION = Enumeration(
    "action",
    {
        "set_multiplier": "设定系数",
        "scale_multiplier": "系数乘以",
        "add_score": "加分",
        "cap_score": "总分封顶",
        "cap_payout": "奖金封顶",
        "cap_payout_multiple": "奖金封顶倍数",
        "force_tier": "指定档位",
        "ineligible": "不参与",
    },
)

# KPIs.level: read as free text by validation; kpi-xl review's cascade check
# (the Alignment sheet) interprets it with this enumeration.
LEVEL = Enumeration(
    "level",
    {"company": "公司", "department": "部门", "individual": "个人"},
    extra={"corporate": "company", "team": "department", "dept": "department",
           "personal": "individual", "employee": "individual", "团队": "department", "员工": "individual"},
)

ENUM_COLUMNS: dict[tuple[str, str], Enumeration] = {
    ("KPIs", "direction"): DIRECTION,
    ("KPIs", "method"): METHOD,
    ("KPIs", "gate"): YES_NO,
    ("Employees", "eligible"): YES_NO,
    ("Rules", "action"): ACTION,
    ("Forecast", "distribution"): DISTRIBUTION,
    ("Scenarios", "applies_to"): APPLIES_TO,
}

# Method codes used by the compiled plan and the kernels.
METHOD_LINEAR = 0  # threshold / stretch
METHOD_LINEAR_CURVE = 1
METHOD_STEP = 2
METHOD_BINARY = 3
METHOD_DIRECT = 4

# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class Setting:
    key: str
    zh: str
    default: object
    kind: str  # "date", "enum", "ratio", "int", "text"
    enumeration: Enumeration | None = None


SETTINGS_KEYS: tuple[Setting, ...] = (
    Setting("period_start", "考核期开始", None, "date"),
    Setting("period_end", "考核期结束", None, "date"),
    Setting("proration", "折算方式", "none", "enum", PRORATION),
    Setting("company_multiplier", "公司系数", 1.0, "ratio"),
    Setting("rounding", "小数位数", 2, "int"),
    Setting("pool_mode", "奖金池模式", "none", "enum", POOL_MODE),
    Setting("tier_mode", "档位模式", "step", "enum", TIER_MODE),
    Setting("normalize_weights", "权重归一化", "no", "enum", YES_NO),
    Setting("rule_policy", "命中策略", "all", "enum", RULE_POLICY),
    Setting("budget_tolerance", "预算容差", 0.05, "ratio"),
    Setting("bonus_budget_line", "奖金预算科目", "BONUS", "text"),
)
SETTINGS_BY_ALIAS: dict[str, Setting] = {}
for _s in SETTINGS_KEYS:
    SETTINGS_BY_ALIAS[normalize(_s.key)] = _s
    SETTINGS_BY_ALIAS[normalize(_s.zh)] = _s

# ---------------------------------------------------------------- output words

WORDS: dict[str, dict[str, str]] = {
    "error": {"en": "error", "zh": "错误"},
    "warning": {"en": "warning", "zh": "警告"},
    "passed": {"en": "passed", "zh": "通过"},
    "failed": {"en": "failed", "zh": "未通过"},
    "no_bonus": {"en": "No bonus", "zh": "无奖金"},
    "company_total": {"en": "Company total", "zh": "公司合计"},
    "favourable": {"en": "favourable", "zh": "有利"},
    "unfavourable": {"en": "unfavourable", "zh": "不利"},
    "on_budget": {"en": "on budget", "zh": "持平"},
    "base": {"en": "Base", "zh": "基准"},
    "headcount": {"en": "headcount", "zh": "人数"},
    "difference": {"en": "difference", "zh": "差额"},
    # rule stages (the Rule trace sheet)
    "stage_score": {"en": "score (before tiers)", "zh": "总分（定档前）"},
    "stage_tier": {"en": "tier (after tiers)", "zh": "档位（定档后）"},
    "stage_payout": {"en": "payout (before pools)", "zh": "奖金（奖金池前）"},
    "stage_eligibility": {"en": "eligibility (before pools)", "zh": "资格（奖金池前）"},
}


# ---------------------------------------------------------------- review sheets

# kpi-xl review writes a meeting pack: an overview, one sheet per department and
# the Alignment sheet (docs/workbook.md, "Monthly review").  Sheet names and the
# headers and words on them, English and Chinese.
REVIEW_SHEETS: dict[str, tuple[str, str]] = {
    "overview": ("Review", "复盘汇总"),
    "department": ("Review", "复盘"),  # + " - " + the department's name
    "alignment": ("Alignment", "指标对齐"),
}
REVIEW_WORDS: dict[str, tuple[str, str]] = {
    # headers
    "department": ("department", "部门"),
    "period": ("period", "期间"),
    "people": ("people", "人数"),
    "kpi_id": ("kpi_id", "指标编号"),
    "name": ("name", "名称"),
    "employee_id": ("employee_id", "工号"),
    "employee": ("employee", "姓名"),
    "perspective": ("perspective", "维度"),
    "level": ("level", "层级"),
    "parent_kpi": ("parent_kpi", "上级指标"),
    "kpi_rows": ("KPI rows", "指标行数"),
    "met": ("met target", "达标数"),
    "met_share": ("met share", "达标率"),
    "average_attainment": ("average attainment", "平均达成率"),
    "average_score": ("average score", "平均得分"),
    "average_total_score": ("average total score", "平均总分"),
    "previous": ("previous period", "上期"),
    "change": ("change", "变动"),
    "year_to_date": ("year to date", "本年累计"),
    "rank": ("rank", "排名"),
    "target": ("target", "目标值"),
    "actual": ("actual", "实际值"),
    "attainment": ("attainment", "达成率"),
    "score": ("score", "得分"),
    "gap": ("gap to target", "距目标差距"),
    "comment": ("comment", "备注"),
    "cause": ("cause", "原因"),
    "action": ("action", "改进措施"),
    "source": ("source", "来源单元格"),
    "score_from": ("total score from", "总分自"),
    "score_to": ("to", "至"),
    "problem": ("problem", "问题"),
    "chain": ("cascade", "对齐链"),
    "carried_rows": ("scorecard rows", "考核行数"),
    "carried_people": ("people", "人数"),
    "direct_rows": ("rows carrying it", "直接承接行数"),
    "cascade_rows": ("rows below it", "下级承接行数"),
    "cascade_kpis": ("KPIs below it", "下级指标"),
    "status": ("status", "状态"),
    "cell": ("cell", "单元格"),
    "total": ("total", "合计"),
    # titles and sentences
    "company": ("Company", "公司合计"),
    "kpis_title": ("KPIs", "指标达成"),
    "misses_title": ("Worst misses (ranked by gap to target)", "未达标项（按距目标差距排序）"),
    "distribution_title": ("Score distribution", "总分分布"),
    "periods_title": ("By period", "各期趋势"),
    "chart_attainment": ("Average attainment by KPI", "各指标平均达成率"),
    "chart_distribution": ("People by total score", "总分分布（人数）"),
    "chart_departments": ("Departments: average total score", "各部门平均总分"),
    "unlinked_title": ("KPIs that do not link to a department or company KPI",
                       "未对齐到部门或公司指标的指标"),
    "uncarried_title": ("Company KPIs and who carries them", "公司指标承接情况"),
    "weights_title": ("Weights by perspective (average share of each person's weight)",
                      "各维度权重（人均权重占比）"),
    "cascade_title": ("Cascade of every KPI", "指标对齐链"),
    "carried": ("carried", "已承接"),
    "nobody": ("nobody carries it", "无人承接"),
    "none": ("(none)", "（未填）"),
}


def review_word(key: str, language: str) -> str:
    en, zh = REVIEW_WORDS[key]
    return zh if language == "zh" else en


def word(key: str, language: str) -> str:
    return WORDS[key]["zh" if language == "zh" else "en"]


DEFAULT_TIER_TABLE = "default"
