"""意见建议 and 投诉: raised on the portal (企业之家), at the counter or by phone (entered by
hall staff for a person, with a contact), by the 驻厅监察, or at a 回访 (engine.visits).

Each is a case of the hall's own process `complaint` (processes/complaint.bpmn): 管理办
classifies it and gives it to a department, which investigates within the working days
given and rectifies; 管理办 answers the person who raised it, the 驻厅监察 closes it. The
steps are ordinary tasks in the inboxes (deadlines, escalation and all). A row of
`complaints` keeps what lists and rights read; the case's listener (`_saved`) keeps it in
step with the case, in the action's own transaction.

A misconduct the investigation finds (越权审批, 错批...) names the step it was in: whoever
completed that task answers for it (谁审批谁负责). Confirmed at the close, it becomes an
审批问责 record of its kind."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from types import SimpleNamespace

import sqlalchemy as sa

import forms as forms_pkg
from engine import clock, limits
from engine.deadlines import MISCONDUCT
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.identity import FILERS, OVERSIGHT, WINDOW_ROLES, Actor
from engine.models import Case, Complaint, Task, User
from engine.runtime import validate_form

PROCESS = "complaint"
INTAKE_GROUP = "意见建议受理"  # the process's starter group: cases start here only
OFFICE = "管理办"  # classifies, answers; sees every complaint
SUPERVISION = "驻厅监察"  # the close's lane: a supervisor closes, whatever groups they are in
KINDS = {"suggestion": "意见建议", "complaint": "投诉", **MISCONDUCT}
CHANNELS = {"portal": "企业之家", "counter": "窗口", "phone": "电话", "supervision": "驻厅监察", "visit": "回访"}
STEPS = ("classify", "investigate", "rectify", "reply", "close")  # its status: the step it waits at, or closed
STATUSES = (*STEPS, "closed")
MAX_OPEN = 5  # complaints one account may have open at once on the portal
INTAKE_FIELDS = ("kind", "subject", "content", "contact_name", "contact_phone", "about_case", "about_task")

_CP = Complaint.__table__
_INSERT = sa.insert(_CP).returning(_CP.c.id)
_BY_CASE = sa.select(_CP).where(_CP.c.case_id == sa.bindparam("case_id"))
_UPDATE = sa.update(_CP).where(_CP.c.id == sa.bindparam("_id"))  # SET: the keys given
_T = Task.__table__
_STEP = sa.select(_T.c.id, _T.c.case_id, _T.c.process_id, _T.c.status, _T.c.candidate_groups, _T.c.lane,
                  User.username.label("completed_by")) \
    .select_from(_T.outerjoin(User, User.id == _T.c.completed_by_id)).where(_T.c.id == sa.bindparam("task_id"))
_ROWS = sa.select(_CP, Case.number, Case.status.label("case_status"), User.username.label("entered_by"),
                  User.display_name.label("entered_by_name")) \
    .join(Case, Case.id == _CP.c.case_id).join(User, User.id == _CP.c.entered_by_id)
# what the person who raised it reads (not what the investigation found of whom)
PUBLIC = ("id", "case_id", "number", "channel", "kind", "subject", "content", "contact_name", "contact_phone",
          "about_case", "about_task_id", "department", "status", "reply", "replied_at", "created_at", "closed_at")


class Complaints:
    def __init__(self, session, runtime, tasks):
        self.session = session
        self.runtime = runtime
        self.tasks = tasks
        runtime.listeners[PROCESS] = self._saved
        runtime.guards[PROCESS] = self._may_see_case

    # --- raising one ----------------------------------------------------------------

    def submit(self, actor: Actor, channel: str, data, then: Callable | None = None) -> SimpleNamespace:
        """Raise a suggestion or a complaint by `channel`; returns it. `data`: kind, subject,
        content, and for the counter and the phone the person's contact_name and
        contact_phone; about_case (a case number: on the portal one of the enterprise's own)
        and about_task (a task of that case) if it is about one. `then(store, complaint_id)`
        runs in the same transaction (engine.visits links its visit so)."""
        if channel not in CHANNELS:
            named = ", ".join(CHANNELS)
            raise Invalid(f"channel must be one of {named}", {"channel": [f"one of {named}"]})
        if channel == "portal" and not actor.has(*FILERS):
            raise Forbidden("the portal takes an enterprise's own complaints")
        if channel in ("counter", "phone") and not actor.has(*WINDOW_ROLES):
            raise Forbidden("complaints at the counter or by phone are entered by hall staff")
        if channel == "supervision" and not actor.has("supervisor"):
            raise Forbidden("this channel is the 驻厅监察's")
        if channel == "visit" and not (actor.has("coordinator") or OFFICE in actor.groups):
            raise Forbidden("a visit's suggestion is raised by 管理办")
        if not isinstance(data, dict):
            raise Invalid("the complaint must be a JSON object", {"data": ["a JSON object"]})
        unknown = sorted(set(data) - set(INTAKE_FIELDS))
        if unknown:
            raise Invalid(f"unknown field(s): {', '.join(unknown)}", {k: ["unknown field"] for k in unknown})
        about = data.get("about_case")
        step = data.get("about_task")
        start = {"kind": data.get("kind"), "subject": _stripped(data.get("subject")),
                 "content": _stripped(data.get("content")), "source": channel,
                 "contact_name": _stripped(data.get("contact_name")) or None,
                 "contact_phone": _stripped(data.get("contact_phone")) or None,
                 "about_case": _stripped(about) or None, "about_step": None}
        start = validate_form(forms_pkg.registry.get("ts_intake"), start)
        if channel in ("counter", "phone") and not (start.get("contact_name") and start.get("contact_phone")):
            raise Invalid("a complaint entered for a person names their contact",
                          {k: ["required"] for k in ("contact_name", "contact_phone") if not start.get(k)})
        about_case, about_task = self._about(actor, start.get("about_case"), step)
        if about_task is not None:
            start["about_step"] = about_task.name
        if actor.has(*FILERS) and self._open_of(actor.id) >= MAX_OPEN:
            raise Conflict(f"you have {MAX_OPEN} complaints still open: raise another once one is answered")
        now = clock.now()
        intake = Actor(id=None, username=actor.username, roles=frozenset({"system"}),
                       groups=frozenset({INTAKE_GROUP}))

        def keep(st, case_id: int) -> int:
            complaint_id = st.run(_INSERT, {
                "case_id": case_id, "channel": channel, "kind": start["kind"], "subject": start["subject"],
                "content": start["content"], "contact_name": start.get("contact_name"),
                "contact_phone": start.get("contact_phone"), "entered_by_id": actor.id,
                "enterprise_id": actor.enterprise_id, "about_case_id": about_case.id if about_case else None,
                "about_task_id": about_task.id if about_task else None, "department": None, "status": "classify",
                "finding": None, "responsible": None, "responsible_task_id": None, "reply": None,
                "replied_at": None, "created_at": now, "closed_at": None}).scalar()
            if then is not None:
                then(st, complaint_id)
            return complaint_id

        complaint_id = self.runtime.start(intake, PROCESS, start, read=keep)
        return self.get(actor, complaint_id)

    def _about(self, actor: Actor, number: str | None, task_id):
        """The case and the step a complaint names: on the portal a case the enterprise sees."""
        if task_id is not None and (not isinstance(task_id, int) or isinstance(task_id, bool)
                                    or not 1 <= task_id < 2**63):
            raise Invalid("about_task must be a task's number", {"about_task": ["a task's number"]})
        if number is None:
            if task_id is not None:
                raise Invalid("a step is named with its case", {"about_case": ["required with about_task"]})
            return None, None
        case = self.session.execute(sa.select(Case.id, Case.number, Case.started_by_id, Case.enterprise_id,
                                              Case.process_id).where(Case.number == number)).first()
        if case is None or case.process_id == PROCESS or (actor.is_applicant_only and not actor.owns(case)):
            raise Invalid(f"no case {number} of yours", {"about_case": ["no such case of yours"]})
        task = None
        if task_id is not None:
            task = self.session.execute(sa.select(_T.c.id, _T.c.name).where(
                _T.c.id == task_id, _T.c.case_id == case.id)).first()
            if task is None:
                raise Invalid(f"case {number} has no step {task_id}", {"about_task": ["not a step of that case"]})
        return case, task

    def _open_of(self, user_id: int) -> int:
        return self.session.scalar(sa.select(sa.func.count()).select_from(_CP).where(
            _CP.c.entered_by_id == user_id, _CP.c.status != "closed"))

    # --- the case's steps, as they happen ---------------------------------------------

    def _saved(self, act) -> None:
        """Keep the complaint in step with its case (runtime listener, in its transaction)."""
        case = act.case
        rows = act.store.run(_BY_CASE, {"case_id": case.id}).objects()
        if not rows:
            return  # being started: the row is written once the case is
        row = rows[0]
        data = case.data or {}
        open_steps = {el for _, el in act.open_tasks.values()}
        change = {"status": "closed" if case.status != "running"
                  else next((s for s in STEPS if s in open_steps), row.status)}
        step = act.worked.element_id if act.worked is not None else None
        if step == "classify":
            change.update(kind=data.get("kind"), department=data.get("department"))
        elif step == "investigate":
            change.update(self._finding(act, row, data))
        elif step == "reply":
            change.update(reply=data.get("reply"), replied_at=act.now)
            self._tell(act, row)
        elif step == "close":
            if data.get("accountable") and row.finding in MISCONDUCT:
                self._hold_to_account(act, row)
        if change["status"] == "closed" and row.closed_at is None:
            change["closed_at"] = act.now
        act.store.run(_update(tuple(sorted(change))), {"_id": row.id, **{f"_{k}": v for k, v in change.items()}})

    def _finding(self, act, row, data) -> dict:
        """What the investigation found; a misconduct names the step it was in (the one the
        complaint named, unless the investigation names another) and so who answers for it."""
        finding = data.get("misconduct") or "none"
        if finding not in MISCONDUCT:
            return {"finding": "none", "responsible": None, "responsible_task_id": None}
        task_id = data.get("responsible_task") or row.about_task_id
        if task_id is None:
            raise Invalid("a misconduct found names the step it was in",
                          {"responsible_task": ["required when a misconduct is found"]})
        steps = act.store.run(_STEP, {"task_id": task_id}).objects()
        if not steps or steps[0].status != "completed" or steps[0].process_id == PROCESS:
            raise Invalid(f"task {task_id} is not a step someone completed",
                          {"responsible_task": ["not a completed step of a case"]})
        return {"finding": finding, "responsible": steps[0].completed_by, "responsible_task_id": task_id}

    def _hold_to_account(self, act, row) -> None:
        step = act.store.run(_STEP, {"task_id": row.responsible_task_id}).objects()[0]
        act.accountability.append({
            "case_id": step.case_id, "task_id": step.id, "kind": row.finding,
            "department": limits.department(SimpleNamespace(candidate_groups=step.candidate_groups, lane=step.lane)),
            "person": row.responsible, "days_over": None,
            "reason": f"{act.case.number} {KINDS[row.finding]}：{row.subject}", "at": act.now})

    @staticmethod
    def _tell(act, row) -> None:
        """The person who raised it hears of the reply, if they raised it with an account of
        their own (staff who entered it for someone call them back)."""
        accounts = act.store.applicant_accounts(row.entered_by_id, None)
        if any(uid == row.entered_by_id and set(filter(None, roles.split(","))) <= FILERS for uid, roles in accounts):
            act.notifications.append({"user_id": row.entered_by_id, "kind": "complaint", "case_id": act.case.id,
                                      "task_id": None, "message": f"您的{KINDS.get(row.kind, '意见建议')}"
                                                                  f"「{row.subject}」已答复", "created_at": act.now})

    # --- the supervisor's close ---------------------------------------------------------

    def close(self, actor: Actor, complaint_id: int, data) -> SimpleNamespace:
        """The 驻厅监察 closes a complaint that has been answered (its close step)."""
        if not actor.has("supervisor"):
            raise Forbidden("the 驻厅监察 closes complaints")
        row = self.get(actor, complaint_id)
        task = next((t for t in self.tasks.case_tasks(row.case_id) if t.element_id == "close"), None)
        if task is None:
            raise Conflict(f"complaint {row.number} is not waiting to be closed (it is at {row.status})")
        self.tasks.complete(dataclasses.replace(actor, groups=actor.groups | {SUPERVISION}), task.id, data)
        return self.get(actor, complaint_id)

    # --- reading --------------------------------------------------------------------

    def sees_all(self, actor: Actor) -> bool:
        return actor.has(*OVERSIGHT) or OFFICE in actor.groups

    def _may_see(self, actor: Actor, row) -> bool:
        """The person who raised it (their enterprise too), staff who entered it, the
        department it was given to, 管理办, the supervisor and the director."""
        return self.sees_all(actor) or row.entered_by_id == actor.id or bool(
            actor.enterprise_id is not None and row.enterprise_id == actor.enterprise_id) or bool(
            row.department and row.department in actor.groups)

    def _may_see_case(self, actor: Actor, case) -> bool:
        row = self.session.execute(sa.select(_CP).where(_CP.c.case_id == case.id)).first()
        return self.sees_all(actor) if row is None else self._may_see(actor, row) and not actor.is_applicant_only

    def get(self, actor: Actor, complaint_id: int) -> SimpleNamespace:
        row = self.session.execute(_ROWS.where(_CP.c.id == complaint_id)).first()
        if row is None or not self._may_see(actor, row):
            raise NotFound(f"no complaint {complaint_id}")
        return self._shown(actor, row)

    def by_case(self, actor: Actor, case_id: int) -> SimpleNamespace:
        complaint_id = self.session.scalar(sa.select(_CP.c.id).where(_CP.c.case_id == case_id))
        if complaint_id is None:
            raise NotFound(f"no complaint of case {case_id}")
        return self.get(actor, complaint_id)

    def _shown(self, actor: Actor, row) -> SimpleNamespace:
        about = self.session.scalar(sa.select(Case.number).where(Case.id == row.about_case_id)) \
            if row.about_case_id else None
        shown = SimpleNamespace(**row._mapping, about_case=about)
        if actor.is_applicant_only:  # what was found of whom stays in the hall
            shown = SimpleNamespace(**{k: getattr(shown, k) for k in PUBLIC})
        return shown

    def list(self, actor: Actor, status: str | None = None, kind: str | None = None, page: int = 1,
             per_page: int = 50) -> tuple[list, int]:
        """The complaints the actor may see, newest first."""
        if status is not None and status not in STATUSES:
            raise Invalid(f"status must be one of {', '.join(STATUSES)}", {"status": [f"one of {', '.join(STATUSES)}"]})
        if kind is not None and kind not in KINDS:
            raise Invalid(f"kind must be one of {', '.join(KINDS)}", {"kind": [f"one of {', '.join(KINDS)}"]})
        q = _ROWS
        if not self.sees_all(actor):
            mine = [_CP.c.entered_by_id == actor.id]
            if actor.enterprise_id is not None:
                mine.append(_CP.c.enterprise_id == actor.enterprise_id)
            if actor.groups:
                mine.append(_CP.c.department.in_(sorted(actor.groups)))
            q = q.where(sa.or_(*mine))
        if status:
            q = q.where(_CP.c.status == status)
        if kind:
            q = q.where(_CP.c.kind == kind)
        total = self.session.scalar(sa.select(sa.func.count()).select_from(q.subquery()))
        rows = self.session.execute(q.order_by(_CP.c.id.desc()).limit(per_page).offset((page - 1) * per_page))
        return [self._shown(actor, r) for r in rows], total


@functools.cache
def _update(keys: tuple[str, ...]):
    """The statement that sets `keys` of a complaint, built once for each set of keys."""
    return _UPDATE.values(**{k: sa.bindparam(f"_{k}", type_=_CP.c[k].type) for k in keys})


def _stripped(value):
    return value.strip() if isinstance(value, str) else value
