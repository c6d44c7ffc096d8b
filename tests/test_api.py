"""The REST API as its clients see it: auth, deploy, cases, tasks, messages."""

import io
import re
import time

import pytest

from tests.conftest import DIAGRAMS

FORM = (DIAGRAMS / "form_task.bpmn").read_bytes()


@pytest.fixture
def hall_users(h):
    h.user("owner", roles=["process_owner"])
    h.user("clerk", groups=["window"])
    h.user("clerk2", groups=["window"])
    h.user("gs", groups=["工商"])
    h.user("gt", groups=["国税"])
    h.user("coord", groups=["管理办"], roles=["coordinator"])
    h.user("watch", roles=["supervisor"])
    h.user("ann", groups=["申请人"], roles=["applicant"])
    h.user("bob", groups=["申请人"], roles=["applicant"])
    return h


def deploy(client, h, content=FORM, name="form_task.bpmn", user="owner", **form):
    data = {"file": (io.BytesIO(content), name), **form}
    return client.post("/api/v1/process-models", data=data, headers=h.token(user),
                       content_type="multipart/form-data")


@pytest.fixture
def deployed(client, hall_users):
    r = deploy(client, hall_users)
    assert r.status_code == 201, r.get_json()
    return hall_users


def start(client, h, user="clerk", data=None):
    return client.post("/api/v1/cases", json={"process_id": "form_task", "data": data or {"company": "甲公司"}},
                       headers=h.token(user))


# auth ---------------------------------------------------------------------------------

def test_token_and_unauthorized(client, hall_users):
    h = hall_users
    assert client.get("/api/v1/cases").status_code == 401
    assert client.get("/api/v1/cases", headers={"Authorization": "Bearer nope"}).status_code == 401
    # the routes served directly check the token as well, before reading the body
    assert client.get("/api/v1/cases/1").status_code == 401
    r = client.post("/api/v1/tasks/1/complete", data=b"{not json", content_type="application/json")
    assert r.status_code == 401
    r = client.post("/api/v1/auth/token", json={"username": "clerk", "password": "wrong"})
    assert r.status_code == 401 and r.get_json()["message"]
    r = client.post("/api/v1/auth/token", json={"username": "clerk"})
    assert r.status_code == 422 and "password" in r.get_json()["errors"]
    assert client.get("/api/v1/cases", headers=h.token("clerk")).status_code == 200


def test_the_api_ignores_the_page_session(client, hall_users):
    """The API authenticates by bearer token alone: a browser's signed-in session neither
    opens it nor is touched by it (no cookie set, no `Vary: Cookie`)."""
    login = client.get("/login").text
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', login).group(1)
    r = client.post("/login", data={"username": "clerk", "password": "pw", "csrf_token": csrf})
    assert r.status_code == 302
    assert client.get("/api/v1/cases").status_code == 401
    r = client.get("/api/v1/cases", headers=hall_users.token("clerk"))
    assert r.status_code == 200
    assert "Set-Cookie" not in r.headers and "cookie" not in r.headers.get("Vary", "").lower()
    assert client.get("/inbox").status_code == 200  # the page session is still there


