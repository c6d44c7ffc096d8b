"""Deadlines over the API and the calendar on the command line."""

import datetime as dt

import pytest

from engine import clock
from tests.conftest import DIAGRAMS

TZ = clock.HALL_TZ


@pytest.fixture
def setup(h, client):
    clock.freeze(dt.datetime(2026, 11, 30, 10, tzinfo=TZ))
    h.deploy(DIAGRAMS / "deadlines.bpmn")
    for name, groups, roles in [("clerk", ["window"], ["staff"]), ("dept", ["dept"], ["staff"]),
                                ("coord", ["管理办"], ["staff", "coordinator"]),
                                ("director", ["常务副主任"], ["staff", "director"]),
                                ("watch", [], ["supervisor"]), ("admin", [], ["admin"])]:
        h.user(name, groups=groups, roles=roles)
    case = client.post("/api/v1/cases", json={"process_id": "deadlines", "data": {"immediate": False}},
                       headers=h.token("clerk")).get_json()
    return h, client, case


def test_tasks_and_cases_show_their_deadlines(setup):
    h, client, case = setup
    task = case["open_tasks"][0]
    assert task["due_at"].startswith("2026-12-02T09:30") and task["warning"] == "none"
    assert case["due_at"].startswith("2026-12-07T09:30") and case["warning"] == "none"
    clock.freeze(dt.datetime(2026, 12, 2, 17, 31, tzinfo=TZ))
    h.hall.deadlines.sweep()
    got = client.get(f"/api/v1/tasks/{task['id']}", headers=h.token("clerk")).get_json()
    assert got["warning"] == "red" and got["escalation"] == 1
    clock.freeze(dt.datetime(2026, 12, 7, 9, tzinfo=TZ))
    assert client.get(f"/api/v1/cases/{case['id']}", headers=h.token("clerk")).get_json()["warning"] == "yellow"


def test_extend_escalate_reassign_note(setup):
    h, client, case = setup
    task_id = case["open_tasks"][0]["id"]
    url = f"/api/v1/tasks/{task_id}"
    assert client.post(url + "/extend", json={"workdays": 2, "reason": "补充核查"},
                       headers=h.token("clerk")).status_code == 403
    r = client.post(url + "/extend", json={"workdays": 0, "reason": ""}, headers=h.token("coord"))
    assert r.status_code == 422 and {"workdays", "reason"} <= set(r.get_json()["errors"])
    r = client.post(url + "/extend", json={"workdays": 2, "reason": "补充核查"}, headers=h.token("coord"))
    assert r.status_code == 200 and r.get_json()["open_tasks"][0]["due_at"].startswith("2026-12-04T09:30")
    escalated = client.post(url + "/escalate", json={"note": "请协调"}, headers=h.token("coord")).get_json()
    assert escalated["escalation"] == 2
    notes = client.get("/api/v1/notifications", headers=h.token("director")).get_json()
    assert [n["kind"] for n in notes] == ["escalated"] and "请协调" in notes[0]["message"]
    assert client.post("/api/v1/notifications/read", json={}, headers=h.token("director")).status_code == 204
    assert client.get("/api/v1/notifications?unread=1", headers=h.token("director")).get_json() == []
    r = client.post(url + "/reassign", json={"group": "nope"}, headers=h.token("coord"))
    assert r.status_code == 422 and "group" in r.get_json()["errors"]
    r = client.post(url + "/reassign", json={"group": "dept"}, headers=h.token("coord"))
    assert r.status_code == 200 and r.get_json()["candidate_groups"] == ["dept"]
    assert [t["id"] for t in client.get("/api/v1/tasks", headers=h.token("dept")).get_json()] == [task_id]
    r = client.post(f"/api/v1/cases/{case['id']}/notes", json={"text": "加快办理"}, headers=h.token("watch"))
    assert r.status_code == 201 and r.get_json()["events"][-1]["action"] == "supervision_note"
    assert client.post(f"/api/v1/cases/{case['id']}/notes", json={"text": "x"},
                       headers=h.token("clerk")).status_code == 403


def test_pause_resume_and_accountability(setup):
    h, client, case = setup
    url = f"/api/v1/cases/{case['id']}"
    r = client.post(url + "/pause", json={"reason": "检验检测"}, headers=h.token("clerk"))
    assert r.status_code == 200 and r.get_json()["paused_reason"] == "检验检测"
    assert client.post(url + "/pause", json={}, headers=h.token("clerk")).status_code == 422
    clock.freeze(dt.datetime(2026, 12, 2, 10, tzinfo=TZ))
    body = client.post(url + "/resume", headers=h.token("clerk")).get_json()
    assert body["paused_since"] is None and body["due_at"].startswith("2026-12-09T09:30")
    assert body["open_tasks"][0]["due_at"].startswith("2026-12-04T09:30")
    client.post(f"/api/v1/tasks/{case['open_tasks'][0]['id']}/extend", json={"workdays": 1, "reason": "复杂"},
                headers=h.token("coord"))
    rows = client.get("/api/v1/accountability", headers=h.token("watch")).get_json()
    assert [r["kind"] for r in rows] == ["extension"] and rows[0]["case_number"] == case["number"]
    assert client.get("/api/v1/accountability", headers=h.token("clerk")).status_code == 403
    csv_text = client.get("/api/v1/accountability.csv?kind=extension", headers=h.token("watch"))
    assert csv_text.status_code == 200 and "延期" in csv_text.get_data(as_text=True)


