"""External tasks (Camunda 7's external-task pattern): a serviceTask with
camunda:type="external" and a topic waits for another system (the 工商 registration system,
the tax system, a bank). Its workers fetch and lock work by topic, then complete it with
variables or report a failure with the retries left; when none are left the task is an
incident (engine.incidents) till a person retries it. A lock that expires hands the work to
the next worker. On PostgreSQL the rows are taken FOR UPDATE SKIP LOCKED: two workers never
get the same task, on any number of nodes."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from SpiffWorkflow.util.task import TaskState

from engine import clock, db, history
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.identity import Actor
from engine.models import Case, ExternalTask, Incident
from engine.runtime import Action, Runtime, spiff_task

WORKERS = ("integrator",)  # the accounts of other systems (and admins)
MAX_TASKS = 100  # a fetch's tasks, at most
MAX_TOPICS = 50
MAX_LOCK = dt.timedelta(days=1)
MAX_VARIABLES = 100
WORKER_CHARS = 128

_X = ExternalTask.__table__


class ExternalTasks:
    def __init__(self, session, runtime: Runtime):
        self.session = session
        self.runtime = runtime

    @staticmethod
    def _worker(actor: Actor, worker_id) -> str:
        if not actor.has(*WORKERS):
            raise Forbidden("external tasks are fetched by other systems' accounts (role integrator)")
        if not isinstance(worker_id, str) or not 1 <= len(worker_id) <= WORKER_CHARS:
            raise Invalid(f"workerId: 1 to {WORKER_CHARS} characters", {"workerId": ["1 to 128 characters"]})
        return worker_id

    def fetch_and_lock(self, actor: Actor, worker_id: str, max_tasks: int, topics: list[dict]) -> list[dict]:
        """Lock up to `max_tasks` open tasks of the topics asked for (each {"topicName",
        "lockDuration" in ms, "variables": names or None}), oldest first, for the worker.
        Returns each task with the case's data it asked for."""
        worker_id = self._worker(actor, worker_id)
        if not isinstance(max_tasks, int) or not 1 <= max_tasks <= MAX_TASKS:
            raise Invalid(f"maxTasks: 1 to {MAX_TASKS}", {"maxTasks": [f"1 to {MAX_TASKS}"]})
        if not topics or len(topics) > MAX_TOPICS:
            raise Invalid(f"topics: 1 to {MAX_TOPICS}", {"topics": [f"1 to {MAX_TOPICS}"]})
        lock = {}
        for t in topics:
            ms = t.get("lockDuration")
            if not isinstance(ms, int) or not 1 <= ms <= MAX_LOCK.total_seconds() * 1000:
                raise Invalid("lockDuration: 1 ms to a day", {"topics": ["lockDuration: 1 ms to a day"]})
            lock[t["topicName"]] = (dt.timedelta(milliseconds=ms), t.get("variables"))
        now = clock.now()
        with db.write(self.session) as s:
            # each topic's oldest in its own index range (topic, id), then the oldest of them all:
            # one search over every topic asked for would read and sort all their open tasks
            rows = sorted((r for topic in sorted(lock) for r in s.execute(
                _FETCHABLE, {"topic": topic, "now": now, "n": max_tasks}).all()), key=lambda r: r.id)[:max_tasks]
            out = []
            for duration in {lock[r.topic][0] for r in rows}:
                s.execute(sa.update(_X).where(_X.c.id.in_([r.id for r in rows if lock[r.topic][0] == duration]))
                          .values(worker_id=worker_id, lock_expires_at=now + duration))
            data = dict(s.execute(sa.select(Case.id, Case.data).where(Case.id.in_({r.case_id for r in rows}))).all())
            for r in rows:
                wanted = lock[r.topic][1]
                case_data = data.get(r.case_id) or {}
                out.append({"id": r.id, "topic": r.topic, "worker_id": worker_id, "case_id": r.case_id,
                            "element_id": r.element_id, "process_id": r.process_id, "retries": r.retries,
                            "error_message": r.error_message, "lock_expires_at": now + lock[r.topic][0],
                            "variables": {k: v for k, v in case_data.items() if wanted is None or k in wanted}})
        return out

    def _held(self, s, task_id: int, worker_id: str, now: dt.datetime):
        row = s.execute(sa.select(_X).where(_X.c.id == task_id).with_for_update()).first()
        if row is None:
            raise NotFound(f"no external task {task_id}")
        if row.worker_id != worker_id or row.lock_expires_at is None or row.lock_expires_at <= now:
            raise Conflict(f"external task {task_id} is not locked by worker {worker_id}")
        return row

    def complete(self, actor: Actor, task_id: int, worker_id: str, variables: dict | None = None):
        """The worker's work is done: its variables join the case's data and the case goes on."""
        worker_id = self._worker(actor, worker_id)
        variables = _variables(variables)
        row = self.session.get(ExternalTask, task_id)
        if row is None:
            raise NotFound(f"no external task {task_id}")
        case_id = row.case_id
        self.session.rollback()

        def finish(act: Action) -> None:
            held = act.store.run(_HELD, {"_id": task_id}).rows
            if not held or held[0][1] != worker_id or held[0][2] is None or held[0][2] <= act.now:
                raise Conflict(f"external task {task_id} is not locked by worker {worker_id}")
            task = spiff_task(act.wf, held[0][0])
            if task is None or task._state != TaskState.STARTED:
                raise Conflict(f"external task {task_id} is no longer waiting")
            task.data.update(variables)
            task.complete()
            act.log("external_completed", task.task_spec.bpmn_id, detail={
                "worker": worker_id, "variables": sorted(variables)})

        return self.runtime.act(actor, finish, case_id=case_id)

    def failure(self, actor: Actor, task_id: int, worker_id: str, message, retries, retry_timeout_ms: int = 0):
        """The worker could not do it: with `retries` left, it is fetched again after the
        timeout; with none, it is an incident."""
        worker_id = self._worker(actor, worker_id)
        message = (message if isinstance(message, str) else "")[:1000] or "failed"
        if not isinstance(retries, int) or retries < 0 or retries > 1000:
            raise Invalid("retries: 0 to 1000", {"retries": ["0 to 1000"]})
        if not isinstance(retry_timeout_ms, int) or not 0 <= retry_timeout_ms <= MAX_LOCK.total_seconds() * 1000:
            raise Invalid("retryTimeout: 0 ms to a day", {"retryTimeout": ["0 ms to a day"]})
        now = clock.now()
        with db.write(self.session) as s:
            row = self._held(s, task_id, worker_id, now)
            if retries:
                s.execute(sa.update(_X).where(_X.c.id == task_id).values(
                    retries=retries, error_message=message, worker_id=None,
                    lock_expires_at=now + dt.timedelta(milliseconds=retry_timeout_ms)))
            else:
                s.execute(sa.update(_X).where(_X.c.id == task_id).values(
                    retries=0, error_message=message, worker_id=None, lock_expires_at=None, status="incident"))
                data = s.scalar(sa.select(Case.data).where(Case.id == row.case_id))
                s.add(Incident(case_id=row.case_id, process_id=row.process_id, element_id=row.element_id,
                               message=message, data=data, status="open", attempts=1, opened_at=now, last_at=now))
            history.record(s, [history.event(row.case_id, actor.username, "external_failed", row.element_id,
                                             process_id=row.process_id, at=now, detail={
                                                 "worker": worker_id, "message": message, "retries": retries})])

    def unlock(self, actor: Actor, task_id: int, worker_id: str | None = None) -> None:
        """Give the task back (its worker, or, without `worker_id`, any of the system's
        accounts, as Camunda's unlock): the next fetch may take it."""
        if worker_id is not None:
            self._worker(actor, worker_id)
        elif not actor.has(*WORKERS):
            raise Forbidden("external tasks are fetched by other systems' accounts (role integrator)")
        with db.write(self.session) as s:
            if worker_id is not None:
                self._held(s, task_id, worker_id, clock.now())
            elif s.get(ExternalTask, task_id) is None:
                raise NotFound(f"no external task {task_id}")
            s.execute(sa.update(_X).where(_X.c.id == task_id).values(worker_id=None, lock_expires_at=None))

    def extend_lock(self, actor: Actor, task_id: int, worker_id: str, new_duration_ms: int) -> None:
        worker_id = self._worker(actor, worker_id)
        if not isinstance(new_duration_ms, int) or not 1 <= new_duration_ms <= MAX_LOCK.total_seconds() * 1000:
            raise Invalid("newDuration: 1 ms to a day", {"newDuration": ["1 ms to a day"]})
        now = clock.now()
        with db.write(self.session) as s:
            self._held(s, task_id, worker_id, now)
            s.execute(sa.update(_X).where(_X.c.id == task_id).values(
                lock_expires_at=now + dt.timedelta(milliseconds=new_duration_ms)))

    def listing(self, actor: Actor, topic: str | None = None, limit: int = 200) -> list:
        """External tasks, oldest first (a topic's, if given): for admins and the workers' accounts."""
        if not actor.has(*WORKERS, "process_owner"):
            raise Forbidden("external tasks are listed for process owners and other systems' accounts")
        q = sa.select(ExternalTask).order_by(ExternalTask.id).limit(limit)
        if topic:
            q = q.where(ExternalTask.topic == topic)
        rows = list(self.session.scalars(q))
        self.session.rollback()
        return rows


_FETCHABLE = sa.select(_X.c.id, _X.c.topic, _X.c.case_id, _X.c.element_id, _X.c.process_id, _X.c.retries,
                       _X.c.error_message).where(
    _X.c.status == "open", _X.c.topic == sa.bindparam("topic"),
    sa.or_(_X.c.lock_expires_at.is_(None), _X.c.lock_expires_at <= sa.bindparam("now", type_=_X.c.lock_expires_at.type))
).order_by(_X.c.id).limit(sa.bindparam("n")).with_for_update(skip_locked=True)
_HELD = sa.select(_X.c.spiff_id, _X.c.worker_id, _X.c.lock_expires_at).where(_X.c.id == sa.bindparam("_id"))


def _variables(given) -> dict:
    if given is None:
        return {}
    if not isinstance(given, dict) or len(given) > MAX_VARIABLES:
        raise Invalid(f"variables: an object of at most {MAX_VARIABLES}", {"variables": ["an object"]})
    if bad := [k for k in given if not (isinstance(k, str) and k.isidentifier() and not k.startswith("_"))]:
        raise Invalid(f"variables: '{str(bad[0])[:40]}' is not a variable name", {"variables": ["names"]})
    return given
