from __future__ import annotations

from engine.runtime import read_page
from webapp import hall
from webapp.api import Blueprint
from webapp.api.cases import _object
from webapp.api.schemas import AssignTask, CaseOut, CompleteTask, TaskDetail, TaskOut, TaskQuery
from webapp.api.views import page_json, task_json
from webapp.auth import current_actor, token_required

PREFIX = "/tasks"
blp = Blueprint("api_tasks", __name__, description="Human tasks: inbox, claim, assign, complete")


@blp.route("", methods=["GET"])
@token_required
@blp.arguments(TaskQuery(), location="query")
@blp.response(200, TaskOut(many=True))
@blp.paginate()
def inbox(query, pagination_parameters):
    """Open tasks the caller may work: assigned to them (scope=mine) and unclaimed tasks
    of their groups (scope=group); both when no scope is given. Oldest first."""
    rows, total = hall().tasks.inbox(current_actor(), query.get("scope"), query.get("process_id"),
                                     query.get("case_id"), pagination_parameters.page,
                                     pagination_parameters.page_size)
    pagination_parameters.item_count = total
    return [task_json(t) for t in rows]


@blp.route("/<int:task_id>", methods=["GET"])
@token_required
@blp.response(200, TaskDetail)
def get_task(task_id):
    """One task, with its form's fields and the case data its worker reads."""
    h = hall()
    t = h.tasks.get(current_actor(), task_id)
    out = task_json(t)
    out["form"] = h.tasks.describe_form(t)
    out["case_data"] = h.tasks.visible_data(t)
    out["data"] = t.data
    return out


@blp.route("/<int:task_id>/claim", methods=["POST"])
@token_required
@blp.response(200, TaskOut)
@blp.alt_response(409, description="someone else holds the task, or it is no longer open")
def claim(task_id):
    """Take the task from the group's queue."""
    return task_json(hall().tasks.claim(current_actor(), task_id))


@blp.route("/<int:task_id>/unclaim", methods=["POST"])
@token_required
@blp.response(200, TaskOut)
@blp.alt_response(409, description="someone else holds the task")
def unclaim(task_id):
    """Give the task back to its groups."""
    return task_json(hall().tasks.unclaim(current_actor(), task_id))


@blp.route("/<int:task_id>/assign", methods=["POST"])
@token_required
@blp.arguments(AssignTask())
@blp.response(200, TaskOut)
def assign(body, task_id):
    """Give the task to a user (coordinator)."""
    return task_json(hall().tasks.assign(current_actor(), task_id, body["username"]))


@blp.route("/<int:task_id>/complete", methods=["POST"])
@token_required
@blp.arguments(CompleteTask())
@blp.response(200, CaseOut)
@blp.alt_response(422, description="invalid data: {message, errors: {field: [messages]}}")
@blp.alt_response(409, description="the task is no longer open")
def complete(body, task_id):
    """Complete the task with its form's data; returns the case."""
    return page_json(hall().tasks.complete(current_actor(), task_id, _object(body["data"]), read=read_page))
