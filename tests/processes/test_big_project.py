"""大项目三级联动 (big_project): the executive deputy director (level 1) assigns a
management-office coordinator (level 2), who breaks the project into department approvals
carried out by chief representatives (level 3). Late at level 3 escalates to the
coordinator (协调员督办); unresolved or not handled in time there escalates to level 1
(常务副主任协调). When every approval is done the coordinator reports completion.

Every limit is in working days (the hall calendar: weekends, public holidays, make-up
working days); a department's item has the number of working days the coordinator gave it,
and the boundary timer that escalates it is the same deadline the department sees. A
department's refusal leaves an accountability record (审批问责)."""

import datetime as dt

import pytest

from engine import clock
from engine.errors import Conflict, Forbidden, Invalid
from tests.conftest import PROCESSES

TZ = clock.HALL_TZ


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


NOW = at(2026, 11, 30, 9, 0)  # a Monday
PROJECT = {
    "project_name": "年产十万吨新材料项目",
    "investor": "某某新材料集团",
    "investment": 150000,
    "approvals_needed": ["企业设立登记", "税务登记", "特种设备使用登记"],
    "description": "市引进重大项目，选址开发区东片。",
}
PLAN = [
    {"dept": "工商", "item": "企业设立登记", "days": 3},
    {"dept": "国税", "item": "税务登记", "days": 5},
    {"dept": "质监", "item": "特种设备使用登记", "days": 5},
]
DONE = {"result": "approved", "document_no": "批字〔2026〕1号"}


@pytest.fixture
def p(h):
    clock.freeze(NOW)
    h.deploy(PROCESSES / "big_project.bpmn")
    return {
        "director": h.user("fzr", groups=["常务副主任"], roles=["staff", "director"]),
        "coord": h.user("xtz", groups=["管理办"], roles=["staff", "coordinator"]),
        "other_coord": h.user("glb2", groups=["管理办"], roles=["staff", "coordinator"]),
        "zsj": h.user("zsj", groups=["招商局"]),
        "gs": h.user("gs", groups=["工商"]),
        "gt": h.user("gt", groups=["国税"]),
        "zj": h.user("zj", groups=["质监"]),
        "watch": h.user("jiancha", roles=["supervisor"]),
    }


def errors_of(excinfo):
    return excinfo.value.extra["errors"]


def open_elements(h, case_id):
    return sorted(t.element_id for t in h.open_tasks(case_id))


def approval_tasks(h, case_id):
    return {t.candidate_groups[0]: t for t in h.open_tasks(case_id, "department_approval")}


def planned_case(h, p, plan=PLAN, starter="director"):
    """Started, coordinator xtz assigned, approvals planned: the departments are at work."""
    case = h.hall.runtime.start(p[starter], "big_project", PROJECT)
    h.complete(p["director"], case.id, "assign_coordinator", {"coordinator": "xtz", "instructions": "两周内办结"})
    h.complete(p["coord"], case.id, "plan_approvals", {"approvals": plan})
    return case


def later(h, when: dt.datetime) -> int:
    """The clock moves on to `when`; the scheduler fires what fell due."""
    clock.freeze(when)
    return h.hall.runtime.fire_due_timers()


# 工商 has 3 working days (Thursday 3 Dec), 国税 and 质监 5 (Monday 7 Dec: not the weekend)
GONGSHANG_DUE = at(2026, 12, 3, 17, 30)
GUOSHUI_DUE = at(2026, 12, 7, 17, 30)


