"""Languages: Chinese (zh_CN) by default, English on request. Messages are written in
Chinese; webapp/translations/en holds their English. Catalogs are compiled when the app
starts, so a fresh checkout needs no extra step."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Blueprint, redirect, request, session, url_for
from flask_babel import Babel, get_locale

LANGUAGES = {"zh_CN": "中文", "en": "English"}
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

babel = Babel()
bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """Chinese, unless this person chose otherwise (the hall's language, whatever the browser's)."""
    lang = session.get("lang")
    return lang if lang in LANGUAGES else "zh_CN"


@bp.route("/lang/<code>")
def switch(code: str):
    if code in LANGUAGES:
        session["lang"] = code
    back = request.referrer or ""
    return redirect(back if back.startswith(request.host_url) else url_for("ui.inbox"))


def compile_catalogs() -> None:
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as f:
                catalog = read_po(f)
            with mo.open("wb") as f:
                write_mo(f, catalog)


def init_app(app) -> None:
    compile_catalogs()
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh_CN")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    babel.init_app(app, locale_selector=select_locale, default_translation_directories=str(TRANSLATIONS))
    app.register_blueprint(bp)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, get_locale=get_locale, current_lang=select_locale)
