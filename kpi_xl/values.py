"""Turn raw cell values into numbers, ids, dates and enumerated values.

Each parser returns the typed value, or raises ``Invalid`` with a short reason
("is not a number"); the column readers in ``validation`` turn that into a
Problem naming the cell.  Vectorised column parsers take the common case
(plain numbers) through pandas and only look at odd cells one by one.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

from .reading import CellError, MissingCachedValue
from .schema import Enumeration

EXCEL_EPOCH = dt.date(1899, 12, 30)


class Invalid(ValueError):
    """A cell that cannot be read as the type its column needs."""


def describe(value: Any) -> str:
    """A cell value as a user would recognise it in a message."""
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%Y-%m-%d")
    return f"'{value}'" if not isinstance(value, (int, float)) else str(value)


def check_not_broken(value: Any) -> None:
    if isinstance(value, CellError):
        raise Invalid(f"holds the error value {value.code}: fix the formula or type the value")
    if isinstance(value, MissingCachedValue):
        raise Invalid(
            f"holds the formula {value.formula} with no computed value "
            "(the file was saved without calculating): open it in Excel and save it again"
        )


def parse_number(value: Any) -> float:
    """A number from a numeric cell, or text like '1,234.5', '80%' or '12 %'."""
    check_not_broken(value)
    if isinstance(value, bool):
        raise Invalid(f"{describe(value)} is TRUE/FALSE, not a number")
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        if math.isnan(number):
            raise Invalid("is not a number")
        return number
    if isinstance(value, str):
        text = value.strip().replace(",", "").replace("\u00a0", "").replace(" ", "")
        percent = text.endswith("%") or text.endswith("％")
        if percent:
            text = text[:-1]
        try:
            number = float(text)
        except ValueError:
            raise Invalid(f"{describe(value)} is not a number") from None
        if math.isnan(number) or math.isinf(number):
            raise Invalid(f"{describe(value)} is not a number")
        return number / 100.0 if percent else number
    raise Invalid(f"{describe(value)} is not a number")


def parse_numbers(values: list[Any]) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Parse a column: (floats with NaN for blanks and bad cells, [(index, reason)])."""
    count = len(values)
    series = pd.Series(values, dtype=object)
    numeric = np.array(pd.to_numeric(series, errors="coerce"), dtype=float)
    bad: list[tuple[int, str]] = []
    # Cells pandas could not read, and booleans it would read as 0/1, get a closer look.
    suspects = np.flatnonzero(np.isnan(numeric) | series.map(type).eq(bool).to_numpy())
    for i in suspects:
        raw = values[i]
        if raw is None:
            continue
        try:
            numeric[i] = parse_number(raw)
        except Invalid as problem:
            numeric[i] = np.nan
            bad.append((int(i), str(problem)))
    if numeric.shape[0] != count:  # pragma: no cover - defensive
        raise AssertionError("column length changed while parsing")
    return numeric, bad


def parse_id(value: Any) -> str:
    """Ids are text: the number 1001 and the text '1001' are the same id."""
    check_not_broken(value)
    if isinstance(value, bool):
        raise Invalid(f"{describe(value)} is TRUE/FALSE, not an id")
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%Y-%m-%d")
    text = str(value).strip()
    return text


def parse_period(value: Any) -> str | None:
    """A Scorecards period as text (``2026-03``), None when blank.  An Excel
    date reads as its month: Excel turns a typed ``2026-01`` into 1 January
    2026, and periods are months or quarters."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (dt.datetime, dt.date)):
        return f"{value.year:04d}-{value.month:02d}"
    try:
        return parse_id(value)
    except Invalid:
        return str(value)


def parse_date(value: Any) -> dt.date:
    """An Excel date (or its serial number) or ISO text such as 2026-01-31."""
    check_not_broken(value)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise Invalid(f"{describe(value)} is not a date")
    if isinstance(value, (int, float)):
        if not 1 <= value < 2958466:  # Excel's range, 1900-01-01 .. 9999-12-31
            raise Invalid(f"{describe(value)} is not a date")
        return EXCEL_EPOCH + dt.timedelta(days=int(value))
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.date.fromisoformat(text[:10]) if len(text) >= 10 else dt.date.fromisoformat(text)
        except ValueError:
            raise Invalid(f"{describe(value)} is not a date (write it as 2026-01-31)") from None
    raise Invalid(f"{describe(value)} is not a date")


def parse_enum(value: Any, enumeration: Enumeration) -> str:
    check_not_broken(value)
    if isinstance(value, bool):
        value = "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    parsed = enumeration.parse(value)
    if parsed is None:
        choices = ", ".join(
            f"{en} ({zh})" for en, zh in enumeration.values.items()
        )
        raise Invalid(f"{describe(value)} is not one of: {choices}")
    return parsed


def percent(value: float, digits: int = 1) -> str:
    """0.8 -> '80%', 1.13 -> '113.0%' (digits after the point, trailing kept)."""
    if math.isinf(value):
        return "∞"
    return f"{value * 100:.{digits}f}%"


def plain(value: float) -> str:
    """A score or amount without float noise: 132.5, 100, 0.8701."""
    if math.isinf(value):
        return "∞"
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"
