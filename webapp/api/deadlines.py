"""Deadlines over the API: extend, escalate, reassign, supervise, stop the clock;
notifications; accountability; the working-day calendar."""

from __future__ import annotations

import datetime as dt

from flask import Response, request

from engine.clock import FIRST_DAY, LAST_DAY
from engine.errors import Invalid
from engine.runtime import read_page
from webapp import hall
from webapp.api import Blueprint
from webapp.api.schemas import (
    AccountabilityOut,
    AccountabilityQuery,
    CalendarDayIn,
    CalendarYearIn,
    CaseOut,
    EscalateTask,
    ExtendTask,
    Note,
    NotificationOut,
    PauseCase,
    ReadNotifications,
    ReassignTask,
    TaskOut,
)
from webapp.api.views import case_json, page_json, task_json
from webapp.auth import current_actor, token_required

PREFIX = ""
blp = Blueprint("api_deadlines", __name__, description="Deadlines, supervision, notifications, calendar")


@blp.route("/tasks/<int:task_id>/extend", methods=["POST"])
@token_required
@blp.arguments(ExtendTask())
@blp.response(200, CaseOut)
def extend(body, task_id):
    """Give a task more working days, with a reason (coordinator); its timers move too."""
    return page_json(hall().deadlines.extend(current_actor(), task_id, body["workdays"], body["reason"],
                                             read=read_page))


@blp.route("/tasks/<int:task_id>/escalate", methods=["POST"])
@token_required
@blp.arguments(EscalateTask())
@blp.response(200, TaskOut)
def escalate(body, task_id):
    """Send a task up to the executive deputy director (coordinator)."""
    hall().deadlines.escalate(current_actor(), task_id, body["note"])
    return task_json(hall().tasks.row(task_id))


@blp.route("/tasks/<int:task_id>/reassign", methods=["POST"])
@token_required
@blp.arguments(ReassignTask())
@blp.response(200, TaskOut)
def reassign(body, task_id):
    """Hand a task to a person or to another group (coordinator)."""
    task = hall().deadlines.reassign(current_actor(), task_id, body.get("username"), body.get("group"))
    return task_json(task)


@blp.route("/cases/<int:case_id>/notes", methods=["POST"])
@token_required
@blp.arguments(Note())
@blp.response(201, CaseOut)
def note(body, case_id):
    """A supervision note (督办意见) on a case, or one of its tasks."""
    hall().deadlines.note(current_actor(), case_id, body["text"], body.get("task_id"))
    return case_json(case_id), 201


@blp.route("/cases/<int:case_id>/pause", methods=["POST"])
@token_required
@blp.arguments(PauseCase())
@blp.response(200, CaseOut)
def pause(body, case_id):
    """Stop the case's clock for a special procedure (听证, 检验检测, 鉴定, 专家评审)."""
    return page_json(hall().deadlines.pause(current_actor(), case_id, body["reason"], read=read_page))


@blp.route("/cases/<int:case_id>/resume", methods=["POST"])
@token_required
@blp.response(200, CaseOut)
def resume(case_id):
    """Start the case's clock again; its deadlines move by the working time it stood."""
    return page_json(hall().deadlines.resume(current_actor(), case_id, read=read_page))


@blp.route("/notifications", methods=["GET"])
@token_required
@blp.response(200, NotificationOut(many=True))
def notifications():
    """My notifications, newest first (?unread=1 for the unread ones only)."""
    rows = hall().deadlines.notifications(current_actor(), unread_only=request.args.get("unread") == "1")
    return [dict(r._mapping) for r in rows]


@blp.route("/notifications/read", methods=["POST"])
@token_required
@blp.arguments(ReadNotifications(), required=False)
@blp.response(204)
def read(body):
    """Mark notifications read (all of them without ids)."""
    hall().deadlines.mark_read(current_actor(), body.get("ids"))


@blp.route("/accountability", methods=["GET"])
@token_required
@blp.arguments(AccountabilityQuery(), location="query")
@blp.response(200, AccountabilityOut(many=True))
@blp.paginate()
def accountability(query, pagination_parameters):
    """审批问责: late completions, extensions and rejections (supervisor)."""
    rows, total = hall().deadlines.accountability(current_actor(), page=pagination_parameters.page,
                                                  per_page=pagination_parameters.page_size, **query)
    pagination_parameters.item_count = total
    return [dict(r._mapping) for r in rows]


@blp.route("/accountability.csv", methods=["GET"])
@token_required
@blp.arguments(AccountabilityQuery(), location="query")
@blp.response(200, description="the records as CSV (UTF-8 with BOM)", content_type="text/csv")
def accountability_csv(query):
    """The same records as a CSV file."""
    text = hall().deadlines.accountability_csv(current_actor(), **query)
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=accountability.csv"})


YEAR = {"in": "path", "name": "year", "required": True,
        "schema": {"type": "integer", "minimum": FIRST_DAY.year, "maximum": LAST_DAY.year}}
DAY = {"in": "path", "name": "day", "required": True,
       "schema": {"type": "string", "format": "date", "description": f"a day from {FIRST_DAY} to {LAST_DAY}"}}


@blp.route("/calendar/<int:year>", methods=["GET"], parameters=[YEAR])
@token_required
@blp.response(200, description="{year, known, overrides: [{day, workday, note}]}")
def calendar_year(year):
    """The working-day calendar of a year: whether it is known, and the hall's overrides."""
    _counted_year(year)
    cal = hall().deadlines.calendar()
    overrides = [{"day": d.isoformat(), "workday": w} for d, w in sorted(cal.overrides.items()) if d.year == year]
    return {"year": year, "known": cal.knows(year), "overrides": overrides,
            "missing": hall().deadlines.missing_years()}


@blp.route("/calendar/days/<day>", methods=["PUT"], parameters=[DAY])
@token_required
@blp.arguments(CalendarDayIn())
@blp.response(204)
def calendar_day(body, day):
    """Override one day (admin): a working day, closed, or back to the base calendar (null)."""
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        raise Invalid(f"'{day}' is not a date (YYYY-MM-DD)", {"day": ["not a date"]}) from None
    _counted_year(date.year, "day")
    hall().deadlines.set_day(current_actor(), date, body["workday"], body.get("note"))


@blp.route("/calendar/years/<int:year>", methods=["POST"], parameters=[YEAR])
@token_required
@blp.arguments(CalendarYearIn())
@blp.response(204)
def calendar_publish(body, year):
    """Enter a year's public holidays and make-up working days (admin)."""
    _counted_year(year)
    hall().deadlines.publish_year(current_actor(), year, body["holidays"], body["workdays"], body.get("note"))


def _counted_year(year: int, field: str = "year") -> None:
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise Invalid(f"the calendar covers {FIRST_DAY.year} to {LAST_DAY.year}, not {year}",
                      {field: [f"between {FIRST_DAY.year} and {LAST_DAY.year}"]})
