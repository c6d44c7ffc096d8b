"""百分考核: the quarterly score of each window and each member of staff, out of 100, by the
scheme 管理办 keeps (engine.assessment_scheme), and its 季公示.

Who is assessed: a window is every group one of whose members works tasks (staff,
coordinator, director): the four 窗口, the departments' groups (工商, 国税...), 管理办...;
a person is every active user with one of those roles. Each is scored for what is theirs:
a window for the 审批问责 records and complaints given to it (their `department`), the
ratings of its cases (`ratings.window`) and the tasks of its group; a person for the records
naming them (`accountability.person`, `complaints.responsible`), the ratings rating them
(`rating_staff`) and the tasks they completed.

A quarter is counted in the hall's time (Asia/Shanghai). Before publication the scores are
computed live, in a few GROUP BY queries over the quarter's records (their cost follows the
quarter's rows, never case by case); each point names its cause (the record, with its case,
or the entry, with its reason and evidence). Publishing stores them, causes and 星级 included,
with the scheme's version: afterwards a score changes only by a recorded adjustment."""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import re
from types import SimpleNamespace

import sqlalchemy as sa

from engine import assessment_scheme as schemes
from engine import clock, db
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.identity import APPLICANTS, WINDOW_ROLES, Actor
from engine.materials import clean_name
from engine.models import (
    Accountability,
    AssessmentAdjustment,
    AssessmentEntry,
    AssessmentPublication,
    AssessmentScheme,
    Case,
    Complaint,
    Rating,
    RatingStaff,
    Task,
    User,
    user_groups,
)

QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
KINDS = ("window", "person")
MAX_ENTRIES = 2000  # a quarter's entries
REASON_CHARS = AssessmentEntry.__table__.c.reason.type.length
MAX_POINTS = 100.0  # an entry or an adjustment, either way
_A, _R, _RS, _T, _U = (Accountability.__table__.c, Rating.__table__.c, RatingStaff.__table__.c, Task.__table__.c,
                       User.__table__.c)
_CP, _C = Complaint.__table__.c, Case.__table__.c
_TASK_GROUPS = sa.func.coalesce(sa.func.nullif(sa.cast(_T.candidate_groups, sa.Text), "[]"), _T.lane)


def quarter_bounds(quarter) -> tuple[dt.datetime, dt.datetime]:
    """[since, until) of a quarter ("2026Q3") in UTC, counted in the hall's time."""
    m = QUARTER.match(quarter) if isinstance(quarter, str) else None
    if m is None or not clock.FIRST_DAY.year <= int(m[1]) < clock.LAST_DAY.year:
        raise Invalid("quarter must be written like 2026Q3", {"quarter": ["a quarter, like 2026Q3"]})
    year, q = int(m[1]), int(m[2])
    since = dt.datetime(year, 3 * q - 2, 1, tzinfo=clock.HALL_TZ)
    until = dt.datetime(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1, tzinfo=clock.HALL_TZ)
    return since.astimezone(dt.UTC), until.astimezone(dt.UTC)


def quarter_of(at: dt.datetime) -> str:
    local = at.astimezone(clock.HALL_TZ)
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def previous_quarter(quarter: str) -> str:
    year, q = int(quarter[:4]), int(quarter[5])
    return f"{year - 1}Q4" if q == 1 else f"{year}Q{q - 1}"


def _r(value: float) -> float:
    return round(value + 0.0, 2)


