"""Process models, for process owners: every process with its versions, a version's
diagram, its XML, the modeler (edit a version, or start from the blank template) and
deploying from it; and the service catalogue (事项目录) the processes serve."""

from __future__ import annotations

import io
import json
import re
import secrets
from pathlib import Path

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

import forms as forms_pkg
from engine import catalogue_sheets
from engine.catalogue import CATEGORIES, KINDS, MAX_FILE_BYTES, ItemSchema, as_dict
from engine.errors import Forbidden, HallError, Invalid
from engine.moves import ITEM_STATUSES
from webapp import hall
from webapp.auth import _safe_next, page_actor
from webapp.ui import PER_PAGE, _page, _pages, page_blueprint
from webapp.ui import fields as html
from webapp.ui.messages import engine_message, form_errors, lint_message, localize

bp = page_blueprint("models", "/models")

BLANK = Path(__file__).resolve().parent / "blank.bpmn"
_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,80}$")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _owner():
    if not page_actor().has("process_owner"):
        raise Forbidden(_("流程模型仅对流程管理员开放"))


@bp.route("")
def index():
    _owner()
    h = hall()
    processes = [(p, h.repository.versions(p["process_id"])) for p in h.repository.processes()]
    return render_template("models/index.html", processes=processes, incidents=h.incidents.counts())


@bp.route("/incidents")
def incidents():
    """Automatic steps that failed, newest first: each with its case, element, error and tries."""
    process_id = request.args.get("process_id") or None
    resolved = request.args.get("resolved") == "1"
    rows = hall().incidents.listing(page_actor(), process_id=process_id, resolved=resolved)
    return render_template("models/incidents.html", rows=rows, process_id=process_id, resolved=resolved)


@bp.route("/incidents/<int:incident_id>/<any(retry, correct, terminate):what>", methods=["POST"])
def incident_action(incident_id, what):
    """Retry a failed step, correct its case's data (one "field = value" a line, values as
    JSON or text) with a reason, or terminate its case."""
    h = hall()
    form = request.form
    try:
        if what == "retry":
            h.incidents.retry(page_actor(), incident_id)
            flash(_("已安排重试，稍后自动执行"), "success")
        elif what == "correct":
            h.incidents.correct(page_actor(), incident_id, _assignments(form.get("data", "")), form.get("reason"))
            flash(_("数据已更正，办件继续办理"), "success")
        else:
            h.incidents.terminate(page_actor(), incident_id, form.get("reason"))
            flash(_("办件已终止"), "success")
    except HallError as e:
        flash(engine_message(e), "error")
    return redirect(_safe_next(request.form.get("next"), url_for("models.incidents")))


def _assignments(text: str) -> dict:
    """'parts = 2' lines as {"parts": 2}: a value is JSON where it reads as JSON, else text."""
    out = {}
    for line in text.splitlines()[:50]:
        name, eq, value = line.partition("=")
        if not eq:
            continue
        value = value.strip()
        try:
            out[name.strip()] = json.loads(value)
        except ValueError:
            out[name.strip()] = value
    return out


# --- moving running cases to another version ---------------------------------------

def _move_choice(form) -> dict:
    """The cases a process owner chose on the moves page (from the query or the form)."""
    def version(name):
        value = form.get(name, "").strip()
        return int(value) if value.isdigit() else None
    numbers = [n.strip() for n in form.get("cases", "").replace("，", ",").replace("\n", ",").split(",") if n.strip()]
    return {"to_version": version("to_version"), "from_version": version("from_version"),
            "element": form.get("element", "").strip() or None, "numbers": numbers or None}


def _reasons(text: str | None) -> list[str]:
    return [localize(r) for r in (text or "").split("; ") if r]


@bp.route("/<process_id>/moves", methods=["GET", "POST"])
def moves(process_id):
    """Choose running cases, see the dry run (?dry=1), and start the move (POST)."""
    _owner()
    h, actor = hall(), page_actor()
    versions = h.repository.versions(process_id)
    if request.method == "POST":
        try:
            move = h.moves.start(actor, process_id, **_move_choice(request.form))
        except HallError as e:
            flash(engine_message(e), "error")
            return redirect(url_for("models.moves", process_id=process_id, **request.form))
        flash(_("迁移已开始：%(n)s 件待迁移，%(skipped)s 件不能迁移", n=move["pending"], skipped=move["skipped"]),
              "success")
        return redirect(url_for("models.move", move_id=move["id"]))
    choice = _move_choice(request.args)
    plan = None
    if request.args.get("dry"):
        try:
            plan = h.moves.dry_run(actor, process_id, **choice)
        except HallError as e:
            flash(engine_message(e), "error")
    return render_template("models/moves.html", process_id=process_id, versions=versions, choice=choice,
                           cases_text=request.args.get("cases", ""), plan=plan, say=localize,
                           moves=h.moves.listing(actor, process_id))


@bp.route("/moves/<int:move_id>")
def move(move_id):
    """A move: how far it is, its cases and how each fared; refreshed while it runs."""
    _owner()
    h, actor = hall(), page_actor()
    shown = h.moves.view(actor, move_id)
    status = request.args.get("status") or None
    page = _page()
    rows, total = h.moves.items(actor, move_id, status if status in ITEM_STATUSES else None, page, PER_PAGE)
    return render_template("models/move.html", move=shown, rows=rows, reasons=_reasons, status=status, page=page,
                           pages=_pages(total), total=total)


