"""Users, groups, roles and API tokens (Camunda's IdentityService)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from engine import clock, db, history
from engine.errors import Conflict, Forbidden, HallError, Invalid, NotFound
from engine.models import ApiToken, Event, Group, LoginFailure, Task, User, user_groups

ROLES = ("staff", "coordinator", "director", "supervisor", "process_owner", "applicant", "agent", "admin", "device",
         "integrator")
# Those who file for an enterprise and see only what they filed or what is their enterprise's:
# its own account, and an agent (代办员, a 招商 department) filing on its behalf.
FILERS = frozenset({"applicant", "agent"})
# The group every applicant belongs to. A task for it (its lane, or candidateGroups) is the
# case's own applicant's alone: it is given to whoever started the case (the enterprise, or
# the clerk or agent who filed for it), never queued for every applicant to see.
APPLICANTS = "申请人"
OVERSIGHT = ("coordinator", "director", "supervisor")  # who oversees every case of the hall
KEEPERS = ("process_owner", "admin")  # who keeps the processes running: incidents, moves to a new version


def only_filer(roles: str) -> bool:
    """Are these roles, as a user row holds them ("applicant,agent"), a filer's and no more?"""
    return set(filter(None, roles.split(","))) <= FILERS
WINDOW_ROLES = ("staff", "coordinator", "director")  # who works at the counter: takes in walk-in applicants
TOKEN_LIFETIME = dt.timedelta(hours=12)
TOKEN_CACHE_SECONDS = 5.0  # a revoked token may serve this much longer on another node (never on its own)
THROTTLE_WINDOW = dt.timedelta(minutes=15)  # wrong passwords are counted over this long
ACCOUNT_FAILURES = 5  # then the account takes no password, right or wrong, till the window has passed
ADDRESS_FAILURES = 20  # nor does the address, for any account

log = logging.getLogger("hall.identity")


