"""The task page: the case summary, earlier tasks read-only, and the task's form, from Camunda
formData (tests/diagrams/form_task.bpmn) or from a registered marshmallow schema (the hall's
enterprise_exit process); errors next to their field with what was typed kept; completing;
a task someone else completed or took meanwhile; who may open and work it."""

from __future__ import annotations

import datetime as dt

import lxml.html
import pytest

from engine import clock
from tests.conftest import PROCESSES
from tests.ui import test_pages as pages
from tests.ui.test_pages import T0, doc, field_error, flashes, rows, task_of, text

browse = pages.browse  # the fixtures of test_pages: a person signed in, a small hall
hall_ui = pages.hall_ui


def labels(page) -> list[str]:
    """The form's labels as shown, required marks included."""
    form = page.xpath("//form[contains(@class,'task-form')]")[0]
    return [text(x) for x in form.xpath(".//label[@for] | .//label[@class='check'] | .//legend")]


def kv(node) -> dict[str, str]:
    """A read-only <dl> as {label: value} (its first level)."""
    return dict(zip([text(x) for x in node.xpath("./dt")], [text(x) for x in node.xpath("./dd")], strict=True))


def side_card(page, title: str):
    return page.xpath(f"//aside//section[h2='{title}']")[0]


# --- Camunda formData ------------------------------------------------------------------

def test_a_form_data_form_with_its_labels_types_and_required_marks(hall_ui, browse):
    h = hall_ui
    case = h.cases[0]
    task = task_of(h, case)
    r = browse("clerk").get(f"/tasks/{task.id}")
    assert r.status_code == 200
    page = doc(r)
    assert text(page.xpath("//h1")[0]) == "审查"
    head = text(page.xpath("//div[@class='page-head']/p")[0])
    assert head.startswith(f"{case.number} · 表单测试 · 企业0 · 待办")
    assert page.xpath("//div[@class='page-head']//a/@href")[0] == f"/cases/{case.id}"
    assert labels(page) == ["审查结论*", "材料页数*", "已核原件", "收件日期"]
    assert page.xpath("//select[@name='decision']/option/text()") == ["请选择", "受理", "不予受理"]
    assert page.xpath("//select[@name='decision']/option/@value") == ["", "accept", "reject"]
    assert page.xpath("//input[@name='pages']/@inputmode") == ["decimal"]
    assert page.xpath("//input[@name='original_seen']/@type") == ["checkbox"]
    assert page.xpath("//input[@name='received_on']/@type") == ["date"]
    assert page.xpath("//form[contains(@class,'task-form')]//input[@name='csrf_token']")
    # what the worker reads of the case, with the start form's labels
    assert kv(side_card(page, "申请材料").xpath("./dl")[0]) == {"企业名称": "企业0", "注册资本": "100"}


def test_errors_are_shown_next_to_their_field_and_what_was_typed_is_kept(hall_ui, browse):
    h = hall_ui
    task = task_of(h, h.cases[0])
    web = browse("clerk")
    typed = {"decision": "", "pages": "十二", "original_seen": "on", "original_seen.present": "1",
             "received_on": "2026-11-30"}
    r = web.post(f"/tasks/{task.id}", typed)
    assert r.status_code == 422
    page = doc(r)
    assert field_error(page, "decision") and field_error(page, "pages")
    assert field_error(page, "received_on") == [] and field_error(page, "original_seen") == []
    summary = [text(x) for x in page.xpath("//div[contains(@class,'form-summary')]")]
    assert summary == ["有 2 处需要修改，已在下方标出。"]
    assert page.xpath("//input[@name='pages']/@value") == ["十二"]
    assert page.xpath("//input[@name='pages']/@class") == ["invalid"]
    assert page.xpath("//input[@name='original_seen']/@checked")
    assert page.xpath("//input[@name='received_on']/@value") == ["2026-11-30"]
    assert h.hall.tasks.row(task.id).status == "open"

    r = web.post(f"/tasks/{task.id}", {**typed, "decision": "accept", "pages": "501"})  # max 500
    assert r.status_code == 422
    page = doc(r)
    assert field_error(page, "decision") == [] and field_error(page, "pages")
    assert page.xpath("//select[@name='decision']/option[@selected]/@value") == ["accept"]
    assert page.xpath("//input[@name='pages']/@value") == ["501"]


