from __future__ import annotations

from flask import request

from engine.identity import TOKEN_LIFETIME
from webapp import hall
from webapp.api import Blueprint
from webapp.api.schemas import TokenRequest, TokenResponse
from webapp.auth import Unauthorized, token_required

PREFIX = "/auth"
blp = Blueprint("api_tokens", __name__, description="Bearer tokens")


@blp.route("/token", methods=["POST"])
@blp.arguments(TokenRequest())
@blp.response(200, TokenResponse)
@blp.doc(security=[])
@blp.alt_response(429, description="too many failed sign-ins for the account or from the address "
                                    "(Retry-After says when to try again)")
def issue_token(body):
    """Exchange a username and password for a bearer token."""
    user = hall().identity.authenticate(body["username"], body["password"], request.remote_addr)
    if user is None:
        raise Unauthorized("wrong username or password")
    return {"token": hall().identity.issue_token(user), "expires_in": int(TOKEN_LIFETIME.total_seconds())}


@blp.route("/token", methods=["DELETE"])
@token_required
@blp.response(204)
def revoke_token():
    """Sign out: the bearer token presented is dead from now on."""
    hall().identity.revoke_token(request.headers["Authorization"].partition(" ")[2].strip())
