"""The statements every case action runs, and the reads every case view makes: SQLAlchemy
Core on the tables of engine.models (their one definition), through SQLAlchemy's pool.

Each case action runs in `transaction()`: one connection, one transaction (on SQLite the
write lock is taken up front: engine.db), the calendar in force read first. A case's page
reads through `reading()`. The columns' own types convert what goes in and comes out:
times are aware UTC, JSON is read and written as engine.db says. A statement gives back
`_Rows`; on SQLite it runs on the DB-API cursor (DIRECT_ON_SQLITE says why).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from types import SimpleNamespace
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import scoped_session

from engine import calendar, clock
from engine.db import CALENDAR_LOCK, WRITE
from engine.models import (
    NEVER_DUE,
    Accountability,
    CalendarRevision,
    Case,
    CaseCounter,
    CatalogueItem,
    Event,
    ExternalTask,
    Incident,
    Notice,
    Notification,
    Pause,
    ProcessVersion,
    QueueCount,
    Rating,
    StartKey,
    Task,
    TaskQueue,
    User,
    user_groups,
)

_C, _T, _E = Case.__table__, Task.__table__, Event.__table__
_Q, _QC = TaskQueue.__table__, QueueCount.__table__
_U, _UG = User.__table__, user_groups
MESSAGE_CHARS = Notification.__table__.c.message.type.length

# what a case action reads of a case row (its state too), and what a case's page shows
CASE_COLUMNS = [c for c in _C.c if c.name != "id"]
_CASE_VIEW = sa.select(*(c for c in _C.c if c.name != "state"), _U.c.username.label("started_by"),
                       _U.c.display_name.label("started_by_name")).select_from(
    _C.outerjoin(_U, _U.c.id == _C.c.started_by_id))
_TASK_VIEW = sa.select(*_T.c, _U.c.username.label("assignee"), _U.c.display_name.label("assignee_name"),
                       _C.c.version_id).select_from(
    _T.join(_C, _C.c.id == _T.c.case_id).outerjoin(_U, _U.c.id == _T.c.assignee_id))
_EVENT_VIEW = sa.select(_E.c.id, _E.c.at, _E.c.actor, _E.c.action, _E.c.element_id, _E.c.task_id, _E.c.detail)
_CASE_VIEW_BY_ID = _CASE_VIEW.where(_C.c.id == sa.bindparam("case_id"))
_CASE_TASKS = _TASK_VIEW.where(_T.c.case_id == sa.bindparam("case_id")).order_by(_T.c.id)
_CASE_TASKS_BY_STATUS = _TASK_VIEW.where(_T.c.case_id == sa.bindparam("case_id"),
                                         _T.c.status == sa.bindparam("status")).order_by(_T.c.id)
_CASE_EVENTS = _EVENT_VIEW.where(_E.c.case_id == sa.bindparam("case_id")).order_by(_E.c.id)
# what an action writes of a case row
_WRITTEN = ("status", "data", "state", "revision", "updated_at", "ended_at", "next_timer_at", "error", "visited",
            "due_at", "paused_since", "paused_reason", "paused_element", "calendar_revision", "due_note", "waiting",
            "rate_invite_at", "accepted_at", "end_element", "workdays_taken", "suspended_at", "suspended_reason",
            "version_id", "version")


def _p(name: str, column=None):
    """A parameter of a statement built once (named apart from any column it sets), of the
    column's type when it stands for a value of that column."""
    return sa.bindparam(name, type_=column.type if column is not None else None)


# Every statement a case action runs, built once: building one costs more than running it.
_REVISION = sa.select(sa.func.max(CalendarRevision.revision))
_CALENDAR_SHARED = sa.select(sa.func.pg_advisory_xact_lock_shared(CALENDAR_LOCK))
_CHANGED_SINCE = sa.select(sa.func.min(CalendarRevision.since)).where(CalendarRevision.revision > _p("revision"))
_CALENDAR_REVISION = sa.select(sa.func.max(CalendarRevision.revision)).scalar_subquery()
_LOCK_CASE = sa.select(_C.c.revision, _CALENDAR_REVISION.label("calendar_revision")) \
    .where(_C.c.id == _p("case_id")).with_for_update()
_LOAD_CASE = sa.select(_C.c.id, *CASE_COLUMNS).where(_C.c.id == _p("case_id")).with_for_update()
# only a running case has a timer time; a status condition here would lead SQLite to scan
# every running case by status instead of reading ix_cases_next_timer_at
_DUE_CASE = sa.select(_C.c.id, *CASE_COLUMNS).where(_C.c.next_timer_at <= _p("now")) \
    .order_by(_C.c.next_timer_at).limit(1).with_for_update(skip_locked=True)