def test_all_approvals_on_time(h, p):
    case = h.hall.runtime.start(p["director"], "big_project", PROJECT)
    row = h.hall.runtime.case(case.id)
    assert case.number.startswith("SJ-20261130-") and row.title == "年产十万吨新材料项目"
    assign = h.open_tasks(case.id)
    assert [(t.element_id, t.candidate_groups, t.assignee) for t in assign] == [
        ("assign_coordinator", ["常务副主任"], None)]
    assert assign[0].due_at == at(2026, 12, 1, 17, 30)  # one working day
    h.complete(p["director"], case.id, "assign_coordinator", {"coordinator": "xtz", "instructions": "两周内办结"})

    plan = h.open_tasks(case.id)
    assert [(t.element_id, t.assignee) for t in plan] == [("plan_approvals", "xtz")]  # the coordinator's own task
    assert plan[0].due_at == at(2026, 12, 3, 17, 30)  # three working days
    with pytest.raises(Conflict):  # held by the coordinator it was given to
        h.complete(p["other_coord"], case.id, "plan_approvals", {"approvals": PLAN})
    h.complete(p["coord"], case.id, "plan_approvals", {"approvals": PLAN})

    tasks = approval_tasks(h, case.id)
    assert sorted(tasks) == ["国税", "工商", "质监"]
    # each item's deadline is its boundary timer: the same moment, shown and enforced
    assert tasks["工商"].due_at == GONGSHANG_DUE
    assert tasks["国税"].due_at == tasks["质监"].due_at == GUOSHUI_DUE
    assert h.hall.runtime.case(case.id).next_timer_at == GONGSHANG_DUE
    with pytest.raises(Forbidden):
        h.hall.tasks.complete(p["gt"], tasks["工商"].id, DONE)

    h.hall.tasks.complete(p["gs"], tasks["工商"].id, {"result": "approved", "document_no": "工商登字001"})
    assert later(h, at(2026, 12, 5, 10)) == 0  # Saturday: 国税 and 质监 still within their 5 working days
    h.hall.tasks.complete(p["gt"], tasks["国税"].id, {"result": "approved", "document_no": "税字002"})
    assert open_elements(h, case.id) == ["department_approval"]
    h.hall.tasks.complete(p["zj"], tasks["质监"].id, {"result": "rejected", "note": "设备检验不合格"})
    # the refusal is on the supervisor's accountability list, with its reason and who refused
    rows, total = h.hall.deadlines.accountability(p["watch"])
    assert total == 1
    assert (rows[0].kind, rows[0].person, rows[0].reason, rows[0].case_id) == (
        "rejection", "zj", "设备检验不合格", case.id)

    report = h.open_tasks(case.id)
    assert [(t.element_id, t.assignee, t.candidate_groups) for t in report] == [
        ("report_completion", "xtz", ["管理办"])]
    data = h.hall.runtime.case(case.id).data
    assert [(a["dept"], a["result"]) for a in data["approvals"]] == [
        ("工商", "approved"), ("国税", "approved"), ("质监", "rejected")]
    assert data["approvals"][0]["document_no"] == "工商登字001"
    assert data["approvals"][2]["note"] == "设备检验不合格"
    h.complete(p["coord"], case.id, "report_completion", {"summary": "三项审批均已办结，特种设备待整改后重新申请。"})

    row = h.hall.runtime.case(case.id)
    assert row.status == "completed"
    actions = [(e.action, e.element_id) for e in h.hall.runtime.events(case.id)]
    assert not any(a == "timer_fired" for a, _ in actions)
    assert not any(el in ("supervise_approval", "director_coordinate") for _, el in actions)
    # approvals granted leave no rejection record: still the one refusal
    assert h.hall.deadlines.accountability(p["watch"], kind="rejection")[1] == 1


