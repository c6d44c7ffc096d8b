"""会审会 (joint_review): the lead window convenes, the meeting timer waits for the meeting
(a date), each participating department's chief representative records an opinion (no
answer by the close of office hours on the meeting day = deemed to agree), then decision
(1 working day; a rejection is recorded for accountability), minutes (3 working days) and
follow-up items that 管理办 tracks to completion."""

import datetime as dt

import pytest

from engine import clock
from engine.errors import Conflict, Forbidden, Invalid
from tests.conftest import PROCESSES

TZ = clock.HALL_TZ


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


NOW = at(2026, 11, 27, 10, 0)  # a Friday
MEETING = at(2026, 12, 1, 9, 30)  # the Tuesday after
REPLY_BY = at(2026, 12, 1, 17, 30)  # the close of office hours on the meeting day

# --- helpers ------------------------------------------------------------------------------

@pytest.fixture
def p(h):
    clock.freeze(NOW)
    h.deploy(PROCESSES / "joint_review.bpmn")
    return {
        "window": h.user("nz", groups=["内资窗口"]),
        "other_window": h.user("wz", groups=["外资窗口"]),
        "gs": h.user("gs", groups=["工商"]),
        "gt": h.user("gt", groups=["国税"]),
        "zj": h.user("zj", groups=["质监"]),
        "office": h.user("glb", groups=["管理办"], roles=["staff", "coordinator"]),
        "applicant": h.user("qiye", groups=["申请人"], roles=["applicant"]),
        "watch": h.user("jiancha", roles=["supervisor"]),
    }


def convene(h, who, **over):
    data = {
        "subject": "某外资企业增资扩产项目会审",
        "related_case": "BL-20261125-00012",
        "lead_window": "内资窗口",
        "departments": ["工商", "国税", "质监"],
        "meeting_at": "2026-12-01T09:30:00",
        "place": "三楼会审室",
        "materials": ["项目申请报告", "环评批复"],
    }
    data.update(over)
    return h.hall.runtime.start(who, "joint_review", data)


def opinion_tasks(h, case_id):
    return {t.candidate_groups[0]: t for t in h.open_tasks(case_id, "record_opinion")}


def open_elements(h, case_id):
    return sorted(t.element_id for t in h.open_tasks(case_id))


def meet(h, case):
    """The meeting time comes: the timer fires and the departments' tasks open."""
    clock.freeze(MEETING + dt.timedelta(seconds=1))
    assert h.hall.runtime.fire_due_timers() == 1
    return opinion_tasks(h, case.id)


def seen_by(h, actor, task):
    """The case data the actor is shown with the task (its visibleData)."""
    return h.hall.tasks.visible_data(h.hall.tasks.get(actor, task.id))


def review_of(data, dept):
    return next(r for r in data["reviews"] if r["dept"] == dept)


def errors_of(excinfo):
    return excinfo.value.extra["errors"]


# --- the meeting --------------------------------------------------------------------------

def test_meeting_timer_waits_until_meeting_at(h, p):
    case = convene(h, p["window"])
    assert case.number.startswith("HS-20261127-")
    row = h.hall.runtime.case(case.id)
    assert row.title == "某外资企业增资扩产项目会审" and row.status == "running"
    assert row.next_timer_at == MEETING
    assert h.open_tasks(case.id) == []  # nobody has anything to do before the meeting

    clock.freeze(MEETING - dt.timedelta(minutes=1))
    assert h.hall.runtime.fire_due_timers() == 0
    assert h.open_tasks(case.id) == []

    tasks = meet(h, case)
    assert sorted(tasks) == ["国税", "工商", "质监"]
    assert all(t.name == "出具会审意见" and t.due_at == REPLY_BY for t in tasks.values())
    assert h.hall.runtime.case(case.id).next_timer_at == REPLY_BY
    events = h.hall.runtime.events(case.id)
    fired = [e for e in events if e.action == "timer_fired"]
    assert [e.element_id for e in fired] == ["wait_for_meeting"]

    # each department sees the meeting, not the others' opinions
    seen = seen_by(h, p["gs"], tasks["工商"])
    assert seen["subject"] == "某外资企业增资扩产项目会审" and seen["place"] == "三楼会审室"
    assert "reviews" not in seen

    # a department works only its own task
    with pytest.raises(Forbidden):
        h.hall.tasks.complete(p["gs"], tasks["国税"].id, {"position": "agree"})


