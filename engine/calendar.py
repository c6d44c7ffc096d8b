"""Working days and office hours: the hall's time limits (承诺时限) are counted in them.

The base is the State Council's schedule of public holidays and make-up working days
(调休) as the `chinesecalendar` package knows it; the hall's own overrides (an extra
closure, a make-up day, a whole year as soon as its schedule is published) come on top.
A year neither knows yet is counted provisionally: Monday to Friday without the statutory
holidays the law fixes in advance (全国年节及纪念日放假办法: 元旦, 春节 from its eve, 清明,
劳动节, 端午, 中秋, 国庆; the lunar ones from `lunardate`, 清明 from chinesecalendar's
solar terms). Its weekend swaps are not known, so its deadlines may still come a little
early, never late; they are counted again when an admin enters the year
(`Runtime.recount_deadlines`). Work is never held up for want of a calendar.

Conventions (the hall's):
- N working days counted from a moment end at the close of office hours on the N-th
  working day after that moment's day (the day itself does not count: 次日起算);
- 0 working days (即办件) end at the close of the same working day, or of the next one if
  the moment is past closing or on a day off;
- a stop of the clock (补正, or a special procedure: 听证, 检验检测, 鉴定, 专家评审, which
  行政许可法 art. 45 leaves out of the limit) is counted in whole working days, as a limit
  is: the working days after the day it stopped, up to and including the day it ran
  again (the same day: none). Deadlines move by that many working days and keep their
  time of day, so a limit stays a working day's close of business;
- lateness is counted in working days begun after the deadline, at least one: done a
  second late is one working day late, never zero.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Iterable

import chinese_calendar
from chinese_calendar.solar_terms import SolarTerms
from lunardate import LunarDate

from engine import clock
from engine.errors import Invalid

TZ = clock.HALL_TZ
DEFAULT_HOURS = "09:00-12:00,13:30-17:30"


def parse_hours(text: str) -> list[tuple[dt.time, dt.time]]:
    """"09:00-12:00,13:30-17:30" -> [(09:00, 12:00), (13:30, 17:30)]."""
    periods = []
    for part in text.split(","):
        start, end = (dt.time.fromisoformat(x.strip()) for x in part.split("-"))
        if end <= start:
            raise ValueError(f"office hours '{part}': the end must come after the start")
        periods.append((start, end))
    periods.sort()
    for (_, end), (start, _) in itertools.pairwise(periods):
        if start < end:
            raise ValueError("office hours overlap")
    return periods


def statutory_holidays(year: int) -> frozenset[dt.date]:
    """The public holidays the law fixes for every year (全国年节及纪念日放假办法, as of
    2025): what a year whose schedule is not published yet surely has off."""
    days = {dt.date(year, 1, 1), dt.date(year, 5, 1), dt.date(year, 5, 2),
            dt.date(year, 10, 1), dt.date(year, 10, 2), dt.date(year, 10, 3)}
    try:
        new_year = LunarDate(year, 1, 1).to_solar_date()
        days.update(new_year + dt.timedelta(days=n) for n in range(-1, 3))  # 除夕 to 初三
        days.add(LunarDate(year, 5, 5).to_solar_date())  # 端午
        days.add(LunarDate(year, 8, 15).to_solar_date())  # 中秋
    except ValueError:  # beyond the lunar tables (2099): the solar holidays alone
        pass
    try:
        days.update(d for d, term in chinese_calendar.get_solar_terms(dt.date(year, 4, 1), dt.date(year, 4, 30))
                    if term == SolarTerms.pure_brightness.value[1])  # 清明
    except NotImplementedError:  # beyond 2100
        pass
    return frozenset(days)


class BeyondReach(Invalid):
    """Working time counted more than ten years away: no deadline the hall keeps lies there
    (with no working day for ten years, the count would not end)."""

    def __init__(self):
        super().__init__("a deadline more than ten years of working time away",
                         {"deadline": ["more than ten years of working time away"]})


_KEYS = itertools.count(1)


class Calendar:
    """Working days (base + overrides) and office hours. Immutable once built."""

    def __init__(self, overrides: dict[dt.date, bool] | None = None, published_years: Iterable[int] = (),
                 hours: str = DEFAULT_HOURS):
        self.overrides = dict(overrides or {})
        self.published = frozenset(published_years)
        self.periods = parse_hours(hours)
        self.day_seconds = sum(_seconds(s, e) for s, e in self.periods)
        self._days: dict[dt.date, bool] = {}  # chinesecalendar scans its tables on every call
        self._years: dict[int, bool] = {}
        self._statutory: dict[int, frozenset[dt.date]] = {}
        self.key = next(_KEYS)  # tells this calendar from any other this process builds (engine.sandbox)

    # days ------------------------------------------------------------------------
    def knows(self, year: int) -> bool:
        known = self._years.get(year)
        if known is None:
            try:
                known = year in self.published or chinese_calendar.is_workday(dt.date(year, 6, 1)) is not None
            except NotImplementedError:
                known = False
            self._years[year] = known
        return known

    def provisional(self, moment: dt.datetime) -> int | None:
        """The year of `moment` if that year is only counted provisionally (its schedule is
        not published: Monday to Friday without the statutory holidays)."""
        year = moment.astimezone(TZ).year
        return None if self.knows(year) else year

    def due_note(self, due: dt.datetime | None) -> str | None:
        """A deadline's note: "calendar:YEAR" while it lies in a year counted provisionally."""
        year = self.provisional(due) if due is not None else None
        return f"calendar:{year}" if year else None

    def is_workday(self, day: dt.date) -> bool:
        known = self._days.get(day)
        if known is None:
            known = self._days[day] = self._is_workday(day)
        return known

    def _is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if day.year in self.published:
            return day.weekday() < 5  # a published year: weekends off unless an override says otherwise
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:  # provisional, until the year's schedule is entered
            if day.year not in self._statutory:
                self._statutory[day.year] = statutory_holidays(day.year)
            return day.weekday() < 5 and day not in self._statutory[day.year]

    def next_workday(self, day: dt.date) -> dt.date:
        day += dt.timedelta(days=1)
        for _ in range(400):
            if self.is_workday(day):
                return day
            day += dt.timedelta(days=1)
        raise ValueError(f"no working day in the 400 days after {day}: the calendar closes every day")

    def _open(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, self.periods[0][0], TZ)

    def close(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, self.periods[-1][1], TZ)

    # deadlines -------------------------------------------------------------------
    def add_workdays(self, start: dt.datetime, n: int) -> dt.datetime:
        """The close of office hours on the n-th working day after `start`'s day
        (n = 0: the same working day, or the next if `start` is past closing or a day off)."""
        if n < 0:
            raise ValueError("a number of working days cannot be negative")
        local = start.astimezone(TZ)
        day = local.date()
        if n == 0:
            if self.is_workday(day) and local < self.close(day):
                return self.close(day)
            return self.close(self.next_workday(day))
        for _ in range(n):
            day = self.next_workday(day)
        return self.close(day)

    def workdays_between(self, start: dt.datetime, end: dt.datetime) -> int:
        """Working days after `start`'s day, up to and including `end`'s day (0 when `end`
        is on `start`'s day or earlier): how many working days a stop of the clock took."""
        day, last = start.astimezone(TZ).date(), end.astimezone(TZ).date()
        if last <= day:
            return 0
        if (last - day).days > 3660:
            raise BeyondReach()
        count = 0
        while day < last:
            day += dt.timedelta(days=1)
            count += self.is_workday(day)
        return count

    def shift_workdays(self, moment: dt.datetime, n: int) -> dt.datetime:
        """`moment` moved on by n working days, at the same time of day: a limit at a working
        day's close stays at a close."""
        if n <= 0:
            return moment
        local = moment.astimezone(TZ)
        day = local.date()
        for _ in range(n):
            day = self.next_workday(day)
        return dt.datetime.combine(day, local.timetz().replace(tzinfo=None), TZ)

    def late_workdays(self, due: dt.datetime, done: dt.datetime) -> int:
        """How late `done` is for `due`, in working days begun after the deadline: 0 when on
        time, else at least 1 (a second late is a day late)."""
        if done <= due:
            return 0
        return max(1, self.workdays_between(due, done))

    # working time ----------------------------------------------------------------
    def _periods_of(self, day: dt.date):
        if self.is_workday(day):
            for s, e in self.periods:
                yield dt.datetime.combine(day, s, TZ), dt.datetime.combine(day, e, TZ)

    def working_seconds(self, start: dt.datetime, end: dt.datetime) -> float:
        """Office-hours seconds on working days between two moments (0 if end <= start)."""
        if end <= start:
            return 0.0
        a, b = start.astimezone(TZ), end.astimezone(TZ)
        total, day = 0.0, a.date()
        while day <= b.date():
            for s, e in self._periods_of(day):
                lo, hi = max(s, a), min(e, b)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += dt.timedelta(days=1)
        return total

    def add_working_seconds(self, start: dt.datetime, seconds: float) -> dt.datetime:
        """The moment `seconds` of working time after `start` (how a paused deadline moves)."""
        t = start.astimezone(TZ)
        left = seconds
        day = t.date()
        for _ in range(3660):
            for s, e in self._periods_of(day):
                lo = max(s, t)
                if e <= lo:
                    continue
                span = (e - lo).total_seconds()
                if left <= span:
                    return lo + dt.timedelta(seconds=left)
                left -= span
            day += dt.timedelta(days=1)
            t = self._open(day)
        raise BeyondReach()

    def subtract_working_seconds(self, end: dt.datetime, seconds: float) -> dt.datetime:
        """The earliest moment from which `seconds` of working time or less remain to `end`."""
        t = end.astimezone(TZ)
        left = seconds
        day = t.date()
        for _ in range(3660):
            for s, e in reversed(list(self._periods_of(day))):
                hi = min(e, t)
                if hi <= s:
                    continue
                span = (hi - s).total_seconds()
                if left < span:
                    return hi - dt.timedelta(seconds=left)
                left -= span
                if left == 0:
                    return self._previous_close(s)
            day -= dt.timedelta(days=1)
            t = self.close(day)
        raise BeyondReach()

    def _previous_close(self, moment: dt.datetime) -> dt.datetime:
        """The end of the working period before `moment` (where the same amount remained)."""
        day = moment.date()
        for _s, e in reversed(list(self._periods_of(day))):
            if e <= moment:
                return e
        for _ in range(400):
            day -= dt.timedelta(days=1)
            if self.is_workday(day):
                return self.close(day)
        return moment

    def workdays_left(self, now: dt.datetime, due: dt.datetime) -> float:
        """Working days of time left before `due` (negative when overdue)."""
        if due >= now:
            return self.working_seconds(now, due) / self.day_seconds
        return -self.working_seconds(due, now) / self.day_seconds


