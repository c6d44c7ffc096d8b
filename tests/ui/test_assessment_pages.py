"""百分考核 on the pages: 管理办 enters a deduction with its evidence and publishes the quarter;
a member of staff reads the published scores, their causes and the star windows; bad input
is shown next to its field; the scheme's page saves a new version."""

from __future__ import annotations

import io

import pytest

from tests.conftest import DIAGRAMS
from tests.ui import test_pages as pages
from tests.ui.test_i18n import field_errors
from tests.ui.test_pages import doc, flashes, text

browse = pages.browse
Q3 = "2026Q3"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def people(h):
    h.deploy(DIAGRAMS / "form_task.bpmn")
    return {"neizi": h.user("neizi", groups=["内资窗口"]), "waizi": h.user("waizi", groups=["外资窗口"]),
            "glb": h.user("glb", groups=["管理办"], roles=["staff", "coordinator"]),
            "qiye": h.user("qiye", groups=["申请人"], roles=["applicant"])}


def test_office_enters_publishes_and_staff_read_the_published_quarter(people, browse):
    staff = browse("neizi")
    assert "百分考核" in [text(a) for a in doc(staff.get("/inbox")).xpath("//header/nav/a")]
    assert "本季度尚未公示" in staff.get(f"/assessment/{Q3}").text
    office = browse("glb")
    bad = office.post(f"/assessment/{Q3}/entries", data={"item": "D1", "subject_kind": "window",
                                                          "subject": "内资窗口", "points": "x", "reason": ""})
    assert bad.status_code == 422
    assert field_errors(bad.text, "points") and field_errors(bad.text, "reason")
    r = office.post(f"/assessment/{Q3}/entries", data={
        "item": "D1", "subject_kind": "window", "subject": "内资窗口", "points": "-2", "reason": "7月15日脱岗20分钟",
        "file": (io.BytesIO(PDF), "巡查记录.pdf")}, content_type="multipart/form-data", follow_redirects=True)
    assert flashes(r) == ["已录入"]
    draft = doc(r)
    assert text(draft.xpath("//tr[@data-key='内资窗口']/td[@class='total']")[0]) == "98"
    office.post(f"/assessment/{Q3}/publish")
    page = staff.get(f"/assessment/{Q3}")
    root = doc(page)
    assert "季公示" in text(root.xpath("//p[contains(@class,'published')]")[0])
    assert text(root.xpath("//tr[@data-key='内资窗口']/td[@class='total']")[0]) == "98"
    assert "7月15日脱岗20分钟" in page.text
    evidence = root.xpath("//a[text()='巡查记录.pdf']/@href")[0]
    assert staff.get(evidence).data == PDF
    stars = [text(li) for li in root.xpath("//ol[@class='star-windows']/li")]
    assert stars == []  # no window had a rating: the default rules ask for one
    r = office.post(f"/assessment/{Q3}/adjust", data={"item": "D1", "subject_kind": "window", "subject": "内资窗口",
                                                       "points": "2", "reason": "经复核系公务外出"},
                    follow_redirects=True)
    assert flashes(r)[-1] == "已调整"
    root = doc(staff.get(f"/assessment/{Q3}"))
    assert text(root.xpath("//tr[@data-key='内资窗口']/td[@class='total']")[0]) == "100"
    assert "经复核系公务外出" in text(root.xpath("//tr[@data-key='内资窗口']")[0])
    assert browse("qiye").get(f"/assessment/{Q3}").status_code == 403
    assert "2026Q3" in staff.get("/assessment/year/2026").text


def test_the_scheme_page_saves_a_version_and_names_what_is_wrong(people, browse):
    office = browse("glb")
    form = doc(office.get("/assessment/scheme"))
    data = {i.name: i.value or "" for i in form.xpath("//form[@class='scheme-form']//input")}
    data.update({s.name: s.value for s in form.xpath("//form[@class='scheme-form']//select")})
    data["windows-min_ratings"] = "0"
    r = office.post("/assessment/scheme", data=data, follow_redirects=True)
    assert flashes(r) == ["已保存为第 1 版"]
    data["points-0"] = "5"
    r = office.post("/assessment/scheme", data=data)
    assert r.status_code == 422 and "101" in r.text
    staff = browse("neizi").get("/assessment/scheme")
    assert staff.status_code == 200 and not doc(staff).xpath("//input[@name='code-0']")
