"""好差评 in full: a case is rated at 受理 and at 办结, on five dimensions, naming its item,
window and staff; every 差评 starts a 差评整改 case that the window verifies and rectifies,
管理办 reviews, and the rater hears the result and may rate again; an unrated finished case
invites its applicant once; a window's 评价器 rates only the case just handled there."""

import datetime as dt

import pytest
import sqlalchemy as sa

from engine import clock
from engine.errors import Conflict, Forbidden, Invalid
from engine.models import Notification, RatingStaff, User
from tests import test_filing
from tests.conftest import PROCESSES
from tests.processes.test_parallel_approval import application

filing = test_filing.filing  # a hall with the 并联审批 process and its catalogue item NZ-001
ACCEPTED = test_filing.ACCEPTED


@pytest.fixture
def rated(filing):
    """The hall of `filing`, with the 差评整改 process, 管理办, and a 即办件 JB-1 (domestic)."""
    h = filing
    h.deploy(PROCESSES / "poor_rating.bpmn")
    h.xietiao = h.user("xietiao", groups=["管理办"], roles=["staff", "coordinator"])
    h.jiancha = h.user("jiancha", roles=["supervisor"])
    h.device = h.user("pingjia", groups=["内资窗口"], roles=["device"])
    h.hall.catalogue.save(h.owner, test_filing.item(code="JB-1", name="印章刻制备案", kind="immediate", legal_days=1,
                                                    promised_days=0))
    return h


def accepted_case(h, code="JB-1"):
    case = h.hall.runtime.start(h.qiye, None, application(), item=code)
    h.complete(h.yushen, case.id, "online_prereview", {"prereview_decision": "pass"})
    h.complete(h.neizi, case.id, "accept_domestic", ACCEPTED)
    return case


def finished_case(h):
    case = accepted_case(h)
    h.complete(h.neizi, case.id, "handle_immediate_domestic", {"outcome": "approved", "licence_no": "JB-1"})
    assert h.hall.runtime.case(case.id).status == "completed"
    return case


def staff_of(h, rating_id):
    return sorted(h.hall.session.scalars(sa.select(User.username).join(RatingStaff, RatingStaff.user_id == User.id)
                                         .where(RatingStaff.rating_id == rating_id)))


def test_a_case_is_rated_at_acceptance_and_at_completion_once_each_naming_what_was_rated(rated):
    h = rated
    case = h.hall.runtime.start(h.qiye, None, application(), item="JB-1")
    with pytest.raises(Conflict):  # not accepted yet
        h.hall.ratings.rate(h.qiye, case.id, 5)
    h.complete(h.yushen, case.id, "online_prereview", {"prereview_decision": "pass"})
    h.complete(h.neizi, case.id, "accept_domestic", ACCEPTED)
    assert h.hall.ratings.open_stages(h.hall.runtime.case(case.id)) == ["accepted"]
    first = h.hall.ratings.rate(h.qiye, case.id, 5, "受理很快", dimensions={"attitude": 5, "efficiency": 4})
    assert (first.stage, first.level, first.dimensions, first.window, first.channel) == (
        "accepted", 5, {"attitude": 5, "efficiency": 4}, "内资窗口", "api")
    assert first.item_id == h.hall.runtime.case(case.id).item_id
    assert staff_of(h, first.id) == ["neizi", "yushen"]  # who worked it, never the applicant
    with pytest.raises(Conflict):  # once a stage
        h.hall.ratings.rate(h.qiye, case.id, 4)
    assert h.hall.ratings.open_stages(h.hall.runtime.case(case.id)) == []
    h.complete(h.neizi, case.id, "handle_immediate_domestic", {"outcome": "approved", "licence_no": "JB-1"})
    done = h.hall.runtime.case(case.id)
    assert h.hall.ratings.open_stages(done) == ["completed"]
    with pytest.raises(Conflict):  # 受理 is past
        h.hall.ratings.rate(h.qiye, case.id, 5, stage="accepted")
    second = h.hall.ratings.rate(h.qiye, case.id, 4)
    assert second.stage == "completed" and h.hall.runtime.case(case.id).rate_invite_at is None
    assert [(r.stage, r.level) for r in h.hall.ratings.of_case(h.qiye, case.id)] == [("accepted", 5), ("completed", 4)]
    assert h.hall.ratings.open_stages(done) == []


@pytest.mark.parametrize("kw, field", [
    ({"dimensions": {"mood": 5}}, "dimensions"),
    ({"dimensions": {"attitude": 6}}, "dimensions.attitude"),
    ({"dimensions": {"attitude": True}}, "dimensions.attitude"),
    ({"dimensions": [5]}, "dimensions"),
    ({"stage": "someday"}, "stage"),
    ({"level": 0}, "level"),
    ({"comment": "长" * 501}, "comment"),
])
def test_a_bad_rating_is_refused_naming_its_field_and_nothing_is_kept(rated, kw, field):
    h = rated
    case = finished_case(h)
    args = {"level": 3, **kw}
    with pytest.raises(Invalid) as e:
        h.hall.ratings.rate(h.qiye, case.id, args.pop("level"), **args)
    assert field in e.value.extra["errors"]
    assert h.hall.ratings.of_case(h.qiye, case.id) == []


