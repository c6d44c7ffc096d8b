"""The pages hall staff work in: inbox, task, start a case, cases, case.

Views are thin: read the request, call the engine, render. Every rule (who may see or
work what) is the engine's; an engine error becomes the page a person expects (403, 404,
a message next to the field)."""

from __future__ import annotations

import datetime as dt
import math
from types import SimpleNamespace

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import pgettext
from flask_login import current_user, login_required

import forms as forms_pkg
from engine import catalogue, runtime
from engine import portal as portal_engine
from engine import ratings as ratings_engine
from engine.errors import Conflict, EngineFailure, Forbidden, HallError, Invalid, NotFound
from engine.identity import KEEPERS, WINDOW_ROLES
from engine.materials import OTHER, TooLarge
from engine.tasks import may_work
from webapp import hall, send_case_file, send_notice, uploaded_file
from webapp.api import MAX_PAGE
from webapp.auth import _safe_next, page_actor
from webapp.ui import fields as html
from webapp.ui import messages

PER_PAGE = 50


@login_required
def _signed_in():
    """Every page needs a signed-in person; a window's rating device (评价器) has its own page only."""
    if page_actor().is_device and request.endpoint not in ("ratings.device", "ratings.device_rate"):
        return redirect(url_for("ratings.device"))


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
    return {"nav_counts": h.tasks.counts(actor) if actor.works_tasks else None, "me": current_user,
            "unread": h.deadlines.unread(actor),
            "calendar_missing": sorted(h.deadlines.missing_years()) if actor.has("admin") else []}


def _page() -> int:
    """The page asked for (?page=), from 1 to MAX_PAGE: a larger one's offset would overflow
    the database's integers."""
    try:
        return min(max(1, int(request.args.get("page", 1))), MAX_PAGE)
    except ValueError:
        return 1


def _pages(total: int, per_page: int = PER_PAGE) -> int:
    return max(1, math.ceil(total / per_page))


def _process_names() -> dict[str, str]:
    return {p["process_id"]: p["name"] for p in hall().repository.processes()}


# --- inbox ---------------------------------------------------------------------------

@bp.route("/")
def home():
    """Staff start from their inbox; enterprises and agents from 企业之家; supervisors and
    admins from the cases."""
    actor = page_actor()
    home = "ui.inbox" if actor.works_tasks else "portal.home" if actor.is_applicant_only else "ui.cases"
    return redirect(url_for(home))


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
    return _safe_next(request.form.get("back"), url_for("ui.inbox"))


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
        flash(_("已放回组内待签收"), "success")
    except Conflict as e:
        flash(messages.engine_message(e), "error")
    return redirect(_back())


# --- a task --------------------------------------------------------------------------

def _free_form_fields() -> list[dict]:
    """What a task without a form takes: a comment (see `_free_form`)."""
    return [{"name": "comment", "type": "text", "label": _("办理意见"), "required": False, "choices": None}]


def _task_fields(h, task) -> list[dict]:
    return forms_pkg.describe(h.tasks.form(task)) or _free_form_fields()


def case_fields(h, bundle, done_tasks) -> list[dict]:
    """The fields that label a case's data: its start form's, those of the forms its tasks
    were completed with, and what the process writes itself (`caseData`, which says best
    what its own values hold)."""
    own = forms_pkg.describe(forms_pkg.registry.get(bundle.case_form)) if bundle.case_form else []
    better = {f["name"]: f for f in own}
    known: dict[str, dict] = {}
    for f in [*forms_pkg.describe(h.runtime.start_form(bundle)),
              *(f for t in done_tasks for f in forms_pkg.describe(h.tasks.form(t))), *own]:
        known.setdefault(f["name"], better.get(f["name"], f))
    return list(known.values())


