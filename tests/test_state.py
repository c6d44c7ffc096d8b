"""A case's stored state: what goes in comes back, and history does not pile up."""

import datetime as dt
import decimal
import zlib

import pytest
from SpiffWorkflow.bpmn.specs.defaults import ParallelGateway
from SpiffWorkflow.util.task import TaskIterator, TaskState

from engine import bpmn, state
from engine.models import Case
from tests.conftest import DIAGRAMS
from webapp import db


def _drive(spec_bundle, loops, prune, roundtrip, steps=lambda wf: wf.do_engine_steps(), data=None,
           new=state.new_workflow):
    """Run the loop diagram (or another, with start `data`), choosing the alphabetically
    first ready task each time, until the case ends or waits for an event."""
    wf = new(spec_bundle.spec, spec_bundle.subprocess_specs)
    wf.get_tasks(state=TaskState.READY)[0].data.update(data or {})
    steps(wf)
    trace, i, outer = [], 0, 0
    while not wf.completed:
        ready = wf.get_tasks(state=TaskState.READY, manual=True)
        if not ready:
            break
        t = sorted(ready, key=lambda t: t.task_spec.name)[0]
        trace.append(t.task_spec.name)
        if t.task_spec.name == "check":
            t.data["complete"] = i % 3 == 2
            i += 1
        if t.task_spec.name in ("a", "b"):
            t.data["again"] = outer < loops
            t.data[t.task_spec.name + "_v"] = i
        if t.task_spec.name == "b":
            outer += 1
        # the order of Workflow.update_waiting_tasks's own walk
        assert list(state.waiting_tasks(wf)) == list(TaskIterator(wf.task_tree, state=TaskState.WAITING))
        t.run()
        steps(wf)
        if prune:
            state.prune(wf)
        if roundtrip:
            wf = state.loads(state.dumps(wf), spec_bundle.spec, spec_bundle.subprocess_specs)
    return trace, wf.data, len(wf.tasks)


def test_pruned_and_reloaded_workflow_behaves_like_the_whole_one():
    b = bpmn.build({"loop.bpmn": (DIAGRAMS / "loop.bpmn").read_text()})
    whole = _drive(b, 20, prune=False, roundtrip=False)
    pruned = _drive(b, 20, prune=True, roundtrip=True)
    assert pruned[0] == whole[0] and pruned[1] == whole[1]
    assert pruned[2] < 15 < whole[2]


def test_the_engines_steps_run_what_spiffworkflows_do():
    """runtime.engine_steps finds a lone ready automatic task, and the hall's workflows find
    their waiting tasks, without SpiffWorkflow's tree iterator; a case must go exactly as
    SpiffWorkflow's own do_engine_steps and update_waiting_tasks take it."""
    from SpiffWorkflow.bpmn import BpmnWorkflow

    from engine.runtime import engine_steps
    from engine.scripting import HallScriptEngine

    def spiffs_own(spec, subprocess_specs):
        return BpmnWorkflow(spec, subprocess_specs, script_engine=HallScriptEngine())

    joins = []

    def steps(wf):
        # every parallel join's verdict, as SpiffWorkflow's own gateway would give it
        for t in wf.tasks.values():
            if isinstance(t.task_spec, bpmn.HallParallelGateway) and not t.has_state(TaskState.FINISHED_MASK):
                joins.append(t.task_spec._check_threshold_unstructured(t))
                assert joins[-1] == ParallelGateway._check_threshold_unstructured(t.task_spec, t)
        engine_steps(wf, lambda t: None)

    for name, data in (("loop.bpmn", {}), ("parallel5.bpmn", {}), ("gateways.bpmn", {"bank": True}),
                       ("gateways.bpmn", {"bank": False}), ("race.bpmn", {})):
        b = bpmn.build({name: (DIAGRAMS / name).read_text()})
        for prune in (True, False):  # unpruned, a loop's earlier passes are still in the tree
            ours = _drive(b, 5, prune=prune, roundtrip=False, steps=steps, data=data)
            assert ours == _drive(b, 5, prune=prune, roundtrip=False, data=data, new=spiffs_own), name
            assert ours[0], name  # people had work to do
    assert True in joins and False in joins


