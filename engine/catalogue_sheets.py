"""The service catalogue as a workbook (XLSX), the form halls keep their catalogues in.

Three sheets, a row per item, per material and per fee, headed in Chinese:
事项 (the items), 申请材料 (each item's materials, in order) and 收费标准 (its fees). What a
sheet says is read as the API's item (engine.catalogue.ItemSchema) and checked as one.

A workbook is a zip of XML files: it is refused before it is opened when it holds more
than MAX_UNPACKED bytes unpacked, and its XML is read with defusedxml installed, which
openpyxl then uses (no entity expansion)."""

from __future__ import annotations

import zipfile
from decimal import Decimal
from typing import BinaryIO

import openpyxl

from engine import xlsx
from engine.catalogue import CATEGORIES, KINDS, MAX_ITEMS
from engine.errors import Invalid

MAX_UNPACKED = 64 * 2**20
ITEMS, MATERIALS, FEES = "事项", "申请材料", "收费标准"
_YES, _NO = "是", "否"
# (header, key) of each sheet's columns, in order
ITEM_COLUMNS = [("事项编码", "code"), ("事项名称", "name"), ("办理窗口", "category"), ("办理部门", "departments"),
                ("办件类型", "kind"), ("法定时限（工作日）", "legal_days"), ("承诺时限（工作日）", "promised_days"),
                ("办理地点", "place"), ("办理时间", "hours"), ("咨询电话", "phone"), ("设定依据", "basis"),
                ("办理流程", "process_id"), ("可网上办理", "online")]
MATERIAL_COLUMNS = [("事项编码", "code"), ("材料名称", "name"), ("原件", "original"), ("份数", "copies"),
                    ("必需", "required"), ("可容缺", "tolerable"), ("审查部门", "departments"), ("样表", "sample")]
OPTIONAL = {"审查部门"}  # a column a sheet kept before it existed may lack: its cells are blank
FEE_COLUMNS = [("事项编码", "code"), ("收费项目", "name"), ("金额（元）", "amount"), ("收费依据", "basis")]
_LABELS = {"category": CATEGORIES, "kind": KINDS}  # a code and the word the sheet uses for it
_CODES = {key: {label: code for code, label in labels.items()} for key, labels in _LABELS.items()}
_BOOLEANS = ("online", "original", "required", "tolerable")
_SEPARATOR = "、"  # between departments
_TEXTS = ("code", "name", "place", "hours", "phone", "basis", "process_id", "sample")


def write(items: list[dict], out: BinaryIO) -> None:
    """Write items (as engine.catalogue.as_dict gives them) as a workbook."""
    with xlsx.Workbook(out) as book:
        for title, columns, rows in ((ITEMS, ITEM_COLUMNS, lambda item: [item]),
                                     (MATERIALS, MATERIAL_COLUMNS, lambda item: item["materials"]),
                                     (FEES, FEE_COLUMNS, lambda item: item["fees"])):
            with book.sheet(title) as append:
                append([header for header, _key in columns])
                for item in items:
                    for row in rows(item):
                        append([_cell(key, item["code"] if key == "code" else row[key]) for _h, key in columns])


def _cell(key: str, value):
    if key in _LABELS:
        return _LABELS[key].get(value, value)
    if key in _BOOLEANS:
        return _YES if value else _NO
    if key == "departments":
        return _SEPARATOR.join(value)
    if key == "amount":
        return float(Decimal(value))
    return value


def read(source: BinaryIO) -> list[dict]:
    """Items from a workbook, in its order: each with its materials and fees. Invalid names
    the sheet, the row and the column of what cannot be read; the items are checked when
    they are saved (Catalogue.load)."""
    try:
        with zipfile.ZipFile(source) as z:
            unpacked = sum(i.file_size for i in z.infolist())
    except zipfile.BadZipFile:
        raise Invalid("not an XLSX workbook", {"file": ["not an XLSX workbook"]}) from None
    if unpacked > MAX_UNPACKED:
        raise Invalid(f"the workbook unpacks to more than {MAX_UNPACKED // 2**20} MiB",
                      {"file": ["too large unpacked"]})
    source.seek(0)
    try:
        book = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises what its parts raise on a damaged file
        raise Invalid(f"the workbook cannot be read: {type(e).__name__}", {"file": [str(e)[:200]]}) from None
    try:
        items = _rows(book, ITEMS, ITEM_COLUMNS, MAX_ITEMS)
        materials = _rows(book, MATERIALS, MATERIAL_COLUMNS, MAX_ITEMS * 100, required=False)
        fees = _rows(book, FEES, FEE_COLUMNS, MAX_ITEMS * 20, required=False)
    finally:
        book.close()
    by_code: dict = {}
    for n, item in enumerate(items, start=2):
        if item["code"] in by_code:
            raise Invalid(f"{ITEMS}, row {n}: item {item['code']} again", {ITEMS: {n: ["each item once"]}})
        # a blank cell says nothing: the item's own default holds
        by_code[item["code"]] = {**{k: v for k, v in item.items() if v is not None}, "materials": [], "fees": []}
    for rows, key, title in ((materials, "materials", MATERIALS), (fees, "fees", FEES)):
        for n, row in enumerate(rows, start=2):
            code = row.pop("code")
            if code not in by_code:
                raise Invalid(f"{title}, row {n}: no item {code} on sheet {ITEMS}", {title: {n: ["unknown item"]}})
            by_code[code][key].append({k: v for k, v in row.items() if v is not None})
    return list(by_code.values())


def _rows(book, title: str, columns: list[tuple[str, str]], limit: int, required: bool = True) -> list[dict]:
    if title not in book.sheetnames:
        if required:
            raise Invalid(f"the workbook has no sheet {title}", {"file": [f"no sheet {title}"]})
        return []
    rows = book[title].iter_rows(values_only=True)
    headers = [str(h).strip() if h is not None else "" for h in next(rows, ())]
    wanted = [h for h, _k in columns]
    missing = [h for h in wanted if h not in headers and h not in OPTIONAL]
    if missing:
        raise Invalid(f"sheet {title} has no column {', '.join(missing)}", {title: [f"no column {h}" for h in missing]})
    at = {key: headers.index(h) if h in headers else None for h, key in columns}
    out = []
    for n, row in enumerate(rows, start=2):
        if not any(v not in (None, "") for v in row):
            continue  # blank rows between blocks are common in kept sheets
        if len(out) == limit:
            raise Invalid(f"sheet {title} has more than {limit} rows", {title: ["too many rows"]})
        out.append({key: _value(title, n, h, key, row[at[key]] if at[key] is not None and at[key] < len(row) else None)
                    for h, key in columns})
    return out


def _value(title: str, row: int, header: str, key: str, value):
    if isinstance(value, str):
        value = value.strip() or None
    if value is None:
        return None
    if key in _CODES:
        return _CODES[key].get(value, value)  # an unknown word is refused when the item is checked
    if key in _BOOLEANS:
        if value in (_YES, _NO):
            return value == _YES
        if isinstance(value, bool):
            return value
        raise Invalid(f"{title}, row {row}, {header}: {_YES} or {_NO}", {title: {row: [f"{header}: {_YES}/{_NO}"]}})
    if key == "departments":
        return [d.strip() for d in str(value).replace(",", _SEPARATOR).replace("，", _SEPARATOR).split(_SEPARATOR)
                if d.strip()]
    if key == "amount" and isinstance(value, int | float):
        return str(Decimal(str(value)))
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet keeps every number as a float
    if key in _TEXTS and not isinstance(value, str):
        return str(value)  # a code or a phone number typed as a number
    return value
