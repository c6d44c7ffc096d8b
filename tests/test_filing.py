"""A case filed under a catalogue item: the item's version decides its limit, whether it is a
即办件 and which window takes it in; the channel decides whether 网上预审 comes first (online)
or the window takes it in at once (a walk-in applicant at the counter)."""

import datetime as dt

import pytest

from engine import clock
from engine.errors import Forbidden, Invalid, NotFound
from tests.conftest import PROCESSES
from tests.processes.test_parallel_approval import application
from tests.ui import test_pages as pages
from tests.ui.test_pages import doc, text

browse = pages.browse  # a person signed in

TZ = clock.HALL_TZ
MONDAY = dt.datetime(2026, 11, 30, 9, tzinfo=TZ)


ACCEPTED = {"acceptance": "accept", "received_materials": ["公司章程", "住所使用证明"]}  # all the item asks for


def item(**changes) -> dict:
    base = {
        "code": "NZ-001", "name": "内资企业设立登记", "category": "domestic", "departments": ["工商"],
        "kind": "promised", "legal_days": 15, "promised_days": 5,
        "materials": [{"name": "公司章程"}, {"name": "住所使用证明", "tolerable": True}], "fees": [],
        "place": "一楼内资窗口", "hours": "工作日", "phone": "0591-87654321", "basis": "《公司法》",
        "process_id": "parallel_approval", "online": True,
    }
    return {**base, **changes}


@pytest.fixture
def filing(h):
    clock.freeze(MONDAY)
    h.deploy(PROCESSES / "parallel_approval.bpmn")
    h.owner = h._owner()
    h.qiye = h.user("qiye", groups=["申请人"], roles=["applicant"])
    h.yushen = h.user("yushen", groups=["网上预审"])
    h.neizi = h.user("neizi", groups=["内资窗口"])
    h.waizi = h.user("waizi", groups=["外资窗口"])
    h.hall.catalogue.save(h.owner, item())
    return h


def open_ids(h, case_id):
    return sorted(t.element_id for t in h.open_tasks(case_id))


def test_a_case_keeps_the_terms_of_the_version_it_was_filed_under(filing):
    h = filing
    case = h.hall.runtime.start(h.qiye, None, application(), item="NZ-001")
    first = h.hall.catalogue.item("NZ-001")
    assert case.item_id == first.id and case.channel == "online" and case.process_id == "parallel_approval"
    assert case.data["item"] == {"code": "NZ-001", "version": 1, "name": "内资企业设立登记", "kind": "promised",
                                 "immediate": False, "category": "domestic", "window": "内资", "legal_days": 15,
                                 "promised_days": 5}
    started = next(e for e in h.hall.runtime.events(case.id) if e.action == "started")
    assert started.detail == {"version": 1, "channel": "online", "item": "NZ-001", "item_version": 1}
    # the hall shortens its promise; the case filed before keeps 5 working days, a new one gets 3
    h.hall.catalogue.save(h.owner, item(promised_days=3))
    later = h.hall.runtime.start(h.qiye, None, application(), item="NZ-001")
    assert later.data["item"]["version"] == 2 and later.item_id != case.item_id
    for c in (case, later):
        h.complete(h.yushen, c.id, "online_prereview", {"prereview_decision": "pass"})
        h.complete(h.neizi, c.id, "accept_domestic", ACCEPTED)
    assert h.hall.runtime.case(case.id).due_at == dt.datetime(2026, 12, 7, 17, 30, tzinfo=TZ)  # 5 days from Monday
    assert h.hall.runtime.case(later.id).due_at == dt.datetime(2026, 12, 3, 17, 30, tzinfo=TZ)  # 3 days


def test_a_walk_in_case_goes_to_its_window_without_online_prereview(filing):
    h = filing
    case = h.hall.runtime.start(h.neizi, None, application(), item="NZ-001", channel="counter")
    assert case.channel == "counter" and case.data["channel"] == "counter"
    assert open_ids(h, case.id) == ["accept_domestic"]
    online = h.hall.runtime.start(h.qiye, None, application(), item="NZ-001")
    assert open_ids(h, online.id) == ["online_prereview"]
    with pytest.raises(Forbidden):  # an applicant files online; the counter is the window's
        h.hall.runtime.start(h.qiye, None, application(), item="NZ-001", channel="counter")


