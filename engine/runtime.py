"""Running cases (Camunda's RuntimeService): start, act on, message, fire timers, save.

Every change to a case goes through `Runtime.act`: one transaction that locks the case,
takes its workflow (from memory when this process holds the latest revision, else from
its stored state), lets the caller change it, runs the engine on, and saves: state, the
task table, the next timer and the audit events, with the revision bumped. A failure
anywhere rolls all of it back and drops the in-memory copy.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import orjson
import sqlalchemy as sa
from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

import forms as forms_pkg
from engine import bpmn, calendar, catalogue, clock, db, history, limits, notices, scripting, state
from engine.errors import Conflict, EngineFailure, Forbidden, HallError, Invalid, NotFound
from engine.identity import APPLICANTS, FILERS, OVERSIGHT, SYSTEM, WINDOW_ROLES, Actor, only_filer
from engine.models import Case, User
from engine.store import Stale, Store, reading, transaction

log = logging.getLogger("hall.runtime")

_C = Case.__table__
CASE_ROW = sa.select(*(c for c in _C.c if c.name != "state"), User.username.label("started_by"),
                     User.display_name.label("started_by_name")).select_from(
    _C.outerjoin(User, User.id == _C.c.started_by_id))

CASE_STATUSES = ("running", "completed", "withdrawn", "terminated", "error")
CHANNELS = ("online", "counter")  # where a case is filed: the portal or the API, or a window
# an automatic step that fails is tried again after these waits, then left to a person (an incident)
RETRY_WAITS = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30))


def retry_in(attempts: int) -> dt.timedelta | None:
    """How long after its `attempts`-th failure a step is tried again; None: no more."""
    return RETRY_WAITS[attempts - 1] if attempts <= len(RETRY_WAITS) else None


def _iso(at: dt.datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


# a finished case of the catalogue not rated by then invites its applicant to rate it (好差评)
RATE_INVITE_AFTER = dt.timedelta(days=3)
MAX_REASON = 500  # characters of a reason a person gives (撤回, 终止, 挂起, a correction)


def given_reason(reason, required: bool = True) -> str | None:
    """The reason a person gave, trimmed and bounded; None for one left out that may be."""
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        if required:
            raise Invalid("a reason is required", {"reason": ["required"]})
        return None
    if len(reason) > MAX_REASON:
        raise Invalid(f"the reason is longer than {MAX_REASON} characters", {"reason": ["too long"]})
    return reason
MAX_AUTOMATIC_STEPS = 10_000
AUTOMATIC_SECONDS = 5.0  # an action's automatic steps, scripts included, end within this (plus one script's time)
MAX_CASE_DATA = 8 * 1024 * 1024  # bytes of a case's data as JSON: a script's output is bounded as a client's is


def jsonable(value):
    """Task data as plain JSON (for the case's data column and API answers)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _element_of(e: Exception) -> tuple[str | None, str]:
    """(element id, element name) that an engine exception is about."""
    task = getattr(e, "task", None)
    spec = getattr(task, "task_spec", None) or getattr(e, "task_spec", None)
    if spec is None:
        return None, ""
    return getattr(spec, "bpmn_id", None) or spec.name, getattr(spec, "bpmn_name", None) or ""


def engine_failure(e: Exception) -> EngineFailure:
    if isinstance(e, EngineFailure):
        return e
    element_id, name = _element_of(e)
    cause = e
    while getattr(cause, "error", None) is not None and cause.error is not cause:  # unwrap Spiff wrappers
        cause = cause.error
    detail = str(e) if not isinstance(e, scripting.ScriptLimitExceeded) else f"{e}"
    where = f"{name or element_id}: " if element_id else ""
    return EngineFailure(f"{where}{detail}", element_id)


# a case row's columns that indexes hold, or that change seldom (the version, on a move):
# written only when they change (see Store.update_case)
STORED = ("status", "next_timer_at", "calendar_revision", "due_note", "accepted_at", "ended_at", "due_at",
          "rate_invite_at", "end_element", "workdays_taken", "version_id", "version")


@dataclass
class Action:
    """One change to one case, in progress."""

    store: Store
    case: SimpleNamespace
    wf: object
    actor: Actor
    now: dt.datetime
    bundle: bpmn.Bundle
    open_tasks: dict  # spiff id -> (task row id, element id) of the case's open task rows
    events: list = field(default_factory=list)
    completed: set = field(default_factory=set)  # task row ids completed by this action
    began: float = field(default_factory=time.time)  # SpiffWorkflow's clock: what changed since
    notifications: list = field(default_factory=list)
    accountability: list = field(default_factory=list)
    worked: SimpleNamespace | None = None  # the task row a person completes in this action
    pause: str | None = None  # a person stops the clock for this reason
    resume: bool = False  # a person starts it again
    recounted: bool = False  # the case was behind the calendar: its deadlines were counted again first
    ending: tuple[str, dict] | None = None  # (status, detail): the case is ended so (withdrawn), not completed
    issue: list = field(default_factory=list)  # the notices (通知书) the case reached: issued with the save
    stored: dict = field(init=False)  # the case row's indexed columns as stored

    def __post_init__(self):
        self.stored = {k: getattr(self.case, k) for k in STORED}

    def due_of(self, task) -> dt.datetime | None:
        """A task row's due date as this action sees it (read before the action, it may
        have been counted again since: `Runtime._catch_up`)."""
        if not self.recounted:
            return task.due_at
        row = self.store.task(task.id)
        return row["due_at"] if row is not None else task.due_at

    def log(self, action: str, element_id=None, task_id=None, detail=None, actor: str | None = None):
        self.events.append(history.event(self.case.id, actor or self.actor.username, action, element_id, task_id,
                                         self.case.process_id, detail, self.now))


class Runtime:
    def __init__(self, session, bind, repository, forms, cache_size: int = 2000,
                 policy: limits.Policy | None = None):
        self.session = session
        self.bind = bind
        self.policy = policy or limits.Policy()
        self.repository = repository
        self.forms = forms
        # case id -> (revision, workflow, open tasks) for cases this process acted on last
        self._cache: OrderedDict[int, tuple] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        # what a hall service keeps beside the cases of its own process (engine.complaints,
        # engine.visits): called as each such case is saved, in the action's transaction
        self.listeners: dict[str, Callable[[Action], None]] = {}
        # who may see a case of such a process, beyond the rule for every case
        self.guards: dict[str, Callable[[Actor, Any], bool]] = {}

    # ---------------------------------------------------------------------------------
    # in-memory workflows

    def _take(self, case_id: int):
        with self._lock:
            return self._cache.pop(case_id, None)

    def _keep(self, act: Action) -> None:
        if act.case.status != "running":
            return
        with self._lock:
            self._cache[act.case.id] = (act.case.revision, act.wf, act.open_tasks, act.case)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def forget(self, case_id: int) -> None:
        with self._lock:
            self._cache.pop(case_id, None)

    # ---------------------------------------------------------------------------------
    # starting

    def start_form(self, bundle: bpmn.Bundle):
        return form_schema(self.forms, bundle.start_form)

    def start(self, actor: Actor, process_id: str | None, data, read: Callable[[Store, int], Any] | None = None,
              key: str | None = None, item: str | None = None, channel: str = "online",
              enterprise_id: int | None = None, applicant_id: int | None = None):
        """Start a case of the process's latest version; returns the case, or with `read`,
        what `read(store, case_id)` gives (see `act`). With `key` (a client's Idempotency-Key),
        a start the actor already made with that key is answered with its case, not made again.

        With `item` (a catalogue item's code) the case is filed under that item's latest
        version and runs its process: the item's terms decide its limit and whether it is a
        即办件. `channel` is where it is filed: "online" (网上预审 first) or "counter" (a window
        clerk takes in a walk-in applicant). `enterprise_id` is the enterprise the case is for:
        an enterprise's own account files for itself, an agent or a clerk for the one named.
        `applicant_id` is, for a case the system starts for someone (a 差评's 整改), the person
        it answers: the case is theirs to follow, as if they had filed it."""
        if applicant_id is not None and "system" not in actor.roles:
            raise Forbidden("only the hall itself starts a case for someone else")
        if enterprise_id is None:
            enterprise_id = actor.enterprise_id
        elif actor.enterprise_id is not None and enterprise_id != actor.enterprise_id:
            raise Forbidden("an enterprise's account files for that enterprise only")
        if item is None and (not isinstance(process_id, str) or not process_id):
            raise Invalid("process_id or item is required", {"process_id": ["required"]})
        if item is not None and not (isinstance(item, str) and catalogue.CODE.match(item)):
            raise Invalid("item must be an item's code", {"item": ["an item's code"]})
        if channel not in CHANNELS:
            raise Invalid(f"channel must be one of {', '.join(CHANNELS)}",
                          {"channel": [f"one of {', '.join(CHANNELS)}"]})
        if channel == "counter" and not actor.has(*WINDOW_ROLES):
            raise Forbidden("only the hall's staff take in cases at the counter")
        if key is not None and not (isinstance(key, str) and 1 <= len(key) <= 128 and key.isprintable()):
            raise Invalid("Idempotency-Key must be 1 to 128 printable characters",
                          {"Idempotency-Key": ["1 to 128 printable characters"]})
        asked = hashlib.sha256(json.dumps([process_id, data, item, channel, enterprise_id], sort_keys=True,
                                          default=str).encode()).hexdigest() if key is not None else None
        filing = (item, channel, enterprise_id, applicant_id)
        try:
            return self._start(actor, process_id, data, read, key, asked, filing)
        except Exception as e:
            if key is None or actor.id is None or not db.unique_violation(e):
                raise
            return self._start(actor, process_id, data, read, key, asked, filing)  # made meanwhile: its case

    def _start(self, actor: Actor, process_id: str | None, data, read, key: str | None, asked: str | None,
               filing: tuple[str | None, str, int | None]):
        item_code, channel, enterprise_id, applicant_id = filing
        with transaction(self.session, self.bind) as st:
            if key is not None and actor.id is not None:
                earlier = st.started_with(actor.id, key)
                if earlier is not None:
                    case_id, request = earlier
                    if request != asked:
                        raise Invalid("this Idempotency-Key was used for another request",
                                      {"Idempotency-Key": ["used for another request"]})
                    return read(st, case_id) if read is not None else st.case_view(case_id)
            item = self._item(st, item_code, process_id, channel) if item_code is not None else None
            if item is not None:
                process_id = item.process_id
            pv = st.latest_version(process_id)
            if pv is None:
                raise NotFound(f"no process '{process_id}'")
            if not self.repository.may_start(actor, pv):
                raise Forbidden(f"you may not start '{pv.name}'")
            bundle = self.repository.bundle(pv.id)
            data = validate_form(self.start_form(bundle), data if data is not None else {})
            # what the diagram reads of the filing, set here whatever the form let through
            data["item"] = catalogue.case_terms(item) if item is not None else None
            data["channel"] = channel
            now = clock.now()
            wf = state.new_workflow(bundle.spec, bundle.subprocess_specs)
            wf.task_tree.data.update(data)  # a new workflow's one READY task is its root (Spiff's Workflow())
            day = now.astimezone(clock.HALL_TZ).strftime("%Y%m%d")
            case = {
                "number": f"{pv.case_prefix}-{day}-{st.next_number(pv.case_prefix, day):05d}",
                "process_id": pv.process_id, "version_id": pv.id, "version": pv.version, "status": "running",
                "title": self._title(bundle, data), "started_by_id": applicant_id or actor.id,
                "created_at": now,
                "updated_at": now, "ended_at": None, "revision": 0, "state": b"", "data": jsonable(data),
                "next_timer_at": None, "error": None, "visited": [], "paused_since": None, "paused_reason": None,
                "paused_element": None, "waiting": [], "item_id": item.id if item is not None else None,
                "channel": channel, "enterprise_id": enterprise_id, "rate_invite_at": None,
                "suspended_at": None, "suspended_reason": None,
            }
            case["due_at"] = None if bundle.time_limit_from else self._case_due(bundle, data, now)
            case["accepted_at"] = None if bundle.time_limit_from else now  # 受理 at the start, without one
            case["end_element"] = case["workdays_taken"] = None
            case["due_note"] = calendar.current().due_note(case["due_at"])
            case["calendar_revision"] = calendar.revision()
            case["id"] = st.insert_case(case)
            if key is not None and actor.id is not None:
                st.keep_start_key(actor.id, key, asked, case["id"], now)
            act = Action(st, SimpleNamespace(**case), wf, actor, now, bundle, {})
            act.log("started", detail={"version": pv.version, "channel": channel,
                                       **({"item": item.code, "item_version": item.version} if item else {})})
            self._advance(act)
            self._save(act)
            shown = read(st, act.case.id) if read is not None else act.case
        self._keep(act)
        return shown

    @staticmethod
    def _item(st: Store, code: str, process_id: str | None, channel: str):
        """The latest version of the item a case is filed under, if a case may be filed so."""
        item = st.latest_item(code)
        if item is None:
            raise NotFound(f"no item '{code}' in the catalogue")
        if item.process_id is None:
            raise Invalid(f"item {code} is not handled by a process of the hall", {"item": ["no process"]})
        if process_id is not None and process_id != item.process_id:
            raise Invalid(f"item {code} is handled by process {item.process_id}, not {process_id}",
                          {"process_id": [f"item {code} is handled by {item.process_id}"]})
        if channel == "online" and not item.online:
            raise Invalid(f"item {code} is not filed online: the applicant brings it to the window",
                          {"item": ["not filed online"]})
        return item

    @staticmethod
    def _case_due(bundle: bpmn.Bundle, data: dict, now: dt.datetime) -> dt.datetime | None:
        """The case's committed limit: its item's promised working days (承诺时限) when it was
        filed under one, else `caseTimeLimit` working days (an expression over the start
        data); 0 = 即办件, due the same working day."""
        item = data.get("item")
        if isinstance(item, dict) and isinstance(item.get("promised_days"), int):
            return calendar.current().add_workdays(now, item["promised_days"])
        if not bundle.time_limit_expression:
            return None
        try:
            days = scripting.evaluate(bundle.time_limit_expression, data)
        except (Exception, scripting.ScriptLimitExceeded) as e:
            raise EngineFailure(f"caseTimeLimit: {e}") from e
        if days is None:
            return None
        try:
            return calendar.current().add_workdays(now, int(days))
        except (TypeError, ValueError) as e:
            raise EngineFailure(f"caseTimeLimit gave {days!r}, not a number of working days") from e

    @staticmethod
    def _title(bundle: bpmn.Bundle, data: dict) -> str | None:
        if not bundle.title_expression:
            return None
        try:
            value = scripting.evaluate(bundle.title_expression, data)
        except (Exception, scripting.ScriptLimitExceeded):
            return None
        return str(value)[:256] if value not in (None, "") else None

    # ---------------------------------------------------------------------------------
    # acting on a case

    def _load(self, st: Store, case_id: int):
        """(case, workflow) from the database, the case row locked."""
        row = st.load_case(case_id)
        if row is None:
            raise NotFound(f"no case {case_id}")
        case = SimpleNamespace(**row)
        if case.status != "running":
            return case, None
        bundle = self.repository.bundle(case.version_id)
        return case, state.loads(case.state, bundle.spec, bundle.subprocess_specs)

    def act(self, actor: Actor, change: Callable[[Action], None], case_id: int | None = None,
            locate: Callable[[Store], int] | None = None, read: Callable[[Store, int], Any] | None = None,
            while_suspended: bool = False):
        """Run `change(action)` on a case and save; one transaction. Returns the case, or
        with `read`, what `read(store, case_id)` gives, read in that same transaction after
        the save: exactly what the action left, without a second transaction to read it.

        The case is `case_id`, or what `locate(store)` finds inside the transaction (for a
        caller that knows a task). The workflow comes from memory when this process holds
        the case's latest revision; if another process changed the case meanwhile, the save
        finds out (revision check), everything is rolled back and it all runs again on the
        fresh state.

        A suspended case (挂起) takes no action but one `while_suspended` (activate, terminate)."""
        for _ in range(3):
            try:
                with transaction(self.session, self.bind, follow=False) as st:
                    cid = case_id if locate is None else locate(st)
                    revision = st.lock_case(cid)  # and the calendar in force read with it
                    if revision is None:
                        raise NotFound(f"no case {cid}")
                    cached = self._take(cid)
                    if cached is not None and cached[0] == revision:
                        _, wf, open_tasks, case = cached
                    else:
                        case, wf = self._load(st, cid)
                        open_tasks = None
                    if case.status != "running":
                        raise Conflict(f"case {case.number} is {case.status}")
                    if case.suspended_at is not None and not while_suspended:
                        raise Conflict(f"case {case.number} is suspended (挂起): nothing is done on it till it is "
                                       "activated")
                    if open_tasks is None:
                        open_tasks = {sid: (tid, el) for tid, sid, el in st.open_tasks(case.id)}
                    act = Action(st, case, wf, actor, clock.now(), self.repository.bundle(case.version_id),
                                 open_tasks)
                    self._catch_up(act)
                    change(act)
                    self._advance(act)
                    self._save(act)
                    shown = read(st, act.case.id) if read is not None else act.case
            except Stale:
                continue
            except Exception as e:
                if db.retryable(e):
                    continue
                raise
            self._keep(act)
            return shown
        raise Conflict("the case is changing too fast; try again")

    def _advance(self, act: Action) -> None:
        """Run every automatic step; a timer that fires meanwhile is run on too."""
        wf = act.wf
        steps = 0
        deadline = time.monotonic() + AUTOMATIC_SECONDS

        def count(task):
            nonlocal steps
            steps += 1
            if steps > MAX_AUTOMATIC_STEPS:
                raise EngineFailure(
                    f"more than {MAX_AUTOMATIC_STEPS} automatic steps without waiting for anyone: "
                    "an endless loop in the diagram?", task.task_spec.bpmn_id)
            if not steps & 15 and time.monotonic() > deadline:
                raise EngineFailure(f"the automatic steps ran longer than {AUTOMATIC_SECONDS:g} s",
                                    task.task_spec.bpmn_id)

        try:
            for _ in range(1000):
                engine_steps(wf, count)
                if not any(t._state == TaskState.READY and not t.task_spec.manual for t in state.all_tasks(wf)):
                    break
        except (Exception, scripting.ScriptLimitExceeded) as e:
            raise engine_failure(e) from e

    def _save(self, act: Action) -> None:
        case, wf, now = act.case, act.wf, act.now
        passed = sorted((t for t in state.all_tasks(wf) if t._state == TaskState.COMPLETED
                         and t.last_state_change >= act.began and t.task_spec.bpmn_id in act.bundle.elements),
                        key=lambda t: t.last_state_change)
        if passed:
            seen = set(case.visited)
            case.visited = case.visited + [e for e in dict.fromkeys(t.task_spec.bpmn_id for t in passed)
                                           if e not in seen]
            self._rejections(act, passed)
            start = act.bundle.time_limit_from
            if start and case.due_at is None and any(t.task_spec.bpmn_id == start for t in passed):
                case.due_at = self._case_due(act.bundle, case_data(wf), now)  # 受理: the statutory count starts
            if start and case.accepted_at is None and any(t.task_spec.bpmn_id == start for t in passed):
                case.accepted_at = now
        if act.bundle.notices:
            # an element is reached when it is passed; an event that waits, when it starts waiting
            reached = {t.task_spec.bpmn_id for t in state.all_tasks(wf) if t.last_state_change >= act.began and (
                t._state == TaskState.WAITING if isinstance(t.task_spec, CatchingEvent)
                else t._state == TaskState.COMPLETED)}
            act.issue = [kind for kind in bpmn.NOTICE_KINDS
                         if any(act.bundle.notices.get(e) == kind for e in reached)]
        self._run_clock(act)
        state.prune(wf)
        self._sync_tasks(act)
        if act.bundle.external:
            self._sync_external(act)
        expected = case.revision
        waited = set(case.waiting or [])
        if act.ending is not None:  # what it held stays its data
            case.status, detail = act.ending
            case.ended_at = now
            act.log(case.status, detail=detail)
        elif wf.completed:
            case.status = "completed"
            case.ended_at = now
            if case.item_id is not None:  # a service of the catalogue: its applicant is asked to rate it
                case.rate_invite_at = now + RATE_INVITE_AFTER
            case.data = jsonable(wf.data)
            end = _end_reached(wf)
            case.end_element = end.task_spec.bpmn_id if end else None
            if case.accepted_at is not None:  # 办理用时, for the statistics
                cal = calendar.current()
                case.workdays_taken = round(cal.working_seconds(case.accepted_at, now) / cal.day_seconds, 3)
            act.log("ended", end.task_spec.bpmn_id if end else None, actor="system",
                    detail={"name": end.task_spec.bpmn_name} if end else None)
        else:
            case.data = jsonable(case_data(wf))
        if _json_size(case.data) > MAX_CASE_DATA:
            raise EngineFailure(f"the case's data would be larger than {MAX_CASE_DATA // (1024 * 1024)} MiB")
        case.waiting = [] if wf.completed else sorted(waiting_messages(wf))
        self._tell_applicant(act, [w for w in case.waiting if w not in waited])
        if (listener := self.listeners.get(case.process_id)) is not None:
            listener(act)
        limits.stamp_armed(wf, now)
        case.due_note = calendar.current().due_note(case.due_at)
        case.calendar_revision = calendar.revision()
        case.next_timer_at = None if case.suspended_at is not None else next_timer(wf, now)
        case.state = state.dumps(wf)
        case.updated_at = now
        case.revision = expected + 1
        act.store.update_case(vars(case), expected, act.stored)
        if act.issue:
            act.store.insert_notices([notices.issued(case, kind, act.actor.username, now) for kind in act.issue])
            for kind in act.issue:
                act.log("notice_issued", detail={"kind": kind, "title": notices.KINDS[kind]})
        act.store.insert_events(act.events)
        act.store.insert_notifications(act.notifications)
        act.store.insert_accountability(act.accountability)
        history.log_events(act.events)
        case.open_task_ids = sorted(tid for tid, _ in act.open_tasks.values())

    @staticmethod
    def _tell_applicant(act: Action, asked: list[str]) -> None:
        """The applicant hears when the case waits for them (补正材料, 重新提交) and when it is
        done: its filer (an enterprise or an agent, not a clerk who took it in at the window)
        and the accounts of the enterprise it is for, in 企业之家 and by SMS where a sender is
        set up; not who caused it."""
        case = act.case
        said = [f"办件 {case.number} 需要您{name}" for name in asked]
        if case.status == "completed" and act.stored["status"] == "running":
            said.append(f"办件 {case.number} 已办结")
        if not said:
            return
        to = [uid for uid in applicants(act.store, case) if uid != act.actor.id]
        act.notifications.extend({"user_id": uid, "kind": "applicant", "case_id": case.id, "task_id": None,
                                  "message": m, "created_at": act.now} for uid in to for m in said)

    @staticmethod
    def _sync_external(act: Action) -> None:
        """A row per external task waiting for its worker (engine.external); gone once done or cancelled."""
        started = {state.sid(t.id): t for t in state.all_tasks(act.wf)
                   if t._state == TaskState.STARTED and isinstance(t.task_spec, bpmn.HallExternalTask)}
        have = act.store.external_ids(act.case.id)
        act.store.delete_external(act.case.id, [sid for sid in have if sid not in started])
        new = [(sid, t) for sid, t in started.items() if sid not in have]
        act.store.insert_external([{
            "case_id": act.case.id, "spiff_id": sid, "process_id": act.case.process_id,
            "element_id": t.task_spec.bpmn_id, "topic": t.task_spec.topic, "status": "open", "created_at": act.now,
            "worker_id": None, "lock_expires_at": None, "retries": None, "error_message": None} for sid, t in new])
        for _, t in new:
            act.log("external_task", t.task_spec.bpmn_id, actor="system", detail={"topic": t.task_spec.topic})

    def _sync_tasks(self, act: Action) -> None:
        """Make the task table say what the workflow says: a row per READY human task."""
        st, wf, now, open_tasks = act.store, act.wf, act.now, act.open_tasks
        ready = {state.sid(t.id): t for t in state.all_tasks(wf)
                 if t._state == TaskState.READY and t.task_spec.manual}
        for sid in [sid for sid, (tid, _) in open_tasks.items() if tid in act.completed]:
            del open_tasks[sid]
        gone = [(sid, tid, el) for sid, (tid, el) in open_tasks.items() if sid not in ready]
        if gone:
            st.cancel_tasks([tid for _, tid, _ in gone], now)
            for sid, tid, el in gone:
                del open_tasks[sid]
                act.log("task_cancelled", el, tid, actor="system")
        new = [t for sid, t in ready.items() if sid not in open_tasks]
        if not new:
            return
        rows, wanted = zip(*(self._task_row(act, t) for t in new), strict=True)
        names = {w for w in wanted if w}
        user_ids = st.user_ids(names) if names else {}
        members = st.group_members({g for r in rows for g in r["candidate_groups"]})
        for r, w in zip(rows, wanted, strict=True):
            r["assignee_id"] = user_ids.get(w) if w else None
            if APPLICANTS in r["candidate_groups"]:  # the case's applicant's alone, whatever the diagram says
                r["assignee_id"] = act.case.started_by_id
            r["claimed_at"] = now if r["assignee_id"] else None
        queue = []
        for r, w, task_id in zip(rows, wanted, st.insert_tasks(list(rows)), strict=True):
            open_tasks[r["spiff_id"]] = (task_id, r["element_id"])
            detail = {"name": r["name"]}
            if w and r["assignee_id"] is None:
                detail["unknown_assignee"] = w  # left to its groups; the history says why
            act.log("task_created", r["element_id"], task_id, detail=detail, actor="system")
            people = [r["assignee_id"]] if r["assignee_id"] else sorted(
                {u for g in r["candidate_groups"] for u in members.get(g, [])})
            act.notifications.extend({"user_id": u, "kind": "new_task", "case_id": act.case.id, "task_id": task_id,
                                      "message": f"新待办：{r['case_number']}「{r['name']}」", "created_at": now}
                                     for u in people if u != act.actor.id)
            if r["assignee_id"] is None:
                queue.extend((g, r["due_at"], now, task_id) for g in r["candidate_groups"])
        if queue:
            st.enqueue(queue)

    def _task_row(self, act: Action, t) -> tuple[dict, str | None]:
        """The task table row for a READY Spiff task, and the username it is assigned to."""
        spec = t.task_spec
        groups = _expression_list(getattr(spec, "candidate_groups", None), t)
        if not groups and spec.lane:
            groups = [spec.lane]
        assignee = _expression_list(getattr(spec, "assignee", None), t)
        form = getattr(spec, "form", None)
        due, note = self._task_due(t, act.now)
        warning, next_alert = limits.alert_state(calendar.current(), self.policy, due, act.now, 0)
        return {
            "case_id": act.case.id, "spiff_id": state.sid(t.id), "process_id": act.case.process_id,
            "case_number": act.case.number, "case_title": act.case.title, "element_id": spec.bpmn_id,
            "name": (spec.bpmn_name or spec.bpmn_id)[:256], "lane": spec.lane, "candidate_groups": groups,
            "status": "open", "form_key": (form.key or None) if form is not None else None,
            "created_at": act.now, "due_at": due, "due_note": note, "warning": warning, "escalation": 0,
            "next_alert_at": None if act.case.paused_since else next_alert,
            "context": _instance_context(t),
        }, (assignee[0] if assignee else None)

    @staticmethod
    def _task_due(t, now: dt.datetime) -> tuple[dt.datetime | None, str | None]:
        """(due date, note): the task's dueDate, else its boundary timer's time; the note
        "calendar:YEAR" when the date lies in a year counted provisionally."""
        due = _due_at(getattr(t.task_spec, "due_date", None), t, now) or limits.boundary_due(t)
        return due, calendar.current().due_note(due)

    def _run_clock(self, act: Action) -> None:
        """Stop or start the case's clock as the case (or a person) says."""
        case, wf, now = act.case, act.wf, act.now
        stop = limits.clock_stop(wf)
        if act.resume:
            manual = None
        elif act.pause:
            manual = (act.pause, None)
        elif case.paused_since is not None and case.paused_element is None:
            manual = (case.paused_reason, None)
        else:
            manual = None
        want = stop or manual
        if want and case.paused_since is None:
            reason, element = want
            case.paused_since, case.paused_reason, case.paused_element = now, reason, element
            limits.hold_timers(wf, element)
            act.store.start_pause(case.id, reason, element, now, act.actor.username)
            act.store.silence_alerts(case.id)
            act.log("clock_stopped", element, detail={"reason": reason})
        elif not want and case.paused_since is not None:
            cal = calendar.current()
            days = cal.workdays_between(case.paused_since, now)
            limits.release_timers(wf, cal, days)
            for t in act.store.open_dues(case.id):
                due = t.due_at
                if due is not None and due > case.paused_since:
                    due = cal.shift_workdays(due, days)
                warning, next_alert = limits.alert_state(cal, self.policy, due, now, 0)
                act.store.set_task_due(t.id, due, warning, 0, next_alert, cal.due_note(due))
            if case.due_at is not None:
                case.due_at = cal.shift_workdays(case.due_at, days)
            act.store.end_pause(case.id, now, act.actor.username, cal.working_seconds(case.paused_since, now), days)
            act.log("clock_resumed", case.paused_element, detail={"reason": case.paused_reason, "workdays": days})
            case.paused_since = case.paused_reason = case.paused_element = None

    def _rejections(self, act: Action, passed) -> None:
        """An element marked `accountability` = rejection that the case passed leaves a record,
        against the department of the task whose completion led there (else the element's lane)."""
        for t in passed:
            ext = getattr(t.task_spec, "extensions", None) or {}
            if ext.get("accountability") != "rejection":
                continue
            reason = t.data.get(ext["accountabilityReason"]) if ext.get("accountabilityReason") else None
            act.accountability.append({
                "case_id": act.case.id, "task_id": act.worked.id if act.worked else None, "kind": "rejection",
                "department": limits.department(act.worked) if act.worked else t.task_spec.lane,
                "person": act.actor.username, "days_over": None,
                "reason": str(reason) if reason else (t.task_spec.bpmn_name or t.task_spec.bpmn_id), "at": act.now})

    # ---------------------------------------------------------------------------------
    # messages and timers

    def message(self, actor: Actor, case_id: int, name: str, data, read: Callable[[Store, int], Any] | None = None):
        """Deliver message `name` with `data` to a case that waits for it: the applicant's
        own (补正材料, 重新提交), or hall staff at the window for a walk-in applicant. The
        data is checked with the message's form (`messageForm`) when it has one."""
        if data is not None and not isinstance(data, dict):
            raise Invalid("data must be a JSON object", {"data": ["must be a JSON object"]})
        case = self.visible_case(actor, case_id)
        if not actor.has(*WINDOW_ROLES, *FILERS):
            raise Forbidden("your role may not send messages to cases")
        if case.status != "running":
            raise Conflict(f"case {case.number} is {case.status}")
        form = self.repository.bundle(case.version_id).message_form(name)

        def deliver(act: Action) -> None:
            waiting = waiting_messages(act.wf)
            if name not in waiting:
                raise Conflict(f"case {act.case.number} is not waiting for message '{name}'"
                               + (f" (waiting for: {', '.join(sorted(waiting))})" if waiting else ""))
            values = dict(data or {}) if form is None else validate_form(self.forms.get(form), data or {})
            event = BpmnEvent(bpmn.HallMessageEventDefinition(name), payload={"payload": values})
            try:
                act.wf.send_event(event)
            except WorkflowException as e:
                raise Conflict(str(e)) from e
            except (Exception, scripting.ScriptLimitExceeded) as e:
                raise engine_failure(e) from e
            act.log("message_received", detail={"message": name, "data": jsonable(values)})

        return self.act(actor, deliver, case_id=case_id, read=read)

    def withdraw(self, actor: Actor, case_id: int, reason: str | None = None,
                 read: Callable[[Store, int], Any] | None = None):
        """撤回: the applicant takes back a case before the window accepts it (受理: before it
        passes its process's `caseTimeLimitFrom` element), or the window records that a
        walk-in applicant did. Its open tasks and timers end; the history keeps it."""
        case = self.visible_case(actor, case_id)
        if not (actor.has(*WINDOW_ROLES) or (actor.is_applicant_only and actor.owns(case))):
            raise Forbidden("a case is withdrawn by its applicant, or at the window")
        reason = given_reason(reason, required=False)
        accepted_at = self.repository.bundle(case.version_id).time_limit_from
        if accepted_at is None:
            raise Conflict(f"a case of {case.process_id} is not withdrawn: it has no 受理 to come before")

        def take_back(act: Action) -> None:
            if accepted_at in act.case.visited:
                raise Conflict(f"case {act.case.number} is accepted (受理): it can no longer be withdrawn")
            act.wf.cancel()
            act.ending = ("withdrawn", {"reason": reason} if reason else None)

        return self.act(actor, take_back, case_id=case_id, read=read)

    def terminate(self, actor: Actor, case_id: int, reason, read: Callable[[Store, int], Any] | None = None,
                  by_keeper: bool = False):
        """终止: a coordinator or the director stops a case at any time, with a reason (as does
        a process owner, `by_keeper`, a case whose incident cannot be put right). Its open
        tasks and timers end; the history keeps it; it is not undone."""
        reason = self._coordinators_reason(actor, reason, "terminated", by_keeper)

        def stop(act: Action) -> None:
            act.wf.cancel()
            act.ending = ("terminated", {"reason": reason})

        return self.act(actor, stop, case_id=case_id, read=read, while_suspended=True)

    def suspend(self, actor: Actor, case_id: int, reason, read: Callable[[Store, int], Any] | None = None):
        """挂起: a coordinator or the director holds a case: none of its tasks is worked and
        none of its timers fires till it is activated again. (Not the clock stop of a special
        procedure: its limits count on.)"""
        reason = self._coordinators_reason(actor, reason, "suspended")

        def hold(act: Action) -> None:
            if act.case.suspended_at is not None:
                raise Conflict(f"case {act.case.number} is suspended already")
            act.case.suspended_at, act.case.suspended_reason = act.now, reason
            act.log("suspended", detail={"reason": reason})

        return self.act(actor, hold, case_id=case_id, read=read, while_suspended=True)

    def activate(self, actor: Actor, case_id: int, read: Callable[[Store, int], Any] | None = None):
        """恢复办理: a suspended case goes on; what fell due meanwhile fires, once, as it does.
        (Not `Deadlines.resume`, which restarts a case's stopped clock.)"""
        if not actor.has("coordinator", "director"):
            raise Forbidden("cases are suspended and activated by a coordinator or the director")

        def release(act: Action) -> None:
            if act.case.suspended_at is None:
                raise Conflict(f"case {act.case.number} is not suspended")
            act.log("activated", detail={"since": act.case.suspended_at.isoformat()})
            act.case.suspended_at = act.case.suspended_reason = None  # timers due meanwhile fire as it runs on

        return self.act(actor, release, case_id=case_id, read=read, while_suspended=True)

    @staticmethod
    def _coordinators_reason(actor: Actor, reason, what: str, by_keeper: bool = False) -> str:
        if not (actor.has("coordinator", "director") or by_keeper):
            raise Forbidden(f"cases are {what} by a coordinator or the director")
        return given_reason(reason)

    def fire_due_timers(self, limit: int = 200) -> int:
        """Fire the timers of cases whose next timer is due, most overdue first, one
        transaction per case. On PostgreSQL a case another node is firing is skipped (SKIP
        LOCKED), so no timer fires twice. Returns how many cases were handled."""
        with reading(self.bind) as st:
            if not st.timer_due(clock.now()):
                return 0
        handled = 0
        for _ in range(limit):
            with transaction(self.session, self.bind) as st:
                now = clock.now()
                row = st.load_case(due_before=now)
                if row is None:
                    break
                case = SimpleNamespace(**row)
                cached = self._take(case.id)
                bundle = self.repository.bundle(case.version_id)
                if cached is not None and cached[0] == case.revision:
                    wf, open_tasks = cached[1], cached[2]
                else:
                    wf = state.loads(case.state, bundle.spec, bundle.subprocess_specs)
                    open_tasks = {sid: (tid, el) for tid, sid, el in st.open_tasks(case.id)}
                act = Action(st, case, wf, SYSTEM, now, bundle, open_tasks)
                try:
                    with st.savepoint():
                        self._catch_up(act)
                        self._fire(act)
                        if case.next_timer_at is not None and case.next_timer_at <= now:
                            # due by our clock, not yet by SpiffWorkflow's strict comparison
                            case.next_timer_at = now + dt.timedelta(milliseconds=200)
                            st.set_next_timer(case.id, case.next_timer_at)
                except EngineFailure as e:  # the case stays as it was; its incident says when to try again
                    tried = st.record_failure(case, e.element_id, e.message, now, retry_in)
                    events = [history.event(case.id, "system", "incident", e.element_id, process_id=case.process_id,
                                            detail={"message": e.message, "attempts": tried["attempts"],
                                                    "next_retry_at": _iso(tried["next_retry_at"])}, at=now)]
                    st.insert_events(events)
                    history.log_events(events)
                    act = None
                else:
                    st.resolve_incidents(case.id, now, "system", "retried")  # a try that went through
            if act is not None:
                self._keep(act)
            handled += 1
        return handled

    def _fire(self, act: Action) -> None:
        wf = act.wf
        armed = [t for t in wf.event_manager.tasks.values() if limits.timer_definitions(t)]
        try:
            wf.refresh_timers()
        except (Exception, scripting.ScriptLimitExceeded) as e:
            raise engine_failure(e) from e
        for t in armed:
            seen = t.internal_data.get("seen_events") or []
            if (not t.has_state(TaskState.WAITING) or t.internal_data.get("event_fired")
                    or any(isinstance(e.event_definition, TimerEventDefinition) for e in seen)):
                due = t.internal_data.get("event_value")
                act.log("timer_fired", t.task_spec.bpmn_id, actor="system",
                        detail={"name": t.task_spec.bpmn_name, "due": due if isinstance(due, str) else None})
        self._advance(act)
        self._save(act)

    # ---------------------------------------------------------------------------------
    # reading

    def case(self, case_id: int):
        """A case (everything but its workflow state) with its starter's username."""
        with reading(self.bind) as st:
            row = st.case_view(case_id)
        if row is None:
            raise NotFound(f"no case {case_id}")
        return row

    def events(self, case_id: int):
        return history.case_events(self.bind, case_id)

    def _catch_up(self, act: Action) -> None:
        """A case counted with an older calendar than the one in force is counted again
        first: open tasks' due dates, its limit and its working-day timers, each keeping the
        working time it counts (calendar.recount) from the first day the calendar changed
        on. A closure entered pushes them back, a make-up working day brings them forward, a
        year entered replaces its provisional count. Dates given as dates (a meeting day,
        P30D) stay."""
        case = act.case
        now_revision = calendar.revision()
        if case.calendar_revision == now_revision:
            return
        before, after = calendar.at(case.calendar_revision), calendar.current()
        since = dt.datetime.combine(act.store.calendar_changed_since(case.calendar_revision), dt.time(), calendar.TZ)

        def moved(at: dt.datetime | None, began: dt.datetime) -> dt.datetime | None:
            start = max(since, began)
            return at if at is None or at <= start else calendar.recount(before, after, start, at)

        changed = 0
        if case.due_at is not None and (due := moved(case.due_at, case.created_at)) != case.due_at:
            case.due_at, changed = due, changed + 1
        changed += limits.recount_timers(act.wf, lambda at, began: moved(at, max(began, case.created_at)))
        for row in act.store.open_dues(case.id):
            task = spiff_task(act.wf, row.spiff_id)
            if task is None or row.due_at is None or not limits.due_in_workdays(task):
                continue
            due = moved(row.due_at, row.created_at)
            if due == row.due_at and row.due_note == after.due_note(due):
                continue
            warning, next_alert = limits.alert_state(after, self.policy, due, act.now, row.escalation)
            act.store.set_task_due(row.id, due, warning, row.escalation,
                                   None if case.paused_since else next_alert, after.due_note(due))
            changed += 1
        act.recounted = True
        if changed:
            act.log("deadlines_recounted", actor="system",
                    detail={"calendar": [case.calendar_revision, now_revision], "moved": changed})
        case.calendar_revision = now_revision

    def recount_deadlines(self, since: dt.datetime | None = None, limit: int | None = None) -> int:
        """Count again the running cases counted with an older calendar than the latest
        (`_catch_up`). With `since`, those with a deadline after it (what a change from that
        day on moves: the admin's change counts these before it returns); with `limit`, that
        many at most (the scheduler's housekeeping sees to the rest; an action on a case
        that is behind counts it first anyway). Returns how many cases were counted again."""
        from engine.models import Task

        c, t = Case.__table__.c, Task.__table__.c
        with reading(self.bind, follow=True):
            latest = calendar.revision()
        q = sa.select(c.id).where(c.status == "running", c.calendar_revision < latest)
        if since is not None:
            q = q.where(sa.or_(c.due_at > since, c.next_timer_at > since, c.id.in_(
                sa.select(t.case_id).where(t.status == "open", t.due_at > since))))
        q = q.order_by(c.id)
        if limit is not None:
            q = q.limit(limit)
        cases = list(self.session.scalars(q))
        self.session.rollback()
        done = 0
        for case_id in cases:
            try:
                self.act(SYSTEM, lambda act: None, case_id=case_id, while_suspended=True)
                done += 1
            except HallError as e:  # ended meanwhile, or its diagram fails: leave it be
                log.warning("deadlines not recounted", extra={"case_id": case_id, "error": e.message})
        return done

    def case_page(self, case_id: int, actor: Actor | None = None):
        """(case, its open tasks, its history), read together: what a case's page shows.
        With `actor`, only if the actor may see the case."""
        with reading(self.bind) as st:
            page = read_page(st, case_id)
        if actor is not None:
            self._may_see(actor, page[0])
        return page

    def visible_case(self, actor: Actor, case_id: int):
        case = self.case(case_id)
        self._may_see(actor, case)
        return case

    def _may_see(self, actor: Actor, case) -> None:
        """An applicant sees its own cases; a window's rating device none (it shows what
        engine.ratings gives it); a process with a guard (complaints) whom it lets."""
        if actor.is_device:
            raise Forbidden(DEVICE_SEES)
        if actor.is_applicant_only and not actor.owns(case):
            raise Forbidden("this is not your case")
        guard = self.guards.get(case.process_id)
        if guard is not None and not guard(actor, case):
            raise Forbidden(f"case {case.number} is not shown to you")

    def cases(self, actor: Actor, status=None, process_id=None, page=1, per_page=20, search=None,
              since: dt.date | None = None, until: dt.date | None = None):
        """Cases, newest first (an applicant's own only); `since`/`until` are days in the
        hall's time zone, both included. Returns (rows, total)."""
        q = CASE_ROW
        if actor.is_device:
            raise Forbidden(DEVICE_SEES)
        if actor.is_applicant_only:
            mine = Case.started_by_id == actor.id
            q = q.where(sa.or_(mine, Case.enterprise_id == actor.enterprise_id) if actor.enterprise_id else mine)
        if self.guards and not actor.has(*OVERSIGHT):  # their cases are listed on their own pages
            q = q.where(Case.process_id.not_in(sorted(self.guards)))
        if status:
            q = q.where(Case.status == status)
        if process_id:
            q = q.where(Case.process_id == process_id)
        if search:
            like = f"%{search.strip()}%"
            q = q.where(sa.or_(Case.number.like(like), Case.title.like(like)))
        if since:
            q = q.where(Case.created_at >= dt.datetime.combine(since, dt.time(), clock.HALL_TZ))
        if until:
            q = q.where(Case.created_at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), clock.HALL_TZ))
        total = self.session.scalar(sa.select(sa.func.count()).select_from(q.subquery()))
        rows = self.session.execute(q.order_by(Case.id.desc()).limit(per_page).offset((page - 1) * per_page)).all()
        return rows, total


