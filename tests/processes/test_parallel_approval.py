"""并联审批 (parallel_approval): one-form intake, online pre-review, acceptance at the window of
the case's category, parallel review by the departments, consolidation by the lead
department (工商), then 办结: the case ends when its result is issued, and the applicant rates
it afterwards (好差评, kept apart from the case).

Every branch of processes/parallel_approval.bpmn is driven through the engine here. Its time
limits are working days by the hall calendar (weekends, public holidays, make-up working
days): the case 20 (即办件 the same working day), 网上预审 1, window acceptance 1 (内资,
社会事务) or 2 (外资, 建设), department review 5 (bank 3), consolidation 2. The clock stops
while the applicant revises (退回修改) or supplements (补正); every refusal is recorded for
accountability (审批问责)."""

from __future__ import annotations

import datetime as dt
import time
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from engine import clock
from engine.errors import Conflict, Forbidden, Invalid
from engine.models import Case
from tests.conftest import PROCESSES

PROCESS = "parallel_approval"
TZ = clock.HALL_TZ


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


T0 = at(2026, 11, 30, 9, 0)  # a Monday
NEXT_DAY = at(2026, 12, 1, 17, 30)  # one working day after T0: the close of Tuesday
CASE_DUE = at(2026, 12, 28, 17, 30)  # twenty working days after acceptance at T0
WINDOW_GROUPS = {"内资": "内资窗口", "外资": "外资窗口", "建设": "建设窗口", "社会事务": "社会事务窗口"}
WINDOW_KEYS = {"内资": "domestic", "外资": "foreign", "建设": "construction", "社会事务": "social"}
DEPARTMENTS = {"gongshang": "工商", "guoshui": "国税", "dishui": "地税", "zhijian": "质监", "gongan": "公安",
               "bank": "银行"}
ALWAYS = ("gongshang", "guoshui", "dishui", "zhijian", "gongan")


def application(category="内资", open_account=False, name="闽江数字科技有限公司"):
    """A valid 一单通 as the portal submits it."""
    data = {
        "enterprise": {
            "name": name, "credit_code": "91350100M000100Y43", "legal_rep": "林晓",
            "address": "福州市鼓楼区五四路 88 号", "phone": "0591-87654321", "registered_capital": 500,
            "category": category,
        },
        "gongshang": {"business_scope": "软件开发；信息技术咨询服务", "company_type": "有限责任公司"},
        "guoshui": {"tax_type": "小规模纳税人", "invoice_types": ["增值税普通发票"]},
        "dishui": {"employee_count": 12, "accounting_system": "小企业会计准则"},
        "zhijian": {"organization_code": "M000100Y-4", "product_standards": "Q/MJ 001-2026"},
        "gongan": {"seal_count": 3, "seal_types": ["公章", "财务专用章", "发票专用章"]},
    }
    if open_account:
        data["bank"] = {"open_account": True, "bank_name": "兴业银行福州分行"}
    return data


