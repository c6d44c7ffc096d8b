"""意见建议/投诉 and 回访 on the pages: an enterprise raises one in 企业之家 about a step of its
case and reads the reply there; staff enter one for a caller; the supervisor closes it and
the misconduct shows on 审批问责; 管理办 sets up a round of visits and reads 回访率. In English too."""

from __future__ import annotations

import pytest

from engine import clock
from engine.identity import SYSTEM
from tests.conftest import DIAGRAMS, PROCESSES
from tests.ui import test_pages as pages
from tests.ui.test_i18n import chinese_in, field_errors
from tests.ui.test_pages import doc, flashes, text

browse = pages.browse


@pytest.fixture
def people(h):
    for f in ("complaint.bpmn", "return_visit.bpmn"):
        h.deploy(PROCESSES / f)
    h.deploy(DIAGRAMS / "form_task.bpmn")
    enterprise = h.hall.portal.enterprise_for_filing(SYSTEM, "91350100M000100Y43", "闽江数字科技有限公司")
    h.hall.identity.create_user("qiye", "pw", ["申请人"], ["applicant"], enterprise_id=enterprise)
    p = {"qiye": h.actor("qiye"), "window": h.user("clerk", groups=["window"]),
         "office": h.user("glb", groups=["管理办"], roles=["staff", "coordinator"]),
         "neizi": h.user("neizi", groups=["内资窗口"]), "supervisor": h.user("jiancha", roles=["supervisor"])}
    case = h.hall.runtime.start(p["qiye"], "form_task", {"company": "闽江数字科技有限公司"})
    h.complete(p["window"], case.id, "review", {"decision": "reject", "pages": 2})
    h.served = case
    return p


def test_an_enterprise_complains_about_a_step_and_reads_the_reply(h, people, browse):
    p = people
    web = browse("qiye")
    page = web.get(f"/portal/cases/{h.served.id}")
    link = doc(page).xpath("//a[contains(@class,'complain')]/@href")[0]
    form = web.get(link)
    step = doc(form).xpath("//select[@name='about_task']/option[@value!='']/@value")[0]
    r = web.post(link, {"kind": "complaint", "subject": "", "content": "态度生硬", "about_case": h.served.number,
                        "about_task": step})
    assert r.status_code == 422 and field_errors(r.text, "subject")
    r = web.post(link, {"kind": "complaint", "subject": "窗口态度生硬", "content": "解释不清楚",
                        "about_case": h.served.number, "about_task": step})
    assert r.status_code == 302
    c = h.hall.complaints.list(p["office"])[0][0]
    assert (c.channel, c.about_task_id) == ("portal", int(step))
    h.complete(p["office"], c.case_id, "classify", {"kind": "rude", "department": "内资窗口", "investigate_days": 3})
    h.complete(p["neizi"], c.case_id, "investigate", {"findings": "属实", "substantiated": True, "misconduct": "rude"})
    h.complete(p["neizi"], c.case_id, "rectify", {"measures": "培训", "result": "已致歉"})
    h.complete(p["office"], c.case_id, "reply", {"reply": "已批评教育并致歉", "way": "online"})
    home = web.get("/portal")
    assert "已批评教育并致歉" in text(doc(home).xpath("//section[contains(@class,'my-complaints')]")[0])
    mine = web.get(f"/complaints/{c.id}")
    assert "已批评教育并致歉" in mine.text and "clerk" not in mine.text  # who answers for it stays in the hall
    note = next(n for n in h.hall.deadlines.notifications(p["qiye"]) if n.kind == "complaint")
    assert web.get(f"/notifications/{note.id}").headers["Location"].endswith(f"/complaints/by-case/{c.case_id}")
    assert web.get(f"/complaints/by-case/{c.case_id}").headers["Location"].endswith(f"/complaints/{c.id}")
    sup = browse("jiancha")
    page = sup.get(f"/complaints/{c.id}")
    assert doc(page).xpath("//form[contains(@class,'close-form')]")
    r = sup.post(f"/complaints/{c.id}/close", {"opinion": ""})
    assert r.status_code == 422
    r = sup.post(f"/complaints/{c.id}/close", {"opinion": "予以问责", "accountable": "on"})
    assert r.status_code == 302
    board = sup.get("/accountability?kind=rude")
    cells = [text(td) for td in doc(board).xpath("//table[contains(@class,'list')]/tbody/tr/td")]
    assert "服务态度生硬" in cells and "clerk" in cells and h.served.number in cells
    csv_text = sup.get("/accountability.csv").get_data(as_text=True)
    assert "服务态度生硬" in csv_text
    assert "rude" in sup.get("/accountability?kind=rude").text


