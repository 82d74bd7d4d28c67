"""Install the classic add-in: ``kpi-xl addin install | remove | status``.

Installing copies ``kpi_xl.xlam`` into Excel's startup folder (XLSTART), so
Excel opens it, hidden, every time it starts; and writes the add-in's user
configuration file with this Python as the interpreter, so the add-in's
button and functions run the kpi_xl installed here. Every step is reported as
a sentence; nothing half-done is left behind (copies are atomic).
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .xlam import ADDIN_NAME

CONF_NAME = "myaddin.conf"  # xlwings' quickstart VBA reads ~/.myaddin/myaddin.conf (Windows)


class InstallError(Exception):
    """A reason the add-in cannot be installed or removed, as a sentence."""


@dataclass(frozen=True)
class Place:
    startup: Path  # the XLSTART folder
    config: Path  # the add-in's user configuration file
    interpreter_key: str


def addin_file() -> Path:
    path = Path(str(resources.files("kpi_xl.addin") / "classic" / ADDIN_NAME))
    if not path.is_file():
        raise InstallError(f"the add-in file {path} is missing from this installation of kpi_xl")
    return path


def default_place(platform: str | None = None, home: Path | None = None, environ: dict | None = None) -> Place:
    """Excel's user startup folder and the add-in's configuration file on this computer."""
    platform = platform or sys.platform
    home = home or Path.home()
    environ = os.environ if environ is None else environ
    if platform.startswith("win"):
        appdata = Path(environ.get("APPDATA") or home / "AppData" / "Roaming")
        profile = Path(environ.get("USERPROFILE") or home)
        return Place(appdata / "Microsoft" / "Excel" / "XLSTART", profile / ".myaddin" / CONF_NAME, "INTERPRETER_WIN")
    if platform == "darwin":
        office = home / "Library" / "Group Containers" / "UBF8T346G9.Office" / "User Content" / "Startup" / "Excel"
        container = home / "Library" / "Containers" / "com.microsoft.Excel" / "Data"
        return Place(office, container / CONF_NAME, "INTERPRETER_MAC")
    raise InstallError(
        "there is no desktop Excel on this system; for Excel on the web use kpi-xl serve "
        "(docs/install-officejs.md), or give --dir to copy the add-in somewhere yourself"
    )


def default_key() -> str:
    return "INTERPRETER_MAC" if sys.platform == "darwin" else "INTERPRETER_WIN"


def interpreter() -> Path:
    """The Python that runs kpi_xl here (pythonw.exe on Windows: no console window)."""
    python = Path(sys.executable)
    windowless = python.with_name("pythonw.exe")
    return windowless if windowless.exists() else python


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _atomic_copy(data: bytes, target: Path) -> None:
    from ..writing import save_bytes_atomically

    target.parent.mkdir(parents=True, exist_ok=True)
    save_bytes_atomically(data, target)


def install(place: Place, force: bool = False) -> list[str]:
    source = addin_file()
    target = place.startup / ADDIN_NAME
    said = []
    if target.exists() and digest(target) != digest(source) and not force:
        raise InstallError(
            f"{target} exists and is a different file (another version, or someone's own); "
            "use --force to replace it"
        )
    _atomic_copy(source.read_bytes(), target)
    said.append(f"copied the add-in to {target}")
    line = f'"{place.interpreter_key}","{interpreter()}"\n'
    existing = place.config.read_text(encoding="utf-8").splitlines(keepends=True) if place.config.exists() else []
    kept = [row for row in existing if not row.upper().startswith(f'"{place.interpreter_key}"')]
    _atomic_copy("".join(kept + [line]).encode("utf-8"), place.config)
    said.append(f"set the add-in's Python to {interpreter()} in {place.config}")
    said.append("restart Excel: the KPI tab appears on the ribbon")
    return said


def remove(place: Place) -> list[str]:
    target = place.startup / ADDIN_NAME
    if not target.exists():
        return [f"the add-in is not installed ({target} does not exist)"]
    target.unlink()
    said = [f"removed {target}"]
    if place.config.exists():
        place.config.unlink()
        said.append(f"removed {place.config}")
    said.append("restart Excel to unload it")
    return said


def status(place: Place) -> tuple[bool, list[str]]:
    """(installed and current, sentences)."""
    target = place.startup / ADDIN_NAME
    if not target.exists():
        return False, [f"not installed (no {target})"]
    current = digest(target) == digest(addin_file())
    said = [f"installed: {target}" + ("" if current else " — an older or different version: run kpi-xl addin install --force")]
    if place.config.exists():
        said.append(f"configuration: {place.config}")
    else:
        said.append(f"no configuration file {place.config}: run kpi-xl addin install again")
    return current and place.config.exists(), said