class _People(dict):
    """Users made on first use (one per group), so a test pays only for whom it needs."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def __missing__(self, key):
        self[key] = user = self.make(key)
        return user


@pytest.fixture
def pa(h):
    """The deployed process and, on demand, one person per group it involves."""
    clock.freeze(T0)
    pv = h.deploy(PROCESSES / "parallel_approval.bpmn")
    window_names = {g: f"window_{k}" for k, g in zip(WINDOW_KEYS.values(), WINDOW_GROUPS.values(), strict=True)}
    return SimpleNamespace(
        h=h, pv=pv,
        applicant=h.user("qiye", groups=["申请人"], roles=["applicant"]),
        prereview=h.user("yushen", groups=["网上预审"]),
        watch=h.user("jiancha", roles=["supervisor"]),
        windows=_People(lambda g: h.user(window_names[g], groups=[g])),
        depts=_People(lambda k: h.user(f"dept_{k}", groups=[DEPARTMENTS[k]])),
    )


def open_ids(h, case_id):
    return sorted(t.element_id for t in h.open_tasks(case_id))


def only_task(h, case_id, element_id):
    tasks = h.open_tasks(case_id, element_id)
    assert len(tasks) == 1, open_ids(h, case_id)
    return tasks[0]


IMMEDIATE_ITEM = {
    "code": "JB-TEST", "name": "即办件（测试）", "category": "social", "departments": ["工商"], "kind": "immediate",
    "legal_days": 5, "promised_days": 0, "materials": [{"name": "申请书"}], "fees": [], "place": "一楼",
    "hours": "工作日", "phone": "0591-87654300", "basis": "测试", "process_id": PROCESS, "online": True}


def start(p, immediate=False, **kw):
    """A case filed online; a 即办件 is one because its catalogue item says so."""
    if not immediate:
        return p.h.hall.runtime.start(p.applicant, PROCESS, application(**kw))
    item = {**IMMEDIATE_ITEM, "category": WINDOW_KEYS[kw.get("category", "内资")]}  # its window takes it in
    p.h.hall.catalogue.save(p.h._owner(), item)
    return p.h.hall.runtime.start(p.applicant, None, application(**kw), item="JB-TEST")


def pass_prereview(p, case):
    p.h.complete(p.prereview, case.id, "online_prereview", {"prereview_decision": "pass"})


def accept(p, case, category="内资", decision="accept", **extra):
    window = p.windows[WINDOW_GROUPS[category]]
    values = {"acceptance": decision, **extra}
    if case.data.get("item"):  # the window ticks what the item asks for
        values.setdefault("received_materials", [m["name"] for m in IMMEDIATE_ITEM["materials"]])
    return p.h.complete(window, case.id, f"accept_{WINDOW_KEYS[category]}", values)


def review_all(p, case, reject=(), include_bank=False):
    for key in ALWAYS + (("bank",) if include_bank else ()):
        answer = {f"{key}_opinion": "reject" if key in reject else "approve"}
        if key in reject:
            answer[f"{key}_comments"] = f"{DEPARTMENTS[key]}：材料不符合要求"
        p.h.complete(p.depts[key], case.id, f"review_{key}", answer)


def shown(h, actor, task):
    """What the task's worker is shown of the case (the 一单通 part for a department)."""
    return h.hall.tasks.visible_data(h.hall.tasks.get(actor, task.id))


def state_size(h, case_id):
    return len(h.hall.runtime.session.scalar(sa.select(Case.state).where(Case.id == case_id)))


def actions(h, case_id):
    return [(e.action, e.element_id) for e in h.hall.runtime.events(case_id)]


def clock_events(h, case_id):
    return [(e.action, e.detail) for e in h.hall.runtime.events(case_id)
            if e.action in ("clock_stopped", "clock_resumed")]


def rejections(p):
    rows, _ = p.h.hall.deadlines.accountability(p.watch, kind="rejection")
    return [(r.case_id, r.person, r.reason) for r in rows]


# ---------------------------------------------------------------------------------------
# start, pre-review

def test_start_numbers_titles_and_routes_to_online_prereview(pa):
    p, h = pa, pa.h
    case = start(p)
    assert case.number.startswith("BL-20261130-")
    assert case.title == "闽江数字科技有限公司"
    task = only_task(h, case.id, "online_prereview")
    assert task.candidate_groups == ["网上预审"] and task.form_key == "bl_prereview"
    assert task.due_at == NEXT_DAY
    row = h.hall.runtime.case(case.id)
    assert row.due_at is None and row.paused_since is None  # the statutory count starts at 受理, not here
    pass_prereview(p, case)
    accept(p, case)
    assert h.hall.runtime.case(case.id).due_at == CASE_DUE  # the committed limit: 20 working days
    stored = h.hall.runtime.case(case.id).data
    assert stored["bank"] == {"open_account": False, "bank_name": None}
    assert stored["item"] is None and stored["channel"] == "online"  # filed by process, not from the catalogue

    # only the applicant, the portal and the windows may start it
    outsider = h.user("gs_clerk", groups=["工商"])
    with pytest.raises(Forbidden):
        h.hall.runtime.start(outsider, PROCESS, application())
    assert start(p, category="外资").number.startswith("BL-")
    window_start = h.hall.runtime.start(p.windows["建设窗口"], PROCESS, application(category="建设"))
    assert window_start.status == "running"


