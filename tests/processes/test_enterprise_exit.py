"""企业迁出挽留 (enterprise_exit): reported by 商务, analysed by 管理办 and 招商局 in parallel
(2 working days each), a meeting with the 常务副主任 within 5 working days (escalated to
管理办 when missed), then retained (recorded, follow-up visit 30 calendar days later, done
within 5 working days) or leaves (reasons recorded)."""

import datetime as dt

import pytest

from engine import clock
from engine.errors import Conflict, Forbidden, Invalid
from tests.conftest import PROCESSES

BPMN = PROCESSES / "enterprise_exit.bpmn"
TZ = clock.HALL_TZ


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


T0 = at(2026, 11, 30, 9, 0)  # a Monday
MEETING_DUE = at(2026, 12, 8, 17, 30)  # five working days after the analyses (Tuesday 1 Dec)


def report(**changes):
    return {
        "enterprise": {"name": "远航电子科技有限公司", "credit_code": "91320115MA1P4R7T2K", "annual_tax": 3200.0,
                       "annual_output": 56000.0, "employees": 1200},
        "destination": "苏州工业园区",
        "reasons": "用地扩张受限，外地给予土地和税收优惠",
        "urgency": "紧急",
        **changes,
    }


ANALYSIS = {"analysis": "企业扩产需用地80亩", "measures": "协调工业园区二期用地，兑现技改补贴"}
MEETING = {"met_on": "2026-12-03", "attendees": "常务副主任、管理办、招商局、企业董事长",
           "enterprise_demands": "解决用地和人才公寓", "commitments": "一个月内完成用地预审"}


@pytest.fixture
def people(h):
    clock.freeze(T0)
    h.deploy(BPMN)
    return {
        "commerce": h.user("shangwu", groups=["商务"]),
        "office": h.user("glb", groups=["管理办"], roles=["staff", "coordinator"]),
        "attraction": h.user("zsj", groups=["招商局"]),
        "director": h.user("fu", groups=["常务副主任"], roles=["staff", "director"]),
    }


def open_ids(h, case_id):
    return sorted(t.element_id for t in h.open_tasks(case_id))


def only_task(h, case_id):
    tasks = h.open_tasks(case_id)
    assert len(tasks) == 1, [t.element_id for t in tasks]
    return tasks[0]


def reported_and_analysed(h, p):
    """Started at T0 and both analyses done at T0 + 1 day: the meeting is open."""
    clock.freeze(T0)
    case = h.hall.runtime.start(p["commerce"], "enterprise_exit", report())
    clock.advance(dt.timedelta(days=1))
    h.complete(p["attraction"], case.id, "analyse_zhaoshang", {"zhaoshang": {**ANALYSIS, "contact": "招商局李科长"}})
    h.complete(p["office"], case.id, "analyse_guanliban", {"guanliban": {"analysis": "企业对审批效率有意见",
                                                                         "measures": "开通绿色通道"}})
    return case


def test_only_commerce_may_report(h, people):
    others = [people["office"], people["director"], h.user("clerk", groups=["内资窗口"]),
              h.user("qiye", roles=["applicant"])]
    for who in others:
        with pytest.raises(Forbidden):
            h.hall.runtime.start(who, "enterprise_exit", report())
    case = h.hall.runtime.start(people["commerce"], "enterprise_exit", report())
    case = h.hall.runtime.case(case.id)
    assert case.number.startswith("QC-20") and case.title == "远航电子科技有限公司"
    assert case.status == "running"