def test_health_and_openapi(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/tasks/{task_id}/complete" in spec["paths"]
    assert "/api/v1/cases/{case_id}/messages/{name}" in spec["paths"]


# deploy -------------------------------------------------------------------------------

def test_deploy_versions_and_identical_redeploy(client, hall_users):
    h = hall_users
    r = deploy(client, h)
    assert r.status_code == 201 and r.get_json()["version"] == 1 and r.get_json()["process_id"] == "form_task"
    assert r.get_json()["name"] == "表单测试"
    r = deploy(client, h)
    assert r.status_code == 200 and r.get_json()["version"] == 1
    r = deploy(client, h, FORM.replace("审查结论".encode(), "审查意见".encode()))
    assert r.status_code == 201 and r.get_json()["version"] == 2
    models = client.get("/api/v1/process-models", headers=h.token("clerk")).get_json()
    assert models == [{"process_id": "form_task", "name": "表单测试", "latest_version": 2}]
    xml = client.get("/api/v1/process-models/form_task/versions/1/bpmn", headers=h.token("clerk"))
    assert xml.status_code == 200 and "审查结论" in xml.get_data(as_text=True)
    assert client.get("/api/v1/process-models/form_task/versions/9/bpmn", headers=h.token("clerk")).status_code == 404


def test_deploy_needs_process_owner(client, hall_users):
    assert deploy(client, hall_users, user="clerk").status_code == 403


@pytest.mark.parametrize("content, needle", [
    (b"not xml at all", "well-formed"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "DOCTYPE"),
    (b'<?xml version="1.0"?><!DOCTYPE lolz SYSTEM "file:///etc/passwd"><x/>', "DOCTYPE"),
    (FORM.replace(b'id="form_task"', b'id="form_task" isExecutable="false"'), "executable"),
    (b"<x>" + b"a" * (3 * 1024 * 1024) + b"</x>", "larger"),
])
def test_deploy_refuses_bad_files(client, hall_users, content, needle):
    r = deploy(client, hall_users, content)
    assert r.status_code == 422
    body = r.get_json()
    assert needle.lower() in (body["message"] + str(body["errors"])).lower()
    assert client.get("/api/v1/process-models", headers=hall_users.token("clerk")).get_json() == []


def test_deploy_refuses_too_many_files(client, hall_users):
    files = [(io.BytesIO(FORM), f"f{i}.bpmn") for i in range(21)]
    r = client.post("/api/v1/process-models", data={"file": files}, headers=hall_users.token("owner"),
                    content_type="multipart/form-data")
    assert r.status_code == 422 and "21 files" in r.get_json()["errors"][0]["message"]
    assert client.get("/api/v1/process-models", headers=hall_users.token("clerk")).get_json() == []


def test_deploy_lint_names_the_element(client, hall_users):
    bad = FORM.replace(b'<bpmn:conditionExpression>${decision == "accept"}',
                       b'<bpmn:conditionExpression>__import__("os")')
    r = deploy(client, hall_users, bad)
    assert r.status_code == 422
    errors = r.get_json()["errors"]
    assert any(e["element_id"] == "f3" and "not allowed" in e["message"] for e in errors), errors


def test_deploy_lint_script_timer_and_form_key(client, hall_users):
    bad = FORM.replace(
        b'<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>',
        b'<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="script"/>'
        b'<bpmn:scriptTask id="script" name="s"><bpmn:script>import os\nos.system("x")</bpmn:script></bpmn:scriptTask>'
        b'<bpmn:sequenceFlow id="f1b" sourceRef="script" targetRef="wait"/>'
        b'<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1D'
        b'</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
        b'<bpmn:sequenceFlow id="f1c" sourceRef="wait" targetRef="review"/>',
    ).replace(b'<bpmn:userTask id="review" name="review"', b'<bpmn:userTask id="review" name="review"')
    bad = bad.replace(b'<bpmn:userTask id="dept_a" name="', b'<bpmn:userTask id="dept_a" camunda:formKey="nope" name="')
    bad = bad.replace('<bpmn:intermediateCatchEvent id="supplement" name="补正材料">'.encode(),
                      b'<bpmn:intermediateCatchEvent id="supplement" name="s"><bpmn:extensionElements>'
                      b'<camunda:properties><camunda:property name="messageForm" value="nope2"/>'
                      b'</camunda:properties></bpmn:extensionElements>')
    r = deploy(client, hall_users, bad)
    assert r.status_code == 422, r.get_json()
    errors = {}
    for e in r.get_json()["errors"]:
        errors[e["element_id"]] = errors.get(e["element_id"], "") + e["message"]
    assert "import" in errors["script"]
    assert "ISO 8601" in errors["wait"]
    assert "nope" in errors["dept_a"]
    assert "messageForm 'nope2' has no registered form" in errors["supplement"]


@pytest.mark.parametrize("task, said", [
    ('<bpmn:serviceTask id="call" name="调用工商系统" camunda:class="com.example.Registry"/>',
     "serviceTask (com.example.Registry)"),
    ('<bpmn:serviceTask id="call" name="调用" camunda:expression="${registry.call()}"/>', "serviceTask (${registry"),
    ('<bpmn:serviceTask id="call" name="调用"/>', "serviceTask (no implementation)"),
    ('<bpmn:sendTask id="call" name="发短信"/>', "sendTask (no implementation)"),
])
def test_a_task_nothing_would_run_is_refused_at_deploy_naming_it(client, hall_users, task, said):
    """Deployed, a case reaching it would wait there for ever, with no task, timer or error."""
    bad = FORM.replace(b'<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>',
                       b'<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>' + task.encode()
                       + b'<bpmn:sequenceFlow id="f1b" sourceRef="call" targetRef="review"/>')
    r = deploy(client, hall_users, bad)
    assert r.status_code == 422, r.get_json()
    [error] = [e for e in r.get_json()["errors"] if e["element_id"] == "call"]
    assert said in error["message"] and "userTask" in error["message"]
    assert client.get("/api/v1/process-models", headers=hall_users.token("clerk")).get_json() == []


def test_deploy_unknown_process_id(client, hall_users):
    r = deploy(client, hall_users, process_id="nope")
    assert r.status_code == 422 and "nope" in r.get_json()["message"]


# cases --------------------------------------------------------------------------------

def test_start_case_and_read_it(client, deployed):
    h = deployed
    r = start(client, h)
    assert r.status_code == 201, r.get_json()
    case = r.get_json()
    assert case["number"].startswith("FT-") and case["status"] == "running" and case["version"] == 1
    assert case["title"] == "甲公司" and case["data"]["company"] == "甲公司"
    assert [t["element_id"] for t in case["open_tasks"]] == ["review"]
    assert [e["action"] for e in case["events"]] == ["started", "task_created"]
    got = client.get(f"/api/v1/cases/{case['id']}", headers=h.token("watch")).get_json()
    assert got["id"] == case["id"] and got["started_by"] == "clerk"
    assert client.get("/api/v1/cases/999", headers=h.token("clerk")).status_code == 404


def test_start_case_bad_input(client, deployed):
    h = deployed
    r = start(client, h, data={"company": "", "capital": "多"})
    assert r.status_code == 422
    assert set(r.get_json()["errors"]) == {"company", "capital"}
    r = start(client, h, data={"company": "甲", "extra": 1})
    assert r.status_code == 422 and "extra" in r.get_json()["errors"]
    r = client.post("/api/v1/cases", json={"process_id": "nope", "data": {}}, headers=h.token("clerk"))
    assert r.status_code == 404
    r = client.post("/api/v1/cases", json={"data": {}}, headers=h.token("clerk"))
    assert r.status_code == 422 and "process_id" in r.get_json()["errors"]
    r = client.post("/api/v1/cases", json={"process_id": "form_task", "data": [1]}, headers=h.token("clerk"))
    assert r.status_code == 422
    r = client.post("/api/v1/cases", data="{not json", headers={**h.token("clerk"), "Content-Type": "application/json"})
    assert r.status_code in (400, 422)
    r = client.post("/api/v1/cases", json=[1, 2], headers=h.token("clerk"))
    assert r.status_code in (400, 422)
    assert client.get("/api/v1/cases", headers=h.token("clerk")).get_json() == []


def test_starting_is_limited_to_starter_groups(client, deployed):
    h = deployed
    assert start(client, h, user="gs").status_code == 403
    assert start(client, h, user="watch").status_code == 403
    assert start(client, h, user="ann").status_code == 201


def test_applicants_see_only_their_own_cases(client, deployed):
    h = deployed
    mine = start(client, h, user="ann").get_json()
    other = start(client, h, user="bob").get_json()
    listed = client.get("/api/v1/cases", headers=h.token("ann")).get_json()
    assert [c["id"] for c in listed] == [mine["id"]]
    assert client.get(f"/api/v1/cases/{other['id']}", headers=h.token("ann")).status_code == 403
    assert len(client.get("/api/v1/cases", headers=h.token("clerk")).get_json()) == 2


def test_case_list_filters_and_pagination(client, deployed):
    h = deployed
    for i in range(5):
        start(client, h, data={"company": f"企业{i}"})
    r = client.get("/api/v1/cases?page=1&page_size=2&status=running", headers=h.token("clerk"))
    assert len(r.get_json()) == 2
    assert '"total": 5' in r.headers["X-Pagination"]
    assert client.get("/api/v1/cases?status=completed", headers=h.token("clerk")).get_json() == []
    assert client.get("/api/v1/cases?status=bogus", headers=h.token("clerk")).status_code == 422
    assert len(client.get("/api/v1/cases?q=企业3", headers=h.token("clerk")).get_json()) == 1


def test_hostile_input_is_refused_by_name_and_stores_nothing(client, deployed):
    """What a hostile or broken client can send: numbers beyond any row id, JSON that could
    not be stored or sent back, days no deadline can count from. Each is a 4xx naming the
    problem; nothing is written."""
    h = deployed
    case = start(client, h).get_json()
    task = case["open_tasks"][0]["id"]
    before = client.get(f"/api/v1/cases/{case['id']}", headers=h.token("clerk")).get_json()
    huge = 10**20
    assert client.get(f"/api/v1/cases/{huge}", headers=h.token("clerk")).status_code == 404
    assert client.post(f"/api/v1/tasks/{huge}/complete", json={"data": {}}, headers=h.token("clerk")).status_code == 404
    r = client.get(f"/api/v1/cases?page={huge}", headers=h.token("clerk"))
    assert r.status_code == 422 and "page" in r.get_json()["errors"]
    r = client.post(f"/api/v1/cases/{case['id']}/notes", json={"text": "x", "task_id": huge}, headers=h.token("coord"))
    assert r.status_code == 422 and "task_id" in r.get_json()["errors"]
    r = client.post("/api/v1/notifications/read", json={"ids": [huge]}, headers=h.token("clerk"))
    assert r.status_code == 422 and "ids" in r.get_json()["errors"]

    url = f"/api/v1/tasks/{task}/complete"
    json_type = {**h.token("clerk"), "Content-Type": "application/json"}
    for body, why in ((b'{"data": {"decision": "accept", "note": "\\ud800"}}', "surrogate"),
                      (b'{"data": {"decision": "accept", "note": "a\\u0000b"}}', "NUL"),
                      (b'{"data": {"pages": ' + b"1" * 5000 + b"}}", "4300 digits"),
                      (b'{"data": {"x": ' + b"[" * 40 + b"]" * 40 + b"}}", "nested deeper"),
                      (b'{"data": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested deeper"),
                      (b'{"data": {"decision": "accept", "pages": NaN}}', "NaN is not"),
                      (b'{"data": {"decision": "accept", "pages": 1e400}}', "beyond what a number")):
        r = client.post(url, data=body, headers=json_type)
        assert r.status_code == 400 and why in r.get_json()["message"], (why, r.status_code, r.get_json())
    # a lone surrogate encoded as bytes, not escaped: in UTF-8 (CESU) and in UTF-16
    utf16 = '{"data": {"note": "X"}}'.encode("utf-16-le").replace("X".encode("utf-16-le"), b"\x00\xd8")
    for body in (b'{"data": {"note": "\xed\xa0\x80"}}', utf16):
        r = client.post(url, data=body, headers=json_type)
        assert r.status_code == 400 and "decode" in r.get_json()["message"], body
    r = client.post(url, json={"data": {"decision": "accept", "pages": 3, "received_on": "0001-01-01"}},
                    headers=h.token("clerk"))
    assert r.status_code == 422 and "received_on" in r.get_json()["errors"]
    r = client.post(url, data=b" " * (45 * 1024 * 1024), headers=json_type)
    assert r.status_code == 413
    assert client.get(f"/api/v1/cases/{case['id']}", headers=h.token("clerk")).get_json() == before

    for url in ("/api/v1/cases?q=%00", "/api/v1/process-models/a%00b/versions"):  # PostgreSQL holds no NUL
        r = client.get(url, headers=h.token("clerk"))
        assert r.status_code == 400 and "NUL" in r.get_json()["message"], url
    r = client.post("/api/v1/auth/token", data={"username": "clerk\x00", "password": "pw"})
    assert r.status_code == 400 and "form" in r.get_json()["message"]

    r = client.get("/api/v1/accountability?since=0001-01-01", headers=h.token("watch"))
    assert r.status_code == 422 and "since" in r.get_json()["errors"]
    h.user("root", roles=["admin"])
    for method, path in (("get", "/api/v1/calendar/0"), ("post", "/api/v1/calendar/years/2147483648"),
                         ("put", "/api/v1/calendar/days/0001-01-01")):
        body = {"holidays": []} if "years" in path else {"workday": False} if "days" in path else None
        r = getattr(client, method)(path, json=body, headers=h.token("root"))
        assert r.status_code == 422 and r.get_json()["errors"], (path, r.status_code)


# tasks --------------------------------------------------------------------------------

def test_inbox_claim_unclaim_and_form(client, deployed):
    h = deployed
    case = start(client, h).get_json()
    task_id = case["open_tasks"][0]["id"]
    inbox = client.get("/api/v1/tasks?scope=group", headers=h.token("clerk2")).get_json()
    assert [t["id"] for t in inbox] == [task_id]
    assert client.get("/api/v1/tasks", headers=h.token("gs")).get_json() == []
    detail = client.get(f"/api/v1/tasks/{task_id}", headers=h.token("clerk")).get_json()
    fields = {f["name"]: f for f in detail["form"]}
    assert fields["decision"]["type"] == "enum" and fields["decision"]["required"]
    assert {c["value"] for c in fields["decision"]["choices"]} == {"accept", "reject"}
    assert fields["pages"]["label"] == "材料页数" and fields["received_on"]["type"] == "date"
    assert client.get(f"/api/v1/tasks/{task_id}", headers=h.token("gs")).status_code == 403
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=h.token("clerk")).get_json()["assignee"] == "clerk"
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=h.token("clerk2")).status_code == 409
    assert client.post(f"/api/v1/tasks/{task_id}/unclaim", headers=h.token("clerk2")).status_code == 409
    assert client.get("/api/v1/tasks?scope=group", headers=h.token("clerk2")).get_json() == []
    assert [t["id"] for t in client.get("/api/v1/tasks?scope=mine", headers=h.token("clerk")).get_json()] == [task_id]
    r = client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "accept", "pages": 3}},
                    headers=h.token("clerk2"))
    assert r.status_code == 409 and r.get_json()["message"] == f"task {task_id} is held by clerk"  # not 403: held
    assert client.post(f"/api/v1/tasks/{task_id}/unclaim", headers=h.token("clerk")).status_code == 200
    assert len(client.get("/api/v1/tasks?scope=group", headers=h.token("clerk2")).get_json()) == 1


