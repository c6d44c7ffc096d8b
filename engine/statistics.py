"""The hall's figures (统计): what its annual report opens with, for any period, broken down by
department, window category, item, staff member or month.

Every figure is one entry of FIGURES: its label, the source it counts (a table, the time that
puts a row in a period, and how each breakdown keys a row) and its aggregate in SQL. The
figures of one source are computed together, one GROUP BY query per source over the period's
rows (read through an index on the source's time), never by loading cases. A later figure
(回访, complaints) is one entry, with its source when its table is new.

Periods are days in the hall's time zone (Asia/Shanghai); stored times are UTC.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa

from engine import clock, complaints, db, exports, ratings, visits, xlsx
from engine.catalogue import CATEGORIES
from engine.errors import Forbidden, Invalid
from engine.identity import Actor
from engine.models import (
    Accountability,
    Case,
    CatalogueItem,
    Complaint,
    Consultation,
    Group,
    Pause,
    Rating,
    RatingStaff,
    StatisticsMonth,
    Task,
    User,
    Visit,
)

READERS = ("director", "coordinator", "supervisor")  # 常务副主任, 管理办, 驻厅监察
MAX_DAYS = 3 * 366  # a period is at most three years: what one request may make the database read
MAX_EXPORT_ROWS = 1_000_000  # a spreadsheet holds 1,048,576 rows
DIMENSIONS = {"department": "部门", "category": "窗口类别", "item": "办理事项", "staff": "工作人员", "month": "月份"}
NO_KEY = "—"

# The hall's own diagrams name the outcomes the report counts by the end event reached.
AGENCY = ("green_channel", "end_done")  # 全程代理: the chief service desk's agent carried it to 办结
BIG_PROJECT = ("big_project", "project_completed")  # 大项目三级联动 办结
RETAINED = ("enterprise_exit", "end_retained")  # 迁出挽留成功
# New enterprises (新设企业) are the completed, not refused, cases of the catalogue's 设立登记 items:
# the registration is the case, its one form holds the registered capital (万元) and its item
# says 内资 or 外资. Kept once, there, rather than copied onto `enterprises` (whose rows are
# accounts of 企业之家, made when an enterprise signs up, not when it is registered).
ESTABLISHING = "%设立登记%"
# The hall's own feedback loops run as cases too (差评整改, 意见建议/投诉, 回访): they are counted
# as what they are (ratings, complaints, visits), not as 办件 received and accepted.
FEEDBACK = (ratings.RECTIFICATION, complaints.PROCESS, visits.PROCESS)

_C = Case.__table__
_I = CatalogueItem.__table__.alias("item")
_A = Accountability.__table__
_T = Task.__table__
_P = Pause.__table__
_R = Rating.__table__
_Q = Consultation.__table__
_U = User.__table__.alias("person")
_RS = RatingStaff.__table__
_CP = Complaint.__table__
_V = Visit.__table__
_FIX = Case.__table__.alias("fix")  # a 差评's 差评整改 case
_REPLY = Task.__table__.alias("reply")  # a complaint's 答复 step


def _when(condition, value=1):
    return sa.case((condition, value), else_=0)


@dataclass(frozen=True)
class Period:
    first: dt.date  # the first day, in the hall's time zone
    last: dt.date  # the last day, included
    name: str  # how it was asked for: 2026, 2026-Q1, 2026-03 or 2026-01-01..2026-06-30

    @property
    def since(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time(), clock.HALL_TZ).astimezone(dt.UTC)

    @property
    def until(self) -> dt.datetime:
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), clock.HALL_TZ).astimezone(dt.UTC)

    @classmethod
    def month(cls, label: str) -> Period:
        """The month YYYY-MM."""
        first = dt.date.fromisoformat(label + "-01")
        return cls(first, (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1), label)

    def parts(self) -> list[tuple[str, Period, bool]]:
        """(YYYY-MM, the part of the period in that month, whether it is the whole month) of
        each month the period touches."""
        out = []
        for label, _ in self.months():
            month = Period.month(label)
            part = Period(max(self.first, month.first), min(self.last, month.last), label)
            out.append((label, part, (part.first, part.last) == (month.first, month.last)))
        return out

    def months(self) -> list[tuple[str, dt.datetime]]:
        """(YYYY-MM, when it starts, UTC) of each month the period touches; its first starts with the period."""
        out, day = [], self.first
        while day <= self.last:
            out.append((day.strftime("%Y-%m"), dt.datetime.combine(day, dt.time(), clock.HALL_TZ).astimezone(dt.UTC)))
            day = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        return out


_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.I)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def period(name: str | None = None, first: dt.date | str | None = None, last: dt.date | str | None = None) -> Period:
    """A period by name (2026, 2026-Q1, 2026-03) or from `first` to `last` (days, included);
    without either, the current year."""
    if first is not None or last is not None:
        if first is None or last is None:
            missing = "from" if first is None else "to"
            raise Invalid("a period from one day to another needs both 'from' and 'to'", {missing: ["required"]})
        a, b = _day(first, "from"), _day(last, "to")
        if b < a:
            raise Invalid("the period ends before it starts", {"to": ["on or after 'from'"]})
        if (b - a).days + 1 > MAX_DAYS:
            raise Invalid(f"a period is at most {MAX_DAYS} days (three years)", {"to": [f"at most {MAX_DAYS} days"]})
        return Period(a, b, f"{a.isoformat()}..{b.isoformat()}")
    name = (name or str(clock.local_now().year)).strip()
    year = quarter = month = None
    if m := _YEAR.match(name):
        year = int(m.group(1))
    elif m := _QUARTER.match(name):
        year, quarter = int(m.group(1)), int(m.group(2))
    elif m := _MONTH.match(name):
        year, month = int(m.group(1)), int(m.group(2))
    if year is None or not clock.FIRST_DAY.year <= year <= clock.LAST_DAY.year or (month and not 1 <= month <= 12):
        raise Invalid(f"period '{name[:40]}' is not a year (2026), a quarter (2026-Q1) or a month (2026-03) "
                      f"from {clock.FIRST_DAY.year} to {clock.LAST_DAY.year}", {"period": ["YYYY, YYYY-Qn or YYYY-MM"]})
    if quarter:
        a = dt.date(year, 3 * quarter - 2, 1)
        b = (a + dt.timedelta(days=95)).replace(day=1) - dt.timedelta(days=1)
        return Period(a, b, f"{year}-Q{quarter}")
    if month:
        a = dt.date(year, month, 1)
        return Period(a, (a + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1), f"{year}-{month:02d}")
    return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), str(year))


def _day(value, name: str) -> dt.date:
    if isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value)[:10]) if len(str(value)) == 10 else None
        except ValueError:
            day = None
        if day is None:
            raise Invalid(f"'{name}' must be a day (YYYY-MM-DD)", {name: ["a day, YYYY-MM-DD"]})
    if not clock.FIRST_DAY <= day <= clock.LAST_DAY:
        raise Invalid(f"'{name}' must lie between {clock.FIRST_DAY} and {clock.LAST_DAY}", {name: ["out of range"]})
    return day


# --- sources: what a figure counts -----------------------------------------------------

@dataclass(frozen=True)
class Source:
    """Rows a figure counts: `table(by)` (what to join for that breakdown), `at` (the time that
    puts a row in a period: an indexed column), `where` (what every row must be), and for each
    breakdown the expression that keys a row (a breakdown the source lacks leaves its figures out)."""

    table: Callable[[str | None], object]
    at: object
    keys: dict[str, object]
    where: tuple = ()
    # the breakdowns that put each thing the figures count in one row only: the period's
    # figures are then the rows' sums, not another query (a case has one item and one time
    # received; a rating of several staff is in several staff rows, a case paused twice may be
    # in two months)
    partition: tuple[str, ...] = ()


def _case_keys(**more) -> dict:
    return {"category": _I.c.category, "item": _I.c.code, **more}


_WITH_ITEM = _C.outerjoin(_I, _I.c.id == _C.c.item_id)


def _of_cases(table, by: str | None):
    """Rows that name a case (`case_id`): the case and its item joined when the breakdown is by them."""
    if by in ("category", "item"):
        return table.join(_C, _C.c.id == table.c.case_id).outerjoin(_I, _I.c.id == _C.c.item_id)
    return table


def _unindexed(column):
    """`column || ''`: the same value, but one SQLite does not look up by an index. Without
    statistics SQLite's planner would rather read every completed task (or case) by its status
    index than the period's rows by their time; this leaves it the index on the time."""
    return column.concat("")


