"""百分考核: a quarter's scores from the hall's records and 管理办's entries, every point with
its cause, the caps, publication (frozen; changed only by an adjustment, shown), 星级, the
year's totals, who may do what, and bad input named by its field."""

import copy
import datetime as dt

import pytest
import sqlalchemy as sa

from engine import assessment_scheme as schemes
from engine import clock, db
from engine.assessment import quarter_bounds
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.models import Accountability, Complaint, Rating, RatingStaff, Task
from tests.conftest import DIAGRAMS

Q3 = "2026Q3"  # the clock stands at 2026-12-01: Q3 is over, Q4 is not


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00").replace(tzinfo=clock.HALL_TZ).astimezone(dt.UTC)


@pytest.fixture
def people(h):
    h.deploy(DIAGRAMS / "form_task.bpmn")
    return {
        "neizi": h.user("neizi", groups=["内资窗口"]), "waizi": h.user("waizi", groups=["外资窗口"]),
        "glb": h.user("glb", groups=["管理办"], roles=["staff", "coordinator"]),
        "jiancha": h.user("jiancha", roles=["supervisor"]),
        "fu": h.user("fu", groups=["常务副主任"], roles=["staff", "director"]),
        "qiye": h.user("qiye", groups=["申请人"], roles=["applicant"]),
    }


def case(h, p):
    return h.hall.runtime.start(p["qiye"], "form_task", {"company": "闽江数字科技有限公司"})


def insert(h, model, **row):
    with db.write(h.hall.session) as s:
        return s.execute(sa.insert(model).returning(model.id), row).scalar()


def task(h, c, who, groups, done, due):
    return insert(h, Task, case_id=c.id, spiff_id=f"t{done.timestamp()}{who.id}", process_id="form_task",
                  case_number=c.number, element_id="review", name="审查", candidate_groups=groups, status="completed",
                  created_at=done - dt.timedelta(days=1), due_at=due, completed_at=done, completed_by_id=who.id,
                  warning="none", escalation=0)


def rating(h, c, level, when, window, staff=()):
    rid = insert(h, Rating, case_id=c.id, stage="completed", level=level, channel="device", at=when, window=window)
    for u in staff:
        with db.write(h.hall.session) as s:
            s.execute(sa.insert(RatingStaff), {"rating_id": rid, "user_id": u.id})
    return rid


@pytest.fixture
def quarter(h, people):
    """内资窗口's and neizi's Q3: 3 late records, 3 违规收费, 10 ratings (1 差评, of neizi), a
    complaint found true, 4 tasks (1 late); and records outside Q3 that must not count."""
    p = people
    c1, c2, cp = case(h, p), case(h, p), case(h, p)
    ids = {"late": [], "fee": []}
    for day in ("2026-08-03", "2026-08-01", "2026-08-02"):
        ids["late"].append(insert(h, Accountability, case_id=c1.id, kind="late", department="内资窗口", person="neizi",
                                  days_over=1.0, at=at(day)))
    for day in ("2026-07-05", "2026-07-06", "2026-07-07"):
        ids["fee"].append(insert(h, Accountability, case_id=c2.id, kind="illegal_fee", department="内资窗口",
                                 person="neizi", reason="多收工本费", at=at(day)))
    insert(h, Accountability, case_id=c1.id, kind="late", department="内资窗口", person="neizi", at=at("2026-10-01"))
    insert(h, Accountability, case_id=c1.id, kind="late", department="内资窗口", person="neizi",
           at=at("2026-07-01", 0) - dt.timedelta(minutes=1))  # 2026-06-30 23:59 in the hall: Q2
    poor = rating(h, c1, 2, at("2026-09-30", 23), "内资窗口", [p["neizi"]])
    for _ in range(9):  # a case is rated once at 办结: each its own
        rating(h, case(h, p), 5, at("2026-08-10"), "内资窗口")
    for _ in range(4):
        rating(h, case(h, p), 5, at("2026-08-10"), "外资窗口", [p["waizi"]])
    insert(h, Complaint, case_id=cp.id, channel="phone", kind="complaint", subject="窗口推诿", content="...",
           entered_by_id=p["glb"].id, department="内资窗口", status="closed", finding="none", responsible="neizi",
           created_at=at("2026-08-01"))
    rectify = insert(h, Task, case_id=cp.id, spiff_id="rect", process_id="complaint", case_number=cp.number,
                     element_id="rectify", name="落实整改", candidate_groups=["内资窗口"], status="completed",
                     created_at=at("2026-08-02"), completed_at=at("2026-08-05"), completed_by_id=p["neizi"].id,
                     warning="none", escalation=0)
    for n, late in enumerate((False, False, False, True)):
        done = at(f"2026-09-0{n + 1}")
        task(h, c1, p["neizi"], ["内资窗口"], done, done + dt.timedelta(hours=-1 if late else 1))
    return {"ids": ids, "poor": poor, "c1": c1, "c2": c2, "cp": cp, "rectify": rectify}


