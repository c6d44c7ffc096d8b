"""Pages of deadlines and supervision: the coordinators' dashboard, accountability records,
notifications, the working-day calendar."""

from __future__ import annotations

import datetime as dt

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import calendar, clock
from engine.deadlines import ACCOUNTABILITY_KINDS
from engine.errors import Forbidden, HallError
from webapp import hall
from webapp.auth import _safe_next, page_actor
from webapp.ui import PER_PAGE, _page, _pages, _process_names, page_blueprint
from webapp.ui.messages import engine_message

bp = page_blueprint("supervision")


def _back(default: str):
    return redirect(_safe_next(request.form.get("back"), default))


def _act(action, message: str):
    """Run a coordinator's action; say how it went."""
    try:
        action()
        flash(message, "success")
    except HallError as e:
        flash(engine_message(e), "error")


# --- the dashboard -----------------------------------------------------------------

@bp.route("/dashboard")
def dashboard():
    board = hall().deadlines.dashboard(page_actor())
    return render_template("supervision/dashboard.html", board=board, processes=_process_names(),
                           now=clock.now())


@bp.route("/tasks/<int:task_id>/extend", methods=["POST"])
def extend(task_id):
    try:
        days = int(request.form.get("workdays", ""))
    except ValueError:
        days = 0
    _act(lambda: hall().deadlines.extend(page_actor(), task_id, days, request.form.get("reason", "")),
         _("已延期 %(n)s 个工作日", n=days))
    return _back(url_for("supervision.dashboard"))


@bp.route("/tasks/<int:task_id>/escalate", methods=["POST"])
def escalate(task_id):
    _act(lambda: hall().deadlines.escalate(page_actor(), task_id, request.form.get("note", "")),
         _("已提请常务副主任督办"))
    return _back(url_for("supervision.dashboard"))


@bp.route("/tasks/<int:task_id>/reassign", methods=["POST"])
def reassign(task_id):
    username = request.form.get("username", "").strip() or None
    group = request.form.get("group", "").strip() or None
    _act(lambda: hall().deadlines.reassign(page_actor(), task_id, username, group), _("已改派"))
    return _back(url_for("supervision.dashboard"))


@bp.route("/cases/<int:case_id>/note", methods=["POST"])
def note(case_id):
    task_id = request.form.get("task_id")
    _act(lambda: hall().deadlines.note(page_actor(), case_id, request.form.get("text", ""),
                                       int(task_id) if task_id and task_id.isdigit() else None),
         _("督办意见已记录"))
    return _back(url_for("ui.case", case_id=case_id))


@bp.route("/cases/<int:case_id>/pause", methods=["POST"])
def pause(case_id):
    _act(lambda: hall().deadlines.pause(page_actor(), case_id, request.form.get("reason", "")), _("已暂停计时"))
    return _back(url_for("ui.case", case_id=case_id))


@bp.route("/cases/<int:case_id>/resume", methods=["POST"])
def resume(case_id):
    _act(lambda: hall().deadlines.resume(page_actor(), case_id), _("已恢复计时"))
    return _back(url_for("ui.case", case_id=case_id))


# --- accountability ----------------------------------------------------------------

def _filters() -> dict:
    args = request.args
    out = {}
    if args.get("kind") in ACCOUNTABILITY_KINDS:
        out["kind"] = args["kind"]
    for key in ("department", "person"):
        if args.get(key, "").strip():
            out[key] = args[key].strip()
    for key in ("since", "until"):
        try:
            if args.get(key):
                out[key] = dt.date.fromisoformat(args[key])
        except ValueError:
            pass
    return out


@bp.route("/accountability")
def accountability():
    rows, total = hall().deadlines.accountability(page_actor(), page=_page(), per_page=PER_PAGE, **_filters())
    return render_template("supervision/accountability.html", rows=rows, total=total, page=_page(),
                           pages=_pages(total), args=request.args, kinds=accountability_kinds())


def accountability_kinds() -> dict[str, str]:
    """审批问责's kinds in the page's language."""
    return {"late": _("超期办结"), "extension": _("延期"), "rejection": _("不予办理"), "ultra_vires": _("越权审批"),
            "overtime": _("超时审批"), "wrong": _("错批"), "missed": _("漏批"), "bad_return": _("不合理退批"),
            "illegal_fee": _("违规收费"), "shirking": _("办事敷衍推诿"), "rude": _("服务态度生硬")}