def test_staff_enter_a_phone_complaint_and_others_do_not_see_it(h, people, browse):
    web = browse("clerk")
    r = web.post("/complaints/new", {"channel": "phone", "kind": "suggestion", "subject": "延时服务",
                                     "content": "希望中午不休息"})
    assert r.status_code == 422 and field_errors(r.text, "contact_phone")
    r = web.post("/complaints/new", {"channel": "phone", "kind": "suggestion", "subject": "延时服务",
                                     "content": "希望中午不休息", "contact_name": "林先生",
                                     "contact_phone": "13800000000"})
    assert r.status_code == 302
    listed = web.get("/complaints")
    assert "延时服务" in listed.text
    assert "延时服务" not in browse("neizi").get("/complaints").text
    c = h.hall.complaints.list(people["office"])[0][0]
    assert browse("neizi").get(f"/complaints/{c.id}").status_code == 404
    assert browse("glb").get(f"/complaints/{c.id}").status_code == 200


def test_the_office_sets_up_a_round_and_reads_the_rate(h, people, browse):
    web = browse("glb")
    day = clock.local_now().date().isoformat()
    r = web.post("/complaints/visits", {"title": "回访", "since": day, "until": day, "sample": "count", "size": "0"})
    assert r.status_code == 422 and field_errors(r.text, "size")
    r = web.post("/complaints/visits", {"title": "十二月回访", "since": day, "until": day, "sample": "all"})
    assert r.status_code == 302
    rnd = h.hall.visits.rounds(people["office"])[0].VisitRound
    visit = h.hall.visits.round(people["office"], rnd.id)[1][0]
    h.complete(people["office"], visit.case_id, "call", {"method": "phone", "reached": True, "satisfaction": 4,
                                                         "suggestion": "增加材料样表"})
    page = web.get(f"/complaints/visits/{rnd.id}")
    assert "满意" in page.text and "增加材料样表" in page.text
    r = web.post(f"/complaints/visits/{visit.id}/suggestion")
    assert r.status_code == 302 and "已转为意见建议" in " ".join(flashes(web.get(r.headers["Location"])))
    rates = web.get(f"/complaints/visits/rates?since={day}&until={day}")
    assert "100.0%" in text(doc(rates).xpath("//tr[contains(@class,'total')]")[0])
    assert browse("clerk").get("/complaints/visits").status_code == 403


def test_the_pages_in_english(h, people, browse, app):
    from tests.ui.test_i18n import Browser

    app.config["WTF_CSRF_ENABLED"] = False  # Browser signs in without a page's token
    c = h.hall.complaints.submit(people["window"], "counter", {
        "kind": "complaint", "subject": "Queue", "content": "Skipped", "contact_name": "Lin",
        "contact_phone": "13800000000"})
    day = clock.local_now().date()
    rnd = h.hall.visits.plan(people["office"], "December", day, day)
    for who, urls in (("glb", ["/complaints", f"/complaints/{c.id}", "/complaints/new", "/complaints/visits",
                               f"/complaints/visits/{rnd.id}", "/complaints/visits/rates"]),
                      ("qiye", ["/portal", "/complaints/new", f"/complaints/new?case={h.served.id}"]),
                      ("jiancha", ["/accountability", "/complaints"])):
        web = Browser(app).sign_in(who).english()
        for url in urls:
            r = web.get(url)
            page = r.text
            # the words of the diagrams (steps, lanes) and the enterprise's name are data
            for data in ("分类交办", "管理办", "审查", "闽江数字科技有限公司"):
                page = page.replace(data, "")
            assert r.status_code == 200 and chinese_in(page) == [], (url, chinese_in(page))