def test_the_calendar_over_the_api(setup):
    h, client, _case = setup
    assert client.get("/api/v1/calendar/2027", headers=h.token("admin")).get_json()["known"] is False
    r = client.put("/api/v1/calendar/days/2026-12-31", json={"workday": False, "note": "系统升级闭厅"},
                   headers=h.token("clerk"))
    assert r.status_code == 403
    assert client.put("/api/v1/calendar/days/2026-12-31", json={"workday": False, "note": "系统升级闭厅"},
                      headers=h.token("admin")).status_code == 204
    assert client.put("/api/v1/calendar/days/not-a-day", json={"workday": True},
                      headers=h.token("admin")).status_code == 422
    r = client.post("/api/v1/calendar/years/2027", json={"holidays": ["2027-01-01"], "workdays": []},
                    headers=h.token("admin"))
    assert r.status_code == 204
    got = client.get("/api/v1/calendar/2027", headers=h.token("admin")).get_json()
    assert got["known"] is True and got["overrides"] == [{"day": "2027-01-01", "workday": False}]


def test_calendar_on_the_command_line(app, h):
    runner = app.test_cli_runner()
    r = runner.invoke(args=["calendar", "show", "2027"])
    assert r.exit_code == 0 and "2027 is not entered yet" in r.output
    # for now Monday to Friday less the statutory holidays: Spring Festival from its eve, Fri 5 Feb
    assert r.output.splitlines()[2].startswith("2027-02 ····休休休休····休休")
    r = runner.invoke(args=["calendar", "publish", "2027", "--holidays", "2027-01-01,2027-02-06..2027-02-12",
                            "--workdays", "2027-01-30"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["calendar", "show", "2027"])
    assert r.exit_code == 0 and r.output.splitlines()[1].startswith("2027-02 ·····闭闭闭闭闭闭闭")
    r = runner.invoke(args=["calendar", "set", "2026-12-31", "--closed", "--note", "闭厅"])
    assert r.exit_code == 0
    from engine import calendar

    assert calendar.current().is_workday(dt.date(2026, 12, 31)) is False


def test_coordination_refuses_what_cannot_be(setup):
    """A finished task cannot be escalated or extended (409); a task goes only to someone who
    may work it (an applicant only within their own groups); someone outside a task's groups
    cannot unclaim it; what people write is cut to what is kept, or refused by name."""
    h, client, case = setup
    h.user("ann", groups=["申请人"], roles=["applicant"])
    task_id = case["open_tasks"][0]["id"]
    url = f"/api/v1/tasks/{task_id}"
    r = client.post(url + "/assign", json={"username": "ann"}, headers=h.token("coord"))
    assert r.status_code == 422 and "username" in r.get_json()["errors"]
    assert client.post(url + "/unclaim", headers=h.token("dept")).status_code == 403
    assert client.post(url + "/unclaim", headers=h.token("clerk")).status_code == 200

    r = client.post(f"/api/v1/cases/{case['id']}/pause", json={"reason": "听" * 129}, headers=h.token("coord"))
    assert r.status_code == 422 and "reason" in r.get_json()["errors"]
    r = client.put("/api/v1/calendar/days/2026-12-31", json={"workday": False, "note": "n" * 129},
                   headers=h.token("admin"))
    assert r.status_code == 422 and "note" in r.get_json()["errors"]
    long_note = "请协调" * 400  # within what a note may be, longer than a notification holds
    assert client.post(url + "/escalate", json={"note": long_note}, headers=h.token("coord")).status_code == 200
    message = client.get("/api/v1/notifications", headers=h.token("director")).get_json()[0]["message"]
    assert len(message) == 512 and message.endswith("…")

    other = client.post("/api/v1/cases", json={"process_id": "deadlines", "data": {"immediate": False}},
                        headers=h.token("clerk")).get_json()
    for foreign in (other["open_tasks"][0]["id"], 424242):
        r = client.post(f"/api/v1/cases/{case['id']}/notes", json={"text": "t", "task_id": foreign},
                        headers=h.token("coord"))
        assert r.status_code == 422 and "task_id" in r.get_json()["errors"]
    r = client.post(url + "/complete", json={"data": {"decision": "accept"}}, headers=h.token("clerk"))
    assert r.status_code == 200
    assert client.post(url + "/escalate", json={"note": "x"}, headers=h.token("coord")).status_code == 409
    r = client.post(url + "/extend", json={"workdays": 1, "reason": "r"}, headers=h.token("coord"))
    assert r.status_code == 409


def test_a_deadline_is_not_extended_past_the_last_day_counted(h, client):
    """Extensions add up; none may carry a deadline past 2199, where the calendar's
    arithmetic (and every recount after a calendar change) would have to follow it."""
    clock.freeze(dt.datetime(2199, 11, 2, 10, tzinfo=TZ))
    try:
        h.deploy(DIAGRAMS / "deadlines.bpmn")
        h.user("clerk", groups=["window"])
        h.user("coord", groups=["管理办"], roles=["staff", "coordinator"])
        case = client.post("/api/v1/cases", json={"process_id": "deadlines", "data": {"immediate": False}},
                           headers=h.token("clerk")).get_json()
        url = f"/api/v1/tasks/{case['open_tasks'][0]['id']}/extend"
        r = client.post(url, json={"workdays": 60, "reason": "r"}, headers=h.token("coord"))
        assert r.status_code == 422 and "workdays" in r.get_json()["errors"]
        assert client.post(url, json={"workdays": 5, "reason": "r"}, headers=h.token("coord")).status_code == 200
    finally:
        clock.freeze(None)