_TIMER_DUE = sa.select(1).where(_C.c.next_timer_at <= _p("now")).limit(1)
_INSERT_CASE = sa.insert(_C).returning(_C.c.id)
_UPDATE_CASE = sa.update(_C).where(_C.c.id == _p("_id"), _C.c.revision == _p("_expected"))  # SET: the keys given
_SET_NEXT_TIMER = sa.update(_C).where(_C.c.id == _p("_id")).values(next_timer_at=_p("_at", _C.c.next_timer_at))
_X = ExternalTask.__table__
_EXTERNAL_OF_CASE = sa.select(_X.c.spiff_id, _X.c.id).where(_X.c.case_id == _p("case_id"))
_INSERT_EXTERNAL = sa.insert(_X)
_DELETE_EXTERNAL = sa.delete(_X).where(_X.c.case_id == _p("_case"), _X.c.spiff_id == _p("_sid"))
_I = Incident.__table__
_UNRESOLVED_INCIDENT = sa.select(_I.c.id, _I.c.attempts).where(_I.c.case_id == _p("case_id"),
                                                              _I.c.status != "resolved").order_by(_I.c.id).limit(1)
_INSERT_INCIDENT = sa.insert(_I)
_FAILED_AGAIN = ("element_id", "message", "data", "attempts", "last_at", "status", "next_retry_at")
_UPDATE_INCIDENT = sa.update(_I).where(_I.c.id == _p("_id")).values(**{k: _p(f"_{k}", _I.c[k]) for k in _FAILED_AGAIN})
_RESOLVE_INCIDENTS = sa.update(_I).where(_I.c.case_id == _p("_case"), _I.c.status != "resolved").values(
    status="resolved", resolved_at=_p("_at", _I.c.resolved_at), resolved_by=_p("_by", _I.c.resolved_by),
    resolution=_p("_how", _I.c.resolution), next_retry_at=None)
_PV = ProcessVersion.__table__.c
_LATEST_VERSION = sa.select(_PV.id, _PV.process_id, _PV.version, _PV.name, _PV.case_prefix, _PV.starter_groups) \
    .where(_PV.process_id == _p("process_id")).order_by(_PV.version.desc()).limit(1)
_CI = CatalogueItem.__table__
_LATEST_ITEM = sa.select(_CI.c.id, _CI.c.code, _CI.c.version, _CI.c.name, _CI.c.category, _CI.c.kind,
                         _CI.c.legal_days, _CI.c.promised_days, _CI.c.process_id, _CI.c.online) \
    .where(_CI.c.code == _p("code")).order_by(_CI.c.version.desc()).limit(1)
_ITEM_MATERIALS = sa.select(_CI.c.materials).select_from(_C.join(_CI, _CI.c.id == _C.c.item_id)) \
    .where(_C.c.id == _p("case_id"))
_INSERT_NOTICES = sa.insert(Notice.__table__)
_SK = StartKey.__table__
_STARTED_WITH = sa.select(_SK.c.case_id, _SK.c.request).where(_SK.c.user_id == _p("user_id"), _SK.c.key == _p("key"))
_KEEP_START_KEY = sa.insert(_SK)
_CC = CaseCounter.__table__


def _per_dialect(build) -> dict:
    """An upsert for each database, as its dialect writes one: {dialect name: statement}."""
    return {"postgresql": build(postgresql.insert), "sqlite": build(sqlite.insert)}


def _next_number(insert):
    ins = insert(_CC).values(prefix=_p("_prefix", _CC.c.prefix), day=_p("_day", _CC.c.day), last=1)
    return ins.on_conflict_do_update(index_elements=[_CC.c.prefix, _CC.c.day],
                                     set_={"last": _CC.c.last + 1}).returning(_CC.c.last)


_NEXT_NUMBER = _per_dialect(_next_number)
_TASK = sa.select(_T.c.id, _T.c.case_id, _T.c.spiff_id, _T.c.element_id, _T.c.status, _T.c.assignee_id,
                  _T.c.candidate_groups, _T.c.lane, _T.c.due_at, _T.c.next_alert_at, _C.c.version_id,
                  _U.c.username.label("assignee")) \
    .select_from(_T.join(_C, _C.c.id == _T.c.case_id).outerjoin(_U, _U.c.id == _T.c.assignee_id)) \
    .where(_T.c.id == _p("task_id"))
# the task a person acts on, its case locked (its revision and the calendar's read with it)
_TASK_LOCKED = _TASK.add_columns(_C.c.revision.label("case_revision"), _CALENDAR_REVISION.label("calendar_revision")) \
    .with_for_update(of=_C)
_INSERT_TASKS = sa.insert(_T).returning(_T.c.id, sort_by_parameter_order=True)
_COMPLETE = sa.update(_T).where(
    _T.c.id == _p("_id"), _T.c.status == "open",
    sa.or_(_T.c.assignee_id.is_(None), _T.c.assignee_id == _p("_user", _T.c.assignee_id))).values(
    status="completed", completed_at=_p("_at", _T.c.completed_at), completed_by_id=_p("_user", _T.c.assignee_id),
    data=_p("_data", _T.c.data), claimed_at=sa.func.coalesce(_T.c.claimed_at, _p("_at", _T.c.completed_at)),
    assignee_id=sa.func.coalesce(_T.c.assignee_id, _p("_user", _T.c.assignee_id)))
