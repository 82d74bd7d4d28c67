"""The Office.js client's JSON book payload as a Book, recording what to change as actions.

The task pane sends every sheet's values (docs/addin-protocol.md); a button
runs on this book; the changes it makes become the list of actions the client
applies with Office.js (the xlwings action format: addSheet, setValues, ...).
The payload is checked first: a malformed one is a ValueError with a sentence
saying what is wrong, which the server answers as 422.
"""

from __future__ import annotations

import base64
from typing import Any

MAX_CELLS = 2_000_000  # well above a 100,000-row scorecard; protects the server's memory


class PayloadBook:
    def __init__(self, name: str, sheets: list[tuple[str, list[list[Any]]]], language: str = "en") -> None:
        self.name = name
        self.language = language
        self._sheets = list(sheets)
        self.actions: list[dict[str, Any]] = []

    @classmethod
    def from_payload(cls, payload: Any) -> "PayloadBook":
        if not isinstance(payload, dict):
            raise ValueError("the request body must be a JSON object holding the workbook")
        book = payload.get("book")
        name = book.get("name") if isinstance(book, dict) else None
        if not isinstance(name, str) or not name:
            raise ValueError('"book" must be an object with the workbook\'s "name"')
        sheets = payload.get("sheets")
        if not isinstance(sheets, list) or not sheets:
            raise ValueError('"sheets" must be a list of the workbook\'s sheets, each with "name" and "values"')
        parsed: list[tuple[str, list[list[Any]]]] = []
        cells = 0
        for position, sheet in enumerate(sheets, start=1):
            if not isinstance(sheet, dict) or not isinstance(sheet.get("name"), str):
                raise ValueError(f'sheet {position} in "sheets" has no "name"')
            values = sheet.get("values")
            if not isinstance(values, list) or not all(isinstance(row, list) for row in values):
                raise ValueError(f"sheet '{sheet['name']}': \"values\" must be a list of rows (lists)")
            for row in values:
                cells += len(row)
                for value in row:
                    if value is not None and not isinstance(value, (str, int, float, bool)):
                        raise ValueError(
                            f"sheet '{sheet['name']}': a cell holds {type(value).__name__}, "
                            "not a number, text or TRUE/FALSE"
                        )
            if cells > MAX_CELLS:
                raise ValueError(f"the workbook holds more than {MAX_CELLS:,} cells, more than the add-in sends")
            parsed.append((sheet["name"], values))
        names = [n for n, _ in parsed]
        if len(set(names)) != len(names):
            raise ValueError("two sheets in the payload have the same name")
        language = payload.get("language")
        language = "zh" if isinstance(language, str) and language.lower().startswith("zh") else "en"
        return cls(name, parsed, language)

    # ------------------------------------------------------------------ Book

    def sheet_names(self) -> list[str]:
        return [name for name, _ in self._sheets]

    def values(self, sheet: str) -> list[list[Any]]:
        return self._sheets[self._position(sheet)][1]

    def delete_sheet(self, name: str) -> None:
        self._sheets.pop(self._position(name))
        self.actions.append(_action("deleteSheet", [name]))

    def add_sheet(self, name: str, rows: list[list[Any]], number_formats: dict[int, str]) -> None:
        position = len(self._sheets)
        self._sheets.append((name, rows))
        self.actions.append(_action("addSheet", [position, name]))
        height, width = len(rows), len(rows[0])
        self.actions.append(_action("setValues", [], position, 0, 0, height, width, values=rows))
        self.actions.append(_action("setFontProperty", ["bold", True], position, 0, 0, 1, width))
        if height > 1:
            for column, number_format in sorted(number_formats.items()):
                self.actions.append(_action("setNumberFormat", [number_format], position, 1, column, height - 1, 1))
        # freeze above and left of A2, as Excel's View > Freeze Panes with A2 selected: the header row
        self.actions.append(_action("freezePaneAtRange", [], position, 1, 0, 1, 1))
        self.actions.append(_action("setAutofit", ["columns"], position, 0, 0, height, width))

    def activate(self, name: str) -> None:
        self.actions.append(_action("activateSheet", [self._position(name)]))

    def open_workbook(self, data: bytes, name: str) -> None:
        self.actions.append(_action("createWorkbook", [base64.b64encode(data).decode("ascii"), name]))

    def status(self, message: str) -> None:
        pass  # the answer's "status" carries the last message

    def _position(self, name: str) -> int:
        for i, (title, _) in enumerate(self._sheets):
            if title == name:
                return i
        raise KeyError(name)


def _action(
    func: str,
    args: list[Any],
    sheet_position: int | None = None,
    start_row: int | None = None,
    start_column: int | None = None,
    row_count: int | None = None,
    column_count: int | None = None,
    values: list[list[Any]] | None = None,
) -> dict[str, Any]:
    """One action in the xlwings Office.js format (the client applies them in order)."""
    return {
        "func": func,
        "args": args,
        "values": values,
        "sheet_position": sheet_position,
        "start_row": start_row,
        "start_column": start_column,
        "row_count": row_count,
        "column_count": column_count,
    }
