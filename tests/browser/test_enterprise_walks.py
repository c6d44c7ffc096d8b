"""The enterprise's side in a real browser, as a new user would walk it.

Online: an enterprise signs up, reads a guide, files a 并联审批 case with uploads (kept as a
draft first), gets a 补正 notice listing what is missing, answers it with files, is
accepted, follows the departments' progress, opens its notices and rates the service.
At the counter: a walk-in applicant's case goes from intake to 办结 with no API call, the
clerk recording the applicant's rating. (The departments' own steps are the engine's, as in
every process test: they have their pages tested elsewhere.)"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.test_filing import item
from tests.test_materials import PDF, PNG
from tests.test_portal import one_form_fields
from webapp import db

DEPARTMENTS = {"gongshang": "工商", "guoshui": "国税", "dishui": "地税", "zhijian": "质监", "gongan": "公安"}


@pytest.fixture
def hall_open(h):
    from tests.conftest import PROCESSES

    h.deploy(PROCESSES / "parallel_approval.bpmn")
    h.owner = h._owner()
    h.hall.catalogue.save(h.owner, item())
    h.yushen = h.user("yushen", groups=["网上预审"])
    h.neizi = h.user("neizi", groups=["内资窗口"])
    h.depts = {k: h.user(k, groups=[g]) for k, g in DEPARTMENTS.items()}
    return h


def fill_one_form(page) -> None:
    """The 一单通 typed in as a person would."""
    for name, value in one_form_fields().items():
        if name.endswith(".present") or name == "bank.open_account":
            continue
        field = page.locator(f"[name='{name}']")
        if isinstance(value, list):
            for v in value:
                page.locator(f"input[name='{name}'][value='{v}']").check()
        elif field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def review_all(h, case_id) -> None:
    db.session.rollback()
    for key, user in h.depts.items():
        h.complete(user, case_id, f"review_{key}", {f"{key}_opinion": "approve"})
    h.complete(h.depts["gongshang"], case_id, "issue_licences", {"licence_no": "91350100M000100Y43"})


def test_an_enterprise_files_online_answers_a_supplement_and_rates_the_service(hall_open, page):
    h = hall_open
    page.goto("/login")
    page.click("text=企业注册")
    page.fill("#credit_code", "91350100M000100Y43")
    page.fill("#name", "闽江数字科技有限公司")
    page.fill("#contact_name", "林晓")
    page.fill("#phone", "13800138000")
    page.fill("#username", "minjiang")
    page.fill("#password", "s3cret-pass")
    page.fill("#password2", "s3cret-pass")
    page.click("button[type=submit]")
    expect(page.locator(".flash.success")).to_have_text("注册成功，请登录")
    page.fill("input[name=username]", "minjiang")
    page.fill("input[name=password]", "s3cret-pass")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/portal$"))

    page.click("text=查找事项并网上申报")
    page.click("text=内资企业设立登记")
    expect(page.locator("main")).to_contain_text("住所使用证明")
    page.click("text=网上申报")
    fill_one_form(page)
    page.set_input_files("input[name='file-0']", files=[{"name": "章程.pdf", "mimeType": "application/pdf",
                                                          "buffer": PDF}])
    page.click("button[value=save]")
    expect(page.locator(".flash.success")).to_contain_text("草稿已保存")
    expect(page.locator("table.materials")).to_contain_text("章程.pdf")
    page.goto("/portal")  # away, and back to the draft
    page.click("ul.drafts a")
    expect(page.locator("input[name='enterprise.name']")).to_have_value("闽江数字科技有限公司")
    page.click("button[value=submit]")
    expect(page.locator("p.plain-status")).to_have_text("已收件，网上预审 办理中")
    number = page.locator("h1").inner_text()

    db.session.rollback()
    [case] = h.hall.runtime.cases(h.owner)[0]
    h.complete(h.yushen, case.id, "online_prereview", {"prereview_decision": "pass"})
    h.complete(h.neizi, case.id, "accept_domestic", {"acceptance": "supplement", "missing_materials": ["住所使用证明"],
                                                      "acceptance_comments": "须附产权证明"})
    page.reload()
    expect(page.locator("p.plain-status")).to_have_text("等待您：补正材料")
    expect(page.locator("ul.asked")).to_have_text("住所使用证明")
    expect(page.locator("ul.notices")).to_contain_text("补正告知书")
    page.set_input_files("section.reply input[type=file]", files=[{"name": "租赁合同.png", "mimeType": "image/png",
                                                                   "buffer": PNG}])
    page.click("section.reply button[type=submit]")
    expect(page.locator(".flash.success")).to_contain_text("已提交：补正材料")
    expect(page.locator("table.materials")).to_contain_text("租赁合同.png")

    db.session.rollback()
    h.complete(h.neizi, case.id, "accept_domestic", {"acceptance": "accept",
                                                      "received_materials": ["公司章程", "住所使用证明"]})
    page.reload()
    expect(page.locator("p.plain-status")).to_contain_text("已受理")
    expect(page.locator("p.plain-status")).to_contain_text("工商")
    with page.expect_popup() as shown:
        page.click("ul.notices >> text=受理通知书")
    assert shown.value.url.endswith(tuple(f"/notices/{n}" for n in range(1, 10)))
    review_all(h, case.id)
    page.goto("/portal")
    expect(page.locator("table.my-cases")).to_contain_text("已办结")
    page.click(f"text={number}")
    expect(page.locator("ul.notices")).to_contain_text("办结通知书")
    page.check("input[name=level][value='5']")
    page.fill("textarea[name=comment]", "网上办，跑零次")
    page.click("text=提交评价")
    expect(page.locator(".flash.success")).to_have_text("感谢您的评价")
    db.session.rollback()
    [rating] = h.hall.ratings.of_case(h.owner, case.id)
    assert (rating.level, rating.channel) == (5, "portal")


def test_a_walk_in_case_goes_from_the_counter_to_completion_without_the_api(hall_open, page):
    h = hall_open
    sign_in(page, "neizi")
    page.click("header >> text=发起办件")
    page.click("table.counter-items >> text=内资企业设立登记")
    page.fill("#credit_code", "91350100M000100Y43")
    page.fill("#enterprise_name", "闽江数字科技有限公司")
    fill_one_form(page)
    page.set_input_files("input[name='file-0']", files=[{"name": "章程.pdf", "mimeType": "application/pdf",
                                                          "buffer": PDF}])
    page.set_input_files("input[name='file-1']", files=[{"name": "租赁合同.png", "mimeType": "image/png",
                                                          "buffer": PNG}])
    page.click("button[value=submit]")
    expect(page.locator(".flash.success")).to_contain_text("已收件")
    page.wait_for_url(re.compile(r".*/tasks/\d+$"))  # straight on to 受理, at the same counter
    page.select_option("select[name=acceptance]", "accept")
    page.check("input[name=received_materials][value='公司章程']")
    page.click("button.primary[type=submit]")
    expect(page.locator(".field-error", has_text="以下必交材料未收到：住所使用证明")).to_be_visible()
    page.check("input[name=received_materials][value='公司章程']")
    page.check("input[name=received_materials][value='住所使用证明']")
    page.click("button.primary[type=submit]")
    expect(page.locator(".flash.success")).to_contain_text("已办理")

    db.session.rollback()
    [case] = h.hall.runtime.cases(h.owner)[0]
    assert case.channel == "counter" and "online_prereview" not in (case.visited or [])
    review_all(h, case.id)
    page.goto(f"/cases/{case.id}")
    expect(page.locator("h1")).to_contain_text("已办结")
    expect(page.locator("ul.notices")).to_contain_text("受理通知书")
    expect(page.locator("ul.notices")).to_contain_text("办结通知书")
    page.check("form.rate-form input[name=level][value='4']")
    page.click("form.rate-form button[type=submit]")
    expect(page.locator(".flash.success")).to_have_text("已代录好差评")
    db.session.rollback()
    assert [r.channel for r in h.hall.ratings.of_case(h.owner, case.id)] == ["counter"]