def test_opinion_form_errors(h, p):
    case = convene(h, p["window"])
    tasks = meet(h, case)
    gs_task = tasks["工商"].id
    for data, field in [
        ({}, "position"),
        ({"position": "maybe"}, "position"),
        ({"position": "disagree"}, "opinion"),
        ({"position": "conditional", "opinion": "  "}, "opinion"),
        ({"position": "agree", "signature": "x"}, "signature"),
    ]:
        with pytest.raises(Invalid) as e:
            h.hall.tasks.complete(p["gs"], gs_task, data)
        assert field in errors_of(e), (data, errors_of(e))
    assert len(h.open_tasks(case.id, "record_opinion")) == 3  # nothing was recorded


def test_all_departments_agree_without_follow_ups(h, p):
    case = convene(h, p["window"])
    tasks = meet(h, case)
    h.hall.tasks.complete(p["gs"], tasks["工商"].id, {"position": "agree"})
    h.hall.tasks.complete(p["gt"], tasks["国税"].id, {"position": "agree", "opinion": "无意见"})
    assert open_elements(h, case.id) == ["record_opinion"]
    h.hall.tasks.complete(p["zj"], tasks["质监"].id, {"position": "agree"})

    decide = h.open_tasks(case.id, "decide")
    assert [t.candidate_groups for t in decide] == [["内资窗口"]]
    assert decide[0].due_at == at(2026, 12, 2, 17, 30)  # decided within one working day
    seen = seen_by(h, p["window"], decide[0])
    assert seen["all_agreed"] is True and seen["objections"] == [] and seen["deemed_depts"] == []
    assert [(r["dept"], r["position"], r["deemed"]) for r in seen["reviews"]] == [
        ("工商", "agree", False), ("国税", "agree", False), ("质监", "agree", False)]
    assert review_of(seen, "国税")["opinion"] == "无意见"

    with pytest.raises(Forbidden):  # only the lead window decides
        h.complete(p["other_window"], case.id, "decide", {"decision": "approved"})
    h.complete(p["window"], case.id, "decide", {"decision": "approved"})
    assert open_elements(h, case.id) == ["record_minutes"]
    assert h.open_tasks(case.id, "record_minutes")[0].due_at == at(2026, 12, 4, 17, 30)  # three working days
    h.complete(p["window"], case.id, "record_minutes", {"minutes": "与会部门一致同意。", "attendees": ["张三", "李四"]})

    row = h.hall.runtime.case(case.id)
    assert row.status == "completed"
    assert row.data["decision"] == "approved" and row.data["follow_ups"] == []
    actions = [(e.action, e.element_id) for e in h.hall.runtime.events(case.id)]
    assert ("task_created", "track_follow_ups") not in actions
    assert actions[-1] == ("ended", "review_closed")
    assert h.hall.deadlines.accountability(p["watch"])[1] == 0  # approved: nothing to account for


def test_one_department_disagrees_and_the_decision_sees_it(h, p):
    case = convene(h, p["window"])
    tasks = meet(h, case)
    h.hall.tasks.complete(p["gs"], tasks["工商"].id, {"position": "agree"})
    h.hall.tasks.complete(p["gt"], tasks["国税"].id, {"position": "disagree", "opinion": "历史欠税未清，不同意增资"})
    h.hall.tasks.complete(p["zj"], tasks["质监"].id, {"position": "conditional", "opinion": "特种设备须先行检验"})

    decide = h.open_tasks(case.id, "decide")[0]
    seen = seen_by(h, p["window"], decide)
    assert seen["all_agreed"] is False
    assert seen["objections"] == ["国税"] and seen["conditional_depts"] == ["质监"]
    assert review_of(seen, "国税") | {"answered_at": None} == {
        "dept": "国税", "position": "disagree", "opinion": "历史欠税未清，不同意增资", "deemed": False,
        "answered_at": None}

    for data, field in [({}, "decision"), ({"decision": "rejected"}, "decision_note"),
                        ({"decision": "conditional", "decision_note": ""}, "decision_note"),
                        ({"decision": "通过"}, "decision")]:
        with pytest.raises(Invalid) as e:
            h.complete(p["window"], case.id, "decide", data)
        assert field in errors_of(e)
    h.complete(p["window"], case.id, "decide", {"decision": "rejected", "decision_note": "国税部门不同意，暂缓增资"})
    # the rejection is on the supervisor's accountability list with its reason
    [row] = h.hall.deadlines.accountability(p["watch"])[0]
    assert (row.kind, row.person, row.reason, row.case_id) == ("rejection", "nz", "国税部门不同意，暂缓增资", case.id)
    with pytest.raises(Invalid) as e:
        h.complete(p["window"], case.id, "record_minutes", {"minutes": ""})
    assert "minutes" in errors_of(e)
    h.complete(p["window"], case.id, "record_minutes", {"minutes": "国税不同意，会审不通过。"})
    row = h.hall.runtime.case(case.id)
    assert row.status == "completed" and row.data["decision"] == "rejected"
    assert row.data["objections"] == ["国税"]


