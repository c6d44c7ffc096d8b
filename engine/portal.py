"""企业之家, the enterprise's side of the hall: accounts that sign up by their 统一社会信用代码,
filings kept as drafts until they are submitted (their files with them), and 网上咨询:
questions about an item, answered by its window and kept with the answer."""

from __future__ import annotations

import logging
import re

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from engine import catalogue, clock, db
from engine.errors import Conflict, Forbidden, HallError, Invalid, NotFound
from engine.identity import APPLICANTS, FILERS, THROTTLE_WINDOW, WINDOW_ROLES, Actor
from engine.models import CaseFile, Consultation, Draft, Enterprise, LoginFailure, Notification, User
from forms.parallel_approval import credit_code_ok

log = logging.getLogger("hall.portal")
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
MIN_PASSWORD = 8
SIGNUPS_PER_ADDRESS = 5  # within THROTTLE_WINDOW
_SIGNUP = "*signup"  # how a sign-up is counted in login_failures (no username has a '*')
MAX_DRAFT_BYTES = 256 * 1024
MAX_DRAFTS = 50  # a person keeps at most this many
QUESTION_CHARS = Consultation.__table__.c.question.type.length
MAX_OPEN_QUESTIONS = 20  # unanswered, per asker
ANSWER_CHARS = Consultation.__table__.c.answer.type.length
_E = Enterprise.__table__.c


class SignUpsThrottled(HallError):
    status = 429

    def __init__(self, retry_after: int):
        super().__init__(f"too many sign-ups from this address; try again in {retry_after} seconds",
                         retry_after=retry_after)


def _required(value, field: str, most: int) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if not value:
        raise Invalid(f"{field} is required", {field: ["required"]})
    if len(value) > most:
        raise Invalid(f"{field} is longer than {most} characters", {field: [f"at most {most} characters"]})
    return value


def window_group(category: str) -> str:
    """The group of the window that takes in a category's items: 内资窗口, 外资窗口..."""
    return catalogue.CATEGORIES[category] + "窗口"