def test_prereview_rejection_ends_the_case(pa):
    p, h = pa, pa.h
    case = start(p)
    with pytest.raises(Invalid) as e:
        h.complete(p.prereview, case.id, "online_prereview", {"prereview_decision": "reject"})
    assert "prereview_comments" in e.value.extra["errors"]
    h.complete(p.prereview, case.id, "online_prereview",
               {"prereview_decision": "reject", "prereview_comments": "经营范围含前置许可项目，不属本中心办理"})
    case = h.hall.runtime.case(case.id)
    assert case.status == "completed"
    assert case.data["prereview_decision"] == "reject"
    assert not h.open_tasks(case.id)
    assert actions(h, case.id)[-2:] == [("ended", "end_prereview_rejected"), ("notice_issued", None)]
    assert [n.title for n in h.hall.notices.of_case(p.watch, case.id)] == ["不予受理通知书"]
    assert "acceptance" not in case.data
    # the refusal is on the supervisor's accountability list, against 网上预审
    [row] = h.hall.deadlines.accountability(p.watch)[0]
    assert (row.kind, row.department, row.person, row.reason) == (
        "rejection", "网上预审", "yushen", "经营范围含前置许可项目，不属本中心办理")


def test_prereview_return_waits_for_resubmission_then_reviews_again(pa):
    p, h = pa, pa.h
    case = start(p)
    h.complete(p.prereview, case.id, "online_prereview",
               {"prereview_decision": "return", "prereview_comments": "住所应写到门牌号"})
    assert not h.open_tasks(case.id)
    assert h.hall.runtime.case(case.id).status == "running"
    # the case waits for 重新提交, not for anything else
    with pytest.raises(Conflict) as e:
        h.hall.runtime.message(p.applicant, case.id, "补正材料", {})
    assert "重新提交" in e.value.message

    fixed = application()["enterprise"] | {"address": "福州市鼓楼区五四路 88 号 1201 室"}
    # a resubmission holds sections of the one form, nothing else (it is checked with its form)
    with pytest.raises(Invalid) as e:
        h.hall.runtime.message(p.applicant, case.id, "重新提交", {"enterprise": fixed, "outcome": "approved"})
    assert "outcome" in e.value.extra["errors"]
    with pytest.raises(Invalid) as e:
        h.hall.runtime.message(p.applicant, case.id, "重新提交", {"enterprise": {**fixed, "registered_capital": -1}})
    assert "registered_capital" in e.value.extra["errors"]["enterprise"]
    assert h.hall.runtime.case(case.id).waiting == ["重新提交"]  # refused: nothing changed
    h.hall.runtime.message(p.applicant, case.id, "重新提交", {"enterprise": fixed})
    task = only_task(h, case.id, "online_prereview")
    seen = shown(h, p.prereview, task)
    assert seen["enterprise"]["address"].endswith("1201 室")
    assert seen["gongan"] == application()["gongan"] and "outcome" not in seen
    pass_prereview(p, case)
    assert open_ids(h, case.id) == ["accept_domestic"]


# ---------------------------------------------------------------------------------------
# acceptance at the window of the case's category

@pytest.mark.parametrize(("category", "due"), [("内资", NEXT_DAY), ("外资", at(2026, 12, 2, 17, 30)),
                                               ("建设", at(2026, 12, 2, 17, 30)), ("社会事务", NEXT_DAY)])
def test_each_category_goes_to_its_own_window(pa, category, due):
    p, h = pa, pa.h
    case = start(p, category=category)
    pass_prereview(p, case)
    task = only_task(h, case.id, f"accept_{WINDOW_KEYS[category]}")
    assert task.candidate_groups == [WINDOW_GROUPS[category]]
    assert task.due_at == due  # 外资 and 建设 windows have two working days, the others one
    other = p.windows[next(g for g in WINDOW_GROUPS.values() if g != WINDOW_GROUPS[category])]
    with pytest.raises(Forbidden):
        h.hall.tasks.complete(other, task.id, {"acceptance": "accept"})


def test_rejection_at_the_window_ends_the_case(pa):
    p, h = pa, pa.h
    case = start(p, category="社会事务")
    pass_prereview(p, case)
    with pytest.raises(Invalid) as e:
        accept(p, case, "社会事务", "reject")
    assert "reject_reason" in e.value.extra["errors"]
    accept(p, case, "社会事务", "reject", reject_reason="申请事项不属于本行政机关职权范围")
    case = h.hall.runtime.case(case.id)
    assert case.status == "completed"
    assert case.data["acceptance"] == "reject"
    assert case.data["reject_reason"] == "申请事项不属于本行政机关职权范围"
    assert not any(e.element_id and e.element_id.startswith("review_") for e in h.hall.runtime.events(case.id))
    assert rejections(p) == [(case.id, "window_social", "申请事项不属于本行政机关职权范围")]