def test_assign_is_for_coordinators(client, deployed):
    h = deployed
    task_id = start(client, h).get_json()["open_tasks"][0]["id"]
    r = client.post(f"/api/v1/tasks/{task_id}/assign", json={"username": "clerk2"}, headers=h.token("clerk"))
    assert r.status_code == 403
    r = client.post(f"/api/v1/tasks/{task_id}/assign", json={"username": "nobody"}, headers=h.token("coord"))
    assert r.status_code == 422 and "username" in r.get_json()["errors"]
    r = client.post(f"/api/v1/tasks/{task_id}/assign", json={"username": "clerk2"}, headers=h.token("coord"))
    assert r.status_code == 200 and r.get_json()["assignee"] == "clerk2"
    case = client.get(f"/api/v1/cases/{r.get_json()['case_id']}", headers=h.token("coord")).get_json()
    assert any(e["action"] == "assigned" and e["actor"] == "coord" for e in case["events"])


def test_complete_validates_and_refuses_twice(client, deployed):
    h = deployed
    case = start(client, h).get_json()
    task_id = case["open_tasks"][0]["id"]
    url = f"/api/v1/tasks/{task_id}/complete"
    r = client.post(url, json={"data": {"decision": "maybe", "pages": "x", "bogus": 1}}, headers=h.token("clerk"))
    assert r.status_code == 422
    assert set(r.get_json()["errors"]) == {"decision", "pages", "bogus"}
    r = client.post(url, json={"data": {"decision": "accept", "pages": 0}}, headers=h.token("clerk"))
    assert r.status_code == 422 and "pages" in r.get_json()["errors"]
    assert client.get(f"/api/v1/cases/{case['id']}", headers=h.token("clerk")).get_json()["events"][-1]["action"] \
        == "task_created"  # nothing happened to the case
    r = client.post(url, json={"data": {"decision": "accept", "pages": 12, "received_on": "2026-11-30"}},
                    headers=h.token("clerk"))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["data"]["received_on"] == "2026-11-30" and body["open_tasks"] == []
    assert [e["action"] for e in body["events"]][-2:] == ["claimed", "completed"]
    assert client.post(url, json={"data": {"decision": "accept", "pages": 12}},
                       headers=h.token("clerk")).status_code == 409
    assert client.post("/api/v1/tasks/999/complete", json={"data": {}}, headers=h.token("clerk")).status_code == 404


