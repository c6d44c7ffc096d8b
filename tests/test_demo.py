import datetime as dt

import pytest
import sqlalchemy as sa

from engine import clock, statistics
from engine.identity import actor_of
from engine.models import Case
from webapp.demo import USERS, load


def test_demo_loads_the_hall_and_can_run_again(hall):
    out = []
    load(out.append)
    assert sorted(p["process_id"] for p in hall.repository.processes()) == [
        "big_project", "complaint", "enterprise_exit", "green_channel", "joint_review", "parallel_approval",
        "poor_rating", "return_visit"]
    assert {u.username for u in hall.identity.users()} == {u[0] for u in USERS}
    cases = hall.session.scalar(sa.select(sa.func.count()).select_from(Case))
    assert cases >= 7
    assert _warnings(hall) == {"red", "yellow"}
    # 百分考核: the last quarter published, its star windows, what a member of staff reads at once
    from engine.assessment import previous_quarter, quarter_of
    last = previous_quarter(quarter_of(clock.now()))
    published = hall.assessment.quarter(actor_of(hall.identity.user("neizi")), last)
    assert published["published"] and published["stars"]["windows"][0]["key"] == "外资窗口"
    assert next(w for w in published["windows"] if w["key"] == "社会事务窗口")["total"] == 99
    load(out.append)  # again: nothing doubles
    assert hall.session.scalar(sa.select(sa.func.count()).select_from(Case)) == cases
    assert all(p["latest_version"] == 1 for p in hall.repository.processes())
    items = hall.catalogue.items()  # every process has its item (but the hall's own feedback loops), a few 即办件 none
    assert {i.process_id for i in items} >= {p["process_id"] for p in hall.repository.processes()} - {
        "complaint", "poor_rating", "return_visit"}
    assert {i.code for i in items} >= {"NZ-001", "WZ-001", "SW-001", "GA-001", "YH-001", "XM-001", "QC-001"}
    assert sum(i.kind == "immediate" for i in items) >= 3 and all(i.version == 1 for i in items)
    qiye = next(u for u in hall.identity.users() if u.username == "qiye")
    assert qiye.role_set == {"applicant"} and qiye.enterprise_id is not None
    # 企业之家 has cases in every state, with their notices, and questions asked and answered
    rows, _total = hall.runtime.cases(actor_of(qiye), per_page=50)
    assert {c.status for c in rows} == {"running", "completed", "withdrawn"}
    assert any(c.waiting == ["补正材料"] for c in rows)
    titles = {n.title for c in rows for n in hall.notices.of_case(actor_of(qiye), c.id)}
    assert {"补正告知书", "受理通知书", "办结通知书"} <= titles
    assert {bool(q.answer) for q in hall.portal.asked_by(actor_of(qiye))} == {True, False}
    assert any(c.channel == "counter" for c in hall.runtime.cases(actor_of(hall.identity.user("neizi")))[0])
    # 意见建议/投诉 at every step, one on 审批问责; a round of 回访 partly done
    office = actor_of(hall.identity.user("xietiao"))
    assert {c.status for c in hall.complaints.list(office)[0]} == {
        "classify", "investigate", "rectify", "reply", "close", "closed"}
    assert [r.kind for r in hall.deadlines.accountability(office)[0] if r.kind not in ("late", "extension")] == [
        "wrong"]
    rnd = hall.visits.rounds(office)[0]
    assert (rnd.planned, rnd.reached) == (2, 1)
    # 好差评 at 受理 and 办结, and a 差评 whose 差评整改 waits for its window
    ratings, _total, figures = hall.ratings.listing(office)
    assert {r.stage for r in ratings} == {"accepted", "completed"} and figures["poor"] == 1
    [poor] = [r for r in ratings if r.level <= 2]
    [verify] = hall.tasks.case_tasks(poor.rectification_case_id, status="open")
    assert verify.candidate_groups == ["内资窗口"]


def _warnings(hall):
    """What 督办 shows: late (red) and nearly late (yellow) work."""
    board = hall.deadlines.dashboard(actor_of(hall.identity.user("xietiao")))
    return {t.warning for tasks in board["groups"].values() for t in tasks}


@pytest.mark.parametrize("local", [
    "2026-11-30T08:30",  # a Monday before opening
    "2026-11-30T09:01",  # just after opening: the working day is nearly whole
    "2026-11-30T12:30",  # lunch
    "2026-11-30T17:30",  # closing
    "2026-11-30T20:00",  # evening
    "2026-11-28T12:00",  # a Saturday
    "2026-10-01T10:00",  # 国庆, a week of holiday
])
def test_demo_has_late_and_nearly_late_work_at_any_hour(hall, local):
    moment = dt.datetime.fromisoformat(local).replace(tzinfo=clock.HALL_TZ)
    clock.set_offset(moment - dt.datetime.now(dt.UTC))
    load(lambda line: None)
    assert _warnings(hall) == {"red", "yellow"}


def test_a_small_history_goes_only_into_an_empty_hall(hall):
    load(lambda line: None, history=0.01)
    year = clock.local_now().year - 1
    figures = hall.statistics.figures(statistics.period(str(year)))
    assert figures["accepted"] == 320 and figures["consultations"] == 840 and figures["visits_reached"] == 7
    load(lambda line: None, history=0.01)  # again: the hall has cases, no history is added
    assert hall.statistics.figures(statistics.period(str(year)))["accepted"] == 320


