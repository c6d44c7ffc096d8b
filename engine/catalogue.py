"""The service catalogue (事项目录): the items the hall handles and the terms of each, the
source of its public 办事指南 (service guides).

An item is saved as a new version when what it says changes; a version is never changed
afterwards. Process owners and admins save items, one at a time (the API, the pages) or a
whole catalogue at once (`load`, all or nothing: the CLI's import)."""

from __future__ import annotations

import re

import sqlalchemy as sa
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engine import clock, db
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.identity import Actor
from engine.models import CatalogueItem, ProcessVersion

CATEGORIES = {"domestic": "内资", "foreign": "外资", "construction": "建设", "social": "社会事务"}  # the windows
KINDS = {"immediate": "即办件", "promised": "承诺件"}
MAX_DAYS = 365
MAX_ITEMS = 2000  # in one catalogue loaded at once
MAX_VERSION = 2**31 - 1  # what an integer column holds
MAX_FILE_BYTES = 20 * 2**20  # a catalogue loaded from a file, JSON or a workbook
_C = CatalogueItem.__table__.c
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


def _text(column, required: bool = False, **kw) -> fields.String:
    """A text of at most what `column` holds; surrounding blanks dropped."""
    return fields.String(required=required, validate=validate.Length(min=1 if required else 0,
                                                                      max=column.type.length), **kw)


class Material(Schema):
    """A material the applicant brings (or uploads)."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    original = fields.Boolean(load_default=True, metadata={"description": "the original (原件), else a copy"})
    copies = fields.Integer(load_default=1, validate=validate.Range(min=0, max=20))
    required = fields.Boolean(load_default=True)
    tolerable = fields.Boolean(load_default=False, metadata={
        "description": "容缺受理: the case may be accepted without it, the material promised for later"})
    departments = fields.List(fields.String(validate=validate.Length(min=1, max=64)), load_default=list,
                              validate=validate.Length(max=20), metadata={
                                  "description": "审查部门: the departments whose review reads it; none: every step"})
    sample = fields.Url(load_default=None, allow_none=True, relative=True, schemes={"http", "https"},
                        validate=validate.Length(max=500),
                        metadata={"description": "a blank form or a sample: an http(s) address or a path of the hall"})

    @validates_schema
    def _tolerable_is_required(self, data, **_kw):
        if data.get("tolerable") and not data.get("required"):
            raise ValidationError("only a required material can be tolerated (容缺)", "tolerable")


class Fee(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    amount = fields.Decimal(required=True, places=2, as_string=True, validate=validate.Range(min=0, max=10**9))
    basis = fields.String(load_default="", validate=validate.Length(max=500),
                          metadata={"description": "the legal basis of the fee"})


class ItemSchema(Schema):
    """An item of the catalogue as it is written (and read, with its version). The pages
    label its fields in the person's language (webapp/ui/models.py)."""

    code = fields.String(required=True, validate=validate.Regexp(CODE, error="letters, digits, '_', '.', '-'; "
                                                                              "at most 32"))
    name = _text(_C.name, required=True)
    category = fields.String(
        required=True, validate=validate.OneOf(tuple(CATEGORIES), labels=tuple(CATEGORIES.values())),
        metadata={"description": "the window: domestic 内资, foreign 外资, construction 建设, social 社会事务"})
    departments = fields.List(fields.String(validate=validate.Length(min=1, max=64)), required=True,
                              validate=validate.Length(min=1, max=20))
    kind = fields.String(required=True, validate=validate.OneOf(tuple(KINDS), labels=tuple(KINDS.values())),
                         metadata={"description": "immediate (即办件: done on the spot) | promised (承诺件)"})
    legal_days = fields.Integer(required=True, validate=validate.Range(min=0, max=MAX_DAYS),
                                metadata={"description": "法定时限, working days"})
    promised_days = fields.Integer(required=True, validate=validate.Range(min=0, max=MAX_DAYS),
                                   metadata={"description": "承诺时限, working days (0 for a 即办件)"})
    materials = fields.List(fields.Nested(Material), load_default=list, validate=validate.Length(max=100))
    fees = fields.List(fields.Nested(Fee), load_default=list, validate=validate.Length(max=20),
                       metadata={"description": "none: 免费"})
    place = _text(_C.place, load_default="")
    hours = _text(_C.hours, load_default="")
    phone = fields.String(load_default="", validate=validate.Regexp(r"^[0-9+()\- ]{0,32}$",
                                                                      error="digits, spaces, + ( ) -"))
    basis = _text(_C.basis, load_default="",
                  metadata={"description": "设定依据: the law the item rests on", "multiline": True})
    process_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=128),
                               metadata={"description": "the process that runs a case of this item"})
    online = fields.Boolean(load_default=False, metadata={"description": "may be filed online (网上预审)"})

    @validates_schema
    def _terms(self, data, **_kw):
        kind, legal, promised = data.get("kind"), data.get("legal_days"), data.get("promised_days")
        if None in (kind, legal, promised):
            return
        if kind == "immediate" and promised != 0:
            raise ValidationError("a 即办件 is done on the spot: its promised limit is 0", "promised_days")
        if kind == "promised" and not 1 <= promised <= legal:
            raise ValidationError("a 承诺件 promises at least 1 working day and no more than the legal limit",
                                  "promised_days")
        if data.get("online") and not data.get("process_id"):
            raise ValidationError("an item filed online needs the process that runs it", "process_id")
        names = [m["name"] for m in data.get("materials") or []]
        if len(names) != len(set(names)):
            raise ValidationError("each material once", "materials")


