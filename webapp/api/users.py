"""Users and groups over the API (an admin's), and a user's own password."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from engine.identity import PASSWORD_CHARS, ROLES
from webapp import hall
from webapp.api import Blueprint
from webapp.auth import current_actor, token_required

PREFIX = ""
blp = Blueprint("api_users", __name__, description="Users and groups (admin); one's own password")

_PASSWORD = validate.Length(min=PASSWORD_CHARS[0], max=PASSWORD_CHARS[1])


class UserIn(Schema):
    display_name = fields.String(load_default=None, validate=validate.Length(max=128))
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), load_default=None,
                        validate=validate.Length(max=len(ROLES)))
    groups = fields.List(fields.String(validate=validate.Length(min=1, max=64)), load_default=None,
                         validate=validate.Length(max=50))


class NewUser(UserIn):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=_PASSWORD)


class UserOut(Schema):
    username = fields.String()
    display_name = fields.String(allow_none=True)
    roles = fields.List(fields.String(), attribute="role_list")
    groups = fields.List(fields.String(), attribute="group_names")
    active = fields.Boolean()
    created_at = fields.DateTime()


class HeldTask(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    case_number = fields.String()
    name = fields.String()
    due_at = fields.DateTime(allow_none=True)


class Active(Schema):
    active = fields.Boolean(required=True)


class ActiveOut(Schema):
    username = fields.String()
    active = fields.Boolean()
    held_tasks = fields.Nested(HeldTask, many=True, metadata={
        "description": "open tasks the user holds: hand them to others (POST /tasks/<id>/assign)"})


class NewPassword(Schema):
    password = fields.String(required=True, validate=_PASSWORD)


class OwnPassword(NewPassword):
    current = fields.String(required=True, validate=validate.Length(max=PASSWORD_CHARS[1]))


class GroupIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    label = fields.String(load_default=None, validate=validate.Length(max=128))


class GroupOut(Schema):
    name = fields.String()
    label = fields.String(allow_none=True)


class AuditOut(Schema):
    at = fields.DateTime()
    actor = fields.String()
    action = fields.String()
    username = fields.String(allow_none=True)
    detail = fields.Dict(allow_none=True)


def _out(user) -> dict:
    return {"username": user.username, "display_name": user.display_name, "role_list": sorted(user.role_set),
            "group_names": user.group_names, "active": user.active, "created_at": user.created_at}


def _admin_only():
    hall().identity.require_admin(current_actor())


@blp.route("/users", methods=["GET"])
@token_required
@blp.response(200, UserOut(many=True))
def list_users():
    """Every user, by username."""
    _admin_only()
    return [_out(u) for u in hall().identity.users()]


@blp.route("/users", methods=["POST"])
@token_required
@blp.arguments(NewUser())
@blp.response(201, UserOut)
@blp.alt_response(409, description="the username is taken")
def create_user(body):
    """Create a user with a password, roles and groups."""
    return _out(hall().identity.save_user(current_actor(), body["username"], display_name=body["display_name"],
                                          roles=body["roles"] or [], groups=body["groups"] or [],
                                          password=body["password"], new=True))


@blp.route("/users/<username>", methods=["GET"])
@token_required
@blp.response(200, UserOut)
def get_user(username):
    _admin_only()
    return _out(hall().identity.user(username))


@blp.route("/users/<username>", methods=["PATCH"])
@token_required
@blp.arguments(UserIn())
@blp.response(200, UserOut)
def change_user(body, username):
    """Change a user's name, roles or groups (what is left out stays). New roles end their sessions."""
    return _out(hall().identity.save_user(current_actor(), username, **body))


@blp.route("/users/<username>/active", methods=["PUT"])
@token_required
@blp.arguments(Active())
@blp.response(200, ActiveOut)
def set_active(body, username):
    """Deactivate a user (no sign-in; their sessions and tokens end at once) or activate them
    again. Answers with the open tasks they hold, to hand to others."""
    held = hall().identity.set_active_by(current_actor(), username, body["active"])
    return {"username": username, "active": body["active"], "held_tasks": [dict(t._mapping) for t in held]}


@blp.route("/users/<username>/password", methods=["PUT"])
@token_required
@blp.arguments(NewPassword())
@blp.response(204)
def reset_password(body, username):
    """Set a user's password (their sessions end)."""
    hall().identity.reset_password(current_actor(), username, body["password"])


@blp.route("/users/<username>/audit", methods=["GET"])
@token_required
@blp.response(200, AuditOut(many=True))
def user_audit(username):
    """The changes made to a user, newest first."""
    return [dict(r._mapping) for r in hall().identity.audit(current_actor(), username)]


@blp.route("/groups", methods=["GET"])
@token_required
@blp.response(200, GroupOut(many=True))
def list_groups():
    _admin_only()
    return hall().identity.groups()


@blp.route("/groups", methods=["POST"])
@token_required
@blp.arguments(GroupIn())
@blp.response(201, GroupOut)
def save_group(body):
    """Create a group, or give one its label."""
    return hall().identity.save_group(current_actor(), body["name"], body["label"])


@blp.route("/auth/password", methods=["PUT"])
@token_required
@blp.arguments(OwnPassword())
@blp.response(204)
def change_own_password(body):
    """Change one's own password, giving the current one."""
    hall().identity.change_password(current_actor(), body["current"], body["password"])
