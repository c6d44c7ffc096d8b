"""好差评: ratings of a case's service, kept apart from the case.

A case is rated at 受理 and at 办结 (一事多评): by its applicant on the portal or over the API,
on the 评价器 (a tablet at the window, signed in as the window's device, showing the case its
staff just handled), or by a clerk who records a walk-in applicant's rating. A rating names
the case, its catalogue item, the window that took it in and the staff who worked it. A
rating never holds a case open.

Every 差评 (不满意, 非常不满意) starts a 差评整改 case (processes/poor_rating.bpmn): the window
verifies it with the rater, rectifies, 管理办 reviews, and the rater is told the result and
may rate again ("rectified"). A finished case not rated three days after 办结 invites its
applicant to rate it."""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from engine import clock, db, history
from engine.errors import Conflict, Forbidden, HallError, Invalid
from engine.identity import SYSTEM, Actor, only_filer
from engine.models import Case, CatalogueItem, Enterprise, Rating, RatingStaff, Task, User, user_groups
from engine.portal import window_group
from engine.runtime import applicants
from engine.store import transaction

log = logging.getLogger("hall.ratings")

LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
POOR = (1, 2)  # 差评
DIMENSIONS = {"attitude": "服务态度", "quality": "服务质量", "competence": "服务水平", "integrity": "廉洁从政",
              "efficiency": "行政效能"}
STAGES = {"accepted": "受理", "completed": "办结", "rectified": "整改后"}
CHANNELS = ("api", "portal", "counter", "device")
COMMENT_CHARS = Rating.__table__.c.comment.type.length
RECTIFICATION = "poor_rating"  # the process every 差评 starts
RECTIFIER = "管理办"  # who rectifies a 差评 of a case no window took in
DEVICE_SHOWS = dt.timedelta(hours=2)  # a 评价器 shows the case its window handled within this long


