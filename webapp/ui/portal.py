"""企业之家, the enterprise's pages: sign up, file a case from an item (a draft to come back
to, the materials uploaded with it), follow one's cases in plain words, answer what the hall
asks (补正材料, 重新提交), withdraw before 受理, rate the service, ask the item's window a
question. The windows answer the questions here too."""

from __future__ import annotations

from types import SimpleNamespace

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

import forms as forms_pkg
from engine import catalogue, clock
from engine.errors import Conflict, EngineFailure, Forbidden, HallError, Invalid
from engine.identity import FILERS, WINDOW_ROLES
from engine.materials import OTHER, TooLarge
from engine.portal import SignUpsThrottled
from webapp import hall
from webapp.auth import page_actor
from webapp.ui import (
    PER_PAGE,
    _engine_error,
    _page,
    _pages,
    case_fields,
    messages,
    rate_from_form,
    rating_words,
    timeline,
)
from webapp.ui import fields as html
from webapp.ui.complaints import statuses as complaint_words

bp = Blueprint("portal", __name__, url_prefix="/portal")
bp.register_error_handler(HallError, _engine_error)
PUBLIC = ("portal.signup",)
FILE_ERRORS = (Invalid, Conflict, TooLarge)


@bp.before_request
def _signed_in():
    if request.endpoint not in PUBLIC and not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return None


def _filer():
    actor = page_actor()
    if not actor.has(*FILERS):
        raise Forbidden(_("企业之家供企业和代办员使用"))
    return actor


# --- signing up ---------------------------------------------------------------------

SIGNUP_FIELDS = ("credit_code", "name", "contact_name", "phone", "username")


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    values, errors = {}, {}
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in SIGNUP_FIELDS}
        if request.form.get("password") != request.form.get("password2"):
            errors = {"password2": [_("两次输入的密码不一致")]}
        else:
            try:
                hall().portal.sign_up(values["username"], request.form.get("password"), values["credit_code"],
                                      values["name"], values["contact_name"], values["phone"],
                                      request.remote_addr or "unknown")
            except Invalid as e:
                errors = {k: [_signup_error(k)] for k in (e.extra.get("errors") or {})}
            except (Conflict, SignUpsThrottled) as e:
                errors = {"_": [messages.engine_message(e)]}
            else:
                flash(_("注册成功，请登录"), "success")
                return redirect(url_for("auth.login", next=url_for("portal.home")))
    return render_template("portal/signup.html", values=values, errors=errors), 422 if errors else 200


def _signup_error(field: str) -> str:
    return {
        "username": _("用户名为 3 到 32 位字母、数字或 . _ -，且未被使用"),
        "password": _("密码至少 8 位"),
        "credit_code": _("须为18位统一社会信用代码（校验位正确）"),
        "phone": _("须为手机号或带区号的固定电话"),
        "name": _("请填写企业名称"),
        "contact_name": _("请填写联系人"),
    }.get(field, _("填写有误"))


# --- home: my cases, drafts, questions ----------------------------------------------------

@bp.route("")
def home():
    actor = _filer()
    h = hall()
    rows, total = h.runtime.cases(actor, page=_page(), per_page=PER_PAGE)
    drafts = h.portal.drafts(actor)
    return render_template("portal/home.html", cases=[_plain(c) for c in rows], total=total, page=_page(),
                           pages=_pages(total), drafts=drafts, questions=h.portal.asked_by(actor),
                           enterprise=h.portal.enterprise(actor.enterprise_id) if actor.enterprise_id else None,
                           complaints=h.complaints.list(actor, per_page=20)[0], complaint_words=complaint_words(),
                           items={d.item_code: _item_name(d.item_code) for d in drafts})


def _item_name(code: str) -> str:
    try:
        return hall().catalogue.item(code).name
    except HallError:
        return code


def _plain(case, open_tasks=None) -> SimpleNamespace:
    """A case as its applicant reads it: where it is, in plain words (with its open tasks,
    who has it now)."""
    waiting = case.waiting or []
    accepted = case.due_at is not None  # the committed limit counts from 受理
    if case.status == "withdrawn":
        words, mine = _("已撤回"), False
    elif case.status == "completed":
        words, mine = _("已办结"), False
    elif case.status != "running":
        words, mine = _("办理异常，窗口正在处理"), False
    elif waiting:
        words, mine = _("等待您：%(what)s", what=messages.join_words(waiting)), True
    elif open_tasks:
        where = messages.join_words(sorted({g for t in open_tasks for g in (t.candidate_groups or [])}))
        words = _("已受理，%(where)s 办理中", where=where) if accepted else _("已收件，%(where)s 办理中", where=where)
        mine = False
    else:
        words, mine = (_("已受理，办理中") if accepted else _("已收件，待受理")), False
    return SimpleNamespace(case=case, words=words, mine=mine)


