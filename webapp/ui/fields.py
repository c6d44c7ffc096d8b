"""A form description (forms.describe) as HTML inputs, and posted inputs back as data.

Input names are paths: `enterprise.name`, `approvals[0].dept`. What cannot be read as its
type (a number that is not one) is passed on as typed, so the form's own validation says
what is wrong, next to the field, in the form's words.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from werkzeug.datastructures import MultiDict

from engine import clock

_ROW = re.compile(r"^\[(\d+)\]\.")


def _empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _scalar(desc: dict, raw: str):
    kind = desc["type"]
    raw = raw.strip()
    if kind == "long":
        try:
            return int(raw)
        except ValueError:
            return raw
    if kind == "number":
        try:
            return float(Decimal(raw))
        except (InvalidOperation, ValueError):
            return raw
    if kind == "enum" and desc.get("choices"):
        for c in desc["choices"]:  # choices may be numbers or booleans: give back the real value
            if str(c["value"]) == raw:
                return c["value"]
    return raw


def parse(fields: list[dict], form: MultiDict, prefix: str = "") -> dict:
    """Posted inputs under `prefix` as data for the form described by `fields`."""
    data: dict = {}
    for desc in fields:
        name = prefix + desc["name"]
        kind = desc["type"]
        if kind == "object" and desc.get("fields"):
            value = parse(desc["fields"], form, name + ".")
            if value or desc["required"]:
                data[desc["name"]] = value
        elif kind == "list":
            value = _parse_list(desc, form, name)
            if value is not None:
                data[desc["name"]] = value
        elif kind == "boolean":
            if name in form or f"{name}.present" in form:
                data[desc["name"]] = form.get(name) in ("on", "true", "1", "yes")
        else:
            raw = form.get(name)
            if not _empty(raw):
                data[desc["name"]] = _scalar(desc, raw)
    return data


def _parse_list(desc: dict, form: MultiDict, name: str):
    item = desc.get("item") or {"type": "string"}
    if item["type"] == "object" and item.get("fields"):
        rows = sorted({int(m.group(1)) for key in form if key.startswith(name + "[")
                       and (m := _ROW.match(key[len(name):]))})
        values = [parse(item["fields"], form, f"{name}[{i}].") for i in rows]
        values = [v for v in values if v]
        return values if values or f"{name}.present" in form else None
    if item["type"] == "enum":
        picked = [_scalar(item, v) for v in form.getlist(name) if not _empty(v)]
        return picked if picked or f"{name}.present" in form else None
    raw = form.get(name)
    if raw is None:
        return None
    return [_scalar(item, line) for line in raw.splitlines() if line.strip()]


def flatten_errors(errors, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as {input path: [messages]}."""
    out: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            if isinstance(key, int):
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten_errors(value, path))
    elif isinstance(errors, list) and errors and all(isinstance(e, str) for e in errors):
        out[prefix or "_"] = errors
    elif isinstance(errors, list):
        for i, e in enumerate(errors):
            out.update(flatten_errors(e, f"{prefix}[{i}]"))
    else:
        out[prefix or "_"] = [str(errors)]
    return out


def labelled(fields: list[dict], data: dict | None) -> list[tuple[str, object, str]]:
    """(label, value, kind) rows to show data read-only with the form's labels: kind "value",
    "group" (an object: its own rows) or "records" (a list of objects: rows each). Only what
    a form describes is shown: a value without a label a person can read stays out."""
    data = data or {}
    rows = []
    for desc in fields:
        if desc["name"] not in data:
            continue
        value = data[desc["name"]]
        item = desc.get("item") or {}
        if desc["type"] == "object" and isinstance(value, dict) and desc.get("fields"):
            rows.append((desc["label"], labelled(desc["fields"], value), "group"))
        elif desc["type"] == "list" and item.get("fields") and isinstance(value, list):
            rows.append((desc["label"], [labelled(item["fields"], v) for v in value if isinstance(v, dict)],
                         "records"))
        elif desc["type"] in ("object", "list") and not desc.get("fields") and not item:
            continue  # free-form structure: nothing says what its parts are
        else:
            rows.append((desc["label"], _shown(desc, value), "value"))
    return rows


def _shown(desc: dict, value):
    item = desc.get("item") or {}
    choices = {str(c["value"]): c["label"] for c in (desc.get("choices") or item.get("choices") or [])}
    if isinstance(value, list):
        return [_readable(item, choices.get(str(v), v)) for v in value]
    if isinstance(value, bool):
        return value
    return _readable(desc, choices.get(str(value), value))


def _readable(desc: dict, value):
    """A stored time as the hall's local time, to the minute."""
    if desc.get("type") == "datetime" and isinstance(value, str):
        try:
            at = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        if at.tzinfo is not None:
            at = at.astimezone(clock.HALL_TZ)
        return at.strftime("%Y-%m-%d %H:%M")
    return value


def material_uploads(form_files, materials: list[dict]) -> list[tuple[str, object]]:
    """(material, file) for each file chosen on a filing page, whose inputs are `file-0`,
    `file-1`... in the order of `materials` (an item's, then 其他材料)."""
    chosen = ((m["name"], form_files.get(f"file-{n}")) for n, m in enumerate(materials))
    return [(name, f) for name, f in chosen if f is not None and f.filename]