def test_a_window_refusal_is_recorded_against_that_window(pa):
    p, h = pa, pa.h
    case = start(p, category="社会事务")
    pass_prereview(p, case)
    accept(p, case, "社会事务", "reject", reject_reason="申请事项不属于本行政机关职权范围")
    [row] = h.hall.deadlines.accountability(p.watch)[0]
    assert row.department == "社会事务窗口"


def test_supplement_loop_twice_then_accept(pa):
    p, h = pa, pa.h
    case = start(p, category="建设")
    pass_prereview(p, case)
    with pytest.raises(Invalid) as e:
        accept(p, case, "建设", "supplement")
    assert "missing_materials" in e.value.extra["errors"]

    accept(p, case, "建设", "supplement", missing_materials=["施工图审查合格书", "消防设计审核意见"])
    assert not h.open_tasks(case.id)
    data = h.hall.runtime.case(case.id).data
    assert data["missing_materials"] == ["施工图审查合格书", "消防设计审核意见"]
    h.hall.runtime.message(p.applicant, case.id, "补正材料", {"materials": ["施工图审查合格书"]})
    task = only_task(h, case.id, "accept_construction")  # back at the same window
    assert shown(h, p.windows["建设窗口"], task)["supplement"] == {"materials": ["施工图审查合格书"]}

    accept(p, case, "建设", "supplement", missing_materials=["消防设计审核意见"])
    h.hall.runtime.message(p.applicant, case.id, "补正材料",
                           {"materials": ["消防设计审核意见"], "supplement_note": "已补齐"})
    accept(p, case, "建设", "accept")
    assert open_ids(h, case.id) == ["review_dishui", "review_gongan", "review_gongshang", "review_guoshui",
                                    "review_zhijian"]
    data = h.hall.runtime.case(case.id).data
    assert data["missing_materials"] == [] and data["supplement"]["supplement_note"] == "已补齐"
    acts = actions(h, case.id)
    assert acts.count(("completed", "accept_construction")) == 3
    assert sum(1 for a, _ in acts if a == "message_received") == 2
    assert [a for a, _ in clock_events(h, case.id)] == ["clock_stopped", "clock_resumed"] * 2
    assert h.hall.deadlines.accountability(p.watch)[1] == 0  # 补正 is not a refusal


def test_the_clock_stops_while_the_applicant_supplements_across_national_day(pa):
    """Submitted Tuesday 29 September 2026; 1-7 October are off and Saturday 10 October is a
    make-up working day. The 外资 window asks for 补正 on Wednesday 30 September; the applicant
    supplements on Friday 9 October: the case's clock stood still for the working time between."""
    p, h = pa, pa.h
    clock.freeze(at(2026, 9, 29, 9))
    case = start(p, category="外资")
    assert only_task(h, case.id, "online_prereview").due_at == at(2026, 9, 30, 17, 30)
    pass_prereview(p, case)
    assert only_task(h, case.id, "accept_foreign").due_at == at(2026, 10, 8, 17, 30)  # 30 Sep and 8 Oct

    clock.freeze(at(2026, 9, 30, 10))
    accept(p, case, "外资", "supplement", missing_materials=["外商投资企业设立备案回执"])
    row = h.hall.runtime.case(case.id)
    assert (row.paused_reason, row.paused_since) == ("补正", at(2026, 9, 30, 10))
    assert clock_events(h, case.id) == [("clock_stopped", {"reason": "补正"})]
    # while it waits for the applicant nothing is at risk, however long the holiday
    clock.freeze(at(2026, 10, 8, 17, 0))
    assert h.hall.deadlines.sweep() == 0
    assert h.hall.deadlines.dashboard(p.watch)["cases"] == []

    clock.freeze(at(2026, 10, 9, 10))
    h.hall.runtime.message(p.applicant, case.id, "补正材料", {"materials": ["外商投资企业设立备案回执"]})
    row = h.hall.runtime.case(case.id)
    assert row.paused_since is None and row.paused_reason is None
    # stopped: 30 Sep 10:00-17:30 (6 h), 8 Oct (7 h), 9 Oct 09:00-10:00 (1 h) = two working days
    assert clock_events(h, case.id)[-1] == ("clock_resumed", {"reason": "补正", "workdays": 2.0})
    assert row.due_at is None  # 补正 comes before 受理: the case's own limit has not started
    # back at the 外资 window, with two fresh working days: the make-up Saturday and Monday
    assert only_task(h, case.id, "accept_foreign").due_at == at(2026, 10, 12, 17, 30)
    accept(p, case, "外资")
    # accepted Friday 9 October: 20 working days from the make-up Saturday on, the holiday behind it
    assert h.hall.runtime.case(case.id).due_at == at(2026, 11, 5, 17, 30)
    assert {t.due_at for t in h.open_tasks(case.id)} == {at(2026, 10, 15, 17, 30)}  # 10, 12, 13, 14, 15 Oct


