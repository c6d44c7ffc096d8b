"""Moving running cases to another version of their process (Camunda's process instance
migration), for process owners and admins.

A process owner chooses the cases (those of one version or of every other, narrowed to the
ones with a task or an incident at an element, or named one by one), reads a dry run that
says of each whether it can move and why not, then starts the move: a batch that the
scheduler works through (`Moves.work`), one case per transaction, on every node at once, and
that is watched, paused, resumed and cancelled, and goes on after a restart.

SpiffWorkflow's own diff (`SpiffWorkflow.bpmn.util.diff`) aligns the two versions' elements
and moves each workflow onto the new spec. A case cannot move while it holds a task whose
element the new version no longer has, a task of a different kind there, an open user task
whose form changed, an external task whose topic changed, or a called process the new
version lacks: what it holds would not mean the same. A moved case's open tasks keep their
rows (holder, due date, history), its waiting timers keep their due times unless the new
version changed them, and its history records the move.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import Counter, OrderedDict

import sqlalchemy as sa
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.specs.defaults import ParallelGateway
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.serializer.task_spec import UserTaskConverter
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition as CamundaMessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine import bpmn, clock, db, state
from engine.errors import Conflict, EngineFailure, Forbidden, HallError, Invalid, NotFound
from engine.identity import KEEPERS, SYSTEM, Actor
from engine.models import Case, CaseMove, CaseMoveItem, Incident, Task
from engine.repository import Repository
from engine.runtime import Action, Runtime

log = logging.getLogger("hall.moves")

MAX_CASES = 50_000  # cases one move takes
MAX_NAMED = 1_000  # case numbers one may name
SHOWN = 500  # cases a dry run lists one by one (it counts them all)
LEASE = dt.timedelta(minutes=2)  # a worker's hold on the cases it took, should it stop meanwhile
CHUNK = 25  # cases a worker takes at a time
STATUSES = ("running", "paused", "done", "cancelled")
ITEM_STATUSES = ("pending", "moved", "skipped", "failed")
_PREDICTED = TaskState.MAYBE | TaskState.LIKELY  # what SpiffWorkflow predicts anew, not what a case holds
_RESET = (TaskState.READY, TaskState.WAITING)  # what migrate_workflow resets (its default mask)


class _Changed(Exception):
    """The case cannot move; the message says why."""


# ---------------------------------------------------------------------------------------
# Comparing versions: SpiffWorkflow's SpecDiff compares two task specs by their serialized
# form, so it needs a converter for each of the hall's own task specs.

class _UserTaskConverter(UserTaskConverter):
    def to_dict(self, spec):
        dct = super().to_dict(spec)
        dct.update(candidate_groups=spec.candidate_groups, assignee=spec.assignee, due_date=spec.due_date)
        return dct


class _ExternalTaskConverter(BpmnTaskSpecConverter):
    def to_dict(self, spec):
        return {**self.get_default_attributes(spec), "topic": spec.topic}


def _spec_registry():
    config = dict(CAMUNDA_CONFIG)
    config[bpmn.HallMessageEventDefinition] = CAMUNDA_CONFIG[CamundaMessageEventDefinition]
    config[bpmn.HallUserTask] = _UserTaskConverter
    config[bpmn.HallParallelGateway] = CAMUNDA_CONFIG[ParallelGateway]
    config[bpmn.HallExternalTask] = _ExternalTaskConverter
    return BpmnWorkflowSerializer.configure(config)


_SPECS = _spec_registry()


def _label(spec) -> str:
    name = getattr(spec, "bpmn_name", None)
    element = getattr(spec, "bpmn_id", None) or spec.name
    return f"{element} ({name})" if name else element


class _Diff:
    """The alignment of one version's specs (its process and the processes it calls) with
    another's, computed once per pair of versions and kept while both stay in memory."""

    def __init__(self, old_spec, old_subprocess_specs: dict, new: bpmn.Bundle, to_version: int):
        self.old_top, self.old_subs, self.new, self.to_version = old_spec, old_subprocess_specs, new, to_version
        self._diffs: dict[str | None, SpecDiff | None] = {}
        self._lock = threading.Lock()

    def of(self, name: str | None) -> SpecDiff | None:
        """The diff of the top process (`None`) or of the called process `name`; None when the
        new version does not have it."""
        with self._lock:
            if name not in self._diffs:
                if name is None:
                    self._diffs[name] = SpecDiff(_SPECS, self.old_top, self.new.spec)
                else:
                    old, new = self.old_subs.get(name), self.new.subprocess_specs.get(name)
                    self._diffs[name] = SpecDiff(_SPECS, old, new) if old is not None and new is not None else None
            return self._diffs[name]

    def old_spec(self, name: str | None):
        return self.old_top if name is None else self.old_subs.get(name)

    def check(self, held) -> list[str]:
        """Why a case cannot move, from what it holds (`held`: (called process or None, task
        spec, state, role) of its tasks but predictions, `_roles`); empty when it can. Of
        what the new version lacks, a finished task that leads to nothing open is history
        (the audit trail keeps it) and the root of the tree only holds its data: neither
        keeps a case from moving."""
        reasons, inner = [], []
        for name, spec, st, role in held:
            diff = self.of(name)
            if diff is None:
                reasons.append(f"called process {name} is not in version {self.to_version}")
                continue
            target = diff.alignment.get(spec)
            if target is None:
                if role in ("live", "carrier"):
                    # the engine's own parts of an element (a boundary event's split and join) are
                    # named only when the element itself is not
                    (reasons if getattr(spec, "bpmn_id", None) else inner).append(
                        f"element {_label(spec)} is not in version {self.to_version}")
                continue
            if role != "live":
                continue
            changes = diff.changed.get(spec, ())
            if "typename" in changes:
                reasons.append(f"element {_label(spec)} is of another kind in version {self.to_version}")
            elif "form" in changes and st == TaskState.READY and spec.manual:
                reasons.append(f"the form of {_label(spec)} changed in version {self.to_version}")
            elif st == TaskState.STARTED and getattr(spec, "topic", None) != getattr(target, "topic", None):
                reasons.append(f"the topic of {_label(spec)} changed in version {self.to_version}")
        return list(dict.fromkeys(reasons or inner))

    def held_in_state(self, blob: bytes) -> list:
        """`held` of a stored state, read without restoring the workflow (a dry run's)."""
        held = []
        for name, tasks, root in state.task_trees(blob):
            old = self.old_spec(name)
            roles = _roles({tid: (t["parent"], t["state"]) for tid, t in tasks.items()}, root)
            for tid, t in tasks.items():
                if tid not in roles:
                    continue
                spec = old.task_specs.get(t["task_spec"]) if old is not None else None
                if spec is None:
                    raise state.StateError(f"the case's state names task '{t['task_spec']}', "
                                           "which its version does not have")
                held.append((name, spec, t["state"], roles[tid]))
        return held

    @staticmethod
    def _held(wf) -> list:
        held = []
        for flow in (wf, *wf.subprocesses.values()):
            name = None if flow is wf else flow.spec.name
            roles = _roles({t.id: (t._parent, t._state) for t in flow.tasks.values()}, flow.task_tree.id)
            held += [(name, t.task_spec, t._state, roles[t.id]) for t in flow.tasks.values() if t.id in roles]
        return held

    def move(self, wf) -> None:
        """Put `wf` on the new version, or raise _Changed with why it cannot move."""
        reasons = self.check(self._held(wf))
        if reasons:
            raise _Changed("; ".join(reasons))
        # What a reset would lose and the case must keep: a waiting timer's due time and a
        # ready task's own data (a multi-instance item), where the new version left them be.
        kept = {}
        for flow in (wf, *wf.subprocesses.values()):
            changed = self.of(None if flow is wf else flow.spec.name).changed
            kept.update({t.id: (t.data, t.internal_data) for t in flow.tasks.values()
                         if t._state in _RESET and t.task_spec not in changed})
        top = WorkflowDiff(wf, self.of(None))
        subs = [(sub, WorkflowDiff(sub, self.of(sub.spec.name))) for sub in wf.subprocesses.values()]
        migrate_workflow(top, wf, self.new.spec)  # resets READY and WAITING tasks: they predict anew
        for sub, diff in subs:
            migrate_workflow(diff, sub, self.new.subprocess_specs[sub.spec.name])
        wf.subprocess_specs = self.new.subprocess_specs
        for flow in (wf, *wf.subprocesses.values()):
            specs = flow.spec.task_specs
            roles = _roles({t.id: (t._parent, t._state) for t in flow.tasks.values()}, flow.task_tree.id)
            for t in list(flow.tasks.values()):
                if t.id not in flow.tasks:
                    continue  # gone with a task removed before it
                if specs.get(t.task_spec.name) is not t.task_spec:  # of the old version only
                    if roles.get(t.id) == "root":
                        t.task_spec = flow.spec.start  # it holds the data its children inherit
                    else:  # a prediction, or history
                        flow._remove_task(t.id)
                elif t.id in kept and t._state in _RESET:
                    t.data, t.internal_data = kept[t.id]
        events = wf.event_manager.tasks
        for tid in [tid for tid in events if not any(tid in flow.tasks for flow in (wf, *wf.subprocesses.values()))]:
            del events[tid]


_OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.FUTURE  # what a case is doing


def _roles(tasks: dict, root) -> dict:
    """{task id: role} of a task tree's tasks but predictions ({id: (parent id, state)}):
    "live" (open), "carrier" (finished, with something open below it), "root" (the tree's
    root, a carrier) or "history" (finished, and nothing open below it)."""
    carrying = set()
    for parent, st in tasks.values():
        if st & _OPEN:
            while parent is not None and parent not in carrying:
                carrying.add(parent)
                parent = tasks[parent][0] if parent in tasks else None
    roles = {}
    for tid, (_, st) in tasks.items():
        if st & _PREDICTED:
            continue
        roles[tid] = ("live" if st & _OPEN else "root" if tid == root and tid in carrying
                      else "carrier" if tid in carrying else "history")
    return roles


# ---------------------------------------------------------------------------------------

_M, _I = CaseMove.__table__, CaseMoveItem.__table__
# an item is marked once: by the worker that moved it (in the case's own transaction), or
# as skipped or failed, or by a cancel; whichever comes first
# A moved case and its item are one transaction: on PostgreSQL it need not wait for its WAL to
# reach the disk. A crash may lose the last few moves, never half of one (the item is pending
# again and the case on its old version), and a move of 10,000 cases no longer waits 10,000
# flushes.
_NO_FLUSH_WAIT = sa.text("SET LOCAL synchronous_commit TO OFF")
_MARK = sa.update(_I).where(_I.c.id == sa.bindparam("_id"), _I.c.status == "pending").values(
    status=sa.bindparam("_status"), reason=sa.bindparam("_reason"), done_at=sa.bindparam("_at"))


