"""The hall's statistics: figures recomputed from the raw rows, periods in the hall's time
zone, who may read them, the exports."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from engine import calendar, clock, statistics
from engine.errors import Forbidden, Invalid
from engine.identity import actor_of
from webapp import db
from webapp.demo import load
from webapp.synthetic import Plan, generate

YEAR = 2025
PLAN = Plan(YEAR, cases=400, consultations=300, domestic=40, foreign=5, capital=9000.0, agency=12, big_projects=3,
            exits=4, joint_reviews=3, seed=7, visited=30, unreached=2, complaints=9)
FEEDBACK = ("poor_rating", "complaint", "return_visit")  # the hall's own loops: not 办件


@pytest.fixture
def history(hall):
    load(lambda s: None)
    generate(hall, PLAN)
    return hall


def _director(hall):
    return actor_of(hall.identity.user("fuzhuren"))


def _raw(hall, sql: str, **params):
    return hall.session.execute(sa.text(sql), params).all()


def test_the_figures_are_what_the_rows_say(history):
    """Every headline figure counted again from the rows, in Python, without engine.statistics."""
    h = history
    since = dt.datetime(YEAR, 1, 1, tzinfo=clock.HALL_TZ).astimezone(dt.UTC)
    until = dt.datetime(YEAR + 1, 1, 1, tzinfo=clock.HALL_TZ).astimezone(dt.UTC)
    from engine.models import Case, CatalogueItem, Consultation, Rating
    every = h.session.execute(sa.select(Case.id, Case.status, Case.process_id, Case.created_at, Case.accepted_at,
                                        Case.ended_at, Case.due_at, Case.end_element, Case.data, Case.item_id)).all()
    cases = [c for c in every if c.process_id not in FEEDBACK]
    items = {i.id: i for i in h.session.scalars(sa.select(CatalogueItem))}
    inside = lambda at: at is not None and since <= at < until  # noqa: E731
    rejected = {r[0] for r in _raw(h, "SELECT case_id FROM accountability WHERE kind = 'rejection'")}
    accepted = [c for c in cases if inside(c.accepted_at)]
    ended = [c for c in cases if inside(c.ended_at)]
    done = [c for c in ended if c.status == "completed" and c.accepted_at is not None]
    cal = calendar.current()
    established = [c for c in ended if c.status == "completed" and c.item_id and "设立登记" in items[c.item_id].name
                   and c.id not in rejected]
    ratings = [r for r in h.session.scalars(sa.select(Rating)) if inside(r.at)]
    agency = [c for c in done if c.process_id == "green_channel" and c.end_element == "end_done"]
    expected = {
        "consultations": sum(inside(q) for q in h.session.scalars(sa.select(Consultation.asked_at))),
        "received": sum(inside(c.created_at) for c in cases),
        "accepted": len(accepted),
        "completed": len(done),
        "withdrawn": sum(c.status == "withdrawn" for c in ended),
        "new_enterprises": len(established),
        "new_domestic": sum(items[c.item_id].category == "domestic" for c in established),
        "new_foreign": sum(items[c.item_id].category == "foreign" for c in established),
        "registered_capital": round(sum(c.data["enterprise"]["registered_capital"] for c in established), 2),
        "agency": len(agency),
        "big_projects": sum(c.process_id == "big_project" for c in done),
        "retained": sum(c.end_element == "end_retained" for c in done),
        "poor_ratings": sum(r.level <= 2 for r in ratings),
    }
    figures = h.statistics.report(_director(h), statistics.period(str(YEAR))).totals
    assert {k: figures[k] for k in expected} == expected
    # the plan's year, as planned
    assert (figures["new_domestic"], figures["new_foreign"], figures["registered_capital"]) == (40, 5, 9000.0)
    assert figures["accepted"] == PLAN.cases and figures["agency"] == 12 and figures["big_projects"] == 3
    assert figures["satisfaction"] == pytest.approx(sum(r.level >= 3 for r in ratings) / len(ratings), abs=1e-4)
    # working days counted again with the calendar, from the times
    days = [cal.working_seconds(c.accepted_at, c.ended_at) / cal.day_seconds for c in agency]
    assert figures["agency_workdays"] == pytest.approx(sum(days) / len(days), abs=0.01)
    assert 1.2 <= figures["agency_workdays"] <= 1.8
    on_time = [c for c in done if c.due_at is not None]
    assert figures["on_time_rate"] == pytest.approx(sum(c.ended_at <= c.due_at for c in on_time) / len(on_time),
                                                    abs=1e-4)
    immediate = sum(items[c.item_id].kind == "immediate" for c in accepted if c.item_id)
    assert figures["immediate_share"] == pytest.approx(immediate / len(accepted), abs=1e-4)
    _feedback_figures(h, figures, {c.id: c for c in every}, inside, ratings)


def _feedback_figures(h, figures, cases, inside, ratings):
    """回访, complaints and 差评整改 counted again from their rows."""
    from engine.models import Complaint, Task, Visit
    visits = [v for v in h.session.scalars(sa.select(Visit)) if inside(v.served_at)]
    reached = [v for v in visits if v.status == "reached"]
    assert (figures["visits_planned"], figures["visits_reached"]) == (len(visits), len(reached)) == (32, 30)
    assert figures["visit_rate"] == pytest.approx(len(reached) / len(visits), abs=1e-4)
    assert figures["visit_satisfaction"] == pytest.approx(sum(v.satisfaction >= 3 for v in reached) / len(reached),
                                                          abs=1e-4)
    raised = [c for c in h.session.scalars(sa.select(Complaint)) if inside(c.created_at)]
    replies = {t.case_id: t for t in h.session.scalars(sa.select(Task).where(Task.element_id == "reply",
                                                                            Task.process_id == "complaint"))}
    assert figures["complaints"] == len(raised) == PLAN.complaints
    assert figures["suggestions"] == sum(c.kind == "suggestion" for c in raised)
    assert figures["substantiated"] == sum(bool(cases[c.case_id].data.get("substantiated")) for c in raised)
    assert figures["replied_on_time_rate"] == pytest.approx(
        sum(replies[c.case_id].completed_at <= replies[c.case_id].due_at for c in raised) / len(raised), abs=1e-4)
    poor = [r for r in ratings if r.level <= 2]
    fixed = [r for r in poor if r.rectification_case_id and cases[r.rectification_case_id].status == "completed"]
    assert figures["rectification_rate"] == (round(len(fixed) / len(poor), 4) if poor else None)


def test_breakdowns_add_up_to_the_totals(history):
    h = history
    of = statistics.period(str(YEAR))
    report = h.statistics.report(_director(h), of, "category")
    assert sum(r.values["accepted"] for r in report.rows) == report.totals["accepted"]
    assert {r.key for r in report.rows} >= {"domestic", "foreign"}
    months = h.statistics.report(_director(h), of, "month")
    assert [r.key for r in months.rows] == [f"{YEAR}-{m:02d}" for m in range(1, 13)]
    assert sum(r.values["received"] for r in months.rows) == months.totals["received"]
    staff = h.statistics.report(_director(h), of, "staff")
    assert sum(r.values["tasks_done"] for r in staff.rows) == staff.totals["tasks_done"]
    assert any(r.label == "内资窗口 王芳" for r in staff.rows)
    assert not any("评价器" in r.label for r in staff.rows)  # the window's rating device works no task
    departments = h.statistics.report(_director(h), of, "department")
    assert {"内资窗口", "工商", "首席服务台"} <= {r.key for r in departments.rows}


def test_the_figures_are_the_same_whatever_the_breakdown_shown(history):
    """A report sums its rows into the period's figures where each thing counted is in one row
    only: what one query over the period says, for every breakdown."""
    h = history
    of = statistics.period(str(YEAR))
    plain = h.statistics.figures(of)
    for by in (None, *statistics.DIMENSIONS):
        assert h.statistics.report(_director(h), of, by).totals == plain, by


def _every_breakdown(h, of):
    return {by: (report.totals, [(r.key, r.values) for r in report.rows], [r.values for r in report.trend])
            for by in (None, *statistics.DIMENSIONS) for report in [h.statistics.report(_director(h), of, by)]}


def _kept(h, source: str) -> set[str]:
    h.session.rollback()  # a new read: what the statistics kept since
    return set(h.session.scalars(sa.select(statistics.StatisticsMonth.month).where(
        statistics.StatisticsMonth.source == source, statistics.StatisticsMonth.by == "")))


def test_closed_months_are_kept_and_say_what_reading_the_rows_says(history):
    """A year read once keeps its closed months; read again from them, every figure of every
    breakdown is what reading the rows says (nothing kept), and the kept months are used."""
    h = history
    of = statistics.period(str(YEAR))
    assert not _kept(h, "received")
    first = _every_breakdown(h, of)
    assert _kept(h, "received") == {f"{YEAR}-{m:02d}" for m in range(1, 13)}
    assert _kept(h, "tasks") and _kept(h, "ratings")
    with db.engine.begin() as conn:  # a kept month is what is shown: change one, see it
        conn.execute(sa.text("UPDATE statistics_months SET rows = :rows WHERE month = :m AND source = 'received' "
                             "AND by = ''"), {"rows": '[[null, {"received": [5000, 0]}]]', "m": f"{YEAR}-03"})
    h.session.rollback()
    assert h.statistics.figures(of)["received"] != first[None][0]["received"]
    h.statistics.forget(YEAR)
    h.session.commit()
    assert _every_breakdown(h, of) == first
    # a custom period: its whole months kept, the days at its ends read
    part = statistics.period(None, f"{YEAR}-02-15", f"{YEAR}-05-10")
    kept = h.statistics.figures(part)
    h.statistics.forget(YEAR)
    h.session.commit()
    h.session.execute(sa.text("DELETE FROM statistics_months"))
    assert h.statistics.figures(part) == kept


def test_a_month_is_read_not_kept_while_a_case_accepted_in_it_runs_or_a_poor_rating_is_rectified(history):
    h = history
    june = statistics.period(f"{YEAR}-06")
    case_id = h.session.execute(sa.text(
        "SELECT id FROM cases WHERE status = 'completed' AND accepted_at >= :a AND accepted_at < :b AND process_id "
        "NOT IN ('poor_rating', 'complaint', 'return_visit') ORDER BY id LIMIT 1"),
        {"a": june.since, "b": june.until}).scalar()
    ended = h.session.execute(sa.text("SELECT ended_at FROM cases WHERE id = :i"), {"i": case_id}).scalar()
    h.session.execute(sa.text("UPDATE cases SET status = 'running', ended_at = NULL WHERE id = :i"), {"i": case_id})
    h.session.commit()
    running = h.statistics.figures(june)
    assert f"{YEAR}-06" not in _kept(h, "accepted") and f"{YEAR}-06" in _kept(h, "received")
    h.session.execute(sa.text("UPDATE cases SET status = 'completed', ended_at = :e WHERE id = :i"),
                      {"i": case_id, "e": ended})
    h.session.commit()
    done = h.statistics.figures(june)  # the case completed: its month settles and is counted so
    assert done["completion_rate"] > running["completion_rate"] and f"{YEAR}-06" in _kept(h, "accepted")
    # a 差评 whose 差评整改 is not done keeps its month unsettled: one made so of a rating of the year
    r = statistics.Rating.__table__
    year = statistics.period(str(YEAR))
    rating_id, at = h.session.execute(sa.select(r.c.id, r.c.at).where(r.c.at >= year.since, r.c.at < year.until)
                                      .order_by(r.c.id).limit(1)).one()
    h.session.execute(sa.text("UPDATE ratings SET level = 2, rectification_case_id = :c WHERE id = :r"),
                      {"c": case_id, "r": rating_id})
    h.session.execute(sa.text("UPDATE cases SET status = 'running' WHERE id = :i"), {"i": case_id})
    h.statistics.forget(YEAR)
    h.session.commit()
    month = at.astimezone(clock.HALL_TZ).strftime("%Y-%m")
    before = h.statistics.figures(statistics.period(month))
    assert before["poor_ratings"] >= 1 and month not in _kept(h, "ratings")
    h.session.execute(sa.text("UPDATE cases SET status = 'completed' WHERE id = :i"), {"i": case_id})
    h.session.commit()
    after = h.statistics.figures(statistics.period(month))
    assert after["rectification_rate"] > (before["rectification_rate"] or 0) and month in _kept(h, "ratings")


def _all_kept(h) -> dict:
    h.session.rollback()
    return {(m.month, m.source, m.by): m.rows for m in h.session.scalars(sa.select(statistics.StatisticsMonth))}


def test_the_scheduler_keeps_the_closed_months_before_any_page_asks(history, monkeypatch):
    """keep_closed keeps every settled closed month, for every breakdown, what a page would
    keep; a page of the year then reads the rows only of months not settled; the month under
    way is never kept; once all is kept it finds nothing to do."""
    h = history
    budgeted = 0
    while (n := h.statistics.keep_closed(seconds=0)) > 0:  # a slice at a time, as the scheduler runs it
        budgeted += n
    ahead = _all_kept(h)
    assert budgeted == len(ahead) and h.statistics.keep_closed() == 0
    months = {m for m, _, _ in ahead}
    today = clock.local_now().date()
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    assert f"{YEAR}-01" in months and last_month in months and today.strftime("%Y-%m") not in months
    assert max(months) == last_month  # the month under way is never kept
    assert {(s, by) for m, s, by in ahead if m == f"{YEAR}-02"} == {
        (s, by) for s in statistics.KEPT for by in ("", *statistics.DIMENSIONS) if by in statistics.SOURCES[s].keys
        or by == ""}
    reads = []
    real_read = statistics.Statistics._read
    monkeypatch.setattr(statistics.Statistics, "_read",
                        lambda self, name, by, of, figures: reads.append((name, of)) or real_read(self, name, by, of,
                                                                                                    figures))
    shown = _every_breakdown(h, statistics.period(str(YEAR)))
    unsettled = {name: {f"{YEAR}-{m:02d}" for m in range(1, 13)} - set(h.statistics._settled(
        name, [f"{YEAR}-{m:02d}" for m in range(1, 13)])) for name in statistics.KEPT}
    for name, of in reads:
        assert name not in statistics.KEPT or {label for label, _ in of.months()} <= unsettled[name], (name, of)
    monkeypatch.undo()
    # what a page keeps on its own, asked first: the same
    h.session.execute(sa.delete(statistics.StatisticsMonth))
    h.session.commit()
    assert _every_breakdown(h, statistics.period(str(YEAR))) == shown
    asked = _all_kept(h)
    assert asked and all(ahead[k] == rows for k, rows in asked.items())


def test_kept_months_from_a_later_clock_are_not_used_when_the_clock_is_set_back(history):
    h = history
    of = statistics.period(f"{YEAR}-03")
    h.statistics.figures(of)
    computed = h.session.scalar(sa.select(sa.func.max(statistics.StatisticsMonth.computed_at)))
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE statistics_months SET rows = '[]'"))
    h.session.rollback()
    with clock.frozen_at(computed - dt.timedelta(seconds=1)):
        assert h.statistics.figures(of)["received"] > 0


def test_a_case_at_2330_on_31_december_shanghai_time_belongs_to_that_year(history):
    h = history
    late = dt.datetime(YEAR, 12, 31, 23, 30, tzinfo=clock.HALL_TZ)  # 15:30 UTC
    early = dt.datetime(YEAR + 1, 1, 1, 0, 30, tzinfo=clock.HALL_TZ)  # still 31 December in UTC
    before = h.statistics.figures(statistics.period(str(YEAR)))["received"]
    with db.engine.begin() as conn:
        table = statistics.Case.__table__
        row = conn.execute(sa.select(table).order_by(table.c.id).limit(1)).mappings().one()
        for n, at in enumerate((late, early)):
            values = {**row, "id": row["id"] + 900000 + n, "number": f"EDGE-{n}", "created_at": at}
            conn.execute(sa.insert(table), [values])
    h.session.rollback()  # a new read: the rows written since
    for year in (YEAR, YEAR + 1):  # rows written into closed months, as only an import does
        h.statistics.forget(year)
    h.session.commit()
    assert h.statistics.figures(statistics.period(str(YEAR)))["received"] == before + 1
    assert h.statistics.figures(statistics.period(f"{YEAR + 1}-01"))["received"] == 1
    assert h.statistics.figures(statistics.period(None, f"{YEAR}-12-31", f"{YEAR}-12-31"))["received"] >= 1
    # a period within one month: one row a month, the period's figures
    december = h.statistics.report(_director(h), statistics.period(None, f"{YEAR}-12-31", f"{YEAR}-12-31"), "month")
    assert [r.values["received"] for r in december.rows] == [december.totals["received"]] and december.trend


@pytest.mark.parametrize("who", ["neizi", "qiye", "daiban"])
def test_clerks_and_enterprises_may_not_read_the_statistics(history, who):
    with pytest.raises(Forbidden):
        history.statistics.report(actor_of(history.identity.user(who)), statistics.period(str(YEAR)))


@pytest.mark.parametrize(("args", "field"), [
    ({"name": "2025-13"}, "period"), ({"name": "year"}, "period"),
    ({"first": "2020-01-01", "last": "2025-01-01"}, "to"),
    ({"first": "2025-02-01", "last": "2025-01-01"}, "to"), ({"first": "2025-01-01"}, "to"),
    ({"first": "2025-1-1", "last": "2025-02-01"}, "from")])
def test_periods_out_of_bounds_are_refused_naming_the_field(args, field):
    with pytest.raises(Invalid) as e:
        statistics.period(**args)
    assert field in e.value.extra["errors"]


def test_the_api_answers_the_director_and_refuses_a_clerk(history, client):
    h = history
    token = client.post("/api/v1/auth/token", json={"username": "fuzhuren", "password": "hall123"}).json["token"]
    r = client.get(f"/api/v1/statistics?period={YEAR}&by=category", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json["totals"]["accepted"] == PLAN.cases
    assert {row["key"] for row in r.json["rows"]} >= {"domestic", "foreign"}
    assert r.json["totals"]["visits_reached"] == PLAN.visited and r.json["totals"]["complaints"] == PLAN.complaints
    assert sum(k["complaints"] for k in r.json["complaint_kinds"]) == PLAN.complaints
    clerk = client.post("/api/v1/auth/token", json={"username": "neizi", "password": "hall123"}).json["token"]
    assert client.get("/api/v1/statistics", headers={"Authorization": f"Bearer {clerk}"}).status_code == 403
    qiye = client.post("/api/v1/auth/token", json={"username": "qiye", "password": "hall123"}).json["token"]
    assert client.get("/api/v1/statistics.xlsx", headers={"Authorization": f"Bearer {qiye}"}).status_code == 403
    bad = client.get("/api/v1/statistics?from=2020-01-01&to=2025-12-31", headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 422 and "to" in bad.json["errors"]
    assert client.get("/api/v1/statistics?by=colour", headers={"Authorization": f"Bearer {token}"}).status_code == 422
    h.session.rollback()


def test_the_exports_hold_numbers(history, client):
    token = client.post("/api/v1/auth/token", json={"username": "jiancha", "password": "hall123"}).json["token"]
    auth = {"Authorization": f"Bearer {token}"}
    r = client.get(f"/api/v1/statistics.xlsx?period={YEAR}", headers=auth)
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(r.data), read_only=True)
    figures = {row[0]: row[1] for row in wb["统计"].iter_rows(min_row=3, values_only=True)}
    assert figures["受理"] == PLAN.cases and isinstance(figures["受理"], int)
    assert figures["注册资本（万元）"] == 9000.0 and 0.9 <= figures["满意率"] <= 1  # numbers, not text
    cases = list(wb["办件明细"].iter_rows(min_row=2, values_only=True))
    assert len(cases) == history.statistics.figures(statistics.period(str(YEAR)))["received"]
    assert all(isinstance(c[2], dt.datetime) for c in cases)
    # each row its own case's times, in Shanghai time
    from engine.models import Case
    since = dt.datetime(YEAR, 1, 1, tzinfo=clock.HALL_TZ)
    rows = history.session.execute(sa.select(Case.number, Case.created_at, Case.ended_at).where(
        Case.created_at >= since, Case.created_at < since.replace(year=YEAR + 1), Case.process_id.not_in(FEEDBACK))
        .order_by(Case.created_at, Case.id)).all()
    local = lambda at: at.astimezone(clock.HALL_TZ).replace(tzinfo=None)  # noqa: E731
    assert [c[0] for c in cases] == [r.number for r in rows]
    assert all(abs(c[2] - local(r.created_at)) < dt.timedelta(seconds=1) and
               abs(c[4] - local(r.ended_at)) < dt.timedelta(seconds=1) for c, r in zip(cases, rows, strict=True))
    assert all(isinstance(c[3], dt.datetime) and isinstance(c[7], float) for c in cases if c[5] == "办结" and c[3])
    csv = client.get(f"/api/v1/statistics.csv?period={YEAR}&by=category", headers=auth)
    assert csv.status_code == 200 and csv.text.startswith("\ufeff")
    head, total = csv.text.splitlines()[:2]
    assert "受理" in head and total.startswith("合计")
