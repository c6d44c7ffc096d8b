"""Task forms: plain marshmallow schemas, found by a user task's `camunda:formKey`.

A form is registered under its key with `register`; a task with `camunda:formData` and no
registered key gets a schema generated from its fields (`generated_schema`). Labels come
from each field's `metadata["label"]` (Chinese); `describe` lists a schema's fields for a
client to render.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from marshmallow import RAISE, Schema, ValidationError, fields, validate

HALL_TZ = ZoneInfo("Asia/Shanghai")  # the hall's time: what a date or a time in a form means
# the days a person may give the hall (a form's date, a calendar day, a report's range):
# wide enough for any real date, narrow enough that counting from one cannot overflow
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)

_clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)  # noqa: E731


def use_clock(now: Callable[[], dt.datetime]) -> None:
    """The clock a form reads "now" from (the engine hands over its own, which tests move)."""
    global _clock
    _clock = now


def now() -> dt.datetime:
    """Now, as the hall's clock says (aware UTC)."""
    return _clock()

_REGISTRY: dict[str, type[Schema]] = {}


def register(key: str):
    """Class decorator: `@register("bl_intake") class IntakeForm(Schema): ...`."""

    def deco(cls: type[Schema]) -> type[Schema]:
        _REGISTRY[key] = cls
        return cls

    return deco


# --- fields the hall's forms share ---------------------------------------------------

def choice(choices: list[tuple[str, str]], label: str, **kw) -> fields.String:
    """A choice among [(value, 中文), ...], shown with its labels."""
    return fields.String(validate=validate.OneOf([c[0] for c in choices], labels=[c[1] for c in choices]),
                         metadata={"label": label, "choices": choices}, **kw)


def text(label: str, required: bool = True, multiline: bool = False, max_len: int = 2000, **kw) -> fields.String:
    """Text of at most `max_len` characters; a required one may not be empty."""
    meta = {"label": label}
    if multiline:
        meta["multiline"] = True
    return fields.String(required=required, validate=validate.Length(min=1 if required else 0, max=max_len),
                         metadata=meta, **kw)


class Registry:
    """What the engine sees of forms."""

    def has(self, key: str) -> bool:
        _load_all()
        return key in _REGISTRY

    def get(self, key: str) -> type[Schema] | None:
        _load_all()
        return _REGISTRY.get(key)

    def keys(self) -> list[str]:
        _load_all()
        return sorted(_REGISTRY)


registry = Registry()
_loaded = False


def _load_all() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        from forms import hall_forms  # noqa: F401  (registers the hall's forms)