def test_late_approval_goes_to_coordinator_then_to_director_and_can_still_be_done(h, p):
    case = planned_case(h, p)
    assert later(h, GONGSHANG_DUE - dt.timedelta(seconds=1)) == 0
    assert open_elements(h, case.id) == ["department_approval"] * 3

    assert later(h, GONGSHANG_DUE + dt.timedelta(seconds=1)) == 1  # 工商 is past its 3 working days: 3 -> 2
    supervise = h.open_tasks(case.id, "supervise_approval")
    assert [(t.name, t.assignee, t.candidate_groups) for t in supervise] == [("协调员督办", "xtz", ["管理办"])]
    # two working days for the coordinator, counted from Thursday evening: Friday, then Monday
    assert supervise[0].due_at == at(2026, 12, 7, 17, 30)
    assert len(approval_tasks(h, case.id)) == 3  # the late approval stays open (non-interrupting)
    events = [(e.action, e.element_id) for e in h.hall.runtime.events(case.id)]
    assert ("timer_fired", "approval_overdue") in events

    with pytest.raises(Conflict):  # held by the coordinator it was given to
        h.complete(p["other_coord"], case.id, "supervise_approval", {"resolved": True, "measures": "x"})
    with pytest.raises(Invalid) as e:
        h.complete(p["coord"], case.id, "supervise_approval", {"measures": "已电话督促"})
    assert "resolved" in errors_of(e)
    h.complete(p["coord"], case.id, "supervise_approval",
               {"resolved": False, "measures": "工商称名称核准系统故障，无法办理"})

    director = h.open_tasks(case.id, "director_coordinate")  # level 2 -> level 1
    assert [(t.name, t.candidate_groups, t.assignee) for t in director] == [("常务副主任协调", ["常务副主任"], None)]
    with pytest.raises(Forbidden):
        h.complete(p["coord"], case.id, "director_coordinate", {"instructions": "x"})
    with pytest.raises(Invalid) as e:
        h.complete(p["director"], case.id, "director_coordinate", {})
    assert "instructions" in errors_of(e)
    h.complete(p["director"], case.id, "director_coordinate", {"instructions": "请市局协调开通绿色通道，本周内办结"})
    assert open_elements(h, case.id) == ["department_approval"] * 3

    tasks = approval_tasks(h, case.id)
    h.hall.tasks.complete(p["gs"], tasks["工商"].id, {"result": "approved", "document_no": "工商登字009"})
    h.hall.tasks.complete(p["gt"], tasks["国税"].id, DONE)
    h.hall.tasks.complete(p["zj"], tasks["质监"].id, DONE)
    assert [t.element_id for t in h.open_tasks(case.id)] == ["report_completion"]
    data = h.hall.runtime.case(case.id).data
    assert data["approvals"][0]["result"] == "approved" and data["approvals"][0]["document_no"] == "工商登字009"
    h.complete(p["coord"], case.id, "report_completion", {"summary": "工商经常务副主任协调后办结"})
    assert h.hall.runtime.case(case.id).status == "completed"


def test_coordinator_not_acting_in_time_escalates_to_director(h, p):
    case = planned_case(h, p, plan=[{"dept": "国税", "item": "税务登记", "days": 2},
                                    {"dept": "质监", "item": "特种设备使用登记", "days": 2}])
    assert later(h, at(2026, 12, 2, 17, 30, 1)) == 1  # both late at once: one 督办 each
    supervise = h.open_tasks(case.id, "supervise_approval")
    assert [t.assignee for t in supervise] == ["xtz", "xtz"]
    assert {t.due_at for t in supervise} == {at(2026, 12, 4, 17, 30)}

    h.complete(p["coord"], case.id, "supervise_approval", {"resolved": True, "measures": "质监已承诺明日办结"},
               index=1)
    assert later(h, at(2026, 12, 4, 17, 29)) == 0
    assert later(h, at(2026, 12, 4, 17, 30, 1)) == 1  # the other 督办 is not handled within 2 working days
    director = h.open_tasks(case.id, "director_coordinate")
    assert len(director) == 1 and director[0].candidate_groups == ["常务副主任"]
    assert director[0].due_at == at(2026, 12, 7, 17, 30)  # one working day: Friday evening -> Monday
    assert h.open_tasks(case.id, "supervise_approval") == []
    events = [(e.action, e.element_id) for e in h.hall.runtime.events(case.id)]
    assert ("timer_fired", "supervise_overdue") in events and ("task_cancelled", "supervise_approval") in events


def test_each_unresolved_item_gets_its_own_director_task(h, p):
    case = planned_case(h, p)
    assert later(h, GUOSHUI_DUE + dt.timedelta(seconds=1)) == 1  # all three late
    for _ in range(3):
        h.complete(p["coord"], case.id, "supervise_approval", {"resolved": False, "measures": "部门无法按期办结"})
    assert len(h.open_tasks(case.id, "director_coordinate")) == 3


def test_resolved_at_level_two_stays_there(h, p):
    case = planned_case(h, p, plan=[{"dept": "工商", "item": "企业设立登记", "days": 1}])
    later(h, at(2026, 12, 1, 17, 30, 1))
    h.complete(p["coord"], case.id, "supervise_approval", {"resolved": True, "measures": "已督促，明日办结"})
    assert open_elements(h, case.id) == ["department_approval"]
    assert later(h, at(2026, 12, 4, 17, 31)) == 0  # no further escalation for this item
    assert open_elements(h, case.id) == ["department_approval"]
    h.complete(p["gs"], case.id, "department_approval", DONE)
    assert open_elements(h, case.id) == ["report_completion"]