_SERVICE = (_C.c.process_id.not_in(FEEDBACK),)  # the hall's 办件
_ONE_CASE = ("category", "item", "month")
_GROUPS = sa.func.coalesce(sa.func.nullif(sa.cast(_T.c.candidate_groups, sa.Text), "[]"), _T.c.lane)
SOURCES: dict[str, Source] = {
    "consultations": Source(lambda by: _Q, _Q.c.asked_at, {"category": _Q.c.category, "item": _Q.c.item_code},
                            partition=("category", "item", "month")),
    "received": Source(lambda by: _WITH_ITEM, _C.c.created_at, _case_keys(), _SERVICE, _ONE_CASE),
    "accepted": Source(lambda by: _WITH_ITEM, _C.c.accepted_at, _case_keys(), _SERVICE, _ONE_CASE),
    "ended": Source(lambda by: _WITH_ITEM, _C.c.ended_at, _case_keys(), _SERVICE, _ONE_CASE),
    "rejections": Source(lambda by: _of_cases(_A, by).outerjoin(_U, _U.c.username == _A.c.person) if by == "staff"
                         else _of_cases(_A, by), _A.c.at, _case_keys(department=_A.c.department, staff=_U.c.id),
                         (_A.c.kind == "rejection",)),
    # the departments' and the staff's work (a case's category and item are the cases' figures)
    "tasks": Source(lambda by: _T, _T.c.completed_at, {"department": _GROUPS, "staff": _T.c.completed_by_id},
                    (_unindexed(_T.c.status) == "completed",), ("department", "staff", "month")),
    "pauses": Source(lambda by: _of_cases(_P, by), _P.c.started_at, _case_keys(reason=_P.c.reason),
                     partition=("category", "item")),
    # a rating names what it rates: the item, the window, the staff (rating_staff)
    "ratings": Source(lambda by: _R.outerjoin(_RS, _RS.c.rating_id == _R.c.id) if by == "staff"
                      else _R.outerjoin(_I, _I.c.id == _R.c.item_id) if by in ("category", "item") else _R,
                      _R.c.at, _case_keys(department=_R.c.window, staff=_RS.c.user_id),
                      partition=("department", "category", "item", "month")),
    "established": Source(lambda by: _C.join(_I, _I.c.id == _C.c.item_id), _C.c.ended_at, _case_keys(), (
        _unindexed(_C.c.status) == "completed", _I.c.name.like(ESTABLISHING),
        ~sa.exists().where(_A.c.case_id == _C.c.id, _A.c.kind == "rejection")), _ONE_CASE),
    # 意见建议 and 投诉 by when they were raised, with their case (what the investigation found)
    "complaints": Source(lambda by: _CP.join(_C, _C.c.id == _CP.c.case_id), _CP.c.created_at,
                         {"department": _CP.c.department, "kind": _CP.c.kind},
                         partition=("department", "kind", "month")),
    # 回访 by when the case it follows was done, as engine.visits counts 回访率
    "visits": Source(lambda by: _V, _V.c.served_at, {"department": _V.c.department},
                     partition=("department", "month")),
}

