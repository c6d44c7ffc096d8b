"""Incidents over the API (process owners and admins): automatic steps that failed, and
what is done about them: retry, correct the case's data, terminate the case."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.incidents import MAX_CORRECTED
from webapp import hall
from webapp.api import Blueprint
from webapp.api.schemas import Id, Reason
from webapp.auth import current_actor, token_required

PREFIX = "/incidents"
blp = Blueprint("api_incidents", __name__, description="Incidents: failed automatic steps, retried or resolved")


class IncidentQuery(Schema):
    process_id = fields.String(validate=validate.Length(max=128))
    case_id = Id()
    resolved = fields.Boolean(load_default=False, metadata={"description": "resolved ones too"})


class IncidentOut(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    case_number = fields.String()
    process_id = fields.String()
    element_id = fields.String(allow_none=True)
    message = fields.String()
    data = fields.Dict(allow_none=True, metadata={"description": "the case's data when it failed"})
    status = fields.String(metadata={"description": "retrying | open | resolved"})
    attempts = fields.Integer()
    opened_at = fields.DateTime()
    last_at = fields.DateTime()
    next_retry_at = fields.DateTime(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    resolution = fields.String(allow_none=True, metadata={"description": "retried | corrected | terminated"})


class Correction(Reason):
    data = fields.Dict(required=True, validate=validate.Length(min=1, max=MAX_CORRECTED),
                       metadata={"description": "the case's fields to set"})


def _out(incident, number=None) -> dict:
    return {**{c: getattr(incident, c) for c in IncidentOut._declared_fields if c != "case_number"},
            "case_number": number or hall().runtime.case(incident.case_id).number}


@blp.route("", methods=["GET"])
@token_required
@blp.arguments(IncidentQuery(), location="query")
@blp.response(200, IncidentOut(many=True))
def listing(query):
    """Incidents, newest first: the unresolved (all, with resolved=true) of a process or a case."""
    rows = hall().incidents.listing(current_actor(), query.get("process_id"), query.get("case_id"), query["resolved"])
    return [_out(r.Incident, r.number) for r in rows]


@blp.route("/<int:incident_id>/retry", methods=["POST"])
@token_required
@blp.response(200, IncidentOut)
@blp.alt_response(409, description="resolved already, or its case is not running or is suspended")
def retry(incident_id):
    """Try the failed step again now (once its cause is fixed)."""
    return _out(hall().incidents.retry(current_actor(), incident_id))


@blp.route("/<int:incident_id>/correct", methods=["POST"])
@token_required
@blp.arguments(Correction())
@blp.response(200, IncidentOut)
@blp.alt_response(422, description="the step still fails with the data corrected: nothing is changed")
def correct(body, incident_id):
    """Set some of the case's data, with a reason, and run the case on."""
    return _out(hall().incidents.correct(current_actor(), incident_id, body["data"], body["reason"]))


@blp.route("/<int:incident_id>/terminate", methods=["POST"])
@token_required
@blp.arguments(Reason())
@blp.response(200, IncidentOut)
def terminate(body, incident_id):
    """Terminate the case of an incident that cannot be put right."""
    return _out(hall().incidents.terminate(current_actor(), incident_id, body["reason"]))
