"""绿色通道 (green_channel): DMN eligibility, 全程代理 by one agent, express department
approvals in parallel with a limit of 2 working days, 督办 by the 常务副主任 (1 working day)
when an approval runs late; a department's refusal is recorded for accountability."""

import datetime as dt

import pytest

from engine import clock
from engine.errors import Conflict, Forbidden, Invalid
from tests.conftest import PROCESSES

BPMN = PROCESSES / "green_channel.bpmn"
DMN = PROCESSES / "green_channel_eligibility.dmn"
TZ = clock.HALL_TZ


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


T0 = at(2026, 11, 30, 9, 0)  # a Monday
APPROVALS_DUE = at(2026, 12, 2, 17, 30)  # two working days after T0


def application(**project):
    return {
        "enterprise": {"name": "海川精密制造有限公司", "credit_code": "91320100MA1W8K2Q3X"},
        "project": {"name": "精密轴承生产线", "investment": 800.0, "investor_type": "内资",
                    "city_introduced": False, "key_project": False, **project},
        "contact": {"name": "王经理", "phone": "025-84561234"},
    }


@pytest.fixture
def hall_users(h):
    clock.freeze(T0)
    h.deploy(BPMN, DMN)
    users = {
        "applicant": h.user("haichuan", roles=["applicant"]),
        "agent": h.user("zhang", groups=["首席服务台"]),
        "desk": h.user("li", groups=["首席服务台"]),
        "director": h.user("fu", groups=["常务副主任"], roles=["staff", "director"]),
        "watch": h.user("jiancha", roles=["supervisor"]),
    }
    for name, group in [("gs", "工商"), ("gt", "国税"), ("ds", "地税"), ("zj", "质监"), ("ga", "公安"), ("yh", "银行")]:
        users[group] = h.user(name, groups=[group])
    return users


def open_ids(h, case_id):
    return sorted(t.element_id for t in h.open_tasks(case_id))


def actions(h, case_id, action):
    return [e.element_id for e in h.hall.runtime.events(case_id) if e.action == action]


def start_and_take(h, u, departments, **project):
    """An eligible case taken by agent zhang, materials collected, departments chosen."""
    case = h.hall.runtime.start(u["applicant"], "green_channel", application(investor_type="外资", investment=1500.0,
                                                                            **project))
    h.complete(u["agent"], case.id, "take_case", {"agent": "zhang", "agent_name": "张敏", "agent_phone": "13800001111"})
    h.complete(u["agent"], case.id, "collect_materials", {
        "materials": ["营业执照申请书", "外商投资企业设立备案回执", "法定代表人身份证明"],
        "departments": departments,
    })
    return case


# --- eligibility -------------------------------------------------------------------------

@pytest.mark.parametrize(("project", "reason"), [
    ({"key_project": True}, "重大项目"),
    ({"key_project": True, "city_introduced": True, "investment": 9000.0}, "重大项目"),  # FIRST: rule order
    ({"investor_type": "外资", "investment": 1200.0}, "外资或市外投资1000万元以上"),
    ({"investor_type": "市外投资", "investment": 1000.0}, "外资或市外投资1000万元以上"),
    ({"city_introduced": True}, "市引进企业"),
    ({"investment": 5000.0}, "投资额5000万元以上"),
])
def test_eligible_by_each_rule_goes_to_the_chief_service_desk(h, hall_users, project, reason):
    case = h.hall.runtime.start(hall_users["applicant"], "green_channel", application(**project))
    case = h.hall.runtime.case(case.id)
    assert case.status == "running"
    assert case.number.startswith("LS-20") and case.title == "海川精密制造有限公司"
    assert case.data["eligible"] is True and case.data["reason"] == reason
    [take] = h.open_tasks(case.id)
    assert take.element_id == "take_case" and take.candidate_groups == ["首席服务台"] and take.assignee is None
    assert take.due_at == at(2026, 12, 1, 17, 30)  # taken within one working day
    assert [t.id for t in h.hall.tasks.inbox(hall_users["desk"])[0]] == [take.id]