def test_absent_department_is_deemed_to_agree_when_the_day_ends(h, p):
    case = convene(h, p["window"])
    tasks = meet(h, case)
    h.hall.tasks.complete(p["gs"], tasks["工商"].id, {"position": "agree"})
    h.hall.tasks.complete(p["gt"], tasks["国税"].id, {"position": "conditional", "opinion": "补充税务登记证明"})

    clock.freeze(REPLY_BY - dt.timedelta(seconds=1))  # still the meeting day: 质监 may answer
    assert h.hall.runtime.fire_due_timers() == 0
    assert open_elements(h, case.id) == ["record_opinion"]

    clock.freeze(REPLY_BY + dt.timedelta(seconds=1))
    assert h.hall.runtime.fire_due_timers() == 1
    assert open_elements(h, case.id) == ["decide"]
    assert h.open_tasks(case.id, "decide")[0].due_at == at(2026, 12, 2, 17, 30)
    data = h.hall.runtime.case(case.id).data
    assert review_of(data, "质监") == {"dept": "质监", "position": "agree", "opinion": "逾期未答复，视为同意",
                                      "deemed": True, "answered_at": None}
    assert review_of(data, "工商")["deemed"] is False and review_of(data, "国税")["position"] == "conditional"
    assert data["deemed_depts"] == ["质监"] and data["conditional_depts"] == ["国税"]

    events = [(e.action, e.element_id) for e in h.hall.runtime.events(case.id)]
    assert ("timer_fired", "reply_deadline") in events
    assert ("task_cancelled", "record_opinion") in events
    with pytest.raises(Conflict):  # the late department's task is gone
        h.hall.tasks.complete(p["zj"], tasks["质监"].id, {"position": "disagree", "opinion": "迟到的意见"})


@pytest.mark.parametrize(("meeting_at", "reply_by"), [
    ("2026-10-10T09:30:00", at(2026, 10, 10, 17, 30)),  # the make-up working Saturday after National Day
    ("2026-10-11T10:00:00", at(2026, 10, 12, 17, 30)),  # a Sunday meeting: the next working day
    ("2026-10-12T18:30:00", at(2026, 10, 13, 17, 30)),  # after office hours: the next working day
    ("2026-10-02T09:30:00", at(2026, 10, 8, 17, 30)),   # during the National Day holiday
])
def test_the_reply_deadline_is_the_close_of_the_meeting_working_day(h, p, meeting_at, reply_by):
    clock.freeze(at(2026, 9, 28, 10))
    case = convene(h, p["window"], departments=["工商", "质监"], meeting_at=meeting_at)
    start = dt.datetime.fromisoformat(meeting_at).replace(tzinfo=TZ)
    assert h.hall.runtime.case(case.id).next_timer_at == start
    clock.freeze(start + dt.timedelta(seconds=1))
    assert h.hall.runtime.fire_due_timers() == 1
    assert {t.due_at for t in h.open_tasks(case.id, "record_opinion")} == {reply_by}
    clock.freeze(reply_by - dt.timedelta(seconds=1))
    assert h.hall.runtime.fire_due_timers() == 0
    clock.freeze(reply_by + dt.timedelta(seconds=1))
    assert h.hall.runtime.fire_due_timers() == 1
    assert h.hall.runtime.case(case.id).data["deemed_depts"] == ["工商", "质监"]