def subject(scores, kind, key):
    return next(s for s in scores[f"{kind}s"] if s["key"] == key)


def item(s, code):
    return next(i for i in s["items"] if i["code"] == code)


def test_quarters_are_counted_in_hall_time():
    since, until = quarter_bounds("2026Q3")
    assert since == dt.datetime(2026, 6, 30, 16, tzinfo=dt.UTC) and until == dt.datetime(2026, 9, 30, 16, tzinfo=dt.UTC)
    assert quarter_bounds("2026Q4")[1] == dt.datetime(2026, 12, 31, 16, tzinfo=dt.UTC)
    for bad in ("2026Q5", "2026-3", "", None, "10000Q1"):
        with pytest.raises(Invalid) as e:
            quarter_bounds(bad)
        assert "quarter" in e.value.extra["errors"]


def test_scores_from_the_hall_s_records_with_their_causes_and_caps(h, people, quarter):
    s = h.hall.assessment.quarter(people["glb"], Q3)
    assert s["published"] is None and s["scheme_version"] == 0
    assert {w["key"] for w in s["windows"]} == {"内资窗口", "外资窗口", "管理办", "常务副主任"}
    assert {p["key"] for p in s["persons"]} == {"neizi", "waizi", "glb", "fu"}  # not the supervisor, not applicants
    nz = subject(s, "window", "内资窗口")
    late = item(nz, "B1")  # 1 point each, in order of time, with the case that caused it
    assert late["score"] == 3 and late["count"] == 3
    assert [(c["id"], c["points"], c["case_number"]) for c in late["causes"]] == \
        [(quarter["ids"]["late"][i], -1, quarter["c1"].number) for i in (1, 2, 0)]  # 08-01, 08-02, 08-03
    fee = item(nz, "G1")  # 4 each, capped at 8: the third counted, not deducted
    assert fee["score"] == 0 and fee["count"] == 3
    assert [(c["id"], c["points"]) for c in fee["causes"]] == [(i, -4) for i in quarter["ids"]["fee"][:2]]
    poor = item(nz, "C3")
    assert poor["score"] == 3 and [(c["id"], c["points"]) for c in poor["causes"]] == [(quarter["poor"], -1)]
    sat = item(nz, "C4")  # 9 of 10 not 差评: 90%, 9 points below 99, capped at 3
    assert sat["score"] == 0 and sat["causes"][0] | {"points": -3} == sat["causes"][0]
    assert (sat["causes"][0]["total"], sat["causes"][0]["good"], sat["causes"][0]["rate"]) == (10, 9, 90.0)
    complaint = item(nz, "D2")
    assert complaint["score"] == 2.5 and complaint["causes"][0]["case_id"] == quarter["cp"].id
    on_time = item(nz, "B2")  # 3 of 4 on time: 75%, 23 below 98, capped at 6
    assert on_time["score"] == 0 and on_time["causes"][0]["rate"] == 75.0
    assert nz["total"] == 100 - 3 - 8 - 1 - 3 - 2.5 - 6 == 76.5
    assert (nz["ratings"], nz["satisfaction"], nz["poor"], nz["complaints"]) == (10, 90.0, 1, 1)
    me = subject(s, "person", "neizi")  # the same records name her; her one rating is the 差评
    assert (item(me, "B1")["score"], item(me, "G1")["score"], item(me, "C3")["score"], item(me, "C4")["score"],
            item(me, "D2")["score"], item(me, "B2")["score"]) == (3, 0, 3, 0, 2.5, 0)
    assert me["total"] == 76.5 and me["satisfaction"] == 0.0
    wz = subject(s, "window", "外资窗口")
    assert wz["total"] == 100 and wz["satisfaction"] == 100.0
    assert subject(s, "window", "管理办")["total"] == 100


