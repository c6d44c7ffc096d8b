"""Deadlines as the hall manages them (the rules over one workflow are engine.limits):

- the sweep (`Deadlines.sweep`) moves warnings and escalates: it looks only at tasks whose
  next alert time has come, so its cost follows what changes, not what is open;
- the coordinators' actions: extend (with a reason), escalate, reassign, note (督办意见);
- stopping and starting a case's clock for a special procedure (听证, 检验检测, 鉴定, 专家评审);
- accountability records (审批问责) and their CSV, notifications and their e-mail;
- the working calendar: a day, a year, each change a revision every node counts with.
"""

from __future__ import annotations

import datetime as dt
import logging
from types import SimpleNamespace

import sqlalchemy as sa
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit

from engine import calendar, clock, db, exports, history, runtime
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.identity import Actor
from engine.limits import Policy, alert_state, department, timer_definitions, timer_due
from engine.models import Accountability, CalendarDay, CalendarRevision, CalendarYear, Case, Notification, Task, User
from engine.store import reading, transaction
from engine.tasks import TASK_ROW, may_work

log = logging.getLogger("hall.deadlines")

SPECIAL_PROCEDURES = ("听证", "检验检测", "鉴定", "专家评审")
# 审批问责's kinds named by the hall's rules: misconduct a complaint's investigation finds
# (engine.complaints), answered for by who did the step (谁审批谁负责)
MISCONDUCT = {"ultra_vires": "越权审批", "overtime": "超时审批", "wrong": "错批", "missed": "漏批",
              "bad_return": "不合理退批", "illegal_fee": "违规收费", "shirking": "办事敷衍推诿", "rude": "服务态度生硬"}
# and those the hall records by itself
ACCOUNTABILITY_KINDS = {"late": "超期办结", "extension": "延期", "rejection": "不予办理", **MISCONDUCT}