def recount(before: Calendar, after: Calendar, start: dt.datetime, moment: dt.datetime) -> dt.datetime:
    """`moment`, counted again: as much working time after `start` under `after` as it was
    under `before`."""
    return after.add_working_seconds(start, before.working_seconds(start, moment))


def _seconds(a: dt.time, b: dt.time) -> float:
    return (dt.datetime.combine(dt.date.min, b) - dt.datetime.combine(dt.date.min, a)).total_seconds()


# ---------------------------------------------------------------------------------------
# The calendar in force, by revision. Every change to the calendar (a day, a year) is a new
# revision, written in the same transaction as the change, with the calendar as it was
# before. Every transaction that counts deadlines first reads the revision (one row) and
# follows it, so a change made on any node or from the command line counts from the next
# transaction on; a case remembers the revision it was counted under, and is counted
# again from that calendar when it is behind.

class Holder:
    def __init__(self, load, load_past, hours: str = DEFAULT_HOURS):
        self._load = load  # () -> (revision, overrides, published years): the latest
        self._load_past = load_past  # revision -> (overrides, published years) in force at it
        self._hours = hours
        self._calendar: Calendar | None = None
        self.revision = -1
        self._past: dict[int, Calendar] = {}
        self._lock = threading.Lock()

    def get(self) -> Calendar:
        calendar = self._calendar
        if calendar is None:
            with self._lock:
                if self._calendar is None:
                    self._reload()
                calendar = self._calendar
        return calendar

    def follow(self, revision: int) -> Calendar:
        """The calendar of `revision` (read in the caller's transaction): loaded again when
        this process holds an older one."""
        if revision != self.revision or self._calendar is None:
            with self._lock:
                if revision != self.revision or self._calendar is None:
                    self._reload()
        return self._calendar

    def _reload(self) -> None:
        revision, overrides, years = self._load()
        self._calendar = Calendar(overrides, years, self._hours)
        self.revision = revision
        self._past[revision] = self._calendar

    def at(self, revision: int) -> Calendar:
        """The calendar as it was at `revision` (what a case counted then was counted with)."""
        with self._lock:
            calendar = self._past.get(revision)
            if calendar is None:
                overrides, years = self._load_past(revision)
                calendar = self._past[revision] = Calendar(overrides, years, self._hours)
                while len(self._past) > 16:
                    del self._past[next(iter(self._past))]
            return calendar


