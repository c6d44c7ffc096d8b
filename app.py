"""Hall: BPMN orchestration for a district administrative service hall.

`create_app()` builds the Flask application; `flask --app app <command>` runs its CLI
(db upgrade, users create, processes deploy, demo, run).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import secrets
from pathlib import Path

import click
from flask import Flask, jsonify
from sqlalchemy import text
from sqlalchemy.engine import make_url

import forms
from engine import bpmn, scheduler
from engine import db as engine_db
from engine.hall import Hall
from engine.limits import Policy
from webapp import (
    IdConverter,
    JSONProvider,
    LazyCookieSessions,
    api,
    db,
    hall,
    migrate,
    refuse_nul,
    security_headers,
)

ROOT = Path(__file__).resolve().parent


class JsonLogFormatter(logging.Formatter):
    """One JSON line per record; engine records carry case, task and actor."""

    FIELDS = ("case_id", "task_id", "actor", "element_id", "process_id", "version", "error")

    def format(self, record: logging.LogRecord) -> str:
        out = {"at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
               "logger": record.name, "msg": record.getMessage()}
        out.update({k: getattr(record, k) for k in self.FIELDS if getattr(record, k, None) is not None})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


# SpiffWorkflow's loggers. While a logger's own level is unset, SpiffWorkflow builds each
# record's extras with a walk over the whole task tree, whether or not anything prints the
# record; the hall logs its own line per action, so these say only warnings unless asked.
SPIFF_LOGGERS = ("spiff", "spiff.workflow", "spiff.task", "spiff.data", "spiff.dmn")


def _configure_logging(level: str) -> None:
    for name in SPIFF_LOGGERS:
        logging.getLogger(name).setLevel(level if level == "DEBUG" else logging.WARNING)
    logger = logging.getLogger("hall")
    if not any(isinstance(h.formatter, JsonLogFormatter) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonLogFormatter())
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level)


def _database_url(instance: Path) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{instance / 'hall.db'}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _secret_key(instance: Path) -> str:
    if os.environ.get("HALL_SECRET_KEY"):
        return os.environ["HALL_SECRET_KEY"]
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _serving() -> bool:
    """True unless this process is a CLI command other than `run` (no timers for `db upgrade`)."""
    ctx = click.get_current_context(silent=True)
    return ctx is None or ctx.info_name == "run"


def _init_pages(app: Flask) -> None:
    """Pages: sessions, CSRF on every form (the API, which takes bearer tokens, is exempt),
    languages, and the page blueprints."""
    from flask_wtf.csrf import CSRFProtect

    from webapp import i18n, ui
    from webapp.auth import bp as auth_bp
    from webapp.auth import login_manager

    # Flask's defaults hold these keys already (SameSite None, Secure False): setdefault would keep them
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if os.environ.get("HALL_SECURE_COOKIES") == "1":
        app.config["SESSION_COOKIE_SECURE"] = True
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid as long as the session
    csrf = CSRFProtect(app)
    for name, blueprint in app.blueprints.items():
        if name.startswith("api"):
            csrf.exempt(blueprint)
    login_manager.init_app(app)
    i18n.init_app(app)
    app.register_blueprint(auth_bp)
    ui.init_app(app)


def _sms_sender(spec: str | None):
    """The SMS sender HALL_SMS_SENDER names ("package.module:function"), or None."""
    if not spec:
        return None
    module, _, name = spec.partition(":")
    sender = getattr(importlib.import_module(module), name, None)
    if not callable(sender):
        raise RuntimeError(f"HALL_SMS_SENDER: {spec} is not a function")
    return sender


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("HALL_INSTANCE", str(ROOT / "instance")),
                template_folder=str(ROOT / "webapp" / "templates"), static_folder=str(ROOT / "webapp" / "static"))
    app.json = JSONProvider(app)
    app.session_interface = LazyCookieSessions()
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_nul)
    app.after_request(security_headers)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    instance = Path(app.instance_path)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=_database_url(instance),
        HALL_SCHEDULER=os.environ.get("HALL_SCHEDULER", "on"),
        HALL_TIMER_INTERVAL=float(os.environ.get("HALL_TIMER_INTERVAL", "0.5")),
        HALL_LOG_LEVEL=os.environ.get("HALL_LOG_LEVEL", "INFO"),
        HALL_OFFICE_HOURS=os.environ.get("HALL_OFFICE_HOURS", "09:00-12:00,13:30-17:30"),
        HALL_WARN_WORKDAYS=float(os.environ.get("HALL_WARN_WORKDAYS", "1")),
        HALL_DIRECTOR_AFTER_WORKDAYS=float(os.environ.get("HALL_DIRECTOR_AFTER_WORKDAYS", "2")),
        # e-mail for notifications: off unless HALL_SMTP_HOST is set
        HALL_SMTP={"host": os.environ.get("HALL_SMTP_HOST"), "port": os.environ.get("HALL_SMTP_PORT", "25"),
                   "user": os.environ.get("HALL_SMTP_USER"), "password": os.environ.get("HALL_SMTP_PASSWORD"),
                   "sender": os.environ.get("HALL_SMTP_SENDER", "hall@localhost")},
        # the materials' files: a directory every node of the hall mounts (README: several machines)
        HALL_FILES_DIR=os.environ.get("HALL_FILES_DIR", str(instance / "files")),
        HALL_FILE_MAX_MB=int(os.environ.get("HALL_FILE_MAX_MB", "40")),
        # what printed notices (通知书) are headed with, and the address their QR codes open
        HALL_NAME=os.environ.get("HALL_NAME", "区行政服务中心"),
        HALL_BASE_URL=os.environ.get("HALL_BASE_URL", "http://127.0.0.1:5000"),
        # texts to applicants: "module:function" called with (phone, message); off unless set
        HALL_SMS_SENDER=os.environ.get("HALL_SMS_SENDER") or None,
        JSON_AS_ASCII=False,
        # the largest request: a deployment of as many files of the largest size as allowed
        MAX_CONTENT_LENGTH=bpmn.MAX_FILES * bpmn.MAX_FILE_BYTES + 1024 * 1024,
    )
    app.config.update(config or {})
    # a material's file, with a form's wrapping, fits in a request too
    app.config["MAX_CONTENT_LENGTH"] = max(app.config["MAX_CONTENT_LENGTH"],
                                           (app.config["HALL_FILE_MAX_MB"] + 1) * 2**20)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS",
                          engine_db.engine_options(make_url(app.config["SQLALCHEMY_DATABASE_URI"])))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance)
    _configure_logging(app.config["HALL_LOG_LEVEL"])

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    with app.app_context():
        engine_db.configure(db.engine)
        policy = Policy(warn_workdays=app.config["HALL_WARN_WORKDAYS"],
                        director_after=app.config["HALL_DIRECTOR_AFTER_WORKDAYS"])
        app.extensions["hall"] = Hall(db.session, db.engine, forms.registry, app.config.get("HALL_PASSWORD_METHOD"),
                                      policy, app.config["HALL_OFFICE_HOURS"], app.config["HALL_FILES_DIR"],
                                      app.config["HALL_FILE_MAX_MB"] * 2**20, app.config["HALL_NAME"],
                                      app.config["HALL_BASE_URL"])
    api.init_app(app)
    _init_pages(app)

    @app.get("/healthz")
    def healthz():
        try:
            db.session.execute(text("SELECT 1"))
            db.session.rollback()
        except Exception as e:  # the one place a database failure is an answer, not an error
            return jsonify({"status": "unavailable", "database": str(e.__class__.__name__)}), 503
        return jsonify({"status": "ok"})

    from webapp import cli

    cli.init_app(app)

    sms = _sms_sender(app.config["HALL_SMS_SENDER"])
    if app.config["HALL_SCHEDULER"] != "off" and _serving():
        def fire() -> int:
            with app.app_context():
                return hall().runtime.fire_due_timers()

        def housekeeping() -> None:
            with app.app_context():
                h = hall()
                h.runtime.recount_deadlines(limit=50)  # cases a calendar change has not reached yet
                h.deadlines.sweep()
                h.ratings.invite()  # 好差评: finished cases not rated after three days
                h.ratings.rectify_pending()  # 差评 whose 差评整改 did not start with them
                h.deadlines.send_emails(app.config.get("HALL_SMTP"))
                if sms is not None:
                    h.portal.send_texts(sms)
                engine_db.checkpoint(h.bind)

        def move() -> int:
            with app.app_context():
                return hall().moves.work()

        def keep_statistics() -> int:
            with app.app_context():
                return hall().statistics.keep_closed()

        app.extensions["hall_scheduler"] = scheduler.start(fire, app.config["HALL_TIMER_INTERVAL"], housekeeping,
                                                           move, keep_statistics)
    return app
