from __future__ import annotations

from engine.identity import TOKEN_LIFETIME
from webapp import hall
from webapp.api import Blueprint
from webapp.api.schemas import TokenRequest, TokenResponse
from webapp.auth import Unauthorized

PREFIX = "/auth"
blp = Blueprint("api_tokens", __name__, description="Bearer tokens")


@blp.route("/token", methods=["POST"])
@blp.arguments(TokenRequest())
@blp.response(200, TokenResponse)
@blp.doc(security=[])
def issue_token(body):
    """Exchange a username and password for a bearer token."""
    user = hall().identity.authenticate(body["username"], body["password"])
    if user is None:
        raise Unauthorized("wrong username or password")
    return {"token": hall().identity.issue_token(user), "expires_in": int(TOKEN_LIFETIME.total_seconds())}