def test_accepted_in_december_the_limit_runs_into_a_year_not_entered(pa):
    p, h = pa, pa.h
    clock.freeze(at(2026, 12, 1, 9))
    case = start(p)
    pass_prereview(p, case)
    accept(p, case, "内资", "supplement", missing_materials=["章程"])
    clock.freeze(at(2026, 12, 10, 9))
    h.hall.runtime.message(p.applicant, case.id, "补正材料", {"materials": ["章程"]})
    assert open_ids(h, case.id) == ["accept_domestic"]
    accept(p, case)
    # 20 working days from 10 Dec: into 2027, Monday to Friday less 元旦 until it is entered
    c = h.hall.runtime.case(case.id)
    assert c.due_at == at(2027, 1, 8, 17, 30) and c.due_note == "calendar:2027"


def test_an_immediate_item_sent_late_on_friday_is_not_late_before_it_is_accepted(pa):
    p, h = pa, pa.h
    clock.freeze(at(2026, 11, 27, 16))  # Friday afternoon, on the portal
    case = start(p, immediate=True)
    assert h.hall.runtime.case(case.id).due_at is None
    clock.freeze(at(2026, 11, 30, 9, 30))
    h.hall.deadlines.sweep()
    assert h.hall.deadlines.dashboard(p.watch)["cases"] == []
    pass_prereview(p, case)
    accept(p, case)
    assert h.hall.runtime.case(case.id).due_at == at(2026, 11, 30, 17, 30)  # 即办件: the day it is accepted


def test_the_clock_stops_while_the_applicant_revises_after_online_prereview(pa):
    p, h = pa, pa.h
    clock.freeze(at(2026, 11, 20, 16))  # a Friday afternoon
    case = start(p)
    assert only_task(h, case.id, "online_prereview").due_at == at(2026, 11, 23, 17, 30)  # Monday, not Saturday
    clock.freeze(at(2026, 11, 23, 10))
    h.complete(p.prereview, case.id, "online_prereview",
               {"prereview_decision": "return", "prereview_comments": "住所应写到门牌号"})
    assert h.hall.runtime.case(case.id).paused_reason == "退回修改"
    clock.freeze(at(2026, 11, 25, 15))
    h.hall.runtime.message(p.applicant, case.id, "重新提交", {"enterprise": application()["enterprise"]})
    row = h.hall.runtime.case(case.id)
    # stopped on Monday, running again on Wednesday: Tuesday and Wednesday, 2 working days
    assert clock_events(h, case.id) == [("clock_stopped", {"reason": "退回修改"}),
                                        ("clock_resumed", {"reason": "退回修改", "workdays": 2})]
    assert row.paused_since is None and row.due_at is None  # not accepted yet
    assert only_task(h, case.id, "online_prereview").due_at == at(2026, 11, 26, 17, 30)  # reviewed afresh


# ---------------------------------------------------------------------------------------
# parallel review, consolidation by the lead department

