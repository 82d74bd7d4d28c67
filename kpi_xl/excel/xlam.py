"""Build addin/classic/kpi_xl.xlam from xlwings' own ribbon add-in.

xlwings ships ``quickstart_addin_ribbon.xlam`` (BSD-3): a ribbon add-in whose
VBA runs ``import <file name>; <file name>.main()`` from its button and
imports UDFs from the modules named in its configuration sheet. We keep its
VBA project byte for byte (VBA cannot be edited without Excel) and change only
XML parts:

- ``customUI/customUI.xml``: a "KPI" tab with the Score button (its callback
  stays xlwings' ``RibbonMyAddin.RunMain``);
- the configuration sheet: renamed from the inactive ``_myaddin.conf`` to
  ``myaddin.conf`` (the name the VBA looks for; the add-in's workbook is
  hidden, so users never see it) and holding only ``UDF Modules =
  kpi_xl.excel.classic``. The Python interpreter is left to the user's
  configuration file, which ``kpi-xl addin install`` writes.

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
RIBBON_CALLBACK = "RibbonMyAddin.RunMain"
ZIP_TIME = (2026, 1, 1, 0, 0, 0)
CONF_ROWS = (("UDF Modules", UDF_MODULES), ("Debug UDFs", False), ("Use UDF Server", False))

CUSTOM_UI = f"""<customUI xmlns="http://schemas.microsoft.com/office/2006/01/customui">
  <ribbon>
    <tabs>
      <tab id="kpiXlTab" label="KPI">
        <group id="kpiXlGroup" label="Scorecards · 考核表">
          <button id="kpiXlScore" label="Score · 计分" size="large" imageMso="CalculateNow"
                  screentip="Score · 计分"
                  supertip="Check the active workbook and score everyone: Results, Payouts and Departments sheets, or a Problems sheet with each problem's cell. 检查当前工作簿并为所有人计分。"
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