# --- figures -----------------------------------------------------------------------------

_done = (_C.c.status == "completed") & _C.c.accepted_at.is_not(None)
_agency = (_C.c.process_id == AGENCY[0]) & (_C.c.end_element == AGENCY[1])
_capital = _C.c.data[("enterprise", "registered_capital")].as_float()
_poor = _R.c.level <= max(ratings.POOR)
_rectified = sa.exists().where(_FIX.c.id == _R.c.rectification_case_id, _FIX.c.status == "completed")
_replied = sa.exists().where(_REPLY.c.case_id == _CP.c.case_id, _REPLY.c.element_id == "reply",
                             _REPLY.c.status == "completed")
_replied_on_time = _replied.where(_REPLY.c.completed_at <= _REPLY.c.due_at)
_reached = _V.c.status == "reached"


@dataclass(frozen=True)
class Figure:
    """One figure: `value` is an aggregate over its source's rows; with `per`, the figure is
    value / per (a rate, an average), else the value itself (a count, a sum)."""

    key: str
    label: str
    source: str
    value: Callable[[], object]
    per: Callable[[], object] | None = None
    unit: str = "count"  # count | percent | days | money (万元)
    headline: bool = True  # shown among the report's opening figures
    breakdowns: tuple[str, ...] | None = None  # None: every breakdown its source has


def _count():
    return sa.func.count()