class Assessment:
    def __init__(self, session, store, max_file_bytes: int):
        self.session = session
        self.store = store  # engine.materials.FileStore: evidence is kept as case files are
        self.max_file_bytes = max_file_bytes

    # --- who may ----------------------------------------------------------------------

    @staticmethod
    def may_edit(actor: Actor) -> bool:
        return actor.has("coordinator")

    @staticmethod
    def may_enter(actor: Actor) -> bool:
        return actor.has("coordinator", "supervisor")

    @staticmethod
    def may_read_draft(actor: Actor) -> bool:
        return actor.has("coordinator", "director", "supervisor")

    @staticmethod
    def may_read_published(actor: Actor) -> bool:
        return actor.works_tasks or actor.has("supervisor")

    # --- the scheme -----------------------------------------------------------------

    def scheme(self, version: int | None = None) -> SimpleNamespace:
        """The scheme in force (the latest saved; the default, version 0, until one is), or a version."""
        q = sa.select(AssessmentScheme)
        q = q.where(AssessmentScheme.version == version) if version is not None else \
            q.order_by(AssessmentScheme.version.desc()).limit(1)
        row = self.session.scalars(q).first()
        if row is None:
            if version not in (None, 0):
                raise NotFound(f"no scheme version {version}")
            return SimpleNamespace(id=None, version=0, body=schemes.default(), saved_by=None, saved_at=None)
        return SimpleNamespace(id=row.id, version=row.version, body=row.body, saved_by=row.saved_by,
                               saved_at=row.saved_at)

    def save_scheme(self, actor: Actor, body) -> SimpleNamespace:
        """管理办 saves a new version; published quarters keep the version they were scored with."""
        if not self.may_edit(actor):
            raise Forbidden("the 百分考核's scheme is 管理办's")
        checked = schemes.check(body)
        latest = self.scheme()
        if latest.id is not None and latest.body == checked:
            return latest
        self._store_scheme(actor, checked, latest.version + 1)
        return self.scheme()

    def _store_scheme(self, actor: Actor, body: dict, version: int) -> int:
        try:
            with db.write(self.session) as s:
                row = AssessmentScheme(version=version, body=body, saved_by=actor.username, saved_at=clock.now())
                s.add(row)
                s.flush()
                return row.id
        except sa.exc.IntegrityError as e:
            if db.unique_violation(e):
                raise Conflict("the scheme was saved meanwhile; reload it and try again") from None
            raise

    def versions(self) -> list[SimpleNamespace]:
        rows = self.session.execute(sa.select(AssessmentScheme.version, AssessmentScheme.saved_by,
                                              AssessmentScheme.saved_at).order_by(AssessmentScheme.version.desc()))
        return [SimpleNamespace(**r._mapping) for r in rows]

    # --- who is assessed -------------------------------------------------------------

    def subjects(self) -> tuple[dict[str, str], dict[str, SimpleNamespace]]:
        """({window: its name}, {username: the person}) of those assessed now."""
        rows = self.session.execute(sa.select(_U.id, _U.username, _U.display_name, _U.roles, user_groups.c.group_name)
                                    .select_from(User.__table__.outerjoin(user_groups, user_groups.c.user_id == _U.id))
                                    .where(_U.active.is_(True)))
        windows, persons = {}, {}
        for r in rows:
            if not set(filter(None, r.roles.split(","))) & set(WINDOW_ROLES):
                continue
            p = persons.setdefault(r.username, SimpleNamespace(id=r.id, username=r.username,
                                                               name=r.display_name or r.username, groups=[]))
            if r.group_name and r.group_name != APPLICANTS:
                p.groups.append(r.group_name)
                windows[r.group_name] = r.group_name
        return dict(sorted(windows.items())), dict(sorted(persons.items()))

    # --- entries ----------------------------------------------------------------------

    def add_entry(self, actor: Actor, quarter: str, data) -> SimpleNamespace:
        """A deduction (points < 0) or an addition for an item, to a window or a person."""
        if not self.may_enter(actor):
            raise Forbidden("entries are 管理办's and the supervisor's")
        since, _ = quarter_bounds(quarter)
        if not isinstance(data, dict):
            raise Invalid("an entry is an object", {"entry": ["an object"]})
        if unknown := sorted(set(data) - {"item", "subject_kind", "subject", "points", "reason"}):
            raise Invalid(f"unknown field(s): {', '.join(unknown)}", {k: ["unknown field"] for k in unknown})
        if since > clock.now():
            raise Invalid(f"{quarter} has not begun", {"quarter": ["a quarter that has begun"]})
        self._not_published(quarter)
        errors: dict[str, list[str]] = {}
        items = {i["code"]: i for i in schemes.items(self.scheme().body)}
        item = items.get(data.get("item"))
        if item is None:
            errors["item"] = ["an item of the scheme in force"]
        kind, subject = data.get("subject_kind"), data.get("subject")
        windows, persons = self.subjects()
        if kind not in KINDS:
            errors["subject_kind"] = ["window or person"]
        elif subject not in (windows if kind == "window" else persons):
            errors["subject"] = [f"not an assessed {kind}"]
        points = data.get("points")
        if isinstance(points, bool) or not isinstance(points, int | float) or not math.isfinite(points) \
                or points == 0 or round(points, 2) != points:
            errors["points"] = ["a number, not 0, at most 2 decimals (less than 0: a deduction)"]
        elif item is not None and abs(points) > item["points"] + item["bonus"]:
            errors["points"] = [f"at most {item['points'] + item['bonus']:g} either way for this item"]
        reason = data.get("reason").strip() if isinstance(data.get("reason"), str) else None
        if not reason or len(reason) > REASON_CHARS:
            errors["reason"] = [f"a text of 1 to {REASON_CHARS} characters"]
        if errors:
            raise Invalid("the entry is not valid: " + ", ".join(sorted(errors)), errors)
        if self._count_entries(quarter) >= MAX_ENTRIES:
            raise Conflict(f"a quarter holds at most {MAX_ENTRIES} entries")
        with db.write(self.session) as s:
            row = AssessmentEntry(quarter=quarter, item=item["code"], subject_kind=kind, subject=subject,
                                  points=float(points), reason=reason, entered_by=actor.username,
                                  entered_at=clock.now())
            s.add(row)
            s.flush()
            entry_id = row.id
        return self.entry(actor, entry_id)

    def _count_entries(self, quarter: str) -> int:
        return self.session.scalar(sa.select(sa.func.count()).where(AssessmentEntry.quarter == quarter))

    def _not_published(self, quarter: str) -> None:
        if self._publication(quarter) is not None:
            raise Conflict(f"{quarter} is published: its scores change only by an adjustment")

    def entry(self, actor: Actor, entry_id: int) -> AssessmentEntry:
        row = self.session.get(AssessmentEntry, entry_id)
        if row is None or not (self.may_read_draft(actor) or self.may_enter(actor) or (
                self.may_read_published(actor) and self._publication(row.quarter) is not None)):
            raise NotFound(f"no entry {entry_id}")
        return row

    def entries(self, actor: Actor, quarter: str) -> list[AssessmentEntry]:
        quarter_bounds(quarter)
        if not (self.may_read_draft(actor) or self.may_enter(actor)):
            raise Forbidden("the entries are read by 管理办, the director and the supervisor")
        return list(self.session.scalars(sa.select(AssessmentEntry).where(AssessmentEntry.quarter == quarter)
                                         .order_by(AssessmentEntry.id)))

    def attach_evidence(self, actor: Actor, entry_id: int, filename: str | None, stream) -> AssessmentEntry:
        """An entry's evidence: a PDF, JPEG, PNG or OFD file (read from its bytes), one per entry."""
        row = self.entry(actor, entry_id)
        if not self.may_enter(actor):
            raise Forbidden("entries are 管理办's and the supervisor's")
        self._not_published(row.quarter)
        if row.evidence_key is not None:
            raise Conflict("the entry has its evidence: remove the entry and enter it again to change it")
        key, size, sha, kind = self.store.write(stream, self.max_file_bytes)
        try:
            with db.write(self.session) as s:
                done = s.execute(sa.update(AssessmentEntry).where(AssessmentEntry.id == entry_id,
                                                                  AssessmentEntry.evidence_key.is_(None))
                                 .values(evidence_key=key, evidence_name=clean_name(filename), evidence_type=kind,
                                         evidence_size=size, evidence_sha256=sha)).rowcount
            if not done:
                raise Conflict("the entry has its evidence")
        except BaseException:
            self.store.remove(key)
            raise
        return self.entry(actor, entry_id)

    def open_evidence(self, actor: Actor, entry_id: int):
        row = self.entry(actor, entry_id)
        if row.evidence_key is None:
            raise NotFound(f"entry {entry_id} has no evidence")
        return row, open(self.store.path(row.evidence_key), "rb")

    def remove_entry(self, actor: Actor, entry_id: int) -> None:
        row = self.entry(actor, entry_id)
        if not self.may_enter(actor):
            raise Forbidden("entries are 管理办's and the supervisor's")
        self._not_published(row.quarter)
        key = row.evidence_key
        with db.write(self.session) as s:
            s.execute(sa.delete(AssessmentEntry).where(AssessmentEntry.id == entry_id))
        if key:
            self.store.remove(key)

    # --- scores -------------------------------------------------------------------

    def quarter(self, actor: Actor, quarter: str) -> dict:
        """A quarter's scores: as published (with their adjustments) for every member of
        staff, or, before publication, the draft computed live for those who may read it."""
        quarter_bounds(quarter)
        pub = self._publication(quarter)
        if pub is not None:
            if not (self.may_read_published(actor) or self.may_read_draft(actor)):
                raise Forbidden("the published scores are for the hall's staff")
            return self._published(pub)
        if not self.may_read_draft(actor):
            raise NotFound(f"{quarter} is not published yet")
        scheme = self.scheme()
        return {**self.compute(quarter, scheme.body), "scheme_version": scheme.version, "published": None}

    def _publication(self, quarter: str) -> AssessmentPublication | None:
        return self.session.scalars(sa.select(AssessmentPublication)
                                    .where(AssessmentPublication.quarter == quarter)).first()

    def published_quarters(self) -> list[str]:
        return list(self.session.scalars(sa.select(AssessmentPublication.quarter)
                                         .order_by(AssessmentPublication.quarter.desc())))

    def publish(self, actor: Actor, quarter: str) -> dict:
        """季公示: freeze the quarter's scores, causes and 星级 as computed now."""
        if not self.may_edit(actor):
            raise Forbidden("管理办 publishes the quarter")
        _, until = quarter_bounds(quarter)
        if clock.now() < until:
            raise Conflict(f"{quarter} is not over: it is published once it has ended")
        self._not_published(quarter)
        scheme = self.scheme()
        scheme_id = scheme.id if scheme.id is not None else self._store_scheme(actor, scheme.body, 1)
        scores = self.compute(quarter, scheme.body)
        try:
            with db.write(self.session) as s:
                s.add(AssessmentPublication(quarter=quarter, scheme_id=scheme_id, scores=scores,
                                            published_by=actor.username, published_at=clock.now()))
        except sa.exc.IntegrityError as e:
            if db.unique_violation(e):
                raise Conflict(f"{quarter} was published meanwhile") from None
            raise
        return self.quarter(actor, quarter)

    def adjust(self, actor: Actor, quarter: str, data) -> dict:
        """A recorded change to a published score: whose, which item, how many points, why."""
        if not self.may_edit(actor):
            raise Forbidden("管理办 adjusts published scores")
        quarter_bounds(quarter)
        pub = self._publication(quarter)
        if pub is None:
            raise Conflict(f"{quarter} is not published: enter a deduction or an addition instead")
        if not isinstance(data, dict):
            raise Invalid("an adjustment is an object", {"adjustment": ["an object"]})
        shown = self._published(pub)
        errors: dict[str, list[str]] = {}
        kind, key = data.get("subject_kind"), data.get("subject")
        subject = next((s for s in shown.get(f"{kind}s", []) if s["key"] == key), None) if kind in KINDS else None
        if kind not in KINDS:
            errors["subject_kind"] = ["window or person"]
        elif subject is None:
            errors["subject"] = [f"not a {kind} of the published quarter"]
        item = next((i for i in subject["items"] if i["code"] == data.get("item")), None) if subject else None
        if subject is not None and item is None:
            errors["item"] = ["an item of the published scheme"]
        points = data.get("points")
        if isinstance(points, bool) or not isinstance(points, int | float) or not math.isfinite(points) \
                or points == 0 or round(points, 2) != points or abs(points) > MAX_POINTS:
            errors["points"] = ["a number, not 0, at most 2 decimals"]
        elif item is not None and not 0 <= item["score"] + points <= item["points"] + item["bonus"]:
            errors["points"] = [f"the item's score would leave 0 to {item['points'] + item['bonus']:g}"]
        reason = data.get("reason").strip() if isinstance(data.get("reason"), str) else None
        if not reason or len(reason) > REASON_CHARS:
            errors["reason"] = [f"a text of 1 to {REASON_CHARS} characters"]
        if errors:
            raise Invalid("the adjustment is not valid: " + ", ".join(sorted(errors)), errors)
        with db.write(self.session) as s:
            s.add(AssessmentAdjustment(publication_id=pub.id, subject_kind=kind, subject=key, item=item["code"],
                                       points=float(points), reason=reason, adjusted_by=actor.username,
                                       adjusted_at=clock.now()))
        return self.quarter(actor, quarter)

    def _published(self, pub: AssessmentPublication) -> dict:
        """The publication with its adjustments applied, each shown with the item it changed."""
        shown = {**copy.deepcopy(pub.scores), "published": {"by": pub.published_by, "at": pub.published_at.isoformat()}}
        shown["scheme_version"] = self.session.scalar(sa.select(AssessmentScheme.version)
                                                      .where(AssessmentScheme.id == pub.scheme_id))
        adjustments = self.session.scalars(sa.select(AssessmentAdjustment).where(
            AssessmentAdjustment.publication_id == pub.id).order_by(AssessmentAdjustment.id)).all()
        by_subject = {(s["kind"], s["key"]): s for s in (*shown["windows"], *shown["persons"])}
        for a in adjustments:
            subject = by_subject.get((a.subject_kind, a.subject))
            item = next((i for i in subject["items"] if i["code"] == a.item), None) if subject else None
            if item is None:
                continue
            item["score"] = _r(item["score"] + a.points)
            subject["total"] = _r(subject["total"] + a.points)
            adj = {"type": "adjustment", "id": a.id, "points": a.points, "reason": a.reason, "by": a.adjusted_by,
                   "at": a.adjusted_at.isoformat()}
            item["causes"].append(adj)
            subject.setdefault("adjustments", []).append({**adj, "item": a.item})
        return shown

    def year(self, actor: Actor, year: int) -> dict:
        """年终评先: each window's and person's published quarters of a year, and their sum."""
        if not (self.may_read_published(actor) or self.may_read_draft(actor)):
            raise Forbidden("the published scores are for the hall's staff")
        if isinstance(year, bool) or not isinstance(year, int) \
                or not clock.FIRST_DAY.year <= year < clock.LAST_DAY.year:
            raise Invalid("year out of range", {"year": ["a year"]})
        quarters = [f"{year}Q{q}" for q in range(1, 5)]
        pubs = self.session.scalars(sa.select(AssessmentPublication).where(AssessmentPublication.quarter.in_(quarters))
                                    .order_by(AssessmentPublication.quarter)).all()
        out = {"year": year, "quarters": [p.quarter for p in pubs]}
        for kind in KINDS:
            rows: dict[str, dict] = {}
            for p in pubs:
                for s in self._published(p)[f"{kind}s"]:
                    row = rows.setdefault(s["key"], {"key": s["key"], "name": s["name"], "quarters": {}})
                    row["quarters"][p.quarter] = s["total"]
            for row in rows.values():
                row["total"] = _r(sum(row["quarters"].values()))
                row["average"] = _r(row["total"] / len(row["quarters"]))
            out[f"{kind}s"] = sorted(rows.values(), key=lambda r: (-r["total"], r["key"]))
        return out

    # --- computing a quarter ---------------------------------------------------------

    def compute(self, quarter: str, scheme: dict) -> dict:
        """Every assessed window's and person's score of the quarter under `scheme`, with
        their causes and the quarter's 星级 (no permission asked: the callers ask)."""
        since, until = quarter_bounds(quarter)
        windows, persons = self.subjects()
        items = schemes.items(scheme)
        facts = _Facts(windows, persons)
        kinds = sorted({k for i in items if i["rule"] == "accountability" for k in i["kinds"]})
        s = self.session
        if kinds:
            self._records(facts, "accountability", sa.select(
                _A.id, _A.case_id, _A.kind.label("tag"), _A.at, _A.department.label("window"),
                _A.person.label("person")).where(_A.at >= since, _A.at < until, _A.kind.in_(kinds)))
        poor = (_R.at >= since, _R.at < until, _R.level <= 2)
        self._records(facts, "rating", sa.select(_R.id, _R.case_id, sa.literal("poor").label("tag"), _R.at,
                                                 _R.window.label("window"), sa.null().label("person")).where(*poor),
                      kinds=("window",))
        self._records(facts, "rating", sa.select(
            _R.id, _R.case_id, sa.literal("poor").label("tag"), _R.at, sa.null().label("window"),
            _U.username.label("person")).select_from(Rating.__table__.join(
                RatingStaff.__table__, _RS.rating_id == _R.id).join(User.__table__, _U.id == _RS.user_id)).where(*poor),
            kinds=("person",))
        rectified = Task.__table__.alias("rectified")
        self._records(facts, "complaint", sa.select(
            _CP.id, _CP.case_id, sa.literal("complaint").label("tag"), rectified.c.completed_at.label("at"),
            _CP.department.label("window"), _CP.responsible.label("person")).select_from(
                Complaint.__table__.join(rectified, rectified.c.case_id == _CP.case_id)).where(
                rectified.c.element_id == "rectify", rectified.c.status == "completed",
                rectified.c.completed_at >= since, rectified.c.completed_at < until))
        # 满意率: ratings not 差评, of all ratings
        good = sa.func.sum(sa.case((_R.level >= 3, 1), else_=0))
        inq = (_R.at >= since, _R.at < until)
        for key, n, g in s.execute(sa.select(_R.window, sa.func.count(), good).where(*inq).group_by(_R.window)):
            facts.rate("window", key, "satisfaction", n, g)
        rated = Rating.__table__.join(RatingStaff.__table__, _RS.rating_id == _R.id)
        for key, n, g in s.execute(sa.select(_RS.user_id, sa.func.count(), good).select_from(rated)
                                   .where(*inq).group_by(_RS.user_id)):
            facts.rate("person_id", key, "satisfaction", n, g)
        if any(i["rule"] == "on_time" for i in items):
            on_time = sa.func.sum(sa.case((_T.completed_at <= _T.due_at, 1), else_=0))
            done = (_T.completed_at >= since, _T.completed_at < until, _T.due_at.is_not(None),
                    _T.status == "completed")
            for key, n, g in s.execute(sa.select(_TASK_GROUPS, sa.func.count(), on_time).where(*done)
                                       .group_by(_TASK_GROUPS)):
                facts.rate("window", key, "on_time", n, g)
            for key, n, g in s.execute(sa.select(_T.completed_by_id, sa.func.count(), on_time).where(*done)
                                       .group_by(_T.completed_by_id)):
                facts.rate("person_id", key, "on_time", n, g)
        entries = s.scalars(sa.select(AssessmentEntry).where(AssessmentEntry.quarter == quarter)
                            .order_by(AssessmentEntry.id)).all()
        s.rollback()  # end the read
        for e in entries:
            facts.entry(e)
        out = {"quarter": quarter, "computed_at": clock.now().isoformat()}
        for kind, subjects in (("window", windows), ("person", persons)):
            out[f"{kind}s"] = [facts.score(kind, key, (subjects[key] if kind == "window" else subjects[key].name),
                                           items) for key in subjects]
        out["stars"] = {of: _stars(out[of], scheme["stars"][of]) for of in ("windows", "persons")}
        return out

    def _records(self, facts: _Facts, source: str, select, kinds=KINDS) -> None:
        """The records of `select` (id, case_id, tag, at, window, person), counted per window
        and per person and tag, the first MAX_CAUSES of each kept as causes; one query each."""
        sub = select.subquery()
        for kind in kinds:
            col = sub.c[kind]
            part = [col, sub.c.tag]
            ranked = sa.select(sub.c.id, sub.c.case_id, sub.c.tag, sub.c.at, col.label("key"),
                               sa.func.row_number().over(partition_by=part, order_by=[sub.c.at, sub.c.id]).label("rn"),
                               sa.func.count().over(partition_by=part).label("n")).where(col.is_not(None)).subquery()
            rows = self.session.execute(sa.select(ranked, _C.number).join(Case.__table__, _C.id == ranked.c.case_id)
                                        .where(ranked.c.rn <= schemes.MAX_CAUSES))
            for r in rows:
                facts.record(kind, r.key, r.tag, r.n, {"type": source, "id": r.id, "case_id": r.case_id,
                                                       "case_number": r.number, "kind": r.tag,
                                                       "at": r.at.isoformat()})


