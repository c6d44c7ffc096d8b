"""Flask glue: the database handle, the engine instance, and the blueprints."""

from __future__ import annotations

import datetime as dt
import decimal

from flask import current_app
from flask.json.provider import DefaultJSONProvider
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from engine.hall import Hall
from engine.models import Base

db = SQLAlchemy(metadata=Base.metadata, session_options={"expire_on_commit": False})
migrate = Migrate()


def hall() -> Hall:
    """The engine of the current app."""
    return current_app.extensions["hall"]


class JSONProvider(DefaultJSONProvider):
    """ISO 8601 times (not HTTP dates), Chinese as is."""

    ensure_ascii = False
    sort_keys = False

    @staticmethod
    def default(o):
        if isinstance(o, (dt.datetime, dt.date, dt.time)):
            return o.isoformat()
        if isinstance(o, decimal.Decimal):
            return str(o)
        return DefaultJSONProvider.default(o)
