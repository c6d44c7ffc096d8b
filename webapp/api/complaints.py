"""意见建议/投诉 over the API: raise one (an enterprise on the portal's behalf, staff for a
person at the counter or on the phone, the 驻厅监察), list and read those one may see, and
the supervisor's close. The steps between are tasks (/tasks)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.complaints import CHANNELS, KINDS, STATUSES
from webapp import hall
from webapp.api import Blueprint
from webapp.api.schemas import Id
from webapp.auth import current_actor, token_required

PREFIX = "/complaints"
blp = Blueprint("api_complaints", __name__, description="意见建议/投诉: intake, follow-up, close")


class ComplaintIn(Schema):
    channel = fields.String(required=True, metadata={"description": " | ".join(CHANNELS)})
    kind = fields.String(required=True, metadata={"description": " | ".join(KINDS)})
    subject = fields.String(required=True, metadata={"description": "at most 100 characters"})
    content = fields.String(required=True, metadata={"description": "at most 2000 characters"})
    contact_name = fields.String(allow_none=True, metadata={"description": "required at the counter and by phone"})
    contact_phone = fields.String(allow_none=True, metadata={"description": "required at the counter and by phone"})
    about_case = fields.String(allow_none=True, metadata={"description": "the number of the case it is about"})
    about_task = Id(allow_none=True, metadata={"description": "the step (task id) of that case"})


class ComplaintQuery(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    kind = fields.String(validate=validate.OneOf(tuple(KINDS)))


class CloseIn(Schema):
    data = fields.Dict(required=True, metadata={"description": "the close form: opinion, accountable (boolean)"})


class ComplaintOut(Schema):
    id = fields.Integer()
    case_id = fields.Integer(metadata={"description": "its complaint case (staff)"})
    number = fields.String()
    channel = fields.String()
    kind = fields.String()
    subject = fields.String()
    content = fields.String()
    contact_name = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)
    about_case = fields.String(allow_none=True)
    about_task_id = fields.Integer(allow_none=True)
    department = fields.String(allow_none=True)
    status = fields.String(metadata={"description": " | ".join(STATUSES)})
    finding = fields.String(allow_none=True, metadata={"description": "staff: none, or the misconduct found"})
    responsible = fields.String(allow_none=True,
                                metadata={"description": "staff: who completed the step found at fault"})
    responsible_task_id = fields.Integer(allow_none=True)
    reply = fields.String(allow_none=True)
    replied_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)


@blp.route("", methods=["POST"])
@token_required
@blp.arguments(ComplaintIn())
@blp.response(201, ComplaintOut)
@blp.alt_response(422, description="a field refused: {message, errors: {field: [messages]}}")
@blp.alt_response(409, description="the account has too many complaints open")
def submit(body):
    """Raise a suggestion or a complaint."""
    channel = body.pop("channel")
    return hall().complaints.submit(current_actor(), channel, body)


@blp.route("", methods=["GET"])
@token_required
@blp.arguments(ComplaintQuery(), location="query")
@blp.response(200, ComplaintOut(many=True))
@blp.paginate()
def complaints(query, pagination_parameters):
    """The complaints one may see, newest first."""
    rows, total = hall().complaints.list(current_actor(), page=pagination_parameters.page,
                                         per_page=pagination_parameters.page_size, **query)
    pagination_parameters.item_count = total
    return rows


@blp.route("/<int:complaint_id>", methods=["GET"])
@token_required
@blp.response(200, ComplaintOut)
def complaint(complaint_id):
    """One complaint (the complainant reads the reply here)."""
    return hall().complaints.get(current_actor(), complaint_id)


@blp.route("/<int:complaint_id>/close", methods=["POST"])
@token_required
@blp.arguments(CloseIn())
@blp.response(200, ComplaintOut)
@blp.alt_response(409, description="it is not waiting to be closed")
def close(body, complaint_id):
    """The 驻厅监察 closes an answered complaint; `accountable` confirms a misconduct found."""
    return hall().complaints.close(current_actor(), complaint_id, body["data"])