FIGURES: list[Figure] = [
    Figure("consultations", "咨询量", "consultations", _count),
    Figure("received", "收件", "received", _count),
    Figure("accepted", "受理", "accepted", _count),
    Figure("refused", "不予受理/不予许可", "rejections", lambda: sa.func.count(sa.distinct(_A.c.case_id))),
    Figure("withdrawn", "撤回", "ended", lambda: sa.func.sum(_when(_C.c.status == "withdrawn"))),
    Figure("completed", "办结", "ended", lambda: sa.func.sum(_when(_done))),
    Figure("completion_rate", "办结率", "accepted", lambda: sa.func.sum(_when(_C.c.status == "completed")), _count,
           unit="percent"),
    Figure("on_time_rate", "按时办结率", "ended",
           lambda: sa.func.sum(_when(_done & _C.c.due_at.is_not(None) & (_C.c.ended_at <= _C.c.due_at))),
           lambda: sa.func.sum(_when(_done & _C.c.due_at.is_not(None))), unit="percent"),
    Figure("average_workdays", "平均办理工作日", "ended", lambda: sa.func.sum(sa.case((_done, _C.c.workdays_taken))),
           lambda: sa.func.count(sa.case((_done, _C.c.workdays_taken))), unit="days"),
    Figure("immediate_share", "即办件占比", "accepted", lambda: sa.func.sum(_when(_I.c.kind == "immediate")), _count,
           unit="percent"),
    Figure("agency", "全程代理办结", "ended", lambda: sa.func.sum(_when(_agency))),
    Figure("agency_workdays", "全程代理平均工作日", "ended",
           lambda: sa.func.sum(sa.case((_agency, _C.c.workdays_taken))),
           lambda: sa.func.count(sa.case((_agency, _C.c.workdays_taken))), unit="days"),
    Figure("paused", "暂停计时办件", "pauses", lambda: sa.func.count(sa.distinct(_P.c.case_id))),
    Figure("new_enterprises", "新设企业", "established", _count),
    Figure("new_domestic", "新设内资企业", "established", lambda: sa.func.sum(_when(_I.c.category == "domestic"))),
    Figure("new_foreign", "新设外资企业", "established", lambda: sa.func.sum(_when(_I.c.category == "foreign"))),
    Figure("registered_capital", "注册资本（万元）", "established", lambda: sa.func.sum(_capital), unit="money"),
    Figure("satisfaction", "满意率", "ratings", lambda: sa.func.count(sa.distinct(sa.case((_R.c.level >= 3, _R.c.id)))),
           lambda: sa.func.count(sa.distinct(_R.c.id)), unit="percent"),
    Figure("poor_ratings", "差评", "ratings", lambda: sa.func.count(sa.distinct(sa.case((_R.c.level <= 2, _R.c.id))))),
    Figure("rectification_rate", "差评整改率", "ratings",
           lambda: sa.func.count(sa.distinct(sa.case((_poor & _rectified, _R.c.id)))),
           lambda: sa.func.count(sa.distinct(sa.case((_poor, _R.c.id)))), unit="percent"),
    Figure("visits_planned", "回访计划", "visits", _count),
    Figure("visits_reached", "回访企业", "visits", lambda: sa.func.sum(_when(_reached))),
    Figure("visit_rate", "回访率", "visits", lambda: sa.func.sum(_when(_reached)), _count, unit="percent"),
    Figure("visit_satisfaction", "回访满意率", "visits",
           lambda: sa.func.sum(_when(_reached & (_V.c.satisfaction >= 3))),
           lambda: sa.func.sum(_when(_reached & _V.c.satisfaction.is_not(None))), unit="percent"),
    Figure("complaints", "意见建议和投诉", "complaints", _count),
    Figure("suggestions", "其中意见建议", "complaints", lambda: sa.func.sum(_when(_CP.c.kind == "suggestion"))),
    Figure("grievances", "其中投诉", "complaints", lambda: sa.func.sum(_when(_CP.c.kind != "suggestion"))),
    Figure("substantiated", "投诉属实", "complaints",
           lambda: sa.func.sum(_when(_C.c.data["substantiated"].as_boolean().is_(True)))),
    Figure("replied_on_time_rate", "按时答复率", "complaints", lambda: sa.func.sum(_when(_replied_on_time)),
           lambda: sa.func.sum(_when(_replied)), unit="percent"),
    Figure("big_projects", "大项目三级联动办结", "ended",
           lambda: sa.func.sum(_when((_C.c.process_id == BIG_PROJECT[0]) & (_C.c.end_element == BIG_PROJECT[1])))),
    Figure("retained", "迁出挽留成功", "ended",
           lambda: sa.func.sum(_when((_C.c.process_id == RETAINED[0]) & (_C.c.end_element == RETAINED[1])))),
    Figure("tasks_done", "办理环节", "tasks", _count, headline=False),
    Figure("tasks_on_time_rate", "环节按时率", "tasks",
           lambda: sa.func.sum(_when(_T.c.due_at.is_not(None) & (_T.c.completed_at <= _T.c.due_at))),
           lambda: sa.func.sum(_when(_T.c.due_at.is_not(None))), unit="percent", headline=False),
]
FIGURE = {f.key: f for f in FIGURES}

