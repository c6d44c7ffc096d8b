"""回访: 管理办 sets up a round of return visits for a period: every enterprise the hall
served then (a case of theirs done in the period), or a sample of them (a percentage or a
number). Each visit is a case of the hall's own process `return_visit`
(processes/return_visit.bpmn), a task for 管理办 with the script of questions: reached or
not (tried again on the next working day, three times), the satisfaction (the five 好差评
levels), suggestions. A suggestion can become a 意见建议 case (engine.complaints).

回访率 is the visits that reached the enterprise over those to make, by period (when the
case served was done) and department (the window that served it)."""

from __future__ import annotations

import datetime as dt
import math
import random
from types import SimpleNamespace

import sqlalchemy as sa

from engine import clock, db, limits
from engine.errors import Conflict, Forbidden, Invalid, NotFound
from engine.identity import OVERSIGHT, Actor
from engine.models import Case, CatalogueItem, Complaint, Enterprise, Task, Visit, VisitRound
from engine.portal import window_group

PROCESS = "return_visit"
PLANNING_GROUP = "回访计划"  # the process's starter group: visits start from a round only
OFFICE = "管理办"
SAMPLES = ("all", "percent", "count")
MAX_VISITS = 500  # visits in one round: each is a case to work
MAX_PERIOD_DAYS = 366
MAX_SERVED = 100_000  # cases done in a period that a round looks through
LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
TITLE_CHARS = VisitRound.__table__.c.title.type.length
OWN_PROCESSES = ("complaint", PROCESS)  # the hall's feedback loops serve no enterprise

_V = Visit.__table__
_BY_CASE = sa.select(_V).where(_V.c.case_id == sa.bindparam("case_id"))
_SET_CASE = sa.update(_V).where(_V.c.id == sa.bindparam("_id")).values(case_id=sa.bindparam("_case_id"))
_RECORD = sa.update(_V).where(_V.c.id == sa.bindparam("_id")).values(
    status=sa.bindparam("_status"), attempts=sa.bindparam("_attempts"),
    satisfaction=sa.bindparam("_satisfaction"), suggestion=sa.bindparam("_suggestion"),
    visited_by=sa.bindparam("_visited_by"), visited_at=sa.bindparam("_visited_at", type_=_V.c.visited_at.type))
_LINK_COMPLAINT = sa.update(_V).where(_V.c.id == sa.bindparam("_id")).values(complaint_id=sa.bindparam("_complaint"))