class Ratings:
    def __init__(self, session, bind, runtime):
        self.session = session
        self.bind = bind
        self.runtime = runtime

    # rating -----------------------------------------------------------------------
    def rate(self, actor: Actor, case_id: int, level, comment: str | None = None, channel: str = "api",
             stage: str | None = None, dimensions: dict | None = None):
        """Rate a case at a stage (default: the first it may be rated at now): by its applicant,
        by hall staff recording it at the window (channel "counter"), or on the window's
        评价器 (a device account: the case its staff just handled, nothing else)."""
        if actor.is_device:
            shown = self.at_window(actor)
            if shown is None or shown.id != case_id:
                raise Forbidden("a rating device rates the case its window has just handled, no other")
            case, channel = self.runtime.case(case_id), "device"
        else:
            case = self.runtime.visible_case(actor, case_id)
            if actor.is_applicant_only:
                if channel not in ("api", "portal"):
                    raise Forbidden("only hall staff record ratings at the window")
            elif actor.has("staff", "coordinator", "director"):
                channel = "counter"
            else:
                raise Forbidden("ratings come from the applicant, or are recorded at the window")
        if not isinstance(level, int) or isinstance(level, bool) or level not in LEVELS:
            raise Invalid("level must be 1 (非常不满意) to 5 (非常满意)", {"level": ["1 to 5"]})
        dimensions = _dimensions(dimensions)
        comment = (comment or "").strip() or None
        if comment is not None and len(comment) > COMMENT_CHARS:
            raise Invalid(f"the comment is longer than {COMMENT_CHARS} characters", {"comment": ["too long"]})
        if stage is None:  # the stage the case waits to be rated at, else the one it is at
            stage = next(iter(self.open_stages(case)), "completed" if case.status == "completed" else "accepted")
        if stage not in STAGES:
            raise Invalid(f"stage must be one of {', '.join(STAGES)}", {"stage": [f"one of {', '.join(STAGES)}"]})
        now = clock.now()
        try:
            rating_id = self._insert(actor, case, stage, level, dimensions, comment, channel, now)
        except Exception as e:
            if not db.unique_violation(e):
                raise
            raise Conflict(f"case {case.number} is already rated at {STAGES[stage]}") from None
        if level in POOR:
            self._rectify(rating_id)
        return self.get(rating_id)

    def _insert(self, actor: Actor, case, stage: str, level: int, dimensions, comment, channel: str, now) -> int:
        case_id = case.id
        with db.write(self.session) as s:
            self._may_rate_at(s, case, stage)
            rating = Rating(case_id=case_id, stage=stage, level=level, dimensions=dimensions, comment=comment,
                            channel=channel, recorded_by_id=actor.id, at=now, item_id=case.item_id,
                            window=self._window(s, case))
            s.add(rating)
            s.flush()
            worked = sa.select(Task.completed_by_id).where(Task.case_id == case_id, Task.status == "completed")
            staff = [uid for uid, roles in s.execute(sa.select(User.id, User.roles).where(User.id.in_(worked)))
                     if not only_filer(roles)]
            if staff:
                s.execute(sa.insert(RatingStaff), [{"rating_id": rating.id, "user_id": uid} for uid in staff])
            if stage == "completed":  # rated: no invitation
                s.execute(sa.update(Case).where(Case.id == case_id).values(rate_invite_at=None))
            history.record(s, [history.event(case_id, actor.username, "rated", process_id=case.process_id, detail={
                "level": level, "label": LEVELS[level], "channel": channel, "stage": stage}, at=now)])
            return rating.id

    def _may_rate_at(self, s, case, stage: str) -> None:
        """A case is rated once at 受理 (once accepted), once at 办结 (once finished), and once
        again after each 差评整改 of it is reported back."""
        said = STAGES[stage]
        if stage == "completed" and case.status != "completed":
            raise Conflict(f"case {case.number} is not finished yet: it is rated once its result is issued")
        if stage == "accepted" and not self._accepted(case):
            raise Conflict(f"case {case.number} is not in hand after 受理: it is rated at 受理 once accepted, "
                           "till its result is issued")
        rated = s.scalar(sa.select(sa.func.count()).where(Rating.case_id == case.id, Rating.stage == stage))
        if stage == "rectified":
            if rated >= _reported(s, case.id):
                raise Conflict(f"case {case.number} has no 差评整改 reported back to rate")
        elif rated:
            raise Conflict(f"case {case.number} is already rated at {said}")

    def _accepted(self, case) -> bool:
        """Accepted (受理) and not finished: the moment to rate 受理."""
        accepted_at = self.runtime.repository.bundle(case.version_id).time_limit_from
        return case.status == "running" and accepted_at is not None and accepted_at in (case.visited or [])

    def open_stages(self, case) -> list[str]:
        """The stages the case may be rated at now (its page offers the first)."""
        rated = dict(self.session.execute(sa.select(Rating.stage, sa.func.count()).where(
            Rating.case_id == case.id).group_by(Rating.stage)).all())
        stages = []
        if self._accepted(case) and not rated.get("accepted"):
            stages.append("accepted")
        if case.status == "completed" and not rated.get("completed"):
            stages.append("completed")
        if rated.get("rectified", 0) < _reported(self.session, case.id):
            stages.append("rectified")
        self.session.rollback()
        return stages

    @staticmethod
    def _window(s, case) -> str | None:
        """The window that took the case in: its item's category's window, else the group of
        the first task worked at a window."""
        if case.item_id is not None:
            return window_group(s.scalar(sa.select(CatalogueItem.category).where(CatalogueItem.id == case.item_id)))
        for groups in s.scalars(sa.select(Task.candidate_groups).where(Task.case_id == case.id).order_by(Task.id)):
            for g in groups or []:
                if g.endswith("窗口"):
                    return g
        return None

    # 差评整改 ---------------------------------------------------------------------------
    def _rectify(self, rating_id: int) -> int | None:
        """Start the 差评整改 case of a 差评 and link it, in one transaction: a rating whose
        start fails (its process not deployed) is started by the next `rectify_pending`."""
        if self.runtime.repository.latest(RECTIFICATION, required=False) is None:
            log.warning("差评 %s waits: process %s is not deployed", rating_id, RECTIFICATION)
            return None
        self.session.rollback()
        r = self.session.execute(_ROWS.add_columns(Case.number, Case.enterprise_id, Case.title, Case.started_by_id,
                                                   Enterprise.contact_name, Enterprise.phone)
                                 .join(Case, Case.id == Rating.case_id)
                                 .outerjoin(Enterprise, Enterprise.id == Case.enterprise_id)
                                 .where(Rating.id == rating_id)).one()
        filer = self.session.scalar(sa.select(User.roles).where(User.id == r.started_by_id)) or ""
        self.session.rollback()
        aspects = "；".join(f"{DIMENSIONS[k]}：{LEVELS[n]}" for k, n in (r.dimensions or {}).items())
        data = {"rating": {"id": r.id, "case_id": r.case_id, "case_number": r.number, "case_title": r.title,
                           "stage": r.stage, "level": r.level, "label": LEVELS[r.level], "comment": r.comment,
                           "dimensions": r.dimensions, "channel": r.channel, "window": r.window,
                           "aspects": aspects,
                           "contact_name": r.contact_name, "contact_phone": r.phone, "at": r.at.isoformat()},
                "window": r.window or RECTIFIER}

        def link(st, case_id):
            if not st.link_rectification(rating_id, case_id):
                raise Conflict(f"rating {rating_id} has its 差评整改 already")
            return case_id

        try:
            # the 整改 is the rated case's applicant's to follow: its filer, its enterprise
            return self.runtime.start(SYSTEM, RECTIFICATION, data, read=link, enterprise_id=r.enterprise_id,
                                      applicant_id=r.started_by_id if only_filer(filer) else None)
        except HallError as e:
            log.warning("差评 %s: 差评整改 not started: %s", rating_id, e.message)
            return None

    def rectify_pending(self, limit: int = 100) -> int:
        """Start the 差评整改 of every 差评 without one (its start failed, or its process was
        deployed since). Returns how many were started."""
        if self.runtime.repository.latest(RECTIFICATION, required=False) is None:
            self.session.rollback()
            return 0  # its ratings wait till it is deployed
        pending = self.session.scalars(sa.select(Rating.id).where(
            Rating.level <= max(POOR), Rating.rectification_case_id.is_(None)).order_by(Rating.id).limit(limit)).all()
        self.session.rollback()
        return sum(self._rectify(rid) is not None for rid in pending)

    # invitations ----------------------------------------------------------------------
    def invite(self, limit: int = 500) -> int:
        """Invite the applicants of finished cases not rated three days after 办结 to rate
        them, once: each case is taken by one node (its time cleared) with its notifications."""
        now = clock.now()
        due = self.session.scalars(sa.select(Case.id).where(Case.rate_invite_at <= now)
                                   .order_by(Case.rate_invite_at).limit(limit)).all()
        self.session.rollback()
        sent = 0
        for case_id in due:
            with transaction(self.session, self.bind) as st:
                if not st.take_rate_invitation(case_id):
                    continue  # another node took it, or it was rated meanwhile
                case = st.case_view(case_id)
                said = f"办件 {case.number} 已办结，请您评价我们的服务"
                st.insert_notifications([{"user_id": uid, "kind": "applicant", "case_id": case_id, "task_id": None,
                                          "message": said, "created_at": now} for uid in applicants(st, case)])
                sent += 1
        return sent

    # the 评价器 ---------------------------------------------------------------------------
    def at_window(self, actor: Actor):
        """The case a device's window has just handled: the latest task its staff completed
        in the last two hours, of a case of the catalogue. None: nothing to rate."""
        if not actor.is_device:
            raise Forbidden("only a window's rating device shows the case just handled")
        staff = sa.select(user_groups.c.user_id).where(user_groups.c.group_name.in_(sorted(actor.groups)))
        row = self.session.execute(
            sa.select(Task.case_id).join(Case, Case.id == Task.case_id)
            .where(Task.completed_by_id.in_(staff), Task.completed_at >= clock.now() - DEVICE_SHOWS,
                   Case.item_id.is_not(None), Case.status.in_(("running", "completed")))
            .order_by(Task.completed_at.desc()).limit(1)).first()
        self.session.rollback()
        return self.runtime.case(row.case_id) if row else None

    def rated_stages(self, case_id: int) -> set[str]:
        """The stages a case has been rated at (a device asks, having no sight of the ratings)."""
        stages = set(self.session.scalars(sa.select(Rating.stage.distinct()).where(Rating.case_id == case_id)))
        self.session.rollback()
        return stages

    # reading ----------------------------------------------------------------------------
    def get(self, rating_id: int):
        return self.session.execute(_ROWS.where(Rating.id == rating_id)).one()

    def of_case(self, actor: Actor, case_id: int) -> list:
        self.runtime.visible_case(actor, case_id)
        return list(self.session.execute(_ROWS.where(Rating.case_id == case_id).order_by(Rating.id)))

    def listing(self, actor: Actor, window: str | None = None, poor_only: bool = False,
                since: dt.date | None = None, until: dt.date | None = None, page: int = 1, per_page: int = 50):
        """Ratings, newest first, for 管理办, the director and the supervisor: with each 差评's
        整改 case and its state, and the period's 差评整改率 (差评 whose 整改 is reported back
        over all 差评). Returns (rows, total, figures)."""
        if not actor.has("coordinator", "director", "supervisor"):
            raise Forbidden("ratings are read by 管理办, the director and the supervisor")
        fix = aliased(Case)
        q = _ROWS.add_columns(Case.number.label("case_number"), fix.number.label("rectification_number"),
                              fix.status.label("rectification_status")) \
            .join(Case, Case.id == Rating.case_id).outerjoin(fix, fix.id == Rating.rectification_case_id)
        where = []
        if window:
            where.append(Rating.window == window)
        if since:
            where.append(Rating.at >= dt.datetime.combine(since, dt.time(), clock.HALL_TZ))
        if until:
            where.append(Rating.at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), clock.HALL_TZ))
        poor = Rating.level.in_(POOR)
        figures = self.session.execute(
            sa.select(sa.func.count(), sa.func.count().filter(poor),
                      sa.func.count().filter(poor, fix.status == "completed"),
                      sa.func.count().filter(Rating.level >= 3))
            .select_from(Rating).outerjoin(fix, fix.id == Rating.rectification_case_id).where(*where)).one()
        if poor_only:
            where.append(poor)
        total = self.session.scalar(sa.select(sa.func.count()).select_from(Rating).where(*where))
        rows = self.session.execute(q.where(*where).order_by(Rating.id.desc()).limit(per_page)
                                    .offset((page - 1) * per_page)).all()
        ratings, poor_n, fixed, satisfied = figures
        return rows, total, {"ratings": ratings, "poor": poor_n, "rectified": fixed,
                             "rectification_rate": fixed / poor_n if poor_n else None,
                             "satisfaction_rate": satisfied / ratings if ratings else None}


