"""The pages as a person at a browser sees them (Flask test client, CSRF on, as in production):
signing in and out, the inbox and its filters, claiming, 已办, starting a case, the cases list
and a case's page, and who may see what. The task page has its own file (test_task_page.py).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from urllib.parse import quote, urlsplit

import lxml.html
import pytest

from engine import clock
from tests.conftest import DIAGRAMS, PROCESSES

T0 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=clock.HALL_TZ)
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


# --- a person at a browser ------------------------------------------------------------

class Web:
    """One person's browser: a test client with its own session and the CSRF token of its pages."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self.token = None

    def _open(self, method: str, url: str, **kw):
        return getattr(self.client, method)(url, **kw)

    def login(self, username: str, password: str = "pw", next_url: str | None = None):
        page = self.get("/login")
        self.token = _TOKEN.search(page.text).group(1)
        url = "/login" + (f"?next={quote(next_url)}" if next_url else "")
        return self.post(url, {"username": username, "password": password})

    def get(self, url: str, **kw):
        return self._open("get", url, **kw)

    def post(self, url: str, data=None, token: bool = True, **kw):
        data = dict(data or {})
        if token:
            data["csrf_token"] = self.token
        return self._open("post", url, data=data, **kw)


@pytest.fixture
def browse(app):
    """browse("clerk") -> a Web signed in as clerk."""

    def open_as(username: str, password: str = "pw") -> Web:
        web = Web(app)
        r = web.login(username, password)
        assert r.status_code == 302, r.text
        return web

    return open_as


def doc(response):
    return lxml.html.fromstring(response.text)


def text(node) -> str:
    return " ".join(node.text_content().split())


def rows(response) -> list[list[str]]:
    """The cells of the page's list table, row by row."""
    table = doc(response).xpath("//table[contains(@class,'list')]/tbody/tr")
    return [[text(td) for td in tr.xpath("./td")] for tr in table]


def flashes(response) -> list[str]:
    return [text(d) for d in doc(response).xpath("//div[contains(@class,'flash')]")]


def nav_count(response) -> str:
    return text(doc(response).xpath("//header/nav//span[@class='count']")[0])


def on_this_site(location: str) -> bool:
    """A redirect a browser follows to this site (browsers read a backslash as a slash)."""
    parts = urlsplit(location.replace("\\", "/"))
    return location.startswith("/") and not parts.netloc and not parts.scheme


def deploy_text(h, name: str, xml: str):
    pv, _ = h.hall.repository.deploy({name: xml.encode()}, h._owner())
    return pv


# --- a small hall ---------------------------------------------------------------------

@pytest.fixture
def hall_ui(h):
    """form_task (window may start; review by window) and timers (review by window, due in 2 days).
    Three form_task cases started by the applicant ann, a minute apart, then one timers case."""
    clock.freeze(T0)
    h.deploy(DIAGRAMS / "form_task.bpmn")
    h.deploy(DIAGRAMS / "timers.bpmn")
    people = {
        "clerk": h.user("clerk", groups=["window"]),
        "clerk2": h.user("clerk2", groups=["window"]),
        "gs": h.user("gs", groups=["工商"]),
        "watch": h.user("watch", roles=["supervisor"]),
        "ann": h.user("ann", groups=["申请人"], roles=["applicant"]),
        "bob": h.user("bob", groups=["申请人"], roles=["applicant"]),
    }
    cases = []
    for i in range(3):
        cases.append(h.hall.runtime.start(people["ann"], "form_task", {"company": f"企业{i}", "capital": 100}))
        clock.advance(dt.timedelta(minutes=1))
    urgent = h.hall.runtime.start(people["clerk"], "timers", {})
    h.people, h.cases, h.urgent = people, cases, urgent
    return h


def task_of(h, case):
    return h.open_tasks(case.id)[0]


# --- signing in and out ---------------------------------------------------------------

PAGES = ["/", "/inbox", "/done", "/start", "/start/form_task", "/cases", "/cases/1", "/cases/1/diagram.bpmn",
         "/tasks/1"]


def test_every_page_needs_signing_in(hall_ui, app):
    web = Web(app)
    for url in PAGES:
        r = web.get(url)
        assert r.status_code == 302, url
        assert r.headers["Location"].startswith("/login"), url
    r = web.post("/tasks/1/claim", token=False)
    assert r.status_code in (302, 400)
    assert task_of(hall_ui, hall_ui.cases[0]).assignee is None