# without an alert time to clear while the row still has none (one given meanwhile: the other form)
_COMPLETE_UNALERTED = _COMPLETE.where(_T.c.next_alert_at.is_(None))
_COMPLETE_ALERTED = _COMPLETE.values(next_alert_at=None)
_CANCEL = sa.update(_T).where(_T.c.id == _p("_id")) \
    .values(status="cancelled", completed_at=_p("_at", _T.c.completed_at), next_alert_at=None)
_OPEN_TASKS = sa.select(_T.c.id, _T.c.spiff_id, _T.c.element_id).where(_T.c.case_id == _p("case_id"),
                                                                        _T.c.status == "open")
_ENQUEUE = sa.insert(_Q)
_DEQUEUE = sa.delete(_Q).where(_Q.c.task_id == _p("task_id")).returning(_Q.c.group_name)
_OPEN_DUES = sa.select(_T.c.id, _T.c.spiff_id, _T.c.due_at, _T.c.due_note, _T.c.created_at, _T.c.escalation) \
    .where(_T.c.case_id == _p("case_id"), _T.c.status == "open")
_SET_DUE = sa.update(_T).where(_T.c.id == _p("_id")).values(
    due_at=_p("_due", _T.c.due_at), warning=_p("_warning", _T.c.warning), escalation=_p("_level", _T.c.escalation),
    next_alert_at=_p("_alert", _T.c.next_alert_at), due_note=_p("_note", _T.c.due_note))
_SET_RANK = sa.update(_Q).where(_Q.c.task_id == _p("_id")).values(rank_at=_p("_rank", _Q.c.rank_at))
_SILENCE = sa.update(_T).where(_T.c.case_id == _p("_case"), _T.c.status == "open").values(next_alert_at=None)
_DUE_ALERTS = sa.select(_T.c.id, _T.c.case_id, _T.c.process_id, _T.c.element_id, _T.c.name, _T.c.case_number,
                        _T.c.due_at, _T.c.warning, _T.c.escalation, _T.c.assignee_id, _T.c.candidate_groups,
                        _T.c.lane).where(_T.c.next_alert_at <= _p("now")).order_by(_T.c.next_alert_at) \
    .limit(_p("limit")).with_for_update(skip_locked=True)
_ALERT_DUE = sa.select(1).where(_T.c.next_alert_at <= _p("now")).limit(1)
_UPDATE_ALERT = sa.update(_T).where(_T.c.id == _p("_id"), _T.c.warning == _p("_was_warning", _T.c.warning),
                                    _T.c.escalation == _p("_was_level", _T.c.escalation)).values(
    warning=_p("_warning", _T.c.warning), escalation=_p("_level", _T.c.escalation),
    next_alert_at=_p("_alert", _T.c.next_alert_at))
_RAISE_ESCALATION = sa.update(_T).where(_T.c.id == _p("_id"), _T.c.escalation < _p("_level", _T.c.escalation)) \
    .values(escalation=_p("_level", _T.c.escalation))
_MEMBERS = sa.select(_UG.c.user_id).join(_U, _U.c.id == _UG.c.user_id) \
    .where(_U.c.active.is_(True), _UG.c.group_name == _p("group"))
_USER_ID = sa.select(_U.c.id).where(_U.c.username == _p("name"))
# who may hear as a case's applicant: its filer, and the accounts of the enterprise it is for
_APPLICANT_ACCOUNTS = sa.select(_U.c.id, _U.c.roles).where(
    _U.c.active, sa.or_(_U.c.id == _p("user_id"), _U.c.enterprise_id == _p("enterprise_id")))
_INSERT_NOTIFICATIONS = sa.insert(Notification.__table__)
_R = Rating.__table__
_LINK_RECTIFICATION = sa.update(_R).where(_R.c.id == _p("_rating"), _R.c.rectification_case_id.is_(None)).values(
    rectification_case_id=_p("_case", _R.c.rectification_case_id))
_TAKE_RATE_INVITATION = sa.update(_C).where(_C.c.id == _p("_case"), _C.c.rate_invite_at.is_not(None)).values(
    rate_invite_at=None)
_INSERT_ACCOUNTABILITY = sa.insert(Accountability.__table__)
_INSERT_EVENTS = sa.insert(_E)
_PAUSES = Pause.__table__
_START_PAUSE = sa.insert(_PAUSES)
_END_PAUSE = sa.update(_PAUSES).where(_PAUSES.c.case_id == _p("_case"), _PAUSES.c.ended_at.is_(None)).values(
    ended_at=_p("_at", _PAUSES.c.ended_at), ended_by=_p("_by", _PAUSES.c.ended_by),
    working_seconds=_p("_seconds", _PAUSES.c.working_seconds), workdays=_p("_days", _PAUSES.c.workdays))
