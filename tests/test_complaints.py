"""意见建议/投诉: intake by four channels, classified and given to a department, investigated
within its working days, rectified, answered to whoever raised it, closed by the 驻厅监察;
a misconduct found becomes an 审批问责 record against whoever did the step."""

import pytest
import sqlalchemy as sa

from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.identity import SYSTEM
from engine.models import Accountability
from tests.conftest import DIAGRAMS, PROCESSES


@pytest.fixture
def people(h):
    h.deploy(PROCESSES / "complaint.bpmn")
    h.deploy(DIAGRAMS / "form_task.bpmn")
    enterprise = h.hall.portal.enterprise_for_filing(SYSTEM, "91350100M000100Y43", "闽江数字科技有限公司")
    u = h.hall.identity.create_user("qiye", "pw", ["申请人"], ["applicant"], enterprise_id=enterprise)
    other = h.hall.portal.enterprise_for_filing(SYSTEM, "91350100MA2Y7K3P1R", "榕树餐饮有限公司")
    h.hall.identity.create_user("other", "pw", ["申请人"], ["applicant"], enterprise_id=other)
    return {
        "qiye": h.actor(u.username), "other": h.actor("other"),
        "window": h.user("clerk", groups=["window"]),
        "neizi": h.user("neizi", groups=["内资窗口"]),
        "office": h.user("glb", groups=["管理办"], roles=["staff", "coordinator"]),
        "gongshang": h.user("gs", groups=["工商"]),
        "supervisor": h.user("jiancha", roles=["supervisor"]),
        "director": h.user("fu", groups=["常务副主任"], roles=["staff", "director"]),
    }


def served_case(h, p):
    """A case of qiye's whose review the window did (and refused)."""
    case = h.hall.runtime.start(p["qiye"], "form_task", {"company": "闽江数字科技有限公司"})
    h.complete(p["window"], case.id, "review", {"decision": "reject", "pages": 3})
    step = h.hall.tasks.case_tasks(case.id, status="completed")[0]
    return case, step


COMPLAINT = {"kind": "complaint", "subject": "受理时被要求重复提交材料",
             "content": "窗口要求提交已在网上上传的章程原件三次。"}


def work(h, p, complaint, finding="wrong", responsible=None, substantiated=True):
    cid = complaint.case_id
    h.complete(p["office"], cid, "classify", {"kind": finding if finding != "none" else "complaint",
                                              "department": "内资窗口", "investigate_days": 3})
    h.complete(p["neizi"], cid, "investigate", {"findings": "核实属实" if substantiated else "未发现问题",
                                                "substantiated": substantiated, "misconduct": finding,
                                                "responsible_task": responsible})
    if substantiated:
        h.complete(p["neizi"], cid, "rectify", {"measures": "一次告知", "result": "已向企业致歉"})
    h.complete(p["office"], cid, "reply", {"reply": "经核实，已整改并致歉。", "way": "online"})