# -------------------------------------------------------------------------------------
# helpers over a workflow

def case_data(wf) -> dict:
    """The case's business data now: what the process's active branches hold, merged, the
    latest change last. A subprocess works on its own copy, which joins the case's data
    when the subprocess ends (multi-instance answers as each instance ends)."""
    tasks = sorted((t for t in wf.tasks.values() if t._state & state.LIVE and not t.triggered),
                   key=lambda t: t.last_state_change)
    merged: dict = {}
    for t in tasks:
        DeepMerge.merge(merged, t.data)
    return merged or dict(wf.data)


def _json_size(data) -> int:
    try:
        return len(orjson.dumps(data))
    except TypeError:  # an integer beyond 64 bits: what only json writes
        return len(json.dumps(data, ensure_ascii=False))


def engine_steps(wf, will_complete_task) -> None:
    """SpiffWorkflow's do_engine_steps: run the ready automatic tasks until none is left.
    SpiffWorkflow finds them by walking the whole task tree, twice or more per action; while
    no subprocess runs and at most one such task is ready (a gateway or an end event after
    a person's task, as a rule), scanning the workflow's task map finds the same task for a
    fraction of that. Anything else goes to SpiffWorkflow, whose walk fixes the order."""
    while not wf.subprocesses:
        ready = [t for t in wf.tasks.values() if t._state == TaskState.READY and not t.task_spec.manual]
        if len(ready) > 1:
            break
        if not ready:
            wf.refresh_timers()
            return
        will_complete_task(ready[0])
        ready[0].run()
    wf.do_engine_steps(will_complete_task=will_complete_task)


