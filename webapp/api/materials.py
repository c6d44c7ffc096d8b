"""A case's materials over the API: upload a file under one of its item's materials, list
them with their versions, download one."""

from __future__ import annotations

from flask import request

from webapp import hall, send_case_file, uploaded_file
from webapp.api import Blueprint
from webapp.api.schemas import FileOut, UploadQuery, upload_body
from webapp.auth import current_actor, token_required

PREFIX = "/cases"
blp = Blueprint("api_materials", __name__, description="申请材料: a case's files, per material, in versions")


@blp.route("/<int:case_id>/files", methods=["POST"])
@token_required
@blp.arguments(UploadQuery(), location="query")
@blp.response(201, FileOut)
@blp.alt_response(413, description="the file is larger than the hall takes")
@blp.doc(requestBody=upload_body("the file"))
def upload(query, case_id):
    """Attach a file to a running case: its applicant, or hall staff at the window. A file
    under a material that has one is a new version; the earlier stay."""
    name, stream = uploaded_file(request)
    return hall().materials.add(current_actor(), case_id, query["material"], name or query["filename"], stream)


@blp.route("/<int:case_id>/files", methods=["GET"])
@token_required
@blp.response(200, FileOut(many=True))
def files(case_id):
    """A case's files, every version, by material and newest first."""
    return hall().materials.of_case(current_actor(), case_id)


@blp.route("/<int:case_id>/files/<int:file_id>", methods=["GET"])
@token_required
@blp.response(200, description="the file's bytes")
def download(case_id, file_id):
    """One file's bytes, as an attachment."""
    return send_case_file(*hall().materials.open(current_actor(), case_id, file_id))