# The sources whose closed months are kept (statistics_months) once nothing they count can change:
# their rows are put in a month by when they happen (a case received, accepted, ended, a task
# done, a rating given) and do not change afterwards, but for a case accepted and still running
# (办结率 counts it when it completes) and a 差评 whose 差评整改 is not done (差评整改率):
# a month holding one of those is read, not kept, till it settles (UNSETTLED). Rejections and
# pauses count distinct cases over the period, not a sum of months; complaints and visits
# change for weeks and are few: those four are always read.
KEPT = ("consultations", "received", "accepted", "ended", "tasks", "ratings", "established")
UNSETTLED = {
    "accepted": (_C.c.accepted_at, _C.c.status == "running"),
    "ratings": (_R.c.at, _poor & ~_rectified),
}
TREND = ("received", "accepted", "completed")  # the month-by-month chart


@dataclass
class Row:
    key: object
    label: str
    values: dict[str, float | int | None] = field(default_factory=dict)
    sums: dict[str, list] = field(default_factory=dict, repr=False)  # each figure's value and per, summed


@dataclass
class Report:
    period: Period
    by: str | None
    figures: list[Figure]  # those the table's rows have (all of them without a breakdown)
    totals: dict[str, float | int | None]
    rows: list[Row]
    trend: list[Row]  # month by month: received, accepted, completed
    pause_reasons: list[tuple[str, int]]
    complaint_kinds: list[tuple[str, int]]  # 意见建议, 投诉 and the misconduct kinds, as classified


