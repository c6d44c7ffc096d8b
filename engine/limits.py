"""Time limits over one workflow: when a task or a case is due, what its warning is, and
the timers that enforce them, as the clock stops and the calendar changes. Pure functions
of a workflow and a calendar (no database, no service): the runtime's action core uses
them, and so do the services above it (engine.deadlines, engine.tasks).

- A task is due at its `camunda:dueDate` (ISO 8601, or an expression such as
  `${workdays(3)}`), or else when the first timer on its boundary falls due: one
  definition, so the date shown and the timer that enforces it cannot drift apart.
- A task turns yellow when one working day or less remains, red when overdue; red
  escalates to the coordinators at once and to the executive deputy director after a few
  more working days (`alert_state`).
- A case's clock stops while it waits at an element marked `clockStop` (补正: waiting for
  the applicant) or while a person has paused it for a special procedure (听证, 检验检测,
  鉴定, 专家评审). Its timers are held meanwhile (`hold_timers`); when it runs again they
  move on by the working days the stop took (`release_timers`).
"""


from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine import bpmn, calendar, state

HELD = "9999-12-31T00:00:00+00:00"  # a held timer's due time: never, until the clock runs again


@dataclass(frozen=True)
class Policy:
    warn_workdays: float = 1.0        # yellow when this much working time or less remains
    coordinators: str = "管理办"        # red: escalated here at once
    director: str = "常务副主任"          # and here after `director_after` more working days
    director_after: float = 2.0


def alert_state(cal: calendar.Calendar, policy: Policy, due: dt.datetime | None, now: dt.datetime,
                escalation: int) -> tuple[str, dt.datetime | None]:
    """(warning, when to look again) for a task due at `due` that has been escalated
    `escalation` times."""
    if due is None:
        return "none", None
    warn_at = cal.subtract_working_seconds(due, policy.warn_workdays * cal.day_seconds)
    if now < warn_at:
        return "none", warn_at
    if now < due:
        return "yellow", due
    if escalation < 1:
        return "red", now
    if escalation < 2:
        return "red", cal.add_working_seconds(due, policy.director_after * cal.day_seconds)
    return "red", None


# ---------------------------------------------------------------------------------------
# Timers, as the clock-stop and the due dates see them.

def timer_definitions(task) -> list:
    """The timer definitions of an event task (those of a multiple event, each)."""
    return [d for d in bpmn.event_definitions(task.task_spec) if isinstance(d, TimerEventDefinition)]


def timer_due(task) -> dt.datetime | None:
    value = task.internal_data.get("event_value")
    if isinstance(value, dict):
        value = value.get("next")
    try:
        at = TimerEventDefinition.parse_time_or_duration(value)
    except Exception:
        return None
    return at if isinstance(at, dt.datetime) else None


def boundary_due(task) -> dt.datetime | None:
    """When the first timer on a task's boundary falls due (None: no such timer)."""
    parent = task.parent
    if parent is None or not isinstance(parent.task_spec, BoundaryEventSplit):
        return None
    dues = [d for c in parent.children if c is not task and timer_definitions(c) and (d := timer_due(c))]
    return min(dues) if dues else None


def _in_workdays(expression) -> bool:
    return isinstance(expression, str) and "workdays(" in expression


def due_in_workdays(task) -> bool:
    """Is a task's due date counted in working days: its dueDate, else its boundary timer?"""
    expression = getattr(task.task_spec, "due_date", None)
    if expression:
        return _in_workdays(expression)
    parent = task.parent
    return (parent is not None and isinstance(parent.task_spec, BoundaryEventSplit)
            and any(_in_workdays(d.expression) for c in parent.children if c is not task for d in timer_definitions(c)))


ARMED = "hall_armed"  # when (by the hall's clock) a timer was armed: its working time counts from then


