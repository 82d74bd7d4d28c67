"""The measurements: each section returns rows of the one table ``__main__`` prints.

Every timing is the median of several repeats, taken side by side in the same
run, and every contender is checked to give the engine's numbers before it
is timed.  Sections:

- ``kernels``: engine.run_plan on a compiled Plan vs the reference twin vs the
  analyst's pandas version vs a memory-bandwidth floor, per size;
- ``end_to_end``: ``kpi-xl score`` on a workbook vs the xlsx I/O floor (the
  fastest read of the inputs plus the fastest write of the outputs) vs
  LibreOffice Calc recalculating the same scorecard as formulas;
- ``cold_start``: a fresh process scoring a small workbook with an empty and
  a warm numba cache, and the import time of ``kpi_xl`` and ``kpi-xl --help``;
- ``peak_memory``: peak RSS of ``kpi-xl score`` on a big workbook.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import analyst, data, spreadsheet

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Row:
    section: str
    what: str
    size: str
    seconds: float | None  # median; None when the row holds another unit (see value)
    compared_with: str = ""
    ratio: float | None = None  # seconds / the compared row's seconds
    target: str = ""  # e.g. ">= 50x: met"
    value: str = ""  # the cell to print instead of a time (memory, counts)
    note: str = ""


# ------------------------------------------------------------------ timing


def median_seconds(function: Callable[[], Any], repeats: int, warmup: int = 0) -> float:
    for _ in range(warmup):
        function()
    times = []
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run_seconds(command: list[str], repeats: int, env: dict[str, str] | None = None,
                timeout: float = 3600) -> float:
    """Median wall time of a command run to completion (it must exit 0)."""
    times = []
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    return statistics.median(times)


def label(rows: int) -> str:
    if rows >= 1_000_000 and rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows >= 1000 and rows % 1000 == 0:
        return f"{rows // 1000}k"
    return str(rows)


def kpi_xl_command() -> list[str]:
    """The installed ``kpi-xl`` script beside this Python, else ``python -m kpi_xl``."""
    script = Path(sys.executable).with_name("kpi-xl")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kpi_xl"]


def target_text(ok: bool, wanted: str, detail: str = "") -> str:
    return f"{wanted}: {'met' if ok else 'MISSED'}" + (f" ({detail})" if detail else "")


# ------------------------------------------------------------------ machine


def machine() -> dict[str, str]:
    import numba
    import openpyxl
    import pandas
    from lxml import etree

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu,
        "cores": str(cores),
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numba": numba.__version__,
        "numpy": np.__version__,
        "pandas": pandas.__version__,
        "python-calamine": _version("python-calamine"),
        "openpyxl": openpyxl.__version__,
        "lxml": ".".join(map(str, etree.LXML_VERSION)),
        "libreoffice": spreadsheet.version(),
    }


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# ------------------------------------------------------------------ kernels


def input_columns(plan) -> list[np.ndarray]:
    """The arrays the kernels read: per scorecard row and per employee."""
    return [
        plan.row_kpi, plan.target, plan.actual, plan.row_employee, plan.weight,
        plan.base_salary, plan.target_bonus_pct, plan.proration, plan.eligible,
        plan.employee_department, plan.employee_tier_table,
    ]


def bandwidth_floor(columns: list[np.ndarray]) -> float:
    """One NumPy pass over every input column: what reading them from memory costs."""
    total = 0.0
    for column in columns:
        total += float(np.count_nonzero(column) if column.dtype == np.bool_ else column.sum())
    return total


def check_agreement(plan, scores, tables, reference_scores=None) -> None:
    """The analyst's pandas version (and the reference twin) give the engine's numbers."""
    theirs = analyst.score_company(tables)
    problems = []

    def same(name: str, a: np.ndarray, b: np.ndarray, exact: bool = True) -> None:
        a = np.asarray(a, dtype=float)
        b = np.asarray(b, dtype=float)
        ok = np.array_equal(a, b, equal_nan=True) if exact else np.allclose(a, b, rtol=1e-12, atol=1e-9)
        if not ok:
            where = np.flatnonzero(~np.isclose(a, b, rtol=0 if exact else 1e-12, atol=0 if exact else 1e-9))[:3]
            problems.append(f"{name} differs at employees {where.tolist()}: {a[where]} vs {b[where]}")

    same("pandas payout", theirs["payout"].to_numpy(), scores.payout)
    same("pandas multiplier", theirs["multiplier"].to_numpy(), scores.multiplier)
    same("pandas gate", theirs["gate_failed"].to_numpy(), scores.gate_failed)
    same("pandas proration", theirs["proration"].to_numpy(), plan.proration)
    same("pandas payout_before_pool", theirs["payout_before_pool"].to_numpy(), scores.payout_before_pool)
    same("pandas total_score", theirs["total_score"].to_numpy(), scores.total, exact=False)
    same("pandas pool_factor", theirs["pool_factor"].to_numpy(),
         scores.department_factor[plan.employee_department], exact=False)
    if reference_scores is not None:
        same("reference payout", reference_scores.payout, scores.payout)
        same("reference total_score", reference_scores.total, scores.total, exact=False)
        same("reference score", reference_scores.score, scores.score, exact=False)
    if problems:
        raise AssertionError("the contenders disagree with the engine: " + "; ".join(problems))


def kernels(sizes: list[int], repeats: int, reference_limit: int = 1_000_000,
            log: Callable[[str], None] = print) -> list[Row]:
    from kpi_xl.engine import run_plan

    rows: list[Row] = []
    for size in sizes:
        name = label(size)
        log(f"kernels {name}: generating and compiling the plan")
        tables = data.company(size)
        started = time.perf_counter()
        plan, _ = data.plan_of(tables)
        compile_seconds = time.perf_counter() - started
        scores = run_plan(plan, "numba")
        reference_scores = run_plan(plan, "reference") if size <= reference_limit else None
        check_agreement(plan, scores, tables, reference_scores)
        log(f"kernels {name}: timing (the pandas version and the reference twin agree with the engine)")
        slow_repeats = max(1, repeats if size < 1_000_000 else min(repeats, 3))
        kernel = median_seconds(lambda: run_plan(plan, "numba"), max(repeats, 5), warmup=1)
        columns = input_columns(plan)
        floor = median_seconds(lambda: bandwidth_floor(columns), max(repeats, 5), warmup=1)
        pandas_seconds = median_seconds(lambda: analyst.score_company(tables), slow_repeats)
        megabytes = sum(c.nbytes for c in columns) / 1e6
        rows.append(Row("kernels", "kpi_xl kernels (engine.run_plan)", name, kernel,
                        note=f"{plan.n_employees:,} people; {megabytes:.1f} MB of input columns"))
        if reference_scores is not None:
            reference = median_seconds(lambda: run_plan(plan, "reference"), slow_repeats)
            rows.append(Row("kernels", "reference twin (NumPy + decimal)", name, reference,
                            "kernels", reference / kernel))
        ratio = pandas_seconds / kernel
        rows.append(Row("kernels", "pandas, as an analyst writes it", name, pandas_seconds, "kernels", ratio,
                        target_text(ratio >= 50, ">= 50x slower"), note="same payouts, checked"))
        ratio = kernel / floor
        rows.append(Row("kernels", "bandwidth floor (one NumPy pass)", name, floor, "kernels", floor / kernel,
                        target_text(ratio <= 3, "kernels <= 3x floor", f"kernels are {ratio:.1f}x"),
                        note=f"{megabytes / floor / 1000:.1f} GB/s"))
        rows.append(Row("kernels", "  (kpi_xl validate + compile, from tables)", name, compile_seconds,
                        "kernels", compile_seconds / kernel, note="once per workbook; not in the kernel time"))
    return rows


# ------------------------------------------------------------------ workbooks on disk


def work_directory(path: str | None = None) -> Path:
    base = Path(path) if path else Path(tempfile.gettempdir()) / "kpi_xl-bench"
    base.mkdir(parents=True, exist_ok=True)
    return base


def workbook(size: int, work: Path, log: Callable[[str], None] = print) -> Path:
    """The generated company as an xlsx, cached in work (the generator's seed and version in its name)."""
    path = work / f"company-{label(size)}-{data.SEED}-v{data.VERSION}.xlsx"
    if not path.exists():
        log(f"writing the {label(size)}-row workbook (once; cached in {work})")
        temporary = path.with_suffix(".part.xlsx")
        data.write_xlsx(data.company(size), temporary)
        os.replace(temporary, path)
    return path


# ------------------------------------------------------------------ I/O floor


def read_floor(path: Path) -> None:
    """The fastest read of the input values: python-calamine, every sheet."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    try:
        for name in book.sheet_names:
            book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    finally:
        book.close()


def _records(frame) -> list[list[Any]]:
    columns = []
    for name in frame.columns:
        values = frame[name].tolist()
        columns.append([None if isinstance(v, float) and not np.isfinite(v) else v for v in values])
    return [list(frame.columns), *map(list, zip(*columns))]


def write_openpyxl(frames: dict[str, Any], destination: Any) -> None:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    for name, frame in frames.items():
        sheet = book.create_sheet(name)
        for record in _records(frame):
            sheet.append(record)
    book.save(destination)


def write_xlsxwriter(frames: dict[str, Any], destination: Any) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(destination, {"constant_memory": True, "in_memory": False})
    for name, frame in frames.items():
        sheet = book.add_worksheet(name)
        for r, record in enumerate(_records(frame)):
            sheet.write_row(r, 0, record)
    book.close()


def write_rust(frames: dict[str, Any], destination: Any) -> None:
    import rustpy_xlsxwriter

    rustpy_xlsxwriter.write_worksheets([(name, frame) for name, frame in frames.items()], destination)


WRITERS: dict[str, tuple[str, Callable[[dict[str, Any], Any], None]]] = {
    "openpyxl": ("openpyxl write-only (lxml)", write_openpyxl),
    "xlsxwriter": ("XlsxWriter constant_memory", write_xlsxwriter),
    "rustpy_xlsxwriter": ("rustpy-xlsxwriter (Rust)", write_rust),
}


def available_writers() -> list[str]:
    import importlib.util

    return [name for name in WRITERS if importlib.util.find_spec(name) is not None]


# ------------------------------------------------------------------ end to end


def end_to_end(size: int, repeats: int, work: Path, writers: list[str] | None = None,
               libreoffice: bool = True, log: Callable[[str], None] = print) -> list[Row]:
    import kpi_xl
    from kpi_xl.api import score_book
    from kpi_xl.reading import read_workbook

    name = label(size)
    rows: list[Row] = []
    book = workbook(size, work, log)
    out = work / f"scored-{name}.xlsx"
    command = [*kpi_xl_command(), "score", str(book), "-o", str(out)]
    log(f"end to end {name}: kpi-xl score (one run first to warm the numba cache)")
    run_seconds(command, 1)
    wall = run_seconds(command, repeats)

    # the file kpi-xl wrote holds the engine's payouts
    outcome = kpi_xl.score_workbook(book)
    assert outcome.ok and outcome.payouts is not None
    _check_written(out, outcome)

    raw_seconds = median_seconds(lambda: read_workbook(book), repeats)
    raw = read_workbook(book)
    score_seconds = median_seconds(lambda: score_book(raw), repeats)
    written = work / f"scored-{name}-inprocess.xlsx"
    write_seconds = median_seconds(lambda: kpi_xl.write_workbook(outcome, book, written), repeats)

    log(f"end to end {name}: the I/O floor")
    read = median_seconds(lambda: read_floor(book), repeats)
    frames = {"Results": outcome.results, "Payouts": outcome.payouts, "Departments": outcome.departments}
    writer_rows = []
    for writer in writers if writers is not None else available_writers():
        title, function = WRITERS[writer]
        seconds = median_seconds(lambda: function(frames, str(work / f"floor-{writer}.xlsx")), repeats)
        writer_rows.append((seconds, title))
    fastest, fastest_title = min(writer_rows)
    floor = read + fastest
    ratio = wall / floor
    rows.append(Row("end to end", "kpi-xl score (fresh process, warm cache)", name, wall, "I/O floor", ratio,
                    target_text(ratio <= 1.5, "<= 1.5x I/O floor", f"{ratio:.2f}x")))
    rows.append(Row("end to end", "  read (kpi_xl.reading, in process)", name, raw_seconds, "I/O floor",
                    raw_seconds / floor))
    rows.append(Row("end to end", "  validate, compile, score, notes", name, score_seconds, "I/O floor",
                    score_seconds / floor))
    rows.append(Row("end to end", "  write (kpi_xl.writing, in process)", name, write_seconds, "I/O floor",
                    write_seconds / floor))
    rows.append(Row("end to end", "I/O floor: read + fastest write", name, floor, "kpi-xl score", floor / wall,
                    note=f"calamine + {fastest_title}"))
    rows.append(Row("end to end", "  read: python-calamine, all sheets", name, read))
    for seconds, title in sorted(writer_rows):
        rows.append(Row("end to end", f"  write: {title}", name, seconds))

    if libreoffice:
        rows += _libreoffice(size, repeats, work, wall, log)
    return rows


def _check_written(path: Path, outcome) -> None:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    try:
        values = book.get_sheet_by_name("Payouts").to_python()
    finally:
        book.close()
    header = values[0]
    payout = np.array([row[header.index("payout")] for row in values[1:]], dtype=float)
    if not np.array_equal(payout, outcome.payouts["payout"].to_numpy(dtype=float)):
        raise AssertionError(f"{path.name}: the Payouts sheet does not hold the engine's payouts")


def _libreoffice(size: int, repeats: int, work: Path, wall: float, log: Callable[[str], None]) -> list[Row]:
    name = label(size)
    if spreadsheet.soffice() is None:
        return [Row("end to end", "LibreOffice Calc recalculation", name, None,
                    value="not run", note=f"LibreOffice missing: {spreadsheet.INSTALL_HINT}")]
    from kpi_xl.engine import run_plan

    tables = data.company(size)
    formulas = work / f"formulas-{name}-{data.SEED}-v{data.VERSION}.xlsx"
    if not formulas.exists():
        log(f"LibreOffice {name}: writing the formula workbook")
        spreadsheet.write_formula_book(tables, formulas)
    empty = spreadsheet.write_empty_book(work / "empty.xlsx")
    profile = work / "lo-profile"
    out = work / "lo-out"
    log(f"LibreOffice {name}: start-up on an empty workbook, then the recalculation")
    spreadsheet.convert(empty, out, profile)  # first start creates the profile
    startup = statistics.median(spreadsheet.convert(empty, out, profile) for _ in range(max(repeats, 3)))
    total = statistics.median(spreadsheet.convert(formulas, out, profile) for _ in range(max(1, repeats)))
    recalculation = max(total - startup, 1e-9)

    # LibreOffice's numbers are the engine's
    plan, _ = data.plan_of(tables)
    scores = run_plan(plan)
    theirs = spreadsheet.read_results(out / formulas.name)
    unpooled = scores.department_factor[plan.employee_department] == 1.0
    checks = [
        np.allclose(theirs["total_score"].astype(float), scores.total, rtol=1e-9),
        np.allclose(theirs["payout_before_pool"].astype(float), scores.payout_before_pool, rtol=1e-12, atol=0),
        np.array_equal(theirs["payout"].astype(float).to_numpy()[unpooled], scores.payout[unpooled]),
    ]
    if not all(checks):
        raise AssertionError(f"LibreOffice's recalculated numbers differ from the engine's: {checks}")
    ratio = recalculation / wall
    return [
        Row("end to end", "LibreOffice Calc recalculation (formulas)", name, recalculation, "kpi-xl score",
            ratio, target_text(ratio >= 10, ">= 10x slower"),
            note=f"{total:.1f} s convert - {startup:.1f} s start-up; same totals and payouts"),
        Row("end to end", "  LibreOffice start-up (empty workbook)", name, startup),
    ]


# ------------------------------------------------------------------ cold start


def small_workbook(work: Path) -> Path:
    from kpi_xl import templates

    path = work / "example_company.xlsx"
    if not path.exists():
        templates.save_reproducibly(templates.build_example_company(), path)
    return path


def cold_start(repeats: int, work: Path, log: Callable[[str], None] = print) -> list[Row]:
    book = small_workbook(work)
    out = work / "example_company.scored.xlsx"
    command = [*kpi_xl_command(), "score", str(book), "-o", str(out)]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
        environment = dict(os.environ, NUMBA_CACHE_DIR=cache)
        log("cold start: scoring the example company with an empty numba cache")
        first = run_seconds(command, 1, environment)
        warm = run_seconds(command, max(repeats, 3), environment)
    rows.append(Row("cold start", "kpi-xl score, small workbook, empty numba cache", "example", first,
                    "warm cache", first / warm, note="JIT compiles every kernel once"))
    rows.append(Row("cold start", "kpi-xl score, small workbook, warm cache", "example", warm,
                    target=target_text(warm <= 1.5, "<= 1.5 s", f"{warm:.2f} s")))
    python = [sys.executable]
    bare = run_seconds([*python, "-c", "pass"], max(repeats, 5))
    imported = run_seconds([*python, "-c", "import kpi_xl"], max(repeats, 5))
    api = run_seconds([*python, "-c", "import kpi_xl.api, kpi_xl.writing"], max(repeats, 5))
    helped = run_seconds([*kpi_xl_command(), "--help"], max(repeats, 5))
    rows.append(Row("cold start", "python -c 'import kpi_xl' (wall)", "", imported, "bare python", imported / bare,
                    note=f"self {import_time('kpi_xl') * 1000:.1f} ms by -X importtime"))
    rows.append(Row("cold start", "python -c 'import kpi_xl.api, kpi_xl.writing'", "", api, "bare python",
                    api / bare, note="what scoring imports: numpy, pandas, numba, openpyxl"))
    rows.append(Row("cold start", "kpi-xl --help (wall)", "", helped, "bare python", helped / bare))
    rows.append(Row("cold start", "python -c pass (interpreter start-up)", "", bare))
    return rows


def import_time(module: str) -> float:
    """Cumulative seconds of importing module, as ``python -X importtime`` reports it."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                          capture_output=True, text=True, check=True)
    for line in done.stderr.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1]) / 1e6
    return float("nan")


