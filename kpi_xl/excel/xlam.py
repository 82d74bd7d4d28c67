"""Build addin/classic/kpi_xl.xlam from xlwings' own ribbon add-in.

xlwings ships ``quickstart_addin_ribbon.xlam`` (BSD-3): a ribbon add-in whose
only ribbon callback, ``RibbonMyAddin.RunMain``, runs ``import <file name>;
<file name>.main()``, and whose VBA reads its settings from a sheet called
``myaddin.conf`` (``PROJECT_NAME & ".conf"``) in the add-in, then from the
user's ``myaddin.conf`` file. The build starts from the copy inside the
installed xlwings, keeps its VBA project byte for byte (VBA cannot be edited
without Excel) and changes only XML parts:

- ``customUI/customUI.xml``: a "KPI" tab with one button, "Check & score"
  (its callback stays ``RibbonMyAddin.RunMain``, the only one the VBA has,
  which does not say which control was pressed);
- the configuration sheet: renamed from the inactive ``_myaddin.conf`` to
  ``myaddin.conf`` (the add-in's workbook is hidden, so users never see it),
  holding ``UDF Modules = kpi_xl.excel.classic`` and
  ``ADD_WORKBOOK_TO_PYTHONPATH = false`` (kpi_xl is imported from the
  installed package, never from a file that happens to lie beside the
  workbook). The Python interpreter is left to the user's configuration file,
  which ``kpi-xl addin install`` writes: a value in this sheet would override
  it.

The zip is written deterministically (fixed timestamps, fixed order), so the
committed file can be checked against a fresh build.

    python -m kpi_xl.excel.xlam          # rewrites addin/classic/kpi_xl.xlam
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

ADDIN_NAME = "kpi_xl.xlam"  # the VBA imports the add-in's file name: kpi_xl.main()
CONF_SHEET = "myaddin.conf"  # xlwings' quickstart VBA: PROJECT_NAME & ".conf"
UDF_MODULES = "kpi_xl.excel.classic"
RIBBON_CALLBACK = "RibbonMyAddin.RunMain"  # the only ribbon callback in the VBA
RIBBON_TAB_ID = "kpiXlTab"  # marks kpi_xl's add-in, whatever its version (kpi-xl addin remove)
ZIP_TIME = (2026, 1, 1, 0, 0, 0)
CONF_ROWS = (
    ("UDF Modules", UDF_MODULES),
    ("ADD_WORKBOOK_TO_PYTHONPATH", "false"),
    ("Debug UDFs", False),
    ("Use UDF Server", False),
)

CUSTOM_UI = f"""<customUI xmlns="http://schemas.microsoft.com/office/2006/01/customui">
  <ribbon>
    <tabs>
      <tab id="{RIBBON_TAB_ID}" label="KPI">
        <group id="kpiXlGroup" label="Scorecards · 考核表">
          <button id="kpiXlScore" label="Check &amp; score · 检查并计分" size="large" imageMso="CalculateNow"
                  screentip="Check &amp; score · 检查并计分"
                  supertip="Checks the active workbook, then scores everyone: Results, Payouts and Departments sheets. With any error, only a Problems sheet with each problem's cell. 先检查当前工作簿，再为所有人计分；如有错误，只写出列有单元格的“问题”工作表。"
                  onAction="{RIBBON_CALLBACK}"/>
        </group>
      </tab>
    </tabs>
  </ribbon>
</customUI>
"""


def xlwings_addin() -> Path:
    """xlwings' own ribbon add-in, from the installed xlwings package."""
    import xlwings

    return Path(xlwings.__file__).parent / "quickstart_addin_ribbon.xlam"


def conf_sheet_xml() -> str:
    rows = []
    for number, (key, value) in enumerate(CONF_ROWS, start=1):
        if isinstance(value, bool):
            second = f'<c r="B{number}" s="1" t="b"><v>{int(value)}</v></c>'
        else:
            second = f'<c r="B{number}" s="1" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
        rows.append(
            f'<row r="{number}"><c r="A{number}" s="1" t="inlineStr"><is><t>{escape(key)}</t></is></c>{second}</row>'
        )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheetPr codeName="Sheet2"/><dimension ref="A1:B{len(CONF_ROWS)}"/>'
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15.75"/>'
        '<cols><col min="1" max="1" width="16" style="1" customWidth="1"/>'
        '<col min="2" max="2" width="24" style="1" customWidth="1"/></cols>'
        f'<sheetData>{"".join(rows)}</sheetData>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        "</worksheet>"
    )


def build(source: Path | None = None) -> bytes:
    """The kpi_xl add-in's bytes, from xlwings' ribbon add-in."""
    source = source or xlwings_addin()
    out = io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as built:
        names = original.namelist()
        if "xl/vbaProject.bin" not in names or "customUI/customUI.xml" not in names:
            raise ValueError(f"{source} is not xlwings' ribbon add-in (no VBA project or ribbon)")
        for name in names:
            data = original.read(name)
            if name == "customUI/customUI.xml":
                data = CUSTOM_UI.encode("utf-8")
            elif name == "xl/workbook.xml":
                text = data.decode("utf-8")
                if "_myaddin.conf" not in text:
                    raise ValueError(f"{name} in {source} has no _myaddin.conf sheet")
                data = text.replace("_myaddin.conf", CONF_SHEET).encode("utf-8")
            elif name == "xl/worksheets/sheet1.xml":
                data = conf_sheet_xml().encode("utf-8")
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            built.writestr(info, data)
    return out.getvalue()


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return {name: package.read(name) for name in package.namelist()}


def main() -> None:
    from ..writing import save_bytes_atomically

    target = Path(__file__).resolve().parents[2] / "addin" / "classic" / ADDIN_NAME
    save_bytes_atomically(build(), target)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