class _Facts:
    """What the quarter's records say of each window and person, before the scheme scores it."""

    def __init__(self, windows: dict, persons: dict):
        self.windows, self.persons = windows, persons
        self.person_ids = {p.id: u for u, p in persons.items()}
        self.counts: dict[tuple, int] = {}
        self.causes: dict[tuple, list] = {}
        self.rates: dict[tuple, list[int]] = {}
        self.entries: dict[tuple, list] = {}

    def _keys(self, kind: str, key) -> list:
        """The assessed subjects a record's window or person names: a department written as
        several groups (工商、国税) counts for each; a task's groups are its JSON list or its lane."""
        if key is None:
            return []
        if kind == "person_id":
            return [self.person_ids[key]] if key in self.person_ids else []
        if kind == "person":
            return [key] if key in self.persons else []
        if isinstance(key, str) and key.startswith("["):
            names = json.loads(key)
        else:
            names = str(key).split("、")
        return [n for n in names if n in self.windows]

    def record(self, kind: str, key, tag: str, n: int, cause: dict) -> None:
        for subject in self._keys(kind, key):
            self.counts[(kind, subject, tag)] = n
            self.causes.setdefault((kind, subject, tag), []).append(cause)

    def rate(self, kind: str, key, rule: str, n: int, good: int) -> None:
        for subject in self._keys(kind, key):
            k = ("person" if kind == "person_id" else kind, subject, rule)
            total = self.rates.setdefault(k, [0, 0])
            total[0] += n
            total[1] += int(good or 0)

    def entry(self, e) -> None:
        self.entries.setdefault((e.subject_kind, e.subject, e.item), []).append(
            {"type": "entry", "id": e.id, "points": e.points, "reason": e.reason, "by": e.entered_by,
             "at": e.entered_at.isoformat(), "evidence": e.evidence_name})

    def score(self, kind: str, key: str, name: str, items: list[dict]) -> dict:
        shown = []
        for item in items:
            causes, deducted, count = [], 0.0, None
            rule, per, cap = item["rule"], item.get("per"), item.get("cap")
            tags = {"accountability": item.get("kinds", []), "poor_rating": ["poor"],
                    "complaint": ["complaint"]}.get(rule)
            if tags:
                count = sum(self.counts.get((kind, key, t), 0) for t in tags)
                records = sorted((c for t in tags for c in self.causes.get((kind, key, t), [])),
                                 key=lambda c: (c["at"], c["id"]))
                for c in records:
                    p = _r(min(per, cap - deducted))
                    if p <= 0:
                        break
                    deducted = _r(deducted + p)
                    causes.append({**c, "points": -p})
            elif rule in schemes.RATE_RULES:
                n, good = self.rates.get((kind, key, rule), (0, 0))
                count = n
                if n:
                    rate = good / n * 100
                    deducted = _r(min(cap, max(0.0, item["threshold"] - rate) * per))
                    causes.append({"type": "figure", "rule": rule, "total": n, "good": good, "rate": _r(rate),
                                   "threshold": item["threshold"], "points": -deducted})
            entered = self.entries.get((kind, key, item["code"]), [])
            causes += entered
            score = _r(min(max(item["points"] - deducted + sum(e["points"] for e in entered), 0.0),
                           item["points"] + item["bonus"]))
            shown.append({"code": item["code"], "name": item["name"], "category": item["category"],
                          "points": item["points"], "bonus": item["bonus"], "rule": rule, "score": score,
                          "count": count, "causes": causes})
        ratings, good = self.rates.get((kind, key, "satisfaction"), (0, 0))
        return {"kind": kind, "key": key, "name": name, "total": _r(sum(i["score"] for i in shown)), "items": shown,
                "ratings": ratings, "satisfaction": _r(good / ratings * 100) if ratings else None,
                "poor": self.counts.get((kind, key, "poor"), 0),
                "complaints": self.counts.get((kind, key, "complaint"), 0)}


def _stars(subjects: list[dict], rules: dict) -> list[dict]:
    """星级服务窗口 / 星级服务标兵: those meeting every rule, best score first, at most `most`."""
    eligible = [s for s in subjects if s["total"] >= rules["min_score"] and s["ratings"] >= rules["min_ratings"]
                and (s["satisfaction"] if s["satisfaction"] is not None else 100) >= rules["min_satisfaction"]
                and s["poor"] <= rules["max_poor"] and s["complaints"] <= rules["max_complaints"]]
    eligible.sort(key=lambda s: (-s["total"], -(s["satisfaction"] or 0), -s["ratings"], s["key"]))
    return [{"key": s["key"], "name": s["name"], "total": s["total"], "satisfaction": s["satisfaction"],
             "ratings": s["ratings"]} for s in eligible[:rules["most"]]]