def _count(insert):
    ins = insert(_QC).values(group_name=_p("_group", _QC.c.group_name), queued=_p("_n", _QC.c.queued))
    return ins.on_conflict_do_update(index_elements=[_QC.c.group_name],
                                     set_={"queued": _QC.c.queued + ins.excluded.queued})


_COUNT = _per_dialect(_count)


class Stale(Exception):
    """The case changed since it was read (another node, or a stale in-memory copy)."""


def _end_read_snapshot(session) -> None:
    """End the session's transaction if it has one (without making a session if none is
    in use): SQLite keeps a read snapshot per transaction, and the session must see what a
    Store wrote."""
    if isinstance(session, scoped_session):
        if not session.registry.has():
            return
        session = session()
    if session.in_transaction():
        session.commit()
    session.expire_all()


@contextmanager
def transaction(session, bind, follow: bool = True):
    """A write transaction on a connection of `bind`'s pool; yields a Store. The calendar
    in force is followed first (`Store.follow_calendar`), or, with `follow=False`, as the
    case is locked (`Store.lock_case`, `Store.task(lock=True)`): one statement less."""
    _end_read_snapshot(session)
    with _store(bind, write=True) as store:
        if follow:
            store.follow_calendar()
        yield store
        store.count_queued()
    _end_read_snapshot(session)


@contextmanager
def reading(bind, follow: bool = False):
    """A Store that reads, in one short transaction on a connection of its own; with
    `follow`, the calendar in force read first (to show it, or count with it)."""
    with _store(bind, write=False) as store:
        if follow:
            store.follow_calendar()
        yield store


@contextmanager
def _store(bind, write: bool):
    """A Store in one transaction on a connection of `bind`'s pool: committed when the block
    ends, rolled back if it raises. On SQLite (DIRECT_ON_SQLITE) the pooled DB-API connection
    itself, its transaction begun as engine.db's begin event would begin it."""
    if not (DIRECT_ON_SQLITE and bind.dialect.name == "sqlite"):
        with bind.connect() as conn:
            if write:
                conn.execution_options(**WRITE)
            with conn.begin():
                yield Store(bind.dialect, write, conn=conn)
        return
    pooled = bind.raw_connection()
    try:
        driver = pooled.driver_connection
        driver.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield Store(bind.dialect, write, cursor=driver.cursor())
        except BaseException:
            driver.rollback()
            raise
        driver.commit()
    finally:
        pooled.close()


class _Rows(NamedTuple):
    """What a statement gave back: its rows (values as the columns' types read them), the
    rows' column names, and how many rows it wrote."""
    rows: Sequence[Sequence]
    keys: Sequence[str]
    rowcount: int

    def scalar(self):
        return self.rows[0][0] if self.rows else None

    def column(self) -> list:
        return [r[0] for r in self.rows]

    def dicts(self) -> list[dict]:
        return [dict(zip(self.keys, r, strict=True)) for r in self.rows]

    def objects(self) -> list[SimpleNamespace]:
        return [SimpleNamespace(**dict(zip(self.keys, r, strict=True))) for r in self.rows]


# This bends SQLAlchemy, for a measured gain: bench/run.py prints the engine's figure with
# this switch on and off in the same run (engine alone, SQLite).
# On SQLite a case action's statement costs the database a few microseconds, and
# Connection.execute some thirty around it (execution context, events, result set-up); a
# Connection with its begin and commit costs some forty more than the DB-API connection's
# own. So on SQLite a Store holds a pooled DB-API connection (Engine.raw_connection) and runs
# each statement as SQLAlchemy compiled it, its values converted by the converters of the
# statement's own types (dialect_impl().bind_processor / result_processor). Same SQL, same
# types, same pool; only the per-call machinery is left out. A statement SQLAlchemy would
# complete at run time (Python-side column defaults, expanding IN lists) cannot run so and is
# refused: the Store's statements name every value they need. On PostgreSQL, where a
# statement is a round trip to the server and the machinery a small part of it, everything
# goes through Connection.execute.
DIRECT_ON_SQLITE = True
_DIRECT_LIMIT = 512  # compiled forms kept (an UPDATE compiles once per set of columns it sets)
_REQUIRED = object()


