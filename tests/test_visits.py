"""回访: a round for the enterprises served in a period (all, or a sample), each visit a case
of return_visit for 管理办: reached (satisfaction, suggestion) or tried again on the next
working day, three times; 回访率 and satisfaction by department; a suggestion becomes a 意见建议."""

import datetime as dt

import pytest

from engine import clock
from engine.errors import Conflict, Forbidden, Invalid
from engine.identity import SYSTEM
from tests.conftest import DIAGRAMS, PROCESSES

CODES = ["91350100M000100Y43", "91350100MA2Y7K3P1R", "91350100MA5KLM78QH", "91350100MA9ABC56R2"]


@pytest.fixture
def people(h):
    for f in ("complaint.bpmn", "return_visit.bpmn"):
        h.deploy(PROCESSES / f)
    h.deploy(DIAGRAMS / "form_task.bpmn")
    p = {"window": h.user("clerk", groups=["window"]),
         "office": h.user("glb", groups=["管理办"], roles=["staff", "coordinator"]),
         "caller": h.user("hf", groups=["管理办"]),
         "neizi": h.user("neizi", groups=["内资窗口"]),
         "supervisor": h.user("jiancha", roles=["supervisor"])}
    for n, code in enumerate(CODES):
        enterprise = h.hall.portal.enterprise_for_filing(SYSTEM, code, f"企业{n}")
        user = h.hall.identity.create_user(f"e{n}", "pw", ["申请人"], ["applicant"], enterprise_id=enterprise)
        p[f"e{n}"] = h.actor(user.username)
    return p


def serve(h, p, who):
    case = h.hall.runtime.start(p[who], "form_task", {"company": who})
    h.complete(p["window"], case.id, "review", {"decision": "reject", "pages": 1})
    return case


def today():
    return clock.local_now().date()


def test_a_round_visits_every_enterprise_served(h, people):
    p = people
    for who in ("e0", "e1", "e2", "e0"):
        serve(h, p, who)
    rnd = h.hall.visits.plan(p["office"], "十二月回访", today(), today())
    _, visits = h.hall.visits.round(p["office"], rnd.id)
    assert len(visits) == 3 and {v.status for v in visits} == {"open"}
    assert {v.department for v in visits} == {"window"}  # the first step's: no catalogue item
    tasks = [h.open_tasks(v.case_id)[0] for v in visits]
    assert {(t.element_id, tuple(t.candidate_groups), t.form_key) for t in tasks} == {("call", ("管理办",), "rv_call")}
    assert all(t.due_at is not None for t in tasks)
    first, second, third = visits
    h.complete(p["caller"], first.case_id, "call", {"method": "phone", "reached": True, "satisfaction": 5,
                                                    "q_once": "yes", "suggestion": "希望增加午间延时服务"})
    h.complete(p["caller"], second.case_id, "call", {"method": "phone", "reached": True, "satisfaction": 2})
    h.complete(p["caller"], third.case_id, "call", {"method": "phone", "reached": False})
    _, visits = h.hall.visits.round(p["office"], rnd.id)
    assert [(v.status, v.attempts, v.satisfaction) for v in visits] == [
        ("reached", 0, 5), ("reached", 0, 2), ("open", 1, None)]
    rates = h.hall.visits.rates(p["office"], today(), today())
    total = rates["total"]
    assert (total["to_visit"], total["visited"], total["rate"], total["satisfaction"]) == (3, 2, 2 / 3, 3.5)
    assert total["levels"][5] == 1 and total["levels"][2] == 1
    assert [r["department"] for r in rates["departments"]] == ["window"]
    assert h.hall.visits.rates(p["office"], today() + dt.timedelta(days=1), today() + dt.timedelta(days=9))[
        "total"]["to_visit"] == 0


def test_an_unreached_enterprise_is_tried_again_three_times(h, people):
    p = people
    serve(h, p, "e0")
    rnd = h.hall.visits.plan(p["office"], "回访", today(), today())
    visit = h.hall.visits.round(p["office"], rnd.id)[1][0]
    for attempt in (1, 2, 3):
        h.complete(p["caller"], visit.case_id, "call", {"method": "phone", "reached": False})
        if attempt < 3:
            assert not h.open_tasks(visit.case_id)  # waits for the next working day
            clock.advance(dt.timedelta(days=4))  # past the next working day, whatever today is
            h.hall.runtime.fire_due_timers()
            assert [t.element_id for t in h.open_tasks(visit.case_id)] == ["call"]
    v = h.hall.visits.round(p["office"], rnd.id)[1][0]
    assert (v.status, v.attempts) == ("unreached", 3)
    assert h.hall.runtime.case(visit.case_id).status == "completed"
    assert h.hall.visits.rates(p["office"])["total"]["rate"] == 0