def test_a_portal_complaint_goes_round_to_an_accountability_record(h, people):
    p = people
    case, step = served_case(h, p)
    c = h.hall.complaints.submit(p["qiye"], "portal", {**COMPLAINT, "about_case": case.number,
                                                       "about_task": step.id})
    assert (c.status, c.channel, c.about_case, c.about_task_id) == ("classify", "portal", case.number, step.id)
    assert not hasattr(c, "responsible")  # what the hall finds of whom is not the complainant's
    office_task = h.open_tasks(c.case_id)[0]
    assert office_task.candidate_groups == ["管理办"] and office_task.due_at is not None
    h.complete(p["office"], c.case_id, "classify", {"kind": "wrong", "department": "内资窗口",
                                                    "investigate_days": 3})
    investigate = h.open_tasks(c.case_id, "investigate")[0]
    assert investigate.candidate_groups == ["内资窗口"]
    assert h.hall.complaints.get(p["neizi"], c.id).status == "investigate"  # the department now sees it
    with pytest.raises(Forbidden):
        h.hall.tasks.complete(p["gongshang"], investigate.id, {"findings": "x", "substantiated": False,
                                                                "misconduct": "none"})
    h.complete(p["neizi"], c.case_id, "investigate", {"findings": "属实", "substantiated": True,
                                                      "misconduct": "wrong"})
    h.complete(p["neizi"], c.case_id, "rectify", {"measures": "一次告知", "result": "已致歉"})
    h.complete(p["office"], c.case_id, "reply", {"reply": "经核实属实，已整改。", "way": "online"})
    mine = h.hall.complaints.get(p["qiye"], c.id)
    assert (mine.status, mine.reply) == ("close", "经核实属实，已整改。")
    told = [n for n in h.hall.deadlines.notifications(p["qiye"]) if n.kind == "complaint"]
    assert len(told) == 1 and "已答复" in told[0].message and told[0].case_id == c.case_id
    assert not h.hall.session.scalar(sa.select(sa.func.count()).select_from(Accountability))
    with pytest.raises(Forbidden):
        h.hall.complaints.close(p["office"], c.id, {"opinion": "同意", "accountable": True})
    closed = h.hall.complaints.close(p["supervisor"], c.id, {"opinion": "同意问责", "accountable": True})
    assert (closed.status, closed.finding, closed.responsible) == ("closed", "wrong", "clerk")
    rows, total = h.hall.deadlines.accountability(p["supervisor"], kind="wrong")
    assert total == 1
    r = rows[0]
    assert (r.case_id, r.task_id, r.person, r.department, r.task_name) == (case.id, step.id, "clerk", "window", "审查")
    assert "错批" in h.hall.deadlines.accountability_csv(p["supervisor"])


def test_not_confirmed_or_not_found_leaves_no_record(h, people):
    p = people
    case, step = served_case(h, p)
    c = h.hall.complaints.submit(p["qiye"], "portal", {**COMPLAINT, "about_case": case.number, "about_task": step.id})
    work(h, p, c, finding="none", substantiated=False)
    assert h.hall.complaints.get(p["office"], c.id).finding == "none"
    h.hall.complaints.close(p["supervisor"], c.id, {"opinion": "不属实", "accountable": True})
    d = h.hall.complaints.submit(p["qiye"], "portal", {**COMPLAINT, "about_case": case.number, "about_task": step.id})
    work(h, p, d, finding="rude")
    h.hall.complaints.close(p["supervisor"], d.id, {"opinion": "批评教育，不予问责", "accountable": False})
    assert not h.hall.session.scalar(sa.select(sa.func.count()).select_from(Accountability))


def test_a_misconduct_names_its_step(h, people):
    p = people
    _case, step = served_case(h, p)
    c = h.hall.complaints.submit(p["window"], "counter", {**COMPLAINT, "contact_name": "林先生",
                                                          "contact_phone": "13800000000"})
    cid = c.case_id
    h.complete(p["office"], cid, "classify", {"kind": "shirking", "department": "内资窗口", "investigate_days": 2})
    base = {"findings": "属实", "substantiated": True, "misconduct": "shirking"}
    with pytest.raises(Invalid) as e:
        h.complete(p["neizi"], cid, "investigate", base)
    assert "responsible_task" in e.value.extra["errors"]
    with pytest.raises(Invalid) as e:
        h.complete(p["neizi"], cid, "investigate", {**base, "responsible_task": h.open_tasks(cid)[0].id})
    assert "responsible_task" in e.value.extra["errors"]
    with pytest.raises(Invalid) as e:  # a misconduct is found only where the complaint holds
        h.complete(p["neizi"], cid, "investigate", {**base, "substantiated": False, "responsible_task": step.id})
    assert "substantiated" in e.value.extra["errors"]
    h.complete(p["neizi"], cid, "investigate", {**base, "responsible_task": step.id})
    assert h.hall.complaints.get(p["office"], c.id).responsible == "clerk"
    h.complete(p["neizi"], cid, "rectify", {"measures": "培训", "result": "已整改"})
    h.complete(p["office"], cid, "reply", {"reply": "已电话告知", "way": "phone"})
    # staff who entered it call the person back
    assert all(n.kind != "complaint" for n in h.hall.deadlines.notifications(p["window"]))
    h.hall.complaints.close(p["supervisor"], c.id, {"opinion": "问责", "accountable": True})
    rows, _ = h.hall.deadlines.accountability(p["supervisor"])
    assert [(r.kind, r.person) for r in rows] == [("shirking", "clerk")]