def test_accepted_without_bank_account_is_reviewed_by_five_departments_and_licensed(pa):
    p, h = pa, pa.h
    case = start(p)
    pass_prereview(p, case)
    accept(p, case)
    tasks = {t.element_id: t for t in h.open_tasks(case.id)}
    assert sorted(tasks) == sorted(f"review_{k}" for k in ALWAYS)
    for key in ALWAYS:
        assert tasks[f"review_{key}"].candidate_groups == [DEPARTMENTS[key]]
        # five working days from Monday: the weekend does not count, so the next Monday
        assert tasks[f"review_{key}"].due_at == at(2026, 12, 7, 17, 30)
    with pytest.raises(Forbidden):  # 国税 cannot answer for 工商
        h.hall.tasks.complete(p.depts["guoshui"], tasks["review_gongshang"].id, {"gongshang_opinion": "approve"})

    review_all(p, case)
    task = only_task(h, case.id, "issue_licences")
    assert task.candidate_groups == ["工商"]
    seen = shown(h, p.depts["gongshang"], task)
    assert [r["department"] for r in seen["reviews"]] == ["工商", "国税", "地税", "质监", "公安"]
    assert set(seen) == {"enterprise", "gongshang", "reviews"}
    data = h.hall.runtime.case(case.id).data
    assert data["outcome"] == "approved" and data["rejected_departments"] == []

    assert task.due_at == at(2026, 12, 2, 17, 30)  # consolidation: two working days
    h.complete(p.depts["gongshang"], case.id, "issue_licences", {"licence_no": "350100000012345"})
    # 办结: the licences are issued, the case is finished; nothing waits for a rating
    case = h.hall.runtime.case(case.id)
    assert case.status == "completed" and case.ended_at == T0 and not h.open_tasks(case.id)
    assert case.next_timer_at is None and case.waiting == [] and case.data["licence_no"] == "350100000012345"
    assert ("ended", "end_completed") in actions(h, case.id)
    assert h.hall.deadlines.dashboard(p.watch)["cases"] == []
    # ...and its applicant rates it afterwards
    rating = h.hall.ratings.rate(p.applicant, case.id, 5, "一次都没跑，点赞")
    assert (rating.level, rating.channel, rating.recorded_by) == (5, "api", "qiye")
    assert h.hall.runtime.case(case.id).status == "completed"
    assert h.hall.deadlines.accountability(p.watch)[1] == 0  # approved, on time: nothing to account for


def test_bank_account_adds_the_bank_review(pa):
    p, h = pa, pa.h
    case = start(p, category="外资", open_account=True)
    pass_prereview(p, case)
    accept(p, case, "外资")
    assert open_ids(h, case.id) == sorted(f"review_{k}" for k in (*ALWAYS, "bank"))
    bank_task = only_task(h, case.id, "review_bank")
    assert bank_task.candidate_groups == ["银行"] and bank_task.due_at == at(2026, 12, 3, 17, 30)  # 3 working days

    review_all(p, case, include_bank=False)
    assert open_ids(h, case.id) == ["review_bank"]  # the join waits for the bank
    h.complete(p.depts["bank"], case.id, "review_bank", {"bank_opinion": "approve", "bank_comments": "准予开户"})
    task = only_task(h, case.id, "issue_licences")
    reviews = shown(h, p.depts["gongshang"], task)["reviews"]
    assert reviews[-1] == {"department": "银行", "opinion": "approve", "comments": "准予开户"}
    assert len(reviews) == 6


def test_a_department_rejecting_leads_to_a_consolidated_refusal(pa):
    p, h = pa, pa.h
    case = start(p, open_account=True)
    pass_prereview(p, case)
    accept(p, case)
    with pytest.raises(Invalid) as e:
        h.complete(p.depts["gongan"], case.id, "review_gongan", {"gongan_opinion": "reject"})
    assert "gongan_comments" in e.value.extra["errors"]
    review_all(p, case, reject=("gongan",), include_bank=True)

    assert open_ids(h, case.id) == ["refuse_application"]
    task = only_task(h, case.id, "refuse_application")
    assert task.candidate_groups == ["工商"]
    seen = shown(h, p.depts["gongshang"], task)
    assert seen["rejected_departments"] == ["公安"]
    assert {"department": "公安", "opinion": "reject", "comments": "公安：材料不符合要求"} in seen["reviews"]
    with pytest.raises(Invalid) as e:
        h.hall.tasks.complete(p.depts["gongshang"], task.id, {})
    assert "refusal_reason" in e.value.extra["errors"]
    h.hall.tasks.complete(p.depts["gongshang"], task.id, {"refusal_reason": "公安刻章备案不予通过"})
    case = h.hall.runtime.case(case.id)
    assert case.data["outcome"] == "refused" and case.data["refusal_reason"] == "公安刻章备案不予通过"
    assert case.status == "completed"  # a refusal issued is 办结 too
    # the refusal decision is on the accountability list, against the lead department
    [row] = h.hall.deadlines.accountability(p.watch)[0]
    assert (row.kind, row.department, row.person, row.reason) == (
        "rejection", "工商", "dept_gongshang", "公安刻章备案不予通过")


