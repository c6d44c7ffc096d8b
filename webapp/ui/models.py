"""Process models, for process owners: every process with its versions, a version's
diagram, its XML."""

from __future__ import annotations

from flask import Response, render_template

from engine.errors import Forbidden
from webapp import hall
from webapp.auth import page_actor
from webapp.ui import page_blueprint

bp = page_blueprint("models", "/models")


def _owner():
    if not page_actor().has("process_owner"):
        raise Forbidden("流程模型仅对流程管理员开放")


@bp.route("")
def index():
    _owner()
    h = hall()
    processes = [(p, h.repository.versions(p["process_id"])) for p in h.repository.processes()]
    return render_template("models/index.html", processes=processes)


@bp.route("/<process_id>/<int:version>")
def view(process_id, version):
    _owner()
    pv = hall().repository.version(process_id, version)
    return render_template("models/view.html", pv=pv)


@bp.route("/<process_id>/<int:version>/xml")
def xml(process_id, version):
    _owner()
    pv = hall().repository.version(process_id, version)
    return Response(pv.files[pv.main_file], mimetype="application/xml",
                    headers={"Content-Disposition": f"attachment; filename={pv.process_id}-v{pv.version}.bpmn"})