class Portal:
    def __init__(self, session, identity, runtime, materials, password_method: str | None = None,
                 hall_name: str = "区行政服务中心"):
        self.session = session
        self.hall_name = hall_name
        self.identity = identity
        self.runtime = runtime
        self.materials = materials
        self.password_method = password_method

    # accounts ----------------------------------------------------------------------
    def sign_up(self, username, password, credit_code, name, contact_name, phone, address: str = "unknown") -> User:
        """An enterprise's own account: it files, follows and rates the enterprise's cases.
        One account signs up per enterprise; an enterprise an agent filed for signs up too."""
        errors = {}
        if not isinstance(username, str) or not USERNAME.match(username):
            errors["username"] = ["3 to 32 letters, digits, '.', '_' or '-'"]
        if not isinstance(password, str) or len(password) < MIN_PASSWORD or len(password) > 128:
            errors["password"] = [f"{MIN_PASSWORD} to 128 characters"]
        if not credit_code_ok(credit_code):
            errors["credit_code"] = ["an 18-character 统一社会信用代码 with its check character"]
        if not isinstance(phone, str) or not PHONE.match(phone):
            errors["phone"] = ["a mobile or a landline number with its area code"]
        if errors:
            raise Invalid(f"invalid sign-up: {', '.join(sorted(errors))}", errors)
        name = _required(name, "name", _E.name.type.length)
        contact_name = _required(contact_name, "contact_name", _E.contact_name.type.length)
        address = (address or "unknown")[:64]
        now = clock.now()
        f = LoginFailure.__table__.c
        recent = self.session.scalar(sa.select(sa.func.count()).where(
            f.username == _SIGNUP, f.address == address, f.at > now - THROTTLE_WINDOW))
        self.session.rollback()
        if recent >= SIGNUPS_PER_ADDRESS:
            raise SignUpsThrottled(int(THROTTLE_WINDOW.total_seconds()))
        hashed = (generate_password_hash(password, self.password_method) if self.password_method
                  else generate_password_hash(password))
        try:
            with db.write(self.session) as s:
                s.add(LoginFailure(username=_SIGNUP, address=address, at=now))
                if s.scalar(sa.select(User.id).where(User.username == username)) is not None:
                    raise Invalid(f"user '{username}' already exists", {"username": ["already taken"]})
                enterprise = s.scalar(sa.select(Enterprise).where(_E.credit_code == credit_code))
                if enterprise is None:
                    enterprise = Enterprise(credit_code=credit_code, name=name, created_at=now)
                    s.add(enterprise)
                elif s.scalar(sa.select(User.id).where(User.enterprise_id == enterprise.id)) is not None:
                    raise Conflict(f"enterprise {credit_code} has an account already; its holder adds you, "
                                   "or the hall does")
                enterprise.name, enterprise.contact_name, enterprise.phone = name, contact_name, phone
                s.flush()
                user = User(username=username, password_hash=hashed, roles="applicant", display_name=name,
                            created_at=now, enterprise_id=enterprise.id)
                user.groups = [self.identity._group(s, APPLICANTS)]
                s.add(user)
                s.flush()
        except sa.exc.IntegrityError as e:
            if db.unique_violation(e):
                raise Conflict("this account or enterprise was signed up meanwhile; sign in, or try another name") \
                    from None
            raise
        return user

    def enterprise(self, enterprise_id: int) -> Enterprise:
        row = self.session.get(Enterprise, enterprise_id)
        self.session.rollback()
        if row is None:
            raise NotFound(f"no enterprise {enterprise_id}")
        return row

    def enterprise_for_filing(self, actor: Actor, credit_code, name) -> int:
        """The enterprise an agent or a clerk files for, by its credit code; made on first
        filing (it may sign up later and will find its cases)."""
        if actor.enterprise_id is not None:
            return actor.enterprise_id
        if not credit_code_ok(credit_code):
            raise Invalid("credit_code must be an 18-character 统一社会信用代码 with its check character",
                          {"credit_code": ["not a valid credit code"]})
        name = _required(name, "enterprise_name", _E.name.type.length)
        found = self.session.scalar(sa.select(_E.id).where(_E.credit_code == credit_code))
        self.session.rollback()
        if found is not None:
            return found
        try:
            with db.write(self.session) as s:
                row = Enterprise(credit_code=credit_code, name=name, created_at=clock.now())
                s.add(row)
                s.flush()
                return row.id
        except sa.exc.IntegrityError as e:
            if not db.unique_violation(e):
                raise
            return self.session.scalar(sa.select(_E.id).where(_E.credit_code == credit_code))

    # drafts ------------------------------------------------------------------------
    def save_draft(self, actor: Actor, item_code: str, data, draft_id: int | None = None) -> Draft:
        """Keep a filing as far as it is filled in (unchecked: it is checked when submitted)."""
        if not actor.has(*FILERS, *WINDOW_ROLES):
            raise Forbidden("drafts are the filers'")
        item = catalogue.Catalogue(self.session).item(item_code)
        if not item.online or item.process_id is None:
            raise Invalid(f"item {item_code} is not filed online: the applicant brings it to the window",
                          {"item": ["not filed online"]})
        if not isinstance(data, dict):
            raise Invalid("data must be a JSON object", {"data": ["must be a JSON object"]})
        if len(db.json_dumps(data).encode()) > MAX_DRAFT_BYTES:
            raise Invalid(f"a draft holds at most {MAX_DRAFT_BYTES // 1024} KB", {"data": ["too large"]})
        now = clock.now()
        with db.write(self.session) as s:
            if draft_id is None:
                if s.scalar(sa.select(sa.func.count()).where(Draft.user_id == actor.id)) >= MAX_DRAFTS:
                    raise Conflict(f"you keep {MAX_DRAFTS} drafts already: submit or delete one first")
                draft = Draft(user_id=actor.id, enterprise_id=actor.enterprise_id, item_code=item_code, created_at=now)
                s.add(draft)
            else:
                draft = self._own_draft(s, actor, draft_id)
            draft.data, draft.updated_at = data, now
            s.flush()
            return draft

    def draft(self, actor: Actor, draft_id: int) -> Draft:
        row = self._own_draft(self.session, actor, draft_id)
        self.session.rollback()
        return row

    @staticmethod
    def _own_draft(s, actor: Actor, draft_id: int) -> Draft:
        row = s.get(Draft, draft_id)
        if row is None or row.user_id != actor.id:
            raise NotFound(f"no draft {draft_id}")
        return row

    def drafts(self, actor: Actor) -> list[Draft]:
        rows = list(self.session.scalars(sa.select(Draft).where(Draft.user_id == actor.id)
                                         .order_by(Draft.updated_at.desc())))
        self.session.rollback()
        return rows

    def delete_draft(self, actor: Actor, draft_id: int) -> None:
        keys = []
        with db.write(self.session) as s:
            draft = self._own_draft(s, actor, draft_id)
            keys = list(s.scalars(sa.select(CaseFile.storage_key).where(CaseFile.draft_id == draft_id)))
            s.delete(draft)
        for key in keys:
            self.materials.store.remove(key)

    def submit(self, actor: Actor, draft_id: int, data=None, enterprise_id: int | None = None):
        """File a draft: start its case under its item (online), hand it the draft's files,
        and forget the draft. `data` is the form as last typed (else the draft's)."""
        draft = self.draft(actor, draft_id)
        case = self.runtime.start(actor, None, draft.data if data is None else data, item=draft.item_code,
                                  channel="online", enterprise_id=enterprise_id)
        self.materials.hand_over(draft_id, case.id)
        with db.write(self.session) as s:
            s.execute(sa.delete(Draft).where(Draft.id == draft_id))
        return case

    # SMS -----------------------------------------------------------------------------
    def send_texts(self, send, limit: int = 100) -> int:
        """Text the applicants' notifications not texted yet to their enterprise's phone, with
        `send(phone, message)` (HALL_SMS_SENDER: a gateway's client; off unless set). A
        notification whose sending fails is tried again next time."""
        n = Notification.__table__.c
        rows = list(self.session.execute(
            sa.select(n.id, n.message, Enterprise.phone).join(User, User.id == n.user_id)
            .join(Enterprise, Enterprise.id == User.enterprise_id)
            .where(n.kind == "applicant", n.texted_at.is_(None), Enterprise.phone.is_not(None))
            .order_by(n.id).limit(limit)))
        self.session.rollback()
        sent = []
        for row in rows:
            try:
                send(row.phone, f"【{self.hall_name}】{row.message}")
            except Exception:
                log.exception("SMS not sent", extra={"notification_id": row.id})
                continue
            sent.append(row.id)
        if sent:
            with db.write(self.session) as s:
                s.execute(sa.update(Notification).where(n.id.in_(sent)).values(texted_at=clock.now()))
        return len(sent)

    # 网上咨询 ------------------------------------------------------------------------
    def ask(self, actor: Actor, item_code: str, question) -> Consultation:
        if actor.id is None or not actor.has(*FILERS):
            raise Forbidden("questions are asked from an applicant's or an agent's account")
        item = catalogue.Catalogue(self.session).item(item_code)
        question = _required(question, "question", QUESTION_CHARS)
        with db.write(self.session) as s:
            if s.scalar(sa.select(sa.func.count()).where(Consultation.asked_by_id == actor.id,
                                                          Consultation.answered_at.is_(None))) >= MAX_OPEN_QUESTIONS:
                raise Conflict(f"you have {MAX_OPEN_QUESTIONS} questions waiting for an answer already")
            row = Consultation(item_code=item.code, category=item.category, question=question,
                               asked_by_id=actor.id, asked_at=clock.now())
            s.add(row)
            s.flush()
            return row

    def answer(self, actor: Actor, consultation_id: int, answer) -> Consultation:
        """The item's window answers (its staff, or a coordinator)."""
        answer = _required(answer, "answer", ANSWER_CHARS)
        with db.write(self.session) as s:
            row = s.get(Consultation, consultation_id)
            if row is None:
                raise NotFound(f"no question {consultation_id}")
            if not (actor.has("coordinator") or window_group(row.category) in actor.groups):
                raise Forbidden(f"questions about this item are answered by the {window_group(row.category)}")
            if row.answered_at is not None:
                raise Conflict(f"question {consultation_id} was answered already")
            row.answer, row.answered_by, row.answered_at = answer, actor.username, clock.now()
            s.flush()
            return row

    def asked_by(self, actor: Actor, limit: int = 50) -> list[Consultation]:
        rows = list(self.session.scalars(sa.select(Consultation).where(Consultation.asked_by_id == actor.id)
                                         .order_by(Consultation.id.desc()).limit(limit)))
        self.session.rollback()
        return rows

    def questions_for(self, actor: Actor, limit: int = 100) -> list[Consultation]:
        """The open questions the actor's windows answer (a coordinator: every window's)."""
        categories = [c for c in catalogue.CATEGORIES if actor.has("coordinator") or window_group(c) in actor.groups]
        if not categories:
            return []
        rows = list(self.session.scalars(sa.select(Consultation).where(
            Consultation.answered_at.is_(None), Consultation.category.in_(categories))
            .order_by(Consultation.id).limit(limit)))
        self.session.rollback()
        return rows


def log_sms(phone: str, message: str) -> None:
    """An SMS "sender" that writes each text to the log: HALL_SMS_SENDER=engine.portal:log_sms
    to see what a gateway would be given."""
    log.info("sms", extra={"phone": phone, "sms": message})