def _end_reached(wf):
    """The end event a completed case finished at (the latest, if branches ended apart)."""
    ends = [t for t in wf.tasks.values() if isinstance(t.task_spec, EndEvent) and t.has_state(TaskState.COMPLETED)]
    return max(ends, key=lambda t: t.last_state_change, default=None)


def waiting_messages(wf) -> set[str]:
    """Names of the messages the case waits for (catch events, receive tasks, boundary
    events and event-based gateways alike)."""
    return {d.name for t in wf.event_manager.tasks.values() for d in bpmn.event_definitions(t.task_spec)
            if isinstance(d, MessageEventDefinition)}


def next_timer(wf, now: dt.datetime) -> dt.datetime | None:
    """When the case's earliest armed timer falls due (its time as SpiffWorkflow froze it)."""
    due = None
    for t in wf.event_manager.tasks.values():
        if not limits.timer_definitions(t) or "hall_held" in t.internal_data:  # held while the case's clock is stopped
            continue
        value = t.internal_data.get("event_value")
        if isinstance(value, dict):  # a cycle
            value = value.get("next")
        try:
            at = TimerEventDefinition.parse_time_or_duration(value)
        except Exception:
            at = None
        if not isinstance(at, dt.datetime):
            at = now  # not evaluated yet (or unreadable): look at it right away
        due = at if due is None or at < due else due
    return due.astimezone(dt.UTC) if due is not None else None


