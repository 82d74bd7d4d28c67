"""Add new sheets to an existing xlsx package without touching anything else.

openpyxl can write sheets fast (write-only mode) but cannot add them to an
existing workbook without loading and re-saving all of it - which is slow and
drops charts, pictures, pivot tables and slicers.  So kpi_xl writes its output
sheets into a scratch package with openpyxl, then grafts those parts into a
copy of the user's package:

- every part of the user's workbook is copied unchanged, except the four
  that list sheets and styles (workbook.xml, its relationships, the content
  types and styles.xml), which get entries appended;
- sheets kpi_xl wrote on an earlier run (``replace``) are removed first;
- the scratch sheets' style indexes are remapped onto the user's styles.xml
  (fonts, fills, borders, number formats and the differential formats that
  conditional formatting uses are appended, never changed);
- the data rows of the output sheets are not in the scratch package: they
  stream from ``writing.SheetBody`` into the new sheet parts, compressed on a
  second thread while the next rows are written;
- the user's parts are copied as they are stored in the zip, still
  compressed (``_copy_raw``): a big input sheet is neither inflated nor
  deflated again, and is left byte for byte as it was.

XML is parsed with lxml with entity resolution and network access off.
"""

from __future__ import annotations

import copy
import io
import posixpath
import queue
import re
import struct
import threading
import zipfile
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Protocol

from lxml import etree

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
WORKSHEET_TYPE = f"{REL}/worksheet"
STYLES_TYPE = f"{REL}/styles"
WORKSHEET_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
STYLES_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False, huge_tree=True)


def q(tag: str, ns: str = MAIN) -> str:
    return f"{{{ns}}}{tag}"


def parse(data: bytes) -> etree._Element:
    return etree.fromstring(data, PARSER)


def dump(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


EAGER_BYTES = 1 << 20
# zlib level of the output sheets: level 1 deflates a big sheet's XML about three times
# faster than the default 6, for a file about 30% bigger (docs/performance.md)
STREAMED_COMPRESSLEVEL = 1  # parts up to this size are read at once; bigger ones when needed


class LazyPart:
    """A part of an open package, read from its zip only when its bytes are needed."""

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo):
        self.archive = archive
        self.info = info

    def read(self) -> bytes:
        return self.archive.read(self.info)

    def head(self, size: int) -> bytes:
        with self.archive.open(self.info) as handle:
            return handle.read(size)


class Body(Protocol):
    def chunks(self, xf_map: dict[int, int]) -> Iterator[bytes]: ...


@dataclass
class StreamedPart:
    """A sheet part written as head + rows streamed from a Body + tail."""

    head: bytes
    rows: Iterable[bytes]
    tail: bytes

    def chunks(self) -> Iterator[bytes]:
        yield self.head
        yield from self.rows
        yield self.tail


Part = bytes | LazyPart | StreamedPart


def data_of(part: Part) -> bytes:
    if isinstance(part, LazyPart):
        return part.read()
    if isinstance(part, StreamedPart):
        return b"".join(part.chunks())
    return part


@dataclass
class Package:
    """A zip package: {member name: bytes}, in order.  ``read`` loads every
    part; ``open`` keeps the zip open and big parts in it (``LazyPart``)
    until they are needed, so that they can be copied still compressed."""

    infos: list[zipfile.ZipInfo]
    parts: dict[str, Part]
    archive: zipfile.ZipFile | None = field(default=None, repr=False)

    @classmethod
    def read(cls, source: str | io.BytesIO) -> "Package":
        with zipfile.ZipFile(source) as archive:
            infos = archive.infolist()
            parts: dict[str, Part] = {info.filename: archive.read(info.filename) for info in infos}
        return cls(infos, parts)

    @classmethod
    def open(cls, source: str) -> "Package":
        archive = zipfile.ZipFile(source)
        try:
            infos = archive.infolist()
            parts: dict[str, Part] = {
                info.filename: archive.read(info) if info.file_size <= EAGER_BYTES else LazyPart(archive, info)
                for info in infos
            }
        except BaseException:
            archive.close()
            raise
        return cls(infos, parts, archive)

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()

    def __enter__(self) -> "Package":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def main_part(self) -> str:
        rels = parse(data_of(self.parts["_rels/.rels"]))
        for rel in rels:
            if rel.get("Type", "").endswith("/officeDocument"):
                return rel.get("Target", "xl/workbook.xml").lstrip("/")
        return "xl/workbook.xml"


def rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def resolve(base_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base_part), target))


def child(root: etree._Element, tag: str, before: tuple[str, ...] = ()) -> etree._Element:
    """root's child element ``tag``, created (before the first of ``before``
    that exists, as the schema orders elements) when it is missing."""
    found = root.find(q(tag))
    if found is not None:
        return found
    found = etree.Element(q(tag))
    anchor = next((a for a in (root.find(q(name)) for name in before) if a is not None), None)
    if anchor is not None:
        anchor.addprevious(found)
    else:
        root.append(found)
    return found


# ------------------------------------------------------------------ styles


class StyleMerger:
    """Appends the scratch package's styles to the user's styles.xml."""

    def __init__(self, target: etree._Element, scratch: etree._Element):
        self.target = target
        self.scratch = scratch

    def _append_unique(self, tag: str, element: etree._Element, before: tuple[str, ...]) -> int:
        holder = child(self.target, tag, before)
        wanted = etree.tostring(element)
        for index, existing in enumerate(holder):
            if etree.tostring(existing) == wanted:
                return index
        holder.append(_copy(element))
        holder.set("count", str(len(holder)))
        return len(holder) - 1

    def merge(self) -> tuple[dict[int, int], dict[int, int]]:
        """Returns (scratch cell-format index -> target index, scratch dxf -> target dxf)."""
        number_formats = self._number_formats()
        fonts = self._items("fonts", ("fills", "borders", "cellStyleXfs", "cellXfs"), keep_first=1)
        fills = self._items("fills", ("borders", "cellStyleXfs", "cellXfs"), keep_first=2)
        borders = self._items("borders", ("cellStyleXfs", "cellXfs"), keep_first=1)
        xfs = child(self.target, "cellXfs", ("cellStyles", "dxfs", "tableStyles"))
        if len(xfs) == 0:  # a cellXfs list must start with the default format
            xfs.append(etree.Element(q("xf"), numFmtId="0", fontId="0", fillId="0", borderId="0", xfId="0"))
        xf_map: dict[int, int] = {0: 0}
        scratch_xfs = self.scratch.find(q("cellXfs"))
        for index, xf in enumerate(scratch_xfs if scratch_xfs is not None else []):
            if index == 0:
                continue
            new = _copy(xf)
            for attribute, mapping in (("fontId", fonts), ("fillId", fills), ("borderId", borders), ("numFmtId", number_formats)):
                value = new.get(attribute)
                if value is not None:
                    new.set(attribute, str(mapping.get(int(value), int(value))))
            new.set("xfId", "0")
            xfs.append(new)
            xf_map[index] = len(xfs) - 1
        xfs.set("count", str(len(xfs)))
        dxf_map: dict[int, int] = {}
        scratch_dxfs = self.scratch.find(q("dxfs"))
        if scratch_dxfs is not None and len(scratch_dxfs):
            dxfs = child(self.target, "dxfs", ("tableStyles", "colors", "extLst"))
            for index, dxf in enumerate(scratch_dxfs):
                dxfs.append(_copy(dxf))
                dxf_map[index] = len(dxfs) - 1
            dxfs.set("count", str(len(dxfs)))
        return xf_map, dxf_map

    def _items(self, tag: str, before: tuple[str, ...], keep_first: int) -> dict[int, int]:
        mapping: dict[int, int] = {i: i for i in range(keep_first)}
        source = self.scratch.find(q(tag))
        for index, element in enumerate(source if source is not None else []):
            if index < keep_first:
                continue
            mapping[index] = self._append_unique(tag, element, before)
        return mapping

    def _number_formats(self) -> dict[int, int]:
        mapping: dict[int, int] = {}
        source = self.scratch.find(q("numFmts"))
        if source is None:
            return mapping
        holder = child(self.target, "numFmts", ("fonts",))
        existing = {nf.get("formatCode"): int(nf.get("numFmtId", "0")) for nf in holder}
        next_id = max([163, *existing.values()]) + 1
        for number_format in source:
            code = number_format.get("formatCode")
            old = int(number_format.get("numFmtId", "0"))
            if code in existing:
                mapping[old] = existing[code]
                continue
            holder.append(etree.Element(q("numFmt"), numFmtId=str(next_id), formatCode=code or "General"))
            existing[code] = next_id
            mapping[old] = next_id
            next_id += 1
        holder.set("count", str(len(holder)))
        return mapping


