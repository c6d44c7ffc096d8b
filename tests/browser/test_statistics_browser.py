"""The director reads the statistics of the demo year in a real browser: the figures, the
month-by-month chart drawn by Chart.js (served locally), and the year as a spreadsheet."""

from __future__ import annotations

import re
from datetime import datetime

from openpyxl import load_workbook
from playwright.sync_api import expect

from engine import clock, statistics
from tests.browser.conftest import sign_in
from webapp.demo import load

# the canvas has pixels that are not transparent: the chart was drawn
PAINTED = """() => {
  const c = document.getElementById('trend-chart');
  if (!c || !c.width || !window.Chart || !Chart.getChart(c)) return false;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
  return false;
}"""


def test_the_director_reads_the_demo_year_sees_its_chart_and_downloads_it(hall, page, tmp_path):
    load(lambda line: None, history=0.02)  # the demo hall with a small year before now
    year = clock.local_now().year - 1
    accepted = hall.statistics.figures(statistics.period(str(year)))["accepted"]
    hall.session.rollback()
    sign_in(page, "fuzhuren", "hall123")
    page.click("header nav a:has-text('统计')")
    page.wait_for_url(re.compile(r".*/statistics$"))
    page.fill("input[name=period]", str(year))
    page.click("#period-form button[type=submit]")
    page.wait_for_url(re.compile(rf".*/statistics\?period={year}.*"))
    expect(page.locator(".figure[data-key=accepted] dd")).to_have_text(f"{accepted:,}")
    page.wait_for_function(PAINTED)
    months = page.evaluate("() => Chart.getChart(document.getElementById('trend-chart')).data.labels")
    assert months == [f"{year}-{m:02d}" for m in range(1, 13)]
    with page.expect_download() as download:
        page.click("#export-xlsx")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == f"statistics-{year}.xlsx"
    wb = load_workbook(path, read_only=True)
    figures = {row[0]: row[1] for row in wb["统计"].iter_rows(min_row=3, values_only=True)}
    assert figures["受理"] == accepted and isinstance(figures["受理"], int)
    assert all(isinstance(figures[k], int | float) for k in ("满意率", "注册资本（万元）", "回访率"))  # not text
    cases = list(wb["办件明细"].iter_rows(min_row=2, values_only=True))
    assert len(cases) == figures["收件"] and all(isinstance(c[2], datetime) for c in cases)  # 收件时间: a date
