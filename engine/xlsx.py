"""Workbooks (XLSX) written as they go, the hall's one writer of them (openpyxl reads them).

A workbook is a zip of XML parts (ECMA-376, SpreadsheetML). Each sheet's rows go to its zip
member as they are appended, so a year of cases is never held in memory; a row costs a few
string operations, where a spreadsheet library builds an object and a style for every cell
(openpyxl's write-only mode: some 20 µs a cell, 20 s for a year's cases). Cells are what they
are: numbers and booleans as such, times as the spreadsheet's dates, text as inline strings,
which a spreadsheet never reads as a formula.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import BinaryIO

MAX_TEXT = 32767  # the characters a cell holds
_SHEET_NAME = re.compile(r"^[^\[\]:*?/\\]{1,31}$")
_EPOCH = dt.datetime(1899, 12, 30)  # day 0 of the spreadsheet's dates (1900 system, as Excel counts them)
_DAY = dt.timedelta(days=1)
# XML's markup, and the control characters XML 1.0 cannot hold at all
_ESCAPE = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;",
           **{c: None for c in (*range(0, 9), 11, 12, *range(14, 32), 0xFFFE, 0xFFFF)}}
_DATETIME, _DATE = 1, 2  # cellXfs of styles.xml
_FLUSH_ROWS = 1000

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet {_NS}><numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/><numFmt numFmtId="165" \
formatCode="yyyy-mm-dd"/></numFmts><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>\
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>\
</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""


@functools.cache
def column(index: int) -> str:
    """A column's letters: 0 is A, 26 is AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text(value: str) -> str:
    return value[:MAX_TEXT].translate(_ESCAPE)


def _cell(ref: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float | Decimal):
        value = float(value) if isinstance(value, Decimal) else value
        return f'<c r="{ref}"><v>{value!r}</v></c>' if math.isfinite(value) else ""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            raise ValueError("a spreadsheet's time has no zone: give the local time")
        return f'<c r="{ref}" s="{_DATETIME}"><v>{(value - _EPOCH) / _DAY!r}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}" s="{_DATE}"><v>{(value - _EPOCH.date()).days}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{_text(str(value))}</t></is></c>'


class Workbook:
    """Sheets written one after the other into `out` (a file open for writing, seekable or
    not): `with Workbook(out) as book:` then `with book.sheet("名称") as append:` and
    `append(row)` for each row, a row being a list of values (None: an empty cell)."""

    def __init__(self, out: BinaryIO):
        self._zip = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self._names: list[str] = []

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, kind, error, trace) -> None:
        if kind is None:
            self._finish()
        self._zip.close()

    @contextmanager
    def sheet(self, name: str) -> Iterator:
        if not _SHEET_NAME.match(name) or name in self._names:
            raise ValueError(f"sheet name {name!r}: 1 to 31 characters, none of []:*?/\\, not used before")
        self._names.append(name)
        rows: list[str] = []
        count = 0
        with self._zip.open(f"xl/worksheets/sheet{len(self._names)}.xml", "w") as member:
            member.write(f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS}><sheetData>'
                         .encode())

            def append(values: Iterable) -> None:
                nonlocal count
                count += 1
                cells = "".join(_cell(f"{column(i)}{count}", v) for i, v in enumerate(values))
                rows.append(f'<row r="{count}">{cells}</row>')
                if len(rows) >= _FLUSH_ROWS:
                    member.write("".join(rows).encode("utf-8", "replace"))
                    rows.clear()

            yield append
            member.write(("".join(rows) + "</sheetData></worksheet>").encode("utf-8", "replace"))

    def _finish(self) -> None:
        numbers = range(1, len(self._names) + 1)
        sheets = "".join(f'<sheet name="{_text(name)}" sheetId="{n}" r:id="rId{n}"/>'
                         for n, name in zip(numbers, self._names, strict=True))
        self._zip.writestr("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                           f'<workbook {_NS} xmlns:r="{_R}"><sheets>{sheets}</sheets></workbook>')
        rels = "".join(f'<Relationship Id="rId{n}" Type="{_R}/worksheet" Target="worksheets/sheet{n}.xml"/>'
                       for n in numbers)
        styles = len(self._names) + 1
        self._zip.writestr("xl/_rels/workbook.xml.rels", _relationships(
            rels + f'<Relationship Id="rId{styles}" Type="{_R}/styles" Target="styles.xml"/>'))
        self._zip.writestr("xl/styles.xml", _STYLES)
        self._zip.writestr("_rels/.rels", _relationships(
            f'<Relationship Id="rId1" Type="{_R}/officeDocument" Target="xl/workbook.xml"/>'))
        main = "application/vnd.openxmlformats-officedocument.spreadsheetml"
        overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{main}.worksheet+xml"/>'
                            for n in numbers)
        self._zip.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{main}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{main}.styles+xml"/>{overrides}</Types>'))


def _relationships(inner: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{inner}</Relationships>')