class Fixed:
    """A calendar handed over whole (a sandbox runner counts with the server's)."""

    revision = 0

    def __init__(self, calendar: Calendar | None = None):
        self.calendar = calendar or _BASE

    def get(self) -> Calendar:
        return self.calendar


_ACTIVE: Holder | Fixed | None = None


def activate(holder: Holder) -> None:
    global _ACTIVE
    _ACTIVE = holder


def current() -> Calendar:
    """The calendar in force (the base alone until an engine activates its own)."""
    return _ACTIVE.get() if _ACTIVE is not None else _BASE


def revision() -> int:
    """The revision of the calendar in force (0: the base, never changed)."""
    return _ACTIVE.revision if _ACTIVE is not None and _ACTIVE.revision >= 0 else 0


def follow(revision: int) -> None:
    """Use the calendar of `revision`, which a transaction has just read."""
    if _ACTIVE is not None:
        _ACTIVE.follow(revision)


def at(revision: int) -> Calendar:
    return _ACTIVE.at(revision) if _ACTIVE is not None else _BASE


_BASE = Calendar()


MAX_WORKDAYS = 2500  # about ten years: no limit the hall keeps lies further


def workdays(n: int) -> str:
    """For diagrams: the moment n working days from now, as ISO 8601 (a timer's timeDate,
    a task's dueDate): `${workdays(3)}`."""
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= MAX_WORKDAYS:
        raise ValueError(f"workdays() takes a whole number of working days, 0 to {MAX_WORKDAYS}")
    return current().add_workdays(clock.now(), n).isoformat()
