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


def test_an_in_memory_sqlite_database_still_makes_an_app():
    """The LIFO pool option is only for a file database: SQLAlchemy refuses it for the one
    connection of an in-memory database."""
    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "HALL_SCHEDULER": "off", "SECRET_KEY": "x"})
    assert "pool_use_lifo" not in app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})
    assert app.test_client().get("/api/v1/openapi.json").status_code == 200


def test_stored_json_reads_back_exactly(h):
    """Integers beyond 64 bits stay integers (a faster reader would make them floats), and
    what the fast writer refuses is still written: as the engine's JSON columns read and write."""
    from engine.db import json_dumps, json_loads

    for value in ({"a": [1, "二", None, True, 1.5]}, {"big": 2 ** 70}):
        assert json.loads(json_dumps(value)) == value and json_loads(json_dumps(value)) == value
    assert json_loads(json_dumps({1: "x"})) == {"1": "x"}
    assert json_loads('{"big": 123456789012345678901234567890}') == {"big": 123456789012345678901234567890}
    value = json_loads('{"x": NaN}')["x"]
    assert value != value
    clerk = h.user("clerk", groups=["window", "gs", "gt", "dt", "zj"])
    h.deploy(DIAGRAMS / "parallel5.bpmn")
    case = h.hall.runtime.start(clerk, "parallel5", {"big": 2 ** 70, "text": "二"})
    assert h.hall.runtime.case(case.id).data == {"big": 2 ** 70, "text": "二", "item": None,
                                                 "channel": "online"}  # through the database


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

    import sqlalchemy as sa

    from engine import clock
    from engine.models import Task
    from engine.store import transaction

    clerk = h.user("clerk", groups=["window", "gs", "gt", "dt", "zj"])
    h.deploy(DIAGRAMS / "parallel5.bpmn")
    case = h.hall.runtime.start(clerk, "parallel5", {})
    task_id = case.open_task_ids[0]
    t = Task.__table__.c
    with transaction(h.hall.session, h.hall.bind) as st:
        assert st.task(task_id)["next_alert_at"] is None  # what the completion read
        st._run(sa.update(Task).where(t.id == task_id).values(next_alert_at=clock.now() + dt.timedelta(days=1)))
        assert st.complete_task(task_id, clerk.id, clock.now(), {}, alerting=False)
    with transaction(h.hall.session, h.hall.bind) as st:
        assert [tuple(r) for r in st._run(sa.select(t.status, t.next_alert_at).where(t.id == task_id)).rows] == \
            [("completed", None)]


@pytest.mark.sqlite_only  # the direct statements are SQLite's alone
def test_direct_statements_write_and_read_what_connection_execute_does(h, monkeypatch):
    """engine.store runs its statements on SQLite's DB-API cursor (DIRECT_ON_SQLITE): the same
    case, run through it and through Connection.execute, leaves the same rows and reads the
    same page, times, JSON and all."""
    import sqlalchemy as sa

    from engine import clock, store
    from engine.models import Case, Event, Task
    from engine.runtime import read_page

    clerk = h.user("clerk", groups=["window", "gs", "gt", "dt", "zj"])
    h.deploy(DIAGRAMS / "parallel5.bpmn")

    at = clock.now()  # both cases at one moment, to the microsecond
    drop = ("id", "case_id", "task_id", "number", "case_number", "spiff_id")  # each case's own

    def run_case(direct: bool):
        monkeypatch.setattr(store, "DIRECT_ON_SQLITE", direct)
        with clock.frozen_at(at):
            case = h.hall.runtime.start(clerk, "parallel5", {"企业": "甲公司", "n": 2**70})
            h.complete(clerk, case.id, "accept", {"ok": True})
            h.complete(clerk, case.id, "r2", {"意见": "同意"})
            with store.reading(h.hall.bind) as st:
                page = read_page(st, case.id)
        return case.id, page

    def rows(case_id):
        with h.hall.bind.connect() as conn:
            def of(table, where):
                return [{k: v for k, v in r._mapping.items() if k not in drop}
                        for r in conn.execute(sa.select(table).where(where).order_by(table.c.id))]
            return (of(Case.__table__, Case.id == case_id), of(Task.__table__, Task.case_id == case_id),
                    of(Event.__table__, Event.case_id == case_id))

    def plain(page):
        c, tasks, events = page
        return ({k: v for k, v in vars(c).items() if k not in drop},
                [{k: v for k, v in vars(t).items() if k not in drop} for t in tasks],
                [{k: v for k, v in vars(e).items() if k not in drop} for e in events])

    direct_id, direct_page = run_case(True)
    execute_id, execute_page = run_case(False)
    assert plain(direct_page) == plain(execute_page)
    assert rows(direct_id)[1:] == rows(execute_id)[1:]
    (direct_case,), (execute_case,) = rows(direct_id)[0], rows(execute_id)[0]
    assert direct_case.pop("state") is not None and execute_case.pop("state") is not None
    assert direct_case == execute_case
    assert direct_page[0].data["n"] == 2**70 and direct_page[0].updated_at.tzinfo is not None