def _instance_context(task) -> dict | None:
    """A multi-instance task's element variable (directly, or in the instance's subprocess),
    so that its worker sees which item of the collection the task is about."""
    while task is not None:
        parent = task.parent
        spec = parent.task_spec if parent is not None else None
        item = getattr(spec, "input_item", None) or getattr(spec, "output_item", None)
        if item is not None and item.bpmn_id in task.data:
            return {item.bpmn_id: jsonable(task.data[item.bpmn_id])}
        if parent is None and task.workflow is not task.workflow.top_workflow:
            task = task.workflow.top_workflow.get_task_from_id(task.workflow.parent_task_id)
        else:
            task = parent
    return None


def _expression_list(value: str | None, task) -> list[str]:
    """candidateGroups / assignee: a literal "a, b" or an expression "${...}" over task data."""
    if not value:
        return []
    if scripting.unwrap(value) == value:
        return bpmn.split_list(value)
    try:
        result = scripting.evaluate(value, task.data)
    except (Exception, scripting.ScriptLimitExceeded) as e:
        raise EngineFailure(f"{task.task_spec.bpmn_name or task.task_spec.bpmn_id}: cannot evaluate '{value}': {e}",
                            task.task_spec.bpmn_id) from e
    if result is None:
        return []
    if isinstance(result, (list, tuple, set)):
        return [str(v) for v in result if v]
    return bpmn.split_list(str(result))