def _rectification(h, rating):
    case = h.hall.runtime.case(rating.rectification_case_id)
    assert case.process_id == "poor_rating" and case.status == "running"
    return case


def test_a_poor_rating_is_verified_rectified_reviewed_and_reported_back_and_may_be_rated_again(rated):
    h = rated
    case = finished_case(h)
    poor = h.hall.ratings.rate(h.qiye, case.id, 1, "材料被退回三次", dimensions={"attitude": 1})
    fix = _rectification(h, poor)
    assert fix.title == case.number and fix.data["rating"]["comment"] == "材料被退回三次"
    assert fix.data["window"] == "内资窗口"
    [verify] = h.open_tasks(fix.id)
    # the rated window verifies it within a working day, as any task of it falls due
    assert verify.element_id == "verify" and verify.candidate_groups == ["内资窗口"]
    assert verify.due_at == dt.datetime(2026, 12, 1, 17, 30, tzinfo=clock.HALL_TZ)
    with pytest.raises(Forbidden):  # another window does not
        h.complete(h.waizi, fix.id, "verify", {"contacted": True, "verification": "founded", "verify_note": "x"})
    h.complete(h.neizi, fix.id, "verify", {"contacted": True, "verification": "founded",
                                           "verify_note": "已电话联系，情况属实"})
    [rectify] = h.open_tasks(fix.id)
    assert rectify.element_id == "rectify" and rectify.due_at.astimezone(clock.HALL_TZ).date() == dt.date(2026, 12, 21)
    h.complete(h.neizi, fix.id, "rectify", {"measures": "一次性告知清单上墙", "result": "已培训窗口人员"})
    h.complete(h.xietiao, fix.id, "review", {"review": "return", "review_note": "整改措施不具体"})
    h.complete(h.neizi, fix.id, "rectify", {"measures": "一次性告知清单上墙并逐项核对", "result": "已培训"})
    assert h.hall.ratings.open_stages(h.hall.runtime.case(case.id)) == []  # not reported back yet
    h.complete(h.xietiao, fix.id, "review", {"review": "pass"})
    h.complete(h.neizi, fix.id, "report_back", {"reply_way": "phone", "reply": "已电话告知整改结果"})
    assert h.hall.runtime.case(fix.id).status == "completed"
    # the enterprise hears, sees the 整改 in 企业之家, and may rate again, once
    said = h.hall.session.scalars(sa.select(Notification.message).where(
        Notification.user_id == h.qiye.id, Notification.case_id == fix.id)).all()
    assert said == [f"办件 {fix.number} 已办结"]
    assert h.hall.runtime.visible_case(h.qiye, fix.id).data["reply"] == "已电话告知整改结果"
    assert h.hall.ratings.open_stages(h.hall.runtime.case(case.id)) == ["rectified"]
    again = h.hall.ratings.rate(h.qiye, case.id, 4, "改进了")
    assert again.stage == "rectified" and again.rectification_case_id is None  # a 满意 starts nothing
    with pytest.raises(Conflict):
        h.hall.ratings.rate(h.qiye, case.id, 4, stage="rectified")
    rows, total, figures = h.hall.ratings.listing(h.xietiao)
    assert total == 2 and figures == {"ratings": 2, "poor": 1, "rectified": 1, "rectification_rate": 1.0,
                                      "satisfaction_rate": 0.5}
    assert [(r.case_number, r.rectification_number, r.rectification_status) for r in rows] == [
        (case.number, None, None), (case.number, fix.number, "completed")]


def test_an_unfounded_poor_rating_goes_to_review_and_may_be_sent_back_to_rectify(rated):
    h = rated
    case = finished_case(h)
    fix = _rectification(h, h.hall.ratings.rate(h.qiye, case.id, 2))
    h.complete(h.neizi, fix.id, "verify", {"contacted": True, "verification": "unfounded",
                                           "verify_note": "评价人误选"})
    assert [t.element_id for t in h.open_tasks(fix.id)] == ["review"]
    h.complete(h.xietiao, fix.id, "review", {"review": "return"})
    assert [t.element_id for t in h.open_tasks(fix.id)] == ["rectify"]


def test_a_poor_rating_waits_for_its_process_and_starts_when_it_is_deployed(filing):
    h = filing
    h.hall.catalogue.save(h.owner, test_filing.item(code="JB-1", kind="immediate", legal_days=1, promised_days=0))
    case = finished_case(h)
    poor = h.hall.ratings.rate(h.qiye, case.id, 1)  # the rating is kept whatever happens to its 整改
    assert poor.rectification_case_id is None
    assert h.hall.ratings.rectify_pending() == 0
    h.deploy(PROCESSES / "poor_rating.bpmn")
    h.user("guanli", groups=["管理办"], roles=["coordinator"])
    assert h.hall.ratings.rectify_pending() == 1
    assert h.hall.ratings.rectify_pending() == 0  # once
    [linked] = h.hall.ratings.of_case(h.qiye, case.id)
    assert h.hall.runtime.case(linked.rectification_case_id).process_id == "poor_rating"