def _copy(element: etree._Element) -> etree._Element:
    return parse(etree.tostring(element))


def _remap_sheet(data: bytes, xf_map: dict[int, int], dxf_map: dict[int, int], selected: bool) -> bytes:
    root = parse(data)
    for cell in root.iter(q("c"), q("row"), q("col")):
        style = cell.get("s") if cell.tag != q("col") else cell.get("style")
        if style is not None:
            mapped = str(xf_map.get(int(style), 0))
            cell.set("s" if cell.tag != q("col") else "style", mapped)
    for rule in root.iter(q("cfRule")):
        dxf = rule.get("dxfId")
        if dxf is not None:
            rule.set("dxfId", str(dxf_map.get(int(dxf), int(dxf))))
    for view in root.iter(q("sheetView")):
        if selected:
            view.set("tabSelected", "1")
        elif "tabSelected" in view.attrib:
            del view.attrib["tabSelected"]
    return dump(root)


# ------------------------------------------------------------------ graft


def graft(
    source: Package,
    scratch: Package,
    titles: list[str],
    replace: Callable[[str], bool],
    activate: str | None,
    bodies: Mapping[str, Body] | None = None,
) -> dict[str, Part]:
    """The parts of source with the scratch sheets (named ``titles``) added and
    the sheets for which ``replace(title)`` is true removed.  The workbook
    opens on ``activate`` (a new sheet's title) when given: the user's other
    sheets lose only their "selected tab" mark, so that no sheets end up
    grouped; without it, it opens where the user left it.  A sheet whose
    title is in ``bodies`` gets its data rows from that body."""
    parts = dict(source.parts)
    workbook_part = source.main_part()
    workbook = parse(data_of(parts[workbook_part]))
    workbook_rels_part = rels_name(workbook_part)
    rels = parse(data_of(parts[workbook_rels_part]))
    types = parse(data_of(parts["[Content_Types].xml"]))
    sheets = workbook.find(q("sheets"))
    assert sheets is not None

    rel_by_id = {rel.get("Id"): rel for rel in rels}
    old_sheets = list(sheets)
    views = workbook.find(q("bookViews"))
    view = views[0] if views is not None and len(views) else None
    active_index = int(view.get("activeTab", "0")) if view is not None else 0

    # 1. remove the sheets kpi_xl wrote before
    removed_positions: list[int] = []
    for position, sheet in enumerate(old_sheets):
        if not replace(sheet.get("name", "")):
            continue
        removed_positions.append(position)
        rid = sheet.get(q("id", REL))
        rel = rel_by_id.get(rid)
        if rel is not None:
            part = resolve(workbook_part, rel.get("Target", ""))
            parts.pop(part, None)
            parts.pop(rels_name(part), None)
            _drop_override(types, part)
            rels.remove(rel)
        sheets.remove(sheet)
    kept = len(old_sheets) - len(removed_positions)

    def shifted(index: int) -> int | None:
        if index in removed_positions:
            return None
        return index - sum(1 for p in removed_positions if p < index)

    defined = workbook.find(q("definedNames"))
    if defined is not None:
        for name in list(defined):
            local = name.get("localSheetId")
            if local is None:
                continue
            new_index = shifted(int(local))
            if new_index is None:
                defined.remove(name)
            else:
                name.set("localSheetId", str(new_index))

    # 2. styles: merge the scratch styles into the user's
    styles_part = _styles_part(rels, workbook_part)
    scratch_styles = parse(data_of(scratch.parts["xl/styles.xml"]))
    if styles_part is None:
        styles_part = "xl/styles.xml"
        parts[styles_part] = dump(scratch_styles)
        _add_rel(rels, STYLES_TYPE, posixpath.relpath(styles_part, posixpath.dirname(workbook_part)))
        _add_override(types, styles_part, STYLES_CONTENT)
        xf_map = {i: i for i in range(len(_children(scratch_styles, "cellXfs")))}
        dxf_map = {i: i for i in range(len(_children(scratch_styles, "dxfs")))}
    else:
        target_styles = parse(data_of(parts[styles_part]))
        xf_map, dxf_map = StyleMerger(target_styles, scratch_styles).merge()
        parts[styles_part] = dump(target_styles)

    # 3. add the new sheets
    old_active = shifted(active_index) if active_index < len(old_sheets) else None
    if activate in titles:
        new_active = kept + titles.index(activate)
        for sheet in sheets:
            rel = rel_by_id.get(sheet.get(q("id", REL)))
            if rel is not None:
                part = resolve(workbook_part, rel.get("Target", ""))
                if part in parts:
                    parts[part] = _unselect_part(parts[part])
        old_active = None
    else:
        new_active = old_active if old_active is not None else 0
    scratch_parts = _scratch_sheet_parts(scratch)
    next_sheet_id = max([int(s.get("sheetId", "0")) for s in old_sheets] + [0]) + 1
    for offset, title in enumerate(titles):
        part = _free_name(parts, "xl/worksheets/kpixl", ".xml")
        selected = kept + offset == new_active and old_active is None
        sheet_xml = _remap_sheet(data_of(scratch.parts[scratch_parts[title]]), xf_map, dxf_map, selected)
        body = bodies.get(title) if bodies else None
        parts[part] = sheet_xml if body is None else _with_rows(sheet_xml, body.chunks(xf_map))
        rid = _add_rel(rels, WORKSHEET_TYPE, posixpath.relpath(part, posixpath.dirname(workbook_part)))
        element = etree.SubElement(sheets, q("sheet"))
        element.set("name", title)
        element.set("sheetId", str(next_sheet_id))
        element.set(q("id", REL), rid)
        next_sheet_id += 1
        _add_override(types, part, WORKSHEET_CONTENT)
        _copy_defined_names(scratch, workbook, offset, kept + offset)
    if view is not None:
        view.set("activeTab", str(new_active))
        first = int(view.get("firstSheet", "0"))
        if first >= len(sheets):
            view.set("firstSheet", "0")
    elif old_active is None and titles:
        views = etree.Element(q("bookViews"))
        sheets.addprevious(views)
        etree.SubElement(views, q("workbookView"), activeTab=str(new_active))

    if removed_positions:
        _drop_stale_calc_chain(parts, rels, types, workbook_part)
    parts[workbook_part] = dump(workbook)
    parts[workbook_rels_part] = dump(rels)
    parts["[Content_Types].xml"] = dump(types)
    return parts


