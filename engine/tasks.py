"""Human tasks (Camunda's TaskService): inboxes, claim, assign, complete.

Lists read the task table and the per-group queue of unclaimed tasks, never workflow state.
Task rows come back as plain rows with the assignee's username as `assignee` and the name
people know them by as `assignee_name`.
"""

from __future__ import annotations

import heapq
from collections import Counter
from types import SimpleNamespace

import sqlalchemy as sa
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.util.task import TaskState

import forms as forms_pkg
from engine import calendar, clock, db, history, limits, materials, runtime, scripting
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.identity import APPLICANTS, OVERSIGHT, Actor, actor_of
from engine.models import NEVER_DUE, Case, CatalogueItem, Group, QueueCount, Task, TaskQueue, User
from engine.store import add_to_queue_counts, reading

WORKING_ROLES = ("staff", "coordinator", "director", "admin")  # who may be given any task
INBOX_SORTS = ("urgency", "oldest", "newest", "number")

_T = Task.__table__
TASK_ROW = sa.select(*_T.c, User.username.label("assignee"), User.display_name.label("assignee_name"),
                     Case.version_id).select_from(
    _T.join(Case, Case.id == _T.c.case_id).outerjoin(User, User.id == _T.c.assignee_id))


def may_work(actor: Actor, task) -> bool:
    """Assigned to the actor, or unassigned and open to one of the actor's groups (not to a
    window's rating device, whose group is the window)."""
    if actor.is_device:
        return False
    if task.assignee_id is not None:
        return task.assignee_id == actor.id
    if "admin" in actor.roles:
        return True
    if task.candidate_groups:  # the applicants' group opens nothing: such a task is given to its applicant
        return bool(actor.groups.intersection(task.candidate_groups).difference((APPLICANTS,)))
    return actor.has("staff")


def may_see(actor: Actor, task) -> bool:
    return may_work(actor, task) or task.assignee_id == actor.id or actor.has(*OVERSIGHT) or bool(
        task.candidate_groups and actor.groups.intersection(task.candidate_groups).difference((APPLICANTS,)))