class Deadlines:
    def __init__(self, session, bind, runtime, tasks, policy: Policy | None = None):
        self.session = session
        self.bind = bind
        self.runtime = runtime
        self.tasks = tasks
        self.policy = policy or Policy()

    # the sweep ---------------------------------------------------------------------
    def sweep(self, limit: int = 500) -> int:
        """Move warnings, escalate and notify for tasks whose next alert time has come.
        On PostgreSQL rows another node holds are skipped: nothing is escalated twice."""
        now = clock.now()
        with reading(self.bind) as st:
            if not st.alert_due(now):
                return 0
        with transaction(self.session, self.bind) as st:
            cal = calendar.current()
            rows = st.due_alerts(now, limit)
            if not rows:
                return 0
            members = st.group_members({self.policy.coordinators, self.policy.director}
                                       | {g for r in rows for g in (r.candidate_groups or [])})
            events, notes = [], []
            for r in rows:
                warning, escalation = r.warning, r.escalation
                new_warning, _ = alert_state(cal, self.policy, r.due_at, now, escalation)
                if new_warning == "yellow" and warning == "none":
                    notes += self._notify(r, members, "due_soon", f"办件 {r.case_number}「{r.name}」即将到期"
                                          f"（{r.due_at.astimezone(clock.HALL_TZ):%m-%d %H:%M}）", now)
                if new_warning == "red":
                    if warning != "red":
                        notes += self._notify(r, members, "overdue", f"办件 {r.case_number}「{r.name}」已超期", now)
                    while True:  # after downtime, every step that fell due meanwhile, once each
                        if escalation < 1:
                            escalation, target = 1, self.policy.coordinators
                        elif escalation < 2 and (at := alert_state(cal, self.policy, r.due_at, now, 1)[1]) \
                                and now >= at:
                            escalation, target = 2, self.policy.director
                        else:
                            break
                        notes += [self._note(uid, "escalated", r, f"超期办件 {r.case_number}「{r.name}」升级至{target}",
                                             now) for uid in members.get(target, [])]
                        events.append(history.event(r.case_id, "system", "escalated", r.element_id, r.id,
                                                    r.process_id, {"level": escalation, "to": target}, now))
                _, next_at = alert_state(cal, self.policy, r.due_at, now, escalation)
                st.update_alert(r.id, new_warning, escalation, next_at if next_at != now else None,
                                expected=(r.warning, r.escalation))
            st.insert_notifications(notes)
            st.insert_events(events)
            history.log_events(events)
            return len(rows)

    def _note(self, user_id, kind, r, message, now) -> dict:
        return {"user_id": user_id, "kind": kind, "case_id": r.case_id, "task_id": r.id, "message": message,
                "created_at": now}

    def _notify(self, r, members, kind, message, now) -> list[dict]:
        people = [r.assignee_id] if r.assignee_id else sorted(
            {u for g in (r.candidate_groups or []) for u in members.get(g, [])})
        return [self._note(uid, kind, r, message, now) for uid in people]

    # coordinators' actions ---------------------------------------------------------
    def _coordinator(self, actor: Actor) -> None:
        if not actor.has("coordinator", "director"):
            raise Forbidden("this needs the coordinator role")

    def extend(self, actor: Actor, task_id: int, workdays: int, reason: str, read=None):
        """Give a task `workdays` more working days; the timers that enforce its deadline
        move with it. Recorded, with its reason, for accountability."""
        self._coordinator(actor)
        if not isinstance(workdays, int) or isinstance(workdays, bool) or not 1 <= workdays <= 60:
            raise Invalid("workdays must be a whole number from 1 to 60", {"workdays": ["1 to 60"]})
        if not (reason or "").strip():
            raise Invalid("a reason is required to extend a deadline", {"reason": ["required"]})
        task = self.tasks.row(task_id)
        if task.status != "open":
            raise Conflict(f"task {task_id} is {task.status}")
        if task.due_at is None:
            raise Invalid("this task has no deadline to extend", {"workdays": ["the task has no deadline"]})
        def change(act):
            cal = calendar.current()
            t = _spiff(act, task)
            new_due = cal.shift_workdays(act.due_of(task), workdays)
            if new_due.astimezone(calendar.TZ).date() > clock.LAST_DAY:
                raise Invalid(f"the deadline would move past {clock.LAST_DAY}", {"workdays": ["too far"]})
            parent = t.parent
            if parent is not None and isinstance(parent.task_spec, BoundaryEventSplit):
                for c in parent.children:
                    if c is not t and timer_definitions(c) and timer_due(c):
                        c.internal_data["event_value"] = cal.shift_workdays(
                            timer_due(c), workdays).astimezone(dt.UTC).isoformat()
            warning, next_at = alert_state(cal, self.policy, new_due, act.now, 0)
            act.store.set_task_due(task.id, new_due, warning, 0, next_at, cal.due_note(new_due))
            act.store.insert_accountability([{
                "case_id": task.case_id, "task_id": task.id, "kind": "extension",
                "department": department(task), "person": task.assignee, "days_over": None,
                "days_granted": workdays, "granted_by": actor.username, "reason": reason.strip(), "at": act.now}])
            act.log("extended", task.element_id, task.id, detail={"workdays": workdays, "reason": reason.strip(),
                                                                  "due": new_due.isoformat()})

        return self.runtime.act(actor, change, case_id=task.case_id, read=read)

    def escalate(self, actor: Actor, task_id: int, note: str = ""):
        """Send a task up to the executive deputy director now."""
        self._coordinator(actor)
        task = self.tasks.row(task_id)
        if task.status != "open":
            raise Conflict(f"task {task_id} is {task.status}")
        now = clock.now()
        with transaction(self.session, self.bind) as st:
            members = st.group_members({self.policy.director})
            r = SimpleNamespace(case_id=task.case_id, id=task.id)
            st.insert_notifications([self._note(uid, "escalated", r, f"办件 {task.case_number}「{task.name}」由"
                                                f"{actor.display_name or actor.username}提请督办：{note}", now)
                                     for uid in members.get(self.policy.director, [])])
            st.raise_escalation(task.id, 2)
            events = [history.event(task.case_id, actor.username, "escalated", task.element_id, task.id,
                                    task.process_id, {"level": 2, "to": self.policy.director, "note": note}, now)]
            st.insert_events(events)
        history.log_events(events)
        return task

    def reassign(self, actor: Actor, task_id: int, username: str | None = None, group: str | None = None):
        """Hand a task to a person, or to another group's queue."""
        self._coordinator(actor)
        if bool(username) == bool(group):
            raise Invalid("give either a username or a group", {"username": ["username or group"]})
        if username:
            return self.tasks.assign(actor, task_id, username)
        return self.tasks.regroup(actor, task_id, group)

    def note(self, actor: Actor, case_id: int, text: str, task_id: int | None = None):
        """A supervision note (督办意见) on a case or one of its tasks. Whoever holds the task
        (else its groups) is told; a note on the case reaches the holders of all its open tasks."""
        if not actor.has("coordinator", "director", "supervisor"):
            raise Forbidden("supervision notes are for coordinators, the director and supervisors")
        if not (text or "").strip():
            raise Invalid("the note is empty", {"text": ["required"]})
        case = self.runtime.case(case_id)
        t = Task.__table__.c
        tasks = list(self.session.execute(sa.select(t.id, t.case_id, t.name, t.assignee_id, t.candidate_groups)
                                          .where(t.case_id == case_id, t.status == "open")))
        if task_id is not None:
            try:
                owner = self.tasks.row(task_id).case_id
            except NotFound:
                owner = None
            if owner != case_id:
                raise Invalid(f"case {case_id} has no task {task_id}", {"task_id": ["not a task of this case"]})
            tasks = [r for r in tasks if r.id == task_id]
        now = clock.now()
        who = actor.display_name or actor.username
        with transaction(self.session, self.bind) as st:
            members = st.group_members({g for r in tasks for g in (r.candidate_groups or [])})
            notes = []
            for r in tasks:
                r = SimpleNamespace(case_id=case_id, id=r.id, name=r.name, assignee_id=r.assignee_id,
                                    candidate_groups=r.candidate_groups)
                notes += [n for n in self._notify(r, members, "supervision", f"办件 {case.number}「{r.name}」"
                                                  f"督办意见（{who}）：{text.strip()}", now)
                          if n["user_id"] != actor.id]
            st.insert_notifications(notes)
            events = [history.event(case_id, actor.username, "supervision_note", task_id=task_id,
                                    process_id=case.process_id, detail={"text": text.strip()}, at=now)]
            st.insert_events(events)
        history.log_events(events)

    def may_stop_clock(self, actor: Actor, case_id: int) -> bool:
        """Who stops and starts a case's clock (it moves deadlines and what is accounted for):
        the coordinators and the director, and the window that has the case, that is staff
        who hold or may take one of its open tasks."""
        if actor.has("coordinator", "director"):
            return True
        if not actor.has("staff"):
            return False
        return any(may_work(actor, t) for t in self.tasks.case_tasks(case_id))

    def _clock_keeper(self, actor: Actor, case_id: int) -> None:
        if not self.may_stop_clock(actor, case_id):
            raise Forbidden("a case's clock is stopped and started by the coordinators and the window that has it")

    def pause(self, actor: Actor, case_id: int, reason: str, read=None):
        """Stop a case's clock for a special procedure (听证, 检验检测, 鉴定, 专家评审)."""
        self._clock_keeper(actor, case_id)
        if not (reason or "").strip():
            raise Invalid("a reason is required", {"reason": ["required"]})

        def change(act):
            act.pause = reason.strip()

        return self.runtime.act(actor, change, case_id=case_id, read=read)

    def resume(self, actor: Actor, case_id: int, read=None):
        self._clock_keeper(actor, case_id)

        def change(act):
            act.resume = True

        return self.runtime.act(actor, change, case_id=case_id, read=read)

    # reading -------------------------------------------------------------------------
    def dashboard(self, actor: Actor, limit: int = 500) -> dict:
        """At-risk (yellow) and overdue (red) open tasks, grouped by department, and the cases
        at risk of missing their committed limit."""
        if not actor.has("coordinator", "director", "supervisor"):
            raise Forbidden("the dashboard is for coordinators, the director and supervisors")
        t = Task.__table__.c
        rows = list(self.session.execute(TASK_ROW.where(t.status == "open", t.warning.in_(("yellow", "red")))
                                          .order_by(t.due_at).limit(limit)))
        groups: dict[str, list] = {}
        for r in rows:
            groups.setdefault(department(r) or "—", []).append(r)
        now = clock.now()
        cal = self.calendar()
        c = Case.__table__.c
        cases = list(self.session.execute(sa.select(c.id, c.number, c.title, c.process_id, c.due_at, c.paused_since)
                                          .where(c.status == "running", c.due_at.is_not(None))
                                          .order_by(c.due_at).limit(limit)))
        at_risk = []
        for case in cases:
            if case.paused_since is not None:
                continue
            warning, _ = alert_state(cal, self.policy, case.due_at, now, 2)
            if warning != "none":
                at_risk.append((case, warning))
        return {"groups": dict(sorted(groups.items())), "cases": at_risk, "total": len(rows)}

    def accountability(self, actor: Actor, kind=None, department=None, person=None, since=None, until=None,
                       page=1, per_page=100):
        if not actor.has("supervisor", "coordinator", "director"):
            raise Forbidden("accountability records are for supervisors")
        a, c, t = Accountability.__table__.c, Case.__table__.c, Task.__table__.c
        answers, grants = User.__table__.alias("answers"), User.__table__.alias("grants")
        q = sa.select(*a, c.number.label("case_number"), c.title.label("case_title"), t.name.label("task_name"),
                      answers.c.display_name.label("person_name"), grants.c.display_name.label("granted_by_name")) \
            .join(Case, c.id == a.case_id).outerjoin(Task, t.id == a.task_id) \
            .outerjoin(answers, answers.c.username == a.person).outerjoin(grants, grants.c.username == a.granted_by)
        if kind:
            q = q.where(a.kind == kind)
        if department:
            q = q.where(a.department.like(f"%{department}%"))
        if person:
            q = q.where(a.person == person)
        if since:
            q = q.where(a.at >= dt.datetime.combine(since, dt.time(), clock.HALL_TZ))
        if until:
            q = q.where(a.at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), clock.HALL_TZ))
        total = self.session.scalar(sa.select(sa.func.count()).select_from(q.subquery()))
        rows = list(self.session.execute(q.order_by(a.at.desc(), a.id.desc()).limit(per_page)
                                         .offset((page - 1) * per_page)))
        return rows, total

    def accountability_csv(self, actor: Actor, **filters) -> str:
        rows, _ = self.accountability(actor, per_page=1_000_000, **filters)
        kinds = ACCOUNTABILITY_KINDS
        return exports.csv_text(
            ["时间", "办件编号", "企业/申请人", "环节", "环节编号", "类别", "部门", "责任人", "超期工作日",
             "延期工作日", "批准人", "原因"],
            ([r.at.astimezone(clock.HALL_TZ).strftime("%Y-%m-%d %H:%M"), r.case_number, r.case_title,
              r.task_name, r.task_id, kinds.get(r.kind, r.kind), r.department, _named(r.person_name, r.person),
              _days(r.days_over), _days(r.days_granted), _named(r.granted_by_name, r.granted_by), r.reason]
             for r in rows))

    # notifications ---------------------------------------------------------------
    def notifications(self, actor: Actor, unread_only: bool = False, limit: int = 100) -> list:
        n = Notification.__table__.c
        q = sa.select(*n).where(n.user_id == actor.id)
        if unread_only:
            q = q.where(n.read_at.is_(None))
        return list(self.session.execute(q.order_by(n.id.desc()).limit(limit)))

    def unread(self, actor: Actor) -> int:
        n = Notification.__table__.c
        return self.session.scalar(sa.select(sa.func.count()).select_from(Notification.__table__).where(
            n.user_id == actor.id, n.read_at.is_(None))) if actor.id is not None else 0

    def open_notification(self, actor: Actor, notification_id: int):
        """One of the actor's notifications, marked read."""
        n = Notification.__table__.c
        row = self.session.execute(sa.select(*n).where(n.id == notification_id, n.user_id == actor.id)).first()
        if row is None:
            raise NotFound(f"no notification {notification_id}")
        if row.read_at is None:
            self.mark_read(actor, [notification_id])
        return row

    def mark_read(self, actor: Actor, ids: list[int] | None = None) -> None:
        n = Notification.__table__.c
        with db.write(self.session) as s:
            q = sa.update(Notification).where(n.user_id == actor.id, n.read_at.is_(None))
            if ids:
                q = q.where(n.id.in_(ids))
            s.execute(q.values(read_at=clock.now()))

    # the calendar ------------------------------------------------------------------
    def load_calendar(self) -> tuple[int, dict[dt.date, bool], list[int]]:
        """(revision, overrides, published years) of the latest calendar, for calendar.Holder.
        The revision is read first: a change committed meanwhile is at worst loaded under
        the older number, and loaded again at the next transaction."""
        with self.bind.connect() as conn:
            revision = conn.scalar(sa.select(sa.func.max(CalendarRevision.revision))) or 0
            days = {r.day: r.workday for r in conn.execute(sa.select(CalendarDay.day, CalendarDay.workday))}
            years = [r.year for r in conn.execute(sa.select(CalendarYear.year))]
        return revision, days, years

    def load_past_calendar(self, revision: int) -> tuple[dict[dt.date, bool], list[int]]:
        """(overrides, published years) in force at `revision`: what the next change kept
        as its `before`."""
        with self.bind.connect() as conn:
            before = conn.scalar(sa.select(CalendarRevision.before).where(CalendarRevision.revision > revision)
                                 .order_by(CalendarRevision.revision).limit(1))
        if before is None:  # nothing changed after it: the latest
            _, days, years = self.load_calendar()
            return days, years
        return {dt.date.fromisoformat(d): w for d, w in before["overrides"].items()}, before["years"]

    def calendar(self) -> calendar.Calendar:
        """The calendar in force, as the database has it now (for pages and reports)."""
        with reading(self.bind, follow=True):
            return calendar.current()

    def set_day(self, actor: Actor, day: dt.date, workday: bool | None, note: str | None = None) -> None:
        """Override one day (workday True/False), or remove the override (None)."""
        if not actor.has("admin"):
            raise Forbidden("the calendar is the admin's")

        def change(s):
            row = s.get(CalendarDay, day)
            if workday is None:
                if row is not None:
                    s.delete(row)
            elif row is None:
                s.add(CalendarDay(day=day, workday=workday, note=note, updated_by=actor.username,
                                  updated_at=clock.now()))
            else:
                row.workday, row.note, row.updated_by, row.updated_at = workday, note, actor.username, clock.now()

        self._change_calendar(actor, day, change)

    def publish_year(self, actor: Actor, year: int, holidays: list[dt.date], workdays: list[dt.date],
                     note: str | None = None) -> None:
        """Enter a whole year's schedule (its public holidays and make-up working days)."""
        if not actor.has("admin"):
            raise Forbidden("the calendar is the admin's")
        if any(d.year != year for d in [*holidays, *workdays]):
            raise Invalid(f"every day must be in {year}", {"days": [f"not in {year}"]})

        def change(s):
            now = clock.now()
            for d in holidays:
                s.merge(CalendarDay(day=d, workday=False, note=note, updated_by=actor.username, updated_at=now))
            for d in workdays:
                s.merge(CalendarDay(day=d, workday=True, note=note, updated_by=actor.username, updated_at=now))
            if s.get(CalendarYear, year) is None:
                s.add(CalendarYear(year=year, published_by=actor.username, published_at=now))

        self._change_calendar(actor, dt.date(year, 1, 1), change)

    def _change_calendar(self, actor: Actor, since: dt.date, change) -> None:
        """Make `change(session)` to the calendar as a new revision, which every node and
        the command line count with from their next transaction on; then count again the
        deadlines that run past `since`. On PostgreSQL the calendar lock, taken exclusively
        here, waits for the actions counting with the old calendar to finish, and holds
        new ones until the change is in."""
        with db.write(self.session) as s:
            if db.is_postgres(s):
                s.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": db.CALENDAR_LOCK})
            latest = s.scalar(sa.select(sa.func.max(CalendarRevision.revision))) or 0
            before = {"overrides": {r.day.isoformat(): r.workday for r in s.execute(
                sa.select(CalendarDay.day, CalendarDay.workday).order_by(CalendarDay.day))},
                "years": sorted(s.scalars(sa.select(CalendarYear.year)))}
            change(s)
            s.add(CalendarRevision(revision=latest + 1, since=since, before=before, changed_by=actor.username,
                                   changed_at=clock.now()))
        self.runtime.recount_deadlines(since=dt.datetime.combine(since, dt.time(), calendar.TZ))

    def missing_years(self) -> dict[int, dict[str, int]]:
        """Years the calendar lacks, with how many open tasks and running cases are due in
        them (counted provisionally till the year is entered): {year: {"tasks", "cases"}}."""
        out: dict[int, dict[str, int]] = {}
        t, c = Task.__table__.c, Case.__table__.c
        for kind, q in (("tasks", sa.select(t.due_note, sa.func.count()).where(
                            t.status == "open", t.due_note.is_not(None)).group_by(t.due_note)),
                        ("cases", sa.select(c.due_note, sa.func.count()).where(
                            c.status == "running", c.due_note.is_not(None)).group_by(c.due_note))):
            for note, n in self.session.execute(q):
                if note.startswith("calendar:"):
                    out.setdefault(int(note.split(":")[1]), {"tasks": 0, "cases": 0})[kind] += n
        next_year = clock.local_now().year + 1
        if not self.calendar().knows(next_year):
            out.setdefault(next_year, {"tasks": 0, "cases": 0})
        return dict(sorted(out.items()))

    # e-mail ------------------------------------------------------------------------
    def send_emails(self, smtp: dict | None) -> int:
        """E-mail notifications not sent yet to people who have an address (when SMTP is set)."""
        if not smtp or not smtp.get("host"):
            return 0
        import smtplib
        from email.message import EmailMessage

        n = Notification.__table__.c
        u = User.__table__.c
        rows = list(self.session.execute(sa.select(n.id, n.message, u.email).join(User, u.id == n.user_id).where(
            n.emailed_at.is_(None), u.email.is_not(None)).order_by(n.id).limit(100)))
        self.session.rollback()
        if not rows:
            return 0
        sent = []
        with smtplib.SMTP(smtp["host"], int(smtp.get("port", 25)), timeout=10) as server:
            if smtp.get("user"):
                server.starttls()
                server.login(smtp["user"], smtp.get("password", ""))
            for row in rows:
                msg = EmailMessage()
                msg["From"] = smtp.get("sender", "hall@localhost")
                msg["To"] = row.email
                msg["Subject"] = f"[政务服务大厅] {row.message[:60]}"
                msg.set_content(row.message)
                server.send_message(msg)
                sent.append(row.id)
        with db.write(self.session) as s:
            s.execute(sa.update(Notification).where(n.id.in_(sent)).values(emailed_at=clock.now()))
        return len(sent)


def _named(name: str | None, username: str | None) -> str:
    """A person as a supervisor reads them: "张三 (zhangsan)"."""
    if not username:
        return ""
    return f"{name} ({username})" if name else username


def _days(n: float | None) -> str:
    return "" if n is None else f"{n:g}"


def _spiff(act, task):
    t = runtime.spiff_task(act.wf, task.spiff_id)
    if t is None:
        raise NotFound(f"task {task.id} is no longer in its case")
    return t