TAB_SELECTED = re.compile(rb'\s+tabSelected="(?:1|true)"')


def _unselect(data: bytes) -> bytes:
    """Remove the "selected tab" mark from a sheet's view, leaving all else as is.

    The mark lives in <sheetViews>, which comes before <sheetData>: only that
    head of the part is looked at, so cell contents are never touched.
    """
    end = data.find(b"sheetData")
    head = data[: end if end >= 0 else len(data)]
    if b"tabSelected" not in head:
        return data
    return TAB_SELECTED.sub(b"", head) + data[len(head) :]


def _unselect_part(part: Part) -> Part:
    """_unselect on a part; a big part stays in its zip unless it has the mark."""
    if isinstance(part, LazyPart):
        head = part.head(1 << 16)
        end = head.find(b"sheetData")
        if end >= 0 and b"tabSelected" not in head[:end]:
            return part
        return _unselect(part.read())
    return _unselect(data_of(part))


def _with_rows(sheet_xml: bytes, rows: Iterable[bytes]) -> StreamedPart:
    """The sheet with ``rows`` appended to its sheetData (after the header row)."""
    end = sheet_xml.find(b"</sheetData>")
    if end >= 0:
        return StreamedPart(sheet_xml[:end], rows, sheet_xml[end:])
    empty = sheet_xml.find(b"<sheetData/>")
    if empty < 0:
        raise ValueError("the scratch sheet has no sheetData")
    return StreamedPart(sheet_xml[:empty] + b"<sheetData>", rows, b"</sheetData>" + sheet_xml[empty + 12 :])


