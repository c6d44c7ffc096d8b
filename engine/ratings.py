"""好差评: ratings of a case's service, kept apart from the case.

A case is 办结 when its result is issued; its applicant rates it afterwards (on the portal
or over the API), or a clerk records the rating of a walk-in applicant at the window. A
rating never holds a case open."""

from __future__ import annotations

import sqlalchemy as sa

from engine import clock, db, history
from engine.errors import Conflict, Forbidden, Invalid
from engine.identity import Actor
from engine.models import Rating, User

LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
POOR = (1, 2)  # 差评
COMMENT_CHARS = Rating.__table__.c.comment.type.length


class Ratings:
    def __init__(self, session, runtime):
        self.session = session
        self.runtime = runtime

    def rate(self, actor: Actor, case_id: int, level, comment: str | None = None, channel: str = "api"):
        """Record a rating of a finished case: by its applicant, or by hall staff at the
        window (channel "counter") for an applicant who rates there."""
        case = self.runtime.visible_case(actor, case_id)
        if actor.is_applicant_only:
            if channel == "counter":
                raise Forbidden("only hall staff record ratings at the window")
        elif actor.has("staff", "coordinator", "director"):
            channel = "counter"
        else:
            raise Forbidden("ratings come from the applicant, or are recorded at the window")
        if not isinstance(level, int) or isinstance(level, bool) or level not in LEVELS:
            raise Invalid("level must be 1 (非常不满意) to 5 (非常满意)", {"level": ["1 to 5"]})
        comment = (comment or "").strip() or None
        if comment is not None and len(comment) > COMMENT_CHARS:
            raise Invalid(f"the comment is longer than {COMMENT_CHARS} characters", {"comment": ["too long"]})
        if case.status != "completed":
            raise Conflict(f"case {case.number} is not finished yet: it is rated once its result is issued")
        now = clock.now()
        with db.write(self.session) as s:
            rating = Rating(case_id=case_id, level=level, comment=comment, channel=channel, recorded_by_id=actor.id,
                            at=now)
            s.add(rating)
            s.flush()
            history.record(s, [history.event(case_id, actor.username, "rated", process_id=case.process_id,
                                             detail={"level": level, "label": LEVELS[level], "channel": channel},
                                             at=now)])
            rating_id = rating.id
        return self.get(rating_id)

    def get(self, rating_id: int):
        return self.session.execute(_ROWS.where(Rating.id == rating_id)).one()

    def of_case(self, actor: Actor, case_id: int) -> list:
        self.runtime.visible_case(actor, case_id)
        return list(self.session.execute(_ROWS.where(Rating.case_id == case_id).order_by(Rating.id)))


_ROWS = sa.select(Rating.id, Rating.case_id, Rating.level, Rating.comment, Rating.channel, Rating.at,
                  User.username.label("recorded_by"), User.display_name.label("recorded_by_name")) \
    .outerjoin(User, User.id == Rating.recorded_by_id)