_ITEM = ItemSchema()
_STAMPS = ("version", "saved_at", "saved_by")  # what as_dict adds: an export loads again as it is


def check(item) -> dict:
    """An item as the catalogue keeps it, or Invalid naming each field that is wrong."""
    if not isinstance(item, dict):
        raise Invalid("an item is a JSON object", {"item": ["must be an object"]})
    try:
        data = _ITEM.load({k: v for k, v in item.items() if k not in _STAMPS})
    except ValidationError as e:
        raise Invalid(f"invalid item: {', '.join(sorted(e.messages))}", e.messages) from None
    # as JSON keeps it (amounts as text): what is read back compares equal to what was saved
    return _ITEM.dump(data)


class Catalogue:
    def __init__(self, session):
        self.session = session

    # reading -----------------------------------------------------------------------
    def items(self) -> list[CatalogueItem]:
        """The latest version of every item, whole, by window and code (an export)."""
        rows = list(self.session.scalars(_latest(sa.select(CatalogueItem))))
        self.session.rollback()
        return rows

    def listing(self, search: str | None = None, category: str | None = None, page: int = 1,
                per_page: int = 50) -> tuple[list, int]:
        """One page of the latest versions, by window and code, without their materials and
        fees; `search` in code and name, any case. Returns (rows, how many in all)."""
        q = _latest(sa.select(*(_C[k] for k in SUMMARY)))
        if search:
            like = "%" + re.sub(r"([\\%_])", r"\\\1", search.strip()[:100]) + "%"
            q = q.where(sa.or_(_C.code.ilike(like, escape="\\"), _C.name.ilike(like, escape="\\")))
        if category:
            q = q.where(_C.category == category)
        total = self.session.scalar(sa.select(sa.func.count()).select_from(q.order_by(None).subquery()))
        rows = self.session.execute(q.limit(per_page).offset((page - 1) * per_page)).all()
        self.session.rollback()
        return rows, total

    def item(self, code: str, version: int | None = None) -> CatalogueItem:
        """An item: its latest version, or the version asked for."""
        if version is not None and not 1 <= version <= MAX_VERSION:
            raise NotFound(f"no item {code} version {version}")
        q = sa.select(CatalogueItem).where(_C.code == code)
        q = q.where(_C.version == version) if version is not None else q.order_by(_C.version.desc()).limit(1)
        row = self.session.scalars(q).first()
        self.session.rollback()
        if row is None:
            raise NotFound(f"no item {code}" + (f" version {version}" if version is not None else ""))
        return row

    def versions(self, code: str) -> list[CatalogueItem]:
        rows = list(self.session.scalars(sa.select(CatalogueItem).where(_C.code == code).order_by(_C.version)))
        self.session.rollback()
        if not rows:
            raise NotFound(f"no item {code}")
        return rows

    # writing -----------------------------------------------------------------------
    def save(self, actor: Actor, item) -> tuple[CatalogueItem, bool]:
        """Save an item; a new version if it says anything new. Returns (the latest version,
        whether it is new)."""
        _may_edit(actor)
        (saved,) = self._write(actor, [check(item)])
        return saved

    def load(self, actor: Actor, items) -> list[tuple[CatalogueItem, bool]]:
        """Save items, all or none: each checked first, each code at most once."""
        _may_edit(actor)
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise Invalid(f"a catalogue is a list of at most {MAX_ITEMS} items", {"items": ["too many"]})
        checked = []
        for n, item in enumerate(items):
            try:
                checked.append(check(item))
            except Invalid as e:
                code = item.get("code") if isinstance(item, dict) else None
                raise Invalid(f"item {n + 1}{f' ({code})' if isinstance(code, str) else ''}: {e.message}",
                              {str(n + 1): e.extra.get("errors")}) from None
        codes = [c["code"] for c in checked]
        if len(codes) != len(set(codes)):
            raise Invalid("each item's code once", {"code": sorted({c for c in codes if codes.count(c) > 1})})
        return self._write(actor, checked)

    def _write(self, actor: Actor, checked: list[dict]) -> list[tuple[CatalogueItem, bool]]:
        self._check_processes({c["process_id"] for c in checked if c["process_id"]})
        now = clock.now()
        saved = []
        try:
            with db.write(self.session) as s:
                for data in checked:
                    latest = s.scalars(sa.select(CatalogueItem).where(_C.code == data["code"])
                                       .order_by(_C.version.desc()).limit(1)).first()
                    if latest is not None and _ITEM.dump(latest) == data:
                        saved.append((latest, False))
                        continue
                    row = CatalogueItem(**data, version=(latest.version if latest else 0) + 1, saved_at=now,
                                        saved_by=actor.username)
                    s.add(row)
                    saved.append((row, True))
                s.flush()
        except sa.exc.IntegrityError as e:
            if db.unique_violation(e):
                raise Conflict("the catalogue changed meanwhile; try again") from None
            raise
        return saved

    def _check_processes(self, process_ids: set[str]) -> None:
        known = set(self.session.scalars(sa.select(ProcessVersion.process_id)
                                         .where(ProcessVersion.process_id.in_(sorted(process_ids))).distinct()))
        self.session.rollback()
        if missing := sorted(process_ids - known):
            raise Invalid(f"no process {', '.join(missing)} is deployed",
                          {"process_id": [f"no process {m} is deployed" for m in missing]})


