"""百分考核's pages: a quarter (the draft for 管理办, the director and the supervisor, with the
entries and the publication; the published scores, causes, adjustments and 星级 for every
member of staff), the scheme (管理办 edits it), the year's totals (年终评先)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import assessment_scheme as schemes
from engine import clock
from engine.assessment import previous_quarter, quarter_of
from engine.errors import Conflict, Invalid, NotFound
from webapp import hall
from webapp.api.assessment import send_evidence
from webapp.auth import page_actor
from webapp.ui import messages, page_blueprint
from webapp.ui.supervision import accountability_kinds

bp = page_blueprint("assessment", url_prefix="/assessment")
ENTRY_FIELDS = ("item", "subject_kind", "subject", "points", "reason")
BLANK_ROWS = 3  # rows for new items on the scheme's page


def default_words() -> dict[str, str]:
    """The default scheme's categories and items in the page's language (a scheme 管理办 writes
    is shown as written)."""
    return {"行政审批": _("行政审批"), "办事效率": _("办事效率"), "工作作风": _("工作作风"), "工作纪律": _("工作纪律"),
            "文明办公": _("文明办公"), "活动参与": _("活动参与"), "廉洁自律": _("廉洁自律"),
            "越权审批": _("越权审批"), "错批、漏批": _("错批、漏批"), "不合理退批": _("不合理退批"),
            "一次性告知、材料审查规范": _("一次性告知、材料审查规范"), "超时审批": _("超时审批"),
            "超期办结": _("超期办结"), "按时办结率": _("按时办结率"), "即办件当场办结": _("即办件当场办结"),
            "延期办理": _("延期办理"), "网上咨询及时答复": _("网上咨询及时答复"), "服务态度生硬": _("服务态度生硬"),
            "办事敷衍推诿": _("办事敷衍推诿"), "差评": _("差评"), "满意率": _("满意率"),
            "考勤（迟到、早退、脱岗）": _("考勤（迟到、早退、脱岗）"), "投诉查实": _("投诉查实"),
            "工作时间做与工作无关的事": _("工作时间做与工作无关的事"), "着装仪表、挂牌上岗": _("着装仪表、挂牌上岗"),
            "窗口环境卫生": _("窗口环境卫生"), "文明用语": _("文明用语"),
            "参加大厅组织的学习、培训和活动": _("参加大厅组织的学习、培训和活动"),
            "信息报送与宣传": _("信息报送与宣传"), "违规收费": _("违规收费"),
            "吃拿卡要、收受礼品": _("吃拿卡要、收受礼品")}


def rule_words() -> dict[str, str]:
    return {"manual": _("录入扣分加分"), "accountability": _("审批问责记录"), "poor_rating": _("差评"),
            "satisfaction": _("满意率"), "complaint": _("投诉查实"), "on_time": _("按时办结率")}


def _words() -> dict:
    return {"words": default_words(), "rules": rule_words(), "kinds": accountability_kinds(),
            "subject_kinds": {"window": _("窗口"), "person": _("工作人员")}}


@bp.route("")
def index():
    """The last quarter published, or for those who read drafts the quarter just ended."""
    actor = page_actor()
    h = hall()
    published = h.assessment.published_quarters()
    last = previous_quarter(quarter_of(clock.now()))
    shown = last if h.assessment.may_read_draft(actor) or not published else published[0]
    return redirect(url_for("assessment.quarter", quarter=shown))


@bp.route("/<quarter>")
def quarter(quarter, values: dict | None = None, errors: dict | None = None, status: int = 200):
    actor = page_actor()
    a = hall().assessment
    try:
        scores = a.quarter(actor, quarter)
    except NotFound:
        scores = None  # not published, and no draft for this person
    entries = a.entries(actor, quarter) if a.may_read_draft(actor) or a.may_enter(actor) else []
    windows, persons = a.subjects()
    items = schemes.items(a.scheme().body)
    year = int(quarter[:4])
    return render_template(
        "assessment/quarter.html", q=quarter, scores=scores, entries=entries, items=items,
        windows=windows, persons=persons, published=a.published_quarters(), year=year,
        previous=previous_quarter(quarter), next=_next(quarter),
        may_enter=a.may_enter(actor) and scores is not None and not scores["published"],
        may_publish=a.may_edit(actor) and scores is not None and not scores["published"],
        may_adjust=a.may_edit(actor) and scores is not None and scores["published"],
        values=values or {}, errors=errors or {}, **_words()), status


def _next(quarter: str) -> str:
    year, q = int(quarter[:4]), int(quarter[5])
    return f"{year + 1}Q1" if q == 4 else f"{year}Q{q + 1}"


def _number(value: str):
    """A number typed in a form, or what was typed (the engine names it wrong)."""
    try:
        return float(value)
    except ValueError:
        return value


@bp.route("/<quarter>/entries", methods=["POST"])
def add_entry(quarter):
    actor = page_actor()
    a = hall().assessment
    values = {k: request.form.get(k, "").strip() for k in ENTRY_FIELDS}
    data = {**values, "points": _number(values["points"])}
    evidence = request.files.get("file")
    try:
        entry = a.add_entry(actor, quarter, data)
        if evidence is not None and evidence.filename:
            try:
                a.attach_evidence(actor, entry.id, evidence.filename, evidence.stream)
            except Exception:
                a.remove_entry(actor, entry.id)  # an entry is kept with its evidence, or not at all
                raise
    except Invalid as e:
        return quarter_page_error(quarter, values, messages.form_errors(e))
    except Conflict as e:
        flash(messages.engine_message(e), "error")
    else:
        flash(_("已录入"), "success")
    return redirect(url_for("assessment.quarter", quarter=quarter))


def quarter_page_error(quarter_name: str, values: dict, errors: dict):
    return quarter(quarter_name, values=values, errors=errors, status=422)


@bp.route("/entries/<int:entry_id>/remove", methods=["POST"])
def remove_entry(entry_id):
    a = hall().assessment
    q = a.entry(page_actor(), entry_id).quarter
    try:
        a.remove_entry(page_actor(), entry_id)
    except Conflict as e:
        flash(messages.engine_message(e), "error")
    else:
        flash(_("已删除"), "success")
    return redirect(url_for("assessment.quarter", quarter=q))


@bp.route("/entries/<int:entry_id>/evidence")
def evidence(entry_id):
    return send_evidence(*hall().assessment.open_evidence(page_actor(), entry_id))


@bp.route("/<quarter>/publish", methods=["POST"])
def publish(quarter):
    try:
        hall().assessment.publish(page_actor(), quarter)
    except Conflict as e:
        flash(messages.engine_message(e), "error")
    else:
        flash(_("已公示"), "success")
    return redirect(url_for("assessment.quarter", quarter=quarter))


@bp.route("/<quarter>/adjust", methods=["POST"])
def adjust(quarter):
    values = {k: request.form.get(k, "").strip() for k in ENTRY_FIELDS}
    try:
        hall().assessment.adjust(page_actor(), quarter, {**values, "points": _number(values["points"])})
    except Invalid as e:
        return quarter_page_error(quarter, {f"adjust_{k}": v for k, v in values.items()},
                                  {f"adjust_{k}": v for k, v in messages.form_errors(e).items()})
    except Conflict as e:
        flash(messages.engine_message(e), "error")
    else:
        flash(_("已调整"), "success")
    return redirect(url_for("assessment.quarter", quarter=quarter))


@bp.route("/year/<int:year>")
def year(year):
    return render_template("assessment/year.html", y=hall().assessment.year(page_actor(), year), **_words())


@bp.route("/scheme", methods=["GET", "POST"])
def scheme():
    actor = page_actor()
    a = hall().assessment
    current = a.scheme()
    body, errors = current.body, {}
    if request.method == "POST":
        body = _scheme_from(request.form)
        try:
            saved = a.save_scheme(actor, body)
        except Invalid as e:
            errors = messages.form_errors(e)
        else:
            flash(_("已保存为第 %(version)s 版", version=saved.version), "success")
            return redirect(url_for("assessment.scheme"))
    rows = schemes.items(body) if isinstance(body.get("categories"), list) and not errors else _rows(body)
    return render_template("assessment/scheme.html", scheme=current, rows=rows, blank=BLANK_ROWS, body=body,
                           errors=errors, may_edit=a.may_edit(actor), versions=a.versions(),
                           rule_names=schemes.RULES, **_words()), 422 if errors else 200


def _rows(body: dict) -> list[dict]:
    return [{**i, "category": c.get("name")} for c in body.get("categories", []) for i in c.get("items", [])]


def _scheme_from(form) -> dict:
    """The scheme's form, row by row (category, code, name, points, rule...), as the engine takes it."""
    categories: dict[str, list] = {}
    n = 0
    while f"code-{n}" in form and n < schemes.MAX_ITEMS + BLANK_ROWS:
        row = {k: form.get(f"{k}-{n}", "").strip() for k in ("category", "code", "name", "points", "rule", "per",
                                                              "cap", "bonus", "threshold", "kinds")}
        n += 1
        if not row["code"] and not row["name"]:
            continue
        item = {"code": row["code"], "name": row["name"], "points": _number(row["points"]), "rule": row["rule"],
                "bonus": _number(row["bonus"] or "0")}
        for k in ("per", "cap", "threshold"):
            if row[k]:
                item[k] = _number(row[k])
        if row["rule"] == "accountability":
            item["kinds"] = [k.strip() for k in row["kinds"].replace("，", ",").split(",") if k.strip()]
        categories.setdefault(row["category"], []).append(item)
    stars = {of: {rule: _number(form.get(f"{of}-{rule}", "").strip()) for rule in schemes.STAR_RULES}
             for of in ("windows", "persons")}
    return {"categories": [{"name": name, "items": items} for name, items in categories.items()], "stars": stars}

