"""好差评 over the API: the applicant rates a case at 受理 and at 办结; a clerk records a walk-in
applicant's rating at the window; 管理办 reads them with each 差评's 整改."""

from __future__ import annotations

from webapp import hall
from webapp.api import Blueprint
from webapp.api.schemas import RateCase, RatingFigures, RatingOut, RatingQuery
from webapp.auth import current_actor, token_required

PREFIX = ""
blp = Blueprint("api_ratings", __name__, description="好差评: ratings of cases at 受理 and 办结")


@blp.route("/cases/<int:case_id>/ratings", methods=["POST"])
@token_required
@blp.arguments(RateCase())
@blp.response(201, RatingOut)
@blp.alt_response(409, description="the case is not at the stage yet, or is rated at it already")
def rate(body, case_id):
    """Rate a case at a stage (its applicant), or record the rating given at the window (staff). A 差评
    (level 1 or 2) starts its 差评整改 case."""
    return hall().ratings.rate(current_actor(), case_id, body["level"], body.get("comment"), "api", body["stage"],
                               body["dimensions"])


@blp.route("/cases/<int:case_id>/ratings", methods=["GET"])
@token_required
@blp.response(200, RatingOut(many=True))
def ratings(case_id):
    """A case's ratings, oldest first."""
    return hall().ratings.of_case(current_actor(), case_id)


def _listing(query, page=1, per_page=1):
    return hall().ratings.listing(current_actor(), query.get("window"), query.get("poor", False), query.get("since"),
                                  query.get("until"), page, per_page)


@blp.route("/ratings", methods=["GET"])
@token_required
@blp.arguments(RatingQuery(), location="query")
@blp.response(200, RatingOut(many=True))
@blp.paginate()
def listing(query, pagination_parameters):
    """All ratings, newest first, with each 差评's 整改 case (管理办, the director, the supervisor)."""
    rows, total, _figures = _listing(query, pagination_parameters.page, pagination_parameters.page_size)
    pagination_parameters.item_count = total
    return [dict(r._mapping) for r in rows]


@blp.route("/ratings/figures", methods=["GET"])
@token_required
@blp.arguments(RatingQuery(), location="query")
@blp.response(200, RatingFigures)
def figures(query):
    """The period's figures: ratings, 满意率, 差评 and 差评整改率 (差评 whose 整改 is reported back)."""
    return _listing(query)[2]