def test_retained_with_follow_up_visit_after_thirty_days(h, people):
    p = people
    clock.freeze(at(2026, 8, 31, 10))  # a Monday
    case = h.hall.runtime.start(p["commerce"], "enterprise_exit", report())
    # 管理办 and 招商局 work in parallel, each in its own inbox, two working days each
    tasks = {t.element_id: t for t in h.open_tasks(case.id)}
    assert set(tasks) == {"analyse_zhaoshang", "analyse_guanliban"}
    assert tasks["analyse_zhaoshang"].candidate_groups == ["招商局"]
    assert tasks["analyse_guanliban"].candidate_groups == ["管理办"]
    assert {t.due_at for t in tasks.values()} == {at(2026, 9, 2, 17, 30)}
    with pytest.raises(Forbidden):
        h.hall.tasks.complete(p["attraction"], tasks["analyse_guanliban"].id, {"guanliban": ANALYSIS})
    clock.advance(dt.timedelta(days=1))
    h.hall.tasks.complete(p["attraction"], tasks["analyse_zhaoshang"].id, {"zhaoshang": ANALYSIS})
    assert open_ids(h, case.id) == ["analyse_guanliban"]
    h.hall.tasks.complete(p["office"], tasks["analyse_guanliban"].id,
                          {"guanliban": {"analysis": "审批慢", "measures": "绿色通道"}})

    meeting = only_task(h, case.id)
    assert meeting.element_id == "meet_enterprise" and meeting.candidate_groups == ["常务副主任"]
    # five working days from Tuesday 1 September: the weekend does not count; the deadline
    # the director sees is the timer that will withdraw the meeting
    assert meeting.due_at == at(2026, 9, 8, 17, 30)
    assert h.hall.runtime.case(case.id).next_timer_at == meeting.due_at
    data = h.hall.tasks.visible_data(h.hall.tasks.get(p["director"], meeting.id))
    assert data["zhaoshang"]["measures"] == ANALYSIS["measures"] and data["guanliban"]["measures"] == "绿色通道"

    clock.advance(dt.timedelta(days=2))  # Thursday 3 September
    h.hall.tasks.complete(p["director"], meeting.id, {**MEETING, "outcome": "retained"})
    record = only_task(h, case.id)
    assert record.element_id == "record_retained" and record.candidate_groups == ["管理办"]
    h.hall.tasks.complete(p["office"], record.id, {"retention_agreement": "签订增资扩产协议",
                                                   "responsible": "管理办、国土分局"})

    # nothing to do until the follow-up visit is due: a month later, in calendar days (the
    # enterprise was promised a visit after a month; it falls on National Day, 3 October)
    assert h.open_tasks(case.id) == []
    h.hall.runtime.forget(case.id)
    assert h.hall.runtime.case(case.id).next_timer_at == at(2026, 10, 3, 10)
    clock.freeze(at(2026, 10, 3, 9, 59))
    assert h.hall.runtime.fire_due_timers() == 0 and h.open_tasks(case.id) == []
    clock.freeze(at(2026, 10, 3, 10, 0, 1))
    assert h.hall.runtime.fire_due_timers() == 1
    visit = only_task(h, case.id)
    assert visit.element_id == "follow_up_visit" and visit.candidate_groups == ["招商局"]
    # the visit itself has five working days: 8, 9, 10 (make-up Saturday), 12 and 13 October
    assert visit.due_at == at(2026, 10, 13, 17, 30)
    h.hall.tasks.complete(p["attraction"], visit.id, {"visited_on": "2026-10-09", "business_status": "正常经营",
                                                      "commitments_kept": True})

    case = h.hall.runtime.case(case.id)
    assert case.status == "completed"
    assert case.data["outcome"] == "retained" and case.data["business_status"] == "正常经营"
    assert case.data["zhaoshang"]["analysis"] == ANALYSIS["analysis"] and case.data["guanliban"]["analysis"] == "审批慢"
    assert "meeting_overdue" not in case.data
    events = h.hall.runtime.events(case.id)
    assert [e.element_id for e in events if e.action == "timer_fired"] == ["wait_follow_up"]
    assert [e.element_id for e in events if e.action == "completed"] == [
        "analyse_zhaoshang", "analyse_guanliban", "meet_enterprise", "record_retained", "follow_up_visit"]


def test_enterprise_leaves_and_the_reasons_are_recorded(h, people):
    p = people
    case = reported_and_analysed(h, p)
    h.complete(p["director"], case.id, "meet_enterprise", {**MEETING, "outcome": "leaving"})
    record = only_task(h, case.id)
    assert record.element_id == "record_departure" and record.candidate_groups == ["管理办"]
    h.hall.tasks.complete(p["office"], record.id, {"departure_reasons": "总部统一搬迁，无法挽留",
                                                   "lessons": "提前介入企业扩产需求"})
    case = h.hall.runtime.case(case.id)
    assert case.status == "completed" and case.data["outcome"] == "leaving"
    assert case.data["departure_reasons"] == "总部统一搬迁，无法挽留"
    assert case.next_timer_at is None
    created = [e.element_id for e in h.hall.runtime.events(case.id) if e.action == "task_created"]
    assert "record_retained" not in created and "follow_up_visit" not in created


