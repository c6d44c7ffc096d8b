"""A walk-in applicant at the window: the clerk records a resubmission, a supplement and,
once the result is issued, the applicant's rating, on the case's page; the case is 办结
when its result is issued. The case page and the task page show every value under a
label a person reads, and the history names steps and people, never ids."""

from __future__ import annotations

import datetime as dt

import pytest

from engine import clock
from tests.conftest import PROCESSES
from tests.processes.test_parallel_approval import application
from tests.ui import test_pages as pages
from tests.ui.test_pages import doc, flashes, text

browse = pages.browse  # a person signed in

TZ = clock.HALL_TZ
DEPARTMENTS = {"gongshang": "工商", "guoshui": "国税", "dishui": "地税", "zhijian": "质监", "gongan": "公安"}


@pytest.fixture
def walk_in(h):
    """A 一单通 taken in at the 内资 window for an applicant who came in person."""
    clock.freeze(dt.datetime(2026, 11, 30, 9, tzinfo=TZ))
    h.deploy(PROCESSES / "parallel_approval.bpmn")
    h.people = {
        "neizi": h.user("neizi", groups=["内资窗口"]),
        "yushen": h.user("yushen", groups=["网上预审"]),
        "watch": h.user("watch", roles=["supervisor"]),
        **{k: h.user(f"dept_{k}", groups=[g]) for k, g in DEPARTMENTS.items()},
    }
    h.hall.identity.create_user("lin", "pw", ["内资窗口"], ["staff"], "林窗口", update=True)
    h.case = h.hall.runtime.start(h.people["neizi"], "parallel_approval", application())
    return h


def section(page, heading: str):
    [s] = page.xpath(f"//section[@class='counter-reply'][h2[contains(., '{heading}')]]")
    return s


def test_the_window_records_a_walk_in_applicants_replies_and_rating(walk_in, browse):
    h = walk_in
    case = h.case
    h.complete(h.people["yushen"], case.id, "online_prereview",
               {"prereview_decision": "return", "prereview_comments": "住所应写到门牌号"})
    web = browse("lin")
    page = doc(web.get(f"/cases/{case.id}"))
    form = section(page, "重新提交")  # prefilled with what the case holds
    assert form.xpath(".//input[@name='enterprise.name']/@value") == ["闽江数字科技有限公司"]
    # a mistake is shown next to the field, nothing is sent, what was typed stays
    fields = {i.get("name"): i.get("value") or "" for i in form.xpath(".//input[@name]")}
    fields.update({t.get("name"): t.text or "" for t in form.xpath(".//textarea[@name]")})
    fields.update({s.get("name"): (s.xpath("./option[@selected]/@value") or [""])[0] for s in form.xpath(".//select")})
    fields["enterprise.registered_capital"] = "-5"
    fields["enterprise.address"] = "福州市鼓楼区五四路 88 号 1201 室"
    r = web.post(f"/cases/{case.id}/messages/重新提交", fields)
    assert r.status_code == 422
    again = section(doc(r), "重新提交")
    assert again.xpath(".//*[@name='enterprise.registered_capital']/following::p[@class='field-error'][1]")
    assert again.xpath(".//input[@name='enterprise.address']/@value") == ["福州市鼓楼区五四路 88 号 1201 室"]
    assert h.hall.runtime.case(case.id).waiting == ["重新提交"]
    fields["enterprise.registered_capital"] = "500"
    r = web.post(f"/cases/{case.id}/messages/重新提交", fields)
    assert r.status_code == 302 and "已代收：重新提交" in flashes(web.get(r.headers["Location"]))
    c = h.hall.runtime.case(case.id)
    assert c.data["enterprise"]["address"] == "福州市鼓楼区五四路 88 号 1201 室" and c.waiting == []

    h.complete(h.people["yushen"], case.id, "online_prereview", {"prereview_decision": "pass"})
    h.complete(h.people["neizi"], case.id, "accept_domestic",
               {"acceptance": "supplement", "missing_materials": ["公司章程"]})
    page = doc(web.get(f"/cases/{case.id}"))
    assert section(page, "补正材料").xpath(".//textarea[@name='materials']")
    r = web.post(f"/cases/{case.id}/messages/补正材料", {"materials": "", "supplement_note": "x"})
    assert r.status_code == 422 and "列明补交的材料" in text(section(doc(r), "补正材料"))
    web.post(f"/cases/{case.id}/messages/补正材料", {"materials": "公司章程", "supplement_note": "原件已核"})
    assert h.hall.runtime.case(case.id).data["supplement"] == {"materials": ["公司章程"], "supplement_note": "原件已核"}
    # a supervisor reads the case but receives nothing at the window
    assert not doc(browse("watch").get(f"/cases/{case.id}")).xpath("//section[@class='counter-reply']")
    assert browse("watch").post(f"/cases/{case.id}/messages/补正材料", {"materials": "x"}).status_code == 403

    h.complete(h.people["neizi"], case.id, "accept_domestic", {"acceptance": "accept"})
    for key in DEPARTMENTS:
        h.complete(h.people[key], case.id, f"review_{key}", {f"{key}_opinion": "approve"})
    assert web.post(f"/cases/{case.id}/ratings", {"level": "5", "stage": "completed"}).status_code == 302
    assert "尚未办结" in " ".join(flashes(web.get(f"/cases/{case.id}")))  # not before 办结
    page = doc(web.get(f"/cases/{case.id}"))  # accepted: the 受理 is rated
    assert page.xpath("//form[contains(@class,'rate-form')]//input[@name='stage']/@value") == ["accepted"]
    assert "代录申请人的评价（受理）" in text(page) and "尚未评价" in text(page)
    r = web.post(f"/cases/{case.id}/ratings", {"level": "5", "stage": "accepted", "dim.attitude": "5",
                                                "dim.efficiency": "4"})
    assert "已代录好差评" in flashes(web.get(r.headers["Location"]))
    h.complete(h.people["gongshang"], case.id, "issue_licences", {"licence_no": "350100000012345"})
    page = doc(web.get(f"/cases/{case.id}"))
    assert "已办结" in text(page.xpath("//h1")[0])  # the result is issued: finished, not waiting for a rating
    assert page.xpath("//form[contains(@class,'rate-form')]//input[@name='stage']/@value") == ["completed"]
    web.post(f"/cases/{case.id}/ratings", {"level": "2", "comment": "等候太久", "stage": "completed"})
    rows = doc(web.get(f"/cases/{case.id}")).xpath("//table[contains(@class,'ratings')]/tbody/tr")
    assert [text(td) for td in rows[0].xpath("td")][:4] == ["受理", "非常满意服务态度：非常满意；行政效能：满意", "",
                                                           "窗口代录（林窗口）"]
    assert [text(td) for td in rows[1].xpath("td")][:4] == ["办结", "不满意", "等候太久", "窗口代录（林窗口）"]
    assert rows[1].get("class") == "poor"
    assert not doc(web.get(f"/cases/{case.id}")).xpath("//form[contains(@class,'rate-form')]")  # each stage once


