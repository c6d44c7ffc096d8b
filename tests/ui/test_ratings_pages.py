"""好差评 on the pages: the enterprise rates 受理 and 办结 in 企业之家 and rates again after its
差评's 整改; the window's 评价器 shows the case just handled and takes a tap; 管理办 reads the
ratings with their 整改."""

import datetime as dt

import pytest

from engine import clock
from tests import test_portal
from tests.conftest import PROCESSES
from tests.processes.test_parallel_approval import application
from tests.test_filing import ACCEPTED, item
from tests.ui import test_pages as pages
from tests.ui.test_i18n import chinese_in
from tests.ui.test_pages import doc, flashes, text

browse = pages.browse
portal = test_portal.portal  # an enterprise signed up (minjiang) and signed in, in the `filing` hall
filing = test_portal.test_filing.filing


@pytest.fixture
def hall_rated(portal):
    h = portal
    h.deploy(PROCESSES / "poor_rating.bpmn")
    h.user("xietiao", groups=["管理办"], roles=["staff", "coordinator"])
    h.user("pingjia", groups=["内资窗口"], roles=["device"])
    h.hall.catalogue.save(h.owner, item(code="JB-1", name="印章刻制备案", kind="immediate", legal_days=1,
                                        promised_days=0))
    return h


def accepted(h):
    case = h.hall.runtime.start(h.actor("minjiang"), None, application(), item="JB-1")
    h.complete(h.yushen, case.id, "online_prereview", {"prereview_decision": "pass"})
    h.complete(h.neizi, case.id, "accept_domestic", ACCEPTED)
    return case


def rate_form(page):
    forms = page.xpath("//form[contains(@class,'rate-form')]")
    return forms[0] if forms else None


def test_the_enterprise_rates_acceptance_and_completion_and_again_after_its_poor_rating_is_rectified(hall_rated):
    h, web = hall_rated, hall_rated.web
    case = accepted(h)
    page = doc(web.get(f"/portal/cases/{case.id}"))
    form = rate_form(page)
    assert "请评价受理服务" in text(form) and form.xpath(".//input[@name='stage']/@value") == ["accepted"]
    assert [text(o) for o in form.xpath(".//select[@name='dim.attitude']/option")] == [
        "—", "非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    r = web.post(f"/portal/cases/{case.id}/rating", {"stage": "accepted", "level": "4", "dim.attitude": "5",
                                                      "dim.quality": "", "comment": "窗口很耐心"})
    assert "感谢您的评价" in flashes(web.get(r.headers["Location"]))
    assert rate_form(doc(web.get(f"/portal/cases/{case.id}"))) is None  # 受理 rated; 办结 not yet
    h.complete(h.neizi, case.id, "handle_immediate_domestic", {"outcome": "approved", "licence_no": "JB-1"})
    page = doc(web.get(f"/portal/cases/{case.id}"))
    assert rate_form(page).xpath(".//input[@name='stage']/@value") == ["completed"]
    web.post(f"/portal/cases/{case.id}/rating", {"stage": "completed", "level": "1", "comment": "证照打印错误"})
    page = doc(web.get(f"/portal/cases/{case.id}"))
    rows = page.xpath("//table[contains(@class,'ratings')]/tbody/tr")
    assert [text(td) for td in rows[1].xpath("td")][:3] == ["办结", "非常不满意", "证照打印错误"]
    link = rows[1].xpath(".//a[text()='查看整改']/@href")[0]
    fix_id = int(link.rsplit("/", 1)[1])
    # the window verifies and rectifies, 管理办 reviews, the window reports back
    h.complete(h.neizi, fix_id, "verify", {"contacted": True, "verification": "founded", "verify_note": "属实"})
    h.complete(h.neizi, fix_id, "rectify", {"measures": "打印前双人核对", "result": "已重新打印证照"})
    h.complete(h.actor("xietiao"), fix_id, "review", {"review": "pass"})
    h.complete(h.neizi, fix_id, "report_back", {"reply_way": "portal", "reply": "证照已重新打印，请到窗口领取"})
    fix = doc(web.get(link))
    assert "证照已重新打印，请到窗口领取" in text(fix)  # the enterprise reads the answer in 企业之家
    form = rate_form(doc(web.get(f"/portal/cases/{case.id}")))
    assert "整改结果已反馈，请您再次评价" in text(form)
    assert form.xpath(".//input[@name='stage']/@value") == ["rectified"]
    web.post(f"/portal/cases/{case.id}/rating", {"stage": "rectified", "level": "5"})
    rows = doc(web.get(f"/portal/cases/{case.id}")).xpath("//table[contains(@class,'ratings')]/tbody/tr")
    assert [text(r.xpath("td")[0]) for r in rows] == ["受理", "办结", "整改后"]


