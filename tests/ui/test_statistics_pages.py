"""The statistics page (统计): the director, 管理办 and the supervisor read a year's figures,
its breakdowns and its feedback loops (回访, complaints, 差评整改); a clerk may not; the period
chooser; the exports; English."""

import io

import pytest
from openpyxl import load_workbook

from engine import statistics
from tests.test_statistics import PLAN, YEAR
from tests.ui.test_i18n import chinese_in
from tests.ui.test_pages import doc, text
from webapp.demo import load
from webapp.synthetic import generate

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def year(hall, app):
    load(lambda s: None)
    generate(hall, PLAN)
    app.config["WTF_CSRF_ENABLED"] = False
    return hall


def signed_in(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": "hall123"}).status_code == 302
    return client


def figures(page) -> dict[str, str]:
    return {f.get("data-key"): text(f.xpath("./dd")[0]) for f in page.xpath("//div[@class='figure']")}


@pytest.mark.parametrize("who", ["fuzhuren", "xietiao", "jiancha"])  # the director, 管理办, the supervisor
def test_the_readers_see_the_years_figures_and_its_feedback_loops(year, app, who):
    web = signed_in(app, who)
    assert "/statistics" in web.get("/inbox").text  # linked from their pages
    r = web.get(f"/statistics?period={YEAR}")
    assert r.status_code == 200
    page = doc(r)
    totals = year.statistics.figures(statistics.period(str(YEAR)))
    shown = figures(page)
    assert shown["accepted"] == f"{PLAN.cases:,}" == f"{totals['accepted']:,}"
    assert shown["new_enterprises"] == "45" and shown["registered_capital"] == "9,000.00"
    assert shown["visits_reached"] == "30" and shown["visits_planned"] == "32"
    assert shown["visit_rate"] == f"{30 / 32:.1%}"
    assert shown["complaints"] == str(PLAN.complaints)
    assert shown["replied_on_time_rate"] == f"{totals['replied_on_time_rate']:.1%}"
    kinds = {text(tr.xpath("./td")[0]): text(tr.xpath("./td")[1])
             for tr in page.xpath("//table[@id='complaint-kinds']/tbody/tr")}
    assert sum(int(n) for n in kinds.values()) == PLAN.complaints and set(kinds) <= {"意见建议", "投诉"}
    # by department: the windows' rows carry their 回访 and complaints too
    head = [text(th) for th in page.xpath("//table[contains(@class,'statistics')]/thead/th | "
                                          "//table[contains(@class,'statistics')]/thead/tr/th")]
    assert head[0] == "部门" and "回访率" in head and "办理环节" in head
    assert page.xpath("//canvas[@id='trend-chart']") and page.xpath("//script[@id='chart-data']")


def test_a_clerk_and_an_enterprise_are_refused(year, app):
    for who in ("neizi", "qiye"):
        web = signed_in(app, who)
        assert web.get(f"/statistics?period={YEAR}").status_code == 403
        assert web.get(f"/statistics.xlsx?period={YEAR}").status_code == 403


def test_the_period_chooser(year, app):
    web = signed_in(app, "fuzhuren")
    page = doc(web.get("/statistics"))
    options = page.xpath("//datalist[@id='periods']/option/@value")
    assert f"{YEAR}" in options and f"{YEAR}-Q1" in options
    quarter = doc(web.get(f"/statistics?period={YEAR}-Q2&by=month"))
    assert [text(tr.xpath("./td")[0]) for tr in quarter.xpath("//table[contains(@class,'statistics')]/tbody/tr")] \
        == [f"{YEAR}-04", f"{YEAR}-05", f"{YEAR}-06"]
    days = doc(web.get(f"/statistics?from={YEAR}-03-01&to={YEAR}-03-31"))
    assert f"{YEAR}-03-01" in text(days.xpath("//h1")[0]) and f"{YEAR}-03-31" in text(days.xpath("//h1")[0])
    march = year.statistics.figures(statistics.period(f"{YEAR}-03"))
    assert figures(days)["received"] == f"{march['received']:,}"
    bad = web.get(f"/statistics?from={YEAR}-03-31&to={YEAR}-03-01")
    assert bad.status_code == 422 and "to" in bad.text
    assert web.get("/statistics?period=1999-13").status_code == 422


def test_the_export_links_give_numbers(year, app):
    web = signed_in(app, "xietiao")
    page = doc(web.get(f"/statistics?period={YEAR}"))
    r = web.get(page.xpath("//a[@id='export-xlsx']/@href")[0])
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.data), read_only=True)
    values = {row[0]: row[1] for row in wb["统计"].iter_rows(min_row=3, values_only=True)}
    assert values["回访企业"] == 30 and values["意见建议和投诉"] == PLAN.complaints
    assert isinstance(values["回访率"], float)
    assert sum(n for _, n in wb["意见建议和投诉类别"].iter_rows(min_row=2, values_only=True)) == PLAN.complaints


def test_the_page_in_english(year, app):
    web = signed_in(app, "fuzhuren")
    web.get("/lang/en")
    for url in (f"/statistics?period={YEAR}", f"/statistics?period={YEAR}&by=staff",
                f"/statistics?period={YEAR}&by=category"):
        r = web.get(url)
        assert r.status_code == 200 and '<html lang="en">' in r.text
        # the data (names of staff, departments, items) is the hall's own; the page's words are English
        page = doc(r)
        words = [text(e) for e in page.xpath("//h1 | //h2 | //dt | //th | //label | //nav[@class='tabs']//a")]
        assert chinese_in(" ".join(words)) == [], url
    assert "Enterprises visited back" in r.text and "Suggestions and complaints" in r.text