def test_approval_done_meanwhile_closes_pending_supervision(h, p):
    case = planned_case(h, p, plan=[{"dept": "工商", "item": "企业设立登记", "days": 1},
                                    {"dept": "国税", "item": "税务登记", "days": 9}])
    later(h, at(2026, 12, 1, 17, 30, 1))
    assert len(h.open_tasks(case.id, "supervise_approval")) == 1
    h.complete(p["gs"], case.id, "department_approval", DONE)  # 工商 finishes before the coordinator acts
    assert open_elements(h, case.id) == ["department_approval"]  # only 国税's approval is left
    events = [(e.action, e.element_id) for e in h.hall.runtime.events(case.id)]
    assert ("task_cancelled", "supervise_approval") in events
    assert later(h, at(2026, 12, 4, 17, 31)) == 0  # the cancelled 督办 leaves no timer behind
    assert h.hall.runtime.case(case.id).next_timer_at == at(2026, 12, 11, 17, 30)  # 国税's nine working days
    assert h.open_tasks(case.id, "director_coordinate") == []


def test_item_days_are_working_days_across_national_day(h, p):
    """Planned on Tuesday 29 September 2026: 1-7 October are off, Saturday 10 October is a
    make-up working day. The escalation fires on the deadline the department was shown."""
    clock.freeze(at(2026, 9, 29, 10))
    case = h.hall.runtime.start(p["director"], "big_project", PROJECT)
    assert h.open_tasks(case.id)[0].due_at == at(2026, 9, 30, 17, 30)  # assign: one working day
    h.complete(p["director"], case.id, "assign_coordinator", {"coordinator": "xtz"})
    assert h.open_tasks(case.id)[0].due_at == at(2026, 10, 9, 17, 30)  # plan: three working days
    h.complete(p["coord"], case.id, "plan_approvals", {"approvals": [
        {"dept": "工商", "item": "企业设立登记", "days": 1}, {"dept": "国税", "item": "税务登记", "days": 3},
        {"dept": "质监", "item": "特种设备使用登记", "days": 4}]})
    due = {dept: t.due_at for dept, t in approval_tasks(h, case.id).items()}
    assert due == {"工商": at(2026, 9, 30, 17, 30),   # the day before the holiday
                   "国税": at(2026, 10, 9, 17, 30),   # 30 Sep, 8 Oct, 9 Oct
                   "质监": at(2026, 10, 10, 17, 30)}  # ... and the make-up Saturday
    h.complete(p["gs"], case.id, "department_approval", DONE)
    assert later(h, at(2026, 10, 7, 18)) == 0  # the holiday passes; nothing is late yet
    assert later(h, at(2026, 10, 9, 17, 30, 1)) == 1
    [supervise] = h.open_tasks(case.id, "supervise_approval")
    assert supervise.due_at == at(2026, 10, 12, 17, 30)  # Saturday 10 and Monday 12 October
    assert later(h, at(2026, 10, 10, 17, 30, 1)) == 1  # 质监 is late on the make-up Saturday
    assert len(h.open_tasks(case.id, "supervise_approval")) == 2
    # the two late items are red on the coordinators' dashboard, by department
    h.hall.deadlines.sweep()
    board = h.hall.deadlines.dashboard(p["coord"])
    late = {r.candidate_groups[0] for rows in board["groups"].values() for r in rows if r.warning == "red"}
    assert late == {"国税", "质监"}


def test_a_refusal_is_accounted_to_the_department_that_refused(h, p):
    case = planned_case(h, p, plan=PLAN[:1])
    h.complete(p["gs"], case.id, "department_approval", {"result": "rejected", "note": "名称与在先登记企业近似"})
    [row] = h.hall.deadlines.accountability(p["watch"])[0]
    assert (row.kind, row.person, row.reason) == ("rejection", "gs", "名称与在先登记企业近似")
    assert h.hall.deadlines.accountability(p["watch"], person="gs")[1] == 1


def test_the_refusing_department_is_named_on_the_record(h, p):
    case = planned_case(h, p, plan=PLAN[:1])
    h.complete(p["gs"], case.id, "department_approval", {"result": "rejected", "note": "名称与在先登记企业近似"})
    [row] = h.hall.deadlines.accountability(p["watch"])[0]
    assert row.department == "工商"


