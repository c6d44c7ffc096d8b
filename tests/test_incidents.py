"""Incidents: a timer's follow-up that fails leaves its case at its last good state and is
tried again with back-off; when the tries run out it waits for a process owner, who
retries it, corrects the case's data with a reason, or terminates the case. A case parked in
'error' before incidents existed runs on with its incident (migration 0018)."""

import datetime as dt

import pytest

from engine import clock
from engine.errors import Conflict, EngineFailure, Forbidden, Invalid
from tests.conftest import DIAGRAMS

MONDAY = dt.datetime(2026, 11, 30, 9, 0, tzinfo=clock.HALL_TZ)


@pytest.fixture
def failing(h):
    clock.freeze(MONDAY)
    h.clerk = h.user("clerk", groups=["window"])
    h.keeper = h.user("keeper", roles=["process_owner"])
    h.deploy(DIAGRAMS / "failing_timer.bpmn")
    h.case = h.hall.runtime.start(h.clerk, "failing_timer", {"total": 10, "parts": 0})
    return h


def fire_at(h, at):
    clock.freeze(at)
    return h.hall.runtime.fire_due_timers()


def test_a_failing_step_is_tried_again_with_back_off_then_waits_for_a_person(failing):
    h = failing
    fire_at(h, MONDAY + dt.timedelta(hours=1, seconds=1))
    case = h.hall.runtime.case(h.case.id)
    assert case.status == "running" and h.open_tasks(case.id) == []  # at its last good state
    [incident] = h.hall.incidents.listing(h.keeper)
    i = incident.Incident
    assert (i.status, i.attempts, i.element_id) == ("retrying", 1, "share")
    assert i.data == {"total": 10, "parts": 0, "item": None, "channel": "online"}  # the data when it failed
    assert "division by zero" in i.message
    assert case.next_timer_at == i.next_retry_at == MONDAY + dt.timedelta(hours=1, minutes=1, seconds=1)
    for attempts, wait in ((2, dt.timedelta(minutes=5)), (3, dt.timedelta(minutes=30))):
        at = h.hall.runtime.case(h.case.id).next_timer_at
        assert fire_at(h, at) == 1
        i = h.hall.incidents.listing(h.keeper)[0].Incident
        assert (i.attempts, i.status, i.next_retry_at) == (attempts, "retrying", at + wait)
    fire_at(h, h.hall.runtime.case(h.case.id).next_timer_at)  # the last try
    i = h.hall.incidents.listing(h.keeper)[0].Incident
    assert (i.status, i.attempts, i.next_retry_at) == ("open", 4, None)
    assert h.hall.runtime.case(h.case.id).next_timer_at is None  # nobody's clock runs it again
    assert [e.detail["attempts"] for e in h.hall.runtime.events(h.case.id) if e.action == "incident"] == [1, 2, 3, 4]
    assert h.hall.incidents.counts() == {"failing_timer": 1}
    with pytest.raises(Forbidden):
        h.hall.incidents.listing(h.clerk)
    # retried as it is, it fails again and is open again
    h.hall.incidents.retry(h.keeper, i.id)
    assert fire_at(h, clock.now()) == 1
    assert h.hall.incidents.listing(h.keeper)[0].Incident.status == "open"


def test_a_correction_of_the_data_puts_the_case_right_and_is_in_its_history(failing):
    h = failing
    fire_at(h, MONDAY + dt.timedelta(hours=1, seconds=1))
    i = h.hall.incidents.listing(h.keeper)[0].Incident
    for changes, reason, field in (({}, "x", "data"), ({"__class__": 1}, "x", "data"), ({"parts": 2}, "", "reason")):
        with pytest.raises(Invalid) as e:
            h.hall.incidents.correct(h.keeper, i.id, changes, reason)
        assert field in e.value.extra["errors"]
    with pytest.raises(EngineFailure):  # still wrong: nothing changes, the error says why
        h.hall.incidents.correct(h.keeper, i.id, {"parts": "two"}, "按两个部门分摊")
    assert h.hall.runtime.case(h.case.id).data["parts"] == 0
    fixed = h.hall.incidents.correct(h.keeper, i.id, {"parts": 2}, "按两个部门分摊")
    assert (fixed.status, fixed.resolution, fixed.resolved_by) == ("resolved", "corrected", "keeper")
    case = h.hall.runtime.case(h.case.id)
    assert case.data["each"] == 5 and [t.element_id for t in h.open_tasks(case.id)] == ["review"]
    [e] = [e for e in h.hall.runtime.events(case.id) if e.action == "data_corrected"]
    assert e.detail == {"incident": i.id, "fields": ["parts"], "reason": "按两个部门分摊"}
    with pytest.raises(Conflict):
        h.hall.incidents.retry(h.keeper, i.id)  # resolved


