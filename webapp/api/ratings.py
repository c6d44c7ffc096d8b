"""好差评 over the API: the applicant rates a finished case; a clerk records a walk-in
applicant's rating at the window."""

from __future__ import annotations

from webapp import hall
from webapp.api import Blueprint
from webapp.api.schemas import RateCase, RatingOut
from webapp.auth import current_actor, token_required

PREFIX = "/cases"
blp = Blueprint("api_ratings", __name__, description="好差评: ratings of finished cases")


@blp.route("/<int:case_id>/ratings", methods=["POST"])
@token_required
@blp.arguments(RateCase())
@blp.response(201, RatingOut)
@blp.alt_response(409, description="the case is not finished yet")
def rate(body, case_id):
    """Rate a finished case (its applicant), or record the rating given at the window (staff)."""
    return hall().ratings.rate(current_actor(), case_id, body["level"], body.get("comment"), "api")


@blp.route("/<int:case_id>/ratings", methods=["GET"])
@token_required
@blp.response(200, RatingOut(many=True))
def ratings(case_id):
    """A case's ratings, oldest first."""
    return hall().ratings.of_case(current_actor(), case_id)
