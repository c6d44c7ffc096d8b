import datetime as dt

import pytest
import sqlalchemy as sa

from engine import clock
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
