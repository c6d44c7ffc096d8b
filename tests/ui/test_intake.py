"""一口受理: a window clerk takes in a walk-in applicant's case from the catalogue with the
scanned materials, then ticks them against the item at 受理 (受理, 容缺受理 with a date,
补正, 不予受理); each department reads the materials its review needs."""

import io

import pytest

from engine.errors import Invalid
from tests import test_filing
from tests.processes.test_parallel_approval import application
from tests.test_materials import PDF, PNG
from tests.test_portal import one_form_fields
from tests.ui import test_pages as pages
from tests.ui.test_pages import doc, flashes, text

browse = pages.browse  # a person signed in
filing = test_filing.filing  # a hall with the 并联审批 process and its catalogue item NZ-001


@pytest.fixture
def counter(filing):
    h = filing
    h.hall.catalogue.save(h.owner, test_filing.item(materials=[
        {"name": "公司章程", "departments": ["工商"]},
        {"name": "住所使用证明", "tolerable": True, "departments": ["地税"]},
        {"name": "申请书"}]))
    h.hall.catalogue.save(h.owner, test_filing.item(code="WZ-001", name="外资企业设立登记", category="foreign"))
    h.gongshang = h.user("gongshang", groups=["工商"])
    return h


def take_in(web, files=None):
    form = {**one_form_fields(), "credit_code": "91350100M000100Y43", "enterprise_name": "闽江数字科技有限公司",
            "action": "submit", **(files or {})}
    return web.post("/start/item/NZ-001", form, content_type="multipart/form-data")


def test_the_clerk_takes_in_a_walk_in_case_with_its_scans_and_goes_on_to_accept_it(counter, browse):
    h = counter
    web = browse("neizi")
    listed = doc(web.get("/start")).xpath("//table[contains(@class,'counter-items')]//tbody/tr/td[1]/text()")
    assert listed == ["NZ-001", "WZ-001"]  # the clerk's own window's items first
    r = take_in(web, {"file-0": (io.BytesIO(PDF), "章程.pdf"), "file-2": (io.BytesIO(PNG), "申请书.png")})
    assert r.status_code == 302 and "/tasks/" in r.headers["Location"], r.text
    [case] = h.hall.runtime.cases(h.owner)[0]
    assert case.channel == "counter" and case.enterprise_id is not None
    page = doc(web.get(r.headers["Location"]))
    assert page.xpath("//input[@type='checkbox' and @name='received_materials']/@value") == [
        "公司章程", "住所使用证明", "申请书"]  # the item's checklist
    assert [text(li.xpath("./span")[0]) for li in page.xpath("//ul[@class='material-files']/li")] == [
        "公司章程", "住所使用证明", "申请书"]
    task_url = r.headers["Location"]
    # a required material not ticked: refused, named
    r = web.post(task_url, {"acceptance": "accept", "received_materials": ["公司章程", "申请书"],
                            "received_materials.present": "1"})
    assert r.status_code == 422 and "住所使用证明" in r.text
    # 容缺: what may follow later, by a date
    r = web.post(task_url, {"acceptance": "tolerate", "received_materials": ["公司章程", "申请书"],
                            "received_materials.present": "1", "tolerated_materials": ["住所使用证明"],
                            "tolerated_materials.present": "1", "promised_by": "2026-12-10"})
    assert r.status_code == 302, r.text
    c = h.hall.runtime.case(case.id)
    assert c.data["acceptance"] == "tolerate" and c.data["promised_by"] == "2026-12-10"
    assert c.due_at is not None  # accepted: the committed limit counts
    assert {t.element_id for t in h.open_tasks(case.id)} >= {"review_gongshang", "review_dishui"}


@pytest.mark.parametrize("values, field, words", [
    ({"received_materials": ["公司章程"], "tolerated_materials": ["申请书", "住所使用证明"]}, "tolerated_materials",
     "申请书"),  # 申请书 may not follow later
    ({"received_materials": ["公司章程", "申请书"], "tolerated_materials": ["住所使用证明"]}, "acceptance", "容缺"),
    ({"received_materials": ["公司章程", "申请书", "营业执照"]}, "received_materials", "营业执照"),
])
def test_a_wrong_checklist_is_refused_naming_the_field(counter, values, field, words):
    h = counter
    case = h.hall.runtime.start(h.neizi, None, application(), item="NZ-001", channel="counter")
    with pytest.raises(Invalid) as e:
        h.complete(h.neizi, case.id, "accept_domestic", {"acceptance": "accept", "promised_by": "2026-12-10",
                                                          **values})
    assert words in " ".join(e.value.extra["errors"][field])
    assert [t.element_id for t in h.open_tasks(case.id)] == ["accept_domestic"]  # nothing happened


def test_each_department_reads_the_materials_its_review_needs(counter, browse):
    h = counter
    case = h.hall.runtime.start(h.neizi, None, application(), item="NZ-001", channel="counter")
    for name, body in (("公司章程", PDF), ("住所使用证明", PNG)):
        h.hall.materials.add(h.neizi, case.id, name, f"{name}.pdf", io.BytesIO(body))
    h.complete(h.neizi, case.id, "accept_domestic", {"acceptance": "accept",
                                                      "received_materials": ["公司章程", "住所使用证明", "申请书"]})
    [task] = h.open_tasks(case.id, "review_gongshang")
    page = doc(browse("gongshang").get(f"/tasks/{task.id}"))
    assert [text(li.xpath("./span")[0]) for li in page.xpath("//ul[@class='material-files']/li")] == [
        "公司章程", "申请书"]  # not 地税's 住所使用证明


def test_the_window_records_a_walk_in_withdrawal_before_acceptance(counter, browse):
    h = counter
    case = h.hall.runtime.start(h.neizi, None, application(), item="NZ-001", channel="counter")
    web = browse("neizi")
    r = web.post(f"/cases/{case.id}/withdraw", {"reason": "申请人决定暂缓设立"})
    assert "办件已撤回" in flashes(web.get(r.headers["Location"]))
    assert h.hall.runtime.case(case.id).status == "withdrawn" and h.open_tasks(case.id) == []
    assert not doc(web.get(f"/cases/{case.id}")).xpath("//form[contains(@class,'withdraw-form')]")
