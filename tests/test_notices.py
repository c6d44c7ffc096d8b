"""Printed notices: issued when a case reaches them, real PDFs in Chinese (their text read
back with pdftotext, their pages drawn with pdftoppm), kept as issued, served only to those
who may see the case."""

import io
import subprocess

import pytest
from PIL import Image

from engine import notices
from tests import test_filing
from tests.processes.test_parallel_approval import application
from tests.ui import test_pages as pages
from tests.ui.test_pages import doc, text

browse = pages.browse  # a person signed in
filing = test_filing.filing  # a hall with the 并联审批 process and its catalogue item NZ-001
ACCEPTED = test_filing.ACCEPTED

def pdf_text(pdf: bytes) -> str:
    """The notice's words, without the spaces and line ends its layout puts between them."""
    said = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return "".join(said.split())


def pdf_page(pdf: bytes) -> Image.Image:
    png = subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", "-"], input=pdf, capture_output=True,
                         check=True).stdout
    return Image.open(io.BytesIO(png)).convert("L")


def notice(client, h, case_id, title, user="qiye"):
    listed = client.get(f"/api/v1/cases/{case_id}/notices", headers=h.token(user)).get_json()
    [n] = [n for n in listed if n["title"] == title]
    r = client.get(f"/api/v1/cases/{case_id}/notices/{n['id']}", headers=h.token(user))
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/pdf"
    return r.data


def test_a_case_gets_its_notices_as_it_goes_and_each_reads_as_a_notice(client, filing):
    h = filing
    case = h.hall.runtime.start(h.qiye, None, application(), item="NZ-001")
    h.complete(h.yushen, case.id, "online_prereview", {"prereview_decision": "pass"})
    h.complete(h.neizi, case.id, "accept_domestic", {"acceptance": "supplement", "missing_materials": [
        "公司章程", "住所使用证明"], "acceptance_comments": "章程须全体股东签字"})
    said = pdf_text(notice(client, h, case.id, "补正告知书"))
    for words in ("补正告知书", case.number, "内资企业设立登记", "公司章程", "住所使用证明", "章程须全体股东签字",
                  "一次性告知", "行政许可法", "2026 年 12 月 14 日", "区行政服务中心"):  # 10 working days from Monday
        assert "".join(words.split()) in said, words
    h.hall.runtime.message(h.qiye, case.id, "补正材料", {"materials": ["公司章程", "住所使用证明"]})
    h.complete(h.neizi, case.id, "accept_domestic", ACCEPTED)
    said = pdf_text(notice(client, h, case.id, "受理通知书"))
    for words in ("受理通知书", "予以受理", "公司章程", "承诺时限 5 个工作日", "2026 年 12 月 7 日"):
        assert "".join(words.split()) in said, words
    page = pdf_page(notice(client, h, case.id, "受理通知书"))
    dark = sum(page.histogram()[:128])
    assert page.size[0] < page.size[1] and 0.005 < dark / (page.size[0] * page.size[1]) < 0.3  # an A4 page, written on
    titles = [n.title for n in h.hall.notices.of_case(h.owner, case.id)]
    assert titles == ["补正告知书", "受理通知书"]
    assert [e.detail["title"] for e in h.hall.runtime.events(case.id) if e.action == "notice_issued"] == titles


def test_a_refusal_states_its_reasons_and_the_applicants_rights(client, filing):
    h = filing
    case = h.hall.runtime.start(h.neizi, None, application(), item="NZ-001", channel="counter")
    h.complete(h.neizi, case.id, "accept_domestic", {"acceptance": "reject", "reject_reason": "不属于本中心受理范围"})
    said = pdf_text(notice(client, h, case.id, "不予受理通知书", user="neizi"))
    for words in ("不予受理", "不属于本中心受理范围", "行政复议", "行政诉讼", "闽江数字科技有限公司"):
        assert "".join(words.split()) in said, words


def test_a_notice_stays_as_it_was_issued(client, filing, monkeypatch):
    h = filing
    case = h.hall.runtime.start(h.neizi, None, application(), item="NZ-001", channel="counter")
    h.complete(h.neizi, case.id, "accept_domestic", {"acceptance": "reject", "reject_reason": "理由甲"})
    first = notice(client, h, case.id, "不予受理通知书", user="neizi")
    monkeypatch.setattr(notices, "render", lambda *a, **kw: b"%PDF-1.4 another wording")
    assert notice(client, h, case.id, "不予受理通知书", user="neizi") == first  # the template changed; not it


def test_only_those_who_may_see_the_case_read_its_notices(client, filing, browse):
    h = filing
    h.user("other", groups=["申请人"], roles=["applicant"])
    case = h.hall.runtime.start(h.qiye, None, application(), item="NZ-001")
    h.complete(h.yushen, case.id, "online_prereview", {"prereview_decision": "reject",
                                                        "prereview_comments": "不属本中心"})
    [n] = h.hall.notices.of_case(h.owner, case.id)
    assert client.get(f"/api/v1/cases/{case.id}/notices/{n.id}", headers=h.token("other")).status_code == 403
    assert client.get(f"/api/v1/cases/{case.id}/notices", headers=h.token("other")).status_code == 403
    page = doc(browse("neizi").get(f"/cases/{case.id}"))
    [link] = page.xpath("//ul[@class='notices']//a")
    assert text(link) == "不予受理通知书"
    assert browse("neizi").get(link.get("href")).data.startswith(b"%PDF-")


def test_a_diagram_naming_an_unknown_notice_is_refused_at_deploy(filing):
    from tests.conftest import PROCESSES
    xml = (PROCESSES / "parallel_approval.bpmn").read_text(encoding="utf-8").replace(
        '<camunda:property name="notice" value="completion"/>', '<camunda:property name="notice" value="certificate"/>')
    with pytest.raises(test_filing.Invalid) as e:
        filing.hall.repository.deploy({"parallel_approval.bpmn": xml.encode()}, filing.owner)
    assert any(err["element_id"] == "end_completed" and "certificate" in err["message"]
               for err in e.value.extra["errors"])
