"""A form with repeatable rows in a real browser: the coordinator breaks a big project into
department approvals, adding and removing rows (big_project, sj_plan)."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from engine import clock
from tests.browser.conftest import sign_in
from tests.conftest import PROCESSES
from webapp import db

PROJECT = {"project_name": "年产十万吨新材料项目", "investor": "某某新材料集团", "investment": 150000,
           "approvals_needed": ["企业设立登记", "税务登记", "特种设备使用登记"]}


@pytest.fixture
def plan(h):
    clock.freeze(dt.datetime(2026, 11, 30, 9, 0, tzinfo=clock.HALL_TZ))
    h.deploy(PROCESSES / "big_project.bpmn")
    director = h.user("fzr", groups=["常务副主任"], roles=["staff", "director"])
    h.user("xtz", groups=["管理办"], roles=["staff", "coordinator"])
    case = h.hall.runtime.start(director, "big_project", PROJECT)
    h.complete(director, case.id, "assign_coordinator", {"coordinator": "xtz"})
    h.case = case
    return h, h.open_tasks(case.id, "plan_approvals")[0]


def fill_row(row, dept, item, days):
    row.locator("select").select_option(label=dept)
    row.locator("input[name$='.item']").fill(item)
    row.locator("input[name$='.days']").fill(days)


def test_rows_are_added_removed_and_submitted_in_order(plan, page):
    h, task = plan
    sign_in(page, "xtz")
    page.goto(f"/tasks/{task.id}")
    rows = page.locator("fieldset.repeater > .row")
    expect(rows).to_have_count(1)
    fill_row(rows.nth(0), "工商", "企业设立登记", "3")
    add = page.get_by_role("button", name="+ 添加一行")
    add.click()
    add.click()
    expect(rows).to_have_count(3)
    expect(rows.nth(2).locator("select")).to_be_focused()  # the new row is ready to fill
    fill_row(rows.nth(1), "国税", "税务登记", "5")
    fill_row(rows.nth(2), "质监", "特种设备使用登记", "99")
    rows.nth(1).get_by_role("button", name="删除此行").click()
    expect(rows).to_have_count(2)
    add.click()  # a row added after a removal does not take a name in use
    expect(rows).to_have_count(3)
    names = rows.locator("select").evaluate_all("els => els.map(e => e.name)")
    assert len(set(names)) == 3, names
    fill_row(rows.nth(2), "地税", "税务登记", "4")

    page.get_by_role("button", name="提交办理").click()
    # 99 days is too long: said next to the second row's field, every row kept in order
    expect(rows).to_have_count(3)
    second = page.locator(".field", has=page.locator("input[name='approvals[1].days']"))
    expect(second.locator(".field-error")).to_have_count(1)
    expect(page.locator("input[name='approvals[1].days']")).to_be_focused()
    expect(page.locator("input[name='approvals[2].item']")).to_have_value("税务登记")
    page.fill("input[name='approvals[1].days']", "10")
    page.get_by_role("button", name="提交办理").click()
    page.wait_for_url("**/inbox")
    expect(page.locator(".flash.success")).to_contain_text("分解审批事项")
    db.session.rollback()  # read what the server wrote, not this session's older snapshot
    assert h.hall.tasks.row(task.id).data["approvals"] == [
        {"dept": "工商", "item": "企业设立登记", "days": 3},
        {"dept": "质监", "item": "特种设备使用登记", "days": 10},
        {"dept": "地税", "item": "税务登记", "days": 4}]