def test_an_unrated_finished_case_invites_its_applicant_once_three_days_after(rated):
    h = rated
    unrated, rated_soon = finished_case(h), finished_case(h)
    h.hall.ratings.rate(h.qiye, rated_soon.id, 5)
    assert h.hall.ratings.invite() == 0
    clock.advance(dt.timedelta(days=3, seconds=-1))
    assert h.hall.ratings.invite() == 0
    clock.advance(dt.timedelta(seconds=1))
    assert h.hall.ratings.invite() == 1
    assert h.hall.ratings.invite() == 0
    said = h.hall.session.scalars(sa.select(Notification.case_id).where(
        Notification.user_id == h.qiye.id, Notification.message.like("%请您评价%"))).all()
    assert said == [unrated.id]
    h.hall.ratings.rate(h.qiye, unrated.id, 5)  # an invitation does not stop a late rating


def test_a_windows_device_shows_the_case_just_handled_and_rates_it_and_nothing_else(rated):
    h = rated
    other = accepted_case(h)
    clock.advance(dt.timedelta(minutes=5))
    case = accepted_case(h)
    shown = h.hall.ratings.at_window(h.device)
    assert shown.id == case.id
    with pytest.raises(Forbidden):  # not the case just handled
        h.hall.ratings.rate(h.device, other.id, 5)
    r = h.hall.ratings.rate(h.device, case.id, 5)
    assert (r.channel, r.stage, r.recorded_by) == ("device", "accepted", "pingjia")
    # a device sees no case, no inbox, no task
    for look in (lambda: h.hall.runtime.visible_case(h.device, case.id),
                 lambda: h.hall.runtime.cases(h.device),
                 lambda: h.hall.tasks.inbox(h.device)):
        with pytest.raises(Forbidden):
            look()
    [task] = h.open_tasks(case.id)
    with pytest.raises(Forbidden):
        h.hall.tasks.claim(h.device, task.id)
    with pytest.raises(Forbidden):
        h.hall.ratings.at_window(h.neizi)  # a person is not a device
    clock.advance(dt.timedelta(hours=2, minutes=1))
    assert h.hall.ratings.at_window(h.device) is None  # nothing handled lately


def test_the_ratings_list_is_managements_and_filters(rated):
    h = rated
    case = finished_case(h)
    h.hall.ratings.rate(h.qiye, case.id, 5)
    for who in (h.neizi, h.qiye, h.device):
        with pytest.raises(Forbidden):
            h.hall.ratings.listing(who)
    assert h.hall.ratings.listing(h.jiancha)[1] == 1
    assert h.hall.ratings.listing(h.jiancha, window="外资窗口")[1] == 0
    assert h.hall.ratings.listing(h.jiancha, poor_only=True)[1] == 0
    assert h.hall.ratings.listing(h.jiancha, since=dt.date(2026, 12, 1))[1] == 0  # rated on 30 November
    assert h.hall.ratings.listing(h.jiancha, until=dt.date(2026, 11, 30))[1] == 1


def test_ratings_over_the_api(client, rated):
    h = rated
    case = accepted_case(h)
    url = f"/api/v1/cases/{case.id}/ratings"
    r = client.post(url, json={"level": 5, "dimensions": {"attitude": 5, "quality": 4}}, headers=h.token("qiye"))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["stage"] == "accepted" and r.get_json()["dimensions"] == {"attitude": 5, "quality": 4}
    assert client.post(url, json={"level": 5}, headers=h.token("qiye")).status_code == 409
    r = client.post(url, json={"level": 5, "dimensions": {"mood": 5}}, headers=h.token("qiye"))
    assert r.status_code == 422 and "dimensions" in r.get_json()["errors"]
    assert client.post(url, json={"level": 5, "stage": "later"}, headers=h.token("qiye")).status_code == 422
    assert client.get("/api/v1/ratings", headers=h.token("neizi")).status_code == 403
    r = client.get("/api/v1/ratings?poor=false", headers=h.token("xietiao"))
    assert r.status_code == 200 and [x["case_id"] for x in r.get_json()] == [case.id]
    r = client.get("/api/v1/ratings/figures", headers=h.token("xietiao"))
    assert r.get_json() == {"ratings": 1, "poor": 0, "rectified": 0, "rectification_rate": None,
                            "satisfaction_rate": 1.0}


def test_two_ratings_of_one_stage_at_the_same_moment_keep_one(rated, monkeypatch):
    """Both pass the check before either is written: the database keeps one, the other is a 409."""
    h = rated
    case = finished_case(h)
    monkeypatch.setattr(type(h.hall.ratings), "_may_rate_at", lambda self, s, case, stage: None)
    h.hall.ratings.rate(h.qiye, case.id, 5, stage="completed")
    with pytest.raises(Conflict):
        h.hall.ratings.rate(h.qiye, case.id, 4, stage="completed")
    assert [r.level for r in h.hall.ratings.of_case(h.qiye, case.id)] == [5]
