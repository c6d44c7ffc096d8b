"""The audit trail (Camunda's HistoryService): who did what to which case, and when.

Events are written in the same transaction as the action they record, in one batch."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from engine import clock
from engine.models import Event

log = logging.getLogger("hall.audit")

ACTIONS = (
    "deployed", "started", "task_created", "claimed", "unclaimed", "assigned", "completed",
    "task_cancelled", "timer_fired", "message_received", "ended", "terminated", "error", "rated",
    "deadlines_recounted", "extended", "escalated", "supervision_note", "clock_stopped", "clock_resumed",
    "material_added", "withdrawn", "notice_issued", "suspended", "activated", "incident", "incident_retried",
    "data_corrected", "external_task", "external_completed", "external_failed",
    # not of a case: changes to users and groups (engine.identity.ADMIN_ACTIONS)
    "user_created", "user_changed", "user_activated", "user_deactivated", "password_reset", "password_changed",
    "group_saved",
)


def event(case_id, actor: str, action: str, element_id=None, task_id=None, process_id=None,
          detail=None, at=None) -> dict:
    return {"case_id": case_id, "actor": actor, "action": action, "element_id": element_id,
            "task_id": task_id, "process_id": process_id, "detail": detail, "at": at or clock.now()}


def record(session, events: list[dict]) -> None:
    if not events:
        return
    session.execute(sa.insert(Event), events)
    log_events(events)


def log_events(events: list[dict]) -> None:
    """One structured log line per action."""
    if log.isEnabledFor(logging.INFO):
        for e in events:
            log.info(e["action"], extra={k: e[k] for k in ("case_id", "task_id", "actor", "element_id", "process_id")})


def case_events(bind, case_id: int) -> list:
    from engine.store import reading

    with reading(bind) as st:
        return st.case_events(case_id)