def _due_at(value: str | None, task, now: dt.datetime) -> dt.datetime | None:
    """camunda:dueDate: an ISO 8601 duration (from now) or date-time, or an expression giving one."""
    if not value:
        return None
    text = bpmn.literal_timer(value)
    if text is None:
        try:
            result = scripting.evaluate(value, task.data)
        except (Exception, scripting.ScriptLimitExceeded) as e:
            raise EngineFailure(f"{task.task_spec.bpmn_name}: cannot evaluate dueDate '{value}': {e}",
                                task.task_spec.bpmn_id) from e
        if isinstance(result, dt.datetime):
            return result if result.tzinfo else result.replace(tzinfo=clock.HALL_TZ)
        if isinstance(result, dt.date):
            return dt.datetime.combine(result, dt.time(23, 59, 59), clock.HALL_TZ)
        text = bpmn.literal_timer(str(result))
        if text is None:
            raise EngineFailure(f"{task.task_spec.bpmn_name}: dueDate '{result}' is not ISO 8601",
                                task.task_spec.bpmn_id)
    try:
        parsed = TimerEventDefinition.parse_time_or_duration(text)
    except Exception as e:
        raise EngineFailure(f"{task.task_spec.bpmn_name}: dueDate '{text}' is not ISO 8601",
                            task.task_spec.bpmn_id) from e
    if isinstance(parsed, dt.datetime):
        return parsed
    return now + TimerEventDefinition.get_timedelta_from_start(parsed, now)


