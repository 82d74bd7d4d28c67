"""Kernel arrays -> the Results, Payouts and Departments tables, with notes.

Step 5 of the pipeline.  Columns use the contract's English keys; the writer
puts them under English or Chinese headers.  Every row gets a ``note`` that
explains its number in words.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import schema
from .compiling import POOL_NONE, TIER_LINEAR, Plan
from .engine import Scores
from .kernels import METHOD_BINARY, METHOD_DIRECT, METHOD_LINEAR, METHOD_LINEAR_CURVE
from .validation import ValidatedBook
from .values import percent, plain


# Sentences of the notes, in English and Chinese; {} fields are filled in.
PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "attainment": "attainment {a}",
        "lower": " (lower is better: target {t} / actual {x})",
        "score": " → score {s} ({how})",
        "below_threshold": "below threshold {thr}",
        "at_stretch": "at or above stretch {st}: top score",
        "rising": "linear, threshold {thr} → target 100%",
        "above_target": "linear, target 100% → stretch {st}",
        "met": "target met",
        "not_met": "target not met",
        "curve": "linear on curve '{c}'",
        "step": "step curve '{c}'",
        "direct": "assessed score {x}",
        "clipped": ", kept within 0–{ss} → score {s}",
        "direct_tail": " (direct)",
        "gate_failed_row": "; gate failed: {k} {detail}",
        "gate_passed_row": "; gate passed",
        "budget": "; budget line {line}",
        "sep": "; ",
        "total": "total score {t}",
        "below_tiers": "below the lowest tier → {tier}",
        "tier": "tier '{tier}' (from {min}) → {how}multiplier {m}",
        "interpolated": "interpolated ",
        "gate_failed": "gate failed: {details} → no bonus",
        "not_eligible": "not eligible → no bonus",
        "company": "company multiplier {m}",
        "prorated": "prorated {d}/{p} days",
        "pool": "pool {dept}: factor {f}",
        "total_rules": "total score {t} ({raw} before rules)",
        "rules": "rules: {list}",
        "rule_sep": ", ",
        "add_score": "{id} ({sign}{v} score)",
        "plus": "+",
        "minus": "−",
        "cap_score": "{id} (score cap {v})",
        "set_multiplier": "{id} (multiplier {v})",
        "scale_multiplier": "{id} (×{v})",
        "force_tier": "{id} (tier '{label}')",
        "cap_payout": "{id} (cap {amount})",
        "cap_payout_multiple": "{id} (cap {v}× target bonus)",
        "ineligible": "{id} (not eligible → no bonus)",
    },
    "zh": {
        "attainment": "达成率 {a}",
        "lower": "（反向指标：目标 {t} / 实际 {x}）",
        "score": " → 得分 {s}（{how}）",
        "below_threshold": "低于门槛值 {thr}",
        "at_stretch": "达到挑战值 {st}：最高分",
        "rising": "线性：门槛值 {thr} → 目标 100%",
        "above_target": "线性：目标 100% → 挑战值 {st}",
        "met": "达标",
        "not_met": "未达标",
        "curve": "按评分曲线 '{c}' 插值",
        "step": "阶梯曲线 '{c}'",
        "direct": "直接评分 {x}",
        "clipped": "，限定在 0–{ss} → 得分 {s}",
        "direct_tail": "",
        "gate_failed_row": "；否决项未通过：{k} {detail}",
        "gate_passed_row": "；否决项通过",
        "budget": "；预算科目 {line}",
        "sep": "；",
        "total": "总分 {t}",
        "below_tiers": "低于最低档 → {tier}",
        "tier": "档位 '{tier}'（{min} 分起）→ {how}系数 {m}",
        "interpolated": "插值",
        "gate_failed": "否决项未通过：{details} → 无奖金",
        "not_eligible": "不参与奖金 → 无奖金",
        "company": "公司系数 {m}",
        "prorated": "按天折算 {d}/{p} 天",
        "pool": "奖金池 {dept}：系数 {f}",
        "total_rules": "总分 {t}（规则前 {raw}）",
        "rules": "规则：{list}",
        "rule_sep": "、",
        "add_score": "{id}（{sign} {v} 分）",
        "plus": "加",
        "minus": "减",
        "cap_score": "{id}（总分封顶 {v}）",
        "set_multiplier": "{id}（系数设为 {v}）",
        "scale_multiplier": "{id}（系数 ×{v}）",
        "force_tier": "{id}（档位 '{label}'）",
        "cap_payout": "{id}（封顶 {amount}）",
        "cap_payout_multiple": "{id}（封顶 {v} 倍目标奖金）",
        "ineligible": "{id}（不参与奖金 → 无奖金）",
    },
}


def results_table(book: ValidatedBook, plan: Plan, scores: Scores) -> pd.DataFrame:
    kpis, employees = book.kpis, book.employees
    words = PHRASES[book.language]
    notes = _row_notes(book, plan, scores, words)
    return pd.DataFrame(
        {
            "employee_id": [employees.ids[e] for e in plan.row_employee],
            "kpi_id": [kpis.ids[k] for k in plan.row_kpi],
            "weight": plan.weight,
            "target": plan.target,
            "actual": plan.actual,
            "attainment": scores.attainment,
            "score": scores.score,
            "weighted_score": scores.weighted,
            "note": notes,
        }
    )


class _Memo(dict):
    """plain() or percent() of each value, worked out once per distinct value."""

    def __init__(self, function):
        super().__init__()
        self.function = function

    def __missing__(self, value: float) -> str:
        text = self[value] = self.function(value)
        return text


def _row_notes(book: ValidatedBook, plan: Plan, scores: Scores, words: dict[str, str]) -> list[str]:
    """Every scorecard row's note.  What depends only on the KPI (the scoring
    rule in words, the gate threshold, the budget line) is worded once per
    KPI, and each distinct number is formatted once: no per-row lookups into
    NumPy arrays, which cost more than the sentence."""
    kpis = book.kpis
    n_kpis = len(kpis.ids)
    method = plan.kpi_method.tolist()
    lower = plan.kpi_lower.tolist()
    gate = plan.kpi_gate.tolist()
    threshold = plan.kpi_threshold.tolist()
    stretch = plan.kpi_stretch.tolist()
    shown = _Memo(plain)
    # per KPI: the fixed parts of its sentences
    below, at_stretch, rising, above, fixed_how, tail, gate_at = ([""] * n_kpis for _ in range(7))
    for k in range(n_kpis):
        if method[k] == METHOD_LINEAR:
            below[k] = words["below_threshold"].format(thr=percent(threshold[k], 0))
            at_stretch[k] = words["at_stretch"].format(st=percent(stretch[k], 0))
            rising[k] = words["rising"].format(thr=percent(threshold[k], 0))
            above[k] = words["above_target"].format(st=percent(stretch[k], 0))
        elif method[k] not in (METHOD_BINARY, METHOD_DIRECT):
            fixed_how[k] = words["curve" if method[k] == METHOD_LINEAR_CURVE else "step"].format(c=kpis.curve[k])
        if method[k] == METHOD_DIRECT:
            gate_at[k] = plain(plan.kpi_threshold_score[k])
        elif method[k] == METHOD_LINEAR:
            gate_at[k] = percent(threshold[k], 0)
        elif method[k] == METHOD_BINARY:
            gate_at[k] = percent(1.0, 0)
        else:
            gate_at[k] = percent(float(plan.curve_x[plan.curve_offsets[plan.kpi_curve[k]]]), 0)
        line = kpis.budget_line[k]
        tail[k] = words["budget"].format(line=line) if line is not None else ""
    stretch_score = [plain(v) for v in plan.kpi_stretch_score.tolist()]
    attainment_words, lower_words, score_words = words["attainment"], words["lower"], words["score"]
    gate_failed_words, gate_passed = words["gate_failed_row"], words["gate_passed_row"]
    direct_words, clipped_words, direct_tail = words["direct"], words["clipped"], words["direct_tail"]
    met, not_met = words["met"], words["not_met"]
    notes = []
    for k, a, s, x, t, failed in zip(
        plan.row_kpi.tolist(),
        scores.attainment.tolist(),
        scores.score.tolist(),
        plan.actual.tolist(),
        plan.target.tolist(),
        scores.row_gate_failed.tolist(),
    ):
        how_method = method[k]
        if how_method == METHOD_DIRECT:
            text = direct_words.format(x=shown[x])
            if s != x:
                text += clipped_words.format(ss=stretch_score[k], s=shown[s])
            text += direct_tail
        else:
            text = attainment_words.format(a=percent(a))
            if lower[k]:
                text += lower_words.format(t=shown[t], x=shown[x])
            if how_method == METHOD_LINEAR:
                if s == 0.0 and a < threshold[k]:
                    how = below[k]
                elif a >= stretch[k]:
                    how = at_stretch[k]
                elif a < 1.0:
                    how = rising[k]
                else:
                    how = above[k]
            elif how_method == METHOD_BINARY:
                how = met if s > 0 else not_met
            else:
                how = fixed_how[k]
            text += score_words.format(s=shown[s], how=how)
        if gate[k]:
            if failed:
                detail = f"{shown[s]} < {gate_at[k]}" if how_method == METHOD_DIRECT else f"{percent(a)} < {gate_at[k]}"
                text += gate_failed_words.format(k=kpis.ids[k], detail=detail)
            else:
                text += gate_passed
        notes.append(text + tail[k])
    return notes


def _gate_text(plan: Plan, k: int, a: float, s: float) -> str:
    method = int(plan.kpi_method[k])
    if method == METHOD_DIRECT:
        return f"{plain(s)} < {plain(plan.kpi_threshold_score[k])}"
    if method == METHOD_LINEAR:
        at = float(plan.kpi_threshold[k])
    elif method == METHOD_BINARY:
        at = 1.0
    else:
        at = float(plan.curve_x[plan.curve_offsets[plan.kpi_curve[k]]])
    return f"{percent(a)} < {percent(at, 0)}"


def payouts_table(book: ValidatedBook, plan: Plan, scores: Scores) -> pd.DataFrame:
    employees = book.employees
    language = book.language
    words = PHRASES[language]
    failing: dict[int, list[int]] = {}
    for i in np.flatnonzero(scores.row_gate_failed):
        failing.setdefault(int(plan.row_employee[i]), []).append(int(i))
    fired, explained = _rules_per_person(plan, scores, words)
    tiers, gates, notes = [], [], []
    for e in range(plan.n_employees):
        row = int(scores.tier_row[e])
        tier = _tier_label(plan, row, language)
        tiers.append(tier)
        failed_rows = failing.get(e, [])
        if failed_rows:
            names = ", ".join(book.kpis.ids[int(plan.row_kpi[i])] for i in failed_rows)
            gates.append(f"{schema.word('failed', language)}: {names}")
        else:
            gates.append(schema.word("passed", language))
        notes.append(_payout_note(book, plan, scores, e, failed_rows, words, explained.get(e)))
    columns: dict[str, object] = {
        "employee_id": employees.ids,
        "name": employees.names,
        "department": employees.department,
        "total_score": scores.total,
        "tier": tiers,
        "multiplier": scores.multiplier,
        "gate": gates,
        "proration": plan.proration,
        "payout_before_pool": scores.payout_before_pool,
        "pool_factor": scores.department_factor[plan.employee_department],
        "payout": scores.payout,
    }
    if scores.rules is not None:
        columns["rules_fired"] = [", ".join(fired.get(e, ())) for e in range(plan.n_employees)]
    columns["note"] = notes
    return pd.DataFrame(columns)


def _tier_label(plan: Plan, row: int, language: str) -> str:
    return plan.tier_labels[row] if row >= 0 else schema.word("no_bonus", language)


def _rules_per_person(
    plan: Plan, scores: Scores, words: dict[str, str]
) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """Per person: the ids of the rules that fired (changed one of their numbers) and what
    each did, in the order the rules acted (stage, then sheet order)."""
    fired: dict[int, list[str]] = {}
    explained: dict[int, list[str]] = {}
    if scores.rules is None:
        return fired, explained
    compiled = plan.rules.rules
    order = sorted(range(len(compiled)), key=lambda r: (compiled[r].rule.stage, r))
    for r in order:
        rule = compiled[r].rule
        hits = scores.rules.hits[r]
        texts: dict[float | None, str] = {}  # a rule's value is usually one number: say it once
        for e, value in zip(hits.people[hits.changed].tolist(), hits.value[hits.changed].tolist()):
            key = value if value == value else None  # NaN (no number): one text for all
            text = texts.get(key)
            if text is None:
                text = texts[key] = _rule_effect(rule, value, plan, words)
            fired.setdefault(e, []).append(rule.rule_id)
            explained.setdefault(e, []).append(text)
    return fired, explained


def _rule_effect(rule, value: float, plan: Plan, words: dict[str, str]) -> str:
    action = rule.action
    if action == "add_score":
        sign = words["plus"] if value >= 0 else words["minus"]
        return words[action].format(id=rule.rule_id, sign=sign, v=plain(abs(value)))
    if action == "cap_payout":
        return words[action].format(id=rule.rule_id, amount=f"{value:,.{plan.rounding}f}")
    if action == "force_tier":
        return words[action].format(id=rule.rule_id, label=rule.label)
    return words[action].format(id=rule.rule_id, v=plain(value))


def _payout_note(
    book: ValidatedBook,
    plan: Plan,
    scores: Scores,
    e: int,
    failed_rows: list[int],
    words: dict[str, str],
    rules: list[str] | None,
) -> str:
    total = float(scores.total[e])
    if scores.rules is not None and scores.rules.total_before_rules[e] != total:
        parts = [words["total_rules"].format(t=plain(total), raw=plain(scores.rules.total_before_rules[e]))]
    else:
        parts = [words["total"].format(t=plain(total))]
    # the tier as looked up from the total; tier rules (if any) are told after it
    looked_up = scores.rules
    row = int(looked_up.tier_row_looked_up[e] if looked_up is not None else scores.tier_row[e])
    multiplier = float(looked_up.multiplier_looked_up[e] if looked_up is not None else scores.multiplier[e])
    tier = _tier_label(plan, row, book.language)
    if row < 0:
        parts.append(words["below_tiers"].format(tier=tier))
    else:
        how = words["interpolated"] if plan.tier_mode == TIER_LINEAR else ""
        parts.append(
            words["tier"].format(tier=tier, min=plain(plan.tier_min[row]), how=how, m=plain(multiplier))
        )
    if rules:
        parts.append(words["rules"].format(list=words["rule_sep"].join(rules)))
    if failed_rows:
        details = words["sep"].join(
            f"{book.kpis.ids[int(plan.row_kpi[i])]} "
            f"{_gate_text(plan, int(plan.row_kpi[i]), float(scores.attainment[i]), float(scores.score[i]))}"
            for i in failed_rows
        )
        parts.append(words["gate_failed"].format(details=details))
    if not plan.eligible[e]:
        parts.append(words["not_eligible"])
    if plan.company_multiplier != 1.0:
        parts.append(words["company"].format(m=plain(plan.company_multiplier)))
    if plan.employed_days[e] >= 0 and plan.employed_days[e] != plan.period_days:
        parts.append(words["prorated"].format(d=plan.employed_days[e], p=plan.period_days))
    d = int(plan.employee_department[e])
    factor = float(scores.department_factor[d])
    if plan.pool_mode != POOL_NONE and factor != 1.0:
        parts.append(words["pool"].format(dept=plan.department_names[d], f=f"{factor:.4f}"))
    return words["sep"].join(parts)


def departments_table(book: ValidatedBook, plan: Plan, scores: Scores) -> pd.DataFrame:
    d_count = plan.n_departments
    dept = plan.employee_department
    headcount = np.bincount(dept, minlength=d_count)
    people_eligible = scores.rules.eligible if scores.rules is not None else plan.eligible
    eligible = np.bincount(dept, weights=people_eligible.astype(float), minlength=d_count).astype(int)
    total_score = np.bincount(dept, weights=scores.total, minlength=d_count)
    payout = np.bincount(dept, weights=scores.payout, minlength=d_count)
    scale = 10.0**plan.rounding
    payout = np.round(payout * scale) / scale  # a sum of whole cents, without float noise
    with np.errstate(invalid="ignore", divide="ignore"):
        average = total_score / headcount
    return pd.DataFrame(
        {
            "department": plan.department_names,
            "headcount": headcount,
            "eligible_headcount": eligible,
            "average_total_score": average,
            "payout": payout,
            "pool": plan.department_pool,
            "pool_factor": scores.department_factor,
        }
    )


def rule_trace_table(book: ValidatedBook, plan: Plan, scores: Scores) -> pd.DataFrame:
    """One row a rule, in sheet order: its stage, how many people it matched (condition
    true: the rule applied to them), how many it changed, and its effect on the payouts
    before pool."""
    language = book.language
    compiled = plan.rules.rules
    hits = scores.rules.hits
    stage_words = ("stage_score", "stage_tier", "stage_payout", "stage_eligibility")
    return pd.DataFrame(
        {
            "rule_id": [c.rule.rule_id for c in compiled],
            "stage": [schema.word(stage_words[c.rule.stage], language) for c in compiled],
            "action": [schema.ACTION.label(c.rule.action, language) for c in compiled],
            "condition": [c.rule.condition_text for c in compiled],
            "value": [c.rule.label if c.rule.label is not None else c.rule.value_text for c in compiled],
            "matched": [int(h.people.size) for h in hits],
            "changed": [int(h.changed.sum()) for h in hits],
            "payout_effect": [float(h.effect.sum()) for h in hits],
            "note": [c.rule.note for c in compiled],
        }
    )


def problems_table(problems, language: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "severity": [schema.word(p.severity, language) for p in problems],
            "sheet": [p.sheet for p in problems],
            "cell": [p.where if p.sheet else "" for p in problems],
            "message": [p.message for p in problems],
        }
    )
