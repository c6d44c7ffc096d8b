"""企业之家: an enterprise signs up, files a case from an item with its materials (a draft to
come back to), follows it in plain words, answers a 补正 with files, withdraws before 受理,
rates it when done, asks the item's window a question; an agent files for an enterprise."""

import io

import pytest

from tests import test_filing
from tests.processes.test_parallel_approval import application
from tests.test_filing import ACCEPTED
from tests.test_materials import PDF, PNG
from tests.ui import test_pages as pages
from tests.ui.test_pages import Web, doc, flashes, text

browse = pages.browse  # a person signed in
filing = test_filing.filing  # a hall with the 并联审批 process and its catalogue item

def credit_code(n: int) -> str:
    """A valid 统一社会信用代码, the n-th of its kind."""
    chars, weights = "0123456789ABCDEFGHJKLMNPQRTUWXY", (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    body = f"91350100M{n:08d}"
    total = sum(chars.index(c) * w for c, w in zip(body, weights, strict=True))
    return body + chars[(31 - total % 31) % 31]


CODE = "91350100M000100Y43"  # the one form's enterprise
OTHER_CODE = credit_code(7)


def one_form_fields(data=None) -> dict:
    """The 一单通 as the page's inputs name it."""
    data = data or application()
    out = {}
    for section, values in data.items():
        for k, v in values.items():
            if isinstance(v, list):
                out[f"{section}.{k}"] = v
                out[f"{section}.{k}.present"] = "1"
            elif isinstance(v, bool):
                out[f"{section}.{k}.present"] = "1"
                if v:
                    out[f"{section}.{k}"] = "on"
            else:
                out[f"{section}.{k}"] = str(v)
    out["bank.open_account.present"] = "1"
    return out


def sign_up(app, username="minjiang", code=CODE, **changes):
    web = Web(app)
    web.get("/portal/signup")
    web.token = pages._TOKEN.search(web.get("/login").text).group(1)
    form = {"credit_code": code, "name": "闽江数字科技有限公司", "contact_name": "林晓", "phone": "13800138000",
            "username": username, "password": "s3cret-pass", "password2": "s3cret-pass", **changes}
    return web, web.post("/portal/signup", form)


@pytest.fixture
def portal(filing, app):
    h = filing
    h.user("jiancha", roles=["supervisor"])
    web, r = sign_up(app)
    assert r.status_code == 302, r.text
    assert web.login("minjiang", "s3cret-pass").status_code == 302
    h.web = web
    return h


def test_an_enterprise_signs_up_once_and_lands_in_its_portal(portal, app):
    r = portal.web.get("/", follow_redirects=False)
    assert r.headers["Location"].endswith("/portal")
    page = doc(portal.web.get("/portal"))
    assert text(page.xpath("//title")[0]) == "企业之家 · 政务服务大厅"  # its title, words only
    assert "闽江数字科技有限公司 · " + CODE in text(page.xpath("//div[@class='page-head']")[0])
    # the same enterprise again, a name taken, a wrong code: each said at its field
    _web, r = sign_up(app, username="another")
    assert r.status_code == 422 and "已有账号" in r.text
    _web, r = sign_up(app, username="minjiang", code=OTHER_CODE)
    assert r.status_code == 422 and doc(r).xpath("//input[@name='username']/following-sibling::p[@class='field-error']")
    _web, r = sign_up(app, username="third", code="91350100M000100Y44")
    assert r.status_code == 422 and "校验位正确" in r.text
    _web, r = sign_up(app, username="fourth", code=OTHER_CODE, password2="other")
    assert r.status_code == 422 and "两次输入的密码不一致" in r.text


def test_sign_ups_from_one_address_are_throttled(filing, app):
    statuses = [sign_up(app, username=f"user{n}", code=credit_code(n))[1] for n in range(6)]
    assert [r.status_code for r in statuses] == [302] * 5 + [422]
    assert "注册过于频繁" in statuses[-1].text
    assert filing.hall.identity.user("user4").enterprise_id is not None


def test_a_filing_kept_as_a_draft_is_submitted_with_its_files(portal):
    h, web = portal, portal.web
    page = doc(web.get("/portal/file/NZ-001"))
    assert [text(r.xpath("./td")[0]) for r in page.xpath("//table[contains(@class,'materials')]/tbody/tr")] == [
        "公司章程", "住所使用证明", "其他材料"]
    half = {k: v for k, v in one_form_fields().items() if not k.startswith("gongan")}
    r = web.post("/portal/file/NZ-001", {**half, "action": "save", "file-0": (io.BytesIO(PDF), "章程.pdf")},
                 content_type="multipart/form-data")
    assert r.status_code == 302 and "/portal/drafts/" in r.headers["Location"]
    draft_url = r.headers["Location"]
    page = doc(web.get(draft_url))
    assert page.xpath("//input[@name='enterprise.name']/@value") == ["闽江数字科技有限公司"]  # as it was left
    assert "章程.pdf" in text(page.xpath("//table[contains(@class,'materials')]/tbody/tr")[0])
    assert text(doc(web.get("/portal")).xpath("//ul[@class='drafts']/li/a")[0]) == "内资企业设立登记"
    # submitting what is missing is refused at its field; nothing is lost
    r = web.post(draft_url, {**half, "action": "submit"}, content_type="multipart/form-data")
    assert r.status_code == 422 and doc(r).xpath("//*[contains(@class,'field-error')]")
    # a first filing refused goes on with the draft it made, not another
    r = web.post("/portal/file/NZ-001", {**half, "action": "submit"}, content_type="multipart/form-data")
    assert r.status_code == 422
    [again] = doc(r).xpath("//form[contains(@class,'filing')]/@action")
    assert again.startswith("/portal/drafts/") and again != draft_url
    h.hall.portal.delete_draft(h.actor("minjiang"), int(again.rsplit("/", 1)[1]))
    assert h.hall.runtime.cases(h.owner)[1] == 0
    r = web.post(draft_url, {**one_form_fields(), "action": "submit", "file-1": (io.BytesIO(PNG), "租赁合同.png")},
                 content_type="multipart/form-data")
    assert r.status_code == 302, r.text
    case_id = int(r.headers["Location"].rsplit("/", 1)[1])
    case = h.hall.runtime.case(case_id)
    assert case.item_id is not None and case.enterprise_id is not None and case.channel == "online"
    files = h.hall.materials.of_case(h.owner, case_id)
    assert sorted((f.material, f.filename) for f in files) == [("住所使用证明", "租赁合同.png"),
                                                               ("公司章程", "章程.pdf")]
    assert h.hall.portal.drafts(h.actor("minjiang")) == []
    page = doc(web.get(f"/portal/cases/{case_id}"))
    assert text(page.xpath("//p[contains(@class,'plain-status')]")[0]) == "已收件，网上预审 办理中"
    assert "上传材料" in text(page.xpath("//ol[@class='timeline']")[0])


def test_a_supplement_is_asked_once_and_answered_with_files(portal):
    h, web = portal, portal.web
    enterprise = h.actor("minjiang")
    case = h.hall.runtime.start(enterprise, None, application(), item="NZ-001")
    h.complete(h.yushen, case.id, "online_prereview", {"prereview_decision": "pass"})
    h.complete(h.neizi, case.id, "accept_domestic", {"acceptance": "supplement",
                                                      "missing_materials": ["公司章程", "住所使用证明"],
                                                      "acceptance_comments": "章程须全体股东签字"})
    [note] = [n for n in h.hall.deadlines.notifications(enterprise) if n.kind == "applicant"]
    assert note.message == f"办件 {case.number} 需要您补正材料"
    page = doc(web.get(f"/portal/cases/{case.id}"))
    assert text(page.xpath("//p[contains(@class,'plain-status')]")[0]) == "等待您：补正材料"
    assert page.xpath("//ul[@class='asked']/li/text()") == ["公司章程", "住所使用证明"]
    r = web.post(f"/portal/cases/{case.id}/messages/补正材料",
                 {"material": ["公司章程", "住所使用证明"], "materials.present": "1", "supplement_note": "已补齐",
                  "file": [(io.BytesIO(PDF), "章程（签字）.pdf"), (io.BytesIO(PNG), "租赁合同.png")]},
                 content_type="multipart/form-data")
    assert r.status_code == 302, r.text
    c = h.hall.runtime.case(case.id)
    assert c.waiting == [] and c.data["supplement"]["materials"] == ["住所使用证明", "公司章程"]
    assert {f.material for f in h.hall.materials.of_case(h.owner, case.id)} == {"公司章程", "住所使用证明"}
    assert [t.element_id for t in h.open_tasks(case.id)] == ["accept_domestic"]


def test_a_case_is_withdrawn_before_it_is_accepted_and_not_after(portal):
    h, web = portal, portal.web
    enterprise = h.actor("minjiang")
    case = h.hall.runtime.start(enterprise, None, application(), item="NZ-001")
    r = web.post(f"/portal/cases/{case.id}/withdraw", {"reason": "信息填错，重新申报"})
    assert "办件已撤回" in flashes(web.get(r.headers["Location"]))
    c = h.hall.runtime.case(case.id)
    assert c.status == "withdrawn" and c.ended_at is not None and h.open_tasks(case.id) == []
    events = [(e.action, e.detail) for e in h.hall.runtime.events(case.id)]
    assert ("withdrawn", {"reason": "信息填错，重新申报"}) in events
    accepted = h.hall.runtime.start(enterprise, None, application(), item="NZ-001")
    h.complete(h.yushen, accepted.id, "online_prereview", {"prereview_decision": "pass"})
    h.complete(h.neizi, accepted.id, "accept_domestic", ACCEPTED)
    page = doc(web.get(f"/portal/cases/{accepted.id}"))
    assert not page.xpath("//form[contains(@class,'withdraw-form')]")
    r = web.post(f"/portal/cases/{accepted.id}/withdraw", {})
    assert any("已受理" in f or "受理" in f for f in flashes(web.get(r.headers["Location"])))
    assert h.hall.runtime.case(accepted.id).status == "running"


def test_only_the_enterprise_and_its_filer_see_its_case(portal, app):
    h = portal
    agent = h.user("daiban", groups=["申请人"], roles=["agent"])
    eid = h.hall.portal.enterprise_for_filing(agent, CODE, "闽江数字科技有限公司")
    case = h.hall.runtime.start(agent, None, application(), item="NZ-001", enterprise_id=eid)
    assert portal.web.get(f"/portal/cases/{case.id}").status_code == 200  # filed by the agent, for it
    assert sign_up(app, username="rival", code=OTHER_CODE, name="榕城智造有限公司")[1].status_code == 302
    rival = Web(app)
    rival.login("rival", "s3cret-pass")
    assert rival.get(f"/portal/cases/{case.id}").status_code == 403
    assert rival.get(f"/cases/{case.id}/files/1").status_code in (403, 404)
    rows, total = h.hall.runtime.cases(h.actor("rival"))
    assert total == 0
    rows, total = h.hall.runtime.cases(h.actor("minjiang"))
    assert [r.id for r in rows] == [case.id]


def test_the_window_answers_a_question_about_its_item(portal, browse):
    web = portal.web
    r = web.post("/portal/ask/NZ-001", {"question": "住所使用证明可以用租赁合同吗？"})
    assert r.status_code == 302
    page = doc(browse("neizi").get("/portal/questions"))
    assert "住所使用证明可以用租赁合同吗？" in text(page.xpath("//article[@class='question']")[0])
    qid = page.xpath("//input[@name='id']/@value")[0]
    assert doc(browse("waizi").get("/portal/questions")).xpath("//article") == []  # another window's item
    clerk = browse("neizi")
    r = clerk.post("/portal/questions", {"id": qid, "answer": "可以，需附产权证明复印件。"})
    assert "已答复" in flashes(clerk.get(r.headers["Location"]))
    home = doc(web.get("/portal"))
    assert "可以，需附产权证明复印件。" in text(home.xpath("//dl[@class='questions']")[0])
    assert "可以，需附产权证明复印件。" in text(doc(web.get("/guide/NZ-001")).xpath("//div[@id='ask']")[0])


def test_the_applicant_rates_a_finished_case_on_the_portal(portal):
    h, web = portal, portal.web
    h.hall.catalogue.save(h.owner, {**_immediate()})
    case = h.hall.runtime.start(h.actor("minjiang"), None, application(), item="JB-1")
    h.complete(h.yushen, case.id, "online_prereview", {"prereview_decision": "pass"})
    h.complete(h.neizi, case.id, "accept_domestic", ACCEPTED)
    h.complete(h.neizi, case.id, "handle_immediate_domestic", {"outcome": "approved", "licence_no": "JB-1"})
    assert [n.message for n in h.hall.deadlines.notifications(h.actor("minjiang"))] == [f"办件 {case.number} 已办结"]
    page = doc(web.get(f"/portal/cases/{case.id}"))
    assert text(page.xpath("//p[contains(@class,'plain-status')]")[0]) == "已办结"
    r = web.post(f"/portal/cases/{case.id}/rating", {"level": "5", "comment": "当场办结，很快"})
    assert "感谢您的评价" in flashes(web.get(r.headers["Location"]))
    [rating] = h.hall.ratings.of_case(h.owner, case.id)
    assert (rating.level, rating.channel) == (5, "portal")


def _immediate() -> dict:
    from tests.test_filing import item
    return item(code="JB-1", name="即办件", kind="immediate", legal_days=1, promised_days=0)


def test_an_item_not_filed_online_has_no_filing_page(portal):
    portal.hall.catalogue.save(portal.owner, {**_immediate(), "code": "KZ-9", "online": False})
    assert portal.web.get("/portal/file/KZ-9").status_code == 422


def test_the_applicant_is_texted_what_the_hall_needs_when_a_sender_is_set(portal):
    h = portal
    case = h.hall.runtime.start(h.actor("minjiang"), None, application(), item="NZ-001")
    h.complete(h.yushen, case.id, "online_prereview", {"prereview_decision": "pass"})
    h.complete(h.neizi, case.id, "accept_domestic", {"acceptance": "supplement", "missing_materials": ["公司章程"]})
    texts = []
    assert h.hall.portal.send_texts(lambda phone, message: texts.append((phone, message))) == 1
    assert texts == [("13800138000", f"【区行政服务中心】办件 {case.number} 需要您补正材料")]
    assert h.hall.portal.send_texts(lambda *a: texts.append(a)) == 0  # once

    def down(phone, message):
        raise OSError("gateway down")

    h.hall.runtime.message(h.actor("minjiang"), case.id, "补正材料", {"materials": ["公司章程"]})
    h.complete(h.neizi, case.id, "accept_domestic", {"acceptance": "reject", "reject_reason": "不符合条件"})
    assert h.hall.portal.send_texts(down) == 0  # kept for the next try
    assert h.hall.portal.send_texts(lambda *a: texts.append(a)) == 1 and "已办结" in texts[-1][1]


def test_the_enterprise_hears_of_a_walk_in_case_and_the_clerk_does_not(portal):
    h = portal
    enterprise = h.actor("minjiang").enterprise_id
    case = h.hall.runtime.start(h.neizi, None, application(), item="NZ-001", channel="counter",
                                enterprise_id=enterprise)
    h.complete(h.neizi, case.id, "accept_domestic", {"acceptance": "supplement", "missing_materials": ["公司章程"]})
    assert [n.message for n in h.hall.deadlines.notifications(h.actor("minjiang"))] == [
        f"办件 {case.number} 需要您补正材料"]
    assert not [n for n in h.hall.deadlines.notifications(h.neizi) if n.kind == "applicant"]


def test_a_notification_opens_the_case_in_the_portal(portal):
    h, web = portal, portal.web
    case = h.hall.runtime.start(h.actor("minjiang"), None, application(), item="NZ-001")
    h.complete(h.yushen, case.id, "online_prereview", {"prereview_decision": "pass"})
    h.complete(h.neizi, case.id, "accept_domestic", {"acceptance": "supplement", "missing_materials": ["公司章程"]})
    [note] = h.hall.deadlines.notifications(h.actor("minjiang"))
    assert web.get(f"/notifications/{note.id}").headers["Location"] == f"/portal/cases/{case.id}"


def test_an_asker_has_a_bounded_number_of_open_questions(portal, monkeypatch):
    from engine import portal as portal_engine
    monkeypatch.setattr(portal_engine, "MAX_OPEN_QUESTIONS", 1)
    web = portal.web
    web.post("/portal/ask/NZ-001", {"question": "第一个问题"})
    r = web.post("/portal/ask/NZ-001", {"question": "第二个问题"})
    assert "您已有 1 个问题待答复" in " ".join(flashes(web.get(r.headers["Location"])))
    assert [q.question for q in portal.hall.portal.asked_by(portal.actor("minjiang"))] == ["第一个问题"]
