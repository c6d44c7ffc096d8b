"""A case's printed notices (通知书) over the API: the list, and each one's PDF."""

from __future__ import annotations

from webapp import hall, send_notice
from webapp.api import Blueprint
from webapp.api.schemas import NoticeOut
from webapp.auth import current_actor, token_required

PREFIX = "/cases"
blp = Blueprint("api_notices", __name__, description="通知书: the notices issued for a case, as PDF")


@blp.route("/<int:case_id>/notices", methods=["GET"])
@token_required
@blp.response(200, NoticeOut(many=True))
def notices(case_id):
    """The notices issued for a case (受理通知书, 补正告知书, 不予受理通知书, 办结通知书), oldest first."""
    return hall().notices.of_case(current_actor(), case_id)


@blp.route("/<int:case_id>/notices/<int:notice_id>", methods=["GET"])
@token_required
@blp.response(200, description="the notice as a PDF")
def notice(case_id, notice_id):
    """One notice's PDF, as it was issued."""
    h = hall()
    row, fh = h.notices.open(current_actor(), case_id, notice_id)
    return send_notice(row, fh, row.facts["number"])
