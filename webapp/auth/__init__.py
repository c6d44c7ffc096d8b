"""Who is calling: bearer tokens for the API, signed-in sessions (Flask-Login) for pages."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from engine.errors import HallError
from engine.identity import Actor, Throttled
from webapp import hall

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = None

bp = Blueprint("auth", __name__)


class Unauthorized(HallError):
    status = 401


# --- API: bearer tokens ---------------------------------------------------------------

def bearer_actor() -> Actor | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return hall().identity.actor_for_token(token.strip())


def authenticated_actor() -> Actor:
    """The caller of an API request, by its bearer token; 401 without a valid one."""
    actor = bearer_actor()
    if actor is None:
        raise Unauthorized("a valid bearer token is required (POST /api/v1/auth/token)")
    return actor


def token_required(view):
    """The API's guard: a valid bearer token, or 401."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        g.actor = authenticated_actor()
        return view(*args, **kwargs)

    return wrapper


def current_actor() -> Actor:
    return g.actor


# --- pages: sessions ----------------------------------------------------------------

class SessionUser(UserMixin):
    """The signed-in person, as Flask-Login wants it; `.actor` is what the engine wants. Its
    id is a page session kept on the server (engine.identity), so signing out, a new
    password or deactivation ends it whatever the browser still holds."""

    def __init__(self, actor: Actor, session_token: str):
        self.actor = actor
        self.id = session_token

    @property
    def name(self) -> str:
        return self.actor.display_name or self.actor.username


@login_manager.user_loader
def _load(session_token: str):
    actor = hall().identity.actor_for_session(session_token)
    return SessionUser(actor, session_token) if actor is not None else None


def page_actor() -> Actor:
    return current_user.actor


def _safe_next(target: str | None, default: str | None = None) -> str:
    # only paths on this site: never send someone off to another host (browsers read "/\\x" as "//x")
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//") \
            and "\\" not in target:
        return target
    return default or url_for("ui.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        identity = hall().identity
        try:
            user = identity.authenticate(request.form.get("username", ""), request.form.get("password", ""),
                                         request.remote_addr)
        except Throttled as e:
            flash(_("登录失败次数过多，请 %(n)s 分钟后再试", n=max(1, e.retry_after // 60)), "error")
            return render_template("login.html", username=request.form.get("username", "")), 429, \
                {"Retry-After": str(e.retry_after)}
        if user is None:
            flash(_("用户名或密码不正确"), "error")
            return render_template("login.html", username=request.form.get("username", "")), 401
        login_user(SessionUser(identity.actor(user.id), identity.issue_token(user, "page")))
        return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", username="")


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        hall().identity.revoke_token(current_user.id)
    logout_user()
    flash(_("已退出"), "info")
    return redirect(url_for("auth.login"))