class _Taken(Exception):
    """Another worker, or a cancel, marked the item first."""


class Moves:
    def __init__(self, session, bind, runtime: Runtime, repository: Repository):
        self.session = session
        self.bind = bind
        self.runtime = runtime
        self.repository = repository
        self._diffs: OrderedDict[tuple[int, int], _Diff] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _keeper(actor: Actor) -> None:
        if not actor.has(*KEEPERS):
            raise Forbidden("cases are moved to another version by a process owner or an admin")

    def _diff(self, from_id: int, to_id: int, to_version: int, wf=None) -> _Diff:
        """The diff of two versions, aligning the specs a workflow `wf` runs with (those very
        objects: a workflow kept in memory may hold specs parsed before the cache's)."""
        if wf is None:
            old = self.repository.bundle(from_id)
            old_spec, old_subs = old.spec, old.subprocess_specs
        else:
            old_spec, old_subs = wf.spec, wf.subprocess_specs
        new = self.repository.bundle(to_id)
        with self._lock:
            d = self._diffs.pop((from_id, to_id), None)
            if d is None or d.old_top is not old_spec or d.new is not new:  # parsed again meanwhile
                d = _Diff(old_spec, old_subs, new, to_version)
            self._diffs[(from_id, to_id)] = d
            while len(self._diffs) > 32:
                self._diffs.popitem(last=False)
        return d

    # choosing --------------------------------------------------------------------------

    def _chosen(self, process_id, to_version, from_version, element, numbers):
        """(the target version, a query of the chosen cases' id, number, title, version id,
        version), after checking the choice."""
        if not isinstance(process_id, str) or not process_id:
            raise Invalid("process_id is required", {"process_id": ["required"]})
        for name, value in (("to_version", to_version), ("from_version", from_version)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise Invalid(f"{name} must be a version number", {name: ["a version number"]})
        target = (self.repository.version(process_id, to_version) if to_version is not None
                  else self.repository.latest(process_id))
        if from_version is not None:
            self.repository.version(process_id, from_version)
            if from_version == target.version:
                raise Invalid(f"the cases are on version {from_version} already",
                              {"from_version": ["the version they would move to"]})
        if element is not None and (not isinstance(element, str) or not 0 < len(element) <= 128):
            raise Invalid("element must be an element's id", {"element": ["an element's id"]})
        if numbers is not None:
            if not isinstance(numbers, list) or not all(isinstance(n, str) and 0 < len(n) <= 40 for n in numbers):
                raise Invalid("cases must be a list of case numbers", {"cases": ["a list of case numbers"]})
            if len(numbers) > MAX_NAMED:
                raise Invalid(f"at most {MAX_NAMED} cases may be named", {"cases": [f"at most {MAX_NAMED}"]})
        c = Case.__table__.c
        q = sa.select(c.id, c.number, c.title, c.version_id, c.version).where(
            c.process_id == process_id, c.status == "running", c.version_id != target.id)
        if from_version is not None:
            q = q.where(c.version == from_version)
        if element is not None:
            t, i = Task.__table__.c, Incident.__table__.c
            q = q.where(sa.or_(
                c.id.in_(sa.select(t.case_id).where(t.element_id == element, t.status == "open")),
                c.id.in_(sa.select(i.case_id).where(i.element_id == element, i.status != "resolved"))))
        if numbers:
            q = q.where(c.number.in_(sorted(set(numbers))))
        return target, q.order_by(c.id)

    def _verdicts(self, target, q):
        """(case row, why it cannot move) of every chosen case, the dry run's verdicts."""
        count = self.session.scalar(sa.select(sa.func.count()).select_from(q.subquery()))
        if count > MAX_CASES:
            self.session.rollback()
            raise Invalid(f"{count} cases are chosen, more than the {MAX_CASES} a move takes: choose fewer",
                          {"cases": [f"at most {MAX_CASES}"]})
        states = q.add_columns(Case.__table__.c.state)
        out = []
        for row in self.session.execute(states).yield_per(500):
            diff = self._diff(row.version_id, target.id, target.version)
            try:
                reasons = diff.check(diff.held_in_state(row.state))
            except state.StateError as e:
                reasons = [str(e)]
            out.append((row, reasons))
        self.session.rollback()
        return out

    def dry_run(self, actor: Actor, process_id, to_version=None, from_version=None, element=None,
                numbers=None) -> dict:
        """What a move of these cases would do: of each, whether it can move and why not
        (the first SHOWN cases one by one; all of them counted, and their reasons)."""
        self._keeper(actor)
        target, q = self._chosen(process_id, to_version, from_version, element, numbers)
        verdicts = self._verdicts(target, q)
        reasons = Counter(r for _, rs in verdicts for r in rs)
        return {
            "process_id": process_id, "to_version": target.version, "total": len(verdicts),
            "movable": sum(1 for _, rs in verdicts if not rs),
            "reasons": [{"reason": r, "cases": n} for r, n in reasons.most_common(20)],
            "cases": [{"case_id": row.id, "number": row.number, "title": row.title, "version": row.version,
                       "movable": not rs, "reasons": rs} for row, rs in verdicts[:SHOWN]],
        }

    def start(self, actor: Actor, process_id, to_version=None, from_version=None, element=None,
              numbers=None) -> dict:
        """Start moving the chosen cases: those the dry run lets move wait for the scheduler's
        workers; the others are skipped at once, each with why."""
        self._keeper(actor)
        target, q = self._chosen(process_id, to_version, from_version, element, numbers)
        verdicts = self._verdicts(target, q)
        if not verdicts:
            raise Invalid("no running case of another version is chosen", {"cases": ["none chosen"]})
        now = clock.now()
        with db.write(self.session) as s:
            move_id = s.execute(sa.insert(_M).returning(_M.c.id), {
                "process_id": process_id, "from_version": from_version, "element_id": element,
                "to_version_id": target.id, "to_version": target.version, "status": "running",
                "created_by": actor.username, "created_at": now, "finished_at": None}).scalar_one()
            s.execute(sa.insert(_I), [{
                "move_id": move_id, "case_id": row.id, "status": "skipped" if rs else "pending",
                "reason": "; ".join(rs)[:1000] if rs else None, "claimed_until": None,
                "done_at": now if rs else None} for row, rs in verdicts])
        log.info("move started", extra={"move": move_id, "process_id": process_id, "cases": len(verdicts)})
        self._finish()
        return self.view(actor, move_id)

    # watching and steering -------------------------------------------------------------

    def _counts(self, move_ids) -> dict[int, dict[str, int]]:
        counts = {m: dict.fromkeys(ITEM_STATUSES, 0) for m in move_ids}
        for move_id, status, n in self.session.execute(
                sa.select(_I.c.move_id, _I.c.status, sa.func.count()).where(_I.c.move_id.in_(list(move_ids)))
                .group_by(_I.c.move_id, _I.c.status)):
            counts[move_id][status] = n
        return counts

    @staticmethod
    def _shown(move, counts: dict[str, int]) -> dict:
        return {"id": move.id, "process_id": move.process_id, "from_version": move.from_version,
                "element": move.element_id, "to_version": move.to_version, "status": move.status,
                "created_by": move.created_by, "created_at": move.created_at, "finished_at": move.finished_at,
                "total": sum(counts.values()), **counts}

    def view(self, actor: Actor, move_id: int) -> dict:
        self._keeper(actor)
        move = self.session.execute(sa.select(_M).where(_M.c.id == move_id)).first()
        if move is None:
            self.session.rollback()
            raise NotFound(f"no move {move_id}")
        shown = self._shown(move, self._counts([move_id])[move_id])
        self.session.rollback()
        return shown

    def listing(self, actor: Actor, process_id: str | None = None, limit: int = 50) -> list[dict]:
        """Moves, newest first, with how far each is."""
        self._keeper(actor)
        q = sa.select(_M).order_by(_M.c.id.desc()).limit(limit)
        if process_id:
            q = q.where(_M.c.process_id == process_id)
        moves = self.session.execute(q).all()
        counts = self._counts([m.id for m in moves]) if moves else {}
        shown = [self._shown(m, counts[m.id]) for m in moves]
        self.session.rollback()
        return shown

    def items(self, actor: Actor, move_id: int, status: str | None = None, page: int = 1,
              per_page: int = 50) -> tuple[list, int]:
        """A move's cases with how each fared, (rows, total)."""
        self.view(actor, move_id)
        if status is not None and status not in ITEM_STATUSES:
            raise Invalid(f"status must be one of {', '.join(ITEM_STATUSES)}",
                          {"status": [f"one of {', '.join(ITEM_STATUSES)}"]})
        c = Case.__table__.c
        q = sa.select(_I.c.case_id, c.number, c.title, c.version, _I.c.status, _I.c.reason, _I.c.done_at).join(
            Case.__table__, c.id == _I.c.case_id).where(_I.c.move_id == move_id)
        if status:
            q = q.where(_I.c.status == status)
        total = self.session.scalar(sa.select(sa.func.count()).select_from(q.subquery()))
        rows = self.session.execute(q.order_by(_I.c.id).limit(per_page).offset((page - 1) * per_page)).all()
        self.session.rollback()
        return rows, total

    def _steer(self, actor: Actor, move_id: int, wanted: str, allowed: tuple[str, ...]) -> dict:
        self.view(actor, move_id)
        now = clock.now()
        with db.write(self.session) as s:
            status = s.scalar(sa.select(_M.c.status).where(_M.c.id == move_id))
            if status not in allowed:
                raise Conflict(f"move {move_id} is {status}")
            s.execute(sa.update(_M).where(_M.c.id == move_id).values(
                status=wanted, finished_at=now if wanted == "cancelled" else None))
            if wanted == "cancelled":
                s.execute(sa.update(_I).where(_I.c.move_id == move_id, _I.c.status == "pending").values(
                    status="skipped", reason="the move was cancelled", done_at=now))
        log.info("move %s", wanted, extra={"move": move_id, "by": actor.username})
        return self.view(actor, move_id)

    def pause(self, actor: Actor, move_id: int) -> dict:
        """The workers take no more of its cases (those being moved finish)."""
        return self._steer(actor, move_id, "paused", ("running",))

    def resume(self, actor: Actor, move_id: int) -> dict:
        return self._steer(actor, move_id, "running", ("paused",))

    def cancel(self, actor: Actor, move_id: int) -> dict:
        """Its cases not yet moved stay where they are; the moved stay moved."""
        return self._steer(actor, move_id, "cancelled", ("running", "paused"))

    # the work --------------------------------------------------------------------------

    def work(self, seconds: float = 5.0) -> int:
        """Move cases of running moves for about `seconds`, a few at a time, one case per
        transaction; every node may do this at once. Returns how many cases were handled."""
        deadline = time.monotonic() + seconds
        handled = 0
        while time.monotonic() < deadline:
            taken = self._take()
            if not taken:
                break
            for item in taken:
                self._move(item)
                handled += 1
        if handled:
            self._finish()
        return handled

    def _take(self) -> list:
        """A few pending cases of running moves, held for this worker for LEASE (on
        PostgreSQL, rows another worker is taking are skipped)."""
        now = clock.now()
        with db.write(self.session) as s:
            q = (sa.select(_I.c.id, _I.c.move_id, _I.c.case_id, _M.c.to_version_id, _M.c.to_version, _M.c.created_by)
                 .join(_M, _M.c.id == _I.c.move_id)
                 .where(_M.c.status == "running", _I.c.status == "pending",
                        sa.or_(_I.c.claimed_until.is_(None), _I.c.claimed_until < now))
                 .order_by(_I.c.id).limit(CHUNK))
            if db.is_postgres(s):
                q = q.with_for_update(of=_I, skip_locked=True)
            rows = s.execute(q).all()
            if rows:
                s.execute(sa.update(_I).where(_I.c.id.in_([r.id for r in rows])).values(claimed_until=now + LEASE))
        return rows

    def _move(self, item) -> None:
        def change(act: Action) -> None:
            if act.store.pg:
                act.store.run(_NO_FLUSH_WAIT)
            if act.case.version_id == item.to_version_id:
                raise _Changed(f"the case is on version {item.to_version} already")
            diff = self._diff(act.case.version_id, item.to_version_id, item.to_version, act.wf)
            before = act.case.version
            diff.move(act.wf)
            act.bundle = diff.new
            act.case.version_id, act.case.version = item.to_version_id, item.to_version
            act.log("moved", actor=item.created_by,
                    detail={"from_version": before, "to_version": item.to_version, "move": item.move_id})
            if act.store.run(_MARK, {"_id": item.id, "_status": "moved", "_reason": None,
                                     "_at": act.now}).rowcount != 1:
                raise _Taken

        try:
            self.runtime.act(SYSTEM, change, case_id=item.case_id, while_suspended=True)
            # not kept in memory: ten thousand cases moved would push out those people work on
            self.runtime.forget(item.case_id)
        except _Taken:
            return
        except _Changed as e:
            self._mark(item.id, "skipped", str(e))
        except EngineFailure as e:  # the new version's next step fails: the case stays as it was
            self._mark(item.id, "failed", e.message)
        except HallError as e:  # ended meanwhile
            self._mark(item.id, "skipped", e.message)
        except Exception as e:
            log.exception("case not moved", extra={"move": item.move_id, "case_id": item.case_id})
            self._mark(item.id, "failed", f"{type(e).__name__}: {e}")

    def _mark(self, item_id: int, status: str, reason: str) -> None:
        with db.write(self.session) as s:
            s.execute(_MARK, {"_id": item_id, "_status": status, "_reason": reason[:1000], "_at": clock.now()})

    def _finish(self) -> None:
        """Running moves with no case left to move are done."""
        pending = sa.select(_I.c.id).where(_I.c.move_id == _M.c.id, _I.c.status == "pending").exists()
        with db.write(self.session) as s:
            s.execute(sa.update(_M).where(_M.c.status == "running", ~pending).values(
                status="done", finished_at=clock.now()))