def test_completing_returns_to_the_inbox_with_a_message(hall_ui, browse):
    h = hall_ui
    case = h.cases[0]
    task = task_of(h, case)
    web = browse("clerk")
    r = web.post(f"/tasks/{task.id}", {"decision": "reject", "pages": "12", "original_seen.present": "1",
                                       "received_on": "2026-11-29"})
    assert r.status_code == 302 and r.headers["Location"] == "/inbox"
    inbox = web.get("/inbox")
    assert flashes(inbox) == [f"已办理：审查（{case.number}）"]
    assert case.number not in [row[0] for row in rows(inbox)]
    done = h.hall.tasks.row(task.id)
    assert done.status == "completed"
    assert done.data == {"decision": "reject", "pages": 12, "original_seen": False, "received_on": "2026-11-29"}
    assert flashes(web.get("/inbox")) == []  # said once
    # the task's page now shows what was decided, with the form's labels
    page = doc(web.get(f"/tasks/{task.id}"))
    result = page.xpath("//section[contains(@class,'main-col')]/dl")[0]
    assert kv(result) == {"审查结论": "不予受理", "材料页数": "12", "已核原件": "否", "收件日期": "2026-11-29"}


def test_a_task_completed_meanwhile_says_so_and_shows_what_was_typed(hall_ui, browse):
    h = hall_ui
    task = task_of(h, h.cases[0])
    web = browse("clerk")
    assert web.get(f"/tasks/{task.id}").status_code == 200  # the form is on clerk's screen...
    h.hall.tasks.complete(h.people["clerk2"], task.id, {"decision": "reject", "pages": 3})  # ...clerk2 is quicker
    r = web.post(f"/tasks/{task.id}", {"decision": "accept", "pages": "12", "received_on": "2026-11-30"})
    assert r.status_code == 409
    page = doc(r)
    main = page.xpath("//section[contains(@class,'main-col')]")[0]
    [message] = [text(x) for x in main.xpath(".//div[contains(@class,'flash')]")]
    assert "已办理" in message
    assert kv(main.xpath(".//dl")[0]) == {"审查结论": "受理", "材料页数": "12", "收件日期": "2026-11-30"}
    assert not page.xpath("//form[contains(@class,'task-form')]")
    assert h.hall.tasks.row(task.id).data == {"decision": "reject", "pages": 3}  # clerk2's answer stands


def test_a_task_someone_else_took_meanwhile_says_so_and_shows_what_was_typed(hall_ui, browse):
    h = hall_ui
    task = task_of(h, h.cases[0])
    web = browse("clerk")
    h.hall.tasks.claim(h.people["clerk2"], task.id)
    r = web.post(f"/tasks/{task.id}", {"decision": "accept", "pages": "7"})
    assert r.status_code == 409
    main = doc(r).xpath("//section[contains(@class,'main-col')]")[0]
    assert "已由 clerk2 签收" in text(main.xpath(".//div[contains(@class,'flash')]")[0])  # who took it
    assert kv(main.xpath(".//dl")[0]) == {"审查结论": "受理", "材料页数": "7"}
    assert h.hall.tasks.row(task.id).status == "open"
    # and the page, opened again, says whose it is
    page = doc(web.get(f"/tasks/{task.id}"))
    assert "办理人 clerk2" in text(page.xpath("//div[@class='page-head']/p")[0])
    assert "本环节不由您办理。" in text(page.xpath("//section[contains(@class,'main-col')]")[0])


def test_another_groups_task_page_is_forbidden(hall_ui, browse):
    h = hall_ui
    task = task_of(h, h.cases[0])
    web = browse("gs")
    for r in (web.get(f"/tasks/{task.id}"), web.post(f"/tasks/{task.id}", {"decision": "accept", "pages": "3"})):
        assert r.status_code == 403
        assert "无权访问" in text(doc(r).xpath("//h1")[0])
        assert "企业0" not in r.text and "decision" not in r.text
    assert h.hall.tasks.row(task.id).status == "open"


def test_a_task_held_by_me_is_worked_without_claiming_again(hall_ui, browse):
    h = hall_ui
    task = task_of(h, h.cases[0])
    h.hall.tasks.claim(h.people["clerk"], task.id)
    web = browse("clerk")
    page = doc(web.get(f"/tasks/{task.id}"))
    assert "办理人 clerk" in text(page.xpath("//div[@class='page-head']/p")[0])
    assert page.xpath("//form[contains(@class,'task-form')]")
    # clerk2 of the same group reads it but cannot work it
    other = browse("clerk2")
    r = other.get(f"/tasks/{task.id}")
    assert r.status_code == 200 and not doc(r).xpath("//form[contains(@class,'task-form')]")
    assert web.post(f"/tasks/{task.id}", {"decision": "reject", "pages": "3"}).status_code == 302


def test_a_task_without_a_form_takes_a_comment(hall_ui, browse):
    h = hall_ui
    task = task_of(h, h.urgent)  # timers: review has no form
    web = browse("clerk")
    page = doc(web.get(f"/tasks/{task.id}"))
    assert labels(page) == ["办理意见"]
    assert page.xpath("//textarea[@name='comment']")
    r = web.post(f"/tasks/{task.id}", {"comment": "材料齐全"})
    assert r.status_code == 302
    assert h.hall.tasks.row(task.id).data == {"comment": "材料齐全"}


