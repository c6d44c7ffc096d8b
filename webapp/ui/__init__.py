"""The pages hall staff work in: inbox, task, start a case, cases, case.

Views are thin: read the request, call the engine, render. Every rule (who may see or
work what) is the engine's; an engine error becomes the page a person expects (403, 404,
a message next to the field)."""

from __future__ import annotations

import datetime as dt
import math
from types import SimpleNamespace

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import pgettext
from flask_login import current_user, login_required

import forms as forms_pkg
from engine import runtime
from engine.errors import Conflict, EngineFailure, Forbidden, HallError, Invalid, NotFound
from engine.tasks import may_work
from webapp import hall
from webapp.auth import _safe_next, page_actor
from webapp.ui import fields as html
from webapp.ui import messages

PER_PAGE = 50


@login_required
def _signed_in():
    """Every page needs a signed-in person."""


def _engine_error(e: HallError):
    return render_template("error.html", error=messages.localized(e)), e.status


def page_blueprint(name: str, url_prefix: str | None = None) -> Blueprint:
    """A blueprint of pages: signed-in only, engine errors shown as pages."""
    blueprint = Blueprint(name, __name__, url_prefix=url_prefix)
    blueprint.before_request(_signed_in)
    blueprint.register_error_handler(HallError, _engine_error)
    return blueprint


bp = page_blueprint("ui")


@bp.app_context_processor
def _navigation():
    if not current_user.is_authenticated:
        return {}
    actor = page_actor()
    h = hall()
    return {"nav_counts": h.tasks.counts(actor), "me": current_user,
            "unread": h.deadlines.unread(actor),
            "calendar_missing": sorted(h.deadlines.missing_years()) if actor.has("admin") else []}


def _page() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


def _pages(total: int, per_page: int = PER_PAGE) -> int:
    return max(1, math.ceil(total / per_page))


def _process_names() -> dict[str, str]:
    return {p["process_id"]: p["name"] for p in hall().repository.processes()}


# --- inbox ---------------------------------------------------------------------------

@bp.route("/")
def home():
    return redirect(url_for("ui.inbox"))


@bp.route("/inbox")
def inbox():
    actor = page_actor()
    args = request.args
    scope = args.get("scope") or None
    if scope not in (None, "mine", "group"):
        scope = None
    group = args.get("group") or None
    sort = args.get("sort") if args.get("sort") in ("urgency", "oldest", "newest", "number") else "urgency"
    h = hall()
    rows, total = h.tasks.inbox(actor, scope=scope, process_id=args.get("process") or None,
                                group=group if group in actor.groups else None, search=args.get("q") or None,
                                sort=sort, page=_page(), per_page=PER_PAGE)
    return render_template("inbox.html", tasks=rows, total=total, page=_page(), pages=_pages(total),
                           processes=_process_names(), groups=sorted(actor.groups), now=runtime.clock.now(),
                           args=args, sort=sort)


@bp.route("/done")
def done():
    rows, total = hall().tasks.done_by(page_actor(), page=_page(), per_page=PER_PAGE)
    return render_template("done.html", tasks=rows, total=total, page=_page(), pages=_pages(total),
                           processes=_process_names())


def _back() -> str:
    """Where the list that posted a claim was (on this site only)."""
    return _safe_next(request.form.get("back"))


@bp.route("/tasks/<int:task_id>/claim", methods=["POST"])
def claim(task_id):
    try:
        hall().tasks.claim(page_actor(), task_id)
        flash(_("已签收"), "success")
    except Conflict as e:
        flash(messages.engine_message(e), "error")
    return redirect(_back())


@bp.route("/tasks/<int:task_id>/unclaim", methods=["POST"])
def unclaim(task_id):
    try:
        hall().tasks.unclaim(page_actor(), task_id)
        flash(_("已退回组内"), "success")
    except Conflict as e:
        flash(messages.engine_message(e), "error")
    return redirect(_back())


# --- a task --------------------------------------------------------------------------

