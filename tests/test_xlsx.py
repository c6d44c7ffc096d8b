"""The hall's workbook writer (engine.xlsx), read back by openpyxl: what goes in comes out as
the same value of the same type, whatever text a user wrote."""

from __future__ import annotations

import datetime as dt
import io
import math
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from engine import xlsx


def _book(sheets: dict[str, list[list]]) -> bytes:
    out = io.BytesIO()
    with xlsx.Workbook(out) as book:
        for name, rows in sheets.items():
            with book.sheet(name) as append:
                for row in rows:
                    append(row)
    return out.getvalue()


def _read(data: bytes) -> dict[str, list[tuple]]:
    wb = load_workbook(io.BytesIO(data))
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def test_values_come_back_as_what_they_are():
    at = dt.datetime(2026, 3, 9, 14, 30, 15)
    rows = [["文本", 42, 3.25, Decimal("1.10"), True, False, at, dt.date(2026, 12, 31), None, "after a gap"]]
    back = _read(_book({"统计": rows}))["统计"]
    assert back == [("文本", 42, 3.25, 1.1, True, False, at, dt.datetime(2026, 12, 31), None, "after a gap")]
    wb = load_workbook(io.BytesIO(_book({"s": rows})))
    assert wb["s"]["G1"].is_date and wb["s"]["G1"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert wb["s"]["B1"].data_type == "n" and wb["s"]["E1"].data_type == "b"


def test_text_is_never_markup_a_formula_or_a_broken_file():
    hostile = ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "<b>&amp;</b> \"quoted\" 'single'", "tab\tand\nline",
               "bell\x07 null\x00 esc\x1b gone", "  spaces kept  ", "表情😀", "x" * (xlsx.MAX_TEXT + 10)]
    back = _read(_book({"s": [hostile]}))["s"][0]
    assert back[:4] == tuple(hostile[:4])  # a leading = is text, not a formula
    assert back[4] == "bell null esc gone" and back[5] == "  spaces kept  " and back[6] == "表情😀"
    assert len(back[7]) == xlsx.MAX_TEXT
    wb = load_workbook(io.BytesIO(_book({"s": [hostile]})))
    assert wb["s"]["A1"].data_type == "s"


def test_numbers_a_spreadsheet_cannot_hold_are_left_empty():
    assert _read(_book({"s": [[math.nan, math.inf, 1]]}))["s"] == [(None, None, 1)]


def test_sheets_in_order_many_columns_and_rows():
    rows = [[r * 100 + c for c in range(30)] for r in range(1100)]  # past column Z, past a flush of rows
    back = _read(_book({"一": [["a"]], "二": rows, "三": []}))
    assert list(back) == ["一", "二", "三"] and back["二"] == [tuple(r) for r in rows] and back["三"] == []
    assert [xlsx.column(i) for i in (0, 25, 26, 51, 52, 701, 702)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


def test_a_zoned_time_and_a_bad_sheet_name_are_refused():
    with pytest.raises(ValueError, match="zone"):
        _book({"s": [[dt.datetime(2026, 1, 1, tzinfo=dt.UTC)]]})
    for name in ("", "a" * 32, "a/b", "[x]"):
        with pytest.raises(ValueError, match="sheet name"):
            _book({name: []})
    with pytest.raises(ValueError, match="not used before"):
        out = io.BytesIO()
        with xlsx.Workbook(out) as book:
            for _ in range(2):
                with book.sheet("同名"):
                    pass


def test_the_package_holds_the_parts_a_spreadsheet_program_looks_for():
    with zipfile.ZipFile(io.BytesIO(_book({"s": [[1]]}))) as z:
        names = set(z.namelist())
        assert {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                "xl/styles.xml", "xl/worksheets/sheet1.xml"} <= names
        assert z.testzip() is None