def test_an_item_whose_deadline_falls_in_a_year_not_yet_entered(h, p):
    case = h.hall.runtime.start(p["director"], "big_project", PROJECT)
    h.complete(p["director"], case.id, "assign_coordinator", {"coordinator": "xtz"})
    h.complete(p["coord"], case.id, "plan_approvals", {"approvals": [
        {"dept": "国税", "item": "税务登记", "days": 30}]})  # 30 working days from 30 Nov 2026: in 2027
    [task] = h.open_tasks(case.id, "department_approval")
    # 23 working days left in December, then 2027 Monday to Friday less 元旦 until it is entered
    assert task.due_at == at(2027, 1, 12, 17, 30) and task.due_note == "calendar:2027"


def test_received_from_investment_office_and_unknown_coordinator(h, p):
    with pytest.raises(Forbidden):
        h.hall.runtime.start(p["gs"], "big_project", PROJECT)  # a department does not start big projects
    case = h.hall.runtime.start(p["zsj"], "big_project", PROJECT)  # 招商局 hands a project over
    assert [t.candidate_groups for t in h.open_tasks(case.id)] == [["常务副主任"]]
    h.complete(p["director"], case.id, "assign_coordinator", {"coordinator": "nobody"})
    plan = h.open_tasks(case.id)[0]
    # no such user: the task stays with 管理办's queue, and the history says why
    assert plan.assignee is None and plan.candidate_groups == ["管理办"]
    created = [e for e in h.hall.runtime.events(case.id)
               if e.action == "task_created" and e.element_id == "plan_approvals"]
    assert created[0].detail["unknown_assignee"] == "nobody"
    h.complete(p["other_coord"], case.id, "plan_approvals", {"approvals": PLAN[:1]})
    assert open_elements(h, case.id) == ["department_approval"]


def test_form_errors(h, p):
    def start(**over):
        return h.hall.runtime.start(p["director"], "big_project", {**PROJECT, **over})

    for over, field in [({"project_name": ""}, "project_name"), ({"investment": 0}, "investment"),
                        ({"investment": "很多"}, "investment"), ({"approvals_needed": []}, "approvals_needed"),
                        ({"owner": "x"}, "owner")]:
        with pytest.raises(Invalid) as e:
            start(**over)
        assert field in errors_of(e), (over, errors_of(e))
    data = dict(PROJECT)
    del data["investor"]
    with pytest.raises(Invalid) as e:
        h.hall.runtime.start(p["director"], "big_project", data)
    assert "investor" in errors_of(e)

    case = start()
    for bad in ({}, {"coordinator": "张 三"}, {"coordinator": ""}):
        with pytest.raises(Invalid) as e:
            h.complete(p["director"], case.id, "assign_coordinator", bad)
        assert "coordinator" in errors_of(e)
    h.complete(p["director"], case.id, "assign_coordinator", {"coordinator": "xtz"})

    for approvals, where in [
        ([], None),
        ([{"dept": "税务局", "item": "税务登记", "days": 3}], "dept"),
        ([{"dept": "国税", "item": "", "days": 3}], "item"),
        ([{"dept": "国税", "item": "税务登记", "days": 0}], "days"),
        ([{"dept": "国税", "item": "税务登记", "days": "3"}], "days"),
        ([{"dept": "国税", "item": "税务登记"}], "days"),
    ]:
        with pytest.raises(Invalid) as e:
            h.complete(p["coord"], case.id, "plan_approvals", {"approvals": approvals})
        err = errors_of(e)["approvals"]
        assert where is None or where in err[0], (approvals, err)
    with pytest.raises(Invalid) as e:
        h.complete(p["coord"], case.id, "plan_approvals", {"approvals": [PLAN[0], PLAN[0]]})
    assert "approvals" in errors_of(e)
    h.complete(p["coord"], case.id, "plan_approvals", {"approvals": PLAN[:1]})

    for bad, field in [({"result": "rejected"}, "note"), ({"result": "approved"}, "document_no"),
                       ({"result": "ok"}, "result")]:
        with pytest.raises(Invalid) as e:
            h.complete(p["gs"], case.id, "department_approval", bad)
        assert field in errors_of(e)
    h.complete(p["gs"], case.id, "department_approval", DONE)
    with pytest.raises(Invalid) as e:
        h.complete(p["coord"], case.id, "report_completion", {"summary": ""})
    assert "summary" in errors_of(e)