def test_an_incident_that_cannot_be_put_right_ends_with_its_case(failing):
    h = failing
    fire_at(h, MONDAY + dt.timedelta(hours=1, seconds=1))
    i = h.hall.incidents.listing(h.keeper)[0].Incident
    with pytest.raises(Forbidden):
        h.hall.incidents.terminate(h.clerk, i.id, "x")
    h.hall.incidents.terminate(h.keeper, i.id, "无法分摊，终止")
    assert h.hall.runtime.case(h.case.id).status == "terminated"
    assert h.hall.incidents.listing(h.keeper) == []
    assert h.hall.incidents.listing(h.keeper, resolved=True)[0].Incident.resolution == "terminated"


def test_a_case_parked_in_error_before_incidents_runs_on_with_its_incident(failing, app):
    """Migration 0018: such a case kept its last good state; it is running again, and its
    failure is an open incident a person can retry."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from engine.models import Case
    from tests.conftest import HERE

    h = failing
    migrations = str(HERE.parent / "migrations")
    h.hall.session.remove()
    downgrade(directory=migrations, revision="0017")
    with h.hall.bind.begin() as conn:
        conn.execute(sa.update(Case.__table__).where(Case.__table__.c.id == h.case.id).values(
            status="error", error="分摊: ZeroDivisionError", next_timer_at=None))
    upgrade(directory=migrations)
    assert h.hall.runtime.case(h.case.id).status == "running"
    [row] = h.hall.incidents.listing(h.keeper)
    assert (row.Incident.status, row.Incident.message, row.number) == ("open", "分摊: ZeroDivisionError",
                                                                        h.case.number)
    h.hall.incidents.retry(h.keeper, row.Incident.id)
    assert h.hall.runtime.case(h.case.id).next_timer_at == clock.now()


def test_incidents_over_the_api(failing, client):
    h = failing
    fire_at(h, MONDAY + dt.timedelta(hours=1, seconds=1))
    assert client.get("/api/v1/incidents", headers=h.token("clerk")).status_code == 403
    [i] = client.get("/api/v1/incidents?process_id=failing_timer", headers=h.token("keeper")).get_json()
    assert (i["case_number"], i["element_id"], i["status"], i["attempts"]) == (h.case.number, "share", "retrying", 1)
    url = f"/api/v1/incidents/{i['id']}"
    r = client.post(f"{url}/correct", json={"data": {}, "reason": "x"}, headers=h.token("keeper"))
    assert r.status_code == 422 and "data" in r.get_json()["errors"]
    r = client.post(f"{url}/correct", json={"data": {"parts": "two"}, "reason": "x"}, headers=h.token("keeper"))
    assert r.status_code == 422 and "分摊" in r.get_json()["message"]  # still fails: the step is named
    r = client.post(f"{url}/correct", json={"data": {"parts": 5}, "reason": "按五个部门"}, headers=h.token("keeper"))
    assert r.status_code == 200 and r.get_json()["resolution"] == "corrected"
    assert client.post(f"{url}/retry", headers=h.token("keeper")).status_code == 409
    assert client.get(f"/api/v1/incidents?case_id={h.case.id}&resolved=true",
                      headers=h.token("keeper")).get_json()[0]["status"] == "resolved"
