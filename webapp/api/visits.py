"""回访 over the API: 管理办 sets up a round (all the enterprises served in a period, or a
sample), reads its visits, raises a visit's suggestion as a 意见建议; 回访率 and satisfaction
by department. The visits themselves are tasks (/tasks)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.visits import SAMPLES
from webapp import hall
from webapp.api import Blueprint
from webapp.api.complaints import ComplaintOut
from webapp.api.schemas import Day
from webapp.auth import current_actor, token_required

PREFIX = "/visits"
blp = Blueprint("api_visits", __name__, description="回访: rounds of return visits, 回访率")


class RoundIn(Schema):
    title = fields.String(required=True)
    since = Day(required=True)
    until = Day(required=True)
    sample = fields.String(load_default="all", validate=validate.OneOf(SAMPLES))
    size = fields.Integer(allow_none=True, metadata={"description": "percent: 1-100; count: 1-500"})


class RoundOut(Schema):
    id = fields.Integer()
    title = fields.String()
    period_from = fields.Date()
    period_until = fields.Date()
    sample = fields.String()
    sample_size = fields.Integer(allow_none=True)
    created_by = fields.String()
    created_at = fields.DateTime()


class VisitOut(Schema):
    id = fields.Integer()
    enterprise_name = fields.String()
    department = fields.String(allow_none=True)
    served_at = fields.DateTime()
    case_id = fields.Integer(allow_none=True, metadata={"description": "its return-visit case"})
    status = fields.String(metadata={"description": "open | reached | unreached"})
    attempts = fields.Integer()
    satisfaction = fields.Integer(allow_none=True, metadata={"description": "5 非常满意 .. 1 非常不满意"})
    suggestion = fields.String(allow_none=True)
    complaint_id = fields.Integer(allow_none=True)


class RoundDetail(RoundOut):
    visits = fields.List(fields.Nested(VisitOut))


class RatesQuery(Schema):
    since = Day()
    until = Day()


class RateOut(Schema):
    department = fields.String()
    to_visit = fields.Integer()
    visited = fields.Integer()
    unreached = fields.Integer()
    rate = fields.Float(allow_none=True, metadata={"description": "回访率: visited / to_visit"})
    satisfaction = fields.Float(allow_none=True, metadata={"description": "the mean level of those reached"})
    satisfied = fields.Float(allow_none=True, metadata={"description": "满意率: levels 3-5 of those rated"})
    levels = fields.Dict(keys=fields.String(), values=fields.Integer())


class RatesOut(Schema):
    departments = fields.List(fields.Nested(RateOut))
    total = fields.Nested(RateOut)


@blp.route("/rounds", methods=["POST"])
@token_required
@blp.arguments(RoundIn())
@blp.response(201, RoundOut)
@blp.alt_response(422, description="a field refused: {message, errors: {field: [messages]}}")
def plan(body):
    """Set up a round of return visits (管理办)."""
    return hall().visits.plan(current_actor(), body["title"], body["since"], body["until"], body["sample"],
                              body.get("size"))


@blp.route("/rounds", methods=["GET"])
@token_required
@blp.response(200, RoundOut(many=True))
def rounds():
    """The rounds, newest first."""
    return [r.VisitRound for r in hall().visits.rounds(current_actor())]


@blp.route("/rounds/<int:round_id>", methods=["GET"])
@token_required
@blp.response(200, RoundDetail)
def round_(round_id):
    """A round and its visits."""
    rnd, visits = hall().visits.round(current_actor(), round_id)
    return {**{k: getattr(rnd, k) for k in RoundOut().fields}, "visits": visits}


@blp.route("/<int:visit_id>/suggestion", methods=["POST"])
@token_required
@blp.response(201, ComplaintOut)
@blp.alt_response(409, description="no suggestion, or already raised")
def suggest(visit_id):
    """Raise a visit's suggestion as a 意见建议."""
    return hall().visits.suggest(current_actor(), visit_id)


@blp.route("/rates", methods=["GET"])
@token_required
@blp.arguments(RatesQuery(), location="query")
@blp.response(200, RatesOut)
def rates(query):
    """回访率 and satisfaction by department, of the cases done in the period."""
    return hall().visits.rates(current_actor(), **query)
