"""Engine rows as the API's objects (the response schemas dump them)."""

from __future__ import annotations

from webapp import hall


def task_json(t) -> dict:
    return {
        "id": t.id, "case_id": t.case_id, "case_number": t.case_number, "process_id": t.process_id,
        "element_id": t.element_id, "name": t.name, "lane": t.lane, "candidate_groups": t.candidate_groups or [],
        "assignee": t.assignee, "status": t.status,
        "created_at": t.created_at, "due_at": t.due_at, "form_key": t.form_key, "completed_at": t.completed_at,
        "context": t.context, "warning": t.warning, "escalation": t.escalation, "due_note": t.due_note,
    }


def case_summary(c) -> dict:
    return {
        "id": c.id, "number": c.number, "process_id": c.process_id, "version": c.version, "status": c.status,
        "title": c.title, "created_at": c.created_at, "updated_at": c.updated_at, "ended_at": c.ended_at,
        "next_timer_at": c.next_timer_at, "due_at": c.due_at, "warning": case_warning(c),
        "paused_since": c.paused_since, "paused_reason": c.paused_reason, "due_note": c.due_note,
        "waiting": c.waiting or [], "channel": c.channel, "suspended_at": c.suspended_at,
        "suspended_reason": c.suspended_reason,
    }


def case_warning(c) -> str:
    """none|yellow|red for a case's committed limit (none while its clock is stopped)."""
    from engine import calendar, clock, limits

    if c.status != "running" or c.due_at is None or c.paused_since is not None:
        return "none"
    return limits.alert_state(calendar.current(), hall().deadlines.policy, c.due_at, clock.now(), 2)[0]


def case_json(case_id: int, actor=None) -> dict:
    """The whole case as the API shows it (to `actor`, if given: 403 if not theirs)."""
    return page_json(hall().runtime.case_page(case_id, actor))


def page_json(page) -> dict:
    """A case's page (`runtime.read_page`) as the API's case object; an action that answers
    with the case passes `read=read_page` and hands what it returns here."""
    c, tasks, events = page
    out = case_summary(c)
    out.update({
        "data": c.data or {}, "error": c.error, "started_by": c.started_by,
        "open_tasks": [task_json(t) for t in tasks],
        "events": [{"at": e.at, "actor": e.actor, "action": e.action, "element_id": e.element_id,
                    "task_id": e.task_id, "detail": e.detail} for e in events],
    })
    return out