def test_entries_deduct_and_add_within_the_item_s_bounds(h, people, quarter):
    p, a = people, h.hall.assessment
    e = a.add_entry(p["glb"], Q3, {"item": "D1", "subject_kind": "window", "subject": "内资窗口", "points": -2,
                                   "reason": "7月15日脱岗20分钟"})
    a.add_entry(p["jiancha"], Q3, {"item": "F1", "subject_kind": "window", "subject": "外资窗口", "points": 2.5,
                                   "reason": "参加全区业务技能竞赛获二等奖"})
    a.add_entry(p["glb"], Q3, {"item": "F1", "subject_kind": "window", "subject": "外资窗口", "points": 2.5,
                               "reason": "承办大厅读书活动"})  # F1: 3 points, bonus 3: 6 at most
    s = a.quarter(p["director"] if "director" in p else p["fu"], Q3)
    nz = subject(s, "window", "内资窗口")
    assert item(nz, "D1")["score"] == 3 and nz["total"] == 74.5
    assert item(nz, "D1")["causes"] == [{"type": "entry", "id": e.id, "points": -2.0, "reason": "7月15日脱岗20分钟",
                                         "by": "glb", "at": e.entered_at.isoformat(), "evidence": None}]
    wz = subject(s, "window", "外资窗口")
    assert item(wz, "F1")["score"] == 6 and wz["total"] == 103
    bad = [({"item": "Z9"}, "item"), ({"subject_kind": "group"}, "subject_kind"), ({"subject": "无此窗口"}, "subject"),
           ({"subject_kind": "person", "subject": "jiancha"}, "subject"), ({"points": 0}, "points"),
           ({"points": -7}, "points"), ({"points": 0.125}, "points"), ({"points": True}, "points"),
           ({"reason": "  "}, "reason"), ({"reason": "长" * 501}, "reason"), ({"extra": 1}, "extra")]
    for change, field in bad:
        with pytest.raises(Invalid) as err:
            a.add_entry(p["glb"], Q3, {"item": "D1", "subject_kind": "window", "subject": "内资窗口", "points": -1,
                                       "reason": "迟到", **change})
        assert field in err.value.extra["errors"], (change, err.value.extra)
    with pytest.raises(Invalid):
        a.add_entry(p["glb"], "2027Q1", {"item": "D1", "subject_kind": "window", "subject": "内资窗口",
                                         "points": -1, "reason": "迟到"})
    for who in ("neizi", "fu", "qiye"):
        with pytest.raises(Forbidden):
            a.add_entry(p[who], Q3, {"item": "D1", "subject_kind": "window", "subject": "内资窗口", "points": -1,
                                     "reason": "迟到"})
    a.remove_entry(p["jiancha"], e.id)
    assert item(subject(a.quarter(p["glb"], Q3), "window", "内资窗口"), "D1")["score"] == 5


