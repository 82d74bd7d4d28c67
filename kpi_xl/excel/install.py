"""Install the classic add-in: ``kpi-xl addin install | remove | status``.

Installing does what xlwings' own ``xlwings addin install`` does for its
add-in, without asking a running Excel where things are:

- copies ``kpi_xl.xlam`` into Excel's startup folder, which Excel opens,
  hidden, every time it starts (Windows ``%APPDATA%\\Microsoft\\Excel\\XLSTART``,
  the folder Excel's ``Application.StartupPath`` gives; Mac
  ``~/Library/Group Containers/UBF8T346G9.Office/User Content/Startup/Excel``);
- writes the add-in's user configuration file with this Python as the
  interpreter (``"INTERPRETER_WIN","C:\\...\\python.exe"``), the file the add-in's
  VBA reads after its own sheet: ``%USERPROFILE%\\.myaddin\\myaddin.conf`` on
  Windows, ``~/Library/Containers/com.microsoft.Excel/Data/myaddin.conf`` on a
  Mac (Excel's sandbox home). The ``myaddin`` name is fixed in the VBA of
  xlwings' add-in template, which kpi_xl's add-in keeps unchanged;
- on a Mac, copies xlwings' AppleScript into
  ``~/Library/Application Scripts/com.microsoft.Excel``, as ``xlwings runpython
  install`` does: the add-in's VBA runs Python through it.

A different file of the same name is never replaced or deleted without
``force``; every copy is atomic; each step is reported as a sentence.
"""

from __future__ import annotations

import hashlib
import locale
import os
import sys
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .xlam import ADDIN_NAME, RIBBON_TAB_ID

CONF_NAME = "myaddin.conf"  # PROJECT_NAME & ".conf" in the VBA of xlwings' add-in template


class InstallError(Exception):
    """A reason the add-in cannot be installed or removed, as a sentence."""


@dataclass(frozen=True)
class Place:
    startup: Path  # Excel's startup folder (XLSTART)
    config: Path  # the add-in's user configuration file
    interpreter_key: str  # INTERPRETER_WIN or INTERPRETER_MAC
    scripts: Path | None = None  # Mac: where Excel's AppleScriptTask looks for xlwings' script


def addin_file() -> Path:
    path = Path(str(resources.files("kpi_xl.addin") / "classic" / ADDIN_NAME))
    if not path.is_file():
        raise InstallError(f"the add-in file {path} is missing from this installation of kpi_xl")
    return path


def default_place(platform: str | None = None, home: Path | None = None, environ: dict | None = None) -> Place:
    """Excel's startup folder and the add-in's configuration file for this user."""
    platform = platform or sys.platform
    home = home or Path.home()
    environ = os.environ if environ is None else environ
    if platform.startswith("win"):
        appdata = Path(environ.get("APPDATA") or home / "AppData" / "Roaming")
        profile = Path(environ.get("USERPROFILE") or home)
        return Place(appdata / "Microsoft" / "Excel" / "XLSTART", profile / ".myaddin" / CONF_NAME, "INTERPRETER_WIN")
    if platform == "darwin":
        library = home / "Library"
        return Place(
            library / "Group Containers" / "UBF8T346G9.Office" / "User Content" / "Startup" / "Excel",
            library / "Containers" / "com.microsoft.Excel" / "Data" / CONF_NAME,
            "INTERPRETER_MAC",
            library / "Application Scripts" / "com.microsoft.Excel",
        )
    raise InstallError(
        "no desktop Excel here; use kpi-xl serve for Excel on the web (docs/install-officejs.md), "
        "or give --dir FOLDER to put the add-in into a folder of your choice"
    )


def folder_place(folder: Path) -> Place:
    """--dir: the add-in and its configuration file side by side in one folder."""
    return Place(folder, folder / CONF_NAME, default_key())


