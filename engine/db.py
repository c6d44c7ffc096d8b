"""Database plumbing shared by every engine service: dialect settings and write transactions.

Every action runs in one transaction that starts by locking what it changes:
SQLite takes its write lock up front (BEGIN IMMEDIATE), PostgreSQL locks the case row
(SELECT ... FOR UPDATE). Two people acting on one case are thereby served in turn, each
seeing what the other did.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager

import orjson
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import scoped_session

WRITE = {"hall_write": True}
# PostgreSQL advisory lock key of the working calendar: every write transaction takes it
# shared, a change to the calendar exclusively (engine.store.Store.follow_calendar)
CALENDAR_LOCK = 0x4A11CA1


def is_sqlite_file(url) -> bool:
    """A SQLite database in a file (not in memory, where each connection has a database of
    its own): WAL, a pool used last-in first-out, connections kept by thread."""
    return url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")


def configure(engine: Engine) -> None:
    """Install the SQLite settings (WAL, foreign keys, explicit BEGIN) on `engine`."""
    if engine.dialect.name != "sqlite" or getattr(engine, "_hall_configured", False):
        return
    engine._hall_configured = True

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        if is_sqlite_file(engine.url):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            # the scheduler checkpoints every second (checkpoint()); a commit only has to
            # when the log passes 64 MB
            cur.execute("PRAGMA wal_autocheckpoint=16000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # on the DB-API connection: through exec_driver_sql this costs a statement's whole
        # execution context, a quarter of an empty transaction's time
        write = conn.get_execution_options().get("hall_write")
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")


def json_dumps(value) -> str:
    """JSON columns' writer (the engine's `json_serializer`): orjson, and json for what only
    it writes (integers beyond 64 bits, keys that are not strings)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_LONG_NUMBER = re.compile(r"\d{19}")


def json_loads(text: str):
    """JSON columns' reader (the engine's `json_deserializer`): orjson where it reads as json
    does; it would make an integer beyond 64 bits a float (any run of 19 digits goes to
    json) and refuses NaN."""
    if isinstance(text, str) and _LONG_NUMBER.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def engine_options(url) -> dict:
    """What the hall's SQLAlchemy engine is created with (Flask-SQLAlchemy's
    SQLALCHEMY_ENGINE_OPTIONS): JSON read and written as above; a server's connections
    checked as they leave the pool; a SQLite file's connection used last used first (its
    page cache is still valid)."""
    options: dict = {"json_serializer": json_dumps, "json_deserializer": json_loads}
    if url.get_backend_name() != "sqlite":
        options["pool_pre_ping"] = True
    elif is_sqlite_file(url):
        options["pool_use_lifo"] = True
    return options


def checkpoint(engine: Engine) -> None:
    """Copy SQLite's write-ahead log into the database without blocking anyone (PASSIVE),
    off the request path: otherwise some unlucky commit does it, and waits for the disk."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        raw.close()


def is_postgres(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@contextmanager
def write(session):
    """One write transaction on `session`: committed on success, rolled back on error."""
    session = session() if isinstance(session, scoped_session) else session
    if session.in_transaction():
        session.commit()  # end a read snapshot so the write sees the latest data
    session.connection(execution_options=WRITE)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        # Case actions write through engine.store, not the session: never serve stale objects.
        session.expire_all()


def unique_violation(e: Exception) -> bool:
    """A row another transaction inserted meanwhile with the same unique key."""
    orig = getattr(e, "orig", e)
    return getattr(orig, "sqlstate", None) == "23505" or type(orig).__name__ == "IntegrityError"


def retryable(e: Exception) -> bool:
    """A deadlock or serialization failure: the transaction was rolled back and may run again."""
    sqlstate = getattr(e, "sqlstate", None) or getattr(getattr(e, "orig", None), "sqlstate", None)
    return sqlstate in ("40001", "40P01")