def test_sign_in_goes_where_the_person_was_going_and_only_on_this_site(hall_ui, app):
    web = Web(app)
    r = web.get("/cases?status=running")
    assert r.status_code == 302 and "next=" in r.headers["Location"]
    r = web.login("clerk", next_url="/cases?status=running")
    assert r.status_code == 302 and r.headers["Location"] == "/cases?status=running"
    page = web.get("/cases?status=running")
    assert page.status_code == 200 and "办件查询" in page.text
    for elsewhere in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)", "/\\evil.example/x"):
        r = Web(app).login("clerk", next_url=elsewhere)
        assert on_this_site(r.headers["Location"]), elsewhere


def test_session_cookie_is_http_only_and_same_site(hall_ui, app):
    r = Web(app).login("clerk")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_wrong_password_is_refused_and_the_username_kept(hall_ui, app):
    web = Web(app)
    r = web.login("clerk", "wrong")
    assert r.status_code == 401
    assert "用户名或密码不正确" in flashes(r)
    assert doc(r).xpath("//input[@name='username']/@value") == ["clerk"]
    assert web.get("/inbox").status_code == 302  # still not signed in
    assert Web(app).login("nobody", "pw").status_code == 401


def test_logout_ends_the_session(hall_ui, browse):
    web = browse("clerk")
    assert web.get("/inbox").status_code == 200
    r = web.post("/logout")
    assert r.status_code == 302 and r.headers["Location"] == "/login"
    assert "已退出" in flashes(web.get("/login"))
    assert web.get("/inbox").status_code == 302


def test_a_post_without_the_csrf_token_is_refused(hall_ui, app, browse):
    h = hall_ui
    assert Web(app).post("/login", {"username": "clerk", "password": "pw"}, token=False).status_code == 400
    web = browse("clerk")
    task = task_of(h, h.cases[0])
    assert web.post(f"/tasks/{task.id}/claim", token=False).status_code == 400
    assert h.hall.tasks.row(task.id).assignee is None
    r = web.post(f"/tasks/{task.id}", {"decision": "accept", "pages": "3"}, token=False)
    assert r.status_code == 400
    assert h.hall.tasks.row(task.id).status == "open"
    assert web.post("/start/form_task", {"company": "丙公司"}, token=False).status_code == 400
    assert web.post("/logout", token=False).status_code == 400
    assert web.get("/inbox").status_code == 200  # still signed in
    # a token from another session does not do either
    other = browse("clerk2")
    assert web.post(f"/tasks/{task.id}/claim", {"csrf_token": other.token}, token=False).status_code == 400


# --- the inbox ------------------------------------------------------------------------

def test_inbox_lists_the_groups_tasks_most_urgent_first(hall_ui, browse):
    h = hall_ui
    r = browse("clerk").get("/inbox")
    assert r.status_code == 200
    table = rows(r)
    assert [row[0] for row in table] == [h.urgent.number] + [c.number for c in h.cases]
    _number, process, task, enterprise, received, _due, holder, actions = table[1]
    assert (process, task, enterprise, holder) == ("表单测试", "审查", "企业0", "window")
    assert received == "2026-11-30 09:00"
    assert table[0][5] == "2026-12-02 09:03"  # the timers case: due in two days
    assert "签收" in actions and "办理" in actions
    assert "共 4 件" in text(doc(r).xpath("//h1")[0])
    assert nav_count(r) == "0/4"


def test_inbox_of_another_group_and_of_a_supervisor_is_empty(hall_ui, browse):
    for who in ("gs", "watch", "ann"):
        r = browse(who).get("/inbox")
        assert r.status_code == 200 and rows(r) == [], who
        assert "没有待办事项。" in r.text


