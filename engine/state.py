"""A case's SpiffWorkflow state: stored without the spec, kept small by pruning history.

* The spec is stored once per version (engine.repository) and never in a case's state.
* Task data goes through `encode`/`decode`, which keep dates, datetimes, Decimals, sets,
  tuples and non-string keys as they were, and are not confused by data that happens to
  contain a key named `typename` (which SpiffWorkflow's own registry would take for one of
  its objects).
* `prune` drops the finished part of the task tree that nothing can look at again. A 补正
  loop repeated a thousand times then weighs what one iteration weighs: no recursion limit
  is reached, no task tree grows without bound, and saving the 500th task costs what
  saving the 5th does. The audit trail and the task table keep the history for people.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import zlib
from types import MethodType
from uuid import UUID

import lz4.frame
import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
)
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition as CamundaMessageEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import HallMessageEventDefinition
from engine.scripting import HallScriptEngine

STATE_VERSION = 1
TAG = "$t"


class StateError(Exception):
    pass


# ---------------------------------------------------------------------------------------
# Data codec. Tagged values are {"$t": kind, "v": ...}; user keys that start with "$" get
# one more "$", so a tag can never be mistaken for data (and the reverse on the way back).

def encode(value, registry=None):
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return value
    if t is float:
        if value != value or value in (float("inf"), float("-inf")):
            return {TAG: "float", "v": repr(value)}
        return value
    if t is dict:
        if all(type(k) is str for k in value):
            return {("$" + k if k.startswith("$") else k): encode(v, registry) for k, v in value.items()}
        return {TAG: "map", "v": [[encode(k, registry), encode(v, registry)] for k, v in value.items()]}
    if t is list:
        return [encode(v, registry) for v in value]
    if t is tuple:
        return {TAG: "tuple", "v": [encode(v, registry) for v in value]}
    if t is set or t is frozenset:
        return {TAG: "set", "v": [encode(v, registry) for v in value]}
    if t is dt.datetime:
        return {TAG: "datetime", "v": value.isoformat()}
    if t is dt.date:
        return {TAG: "date", "v": value.isoformat()}
    if t is dt.time:
        return {TAG: "time", "v": value.isoformat()}
    if t is dt.timedelta:
        return {TAG: "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    if t is decimal.Decimal:
        return {TAG: "decimal", "v": str(value)}
    if t is UUID:
        return {TAG: "uuid", "v": str(value)}
    if registry is not None and t in registry.typenames:
        return {TAG: "spiff", "v": registry.convert(value)}
    if isinstance(value, dict):
        return encode(dict(value), registry)
    if isinstance(value, (list, tuple)):
        return encode(list(value), registry)
    raise StateError(f"a value of type {t.__name__} cannot be stored in case data")


_DECODERS = {
    "float": float,
    "map": lambda v: {k: x for k, x in v},
    "tuple": tuple,
    "set": set,
    "datetime": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
    "timedelta": lambda v: dt.timedelta(days=v[0], seconds=v[1], microseconds=v[2]),
    "decimal": decimal.Decimal,
    "uuid": UUID,
}


def _hook(registry):
    def hook(d):
        kind = d.get(TAG)
        if kind is not None and len(d) == 2 and "v" in d:
            if kind == "spiff":
                return registry.restore(d["v"])
            return _DECODERS[kind](d["v"])
        if any(k.startswith("$") for k in d):
            return {(k[1:] if k.startswith("$") else k): v for k, v in d.items()}
        return d
    return hook


def _clean(data: dict) -> dict:
    # SpiffWorkflow leaves callables and modules in data only by accident; never store them.
    return {k: v for k, v in data.items() if not callable(v)}


# ---------------------------------------------------------------------------------------
# Writing is plain functions (`dumps`); reading uses SpiffWorkflow's converters, with data
# through the codec and the spec handed in.

_SIDS: dict = {}


def sid(uuid) -> str:
    """str(uuid), remembered: a case's task ids are written at every save. Keyed by the
    UUID's integer, whose hash is C code (a UUID's own __hash__ is a Python call)."""
    key = uuid.int
    s = _SIDS.get(key)
    if s is None:
        if len(_SIDS) > 200_000:
            _SIDS.clear()
        s = _SIDS[key] = str(uuid)
    return s


def _task_dict(task, registry) -> dict:
    parent = task.parent
    td = task.data
    if parent is None:
        data, delta = (encode(_clean(td), registry) if td else {}), {}
    else:
        data = {}
        pd = parent.data
        if not td:
            delta = {"deletions": list(pd)} if pd else {}
        else:
            updates = {k: v for k, v in td.items() if k not in pd or pd[k] != v}
            deletions = [k for k in pd if k not in td]
            delta = {"updates": encode(_clean(updates), registry), "deletions": deletions} \
                if updates or deletions else {}
    return {
        "id": sid(task.id),
        "parent": sid(task._parent) if parent is not None else None,
        "children": [sid(c) for c in task._children],
        "last_state_change": task.last_state_change,
        "state": task._state,
        "task_spec": task.task_spec.name,
        "triggered": task.triggered,
        "internal_data": encode(task.internal_data, registry) if task.internal_data else {},
        "data": data,
        "delta": delta,
        "typename": "Task",
    }


class _TaskConverter(TaskConverter):
    def to_dict(self, task):
        return _task_dict(task, self.registry)

    def from_dict(self, dct, workflow):
        from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent

        task_spec = workflow.spec.task_specs.get(dct["task_spec"])
        if task_spec is None:
            raise StateError(f"the case's state names task '{dct['task_spec']}', which its version does not have")
        task = Task(workflow, task_spec, state=dct["state"], id=UUID(dct["id"]))
        task._parent = UUID(dct["parent"]) if dct["parent"] is not None else None
        task._children = [UUID(c) for c in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        task.internal_data = dct["internal_data"]
        if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            task.workflow.top_workflow.event_manager.add_task(task)
        parent = task.parent
        delta = dct.get("delta")
        if parent is not None and not dct["data"]:
            data = DeepMerge.merge({}, parent.data)
            if delta:
                data.update(delta.get("updates", {}))
                for key in delta.get("deletions", ()):
                    data.pop(key, None)
        else:
            data = dct["data"]
        task.data = data
        return task


def _workflow_attrs(workflow) -> dict:
    return {
        "data": encode(_clean(workflow.data), _REGISTRY) if workflow.data else {},
        "correlations": encode(workflow.correlations, _REGISTRY) if workflow.correlations else {},
        "last_task": sid(workflow.last_task.id) if workflow.last_task is not None and
        workflow.last_task.id in workflow.tasks else None,
        "success": workflow.success,
        "completed": workflow.completed,
        "tasks": {sid(k): _task_dict(v, _REGISTRY) for k, v in workflow.tasks.items()},
        "root": sid(workflow.task_tree.id),
    }


def _restore_attrs(workflow, dct) -> None:
    workflow.success = dct["success"]
    workflow.completed = dct.get("completed", False)
    workflow.correlations = dct.get("correlations") or {}
    workflow.last_task = workflow.tasks.get(UUID(dct["last_task"])) if dct.get("last_task") else None
    workflow.data = dct.get("data") or {}


def _restore_tasks(converter, workflow, tasks: dict) -> None:
    # Parents before children, whatever order the mapping has.
    workflow.tasks = {}
    pending = dict(tasks)
    done: set[str] = set()
    while pending:
        progressed = False
        for key in list(pending):
            parent = pending[key]["parent"]
            if parent is None or parent in done:
                converter.registry.restore(pending.pop(key), workflow=workflow)
                done.add(key)
                progressed = True
        if not progressed:
            raise StateError("the case's task tree is inconsistent")


def _workflow_dict(workflow: BpmnWorkflow) -> dict:
    """The top workflow as a dict, in the shape the converters below restore."""
    dct = _workflow_attrs(workflow)
    subs = {}
    for k, sub in workflow.subprocesses.items():
        d = _workflow_attrs(sub)
        d["parent_task_id"] = str(sub.parent_task_id)
        d["spec"] = sub.spec.name
        d["typename"] = "BpmnSubWorkflow"
        subs[str(k)] = d
    dct["subprocesses"] = subs
    dct["bpmn_events"] = encode(workflow.bpmn_events, _REGISTRY) if workflow.bpmn_events else []
    dct["typename"] = "BpmnWorkflow"
    return dct


class _SubWorkflowConverter(BpmnSubWorkflowConverter):
    def to_dict(self, workflow):
        raise StateError("write states with state.dumps")

    def from_dict(self, dct, task, top_workflow):
        spec = top_workflow.subprocess_specs.get(task.task_spec.spec)
        sub = self.target_class(spec, task.id, top_workflow, deserializing=True)
        _restore_tasks(self, sub, dct["tasks"])
        sub.task_tree = sub.tasks.get(UUID(dct["root"]))
        _restore_attrs(sub, dct)
        return sub


class _WorkflowConverter(BpmnWorkflowConverter):
    """Restores a case's workflow around the spec it is given (the spec is not in the state)."""

    def to_dict(self, workflow):
        raise StateError("write states with state.dumps")

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        _restore_tasks(self, workflow, dct["tasks"])
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        _restore_attrs(workflow, dct)
        self.subprocesses_from_dict(dict(dct["subprocesses"]), workflow)
        workflow.bpmn_events = dct.get("bpmn_events") or []
        return workflow