class Statistics:
    def __init__(self, session):
        self.session = session

    # --- what the pages and the API ask -------------------------------------------------
    def report(self, actor: Actor, of: Period, by: str | None = None) -> Report:
        """The period's figures; with `by`, row by row for that breakdown too."""
        self._may_read(actor)
        if by is not None and by not in DIMENSIONS:
            raise Invalid(f"by must be one of {', '.join(DIMENSIONS)}", {"by": [f"one of {', '.join(DIMENSIONS)}"]})
        shown = _shown(by) if by is not None else FIGURES
        rows = self._rows(of, by, shown) if by is not None else []
        # the month by month chart, with all the figures of its sources: the period's are their sums
        months = rows if by == "month" else self._rows(of, "month", [f for f in FIGURES if f.source in _TRENDED])
        totals: dict = {}
        for grouped, key in ((rows, by), (months, "month")):
            exact = [f for f in FIGURES if key in SOURCES[f.source].partition and f.key not in totals]
            totals.update(_summed(grouped, exact))
        totals.update(self.figures(of, [f for f in FIGURES if f.key not in totals]))
        totals = {f.key: totals[f.key] for f in FIGURES}
        rows = self._shape(of, by, rows, shown) if by is not None else []
        trend = self._shape(of, "month", months, [FIGURE[k] for k in TREND])
        reasons = self.breakdown(of, "reason", [FIGURE["paused"]])
        kinds = self.breakdown(of, "kind", [FIGURE["complaints"]])
        return Report(of, by, shown, totals, rows, trend,
                      sorted(((r.label, r.values["paused"] or 0) for r in reasons), key=lambda r: -r[1]),
                      sorted(((complaints.KINDS.get(r.key, r.label), r.values["complaints"] or 0) for r in kinds),
                             key=lambda r: -r[1]))

    def figures(self, of: Period, figures: list[Figure] = FIGURES) -> dict:
        """The period's figures, all rows together."""
        (row,) = self._rows(of, None, figures) or [Row(None, "")]
        return {f.key: row.values.get(f.key, 0 if f.per is None else None) for f in figures}

    def breakdown(self, of: Period, by: str, figures: list[Figure] = FIGURES) -> list[Row]:
        """The period's figures for each department, category, item, staff member or month."""
        return self._shape(of, by, self._rows(of, by, figures), figures)

    def _shape(self, of: Period, by: str, rows: list[Row], figures: list[Figure]) -> list[Row]:
        """Rows as shown: labelled, each with `figures` (every month of the period, in order)."""
        if by == "month":
            months = {k: Row(k, k) for k, _ in of.months()}
            for r in rows:
                months[r.key].values.update(r.values)
            rows = list(months.values())
        else:
            self._label(by, rows)
            rows = sorted(rows, key=lambda r: (r.key is None, r.label))
        return [Row(r.key, r.label, {f.key: r.values.get(f.key, 0 if f.per is None else None) for f in figures})
                for r in rows]

    def _rows(self, of: Period, by: str | None, figures: list[Figure]) -> list[Row]:
        """Each source's figures (value and per apart) for each key of the breakdown: the
        closed months kept (KEPT) summed with what is read of the rest."""
        merged: dict = {}
        for name in dict.fromkeys(f.source for f in figures):
            if by not in (None, "month") and by not in SOURCES[name].keys:
                continue
            mine = [f for f in figures if f.source == name]
            for k, sums in self._source_rows(of, name, by, mine):
                row = merged.setdefault(k, Row(k, ""))
                for f in mine:
                    value, per = sums.get(f.key, (0, 0))
                    total = row.sums.setdefault(f.key, [0, 0])
                    total[0] += value
                    total[1] += per
                    row.values[f.key] = _value(f, *total)
        return list(merged.values())

    def _source_rows(self, of: Period, name: str, by: str | None, mine: list[Figure]) -> Iterator[tuple]:
        """(key, {figure: (value, per)}) of one source over the period: its closed months from
        statistics_months (kept the first time they are asked for, once settled), the rest read."""
        parts = of.parts()
        kept: dict[str, list] = {}
        if name in KEPT:
            now = clock.now()
            closed = [label for label, part, whole in parts if whole and part.until <= now]
            whose = "" if by in (None, "month") else by  # a month's totals are its month row
            kept = self._kept(name, whose, closed, now)
            for label in self._settled(name, [m for m in closed if m not in kept]):
                kept[label] = self._keep(name, whose, label, now)
        for label, rows in kept.items():
            for k, sums in rows:
                yield (label if by == "month" else k), sums
        span: list[Period] = []
        for label, part, _whole in [*parts, (None, None, None)]:
            if label in kept or label is None:
                if span:  # consecutive months not kept: one query
                    yield from self._read(name, by, Period(span[0].first, span[-1].last, ""), mine)
                span = []
            else:
                span.append(part)

    def _read(self, name: str, by: str | None, of: Period, figures: list[Figure]) -> list[tuple]:
        """One query over the source's rows in the period: its figures grouped by the key."""
        source = SOURCES[name]
        months = of.months()
        if by is None or (by == "month" and len(months) == 1):
            key = sa.literal(0)  # (a CASE needs a WHEN)
        elif by == "month":
            key = sa.case(*[(source.at < start, i) for i, (_, start) in enumerate(months[1:])], else_=len(months) - 1)
        else:
            key = source.keys[by]
        columns = [key.label("k")]
        for f in figures:
            columns.append(f.value().label(f"v_{f.key}"))
            if f.per is not None:
                columns.append(f.per().label(f"p_{f.key}"))
        q = sa.select(*columns).select_from(source.table(by)).where(source.at >= of.since, source.at < of.until,
                                                                    *source.where)
        if by is not None:
            # by its name: PostgreSQL would not take a CASE with parameters as the same in both places
            q = q.group_by(sa.literal_column("k"))
        out = []
        for r in self.session.execute(q).mappings():
            k = r["k"]
            if by is None:
                k = None
            elif by == "month":
                k = months[k][0]
            elif by == "department" and isinstance(k, str) and k.startswith("["):
                k = "、".join(json.loads(k)) or None  # a task's candidate groups
            out.append((k, {f.key: (_number(r[f"v_{f.key}"]), _number(r.get(f"p_{f.key}"))) for f in figures}))
        return out

    # --- closed months, kept -----------------------------------------------------------------
    def forget(self, year: int) -> None:
        """Forget the kept months of `year`, in the session's transaction: for history written
        into the past (webapp.synthetic), which no clock-stamped row ever is."""
        self.session.execute(sa.delete(StatisticsMonth).where(StatisticsMonth.month.like(f"{year}-%")))

    def keep_closed(self, seconds: float = 5.0) -> int:
        """Keep the settled closed months not kept yet, for every breakdown a page asks for,
        oldest first, for about `seconds`; how many it kept. The scheduler runs it, so that a
        page reads rows only for the month under way and the months not settled yet: even the
        first page after history was imported answers from kept months."""
        now, today = clock.now(), clock.local_now().date()
        first = self.session.scalar(sa.select(sa.func.min(_C.c.created_at)).where(*_SERVICE))
        closed = [] if first is None else [label for label, _ in Period(_local(first).date(), today, "").months()
                                           if label < today.strftime("%Y-%m")]
        if not closed:
            self.session.rollback()
            return 0
        have = set(self.session.execute(sa.select(StatisticsMonth.month, StatisticsMonth.source, StatisticsMonth.by)
                                        .where(StatisticsMonth.month >= closed[0], StatisticsMonth.computed_at <= now)))
        kept, deadline = 0, time.monotonic() + seconds
        try:
            for name in KEPT:
                whose = ["", *(by for by in DIMENSIONS if by in SOURCES[name].keys)]
                missing = [m for m in closed if any((m, name, by) not in have for by in whose)]
                for month in self._settled(name, missing):
                    for by in whose:
                        if (month, name, by) not in have:
                            self._keep(name, by, month, now)
                            kept += 1
                    if time.monotonic() > deadline:
                        return kept
            return kept
        finally:
            self.session.rollback()  # end the read

    def _kept(self, name: str, by: str, months: list[str], now: dt.datetime) -> dict[str, list]:
        """The months' kept rows, those kept before now (a clock set back makes them unknown)."""
        if not months:
            return {}
        return {m.month: m.rows for m in self.session.scalars(sa.select(StatisticsMonth).where(
            StatisticsMonth.source == name, StatisticsMonth.by == by, StatisticsMonth.month.in_(months),
            StatisticsMonth.computed_at <= now))}

    def _settled(self, name: str, months: list[str]) -> list[str]:
        """Of closed months, those in which nothing the source counts can change any more: no
        case accepted then still running (办结率), no 差评 given then still being rectified."""
        if not months or name not in UNSETTLED:
            return months
        at, pending = UNSETTLED[name]
        open_at = self.session.scalars(sa.select(at).where(
            at >= Period.month(months[0]).since, at < Period.month(months[-1]).until, pending))
        unsettled = {t.astimezone(clock.HALL_TZ).strftime("%Y-%m") for t in open_at}
        return [m for m in months if m not in unsettled]

    def _keep(self, name: str, by: str, month: str, now: dt.datetime) -> list:
        """Read a settled month's rows of the source (all its figures) and keep them."""
        figures = [f for f in FIGURES if f.source == name]
        rows = [[k, {f: list(v) for f, v in sums.items()}]
                for k, sums in self._read(name, by or None, Period.month(month), figures)]
        table = StatisticsMonth.__table__
        try:
            with db.write(self.session) as s:
                s.execute(sa.delete(table).where(table.c.month == month, table.c.source == name, table.c.by == by))
                s.execute(sa.insert(table).values(month=month, source=name, by=by, rows=rows, computed_at=now))
        except sa.exc.IntegrityError:
            pass  # another request kept the same month meanwhile
        return rows

    def _label(self, by: str, rows: list[Row]) -> None:
        names: dict = {}
        keys = [r.key for r in rows if r.key is not None]
        if by == "category":
            names = CATEGORIES
        elif by == "item" and keys:
            latest = sa.select(_I.c.code, sa.func.max(_I.c.version).label("v")).where(_I.c.code.in_(keys)) \
                .group_by(_I.c.code).subquery()
            names = {code: f"{code} {name}" for code, name in self.session.execute(
                sa.select(_I.c.code, _I.c.name).join(latest, (latest.c.code == _I.c.code)
                                                     & (latest.c.v == _I.c.version)))}
        elif by == "staff" and keys:
            names = {uid: display or username for uid, username, display in self.session.execute(
                sa.select(User.id, User.username, User.display_name).where(User.id.in_(keys)))}
        elif by == "department" and keys:
            names = {name: label or name for name, label in self.session.execute(
                sa.select(Group.name, Group.label).where(Group.name.in_(keys)))}
        for r in rows:
            r.label = NO_KEY if r.key is None else str(names.get(r.key, r.key))

    # --- the cases behind the figures, for the spreadsheet ----------------------------------
    def count_cases(self, of: Period) -> int:
        return self.session.scalar(sa.select(sa.func.count()).select_from(_C).where(
            _C.c.created_at >= of.since, _C.c.created_at < of.until, *_SERVICE))

    def cases(self, bind, of: Period) -> Iterator:
        """The cases received in the period, oldest first, streamed from the database (a
        server-side cursor on PostgreSQL): a year is never held in memory."""
        q = sa.select(_C.c.number, _I.c.code, _I.c.category, _C.c.created_at, _C.c.accepted_at, _C.c.ended_at,
                      _C.c.status, _C.c.due_at, _C.c.workdays_taken, _C.c.title) \
            .select_from(_WITH_ITEM).where(_C.c.created_at >= of.since, _C.c.created_at < of.until, *_SERVICE) \
            .order_by(_C.c.created_at, _C.c.id)
        with bind.connect() as conn:
            yield from conn.execution_options(stream_results=True, yield_per=2000).execute(q)

    # --- exports ----------------------------------------------------------------------------
    def csv(self, actor: Actor, of: Period, by: str | None = None) -> str:
        """The report as CSV: the period's figures, then the breakdown's rows when asked."""
        report = self.report(actor, of, by)
        rows = [["合计", *(_cell(report.totals[f.key], f) for f in report.figures)]]
        rows += [[r.label, *(_cell(r.values[f.key], f) for f in report.figures)] for r in report.rows]
        head = DIMENSIONS.get(by, "期间") if by else "期间"
        return exports.csv_text([f"{head}（{of.name}）", *(f.label for f in report.figures)], rows)

    def xlsx(self, actor: Actor, of: Period, bind, out) -> None:
        """The report as a workbook written to `out` (a file): the figures, each breakdown, the
        pause reasons and complaint kinds, and every case received in the period, one row each,
        streamed from one query to the file (engine.xlsx), never held in memory. Numbers are
        numbers, times are the spreadsheet's dates."""
        self._may_read(actor)
        if self.count_cases(of) > MAX_EXPORT_ROWS:
            raise Invalid(f"the period holds more than {MAX_EXPORT_ROWS:,} cases: export a shorter one",
                          {"period": ["shorter"]})
        months = self._rows(of, "month", FIGURES)
        totals = _summed(months, [f for f in FIGURES if "month" in SOURCES[f.source].partition])
        totals.update(self.figures(of, [f for f in FIGURES if f.key not in totals]))
        with xlsx.Workbook(out) as book:
            with book.sheet("统计") as append:
                append([f"统计期间 {of.first.isoformat()} 至 {of.last.isoformat()}"])
                append(["指标", "数值", "单位"])
                for f in FIGURES:
                    append([f.label, totals.get(f.key, 0 if f.per is None else None), UNITS[f.unit]])
            for by in ("month", "department", "category", "item", "staff"):
                shown = _shown(by)
                with book.sheet(f"按{DIMENSIONS[by]}") as append:
                    append([DIMENSIONS[by], *(f.label for f in shown)])
                    for r in self._shape(of, by, months, shown) if by == "month" else self.breakdown(of, by, shown):
                        append([r.label, *(r.values[f.key] for f in shown)])
            for title, by, figure in (("暂停原因", "reason", "paused"), ("意见建议和投诉类别", "kind", "complaints")):
                with book.sheet(title) as append:
                    append([title[:-2] if by == "reason" else "类别", "件数"])
                    rows = self.breakdown(of, by, [FIGURE[figure]])
                    for r in sorted(rows, key=lambda r: -(r.values[figure] or 0)):
                        append([complaints.KINDS.get(r.key, r.label) if by == "kind" else r.label, r.values[figure]])
            with book.sheet("办件明细") as append:
                append(["办件编号", "事项编码", "收件时间", "受理时间", "结束时间", "状态", "按时", "办理工作日",
                        "企业/申请人"])
                for c in self.cases(bind, of):
                    on_time = None if c.due_at is None or c.ended_at is None or c.status != "completed" \
                        else c.ended_at <= c.due_at
                    append([c.number, c.code, _local(c.created_at), _local(c.accepted_at), _local(c.ended_at),
                            STATUSES.get(c.status, c.status), on_time, c.workdays_taken, c.title])

    def _may_read(self, actor: Actor) -> None:
        if not actor.has(*READERS):
            raise Forbidden("the statistics are for the director, the management office and the supervisor")

    may_read = _may_read