@pytest.mark.parametrize("project", [
    {},                                                   # 内资, 800万元
    {"investor_type": "外资", "investment": 999.0},      # foreign, below its threshold
    {"investor_type": "市外投资", "investment": 300.0},
    {"investment": 4999.0},
])
def test_not_eligible_is_told_to_use_the_normal_procedure(h, hall_users, project):
    u = hall_users
    case = h.hall.runtime.start(u["applicant"], "green_channel", application(**project))
    data = h.hall.runtime.case(case.id).data
    assert data["eligible"] is False and data["reason"] == "不符合绿色通道条件，转一般程序"
    [notify] = h.open_tasks(case.id)
    assert notify.element_id == "notify_normal" and notify.candidate_groups == ["首席服务台"]
    assert notify.due_at == at(2026, 12, 1, 17, 30)  # told within one working day
    with pytest.raises(Forbidden):
        h.hall.tasks.complete(u["工商"], notify.id, {"notify_method": "电话"})
    h.hall.tasks.complete(u["desk"], notify.id, {"notify_method": "电话", "notify_note": "已告知走并联审批"})
    case = h.hall.runtime.case(case.id)
    assert case.status == "completed" and case.data["notify_method"] == "电话"
    assert actions(h, case.id, "task_created") == ["notify_normal"]
    assert actions(h, case.id, "completed") == ["notify_normal"]


# --- express approvals --------------------------------------------------------------------

def test_agent_handles_everything_and_express_approvals_complete(h, hall_users):
    u = hall_users
    case = h.hall.runtime.start(u["applicant"], "green_channel", application(investor_type="外资", investment=1500.0))
    take = h.open_tasks(case.id, "take_case")[0]
    h.hall.tasks.complete(u["agent"], take.id, {"agent": "zhang", "agent_name": "张敏", "agent_phone": "13800001111"})

    # from here on the case is the agent's: assigned to zhang, not in the desk's queue
    [collect] = h.open_tasks(case.id)
    assert collect.element_id == "collect_materials" and collect.assignee == "zhang"
    assert h.hall.tasks.inbox(u["desk"])[1] == 0
    with pytest.raises(Conflict):  # held by the agent who took the case
        h.hall.tasks.complete(u["desk"], collect.id, {"materials": ["x"], "departments": ["工商"]})
    h.hall.tasks.complete(u["agent"], collect.id, {
        "materials": ["营业执照申请书", "外商投资企业设立备案回执"], "departments": ["工商", "国税", "质监"],
        "materials_note": "材料齐全"})

    approvals = h.open_tasks(case.id, "approve")
    assert sorted(t.candidate_groups[0] for t in approvals) == ["国税", "工商", "质监"]
    # the limit the departments see is the timer that escalates them
    assert {t.due_at for t in approvals} == {APPROVALS_DUE}
    assert h.hall.runtime.case(case.id).next_timer_at == APPROVALS_DUE
    by_group = {t.candidate_groups[0]: t for t in approvals}
    # each department reads the application and the materials, not the agent's other notes
    seen = h.hall.tasks.visible_data(h.hall.tasks.get(u["工商"], by_group["工商"].id))
    assert seen["enterprise"]["name"] == "海川精密制造有限公司" and seen["materials"][0] == "营业执照申请书"
    assert "eligible" not in seen and "reason" not in seen and "departments" not in seen
    with pytest.raises(Forbidden):
        h.hall.tasks.complete(u["国税"], by_group["工商"].id, {"approved": True, "opinion": "同意"})

    clock.advance(dt.timedelta(days=1))
    h.hall.tasks.complete(u["工商"], by_group["工商"].id, {"approved": True, "opinion": "准予设立登记",
                                                          "licence_no": "GS-2026-001"})
    h.hall.tasks.complete(u["国税"], by_group["国税"].id, {"approved": True, "opinion": "税务登记完成"})
    assert open_ids(h, case.id) == ["approve"]
    h.hall.tasks.complete(u["质监"], by_group["质监"].id, {"approved": True, "opinion": "代码证已发"})
    assert h.hall.runtime.fire_due_timers() == 0

    [deliver] = h.open_tasks(case.id)
    assert deliver.element_id == "deliver_results" and deliver.assignee == "zhang"
    assert deliver.due_at == APPROVALS_DUE  # one working day from Tuesday
    case = h.hall.runtime.case(case.id)
    answers = {a["dept"]: a for a in case.data["approvals"]}
    assert answers["工商"] == {"dept": "工商", "approved": True, "opinion": "准予设立登记", "licence_no": "GS-2026-001"}
    assert answers["质监"]["opinion"] == "代码证已发"

    h.hall.tasks.complete(u["agent"], deliver.id, {"delivered_on": "2026-12-01", "delivery_note": "证照已送达企业"})
    case = h.hall.runtime.case(case.id)
    assert case.status == "completed"
    assert case.data["delivered_on"] == "2026-12-01"
    assert "supervise_approval" not in actions(h, case.id, "task_created")
    assert actions(h, case.id, "completed") == ["take_case", "collect_materials", "approve", "approve", "approve",
                                                "deliver_results"]
    assert h.hall.deadlines.accountability(u["watch"])[1] == 0  # nothing refused, nothing late


