"""Build kpi_xl's wheel for xlwings Lite: ``python addin/lite/build_wheel.py [-o dist]``.

xlwings Lite installs what requirements.txt lists with Pyodide's micropip,
which also installs every dependency a wheel declares. kpi_xl's own wheel
declares numba, python-calamine, lxml, fastapi and uvicorn (and pins the
desktop xlwings), which Pyodide cannot install or Lite does not need, so that
wheel cannot be installed there. This writes a wheel of the same Python code,
versioned ``<version>+lite``, declaring only what the Excel layer needs in
Lite: numpy, pandas, openpyxl and defusedxml (all in Pyodide or pure Python).
In Lite kpi_xl computes with its NumPy reference twin and reads the open
workbook through xlwings, so it never imports the others.

The wheel is written by the standard library from the files of kpi_xl/ (no
build tools, no network); tests/test_addin_lite.py builds one and runs the
Lite script on it with numba, python-calamine and lxml blocked.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LITE_REQUIREMENTS = ("numpy>=1.26", "pandas>=2.1", "openpyxl>=3.1", "defusedxml>=0.7")
ZIP_TIME = (2026, 1, 1, 0, 0, 0)


def project(root: Path = ROOT) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _files(root: Path) -> list[tuple[str, bytes]]:
    package = root / "kpi_xl"
    found = []
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            found.append((path.relative_to(root).as_posix(), path.read_bytes()))
    if not any(name == "kpi_xl/excel/functions.py" for name, _ in found):
        raise SystemExit(f"{package} does not hold kpi_xl's source")
    return found


def _hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


def build(out: Path, root: Path = ROOT) -> Path:
    """Write the Lite wheel into folder out and return its path."""
    meta = project(root)
    version = f"{meta['version']}+lite"
    dist_info = f"kpi_xl-{version}.dist-info"
    metadata = "\n".join(
        [
            "Metadata-Version: 2.1",
            "Name: kpi_xl",
            f"Version: {version}",
            f"Summary: {meta['description']} (the build for xlwings Lite: no numba)",
            f"License: {meta['license']['text']}",
            f"Requires-Python: {meta['requires-python']}",
            *(f"Requires-Dist: {requirement}" for requirement in LITE_REQUIREMENTS),
            "",
        ]
    )
    wheel = "Wheel-Version: 1.0\nGenerator: kpi_xl addin/lite/build_wheel.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    entries = _files(root) + [
        (f"{dist_info}/METADATA", metadata.encode("utf-8")),
        (f"{dist_info}/WHEEL", wheel.encode("utf-8")),
        (f"{dist_info}/top_level.txt", b"kpi_xl\n"),
    ]
    record = "".join(f"{name},{_hash(data)},{len(data)}\n" for name, data in entries) + f"{dist_info}/RECORD,,\n"
    entries.append((f"{dist_info}/RECORD", record.encode("utf-8")))
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"kpi_xl-{version}-py3-none-any.whl"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build kpi_xl's wheel for xlwings Lite (no numba).")
    parser.add_argument("-o", "--out", type=Path, default=ROOT / "dist", help="folder to write into (default dist/)")
    args = parser.parse_args(argv)
    print(f"wrote {build(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