def test_missed_meeting_deadline_escalates_to_the_management_office(h, people):
    p = people
    case = reported_and_analysed(h, p)
    meeting = only_task(h, case.id)
    assert meeting.due_at == MEETING_DUE
    clock.freeze(MEETING_DUE - dt.timedelta(seconds=1))
    assert h.hall.runtime.fire_due_timers() == 0
    clock.freeze(MEETING_DUE + dt.timedelta(seconds=1))
    h.hall.runtime.forget(case.id)  # from the stored state
    assert h.hall.runtime.fire_due_timers() == 1

    # the meeting is withdrawn; 管理办 must find out why and fix a new date
    with pytest.raises(Conflict):
        h.hall.tasks.complete(p["director"], meeting.id, {**MEETING, "outcome": "retained"})
    reschedule = only_task(h, case.id)
    assert reschedule.element_id == "reschedule_meeting" and reschedule.candidate_groups == ["管理办"]
    assert reschedule.due_at == at(2026, 12, 9, 17, 30)  # missed after closing: the next working day
    case_now = h.hall.runtime.case(case.id)
    assert case_now.data["meeting_overdue"] is True
    assert case_now.data["meeting_missed_at"].startswith("2026-12-08T17:30:01")
    events = h.hall.runtime.events(case.id)
    assert [(e.action, e.element_id) for e in events][-3:] == [
        ("timer_fired", "meeting_deadline"), ("task_cancelled", "meet_enterprise"),
        ("task_created", "reschedule_meeting")]
    assert [t.id for t in h.hall.tasks.inbox(p["office"])[0]] == [reschedule.id]

    h.hall.tasks.complete(p["office"], reschedule.id, {"overdue_reason": "副主任出差，企业负责人在外地",
                                                       "rescheduled_on": "2026-12-10"})
    h.hall.runtime.forget(case.id)
    overdue = only_task(h, case.id)
    assert overdue.element_id == "meet_enterprise_overdue" and overdue.name == "超期约谈企业（督办件）"
    assert overdue.candidate_groups == ["常务副主任"]
    assert overdue.due_at == dt.datetime(2026, 12, 10, 23, 59, 59, tzinfo=clock.HALL_TZ)
    seen = h.hall.tasks.visible_data(h.hall.tasks.get(p["director"], overdue.id))
    assert seen["meeting_overdue"] is True and seen["overdue_reason"] == "副主任出差，企业负责人在外地"

    h.hall.tasks.complete(p["director"], overdue.id, {**MEETING, "met_on": "2026-12-10", "outcome": "retained"})
    assert open_ids(h, case.id) == ["record_retained"]
    h.complete(p["office"], case.id, "record_retained",
               {"retention_agreement": "续签厂房租赁", "responsible": "管理办"})
    clock.advance(dt.timedelta(days=30, seconds=1))
    h.hall.runtime.fire_due_timers()
    h.complete(p["attraction"], case.id, "follow_up_visit", {"visited_on": "2027-01-10",
                                                             "business_status": "正常经营", "commitments_kept": True})
    case = h.hall.runtime.case(case.id)
    assert case.status == "completed" and case.data["meeting_overdue"] is True and case.data["met_on"] == "2026-12-10"


def test_meeting_on_time_clears_the_deadline(h, people):
    p = people
    case = reported_and_analysed(h, p)
    clock.freeze(MEETING_DUE - dt.timedelta(minutes=1))  # at the last minute
    h.complete(p["director"], case.id, "meet_enterprise", {**MEETING, "outcome": "leaving"})
    clock.freeze(MEETING_DUE + dt.timedelta(days=2))
    assert h.hall.runtime.fire_due_timers() == 0
    assert open_ids(h, case.id) == ["record_departure"]
    assert "timer_fired" not in [e.action for e in h.hall.runtime.events(case.id)]


def errors_of(call):
    with pytest.raises(Invalid) as e:
        call()
    return e.value.extra["errors"]


def test_form_errors_name_the_field(h, people):
    p = people
    start = h.hall.runtime.start
    bad = report(urgency="很急", reasons="")
    bad["enterprise"] = {**bad["enterprise"], "employees": "很多", "annual_tax": -1}
    del bad["destination"]
    errors = errors_of(lambda: start(p["commerce"], "enterprise_exit", bad))
    assert set(errors) == {"urgency", "reasons", "destination", "enterprise"}
    assert set(errors["enterprise"]) == {"employees", "annual_tax"}
    errors = errors_of(lambda: start(p["commerce"], "enterprise_exit", {**report(), "reporter": "x"}))
    assert set(errors) == {"reporter"}

    case = h.hall.runtime.start(p["commerce"], "enterprise_exit", report())
    errors = errors_of(lambda: h.complete(p["office"], case.id, "analyse_guanliban", {"guanliban": {"analysis": ""}}))
    assert set(errors["guanliban"]) == {"analysis", "measures"}
    errors = errors_of(lambda: h.complete(p["office"], case.id, "analyse_guanliban", {"zhaoshang": ANALYSIS}))
    assert set(errors) == {"guanliban", "zhaoshang"}
    h.complete(p["office"], case.id, "analyse_guanliban", {"guanliban": ANALYSIS})
    h.complete(p["attraction"], case.id, "analyse_zhaoshang", {"zhaoshang": ANALYSIS})
    errors = errors_of(lambda: h.complete(p["director"], case.id, "meet_enterprise",
                                          {**MEETING, "met_on": "下周一", "outcome": "undecided"}))
    assert set(errors) == {"met_on", "outcome"}
    errors = errors_of(lambda: h.complete(p["director"], case.id, "meet_enterprise", {"outcome": "retained"}))
    assert set(errors) == {"met_on", "attendees", "enterprise_demands"}
    h.complete(p["director"], case.id, "meet_enterprise", {**MEETING, "outcome": "retained"})
    errors = errors_of(lambda: h.complete(p["office"], case.id, "record_retained", {"retention_agreement": "x"}))
    assert set(errors) == {"responsible"}
    assert open_ids(h, case.id) == ["record_retained"]