def test_messages(client, deployed):
    h = deployed
    case = start(client, h, user="ann").get_json()
    url = f"/api/v1/cases/{case['id']}/messages/补正材料"
    assert client.post(url, json={"data": {"x": 1}}, headers=h.token("ann")).status_code == 409
    task_id = case["open_tasks"][0]["id"]
    client.post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"decision": "accept", "pages": 1}},
                headers=h.token("clerk"))
    assert client.post(url, json={"data": {"x": 1}}, headers=h.token("bob")).status_code == 403
    assert client.post(url, json={"data": {"x": 1}}, headers=h.token("watch")).status_code == 403
    assert client.post(url, json={"data": "x"}, headers=h.token("ann")).status_code == 422
    r = client.post(url, json={"data": {"materials": ["章程"]}}, headers=h.token("ann"))
    assert r.status_code == 200
    body = r.get_json()
    assert body["data"]["补正材料"] == {"materials": ["章程"]}
    assert sorted(t["element_id"] for t in body["open_tasks"]) == ["dept_a", "dept_b"]
    assert client.post(url, json={"data": {}}, headers=h.token("ann")).status_code == 409


def test_a_message_is_checked_with_its_form_and_a_finished_case_is_rated(client, hall_users):
    h = hall_users
    with_form = FORM.replace('<bpmn:intermediateCatchEvent id="supplement" name="补正材料">'.encode(),
                             '<bpmn:intermediateCatchEvent id="supplement" name="补正材料"><bpmn:extensionElements>'
                             '<camunda:properties><camunda:property name="messageForm" value="bl_supplement"/>'
                             '</camunda:properties></bpmn:extensionElements>'.encode())
    assert deploy(client, h, with_form).status_code == 201
    case = start(client, h, user="ann").get_json()
    assert case["waiting"] == []
    client.post(f"/api/v1/tasks/{case['open_tasks'][0]['id']}/complete",
                json={"data": {"decision": "accept", "pages": 1}}, headers=h.token("clerk"))
    case = client.get(f"/api/v1/cases/{case['id']}", headers=h.token("ann")).get_json()
    assert case["waiting"] == ["补正材料"]
    url = f"/api/v1/cases/{case['id']}/messages/补正材料"
    r = client.post(url, json={"data": {"x": 1}}, headers=h.token("ann"))
    assert r.status_code == 422 and {"x", "materials"} <= set(r.get_json()["errors"])
    r = client.post(url, json={"data": {"materials": ["章程"]}}, headers=h.token("clerk"))  # at the window
    assert r.status_code == 200 and r.get_json()["waiting"] == []
    rates = f"/api/v1/cases/{case['id']}/ratings"
    assert client.post(rates, json={"level": 5}, headers=h.token("ann")).status_code == 409  # not finished
    for task in r.get_json()["open_tasks"]:
        user = "gs" if task["element_id"] == "dept_a" else "gt"
        client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}, headers=h.token(user))
    assert client.get(f"/api/v1/cases/{case['id']}", headers=h.token("ann")).get_json()["status"] == "completed"
    assert client.post(rates, json={"level": 6}, headers=h.token("ann")).status_code == 422
    assert client.post(rates, json={"level": "5"}, headers=h.token("ann")).status_code == 422
    assert client.post(rates, json={"level": 5}, headers=h.token("bob")).status_code == 403
    r = client.post(rates, json={"level": 4, "comment": "很快"}, headers=h.token("ann"))
    assert r.status_code == 201 and r.get_json()["level"] == 4 and r.get_json()["channel"] == "api"
    assert client.post(rates, json={"level": 3}, headers=h.token("clerk")).status_code == 409  # rated at 办结
    assert [x["level"] for x in client.get(rates, headers=h.token("ann")).get_json()] == [4]


