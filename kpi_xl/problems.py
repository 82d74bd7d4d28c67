"""Problems are data: a severity, the sheet, the A1 cell and a message.

Validation collects every problem instead of stopping at the first; the CLI
prints them and the writer puts them on the Problems sheet.  Nothing in
kpi_xl raises an exception at a user for something wrong in a workbook.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable

from openpyxl.utils import get_column_letter

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    severity: str  # "error" or "warning"
    sheet: str  # the sheet's name as the workbook spells it
    cell: str  # A1 reference within the sheet ("E7"), "" when the whole sheet
    message: str

    @property
    def where(self) -> str:
        """``Scorecards!E7``, or just the sheet when no cell applies."""
        if not self.sheet:
            return "(workbook)"
        quoted = self.sheet if self.sheet.replace("_", "").isalnum() else f"'{self.sheet}'"
        return f"{quoted}!{self.cell}" if self.cell else quoted

    def __str__(self) -> str:
        return f"{self.severity}: {self.where}: {self.message}"


@dataclass
class Problems:
    """An ordered collection of problems with helpers to add them."""

    items: list[Problem] = field(default_factory=list)

    def error(self, sheet: str, cell: str, message: str) -> None:
        self.items.append(Problem(ERROR, sheet, cell, message))

    def warning(self, sheet: str, cell: str, message: str) -> None:
        self.items.append(Problem(WARNING, sheet, cell, message))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.items.extend(problems)

    @property
    def has_errors(self) -> bool:
        return any(p.severity == ERROR for p in self.items)

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def a1(column_index: int, row: int) -> str:
    """A1 reference from a 1-based column index and a 1-based row."""
    return f"{get_column_letter(column_index)}{row}"


def did_you_mean(value: str, candidates: Iterable[str]) -> str:
    """`` — did you mean 'REV'?`` or an empty string."""
    matches = difflib.get_close_matches(str(value), [str(c) for c in candidates], n=1, cutoff=0.6)
    if not matches:
        folded = {str(c).lower(): str(c) for c in candidates}
        hit = folded.get(str(value).lower())
        matches = [hit] if hit else []
    return f" — did you mean '{matches[0]}'?" if matches else ""
