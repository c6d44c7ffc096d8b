"""The hall's feedback loops in a real browser, as its people would walk them.

好差评: an enterprise gives a 差评 in 企业之家; the rated window is asked to verify it and to
rectify, and reports back; the enterprise reads the answer and rates again. 意见建议/投诉:
an enterprise complains about a step of its case; the department finds it substantiated;
the enterprise reads the reply; the supervisor closes it and the misconduct is on 审批问责.
(管理办's review and classification are the engine's here: their pages are those of any task.)"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from engine.identity import SYSTEM
from tests.browser.conftest import sign_in
from tests.processes.test_parallel_approval import application
from tests.test_filing import ACCEPTED, item
from webapp import db


@pytest.fixture
def hall_served(h):
    """A 即办件 of the 内资窗口 done for the enterprise qiye (its own account)."""
    from tests.conftest import PROCESSES

    for name in ("parallel_approval.bpmn", "poor_rating.bpmn", "complaint.bpmn"):
        h.deploy(PROCESSES / name)
    h.owner = h._owner()
    h.hall.catalogue.save(h.owner, item(code="JB-1", name="印章刻制备案", kind="immediate", legal_days=1,
                                        promised_days=0))
    enterprise = h.hall.portal.enterprise_for_filing(SYSTEM, "91350100M000100Y43", "闽江数字科技有限公司")
    h.hall.identity.create_user("qiye", "pw", ["申请人"], ["applicant"], enterprise_id=enterprise)
    h.qiye = h.actor("qiye")
    h.yushen = h.user("yushen", groups=["网上预审"])
    h.neizi = h.user("neizi", groups=["内资窗口"])
    h.xietiao = h.user("xietiao", groups=["管理办"], roles=["staff", "coordinator"])
    h.user("jiancha", roles=["supervisor"])
    case = h.hall.runtime.start(h.qiye, None, application(), item="JB-1")
    h.complete(h.yushen, case.id, "online_prereview", {"prereview_decision": "pass"})
    h.complete(h.neizi, case.id, "accept_domestic", ACCEPTED)
    h.complete(h.neizi, case.id, "handle_immediate_domestic", {"outcome": "approved", "licence_no": "JB-1"})
    h.served = case
    db.session.commit()
    return h


def work_task(page, case_number: str, name: str) -> None:
    """From the inbox: take the task of the case and open its form."""
    page.goto("/inbox")
    row = page.locator("table.list tbody tr", has_text=case_number).filter(has_text=name)
    row.get_by_role("button", name="签收").click()
    expect(page.locator(".flash.success")).to_have_text("已签收")
    page.locator("table.list tbody tr", has_text=case_number).filter(has_text=name).get_by_role(
        "link", name="办理").click()
    expect(page.locator("h1")).to_have_text(name)


def test_a_poor_rating_is_verified_rectified_and_answered_and_the_enterprise_rates_again(hall_served, browser,
                                                                                         live_server):
    h = hall_served
    enterprise = browser.new_context(locale="zh-CN", base_url=live_server).new_page()
    clerk = browser.new_context(locale="zh-CN", base_url=live_server).new_page()
    sign_in(enterprise, "qiye")
    enterprise.goto(f"/portal/cases/{h.served.id}")
    enterprise.check("form.rate-form input[name=level][value='1']")
    enterprise.click("form.rate-form summary")  # the five aspects, opened
    enterprise.select_option("select[name='dim.attitude']", label="非常不满意")
    enterprise.fill("form.rate-form textarea[name=comment]", "证照上的名称打错了")
    enterprise.click("text=提交评价")
    expect(enterprise.locator(".flash.success")).to_have_text("感谢您的评价")
    expect(enterprise.locator("table.ratings")).to_contain_text("证照上的名称打错了")

    db.session.rollback()
    [poor] = h.hall.ratings.of_case(h.owner, h.served.id)
    fix = h.hall.runtime.case(poor.rectification_case_id)
    sign_in(clerk, "neizi")
    expect(clerk.locator("table.list")).to_contain_text("联系评价人核实")
    work_task(clerk, fix.number, "联系评价人核实")
    expect(clerk.locator("main")).to_contain_text("证照上的名称打错了")  # what the rater said, on the task
    clerk.check("input[name=contacted]")
    clerk.select_option("select[name=verification]", label="属实")
    clerk.fill("textarea[name=verify_note]", "已电话联系企业，确为打印错误")
    clerk.get_by_role("button", name="提交办理").click()
    expect(clerk.locator(".flash.success")).to_contain_text("已办理")
    work_task(clerk, fix.number, "整改")
    clerk.fill("textarea[name=measures]", "打印前双人核对名称")
    clerk.fill("textarea[name=result]", "已重新制发证照")
    clerk.get_by_role("button", name="提交办理").click()
    expect(clerk.locator(".flash.success")).to_contain_text("已办理")

    db.session.rollback()
    h.complete(h.xietiao, fix.id, "review", {"review": "pass", "review_note": "整改到位"})
    db.session.commit()
    work_task(clerk, fix.number, "整改结果反馈评价人")
    clerk.select_option("select[name=reply_way]", label="企业之家")
    clerk.fill("textarea[name=reply]", "证照已重新制发，请到内资窗口领取，给您带来不便深表歉意")
    clerk.get_by_role("button", name="提交办理").click()
    expect(clerk.locator(".flash.success")).to_contain_text("已办理")

    enterprise.goto("/notifications")
    enterprise.click(f"text=办件 {fix.number} 已办结")
    expect(enterprise.locator("main")).to_contain_text("证照已重新制发，请到内资窗口领取")
    enterprise.goto(f"/portal/cases/{h.served.id}")
    expect(enterprise.locator("form.rate-form")).to_contain_text("整改结果已反馈，请您再次评价")
    enterprise.check("form.rate-form input[name=level][value='4']")
    enterprise.click("text=提交评价")
    expect(enterprise.locator(".flash.success")).to_have_text("感谢您的评价")
    expect(enterprise.locator("table.ratings tbody tr")).to_have_count(2)
    db.session.rollback()
    assert [(r.stage, r.level) for r in h.hall.ratings.of_case(h.owner, h.served.id)] == [
        ("completed", 1), ("rectified", 4)]


def test_a_complaint_goes_from_the_portal_to_its_reply_and_an_accountability_record(hall_served, browser,
                                                                                    live_server):
    h = hall_served
    enterprise = browser.new_context(locale="zh-CN", base_url=live_server).new_page()
    sign_in(enterprise, "qiye")
    enterprise.goto(f"/portal/cases/{h.served.id}")
    enterprise.click("a.complain")
    enterprise.select_option("select[name=kind]", "complaint")
    enterprise.fill("input[name=subject]", "办结时被要求另交材料")
    enterprise.fill("textarea[name=content]", "即办件办结时窗口要求补交一份清单外的材料。")
    enterprise.select_option("select[name=about_task]", index=3)  # the step it is about
    enterprise.get_by_role("button", name="提交").click()
    expect(enterprise.locator(".flash.success")).to_be_visible()

    db.session.rollback()
    [c] = h.hall.complaints.list(h.xietiao)[0]
    assert c.about_task_id is not None
    h.complete(h.xietiao, c.case_id, "classify", {"kind": "complaint", "department": "内资窗口",
                                                  "investigate_days": 3})
    db.session.commit()
    clerk = browser.new_context(locale="zh-CN", base_url=live_server).new_page()
    sign_in(clerk, "neizi")
    work_task(clerk, h.hall.runtime.case(c.case_id).number, "调查核实")
    clerk.fill("textarea[name=findings]", "经查属实，窗口人员多要求了材料")
    clerk.check("input[name=substantiated]")
    clerk.select_option("select[name=misconduct]", label="不合理退批")
    clerk.get_by_role("button", name="提交办理").click()
    expect(clerk.locator(".flash.success")).to_contain_text("已办理")

    db.session.rollback()
    h.complete(h.neizi, c.case_id, "rectify", {"measures": "严格按一次性告知清单收件", "result": "已向企业致歉"})
    h.complete(h.xietiao, c.case_id, "reply", {"reply": "经查属实，已责令整改并向贵司致歉", "way": "online"})
    db.session.commit()
    enterprise.goto("/portal")
    expect(enterprise.locator("section.my-complaints")).to_contain_text("经查属实，已责令整改并向贵司致歉")

    supervisor = browser.new_context(locale="zh-CN", base_url=live_server).new_page()
    sign_in(supervisor, "jiancha")
    supervisor.goto(f"/complaints/{c.id}")
    supervisor.fill("form.close-form textarea[name=opinion]", "属实，予以问责")
    supervisor.check("form.close-form input[name=accountable]")
    supervisor.click("form.close-form button[type=submit]")
    expect(supervisor.locator(".flash.success")).to_be_visible()
    supervisor.click("header >> text=审批问责")
    row = supervisor.locator("table.list tbody tr", has_text="不合理退批")
    expect(row).to_contain_text(h.served.number)
    expect(row).to_contain_text(re.compile("neizi|内资"))
