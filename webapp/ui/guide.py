"""办事指南: the public service guides, one per item of the catalogue; no sign-in."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from engine.catalogue import CATEGORIES, KINDS
from engine.errors import HallError
from webapp import hall
from webapp.ui import _engine_error

bp = Blueprint("guide", __name__, url_prefix="/guide")
bp.register_error_handler(HallError, _engine_error)


@bp.get("")
def index():
    q = request.args.get("q", "").strip()[:100]
    category = request.args.get("category") if request.args.get("category") in CATEGORIES else None
    return render_template("guide/index.html", items=hall().catalogue.items(q, category), q=q, category=category,
                           categories=CATEGORIES, kinds=KINDS)


@bp.get("/<code>")
def item(code):
    version = request.args.get("version", type=int)
    return render_template("guide/item.html", item=hall().catalogue.item(code, version), kinds=KINDS,
                           categories=CATEGORIES)