def _task_context(task, values=None, errors=None, gone=None):
    h = hall()
    case = h.runtime.case(task.case_id)
    form_fields = h.tasks.describe_form(task)
    start_fields = forms_pkg.describe(h.runtime.start_form(h.repository.bundle(task.version_id)))
    earlier = [(t, html.labelled(forms_pkg.describe(h.tasks.form(t)), t.data))
               for t in h.tasks.case_tasks(task.case_id, status="completed")]
    return {
        "task": task, "case": case, "fields": form_fields, "values": values or {}, "errors": errors or {},
        "may_work": may_work(page_actor(), task) and task.status == "open",
        "shown": html.labelled(start_fields, h.tasks.visible_data(task)), "earlier": earlier, "gone": gone,
        "result": html.labelled(form_fields, task.data), "typed": html.labelled(form_fields, values),
        "process_name": _process_names().get(case.process_id, case.process_id),
    }


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
def task(task_id):
    h = hall()
    actor = page_actor()
    row = h.tasks.get(actor, task_id)
    if request.method == "GET":
        return render_template("task.html", **_task_context(row))
    form_fields = h.tasks.describe_form(row)
    values = html.parse(form_fields, request.form) if form_fields else _free_form(request.form)
    try:
        h.tasks.complete(actor, task_id, values)
    except Invalid as e:
        flat = messages.form_errors(e, form_fields)
        return render_template("task.html", **_task_context(row, values, flat)), 422
    except EngineFailure as e:
        return render_template("task.html", **_task_context(row, values, messages.form_errors(e))), 422
    except (Conflict, Forbidden) as e:
        if isinstance(e, Forbidden) and not _open_to(actor, h.tasks.row(task_id)):
            raise  # never this person's to do (a supervisor reads, a coordinator assigns): 403
        # someone else completed or took it meanwhile: say so, keep what was typed
        return render_template("task.html", **_task_context(h.tasks.row(task_id), values,
                                                            gone=messages.engine_message(e))), 409
    flash(_("已办理：%(name)s（%(number)s）", name=row.name, number=row.case_number), "success")
    return redirect(url_for("ui.inbox"))


def _open_to(actor, row) -> bool:
    """Could the actor work this task if nobody held it?"""
    return may_work(actor, SimpleNamespace(**{**row._asdict(), "assignee_id": None}))


def _free_form(form) -> dict:
    """A task without a form takes any fields; the page offers a comment."""
    return {k: v for k, v in form.items() if k not in ("csrf_token",) and v.strip()}


# --- starting a case ---------------------------------------------------------------

@bp.route("/start")
def start_list():
    h = hall()
    actor = page_actor()
    startable = []
    for p in h.repository.processes():
        pv = h.repository.latest(p["process_id"])
        if h.repository.may_start(actor, pv):
            startable.append(p)
    return render_template("start_list.html", processes=startable)


@bp.route("/start/<process_id>", methods=["GET", "POST"])
def start(process_id):
    h = hall()
    actor = page_actor()
    pv = h.repository.latest(process_id)
    if not h.repository.may_start(actor, pv):
        raise Forbidden(_("您不能发起该事项"))
    form_fields = forms_pkg.describe(h.runtime.start_form(h.repository.bundle(pv.id)))
    values, errors = {}, {}
    if request.method == "POST":
        values = html.parse(form_fields, request.form) if form_fields else _free_form(request.form)
        try:
            case = h.runtime.start(actor, process_id, values)
        except Invalid as e:
            errors = messages.form_errors(e, form_fields)
        except EngineFailure as e:
            errors = messages.form_errors(e)
        else:
            flash(_("已受理，办件编号 %(number)s", number=case.number), "success")
            return redirect(url_for("ui.case", case_id=case.id))
    return render_template("start.html", pv=pv, fields=form_fields, values=values, errors=errors), \
        (422 if errors else 200)


# --- cases --------------------------------------------------------------------------

def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.route("/cases")
def cases():
    args = request.args
    status = args.get("status") if args.get("status") in ("running", "completed", "terminated", "error") else None
    rows, total = hall().runtime.cases(page_actor(), status=status, process_id=args.get("process") or None,
                                       page=_page(), per_page=PER_PAGE, search=args.get("q") or None,
                                       since=_day(args.get("since")), until=_day(args.get("until")))
    return render_template("cases.html", cases=rows, total=total, page=_page(), pages=_pages(total),
                           processes=_process_names(), args=args)