def test_each_department_sees_only_its_part_of_the_one_form(pa):
    p, h = pa, pa.h
    case = start(p, open_account=True)
    pass_prereview(p, case)
    accept(p, case)
    full = application(open_account=True)
    for key in DEPARTMENTS:
        task = only_task(h, case.id, f"review_{key}")
        assert task.form_key == f"bl_review_{key}"
        seen = shown(h, p.depts[key], task)
        assert set(seen) == {"enterprise", key}, key
        assert seen["enterprise"]["name"] == full["enterprise"]["name"]
        assert seen[key].items() >= full[key].items()
        fields = [f["name"] for f in h.hall.tasks.describe_form(h.hall.tasks.get(p.depts[key], task.id))]
        assert fields == [f"{key}_opinion", f"{key}_comments"]
    # the window that accepts sees the whole one form
    case2 = start(p)
    pass_prereview(p, case2)
    seen = shown(h, p.windows["内资窗口"], only_task(h, case2.id, "accept_domestic"))
    assert {"enterprise", "gongshang", "guoshui", "dishui", "zhijian", "gongan", "bank"} <= set(seen)


# ---------------------------------------------------------------------------------------
# 即办件

@pytest.mark.parametrize("category", ["外资", "内资"])
def test_immediate_item_is_completed_at_the_window_the_same_day(pa, category):
    p, h = pa, pa.h
    case = start(p, category=category, immediate=True)
    pass_prereview(p, case)
    accept(p, case, category)
    key = WINDOW_KEYS[category]
    task = only_task(h, case.id, f"handle_immediate_{key}")
    assert open_ids(h, case.id) == [f"handle_immediate_{key}"]  # no parallel review
    assert task.candidate_groups == [WINDOW_GROUPS[category]]
    assert task.due_at == at(2026, 11, 30, 17, 30)  # 即办件: the same working day
    assert h.hall.runtime.case(case.id).due_at == at(2026, 11, 30, 17, 30)
    with pytest.raises(Invalid) as e:
        h.hall.tasks.complete(p.windows[WINDOW_GROUPS[category]], task.id, {"outcome": "approved"})
    assert "licence_no" in e.value.extra["errors"]
    h.hall.tasks.complete(p.windows[WINDOW_GROUPS[category]], task.id,
                          {"outcome": "approved", "licence_no": "JB-2026-0001"})
    case = h.hall.runtime.case(case.id)
    assert case.data["outcome"] == "approved" and case.status == "completed"  # done on the spot
    assert not any(e.element_id and e.element_id.startswith("review_") for e in h.hall.runtime.events(case.id))


def test_immediate_item_can_be_refused_on_the_spot(pa):
    p, h = pa, pa.h
    case = start(p, category="社会事务", immediate=True)
    pass_prereview(p, case)
    accept(p, case, "社会事务")
    h.complete(p.windows["社会事务窗口"], case.id, "handle_immediate_social",
               {"outcome": "refused", "refusal_reason": "不符合即办条件"})
    assert h.hall.runtime.case(case.id).data["outcome"] == "refused"
    assert rejections(p) == [(case.id, "window_social", "不符合即办条件")]
    assert ("completed", "immediate_refused") not in actions(h, case.id)  # a milestone, not a task
    assert h.hall.runtime.case(case.id).status == "completed"
    assert h.hall.ratings.rate(p.applicant, case.id, 2, "白跑一趟").level == 2  # a refusal may be rated too


# ---------------------------------------------------------------------------------------
# 好差评

def _completed_case(p):
    case = start(p)
    pass_prereview(p, case)
    accept(p, case)
    review_all(p, case)
    p.h.complete(p.depts["gongshang"], case.id, "issue_licences", {"licence_no": "350100000099999"})
    return case


