"""百分考核 over the API: the scheme (管理办 saves a new version), a quarter's scores (the
draft computed live for 管理办, the director and the supervisor; the published quarter for
every member of staff), entries with their evidence, publication (季公示), adjustments of a
published score, and the year's totals (年终评先)."""

from __future__ import annotations

from types import SimpleNamespace

from flask import request
from marshmallow import Schema, fields, validate

from engine.assessment import KINDS
from webapp import hall, send_case_file, uploaded_file
from webapp.api import Blueprint
from webapp.api.schemas import upload_body
from webapp.auth import current_actor, token_required

PREFIX = "/assessment"
blp = Blueprint("api_assessment", __name__, description="百分考核: scheme, quarterly scores, entries, 季公示")


class SchemeIn(Schema):
    categories = fields.List(fields.Dict(), required=True, validate=validate.Length(max=100), metadata={
        "description": "[{name, items: [{code, name, points, rule, per, cap, bonus, kinds, threshold}]}]; "
                       "the points add up to 100"})
    stars = fields.Dict(metadata={"description": "{windows: {...}, persons: {...}}: min_score, min_satisfaction, "
                                                 "min_ratings, max_poor, max_complaints, most"})


class SchemeOut(Schema):
    version = fields.Integer(metadata={"description": "0: the default, not saved yet"})
    body = fields.Dict()
    saved_by = fields.String(allow_none=True)
    saved_at = fields.DateTime(allow_none=True)


class QuarterOut(Schema):
    quarter = fields.String()
    scheme_version = fields.Integer()
    published = fields.Dict(allow_none=True, metadata={"description": "{by, at}; null: a draft computed now"})
    computed_at = fields.String()
    windows = fields.List(fields.Dict(), metadata={"description": "each window's total, items and their causes"})
    persons = fields.List(fields.Dict())
    stars = fields.Dict(metadata={"description": "星级服务窗口 (windows) and 星级服务标兵 (persons)"})


class EntryIn(Schema):
    item = fields.String(required=True, validate=validate.Length(max=16))
    subject_kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    subject = fields.String(required=True, validate=validate.Length(max=64))
    points = fields.Float(required=True, allow_nan=False, metadata={"description": "less than 0: a deduction"})
    reason = fields.String(required=True, validate=validate.Length(max=500))


class AdjustmentIn(EntryIn):
    pass


class EntryOut(Schema):
    id = fields.Integer()
    quarter = fields.String()
    item = fields.String()
    subject_kind = fields.String()
    subject = fields.String()
    points = fields.Float()
    reason = fields.String()
    evidence_name = fields.String(allow_none=True)
    evidence_type = fields.String(allow_none=True)
    evidence_size = fields.Integer(allow_none=True)
    entered_by = fields.String()
    entered_at = fields.DateTime()


class EvidenceQuery(Schema):
    filename = fields.String(validate=validate.Length(max=200), metadata={"description": "the file's name"})


class YearOut(Schema):
    year = fields.Integer()
    quarters = fields.List(fields.String(), metadata={"description": "the year's published quarters"})
    windows = fields.List(fields.Dict())
    persons = fields.List(fields.Dict())


@blp.route("/scheme", methods=["GET"])
@token_required
@blp.response(200, SchemeOut)
def scheme():
    """The scheme in force."""
    return hall().assessment.scheme()


@blp.route("/scheme", methods=["PUT"])
@token_required
@blp.arguments(SchemeIn())
@blp.response(200, SchemeOut)
@blp.alt_response(422, description="a field refused, named by its path (categories.0.items.2.cap)")
def save_scheme(body):
    """管理办 saves a new version of the scheme (published quarters keep theirs)."""
    return hall().assessment.save_scheme(current_actor(), body)


@blp.route("/quarters/<quarter>", methods=["GET"])
@token_required
@blp.response(200, QuarterOut)
def quarter(quarter):
    """A quarter's scores (2026Q3): published, or the draft for those who may read it."""
    return hall().assessment.quarter(current_actor(), quarter)


@blp.route("/quarters/<quarter>/publish", methods=["POST"])
@token_required
@blp.response(201, QuarterOut)
@blp.alt_response(409, description="published already, or not over yet")
def publish(quarter):
    """季公示: freeze the quarter's scores, causes and 星级."""
    return hall().assessment.publish(current_actor(), quarter)


@blp.route("/quarters/<quarter>/adjustments", methods=["POST"])
@token_required
@blp.arguments(AdjustmentIn())
@blp.response(201, QuarterOut)
def adjust(body, quarter):
    """A recorded change to a published score."""
    return hall().assessment.adjust(current_actor(), quarter, body)


@blp.route("/quarters/<quarter>/entries", methods=["GET"])
@token_required
@blp.response(200, EntryOut(many=True))
def entries(quarter):
    """A quarter's entries."""
    return hall().assessment.entries(current_actor(), quarter)


@blp.route("/quarters/<quarter>/entries", methods=["POST"])
@token_required
@blp.arguments(EntryIn())
@blp.response(201, EntryOut)
@blp.alt_response(409, description="the quarter is published, or holds its most entries")
def add_entry(body, quarter):
    """A deduction or an addition for an item, to a window or a person (管理办, the supervisor)."""
    return hall().assessment.add_entry(current_actor(), quarter, body)


@blp.route("/entries/<int:entry_id>", methods=["DELETE"])
@token_required
@blp.response(204)
def remove_entry(entry_id):
    """Remove an entry of a quarter not yet published."""
    hall().assessment.remove_entry(current_actor(), entry_id)


@blp.route("/entries/<int:entry_id>/evidence", methods=["POST"])
@token_required
@blp.arguments(EvidenceQuery(), location="query")
@blp.response(201, EntryOut)
@blp.alt_response(413, description="the file is larger than the hall takes")
@blp.doc(requestBody=upload_body("a PDF, JPEG, PNG or OFD file"))
def evidence(query, entry_id):
    """Attach an entry's evidence."""
    name, stream = uploaded_file(request)
    return hall().assessment.attach_evidence(current_actor(), entry_id, name or query.get("filename"), stream)


@blp.route("/entries/<int:entry_id>/evidence", methods=["GET"])
@token_required
@blp.response(200, description="the file's bytes")
def download(entry_id):
    """An entry's evidence, as an attachment."""
    row, fh = hall().assessment.open_evidence(current_actor(), entry_id)
    return send_evidence(row, fh)


def send_evidence(row, fh):
    return send_case_file(SimpleNamespace(content_type=row.evidence_type, filename=row.evidence_name,
                                          sha256=row.evidence_sha256), fh)


@blp.route("/years/<int:year>", methods=["GET"])
@token_required
@blp.response(200, YearOut)
def year(year):
    """年终评先: each window's and person's published quarters of the year and their total."""
    return hall().assessment.year(current_actor(), year)

