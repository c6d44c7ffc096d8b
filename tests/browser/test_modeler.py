"""The process owner's modeler in a browser: rename a task in the properties panel and
deploy (version 2 is listed); a lint error is listed and its element marked on the canvas."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import sign_in
from webapp import db

BLANK = Path(__file__).resolve().parents[2] / "webapp" / "ui" / "blank.bpmn"


@pytest.fixture
def modeler(h, page):
    """The owner's modeler open on version 1 of the blank template's process, its user task selected."""
    owner = h.user("owner", roles=("process_owner",))
    pv = h.deploy(BLANK, owner=owner)
    sign_in(page, "owner")
    page.goto("/models")
    page.locator(f"#process-{pv.process_id}").get_by_role("link", name="编辑最新版本").click()
    page.wait_for_selector("#modeler[data-ready=true]")
    page.click(".djs-element[data-element-id=Task_accept]")
    page.wait_for_selector(".bio-properties-panel-header-label >> text=受理审查")
    return pv


def versions(h, process_id):
    db.session.rollback()  # see what the server committed meanwhile
    return [v.version for v in h.hall.repository.versions(process_id)]


def open_group(page, title):
    header = page.locator(".bio-properties-panel-group-header", has_text=title)
    if "open" not in (header.get_attribute("class") or ""):
        header.click()


def test_rename_a_task_and_deploy_lists_version_2(h, page, modeler):
    deploy = page.get_by_role("button", name="部署", exact=True)
    deploy.click()  # nothing changed yet: nothing new is deployed
    page.wait_for_selector(".modeler-status >> text=与已部署的 v1 相同，未生成新版本")
    assert versions(h, modeler.process_id) == [1]
    open_group(page, "常规")
    name = page.locator("#bio-properties-panel-name")
    name.fill("窗口受理")
    # the canvas shows the new name as the person types it
    page.wait_for_selector(".djs-element[data-element-id=Task_accept] >> text=窗口受理")
    deploy.click()
    page.wait_for_url(f"**/models#process-{modeler.process_id}")
    assert "已部署 新流程 v2" in page.locator(".flash.success").inner_text()
    rows = page.locator(f"#process-{modeler.process_id} tbody tr")
    assert rows.first.locator("td").first.inner_text().startswith("v2")
    assert rows.count() == 2
    assert versions(h, modeler.process_id) == [2, 1]
    latest = h.hall.repository.latest(modeler.process_id)
    assert 'name="窗口受理"' in latest.files[latest.main_file]


def test_lint_error_is_listed_and_its_element_marked(h, page, modeler):
    open_group(page, "表单")
    page.locator("#bio-properties-panel-formType").select_option(label="已注册的表单（formKey）")
    page.locator("#bio-properties-panel-formKey").fill("no_such_form")
    page.get_by_role("button", name="部署", exact=True).click()
    problems = page.locator(".lint-errors")
    problems.wait_for(state="visible")
    assert "部署未通过检查：1 个问题" in problems.locator("h2").inner_text()
    item = problems.locator("li")
    assert item.inner_text().replace("\n", " ").startswith("受理审查（Task_accept）")
    assert "表单键“no_such_form”没有对应的已登记表单" in item.inner_text()  # the Chinese page speaks Chinese
    task = page.locator(".djs-element[data-element-id=Task_accept]")
    assert "hall-lint-error" in task.get_attribute("class")
    assert page.locator(".hall-lint-badge").inner_text() == "1"
    assert page.locator(".djs-element.hall-lint-error").count() == 1
    assert versions(h, modeler.process_id) == [1]
    # fixed and deployed again: the marks go, version 2 is made
    page.locator("#bio-properties-panel-formType").select_option(label="<无>")
    page.get_by_role("button", name="部署", exact=True).click()
    page.wait_for_url(f"**/models#process-{modeler.process_id}")
    assert versions(h, modeler.process_id) == [2, 1]


# a timer boundary event whose duration the engine refuses ("PT1D": days come before the T)
TIMER = """    <bpmn:boundaryEvent id="Timer_late" name="超时" cancelActivity="false" attachedToRef="Task_accept">
      <bpmn:outgoing>Flow_late</bpmn:outgoing>
      <bpmn:timerEventDefinition id="TimerEventDefinition_late">
        <bpmn:timeDuration>PT1D</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="EndEvent_late" name="超时结束"><bpmn:incoming>Flow_late</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_late" sourceRef="Timer_late" targetRef="EndEvent_late" />
"""
TIMER_DI = """      <bpmndi:BPMNShape id="Timer_late_di" bpmnElement="Timer_late">
        <dc:Bounds x="412" y="227" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="EndEvent_late_di" bpmnElement="EndEvent_late">
        <dc:Bounds x="582" y="272" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="Flow_late_di" bpmnElement="Flow_late">
        <di:waypoint x="430" y="263" /><di:waypoint x="430" y="290" /><di:waypoint x="582" y="290" />
      </bpmndi:BPMNEdge>
"""


def test_a_problem_inside_an_element_marks_that_element(h, page, modeler, tmp_path):
    """A diagram opened from a file: the engine names the timer's definition, the canvas marks its event."""
    flow = '    <bpmn:sequenceFlow id="Flow_apply_accept"'
    xml = (BLANK.read_text().replace(flow, TIMER + flow)
           .replace("    </bpmndi:BPMNPlane>", TIMER_DI + "    </bpmndi:BPMNPlane>"))
    path = tmp_path / "late.bpmn"
    path.write_text(xml)
    page.locator("input[data-action=open]").set_input_files(str(path))
    page.wait_for_selector(".modeler-status >> text=已打开 late.bpmn")
    page.wait_for_selector(".djs-element[data-element-id=Timer_late]")
    page.get_by_role("button", name="部署", exact=True).click()
    item = page.locator(".lint-errors li")
    item.wait_for()
    assert item.inner_text().replace("\n", " ").startswith("超时（TimerEventDefinition_late）")
    assert "“PT1D”不是有效的 ISO 8601 时长、时间或周期（以天计写作 P1D" in item.inner_text()
    assert "hall-lint-error" in page.locator(".djs-element[data-element-id=Timer_late]").get_attribute("class")
    assert page.locator(".djs-element.hall-lint-error").count() == 1
    assert versions(h, modeler.process_id) == [1]