def test_nobody_answers_everyone_deemed_to_agree(h, p):
    case = convene(h, p["window"], departments=["公安"])
    meet(h, case)
    clock.freeze(REPLY_BY + dt.timedelta(seconds=1))
    h.hall.runtime.fire_due_timers()
    data = h.hall.runtime.case(case.id).data
    assert data["all_agreed"] is True and data["deemed_depts"] == ["公安"]
    assert open_elements(h, case.id) == ["decide"]


def test_follow_up_items_are_tracked_by_management_office_until_done(h, p):
    case = convene(h, p["window"], lead_window="外资窗口", departments=["工商"])
    tasks = meet(h, case)
    h.hall.tasks.complete(p["gs"], tasks["工商"].id, {"position": "agree"})
    h.complete(p["other_window"], case.id, "decide",
               {"decision": "conditional", "decision_note": "补齐环评后准予办理"})
    assert h.hall.deadlines.accountability(p["watch"])[1] == 0  # conditional approval is not a rejection

    bad_minutes = {"minutes": "有条件通过。", "follow_ups": [{"item": "补齐环评报告", "owner": "工商"}]}
    with pytest.raises(Invalid) as e:
        h.complete(p["other_window"], case.id, "record_minutes", bad_minutes)
    assert "deadline" in errors_of(e)["follow_ups"][0]
    h.complete(p["other_window"], case.id, "record_minutes", {"minutes": "有条件通过。", "follow_ups": [
        {"item": "补齐环评报告", "owner": "工商", "deadline": "2026-12-10"},
        {"item": "复核税务登记", "owner": "国税", "deadline": "2026-12-15"},
    ]})

    track = h.open_tasks(case.id, "track_follow_ups")
    assert [t.candidate_groups for t in track] == [["管理办"]]
    assert track[0].due_at == dt.datetime(2026, 12, 15, 23, 59, 59, tzinfo=clock.HALL_TZ)
    with pytest.raises(Invalid) as e:
        h.complete(p["office"], case.id, "track_follow_ups", {"progress": "环评已补齐"})
    assert "all_done" in errors_of(e)
    h.complete(p["office"], case.id, "track_follow_ups", {"progress": "环评已补齐，税务复核中", "all_done": False})
    assert open_elements(h, case.id) == ["track_follow_ups"]  # back to 管理办 until everything is done
    h.complete(p["office"], case.id, "track_follow_ups", {"progress": "全部落实", "all_done": True})

    row = h.hall.runtime.case(case.id)
    assert row.status == "completed"
    assert [f["item"] for f in row.data["follow_ups"]] == ["补齐环评报告", "复核税务登记"]
    assert row.data["progress"] == "全部落实"
    completed = [e.element_id for e in h.hall.runtime.events(case.id) if e.action == "completed"]
    assert completed.count("track_follow_ups") == 2


# --- starting -----------------------------------------------------------------------------

def test_who_may_convene(h, p):
    with pytest.raises(Forbidden):
        convene(h, p["applicant"])
    with pytest.raises(Forbidden):
        convene(h, p["gs"])  # a department does not convene; a window or 管理办 does
    assert convene(h, p["office"], lead_window="管理办").status == "running"


def test_convene_form_errors(h, p):
    for over, field in [
        ({"subject": ""}, "subject"),
        ({"departments": []}, "departments"),
        ({"departments": ["工商", "工商"]}, "departments"),
        ({"departments": ["税务局"]}, "departments"),
        ({"lead_window": "工商"}, "lead_window"),
        ({"meeting_at": "下周一"}, "meeting_at"),
        ({"meeting_at": "2026-11-26T09:00:00"}, "meeting_at"),  # already past
        ({"meeting_at": "9999-12-31T23:59:59-12:00"}, "meeting_at"),  # no deadline counts from there
        ({"related_case": "12345"}, "related_case"),
        ({"place": None}, "place"),
        ({"chairman": "王主任"}, "chairman"),
    ]:
        with pytest.raises(Invalid) as e:
            convene(h, p["window"], **over)
        assert field in errors_of(e), (over, errors_of(e))
    data = {"subject": "x", "lead_window": "内资窗口", "departments": ["工商"], "place": "会议室"}
    with pytest.raises(Invalid) as e:
        h.hall.runtime.start(p["window"], "joint_review", data)
    assert "meeting_at" in errors_of(e)