SUMMARY = ("code", "version", "name", "category", "departments", "kind", "legal_days", "promised_days",
           "process_id", "online")  # what a list of items shows


def _latest(q):
    """`q` (over catalogue_items) narrowed to each item's latest version, by window and code."""
    latest = sa.select(_C.code, sa.func.max(_C.version).label("version")).group_by(_C.code).subquery()
    return q.join(latest, sa.and_(_C.code == latest.c.code, _C.version == latest.c.version)) \
        .order_by(_C.category, _C.code)


def _may_edit(actor: Actor) -> None:
    if not actor.has("process_owner"):
        raise Forbidden("only process owners and admins edit the catalogue")


def case_terms(item) -> dict:
    """What a case filed under a version of an item keeps of it, as its data's `item`: what
    its diagram reads (`item["immediate"]`, `item["window"]`) and what its limit counts."""
    return {"code": item.code, "version": item.version, "name": item.name, "kind": item.kind,
            "immediate": item.kind == "immediate", "category": item.category, "window": CATEGORIES[item.category],
            "legal_days": item.legal_days, "promised_days": item.promised_days}


def as_dict(row: CatalogueItem) -> dict:
    """A version of an item as the API shows it, with its version and who saved it when."""
    return {**_ITEM.dump(row), "version": row.version, "saved_at": row.saved_at, "saved_by": row.saved_by}
