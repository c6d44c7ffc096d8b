"""The quarterly 百分考核 in a real browser: 管理办 sets the star rule, enters a deduction with
its reason, and publishes the quarter; a member of staff opens 百分考核 and reads the
published scores, the deduction's cause and the star windows."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import DIAGRAMS

Q3 = "2026Q3"  # the quarter before the tests' Tuesday in December


@pytest.fixture
def staffed(h):
    h.deploy(DIAGRAMS / "form_task.bpmn")
    h.user("neizi", groups=["内资窗口"])
    h.user("waizi", groups=["外资窗口"])
    h.user("glb", groups=["管理办"], roles=["staff", "coordinator"])
    return h


def test_the_office_publishes_a_quarter_and_staff_read_it_with_the_star_windows(staffed, browser, live_server):
    office = browser.new_context(locale="zh-CN", base_url=live_server).new_page()
    sign_in(office, "glb")
    office.click("header >> text=百分考核")
    office.goto("/assessment/scheme")
    office.fill("input[name='windows-min_ratings']", "0")  # this quarter had no ratings to count
    office.get_by_role("button", name="保存").click()
    expect(office.locator(".flash.success")).to_contain_text("已保存为第 1 版")

    office.goto(f"/assessment/{Q3}")
    expect(office.locator("p.status.draft")).to_be_visible()
    office.select_option("form.entry-form select[name=subject_kind]", "window")
    office.select_option("form.entry-form select[name=subject]", "内资窗口")
    office.fill("form.entry-form input[name=points]", "-2")
    office.fill("form.entry-form input[name=reason]", "9月12日窗口无人值守15分钟")
    office.click("form.entry-form button[type=submit]")
    expect(office.locator(".flash.success")).to_have_text("已录入")
    expect(office.locator("tr[data-key='内资窗口'] td.total")).to_have_text("98")
    office.click("#publish")
    expect(office.locator(".flash.success")).to_have_text("已公示")
    expect(office.locator("p.status.published")).to_contain_text("季公示")

    staff = browser.new_context(locale="zh-CN", base_url=live_server).new_page()
    sign_in(staff, "neizi")
    staff.click("header >> text=百分考核")
    staff.wait_for_url(re.compile(rf".*/assessment/{Q3}$"))
    expect(staff.locator("p.status.published")).to_be_visible()
    expect(staff.locator("tr[data-key='内资窗口'] td.total")).to_have_text("98")
    expect(staff.locator("tr[data-key='内资窗口']")).to_contain_text("9月12日窗口无人值守15分钟")
    expect(staff.locator("ol.star-windows")).to_contain_text("外资窗口")
    expect(staff.locator("form.entry-form")).to_have_count(0)  # staff read; 管理办 enters