def _registry():
    config = dict(CAMUNDA_CONFIG)
    config[HallMessageEventDefinition] = CAMUNDA_CONFIG[CamundaMessageEventDefinition]
    config[BpmnWorkflow] = _WorkflowConverter
    config[BpmnSubWorkflow] = _SubWorkflowConverter
    config[Task] = _TaskConverter
    return BpmnWorkflowSerializer.configure(config)


_REGISTRY = _registry()
_HOOK = _hook(_REGISTRY)


def dumps(workflow: BpmnWorkflow) -> bytes:
    """The workflow's state as LZ4-compressed JSON: a case row then fits a page. LZ4, not
    zlib: zlib at level 1 took five times as long in a loop, and about 100 µs of each
    save in a server, whose caches hold other work between saves."""
    dct = _workflow_dict(workflow)
    dct["v"] = STATE_VERSION
    try:
        raw = orjson.dumps(dct)
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits, which json handles
        raw = json.dumps(dct, separators=(",", ":"), ensure_ascii=False).encode()
    return lz4.frame.compress(raw)


_LZ4_MAGIC = b"\x04\x22\x4d\x18"  # an LZ4 frame's first bytes (a zlib stream's first is 0x?8)


def _decompress(blob: bytes) -> bytes:
    """A stored state's JSON: LZ4 frames, or zlib as states were written before."""
    return lz4.frame.decompress(blob) if blob[:4] == _LZ4_MAGIC else zlib.decompress(blob)


