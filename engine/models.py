"""The hall's tables. The schema changes only through migrations/ (Alembic).

Lists and inboxes read `tasks` and `task_queue`, never the serialized workflow state:
`cases.state` is read only to act on one case.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        if value.tzinfo is not dt.UTC:  # as the engine's clock gives them already
            value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UTCDateTime()}


user_groups = sa.Table(
    "user_groups",
    Base.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("group_name", sa.ForeignKey("groups.name", ondelete="CASCADE"), primary_key=True),
)


class Group(Base):
    __tablename__ = "groups"
    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    label: Mapped[str | None] = mapped_column(sa.String(128))


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(sa.String(128))
    email: Mapped[str | None] = mapped_column(sa.String(256))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    roles: Mapped[str] = mapped_column(sa.String(256), default="")  # comma-separated
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime]
    # an applicant's account is its enterprise's (企业之家): it sees the enterprise's cases
    enterprise_id: Mapped[int | None] = mapped_column(sa.ForeignKey("enterprises.id", name="fk_users_enterprise_id"))
    groups: Mapped[list[Group]] = relationship(secondary=user_groups, lazy="selectin")

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(",") if r)

    @property
    def group_names(self) -> list[str]:
        return sorted(g.name for g in self.groups)


class ApiToken(Base):
    """A signed-in session: a bearer token of the API ("api") or a page session ("page"),
    by its hash. Signing out, a new password or deactivation deletes it: it is dead at once."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(8), default="api", server_default="api")
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]


