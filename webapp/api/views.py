"""Engine rows as the API's JSON objects."""

from __future__ import annotations

from engine import history
from webapp import db, hall


def task_json(t) -> dict:
    return {
        "id": t.id, "case_id": t.case_id, "case_number": t.case_number, "process_id": t.process_id,
        "element_id": t.element_id, "name": t.name, "lane": t.lane, "candidate_groups": t.candidate_groups or [],
        "assignee": t.assignee, "status": t.status,
        "created_at": t.created_at, "due_at": t.due_at, "form_key": t.form_key, "completed_at": t.completed_at,
    }


def case_summary(c) -> dict:
    return {
        "id": c.id, "number": c.number, "process_id": c.process_id, "version": c.version, "status": c.status,
        "title": c.title, "created_at": c.created_at, "updated_at": c.updated_at, "ended_at": c.ended_at,
        "next_timer_at": c.next_timer_at,
    }


def case_json(c) -> dict:
    from engine.models import User

    out = case_summary(c)
    starter = db.session.get(User, c.started_by_id) if c.started_by_id else None
    out.update({
        "data": c.data or {}, "error": c.error, "started_by": starter.username if starter else None,
        "open_tasks": [task_json(t) for t in hall().tasks.case_tasks(c.id)],
        "events": [{"at": e.at, "actor": e.actor, "action": e.action, "element_id": e.element_id,
                    "task_id": e.task_id, "detail": e.detail} for e in history.case_events(db.session, c.id)],
    })
    return out