def test_inbox_filters_search_and_sorts(hall_ui, browse):
    h = hall_ui
    h.hall.tasks.claim(h.people["clerk"], task_of(h, h.cases[1]).id)
    web = browse("clerk")
    numbers = lambda url: [row[0] for row in rows(web.get(url))]  # noqa: E731
    c0, c1, c2 = (c.number for c in h.cases)
    assert numbers("/inbox?process=timers") == [h.urgent.number]
    assert numbers("/inbox?process=form_task") == [c0, c1, c2]
    assert numbers("/inbox?scope=mine") == [c1]
    assert numbers("/inbox?scope=group") == [h.urgent.number, c0, c2]
    assert numbers("/inbox?group=window") == [h.urgent.number, c0, c2]
    assert numbers("/inbox?group=工商") == [h.urgent.number, c0, c1, c2]  # not one of clerk's: ignored
    assert numbers(f"/inbox?q={c2}") == [c2]
    assert numbers("/inbox?q=企业1") == [c1]
    assert numbers("/inbox?q=没有这家") == []
    assert numbers("/inbox?sort=newest") == [h.urgent.number, c2, c1, c0]
    assert numbers("/inbox?sort=oldest") == [c0, c1, c2, h.urgent.number]
    assert numbers("/inbox?sort=number") == sorted([c0, c1, c2, h.urgent.number])
    assert numbers("/inbox?sort=nonsense&scope=nonsense") == [h.urgent.number, c0, c1, c2]
    # the filters keep what was chosen
    r = web.get("/inbox?process=form_task&scope=mine&sort=newest&q=企业")
    page = doc(r)
    assert page.xpath("//select[@name='process']/option[@selected]/@value") == ["form_task"]
    assert page.xpath("//select[@name='scope']/option[@selected]/@value") == ["mine"]
    assert page.xpath("//select[@name='sort']/option[@selected]/@value") == ["newest"]
    assert page.xpath("//input[@name='q']/@value") == ["企业"]
    assert page.xpath("//select[@name='group']/option/@value") == ["", "window"]


@pytest.fixture
def many(h):
    """53 form_task cases waiting for window's review: more than one page."""
    clock.freeze(T0)
    h.deploy(DIAGRAMS / "form_task.bpmn")
    clerk = h.user("clerk", groups=["window"])
    ann = h.user("ann", groups=["申请人"], roles=["applicant"])
    h.cases = []
    for i in range(53):
        h.cases.append(h.hall.runtime.start(ann, "form_task", {"company": f"企业{i:02d}"}))
        clock.advance(dt.timedelta(minutes=1))
    h.people = {"clerk": clerk, "ann": ann}
    return h


def test_inbox_and_cases_list_are_paginated(many, browse):
    h = many
    web = browse("clerk")
    first = web.get("/inbox?process=form_task")
    assert len(rows(first)) == 50 and "第 1 / 2 页" in first.text
    nxt = doc(first).xpath("//nav[@class='pagination']/a/@href")
    assert len(nxt) == 1 and "page=2" in nxt[0] and "process=form_task" in nxt[0]
    second = web.get("/inbox" + nxt[0])
    assert [row[0] for row in rows(second)] == [c.number for c in h.cases[50:]]
    assert "上一页" in second.text and "下一页" not in second.text
    assert nav_count(second) == "0/53"
    assert len(rows(web.get("/inbox?page=x"))) == 50  # a bad page number is the first page

    cases = web.get("/cases")
    assert len(rows(cases)) == 50 and "共 53 件" in cases.text
    assert [row[0] for row in rows(web.get("/cases?page=2"))] == [c.number for c in reversed(h.cases[:3])]


def test_claim_and_unclaim_from_the_list(hall_ui, browse):
    h = hall_ui
    web = browse("clerk")
    task = task_of(h, h.cases[0])
    r = web.post(f"/tasks/{task.id}/claim", {"back": "/inbox?process=form_task"})
    assert r.status_code == 302 and r.headers["Location"] == "/inbox?process=form_task"
    page = web.get(r.headers["Location"])
    assert "已签收" in flashes(page)
    assert h.hall.tasks.row(task.id).assignee == "clerk"
    assert nav_count(page) == "1/3"
    mine = next(row for row in rows(page) if row[0] == h.cases[0].number)
    assert mine[6] == "clerk" and "放回组内" in mine[7]  # 退回 is returning a case to the applicant
    # another clerk of the group no longer sees it as open to claim
    assert h.cases[0].number not in [row[0] for row in rows(browse("clerk2").get("/inbox"))]

    r = web.post(f"/tasks/{task.id}/unclaim", {"back": "/inbox"})
    page = web.get(r.headers["Location"])
    assert "已放回组内待签收" in flashes(page)
    assert h.hall.tasks.row(task.id).assignee is None and nav_count(page) == "0/4"


def held_by_clerk2(messages: list[str]) -> bool:
    return len(messages) == 1 and "已由 clerk2 签收" in messages[0]