def test_running_cases_keep_their_version(client, deployed):
    h = deployed
    old = start(client, h).get_json()
    deploy(client, h, FORM.replace("审查结论".encode(), "审查意见".encode()))
    new = start(client, h).get_json()
    assert (old["version"], new["version"]) == (1, 2)
    detail = client.get(f"/api/v1/tasks/{old['open_tasks'][0]['id']}", headers=h.token("clerk")).get_json()
    assert {f["name"]: f for f in detail["form"]}["decision"]["label"] == "审查结论"


HOSTILE = {
    "endless": "while True:\n    pass",
    "squaring": "x = 3 ** 50000\nfor i in range(14):\n    x = x * x",
    "doubling": "s = 'a' * 1000\nfor i in range(40):\n    s = s + s",
    "wide format": "w = 10**9\nx = f\"{'':{w}}\"",
    "huge result": "x = 'a' * 50_000_000",
}


def _scripted(script: str, condition: str = "True") -> bytes:
    xml = FORM.decode().replace(
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review"/>',
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>'
        '<bpmn:scriptTask id="work" name="计算"><bpmn:script></bpmn:script></bpmn:scriptTask>'
        '<bpmn:sequenceFlow id="f1b" sourceRef="work" targetRef="pick"/>'
        '<bpmn:exclusiveGateway id="pick" default="f1d"/>'
        '<bpmn:sequenceFlow id="f1c" sourceRef="pick" targetRef="review"><bpmn:conditionExpression>'
        '</bpmn:conditionExpression></bpmn:sequenceFlow>'
        '<bpmn:sequenceFlow id="f1d" sourceRef="pick" targetRef="review"/>')
    from xml.sax.saxutils import escape

    xml = xml.replace("<bpmn:script></bpmn:script>", f"<bpmn:script>{escape(script)}</bpmn:script>")
    return xml.replace("<bpmn:conditionExpression></bpmn:conditionExpression>",
                       f"<bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression>").encode()


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_script_code_is_a_422_naming_the_step_within_seconds(client, hall_users, name):
    h = hall_users
    assert deploy(client, h, _scripted(HOSTILE[name])).status_code == 201
    started = time.monotonic()
    r = start(client, h)
    assert r.status_code == 422, r.get_json()
    assert time.monotonic() - started < 4.0
    body = r.get_json()
    assert body["errors"][0]["element_id"] == "work" and "计算" in body["message"]
    assert h.hall.runtime.cases(h.actor("clerk"))[1] == 0  # nothing was stored