# ------------------------------------------------------------------ peak memory


RSS_PROBE = """
import resource, subprocess, sys, time, json
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
print(json.dumps({"rc": done.returncode, "peak_kib": peak, "seconds": elapsed, "stderr": done.stderr[-500:]}))
"""


def peak_rss(command: list[str]) -> tuple[float, float]:
    """(peak RSS in bytes, wall seconds) of a command, measured by a parent that runs only it."""
    done = subprocess.run([sys.executable, "-c", RSS_PROBE, *command], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)
    if result["rc"] != 0:
        raise RuntimeError(f"{' '.join(command)} exited {result['rc']}: {result['stderr']}")
    return result["peak_kib"] * 1024.0, result["seconds"]


def peak_memory(size: int, work: Path, log: Callable[[str], None] = print) -> list[Row]:
    name = label(size)
    book = workbook(size, work, log)
    out = work / f"scored-{name}.xlsx"
    log(f"peak memory {name}: kpi-xl score in a child process")
    peak, seconds = peak_rss([*kpi_xl_command(), "score", str(book), "-o", str(out)])
    gib = peak / 2**30
    return [
        Row("peak memory", "kpi-xl score: peak RSS", name, None, value=f"{gib:.2f} GiB",
            target=target_text(gib <= 1.5, "<= 1.5 GB"), note=f"workbook {book.stat().st_size / 1e6:.0f} MB"),
        Row("peak memory", "kpi-xl score: wall time of that run", name, seconds),
    ]


# ------------------------------------------------------------------ the table


def format_seconds(seconds: float) -> str:
    if seconds >= 100:
        return f"{seconds:,.0f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


def format_table(rows: list[Row]) -> str:
    header = ["section", "what", "size", "median", "ratio", "target", "note"]
    cells = []
    for row in rows:
        shown = row.value if row.seconds is None else format_seconds(row.seconds)
        ratio = ""
        if row.ratio is not None:
            ratio = f"{row.ratio:,.1f}x {row.compared_with}" if row.ratio >= 0.1 else f"{row.ratio:.3f}x {row.compared_with}"
        cells.append([row.section, row.what, row.size, shown, ratio, row.target, row.note])
    widths = [max(len(header[i]), *(len(c[i]) for c in cells)) if cells else len(header[i]) for i in range(len(header))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for c in cells:
        lines.append("| " + " | ".join(v.ljust(w) for v, w in zip(c, widths)) + " |")
    return "\n".join(lines)


def as_json(rows: list[Row], info: dict[str, str]) -> str:
    return json.dumps({"machine": info, "rows": [asdict(r) for r in rows]}, indent=1, ensure_ascii=False)
