"""办事指南: the public service guides, one per item of the catalogue; no sign-in."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from engine.catalogue import CATEGORIES, KINDS
from engine.errors import HallError
from engine.identity import FILERS
from webapp import hall
from webapp.ui import PER_PAGE, _engine_error, _page, _pages

bp = Blueprint("guide", __name__, url_prefix="/guide")
bp.register_error_handler(HallError, _engine_error)


@bp.get("")
def index():
    q = request.args.get("q", "").strip()[:100]
    category = request.args.get("category") if request.args.get("category") in CATEGORIES else None
    items, total = hall().catalogue.listing(q, category, _page(), PER_PAGE)
    return render_template("guide/index.html", items=items, total=total, page=_page(), pages=_pages(total),
                           args=request.args, q=q, category=category, categories=CATEGORIES, kinds=KINDS)


@bp.get("/<code>")
def item(code):
    version = request.args.get("version", type=int)
    actor = current_user.actor if current_user.is_authenticated else None
    filer = actor is not None and actor.has(*FILERS)
    asked = [q for q in hall().portal.asked_by(actor) if q.item_code == code] if filer else []
    return render_template("guide/item.html", item=hall().catalogue.item(code, version), kinds=KINDS,
                           categories=CATEGORIES, filer=filer, asked=asked)