def test_a_gateway_condition_that_loops_is_stopped_too(client, hall_users):
    h = hall_users
    xml = _scripted("x = 3 ** 5000", "[y := x * x for _ in range(10**9)]")
    assert deploy(client, h, xml).status_code == 201
    started = time.monotonic()
    r = start(client, h)
    assert r.status_code == 422 and time.monotonic() - started < 4.0
    assert r.get_json()["errors"][0]["element_id"] in ("pick", "f1c")


def test_a_task_for_the_applicant_is_the_cases_own_applicants_alone(client, hall_users):
    """Every applicant shares the group 申请人: a task in that lane goes to the applicant who
    filed the case, and no other applicant reads it, completes it or sees it listed."""
    h = hall_users
    h.deploy(DIAGRAMS / "applicant_task.bpmn")
    case = client.post("/api/v1/cases", json={"process_id": "applicant_task", "data": {}},
                       headers=h.token("ann")).get_json()
    [task] = case["open_tasks"]
    assert task["assignee"] == "ann" and task["element_id"] == "confirm"
    assert client.get("/api/v1/tasks", headers=h.token("bob")).get_json() == []
    assert client.get(f"/api/v1/tasks/{task['id']}", headers=h.token("bob")).status_code == 403
    assert client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}},
                       headers=h.token("bob")).status_code == 403
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=h.token("bob")).status_code in (403, 409)
    assert [t["id"] for t in client.get("/api/v1/tasks", headers=h.token("ann")).get_json()] == [task["id"]]
    r = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}}, headers=h.token("ann"))
    assert r.status_code == 200
    # a task open to a window and to 申请人 is given to this applicant too: never to any other
    [sign] = r.get_json()["open_tasks"]
    assert sign["assignee"] == "ann"
    assert client.get(f"/api/v1/tasks/{sign['id']}", headers=h.token("bob")).status_code == 403
    assert client.post(f"/api/v1/tasks/{sign['id']}/reassign", json={"group": "申请人"},
                       headers=h.token("coord")).status_code == 422


