"""External tasks: a serviceTask camunda:type="external" waits for another system's worker,
which fetches and locks it by topic, completes it with variables (the case goes on) or
reports a failure (fetched again after its timeout while retries are left, an incident
when none are); an expired lock hands it to the next worker; two workers never get one task."""

import datetime as dt
import threading

import pytest

from engine import clock
from engine.errors import Conflict, Forbidden, Invalid
from tests.conftest import DIAGRAMS

MONDAY = dt.datetime(2026, 11, 30, 9, 0, tzinfo=clock.HALL_TZ)
TOPIC = [{"topicName": "gongshang-registry", "lockDuration": 60_000}]


@pytest.fixture
def ext(h):
    clock.freeze(MONDAY)
    h.clerk = h.user("clerk", groups=["window"])
    h.system = h.user("gongshang-sys", roles=["integrator"])
    h.keeper = h.user("keeper", roles=["process_owner"])
    h.deploy(DIAGRAMS / "external.bpmn")
    return h


def start(h, n=1):
    return [h.hall.runtime.start(h.clerk, "external", {"company": f"甲公司{i}"}) for i in range(n)]


def test_a_worker_fetches_locks_and_completes_and_the_case_goes_on(ext):
    h = ext
    [case] = start(h)
    assert h.open_tasks(case.id) == []  # waiting for the other system, not for a person
    with pytest.raises(Forbidden):
        h.hall.external.fetch_and_lock(h.clerk, "w1", 10, TOPIC)
    [task] = h.hall.external.fetch_and_lock(h.system, "w1", 10, TOPIC)
    assert (task["case_id"], task["element_id"], task["variables"]["company"]) == (case.id, "register", "甲公司0")
    assert h.hall.external.fetch_and_lock(h.system, "w2", 10, TOPIC) == []  # locked
    with pytest.raises(Conflict):
        h.hall.external.complete(h.system, task["id"], "w2", {})
    with pytest.raises(Invalid) as e:
        h.hall.external.complete(h.system, task["id"], "w1", {"__x": 1})
    assert "variables" in e.value.extra["errors"]
    h.hall.external.complete(h.system, task["id"], "w1", {"licence_no": "91350100MA0001"})
    case = h.hall.runtime.case(case.id)
    assert case.data["licence_no"] == "91350100MA0001"
    assert [t.element_id for t in h.open_tasks(case.id)] == ["review"]
    assert h.hall.external.fetch_and_lock(h.system, "w1", 10, TOPIC) == []
    actions = [e.action for e in h.hall.runtime.events(case.id)]
    assert "external_task" in actions and "external_completed" in actions


def test_an_expired_lock_hands_the_task_to_the_next_worker(ext):
    h = ext
    start(h)
    [first] = h.hall.external.fetch_and_lock(h.system, "w1", 1, [{"topicName": "gongshang-registry",
                                                                  "lockDuration": 1000}])
    clock.advance(dt.timedelta(seconds=2))
    [again] = h.hall.external.fetch_and_lock(h.system, "w2", 1, TOPIC)
    assert again["id"] == first["id"]
    with pytest.raises(Conflict):  # w1's lock is gone
        h.hall.external.complete(h.system, first["id"], "w1", {})


def test_a_failure_is_fetched_again_after_its_timeout_then_becomes_an_incident(ext):
    h = ext
    [case] = start(h)
    [t] = h.hall.external.fetch_and_lock(h.system, "w1", 1, TOPIC)
    h.hall.external.failure(h.system, t["id"], "w1", "工商系统超时", retries=1, retry_timeout_ms=60_000)
    assert h.hall.external.fetch_and_lock(h.system, "w1", 1, TOPIC) == []  # not before the timeout
    clock.advance(dt.timedelta(minutes=1, seconds=1))
    [t] = h.hall.external.fetch_and_lock(h.system, "w1", 1, TOPIC)
    assert (t["retries"], t["error_message"]) == (1, "工商系统超时")
    h.hall.external.failure(h.system, t["id"], "w1", "工商系统拒绝：名称重复", retries=0)
    assert h.hall.external.fetch_and_lock(h.system, "w1", 1, TOPIC) == []
    [row] = h.hall.incidents.listing(h.keeper)
    assert (row.Incident.element_id, row.Incident.message, row.Incident.status) == (
        "register", "工商系统拒绝：名称重复", "open")
    h.hall.incidents.retry(h.keeper, row.Incident.id)  # the cause fixed: the worker may take it again
    [t] = h.hall.external.fetch_and_lock(h.system, "w1", 1, TOPIC)
    h.hall.external.complete(h.system, t["id"], "w1", {})
    assert [x.element_id for x in h.open_tasks(case.id)] == ["review"]


def test_a_terminated_case_takes_its_external_task_with_it(ext):
    h = ext
    [case] = start(h)
    h.hall.runtime.terminate(h.user("coord", roles=["coordinator"]), case.id, "企业撤回")
    assert h.hall.external.fetch_and_lock(h.system, "w1", 10, TOPIC) == []


def test_two_workers_on_one_topic_never_get_the_same_task(ext, app):
    h = ext
    start(h, 40)
    got: dict[str, list[int]] = {"w1": [], "w2": []}
    errors = []

    def work(name):
        try:
            with app.app_context():
                from webapp import hall

                for _ in range(40):
                    tasks = hall().external.fetch_and_lock(h.system, name, 3, TOPIC)
                    if not tasks:
                        break
                    got[name].extend(t["id"] for t in tasks)
        except Exception as e:
            errors.append(e)

    workers = [threading.Thread(target=work, args=(n,)) for n in got]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert not errors
    assert not set(got["w1"]) & set(got["w2"])
    assert len(got["w1"]) + len(got["w2"]) == 40


def test_the_camunda_contract_over_the_api(ext, client):
    h = ext
    [case] = start(h)
    url = "/api/v1/external-task"
    system = h.token("gongshang-sys")
    assert client.post(f"{url}/fetchAndLock", json={"workerId": "w", "topics": TOPIC},
                       headers=h.token("clerk")).status_code == 403
    r = client.post(f"{url}/fetchAndLock", json={"workerId": "w", "maxTasks": 0, "topics": TOPIC}, headers=system)
    assert r.status_code == 422 and "maxTasks" in r.get_json()["errors"]
    r = client.post(f"{url}/fetchAndLock", json={"workerId": "w", "maxTasks": 5, "topics": [
        {"topicName": "gongshang-registry", "lockDuration": 60_000, "variables": ["company"]}]}, headers=system)
    [t] = r.get_json()
    assert (t["topicName"], t["activityId"], t["processInstanceId"], t["workerId"]) == (
        "gongshang-registry", "register", str(case.id), "w")
    assert t["variables"] == {"company": {"value": "甲公司0", "type": "String"}}
    assert client.get(url, headers=system).get_json()[0]["workerId"] == "w"
    r = client.post(f"{url}/{t['id']}/complete", json={"workerId": "other", "variables": {}}, headers=system)
    assert r.status_code == 409
    r = client.post(f"{url}/{t['id']}/extendLock", json={"workerId": "w", "newDuration": 120_000}, headers=system)
    assert r.status_code == 204
    r = client.post(f"{url}/{t['id']}/complete", headers=system, json={"workerId": "w", "variables": {
        "licence_no": {"value": "91350100MA0001", "type": "String"},
        "result": {"value": '{"ok": true, "pages": 3}', "type": "Json"}}})
    assert r.status_code == 204
    data = h.hall.runtime.case(case.id).data
    assert (data["licence_no"], data["result"]) == ("91350100MA0001", {"ok": True, "pages": 3})
