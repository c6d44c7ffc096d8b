"""Moving running cases to another version of their process, over the API (process owners and
admins): a dry run, then a move the scheduler works through, watched, paused, resumed or
cancelled (Camunda's migration and batch resources, in the hall's words)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.moves import ITEM_STATUSES, MAX_NAMED, STATUSES
from webapp import hall
from webapp.api import Blueprint
from webapp.auth import current_actor, token_required

PREFIX = "/moves"
blp = Blueprint("api_moves", __name__, description="Moving running cases to another version of their process")


class MoveChoice(Schema):
    process_id = fields.String(required=True, validate=validate.Length(min=1, max=128))
    to_version = fields.Integer(validate=validate.Range(min=1), metadata={"description": "default: the latest"})
    from_version = fields.Integer(validate=validate.Range(min=1),
                                  metadata={"description": "only this version's cases (default: every other's)"})
    element = fields.String(validate=validate.Length(min=1, max=128),
                            metadata={"description": "only cases with an open task or an incident at this element"})
    cases = fields.List(fields.String(validate=validate.Length(min=1, max=40)),
                        validate=validate.Length(min=1, max=MAX_NAMED), metadata={"description": "case numbers"})


class MoveVerdict(Schema):
    case_id = fields.Integer()
    number = fields.String()
    title = fields.String(allow_none=True)
    version = fields.Integer()
    movable = fields.Boolean()
    reasons = fields.List(fields.String(), metadata={"description": "why it cannot move"})


class MoveReasonCount(Schema):
    reason = fields.String()
    cases = fields.Integer()


class MoveDryRun(Schema):
    process_id = fields.String()
    to_version = fields.Integer()
    total = fields.Integer()
    movable = fields.Integer()
    reasons = fields.List(fields.Nested(MoveReasonCount()), metadata={"description": "why cases cannot move"})
    cases = fields.List(fields.Nested(MoveVerdict()), metadata={"description": "the first 500 cases, one by one"})


class MoveOut(Schema):
    id = fields.Integer()
    process_id = fields.String()
    from_version = fields.Integer(allow_none=True)
    element = fields.String(allow_none=True)
    to_version = fields.Integer()
    status = fields.String(metadata={"description": " | ".join(STATUSES)})
    created_by = fields.String()
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    total = fields.Integer()
    pending = fields.Integer()
    moved = fields.Integer()
    skipped = fields.Integer(metadata={"description": "could not move (see each case's reason), or cancelled"})
    failed = fields.Integer(metadata={"description": "the new version's next step failed: the case stayed"})


class MoveQuery(Schema):
    process_id = fields.String(validate=validate.Length(max=128))


class MovedCaseQuery(Schema):
    status = fields.String(validate=validate.OneOf(ITEM_STATUSES))


class MovedCaseOut(Schema):
    case_id = fields.Integer()
    number = fields.String()
    title = fields.String(allow_none=True)
    version = fields.Integer(metadata={"description": "the version the case is on now"})
    status = fields.String(metadata={"description": " | ".join(ITEM_STATUSES)})
    reason = fields.String(allow_none=True)
    done_at = fields.DateTime(allow_none=True)


def _chosen(body: dict) -> dict:
    return {"process_id": body["process_id"], "to_version": body.get("to_version"),
            "from_version": body.get("from_version"), "element": body.get("element"), "numbers": body.get("cases")}


@blp.route("/dry-run", methods=["POST"])
@token_required
@blp.arguments(MoveChoice())
@blp.response(200, MoveDryRun)
def dry_run(body):
    """Which of the chosen cases can move to the version, and why not the others; nothing is changed."""
    return hall().moves.dry_run(current_actor(), **_chosen(body))


@blp.route("", methods=["POST"])
@token_required
@blp.arguments(MoveChoice())
@blp.response(202, MoveOut)
def start(body):
    """Start moving the chosen cases: those that can move wait for the scheduler, the others
    are skipped with their reason. Watch it with GET /moves/{id}."""
    return hall().moves.start(current_actor(), **_chosen(body))


@blp.route("", methods=["GET"])
@token_required
@blp.arguments(MoveQuery(), location="query")
@blp.response(200, MoveOut(many=True))
def listing(query):
    """Moves, newest first, with how far each is."""
    return hall().moves.listing(current_actor(), query.get("process_id"))


@blp.route("/<int:move_id>", methods=["GET"])
@token_required
@blp.response(200, MoveOut)
def view(move_id):
    return hall().moves.view(current_actor(), move_id)


@blp.route("/<int:move_id>/cases", methods=["GET"])
@token_required
@blp.arguments(MovedCaseQuery(), location="query")
@blp.response(200, MovedCaseOut(many=True))
@blp.paginate()
def items(query, move_id, pagination_parameters):
    """A move's cases and how each fared. Paginated (X-Pagination header)."""
    rows, total = hall().moves.items(current_actor(), move_id, query.get("status"), pagination_parameters.page,
                                     pagination_parameters.page_size)
    pagination_parameters.item_count = total
    return [dict(r._mapping) for r in rows]


@blp.route("/<int:move_id>/<any(pause, resume, cancel):what>", methods=["POST"])
@token_required
@blp.response(200, MoveOut)
@blp.alt_response(409, description="the move is not in a state that allows it")
def steer(move_id, what):
    """pause: no more of its cases are taken; resume: they are again; cancel: those not yet
    moved stay where they are."""
    return getattr(hall().moves, what)(current_actor(), move_id)
