"""The statements every case action runs, and the reads every case view makes: SQLAlchemy
Core on the tables of engine.models (their one definition), through SQLAlchemy's pool.

Each case action runs in `transaction()`: one connection, one transaction (on SQLite the
write lock is taken up front: engine.db), the calendar in force read first. A case's page
reads through `reading()`. The dialects' own types convert what goes in and comes out:
times are aware UTC, JSON is read and written as engine.db says.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from contextlib import contextmanager
from types import SimpleNamespace

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
    Event,
    Notification,
    Pause,
    ProcessVersion,
    QueueCount,
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
def transaction(session, bind):
    """A write transaction on a connection of `bind`'s pool; yields a Store, the calendar
    in force followed (`Store.follow_calendar`)."""
    _end_read_snapshot(session)
    with bind.connect() as conn:
        conn.execution_options(**WRITE)
        with conn.begin():
            store = Store(conn)
            store.follow_calendar()
            yield store
            store.count_queued()
    _end_read_snapshot(session)


@contextmanager
def reading(bind):
    """A Store that reads, in one short transaction on a connection of its own."""
    with bind.connect() as conn:
        store = Store(conn, write=False)
        store.follow_calendar()
        yield store


def _objects(result) -> list[SimpleNamespace]:
    return [SimpleNamespace(**row) for row in result.mappings()]


class Store:
    def __init__(self, conn: sa.Connection, write: bool = True):
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self.write = write
        self.queued = Counter()  # rows this transaction added to (or took from) each group's queue

    def _run(self, statement, params=None):
        return self.conn.execute(statement, params)

    def follow_calendar(self) -> None:
        """Count with the latest calendar: read its revision (one row) and load it if this
        process holds an older one. A write transaction on PostgreSQL first takes the
        calendar lock shared, which a change to the calendar takes exclusively: no deadline
        is counted with a calendar that changes before the count is saved. (SQLite's write
        transactions are one at a time already.)"""
        if self.pg and self.write:
            self._run(sa.select(sa.func.pg_advisory_xact_lock_shared(CALENDAR_LOCK)))
        revision = self._run(sa.select(sa.func.max(CalendarRevision.revision))).scalar()
        calendar.follow(revision or 0)

    # the reads behind a case's page
    def case_view(self, case_id: int) -> SimpleNamespace | None:
        rows = _objects(self._run(_CASE_VIEW.where(_C.c.id == case_id)))
        return rows[0] if rows else None

    def case_tasks(self, case_id: int, status: str | None) -> list[SimpleNamespace]:
        q = _TASK_VIEW.where(_T.c.case_id == case_id)
        if status:
            q = q.where(_T.c.status == status)
        return _objects(self._run(q.order_by(_T.c.id)))

    def case_events(self, case_id: int) -> list[SimpleNamespace]:
        return _objects(self._run(_EVENT_VIEW.where(_E.c.case_id == case_id).order_by(_E.c.id)))

    @contextmanager
    def savepoint(self):
        with self.conn.begin_nested():
            yield

    # cases ---------------------------------------------------------------------
    def lock_case(self, case_id: int) -> int | None:
        """Lock the case row (PostgreSQL; SQLite's whole-database write lock is already held)
        and return its revision. Every action takes this lock first, so actions on one case
        queue in one order and never deadlock on the rows they touch after it."""
        return self._run(sa.select(_C.c.revision).where(_C.c.id == case_id).with_for_update()).scalar()

    def load_case(self, case_id: int | None = None, *, due_before: dt.datetime | None = None) -> dict | None:
        """A case row as a dict (locked on PostgreSQL): by id, or the running case whose
        timer is the most overdue before `due_before` (skipping rows another node holds)."""
        q = sa.select(_C.c.id, *CASE_COLUMNS)
        if case_id is not None:
            q = q.where(_C.c.id == case_id).with_for_update()
        else:
            # only a running case has a timer time; a status condition here would lead SQLite
            # to scan every running case by status instead of reading ix_cases_next_timer_at
            q = q.where(_C.c.next_timer_at <= due_before).order_by(_C.c.next_timer_at).limit(1) \
                .with_for_update(skip_locked=True)
        row = self._run(q).mappings().first()
        if row is None:
            return None
        case = dict(row)
        case["visited"] = case["visited"] or []
        case["waiting"] = case["waiting"] or []
        return case

    def timer_due(self, now: dt.datetime) -> bool:
        """Is any case's timer due? A plain read: the scheduler asks this twice a second, and
        on SQLite a write transaction to find nothing would hold up everyone's actions."""
        return self._run(sa.select(1).where(_C.c.next_timer_at <= now).limit(1)).first() is not None

    def insert_case(self, c: dict) -> int:
        return self._run(sa.insert(_C).returning(_C.c.id), {k.name: c[k.name] for k in CASE_COLUMNS}).scalar()

    def update_case(self, c: dict, expected_revision: int, stored: dict) -> None:
        """Write the case row. `stored` holds what the row has now in the columns an index
        covers (status, next_timer_at...): those are set only when they change, since SQLite
        rewrites a column's index entries whenever a SET names it, same value or not."""
        sets = {k: c[k] for k in ("status", "data", "state", "revision", "updated_at", "ended_at", "next_timer_at",
                                  "error", "visited", "due_at", "paused_since", "paused_reason", "paused_element",
                                  "calendar_revision", "due_note", "waiting")
                if k not in stored or stored[k] != c[k]}
        result = self._run(sa.update(_C).where(_C.c.id == c["id"], _C.c.revision == expected_revision).values(sets))
        if result.rowcount != 1:
            raise Stale(c["id"])

    def latest_version(self, process_id: str) -> SimpleNamespace | None:
        """What starting a case needs of a process's latest version."""
        pv = ProcessVersion.__table__.c
        rows = _objects(self._run(sa.select(pv.id, pv.process_id, pv.version, pv.name, pv.case_prefix,
                                            pv.starter_groups).where(pv.process_id == process_id)
                                  .order_by(pv.version.desc()).limit(1)))
        if not rows:
            return None
        rows[0].starter_groups = rows[0].starter_groups or []
        return rows[0]

    def started_with(self, user_id: int, key: str) -> tuple[int, str] | None:
        """(case id, request) of the case `user_id` started with Idempotency-Key `key`."""
        k = StartKey.__table__.c
        row = self._run(sa.select(k.case_id, k.request).where(k.user_id == user_id, k.key == key)).first()
        return (row.case_id, row.request) if row else None

    def keep_start_key(self, user_id: int, key: str, request: str, case_id: int, at: dt.datetime) -> None:
        self._run(sa.insert(StartKey), {"user_id": user_id, "key": key, "request": request, "case_id": case_id,
                                        "created_at": at})

    def set_next_timer(self, case_id: int, at: dt.datetime) -> None:
        self._run(sa.update(_C).where(_C.c.id == case_id).values(next_timer_at=at))

    def fail_case(self, case_id: int, message: str, at: dt.datetime) -> None:
        """The case cannot go on by itself (a timer's follow-up failed): park it."""
        self._run(sa.update(_C).where(_C.c.id == case_id).values(
            status="error", error=message, next_timer_at=None, updated_at=at, revision=_C.c.revision + 1))

    def next_number(self, prefix: str, day: str) -> int:
        k = CaseCounter.__table__
        insert = (postgresql.insert if self.pg else sqlite.insert)(k).values(prefix=prefix, day=day, last=1)
        return self._run(insert.on_conflict_do_update(index_elements=[k.c.prefix, k.c.day],
                                                      set_={"last": k.c.last + 1}).returning(k.c.last)).scalar()

    # tasks -----------------------------------------------------------------------
    def task(self, task_id: int) -> dict | None:
        """A task row with its case's version and its holder's username."""
        row = self._run(sa.select(_T.c.id, _T.c.case_id, _T.c.spiff_id, _T.c.element_id, _T.c.status,
                                  _T.c.assignee_id, _T.c.candidate_groups, _T.c.lane, _T.c.due_at,
                                  _T.c.next_alert_at, _C.c.version_id, _U.c.username.label("assignee"))
                        .select_from(_T.join(_C, _C.c.id == _T.c.case_id).outerjoin(_U, _U.c.id == _T.c.assignee_id))
                        .where(_T.c.id == task_id)).mappings().first()
        if row is None:
            return None
        task = dict(row)
        task["candidate_groups"] = task["candidate_groups"] or []
        return task

    def insert_task(self, t: dict) -> int:
        return self._run(sa.insert(_T).returning(_T.c.id), t).scalar()

    def complete_task(self, task_id: int, user_id: int | None, at: dt.datetime, data: dict,
                      alerting: bool = True) -> bool:
        """Mark an open task completed by `user_id` (claiming it if nobody held it).
        False if it is no longer open or someone else holds it. `alerting`: whether the row
        has a next alert time to clear (naming the column rewrites its index entry)."""
        done = sa.update(_T).where(_T.c.id == task_id, _T.c.status == "open",
                                   sa.or_(_T.c.assignee_id.is_(None), _T.c.assignee_id == user_id)).values(
            status="completed", completed_at=at, completed_by_id=user_id, data=data,
            claimed_at=sa.func.coalesce(_T.c.claimed_at, at), assignee_id=sa.func.coalesce(_T.c.assignee_id, user_id))
        # without an alert time when the row still has none (one given meanwhile: the second form)
        if not alerting and self._run(done.where(_T.c.next_alert_at.is_(None))).rowcount == 1:
            return True
        return self._run(done.values(next_alert_at=None)).rowcount == 1

    def cancel_tasks(self, task_ids: list[int], at: dt.datetime) -> None:
        self._run(sa.update(_T).where(_T.c.id.in_(task_ids)).values(status="cancelled", completed_at=at,
                                                                    next_alert_at=None))
        self.dequeue(task_ids)

    def open_tasks(self, case_id: int) -> list[tuple]:
        return [tuple(r) for r in self._run(sa.select(_T.c.id, _T.c.spiff_id, _T.c.element_id).where(
            _T.c.case_id == case_id, _T.c.status == "open"))]

    def enqueue(self, rows: list[tuple[str, dt.datetime | None, dt.datetime, int]]) -> None:
        """Queue rows (group, due_at, created_at, task id) of open, unclaimed tasks."""
        self._run(sa.insert(_Q), [{"group_name": g, "rank_at": due or NEVER_DUE, "created_at": at, "task_id": tid}
                                  for g, due, at, tid in rows])
        self.queued.update(g for g, *_ in rows)

    def dequeue(self, task_ids: list[int]) -> None:
        self.queued.subtract(self._run(sa.delete(_Q).where(_Q.c.task_id.in_(task_ids))
                                       .returning(_Q.c.group_name)).scalars())

    def count_queued(self) -> None:
        """Add what this transaction did to the queues to their counts; last, just before the commit."""
        add_to_queue_counts(self.conn, self.queued)
        self.queued.clear()

    # deadlines -------------------------------------------------------------------
    def open_dues(self, case_id: int) -> list[SimpleNamespace]:
        """The case's open tasks: id, spiff_id, due_at, due_note, created_at, escalation."""
        return _objects(self._run(sa.select(_T.c.id, _T.c.spiff_id, _T.c.due_at, _T.c.due_note, _T.c.created_at,
                                            _T.c.escalation).where(_T.c.case_id == case_id, _T.c.status == "open")))

    def set_task_due(self, task_id: int, due: dt.datetime | None, warning: str, escalation: int,
                     next_alert_at: dt.datetime | None, note: str | None = None) -> None:
        self._run(sa.update(_T).where(_T.c.id == task_id).values(
            due_at=due, warning=warning, escalation=escalation, next_alert_at=next_alert_at, due_note=note))
        self._run(sa.update(_Q).where(_Q.c.task_id == task_id).values(rank_at=due or NEVER_DUE))

    def silence_alerts(self, case_id: int) -> None:
        """A stopped clock raises no warnings: no alert until it runs again."""
        self._run(sa.update(_T).where(_T.c.case_id == case_id, _T.c.status == "open").values(next_alert_at=None))

    def due_alerts(self, now: dt.datetime, limit: int) -> list[SimpleNamespace]:
        """Open tasks whose next alert time has come, most overdue first (PostgreSQL: rows
        another node holds are skipped). Only an open task has an alert time: a status
        condition would lead SQLite to read every open task instead of ix_tasks_next_alert_at."""
        return _objects(self._run(
            sa.select(_T.c.id, _T.c.case_id, _T.c.process_id, _T.c.element_id, _T.c.name, _T.c.case_number,
                      _T.c.due_at, _T.c.warning, _T.c.escalation, _T.c.assignee_id, _T.c.candidate_groups,
                      _T.c.lane).where(_T.c.next_alert_at <= now).order_by(_T.c.next_alert_at).limit(limit)
            .with_for_update(skip_locked=True)))

    def alert_due(self, now: dt.datetime) -> bool:
        """Has any open task's next alert time come? A plain read, as `timer_due`."""
        return self._run(sa.select(1).where(_T.c.next_alert_at <= now).limit(1)).first() is not None

    def update_alert(self, task_id: int, warning: str, escalation: int, next_alert_at, expected) -> bool:
        return self._run(sa.update(_T).where(_T.c.id == task_id, _T.c.warning == expected[0],
                                             _T.c.escalation == expected[1]).values(
            warning=warning, escalation=escalation, next_alert_at=next_alert_at)).rowcount == 1

    def raise_escalation(self, task_id: int, level: int) -> None:
        self._run(sa.update(_T).where(_T.c.id == task_id, _T.c.escalation < level).values(escalation=level))

    def group_members(self, groups) -> dict[str, list[int]]:
        groups = sorted(g for g in groups if g)
        if not groups:
            return {}
        out: dict[str, list[int]] = {}
        for g, uid in self._run(sa.select(_UG.c.group_name, _UG.c.user_id).join(_U, _U.c.id == _UG.c.user_id)
                                .where(_U.c.active.is_(True), _UG.c.group_name.in_(groups))):
            out.setdefault(g, []).append(uid)
        return out

    def insert_notifications(self, rows: list[dict]) -> None:
        if rows:
            for r in rows:  # a message quotes what people wrote; it is cut to what its column holds
                if len(r["message"]) > MESSAGE_CHARS:
                    r["message"] = r["message"][:MESSAGE_CHARS - 1] + "…"
            self._run(sa.insert(Notification.__table__), rows)

    def insert_accountability(self, rows: list[dict]) -> None:
        if rows:
            self._run(sa.insert(Accountability.__table__), [
                {"granted_by": None, "days_granted": None, **r} for r in rows])

    def calendar_changed_since(self, revision: int) -> dt.date:
        """The first day any calendar change after `revision` touched."""
        day = self._run(sa.select(sa.func.min(CalendarRevision.since))
                        .where(CalendarRevision.revision > revision)).scalar()
        return day or clock.FIRST_DAY

    def start_pause(self, case_id: int, reason: str, element_id: str | None, at: dt.datetime, by: str) -> None:
        self._run(sa.insert(Pause.__table__), {"case_id": case_id, "reason": reason, "element_id": element_id,
                                               "started_at": at, "started_by": by})

    def end_pause(self, case_id: int, at: dt.datetime, by: str, working_seconds: float, workdays: int) -> None:
        p = Pause.__table__.c
        self._run(sa.update(Pause.__table__).where(p.case_id == case_id, p.ended_at.is_(None)).values(
            ended_at=at, ended_by=by, working_seconds=working_seconds, workdays=workdays))

    def user_ids(self, usernames) -> dict[str, int]:
        return dict(self._run(sa.select(_U.c.username, _U.c.id).where(_U.c.username.in_(list(usernames)))).all())

    # events ----------------------------------------------------------------------
    def insert_events(self, events: list[dict]) -> None:
        if events:
            self._run(sa.insert(_E), events)


def add_to_queue_counts(conn: sa.Connection, changes: Counter) -> None:
    """Add `changes` (group: rows added to its queue, or taken away when negative) to
    `queue_counts`, on the connection of the transaction that made them. Every writer does
    this last and in the groups' order, so on PostgreSQL two transactions that wait for each
    other's count rows cannot deadlock: neither holds a row the other took first."""
    items = sorted((g, n) for g, n in changes.items() if n)
    if items:
        insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(_QC).values(
            [{"group_name": g, "queued": n} for g, n in items])
        conn.execute(insert.on_conflict_do_update(index_elements=[_QC.c.group_name],
                                                  set_={"queued": _QC.c.queued + insert.excluded.queued}))