class StrictDate(fields.Date):
    """ISO dates only ("2026-11-29")."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        return super()._deserialize(value, attr, data, **kwargs)


def generated_schema(form_fields) -> type[Schema]:
    """A schema for Camunda formData fields (string, long, boolean, date, enum).

    Constraints: required, readonly, min/max (numbers and dates), minlength/maxlength."""
    attrs: dict = {"Meta": type("Meta", (), {"unknown": RAISE})}
    for f in form_fields:
        v = {x.name: x.config for x in f.validation}
        meta = {"label": f.label or f.id}
        validators = []
        if f.type == "long":
            field_cls, kw = fields.Integer, {"strict": True}
            lo, hi = v.get("min"), v.get("max")
            if lo is not None or hi is not None:
                validators.append(validate.Range(min=int(float(lo)) if lo is not None else None,
                                                 max=int(float(hi)) if hi is not None else None))
        elif f.type == "boolean":
            field_cls, kw = fields.Boolean, {}
        elif f.type == "date":
            field_cls, kw = StrictDate, {}
            lo, hi = v.get("min"), v.get("max")
            if lo or hi:
                validators.append(validate.Range(min=dt.date.fromisoformat(lo) if lo else None,
                                                 max=dt.date.fromisoformat(hi) if hi else None))
        elif f.type == "enum":
            choices = [(o.id, o.name) for o in f.options]
            meta["choices"] = choices
            field_cls, kw = fields.String, {}
            validators.append(validate.OneOf([c[0] for c in choices], labels=[c[1] for c in choices]))
        else:
            field_cls, kw = fields.String, {}
        if f.type in ("string", "enum") and ("minlength" in v or "maxlength" in v):
            validators.append(validate.Length(min=int(v["minlength"]) if "minlength" in v else None,
                                              max=int(v["maxlength"]) if "maxlength" in v else None))
        required = "required" in v and str(v["required"]).lower() not in ("false", "0")
        if required and f.type == "string":
            validators.append(validate.Length(min=1, error="不能为空 / must not be empty"))
        if "readonly" in v:
            kw["dump_only"] = True
        attrs[f.id] = field_cls(required=required, validate=validators, metadata=meta,
                                allow_none=not required, **kw)
    return type("GeneratedForm", (Schema,), attrs)


_TYPE_NAMES = [
    (fields.Boolean, "boolean"), (fields.Integer, "long"), (fields.Float, "number"),
    (fields.Decimal, "number"), (fields.DateTime, "datetime"), (fields.Date, "date"),
    (fields.List, "list"), (fields.Nested, "object"), (fields.Dict, "object"),
]


def _choices(field: fields.Field) -> list[dict] | None:
    """A field's choices: its metadata's, or those of its OneOf validator."""
    pairs = field.metadata.get("choices")
    if not pairs:
        for v in field.validators:
            if isinstance(v, validate.OneOf):
                labels = list(v.labels) if v.labels else [str(c) for c in v.choices]
                pairs = list(zip(v.choices, labels, strict=False))
                break
    return [{"value": c[0], "label": c[1]} for c in pairs] if pairs else None


def _type_name(field: fields.Field, choices) -> str:
    if choices:
        return "enum"
    for cls, name in _TYPE_NAMES:
        if isinstance(field, cls):
            return name
    return "text" if field.metadata.get("multiline") else "string"


def describe_field(name: str, field: fields.Field) -> dict:
    choices = _choices(field)
    entry = {
        "name": field.data_key or name,
        "type": _type_name(field, choices),
        "label": field.metadata.get("label", name),
        "required": bool(field.required),
        "choices": choices,
    }
    if field.metadata.get("description"):
        entry["help"] = field.metadata["description"]
    if isinstance(field, fields.Nested):
        entry["fields"] = describe(type(field.schema))
    elif isinstance(field, fields.List):
        entry["item"] = describe_field(name, field.inner)
    return entry


def describe(schema_cls: type[Schema] | None) -> list[dict]:
    """Fields of a form for a client: name, type, label, required, choices; an object's
    fields; a list's item."""
    if schema_cls is None:
        return []
    return [describe_field(name, field) for name, field in schema_cls().fields.items() if not field.dump_only]


_INSTANCES: dict[type[Schema], Schema] = {}


def load(schema_cls: type[Schema] | None, data) -> dict:
    """Validate submitted data. Raises ValidationError ({field: [messages]}); a date outside
    FIRST_DAY..LAST_DAY is refused, whatever the form says, as no deadline could count from it."""
    if not isinstance(data, dict):
        raise ValidationError({"data": ["must be a JSON object"]})
    if schema_cls is None:
        return dict(data)
    schema = _INSTANCES.get(schema_cls)
    if schema is None:  # building a schema costs more than loading with it; one serves every load
        schema = _INSTANCES[schema_cls] = schema_cls()
    values = schema.load(data)
    bad = {name: [f"must lie between {FIRST_DAY} and {LAST_DAY}"] for name, v in values.items() if _off_calendar(v)}
    if bad:
        raise ValidationError(bad)
    return values


def _off_calendar(value) -> bool:
    """Does `value` hold a date (or time) outside FIRST_DAY..LAST_DAY, however deep in lists and objects?"""
    pending = [value]
    while pending:
        v = pending.pop()
        if isinstance(v, dt.date):
            day = v.date() if isinstance(v, dt.datetime) else v
            if not FIRST_DAY <= day <= LAST_DAY:
                return True
        elif isinstance(v, dict):
            pending.extend(v.values())
        elif isinstance(v, list | tuple):
            pending.extend(v)
    return False