def test_the_four_channels_and_who_may_use_them(h, people):
    p = people
    ok = {"counter": p["window"], "phone": p["office"], "supervision": p["supervisor"], "portal": p["qiye"]}
    contact = {"contact_name": "张女士", "contact_phone": "0591-87654321"}
    for channel, actor in ok.items():
        c = h.hall.complaints.submit(actor, channel, {**COMPLAINT, **({} if channel == "portal" else contact)})
        assert c.channel == channel and h.hall.runtime.case(c.case_id).process_id == "complaint"
    for channel, actor in (("portal", p["window"]), ("counter", p["qiye"]), ("supervision", p["office"]),
                           ("visit", p["qiye"])):
        with pytest.raises(Forbidden):
            h.hall.complaints.submit(actor, channel, COMPLAINT)
    with pytest.raises(Invalid) as e:
        h.hall.complaints.submit(p["window"], "counter", COMPLAINT)
    assert set(e.value.extra["errors"]) == {"contact_name", "contact_phone"}
    with pytest.raises(Invalid) as e:
        h.hall.complaints.submit(p["window"], "fax", COMPLAINT)
    assert "channel" in e.value.extra["errors"]
    with pytest.raises(Forbidden):  # the generic start is not a way round the intake
        h.hall.runtime.start(p["office"], "complaint", {**COMPLAINT, "source": "counter"})


@pytest.mark.parametrize("change, field", [
    ({"subject": "x" * 101}, "subject"), ({"content": ""}, "content"), ({"content": "长" * 2001}, "content"),
    ({"kind": "anger"}, "kind"), ({"contact_phone": "call me"}, "contact_phone"), ({"about_task": 1}, "about_case"),
    ({"about_case": "FT-20261201-99999"}, "about_case"), ({"about_task": "one", "about_case": "x"}, "about_task"),
    ({"whatever": 1}, "whatever"),
])
def test_bad_intake_names_the_field_and_keeps_nothing(h, people, change, field):
    with pytest.raises(Invalid) as e:
        h.hall.complaints.submit(people["qiye"], "portal", {**COMPLAINT, **change})
    assert field in e.value.extra["errors"]
    assert h.hall.complaints.list(people["office"])[1] == 0


def test_a_portal_complaint_names_only_the_enterprises_own_case(h, people):
    p = people
    case, _step = served_case(h, p)
    with pytest.raises(Invalid) as e:
        h.hall.complaints.submit(p["other"], "portal", {**COMPLAINT, "about_case": case.number})
    assert "about_case" in e.value.extra["errors"]
    other_case, _ = served_case(h, p)
    with pytest.raises(Invalid) as e:
        h.hall.complaints.submit(p["qiye"], "portal", {**COMPLAINT, "about_case": case.number,
                                                       "about_task": h.hall.tasks.case_tasks(
                                                           other_case.id, status="completed")[0].id})
    assert "about_task" in e.value.extra["errors"]
    c = h.hall.complaints.submit(p["supervisor"], "supervision", {**COMPLAINT, "about_case": case.number})
    assert c.about_case == case.number


def test_one_account_has_few_open_complaints(h, people):
    for _ in range(5):
        h.hall.complaints.submit(people["qiye"], "portal", COMPLAINT)
    with pytest.raises(Conflict):
        h.hall.complaints.submit(people["qiye"], "portal", COMPLAINT)
    h.hall.complaints.submit(people["other"], "portal", COMPLAINT)  # another account's count is its own