def _children(root: etree._Element, tag: str) -> list[etree._Element]:
    found = root.find(q(tag))
    return list(found) if found is not None else []


def _styles_part(rels: etree._Element, workbook_part: str) -> str | None:
    for rel in rels:
        if rel.get("Type") == STYLES_TYPE:
            return resolve(workbook_part, rel.get("Target", ""))
    return None


def _scratch_sheet_parts(scratch: Package) -> dict[str, str]:
    workbook_part = scratch.main_part()
    workbook = parse(data_of(scratch.parts[workbook_part]))
    rels = {r.get("Id"): r.get("Target", "") for r in parse(data_of(scratch.parts[rels_name(workbook_part)]))}
    return {
        sheet.get("name"): resolve(workbook_part, rels[sheet.get(q("id", REL))])
        for sheet in workbook.find(q("sheets"))
    }


def _copy_defined_names(scratch: Package, workbook: etree._Element, scratch_index: int, new_index: int) -> None:
    scratch_book = parse(data_of(scratch.parts[scratch.main_part()]))
    names = scratch_book.find(q("definedNames"))
    if names is None:
        return
    for name in names:
        if name.get("localSheetId") != str(scratch_index):
            continue
        target = child(workbook, "definedNames", ("calcPr", "oleSize", "customWorkbookViews", "pivotCaches", "extLst"))
        copy = _copy(name)
        copy.set("localSheetId", str(new_index))
        target.append(copy)


def _free_name(parts: dict[str, bytes], stem: str, suffix: str) -> str:
    number = 1
    while f"{stem}{number}{suffix}" in parts:
        number += 1
    return f"{stem}{number}{suffix}"


def _add_rel(rels: etree._Element, rel_type: str, target: str) -> str:
    taken = {rel.get("Id") for rel in rels}
    number = 1
    while f"rIdKpiXl{number}" in taken:
        number += 1
    rid = f"rIdKpiXl{number}"
    etree.SubElement(rels, q("Relationship", PKG_REL), Id=rid, Type=rel_type, Target=target)
    return rid


def _add_override(types: etree._Element, part: str, content_type: str) -> None:
    etree.SubElement(types, q("Override", CT), PartName="/" + part, ContentType=content_type)


def _drop_override(types: etree._Element, part: str) -> None:
    for override in list(types):
        if override.get("PartName", "").lstrip("/") == part:
            types.remove(override)


def _drop_stale_calc_chain(parts: dict[str, bytes], rels: etree._Element, types: etree._Element, workbook_part: str) -> None:
    """The calculation chain names sheets by position: Excel rebuilds it when absent."""
    for rel in list(rels):
        if rel.get("Type", "").endswith("/calcChain"):
            part = resolve(workbook_part, rel.get("Target", ""))
            parts.pop(part, None)
            _drop_override(types, part)
            rels.remove(rel)


