"""Process models pages (流程模型), for process owners: the list, a version, its XML, the
modeler (edit a version, start from the blank template) and deploying from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLANK = ROOT / "webapp" / "ui" / "blank.bpmn"
PROCESSES = ROOT / "processes"


_META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Web:
    """One person's browser: a test client with its own session and CSRF token."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self.token = None

    def _open(self, method, url, **kw):
        return getattr(self.client, method)(url, **kw)

    def get(self, url, **kw):
        return self._open("get", url, **kw)

    def login(self, username, password="pw"):
        self.token = _META_TOKEN.search(self.get("/login").text).group(1)
        r = self._open("post", "/login", data={"username": username, "password": password, "csrf_token": self.token})
        assert r.status_code == 302, r.text
        self.token = _META_TOKEN.search(self.get("/inbox").text).group(1)
        return self

    def deploy(self, body, token=True):
        headers = {"X-CSRFToken": self.token if token is True else token} if token else {}
        return self._open("post", "/models/deploy", json=body, headers=headers)

    def page(self, path, status=200) -> str:
        r = self.get(path)
        assert r.status_code == status, (path, r.status_code)
        return r.text


@pytest.fixture
def web(app):
    return Web(app)


@pytest.fixture
def owner(h, web):
    h.user("owner", roles=("process_owner",))
    web.login("owner")
    return h.actor("owner")


@pytest.fixture
def blank_v1(h, owner):
    return h.deploy(BLANK, owner=owner)


def versions(h, process_id):
    return [v.version for v in h.hall.repository.versions(process_id)]


# --- who may see the models pages ---------------------------------------------------------

PAGES = ["/models", "/models/{pid}/1", "/models/{pid}/1/xml", "/models/{pid}/1/edit", "/models/new",
         "/models/blank.bpmn"]


def test_other_roles_get_403_on_every_models_page(h, app, blank_v1):
    h.user("clerk", groups=["内资窗口"], roles=("staff", "coordinator", "director", "supervisor"))
    web = Web(app).login("clerk")
    for path in PAGES:
        r = web.get(path.format(pid=blank_v1.process_id))
        assert r.status_code == 403, path
        assert "流程模型仅对流程管理员开放" in r.text
    assert 'href="/models"' not in web.page("/inbox")  # not in their navigation either
    r = web.deploy({"xml": BLANK.read_text().replace("受理审查", "审查")})
    assert r.status_code == 403 and r.get_json()["message"] == "流程模型仅对流程管理员开放"
    assert versions(h, blank_v1.process_id) == [1]


def test_anonymous_is_sent_to_sign_in(h, app, blank_v1):
    web = Web(app)  # nobody signed in
    for path in PAGES:
        r = web.get(path.format(pid=blank_v1.process_id))
        assert r.status_code == 302 and "/login?next=" in r.headers["Location"], path
    r = web.deploy({"xml": BLANK.read_text().replace("受理审查", "审查")}, token=False)
    assert r.status_code == 400  # no session, no CSRF token: refused before anything else
    assert versions(h, blank_v1.process_id) == [1]


# --- the pages -----------------------------------------------------------------------------

def test_index_lists_versions_with_view_edit_download_and_new(web, h, owner, blank_v1):
    h.hall.repository.deploy({"blank.bpmn": BLANK.read_text().replace('name="受理审查"', 'name="审查"')}, owner)
    html = web.page("/models")
    pid = blank_v1.process_id
    assert f'id="process-{pid}"' in html
    assert re.search(r'<tr data-version="2"><td>v2 <span class="badge status-open">最新', html)
    assert '<tr data-version="1"><td>v1</td>' in html
    for v in (1, 2):
        for href in (f"/models/{pid}/{v}", f"/models/{pid}/{v}/edit", f"/models/{pid}/{v}/xml"):
            assert f'href="{href}"' in html, href
    assert 'href="/models/new"' in html and "新建流程" in html


def test_view_page_offers_editing_that_version(web, owner, blank_v1):
    html = web.page(f"/models/{blank_v1.process_id}/1")
    assert f'href="/models/{blank_v1.process_id}/1/edit"' in html and "编辑此版本" in html