class Throttled(HallError):
    """Too many wrong passwords for an account or from an address: try again later."""

    status = 429

    def __init__(self, retry_after: int):
        super().__init__(f"too many failed sign-ins; try again in {retry_after} seconds", retry_after=retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user, or the system itself (timers)."""

    id: int | None
    username: str
    roles: frozenset[str] = frozenset()
    groups: frozenset[str] = field(default_factory=frozenset)
    display_name: str | None = None
    enterprise_id: int | None = None  # an enterprise's own account (企业之家)

    def has(self, *roles: str) -> bool:
        return "admin" in self.roles or any(r in self.roles for r in roles)

    @property
    def works_tasks(self) -> bool:
        """Hall staff with an inbox (window staff, coordinators, the director): not an
        applicant, a supervisor who reads, or an admin who keeps the system."""
        return bool(self.roles & {"staff", "coordinator", "director"})

    @property
    def is_applicant_only(self) -> bool:
        """An enterprise's account or an agent, and nothing more: sees only its own cases."""
        return self.roles <= FILERS

    @property
    def is_device(self) -> bool:
        """A window's rating device (评价器): its group is the window; it shows the case the
        window's staff just handled and takes the applicant's rating, and nothing else."""
        return self.roles == {"device"}

    def owns(self, case) -> bool:
        """Is this the case's applicant: who filed it, or the enterprise it is for?"""
        return case.started_by_id == self.id or (
            self.enterprise_id is not None and getattr(case, "enterprise_id", None) == self.enterprise_id)


SYSTEM = Actor(id=None, username="system", roles=frozenset({"system"}))


def actor_of(user: User) -> Actor:
    return Actor(user.id, user.username, user.role_set, frozenset(user.group_names), user.display_name,
                 user.enterprise_id)


USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
PASSWORD_CHARS = (8, 128)  # a password's length, at least and at most
ADMIN_ACTIONS = ("user_created", "user_changed", "user_activated", "user_deactivated", "password_reset",
                 "password_changed", "group_saved")


def _check_password(password) -> None:
    low, high = PASSWORD_CHARS
    if not isinstance(password, str) or not low <= len(password) <= high:
        raise Invalid(f"a password is {low} to {high} characters", {"password": [f"{low} to {high} characters"]})


def _audit(actor: Actor, action: str, username: str | None, detail: dict | None = None) -> dict:
    """An audit event of a change to a user (its element_id names them) or a group."""
    return history.event(None, actor.username, action, element_id=username, detail=detail or None)


def _shown(user: User) -> dict:
    """What an admin changes of a user, as the audit trail records it."""
    return {"display_name": user.display_name, "roles": user.roles, "groups": sorted(g.name for g in user.groups)}


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Identity:
    def __init__(self, session, password_method: str | None = None):
        self.session = session
        # werkzeug's default (scrypt) unless configured; tests use a cheap one
        self.password_method = password_method
        self._tokens: dict[str, tuple[float, Actor]] = {}

    # users -------------------------------------------------------------------------
    def create_user(self, username: str, password: str, groups=(), roles=(), display_name=None,
                    update: bool = False, enterprise_id: int | None = None) -> User:
        username = (username or "").strip()
        if not username:
            raise Invalid("username is required", {"username": ["required"]})
        bad = [r for r in roles if r not in ROLES]
        if bad:
            raise Invalid(f"unknown role(s): {', '.join(bad)}; roles are {', '.join(ROLES)}",
                          {"roles": [f"unknown role {r}" for r in bad]})
        if not password:
            raise Invalid("password is required", {"password": ["required"]})
        with db.write(self.session) as s:
            user = s.scalar(sa.select(User).where(User.username == username))
            if user is not None and not update:
                raise Invalid(f"user '{username}' already exists", {"username": ["already exists"]})
            if user is None:
                user = User(username=username, created_at=clock.now())
                s.add(user)
            elif not check_password_hash(user.password_hash, password):
                self._end_sessions(s, user.id)  # a new password ends every session of the old one
            user.password_hash = (generate_password_hash(password, self.password_method) if self.password_method
                                  else generate_password_hash(password))
            user.roles = ",".join(dict.fromkeys(roles))
            user.display_name = display_name or user.display_name
            user.enterprise_id = enterprise_id if enterprise_id is not None else user.enterprise_id
            user.groups = [self._group(s, g) for g in dict.fromkeys(groups)]
            s.flush()
        return user

    @staticmethod
    def _group(s, name: str, label: str | None = None) -> Group:
        name = name.strip()
        g = s.get(Group, name)
        if g is None:
            g = Group(name=name, label=label)
            s.add(g)
        elif label and not g.label:
            g.label = label
        return g

    def ensure_group(self, name: str, label: str | None = None) -> None:
        with db.write(self.session) as s:
            self._group(s, name, label)

    def user(self, username: str) -> User:
        user = self.session.scalar(sa.select(User).where(User.username == username))
        if user is None:
            raise NotFound(f"no user '{username}'")
        return user

    def display_names(self, usernames) -> dict[str, str]:
        """{username: the name people know them by} for those who have one."""
        rows = self.session.execute(sa.select(User.username, User.display_name).where(
            User.username.in_(set(usernames)), User.display_name.is_not(None)))
        return dict(rows.all())

    def users(self) -> list[User]:
        return list(self.session.scalars(sa.select(User).order_by(User.username)))

    def groups(self) -> list[Group]:
        return list(self.session.scalars(sa.select(Group).order_by(Group.name)))

    def set_active(self, username: str, active: bool) -> None:
        """Deactivate a user (every session and token ends at once) or activate them again."""
        with db.write(self.session) as s:
            user = s.scalar(sa.select(User).where(User.username == username))
            if user is None:
                raise NotFound(f"no user '{username}'")
            user.active = active
            if not active:
                self._end_sessions(s, user.id)

    def authenticate(self, username: str, password: str, address: str = "unknown") -> User | None:
        """The user these credentials name, or None. Throttled: after ACCOUNT_FAILURES wrong
        passwords for an account, or ADDRESS_FAILURES from an address, within THROTTLE_WINDOW,
        no password is tried (Throttled, 429) until the window has passed."""
        username, address = (username or "")[:64], (address or "unknown")[:64]
        now = clock.now()
        f = LoginFailure.__table__.c
        since = now - THROTTLE_WINDOW
        for column, value, limit in ((f.username, username, ACCOUNT_FAILURES), (f.address, address, ADDRESS_FAILURES)):
            recent = list(self.session.scalars(sa.select(f.at).where(column == value, f.at > since)
                                               .order_by(f.at.desc()).limit(limit)))
            if len(recent) >= limit:
                self.session.rollback()
                retry = max(1, int((recent[-1] + THROTTLE_WINDOW - now).total_seconds()) + 1)
                log.warning("sign-in throttled", extra={"username": username, "address": address, "retry_after": retry})
                raise Throttled(retry)
        user = self.session.scalar(sa.select(User).where(User.username == username))
        self.session.rollback()
        ok = user is not None and user.active and check_password_hash(user.password_hash, password or "")
        with db.write(self.session) as s:
            if ok:
                s.execute(sa.delete(LoginFailure).where(f.username == username))
            else:
                s.add(LoginFailure(username=username, address=address, at=now))
                s.execute(sa.delete(LoginFailure).where(f.at < since - THROTTLE_WINDOW))  # the old ones go
        if not ok:
            log.info("sign-in refused", extra={"username": username, "address": address})
        return user if ok else None

    # administration: by an admin, each change in the audit trail ----------------------
    def save_user(self, actor: Actor, username: str, *, display_name=None, roles=None, groups=None,
                  password: str | None = None, new: bool = False) -> User:
        """An admin creates a user (`new`, with a password) or changes one's name, roles and
        groups. Each change is recorded (`user_created`, `user_changed`) with what changed."""
        self.require_admin(actor)
        username = (username or "").strip()
        if not USERNAME.match(username):
            raise Invalid("username: 1 to 64 letters, digits, '.', '_' or '-'", {"username": ["letters, digits, ._-"]})
        if display_name is not None and len(display_name) > 128:
            raise Invalid("display_name is longer than 128 characters", {"display_name": ["too long"]})
        roles = list(dict.fromkeys(roles or [])) if roles is not None else None
        if roles is not None and (bad := [r for r in roles if r not in ROLES]):
            raise Invalid(f"unknown role(s): {', '.join(bad)}; roles are {', '.join(ROLES)}",
                          {"roles": [f"unknown role {r}" for r in bad]})
        groups = [g.strip() for g in dict.fromkeys(groups or []) if g.strip()] if groups is not None else None
        if groups is not None and (bad := [g for g in groups if len(g) > 64]):
            raise Invalid("a group's name is at most 64 characters", {"groups": ["at most 64 characters"]})
        if new:
            _check_password(password)
        with db.write(self.session) as s:
            user = s.scalar(sa.select(User).where(User.username == username))
            if new and user is not None:
                raise Conflict(f"user '{username}' already exists")
            if not new and user is None:
                raise NotFound(f"no user '{username}'")
            before = {} if new else _shown(user)
            if new:
                user = User(username=username, created_at=clock.now(), password_hash=self._hash(password))
                s.add(user)
            if display_name is not None:
                user.display_name = display_name.strip() or None
            if roles is not None:
                user.roles = ",".join(roles)
            if groups is not None:
                user.groups = [self._group(s, g) for g in groups]
            s.flush()
            after = _shown(user)
            changed = {k: after[k] for k in after if before.get(k) != after[k]}
            if changed:
                if roles is not None and not new:
                    self._end_sessions(s, user.id)  # what they may do changed: sign in again
                history.record(s, [_audit(actor, "user_created" if new else "user_changed", username, changed)])
        return user

    def set_active_by(self, actor: Actor, username: str, active: bool) -> list:
        """An admin deactivates a user (they cannot sign in; their sessions and tokens end at
        once) or lets them in again. Returns the open tasks they hold, to hand to others."""
        self.require_admin(actor)
        if username == actor.username and not active:
            raise Conflict("an admin does not deactivate their own account")
        self.set_active(username, active)
        with db.write(self.session) as s:
            history.record(s, [_audit(actor, "user_activated" if active else "user_deactivated", username)])
        return self.held_tasks(username)

    def held_tasks(self, username: str) -> list:
        """The open tasks a user holds (a deactivated user's are handed to others)."""
        t = Task.__table__.c
        return list(self.session.execute(
            sa.select(t.id, t.case_id, t.case_number, t.name, t.due_at).join(User, User.id == t.assignee_id)
            .where(User.username == username, t.status == "open").order_by(t.due_at)))

    def reset_password(self, actor: Actor, username: str, password: str) -> None:
        """An admin sets a user's password; every session of theirs ends."""
        self.require_admin(actor)
        self._set_password(username, password)
        with db.write(self.session) as s:
            history.record(s, [_audit(actor, "password_reset", username)])

    def change_password(self, actor: Actor, current: str, password: str) -> None:
        """A user changes their own password, giving the current one; their other sessions end."""
        user = self.user(actor.username)
        if not check_password_hash(user.password_hash, current or ""):
            raise Invalid("the current password is not right", {"current": ["not right"]})
        self._set_password(actor.username, password)
        with db.write(self.session) as s:
            history.record(s, [_audit(actor, "password_changed", actor.username)])

    def save_group(self, actor: Actor, name: str, label: str | None = None) -> Group:
        self.require_admin(actor)
        name = (name or "").strip()
        if not name or len(name) > 64:
            raise Invalid("a group's name is 1 to 64 characters", {"name": ["1 to 64 characters"]})
        if label is not None and len(label) > 128:
            raise Invalid("label is longer than 128 characters", {"label": ["too long"]})
        with db.write(self.session) as s:
            group = self._group(s, name)
            group.label = (label or "").strip() or group.label
            history.record(s, [_audit(actor, "group_saved", None, {"group": name, "label": group.label})])
        return group

    def audit(self, actor: Actor, username: str | None = None, limit: int = 200) -> list:
        """Changes to users and groups, newest first (of one user, with `username`)."""
        self.require_admin(actor)
        e = Event.__table__.c
        q = sa.select(e.at, e.actor, e.action, e.element_id.label("username"), e.detail).where(
            e.case_id.is_(None), e.action.in_(ADMIN_ACTIONS))
        if username is not None:
            q = q.where(e.element_id == username)
        return list(self.session.execute(q.order_by(e.id.desc()).limit(limit)))

    @staticmethod
    def require_admin(actor: Actor) -> None:
        if not actor.has("admin"):
            raise Forbidden("users and groups are an admin's")

    def _hash(self, password: str) -> str:
        return generate_password_hash(password, self.password_method) if self.password_method \
            else generate_password_hash(password)

    def _set_password(self, username: str, password: str) -> None:
        _check_password(password)
        with db.write(self.session) as s:
            user = s.scalar(sa.select(User).where(User.username == username))
            if user is None:
                raise NotFound(f"no user '{username}'")
            user.password_hash = self._hash(password)
            self._end_sessions(s, user.id)

    # tokens ------------------------------------------------------------------------
    def issue_token(self, user: User, kind: str = "api") -> str:
        """A new session for `user`: a bearer token ("api") or a page session ("page")."""
        token = secrets.token_urlsafe(32)
        now = clock.now()
        with db.write(self.session) as s:
            s.execute(sa.delete(ApiToken).where(ApiToken.expires_at < now))
            s.add(ApiToken(token_hash=_token_hash(token), user_id=user.id, kind=kind, created_at=now,
                           expires_at=now + TOKEN_LIFETIME))
        return token

    def revoke_token(self, token: str) -> None:
        """Sign out: the token (or page session) is dead from now on."""
        key = _token_hash(token)
        with db.write(self.session) as s:
            s.execute(sa.delete(ApiToken).where(ApiToken.token_hash == key))
        self._tokens.pop(key, None)

    def _end_sessions(self, s, user_id: int) -> None:
        s.execute(sa.delete(ApiToken).where(ApiToken.user_id == user_id))
        for key in [k for k, (_, a) in list(self._tokens.items()) if a.id == user_id]:
            self._tokens.pop(key, None)

    def actor_for_session(self, token: str) -> Actor | None:
        """The actor of a page session, looked up at every request (never remembered)."""
        row = self.session.execute(sa.select(ApiToken.user_id, ApiToken.expires_at).where(
            ApiToken.token_hash == _token_hash(token), ApiToken.kind == "page")).first()
        if row is None or row.expires_at < clock.now():
            return None
        return self.actor(row.user_id)

    def actor_for_token(self, token: str) -> Actor | None:
        """The actor a bearer token stands for; remembered for a few seconds, so a burst of
        requests costs one lookup (a deactivated user or new roles apply within that time)."""
        key = _token_hash(token)
        now = time.monotonic()
        hit = self._tokens.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        u = User.__table__.c
        row = self.session.execute(
            sa.select(u.id, u.username, u.roles, u.display_name, u.active, u.enterprise_id, ApiToken.expires_at)
            .join(ApiToken, ApiToken.user_id == u.id).where(ApiToken.token_hash == key, ApiToken.kind == "api")).first()
        if row is None or not row.active or row.expires_at < clock.now():
            self._tokens.pop(key, None)
            return None
        groups = self.session.scalars(sa.select(user_groups.c.group_name).where(user_groups.c.user_id == row.id))
        actor = Actor(row.id, row.username, frozenset(r for r in row.roles.split(",") if r), frozenset(groups),
                      row.display_name, row.enterprise_id)
        if len(self._tokens) > 10_000:
            self._tokens.clear()
        self._tokens[key] = (now + TOKEN_CACHE_SECONDS, actor)
        return actor

    def actor(self, user_id: int) -> Actor | None:
        user = self.session.get(User, user_id)
        return actor_of(user) if user is not None and user.active else None
