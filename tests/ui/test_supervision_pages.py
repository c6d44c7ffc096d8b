"""Deadlines on the pages: warnings in the inbox and on a case, stopping a case's clock,
the coordinator's 督办 dashboard and its actions, 审批问责, 通知 and the admin's 工作日历."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from engine import clock
from engine.errors import Forbidden
from tests.conftest import DIAGRAMS
from tests.ui import test_pages as pages
from tests.ui.test_pages import doc, flashes, text

browse = pages.browse  # a person signed in
TZ = clock.HALL_TZ


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


@pytest.fixture
def hall_dl(h):
    """deadlines.bpmn: review (window, 2 working days), then approve (dept, 3 working days,
    enforced by a boundary timer). One case at review, one at approve, from Monday 30 Nov."""
    clock.freeze(at(2026, 11, 30, 10))
    h.deploy(DIAGRAMS / "deadlines.bpmn")
    h.people = {
        "clerk": h.user("clerk", groups=["window"]),
        "dept": h.user("dept", groups=["dept"]),
        "coord": h.user("coord", groups=["管理办"], roles=["staff", "coordinator"]),
        "director": h.user("director", groups=["常务副主任"], roles=["staff", "director"]),
        "watch": h.user("watch", roles=["supervisor"]),
        "admin": h.user("admin", roles=["admin"]),
    }
    h.at_review = h.hall.runtime.start(h.people["clerk"], "deadlines", {"immediate": False})
    h.at_approve = h.hall.runtime.start(h.people["clerk"], "deadlines", {"immediate": False})
    h.complete(h.people["clerk"], h.at_approve.id, "review", {"decision": "accept"})
    return h


def post(web, url, data):
    return web.post(url, {**data, "back": "/dashboard"})


def inbox_row(web, number):
    page = doc(web.get("/inbox"))
    [row] = page.xpath(f"//table[@class='list']//tr[td//a[text()='{number}']]")
    return row


def test_the_inbox_marks_near_and_overdue_work(hall_dl, browse):
    h = hall_dl
    web = browse("clerk")
    row = inbox_row(web, h.at_review.number)
    assert row.get("class") == "warn-none" and "2026-12-02 17:30" in text(row)
    clock.freeze(at(2026, 12, 2, 9))  # the last working day: yellow
    h.hall.deadlines.sweep()
    web = browse("clerk")  # two days on: yesterday's sign-in has ended (a page session lasts 12 hours)
    row = inbox_row(web, h.at_review.number)
    assert row.get("class") == "warn-yellow" and "临近" in text(row)
    clock.freeze(at(2026, 12, 2, 17, 31))
    h.hall.deadlines.sweep()
    row = inbox_row(web, h.at_review.number)
    assert row.get("class") == "warn-red" and "已超期" in text(row) and "已升级" in text(row)


def test_a_date_in_a_year_not_entered_is_marked_provisional(h, browse):
    clock.freeze(at(2026, 12, 30, 10))
    h.deploy(DIAGRAMS / "deadlines.bpmn")
    clerk = h.user("clerk", groups=["window"])
    case = h.hall.runtime.start(clerk, "deadlines", {"immediate": False})
    row = inbox_row(browse("clerk"), case.number)
    [due] = row.xpath(".//span[contains(@class,'due')]")
    assert text(due) == "2027-01-04 17:30*" and "2027" in due.get("title")  # 元旦 off even so
    # the case's limit is marked too, on its page and in the list
    web = browse("clerk")
    [limit] = doc(web.get(f"/cases/{case.id}")).xpath("//p[@class='deadline-line']//span[contains(@class,'due')]")
    assert text(limit) == "2027-01-07 17:30*" and "2027" in limit.get("title")
    [listed] = doc(web.get("/cases")).xpath("//table[contains(@class,'list')]//span[contains(@class,'due')]")
    assert text(listed) == "2027-01-07 17:30*"
    # the admin is told on every page until the year is entered
    h.user("admin", roles=["admin"])
    admin = browse("admin")
    [mark] = doc(admin.get("/cases")).xpath("//a[@href='/calendar']/span[contains(@class,'calendar-missing')]")
    assert "2027" in mark.get("title")
    h.hall.deadlines.publish_year(h.actor("admin"), 2027, [dt.date(2027, 1, 1)], [])
    assert not doc(admin.get("/cases")).xpath("//span[contains(@class,'calendar-missing')]")
    assert text(inbox_row(browse("clerk"), case.number).xpath(".//span[contains(@class,'due')]")[0]) \
        == "2027-01-04 17:30"


def test_staff_stop_and_restart_a_case_clock_for_a_special_procedure(hall_dl, browse):
    h = hall_dl
    case = h.at_approve
    web = browse("coord")
    page = doc(web.get(f"/cases/{case.id}"))
    assert "承诺时限" in text(page.xpath("//p[@class='deadline-line']")[0])
    assert page.xpath("//datalist[@id='special-procedures']/option/@value") == ["听证", "检验检测", "鉴定", "专家评审"]
    r = web.post(f"/cases/{case.id}/pause", {"reason": ""})
    assert r.status_code == 302 and h.hall.runtime.case(case.id).paused_since is None
    assert flashes(web.get(r.headers["Location"])) == ["须写明理由"]
    r = web.post(f"/cases/{case.id}/pause", {"reason": "专家评审"})
    assert r.headers["Location"] == f"/cases/{case.id}"
    page = doc(web.get(r.headers["Location"]))
    assert flashes_of(page) == ["已暂停计时"]
    assert "计时暂停：专家评审" in text(page.xpath("//p[@class='deadline-line']")[0])
    assert h.hall.runtime.case(case.id).next_timer_at is None  # the approval's timer is held
    clock.freeze(at(2026, 12, 7, 10))  # five working days of expert review
    web = browse("coord")  # signed in again: a page session lasts 12 hours
    web.post(f"/cases/{case.id}/resume", {})
    assert h.open_tasks(case.id, "approve")[0].due_at == at(2026, 12, 10, 17, 30)  # 3 Dec + five
    timeline = text(doc(web.get(f"/cases/{case.id}")).xpath("//ol[@class='timeline']")[0])
    assert "暂停计时" in timeline and "恢复计时" in timeline and "专家评审" in timeline
    # a clerk without a task here may not see the case; a supervisor sees it but may not stop it
    watch = browse("watch")
    assert not doc(watch.get(f"/cases/{case.id}")).xpath("//datalist[@id='special-procedures']")
    r = watch.post(f"/cases/{case.id}/pause", {"reason": "听证"})
    assert h.hall.runtime.case(case.id).paused_since is None


def flashes_of(page) -> list[str]:
    return [text(d) for d in page.xpath("//div[contains(@class,'flash')]")]


def test_a_case_waiting_for_the_applicant_says_its_clock_restarts_by_itself(hall_dl, browse):
    h = hall_dl
    h.complete(h.people["clerk"], h.at_review.id, "review", {"decision": "supplement"})
    page = doc(browse("coord").get(f"/cases/{h.at_review.id}"))
    assert "计时暂停：补正" in text(page.xpath("//p[@class='deadline-line']")[0])
    assert "自动恢复" in text(page.xpath("//aside")[0])
    assert not page.xpath(f"//form[@action='/cases/{h.at_review.id}/resume']")


def test_the_dashboard_and_a_coordinators_actions(hall_dl, browse):
    h = hall_dl
    clock.freeze(at(2026, 12, 3, 17, 31))  # approve is late, review (2 Dec) later still
    h.hall.deadlines.sweep()
    assert browse("clerk").get("/dashboard").status_code == 403
    web = browse("coord")
    page = doc(web.get("/dashboard"))
    assert [text(h2) for h2 in page.xpath("//section[@class='card']/h2")] == ["dept 1", "window 1"]
    approve = h.open_tasks(h.at_approve.id, "approve")[0]
    # extend: a reason is required; then two more working days
    r = post(web, f"/tasks/{approve.id}/extend", {"workdays": "2", "reason": ""})
    assert h.open_tasks(h.at_approve.id, "approve")[0].due_at == approve.due_at
    r = post(web, f"/tasks/{approve.id}/extend", {"workdays": "2", "reason": "等待外省函复"})
    assert r.headers["Location"] == "/dashboard"
    assert flashes(web.get("/dashboard"))[-1:] == ["已延期 2 个工作日"]
    assert h.open_tasks(h.at_approve.id, "approve")[0].due_at == at(2026, 12, 7, 17, 30)
    # reassign to a person, escalate, note
    post(web, f"/tasks/{approve.id}/reassign", {"username": "dept"})
    assert h.open_tasks(h.at_approve.id, "approve")[0].assignee == "dept"
    post(web, f"/tasks/{approve.id}/escalate", {"note": "请协调"})
    post(web, f"/cases/{h.at_approve.id}/note", {"text": "限周一前办结", "task_id": str(approve.id)})
    timeline = text(doc(web.get(f"/cases/{h.at_approve.id}")).xpath("//ol[@class='timeline']")[0])
    assert "延期 审批 2 个工作日：等待外省函复" in timeline
    assert "督办意见" in timeline and "限周一前办结" in timeline and "督办升级" in timeline
    # the director hears of it
    director = browse("director")
    assert text(doc(director.get("/inbox")).xpath("//a[@class='bell']/span[@class='count']")[0]) == "1"
    notes = doc(director.get("/notifications"))
    assert any("请协调" in text(li) for li in notes.xpath("//ul[@class='notifications']/li"))
    director.post("/notifications/read", {})
    assert not doc(director.get("/notifications")).xpath("//li[contains(@class,'unread')]")
    # a back link to another site is not followed
    r = web.post(f"/cases/{h.at_approve.id}/note", {"text": "x", "back": "/\\evil.example"})
    assert r.headers["Location"] == f"/cases/{h.at_approve.id}"


def test_accountability_lists_filters_and_exports(hall_dl, browse):
    h = hall_dl
    clock.freeze(at(2026, 12, 4, 10))
    h.complete(h.people["dept"], h.at_approve.id, "approve")  # an hour late (due 3 Dec 17:30)
    # the other review: refused, and a working day and an hour late (due 2 Dec 17:30)
    h.complete(h.people["clerk"], h.at_review.id, "review", {"decision": "reject", "reason": "不属于受理范围"})
    assert browse("clerk").get("/accountability").status_code == 403
    web = browse("watch")
    page = doc(web.get("/accountability"))
    kinds = [text(td) for td in page.xpath("//table//tbody/tr/td[@data-label='类别']")]
    assert sorted(kinds) == ["不予办理", "超期办结", "超期办结"]
    assert len(doc(web.get("/accountability?kind=late")).xpath("//table//tbody/tr")) == 2
    [row] = doc(web.get("/accountability?kind=late&person=dept")).xpath("//table//tbody/tr")
    cells = {td.get("data-label"): text(td) for td in row.xpath("td")}
    assert cells["环节"] == "审批" and cells["责任人"] == "dept"
    assert cells["超期工作日"] == "1"  # an hour late is a working day late, never 0
    r = web.get("/accountability.csv?kind=late")
    assert r.mimetype == "text/csv" and "attachment" in r.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert len(table) == 3 and table[0][3:5] == ["环节", "环节编号"]
    assert {(row[3], row[8]) for row in table[1:]} == {("审批", "1"), ("受理审查", "2")}


def test_the_admin_keeps_the_working_calendar(hall_dl, browse):
    h = hall_dl
    assert browse("coord").get("/calendar").status_code == 403
    web = browse("admin")
    page = doc(web.get("/calendar?year=2027"))
    assert "2027 年的放假安排尚未录入" in text(page) and len(page.xpath("//table[@class='month']")) == 12
    # a closure on Tuesday 1 December moves the deadlines that run past it
    r = web.post("/calendar", {"year": "2026", "day": "2026-12-01", "kind": "closed", "note": "停电"})
    assert "已保存 2026-12-01" in flashes(web.get(r.headers["Location"]))
    assert h.open_tasks(h.at_review.id, "review")[0].due_at == at(2026, 12, 3, 17, 30)
    page = doc(web.get("/calendar?year=2026"))
    assert page.xpath("//td[@title='2026-12-01']/@class") == ["day closed"]
    r = web.post("/calendar", {"year": "2026", "day": "not a day", "kind": "closed"})
    assert "日期应写作 2027-01-01，连续几天写作 2027-02-06..2027-02-12" in flashes(web.get(r.headers["Location"]))
    r = web.post("/calendar", {"year": "2027", "action": "publish", "holidays": "2027-13-01"})
    assert "日期应写作 2027-01-01，连续几天写作 2027-02-06..2027-02-12" in flashes(web.get(r.headers["Location"]))
    r = web.post("/calendar", {"year": "2027", "action": "publish",
                                           "holidays": "2027-01-01, 2027-02-06..2027-02-12", "workdays": "2027-01-30"})
    assert "2027 年工作日历已录入" in flashes(web.get(r.headers["Location"]))
    page = doc(web.get("/calendar?year=2027"))
    assert "尚未录入" not in text(page)
    assert page.xpath("//td[@title='2027-02-08']/@class") == ["day closed"]


def test_a_supervision_note_reaches_whoever_holds_the_task_and_shows_on_its_page(hall_dl, browse):
    h = hall_dl
    clock.freeze(at(2026, 12, 3, 17, 31))  # the approval is overdue
    h.hall.deadlines.sweep()
    approve = h.open_tasks(h.at_approve.id, "approve")[0]
    coord = browse("coord")
    post(coord, f"/cases/{h.at_approve.id}/note", {"text": "请今日办结", "task_id": str(approve.id)})
    dept = browse("dept")
    notes = doc(dept.get("/notifications")).xpath("//ul[@class='notifications']/li")
    [note] = [li for li in notes if "督办意见" in text(li)]
    assert "请今日办结" in text(note) and "unread" in note.get("class")
    page = doc(dept.get(f"/tasks/{approve.id}"))
    head = text(page.xpath("//div[@class='page-head']")[0])
    assert "已超期" in head and "已升级" in head  # overdue, and the coordinators were told
    assert "请今日办结" in text(page.xpath("//section[contains(@class,'supervision-notes')]")[0])
    # the window's review of the other case is not this note's business
    review = h.open_tasks(h.at_review.id, "review")[0]
    assert not doc(browse("clerk").get(f"/tasks/{review.id}")).xpath("//section[contains(@class,'supervision-notes')]")


def test_opening_a_notification_marks_it_read(hall_dl, browse):
    h = hall_dl
    web = browse("dept")
    before = text(doc(web.get("/inbox")).xpath("//a[@class='bell']")[0])
    [first, *_] = doc(web.get("/notifications")).xpath("//ul[@class='notifications']/li[contains(@class,'unread')]/a")
    r = web.get(first.get("href"))
    approve = h.open_tasks(h.at_approve.id, "approve")[0]
    assert r.status_code == 302 and r.headers["Location"] == f"/tasks/{approve.id}"
    after = text(doc(web.get("/inbox")).xpath("//a[@class='bell']")[0])
    assert before == "通知 1" and after == "通知"
    assert browse("clerk").get(first.get("href")).status_code == 404  # not someone else's


def test_people_see_only_the_actions_and_pages_that_are_theirs(hall_dl, browse):
    h = hall_dl
    clock.freeze(at(2026, 12, 3, 17, 31))
    h.hall.deadlines.sweep()
    forms = lambda page: {a.rsplit("/", 1)[-1] for a in page.xpath("//details[@class='actions-menu']//form/@action")}  # noqa: E731
    assert forms(doc(browse("coord").get("/dashboard"))) == {"extend", "reassign", "escalate", "note"}
    assert forms(doc(browse("watch").get("/dashboard"))) == {"note"}  # a supervisor reads and notes
    nav = lambda name: [text(a) for a in doc(browse(name).get("/cases")).xpath("//header/nav/a")]  # noqa: E731
    for who in ("watch", "admin"):
        assert not {"我的待办", "已办", "发起办件"} & {n.split()[0] for n in nav(who)}, who
        assert browse(who).get("/").headers["Location"] == "/cases"
    assert {"我的待办", "已办", "发起办件"} <= {n.split()[0] for n in nav("clerk")}
    assert browse("clerk").get("/").headers["Location"] == "/inbox"


def test_only_the_coordinators_and_the_window_that_has_the_case_stop_its_clock(hall_dl, browse):
    h = hall_dl
    case = h.at_approve  # at 审批, a task of the dept group
    h.user("other", groups=["elsewhere"])
    h.hall.identity.ensure_group("elsewhere")
    for who in ("clerk", "other"):  # the window that took it in has passed it on; a stranger never had it
        with pytest.raises(Forbidden):
            h.hall.deadlines.pause(h.actor(who), case.id, "专家评审")
    assert not doc(browse("watch").get(f"/cases/{case.id}")).xpath("//datalist[@id='special-procedures']")
    h.hall.deadlines.pause(h.actor("dept"), case.id, "专家评审")  # the department working it
    with pytest.raises(Forbidden):
        h.hall.deadlines.resume(h.actor("clerk"), case.id)
    h.hall.deadlines.resume(h.actor("coord"), case.id)  # and a coordinator, for any case
    assert h.hall.runtime.case(case.id).paused_since is None