# --- a registered marshmallow form (enterprise_exit) -----------------------------------

REPORT = {
    "enterprise": {"name": "远航电子科技有限公司", "credit_code": "91320115MA1P4R7T2K", "annual_tax": 3200.0,
                   "annual_output": 56000.0, "employees": 1200},
    "destination": "苏州工业园区", "reasons": "用地扩张受限，外地给予土地和税收优惠", "urgency": "紧急",
}


@pytest.fixture
def exit_case(h):
    """An enterprise reported as leaving (商务); 招商局 and 管理办 analyse it in parallel."""
    clock.freeze(T0)
    h.deploy(PROCESSES / "enterprise_exit.bpmn")
    h.people = {
        "shangwu": h.user("shangwu", groups=["商务"]),
        "glb": h.user("glb", groups=["管理办"], roles=["staff", "coordinator"]),
        "zsj": h.user("zsj", groups=["招商局"]),
        "fu": h.user("fu", groups=["常务副主任"], roles=["staff", "director"]),
    }
    h.case = h.hall.runtime.start(h.people["shangwu"], "enterprise_exit", REPORT)
    return h


def test_a_form_with_a_section_from_a_registered_schema(exit_case, browse):
    h = exit_case
    task = h.open_tasks(h.case.id, "analyse_guanliban")[0]
    web = browse("glb")
    page = doc(web.get(f"/tasks/{task.id}"))
    assert labels(page) == ["管理办意见*", "原因分析*", "拟提供的挽留措施*", "联络人"]
    assert page.xpath("//fieldset/legend/text()") == ["管理办意见"]
    assert page.xpath("//fieldset//textarea/@name") == ["guanliban.analysis", "guanliban.measures"]
    assert page.xpath("//fieldset//input[@type='text']/@name") == ["guanliban.contact"]
    material = side_card(page, "申请材料").xpath("./dl")[0]
    assert kv(material)["拟迁往地"] == "苏州工业园区"
    assert kv(material)["紧急程度"] == "紧急"
    assert "企业名称 远航电子科技有限公司" in kv(material)["企业情况"]

    r = web.post(f"/tasks/{task.id}", {"guanliban.analysis": "", "guanliban.measures": "开通绿色通道",
                                       "guanliban.contact": "王主任"})
    assert r.status_code == 422
    page = doc(r)
    assert field_error(page, "guanliban.analysis")
    assert field_error(page, "guanliban.measures") == []
    assert page.xpath("//textarea[@name='guanliban.measures']/text()") == ["开通绿色通道"]
    assert page.xpath("//input[@name='guanliban.contact']/@value") == ["王主任"]

    r = web.post(f"/tasks/{task.id}", {"guanliban.analysis": "企业对审批效率有意见",
                                       "guanliban.measures": "开通绿色通道", "guanliban.contact": ""})
    assert r.status_code == 302
    assert h.hall.tasks.row(task.id).data == {"guanliban": {"analysis": "企业对审批效率有意见",
                                                           "measures": "开通绿色通道", "contact": ""}}


def test_a_registered_form_with_date_text_textarea_and_select_and_the_earlier_tasks(exit_case, browse):
    h = exit_case
    clock.advance(dt.timedelta(days=1))
    h.complete(h.people["zsj"], h.case.id, "analyse_zhaoshang", {"zhaoshang": {
        "analysis": "企业扩产需用地80亩", "measures": "协调工业园区二期用地", "contact": "招商局李科长"}})
    h.complete(h.people["glb"], h.case.id, "analyse_guanliban", {"guanliban": {
        "analysis": "企业对审批效率有意见", "measures": "开通绿色通道"}})
    task = h.open_tasks(h.case.id, "meet_enterprise")[0]
    web = browse("fu")
    page = doc(web.get(f"/tasks/{task.id}"))
    assert labels(page) == ["约谈日期*", "参加人员*", "企业诉求*", "政府承诺事项", "约谈结果*"]
    assert page.xpath("//input[@name='met_on']/@type") == ["date"]
    assert page.xpath("//input[@name='attendees']/@type") == ["text"]
    assert page.xpath("//form[contains(@class,'task-form')]//textarea/@name") == ["enterprise_demands",
                                                                                 "commitments"]
    assert page.xpath("//select[@name='outcome']/option/text()") == ["请选择", "挽留成功", "确定迁出"]
    # 5 working days from Tue 1 Dec 09:00: the close of office hours on Tue 8 Dec
    assert "办理时限 2026-12-08 17:30" in text(page.xpath("//div[@class='page-head']/p")[0])
    # the earlier tasks' answers, read-only, with their forms' labels
    earlier = side_card(page, "前序环节")
    assert [text(s) for s in earlier.xpath(".//summary")] == [
        "招商局分析并提出挽留措施 2026-12-01 09:00", "管理办分析并提出挽留措施 2026-12-01 09:00"]
    assert "原因分析 企业扩产需用地80亩" in text(earlier.xpath(".//details")[0])
    assert not earlier.xpath(".//input | .//textarea | .//select")

    typed = {"met_on": "2026-12-32", "attendees": "常务副主任、企业董事长",
             "enterprise_demands": "解决用地\n和人才公寓", "commitments": "", "outcome": "retained"}
    r = web.post(f"/tasks/{task.id}", typed)
    assert r.status_code == 422
    page = doc(r)
    assert field_error(page, "met_on")
    assert page.xpath("//input[@name='met_on']/@value") == ["2026-12-32"]
    assert page.xpath("//textarea[@name='enterprise_demands']/text()") == ["解决用地\n和人才公寓"]
    assert page.xpath("//select[@name='outcome']/option[@selected]/@value") == ["retained"]
    r = web.post(f"/tasks/{task.id}", {**typed, "met_on": "2026-12-03"})
    assert r.status_code == 302
    assert [t.element_id for t in h.open_tasks(h.case.id)] == ["record_retained"]
    assert h.hall.tasks.row(task.id).data["met_on"] == "2026-12-03"