@bp.route("/cases/<int:case_id>")
def case(case_id):
    h = hall()
    case, open_tasks, events = h.runtime.case_page(case_id, page_actor())
    pv = h.repository.version(case.process_id, case.version)
    done_tasks = h.tasks.case_tasks(case_id, status="completed")
    start_fields = forms_pkg.describe(h.runtime.start_form(h.repository.bundle(pv.id)))
    # the case data with the labels of the forms that wrote it: the start form, then each task's
    known = {}
    for f in [*start_fields, *(f for t in done_tasks for f in forms_pkg.describe(h.tasks.form(t)))]:
        known.setdefault(f["name"], f)
    names = {t.element_id: t.name for t in (*done_tasks, *open_tasks)}
    return render_template(
        "case.html", case=case, open_tasks=open_tasks, events=timeline(events, names), done_tasks=done_tasks,
        process_name=pv.name, data=html.labelled(list(known.values()), case.data),
        current=sorted({t.element_id for t in open_tasks}), visited=case.visited or [], names=names,
        now=runtime.clock.now(), special=[_("听证"), _("检验检测"), _("鉴定"), _("专家评审")])


def timeline(events, names: dict[str, str]) -> list[SimpleNamespace]:
    """A case's events as its timeline reads them: when, what happened, to which step, any
    words that came with it (a reason, a note), and who did it."""
    said = {  # verbs of the timeline; some words (签收, 退回) mean otherwise elsewhere
        "started": pgettext("timeline", "受理"), "task_created": pgettext("timeline", "到达"),
        "claimed": pgettext("timeline", "签收"), "unclaimed": pgettext("timeline", "退回"),
        "assigned": pgettext("timeline", "指派"), "completed": pgettext("timeline", "办理"),
        "task_cancelled": pgettext("timeline", "撤销"), "timer_fired": pgettext("timeline", "计时到期"),
        "message_received": pgettext("timeline", "收到"), "ended": pgettext("timeline", "办结"),
        "terminated": pgettext("timeline", "终止"), "error": pgettext("timeline", "异常"),
        "extended": pgettext("timeline", "延期"), "escalated": pgettext("timeline", "督办升级"),
        "supervision_note": pgettext("timeline", "督办意见"), "clock_stopped": pgettext("timeline", "暂停计时"),
        "clock_resumed": pgettext("timeline", "恢复计时"),
    }
    people = {"system": _("系统"), **hall().identity.display_names(e.actor for e in events)}
    lines = []
    for e in events:
        d = e.detail or {}
        what = d.get("name") or d.get("message") or names.get(e.element_id) or e.element_id or ""
        words = d.get("reason") or d.get("text") or d.get("note") or ""
        if e.action == "extended":
            words = _("%(n)s 个工作日：%(reason)s", n=d.get("workdays"), reason=words)
        elif e.action == "assigned":
            words = d.get("to") or d.get("to_group") or ""
            words = people.get(words, words)
        elif e.action == "escalated" and not words:
            words = d.get("to") or ""
        lines.append(SimpleNamespace(at=e.at, action=e.action, said=said.get(e.action, e.action), what=what,
                                     words=words, actor=people.get(e.actor, e.actor)))
    return lines


@bp.route("/cases/<int:case_id>/diagram.bpmn")
def case_diagram(case_id):
    h = hall()
    case, _tasks, _events = h.runtime.case_page(case_id, page_actor())
    pv = h.repository.version(case.process_id, case.version)
    return pv.files[pv.main_file], 200, {"Content-Type": "application/xml; charset=utf-8"}


def init_app(app) -> None:
    from webapp.ui import messages, models, supervision

    app.register_blueprint(bp)
    app.register_blueprint(models.bp)
    app.register_blueprint(supervision.bp)

    app.add_template_filter(messages.join_words, "words")  # 甲、乙 / A, B

    @app.template_filter("localtime")
    def _localtime(value, fmt="%Y-%m-%d %H:%M"):
        if not value:
            return ""
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value)
            except ValueError:
                return value
        if isinstance(value, dt.datetime):
            return value.astimezone(runtime.clock.HALL_TZ).strftime(fmt)
        return value.strftime("%Y-%m-%d") if isinstance(value, dt.date) else str(value)

    @app.errorhandler(404)
    def _not_found(e):
        if request.path.startswith("/api/"):
            return {"message": "not found", "errors": {}}, 404
        return render_template("error.html", error=NotFound(_("页面不存在"))), 404

    @app.errorhandler(403)
    def _forbidden(e):
        return render_template("error.html", error=Forbidden(_("无权访问"))), 403
