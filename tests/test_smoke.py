import json

import pytest

from tests.conftest import DIAGRAMS


def test_parallel_case_runs_to_completion(h):
    clerk = h.user("clerk", groups=["window", "gs", "gt", "dt", "zj"])
    h.deploy(DIAGRAMS / "parallel5.bpmn")
    case = h.hall.runtime.start(clerk, "parallel5", {"enterprise": "甲公司"})
    assert case.number.startswith("PAR-") or case.number
    assert [t.element_id for t in h.open_tasks(case.id)] == ["accept"]
    h.complete(clerk, case.id, "accept", {"ok": True})
    assert sorted(t.element_id for t in h.open_tasks(case.id)) == ["r1", "r2", "r3", "r4"]
    for e in ("r1", "r2", "r3", "r4"):
        h.complete(clerk, case.id, e, {e: "同意"})
    h.complete(clerk, case.id, "decide", {})
    case = h.hall.runtime.case(case.id)
    assert case.status == "completed"
    assert case.data["r3"] == "同意" and case.data["enterprise"] == "甲公司"


def test_an_action_reads_what_it_left_in_its_own_transaction(h):
    """`read=` runs inside the action's transaction, after its save: the page shows the
    completion, and a read that fails takes the completion back with it."""
    from engine.runtime import read_page

    clerk = h.user("clerk", groups=["window", "gs", "gt", "dt", "zj"])
    h.deploy(DIAGRAMS / "parallel5.bpmn")
    case, tasks, events = h.hall.runtime.start(clerk, "parallel5", {"x": 1}, read=read_page)
    assert [t.element_id for t in tasks] == ["accept"] and events[0].action == "started"
    accept = tasks[0].id

    def broken(st, case_id):
        raise RuntimeError("the read failed")

    with pytest.raises(RuntimeError):
        h.hall.tasks.complete(clerk, accept, {}, read=broken)
    assert [t.element_id for t in h.open_tasks(case.id)] == ["accept"]

    after, tasks, events = h.hall.tasks.complete(clerk, accept, {}, read=read_page)
    assert after.revision == case.revision + 1
    assert sorted(t.element_id for t in tasks) == ["r1", "r2", "r3", "r4"]
    assert ("completed", "accept") in [(e.action, e.element_id) for e in events]


@pytest.mark.sqlite_only  # PostgreSQL caches pages on the server
def test_sqlite_hands_out_the_connection_used_last(h):
    """SQLite keeps a page cache per connection, valid until another connection writes: a
    pool that went round its connections would have each action read its pages again."""
    bind = h.hall.bind
    first, second = bind.raw_connection(), bind.raw_connection()
    first_dbapi, second_dbapi = first.dbapi_connection, second.dbapi_connection
    first.close()
    second.close()  # returned last
    again = bind.raw_connection()
    try:
        assert again.dbapi_connection is second_dbapi is not first_dbapi
    finally:
        again.close()


@pytest.mark.sqlite_only  # PostgreSQL connections stay pooled
def test_a_thread_keeps_its_sqlite_connection_between_transactions(h):
    """Store transactions of one thread run on one connection of its own. A transaction
    inside another, another thread, an engine disposed of and a forked process each get
    another connection, and all of them see the same database. A thread's connection is
    closed once the thread has ended; a forked child never closes its parent's."""
    import os
    import sqlite3
    import threading

    from engine.store import _CONNECTIONS, reading, transaction

    bind, session = h.hall.bind, h.hall.session
    borrowed = bind.pool.checkedout()
    with reading(bind) as st:
        first = st.cur.connection
        assert bind.pool.checkedout() == borrowed  # not the pool's
        with transaction(session, bind) as inner:
            assert inner.cur.connection is not first
            inner._run("INSERT INTO groups (name) VALUES ('nested')")
    with transaction(session, bind) as st:
        assert st.cur.connection is first

    def count(st):
        return st._run("SELECT count(*) FROM groups WHERE name = 'nested'").fetchone()[0]

    seen, release = [], threading.Event()

    def other_thread(wait):
        with reading(bind) as st:
            seen.append((st.cur.connection, count(st)))
        if wait:
            release.wait(30)

    ended = threading.Thread(target=other_thread, args=(False,))
    ended.start()
    ended.join()
    assert seen[0][0] is not first and seen[0][1] == 1

    bind.dispose()
    with reading(bind) as st:
        second = st.cur.connection
        assert second is not first and count(st) == 1
    with pytest.raises(sqlite3.ProgrammingError):  # the ended thread's, closed
        seen[0][0].execute("SELECT 1")

    waiting = threading.Thread(target=other_thread, args=(True,))
    waiting.start()
    while len(seen) < 2:
        waiting.join(0.01)
    readable, writable = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a connection of its own; the parent's are kept, not closed
        try:
            with reading(bind) as st:
                ok = st.cur.connection is not second and count(st) == 1
            kept = [id(c) for c in _CONNECTIONS._forked]
            ok = ok and id(second) in kept and id(seen[1][0]) in kept
            os.write(writable, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(writable)  # a child that wrote nothing then reads as b"", not a hang
    os.waitpid(pid, 0)
    release.set()
    waiting.join()
    assert os.read(readable, 1) == b"1"
    os.close(readable)
    with transaction(session, bind) as st:
        assert st.cur.connection is second and count(st) == 1


def test_an_in_memory_sqlite_database_still_makes_an_app():
    """The LIFO pool option is only for a file database: SQLAlchemy refuses it for the one
    connection of an in-memory database."""
    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "HALL_SCHEDULER": "off", "SECRET_KEY": "x"})
    assert "pool_use_lifo" not in app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})
    assert app.test_client().get("/api/v1/openapi.json").status_code == 200