def test_publication_freezes_the_scores_an_adjustment_changes_them(h, people, quarter):
    p, a = people, h.hall.assessment
    a.add_entry(p["glb"], Q3, {"item": "D1", "subject_kind": "person", "subject": "neizi", "points": -1,
                               "reason": "迟到两次"})
    with pytest.raises(NotFound):
        a.quarter(p["neizi"], Q3)  # staff see no draft
    with pytest.raises(Forbidden):
        a.publish(p["jiancha"], Q3)
    with pytest.raises(Conflict):
        a.publish(p["glb"], "2026Q4")  # not over
    published = a.publish(p["glb"], Q3)
    assert published["published"]["by"] == "glb" and published["scheme_version"] == 1
    assert subject(published, "person", "neizi")["total"] == 75.5
    with pytest.raises(Conflict):
        a.publish(p["glb"], Q3)
    # a record of Q3 found later, an entry: the published score stays
    insert(h, Accountability, case_id=quarter["c1"].id, kind="rude", department="内资窗口", person="neizi",
           at=at("2026-09-01"))
    with pytest.raises(Conflict):
        a.add_entry(p["glb"], Q3, {"item": "D1", "subject_kind": "person", "subject": "neizi", "points": -1,
                                   "reason": "补记"})
    seen = a.quarter(p["neizi"], Q3)  # every member of staff reads the published quarter
    assert subject(seen, "person", "neizi")["total"] == 75.5 and item(subject(seen, "person", "neizi"), "C1")[
        "score"] == 4
    # a scheme saved afterwards does not touch it
    changed = copy.deepcopy(schemes.DEFAULT)
    changed["categories"][0]["items"][0]["name"] = "越权审批（含超范围审批）"
    assert a.save_scheme(p["glb"], changed).version == 2
    assert a.quarter(p["neizi"], Q3)["scheme_version"] == 1
    with pytest.raises(Invalid) as err:
        a.adjust(p["glb"], Q3, {"subject_kind": "person", "subject": "neizi", "item": "C1", "points": 1,
                                "reason": "x"})  # 4 + 1 is beyond C1's 4
    assert "points" in err.value.extra["errors"]
    with pytest.raises(Forbidden):
        a.adjust(p["jiancha"], Q3, {"subject_kind": "person", "subject": "neizi", "item": "C1", "points": -2,
                                    "reason": "补记服务态度生硬"})
    after = a.adjust(p["glb"], Q3, {"subject_kind": "person", "subject": "neizi", "item": "C1", "points": -2,
                                    "reason": "9月1日服务态度生硬，经复核属实"})
    me = subject(after, "person", "neizi")
    assert me["total"] == 73.5 and item(me, "C1")["score"] == 2
    adj = me["adjustments"][0]
    assert (adj["points"], adj["by"], adj["item"], adj["reason"]) == (-2, "glb", "C1", "9月1日服务态度生硬，经复核属实")
    assert item(me, "C1")["causes"][-1]["type"] == "adjustment"
    assert subject(a.quarter(p["waizi"], Q3), "person", "neizi")["total"] == 73.5
    with pytest.raises(Forbidden):
        a.quarter(p["qiye"], Q3)


def test_star_windows_and_staff_by_the_scheme_s_rules(h, people, quarter):
    p, a = people, h.hall.assessment
    s = a.quarter(p["glb"], Q3)
    # 外资窗口: 100, 4 ratings all good; 管理办 and 常务副主任 have no rating (min_ratings 1)
    assert [w["key"] for w in s["stars"]["windows"]] == ["外资窗口"]
    assert [w["key"] for w in s["stars"]["persons"]] == ["waizi"]
    rules = copy.deepcopy(schemes.DEFAULT)
    rules["stars"]["windows"].update(min_ratings=0, most=2)
    a.save_scheme(p["glb"], rules)
    s = a.quarter(p["glb"], Q3)
    assert [w["key"] for w in s["stars"]["windows"]] == ["外资窗口", "常务副主任"]  # 100 each; more ratings first
    a.publish(p["glb"], Q3)
    assert [w["key"] for w in a.quarter(p["neizi"], Q3)["stars"]["windows"]] == ["外资窗口", "常务副主任"]


def test_the_year_s_totals_are_its_published_quarters(h, people, quarter):
    p, a = people, h.hall.assessment
    a.add_entry(p["glb"], "2026Q2", {"item": "E2", "subject_kind": "window", "subject": "外资窗口", "points": -1,
                                     "reason": "窗口台面杂乱"})
    a.publish(p["glb"], "2026Q2")
    a.publish(p["glb"], Q3)
    y = a.year(p["neizi"], 2026)
    assert y["quarters"] == ["2026Q2", "2026Q3"]
    wz = next(w for w in y["windows"] if w["key"] == "外资窗口")
    nz = next(w for w in y["windows"] if w["key"] == "内资窗口")
    assert wz["quarters"] == {"2026Q2": 99, "2026Q3": 100} and wz["total"] == 199 and wz["average"] == 99.5
    assert nz["quarters"] == {"2026Q2": 99, "2026Q3": 76.5}  # the Q2 late record: 2026-06-30 23:59
    with pytest.raises(Forbidden):
        a.year(p["qiye"], 2026)