class Visits:
    def __init__(self, session, runtime, complaints):
        self.session = session
        self.runtime = runtime
        self.complaints = complaints
        runtime.listeners[PROCESS] = self._saved
        runtime.guards[PROCESS] = lambda actor, case: self._office(actor)

    @staticmethod
    def _office(actor: Actor) -> bool:
        return actor.has(*OVERSIGHT) or OFFICE in actor.groups

    def _planner(self, actor: Actor) -> None:
        if not (actor.has("coordinator") or OFFICE in actor.groups):
            raise Forbidden("管理办 sets up return visits")

    # --- a round ----------------------------------------------------------------------

    def plan(self, actor: Actor, title, since, until, sample: str = "all", size=None) -> SimpleNamespace:
        """Set up a round for the enterprises served from `since` to `until` (days in the
        hall's time zone, both included): all, `size` percent of them, or `size` of them,
        drawn the same way each time for the same round. Starts a visit case for each."""
        self._planner(actor)
        title = title.strip() if isinstance(title, str) else ""
        if not 1 <= len(title) <= TITLE_CHARS:
            raise Invalid(f"title is 1 to {TITLE_CHARS} characters", {"title": [f"1 to {TITLE_CHARS} characters"]})
        for name, day in (("since", since), ("until", until)):
            if not isinstance(day, dt.date) or isinstance(day, dt.datetime) \
                    or not clock.FIRST_DAY <= day <= clock.LAST_DAY:
                raise Invalid(f"{name} must be a day", {name: [f"a day from {clock.FIRST_DAY} to {clock.LAST_DAY}"]})
        if until < since or (until - since).days >= MAX_PERIOD_DAYS:
            raise Invalid(f"the period runs forward, at most {MAX_PERIOD_DAYS} days",
                          {"until": [f"on or after since, at most {MAX_PERIOD_DAYS} days on"]})
        if sample not in SAMPLES:
            raise Invalid(f"sample must be one of {', '.join(SAMPLES)}", {"sample": [f"one of {', '.join(SAMPLES)}"]})
        if sample != "all":
            top = 100 if sample == "percent" else MAX_VISITS
            if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= top:
                raise Invalid(f"size must be 1 to {top}", {"size": [f"1 to {top}"]})
        else:
            size = None
        if not any(p["process_id"] == PROCESS for p in self.runtime.repository.processes()):
            raise Conflict(f"the process {PROCESS} is not deployed")
        served = self._served(since, until)
        if not served:
            raise Invalid("no enterprise was served in that period", {"since": ["no case done in the period"]})
        chosen = sorted(served)
        if sample != "all":
            k = min(len(chosen), math.ceil(len(chosen) * size / 100) if sample == "percent" else size)
            chosen = sorted(random.Random(f"{since}/{until}/{title}").sample(chosen, k))
        if len(chosen) > MAX_VISITS:
            raise Invalid(f"a round has at most {MAX_VISITS} visits: {len(chosen)} enterprises were served; "
                          "take a sample", {"sample": [f"at most {MAX_VISITS} visits"]})
        steps = self._first_steps([served[e][0] for e in chosen if served[e][2] is None])
        now = clock.now()
        with db.write(self.session) as s:
            rnd = VisitRound(title=title, period_from=since, period_until=until, sample=sample, sample_size=size,
                             created_by=actor.username, created_at=now)
            s.add(rnd)
            s.flush()
            for enterprise_id in chosen:
                case_id, ended_at, department = served[enterprise_id]
                department = department or steps.get(case_id)
                s.add(Visit(round_id=rnd.id, enterprise_id=enterprise_id, served_case_id=case_id, served_at=ended_at,
                            department=department, status="open", attempts=0))
            round_id = rnd.id
        self.start_pending(actor, round_id)
        return self.round(actor, round_id)[0]

    def _served(self, since: dt.date, until: dt.date) -> dict[int, tuple[int, dt.datetime, str | None]]:
        """{enterprise: (its last case done in the period, when, the window that served it)}."""
        begin = dt.datetime.combine(since, dt.time(), clock.HALL_TZ)
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), clock.HALL_TZ)
        rows = self.session.execute(
            sa.select(Case.id, Case.enterprise_id, Case.ended_at, CatalogueItem.category)
            .outerjoin(CatalogueItem, CatalogueItem.id == Case.item_id)
            .where(Case.status == "completed", Case.enterprise_id.is_not(None), Case.ended_at >= begin,
                   Case.ended_at < end, Case.process_id.not_in(OWN_PROCESSES))
            .order_by(Case.ended_at, Case.id).limit(MAX_SERVED + 1)).all()
        if len(rows) > MAX_SERVED:
            raise Invalid(f"more than {MAX_SERVED} cases were done in that period: take a shorter one",
                          {"until": ["a shorter period"]})
        return {r.enterprise_id: (r.id, r.ended_at, window_group(r.category) if r.category else None) for r in rows}

    def _first_steps(self, case_ids: list[int]) -> dict[int, str]:
        """The department of each case's first step done (a case not filed under an item)."""
        out: dict[int, str] = {}
        for i in range(0, len(case_ids), 500):
            rows = self.session.execute(
                sa.select(Task.case_id, Task.candidate_groups, Task.lane)
                .where(Task.case_id.in_(case_ids[i:i + 500]), Task.status == "completed").order_by(Task.id))
            for r in rows:
                if r.case_id not in out:
                    out[r.case_id] = limits.department(r)
        return out

    def start_pending(self, actor: Actor, round_id: int) -> int:
        """Start the visit case of each visit of the round that has none yet (all of them
        when the round is set up; after an interruption, the rest). Returns how many."""
        self._planner(actor)
        pending = self.session.execute(
            sa.select(Visit.id, Visit.department, Visit.attempts, Enterprise.name, Enterprise.contact_name,
                      Enterprise.phone, Case.number)
            .join(Enterprise, Enterprise.id == Visit.enterprise_id).outerjoin(Case, Case.id == Visit.served_case_id)
            .where(Visit.round_id == round_id, Visit.case_id.is_(None)).order_by(Visit.id)).all()
        self.session.rollback()  # each start is a transaction of its own
        planner = Actor(id=None, username=actor.username, roles=frozenset({"system"}),
                        groups=frozenset({PLANNING_GROUP}))
        for v in pending:
            data = {"enterprise_name": v.name, "contact": v.contact_name or "", "phone": v.phone or "",
                    "served_case": v.number or "", "department": v.department or "", "attempts": 0,
                    "visit_id": v.id}
            self.runtime.start(planner, PROCESS, data,
                               read=lambda st, case_id, vid=v.id: st.run(_SET_CASE, {"_id": vid, "_case_id": case_id}))
        return len(pending)

    def _saved(self, act) -> None:
        """Keep the visit in step with its case (runtime listener, in its transaction)."""
        if act.worked is None or act.worked.element_id != "call":
            return
        rows = act.store.run(_BY_CASE, {"case_id": act.case.id}).objects()
        if not rows:
            return
        data = act.case.data or {}
        reached = bool(data.get("reached"))
        status = "reached" if reached else "open" if act.case.status == "running" else "unreached"
        act.store.run(_RECORD, {"_id": rows[0].id, "_status": status, "_attempts": int(data.get("attempts") or 0),
                                "_satisfaction": data.get("satisfaction") if reached else None,
                                "_suggestion": (data.get("suggestion") or None) if reached else None,
                                "_visited_by": act.actor.username, "_visited_at": act.now})

    # --- a suggestion made at a visit -------------------------------------------------

    def suggest(self, actor: Actor, visit_id: int):
        """Raise a visit's suggestion as a 意见建议 case (once)."""
        self._planner(actor)
        row = self.session.execute(
            sa.select(Visit, Enterprise.name, Enterprise.contact_name, Enterprise.phone, Case.number)
            .join(Enterprise, Enterprise.id == Visit.enterprise_id).outerjoin(Case, Case.id == Visit.served_case_id)
            .where(Visit.id == visit_id)).first()
        if row is None:
            raise NotFound(f"no visit {visit_id}")
        visit = row.Visit
        if not visit.suggestion:
            raise Conflict(f"visit {visit_id} recorded no suggestion")
        if visit.complaint_id is not None:
            raise Conflict(f"visit {visit_id}'s suggestion is already raised")
        self.session.rollback()
        subject = f"回访意见建议：{row.name}"[:100]
        data = {"kind": "suggestion", "subject": subject, "content": visit.suggestion,
                "contact_name": (row.contact_name or None), "contact_phone": (row.phone or None)}
        return self.complaints.submit(
            actor, "visit", data, then=lambda st, cid: st.run(_LINK_COMPLAINT, {"_id": visit_id, "_complaint": cid}))

    # --- reading --------------------------------------------------------------------

    def rounds(self, actor: Actor, limit: int = 100) -> list:
        self._reader(actor)
        counts = sa.select(_V.c.round_id, sa.func.count().label("planned"),
                           sa.func.sum(sa.case((_V.c.status == "reached", 1), else_=0)).label("reached"),
                           sa.func.sum(sa.case((_V.c.status == "unreached", 1), else_=0)).label("unreached")) \
            .group_by(_V.c.round_id).subquery()
        return list(self.session.execute(
            sa.select(VisitRound, counts.c.planned, counts.c.reached, counts.c.unreached)
            .outerjoin(counts, counts.c.round_id == VisitRound.id).order_by(VisitRound.id.desc()).limit(limit)))

    def round(self, actor: Actor, round_id: int) -> tuple[VisitRound, list]:
        self._reader(actor)
        rnd = self.session.get(VisitRound, round_id)
        if rnd is None:
            raise NotFound(f"no round {round_id}")
        visits = list(self.session.execute(
            sa.select(*_V.c, Enterprise.name.label("enterprise_name"), Enterprise.contact_name, Enterprise.phone,
                      Case.number.label("case_number"), Complaint.case_id.label("complaint_case_id"))
            .join(Enterprise, Enterprise.id == _V.c.enterprise_id).outerjoin(Case, Case.id == _V.c.case_id)
            .outerjoin(Complaint, Complaint.id == _V.c.complaint_id)
            .where(_V.c.round_id == round_id).order_by(_V.c.id)))
        return rnd, visits

    def _reader(self, actor: Actor) -> None:
        if not self._office(actor):
            raise Forbidden("return visits are 管理办's")

    def rates(self, actor: Actor, since: dt.date | None = None, until: dt.date | None = None) -> dict:
        """回访率 and satisfaction of the visits of the cases done from `since` to `until`, by
        department: {"departments": [...], "total": {...}}, each with to_visit, visited
        (reached), unreached, rate, satisfaction (mean level of those reached), levels."""
        self._reader(actor)
        q = sa.select(_V.c.department, _V.c.status, _V.c.satisfaction, sa.func.count().label("n")) \
            .group_by(_V.c.department, _V.c.status, _V.c.satisfaction)
        if since:
            q = q.where(_V.c.served_at >= dt.datetime.combine(since, dt.time(), clock.HALL_TZ))
        if until:
            q = q.where(_V.c.served_at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), clock.HALL_TZ))
        by: dict[str, dict] = {}
        total = _tally("")
        for r in self.session.execute(q):
            for t in (by.setdefault(r.department or "", _tally(r.department or "")), total):
                t["to_visit"] += r.n
                if r.status == "reached":
                    t["visited"] += r.n
                    if r.satisfaction in LEVELS:
                        t["levels"][r.satisfaction] += r.n
                elif r.status == "unreached":
                    t["unreached"] += r.n
        rows = [_rated(t) for _, t in sorted(by.items())]
        return {"departments": rows, "total": _rated(total)}


def _tally(department: str) -> dict:
    return {"department": department, "to_visit": 0, "visited": 0, "unreached": 0, "levels": dict.fromkeys(LEVELS, 0)}


def _rated(t: dict) -> dict:
    rated = sum(t["levels"].values())
    return {**t, "rate": t["visited"] / t["to_visit"] if t["to_visit"] else None,
            "satisfaction": sum(k * n for k, n in t["levels"].items()) / rated if rated else None,
            "satisfied": sum(n for k, n in t["levels"].items() if k >= 3) / rated if rated else None}