def test_a_refusal_is_reported_to_the_agent(h, hall_users):
    u = hall_users
    case = start_and_take(h, u, ["公安", "银行"])
    for t in h.open_tasks(case.id, "approve"):
        group = t.candidate_groups[0]
        h.hall.tasks.complete(u[group], t.id, {"approved": group == "银行", "opinion": f"{group}意见"})
    [deliver] = h.open_tasks(case.id)
    assert deliver.element_id == "deliver_results" and deliver.assignee == "zhang"
    seen = h.hall.tasks.visible_data(h.hall.tasks.get(u["agent"], deliver.id))
    answers = {a["dept"]: a["approved"] for a in seen["approvals"]}
    assert answers == {"公安": False, "银行": True}
    # the refusal (and only it) is on the supervisor's accountability list
    [row] = h.hall.deadlines.accountability(u["watch"])[0]
    assert (row.kind, row.person, row.reason, row.case_id) == ("rejection", "ga", "公安意见", case.id)
    events = [(e.action, e.element_id) for e in h.hall.runtime.events(case.id)]
    assert events.count(("task_created", "approve")) == 2


def test_unknown_agent_leaves_the_work_to_the_desk(h, hall_users):
    u = hall_users
    case = h.hall.runtime.start(u["applicant"], "green_channel", application(key_project=True))
    h.complete(u["agent"], case.id, "take_case",
               {"agent": "nobody", "agent_name": "无此人", "agent_phone": "13800001111"})
    [collect] = h.open_tasks(case.id)
    assert collect.assignee is None and collect.candidate_groups == ["首席服务台"]
    created = [e for e in h.hall.runtime.events(case.id) if e.action == "task_created"][-1]
    assert created.detail["unknown_assignee"] == "nobody"


# --- late approvals -----------------------------------------------------------------------

def test_late_approvals_escalate_to_the_executive_deputy_director(h, hall_users):
    u = hall_users
    case = start_and_take(h, u, ["工商", "国税", "质监"])
    by_group = {t.candidate_groups[0]: t for t in h.open_tasks(case.id, "approve")}
    h.hall.tasks.complete(u["工商"], by_group["工商"].id, {"approved": True, "opinion": "按时办结"})

    clock.freeze(APPROVALS_DUE - dt.timedelta(minutes=1))
    assert h.hall.runtime.fire_due_timers() == 0
    assert "supervise_approval" not in open_ids(h, case.id)

    clock.freeze(APPROVALS_DUE + dt.timedelta(minutes=1))
    h.hall.runtime.forget(case.id)  # the stored state, not this process's memory, carries the case on
    assert h.hall.runtime.fire_due_timers() == 1
    # one 督办 per late department (国税, 质监); 工商 finished in time
    sup = h.open_tasks(case.id, "supervise_approval")
    assert len(sup) == 2 and all(t.candidate_groups == ["常务副主任"] for t in sup)
    assert {t.due_at for t in sup} == {at(2026, 12, 3, 17, 30)}  # one working day for the director
    assert actions(h, case.id, "timer_fired") == ["approval_overdue", "approval_overdue"]
    assert [t.id for t in h.hall.tasks.inbox(u["director"])[0]] == [t.id for t in sup]
    with pytest.raises(Forbidden):
        h.hall.tasks.complete(u["agent"], sup[0].id, {"instruction": "请尽快办理"})
    # the late approvals stay open and can still be completed
    assert sorted(t.candidate_groups[0] for t in h.open_tasks(case.id, "approve")) == ["国税", "质监"]

    # the director pushes first; then the department finishes
    h.hall.runtime.forget(case.id)
    h.hall.tasks.complete(u["director"], sup[0].id, {"instruction": "限今日内办结"})
    late_first = next(t for t in h.open_tasks(case.id, "approve") if t.candidate_groups == ["国税"])
    h.hall.tasks.complete(u["国税"], late_first.id, {"approved": True, "opinion": "经督办已办结"})
    # the other department finishes before the director acts: its 督办 is withdrawn
    [late_second] = h.open_tasks(case.id, "approve")
    h.hall.tasks.complete(u[late_second.candidate_groups[0]], late_second.id,
                          {"approved": True, "opinion": "已办结"})
    assert open_ids(h, case.id) == ["deliver_results"]
    events = h.hall.runtime.events(case.id)
    assert [e.element_id for e in events if e.action == "task_cancelled"] == ["supervise_approval"]
    assert [e.actor for e in events if e.action == "completed" and e.element_id == "supervise_approval"] == ["fu"]

    h.complete(u["agent"], case.id, "deliver_results", {"delivered_on": "2026-12-03"})
    case = h.hall.runtime.case(case.id)
    assert case.status == "completed" and all(a["approved"] for a in case.data["approvals"])
    # the two late approvals are on the supervisor's list, each with its department and person
    late = sorted((r.department, r.person) for r in h.hall.deadlines.accountability(u["watch"], kind="late")[0])
    assert late == [("国税", "gt"), ("质监", "zj")]
    assert sorted(a["opinion"] for a in case.data["approvals"]) == ["已办结", "按时办结", "经督办已办结"]


