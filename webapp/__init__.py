"""Flask glue: the database handle, the engine instance, and the blueprints."""

from __future__ import annotations

import datetime as dt
import decimal

import orjson
from flask import current_app
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from engine.hall import Hall
from engine.models import Base

API_PREFIX = "/api/v1"  # the REST API's root

db = SQLAlchemy(metadata=Base.metadata, session_options={"expire_on_commit": False})
migrate = Migrate()


def hall() -> Hall:
    """The engine of the current app."""
    return current_app.extensions["hall"]


class JSONProvider(DefaultJSONProvider):
    """ISO 8601 times (not HTTP dates), Chinese as is; orjson, falling back to json for
    what it does not take (integers beyond 64 bits)."""

    ensure_ascii = False
    sort_keys = False

    @staticmethod
    def default(o):
        if isinstance(o, (dt.datetime, dt.date, dt.time)):
            return o.isoformat()
        if isinstance(o, decimal.Decimal):
            return str(o)
        return DefaultJSONProvider.default(o)

    def dumps(self, obj, **kwargs) -> str:
        try:
            return orjson.dumps(obj, default=self.default).decode()
        except TypeError:
            return super().dumps(obj, **kwargs)


class LazyCookieSessions(SecureCookieSessionInterface):
    """Flask's cookie sessions for pages. The API takes bearer tokens only: its requests get
    a read-only empty session, never saved (no cookie work, no `Vary: Cookie`). A page
    request without a session cookie gets an empty session without building a signer."""

    def open_session(self, app, request):
        if request.path.startswith(API_PREFIX):
            return self.null_session_class()
        if request.cookies.get(self.get_cookie_name(app)) is None:
            return self.session_class()
        return super().open_session(app, request)