def test_the_windows_rating_device_shows_the_case_just_handled_and_nothing_else(hall_rated, app, browse):
    h = hall_rated
    tablet = browse("pingjia")
    for url in ("/", "/inbox", "/cases", "/ratings", "/notifications"):
        r = tablet.get(url)
        assert r.status_code == 302 and r.headers["Location"].endswith("/device"), url
    assert tablet.get("/portal").status_code == 403  # 企业之家 is the enterprises'
    page = doc(tablet.get("/device"))
    assert "欢迎办事" in text(page) and page.xpath("//meta[@http-equiv='refresh']")  # waits for a case
    case = accepted(h)
    page = doc(tablet.get("/device"))
    assert case.number in text(page) and "请对本次受理服务进行评价" in text(page)
    assert [text(b) for b in page.xpath("//form[contains(@class,'device-levels')]//button")] == [
        "非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    assert tablet.get(f"/api/v1/cases/{case.id}").status_code == 401  # the API wants a token; a device has none
    r = tablet.post(f"/device/{case.id}", {"stage": "accepted", "level": "5"})
    assert "感谢您的评价！" in flashes(tablet.get(r.headers["Location"]))
    [rating] = h.hall.ratings.of_case(h.owner, case.id)
    assert (rating.channel, rating.stage, rating.window) == ("device", "accepted", "内资窗口")
    assert "欢迎办事" in text(doc(tablet.get("/device")))  # rated: back to waiting
    tablet.get("/lang/en")
    h.complete(h.neizi, case.id, "handle_immediate_domestic", {"outcome": "approved", "licence_no": "JB-1"})
    english = tablet.get("/device").text
    assert "Please rate our service at completion" in english
    data = ("闽江数字科技有限公司", "印章刻制备案", "内资窗口")  # what the case and the window are called
    assert all(any(d in w for d in data) for w in chinese_in(english))


def test_management_reads_the_ratings_with_their_rectification(hall_rated, browse):
    h = hall_rated
    case = accepted(h)
    h.complete(h.neizi, case.id, "handle_immediate_domestic", {"outcome": "approved", "licence_no": "JB-1"})
    clock.advance(dt.timedelta(hours=1))
    h.hall.ratings.rate(h.actor("minjiang"), case.id, 2, "等太久")
    assert browse("neizi").get("/ratings").status_code == 403
    page = doc(browse("xietiao").get("/ratings?poor=1"))
    figures = {text(d.xpath("dt")[0]): text(d.xpath("dd")[0]) for d in page.xpath("//dl[@class='figures']/div")}
    assert figures == {"评价": "1", "满意率": "0.0%", "差评": "1", "差评整改率": "0.0%"}
    [row] = page.xpath("//table[contains(@class,'ratings')]/tbody/tr")
    cells = [text(td) for td in row.xpath("td")]
    assert cells[1:7] == [case.number, "办结", "不满意", "内资窗口", "等太久", "申请人"]
    assert cells[7].endswith("整改中") and row.get("class") == "poor"
    english = browse("xietiao")
    english.get("/lang/en")
    said = chinese_in(english.get("/ratings").text)  # in English, but for what people wrote: the window, the comment
    assert said and all("等太久" in w or "内资窗口" in w for w in said)