def test_who_sees_a_complaint(h, people):
    p = people
    c = h.hall.complaints.submit(p["qiye"], "portal", COMPLAINT)
    for who in ("qiye", "office", "supervisor", "director"):
        assert h.hall.complaints.get(p[who], c.id).id == c.id
        assert [r.id for r in h.hall.complaints.list(p[who])[0]] == [c.id]
    for who in ("other", "neizi", "gongshang", "window"):
        with pytest.raises(NotFound):
            h.hall.complaints.get(p[who], c.id)
        assert h.hall.complaints.list(p[who])[1] == 0
    with pytest.raises(Forbidden):  # nor its case page
        h.hall.runtime.visible_case(p["neizi"], c.case_id)
    with pytest.raises(Forbidden):
        h.hall.runtime.visible_case(p["qiye"], c.case_id)
    assert c.case_id not in [r.id for r in h.hall.runtime.cases(p["neizi"], per_page=100)[0]]
    h.complete(p["office"], c.case_id, "classify", {"kind": "complaint", "department": "内资窗口",
                                                    "investigate_days": 5})
    assert h.hall.complaints.get(p["neizi"], c.id).department == "内资窗口"
    assert h.hall.runtime.visible_case(p["neizi"], c.case_id).id == c.case_id
    with pytest.raises(NotFound):
        h.hall.complaints.get(p["gongshang"], c.id)


def test_the_investigation_is_due_in_the_working_days_given(h, people):
    from engine import calendar, clock

    p = people
    c = h.hall.complaints.submit(p["qiye"], "portal", COMPLAINT)
    h.complete(p["office"], c.case_id, "classify", {"kind": "complaint", "department": "工商", "investigate_days": 4})
    task = h.open_tasks(c.case_id, "investigate")[0]
    assert task.due_at == calendar.current().add_workdays(clock.now(), 4)
    with pytest.raises(Invalid) as e:
        d = h.hall.complaints.submit(p["qiye"], "portal", COMPLAINT)
        h.complete(p["office"], d.case_id, "classify", {"kind": "complaint", "department": "工商",
                                                        "investigate_days": 0})
    assert "investigate_days" in e.value.extra["errors"]


def test_the_api(h, people, client):
    p = people
    case, step = served_case(h, p)
    h.hall.identity.create_user("jiancha", "pw", [], ["supervisor"], update=True)
    r = client.post("/api/v1/complaints", headers=h.token("qiye", "pw"),
                    json={"channel": "portal", **COMPLAINT, "about_case": case.number, "about_task": step.id})
    assert r.status_code == 201, r.get_json()
    c = r.get_json()
    assert c["status"] == "classify" and "responsible" not in c
    r = client.post("/api/v1/complaints", headers=h.token("qiye", "pw"), json={"channel": "portal", **COMPLAINT,
                                                                                "subject": "x" * 101})
    assert r.status_code == 422 and "subject" in r.get_json()["errors"]
    r = client.post("/api/v1/complaints", headers=h.token("qiye", "pw"), json={"channel": "telegram", **COMPLAINT})
    assert r.status_code == 422 and "channel" in r.get_json()["errors"]
    assert client.get(f"/api/v1/complaints/{c['id']}", headers=h.token("gs")).status_code == 404
    r = client.get("/api/v1/complaints", headers=h.token("glb"))
    assert [x["id"] for x in r.get_json()] == [c["id"]]
    work(h, p, h.hall.complaints.get(p["office"], c["id"]), responsible=step.id)
    r = client.post(f"/api/v1/complaints/{c['id']}/close", headers=h.token("jiancha", "pw"),
                    json={"data": {"opinion": "问责", "accountable": "maybe"}})
    assert r.status_code == 422 and "accountable" in r.get_json()["errors"]
    r = client.post(f"/api/v1/complaints/{c['id']}/close", headers=h.token("jiancha", "pw"),
                    json={"data": {"opinion": "问责", "accountable": True}})
    assert r.status_code == 200 and r.get_json()["status"] == "closed"
    r = client.get("/api/v1/accountability?kind=wrong", headers=h.token("jiancha", "pw"))
    assert [(x["kind"], x["person"]) for x in r.get_json()] == [("wrong", "clerk")]
