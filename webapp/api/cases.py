from __future__ import annotations

from flask import request

from engine.errors import Invalid
from engine.runtime import read_page
from webapp import hall
from webapp.api import Blueprint
from webapp.api.schemas import CaseOut, CaseQuery, CaseSummary, Message, Reason, StartCase, Withdraw
from webapp.api.views import case_json, case_summary, page_json
from webapp.auth import current_actor, token_required

PREFIX = "/cases"
blp = Blueprint("api_cases", __name__, description="Cases: start, follow, send messages")


def _object(value, field="data"):
    if not isinstance(value, dict):
        raise Invalid(f"{field} must be a JSON object", {field: ["must be a JSON object"]})
    return value


@blp.route("", methods=["POST"])
@token_required
@blp.arguments(StartCase())
@blp.response(201, CaseOut)
@blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "required": False, "schema": {
    "type": "string", "minLength": 1, "maxLength": 128},
    "description": "a key of the client's: a retried start with it answers with the first one's case"}])
def start(body):
    """Start a case of a process's latest version with its start form's data, or file one
    under a catalogue item (`item`). With an `Idempotency-Key` header, a retry of the same
    start (cut off, say) is answered with the case the first one made; the same key with
    another request is a 422."""
    return page_json(hall().runtime.start(current_actor(), body["process_id"], _object(body["data"]),
                                          read=read_page, key=request.headers.get("Idempotency-Key"),
                                          item=body["item"], channel=body["channel"]))



@blp.route("", methods=["GET"])
@token_required
@blp.arguments(CaseQuery(), location="query")
@blp.response(200, CaseSummary(many=True))
@blp.paginate()
def list_cases(query, pagination_parameters):
    """Cases, newest first; applicants see only their own. Paginated (X-Pagination header)."""
    rows, total = hall().runtime.cases(current_actor(), query.get("status"), query.get("process_id"),
                                       pagination_parameters.page, pagination_parameters.page_size, query.get("q"))
    pagination_parameters.item_count = total
    return [case_summary(c) for c in rows]


@blp.route("/<int:case_id>", methods=["GET"])
@token_required
@blp.response(200, CaseOut)
def get_case(case_id):
    """One case with its data, open tasks and history."""
    return case_json(case_id, current_actor())


@blp.route("/<int:case_id>/messages/<name>", methods=["POST"])
@token_required
@blp.arguments(Message())
@blp.response(200, CaseOut)
@blp.alt_response(409, description="the case is not waiting for this message")
def message(body, case_id, name):
    """Deliver a BPMN message (e.g. supplemented materials) to a waiting case."""
    return page_json(hall().runtime.message(current_actor(), case_id, name, _object(body["data"]), read=read_page))


@blp.route("/<int:case_id>/withdraw", methods=["POST"])
@token_required
@blp.arguments(Withdraw())
@blp.response(200, CaseOut)
@blp.alt_response(409, description="the case is accepted (受理) already, or not running")
def withdraw(body, case_id):
    """撤回: the applicant takes back a case before the window accepts it (or the window
    records that a walk-in applicant did). Its open tasks end; the history keeps it."""
    return page_json(hall().runtime.withdraw(current_actor(), case_id, body["reason"], read=read_page))


@blp.route("/<int:case_id>/terminate", methods=["POST"])
@token_required
@blp.arguments(Reason())
@blp.response(200, CaseOut)
@blp.alt_response(409, description="the case is not running")
def terminate(body, case_id):
    """终止: a coordinator stops a case, with a reason. Its open tasks and timers end; the
    history keeps it; it is not undone."""
    return page_json(hall().runtime.terminate(current_actor(), case_id, body["reason"], read=read_page))


@blp.route("/<int:case_id>/suspend", methods=["POST"])
@token_required
@blp.arguments(Reason())
@blp.response(200, CaseOut)
@blp.alt_response(409, description="the case is not running, or suspended already")
def suspend(body, case_id):
    """挂起: a coordinator holds a case, with a reason: none of its tasks is worked and none of
    its timers fires till it is activated (`.../activate`)."""
    return page_json(hall().runtime.suspend(current_actor(), case_id, body["reason"], read=read_page))


@blp.route("/<int:case_id>/activate", methods=["POST"])
@token_required
@blp.response(200, CaseOut)
@blp.alt_response(409, description="the case is not suspended")
def activate(case_id):
    """恢复办理: a suspended case goes on; what fell due meanwhile fires, once. (Not
    `.../resume`, which restarts a case's stopped clock.)"""
    return page_json(hall().runtime.activate(current_actor(), case_id, read=read_page))