# --- filing: a draft, its materials, submitting ------------------------------------------

@bp.route("/file/<code>", methods=["GET", "POST"])
def file(code):
    """A new filing of an item."""
    return _filing(code, None)


@bp.route("/drafts/<int:draft_id>", methods=["GET", "POST"])
def draft(draft_id):
    """A filing kept as a draft, to go on with."""
    return _filing(None, draft_id)


def _filing(code: str | None, draft_id: int | None):
    actor = _filer()
    h = hall()
    draft = h.portal.draft(actor, draft_id) if draft_id is not None else None
    item = h.catalogue.item(draft.item_code if draft else code)
    pv = h.repository.latest(item.process_id) if item.process_id else None
    if not item.online or pv is None:
        raise Invalid(f"item {item.code} is not filed online: the applicant brings it to the window")
    form_fields = forms_pkg.describe(h.runtime.start_form(h.repository.bundle(pv.id)))
    saved = draft.data if draft else {}
    values, filer, errors, file_errors = saved.get("form", {}), saved.get("for", {}), {}, {}
    if request.method == "POST":
        values = html.parse(form_fields, request.form) if form_fields else {}
        filer = {k: request.form.get(k, "").strip() for k in ("credit_code", "enterprise_name")}
        draft = h.portal.save_draft(actor, item.code, {"form": values, "for": filer}, draft_id)
        for material, f in html.material_uploads(request.files, [*item.materials, {"name": OTHER}]):
            try:
                h.materials.add_to_draft(actor, draft, material, f.filename, f.stream)
            except FILE_ERRORS as e:
                file_errors[material] = messages.engine_message(e)
        if request.form.get("action") == "submit" and not file_errors:
            try:
                enterprise_id = None if actor.enterprise_id else h.portal.enterprise_for_filing(
                    actor, filer.get("credit_code"), filer.get("enterprise_name"))
                case = h.portal.submit(actor, draft.id, values, enterprise_id)
            except Invalid as e:
                errors = messages.form_errors(e, form_fields)
            except EngineFailure as e:
                errors = messages.form_errors(e)
            else:
                flash(_("已提交，办件编号 %(number)s", number=case.number), "success")
                return redirect(url_for("portal.case", case_id=case.id))
        elif not file_errors:
            flash(_("草稿已保存，可随时回来继续填写"), "success")
            return redirect(url_for("portal.draft", draft_id=draft.id))
    files = h.materials.of_draft(draft.id) if draft else []
    return render_template("portal/file.html", item=item, draft=draft, fields=form_fields, values=values,
                           filer=filer, errors=errors, file_errors=file_errors, files=files,
                           materials=[*item.materials, {"name": OTHER}], agent=actor.enterprise_id is None,
                           counter=False), \
        422 if errors or file_errors else 200


@bp.route("/drafts/<int:draft_id>/delete", methods=["POST"])
def delete_draft(draft_id):
    hall().portal.delete_draft(_filer(), draft_id)
    flash(_("草稿已删除"), "success")
    return redirect(url_for("portal.home"))


# --- one case ---------------------------------------------------------------------