def _reported(s, case_id: int) -> int:
    """How many 差评整改 of the case are reported back to the rater (finished)."""
    return s.scalar(sa.select(sa.func.count()).select_from(Rating).join(
        Case, Case.id == Rating.rectification_case_id).where(Rating.case_id == case_id, Case.status == "completed"))


def _dimensions(given) -> dict | None:
    """The five dimensions' levels a rater gave (any of them), each 1..5."""
    if given is None or given == {}:
        return None
    if not isinstance(given, dict):
        raise Invalid("dimensions must be an object of levels", {"dimensions": ["an object"]})
    for key, value in given.items():
        if key not in DIMENSIONS:
            raise Invalid(f"dimensions: no dimension '{str(key)[:40]}' (one of {', '.join(DIMENSIONS)})",
                          {"dimensions": [f"one of {', '.join(DIMENSIONS)}"]})
        if not isinstance(value, int) or isinstance(value, bool) or value not in LEVELS:
            raise Invalid(f"dimensions.{key} must be 1 to 5", {f"dimensions.{key}": ["1 to 5"]})
    return {k: given[k] for k in DIMENSIONS if k in given}


_ROWS = sa.select(Rating.id, Rating.case_id, Rating.stage, Rating.level, Rating.dimensions, Rating.comment,
                  Rating.channel, Rating.at, Rating.window, Rating.item_id, Rating.rectification_case_id,
                  User.username.label("recorded_by"), User.display_name.label("recorded_by_name")) \
    .outerjoin(User, User.id == Rating.recorded_by_id)