def test_edit_page_loads_the_modeler_on_the_versions_xml(web, h, owner):
    pv = h.deploy(PROCESSES / "green_channel.bpmn", PROCESSES / "green_channel_eligibility.dmn", owner=owner)
    html = web.page(f"/models/{pv.process_id}/{pv.version}/edit")
    assert "编辑流程" in html and "绿色通道" in html and "基于 v1" in html
    assert f'data-xml-url="/models/{pv.process_id}/1/xml"' in html
    assert 'data-process-id="green_channel" data-version="1"' in html
    assert "vendor/modeler/modeler.js" in html and "vendor/modeler/properties-panel.css" in html
    assert "<code>green_channel_eligibility.dmn</code>" in html  # the other file goes along
    assert "最新版本是" not in html
    assert web.page(f"/models/{pv.process_id}/1/xml").startswith("<?xml")


def test_editing_an_older_version_says_which_is_latest(web, h, owner, blank_v1):
    h.hall.repository.deploy({"blank.bpmn": BLANK.read_text().replace('name="办结"', 'name="结束"')}, owner)
    assert "最新版本是 v2" in web.page(f"/models/{blank_v1.process_id}/1/edit")


def test_names_from_the_diagram_are_escaped(web, h, owner):
    evil = "&lt;script&gt;alert(1)&lt;/script&gt;"
    xml = BLANK.read_text().replace('name="新流程" isExecutable', f'name="{evil}" isExecutable')
    pv, _ = h.hall.repository.deploy({"blank.bpmn": xml}, owner)
    for path in ("/models", f"/models/{pv.process_id}/1", f"/models/{pv.process_id}/1/edit"):
        html = web.page(path)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html, path


def test_edit_of_an_unknown_version_is_404(web, owner, blank_v1):
    web.page(f"/models/{blank_v1.process_id}/9/edit", 404)
    web.page("/models/nope/1/edit", 404)


def test_new_starts_from_the_blank_template_with_a_fresh_process_id(web, h, owner):
    html = web.page("/models/new")
    assert "新建流程" in html and 'data-xml-url="/models/blank.bpmn"' in html and 'data-process-id=""' in html
    first, second = web.page("/models/blank.bpmn"), web.page("/models/blank.bpmn")
    ids = [re.search(r'<bpmn:process id="(Process_[0-9a-f]+)"', x).group(1) for x in (first, second)]
    assert ids[0] != ids[1] and "Process_new" not in first
    assert f'processRef="{ids[0]}"' in first
    for name in ("新流程", "内资窗口", "提交申请", "受理审查", "办结"):
        assert f'name="{name}"' in first
    # executable as it is: it deploys, and a case started on it reaches the lane's group
    pv, created = h.hall.repository.deploy({"new.bpmn": first}, owner)
    assert created and pv.process_id == ids[0] and pv.name == "新流程"
    clerk = h.user("clerk", groups=["内资窗口"])
    case = h.hall.runtime.start(clerk, pv.process_id, {})
    [task] = h.open_tasks(case.id)
    assert task.name == "受理审查" and task.candidate_groups == ["内资窗口"]


# --- deploying from the modeler ---------------------------------------------------------

def test_deploy_a_changed_diagram_makes_the_next_version(web, h, owner, blank_v1):
    pid = blank_v1.process_id
    xml = BLANK.read_text().replace('name="受理审查"', 'name="窗口受理"')
    r = web.deploy({"xml": xml, "process_id": pid, "base": {"process_id": pid, "version": 1}})
    assert r.status_code == 201, r.get_json()
    assert r.get_json() == {"process_id": pid, "version": 2, "name": "新流程", "created": True,
                            "url": f"/models#process-{pid}"}
    html = web.page("/models")  # where the modeler goes next
    assert "已部署 新流程 v2" in html
    assert '<tr data-version="2"><td>v2' in html
    assert 'name="窗口受理"' in h.hall.repository.latest(pid).files["blank.bpmn"]


