"""好差评 pages: the ratings and their 差评整改 for 管理办, the director and the supervisor; and
the 评价器, the tablet at a window where the applicant rates the case just handled."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import Conflict, Forbidden, Invalid
from webapp import hall
from webapp.auth import page_actor
from webapp.ui import PER_PAGE, _page, _pages, messages, page_blueprint, rate_from_form, rating_words

bp = page_blueprint("ratings")


def _day(name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.route("/ratings")
def index():
    args = request.args
    window = args.get("window", "").strip()[:64] or None
    rows, total, figures = hall().ratings.listing(page_actor(), window, args.get("poor") == "1", _day("since"),
                                                  _day("until"), _page(), PER_PAGE)
    return render_template("ratings/index.html", rows=rows, total=total, figures=figures, page=_page(),
                           pages=_pages(total), args=args, rating=rating_words())


@bp.route("/device")
def device():
    """The 评价器: the case its window's staff just handled, and big buttons to rate it."""
    actor = page_actor()
    h = hall()
    case = h.ratings.at_window(actor)
    stages = [s for s in h.ratings.open_stages(case) if s != "rectified"] if case else []
    return render_template("ratings/device.html", case=case if stages else None, stage=stages[0] if stages else None,
                           rating=rating_words(), window="、".join(sorted(actor.groups)))


@bp.route("/device/<int:case_id>", methods=["POST"])
def device_rate(case_id):
    try:
        rate_from_form(page_actor(), case_id, "device")
    except (Invalid, Conflict, Forbidden) as e:
        flash(messages.engine_message(e), "error")
    else:
        flash(_("感谢您的评价！"), "success")
    return redirect(url_for("ratings.device"))