def test_a_sample_by_percentage_or_number(h, people):
    p = people
    for who in ("e0", "e1", "e2", "e3"):
        serve(h, p, who)
    a = h.hall.visits.plan(p["office"], "抽样一半", today(), today(), "percent", 50)
    b = h.hall.visits.plan(p["office"], "抽三家", today(), today(), "count", 3)
    c = h.hall.visits.plan(p["office"], "抽十家", today(), today(), "count", 10)
    assert [len(h.hall.visits.round(p["office"], r.id)[1]) for r in (a, b, c)] == [2, 3, 4]
    assert [r.VisitRound.id for r in h.hall.visits.rounds(p["office"])] == [c.id, b.id, a.id]


@pytest.mark.parametrize("args, field", [
    (("", "today", "today"), "title"), (("x" * 101, "today", "today"), "title"),
    (("r", "today", "yesterday"), "until"), (("r", "today", "today", "some"), "sample"),
    (("r", "today", "today", "percent", 0), "size"), (("r", "today", "today", "percent", 101), "size"),
    (("r", "today", "today", "count", 501), "size"), (("r", "today", "today", "count", None), "size"),
    (("r", "tomorrow", "tomorrow"), "since"), (("r", "today", "2026-12-01"), "until"),
])
def test_a_bad_round_names_the_field_and_starts_nothing(h, people, args, field):
    p = people
    serve(h, p, "e0")
    days = {"today": today(), "yesterday": today() - dt.timedelta(days=1), "tomorrow": today() + dt.timedelta(days=1)}
    args = [days.get(a, a) if isinstance(a, str) else a for a in args]
    with pytest.raises(Invalid) as e:
        h.hall.visits.plan(p["office"], *args)
    assert field in e.value.extra["errors"]
    assert h.hall.visits.rounds(p["office"]) == []


def test_only_the_office_plans_and_reads_visits(h, people):
    p = people
    serve(h, p, "e0")
    for who in ("window", "e0", "supervisor"):
        with pytest.raises(Forbidden):
            h.hall.visits.plan(p[who], "回访", today(), today())
    rnd = h.hall.visits.plan(p["office"], "回访", today(), today())
    visit = h.hall.visits.round(p["office"], rnd.id)[1][0]
    assert h.hall.visits.round(p["supervisor"], rnd.id)[0].id == rnd.id  # oversight reads
    for who in ("window", "e0"):
        with pytest.raises(Forbidden):
            h.hall.visits.round(p[who], rnd.id)
        with pytest.raises(Forbidden):
            h.hall.runtime.visible_case(p[who], visit.case_id)
    with pytest.raises(Invalid) as e:
        h.complete(p["caller"], visit.case_id, "call", {"method": "phone", "reached": True})
    assert "satisfaction" in e.value.extra["errors"]


def test_a_suggestion_becomes_a_complaint_case_once(h, people):
    p = people
    serve(h, p, "e0")
    rnd = h.hall.visits.plan(p["office"], "回访", today(), today())
    visit = h.hall.visits.round(p["office"], rnd.id)[1][0]
    with pytest.raises(Conflict):
        h.hall.visits.suggest(p["office"], visit.id)
    h.complete(p["caller"], visit.case_id, "call", {"method": "visit", "reached": True, "satisfaction": 4,
                                                    "suggestion": "材料清单能否提前发到手机"})
    c = h.hall.visits.suggest(p["office"], visit.id)
    assert (c.kind, c.channel, c.content, c.status) == ("suggestion", "visit", "材料清单能否提前发到手机", "classify")
    assert h.hall.visits.round(p["office"], rnd.id)[1][0].complaint_id == c.id
    with pytest.raises(Conflict):
        h.hall.visits.suggest(p["office"], visit.id)


def test_the_api(h, people, client):
    p = people
    serve(h, p, "e0")
    serve(h, p, "e1")
    day = today().isoformat()
    r = client.post("/api/v1/visits/rounds", headers=h.token("glb"),
                    json={"title": "回访", "since": day, "until": day, "sample": "count", "size": 0})
    assert r.status_code == 422 and "size" in r.get_json()["errors"]
    r = client.post("/api/v1/visits/rounds", headers=h.token("glb"),
                    json={"title": "回访", "since": "1899-01-01", "until": day})
    assert r.status_code == 422 and "since" in r.get_json()["errors"]
    r = client.post("/api/v1/visits/rounds", headers=h.token("clerk"), json={"title": "回访", "since": day,
                                                                              "until": day})
    assert r.status_code == 403
    r = client.post("/api/v1/visits/rounds", headers=h.token("glb"), json={"title": "回访", "since": day,
                                                                            "until": day})
    assert r.status_code == 201, r.get_json()
    detail = client.get(f"/api/v1/visits/rounds/{r.get_json()['id']}", headers=h.token("glb")).get_json()
    assert len(detail["visits"]) == 2
    h.complete(p["caller"], detail["visits"][0]["case_id"], "call", {"method": "phone", "reached": True,
                                                                     "satisfaction": 3, "suggestion": "好"})
    r = client.get(f"/api/v1/visits/rates?since={day}&until={day}", headers=h.token("glb"))
    assert r.get_json()["total"]["rate"] == 0.5
    r = client.post(f"/api/v1/visits/{detail['visits'][0]['id']}/suggestion", headers=h.token("glb"))
    assert r.status_code == 201 and r.get_json()["channel"] == "visit"