def test_claiming_a_task_someone_else_holds_says_who(hall_ui, browse):
    h = hall_ui
    task = task_of(h, h.cases[0])
    web = browse("clerk")  # the list is on clerk's screen...
    h.hall.tasks.claim(h.people["clerk2"], task.id)  # ...when clerk2 takes it
    r = web.post(f"/tasks/{task.id}/claim", {"back": "/inbox"})
    assert r.status_code == 302
    assert held_by_clerk2(flashes(web.get("/inbox")))
    assert h.hall.tasks.row(task.id).assignee == "clerk2"
    r = web.post(f"/tasks/{task.id}/unclaim", {"back": "/inbox"})
    assert held_by_clerk2(flashes(web.get("/inbox")))
    assert h.hall.tasks.row(task.id).assignee == "clerk2"
    # a task done meanwhile
    h.hall.tasks.complete(h.people["clerk2"], task.id, {"decision": "reject", "pages": 3})
    web.post(f"/tasks/{task.id}/claim", {"back": "/inbox"})
    [message] = flashes(web.get("/inbox"))
    assert "已办理" in message


def test_claiming_another_groups_task_is_forbidden(hall_ui, browse):
    h = hall_ui
    task = task_of(h, h.cases[0])
    r = browse("gs").post(f"/tasks/{task.id}/claim", {"back": "/inbox"})
    assert r.status_code == 403
    assert h.hall.tasks.row(task.id).assignee is None


def test_after_claiming_the_list_goes_back_only_to_this_site(hall_ui, browse):
    h = hall_ui
    web = browse("clerk")
    task = task_of(h, h.cases[0])
    r = web.post(f"/tasks/{task.id}/claim", {"back": "https://evil.example/inbox"})
    assert r.status_code == 302 and r.headers["Location"] == "/inbox"
    for elsewhere in ("//evil.example/inbox", "/\\evil.example/inbox", "javascript:alert(1)"):
        r = web.post(f"/tasks/{task.id}/unclaim", {"back": elsewhere})
        assert r.status_code == 302 and on_this_site(r.headers["Location"]), elsewhere


# --- 已办 --------------------------------------------------------------------------------

def test_done_lists_what_i_completed(hall_ui, browse):
    h = hall_ui
    web = browse("clerk")
    assert "还没有办理过的事项。" in web.get("/done").text
    h.complete(h.people["clerk"], h.cases[1].id, "review", {"decision": "reject", "pages": 2})
    h.complete(h.people["clerk2"], h.cases[2].id, "review", {"decision": "reject", "pages": 2})
    r = web.get("/done")
    assert r.status_code == 200
    assert rows(r) == [[h.cases[1].number, "表单测试", "审查", "企业1", "2026-11-30 09:03"]]
    assert "共 1 件" in r.text
    # the done task's page shows what was decided, without a form
    link = doc(r).xpath("//table//a[text()='审查']/@href")[0]
    page = web.get(link)
    assert page.status_code == 200 and "本环节已办理。" in page.text
    assert not doc(page).xpath("//form[contains(@class,'task-form')]")
    assert "不予受理" in text(doc(page).xpath("//section[contains(@class,'main-col')]")[0])


# --- starting a case ----------------------------------------------------------------

def test_only_processes_one_may_start_are_offered(hall_ui, browse):
    offered = lambda who: [text(a) for a in doc(browse(who).get("/start")).xpath("//ul[@class='cards']//a")]  # noqa: E731
    assert offered("clerk") == ["表单测试", "计时测试"]
    assert offered("gs") == ["计时测试"]          # form_task: window and 申请人 only
    assert offered("ann") == ["表单测试", "计时测试"]
    web = browse("watch")
    assert "您没有可以发起的事项。" in web.get("/start").text
    assert web.get("/start/form_task").status_code == 403
    assert web.post("/start/form_task", {"company": "丙公司"}).status_code == 403
    r = browse("gs").get("/start/form_task")
    assert r.status_code == 403 and "无权访问" in r.text
    assert browse("clerk").get("/start/no_such_process").status_code == 404


