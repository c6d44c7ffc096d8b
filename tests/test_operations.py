"""Running the hall: a coordinator terminates (终止) a case with a reason, or suspends (挂起)
and activates it again. Terminated, its tasks and timers end and the history keeps why; suspended,
none of its tasks is worked and none of its timers fires, and what fell due meanwhile fires
once as it goes on (恢复办理)."""

import datetime as dt

import pytest

from engine import clock
from engine.errors import Conflict, Forbidden, Invalid
from tests.conftest import DIAGRAMS

MONDAY = dt.datetime(2026, 11, 30, 9, 0, tzinfo=clock.HALL_TZ)


@pytest.fixture
def ops(h):
    clock.freeze(MONDAY)
    h.clerk = h.user("clerk", groups=["window"])
    h.coord = h.user("coord", groups=["coord"], roles=["staff", "coordinator"])
    h.deploy(DIAGRAMS / "timers.bpmn")
    h.case = h.hall.runtime.start(h.clerk, "timers", {})
    return h


def open_ids(h, case_id):
    return sorted(t.element_id for t in h.open_tasks(case_id))


def test_a_coordinator_terminates_a_case_with_a_reason_and_it_stays_so(ops):
    h = ops
    with pytest.raises(Forbidden):
        h.hall.runtime.terminate(h.clerk, h.case.id, "不需要了")
    for reason in (None, "", "  ", "长" * 501):
        with pytest.raises(Invalid) as e:
            h.hall.runtime.terminate(h.coord, h.case.id, reason)
        assert "reason" in e.value.extra["errors"]
    assert h.hall.runtime.case(h.case.id).status == "running"  # nothing half done
    case = h.hall.runtime.terminate(h.coord, h.case.id, "企业已注销，申请事项不再办理")
    assert (case.status, case.ended_at, case.next_timer_at) == ("terminated", MONDAY, None)
    assert h.open_tasks(h.case.id) == []
    [event] = [e for e in h.hall.runtime.events(h.case.id) if e.action == "terminated"]
    assert (event.actor, event.detail) == ("coord", {"reason": "企业已注销，申请事项不再办理"})
    with pytest.raises(Conflict):  # seen, not undone
        h.hall.runtime.terminate(h.coord, h.case.id, "again")
    with pytest.raises(Conflict):
        h.hall.runtime.activate(h.coord, h.case.id)
    clock.advance(dt.timedelta(days=2))
    assert h.hall.runtime.fire_due_timers() == 0


def test_a_suspended_case_is_not_worked_and_its_timers_wait_then_fire_once_when_it_goes_on(ops):
    h = ops
    [review] = h.open_tasks(h.case.id)
    with pytest.raises(Forbidden):
        h.hall.runtime.suspend(h.clerk, h.case.id, "待核查")
    case = h.hall.runtime.suspend(h.coord, h.case.id, "待公安核查身份")
    assert case.suspended_at == MONDAY and case.suspended_reason == "待公安核查身份" and case.next_timer_at is None
    with pytest.raises(Conflict):
        h.hall.runtime.suspend(h.coord, h.case.id, "again")
    with pytest.raises(Conflict) as e:  # no task of it is worked
        h.hall.tasks.complete(h.clerk, review.id, {})
    assert "suspended" in e.value.message
    clock.advance(dt.timedelta(hours=1, minutes=30))  # the one-hour reminder falls due meanwhile
    assert h.hall.runtime.fire_due_timers() == 0
    assert open_ids(h, h.case.id) == ["review"]
    case = h.hall.runtime.activate(h.coord, h.case.id)
    assert case.suspended_at is None and open_ids(h, h.case.id) == ["review", "urge"]  # fired, once
    assert case.next_timer_at == MONDAY + dt.timedelta(hours=2)  # the next one waits its time
    with pytest.raises(Conflict):
        h.hall.runtime.activate(h.coord, h.case.id)
    actions = [e.action for e in h.hall.runtime.events(h.case.id)]
    assert actions == ["started", "task_created", "suspended", "activated", "task_created"]  # the reminder, once
    h.hall.tasks.complete(h.clerk, review.id, {})  # worked again


def test_a_suspended_case_may_be_terminated(ops):
    h = ops
    h.hall.runtime.suspend(h.coord, h.case.id, "待核查")
    case = h.hall.runtime.terminate(h.coord, h.case.id, "核查不通过")
    assert case.status == "terminated" and h.open_tasks(h.case.id) == []


def test_terminate_suspend_and_resume_over_the_api(client, ops):
    h = ops
    url = f"/api/v1/cases/{h.case.id}"
    assert client.post(f"{url}/suspend", json={"reason": "x"}, headers=h.token("clerk")).status_code == 403
    r = client.post(f"{url}/suspend", json={}, headers=h.token("coord"))
    assert r.status_code == 422 and "reason" in r.get_json()["errors"]
    r = client.post(f"{url}/suspend", json={"reason": "待核查"}, headers=h.token("coord"))
    assert r.status_code == 200 and r.get_json()["suspended_reason"] == "待核查"
    assert client.post(f"{url}/activate", headers=h.token("coord")).get_json()["suspended_at"] is None
    r = client.post(f"{url}/terminate", json={"reason": "重复申报"}, headers=h.token("coord"))
    assert r.status_code == 200 and r.get_json()["status"] == "terminated"
    assert client.post(f"{url}/terminate", json={"reason": "again"}, headers=h.token("coord")).status_code == 409