@bp.route("/moves/<int:move_id>/<any(pause, resume, cancel):what>", methods=["POST"])
def steer_move(move_id, what):
    _owner()
    try:
        getattr(hall().moves, what)(page_actor(), move_id)
        said = {"pause": _("迁移已暂停"), "resume": _("迁移已继续"), "cancel": _("迁移已取消，未迁移的办件留在原版本")}
        flash(said[what], "success")
    except HallError as e:
        flash(engine_message(e), "error")
    return redirect(url_for("models.move", move_id=move_id))


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


# --- the service catalogue (事项目录) -------------------------------------------------

@bp.route("/catalogue")
def catalogue():
    _owner()
    items, total = hall().catalogue.listing(request.args.get("q"), None, _page(), PER_PAGE)
    return render_template("models/catalogue.html", items=items, total=total, page=_page(), pages=_pages(total),
                           args=request.args, kinds=KINDS, categories=CATEGORIES)


@bp.route("/catalogue.xlsx")
def catalogue_workbook():
    """The whole catalogue as a workbook (engine.catalogue_sheets), as `flask catalogue export --xlsx`."""
    _owner()
    out = io.BytesIO()
    catalogue_sheets.write([as_dict(i) for i in hall().catalogue.items()], out)
    return Response(out.getvalue(), mimetype=XLSX, headers={
        "Content-Disposition": "attachment; filename=catalogue.xlsx", "X-Content-Type-Options": "nosniff"})


@bp.route("/catalogue/import", methods=["POST"])
def catalogue_import():
    """Load a workbook: every item checked first, then all saved or none."""
    _owner()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("请选择要导入的 XLSX 文件"), "error")
        return redirect(url_for("models.catalogue"))
    data = upload.stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        flash(_("文件超过 %(n)s MB", n=MAX_FILE_BYTES // 2**20), "error")
        return redirect(url_for("models.catalogue"))
    try:
        saved = hall().catalogue.load(page_actor(), catalogue_sheets.read(io.BytesIO(data)))
    except HallError as e:
        flash(engine_message(e), "error")
    else:
        flash(_("已导入 %(n)s 项，其中 %(new)s 项生成新版本", n=len(saved), new=sum(new for _row, new in saved)),
              "success")
    return redirect(url_for("models.catalogue"))


@bp.route("/catalogue/new", methods=["GET", "POST"], defaults={"code": None})
@bp.route("/catalogue/<code>/edit", methods=["GET", "POST"])
def catalogue_item(code):
    """An item's form: the catalogue's own schema as a page form; saving adds a version."""
    _owner()
    h = hall()
    form_fields = _item_form()
    values = as_dict(h.catalogue.item(code)) if code else {"materials": [], "fees": [], "departments": []}
    errors = {}
    if request.method == "POST":
        values = html.parse(form_fields, request.form)
        if code is not None and values.get("code") != code:
            errors = {"code": [_("事项编码不能修改；另存为新事项请新建")]}
        else:
            try:
                row, new = h.catalogue.save(page_actor(), values)
            except Invalid as e:
                errors = form_errors(e, form_fields)
            else:
                flash(_("已保存为第 %(n)s 版", n=row.version) if new else _("内容未变，未新增版本"), "success")
                return redirect(url_for("guide.item", code=row.code))
    return render_template("models/catalogue_item.html", code=code, fields=form_fields, values=values,
                           errors=errors), (422 if errors else 200)


def _item_form() -> list[dict]:
    """engine.catalogue.ItemSchema as this page's form, in the person's language."""
    labels = {
        "code": _("事项编码"), "name": _("事项名称"), "category": _("办理窗口"),
        "departments": _("办理部门（每行一个）"), "kind": _("办件类型"), "legal_days": _("法定时限（工作日）"),
        "promised_days": _("承诺时限（工作日，即办件填 0）"),
        "materials": _("申请材料"), "materials.name": _("材料名称"), "materials.original": _("原件（否则复印件）"),
        "materials.copies": _("份数"), "materials.required": _("必需"), "materials.tolerable": _("可容缺受理"),
        "materials.departments": _("审查部门（每行一个，不填则各环节均可见）"),
        "materials.sample": _("表格或样表下载地址"), "fees": _("收费标准（不填即免费）"), "fees.name": _("收费项目"),
        "fees.amount": _("金额（元）"), "fees.basis": _("收费依据"), "place": _("办理地点"), "hours": _("办理时间"),
        "phone": _("咨询电话"), "basis": _("设定依据"), "process_id": _("办理流程（流程编号）"),
        "online": _("可网上办理（网上预审）"),
    }
    choices = {"domestic": _("内资"), "foreign": _("外资"), "construction": _("建设"), "social": _("社会事务"),
               "immediate": _("即办件"), "promised": _("承诺件")}

    def label(descs: list[dict], prefix: str = "") -> list[dict]:
        for d in descs:
            path = prefix + d["name"]
            d["label"] = labels[path]
            d.pop("help", None)  # the API's words, in English
            for c in d.get("choices") or ():
                c["label"] = choices[c["value"]]
            nested = d.get("fields") or (d.get("item") or {}).get("fields")
            if nested:
                label(nested, path + ".")
        return descs

    return label(forms_pkg.describe(ItemSchema))
