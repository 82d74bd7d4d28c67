"""python -m benchmarks [--quick] [--json FILE] ...: print one table of medians and ratios.

Everything is generated from a fixed seed (benchmarks/data.py); workbooks are
cached in the work folder (default: $TMPDIR/kpi_xl-bench).  LibreOffice is
used when installed (scripts/bench installs it on Debian/Ubuntu as root);
otherwise its row says how to install it.
"""

from __future__ import annotations

import argparse
import sys
import time

from . import suite

FULL = {"kernel_sizes": [10_000, 100_000, 1_000_000], "e2e": 100_000, "memory": 1_000_000, "repeats": 3}
QUICK = {"kernel_sizes": [10_000], "e2e": 10_000, "memory": 100_000, "repeats": 3}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: small sizes, fewer repeats")
    parser.add_argument("--repeats", type=int, help="repeats of each timing (the median is printed)")
    parser.add_argument("--only", action="append", choices=["kernels", "e2e", "cold", "memory"],
                        help="run only these sections (repeatable)")
    parser.add_argument("--no-libreoffice", action="store_true", help="skip the LibreOffice recalculation")
    parser.add_argument("--work", help="folder for generated workbooks (default $TMPDIR/kpi_xl-bench)")
    parser.add_argument("--json", help="also write the rows and the machine to this file")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    repeats = args.repeats or plan["repeats"]
    sections = set(args.only or ["kernels", "e2e", "cold", "memory"])
    work = suite.work_directory(args.work)

    def log(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    info = suite.machine()
    info["load average at start"] = suite.load_average()
    rows: list[suite.Row] = []
    started = time.perf_counter()
    if "kernels" in sections:
        rows += suite.kernels(plan["kernel_sizes"], repeats, log=log)
    if "e2e" in sections:
        rows += suite.end_to_end(plan["e2e"], repeats, work, libreoffice=not args.no_libreoffice, log=log)
    if "cold" in sections:
        rows += suite.cold_start(repeats, work, log=log)
    if "memory" in sections:
        rows += suite.peak_memory(plan["memory"], work, log=log)
    info["load average at end"] = suite.load_average()
    info["benchmark wall time"] = f"{time.perf_counter() - started:.0f} s"

    print("machine: " + "; ".join(f"{k} {v}" for k, v in info.items()))
    print("medians of %d repeats (fewer for runs over a few seconds); ratio = this row's median / the named row's" % repeats)
    print(suite.format_table(rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            handle.write(suite.as_json(rows, info))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
