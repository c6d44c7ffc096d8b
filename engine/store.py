"""The statements every case action runs, and the reads every case view makes, sent
straight through the DB-API.

A completion reads and writes a handful of rows; through SQLAlchemy each statement costs
some 45 µs of Python before the database sees it (its session's transaction more), through
the DB-API about 5 µs. So each case action runs in `transaction()`: one connection (on
SQLite the thread's own, `_ThreadConnections`), one transaction, plain SQL; a case's page
reads through `reading()`; everything else uses SQLAlchemy. Values are written in the form
SQLAlchemy reads back: UTC datetimes (naive text on SQLite), JSON as text.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace

import orjson
from sqlalchemy.orm import scoped_session

from engine import calendar, clock
from engine.db import CALENDAR_LOCK, is_sqlite_file
from engine.models import NEVER_DUE, Notification

UTC = dt.UTC

TASK_COLUMNS = ("case_id", "spiff_id", "process_id", "case_number", "case_title", "element_id", "name", "lane",
                "candidate_groups", "assignee_id", "status", "form_key", "created_at", "due_at", "claimed_at",
                "context", "warning", "escalation", "next_alert_at", "due_note")
EVENT_COLUMNS = ("case_id", "task_id", "process_id", "at", "actor", "action", "element_id", "detail")
CASE_COLUMNS = ("number", "process_id", "version_id", "version", "status", "title", "started_by_id",
                "created_at", "updated_at", "ended_at", "revision", "state", "data", "next_timer_at", "error",
                "visited", "due_at", "paused_since", "paused_reason", "paused_element", "calendar_revision", "due_note",
                "waiting")


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


@dataclass(slots=True)
class _Kept:
    pool: object  # the engine's pool when the connection was made: dispose() makes a new one
    pid: int  # a connection never crosses a fork
    conn: object  # a DB-API connection, detached from the pool
    busy: bool = False


class _ThreadConnections:
    """Each thread's connection to a SQLite file, kept from one Store transaction to the
    next. Borrowing a connection from SQLAlchemy's pool and giving it back runs more Python
    than a case read's SQL, and in a server that code is out of the caches at every request.
    The connection used last also has the pages it read still valid. PostgreSQL connections
    stay pooled (they can drop; the pool checks them), and so does an in-memory database
    (each connection would be a database of its own), or a transaction inside another.

    Kept by thread id, not in thread-local storage: after a fork the child holds on to the
    parent's connections instead of closing them as their threads' storage goes, which
    SQLite forbids (closing may clean up files the parent still uses)."""

    def __init__(self):
        self._kept: dict[int, _Kept] = {}  # by thread id (a later thread may get an ended one's)
        self._forked: list = []  # in a forked child, its parent's: never closed

    def take(self, bind):
        if not is_sqlite_file(bind.url):
            return bind.raw_connection()
        kept = self._kept.get(threading.get_ident())
        if kept is not None and kept.busy:
            return bind.raw_connection()
        if kept is None or kept.pool is not bind.pool or kept.pid != os.getpid():
            kept = self._connect(bind)
        kept.busy = True
        return kept.conn

    def give(self, raw) -> None:
        """Back after its transaction ended (committed or rolled back)."""
        me = threading.get_ident()
        kept = self._kept.get(me)
        if kept is None or raw is not kept.conn:
            raw.close()
            return
        kept.busy = False
        if raw.in_transaction:  # one that could not be ended: the next takes a new connection
            self._drop(self._kept.pop(me))

    def _connect(self, bind) -> _Kept:
        """A new connection for this thread (the engine was disposed of, or this is a forked
        child, or the thread had none); those of threads that ended go."""
        me = threading.get_ident()
        live = {t.ident for t in threading.enumerate()}
        for ident in [i for i in list(self._kept) if i == me or i not in live]:
            kept = self._kept.pop(ident, None)
            if kept is not None:
                self._drop(kept)
        fairy = bind.raw_connection()
        fairy.detach()
        kept = self._kept[me] = _Kept(bind.pool, os.getpid(), fairy.dbapi_connection)
        return kept

    def _drop(self, kept: _Kept) -> None:
        if kept.pid == os.getpid():
            kept.conn.close()
        else:
            self._forked.append(kept.conn)


_CONNECTIONS = _ThreadConnections()


@contextmanager
def transaction(session, bind):
    """A write transaction on a connection of `bind` of its own (`_ThreadConnections`);
    yields a Store, the calendar in force followed (`Store.follow_calendar`)."""
    _end_read_snapshot(session)
    raw = _CONNECTIONS.take(bind)
    try:
        store = Store(raw, bind.dialect.name == "postgresql")
        store.follow_calendar()
        yield store
        store.count_queued()
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        _CONNECTIONS.give(raw)
        _end_read_snapshot(session)


@contextmanager
def reading(bind):
    """A Store that reads, in one short transaction on a connection of its own."""
    raw = _CONNECTIONS.take(bind)
    try:
        store = Store(raw, bind.dialect.name == "postgresql", write=False)
        store.follow_calendar()
        yield store
    finally:
        try:
            raw.rollback()
        finally:
            _CONNECTIONS.give(raw)


_CASE_VIEW = ("SELECT c.id, c.number, c.process_id, c.version_id, c.version, c.status, c.title, c.started_by_id, "
              "c.created_at, c.updated_at, c.ended_at, c.revision, c.data, c.next_timer_at, c.error, c.visited, "
              "c.due_at, c.paused_since, c.paused_reason, c.paused_element, c.due_note, c.waiting, "
              "u.username AS started_by, u.display_name AS started_by_name "
              "FROM cases c LEFT JOIN users u ON u.id = c.started_by_id WHERE c.id = ?")
_TASK_VIEW = ("SELECT t.id, t.case_id, t.spiff_id, t.process_id, t.case_number, t.case_title, t.element_id, "
              "t.name, t.lane, "
              "t.candidate_groups, t.assignee_id, t.status, t.form_key, t.created_at, t.due_at, t.claimed_at, "
              "t.completed_at, t.completed_by_id, t.data, t.context, t.warning, t.escalation, t.due_note, "
              "u.username AS assignee, u.display_name AS assignee_name, c.version_id "
              "FROM tasks t JOIN cases c ON c.id = t.case_id LEFT JOIN users u ON u.id = t.assignee_id "
              "WHERE t.case_id = ?")
_EVENT_VIEW = "SELECT id, at, actor, action, element_id, task_id, detail FROM events WHERE case_id = ? ORDER BY id"
_TIMES = {"created_at", "updated_at", "ended_at", "next_timer_at", "due_at", "claimed_at", "completed_at", "at",
          "paused_since", "started_at", "next_alert_at"}
_JSONS = {"data", "candidate_groups", "detail", "context", "visited", "waiting"}
_LONG_NUMBER = re.compile(r"\d{19}")
MESSAGE_CHARS = Notification.__table__.c.message.type.length


class Store:
    def __init__(self, raw, pg: bool, write: bool = True):
        self.pg = pg
        self.write = write
        self.cur = raw.cursor()
        self.queued = Counter()  # rows this transaction added to (or took from) each group's queue
        if not pg:  # SQLite: take the write lock now, not halfway; reads see one snapshot
            self.cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        if self.pg:
            from psycopg.types.json import Json

            self._json = lambda v: Json(v, dumps=_dumps)
        else:
            self._json = _dumps

    def follow_calendar(self) -> None:
        """Count with the latest calendar: read its revision (one row) and load it if this
        process holds an older one. A write transaction on PostgreSQL first takes the
        calendar lock shared, which a change to the calendar takes exclusively: no deadline
        is counted with a calendar that changes before the count is saved. (SQLite's write
        transactions are one at a time already.)"""
        if self.pg and self.write:
            self._run("SELECT pg_advisory_xact_lock_shared(?)", (CALENDAR_LOCK,))
        row = self._run("SELECT revision FROM calendar_revisions ORDER BY revision DESC LIMIT 1").fetchone()
        calendar.follow(row[0] if row else 0)

    def _sql(self, text: str) -> str:
        return _pg_sql(text) if self.pg else text

    def ts(self, value: dt.datetime | None):
        if value is None or self.pg:
            return value
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

    def json(self, value):
        return None if value is None else self._json(value)

    def _run(self, sql: str, params=()):
        self.cur.execute(self._sql(sql), params)
        return self.cur

    def read_ts(self, value):
        if value is None or isinstance(value, dt.datetime):
            return value.astimezone(UTC) if value is not None else None
        try:  # stored as UTC without its offset; naming the offset reads 5x faster than replace()
            at = dt.datetime.fromisoformat(value + "+00:00")
            if at.tzinfo is not None:
                return at
        except ValueError:  # it has an offset of its own
            pass
        at = dt.datetime.fromisoformat(value)
        return at.astimezone(UTC) if at.tzinfo is not None else at.replace(tzinfo=UTC)

    def read_json(self, value):
        if not isinstance(value, str):
            return value
        # orjson, ten times faster, except where it would read differently: it makes an
        # integer beyond 64 bits a float, silently (so any run of 19 digits goes to json),
        # and refuses NaN
        if _LONG_NUMBER.search(value) is None:
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                pass
        return json.loads(value)

    def _objects(self, sql: str, params) -> list[SimpleNamespace]:
        cur = self._run(sql, params)
        names = [d[0] for d in cur.description]
        # which columns to convert, worked out once per query rather than once per row
        convert = [(i, self.read_ts if n in _TIMES else self.read_json)
                   for i, n in enumerate(names) if n in _TIMES or n in _JSONS]
        out = []
        for row in cur.fetchall():
            if convert:
                row = list(row)
                for i, read in convert:
                    if row[i] is not None:
                        row[i] = read(row[i])
            obj = SimpleNamespace()  # filled in place: no keyword dict built and unpacked per row
            obj.__dict__.update(zip(names, row, strict=True))
            out.append(obj)
        return out

    # the reads behind a case's page
    def case_view(self, case_id: int) -> SimpleNamespace | None:
        rows = self._objects(_CASE_VIEW, (case_id,))
        return rows[0] if rows else None

    def case_tasks(self, case_id: int, status: str | None) -> list[SimpleNamespace]:
        if status:
            return self._objects(_TASK_VIEW + " AND t.status = ? ORDER BY t.id", (case_id, status))
        return self._objects(_TASK_VIEW + " ORDER BY t.id", (case_id,))

    def case_events(self, case_id: int) -> list[SimpleNamespace]:
        return self._objects(_EVENT_VIEW, (case_id,))

    @contextmanager
    def savepoint(self):
        self._run("SAVEPOINT hall_action")
        try:
            yield
        except BaseException:
            self._run("ROLLBACK TO SAVEPOINT hall_action")
            raise
        self._run("RELEASE SAVEPOINT hall_action")

    # cases ---------------------------------------------------------------------
    def lock_case(self, case_id: int) -> int | None:
        """Lock the case row (PostgreSQL; SQLite's whole-database write lock is already held)
        and return its revision. Every action takes this lock first, so actions on one case
        queue in one order and never deadlock on the rows they touch after it."""
        row = self._run("SELECT revision FROM cases WHERE id = ?" + (" FOR UPDATE" if self.pg else ""),
                        (case_id,)).fetchone()
        return row[0] if row else None

    def load_case(self, case_id: int | None = None, *, due_before: dt.datetime | None = None) -> dict | None:
        """A case row as a dict (locked on PostgreSQL): by id, or the running case whose
        timer is the most overdue before `due_before` (skipping rows another node holds)."""
        cols = ", ".join(("id", *CASE_COLUMNS))
        if case_id is not None:
            sql, params = f"SELECT {cols} FROM cases WHERE id = ?", [case_id]
            lock = " FOR UPDATE"
        else:
            # only a running case has a timer time; a status condition here would lead SQLite
            # to scan every running case by status instead of reading ix_cases_next_timer_at
            sql = f"SELECT {cols} FROM cases WHERE next_timer_at <= ? ORDER BY next_timer_at LIMIT 1"
            params, lock = [self.ts(due_before)], " FOR UPDATE SKIP LOCKED"
        row = self._run(sql + (lock if self.pg else ""), params).fetchone()
        if row is None:
            return None
        case = dict(zip(("id", *CASE_COLUMNS), row, strict=True))
        for k in ("created_at", "updated_at", "ended_at", "next_timer_at", "due_at", "paused_since"):
            case[k] = self.read_ts(case[k])
        case["data"] = self.read_json(case["data"])
        case["visited"] = self.read_json(case["visited"]) or []
        case["waiting"] = self.read_json(case["waiting"]) or []
        return case

    def timer_due(self, now: dt.datetime) -> bool:
        """Is any case's timer due? A plain read: the scheduler asks this twice a second, and
        on SQLite a write transaction to find nothing would hold up everyone's actions."""
        return self._run("SELECT 1 FROM cases WHERE next_timer_at <= ? LIMIT 1", (self.ts(now),)).fetchone() is not None

    def insert_case(self, c: dict) -> int:
        cols = ", ".join(CASE_COLUMNS)
        marks = ", ".join("?" * len(CASE_COLUMNS))
        return self._run(f"INSERT INTO cases ({cols}) VALUES ({marks}) RETURNING id",
                         self._values(CASE_COLUMNS, c)).fetchone()[0]

    def update_case(self, c: dict, expected_revision: int, stored: dict) -> None:
        """Write the case row. `stored` holds what the row has now in the columns an index
        covers (status, next_timer_at): those are set only when they change, since SQLite
        rewrites a column's index entries whenever a SET names it, same value or not."""
        sets = [k for k in ("status", "data", "state", "revision", "updated_at", "ended_at", "next_timer_at", "error",
                            "visited", "due_at", "paused_since", "paused_reason", "paused_element",
                            "calendar_revision", "due_note", "waiting")
                if k not in stored or stored[k] != c[k]]
        cur = self._run(f"UPDATE cases SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ? AND revision = ?",
                        [*self._values(sets, c), c["id"], expected_revision])
        if cur.rowcount != 1:
            raise Stale(c["id"])

    def latest_version(self, process_id: str) -> SimpleNamespace | None:
        """What starting a case needs of a process's latest version."""
        row = self._run("SELECT id, process_id, version, name, case_prefix, starter_groups FROM process_versions "
                        "WHERE process_id = ? ORDER BY version DESC LIMIT 1", (process_id,)).fetchone()
        if row is None:
            return None
        pv = SimpleNamespace(**dict(zip(("id", "process_id", "version", "name", "case_prefix", "starter_groups"),
                                        row, strict=True)))
        pv.starter_groups = self.read_json(pv.starter_groups) or []
        return pv

    def started_with(self, user_id: int, key: str) -> tuple[int, str] | None:
        """(case id, request) of the case `user_id` started with Idempotency-Key `key`."""
        row = self._run("SELECT case_id, request FROM start_keys WHERE user_id = ? AND key = ?",
                        (user_id, key)).fetchone()
        return (row[0], row[1]) if row else None

    def keep_start_key(self, user_id: int, key: str, request: str, case_id: int, at: dt.datetime) -> None:
        self._run("INSERT INTO start_keys (user_id, key, request, case_id, created_at) VALUES (?, ?, ?, ?, ?)",
                  (user_id, key, request, case_id, self.ts(at)))

    def set_next_timer(self, case_id: int, at: dt.datetime) -> None:
        self._run("UPDATE cases SET next_timer_at = ? WHERE id = ?", (self.ts(at), case_id))

    def fail_case(self, case_id: int, message: str, at: dt.datetime) -> None:
        """The case cannot go on by itself (a timer's follow-up failed): park it."""
        self._run("UPDATE cases SET status = 'error', error = ?, next_timer_at = NULL, updated_at = ?, "
                  "revision = revision + 1 WHERE id = ?", (message, self.ts(at), case_id))

    def next_number(self, prefix: str, day: str) -> int:
        return self._run("INSERT INTO case_counters (prefix, day, last) VALUES (?, ?, 1) "
                         "ON CONFLICT (prefix, day) DO UPDATE SET last = case_counters.last + 1 RETURNING last",
                         (prefix, day)).fetchone()[0]

    # tasks -----------------------------------------------------------------------
    def task(self, task_id: int) -> dict | None:
        """A task row with its case's version."""
        row = self._run(
            "SELECT t.id, t.case_id, t.spiff_id, t.element_id, t.status, t.assignee_id, t.candidate_groups, "
            "t.lane, t.due_at, t.next_alert_at, c.version_id, u.username FROM tasks t JOIN cases c ON "
            "c.id = t.case_id LEFT JOIN users u ON u.id = t.assignee_id WHERE t.id = ?", (task_id,)).fetchone()
        if row is None:
            return None
        task = dict(zip(("id", "case_id", "spiff_id", "element_id", "status", "assignee_id", "candidate_groups",
                         "lane", "due_at", "next_alert_at", "version_id", "assignee"), row, strict=True))
        task["candidate_groups"] = self.read_json(task["candidate_groups"]) or []
        task["due_at"] = self.read_ts(task["due_at"])
        return task

    def insert_task(self, t: dict) -> int:
        cols = ", ".join(TASK_COLUMNS)
        marks = ", ".join("?" * len(TASK_COLUMNS))
        return self._run(f"INSERT INTO tasks ({cols}) VALUES ({marks}) RETURNING id",
                         self._values(TASK_COLUMNS, t, dict.get)).fetchone()[0]

    def complete_task(self, task_id: int, user_id: int | None, at: dt.datetime, data: dict,
                      alerting: bool = True) -> bool:
        """Mark an open task completed by `user_id` (claiming it if nobody held it).
        False if it is no longer open or someone else holds it. `alerting`: whether the row
        has a next alert time to clear (naming the column rewrites its index entry)."""
        params = (self.ts(at), user_id, self.json(data), self.ts(at), user_id, task_id, user_id)
        sql = ("UPDATE tasks SET status = 'completed', completed_at = ?, completed_by_id = ?, data = ?, {}"
               "claimed_at = COALESCE(claimed_at, ?), assignee_id = COALESCE(assignee_id, ?) "
               "WHERE id = ? AND status = 'open' AND (assignee_id IS NULL OR assignee_id = ?)")
        # without an alert time when the row still has none (one given meanwhile: the second form)
        if not alerting and self._run(sql.format("") + " AND next_alert_at IS NULL", params).rowcount == 1:
            return True
        return self._run(sql.format("next_alert_at = NULL, "), params).rowcount == 1

    def cancel_tasks(self, task_ids: list[int], at: dt.datetime) -> None:
        marks = ", ".join("?" * len(task_ids))
        self._run(f"UPDATE tasks SET status = 'cancelled', completed_at = ?, next_alert_at = NULL "
                  f"WHERE id IN ({marks})", [self.ts(at), *task_ids])
        self.dequeue(task_ids)

    def open_tasks(self, case_id: int) -> list[tuple]:
        return self._run("SELECT id, spiff_id, element_id FROM tasks WHERE case_id = ? AND status = 'open'",
                         (case_id,)).fetchall()

    def enqueue(self, rows: list[tuple[str, dt.datetime | None, dt.datetime, int]]) -> None:
        """Queue rows (group, due_at, created_at, task id) of open, unclaimed tasks."""
        self.cur.executemany(
            self._sql("INSERT INTO task_queue (group_name, rank_at, created_at, task_id) VALUES (?, ?, ?, ?)"),
            [(g, self.ts(due or NEVER_DUE), self.ts(at), tid) for g, due, at, tid in rows])
        self.queued.update(g for g, *_ in rows)

    def dequeue(self, task_ids: list[int]) -> None:
        marks = ", ".join("?" * len(task_ids))
        self.queued.subtract(g for g, in self._run(
            f"DELETE FROM task_queue WHERE task_id IN ({marks}) RETURNING group_name", task_ids).fetchall())

    def count_queued(self) -> None:
        """Add what this transaction did to the queues to their counts; last, just before the commit."""
        add_to_queue_counts(self.cur, self.pg, self.queued)
        self.queued.clear()

    # deadlines -------------------------------------------------------------------
    def open_dues(self, case_id: int) -> list[SimpleNamespace]:
        """The case's open tasks: id, spiff_id, due_at, due_note, created_at, escalation."""
        return self._objects("SELECT id, spiff_id, due_at, due_note, created_at, escalation FROM tasks "
                             "WHERE case_id = ? AND status = 'open'", (case_id,))

    def set_task_due(self, task_id: int, due: dt.datetime | None, warning: str, escalation: int,
                     next_alert_at: dt.datetime | None, note: str | None = None) -> None:
        self._run("UPDATE tasks SET due_at = ?, warning = ?, escalation = ?, next_alert_at = ?, due_note = ? "
                  "WHERE id = ?", (self.ts(due), warning, escalation, self.ts(next_alert_at), note, task_id))
        self._run("UPDATE task_queue SET rank_at = ? WHERE task_id = ?", (self.ts(due or NEVER_DUE), task_id))

    def silence_alerts(self, case_id: int) -> None:
        """A stopped clock raises no warnings: no alert until it runs again."""
        self._run("UPDATE tasks SET next_alert_at = NULL WHERE case_id = ? AND status = 'open'", (case_id,))

    def due_alerts(self, now: dt.datetime, limit: int) -> list[SimpleNamespace]:
        """Open tasks whose next alert time has come, most overdue first (PostgreSQL: rows
        another node holds are skipped). Only an open task has an alert time: a status
        condition would lead SQLite to read every open task instead of ix_tasks_next_alert_at."""
        sql = ("SELECT id, case_id, process_id, element_id, name, case_number, due_at, warning, escalation, "
               "assignee_id, candidate_groups, lane FROM tasks WHERE next_alert_at <= ? "
               "ORDER BY next_alert_at LIMIT ?")
        return self._objects(sql + (" FOR UPDATE SKIP LOCKED" if self.pg else ""), (self.ts(now), limit))

    def alert_due(self, now: dt.datetime) -> bool:
        """Has any open task's next alert time come? A plain read, as `timer_due`."""
        return self._run("SELECT 1 FROM tasks WHERE next_alert_at <= ? LIMIT 1", (self.ts(now),)).fetchone() is not None

    def update_alert(self, task_id: int, warning: str, escalation: int, next_alert_at, expected) -> bool:
        cur = self._run("UPDATE tasks SET warning = ?, escalation = ?, next_alert_at = ? "
                        "WHERE id = ? AND warning = ? AND escalation = ?",
                        (warning, escalation, self.ts(next_alert_at), task_id, *expected))
        return cur.rowcount == 1

    def raise_escalation(self, task_id: int, level: int) -> None:
        self._run("UPDATE tasks SET escalation = ? WHERE id = ? AND escalation < ?", (level, task_id, level))

    def group_members(self, groups) -> dict[str, list[int]]:
        groups = sorted(g for g in groups if g)
        if not groups:
            return {}
        out: dict[str, list[int]] = {}
        marks = ", ".join("?" * len(groups))
        for g, uid in self._run(f"SELECT ug.group_name, ug.user_id FROM user_groups ug JOIN users u ON u.id = "
                                f"ug.user_id WHERE u.active = ? AND ug.group_name IN ({marks})",
                                [True, *groups]).fetchall():
            out.setdefault(g, []).append(uid)
        return out

    def insert_notifications(self, rows: list[dict]) -> None:
        if rows:
            cols = ("user_id", "kind", "case_id", "task_id", "message", "created_at")
            for r in rows:  # a message quotes what people wrote; it is cut to what its column holds
                if len(r["message"]) > MESSAGE_CHARS:
                    r["message"] = r["message"][:MESSAGE_CHARS - 1] + "…"
            self.cur.executemany(self._sql(f"INSERT INTO notifications ({', '.join(cols)}) VALUES (?, ?, ?, ?, ?, ?)"),
                                 [self._values(cols, r) for r in rows])

    def insert_accountability(self, rows: list[dict]) -> None:
        if rows:
            cols = ("case_id", "task_id", "kind", "department", "person", "days_over", "reason", "at", "granted_by",
                    "days_granted")
            self.cur.executemany(
                self._sql(f"INSERT INTO accountability ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"),
                [self._values(cols, r, dict.get) for r in rows])

    def calendar_changed_since(self, revision: int) -> dt.date:
        """The first day any calendar change after `revision` touched."""
        row = self._run("SELECT min(since) FROM calendar_revisions WHERE revision > ?", (revision,)).fetchone()
        day = row[0] if row else None
        return dt.date.fromisoformat(day) if isinstance(day, str) else day or clock.FIRST_DAY

    def start_pause(self, case_id: int, reason: str, element_id: str | None, at: dt.datetime, by: str) -> None:
        self._run("INSERT INTO pauses (case_id, reason, element_id, started_at, started_by) VALUES (?, ?, ?, ?, ?)",
                  (case_id, reason, element_id, self.ts(at), by))

    def end_pause(self, case_id: int, at: dt.datetime, by: str, working_seconds: float, workdays: int) -> None:
        self._run("UPDATE pauses SET ended_at = ?, ended_by = ?, working_seconds = ?, workdays = ? "
                  "WHERE case_id = ? AND ended_at IS NULL", (self.ts(at), by, working_seconds, workdays, case_id))

    def user_ids(self, usernames) -> dict[str, int]:
        names = list(usernames)
        marks = ", ".join("?" * len(names))
        return dict(self._run(f"SELECT username, id FROM users WHERE username IN ({marks})", names).fetchall())

    # events ----------------------------------------------------------------------
    def insert_events(self, events: list[dict]) -> None:
        cols = ", ".join(EVENT_COLUMNS)
        marks = ", ".join("?" * len(EVENT_COLUMNS))
        self.cur.executemany(self._sql(f"INSERT INTO events ({cols}) VALUES ({marks})"),
                             [self._values(EVENT_COLUMNS, e) for e in events])

    def _values(self, columns, row: dict, get=dict.__getitem__) -> list:
        """`row`'s values of `columns` as the database takes them: JSON columns as JSON,
        datetimes as `ts` writes them. One comprehension, not a call per value: for the
        few rows an action writes, the calls cost more than the conversions."""
        ts, js = self.ts, self._json
        return [None if (v := get(row, k)) is None else js(v) if k in _JSONS else ts(v) if isinstance(v, dt.datetime)
                else v for k in columns]


def _dumps(value) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # what only json writes: integers beyond 64 bits, keys that are not strings
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def add_to_queue_counts(cur, pg: bool, changes: Counter) -> None:
    """Add `changes` (group: rows added to its queue, or taken away when negative) to
    `queue_counts`, on the DB-API cursor of the transaction that made them. Every writer
    does this last and in the groups' order, so on PostgreSQL two transactions that wait
    for each other's count rows cannot deadlock: neither holds a row the other took first."""
    items = sorted((g, n) for g, n in changes.items() if n)
    if items:
        sql = _add_to_queue_counts_sql(len(items))
        cur.execute(_pg_sql(sql) if pg else sql, [v for item in items for v in item])


@lru_cache(maxsize=64)
def _add_to_queue_counts_sql(groups: int) -> str:
    return (f"INSERT INTO queue_counts (group_name, queued) VALUES {', '.join(['(?, ?)'] * groups)} "
            "ON CONFLICT (group_name) DO UPDATE SET queued = queue_counts.queued + excluded.queued")


@lru_cache(maxsize=256)
def _pg_sql(text: str) -> str:
    return text.replace("?", "%s")
