"""Hostile and fragile files: refused fast with one clear line, nothing damaged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kpi_xl.cli import main
from tests.conftest import SMOKE_SHEETS, sha256, write_sheets

EMPLOYEES_PART = "xl/worksheets/sheet4.xml"  # the smoke book's fourth sheet

LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode() for i in range(1, 10)
    )
    + b"]>"
)
EXTERNAL = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def rewrite(source: Path, target: Path, member: str, change) -> Path:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, change(data) if info.filename == member else data)
    return target


def body(data: bytes) -> bytes:
    return data.split(b"?>", 1)[1] if data.startswith(b"<?xml") else data


HOSTILE = {
    "billion_laughs": lambda d: LAUGHS + body(d).replace(b"<t>Ann</t>", b"<t>&lol9;</t>", 1),
    "external_entity": lambda d: EXTERNAL + body(d).replace(b"<t>Ann</t>", b"<t>&xxe;</t>", 1),
    "billion_rows": lambda d: d.replace(b'<row r="4"', b'<row r="1000000000"').replace(b'r="A4"', b'r="A1000000000"'),
    "last_cell_of_excel": lambda d: d.replace(b'r="E4"', b'r="XFD1048576"'),
}
EXPECTED = {
    "billion_laughs": "declares XML entities",
    "external_entity": "declares XML entities",
    "billion_rows": "beyond Excel's last row",
    "last_cell_of_excel": "more than kpi-xl reads",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_xml_is_refused_quickly(kind: str, tmp_path: Path, capsys) -> None:
    base = write_sheets(tmp_path / "base.xlsx", SMOKE_SHEETS)
    path = rewrite(base, tmp_path / f"{kind}.xlsx", EMPLOYEES_PART, HOSTILE[kind])
    before = sha256(path)
    started = time.perf_counter()
    assert main(["score", str(path)]) == 2
    assert time.perf_counter() - started < 30  # generous: the point is "not hours", not a benchmark
    err = capsys.readouterr().err.strip()
    assert EXPECTED[kind] in err and len(err.splitlines()) == 1
    assert "root:" not in err  # nothing of /etc/passwd leaks
    assert sha256(path) == before


def test_hostile_run_keeps_memory_bounded(tmp_path: Path) -> None:
    """The 16-billion-cell sheet is refused in a fresh process without a large allocation."""
    base = write_sheets(tmp_path / "base.xlsx", SMOKE_SHEETS)
    path = rewrite(base, tmp_path / "huge.xlsx", EMPLOYEES_PART, HOSTILE["last_cell_of_excel"])
    code = (
        "import resource, sys; from kpi_xl.cli import main; rc = main(['check', sys.argv[1]]);"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(rc)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert int(done.stdout.strip()) < 600_000  # KiB: far from the 256 GB the sheet claims


def make_xlsm(path: Path) -> Path:
    """The smoke book as a macro-enabled workbook with a (stand-in) VBA project."""
    base = write_sheets(path.with_suffix(".tmp.xlsx"), SMOKE_SHEETS)
    vba = bytes(range(256)) * 64
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                ).replace(b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>')
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>',
                )
            zout.writestr(info, data)
        zout.writestr("xl/vbaProject.bin", vba)
    base.unlink()
    return path


def test_macros_survive_in_place(tmp_path: Path) -> None:
    path = make_xlsm(tmp_path / "plan.xlsm")
    with zipfile.ZipFile(path) as archive:
        vba = archive.read("xl/vbaProject.bin")
    assert main(["score", str(path), "--in-place"]) == 0
    with zipfile.ZipFile(path) as archive:
        assert archive.read("xl/vbaProject.bin") == vba
        types = archive.read("[Content_Types].xml")
        assert b"macroEnabled.main+xml" in types and b"vbaProject" in archive.read("xl/_rels/workbook.xml.rels")
    assert openpyxl.load_workbook(path, keep_vba=True)["Payouts"]["K2"].value == 7894.74
    assert list(tmp_path.glob("plan.backup-*.xlsm"))


@pytest.mark.parametrize("text", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1)"])
def test_formula_like_text_never_becomes_a_formula(text: str, tmp_path: Path) -> None:
    sheets = {k: [list(r) for r in v] for k, v in SMOKE_SHEETS.items()}
    path = write_sheets(tmp_path / "inj.xlsx", sheets)
    book = openpyxl.load_workbook(path)
    book["Employees"]["B2"] = text
    book["Employees"]["B2"].data_type = "s"  # what a user typing it as text stores
    book.save(path)
    output = tmp_path / "inj.out.xlsx"
    assert main(["score", str(path), "-o", str(output)]) == 0
    payouts = openpyxl.load_workbook(output)["Payouts"]
    assert payouts["B2"].value == text and payouts["B2"].data_type == "s"
    with zipfile.ZipFile(output) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/kpixl"):
                assert b"<f>" not in archive.read(name)


def _big_book(path: Path, people: int) -> Path:
    sheets = {k: [list(r) for r in v] for k, v in SMOKE_SHEETS.items() if k not in ("Employees", "Scorecards", "Pools")}
    sheets["Employees"] = [SMOKE_SHEETS["Employees"][0]] + [[5000 + i, f"P{i}", "Sales", 50000, 0.1] for i in range(people)]
    sheets["Scorecards"] = [SMOKE_SHEETS["Scorecards"][0]] + [[5000 + i, "REV", 1, 100, 90 + i % 30] for i in range(people)]
    sheets["Pools"] = [["department", "pool"], ["Sales", 1e6]]
    return write_sheets(path, sheets)


def test_sigkill_at_any_moment_leaves_the_input_intact(tmp_path: Path) -> None:
    path = _big_book(tmp_path / "big.xlsx", 4000)
    original = path.read_bytes()
    command = [sys.executable, "-m", "kpi_xl", "score", str(path), "--in-place", "-q"]
    started = time.perf_counter()
    subprocess.run(command, check=True, timeout=300)
    full = time.perf_counter() - started
    scored = path.read_bytes()
    for fraction in (0.1, 0.3, 0.5, 0.7, 0.85, 0.95):
        path.write_bytes(original)
        for old in tmp_path.glob("big.backup-*"):
            old.unlink()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(full * fraction)
        process.send_signal(signal.SIGKILL)
        process.wait()
        data = path.read_bytes()
        if data != original:  # the replace happened: then it is the whole new file
            book = openpyxl.load_workbook(path, read_only=True)
            assert "Payouts" in book.sheetnames
            book.close()
            assert len(data) == len(scored)
        for leftover in tmp_path.glob(".big.*kpi-xl-tmp*"):
            leftover.unlink()  # a killed run cannot clean up its temporary; it is never in place
    assert os.path.exists(path)