def test_start_a_case_with_a_generated_start_form(hall_ui, browse):
    h = hall_ui
    web = browse("clerk")
    form = doc(web.get("/start/form_task"))
    assert text(form.xpath("//label[@for='company']")[0]) == "企业名称*"
    assert form.xpath("//input[@name='capital']/@inputmode") == ["decimal"]
    r = web.post("/start/form_task", {"company": "", "capital": "很多"})
    assert r.status_code == 422
    page = doc(r)
    assert field_error(page, "company") and field_error(page, "capital")
    assert page.xpath("//input[@name='capital']/@value") == ["很多"]
    r = web.post("/start/form_task", {"company": "丙<b>公司</b>", "capital": "300"})
    assert r.status_code == 302
    case = h.hall.runtime.cases(h.people["clerk"], search="丙")[0][0]
    assert r.headers["Location"] == f"/cases/{case.id}"
    page = web.get(r.headers["Location"])
    assert f"已提交，办件编号 {case.number}" in flashes(page)  # 受理 is the window's, later
    assert h.hall.runtime.case(case.id).data == {"company": "丙<b>公司</b>", "capital": 300, "item": None,
                                                 "channel": "online"}


def test_a_wrong_line_in_a_list_box_is_named_by_its_number(h, browse):
    h.deploy(PROCESSES / "big_project.bpmn")
    h.user("boss", groups=["常务副主任"], roles=["staff", "director"])
    r = browse("boss").post("/start/big_project", {
        "project_name": "新材料项目", "investor": "某集团", "investment": "100",
        "approvals_needed": "企业设立登记\n" + "长" * 201})
    assert r.status_code == 422
    [message] = field_error(doc(r), "approvals_needed")
    assert message.startswith("第 2 项：") and "200" in message


def field_error(page, name: str) -> list[str]:
    """The error messages shown in the field (or section) that holds the input `name`."""
    boxes = page.xpath(f"//*[@name='{name}']/ancestor::*[contains(@class,'field') or contains(@class,'section')][1]")
    assert boxes, f"no field {name}"
    return [text(p) for p in boxes[0].xpath(".//p[@class='field-error']")]


ONE_FORM = {
    "enterprise.name": "闽江数字科技有限公司", "enterprise.credit_code": "91350100M000100Y43",
    "enterprise.legal_rep": "林晓", "enterprise.address": "福州市鼓楼区五四路 88 号",
    "enterprise.phone": "0591-87654321", "enterprise.registered_capital": "500.5", "enterprise.category": "内资",
    "gongshang.business_scope": "软件开发；\n信息技术咨询服务", "gongshang.company_type": "有限责任公司",
    "guoshui.tax_type": "小规模纳税人", "guoshui.invoice_types.present": "1",
    "dishui.employee_count": "12", "dishui.accounting_system": "小企业会计准则",
    "dishui.social_insurance.present": "1", "dishui.social_insurance": "on",
    "zhijian.organization_code": "M000100Y-4", "zhijian.product_standards": "",
    "gongan.seal_count": "3", "gongan.seal_types.present": "1",
    "bank.open_account.present": "1", "bank.bank_name": "",
}