def to_json(blob: bytes) -> str:
    """A stored state as readable JSON (for inspection)."""
    return _decompress(blob).decode()


def task_trees(blob: bytes) -> list[tuple[str | None, dict, str]]:
    """(called process or None, {task id: task as stored}, root id) of the top workflow and
    each subprocess of a stored state, read without restoring the workflow (what a dry run
    of a move to another version looks at)."""
    raw = _decompress(blob)
    try:
        dct = orjson.loads(raw)
    except orjson.JSONDecodeError:  # an integer beyond 64 bits, which json reads
        dct = json.loads(raw)
    return [(None, dct["tasks"], dct["root"])] + [(sub["spec"], sub["tasks"], sub["root"])
                                                  for sub in dct["subprocesses"].values()]


def loads(blob: bytes, spec, subprocess_specs) -> BpmnWorkflow:
    dct = json.loads(_decompress(blob), object_hook=_HOOK)
    if dct.pop("v", None) != STATE_VERSION:
        raise StateError("unknown state format")
    dct.pop("typename", None)
    workflow = _REGISTRY.convert_from_dict["BpmnWorkflow"](dct, spec=spec, subprocess_specs=subprocess_specs)
    workflow.script_engine = HallScriptEngine()
    workflow.update_waiting_tasks = MethodType(_update_waiting_tasks, workflow)
    return workflow


