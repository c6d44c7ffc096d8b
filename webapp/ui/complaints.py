"""Pages of 意见建议/投诉 and 回访: raise one (an enterprise in 企业之家, window staff for a
person at the counter or on the phone, the 驻厅监察), the list and a complaint's page (the
supervisor closes it there); 管理办's rounds of return visits and 回访率. The steps between
are tasks in the inboxes."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import Conflict, Invalid
from engine.identity import FILERS, WINDOW_ROLES
from webapp import hall
from webapp.auth import page_actor
from webapp.ui import PER_PAGE, _page, _pages, messages, page_blueprint, rating_words
from webapp.ui.supervision import accountability_kinds

bp = page_blueprint("complaints", url_prefix="/complaints")
FIELDS = ("kind", "subject", "content", "contact_name", "contact_phone", "about_case", "about_task")


def kinds() -> dict[str, str]:
    return {"suggestion": _("意见建议"), "complaint": _("投诉"),
            **{k: v for k, v in accountability_kinds().items() if k not in ("late", "extension", "rejection")}}


def channels() -> dict[str, str]:
    return {"portal": _("企业之家"), "counter": _("窗口"), "phone": _("电话"), "supervision": _("驻厅监察"),
            "visit": _("回访")}


def statuses() -> dict[str, str]:
    return {"classify": _("待分类交办"), "investigate": _("调查核实中"), "rectify": _("整改中"),
            "reply": _("待答复"), "close": _("已答复，待结案"), "closed": _("已办结")}


def _channels_for(actor) -> list[str]:
    if actor.has(*FILERS) and actor.is_applicant_only:
        return ["portal"]
    out = ["counter", "phone"] if actor.has(*WINDOW_ROLES) else []
    return out + (["supervision"] if actor.has("supervisor") else [])


def _words() -> dict:
    return {"kinds": kinds(), "channels": channels(), "statuses": statuses()}


@bp.route("")
def index():
    actor = page_actor()
    status = request.args.get("status") if request.args.get("status") in statuses() else None
    kind = request.args.get("kind") if request.args.get("kind") in kinds() else None
    rows, total = hall().complaints.list(actor, status=status, kind=kind, page=_page(), per_page=PER_PAGE)
    return render_template("complaints/index.html", rows=rows, total=total, page=_page(), pages=_pages(total),
                           args=request.args, may_raise=bool(_channels_for(actor)), **_words())


@bp.route("/new", methods=["GET", "POST"])
def new():
    actor = page_actor()
    allowed = _channels_for(actor)
    h = hall()
    about = request.values.get("case", type=int)
    steps = []
    values = {"about_case": ""}
    if about:  # raised from a case's page: its steps to name
        row = h.runtime.case(about) if not actor.is_applicant_only else h.runtime.visible_case(actor, about)
        values["about_case"] = row.number
        steps = h.tasks.case_tasks(about, status="completed")
    errors = {}
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in FIELDS}
        channel = request.form.get("channel") if request.form.get("channel") in allowed else (allowed or [""])[0]
        data = {k: v for k, v in values.items() if v}
        if "about_task" in data:
            data["about_task"] = int(data["about_task"]) if data["about_task"].isdigit() else data["about_task"]
        try:
            c = h.complaints.submit(actor, channel, data)
        except Invalid as e:
            errors = messages.form_errors(e)
        except Conflict as e:
            errors = {"_": [messages.engine_message(e)]}
        else:
            flash(_("已受理，编号 %(number)s", number=c.number), "success")
            return redirect(url_for("complaints.detail", complaint_id=c.id))
    return render_template("complaints/new.html", allowed=allowed, values=values, errors=errors, steps=steps,
                           **_words()), 422 if errors else 200


@bp.route("/<int:complaint_id>")
def detail(complaint_id, errors: dict | None = None, status: int = 200):
    actor = page_actor()
    h = hall()
    c = h.complaints.get(actor, complaint_id)
    record = tasks = None
    if not actor.is_applicant_only:
        record = h.runtime.case(c.case_id).data or {}
        tasks = h.tasks.case_tasks(c.case_id, status=None)
    return render_template("complaints/detail.html", c=c, record=record, tasks=tasks, errors=errors or {},
                           may_close=actor.has("supervisor") and c.status == "close", **_words()), status


@bp.route("/<int:complaint_id>/close", methods=["POST"])
def close(complaint_id):
    data = {"opinion": request.form.get("opinion", "").strip(), "accountable": request.form.get("accountable") == "on"}
    try:
        hall().complaints.close(page_actor(), complaint_id, data)
    except Invalid as e:
        return detail(complaint_id, errors=messages.form_errors(e), status=422)
    except Conflict as e:
        flash(messages.engine_message(e), "error")
    else:
        flash(_("已结案"), "success")
    return redirect(url_for("complaints.detail", complaint_id=complaint_id))


@bp.route("/by-case/<int:case_id>")
def by_case(case_id):
    """Where a notification of a reply leads: the complaint of that case."""
    c = hall().complaints.by_case(page_actor(), case_id)
    return redirect(url_for("complaints.detail", complaint_id=c.id))


# --- 回访 ----------------------------------------------------------------------------

@bp.route("/visits", methods=["GET", "POST"])
def visits():
    actor = page_actor()
    h = hall()
    values, errors = {}, {}
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in ("title", "since", "until", "sample", "size")}
        try:
            since, until = _date(values["since"], "since"), _date(values["until"], "until")
            size = int(values["size"]) if values["size"].isdigit() else (values["size"] or None)
            rnd = h.visits.plan(actor, values["title"], since, until, values["sample"] or "all", size)
        except Invalid as e:
            errors = messages.form_errors(e)
        else:
            flash(_("回访计划已建立"), "success")
            return redirect(url_for("complaints.visit_round", round_id=rnd.id))
    return render_template("complaints/visits.html", rounds=h.visits.rounds(actor), values=values, errors=errors,
                           may_plan=actor.has("coordinator") or "管理办" in actor.groups), 422 if errors else 200


def _date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{field} must be a day", {field: ["a day"]}) from None


@bp.route("/visits/<int:round_id>")
def visit_round(round_id):
    rnd, rows = hall().visits.round(page_actor(), round_id)
    return render_template("complaints/round.html", rnd=rnd, rows=rows, levels=rating_words().levels)


@bp.route("/visits/<int:visit_id>/suggestion", methods=["POST"])
def suggest(visit_id):
    try:
        c = hall().visits.suggest(page_actor(), visit_id)
    except (Conflict, Invalid) as e:
        flash(messages.engine_message(e), "error")
        return redirect(request.referrer or url_for("complaints.visits"))
    flash(_("已转为意见建议 %(number)s", number=c.number), "success")
    return redirect(url_for("complaints.detail", complaint_id=c.id))


@bp.route("/visits/rates")
def rates():
    args = request.args
    since, until = (_day(args.get("since")), _day(args.get("until")))
    return render_template("complaints/rates.html", rates=hall().visits.rates(page_actor(), since, until), args=args,
                           levels=rating_words().levels)


def _day(value):
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None