class _Direct:
    """A statement compiled for SQLite, with where each positional value comes from (the
    parameters given, or the value the statement holds) and the converter it goes through."""

    __slots__ = ("dml", "keys", "plan", "readers", "sql")

    def __init__(self, statement, dialect, column_keys):
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        if compiled.positiontup is None or compiled.post_compile_params or compiled.insert_prefetch \
                or compiled.update_prefetch or any(b.callable for b in compiled.bind_names):
            raise TypeError(f"a statement SQLAlchemy completes at run time cannot run directly: {statement}")
        self.sql, self.dml = compiled.string, statement.is_dml
        binds = {name: bind for bind, name in compiled.bind_names.items()}
        # as Compiled.construct_params finds a value: by the parameter's key, then its name,
        # else the value the statement holds, unless one must be given
        self.plan = [(binds[n].key, n, _REQUIRED if binds[n].required else binds[n].value,
                      binds[n].type.dialect_impl(dialect).bind_processor(dialect)) for n in compiled.positiontup]
        columns = statement.exported_columns  # a DML statement's: what it returns
        self.keys = list(columns.keys())
        self.readers = [c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]

    def args(self, params) -> list:
        values = []
        for key, name, default, convert in self.plan:
            value = params[key] if key in params else params.get(name, default)
            if value is _REQUIRED:
                raise sa.exc.InvalidRequestError(f"A value is required for bind parameter {key!r}")
            values.append(value if convert is None else convert(value))
        return values

    def run(self, cursor, params) -> _Rows:
        if not self.readers:
            if isinstance(params, list):
                cursor.executemany(self.sql, [self.args(p) for p in params])
            else:
                cursor.execute(self.sql, self.args(params))
            return _Rows((), (), cursor.rowcount)
        rows = []  # the DB-API has no executemany that returns rows: one row set at a time
        for p in params if isinstance(params, list) else (params,):
            cursor.execute(self.sql, self.args(p))
            rows += ([v if f is None else f(v) for f, v in zip(self.readers, row, strict=True)]
                     for row in cursor.fetchall())
        return _Rows(rows, self.keys, len(rows) if self.dml else -1)


_directs: dict[tuple, _Direct] = {}


