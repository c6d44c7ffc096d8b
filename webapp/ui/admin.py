"""User and group administration (an admin's pages), and one's own password."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import Conflict, Invalid
from engine.identity import ROLES
from webapp import hall
from webapp.auth import page_actor
from webapp.ui import messages, page_blueprint

bp = page_blueprint("admin")


def _groups(text: str) -> list[str]:
    """Groups as typed: one a line, or separated by commas (中文逗号 too)."""
    return [g.strip() for g in text.replace("，", ",").replace("\n", ",").split(",") if g.strip()]


def _errors(e, field: str = "_") -> dict[str, list[str]]:
    """The engine's message, in the person's language, at each field it names."""
    named = e.extra.get("errors") if isinstance(e, Invalid) else None
    return {k: [messages.engine_message(e)] for k in (named or {field: None})}


@bp.route("/admin/users")
def users():
    ids = hall().identity
    ids.require_admin(page_actor())
    return render_template("admin/users.html", users=ids.users(), groups=ids.groups())


@bp.route("/admin/users/new", methods=["GET", "POST"])
def new_user():
    ids = hall().identity
    ids.require_admin(page_actor())
    form = request.form
    if request.method == "POST":
        try:
            user = ids.save_user(page_actor(), form.get("username", ""), display_name=form.get("display_name", ""),
                                 roles=form.getlist("roles"), groups=_groups(form.get("groups", "")),
                                 password=form.get("password", ""), new=True)
        except (Invalid, Conflict) as e:
            errors = _errors(e, "username")
            return render_template("admin/user.html", user=None, values=form, errors=errors, roles=ROLES,
                                   audit=[], held=[]), 422
        flash(_("已创建用户 %(name)s", name=user.username), "success")
        return redirect(url_for("admin.user", username=user.username))
    return render_template("admin/user.html", user=None, values={}, errors={}, roles=ROLES, audit=[], held=[])


@bp.route("/admin/users/<username>", methods=["GET", "POST"])
def user(username):
    ids = hall().identity
    actor = page_actor()
    ids.require_admin(actor)
    user = ids.user(username)
    errors = {}
    if request.method == "POST":
        form = request.form
        try:
            if form.get("action") == "password":
                ids.reset_password(actor, username, form.get("password", ""))
                flash(_("密码已重置，该用户需重新登录"), "success")
            elif form.get("action") in ("deactivate", "activate"):
                held = ids.set_active_by(actor, username, form["action"] == "activate")
                flash(_("已停用，其办理中的任务见下方，请交给他人") if form["action"] == "deactivate" and held
                      else _("已停用") if form["action"] == "deactivate" else _("已启用"), "success")
            else:
                ids.save_user(actor, username, display_name=form.get("display_name", ""), roles=form.getlist("roles"),
                              groups=_groups(form.get("groups", "")))
                flash(_("已保存"), "success")
        except Invalid as e:
            errors = _errors(e)
        except Conflict as e:
            flash(messages.engine_message(e), "error")
        if not errors:
            return redirect(url_for("admin.user", username=username))
        hall().session.rollback()
    user = ids.user(username)
    values = {"display_name": user.display_name or "", "groups": "\n".join(user.group_names)}
    return render_template("admin/user.html", user=user, values=values, errors=errors, roles=ROLES,
                           audit=ids.audit(actor, username), held=ids.held_tasks(username)), 422 if errors else 200


@bp.route("/account/password", methods=["GET", "POST"])
def own_password():
    """A person changes their own password."""
    errors = {}
    form = request.form
    if request.method == "POST":
        if form.get("password") != form.get("password2"):
            errors = {"password2": [_("两次输入的密码不一致")]}
        else:
            try:
                hall().identity.change_password(page_actor(), form.get("current", ""), form.get("password", ""))
            except Invalid as e:
                errors = _errors(e)
            else:
                flash(_("密码已修改"), "success")
                return redirect(url_for("ui.home"))
    return render_template("admin/password.html", errors=errors), 422 if errors else 200