def new_workflow(spec, subprocess_specs) -> BpmnWorkflow:
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=HallScriptEngine())
    workflow.update_waiting_tasks = MethodType(_update_waiting_tasks, workflow)
    return workflow


# a task that holds the case's place: ready, waiting for an event, or running a subprocess
LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


def waiting_tasks(workflow):
    """The WAITING tasks in the order TaskIterator(state=WAITING) finds them: depth first, a
    task's children as they are when it is reached, not below predicted tasks; without the
    iterator's bookkeeping."""
    tasks = workflow.tasks
    pending = [workflow.task_tree]
    while pending:
        task = pending.pop()
        if task._children and task._state >= TaskState.FUTURE:
            pending.extend(c for c in map(tasks.get, reversed(task._children)) if c is not None)
        if task._state == TaskState.WAITING:
            yield task


def _update_waiting_tasks(workflow) -> None:
    """SpiffWorkflow's Workflow.update_waiting_tasks, which runs after every task that
    completes; its iterator made it a tenth of a completion. Often nothing waits at all:
    then a look at the task map is enough."""
    if any(t._state == TaskState.WAITING for t in workflow.tasks.values()):
        for task in waiting_tasks(workflow):
            task.task_spec._update(task)


def all_tasks(workflow: BpmnWorkflow):
    """Every task of the workflow and its subprocesses, in no particular order (cheaper
    than SpiffWorkflow's tree iterator when order does not matter)."""
    yield from workflow.tasks.values()
    for sub in workflow.subprocesses.values():
        yield from sub.tasks.values()


# ---------------------------------------------------------------------------------------
# Pruning.

def _subtree(task):
    stack = [task]
    while stack:
        t = stack.pop()
        yield t
        stack.extend(t.children)


def _live(task) -> bool:
    """Does the subtree under `task` hold anything not finished (stops at the first)?"""
    return any(not t.has_state(TaskState.FINISHED_MASK) for t in _subtree(task))


def _prune_tree(wf, top: BpmnWorkflow) -> int:
    root = wf.task_tree
    dropped = []
    while root.has_state(TaskState.COMPLETED) and root._children:
        children = root.children
        live = [c for c in children if _live(c)]
        # The new root must be finished too: SpiffWorkflow updates a waiting or ready task
        # from its parent's data, so every unfinished task keeps its parent.
        if len(live) != 1 or not live[0].has_state(TaskState.COMPLETED):
            break
        keep = live[0]
        for c in children:
            if c is not keep:
                dropped.extend(_subtree(c))
        dropped.append(root)
        root = keep
    if not dropped:
        return 0
    root._parent = None
    wf.task_tree = root
    # Subprocesses first: deleting one looks up the tasks that own its nested subprocesses.
    for t in dropped:
        if t.id in top.subprocesses:
            top.delete_subprocess(t)
    for t in dropped:
        wf.tasks.pop(t.id, None)
        top.event_manager.tasks.pop(t.id, None)
    return len(dropped)


def prune(workflow: BpmnWorkflow) -> int:
    """Drop finished history from the task trees; returns how many tasks went."""
    if workflow.spec.start.trigger_specs:
        return 0  # collaborations start participants under the root: keep the tree whole
    n = _prune_tree(workflow, workflow)
    for sub in list(workflow.subprocesses.values()):
        if sub.task_tree is not None and sub.task_tree.id in sub.tasks:
            n += _prune_tree(sub, workflow)
    return n