def test_a_retried_start_with_its_idempotency_key_answers_with_the_first_case(client, deployed):
    h = deployed
    body = {"process_id": "form_task", "data": {"company": "甲公司"}}
    key = {**h.token("ann"), "Idempotency-Key": "portal-7f3a"}
    first = client.post("/api/v1/cases", json=body, headers=key)
    again = client.post("/api/v1/cases", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"] and again.get_json()["number"] == first.get_json()["number"]
    assert h.hall.runtime.cases(h.actor("ann"))[1] == 1
    # the same key for another request is refused; another person's key is theirs
    other = client.post("/api/v1/cases", json={**body, "data": {"company": "乙公司"}}, headers=key)
    assert other.status_code == 422 and "Idempotency-Key" in other.get_json()["errors"]
    bob = client.post("/api/v1/cases", json=body, headers={**h.token("bob"), "Idempotency-Key": "portal-7f3a"})
    assert bob.status_code == 201 and bob.get_json()["id"] != first.get_json()["id"]
    assert client.post("/api/v1/cases", json=body, headers={**h.token("ann"), "Idempotency-Key": "x" * 129}
                       ).status_code == 422
    assert client.post("/api/v1/cases", json=body, headers=h.token("ann")).get_json()["id"] != first.get_json()["id"]


def test_the_openapi_document_says_what_the_api_does(client, deployed):
    """What a client generated from the document relies on is what the API sends and takes."""
    h = deployed
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    inbox = client.get("/api/v1/tasks", headers=h.token("clerk"))
    header = paths["/api/v1/tasks"]["get"]["responses"]["200"]["headers"]["X-Pagination"]
    assert header["schema"] == {"type": "string"} and isinstance(inbox.headers["X-Pagination"], str)
    task_id = start(client, h).get_json()["open_tasks"][0]["id"]
    detail = client.get(f"/api/v1/tasks/{task_id}", headers=h.token("clerk")).get_json()
    documented = set(spec["components"]["schemas"]["FormField"]["properties"])
    assert {k for f in detail["form"] for k in f} <= documented
    assert paths["/api/v1/notifications/read"]["post"]["requestBody"]["required"] is False
    assert client.post("/api/v1/notifications/read", headers=h.token("clerk")).status_code == 204
    r = client.delete("/api/v1/cases", headers=h.token("clerk"))
    assert r.status_code == 405 and set(r.headers["Allow"].split(", ")) >= {"GET", "POST"}
    year = paths["/api/v1/calendar/{year}"]["parameters"][0]["schema"]
    assert (year["minimum"], year["maximum"]) == (1900, 2199)
    assert "NUL" in spec["info"]["description"] and "surrogate" in spec["info"]["description"]
    assert "Idempotency-Key" in [p["name"] for p in paths["/api/v1/cases"]["post"]["parameters"]]
    r = client.post(f"/api/v1/tasks/{task_id}/reassign", json={}, headers=h.token("coord"))
    assert r.status_code == 422 and "username" in r.get_json()["errors"]
    form = client.get("/api/v1/process-models/form_task/start-form", headers=h.token("clerk")).get_json()
    assert {f["name"] for f in form} >= {"company"}