def default_key() -> str:
    return "INTERPRETER_MAC" if sys.platform == "darwin" else "INTERPRETER_WIN"


def interpreter() -> Path:
    """The Python that runs kpi_xl here: what xlwings' own ``xlwings config create`` writes."""
    return Path(sys.executable)


def applescript() -> Path:
    """xlwings' AppleScript for RunPython on a Mac, from the installed xlwings."""
    import xlwings

    return Path(xlwings.__file__).parent / f"xlwings-{xlwings.__version__}.applescript"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _ribbon(path: Path) -> bytes | None:
    try:
        with zipfile.ZipFile(path) as package:
            return package.read("customUI/customUI.xml")
    except (OSError, KeyError, zipfile.BadZipFile):
        return None


def is_kpi_xl_addin(path: Path) -> bool:
    """Any version of kpi_xl's add-in: its ribbon has the KPI tab."""
    return RIBBON_TAB_ID.encode() in (_ribbon(path) or b"")


def kind(target: Path) -> str:
    """What the file in the startup folder is: "current" (this kpi_xl's add-in, as shipped);
    "saved" (this version's ribbon, but saved by Excel since, e.g. after importing the
    functions into it); "other" (another version of kpi_xl's add-in); "foreign"."""
    source = addin_file()
    if digest(target) == digest(source):
        return "current"
    if not is_kpi_xl_addin(target):
        return "foreign"
    return "saved" if _ribbon(target) == _ribbon(source) else "other"


def _write(data: bytes, target: Path) -> None:
    from ..writing import save_bytes_atomically

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        save_bytes_atomically(data, target)
    except OSError as problem:
        raise InstallError(
            f"could not write {target} ({problem.strerror or problem}); if Excel is open, quit it and try again"
        ) from None


def _delete(target: Path) -> None:
    try:
        target.unlink()
    except OSError as problem:
        raise InstallError(
            f"could not delete {target} ({problem.strerror or problem}); if Excel is open, quit it and try again"
        ) from None


# ------------------------------------------------------------------ the configuration file
# One "KEY","VALUE" line a setting, read by the VBA's `Input #`. Written in this system's
# default text encoding with its line ends, as xlwings' own `xlwings config create` writes it,
# so that the VBA reads a path with non-ASCII letters right. Other lines are kept byte for byte.


def _encoding() -> str:
    return locale.getpreferredencoding(False)


def _config_lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True) if path.exists() else []


def _is_key_line(line: bytes, key: str) -> bool:
    return line.strip().upper().startswith(f'"{key}"'.encode("ascii"))


def configured_interpreter(place: Place) -> str | None:
    for line in _config_lines(place.config):
        if _is_key_line(line, place.interpreter_key):
            text = line.decode(_encoding(), errors="replace").strip()
            parts = text.split('","', 1)
            return parts[1].rstrip('"') if len(parts) == 2 else None
    return None


def _set_interpreter(place: Place, python: Path) -> None:
    if '"' in str(python):
        raise InstallError(f"the path of this Python contains a double quote, which the add-in cannot read: {python}")
    newline = "\r\n" if place.interpreter_key.endswith("_WIN") else "\n"
    try:
        line = f'"{place.interpreter_key}","{python}"{newline}'.encode(_encoding())
    except UnicodeEncodeError:
        raise InstallError(
            f"the path of this Python cannot be written in this system's encoding ({_encoding()}): {python}; "
            "install Python in a folder whose name has only plain letters"
        ) from None
    kept = [row for row in _config_lines(place.config) if not _is_key_line(row, place.interpreter_key)]
    if kept and not kept[-1].endswith((b"\n", b"\r")):
        kept[-1] += newline.encode("ascii")
    _write(b"".join(kept) + line, place.config)


def _unset_interpreter(place: Place) -> bool:
    lines = _config_lines(place.config)
    kept = [row for row in lines if not _is_key_line(row, place.interpreter_key)]
    if len(kept) == len(lines):
        return False
    if any(row.strip() for row in kept):
        _write(b"".join(kept), place.config)  # other settings of the file stay
    else:
        _delete(place.config)
    return True