def test_deploy_identical_xml_changes_nothing(web, h, owner, blank_v1):
    pid = blank_v1.process_id
    r = web.deploy({"xml": BLANK.read_text(), "process_id": pid, "base": {"process_id": pid, "version": 1}})
    assert r.status_code == 200
    assert r.get_json()["created"] is False and r.get_json()["version"] == 1
    assert versions(h, pid) == [1]
    assert "已部署" not in web.page("/models")


def test_deploy_keeps_the_versions_other_files(web, h, owner):
    pv = h.deploy(PROCESSES / "green_channel.bpmn", PROCESSES / "green_channel_eligibility.dmn", owner=owner)
    xml = pv.files[pv.main_file].replace('name="绿色通道"', 'name="绿色通道（试行）"', 1)
    assert xml != pv.files[pv.main_file]
    r = web.deploy({"xml": xml, "process_id": "green_channel", "base": {"process_id": "green_channel", "version": 1}})
    assert r.status_code == 201, r.get_json()
    v2 = h.hall.repository.version("green_channel", 2)
    assert sorted(v2.files) == sorted(pv.files)
    assert v2.files["green_channel_eligibility.dmn"] == pv.files["green_channel_eligibility.dmn"]
    assert v2.files[pv.main_file] == xml


def test_deploy_a_new_diagram_without_a_base(web, h, owner):
    xml = web.page("/models/blank.bpmn")
    pid = re.search(r'<bpmn:process id="([^"]+)"', xml).group(1)
    r = web.deploy({"xml": xml, "process_id": pid})
    assert r.status_code == 201 and r.get_json()["process_id"] == pid
    assert h.hall.repository.latest(pid).main_file == f"{pid}.bpmn"
    assert f'id="process-{pid}"' in web.page("/models")


def test_invalid_diagram_is_422_with_the_offending_elements(web, h, owner, blank_v1):
    pid = blank_v1.process_id
    xml = (BLANK.read_text()
           .replace('<bpmn:userTask id="Task_accept" name="受理审查">',
                    '<bpmn:userTask id="Task_accept" name="受理审查" camunda:formKey="no_such_form">')
           .replace('<bpmn:sequenceFlow id="Flow_accept_done" sourceRef="Task_accept" targetRef="EndEvent_done" />',
                    '<bpmn:sequenceFlow id="Flow_accept_done" sourceRef="Task_accept" targetRef="EndEvent_done">'
                    '<bpmn:conditionExpression>__import__("os")</bpmn:conditionExpression></bpmn:sequenceFlow>'))
    r = web.deploy({"xml": xml, "process_id": pid, "base": {"process_id": pid, "version": 1}})
    assert r.status_code == 422
    body = r.get_json()
    assert body["message"] == "流程图中有 2 处问题"  # the modeler is a Chinese page: its errors are Chinese
    by_element = {e["element_id"]: e["message"] for e in body["errors"]}
    assert by_element["Task_accept"] == "表单键“no_such_form”没有对应的已登记表单"
    assert by_element["Flow_accept_done"] == \
        "表达式“__import__(\"os\")”：第 1 行：不允许使用名称“__import__”（双下划线）"
    assert versions(h, pid) == [1]


def test_unreadable_xml_is_422(web, owner, blank_v1):
    r = web.deploy({"xml": "<bpmn:definitions", "base": {"process_id": blank_v1.process_id, "version": 1}})
    assert r.status_code == 422 and r.get_json()["errors"]
    r = web.deploy({"xml": ""})
    assert r.status_code == 422 and r.get_json()["message"] == "请求中没有流程图 XML"


def test_deploy_on_an_unknown_base_is_404(web, owner):
    r = web.deploy({"xml": BLANK.read_text(), "base": {"process_id": "nope", "version": 1}})
    assert r.status_code == 404 and "nope" in r.get_json()["message"]


def test_deploy_needs_the_csrf_token(web, h, owner, blank_v1):
    pid = blank_v1.process_id
    body = {"xml": BLANK.read_text().replace('name="受理审查"', 'name="窗口受理"'),
            "base": {"process_id": pid, "version": 1}}
    assert web.deploy(body, token=False).status_code == 400  # signed in, but the request carries no token
    assert web.deploy(body, token="forged").status_code == 400
    assert versions(h, pid) == [1]
    assert web.deploy(body).status_code == 201  # the same request with the page's token
