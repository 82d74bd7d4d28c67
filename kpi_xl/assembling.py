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
    },
}


def results_table(book: ValidatedBook, plan: Plan, scores: Scores) -> pd.DataFrame:
    kpis, employees = book.kpis, book.employees
    words = PHRASES[book.language]
    notes = [_row_note(book, plan, scores, i, words) for i in range(len(plan.row_kpi))]
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


def _row_note(book: ValidatedBook, plan: Plan, scores: Scores, i: int, words: dict[str, str]) -> str:
    k = int(plan.row_kpi[i])
    method = int(plan.kpi_method[k])
    a = float(scores.attainment[i])
    s = float(scores.score[i])
    kpis = book.kpis
    if method == METHOD_DIRECT:
        raw = float(plan.actual[i])
        text = words["direct"].format(x=plain(raw))
        if s != raw:
            text += words["clipped"].format(ss=plain(plan.kpi_stretch_score[k]), s=plain(s))
        text += words["direct_tail"]
    else:
        text = words["attainment"].format(a=percent(a))
        if plan.kpi_lower[k]:
            text += words["lower"].format(t=plain(plan.target[i]), x=plain(plan.actual[i]))
        text += words["score"].format(s=plain(s), how=_how(plan, k, a, s, kpis.curve[k], words))
    if plan.kpi_gate[k]:
        if scores.row_gate_failed[i]:
            text += words["gate_failed_row"].format(k=kpis.ids[k], detail=_gate_text(plan, k, a, s))
        else:
            text += words["gate_passed_row"]
    line = kpis.budget_line[k]
    if line is not None:
        text += words["budget"].format(line=line)
    return text


def _how(plan: Plan, k: int, a: float, s: float, curve: str | None, words: dict[str, str]) -> str:
    method = int(plan.kpi_method[k])
    if method == METHOD_LINEAR:
        threshold, stretch = float(plan.kpi_threshold[k]), float(plan.kpi_stretch[k])
        if s == 0.0 and a < threshold:
            return words["below_threshold"].format(thr=percent(threshold, 0))
        if a >= stretch:
            return words["at_stretch"].format(st=percent(stretch, 0))
        if a < 1.0:
            return words["rising"].format(thr=percent(threshold, 0))
        return words["above_target"].format(st=percent(stretch, 0))
    if method == METHOD_BINARY:
        return words["met"] if s > 0 else words["not_met"]
    return words["curve" if method == METHOD_LINEAR_CURVE else "step"].format(c=curve)


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
    tiers, gates, notes = [], [], []
    for e in range(plan.n_employees):
        row = int(scores.tier_row[e])
        tier = plan.tier_labels[row] if row >= 0 else schema.word("no_bonus", language)
        tiers.append(tier)
        failed_rows = failing.get(e, [])
        if failed_rows:
            names = ", ".join(book.kpis.ids[int(plan.row_kpi[i])] for i in failed_rows)
            gates.append(f"{schema.word('failed', language)}: {names}")
        else:
            gates.append(schema.word("passed", language))
        notes.append(_payout_note(book, plan, scores, e, tier, failed_rows, words))
    return pd.DataFrame(
        {
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
            "note": notes,
        }
    )


def _payout_note(
    book: ValidatedBook,
    plan: Plan,
    scores: Scores,
    e: int,
    tier: str,
    failed_rows: list[int],
    words: dict[str, str],
) -> str:
    parts = [words["total"].format(t=plain(scores.total[e]))]
    multiplier = float(scores.multiplier[e])
    if scores.tier_row[e] < 0:
        parts.append(words["below_tiers"].format(tier=tier))
    else:
        row = int(scores.tier_row[e])
        how = words["interpolated"] if plan.tier_mode == TIER_LINEAR else ""
        parts.append(
            words["tier"].format(tier=tier, min=plain(plan.tier_min[row]), how=how, m=plain(multiplier))
        )
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
    eligible = np.bincount(dept, weights=plan.eligible.astype(float), minlength=d_count).astype(int)
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


def problems_table(problems, language: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "severity": [schema.word(p.severity, language) for p in problems],
            "sheet": [p.sheet for p in problems],
            "cell": [p.where if p.sheet else "" for p in problems],
            "message": [p.message for p in problems],
        }
    )
