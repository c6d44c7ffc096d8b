"""Incidents: automatic steps that failed (Camunda's incidents). A timer's follow-up that
fails (a script error, a bad expression) leaves its case at its last good state; the
scheduler tries it again after 1, 5 and 30 minutes (`runtime.RETRY_WAITS`), then it waits
for a process owner or an admin, who retries it (once the cause is fixed: the diagram
corrected, the case moved on), corrects the case's data with a reason, or has the case
terminated. Each of these is in the case's history."""

from __future__ import annotations

import sqlalchemy as sa
from SpiffWorkflow.util.task import TaskState

from engine import clock, db, history
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.identity import KEEPERS, Actor
from engine.models import Case, ExternalTask, Incident
from engine.runtime import Action, Runtime, given_reason

MAX_CORRECTED = 20  # fields one correction may set


class Incidents:
    def __init__(self, session, runtime: Runtime):
        self.session = session
        self.runtime = runtime

    @staticmethod
    def _keeper(actor: Actor) -> None:
        if not actor.has(*KEEPERS):
            raise Forbidden("incidents are a process owner's or an admin's")

    def listing(self, actor: Actor, process_id: str | None = None, case_id: int | None = None,
                resolved: bool = False, limit: int = 200) -> list:
        """Incidents, newest first: the unresolved (or, with `resolved`, all) of a process or a case."""
        if case_id is None:
            self._keeper(actor)
        else:
            self.runtime.visible_case(actor, case_id)
        q = sa.select(Incident, Case.number).join(Case, Case.id == Incident.case_id)
        if not resolved:
            q = q.where(Incident.status != "resolved")
        if process_id:
            q = q.where(Incident.process_id == process_id)
        if case_id is not None:
            q = q.where(Incident.case_id == case_id)
        rows = self.session.execute(q.order_by(Incident.id.desc()).limit(limit)).all()
        self.session.rollback()
        return rows

    def counts(self) -> dict[str, int]:
        """Unresolved incidents per process (the process models page's counts)."""
        rows = self.session.execute(sa.select(Incident.process_id, sa.func.count()).where(
            Incident.status != "resolved").group_by(Incident.process_id)).all()
        self.session.rollback()
        return dict(rows)

    def _open(self, actor: Actor, incident_id: int) -> Incident:
        self._keeper(actor)
        incident = self.session.get(Incident, incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}")
        if incident.status == "resolved":
            raise Conflict(f"incident {incident_id} is resolved")
        return incident

    def retry(self, actor: Actor, incident_id: int) -> Incident:
        """Try the failed step again now (the scheduler takes it at once); if it fails again,
        the incident is open again."""
        incident = self._open(actor, incident_id)
        now = clock.now()
        with db.write(self.session) as s:
            # an external task's: its workers may fetch it again (a new failure, a new incident)
            if s.execute(sa.update(ExternalTask).where(
                    ExternalTask.case_id == incident.case_id, ExternalTask.element_id == incident.element_id,
                    ExternalTask.status == "incident").values(status="open", retries=1)).rowcount:
                s.execute(sa.update(Incident).where(Incident.id == incident_id).values(
                    status="resolved", resolved_at=now, resolved_by=actor.username, resolution="retried"))
                history.record(s, [history.event(incident.case_id, actor.username, "incident_retried",
                                                 incident.element_id, process_id=incident.process_id,
                                                 detail={"incident": incident_id}, at=now)])
                return self.session.get(Incident, incident_id)
            taken = s.execute(sa.update(Case).where(Case.id == incident.case_id, Case.status == "running",
                                                    Case.suspended_at.is_(None)).values(next_timer_at=now))
            if taken.rowcount != 1:
                raise Conflict(f"case {incident.case_id} is not running, or is suspended: it is not tried again")
            s.execute(sa.update(Incident).where(Incident.id == incident_id).values(
                status="retrying", next_retry_at=now))
            history.record(s, [history.event(incident.case_id, actor.username, "incident_retried",
                                             incident.element_id, process_id=incident.process_id,
                                             detail={"incident": incident_id}, at=now)])
        return self.session.get(Incident, incident_id)

    def correct(self, actor: Actor, incident_id: int, changes, reason) -> Incident:
        """Set some of the case's data (a value the failed step cannot take), with a reason,
        and run the case on: the step is tried in the same action, and if it still fails
        nothing is changed and the error says why."""
        incident = self._open(actor, incident_id)
        if not isinstance(changes, dict) or not changes or len(changes) > MAX_CORRECTED:
            raise Invalid(f"data: 1 to {MAX_CORRECTED} fields to set", {"data": [f"1 to {MAX_CORRECTED} fields"]})
        if bad := [k for k in changes if not (isinstance(k, str) and k.isidentifier() and not k.startswith("_"))]:
            raise Invalid(f"data: '{str(bad[0])[:40]}' is not a field name", {"data": ["field names"]})
        reason = given_reason(reason)

        def fix(act: Action) -> None:
            # every task that holds data: a waiting event takes its data again from the step
            # before it when it fires, so the steps passed hold the corrected values too
            for t in act.wf.tasks.values():
                if not t.has_state(TaskState.PREDICTED_MASK):
                    t.data.update(changes)
            act.wf.data.update(changes)
            act.log("data_corrected", incident.element_id,
                    detail={"incident": incident_id, "fields": sorted(changes), "reason": reason})

        self.runtime.act(actor, fix, case_id=incident.case_id, while_suspended=True)
        self._resolve(incident.case_id, actor, "corrected")
        return self.session.get(Incident, incident_id)

    def terminate(self, actor: Actor, incident_id: int, reason) -> Incident:
        """End the case of an incident that cannot be put right."""
        incident = self._open(actor, incident_id)
        self.runtime.terminate(actor, incident.case_id, reason, by_keeper=True)
        self._resolve(incident.case_id, actor, "terminated")
        return self.session.get(Incident, incident_id)

    def _resolve(self, case_id: int, actor: Actor, how: str) -> None:
        now = clock.now()
        with db.write(self.session) as s:
            s.execute(sa.update(Incident).where(Incident.case_id == case_id, Incident.status != "resolved").values(
                status="resolved", resolved_at=now, resolved_by=actor.username, resolution=how, next_retry_at=None))