def test_the_one_form_of_parallel_approval_end_to_end(h, browse, app):
    """An applicant fills the 一单通 (a section per department), gets it wrong, corrects it; the
    case starts and waits for online pre-review, whose clerk sees the enterprise's section."""
    h.deploy(PROCESSES / "parallel_approval.bpmn")
    h.user("qiye", groups=["申请人"], roles=["applicant"])
    h.user("yushen", groups=["网上预审"])
    web = browse("qiye")
    assert "并联审批（一单通）" in [text(a) for a in doc(web.get("/start")).xpath("//ul[@class='cards']//a")]
    page = doc(web.get("/start/parallel_approval"))
    legends = [text(x) for x in page.xpath("//fieldset/legend")]
    assert legends == ["企业基本信息*", "工商登记*", "国税登记*", "地税登记*", "质监（组织机构代码）*",
                       "公安（刻章备案）*", "银行开户（选填）"]
    assert page.xpath("//select[@name='enterprise.category']/option/text()") == ["请选择", "内资", "外资", "建设",
                                                                               "社会事务"]
    assert page.xpath("//textarea/@name")[:1] == ["gongshang.business_scope"]
    assert page.xpath("//input[@type='checkbox' and @name='gongan.seal_types']/@value") == [
        "公章", "财务专用章", "发票专用章", "合同专用章", "法定代表人名章"]
    assert not page.xpath("//input[@name='enterprise.immediate']")  # the catalogue says what is a 即办件

    wrong = {**ONE_FORM, "enterprise.credit_code": "91350100M000100Y44", "dishui.employee_count": "十二"}
    r = web.post("/start/parallel_approval", {**wrong, "guoshui.invoice_types": ["增值税普通发票"],
                                              "gongan.seal_types": ["公章"]})
    assert r.status_code == 422
    page = doc(r)
    assert "校验位正确" in " ".join(field_error(page, "enterprise.credit_code"))
    assert field_error(page, "dishui.employee_count")
    assert field_error(page, "gongan.seal_types") == []  # what was right has no message
    # everything typed is still there
    assert page.xpath("//input[@name='enterprise.credit_code']/@value") == ["91350100M000100Y44"]
    assert page.xpath("//input[@name='dishui.employee_count']/@value") == ["十二"]
    assert page.xpath("//select[@name='enterprise.category']/option[@selected]/@value") == ["内资"]
    assert page.xpath("//textarea[@name='gongshang.business_scope']/text()") == ["软件开发；\n信息技术咨询服务"]
    assert page.xpath("//input[@name='gongan.seal_types' and @checked]/@value") == ["公章"]
    assert page.xpath("//input[@name='dishui.social_insurance' and @checked]")
    assert page.xpath("//input[@name='guoshui.invoice_types' and @checked]/@value") == ["增值税普通发票"]

    r = web.post("/start/parallel_approval", {**ONE_FORM, "guoshui.invoice_types": ["增值税普通发票"],
                                              "gongan.seal_types": ["公章", "财务专用章"]})
    assert r.status_code == 302, r.text
    case_id = int(r.headers["Location"].rsplit("/", 1)[1])
    case = h.hall.runtime.case(case_id)
    assert case.title == "闽江数字科技有限公司"
    assert case.data["enterprise"]["registered_capital"] == 500.5
    assert case.data["dishui"] == {"employee_count": 12, "accounting_system": "小企业会计准则",
                                   "social_insurance": True}
    assert case.data["gongan"] == {"seal_count": 3, "seal_types": ["公章", "财务专用章"]}
    assert case.data["gongshang"]["business_scope"] == "软件开发；\n信息技术咨询服务"
    page = web.get(r.headers["Location"])
    assert f"已提交，办件编号 {case.number}" in flashes(page)
    assert "网上预审" in [row[0] for row in rows(page)]
    assert rows(browse("yushen").get("/inbox"))[0][:4] == [case.number, "并联审批（一单通）", "网上预审",
                                                          "闽江数字科技有限公司"]


# --- the cases list -------------------------------------------------------------------

def test_cases_list_filters_by_status_process_dates_and_search(hall_ui, browse):
    h = hall_ui
    clock.freeze(T0 + dt.timedelta(days=2))
    later = h.hall.runtime.start(h.people["clerk"], "form_task", {"company": "后来公司"})
    h.complete(h.people["clerk"], h.cases[0].id, "review", {"decision": "reject", "pages": 1})
    web = browse("clerk")
    numbers = lambda url: [row[0] for row in rows(web.get(url))]  # noqa: E731
    everyone = [later.number, h.urgent.number] + [c.number for c in reversed(h.cases)]
    assert numbers("/cases") == everyone
    table = rows(web.get("/cases"))
    assert table[1][1:5] == ["计时测试", "", "办理中", "2026-11-30 09:03"]
    assert numbers("/cases?status=completed") == [h.cases[0].number]
    assert "已办结" in rows(web.get("/cases?status=completed"))[0][3]
    assert numbers("/cases?status=running") == everyone[:-1]
    assert numbers("/cases?process=timers") == [h.urgent.number]
    assert numbers("/cases?since=2026-12-01") == [later.number]
    assert numbers("/cases?until=2026-11-30") == everyone[1:]
    assert numbers("/cases?since=2026-11-30&until=2026-11-30&process=form_task") == [
        c.number for c in reversed(h.cases)]
    assert numbers("/cases?since=not-a-date") == everyone
    assert numbers("/cases?q=企业2") == [h.cases[2].number]
    assert numbers(f"/cases?q={h.cases[1].number}") == [h.cases[1].number]
    r = web.get("/cases?q=没有这家")
    assert rows(r) == [] and "没有符合条件的办件。" in r.text
    page = doc(web.get("/cases?status=completed&process=timers&since=2026-11-01"))
    assert page.xpath("//select[@name='status']/option[@selected]/@value") == ["completed"]
    assert page.xpath("//input[@name='since']/@value") == ["2026-11-01"]


