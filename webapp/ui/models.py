"""Process models, for process owners: every process with its versions, a version's
diagram, its XML, the modeler (edit a version, or start from the blank template) and
deploying from it."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from flask import Response, flash, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import Forbidden, HallError, Invalid
from webapp import hall
from webapp.auth import page_actor
from webapp.ui import page_blueprint
from webapp.ui.messages import engine_message, lint_message

bp = page_blueprint("models", "/models")

BLANK = Path(__file__).resolve().parent / "blank.bpmn"
_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,80}$")


def _owner():
    if not page_actor().has("process_owner"):
        raise Forbidden(_("流程模型仅对流程管理员开放"))


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


# --- the modeler -----------------------------------------------------------------------

@bp.route("/<process_id>/<int:version>/edit")
def edit(process_id, version):
    _owner()
    h = hall()
    pv = h.repository.version(process_id, version)
    latest = h.repository.latest(process_id)
    return render_template("models/edit.html", pv=pv, latest=latest,
                           others=sorted(n for n in pv.files if n != pv.main_file),
                           xml_url=url_for("models.xml", process_id=pv.process_id, version=pv.version))


@bp.route("/new")
def new():
    _owner()
    return render_template("models/edit.html", pv=None, latest=None, others=[], xml_url=url_for("models.blank"))


@bp.route("/blank.bpmn")
def blank():
    """The blank template with a process id of its own, so two new diagrams never become
    versions of one process by accident."""
    _owner()
    text = BLANK.read_text(encoding="utf-8").replace('"Process_new"', f'"Process_{secrets.token_hex(4)}"')
    return Response(text, mimetype="application/xml")


def _json_error(e: HallError):
    """An error as the modeler shows it: the message and each element's problem in the
    person's language."""
    body = {"message": engine_message(e)}
    if isinstance(e.extra.get("errors"), list):
        body["errors"] = [{**p, "message": lint_message(p["message"])} if isinstance(p, dict) and
                          isinstance(p.get("message"), str) else p for p in e.extra["errors"]]
    return jsonify(body), e.status


@bp.route("/deploy", methods=["POST"])
def deploy():
    """Deploy the modeler's XML: {"xml", "process_id"?, "base": {"process_id", "version"}?}.

    With a base version, its other files (a DMN) go along unchanged and the edited XML
    replaces its main file; called processes are looked up afresh, as on any deploy, so the
    new version calls their latest versions. Answers the version (201 created, 200 identical
    to an existing one) or {message, errors: [{element_id, message}]}."""
    actor = page_actor()
    h = hall()
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("xml"), str) or not body["xml"].strip():
        return _json_error(Invalid(_("请求中没有流程图 XML"), [{"element_id": None, "message": "no xml"}]))
    process_id = body.get("process_id") if isinstance(body.get("process_id"), str) else None
    base = body.get("base") if isinstance(body.get("base"), dict) else None
    try:
        if not actor.has("process_owner"):
            raise Forbidden(_("流程模型仅对流程管理员开放"))
        if base:
            try:
                base_version = int(base.get("version"))
            except (TypeError, ValueError):
                raise Invalid(_("基准版本无效"), []) from None
            pv = h.repository.version(str(base.get("process_id")), base_version)
            files: dict[str, str | bytes] = {n: t for n, t in pv.files.items() if not n.startswith("called/")}
            files[pv.main_file] = body["xml"]
        else:
            name = f"{process_id}.bpmn" if process_id and _SAFE_NAME.match(process_id) else "diagram.bpmn"
            files = {name: body["xml"]}
        pv, created = h.repository.deploy(files, actor, process_id or None)
    except HallError as e:
        return _json_error(e)
    answer = {"process_id": pv.process_id, "version": pv.version, "name": pv.name, "created": created,
              "url": url_for("models.index", _anchor=f"process-{pv.process_id}")}
    if created:
        flash(_("已部署 %(name)s v%(version)s", name=pv.name, version=pv.version), "success")
        return jsonify(answer), 201
    return jsonify(answer), 200