@bp.route("/cases/<int:case_id>")
def case(case_id, typed: dict | None = None, status: int = 200):
    actor = _filer()
    h = hall()
    case, open_tasks, events = h.runtime.case_page(case_id, actor)
    bundle = h.repository.bundle(case.version_id)
    done_tasks = h.tasks.case_tasks(case_id, status="completed")
    names = {**bundle.element_names, **{t.element_id: t.name for t in (*done_tasks, *open_tasks)}}
    replies = []
    for name in case.waiting or [] if case.status == "running" else []:
        key = bundle.message_form(name)
        fields = forms_pkg.describe(forms_pkg.registry.get(key)) if key else []
        values, errors = (typed or {}).get(name) or (
            {f["name"]: case.data[f["name"]] for f in fields if f["name"] in (case.data or {})}, {})
        replies.append(SimpleNamespace(name=name, fields=fields, values=values, errors=errors))
    accepted_at = bundle.time_limit_from
    return render_template(
        "portal/case.html", plain=_plain(case, open_tasks), case=case, events=timeline(events, names),
        data=html.labelled(case_fields(h, bundle, done_tasks), case.data), replies=replies,
        asked=(case.data or {}).get("missing_materials") or [], materials=h.materials.checklist(actor, case),
        material_names=h.materials.names(case), now=clock.now(), notices=h.notices.of_case(actor, case_id),
        may_withdraw=case.status == "running" and accepted_at is not None and accepted_at not in (case.visited or []),
        ratings=h.ratings.of_case(actor, case_id), rate_stages=h.ratings.open_stages(case), rating=rating_words(),
    ), status


@bp.route("/cases/<int:case_id>/messages/<name>", methods=["POST"])
def reply(case_id, name):
    """What the hall asked of the applicant, answered: the form, and the files it brings."""
    actor = _filer()
    h = hall()
    row = h.runtime.visible_case(actor, case_id)
    key = h.repository.bundle(row.version_id).message_form(name)
    fields = forms_pkg.describe(forms_pkg.registry.get(key)) if key else []
    values = html.parse(fields, request.form) if fields else {}
    names = h.materials.names(row)
    sent = []
    try:
        for n, f in enumerate(request.files.getlist("file")):
            if f.filename:
                material = request.form.getlist("material")[n] if n < len(request.form.getlist("material")) else OTHER
                sent.append(h.materials.add(actor, case_id, material if material in names or not names else OTHER,
                                            f.filename, f.stream).material)
        if fields and "materials" in {f["name"] for f in fields} and not values.get("materials") and sent:
            values["materials"] = sorted(set(sent))  # what was uploaded is what was supplemented
        h.runtime.message(actor, case_id, name, values)
    except (Invalid, EngineFailure) as e:
        return case(case_id, typed={name: (values, messages.form_errors(e, fields))}, status=422)
    except (Conflict, TooLarge) as e:
        flash(messages.engine_message(e), "error")
    else:
        flash(_("已提交：%(name)s", name=name), "success")
    return redirect(url_for("portal.case", case_id=case_id))


@bp.route("/cases/<int:case_id>/withdraw", methods=["POST"])
def withdraw(case_id):
    try:
        hall().runtime.withdraw(_filer(), case_id, request.form.get("reason"))
    except (Conflict, Invalid) as e:
        flash(messages.engine_message(e), "error")
    else:
        flash(_("办件已撤回"), "success")
    return redirect(url_for("portal.case", case_id=case_id))


@bp.route("/cases/<int:case_id>/rating", methods=["POST"])
def rate(case_id):
    try:
        rate_from_form(_filer(), case_id, "portal")
    except (Invalid, Conflict) as e:
        flash(messages.engine_message(e), "error")
    else:
        flash(_("感谢您的评价"), "success")
    return redirect(url_for("portal.case", case_id=case_id))


# --- 网上咨询 --------------------------------------------------------------------------

@bp.route("/ask/<code>", methods=["POST"])
def ask(code):
    try:
        hall().portal.ask(_filer(), code, request.form.get("question"))
    except (Invalid, Conflict) as e:
        flash(messages.engine_message(e), "error")
    else:
        flash(_("问题已提交，窗口答复后会显示在企业之家"), "success")
    return redirect(url_for("guide.item", code=code, _anchor="ask"))


@bp.route("/questions", methods=["GET", "POST"])
def questions():
    """The windows' list of open questions about their items, and the answer form."""
    actor = page_actor()
    if not actor.has(*WINDOW_ROLES):
        raise Forbidden(_("网上咨询由窗口工作人员答复"))
    h = hall()
    if request.method == "POST":
        try:
            h.portal.answer(actor, request.form.get("id", type=int) or 0, request.form.get("answer"))
        except (Invalid, Conflict) as e:
            flash(messages.engine_message(e), "error")
        else:
            flash(_("已答复"), "success")
        return redirect(url_for("portal.questions"))
    rows = h.portal.questions_for(actor)
    return render_template("portal/questions.html", rows=rows,
                           items={r.item_code: _item_name(r.item_code) for r in rows},
                           windows=catalogue.CATEGORIES)
