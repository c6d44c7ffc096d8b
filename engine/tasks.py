"""Human tasks (Camunda's TaskService): inboxes, claim, assign, complete.

Lists read the task table and the per-group queue of unclaimed tasks, never workflow state.
"""

from __future__ import annotations

import heapq

import sqlalchemy as sa
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.util.task import TaskState

import forms as forms_pkg
from engine import clock, db, history, runtime
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.identity import Actor
from engine.models import Case, Task, TaskQueue, User

OVERSIGHT = ("coordinator", "director", "supervisor")


def may_work(actor: Actor, task: Task) -> bool:
    """Assigned to the actor, or unassigned and open to one of the actor's groups."""
    if task.assignee_id is not None:
        return task.assignee_id == actor.id
    if "admin" in actor.roles:
        return True
    if task.candidate_groups:
        return bool(actor.groups.intersection(task.candidate_groups))
    return actor.has("staff")


def may_see(actor: Actor, task: Task) -> bool:
    return task.assignee_id == actor.id or may_work(actor, task) or actor.has(*OVERSIGHT) or (
        task.candidate_groups and bool(actor.groups.intersection(task.candidate_groups)))


class Tasks:
    def __init__(self, session, runtime_: runtime.Runtime, forms):
        self.session = session
        self.runtime = runtime_
        self.forms = forms

    # reading -----------------------------------------------------------------------
    def get(self, actor: Actor, task_id: int) -> Task:
        task = self.session.get(Task, task_id)
        if task is None:
            raise NotFound(f"no task {task_id}")
        if not may_see(actor, task):
            raise Forbidden("this task is not open to you")
        return task

    def inbox(self, actor: Actor, scope: str | None = None, process_id: str | None = None,
              case_id: int | None = None, page: int = 1, per_page: int = 50):
        """Open tasks the actor may work: assigned to them ('mine') and unclaimed tasks of
        their groups ('group'), oldest first. Returns (tasks, total)."""
        if scope not in (None, "mine", "group"):
            raise Invalid("scope must be 'mine' or 'group'", {"scope": ["must be 'mine' or 'group'"]})
        s = self.session
        want = page * per_page
        streams, totals = [], 0

        def filtered(q, task_cols):
            if process_id:
                q = q.where(task_cols.process_id == process_id)
            if case_id:
                q = q.where(task_cols.case_id == case_id)
            return q

        if scope in (None, "mine") and actor.id is not None:
            base = filtered(sa.select(Task.created_at, Task.id).where(Task.assignee_id == actor.id,
                                                                      Task.status == "open"), Task)
            streams.append(s.execute(base.order_by(Task.created_at, Task.id).limit(want)).all())
            totals += s.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
        groups = sorted(actor.groups)
        if scope in (None, "group") and groups:
            for g in groups:
                q = sa.select(TaskQueue.created_at, TaskQueue.task_id).where(TaskQueue.group_name == g)
                if process_id or case_id:
                    q = filtered(q.join(Task, Task.id == TaskQueue.task_id), Task)
                streams.append(s.execute(q.order_by(TaskQueue.created_at, TaskQueue.task_id).limit(want)).all())
            cq = sa.select(sa.func.count(sa.distinct(TaskQueue.task_id))).where(TaskQueue.group_name.in_(groups))
            if process_id or case_id:
                cq = filtered(cq.join(Task, Task.id == TaskQueue.task_id), Task)
            totals += s.scalar(cq)
        seen, ids = set(), []
        for _, task_id in heapq.merge(*streams):
            if task_id not in seen:
                seen.add(task_id)
                ids.append(task_id)
        ids = ids[(page - 1) * per_page: page * per_page]
        if not ids:
            return [], totals
        rows = {t.id: t for t in s.scalars(sa.select(Task).where(Task.id.in_(ids)))}
        return [rows[i] for i in ids if i in rows], totals

    def done_by(self, actor: Actor, page: int = 1, per_page: int = 50):
        q = sa.select(Task).where(Task.completed_by_id == actor.id, Task.status == "completed")
        total = self.session.scalar(sa.select(sa.func.count()).select_from(q.subquery()))
        rows = self.session.scalars(q.order_by(Task.completed_at.desc()).limit(per_page)
                                    .offset((page - 1) * per_page)).all()
        return rows, total

    def case_tasks(self, case_id: int, status: str | None = "open") -> list[Task]:
        q = sa.select(Task).where(Task.case_id == case_id)
        if status:
            q = q.where(Task.status == status)
        return list(self.session.scalars(q.order_by(Task.id)))

    def spec(self, task: Task):
        """The Spiff task spec of a task row (for its form)."""
        case = self.session.get(Case, task.case_id)
        bundle = self.runtime.repository.bundle(case.version_id)
        for spec in (bundle.spec, *bundle.subprocess_specs.values()):
            for ts in spec.task_specs.values():
                if getattr(ts, "bpmn_id", None) == task.element_id and ts.manual:
                    return ts
        return None

    def form(self, task: Task):
        spec = self.spec(task)
        return runtime.form_schema(self.forms, getattr(spec, "form", None))

    def describe_form(self, task: Task) -> list[dict]:
        return forms_pkg.describe(self.form(task))

    def visible_data(self, task: Task) -> dict:
        """What the task's worker reads of the case: its `visibleData` keys, or all of it."""
        case = self.session.get(Case, task.case_id)
        spec = self.spec(task)
        keys = (getattr(spec, "extensions", None) or {}).get("visibleData")
        data = case.data or {}
        if not keys:
            return data
        return {k: data[k] for k in (x.strip() for x in keys.split(",")) if k in data}

    # claiming ----------------------------------------------------------------------
    def _locked(self, s, task_id: int) -> Task:
        q = sa.select(Task).where(Task.id == task_id).execution_options(populate_existing=True)
        if db.is_postgres(s):
            q = q.with_for_update()
        task = s.scalar(q)
        if task is None:
            raise NotFound(f"no task {task_id}")
        return task

    def _hold(self, s, task: Task, user_id: int | None) -> None:
        """Give the task to `user_id` (None: back to its groups' queues)."""
        task.assignee_id = user_id
        task.claimed_at = clock.now() if user_id else None
        s.execute(sa.delete(TaskQueue).where(TaskQueue.task_id == task.id))
        if user_id is None and task.candidate_groups:
            s.execute(sa.insert(TaskQueue), [{"group_name": g, "created_at": task.created_at, "task_id": task.id}
                                             for g in task.candidate_groups])

    def claim(self, actor: Actor, task_id: int) -> Task:
        with db.write(self.session) as s:
            task = self._locked(s, task_id)
            if task.status != "open":
                raise Conflict(f"task {task_id} is {task.status}")
            if task.assignee_id == actor.id:
                return task
            if task.assignee_id is not None:
                raise Conflict(f"task {task_id} is held by {self._username(s, task.assignee_id)}")
            if not may_work(actor, task):
                raise Forbidden("this task is not open to your groups")
            self._hold(s, task, actor.id)
            history.record(s, [history.event(task.case_id, actor.username, "claimed", task.element_id, task.id,
                                             task.process_id)])
        return task

    def unclaim(self, actor: Actor, task_id: int) -> Task:
        with db.write(self.session) as s:
            task = self._locked(s, task_id)
            if task.status != "open":
                raise Conflict(f"task {task_id} is {task.status}")
            if task.assignee_id is None:
                return task
            if task.assignee_id != actor.id and not actor.has("coordinator", "director"):
                raise Conflict(f"task {task_id} is held by {self._username(s, task.assignee_id)}")
            self._hold(s, task, None)
            history.record(s, [history.event(task.case_id, actor.username, "unclaimed", task.element_id, task.id,
                                             task.process_id)])
        return task

    def assign(self, actor: Actor, task_id: int, username: str) -> Task:
        if not actor.has("coordinator", "director"):
            raise Forbidden("assigning tasks needs the coordinator role")
        if not isinstance(username, str) or not username:
            raise Invalid("username is required", {"username": ["required"]})
        with db.write(self.session) as s:
            user = s.scalar(sa.select(User).where(User.username == username))
            if user is None or not user.active:
                raise Invalid(f"no active user '{username}'", {"username": [f"no active user '{username}'"]})
            task = self._locked(s, task_id)
            if task.status != "open":
                raise Conflict(f"task {task_id} is {task.status}")
            self._hold(s, task, user.id)
            history.record(s, [history.event(task.case_id, actor.username, "assigned", task.element_id, task.id,
                                             task.process_id, {"to": username})])
        return task

    @staticmethod
    def _username(s, user_id: int) -> str:
        return s.scalar(sa.select(User.username).where(User.id == user_id)) or f"user {user_id}"

    # completing --------------------------------------------------------------------
    def complete(self, actor: Actor, task_id: int, data) -> Case:
        """Validate `data` against the task's form and complete it; returns the case.

        Completing an unclaimed task one may work claims it first (both recorded)."""
        task = self.session.get(Task, task_id)
        if task is None:
            raise NotFound(f"no task {task_id}")
        if task.status != "open":
            raise Conflict(f"task {task_id} is already {task.status}")
        if not may_work(actor, task):
            raise Forbidden("this task is not yours" if task.assignee_id else "this task is not open to your groups")
        data = runtime.validate_form(self.form(task), data if data is not None else {})
        with self.runtime.act(task.case_id, actor) as act:
            row = act.session.scalar(sa.select(Task).where(Task.id == task_id)
                                     .execution_options(populate_existing=True))
            if row.status != "open":
                raise Conflict(f"task {task_id} is already {row.status}")
            if not may_work(actor, row):
                raise Forbidden("this task was claimed by someone else")
            t = runtime.spiff_task(act.wf, row.spiff_id)
            if t is None or t.state != TaskState.READY:
                raise Conflict(f"task {task_id} is no longer open")
            if row.assignee_id is None:
                self._hold(act.session, row, actor.id)
                act.log("claimed", row.element_id, row.id)
            _apply(t, data)
            try:
                t.run()
            except Exception as e:
                raise runtime.engine_failure(e) from e
            act.completed[row.id] = (row, data)
            act.log("completed", row.element_id, row.id)
        return act.case


def _apply(t, data: dict) -> None:
    """Put submitted data into the task. In a multi-instance task whose element variable
    holds an object, the answer is also recorded in that object, so the collection ends up
    holding every instance's answer (otherwise they would overwrite each other)."""
    t.data.update(data)
    parent = t.parent
    spec = parent.task_spec if parent is not None else None
    if isinstance(spec, MultiInstanceTask) and spec.output_item is not None:
        item = t.data.get(spec.output_item.bpmn_id)
        if isinstance(item, dict):
            t.data[spec.output_item.bpmn_id] = {**item, **data}