class StartKey(Base):
    """An `Idempotency-Key` a client started a case with: a retry with the same key is
    answered with that case instead of starting another."""

    __tablename__ = "start_keys"
    __table_args__ = (sa.UniqueConstraint("user_id", "key", name="uq_start_keys_user_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(128))
    request: Mapped[str] = mapped_column(sa.String(64))  # what was asked (a hash): the key is that request's
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime]


class LoginFailure(Base):
    """A wrong password, by account and by address: what sign-in throttling counts (in the
    database, so that every app node counts the same)."""

    __tablename__ = "login_failures"
    __table_args__ = (sa.Index("ix_login_failures_username", "username", "at"),
                      sa.Index("ix_login_failures_address", "address", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64))
    address: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[dt.datetime]


class ProcessVersion(Base):
    """One deployed version of a process: its source files and what was read from them."""

    __tablename__ = "process_versions"
    __table_args__ = (
        sa.UniqueConstraint("process_id", "version"),
        sa.Index("ix_process_versions_checksum", "process_id", "checksum"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(sa.String(128))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(256))
    checksum: Mapped[str] = mapped_column(sa.String(64))
    main_file: Mapped[str] = mapped_column(sa.String(256))
    # {filename: text} of every BPMN/DMN file the version runs with, called processes included
    files: Mapped[dict] = mapped_column(sa.JSON, deferred=True)
    case_prefix: Mapped[str] = mapped_column(sa.String(16))
    starter_groups: Mapped[list] = mapped_column(sa.JSON, default=list)
    deployed_at: Mapped[dt.datetime]
    deployed_by: Mapped[str] = mapped_column(sa.String(64))


def _only(condition: str) -> dict:
    """A partial index's condition, for both databases."""
    return {"postgresql_where": sa.text(condition), "sqlite_where": sa.text(condition)}


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        sa.Index("ix_cases_status_created", "status", "created_at"),
        sa.Index("ix_cases_process_status", "process_id", "status"),
        sa.Index("ix_cases_started_by", "started_by_id", "created_at"),
        # running cases counted with an older calendar than the latest (see calendar_revisions)
        sa.Index("ix_cases_calendar_behind", "calendar_revision", **_only("status = 'running'")),
        sa.Index("ix_cases_due_note", "due_note", **_only("due_note IS NOT NULL")),
        sa.Index("ix_cases_item", "item_id", "created_at", **_only("item_id IS NOT NULL")),
        sa.Index("ix_cases_enterprise", "enterprise_id", "id", **_only("enterprise_id IS NOT NULL")),
        sa.Index("ix_cases_rate_invite_at", "rate_invite_at", **_only("rate_invite_at IS NOT NULL")),
        # The statistics count a period's cases by when they came in, were accepted and ended;
        # each index holds what its figures read (engine.statistics), so a year's figures are
        # read from the index alone, not from tens of thousands of case rows.
        sa.Index("ix_cases_created", "created_at", "item_id", "status"),
        sa.Index("ix_cases_accepted", "accepted_at", "status", "item_id", **_only("accepted_at IS NOT NULL")),
        sa.Index("ix_cases_ended", "ended_at", "status", "process_id", "end_element", "item_id", "accepted_at",
                 "due_at", "workdays_taken", **_only("ended_at IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    process_id: Mapped[str] = mapped_column(sa.String(128))
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("process_versions.id"))
    version: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(16))  # running|completed|withdrawn|terminated|error
    title: Mapped[str | None] = mapped_column(sa.String(256))
    started_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    # optimistic lock: every write checks and bumps it
    revision: Mapped[int] = mapped_column(default=0)
    # SpiffWorkflow state without the spec, compressed JSON (see engine.state)
    state: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # earliest pending timer: the scheduler reads only rows whose time has come
    next_timer_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    error: Mapped[str | None] = mapped_column(sa.Text)
    # the diagram's elements the case has passed, in order, for its drawn diagram
    visited: Mapped[list] = mapped_column(sa.JSON, default=list)
    # the committed time limit (承诺时限) of the whole case, and its clock's state
    due_at: Mapped[dt.datetime | None]
    paused_since: Mapped[dt.datetime | None]
    paused_reason: Mapped[str | None] = mapped_column(sa.String(128))
    paused_element: Mapped[str | None] = mapped_column(sa.String(128))  # None: paused by a person
    # the calendar revision its deadlines were counted with; "calendar:YEAR" while its
    # limit lies in a year counted provisionally
    calendar_revision: Mapped[int] = mapped_column(default=0, server_default="0")
    due_note: Mapped[str | None] = mapped_column(sa.String(256))
    # the messages it waits for (补正材料, 重新提交): what its page offers to record
    waiting: Mapped[list] = mapped_column(sa.JSON, default=list, server_default="[]")
    # the catalogue item's version whose terms it was filed under (None: started by process)
    item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("catalogue_items.id", name="fk_cases_item_id"))
    channel: Mapped[str] = mapped_column(sa.String(16), default="online", server_default="online")  # online|counter
    # the enterprise it is for (its own account filed it, or an agent on its behalf)
    enterprise_id: Mapped[int | None] = mapped_column(sa.ForeignKey("enterprises.id", name="fk_cases_enterprise_id"))
    # when its applicant is invited to rate it, if they have not by then (办结 + 3 days)
    rate_invite_at: Mapped[dt.datetime | None]
    # 挂起: a coordinator stopped it for now; no task of it is worked, no timer fires till resumed
    suspended_at: Mapped[dt.datetime | None]
    suspended_reason: Mapped[str | None] = mapped_column(sa.String(500))
    # 受理: when it passed its process's `caseTimeLimitFrom` element (its start, without one);
    # kept as a time so that the statistics count a period's accepted cases from an index
    accepted_at: Mapped[dt.datetime | None]
    # the end event it finished at (办结, 不予受理, 挽留成功...): what the statistics tell outcomes by
    end_element: Mapped[str | None] = mapped_column(sa.String(128))
    # working days from 受理 to its end, counted with the calendar in force when it ended
    workdays_taken: Mapped[float | None]


class CaseCounter(Base):
    """Per prefix and day sequence behind human-readable case numbers."""

    __tablename__ = "case_counters"
    prefix: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    day: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class Task(Base):
    """One row per human task; every inbox and list reads this, never workflow state."""

    __tablename__ = "tasks"
    __table_args__ = (
        sa.Index("ix_tasks_case_status", "case_id", "status"),
        sa.Index("ix_tasks_status_due", "status", "due_at"),
        # Indexes over columns most rows leave empty hold only the rows with a value (every
        # query on them asks for one), so a new task or a completion writes fewer entries.
        sa.Index("ix_tasks_assignee_open", "assignee_id", "status", "created_at", **_only("assignee_id IS NOT NULL")),
        sa.Index("ix_tasks_done_by", "completed_by_id", "completed_at", **_only("completed_by_id IS NOT NULL")),
        sa.Index("ix_tasks_next_alert_at", "next_alert_at", **_only("next_alert_at IS NOT NULL")),
        # the few tasks due in a year whose calendar is not entered (the admin's warning)
        sa.Index("ix_tasks_due_note", "due_note", **_only("due_note IS NOT NULL")),
        # the statistics (engine.statistics): what they read of a period's completed tasks
        sa.Index("ix_tasks_completed_at", "completed_at", "status", "due_at", "completed_by_id", "case_id", "lane",
                 postgresql_include=["candidate_groups"], **_only("completed_at IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    spiff_id: Mapped[str] = mapped_column(sa.String(36))
    process_id: Mapped[str] = mapped_column(sa.String(128))
    case_number: Mapped[str] = mapped_column(sa.String(40))
    case_title: Mapped[str | None] = mapped_column(sa.String(256))  # the enterprise / applicant
    element_id: Mapped[str] = mapped_column(sa.String(128))
    name: Mapped[str] = mapped_column(sa.String(256))
    lane: Mapped[str | None] = mapped_column(sa.String(128))
    candidate_groups: Mapped[list] = mapped_column(sa.JSON, default=list)
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(sa.String(16))  # open|completed|cancelled
    form_key: Mapped[str | None] = mapped_column(sa.String(128))
    created_at: Mapped[dt.datetime]
    due_at: Mapped[dt.datetime | None]
    claimed_at: Mapped[dt.datetime | None]
    completed_at: Mapped[dt.datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    data: Mapped[dict | None] = mapped_column(sa.JSON)  # what was submitted
    # what tells this task from its siblings: a multi-instance task's element variable
    context: Mapped[dict | None] = mapped_column(sa.JSON)
    # deadline state: none|yellow|red, how far it has been escalated (0: not, 1: coordinators,
    # 2: the executive deputy director), and when the sweep must look at it next
    warning: Mapped[str] = mapped_column(sa.String(8), default="none")
    escalation: Mapped[int] = mapped_column(default=0)
    next_alert_at: Mapped[dt.datetime | None]
    due_note: Mapped[str | None] = mapped_column(sa.String(256))  # "calendar:YEAR": due in a provisional year


# Tasks without a due date rank after every dated one.
NEVER_DUE = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)


class TaskQueue(Base):
    """Open, unclaimed tasks per candidate group, most urgent first: a group's inbox page is
    an index range scan, whatever the number of open tasks.

    A row exists only while its task is open and nobody holds it."""

    __tablename__ = "task_queue"
    __table_args__ = {"sqlite_with_rowid": False}  # the primary key holds the rows: one b-tree less
    group_name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    rank_at: Mapped[dt.datetime] = mapped_column(primary_key=True)  # due_at, or NEVER_DUE
    created_at: Mapped[dt.datetime] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True, index=True)


class QueueCount(Base):
    """How many rows each group has in `task_queue`: the inbox's and the navigation bar's
    counts, read from one row rather than counted over a queue of tens of thousands.
    Whoever writes the queue adds what it changed here, in the same transaction
    (`engine.store.add_to_queue_counts`)."""

    __tablename__ = "queue_counts"
    group_name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    queued: Mapped[int] = mapped_column(default=0)


class Event(Base):
    """Audit trail: every action on a case (and every deployment), with actor and time."""

    __tablename__ = "events"
    __table_args__ = (sa.Index("ix_events_case", "case_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    task_id: Mapped[int | None]
    process_id: Mapped[str | None] = mapped_column(sa.String(128))
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(32))
    element_id: Mapped[str | None] = mapped_column(sa.String(128))
    detail: Mapped[dict | None] = mapped_column(sa.JSON)


class Pause(Base):
    """A stop of a case's clock (补正, 听证, 检验检测, 鉴定, 专家评审...), with its reason."""

    __tablename__ = "pauses"
    __table_args__ = (sa.Index("ix_pauses_case", "case_id", "started_at"),
                      sa.Index("ix_pauses_started", "started_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(sa.String(128))
    element_id: Mapped[str | None] = mapped_column(sa.String(128))
    started_at: Mapped[dt.datetime]
    started_by: Mapped[str] = mapped_column(sa.String(64))
    ended_at: Mapped[dt.datetime | None]
    ended_by: Mapped[str | None] = mapped_column(sa.String(64))
    working_seconds: Mapped[float | None]  # office time it lasted
    workdays: Mapped[int | None]  # what deadlines moved by (engine.calendar: whole working days)


class CalendarDay(Base):
    """The hall's override of one day: a working day (调休) or a closure."""

    __tablename__ = "calendar_days"
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    workday: Mapped[bool]
    note: Mapped[str | None] = mapped_column(sa.String(128))
    updated_by: Mapped[str] = mapped_column(sa.String(64))
    updated_at: Mapped[dt.datetime]


class CalendarYear(Base):
    """A year whose schedule the hall has entered in full (beyond what chinesecalendar knows):
    weekends off, its holidays and make-up days as calendar_days."""

    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    published_by: Mapped[str] = mapped_column(sa.String(64))
    published_at: Mapped[dt.datetime]


class CalendarRevision(Base):
    """Each change to the working calendar, numbered, with the calendar in force before it
    (what deadlines counted until then were counted with) and the first day it touched."""

    __tablename__ = "calendar_revisions"
    revision: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    since: Mapped[dt.date]
    before: Mapped[dict] = mapped_column(sa.JSON)  # {"overrides": {"YYYY-MM-DD": workday}, "years": [...]}
    changed_by: Mapped[str] = mapped_column(sa.String(64))
    changed_at: Mapped[dt.datetime]


class Accountability(Base):
    """审批问责: a late completion, an extension, a rejection or misconduct a complaint found
    (越权审批, 错批...: engine.deadlines.MISCONDUCT), and who answers for it."""

    __tablename__ = "accountability"
    __table_args__ = (sa.Index("ix_accountability_at", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int | None]
    kind: Mapped[str] = mapped_column(sa.String(16))  # late|extension|rejection|a misconduct (engine.deadlines)
    department: Mapped[str | None] = mapped_column(sa.String(64))
    person: Mapped[str | None] = mapped_column(sa.String(64))
    days_over: Mapped[float | None]  # late: working days begun after the deadline
    reason: Mapped[str | None] = mapped_column(sa.Text)
    granted_by: Mapped[str | None] = mapped_column(sa.String(64))  # extension: the coordinator
    days_granted: Mapped[int | None]  # extension: working days given
    at: Mapped[dt.datetime]


class Rating(Base):
    """好差评: a rating of a case's service at 受理 or at 办结 (一事多评), by its applicant (on
    the portal, over the API or on the window's 评价器) or recorded by a clerk at the window
    for a walk-in applicant. Apart from the case: a rating never holds a case open."""

    __tablename__ = "ratings"
    __table_args__ = (sa.Index("ix_ratings_case", "case_id", "id"), sa.Index("ix_ratings_at", "at"),
                      sa.Index("ix_ratings_window_at", "window", "at"),
                      # once at 受理 and once at 办结, whatever two requests do at the same moment
                      sa.Index("ux_ratings_case_stage", "case_id", "stage", unique=True,
                               **_only("stage <> 'rectified'")),
                      # the 差评 whose 差评整改 has not started (the sweep's few rows)
                      sa.Index("ix_ratings_unrectified", "id",
                               **_only("level <= 2 AND rectification_case_id IS NULL")),
                      sa.Index("ix_ratings_stats", "at", "level", "window", "item_id", "id"))  # the statistics
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(sa.String(16), server_default="completed")  # accepted|completed|rectified
    level: Mapped[int]  # 5 非常满意 .. 1 非常不满意; 1 and 2 are 差评
    # 服务态度, 服务质量, 服务水平, 廉洁从政, 行政效能 (engine.ratings.DIMENSIONS), each 1..5, when given
    dimensions: Mapped[dict | None] = mapped_column(sa.JSON)
    comment: Mapped[str | None] = mapped_column(sa.String(500))
    channel: Mapped[str] = mapped_column(sa.String(16))  # api | portal | counter | device
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[dt.datetime]
    # what was rated: the catalogue item, the window that took the case in, its staff (rating_staff)
    item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("catalogue_items.id", name="fk_ratings_item_id"))
    window: Mapped[str | None] = mapped_column(sa.String(64))
    # a 差评's 差评整改 case
    rectification_case_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("cases.id", ondelete="SET NULL", name="fk_ratings_rectification_case_id"))


class RatingStaff(Base):
    """The staff a rating rates: those who worked the case's tasks up to the stage rated."""

    __tablename__ = "rating_staff"
    __table_args__ = (sa.Index("ix_rating_staff_user", "user_id", "rating_id"),)
    rating_id: Mapped[int] = mapped_column(sa.ForeignKey("ratings.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class Incident(Base):
    """An automatic step of a case that failed (a timer's follow-up: a script error, a bad
    expression). The case stays at its last good state. The scheduler tries again with
    back-off (status retrying, `next_retry_at`); when the tries run out it waits for a
    person (open): retried, its data corrected, or the case terminated (resolved)."""

    __tablename__ = "incidents"
    __table_args__ = (sa.Index("ix_incidents_case", "case_id", "id"),
                      sa.Index("ix_incidents_unresolved", "process_id", "id", **_only("status <> 'resolved'")))
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    process_id: Mapped[str] = mapped_column(sa.String(128))
    element_id: Mapped[str | None] = mapped_column(sa.String(128))
    message: Mapped[str] = mapped_column(sa.Text)
    data: Mapped[dict | None] = mapped_column(sa.JSON)  # the case's data when it failed
    status: Mapped[str] = mapped_column(sa.String(16))  # retrying | open | resolved
    attempts: Mapped[int]
    opened_at: Mapped[dt.datetime]
    last_at: Mapped[dt.datetime]
    next_retry_at: Mapped[dt.datetime | None]
    resolved_at: Mapped[dt.datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(sa.String(64))
    resolution: Mapped[str | None] = mapped_column(sa.String(16))  # retried | corrected | terminated


class ExternalTask(Base):
    """The work of an external serviceTask of a case, for another system: its workers fetch
    and lock it by topic, then complete it or report a failure (engine.external). Open till
    then; after the last retry failed, an incident's."""

    __tablename__ = "external_tasks"
    __table_args__ = (sa.Index("ix_external_tasks_case", "case_id"),
                      sa.Index("ix_external_tasks_fetch", "topic", "id", **_only("status = 'open'")))
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    spiff_id: Mapped[str] = mapped_column(sa.String(36))
    process_id: Mapped[str] = mapped_column(sa.String(128))
    element_id: Mapped[str] = mapped_column(sa.String(128))
    topic: Mapped[str] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(sa.String(16))  # open | incident
    created_at: Mapped[dt.datetime]
    worker_id: Mapped[str | None] = mapped_column(sa.String(128))  # who holds the lock
    lock_expires_at: Mapped[dt.datetime | None]  # locked till then (or, after a failure, not fetched till then)
    retries: Mapped[int | None]  # what the worker said is left, after a failure
    error_message: Mapped[str | None] = mapped_column(sa.String(1000))


class Notification(Base):
    """An in-app message for one person (new task for their group, escalated to them,
    deadline tomorrow); e-mailed too when SMTP is configured."""

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user_unread", "user_id", "read_at", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(16))  # new_task|escalated|due_soon|overdue|supervision
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    task_id: Mapped[int | None]
    message: Mapped[str] = mapped_column(sa.String(512))
    created_at: Mapped[dt.datetime]
    read_at: Mapped[dt.datetime | None]
    emailed_at: Mapped[dt.datetime | None]
    texted_at: Mapped[dt.datetime | None]  # an applicant's, sent by SMS (engine.portal.Portal.send_texts)


class CatalogueItem(Base):
    """One version of an item of the service catalogue (事项目录): what the hall handles, on
    what terms (即办件 or 承诺件, the legal and the promised limit in working days, the
    materials, the fees) and by which process. Saving an item adds a version; a version is
    never changed, so a case keeps the terms it was accepted under."""

    __tablename__ = "catalogue_items"
    __table_args__ = (sa.UniqueConstraint("code", "version", name="uq_catalogue_items_code_version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[str] = mapped_column(sa.String(16))  # the window: domestic | foreign | construction | social
    departments: Mapped[list] = mapped_column(sa.JSON)
    kind: Mapped[str] = mapped_column(sa.String(16))  # immediate (即办件) | promised (承诺件)
    legal_days: Mapped[int]  # 法定时限, working days
    promised_days: Mapped[int]  # 承诺时限, working days; 0 for a 即办件
    materials: Mapped[list] = mapped_column(sa.JSON)
    fees: Mapped[list] = mapped_column(sa.JSON)  # [] is 免费
    place: Mapped[str] = mapped_column(sa.String(200))
    hours: Mapped[str] = mapped_column(sa.String(200))
    phone: Mapped[str] = mapped_column(sa.String(32))
    basis: Mapped[str] = mapped_column(sa.String(2000))  # 设定依据
    process_id: Mapped[str | None] = mapped_column(sa.String(128))
    online: Mapped[bool]  # may be filed online (网上预审)
    saved_at: Mapped[dt.datetime]
    saved_by: Mapped[str] = mapped_column(sa.String(64))


class CaseFile(Base):
    """A file of a case's materials (engine.materials): one version of one material, its bytes
    in the hall's file store under `storage_key`. Never changed: a new upload is a new version.
    A file uploaded to a draft (engine.portal) belongs to the draft until it is filed."""

    __tablename__ = "case_files"
    __table_args__ = (sa.UniqueConstraint("case_id", "material", "version", name="uq_case_files_material_version"),
                      sa.Index("ix_case_files_draft", "draft_id", **_only("draft_id IS NOT NULL")))
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    draft_id: Mapped[int | None] = mapped_column(sa.ForeignKey("drafts.id", ondelete="CASCADE"))
    material: Mapped[str] = mapped_column(sa.String(200))  # the item's material it is (or 其他材料)
    version: Mapped[int]
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(64))  # as read from its bytes
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(128))
    uploaded_by: Mapped[str] = mapped_column(sa.String(64))
    uploaded_at: Mapped[dt.datetime]


class Enterprise(Base):
    """An enterprise the hall serves (企业之家), by its 统一社会信用代码. It exists once it signs
    up, or once an agent files a case for it."""

    __tablename__ = "enterprises"
    id: Mapped[int] = mapped_column(primary_key=True)
    credit_code: Mapped[str] = mapped_column(sa.String(18), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    contact_name: Mapped[str | None] = mapped_column(sa.String(50))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    created_at: Mapped[dt.datetime]


class Draft(Base):
    """A filing not submitted yet: an item's start form as far as it is filled in, and the
    files uploaded with it. Submitting it starts the case and hands it the files."""

    __tablename__ = "drafts"
    __table_args__ = (sa.Index("ix_drafts_user", "user_id", "updated_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    enterprise_id: Mapped[int | None] = mapped_column(sa.ForeignKey("enterprises.id"))
    item_code: Mapped[str] = mapped_column(sa.String(32))
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class Consultation(Base):
    """网上咨询: a question about an item, and the answer of the item's window, kept together."""

    __tablename__ = "consultations"
    __table_args__ = (sa.Index("ix_consultations_asker", "asked_by_id", "id"),
                      sa.Index("ix_consultations_asked", "asked_at", "category", "item_code"),  # the statistics
                      sa.Index("ix_consultations_open", "category", "id", **_only("answered_at IS NULL")))
    id: Mapped[int] = mapped_column(primary_key=True)
    item_code: Mapped[str] = mapped_column(sa.String(32))
    category: Mapped[str] = mapped_column(sa.String(16))  # the item's window, which answers
    question: Mapped[str] = mapped_column(sa.String(2000))
    asked_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    asked_at: Mapped[dt.datetime]
    answer: Mapped[str | None] = mapped_column(sa.String(4000))
    answered_by: Mapped[str | None] = mapped_column(sa.String(64))
    answered_at: Mapped[dt.datetime | None]


class Notice(Base):
    """A printed notice (通知书) issued for a case (engine.notices): what it says, taken when the
    case reached it (in the same transaction), and its PDF in the file store once made (on
    first reading); neither changes afterwards."""

    __tablename__ = "notices"
    __table_args__ = (sa.Index("ix_notices_case", "case_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(16))  # receipt|supplement|refusal|completion
    title: Mapped[str] = mapped_column(sa.String(64))
    facts: Mapped[dict] = mapped_column(sa.JSON)  # the case as the notice tells it, when it was issued
    storage_key: Mapped[str | None] = mapped_column(sa.String(128))
    size: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(sa.String(64))
    issued_at: Mapped[dt.datetime]
    issued_by: Mapped[str] = mapped_column(sa.String(64))


class Complaint(Base):
    """意见建议 / 投诉: what a person raised (on the portal, at the counter, by phone, through
    the 驻厅监察 or at a 回访), and where its complaint case (process `complaint`) has got to:
    classified, given to a department, investigated, rectified, answered, closed. The case's
    own data is the record of each step; this row is what lists and rights read."""

    __tablename__ = "complaints"
    __table_args__ = (sa.Index("ix_complaints_entered_by", "entered_by_id", "status"),
                      sa.Index("ix_complaints_department", "department", "id"),
                      sa.Index("ix_complaints_status", "status", "id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    channel: Mapped[str] = mapped_column(sa.String(16))  # portal|counter|phone|supervision|visit
    kind: Mapped[str] = mapped_column(sa.String(16))  # suggestion|complaint|a misconduct kind; as classified
    subject: Mapped[str] = mapped_column(sa.String(100))
    content: Mapped[str] = mapped_column(sa.String(2000))
    contact_name: Mapped[str | None] = mapped_column(sa.String(50))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(20))
    entered_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))  # the enterprise's account, or staff
    enterprise_id: Mapped[int | None] = mapped_column(sa.ForeignKey("enterprises.id"))
    about_case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="SET NULL"))
    about_task_id: Mapped[int | None]  # the step complained of
    department: Mapped[str | None] = mapped_column(sa.String(64))  # the group that investigates
    status: Mapped[str] = mapped_column(sa.String(16))  # classify|investigate|rectify|reply|close|closed
    finding: Mapped[str | None] = mapped_column(sa.String(16))  # none | the misconduct kind found
    responsible: Mapped[str | None] = mapped_column(sa.String(64))  # who answers for it (谁审批谁负责)
    responsible_task_id: Mapped[int | None]
    reply: Mapped[str | None] = mapped_column(sa.String(2000))
    replied_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]


class VisitRound(Base):
    """A round of 回访 set up by 管理办: the enterprises served in a period, all or a sample."""

    __tablename__ = "visit_rounds"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(100))
    period_from: Mapped[dt.date]
    period_until: Mapped[dt.date]
    sample: Mapped[str] = mapped_column(sa.String(8))  # all|percent|count
    sample_size: Mapped[int | None]
    created_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime]


class Visit(Base):
    """One enterprise to call or visit in a round, with its return-visit case (process
    `return_visit`) and what the visit found."""

    __tablename__ = "visits"
    __table_args__ = (sa.UniqueConstraint("round_id", "enterprise_id", name="uq_visits_round_enterprise"),
                      sa.Index("ix_visits_served_at", "served_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("visit_rounds.id", ondelete="CASCADE"))
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("enterprises.id"))
    served_case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="SET NULL"))
    served_at: Mapped[dt.datetime]  # when that case was done: the period the visit counts in
    department: Mapped[str | None] = mapped_column(sa.String(64))  # the window that served it
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="SET NULL"), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16))  # open|reached|unreached
    attempts: Mapped[int] = mapped_column(default=0)
    satisfaction: Mapped[int | None]  # 5 非常满意 .. 1 非常不满意
    suggestion: Mapped[str | None] = mapped_column(sa.String(2000))
    complaint_id: Mapped[int | None] = mapped_column(sa.ForeignKey("complaints.id", ondelete="SET NULL"))
    visited_by: Mapped[str | None] = mapped_column(sa.String(64))
    visited_at: Mapped[dt.datetime | None]


class AssessmentScheme(Base):
    """百分考核: one version of the scheme (engine.assessment_scheme), never changed once saved:
    a published quarter names the version it was scored with."""

    __tablename__ = "assessment_schemes"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    body: Mapped[dict] = mapped_column(sa.JSON)  # {"categories": [...], "stars": {...}}
    saved_by: Mapped[str] = mapped_column(sa.String(64))
    saved_at: Mapped[dt.datetime]


class AssessmentEntry(Base):
    """A deduction (points < 0) or an addition to a window or a person, for an item of the
    百分考核, in a quarter not yet published, with its reason and evidence (a file in the
    hall's file store, as a case's materials)."""

    __tablename__ = "assessment_entries"
    __table_args__ = (sa.Index("ix_assessment_entries_quarter", "quarter", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    quarter: Mapped[str] = mapped_column(sa.String(8))  # 2026Q3
    item: Mapped[str] = mapped_column(sa.String(16))
    subject_kind: Mapped[str] = mapped_column(sa.String(8))  # window|person
    subject: Mapped[str] = mapped_column(sa.String(64))  # a group's name, a username
    points: Mapped[float]
    reason: Mapped[str] = mapped_column(sa.String(500))
    evidence_key: Mapped[str | None] = mapped_column(sa.String(128))
    evidence_name: Mapped[str | None] = mapped_column(sa.String(200))
    evidence_type: Mapped[str | None] = mapped_column(sa.String(64))
    evidence_size: Mapped[int | None] = mapped_column(sa.BigInteger)
    evidence_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    entered_by: Mapped[str] = mapped_column(sa.String(64))
    entered_at: Mapped[dt.datetime]


class AssessmentPublication(Base):
    """季公示: a quarter's scores as published, with their causes and its 星级 windows and staff,
    frozen; they change only by an adjustment."""

    __tablename__ = "assessment_publications"
    id: Mapped[int] = mapped_column(primary_key=True)
    quarter: Mapped[str] = mapped_column(sa.String(8), unique=True)
    scheme_id: Mapped[int] = mapped_column(sa.ForeignKey("assessment_schemes.id"))
    scores: Mapped[dict] = mapped_column(sa.JSON)  # {"windows": [...], "persons": [...], "stars": {...}}
    published_by: Mapped[str] = mapped_column(sa.String(64))
    published_at: Mapped[dt.datetime]


class AssessmentAdjustment(Base):
    """A change to a published score: who, why, when, how many points, to which item of whom."""

    __tablename__ = "assessment_adjustments"
    __table_args__ = (sa.Index("ix_assessment_adjustments_publication", "publication_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(sa.ForeignKey("assessment_publications.id", ondelete="CASCADE"))
    subject_kind: Mapped[str] = mapped_column(sa.String(8))
    subject: Mapped[str] = mapped_column(sa.String(64))
    item: Mapped[str] = mapped_column(sa.String(16))
    points: Mapped[float]
    reason: Mapped[str] = mapped_column(sa.String(500))
    adjusted_by: Mapped[str] = mapped_column(sa.String(64))
    adjusted_at: Mapped[dt.datetime]


class CaseMove(Base):
    """Running cases moved to another version of their process (engine.moves): what a process
    owner chose, and how far the move is. Its cases are `CaseMoveItem`s; the scheduler moves
    them while the move is running."""

    __tablename__ = "case_moves"
    __table_args__ = (sa.Index("ix_case_moves_process", "process_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(sa.String(128))
    from_version: Mapped[int | None]  # the cases of this version only; None: of every other version
    element_id: Mapped[str | None] = mapped_column(sa.String(128))  # only cases with a task or incident there
    to_version_id: Mapped[int] = mapped_column(sa.ForeignKey("process_versions.id"))
    to_version: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(16))  # running | paused | done | cancelled
    created_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]


class CaseMoveItem(Base):
    """One case of a move: pending, then moved, skipped (it cannot move, and why) or failed
    (the new version's next step failed: the case stays where it was). A worker holds the
    pending ones it took till `claimed_until`; after that another takes them."""

    __tablename__ = "case_move_items"
    __table_args__ = (sa.UniqueConstraint("move_id", "case_id"),
                      sa.Index("ix_case_move_items_status", "move_id", "status", "id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    move_id: Mapped[int] = mapped_column(sa.ForeignKey("case_moves.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(sa.String(16))  # pending | moved | skipped | failed
    reason: Mapped[str | None] = mapped_column(sa.String(1000))
    claimed_until: Mapped[dt.datetime | None]
    done_at: Mapped[dt.datetime | None]


class StatisticsMonth(Base):
    """A closed month's figures of one statistics source for one breakdown (engine.statistics),
    kept once nothing they count can change any more: `rows` is [[key, {figure: [value,
    per]}], ...]. A year's page sums twelve of these instead of reading its cases again."""

    __tablename__ = "statistics_months"
    month: Mapped[str] = mapped_column(sa.String(7), primary_key=True)  # YYYY-MM, the hall's time zone
    source: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    by: Mapped[str] = mapped_column(sa.String(16), primary_key=True)  # "" for the month's totals
    rows: Mapped[list] = mapped_column(sa.JSON)
    computed_at: Mapped[dt.datetime]
