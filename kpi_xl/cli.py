"""The ``kpi-xl`` command line: a thin shell over ``kpi_xl.api``.

Exit status: 0 scored (warnings allowed), 1 the workbook has errors,
2 the command was misused or the file cannot be read as a workbook.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

DESCRIPTION = """\
kpi-xl scores KPI scorecards and computes KPI-linked bonuses from an Excel
workbook: attainment per KPI, weighted score, bonus tier and payout, with
proration, gates, pools and cent-exact rounding.

Start here:
  kpi-xl new my_plan.xlsx          a template to fill in (--lang zh for Chinese)
  kpi-xl check my_plan.xlsx        list every problem, with its cell
  kpi-xl score my_plan.xlsx        write my_plan.scored.xlsx with the results
  kpi-xl demo                      build and score an example company
  kpi-xl split my_plan.xlsx        one file per department to fill in
  kpi-xl collect my_plan.xlsx DIR  merge the returned files into a new master
  kpi-xl whatif my_plan.xlsx       score the Scenarios sheet's what-ifs side by side
  kpi-xl simulate my_plan.xlsx     the bonus cost in 10,000 possible year-ends
  kpi-xl review my_plan.scored.xlsx  the monthly review: one sheet per department, charts
"""

EPILOG = """\
exit status: 0 scored (warnings allowed), 1 the workbook has errors,
2 the command was misused or the file is not a readable workbook.
The workbook format is described in docs/workbook.md."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kpi-xl",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kpi-xl {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    score = commands.add_parser(
        "score",
        help="score a workbook and write the results",
        description="Score INPUT and write its sheets plus Results, Payouts and Departments "
        "(or a Problems sheet when the workbook has errors).",
    )
    score.add_argument("input", type=Path, metavar="INPUT.xlsx")
    where = score.add_mutually_exclusive_group()
    where.add_argument(
        "-o", "--output", type=Path, metavar="OUTPUT.xlsx",
        help="where to write (default: INPUT.scored.xlsx beside the input)",
    )
    where.add_argument(
        "--in-place", action="store_true",
        help="write into INPUT itself, atomically, after keeping a backup copy",
    )
    score.add_argument(
        "--engine", choices=("numba", "reference"), default=None,
        help="scoring engine (default numba; reference is the plain-NumPy twin)",
    )
    score.add_argument(
        "--csv", type=Path, metavar="DIR",
        help="also write each output sheet as DIR/NAME.csv (UTF-8, for payroll imports)",
    )
    score.add_argument("-q", "--quiet", action="store_true", help="print problems only")

    check = commands.add_parser(
        "check", help="validate a workbook without scoring it",
        description="List every problem in INPUT with its cell; writes nothing.",
    )
    check.add_argument("input", type=Path, metavar="INPUT.xlsx")

    new = commands.add_parser(
        "new", help="write a blank template to fill in",
        description="Write a template workbook with headers, example rows and dropdowns.",
    )
    new.add_argument("file", type=Path, metavar="FILE.xlsx")
    new.add_argument("--lang", choices=("en", "zh"), default="en", help="template language")
    new.add_argument("--force", action="store_true", help="overwrite FILE if it exists")

    demo = commands.add_parser(
        "demo", help="build and score an example company",
        description="Write example_company.xlsx (about 40 employees in 4 departments), "
        "score it and print a short summary.",
    )
    demo.add_argument(
        "-o", "--output-dir", type=Path, default=Path("kpi-xl-demo"),
        help="folder for the demo files (default: ./kpi-xl-demo)",
    )
    whatif = commands.add_parser(
        "whatif", help="score every scenario of the Scenarios sheet side by side",
        description="Score the plan and every scenario of the Scenarios sheet (changes to KPI results, "
        "departments, the company multiplier or tier multipliers) on the same compiled plan, and write "
        "a copy of INPUT with a Scenario results sheet: payout by department and in total per scenario, "
        "and the difference to the base plan.",
    )
    whatif.add_argument("input", type=Path, metavar="INPUT.xlsx")
    whatif.add_argument(
        "-o", "--output", type=Path, metavar="OUTPUT.xlsx",
        help="where to write (default: INPUT.whatif.xlsx beside the input)",
    )
    whatif.add_argument(
        "--engine", choices=("numba", "reference"), default=None,
        help="scoring engine (default numba; reference is the plain-NumPy twin)",
    )

    simulate = commands.add_parser(
        "simulate", help="Monte Carlo bonus cost from the Forecast sheet",
        description="Draw RUNS scenarios of the year-end actuals from the Forecast sheet, score each "
        "scenario with the same engine, and write the distribution of the bonus cost (mean, P10, P50, "
        "P90, P99, chance of exceeding the bonus budget) with a histogram chart to a new workbook.",
    )
    simulate.add_argument("input", type=Path, metavar="INPUT.xlsx")
    simulate.add_argument("--runs", type=int, default=10_000, help="scenarios (default 10,000)")
    simulate.add_argument("--seed", type=int, default=1, help="random seed: the same seed, the same numbers")
    simulate.add_argument(
        "-o", "--output", type=Path, metavar="OUTPUT.xlsx",
        help="where to write (default: INPUT.simulation.xlsx beside the input)",
    )
    simulate.add_argument(
        "--engine", choices=("numba", "reference"), default=None,
        help="numba (parallel, default) or the plain-NumPy reference twin",
    )

    addin = commands.add_parser(
        "addin", help="install the classic Excel add-in (desktop Excel on Windows or Mac)",
        description="Install, remove or check the classic kpi_xl add-in: a KPI tab with a Score "
        "button, and the KPI_... functions on Windows (docs/install-classic.md).",
    )
    addin.add_argument("action", choices=("install", "remove", "status"))
    addin.add_argument(
        "--dir", type=Path, metavar="FOLDER",
        help="Excel's startup folder (default: this user's XLSTART folder)",
    )
    addin.add_argument(
        "--force", action="store_true",
        help="replace (install) or delete (remove) a different kpi_xl.xlam already there",
    )

    serve = commands.add_parser(
        "serve", help="serve the Office.js add-in (Excel on the web, Windows, Mac)",
        description="Serve the kpi_xl add-in: its task pane, ribbon buttons and custom functions, "
        "for Excel on the web, Windows and Mac (docs/install-officejs.md). Every /api call needs "
        "the access key (from KPI_XL_ACCESS_KEY, --access-key-file, or a new one printed at start), "
        "except with --dev on this computer only.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--base-url", metavar="URL",
        help="the https address users reach the server at, written into the manifest "
        "(default: https://HOST:PORT with --certfile, else http://HOST:PORT)",
    )
    serve.add_argument("--certfile", type=Path, help="TLS certificate (PEM) for https; Office needs https")
    serve.add_argument("--keyfile", type=Path, help="TLS private key (PEM) for the certificate")
    serve.add_argument("--access-key-file", type=Path, metavar="FILE", help="read the access key from FILE")
    serve.add_argument(
        "--dev", action="store_true",
        help="development mode: no access key; allowed on a loopback address only",
    )
    serve.add_argument(
        "--allow-origin", action="append", default=[], metavar="ORIGIN",
        help="allow cross-origin calls from ORIGIN (repeatable; none by default, Office needs none)",
    )
    serve.add_argument(
        "--max-body-mb", type=int, default=64, metavar="MB", help="largest request accepted (default 64 MB)",
    )
    serve.add_argument(
        "--max-busy", type=int, default=2, metavar="N",
        help="workbooks scored at once; more wait, then get 'busy' (default 2)",
    )
    split = commands.add_parser(
        "split", help="one protected scorecard file per department (or manager) to fill in",
        description="Write one workbook per department (or manager) holding its people and their "
        "scorecard rows, with live scores; only actual and comment can be typed in "
        "(docs/department-heads.md).",
    )
    split.add_argument("master", type=Path, metavar="MASTER.xlsx")
    split.add_argument("--by", choices=("department", "manager"), default="department",
                       help="one file per department (default) or per manager's direct reports")
    split.add_argument("-o", "--output-dir", type=Path, metavar="DIR",
                       help="folder for the files (default: MASTER's name + ' split' beside it)")
    split.add_argument("--force", action="store_true", help="replace files of an earlier split in DIR")

    collect = commands.add_parser(
        "collect", help="merge the returned department files into a new master",
        description="Check the returned files against their fingerprints and merge their actuals "
        "and comments into a NEW workbook (MASTER is never changed), with a Collection sheet "
        "recording every change and a Collection problems sheet.",
    )
    collect.add_argument("master", type=Path, metavar="MASTER.xlsx")
    collect.add_argument("inputs", type=Path, nargs="+", metavar="FILES|DIR")
    collect.add_argument("-o", "--output", type=Path, metavar="OUT.xlsx",
                         help="where to write (default: MASTER.collected.xlsx beside the master)")

    review = commands.add_parser(
        "review", help="the monthly review: misses, trend and charts per department, and the cascade check",
        description="Write a new workbook with a Review sheet per department (KPIs met, worst misses "
        "with cause and action columns, trend and year to date when Scorecards has a period column, "
        "charts) and the Alignment sheet (the KPI cascade and weights by perspective).",
    )
    review.add_argument("input", type=Path, metavar="SCORED.xlsx")
    review.add_argument("-o", "--output", type=Path, metavar="OUT.xlsx",
                        help="where to write (default: INPUT.review.xlsx beside the input)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse exits 2 on misuse, 0 on --help
        return int(stop.code or 0)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        _say("interrupted: nothing was written")
        return EXIT_USAGE
    except BrokenPipeError:  # `kpi-xl ... | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_USAGE
    except Exception as exc:  # never a traceback at a user
        if os.environ.get("KPI_XL_DEBUG"):
            raise
        from .reading import WorkbookUnreadable

        if isinstance(exc, WorkbookUnreadable):
            _say(f"kpi-xl: {exc}")
        else:
            _say(
                f"kpi-xl: could not finish ({type(exc).__name__}: {exc}); "
                "nothing was changed. Set KPI_XL_DEBUG=1 for details."
            )
        return EXIT_USAGE


# ------------------------------------------------------------------ commands


def _score(args: argparse.Namespace) -> int:
    from .api import score_workbook
    from .writing import OutputRefused, excel_lock_file, write_in_place, write_workbook

    source: Path = args.input
    if args.output is not None and args.output.resolve() == source.resolve():
        _say("kpi-xl: -o names the input itself; use --in-place to write into it")
        return EXIT_USAGE
    destination = args.output or source.with_name(f"{source.stem}.scored{_suffix(source)}")
    if not destination.parent.exists():
        _say(f"kpi-xl: the folder {destination.parent} does not exist")
        return EXIT_USAGE
    lock = excel_lock_file(destination)
    if lock is not None and not args.in_place:
        _say(f"kpi-xl: {destination.name} is open in Excel ({lock.name} exists): close it there first")
        return EXIT_USAGE
    outcome = score_workbook(source, engine=args.engine)
    _print_problems(outcome.problems)
    if args.in_place and outcome.ok:
        try:
            written, backup = write_in_place(outcome, source)
        except OutputRefused as refused:
            _say(f"kpi-xl: {refused}")
            return EXIT_USAGE
        note = f" (backup: {backup.name})"
    else:
        note = " (the input is left unchanged because it has errors)" if args.in_place else ""
        written = write_workbook(outcome, source, destination)
    if args.csv is not None:
        from .exporting import write_csv

        files = write_csv(outcome, args.csv)
        if not args.quiet:
            print(f"CSV: {', '.join(str(f) for f in files)}")
    if not outcome.ok:
        _say(
            f"{len(outcome.errors)} error(s), {len(outcome.warnings)} warning(s): not scored. "
            f"Problems written to {written}{note}"
        )
        return EXIT_PROBLEMS
    if not args.quiet:
        _print_summary(outcome)
        print(f"Written to {written}{note}")
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from .api import check_workbook

    outcome = check_workbook(args.input)
    _print_problems(outcome.problems)
    if outcome.ok:
        print(f"{args.input.name}: no errors ({len(outcome.warnings)} warning(s))")
        return EXIT_OK
    _say(f"{args.input.name}: {len(outcome.errors)} error(s), {len(outcome.warnings)} warning(s)")
    return EXIT_PROBLEMS


def _new(args: argparse.Namespace) -> int:
    from .templates import build_template
    from .writing import save_atomically

    target: Path = args.file
    if target.suffix.lower() != ".xlsx":
        _say("kpi-xl: the template's name must end in .xlsx")
        return EXIT_USAGE
    if target.exists() and not args.force:
        _say(f"kpi-xl: {target} already exists (use --force to overwrite it)")
        return EXIT_USAGE
    if not target.parent.exists():
        _say(f"kpi-xl: the folder {target.parent} does not exist")
        return EXIT_USAGE
    save_atomically(build_template(args.lang), target)
    print(f"Template written to {target}: fill in the sheets, then run: kpi-xl check {target}")
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from .api import score_workbook
    from .templates import build_example_company
    from .writing import save_atomically, write_workbook

    folder: Path = args.output_dir
    folder.mkdir(parents=True, exist_ok=True)
    source = save_atomically(build_example_company(), folder / "example_company.xlsx")
    outcome = score_workbook(source)
    _print_problems(outcome.problems)
    written = write_workbook(outcome, source, folder / "example_company.scored.xlsx")
    if not outcome.ok:
        _say(f"the example has errors; see {written}")
        return EXIT_PROBLEMS
    print(f"Example company: {source}")
    _print_summary(outcome)
    print(f"Scored workbook: {written}")
    return EXIT_OK


def _simulate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .reading import read_workbook
    from .simulation import SimulationResult, simulate_book, write_simulation

    if not 1 <= args.runs <= 10_000_000:
        _say("kpi-xl: --runs must be between 1 and 10,000,000")
        return EXIT_USAGE
    if args.seed < 0:
        _say("kpi-xl: --seed must be 0 or more")
        return EXIT_USAGE
    destination = args.output or args.input.with_name(f"{args.input.stem}.simulation.xlsx")
    if destination.resolve() == args.input.resolve():
        _say("kpi-xl: -o names the input itself; the simulation goes to a new file")
        return EXIT_USAGE
    raw = read_workbook(args.input)
    with tqdm(total=args.runs, unit="scenario", disable=None, file=sys.stderr) as bar:
        result = simulate_book(raw, args.runs, args.seed, args.engine, progress=bar.update)
    problems = result.problems if isinstance(result, SimulationResult) else result
    _print_problems(problems)
    if not isinstance(result, SimulationResult):
        _say(f"{args.input.name}: not simulated, fix the errors above first")
        return EXIT_PROBLEMS
    write_simulation(result, destination, raw.language)
    company = result.summary()[0]
    budget = company["bonus_budget"]
    print(
        f"{result.runs:,} scenarios (seed {result.seed}): bonus cost mean {company['mean']:,.2f}, "
        f"P10 {company['p10']:,.2f}, P50 {company['p50']:,.2f}, P90 {company['p90']:,.2f}, "
        f"P99 {company['p99']:,.2f}"
        + (f"; over the budget of {budget:,.2f} in {company['chance_over_budget']:.1%} of scenarios"
           if budget == budget else "; no bonus budget (a Pools sheet or a BONUS budget line) to compare with")
    )
    print(f"Written to {destination}")
    return EXIT_OK


def _whatif(args: argparse.Namespace) -> int:
    from .reading import read_workbook
    from .whatif import WhatIfResult, whatif_book, write_whatif
    from .writing import excel_lock_file

    source: Path = args.input
    destination = args.output or source.with_name(f"{source.stem}.whatif{_suffix(source)}")
    if destination.resolve() == source.resolve():
        _say("kpi-xl: -o names the input itself; the scenarios go to a new file")
        return EXIT_USAGE
    if not destination.parent.exists():
        _say(f"kpi-xl: the folder {destination.parent} does not exist")
        return EXIT_USAGE
    lock = excel_lock_file(destination)
    if lock is not None:
        _say(f"kpi-xl: {destination.name} is open in Excel ({lock.name} exists): close it there first")
        return EXIT_USAGE
    raw = read_workbook(source)
    result = whatif_book(raw, args.engine)
    problems = result.problems if isinstance(result, WhatIfResult) else result
    _print_problems(problems)
    if not isinstance(result, WhatIfResult):
        errors = sum(1 for p in problems if p.severity == "error")
        _say(f"{source.name}: {errors} error(s): no scenarios scored, nothing written")
        return EXIT_PROBLEMS
    written = write_whatif(result, source, destination)
    totals = result.totals()
    width = max([len(s.name) for s in result.scenarios] + [8])
    print(f"{len(result.scenarios)} scenario(s) on {int(result.headcount.sum())} employees:")
    print(f"  {'scenario':<{width}}  {'payout':>14}  {'difference':>14}  changes")
    print(f"  {'(base)':<{width}}  {result.base_total:>14,.2f}  {'':>14}")
    for scenario, total in zip(result.scenarios, totals):
        print(f"  {scenario.name:<{width}}  {total:>14,.2f}  {total - result.base_total:>+14,.2f}  "
              f"{scenario.describe(result.language)}")
    print(f"Written to {written}")
    return EXIT_OK


def _addin(args: argparse.Namespace) -> int:
    from .excel import install

    try:
        place = install.default_place() if args.dir is None else None
    except install.InstallError as problem:
        _say(f"kpi-xl: {problem}")
        return EXIT_USAGE
    if place is None:  # --dir: the configuration file goes beside the add-in
        place = install.folder_place(args.dir)
    try:
        if args.action == "install":
            said = install.install(place, force=args.force)
        elif args.action == "remove":
            said = install.remove(place, force=args.force)
        else:
            ok, said = install.status(place)
            for line in said:
                print(line)
            return EXIT_OK if ok else EXIT_PROBLEMS
    except install.InstallError as problem:
        _say(f"kpi-xl: {problem}")
        return EXIT_USAGE
    for line in said:
        print(line)
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    from .server import ServerConfig, is_loopback, new_access_key, run

    if args.dev and not is_loopback(args.host):
        _say("kpi-xl: --dev (no access key) is allowed on this computer only: use --host 127.0.0.1")
        return EXIT_USAGE
    if (args.certfile is None) != (args.keyfile is None):
        _say("kpi-xl: give both --certfile and --keyfile for https")
        return EXIT_USAGE
    for path in (args.certfile, args.keyfile, args.access_key_file):
        if path is not None and not path.is_file():
            _say(f"kpi-xl: {path} does not exist")
            return EXIT_USAGE
    key = None
    if not args.dev:
        if args.access_key_file is not None:
            key = args.access_key_file.read_text(encoding="utf-8").strip()
        else:
            key = os.environ.get("KPI_XL_ACCESS_KEY", "").strip() or None
        if key is None:
            key = new_access_key()
            print(f"Access key for this run (enter it in the kpi_xl task pane): {key}")
        elif len(key) < 16:
            _say("kpi-xl: the access key must be at least 16 characters long")
            return EXIT_USAGE
    scheme = "https" if args.certfile else "http"
    base_url = args.base_url or f"{scheme}://{args.host}:{args.port}"
    config = ServerConfig(
        access_key=key,
        dev=args.dev,
        base_url=base_url,
        allow_origins=tuple(args.allow_origin),
        max_body_bytes=args.max_body_mb * 1024 * 1024,
        max_busy=max(1, args.max_busy),
    )
    print(f"Add-in manifest: {base_url}/manifest.xml  (Ctrl+C stops the server)")
    run(
        config, args.host, args.port,
        certfile=str(args.certfile) if args.certfile else None,
        keyfile=str(args.keyfile) if args.keyfile else None,
    )
    return EXIT_OK


def _split(args: argparse.Namespace) -> int:
    from .departments.split import split

    master: Path = args.master
    if not master.is_file():
        _say(f"kpi-xl: {master} does not exist")
        return EXIT_USAGE
    folder = args.output_dir or master.with_name(f"{master.stem} split")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        result = split(master, args.by, folder, force=args.force)
    except FileExistsError as exists:
        _say(f"kpi-xl: {exists}")
        return EXIT_USAGE
    _print_problems(result.problems)
    if not result.ok:
        _say(f"{master.name} has {len(result.problems)} error(s) to fix first (kpi-xl check {master.name}); "
             "nothing was written")
        return EXIT_PROBLEMS
    for group, path in zip(result.groups, result.files):
        print(f"  {group.label}: {path}")
    print(f"{len(result.files)} file(s) written to {folder}")
    return EXIT_OK


def _collect(args: argparse.Namespace) -> int:
    from .departments.collect import collect

    master: Path = args.master
    if not master.is_file():
        _say(f"kpi-xl: {master} does not exist")
        return EXIT_USAGE
    output = args.output or master.with_name(f"{master.stem}.collected{_suffix(master)}")
    if output.resolve() == master.resolve():
        _say("kpi-xl: -o names the master itself; collect always writes a new file")
        return EXIT_USAGE
    missing = [p for p in args.inputs if not p.exists()]
    if missing:
        _say(f"kpi-xl: {missing[0]} does not exist")
        return EXIT_USAGE
    if not output.parent.exists():
        _say(f"kpi-xl: the folder {output.parent} does not exist")
        return EXIT_USAGE
    result = collect(master, list(args.inputs), output)
    for issue in result.issues[:PRINTED_PROBLEMS]:
        _say(str(issue))
    if len(result.issues) > PRINTED_PROBLEMS:
        _say(f"... and {len(result.issues) - PRINTED_PROBLEMS} more (on the Collection problems sheet)")
    print(f"{result.files} file(s) read, {len(result.changes)} cell(s) merged; written to {result.output}")
    if not result.ok:
        _say(f"{len(result.errors)} error(s): the rows they name were not merged")
        return EXIT_PROBLEMS
    return EXIT_OK


def _review(args: argparse.Namespace) -> int:
    from .departments.review import review

    source: Path = args.input
    if not source.is_file():
        _say(f"kpi-xl: {source} does not exist")
        return EXIT_USAGE
    output = args.output or source.with_name(f"{source.stem.removesuffix('.scored')}.review{_suffix(source)}")
    if output.resolve() == source.resolve():
        _say("kpi-xl: -o names the input itself; the review goes to a new file")
        return EXIT_USAGE
    if not output.parent.exists():
        _say(f"kpi-xl: the folder {output.parent} does not exist")
        return EXIT_USAGE
    result = review(source, output)
    _print_problems(result.problems)
    if not result.ok:
        _say(f"{source.name}: {len([p for p in result.problems if p.severity == 'error'])} error(s): "
             "not reviewed (fix them, or run kpi-xl check)")
        return EXIT_PROBLEMS
    period = result.periods[-1]
    if period is not None:
        print(f"Reviewed period {period} ({len(result.periods)} period(s) reported"
              + (f"; not reported yet: {', '.join(result.not_reported)}" if result.not_reported else "") + ")")
    print(f"{len(result.departments)} department(s): {', '.join(result.departments)}")
    print(f"Written to {result.output}")
    return EXIT_OK


COMMANDS = {"review": _review, "split": _split, "collect": _collect, "score": _score, "check": _check, "new": _new, "demo": _demo, "serve": _serve, "addin": _addin, "simulate": _simulate, "whatif": _whatif}


# ------------------------------------------------------------------ output


PRINTED_PROBLEMS = 50


def _print_problems(problems) -> None:
    """Problems one a line with their cell; past 50, the rest are on the Problems sheet."""
    for problem in problems[:PRINTED_PROBLEMS]:
        _say(str(problem))
    if len(problems) > PRINTED_PROBLEMS:
        _say(
            f"... and {len(problems) - PRINTED_PROBLEMS} more "
            "(kpi-xl score lists them all on the Problems sheet)"
        )


def _print_summary(outcome) -> None:
    payouts, departments = outcome.payouts, outcome.departments
    total = float(departments["payout"].sum())
    print(
        f"Scored {len(payouts)} employees ({len(outcome.results)} KPI rows) in "
        f"{len(departments)} departments; total payout {total:,.2f}"
    )
    width = max([len(str(d)) for d in departments["department"]] + [10])
    print(f"  {'department':<{width}}  {'people':>6}  {'avg score':>9}  {'payout':>14}  {'pool factor':>11}")
    for row in departments.itertuples(index=False):
        print(
            f"  {str(row.department):<{width}}  {row.headcount:>6}  {row.average_total_score:>9.1f}  "
            f"{row.payout:>14,.2f}  {row.pool_factor:>11.4f}"
        )


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _suffix(path: Path) -> str:
    return path.suffix if path.suffix.lower() in (".xlsx", ".xlsm") else ".xlsx"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kpi_xl")
    except PackageNotFoundError:
        return "0+unknown"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