class Store:
    """The statements of one transaction: on a SQLAlchemy Connection (`conn`), or on the
    DB-API cursor of a pooled SQLite connection (`cursor`; DIRECT_ON_SQLITE says why)."""

    def __init__(self, dialect, write: bool, conn: sa.Connection | None = None, cursor=None):
        self.conn, self.cursor = conn, cursor
        self.sa_dialect = dialect
        self.dialect = dialect.name
        self.pg = self.dialect == "postgresql"
        self.write = write
        self.queued = Counter()  # rows this transaction added to (or took from) each group's queue
        self.locked: dict[int, int] = {}  # case id -> revision, of the cases this transaction locked
        self.following = False  # the calendar in force has been read in this transaction

    def _run(self, statement, params=None) -> _Rows:
        if self.cursor is not None:
            keys = tuple(params[0] if isinstance(params, list) else params) if params and statement.is_dml else None
            key = (statement, keys)
            try:
                direct = _directs[key]
            except KeyError:
                if len(_directs) >= _DIRECT_LIMIT:
                    _directs.clear()
                direct = _directs[key] = _Direct(statement, self.sa_dialect, keys)
            return direct.run(self.cursor, params or {})
        result = self.conn.execute(statement, params)
        if not result.returns_rows:
            return _Rows((), (), result.rowcount)
        return _Rows(result.all(), list(result.keys()), result.rowcount)

    def run(self, statement, params=None) -> _Rows:
        """A hall service's own statement in this transaction (engine.complaints: a
        listener's), built once as these are."""
        return self._run(statement, params)

    def follow_calendar(self) -> None:
        """Count with the latest calendar: read its revision (one row) and load it if this
        process holds an older one. A write transaction on PostgreSQL first takes the
        calendar lock shared, which a change to the calendar takes exclusively: no deadline
        is counted with a calendar that changes before the count is saved. (SQLite's write
        transactions are one at a time already.)"""
        self._share_calendar()
        calendar.follow(self._run(_REVISION).scalar() or 0)
        self.following = True

    def _share_calendar(self) -> None:
        if self.pg and self.write and not self.following:
            self._run(_CALENDAR_SHARED)

    def _followed(self, revision: int | None) -> None:
        """The calendar's revision, read with the first lock of this transaction."""
        if not self.following:
            calendar.follow(revision or 0)
            self.following = True

    # the reads behind a case's page
    def case_view(self, case_id: int) -> SimpleNamespace | None:
        rows = self._run(_CASE_VIEW_BY_ID, {"case_id": case_id}).objects()
        return rows[0] if rows else None

    def case_tasks(self, case_id: int, status: str | None) -> list[SimpleNamespace]:
        if status:
            return self._run(_CASE_TASKS_BY_STATUS, {"case_id": case_id, "status": status}).objects()
        return self._run(_CASE_TASKS, {"case_id": case_id}).objects()

    def case_events(self, case_id: int) -> list[SimpleNamespace]:
        return self._run(_CASE_EVENTS, {"case_id": case_id}).objects()

    @contextmanager
    def savepoint(self):
        """What the block writes is undone if it raises; the transaction goes on."""
        if self.conn is not None:
            with self.conn.begin_nested():
                yield
            return
        self.cursor.execute("SAVEPOINT store")
        try:
            yield
        except BaseException:
            self.cursor.execute("ROLLBACK TO store")
            raise
        finally:
            self.cursor.execute("RELEASE store")

    # cases ---------------------------------------------------------------------
    def lock_case(self, case_id: int) -> int | None:
        """Lock the case row (PostgreSQL; SQLite's whole-database write lock is already held)
        and return its revision. Every action takes this lock first, so actions on one case
        queue in one order and never deadlock on the rows they touch after it."""
        if case_id in self.locked:  # the task read locked it already
            return self.locked[case_id]
        self._share_calendar()
        rows = self._run(_LOCK_CASE, {"case_id": case_id}).rows
        if not rows:
            return None
        revision, calendar_revision = rows[0]
        self._followed(calendar_revision)
        self.locked[case_id] = revision
        return revision

    def load_case(self, case_id: int | None = None, *, due_before: dt.datetime | None = None) -> dict | None:
        """A case row as a dict (locked on PostgreSQL): by id, or the running case whose
        timer is the most overdue before `due_before` (skipping rows another node holds)."""
        if case_id is not None:
            rows = self._run(_LOAD_CASE, {"case_id": case_id}).dicts()
        else:
            rows = self._run(_DUE_CASE, {"now": due_before}).dicts()
        if not rows:
            return None
        case = rows[0]
        case["visited"] = case["visited"] or []
        case["waiting"] = case["waiting"] or []
        return case

    def timer_due(self, now: dt.datetime) -> bool:
        """Is any case's timer due? A plain read: the scheduler asks this twice a second, and
        on SQLite a write transaction to find nothing would hold up everyone's actions."""
        return bool(self._run(_TIMER_DUE, {"now": now}).rows)

    def insert_case(self, c: dict) -> int:
        return self._run(_INSERT_CASE, {k.name: c[k.name] for k in CASE_COLUMNS}).scalar()

    def update_case(self, c: dict, expected_revision: int, stored: dict) -> None:
        """Write the case row. `stored` holds what the row has now in the columns an index
        covers (status, next_timer_at...): those are set only when they change, since SQLite
        rewrites a column's index entries whenever a SET names it, same value or not."""
        sets = {k: c[k] for k in _WRITTEN if k not in stored or stored[k] != c[k]}
        if self._run(_UPDATE_CASE, {"_id": c["id"], "_expected": expected_revision, **sets}).rowcount != 1:
            raise Stale(c["id"])

    def latest_version(self, process_id: str) -> SimpleNamespace | None:
        """What starting a case needs of a process's latest version."""
        rows = self._run(_LATEST_VERSION, {"process_id": process_id}).objects()
        if not rows:
            return None
        rows[0].starter_groups = rows[0].starter_groups or []
        return rows[0]

    def latest_item(self, code: str) -> SimpleNamespace | None:
        """The terms of a catalogue item's latest version: what a case filed under it keeps."""
        rows = self._run(_LATEST_ITEM, {"code": code}).objects()
        return rows[0] if rows else None

    def insert_notices(self, rows: list[dict]) -> None:
        self._run(_INSERT_NOTICES, rows)

    def item_materials(self, case_id: int) -> list[dict] | None:
        """The materials the item a case was filed under asks for; None without an item."""
        rows = self._run(_ITEM_MATERIALS, {"case_id": case_id}).rows
        return rows[0][0] if rows else None

    def started_with(self, user_id: int, key: str) -> tuple[int, str] | None:
        """(case id, request) of the case `user_id` started with Idempotency-Key `key`."""
        rows = self._run(_STARTED_WITH, {"user_id": user_id, "key": key}).rows
        return tuple(rows[0]) if rows else None

    def keep_start_key(self, user_id: int, key: str, request: str, case_id: int, at: dt.datetime) -> None:
        self._run(_KEEP_START_KEY, {"user_id": user_id, "key": key, "request": request, "case_id": case_id,
                                    "created_at": at})

    def set_next_timer(self, case_id: int, at: dt.datetime) -> None:
        self._run(_SET_NEXT_TIMER, {"_id": case_id, "_at": at})

    # external tasks --------------------------------------------------------------
    def external_ids(self, case_id: int) -> dict[str, int]:
        """{spiff id: row id} of a case's external tasks."""
        return dict(self._run(_EXTERNAL_OF_CASE, {"case_id": case_id}).rows)

    def insert_external(self, rows: list[dict]) -> None:
        if rows:
            self._run(_INSERT_EXTERNAL, rows)

    def delete_external(self, case_id: int, spiff_ids: list[str]) -> None:
        for sid in spiff_ids:
            self._run(_DELETE_EXTERNAL, {"_case": case_id, "_sid": sid})

    # incidents -------------------------------------------------------------------
    def record_failure(self, case, element_id: str | None, message: str, at: dt.datetime,
                       retry_in: Callable[[int], dt.timedelta | None]) -> dict:
        """A case's automatic step failed: its incident (the one unresolved, or a new one)
        counts the attempt; `retry_in(attempts)` says when to try again (None: a person
        decides). Returns the incident's status, attempts and next try."""
        rows = self._run(_UNRESOLVED_INCIDENT, {"case_id": case.id}).rows
        attempts = rows[0][1] + 1 if rows else 1
        wait = retry_in(attempts)
        values = {"element_id": element_id, "message": message, "data": case.data, "attempts": attempts,
                  "last_at": at, "status": "retrying" if wait is not None else "open",
                  "next_retry_at": at + wait if wait is not None else None}
        if rows:
            self._run(_UPDATE_INCIDENT, {"_id": rows[0][0], **{f"_{k}": v for k, v in values.items()}})
        else:
            self._run(_INSERT_INCIDENT, {"case_id": case.id, "process_id": case.process_id, "opened_at": at,
                                         "resolved_at": None, "resolved_by": None, "resolution": None, **values})
        self._run(_SET_NEXT_TIMER, {"_id": case.id, "_at": values["next_retry_at"]})
        return values

    def resolve_incidents(self, case_id: int, at: dt.datetime, by: str, how: str) -> int:
        return self._run(_RESOLVE_INCIDENTS, {"_case": case_id, "_at": at, "_by": by, "_how": how}).rowcount

    def next_number(self, prefix: str, day: str) -> int:
        return self._run(_NEXT_NUMBER[self.dialect], {"_prefix": prefix, "_day": day}).scalar()

    # tasks -----------------------------------------------------------------------
    def task(self, task_id: int, lock: bool = False) -> dict | None:
        """A task row with its case's version and its holder's username; with `lock`, its
        case locked too, as `lock_case` does, in the same statement."""
        if lock:
            self._share_calendar()
        rows = self._run(_TASK_LOCKED if lock else _TASK, {"task_id": task_id}).dicts()
        if not rows:
            return None
        task = rows[0]
        if lock:
            self.locked[task["case_id"]] = task.pop("case_revision")
            self._followed(task.pop("calendar_revision"))
        task["candidate_groups"] = task["candidate_groups"] or []
        return task

    def insert_tasks(self, rows: list[dict]) -> list[int]:
        """Insert task rows in one statement; their ids, in the rows' order."""
        return self._run(_INSERT_TASKS, rows).column()

    def complete_task(self, task_id: int, user_id: int | None, at: dt.datetime, data: dict,
                      alerting: bool = True) -> bool:
        """Mark an open task completed by `user_id` (claiming it if nobody held it).
        False if it is no longer open or someone else holds it. `alerting`: whether the row
        has a next alert time to clear (naming the column rewrites its index entry)."""
        params = {"_id": task_id, "_user": user_id, "_at": at, "_data": data}
        if not alerting and self._run(_COMPLETE_UNALERTED, params).rowcount == 1:
            return True
        return self._run(_COMPLETE_ALERTED, params).rowcount == 1

    def cancel_tasks(self, task_ids: list[int], at: dt.datetime) -> None:
        self._run(_CANCEL, [{"_id": tid, "_at": at} for tid in task_ids])
        self.dequeue(task_ids)

    def open_tasks(self, case_id: int) -> list[tuple]:
        return [tuple(r) for r in self._run(_OPEN_TASKS, {"case_id": case_id}).rows]

    def enqueue(self, rows: list[tuple[str, dt.datetime | None, dt.datetime, int]]) -> None:
        """Queue rows (group, due_at, created_at, task id) of open, unclaimed tasks."""
        self._run(_ENQUEUE, [{"group_name": g, "rank_at": due or NEVER_DUE, "created_at": at, "task_id": tid}
                             for g, due, at, tid in rows])
        self.queued.update(g for g, *_ in rows)

    def dequeue(self, task_ids: list[int]) -> None:
        # one statement per task: a task leaves the queue by itself but for a rare cancel,
        # and SQLite runs a simple statement directly (see DIRECT_ON_SQLITE)
        for task_id in task_ids:
            self.queued.subtract(self._run(_DEQUEUE, {"task_id": task_id}).column())

    def count_queued(self) -> None:
        """Add what this transaction did to the queues to their counts; last, just before the commit."""
        if rows := _count_rows(self.queued):
            self._run(_COUNT[self.dialect], rows)
        self.queued.clear()

    # deadlines -------------------------------------------------------------------
    def open_dues(self, case_id: int) -> list[SimpleNamespace]:
        """The case's open tasks: id, spiff_id, due_at, due_note, created_at, escalation."""
        return self._run(_OPEN_DUES, {"case_id": case_id}).objects()

    def set_task_due(self, task_id: int, due: dt.datetime | None, warning: str, escalation: int,
                     next_alert_at: dt.datetime | None, note: str | None = None) -> None:
        self._run(_SET_DUE, {"_id": task_id, "_due": due, "_warning": warning, "_level": escalation,
                             "_alert": next_alert_at, "_note": note})
        self._run(_SET_RANK, {"_id": task_id, "_rank": due or NEVER_DUE})

    def silence_alerts(self, case_id: int) -> None:
        """A stopped clock raises no warnings: no alert until it runs again."""
        self._run(_SILENCE, {"_case": case_id})

    def due_alerts(self, now: dt.datetime, limit: int) -> list[SimpleNamespace]:
        """Open tasks whose next alert time has come, most overdue first (PostgreSQL: rows
        another node holds are skipped). Only an open task has an alert time: a status
        condition would lead SQLite to read every open task instead of ix_tasks_next_alert_at."""
        return self._run(_DUE_ALERTS, {"now": now, "limit": limit}).objects()

    def alert_due(self, now: dt.datetime) -> bool:
        """Has any open task's next alert time come? A plain read, as `timer_due`."""
        return bool(self._run(_ALERT_DUE, {"now": now}).rows)

    def update_alert(self, task_id: int, warning: str, escalation: int, next_alert_at, expected) -> bool:
        return self._run(_UPDATE_ALERT, {"_id": task_id, "_was_warning": expected[0], "_was_level": expected[1],
                                         "_warning": warning, "_level": escalation,
                                         "_alert": next_alert_at}).rowcount == 1

    def raise_escalation(self, task_id: int, level: int) -> None:
        self._run(_RAISE_ESCALATION, {"_id": task_id, "_level": level})

    def group_members(self, groups) -> dict[str, list[int]]:
        """The active members of each of `groups` that has any (a statement per group: a task
        has a group or two, and SQLite runs a simple statement directly)."""
        out: dict[str, list[int]] = {}
        for g in sorted(g for g in groups if g):
            if members := self._run(_MEMBERS, {"group": g}).column():
                out[g] = members
        return out

    def insert_notifications(self, rows: list[dict]) -> None:
        if rows:
            for r in rows:  # a message quotes what people wrote; it is cut to what its column holds
                if len(r["message"]) > MESSAGE_CHARS:
                    r["message"] = r["message"][:MESSAGE_CHARS - 1] + "…"
            self._run(_INSERT_NOTIFICATIONS, rows)

    def insert_accountability(self, rows: list[dict]) -> None:
        if rows:
            self._run(_INSERT_ACCOUNTABILITY, [{"granted_by": None, "days_granted": None, **r} for r in rows])

    def calendar_changed_since(self, revision: int) -> dt.date:
        """The first day any calendar change after `revision` touched."""
        return self._run(_CHANGED_SINCE, {"revision": revision}).scalar() or clock.FIRST_DAY

    def start_pause(self, case_id: int, reason: str, element_id: str | None, at: dt.datetime, by: str) -> None:
        self._run(_START_PAUSE, {"case_id": case_id, "reason": reason, "element_id": element_id, "started_at": at,
                                 "started_by": by})

    def end_pause(self, case_id: int, at: dt.datetime, by: str, working_seconds: float, workdays: int) -> None:
        self._run(_END_PAUSE, {"_case": case_id, "_at": at, "_by": by, "_seconds": working_seconds,
                               "_days": workdays})

    def user_ids(self, usernames) -> dict[str, int]:
        """The ids of those of `usernames` who exist (a statement per name, as group_members)."""
        return {name: uid for name in sorted(usernames) if (uid := self._run(_USER_ID, {"name": name}).scalar())}

    def applicant_accounts(self, user_id: int | None, enterprise_id: int | None) -> list[tuple[int, str]]:
        """(id, roles) of the case's filer and of its enterprise's accounts."""
        return [tuple(r) for r in self._run(_APPLICANT_ACCOUNTS, {"user_id": user_id,
                                                                  "enterprise_id": enterprise_id}).rows]

    # ratings ---------------------------------------------------------------------
    def link_rectification(self, rating_id: int, case_id: int) -> bool:
        """Make `case_id` the 差评整改 of a rating that has none; False if it has one already."""
        return self._run(_LINK_RECTIFICATION, {"_rating": rating_id, "_case": case_id}).rowcount == 1

    def take_rate_invitation(self, case_id: int) -> bool:
        """Clear a case's time to invite its applicant to rate it; False if none was set (its
        invitation was taken, or it was rated)."""
        return self._run(_TAKE_RATE_INVITATION, {"_case": case_id}).rowcount == 1

    # events ----------------------------------------------------------------------
    def insert_events(self, events: list[dict]) -> None:
        if events:
            self._run(_INSERT_EVENTS, events)


def add_to_queue_counts(conn: sa.Connection, changes: Counter) -> None:
    """Add `changes` (group: rows added to its queue, or taken away when negative) to
    `queue_counts`, on the connection of the transaction that made them. Every writer does
    this last and in the groups' order, so on PostgreSQL two transactions that wait for each
    other's count rows cannot deadlock: neither holds a row the other took first."""
    if rows := _count_rows(changes):
        conn.execute(_COUNT[conn.dialect.name], rows)


def _count_rows(changes: Counter) -> list[dict]:
    """The parameters of _COUNT for `changes`, in the groups' order (see add_to_queue_counts)."""
    return [{"_group": g, "_n": n} for g, n in sorted(changes.items()) if n]
