"""A window clerk's day in a real browser (Chromium through Playwright): claim a task from the
inbox, submit its form with a mistake and see it next to the field, correct it and complete;
the case's diagram with its next tasks highlighted; another group's task is a 403."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import PROCESSES
from webapp import db

APPLICATION = {
    "enterprise": {"name": "闽江数字科技有限公司", "credit_code": "91350100M000100Y43", "legal_rep": "林晓",
                   "address": "福州市鼓楼区五四路 88 号", "phone": "0591-87654321", "registered_capital": 500,
                   "category": "内资"},
    "gongshang": {"business_scope": "软件开发；信息技术咨询服务", "company_type": "有限责任公司"},
    "guoshui": {"tax_type": "小规模纳税人", "invoice_types": ["增值税普通发票"]},
    "dishui": {"employee_count": 12, "accounting_system": "小企业会计准则"},
    "zhijian": {"organization_code": "M000100Y-4", "product_standards": "Q/MJ 001-2026"},
    "gongan": {"seal_count": 3, "seal_types": ["公章", "财务专用章", "发票专用章"]},
}
REVIEWS = ["review_gongshang", "review_guoshui", "review_dishui", "review_zhijian", "review_gongan"]


def task_now(h):
    """The task's row as the server has it now (the test's own session may hold an older snapshot)."""
    db.session.rollback()
    return h.hall.tasks.row(h.task.id)


@pytest.fixture
def at_the_window(h):
    """A 一单通 that passed online pre-review and waits at the 内资窗口."""
    h.deploy(PROCESSES / "parallel_approval.bpmn")
    qiye = h.user("qiye", groups=["申请人"], roles=["applicant"])
    yushen = h.user("yushen", groups=["网上预审"])
    h.user("neizi", groups=["内资窗口"])
    h.user("gongshang", groups=["工商"])
    case = h.hall.runtime.start(qiye, "parallel_approval", APPLICATION)
    h.complete(yushen, case.id, "online_prereview", {"prereview_decision": "pass"})
    h.case = case
    h.task = h.open_tasks(case.id, "accept_domestic")[0]
    return h


def test_a_window_clerk_claims_corrects_a_mistake_and_completes(at_the_window, page):
    h = at_the_window
    sign_in(page, "neizi")
    row = page.locator("table.list tbody tr", has_text=h.case.number)
    expect(row).to_contain_text("内资窗口受理")
    expect(row).to_contain_text("闽江数字科技有限公司")
    row.get_by_role("button", name="签收").click()
    expect(page.locator(".flash.success")).to_have_text("已签收")
    row = page.locator("table.list tbody tr", has_text=h.case.number)
    expect(row.get_by_role("button", name="放回组内")).to_be_visible()
    expect(page.locator("header nav .count")).to_have_text("1/0")

    row.get_by_role("link", name="办理").click()
    expect(page.locator("h1")).to_have_text("内资窗口受理")
    page.select_option("select[name=acceptance]", label="补正")
    page.fill("textarea[name=acceptance_comments]", "请补交公司章程")
    page.get_by_role("button", name="提交办理").click()

    materials = page.locator(".field", has=page.locator("textarea[name=missing_materials]"))
    expect(materials.locator(".field-error")).to_contain_text("补正须列明所缺材料")
    expect(materials.locator("textarea")).to_be_focused()  # the field to correct, scrolled to
    expect(page.locator("select[name=acceptance]")).to_have_value("supplement")
    expect(page.locator("textarea[name=acceptance_comments]")).to_have_value("请补交公司章程")
    assert task_now(h).status == "open"

    materials.locator("textarea").fill("公司章程\n股东会决议")
    page.get_by_role("button", name="提交办理").click()
    page.wait_for_url("**/inbox")
    expect(page.locator(".flash.success")).to_have_text(f"已办理：内资窗口受理（{h.case.number}）")
    expect(page.locator("table.list", has_text=h.case.number)).to_have_count(0)
    done = task_now(h)
    assert done.status == "completed"
    assert done.data["missing_materials"] == ["公司章程", "股东会决议"]


def test_the_case_page_highlights_the_next_tasks_on_the_diagram(at_the_window, page):
    h = at_the_window
    h.complete(h.actor("neizi"), h.case.id, "accept_domestic", {"acceptance": "accept"})
    sign_in(page, "neizi")
    page.goto(f"/cases/{h.case.id}")
    expect(page.locator("#diagram[data-ready=true]")).to_have_count(1)
    current = page.locator("#diagram g.djs-element.hall-current")
    expect(current).to_have_count(len(REVIEWS))
    assert sorted(current.evaluate_all("els => els.map(e => e.dataset.elementId)")) == sorted(REVIEWS)
    done = page.locator("#diagram g.djs-element.hall-done").evaluate_all("els => els.map(e => e.dataset.elementId)")
    assert {"start_application", "online_prereview", "accept_domestic"} <= set(done)
    assert not set(done) & set(REVIEWS)
    # the highlight is drawn: the task's shape is filled amber
    fill = page.locator('#diagram g.djs-element.hall-current[data-element-id="review_gongshang"] .djs-visual > rect')
    assert fill.evaluate("e => getComputedStyle(e).fill") == "rgb(255, 241, 214)"
    # the open tasks listed under the diagram are those highlighted
    expect(page.locator("tr.current-task")).to_have_count(len(REVIEWS))


def test_another_groups_task_page_is_forbidden(at_the_window, page):
    h = at_the_window
    sign_in(page, "gongshang")
    response = page.goto(f"/tasks/{h.task.id}")
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("无权访问")
    expect(page.locator("form.task-form")).to_have_count(0)
    expect(page.get_by_text("闽江数字科技有限公司")).to_have_count(0)
    page.get_by_role("link", name=re.compile("返回我的待办")).click()
    page.wait_for_url("**/inbox")


@pytest.mark.parametrize("path", ["/inbox", "/cases", "/done"])
def test_on_a_phone_a_list_keeps_its_columns_and_scrolls_sideways(at_the_window, browser, live_server, path):
    """At a phone's width a table is not squeezed to a character a line: each row stays one
    line high, and the table scrolls sideways inside itself."""
    h = at_the_window
    h.complete(h.actor("neizi"), h.case.id, "accept_domestic", {"acceptance": "accept"})  # done
    waiting = h.hall.runtime.start(h.actor("qiye"), "parallel_approval", APPLICATION)  # in the inbox
    h.complete(h.actor("yushen"), waiting.id, "online_prereview", {"prereview_decision": "pass"})
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN", base_url=live_server)
    page = context.new_page()
    try:
        sign_in(page, "neizi")
        page.goto(path)
        rows = page.locator("table.list tbody tr")
        expect(rows.first).to_be_visible()
        line = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight) || 24")
        for height in rows.evaluate_all("rs => rs.map(r => r.getBoundingClientRect().height)"):
            assert height < 2.5 * line, (path, height, line)
        table = page.locator("table.list").first
        assert table.evaluate("t => t.getBoundingClientRect().right") <= 375 + 1  # the page itself does not scroll
        assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1
    finally:
        context.close()