def test_ratings_come_after_the_case_is_finished_and_never_hold_it_open(pa):
    p, h = pa, pa.h
    case = start(p)
    pass_prereview(p, case)
    with pytest.raises(Conflict):  # not accepted yet
        h.hall.ratings.rate(p.applicant, case.id, 5)
    with pytest.raises(Conflict):  # not finished yet
        h.hall.ratings.rate(p.applicant, case.id, 5, stage="completed")
    accept(p, case)
    # at the window, a clerk records what a walk-in applicant says at 受理: marked as recorded there
    counter = h.hall.ratings.rate(p.windows["内资窗口"], case.id, 4)
    assert counter.stage == "accepted" and counter.channel == "counter" and counter.recorded_by == "window_domestic"
    review_all(p, case)
    p.h.complete(p.depts["gongshang"], case.id, "issue_licences", {"licence_no": "350100000099999"})
    assert h.hall.runtime.case(case.id).status == "completed"
    for bad in (9, 0, "5", True, None):
        with pytest.raises(Invalid) as e:
            h.hall.ratings.rate(p.applicant, case.id, bad)
        assert "level" in e.value.extra["errors"]
    with pytest.raises(Invalid):
        h.hall.ratings.rate(p.applicant, case.id, 3, "长" * 501)
    other = p.h.user("qiye2", groups=["申请人"], roles=["applicant"])
    with pytest.raises(Forbidden):  # another enterprise's case
        h.hall.ratings.rate(other, case.id, 1)
    with pytest.raises(Forbidden):  # a supervisor does not rate
        h.hall.ratings.rate(p.watch, case.id, 1)
    clock.advance(dt.timedelta(days=3))
    with pytest.raises(Conflict):  # 受理 is past
        h.hall.ratings.rate(p.applicant, case.id, 4, stage="accepted")
    h.hall.ratings.rate(p.applicant, case.id, 1, "窗口排队太久")
    with pytest.raises(Conflict):  # once a stage
        h.hall.ratings.rate(p.applicant, case.id, 5)
    rows = h.hall.ratings.of_case(p.applicant, case.id)
    assert [(r.stage, r.level, r.comment, r.channel) for r in rows] == [
        ("accepted", 4, None, "counter"), ("completed", 1, "窗口排队太久", "api")]
    assert rows[1].at == T0 + dt.timedelta(days=3)
    assert [a for a in actions(h, case.id) if a[0] == "rated"] == [("rated", None), ("rated", None)]
    assert h.hall.runtime.case(case.id).status == "completed"


# ---------------------------------------------------------------------------------------
# forms

def test_form_errors_name_the_field(pa):
    p, h = pa, pa.h

    def errors(data):
        with pytest.raises(Invalid) as e:
            h.hall.runtime.start(p.applicant, PROCESS, data)
        return e.value.extra["errors"]

    bad = application()
    bad["enterprise"]["credit_code"] = "91350100M000100Y44"  # wrong check character
    bad["enterprise"]["category"] = "个体"
    bad["enterprise"]["phone"] = "12345"
    assert set(errors(bad)["enterprise"]) == {"credit_code", "category", "phone"}

    bad = application()
    del bad["gongan"]
    bad["gongshang"]["company_type"] = "无限公司"
    errs = errors(bad)
    assert "gongan" in errs and errs["gongshang"] == {"company_type": [errs["gongshang"]["company_type"][0]]}

    bad = application()
    bad["zhijian"]["organization_code"] = "551385082"  # valid, but not this enterprise's
    assert "organization_code" in errors(bad)["zhijian"]

    bad = application()
    bad["gongan"]["seal_count"] = 1
    bad["bank"] = {"open_account": True}
    errs = errors(bad)
    assert "seal_count" in errs["gongan"] and "bank_name" in errs["bank"]

    bad = application()
    bad["enterprise"]["registered_capital"] = 0
    bad["surprise"] = 1
    errs = errors(bad)
    assert "registered_capital" in errs["enterprise"] and "surprise" in errs

    # no case was started by any of these
    assert h.hall.runtime.cases(p.applicant)[1] == 0

    case = start(p)
    with pytest.raises(Invalid) as e:
        h.complete(p.prereview, case.id, "online_prereview", {"prereview_decision": "maybe"})
    assert "prereview_decision" in e.value.extra["errors"]


# ---------------------------------------------------------------------------------------
# the 补正 loop, many times

def test_supplement_loop_200_times_stays_small_and_fast(pa):
    p, h = pa, pa.h
    case = start(p)
    pass_prereview(p, case)
    sizes = []
    began = time.perf_counter()
    for i in range(200):
        accept(p, case, "内资", "supplement", missing_materials=[f"材料{i}"])
        h.hall.runtime.message(p.applicant, case.id, "补正材料", {"materials": [f"材料{i}"]})
        if i in (0, 199):
            sizes.append(state_size(h, case.id))
    elapsed = time.perf_counter() - began
    accept(p, case)
    assert open_ids(h, case.id) == sorted(f"review_{k}" for k in ALWAYS)
    case = h.hall.runtime.case(case.id)
    assert case.data["supplement"] == {"materials": ["材料199"]}
    assert sizes[1] <= sizes[0] * 1.2, sizes  # the state does not grow with the loop
    assert elapsed < 20, elapsed
    assert sum(1 for a, _ in actions(h, case.id) if a == "message_received") == 200
