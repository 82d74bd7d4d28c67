"""The template workbooks and the example company (kpi_xl/templates.py).

* the files in templates/ are what the code generates (compared by content:
  sheets, cells, number formats, dropdowns, input messages, panes, widths);
* the templates in both languages: sheets, headers, dropdowns, formats, Excel's
  limits on validation texts;
* the example company's structure: ~40 people in 4 departments, a balanced
  scorecard in all four perspectives, a full company -> department ->
  individual cascade, every scoring method, gates, budget lines, proration,
  pools and tier tables;
* scoring them with the engine gives no problems at all.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.workbook import Workbook

import kpi_xl
from kpi_xl import schema, templates
from kpi_xl.schema import SheetSpec

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
REGENERATE = "regenerate them with: python -m kpi_xl.templates"
FILE_NAMES = [*templates.TEMPLATE_FILES.values(), templates.EXAMPLE_FILE]
LANGUAGE_OF = {name: language for language, name in templates.TEMPLATE_FILES.items()}


# ------------------------------------------------------------------ helpers


def reload(book: Workbook) -> Workbook:
    """The workbook as a reader sees it after saving (dates become datetimes and so on)."""
    return openpyxl.load_workbook(io.BytesIO(templates.reproducible_bytes(book)))


@pytest.fixture(scope="module")
def generated() -> dict[str, Workbook]:
    """File name -> the workbook the code generates now, saved and loaded back."""
    return {name: reload(book) for name, book in templates.generated_books().items()}


@pytest.fixture(scope="module")
def example(generated: dict[str, Workbook]) -> Workbook:
    return generated[templates.EXAMPLE_FILE]


def snapshot(book: Workbook) -> list[dict[str, Any]]:
    """What a person sees in a workbook, sheet by sheet, ignoring zip timestamps."""
    sheets = []
    for sheet in book.worksheets:
        cells = {}
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is not None:
                    cells[cell.coordinate] = (cell.value, cell.number_format, bool(cell.font.b))
        validations = sorted(
            (
                str(v.sqref),
                v.type or "",
                v.formula1 or "",
                v.promptTitle or "",
                v.prompt or "",
                v.error or "",
            )
            for v in sheet.data_validations.dataValidation
        )
        columns = {
            letter: (dimension.width, dimension.number_format)
            for letter, dimension in sorted(sheet.column_dimensions.items())
        }
        sheets.append(
            {
                "title": sheet.title,
                "cells": cells,
                "validations": validations,
                "freeze_panes": sheet.freeze_panes,
                "columns": columns,
            }
        )
    return sheets


def table(book: Workbook, spec: SheetSpec, language: str = "en") -> list[dict[str, Any]]:
    """A sheet's records keyed by canonical column (via the schema's aliases)."""
    sheet = book[spec.label(language)]
    rows = list(sheet.iter_rows(values_only=True))
    keys: list[str | None] = []
    for header in rows[0]:
        folded = schema.normalize(header) if header is not None else None
        keys.append(next((c.key for c in spec.columns if folded in schema.column_aliases(c.key)), None))
    return [
        {key: value for key, value in zip(keys, row) if key is not None}
        for row in rows[1:]
        if any(value is not None for value in row)
    ]


def settings_of(book: Workbook, language: str = "en") -> dict[str, Any]:
    values = {}
    for record in table(book, schema.SETTINGS, language):
        setting = schema.SETTINGS_BY_ALIAS[schema.normalize(record["key"])]
        values[setting.key] = record["value"]
    return values


def dropdowns(sheet: Any) -> dict[str, list[str]]:
    """sqref -> choices of every list validation of a sheet."""
    return {
        str(v.sqref): v.formula1.strip('"').split(",")
        for v in sheet.data_validations.dataValidation
        if v.type == "list"
    }


def score_workbook(path: Path):
    return kpi_xl.score_workbook(path)


# ------------------------------------------------------------------ (a) files on disk


@pytest.mark.parametrize("name", FILE_NAMES)
def test_file_on_disk_matches_the_code(name: str, generated: dict[str, Workbook]) -> None:
    path = TEMPLATES_DIR / name
    assert path.exists(), f"{path} is missing: {REGENERATE}"
    on_disk = snapshot(openpyxl.load_workbook(path))
    expected = snapshot(generated[name])
    assert [s["title"] for s in on_disk] == [s["title"] for s in expected], REGENERATE
    for disk_sheet, code_sheet in zip(on_disk, expected):
        for aspect in ("cells", "validations", "freeze_panes", "columns"):
            assert disk_sheet[aspect] == code_sheet[aspect], (
                f"{name}, sheet {code_sheet['title']}: {aspect} differ from the code: {REGENERATE}"
            )


def test_no_stray_workbooks_in_templates_folder() -> None:
    """Only generated workbooks live there (scored copies and backups are git-ignored noise)."""
    workbooks = [
        p.name
        for p in TEMPLATES_DIR.glob("*.xlsx")
        if ".scored." not in p.name and ".backup-" not in p.name and not p.name.startswith(("~$", "."))
    ]
    assert sorted(workbooks) == sorted(FILE_NAMES), REGENERATE


def test_saving_is_reproducible(tmp_path: Path) -> None:
    first = templates.write_templates(tmp_path / "one")
    second = templates.write_templates(tmp_path / "two")
    assert [p.name for p in first] == FILE_NAMES
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_command_line_writes_into_the_folder_given(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert templates.main([str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILE_NAMES)
    assert capsys.readouterr().out.count(".xlsx") == 3
    assert templates.main([str(tmp_path), "extra"]) == 2
    assert templates.main(["--help"]) == 0


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="language"):
        templates.build_template("fr")


# ------------------------------------------------------------------ templates, both languages


@pytest.mark.parametrize("language", schema.LANGUAGES)
def test_template_has_every_input_sheet_with_its_headers(language: str, generated: dict[str, Workbook]) -> None:
    book = generated[templates.TEMPLATE_FILES[language]]
    assert book.sheetnames == [spec.label(language) for spec in schema.INPUT_SHEETS]
    for spec in schema.INPUT_SHEETS:
        sheet = book[spec.label(language)]
        headers = [cell.value for cell in sheet[1]]
        if spec is schema.SETTINGS:
            assert headers[:2] == [spec.column("key").label(language), spec.column("value").label(language)]
        else:
            assert headers == [spec.column(k).label(language) for k in templates.template_columns(spec)]
            assert set(spec.required_columns) <= set(templates.template_columns(spec))
        assert all(cell.font.b for cell in sheet[1]), f"{sheet.title}: header not bold"
        assert sheet.freeze_panes == "A2"
        for letter in (cell.column_letter for cell in sheet[1]):
            assert templates.MIN_WIDTH <= sheet.column_dimensions[letter].width


def test_chinese_template_uses_the_chinese_names(generated: dict[str, Workbook]) -> None:
    book = generated[templates.TEMPLATE_FILES["zh"]]
    assert "指标库" in book.sheetnames
    assert book["指标库"]["A1"].value == "指标编号"
    kpis = table(book, schema.KPIS, "zh")
    assert {k["direction"] for k in kpis} <= set(schema.DIRECTION.choices("zh"))
    assert {k["method"] for k in kpis} <= set(schema.METHOD.choices("zh"))
    keys = [r["key"] for r in table(book, schema.SETTINGS, "zh")]
    assert keys == [s.zh for s in schema.SETTINGS_KEYS]


@pytest.mark.parametrize("language", schema.LANGUAGES)
def test_template_examples_are_small_and_settings_complete(language: str, generated: dict[str, Workbook]) -> None:
    book = generated[templates.TEMPLATE_FILES[language]]
    for spec in (schema.KPIS, schema.CURVES, schema.EMPLOYEES, schema.TIERS, schema.BUDGET):
        assert 2 <= len(table(book, spec, language)) <= 4, spec.key
    settings = settings_of(book, language)
    assert list(settings) == [s.key for s in schema.SETTINGS_KEYS]
    for setting in schema.SETTINGS_KEYS:
        if setting.default is None:
            continue
        shown = settings[setting.key]
        if setting.enumeration is not None:
            assert setting.enumeration.parse(shown) == setting.default, setting.key
        else:
            assert shown == setting.default, setting.key


@pytest.mark.parametrize("language", schema.LANGUAGES)
def test_template_has_dropdowns_for_every_enumeration(language: str, generated: dict[str, Workbook]) -> None:
    book = generated[templates.TEMPLATE_FILES[language]]
    for (sheet_key, column), enumeration in schema.ENUM_COLUMNS.items():
        spec = schema.SHEETS_BY_KEY[sheet_key]
        sheet = book[spec.label(language)]
        letter = openpyxl.utils.get_column_letter(templates.template_columns(spec).index(column) + 1)
        expected = f"{letter}2:{letter}{templates.LAST_ROW}"
        assert dropdowns(sheet).get(expected) == enumeration.choices(language), (sheet_key, column)
    settings_sheet = book[schema.SETTINGS.label(language)]
    settings_dropdowns = dropdowns(settings_sheet)
    for row, setting in enumerate(schema.SETTINGS_KEYS, start=2):
        if setting.enumeration is not None:
            assert settings_dropdowns.get(f"B{row}") == setting.enumeration.choices(language), setting.key


@pytest.mark.parametrize("name", FILE_NAMES)
def test_every_header_has_an_input_message_within_excel_limits(name: str, generated: dict[str, Workbook]) -> None:
    for sheet in generated[name].worksheets:
        prompted = set()
        for validation in sheet.data_validations.dataValidation:
            assert validation.showInputMessage
            assert 0 < len(validation.promptTitle or "") <= 32
            assert 0 < len(validation.prompt or "") <= 255
            assert len(validation.error or "") <= 255
            assert len(validation.formula1 or "") <= 255
            prompted.update(str(validation.sqref).split())
        for cell in sheet[1]:
            assert cell.coordinate in prompted, f"{sheet.title}!{cell.coordinate} has no input message"


@pytest.mark.parametrize("language", schema.LANGUAGES)
def test_template_number_formats(language: str, generated: dict[str, Workbook]) -> None:
    book = generated[templates.TEMPLATE_FILES[language]]
    expected = {
        "KPIs": {"threshold": "0.0%", "stretch": "0.0%"},
        "Curves": {"attainment": "0.0%"},
        "Employees": {
            "base_salary": "#,##0.00",
            "target_bonus_pct": "0.0%",
            "hire_date": "yyyy-mm-dd",
            "termination_date": "yyyy-mm-dd",
        },
        "Scorecards": {"weight": "0.0%"},
        "Tiers": {"multiplier": "0.00"},
        "Pools": {"pool": "#,##0.00"},
        "Budget": {"budget": "#,##0.00", "actual": "#,##0.00"},
    }
    for sheet_key, formats in expected.items():
        spec = schema.SHEETS_BY_KEY[sheet_key]
        sheet = book[spec.label(language)]
        columns = templates.template_columns(spec)
        for column, number_format in formats.items():
            position = columns.index(column) + 1
            letter = openpyxl.utils.get_column_letter(position)
            assert sheet.column_dimensions[letter].number_format == number_format, (sheet_key, column)
            for row in range(2, sheet.max_row + 1):
                cell = sheet.cell(row=row, column=position)
                if cell.value is not None:
                    assert cell.number_format == number_format, cell.coordinate


# ------------------------------------------------------------------ (b) the example company


def test_example_people_and_departments(example: Workbook) -> None:
    employees = table(example, schema.EMPLOYEES)
    assert 35 <= len(employees) <= 45
    ids = [e["employee_id"] for e in employees]
    assert all(isinstance(i, int) and i >= 1001 for i in ids), "employee ids are stored as numbers"
    assert len(set(ids)) == len(ids)
    departments = Counter(e["department"] for e in employees)
    assert set(departments) == set(templates.DEPARTMENTS) and len(departments) == 4
    assert min(departments.values()) >= 5
    assert [e["eligible"] for e in employees].count("no") == 1
    assert {e["tier_table"] for e in employees} == {"default", "sales"}
    managers = {e["manager"] for e in employees} - {None}
    assert managers <= set(ids)


def test_example_settings_and_proration(example: Workbook) -> None:
    settings = settings_of(example)
    assert list(settings) == [s.key for s in schema.SETTINGS_KEYS]
    start, end = settings["period_start"].date(), settings["period_end"].date()
    assert (start, end) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert settings["proration"] == "days"
    assert settings["pool_mode"] == "cap"
    assert settings["company_multiplier"] == 1.05
    employees = table(example, schema.EMPLOYEES)
    hires = [e for e in employees if e["hire_date"] and start < e["hire_date"].date() <= end]
    leavers = [e for e in employees if e["termination_date"] and start <= e["termination_date"].date() < end]
    assert len(hires) >= 2 and len(leavers) >= 2


def test_example_balanced_scorecard_and_cascade(example: Workbook) -> None:
    kpis = {k["kpi_id"]: k for k in table(example, schema.KPIS)}
    assert {k["perspective"] for k in kpis.values()} == set(templates.PERSPECTIVES)
    assert {k["level"] for k in kpis.values()} == set(templates.LEVELS)
    parent_levels = {"individual": {"department", "company"}, "department": {"company"}, "company": set()}
    for kpi in kpis.values():
        parent = kpi["parent_kpi"]
        if kpi["level"] == "company":
            assert parent is None, kpi["kpi_id"]
        else:
            assert parent in kpis, f"{kpi['kpi_id']} cascades from unknown {parent}"
            assert kpis[parent]["level"] in parent_levels[kpi["level"]], kpi["kpi_id"]
    carried = {row["kpi_id"] for row in table(example, schema.SCORECARDS)}
    assert carried == set(kpis), f"KPIs nobody carries: {set(kpis) - carried}"
    for level in templates.LEVELS:
        perspectives = {k["perspective"] for k in kpis.values() if k["level"] == level}
        assert len(perspectives) >= 3, level


def test_example_uses_every_method_and_direction(example: Workbook) -> None:
    kpis = table(example, schema.KPIS)
    curves: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for point in table(example, schema.CURVES):
        curves[point["curve_id"]].append((point["attainment"], point["score"]))
    kinds = set()
    for kpi in kpis:
        method, curve = kpi["method"], kpi["curve"]
        if method == "linear" and curve is None:
            assert kpi["threshold"] <= 1 <= kpi["stretch"], kpi["kpi_id"]
            kinds.add("linear")
        elif method == "linear":
            kinds.add("linear curve")
        else:
            kinds.add(method)
        if curve is not None:
            assert curve in curves, kpi["kpi_id"]
    assert kinds == {"linear", "linear curve", "step", "binary", "direct"}
    assert {k["direction"] for k in kpis} == {"higher", "lower"}
    gates = [k for k in kpis if k["gate"] == "yes"]
    assert gates and all(k["method"] == "binary" for k in gates)
    # A range target: a step curve that rises to 100 and falls back to 0 (0 -> 0, 0.95 -> 100, 1.05 -> 0).
    step_curves = {k["curve"] for k in kpis if k["method"] == "step"}
    assert any(
        [s for _, s in sorted(curves[c])] == [0, 100, 0] for c in step_curves
    ), "no range-target step curve"
    for points in curves.values():
        assert len({a for a, _ in points}) == len(points)


def test_example_budget_lines_cover_every_department_that_uses_them(example: Workbook) -> None:
    kpis = {k["kpi_id"]: k for k in table(example, schema.KPIS)}
    budget = {(b["line_id"], b["department"]) for b in table(example, schema.BUDGET)}
    department = {e["employee_id"]: e["department"] for e in table(example, schema.EMPLOYEES)}
    used = 0
    for row in table(example, schema.SCORECARDS):
        line = kpis[row["kpi_id"]]["budget_line"]
        if line is not None and row.get("target") is None:
            assert (line, department[row["employee_id"]]) in budget, row
            used += 1
    assert used >= 4
    assert len({d for _, d in budget}) == 4, "a budget line per department"


def test_example_scorecards(example: Workbook) -> None:
    kpis = {k["kpi_id"]: k for k in table(example, schema.KPIS)}
    employees = [e["employee_id"] for e in table(example, schema.EMPLOYEES)]
    rows = table(example, schema.SCORECARDS)
    pairs = [(r["employee_id"], r["kpi_id"]) for r in rows]
    assert len(set(pairs)) == len(pairs)
    weights: dict[int, list[float]] = defaultdict(list)
    for row in rows:
        assert row["kpi_id"] in kpis
        weights[row["employee_id"]].append(row["weight"])
        if kpis[row["kpi_id"]]["method"] != "direct" and kpis[row["kpi_id"]]["budget_line"] is None:
            assert row["actual"] is not None, row
    assert sorted(weights) == sorted(employees)
    for employee, values in weights.items():
        assert 4 <= len(values) <= 6, employee
        assert abs(math.fsum(values) - 1) <= 1e-9, employee


def test_example_pools_and_tiers(example: Workbook) -> None:
    departments = {e["department"] for e in table(example, schema.EMPLOYEES)}
    pools = table(example, schema.POOLS)
    assert {p["department"] for p in pools} == departments
    tiers: dict[str, list[float]] = defaultdict(list)
    for tier in table(example, schema.TIERS):
        tiers[tier["tier_table"]].append(tier["min_score"])
    assert set(tiers) == {"default", "sales"}
    assert all(len(set(mins)) == len(mins) >= 3 for mins in tiers.values())


def test_example_is_deterministic() -> None:
    first = templates.reproducible_bytes(templates.build_example_company())
    second = templates.reproducible_bytes(templates.build_example_company())
    assert first == second


# ------------------------------------------------------------------ (c) scoring with the engine
# Scoring through the engine's public API.


@pytest.mark.parametrize("on_disk", [True, False])
def test_example_scores_without_problems(on_disk: bool, tmp_path: Path) -> None:
    path = (
        templates.DEFAULT_DIRECTORY / templates.EXAMPLE_FILE
        if on_disk
        else templates.save_reproducibly(templates.build_example_company(), tmp_path / templates.EXAMPLE_FILE)
    )
    outcome = score_workbook(path)
    assert outcome.ok, [str(p) for p in outcome.problems]
    assert outcome.problems == [], [str(p) for p in outcome.problems]
    assert 35 <= len(outcome.payouts) <= 45
    assert len(outcome.departments) == 4


def test_example_exercises_gates_proration_and_pools(tmp_path: Path) -> None:
    path = templates.save_reproducibly(templates.build_example_company(), tmp_path / templates.EXAMPLE_FILE)
    outcome = score_workbook(path)
    assert outcome.ok
    payouts = outcome.payouts
    factors = outcome.departments.set_index("department")["pool_factor"]
    assert (factors < 1).sum() >= 1 and (factors == 1).sum() >= 1, "one department over its pool, not all"
    assert payouts["gate"].str.startswith("failed").sum() >= 1
    assert (payouts["proration"] < 1).sum() >= 4
    ineligible = [e["employee_id"] for e in table(reload(templates.build_example_company()), schema.EMPLOYEES)
                  if e["eligible"] == "no"]
    paid = payouts.set_index(payouts["employee_id"].astype(str))["payout"]
    assert all(paid[str(i)] == 0 for i in ineligible)
    assert payouts["payout"].gt(0).sum() >= 30, "most people earn a bonus"
    assert payouts["tier"].nunique() >= 5, "the tiers are spread"
    results = outcome.results
    assert (results["score"] == 0).sum() >= 3, "some results below threshold"
    assert results["attainment"].eq(1).sum() >= 5, "some results exactly on target"


@pytest.mark.parametrize("language", schema.LANGUAGES)
def test_template_scores_without_problems(language: str, tmp_path: Path) -> None:
    path = templates.save_reproducibly(templates.build_template(language), tmp_path / f"template_{language}.xlsx")
    outcome = score_workbook(path)
    assert outcome.ok and outcome.problems == [], [str(p) for p in outcome.problems]
    assert len(outcome.payouts) == len(table(reload(templates.build_template(language)), schema.EMPLOYEES, language))


@pytest.mark.parametrize("language", schema.LANGUAGES)
def test_template_rules_sheet_is_empty_with_an_action_dropdown(language: str, generated: dict[str, Workbook]) -> None:
    book = generated[templates.TEMPLATE_FILES[language]]
    sheet = book[schema.RULES.label(language)]
    assert table(book, schema.RULES, language) == []
    assert [c.value for c in sheet[1]] == [schema.RULES.column(k).label(language) for k in templates.template_columns(schema.RULES)]
    assert dropdowns(sheet)[f"C2:C{templates.LAST_ROW}"] == schema.ACTION.choices(language)
    assert sheet.column_dimensions["B"].width >= 60  # room to type a condition
    settings = settings_of(book, language)
    assert schema.RULE_POLICY.parse(settings["rule_policy"]) == "all"


def test_example_has_realistic_rules(example: Workbook) -> None:
    rules = table(example, schema.RULES)
    assert 4 <= len(rules) <= 6
    assert {r["action"] for r in rules} >= {"ineligible", "scale_multiplier", "cap_payout_multiple", "force_tier"}
    assert all(r["note"] for r in rules)