def test_an_applicant_sees_only_their_own_cases(hall_ui, browse):
    h = hall_ui
    mine = h.cases[0]
    others = h.urgent  # started by clerk
    bob_case = h.hall.runtime.start(h.people["bob"], "form_task", {"company": "鲍勃公司"})
    web = browse("ann")
    assert [row[0] for row in rows(web.get("/cases"))] == [c.number for c in reversed(h.cases)]
    nav = {text(a).split()[0] for a in doc(web.get("/cases")).xpath("//header/nav/a")}
    assert nav == {"企业之家", "办事指南", "意见建议"}  # no staff pages
    assert web.get("/").headers["Location"] == "/portal"
    assert web.get(f"/cases/{mine.id}").status_code == 200
    assert web.get(f"/cases/{mine.id}/diagram.bpmn").status_code == 200
    for case in (others, bob_case):
        r = web.get(f"/cases/{case.id}")
        assert r.status_code == 403 and case.number not in r.text and "无权访问" in r.text
        assert web.get(f"/cases/{case.id}/diagram.bpmn").status_code == 403
    assert web.get("/cases/999").status_code == 404
    # nor their tasks
    assert web.get(f"/tasks/{task_of(h, mine).id}").status_code == 403


# --- a case's page --------------------------------------------------------------------

def test_case_page_shows_the_case_its_tasks_history_and_data(hall_ui, browse):
    h = hall_ui
    case = h.cases[0]
    task = task_of(h, case)
    h.hall.tasks.claim(h.people["clerk"], task.id)
    r = browse("clerk").get(f"/cases/{case.id}")
    assert r.status_code == 200
    page = doc(r)
    head = text(page.xpath("//div[@class='page-head']")[0])
    assert head.startswith(f"{case.number} 办理中")
    for part in ("表单测试", "版本 1", "企业0", "申请人 ann", "收件时间 2026-11-30 09:00"):
        assert part in head, part
    assert rows(r)[0] == ["审查", "window", "clerk", "—"]  # no time limit
    history = [text(li) for li in page.xpath("//ol[@class='timeline']/li")]
    assert history[0] == "11-30 09:00 提交申请 ann"
    assert "到达 审查" in history[1]
    assert history[-1].startswith("11-30 09:03 签收") and history[-1].endswith("clerk")
    data = dict(zip([text(x) for x in page.xpath("//section[contains(@class,'main-col')]/dl/dt")],
                    [text(x) for x in page.xpath("//section[contains(@class,'main-col')]/dl/dd")], strict=True))
    assert data == {"企业名称": "企业0", "注册资本": "100"}
    box = page.xpath("//div[@id='diagram']")[0]
    assert box.get("data-current") == '["review"]'
    assert box.get("data-xml-url") == f"/cases/{case.id}/diagram.bpmn"
    xml = browse("clerk").get(box.get("data-xml-url"))
    assert xml.status_code == 200 and xml.headers["Content-Type"].startswith("application/xml")
    assert xml.data == (DIAGRAMS / "form_task.bpmn").read_bytes()


def test_case_page_of_a_finished_case(hall_ui, browse):
    h = hall_ui
    case = h.cases[0]
    h.complete(h.people["clerk"], case.id, "review", {"decision": "reject", "pages": 4, "original_seen": True})
    page = doc(browse("clerk").get(f"/cases/{case.id}"))
    assert text(page.xpath("//h1")[0]) == f"{case.number} 已办结"
    assert "没有待办环节。" in text(page.xpath("//section[contains(@class,'main-col')]")[0])
    history = [text(li) for li in page.xpath("//ol[@class='timeline']/li")]
    assert any(x.startswith("11-30 09:03 办理 审查") for x in history), history
    assert history[-1] == "11-30 09:03 办结 不予受理 系统"
    box = page.xpath("//div[@id='diagram']")[0]
    assert box.get("data-current") == "[]"
    assert {"start", "review", "gw", "rejected"} <= set(json.loads(box.get("data-visited")))
    # the case's data with the labels of the forms that wrote it
    data = page.xpath("//section[contains(@class,'main-col')]/dl")[0]
    assert [text(x) for x in data.xpath("./dt")] == ["企业名称", "注册资本", "审查结论", "材料页数", "已核原件"]
    assert [text(x) for x in data.xpath("./dd")] == ["企业0", "100", "不予受理", "4", "是"]


