import datetime as dt

import pytest

from engine import clock
from engine.errors import Conflict
from tests.conftest import DIAGRAMS


def _setup(h):
    clerk = h.user("clerk", groups=["window"])
    h.user("coord", groups=["coord"], roles=["coordinator"])
    h.deploy(DIAGRAMS / "timers.bpmn")
    return clerk


def test_non_interrupting_timer_creates_follow_up_and_interrupting_timer_cancels(h):
    clerk = _setup(h)
    clock.freeze(dt.datetime(2026, 11, 30, 9, 0, tzinfo=clock.HALL_TZ))
    case = h.hall.runtime.start(clerk, "timers", {})
    review = h.open_tasks(case.id, "review")[0]
    assert review.due_at == dt.datetime(2026, 12, 2, 9, 0, tzinfo=clock.HALL_TZ)
    assert h.hall.runtime.case(case.id).next_timer_at == dt.datetime(2026, 11, 30, 10, 0, tzinfo=clock.HALL_TZ)
    assert h.hall.runtime.fire_due_timers() == 0
    clock.advance(dt.timedelta(hours=1, seconds=1))
    assert h.hall.runtime.fire_due_timers() == 1
    assert sorted(t.element_id for t in h.open_tasks(case.id)) == ["review", "urge"]
    clock.advance(dt.timedelta(hours=1))
    h.hall.runtime.fire_due_timers()
    assert [t.element_id for t in h.open_tasks(case.id)] == ["urge"]
    actions = [e.action for e in h.hall.runtime.events(case.id)]
    assert actions.count("timer_fired") == 2 and "task_cancelled" in actions


def test_intermediate_timer_then_message(h):
    clerk = _setup(h)
    clock.freeze(dt.datetime(2026, 11, 30, 9, 0, tzinfo=clock.HALL_TZ))
    case = h.hall.runtime.start(clerk, "timers", {})
    h.complete(clerk, case.id, "review", {"ok": True})
    case = h.hall.runtime.case(case.id)
    assert case.next_timer_at == dt.datetime(2026, 12, 1, 9, 0, tzinfo=clock.HALL_TZ)
    clock.advance(dt.timedelta(days=1, seconds=1))
    h.hall.runtime.fire_due_timers()
    case = h.hall.runtime.case(case.id)
    assert case.next_timer_at is None and not h.open_tasks(case.id)
    h.hall.runtime.message(clerk, case.id, "补正材料", {"materials": ["营业执照"]})
    assert [t.element_id for t in h.open_tasks(case.id)] == ["final"]
    data = h.hall.runtime.case(case.id).data
    assert data["补正材料"] == {"materials": ["营业执照"]} and "materials" not in data  # never merged


def _gateway_case(h, bank):
    clerk = h.user("clerk", groups=["window"])
    h.deploy(DIAGRAMS / "gateways.bpmn")
    clock.freeze(dt.datetime(2026, 11, 30, 9, 0, tzinfo=clock.HALL_TZ))
    case = h.hall.runtime.start(clerk, "gateways", {"bank": bank})
    return clerk, case


def test_inclusive_gateway_takes_unconditioned_flows_and_matching_ones(h):
    clerk, case = _gateway_case(h, bank=True)
    assert sorted(t.element_id for t in h.open_tasks(case.id)) == ["always", "bank"]
    h.complete(clerk, case.id, "always", {})
    assert [t.element_id for t in h.open_tasks(case.id)] == ["bank"]  # the join waits for the bank
    h.complete(clerk, case.id, "bank", {})
    assert h.hall.runtime.case(case.id).next_timer_at is not None


def test_event_based_gateway_message_wins(h):
    clerk, case = _gateway_case(h, bank=False)
    assert [t.element_id for t in h.open_tasks(case.id)] == ["always"]
    h.complete(clerk, case.id, "always", {})
    assert h.hall.runtime.case(case.id).next_timer_at == dt.datetime(2026, 12, 15, 9, 0, tzinfo=clock.HALL_TZ)
    h.hall.runtime.message(clerk, case.id, "好差评", {"rating": 5})
    case = h.hall.runtime.case(case.id)
    assert case.status == "completed" and case.data["好差评"] == {"rating": 5}
    assert [(e.action, e.element_id) for e in h.hall.runtime.events(case.id)][-1] == ("ended", "rated")


def test_event_based_gateway_timer_wins(h):
    clerk, case = _gateway_case(h, bank=False)
    h.complete(clerk, case.id, "always", {})
    clock.advance(dt.timedelta(days=15, seconds=1))
    assert h.hall.runtime.fire_due_timers() == 1
    events = [(e.action, e.element_id) for e in h.hall.runtime.events(case.id)]
    assert ("timer_fired", "evgw") in events and events[-1] == ("ended", "unrated")
    with pytest.raises(Conflict):
        h.hall.runtime.message(clerk, case.id, "好差评", {"rating": 5})


@pytest.mark.sqlite_only  # PostgreSQL has no database-wide write lock to wait for
def test_idle_scheduler_polls_do_not_wait_for_the_write_lock(h, app):
    """Twice a second the scheduler asks whether a timer or an alert is due. On SQLite, asking
    inside a write transaction would queue behind (and hold up) every person's action; with
    nothing due it must answer from a plain read, even while someone else holds the lock."""
    import sqlite3
    import time

    clerk = _setup(h)
    clock.freeze(dt.datetime(2026, 11, 30, 9, 0, tzinfo=clock.HALL_TZ))
    h.hall.runtime.start(clerk, "timers", {})  # a timer due at 10:00, an alert later
    other = sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"), isolation_level=None)
    other.execute("PRAGMA busy_timeout=0")
    other.execute("BEGIN IMMEDIATE")  # someone else is writing
    try:
        t0 = time.monotonic()
        assert h.hall.runtime.fire_due_timers() == 0
        assert h.hall.deadlines.sweep() == 0
        assert time.monotonic() - t0 < 2  # not the 30 s busy timeout
    finally:
        other.execute("ROLLBACK")
        other.close()