def _task_context(task, values=None, errors=None, gone=None):
    h = hall()
    case = h.runtime.case(task.case_id)
    form_fields = h.tasks.describe_form(task)
    shown_fields = form_fields or _free_form_fields()
    done = h.tasks.case_tasks(task.case_id, status="completed")
    earlier = [(t, html.labelled(_task_fields(h, t), t.data)) for t in done]
    return {
        "task": task, "case": case, "fields": form_fields, "values": values or {}, "errors": errors or {},
        "may_work": may_work(page_actor(), task) and task.status == "open",
        "shown": html.labelled(case_fields(h, h.repository.bundle(task.version_id), done), h.tasks.visible_data(task)),
        "earlier": earlier, "gone": gone,
        "materials": h.materials.checklist(page_actor(), case, h.tasks.part_of(task)),
        "result": html.labelled(shown_fields, task.data), "typed": html.labelled(shown_fields, values),
        "process_name": _process_names().get(case.process_id, case.process_id), "now": runtime.clock.now(),
        # the coordinators' and supervisors' notes on this task, or on its whole case
        "notes": [SimpleNamespace(at=e.at, text=(e.detail or {}).get("text", ""), by=e.actor)
                  for e in h.runtime.events(task.case_id)
                  if e.action == "supervision_note" and e.task_id in (None, task.id)],
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
    """What one may start: the catalogue's items (at the counter, for a walk-in applicant),
    one's own window's first, and the processes no item runs (the hall's own work)."""
    h = hall()
    actor = page_actor()
    startable = {p["process_id"]: p for p in h.repository.processes()
                 if h.repository.may_start(actor, h.repository.latest(p["process_id"]))}
    items = [i for i in h.catalogue.items() if i.process_id in startable] if actor.has(*WINDOW_ROLES) else []
    mine = {c for c in catalogue.CATEGORIES if portal_engine.window_group(c) in actor.groups}
    items.sort(key=lambda i: (i.category not in mine, i.category, i.code))
    by_item = {i.process_id for i in items}
    return render_template("start_list.html", processes=[p for k, p in startable.items() if k not in by_item],
                           items=items, categories=catalogue.CATEGORIES)


@bp.route("/start/item/<code>", methods=["GET", "POST"])
def start_item(code):
    """一口受理: a window clerk takes in a walk-in applicant's case under an item, with the
    materials brought (scanned), then goes on to 受理 on the same counter."""
    h = hall()
    actor = page_actor()
    if not actor.has(*WINDOW_ROLES):
        raise Forbidden(_("窗口工作人员方可现场收件"))
    item = h.catalogue.item(code)
    if item.process_id is None:
        raise Invalid(f"item {code} is not handled by a process of the hall")
    pv = h.repository.latest(item.process_id)
    form_fields = forms_pkg.describe(h.runtime.start_form(h.repository.bundle(pv.id)))
    values, filer, errors, file_errors = {}, {}, {}, {}
    materials = [*item.materials, {"name": OTHER}]
    if request.method == "POST":
        values = html.parse(form_fields, request.form) if form_fields else {}
        filer = {k: request.form.get(k, "").strip() for k in ("credit_code", "enterprise_name")}
        try:
            enterprise_id = h.portal.enterprise_for_filing(actor, filer["credit_code"], filer["enterprise_name"]) \
                if filer["credit_code"] else None
            case = h.runtime.start(actor, None, values, item=code, channel="counter", enterprise_id=enterprise_id)
        except Invalid as e:
            errors = messages.form_errors(e, form_fields)
        except EngineFailure as e:
            errors = messages.form_errors(e)
        else:
            for material, f in html.material_uploads(request.files, materials):
                try:
                    h.materials.add(actor, case.id, material, f.filename, f.stream)
                except (Invalid, Conflict, TooLarge) as e:
                    flash(f"{material}: {messages.engine_message(e)}", "error")
            flash(_("已收件，办件编号 %(number)s", number=case.number), "success")
            mine = [t for t in h.tasks.case_tasks(case.id, status="open") if may_work(actor, t)]
            return redirect(url_for("ui.task", task_id=mine[0].id) if mine else url_for("ui.case", case_id=case.id))
    return render_template("portal/file.html", item=item, draft=None, fields=form_fields, values=values,
                           filer=filer, errors=errors, file_errors=file_errors, files=[], materials=materials,
                           agent=True, counter=True), 422 if errors else 200


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
            flash(_("已提交，办件编号 %(number)s", number=case.number), "success")  # accepted (受理) only at a window
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
    status = args.get("status") if args.get("status") in runtime.CASE_STATUSES else None
    rows, total = hall().runtime.cases(page_actor(), status=status, process_id=args.get("process") or None,
                                       page=_page(), per_page=PER_PAGE, search=args.get("q") or None,
                                       since=_day(args.get("since")), until=_day(args.get("until")))
    return render_template("cases.html", cases=rows, total=total, page=_page(), pages=_pages(total),
                           processes=_process_names(), args=args, now=runtime.clock.now())


@bp.route("/cases/<int:case_id>")
def case(case_id, typed: dict | None = None, status: int = 200):
    """A case's page. `typed`: {message name: (values, errors)} of a counter form that was
    refused, shown again with its errors."""
    h = hall()
    actor = page_actor()
    case, open_tasks, events = h.runtime.case_page(case_id, actor)
    pv = h.repository.version(case.process_id, case.version)
    done_tasks = h.tasks.case_tasks(case_id, status="completed")
    bundle = h.repository.bundle(pv.id)
    names = {**bundle.element_names, **{t.element_id: t.name for t in (*done_tasks, *open_tasks)}}
    counter = actor.has(*WINDOW_ROLES)
    replies = []  # what the case waits for, as forms the window clerk fills in for a walk-in applicant
    if counter and case.status == "running":
        for name in case.waiting or []:
            key = bundle.message_form(name)
            fields = forms_pkg.describe(forms_pkg.registry.get(key)) if key else []
            values, errors = (typed or {}).get(name) or (
                {f["name"]: case.data[f["name"]] for f in fields if f["name"] in (case.data or {})}, {})
            replies.append(SimpleNamespace(name=name, fields=fields, values=values, errors=errors))
    return render_template(
        "case.html", case=case, open_tasks=open_tasks, events=timeline(events, names), done_tasks=done_tasks,
        process_name=pv.name, data=html.labelled(case_fields(h, bundle, done_tasks), case.data),
        current=sorted({t.element_id for t in open_tasks}), visited=case.visited or [], names=names,
        now=runtime.clock.now(), special=[_("听证"), _("检验检测"), _("鉴定"), _("专家评审")], replies=replies,
        ratings=h.ratings.of_case(actor, case_id), rate_stages=h.ratings.open_stages(case) if counter else [],
        rating=rating_words(),
        may_stop_clock=case.status == "running" and h.deadlines.may_stop_clock(actor, case_id),
        may_hold=case.status == "running" and actor.has("coordinator", "director"),
        incidents=[r.Incident for r in h.incidents.listing(actor, case_id=case_id)],
        may_resolve=actor.has(*KEEPERS),
        materials=h.materials.checklist(actor, case), material_names=h.materials.names(case),
        notices=h.notices.of_case(actor, case_id),
        may_withdraw=counter and case.status == "running" and bundle.time_limit_from is not None
        and bundle.time_limit_from not in (case.visited or []),
        may_upload=case.status == "running" and (counter or case.started_by_id == actor.id)), status


@bp.route("/cases/<int:case_id>/withdraw", methods=["POST"])
def case_withdraw(case_id):
    """The window records that a walk-in applicant withdraws (撤回) before 受理."""
    try:
        hall().runtime.withdraw(page_actor(), case_id, request.form.get("reason"))
    except (Conflict, Invalid) as e:
        flash(messages.engine_message(e), "error")
    else:
        flash(_("办件已撤回"), "success")
    return redirect(url_for("ui.case", case_id=case_id))


@bp.route("/cases/<int:case_id>/<any(terminate, suspend, activate):what>", methods=["POST"])
def case_hold(case_id, what):
    """A coordinator terminates (终止), suspends (挂起) or activates again (恢复办理) a case."""
    rt = hall().runtime
    try:
        if what == "activate":
            rt.activate(page_actor(), case_id)
        else:
            getattr(rt, what)(page_actor(), case_id, request.form.get("reason"))
    except (Conflict, Invalid) as e:
        flash(messages.engine_message(e), "error")
    else:
        done = {"terminate": _("办件已终止"), "suspend": _("办件已挂起"), "activate": _("办件已恢复办理")}
        flash(done[what], "success")
    return redirect(url_for("ui.case", case_id=case_id))


@bp.route("/cases/<int:case_id>/files", methods=["POST"])
def case_file_upload(case_id):
    """A file of a case's materials, from its applicant or taken in at the window."""
    try:
        name, stream = uploaded_file(request)
        f = hall().materials.add(page_actor(), case_id, request.form.get("material", ""), name, stream)
    except (Invalid, Conflict, TooLarge) as e:
        flash(messages.engine_message(e), "error")
    except HallError as e:
        if e.status != 400:
            raise
        flash(messages.engine_message(e), "error")  # no file chosen
    else:
        flash(_("已上传：%(material)s（第 %(v)s 版）", material=f.material, v=f.version), "success")
    return redirect(url_for("ui.case", case_id=case_id, _anchor="materials"))


@bp.route("/cases/<int:case_id>/files/<int:file_id>")
def case_file(case_id, file_id):
    return send_case_file(*hall().materials.open(page_actor(), case_id, file_id))


@bp.route("/cases/<int:case_id>/notices/<int:notice_id>")
def case_notice(case_id, notice_id):
    """A notice's PDF, to print at the window or keep (the applicant's too)."""
    row, fh = hall().notices.open(page_actor(), case_id, notice_id)
    return send_notice(row, fh, row.facts["number"])


def rating_words() -> SimpleNamespace:
    """What a rating's page shows of it, in the person's language: its levels
    (engine.ratings.LEVELS), the five dimensions (DIMENSIONS), the stages (STAGES)."""
    return SimpleNamespace(
        levels={5: _("非常满意"), 4: _("满意"), 3: _("基本满意"), 2: _("不满意"), 1: _("非常不满意")},
        dimensions={"attitude": _("服务态度"), "quality": _("服务质量"), "competence": _("服务水平"),
                    "integrity": _("廉洁从政"), "efficiency": _("行政效能")},
        stages=rating_stages(),
        channels={"api": _("申请人"), "portal": _("申请人"), "counter": _("窗口代录"), "device": _("评价器")})


def rating_stages() -> dict[str, str]:
    """The stages a case is rated at (engine.ratings.STAGES), as a sentence names them."""
    return {"accepted": pgettext("rating stage", "受理"), "completed": pgettext("rating stage", "办结"),
            "rectified": pgettext("rating stage", "整改后")}


def rate_from_form(actor, case_id: int, channel: str) -> None:
    """A rating as a page's form sends it: the level, the stage, any dimensions, a comment."""
    def level(value):
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    form = request.form
    dimensions = {k: level(form.get(f"dim.{k}")) for k in ratings_engine.DIMENSIONS if form.get(f"dim.{k}")}
    hall().ratings.rate(actor, case_id, level(form.get("level")), form.get("comment"), channel,
                        form.get("stage") or None, dimensions)


@bp.route("/cases/<int:case_id>/messages/<name>", methods=["POST"])
def case_message(case_id, name):
    """The window records what a walk-in applicant brings: a supplement, a resubmission."""
    h = hall()
    actor = page_actor()
    if not actor.has(*WINDOW_ROLES):
        raise Forbidden(_("窗口工作人员方可代收"))
    row = h.runtime.visible_case(actor, case_id)
    key = h.repository.bundle(row.version_id).message_form(name)
    fields = forms_pkg.describe(forms_pkg.registry.get(key)) if key else []
    values = html.parse(fields, request.form) if fields else _free_form(request.form)
    try:
        h.runtime.message(actor, case_id, name, values)
    except (Invalid, EngineFailure) as e:
        return case(case_id, typed={name: (values, messages.form_errors(e, fields))}, status=422)
    except Conflict as e:
        flash(messages.engine_message(e), "error")
    else:
        flash(_("已代收：%(name)s", name=name), "success")
    return redirect(url_for("ui.case", case_id=case_id))


@bp.route("/cases/<int:case_id>/ratings", methods=["POST"])
def case_rating(case_id):
    """The window records the rating a walk-in applicant gives (好差评)."""
    try:
        rate_from_form(page_actor(), case_id, "counter")
        flash(_("已代录好差评"), "success")
    except (Invalid, Conflict) as e:
        flash(messages.engine_message(e), "error")
    return redirect(url_for("ui.case", case_id=case_id))


def timeline(events, names: dict[str, str]) -> list[SimpleNamespace]:
    """A case's events as its timeline reads them: when, what happened, to which step, any
    words that came with it (a reason, a note), and who did it."""
    said = {  # verbs of the timeline; some words (签收, 办理) mean otherwise elsewhere
        "started": pgettext("timeline", "提交申请"), "task_created": pgettext("timeline", "到达"),
        "claimed": pgettext("timeline", "签收"), "unclaimed": pgettext("timeline", "放回组内"),
        "assigned": pgettext("timeline", "指派"), "completed": pgettext("timeline", "办理"),
        "task_cancelled": pgettext("timeline", "撤销"), "timer_fired": pgettext("timeline", "计时到期"),
        "message_received": pgettext("timeline", "收到"), "ended": pgettext("timeline", "办结"),
        "terminated": pgettext("timeline", "终止"), "error": pgettext("timeline", "异常"),
        "extended": pgettext("timeline", "延期"), "escalated": pgettext("timeline", "督办升级"),
        "supervision_note": pgettext("timeline", "督办意见"), "clock_stopped": pgettext("timeline", "暂停计时"),
        "clock_resumed": pgettext("timeline", "恢复计时"), "rated": pgettext("timeline", "好差评"),
        "deadlines_recounted": pgettext("timeline", "按工作日历重算时限"),
        "material_added": pgettext("timeline", "上传材料"), "withdrawn": pgettext("timeline", "撤回"),
        "notice_issued": pgettext("timeline", "出具"), "suspended": pgettext("timeline", "挂起"),
        "activated": pgettext("timeline", "恢复办理"), "incident": pgettext("timeline", "自动环节出错"),
        "incident_retried": pgettext("timeline", "安排重试"), "data_corrected": pgettext("timeline", "更正数据"),
        "moved": pgettext("timeline", "迁移到新版本"),
    }
    usernames = {e.actor for e in events} | {(e.detail or {}).get("to") for e in events if e.action == "assigned"}
    people = {"system": _("系统"), **hall().identity.display_names(u for u in usernames if u)}
    lines = []
    for e in events:
        d = e.detail or {}
        # a step by the name drawn on the diagram, never by its id
        what = d.get("name") or d.get("message") or names.get(e.element_id) or ""
        words = d.get("reason") or d.get("text") or d.get("note") or ""
        if e.action == "rated":
            what = d.get("label") or ""
            words = _("窗口代录") if d.get("channel") == "counter" else ""
        elif e.action == "incident":
            what, words = names.get(e.element_id, e.element_id or ""), d.get("message") or ""
        elif e.action == "notice_issued":
            what = _(d.get("title") or "")
        elif e.action == "moved":
            what = f"v{d.get('from_version')} → v{d.get('to_version')}"
        elif e.action == "material_added":
            what = d.get("material") or ""
            words = _("%(filename)s（第 %(v)s 版）", filename=d.get("filename"), v=d.get("version"))
        elif e.action == "extended":
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
    # a download, never a page: whatever a deployed diagram holds (an XHTML script) does not run
    return pv.files[pv.main_file], 200, {"Content-Type": "application/xml; charset=utf-8",
                                         "Content-Disposition": f"attachment; filename={case.number}.bpmn"}


def init_app(app) -> None:
    from webapp.ui import (
        admin,
        assessment,
        complaints,
        guide,
        messages,
        models,
        portal,
        ratings,
        statistics,
        supervision,
    )

    app.register_blueprint(bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(guide.bp)
    app.register_blueprint(models.bp)
    app.register_blueprint(supervision.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(complaints.bp)
    app.register_blueprint(ratings.bp)
    app.register_blueprint(statistics.bp)
    app.register_blueprint(assessment.bp)

    app.add_template_filter(messages.join_words, "words")  # 甲、乙 / A, B

    @app.template_filter("material")
    def _material(name: str) -> str:
        """A material's name as shown: the item's own words, the hall's 其他材料 in the person's language."""
        return _("其他材料") if name == OTHER else name

    @app.template_filter("person")
    def _person(username: str | None) -> str:
        """A username as the name people know them by (looked up once per page)."""
        if not username:
            return ""
        names = g.setdefault("hall_names", {})
        if username not in names:
            names.update({username: username, **hall().identity.display_names([username])})
        return names[username]

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