def test_the_scheme_is_checked_field_by_field(h, people):
    a = h.hall.assessment
    with pytest.raises(Forbidden):
        a.save_scheme(people["jiancha"], schemes.DEFAULT)
    cases = [
        (lambda s: s["categories"][0]["items"][0].update(points=5), "points"),
        (lambda s: s["categories"][1]["items"][0].update(rule="guess"), "categories.1.items.0.rule"),
        (lambda s: s["categories"][1]["items"][0].update(kinds=["nonsense"]), "categories.1.items.0.kinds"),
        (lambda s: s["categories"][1]["items"][0].update(cap=60), "categories.1.items.0.cap"),
        (lambda s: s["categories"][1]["items"][0].update(per=0.01), "categories.1.items.0.per"),
        (lambda s: s["categories"][0]["items"][1].update(code="A1"), "categories.0.items.1.code"),
        (lambda s: s["categories"][0].update(name=""), "categories.0.name"),
        (lambda s: s["stars"]["windows"].update(most=-1), "stars.windows.most"),
        (lambda s: s["categories"][0]["items"].extend([dict(s["categories"][0]["items"][0], code=f"X{n}", points=0.5)
                                                       for n in range(60)]), "categories"),
    ]
    for change, field in cases:
        s = copy.deepcopy(schemes.DEFAULT)
        change(s)
        with pytest.raises(Invalid) as err:
            a.save_scheme(people["glb"], s)
        assert field in err.value.extra["errors"], (field, err.value.extra["errors"])
    assert a.scheme().version == 0
    assert a.save_scheme(people["glb"], schemes.DEFAULT).version == 1
    assert a.save_scheme(people["glb"], schemes.DEFAULT).version == 1  # the same scheme: no new version


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_over_the_api(h, people, quarter):
    c = h.client
    glb, staff = h.token("glb"), h.token("neizi")
    r = c.get("/api/v1/assessment/scheme", headers=staff)
    assert r.status_code == 200 and r.get_json()["version"] == 0
    body = copy.deepcopy(schemes.DEFAULT)
    body["categories"][6]["items"][0]["points"] = 9
    r = c.put("/api/v1/assessment/scheme", json=body, headers=glb)
    assert r.status_code == 422 and "points" in r.get_json()["errors"]
    assert c.put("/api/v1/assessment/scheme", json=schemes.DEFAULT, headers=staff).status_code == 403
    assert c.get(f"/api/v1/assessment/quarters/{Q3}", headers=staff).status_code == 404
    assert c.get("/api/v1/assessment/quarters/2026Q9", headers=glb).status_code == 422
    entry = {"item": "D1", "subject_kind": "window", "subject": "内资窗口", "points": -1.5, "reason": "考勤抽查迟到"}
    r = c.post(f"/api/v1/assessment/quarters/{Q3}/entries", json={**entry, "points": "many"}, headers=glb)
    assert r.status_code == 422 and "points" in r.get_json()["errors"]
    r = c.post(f"/api/v1/assessment/quarters/{Q3}/entries", json=entry, headers=glb)
    assert r.status_code == 201, r.get_json()
    eid = r.get_json()["id"]
    r = c.post(f"/api/v1/assessment/entries/{eid}/evidence?filename=x.txt", data=b"plain text", headers=glb)
    assert r.status_code == 422 and "file" in r.get_json()["errors"]
    r = c.post(f"/api/v1/assessment/entries/{eid}/evidence?filename=考勤记录.pdf", data=PDF, headers=glb)
    assert r.status_code == 201 and r.get_json()["evidence_name"] == "考勤记录.pdf"
    assert c.get(f"/api/v1/assessment/entries/{eid}/evidence", headers=staff).status_code == 404  # a draft's
    r = c.post(f"/api/v1/assessment/quarters/{Q3}/publish", headers=glb)
    assert r.status_code == 201
    r = c.get(f"/api/v1/assessment/quarters/{Q3}", headers=staff)
    nz = subject(r.get_json(), "window", "内资窗口")
    assert nz["total"] == 75 and item(nz, "D1")["causes"][0]["evidence"] == "考勤记录.pdf"
    r = c.get(f"/api/v1/assessment/entries/{eid}/evidence", headers=staff)
    assert r.status_code == 200 and r.data == PDF
    r = c.post(f"/api/v1/assessment/quarters/{Q3}/adjustments",
               json={"subject_kind": "window", "subject": "内资窗口", "item": "D1", "points": 1.5,
                     "reason": "迟到系交通管制，经核实撤销"}, headers=glb)
    assert r.status_code == 201 and subject(r.get_json(), "window", "内资窗口")["total"] == 76.5
    assert c.delete(f"/api/v1/assessment/entries/{eid}", headers=glb).status_code == 409
    r = c.get("/api/v1/assessment/years/2026", headers=staff)
    assert r.status_code == 200 and r.get_json()["quarters"] == [Q3]