# ------------------------------------------------------------------ the three verbs


def install(place: Place, force: bool = False) -> list[str]:
    source = addin_file()
    target = place.startup / ADDIN_NAME
    said = []
    found = kind(target) if target.exists() else "current"
    if found != "current" and not force:
        what = {
            "saved": "this version of kpi_xl's add-in, saved by Excel since, e.g. with the functions imported",
            "other": "another version of kpi_xl's add-in",
            "foreign": "not kpi_xl's add-in",
        }[found]
        raise InstallError(f"{target} exists and is a different file ({what}); use --force to replace it")
    _write(source.read_bytes(), target)
    said.append(f"copied the add-in to {target}")
    _set_interpreter(place, interpreter())
    said.append(f"set the add-in's Python to {interpreter()} ({place.interpreter_key} in {place.config})")
    if place.scripts is not None:
        script = applescript()
        copy = place.scripts / script.name
        if not copy.exists() or digest(copy) != digest(script):
            _write(script.read_bytes(), copy)
        said.append(f"xlwings' AppleScript for running Python is in {copy}")
    said.append("quit and restart Excel: the KPI tab appears on the ribbon")
    if place.interpreter_key.endswith("_WIN"):
        said.append(
            "for the KPI_... functions, once: in Excel press Alt+F8, run 'kpi_xl.xlam'!ImportPythonUDFsToAddin, "
            "then save the add-in (docs/install-classic.md, step 6)"
        )
    return said


def remove(place: Place, force: bool = False) -> list[str]:
    target = place.startup / ADDIN_NAME
    said = []
    if target.exists():
        if not is_kpi_xl_addin(target) and not force:
            raise InstallError(f"{target} is not kpi_xl's add-in; use --force to delete it anyway")
        _delete(target)
        said.append(f"removed {target}")
    else:
        said.append(f"the add-in was not installed ({target} does not exist)")
    if _unset_interpreter(place):
        said.append(f"removed the add-in's Python setting from {place.config}")
    if said[0].startswith("removed"):
        said.append("quit and restart Excel to unload it")
    return said


def status(place: Place) -> tuple[bool, list[str]]:
    """(installed, current and configured; sentences saying what is where)."""
    target = place.startup / ADDIN_NAME
    if not target.exists():
        return False, [f"not installed: no {target}"]
    said = []
    found = kind(target)
    current = found in ("current", "saved")
    if found == "current":
        said.append(f"installed and current: {target}")
    elif found == "saved":
        said.append(f"installed and current, saved by Excel since (e.g. with the functions imported): {target}")
    elif found == "other":
        said.append(
            f"installed, but another version: {target}; run kpi-xl addin install --force to update it "
            "(then import the functions again)"
        )
    else:
        said.append(f"{target} is not kpi_xl's add-in; kpi-xl addin install --force replaces it")
    python = configured_interpreter(place)
    configured = python is not None
    if python is None:
        said.append(f"no Python set for the add-in ({place.interpreter_key} in {place.config}): run kpi-xl addin install")
    else:
        here = " (this Python)" if Path(python) == interpreter() else ""
        said.append(f"the add-in's Python: {python}{here}, set in {place.config}")
    scripts_ok = True
    if place.scripts is not None:
        copy = place.scripts / applescript().name
        scripts_ok = copy.exists()
        said.append(f"xlwings' AppleScript: {copy}" if scripts_ok else f"missing: {copy}; run kpi-xl addin install")
    return current and configured and scripts_ok, said


__all__ = [
    "CONF_NAME", "InstallError", "Place", "addin_file", "configured_interpreter", "default_place",
    "folder_place", "install", "interpreter", "is_kpi_xl_addin", "kind", "remove", "status",
]