@bp.route("/accountability.csv")
def accountability_csv():
    text = hall().deadlines.accountability_csv(page_actor(), **_filters())
    stamp = clock.local_now().strftime("%Y%m%d")
    return Response(text, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename=accountability-{stamp}.csv"})


# --- notifications -----------------------------------------------------------------

@bp.route("/notifications")
def notifications():
    rows = hall().deadlines.notifications(page_actor())
    return render_template("supervision/notifications.html", rows=rows)


@bp.route("/notifications/<int:notification_id>")
def open_notification(notification_id):
    """Open what a notification is about; it is read from then on."""
    actor = page_actor()
    n = hall().deadlines.open_notification(actor, notification_id)
    if n.kind == "complaint":  # a reply to what one raised
        return redirect(url_for("complaints.by_case", case_id=n.case_id))
    if n.task_id:
        return redirect(url_for("ui.task", task_id=n.task_id))
    if n.case_id:  # an enterprise reads its case in 企业之家
        return redirect(url_for("portal.case" if actor.is_applicant_only else "ui.case", case_id=n.case_id))
    return redirect(url_for("supervision.notifications"))


@bp.route("/notifications/read", methods=["POST"])
def notifications_read():
    hall().deadlines.mark_read(page_actor())
    return redirect(url_for("supervision.notifications"))


# --- the calendar ------------------------------------------------------------------

@bp.route("/calendar", methods=["GET", "POST"])
def calendar_page():
    actor = page_actor()
    if not actor.has("admin"):
        raise Forbidden(_("工作日历仅对系统管理员开放"))
    try:
        year = int(request.values.get("year") or clock.local_now().year)
    except ValueError:
        year = clock.local_now().year
    if request.method == "POST":
        h = hall()
        try:
            if request.form.get("action") == "publish":
                h.deadlines.publish_year(actor, year, _dates(request.form.get("holidays", "")),
                                         _dates(request.form.get("workdays", "")), request.form.get("note") or None)
                flash(_("%(year)s 年工作日历已录入", year=year), "success")
            else:
                day = dt.date.fromisoformat(request.form.get("day", ""))
                kind = request.form.get("kind")
                h.deadlines.set_day(actor, day, {"workday": True, "closed": False}.get(kind),
                                    request.form.get("note") or None)
                flash(_("已保存 %(day)s", day=day.isoformat()), "success")
        except ValueError:
            flash(_("日期应写作 2027-01-01，连续几天写作 2027-02-06..2027-02-12"), "error")
        except HallError as e:
            flash(engine_message(e), "error")
        return redirect(url_for("supervision.calendar_page", year=year))
    cal = hall().deadlines.calendar()
    return render_template("supervision/calendar.html", year=year, months=_months(cal, year), known=cal.knows(year),
                           missing=hall().deadlines.missing_years(),
                           overrides=sorted((d, w) for d, w in cal.overrides.items() if d.year == year))


def _dates(text: str) -> list[dt.date]:
    """"2027-01-01, 2027-02-05..2027-02-13" (commas or new lines) -> dates."""
    out = []
    for part in text.replace("\n", ",").replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        first, _sep, last = part.partition("..")
        a = dt.date.fromisoformat(first.strip())
        b = dt.date.fromisoformat(last.strip()) if last else a
        out.extend(a + dt.timedelta(days=i) for i in range((b - a).days + 1))
    return out


def _months(cal: calendar.Calendar, year: int) -> list[dict]:
    months = []
    for month in range(1, 13):
        first = dt.date(year, month, 1)
        weeks, week = [], [None] * first.weekday()
        day = first
        while day.month == month:
            kind = "work" if cal.is_workday(day) else "off"
            if day in cal.overrides:
                kind = "extra" if cal.overrides[day] else "closed"
            elif kind == "work" and day.weekday() >= 5:
                kind = "makeup"
            week.append((day, kind))
            if len(week) == 7:
                weeks.append(week)
                week = []
            day += dt.timedelta(days=1)
        if week:
            weeks.append(week + [None] * (7 - len(week)))
        months.append({"month": month, "weeks": weeks})
    return months