def test_the_items_window_takes_the_case_in_and_its_kind_makes_a_jibanjian(filing):
    h = filing
    h.hall.catalogue.save(h.owner, item(code="KZ-1", name="刻章备案", category="foreign", kind="immediate",
                                        legal_days=1, promised_days=0, online=False))
    case = h.hall.runtime.start(h.waizi, None, application(category="内资"), item="KZ-1", channel="counter")
    assert open_ids(h, case.id) == ["accept_foreign"]  # the item's window, whatever the form says
    h.complete(h.waizi, case.id, "accept_foreign", ACCEPTED)
    assert open_ids(h, case.id) == ["handle_immediate_foreign"]
    assert h.hall.runtime.case(case.id).due_at == dt.datetime(2026, 11, 30, 17, 30, tzinfo=TZ)  # the same day


@pytest.mark.parametrize("kw, field", [
    ({"item": "KZ-1"}, "item"),  # not filed online
    ({"item": "PLAIN", "channel": "counter"}, "item"),  # no process runs it
    ({"item": "NZ-001", "process_id": "green_channel"}, "process_id"),
    ({"item": "no such code!"}, "item"),
    ({"item": "NZ-001", "channel": "post"}, "channel"),
    ({"item": None}, "process_id"),
])
def test_a_filing_the_item_does_not_allow_is_refused_naming_the_field(filing, kw, field):
    h = filing
    h.hall.catalogue.save(h.owner, item(code="KZ-1", kind="immediate", legal_days=1, promised_days=0, online=False))
    h.hall.catalogue.save(h.owner, item(code="PLAIN", process_id=None, online=False))
    kw = dict(kw)
    with pytest.raises(Invalid) as e:
        h.hall.runtime.start(h.neizi, kw.pop("process_id", None), application(), **kw)
    assert field in e.value.extra["errors"]
    assert h.hall.runtime.cases(h.owner)[1] == 0  # nothing was started
    with pytest.raises(NotFound):
        h.hall.runtime.start(h.qiye, None, application(), item="NONE-1")


def test_the_api_files_under_an_item(client, filing):
    h = filing
    r = client.post("/api/v1/cases", json={"item": "NZ-001", "data": application()}, headers=h.token("qiye"))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["channel"] == "online" and body["data"]["item"]["code"] == "NZ-001"
    assert [t["element_id"] for t in body["open_tasks"]] == ["online_prereview"]
    r = client.post("/api/v1/cases", json={"item": "NZ-001", "channel": "counter", "data": application()},
                    headers=h.token("qiye"))
    assert r.status_code == 403
    r = client.post("/api/v1/cases", json={"item": "NZ-001", "channel": "counter", "data": application()},
                    headers=h.token("neizi"))
    assert r.status_code == 201 and r.get_json()["channel"] == "counter"
    r = client.post("/api/v1/cases", json={"data": application()}, headers=h.token("qiye"))
    assert r.status_code == 422 and "process_id" in r.get_json()["errors"]
    # a client cannot make its case a 即办件 by saying so
    forged = {**application(), "item": {"immediate": True, "promised_days": 0}}
    r = client.post("/api/v1/cases", json={"item": "NZ-001", "data": forged}, headers=h.token("qiye"))
    assert r.status_code == 422 and "item" in r.get_json()["errors"]


def test_the_case_page_names_the_item_version_and_channel(filing, browse):
    h = filing
    case = h.hall.runtime.start(h.neizi, None, application(), item="NZ-001", channel="counter")
    h.hall.catalogue.save(h.owner, item(promised_days=3))  # a later version changes nothing here
    page = doc(browse("neizi").get(f"/cases/{case.id}"))
    [line] = page.xpath("//p[contains(@class,'filed-under')]")
    assert "NZ-001 内资企业设立登记" in text(line) and "第 1 版" in text(line) and "承诺件 5 个工作日" in text(line)
    assert "窗口现场申报" in text(line)
    assert line.xpath(".//a/@href") == ["/guide/NZ-001?version=1"]