def test_only_the_late_department_escalates_and_the_weekend_does_not_count(h, hall_users):
    u = hall_users
    clock.freeze(at(2026, 12, 4, 15))  # a Friday afternoon
    case = start_and_take(h, u, ["地税", "公安"])
    due = at(2026, 12, 8, 17, 30)  # Monday and Tuesday are the two working days
    assert {t.due_at for t in h.open_tasks(case.id, "approve")} == {due}
    ds = next(t for t in h.open_tasks(case.id, "approve") if t.candidate_groups == ["地税"])
    h.hall.tasks.complete(u["地税"], ds.id, {"approved": True, "opinion": "同意"})
    clock.freeze(at(2026, 12, 7, 9))  # Monday morning: two calendar days later, nothing is late
    assert h.hall.runtime.fire_due_timers() == 0
    clock.freeze(due + dt.timedelta(seconds=1))
    h.hall.runtime.fire_due_timers()
    assert open_ids(h, case.id) == ["approve", "supervise_approval"]
    assert h.open_tasks(case.id, "supervise_approval")[0].due_at == at(2026, 12, 9, 17, 30)
    assert h.open_tasks(case.id, "approve")[0].candidate_groups == ["公安"]
    h.complete(u["director"], case.id, "supervise_approval", {"instruction": "公安部门今日办结"})
    assert open_ids(h, case.id) == ["approve"]
    h.complete(u["公安"], case.id, "approve", {"approved": True, "opinion": "同意"})
    assert open_ids(h, case.id) == ["deliver_results"]


# --- forms --------------------------------------------------------------------------------

def errors_of(call):
    with pytest.raises(Invalid) as e:
        call()
    return e.value.extra["errors"]


def test_start_form_errors_name_the_field(h, hall_users):
    start = h.hall.runtime.start
    who = hall_users["applicant"]
    bad = application(investor_type="港资", investment=0)
    del bad["enterprise"]["credit_code"]
    errors = errors_of(lambda: start(who, "green_channel", bad))
    assert set(errors) == {"enterprise", "project"}
    assert set(errors["enterprise"]) == {"credit_code"}
    assert set(errors["project"]) == {"investor_type", "investment"}

    errors = errors_of(lambda: start(who, "green_channel", {**application(), "budget": 1}))
    assert set(errors) == {"budget"}
    errors = errors_of(lambda: start(who, "green_channel", application(key_project="maybe")))
    assert set(errors["project"]) == {"key_project"}
    bad = application()
    bad["enterprise"]["credit_code"] = "12345"
    bad["contact"] = {"name": ""}
    errors = errors_of(lambda: start(who, "green_channel", bad))
    assert set(errors["enterprise"]) == {"credit_code"} and set(errors["contact"]) == {"name", "phone"}
    assert h.hall.runtime.cases(who)[1] == 0


def test_task_form_errors_name_the_field(h, hall_users):
    u = hall_users
    case = h.hall.runtime.start(u["applicant"], "green_channel", application(city_introduced=True))
    errors = errors_of(lambda: h.complete(u["agent"], case.id, "take_case", {"agent_name": "张敏",
                                                                            "agent_phone": "abc"}))
    assert set(errors) == {"agent", "agent_phone"}
    h.complete(u["agent"], case.id, "take_case", {"agent": "zhang", "agent_name": "张敏", "agent_phone": "13800001111"})
    errors = errors_of(lambda: h.complete(u["agent"], case.id, "collect_materials",
                                          {"materials": [], "departments": ["发改委"]}))
    assert set(errors) == {"materials", "departments"}
    errors = errors_of(lambda: h.complete(u["agent"], case.id, "collect_materials",
                                          {"materials": ["申请书"], "departments": []}))
    assert set(errors) == {"departments"}
    h.complete(u["agent"], case.id, "collect_materials", {"materials": ["申请书"], "departments": ["工商"]})
    errors = errors_of(lambda: h.complete(u["工商"], case.id, "approve", {"opinion": ""}))
    assert set(errors) == {"approved", "opinion"}
    h.complete(u["工商"], case.id, "approve", {"approved": True, "opinion": "同意"})
    errors = errors_of(lambda: h.complete(u["agent"], case.id, "deliver_results", {"delivered_on": "12/01/2026"}))
    assert set(errors) == {"delivered_on"}
    assert open_ids(h, case.id) == ["deliver_results"]
