"""Flask glue: the database handle, the engine instance, and the blueprints."""

from __future__ import annotations

from flask import current_app
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from engine.hall import Hall
from engine.models import Base

db = SQLAlchemy(metadata=Base.metadata, session_options={"expire_on_commit": False})
migrate = Migrate()


def hall() -> Hall:
    """The engine of the current app."""
    return current_app.extensions["hall"]