def stamp_armed(wf, now: dt.datetime) -> None:
    """Note, by the hall's clock, when each timer armed in this action was armed.
    SpiffWorkflow's own `last_state_change` is the server's wall time, which the hall's
    clock need not follow (a test's, a demo's), so it cannot say where a timer's count began."""
    for t in wf.event_manager.tasks.values():
        if ARMED not in t.internal_data and "event_value" in t.internal_data and timer_definitions(t):
            t.internal_data[ARMED] = now.astimezone(dt.UTC).isoformat()


def _armed_at(task) -> dt.datetime:
    stamp = task.internal_data.get(ARMED)
    if stamp:
        return dt.datetime.fromisoformat(stamp)
    return dt.datetime.fromtimestamp(task.last_state_change, dt.UTC)  # armed before the stamp existed


def recount_timers(wf, moved) -> int:
    """Move each armed (or held) timer counted in working days to `moved(at, began)`, `began`
    being when the timer was armed. Returns how many moved."""
    count = 0
    for t in list(wf.event_manager.tasks.values()):
        if not any(_in_workdays(d.expression) for d in timer_definitions(t)):
            continue
        began = _armed_at(t)
        for key in ("hall_held", "event_value"):
            value = t.internal_data.get(key)
            when = value.get("next") if isinstance(value, dict) else value
            if when is None or when == HELD:
                continue
            try:
                at = TimerEventDefinition.parse_time_or_duration(when)
            except Exception:
                continue
            if not isinstance(at, dt.datetime) or (new := moved(at, began)) == at:
                continue
            new = new.astimezone(dt.UTC).isoformat()
            t.internal_data[key] = {**value, "next": new} if isinstance(value, dict) else new
            count += 1
    return count


def _attached_to(task):
    """The activity a boundary event task is attached to (None for other tasks)."""
    parent = task.parent
    if parent is None or not isinstance(parent.task_spec, BoundaryEventSplit):
        return None
    return next((c for c in parent.children if not hasattr(c.task_spec, "cancel_activity")), None)


def clock_stop(wf) -> tuple[str, str] | None:
    """(reason, element id) if the case waits at an element marked `clockStop`."""
    for t in state.all_tasks(wf):
        if t._state & state.LIVE:
            reason = (getattr(t.task_spec, "extensions", None) or {}).get("clockStop")
            if reason:
                return reason, t.task_spec.bpmn_id
    return None


def hold_timers(wf, stopping_element: str | None) -> int:
    """Hold every armed timer except those of the stop itself (the applicant's deadline to
    supplement keeps running). Returns how many were held."""
    held = 0
    for t in list(wf.event_manager.tasks.values()):
        if not timer_definitions(t) or "hall_held" in t.internal_data:
            continue
        owner = _attached_to(t)
        if stopping_element and (t.task_spec.bpmn_id == stopping_element
                                 or (owner is not None and owner.task_spec.bpmn_id == stopping_element)):
            continue
        value = t.internal_data.get("event_value")
        if value is None:
            continue
        t.internal_data["hall_held"] = value
        t.internal_data["event_value"] = {**value, "next": HELD} if isinstance(value, dict) else HELD
        held += 1
    return held


def release_timers(wf, cal: calendar.Calendar, workdays: int) -> int:
    """Re-arm held timers, each moved on by the working days the clock stood still."""
    released = 0
    for t in list(wf.event_manager.tasks.values()):
        value = t.internal_data.pop("hall_held", None)
        if value is None:
            continue
        when = value.get("next") if isinstance(value, dict) else value
        try:
            at = TimerEventDefinition.parse_time_or_duration(when)
            moved = cal.shift_workdays(at, workdays).astimezone(dt.UTC).isoformat()
        except Exception:
            moved = when
        t.internal_data["event_value"] = {**value, "next": moved} if isinstance(value, dict) else moved
        released += 1
    return released


# ---------------------------------------------------------------------------------------

def department(task) -> str | None:
    """The department answerable for a task row: its groups, else its lane."""
    groups = task.candidate_groups or []
    return "、".join(groups) if groups else task.lane


