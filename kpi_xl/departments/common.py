"""What split and collect share: words, the fingerprint and file names."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any, Iterable

META_SHEET = "_kpi_xl"  # veryHidden: group, master, fingerprint
FORMAT = "kpi_xl split 1"
TOLERANCE = "1E-12"  # the engine's relative tolerance (kernels.TOLERANCE), in formulas

# Words of the split files and the collect output, English and Chinese.
WORDS: dict[str, tuple[str, str]] = {
    "Summary": ("Summary", "汇总"),
    "Collection": ("Collection", "收集记录"),
    "Collection problems": ("Collection problems", "收集问题"),
    "target_used": ("target used", "采用目标值"),
    "gate": ("gate", "否决项"),
    "kpi_rows": ("KPI rows", "指标数"),
    "filled": ("filled", "已填写"),
    "lookup_from": ("lookup from", "查找下限"),
    "file": ("file", "文件"),
    "master_cell": ("master cell", "主表单元格"),
    "field": ("field", "字段"),
    "old_value": ("old value", "原值"),
    "new_value": ("new value", "新值"),
    "author": ("author", "作者"),
    "modified": ("modified", "修改时间"),
}


def say(key: str, language: str) -> str:
    en, zh = WORDS[key]
    return zh if language == "zh" else en


# ------------------------------------------------------------------ file names

_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_file_name(text: str, limit: int = 100) -> str:
    """A file name Windows accepts: no <>:"/\\|?* or control characters, no
    trailing dot or space, not a reserved device name; Chinese is kept."""
    name = _FORBIDDEN.sub("_", str(text)).strip().rstrip(". ")[:limit].rstrip(". ")
    if not name:
        name = "_"
    if name.split(".")[0].upper() in _RESERVED:
        name = "_" + name
    return name


# ------------------------------------------------------------------ fingerprint

_NUMBER = re.compile(r"(?<![A-Za-z_$\d.])(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)")


def canonical_formula(text: str) -> str:
    """A formula as Excel may save it back, folded: no spaces or sheet-name
    quotes, upper case, numbers written one way (Excel writes 1E-12 as
    0.000000000001).  Text in double quotes is kept as is."""
    parts = re.split(r'("(?:[^"]|"")*")', text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(part)
            continue
        part = part.replace(" ", "").replace("'", "").upper().replace("_XLFN.", "")
        out.append(_NUMBER.sub(lambda m: repr(float(m.group(1))), part))
    return "".join(out)


def canonical(value: Any) -> str:
    """One text per cell value, the same after an Excel or openpyxl round trip."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return "n:" + repr(float(value))
    if isinstance(value, dt.datetime):
        return "d:" + value.isoformat()
    if isinstance(value, dt.date):
        return "d:" + dt.datetime(value.year, value.month, value.day).isoformat()
    if isinstance(value, str) and value.startswith("="):
        return "f:" + canonical_formula(value)
    return "s:" + str(value)


def cell_digest(sheet: str, cell: str, value: Any) -> str:
    return hashlib.sha256(f"{sheet}!{cell}={canonical(value)}".encode()).hexdigest()[:16]


def sheet_digest(sheet: str, cells: Iterable[tuple[str, Any]]) -> str:
    digest = hashlib.sha256(sheet.encode())
    for cell, value in sorted(cells):
        digest.update(f"\n{cell}={canonical(value)}".encode())
    return digest.hexdigest()


def locked_cells(ws: Any, unlocked: set[str]) -> dict[str, Any]:
    """The non-empty cells of a sheet that are not unlocked input cells."""
    out: dict[str, Any] = {}
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is None or cell.value == "" or cell.coordinate in unlocked:
                continue
            out[cell.coordinate] = cell.value
    return out


@dataclass(frozen=True)
class Issue:
    """A collect problem: severity, file, sheet, cell and message."""

    severity: str
    file: str
    sheet: str
    cell: str
    message: str

    @property
    def where(self) -> str:
        place = f"{self.sheet}!{self.cell}" if self.cell else self.sheet
        return f"{self.file}: {place}" if place else self.file

    def __str__(self) -> str:
        where = self.where
        return f"{self.severity}: {where}: {self.message}" if where else f"{self.severity}: {self.message}"


def shown(value: Any) -> str:
    if value is None:
        return "(empty)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)