def test_a_supervisor_reads_everything_and_works_nothing(hall_ui, browse):
    h = hall_ui
    web = browse("watch")
    assert [row[0] for row in rows(web.get("/cases"))] == [h.urgent.number] + [c.number for c in reversed(h.cases)]
    case = h.cases[0]
    assert web.get(f"/cases/{case.id}").status_code == 200
    task = task_of(h, case)
    r = web.get(f"/tasks/{task.id}")
    assert r.status_code == 200 and "本环节不由您办理。" in r.text
    assert not doc(r).xpath("//form[contains(@class,'task-form')]")
    r = web.post(f"/tasks/{task.id}", {"decision": "accept", "pages": "3"})
    assert r.status_code == 403 and "无权访问" in r.text
    assert web.post(f"/tasks/{task.id}/claim", {"back": "/inbox"}).status_code == 403
    assert h.hall.tasks.row(task.id).status == "open" and h.hall.tasks.row(task.id).assignee is None


def test_pages_that_do_not_exist(hall_ui, browse):
    web = browse("clerk")
    for url in ("/tasks/999", "/cases/999", "/cases/999/diagram.bpmn", "/no-such-page"):
        r = web.get(url)
        assert r.status_code == 404, url
        assert "返回我的待办" in r.text


# --- names from diagrams and data are text --------------------------------------------

EVIL = "<script>alert('x')</script>"
EVIL_DIAGRAM = (Path(DIAGRAMS / "form_task.bpmn").read_text(encoding="utf-8")
                .replace('name="审查"', 'name="&lt;script&gt;alert(\'x\')&lt;/script&gt;"')
                .replace('name="表单测试"', 'name="&lt;script&gt;alert(\'p\')&lt;/script&gt;"')
                .replace('label="企业名称"', 'label="&lt;script&gt;alert(\'l\')&lt;/script&gt;"'))


def test_names_from_diagrams_and_data_are_shown_as_text(h, browse):
    clock.freeze(T0)
    deploy_text(h, "evil.bpmn", EVIL_DIAGRAM)
    clerk = h.user("clerk", groups=["window"])
    case = h.hall.runtime.start(clerk, "form_task", {"company": EVIL})
    task = task_of(h, case)
    web = browse("clerk")
    pages = {url: web.get(url) for url in ("/inbox", "/cases", "/start", f"/cases/{case.id}", f"/tasks/{task.id}",
                                           "/start/form_task")}
    r = web.post(f"/tasks/{task.id}", {"decision": "accept", "pages": "0"})
    assert r.status_code == 422
    pages["task with errors"] = r
    r = web.post(f"/tasks/{task.id}", {"decision": "reject", "pages": "3"})
    pages["inbox message"] = web.get(r.headers["Location"])
    pages["done"] = web.get("/done")
    for name, page in pages.items():
        assert "<script>" not in page.text, name
    assert "&lt;script&gt;" in pages["inbox message"].text
    assert any(EVIL in x for x in flashes(pages["inbox message"]))
    assert EVIL in rows(pages["/inbox"])[0][2] and EVIL in rows(pages["/inbox"])[0][3]
    assert EVIL in rows(pages["done"])[0][2]
    assert EVIL in text(doc(pages[f"/tasks/{task.id}"]).xpath("//h1")[0])


def test_a_diagram_is_a_download_and_every_page_runs_only_the_halls_scripts(h, browse):
    """A deployed diagram may hold XHTML with a script in its extension elements: opening its
    link downloads it, and no page of the hall runs a script that is not the hall's own."""
    opening = '<bpmn:userTask id="review" name="审查" camunda:candidateGroups="window">'
    xml = (DIAGRAMS / "form_task.bpmn").read_text(encoding="utf-8").replace(
        opening, opening + '<bpmn:documentation><h:script xmlns:h="http://www.w3.org/1999/xhtml">'
        'alert(document.cookie)</h:script></bpmn:documentation>', 1)
    deploy_text(h, "form_task.bpmn", xml)
    clerk = h.user("clerk", groups=["window"])
    case = h.hall.runtime.start(clerk, "form_task", {"company": "甲"})
    web = browse("clerk")
    r = web.get(f"/cases/{case.id}/diagram.bpmn")
    assert r.status_code == 200 and "alert(document.cookie)" in r.text
    assert r.headers["Content-Disposition"].startswith("attachment")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    for url in ("/inbox", f"/cases/{case.id}", "/login", "/api/v1/openapi.json"):
        headers = web.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, url
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff", url