_TRENDED = {FIGURE[k].source for k in TREND}


def _summed(rows: list[Row], figures: list[Figure]) -> dict:
    """The figures over all `rows` (each thing counted in one row only), those the rows have."""
    sums: dict[str, list] = {}
    for r in rows:
        for key, (value, per) in r.sums.items():
            total = sums.setdefault(key, [0, 0])
            total[0] += value
            total[1] += per
    return {f.key: _value(f, *sums[f.key]) for f in figures if f.key in sums}


def _shown(by: str) -> list[Figure]:
    """The figures a breakdown has: those whose source keys its rows so (every source has months)."""
    return [f for f in FIGURES if by == "month" or by in SOURCES[f.source].keys]


UNITS = {"count": "件", "percent": "比率", "days": "工作日", "money": "万元"}


STATUSES = {"completed": "办结", "withdrawn": "撤回", "running": "在办", "terminated": "终止", "error": "出错"}


def _local(at: dt.datetime | None):
    """A time as the hall reads it, without a zone (a spreadsheet's dates have none)."""
    return at.astimezone(clock.HALL_TZ).replace(tzinfo=None) if at is not None else None



def _cell(value, f: Figure):
    if value is None:
        return ""
    return f"{value:.2%}" if f.unit == "percent" else value


def _number(value):
    """A sum as JSON keeps it (PostgreSQL's are Decimals)."""
    if value is None or isinstance(value, int | float):
        return value or 0
    return float(value)


def _value(f: Figure, value, per):
    if f.per is None:
        return round(float(value), 2) if f.unit == "money" else int(value)
    if not per:
        return None
    return round(value / per, 4 if f.unit == "percent" else 2)
