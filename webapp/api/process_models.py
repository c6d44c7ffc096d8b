from __future__ import annotations

from flask import Response, request

import forms
from engine.errors import Invalid
from webapp import hall
from webapp.api import Blueprint
from webapp.api.schemas import DeployedVersion, DeployForm, FormField, ProcessModel
from webapp.auth import current_actor, token_required

PREFIX = "/process-models"
blp = Blueprint("api_process_models", __name__, description="Deploy and read process diagrams")


@blp.route("", methods=["GET"])
@token_required
@blp.response(200, ProcessModel(many=True))
def list_models():
    """Every deployed process with its latest version."""
    return hall().repository.processes()


@blp.route("", methods=["POST"])
@token_required
@blp.arguments(DeployForm(), location="form")
@blp.response(201, DeployedVersion)
@blp.alt_response(200, schema=DeployedVersion, description="identical files: the existing version")
@blp.alt_response(422, description="invalid diagram: {message, errors: [{element_id, message}]}")
def deploy(form):
    """Deploy one or more 'file' parts (.bpmn, .dmn) as the next version (process_owner)."""
    files = request.files.getlist("file")
    uploads = {}
    for f in files:
        name = f.filename or "diagram.bpmn"
        if name in uploads:
            raise Invalid(f"two files named {name}", [{"element_id": None, "message": f"duplicate file {name}"}])
        uploads[name] = f.read(4 * 1024 * 1024 + 1)
    pv, created = hall().repository.deploy(uploads, current_actor(), form.get("process_id"))
    return pv, 201 if created else 200


@blp.route("/<process_id>/start-form", methods=["GET"])
@token_required
@blp.response(200, FormField(many=True))
def start_form(process_id):
    """The fields a case of the process's latest version starts with (POST /cases `data`)."""
    h = hall()
    pv = h.repository.latest(process_id)
    return forms.describe(h.runtime.start_form(h.repository.bundle(pv.id)))


@blp.route("/<process_id>/versions", methods=["GET"])
@token_required
@blp.response(200, DeployedVersion(many=True))
def versions(process_id):
    """All versions of a process, newest first."""
    return hall().repository.versions(process_id)


@blp.route("/<process_id>/versions/<int:version>/bpmn", methods=["GET"])
@token_required
@blp.response(200, description="the BPMN XML", content_type="application/xml")
def version_bpmn(process_id, version):
    """The BPMN XML of one version."""
    pv = hall().repository.version(process_id, version)
    return Response(pv.files[pv.main_file], mimetype="application/xml")