@pytest.mark.sqlite_only
@pytest.mark.slow
def test_the_demo_year_reads_like_the_seed_halls_report(hall):
    """`flask demo`'s year before now, in full: the statistics show the figures the seed hall's
    report opens with, and each is what the raw rows say when counted without engine.statistics."""
    load(lambda line: None, history=1.0)
    year = clock.local_now().year - 1
    shown = hall.statistics.report(actor_of(hall.identity.user("fuzhuren")), statistics.period(str(year))).totals
    since = dt.datetime(year, 1, 1, tzinfo=clock.HALL_TZ).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    until = dt.datetime(year + 1, 1, 1, tzinfo=clock.HALL_TZ).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")

    def one(sql):
        return hall.session.execute(sa.text(sql), {"since": since, "until": until}).scalar()

    service = "process_id NOT IN ('poor_rating', 'complaint', 'return_visit')"
    recount = {
        "consultations": one("SELECT count(*) FROM consultations WHERE asked_at >= :since AND asked_at < :until"),
        "accepted": one(f"SELECT count(*) FROM cases WHERE accepted_at >= :since AND accepted_at < :until "
                        f"AND {service}"),
        "new_domestic": one("SELECT count(*) FROM cases c JOIN catalogue_items i ON i.id = c.item_id WHERE "
                            "i.name LIKE '%设立登记%' AND i.category = 'domestic' AND c.status = 'completed' AND "
                            "c.ended_at >= :since AND c.ended_at < :until AND c.id NOT IN "
                            "(SELECT case_id FROM accountability WHERE kind = 'rejection')"),
        "new_foreign": one("SELECT count(*) FROM cases c JOIN catalogue_items i ON i.id = c.item_id WHERE "
                           "i.name LIKE '%设立登记%' AND i.category = 'foreign' AND c.status = 'completed' AND "
                           "c.ended_at >= :since AND c.ended_at < :until AND c.id NOT IN "
                           "(SELECT case_id FROM accountability WHERE kind = 'rejection')"),
        "agency": one("SELECT count(*) FROM cases WHERE process_id = 'green_channel' AND end_element = 'end_done' "
                      "AND status = 'completed' AND ended_at >= :since AND ended_at < :until"),
        "big_projects": one("SELECT count(*) FROM cases WHERE process_id = 'big_project' AND status = 'completed' "
                            "AND end_element = 'project_completed' AND ended_at >= :since AND ended_at < :until"),
        "visits_reached": one("SELECT count(*) FROM visits WHERE status = 'reached' AND served_at >= :since "
                              "AND served_at < :until"),
        "visits_planned": one("SELECT count(*) FROM visits WHERE served_at >= :since AND served_at < :until"),
    }
    assert {k: shown[k] for k in recount} == recount
    # the seed hall's report: 8.4万 consultations, 3.2万 accepted, 1,890 new enterprises (1,800 + 90) with 40亿
    # registered capital, 100% done, 99.9% satisfied, 280 by 全程代理 in about 1.5 working days, 50 big
    # projects, 700 enterprises visited back (99.5% of those planned, all satisfied)
    assert (recount["consultations"], recount["accepted"]) == (84_000, 32_000)
    assert (shown["new_enterprises"], recount["new_domestic"], recount["new_foreign"]) == (1_890, 1_800, 90)
    capital = one("SELECT sum(json_extract(c.data, '$.enterprise.registered_capital')) FROM cases c JOIN "
                  "catalogue_items i ON i.id = c.item_id WHERE i.name LIKE '%设立登记%' AND c.status = 'completed' "
                  "AND c.ended_at >= :since AND c.ended_at < :until AND c.id NOT IN "
                  "(SELECT case_id FROM accountability WHERE kind = 'rejection')")
    assert shown["registered_capital"] == pytest.approx(capital) == pytest.approx(400_000.0)
    assert shown["completion_rate"] == 1.0
    rated = one("SELECT count(*) FROM ratings WHERE at >= :since AND at < :until")
    satisfied = one("SELECT count(*) FROM ratings WHERE level >= 3 AND at >= :since AND at < :until")
    assert shown["satisfaction"] == round(satisfied / rated, 4) and 0.998 <= shown["satisfaction"] <= 0.9995
    assert recount["agency"] == 280 and 1.4 <= shown["agency_workdays"] <= 1.6
    assert recount["big_projects"] == 50
    assert recount["visits_reached"] == 700 and round(shown["visit_rate"], 3) == round(700 / 703, 3)
    assert shown["visit_satisfaction"] == 1.0
    poor = one("SELECT count(*) FROM ratings r WHERE level <= 2 AND at >= :since AND at < :until")
    fixed = one("SELECT count(*) FROM ratings r JOIN cases c ON c.id = r.rectification_case_id WHERE r.level <= 2 "
                "AND c.status = 'completed' AND r.at >= :since AND r.at < :until")
    assert poor > 0 and shown["rectification_rate"] == round(fixed / poor, 4)
    assert shown["complaints"] == one("SELECT count(*) FROM complaints WHERE created_at >= :since "
                                      "AND created_at < :until") == 24