def write_package(source: Package, parts: dict[str, Part], destination: str) -> None:
    """Write parts as a zip, in the source's member order, new parts last.

    Parts unchanged from an open source package are copied still compressed;
    streamed parts are compressed on a second thread (zlib lets go of the
    interpreter) while their rows are being written."""
    order = [info.filename for info in source.infos if info.filename in parts]
    order += [name for name in parts if name not in set(order)]
    infos = {info.filename: info for info in source.infos}
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for name in order:
            part = parts[name]
            info = infos.get(name)
            unchanged = info is not None and part is source.parts.get(name)
            if unchanged and source.archive is not None:
                _copy_raw(archive, source.archive, info)
            elif isinstance(part, StreamedPart):
                archive.compresslevel = STREAMED_COMPRESSLEVEL
                try:
                    with archive.open(name, "w") as handle:
                        _write_in_background(handle, part.chunks())
                finally:
                    archive.compresslevel = None
            elif unchanged:
                archive.writestr(info, data_of(part), compress_type=info.compress_type)
            else:
                archive.writestr(name, data_of(part), compress_type=zipfile.ZIP_DEFLATED)


def _copy_raw(archive: zipfile.ZipFile, source: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Copy a member from source into archive as stored: compressed bytes, CRC
    and sizes unchanged, nothing inflated.  Uses zipfile's own header writer
    and bookkeeping, as ZipFile.write does."""
    handle = source.fp
    assert handle is not None and archive.fp is not None
    handle.seek(info.header_offset)
    header = handle.read(zipfile.sizeFileHeader)
    if len(header) != zipfile.sizeFileHeader or header[:4] != zipfile.stringFileHeader:
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    handle.seek(info.header_offset + zipfile.sizeFileHeader + name_length + extra_length)
    raw = handle.read(info.compress_size)
    if len(raw) != info.compress_size:
        raise zipfile.BadZipFile(f"{info.filename} is truncated")
    clone = copy.copy(info)
    clone.extra = _without_zip64(info.extra)  # zip64 sizes: FileHeader writes them anew when needed
    clone.flag_bits = info.flag_bits & ~0x08  # sizes and CRC go in the header, no data descriptor
    clone.header_offset = archive.fp.tell()
    zip64 = clone.file_size > zipfile.ZIP64_LIMIT or clone.compress_size > zipfile.ZIP64_LIMIT
    archive.fp.write(clone.FileHeader(zip64))
    archive.fp.write(raw)
    archive.filelist.append(clone)
    archive.NameToInfo[clone.filename] = clone
    archive.start_dir = archive.fp.tell()


def _without_zip64(extra: bytes) -> bytes:
    """A zip extra field without its zip64 record (header id 1)."""
    kept = bytearray()
    position = 0
    while position + 4 <= len(extra):
        header, size = struct.unpack("<HH", extra[position : position + 4])
        if header != 1:
            kept += extra[position : position + 4 + size]
        position += 4 + size
    return bytes(kept)


def _write_in_background(handle: Any, chunks: Iterable[bytes]) -> None:
    """handle.write(chunk) for every chunk, on a second thread: the chunks are
    produced here while the previous ones are compressed there."""
    pending: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
    failed: list[BaseException] = []

    def drain() -> None:
        while True:
            chunk = pending.get()
            if chunk is None:
                return
            if not failed:
                try:
                    handle.write(chunk)
                except BaseException as exc:  # handed to the caller below
                    failed.append(exc)

    writer = threading.Thread(target=drain, name="kpi-xl-deflate", daemon=True)
    writer.start()
    try:
        for chunk in chunks:
            if failed:
                break
            pending.put(chunk)
    finally:
        pending.put(None)
        writer.join()
    if failed:
        raise failed[0]
