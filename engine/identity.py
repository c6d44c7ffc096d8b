"""Users, groups, roles and API tokens (Camunda's IdentityService)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from engine import clock, db
from engine.errors import Invalid, NotFound
from engine.models import ApiToken, Group, User, user_groups

ROLES = ("staff", "coordinator", "director", "supervisor", "process_owner", "applicant", "admin")
TOKEN_LIFETIME = dt.timedelta(hours=12)
TOKEN_CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user, or the system itself (timers)."""

    id: int | None
    username: str
    roles: frozenset[str] = frozenset()
    groups: frozenset[str] = field(default_factory=frozenset)
    display_name: str | None = None

    def has(self, *roles: str) -> bool:
        return "admin" in self.roles or any(r in self.roles for r in roles)

    @property
    def works_tasks(self) -> bool:
        """Hall staff with an inbox (window staff, coordinators, the director): not an
        applicant, a supervisor who reads, or an admin who keeps the system."""
        return bool(self.roles & {"staff", "coordinator", "director"})

    @property
    def is_applicant_only(self) -> bool:
        return self.roles <= {"applicant"}


SYSTEM = Actor(id=None, username="system", roles=frozenset({"system"}))


def actor_of(user: User) -> Actor:
    return Actor(user.id, user.username, user.role_set, frozenset(user.group_names), user.display_name)


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
                    update: bool = False) -> User:
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
            user.password_hash = (generate_password_hash(password, self.password_method) if self.password_method
                                  else generate_password_hash(password))
            user.roles = ",".join(dict.fromkeys(roles))
            user.display_name = display_name or user.display_name
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

    def authenticate(self, username: str, password: str) -> User | None:
        user = self.session.scalar(sa.select(User).where(User.username == (username or "")))
        if user is None or not user.active or not check_password_hash(user.password_hash, password or ""):
            return None
        return user

    # tokens ------------------------------------------------------------------------
    def issue_token(self, user: User) -> str:
        token = secrets.token_urlsafe(32)
        now = clock.now()
        with db.write(self.session) as s:
            s.execute(sa.delete(ApiToken).where(ApiToken.expires_at < now))
            s.add(ApiToken(token_hash=_token_hash(token), user_id=user.id, created_at=now,
                           expires_at=now + TOKEN_LIFETIME))
        return token

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
            sa.select(u.id, u.username, u.roles, u.display_name, u.active, ApiToken.expires_at)
            .join(ApiToken, ApiToken.user_id == u.id).where(ApiToken.token_hash == key)).first()
        if row is None or not row.active or row.expires_at < clock.now():
            self._tokens.pop(key, None)
            return None
        groups = self.session.scalars(sa.select(user_groups.c.group_name).where(user_groups.c.user_id == row.id))
        actor = Actor(row.id, row.username, frozenset(r for r in row.roles.split(",") if r), frozenset(groups),
                      row.display_name)
        if len(self._tokens) > 10_000:
            self._tokens.clear()
        self._tokens[key] = (now + TOKEN_CACHE_SECONDS, actor)
        return actor

    def actor(self, user_id: int) -> Actor | None:
        user = self.session.get(User, user_id)
        return actor_of(user) if user is not None and user.active else None