@pytest.mark.sqlite_only  # the direct statements are SQLite's alone
def test_a_statement_completed_at_run_time_is_refused_and_its_transaction_rolled_back(h):
    """A direct Store cannot run what SQLAlchemy completes at run time (an expanding IN):
    it says so instead of running something else, and the transaction writes nothing."""
    import sqlalchemy as sa

    from engine import clock
    from engine.models import Case
    from engine.store import transaction

    clerk = h.user("clerk", groups=["window", "gs", "gt", "dt", "zj"])
    h.deploy(DIAGRAMS / "parallel5.bpmn")
    case = h.hall.runtime.start(clerk, "parallel5", {})
    expanding = sa.select(Case.id).where(Case.id.in_(sa.bindparam("ids", expanding=True)))
    with pytest.raises(TypeError, match="completes at run time"), \
            transaction(h.hall.session, h.hall.bind) as st:
        st.set_next_timer(case.id, clock.now())
        st._run(expanding, {"ids": [case.id]})
    assert h.hall.runtime.case(case.id).next_timer_at is None


def test_a_savepoint_takes_back_its_block_alone(h):
    """What a savepoint's block wrote is undone when the block raises; what the transaction
    wrote before it, and after it, is kept."""
    from engine import clock
    from engine.store import transaction

    clerk = h.user("clerk", groups=["window", "gs", "gt", "dt", "zj"])
    h.deploy(DIAGRAMS / "parallel5.bpmn")
    kept, undone = (h.hall.runtime.start(clerk, "parallel5", {}) for _ in range(2))
    at = clock.now()
    with transaction(h.hall.session, h.hall.bind) as st:
        st.resolve_incidents(kept.id, at, "x", "retried")
        with pytest.raises(ValueError), st.savepoint():
            st.set_next_timer(undone.id, at)
            raise ValueError
        with st.savepoint():
            st.set_next_timer(kept.id, at)
    assert h.hall.runtime.case(undone.id).next_timer_at is None
    assert h.hall.runtime.case(kept.id).next_timer_at == at


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
    """What the engine writes as a time comes back the same moment, aware, in UTC, on either database."""
    import datetime as dt

    from engine import clock

    clerk = h.user("clerk", groups=["window", "gs", "gt", "dt", "zj"])
    h.deploy(DIAGRAMS / "parallel5.bpmn")
    at = dt.datetime(2026, 11, 29, 20, 0, 0, 123456, tzinfo=clock.HALL_TZ)
    with clock.frozen_at(at):
        case = h.hall.runtime.start(clerk, "parallel5", {})
    created = h.hall.runtime.case(case.id).created_at
    assert created == at and created.utcoffset() == dt.timedelta(0)
    [task] = h.hall.tasks.case_tasks(case.id)
    assert task.created_at == at and task.created_at.tzinfo is not None