def test_stored_json_reads_back_exactly(h):
    """Integers beyond 64 bits stay integers (a faster reader would make them floats), and
    what the fast writer refuses is still written."""
    from engine.store import _dumps, reading

    for value in ({"a": [1, "二", None, True, 1.5]}, {"big": 2 ** 70}):
        assert json.loads(_dumps(value)) == value
    assert json.loads(_dumps({1: "x"})) == {"1": "x"}
    with reading(h.hall.bind) as st:
        assert st.read_json('{"a": [1, "二"]}') == {"a": [1, "二"]}
        assert st.read_json('{"big": 123456789012345678901234567890}') == {"big": 123456789012345678901234567890}
        value = st.read_json('{"x": NaN}')["x"]
        assert value != value


def test_request_json_reads_as_json_does():
    """Request bodies go through orjson when it reads them as json would: long integers
    stay integers, a surrogate pair is text, and what either refuses is refused."""
    from webapp import BadJSON, load_request_json

    for body, value in ((b'{"n": 123456789012345678901234567890}', {"n": 123456789012345678901234567890}),
                        (b'{"n": -9223372036854775809, "m": 18446744073709551616}',
                         {"n": -9223372036854775809, "m": 18446744073709551616}),
                        (b'{"x": 1.5, "y": 1e-400, "s": "\\ud83d\\ude00"}', {"x": 1.5, "y": 0.0, "s": "\U0001f600"}),
                        ('{"a": "二"}'.encode("utf-16"), {"a": "二"}),
                        (b'\xef\xbb\xbf{"a": 1}', {"a": 1})):
        got = load_request_json(body)
        assert got == value and all(type(got[k]) is type(value[k]) for k in value), body
    for body in (b'{"x": NaN}', b'{"x": 1e400}', b'{"s": "\\u0000"}', b'{"s": "\\udc00"}', b'[' * 33 + b']' * 33,
                 b'{"s": "\xed\xa0\x80"}', b'{"a": 1,}', b""):
        with pytest.raises(BadJSON):
            load_request_json(body)


def test_completing_clears_an_alert_time_given_after_the_task_was_read(h):
    """A completion leaves next_alert_at out of its UPDATE when the task had none when read
    (naming it would rewrite its index); if one was given in between, it is still cleared,
    or the sweep would warn about a finished task."""
    import datetime as dt

    from engine import clock
    from engine.store import transaction

    clerk = h.user("clerk", groups=["window", "gs", "gt", "dt", "zj"])
    h.deploy(DIAGRAMS / "parallel5.bpmn")
    case = h.hall.runtime.start(clerk, "parallel5", {})
    task_id = case.open_task_ids[0]
    with transaction(h.hall.session, h.hall.bind) as st:
        assert st.task(task_id)["next_alert_at"] is None  # what the completion read
        st._run("UPDATE tasks SET next_alert_at = ? WHERE id = ?", (st.ts(clock.now() + dt.timedelta(days=1)), task_id))
        assert st.complete_task(task_id, clerk.id, clock.now(), {}, alerting=False)
    with transaction(h.hall.session, h.hall.bind) as st:
        assert st._run("SELECT status, next_alert_at FROM tasks WHERE id = ?", (task_id,)).fetchone() == \
            ("completed", None)


def test_the_migrations_build_what_the_models_describe(h):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from engine.models import Base

    with h.hall.bind.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_a_generated_form_schema_is_built_once_per_form():
    import forms
    from engine import bpmn
    from engine.runtime import form_schema

    b = bpmn.build({"form_task.bpmn": (DIAGRAMS / "form_task.bpmn").read_text()})
    form = b.human_task("review").form
    schema = form_schema({}, form)
    assert form_schema({}, form) is schema
    assert forms.load(schema, {"decision": "accept", "pages": 3}) == {"decision": "accept", "pages": 3}
    with pytest.raises(forms.ValidationError):
        forms.load(schema, {"decision": "accept", "pages": 501})


def test_stored_times_read_back_as_utc(h):
    import datetime as dt

    from engine.store import reading

    utc = dt.UTC
    with reading(h.hall.bind) as st:
        assert st.read_ts("2026-11-29 18:00:00.123456") == dt.datetime(2026, 11, 29, 18, 0, 0, 123456, tzinfo=utc)
        assert st.read_ts("2026-11-29 18:00:00") == dt.datetime(2026, 11, 29, 18, tzinfo=utc)
        assert st.read_ts("2026-11-29T20:00:00+02:00") == dt.datetime(2026, 11, 29, 18, tzinfo=utc)
        assert st.read_ts("2026-11-29T20:00:00+02:00").utcoffset() == dt.timedelta(0)
        assert st.read_ts("2026-11-29") == dt.datetime(2026, 11, 29, tzinfo=utc)
        now = dt.datetime.now(utc)
        assert st.read_ts(st.ts(now)) == now