def form_schema(forms, form):
    """The marshmallow schema for a Spiff `Form`: registered by key, else generated, else None."""
    if form is None:
        return None
    if form.key:
        schema = forms.get(form.key)
        if schema is not None:
            return schema
    if form.fields:
        # generated once per form of a deployed version (building a schema class costs more
        # than validating with it several times over)
        schema = getattr(form, "hall_schema", None)
        if schema is None:
            schema = form.hall_schema = forms_pkg.generated_schema(form.fields)
        return schema
    return None


DEVICE_SEES = "a window's rating device sees the case just handled at its window, nothing else"


def applicants(st: Store, case) -> list[int]:
    """Who hears as the case's applicant: its filer (an enterprise's account or an agent, not
    a clerk who took it in at the window) and the accounts of the enterprise it is for."""
    return [uid for uid, roles in st.applicant_accounts(case.started_by_id, case.enterprise_id)
            if only_filer(roles)]


def validate_form(schema, data) -> dict:
    try:
        return forms_pkg.load(schema, data)
    except forms_pkg.ValidationError as e:
        errors = e.messages if isinstance(e.messages, dict) else {"data": e.messages}
        fields_named = ", ".join(sorted(errors))
        raise Invalid(f"invalid data: {fields_named}", errors) from None


def spiff_task(wf, spiff_id: str):
    try:
        return wf.get_task_from_id(UUID(spiff_id))
    except (KeyError, ValueError, SpiffWorkflowException):
        return None


def read_page(st: Store, case_id: int):
    """(case, its open tasks, its history) as one store reads them: a case's page. Pass it
    as `read` to an action to get the page the action left."""
    case = st.case_view(case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    return case, st.case_tasks(case_id, "open"), st.case_events(case_id)
