"""Who is calling: bearer tokens for the API (sessions for the pages come with the UI)."""

from __future__ import annotations

from functools import wraps

from flask import g, request

from engine.errors import HallError
from engine.identity import Actor
from webapp import hall


class Unauthorized(HallError):
    status = 401


def bearer_actor() -> Actor | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return hall().identity.actor_for_token(token.strip())


def token_required(view):
    """The API's guard: a valid bearer token, or 401."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        actor = bearer_actor()
        if actor is None:
            raise Unauthorized("a valid bearer token is required (POST /api/v1/auth/token)")
        g.actor = actor
        return view(*args, **kwargs)

    return wrapper


def current_actor() -> Actor:
    return g.actor