class Tasks:
    def __init__(self, session, runtime_: runtime.Runtime, forms):
        self.session = session
        self.runtime = runtime_
        self.forms = forms

    # reading -----------------------------------------------------------------------
    def row(self, task_id: int):
        task = self.session.execute(TASK_ROW.where(_T.c.id == task_id)).first()
        if task is None:
            raise NotFound(f"no task {task_id}")
        return task

    def get(self, actor: Actor, task_id: int):
        task = self.row(task_id)
        if not may_see(actor, task):
            raise Forbidden("this task is not open to you")
        return task

    def _rows(self, ids: list[int]) -> list:
        if not ids:
            return []
        rows = {t.id: t for t in self.session.execute(TASK_ROW.where(_T.c.id.in_(ids)))}
        return [rows[i] for i in ids if i in rows]

    def inbox(self, actor: Actor, scope: str | None = None, process_id: str | None = None,
              case_id: int | None = None, page: int = 1, per_page: int = 50, group: str | None = None,
              search: str | None = None, sort: str = "urgency"):
        """Open tasks the actor may work: assigned to them (scope 'mine') and unclaimed tasks
        of their groups ('group', or one `group` of theirs). `search` matches the case number
        or the enterprise/applicant. Returns (tasks, total).

        Sorted most urgent first (due soonest, undated last, then oldest), each group's
        queue and the actor's own list are read in index order only as far as the page
        needs, and merged, and the groups' totals are kept counts (`QueueCount`): the cost
        follows the page, not the number of open tasks. Other sorts ('oldest', 'newest',
        'number') and searches query the table."""
        if scope not in (None, "mine", "group"):
            raise Invalid("scope must be 'mine' or 'group'", {"scope": ["must be 'mine' or 'group'"]})
        if sort not in INBOX_SORTS:
            raise Invalid(f"sort must be one of {', '.join(INBOX_SORTS)}", {"sort": ["unknown sort"]})
        if actor.is_device:
            raise Forbidden("a window's rating device has no inbox")
        groups = sorted(actor.groups if group is None else actor.groups & {group})
        mine = scope in (None, "mine") and actor.id is not None and group is None
        groups = groups if scope in (None, "group") else []
        if search or sort != "urgency":
            return self._inbox_query(actor, mine, groups, process_id, case_id, search, sort, page, per_page)
        s = self.session
        want = page * per_page
        streams, total = [], 0
        q_ = TaskQueue.__table__.c

        def filtered(q):
            if process_id:
                q = q.where(_T.c.process_id == process_id)
            if case_id:
                q = q.where(_T.c.case_id == case_id)
            return q

        if mine:
            own = filtered(sa.select(sa.func.coalesce(_T.c.due_at, NEVER_DUE), _T.c.created_at, _T.c.id)
                           .where(_T.c.assignee_id == actor.id, _T.c.status == "open"))
            rows = s.execute(own).all()  # one person's held tasks: few
            streams.append(sorted(rows)[:want])
            total += len(rows)
        # per group: a task open to two of one's groups counts in each (an exact distinct
        # count over a large queue costs ten times more)
        join = process_id or case_id
        if not join:
            total += sum(self._queued(groups).values())
        for g in groups:
            q = sa.select(q_.rank_at, q_.created_at, q_.task_id).where(q_.group_name == g)
            if join:
                q = filtered(q.join(_T, _T.c.id == q_.task_id))
                total += s.scalar(filtered(sa.select(sa.func.count()).select_from(TaskQueue.__table__)
                                           .join(_T, _T.c.id == q_.task_id).where(q_.group_name == g)))
            streams.append(s.execute(q.order_by(q_.rank_at, q_.created_at, q_.task_id).limit(want)).all())
        seen, ids = set(), []
        for *_, task_id in heapq.merge(*streams):
            if task_id not in seen:
                seen.add(task_id)
                ids.append(task_id)
        return self._rows(ids[(page - 1) * per_page: page * per_page]), total

    def _inbox_query(self, actor, mine, groups, process_id, case_id, search, sort, page, per_page):
        q_ = TaskQueue.__table__.c
        who = []
        if mine:
            who.append(_T.c.assignee_id == actor.id)
        if groups:
            who.append(_T.c.id.in_(sa.select(q_.task_id).where(q_.group_name.in_(groups))))
        if not who:
            return [], 0
        q = sa.select(_T.c.id).where(_T.c.status == "open", sa.or_(*who))
        if process_id:
            q = q.where(_T.c.process_id == process_id)
        if case_id:
            q = q.where(_T.c.case_id == case_id)
        if search:
            like = f"%{search.strip()}%"
            q = q.where(sa.or_(_T.c.case_number.like(like), _T.c.case_title.like(like)))
        total = self.session.scalar(sa.select(sa.func.count()).select_from(q.subquery()))
        order = {
            "urgency": (sa.func.coalesce(_T.c.due_at, NEVER_DUE), _T.c.created_at, _T.c.id),
            "oldest": (_T.c.created_at, _T.c.id),
            "newest": (_T.c.created_at.desc(), _T.c.id.desc()),
            "number": (_T.c.case_number, _T.c.id),
        }[sort]
        ids = self.session.scalars(q.order_by(*order).limit(per_page).offset((page - 1) * per_page)).all()
        return self._rows(list(ids)), total

    def counts(self, actor: Actor) -> dict:
        """What the navigation bar shows: tasks held by the actor, unclaimed tasks of their groups."""
        mine = self.session.scalar(sa.select(sa.func.count()).select_from(_T).where(
            _T.c.assignee_id == actor.id, _T.c.status == "open")) if actor.id is not None else 0
        return {"mine": mine, "group": sum(self._queued(actor.groups).values())}

    def _queued(self, groups) -> dict[str, int]:
        """How many tasks wait unclaimed in each of `groups`' queues."""
        if not groups:
            return {}
        return dict(self.session.execute(sa.select(QueueCount.group_name, QueueCount.queued)
                                         .where(QueueCount.group_name.in_(groups))).all())

    def done_by(self, actor: Actor, page: int = 1, per_page: int = 50):
        q = sa.select(_T.c.id).where(_T.c.completed_by_id == actor.id, _T.c.status == "completed")
        total = self.session.scalar(sa.select(sa.func.count()).select_from(q.subquery()))
        ids = self.session.scalars(q.order_by(_T.c.completed_at.desc(), _T.c.id.desc()).limit(per_page)
                                   .offset((page - 1) * per_page)).all()
        return self._rows(list(ids)), total

    def case_tasks(self, case_id: int, status: str | None = "open") -> list:
        with reading(self.runtime.bind) as st:
            return st.case_tasks(case_id, status)

    def spec(self, task):
        """The Spiff task spec of a task row (for its form)."""
        return self.runtime.repository.bundle(task.version_id).human_task(task.element_id)

    def form(self, task):
        return runtime.form_schema(self.forms, getattr(self.spec(task), "form", None))

    def describe_form(self, task) -> list[dict]:
        """The task's form for a client; a window's checklist (`materialCheck`) offers the
        materials of the case's item as its choices."""
        described = forms_pkg.describe(self.form(task))
        if (getattr(self.spec(task), "extensions", None) or {}).get("materialCheck"):
            terms = self.session.scalar(sa.select(CatalogueItem.materials).join(Case, Case.item_id == CatalogueItem.id)
                                        .where(Case.id == task.case_id))
            self.session.rollback()
            choices = [{"value": m["name"], "label": m["name"]} for m in terms or []]
            for f in described:
                if choices and f["name"] in materials.CHECKLIST and f.get("item"):
                    f["item"] = {**f["item"], "type": "enum", "choices": choices}
        return described

    def part_of(self, task) -> set[str] | None:
        """The departments whose part of the case a task reads (its groups, when it reads a
        part: `visibleData`); None when it reads the whole case."""
        if (getattr(self.spec(task), "extensions", None) or {}).get("visibleData"):
            return set(task.candidate_groups or [])
        return None

    def visible_data(self, task) -> dict:
        """What the task's worker reads of the case: its `visibleData` keys (or all of it),
        and the item a multi-instance task is about."""
        data = self.session.scalar(sa.select(Case.data).where(Case.id == task.case_id)) or {}
        keys = (getattr(self.spec(task), "extensions", None) or {}).get("visibleData")
        if keys:
            data = {k: data[k] for k in (x.strip() for x in keys.split(",")) if k in data}
        return {**data, **(task.context or {})}

    # claiming ----------------------------------------------------------------------
    def _locked(self, s, task_id: int) -> Task:
        """The task row, locked as every action locks: its case first, then the task (on
        PostgreSQL; SQLite's write lock is the whole database). Locking the task alone
        would deadlock with a completion, which holds the case and waits for the task."""
        q = sa.select(Task).where(Task.id == task_id).execution_options(populate_existing=True)
        if db.is_postgres(s):
            case_id = s.scalar(sa.select(Task.case_id).where(Task.id == task_id))
            if case_id is not None:
                s.execute(sa.select(Case.id).where(Case.id == case_id).with_for_update())
            q = q.with_for_update()
        task = s.scalar(q)
        if task is None:
            raise NotFound(f"no task {task_id}")
        if task.status != "open":
            raise Conflict(f"task {task_id} is {task.status}")
        return task

    @staticmethod
    def _hold(s, task: Task, user_id: int | None) -> None:
        """Give the task to `user_id` (None: back to its groups' queues)."""
        task.assignee_id = user_id
        task.claimed_at = clock.now() if user_id else None
        changes = Counter()
        changes.subtract(s.scalars(sa.delete(TaskQueue).where(TaskQueue.task_id == task.id)
                                   .returning(TaskQueue.group_name)).all())
        if user_id is None and task.candidate_groups:
            s.execute(sa.insert(TaskQueue), [{"group_name": g, "rank_at": task.due_at or NEVER_DUE,
                                              "created_at": task.created_at, "task_id": task.id}
                                             for g in task.candidate_groups])
            changes.update(task.candidate_groups)
        add_to_queue_counts(s.connection(), changes)

    def _holder(self, s, task: Task) -> str:
        return s.scalar(sa.select(User.username).where(User.id == task.assignee_id)) or "someone else"

    def claim(self, actor: Actor, task_id: int):
        with db.write(self.session) as s:
            task = self._locked(s, task_id)
            if task.assignee_id != actor.id:
                if task.assignee_id is not None:
                    raise Conflict(f"task {task_id} is held by {self._holder(s, task)}")
                if not may_work(actor, task):
                    raise Forbidden("this task is not open to your groups")
                self._hold(s, task, actor.id)
                history.record(s, [history.event(task.case_id, actor.username, "claimed", task.element_id,
                                                 task.id, task.process_id)])
        return self.row(task_id)

    def unclaim(self, actor: Actor, task_id: int):
        with db.write(self.session) as s:
            task = self._locked(s, task_id)
            if task.assignee_id is None:
                if not may_work(actor, task) and not actor.has("coordinator", "director"):
                    raise Forbidden("this task is not open to your groups")
            else:
                if task.assignee_id != actor.id and not actor.has("coordinator", "director"):
                    raise Conflict(f"task {task_id} is held by {self._holder(s, task)}")
                self._hold(s, task, None)
                history.record(s, [history.event(task.case_id, actor.username, "unclaimed", task.element_id,
                                                 task.id, task.process_id)])
        return self.row(task_id)

    def assign(self, actor: Actor, task_id: int, username: str):
        if not actor.has("coordinator", "director"):
            raise Forbidden("assigning tasks needs the coordinator role")
        if not isinstance(username, str) or not username:
            raise Invalid("username is required", {"username": ["required"]})
        with db.write(self.session) as s:
            user = s.scalar(sa.select(User).where(User.username == username))
            if user is None or not user.active:
                raise Invalid(f"no active user '{username}'", {"username": [f"no active user '{username}'"]})
            task = self._locked(s, task_id)
            assignee = actor_of(user)
            if not assignee.has(*WORKING_ROLES) and not may_work(assignee, SimpleNamespace(
                    assignee_id=None, candidate_groups=task.candidate_groups)):
                raise Invalid(f"{username} may not work this task: not staff, and not in its groups",
                              {"username": ["may not work this task"]})
            self._hold(s, task, user.id)
            history.record(s, [history.event(task.case_id, actor.username, "assigned", task.element_id, task.id,
                                             task.process_id, {"to": username})])
        return self.row(task_id)

    def regroup(self, actor: Actor, task_id: int, group: str):
        """Move a task to another group's queue (nobody holds it afterwards)."""
        if not actor.has("coordinator", "director"):
            raise Forbidden("reassigning tasks needs the coordinator role")
        if not isinstance(group, str) or not group.strip():
            raise Invalid("group is required", {"group": ["required"]})
        group = group.strip()
        if group == APPLICANTS:
            raise Invalid("a task for the applicant is given to the case's own applicant, not to the group",
                          {"group": ["not the applicants' group"]})
        with db.write(self.session) as s:
            if s.get(Group, group) is None:
                raise Invalid(f"no group '{group}'", {"group": [f"no group '{group}'"]})
            task = self._locked(s, task_id)
            task.candidate_groups = [group]
            self._hold(s, task, None)
            history.record(s, [history.event(task.case_id, actor.username, "assigned", task.element_id, task.id,
                                             task.process_id, {"to_group": group})])
        return self.row(task_id)

    # completing --------------------------------------------------------------------
    def complete(self, actor: Actor, task_id: int, data, read=None):
        """Validate `data` against the task's form and complete it; returns the case (or
        with `read`, what it reads in the action's transaction: see `Runtime.act`).

        Completing an unclaimed task one may work claims it first (both recorded)."""
        found = {}

        def locate(st) -> int:
            task = st.task(task_id, lock=True)
            if task is None:
                raise NotFound(f"no task {task_id}")
            task = SimpleNamespace(**task)
            if task.status != "open":
                raise Conflict(f"task {task_id} is already {task.status}")
            if not may_work(actor, task):
                if task.assignee_id is not None and may_work(actor, SimpleNamespace(
                        assignee_id=None, candidate_groups=task.candidate_groups)):
                    raise Conflict(f"task {task_id} is held by {task.assignee or 'someone else'}")
                raise Forbidden("this task is not yours" if task.assignee_id
                                else "this task is not open to your groups")
            spec = self.runtime.repository.bundle(task.version_id).human_task(task.element_id)
            found["task"] = task
            found["data"] = runtime.validate_form(runtime.form_schema(self.forms, getattr(spec, "form", None)),
                                                  data if data is not None else {})
            decision = (getattr(spec, "extensions", None) or {}).get("materialCheck")
            terms = st.item_materials(task.case_id) if decision else None
            if terms is not None:  # the window's checklist against what the case's item asks for
                errors = materials.intake_errors(terms, found["data"], decision)
                if errors:
                    raise Invalid(f"invalid data: {', '.join(sorted(errors))}", errors)
            return task.case_id

        def finish(act: runtime.Action) -> None:
            task, values = found["task"], found["data"]
            t = runtime.spiff_task(act.wf, task.spiff_id)
            if t is None or t.state != TaskState.READY:
                raise Conflict(f"task {task_id} is no longer open")
            if not act.store.complete_task(task.id, actor.id, act.now, runtime.jsonable(values),
                                           alerting=task.next_alert_at is not None):
                raise Conflict(f"task {task_id} was completed or claimed by someone else meanwhile")
            if task.assignee_id is None:
                act.store.dequeue([task.id])
                act.log("claimed", task.element_id, task.id)
            _apply(t, values)
            act.worked = task
            try:
                t.run()
            except (Exception, scripting.ScriptLimitExceeded) as e:
                raise runtime.engine_failure(e) from e
            act.completed.add(task.id)
            act.log("completed", task.element_id, task.id)
            due = act.due_of(task)
            if due is not None and act.now > due:
                act.accountability.append({
                    "case_id": task.case_id, "task_id": task.id, "kind": "late",
                    "department": limits.department(task), "person": actor.username,
                    "days_over": calendar.current().late_workdays(due, act.now), "reason": None, "at": act.now})

        return self.runtime.act(actor, finish, locate=locate, read=read)


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