def test_data_values_survive_a_round_trip():
    b = bpmn.build({"loop.bpmn": (DIAGRAMS / "loop.bpmn").read_text()})
    wf = state.new_workflow(b.spec, b.subprocess_specs)
    value = {
        "date": dt.date(2026, 11, 30), "at": dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC),
        "naive": dt.datetime(2026, 11, 30, 9, 0), "span": dt.timedelta(days=2, microseconds=5),
        "money": decimal.Decimal("12.50"), "tags": {"a", "b"}, "pair": (1, "二"), "by_year": {2026: "x"},
        "typename": "not a spiff object", "$t": "looks like a tag", "$$x": 1, "big": 2**80,
        "nested": [{"typename": "Task", "$t": "date", "v": "2026-01-01"}], "nan": float("inf"),
    }
    wf.get_tasks(state=TaskState.READY)[0].data.update(value)
    wf.do_engine_steps()
    back = state.loads(state.dumps(wf), b.spec, b.subprocess_specs)
    got = back.get_tasks(state=TaskState.READY, manual=True)[0].data
    assert got == value
    # a state written before LZ4, as zlib, still reads
    older = zlib.compress(state.to_json(state.dumps(wf)).encode(), 1)
    assert state.loads(older, b.spec, b.subprocess_specs).get_tasks(state=TaskState.READY, manual=True)[0].data == value


def test_a_correction_loop_repeated_a_thousand_times(h):
    clerk = h.user("clerk", groups=["window"])
    h.deploy(DIAGRAMS / "loop.bpmn")
    case = h.hall.runtime.start(clerk, "loop", {})
    sizes = []
    for i in range(1000):
        h.complete(clerk, case.id, "check", {"complete": False, "round": i})
        h.complete(clerk, case.id, "fix", {})
        if i in (10, 999):
            h.hall.runtime.forget(case.id)  # the next action reloads from the database
            sizes.append(len(db.session.get(Case, case.id).state))
    h.complete(clerk, case.id, "check", {"complete": True})
    assert sorted(t.element_id for t in h.open_tasks(case.id)) == ["a", "b"]
    assert sizes[1] <= sizes[0] * 1.2, sizes  # state does not grow with the loop's history
    assert h.hall.runtime.case(case.id).data["round"] == 999


@pytest.mark.sqlite_only
def test_state_json_is_readable(h):
    clerk = h.user("clerk", groups=["window"])
    h.deploy(DIAGRAMS / "loop.bpmn")
    case = h.hall.runtime.start(clerk, "loop", {"企业": "甲"})
    text = state.to_json(db.session.get(Case, case.id).state)
    assert '"企业":"甲"' in text and '"spec"' not in text


SUBPROCESS_THEN_STEPS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="probe"
    targetNamespace="http://hall.local/probe">
  <bpmn:process id="probe" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sub"/>
    <bpmn:subProcess id="sub">
      <bpmn:startEvent id="sub_start"/>
      <bpmn:sequenceFlow id="s1" sourceRef="sub_start" targetRef="work"/>
      <bpmn:userTask id="work"/>
      <bpmn:sequenceFlow id="s2" sourceRef="work" targetRef="sub_end"/>
      <bpmn:endEvent id="sub_end"/>
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="f2" sourceRef="sub" targetRef="step"/>
    <bpmn:scriptTask id="step"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="step" targetRef="after"/>
    <bpmn:userTask id="after"/>
    <bpmn:sequenceFlow id="f4" sourceRef="after" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_history_past_a_finished_subprocess_is_pruned_with_it():
    b = bpmn.build({"probe.bpmn": SUBPROCESS_THEN_STEPS})
    wf = state.new_workflow(b.spec, b.subprocess_specs)
    wf.do_engine_steps()
    next(t for t in state.all_tasks(wf) if t.state == TaskState.READY).run()
    wf.do_engine_steps()
    state.prune(wf)
    assert not wf.subprocesses
    wf = state.loads(state.dumps(wf), b.spec, b.subprocess_specs)
    after = wf.get_tasks(state=TaskState.READY, manual=True)
    assert [t.task_spec.bpmn_id for t in after] == ["after"] and after[0].data["x"] == 1