# --- a form with repeatable rows (big_project: the coordinator breaks the project up) ----

PROJECT = {"project_name": "年产十万吨新材料项目", "investor": "某某新材料集团", "investment": 150000,
           "approvals_needed": ["企业设立登记", "税务登记"]}


@pytest.fixture
def plan_task(h):
    """The coordinator xtz has been named; the project waits to be broken into approvals."""
    clock.freeze(T0)
    h.deploy(PROCESSES / "big_project.bpmn")
    director = h.user("fzr", groups=["常务副主任"], roles=["staff", "director"])
    h.user("xtz", groups=["管理办"], roles=["staff", "coordinator"])
    h.case = h.hall.runtime.start(director, "big_project", PROJECT)
    h.complete(director, h.case.id, "assign_coordinator", {"coordinator": "xtz"})
    return h, h.open_tasks(h.case.id, "plan_approvals")[0]


def test_repeatable_rows_with_an_error_in_one_row(plan_task, browse):
    h, task = plan_task
    web = browse("xtz")
    page = doc(web.get(f"/tasks/{task.id}"))
    assert text(page.xpath("//fieldset[contains(@class,'repeater')]/legend")[0]) == "部门审批事项*"
    rows_ = page.xpath("//fieldset[contains(@class,'repeater')]/div[@class='row']")
    assert len(rows_) == 1
    assert rows_[0].xpath(".//select/@name | .//input[@type='text']/@name") == [
        "approvals[0].dept", "approvals[0].item", "approvals[0].days"]
    template = page.xpath("//fieldset[contains(@class,'repeater')]/template")[0]
    assert 'name="approvals[__i__].dept"' in lxml.html.tostring(template, encoding="unicode")

    # rows 0 and 3 (the browser added rows and removed one); the second says 99 days
    typed = {"approvals.present": "1",
             "approvals[0].dept": "工商", "approvals[0].item": "企业设立登记", "approvals[0].days": "3",
             "approvals[3].dept": "国税", "approvals[3].item": "税务登记", "approvals[3].days": "99"}
    r = web.post(f"/tasks/{task.id}", typed)
    assert r.status_code == 422
    page = doc(r)
    assert field_error(page, "approvals[1].days") and field_error(page, "approvals[0].days") == []
    assert page.xpath("//input[@name='approvals[1].days']/@value") == ["99"]
    assert page.xpath("//select[@name='approvals[1].dept']/option[@selected]/@value") == ["国税"]
    assert page.xpath("//input[@name='approvals[0].item']/@value") == ["企业设立登记"]

    r = web.post(f"/tasks/{task.id}", {**typed, "approvals[3].days": "5"})
    assert r.status_code == 302
    assert h.hall.tasks.row(task.id).data["approvals"] == [
        {"dept": "工商", "item": "企业设立登记", "days": 3}, {"dept": "国税", "item": "税务登记", "days": 5}]
    assert sorted(t.candidate_groups[0] for t in h.open_tasks(h.case.id, "department_approval")) == ["国税", "工商"]


def test_a_list_must_have_a_row(plan_task, browse):
    _h, task = plan_task
    web = browse("xtz")
    r = web.post(f"/tasks/{task.id}", {"approvals.present": "1", "approvals[0].dept": "", "approvals[0].item": "",
                                       "approvals[0].days": ""})
    assert r.status_code == 422
    assert field_error(doc(r), "approvals.present") == ["至少分解出一项审批"]
