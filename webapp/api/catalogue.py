"""The service catalogue (事项目录) over the API: read by anyone, without a token (it is the
public 办事指南); written by process owners and admins."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.catalogue import CATEGORIES, MAX_VERSION, ItemSchema, as_dict
from engine.errors import Invalid
from webapp import hall
from webapp.api import Blueprint
from webapp.auth import current_actor, token_required

PREFIX = "/catalogue"
blp = Blueprint("api_catalogue", __name__, description="事项目录: the service catalogue and its guides (public)")
PUBLIC = {"security": []}


class ItemSummary(Schema):
    """An item as a list shows it: its terms without materials and fees (GET the item for those)."""

    code = fields.String()
    version = fields.Integer()
    name = fields.String()
    category = fields.String()
    departments = fields.List(fields.String())
    kind = fields.String()
    legal_days = fields.Integer()
    promised_days = fields.Integer()
    process_id = fields.String(allow_none=True)
    online = fields.Boolean()


class ItemOut(ItemSchema):
    version = fields.Integer()
    saved_at = fields.DateTime()
    saved_by = fields.String()


class CatalogueQuery(Schema):
    q = fields.String(validate=validate.Length(max=100), metadata={"description": "in an item's code and name"})
    category = fields.String(validate=validate.OneOf(tuple(CATEGORIES)))


class VersionQuery(Schema):
    version = fields.Integer(validate=validate.Range(min=1, max=MAX_VERSION))


@blp.route("", methods=["GET"])
@blp.doc(**PUBLIC)
@blp.arguments(CatalogueQuery(), location="query")
@blp.response(200, ItemSummary(many=True))
@blp.paginate(page_size=50, max_page_size=200)
def items(query, pagination_parameters):
    """The catalogue's items (each its latest version), by window category and code. Paginated
    (X-Pagination header); an item's materials and fees are on GET /catalogue/{code}."""
    rows, total = hall().catalogue.listing(query.get("q"), query.get("category"), pagination_parameters.page,
                                           pagination_parameters.page_size)
    pagination_parameters.item_count = total
    return [r._asdict() for r in rows]


@blp.route("/<code>", methods=["GET"])
@blp.doc(**PUBLIC)
@blp.arguments(VersionQuery(), location="query")
@blp.response(200, ItemOut)
def item(query, code):
    """One item: its latest version, or `version`."""
    return as_dict(hall().catalogue.item(code, query.get("version")))


@blp.route("/<code>/versions", methods=["GET"])
@blp.doc(**PUBLIC)
@blp.response(200, ItemOut(many=True))
def versions(code):
    """Every version of an item, oldest first: the terms a case was accepted under stay readable."""
    return [as_dict(i) for i in hall().catalogue.versions(code)]


@blp.route("/<code>", methods=["PUT"])
@token_required
@blp.arguments(ItemSchema())
@blp.response(200, ItemOut)
@blp.alt_response(201, schema=ItemOut, description="a new version was saved")
def save(body, code):
    """Save an item (process owners, admins): a new version when anything in it changed."""
    if body["code"] != code:
        raise Invalid(f"the item's code {body['code']} is not {code}", {"code": [f"must be {code}"]})
    row, new = hall().catalogue.save(current_actor(), ItemSchema().dump(body))
    return as_dict(row), 201 if new else 200