def test_values_are_shown_under_labels_and_steps_and_people_by_name(walk_in, browse):
    h = walk_in
    case = h.case
    h.complete(h.people["yushen"], case.id, "online_prereview", {"prereview_decision": "pass"})
    h.complete(h.people["neizi"], case.id, "accept_domestic", {"acceptance": "supplement",
                                                               "missing_materials": ["公司章程"]})
    h.hall.runtime.message(h.people["neizi"], case.id, "补正材料", {"materials": ["公司章程"]})
    h.complete(h.actor("lin"), case.id, "accept_domestic", {"acceptance": "accept"})
    for key in DEPARTMENTS:
        h.complete(h.people[key], case.id, f"review_{key}", {f"{key}_opinion": "approve"})
    web = browse("lin")
    [task] = h.open_tasks(case.id, "issue_licences")
    for url in (f"/cases/{case.id}", f"/tasks/{task.id}"):
        page = doc(browse("dept_gongshang").get(url))
        shown = text(page.xpath("//main")[0])
        for raw in ("reviews", "rejected_departments", "outcome", "approve", "completed_at", "prereview_decision",
                    "evaluation_status", "department", "T09:"):
            assert raw not in shown, (url, raw)
    case_page = doc(web.get(f"/cases/{case.id}"))
    data = text(case_page.xpath("//section[contains(@class,'main-col')]")[0])
    assert "并联审查意见" in data and "审查意见 同意" in data and "办理结果 准予许可" in data
    assert "预审结论 通过" in data and "补正材料" in data
    h.complete(h.people["gongshang"], case.id, "issue_licences", {"licence_no": "350100000012345"})
    case_page = doc(web.get(f"/cases/{case.id}"))
    assert "办结时间 2026-11-30 09:00" in text(case_page.xpath("//section[contains(@class,'main-col')]")[0])
    history = [text(li) for li in case_page.xpath("//ol[@class='timeline']/li")]
    # steps by their names (暂停计时 at 等待补正材料), never "wait_supplement"; people by name
    assert any(line.startswith("11-30 09:00 暂停计时 等待补正材料") for line in history), history
    assert not any("wait_supplement" in line or "end_completed" in line for line in history)
    assert any(line.startswith("11-30 09:00 办理 内资窗口受理") and line.endswith("林窗口") for line in history)
    assert history[-2].startswith("11-30 09:00 办结 办结")
    assert history[-1].startswith("11-30 09:00 出具 办结通知书")
